//! Evidence files (photos and PDFs of a rectification): what kinds are
//! accepted, recognised by their content and never by their name, and the
//! limits per file and per item.

use std::fmt;

/// The kinds of file a unit may attach. Recognised by their first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FileKind {
    Jpeg,
    Png,
    Webp,
    Pdf,
}

impl FileKind {
    pub const ALL: [FileKind; 4] = [Self::Jpeg, Self::Png, Self::Webp, Self::Pdf];

    /// The media type to serve it with.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
            Self::Pdf => "application/pdf",
        }
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.media_type())
    }
}

/// What a file is, from its content: `None` for anything not on the list
/// (a script renamed `.jpg` is not a JPEG).
pub fn sniff(data: &[u8]) -> Option<FileKind> {
    if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(FileKind::Jpeg)
    } else if data.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some(FileKind::Png)
    } else if data.len() >= 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        Some(FileKind::Webp)
    } else if data.starts_with(b"%PDF-") {
        Some(FileKind::Pdf)
    } else {
        None
    }
}

/// One attached file, as the item records it. The bytes are in the store
/// under `id`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    /// The store's attachment id (the hub uses the content's SHA-256).
    pub id: String,
    /// The name the unit gave it (shown, never trusted for the type).
    pub name: String,
    pub kind: FileKind,
    pub bytes: u64,
    pub unit: crate::ids::UnitId,
    pub at: crate::ids::Millis,
    /// Marked public by the office: shown on the public progress page.
    pub public: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_content_not_names() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]), Some(FileKind::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some(FileKind::Png));
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8 "), Some(FileKind::Webp));
        assert_eq!(sniff(b"%PDF-1.7\n"), Some(FileKind::Pdf));
        assert_eq!(sniff(b"RIFF\x24\0\0\0WAVEfmt "), None, "a WAV is RIFF too");
        assert_eq!(sniff(b"<script>alert(1)</script>"), None);
        assert_eq!(sniff(b"GIF89a"), None, "not on the list");
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(&[0xFF, 0xD8]), None, "too short to be a JPEG");
    }
}

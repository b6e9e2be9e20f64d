//! The follow-up's limits ([`Rules`]), explicit like every other limit.

/// Limits of the follow-up, explicit like every other limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    /// Characters of a requirement, reply, rectification, note or reason.
    pub text_chars: usize,
    /// Characters of a rating's comment.
    pub comment_chars: usize,
    /// Notes per item.
    pub notes_per_item: usize,
    /// Extension requests per item.
    pub extensions_per_item: usize,
    /// Evidence files per item, bytes per file and per item.
    pub evidence_per_item: usize,
    pub evidence_bytes: u64,
    pub evidence_bytes_per_item: u64,
    /// Characters of a file's name.
    pub name_chars: usize,
    /// Items in one list.
    pub items: usize,
    /// "Due soon": this many days before the deadline.
    pub due_soon_days: u32,
}

impl Rules {
    /// The default per-file limit, 10 MiB.
    pub const DEFAULT_EVIDENCE_BYTES: u64 = 10 << 20;
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            text_chars: 4000,
            comment_chars: 500,
            notes_per_item: 200,
            extensions_per_item: 5,
            evidence_per_item: 20,
            evidence_bytes: Self::DEFAULT_EVIDENCE_BYTES,
            evidence_bytes_per_item: 50 << 20,
            name_chars: 200,
            items: 2000,
            due_soon_days: 7,
        }
    }
}

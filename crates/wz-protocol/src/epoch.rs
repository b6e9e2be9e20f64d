//! Positions in a session's history: (epoch, seq).
//!
//! A `seq` alone does not say *which* history it counts in: after a data
//! directory was wiped and the session re-created, seq 30 of the new session
//! has nothing to do with seq 30 of the old one, and a client resuming from
//! it would silently miss the new session's first events. The [`Epoch`]
//! names one incarnation of a session: it is chosen at random when the
//! session is created, kept in the session's stored header (so every node
//! that loads the session agrees on it), and sent in every `snapshot`. A
//! resume must name it; one whose epoch is missing or different gets a
//! snapshot, never events.
//!
//! This module also reads the resume parameters of `GET /ws` strictly: a
//! malformed `since` or `epoch` is the client's bug and is answered with a
//! typed error rather than guessed at.

use sha2::{Digest, Sha256};
use std::fmt;

/// One incarnation of a session: 64 random bits, written as 16 lowercase hex digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Epoch(u64);

impl Epoch {
    pub const fn new(bits: u64) -> Self {
        Self(bits)
    }

    /// Exactly 16 lowercase hex digits, as [`Epoch`]'s `Display` writes them.
    pub fn parse(text: &str) -> Option<Self> {
        let ok = text.len() == 16 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        ok.then(|| u64::from_str_radix(text, 16).ok()).flatten().map(Self)
    }

    /// The epoch of a session whose stored header predates epochs (definition
    /// format 1): the first 8 bytes of SHA-256 of the header's bytes. Stable
    /// across restarts and nodes, as an epoch must be. Only sessions created
    /// before epochs existed get one this way; a re-created session is always
    /// written with a random epoch.
    pub fn legacy(header: &[u8]) -> Self {
        let digest = Sha256::digest(header);
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        Self(u64::from_be_bytes(first))
    }
}

impl fmt::Display for Epoch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// A client's position: the last `seq` it applied, in history `epoch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub epoch: Epoch,
    pub seq: u64,
}

/// A resume parameter that is present but malformed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct BadParameter {
    /// `since` or `epoch`.
    pub parameter: &'static str,
    pub message: String,
}

/// Reads the resume parameters of `GET /ws` (each as given, not decoded
/// further; `None` when absent).
///
/// * `since`: decimal digits only (no sign, no fraction, no exponent), at
///   most `u64::MAX`;
/// * `epoch`: exactly 16 lowercase hex digits.
///
/// Both present and valid: a resume from that position. Either one alone:
/// `None` (a first connection; the client gets a snapshot). A present but
/// malformed value is an error naming the parameter.
pub fn resume_position(since: Option<&str>, epoch: Option<&str>) -> Result<Option<Position>, BadParameter> {
    let since = since.map(parse_since).transpose()?;
    let epoch = epoch
        .map(|e| {
            Epoch::parse(e).ok_or_else(|| BadParameter {
                parameter: "epoch",
                message: format!("the `epoch` parameter must be the 16 lowercase hex digits of `snapshot.epoch`; got {}", shown(e)),
            })
        })
        .transpose()?;
    Ok(match (epoch, since) {
        (Some(epoch), Some(seq)) => Some(Position { epoch, seq }),
        _ => None,
    })
}

/// The same error for a parameter given more than once.
pub fn repeated(parameter: &'static str) -> BadParameter {
    BadParameter { parameter, message: format!("the `{parameter}` parameter is given more than once") }
}

fn parse_since(text: &str) -> Result<u64, BadParameter> {
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    digits.then(|| text.parse::<u64>().ok()).flatten().ok_or_else(|| BadParameter {
        parameter: "since",
        message: format!("the `since` parameter must be a whole number from 0 to {} (the last seq applied); got {}", u64::MAX, shown(text)),
    })
}

/// The offending value, quoted and cut short: it goes back to the client
/// that sent it, so it helps without letting a client make the error large.
fn shown(text: &str) -> String {
    const MAX: usize = 40;
    if text.chars().count() <= MAX { format!("{text:?}") } else { format!("{:?}…", text.chars().take(MAX).collect::<String>()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_print_and_parse_as_16_lowercase_hex_digits() {
        let e = Epoch::new(0x00ab_cdef_0123_4567);
        assert_eq!(e.to_string(), "00abcdef01234567");
        assert_eq!(Epoch::parse("00abcdef01234567"), Some(e));
        for bad in
            ["", "00ABCDEF01234567", "abcdef01234567", "00abcdef012345678", "00abcdef0123456g", "+0abcdef01234567", " 0abcdef01234567"]
        {
            assert_eq!(Epoch::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn legacy_epochs_are_stable_and_differ_by_header() {
        assert_eq!(Epoch::legacy(b"header"), Epoch::legacy(b"header"));
        assert_ne!(Epoch::legacy(b"header"), Epoch::legacy(b"header2"));
        // SHA-256("abc") starts ba7816bf8f01cfea: the documented derivation.
        assert_eq!(Epoch::legacy(b"abc").to_string(), "ba7816bf8f01cfea");
    }

    #[test]
    fn resume_needs_both_parameters() {
        let e = "0123456789abcdef";
        let epoch = Epoch::parse(e).unwrap();
        assert_eq!(resume_position(Some("7"), Some(e)), Ok(Some(Position { epoch, seq: 7 })));
        assert_eq!(resume_position(Some("18446744073709551615"), Some(e)).unwrap().unwrap().seq, u64::MAX);
        assert_eq!(resume_position(Some("7"), None), Ok(None), "no epoch: a snapshot");
        assert_eq!(resume_position(None, Some(e)), Ok(None), "nothing to resume from");
        assert_eq!(resume_position(None, None), Ok(None));
    }

    #[test]
    fn malformed_parameters_are_named() {
        let e = "0123456789abcdef";
        for bad in ["-1", "abc", "1.5", "18446744073709551616", "", "+5", "1e3", " 5", "٣"] {
            let err = resume_position(Some(bad), Some(e)).unwrap_err();
            assert_eq!(err.parameter, "since", "{bad:?}");
            assert!(err.message.contains("`since`"), "{}", err.message);
        }
        for bad in ["", "xyz", "0123456789ABCDEF", "0123456789abcde", "-123456789abcdef"] {
            let err = resume_position(Some("5"), Some(bad)).unwrap_err();
            assert_eq!(err.parameter, "epoch", "{bad:?}");
        }
        let long = "9".repeat(500);
        assert!(resume_position(Some(&long), None).unwrap_err().message.len() < 200, "the echo is cut short");
    }
}

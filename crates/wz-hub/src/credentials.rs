//! Credentials: random tokens, stored only as SHA-256 hashes.
//!
//! A token is 32 bytes from the OS CSPRNG, base64url without padding (43
//! characters: short enough for a QR code on a printed card). The server
//! finds the participant by the token's hash, so a leaked store does not leak
//! usable credentials.
//!
//! Every token also has a [`JoinCode`]: ten characters a person can type from
//! a printed card (`K7M2Q-8XRT4`), derived from the token, so a sheet of
//! tokens is enough to print both. The store keeps the code's hash next to the
//! token's ([`StoredHashes`]); a code is weaker than a token (50 bits), so the
//! server limits failed attempts (`wz-server`'s `auth`).

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::fmt;
use wz_domain::{DelegateId, SessionDef, UnitId, VenueId, Viewer};

/// Which participant a credential belongs to, e.g. `delegate:d017`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PrincipalKey {
    Moderator,
    Auditor,
    Screen,
    Operator(VenueId),
    Delegate(DelegateId),
    /// The congress office: the assignment list after the session.
    Office,
    /// A respondent unit.
    Unit(UnitId),
}

impl PrincipalKey {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.split_once(':') {
            None if s == "moderator" => PrincipalKey::Moderator,
            None if s == "auditor" => PrincipalKey::Auditor,
            None if s == "screen" => PrincipalKey::Screen,
            None if s == "office" => PrincipalKey::Office,
            Some(("unit", u)) if !u.is_empty() => PrincipalKey::Unit(UnitId::new(u)),
            Some(("operator", v)) if !v.is_empty() => PrincipalKey::Operator(VenueId::new(v)),
            Some(("delegate", d)) if !d.is_empty() => PrincipalKey::Delegate(DelegateId::new(d)),
            _ => return None,
        })
    }

    pub fn viewer(&self) -> Viewer {
        match self {
            PrincipalKey::Moderator => Viewer::Moderator,
            PrincipalKey::Auditor => Viewer::Auditor,
            PrincipalKey::Screen => Viewer::Screen,
            PrincipalKey::Operator(v) => Viewer::VenueOperator(v.clone()),
            PrincipalKey::Delegate(d) => Viewer::Delegate(d.clone()),
            PrincipalKey::Office => Viewer::Office,
            PrincipalKey::Unit(u) => Viewer::Unit(u.clone()),
        }
    }
}

impl From<&Viewer> for PrincipalKey {
    fn from(v: &Viewer) -> Self {
        match v {
            Viewer::Moderator => PrincipalKey::Moderator,
            Viewer::Auditor => PrincipalKey::Auditor,
            Viewer::Screen => PrincipalKey::Screen,
            Viewer::VenueOperator(x) => PrincipalKey::Operator(x.clone()),
            Viewer::Delegate(x) => PrincipalKey::Delegate(x.clone()),
            Viewer::Office => PrincipalKey::Office,
            Viewer::Unit(x) => PrincipalKey::Unit(x.clone()),
        }
    }
}

impl fmt::Display for PrincipalKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrincipalKey::Moderator => f.write_str("moderator"),
            PrincipalKey::Auditor => f.write_str("auditor"),
            PrincipalKey::Screen => f.write_str("screen"),
            PrincipalKey::Operator(v) => write!(f, "operator:{v}"),
            PrincipalKey::Delegate(d) => write!(f, "delegate:{d}"),
            PrincipalKey::Office => f.write_str("office"),
            PrincipalKey::Unit(u) => write!(f, "unit:{u}"),
        }
    }
}

/// An authenticated participant of one session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub session: String,
    pub key: PrincipalKey,
}

impl Principal {
    pub fn viewer(&self) -> Viewer {
        self.key.viewer()
    }
}

/// A freshly issued credential. The token is shown once and never stored.
#[derive(Clone, Debug)]
pub struct Credential {
    pub key: PrincipalKey,
    pub token: String,
}

impl Credential {
    pub fn issue(key: PrincipalKey) -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self { key, token: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes) }
    }
    pub fn hash(&self) -> String {
        hash_token(&self.token)
    }
    /// The code printed under the QR code.
    pub fn code(&self) -> JoinCode {
        JoinCode::of_token(&self.token)
    }
    /// What the store keeps for this credential.
    pub fn stored(&self) -> StoredHashes {
        StoredHashes { token: self.hash(), code: Some(self.code().hash()) }
    }
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The hash under which a presented credential (a token, or a join code in
/// any spelling [`JoinCode::parse`] accepts) is found.
pub fn hash_presented(credential: &str) -> String {
    match JoinCode::parse(credential) {
        Some(code) => code.hash(),
        None => hash_token(credential),
    }
}

/// Crockford's base32: digits and capitals without I, L, O and U, so that
/// nothing read off a card can be mistaken for something else.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters in a code: 10 × 5 = 50 bits.
pub const CODE_CHARS: usize = 10;

/// A short join code: 50 bits of the token's SHA-256 (under its own label),
/// in Crockford's base32, printed as two groups of five.
#[derive(Clone, PartialEq, Eq)]
pub struct JoinCode(String);

impl JoinCode {
    pub fn of_token(token: &str) -> Self {
        let d = Sha256::new().chain_update(b"wz-join-code-v1|").chain_update(token.as_bytes()).finalize();
        let bits = u64::from_be_bytes(d[..8].try_into().expect("8 bytes")) >> (64 - 5 * CODE_CHARS);
        let code = (0..CODE_CHARS).rev().map(|i| char::from(ALPHABET[usize::try_from((bits >> (5 * i)) & 31).expect("5 bits")])).collect();
        Self(code)
    }

    /// Reads a code as a person types it: any case, with or without spaces
    /// and dashes, `O` for zero and `I` or `L` for one. `None` unless it is
    /// exactly ten such characters (a 43-character token never is).
    pub fn parse(s: &str) -> Option<Self> {
        let mut out = String::with_capacity(CODE_CHARS);
        for c in s.trim().chars() {
            let c = match c.to_ascii_uppercase() {
                ' ' | '-' | '\u{2010}'..='\u{2015}' => continue,
                'O' => '0',
                'I' | 'L' => '1',
                c if c.is_ascii() && ALPHABET.contains(&(c as u8)) => c,
                _ => return None,
            };
            if out.len() == CODE_CHARS {
                return None;
            }
            out.push(c);
        }
        (out.len() == CODE_CHARS).then_some(Self(out))
    }

    /// The hash the store and the server's map keep (never the code).
    pub fn hash(&self) -> String {
        hex::encode(Sha256::new().chain_update(b"wz-join-code-hash-v1|").chain_update(self.0.as_bytes()).finalize())
    }
}

impl fmt::Display for JoinCode {
    /// `K7M2Q-8XRT4`: grouped for reading aloud and typing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", &self.0[..5], &self.0[5..])
    }
}

impl fmt::Debug for JoinCode {
    /// A code is a credential: never printed by `{:?}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JoinCode(..)")
    }
}

/// What the store keeps of one credential: the token's hash and, for
/// credentials issued since join codes (issue 10), the code's, as one
/// value (`<token hash>+<code hash>`). Older values are the token's hash alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredHashes {
    pub token: String,
    pub code: Option<String>,
}

impl StoredHashes {
    pub fn encode(&self) -> String {
        match &self.code {
            Some(c) => format!("{}+{c}", self.token),
            None => self.token.clone(),
        }
    }
    pub fn decode(s: &str) -> Self {
        match s.split_once('+') {
            Some((t, c)) => Self { token: t.to_owned(), code: Some(c.to_owned()) },
            None => Self { token: s.to_owned(), code: None },
        }
    }
}

/// One credential for every participant of a session definition.
pub fn issue_all(def: &SessionDef) -> Vec<Credential> {
    let mut keys = vec![PrincipalKey::Moderator, PrincipalKey::Auditor, PrincipalKey::Screen, PrincipalKey::Office];
    keys.extend(def.units.iter().map(|u| PrincipalKey::Unit(u.id.clone())));
    keys.extend(def.venues.iter().map(|v| PrincipalKey::Operator(v.id.clone())));
    keys.extend(def.delegates.iter().map(|d| PrincipalKey::Delegate(d.id.clone())));
    keys.into_iter().map(Credential::issue).collect()
}

/// Credentials for delegates added by an import.
pub fn issue_for(delegates: &[wz_domain::Delegate]) -> Vec<Credential> {
    delegates.iter().map(|d| Credential::issue(PrincipalKey::Delegate(d.id.clone()))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principal_keys_round_trip() {
        for s in ["moderator", "auditor", "screen", "operator:baiyu", "delegate:d017"] {
            assert_eq!(PrincipalKey::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(PrincipalKey::parse("delegate:"), None);
        assert_eq!(PrincipalKey::parse("root"), None);
    }

    #[test]
    fn a_join_code_has_fifty_bits_reads_any_spelling_and_never_a_token() {
        let c = Credential::issue(PrincipalKey::Screen);
        let code = c.code();
        let shown = code.to_string();
        assert_eq!(shown.len(), 11);
        assert_eq!(&shown[5..6], "-");
        assert!(shown.chars().all(|ch| ch == '-' || ALPHABET.contains(&(ch as u8))));
        assert_eq!(JoinCode::parse(&shown), Some(code.clone()));
        assert_eq!(JoinCode::parse(&shown.to_lowercase().replace('-', " ")), Some(code.clone()));
        assert_eq!(JoinCode::parse("o1ILl-abcde").unwrap().0, "01111ABCDE", "look-alikes read as digits");
        assert_eq!(JoinCode::parse("ABCDE-FGHJU"), None, "U is not in the alphabet");
        assert_eq!(JoinCode::parse("ABCDE-FGHJ"), None);
        assert_eq!(JoinCode::parse("ABCDE-FGHJKM"), None);
        assert_eq!(JoinCode::parse(&c.token), None, "a token is never read as a code");
        assert_eq!(hash_presented(&shown), code.hash());
        assert_eq!(hash_presented(&c.token), c.hash());
        assert_ne!(code.hash(), c.hash());
        assert_eq!(format!("{code:?}"), "JoinCode(..)");
        // The same token always has the same code; another token (almost surely) another.
        assert_eq!(JoinCode::of_token(&c.token), code);
        assert_ne!(Credential::issue(PrincipalKey::Screen).code(), code);
    }

    #[test]
    fn stored_hashes_round_trip_and_read_the_old_form() {
        let c = Credential::issue(PrincipalKey::Screen);
        assert_eq!(StoredHashes::decode(&c.stored().encode()), c.stored());
        assert_eq!(StoredHashes::decode("abc"), StoredHashes { token: "abc".into(), code: None });
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = Credential::issue(PrincipalKey::Screen);
        let b = Credential::issue(PrincipalKey::Screen);
        assert_ne!(a.token, b.token);
        assert_eq!(a.token.len(), 43);
        assert_eq!(a.hash().len(), 64);
        assert_ne!(a.hash(), a.token);
    }
}

//! Credentials: random tokens, stored only as SHA-256 hashes.
//!
//! A token is 32 bytes from the OS CSPRNG, base64url without padding (43
//! characters: short enough for a QR code on a printed card). The server
//! finds the participant by the token's hash, so a leaked store does not leak
//! usable credentials.

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
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
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
    fn tokens_are_random_and_hashed() {
        let a = Credential::issue(PrincipalKey::Screen);
        let b = Credential::issue(PrincipalKey::Screen);
        assert_ne!(a.token, b.token);
        assert_eq!(a.token.len(), 43);
        assert_eq!(a.hash().len(), 64);
        assert_ne!(a.hash(), a.token);
    }
}

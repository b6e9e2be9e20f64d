//! The backup file (`wenzheng backup` and `wenzheng restore`, issue 13):
//! everything a store holds of its sessions, in one self-describing file.
//!
//! The file is JSON lines (UTF-8, one JSON object per line, each ending in
//! `\n`), each with a `type`:
//!
//! 1. `backup`: the header. `format` is `"wenzheng-backup"`, `version` is
//!    [`BACKUP_FORMAT`]; when and from which store it was made; the record
//!    formats of the binary that made it; the ids of the sessions that follow.
//! 2. per session, in the header's order, one `session` line: the session's
//!    header record (`header`), its event log (`events`, `events[i]` is
//!    seq `i + 1`), its credentials (principal and hash), the claims and
//!    counters kept next to its log, the ids of its attachments, its last
//!    `seq` and chain `head` (null when its chain does not hold), and
//!    `sha256`, the digest of its content ([`SessionBackup::digest`]);
//! 3. then one `attachment` line per attachment the session line lists, in
//!    its order: the bytes in base64, their length and SHA-256;
//! 4. `end`: how many sessions and attachments there were, and `sha256`,
//!    the SHA-256 (hex) of every byte of the file before this line.
//!
//! Records are stored bytes, byte for byte (the chain hashes them): a record
//! that is UTF-8 (all of them: records are JSON) is a JSON string, anything
//! else `{"base64": "…"}`.
//!
//! A reader ([`Reader`]) checks the version first (a file of another version
//! is refused, never guessed at), then every line: its order, each
//! session's digest and head, each attachment's length and SHA-256, and the
//! end line's counts and file digest. A file cut off anywhere lacks its end
//! line (or ends inside a line) and is refused as truncated; a changed byte
//! fails a digest. Nothing in the file is trusted before the line that
//! proves it.
//!
//! **The fixture of format 1** is `tests/fixtures/backup-v1.jsonl`: keep it
//! when the format changes. The next version reads it (or says why not) and
//! adds an upgrade test from it.

use crate::stored::{ChainError, ChainHead, DEFINITION_FORMAT, EVENT_FORMAT, chain};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{self, BufRead, Write};

/// The version of this file format. Bump it when a line's shape or meaning
/// changes, keep a reader for the old one, and add its fixture.
pub const BACKUP_FORMAT: u32 = 1;

/// The header's `format`: what says this is a Wenzheng backup at all.
pub const BACKUP_KIND: &str = "wenzheng-backup";

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Why a backup file cannot be read (or written).
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("not a Wenzheng backup: {0}")]
    NotABackup(String),
    #[error(
        "backup format version {found} is not supported (this build reads version {supported}); use the wenzheng release that wrote it"
    )]
    Version { found: u32, supported: u32 },
    #[error("the file ends at line {line} without its end line: it was cut off (copy it again)")]
    Truncated { line: u64 },
    #[error("line {line}: {reason}")]
    Malformed { line: u64, reason: String },
    #[error("line {line}: {what} does not match its checksum: the file was damaged or edited")]
    Checksum { line: u64, what: String },
}

/// The first line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupHeader {
    /// Always [`BACKUP_KIND`].
    pub format: String,
    /// [`BACKUP_FORMAT`] when written by this build.
    pub version: u32,
    /// UTC, `YYYY-MM-DDThh:mm:ssZ`.
    pub created_at: String,
    /// The same instant, in milliseconds since the Unix epoch.
    pub created_at_ms: u64,
    /// The kind of store it was read from (`embedded`, `redis`).
    pub source: String,
    /// The version of the program that wrote it.
    pub wenzheng: String,
    /// The newest event record format the writer knew ([`EVENT_FORMAT`]).
    pub event_format: u32,
    /// The newest header record format the writer knew ([`DEFINITION_FORMAT`]).
    pub definition_format: u32,
    /// The ids of the sessions that follow, in order.
    pub sessions: Vec<String>,
}

impl BackupHeader {
    /// A header for a backup made now (`now_ms`) from a store of kind `source`.
    pub fn new(source: &str, wenzheng: &str, now_ms: u64, sessions: Vec<String>) -> Self {
        Self {
            format: BACKUP_KIND.to_owned(),
            version: BACKUP_FORMAT,
            created_at: utc(now_ms),
            created_at_ms: now_ms,
            source: source.to_owned(),
            wenzheng: wenzheng.to_owned(),
            event_format: EVENT_FORMAT,
            definition_format: DEFINITION_FORMAT,
            sessions,
        }
    }
}

/// `YYYY-MM-DDThh:mm:ssZ` for milliseconds since the Unix epoch.
fn utc(ms: u64) -> String {
    let day = wz_domain::CalendarDate::at(wz_domain::Millis(ms), 0).map_or_else(|| "????-??-??".to_owned(), |d| d.to_string());
    let secs = (ms / 1000) % 86_400;
    format!("{day}T{:02}:{:02}:{:02}Z", secs / 3600, secs / 60 % 60, secs % 60)
}

/// Everything a store holds of one session but its attachments' bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionBackup {
    pub id: String,
    /// The session's header record, as stored.
    pub header: Vec<u8>,
    /// The event log, as stored: `events[i]` is seq `i + 1`.
    pub events: Vec<Vec<u8>>,
    /// (principal, credential hash), sorted by principal.
    pub credentials: Vec<(String, String)>,
    pub claims: BTreeMap<String, String>,
    pub counters: BTreeMap<String, u64>,
    /// The ids of its attachments, sorted; their bytes follow the session's line.
    pub attachments: Vec<String>,
}

impl SessionBackup {
    /// The SHA-256 (hex) of the session's content, independent of how the
    /// JSON is spelt: the string `wenzheng-backup-session\n`, then each
    /// field as its length (8 bytes, big-endian) and bytes, in order: id,
    /// header, the number of events and each event, the number of
    /// credentials and each principal and hash, the number of claims and
    /// each key and value, the number of counters and each key and count
    /// (8 bytes, big-endian), the number of attachments and each id.
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"wenzheng-backup-session\n");
        let put = |h: &mut Sha256, b: &[u8]| {
            h.update((b.len() as u64).to_be_bytes());
            h.update(b);
        };
        let count = |h: &mut Sha256, n: usize| h.update((n as u64).to_be_bytes());
        put(&mut h, self.id.as_bytes());
        put(&mut h, &self.header);
        count(&mut h, self.events.len());
        for e in &self.events {
            put(&mut h, e);
        }
        count(&mut h, self.credentials.len());
        for (p, hash) in &self.credentials {
            put(&mut h, p.as_bytes());
            put(&mut h, hash.as_bytes());
        }
        count(&mut h, self.claims.len());
        for (k, v) in &self.claims {
            put(&mut h, k.as_bytes());
            put(&mut h, v.as_bytes());
        }
        count(&mut h, self.counters.len());
        for (k, n) in &self.counters {
            put(&mut h, k.as_bytes());
            h.update(n.to_be_bytes());
        }
        count(&mut h, self.attachments.len());
        for id in &self.attachments {
            put(&mut h, id.as_bytes());
        }
        hex::encode(h.finalize())
    }

    /// The chain head of its record ([`chain::check`]).
    pub fn head(&self) -> Result<ChainHead, ChainError> {
        chain::check(&self.header, &self.events)
    }
}

/// What a reader returns after the header, in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    Session(SessionBackup),
    /// One attachment of the session returned last.
    Attachment {
        session: String,
        id: String,
        data: Vec<u8>,
    },
}

/// What a backup held, counted by the end line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub sessions: u64,
    pub attachments: u64,
    /// Bytes of the attachments.
    pub attachment_bytes: u64,
    /// Bytes of the file.
    pub file_bytes: u64,
}

/// A stored record: a JSON string when it is UTF-8, else base64.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Blob {
    Text(String),
    Base64 { base64: String },
}

impl Blob {
    fn of(bytes: &[u8]) -> Self {
        match std::str::from_utf8(bytes) {
            Ok(s) => Blob::Text(s.to_owned()),
            Err(_) => Blob::Base64 { base64: B64.encode(bytes) },
        }
    }

    fn bytes(self) -> Result<Vec<u8>, String> {
        match self {
            Blob::Text(s) => Ok(s.into_bytes()),
            Blob::Base64 { base64 } => B64.decode(base64).map_err(|e| format!("bad base64: {e}")),
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum Line {
    Backup(BackupHeader),
    Session {
        id: String,
        seq: u64,
        head: Option<String>,
        header: Blob,
        events: Vec<Blob>,
        credentials: Vec<(String, String)>,
        claims: BTreeMap<String, String>,
        counters: BTreeMap<String, u64>,
        attachments: Vec<String>,
        sha256: String,
    },
    Attachment {
        session: String,
        id: String,
        bytes: u64,
        sha256: String,
        data: String,
    },
    End {
        sessions: u64,
        attachments: u64,
        sha256: String,
    },
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Writes a backup file: the header, then each session followed by each of
/// its attachments, then [`Writer::finish`] for the end line. The order is
/// enforced: an attachment the session did not list, or a session whose
/// attachments are not all written, is an error.
pub struct Writer<W: Write> {
    out: W,
    hasher: Sha256,
    sessions: Vec<String>,
    next_session: usize,
    /// The current session and the ids of its attachments still to come.
    pending: Option<(String, std::collections::VecDeque<String>)>,
    totals: Totals,
}

impl<W: Write> Writer<W> {
    /// Starts a backup with its header line.
    pub fn new(out: W, header: &BackupHeader) -> Result<Self, BackupError> {
        let mut w = Self {
            out,
            hasher: Sha256::new(),
            sessions: header.sessions.clone(),
            next_session: 0,
            pending: None,
            totals: Totals::default(),
        };
        w.line(&Line::Backup(header.clone()))?;
        Ok(w)
    }

    fn line(&mut self, line: &Line) -> Result<(), BackupError> {
        let mut bytes = serde_json::to_vec(line).map_err(io::Error::other)?;
        bytes.push(b'\n');
        self.hasher.update(&bytes);
        self.totals.file_bytes += bytes.len() as u64;
        self.out.write_all(&bytes)?;
        Ok(())
    }

    fn misuse(&self, reason: String) -> BackupError {
        BackupError::Io(io::Error::other(reason))
    }

    fn attachments_done(&self) -> Result<(), BackupError> {
        match &self.pending {
            Some((session, left)) if !left.is_empty() => {
                Err(self.misuse(format!("session {session}: attachment {} was listed but not written", left[0])))
            }
            _ => Ok(()),
        }
    }

    /// Writes a session's line; its attachments must follow.
    pub fn session(&mut self, s: &SessionBackup) -> Result<(), BackupError> {
        self.attachments_done()?;
        if self.sessions.get(self.next_session) != Some(&s.id) {
            return Err(self.misuse(format!("session {} is not the next one the header lists", s.id)));
        }
        self.next_session += 1;
        let line = Line::Session {
            id: s.id.clone(),
            seq: s.events.len() as u64,
            head: s.head().ok().map(|h| h.hex()),
            header: Blob::of(&s.header),
            events: s.events.iter().map(|e| Blob::of(e)).collect(),
            credentials: s.credentials.clone(),
            claims: s.claims.clone(),
            counters: s.counters.clone(),
            attachments: s.attachments.clone(),
            sha256: s.digest(),
        };
        self.line(&line)?;
        self.totals.sessions += 1;
        self.pending = Some((s.id.clone(), s.attachments.iter().cloned().collect()));
        Ok(())
    }

    /// Writes the next attachment of the current session.
    pub fn attachment(&mut self, id: &str, data: &[u8]) -> Result<(), BackupError> {
        let session = match &mut self.pending {
            Some((session, left)) if left.front().map(String::as_str) == Some(id) => {
                left.pop_front();
                session.clone()
            }
            _ => return Err(self.misuse(format!("attachment {id} is not the next one the session listed"))),
        };
        let line =
            Line::Attachment { session, id: id.to_owned(), bytes: data.len() as u64, sha256: sha256_hex(data), data: B64.encode(data) };
        self.line(&line)?;
        self.totals.attachments += 1;
        self.totals.attachment_bytes += data.len() as u64;
        Ok(())
    }

    /// Writes the end line and flushes; returns the writer and the totals.
    pub fn finish(mut self) -> Result<(W, Totals), BackupError> {
        self.attachments_done()?;
        if self.next_session != self.sessions.len() {
            return Err(self.misuse(format!("session {} was listed but not written", self.sessions[self.next_session])));
        }
        let sha256 = hex::encode(self.hasher.clone().finalize());
        let end = Line::End { sessions: self.totals.sessions, attachments: self.totals.attachments, sha256 };
        self.line(&end)?;
        self.out.flush()?;
        Ok((self.out, self.totals))
    }
}

/// Reads and checks a backup file, item by item (see the module's doc).
/// An item is returned only after its own checks passed; the file as a
/// whole has passed only once [`Reader::next_item`] returned `None`.
pub struct Reader<R: BufRead> {
    input: R,
    hasher: Sha256,
    line_no: u64,
    header: BackupHeader,
    next_session: usize,
    pending: Option<(String, std::collections::VecDeque<String>)>,
    totals: Totals,
    done: bool,
}

impl<R: BufRead> Reader<R> {
    /// Reads the header line and checks the format and its version.
    pub fn open(input: R) -> Result<Self, BackupError> {
        let mut r = Self {
            input,
            hasher: Sha256::new(),
            line_no: 0,
            header: BackupHeader::new("", "", 0, Vec::new()),
            next_session: 0,
            pending: None,
            totals: Totals::default(),
            done: false,
        };
        let Some(raw) = r.raw_line()? else {
            return Err(BackupError::NotABackup("the file is empty".into()));
        };
        r.hasher.update(&raw);
        // The version first, on its own: a later version may change any other field.
        #[derive(Deserialize)]
        struct Kind {
            #[serde(rename = "type")]
            kind: String,
            format: String,
            version: u32,
        }
        let kind: Kind = serde_json::from_slice(&raw).map_err(|e| BackupError::NotABackup(format!("line 1: {e}")))?;
        if kind.kind != "backup" || kind.format != BACKUP_KIND {
            return Err(BackupError::NotABackup(format!("line 1 is a {:?} of format {:?}", kind.kind, kind.format)));
        }
        if kind.version != BACKUP_FORMAT {
            return Err(BackupError::Version { found: kind.version, supported: BACKUP_FORMAT });
        }
        match serde_json::from_slice(&raw) {
            Ok(Line::Backup(h)) => r.header = h,
            Ok(_) => unreachable!("the type was checked"),
            Err(e) => return Err(BackupError::Malformed { line: 1, reason: e.to_string() }),
        }
        Ok(r)
    }

    pub fn header(&self) -> &BackupHeader {
        &self.header
    }

    /// What the file held; complete once [`Reader::next_item`] returned `None`.
    pub fn totals(&self) -> Totals {
        self.totals
    }

    /// One line with its `\n`; `None` at the end of the file. A last line
    /// without `\n` was cut off.
    fn raw_line(&mut self) -> Result<Option<Vec<u8>>, BackupError> {
        let mut buf = Vec::new();
        let n = self.input.read_until(b'\n', &mut buf)?;
        if n == 0 {
            return Ok(None);
        }
        self.line_no += 1;
        self.totals.file_bytes += n as u64;
        if buf.last() != Some(&b'\n') {
            return Err(BackupError::Truncated { line: self.line_no });
        }
        Ok(Some(buf))
    }

    fn malformed(&self, reason: impl Into<String>) -> BackupError {
        BackupError::Malformed { line: self.line_no, reason: reason.into() }
    }

    fn attachments_done(&self) -> Result<(), BackupError> {
        match &self.pending {
            Some((session, left)) if !left.is_empty() => {
                Err(self.malformed(format!("session {session}'s attachment {} is missing before this line", left[0])))
            }
            _ => Ok(()),
        }
    }

    /// The next session or attachment, checked; `None` after the end line
    /// (and its checks) was read.
    pub fn next_item(&mut self) -> Result<Option<Item>, BackupError> {
        if self.done {
            return Ok(None);
        }
        let Some(raw) = self.raw_line()? else {
            return Err(BackupError::Truncated { line: self.line_no });
        };
        let file_digest = hex::encode(self.hasher.clone().finalize());
        self.hasher.update(&raw);
        let line: Line = serde_json::from_slice(&raw).map_err(|e| self.malformed(e.to_string()))?;
        match line {
            Line::Backup(_) => Err(self.malformed("a second header")),
            Line::Session { id, seq, head, header, events, credentials, claims, counters, attachments, sha256 } => {
                self.attachments_done()?;
                match self.header.sessions.get(self.next_session) {
                    Some(want) if *want == id => {}
                    Some(want) => return Err(self.malformed(format!("session {id}, but the header lists {want} next"))),
                    None => return Err(self.malformed(format!("session {id}, which the header does not list"))),
                }
                self.next_session += 1;
                let bytes = |b: Blob, what: &str| b.bytes().map_err(|e| self.malformed(format!("session {id}: {what}: {e}")));
                let header = bytes(header, "header")?;
                let events =
                    events.into_iter().enumerate().map(|(i, e)| bytes(e, &format!("event {}", i + 1))).collect::<Result<_, _>>()?;
                let s = SessionBackup { id, header, events, credentials, claims, counters, attachments };
                if s.digest() != sha256 {
                    return Err(BackupError::Checksum { line: self.line_no, what: format!("session {}", s.id) });
                }
                if seq != s.events.len() as u64 {
                    return Err(self.malformed(format!("session {}: seq {seq}, but {} events", s.id, s.events.len())));
                }
                let computed = s.head().ok().map(|h| h.hex());
                if head != computed {
                    return Err(self.malformed(format!("session {}: head {head:?}, but its record's is {computed:?}", s.id)));
                }
                self.totals.sessions += 1;
                self.pending = Some((s.id.clone(), s.attachments.iter().cloned().collect()));
                Ok(Some(Item::Session(s)))
            }
            Line::Attachment { session, id, bytes, sha256, data } => {
                match &mut self.pending {
                    Some((current, left)) if *current == session && left.front() == Some(&id) => {
                        left.pop_front();
                    }
                    _ => return Err(self.malformed(format!("attachment {id} of session {session} is not the next one listed"))),
                }
                let data = B64.decode(data).map_err(|e| self.malformed(format!("attachment {id}: bad base64: {e}")))?;
                if data.len() as u64 != bytes || sha256_hex(&data) != sha256 {
                    return Err(BackupError::Checksum { line: self.line_no, what: format!("attachment {id} of session {session}") });
                }
                self.totals.attachments += 1;
                self.totals.attachment_bytes += bytes;
                Ok(Some(Item::Attachment { session, id, data }))
            }
            Line::End { sessions, attachments, sha256 } => {
                self.attachments_done()?;
                if sha256 != file_digest {
                    return Err(BackupError::Checksum { line: self.line_no, what: "the file before the end line".into() });
                }
                if self.next_session != self.header.sessions.len() {
                    return Err(self.malformed(format!("session {} is missing", self.header.sessions[self.next_session])));
                }
                if (sessions, attachments) != (self.totals.sessions, self.totals.attachments) {
                    return Err(self.malformed(format!(
                        "the end line counts {sessions} sessions and {attachments} attachments, the file holds {} and {}",
                        self.totals.sessions, self.totals.attachments
                    )));
                }
                if self.raw_line()?.is_some() {
                    return Err(self.malformed("data after the end line"));
                }
                self.done = true;
                Ok(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(id: &str, attachments: &[&str]) -> SessionBackup {
        let header = br#"{"v":2,"x":1}"#.to_vec();
        let first = format!(r#"{{"v":2,"prev":"{}","type":"a"}}"#, ChainHead::genesis(&header).hex());
        SessionBackup {
            id: id.to_owned(),
            header,
            events: vec![first.into_bytes()],
            credentials: vec![("moderator".into(), "h1".into())],
            claims: [("ballot/1/u/d".to_owned(), "b1".to_owned())].into(),
            counters: [("tally/1/u/satisfied".to_owned(), 1)].into(),
            attachments: attachments.iter().map(|a| (*a).to_owned()).collect(),
        }
    }

    /// A session and its attachments (id, bytes).
    type WithFiles<'a> = (SessionBackup, Vec<(&'a str, Vec<u8>)>);

    fn write(sessions: &[WithFiles<'_>]) -> Vec<u8> {
        let header = BackupHeader::new("memory", "test", 1_767_225_600_000, sessions.iter().map(|(s, _)| s.id.clone()).collect());
        let mut w = Writer::new(Vec::new(), &header).unwrap();
        for (s, files) in sessions {
            w.session(s).unwrap();
            for (id, data) in files {
                w.attachment(id, data).unwrap();
            }
        }
        w.finish().unwrap().0
    }

    fn read_all(bytes: &[u8]) -> Result<(BackupHeader, Vec<Item>), BackupError> {
        let mut r = Reader::open(bytes)?;
        let mut items = Vec::new();
        while let Some(item) = r.next_item()? {
            items.push(item);
        }
        Ok((r.header().clone(), items))
    }

    fn sample() -> Vec<u8> {
        write(&[(session("a", &["f1", "f2"]), vec![("f1", vec![0xFF, 0xD8, 0]), ("f2", b"pdf".to_vec())]), (session("b", &[]), vec![])])
    }

    #[test]
    fn a_backup_reads_back_exactly() {
        let bytes = sample();
        let (header, items) = read_all(&bytes).unwrap();
        assert_eq!(header.created_at, "2026-01-01T00:00:00Z");
        assert_eq!(header.sessions, ["a", "b"]);
        assert_eq!(items.len(), 4);
        assert_eq!(items[0], Item::Session(session("a", &["f1", "f2"])));
        assert_eq!(items[1], Item::Attachment { session: "a".into(), id: "f1".into(), data: vec![0xFF, 0xD8, 0] });
        assert_eq!(items[3], Item::Session(session("b", &[])));
        // Records are readable JSON strings in the file.
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.lines().nth(1).unwrap().contains(r#""header":"{\"v\":2,\"x\":1}""#), "{text}");
        assert!(text.lines().nth(1).unwrap().contains(r#""head":""#), "the head of a record whose chain holds");
    }

    #[test]
    fn records_that_are_not_utf8_survive_as_base64() {
        let mut s = session("a", &[]);
        s.events.push(vec![0xFF, 0xFE, b'{']);
        let bytes = write(&[(s.clone(), vec![])]);
        assert!(String::from_utf8_lossy(&bytes).contains(r#"{"base64":"//57"}"#));
        let (_, items) = read_all(&bytes).unwrap();
        assert_eq!(items[0], Item::Session(s), "head null: the chain does not hold, the bytes are kept anyway");
    }

    #[test]
    fn a_file_cut_anywhere_is_truncated() {
        let bytes = sample();
        let ends: Vec<usize> = bytes.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i + 1).collect();
        for cut in [ends[0], ends[1], ends[ends.len() - 2], ends[1] - 10, bytes.len() - 1] {
            match read_all(&bytes[..cut]) {
                Err(BackupError::Truncated { .. }) => {}
                other => panic!("cut at {cut}: want Truncated, got {other:?}"),
            }
        }
        assert!(matches!(read_all(b""), Err(BackupError::NotABackup(_))));
    }

    #[test]
    fn a_changed_byte_fails_a_checksum() {
        let text = String::from_utf8(sample()).unwrap();
        // Inside a session's content: its digest.
        let edited = text.replacen("\"b1\"", "\"b2\"", 1);
        match read_all(edited.as_bytes()) {
            Err(BackupError::Checksum { line: 2, what }) => assert_eq!(what, "session a"),
            other => panic!("want the session's checksum, got {other:?}"),
        }
        // A session's derived fields are checked against its content.
        let edited = text.replacen("\"seq\":1", "\"seq\":2", 1);
        assert!(matches!(read_all(edited.as_bytes()), Err(BackupError::Malformed { line: 2, .. })));
        // Elsewhere (the header): the file's digest on the end line.
        let edited = text.replacen("\"source\":\"memory\"", "\"source\":\"redis!\"", 1);
        match read_all(edited.as_bytes()) {
            Err(BackupError::Checksum { line: 6, what }) => assert_eq!(what, "the file before the end line"),
            other => panic!("want the file's checksum, got {other:?}"),
        }
        // An attachment's bytes.
        let edited = text.replacen(&B64.encode(b"pdf"), &B64.encode(b"pdF"), 1);
        assert!(matches!(read_all(edited.as_bytes()), Err(BackupError::Checksum { line: 4, .. })));
        // A dropped line (with the end line's digest fixed up, as a forger would).
        let lines: Vec<&str> = text.lines().collect();
        let kept = [lines[0], lines[1], lines[2]].map(|l| format!("{l}\n")).concat();
        let end = format!(r#"{{"type":"end","sessions":1,"attachments":1,"sha256":"{}"}}"#, sha256_hex(kept.as_bytes()));
        assert!(matches!(read_all(format!("{kept}{end}\n").as_bytes()), Err(BackupError::Malformed { line: 4, .. })));
        // Anything after the end line.
        assert!(matches!(read_all(format!("{text}\n").as_bytes()), Err(BackupError::Malformed { line: 7, .. })));
    }

    #[test]
    fn another_version_or_another_file_is_refused_first() {
        let text = String::from_utf8(sample()).unwrap();
        let newer = text.replacen("\"version\":1", "\"version\":2", 1);
        match read_all(newer.as_bytes()) {
            Err(e @ BackupError::Version { found: 2, supported: 1 }) => assert!(e.to_string().contains("version 2 is not supported")),
            other => panic!("want Version, got {other:?}"),
        }
        assert!(matches!(read_all(b"{\"v\":2}\n"), Err(BackupError::NotABackup(_))));
        assert!(matches!(read_all(b"PK\x03\x04 a zip\n"), Err(BackupError::NotABackup(_))));
    }

    #[test]
    fn the_writer_keeps_the_order() {
        let header = BackupHeader::new("memory", "test", 0, vec!["a".into()]);
        let mut w = Writer::new(Vec::new(), &header).unwrap();
        assert!(w.session(&session("b", &[])).is_err(), "not the listed session");
        w.session(&session("a", &["f1"])).unwrap();
        assert!(w.attachment("f2", b"x").is_err(), "not the listed attachment");
        assert!(w.finish().is_err(), "f1 was not written");
    }
}

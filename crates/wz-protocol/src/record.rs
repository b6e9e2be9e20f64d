//! The public record (issue 9): what an outside party receives to check a
//! session's evaluations without learning who chose what.
//!
//! The stored record links each ballot to its caster (the store needs that
//! for the one-ballot rule and idempotent retries). The public record keeps
//! the two halves apart:
//!
//! - **entries**: every stored record's sequence number, kind, `prev` and
//!   hash, without its content: the hash chain, ending at the head that the
//!   console, the bulletin and the results report publish;
//! - **participation**: who cast a ballot on which unit (for the one-ballot
//!   rule and turnout), sorted by delegate, never with a choice or a time;
//! - **choices**: each ballot's rating under its receipt code, sorted by the
//!   code. With the session's seal the code is keyed ([`crate::render::receipt_code`]),
//!   so nobody who lacks the seal can recompute it from who voted on what;
//!   its caster finds their own ballot by the receipt they were given.
//!
//! Follow-up ratings are published the same way, except that the choices of
//! an item with fewer than [`MIN_CELL`] ratings are pooled (`item` absent),
//! and withheld when even the pool is that small, exactly as the counts are
//! suppressed everywhere else.
//!
//! [`check`] is what `wenzheng verify --file` runs: the chain links, every
//! count agrees with the participation, and every revealed result equals a
//! recount of the choices. What it cannot show from the file alone, and the
//! store-side `verify` does, is that each published choice is the rating the
//! sealed entry holds: that needs the record itself (docs/record.md).

use crate::dto::{CountsDto, EvaluationDto, EvaluationStatus, EventKind, Rating};
use crate::render::{MIN_CELL, item_receipt_code, receipt_code};
use crate::stored::{self, ChainHead};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use wz_domain as d;

/// The public record's format version.
pub const PUBLIC_RECORD_FORMAT: u32 = 1;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS, utoipa::ToSchema)]
pub struct PublicRecord {
    pub format: u32,
    pub session: String,
    pub title: String,
    /// SHA-256 of the session's header record: the chain starts there.
    pub genesis: String,
    /// The hash of the last entry (the genesis with no entry).
    pub head: String,
    pub entries: Vec<EntryLine>,
    /// Every evaluation as the public saw it; a closed one with its results.
    pub evaluations: Vec<EvaluationDto>,
    pub participation: Vec<Participation>,
    /// Choices of closed evaluations only: an open one's would be live counts.
    pub choices: Vec<Choice>,
    pub item_participation: Vec<ItemParticipation>,
    pub item_choices: Vec<ItemChoice>,
    /// Each rated item's counts as revealed (small cells show only the total).
    pub items: Vec<ItemCounts>,
    /// Follow-up choices not listed: items and pool below the small-cell size.
    pub withheld_item_choices: u32,
}

/// One stored record, without its content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS, utoipa::ToSchema)]
pub struct EntryLine {
    pub seq: u64,
    pub kind: EventKind,
    /// The hash the record names as its predecessor's (absent before the chain began).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub prev: Option<String>,
    /// SHA-256 of the record's stored bytes.
    pub hash: String,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS, utoipa::ToSchema)]
pub struct Participation {
    pub evaluation: u32,
    pub unit: String,
    pub delegate: String,
    pub venue: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS, utoipa::ToSchema)]
pub struct Choice {
    pub evaluation: u32,
    pub unit: String,
    /// The ballot's receipt code.
    pub code: String,
    pub rating: Rating,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS, utoipa::ToSchema)]
pub struct ItemParticipation {
    pub item: u32,
    pub delegate: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS, utoipa::ToSchema)]
pub struct ItemChoice {
    /// Absent for a pooled choice (its item has fewer than 3 ratings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub item: Option<u32>,
    pub code: String,
    pub rating: Rating,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS, utoipa::ToSchema)]
pub struct ItemCounts {
    pub item: u32,
    pub counts: CountsDto,
}

impl PublicRecord {
    pub fn encode(&self) -> String {
        serde_json::to_string_pretty(self).expect("the public record always serialises")
    }

    pub fn decode(text: &str) -> Result<Self, RecordError> {
        serde_json::from_str(text).map_err(|e| RecordError::new(Where::File, format!("not a public record: {e}")))
    }
}

/// Where a public record does not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Where {
    File,
    /// 1-based sequence number of an entry.
    Entry(u64),
    Head,
    Evaluation(u32),
    Unit(u32, String),
    Item(u32),
}

impl std::fmt::Display for Where {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Where::File => f.write_str("the file"),
            Where::Entry(seq) => write!(f, "entry {seq}"),
            Where::Head => f.write_str("the head"),
            Where::Evaluation(e) => write!(f, "evaluation {e}"),
            Where::Unit(e, u) => write!(f, "evaluation {e}, unit {u}"),
            Where::Item(i) => write!(f, "item {i}"),
        }
    }
}

/// The first place at which a public record does not hold.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{at}: {reason}")]
pub struct RecordError {
    pub at: Where,
    pub reason: String,
}

impl RecordError {
    fn new(at: Where, reason: impl Into<String>) -> Self {
        Self { at, reason: reason.into() }
    }
}

/// What a record that holds contains.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    pub entries: u64,
    pub head: String,
    pub ballots: usize,
    pub closed_evaluations: usize,
    pub item_ratings: usize,
}

/// One stored record's line in the public record: its kind, the `prev` it
/// names, the SHA-256 of its exact bytes.
pub fn entry_line(seq: u64, raw: &[u8], kind: d::EventKind, prev: Option<String>) -> EntryLine {
    EntryLine { seq, kind: kind.into(), prev, hash: hex::encode(Sha256::digest(raw)) }
}

/// Builds the public record from the stored header and records of a session
/// and the state they replay to, reading each record itself (tools, tests).
/// The chain is checked first: a record that does not hold is not published.
/// The hub, which reads and checks every record once as it replays, calls
/// [`assemble`] with the lines it collected instead.
pub fn build<R: AsRef<[u8]>>(header: &[u8], records: &[R], s: &d::Session) -> Result<PublicRecord, RecordError> {
    let head = stored::chain::check(header, records).map_err(|e| RecordError::new(Where::Entry(e.seq), e.reason))?;
    let mut entries = Vec::with_capacity(records.len());
    for (i, raw) in records.iter().enumerate() {
        let raw = raw.as_ref();
        let seq = i as u64 + 1;
        let (event, meta) = stored::decode_record(raw).map_err(|e| RecordError::new(Where::Entry(seq), e.to_string()))?;
        entries.push(entry_line(seq, raw, event.kind(), meta.prev));
    }
    Ok(assemble(&ChainHead::genesis(header), &head, entries, s))
}

/// The public record from entry lines already read and a checked chain head.
pub fn assemble(genesis: &ChainHead, head: &ChainHead, entries: Vec<EntryLine>, s: &d::Session) -> PublicRecord {
    let (participation, choices) = ballots(s);
    let (item_participation, item_choices, items, withheld_item_choices) = item_ratings(s);
    PublicRecord {
        format: PUBLIC_RECORD_FORMAT,
        session: s.def().id.clone(),
        title: s.def().title.clone(),
        genesis: genesis.hex(),
        head: head.hex(),
        entries,
        evaluations: s.evaluations().map(|e| crate::render::evaluation(s.def(), e)).collect(),
        participation,
        choices,
        item_participation,
        item_choices,
        items,
        withheld_item_choices,
    }
}

fn ballots(s: &d::Session) -> (Vec<Participation>, Vec<Choice>) {
    let id = s.def().id.as_str();
    let mut participation = Vec::new();
    let mut choices = Vec::new();
    for ev in s.evaluations() {
        let closed = ev.status == d::EvaluationStatus::Closed;
        for b in ev.ballots.values() {
            participation.push(Participation {
                evaluation: ev.id.0,
                unit: b.unit.0.clone(),
                delegate: b.delegate.0.clone(),
                venue: b.venue.0.clone(),
            });
            if closed {
                let code = receipt_code(id, s.seal(), b);
                choices.push(Choice { evaluation: ev.id.0, unit: b.unit.0.clone(), code, rating: b.rating.into() });
            }
        }
    }
    participation.sort();
    // By code, which says nothing of when or by whom.
    choices.sort_by(|a, b| (a.evaluation, &a.unit, &a.code).cmp(&(b.evaluation, &b.unit, &b.code)));
    (participation, choices)
}

type ItemRatings = (Vec<ItemParticipation>, Vec<ItemChoice>, Vec<ItemCounts>, u32);

fn item_ratings(s: &d::Session) -> ItemRatings {
    let id = s.def().id.as_str();
    let (mut participation, mut listed, mut pool, mut items) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for it in s.assignments().items().filter(|it| !it.ratings.is_empty()) {
        let mut counts = d::RatingCounts::default();
        let small = (it.ratings.len() as u32) < MIN_CELL;
        for (delegate, r) in &it.ratings {
            counts.add(r.rating);
            participation.push(ItemParticipation { item: it.id.0, delegate: delegate.0.clone() });
            let code = item_receipt_code(id, s.seal(), it.id.0, delegate, r);
            let choice = ItemChoice { item: (!small).then_some(it.id.0), code, rating: r.rating.into() };
            if small { pool.push(choice) } else { listed.push(choice) }
        }
        items.push(ItemCounts { item: it.id.0, counts: crate::assignment::small_cell(&counts) });
    }
    let withheld = if (pool.len() as u32) < MIN_CELL { pool.len() as u32 } else { 0 };
    if withheld == 0 {
        listed.append(&mut pool);
    }
    participation.sort();
    listed.sort_by(|a, b| (a.item, &a.code).cmp(&(b.item, &b.code)));
    (participation, listed, items, withheld)
}

/// Checks a public record on its own: see the module documentation.
pub fn check(r: &PublicRecord) -> Result<Checked, RecordError> {
    if r.format != PUBLIC_RECORD_FORMAT {
        return Err(RecordError::new(Where::File, format!("format {} (this build reads {PUBLIC_RECORD_FORMAT})", r.format)));
    }
    check_chain(r)?;
    let ballots = check_ballots(r)?;
    let item_ratings = check_item_ratings(r)?;
    Ok(Checked {
        entries: r.entries.len() as u64,
        head: r.head.clone(),
        ballots,
        closed_evaluations: r.evaluations.iter().filter(|e| e.status == EvaluationStatus::Closed).count(),
        item_ratings,
    })
}

fn is_hash(s: &str) -> bool {
    ChainHead::parse(s).is_some_and(|h| h.hex() == s)
}

fn check_chain(r: &PublicRecord) -> Result<(), RecordError> {
    if !is_hash(&r.genesis) {
        return Err(RecordError::new(Where::File, "the genesis is not 64 lowercase hex digits"));
    }
    let mut running = r.genesis.as_str();
    let mut chained = false;
    for (i, e) in r.entries.iter().enumerate() {
        let seq = i as u64 + 1;
        let at = || Where::Entry(seq);
        if e.seq != seq {
            return Err(RecordError::new(at(), format!("expected entry {seq}, found entry {} (missing, moved or inserted)", e.seq)));
        }
        if !is_hash(&e.hash) {
            return Err(RecordError::new(at(), "its hash is not 64 lowercase hex digits"));
        }
        match &e.prev {
            Some(p) if p != running => {
                return Err(RecordError::new(at(), format!("its prev {p} is not the hash of the entry before it ({running})")));
            }
            Some(_) => chained = true,
            None if chained => return Err(RecordError::new(at(), "an unchained entry after the chain began")),
            None => {}
        }
        running = &e.hash;
    }
    if running != r.head {
        return Err(RecordError::new(
            Where::Head,
            format!("the entries end at {running}, not at the stated head {} (entries cut off or added at the end)", r.head),
        ));
    }
    Ok(())
}

fn count_kind(r: &PublicRecord, kind: EventKind) -> usize {
    r.entries.iter().filter(|e| e.kind == kind).count()
}

fn check_ballots(r: &PublicRecord) -> Result<usize, RecordError> {
    let cast = count_kind(r, EventKind::BallotCast);
    if cast != r.participation.len() {
        return Err(RecordError::new(Where::File, format!("{cast} ballot entries but {} participation lines", r.participation.len())));
    }
    let mut seen = BTreeSet::new();
    for p in &r.participation {
        if !seen.insert((p.evaluation, &p.unit, &p.delegate)) {
            return Err(RecordError::new(Where::Unit(p.evaluation, p.unit.clone()), format!("delegate {} has two ballots", p.delegate)));
        }
    }
    let mut codes = BTreeSet::new();
    for c in &r.choices {
        if !codes.insert(&c.code) {
            return Err(RecordError::new(Where::Unit(c.evaluation, c.unit.clone()), format!("receipt code {} is listed twice", c.code)));
        }
    }
    let listed: BTreeSet<u32> = r.choices.iter().map(|c| c.evaluation).collect();
    for ev in &r.evaluations {
        match (&ev.results, ev.status) {
            (Some(results), EvaluationStatus::Closed) => check_results(r, ev.id, results)?,
            (_, EvaluationStatus::Open) if listed.contains(&ev.id) => {
                return Err(RecordError::new(Where::Evaluation(ev.id), "choices of an open evaluation are listed"));
            }
            _ => {}
        }
    }
    Ok(r.participation.len())
}

fn check_results(r: &PublicRecord, ev: u32, results: &crate::dto::ResultsDto) -> Result<(), RecordError> {
    for u in &results.units {
        let at = || Where::Unit(ev, u.unit.clone());
        let voters = r.participation.iter().filter(|p| p.evaluation == ev && p.unit == u.unit).count() as u32;
        let mut recount = d::RatingCounts::default();
        for c in r.choices.iter().filter(|c| c.evaluation == ev && c.unit == u.unit) {
            recount.add(c.rating.into());
        }
        let recount = CountsDto::from(&recount);
        if voters != recount.total {
            return Err(RecordError::new(at(), format!("{voters} delegates took part but {} choices are listed", recount.total)));
        }
        if recount != u.counts {
            return Err(RecordError::new(
                at(),
                format!(
                    "the choices count {}/{}/{} (of {}) but the revealed result is {}/{}/{} (of {})",
                    recount.satisfied,
                    recount.basically_satisfied,
                    recount.dissatisfied,
                    recount.total,
                    u.counts.satisfied,
                    u.counts.basically_satisfied,
                    u.counts.dissatisfied,
                    u.counts.total
                ),
            ));
        }
    }
    let mut by_venue: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for p in r.participation.iter().filter(|p| p.evaluation == ev) {
        by_venue.entry(&p.venue).or_default().insert(&p.delegate);
    }
    let voted: BTreeSet<&str> = by_venue.values().flatten().copied().collect();
    if voted.len() as u32 != results.turnout.voted {
        return Err(RecordError::new(
            Where::Evaluation(ev),
            format!("{} delegates took part but the revealed turnout is {}", voted.len(), results.turnout.voted),
        ));
    }
    for v in &results.turnout.by_venue {
        let n = by_venue.get(v.venue.as_str()).map_or(0, BTreeSet::len) as u32;
        if n != v.voted {
            return Err(RecordError::new(
                Where::Evaluation(ev),
                format!("{n} delegates of venue {} took part but the revealed turnout is {}", v.venue, v.voted),
            ));
        }
    }
    Ok(())
}

fn check_item_ratings(r: &PublicRecord) -> Result<usize, RecordError> {
    let rated = count_kind(r, EventKind::ItemRated);
    let n = r.item_participation.len();
    if rated != n {
        return Err(RecordError::new(Where::File, format!("{rated} follow-up rating entries but {n} participation lines")));
    }
    if r.item_choices.len() + r.withheld_item_choices as usize != n {
        return Err(RecordError::new(
            Where::File,
            format!("{n} follow-up ratings but {} choices listed and {} withheld", r.item_choices.len(), r.withheld_item_choices),
        ));
    }
    let mut seen = BTreeSet::new();
    for p in &r.item_participation {
        if !seen.insert((p.item, &p.delegate)) {
            return Err(RecordError::new(Where::Item(p.item), format!("delegate {} rated it twice", p.delegate)));
        }
    }
    for it in &r.items {
        let raters = r.item_participation.iter().filter(|p| p.item == it.item).count() as u32;
        if raters != it.counts.total {
            return Err(RecordError::new(Where::Item(it.item), format!("{raters} raters but the revealed total is {}", it.counts.total)));
        }
        if it.counts.suppressed {
            continue;
        }
        let mut recount = d::RatingCounts::default();
        for c in r.item_choices.iter().filter(|c| c.item == Some(it.item)) {
            recount.add(c.rating.into());
        }
        if CountsDto::from(&recount) != it.counts {
            return Err(RecordError::new(Where::Item(it.item), "the listed choices do not recount to the revealed counts"));
        }
    }
    Ok(n)
}

/// What the receipt check answers (`GET /api/sessions/{id}/receipts/{code}`):
/// whether a ballot or a follow-up rating with this code is in the record
/// and counted, never its choice or its caster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS, utoipa::ToSchema)]
pub struct ReceiptCheckDto {
    pub code: String,
    pub found: bool,
    /// `ballot` or `item_rating`, when found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub kind: Option<ReceiptKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub evaluation: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub item: Option<u32>,
    /// In the published count: its evaluation is closed (a follow-up rating
    /// counts as soon as it is recorded).
    pub counted: bool,
    /// The record's chain head when the check was made.
    pub head: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptKind {
    Ballot,
    ItemRating,
}

/// Is a receipt code a well-formed one (16 lowercase hex digits)?
pub fn is_code(code: &str) -> bool {
    code.len() == 16 && code.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Looks a receipt code up in the session: a ballot's, then a follow-up
/// rating's. Costs one hash per ballot and rating; the caller bounds how
/// often it runs.
pub fn find_receipt(s: &d::Session, head: &ChainHead, code: &str) -> ReceiptCheckDto {
    let id = s.def().id.as_str();
    let mut out = ReceiptCheckDto {
        code: code.to_owned(),
        found: false,
        kind: None,
        evaluation: None,
        unit: None,
        item: None,
        counted: false,
        head: head.hex(),
    };
    for ev in s.evaluations() {
        if let Some(b) = ev.ballots.values().find(|b| receipt_code(id, s.seal(), b) == code) {
            out.found = true;
            out.kind = Some(ReceiptKind::Ballot);
            out.evaluation = Some(ev.id.0);
            out.unit = Some(b.unit.0.clone());
            out.counted = ev.status == d::EvaluationStatus::Closed;
            return out;
        }
    }
    for it in s.assignments().items() {
        if it.ratings.iter().any(|(delegate, r)| item_receipt_code(id, s.seal(), it.id.0, delegate, r) == code) {
            out.found = true;
            out.kind = Some(ReceiptKind::ItemRating);
            out.item = Some(it.id.0);
            out.counted = true;
            return out;
        }
    }
    out
}

//! Rendering domain state for one [`Perspective`].
//!
//! Architecture Invariant: every function here filters by perspective, so a
//! caller cannot accidentally send a screen a delegate's identity or anyone
//! but its caster an individual ballot.

use crate::dto::*;
use crate::server::*;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use wz_domain as d;
use wz_domain::{Change, Perspective, Session, Viewer};

/// Breakdown cells with fewer ballots than this show no choices, to every
/// role: with one or two voters in a venue or level, the split would tell
/// who chose what.
pub const MIN_CELL: u32 = 3;

fn cell(c: Option<&d::RatingCounts>) -> CountsDto {
    let c = c.map(CountsDto::from).unwrap_or_default();
    if c.total == 0 || c.total >= MIN_CELL {
        return c;
    }
    CountsDto { total: c.total, suppressed: true, ..CountsDto::default() }
}

/// Complementary suppression of one breakdown (a unit's venues, or its
/// levels). The unit's counts are public, so hidden cells holding fewer than
/// [`MIN_CELL`] ballots between them could be recovered by subtracting the
/// shown ones (one hidden venue of two voters: the unit's split minus the
/// other venues' is theirs). The smallest shown cells are hidden with them
/// until the hidden ones hold at least [`MIN_CELL`] ballots together (or
/// nothing is shown).
fn protect<'a>(cells: impl IntoIterator<Item = &'a mut CountsDto>) {
    let cells: Vec<&mut CountsDto> = cells.into_iter().collect();
    let mut hidden: u32 = cells.iter().filter(|c| c.suppressed).map(|c| c.total).sum();
    if hidden == 0 || hidden >= MIN_CELL {
        return;
    }
    let mut shown: Vec<&mut CountsDto> = cells.into_iter().filter(|c| !c.suppressed && c.total > 0).collect();
    shown.sort_by_key(|c| c.total);
    for c in shown {
        if hidden >= MIN_CELL {
            break;
        }
        hidden += c.total;
        *c = CountsDto { total: c.total, suppressed: true, ..CountsDto::default() };
    }
}

fn venue_counts(def: &d::SessionDef, m: &BTreeMap<d::VenueId, d::RatingCounts>) -> Vec<VenueCountsDto> {
    let mut v: Vec<VenueCountsDto> =
        def.venues.iter().map(|v| VenueCountsDto { venue: v.id.0.clone(), counts: cell(m.get(&v.id)) }).collect();
    protect(v.iter_mut().map(|x| &mut x.counts));
    v
}

/// Per-unit counts in the evaluation's own unit order (the ballot's), so
/// every page lists the units the same way (issue 10).
fn unit_counts(def: &d::SessionDef, tally: &d::Tally, eligible_by_level: Option<&[u32; 5]>, order: &[d::UnitId]) -> Vec<UnitCountsDto> {
    order
        .iter()
        .filter_map(|unit| tally.by_unit.get(unit).map(|r| (unit, r)))
        .map(|(unit, r)| {
            let mut by_level: Vec<LevelCountsDto> = d::DelegateLevel::ALL
                .iter()
                .map(|l| LevelCountsDto {
                    level: (*l).into(),
                    counts: cell(Some(&r.by_level[l.index()])),
                    eligible: eligible_by_level.map(|e| e[l.index()]),
                })
                .collect();
            protect(by_level.iter_mut().map(|x| &mut x.counts));
            UnitCountsDto { unit: unit.0.clone(), counts: (&r.total).into(), by_venue: venue_counts(def, &r.by_venue), by_level }
        })
        .collect()
}

fn turnout(def: &d::SessionDef, t: &d::Turnout) -> TurnoutDto {
    TurnoutDto {
        voted: t.voted,
        eligible: t.eligible,
        by_venue: def
            .venues
            .iter()
            .map(|v| {
                let (voted, eligible) = t.by_venue.get(&v.id).copied().unwrap_or((0, 0));
                VenueTurnoutDto { venue: v.id.0.clone(), voted, eligible }
            })
            .collect(),
    }
}

/// The public description of an evaluation; results appear once it is closed.
pub fn evaluation(def: &d::SessionDef, ev: &d::Evaluation) -> EvaluationDto {
    EvaluationDto {
        id: ev.id.0,
        units: ev.units.iter().map(|u| u.0.clone()).collect(),
        status: ev.status.into(),
        opened_at: ms(ev.opened_at),
        closed_at: ev.closed_at.map(ms),
        results: ev.results.as_ref().map(|r| ResultsDto {
            turnout: turnout(def, &r.turnout),
            units: unit_counts(def, &r.tally, Some(&r.eligible_by_level), &ev.units),
        }),
    }
}

/// The receipt code: see [`ReceiptDto`]. With the session's seal (every
/// session created since the public record exists) the hash is keyed with
/// it (`wz-receipt-v2`), so nobody without the seal can recompute a code from
/// who voted on what; a session stored before seals keeps `wz-receipt-v1`.
pub fn receipt_code(session: &str, seal: Option<&d::Seal>, b: &d::Ballot) -> String {
    let rating = wire_name(Rating::from(b.rating));
    let body = format!("{session}|{}|{}|{}|{}|{}|{}", b.evaluation.0, b.unit.0, b.delegate.0, b.ballot_id.0, rating, b.seq);
    keyed_code(seal, "wz-receipt", &body)
}

/// The receipt code of a follow-up rating: like a ballot's, over
/// `item|delegate|rating|at`, keyed with the seal (`wz-item-receipt-v2`).
pub fn item_receipt_code(
    session: &str,
    seal: Option<&d::Seal>,
    item: u32,
    delegate: &d::DelegateId,
    r: &d::assignment::FollowUpRating,
) -> String {
    let rating = wire_name(Rating::from(r.rating));
    let body = format!("{session}|{item}|{}|{rating}|{}", delegate.0, r.at.0);
    keyed_code(seal, "wz-item-receipt", &body)
}

fn wire_name<T: serde::Serialize>(x: T) -> String {
    serde_json::to_value(x).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// The first 16 hex digits of SHA-256 over `seal ‖ tag-v2|body` (or of
/// `tag-v1|body` without a seal). The seal is a fixed-length key in front,
/// which is all a code needs: it must not be computable without the key.
fn keyed_code(seal: Option<&d::Seal>, tag: &str, body: &str) -> String {
    let mut h = Sha256::new();
    match seal {
        Some(k) => {
            h.update(k.0);
            h.update(format!("{tag}-v2|{body}").as_bytes());
        }
        None => h.update(format!("{tag}-v1|{body}").as_bytes()),
    }
    hex::encode(&h.finalize()[..8])
}

pub fn receipt(session: &str, seal: Option<&d::Seal>, b: &d::Ballot) -> ReceiptDto {
    ReceiptDto {
        evaluation: b.evaluation.0,
        unit: b.unit.0.clone(),
        ballot_id: b.ballot_id.0.clone(),
        rating: b.rating.into(),
        seq: b.seq,
        at: ms(b.at),
        code: receipt_code(session, seal, b),
    }
}

fn ballot(session: &str, seal: Option<&d::Seal>, b: &d::Ballot) -> BallotDto {
    BallotDto { delegate: b.delegate.0.clone(), venue: b.venue.0.clone(), receipt: receipt(session, seal, b) }
}

fn answer(a: &d::Answer) -> AnswerDto {
    AnswerDto {
        unit: a.unit.0.clone(),
        official: a.official.clone(),
        summary: a.summary.clone(),
        commitments: a
            .commitments
            .iter()
            .map(|c| CommitmentDto { what: c.what.clone(), unit: c.unit.0.clone(), due: c.due.to_string() })
            .collect(),
        at: ms(a.at),
    }
}

/// A question as `p` may see it, or `None` when `p` may not see it at all.
pub fn question(q: &d::Question, p: &Perspective) -> Option<QuestionDto> {
    if !p.sees_question(q) {
        return None;
    }
    let askers = p.sees_askers(q);
    let me = match p {
        Perspective::Delegate(me) => Some(me),
        _ => None,
    };
    Some(QuestionDto {
        id: q.id.0,
        status: q.status.into(),
        topic: q.topic.0.clone(),
        unit: q.unit.0.clone(),
        text: q.text.clone(),
        // The public sees only the wording the moderator let through.
        original_text: if askers { q.original_text.clone() } else { None },
        venues: q.venues.iter().map(|v| v.0.clone()).collect(),
        askers: askers.then(|| q.askers.iter().map(|a| a.0.clone()).collect()),
        by_operator: q.by_operator,
        submitted_at: ms(q.submitted_at),
        seconds: q.seconders.len() as u32,
        seconded_by_me: me.map(|me| q.seconders.contains(me)),
        reject_reason: q.reject_reason.clone(),
        merged_into: q.merged_into.map(|x| x.0),
        merged_from: if askers { q.merged_from.iter().map(|x| x.0).collect() } else { Vec::new() },
        answer: q.answer.as_ref().map(answer),
        follow_ups: q
            .follow_ups
            .iter()
            .map(|f| FollowUpDto {
                id: f.id.0,
                venue: f.venue.0.clone(),
                asker: p.sees_follow_up_asker(f).then(|| f.asker.0.clone()),
                text: f.text.clone(),
                by_operator: f.by_operator,
                at: ms(f.at),
                answer: f.answer.as_ref().map(answer),
            })
            .collect(),
        abridged: false,
    })
}

fn delegate(x: &d::Delegate) -> DelegateDto {
    DelegateDto { id: x.id.0.clone(), name: x.name.clone(), level: x.level.into(), venue: x.venue.0.clone() }
}

fn floor(f: &d::Floor) -> FloorDto {
    FloorDto {
        question: f.question.0,
        venue: f.venue.0.clone(),
        granted_at: ms(f.granted_at),
        countdown_started_at: ms(f.countdown_started_at),
        countdown_seconds: f.countdown_seconds,
        paused_remaining: f.paused_remaining,
        speakers: f.speakers.iter().map(|s| SpeakerDto { name: s.name.clone(), level: s.level.into() }).collect(),
    }
}

fn floor_requests(rs: &[d::FloorRequest]) -> Vec<FloorRequestDto> {
    rs.iter().map(|r| FloorRequestDto { question: r.question.0, venue: r.venue.0.clone(), at: ms(r.at) }).collect()
}

/// One change as `p` may see it.
pub fn change(scope: Scope<'_>, c: &Change, p: &Perspective) -> Option<ChangeDto> {
    let Scope { session, def, seal } = scope;
    Some(match c {
        Change::Phase(x) => ChangeDto::Phase { phase: (*x).into() },
        Change::Roster(ds) => {
            let delegates: Vec<_> = ds.iter().filter(|x| p.sees_roster(&x.venue)).map(delegate).collect();
            if delegates.is_empty() {
                return None;
            }
            ChangeDto::Roster { delegates }
        }
        // A check-in and everything about it: whoever sees the check-in.
        Change::CheckIn { delegate, venue, .. }
        | Change::CheckInUndone { delegate, venue, .. }
        | Change::CheckInRequested { delegate, venue, .. }
        | Change::CheckInDeclined { delegate, venue, .. }
            if !p.sees_check_in(delegate, venue) =>
        {
            return None;
        }
        Change::CheckIn { delegate, venue, at } => ChangeDto::CheckIn { delegate: delegate.0.clone(), venue: venue.0.clone(), at: ms(*at) },
        Change::CheckInUndone { delegate, venue, reason } => {
            ChangeDto::CheckInUndone { delegate: delegate.0.clone(), venue: venue.0.clone(), reason: reason.clone() }
        }
        Change::CheckInRequested { delegate, venue, at } => {
            ChangeDto::CheckInRequest { delegate: delegate.0.clone(), venue: venue.0.clone(), at: ms(*at) }
        }
        Change::CheckInDeclined { delegate, venue, reason } => {
            ChangeDto::CheckInDeclined { delegate: delegate.0.clone(), venue: venue.0.clone(), reason: reason.clone() }
        }
        Change::Presence { venue, present, roster } => ChangeDto::Presence { venue: venue.0.clone(), present: *present, roster: *roster },
        Change::Question(q) => ChangeDto::Question { question: Box::new(question(q, p)?) },
        Change::Queue(order) => ChangeDto::Queue { order: order.iter().map(|q| q.0).collect() },
        Change::FloorRequests(rs) => ChangeDto::FloorRequests { requests: floor_requests(rs) },
        Change::Floor(f) => ChangeDto::Floor { floor: f.as_ref().map(floor) },
        Change::Evaluation(ev) => ChangeDto::Evaluation { evaluation: Box::new(evaluation(def, ev)) },
        Change::Ballot(b) => {
            if !p.sees_ballot(&b.delegate) {
                return None;
            }
            ChangeDto::Ballot { ballot: ballot(session, seal, b) }
        }
        Change::Item(it) => ChangeDto::Item { item: Box::new(crate::assignment::item(it, p)?) },
        Change::Board { board, today } => ChangeDto::Board { board: Box::new(crate::assignment::board(def, board, *today, p)) },
        Change::Announcement(a) => ChangeDto::Announcement { announcement: Box::new(announcement(a, p)) },
    })
}

/// What rendering a session's events needs besides the event: its id, its
/// definition and its seal (for receipt codes).
#[derive(Clone, Copy)]
pub struct Scope<'a> {
    pub session: &'a str,
    pub def: &'a d::SessionDef,
    pub seal: Option<&'a d::Seal>,
}

impl<'a> Scope<'a> {
    pub fn of(s: &'a Session) -> Self {
        Self { session: &s.def().id, def: s.def(), seal: s.seal() }
    }
}

/// How many announcements a snapshot carries (the newest).
pub const SNAPSHOT_ANNOUNCEMENTS: usize = 20;

/// An announcement as `p` sees it: everyone gets it; who has seen it only
/// staff (every venue) and an addressed venue's operator (their own).
pub fn announcement(a: &d::announce::Announcement, p: &Perspective) -> AnnouncementDto {
    let seen = |keep: &dyn Fn(&d::VenueId) -> bool| {
        a.seen.iter().filter(|(v, _)| keep(v)).map(|(v, at)| AnnouncementSeenDto { venue: v.0.clone(), at: at.0 }).collect()
    };
    AnnouncementDto {
        id: a.id.0,
        text: a.text.clone(),
        venues: a.venues.iter().map(|v| v.0.clone()).collect(),
        at: ms(a.at),
        cleared_at: a.cleared_at.map(ms),
        seen: match p {
            Perspective::Moderator | Perspective::Auditor => Some(seen(&|_| true)),
            Perspective::Venue(me) if a.addresses(me) => Some(seen(&|v| v == me)),
            _ => None,
        },
    }
}

/// An event message as `p` may see it; `None` when nothing in it is visible to `p`.
pub fn event(scope: Scope<'_>, seq: u64, at: d::Millis, kind: d::EventKind, changes: &[Change], p: &Perspective) -> Option<ServerMessage> {
    let changes: Vec<ChangeDto> = changes.iter().filter_map(|c| change(scope, c, p)).collect();
    if changes.is_empty() {
        return None;
    }
    Some(ServerMessage::Event(EventDto { seq, at: ms(at), kind: kind.into(), changes }))
}

/// Operational state the hub knows and the domain does not.
#[derive(Clone, Debug, Default)]
pub struct Health {
    pub store_available: bool,
    pub warnings: Vec<String>,
    /// Open connections per venue.
    pub connections: BTreeMap<d::VenueId, u32>,
    /// Last message from a client of each venue.
    pub last_seen: BTreeMap<d::VenueId, d::Millis>,
    /// The head of the stored record's hash chain (hex), when known.
    pub chain_head: Option<String>,
}

/// Live numbers, conflated by the hub on a short tick.
pub fn stats(s: &Session, p: &Perspective, health: &Health, now: d::Millis) -> StatsDto {
    let connections = &health.connections;
    let def = s.def();
    let presence = s.presence_by_venue();
    let venues = def
        .venues
        .iter()
        .map(|v| {
            let (present, roster) = presence.get(&v.id).copied().unwrap_or_default();
            VenueStatsDto {
                venue: v.id.0.clone(),
                present,
                roster,
                connections: p.is_staff().then(|| connections.get(&v.id).copied().unwrap_or(0)),
                last_seen: if p.is_staff() { health.last_seen.get(&v.id).map(|m| m.0) } else { None },
            }
        })
        .collect();
    let current = s.open_evaluation().or_else(|| s.evaluations().last());
    let evaluation = current.map(|ev| LiveEvaluationDto {
        evaluation: ev.id.0,
        turnout: turnout(def, &s.turnout(ev)),
        ballots_by_unit: ev
            .units
            .iter()
            .filter_map(|u| ev.tally.by_unit.get(u).map(|r| UnitBallotsDto { unit: u.0.clone(), ballots: r.total.total() }))
            .collect(),
        not_voted: match p {
            Perspective::Venue(v) if ev.status == d::EvaluationStatus::Open => {
                Some(s.not_voted(ev, v).into_iter().map(|x| x.id.0.clone()).collect())
            }
            _ => None,
        },
    });
    StatsDto {
        seq: s.seq(),
        server_time: now.0,
        venues,
        evaluation,
        store_available: health.store_available,
        warnings: p.is_staff().then(|| health.warnings.clone()),
        chain_head: if p.is_staff() { health.chain_head.clone() } else { None },
    }
}

fn you(s: &Session, viewer: &Viewer) -> YouDto {
    let def = s.def();
    match viewer {
        Viewer::Moderator => YouDto {
            role: Role::Moderator,
            name: def.main_venue().name.clone(),
            venue: Some(def.main_venue().id.0.clone()),
            delegate: None,
            unit: None,
        },
        Viewer::Auditor => YouDto { role: Role::Auditor, name: "auditor".into(), venue: None, delegate: None, unit: None },
        Viewer::Screen => YouDto { role: Role::Screen, name: "screen".into(), venue: None, delegate: None, unit: None },
        Viewer::Office => YouDto { role: Role::Office, name: "office".into(), venue: None, delegate: None, unit: None },
        Viewer::Unit(u) => YouDto {
            role: Role::Unit,
            name: def.units.iter().find(|x| &x.id == u).map(|x| x.name.clone()).unwrap_or_default(),
            venue: None,
            delegate: None,
            unit: Some(u.0.clone()),
        },
        Viewer::VenueOperator(v) => YouDto {
            role: Role::VenueOperator,
            name: def.venue(v).map(|x| x.name.clone()).unwrap_or_default(),
            venue: Some(v.0.clone()),
            delegate: None,
            unit: None,
        },
        Viewer::Delegate(id) => {
            let dl = s.delegate(id);
            YouDto {
                role: Role::Delegate,
                name: dl.map(|x| x.name.clone()).unwrap_or_default(),
                venue: dl.map(|x| x.venue.0.clone()),
                delegate: Some(id.0.clone()),
                unit: None,
            }
        }
    }
}

/// Everything `viewer` may see, as of the session's current sequence number
/// in incarnation `epoch`.
pub fn snapshot(s: &Session, epoch: crate::Epoch, viewer: &Viewer, health: &Health, now: d::Millis) -> ServerMessage {
    let p = Perspective::for_snapshot(viewer);
    let def = s.def();
    let session = def.id.as_str();
    let delegates = s.delegates().filter(|x| p.sees_roster(&x.venue) || p == Perspective::Delegate(x.id.clone()));
    let checked_in =
        s.checked_in().keys().filter(|id| s.delegate(id).is_some_and(|x| p.sees_check_in(id, &x.venue))).map(|id| id.0.clone()).collect();
    let check_in_requests = s
        .check_in_requests()
        .iter()
        .filter_map(|(id, at)| s.delegate(id).map(|x| (x, at)))
        .filter(|(x, _)| p.sees_check_in(&x.id, &x.venue))
        .map(|(x, at)| CheckInRequestDto { delegate: x.id.0.clone(), venue: x.venue.0.clone(), at: ms(*at) })
        .collect();
    let ballots = s
        .evaluations()
        .flat_map(|e| e.ballots.values())
        .filter(|b| p.sees_ballot(&b.delegate))
        .map(|b| ballot(session, s.seal(), b))
        .collect();
    ServerMessage::Snapshot(Box::new(SnapshotDto {
        seq: s.seq(),
        epoch: epoch.to_string(),
        server_time: now.0,
        protocol: crate::PROTOCOL_VERSION,
        you: you(s, viewer),
        session: session_info(s),
        delegates: delegates.map(delegate).collect(),
        checked_in,
        check_in_requests,
        questions: s.questions().filter_map(|q| question(q, &p)).collect(),
        queue: s.queue().iter().map(|q| q.0).collect(),
        floor_requests: floor_requests(s.floor_requests()),
        floor: s.floor().map(floor),
        evaluations: s.evaluations().map(|e| evaluation(def, e)).collect(),
        ballots,
        items: s.assignments().items().filter_map(|i| crate::assignment::item(i, &p)).collect(),
        announcements: {
            let all: Vec<_> = s.announcements().iter().collect();
            all[all.len().saturating_sub(SNAPSHOT_ANNOUNCEMENTS)..].iter().map(|a| announcement(a, &p)).collect()
        },
        board: {
            let today = s.today(now);
            crate::assignment::board(def, &s.assignments().dashboard(today), today, &p)
        },
        stats: stats(s, &p, health, now),
    }))
}

/// A public screen's snapshot over the WebSocket (issue 11): the public
/// snapshot with every settled question not on the floor abridged (see
/// `QuestionDto::abridged`). The screen shows counts, statuses and
/// commitments of past questions, never their texts, which were most of a
/// long session's snapshot (about 2.4 KB per answered question, to every one
/// of thousands of screens at every reconnect).
pub fn screen_snapshot(s: &Session, epoch: crate::Epoch, health: &Health, now: d::Millis) -> ServerMessage {
    let mut m = snapshot(s, epoch, &Viewer::Screen, health, now);
    if let ServerMessage::Snapshot(dto) = &mut m {
        let floor = dto.floor.as_ref().map(|f| f.question);
        let settled = |st: QuestionStatus| matches!(st, QuestionStatus::Answered | QuestionStatus::Rejected | QuestionStatus::Merged);
        for q in dto.questions.iter_mut().filter(|q| settled(q.status) && Some(q.id) != floor) {
            abridge(q);
        }
    }
    m
}

fn abridge(q: &mut QuestionDto) {
    q.abridged = true;
    q.text.clear();
    q.original_text = None;
    if let Some(a) = q.answer.as_mut() {
        a.summary.clear();
    }
    for f in &mut q.follow_ups {
        f.text.clear();
        if let Some(a) = f.answer.as_mut() {
            a.summary.clear();
        }
    }
}

pub fn session_info(s: &Session) -> SessionInfoDto {
    let def = s.def();
    let l = def.limits;
    SessionInfoDto {
        id: def.id.clone(),
        title: def.title.clone(),
        theme: def.theme.clone(),
        phase: s.phase().into(),
        venues: def.venues.iter().map(|v| VenueDto { id: v.id.0.clone(), name: v.name.clone(), kind: v.kind.into() }).collect(),
        units: def.units.iter().map(|u| NamedDto { id: u.id.0.clone(), name: u.name.clone() }).collect(),
        topics: def.topics.iter().map(|u| NamedDto { id: u.id.0.clone(), name: u.name.clone() }).collect(),
        limits: LimitsDto::from(&l),
        time_zone: TimeZoneDto { name: def.time_zone.name.clone(), utc_offset_minutes: def.time_zone.utc_offset_minutes },
        check_in: def.check_in.into(),
    }
}

/// Builds the ack result for a domain reply, reading the state after apply.
pub fn ack_result(s: &Session, reply: &d::Reply) -> Option<AckResult> {
    match reply {
        d::Reply::Done => None,
        d::Reply::Question(q) => Some(AckResult::Question(q.0)),
        d::Reply::FollowUp(f) => Some(AckResult::FollowUp(f.0)),
        d::Reply::Evaluation(e) => Some(AckResult::Evaluation(e.0)),
        d::Reply::Closed(e) => s.evaluation(*e).map(|ev| AckResult::Closed(Box::new(evaluation(s.def(), ev)))),
        d::Reply::Ballot { evaluation, unit, delegate } => s
            .evaluation(*evaluation)
            .and_then(|e| e.ballots.get(&(delegate.clone(), unit.clone())))
            .map(|b| AckResult::Receipt(receipt(&s.def().id, s.seal(), b))),
        d::Reply::Item(i) => Some(AckResult::Item(i.0)),
        d::Reply::Drafted { first, count } => Some(AckResult::Drafted { first: first.0, count: *count }),
        d::Reply::Rated { item, delegate } => crate::assignment::item_receipt(s, *item, delegate).map(AckResult::ItemReceipt),
        d::Reply::Announcement(a) => Some(AckResult::Announcement(a.0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(total: u32) -> CountsDto {
        CountsDto { satisfied: total, total, satisfaction_rate_bp: Some(10_000), ..CountsDto::default() }
    }

    fn hidden_totals(cells: &[CountsDto]) -> Vec<(u32, bool)> {
        cells.iter().map(|c| (c.total, c.suppressed)).collect()
    }

    /// A lone hidden venue of two voters next to shown ones: the unit's split
    /// minus the shown venues' would be theirs, so the smallest shown venue
    /// is hidden with it (issue 10: found on the big screen's data).
    #[test]
    fn a_lone_small_cell_takes_the_smallest_shown_one_with_it() {
        let mut cells = vec![
            shown(5),
            cell(Some(&d::RatingCounts::default())),
            shown(4),
            CountsDto { total: 2, suppressed: true, ..CountsDto::default() },
        ];
        protect(cells.iter_mut());
        assert_eq!(hidden_totals(&cells), [(5, false), (0, false), (4, true), (2, true)]);
        assert_eq!(cells[2].satisfied, 0, "no split left on the newly hidden cell");
        assert_eq!(cells[2].satisfaction_rate_bp, None);
    }

    #[test]
    fn hidden_cells_of_three_or_more_together_need_nothing_more() {
        let small = |t| CountsDto { total: t, suppressed: true, ..CountsDto::default() };
        let mut cells = vec![shown(7), small(1), small(2)];
        protect(cells.iter_mut());
        assert_eq!(hidden_totals(&cells), [(7, false), (1, true), (2, true)]);
        let mut none = vec![shown(7), shown(3)];
        protect(none.iter_mut());
        assert_eq!(hidden_totals(&none), [(7, false), (3, false)]);
        // Nothing left to hide with it: every cell hidden, nothing to subtract from.
        let mut alone = vec![small(2)];
        protect(alone.iter_mut());
        assert_eq!(hidden_totals(&alone), [(2, true)]);
    }
}

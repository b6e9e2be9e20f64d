//! The check both fuzzers run on one client text frame (`tests/fuzz_client.rs`
//! with proptest, `fuzz/` with cargo-fuzz, which includes this file by path).
//!
//! A frame goes the way the hub takes it: `client::parse`, `into_domain`, then
//! `Session::decide` and `Session::apply` against several states of the
//! golden-test session (`common/`, the demo's ids), once for every role.
//! Invariants: nothing panics; a refused command changes nothing; every
//! event `decide` produced applies, and the state after an accepted command
//! still satisfies the tally invariants (a tally is the recount of the
//! accepted ballots, frozen results are the tally at close). A command that
//! was accepted is also sent a second time, as a client retry would.

#![allow(dead_code)]

use crate::common::{self, Run, Step};
use wz_domain as d;
use wz_domain::{EvaluationStatus, Millis, Session, Tally, Viewer};
use wz_protocol::ErrorCode;
use wz_protocol::client::{self, MAX_ID_LEN, Parsed};
use wz_protocol::render;

/// Later than every event of the scenario, so no command sees time run backwards.
const NOW: u64 = common::T0 + 100_000_000;

/// The states every frame is tried against: a fresh session, check-in open,
/// a question on the floor with follow-ups, an evaluation open with ballots,
/// and the closed session.
pub fn states() -> Vec<(&'static str, Session)> {
    let sc = common::scenario();
    let fresh = Run::new();
    let mut check_in = Run::new();
    check_in.ok("moderator", &Viewer::Moderator, r#"{"id":"m-01","type":"advance_phase","to":"check_in"}"#);
    vec![
        ("fresh", fresh.s),
        ("check_in", check_in.s),
        ("floor", sc.floor.s),
        ("voting", sc.voting.s),
        ("end", sc.end.s),
        ("handling", sc.handling.s),
        ("archived", sc.followup.s),
    ]
}

/// Every role that can hold a credential for `s`: the moderator, the auditor,
/// the screen, the office, each unit, each venue's operator and each
/// delegate on the roster.
pub fn roles(s: &Session) -> Vec<Viewer> {
    let mut out = vec![Viewer::Moderator, Viewer::Auditor, Viewer::Screen, Viewer::Office];
    out.extend(s.def().units.iter().map(|u| Viewer::Unit(u.id.clone())));
    out.extend(s.def().venues.iter().map(|v| Viewer::VenueOperator(v.id.clone())));
    out.extend(s.delegates().map(|x| Viewer::Delegate(x.id.clone())));
    out
}

/// What happened to one frame, for the fuzzers' statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tried {
    pub unparsable: bool,
    pub accepted: u32,
    pub refused: u32,
}

/// Checks one frame against every state and role; panics on a broken invariant.
pub fn check(text: &str, states: &[(&'static str, Session)]) -> Tried {
    let mut tried = Tried::default();
    let msg = match client::parse(text) {
        Err(e) => {
            assert_eq!(e.code, ErrorCode::BadMessage, "a frame that does not parse is a bad_message: {text:?}");
            if let Some(id) = &e.id {
                assert!(!id.is_empty() && id.chars().count() <= MAX_ID_LEN, "only a valid id is echoed: {id:?}");
            }
            tried.unparsable = true;
            return tried;
        }
        Ok(m) => m,
    };
    assert!(!msg.id.is_empty() && msg.id.chars().count() <= MAX_ID_LEN, "parse let through the id {:?}", msg.id);
    // What parses re-encodes to the same message (the TypeScript client relies on the shape).
    let again = client::parse(&serde_json::to_string(&msg).expect("a parsed message encodes")).expect("an encoded message parses");
    assert_eq!(again, msg, "round trip of {text:?}");
    let cmd = match msg.command.into_domain() {
        Err((code, message)) => {
            assert_eq!(code, ErrorCode::Invalid, "into_domain refuses with invalid only ({message})");
            return tried;
        }
        Ok(Parsed::Ping) => return tried,
        Ok(Parsed::Command(c)) => c,
    };
    for (_, s) in states {
        for viewer in roles(s) {
            let mut state = s.clone();
            for attempt in 0..2 {
                match run(&mut state, &viewer, &cmd, attempt) {
                    Ok(()) => tried.accepted += 1,
                    Err(()) => {
                        tried.refused += 1;
                        break;
                    }
                }
            }
        }
    }
    tried
}

/// decide + apply as the hub does it. `Err` when refused (state untouched).
fn run(s: &mut Session, viewer: &Viewer, cmd: &d::Command, attempt: u64) -> Result<(), ()> {
    let before = s.clone();
    let out = match s.decide(viewer, cmd, Millis(NOW + attempt * 1000)) {
        Err(e) => {
            // Every refusal maps to a stable code and a message.
            let _ = ErrorCode::from(&e);
            assert!(!e.to_string().is_empty());
            assert_eq!(*s, before, "a refused {cmd:?} by {viewer:?} changed the state");
            return Err(());
        }
        Ok(out) => out,
    };
    for event in &out.events {
        let prior = s.clone();
        let changes = match s.apply(event) {
            Ok(c) => c,
            Err(err) => {
                assert_eq!(*s, prior, "a failed apply of {event:?} changed the state");
                panic!("{cmd:?} by {viewer:?} was decided into {event:?}, which does not apply: {err}");
            }
        };
        // Every perspective can be rendered and encoded.
        let step = Step { seq: s.seq(), event: event.clone(), changes };
        for p in roles(s) {
            if let Some(m) = common::event_for(s, &step, &p) {
                assert!(!m.encode().is_empty());
            }
        }
    }
    let _ = render::ack_result(s, &out.reply);
    tally_invariants(s);
    board_invariants(s);
    Ok(())
}

/// The board counts what was issued: its totals are a recount of the items.
pub fn board_invariants(s: &Session) {
    let board = s.assignments().dashboard(s.today(Millis(NOW)));
    let issued = s.assignments().items().filter(|i| i.merged_into.is_none() && i.status != d::assignment::ItemStatus::Draft).count();
    assert_eq!(board.overall.issued as usize, issued, "the board's issued count is not a recount");
    assert_eq!(board.by_unit.values().map(|c| c.issued).sum::<u32>(), board.overall.issued, "units do not add up");
}

/// A tally is the recount of the evaluation's accepted ballots; at most one
/// evaluation is open; a closed one has results equal to its tally.
pub fn tally_invariants(s: &Session) {
    assert!(s.evaluations().filter(|e| e.status == EvaluationStatus::Open).count() <= 1, "two evaluations open");
    for ev in s.evaluations() {
        let mut recount = Tally::new(&ev.units);
        let mut ids = std::collections::BTreeSet::new();
        for ((delegate, unit), b) in &ev.ballots {
            assert_eq!((&b.delegate, &b.unit, b.evaluation), (delegate, unit, ev.id), "ballot filed under the wrong key");
            assert!(ev.units.contains(unit), "ballot for {unit}, not part of evaluation {}", ev.id);
            assert!(ids.insert((delegate.clone(), b.ballot_id.clone())), "ballot id used twice by {delegate}");
            let who = s.delegate(delegate).unwrap_or_else(|| panic!("ballot from {delegate}, not on the roster"));
            recount.count(unit, &b.venue, who.level, delegate, b.rating);
        }
        assert_eq!(ev.tally, recount, "tally of evaluation {} is not the recount of its ballots", ev.id);
        match (&ev.status, &ev.results) {
            (EvaluationStatus::Open, None) => {}
            (EvaluationStatus::Closed, Some(r)) => assert_eq!(r.tally, ev.tally, "results of {} differ from its tally", ev.id),
            (status, r) => panic!("evaluation {} is {status:?} with results {r:?}", ev.id),
        }
    }
}

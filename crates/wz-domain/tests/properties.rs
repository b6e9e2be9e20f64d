//! Property tests: random sequences of up to 200 commands from random actors
//! (moderator, operators of every venue and of an unknown one, delegates
//! including an unknown one, screen, auditor), with arguments drawn from small
//! id pools that include unknown ids, repeated and padded ballot ids, re-sent
//! ballots and evaluation closes at random times. Every command goes through
//! decide + apply; after each step the tests check that
//! - `decide` is deterministic and a refused command leaves the state
//!   untouched (`==`); every decided event applies;
//! - only an idempotent ballot retry is accepted without events, and it
//!   changes nothing and names the accepted ballot id and rating;
//! - each tally equals a recount of the accepted `BallotCast` events, overall,
//!   per venue and per level, and the breakdowns sum to the total;
//! - no (evaluation, unit, delegate) ever has two accepted ballots, and each
//!   ballot's receipt `seq` is the number of its event;
//! - no unit has more ballots than checked-in delegates, nor (once closed)
//!   more than the eligible count frozen at close, which later check-ins do
//!   not change;
//! - question ids are 1..=n without gaps;
//! - only the caster and the auditor see an individual ballot;
//!
//! and at the end that `Session::replay` of the accepted events rebuilds an
//! equal state whose `seq()` is the number of events. A deterministic guard
//! test checks that the generator really reaches voting, closes, the floor
//! and retries, so the properties do not hold vacuously.

mod common;

use common::ops::*;
use common::*;
use proptest::prelude::*;
use std::collections::BTreeMap;
use wz_domain::*;

// ---- the model: what the accepted events say ------------------------------

#[derive(Default)]
struct Model {
    events: Vec<Event>,
    /// Accepted ballots, recounted from the events.
    ballots: BTreeMap<(EvaluationId, UnitId, DelegateId), Rating>,
    /// Number of checked-in delegates when each evaluation closed.
    present_at_close: BTreeMap<EvaluationId, u32>,
    /// Idempotent ballot retries answered without events.
    retries: usize,
}

fn counts<'a>(ratings: impl Iterator<Item = &'a Rating>) -> RatingCounts {
    let mut c = RatingCounts::default();
    for r in ratings {
        c.add(*r);
    }
    c
}

fn sum(cs: impl Iterator<Item = RatingCounts>) -> RatingCounts {
    cs.fold(RatingCounts::default(), |mut a, c| {
        a.satisfied += c.satisfied;
        a.basically_satisfied += c.basically_satisfied;
        a.dissatisfied += c.dissatisfied;
        a
    })
}

fn all_viewers() -> Vec<Viewer> {
    let mut v = vec![Viewer::Moderator, Viewer::Auditor, Viewer::Screen];
    v.extend(VENUE_POOL.iter().map(|x| Viewer::VenueOperator(vid(x))));
    v.extend(DELEGATE_POOL.iter().map(|x| Viewer::Delegate(did(x))));
    v
}

/// Runs one step; returns an error message if an invariant broke.
fn step(s: &mut Session, m: &mut Model, actor: &Viewer, cmd: &Command, now: u64) -> Result<(), TestCaseError> {
    let before = s.clone();
    let decided = s.decide(actor, cmd, Millis(now));
    prop_assert_eq!(&decided, &s.decide(actor, cmd, Millis(now)), "decide is deterministic");
    prop_assert_eq!(&*s, &before, "decide does not mutate");
    let out = match decided {
        Err(_) => return Ok(()),
        Ok(out) => out,
    };
    if out.events.is_empty() && matches!(cmd, Command::CloseEvaluation { .. }) {
        // Closing a closed evaluation is idempotent.
        prop_assert!(matches!(out.reply, Reply::Closed(_)), "a repeated close replies with the results");
        prop_assert_eq!(&*s, &before, "a repeated close changes nothing");
        return Ok(());
    }
    if out.events.is_empty() {
        // Otherwise only an idempotent ballot retry produces nothing.
        prop_assert!(matches!(cmd, Command::CastBallot { .. }), "{:?} accepted without events", cmd);
        prop_assert!(matches!(out.reply, Reply::Ballot { .. }), "a retry replies with the ballot");
        prop_assert_eq!(&*s, &before, "a retry changes nothing");
        if let (Command::CastBallot { ballot_id, evaluation, unit, rating }, Viewer::Delegate(me)) = (cmd, actor) {
            let b = &s.evaluation(*evaluation).expect("retried evaluation exists").ballots[&(me.clone(), unit.clone())];
            prop_assert_eq!(b.ballot_id.as_str(), ballot_id.as_str(), "a retry carries the accepted ballot id");
            prop_assert_eq!(b.rating, *rating, "a retry carries the accepted rating");
        }
        m.retries += 1;
    }
    for e in &out.events {
        let changes = s.apply(e).map_err(|err| TestCaseError::fail(format!("decided {e:?} failed to apply: {err}")))?;
        match e {
            Event::BallotCast { evaluation, unit, delegate, rating, .. } => {
                let key = (*evaluation, unit.clone(), delegate.clone());
                prop_assert!(m.ballots.insert(key, *rating).is_none(), "two accepted ballots for {:?}", e);
                let b = &s.evaluation(*evaluation).unwrap().ballots[&(delegate.clone(), unit.clone())];
                prop_assert_eq!(b.seq, m.events.len() as u64 + 1, "the receipt names the ballot's event");
                for v in all_viewers() {
                    let sees = Perspective::of(&v, &changes).sees_ballot(delegate);
                    let may = v == Viewer::Delegate(delegate.clone());
                    prop_assert_eq!(sees, may, "{:?} and the ballot of {}", v, delegate);
                }
            }
            Event::EvaluationClosed { evaluation, .. } => {
                m.present_at_close.insert(*evaluation, s.checked_in().len() as u32);
            }
            _ => {}
        }
        m.events.push(e.clone());
    }
    if let Reply::Ballot { evaluation, unit, delegate } = &out.reply {
        let ev = s.evaluation(*evaluation).expect("replied evaluation exists");
        prop_assert!(ev.ballots.contains_key(&(delegate.clone(), unit.clone())), "the receipt's ballot is in the state");
    }
    Ok(())
}

fn check_invariants(s: &Session, m: &Model) -> Result<(), TestCaseError> {
    prop_assert_eq!(s.seq(), m.events.len() as u64);

    let ids: Vec<u32> = s.questions().map(|q| q.id.0).collect();
    prop_assert_eq!(ids.clone(), (1..=ids.len() as u32).collect::<Vec<_>>(), "question ids 1..=n");

    prop_assert!(s.evaluations().filter(|e| e.status == EvaluationStatus::Open).count() <= 1);
    let present = s.checked_in().len() as u32;

    for ev in s.evaluations() {
        let in_model = m.ballots.keys().filter(|(e, _, _)| *e == ev.id).count();
        prop_assert_eq!(ev.ballots.len(), in_model, "ballots of evaluation {}", ev.id);
        for ((e, u, _), _) in m.ballots.iter().filter(|((e, _, _), _)| *e == ev.id) {
            prop_assert!(ev.tally.by_unit.contains_key(u), "ballot for {u} in {e} is counted");
        }
        for (unit, ur) in &ev.tally.by_unit {
            let recount = counts(m.ballots.iter().filter(|((e, u, _), _)| *e == ev.id && u == unit).map(|(_, r)| r));
            prop_assert_eq!(ur.total, recount, "tally of {} in evaluation {}", unit, ev.id);
            prop_assert_eq!(sum(ur.by_venue.values().copied()), ur.total, "by-venue sum of {}", unit);
            prop_assert_eq!(sum(ur.by_level.iter().copied()), ur.total, "by-level sum of {}", unit);
            for (venue, c) in &ur.by_venue {
                let recount = counts(
                    m.ballots
                        .iter()
                        .filter(|((e, u, d), _)| *e == ev.id && u == unit && s.delegate(d).is_some_and(|d| &d.venue == venue))
                        .map(|(_, r)| r),
                );
                prop_assert_eq!(*c, recount, "tally of {} at {}", unit, venue);
            }
            for l in DelegateLevel::ALL {
                let recount = counts(
                    m.ballots
                        .iter()
                        .filter(|((e, u, d), _)| *e == ev.id && u == unit && s.delegate(d).is_some_and(|d| d.level == l))
                        .map(|(_, r)| r),
                );
                prop_assert_eq!(ur.by_level[l.index()], recount, "tally of {} for {:?}", unit, l);
            }
            prop_assert!(ur.total.total() <= present, "{} ballots for {} but {} present", ur.total.total(), unit, present);
        }
        match (&ev.status, &ev.results) {
            (EvaluationStatus::Open, None) => {}
            (EvaluationStatus::Closed, Some(r)) => {
                prop_assert_eq!(&r.tally, &ev.tally, "nothing is counted after the close");
                let frozen = m.present_at_close[&ev.id];
                prop_assert_eq!(r.turnout.eligible, frozen, "eligible is frozen at close");
                prop_assert_eq!(r.eligible_by_level.iter().sum::<u32>(), frozen);
                prop_assert_eq!(&s.turnout(ev), &r.turnout);
                prop_assert!(r.turnout.voted <= r.turnout.eligible);
                for ur in r.tally.by_unit.values() {
                    prop_assert!(ur.total.total() <= r.turnout.eligible);
                }
            }
            (status, results) => {
                prop_assert!(false, "status {:?} with results {:?}", status, results)
            }
        }
    }
    Ok(())
}

fn run(ops: &[(Actor, Op)]) -> Result<Model, TestCaseError> {
    let mut s = session();
    let mut m = Model::default();
    for (i, (actor, op)) in ops.iter().enumerate() {
        let actor = actor.resolve(&s, op);
        let cmd = command(&s, &actor, op);
        step(&mut s, &mut m, &actor, &cmd, 1_700_000_000_000 + i as u64 * 1000)?;
        check_invariants(&s, &m)?;
    }
    let replayed = Session::replay(def(), &m.events).map_err(|e| TestCaseError::fail(format!("replay failed: {e}")))?;
    prop_assert_eq!(replayed.seq(), m.events.len() as u64);
    prop_assert!(replayed == s, "replay rebuilds the live state");
    Ok(m)
}

proptest! {
    #[test]
    fn random_sessions_keep_tallies_honest_and_replay_exactly(
        ops in steps(0..=200)
    ) {
        run(&ops)?;
    }
}

/// Guards the generator: random runs must regularly reach voting, retries,
/// closes and questions, or the properties above would hold vacuously.
#[test]
fn random_sessions_reach_the_interesting_states() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, TestRng, TestRunner};
    let mut runner = TestRunner::new_with_rng(Config::default(), TestRng::deterministic_rng(Default::default()));
    let strategy = steps(200..=200);
    let (mut with_ballots, mut with_closes, mut with_questions, mut with_floor, mut with_retries) = (0, 0, 0, 0, 0);
    const RUNS: usize = 64;
    for _ in 0..RUNS {
        let ops = strategy.new_tree(&mut runner).unwrap().current();
        let m = run(&ops).unwrap();
        let has = |k: EventKind| m.events.iter().any(|e| e.kind() == k);
        with_ballots += usize::from(m.ballots.len() >= 3);
        with_closes += usize::from(has(EventKind::EvaluationClosed));
        with_questions += usize::from(has(EventKind::QuestionApproved));
        with_floor += usize::from(has(EventKind::FloorEnded));
        with_retries += usize::from(m.retries > 0);
    }
    let report = format!(
        "of {RUNS} runs: {with_ballots} with 3+ ballots, {with_closes} with a close, \
         {with_questions} with an approval, {with_floor} with a floor item, {with_retries} with a ballot retry"
    );
    assert!(with_ballots >= RUNS / 5, "{report}");
    assert!(with_closes >= RUNS / 4, "{report}");
    assert!(with_questions >= RUNS / 2, "{report}");
    assert!(with_floor >= RUNS / 10, "{report}");
    assert!(with_retries >= RUNS / 10, "{report}");
    eprintln!("{report}");
}

//! Property test: `apply` is atomic. For any state reachable by random command
//! sequences (the generators of `properties.rs`) and ANY event — including
//! events `decide` would never produce: unknown or out-of-order ids, the wrong
//! phase, a second check-in, a duplicate ballot, a second close, an earlier
//! accepted event applied again — `apply` either succeeds or leaves the state
//! exactly as it was (`==`, including its sequence number).

mod common;

use common::ops::*;
use common::*;
use proptest::prelude::*;
use std::collections::BTreeSet;
use wz_domain::*;

/// An arbitrary event, with its ids drawn from pools wider than the state.
#[derive(Clone, Debug)]
enum Probe {
    /// Applies an earlier accepted event again (picked among all of them).
    Again(usize),
    /// Applies the event decide would produce for one more random command,
    /// twice: the second application is a duplicate.
    Twice(Actor, Op),
    Any(Event),
}

fn ms() -> impl Strategy<Value = Millis> {
    (0u64..2_000_000_000_000).prop_map(Millis)
}

fn pick<T: Clone + std::fmt::Debug + 'static>(pool: &'static [T]) -> impl Strategy<Value = T> {
    (0..pool.len()).prop_map(move |i| pool[i].clone())
}

fn d() -> impl Strategy<Value = DelegateId> {
    pick(&DELEGATE_POOL).prop_map(did)
}
fn v() -> impl Strategy<Value = VenueId> {
    pick(&VENUE_POOL).prop_map(vid)
}
fn u() -> impl Strategy<Value = UnitId> {
    pick(&UNIT_POOL).prop_map(uid)
}
fn q() -> impl Strategy<Value = QuestionId> {
    (0u32..=8).prop_map(QuestionId)
}
fn e() -> impl Strategy<Value = EvaluationId> {
    (0u32..=4).prop_map(EvaluationId)
}
fn f() -> impl Strategy<Value = FollowUpId> {
    (0u32..=6).prop_map(FollowUpId)
}
fn words() -> impl Strategy<Value = String> {
    prop_oneof![Just("村道".to_owned()), Just(String::new()), Just("问".repeat(600))]
}
fn rating() -> impl Strategy<Value = Rating> {
    pick(&Rating::ALL)
}

fn any_event() -> impl Strategy<Value = Event> {
    let delegate = (d(), v(), 0..5usize).prop_map(|(id, venue, l)| Delegate {
        name: format!("代表{}", id.as_str()),
        id,
        level: DelegateLevel::ALL[l],
        venue,
    });
    prop_oneof![
        1 => (pick(&PHASES), ms()).prop_map(|(to, at)| Event::PhaseChanged { to, at }),
        1 => (proptest::collection::vec(delegate, 0..3), ms())
            .prop_map(|(delegates, at)| Event::DelegatesImported { delegates, at }),
        4 => (d(), any::<bool>(), ms())
            .prop_map(|(delegate, by_operator, at)| Event::CheckedIn { delegate, by_operator, at }),
        2 => (d(), ms()).prop_map(|(delegate, at)| Event::CheckInRequested { delegate, at }),
        2 => (d(), proptest::option::of(words()), ms())
            .prop_map(|(delegate, reason, at)| Event::CheckInDeclined { delegate, reason, at }),
        1 => (q(), d(), pick(&TOPIC_POOL), u(), words(), any::<bool>(), ms()).prop_map(
            |(question, asker, topic, unit, text, by_operator, at)| Event::QuestionSubmitted {
                question,
                asker,
                topic: tid(topic),
                unit,
                text,
                by_operator,
                at
            }
        ),
        1 => (q(), ms()).prop_map(|(question, at)| Event::QuestionApproved { question, at }),
        1 => (q(), words(), ms()).prop_map(|(question, reason, at)| Event::QuestionRejected { question, reason, at }),
        2 => (q(), q(), ms()).prop_map(|(question, into, at)| Event::QuestionMerged { question, into, at }),
        1 => (q(), words(), ms()).prop_map(|(question, text, at)| Event::QuestionEdited { question, text, at }),
        1 => (q(), ms()).prop_map(|(question, at)| Event::QuestionQueued { question, at }),
        1 => (proptest::collection::vec(q(), 0..4), ms()).prop_map(|(order, at)| Event::QueueReordered { order, at }),
        1 => (q(), d(), ms()).prop_map(|(question, delegate, at)| Event::QuestionSeconded { question, delegate, at }),
        1 => (q(), v(), ms()).prop_map(|(question, venue, at)| Event::FloorRequested { question, venue, at }),
        2 => (q(), v(), 0u32..4000, ms()).prop_map(|(question, venue, answer_seconds, at)| Event::FloorGranted {
            question,
            venue,
            answer_seconds,
            at
        }),
        1 => (0u32..4000, ms()).prop_map(|(seconds, at)| Event::CountdownStarted { seconds, at }),
        2 => (f(), d(), words(), any::<bool>(), ms()).prop_map(|(follow_up, asker, text, by_operator, at)| {
            Event::FollowUpAdded { follow_up, asker, text, by_operator, at }
        }),
        2 => (proptest::option::of(f()), u(), words(), ms()).prop_map(|(follow_up, unit, summary, at)| {
            Event::AnswerRecorded { follow_up, unit, official: "局长".into(), summary, commitments: vec![], at }
        }),
        2 => ms().prop_map(|at| Event::FloorEnded { at }),
        1 => (e(), proptest::collection::vec(u(), 0..4), ms())
            .prop_map(|(evaluation, units, at)| Event::EvaluationOpened { evaluation, units, at }),
        4 => (e(), u(), d(), pick(&BALLOT_POOL), rating(), ms()).prop_map(
            |(evaluation, unit, delegate, b, rating, at)| Event::BallotCast {
                evaluation,
                unit,
                delegate,
                ballot_id: bid(b),
                rating,
                at
            }
        ),
        2 => (e(), ms()).prop_map(|(evaluation, at)| Event::EvaluationClosed { evaluation, at }),
    ]
}

fn probe() -> impl Strategy<Value = Probe> {
    prop_oneof![
        2 => (0..256usize).prop_map(Probe::Again),
        2 => (actor(), op(4)).prop_map(|(a, o)| Probe::Twice(a, o)),
        6 => any_event().prop_map(Probe::Any),
    ]
}

/// Kinds of probe events that were refused, and how many probes applied.
#[derive(Default)]
struct Seen {
    refused: BTreeSet<String>,
    applied: usize,
}

/// Applies `event` to a copy of `s`; on failure the copy must equal `s`.
fn apply_or_unchanged(s: &Session, event: &Event, seen: &mut Seen) -> Result<Option<Session>, TestCaseError> {
    let mut t = s.clone();
    match t.apply(event) {
        Ok(_) => {
            seen.applied += 1;
            Ok(Some(t))
        }
        Err(err) => {
            prop_assert!(t == *s, "refused {:?} ({}) but changed the state", event, err);
            seen.refused.insert(format!("{:?}", event.kind()));
            Ok(None)
        }
    }
}

fn run(steps: &[(Actor, Op, Probe)]) -> Result<Seen, TestCaseError> {
    let mut seen = Seen::default();
    let mut s = session();
    let mut accepted: Vec<Event> = Vec::new();
    for (i, (actor, op, probe)) in steps.iter().enumerate() {
        let now = Millis(1_700_000_000_000 + i as u64 * 1000);
        // Advance the reachable state by one decided command.
        let viewer = actor.resolve(&s, op);
        if let Ok(out) = s.decide(&viewer, &command(&s, &viewer, op), now) {
            for ev in &out.events {
                s.apply(ev).map_err(|err| TestCaseError::fail(format!("decided {ev:?} failed: {err}")))?;
                accepted.push(ev.clone());
            }
        }
        // Probe it with one arbitrary event, on a copy.
        match probe {
            Probe::Again(k) if !accepted.is_empty() => {
                apply_or_unchanged(&s, &accepted[k % accepted.len()], &mut seen)?;
            }
            Probe::Again(_) => {}
            Probe::Twice(a, o) => {
                let viewer = a.resolve(&s, o);
                if let Ok(out) = s.decide(&viewer, &command(&s, &viewer, o), now) {
                    let mut t = s.clone();
                    for ev in &out.events {
                        let Some(next) = apply_or_unchanged(&t, ev, &mut seen)? else { break };
                        apply_or_unchanged(&next, ev, &mut seen)?;
                        t = next;
                    }
                }
            }
            Probe::Any(ev) => {
                apply_or_unchanged(&s, ev, &mut seen)?;
            }
        }
    }
    Ok(seen)
}

fn steps(len: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = Vec<(Actor, Op, Probe)>> {
    proptest::collection::vec((actor(), op(5), probe()), len)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
    #[test]
    fn apply_either_succeeds_or_changes_nothing(
        steps in steps(0..=150)
    ) {
        run(&steps)?;
    }
}

/// Guards the generator: the probes must be refused for many different
/// reasons (and sometimes apply), or the property would hold vacuously.
#[test]
fn probes_are_refused_for_many_kinds_of_event() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, TestRng, TestRunner};
    let mut runner = TestRunner::new_with_rng(Config::default(), TestRng::deterministic_rng(Default::default()));
    let strategy = steps(150..=150);
    let mut all = Seen::default();
    for _ in 0..16 {
        let seen = run(&strategy.new_tree(&mut runner).unwrap().current()).unwrap();
        all.refused.extend(seen.refused);
        all.applied += seen.applied;
    }
    eprintln!("refused kinds: {:?}; applied probes: {}", all.refused, all.applied);
    for kind in ["CheckedIn", "BallotCast", "EvaluationClosed", "FloorEnded", "QuestionMerged", "FollowUpAdded"] {
        assert!(all.refused.contains(kind), "no {kind} was refused: {:?}", all.refused);
    }
    assert!(all.refused.len() >= 15, "{:?}", all.refused);
    assert!(all.applied > 100, "{}", all.applied);
}

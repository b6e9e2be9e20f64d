//! Direct assertions of the visibility rules on the golden session: what the
//! screen, operators, delegates, the moderator and the auditor may see of
//! identities, pending questions, ballots, live counts and results.
//!
//! These back up the snapshots of `golden_server.rs`, so a careless snapshot
//! update cannot hide a leak.

mod common;

use common::*;
use serde_json::json;
use wz_domain as d;
use wz_domain::{Event, EventKind, Millis, Perspective, Viewer};
use wz_protocol::render;
use wz_protocol::server::{ChangeDto, ServerMessage};

// ---------------------------------------------------------------------------
// Visibility
// ---------------------------------------------------------------------------

fn assert_no_identity(what: &str, text: &str) {
    for id in ALL_DELEGATES {
        assert!(!text.contains(id), "{what} names delegate {id}: {text}");
    }
    for name in DELEGATE_NAMES {
        assert!(!text.contains(name), "{what} names delegate {name}: {text}");
    }
}

/// Takes every floor's `speakers` out of `v` (the one place the public sees
/// names, issue 10), checking each is a name and a level and nothing else.
fn without_speakers(v: &mut serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            if let Some(serde_json::Value::Array(ss)) = m.remove("speakers") {
                for s in ss {
                    let keys: Vec<_> = s.as_object().unwrap().keys().cloned().collect();
                    assert_eq!(keys, ["level", "name"], "a speaker is a name and a level: {s}");
                    out.push(s["name"].as_str().unwrap().to_owned());
                }
            }
            m.values_mut().for_each(|x| without_speakers(x, out));
        }
        serde_json::Value::Array(xs) => xs.iter_mut().for_each(|x| without_speakers(x, out)),
        _ => {}
    }
}

/// No delegate id anywhere; names only as the floor's speakers. Returns those.
fn assert_public(what: &str, text: &str) -> Vec<String> {
    let mut v: serde_json::Value = serde_json::from_str(text).unwrap();
    let mut speakers = Vec::new();
    without_speakers(&mut v, &mut speakers);
    assert_no_identity(what, &v.to_string());
    speakers
}

#[test]
fn the_floor_names_its_speakers_to_everyone_and_nothing_else() {
    let sc = scenario();
    // q1 (baiyu: d002, merged with d003's q3) is on the floor, granted to baiyu;
    // d004 of qiaotou only seconded it.
    for v in [Viewer::Screen, moderator(), operator("qiaotou"), del("d005")] {
        let snap = json_of(&sc.floor.snapshot(&v));
        assert_eq!(
            snap["floor"]["speakers"],
            json!([{"name": "钱秀英", "level": "township"}, {"name": "孙立新", "level": "street_deliberation"}]),
            "{v:?}"
        );
    }
    let speakers = assert_public("screen snapshot", &sc.floor.snapshot(&Viewer::Screen).encode());
    assert_eq!(speakers, ["钱秀英", "孙立新"]);
    // Once the floor is empty nobody is named.
    assert!(assert_public("screen snapshot", &sc.end.snapshot(&Viewer::Screen).encode()).is_empty());
}

#[test]
fn screen_never_sees_identities_or_ballots() {
    let sc = scenario();
    let r = &sc.end;
    let mut received = 0;
    for step in &r.steps {
        let Some(m) = event_for(&r.s, step, &Viewer::Screen) else { continue };
        received += 1;
        let text = m.encode();
        assert_public("screen event", &text);
        for word in ["askers", "asker", "ballot", "receipt", "seconded_by_me", r#""entity":"check_in""#, r#""entity":"roster""#] {
            assert!(!text.contains(word), "screen event contains {word:?}: {text}");
        }
    }
    assert!(received > 20, "the screen follows the session ({received} events)");

    for run in [&sc.floor, &sc.voting, &sc.end] {
        let snap = run.snapshot(&Viewer::Screen);
        let text = snap.encode();
        assert_public("screen snapshot", &text);
        let v = json_of(&snap);
        for key in ["askers", "asker", "ballot", "receipt", "seconded_by_me", "delegate", "live", "connections"] {
            assert!(!has_key(&v, key), "screen snapshot has key {key:?}");
        }
        // The collections exist but are empty for the screen.
        assert_eq!(v["delegates"], json!([]));
        assert_eq!(v["checked_in"], json!([]));
        assert_eq!(v["ballots"], json!([]));
        let st = json_of(&ServerMessage::Stats(render::stats(&run.s, &Perspective::Public, &connections(), Millis(1))));
        assert_no_identity("public stats", &st.to_string());
        assert!(!has_key(&st, "live") && !has_key(&st, "connections"));
    }
}

fn question_ids(m: &ServerMessage) -> Vec<u32> {
    snapshot_dto(m.clone()).questions.iter().map(|q| q.id).collect()
}

#[test]
fn pending_and_rejected_questions_stay_with_their_venue() {
    let sc = scenario();
    let r = &sc.floor;
    // q1 approved (baiyu, merged with q3), q2 queued (qiaotou), q3 merged while pending (baiyu),
    // q4 rejected (qiaotou), q5 pending (main).
    assert_eq!(question_ids(&r.snapshot(&moderator())), [1, 2, 3, 4, 5]);
    assert_eq!(question_ids(&r.snapshot(&Viewer::Auditor)), [1, 2, 3, 4, 5]);
    assert_eq!(question_ids(&r.snapshot(&Viewer::Screen)), [1, 2]);
    assert_eq!(question_ids(&r.snapshot(&operator("main"))), [1, 2, 5]);
    assert_eq!(question_ids(&r.snapshot(&operator("baiyu"))), [1, 2, 3]);
    assert_eq!(question_ids(&r.snapshot(&operator("qiaotou"))), [1, 2, 4]);
    assert_eq!(question_ids(&r.snapshot(&del("d001"))), [1, 2, 5]);
    assert_eq!(question_ids(&r.snapshot(&del("d002"))), [1, 2]);
    assert_eq!(question_ids(&r.snapshot(&del("d003"))), [1, 2, 3]);
    assert_eq!(question_ids(&r.snapshot(&del("d005"))), [1, 2, 4]);

    // The submission of q5 reaches only the moderator, the auditor, its venue and its asker.
    let submitted = r.steps.iter().find(|s| matches!(&s.event, Event::QuestionSubmitted { question, .. } if question.0 == 5)).unwrap();
    for (who, v) in viewers().into_iter().chain([("operator:main", operator("main")), ("delegate:d001", del("d001"))]) {
        let got = event_for(&r.s, submitted, &v).is_some();
        let want = matches!(who, "moderator" | "auditor" | "operator:main" | "delegate:d001");
        assert_eq!(got, want, "{who} and the pending question 5");
    }
    // The rejection reason of q4 too.
    let rejected = r.steps.iter().find(|s| s.event.kind() == EventKind::QuestionRejected).unwrap();
    assert!(event_for(&r.s, rejected, &Viewer::Screen).is_none());
    assert!(event_for(&r.s, rejected, &operator("baiyu")).is_none());
    assert!(event_for(&r.s, rejected, &operator("qiaotou")).is_some());

    // The public sees who asked a question nowhere, but sees the venue.
    let screen = snapshot_dto(r.snapshot(&Viewer::Screen));
    assert!(screen.questions.iter().all(|q| q.askers.is_none() && q.seconded_by_me.is_none()));
    assert_eq!(screen.questions[0].venues, ["baiyu"]);
    assert!(screen.questions[0].follow_ups.iter().all(|f| f.asker.is_none()));
}

#[test]
fn ballots_reach_only_their_caster() {
    let sc = scenario();
    let r = &sc.end;
    let mut cast = 0;
    for step in &r.steps {
        // The moderator never receives a ballot change, whatever the event.
        if let Some(ServerMessage::Event(e)) = event_for(&r.s, step, &moderator()) {
            assert!(!e.changes.iter().any(|c| matches!(c, ChangeDto::Ballot { .. })), "seq {}", step.seq);
        }
        let Event::BallotCast { delegate: caster, .. } = &step.event else { continue };
        cast += 1;
        for (who, v) in viewers().into_iter().chain(ALL_DELEGATES.iter().map(|id| ("delegate", del(id)))) {
            let got = event_for(&r.s, step, &v);
            let mine = v == Viewer::Delegate(caster.clone());
            match (&v, got) {
                (_, Some(ServerMessage::Event(e))) if mine => {
                    assert!(matches!(&e.changes[..], [ChangeDto::Ballot { ballot }] if ballot.delegate == caster.0));
                }
                (_, None) if !mine => {}
                (_, got) => panic!("{who} ({v:?}) got {got:?} for the ballot of {caster}"),
            }
        }
    }
    assert_eq!(cast, 4);
    // In snapshots: a delegate has their own ballots; nobody else has any, the auditor included.
    let mine = snapshot_dto(r.snapshot(&del("d002"))).ballots;
    assert_eq!(mine.len(), 2);
    assert!(mine.iter().all(|b| b.delegate == "d002"));
    assert!(snapshot_dto(r.snapshot(&del("d003"))).ballots.is_empty());
    for v in [moderator(), Viewer::Auditor, Viewer::Office, operator("baiyu"), Viewer::Screen] {
        let v = json_of(&r.snapshot(&v));
        assert_eq!(v["ballots"], json!([]));
        assert!(!has_key(&v, "receipt") && !has_key(&v, "ballot_id"));
    }
}

#[test]
fn no_choice_before_the_reveal_for_anyone_and_results_only_after_close() {
    let sc = scenario();
    for (who, v) in viewers() {
        let p = Perspective::for_snapshot(&v);
        let st = render::stats(&sc.voting.s, &p, &connections(), Millis(1));
        let ev = st.evaluation.expect("an evaluation is open");
        assert_eq!(st.venues.iter().any(|x| x.connections.is_some()), matches!(v, Viewer::Moderator | Viewer::Auditor));
        // Everyone sees how many ballots came in, never which choice.
        assert_eq!(ev.ballots_by_unit.iter().map(|u| u.ballots).collect::<Vec<_>>(), [3, 1]);
        assert_eq!((ev.turnout.voted, ev.turnout.eligible), (3, 5));
        let text = serde_json::to_string(&ServerMessage::Stats(render::stats(&sc.voting.s, &p, &connections(), Millis(1)))).unwrap();
        assert!(!text.contains("satisfied"), "{who} learns choices before the reveal: {text}");
    }
    // While open, no snapshot of any viewer carries results.
    for (_, v) in viewers() {
        let s = snapshot_dto(sc.voting.snapshot(&v));
        assert!(s.evaluations.iter().all(|e| e.results.is_none()));
    }
    // The event that opens it carries none either; the one that closes it reveals them to all.
    let opened = sc.end.steps.iter().find(|s| s.event.kind() == EventKind::EvaluationOpened).unwrap();
    let closed = sc.end.steps.iter().find(|s| s.event.kind() == EventKind::EvaluationClosed).unwrap();
    for (who, v) in viewers() {
        let o = json_of(&event_for(&sc.end.s, opened, &v).unwrap());
        assert!(!has_key(&o, "results"), "{who}");
        let c = event_for(&sc.end.s, closed, &v).unwrap();
        let ServerMessage::Event(e) = c else { unreachable!() };
        let [ChangeDto::Evaluation { evaluation }] = &e.changes[..] else { panic!("{:?}", e.changes) };
        let results = evaluation.results.as_ref().expect("revealed at close");
        assert_eq!((results.turnout.voted, results.turnout.eligible), (3, 5));
        let minzheng = &results.units[0];
        assert_eq!(minzheng.unit, "minzheng");
        assert_eq!((minzheng.counts.satisfied, minzheng.counts.basically_satisfied, minzheng.counts.dissatisfied), (1, 1, 1));
        assert_eq!(minzheng.counts.satisfaction_rate_bp, Some(6667));
    }
    let screen = snapshot_dto(sc.end.snapshot(&Viewer::Screen));
    assert!(screen.evaluations[0].results.is_some());
}

#[test]
fn perspectives_of_operators_and_delegates() {
    let sc = scenario();
    let r = &sc.floor;
    // Operators see their own venue's roster and check-ins only; delegates only themselves.
    let op = snapshot_dto(r.snapshot(&operator("baiyu")));
    assert_eq!(op.delegates.iter().map(|x| x.id.as_str()).collect::<Vec<_>>(), ["d002", "d003"]);
    assert_eq!(op.checked_in, ["d002", "d003"]);
    let me = snapshot_dto(r.snapshot(&del("d004")));
    assert_eq!(me.delegates.iter().map(|x| x.id.as_str()).collect::<Vec<_>>(), ["d004"]);
    assert_eq!(me.checked_in, ["d004"]);
    // A seconder knows they seconded, and no more about the askers.
    let q1 = &me.questions[0];
    // (d004 also asked a follow-up on it: that does not reveal the askers either.)
    assert_eq!((q1.id, q1.seconds, q1.seconded_by_me, q1.askers.is_none()), (1, 1, Some(true), true));
    assert_eq!(snapshot_dto(r.snapshot(&del("d002"))).questions[0].seconded_by_me, Some(false));
    // Staff see every roster entry and check-in (d006 imported, not checked in).
    let m = snapshot_dto(r.snapshot(&moderator()));
    assert_eq!(m.delegates.len(), 6);
    assert_eq!(m.checked_in.len(), 5);
    assert_eq!(m.you.venue.as_deref(), Some("main"));
    // A check-in is seen by staff, the venue and the delegate; presence by everyone.
    let check_in = r.steps.iter().find(|s| s.event.kind() == EventKind::CheckedIn).unwrap();
    let public = event_for(&r.s, check_in, &Viewer::Screen).unwrap();
    let ServerMessage::Event(e) = public else { unreachable!() };
    assert!(matches!(&e.changes[..], [ChangeDto::Presence { .. }]));
}

/// The follow-up (issue 8): the public and the units never learn who asked
/// or who rated; a rating's choice reaches its rater only, the auditor
/// included;
/// an item's counts follow the small-cell rule; drafts are the office's.
#[test]
fn follow_up_ratings_and_askers_stay_secret() {
    let sc = scenario();
    let r = &sc.followup;
    let rated: Vec<&Step> = r.steps.iter().filter(|s| s.event.kind() == EventKind::ItemRated).collect();
    assert_eq!(rated.len(), 3);
    for step in &r.steps {
        for (who, v) in viewers() {
            let Some(m) = event_for(&r.s, step, &v) else { continue };
            let text = m.encode();
            if matches!(v, Viewer::Screen | Viewer::Unit(_)) {
                assert_public(&format!("{who} event {}", step.seq), &text);
            }
            let ServerMessage::Event(e) = m else { unreachable!() };
            for c in &e.changes {
                let ChangeDto::Item { item } = c else { continue };
                let by_me = |x: &wz_protocol::assignment::ItemRatingDto| Viewer::Delegate(d::DelegateId::new(&x.delegate)) == v;
                if let Some(mine) = &item.ratings.mine {
                    assert!(by_me(mine), "{who} got another's rating: {mine:?}");
                }
                if item.ratings.counts.total < 3 {
                    assert!(item.ratings.counts.total == 0 || item.ratings.counts.suppressed, "{who}: {:?}", item.ratings.counts);
                }
                if item.status == wz_protocol::assignment::ItemStatus::Draft {
                    assert!(matches!(v, Viewer::Office | Viewer::Auditor), "{who} saw draft {}", item.id);
                }
            }
        }
    }
    // Snapshots: the screen and the units see the issued items without names;
    // the office sees the askers; d002 sees their own rating and no other.
    // Everyone sees both issued items; only an item's own units see its
    // notes. Item 1 is minzheng's, co-handled by weijian; item 2 weijian's.
    for (v, working) in [(Viewer::Screen, vec![]), (unit("minzheng"), vec![1]), (unit("weijian"), vec![1, 2])] {
        let snap = r.snapshot(&v);
        assert_public("follow-up snapshot", &snap.encode());
        let dto = snapshot_dto(snap);
        assert_eq!(dto.items.iter().map(|i| i.id).collect::<Vec<_>>(), [1, 2], "{v:?}");
        assert_eq!(dto.items.iter().filter(|i| i.notes.is_some()).map(|i| i.id).collect::<Vec<_>>(), working, "{v:?}");
        assert!(dto.items.iter().all(|i| i.askers.is_none() == (v == Viewer::Screen)), "{v:?}");
        if v == Viewer::Screen {
            assert!(dto.items.iter().all(|i| !i.flagged), "the public never sees a flag");
        }
    }
    let office = snapshot_dto(r.snapshot(&Viewer::Office));
    assert_eq!(office.items.len(), 3, "drafts (merged too) are the office's");
    assert!(office.items[0].askers.as_ref().unwrap().iter().all(|a| a.delegate.is_some()));
    assert!(office.items[0].ratings.mine.is_none());
    // Not even the auditor reads who rated what: the record is how counts are checked.
    let auditor = serde_json::to_string(&snapshot_dto(r.snapshot(&Viewer::Auditor)).items).unwrap();
    assert!(!auditor.contains("\"rating\":\""), "{auditor}");
    let d002 = snapshot_dto(r.snapshot(&del("d002")));
    let mine: Vec<(u32, &str)> = d002.items.iter().filter_map(|i| Some((i.id, i.ratings.mine.as_ref()?.delegate.as_str()))).collect();
    assert_eq!(mine, [(1, "d002")], "d002's own rating, on the item they asked, and no other");
}

/// Announcements (issue 10) reach everyone; which venues have seen one
/// only staff and the addressed venue's operator.
#[test]
fn announcements_reach_everyone_and_who_saw_them_only_staff_and_the_venue() {
    let sc = scenario();
    let r = &sc.followup;
    let made = r.steps.iter().filter(|s| s.event.kind() == wz_domain::EventKind::AnnouncementMade).count();
    assert_eq!(made, 2);
    for step in r.steps.iter().filter(|s| matches!(s.event, Event::Announcement(_))) {
        for (who, v) in viewers() {
            let Some(ServerMessage::Event(e)) = event_for(&r.s, step, &v) else { panic!("{who} missed seq {}", step.seq) };
            let [ChangeDto::Announcement { announcement }] = &e.changes[..] else { panic!("{e:?}") };
            let addressed = |venue: &str| announcement.venues.is_empty() || announcement.venues.iter().any(|x| x == venue);
            let may_see = match &v {
                Viewer::Moderator | Viewer::Auditor => true,
                Viewer::VenueOperator(venue) => addressed(&venue.0),
                _ => false,
            };
            assert_eq!(announcement.seen.is_some(), may_see, "{who}: {announcement:?}");
        }
    }
    let screen = snapshot_dto(r.snapshot(&Viewer::Screen));
    assert_eq!(screen.announcements.len(), 2);
    assert!(screen.announcements.iter().all(|a| a.seen.is_none()));
    let baiyu = snapshot_dto(r.snapshot(&operator("baiyu")));
    assert_eq!(baiyu.announcements[1].seen.as_ref().map(Vec::len), Some(1));
    let qiaotou = snapshot_dto(r.snapshot(&operator("qiaotou")));
    assert!(qiaotou.announcements[1].seen.is_none(), "another venue's acknowledgement is not qiaotou's business");
}

/// Issue 10: results and ballots per unit follow the evaluation's own unit
/// order (the ballot's), not the alphabetical order of unit ids, so every
/// page lists the units the same way.
#[test]
fn results_list_units_in_the_ballots_order() {
    let m = moderator();
    let mut r = Run::new();
    r.ok("moderator", &m, r#"{"id":"o-1","type":"advance_phase","to":"check_in"}"#);
    r.ok("moderator", &m, r#"{"id":"o-2","type":"check_in","delegate":"d001"}"#);
    r.ok("moderator", &m, r#"{"id":"o-3","type":"advance_phase","to":"questioning"}"#);
    r.ok("moderator", &m, r#"{"id":"o-4","type":"advance_phase","to":"evaluation"}"#);
    // Not alphabetical on purpose: weijian before minzheng.
    r.ok("moderator", &m, r#"{"id":"o-5","type":"open_evaluation","units":["weijian","minzheng"]}"#);
    let st = render::stats(&r.s, &Perspective::Public, &connections(), Millis(1));
    let order: Vec<String> = st.evaluation.unwrap().ballots_by_unit.into_iter().map(|u| u.unit).collect();
    assert_eq!(order, ["weijian", "minzheng"]);
    r.ok("moderator", &m, r#"{"id":"o-6","type":"close_evaluation","evaluation":1}"#);
    let snap = snapshot_dto(r.snapshot(&Viewer::Screen));
    let units: Vec<&str> = snap.evaluations[0].results.as_ref().unwrap().units.iter().map(|u| u.unit.as_str()).collect();
    assert_eq!(units, ["weijian", "minzheng"]);
}

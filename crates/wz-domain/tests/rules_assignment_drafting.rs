//! Drafting the assignment list from a live session (issue 8): one draft per
//! commitment (with its unit and date), per answered question without a
//! commitment, per approved question never answered on the floor, and per
//! follow-up left open; drafting again adds only what is new.

mod common;

use common::*;
use wz_domain::assignment::*;
use wz_domain::*;

fn grant(s: &mut Session, q: QuestionId, venue: &str) {
    ok(s, &moderator(), Command::GrantFloor { venue: vid(venue), question: q, answer_seconds: None });
}

fn answer(s: &mut Session, follow_up: Option<FollowUpId>, commitments: &[(&str, &str, &str)]) {
    let commitments = commitments
        .iter()
        .map(|(what, unit, due)| CommitmentDraft { what: (*what).into(), unit: uid(unit), due: CalendarDate::parse(due).unwrap() })
        .collect();
    ok(
        s,
        &moderator(),
        Command::RecordAnswer {
            follow_up, unit: uid(UNITS[0]), official: "张局长".into(), summary: "年内完成改造。".into(), commitments
        },
    );
}

fn apply_all(a: &mut Assignments, specs: Vec<DraftSpec>) {
    for spec in specs {
        let events =
            a.decide(&Actor::Office, &AssignmentCommand::Draft(spec), Millis(1), CalendarDate::parse("2026-07-01").unwrap()).unwrap();
        for e in &events {
            a.apply(e).unwrap();
        }
    }
}

#[test]
fn every_source_of_the_session_becomes_one_draft_once() {
    let mut s = questioning();
    // q1 (d04, baiyu): answered with two commitments; a follow-up answered
    // with one more.
    let q1 = approved(&mut s, "d04", "村道什么时候修？");
    grant(&mut s, q1, BAIYU);
    answer(&mut s, None, &[("六月底前修通村道", "transport", "2026-06-30"), ("安装路灯", "health", "2026-09-30")]);
    let f = ok(&mut s, &delegate_viewer("d04"), Command::AddFollowUp { on_behalf_of: None, text: "路灯装几盏？".into() });
    let Reply::FollowUp(f) = f else { panic!("{f:?}") };
    answer(&mut s, Some(f), &[("装二十盏", "transport", "2026-08-31")]);
    ok(&mut s, &moderator(), Command::EndFloor);
    // q2 (d07, xinhua): answered without a commitment.
    let q2 = approved(&mut s, "d07", "学校食堂谁来管？");
    grant(&mut s, q2, XINHUA);
    answer(&mut s, None, &[]);
    ok(&mut s, &moderator(), Command::EndFloor);
    // q3 approved, q4 queued: never reached the floor. q5 rejected, q6 pending.
    let q3 = approved(&mut s, "d05", "卫生院缺医生");
    let q4 = approved(&mut s, "d08", "校车安全");
    ok(&mut s, &moderator(), Command::QueueQuestion { question: q4 });
    let q5 = submit(&mut s, "d09", "无关的问题");
    ok(&mut s, &moderator(), Command::RejectQuestion { question: q5, reason: "与主题无关".into() });
    submit(&mut s, "d06", "还在审核");

    let mut a = Assignments::new(Rules::default(), UNITS.map(uid));
    let drafts = a.drafts_from(&s);
    let sources: Vec<&Source> = drafts.iter().flat_map(|d| &d.sources).collect();
    assert_eq!(
        sources,
        [
            &Source::Commitment { question: q1, follow_up: None, index: 0 },
            &Source::Commitment { question: q1, follow_up: None, index: 1 },
            &Source::Commitment { question: q1, follow_up: Some(f), index: 0 },
            &Source::Answer { question: q2 },
            &Source::Unasked { question: q3 },
            &Source::Unasked { question: q4 },
        ]
    );
    // A commitment's draft carries its unit, its words and its date.
    assert_eq!((drafts[1].lead.clone(), drafts[1].requirement.as_str()), (uid("health"), "安装路灯"));
    assert_eq!(drafts[1].deadline, CalendarDate::parse("2026-09-30"));
    // The askers come with their venues; an unasked question keeps its text.
    assert_eq!(drafts[0].askers, [(did("d04"), vid(BAIYU))]);
    assert_eq!((drafts[4].requirement.as_str(), drafts[4].askers.clone()), ("卫生院缺医生", vec![(did("d05"), vid(BAIYU))]));
    assert_eq!(drafts[4].deadline, None, "the office sets the written reply's date");

    apply_all(&mut a, drafts);
    assert_eq!(a.items().count(), 6);
    assert!(a.drafts_from(&s).is_empty(), "drafting again adds nothing");
    // q3 reaches the floor after all: its own item is not drafted twice,
    // but a commitment made there is a new promise and is drafted.
    grant(&mut s, q3, BAIYU);
    answer(&mut s, None, &[("增派两名医生", "health", "2026-10-31")]);
    let more = a.drafts_from(&s);
    assert_eq!(more.iter().flat_map(|d| &d.sources).collect::<Vec<_>>(), [&Source::Commitment { question: q3, follow_up: None, index: 0 }]);
}

#[test]
fn a_follow_up_left_open_is_drafted_for_its_own_asker() {
    let mut s = questioning();
    let q = approved(&mut s, "d04", "村道");
    grant(&mut s, q, BAIYU);
    answer(&mut s, None, &[]);
    ok(&mut s, &operator(XINHUA), Command::AddFollowUp { on_behalf_of: Some(did("d08")), text: "新华呢？".into() });
    // The session ends with the follow-up unanswered.
    let drafts = Assignments::new(Rules::default(), UNITS.map(uid)).drafts_from(&s);
    let open: Vec<&DraftSpec> = drafts.iter().filter(|d| matches!(d.sources[0], Source::FollowUp { .. })).collect();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].askers, [(did("d08"), vid(XINHUA))]);
    assert_eq!(open[0].requirement, "新华呢？");
}

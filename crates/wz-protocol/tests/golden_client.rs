//! Golden tests of client messages: every command parses from its JSON text,
//! round-trips, and converts to the domain; malformed messages are refused
//! with the right error code (and the id echoed only when it is valid).
//!
//! Part of the golden protocol tests; the shared session lives in `common/`.

use serde_json::{Value, json};
use std::collections::BTreeSet;
use wz_protocol::ErrorCode;
use wz_protocol::assignment::Priority;
use wz_protocol::client::{self, ClientMessage, CommandDto, Parsed};
use wz_protocol::dto::{CommitmentDto, Phase, Rating};

// ---------------------------------------------------------------------------
// Client messages
// ---------------------------------------------------------------------------

fn variant(c: &CommandDto) -> &'static str {
    match c {
        CommandDto::Ping => "ping",
        CommandDto::AdvancePhase { .. } => "advance_phase",
        CommandDto::CheckIn { .. } => "check_in",
        CommandDto::UndoCheckIn { .. } => "undo_check_in",
        CommandDto::RequestCheckIn => "request_check_in",
        CommandDto::DeclineCheckIn { .. } => "decline_check_in",
        CommandDto::SubmitQuestion { .. } => "submit_question",
        CommandDto::ApproveQuestion { .. } => "approve_question",
        CommandDto::RejectQuestion { .. } => "reject_question",
        CommandDto::MergeQuestion { .. } => "merge_question",
        CommandDto::EditQuestion { .. } => "edit_question",
        CommandDto::QueueQuestion { .. } => "queue_question",
        CommandDto::ReorderQueue { .. } => "reorder_queue",
        CommandDto::SecondQuestion { .. } => "second_question",
        CommandDto::RequestFloor { .. } => "request_floor",
        CommandDto::GrantFloor { .. } => "grant_floor",
        CommandDto::StartCountdown { .. } => "start_countdown",
        CommandDto::PauseCountdown => "pause_countdown",
        CommandDto::ResumeCountdown => "resume_countdown",
        CommandDto::ExtendCountdown { .. } => "extend_countdown",
        CommandDto::AddFollowUp { .. } => "add_follow_up",
        CommandDto::RecordAnswer { .. } => "record_answer",
        CommandDto::EndFloor => "end_floor",
        CommandDto::OpenEvaluation { .. } => "open_evaluation",
        CommandDto::CastBallot { .. } => "cast_ballot",
        CommandDto::CloseEvaluation { .. } => "close_evaluation",
        CommandDto::DraftAssignments => "draft_assignments",
        CommandDto::DraftItem { .. } => "draft_item",
        CommandDto::EditDraft { .. } => "edit_draft",
        CommandDto::MergeDrafts { .. } => "merge_drafts",
        CommandDto::IssueItem { .. } => "issue_item",
        CommandDto::StartHandling { .. } => "start_handling",
        CommandDto::ReplyItem { .. } => "reply_item",
        CommandDto::RectifyItem { .. } => "rectify_item",
        CommandDto::AddNote { .. } => "add_note",
        CommandDto::ReturnItem { .. } => "return_item",
        CommandDto::PublishEvidence { .. } => "publish_evidence",
        CommandDto::RequestExtension { .. } => "request_extension",
        CommandDto::DecideExtension { .. } => "decide_extension",
        CommandDto::CloseItem { .. } => "close_item",
        CommandDto::RateItem { .. } => "rate_item",
        CommandDto::Announce { .. } => "announce",
        CommandDto::ClearAnnouncement { .. } => "clear_announcement",
        CommandDto::AnnouncementSeen { .. } => "announcement_seen",
    }
}

fn command_table() -> Vec<(&'static str, CommandDto)> {
    use CommandDto as C;
    let s = |x: &str| x.to_owned();
    vec![
        (r#"{"id":"c-01","type":"ping"}"#, C::Ping),
        (r#"{"id":"c-02","type":"advance_phase","to":"check_in"}"#, C::AdvancePhase { to: Phase::CheckIn }),
        (r#"{"id":"c-03","type":"check_in","delegate":"d002"}"#, C::CheckIn { delegate: s("d002") }),
        (
            r#"{"id":"c-04","type":"submit_question","topic":"policy","unit":"minzheng","text":"何时实现全覆盖？"}"#,
            C::SubmitQuestion { on_behalf_of: None, topic: s("policy"), unit: s("minzheng"), text: s("何时实现全覆盖？") },
        ),
        (
            r#"{"id":"c-05","type":"submit_question","on_behalf_of":"d004","topic":"service","unit":"weijian","text":"签约为何不落地？"}"#,
            C::SubmitQuestion {
                on_behalf_of: Some(s("d004")), topic: s("service"), unit: s("weijian"), text: s("签约为何不落地？")
            },
        ),
        (r#"{"id":"c-06","type":"approve_question","question":1}"#, C::ApproveQuestion { question: 1 }),
        (
            r#"{"id":"c-07","type":"reject_question","question":4,"reason":"与第2号问题重复"}"#,
            C::RejectQuestion { question: 4, reason: s("与第2号问题重复") },
        ),
        (r#"{"id":"c-08","type":"merge_question","question":3,"into":1}"#, C::MergeQuestion { question: 3, into: 1 }),
        (
            r#"{"id":"c-09","type":"edit_question","question":1,"text":"何时能实现全覆盖？"}"#,
            C::EditQuestion { question: 1, text: s("何时能实现全覆盖？") },
        ),
        (r#"{"id":"c-10","type":"queue_question","question":1}"#, C::QueueQuestion { question: 1 }),
        (r#"{"id":"c-11","type":"reorder_queue","order":[2,1]}"#, C::ReorderQueue { order: vec![2, 1] }),
        (r#"{"id":"c-12","type":"second_question","question":1}"#, C::SecondQuestion { question: 1 }),
        (r#"{"id":"c-13","type":"request_floor","question":1}"#, C::RequestFloor { question: 1 }),
        (
            r#"{"id":"c-14","type":"grant_floor","venue":"baiyu","question":1,"answer_seconds":300}"#,
            C::GrantFloor { venue: s("baiyu"), question: 1, answer_seconds: Some(300) },
        ),
        (
            r#"{"id":"c-15","type":"grant_floor","venue":"baiyu","question":1}"#,
            C::GrantFloor { venue: s("baiyu"), question: 1, answer_seconds: None },
        ),
        (r#"{"id":"c-16","type":"start_countdown","seconds":180}"#, C::StartCountdown { seconds: 180 }),
        (
            r#"{"id":"c-17","type":"add_follow_up","text":"标准会调整吗？"}"#,
            C::AddFollowUp { on_behalf_of: None, text: s("标准会调整吗？") },
        ),
        (
            r#"{"id":"c-18","type":"add_follow_up","on_behalf_of":"d004","text":"乡镇能否覆盖？"}"#,
            C::AddFollowUp { on_behalf_of: Some(s("d004")), text: s("乡镇能否覆盖？") },
        ),
        (
            r#"{"id":"c-19","type":"record_answer","unit":"minzheng","official":"县民政局局长 王建华","summary":"年底覆盖率达到八成。","commitments":[{"what":"实现全覆盖","unit":"minzheng","due":"2026-12-31"}]}"#,
            C::RecordAnswer {
                follow_up: None,
                unit: s("minzheng"),
                official: s("县民政局局长 王建华"),
                summary: s("年底覆盖率达到八成。"),
                commitments: vec![CommitmentDto { what: s("实现全覆盖"), unit: s("minzheng"), due: s("2026-12-31") }],
            },
        ),
        (
            r#"{"id":"c-20","type":"record_answer","follow_up":1,"unit":"minzheng","official":"王建华","summary":"建立动态调整机制。","commitments":[]}"#,
            C::RecordAnswer {
                follow_up: Some(1),
                unit: s("minzheng"),
                official: s("王建华"),
                summary: s("建立动态调整机制。"),
                commitments: vec![],
            },
        ),
        (r#"{"id":"c-21","type":"end_floor"}"#, C::EndFloor),
        (
            r#"{"id":"c-22","type":"open_evaluation","units":["minzheng","weijian"]}"#,
            C::OpenEvaluation { units: vec![s("minzheng"), s("weijian")] },
        ),
        (
            r#"{"id":"c-23","type":"cast_ballot","ballot_id":"b-7f3a","evaluation":1,"unit":"minzheng","rating":"basically_satisfied"}"#,
            C::CastBallot { ballot_id: s("b-7f3a"), evaluation: 1, unit: s("minzheng"), rating: Rating::BasicallySatisfied },
        ),
        (r#"{"id":"c-24","type":"close_evaluation","evaluation":1}"#, C::CloseEvaluation { evaluation: 1 }),
        (r#"{"id":"c-25","type":"draft_assignments"}"#, C::DraftAssignments),
        (
            r#"{"id":"c-26","type":"draft_item","lead":"minzheng","requirement":"排查敬老院消防隐患","deadline":"2027-03-31"}"#,
            C::DraftItem { lead: s("minzheng"), requirement: s("排查敬老院消防隐患"), deadline: Some(s("2027-03-31")) },
        ),
        (
            r#"{"id":"c-27","type":"edit_draft","item":1,"lead":"minzheng","co_units":["weijian"],"requirement":"年底前实现全覆盖","deadline":"2026-12-31","priority":"supervised"}"#,
            C::EditDraft {
                item: 1,
                lead: s("minzheng"),
                co_units: vec![s("weijian")],
                requirement: s("年底前实现全覆盖"),
                deadline: Some(s("2026-12-31")),
                priority: Priority::Supervised,
            },
        ),
        (r#"{"id":"c-28","type":"merge_drafts","into":1,"from":3}"#, C::MergeDrafts { into: 1, from: 3 }),
        (r#"{"id":"c-29","type":"issue_item","item":1}"#, C::IssueItem { item: 1 }),
        (r#"{"id":"c-30","type":"start_handling","item":1}"#, C::StartHandling { item: 1 }),
        (r#"{"id":"c-31","type":"reply_item","item":1,"text":"已制定实施方案。"}"#, C::ReplyItem { item: 1, text: s("已制定实施方案。") }),
        (
            r#"{"id":"c-32","type":"rectify_item","item":1,"text":"12个乡镇已覆盖。"}"#,
            C::RectifyItem { item: 1, text: s("12个乡镇已覆盖。") },
        ),
        (r#"{"id":"c-33","type":"add_note","item":1,"text":"已召开推进会"}"#, C::AddNote { item: 1, text: s("已召开推进会") }),
        (r#"{"id":"c-34","type":"return_item","item":1,"reason":"缺少整改照片"}"#, C::ReturnItem { item: 1, reason: s("缺少整改照片") }),
        (
            r#"{"id":"c-35","type":"publish_evidence","item":1,"file":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","public":true}"#,
            C::PublishEvidence { item: 1, file: s("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"), public: true },
        ),
        (
            r#"{"id":"c-36","type":"request_extension","item":1,"until":"2027-01-31","reason":"设备到货延迟"}"#,
            C::RequestExtension { item: 1, until: s("2027-01-31"), reason: s("设备到货延迟") },
        ),
        (r#"{"id":"c-37","type":"decide_extension","item":1,"grant":true}"#, C::DecideExtension { item: 1, grant: true, answer: None }),
        (r#"{"id":"c-38","type":"close_item","item":1}"#, C::CloseItem { item: 1 }),
        (
            r#"{"id":"c-39","type":"rate_item","item":1,"rating":"dissatisfied","comment":"路灯仍未安装","rehandle":true}"#,
            C::RateItem {
                item: 1, on_behalf_of: None, rating: Rating::Dissatisfied, comment: Some(s("路灯仍未安装")), rehandle: true
            },
        ),
        (r#"{"id":"c-40","type":"announce","text":"休会五分钟"}"#, C::Announce { text: s("休会五分钟"), venues: vec![] }),
        (
            r#"{"id":"c-41","type":"announce","text":"白羽街道请调整麦克风","venues":["baiyu"]}"#,
            C::Announce { text: s("白羽街道请调整麦克风"), venues: vec![s("baiyu")] },
        ),
        (r#"{"id":"c-42","type":"clear_announcement","announcement":2}"#, C::ClearAnnouncement { announcement: 2 }),
        (r#"{"id":"c-43","type":"announcement_seen","announcement":1}"#, C::AnnouncementSeen { announcement: 1 }),
        (r#"{"id":"c-44","type":"pause_countdown"}"#, C::PauseCountdown),
        (r#"{"id":"c-45","type":"resume_countdown"}"#, C::ResumeCountdown),
        (r#"{"id":"c-46","type":"extend_countdown","seconds":60}"#, C::ExtendCountdown { seconds: 60 }),
        (
            r#"{"id":"c-47","type":"undo_check_in","delegate":"d004","reason":"误签：本人未到场"}"#,
            C::UndoCheckIn { delegate: s("d004"), reason: s("误签：本人未到场") },
        ),
        (r#"{"id":"d002-01","type":"request_check_in"}"#, C::RequestCheckIn),
        (
            r#"{"id":"c-48","type":"decline_check_in","delegate":"d002","reason":"本人未到场"}"#,
            C::DeclineCheckIn { delegate: s("d002"), reason: Some(s("本人未到场")) },
        ),
        (r#"{"id":"c-49","type":"decline_check_in","delegate":"d002"}"#, C::DeclineCheckIn { delegate: s("d002"), reason: None }),
    ]
}

#[test]
fn every_command_parses_and_round_trips() {
    let table = command_table();
    let mut seen = BTreeSet::new();
    for (text, want) in table {
        let parsed = client::parse(text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
        let id = serde_json::from_str::<Value>(text).unwrap()["id"].as_str().unwrap().to_owned();
        assert_eq!(parsed, ClientMessage { id, command: want.clone() }, "{text}");
        // Serialising gives back the same JSON (field order aside).
        let back = serde_json::to_value(&parsed).unwrap();
        assert_eq!(back, serde_json::from_str::<Value>(text).unwrap(), "{text}");
        // And the text form survives a second parse unchanged.
        assert_eq!(client::parse(&serde_json::to_string(&parsed).unwrap()).unwrap(), parsed);
        // Every command converts to the domain.
        match parsed.command.clone().into_domain() {
            Ok(Parsed::Ping) => assert_eq!(want, CommandDto::Ping),
            Ok(Parsed::Command(_)) => assert_ne!(want, CommandDto::Ping),
            Err(e) => panic!("{text}: {e:?}"),
        }
        seen.insert(variant(&want));
    }
    let all = [
        "ping",
        "advance_phase",
        "check_in",
        "submit_question",
        "approve_question",
        "reject_question",
        "merge_question",
        "edit_question",
        "queue_question",
        "reorder_queue",
        "second_question",
        "request_floor",
        "grant_floor",
        "start_countdown",
        "add_follow_up",
        "record_answer",
        "end_floor",
        "open_evaluation",
        "cast_ballot",
        "close_evaluation",
        "draft_assignments",
        "draft_item",
        "edit_draft",
        "merge_drafts",
        "issue_item",
        "start_handling",
        "reply_item",
        "rectify_item",
        "add_note",
        "return_item",
        "publish_evidence",
        "request_extension",
        "decide_extension",
        "close_item",
        "rate_item",
        "announce",
        "clear_announcement",
        "announcement_seen",
        "pause_countdown",
        "resume_countdown",
        "extend_countdown",
        "undo_check_in",
        "request_check_in",
        "decline_check_in",
    ];
    assert_eq!(seen, all.into_iter().collect::<BTreeSet<_>>(), "every CommandDto variant has an example");
}

#[test]
fn command_defaults_and_tolerance() {
    // `commitments` may be omitted; it is then empty (and serialised as []).
    let m = client::parse(r#"{"id":"a","type":"record_answer","unit":"u","official":"o","summary":"s"}"#).unwrap();
    assert!(matches!(&m.command, CommandDto::RecordAnswer { commitments, follow_up: None, .. } if commitments.is_empty()));
    assert_eq!(serde_json::to_value(&m).unwrap()["commitments"], json!([]));
    // Field order does not matter, and unknown fields are ignored.
    let m = client::parse(r#"{"question":7,"type":"approve_question","extra":true,"id":"b"}"#).unwrap();
    assert_eq!(m, ClientMessage { id: "b".into(), command: CommandDto::ApproveQuestion { question: 7 } });
    // Ids are counted in characters: 64 Chinese characters are fine.
    let id: String = "问".repeat(64);
    assert_eq!(client::parse(&format!(r#"{{"id":"{id}","type":"ping"}}"#)).unwrap().id, id);
}

#[test]
fn impossible_commitment_dates_are_invalid_not_bad_message() {
    let m = client::parse(
        r#"{"id":"a","type":"record_answer","unit":"u","official":"o","summary":"s","commitments":[{"what":"w","unit":"u","due":"2026-02-30"}]}"#,
    )
    .unwrap();
    let Err((code, message)) = m.command.into_domain() else { panic!("2026-02-30 is not a date") };
    assert_eq!(code, ErrorCode::Invalid);
    assert!(message.contains("2026-02-30"), "{message}");
}

fn parse_err(text: &str) -> client::ProtocolError {
    client::parse(text).expect_err(text)
}

#[test]
fn parse_errors() {
    // Not JSON at all: no id to recover.
    let e = parse_err("{not json");
    assert_eq!((e.code, e.id.as_deref()), (ErrorCode::BadMessage, None));
    let e = parse_err("");
    assert_eq!((e.code, e.id.as_deref()), (ErrorCode::BadMessage, None));
    let e = parse_err("[1,2]");
    assert_eq!((e.code, e.id.as_deref()), (ErrorCode::BadMessage, None));

    // Valid JSON, unknown type: the id is recovered so the client can match the error.
    let e = parse_err(r#"{"id":"x-1","type":"launch_rockets"}"#);
    assert_eq!((e.code, e.id.as_deref()), (ErrorCode::BadMessage, Some("x-1")));
    assert!(e.message.contains("launch_rockets"), "{}", e.message);

    // No type at all.
    let e = parse_err(r#"{"id":"x-2"}"#);
    assert_eq!((e.code, e.id.as_deref()), (ErrorCode::BadMessage, Some("x-2")));

    // Missing field.
    let e = parse_err(r#"{"id":"x-3","type":"approve_question"}"#);
    assert_eq!((e.code, e.id.as_deref()), (ErrorCode::BadMessage, Some("x-3")));
    assert!(e.message.contains("question"), "{}", e.message);

    // Wrong field types.
    let e = parse_err(r#"{"id":"x-4","type":"approve_question","question":"1"}"#);
    assert_eq!((e.code, e.id.as_deref()), (ErrorCode::BadMessage, Some("x-4")));
    let e = parse_err(r#"{"id":"x-5","type":"approve_question","question":-1}"#);
    assert_eq!((e.code, e.id.as_deref()), (ErrorCode::BadMessage, Some("x-5")));
    let e = parse_err(r#"{"id":"x-6","type":"cast_ballot","ballot_id":"b","evaluation":1,"unit":"u","rating":"happy"}"#);
    assert_eq!((e.code, e.id.as_deref()), (ErrorCode::BadMessage, Some("x-6")));
    let e = parse_err(r#"{"id":"x-7","type":"advance_phase","to":"Closed"}"#);
    assert_eq!((e.code, e.id.as_deref()), (ErrorCode::BadMessage, Some("x-7")));

    // Missing id, or an id that is not a string: nothing to echo.
    let e = parse_err(r#"{"type":"ping"}"#);
    assert_eq!((e.code, e.id.as_deref()), (ErrorCode::BadMessage, None));
    let e = parse_err(r#"{"id":7,"type":"ping"}"#);
    assert_eq!((e.code, e.id.as_deref()), (ErrorCode::BadMessage, None));

    // Empty or over-long ids are refused, and never echoed.
    let e = parse_err(r#"{"id":"","type":"ping"}"#);
    assert_eq!((e.code, e.id.as_deref()), (ErrorCode::BadMessage, None));
    assert_eq!(e.message, "id must be 1-64 characters");
    let long = "x".repeat(65);
    let e = parse_err(&format!(r#"{{"id":"{long}","type":"ping"}}"#));
    assert_eq!((e.code, e.id.as_deref()), (ErrorCode::BadMessage, None));
    assert_eq!(e.message, "id must be 1-64 characters");
    // ...also when the rest of the message is broken.
    let e = parse_err(&format!(r#"{{"id":"{long}","type":"nope"}}"#));
    assert_eq!((e.code, e.id.as_deref()), (ErrorCode::BadMessage, None));
    assert!(client::parse(&format!(r#"{{"id":"{}","type":"ping"}}"#, "x".repeat(64))).is_ok());
}

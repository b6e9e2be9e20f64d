//! Golden tests of server messages: the event each viewer receives for every
//! event kind, snapshots, stats, acks and errors, plus the stable error and
//! close codes and the JSON round trip of every server message.
//!
//! What each perspective receives is compared with the committed snapshots
//! under `tests/snapshots/` (insta; under `CI=true` a mismatch or a missing
//! snapshot fails instead of being written). To update after an intended
//! change: `INSTA_UPDATE=always cargo test -p wz-protocol --test golden_server`,
//! then review every changed `.snap` by eye.
//!
//! The visibility rules are also asserted directly (`golden_visibility.rs`),
//! so a careless snapshot update cannot hide a leak.

mod common;

use common::*;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use wz_domain::{Event, Millis, Perspective, Viewer};
use wz_protocol::render;
use wz_protocol::server::{AckDto, AckResult, ErrorDto, ServerMessage};
use wz_protocol::{CloseCode, ErrorCode};

// ---------------------------------------------------------------------------
// Error codes and close codes
// ---------------------------------------------------------------------------

#[test]
fn error_codes_are_stable() {
    let all = [
        (ErrorCode::BadMessage, "bad_message", false),
        (ErrorCode::Forbidden, "forbidden", false),
        (ErrorCode::NotFound, "not_found", false),
        (ErrorCode::InvalidState, "invalid_state", false),
        (ErrorCode::AlreadyDone, "already_done", false),
        (ErrorCode::Invalid, "invalid", false),
        (ErrorCode::Limit, "limit", true),
        (ErrorCode::Unavailable, "unavailable", true),
    ];
    for (code, text, retryable) in all {
        assert_eq!(code.as_str(), text);
        assert_eq!(serde_json::to_value(code).unwrap(), json!(text));
        assert_eq!(serde_json::from_value::<ErrorCode>(json!(text)).unwrap(), code);
        assert_eq!(code.retryable(), retryable, "{text}");
        assert_eq!(ErrorDto::new(None, code, "m").retryable, retryable);
    }
}

#[test]
fn close_codes_are_stable() {
    let all = [
        (CloseCode::Unauthorized, 1008, "unauthorized"),
        (CloseCode::TooBig, 1009, "message_too_big"),
        (CloseCode::GoingAway, 1001, "going_away"),
        (CloseCode::SlowConsumer, 4008, "slow_consumer"),
        (CloseCode::Revoked, 4010, "revoked"),
        (CloseCode::RateLimited, 4029, "rate_limited"),
    ];
    for (c, code, reason) in all {
        assert_eq!((c.code(), c.reason()), (code, reason));
    }
}

// ---------------------------------------------------------------------------
// Server messages
// ---------------------------------------------------------------------------

#[test]
fn scenario_covers_every_event_kind() {
    let sc = scenario();
    let kinds: BTreeSet<String> = sc.followup.steps.iter().map(|s| kind_name(s.event.kind())).collect();
    assert_eq!(kinds.len(), 39, "{kinds:?}");
    // Sequence numbers are dense and session-global.
    for (i, s) in sc.followup.steps.iter().enumerate() {
        assert_eq!(s.seq, i as u64 + 1);
    }
    assert_eq!(sc.followup.s.seq(), sc.followup.steps.len() as u64);
}

/// One snapshot per event kind (its first occurrence, plus the answer to a
/// follow-up), showing what every viewer receives.
#[test]
fn golden_events() {
    let sc = scenario();
    let r = &sc.followup;
    let mut done = BTreeSet::new();
    for step in &r.steps {
        let kind = kind_name(step.event.kind());
        let name = match &step.event {
            Event::AnswerRecorded { follow_up: Some(f), .. } if f.0 == 1 => "event_answer_recorded_follow_up".to_owned(),
            _ if done.insert(kind.clone()) => format!("event_{kind}"),
            _ => continue,
        };
        let views = group(viewers().into_iter().map(|(who, v)| (who, event_for(&r.s, step, &v))).collect());
        insta::assert_json_snapshot!(name, views);
    }
}

/// A screen's WebSocket snapshot leaves out the texts of settled questions,
/// and only those: everything else is the public snapshot's.
#[test]
fn a_screens_snapshot_abridges_only_settled_questions_off_the_floor() {
    let sc = scenario();
    for run in [&sc.floor, &sc.end, &sc.followup] {
        let full = snapshot_dto(run.snapshot(&Viewer::Screen));
        let ws = snapshot_dto(render::screen_snapshot(&run.s, EPOCH, &connections(), Millis(run.now)));
        let floor = full.floor.as_ref().map(|f| f.question);
        assert_eq!(full.questions.len(), ws.questions.len());
        for (f, w) in full.questions.iter().zip(&ws.questions) {
            let settled = matches!(
                f.status,
                wz_protocol::dto::QuestionStatus::Answered
                    | wz_protocol::dto::QuestionStatus::Rejected
                    | wz_protocol::dto::QuestionStatus::Merged
            );
            if settled && Some(f.id) != floor {
                assert!(w.abridged && w.text.is_empty(), "question {} abridged", f.id);
                assert!(w.follow_ups.iter().all(|x| x.text.is_empty()));
                // The commitments board and the closing figures still add up.
                let commitments = |q: &wz_protocol::dto::QuestionDto| {
                    q.answer
                        .iter()
                        .chain(q.follow_ups.iter().filter_map(|x| x.answer.as_ref()))
                        .map(|a| a.commitments.clone())
                        .collect::<Vec<_>>()
                };
                assert_eq!(commitments(w), commitments(f));
                assert_eq!((w.status, w.follow_ups.len(), &w.venues, &w.unit), (f.status, f.follow_ups.len(), &f.venues, &f.unit));
            } else {
                assert_eq!(w, f, "question {} whole", f.id);
            }
        }
        let rest = |mut d: wz_protocol::server::SnapshotDto| {
            d.questions.clear();
            d
        };
        assert_eq!(rest(ws), rest(full));
    }
}

#[test]
fn golden_snapshots() {
    let sc = scenario();
    for (who, v) in [
        ("moderator", moderator()),
        ("auditor", Viewer::Auditor),
        ("screen", Viewer::Screen),
        ("operator_baiyu", operator("baiyu")),
        ("delegate_d002", del("d002")),
    ] {
        insta::assert_json_snapshot!(format!("snapshot_floor_{who}"), sc.floor.snapshot(&v));
    }
    for (who, v) in [("auditor", Viewer::Auditor), ("screen", Viewer::Screen), ("delegate_d002", del("d002"))] {
        insta::assert_json_snapshot!(format!("snapshot_end_{who}"), sc.end.snapshot(&v));
    }
    // What a screen gets over the WebSocket: settled questions abridged (issue 11).
    insta::assert_json_snapshot!("snapshot_end_screen_ws", render::screen_snapshot(&sc.end.s, EPOCH, &connections(), Millis(sc.end.now)));
    for (who, v) in [
        ("office", Viewer::Office),
        ("unit_minzheng", unit("minzheng")),
        ("screen", Viewer::Screen),
        ("delegate_d002", del("d002")),
        ("operator_qiaotou", operator("qiaotou")),
        ("auditor", Viewer::Auditor),
    ] {
        insta::assert_json_snapshot!(format!("snapshot_followup_{who}"), sc.followup.snapshot(&v));
    }
}

#[test]
fn golden_stats() {
    let sc = scenario();
    for (name, run) in [("stats_voting", &sc.voting), ("stats_end", &sc.end)] {
        let views = group(
            viewers()
                .into_iter()
                .map(|(who, v)| {
                    let p = Perspective::for_snapshot(&v);
                    let st = render::stats(&run.s, &p, &connections(), Millis(run.now));
                    (who, Some(ServerMessage::Stats(st)))
                })
                .collect(),
        );
        // Stats differ between staff (connections, warnings) and everyone
        // else, and while voting each operator has its venue's delegates
        // who have not voted yet; nobody's carry a choice before the reveal.
        assert_eq!(views.len(), if name == "stats_voting" { 4 } else { 2 }, "{name}");
        insta::assert_json_snapshot!(name, views);
    }
}

#[derive(Serialize)]
struct Exchange {
    by: &'static str,
    sent: Value,
    reply: ServerMessage,
}

#[test]
fn golden_acks() {
    let sc = scenario();
    let r = &sc.followup;
    // Every kind of ack result: none, question, follow_up, evaluation,
    // receipt, closed, and those of the assignment list.
    let acks: Vec<Exchange> = ["s-01", "m-04", "d002-01", "d003-03", "m-19", "d002-02", "m-20", "o-03", "o-05", "d002-20"]
        .into_iter()
        .map(|id| {
            let x = r.sent(id);
            Exchange { by: x.by, sent: x.command.clone(), reply: x.reply.clone() }
        })
        .collect();
    let results: Vec<&str> = acks
        .iter()
        .map(|x| match &x.reply {
            ServerMessage::Ack(AckDto { result: None, .. }) => "none",
            ServerMessage::Ack(AckDto { result: Some(AckResult::Question(_)), .. }) => "question",
            ServerMessage::Ack(AckDto { result: Some(AckResult::FollowUp(_)), .. }) => "follow_up",
            ServerMessage::Ack(AckDto { result: Some(AckResult::Evaluation(_)), .. }) => "evaluation",
            ServerMessage::Ack(AckDto { result: Some(AckResult::Receipt(_)), .. }) => "receipt",
            ServerMessage::Ack(AckDto { result: Some(AckResult::Closed(_)), .. }) => "closed",
            ServerMessage::Ack(AckDto { result: Some(AckResult::Drafted { .. }), .. }) => "drafted",
            ServerMessage::Ack(AckDto { result: Some(AckResult::Item(_)), .. }) => "item",
            ServerMessage::Ack(AckDto { result: Some(AckResult::ItemReceipt(_)), .. }) => "item_receipt",
            _ => "error",
        })
        .collect();
    assert_eq!(results, ["none", "none", "question", "follow_up", "evaluation", "receipt", "closed", "drafted", "item", "item_receipt"]);
    insta::assert_json_snapshot!("acks", acks);
}

#[test]
fn golden_errors() {
    let sc = scenario();
    let mut floor = sc.floor;
    let mut voting = sc.voting;
    let mut end = sc.end;
    let mut errors = Vec::new();
    let mut send = |r: &mut Run, by: &'static str, v: &Viewer, text: &str, code: &str| {
        let reply = r.wire(by, v, text);
        assert_eq!(json_of(&reply)["code"], json!(code), "{text}");
        errors.push(Exchange { by, sent: r.sent.last().unwrap().command.clone(), reply });
    };
    send(&mut floor, "delegate:d002", &del("d002"), r#"{"id":"d002-09","type":"launch_rockets"}"#, "bad_message");
    send(&mut floor, "delegate:d002", &del("d002"), r#"{"id":"d002-10","type":"approve_question","question":5}"#, "forbidden");
    send(&mut floor, "screen", &Viewer::Screen, r#"{"id":"s-02","type":"approve_question","question":5}"#, "forbidden");
    send(&mut floor, "moderator", &moderator(), r#"{"id":"m-90","type":"approve_question","question":99}"#, "not_found");
    send(&mut floor, "moderator", &moderator(), r#"{"id":"m-91","type":"end_floor"}"#, "invalid_state");
    send(&mut floor, "moderator", &moderator(), r#"{"id":"m-92","type":"start_countdown","seconds":0}"#, "invalid");
    let long = "问".repeat(501);
    send(
        &mut floor,
        "delegate:d001",
        &del("d001"),
        &format!(r#"{{"id":"d001-09","type":"submit_question","topic":"policy","unit":"minzheng","text":"{long}"}}"#),
        "invalid",
    );
    send(
        &mut voting,
        "delegate:d002",
        &del("d002"),
        r#"{"id":"d002-11","type":"cast_ballot","ballot_id":"b-other","evaluation":1,"unit":"minzheng","rating":"dissatisfied"}"#,
        "already_done",
    );
    send(
        &mut voting,
        "delegate:d006",
        &del("d006"),
        r#"{"id":"d006-01","type":"cast_ballot","ballot_id":"b-d006","evaluation":1,"unit":"minzheng","rating":"satisfied"}"#,
        "invalid_state",
    );
    send(
        &mut end,
        "delegate:d003",
        &del("d003"),
        r#"{"id":"d003-09","type":"cast_ballot","ballot_id":"b-late","evaluation":1,"unit":"minzheng","rating":"satisfied"}"#,
        "invalid_state",
    );
    // Built by the connection and the hub themselves, not by the session.
    let hub = [
        ErrorDto::new(Some("d002-12".into()), ErrorCode::Limit, "too many messages; slow down and retry with the same id"),
        ErrorDto::new(Some("m-93".into()), ErrorCode::Unavailable, "the record could not be written; retry with the same id"),
        ErrorDto::new(None, ErrorCode::BadMessage, "binary frames are not supported; send JSON text"),
    ];
    let hub: Vec<ServerMessage> = hub.into_iter().map(ServerMessage::Error).collect();
    #[derive(Serialize)]
    struct Errors {
        from_commands: Vec<Exchange>,
        from_connection_and_hub: Vec<ServerMessage>,
    }
    insta::assert_json_snapshot!("errors", Errors { from_commands: errors, from_connection_and_hub: hub });
}

#[test]
fn server_messages_round_trip_through_json() {
    let sc = scenario();
    let mut all: Vec<ServerMessage> = sc.followup.sent.iter().map(|x| x.reply.clone()).collect();
    for (_, v) in viewers() {
        all.push(sc.floor.snapshot(&v));
        all.push(sc.end.snapshot(&v));
        all.push(sc.followup.snapshot(&v));
        all.push(ServerMessage::Stats(render::stats(&sc.voting.s, &Perspective::for_snapshot(&v), &connections(), Millis(1))));
        all.extend(sc.followup.steps.iter().filter_map(|st| event_for(&sc.followup.s, st, &v)));
    }
    for m in all {
        let text = m.encode();
        let back: ServerMessage = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        assert_eq!(back, m);
        let v: Value = serde_json::from_str(&text).unwrap();
        assert!(v["type"].is_string());
    }
}

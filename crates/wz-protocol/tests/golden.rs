//! Golden tests of the wire protocol and the stored record format.
//!
//! A small but complete session (main venue + two sub-venues, six delegates
//! of different levels, two units, two topics) is driven through the real
//! domain with fixed times, from client JSON text to `Session::decide` and
//! `Session::apply`, exactly as the hub does it. What each perspective
//! receives is rendered with `wz_protocol::render` and compared with the
//! committed snapshots under `tests/snapshots/` (insta; under `CI=true` a
//! mismatch or a missing snapshot fails instead of being written).
//!
//! Snapshots show the messages on the wire; the visibility rules are also
//! asserted directly, so a careless snapshot update cannot hide a leak.
//!
//! To update after an intended change: `INSTA_UPDATE=always cargo test -p
//! wz-protocol --test golden`, then review every changed `.snap` by eye.

use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use wz_domain as d;
use wz_domain::{Change, Event, EventKind, Millis, Perspective, Session, Viewer};
use wz_protocol::client::{self, ClientMessage, CommandDto, Parsed};
use wz_protocol::definition::{SessionDefinition, parse_delegates_csv};
use wz_protocol::dto::{CommitmentDto, Level, Phase, Rating};
use wz_protocol::render;
use wz_protocol::server::{AckDto, AckResult, ChangeDto, ErrorDto, ServerMessage};
use wz_protocol::stored::{self, StoredError};
use wz_protocol::{CloseCode, ErrorCode};

// ---------------------------------------------------------------------------
// The session used throughout
// ---------------------------------------------------------------------------

/// 2026-01-01T00:00:00Z; every command advances the clock by one second.
const T0: u64 = 1_767_225_600_000;
const SESSION: &str = "xixia-2026";
const ALL_DELEGATES: [&str; 6] = ["d001", "d002", "d003", "d004", "d005", "d006"];
const DELEGATE_NAMES: [&str; 6] = ["赵安华", "钱秀英", "孙立新", "李明", "周建国", "吴芳"];

fn delegate(id: &str, name: &str, level: d::DelegateLevel, venue: &str) -> d::Delegate {
    d::Delegate { id: d::DelegateId::new(id), name: name.into(), level, venue: d::VenueId::new(venue) }
}

fn definition() -> d::SessionDef {
    use d::DelegateLevel as L;
    let def = d::SessionDef {
        id: SESSION.into(),
        title: "积极应对人口老龄化 加快发展养老服务 代表问政".into(),
        theme: "积极应对人口老龄化 加快发展养老服务".into(),
        venues: vec![
            d::Venue { id: d::VenueId::new("main"), name: "县人大代表联络站主会场".into(), kind: d::VenueKind::Main },
            d::Venue { id: d::VenueId::new("baiyu"), name: "白羽街道分会场".into(), kind: d::VenueKind::Sub },
            d::Venue { id: d::VenueId::new("qiaotou"), name: "桥头镇分会场".into(), kind: d::VenueKind::Sub },
        ],
        delegates: vec![
            delegate("d001", "赵安华", L::County, "main"),
            delegate("d002", "钱秀英", L::Township, "baiyu"),
            delegate("d003", "孙立新", L::StreetDeliberation, "baiyu"),
            delegate("d004", "李明", L::City, "qiaotou"),
            delegate("d005", "周建国", L::Province, "qiaotou"),
        ],
        units: vec![
            d::Unit { id: d::UnitId::new("minzheng"), name: "县民政局".into() },
            d::Unit { id: d::UnitId::new("weijian"), name: "县卫生健康委员会".into() },
        ],
        topics: vec![
            d::Topic { id: d::TopicId::new("policy"), name: "养老政策".into() },
            d::Topic { id: d::TopicId::new("service"), name: "养老服务".into() },
        ],
        limits: d::Limits::default(),
    };
    def.validate().expect("the test definition is valid");
    def
}

fn moderator() -> Viewer {
    Viewer::Moderator
}
fn operator(v: &str) -> Viewer {
    Viewer::VenueOperator(d::VenueId::new(v))
}
fn del(id: &str) -> Viewer {
    Viewer::Delegate(d::DelegateId::new(id))
}

/// The viewers whose messages the event snapshots show.
fn viewers() -> Vec<(&'static str, Viewer)> {
    vec![
        ("moderator", Viewer::Moderator),
        ("auditor", Viewer::Auditor),
        ("screen", Viewer::Screen),
        ("operator:baiyu", operator("baiyu")),
        ("operator:qiaotou", operator("qiaotou")),
        ("delegate:d001", del("d001")),
        ("delegate:d002", del("d002")),
        ("delegate:d003", del("d003")),
        ("delegate:d004", del("d004")),
    ]
}

fn connections() -> render::Health {
    let connections: BTreeMap<d::VenueId, u32> = {
    [("main", 1), ("baiyu", 3), ("qiaotou", 2)].into_iter().map(|(v, n)| (d::VenueId::new(v), n)).collect()
};
    render::Health { store_available: true, warnings: Vec::new(), connections, last_seen: BTreeMap::new() }
}

/// One applied event, as the hub keeps it in its resume window.
#[derive(Clone)]
struct Step {
    seq: u64,
    event: Event,
    changes: Vec<Change>,
}

/// A command sent over the wire and what its sender got back.
#[derive(Clone)]
struct Sent {
    by: &'static str,
    command: Value,
    reply: ServerMessage,
}

#[derive(Clone)]
struct Run {
    s: Session,
    now: u64,
    steps: Vec<Step>,
    sent: Vec<Sent>,
}

impl Run {
    fn new() -> Self {
        Self { s: Session::new(definition()), now: T0, steps: Vec::new(), sent: Vec::new() }
    }

    fn tick(&mut self) -> Millis {
        self.now += 1000;
        Millis(self.now)
    }

    fn apply_all(&mut self, events: Vec<Event>) {
        for e in events {
            let changes = self.s.apply(&e).expect("decided events apply");
            self.steps.push(Step { seq: self.s.seq(), event: e, changes });
        }
    }

    /// Runs a domain command that has no wire form (delegate import).
    fn domain(&mut self, actor: &Viewer, cmd: d::Command) {
        let now = self.tick();
        let out = self.s.decide(actor, &cmd, now).expect("command accepted");
        self.apply_all(out.events);
    }

    /// Handles one client text frame the way the hub does: parse, convert,
    /// decide, apply, and answer with `ack` or `error`.
    fn wire(&mut self, by: &'static str, actor: &Viewer, text: &str) -> ServerMessage {
        let now = self.tick();
        let reply = match client::parse(text) {
            Err(e) => ServerMessage::Error(ErrorDto::new(e.id, e.code, e.message)),
            Ok(ClientMessage { id, command }) => match command.into_domain() {
                Err((code, message)) => ServerMessage::Error(ErrorDto::new(Some(id), code, message)),
                Ok(Parsed::Ping) => ServerMessage::Ack(AckDto { id, seq: self.s.seq(), result: None }),
                Ok(Parsed::Command(cmd)) => match self.s.decide(actor, &cmd, now) {
                    Err(e) => ServerMessage::Error(ErrorDto::new(Some(id), ErrorCode::from(&e), e.to_string())),
                    Ok(out) => {
                        self.apply_all(out.events);
                        let result = render::ack_result(&self.s, &out.reply);
                        ServerMessage::Ack(AckDto { id, seq: self.s.seq(), result })
                    }
                },
            },
        };
        let command = serde_json::from_str(text).unwrap_or(Value::String(text.to_owned()));
        self.sent.push(Sent { by, command, reply: reply.clone() });
        reply
    }

    /// Like [`Run::wire`], but the command must be acknowledged.
    fn ok(&mut self, by: &'static str, actor: &Viewer, text: &str) -> AckDto {
        match self.wire(by, actor, text) {
            ServerMessage::Ack(a) => a,
            other => panic!("{by} sent {text}: expected an ack, got {other:?}"),
        }
    }

    fn sent(&self, id: &str) -> &Sent {
        self.sent.iter().find(|x| x.command["id"] == id).unwrap_or_else(|| panic!("no command {id}"))
    }

    fn snapshot(&self, viewer: &Viewer) -> ServerMessage {
        render::snapshot(&self.s, viewer, &connections(), Millis(self.now))
    }
}

/// The whole session, with the state kept at two interesting moments.
struct Scenario {
    /// Question 1 on the floor with two unanswered follow-ups (追问);
    /// question 5 still pending, question 4 rejected, question 2 queued.
    floor: Run,
    /// Evaluation 1 open, four ballots cast.
    voting: Run,
    /// Evaluation closed, session closed.
    end: Run,
}

fn scenario() -> Scenario {
    let m = moderator();
    let mut r = Run::new();
    r.domain(&m, d::Command::ImportDelegates { delegates: vec![delegate("d006", "吴芳", d::DelegateLevel::Township, "qiaotou")] });
    r.ok("screen", &Viewer::Screen, r#"{"id":"s-01","type":"ping"}"#);
    r.ok("moderator", &m, r#"{"id":"m-01","type":"advance_phase","to":"check_in"}"#);
    r.ok("delegate:d001", &del("d001"), r#"{"id":"d001-01","type":"check_in","delegate":"d001"}"#);
    r.ok("operator:baiyu", &operator("baiyu"), r#"{"id":"baiyu-01","type":"check_in","delegate":"d002"}"#);
    r.ok("delegate:d003", &del("d003"), r#"{"id":"d003-01","type":"check_in","delegate":"d003"}"#);
    r.ok("moderator", &m, r#"{"id":"m-02","type":"check_in","delegate":"d004"}"#);
    r.ok("operator:qiaotou", &operator("qiaotou"), r#"{"id":"qiaotou-01","type":"check_in","delegate":"d005"}"#);
    r.ok("moderator", &m, r#"{"id":"m-03","type":"advance_phase","to":"questioning"}"#);
    r.ok(
        "delegate:d002",
        &del("d002"),
        r#"{"id":"d002-01","type":"submit_question","topic":"policy","unit":"minzheng","text":"农村留守老人助餐服务覆盖率只有三成，民政局何时能实现全覆盖？"}"#,
    );
    r.ok(
        "operator:qiaotou",
        &operator("qiaotou"),
        r#"{"id":"qiaotou-02","type":"submit_question","on_behalf_of":"d004","topic":"service","unit":"weijian","text":"县医院与养老机构的医养结合签约为何迟迟不落地？"}"#,
    );
    r.ok(
        "delegate:d003",
        &del("d003"),
        r#"{"id":"d003-02","type":"submit_question","topic":"policy","unit":"minzheng","text":"助餐点的运营补贴什么时候能按时发放？"}"#,
    );
    r.ok(
        "delegate:d005",
        &del("d005"),
        r#"{"id":"d005-01","type":"submit_question","topic":"service","unit":"weijian","text":"医养结合签约进展如何？"}"#,
    );
    r.ok(
        "delegate:d001",
        &del("d001"),
        r#"{"id":"d001-02","type":"submit_question","topic":"policy","unit":"minzheng","text":"高龄津贴能否提高发放标准？"}"#,
    );
    r.ok("moderator", &m, r#"{"id":"m-04","type":"approve_question","question":1}"#);
    r.ok("moderator", &m, r#"{"id":"m-05","type":"approve_question","question":2}"#);
    r.ok(
        "moderator",
        &m,
        r#"{"id":"m-06","type":"edit_question","question":1,"text":"农村留守老人助餐服务覆盖率只有三成，何时能实现全覆盖？"}"#,
    );
    r.ok("moderator", &m, r#"{"id":"m-07","type":"merge_question","question":3,"into":1}"#);
    r.ok("moderator", &m, r#"{"id":"m-08","type":"reject_question","question":4,"reason":"与第2号问题重复"}"#);
    r.ok("moderator", &m, r#"{"id":"m-09","type":"queue_question","question":1}"#);
    r.ok("moderator", &m, r#"{"id":"m-10","type":"queue_question","question":2}"#);
    r.ok("moderator", &m, r#"{"id":"m-11","type":"reorder_queue","order":[2,1]}"#);
    r.ok("delegate:d004", &del("d004"), r#"{"id":"d004-01","type":"second_question","question":1}"#);
    r.ok("operator:baiyu", &operator("baiyu"), r#"{"id":"baiyu-02","type":"request_floor","question":1}"#);
    r.ok("moderator", &m, r#"{"id":"m-12","type":"grant_floor","venue":"baiyu","question":1,"answer_seconds":300}"#);
    r.ok("moderator", &m, r#"{"id":"m-13","type":"start_countdown","seconds":180}"#);
    r.ok("delegate:d003", &del("d003"), r#"{"id":"d003-03","type":"add_follow_up","text":"补贴标准是否会随物价调整？"}"#);
    r.ok(
        "operator:qiaotou",
        &operator("qiaotou"),
        r#"{"id":"qiaotou-03","type":"add_follow_up","on_behalf_of":"d004","text":"乡镇助餐点能否同步覆盖？"}"#,
    );
    let floor = r.clone();
    r.ok(
        "moderator",
        &m,
        r#"{"id":"m-14","type":"record_answer","unit":"minzheng","official":"县民政局局长 王建华","summary":"今年新建助餐点42个，年底覆盖率达到八成。","commitments":[{"what":"实现农村助餐服务全覆盖","unit":"minzheng","due":"2026-12-31"}]}"#,
    );
    r.ok(
        "moderator",
        &m,
        r#"{"id":"m-15","type":"record_answer","follow_up":1,"unit":"minzheng","official":"县民政局局长 王建华","summary":"建立补贴标准动态调整机制。"}"#,
    );
    r.ok(
        "moderator",
        &m,
        r#"{"id":"m-16","type":"record_answer","follow_up":2,"unit":"minzheng","official":"县民政局副局长 陈静","summary":"乡镇助餐点纳入同一计划。"}"#,
    );
    r.ok("moderator", &m, r#"{"id":"m-17","type":"end_floor"}"#);
    r.ok("moderator", &m, r#"{"id":"m-18","type":"advance_phase","to":"evaluation"}"#);
    r.ok("moderator", &m, r#"{"id":"m-19","type":"open_evaluation","units":["minzheng","weijian"]}"#);
    let vote = |r: &mut Run, by: &'static str, id: &str, n: u32, unit: &str, rating: &str| {
        let text = format!(
            r#"{{"id":"{id}","type":"cast_ballot","ballot_id":"b-{id}","evaluation":1,"unit":"{unit}","rating":"{rating}"}}"#
        );
        r.ok(by, &del(&by["delegate:".len()..]), &text);
        assert_eq!(r.s.evaluation(d::EvaluationId(1)).unwrap().ballots.len() as u32, n);
    };
    vote(&mut r, "delegate:d001", "d001-03", 1, "minzheng", "satisfied");
    vote(&mut r, "delegate:d002", "d002-02", 2, "minzheng", "basically_satisfied");
    vote(&mut r, "delegate:d004", "d004-02", 3, "minzheng", "dissatisfied");
    vote(&mut r, "delegate:d002", "d002-03", 4, "weijian", "satisfied");
    let voting = r.clone();
    r.ok("moderator", &m, r#"{"id":"m-20","type":"close_evaluation","evaluation":1}"#);
    r.ok("moderator", &m, r#"{"id":"m-21","type":"advance_phase","to":"closed"}"#);
    Scenario { floor, voting, end: r }
}

/// Viewers that received the same message, and the message (`null`: nothing).
#[derive(Serialize)]
struct Seen {
    viewers: Vec<&'static str>,
    message: Option<ServerMessage>,
}

fn group(items: Vec<(&'static str, Option<ServerMessage>)>) -> Vec<Seen> {
    let mut out: Vec<Seen> = Vec::new();
    for (who, msg) in items {
        match out.iter_mut().find(|g| g.message == msg) {
            Some(g) => g.viewers.push(who),
            None => out.push(Seen { viewers: vec![who], message: msg }),
        }
    }
    out
}

/// The event message `viewer` receives for `step`, chosen exactly as the hub chooses.
fn event_for(s: &Session, step: &Step, viewer: &Viewer) -> Option<ServerMessage> {
    let p = Perspective::of(viewer, &step.changes);
    render::event(&s.def().id, s.def(), step.seq, step.event.at(), step.event.kind(), &step.changes, &p)
}

fn kind_name(k: EventKind) -> String {
    serde_json::to_value(wz_protocol::dto::EventKind::from(k)).unwrap().as_str().unwrap().to_owned()
}

fn json_of(m: &ServerMessage) -> Value {
    serde_json::from_str(&m.encode()).unwrap()
}

/// Every object key anywhere in `v`.
fn keys(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                out.insert(k.clone());
                keys(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| keys(x, out)),
        _ => {}
    }
}

fn has_key(v: &Value, key: &str) -> bool {
    let mut ks = BTreeSet::new();
    keys(v, &mut ks);
    ks.contains(key)
}

fn snapshot_dto(m: ServerMessage) -> wz_protocol::server::SnapshotDto {
    match m {
        ServerMessage::Snapshot(s) => *s,
        other => panic!("expected a snapshot, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// Client messages
// ---------------------------------------------------------------------------

fn variant(c: &CommandDto) -> &'static str {
    match c {
        CommandDto::Ping => "ping",
        CommandDto::AdvancePhase { .. } => "advance_phase",
        CommandDto::CheckIn { .. } => "check_in",
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
        CommandDto::AddFollowUp { .. } => "add_follow_up",
        CommandDto::RecordAnswer { .. } => "record_answer",
        CommandDto::EndFloor => "end_floor",
        CommandDto::OpenEvaluation { .. } => "open_evaluation",
        CommandDto::CastBallot { .. } => "cast_ballot",
        CommandDto::CloseEvaluation { .. } => "close_evaluation",
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
                on_behalf_of: Some(s("d004")),
                topic: s("service"),
                unit: s("weijian"),
                text: s("签约为何不落地？"),
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
        "ping", "advance_phase", "check_in", "submit_question", "approve_question", "reject_question", "merge_question",
        "edit_question", "queue_question", "reorder_queue", "second_question", "request_floor", "grant_floor",
        "start_countdown", "add_follow_up", "record_answer", "end_floor", "open_evaluation", "cast_ballot",
        "close_evaluation",
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
    let kinds: BTreeSet<String> = sc.end.steps.iter().map(|s| kind_name(s.event.kind())).collect();
    assert_eq!(kinds.len(), 20, "{kinds:?}");
    // Sequence numbers are dense and session-global.
    for (i, s) in sc.end.steps.iter().enumerate() {
        assert_eq!(s.seq, i as u64 + 1);
    }
    assert_eq!(sc.end.s.seq(), sc.end.steps.len() as u64);
}

/// One snapshot per event kind (its first occurrence, plus the answer to a
/// follow-up), showing what every viewer receives.
#[test]
fn golden_events() {
    let sc = scenario();
    let r = &sc.end;
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
        // Stats differ between the moderator (small breakdown cells
        // suppressed), the auditor (everything) and everyone else.
        assert_eq!(views.len(), 3, "{name}");
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
    let r = &sc.end;
    // Every kind of ack result: none, question, follow_up, evaluation, receipt.
    let acks: Vec<Exchange> = ["s-01", "m-04", "d002-01", "d003-03", "m-19", "d002-02", "m-20"]
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
            _ => "error",
        })
        .collect();
    assert_eq!(results, ["none", "none", "question", "follow_up", "evaluation", "receipt", "closed"]);
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
    let mut all: Vec<ServerMessage> = sc.end.sent.iter().map(|x| x.reply.clone()).collect();
    for (_, v) in viewers() {
        all.push(sc.floor.snapshot(&v));
        all.push(sc.end.snapshot(&v));
        all.push(ServerMessage::Stats(render::stats(&sc.voting.s, &Perspective::for_snapshot(&v), &connections(), Millis(1))));
        all.extend(sc.end.steps.iter().filter_map(|st| event_for(&sc.end.s, st, &v)));
    }
    for m in all {
        let text = m.encode();
        let back: ServerMessage = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        assert_eq!(back, m);
        let v: Value = serde_json::from_str(&text).unwrap();
        assert!(v["type"].is_string());
    }
}

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

#[test]
fn screen_never_sees_identities_or_ballots() {
    let sc = scenario();
    let r = &sc.end;
    let mut received = 0;
    for step in &r.steps {
        let Some(m) = event_for(&r.s, step, &Viewer::Screen) else { continue };
        received += 1;
        let text = m.encode();
        assert_no_identity("screen event", &text);
        for word in ["askers", "asker", "ballot", "receipt", "seconded_by_me", r#""entity":"check_in""#, r#""entity":"roster""#] {
            assert!(!text.contains(word), "screen event contains {word:?}: {text}");
        }
    }
    assert!(received > 20, "the screen follows the session ({received} events)");

    for run in [&sc.floor, &sc.voting, &sc.end] {
        let snap = run.snapshot(&Viewer::Screen);
        let text = snap.encode();
        assert_no_identity("screen snapshot", &text);
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
    let submitted = r
        .steps
        .iter()
        .find(|s| matches!(&s.event, Event::QuestionSubmitted { question, .. } if question.0 == 5))
        .unwrap();
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
fn ballots_reach_only_their_caster_and_the_auditor() {
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
                (Viewer::Auditor, Some(_)) => {}
                (_, Some(ServerMessage::Event(e))) if mine => {
                    assert!(matches!(&e.changes[..], [ChangeDto::Ballot { ballot }] if ballot.delegate == caster.0));
                }
                (_, None) if !mine => {}
                (_, got) => panic!("{who} ({v:?}) got {got:?} for the ballot of {caster}"),
            }
        }
    }
    assert_eq!(cast, 4);
    // In snapshots: a delegate has their own ballots, the auditor all of them, the moderator none.
    let mine = snapshot_dto(r.snapshot(&del("d002"))).ballots;
    assert_eq!(mine.len(), 2);
    assert!(mine.iter().all(|b| b.delegate == "d002"));
    assert!(snapshot_dto(r.snapshot(&del("d003"))).ballots.is_empty());
    assert_eq!(snapshot_dto(r.snapshot(&Viewer::Auditor)).ballots.len(), 4);
    for v in [moderator(), operator("baiyu"), Viewer::Screen] {
        let v = json_of(&r.snapshot(&v));
        assert_eq!(v["ballots"], json!([]));
        assert!(!has_key(&v, "receipt") && !has_key(&v, "ballot_id"));
    }
}

#[test]
fn live_counts_only_for_staff_and_results_only_after_close() {
    let sc = scenario();
    for (who, v) in viewers() {
        let p = Perspective::for_snapshot(&v);
        let st = render::stats(&sc.voting.s, &p, &connections(), Millis(1));
        let ev = st.evaluation.expect("an evaluation is open");
        assert_eq!(ev.live.is_some(), matches!(v, Viewer::Moderator | Viewer::Auditor), "{who}");
        assert_eq!(st.venues.iter().any(|x| x.connections.is_some()), matches!(v, Viewer::Moderator | Viewer::Auditor));
        // Everyone sees how many ballots came in, never which choice.
        assert_eq!(ev.ballots_by_unit.iter().map(|u| u.ballots).collect::<Vec<_>>(), [3, 1]);
        assert_eq!((ev.turnout.voted, ev.turnout.eligible), (3, 5));
        let text = serde_json::to_string(&ServerMessage::Stats(render::stats(&sc.voting.s, &p, &connections(), Millis(1)))).unwrap();
        assert_eq!(text.contains("satisfied"), matches!(v, Viewer::Moderator | Viewer::Auditor), "{who}");
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
        assert_eq!(
            (minzheng.counts.satisfied, minzheng.counts.basically_satisfied, minzheng.counts.dissatisfied),
            (1, 1, 1)
        );
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

// ---------------------------------------------------------------------------
// Ballots: final once acknowledged; retries are idempotent
// ---------------------------------------------------------------------------

fn receipt(m: &ServerMessage) -> wz_protocol::dto::ReceiptDto {
    match m {
        ServerMessage::Ack(AckDto { result: Some(AckResult::Receipt(r)), .. }) => r.clone(),
        other => panic!("expected a receipt, got {other:?}"),
    }
}

#[test]
fn an_acknowledged_ballot_is_final() {
    let sc = scenario();
    let mut r = sc.voting;
    let first = receipt(&r.sent("d002-02").reply);
    assert_eq!(first.ballot_id, "b-d002-02");
    let before = r.s.seq();
    // The same ballot again (a retry after a lost ack): same receipt, nothing new recorded.
    let again = r.wire(
        "delegate:d002",
        &del("d002"),
        r#"{"id":"d002-02","type":"cast_ballot","ballot_id":"b-d002-02","evaluation":1,"unit":"minzheng","rating":"basically_satisfied"}"#,
    );
    assert_eq!(receipt(&again), first);
    assert_eq!(r.s.seq(), before);
    // A different ballot id for the same unit: already_done.
    let other = r.wire(
        "delegate:d002",
        &del("d002"),
        r#"{"id":"d002-20","type":"cast_ballot","ballot_id":"b-new","evaluation":1,"unit":"minzheng","rating":"satisfied"}"#,
    );
    assert_eq!(json_of(&other)["code"], "already_done");
    // The same ballot id with another choice: already_done, the first choice stands.
    let changed = r.wire(
        "delegate:d002",
        &del("d002"),
        r#"{"id":"d002-21","type":"cast_ballot","ballot_id":"b-d002-02","evaluation":1,"unit":"minzheng","rating":"dissatisfied"}"#,
    );
    assert_eq!(json_of(&changed)["code"], "already_done");
    // The same ballot id for another unit: already_done.
    let reused = r.wire(
        "delegate:d001",
        &del("d001"),
        r#"{"id":"d001-20","type":"cast_ballot","ballot_id":"b-d001-03","evaluation":1,"unit":"weijian","rating":"satisfied"}"#,
    );
    assert_eq!(json_of(&reused)["code"], "already_done");
    assert_eq!(r.s.seq(), before);
    // After the close, the retry is still answered with the same receipt.
    r.ok("moderator", &moderator(), r#"{"id":"m-30","type":"close_evaluation","evaluation":1}"#);
    let late = r.wire(
        "delegate:d002",
        &del("d002"),
        r#"{"id":"d002-02","type":"cast_ballot","ballot_id":"b-d002-02","evaluation":1,"unit":"minzheng","rating":"basically_satisfied"}"#,
    );
    assert_eq!(receipt(&late), first);
}

// ---------------------------------------------------------------------------
// Receipts
// ---------------------------------------------------------------------------

fn ballot() -> d::Ballot {
    d::Ballot {
        evaluation: d::EvaluationId(1),
        unit: d::UnitId::new("minzheng"),
        delegate: d::DelegateId::new("d002"),
        venue: d::VenueId::new("baiyu"),
        ballot_id: d::BallotId::new("b-7f3a"),
        rating: d::Rating::BasicallySatisfied,
        at: Millis(T0),
        seq: 35,
    }
}

#[test]
fn receipt_code_follows_the_documented_formula() {
    let b = ballot();
    let code = render::receipt_code(SESSION, &b);
    assert_eq!(code, render::receipt_code(SESSION, &b), "deterministic");
    assert_eq!(code.len(), 16);
    assert!(code.bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    let digest = Sha256::digest(b"wz-receipt-v1|xixia-2026|1|minzheng|d002|b-7f3a|basically_satisfied|35");
    assert_eq!(code, hex::encode(&digest[..8]));
    insta::assert_snapshot!("receipt_code", code);

    let r = render::receipt(SESSION, &b);
    assert_eq!((r.code.as_str(), r.seq, r.at, r.rating), (code.as_str(), 35, T0, Rating::BasicallySatisfied));
}

#[test]
fn receipt_code_changes_with_every_input() {
    let b = ballot();
    let base = render::receipt_code(SESSION, &b);
    let mut variants: Vec<(&str, String)> = vec![("session", render::receipt_code("xixia-2027", &b))];
    let mut v = |what: &'static str, f: &dyn Fn(&mut d::Ballot)| {
        let mut x = ballot();
        f(&mut x);
        variants.push((what, render::receipt_code(SESSION, &x)));
    };
    v("evaluation", &|x| x.evaluation = d::EvaluationId(2));
    v("unit", &|x| x.unit = d::UnitId::new("weijian"));
    v("delegate", &|x| x.delegate = d::DelegateId::new("d003"));
    v("ballot_id", &|x| x.ballot_id = d::BallotId::new("b-7f3b"));
    v("rating satisfied", &|x| x.rating = d::Rating::Satisfied);
    v("rating dissatisfied", &|x| x.rating = d::Rating::Dissatisfied);
    v("seq", &|x| x.seq = 36);
    let mut distinct = BTreeSet::from([base.clone()]);
    for (what, code) in &variants {
        assert_ne!(code, &base, "changing {what} must change the code");
        assert!(distinct.insert(code.clone()), "{what} collides");
    }
    // The time and the venue are not part of the code.
    let mut x = ballot();
    x.at = Millis(T0 + 1);
    x.venue = d::VenueId::new("main");
    assert_eq!(render::receipt_code(SESSION, &x), base);
}

#[test]
fn receipts_in_acks_match_the_ballots_an_auditor_sees() {
    let sc = scenario();
    let auditor = snapshot_dto(sc.end.snapshot(&Viewer::Auditor));
    for id in ["d001-03", "d002-02", "d004-02", "d002-03"] {
        let r = receipt(&sc.end.sent(id).reply);
        let b = auditor.ballots.iter().find(|b| b.receipt.ballot_id == r.ballot_id).expect("auditor sees it");
        assert_eq!(b.receipt, r);
        // The auditor can recompute the code from what the record holds.
        let rating = serde_json::to_value(r.rating).unwrap();
        let text =
            format!("wz-receipt-v1|{SESSION}|{}|{}|{}|{}|{}|{}", r.evaluation, r.unit, b.delegate, r.ballot_id, rating.as_str().unwrap(), r.seq);
        assert_eq!(r.code, hex::encode(&Sha256::digest(text.as_bytes())[..8]));
    }
}

// ---------------------------------------------------------------------------
// Stored records
// ---------------------------------------------------------------------------

#[test]
fn stored_events_round_trip_and_carry_their_version() {
    let sc = scenario();
    let mut kinds = BTreeSet::new();
    for step in &sc.end.steps {
        let bytes = stored::encode_event(&step.event);
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["v"], json!(1), "{v}");
        assert_eq!(v["type"], json!(kind_name(step.event.kind())));
        assert_eq!(stored::decode_event(&bytes).unwrap(), step.event);
        kinds.insert(step.event.kind() as u8);
    }
    assert_eq!(kinds.len(), 20, "every Event variant was round-tripped");
    // And the replayed log rebuilds the same state.
    let events: Vec<Event> =
        sc.end.steps.iter().map(|s| stored::decode_event(&stored::encode_event(&s.event)).unwrap()).collect();
    let replayed = Session::replay(definition(), &events).unwrap();
    assert_eq!(replayed, sc.end.s);
}

#[test]
fn golden_stored_records() {
    let sc = scenario();
    let mut done = BTreeSet::new();
    let records: Vec<Value> = sc
        .end
        .steps
        .iter()
        .filter(|s| done.insert(s.event.kind() as u8))
        .map(|s| serde_json::from_slice(&stored::encode_event(&s.event)).unwrap())
        .collect();
    insta::assert_json_snapshot!("stored_events", records);
    let def: Value = serde_json::from_slice(&stored::encode_definition(&definition())).unwrap();
    insta::assert_json_snapshot!("stored_definition", def);
}

#[test]
fn stored_records_refuse_unknown_versions_and_garbage() {
    let e = Event::FloorEnded { at: Millis(T0) };
    let mut v: Value = serde_json::from_slice(&stored::encode_event(&e)).unwrap();
    v["v"] = json!(2);
    let bytes = serde_json::to_vec(&v).unwrap();
    assert!(matches!(stored::decode_event(&bytes), Err(StoredError::Version(2, 1))));
    v["v"] = json!(0);
    assert!(matches!(stored::decode_event(&serde_json::to_vec(&v).unwrap()), Err(StoredError::Version(0, 1))));

    for garbage in [&b"garbage"[..], b"", b"{}", b"[1]", br#"{"v":"1","type":"floor_ended","at":1}"#] {
        assert!(matches!(stored::decode_event(garbage), Err(StoredError::Malformed(_))), "{:?}", String::from_utf8_lossy(garbage));
    }
    // The right version with an unknown type or a missing field is malformed, not guessed at.
    assert!(matches!(stored::decode_event(br#"{"v":1,"type":"meteor_strike","at":1}"#), Err(StoredError::Malformed(_))));
    assert!(matches!(stored::decode_event(br#"{"v":1,"type":"floor_ended"}"#), Err(StoredError::Malformed(_))));
    let bad_date = br#"{"v":1,"type":"answer_recorded","follow_up":null,"unit":"u","official":"o","summary":"s","commitments":[{"what":"w","unit":"u","due":"2026-02-30"}],"at":1}"#;
    assert!(matches!(stored::decode_event(bad_date), Err(StoredError::Malformed(_))));
    let ok = stored::decode_event(br#"{"v":1,"type":"floor_ended","at":5}"#).unwrap();
    assert_eq!(ok, Event::FloorEnded { at: Millis(5) });

    // Definitions too.
    let def = definition();
    let bytes = stored::encode_definition(&def);
    assert_eq!(stored::decode_definition(&bytes).unwrap(), def);
    let mut v: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(v["v"], json!(1));
    v["v"] = json!(9);
    assert!(matches!(stored::decode_definition(&serde_json::to_vec(&v).unwrap()), Err(StoredError::Version(9, 1))));
    assert!(matches!(stored::decode_definition(b"nope"), Err(StoredError::Malformed(_))));
    // A definition record that fails validation is malformed.
    v["v"] = json!(1);
    v["venues"] = json!([]);
    assert!(matches!(stored::decode_definition(&serde_json::to_vec(&v).unwrap()), Err(StoredError::Malformed(_))));
}

// ---------------------------------------------------------------------------
// Definition files
// ---------------------------------------------------------------------------

const TOML_EXAMPLE: &str = r#"
id = "xixia-2026"
title = "积极应对人口老龄化 加快发展养老服务 代表问政"
theme = "积极应对人口老龄化 加快发展养老服务"

[[venues]]
id = "main"
name = "县人大代表联络站主会场"
kind = "main"

[[venues]]
id = "baiyu"
name = "白羽街道分会场"
kind = "sub"

[[units]]
id = "minzheng"
name = "县民政局"

[[topics]]
id = "policy"
name = "养老政策"

[[delegates]]
id = "d001"
name = "赵安华"
level = "county"
venue = "main"

[[delegates]]
id = "d002"
name = "钱秀英"
level = "street_deliberation"
venue = "baiyu"
"#;

const JSON_EXAMPLE: &str = r#"{
  "id": "xixia-2026",
  "title": "积极应对人口老龄化 加快发展养老服务 代表问政",
  "theme": "积极应对人口老龄化 加快发展养老服务",
  "venues": [
    {"id": "main", "name": "县人大代表联络站主会场", "kind": "main"},
    {"id": "baiyu", "name": "白羽街道分会场", "kind": "sub"}
  ],
  "units": [{"id": "minzheng", "name": "县民政局"}],
  "topics": [{"id": "policy", "name": "养老政策"}],
  "delegates": [
    {"id": "d001", "name": "赵安华", "level": "county", "venue": "main"},
    {"id": "d002", "name": "钱秀英", "level": "street_deliberation", "venue": "baiyu"}
  ]
}"#;

#[test]
fn definitions_from_toml_and_json_agree() {
    let t = SessionDefinition::from_toml(TOML_EXAMPLE).unwrap();
    let j = SessionDefinition::from_json(JSON_EXAMPLE).unwrap();
    assert_eq!(t, j);
    assert_eq!(t.limits, None);
    let def = t.into_domain().unwrap();
    assert_eq!(def.limits, d::Limits::default());
    assert_eq!(def.main_venue().id.as_str(), "main");
    assert_eq!(def.delegates[1].level, d::DelegateLevel::StreetDeliberation);
    // from_domain/into_domain is lossless (limits are then written out).
    let back = SessionDefinition::from_domain(&def);
    assert!(back.limits.is_some());
    assert_eq!(back.clone().into_domain().unwrap(), def);
    let full = SessionDefinition::from_domain(&definition());
    assert_eq!(SessionDefinition::from_json(&serde_json::to_string(&full).unwrap()).unwrap(), full);
}

#[test]
fn definitions_reject_unknown_fields_and_invalid_content() {
    let toml_extra = format!("colour = \"red\"\n{TOML_EXAMPLE}");
    let e = SessionDefinition::from_toml(&toml_extra).unwrap_err().to_string();
    assert!(e.contains("colour"), "{e}");
    let json_extra = JSON_EXAMPLE.replacen('{', r#"{"colour":"red","#, 1);
    let e = SessionDefinition::from_json(&json_extra).unwrap_err().to_string();
    assert!(e.contains("colour"), "{e}");
    // Wrong enum values.
    assert!(SessionDefinition::from_json(&JSON_EXAMPLE.replace(r#""kind": "sub""#, r#""kind": "branch""#)).is_err());
    assert!(SessionDefinition::from_json(&JSON_EXAMPLE.replace(r#""level": "county""#, r#""level": "县""#)).is_err());
    // Well-formed but invalid: caught by into_domain.
    let two_mains = SessionDefinition::from_json(&JSON_EXAMPLE.replace(r#""kind": "sub""#, r#""kind": "main""#)).unwrap();
    assert_eq!(two_mains.into_domain(), Err(d::DefinitionError::MainVenueCount(2)));
    let bad_id = SessionDefinition::from_json(&JSON_EXAMPLE.replace(r#""id": "xixia-2026""#, r#""id": "Xixia 2026""#)).unwrap();
    assert_eq!(bad_id.into_domain(), Err(d::DefinitionError::BadSessionId));
}

#[test]
fn delegate_csv_with_bom_crlf_and_either_header() {
    let english = "\u{feff}id,name,level,venue\r\nd010, 王五 ,township,baiyu\r\nd011,马六,省,main\r\n";
    let rows = parse_delegates_csv(english.as_bytes()).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[0].id.as_str(), rows[0].name.as_str(), rows[0].level), ("d010", "王五", Level::Township));
    assert_eq!((rows[1].level, rows[1].venue.as_str()), (Level::Province, "main"));
    // Same rows without the BOM, with Chinese headers in another column order.
    let chinese = "姓名,编号,会场,层级\n王五,d010,baiyu,乡镇\n马六,d011,main,省级\n";
    assert_eq!(parse_delegates_csv(chinese.as_bytes()).unwrap(), rows);
    // Missing columns and unknown levels are refused with the line number.
    let e = parse_delegates_csv("\u{feff}id,name,venue\nd1,a,main\n".as_bytes()).unwrap_err().to_string();
    assert!(e.contains("line 1"), "{e}");
    let e = parse_delegates_csv("id,name,level,venue\nd1,a,county,main\nd2,b,mayor,main\n".as_bytes()).unwrap_err().to_string();
    assert!(e.contains("line 3") && e.contains("mayor"), "{e}");
}

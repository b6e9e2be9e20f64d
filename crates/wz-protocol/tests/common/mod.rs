//! Shared fixtures of the golden protocol tests (`golden_*.rs`).
//!
//! A small but complete session (main venue + two sub-venues, six delegates
//! of different levels, two units, two topics) is driven through the real
//! domain with fixed times, from client JSON text to `Session::decide` and
//! `Session::apply`, exactly as the hub does it. This module holds that
//! session, the scenario builder, and the helpers that render what each
//! perspective receives with `wz_protocol::render`.
//!
//! Not every test binary uses every helper, hence `dead_code` is allowed.

#![allow(dead_code)]

use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use wz_domain as d;
use wz_domain::assignment as a;
use wz_domain::{Change, Event, EventKind, Millis, Perspective, Session, Viewer};
use wz_protocol::ErrorCode;
use wz_protocol::client::{self, ClientMessage, Parsed};
use wz_protocol::render;
use wz_protocol::server::{AckDto, ErrorDto, ServerMessage};
// ---------------------------------------------------------------------------
// The session used throughout
// ---------------------------------------------------------------------------

/// 2026-01-01T00:00:00Z; every command advances the clock by one second.
pub const T0: u64 = 1_767_225_600_000;
pub const SESSION: &str = "xixia-2026";
pub const ALL_DELEGATES: [&str; 6] = ["d001", "d002", "d003", "d004", "d005", "d006"];
pub const DELEGATE_NAMES: [&str; 6] = ["赵安华", "钱秀英", "孙立新", "李明", "周建国", "吴芳"];

pub fn delegate(id: &str, name: &str, level: d::DelegateLevel, venue: &str) -> d::Delegate {
    d::Delegate { id: d::DelegateId::new(id), name: name.into(), level, venue: d::VenueId::new(venue) }
}

pub fn definition() -> d::SessionDef {
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
        time_zone: d::TimeZone::default(),
        // A delegate asks, the station confirms (or declines): the scenario
        // goes through every check-in command.
        check_in: d::CheckInPolicy::Confirmed,
    };
    def.validate().expect("the test definition is valid");
    def
}

pub fn moderator() -> Viewer {
    Viewer::Moderator
}
pub fn operator(v: &str) -> Viewer {
    Viewer::VenueOperator(d::VenueId::new(v))
}
pub fn del(id: &str) -> Viewer {
    Viewer::Delegate(d::DelegateId::new(id))
}

/// The viewers whose messages the event snapshots show.
pub fn viewers() -> Vec<(&'static str, Viewer)> {
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
        ("office", Viewer::Office),
        ("unit:minzheng", unit("minzheng")),
        ("unit:weijian", unit("weijian")),
    ]
}

pub fn unit(u: &str) -> Viewer {
    Viewer::Unit(d::UnitId::new(u))
}

pub fn connections() -> render::Health {
    let connections: BTreeMap<d::VenueId, u32> =
        { [("main", 1), ("baiyu", 3), ("qiaotou", 2)].into_iter().map(|(v, n)| (d::VenueId::new(v), n)).collect() };
    render::Health { store_available: true, warnings: Vec::new(), connections, last_seen: BTreeMap::new(), chain_head: None }
}

/// One applied event, as the hub keeps it in its resume window.
#[derive(Clone)]
pub struct Step {
    pub seq: u64,
    pub event: Event,
    pub changes: Vec<Change>,
}

/// A command sent over the wire and what its sender got back.
#[derive(Clone)]
pub struct Sent {
    pub by: &'static str,
    pub command: Value,
    pub reply: ServerMessage,
}

#[derive(Clone)]
pub struct Run {
    pub s: Session,
    pub now: u64,
    pub steps: Vec<Step>,
    pub sent: Vec<Sent>,
}

impl Run {
    pub fn new() -> Self {
        Self { s: Session::new(definition()), now: T0, steps: Vec::new(), sent: Vec::new() }
    }

    pub fn tick(&mut self) -> Millis {
        self.now += 1000;
        Millis(self.now)
    }

    pub fn apply_all(&mut self, events: Vec<Event>) {
        for e in events {
            let changes = self.s.apply(&e).expect("decided events apply");
            self.steps.push(Step { seq: self.s.seq(), event: e, changes });
        }
    }

    /// Runs a domain command that has no wire form (delegate import).
    pub fn domain(&mut self, actor: &Viewer, cmd: d::Command) {
        let now = self.tick();
        let out = self.s.decide(actor, &cmd, now).expect("command accepted");
        self.apply_all(out.events);
    }

    /// Handles one client text frame the way the hub does: parse, convert,
    /// decide, apply, and answer with `ack` or `error`.
    pub fn wire(&mut self, by: &'static str, actor: &Viewer, text: &str) -> ServerMessage {
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
    pub fn ok(&mut self, by: &'static str, actor: &Viewer, text: &str) -> AckDto {
        match self.wire(by, actor, text) {
            ServerMessage::Ack(a) => a,
            other => panic!("{by} sent {text}: expected an ack, got {other:?}"),
        }
    }

    pub fn sent(&self, id: &str) -> &Sent {
        self.sent.iter().find(|x| x.command["id"] == id).unwrap_or_else(|| panic!("no command {id}"))
    }

    pub fn snapshot(&self, viewer: &Viewer) -> ServerMessage {
        render::snapshot(&self.s, EPOCH, viewer, &connections(), Millis(self.now))
    }
}

/// The epoch every golden snapshot is rendered in.
pub const EPOCH: wz_protocol::Epoch = wz_protocol::Epoch::new(0x5eed_0000_2026_0001);

/// The whole session, with the state kept at two interesting moments.
pub struct Scenario {
    /// Question 1 on the floor with two unanswered follow-ups (追问);
    /// question 5 still pending, question 4 rejected, question 2 queued.
    pub floor: Run,
    /// Evaluation 1 open, four ballots cast.
    pub voting: Run,
    /// Evaluation closed, session closed: the assignment list drafted.
    pub end: Run,
    /// The follow-up under way: items 1 and 2 issued, an extension of item 1
    /// waiting for the office, item 2 answered (so its asker may rate it).
    pub handling: Run,
    /// The follow-up worked through to the end: every kind of assignment
    /// event, and the session archived.
    pub followup: Run,
}

pub fn scenario() -> Scenario {
    let m = moderator();
    let mut r = Run::new();
    r.domain(&m, d::Command::ImportDelegates { delegates: vec![delegate("d006", "吴芳", d::DelegateLevel::Township, "qiaotou")] });
    r.ok("screen", &Viewer::Screen, r#"{"id":"s-01","type":"ping"}"#);
    r.ok("moderator", &m, r#"{"id":"m-01","type":"advance_phase","to":"check_in"}"#);
    // The check-in policy is `confirmed` (issue 10): a delegate asks, the
    // station (or the moderator) confirms with a check-in or declines.
    r.ok("delegate:d001", &del("d001"), r#"{"id":"d001-01","type":"request_check_in"}"#);
    r.ok("moderator", &m, r#"{"id":"m-01a","type":"check_in","delegate":"d001"}"#);
    r.ok("operator:baiyu", &operator("baiyu"), r#"{"id":"baiyu-01","type":"check_in","delegate":"d002"}"#);
    r.ok("delegate:d003", &del("d003"), r#"{"id":"d003-01","type":"request_check_in"}"#);
    r.ok(
        "operator:baiyu",
        &operator("baiyu"),
        r#"{"id":"baiyu-01a","type":"decline_check_in","delegate":"d003","reason":"请本人到签到处"}"#,
    );
    r.ok("delegate:d003", &del("d003"), r#"{"id":"d003-01a","type":"request_check_in"}"#);
    // Asked again while pending: acknowledged, nothing recorded.
    r.ok("delegate:d003", &del("d003"), r#"{"id":"d003-01b","type":"request_check_in"}"#);
    r.ok("operator:baiyu", &operator("baiyu"), r#"{"id":"baiyu-01b","type":"check_in","delegate":"d003"}"#);
    // The newcomer asks and nobody answers: pending in the live snapshots,
    // lapsed at the close.
    r.ok("delegate:d006", &del("d006"), r#"{"id":"d006-01","type":"request_check_in"}"#);
    r.ok("moderator", &m, r#"{"id":"m-02","type":"check_in","delegate":"d004"}"#);
    r.ok("operator:qiaotou", &operator("qiaotou"), r#"{"id":"qiaotou-01","type":"check_in","delegate":"d005"}"#);
    // A check-in by mistake, taken back and made again (issue 10).
    r.ok("operator:qiaotou", &operator("qiaotou"), r#"{"id":"qiaotou-01a","type":"undo_check_in","delegate":"d005","reason":"点错了人"}"#);
    r.ok("operator:qiaotou", &operator("qiaotou"), r#"{"id":"qiaotou-01b","type":"check_in","delegate":"d005"}"#);
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
    // The moderator pauses the countdown, gives a minute more, resumes (issue 10).
    r.ok("moderator", &m, r#"{"id":"m-13a","type":"pause_countdown"}"#);
    r.ok("moderator", &m, r#"{"id":"m-13b","type":"extend_countdown","seconds":60}"#);
    r.ok("moderator", &m, r#"{"id":"m-13c","type":"resume_countdown"}"#);
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
        let text =
            format!(r#"{{"id":"{id}","type":"cast_ballot","ballot_id":"b-{id}","evaluation":1,"unit":"{unit}","rating":"{rating}"}}"#);
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
    let end = r.clone();
    let handling = follow_up(&mut r);
    Scenario { floor, voting, end, handling, followup: r }
}

/// The follow-up after the close: item 1 is the commitment of question 1
/// (minzheng; asked by d002 and, merged in, d003), item 2 the written reply
/// owed for question 2 (weijian; d004, asked through qiaotou's operator).
fn follow_up(r: &mut Run) -> Run {
    let (o, mz, wj, m) = (Viewer::Office, unit("minzheng"), unit("weijian"), moderator());
    r.ok("office", &o, r#"{"id":"o-01","type":"edit_draft","item":1,"lead":"minzheng","co_units":["weijian"],"requirement":"实现农村助餐服务全覆盖","deadline":"2026-12-31","priority":"supervised"}"#);
    r.ok(
        "office",
        &o,
        r#"{"id":"o-02","type":"edit_draft","item":2,"lead":"weijian","requirement":"书面答复医养结合签约进展","deadline":"2026-03-31"}"#,
    );
    r.ok("office", &o, r#"{"id":"o-03","type":"draft_item","lead":"minzheng","requirement":"排查助餐点食品安全","deadline":"2026-06-30"}"#);
    r.ok("office", &o, r#"{"id":"o-04","type":"merge_drafts","into":1,"from":3}"#);
    r.ok("office", &o, r#"{"id":"o-05","type":"issue_item","item":1}"#);
    r.ok("office", &o, r#"{"id":"o-06","type":"issue_item","item":2}"#);
    r.ok("unit:minzheng", &mz, r#"{"id":"mz-01","type":"start_handling","item":1}"#);
    r.ok("unit:weijian", &wj, r#"{"id":"wj-01","type":"add_note","item":1,"text":"卫健局配合开展助餐点卫生检查"}"#);
    r.ok("unit:minzheng", &mz, r#"{"id":"mz-02","type":"request_extension","item":1,"until":"2027-01-31","reason":"设备到货延迟"}"#);
    let mut handling = r.clone();
    handling.ok("unit:weijian", &wj, r#"{"id":"wj-09","type":"reply_item","item":2,"text":"已与两家养老机构签约。"}"#);
    r.ok("office", &o, r#"{"id":"o-07","type":"decide_extension","item":1,"grant":true}"#);
    let file = a::NewFile {
        id: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
        name: "助餐点照片.jpg".into(),
        kind: a::FileKind::Jpeg,
        bytes: 48_213,
    };
    r.domain(&mz, d::Command::Assignment(a::AssignmentCommand::AddEvidence { item: a::ItemId(1), file }));
    r.ok("office", &o, r#"{"id":"o-08","type":"publish_evidence","item":1,"file":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","public":true}"#);
    r.ok("unit:minzheng", &mz, r#"{"id":"mz-03","type":"reply_item","item":1,"text":"已新建助餐点42个。"}"#);
    r.ok(
        "delegate:d002",
        &del("d002"),
        r#"{"id":"d002-20","type":"rate_item","item":1,"rating":"dissatisfied","comment":"偏远村仍未覆盖","rehandle":true}"#,
    );
    r.ok("office", &o, r#"{"id":"o-09","type":"return_item","item":1,"reason":"偏远村尚未覆盖，请重办"}"#);
    r.ok("unit:minzheng", &mz, r#"{"id":"mz-04","type":"rectify_item","item":1,"text":"偏远村助餐点已全部开放。"}"#);
    r.ok("delegate:d003", &del("d003"), r#"{"id":"d003-20","type":"rate_item","item":1,"rating":"satisfied"}"#);
    r.ok("office", &o, r#"{"id":"o-10","type":"close_item","item":1}"#);
    r.ok("unit:weijian", &wj, r#"{"id":"wj-02","type":"reply_item","item":2,"text":"已与两家养老机构签约。"}"#);
    r.ok(
        "operator:qiaotou",
        &operator("qiaotou"),
        r#"{"id":"qiaotou-20","type":"rate_item","item":2,"on_behalf_of":"d004","rating":"basically_satisfied"}"#,
    );
    r.ok("office", &o, r#"{"id":"o-11","type":"close_item","item":2}"#);
    // Announcements (issue 10): to everyone, to one venue; seen; cleared.
    r.ok("moderator", &m, r#"{"id":"m-30","type":"announce","text":"感谢各位代表参加本次问政"}"#);
    r.ok("moderator", &m, r#"{"id":"m-31","type":"announce","text":"白羽街道请调整麦克风","venues":["baiyu"]}"#);
    r.ok("operator:baiyu", &operator("baiyu"), r#"{"id":"baiyu-30","type":"announcement_seen","announcement":2}"#);
    r.ok("moderator", &m, r#"{"id":"m-32","type":"clear_announcement","announcement":2}"#);
    r.ok("office", &o, r#"{"id":"o-12","type":"advance_phase","to":"archived"}"#);
    handling
}

/// Viewers that received the same message, and the message (`null`: nothing).
#[derive(Serialize)]
pub struct Seen {
    pub viewers: Vec<&'static str>,
    pub message: Option<ServerMessage>,
}

pub fn group(items: Vec<(&'static str, Option<ServerMessage>)>) -> Vec<Seen> {
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
pub fn event_for(s: &Session, step: &Step, viewer: &Viewer) -> Option<ServerMessage> {
    let p = Perspective::of(viewer, &step.changes);
    render::event(render::Scope::of(s), step.seq, step.event.at(), step.event.kind(), &step.changes, &p)
}

pub fn kind_name(k: EventKind) -> String {
    serde_json::to_value(wz_protocol::dto::EventKind::from(k)).unwrap().as_str().unwrap().to_owned()
}

pub fn json_of(m: &ServerMessage) -> Value {
    serde_json::from_str(&m.encode()).unwrap()
}

/// Every object key anywhere in `v`.
pub fn keys(v: &Value, out: &mut BTreeSet<String>) {
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

pub fn has_key(v: &Value, key: &str) -> bool {
    let mut ks = BTreeSet::new();
    keys(v, &mut ks);
    ks.contains(key)
}

pub fn snapshot_dto(m: ServerMessage) -> wz_protocol::server::SnapshotDto {
    match m {
        ServerMessage::Snapshot(s) => *s,
        other => panic!("expected a snapshot, got {other:?}"),
    }
}

/// The records of `steps` as the hub writes them after `header`: each
/// chained to the one before, with who and which command id. Returns the
/// records and the chain head.
#[allow(dead_code)] // Each test binary uses part of this module.
pub fn chained(header: &[u8], steps: &[Step]) -> (Vec<Vec<u8>>, wz_protocol::stored::ChainHead) {
    use wz_protocol::stored::{self, ChainHead, RecordMeta};
    let mut head = ChainHead::genesis(header);
    let mut records = Vec::new();
    for step in steps {
        let meta = RecordMeta { by: Some("moderator".into()), cmd: Some(format!("c-{}", step.seq)), prev: None };
        let bytes = stored::encode_chained(&step.event, &meta, &head);
        head = head.next(&bytes);
        records.push(bytes);
    }
    (records, head)
}

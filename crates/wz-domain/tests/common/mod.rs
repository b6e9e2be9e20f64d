//! Shared fixture for the wz-domain integration tests: a small county session
//! (main venue + 3 sub-venues, 12 delegates covering all five levels, 3
//! units, 2 topics, default limits) and the `exec` helper that runs
//! decide-then-apply exactly like the hub does.
#![allow(dead_code)]

use wz_domain::*;

pub mod ops;

pub const MAIN: &str = "main";
pub const BAIYU: &str = "baiyu";
pub const XINHUA: &str = "xinhua";
pub const DONGCHENG: &str = "dongcheng";
pub const VENUES: [&str; 4] = [MAIN, BAIYU, XINHUA, DONGCHENG];

/// (id, level, home venue) of the standard roster: three delegates per venue,
/// every level present at least twice.
pub const ROSTER: [(&str, DelegateLevel, &str); 12] = [
    ("d01", DelegateLevel::Province, MAIN),
    ("d02", DelegateLevel::City, MAIN),
    ("d03", DelegateLevel::County, MAIN),
    ("d04", DelegateLevel::Township, BAIYU),
    ("d05", DelegateLevel::StreetDeliberation, BAIYU),
    ("d06", DelegateLevel::County, BAIYU),
    ("d07", DelegateLevel::Province, XINHUA),
    ("d08", DelegateLevel::Township, XINHUA),
    ("d09", DelegateLevel::StreetDeliberation, XINHUA),
    ("d10", DelegateLevel::City, DONGCHENG),
    ("d11", DelegateLevel::County, DONGCHENG),
    ("d12", DelegateLevel::Township, DONGCHENG),
];

pub const UNITS: [&str; 3] = ["transport", "education", "health"];
pub const TOPICS: [&str; 2] = ["roads", "schools"];

/// Builds a [`SessionDef`]; `Fixture::default().build()` is the standard one.
#[derive(Clone, Debug)]
pub struct Fixture {
    pub limits: Limits,
    pub delegates: Vec<Delegate>,
    /// `SelfService` by default: the rules tests written before check-in
    /// policies existed have delegates check themselves in.
    pub check_in: CheckInPolicy,
}

impl Default for Fixture {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            check_in: CheckInPolicy::SelfService,
            delegates: ROSTER.iter().map(|(id, level, venue)| delegate(id, *level, venue)).collect(),
        }
    }
}

impl Fixture {
    pub fn check_in(mut self, policy: CheckInPolicy) -> Self {
        self.check_in = policy;
        self
    }

    pub fn limits(mut self, f: impl FnOnce(&mut Limits)) -> Self {
        f(&mut self.limits);
        self
    }

    pub fn build(self) -> SessionDef {
        let venue = |id: &str, name: &str, kind| Venue { id: vid(id), name: name.into(), kind };
        let def = SessionDef {
            id: "county-2026-spring".into(),
            title: "县人大常委会代表问政".into(),
            theme: "民生实事".into(),
            venues: vec![
                venue(MAIN, "主会场", VenueKind::Main),
                venue(BAIYU, "白鱼镇分会场", VenueKind::Sub),
                venue(XINHUA, "新华街道分会场", VenueKind::Sub),
                venue(DONGCHENG, "东城街道分会场", VenueKind::Sub),
            ],
            delegates: self.delegates,
            units: vec![
                Unit { id: uid(UNITS[0]), name: "县交通运输局".into() },
                Unit { id: uid(UNITS[1]), name: "县教育局".into() },
                Unit { id: uid(UNITS[2]), name: "县卫健委".into() },
            ],
            topics: vec![
                Topic { id: TopicId::new(TOPICS[0]), name: "农村道路".into() },
                Topic { id: TopicId::new(TOPICS[1]), name: "义务教育".into() },
            ],
            limits: self.limits,
            time_zone: Default::default(),
            check_in: self.check_in,
        };
        def.validate().expect("fixture definition is valid");
        def
    }

    pub fn session(self) -> Session {
        Session::new(self.build())
    }
}

pub fn def() -> SessionDef {
    Fixture::default().build()
}

pub fn session() -> Session {
    Fixture::default().session()
}

pub fn delegate(id: &str, level: DelegateLevel, venue: &str) -> Delegate {
    Delegate { id: did(id), name: format!("代表{id}"), level, venue: vid(venue) }
}

pub fn did(s: &str) -> DelegateId {
    DelegateId::new(s)
}
pub fn vid(s: &str) -> VenueId {
    VenueId::new(s)
}
pub fn uid(s: &str) -> UnitId {
    UnitId::new(s)
}
pub fn tid(s: &str) -> TopicId {
    TopicId::new(s)
}
pub fn bid(s: &str) -> BallotId {
    BallotId::new(s)
}

pub fn moderator() -> Viewer {
    Viewer::Moderator
}
pub fn operator(venue: &str) -> Viewer {
    Viewer::VenueOperator(vid(venue))
}
pub fn delegate_viewer(id: &str) -> Viewer {
    Viewer::Delegate(did(id))
}

/// Home venue of a roster delegate.
pub fn venue_of(id: &str) -> &'static str {
    ROSTER.iter().find(|(d, _, _)| *d == id).map(|(_, _, v)| *v).expect("roster delegate")
}

/// Runs `decide` then `apply` for every event, as the hub does. A refused
/// command changes nothing; an accepted one must always apply.
pub fn exec(s: &mut Session, actor: &Viewer, cmd: Command, now: u64) -> Result<Reply, CommandError> {
    let out = s.decide(actor, &cmd, Millis(now))?;
    for e in &out.events {
        s.apply(e).unwrap_or_else(|err| panic!("decided event {e:?} failed to apply: {err}"));
    }
    Ok(out.reply)
}

/// Like [`exec`] but returns the events as well.
pub fn exec_events(s: &mut Session, actor: &Viewer, cmd: Command, now: u64) -> Result<Outcome, CommandError> {
    let out = s.decide(actor, &cmd, Millis(now))?;
    for e in &out.events {
        s.apply(e).unwrap_or_else(|err| panic!("decided event {e:?} failed to apply: {err}"));
    }
    Ok(out)
}

/// Executes a command that the test expects to succeed.
#[track_caller]
pub fn ok(s: &mut Session, actor: &Viewer, cmd: Command) -> Reply {
    let now = s.seq() * 1000 + 1_700_000_000_000;
    match exec(s, actor, cmd.clone(), now) {
        Ok(r) => r,
        Err(e) => panic!("{cmd:?} by {actor:?} was refused: {e}"),
    }
}

/// Executes a command that the test expects to be refused, checks that the
/// state is untouched, and returns the error.
#[track_caller]
pub fn err(s: &mut Session, actor: &Viewer, cmd: Command) -> CommandError {
    let before = s.clone();
    let now = s.seq() * 1000 + 1_700_000_000_000;
    match exec(s, actor, cmd.clone(), now) {
        Ok(r) => panic!("{cmd:?} by {actor:?} was accepted ({r:?}), expected a refusal"),
        Err(e) => {
            assert_eq!(*s, before, "a refused command must leave the state untouched");
            e
        }
    }
}

/// Moves the session forward (one phase at a time) until it is in `to`.
pub fn advance_to(s: &mut Session, to: Phase) {
    while s.phase() != to {
        let next = s.phase().next().expect("target phase is ahead");
        ok(s, &moderator(), Command::AdvancePhase { to: next });
    }
}

/// Checks in every roster delegate (themself).
pub fn check_in_all(s: &mut Session) {
    for (d, _, _) in ROSTER {
        check_in(s, d);
    }
}

pub fn check_in(s: &mut Session, d: &str) {
    ok(s, &delegate_viewer(d), Command::CheckIn { delegate: did(d) });
}

pub fn submit_cmd(text: &str) -> Command {
    Command::SubmitQuestion { on_behalf_of: None, topic: tid(TOPICS[0]), unit: uid(UNITS[0]), text: text.into() }
}

/// Submits a question as `asker` (themself) and returns its id.
pub fn submit(s: &mut Session, asker: &str, text: &str) -> QuestionId {
    match ok(s, &delegate_viewer(asker), submit_cmd(text)) {
        Reply::Question(q) => q,
        r => panic!("unexpected reply {r:?}"),
    }
}

/// Submits and approves a question.
pub fn approved(s: &mut Session, asker: &str, text: &str) -> QuestionId {
    let q = submit(s, asker, text);
    ok(s, &moderator(), Command::ApproveQuestion { question: q });
    q
}

pub fn answer_cmd(follow_up: Option<FollowUpId>) -> Command {
    Command::RecordAnswer {
        follow_up,
        unit: uid(UNITS[0]),
        official: "张局长".into(),
        summary: "年内完成改造。".into(),
        commitments: vec![],
    }
}

/// A session in the questioning phase with everyone checked in.
pub fn questioning() -> Session {
    let mut s = session();
    advance_to(&mut s, Phase::CheckIn);
    check_in_all(&mut s);
    advance_to(&mut s, Phase::Questioning);
    s
}

/// A session in the evaluation phase, everyone checked in, evaluation 1 open
/// on all three units.
pub fn evaluating() -> Session {
    let mut s = questioning();
    advance_to(&mut s, Phase::Evaluation);
    let r = ok(&mut s, &moderator(), Command::OpenEvaluation { units: UNITS.iter().map(|u| uid(u)).collect() });
    assert_eq!(r, Reply::Evaluation(EvaluationId(1)));
    s
}

pub fn ballot(id: &str, evaluation: u32, unit: &str, rating: Rating) -> Command {
    Command::CastBallot { ballot_id: bid(id), evaluation: EvaluationId(evaluation), unit: uid(unit), rating }
}

//! Generators shared by the property tests: random sequences of commands
//! from random actors (see `properties.rs` for what they exercise), with
//! arguments drawn from small id pools that include unknown ids.

use super::*;
use proptest::prelude::*;

/// Delegate pool: the roster, one importable newcomer and one unknown id.
pub const DELEGATE_POOL: [&str; 14] = ["d01", "d02", "d03", "d04", "d05", "d06", "d07", "d08", "d09", "d10", "d11", "d12", "n01", "ghost"];
pub const VENUE_POOL: [&str; 5] = [MAIN, BAIYU, XINHUA, DONGCHENG, "nowhere"];
pub const UNIT_POOL: [&str; 4] = [UNITS[0], UNITS[1], UNITS[2], "ghost"];
pub const TOPIC_POOL: [&str; 3] = [TOPICS[0], TOPICS[1], "nope"];
pub const BALLOT_POOL: [&str; 5] = ["b1", "b2", "b3", " b1 ", ""];
pub const PHASES: [Phase; 5] = [Phase::Preparing, Phase::CheckIn, Phase::Questioning, Phase::Evaluation, Phase::Closed];

#[derive(Clone, Debug)]
pub enum Text {
    Short,
    Blank,
    /// Only zero-width characters: refused as empty.
    Invisible,
    /// An escape sequence: refused as a control character.
    Control,
    Max,
    TooLong,
}

impl Text {
    pub fn render(&self) -> String {
        match self {
            Text::Short => "村道何时修？".into(),
            Text::Blank => "  ".into(),
            Text::Invisible => "\u{200B}\u{200D}\u{FEFF}".into(),
            Text::Control => "村道\u{1B}[2J".into(),
            Text::Max => "问".repeat(500),
            Text::TooLong => "问".repeat(501),
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub enum Retry {
    Same,
    Padded,
    OtherRating,
    OtherId,
}

/// The accepted ballot a `RetryBallot` re-sends, if there is any.
pub fn picked_ballot(s: &Session, pick: usize) -> Option<&Ballot> {
    let all: Vec<&Ballot> = s.evaluations().flat_map(|e| e.ballots.values()).collect();
    (!all.is_empty()).then(|| all[pick % all.len()])
}

/// Who a command names: mostly the natural choice for the actor (themself,
/// or a delegate of the operator's venue), sometimes anyone from the pool.
#[derive(Clone, Debug)]
pub enum Who {
    Me(usize),
    Pool(usize),
}

pub fn who() -> impl Strategy<Value = Who> {
    prop_oneof![3 => (0..12usize).prop_map(Who::Me), 1 => delegate_ix().prop_map(Who::Pool)]
}

impl Who {
    pub fn resolve(&self, actor: &Viewer) -> DelegateId {
        match (self, actor) {
            (Who::Me(_), Viewer::Delegate(me)) => me.clone(),
            (Who::Me(i), Viewer::VenueOperator(v)) => {
                let mine: Vec<_> = ROSTER.iter().filter(|(_, _, dv)| *dv == v.as_str()).collect();
                if mine.is_empty() { did(ROSTER[*i].0) } else { did(mine[*i % mine.len()].0) }
            }
            (Who::Me(i), _) => did(ROSTER[*i].0),
            (Who::Pool(i), _) => did(DELEGATE_POOL[*i]),
        }
    }
}

/// Who issues an operation: usually the role that normally does it (a
/// random member of that role), sometimes any viewer at all.
#[derive(Clone, Debug)]
pub enum Actor {
    Natural(usize),
    Any(Viewer),
}

#[derive(Clone, Copy)]
pub enum Role {
    Moderator,
    Delegate,
    Operator,
}

impl Actor {
    pub fn resolve(&self, s: &Session, op: &Op) -> Viewer {
        match self {
            Actor::Any(v) => v.clone(),
            Actor::Natural(_)
                if let Op::RetryBallot { pick, .. } = op
                    && let Some(b) = picked_ballot(s, *pick) =>
            {
                Viewer::Delegate(b.delegate.clone())
            }
            Actor::Natural(i) => match op.role() {
                Role::Moderator => Viewer::Moderator,
                Role::Delegate => Viewer::Delegate(did(DELEGATE_POOL[*i % DELEGATE_POOL.len()])),
                Role::Operator => Viewer::VenueOperator(vid(VENUE_POOL[*i % VENUE_POOL.len()])),
            },
        }
    }
}

/// A command with its arguments as pool indices. A few "guided" operations
/// pick plausible arguments from the current state (still issued by a random
/// actor and still decided normally) so that random runs regularly get as far
/// as voting.
#[derive(Clone, Debug)]
pub enum Op {
    Advance(usize),
    AdvanceNext,
    Import {
        delegate: usize,
        venue: usize,
        level: usize,
    },
    CheckIn(Who),
    /// `on_behalf_of` is `None` for a delegate asking for themself.
    Submit {
        on_behalf_of: Option<Who>,
        topic: usize,
        unit: usize,
        text: Text,
    },
    Approve(u32),
    Reject(u32, Text),
    Merge(u32, u32),
    Edit(u32, Text),
    Queue(u32),
    Reorder(Vec<u32>),
    ReorderReversed,
    Second(u32),
    RequestFloor(u32),
    Grant {
        venue: usize,
        question: u32,
        secs: Option<u32>,
    },
    GrantGuided,
    Countdown(u32),
    FollowUp {
        on_behalf_of: Option<Who>,
        text: Text,
    },
    Answer {
        follow_up: Option<u32>,
        unit: usize,
        commitment_unit: Option<usize>,
    },
    AnswerGuided,
    EndFloor,
    Open(Vec<usize>),
    Ballot {
        ballot: usize,
        evaluation: u32,
        unit: usize,
        rating: usize,
    },
    BallotGuided {
        ballot: usize,
        unit: usize,
        rating: usize,
    },
    /// Re-sends an accepted ballot (picked among all of them) as its caster:
    /// unchanged or padded (an idempotent retry), with another rating (a
    /// reused ballot id) or with a fresh id (a second vote).
    RetryBallot {
        pick: usize,
        change: Retry,
    },
    Close(u32),
    CloseGuided,
}

impl Op {
    pub fn role(&self) -> Role {
        match self {
            Op::CheckIn(_) | Op::Second(_) | Op::Ballot { .. } | Op::BallotGuided { .. } | Op::RetryBallot { .. } => Role::Delegate,
            Op::Submit { on_behalf_of: None, .. } | Op::FollowUp { on_behalf_of: None, .. } => Role::Delegate,
            Op::Submit { .. } | Op::FollowUp { .. } | Op::RequestFloor(_) => Role::Operator,
            _ => Role::Moderator,
        }
    }
}

/// Six times in seven a value from `valid`, otherwise from `any` (which
/// includes unknown ids and other refusals).
pub fn mostly<T: Clone + std::fmt::Debug + 'static>(
    valid: impl Strategy<Value = T> + 'static,
    any: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<T> {
    prop_oneof![6 => valid, 1 => any].boxed()
}

pub fn text() -> impl Strategy<Value = Text> {
    prop_oneof![12 => Just(Text::Short), 1 => Just(Text::Blank), 1 => Just(Text::Invisible), 1 => Just(Text::Control), 1 => Just(Text::Max), 1 => Just(Text::TooLong)]
}

pub fn question() -> impl Strategy<Value = u32> {
    1u32..=6
}

/// "b1".."b3" mostly; the padded " b1 " and the blank id sometimes.
pub fn ballot_ix() -> impl Strategy<Value = usize> {
    mostly(0..3usize, 0..BALLOT_POOL.len())
}

pub fn delegate_ix() -> impl Strategy<Value = usize> {
    0..DELEGATE_POOL.len()
}

/// `advance` is the weight of guided phase advances: the tempo of the session.
pub fn op(advance: u32) -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => (0..PHASES.len()).prop_map(Op::Advance),
        advance => Just(Op::AdvanceNext),
        1 => (12..DELEGATE_POOL.len(), 0..VENUE_POOL.len(), 0..5usize)
            .prop_map(|(delegate, venue, level)| Op::Import { delegate, venue, level }),
        8 => who().prop_map(Op::CheckIn),
        6 => (proptest::option::weighted(0.4, who()), mostly(0..2usize, 0..TOPIC_POOL.len()), mostly(0..3usize, 0..UNIT_POOL.len()), text())
            .prop_map(|(on_behalf_of, topic, unit, text)| Op::Submit { on_behalf_of, topic, unit, text }),
        4 => question().prop_map(Op::Approve),
        1 => (question(), text()).prop_map(|(q, t)| Op::Reject(q, t)),
        1 => (question(), question()).prop_map(|(a, b)| Op::Merge(a, b)),
        1 => (question(), text()).prop_map(|(q, t)| Op::Edit(q, t)),
        2 => question().prop_map(Op::Queue),
        1 => proptest::collection::vec(question(), 0..4).prop_map(Op::Reorder),
        1 => Just(Op::ReorderReversed),
        2 => question().prop_map(Op::Second),
        2 => question().prop_map(Op::RequestFloor),
        1 => (0..VENUE_POOL.len(), question(), proptest::option::of(0u32..4000))
            .prop_map(|(venue, question, secs)| Op::Grant { venue, question, secs }),
        5 => Just(Op::GrantGuided),
        1 => (0u32..4000).prop_map(Op::Countdown),
        2 => (proptest::option::weighted(0.4, who()), text())
            .prop_map(|(on_behalf_of, text)| Op::FollowUp { on_behalf_of, text }),
        1 => (proptest::option::of(1u32..=6), 0..UNIT_POOL.len(), proptest::option::of(0..UNIT_POOL.len()))
            .prop_map(|(follow_up, unit, commitment_unit)| Op::Answer { follow_up, unit, commitment_unit }),
        5 => Just(Op::AnswerGuided),
        3 => Just(Op::EndFloor),
        4 => mostly(
            proptest::sample::subsequence(vec![0usize, 1, 2], 1..=3).prop_shuffle(),
            proptest::collection::vec(0..UNIT_POOL.len(), 0..4),
        )
        .prop_map(Op::Open),
        6 => (ballot_ix(), 1u32..=3, 0..UNIT_POOL.len(), 0..3usize)
            .prop_map(|(ballot, evaluation, unit, rating)| Op::Ballot { ballot, evaluation, unit, rating }),
        12 => (ballot_ix(), mostly(0..3usize, 0..UNIT_POOL.len()), 0..3usize)
            .prop_map(|(ballot, unit, rating)| Op::BallotGuided { ballot, unit, rating }),
        4 => (0..64usize, prop_oneof![Just(Retry::Same), Just(Retry::Padded), Just(Retry::OtherRating), Just(Retry::OtherId)])
            .prop_map(|(pick, change)| Op::RetryBallot { pick, change }),
        1 => (1u32..=3).prop_map(Op::Close),
        1 => Just(Op::CloseGuided),
    ]
}

pub fn any_viewer() -> impl Strategy<Value = Viewer> {
    prop_oneof![
        2 => Just(Viewer::Moderator),
        4 => delegate_ix().prop_map(|i| Viewer::Delegate(did(DELEGATE_POOL[i]))),
        2 => (0..VENUE_POOL.len()).prop_map(|i| Viewer::VenueOperator(vid(VENUE_POOL[i]))),
        1 => Just(Viewer::Screen),
        1 => Just(Viewer::Auditor),
    ]
}

pub fn actor() -> impl Strategy<Value = Actor> {
    prop_oneof![3 => (0..64usize).prop_map(Actor::Natural), 1 => any_viewer().prop_map(Actor::Any)]
}

pub fn level(i: usize) -> DelegateLevel {
    DelegateLevel::ALL[i]
}

/// Turns an operation into a concrete command against the current state.
pub fn command(s: &Session, actor: &Viewer, op: &Op) -> Command {
    let d = |i: usize| did(DELEGATE_POOL[i]);
    let unit = |i: usize| uid(UNIT_POOL[i]);
    let q = QuestionId;
    match op {
        Op::Advance(p) => Command::AdvancePhase { to: PHASES[*p] },
        // Guided advances stop at evaluation, so that runs spend time voting;
        // `Advance(Closed)` still closes sessions now and then.
        Op::AdvanceNext => Command::AdvancePhase { to: s.phase().next().filter(|p| *p != Phase::Closed).unwrap_or(Phase::Evaluation) },
        Op::Import { delegate: i, venue, level: l } => Command::ImportDelegates {
            delegates: vec![Delegate { id: d(*i), name: "新代表".into(), level: level(*l), venue: vid(VENUE_POOL[*venue]) }],
        },
        Op::CheckIn(w) => Command::CheckIn { delegate: w.resolve(actor) },
        Op::Submit { on_behalf_of, topic, unit: u, text } => Command::SubmitQuestion {
            on_behalf_of: on_behalf_of.as_ref().map(|w| w.resolve(actor)),
            topic: tid(TOPIC_POOL[*topic]),
            unit: unit(*u),
            text: text.render(),
        },
        Op::Approve(x) => Command::ApproveQuestion { question: q(*x) },
        Op::Reject(x, t) => Command::RejectQuestion { question: q(*x), reason: t.render() },
        Op::Merge(a, b) => Command::MergeQuestion { question: q(*a), into: q(*b) },
        Op::Edit(x, t) => Command::EditQuestion { question: q(*x), text: t.render() },
        Op::Queue(x) => Command::QueueQuestion { question: q(*x) },
        Op::Reorder(v) => Command::ReorderQueue { order: v.iter().copied().map(q).collect() },
        Op::ReorderReversed => Command::ReorderQueue { order: s.queue().iter().rev().copied().collect() },
        Op::Second(x) => Command::SecondQuestion { question: q(*x) },
        Op::RequestFloor(x) => Command::RequestFloor { question: q(*x) },
        Op::Grant { venue, question, secs } => {
            Command::GrantFloor { venue: vid(VENUE_POOL[*venue]), question: q(*question), answer_seconds: *secs }
        }
        Op::GrantGuided => {
            let pick =
                s.queue().first().and_then(|id| s.question(*id)).or_else(|| s.questions().find(|x| x.status == QuestionStatus::Approved));
            match pick {
                Some(x) => Command::GrantFloor { venue: x.venues[0].clone(), question: x.id, answer_seconds: None },
                None => Command::GrantFloor { venue: vid(MAIN), question: q(1), answer_seconds: None },
            }
        }
        Op::Countdown(secs) => Command::StartCountdown { seconds: *secs },
        Op::FollowUp { on_behalf_of, text } => {
            Command::AddFollowUp { on_behalf_of: on_behalf_of.as_ref().map(|w| w.resolve(actor)), text: text.render() }
        }
        Op::Answer { follow_up, unit: u, commitment_unit } => Command::RecordAnswer {
            follow_up: follow_up.map(FollowUpId),
            unit: unit(*u),
            official: "局长".into(),
            summary: "答复".into(),
            commitments: commitment_unit
                .iter()
                .map(|c| CommitmentDraft { what: "承诺".into(), unit: unit(*c), due: CalendarDate::new(2026, 12, 31).unwrap() })
                .collect(),
        },
        Op::AnswerGuided => {
            let follow_up = s
                .floor()
                .and_then(|f| s.question(f.question))
                .filter(|x| x.answer.is_some())
                .and_then(|x| x.follow_ups.iter().find(|f| f.answer.is_none()))
                .map(|f| f.id);
            let mut c = answer_cmd(follow_up);
            if let Command::RecordAnswer { unit: u, .. } = &mut c {
                *u = uid(UNITS[1]);
            }
            c
        }
        Op::EndFloor => Command::EndFloor,
        Op::Open(units) => Command::OpenEvaluation { units: units.iter().map(|u| unit(*u)).collect() },
        Op::Ballot { ballot: b, evaluation, unit: u, rating } => Command::CastBallot {
            ballot_id: bid(BALLOT_POOL[*b]),
            evaluation: EvaluationId(*evaluation),
            unit: unit(*u),
            rating: Rating::ALL[*rating],
        },
        Op::BallotGuided { ballot: b, unit: u, rating } => {
            let evaluation = s.open_evaluation().or_else(|| s.evaluations().last()).map_or(EvaluationId(1), |e| e.id);
            Command::CastBallot { ballot_id: bid(BALLOT_POOL[*b]), evaluation, unit: unit(*u), rating: Rating::ALL[*rating] }
        }
        Op::RetryBallot { pick, change } => match picked_ballot(s, *pick) {
            None => ballot("b1", 1, UNITS[0], Rating::Satisfied),
            Some(b) => {
                let next = |r: Rating| Rating::ALL[(Rating::ALL.iter().position(|x| *x == r).unwrap() + 1) % 3];
                let (id, rating) = match change {
                    Retry::Same => (b.ballot_id.clone(), b.rating),
                    Retry::Padded => (bid(&format!(" {} ", b.ballot_id)), b.rating),
                    Retry::OtherRating => (b.ballot_id.clone(), next(b.rating)),
                    Retry::OtherId => (bid("b9"), b.rating),
                };
                Command::CastBallot { ballot_id: id, evaluation: b.evaluation, unit: b.unit.clone(), rating }
            }
        },
        Op::Close(x) => Command::CloseEvaluation { evaluation: EvaluationId(*x) },
        Op::CloseGuided => Command::CloseEvaluation { evaluation: s.open_evaluation().map_or(EvaluationId(1), |e| e.id) },
    }
}

/// A run: brisk sessions reach voting early; deliberate ones spend long in
/// questioning and on the floor.
pub fn steps(len: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = Vec<(Actor, Op)>> {
    prop_oneof![proptest::collection::vec((actor(), op(6)), len.clone()), proptest::collection::vec((actor(), op(3)), len),]
}

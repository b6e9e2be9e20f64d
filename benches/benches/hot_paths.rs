//! Criterion micro-benchmarks of the session actor's hot functions (issue 11).
//!
//! One actor owns a session and runs everything for it on one task, so what
//! it does per event and per connection bounds how many delegates, screens
//! and stations a session can serve. This measures those functions alone,
//! without sockets or a store, on the demo's session (Xixia County: 1 main +
//! 19 sub-venues, 320 delegates, 6 respondent units), parsed from its
//! definition file and driven with `Session::decide`/`apply` like the hub:
//!
//! * `event/*`: rendering one event for one perspective and encoding it
//!   (`render::event(..).encode()`), which the actor does once per
//!   perspective for every applied event: an announcement and a ballot;
//! * `snapshot/*`: the whole state for one viewer, sent on every (re)connect:
//!   the screen and the moderator, at the opening (everyone checked in, no
//!   question yet) and after 30 questions asked and answered;
//! * `tally/*`: counting ballots (`Tally::count`), and what the actor really
//!   runs per ballot: `decide` then `apply` (which counts it), including
//!   the copy-on-write of the evaluation the first ballot of a batch pays;
//! * `stats/*`: the live numbers (`render::stats`) per audience, the
//!   presence count of every venue they start with, and the comparison
//!   with the last ones sent that decides whether a stats tick sends
//!   anything.
//!
//! `cargo bench -p wz-bench --bench hot_paths -- --quick`; figures in
//! docs/benchmarks.md. Nothing here asserts a time: CI only type-checks it.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use std::collections::BTreeMap;
use std::hint::black_box;
use wz_domain::announce::AnnouncementCommand;
use wz_domain::{
    BallotId, CalendarDate, Change, Command, CommitmentDraft, DelegateId, EvaluationId, Event, Millis, Perspective, Phase, QuestionId,
    Rating, Seal, Session, SessionDef, Tally, UnitId, VenueId, Viewer,
};
use wz_protocol::definition::SessionDefinition;
use wz_protocol::render::{self, Health, Scope};
use wz_protocol::server::StatsDto;

/// 2026-05-16 09:00 (Beijing), roughly when such a session runs.
const START: u64 = 1_778_893_200_000;
const EPOCH: wz_protocol::Epoch = wz_protocol::Epoch::new(0x5eed_0000_2026_0001);
/// A sub-venue (白羽街道) and one of its delegates, for the per-venue and
/// per-delegate perspectives.
const VENUE: &str = "baiyu";

/// The demo definition, written as a definition file and read back the way
/// `serve --session-file` reads one.
fn definition() -> SessionDef {
    let file = SessionDefinition::from_domain(&wz_server::demo::definition());
    let text = toml::to_string(&file).expect("a definition serialises to TOML");
    SessionDefinition::from_toml(&text).expect("parses").into_domain().expect("valid")
}

/// A session driven command by command, as the actor does (without a store).
#[derive(Clone)]
struct Driver {
    s: Session,
    now: u64,
}

impl Driver {
    /// Decides and applies one command; returns the events with their changes.
    fn run(&mut self, actor: &Viewer, cmd: Command) -> Vec<(Event, Vec<Change>)> {
        self.now += 1_000;
        let out = self.s.decide(actor, &cmd, Millis(self.now)).unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
        out.events
            .into_iter()
            .map(|e| {
                let changes = self.s.apply(&e).expect("a decided event applies");
                (e, changes)
            })
            .collect()
    }

    fn delegates(&self) -> Vec<(DelegateId, VenueId)> {
        self.s.delegates().map(|d| (d.id.clone(), d.venue.clone())).collect()
    }

    fn units(&self) -> Vec<UnitId> {
        self.s.def().units.iter().map(|u| u.id.clone()).collect()
    }
}

/// The opening: every delegate checked in by their station, questioning open.
fn opening() -> Driver {
    let s = Session::new(definition()).with_seal(Seal([7; 32]));
    let mut d = Driver { s, now: START };
    let m = Viewer::Moderator;
    d.run(&m, Command::AdvancePhase { to: Phase::CheckIn });
    for (id, venue) in d.delegates() {
        d.run(&Viewer::VenueOperator(venue), Command::CheckIn { delegate: id });
    }
    d.run(&m, Command::AdvancePhase { to: Phase::Questioning });
    d
}

const QUESTION: &str = "农村留守老人助餐服务覆盖率目前只有三成左右，部分行政村的老年食堂建成后因运营经费不足而停办，请问民政局准备如何建立长效的运营补贴机制，何时能够实现全覆盖？";
const ANSWER: &str = "感谢代表的提问。县民政局已会同财政局制定老年助餐服务运营补贴办法，按照每餐两元的标准对运营主体给予补贴，并将助餐服务纳入乡镇年度考核。今年计划新建农村老年食堂四十个，对停办的十二个食堂逐一督导恢复运营，力争年底前实现行政村助餐服务全覆盖，并通过慈善资金、村集体经济等多渠道筹措运营经费。";

/// `opening` after 30 questions, each asked by a delegate (spread over the
/// venues and topics), seconded by five others, approved, queued, given the
/// floor, asked once more (追问 on every third), answered with a commitment,
/// and ended.
fn asked(n: usize) -> Driver {
    let mut d = opening();
    let m = Viewer::Moderator;
    let people = d.delegates();
    let units = d.units();
    let topics: Vec<_> = d.s.def().topics.iter().map(|t| t.id.clone()).collect();
    for i in 0..n {
        let (asker, venue) = people[(i * 37) % people.len()].clone();
        let unit = units[i % units.len()].clone();
        let text = format!("（第{}问）{QUESTION}", i + 1);
        let cmd = Command::SubmitQuestion { on_behalf_of: None, topic: topics[i % topics.len()].clone(), unit: unit.clone(), text };
        d.run(&Viewer::Delegate(asker.clone()), cmd);
        let q = QuestionId(i as u32 + 1);
        d.run(&m, Command::ApproveQuestion { question: q });
        for k in 1..=5 {
            let (seconder, _) = people[(i * 37 + k * 53) % people.len()].clone();
            d.run(&Viewer::Delegate(seconder), Command::SecondQuestion { question: q });
        }
        d.run(&m, Command::QueueQuestion { question: q });
        d.run(&m, Command::GrantFloor { venue: venue.clone(), question: q, answer_seconds: None });
        d.run(&m, Command::StartCountdown { seconds: 300 });
        let answer = |follow_up| Command::RecordAnswer {
            follow_up,
            unit: unit.clone(),
            official: "县民政局局长 李建国".into(),
            summary: ANSWER.into(),
            commitments: vec![CommitmentDraft {
                what: "年底前实现行政村助餐服务全覆盖".into(),
                unit: unit.clone(),
                due: CalendarDate::new(2026, 12, 31).expect("a date"),
            }],
        };
        d.run(&m, answer(None));
        if i % 3 == 0 {
            let text = "补贴资金从哪里来，是否列入今年的财政预算？".to_owned();
            let out = d.run(&Viewer::Delegate(asker), Command::AddFollowUp { on_behalf_of: None, text });
            let Event::FollowUpAdded { follow_up, .. } = &out[0].0 else { unreachable!("a follow-up") };
            d.run(&m, answer(Some(*follow_up)));
        }
        d.run(&m, Command::EndFloor);
    }
    d
}

/// `asked(30)` in the evaluation phase with every unit under evaluation.
fn evaluating() -> Driver {
    let mut d = asked(30);
    let m = Viewer::Moderator;
    d.run(&m, Command::AdvancePhase { to: Phase::Evaluation });
    let units = d.units();
    d.run(&m, Command::OpenEvaluation { units });
    d
}

/// Every delegate's ballot for every unit (320 × 6), in casting order.
fn ballots(d: &Driver) -> Vec<(Viewer, Command)> {
    let units = d.units();
    let mut out = Vec::new();
    for (i, (id, _)) in d.delegates().into_iter().enumerate() {
        for (j, unit) in units.iter().enumerate() {
            let rating = match (i * 7 + j * 3) % 10 {
                0 => Rating::Dissatisfied,
                1..=3 => Rating::BasicallySatisfied,
                _ => Rating::Satisfied,
            };
            let cmd = Command::CastBallot {
                ballot_id: BallotId(format!("{}-e1-{}", id.0, unit.0)),
                evaluation: EvaluationId(1),
                unit: unit.clone(),
                rating,
            };
            out.push((Viewer::Delegate(id.clone()), cmd));
        }
    }
    out
}

/// What the hub knows besides the session: a connection count and a last
/// message per venue, and the record's hash chain head.
fn health(s: &Session, now: Millis) -> Health {
    let venues = s.def().venues.iter().map(|v| v.id.clone());
    Health {
        store_available: true,
        warnings: Vec::new(),
        connections: venues.clone().map(|v| (v, 18)).collect(),
        last_seen: venues.map(|v| (v, Millis(now.0 - 1_500))).collect(),
        chain_head: Some("5eed".repeat(16)),
    }
}

fn perspectives(delegate: &DelegateId) -> [(&'static str, Perspective); 4] {
    [
        ("public", Perspective::Public),
        ("moderator", Perspective::Moderator),
        ("venue", Perspective::Venue(VenueId::new(VENUE))),
        ("delegate", Perspective::Delegate(delegate.clone())),
    ]
}

/// One event rendered and encoded for each of four perspectives. A ballot
/// renders to nothing but for its caster (secret ballot): the others
/// measure finding that out.
fn bench_events(c: &mut Criterion) {
    let mut d = asked(30);
    let announcement =
        AnnouncementCommand::Make { text: "休会五分钟，请各分会场做好测评准备。".into(), venues: Vec::new() };
    let announced = d.run(&Viewer::Moderator, Command::Announcement(announcement)).remove(0);
    let ann_seq = d.s.seq();
    let ann_caster = d.delegates().into_iter().find(|(_, v)| v.0 == VENUE).expect("a delegate of the venue").0;

    let mut e = evaluating();
    let (voter, vote) = ballots(&e).remove(0);
    let Viewer::Delegate(caster) = voter.clone() else { unreachable!("ballots are cast by delegates") };
    let cast = e.run(&voter, vote).remove(0);
    let cast_seq = e.s.seq();

    let mut g = c.benchmark_group("event");
    for (name, s, (event, changes), seq, who) in
        [("announcement", &d.s, &announced, ann_seq, &ann_caster), ("ballot", &e.s, &cast, cast_seq, &caster)]
    {
        for (p_name, p) in perspectives(who) {
            g.bench_function(format!("{name}/{p_name}"), |b| {
                b.iter(|| render::event(Scope::of(s), seq, event.at(), event.kind(), black_box(changes), &p).map(|m| m.encode()))
            });
        }
    }
    g.finish();
}

fn bench_snapshots(c: &mut Criterion) {
    let fresh = opening().s;
    let busy = asked(30).s;
    let mut g = c.benchmark_group("snapshot");
    for (state, s) in [("opening", &fresh), ("30_answered", &busy)] {
        let now = Millis(START + 3_600_000);
        let health = health(s, now);
        for (who, viewer) in [("screen", Viewer::Screen), ("moderator", Viewer::Moderator)] {
            let size = render::snapshot(s, EPOCH, &viewer, &health, now).encode().len();
            eprintln!("snapshot/{state}/{who}: {size} bytes");
            g.bench_function(format!("{state}/{who}"), |b| {
                b.iter(|| render::snapshot(black_box(s), EPOCH, &viewer, &health, now).encode())
            });
        }
        // What a screen gets over the WebSocket: settled questions abridged.
        let size = render::screen_snapshot(s, EPOCH, &health, now).encode().len();
        eprintln!("snapshot/{state}/screen_ws: {size} bytes");
        g.bench_function(format!("{state}/screen_ws"), |b| b.iter(|| render::screen_snapshot(black_box(s), EPOCH, &health, now).encode()));
    }
    g.finish();
}

fn bench_tally(c: &mut Criterion) {
    let open = evaluating();
    let all = ballots(&open);
    let n = all.len() as u64;
    // What `Tally::count` gets for each ballot.
    let counted: Vec<_> = all
        .iter()
        .map(|(v, cmd)| {
            let (Viewer::Delegate(id), Command::CastBallot { unit, rating, .. }) = (v, cmd) else { unreachable!("ballots") };
            let del = open.s.delegate(id).expect("on the roster");
            (unit.clone(), del.venue.clone(), del.level, id.clone(), *rating)
        })
        .collect();
    let units = open.units();

    let mut g = c.benchmark_group("tally");
    g.throughput(Throughput::Elements(n));
    g.bench_function("count/320x6", |b| {
        b.iter(|| {
            let mut t = Tally::new(&units);
            for (unit, venue, level, delegate, rating) in &counted {
                t.count(unit, venue, *level, delegate, *rating);
            }
            t
        })
    });
    // Every ballot through decide and apply, one after the other (one
    // batch: the evaluation is copied once, while still empty).
    g.bench_function("decide_apply/320x6", |b| {
        b.iter_batched(
            || open.s.clone(),
            |mut s| {
                let at = Millis(START + 7_200_000);
                for (viewer, cmd) in &all {
                    let out = s.decide(viewer, cmd, at).expect("accepted");
                    for e in &out.events {
                        s.apply(e).expect("applies");
                    }
                }
                s
            },
            BatchSize::LargeInput,
        )
    });
    g.throughput(Throughput::Elements(1));
    // The last ballot, with 1,919 cast: decide alone, and decide + apply
    // as the first ballot of a batch (the actor keeps a clone of the state
    // to restore, so apply copies the shared evaluation with its ballots).
    let mut almost = open.clone();
    let (last_viewer, last) = all.last().cloned().expect("ballots");
    for (viewer, cmd) in &all[..all.len() - 1] {
        almost.run(viewer, cmd.clone());
    }
    let at = Millis(almost.now + 1_000);
    g.bench_function("decide/last_of_1920", |b| b.iter(|| almost.s.decide(&last_viewer, black_box(&last), at)));
    g.bench_function("decide_apply/last_of_1920_first_in_batch", |b| {
        b.iter_batched(
            || almost.s.clone(),
            |mut s| {
                let out = s.decide(&last_viewer, &last, at).expect("accepted");
                let changes = s.apply(&out.events[0]).expect("applies");
                (s, changes)
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn bench_stats(c: &mut Criterion) {
    // Half the delegates have voted on every unit.
    let mut d = evaluating();
    let all = ballots(&d);
    for (viewer, cmd) in &all[..all.len() / 2] {
        d.run(viewer, cmd.clone());
    }
    let s = &d.s;
    let now = Millis(d.now + 500);
    let health = health(s, now);
    let mut g = c.benchmark_group("stats");
    let mut sent: BTreeMap<&str, StatsDto> = BTreeMap::new();
    for (name, p) in
        [("public", Perspective::Public), ("moderator", Perspective::Moderator), ("venue", Perspective::Venue(VenueId::new(VENUE)))]
    {
        g.bench_function(format!("render/{name}"), |b| b.iter(|| render::stats(black_box(s), &p, &health, now)));
        let stats = render::stats(s, &p, &health, now);
        sent.insert(name, StatsDto { seq: 0, server_time: 0, ..stats });
    }
    // The part of every stats (and so every snapshot) that grows with the
    // roster: present / roster of each venue, as `render::stats` reads it.
    g.bench_function("presence/all_venues", |b| {
        b.iter(|| s.def().venues.iter().map(|v| black_box(s).presence(&v.id)).fold(0, |n, (p, r)| n + p + r))
    });
    // The actor's test whether a tick changed anything for an audience: its
    // stats with seq and time zeroed against the last sent (here equal, so
    // every field is compared).
    let moderator = render::stats(s, &Perspective::Moderator, &health, Millis(now.0 + 250));
    let last = &sent["moderator"];
    g.bench_function("unchanged/moderator", |b| {
        b.iter(|| {
            let content = StatsDto { seq: 0, server_time: 0, ..black_box(&moderator).clone() };
            content != *last
        })
    });
    g.finish();
}

criterion_group!(benches, bench_events, bench_snapshots, bench_tally, bench_stats);
criterion_main!(benches);

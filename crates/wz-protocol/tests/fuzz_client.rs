//! Property-based fuzzing of client messages: hostile JSON through
//! `client::parse`, `into_domain`, `Session::decide` and `Session::apply`
//! against several session states for every role (`fuzz_harness/`). Runs in a
//! few seconds as a normal `cargo test`; `WZ_FUZZ_CASES` (default 3000) runs
//! more. The long coverage-guided run is the cargo-fuzz target in `fuzz/`
//! (docs/operations.md, "Fuzzing").
//!
//! The generator starts from the real client messages of docs/protocol.md
//! section 4 and mutates them: fields replaced by plausible values (so
//! commands get accepted and reach the tallies) or by hostile ones (huge and
//! negative numbers, wrong types, deep nesting, lone surrogates, invisible
//! and control characters, very long strings), fields removed, duplicated or
//! added, the type changed, the text truncated or a byte inserted. Random
//! bytes and random strings are in the mix too.

mod common;
mod fuzz_harness;

use fuzz_harness::Tried;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;
use std::cell::Cell;
use std::sync::LazyLock;
use wz_domain::Session;

const PROTOCOL_MD: &str = include_str!("../../../docs/protocol.md");

static STATES: LazyLock<Vec<(&'static str, Session)>> = LazyLock::new(fuzz_harness::states);

/// The client messages shown in docs/protocol.md section 4, as (key, raw JSON value) pairs.
fn doc_examples() -> Vec<Vec<(String, String)>> {
    let start = PROTOCOL_MD.find("## 4. Client commands").expect("section 4");
    let end = PROTOCOL_MD.find("## 5. Server messages").expect("section 5");
    PROTOCOL_MD[start..end]
        .split("```json")
        .skip(1)
        .filter_map(|block| block.split("```").next())
        .filter_map(|json| serde_json::from_str::<Value>(json).ok())
        .filter(|v| v.get("type").is_some())
        .map(|v| v.as_object().expect("an object").iter().map(|(k, v)| (k.clone(), v.to_string())).collect())
        .collect()
}

static TEMPLATES: LazyLock<Vec<Vec<(String, String)>>> = LazyLock::new(doc_examples);

const TYPES: [&str; 45] = [
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
    "import_delegates",
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

fn quoted(s: &str) -> String {
    serde_json::to_string(s).expect("a string encodes")
}

/// Values a field of this name plausibly has: real ids of the test session,
/// boundaries of the limits, near misses.
fn plausible(key: &str) -> Vec<String> {
    let q = |xs: &[&str]| xs.iter().map(|x| quoted(x)).collect::<Vec<_>>();
    let raw = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let texts = || {
        let mut t = q(&["改造资金从哪里来？", "  ", "\u{200B}\u{200D}\u{FEFF}", "\u{1b}[31m红\u{7}", "\u{202E}abc", "a\u{0}b", "e\u{301}"]);
        t.push(quoted(&"问".repeat(500)));
        t.push(quoted(&"问".repeat(501)));
        t.push(quoted(&"x".repeat(4001)));
        t
    };
    match key {
        "id" => {
            let mut v = q(&["c-1", "", "\u{0}", "d002-01"]);
            v.push(quoted(&"x".repeat(65)));
            v.push(quoted(&"问".repeat(64)));
            v
        }
        "type" => q(&TYPES),
        "question" | "into" | "evaluation" | "follow_up" | "item" | "from" => raw(&["0", "1", "2", "3", "4", "5", "6", "7", "4294967295"]),
        "lead" => q(&["minzheng", "weijian", "caizheng", ""]),
        "co_units" => raw(&["[]", r#"["weijian"]"#, r#"["minzheng"]"#, r#"["weijian","weijian"]"#, r#"["x"]"#]),
        "deadline" | "until" => q(&["2026-12-31", "2027-02-28", "2025-01-01", "2026-02-30", "9999-12-31", "", "2026-1-1"]),
        "priority" => q(&["normal", "supervised", "urgent"]),
        "grant" | "public" | "rehandle" => raw(&["true", "false", "1"]),
        "file" => q(&["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "x", ""]),
        "delegate" | "on_behalf_of" => q(&["d001", "d002", "d003", "d004", "d005", "d006", "d999", "", "D001"]),
        "venue" => q(&["main", "baiyu", "qiaotou", "nowhere"]),
        "unit" => q(&["minzheng", "weijian", "caizheng"]),
        "topic" => q(&["policy", "service", "roads"]),
        "rating" => q(&["satisfied", "basically_satisfied", "dissatisfied", "SATISFIED"]),
        "to" => q(&["preparing", "check_in", "questioning", "evaluation", "closed", "archived"]),
        "seconds" | "answer_seconds" => raw(&["0", "1", "180", "3600", "3601", "4294967295"]),
        "units" => raw(&["[]", r#"["minzheng"]"#, r#"["minzheng","minzheng"]"#, r#"["minzheng","weijian"]"#, r#"["weijian"]"#, r#"["x"]"#]),
        "order" => raw(&["[]", "[1]", "[2,1]", "[1,2]", "[1,1]", "[1,2,3,4,5]"]),
        "ballot_id" => {
            let mut v = q(&["b-1", "", "b-d001-03", " b ", "\u{200B}"]);
            v.push(quoted(&"b".repeat(65)));
            v
        }
        "commitments" => {
            let one = |due: &str| format!(r#"{{"what":"完成改造","unit":"minzheng","due":{}}}"#, quoted(due));
            let mut v: Vec<String> =
                ["2026-12-31", "2026-02-30", "2026-13-01", "0000-01-01", "9999-12-31", "2024-02-29", "2023-02-29", "", "2026-1-1"]
                    .iter()
                    .map(|d| format!("[{}]", one(d)))
                    .collect();
            v.push("[]".into());
            v.push(format!("[{}]", vec![one("2026-12-31"); 21].join(",")));
            v.push(r#"[{"what":"x","unit":"nope","due":"2026-12-31"}]"#.into());
            v
        }
        _ => texts(),
    }
}

/// A value no well-behaved client sends.
fn hostile() -> impl Strategy<Value = String> {
    let fixed = [
        "null",
        "true",
        "false",
        "[]",
        "{}",
        "-1",
        "-0",
        "1.5",
        "1e400",
        "-1e400",
        "1e-400",
        "18446744073709551616",
        "4294967296",
        "9007199254740993",
        "1E2",
        r#""1""#,
        r#""\ud800""#,
        r#""\udc00\ud800""#,
        r#""\u0000""#,
        r#""\u200b\u200d\ufeff""#,
        r#""\u202e""#,
        r#""\uffff""#,
        "\"\u{1F600}\"",
        "NaN",
        "Infinity",
        "01",
        "0x10",
        "",
        "[1,",
        "{\"a\":",
        "\"unterminated",
    ];
    prop_oneof![
        4 => proptest::sample::select(fixed.to_vec()).prop_map(str::to_owned),
        1 => (1usize..400).prop_map(|n| format!("{}{}", "[".repeat(n), "]".repeat(n))),
        1 => (1usize..400).prop_map(|n| format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n))),
        1 => (1usize..20_000).prop_map(|n| "[".repeat(n)),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => any::<u64>().prop_map(|n| n.to_string()),
        1 => any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| f.to_string()),
        2 => any::<String>().prop_map(|s| quoted(&s)),
        1 => (0usize..70_000).prop_map(|n| quoted(&"问".repeat(n))),
    ]
}

#[derive(Clone, Debug)]
enum Mutation {
    Plausible(usize, usize),
    Hostile(usize, String),
    Remove(usize),
    Duplicate(usize, String),
    Add(String, String),
    Truncate(usize),
    InsertByte(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        8 => (any::<usize>(), any::<usize>()).prop_map(|(f, v)| Mutation::Plausible(f, v)),
        3 => (any::<usize>(), hostile()).prop_map(|(f, v)| Mutation::Hostile(f, v)),
        1 => any::<usize>().prop_map(Mutation::Remove),
        1 => (any::<usize>(), hostile()).prop_map(|(f, v)| Mutation::Duplicate(f, v)),
        1 => ("[a-z_]{0,12}", hostile()).prop_map(|(k, v)| Mutation::Add(k, v)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Mutation::InsertByte(at, b)),
    ]
}

/// Applies the mutations to template `t` and writes the frame.
fn build(t: usize, mutations: &[Mutation]) -> String {
    let mut fields = TEMPLATES[t % TEMPLATES.len()].clone();
    let mut extra = Vec::new();
    let mut cut = Vec::new();
    for m in mutations {
        let n = fields.len().max(1);
        match m {
            Mutation::Plausible(f, v) if !fields.is_empty() => {
                let key = fields[f % n].0.clone();
                let pool = plausible(&key);
                fields[f % n].1 = pool[v % pool.len()].clone();
            }
            Mutation::Hostile(f, v) if !fields.is_empty() => fields[f % n].1 = v.clone(),
            Mutation::Remove(f) if !fields.is_empty() => {
                fields.remove(f % n);
            }
            Mutation::Duplicate(f, v) if !fields.is_empty() => extra.push((fields[f % n].0.clone(), v.clone())),
            Mutation::Add(k, v) => extra.push((k.clone(), v.clone())),
            Mutation::Truncate(_) | Mutation::InsertByte(..) => cut.push(m.clone()),
            _ => {}
        }
    }
    fields.extend(extra);
    let body: Vec<String> = fields.iter().map(|(k, v)| format!("{}:{v}", quoted(k))).collect();
    let mut bytes = format!("{{{}}}", body.join(",")).into_bytes();
    for m in cut {
        match m {
            Mutation::Truncate(at) => bytes.truncate(at % (bytes.len() + 1)),
            Mutation::InsertByte(at, b) => bytes.insert(at % (bytes.len() + 1), b),
            _ => unreachable!(),
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Hostile frames: mostly mutated real messages, some plain garbage.
fn frame() -> impl Strategy<Value = String> {
    prop_oneof![
        10 => (any::<usize>(), proptest::collection::vec(mutation(), 0..5)).prop_map(|(t, ms)| build(t, &ms)),
        1 => proptest::collection::vec(any::<u8>(), 0..200).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        1 => any::<String>(),
        1 => hostile(),
    ]
}

#[test]
fn the_docs_show_every_client_command() {
    let shown: std::collections::BTreeSet<String> =
        TEMPLATES.iter().map(|t| t.iter().find(|(k, _)| k == "type").expect("type").1.trim_matches('"').to_owned()).collect();
    for t in TYPES.iter().filter(|t| **t != "import_delegates") {
        assert!(shown.contains(*t), "docs/protocol.md section 4 has no example of {t}");
    }
}

#[test]
fn the_docs_examples_run_clean_against_every_state_and_role() {
    let mut accepted = 0;
    for t in 0..TEMPLATES.len() {
        accepted += fuzz_harness::check(&build(t, &[]), &STATES).accepted;
    }
    assert!(accepted > 0, "no documented command was accepted anywhere: the harness reaches no state change");
}

#[test]
fn extreme_frames_are_refused_without_harm() {
    for text in [
        "[".repeat(1_000_000),
        format!("{}1{}", "{\"a\":".repeat(100_000), "}".repeat(100_000)),
        format!(r#"{{"id":"x","type":"ping","pad":{}}}"#, "[".repeat(100_000) + &"]".repeat(100_000)),
        format!(r#"{{"id":"x","type":"submit_question","topic":"policy","unit":"minzheng","text":{}}}"#, quoted(&"问".repeat(100_000))),
        r#"{"id":"x","type":"approve_question","question":1e400}"#.to_owned(),
        r#"{"id":"x","type":"approve_question","question":18446744073709551616}"#.to_owned(),
        r#"{"id":"\ud800","type":"ping"}"#.to_owned(),
        r#"{"id":"x","id":"y","type":"ping"}"#.to_owned(),
        r#"{"id":"x","type":"ping","type":"end_floor"}"#.to_owned(),
    ] {
        fuzz_harness::check(&text, &STATES);
    }
}

#[test]
fn hostile_client_frames_never_break_the_session() {
    let cases = std::env::var("WZ_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(3000);
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let total = Cell::new(Tried::default());
    let frames = Cell::new(0u32);
    runner
        .run(&frame(), |text| {
            let t = fuzz_harness::check(&text, &STATES);
            let mut sum = total.get();
            sum.unparsable |= t.unparsable;
            sum.accepted += t.accepted;
            sum.refused += t.refused;
            total.set(sum);
            frames.set(frames.get() + u32::from(t.accepted > 0));
            Ok(())
        })
        .unwrap();
    let t = total.get();
    eprintln!(
        "fuzz_client: {cases} frames, {} with an accepted command, {} decisions accepted, {} refused",
        frames.get(),
        t.accepted,
        t.refused
    );
    // The generator must reach every outcome, or the run proves little.
    assert!(t.unparsable, "no frame was refused by the parser");
    assert!(t.refused > 0, "no command was refused by the domain");
    assert!(frames.get() > cases / 100, "too few frames reached an accepted command ({})", frames.get());
}

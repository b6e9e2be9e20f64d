//! Golden tests of what outlives a connection: ballot finality and receipts
//! (codes by the documented formula), stored event and definition records,
//! and session definition files (TOML, JSON, delegate CSV).
//!
//! What each perspective receives is compared with the committed snapshots
//! under `tests/snapshots/` (insta; under `CI=true` a mismatch or a missing
//! snapshot fails instead of being written). To update after an intended
//! change: `INSTA_UPDATE=always cargo test -p wz-protocol --test golden_stored`,
//! then review every changed `.snap` by eye.

mod common;

use common::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use wz_domain as d;
use wz_domain::{Event, Millis, Session, Viewer};
use wz_protocol::definition::{SessionDefinition, parse_delegates_csv};
use wz_protocol::dto::{Level, Rating};
use wz_protocol::render;
use wz_protocol::server::{AckDto, AckResult, ServerMessage};
use wz_protocol::stored::{self, StoredError};

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
    let code = render::receipt_code(SESSION, None, &b);
    assert_eq!(code, render::receipt_code(SESSION, None, &b), "deterministic");
    assert_eq!(code.len(), 16);
    assert!(code.bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    let digest = Sha256::digest(b"wz-receipt-v1|xixia-2026|1|minzheng|d002|b-7f3a|basically_satisfied|35");
    assert_eq!(code, hex::encode(&digest[..8]));
    insta::assert_snapshot!("receipt_code", code);

    let r = render::receipt(SESSION, None, &b);
    assert_eq!((r.code.as_str(), r.seq, r.at, r.rating), (code.as_str(), 35, T0, Rating::BasicallySatisfied));
}

#[test]
fn a_sealed_session_keys_its_codes_so_nobody_without_the_seal_can_recompute_them() {
    let b = ballot();
    let seal = d::Seal([7; 32]);
    let code = render::receipt_code(SESSION, Some(&seal), &b);
    // The documented formula: SHA-256 over the seal, then the v2 text.
    let mut h = Sha256::new();
    h.update([7u8; 32]);
    h.update(b"wz-receipt-v2|xixia-2026|1|minzheng|d002|b-7f3a|basically_satisfied|35");
    assert_eq!(code, hex::encode(&h.finalize()[..8]));
    // Knowing everything but the seal gives neither the v1 code nor any
    // other seal's code.
    assert_ne!(code, render::receipt_code(SESSION, None, &b));
    assert_ne!(code, render::receipt_code(SESSION, Some(&d::Seal([8; 32])), &b));
    for rating in [d::Rating::Satisfied, d::Rating::Dissatisfied] {
        let mut x = ballot();
        x.rating = rating;
        assert_ne!(render::receipt_code(SESSION, Some(&seal), &x), code);
    }
    // The seal is never printed.
    assert_eq!(format!("{seal:?}"), "Seal(..)");
}

#[test]
fn receipt_code_changes_with_every_input() {
    let b = ballot();
    let base = render::receipt_code(SESSION, None, &b);
    let mut variants: Vec<(&str, String)> = vec![("session", render::receipt_code("xixia-2027", None, &b))];
    let mut v = |what: &'static str, f: &dyn Fn(&mut d::Ballot)| {
        let mut x = ballot();
        f(&mut x);
        variants.push((what, render::receipt_code(SESSION, None, &x)));
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
    assert_eq!(render::receipt_code(SESSION, None, &x), base);
}

#[test]
fn receipts_in_acks_match_the_casters_own_ballots_and_the_public_record() {
    let sc = scenario();
    let header = stored::encode_definition(&definition(), EPOCH);
    let (records, _) = chained(&header, &sc.end.steps);
    let public = wz_protocol::record::build(&header, &records, &sc.end.s).unwrap();
    for (id, caster) in [("d001-03", "d001"), ("d002-02", "d002"), ("d004-02", "d004"), ("d002-03", "d002")] {
        let r = receipt(&sc.end.sent(id).reply);
        // The caster's own snapshot holds it, as acknowledged.
        let own = snapshot_dto(sc.end.snapshot(&Viewer::Delegate(d::DelegateId::new(caster))));
        let b = own.ballots.iter().find(|b| b.receipt.ballot_id == r.ballot_id).expect("the caster sees it");
        assert_eq!(b.receipt, r);
        // The public record lists its choice under its code, and nothing else of it.
        let listed = public.choices.iter().find(|c| c.code == r.code).expect("listed under its code");
        assert_eq!((listed.rating, listed.unit.as_str()), (r.rating, r.unit.as_str()));
        // Without a seal (a session stored before seals) the code is the v1 formula.
        let rating = serde_json::to_value(r.rating).unwrap();
        let text =
            format!("wz-receipt-v1|{SESSION}|{}|{}|{caster}|{}|{}|{}", r.evaluation, r.unit, r.ballot_id, rating.as_str().unwrap(), r.seq);
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
    for step in &sc.followup.steps {
        let bytes = stored::encode_event(&step.event);
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["v"], json!(1), "{v}");
        assert_eq!(v["type"], json!(kind_name(step.event.kind())));
        assert_eq!(stored::decode_event(&bytes).unwrap(), step.event);
        kinds.insert(step.event.kind() as u8);
    }
    assert_eq!(kinds.len(), 39, "every Event variant was round-tripped");
    // And the replayed log rebuilds the same state, the assignment list included.
    let events: Vec<Event> = sc.followup.steps.iter().map(|s| stored::decode_event(&stored::encode_event(&s.event)).unwrap()).collect();
    let replayed = Session::replay(definition(), &events).unwrap();
    assert_eq!(replayed, sc.followup.s);
}

#[test]
fn golden_stored_records() {
    let sc = scenario();
    let mut done = BTreeSet::new();
    let records: Vec<Value> = sc
        .followup
        .steps
        .iter()
        .filter(|s| done.insert(s.event.kind() as u8))
        .map(|s| serde_json::from_slice(&stored::encode_event(&s.event)).unwrap())
        .collect();
    insta::assert_json_snapshot!("stored_events", records);
    let def: Value = serde_json::from_slice(&stored::encode_definition(&definition(), EPOCH)).unwrap();
    insta::assert_json_snapshot!("stored_definition", def);
}

#[test]
fn stored_records_refuse_unknown_versions_and_garbage() {
    let e = Event::FloorEnded { at: Millis(T0) };
    let mut v: Value = serde_json::from_slice(&stored::encode_event(&e)).unwrap();
    v["v"] = json!(3);
    let bytes = serde_json::to_vec(&v).unwrap();
    assert!(matches!(stored::decode_event(&bytes), Err(StoredError::Version(3, 2))));
    v["v"] = json!(0);
    assert!(matches!(stored::decode_event(&serde_json::to_vec(&v).unwrap()), Err(StoredError::Version(0, 2))));
    // Format 2 needs its link; format 1 has none.
    v["v"] = json!(2);
    assert!(matches!(stored::decode_event(&serde_json::to_vec(&v).unwrap()), Err(StoredError::Malformed(_))));
    v["prev"] = json!("00".repeat(32));
    assert_eq!(stored::decode_event(&serde_json::to_vec(&v).unwrap()).unwrap(), e);
    v["v"] = json!(1);
    assert!(matches!(stored::decode_event(&serde_json::to_vec(&v).unwrap()), Err(StoredError::Malformed(_))));

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
    let bytes = stored::encode_definition(&def, EPOCH);
    assert_eq!(stored::decode_definition(&bytes).unwrap(), (def.clone(), EPOCH));
    let mut v: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(v["v"], json!(2));
    assert_eq!(v["epoch"], json!("5eed000020260001"));
    v["v"] = json!(9);
    assert!(matches!(stored::decode_definition(&serde_json::to_vec(&v).unwrap()), Err(StoredError::Version(9, 2))));
    assert!(matches!(stored::decode_definition(b"nope"), Err(StoredError::Malformed(_))));
    // A definition record that fails validation is malformed.
    v["v"] = json!(2);
    let mut no_venues = v.clone();
    no_venues["venues"] = json!([]);
    assert!(matches!(stored::decode_definition(&serde_json::to_vec(&no_venues).unwrap()), Err(StoredError::Malformed(_))));
    // Format 2 needs a well-formed epoch.
    for bad in [json!(null), json!("5EED000020260001"), json!("5eed"), json!(7)] {
        let mut w = v.clone();
        w["epoch"] = bad.clone();
        assert!(matches!(stored::decode_definition(&serde_json::to_vec(&w).unwrap()), Err(StoredError::Malformed(_))), "{bad}");
    }
}

#[test]
fn headers_written_before_epochs_are_read_with_a_derived_epoch() {
    // A format-1 header, exactly as this build's predecessors wrote it.
    let def = definition();
    let mut v: Value = serde_json::from_slice(&stored::encode_definition(&def, EPOCH)).unwrap();
    v.as_object_mut().unwrap().remove("epoch");
    v["v"] = json!(1);
    let old = serde_json::to_vec(&v).unwrap();
    let (read, epoch) = stored::decode_definition(&old).unwrap();
    assert_eq!(read, def);
    // The documented derivation: the first 8 bytes of SHA-256 of the header.
    assert_eq!(epoch, wz_protocol::Epoch::legacy(&old));
    assert_eq!(stored::decode_definition(&old).unwrap().1, epoch, "the same on every read and every node");
    let mut other = v.clone();
    other["title"] = json!("另一场问政");
    assert_ne!(stored::decode_definition(&serde_json::to_vec(&other).unwrap()).unwrap().1, epoch);
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

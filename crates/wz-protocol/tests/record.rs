//! The public record (issue 9): built from the golden session's whole log,
//! it checks on its own; it cannot be joined to delegate ids; every kind of
//! tampering with the file is caught where it was made; a receipt is found
//! and a forged one is not.

mod common;

use common::*;
use serde_json::Value;
use wz_domain as d;
use wz_protocol::record::{self, PublicRecord, ReceiptKind, Where};
use wz_protocol::server::{AckResult, ServerMessage};
use wz_protocol::stored;

const SEAL: d::Seal = d::Seal([0x5e; 32]);

/// The golden session as the hub would hold it (with its seal), its header
/// and records, and its public record.
fn sealed() -> (d::Session, Vec<u8>, Vec<Vec<u8>>, PublicRecord) {
    let sc = scenario();
    let header = stored::encode_header(&definition(), EPOCH, Some(&SEAL));
    let (records, _) = chained(&header, &sc.followup.steps);
    let s = sc.followup.s.clone().with_seal(SEAL);
    let r = record::build(&header, &records, &s).unwrap();
    (s, header, records, r)
}

#[test]
fn an_untouched_public_record_checks_and_recounts_every_revealed_result() {
    let (_, header, records, r) = sealed();
    let head = stored::chain::check(&header, &records).unwrap();
    let ok = record::check(&r).unwrap();
    assert_eq!(ok.head, head.hex());
    assert_eq!(ok.entries, records.len() as u64);
    assert_eq!((ok.ballots, ok.closed_evaluations, ok.item_ratings), (4, 1, 3));
    // The evaluation's results are as revealed, and the choices recount to them.
    let ev = &r.evaluations[0];
    let results = ev.results.as_ref().unwrap();
    for u in &results.units {
        let listed = r.choices.iter().filter(|c| c.unit == u.unit).count() as u32;
        assert_eq!(listed, u.counts.total, "{}", u.unit);
    }
    // It survives a round trip through its file form.
    assert_eq!(PublicRecord::decode(&r.encode()).unwrap(), r);
}

#[test]
fn the_public_record_cannot_be_joined_to_delegate_ids() {
    let (s, _, _, r) = sealed();
    let delegates: Vec<String> = s.delegates().map(|x| x.id.0.clone()).collect();
    let json: Value = serde_json::from_str(&r.encode()).unwrap();
    // Choices name no delegate, no venue, no time, no sequence number.
    for list in ["choices", "item_choices"] {
        for c in json[list].as_array().unwrap() {
            let keys: Vec<&str> = c.as_object().unwrap().keys().map(String::as_str).collect();
            assert!(keys.iter().all(|k| ["evaluation", "unit", "item", "code", "rating"].contains(k)), "{list}: {c}");
            let text = c.to_string();
            assert!(delegates.iter().all(|d| !text.contains(&format!("\"{d}\""))), "{list}: {c}");
        }
    }
    // Participation names no choice; entries carry no content.
    for p in json["participation"].as_array().unwrap().iter().chain(json["item_participation"].as_array().unwrap()) {
        assert!(p.get("rating").is_none() && p.get("code").is_none(), "{p}");
    }
    for e in json["entries"].as_array().unwrap() {
        let keys: Vec<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
        assert!(keys.iter().all(|k| ["seq", "kind", "prev", "hash"].contains(k)), "{e}");
    }
    // Choices are in code order within their unit, which says nothing of
    // when or by whom.
    let order: Vec<(u32, &str, &str)> = r.choices.iter().map(|c| (c.evaluation, c.unit.as_str(), c.code.as_str())).collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
    let codes: Vec<&str> = r.choices.iter().map(|c| c.code.as_str()).collect();
    // Even knowing every ballot's id, caster, unit and sequence number, one
    // who lacks the seal cannot compute any listed code for any rating.
    for ev in s.evaluations() {
        for b in ev.ballots.values() {
            for rating in [d::Rating::Satisfied, d::Rating::BasicallySatisfied, d::Rating::Dissatisfied] {
                let guess = d::Ballot { rating, ..b.clone() };
                for seal in [None, Some(&d::Seal([0; 32]))] {
                    let code = wz_protocol::render::receipt_code(&s.def().id, seal, &guess);
                    assert!(!codes.contains(&code.as_str()), "{code} guessed for {}", b.delegate.0);
                }
            }
        }
    }
    // Every caster finds their own ballot, with their choice, by their receipt.
    for ev in s.evaluations() {
        for b in ev.ballots.values() {
            let mine = wz_protocol::render::receipt(&s.def().id, s.seal(), b);
            let listed = r.choices.iter().find(|c| c.code == mine.code).expect("my ballot is listed");
            assert_eq!(listed.rating, mine.rating);
        }
    }
}

#[test]
fn follow_up_choices_of_small_items_are_pooled_not_listed_by_item() {
    let (_, _, _, r) = sealed();
    // Item 1 has two ratings and item 2 one: both below the small-cell size,
    // so their three choices are listed in one pool, without the item.
    assert_eq!(r.items.len(), 2);
    assert!(r.items.iter().all(|i| i.counts.suppressed));
    assert_eq!(r.item_choices.len(), 3);
    assert!(r.item_choices.iter().all(|c| c.item.is_none()));
    assert_eq!(r.withheld_item_choices, 0);
}

fn fails_at(r: &PublicRecord) -> Where {
    record::check(r).expect_err("tampering must be caught").at
}

fn flip(hex: &mut String) {
    let c = if hex.starts_with('0') { "1" } else { "0" };
    hex.replace_range(0..1, c);
}

#[test]
fn tampering_with_a_public_record_is_caught_where_it_was_made() {
    let (_, _, _, r) = sealed();
    let k = 20;
    // A byte of an entry's hash: the next entry no longer links to it.
    let mut t = r.clone();
    flip(&mut t.entries[k - 1].hash);
    assert_eq!(fails_at(&t), Where::Entry(k as u64 + 1));
    // A byte of an entry's prev: that entry.
    let mut t = r.clone();
    flip(t.entries[k - 1].prev.as_mut().unwrap());
    assert_eq!(fails_at(&t), Where::Entry(k as u64));
    // An entry deleted, two swapped, one inserted: at that position.
    let mut t = r.clone();
    t.entries.remove(k - 1);
    assert_eq!(fails_at(&t), Where::Entry(k as u64));
    let mut t = r.clone();
    t.entries.swap(k - 1, k);
    assert_eq!(fails_at(&t), Where::Entry(k as u64));
    let mut t = r.clone();
    let copy = t.entries[k - 1].clone();
    t.entries.insert(k, copy);
    assert_eq!(fails_at(&t), Where::Entry(k as u64 + 1));
    // The end cut off: the entries no longer reach the stated head. (With
    // the head rewritten too, only the published head shows it: `verify
    // --expect-head`.)
    let mut t = r.clone();
    t.entries.truncate(r.entries.len() - 3);
    assert_eq!(fails_at(&t), Where::Head);
    // A choice changed, dropped or added: at its evaluation and unit.
    let unit = r.choices[0].unit.clone();
    let mut t = r.clone();
    t.choices[0].rating = match t.choices[0].rating {
        wz_protocol::dto::Rating::Dissatisfied => wz_protocol::dto::Rating::Satisfied,
        _ => wz_protocol::dto::Rating::Dissatisfied,
    };
    assert_eq!(fails_at(&t), Where::Unit(1, unit.clone()));
    let mut t = r.clone();
    t.choices.remove(0);
    assert_eq!(fails_at(&t), Where::Unit(1, unit.clone()));
    // A revealed result changed: at its unit.
    let mut t = r.clone();
    let counts = &mut t.evaluations[0].results.as_mut().unwrap().units[0].counts;
    counts.satisfied += 1;
    counts.total += 1;
    assert!(matches!(fails_at(&t), Where::Unit(1, _)));
    // A second ballot of one delegate on one unit.
    let mut t = r.clone();
    let twice = t.participation[0].clone();
    t.participation[1] = twice.clone();
    assert_eq!(fails_at(&t), Where::Unit(1, twice.unit));
    // A follow-up rating's participation dropped.
    let mut t = r.clone();
    t.item_participation.pop();
    assert_eq!(fails_at(&t), Where::File);
}

#[test]
fn a_receipt_is_found_and_counted_and_a_forged_one_is_not() {
    let (s, header, records, _) = sealed();
    let head = stored::chain::check(&header, &records).unwrap();
    let ev = s.evaluations().next().unwrap();
    let b = ev.ballots.values().next().unwrap();
    let code = wz_protocol::render::receipt_code(&s.def().id, s.seal(), b);
    let found = record::find_receipt(&s, &head, &code);
    assert!(found.found && found.counted, "{found:?}");
    assert_eq!((found.kind, found.evaluation, found.unit.as_deref()), (Some(ReceiptKind::Ballot), Some(1), Some(b.unit.0.as_str())));
    assert_eq!(found.head, head.hex());
    // The answer carries no choice and no caster.
    let text = serde_json::to_string(&found).unwrap();
    assert!(!text.contains("satisfied") && !text.contains(&b.delegate.0), "{text}");
    // A forged code (well formed) is not found.
    let forged = record::find_receipt(&s, &head, "0123456789abcdef");
    assert!(!forged.found && !forged.counted && forged.kind.is_none());
    // A follow-up rating's receipt, as its rater got it in the ack.
    let sc = scenario();
    let ServerMessage::Ack(ack) = &sc.followup.sent("d003-20").reply else { panic!("an ack") };
    let Some(AckResult::ItemReceipt(unsealed)) = &ack.result else { panic!("{ack:?}") };
    // The scenario's session has no seal: its code is the v1 one.
    let plain = record::find_receipt(&sc.followup.s, &head, &unsealed.code);
    assert!(plain.found && plain.counted);
    assert_eq!((plain.kind, plain.item), (Some(ReceiptKind::ItemRating), Some(1)));
    assert!(record::is_code(&unsealed.code) && !record::is_code("0123456789ABCDEF") && !record::is_code("0123"));
}

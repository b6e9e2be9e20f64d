//! The record's hash chain (issue 9): the golden session's whole log,
//! written as the hub writes it, checks; flipping a byte, deleting,
//! swapping, inserting or replacing an entry is caught at the right entry;
//! a log written before the chain (format 1) is still read, and the chain
//! starts after it. Cutting the end off is caught only against a known head.

mod common;

use common::*;
use wz_protocol::stored::{self, ChainHead, RecordMeta, chain};

/// The header and the records of the golden session, chained.
fn log() -> (Vec<u8>, Vec<Vec<u8>>, ChainHead) {
    let header = stored::encode_definition(&definition(), EPOCH);
    let (records, head) = chained(&header, &scenario().followup.steps);
    (header, records, head)
}

#[test]
fn an_untouched_log_checks_and_names_its_head() {
    let (header, records, head) = log();
    assert!(records.len() > 60);
    assert_eq!(chain::check(&header, &records), Ok(head));
    // Every record decodes with its link.
    for r in &records {
        let (_, meta) = stored::decode_record(r).unwrap();
        assert_eq!(meta.prev.as_deref().map(str::len), Some(64));
    }
}

#[test]
fn tampering_is_caught_at_the_entry_it_touches() {
    let (header, records, head) = log();
    let at = |r: Result<ChainHead, chain::ChainError>| r.map_err(|e| e.seq);

    // A byte flipped inside a text of entry 10: entry 11's link no longer holds.
    let mut flipped = records.clone();
    let i = flipped[9].iter().position(|b| *b == b'"').unwrap() + 1;
    flipped[9][i] ^= 0x01;
    let seq = at(chain::check(&header, &flipped)).unwrap_err();
    assert!(seq == 10 || seq == 11, "caught at {seq}");

    // An entry deleted: the next one's link points at the deleted one.
    let mut deleted = records.clone();
    deleted.remove(20);
    assert_eq!(at(chain::check(&header, &deleted)), Err(21));

    // Two entries swapped.
    let mut swapped = records.clone();
    swapped.swap(30, 31);
    assert_eq!(at(chain::check(&header, &swapped)), Err(31));

    // An entry inserted (a copy of an earlier one).
    let mut inserted = records.clone();
    inserted.insert(40, records[5].clone());
    assert_eq!(at(chain::check(&header, &inserted)), Err(41));

    // A forged entry that names the right prev: the entry after it breaks.
    let mut forged = records.clone();
    let mut v: serde_json::Value = serde_json::from_slice(&forged[49]).unwrap();
    v["at"] = serde_json::json!(1);
    forged[49] = serde_json::to_vec(&v).unwrap();
    assert_eq!(at(chain::check(&header, &forged)), Err(51));

    // Another header (another definition): the first entry breaks.
    let mut other = header.clone();
    other.push(b' ');
    assert_eq!(at(chain::check(&other, &records)), Err(1));

    // Cut off at the end: a valid shorter chain, whose head differs from
    // the published one.
    let cut = &records[..records.len() - 3];
    let short = chain::check(&header, cut).unwrap();
    assert_ne!(short, head, "only a published head shows a cut end");
}

#[test]
fn a_log_from_before_the_chain_is_read_and_the_chain_starts_after_it() {
    let sc = scenario();
    let header = stored::encode_definition(&definition(), EPOCH);
    let (old, new) = sc.followup.steps.split_at(10);
    let mut records: Vec<Vec<u8>> = old.iter().map(|s| stored::encode_record(&s.event, &RecordMeta::default())).collect();
    let mut head = chain::check(&header, &records).unwrap();
    for s in new {
        let bytes = stored::encode_chained(&s.event, &RecordMeta::default(), &head);
        head = head.next(&bytes);
        records.push(bytes);
    }
    assert_eq!(chain::check(&header, &records), Ok(head));
    // But not an unchained record once the chain began.
    let mut mixed = records.clone();
    mixed.push(stored::encode_record(&new[0].event, &RecordMeta::default()));
    assert_eq!(chain::check(&header, &mixed).map_err(|e| e.seq), Err(records.len() as u64 + 1));
}

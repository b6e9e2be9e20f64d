//! `bench-verify`: how long checking a session's record takes (issue 9):
//! the hash chain, decoding and replaying every event, and the stored
//! claims and counters against a recount, as `wenzheng verify` and every
//! start do it, on the embedded store.
//!
//! ```sh
//! cargo build --release -p wz-bench --bin bench-verify && target/release/bench-verify
//! ```
//!
//! It builds the demo session (320 delegates, 6 units) with every delegate
//! checked in and rating every unit in several evaluations, about 10,000
//! records, writes them chained into a fresh embedded store, then times
//! `Hub::verify` and the chain check alone. Prints the figures for
//! docs/benchmarks.md.

use bytes::Bytes;
use std::sync::Arc;
use std::time::Instant;
use wz_domain::{Command, EvaluationId, Millis, Phase, Rating, Session, Viewer};
use wz_protocol::stored::{self, ChainHead, RecordMeta};
use wz_store::{EmbeddedStore, Record};

const EVALUATIONS: u32 = 5;
const RUNS: usize = 5;

fn run(s: &mut Session, v: &Viewer, cmd: Command, now: &mut u64, log: &mut Vec<wz_domain::Event>) {
    *now += 10;
    let out = s.decide(v, &cmd, Millis(*now)).unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    for e in out.events {
        s.apply(&e).expect("decided events apply");
        log.push(e);
    }
}

/// The demo session's events: check-in of all, then evaluations of every unit by everyone.
fn events() -> (wz_domain::SessionDef, Vec<wz_domain::Event>) {
    let def = wz_server::demo::definition();
    let mut s = Session::new(def.clone());
    let (mut now, mut log) = (1_767_225_600_000u64, Vec::new());
    let m = Viewer::Moderator;
    for to in [Phase::CheckIn, Phase::Questioning, Phase::Evaluation] {
        if to == Phase::Questioning {
            for d in &def.delegates {
                run(&mut s, &m, Command::CheckIn { delegate: d.id.clone() }, &mut now, &mut log);
            }
        }
        run(&mut s, &m, Command::AdvancePhase { to }, &mut now, &mut log);
    }
    let units: Vec<_> = def.units.iter().map(|u| u.id.clone()).collect();
    let ratings = [Rating::Satisfied, Rating::BasicallySatisfied, Rating::Dissatisfied];
    for ev in 1..=EVALUATIONS {
        run(&mut s, &m, Command::OpenEvaluation { units: units.clone() }, &mut now, &mut log);
        for (i, d) in def.delegates.iter().enumerate() {
            let v = Viewer::Delegate(d.id.clone());
            for (j, u) in units.iter().enumerate() {
                let cmd = Command::CastBallot {
                    ballot_id: wz_domain::BallotId(format!("b-{ev}-{j}")),
                    evaluation: EvaluationId(ev),
                    unit: u.clone(),
                    rating: ratings[(i + j) % 3],
                };
                run(&mut s, &v, cmd, &mut now, &mut log);
            }
        }
        run(&mut s, &m, Command::CloseEvaluation { evaluation: EvaluationId(ev) }, &mut now, &mut log);
    }
    (def, log)
}

fn main() -> anyhow::Result<()> {
    let (def, events) = events();
    let dir = tempfile::tempdir()?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        let store: wz_store::DynStore = Arc::new(EmbeddedStore::open(dir.path())?);
        let header = stored::encode_definition(&def, wz_protocol::Epoch::new(1));
        store.create_session(&def.id, Bytes::from(header.clone())).await?;
        let mut head = ChainHead::genesis(&header);
        let mut records = Vec::with_capacity(events.len());
        for e in &events {
            let data = stored::encode_chained(e, &RecordMeta { by: Some("moderator".into()), cmd: None, prev: None }, &head);
            head = head.next(&data);
            let (claim, count) = match stored::ballot_keys(e) {
                Some(b) => (
                    Some((wz_store::keys::ballot_claim(b.evaluation, b.unit, b.delegate), b.ballot_id.to_owned())),
                    Some(wz_store::keys::tally_counter(b.evaluation, b.unit, &b.rating)),
                ),
                None => (None, None),
            };
            records.push(Record { data: Bytes::from(data), claim, count });
        }
        let bytes: usize = records.iter().map(|r| r.data.len()).sum();
        for (i, chunk) in records.chunks(1000).enumerate() {
            store.append(&def.id, (i * 1000 + 1) as u64, chunk.to_vec()).await?;
        }
        let n = events.len();
        let mut verify = Vec::new();
        let mut chain_only = Vec::new();
        let mut public = Vec::new();
        let mut public_check = Vec::new();
        let mut public_bytes = 0;
        for _ in 0..RUNS {
            let t = Instant::now();
            let r = wz_hub::Hub::verify(&store, &def.id).await?;
            verify.push(t.elapsed());
            anyhow::ensure!(r.head == head.hex() && r.problems.is_empty() && r.events == n as u64, "the record does not hold");
            let s = store.load(&def.id).await?.expect("stored");
            let t = Instant::now();
            stored::chain::check(&s.meta, &s.events)?;
            chain_only.push(t.elapsed());
            // What `wenzheng verify` and `export-record` do: one read of the
            // store (chain, replay, cross-check) and the public record built
            // from it and recounted; then the file's check alone (`verify --file`).
            let t = Instant::now();
            let record = wz_hub::Hub::audit(&store, &def.id).await?.record;
            public.push(t.elapsed());
            let t = Instant::now();
            let checked = wz_protocol::record::check(&record)?;
            public_check.push(t.elapsed());
            anyhow::ensure!(checked.ballots == 320 * 6 * EVALUATIONS as usize, "every ballot recounted");
            public_bytes = record.encode().len();
        }
        public.sort();
        public_check.sort();
        // The receipt check's worst case: a code that is not there (every
        // ballot's keyed code computed), on the replayed session.
        let sealed = Session::replay(def.clone(), &events)?.with_seal(wz_domain::Seal([7; 32]));
        let mut lookup = Vec::new();
        for _ in 0..RUNS {
            let t = Instant::now();
            let found = wz_protocol::record::find_receipt(&sealed, &head, "0123456789abcdef");
            lookup.push(t.elapsed());
            anyhow::ensure!(!found.found, "a forged code is not found");
        }
        lookup.sort();
        verify.sort();
        chain_only.sort();
        let per10k = |d: std::time::Duration| d.as_secs_f64() * 1000.0 * 10_000.0 / n as f64;
        println!("records: {n} ({:.1} MB), runs: {RUNS}", bytes as f64 / 1e6);
        println!("verify (load, chain, decode, replay, cross-check): median {:.0} ms = {:.0} ms per 10k records", verify[RUNS / 2].as_secs_f64() * 1000.0, per10k(verify[RUNS / 2]));
        println!("chain check alone: median {:.1} ms = {:.1} ms per 10k records", chain_only[RUNS / 2].as_secs_f64() * 1000.0, per10k(chain_only[RUNS / 2]));
        println!("audit (load, chain, replay, cross-check, public record built and recounted): median {:.0} ms = {:.0} ms per 10k records; {:.1} MB as JSON", public[RUNS / 2].as_secs_f64() * 1000.0, per10k(public[RUNS / 2]), public_bytes as f64 / 1e6);
        println!("receipt check, code not found ({} ballots hashed): median {:.2} ms", 320 * 6 * EVALUATIONS, lookup[RUNS / 2].as_secs_f64() * 1000.0);
        println!("public record checked (verify --file): median {:.1} ms = {:.1} ms per 10k records", public_check[RUNS / 2].as_secs_f64() * 1000.0, per10k(public_check[RUNS / 2]));
        Ok(())
    })
}

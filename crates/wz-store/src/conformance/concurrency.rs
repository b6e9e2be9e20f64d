//! Concurrency checks: many tasks racing for the same seq or the same claim,
//! and concurrent appenders leaving no gaps.

use std::collections::HashSet;
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::Barrier;

use super::{assert_claimed, assert_conflict, b, claiming, claims_map, counters_map, counting, created, loaded, log_of, rec};
use crate::{DynStore, StoreError};

/// Many tasks race for the same seq at once: exactly one wins each round and
/// the others get a Conflict pointing past it.
pub async fn concurrent_race_for_same_seq(store: DynStore) {
    const TASKS: usize = 8;
    const ROUNDS: u64 = 6;
    created(&*store, "race").await;
    let mut winners = Vec::new();
    for round in 1..=ROUNDS {
        // Every winner writes two events, so round r races for seq 2r-1.
        let seq = 2 * round - 1;
        let barrier = Arc::new(Barrier::new(TASKS));
        let handles: Vec<_> = (0..TASKS)
            .map(|t| {
                let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
                tokio::spawn(async move {
                    let payload = Bytes::from(format!("round {round} task {t}"));
                    barrier.wait().await;
                    let r = store.append("race", seq, vec![payload.clone().into(), rec("tail")]).await;
                    (payload, r)
                })
            })
            .collect();
        let mut won = Vec::new();
        for h in handles {
            match h.await.expect("racing task panicked") {
                (payload, Ok(())) => won.push(payload),
                (_, r) => assert_conflict(&format!("loser of round {round}"), r, "race", seq + 2, seq),
            }
        }
        assert_eq!(won.len(), 1, "round {round}: want exactly one winner, got {won:?}");
        winners.extend(won);
    }
    let log = log_of(&*store, "race").await;
    let want: Vec<Bytes> = winners.into_iter().flat_map(|w| [w, b("tail")]).collect();
    assert_eq!(log, want, "log must hold exactly the winners' batches, in round order");
}

/// Writers that retry on Conflict (the hub's pattern) all eventually land, with
/// no event lost, duplicated or reordered within a writer.
pub async fn concurrent_appenders_leave_no_gaps(store: DynStore) {
    const TASKS: usize = 6;
    const PER_TASK: usize = 5;
    created(&*store, "busy").await;
    let handles: Vec<_> = (0..TASKS)
        .map(|t| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                for i in 0..PER_TASK {
                    let payload = Bytes::from(format!("task {t} item {i}"));
                    loop {
                        let next = store.load("busy").await.expect("load").expect("exists").next_seq();
                        match store.append("busy", next, vec![payload.clone().into()]).await {
                            Ok(()) => break,
                            // Lost a race: another writer took `next`; re-read and retry.
                            Err(StoreError::Conflict { expected, got, .. }) if expected > got => {}
                            Err(e) => panic!("task {t}: unexpected append error: {e:?}"),
                        }
                        tokio::task::yield_now().await;
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.await.expect("appender panicked");
    }
    let log = log_of(&*store, "busy").await;
    assert_eq!(log.len(), TASKS * PER_TASK, "events lost or duplicated");
    let unique: HashSet<&Bytes> = log.iter().collect();
    assert_eq!(unique.len(), log.len(), "an event was stored twice");
    for t in 0..TASKS {
        let mine: Vec<&Bytes> = log.iter().filter(|e| e.starts_with(format!("task {t} ").as_bytes())).collect();
        let want: Vec<Bytes> = (0..PER_TASK).map(|i| Bytes::from(format!("task {t} item {i}"))).collect();
        assert!(mine.iter().copied().eq(want.iter()), "task {t}'s events out of order: {mine:?}");
    }
}

/// Many tasks race to take the same claim (each re-reading on Conflict, the
/// hub's pattern): exactly one wins; every other gets Claimed naming the
/// winner; the log, claims and counters hold exactly one ballot.
pub async fn concurrent_race_for_same_claim(store: DynStore) {
    const TASKS: usize = 12;
    created(&*store, "vote").await;
    let barrier = Arc::new(Barrier::new(TASKS));
    let handles: Vec<_> = (0..TASKS)
        .map(|t| {
            let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
            tokio::spawn(async move {
                let value = format!("task {t}");
                barrier.wait().await;
                loop {
                    let next = store.load("vote").await.expect("load").expect("exists").next_seq();
                    let batch = vec![claiming(&value, "ballot:d017", &value, Some("e1:yes")), counting(&format!("{value} tail"), "tails")];
                    match store.append("vote", next, batch).await {
                        Err(StoreError::Conflict { expected, got, .. }) if expected > got => {
                            tokio::task::yield_now().await;
                        }
                        r => return (value, r),
                    }
                }
            })
        })
        .collect();
    let mut results = Vec::new();
    for h in handles {
        results.push(h.await.expect("racing task panicked"));
    }
    let winners: Vec<&String> = results.iter().filter(|(_, r)| r.is_ok()).map(|(v, _)| v).collect();
    assert_eq!(winners.len(), 1, "want exactly one winner, got {winners:?}");
    let winner = winners[0].clone();
    for (value, r) in results {
        if value != winner {
            assert_claimed(&format!("loser {value}"), r, "vote", "ballot:d017", &winner);
        }
    }
    let s = loaded(&*store, "vote").await;
    assert_eq!(s.events, vec![b(&winner), b(&format!("{winner} tail"))]);
    assert_eq!(s.claims, claims_map(&[("ballot:d017", &winner)]));
    assert_eq!(s.counters, counters_map(&[("e1:yes", 1), ("tails", 1)]));
}

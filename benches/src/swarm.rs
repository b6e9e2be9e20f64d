//! The swarm: one moderator and N voters, each voter on its own WebSocket
//! connection in its own task, driving a session through check-in and then
//! `rounds` evaluations in which every voter casts two ballots at once.
//!
//! A round: the moderator opens an evaluation of both units; every voter
//! waits on one barrier; on release each sends its two `cast_ballot`s back to
//! back and waits for their acks; the round's wall time runs from the first
//! send to the last ack. Then the moderator closes the evaluation and the
//! close's results must count exactly N ballots per unit, split over the
//! ratings exactly as they were cast. Anything else fails the run.

use crate::client::{Conn, Moderator};
use crate::fixture::{Probe, Sample, UNITS};
use anyhow::{Context, anyhow, bail};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Barrier, Semaphore, broadcast, mpsc};
use tokio::task::JoinSet;

/// The ratings, cycled over voters (unit 2 shifted by one).
const RATINGS: [&str; 3] = ["satisfied", "basically_satisfied", "dissatisfied"];
/// Guard for any single step (an answer, a barrier): a hang fails the run.
const GUARD: Duration = Duration::from_secs(120);
/// WebSocket handshakes in flight at once while the swarm connects.
const CONNECT_AT_ONCE: usize = 64;

/// One measured round.
#[derive(Clone, Debug)]
pub struct Round {
    pub ballots: u64,
    pub wall: Duration,
    pub before: Sample,
    pub after: Sample,
}

/// Everything measured for one configuration.
pub struct Measured {
    /// Send → ack latency of every ballot, in µs.
    pub latency: Histogram<u64>,
    pub rounds: Vec<Round>,
    pub connect: Duration,
    pub check_in: Duration,
    /// Counters around the check-in of every voter (N commands, one event each).
    pub check_in_samples: (Sample, Sample),
}

#[derive(Clone, Copy, Debug)]
enum Ctl {
    CheckIn,
    Round { evaluation: u64 },
    Stop,
}

enum Report {
    Connected,
    CheckedIn,
    Voted { first_send: Instant, last_ack: Instant, latency_us: [u64; 2] },
    Failed(String),
}

fn rating(voter: usize, unit: usize) -> &'static str {
    RATINGS[(voter + unit) % RATINGS.len()]
}

/// Runs the swarm against a server at `addr`; `tokens` maps principals to tokens.
pub async fn run(
    addr: &str,
    tokens: &HashMap<String, String>,
    delegates: &[String],
    rounds: u32,
    probe: &Probe,
) -> anyhow::Result<Measured> {
    let n = delegates.len();
    let token = |k: &str| tokens.get(k).cloned().ok_or_else(|| anyhow!("no credential for {k} in the sheet"));
    let mut moderator = Moderator::connect(addr, &token("moderator")?, GUARD).await?;

    // Connect every voter (bounded handshakes in flight), each in its task.
    let started = Instant::now();
    let (ctl_tx, _) = broadcast::channel::<Ctl>(16);
    let (rep_tx, mut reports) = mpsc::unbounded_channel::<(usize, Report)>();
    let barrier = Arc::new(Barrier::new(n + 1));
    let gate = Arc::new(Semaphore::new(CONNECT_AT_ONCE));
    let mut voters = JoinSet::new();
    for (i, d) in delegates.iter().enumerate() {
        let v = Voter {
            index: i,
            delegate: d.clone(),
            addr: addr.to_owned(),
            token: token(&format!("delegate:{d}"))?,
            ctl: ctl_tx.subscribe(),
            barrier: barrier.clone(),
            reports: rep_tx.clone(),
        };
        voters.spawn(v.run(gate.clone()));
    }
    drop(rep_tx);
    collect(&mut reports, n, "connect", |r| matches!(r, Report::Connected)).await?;
    let connect = started.elapsed();

    moderator.call(json!({"type": "advance_phase", "to": "check_in"})).await?;
    let check_in_before = probe.sample().await;
    let started = Instant::now();
    ctl_tx.send(Ctl::CheckIn).map_err(|_| anyhow!("every voter task has ended"))?;
    collect(&mut reports, n, "check-in", |r| matches!(r, Report::CheckedIn)).await?;
    let check_in = started.elapsed();
    let check_in_samples = (check_in_before, probe.sample().await);
    moderator.call(json!({"type": "advance_phase", "to": "questioning"})).await?;
    moderator.call(json!({"type": "advance_phase", "to": "evaluation"})).await?;

    let mut latency = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).expect("histogram bounds");
    let mut measured = Vec::new();
    for r in 1..=rounds {
        let ack = moderator.call(json!({"type": "open_evaluation", "units": UNITS})).await?;
        let evaluation =
            ack["result"]["evaluation"].as_u64().ok_or_else(|| anyhow!("open_evaluation ack without result.evaluation: {ack}"))?;
        let before = probe.sample().await;
        ctl_tx.send(Ctl::Round { evaluation }).map_err(|_| anyhow!("every voter task has ended"))?;
        tokio::time::timeout(GUARD, barrier.wait())
            .await
            .map_err(|_| anyhow!("round {r}: the voters did not all reach the barrier within {GUARD:?}"))?;
        let released = Instant::now();
        let (mut first, mut last) = (released, released);
        let mut got = 0;
        while got < n {
            let (i, rep) = next_report(&mut reports, &format!("round {r}")).await?;
            match rep {
                Report::Voted { first_send, last_ack, latency_us } => {
                    first = first.min(first_send);
                    last = last.max(last_ack);
                    for us in latency_us {
                        latency.record(us.max(1)).context("recording a latency")?;
                    }
                    got += 1;
                }
                Report::Failed(why) => bail!("round {r}: voter {} failed: {why}", delegates[i]),
                _ => bail!("round {r}: voter {} sent an unexpected report", delegates[i]),
            }
        }
        let after = probe.sample().await;
        let wall = last.duration_since(first);
        let ack = moderator.call(json!({"type": "close_evaluation", "evaluation": evaluation})).await?;
        verify_results(&ack, n).with_context(|| format!("round {r}: results of evaluation {evaluation}"))?;
        let ballots = (n * UNITS.len()) as u64;
        eprintln!("    round {r}: {ballots} ballots in {:.3} s ({:.0} acks/s)", wall.as_secs_f64(), ballots as f64 / wall.as_secs_f64());
        measured.push(Round { ballots, wall, before, after });
    }
    let _ = ctl_tx.send(Ctl::Stop);
    let ended = async {
        while let Some(res) = voters.join_next().await {
            res.map_err(|e| anyhow!("voter task panicked: {e}"))?;
        }
        while let Some((i, rep)) = reports.recv().await {
            if let Report::Failed(why) = rep {
                bail!("voter {} failed at the end: {why}", delegates[i]);
            }
        }
        Ok(())
    };
    tokio::time::timeout(GUARD, ended).await.map_err(|_| anyhow!("voters did not stop within {GUARD:?}"))??;
    Ok(Measured { latency, rounds: measured, connect, check_in, check_in_samples })
}

async fn next_report(reports: &mut mpsc::UnboundedReceiver<(usize, Report)>, step: &str) -> anyhow::Result<(usize, Report)> {
    match tokio::time::timeout(GUARD, reports.recv()).await {
        Ok(Some(r)) => Ok(r),
        Ok(None) => bail!("{step}: every voter task has ended"),
        Err(_) => bail!("{step}: no progress within {GUARD:?}"),
    }
}

/// Waits for `n` reports that satisfy `want`; a failure report fails.
async fn collect(
    reports: &mut mpsc::UnboundedReceiver<(usize, Report)>,
    n: usize,
    step: &str,
    want: fn(&Report) -> bool,
) -> anyhow::Result<()> {
    for _ in 0..n {
        match next_report(reports, step).await? {
            (_, Report::Failed(why)) => bail!("{step}: {why}"),
            (i, r) if !want(&r) => bail!("{step}: voter #{i} sent an unexpected report"),
            _ => {}
        }
    }
    Ok(())
}

/// The close ack must count every ballot: N per unit, split over the ratings
/// exactly as [`rating`] cast them.
fn verify_results(ack: &Value, n: usize) -> anyhow::Result<()> {
    let units = ack["result"]["closed"]["results"]["units"]
        .as_array()
        .ok_or_else(|| anyhow!("close ack without result.closed.results.units: {ack}"))?;
    if units.len() != UNITS.len() {
        bail!("{} units in the results, expected {}", units.len(), UNITS.len());
    }
    for (k, unit) in UNITS.iter().enumerate() {
        let u = units.iter().find(|u| u["unit"] == *unit).ok_or_else(|| anyhow!("no results for unit {unit}"))?;
        let counts = &u["counts"];
        if counts["total"].as_u64() != Some(n as u64) {
            bail!("unit {unit}: total {} ballots, expected {n}", counts["total"]);
        }
        for rt in RATINGS {
            let want = (0..n).filter(|&i| rating(i, k) == rt).count() as u64;
            if counts[rt].as_u64() != Some(want) {
                bail!("unit {unit}: {rt} {} , expected {want}", counts[rt]);
            }
        }
    }
    Ok(())
}

struct Voter {
    index: usize,
    delegate: String,
    addr: String,
    token: String,
    ctl: broadcast::Receiver<Ctl>,
    barrier: Arc<Barrier>,
    reports: mpsc::UnboundedSender<(usize, Report)>,
}

impl Voter {
    async fn run(mut self, gate: Arc<Semaphore>) {
        let conn = async {
            let _permit = gate.acquire().await.expect("semaphore is never closed");
            Conn::connect(&self.addr, &self.token).await
        }
        .await;
        let mut conn = match conn {
            Ok(c) => c,
            Err(e) => {
                return self.report(Report::Failed(format!("{}: connect: {e:#}", self.delegate)));
            }
        };
        self.report(Report::Connected);
        loop {
            let step = match self.ctl.recv().await {
                Ok(Ctl::CheckIn) => self.check_in(&mut conn).await.map(|()| Report::CheckedIn),
                Ok(Ctl::Round { evaluation }) => {
                    // A voter that failed earlier never gets here: the run
                    // has already failed, and the barrier's guard ends it.
                    self.barrier.wait().await;
                    self.vote(&mut conn, evaluation).await
                }
                Ok(Ctl::Stop) | Err(broadcast::error::RecvError::Closed) => {
                    if let Err(e) = conn.expect_quiet() {
                        self.report(Report::Failed(format!("{}: {e:#}", self.delegate)));
                    }
                    return;
                }
                Err(broadcast::error::RecvError::Lagged(k)) => Err(anyhow!("missed {k} control messages")),
            };
            match step {
                Ok(r) => self.report(r),
                Err(e) => return self.report(Report::Failed(format!("{}: {e:#}", self.delegate))),
            }
        }
    }

    fn report(&self, r: Report) {
        let _ = self.reports.send((self.index, r));
    }

    async fn check_in(&self, conn: &mut Conn) -> anyhow::Result<()> {
        let id = format!("ci-{}", self.delegate);
        conn.send(&json!({"type": "check_in", "id": id, "delegate": self.delegate})).await?;
        conn.answers_to(&[&id], GUARD).await?;
        Ok(())
    }

    /// Two ballots back to back, then both acks; checks each receipt.
    async fn vote(&self, conn: &mut Conn, evaluation: u64) -> anyhow::Result<Report> {
        let d = &self.delegate;
        let ids: Vec<String> = UNITS.iter().map(|u| format!("e{evaluation}-{u}-{d}")).collect();
        let ballot_ids: Vec<String> = UNITS.iter().map(|u| format!("b-e{evaluation}-{u}-{d}")).collect();
        let mut sent = Vec::with_capacity(UNITS.len());
        for (k, unit) in UNITS.iter().enumerate() {
            let cmd = json!({
                "type": "cast_ballot",
                "id": ids[k],
                "ballot_id": ballot_ids[k],
                "evaluation": evaluation,
                "unit": unit,
                "rating": rating(self.index, k),
            });
            sent.push(Instant::now());
            conn.send(&cmd).await?;
        }
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let acks = conn.answers_to(&refs, GUARD).await?;
        let mut latency_us = [0u64; 2];
        let mut last_ack = sent[0];
        for (k, (ack, at)) in acks.iter().enumerate() {
            let receipt = &ack["result"]["receipt"];
            if receipt["ballot_id"] != ballot_ids[k]
                || receipt["unit"] != UNITS[k]
                || receipt["evaluation"] != evaluation
                || receipt["rating"] != rating(self.index, k)
            {
                bail!("ack {} does not carry the receipt of its ballot: {ack}", ids[k]);
            }
            latency_us[k] = u64::try_from(at.duration_since(sent[k]).as_micros()).unwrap_or(u64::MAX);
            last_ack = last_ack.max(*at);
        }
        Ok(Report::Voted { first_send: sent[0], last_ack, latency_us })
    }
}

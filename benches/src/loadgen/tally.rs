//! What one subscriber saw of a step (which sequence numbers, how often, in
//! which order), and the step's totals over every subscriber: the latency
//! histogram, frames, gaps, duplicates, reorderings.

use hdrhistogram::Histogram;

/// The sequence numbers (1-based) one subscriber received.
#[derive(Debug, Clone)]
pub struct Seen {
    bits: Vec<u64>,
    pub distinct: u64,
    pub dups: u64,
    /// Frames whose seq was below one received before (out of order).
    pub reorders: u64,
    /// Frames with a seq outside 1..=capacity (never published).
    pub strays: u64,
    last: u64,
}

impl Seen {
    pub fn new(capacity: u64) -> Self {
        Self { bits: vec![0; capacity.div_ceil(64) as usize], distinct: 0, dups: 0, reorders: 0, strays: 0, last: 0 }
    }

    /// Records one received seq; true if it was new.
    pub fn record(&mut self, seq: u64) -> bool {
        let cap = self.bits.len() as u64 * 64;
        if seq == 0 || seq > cap {
            self.strays += 1;
            return false;
        }
        let (w, b) = (((seq - 1) / 64) as usize, (seq - 1) % 64);
        if self.bits[w] & (1 << b) != 0 {
            self.dups += 1;
            return false;
        }
        self.bits[w] |= 1 << b;
        self.distinct += 1;
        if seq < self.last {
            self.reorders += 1;
        }
        self.last = self.last.max(seq);
        true
    }

    /// Published sequence numbers (1..=published) this subscriber never got.
    pub fn gaps(&self, published: u64) -> u64 {
        let got = (1..=published.min(self.bits.len() as u64 * 64))
            .filter(|s| self.bits[((s - 1) / 64) as usize] & (1 << ((s - 1) % 64)) != 0)
            .count() as u64;
        published - got
    }
}

/// The totals of a step over every subscriber.
#[derive(Debug)]
pub struct Totals {
    /// Latency (receive − send) in µs.
    pub latency: Histogram<u64>,
    pub frames: u64,
    pub distinct: u64,
    pub dups: u64,
    pub reorders: u64,
    pub strays: u64,
    pub gaps: u64,
    /// The last receive time (µs since the epoch).
    pub last_recv_us: u64,
    /// Subscribers whose connection ended during the step, by close code
    /// (`None`: no close frame, read error or EOF).
    pub closed: Vec<(Option<u16>, String)>,
}

impl Default for Totals {
    fn default() -> Self {
        Self {
            latency: Histogram::new_with_bounds(1, 600_000_000, 3).expect("histogram bounds"),
            frames: 0,
            distinct: 0,
            dups: 0,
            reorders: 0,
            strays: 0,
            gaps: 0,
            last_recv_us: 0,
            closed: Vec::new(),
        }
    }
}

impl Totals {
    /// One payload frame received at `recv_us` that was sent at `sent_us`.
    pub fn frame(&mut self, sent_us: u64, recv_us: u64) {
        self.frames += 1;
        self.latency.saturating_record(recv_us.saturating_sub(sent_us).max(1));
        self.last_recv_us = self.last_recv_us.max(recv_us);
    }

    /// Adds what one subscriber saw, at the end of the step.
    pub fn subscriber(&mut self, seen: &Seen, published: u64) {
        self.distinct += seen.distinct;
        self.dups += seen.dups;
        self.reorders += seen.reorders;
        self.strays += seen.strays;
        self.gaps += seen.gaps(published);
    }

    /// Percentile of the latency in ms (0 without frames).
    pub fn ms(&self, q: f64) -> f64 {
        if self.latency.is_empty() { 0.0 } else { self.latency.value_at_quantile(q) as f64 / 1000.0 }
    }
}

/// The `q` quantile (0 < q ≤ 1) of `sorted` by nearest rank: the smallest
/// value with at least q × n values at or below it (q = 1: the largest).
/// 0 for no values.
pub fn nearest_rank(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_dups_reorders() {
        let mut s = Seen::new(10);
        for seq in [1, 2, 4, 3, 4, 11, 0] {
            s.record(seq);
        }
        // Capacity rounds up to 64: 11 is inside, 0 never is.
        assert_eq!((s.distinct, s.dups, s.reorders, s.strays), (5, 1, 1, 1));
        assert_eq!(s.gaps(5), 1, "5 missing");
        assert_eq!(s.gaps(4), 0);
        let mut t = Totals::default();
        t.subscriber(&s, 5);
        t.subscriber(&Seen::new(10), 5);
        assert_eq!((t.distinct, t.dups, t.gaps), (5, 1, 6));
    }

    #[test]
    fn latency_percentiles() {
        let mut t = Totals::default();
        assert_eq!(t.ms(0.5), 0.0);
        for i in 1..=100u64 {
            t.frame(1_000_000, 1_000_000 + i * 1000);
        }
        assert_eq!(t.frames, 100);
        assert!((t.ms(0.5) - 50.0).abs() < 0.1, "{}", t.ms(0.5));
        assert!((t.ms(0.99) - 99.0).abs() < 0.1, "{}", t.ms(0.99));
        assert_eq!(t.last_recv_us, 1_100_000);
        // A clock step backwards records 1 µs, not an underflow.
        t.frame(5, 1);
        assert_eq!(t.latency.min(), 1);
    }

    #[test]
    fn nearest_ranks() {
        assert_eq!(nearest_rank(&[], 0.99), 0);
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(nearest_rank(&v, 0.5), 50);
        assert_eq!(nearest_rank(&v, 0.99), 99);
        assert_eq!(nearest_rank(&v, 1.0), 100);
        assert_eq!(nearest_rank(&v, 0.0), 1, "q = 0 reads the smallest");
        // 1,000 values: the 99 % is the 990th; one slow value moves only the 100 %.
        let mut w = vec![10u64; 999];
        w.push(5000);
        assert_eq!(nearest_rank(&w, 0.99), 10);
        assert_eq!(nearest_rank(&w, 1.0), 5000);
        assert_eq!(nearest_rank(&[7], 0.99), 7);
    }
}

//! Ratings, live tallies and final results of a satisfaction evaluation (满意度测评).
//!
//! Architecture Invariant: a tally is only ever changed by applying an
//! accepted `BallotCast`, so it always equals the count of distinct accepted
//! ballots (the property tests check this against a recount).

use crate::definition::DelegateLevel;
use crate::ids::{DelegateId, UnitId, VenueId};
use std::collections::{BTreeMap, BTreeSet};

/// 满意 / 基本满意 / 不满意.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rating {
    Satisfied,
    BasicallySatisfied,
    Dissatisfied,
}

impl Rating {
    pub const ALL: [Rating; 3] = [Rating::Satisfied, Rating::BasicallySatisfied, Rating::Dissatisfied];
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RatingCounts {
    pub satisfied: u32,
    pub basically_satisfied: u32,
    pub dissatisfied: u32,
}

impl RatingCounts {
    pub fn add(&mut self, r: Rating) {
        match r {
            Rating::Satisfied => self.satisfied += 1,
            Rating::BasicallySatisfied => self.basically_satisfied += 1,
            Rating::Dissatisfied => self.dissatisfied += 1,
        }
    }
    pub fn total(&self) -> u32 {
        self.satisfied + self.basically_satisfied + self.dissatisfied
    }
    /// 满意率 = (满意 + 基本满意) / valid ballots, in basis points (1/10000) so
    /// it stays exact integer arithmetic; `None` when no ballot was cast.
    pub fn satisfaction_rate_bp(&self) -> Option<u32> {
        let total = u64::from(self.total());
        if total == 0 {
            return None;
        }
        let ok = u64::from(self.satisfied + self.basically_satisfied);
        // Round half up.
        Some(((ok * 10_000 * 2 + total) / (total * 2)) as u32)
    }
}

/// Live per-unit counts, updated ballot by ballot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub by_unit: BTreeMap<UnitId, UnitResults>,
    /// Delegates that cast at least one ballot, by venue.
    pub voters: BTreeMap<VenueId, BTreeSet<DelegateId>>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UnitResults {
    pub total: RatingCounts,
    pub by_venue: BTreeMap<VenueId, RatingCounts>,
    pub by_level: [RatingCounts; 5],
}

impl Tally {
    pub fn new(units: &[UnitId]) -> Self {
        Self { by_unit: units.iter().map(|u| (u.clone(), UnitResults::default())).collect(), voters: BTreeMap::new() }
    }

    pub fn count(&mut self, unit: &UnitId, venue: &VenueId, level: DelegateLevel, delegate: &DelegateId, r: Rating) {
        let u = self.by_unit.entry(unit.clone()).or_default();
        u.total.add(r);
        u.by_venue.entry(venue.clone()).or_default().add(r);
        u.by_level[level.index()].add(r);
        self.voters.entry(venue.clone()).or_default().insert(delegate.clone());
    }

    pub fn voted(&self, venue: &VenueId) -> u32 {
        self.voters.get(venue).map_or(0, |s| s.len() as u32)
    }
    pub fn voted_total(&self) -> u32 {
        self.voters.values().map(|s| s.len() as u32).sum()
    }
}

/// Turnout (参评率): delegates who voted / eligible (checked-in) delegates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Turnout {
    pub voted: u32,
    pub eligible: u32,
    pub by_venue: BTreeMap<VenueId, (u32, u32)>,
}

/// Final results, frozen when an evaluation closes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Results {
    pub tally: Tally,
    pub turnout: Turnout,
    /// Eligible delegates per level at close.
    pub eligible_by_level: [u32; 5],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn satisfaction_rate_counts_basically_satisfied_and_rounds() {
        let c = RatingCounts { satisfied: 1, basically_satisfied: 1, dissatisfied: 1 };
        assert_eq!(c.satisfaction_rate_bp(), Some(6667));
        assert_eq!(RatingCounts::default().satisfaction_rate_bp(), None);
        let all = RatingCounts { satisfied: 5, basically_satisfied: 0, dissatisfied: 0 };
        assert_eq!(all.satisfaction_rate_bp(), Some(10_000));
    }
}

//! The assignment board's figures, per unit and overall, derived from the
//! items and the session's date: never stored, so they cannot drift from
//! the items (a property test recounts them).

use super::{Assignments, Item, ItemStatus};
use crate::ids::{CalendarDate, UnitId};
use crate::tally::RatingCounts;
use std::collections::BTreeMap;

/// Counts of one group of items. Drafts and merged drafts are left out:
/// the board is about what was handed to the units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Issued items, whatever their status since (the denominator of the rate).
    pub issued: u32,
    pub in_handling: u32,
    pub answered: u32,
    pub rectified: u32,
    pub closed: u32,
    /// Issued and not yet started: `issued` minus every later status.
    pub waiting: u32,
    pub overdue: u32,
    pub due_soon: u32,
    /// Items with at least one 不满意 from their askers.
    pub flagged: u32,
    /// The askers' follow-up ratings, counted (never who chose what).
    pub ratings: RatingCounts,
}

impl Counts {
    fn add(&mut self, it: &Item, today: CalendarDate, due_soon_days: u32) {
        self.issued += 1;
        match it.status {
            ItemStatus::Draft => unreachable!("drafts are not counted"),
            ItemStatus::Issued => self.waiting += 1,
            ItemStatus::InHandling => self.in_handling += 1,
            ItemStatus::Answered => self.answered += 1,
            ItemStatus::Rectified => self.rectified += 1,
            ItemStatus::Closed => self.closed += 1,
        }
        self.overdue += u32::from(it.overdue(today));
        self.due_soon += u32::from(it.due_soon(today, due_soon_days));
        self.flagged += u32::from(it.flagged());
        for r in it.ratings.values() {
            self.ratings.add(r.rating);
        }
    }

    /// The article's figure, (已答复 + 已整改 + 已办结) / issued, in basis
    /// points (8000 = 80 %); `None` before anything was issued.
    pub fn resolved_rate_bp(&self) -> Option<u32> {
        let resolved = u64::from(self.answered + self.rectified + self.closed);
        (self.issued > 0).then(|| (resolved * 10_000 / u64::from(self.issued)) as u32)
    }
}

/// Figures for the whole list and per unit. An item counts for its lead unit;
/// co-handling units are helpers, not answerable for it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dashboard {
    pub overall: Counts,
    pub by_unit: BTreeMap<UnitId, Counts>,
    /// Drafts the office has not issued yet.
    pub drafts: u32,
}

impl Assignments {
    /// The board as of `today` (the session's date).
    pub fn dashboard(&self, today: CalendarDate) -> Dashboard {
        let mut d = Dashboard::default();
        let days = self.rules.due_soon_days;
        for it in self.items.values().filter(|i| i.merged_into.is_none()) {
            if it.status == ItemStatus::Draft {
                d.drafts += 1;
                continue;
            }
            d.overall.add(it, today, days);
            d.by_unit.entry(it.lead.clone()).or_default().add(it, today, days);
        }
        d
    }
}

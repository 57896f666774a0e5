//! What goods cost the shop, and what a sold line cost it: the unit cost in effect when the
//! line was sold, so that a later change of cost never rewrites past profit.

use crate::tax::{proportional_share, return_share};
use crate::{Quantity, UnixMillis};

/// A product's unit costs over time: each entry is the cost from that moment on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CostHistory {
    /// Sorted by time, one entry per moment.
    entries: Vec<(UnixMillis, i64)>,
}

impl CostHistory {
    pub fn new(mut entries: Vec<(UnixMillis, i64)>) -> Self {
        entries.sort_by_key(|(from, _)| *from);
        // Two changes in the same millisecond: the later one given wins, as it did when stored.
        entries.dedup_by(|later, earlier| {
            if later.0 == earlier.0 {
                earlier.1 = later.1;
                true
            } else {
                false
            }
        });
        Self { entries }
    }

    /// The unit cost at `when`; `None` before the first cost was set. A sale rung up offline
    /// and synced days later still takes the cost of the moment it was sold.
    pub fn at(&self, when: UnixMillis) -> Option<i64> {
        let after = self.entries.partition_point(|(from, _)| *from <= when);
        after.checked_sub(1).map(|index| self.entries[index].1)
    }
}

/// What `quantity` units cost at `unit_cost_minor` each, rounded half away from zero.
pub fn line_cost(unit_cost_minor: i64, quantity: Quantity) -> i64 {
    proportional_share(unit_cost_minor, quantity.milli(), 1000)
}

/// The (negative) cost of returning `returning` of a line of `sold` that cost `sold_cost`,
/// after `returned_before` came back already: returns in any number of steps cancel the line's
/// cost exactly, as they cancel its amounts.
pub fn returned_cost(
    sold_cost: i64,
    sold: Quantity,
    returned_before: Quantity,
    returning: Quantity,
) -> i64 {
    -return_share(
        sold_cost,
        sold.milli(),
        returned_before.milli(),
        returning.milli(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(millis: i64) -> UnixMillis {
        UnixMillis::from_millis(millis)
    }

    #[test]
    fn the_cost_in_effect_is_the_latest_set_at_or_before_the_moment() {
        let history = CostHistory::new(vec![(at(300), 900), (at(100), 700), (at(100), 750)]);
        assert_eq!(history.at(at(99)), None);
        assert_eq!(history.at(at(100)), Some(750));
        assert_eq!(history.at(at(299)), Some(750));
        assert_eq!(history.at(at(300)), Some(900));
        assert_eq!(history.at(at(10_000)), Some(900));
    }

    #[test]
    fn a_line_costs_its_quantity_at_the_unit_cost_rounded() {
        assert_eq!(line_cost(250, Quantity::from_milli(3000)), 750);
        assert_eq!(line_cost(333, Quantity::from_milli(500)), 167);
        assert_eq!(line_cost(333, Quantity::from_milli(-500)), -167);
    }

    #[test]
    fn returns_in_steps_cancel_the_line_cost_exactly() {
        let sold = Quantity::from_milli(3000);
        let cost = line_cost(333, sold);
        let mut before = Quantity::from_milli(0);
        let mut total = 0;
        for step in [1000, 1000, 1000] {
            let returning = Quantity::from_milli(step);
            total += returned_cost(cost, sold, before, returning);
            before = Quantity::from_milli(before.milli() + step);
        }
        assert_eq!(total, -cost);
    }
}

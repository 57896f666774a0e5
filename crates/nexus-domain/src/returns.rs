//! What a refund or void of a recorded sale gives back. Both the till (for its receipt, offline)
//! and the service (for the record it keeps) price a return here, from the sale's own lines, so
//! the two always agree to the minor unit.

use std::collections::BTreeMap;

use crate::quantity::Quantity;
use crate::tax::{LineTax, SaleTotals, return_share};

/// A line of a recorded sale, as pricing a return of it needs it: its number, what was sold and
/// what the customer paid for it.
pub trait SoldLine {
    fn line_no(&self) -> i32;
    fn quantity(&self) -> Quantity;
    fn gross_minor(&self) -> i64;
    fn discount_minor(&self) -> i64;
    fn net_minor(&self) -> i64;
    fn total_minor(&self) -> i64;
    /// (levy code, amount) as charged.
    fn levies(&self) -> &[(String, i64)];
}

/// What comes back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Returning<'a> {
    /// (sold line number, quantity): a refund of these.
    Lines(&'a [(i32, Quantity)]),
    /// Everything not returned yet: a void.
    Everything,
}

/// Implements [`SoldLine`] for a line type with the fields `line_no`, `quantity`,
/// `gross_minor`, `discount_minor`, `net_minor`, `total_minor` and `levies`, as a sale's
/// records and receipts have.
#[macro_export]
macro_rules! sold_line_from_fields {
    ($line:ty) => {
        impl $crate::returns::SoldLine for $line {
            fn line_no(&self) -> i32 {
                self.line_no
            }
            fn quantity(&self) -> $crate::Quantity {
                self.quantity
            }
            fn gross_minor(&self) -> i64 {
                self.gross_minor
            }
            fn discount_minor(&self) -> i64 {
                self.discount_minor
            }
            fn net_minor(&self) -> i64 {
                self.net_minor
            }
            fn total_minor(&self) -> i64 {
                self.total_minor
            }
            fn levies(&self) -> &[(String, i64)] {
                &self.levies
            }
        }
    };
}

/// One line of a return, signed as the return records it: quantity and amounts negative.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReturnedLine {
    /// The sold line it returns.
    pub line_no: i32,
    pub quantity: Quantity,
    /// Its levies are in the sold line's order and add up to its tax.
    pub amounts: LineTax,
}

/// A priced return: its lines, in the order asked, and their sums (levies in the order their
/// codes first appear).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PricedReturn {
    pub lines: Vec<ReturnedLine>,
    pub totals: SaleTotals,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReturnError {
    #[error("nothing is left to return on this sale")]
    NothingLeft,
    #[error("the sale has no line {0}")]
    NoSuchLine(i32),
    #[error(
        "line {line_no}: {sold} sold, {returned_before} already returned; cannot return {requested}"
    )]
    TooMuch {
        line_no: i32,
        sold: Quantity,
        returned_before: Quantity,
        requested: Quantity,
    },
}

/// Prices a return of `sold` (the sale's lines), given what earlier refunds and voids took back
/// per line (`returned_before`, by line number). Each line gives back its share of what was paid
/// for it, as the difference of cumulative shares ([`return_share`]), so that returns in any
/// number of steps add up exactly to what was paid. Each amount is shared on its own; the total
/// is what the customer gets back, so when rounding leaves net + tax a unit off, the tax (its
/// first levy) absorbs the difference.
///
/// A line named twice is returned twice, the second time after the first. Refuses a line the
/// sale does not have, a quantity that is not positive or more than is left of its line, and a
/// return with nothing in it.
pub fn price_return<L: SoldLine>(
    sold: &[L],
    returned_before: &BTreeMap<i32, Quantity>,
    returning: Returning<'_>,
) -> Result<PricedReturn, ReturnError> {
    let mut returned: BTreeMap<i32, i64> = returned_before
        .iter()
        .map(|(line_no, quantity)| (*line_no, quantity.milli()))
        .collect();
    let wanted: Vec<(i32, Quantity)> = match returning {
        Returning::Lines(lines) => lines.to_vec(),
        Returning::Everything => sold
            .iter()
            .map(|line| {
                let before = returned.get(&line.line_no()).copied().unwrap_or(0);
                (
                    line.line_no(),
                    Quantity::from_milli(line.quantity().milli() - before),
                )
            })
            .filter(|(_, quantity)| quantity.is_positive())
            .collect(),
    };
    if wanted.is_empty() {
        return Err(ReturnError::NothingLeft);
    }
    let mut lines = Vec::with_capacity(wanted.len());
    for (line_no, quantity) in wanted {
        let line = sold
            .iter()
            .find(|line| line.line_no() == line_no)
            .ok_or(ReturnError::NoSuchLine(line_no))?;
        let sold_milli = line.quantity().milli();
        let before = returned.get(&line_no).copied().unwrap_or(0);
        if !quantity.is_positive() || before + quantity.milli() > sold_milli {
            return Err(ReturnError::TooMuch {
                line_no,
                sold: line.quantity(),
                returned_before: Quantity::from_milli(before),
                requested: quantity,
            });
        }
        returned.insert(line_no, before + quantity.milli());
        let share = |amount: i64| -return_share(amount, sold_milli, before, quantity.milli());
        let net_minor = share(line.net_minor());
        let total_minor = share(line.total_minor());
        let tax_minor = total_minor - net_minor;
        let mut levies: Vec<(String, i64)> = line
            .levies()
            .iter()
            .map(|(code, amount)| (code.clone(), share(*amount)))
            .collect();
        let levy_sum: i64 = levies.iter().map(|(_, amount)| amount).sum();
        if let Some(first) = levies.first_mut() {
            first.1 += tax_minor - levy_sum;
        }
        lines.push(ReturnedLine {
            line_no,
            quantity: Quantity::from_milli(-quantity.milli()),
            amounts: LineTax {
                gross_minor: share(line.gross_minor()),
                discount_minor: share(line.discount_minor()),
                net_minor,
                tax_minor,
                total_minor,
                levies,
            },
        });
    }
    let totals = sum_lines(&lines);
    Ok(PricedReturn { lines, totals })
}

fn sum_lines(lines: &[ReturnedLine]) -> SaleTotals {
    let sum = |field: fn(&LineTax) -> i64| lines.iter().map(|line| field(&line.amounts)).sum();
    let mut levies: Vec<(String, i64)> = Vec::new();
    for line in lines {
        for (code, amount) in &line.amounts.levies {
            match levies.iter_mut().find(|(known, _)| known == code) {
                Some(entry) => entry.1 += amount,
                None => levies.push((code.clone(), *amount)),
            }
        }
    }
    SaleTotals {
        gross_minor: sum(|line| line.gross_minor),
        discount_minor: sum(|line| line.discount_minor),
        net_minor: sum(|line| line.net_minor),
        tax_minor: sum(|line| line.tax_minor),
        total_minor: sum(|line| line.total_minor),
        levies,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tax::{LineInput, TaxClass, TaxRules, compute_sale};

    struct Line {
        line_no: i32,
        quantity: Quantity,
        gross_minor: i64,
        discount_minor: i64,
        net_minor: i64,
        total_minor: i64,
        levies: Vec<(String, i64)>,
    }

    crate::sold_line_from_fields!(Line);

    /// Three of a 3.33 item and one untaxed 5.00 item, with 1.00 off the basket.
    fn sale() -> Vec<Line> {
        let inputs = [
            LineInput {
                unit_price_minor: 333,
                quantity: Quantity::from_milli(3000),
                discount_minor: 0,
                tax_class: TaxClass::Standard,
            },
            LineInput {
                unit_price_minor: 500,
                quantity: Quantity::from_milli(1000),
                discount_minor: 0,
                tax_class: TaxClass::Exempt,
            },
        ];
        let (taxes, _) = compute_sale(&TaxRules::ghana_2026(), &inputs, 100).expect("priced");
        taxes
            .into_iter()
            .zip(inputs)
            .enumerate()
            .map(|(index, (tax, input))| Line {
                line_no: i32::try_from(index + 1).expect("small"),
                quantity: input.quantity,
                gross_minor: tax.gross_minor,
                discount_minor: tax.discount_minor,
                net_minor: tax.net_minor,
                total_minor: tax.total_minor,
                levies: tax.levies,
            })
            .collect()
    }

    fn one(milli: i64) -> Quantity {
        Quantity::from_milli(milli)
    }

    #[test]
    fn returns_in_steps_give_back_exactly_what_was_paid() {
        let sold = sale();
        let mut before = BTreeMap::new();
        let mut back = Vec::new();
        for step in [1000, 1000, 1000] {
            let priced =
                price_return(&sold, &before, Returning::Lines(&[(1, one(step))])).expect("priced");
            let line = &priced.lines[0].amounts;
            let levy_sum: i64 = line.levies.iter().map(|(_, amount)| amount).sum();
            assert_eq!(line.net_minor + line.tax_minor, line.total_minor);
            assert_eq!(levy_sum, line.tax_minor);
            assert_eq!(priced.totals.total_minor, line.total_minor);
            back.push(priced);
            let so_far = before
                .get(&1)
                .map_or(0, |quantity: &Quantity| quantity.milli());
            before.insert(1, one(so_far + step));
        }
        let paid = &sold[0];
        let total: i64 = back.iter().map(|priced| priced.totals.total_minor).sum();
        let net: i64 = back.iter().map(|priced| priced.totals.net_minor).sum();
        assert_eq!((-total, -net), (paid.total_minor, paid.net_minor));
        assert_eq!(back[0].lines[0].quantity, one(-1000));
    }

    #[test]
    fn a_void_takes_everything_left_and_then_nothing_is() {
        let sold = sale();
        let before = BTreeMap::from([(1, one(1000))]);
        let void = price_return(&sold, &before, Returning::Everything).expect("void");
        let lines: Vec<(i32, Quantity)> = void
            .lines
            .iter()
            .map(|line| (line.line_no, line.quantity))
            .collect();
        assert_eq!(lines, vec![(1, one(-2000)), (2, one(-1000))]);
        assert!(void.totals.levies.iter().all(|(_, amount)| *amount <= 0));
        let all = BTreeMap::from([(1, one(3000)), (2, one(1000))]);
        assert_eq!(
            price_return(&sold, &all, Returning::Everything),
            Err(ReturnError::NothingLeft)
        );
    }

    #[test]
    fn more_than_is_left_or_no_such_line_is_refused() {
        let sold = sale();
        let before = BTreeMap::from([(2, one(1000))]);
        let refused = price_return(&sold, &before, Returning::Lines(&[(2, one(1000))]));
        assert_eq!(
            refused.map_err(|error| error.to_string()),
            Err("line 2: 1 sold, 1 already returned; cannot return 1".to_owned())
        );
        assert_eq!(
            price_return(&sold, &before, Returning::Lines(&[(9, one(1000))])),
            Err(ReturnError::NoSuchLine(9))
        );
        assert!(matches!(
            price_return(&sold, &before, Returning::Lines(&[(1, one(0))])),
            Err(ReturnError::TooMuch { .. })
        ));
        // The same line twice: the second is priced after the first, and both must fit.
        let twice = [(1, one(2000)), (1, one(2000))];
        assert!(matches!(
            price_return(&sold, &BTreeMap::new(), Returning::Lines(&twice)),
            Err(ReturnError::TooMuch { line_no: 1, .. })
        ));
    }
}

//! The customers: what they put in their baskets and how they pay, and what they bring back.

use nexus_domain::{LineInput, Quantity, compute_sale};
use serde_json::{Value, json};

use super::{CLOSING_HOUR, DAY, HOUR, History, Item, MAKOLA, MINUTE, OSU, on_shift};
use crate::demo::api::{Call, post_all};
use crate::demo::rng::Rng;
use crate::demo::shop::{GOOD_POPULARITY, MANAGER};

/// Osu buys single packs; Makola's market traders buy bigger sizes.
const SIZE_WEIGHTS: [[f64; 5]; 2] = [[52.0, 30.0, 12.0, 5.0, 1.0], [40.0, 30.0, 18.0, 10.0, 2.0]];
/// Baskets of 1 to 6 lines.
const LINE_COUNT_WEIGHTS: [f64; 6] = [30.0, 24.0, 18.0, 12.0, 9.0, 7.0];
/// Quantities 1 to 6 of an ordinary item, 1 to 10 of a cheap one (a stock cube, a sweet) and
/// one of anything over GHS 100.
const QUANTITY_WEIGHTS: [f64; 6] = [70.0, 20.0, 6.0, 2.0, 1.0, 1.0];
const CHEAP_QUANTITY_WEIGHTS: [f64; 10] = [30.0, 20.0, 10.0, 10.0, 15.0, 5.0, 3.0, 2.0, 2.0, 3.0];
const CHEAP_MINOR: i64 = 300;
const REFUND_RATE: f64 = 0.012;

const REFUND_REASONS: [&str; 5] = [
    "damaged packaging",
    "past its best-before date",
    "wrong size",
    "customer changed their mind",
    "faulty item",
];
const VOID_REASONS: [&str; 3] = [
    "rung up twice",
    "customer could not pay",
    "wrong items rung up",
];

/// Mobile money networks with their share of payments and their numbers' prefixes.
const NETWORKS: [(&str, f64, &[&str]); 3] = [
    ("mtn", 0.72, &["024", "054", "055", "059", "025", "053"]),
    ("telecel", 0.20, &["020", "050"]),
    ("airteltigo", 0.08, &["027", "057", "026", "056"]),
];

/// How likely each item is to go into a basket at each branch, and what that means for stock.
pub(super) struct Demand {
    /// Per branch, the running sum of the items' weights (for drawing).
    cumulative: [Vec<f64>; 2],
    /// Per branch and item, the units one sale takes on average.
    pub(super) units_per_sale: [Vec<f64>; 2],
}

fn mean(weights: &[f64]) -> f64 {
    let total: f64 = weights.iter().sum();
    weights
        .iter()
        .enumerate()
        .map(|(index, weight)| (index + 1) as f64 * weight)
        .sum::<f64>()
        / total
}

impl Demand {
    pub(super) fn new(items: &[Item]) -> Demand {
        let lines_per_sale = mean(&LINE_COUNT_WEIGHTS);
        let branch = |branch: usize| {
            let weights: Vec<f64> = items
                .iter()
                .map(|item| f64::from(GOOD_POPULARITY[item.good]) * SIZE_WEIGHTS[branch][item.size])
                .collect();
            let total: f64 = weights.iter().sum();
            let units = items
                .iter()
                .zip(&weights)
                .map(|(item, weight)| lines_per_sale * weight / total * mean_quantity(item))
                .collect();
            let cumulative = weights
                .iter()
                .scan(0.0, |sum, weight| {
                    *sum += weight;
                    Some(*sum)
                })
                .collect();
            (cumulative, units)
        };
        let (osu_cumulative, osu_units) = branch(OSU);
        let (makola_cumulative, makola_units) = branch(MAKOLA);
        Demand {
            cumulative: [osu_cumulative, makola_cumulative],
            units_per_sale: [osu_units, makola_units],
        }
    }

    fn draw(&self, branch: usize, rng: &mut Rng) -> usize {
        let cumulative = &self.cumulative[branch];
        let point = rng.unit() * cumulative.last().copied().unwrap_or(0.0);
        cumulative
            .partition_point(|sum| *sum <= point)
            .min(cumulative.len().saturating_sub(1))
    }
}

fn quantity_weights(item: &Item) -> &'static [f64] {
    if item.price_minor < CHEAP_MINOR {
        &CHEAP_QUANTITY_WEIGHTS
    } else if item.price_minor > 10_000 {
        &QUANTITY_WEIGHTS[..1]
    } else {
        &QUANTITY_WEIGHTS
    }
}

fn mean_quantity(item: &Item) -> f64 {
    mean(quantity_weights(item))
}
/// A refund or void waiting for its time.
pub(super) struct PendingReturn {
    at: i64,
    sale_id: String,
    branch: usize,
    sold_by: usize,
    kind: ReturnKind,
}

pub(super) enum ReturnKind {
    Refund {
        line_no: usize,
        item: usize,
        quantity: i64,
        tender: &'static str,
        reason: &'static str,
    },
    Void {
        lines: Vec<(usize, i64)>,
        reason: &'static str,
    },
}

impl History<'_> {
    pub(super) fn new_wallet(&mut self) -> (&'static str, String) {
        let shares: Vec<f64> = NETWORKS.iter().map(|(_, share, _)| *share).collect();
        let (network, _, prefixes) = NETWORKS[self.rng.weighted(&shares)];
        let prefix = prefixes[self.rng.below(prefixes.len() as u64) as usize];
        (network, format!("{prefix}{}", self.rng.digits(7)))
    }

    fn wallet(&mut self) -> (&'static str, String) {
        if self.rng.chance(0.6) {
            let index = self.rng.below(self.wallets.len() as u64) as usize;
            self.wallets[index].clone()
        } else {
            self.new_wallet()
        }
    }

    /// What a customer paying `due` in cash hands over: the exact money, or the next note up.
    fn cash_handed(&mut self, due: i64) -> i64 {
        if self.rng.chance(0.3) {
            return due;
        }
        let mut offers: Vec<i64> = Vec::new();
        for note in [100, 500, 1_000, 2_000, 5_000, 10_000, 20_000] {
            let offer = (due + note - 1) / note * note;
            if offers.last().is_none_or(|last| offer > *last) {
                offers.push(offer);
            }
        }
        offers.truncate(3);
        let pick = self.rng.weighted(&[3.0, 4.0, 3.0][..offers.len()]);
        offers[pick]
    }

    fn momo(&mut self, amount_minor: i64) -> Value {
        let (network, phone) = self.wallet();
        let digits = match network {
            "mtn" => 11,
            "telecel" => 12,
            _ => 10,
        };
        json!({ "kind": "momo", "amount_minor": amount_minor, "network": network,
                "phone": phone, "reference": self.rng.digits(digits) })
    }

    fn card(&mut self, amount_minor: i64) -> Value {
        json!({ "kind": "card", "amount_minor": amount_minor,
                "reference": format!("AUTH {}", self.rng.digits(6)) })
    }

    /// How a sale of `total` is paid, and the kind of its first tender (how a refund goes back).
    fn tenders(&mut self, total: i64) -> (Vec<Value>, &'static str) {
        let card_share = if total >= 10_000 { 0.18 } else { 0.05 };
        let draw = self.rng.unit();
        if draw < 0.04 && total >= 1_000 {
            // Part by wallet or card, the rest in cash.
            let part = (total * self.rng.between(30, 70) / 100 / 100 * 100).clamp(100, total - 1);
            let cash = self.cash_handed(total - part);
            let (first, kind) = if self.rng.chance(0.7) {
                (self.momo(part), "momo")
            } else {
                (self.card(part), "card")
            };
            (
                vec![first, json!({ "kind": "cash", "amount_minor": cash })],
                kind,
            )
        } else if draw < 0.38 {
            (vec![self.momo(total)], "momo")
        } else if draw < 0.38 + card_share {
            (vec![self.card(total)], "card")
        } else {
            let cash = self.cash_handed(total);
            (
                vec![json!({ "kind": "cash", "amount_minor": cash })],
                "cash",
            )
        }
    }

    /// A basket drawn from what `branch` has on its shelves, taken off them.
    fn basket(&mut self, branch: usize) -> Vec<(usize, i64)> {
        let wanted = 1 + self.rng.weighted(&LINE_COUNT_WEIGHTS);
        let mut lines: Vec<(usize, i64)> = Vec::with_capacity(wanted);
        for _ in 0..wanted {
            for _attempt in 0..4 {
                let item = self.demand.draw(branch, &mut self.rng);
                if lines.iter().any(|(taken, _)| *taken == item) {
                    continue;
                }
                let weights = quantity_weights(&self.shop.items[item]);
                let quantity =
                    (1 + self.rng.weighted(weights) as i64).min(self.stock[branch][item]);
                if quantity < 1 {
                    continue;
                }
                self.stock[branch][item] -= quantity;
                lines.push((item, quantity));
                break;
            }
        }
        lines
    }

    /// A sale at `branch` at `at` by `cashier`, as the request's body; `None` when the shelves
    /// had nothing the customer wanted. Its refund or void, if it will have one, is queued.
    pub(super) fn sale(
        &mut self,
        branch: usize,
        at: i64,
        cashier: usize,
        voided: bool,
        day: usize,
    ) -> Result<Option<Value>, String> {
        let lines = self.basket(branch);
        if lines.is_empty() {
            return Ok(None);
        }
        let inputs: Vec<LineInput> = lines
            .iter()
            .map(|(item, quantity)| {
                let item = &self.shop.items[*item];
                LineInput {
                    unit_price_minor: item.price_minor,
                    quantity: Quantity::from_milli(quantity * 1000),
                    discount_minor: 0,
                    tax_class: item.tax_class,
                }
            })
            .collect();
        let priced = |discount: i64| {
            compute_sale(&self.shop.rules, &inputs, discount)
                .map(|(_, totals)| totals)
                .map_err(|error| format!("pricing a demo sale: {error}"))
        };
        let mut totals = priced(0)?;
        // Now and then the cashier knocks the pesewas off, or a regular gets 5 % off.
        let discount = if totals.total_minor >= 5_000 && self.rng.chance(0.05) {
            totals.gross_minor % 100
        } else if totals.total_minor >= 10_000 && self.rng.chance(0.02) {
            totals.gross_minor / 20
        } else {
            0
        };
        if discount > 0 {
            totals = priced(discount)?;
        }
        let (tenders, paid_by) = self.tenders(totals.total_minor);
        let id = self.rng.uuid_v7(at).to_string();
        let mut body = json!({
            "id": id,
            "branch_id": self.shop.branches[branch],
            "occurred_at": at,
            "lines": lines.iter().map(|(item, quantity)| json!({
                "product_id": self.shop.items[*item].id, "quantity": quantity.to_string() }))
                .collect::<Vec<_>>(),
            "tenders": tenders,
        });
        if discount > 0 {
            body["discount_minor"] = json!(discount);
        }
        self.summary.takings_minor += totals.total_minor;
        if voided {
            let reason = VOID_REASONS[self.rng.below(VOID_REASONS.len() as u64) as usize];
            self.pending.push(PendingReturn {
                at: at + self.rng.between(2, 6) * MINUTE,
                sale_id: id,
                branch,
                sold_by: cashier,
                kind: ReturnKind::Void { lines, reason },
            });
        } else if self.rng.chance(REFUND_RATE) {
            // The same day a few hours later, or within the next three days, while the shop
            // is open.
            let same_day = at + self.rng.between(20, 240) * MINUTE;
            let next = day + usize::try_from(self.rng.between(1, 3)).unwrap_or(1);
            let another_day = self.day_start(next) + self.rng.between(8 * 60, 20 * 60) * MINUTE;
            let closing = self.day_start(day) + CLOSING_HOUR * HOUR;
            let later = if self.rng.chance(0.4) && same_day < closing {
                same_day
            } else {
                another_day
            };
            let line = self.rng.below(lines.len() as u64) as usize;
            let (item, sold) = lines[line];
            let quantity = if sold > 1 && self.rng.chance(0.5) {
                1
            } else {
                sold
            };
            let reason = REFUND_REASONS[self.rng.below(REFUND_REASONS.len() as u64) as usize];
            if later < self.end {
                self.pending.push(PendingReturn {
                    at: later,
                    sale_id: id,
                    branch,
                    sold_by: cashier,
                    kind: ReturnKind::Refund {
                        line_no: line + 1,
                        item,
                        quantity,
                        tender: paid_by,
                        reason,
                    },
                });
            }
        }
        Ok(Some(body))
    }

    /// The refunds and voids due before `until`: by the cashier who made the sale when they
    /// are on the till, by the manager otherwise (and every void is the manager's).
    pub(super) async fn returns_before(&mut self, until: i64) -> Result<(), String> {
        let (due, later): (Vec<PendingReturn>, Vec<PendingReturn>) =
            std::mem::take(&mut self.pending)
                .into_iter()
                .partition(|pending| pending.at < until);
        self.pending = later;
        let mut calls = Vec::with_capacity(due.len());
        for pending in due {
            let day =
                usize::try_from((pending.at - self.day_start(0)).div_euclid(DAY)).unwrap_or(0);
            let hour = (pending.at - self.day_start(day)).div_euclid(HOUR);
            let by = match pending.kind {
                ReturnKind::Refund { .. }
                    if on_shift(pending.branch, self.weekday_of(day), hour)
                        .contains(&pending.sold_by) =>
                {
                    pending.sold_by
                }
                _ => MANAGER,
            };
            let id = self.rng.uuid_v7(pending.at).to_string();
            let (path, body) = match &pending.kind {
                ReturnKind::Refund {
                    line_no,
                    item,
                    quantity,
                    tender,
                    reason,
                } => {
                    self.stock[pending.branch][*item] += quantity;
                    self.summary.refunds += 1;
                    (
                        "refunds",
                        json!({ "id": id, "lines": [{ "line_no": line_no, "quantity": quantity.to_string() }],
                                "reason": reason, "tender": tender, "occurred_at": pending.at }),
                    )
                }
                ReturnKind::Void { lines, reason } => {
                    for (item, quantity) in lines {
                        self.stock[pending.branch][*item] += quantity;
                    }
                    self.summary.voids += 1;
                    (
                        "void",
                        json!({ "id": id, "reason": reason, "occurred_at": pending.at }),
                    )
                }
            };
            calls.push(Call {
                api: self.as_staff(by).await?,
                path: format!("/api/v1/sales/{}/{path}", pending.sale_id),
                body,
            });
        }
        post_all(calls).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baskets_hold_a_few_lines_of_a_few_units() {
        let lines = mean(&LINE_COUNT_WEIGHTS);
        assert!(lines > 2.0 && lines < 3.5, "{lines}");
        assert!(mean(&QUANTITY_WEIGHTS) < 1.6);
        assert!(mean(&CHEAP_QUANTITY_WEIGHTS) > mean(&QUANTITY_WEIGHTS));
        let shares: f64 = NETWORKS.iter().map(|(_, share, _)| share).sum();
        assert!((shares - 1.0).abs() < 1e-9);
    }
}

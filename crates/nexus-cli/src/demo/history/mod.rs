//! The demo's history: weeks of trading at both branches, rung up through the service's real
//! API with the service's clock set back to each hour in turn. Cashiers sell baskets from the
//! catalogue (busier at weekends, a Friday evening rush, a slow growth week on week) paid in
//! cash, mobile money and card; some sales come back as refunds and a few are voided by the
//! manager; goods arrive every week, Osu counts its stock once and Makola sends Osu a transfer.
//!
//! Everything is drawn from a seeded generator, so every demo has the same history on the
//! same days of the week. Nothing is written to the store directly: each sale, refund, void,
//! delivery, count and transfer is the request a till or the dashboard would send.

mod customers;
mod stock;

use std::io::IsTerminal as _;

use nexus_domain::time::OffsetClock;
use nexus_domain::{Clock, Quantity, TaxClass, TaxRules, UnixMillis};
use serde_json::Value;

use super::api::{Api, Call, Session, post_all};
use super::rng::Rng;
use super::shop::{MAKOLA_CASHIERS, OSU_CASHIERS, good_and_size};
use customers::{Demand, PendingReturn};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
pub const DAY: i64 = 24 * HOUR;
const OPENING_HOUR: i64 = 7;
const CLOSING_HOUR: i64 = 21;

/// How much history the first run rings up.
pub struct HistoryOptions {
    /// Days of trading, ending today (cut at the present).
    pub days: u32,
    /// Sales on an ordinary weekday at the start, both branches together; weekends are busier
    /// and the shop grows from there.
    pub weekday_sales: u32,
}

pub const DEFAULT_DAYS: u32 = 60;
pub const DEFAULT_WEEKDAY_SALES: u32 = 80;

const OSU: usize = 0;
const MAKOLA: usize = 1;
const BRANCH_SHARE: [f64; 2] = [0.56, 0.44];
/// Monday to Sunday.
const DAY_FACTORS: [[f64; 7]; 2] = [
    [0.92, 0.95, 1.0, 1.0, 1.3, 1.4, 1.15],
    [0.95, 1.0, 1.0, 1.0, 1.25, 1.45, 0.9],
];
/// 07:00 to 20:00 (the hour starting then): a lunch bump and an evening rush.
const HOUR_WEIGHTS: [f64; 14] = [
    0.5, 0.8, 0.9, 1.0, 1.0, 1.3, 1.3, 1.0, 0.9, 1.1, 1.5, 1.6, 1.2, 0.6,
];
/// Over the whole history the shop grows by this much.
const GROWTH: f64 = 0.4;
const VOID_EVERY_DAYS: usize = 10;

/// A product of the catalogue as the history sells it.
pub struct Item {
    pub id: String,
    price_minor: i64,
    tax_class: TaxClass,
    reorder_level: i64,
    good: usize,
    size: usize,
}

impl Item {
    /// A product as `GET /api/v1/products` lists it; `None` for one the demo did not import.
    pub fn from_api(product: &Value) -> Result<Option<Item>, String> {
        let Some((good, size)) = product["sku"].as_str().and_then(good_and_size) else {
            return Ok(None);
        };
        let tax_class = serde_json::from_value(product["tax_class"].clone())
            .map_err(|error| format!("product {product}: {error}"))?;
        Ok(Some(Item {
            id: super::api::id_of(product, "product")?,
            price_minor: product["price_minor"]
                .as_i64()
                .ok_or_else(|| format!("product {product} has no price"))?,
            tax_class,
            reorder_level: product["reorder_level"].as_str().map_or(Ok(0), units)?,
            good,
            size,
        }))
    }

    /// Where the product comes in the demo's catalogue.
    pub fn catalogue_position(&self) -> (usize, usize) {
        (self.good, self.size)
    }
}

/// Whole units of a quantity as the API writes it ("12", "12.000").
pub fn units(text: &str) -> Result<i64, String> {
    Quantity::parse(text)
        .map(|quantity| quantity.milli().div_euclid(1000))
        .map_err(|error| format!("quantity {text:?}: {error}"))
}

/// The seeded shop the history trades in.
pub struct Shop {
    /// Osu, Makola.
    pub branches: [String; 2],
    pub items: Vec<Item>,
    pub rules: TaxRules,
    pub zone_offset_minutes: i64,
}

/// What the history rang up.
#[derive(Default)]
pub struct Summary {
    pub sales: usize,
    pub takings_minor: i64,
    pub refunds: usize,
    pub voids: usize,
    pub deliveries: usize,
    /// Products received: opening stock and deliveries.
    pub received: usize,
    pub counted: usize,
    pub transferred: usize,
}

/// Monday 0 … Sunday 6 of a local day number (1970-01-01 was a Thursday).
fn weekday(local_day: i32) -> usize {
    usize::try_from((local_day + 3).rem_euclid(7)).unwrap_or(0)
}

/// The cashiers (indexes of `STAFF`) on the till at `branch` in the hour starting at `hour`:
/// the morning cashier until 13:00, both until 15:00, then the afternoon one; each has a day
/// off a week, when the other works the whole day.
fn on_shift(branch: usize, weekday: usize, hour: i64) -> Vec<usize> {
    let ([morning, afternoon], [morning_off, afternoon_off]) = if branch == OSU {
        (OSU_CASHIERS, [2, 0])
    } else {
        (MAKOLA_CASHIERS, [3, 6])
    };
    let morning_on = weekday != morning_off && (hour < 15 || weekday == afternoon_off);
    let afternoon_on = weekday != afternoon_off && (hour >= 13 || weekday == morning_off);
    [(morning, morning_on), (afternoon, afternoon_on)]
        .into_iter()
        .filter_map(|(cashier, on)| on.then_some(cashier))
        .collect()
}

/// Progress on stderr: one line rewritten on a terminal, a line every ten days otherwise.
struct Progress {
    terminal: bool,
    days: u32,
}

impl Progress {
    fn day(&self, day: u32, sales: usize) {
        let line = format!(
            "seeding {} days of sales… day {day}/{} ({sales} sales)",
            self.days, self.days
        );
        if self.terminal {
            eprint!("\r{line}");
            if day == self.days {
                eprintln!();
            }
        } else if day.is_multiple_of(10) || day == self.days {
            eprintln!("{line}");
        }
    }
}

/// The history being rung up.
struct History<'a> {
    shop: &'a Shop,
    clock: &'a OffsetClock,
    /// Indexed like `STAFF`, everyone signed in.
    sessions: &'a mut [Session],
    demand: Demand,
    rng: Rng,
    /// Per branch and item: on hand as the history reckons it (re-read from the service at
    /// each delivery and at the count).
    stock: [Vec<i64>; 2],
    /// Mobile money wallets of regular customers.
    wallets: Vec<(&'static str, String)>,
    pending: Vec<PendingReturn>,
    first_day: i32,
    days: usize,
    weekday_sales: f64,
    /// The present: nothing is dated later.
    end: i64,
    summary: Summary,
}

/// Rings up the history: `options.days` days ending today, from `first_day` (a local day
/// number) to `end` (the present, by the real clock). The clock is left at the present.
pub async fn ring_up(
    shop: &Shop,
    clock: &OffsetClock,
    sessions: &mut [Session],
    options: &HistoryOptions,
    first_day: i32,
    end: UnixMillis,
) -> Result<Summary, String> {
    let mut history = History {
        shop,
        clock,
        sessions,
        demand: Demand::new(&shop.items),
        rng: Rng::new(0x6e65_7875_735f_6163),
        stock: [vec![0; shop.items.len()], vec![0; shop.items.len()]],
        wallets: Vec::new(),
        pending: Vec::new(),
        first_day,
        days: usize::try_from(options.days).unwrap_or(0),
        weekday_sales: f64::from(options.weekday_sales),
        end: end.as_millis(),
        summary: Summary::default(),
    };
    history.wallets = (0..300).map(|_| history.new_wallet()).collect();
    let progress = Progress {
        terminal: std::io::stderr().is_terminal(),
        days: options.days,
    };
    history.opening_stock().await?;
    for day in 0..history.days {
        history.trade(day).await?;
        progress.day(
            u32::try_from(day + 1).unwrap_or(u32::MAX),
            history.summary.sales,
        );
    }
    clock.reset();
    Ok(history.summary)
}

impl History<'_> {
    fn day_start(&self, day: usize) -> i64 {
        let local_day = i64::from(self.first_day) + i64::try_from(day).unwrap_or(0);
        local_day * DAY - self.shop.zone_offset_minutes * MINUTE
    }

    fn weekday_of(&self, day: usize) -> usize {
        weekday(self.first_day + i32::try_from(day).unwrap_or(0))
    }

    /// Sets the service's clock to `at`, never past the present.
    fn set_clock(&self, at: i64) -> UnixMillis {
        let at = UnixMillis::from_millis(at.min(self.end));
        self.clock.set_now(at);
        at
    }

    /// The API as `staff` (an index of `STAFF`), with a token good now by the service's clock.
    async fn as_staff(&mut self, staff: usize) -> Result<Api, String> {
        let now = self.clock.now();
        self.sessions
            .get_mut(staff)
            .ok_or("a member of staff is not signed in")?
            .api(now)
            .await
    }

    /// Sales expected at `branch` on an average day around `day`.
    fn daily_sales(&self, branch: usize, day: usize) -> f64 {
        let span = self.days.saturating_sub(1).max(1) as f64;
        let average_week = DAY_FACTORS[branch].iter().sum::<f64>() / 7.0;
        self.weekday_sales
            * BRANCH_SHARE[branch]
            * average_week
            * (1.0 + GROWTH * day as f64 / span)
    }

    /// One day: deliveries and the transfer before opening, trading hour by hour, the count
    /// after closing.
    async fn trade(&mut self, day: usize) -> Result<(), String> {
        let start = self.day_start(day);
        let weekday = self.weekday_of(day);
        if start + 6 * HOUR + 30 * MINUTE < self.end {
            if day > 0 && weekday == 0 {
                self.delivery(OSU, day).await?;
            }
            if day > 0 && weekday == 1 {
                self.delivery(MAKOLA, day).await?;
            }
        }
        if day == self.days / 2 && start + 7 * HOUR < self.end {
            self.transfer(day).await?;
        }
        let span = self.days.saturating_sub(1).max(1) as f64;
        let growth = 1.0 + GROWTH * day as f64 / span;
        let mut expected = [0.0; 2];
        for branch in [OSU, MAKOLA] {
            let noise = 0.92 + 0.16 * self.rng.unit();
            expected[branch] = self.weekday_sales
                * BRANCH_SHARE[branch]
                * DAY_FACTORS[branch][weekday]
                * growth
                * noise;
        }
        let mut hours = HOUR_WEIGHTS;
        if weekday == 4 {
            // Friday evening: the weekend's shopping starts after work.
            for weight in &mut hours[9..] {
                *weight *= 1.4;
            }
        }
        if weekday == 6 {
            // Sunday morning is for church.
            for weight in &mut hours[..4] {
                *weight *= 0.3;
            }
        }
        let hours_total: f64 = hours.iter().sum();
        let void_branch = (day % VOID_EVERY_DAYS == VOID_EVERY_DAYS / 2 - 1)
            .then_some((day / VOID_EVERY_DAYS) % 2);
        for hour in OPENING_HOUR..CLOSING_HOUR {
            let slot = start + hour * HOUR;
            if slot >= self.end {
                break;
            }
            let slot_end = (slot + HOUR).min(self.end);
            let mut planned: Vec<(usize, Value)> = Vec::new();
            for branch in [OSU, MAKOLA] {
                let weight = hours[usize::try_from(hour - OPENING_HOUR).unwrap_or(0)];
                let count = self.rng.round(expected[branch] * weight / hours_total);
                let mut times: Vec<i64> = (0..count)
                    .map(|_| slot + self.rng.between(0, HOUR - 1))
                    .collect();
                times.sort_unstable();
                let cashiers = on_shift(branch, weekday, hour);
                for (position, at) in times.into_iter().enumerate() {
                    if at >= self.end {
                        break;
                    }
                    let cashier = cashiers[self.rng.below(cashiers.len() as u64) as usize];
                    let voided = void_branch == Some(branch) && hour == 11 && position == 0;
                    if let Some(body) = self.sale(branch, at, cashier, voided, day)? {
                        planned.push((cashier, body));
                    }
                }
            }
            self.set_clock(slot_end);
            let mut calls = Vec::with_capacity(planned.len());
            for (cashier, body) in planned {
                calls.push(Call {
                    api: self.as_staff(cashier).await?,
                    path: "/api/v1/sales".to_owned(),
                    body,
                });
            }
            self.summary.sales += calls.len();
            post_all(calls).await?;
            self.returns_before(slot_end).await?;
        }
        if day == (self.days * 2 / 3).min(self.days.saturating_sub(2)) {
            self.count(day).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::shop::MANAGER;

    #[test]
    fn each_till_has_a_cashier_every_hour_and_each_cashier_a_day_off() {
        for branch in [OSU, MAKOLA] {
            let mut days_worked = [0_usize; 5];
            for weekday in 0..7 {
                let mut today = [false; 5];
                for hour in OPENING_HOUR..CLOSING_HOUR {
                    let cashiers = on_shift(branch, weekday, hour);
                    assert!(!cashiers.is_empty(), "{branch} {weekday} {hour}");
                    for cashier in cashiers {
                        today[cashier] = true;
                    }
                }
                for (worked, on) in days_worked.iter_mut().zip(today) {
                    *worked += usize::from(on);
                }
            }
            let mine = if branch == OSU {
                OSU_CASHIERS
            } else {
                MAKOLA_CASHIERS
            };
            for cashier in mine {
                assert_eq!(days_worked[cashier], 6, "six days a week");
            }
            assert_eq!(days_worked[MANAGER], 0, "the manager does not work a till");
        }
        assert_eq!(
            weekday(nexus_domain::calendar::day_of_date(2026, 12, 4)),
            4,
            "a Friday"
        );
    }

    #[test]
    fn a_day_of_sales_follows_the_pattern_of_the_week() {
        let weekday_share: f64 = DAY_FACTORS[OSU][..4].iter().sum::<f64>() / 4.0;
        assert!(DAY_FACTORS[OSU][4] > weekday_share && DAY_FACTORS[OSU][5] > weekday_share);
        assert_eq!(units("12.000"), Ok(12));
        assert_eq!(units("-3"), Ok(-3));
    }
}

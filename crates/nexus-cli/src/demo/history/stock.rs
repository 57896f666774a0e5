//! The stock: opening stock, weekly deliveries, Osu's count and Makola's transfer to Osu.

use nexus_domain::Clock as _;
use serde_json::json;

use super::{CLOSING_HOUR, HOUR, History, MAKOLA, MINUTE, OSU, units};
use crate::demo::api::{Api, Call, post_all};
use crate::demo::shop::MANAGER;

impl History<'_> {
    /// What `branch` keeps of `item` after a delivery around `day`: eight days of selling and
    /// a margin over the reorder level.
    pub(super) fn par(&self, branch: usize, item: usize, day: usize) -> i64 {
        let reorder = self.shop.items[item].reorder_level;
        let selling =
            self.demand.units_per_sale[branch][item] * self.daily_sales(branch, day) * 8.0 * 1.25;
        (selling.ceil() as i64 + reorder + 2).max(reorder + 6)
    }

    /// The opening stock: a delivery of every product at both branches, taken in by the
    /// manager before the first day's trading (the clock is there already).
    pub(super) async fn opening_stock(&mut self) -> Result<(), String> {
        let at = self.clock.now().as_millis();
        let mut calls = Vec::new();
        for branch in [OSU, MAKOLA] {
            let api = self.as_staff(MANAGER).await?;
            for item in 0..self.shop.items.len() {
                let quantity = self.par(branch, item, 0);
                self.stock[branch][item] = quantity;
                calls.push(self.receipt(&api, branch, item, quantity, at, "opening stock"));
            }
        }
        self.summary.received += post_all(calls).await?.len();
        Ok(())
    }

    fn receipt(
        &mut self,
        api: &Api,
        branch: usize,
        item: usize,
        quantity: i64,
        at: i64,
        reason: &str,
    ) -> Call {
        Call {
            api: api.clone(),
            path: format!(
                "/api/v1/branches/{}/stock/movements",
                self.shop.branches[branch]
            ),
            body: json!({ "id": self.rng.uuid_v7(at).to_string(),
                          "product_id": self.shop.items[item].id, "kind": "receipt",
                          "quantity": quantity.to_string(), "reason": reason, "occurred_at": at }),
        }
    }

    /// On-hand at `branch` as the service has it, which the history then goes by.
    async fn read_stock(&mut self, api: &Api, branch: usize) -> Result<(), String> {
        let levels = api
            .get(&format!(
                "/api/v1/branches/{}/stock",
                self.shop.branches[branch]
            ))
            .await?;
        for level in levels["items"].as_array().into_iter().flatten() {
            let Some(item) = self
                .shop
                .items
                .iter()
                .position(|item| level["product_id"].as_str() == Some(item.id.as_str()))
            else {
                continue;
            };
            self.stock[branch][item] = level["on_hand"].as_str().map_or(Ok(0), units)?;
        }
        Ok(())
    }

    /// The weekly delivery at `branch` before opening on `day`: what is below half its par is
    /// topped up. For the last two weeks the supplier has no stock of every seventh product at
    /// Osu, so those run low and the low-stock alerts have something to show.
    pub(super) async fn delivery(&mut self, branch: usize, day: usize) -> Result<(), String> {
        let at = self
            .set_clock(self.day_start(day) + 6 * HOUR + 30 * MINUTE)
            .as_millis();
        let api = self.as_staff(MANAGER).await?;
        self.read_stock(&api, branch).await?;
        let days = self.days;
        let back_ordered =
            |item: usize| branch == OSU && item.is_multiple_of(7) && day + 14 >= days;
        let mut calls = Vec::new();
        for item in 0..self.shop.items.len() {
            let par = self.par(branch, item, day);
            let on_hand = self.stock[branch][item];
            if back_ordered(item) || on_hand * 2 >= par {
                continue;
            }
            self.stock[branch][item] = par;
            calls.push(self.receipt(&api, branch, item, par - on_hand, at, "weekly delivery"));
        }
        self.summary.received += post_all(calls).await?.len();
        self.summary.deliveries += 1;
        Ok(())
    }

    /// Makola sends Osu what Osu is shortest of before opening on `day`.
    pub(super) async fn transfer(&mut self, day: usize) -> Result<(), String> {
        let now = self.set_clock(self.day_start(day) + 6 * HOUR + 45 * MINUTE);
        let mut short: Vec<(f64, usize)> = (0..self.shop.items.len())
            .filter(|item| self.stock[MAKOLA][*item] >= 6)
            .map(|item| {
                let cover = self.stock[OSU][item] as f64 / self.par(OSU, item, day) as f64;
                (cover, item)
            })
            .collect();
        short.sort_by(|one, other| one.0.total_cmp(&other.0).then(one.1.cmp(&other.1)));
        let mut lines = Vec::new();
        for (_, item) in short.into_iter().take(8) {
            let room = self.par(OSU, item, day) - self.stock[OSU][item];
            let quantity = (self.stock[MAKOLA][item] / 3).min(room).max(1);
            self.stock[MAKOLA][item] -= quantity;
            self.stock[OSU][item] += quantity;
            lines.push(json!({ "product_id": self.shop.items[item].id,
                               "quantity": quantity.to_string() }));
        }
        if lines.is_empty() {
            return Ok(());
        }
        self.summary.transferred = lines.len();
        let api = self.as_staff(MANAGER).await?;
        api.post(
            "/api/v1/stock/transfers",
            &json!({ "id": self.rng.uuid_v7(now.as_millis()).to_string(),
                     "from_branch_id": self.shop.branches[MAKOLA],
                     "to_branch_id": self.shop.branches[OSU], "lines": lines }),
        )
        .await?;
        Ok(())
    }

    /// Osu's stock count after closing on `day`: every product counted, most as the books
    /// say, some a unit or a few short, a few with one more than recorded.
    pub(super) async fn count(&mut self, day: usize) -> Result<(), String> {
        let at = self.day_start(day) + CLOSING_HOUR * HOUR + 30 * MINUTE;
        if at >= self.end {
            return Ok(());
        }
        self.set_clock(at);
        let api = self.as_staff(MANAGER).await?;
        self.read_stock(&api, OSU).await?;
        let mut calls = Vec::new();
        for item in 0..self.shop.items.len() {
            let book = self.stock[OSU][item];
            let difference = match self.rng.unit() {
                draw if draw < 0.72 => 0,
                draw if draw < 0.87 => -1,
                draw if draw < 0.94 => -2,
                draw if draw < 0.97 => -3,
                _ => 1,
            };
            let counted = if book < 0 {
                self.rng.between(0, 2)
            } else {
                (book + difference).max(0)
            };
            self.stock[OSU][item] = counted;
            calls.push(Call {
                api: api.clone(),
                path: format!(
                    "/api/v1/branches/{}/stock/movements",
                    self.shop.branches[OSU]
                ),
                body: json!({ "id": self.rng.uuid_v7(at).to_string(),
                              "product_id": self.shop.items[item].id, "kind": "count",
                              "quantity": counted.to_string(), "reason": "monthly stock count",
                              "occurred_at": at }),
            });
        }
        self.summary.counted = post_all(calls).await?.len();
        Ok(())
    }
}

//! The plans, as data: what each costs a month in each currency it is sold in, what it
//! includes, and what sales above the allowance cost. Changing a price is an edit to
//! [`PLANS`]; no code path names a plan except [`PlanCode::FREE`], where a lapsed or ended
//! subscription lands.

use serde::Serialize;

/// The currencies Nexus bills in: the three a shop trades in, and US dollars (Stripe).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum BillingCurrency {
    #[serde(rename = "GHS")]
    Ghs,
    #[serde(rename = "NGN")]
    Ngn,
    #[serde(rename = "XOF")]
    Xof,
    #[serde(rename = "USD")]
    Usd,
}

impl BillingCurrency {
    pub const ALL: [BillingCurrency; 4] = [
        BillingCurrency::Ghs,
        BillingCurrency::Ngn,
        BillingCurrency::Xof,
        BillingCurrency::Usd,
    ];

    pub fn code(self) -> &'static str {
        match self {
            BillingCurrency::Usd => "USD",
            shop => shop.shop_currency().map_or("USD", crate::Currency::code),
        }
    }

    /// The shop currency this is, when it is one (all but USD).
    pub fn shop_currency(self) -> Option<crate::Currency> {
        match self {
            BillingCurrency::Ghs => Some(crate::Currency::Ghs),
            BillingCurrency::Ngn => Some(crate::Currency::Ngn),
            BillingCurrency::Xof => Some(crate::Currency::Xof),
            BillingCurrency::Usd => None,
        }
    }

    /// A shop is billed in the currency it trades in.
    pub fn of_shop(currency: crate::Currency) -> Self {
        match currency {
            crate::Currency::Ghs => BillingCurrency::Ghs,
            crate::Currency::Ngn => BillingCurrency::Ngn,
            crate::Currency::Xof => BillingCurrency::Xof,
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|currency| currency.code().eq_ignore_ascii_case(text.trim()))
    }

    /// `GHS 150.00`, `XOF 9000`, `USD 12.00`.
    pub fn format_minor(self, minor: i64) -> String {
        match self.shop_currency() {
            Some(currency) => format!("{} {}", currency.code(), currency.format_minor(minor)),
            None => format!(
                "USD {}{}.{:02}",
                if minor < 0 { "-" } else { "" },
                minor.unsigned_abs() / 100,
                minor.unsigned_abs() % 100
            ),
        }
    }
}

/// An amount in one currency, in its minor unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Price {
    pub currency: BillingCurrency,
    pub minor: i64,
}

/// What a plan includes each month. Tills and branches are limits (adding past them is
/// refused); sales past the allowance are charged on paid plans and only noted on Free.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Allowance {
    pub branches: u32,
    pub tills: u32,
    pub sales_per_month: u64,
}

/// A plan's stable code, as stored and as the API names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct PlanCode(&'static str);

impl PlanCode {
    pub const FREE: PlanCode = PlanCode("free");

    pub fn as_str(self) -> &'static str {
        self.0
    }

    /// The plan of that code; `None` when no plan has it.
    pub fn parse(text: &str) -> Option<Self> {
        PLANS
            .iter()
            .find(|plan| plan.code.0 == text.trim())
            .map(|plan| plan.code)
    }
}

impl std::fmt::Display for PlanCode {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.0)
    }
}

/// One plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub code: PlanCode,
    pub name: &'static str,
    /// The monthly price in each currency it is sold in.
    pub monthly: &'static [Price],
    pub included: Allowance,
    /// Each started hundred sales above the allowance, per currency; empty on Free, whose
    /// allowance is a notice, never a charge.
    pub per_hundred_sales_over: &'static [Price],
    /// Days of a new organisation's free trial of this plan; 0 when it has none.
    pub trial_days: u32,
}

impl Plan {
    pub fn is_free(&self) -> bool {
        self.code == PlanCode::FREE
    }

    pub fn monthly_in(&self, currency: BillingCurrency) -> Option<i64> {
        price_in(self.monthly, currency)
    }

    pub fn over_in(&self, currency: BillingCurrency) -> Option<i64> {
        price_in(self.per_hundred_sales_over, currency)
    }
}

fn price_in(prices: &[Price], currency: BillingCurrency) -> Option<i64> {
    prices
        .iter()
        .find(|price| price.currency == currency)
        .map(|price| price.minor)
}

const fn price(currency: BillingCurrency, minor: i64) -> Price {
    Price { currency, minor }
}

use BillingCurrency::{Ghs, Ngn, Usd, Xof};

/// Every plan, cheapest first. The first paid plan with a trial is the one a new
/// organisation tries.
pub const PLANS: &[Plan] = &[
    Plan {
        code: PlanCode::FREE,
        name: "Free",
        monthly: &[price(Ghs, 0), price(Ngn, 0), price(Xof, 0), price(Usd, 0)],
        included: Allowance {
            branches: 1,
            tills: 1,
            sales_per_month: 300,
        },
        per_hundred_sales_over: &[],
        trial_days: 0,
    },
    Plan {
        code: PlanCode("shop"),
        name: "Shop",
        monthly: &[
            price(Ghs, 15000),
            price(Ngn, 1500000),
            price(Xof, 9000),
            price(Usd, 1200),
        ],
        included: Allowance {
            branches: 2,
            tills: 4,
            sales_per_month: 3_000,
        },
        per_hundred_sales_over: &[
            price(Ghs, 500),
            price(Ngn, 50000),
            price(Xof, 300),
            price(Usd, 40),
        ],
        trial_days: 14,
    },
    Plan {
        code: PlanCode("business"),
        name: "Business",
        monthly: &[
            price(Ghs, 45000),
            price(Ngn, 4500000),
            price(Xof, 27000),
            price(Usd, 3600),
        ],
        included: Allowance {
            branches: 10,
            tills: 30,
            sales_per_month: 20_000,
        },
        per_hundred_sales_over: &[
            price(Ghs, 300),
            price(Ngn, 30000),
            price(Xof, 180),
            price(Usd, 25),
        ],
        trial_days: 14,
    },
];

/// The plan of a code. Every [`PlanCode`] is made from [`PLANS`], so one is always found;
/// Free stands in should that ever not hold.
pub fn plan(code: PlanCode) -> &'static Plan {
    PLANS
        .iter()
        .find(|plan| plan.code == code)
        .unwrap_or(&PLANS[0])
}

/// What a month costs on a plan: the plan's price and the sales above its allowance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Charge {
    pub currency: BillingCurrency,
    pub plan_minor: i64,
    /// Sales recorded above the allowance.
    pub sales_over: u64,
    /// Started hundreds of those, each charged at the plan's overage price.
    pub hundreds_over: u64,
    pub over_minor: i64,
    pub total_minor: i64,
}

/// The charge for a month with `sales` recorded; `None` when the plan is not sold in
/// `currency`.
pub fn charge_for(plan: &Plan, currency: BillingCurrency, sales: u64) -> Option<Charge> {
    let plan_minor = plan.monthly_in(currency)?;
    let sales_over = sales.saturating_sub(plan.included.sales_per_month);
    let (hundreds_over, over_minor) = match plan.over_in(currency) {
        Some(each) => {
            let hundreds = sales_over.div_ceil(100);
            let count = i64::try_from(hundreds).unwrap_or(i64::MAX);
            (hundreds, each.saturating_mul(count))
        }
        None => (0, 0),
    };
    Some(Charge {
        currency,
        plan_minor,
        sales_over,
        hundreds_over,
        over_minor,
        total_minor: plan_minor.saturating_add(over_minor),
    })
}

//! The billing pages as the owner sees them in grace, and the read-only banner a manager sees.

use super::{Out, Sample};
use crate::forms::FieldErrors;
use crate::layout::{BillingNotice, Section};
use crate::paths;
use crate::views::billing::*;
use crate::views::errors::{ErrorContent, ErrorKind};

fn card(code: &'static str, name: &'static str, price: &str, includes: &[&str]) -> PlanCard {
    PlanCard {
        code,
        name,
        price: price.to_owned(),
        includes: includes.iter().map(|item| (*item).to_owned()).collect(),
        current: false,
        choices: Vec::new(),
    }
}

fn pay_choices(plan: &str) -> Vec<PayChoice> {
    [
        ("stripe", "card", "card, with Stripe"),
        ("paystack", "card", "card, with Paystack"),
        ("paystack", "mobile_money", "mobile money, with Paystack"),
    ]
    .into_iter()
    .map(|(provider, channel, label)| PayChoice {
        provider,
        channel,
        label: format!("Pay for {plan}: {label}"),
    })
    .collect()
}

fn billing(sample: &Sample) -> BillingContent {
    let mut shop = card(
        "shop",
        "Shop",
        "GHS 150.00 a month",
        &[
            "2 branches",
            "4 tills",
            "3,000 sales a month",
            "GHS 5.00 per 100 sales more",
        ],
    );
    shop.current = true;
    shop.choices = pay_choices("Shop");
    let mut business = card(
        "business",
        "Business",
        "GHS 450.00 a month",
        &[
            "10 branches",
            "30 tills",
            "20,000 sales a month",
            "GHS 3.00 per 100 sales more",
        ],
    );
    business.choices = pay_choices("Business");
    BillingContent {
        enabled: true,
        standing: "Shop plan, paid by mobile money through Paystack. The December invoice is unpaid: pay by 15 Dec 2026."
            .to_owned(),
        overdue: true,
        month: "December 2026".to_owned(),
        usage: vec![
            UsageLine {
                label: "Sales recorded",
                used: 3_140,
                included: Some(3_000),
            },
            UsageLine {
                label: "Tills enrolled",
                used: 3,
                included: Some(4),
            },
            UsageLine {
                label: "Branches open",
                used: 2,
                included: Some(2),
            },
        ],
        charge: Some("GHS 160.00 so far this month, with 140 sales above the allowance.".to_owned()),
        plans: vec![
            card("free", "Free", "Free", &["1 branch", "1 till", "300 sales a month"]),
            shop,
            business,
        ],
        invoices: vec![
            InvoiceRow {
                month: "December 2026".to_owned(),
                plan: "Shop".to_owned(),
                amount: sample.ghs(15_000).to_string(),
                status: "Open",
                due: "15 Dec 2026".to_owned(),
                paid: None,
                pay_url: Some("https://checkout.paystack.com/sample-7fq2".to_owned()),
            },
            InvoiceRow {
                month: "November 2026".to_owned(),
                plan: "Shop".to_owned(),
                amount: sample.ghs(15_500).to_string(),
                status: "Paid",
                due: "15 Nov 2026".to_owned(),
                paid: Some("3 Nov 2026".to_owned()),
                pay_url: None,
            },
        ],
        can_manage: false,
        csrf: sample.csrf(),
        errors: FieldErrors::new(),
    }
}

/// The owner's billing page in grace and the page on the way to the provider; for a manager,
/// the read-only banner over the overview's error page for a change refused.
pub(crate) fn billing_pages(sample: &Sample, out: &mut Out) {
    if sample.is_owner() {
        let mut layout = sample.layout(Section::Billing);
        layout.billing_notice = Some(BillingNotice {
            message: "The last Nexus payment did not go through. Pay by 15 Dec 2026 to keep changing things here; the tills keep selling whatever happens.".to_owned(),
            pay_link: Some(paths::BILLING),
            restricted: false,
        });
        out.page("billing", layout, billing(sample));
        let url = "https://checkout.paystack.com/sample-7fq2".to_owned();
        // Without the refresh the real page carries: a browser checking the sample would
        // otherwise leave for the provider.
        out.page(
            "billing-going",
            sample.layout(Section::Billing),
            GoingContent {
                provider: "Paystack",
                purpose: "pay for the Shop plan".to_owned(),
                url,
            },
        );
    } else {
        let mut layout = sample.layout(Section::Branches);
        layout.billing_notice = Some(BillingNotice {
            message: "A Nexus payment is overdue, so the dashboard is read-only: every page and export opens, nothing can be changed. The tills keep selling and syncing. Ask the owner to pay.".to_owned(),
            pay_link: None,
            restricted: true,
        });
        out.page(
            "error-402",
            layout,
            ErrorContent {
                kind: ErrorKind::ReadOnly,
                signed_in: true,
                detail: None,
            },
        );
    }
}

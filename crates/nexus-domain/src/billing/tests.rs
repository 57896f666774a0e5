use super::*;
use crate::time::UnixMillis;

const DAY: i64 = 24 * 60 * 60 * 1000;
/// 2026-01-10T00:00:00Z.
const JAN_10: UnixMillis = UnixMillis::from_millis(1_767_225_600_000 + 9 * DAY);

fn shop() -> PlanCode {
    PlanCode::parse("shop").expect("the Shop plan")
}

fn subscribed(at: UnixMillis) -> Account {
    let account = Account::new_trial(BillingCurrency::Ghs, at);
    apply(
        &account,
        at,
        &Event::Subscribed {
            plan: shop(),
            provider: ProviderKind::Stripe,
            channel: Channel::Card,
            subscription_ref: Some("sub_1".to_owned()),
        },
    )
    .expect("applies")
}

#[test]
fn periods_are_utc_calendar_months() {
    let period = BillingPeriod::containing(JAN_10);
    assert_eq!(period.key(), "2026-01");
    assert_eq!(period.label(), "January 2026");
    assert_eq!(period.start().as_millis(), 1_767_225_600_000);
    assert_eq!(
        period.end(),
        BillingPeriod::parse("2026-02").expect("parses").start()
    );
    assert_eq!(
        BillingPeriod::parse("2026-12")
            .expect("parses")
            .next()
            .key(),
        "2027-01"
    );
    assert_eq!(period.previous().key(), "2025-12");
    assert_eq!(
        BillingPeriod::containing(period.end().plus_millis(-1)),
        period
    );
    assert_eq!(BillingPeriod::parse("2026-13"), None);
    assert_eq!(BillingPeriod::parse("26-01"), None);
}

#[test]
fn every_plan_is_priced_in_every_currency_and_free_comes_first() {
    assert!(PLANS[0].is_free());
    for plan in PLANS {
        for currency in BillingCurrency::ALL {
            assert!(
                plan.monthly_in(currency).is_some(),
                "{} {currency:?}",
                plan.name
            );
            if !plan.is_free() {
                assert!(plan.over_in(currency).is_some());
            }
        }
        assert_eq!(PlanCode::parse(plan.code.as_str()), Some(plan.code));
    }
    assert_eq!(PlanCode::parse("platinum"), None);
}

#[test]
fn sales_over_the_allowance_are_charged_per_started_hundred() {
    let plan = plan(shop());
    let within = charge_for(plan, BillingCurrency::Ghs, 3_000).expect("priced");
    assert_eq!((within.sales_over, within.over_minor), (0, 0));
    assert_eq!(within.total_minor, 15000);
    let over = charge_for(plan, BillingCurrency::Ghs, 3_101).expect("priced");
    assert_eq!((over.sales_over, over.hundreds_over), (101, 2));
    assert_eq!(over.total_minor, 15000 + 2 * 500);
    let free =
        charge_for(super::plan(PlanCode::FREE), BillingCurrency::Ghs, 10_000).expect("priced");
    assert_eq!(
        free.total_minor, 0,
        "Free's allowance is a notice, never a charge"
    );
    assert_eq!(BillingCurrency::Usd.format_minor(1_240), "USD 12.40");
    assert_eq!(BillingCurrency::Ghs.format_minor(15000), "GHS 150.00");
}

#[test]
fn a_new_organisation_tries_a_paid_plan_then_falls_to_free() {
    let account = Account::new_trial(BillingCurrency::Ghs, JAN_10);
    assert_eq!(account.status, Status::Trialing);
    let during = standing(&account, JAN_10.plus_millis(13 * DAY));
    assert_eq!(
        (during.status, during.plan.code),
        (Status::Trialing, shop())
    );
    let after = standing(&account, JAN_10.plus_millis(14 * DAY));
    assert_eq!(
        (after.status, after.plan.code),
        (Status::Active, PlanCode::FREE)
    );
    assert!(after.allows(Addition::Till, 0).is_ok());
    let refused = after
        .allows(Addition::Till, 1)
        .expect_err("Free has one till");
    assert_eq!(refused.limit, "tills");
    assert!(
        refused.message.contains("Free plan includes 1 till"),
        "{}",
        refused.message
    );
}

#[test]
fn a_failed_payment_gives_fourteen_days_of_grace_then_restricts() {
    let active = subscribed(JAN_10);
    let failed_at = JAN_10.plus_millis(30 * DAY);
    let past_due = apply(
        &active,
        failed_at,
        &Event::PaymentFailed {
            subscription_ref: Some("sub_1".to_owned()),
        },
    )
    .expect("applies");
    assert_eq!(past_due.status, Status::PastDue);
    let in_grace = standing(&past_due, failed_at.plus_millis(13 * DAY));
    assert_eq!(in_grace.status, Status::PastDue);
    assert!(!in_grace.read_only());
    assert_eq!(
        in_grace.grace_ends_at,
        Some(failed_at.plus_millis(14 * DAY))
    );
    let restricted = standing(&past_due, failed_at.plus_millis(14 * DAY));
    assert_eq!(restricted.status, Status::Restricted);
    assert!(restricted.read_only());
    assert_eq!(
        restricted
            .allows(Addition::Branch, 0)
            .expect_err("restricted")
            .limit,
        "restricted"
    );
    // A second failure does not restart the grace.
    let again = apply(
        &past_due,
        failed_at.plus_millis(3 * DAY),
        &Event::PaymentFailed {
            subscription_ref: None,
        },
    )
    .expect("applies");
    assert_eq!(again.past_due_since, Some(failed_at));
    let paid = apply(
        &again,
        failed_at.plus_millis(20 * DAY),
        &Event::PaymentSucceeded {
            subscription_ref: Some("sub_1".to_owned()),
        },
    )
    .expect("applies");
    assert_eq!(
        standing(&paid, failed_at.plus_millis(20 * DAY)).status,
        Status::Active
    );
}

#[test]
fn late_events_and_other_subscriptions_change_nothing() {
    let active = subscribed(JAN_10);
    let cancelled = apply(
        &active,
        JAN_10.plus_millis(DAY),
        &Event::Cancelled {
            subscription_ref: Some("sub_1".to_owned()),
        },
    )
    .expect("applies");
    assert_eq!(
        (cancelled.status, cancelled.plan),
        (Status::Cancelled, PlanCode::FREE)
    );
    // The subscription's creation, delivered after its cancellation.
    assert_eq!(
        apply(
            &cancelled,
            JAN_10,
            &Event::PaymentSucceeded {
                subscription_ref: Some("sub_1".to_owned())
            }
        ),
        Err(Ignored::Older)
    );
    assert_eq!(
        apply(
            &active,
            JAN_10.plus_millis(DAY),
            &Event::Cancelled {
                subscription_ref: Some("sub_old".to_owned())
            }
        ),
        Err(Ignored::OtherSubscription)
    );
    let limit = standing(&cancelled, JAN_10.plus_millis(2 * DAY));
    assert_eq!(limit.plan.code, PlanCode::FREE);
}

#[test]
fn usage_identifiers_name_tenant_meter_and_period() {
    let tenant = crate::TenantId::from_uuid(uuid::Uuid::nil());
    let id = usage_identifier(tenant, "sales", BillingPeriod::containing(JAN_10));
    assert_eq!(id, "nexus-00000000000000000000000000000000-sales-2026-01");
}

fn on_mobile_money(at: UnixMillis) -> Account {
    apply(
        &Account::new_trial(BillingCurrency::Ghs, at),
        at,
        &Event::Subscribed {
            plan: shop(),
            provider: ProviderKind::Paystack,
            channel: Channel::MobileMoney,
            subscription_ref: None,
        },
    )
    .expect("applies")
}

#[test]
fn a_mobile_money_month_is_invoiced_once_unless_it_was_paid() {
    let tenant = crate::TenantId::from_uuid(uuid::Uuid::from_u128(7));
    let account = on_mobile_money(JAN_10);
    let january = BillingPeriod::containing(JAN_10);
    let checkout = InvoiceSeen {
        reference: "nx-7-2026-01-0190",
        period: january,
        paid: true,
        due_at: JAN_10.plus_millis(7 * DAY),
    };
    assert_eq!(
        renewal_due(tenant, &account, std::slice::from_ref(&checkout), JAN_10),
        None,
        "January was paid at checkout"
    );
    let february = january.next();
    let feb_1 = february.start();
    assert_eq!(
        renewal_due(tenant, &account, std::slice::from_ref(&checkout), feb_1),
        Some(february)
    );
    let abandoned = InvoiceSeen {
        reference: "nx-7-2026-02-0191",
        period: february,
        paid: false,
        due_at: feb_1.plus_millis(7 * DAY),
    };
    assert_eq!(
        renewal_due(tenant, &account, &[checkout.clone(), abandoned], feb_1),
        Some(february),
        "a checkout given up on does not pay the month"
    );
    let reference = renewal_reference(tenant, february);
    let renewal = InvoiceSeen {
        reference: &reference,
        period: february,
        paid: false,
        due_at: feb_1.plus_millis(RENEWAL_DUE_DAYS * DAY),
    };
    assert_eq!(
        renewal_due(
            tenant,
            &account,
            &[checkout.clone(), renewal.clone()],
            feb_1
        ),
        None,
        "the renewal is out already"
    );
    assert_eq!(
        renewal_due(tenant, &subscribed(JAN_10), &[], feb_1),
        None,
        "a card is charged by the provider"
    );

    let invoices = [checkout, renewal];
    assert!(overdue_monthly_invoices(tenant, &invoices, feb_1).is_empty());
    let due = feb_1.plus_millis(RENEWAL_DUE_DAYS * DAY);
    let failed = overdue_monthly_invoices(tenant, &invoices, due);
    assert_eq!(failed.len(), 1, "only the renewal, only once due");
    let (at, event) = &failed[0];
    let past_due = apply(&account, *at, event).expect("applies");
    assert_eq!(past_due.status, Status::PastDue);
    assert_eq!(past_due.past_due_since, Some(due));
    assert_eq!(
        standing(&past_due, due.plus_millis(GRACE_DAYS * DAY)).status,
        Status::Restricted,
        "then the same grace as a card"
    );
    // Paid late: the payment is newer than the due date, so the old failure changes nothing.
    let paid = apply(
        &past_due,
        due.plus_millis(DAY),
        &Event::Subscribed {
            plan: shop(),
            provider: ProviderKind::Paystack,
            channel: Channel::MobileMoney,
            subscription_ref: None,
        },
    )
    .expect("applies");
    assert_eq!(paid.status, Status::Active);
    assert_eq!(apply(&paid, *at, event), Err(Ignored::Older));
}

#[test]
fn a_months_usage_invoice_left_unpaid_is_overdue_like_a_renewal() {
    let tenant = crate::TenantId::from_uuid(uuid::Uuid::from_u128(8));
    let january = BillingPeriod::containing(JAN_10);
    let feb_1 = january.next().start();
    let usage = usage_reference(tenant, january);
    assert_ne!(usage, renewal_reference(tenant, january));
    let due = feb_1.plus_millis(RENEWAL_DUE_DAYS * DAY);
    let invoice = InvoiceSeen {
        reference: &usage,
        period: january,
        paid: false,
        due_at: due,
    };
    let someone_elses = usage_reference(
        crate::TenantId::from_uuid(uuid::Uuid::from_u128(9)),
        january,
    );
    let foreign = InvoiceSeen {
        reference: &someone_elses,
        ..invoice.clone()
    };
    assert!(overdue_monthly_invoices(tenant, std::slice::from_ref(&invoice), feb_1).is_empty());
    assert_eq!(
        overdue_monthly_invoices(tenant, &[invoice.clone(), foreign], due).len(),
        1,
        "the organisation's own usage invoice, once due"
    );
    let paid = InvoiceSeen {
        paid: true,
        ..invoice
    };
    assert!(overdue_monthly_invoices(tenant, &[paid], due).is_empty());
}

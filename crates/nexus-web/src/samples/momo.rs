//! The mobile-money pages: the reconciliation with exceptions to sign off, and a network's
//! first statement waiting for its layout.

use super::{HOSTILE_NAME, Out, Sample};
use crate::forms::{Choice, FieldErrors};
use crate::layout::Section;
use crate::paths;
use crate::views::momo::*;

fn choices(names: &[&str], selected: &str) -> Vec<Choice> {
    names
        .iter()
        .map(|name| Choice::new(*name, *name).selected_if(*name == selected))
        .collect()
}

pub(crate) fn momo_pages(sample: &Sample, out: &mut Out) {
    let exception = |n: u128, state: &'static str, listed: &str, reference: &str| ExceptionRow {
        at: sample
            .locale
            .time(sample.ago_minutes(60 * 20 + 7 * n as i64)),
        receipt: format!("OSU-02-00{}", 41 + n),
        network: "MTN MoMo",
        reference: reference.to_owned(),
        amount: sample.ghs(4_550),
        listed: listed.to_owned(),
        state,
        sign_off_url: paths::momo_sign_off(&sample.id(n), 0),
        note_id: format!("note-{n}"),
    };
    out.page(
        "mobile-money",
        sample.layout(Section::MobileMoney),
        MomoContent {
            unclaimed: vec![UnclaimedRow {
                paid: sample.locale.time(sample.ago_minutes(90)),
                network: "MTN MoMo",
                phone: "233244123456".to_owned(),
                amount: sample.ghs(2_500),
                transaction_id: "4061736092".to_owned(),
            }],
            account: Some(AccountForm {
                api_user: "6f1c6a3e-2b1d-4e7a-9a53-5b0c8d7e4f10".to_owned(),
                target_environment: "mtnghana".to_owned(),
                currency_code: String::new(),
                keys_saved: true,
                saved_at: None,
            }),
            csrf: sample.csrf(),
            networks: vec![
                Choice::new("mtn", "MTN MoMo").selected_if(true),
                Choice::new("telecel", "Telecel Cash"),
                Choice::new("airteltigo", "AirtelTigo Money"),
            ],
            errors: FieldErrors::new(),
            exceptions: vec![
                exception(
                    1,
                    "The statement has another amount",
                    "GHS 40.50",
                    "MP261130.1412.C09871",
                ),
                exception(2, "Not in the statement", "Not listed", HOSTILE_NAME),
                exception(
                    3,
                    "The same transaction id on two sales",
                    "GHS 45.50",
                    "MP261130.1530.A11111",
                ),
            ],
            statements: vec![StatementLine {
                uploaded: sample.locale.time(sample.ago_minutes(90)),
                network: "MTN MoMo",
                payments: 212,
                matched: 187,
                amount_differs: 1,
                not_found: 1,
                claimed_twice: 2,
            }],
            takings: vec![TakingsLine {
                shift: format!("Opened {}", sample.locale.time(sample.ago_minutes(60 * 27))),
                cashier: "Efua Mensah".to_owned(),
                sales: 64,
                cash: sample.ghs(182_000),
                verified: sample.ghs(95_450),
                unverified: sample.ghs(13_650),
            }],
        },
    );
    let columns = ["Transaction ID", "Date", "From", "Amount", "Status"];
    out.page(
        "mobile-money-layout",
        sample.layout(Section::MobileMoney),
        LayoutContent {
            csrf: sample.csrf(),
            network: "mtn",
            network_name: "MTN MoMo",
            statement: "Transaction ID,Date,From,Amount,Status\nMP1,30/11/2026 14:12:09,233244123456,45.50,Successful\n".to_owned(),
            transaction_id: choices(&columns, "Transaction ID"),
            time: choices(&columns, "Date"),
            amount: choices(&columns, "Amount"),
            payer: choices(&columns, "From"),
            status: choices(&columns, "Status"),
            time_format: choices(
                &[
                    "YYYY-MM-DD HH:mm:ss",
                    "DD/MM/YYYY HH:mm:ss",
                    "MM/DD/YYYY HH:mm:ss",
                    "DD-Mon-YYYY HH:mm:ss",
                ],
                "DD/MM/YYYY HH:mm:ss",
            ),
            rows: vec![PreviewLine {
                transaction_id: "MP1".to_owned(),
                at: sample.locale.time(sample.ago_minutes(60 * 24)),
                amount: sample.ghs(4_550),
                payer: "233244123456".to_owned(),
            }],
            problem: None,
            errors: FieldErrors::new(),
        },
    );
}

//! The service's answers as people read them: errors on the field they belong to, tenders by
//! their names.

use nexus_server::error::ApiError;
use nexus_store::TenderKind;

use super::context::sentence;
use crate::forms::FieldErrors;
use crate::views::common::{Network, Tender};

/// A refusal of the service as form errors: on the form's field that the service named
/// (`renames` maps the service's field names to the form's where they differ), or on the
/// whole form.
pub(crate) fn form_errors(error: &ApiError, renames: &[(&str, &str)]) -> FieldErrors {
    let message = match error.code() {
        "conflict" => match error.field() {
            Some("email") => "This email is already used by another account.".to_owned(),
            Some("sku") => "Another product already has this SKU.".to_owned(),
            Some("barcode") => "Another product already has this barcode.".to_owned(),
            Some("name") => "This name is already used.".to_owned(),
            _ => sentence(error.message()),
        },
        "stale" => {
            "Someone changed this at the same time. Reload the page and try again.".to_owned()
        }
        _ => sentence(error.message()),
    };
    let field = error.field().map(|field| {
        renames
            .iter()
            .find(|(from, _)| *from == field)
            .map_or(field, |(_, to)| *to)
    });
    match field {
        Some(field) => FieldErrors::new().with(field, message),
        None => FieldErrors::new().with("", message),
    }
}

/// A payment's kind and network as the screens name it (the tender rules admit only the
/// networks of `nexus_domain::tender::MOMO_NETWORKS`).
pub(crate) fn tender(kind: TenderKind, network: Option<&str>) -> Tender {
    match kind {
        TenderKind::Cash => Tender::Cash,
        TenderKind::Card => Tender::Card,
        TenderKind::Credit => Tender::Credit,
        TenderKind::Momo => Tender::MobileMoney(match network.unwrap_or("") {
            "telecel" => Network::Telecel,
            "airteltigo" => Network::AirtelTigo,
            _ => Network::Mtn,
        }),
    }
}

/// "Cash", "MTN MoMo + Cash": how a sale was paid, in the order taken, each kind once.
pub(crate) fn paid_by(tenders: &[(TenderKind, Option<String>)]) -> String {
    let mut labels: Vec<&'static str> = Vec::new();
    for (kind, network) in tenders {
        let label = tender(*kind, network.as_deref()).label();
        if !labels.contains(&label) {
            labels.push(label);
        }
    }
    labels.join(" + ")
}

/// A tender kind as the store names it ("cash", "momo", "card", "credit"); cash for anything else, which
/// the store's check constraint never holds.
pub(crate) fn tender_kind(text: &str) -> TenderKind {
    TenderKind::ALL
        .into_iter()
        .find(|kind| kind.as_str() == text)
        .unwrap_or(TenderKind::Cash)
}

//! Names and choices several pages share: tenders, tax classes, countries, time zones.

use nexus_domain::calendar;
use nexus_domain::{Currency, TaxClass};

use crate::forms::Choice;

/// How a customer paid, as the screens name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tender {
    Cash,
    MobileMoney(Network),
    Card,
    /// On the customer's account.
    Credit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Network {
    Mtn,
    Telecel,
    AirtelTigo,
}

impl Tender {
    pub const ALL: [Tender; 6] = [
        Tender::Cash,
        Tender::MobileMoney(Network::Mtn),
        Tender::MobileMoney(Network::Telecel),
        Tender::MobileMoney(Network::AirtelTigo),
        Tender::Card,
        Tender::Credit,
    ];

    pub fn label(&self) -> &'static str {
        match self {
            Tender::Cash => "Cash",
            Tender::MobileMoney(Network::Mtn) => "MTN MoMo",
            Tender::MobileMoney(Network::Telecel) => "Telecel Cash",
            Tender::MobileMoney(Network::AirtelTigo) => "AirtelTigo Money",
            Tender::Card => "Card",
            Tender::Credit => "On account",
        }
    }

    /// The value a filter form sends: "cash", "momo:mtn", "card".
    pub fn value(&self) -> &'static str {
        match self {
            Tender::Cash => "cash",
            Tender::MobileMoney(Network::Mtn) => "momo:mtn",
            Tender::MobileMoney(Network::Telecel) => "momo:telecel",
            Tender::MobileMoney(Network::AirtelTigo) => "momo:airteltigo",
            Tender::Card => "card",
            Tender::Credit => "credit",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Tender::ALL
            .into_iter()
            .find(|tender| tender.value() == value)
    }

    pub fn choices(selected: Option<Tender>) -> Vec<Choice> {
        Tender::ALL
            .into_iter()
            .map(|tender| {
                Choice::new(tender.value(), tender.label()).selected_if(Some(tender) == selected)
            })
            .collect()
    }
}

pub fn tax_class_label(class: TaxClass) -> &'static str {
    match class {
        TaxClass::Standard => "Standard (VAT and levies)",
        TaxClass::Exempt => "Exempt",
        TaxClass::ZeroRated => "Zero-rated",
    }
}

pub fn tax_class_choices(selected: &str) -> Vec<Choice> {
    [TaxClass::Standard, TaxClass::Exempt, TaxClass::ZeroRated]
        .into_iter()
        .map(|class| {
            Choice::new(class.as_str(), tax_class_label(class))
                .selected_if(class.as_str() == selected)
        })
        .collect()
}

pub fn currency_label(currency: Currency) -> &'static str {
    match currency {
        Currency::Ghs => "Ghana cedi (GHS)",
        Currency::Ngn => "Nigerian naira (NGN)",
        Currency::Xof => "West African CFA franc (XOF)",
    }
}

pub fn currency_choices(selected: &str) -> Vec<Choice> {
    Currency::ALL
        .into_iter()
        .map(|currency| {
            Choice::new(currency.code(), currency_label(currency))
                .selected_if(currency.code() == selected)
        })
        .collect()
}

/// Countries a shop can sign up from: (ISO code, name, currency, time zone).
pub const COUNTRIES: &[(&str, &str, Currency, &str)] = &[
    ("GH", "Ghana", Currency::Ghs, "Africa/Accra"),
    ("NG", "Nigeria", Currency::Ngn, "Africa/Lagos"),
    ("CI", "Côte d'Ivoire", Currency::Xof, "Africa/Abidjan"),
    ("SN", "Senegal", Currency::Xof, "Africa/Dakar"),
    ("TG", "Togo", Currency::Xof, "Africa/Lome"),
    ("BJ", "Benin", Currency::Xof, "Africa/Porto-Novo"),
    ("BF", "Burkina Faso", Currency::Xof, "Africa/Ouagadougou"),
    ("ML", "Mali", Currency::Xof, "Africa/Bamako"),
    ("NE", "Niger", Currency::Xof, "Africa/Niamey"),
];

pub fn country_choices(selected: &str) -> Vec<Choice> {
    COUNTRIES
        .iter()
        .map(|(code, name, currency, _)| {
            Choice::new(*code, format!("{name} ({})", currency.code()))
                .selected_if(*code == selected)
        })
        .collect()
}

/// "Accra (GMT)", "Lagos (GMT+1)": the city people know and the offset they can check.
pub fn zone_label(zone: &str) -> String {
    let city = zone.rsplit('/').next().unwrap_or(zone).replace('_', " ");
    match calendar::zone_offset_minutes(zone) {
        Some(0) if zone == "UTC" => "UTC".to_owned(),
        Some(0) => format!("{city} (GMT)"),
        Some(offset) if offset % 60 == 0 => format!("{city} (GMT{:+})", offset / 60),
        Some(offset) => format!("{city} (GMT{:+}:{:02})", offset / 60, (offset % 60).abs()),
        None => city,
    }
}

pub fn zone_choices(selected: &str) -> Vec<Choice> {
    calendar::known_zones()
        .map(|zone| Choice::new(zone, zone_label(zone)).selected_if(zone == selected))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_people_read() {
        assert_eq!(zone_label("Africa/Accra"), "Accra (GMT)");
        assert_eq!(zone_label("Africa/Lagos"), "Lagos (GMT+1)");
        assert_eq!(zone_label("Africa/Porto-Novo"), "Porto-Novo (GMT+1)");
        assert_eq!(zone_label("UTC"), "UTC");
        assert_eq!(
            Tender::parse("momo:mtn"),
            Some(Tender::MobileMoney(Network::Mtn))
        );
        assert_eq!(
            Tender::MobileMoney(Network::Telecel).label(),
            "Telecel Cash"
        );
        assert!(
            zone_choices("Africa/Lagos")
                .iter()
                .any(|choice| choice.selected)
        );
        assert_eq!(country_choices("GH")[0].label, "Ghana (GHS)");
    }
}

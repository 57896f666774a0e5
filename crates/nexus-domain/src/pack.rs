//! Packs: a product sold by the carton or the crate as well as by the piece. Stock is kept in
//! base units, so a carton of 24 moves 24; a sold line counts packs and says so on the receipt
//! ("1 carton (24)").

use serde::{Deserialize, Serialize};

use crate::{Quantity, ValueError};

/// The most packs one product has.
pub const MAX_PACKS: usize = 8;
/// The most base units one pack holds.
pub const MAX_PACK_UNITS: u32 = 100_000;
const NAME_MAX: usize = 40;

/// A way a product is sold: `units` of it at `price_minor`, with its own barcode (the one
/// printed on the carton).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Pack {
    /// "carton", "crate", "pack of 6": unique within the product, whatever the letter case.
    pub name: String,
    /// How many base units it holds: 2 or more.
    pub units: u32,
    #[serde(default)]
    pub barcode: Option<String>,
    pub price_minor: i64,
    /// Its price on the wholesale list; the retail price when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wholesale_price_minor: Option<i64>,
}

/// What a sold line says of its pack: enough to move the right stock and print the receipt
/// even when the pack has since left the catalogue.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PackSold {
    pub name: String,
    pub units: u32,
}

impl From<&Pack> for PackSold {
    fn from(pack: &Pack) -> Self {
        Self {
            name: pack.name.clone(),
            units: pack.units,
        }
    }
}

/// The base units a line of `quantity` moves: `quantity` itself, or that many packs of
/// `units` each. `None` when it does not fit.
pub fn base_quantity(quantity: Quantity, pack: Option<&PackSold>) -> Option<Quantity> {
    match pack {
        None => Some(quantity),
        Some(pack) => quantity
            .milli()
            .checked_mul(i64::from(pack.units))
            .map(Quantity::from_milli),
    }
}

/// A line's quantity as the receipt prints it: "3", or "1 carton (24)".
pub fn describe(quantity: Quantity, pack: Option<&PackSold>) -> String {
    match pack {
        None => quantity.to_string(),
        Some(pack) => format!("{quantity} {} ({})", pack.name, pack.units),
    }
}

/// Packs are sold whole: a carton is not split at the till (sell the pieces instead).
pub fn check_whole(quantity: Quantity) -> Result<(), ValueError> {
    if quantity.milli() % 1000 == 0 {
        Ok(())
    } else {
        Err(ValueError::Invalid(
            "packs are sold whole; sell the pieces by the piece",
        ))
    }
}

/// Checks a product's packs: at most [`MAX_PACKS`], each named (unique, any case), of 2 to
/// [`MAX_PACK_UNITS`] units, priced from zero up, barcodes letters and digits and not repeated.
/// Returns them with names and barcodes trimmed.
pub fn check_packs(packs: &[Pack], max_price_minor: i64) -> Result<Vec<Pack>, String> {
    if packs.len() > MAX_PACKS {
        return Err(format!("a product has at most {MAX_PACKS} packs"));
    }
    let mut checked: Vec<Pack> = Vec::with_capacity(packs.len());
    for pack in packs {
        let name = pack.name.trim();
        if name.is_empty() || name.chars().count() > NAME_MAX {
            return Err(format!("a pack's name is 1 to {NAME_MAX} characters"));
        }
        if checked
            .iter()
            .any(|other| other.name.to_lowercase() == name.to_lowercase())
        {
            return Err(format!("two packs are called {name:?}"));
        }
        if !(2..=MAX_PACK_UNITS).contains(&pack.units) {
            return Err(format!(
                "the {name} must hold 2 to {MAX_PACK_UNITS} units (one unit is the product itself)"
            ));
        }
        if !(0..=max_price_minor).contains(&pack.price_minor)
            || pack
                .wholesale_price_minor
                .is_some_and(|price| !(0..=max_price_minor).contains(&price))
        {
            return Err(format!(
                "the {name}'s prices must be from 0 to {max_price_minor} minor units"
            ));
        }
        let barcode = pack
            .barcode
            .as_deref()
            .map(str::trim)
            .filter(|barcode| !barcode.is_empty());
        if let Some(barcode) = barcode {
            if barcode.len() > 64 || !barcode.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(format!(
                    "the {name}'s barcode must be 1 to 64 letters or digits"
                ));
            }
            if checked
                .iter()
                .any(|other| other.barcode.as_deref() == Some(barcode))
            {
                return Err(format!("two packs have the barcode {barcode}"));
            }
        }
        checked.push(Pack {
            name: name.to_owned(),
            units: pack.units,
            barcode: barcode.map(str::to_owned),
            price_minor: pack.price_minor,
            wholesale_price_minor: pack.wholesale_price_minor,
        });
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn carton() -> PackSold {
        PackSold {
            name: "carton".to_owned(),
            units: 24,
        }
    }

    fn pack(name: &str, units: u32, barcode: Option<&str>) -> Pack {
        Pack {
            name: name.to_owned(),
            units,
            barcode: barcode.map(str::to_owned),
            price_minor: 1000,
            wholesale_price_minor: None,
        }
    }

    #[test]
    fn a_pack_moves_its_units_and_says_so() {
        let two = Quantity::from_milli(2000);
        assert_eq!(
            base_quantity(two, Some(&carton())),
            Some(Quantity::from_milli(48_000))
        );
        assert_eq!(base_quantity(two, None), Some(two));
        assert_eq!(
            base_quantity(Quantity::from_milli(-1000), Some(&carton())),
            Some(Quantity::from_milli(-24_000))
        );
        assert_eq!(
            base_quantity(Quantity::from_milli(i64::MAX), Some(&carton())),
            None
        );
        assert_eq!(
            describe(Quantity::from_milli(1000), Some(&carton())),
            "1 carton (24)"
        );
        assert_eq!(describe(Quantity::from_milli(1500), None), "1.5");
    }

    #[test]
    fn packs_are_sold_whole() {
        assert!(check_whole(Quantity::from_milli(3000)).is_ok());
        assert!(check_whole(Quantity::from_milli(1500)).is_err());
    }

    #[test]
    fn packs_are_checked() {
        let checked = check_packs(&[pack(" carton ", 24, Some(" 123 "))], 10_000).expect("ok");
        assert_eq!(checked[0].name, "carton");
        assert_eq!(checked[0].barcode.as_deref(), Some("123"));
        for (packs, says) in [
            (vec![pack("", 24, None)], "name"),
            (vec![pack("carton", 1, None)], "2 to"),
            (
                vec![pack("carton", 24, None), pack("CARTON", 12, None)],
                "two packs",
            ),
            (
                vec![pack("a", 2, Some("9")), pack("b", 3, Some("9"))],
                "barcode 9",
            ),
            (vec![pack("a", 2, Some("12-3"))], "letters or digits"),
        ] {
            let refused = check_packs(&packs, 10_000).expect_err("refused");
            assert!(refused.contains(says), "{refused}");
        }
        let mut dear = pack("a", 2, None);
        dear.price_minor = 10_001;
        assert!(check_packs(&[dear], 10_000).is_err());
        assert!(check_packs(&vec![pack("a", 2, None); MAX_PACKS + 1], 10_000).is_err());
    }
}

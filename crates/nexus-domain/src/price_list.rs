//! Price lists: a shop sells at retail, and to the traders on its wholesale list at wholesale.
//! A product (or pack) without a wholesale price sells at its retail price on either list.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum PriceList {
    #[default]
    Retail,
    Wholesale,
}

impl PriceList {
    /// For `skip_serializing_if`: a record on the retail list says nothing of lists, as records
    /// from before price lists did.
    pub fn is_retail(&self) -> bool {
        *self == Self::Retail
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Retail => "retail",
            Self::Wholesale => "wholesale",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "retail" => Some(Self::Retail),
            "wholesale" => Some(Self::Wholesale),
            _ => None,
        }
    }

    /// The price on this list of something whose retail price is `retail` and wholesale price
    /// `wholesale`.
    pub fn price(self, retail: i64, wholesale: Option<i64>) -> i64 {
        match self {
            Self::Retail => retail,
            Self::Wholesale => wholesale.unwrap_or(retail),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wholesale_falls_back_to_retail() {
        assert_eq!(PriceList::Retail.price(800, Some(700)), 800);
        assert_eq!(PriceList::Wholesale.price(800, Some(700)), 700);
        assert_eq!(PriceList::Wholesale.price(800, None), 800);
        assert_eq!(PriceList::parse("wholesale"), Some(PriceList::Wholesale));
        assert_eq!(PriceList::parse("Wholesale"), None);
    }
}

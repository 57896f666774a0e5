//! Sales, refunds and voids: the kinds of document a till records.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SaleKind {
    Sale,
    Refund,
    Void,
}

impl SaleKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            SaleKind::Sale => "sale",
            SaleKind::Refund => "refund",
            SaleKind::Void => "void",
        }
    }
}

impl std::str::FromStr for SaleKind {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        match text {
            "sale" => Ok(SaleKind::Sale),
            "refund" => Ok(SaleKind::Refund),
            "void" => Ok(SaleKind::Void),
            _ => Err(()),
        }
    }
}

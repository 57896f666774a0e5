//! The station's own settings, kept in its database beside the shop's (which come from the
//! service and are the same at every till): who must approve a refund here, whether the cash-up
//! is blind, and where receipts print. They change with `nexus pos settings` or on the till's
//! settings page (managers and owners).

use crate::printer::PrinterTarget;
use crate::receipt::Paper;
use crate::till::{SignedIn, invalid};
use crate::{Station, StationResult};

const RETURNS_NEED_MANAGER_KEY: &str = "returns_need_manager";
const BLIND_CASH_UP_KEY: &str = "blind_cash_up";
const PRINTER_KEY: &str = "printer";
const CASH_DRAWER_KEY: &str = "cash_drawer";
const PAPER_KEY: &str = "printer_paper";

/// What this till does that another till of the same shop may do differently.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StationSettings {
    /// A cashier's refund or void needs a manager's (or owner's) PIN. On unless turned off:
    /// money leaving the drawer is where a till loses the most.
    pub returns_need_manager: bool,
    /// The cash-up shows what was expected only after the cashier has counted, so the count is
    /// what is in the drawer and not what the screen said. On unless turned off.
    pub blind_cash_up: bool,
    /// Where receipts print; `None` prints nowhere (the receipt page still prints from the
    /// browser, and the ESC/POS file still downloads).
    pub printer: Option<PrinterTarget>,
    /// The printer's paper: 80 mm unless set.
    pub paper: Paper,
    /// Kick the cash drawer wired to the printer when a sale takes cash. On unless turned off;
    /// nothing happens without a printer.
    pub cash_drawer: bool,
}

impl StationSettings {
    /// Whether `who` must have a manager approve the refunds and voids they do here.
    pub fn return_needs_approval(&self, who: &SignedIn) -> bool {
        self.returns_need_manager && !who.role.allows(nexus_domain::Permission::RefundAnySale)
    }
}

/// Who may change a till's own settings: those who may enrol and revoke tills.
pub fn may_change_station_settings(who: &SignedIn) -> bool {
    who.role.allows(nexus_domain::Permission::ManageStations)
}

/// A change to some of the station's settings; what is `None` stays as it is.
#[derive(Clone, Debug, Default)]
pub struct SettingsChange {
    pub returns_need_manager: Option<bool>,
    pub blind_cash_up: Option<bool>,
    /// `Some(None)` stops printing.
    pub printer: Option<Option<PrinterTarget>>,
    pub paper: Option<Paper>,
    pub cash_drawer: Option<bool>,
}

impl Station {
    /// This station's own settings, with their defaults where none was set.
    pub async fn station_settings(&self) -> StationResult<StationSettings> {
        let flag = |value: Option<String>, default: bool| match value.as_deref() {
            Some("on") => true,
            Some("off") => false,
            _ => default,
        };
        let printer = match self.meta(PRINTER_KEY).await? {
            Some(text) => Some(text.parse::<PrinterTarget>().map_err(|error| {
                invalid(format!(
                    "the stored printer {text:?} cannot be read ({error}): set it again with `nexus pos settings --printer`"
                ))
            })?),
            None => None,
        };
        Ok(StationSettings {
            returns_need_manager: flag(self.meta(RETURNS_NEED_MANAGER_KEY).await?, true),
            blind_cash_up: flag(self.meta(BLIND_CASH_UP_KEY).await?, true),
            printer,
            paper: self
                .meta(PAPER_KEY)
                .await?
                .as_deref()
                .and_then(Paper::parse)
                .unwrap_or(Paper::Mm80),
            cash_drawer: flag(self.meta(CASH_DRAWER_KEY).await?, true),
        })
    }

    /// Applies `change` and answers the settings as they now are.
    pub async fn change_station_settings(
        &self,
        change: &SettingsChange,
    ) -> StationResult<StationSettings> {
        let on_off = |on: bool| if on { "on" } else { "off" };
        for (key, value) in [
            (RETURNS_NEED_MANAGER_KEY, change.returns_need_manager),
            (BLIND_CASH_UP_KEY, change.blind_cash_up),
            (CASH_DRAWER_KEY, change.cash_drawer),
        ] {
            if let Some(value) = value {
                self.set_meta(key, on_off(value)).await?;
            }
        }
        match &change.printer {
            Some(Some(target)) => self.set_meta(PRINTER_KEY, &target.to_string()).await?,
            Some(None) => self.clear_meta(PRINTER_KEY).await?,
            None => {}
        }
        if let Some(paper) = change.paper {
            self.set_meta(PAPER_KEY, &paper.width_mm().to_string())
                .await?;
        }
        self.station_settings().await
    }
}

//! Branches, tills and their sync health, the conflict log, and the settings.

use askama::Template;
use uuid::Uuid;

use crate::format::{Ago, ShopTime};
use crate::forms::{Choice, FieldErrors};
use crate::paths;
use crate::qr::QrSvg;
use crate::views::setup::{BranchValues, ShopDetailsValues, TillValues};
use crate::{fragment, html_safe};

/// `GET /branches`; the add form posts to `/branches` (name, address), each rename form to
/// `/branches/{id}` (name), archive to `/branches/{id}/archive`.
#[derive(Template)]
#[template(path = "admin/branches.html")]
pub struct BranchesContent {
    pub csrf: String,
    pub rows: Vec<BranchRow>,
    /// Owners only.
    pub can_manage: bool,
    pub values: BranchValues,
    pub errors: FieldErrors,
}

#[derive(Clone, Debug)]
pub struct BranchRow {
    pub id: Uuid,
    pub name: String,
    pub address: Option<String>,
    pub tills: u64,
    pub staff: u64,
}

impl BranchRow {
    pub fn rename_url(&self) -> String {
        paths::branch(&self.id)
    }
    pub fn archive_url(&self) -> String {
        paths::branch_archive(&self.id)
    }
}

impl BranchesContent {
    pub fn action(&self) -> &'static str {
        paths::BRANCHES
    }
}

fragment!(BranchesContent, |_page| "Branches");

/// `GET /tills`: the shop stations and their sync health. The table is a live region.
#[derive(Template)]
#[template(path = "admin/tills.html")]
pub struct TillsContent {
    pub can_manage: bool,
    /// The URL answering [`TillsLive`] (topic `tills`).
    pub live_url: String,
    pub live: TillsLive,
}

impl TillsContent {
    pub fn new_url(&self) -> &'static str {
        paths::TILL_NEW
    }
}

fragment!(TillsContent, |_page| "Tills");

/// The tills table, refreshed on `tills` events.
#[derive(Template)]
#[template(path = "admin/tills_live.html")]
pub struct TillsLive {
    pub csrf: String,
    pub can_manage: bool,
    pub rows: Vec<TillRow>,
    /// When these figures were read.
    pub as_of: ShopTime,
}

html_safe!(TillsLive);

#[derive(Clone, Debug)]
pub struct TillRow {
    pub id: Uuid,
    pub name: String,
    pub branch: String,
    /// Seen by the service recently (the handler decides how recent: a few minutes).
    pub online: bool,
    pub last_contact: Ago,
    pub last_push: Ago,
    pub unsynced_ops: u64,
    /// The oldest write the till holds that the service has not got.
    pub unsynced_since: Ago,
    pub app_version: String,
    /// Enrolled but the code not used yet.
    pub waiting_for_enrolment: bool,
}

impl TillRow {
    pub fn revoke_url(&self) -> String {
        paths::till_revoke(&self.id)
    }
}

/// `GET /tills/new`, posts to `/tills` (name, branch), answered with [`EnrolmentContent`].
#[derive(Template)]
#[template(path = "admin/till_new.html")]
pub struct TillNewContent {
    pub csrf: String,
    pub values: TillValues,
    pub branches: Vec<Choice>,
    pub errors: FieldErrors,
}

impl TillNewContent {
    pub fn action(&self) -> &'static str {
        paths::TILLS
    }
    pub fn back(&self) -> &'static str {
        paths::TILLS
    }
}

fragment!(TillNewContent, |_page| "Add a till");

/// A one-time code that enrols a till, as text, as a QR code and as the command to type.
#[derive(Clone, Debug)]
pub struct EnrolmentCode {
    pub till_name: String,
    pub branch: String,
    pub code: String,
    /// The service's public URL, as the till must reach it (`https://nexus.example.com`).
    pub server_url: String,
    pub expires_at: ShopTime,
    pub qr: Option<QrSvg>,
}

impl EnrolmentCode {
    pub fn new(
        till_name: impl Into<String>,
        branch: impl Into<String>,
        code: impl Into<String>,
        server_url: impl Into<String>,
        expires_at: ShopTime,
    ) -> Self {
        let code = code.into();
        let qr = QrSvg::encode(&code, format!("QR code of the enrolment code {code}"));
        Self {
            till_name: till_name.into(),
            branch: branch.into(),
            code,
            server_url: server_url.into(),
            expires_at,
            qr,
        }
    }

    /// The exact command for the shop's computer.
    pub fn command(&self) -> String {
        format!(
            "nexus pos enroll --server {} --code {}",
            self.server_url, self.code
        )
    }
}

/// After `POST /tills`: the new till's enrolment code.
#[derive(Template)]
#[template(path = "admin/enrolment.html")]
pub struct EnrolmentContent {
    pub code: EnrolmentCode,
}

impl EnrolmentContent {
    pub fn back(&self) -> &'static str {
        paths::TILLS
    }
}

fragment!(EnrolmentContent, |page| format!(
    "Enrol {}",
    page.code.till_name
));

/// `GET /conflicts`: catalogue fields two people changed at once, newest first.
#[derive(Template)]
#[template(path = "admin/conflicts.html")]
pub struct ConflictsContent {
    pub rows: Vec<ConflictRow>,
    pub next_page_url: Option<String>,
}

#[derive(Clone, Debug)]
pub struct ConflictRow {
    pub at: ShopTime,
    /// What was edited: "Royal Aroma Rice 1kg".
    pub subject: String,
    /// "Price", "Name", "Reorder level".
    pub field: String,
    /// The value the till showed when the edit was made.
    pub seen: String,
    /// The value the edit replaced on the service.
    pub replaced: String,
    /// The value everyone has now.
    pub winner: String,
    /// Who made the losing edit, and where ("Kofi Boateng at Till 1, Osu").
    pub who: String,
}

fragment!(ConflictsContent, |_page| "Conflicts");

#[derive(Clone, Debug, Default)]
pub struct LevyValues {
    pub code: String,
    pub name: String,
    /// Percent, as typed: "15", "2.5".
    pub rate: String,
}

#[derive(Clone, Debug, Default)]
pub struct SettingsValues {
    pub currency: String,
    pub time_zone: String,
    pub tax_enabled: bool,
    /// "inclusive" or "exclusive".
    pub price_mode: String,
    pub levies: Vec<LevyValues>,
    pub shop: ShopDetailsValues,
}

/// `GET/POST /settings`. Fields: currency, time_zone, tax_enabled ("on" when checked),
/// price_mode, levy_code_N / levy_name_N / levy_rate_N for N from 0 (blank rows are
/// ignored), trading_name, address, phone, tin, receipt_footer.
#[derive(Template)]
#[template(path = "admin/settings.html")]
pub struct SettingsContent {
    pub csrf: String,
    /// Owners; managers see the settings read-only.
    pub can_edit: bool,
    pub values: SettingsValues,
    pub errors: FieldErrors,
}

/// Blank levy rows offered below the existing ones, up to the domain's limit of 8.
const MAX_LEVIES: usize = 8;

impl SettingsContent {
    pub fn action(&self) -> &'static str {
        paths::SETTINGS
    }
    pub fn currencies(&self) -> Vec<Choice> {
        crate::views::common::currency_choices(&self.values.currency)
    }
    pub fn zones(&self) -> Vec<Choice> {
        crate::views::common::zone_choices(&self.values.time_zone)
    }
    pub fn currency_label(&self) -> String {
        nexus_domain::Currency::parse(&self.values.currency)
            .map(crate::views::common::currency_label)
            .map_or_else(|_| self.values.currency.clone(), str::to_owned)
    }
    pub fn zone_label(&self) -> String {
        crate::views::common::zone_label(&self.values.time_zone)
    }
    pub fn inclusive(&self) -> bool {
        self.values.price_mode != "exclusive"
    }
    /// The levies plus blank rows to add more.
    pub fn levy_rows(&self) -> Vec<LevyValues> {
        let mut rows = self.values.levies.clone();
        let blanks = if self.can_edit { 2 } else { 0 };
        let target = (rows.len() + blanks).min(MAX_LEVIES.max(rows.len()));
        rows.resize_with(target, LevyValues::default);
        rows
    }
    /// The error of one cell of the levies table: `kind` is "code", "name" or "rate".
    pub fn levy_error(&self, kind: &str, index: &usize) -> Option<&str> {
        self.errors.get(&format!("levy_{kind}_{index}"))
    }
}

fragment!(SettingsContent, |_page| "Settings");

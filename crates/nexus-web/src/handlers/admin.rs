//! Branches, tills and their sync health, the conflict log, and the settings.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use nexus_domain::tax::{Levy, PriceMode, TaxRules, format_rate_percent, parse_rate_percent};
use nexus_domain::{BranchId, Permission};
use nexus_server::services::{self, web_sessions};
use nexus_server::state::AppState;
use nexus_store::{ShopDetails, StationRecord};
use uuid::Uuid;

use super::context::{PageError, Viewer};
use super::input::{Fields, SignedPost};
use super::live::fragment;
use super::text::form_errors;
use crate::format::ShopLocale;
use crate::forms::{Choice, FieldErrors};
use crate::views::admin::{
    BranchRow, BranchesContent, ConflictRow, ConflictsContent, EnrolmentCode, EnrolmentContent,
    LevyValues, SettingsContent, SettingsValues, TillNewContent, TillRow, TillsContent, TillsLive,
};
use crate::views::setup::{BranchValues, ShopDetailsValues, TillValues};
use crate::{Flash, Section, paths};

/// A till heard from within this long counts as online.
const ONLINE_WITHIN_MILLIS: i64 = 5 * 60 * 1000;
const CONFLICTS_PER_PAGE: u32 = 50;

/// The open branches the person may see, as choices, `selected` ticked.
pub(super) async fn branch_choices(
    state: &AppState,
    viewer: &Viewer,
    selected: &str,
) -> Result<Vec<Choice>, PageError> {
    Ok(services::branches::branches(state, &viewer.auth, false)
        .await?
        .into_iter()
        .map(|branch| {
            let id = branch.id.as_uuid().to_string();
            let picked = id == selected;
            Choice::new(id, branch.name).selected_if(picked)
        })
        .collect())
}

pub(super) fn shop_values(shop: &ShopDetails) -> ShopDetailsValues {
    ShopDetailsValues {
        trading_name: shop.trading_name.clone().unwrap_or_default(),
        address: shop.address.clone().unwrap_or_default(),
        phone: shop.phone.clone().unwrap_or_default(),
        tin: shop.tin.clone().unwrap_or_default(),
        receipt_footer: shop.receipt_footer.clone().unwrap_or_default(),
    }
}

/// The receipt header fields of a form: as typed, and as details to save (the steps set aside
/// kept as they were).
pub(super) fn read_shop_details(
    form: &Fields,
    current: &ShopDetails,
) -> (ShopDetailsValues, ShopDetails) {
    let values = ShopDetailsValues {
        trading_name: form.text("trading_name").to_owned(),
        address: form.text("address").to_owned(),
        phone: form.text("phone").to_owned(),
        tin: form.text("tin").to_owned(),
        receipt_footer: form.text("receipt_footer").to_owned(),
    };
    let optional = |text: &str| Some(text.to_owned()).filter(|text| !text.is_empty());
    let details = ShopDetails {
        trading_name: optional(&values.trading_name),
        address: optional(&values.address),
        phone: optional(&values.phone),
        tin: optional(&values.tin),
        receipt_footer: optional(&values.receipt_footer),
        skipped_steps: current.skipped_steps.clone(),
    };
    (values, details)
}

/// A new till and its enrolment code, or the form's errors.
pub(super) async fn enrolment_code(
    state: &AppState,
    viewer: &Viewer,
    values: &TillValues,
) -> Result<Result<EnrolmentCode, FieldErrors>, PageError> {
    let branch = match values.branch.parse::<Uuid>() {
        Ok(branch) => BranchId::from_uuid(branch),
        Err(_) => {
            return Ok(Err(
                FieldErrors::new().with("branch", "Choose the branch the till is in.")
            ));
        }
    };
    if values.name.is_empty() {
        return Ok(Err(
            FieldErrors::new().with("name", "Name the till, e.g. Till 1.")
        ));
    }
    match services::stations::create_station(state, &viewer.auth, branch, &values.name).await {
        Ok((station, code)) => {
            let branch_name = services::branches::branch(state, &viewer.auth, branch.as_uuid())
                .await
                .map(|branch| branch.name)
                .unwrap_or_default();
            let expires = station
                .enrolment_expires_at
                .map_or(viewer.locale.now_millis, |at| at.as_millis());
            Ok(Ok(EnrolmentCode::new(
                station.name,
                branch_name,
                code,
                viewer.config.public_url.clone(),
                viewer.locale.time(expires),
            )))
        }
        Err(error) if error.status().is_client_error() => {
            Ok(Err(form_errors(&error, &[("branch_id", "branch")])))
        }
        Err(error) => Err(error.into()),
    }
}

async fn branches_content(
    state: &AppState,
    viewer: &Viewer,
    values: BranchValues,
    errors: FieldErrors,
) -> Result<BranchesContent, PageError> {
    viewer.require(Permission::ViewBranches)?;
    let branches = services::branches::branches(state, &viewer.auth, false).await?;
    let stations = if viewer.may(Permission::ManageStations) {
        services::stations::stations(state, &viewer.auth).await?
    } else {
        Vec::new()
    };
    let staff = if viewer.may(Permission::ViewStaff) {
        services::staff::staff(state, &viewer.auth).await?
    } else {
        Vec::new()
    };
    let rows = branches
        .into_iter()
        .map(|branch| BranchRow {
            id: branch.id.as_uuid(),
            tills: stations
                .iter()
                .filter(|station| station.branch_id == branch.id && station.revoked_at.is_none())
                .count() as u64,
            staff: staff
                .iter()
                .filter(|member| member.active && member.branch_ids.contains(&branch.id))
                .count() as u64,
            name: branch.name,
            address: branch.address,
        })
        .collect();
    Ok(BranchesContent {
        csrf: viewer.csrf.clone(),
        rows,
        can_manage: viewer.may(Permission::ManageBranches),
        values,
        errors,
    })
}

pub(crate) async fn branches(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    let content =
        branches_content(&state, &viewer, BranchValues::default(), FieldErrors::new()).await?;
    Ok(viewer.page(Section::Branches, content))
}

pub(crate) async fn create_branch(
    State(state): State<AppState>,
    SignedPost { viewer, form }: SignedPost,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageBranches)?;
    let values = BranchValues {
        name: form.text("name").to_owned(),
        address: form.text("address").to_owned(),
    };
    match services::branches::create_branch(
        &state,
        &viewer.auth,
        &values.name,
        form.optional("address"),
    )
    .await
    {
        Ok(branch) => Ok(viewer.redirect(
            paths::BRANCHES,
            Flash::success(format!("{} added.", branch.name)),
        )),
        Err(error) if error.status().is_client_error() => {
            let errors = form_errors(&error, &[]);
            let content = branches_content(&state, &viewer, values, errors).await?;
            Ok(viewer.page_with(StatusCode::UNPROCESSABLE_ENTITY, Section::Branches, content))
        }
        Err(error) => Err(error.into()),
    }
}

pub(crate) async fn rename_branch(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    SignedPost { viewer, form }: SignedPost,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageBranches)?;
    let renamed =
        services::branches::update_branch(&state, &viewer.auth, id, Some(form.text("name")), None)
            .await;
    match renamed {
        Ok(branch) => Ok(viewer.redirect(
            paths::BRANCHES,
            Flash::success(format!("Renamed to {}.", branch.name)),
        )),
        Err(error)
            if error.status().is_client_error() && error.status() != StatusCode::NOT_FOUND =>
        {
            Ok(viewer.redirect(
                paths::BRANCHES,
                Flash::error(super::context::sentence(error.message())),
            ))
        }
        Err(error) => Err(error.into()),
    }
}

pub(crate) async fn archive_branch(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    SignedPost { viewer, .. }: SignedPost,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageBranches)?;
    let branch = services::branches::archive_branch(&state, &viewer.auth, id).await?;
    Ok(viewer.redirect(
        paths::BRANCHES,
        Flash::success(format!(
            "{} archived. Its sales stay in the reports.",
            branch.name
        )),
    ))
}

fn till_row(station: &StationRecord, branch: String, locale: &ShopLocale) -> TillRow {
    let millis = |at: Option<nexus_domain::UnixMillis>| at.map(|at| at.as_millis());
    TillRow {
        id: station.id,
        name: station.name.clone(),
        branch,
        online: station
            .last_contact_at
            .is_some_and(|at| locale.now_millis - at.as_millis() <= ONLINE_WITHIN_MILLIS),
        last_contact: locale.ago(millis(station.last_contact_at)),
        last_push: locale.ago(millis(station.last_sync_at)),
        unsynced_ops: station
            .unsynced_ops
            .and_then(|ops| u64::try_from(ops).ok())
            .unwrap_or(0),
        unsynced_since: locale.ago(millis(station.unsynced_since)),
        app_version: station.app_version.clone().unwrap_or_default(),
        waiting_for_enrolment: station.enrolled_at.is_none(),
    }
}

/// The tills of the person's branches with their sync health, revoked ones left out.
pub(super) async fn till_rows(
    state: &AppState,
    viewer: &Viewer,
) -> Result<Vec<TillRow>, PageError> {
    let branches = services::branches::branches(state, &viewer.auth, true).await?;
    let stations = services::stations::stations(state, &viewer.auth).await?;
    Ok(stations
        .iter()
        .filter(|station| station.revoked_at.is_none())
        .map(|station| {
            let branch = branches
                .iter()
                .find(|branch| branch.id == station.branch_id)
                .map(|branch| branch.name.clone())
                .unwrap_or_default();
            till_row(station, branch, &viewer.locale)
        })
        .collect())
}

async fn tills_live_content(state: &AppState, viewer: &Viewer) -> Result<TillsLive, PageError> {
    viewer.require(Permission::ManageStations)?;
    Ok(TillsLive {
        csrf: viewer.csrf.clone(),
        can_manage: viewer.may(Permission::ManageStations),
        rows: till_rows(state, viewer).await?,
        as_of: viewer.locale.time(viewer.locale.now_millis),
    })
}

pub(crate) async fn tills(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    let live = tills_live_content(&state, &viewer).await?;
    Ok(viewer.page(
        Section::Tills,
        TillsContent {
            can_manage: live.can_manage,
            live_url: "/tills/live".to_owned(),
            live,
        },
    ))
}

pub(crate) async fn tills_live(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    Ok(fragment(tills_live_content(&state, &viewer).await?))
}

pub(crate) async fn till_new(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageStations)?;
    Ok(viewer.page(
        Section::Tills,
        TillNewContent {
            csrf: viewer.csrf.clone(),
            values: TillValues::default(),
            branches: branch_choices(&state, &viewer, "").await?,
            errors: FieldErrors::new(),
        },
    ))
}

pub(crate) async fn create_till(
    State(state): State<AppState>,
    SignedPost { viewer, form }: SignedPost,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageStations)?;
    let values = TillValues {
        name: form.text("name").to_owned(),
        branch: form.text("branch").to_owned(),
    };
    match enrolment_code(&state, &viewer, &values).await? {
        Ok(code) => Ok(viewer.page(Section::Tills, EnrolmentContent { code })),
        Err(errors) => Ok(viewer.page_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            Section::Tills,
            TillNewContent {
                csrf: viewer.csrf.clone(),
                branches: branch_choices(&state, &viewer, &values.branch).await?,
                values,
                errors,
            },
        )),
    }
}

pub(crate) async fn revoke_till(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    SignedPost { viewer, .. }: SignedPost,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageStations)?;
    let station = services::stations::revoke_station(&state, &viewer.auth, id).await?;
    Ok(viewer.redirect(
        paths::TILLS,
        Flash::success(format!(
            "{} is revoked: it can no longer sync. Enrol it again to use it.",
            station.name
        )),
    ))
}

/// A JSON value of the conflict log as people read it.
fn shown(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "(empty)".to_owned(),
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

pub(crate) async fn conflicts(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Fields,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageProducts)?;
    let (items, next) = services::sync::conflicts(
        &state,
        &viewer.auth,
        query.optional("before"),
        Some(CONFLICTS_PER_PAGE),
    )
    .await?;
    let ids: Vec<_> = items
        .iter()
        .filter(|conflict| conflict.entity == "product")
        .map(|conflict| nexus_domain::ProductId::from_uuid(conflict.entity_id))
        .collect();
    let products = state
        .store
        .products_by_ids(viewer.auth.tenant, &ids)
        .await
        .map_err(nexus_server::error::ApiError::from)?;
    let staff = services::staff::staff(&state, &viewer.auth).await?;
    let stations = services::stations::stations(&state, &viewer.auth).await?;
    let rows = items
        .iter()
        .map(|conflict| {
            let subject = products
                .iter()
                .find(|product| product.id.as_uuid() == conflict.entity_id)
                .map_or_else(|| conflict.entity.clone(), |product| product.name.clone());
            let person = staff
                .iter()
                .find(|member| member.id == conflict.actor_id)
                .map_or("Someone", |member| member.name.as_str());
            let till = stations
                .iter()
                .find(|station| station.id == conflict.station_id)
                .map_or("a till", |station| station.name.as_str());
            ConflictRow {
                at: viewer.locale.time(conflict.detected_at.as_millis()),
                subject,
                field: field_label(&conflict.field),
                seen: shown(&conflict.base_value),
                replaced: shown(&conflict.lost_value),
                winner: shown(&conflict.won_value),
                who: format!("{person} at {till}"),
            }
        })
        .collect();
    Ok(viewer.page(
        Section::Conflicts,
        ConflictsContent {
            rows,
            next_page_url: next.map(|before| {
                format!(
                    "{}?before={}",
                    paths::CONFLICTS,
                    super::context::percent_encode(&before)
                )
            }),
        },
    ))
}

fn field_label(field: &str) -> String {
    match field {
        "price_minor" => "Price".to_owned(),
        "name" => "Name".to_owned(),
        "reorder_level" => "Reorder level".to_owned(),
        "barcode" => "Barcode".to_owned(),
        "tax_class" => "Tax".to_owned(),
        other => super::context::sentence(other)
            .trim_end_matches('.')
            .to_owned(),
    }
}

fn settings_values(viewer: &Viewer) -> SettingsValues {
    let tax = &viewer.settings.tax;
    SettingsValues {
        currency: viewer.settings.currency.code().to_owned(),
        time_zone: viewer.settings.time_zone.clone(),
        tax_enabled: tax.enabled,
        price_mode: match tax.mode {
            PriceMode::Inclusive => "inclusive",
            PriceMode::Exclusive => "exclusive",
        }
        .to_owned(),
        levies: tax
            .levies
            .iter()
            .map(|levy| LevyValues {
                code: levy.code.clone(),
                name: levy.name.clone(),
                rate: format_rate_percent(levy.rate_basis_points),
            })
            .collect(),
        shop: shop_values(&viewer.shop),
    }
}

pub(crate) async fn settings(viewer: Viewer) -> Result<Response, PageError> {
    viewer.require(Permission::ViewSettings)?;
    Ok(viewer.page(
        Section::Settings,
        SettingsContent {
            csrf: viewer.csrf.clone(),
            can_edit: viewer.may(Permission::ManageSettings),
            values: settings_values(&viewer),
            errors: FieldErrors::new(),
        },
    ))
}

/// The levies of the form's rows, blank rows left out, or the errors of its cells.
fn read_levies(form: &Fields, errors: &mut FieldErrors) -> (Vec<LevyValues>, Vec<Levy>) {
    let mut typed = Vec::new();
    let mut levies = Vec::new();
    for index in 0..form.rows("levy_code", 8) {
        let row = LevyValues {
            code: form.text(&format!("levy_code_{index}")).to_uppercase(),
            name: form.text(&format!("levy_name_{index}")).to_owned(),
            rate: form.text(&format!("levy_rate_{index}")).to_owned(),
        };
        if row.code.is_empty() && row.name.is_empty() && row.rate.is_empty() {
            continue;
        }
        let position = typed.len();
        if row.code.is_empty() {
            errors.add(
                format!("levy_code_{position}"),
                "Enter a short code, e.g. VAT.",
            );
        }
        if row.name.is_empty() {
            errors.add(
                format!("levy_name_{position}"),
                "Enter the name printed on receipts.",
            );
        }
        match parse_rate_percent(&row.rate) {
            Ok(rate_basis_points) => levies.push(Levy {
                code: row.code.clone(),
                name: row.name.clone(),
                rate_basis_points,
            }),
            Err(_) => errors.add(
                format!("levy_rate_{position}"),
                "Enter the rate in percent, e.g. 15 or 2.5.",
            ),
        }
        typed.push(row);
    }
    (typed, levies)
}

pub(crate) async fn save_settings(
    State(state): State<AppState>,
    SignedPost { viewer, form }: SignedPost,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageSettings)?;
    let mut errors = FieldErrors::new();
    let (levy_rows, levies) = read_levies(&form, &mut errors);
    let (shop_typed, details) = read_shop_details(&form, &viewer.shop);
    let values = SettingsValues {
        currency: form.text("currency").to_owned(),
        time_zone: form.text("time_zone").to_owned(),
        tax_enabled: form.optional("tax_enabled").is_some(),
        price_mode: form.text("price_mode").to_owned(),
        levies: levy_rows,
        shop: shop_typed,
    };
    let mode = match values.price_mode.as_str() {
        "exclusive" => PriceMode::Exclusive,
        _ => PriceMode::Inclusive,
    };
    let again = |errors: FieldErrors| {
        viewer.page_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            Section::Settings,
            SettingsContent {
                csrf: viewer.csrf.clone(),
                can_edit: true,
                values: values.clone(),
                errors,
            },
        )
    };
    if !errors.is_empty() {
        return Ok(again(errors));
    }
    let tax = TaxRules {
        enabled: values.tax_enabled,
        mode,
        levies,
    };
    let saved = services::settings::replace_settings(
        &state,
        &viewer.auth,
        &values.currency,
        tax,
        values.time_zone.clone(),
    )
    .await;
    if let Err(error) = saved {
        return if error.status().is_client_error() {
            Ok(again(form_errors(&error, &[("tax", "")])))
        } else {
            Err(error.into())
        };
    }
    match web_sessions::update_shop_details(&state, &viewer.auth, details).await {
        Ok(_) => Ok(viewer.redirect(paths::SETTINGS, Flash::success("Settings saved."))),
        Err(error) if error.status().is_client_error() => Ok(again(form_errors(&error, &[]))),
        Err(error) => Err(error.into()),
    }
}

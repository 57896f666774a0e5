//! Staff, shifts with expected against counted, and cashier performance.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use nexus_domain::roles::may_manage_staff_member;
use nexus_domain::{BranchId, Permission, Role};
use nexus_server::services::reports::ReportRange;
use nexus_server::services::shifts::{cashier_performance, shifts as list_shifts};
use nexus_server::services::staff::{self, NewStaff, is_till_only};
use nexus_server::state::AppState;
use nexus_store::{UserChange, UserRecord};
use uuid::Uuid;

use super::context::{PageError, Viewer};
use super::input::{Fields, SignedPost};
use super::sales::{filter_of, filter_query, range_of, summary, write_csv};
use super::text::{form_errors, tender};
use crate::forms::{Choice, FieldErrors};
use crate::views::staff::{
    PerformanceContent, PerformanceRow, ShiftRow, ShiftTender, ShiftsContent, StaffContent,
    StaffFormContent, StaffRow, StaffValues,
};
use crate::{Flash, Section, paths};

const STAFF_FIELDS: &[(&str, &str)] = &[("branch_ids", "branches")];

fn may_change(viewer: &Viewer, member: &UserRecord) -> bool {
    viewer.may(Permission::ManageStaff)
        && may_manage_staff_member(&viewer.auth.actor(), &[member.role], &member.branch_ids)
}

pub(crate) async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    viewer.require(Permission::ViewStaff)?;
    let members = staff::staff(&state, &viewer.auth).await?;
    let branches = nexus_server::services::branches::branches(&state, &viewer.auth, true).await?;
    let rows = members
        .iter()
        .map(|member| StaffRow {
            id: member.id.as_uuid(),
            name: member.name.clone(),
            email: Some(member.email.clone()).filter(|email| !is_till_only(email)),
            role: member.role,
            branches: member
                .branch_ids
                .iter()
                .filter_map(|id| branches.iter().find(|branch| branch.id == *id))
                .map(|branch| branch.name.clone())
                .collect(),
            active: member.active,
            has_pin: member.has_pin,
            can_edit: member.active && may_change(&viewer, member),
        })
        .collect();
    Ok(viewer.page(
        Section::Staff,
        StaffContent {
            csrf: viewer.csrf.clone(),
            rows,
            can_add: viewer.may(Permission::ManageStaff),
        },
    ))
}

/// The roles the person may give: owners any, managers cashiers only.
fn roles_for(viewer: &Viewer) -> Vec<Role> {
    match viewer.role() {
        Role::Owner => vec![Role::Cashier, Role::Manager, Role::Owner],
        _ => vec![Role::Cashier],
    }
}

async fn branch_boxes(
    state: &AppState,
    viewer: &Viewer,
    ticked: &[String],
) -> Result<Vec<Choice>, PageError> {
    let mut choices = super::admin::branch_choices(state, viewer, "").await?;
    for choice in &mut choices {
        choice.selected = ticked.contains(&choice.value);
    }
    Ok(choices)
}

async fn form_page(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    staff_id: Option<Uuid>,
    values: StaffValues,
    ticked: &[String],
    errors: FieldErrors,
) -> Result<Response, PageError> {
    Ok(viewer.page_with(
        status,
        Section::Staff,
        StaffFormContent {
            csrf: viewer.csrf.clone(),
            staff_id,
            values,
            roles: roles_for(viewer),
            branches: branch_boxes(state, viewer, ticked).await?,
            errors,
        },
    ))
}

pub(crate) async fn new_page(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageStaff)?;
    let values = StaffValues {
        role: "cashier".to_owned(),
        ..StaffValues::default()
    };
    form_page(
        &state,
        &viewer,
        StatusCode::OK,
        None,
        values,
        &[],
        FieldErrors::new(),
    )
    .await
}

/// The ticked branches as ids, or a message.
fn branches_of(ticked: &[String]) -> Result<Vec<BranchId>, String> {
    ticked
        .iter()
        .map(|id| {
            id.parse::<Uuid>()
                .map(BranchId::from_uuid)
                .map_err(|_| "Tick the branches from the list.".to_owned())
        })
        .collect()
}

pub(crate) async fn create(
    State(state): State<AppState>,
    SignedPost { viewer, form }: SignedPost,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageStaff)?;
    let values = StaffValues {
        name: form.text("name").to_owned(),
        email: form.text("email").to_owned(),
        role: form.text("role").to_owned(),
    };
    let ticked: Vec<String> = form
        .all("branches")
        .into_iter()
        .map(str::to_owned)
        .collect();
    let mut errors = FieldErrors::new();
    let role = values.role.parse::<Role>().ok();
    if role.is_none() {
        errors.add("role", "Choose a role.");
    }
    let branch_ids = branches_of(&ticked).unwrap_or_else(|message| {
        errors.add("branches", message);
        Vec::new()
    });
    let pin = form.optional("pin").map(str::to_owned);
    let password = Some(form.raw("password").to_owned()).filter(|text| !text.is_empty());
    if pin.is_none() && password.is_none() {
        errors.add(
            "pin",
            "Give them a PIN for the till, a password for this dashboard, or both.",
        );
    }
    if let (Some(role), true) = (role, errors.is_empty()) {
        let added = staff::add_member(
            &state,
            &viewer.auth,
            NewStaff {
                email: values.email.clone(),
                name: values.name.clone(),
                role,
                branch_ids,
                password,
                pin,
            },
        )
        .await;
        match added {
            Ok(member) => {
                return Ok(viewer.redirect(
                    paths::STAFF,
                    Flash::success(format!("{} added.", member.name)),
                ));
            }
            Err(error) if error.status().is_client_error() => {
                errors = form_errors(&error, STAFF_FIELDS);
            }
            Err(error) => return Err(error.into()),
        }
    }
    form_page(
        &state,
        &viewer,
        StatusCode::UNPROCESSABLE_ENTITY,
        None,
        values,
        &ticked,
        errors,
    )
    .await
}

async fn editable(state: &AppState, viewer: &Viewer, id: Uuid) -> Result<UserRecord, PageError> {
    viewer.require(Permission::ManageStaff)?;
    let member = staff::member(state, &viewer.auth, id).await?;
    if !may_change(viewer, &member) {
        return Err(PageError::Forbidden);
    }
    Ok(member)
}

fn values_of(member: &UserRecord) -> StaffValues {
    StaffValues {
        name: member.name.clone(),
        email: if is_till_only(&member.email) {
            String::new()
        } else {
            member.email.clone()
        },
        role: member.role.as_str().to_owned(),
    }
}

pub(crate) async fn edit_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    let member = editable(&state, &viewer, id).await?;
    let ticked: Vec<String> = member
        .branch_ids
        .iter()
        .map(|branch| branch.as_uuid().to_string())
        .collect();
    form_page(
        &state,
        &viewer,
        StatusCode::OK,
        Some(id),
        values_of(&member),
        &ticked,
        FieldErrors::new(),
    )
    .await
}

pub(crate) async fn update(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    SignedPost { viewer, form }: SignedPost,
) -> Result<Response, PageError> {
    let member = editable(&state, &viewer, id).await?;
    let ticked: Vec<String> = form
        .all("branches")
        .into_iter()
        .map(str::to_owned)
        .collect();
    let mut values = values_of(&member);
    values.role = form.text("role").to_owned();
    let mut errors = FieldErrors::new();
    let role = values.role.parse::<Role>().ok();
    if role.is_none() {
        errors.add("role", "Choose a role.");
    }
    let branch_ids = branches_of(&ticked).unwrap_or_else(|message| {
        errors.add("branches", message);
        Vec::new()
    });
    if errors.is_empty() {
        let mut change = UserChange::default();
        if role != Some(member.role) {
            change.role = role;
        }
        if branch_ids != member.branch_ids {
            change.branch_ids = Some(branch_ids);
        }
        let pin = form.optional("pin").map(str::to_owned);
        let password = Some(form.raw("password").to_owned()).filter(|text| !text.is_empty());
        let changed = async {
            if change.role.is_some() || change.branch_ids.is_some() {
                staff::change_member(&state, &viewer.auth, id, change).await?;
            }
            if pin.is_some() || password.is_some() {
                staff::set_credentials(&state, &viewer.auth, id, password, pin).await?;
            }
            Ok::<_, nexus_server::error::ApiError>(())
        }
        .await;
        match changed {
            Ok(()) => {
                return Ok(viewer.redirect(
                    paths::STAFF,
                    Flash::success(format!("{} saved.", member.name)),
                ));
            }
            Err(error) if error.status().is_client_error() => {
                errors = form_errors(&error, STAFF_FIELDS);
            }
            Err(error) => return Err(error.into()),
        }
    }
    form_page(
        &state,
        &viewer,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some(id),
        values,
        &ticked,
        errors,
    )
    .await
}

pub(crate) async fn deactivate(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    SignedPost { viewer, .. }: SignedPost,
) -> Result<Response, PageError> {
    let member = editable(&state, &viewer, id).await?;
    let change = UserChange {
        active: Some(false),
        ..UserChange::default()
    };
    match staff::change_member(&state, &viewer.auth, id, change).await {
        Ok(_) => Ok(viewer.redirect(
            paths::STAFF,
            Flash::success(format!(
                "{} is deactivated and signed out everywhere.",
                member.name
            )),
        )),
        Err(error) if error.status() == StatusCode::CONFLICT => Ok(viewer.redirect(
            paths::STAFF,
            Flash::error(super::context::sentence(error.message())),
        )),
        Err(error) => Err(error.into()),
    }
}

pub(crate) async fn shifts(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Fields,
) -> Result<Response, PageError> {
    viewer.require(Permission::RunOwnShift)?;
    let (range, mut errors) = match range_of(&query) {
        Ok(range) => (range, FieldErrors::new()),
        Err(errors) => (ReportRange::default(), errors),
    };
    let found = list_shifts(
        &state,
        &viewer.auth,
        range.branch,
        range.from.clone(),
        range.to.clone(),
    )
    .await;
    let records = match found {
        Ok(records) => records,
        Err(error)
            if error.status().is_client_error() && error.status() != StatusCode::FORBIDDEN =>
        {
            errors = form_errors(&error, &[]);
            Vec::new()
        }
        Err(error) => return Err(error.into()),
    };
    let people = staff::staff(&state, &viewer.auth).await.unwrap_or_default();
    let branches = nexus_server::services::branches::branches(&state, &viewer.auth, true).await?;
    let tills = if viewer.may(Permission::ManageStations) {
        nexus_server::services::stations::stations(&state, &viewer.auth).await?
    } else {
        Vec::new()
    };
    let locale = viewer.locale;
    let rows = records
        .iter()
        .map(|shift| ShiftRow {
            cashier: people
                .iter()
                .find(|member| member.id == shift.cashier_id)
                .map_or_else(
                    || {
                        if shift.cashier_id == viewer.auth.user.id {
                            viewer.auth.user.name.clone()
                        } else {
                            "Someone".to_owned()
                        }
                    },
                    |member| member.name.clone(),
                ),
            branch: branches
                .iter()
                .find(|branch| branch.id == shift.branch_id)
                .map(|branch| branch.name.clone())
                .unwrap_or_default(),
            till: tills
                .iter()
                .find(|till| till.id == shift.station_id)
                .map_or_else(|| "Till".to_owned(), |till| till.name.clone()),
            opened: locale.time(shift.opened_at.as_millis()),
            closed: shift.closed_at.map(|at| locale.time(at.as_millis())),
            float: locale.money(shift.float_minor),
            tenders: shift
                .tenders
                .iter()
                .map(|counted| ShiftTender {
                    label: tender(counted.tender, None).label().to_owned(),
                    expected: locale.money(counted.expected_minor),
                    counted: Some(locale.money(counted.counted_minor)),
                    difference: Some(locale.money(counted.counted_minor - counted.expected_minor)),
                })
                .collect(),
        })
        .collect();
    let filter = filter_of(&state, &viewer, &range, None).await?;
    Ok(viewer.page(
        Section::Shifts,
        ShiftsContent {
            filter,
            errors,
            rows,
            next_page_url: None,
            can_see_performance: viewer.may(Permission::ViewReports),
        },
    ))
}

pub(crate) async fn performance(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Fields,
) -> Result<Response, PageError> {
    viewer.require(Permission::ViewReports)?;
    let (range, mut errors) = match range_of(&query) {
        Ok(range) => (range, FieldErrors::new()),
        Err(errors) => (ReportRange::default(), errors),
    };
    let (range, rows, resolved) = match read_performance(&state, &viewer, &range).await? {
        Ok((rows, resolved)) => (range, rows, resolved),
        Err(found) => {
            errors = found;
            let fallback = ReportRange::default();
            let (rows, resolved) = read_performance(&state, &viewer, &fallback)
                .await?
                .map_err(|_| PageError::Invalid("That report cannot be made.".to_owned()))?;
            (fallback, rows, resolved)
        }
    };
    let filter = filter_of(&state, &viewer, &range, Some(&resolved)).await?;
    let locale = viewer.locale;
    let content = PerformanceContent {
        summary: summary(&resolved, &filter),
        export_url: format!("{}/export?{}", paths::PERFORMANCE, filter_query(&filter)),
        filter,
        errors,
        rows: rows
            .iter()
            .map(|row| PerformanceRow {
                cashier: row.name.clone(),
                sales_count: u64::try_from(row.sales_count).unwrap_or(0),
                total: locale.money(row.total_minor),
                refunds: locale.money(row.refunded_minor),
                refund_count: u64::try_from(row.refunds).unwrap_or(0),
                voids: u64::try_from(row.voids).unwrap_or(0),
                average_basket: locale.money(row.average_basket_minor),
                cash_difference: locale.money(row.cash_difference_minor),
            })
            .collect(),
    };
    Ok(viewer.page(Section::Shifts, content))
}

type Performance = (
    Vec<nexus_server::services::shifts::CashierPerformance>,
    nexus_server::services::reports::Resolved,
);

async fn read_performance(
    state: &AppState,
    viewer: &Viewer,
    range: &ReportRange,
) -> Result<Result<Performance, FieldErrors>, PageError> {
    let read = async {
        let resolved = nexus_server::services::reports::resolve(state, &viewer.auth, range).await?;
        let rows = cashier_performance(state, &viewer.auth, range).await?;
        Ok::<_, nexus_server::error::ApiError>((rows, resolved))
    }
    .await;
    match read {
        Ok(found) => Ok(Ok(found)),
        Err(error)
            if error.status().is_client_error() && error.status() != StatusCode::FORBIDDEN =>
        {
            Ok(Err(form_errors(&error, &[])))
        }
        Err(error) => Err(error.into()),
    }
}

pub(crate) async fn performance_export(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Fields,
) -> Result<Response, PageError> {
    viewer.require(Permission::ViewReports)?;
    let range = range_of(&query)
        .map_err(|_| PageError::Invalid("That export link is not ours.".to_owned()))?;
    let (rows, resolved) = read_performance(&state, &viewer, &range)
        .await?
        .map_err(|_| PageError::Invalid("The dates of that export are wrong.".to_owned()))?;
    let currency = viewer.settings.currency;
    let code = currency.code();
    let header = vec![
        "cashier".to_owned(),
        "sales".to_owned(),
        format!("takings_{code}"),
        format!("average_sale_{code}"),
        "refunds".to_owned(),
        format!("refunded_{code}"),
        "voids".to_owned(),
        format!("cash_difference_{code}"),
    ];
    let lines: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            vec![
                row.name.clone(),
                row.sales_count.to_string(),
                currency.format_minor(row.total_minor),
                currency.format_minor(row.average_basket_minor),
                row.refunds.to_string(),
                currency.format_minor(row.refunded_minor),
                row.voids.to_string(),
                currency.format_minor(row.cash_difference_minor),
            ]
        })
        .collect();
    let name = format!(
        "cashiers-{}-{}.csv",
        nexus_server::calendar::format_day(resolved.from),
        nexus_server::calendar::format_day(resolved.to)
    );
    Ok(super::products::csv_download(
        &name,
        write_csv(&header, &lines)?,
    ))
}

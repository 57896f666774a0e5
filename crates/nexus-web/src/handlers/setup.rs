//! The first-run path: a checklist and a page per step, each of which can be skipped and found
//! again from the checklist.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use nexus_domain::{BranchId, Permission, Role};
use nexus_server::auth::Authenticated;
use nexus_server::error::ApiResult;
use nexus_server::services::{self, staff::NewStaff, web_sessions};
use nexus_server::state::AppState;
use nexus_store::ShopDetails;

use super::admin::{branch_choices, enrolment_code, read_shop_details, shop_values};
use super::context::{PageError, Viewer};
use super::input::{SignedPost, Upload};
use super::products::{create_from_form, start_upload, values_from};
use super::text::form_errors;
use crate::forms::FieldErrors;
use crate::views::products::ProductValues;
use crate::views::setup::{
    BranchValues, CashierValues, ChecklistItem, SetupBranchContent, SetupCashierContent,
    SetupChecklistContent, SetupProductsContent, SetupShopContent, SetupStep, SetupTillContent,
    StepState, TillValues,
};
use crate::{Flash, Section, paths};

/// Each step, done (what it sets up exists), skipped, or still to do.
pub(super) async fn checklist_items(
    state: &AppState,
    auth: &Authenticated,
    shop: &ShopDetails,
) -> ApiResult<Vec<ChecklistItem>> {
    let shop_done = shop.address.is_some() || shop.phone.is_some() || shop.tin.is_some();
    let branches = !services::branches::branches(state, auth, false)
        .await?
        .is_empty();
    let products = !services::catalogue::list_products(state, auth, None, None, Some(1), false)
        .await?
        .items
        .is_empty();
    let cashiers = services::staff::staff(state, auth)
        .await?
        .iter()
        .any(|member| member.role == Role::Cashier && member.active);
    let tills = services::stations::stations(state, auth)
        .await?
        .iter()
        .any(|station| station.revoked_at.is_none());
    Ok(SetupStep::ALL
        .into_iter()
        .map(|step| {
            let done = match step {
                SetupStep::Shop => shop_done,
                SetupStep::Branch => branches,
                SetupStep::Products => products,
                SetupStep::Cashier => cashiers,
                SetupStep::Till => tills,
            };
            let state = if done {
                StepState::Done
            } else if shop
                .skipped_steps
                .iter()
                .any(|skipped| skipped == step.slug())
            {
                StepState::Skipped
            } else {
                StepState::ToDo
            };
            ChecklistItem { step, state }
        })
        .collect())
}

/// Steps neither done nor skipped: the header's reminder.
pub(super) async fn steps_left(
    state: &AppState,
    auth: &Authenticated,
    shop: &ShopDetails,
) -> ApiResult<usize> {
    Ok(checklist_items(state, auth, shop)
        .await?
        .iter()
        .filter(|item| item.state == StepState::ToDo)
        .count())
}

/// The step after `step`, or the checklist after the last.
fn after(step: SetupStep) -> &'static str {
    SetupStep::ALL
        .iter()
        .skip_while(|candidate| **candidate != step)
        .nth(1)
        .map_or(paths::SETUP, SetupStep::path)
}

pub(crate) async fn checklist(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageSettings)?;
    let items = checklist_items(&state, &viewer.auth, &viewer.shop).await?;
    Ok(viewer.page(Section::Overview, SetupChecklistContent { items }))
}

pub(crate) async fn skip(
    State(state): State<AppState>,
    Path(step): Path<String>,
    SignedPost { viewer, .. }: SignedPost,
) -> Result<Response, PageError> {
    let Some(step) = SetupStep::ALL
        .into_iter()
        .find(|candidate| candidate.slug() == step)
    else {
        return Err(PageError::NotFound);
    };
    web_sessions::skip_step(&state, &viewer.auth, step.slug()).await?;
    Ok(viewer.redirect(
        after(step),
        Flash::info(format!(
            "Skipped “{}”. It stays on the checklist for later.",
            step.label()
        )),
    ))
}

pub(crate) async fn shop_page(viewer: Viewer) -> Result<Response, PageError> {
    viewer.require(Permission::ManageSettings)?;
    Ok(viewer.page(
        Section::Overview,
        SetupShopContent {
            csrf: viewer.csrf.clone(),
            values: shop_values(&viewer.shop),
            errors: FieldErrors::new(),
        },
    ))
}

pub(crate) async fn shop(
    State(state): State<AppState>,
    SignedPost { viewer, form }: SignedPost,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageSettings)?;
    let (values, details) = read_shop_details(&form, &viewer.shop);
    match web_sessions::update_shop_details(&state, &viewer.auth, details).await {
        Ok(_) => Ok(viewer.redirect(
            after(SetupStep::Shop),
            Flash::success("Shop details saved: they head every receipt."),
        )),
        Err(error) if error.status().is_client_error() => Ok(viewer.page_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            Section::Overview,
            SetupShopContent {
                csrf: viewer.csrf.clone(),
                values,
                errors: form_errors(&error, &[]),
            },
        )),
        Err(error) => Err(error.into()),
    }
}

pub(crate) async fn branch_page(viewer: Viewer) -> Result<Response, PageError> {
    viewer.require(Permission::ManageBranches)?;
    Ok(viewer.page(
        Section::Overview,
        SetupBranchContent {
            csrf: viewer.csrf.clone(),
            values: BranchValues::default(),
            errors: FieldErrors::new(),
        },
    ))
}

pub(crate) async fn branch(
    State(state): State<AppState>,
    SignedPost { viewer, form }: SignedPost,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageBranches)?;
    let values = BranchValues {
        name: form.text("name").to_owned(),
        address: form.text("address").to_owned(),
    };
    let created = services::branches::create_branch(
        &state,
        &viewer.auth,
        &values.name,
        form.optional("address"),
    )
    .await;
    match created {
        Ok(branch) => Ok(viewer.redirect(
            after(SetupStep::Branch),
            Flash::success(format!("{} added.", branch.name)),
        )),
        Err(error) if error.status().is_client_error() => Ok(viewer.page_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            Section::Overview,
            SetupBranchContent {
                csrf: viewer.csrf.clone(),
                values,
                errors: form_errors(&error, &[]),
            },
        )),
        Err(error) => Err(error.into()),
    }
}

async fn products_content(
    state: &AppState,
    viewer: &Viewer,
    values: ProductValues,
    errors: FieldErrors,
    import_errors: FieldErrors,
    import: Option<crate::views::products::ImportStatus>,
) -> Result<SetupProductsContent, PageError> {
    // A first shop's catalogue: counted a page at a time, up to a few hundred.
    let page =
        services::catalogue::list_products(state, &viewer.auth, None, None, Some(500), false)
            .await?;
    let mut added: Vec<String> = page
        .items
        .iter()
        .rev()
        .take(3)
        .map(|p| p.name.clone())
        .collect();
    added.dedup();
    Ok(SetupProductsContent {
        csrf: viewer.csrf.clone(),
        values,
        errors,
        import_errors,
        import,
        added,
        product_count: page.items.len() as u64,
        currency_code: viewer.settings.currency.code().to_owned(),
    })
}

pub(crate) async fn products_page(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageProducts)?;
    let content = products_content(
        &state,
        &viewer,
        ProductValues::default(),
        FieldErrors::new(),
        FieldErrors::new(),
        None,
    )
    .await?;
    Ok(viewer.page(Section::Overview, content))
}

pub(crate) async fn product(
    State(state): State<AppState>,
    SignedPost { viewer, form }: SignedPost,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageProducts)?;
    let values = values_from(&form);
    match create_from_form(&state, &viewer, &values).await? {
        Ok(product) => Ok(viewer.redirect(
            paths::SETUP_PRODUCTS,
            Flash::success(format!("{} added. Add another, or continue.", product.name)),
        )),
        Err(errors) => {
            let content =
                products_content(&state, &viewer, values, errors, FieldErrors::new(), None).await?;
            Ok(viewer.page_with(StatusCode::UNPROCESSABLE_ENTITY, Section::Overview, content))
        }
    }
}

pub(crate) async fn import(
    State(state): State<AppState>,
    upload: Upload,
) -> Result<Response, PageError> {
    upload.viewer.require(Permission::ManageProducts)?;
    let mode = nexus_server::services::imports::ImportMode::ValidRows;
    let (status, import, import_errors) = match start_upload(&state, &upload, mode).await? {
        Ok(import) => (StatusCode::ACCEPTED, Some(import), FieldErrors::new()),
        Err(errors) => (StatusCode::UNPROCESSABLE_ENTITY, None, errors),
    };
    let viewer = &upload.viewer;
    let content = products_content(
        &state,
        viewer,
        ProductValues::default(),
        FieldErrors::new(),
        import_errors,
        import,
    )
    .await?;
    Ok(viewer.page_with(status, Section::Overview, content))
}

pub(crate) async fn cashier_page(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageStaff)?;
    Ok(viewer.page(
        Section::Overview,
        SetupCashierContent {
            csrf: viewer.csrf.clone(),
            values: CashierValues::default(),
            branches: branch_choices(&state, &viewer, "").await?,
            errors: FieldErrors::new(),
        },
    ))
}

pub(crate) async fn cashier(
    State(state): State<AppState>,
    SignedPost { viewer, form }: SignedPost,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageStaff)?;
    let values = CashierValues {
        name: form.text("name").to_owned(),
        email: form.text("email").to_owned(),
        branch: form.text("branch").to_owned(),
    };
    let mut errors = FieldErrors::new();
    let branch = match form.uuid("branch") {
        Ok(Some(branch)) => Some(BranchId::from_uuid(branch)),
        Ok(None) => {
            errors.add("branch", "Choose the branch they sell at.");
            None
        }
        Err(message) => {
            errors.add("branch", message);
            None
        }
    };
    let pin = form.raw("pin");
    if pin != form.raw("pin_again") {
        errors.add("pin_again", "The two PINs are not the same.");
    }
    if values.name.is_empty() {
        errors.add("name", "Enter the cashier's name.");
    }
    let outcome = match (errors.is_empty(), branch) {
        (true, Some(branch)) => Some(
            services::staff::add_member(
                &state,
                &viewer.auth,
                NewStaff {
                    email: values.email.clone(),
                    name: values.name.clone(),
                    role: Role::Cashier,
                    branch_ids: vec![branch],
                    password: None,
                    pin: Some(pin.to_owned()),
                },
            )
            .await,
        ),
        _ => None,
    };
    match outcome {
        Some(Ok(member)) => Ok(viewer.redirect(
            after(SetupStep::Cashier),
            Flash::success(format!(
                "{} can now sign in at the till with their PIN.",
                member.name
            )),
        )),
        Some(Err(error)) if error.status().is_client_error() => {
            errors = form_errors(&error, &[("branch_ids", "branch")]);
            cashier_again(&state, &viewer, values, errors).await
        }
        Some(Err(error)) => Err(error.into()),
        None => cashier_again(&state, &viewer, values, errors).await,
    }
}

async fn cashier_again(
    state: &AppState,
    viewer: &Viewer,
    values: CashierValues,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let branches = branch_choices(state, viewer, &values.branch).await?;
    Ok(viewer.page_with(
        StatusCode::UNPROCESSABLE_ENTITY,
        Section::Overview,
        SetupCashierContent {
            csrf: viewer.csrf.clone(),
            values,
            branches,
            errors,
        },
    ))
}

pub(crate) async fn till_page(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageStations)?;
    Ok(viewer.page(
        Section::Overview,
        SetupTillContent {
            csrf: viewer.csrf.clone(),
            values: TillValues::default(),
            branches: branch_choices(&state, &viewer, "").await?,
            errors: FieldErrors::new(),
            enrolment: None,
        },
    ))
}

pub(crate) async fn till(
    State(state): State<AppState>,
    SignedPost { viewer, form }: SignedPost,
) -> Result<Response, PageError> {
    viewer.require(Permission::ManageStations)?;
    let values = TillValues {
        name: form.text("name").to_owned(),
        branch: form.text("branch").to_owned(),
    };
    match enrolment_code(&state, &viewer, &values).await? {
        Ok(code) => Ok(viewer.page(
            Section::Overview,
            SetupTillContent {
                csrf: viewer.csrf.clone(),
                branches: branch_choices(&state, &viewer, &values.branch).await?,
                values,
                errors: FieldErrors::new(),
                enrolment: Some(code),
            },
        )),
        Err(errors) => Ok(viewer.page_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            Section::Overview,
            SetupTillContent {
                csrf: viewer.csrf.clone(),
                branches: branch_choices(&state, &viewer, &values.branch).await?,
                values,
                errors,
                enrolment: None,
            },
        )),
    }
}

//! The HTTP routes. Handlers are thin: parse, authorize, call the store, answer.
//!
//! The router and the OpenAPI document come from the same `#[utoipa::path]` annotations, so a
//! route cannot exist without being in the contract (and the contract-driven tests).

mod accounts;
mod auth;
mod billing;
mod branches;
mod categories;
mod customers;
mod docs;
mod health;
mod momo;
mod momo_requests;
mod products;
mod purchasing;
mod reports;
mod sales;
mod settings;
mod shifts;
mod staff;
mod stations;
mod stock;
mod sync;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use utoipa::OpenApi as _;
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt as _};
use utoipa_axum::routes;

use crate::state::AppState;

/// The largest request body any route accepts (a catalogue import).
pub(crate) const LARGEST_BODY_BYTES: usize = products::IMPORT_MAX_BYTES;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Nexus Retail OS",
        description = "The cloud service of Nexus: organisations, staff, branches, catalogue, stock, sales and reports. \
                       Authenticated operations name, as their security scope, the permission of the matrix they need.",
        license(name = "AGPL-3.0-only")
    ),
    tags(
        (name = "auth", description = "Registration and sign-in"),
        (name = "staff"), (name = "branches"), (name = "settings"), (name = "products"),
        (name = "stock"), (name = "sales"), (name = "shifts"), (name = "customers"), (name = "reports"), (name = "stations"), (name = "sync"), (name = "billing"), (name = "momo"), (name = "health")
    )
)]
struct ApiDoc;

/// The API routes and, built from the same annotations, their OpenAPI document.
pub(crate) fn api_routes() -> (Router<AppState>, OpenApi) {
    let (router, mut document) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::live))
        .routes(routes!(health::ready))
        .routes(routes!(auth::register))
        .routes(routes!(auth::login))
        .routes(routes!(auth::refresh))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me))
        .routes(routes!(staff::list, staff::create))
        .routes(routes!(staff::get, staff::update))
        .routes(routes!(staff::deactivate))
        .routes(routes!(branches::list, branches::create))
        .routes(routes!(branches::get, branches::update))
        .routes(routes!(branches::archive))
        .routes(routes!(stock::levels))
        .routes(routes!(stock::record_movement))
        .routes(routes!(stock::transfer))
        .routes(routes!(stock::low_stock))
        .routes(routes!(stock::reconciliation))
        .routes(routes!(settings::get, settings::put))
        .routes(routes!(products::list, products::create))
        .routes(routes!(products::import).layer(DefaultBodyLimit::max(products::IMPORT_MAX_BYTES)))
        .routes(routes!(products::export))
        .routes(routes!(products::job))
        .routes(routes!(products::get, products::update))
        .routes(routes!(products::archive))
        .routes(routes!(sales::create))
        .routes(routes!(sales::get))
        .routes(routes!(sales::refund))
        .routes(routes!(sales::void))
        .routes(routes!(shifts::list))
        .routes(routes!(customers::list, customers::create))
        .routes(routes!(customers::get, customers::update))
        .routes(routes!(accounts::debtors))
        .routes(routes!(accounts::pay))
        .routes(routes!(accounts::account))
        .routes(routes!(reports::sales))
        .routes(routes!(reports::vat))
        .routes(routes!(reports::items))
        .routes(routes!(
            purchasing::list_suppliers,
            purchasing::create_supplier
        ))
        .routes(routes!(purchasing::list_orders, purchasing::create_order))
        .routes(routes!(purchasing::get_order))
        .routes(routes!(purchasing::receive))
        .routes(routes!(purchasing::close))
        .routes(routes!(categories::list, categories::create))
        .routes(routes!(categories::update))
        .routes(routes!(stations::list, stations::create))
        .routes(routes!(stations::revoke))
        .routes(routes!(stations::enroll))
        .routes(
            routes!(sync::push).layer(tower_http::decompression::RequestDecompressionLayer::new()),
        )
        .routes(routes!(sync::pull).layer(tower_http::compression::CompressionLayer::new()))
        .routes(routes!(sync::high_water))
        .routes(routes!(sync::conflicts))
        .routes(routes!(sync::exceptions))
        .routes(routes!(billing::plans))
        .routes(routes!(billing::usage))
        .routes(routes!(billing::invoices))
        .routes(routes!(billing::checkout))
        .routes(routes!(billing::stripe_webhook))
        .routes(routes!(billing::paystack_webhook))
        .routes(routes!(momo::upload).layer(DefaultBodyLimit::max(momo::STATEMENT_MAX_BYTES)))
        .routes(routes!(momo::preview).layer(DefaultBodyLimit::max(momo::STATEMENT_MAX_BYTES)))
        .routes(routes!(momo::set_mapping))
        .routes(routes!(momo::reconciliation))
        .routes(routes!(momo::exceptions))
        .routes(routes!(momo::sign_off))
        .routes(routes!(momo_requests::accounts))
        .routes(routes!(momo_requests::unclaimed))
        .routes(routes!(momo_requests::set_account))
        .routes(routes!(momo_requests::request_to_pay))
        .routes(routes!(momo_requests::request_status))
        .routes(routes!(
            momo_requests::callback,
            momo_requests::callback_post
        ))
        .split_for_parts();
    let components = document.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            Http::builder()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build(),
        ),
    );
    // A station sends `Authorization: Station <credential>`, the credential from enrolment.
    components.add_security_scheme(
        "station",
        SecurityScheme::ApiKey(utoipa::openapi::security::ApiKey::Header(
            utoipa::openapi::security::ApiKeyValue::new("Authorization"),
        )),
    );
    let router = router.merge(docs::routes());
    (router, document)
}

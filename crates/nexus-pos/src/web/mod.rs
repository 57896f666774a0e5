//! The cashier screen, served by the station itself (`nexus pos serve`) to its own browser and
//! to phones and tablets on the shop's Wi-Fi. Pages are askama templates; htmx swaps the cart
//! and the banner in place. Every action goes to the local database only, so the screen sells
//! with the internet down; the sync worker runs beside it and the banner shows its state.
//!
//! Sessions live in this process's memory: a restart signs cashiers out and drops carts in
//! progress (never a committed sale). A session is a random cookie naming the signed-in
//! member of staff, their cart and the payments taken so far.
//!
//! One module a page or concern: sign-in, the sale screen, parked carts, customers, payment,
//! receipts, refunds, shifts and stock; `ScreenState` is what every handler shares.

mod browse;
mod customer;
mod extract;
mod momo_request;
mod parked;
mod pay;
mod receipts;
mod refund;
mod sale;
mod settings;
mod shift;
mod sign_in;
mod stock;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use nexus_domain::{Clock, Currency};
use tokio::sync::{Notify, watch};

use crate::till::{Cart, SignedIn, TenderInput};
use crate::{Connectivity, Station, StationError, SyncWorker, WorkerSettings, WorkerState};

const SESSION_COOKIE: &str = "nexus_till";

struct Session {
    cashier: SignedIn,
    cart: Cart,
    tenders: Vec<TenderInput>,
    /// A request to pay the customer is approving on their phone.
    momo_request: Option<momo_request::Waiting>,
    /// The transaction ids of tenders the network confirmed through a request to pay.
    paid_requests: Vec<String>,
    /// When the session was last used (Unix ms, the injected clock): idle ones are dropped.
    last_used_ms: i64,
}

/// A session unused this long is signed out (its cart is lost; no sale ever is), so a till
/// left signed in overnight asks for a PIN in the morning and memory stays bounded.
const SESSION_IDLE_MILLIS: i64 = 12 * 60 * 60 * 1000;

/// What every handler of the cashier screen shares: the station, the clock, the signed-in
/// sessions and the sync worker's state.
#[derive(Clone)]
struct ScreenState {
    station: Arc<Station>,
    clock: Arc<dyn Clock>,
    sessions: Arc<Mutex<HashMap<String, Session>>>,
    worker: watch::Receiver<WorkerState>,
    wake: Arc<Notify>,
}

impl ScreenState {
    /// Runs `action` on the caller's session; `None` when nobody is signed in.
    fn with_session<T>(
        &self,
        headers: &HeaderMap,
        action: impl FnOnce(&mut Session) -> T,
    ) -> Option<T> {
        let key = session_key(headers)?;
        let now = self.clock.now().as_millis();
        let mut sessions = self
            .sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let session = sessions.get_mut(&key)?;
        if now - session.last_used_ms > SESSION_IDLE_MILLIS {
            sessions.remove(&key);
            return None;
        }
        session.last_used_ms = now;
        Some(action(session))
    }

    fn cashier(&self, headers: &HeaderMap) -> Option<SignedIn> {
        self.with_session(headers, |session| session.cashier.clone())
    }

    fn cart(&self, headers: &HeaderMap) -> Option<Cart> {
        self.with_session(headers, |session| session.cart.clone())
    }

    async fn banner(&self, cashier: Option<&SignedIn>) -> Result<BannerView, PageError> {
        let state = self.worker.borrow().clone();
        let status = self.station.status().await?;
        let (unsynced_sales, oldest) = self.station.unsynced_sales().await?;
        let offset = self
            .station
            .till_settings()
            .await
            .map(|settings| settings.offset_minutes)
            .unwrap_or(0);
        let (online, detail) = match &state.connectivity {
            Connectivity::Online => (true, String::new()),
            Connectivity::Starting => (false, "connecting…".to_owned()),
            Connectivity::Offline { .. } => (
                false,
                "selling offline: everything is kept and syncs when the internet is back"
                    .to_owned(),
            ),
            Connectivity::Refused(message) => (false, format!("the service refused: {message}")),
        };
        Ok(BannerView {
            online,
            unsynced_sales,
            unsynced_since: oldest
                .map(|at| nexus_domain::calendar::format_local_minute(at, offset)),
            quarantined: status.quarantined.len(),
            quarantine_detail: status
                .quarantined
                .iter()
                .map(|op| {
                    format!(
                        "#{}: {}",
                        op.seq,
                        op.message.as_deref().unwrap_or("refused")
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
            detail,
            cashier: cashier.map(|cashier| format!("{} ({})", cashier.name, cashier.role)),
        })
    }
}

/// Serves the cashier screen on `listener` and runs the sync worker (and the daily backup, when
/// it has a directory) beside it, until `shutdown` completes; then stops them (a sync in flight
/// finishes or is dropped whole; a backup in flight finishes).
pub async fn serve(
    station: Arc<Station>,
    clock: Arc<dyn Clock>,
    worker_settings: WorkerSettings,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let backups = worker_settings.backups.clone().map(|settings| {
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(crate::backup::run_daily(
            station.clone(),
            clock.clone(),
            settings,
            stopped,
        ));
        (stop, task)
    });
    let worker = SyncWorker::start(station.clone(), clock.clone(), worker_settings);
    let screen = ScreenState {
        station,
        clock,
        sessions: Arc::new(Mutex::new(HashMap::new())),
        worker: worker.state(),
        wake: worker.waker(),
    };
    let served = axum::serve(listener, router(screen))
        .with_graceful_shutdown(shutdown)
        .await;
    worker.stop().await;
    if let Some((stop, task)) = backups {
        let _ = stop.send(());
        let _ = task.await;
    }
    served
}

fn router(screen: ScreenState) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/healthz", get(|| async { "ok" }))
        .route("/banner", get(banner_fragment))
        .route(
            "/sign-in",
            get(sign_in::sign_in_page).post(sign_in::sign_in),
        )
        .route("/sign-out", post(sign_in::sign_out))
        .route("/scan", post(sale::scan))
        .route("/browse", get(browse::browse_page))
        .route("/cart/{index}/quantity", post(sale::set_quantity))
        .route("/cart/{index}/discount", post(sale::line_discount))
        .route("/cart/{index}/remove", post(sale::remove_line))
        .route("/cart/discount", post(sale::basket_discount))
        .route("/park", post(parked::park))
        .route("/parked", get(parked::parked_page))
        .route("/parked/{id}/resume", post(parked::resume))
        .route(
            "/customer",
            get(customer::customer_page).post(customer::create_customer),
        )
        .route("/customer/attach/{id}", post(customer::attach_customer))
        .route("/customer/{id}/account", get(customer::account_page))
        .route("/customer/{id}/pay", post(customer::take_payment))
        .route("/pay", get(pay::pay_page))
        .route("/pay/tender", post(pay::add_tender))
        .route("/pay/momo-check", get(pay::momo_check))
        .route("/pay/clear", post(pay::clear_tenders))
        .route(
            "/pay/momo-request",
            get(momo_request::waiting_page).post(momo_request::start),
        )
        .route("/pay/momo-request/stop", post(momo_request::stop))
        .route("/pay/complete", post(pay::complete))
        .route("/receipts/{id}", get(receipts::receipt_page))
        .route("/receipts/{id}/escpos", get(receipts::receipt_escpos))
        .route("/receipts/{id}/print", post(receipts::reprint))
        .route("/refund", get(refund::refund_page))
        .route("/refund/{id}", post(refund::refund))
        .route("/void/{id}", post(refund::void))
        .route("/shift", get(shift::shift_page))
        .route("/shift/open", post(shift::open_shift))
        .route("/shift/close", post(shift::close_shift))
        .route(
            "/settings",
            get(settings::settings_page).post(settings::save_settings),
        )
        .route("/settings/test-print", post(settings::test_print))
        .route("/stock", get(stock::stock_page))
        .route("/stock/receive", post(stock::receive))
        .route("/stock/count", post(stock::count))
        .route("/stock/transfer", post(stock::transfer))
        .route("/stock/orders/{id}/receive", post(stock::receive_order))
        .route("/assets/{name}", get(asset))
        .fallback(|| async {
            PageError::NotFound("The till has no such page. Go back to the sale.".to_owned())
        })
        .with_state(screen)
}

/// What a page handler can fail with. A cashier's mistake is shown on the page it came from;
/// this is for what is left: a missing sale, or the database failing.
enum PageError {
    NotFound(String),
    /// A request the till's own pages never send (a form or link altered by hand).
    Unreadable(String),
    Station(StationError),
    Render(askama::Error),
}

/// A failure of the till itself, as the cashier reads it.
const INSIDE_FAILURE: &str =
    "Something went wrong inside the till (it is logged). Nothing was lost: go back and try again.";

/// What the cashier sees when a page cannot be shown: what happened, and the way back.
#[derive(Template)]
#[template(path = "problem.html")]
struct ProblemTemplate<'a> {
    title: &'a str,
    message: &'a str,
}

/// The problem page with `status`; plain text should the page itself fail to draw.
fn problem(status: StatusCode, title: &str, message: &str) -> Response {
    match (ProblemTemplate { title, message }).render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            tracing::error!(%error, "cashier screen: problem page");
            (status, message.to_owned()).into_response()
        }
    }
}

impl From<StationError> for PageError {
    fn from(error: StationError) -> Self {
        PageError::Station(error)
    }
}

impl From<askama::Error> for PageError {
    fn from(error: askama::Error) -> Self {
        PageError::Render(error)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::NotFound(message) => problem(StatusCode::NOT_FOUND, "Not found", &message),
            PageError::Unreadable(message) => problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "The till could not read that",
                &message,
            ),
            PageError::Station(StationError::Invalid(message)) => problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "That cannot be done",
                &message,
            ),
            PageError::Station(error) => {
                // Logged once here; the cashier gets a message, not the internals.
                tracing::error!(%error, "cashier screen: station error");
                problem(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The till could not do that",
                    INSIDE_FAILURE,
                )
            }
            PageError::Render(error) => {
                tracing::error!(%error, "cashier screen: template");
                problem(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The page could not be drawn",
                    INSIDE_FAILURE,
                )
            }
        }
    }
}

type PageResult = Result<Response, PageError>;

fn page(template: &impl Template) -> PageResult {
    Ok(Html(template.render()?).into_response())
}

fn session_key(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
}

fn is_htmx(headers: &HeaderMap) -> bool {
    headers.contains_key("hx-request")
}

fn to_sign_in() -> Response {
    Redirect::to("/sign-in").into_response()
}

fn to(path: &str) -> Response {
    Redirect::to(path).into_response()
}

fn money(currency: Currency, minor: i64) -> String {
    format!("{currency} {}", currency.format_minor(minor))
}

/// What the cashier is told when the till cannot read what they typed as `what` ("the float",
/// "the discount"): what they typed, and how an amount is written.
fn amount_mistake(what: &str, currency: Currency, typed: &str) -> String {
    let example = if currency.exponent() == 0 {
        "500"
    } else {
        "12.50"
    };
    format!(
        "The till cannot read {:?} as {what}: type it in {currency} as digits, such as {example}.",
        typed.trim()
    )
}

/// What the cashier is told when the till cannot read a quantity they typed.
fn quantity_mistake(typed: &str) -> String {
    format!(
        "The till cannot read {:?} as a quantity: type digits, such as 2, or 1.5 for goods sold by weight.",
        typed.trim()
    )
}

fn message_of(error: &StationError) -> String {
    error.to_string()
}

struct BannerView {
    online: bool,
    unsynced_sales: i64,
    unsynced_since: Option<String>,
    quarantined: usize,
    quarantine_detail: String,
    detail: String,
    cashier: Option<String>,
}

#[derive(Template)]
#[template(path = "banner.html")]
struct BannerTemplate {
    banner: BannerView,
}

async fn home(State(screen): State<ScreenState>, headers: HeaderMap) -> PageResult {
    if screen.cashier(&headers).is_none() {
        return Ok(to_sign_in());
    }
    sale::cart_response(&screen, &headers, None, Vec::new()).await
}

async fn banner_fragment(State(screen): State<ScreenState>, headers: HeaderMap) -> PageResult {
    let cashier = screen.cashier(&headers);
    page(&BannerTemplate {
        banner: screen.banner(cashier.as_ref()).await?,
    })
}

/// The vendored front-end files, compiled into the binary: a till needs nothing from the
/// internet to draw its screen.
async fn asset(Path(name): Path<String>) -> Response {
    let (content_type, body): (&str, &'static [u8]) = match name.as_str() {
        "htmx.min.js" => (
            "text/javascript; charset=utf-8",
            include_bytes!("../../assets/htmx.min.js"),
        ),
        "pico.min.css" => (
            "text/css; charset=utf-8",
            include_bytes!("../../assets/pico.min.css"),
        ),
        "till.css" => (
            "text/css; charset=utf-8",
            include_bytes!("../../assets/till.css"),
        ),
        "till.js" => (
            "text/javascript; charset=utf-8",
            include_bytes!("../../assets/till.js"),
        ),
        _ => return (StatusCode::NOT_FOUND, "no such file").into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

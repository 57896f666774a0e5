//! The cashier screen, served by the station itself (`nexus pos serve`) to its own browser and
//! to phones and tablets on the shop's Wi-Fi. Pages are askama templates; htmx swaps the cart
//! and the banner in place. Every action goes to the local database only, so the screen sells
//! with the internet down; the sync worker runs beside it and the banner shows its state.
//!
//! Sessions live in this process's memory: a restart signs cashiers out and drops carts in
//! progress (never a committed sale). A session is a random cookie naming the signed-in
//! member of staff, their cart and the payments taken so far.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use nexus_domain::{Clock, Currency, Quantity};
use serde::Deserialize;
use tokio::sync::{Notify, watch};
use uuid::Uuid;

use crate::receipt::{Paper, escpos, text};
use crate::till::{Cart, SignedIn, TenderInput, TillSettings};
use crate::{Connectivity, Station, StationError, SyncWorker, WorkerSettings, WorkerState};

const SESSION_COOKIE: &str = "nexus_till";

struct Session {
    cashier: SignedIn,
    cart: Cart,
    tenders: Vec<TenderInput>,
    /// When the session was last used (Unix ms, the injected clock): idle ones are dropped.
    last_used_ms: i64,
}

/// A session unused this long is signed out (its cart is lost; no sale ever is), so a till
/// left signed in overnight asks for a PIN in the morning and memory stays bounded.
const SESSION_IDLE_MILLIS: i64 = 12 * 60 * 60 * 1000;

#[derive(Clone)]
struct Till {
    station: Arc<Station>,
    clock: Arc<dyn Clock>,
    sessions: Arc<Mutex<HashMap<String, Session>>>,
    worker: watch::Receiver<WorkerState>,
    wake: Arc<Notify>,
}

/// Serves the cashier screen on `listener` and runs the sync worker beside it, until
/// `shutdown` completes; then stops the worker (a sync in flight finishes or is dropped whole).
pub async fn serve(
    station: Arc<Station>,
    clock: Arc<dyn Clock>,
    worker_settings: WorkerSettings,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let worker = SyncWorker::start(station.clone(), clock.clone(), worker_settings);
    let till = Till {
        station,
        clock,
        sessions: Arc::new(Mutex::new(HashMap::new())),
        worker: worker.state(),
        wake: worker.waker(),
    };
    let served = axum::serve(listener, router(till))
        .with_graceful_shutdown(shutdown)
        .await;
    worker.stop().await;
    served
}

fn router(till: Till) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/healthz", get(|| async { "ok" }))
        .route("/banner", get(banner_fragment))
        .route("/sign-in", get(sign_in_page).post(sign_in))
        .route("/sign-out", post(sign_out))
        .route("/scan", post(scan))
        .route("/cart/{index}/quantity", post(set_quantity))
        .route("/cart/{index}/discount", post(line_discount))
        .route("/cart/{index}/remove", post(remove_line))
        .route("/cart/discount", post(basket_discount))
        .route("/park", post(park))
        .route("/parked", get(parked_page))
        .route("/parked/{id}/resume", post(resume))
        .route("/customer", get(customer_page).post(create_customer))
        .route("/customer/attach/{id}", post(attach_customer))
        .route("/pay", get(pay_page))
        .route("/pay/tender", post(add_tender))
        .route("/pay/clear", post(clear_tenders))
        .route("/pay/complete", post(complete))
        .route("/receipts/{id}", get(receipt_page))
        .route("/receipts/{id}/escpos", get(receipt_escpos))
        .route("/refund", get(refund_page))
        .route("/refund/{id}", post(refund))
        .route("/void/{id}", post(void))
        .route("/shift", get(shift_page))
        .route("/shift/open", post(open_shift))
        .route("/shift/close", post(close_shift))
        .route("/assets/{name}", get(asset))
        .fallback(|| async { (StatusCode::NOT_FOUND, "no such page") })
        .with_state(till)
}

// ----- errors --------------------------------------------------------------------------------

/// What a page handler can fail with. A cashier's mistake is shown on the page it came from;
/// this is for what is left: a missing sale, or the database failing.
enum PageError {
    NotFound(String),
    Station(StationError),
    Render(askama::Error),
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
            PageError::NotFound(message) => (StatusCode::NOT_FOUND, message).into_response(),
            PageError::Station(StationError::Invalid(message)) => {
                (StatusCode::UNPROCESSABLE_ENTITY, message).into_response()
            }
            PageError::Station(error) => {
                // Logged once here; the cashier gets a message, not the internals.
                tracing::error!(%error, "cashier screen: station error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the till could not do that (logged); nothing was lost: try again",
                )
                    .into_response()
            }
            PageError::Render(error) => {
                tracing::error!(%error, "cashier screen: template");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the page could not be drawn (logged)",
                )
                    .into_response()
            }
        }
    }
}

type PageResult = Result<Response, PageError>;

fn page(template: &impl Template) -> PageResult {
    Ok(Html(template.render()?).into_response())
}

// ----- sessions ------------------------------------------------------------------------------

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

impl Till {
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

/// How the screen names a tender kind of the shift figures.
fn tender_label(kind: &str) -> &str {
    match kind {
        "cash" => "Cash",
        "momo" => "Mobile money",
        "card" => "Card",
        other => other,
    }
}

fn message_of(error: &StationError) -> String {
    error.to_string()
}

// ----- views ---------------------------------------------------------------------------------

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

struct SuggestionView {
    sku: String,
    name: String,
    price: String,
}

struct LineView {
    index: usize,
    name: String,
    sku: String,
    quantity: String,
    price: String,
    amount: String,
    discount: String,
}

struct CartView {
    message: Option<String>,
    suggestions: Vec<SuggestionView>,
    customer: Option<String>,
    lines: Vec<LineView>,
    discount: String,
    levies: Vec<(String, String)>,
    total: String,
}

#[derive(Template)]
#[template(path = "cart.html")]
struct CartTemplate {
    view: CartView,
}

#[derive(Template)]
#[template(path = "sale.html")]
struct SaleTemplate {
    banner: BannerView,
    view: CartView,
}

fn cart_view(
    settings: &TillSettings,
    cart: &Cart,
    message: Option<String>,
    suggestions: Vec<SuggestionView>,
) -> CartView {
    let currency = settings.currency;
    let priced = Station::price(settings, cart);
    let (lines, totals) = match &priced {
        Ok(priced) => (priced.lines.clone(), Some(priced.totals.clone())),
        Err(_) => (Vec::new(), None),
    };
    CartView {
        message: message.or_else(|| priced.as_ref().err().map(message_of)),
        suggestions,
        customer: cart.customer.as_ref().map(|customer| customer.name.clone()),
        lines: cart
            .lines
            .iter()
            .enumerate()
            .map(|(index, line)| LineView {
                index,
                name: line.product.name.clone(),
                sku: line.product.sku.clone(),
                quantity: line.quantity.to_string(),
                price: currency.format_minor(line.product.price_minor),
                amount: lines
                    .get(index)
                    .map(|tax| currency.format_minor(tax.total_minor))
                    .unwrap_or_default(),
                discount: if line.discount_minor == 0 {
                    String::new()
                } else {
                    format!("-{}", currency.format_minor(line.discount_minor))
                },
            })
            .collect(),
        discount: totals
            .as_ref()
            .filter(|totals| totals.discount_minor != 0)
            .map(|totals| format!("-{}", currency.format_minor(totals.discount_minor)))
            .unwrap_or_default(),
        levies: totals
            .as_ref()
            .map(|totals| {
                totals
                    .levies
                    .iter()
                    .map(|(code, amount)| {
                        let name = settings
                            .tax
                            .levies
                            .iter()
                            .find(|levy| &levy.code == code)
                            .map_or_else(|| code.clone(), |levy| levy.name.clone());
                        (format!("incl. {name}"), currency.format_minor(*amount))
                    })
                    .collect()
            })
            .unwrap_or_default(),
        total: money(currency, totals.map_or(0, |totals| totals.total_minor)),
    }
}

/// The cart as a fragment (for htmx) or the whole sale page.
async fn cart_response(
    till: &Till,
    headers: &HeaderMap,
    message: Option<String>,
    suggestions: Vec<SuggestionView>,
) -> PageResult {
    let Some((cashier, cart)) = till.with_session(headers, |session| {
        (session.cashier.clone(), session.cart.clone())
    }) else {
        return Ok(to_sign_in());
    };
    let settings = till.station.till_settings().await?;
    let view = cart_view(&settings, &cart, message, suggestions);
    if is_htmx(headers) {
        return page(&CartTemplate { view });
    }
    page(&SaleTemplate {
        banner: till.banner(Some(&cashier)).await?,
        view,
    })
}

// ----- pages and actions ---------------------------------------------------------------------

async fn home(State(till): State<Till>, headers: HeaderMap) -> PageResult {
    if till.cashier(&headers).is_none() {
        return Ok(to_sign_in());
    }
    cart_response(&till, &headers, None, Vec::new()).await
}

async fn banner_fragment(State(till): State<Till>, headers: HeaderMap) -> PageResult {
    let cashier = till.cashier(&headers);
    page(&BannerTemplate {
        banner: till.banner(cashier.as_ref()).await?,
    })
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInTemplate {
    banner: BannerView,
    staff: Vec<SignedIn>,
    error: Option<String>,
}

async fn sign_in_page(State(till): State<Till>) -> PageResult {
    page(&SignInTemplate {
        banner: till.banner(None).await?,
        staff: till.station.till_staff().await?,
        error: None,
    })
}

#[derive(Deserialize)]
struct SignInForm {
    staff_id: Option<String>,
    #[serde(default)]
    pin: String,
}

async fn sign_in(State(till): State<Till>, Form(form): Form<SignInForm>) -> PageResult {
    let staff = form
        .staff_id
        .as_deref()
        .filter(|id| !id.is_empty())
        .and_then(|id| id.parse::<Uuid>().ok());
    match till
        .station
        .sign_in(till.clock.as_ref(), staff, form.pin.trim())
        .await
    {
        Ok(cashier) => {
            let key = Uuid::new_v4().simple().to_string();
            let now = till.clock.now().as_millis();
            let mut sessions = till
                .sessions
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            sessions.retain(|_, session| now - session.last_used_ms <= SESSION_IDLE_MILLIS);
            sessions.insert(
                key.clone(),
                Session {
                    cashier,
                    cart: Cart::default(),
                    tenders: Vec::new(),
                    last_used_ms: now,
                },
            );
            drop(sessions);
            let mut response = Redirect::to("/").into_response();
            if let Ok(cookie) = HeaderValue::from_str(&format!(
                "{SESSION_COOKIE}={key}; Path=/; HttpOnly; SameSite=Strict"
            )) {
                response.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            Ok(response)
        }
        Err(
            error @ (StationError::WrongPin { .. }
            | StationError::PinLocked { .. }
            | StationError::Invalid(_)),
        ) => {
            let mut response = page(&SignInTemplate {
                banner: till.banner(None).await?,
                staff: till.station.till_staff().await?,
                error: Some(message_of(&error)),
            })?;
            *response.status_mut() = StatusCode::UNAUTHORIZED;
            Ok(response)
        }
        Err(error) => Err(error.into()),
    }
}

async fn sign_out(State(till): State<Till>, headers: HeaderMap) -> Response {
    if let Some(key) = session_key(&headers) {
        till.sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&key);
    }
    to_sign_in()
}

#[derive(Deserialize)]
struct ScanForm {
    #[serde(default)]
    code: String,
}

/// A scan or a typed SKU adds the product; anything else searches names and offers matches.
async fn scan(
    State(till): State<Till>,
    headers: HeaderMap,
    Form(form): Form<ScanForm>,
) -> PageResult {
    let Some(mut cart) = till.cart(&headers) else {
        return Ok(to_sign_in());
    };
    let code = form.code.trim();
    if code.is_empty() {
        return cart_response(&till, &headers, None, Vec::new()).await;
    }
    // "3*RICE" or "3 x RICE" rings up three at once, as tills do.
    let (quantity, code) = match code.split_once(['*', 'x', 'X']) {
        Some((count, rest)) if count.trim().parse::<Quantity>().is_ok() => (
            count
                .trim()
                .parse::<Quantity>()
                .unwrap_or(Quantity::from_milli(1000)),
            rest.trim(),
        ),
        _ => (Quantity::from_milli(1000), code),
    };
    let mut message = None;
    let mut suggestions = Vec::new();
    match till.station.find_product(code).await? {
        Some(product) => {
            if let Err(error) = cart.add(product, quantity) {
                message = Some(message_of(&error));
            }
        }
        None => {
            let settings = till.station.till_settings().await?;
            let found = till.station.search_products(code, 8).await?;
            match found.as_slice() {
                [only] => {
                    if let Err(error) = cart.add(only.clone(), quantity) {
                        message = Some(message_of(&error));
                    }
                }
                [] => message = Some(format!("nothing matches {code:?}")),
                several => {
                    suggestions = several
                        .iter()
                        .map(|product| SuggestionView {
                            sku: product.sku.clone(),
                            name: product.name.clone(),
                            price: money(settings.currency, product.price_minor),
                        })
                        .collect();
                }
            }
        }
    }
    till.with_session(&headers, |session| session.cart = cart);
    cart_response(&till, &headers, message, suggestions).await
}

#[derive(Deserialize)]
struct QuantityForm {
    #[serde(default)]
    quantity: String,
}

async fn set_quantity(
    State(till): State<Till>,
    headers: HeaderMap,
    Path(index): Path<usize>,
    Form(form): Form<QuantityForm>,
) -> PageResult {
    let outcome = match form.quantity.trim().parse::<Quantity>() {
        Ok(quantity) => till.with_session(&headers, |session| {
            session.cart.set_quantity(index, quantity)
        }),
        Err(error) => Some(Err(StationError::Invalid(format!("quantity: {error}")))),
    };
    cart_after(&till, &headers, outcome).await
}

async fn cart_after(
    till: &Till,
    headers: &HeaderMap,
    outcome: Option<Result<(), StationError>>,
) -> PageResult {
    match outcome {
        None => Ok(to_sign_in()),
        Some(Ok(())) => cart_response(till, headers, None, Vec::new()).await,
        Some(Err(error)) => {
            cart_response(till, headers, Some(message_of(&error)), Vec::new()).await
        }
    }
}

#[derive(Deserialize)]
struct AmountForm {
    #[serde(default)]
    amount: String,
}

async fn line_discount(
    State(till): State<Till>,
    headers: HeaderMap,
    Path(index): Path<usize>,
    Form(form): Form<AmountForm>,
) -> PageResult {
    let settings = till.station.till_settings().await?;
    let outcome = match settings.currency.parse_major(&form.amount) {
        Ok(minor) => till.with_session(&headers, |session| {
            let role = session.cashier.role;
            session
                .cart
                .set_line_discount(role, settings.currency, index, minor)
        }),
        Err(error) => Some(Err(StationError::Invalid(format!("discount: {error}")))),
    };
    cart_after(&till, &headers, outcome).await
}

async fn basket_discount(
    State(till): State<Till>,
    headers: HeaderMap,
    Form(form): Form<AmountForm>,
) -> PageResult {
    let settings = till.station.till_settings().await?;
    let outcome = match settings.currency.parse_major(&form.amount) {
        Ok(minor) => till.with_session(&headers, |session| {
            let role = session.cashier.role;
            session.cart.set_discount(role, settings.currency, minor)
        }),
        Err(error) => Some(Err(StationError::Invalid(format!("discount: {error}")))),
    };
    cart_after(&till, &headers, outcome).await
}

async fn remove_line(
    State(till): State<Till>,
    headers: HeaderMap,
    Path(index): Path<usize>,
) -> PageResult {
    let outcome = till.with_session(&headers, |session| session.cart.remove(index).map(|_| ()));
    cart_after(&till, &headers, outcome).await
}

async fn park(State(till): State<Till>, headers: HeaderMap) -> PageResult {
    let Some((cashier, cart)) = till.with_session(&headers, |session| {
        (session.cashier.clone(), session.cart.clone())
    }) else {
        return Ok(to_sign_in());
    };
    match till
        .station
        .park(till.clock.as_ref(), &cashier, &cart)
        .await
    {
        Ok(_) => {
            till.with_session(&headers, |session| {
                session.cart = Cart::default();
                session.tenders.clear();
            });
            Ok(to("/"))
        }
        Err(StationError::Invalid(message)) => {
            cart_response(&till, &headers, Some(message), Vec::new()).await
        }
        Err(error) => Err(error.into()),
    }
}

#[derive(Template)]
#[template(path = "parked.html")]
struct ParkedTemplate {
    banner: BannerView,
    /// (id, label, parked at)
    parked: Vec<(Uuid, String, String)>,
}

async fn parked_page(State(till): State<Till>, headers: HeaderMap) -> PageResult {
    let Some(cashier) = till.cashier(&headers) else {
        return Ok(to_sign_in());
    };
    let offset = till.station.till_settings().await?.offset_minutes;
    let parked = till
        .station
        .parked()
        .await?
        .into_iter()
        .map(|cart| {
            (
                cart.id,
                cart.label,
                nexus_domain::calendar::format_local_minute(cart.parked_at, offset),
            )
        })
        .collect();
    page(&ParkedTemplate {
        banner: till.banner(Some(&cashier)).await?,
        parked,
    })
}

async fn resume(State(till): State<Till>, headers: HeaderMap, Path(id): Path<Uuid>) -> PageResult {
    let Some(current) = till.cart(&headers) else {
        return Ok(to_sign_in());
    };
    if !current.is_empty() {
        return cart_response(
            &till,
            &headers,
            Some("park or finish the cart on screen before resuming another".to_owned()),
            Vec::new(),
        )
        .await;
    }
    match till.station.resume(id).await {
        Ok(cart) => {
            till.with_session(&headers, |session| session.cart = cart);
            Ok(to("/"))
        }
        Err(StationError::Invalid(message)) => {
            cart_response(&till, &headers, Some(message), Vec::new()).await
        }
        Err(error) => Err(error.into()),
    }
}

#[derive(Template)]
#[template(path = "customer.html")]
struct CustomerTemplate {
    banner: BannerView,
    error: Option<String>,
    query: String,
    found: Vec<crate::Customer>,
}

#[derive(Deserialize)]
struct CustomerQuery {
    #[serde(default)]
    q: String,
}

async fn customer_page(
    State(till): State<Till>,
    headers: HeaderMap,
    Query(query): Query<CustomerQuery>,
) -> PageResult {
    let Some(cashier) = till.cashier(&headers) else {
        return Ok(to_sign_in());
    };
    let found = if query.q.trim().is_empty() {
        Vec::new()
    } else {
        till.station.search_customers(&query.q, 10).await?
    };
    page(&CustomerTemplate {
        banner: till.banner(Some(&cashier)).await?,
        error: None,
        query: query.q,
        found,
    })
}

#[derive(Deserialize)]
struct CustomerForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
}

async fn create_customer(
    State(till): State<Till>,
    headers: HeaderMap,
    Form(form): Form<CustomerForm>,
) -> PageResult {
    let Some(cashier) = till.cashier(&headers) else {
        return Ok(to_sign_in());
    };
    let phone = Some(form.phone.as_str()).filter(|phone| !phone.trim().is_empty());
    match till
        .station
        .create_customer(till.clock.as_ref(), &cashier, &form.name, phone)
        .await
    {
        Ok(customer) => {
            till.with_session(&headers, |session| session.cart.customer = Some(customer));
            Ok(to("/"))
        }
        Err(StationError::Invalid(message)) => page(&CustomerTemplate {
            banner: till.banner(Some(&cashier)).await?,
            error: Some(message),
            query: String::new(),
            found: Vec::new(),
        }),
        Err(error) => Err(error.into()),
    }
}

async fn attach_customer(
    State(till): State<Till>,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
) -> PageResult {
    let Some(customer) = till.station.customer(id).await? else {
        return Err(PageError::NotFound("no such customer here".to_owned()));
    };
    match till.with_session(&headers, |session| session.cart.customer = Some(customer)) {
        Some(()) => Ok(to("/")),
        None => Ok(to_sign_in()),
    }
}

struct PayView {
    currency: Currency,
    total: String,
    tenders: Vec<(String, String)>,
    paid: String,
    remaining_minor: i64,
    remaining: String,
    remaining_plain: String,
    change_minor: i64,
    change: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "pay.html")]
struct PayTemplate {
    banner: BannerView,
    pay: PayView,
}

async fn pay_response(till: &Till, headers: &HeaderMap, error: Option<String>) -> PageResult {
    let Some((cashier, cart, tenders)) = till.with_session(headers, |session| {
        (
            session.cashier.clone(),
            session.cart.clone(),
            session.tenders.clone(),
        )
    }) else {
        return Ok(to_sign_in());
    };
    if cart.is_empty() {
        return Ok(to("/"));
    }
    let settings = till.station.till_settings().await?;
    let currency = settings.currency;
    let total = Station::price(&settings, &cart)?.totals.total_minor;
    let paid: i64 = tenders.iter().map(TenderInput::amount_minor).sum();
    let remaining = (total - paid).max(0);
    let tender_rows = tenders
        .iter()
        .map(|tender| {
            let label = match tender {
                TenderInput::Cash { .. } => "Cash".to_owned(),
                TenderInput::Momo {
                    network, reference, ..
                } => format!("Mobile money ({network}, txn {reference}, unverified)"),
                TenderInput::Card { reference, .. } => format!("Card (ref {reference})"),
            };
            (label, money(currency, tender.amount_minor()))
        })
        .collect();
    page(&PayTemplate {
        banner: till.banner(Some(&cashier)).await?,
        pay: PayView {
            currency,
            total: money(currency, total),
            tenders: tender_rows,
            paid: money(currency, paid),
            remaining_minor: remaining,
            remaining: money(currency, remaining),
            remaining_plain: if remaining > 0 {
                currency.format_minor(remaining)
            } else {
                String::new()
            },
            change_minor: (paid - total).max(0),
            change: money(currency, (paid - total).max(0)),
            error,
        },
    })
}

async fn pay_page(State(till): State<Till>, headers: HeaderMap) -> PageResult {
    pay_response(&till, &headers, None).await
}

#[derive(Deserialize)]
struct TenderForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    network: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    card_reference: String,
}

async fn add_tender(
    State(till): State<Till>,
    headers: HeaderMap,
    Form(form): Form<TenderForm>,
) -> PageResult {
    let currency = till.station.till_settings().await?.currency;
    let amount_minor = match currency.parse_major(&form.amount) {
        Ok(amount) if amount > 0 => amount,
        Ok(_) => {
            return pay_response(
                &till,
                &headers,
                Some("enter an amount above zero".to_owned()),
            )
            .await;
        }
        Err(error) => return pay_response(&till, &headers, Some(format!("amount: {error}"))).await,
    };
    let tender = match form.kind.as_str() {
        "cash" => TenderInput::Cash { amount_minor },
        "momo" => TenderInput::Momo {
            amount_minor,
            network: form.network,
            phone: form.phone,
            reference: form.reference,
        },
        "card" => TenderInput::Card {
            amount_minor,
            reference: form.card_reference,
        },
        other => {
            return pay_response(
                &till,
                &headers,
                Some(format!("{other:?} is not a way to pay")),
            )
            .await;
        }
    };
    if let Err(error) = tender.validate() {
        return pay_response(&till, &headers, Some(message_of(&error))).await;
    }
    if till
        .with_session(&headers, |session| session.tenders.push(tender))
        .is_none()
    {
        return Ok(to_sign_in());
    }
    Ok(to("/pay"))
}

async fn clear_tenders(State(till): State<Till>, headers: HeaderMap) -> Response {
    match till.with_session(&headers, |session| session.tenders.clear()) {
        Some(()) => to("/pay"),
        None => to_sign_in(),
    }
}

async fn complete(State(till): State<Till>, headers: HeaderMap) -> PageResult {
    let Some((cashier, cart, tenders)) = till.with_session(&headers, |session| {
        (
            session.cashier.clone(),
            session.cart.clone(),
            session.tenders.clone(),
        )
    }) else {
        return Ok(to_sign_in());
    };
    match till
        .station
        .checkout(till.clock.as_ref(), &cashier, &cart, &tenders)
        .await
    {
        Ok(sale) => {
            till.with_session(&headers, |session| {
                session.cart = Cart::default();
                session.tenders.clear();
            });
            till.wake.notify_one();
            let warnings = if sale.warnings.is_empty() {
                String::new()
            } else {
                format!("&warn={}", sale.warnings.len())
            };
            Ok(to(&format!("/receipts/{}?new=1{warnings}", sale.id)))
        }
        Err(StationError::Invalid(message)) => pay_response(&till, &headers, Some(message)).await,
        Err(error) => Err(error.into()),
    }
}

#[derive(Template)]
#[template(path = "receipt.html")]
struct ReceiptTemplate {
    id: Uuid,
    number: String,
    width_mm: u32,
    text: String,
    warnings: Vec<String>,
}

#[derive(Deserialize)]
struct ReceiptQuery {
    paper: Option<String>,
}

fn paper_of(query: &ReceiptQuery) -> Paper {
    query
        .paper
        .as_deref()
        .and_then(Paper::parse)
        .unwrap_or(Paper::Mm80)
}

/// Receipt `id` of this station, for a signed-in caller (`None`: nobody is signed in).
async fn signed_in_receipt(
    till: &Till,
    headers: &HeaderMap,
    id: Uuid,
) -> Result<Option<crate::till::LocalRecord>, PageError> {
    if till.cashier(headers).is_none() {
        return Ok(None);
    }
    till.station
        .local_sale(id)
        .await?
        .map(Some)
        .ok_or_else(|| PageError::NotFound("no such receipt at this station".to_owned()))
}

async fn receipt_page(
    State(till): State<Till>,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Query(query): Query<ReceiptQuery>,
) -> PageResult {
    let Some(record) = signed_in_receipt(&till, &headers, id).await? else {
        return Ok(to_sign_in());
    };
    let paper = paper_of(&query);
    let warnings = till.station.momo_warnings(&record).await?;
    page(&ReceiptTemplate {
        id,
        number: record.receipt.receipt_number.clone(),
        width_mm: match paper {
            Paper::Mm80 => 80,
            Paper::Mm58 => 58,
        },
        text: text(&record.receipt, paper),
        warnings,
    })
}

async fn receipt_escpos(
    State(till): State<Till>,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Query(query): Query<ReceiptQuery>,
) -> PageResult {
    let Some(record) = signed_in_receipt(&till, &headers, id).await? else {
        return Ok(to_sign_in());
    };
    let bytes = escpos(&record.receipt, paper_of(&query));
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"{}.escpos\"",
                    record.receipt.receipt_number
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}

struct RefundLineView {
    line_no: i32,
    name: String,
    sold: String,
    returned: String,
}

struct RefundSaleView {
    id: Uuid,
    number: String,
    total: String,
    lines: Vec<RefundLineView>,
}

#[derive(Template)]
#[template(path = "refund.html")]
struct RefundTemplate {
    banner: BannerView,
    error: Option<String>,
    receipt_query: String,
    sale: Option<RefundSaleView>,
}

#[derive(Deserialize)]
struct RefundQuery {
    #[serde(default)]
    receipt: String,
}

async fn refund_response(
    till: &Till,
    cashier: &SignedIn,
    receipt_query: &str,
    error: Option<String>,
) -> PageResult {
    let mut error = error;
    let mut sale = None;
    if !receipt_query.trim().is_empty() {
        match till.station.sale_by_receipt(receipt_query).await? {
            Some(record) if record.kind == "sale" => {
                let returned = till.station.returned_lines(record.id).await?;
                let currency = record.receipt.currency;
                sale = Some(RefundSaleView {
                    id: record.id,
                    number: record.receipt.receipt_number.clone(),
                    total: money(currency, record.receipt.total_minor),
                    lines: record
                        .receipt
                        .lines
                        .iter()
                        .map(|line| RefundLineView {
                            line_no: line.line_no,
                            name: line.name.clone(),
                            sold: line.quantity.to_string(),
                            returned: Quantity::from_milli(
                                returned.get(&line.line_no).copied().unwrap_or(0),
                            )
                            .to_string(),
                        })
                        .collect(),
                });
            }
            Some(_) => error = error.or(Some("that receipt is a refund or void".to_owned())),
            None => {
                error = error.or(Some(format!(
                    "no sale with receipt {:?} at this station",
                    receipt_query.trim()
                )));
            }
        }
    }
    page(&RefundTemplate {
        banner: till.banner(Some(cashier)).await?,
        error,
        receipt_query: receipt_query.to_owned(),
        sale,
    })
}

async fn refund_page(
    State(till): State<Till>,
    headers: HeaderMap,
    Query(query): Query<RefundQuery>,
) -> PageResult {
    let Some(cashier) = till.cashier(&headers) else {
        return Ok(to_sign_in());
    };
    refund_response(&till, &cashier, &query.receipt, None).await
}

async fn refund(
    State(till): State<Till>,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Form(form): Form<BTreeMap<String, String>>,
) -> PageResult {
    let Some(cashier) = till.cashier(&headers) else {
        return Ok(to_sign_in());
    };
    let receipt_number = till
        .station
        .local_sale(id)
        .await?
        .map(|record| record.receipt.receipt_number)
        .unwrap_or_default();
    let mut lines = Vec::new();
    for (name, value) in &form {
        let Some(line_no) = name.strip_prefix("line_") else {
            continue;
        };
        if value.trim().is_empty() {
            continue;
        }
        let line_no: i32 = match line_no.parse() {
            Ok(line_no) => line_no,
            Err(_) => continue,
        };
        match value.trim().parse::<Quantity>() {
            Ok(quantity) => lines.push((line_no, quantity)),
            Err(error) => {
                return refund_response(
                    &till,
                    &cashier,
                    &receipt_number,
                    Some(format!("line {line_no}: {error}")),
                )
                .await;
            }
        }
    }
    let tender = form.get("tender").map_or("cash", String::as_str);
    let reason = form.get("reason").map(String::as_str);
    match till
        .station
        .refund(till.clock.as_ref(), &cashier, id, &lines, tender, reason)
        .await
    {
        Ok(done) => {
            till.wake.notify_one();
            Ok(to(&format!("/receipts/{}", done.id)))
        }
        Err(StationError::Invalid(message)) => {
            refund_response(&till, &cashier, &receipt_number, Some(message)).await
        }
        Err(error) => Err(error.into()),
    }
}

#[derive(Deserialize)]
struct VoidForm {
    #[serde(default)]
    reason: String,
}

async fn void(
    State(till): State<Till>,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Form(form): Form<VoidForm>,
) -> PageResult {
    let Some(cashier) = till.cashier(&headers) else {
        return Ok(to_sign_in());
    };
    match till
        .station
        .void(till.clock.as_ref(), &cashier, id, &form.reason)
        .await
    {
        Ok(done) => {
            till.wake.notify_one();
            Ok(to(&format!("/receipts/{}", done.id)))
        }
        Err(StationError::Invalid(message)) => {
            let receipt_number = till
                .station
                .local_sale(id)
                .await?
                .map(|record| record.receipt.receipt_number)
                .unwrap_or_default();
            refund_response(&till, &cashier, &receipt_number, Some(message)).await
        }
        Err(error) => Err(error.into()),
    }
}

/// (tender, expected, counted, difference, difference in minor units).
type CloseRow = (String, String, String, String, i64);

#[derive(Template)]
#[template(path = "shift.html")]
struct ShiftTemplate {
    banner: BannerView,
    error: Option<String>,
    currency: Currency,
    /// (opened at, float) of the open shift.
    open: Option<(String, String)>,
    expected: Vec<(String, String)>,
    /// The figures after a close.
    closed: Option<Vec<CloseRow>>,
}

async fn shift_response(
    till: &Till,
    cashier: &SignedIn,
    error: Option<String>,
    closed: Option<&crate::Shift>,
) -> PageResult {
    let settings = till.station.till_settings().await?;
    let currency = settings.currency;
    let open = till.station.open_shift_of(cashier.id).await?;
    let expected = match &open {
        Some(shift) => till
            .station
            .expected_for_shift(shift)
            .await?
            .into_iter()
            .map(|(tender, amount)| (tender_label(&tender).to_owned(), money(currency, amount)))
            .collect(),
        None => Vec::new(),
    };
    page(&ShiftTemplate {
        banner: till.banner(Some(cashier)).await?,
        error,
        currency,
        open: open.map(|shift| {
            (
                nexus_domain::calendar::format_local_minute(
                    shift.opened_at,
                    settings.offset_minutes,
                ),
                money(currency, shift.float_minor),
            )
        }),
        expected,
        closed: closed.map(|shift| {
            shift
                .tenders
                .iter()
                .map(|count| {
                    (
                        tender_label(&count.tender).to_owned(),
                        money(currency, count.expected_minor),
                        money(currency, count.counted_minor),
                        money(currency, count.difference_minor),
                        count.difference_minor,
                    )
                })
                .collect()
        }),
    })
}

async fn shift_page(State(till): State<Till>, headers: HeaderMap) -> PageResult {
    let Some(cashier) = till.cashier(&headers) else {
        return Ok(to_sign_in());
    };
    shift_response(&till, &cashier, None, None).await
}

#[derive(Deserialize)]
struct OpenShiftForm {
    #[serde(default)]
    float: String,
}

async fn open_shift(
    State(till): State<Till>,
    headers: HeaderMap,
    Form(form): Form<OpenShiftForm>,
) -> PageResult {
    let Some(cashier) = till.cashier(&headers) else {
        return Ok(to_sign_in());
    };
    let currency = till.station.till_settings().await?.currency;
    let float = if form.float.trim().is_empty() {
        Ok(0)
    } else {
        currency.parse_major(&form.float)
    };
    let outcome = match float {
        Ok(float) => till
            .station
            .open_shift(till.clock.as_ref(), &cashier, float)
            .await
            .map(|_| ()),
        Err(error) => Err(StationError::Invalid(format!("float: {error}"))),
    };
    match outcome {
        Ok(()) => {
            till.wake.notify_one();
            Ok(to("/"))
        }
        Err(StationError::Invalid(message)) => {
            shift_response(&till, &cashier, Some(message), None).await
        }
        Err(error) => Err(error.into()),
    }
}

#[derive(Deserialize)]
struct CloseShiftForm {
    #[serde(default)]
    cash: String,
    #[serde(default)]
    momo: String,
    #[serde(default)]
    card: String,
}

async fn close_shift(
    State(till): State<Till>,
    headers: HeaderMap,
    Form(form): Form<CloseShiftForm>,
) -> PageResult {
    let Some(cashier) = till.cashier(&headers) else {
        return Ok(to_sign_in());
    };
    let currency = till.station.till_settings().await?.currency;
    let mut counted = BTreeMap::new();
    for (tender, text) in [
        ("cash", &form.cash),
        ("momo", &form.momo),
        ("card", &form.card),
    ] {
        let amount = if text.trim().is_empty() {
            Ok(0)
        } else {
            currency.parse_major(text)
        };
        match amount {
            Ok(amount) => {
                counted.insert(tender.to_owned(), amount);
            }
            Err(error) => {
                return shift_response(&till, &cashier, Some(format!("{tender}: {error}")), None)
                    .await;
            }
        }
    }
    match till
        .station
        .close_shift(till.clock.as_ref(), &cashier, &counted)
        .await
    {
        Ok(shift) => {
            till.wake.notify_one();
            shift_response(&till, &cashier, None, Some(&shift)).await
        }
        Err(StationError::Invalid(message)) => {
            shift_response(&till, &cashier, Some(message), None).await
        }
        Err(error) => Err(error.into()),
    }
}

/// The vendored front-end files, compiled into the binary: a till needs nothing from the
/// internet to draw its screen.
async fn asset(Path(name): Path<String>) -> Response {
    let (content_type, body): (&str, &'static [u8]) = match name.as_str() {
        "htmx.min.js" => (
            "text/javascript; charset=utf-8",
            include_bytes!("../assets/htmx.min.js"),
        ),
        "pico.min.css" => (
            "text/css; charset=utf-8",
            include_bytes!("../assets/pico.min.css"),
        ),
        "till.css" => (
            "text/css; charset=utf-8",
            include_bytes!("../assets/till.css"),
        ),
        "till.js" => (
            "text/javascript; charset=utf-8",
            include_bytes!("../assets/till.js"),
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

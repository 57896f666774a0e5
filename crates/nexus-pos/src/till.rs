//! Selling at the station: PIN sign-in, the cart, tenders, receipt numbers, refunds and voids,
//! shifts and customers. Everything here reads and writes the local database only, so a till
//! sells end to end with no network; each write commits with its op in one transaction.

use std::collections::BTreeMap;

use nexus_domain::limits::{check_price, check_shift_count};
use nexus_domain::roles::may_return_sale;
use nexus_domain::tender::check_coverage;
use nexus_domain::values::optional_reason;
use nexus_domain::{
    BranchId, Clock, Currency, LineInput, ProductId, Quantity, ReceiptNumber, ReceiptPrefix,
    ReturnError, Returning, Role, SaleId, TaxClass, TaxRules, Tender, TenderError, TenderKind,
    UnixMillis, UserId, price_return,
};
use nexus_sync::{
    CustomerOp, NewSale, NewSaleLine, NewTender, ReturnKind, ReturnLine, ReturnOp, SaleOp,
    SettingsRecord, ShiftCloseOp, ShiftOpenOp, ShiftTenderCount, StaffRecord,
};
use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use uuid::Uuid;

use crate::receipt::{Receipt, ReceiptLevy, ReceiptLine, ReceiptTender};
use crate::{Station, StationError, StationResult};

/// Wrong PINs in a row before that cashier (or, for PIN-only sign-in, the till) is locked.
pub const PIN_FAILURES_BEFORE_LOCK: i64 = 5;
/// How long a lock lasts. Short enough not to close a till for the day, long enough to make
/// guessing a 4-digit PIN take weeks.
pub const PIN_LOCK_MILLIS: i64 = 5 * 60 * 1000;
/// The key PIN-only sign-in failures are counted under.
const ANYONE: &str = "*";

/// The member of staff signed in at the till, as the last sync described them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
}

/// A product as the till finds it (by barcode, SKU or name).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TillProduct {
    pub id: Uuid,
    pub sku: String,
    pub barcode: Option<String>,
    pub name: String,
    pub price_minor: i64,
    pub tax_class: TaxClass,
}

/// A basket being rung up. It lives in memory (or parked in the database) until checkout.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cart {
    pub lines: Vec<CartLine>,
    /// A discount on the whole basket, in minor units, after the line discounts.
    pub discount_minor: i64,
    pub customer: Option<Customer>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    pub product: TillProduct,
    pub quantity: Quantity,
    pub discount_minor: i64,
}

impl CartLine {
    fn gross_minor(&self) -> StationResult<i64> {
        nexus_domain::quantity::line_amount(self.product.price_minor, self.quantity)
            .ok_or_else(|| invalid("that line's amount is too large"))
    }
}

impl Cart {
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Adds `quantity` of `product`: to its line when it is already in the cart (a second scan
    /// of the same barcode means two of it), else as a new line.
    pub fn add(&mut self, product: TillProduct, quantity: Quantity) -> StationResult<()> {
        if !quantity.is_positive() {
            return Err(invalid("the quantity must be more than zero"));
        }
        if let Some(line) = self
            .lines
            .iter_mut()
            .find(|line| line.product.id == product.id)
        {
            line.quantity = line
                .quantity
                .checked_add(quantity)
                .ok_or_else(|| invalid("that quantity is too large"))?;
            return Ok(());
        }
        self.lines.push(CartLine {
            product,
            quantity,
            discount_minor: 0,
        });
        Ok(())
    }

    fn line_mut(&mut self, index: usize) -> StationResult<&mut CartLine> {
        let count = self.lines.len();
        self.lines.get_mut(index).ok_or_else(|| {
            invalid(format!(
                "there is no line {} (the cart has {count})",
                index + 1
            ))
        })
    }

    /// Sets a line's quantity; a line discount larger than the new amount is taken back.
    pub fn set_quantity(&mut self, index: usize, quantity: Quantity) -> StationResult<()> {
        if !quantity.is_positive() {
            return Err(invalid(
                "the quantity must be more than zero; remove the line instead",
            ));
        }
        let line = self.line_mut(index)?;
        line.quantity = quantity;
        let gross = line.gross_minor()?;
        line.discount_minor = line.discount_minor.min(gross);
        Ok(())
    }

    pub fn remove(&mut self, index: usize) -> StationResult<CartLine> {
        self.line_mut(index)?;
        Ok(self.lines.remove(index))
    }

    /// A discount on one line, within what `role` may give (see `Role::max_discount_minor`).
    pub fn set_line_discount(
        &mut self,
        role: Role,
        currency: Currency,
        index: usize,
        discount_minor: i64,
    ) -> StationResult<()> {
        let line = self.line_mut(index)?;
        let gross = line.gross_minor()?;
        check_discount(role, currency, discount_minor, gross)?;
        line.discount_minor = discount_minor;
        Ok(())
    }

    /// A discount on the whole basket, within what `role` may give on what is left after the
    /// line discounts.
    pub fn set_discount(
        &mut self,
        role: Role,
        currency: Currency,
        discount_minor: i64,
    ) -> StationResult<()> {
        let mut after_lines = 0_i64;
        for line in &self.lines {
            after_lines += line.gross_minor()? - line.discount_minor;
        }
        check_discount(role, currency, discount_minor, after_lines)?;
        self.discount_minor = discount_minor;
        Ok(())
    }
}

fn check_discount(
    role: Role,
    currency: Currency,
    discount_minor: i64,
    amount_minor: i64,
) -> StationResult<()> {
    if discount_minor < 0 {
        return Err(invalid("a discount cannot be negative"));
    }
    if discount_minor > amount_minor {
        return Err(invalid(format!(
            "a discount of {} is more than the {} it applies to",
            currency.format_minor(discount_minor),
            currency.format_minor(amount_minor)
        )));
    }
    if !role.may_discount(discount_minor, amount_minor) {
        return Err(invalid(format!(
            "a {role} may give at most {} % off ({} of {}); ask a manager",
            role.max_discount_basis_points() / 100,
            currency.format_minor(role.max_discount_minor(amount_minor)),
            currency.format_minor(amount_minor)
        )));
    }
    Ok(())
}

/// A customer known at this station.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub id: Uuid,
    pub name: String,
    pub phone: Option<String>,
}

/// How a customer pays, as the cashier enters it. Amounts in minor units.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TenderInput {
    Cash {
        amount_minor: i64,
    },
    /// Mobile money taken offline: recorded unverified, with the payer's number and the
    /// transaction id from the confirmation SMS.
    Momo {
        amount_minor: i64,
        network: String,
        phone: String,
        reference: String,
    },
    /// A card on an external terminal; the terminal's reference ties the two together.
    Card {
        amount_minor: i64,
        reference: String,
    },
}

impl TenderInput {
    pub fn amount_minor(&self) -> i64 {
        match self {
            TenderInput::Cash { amount_minor }
            | TenderInput::Momo { amount_minor, .. }
            | TenderInput::Card { amount_minor, .. } => *amount_minor,
        }
    }

    /// Checks the tender as the server will (amount, network, phone, reference).
    pub fn validate(&self) -> StationResult<()> {
        self.checked().map(|_| ())
    }

    /// Checks the tender by the rules the server holds the sale to.
    fn checked(&self) -> StationResult<Tender> {
        let (kind, network, phone, reference) = match self {
            TenderInput::Cash { .. } => (TenderKind::Cash, None, None, None),
            TenderInput::Momo {
                network,
                phone,
                reference,
                ..
            } => (
                TenderKind::Momo,
                Some(network.as_str()),
                Some(phone.as_str()),
                Some(reference.as_str()),
            ),
            TenderInput::Card { reference, .. } => {
                (TenderKind::Card, None, None, Some(reference.as_str()))
            }
        };
        Tender::parse(
            kind.as_str(),
            self.amount_minor(),
            network,
            phone,
            reference,
        )
        .map_err(|refused| invalid(refused.to_string()))
    }
}

/// What a committed sale, refund or void gives back to the till.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Committed {
    pub id: Uuid,
    pub receipt_number: String,
    pub total_minor: i64,
    pub change_minor: i64,
    /// Worth telling the cashier but not worth refusing the sale for (a mobile money
    /// transaction id seen before, say).
    pub warnings: Vec<String>,
    pub receipt: Receipt,
}

/// The figures of one tender at a shift's close.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenderCount {
    /// "cash", "momo" or "card".
    pub tender: String,
    pub expected_minor: i64,
    pub counted_minor: i64,
    /// Counted less expected: negative is a shortage.
    pub difference_minor: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shift {
    pub id: Uuid,
    pub cashier_id: Uuid,
    pub opened_at: i64,
    pub float_minor: i64,
    pub closed_at: Option<i64>,
    pub tenders: Vec<TenderCount>,
}

/// A parked cart, waiting to be resumed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parked {
    pub id: Uuid,
    pub cashier_id: Uuid,
    pub parked_at: i64,
    pub label: String,
    pub cart: Cart,
}

/// The shop's settings as the till needs them.
#[derive(Clone, Debug)]
pub struct TillSettings {
    pub currency: Currency,
    pub tax: TaxRules,
    pub offset_minutes: i64,
}

/// A cart priced by the tenant's tax rules, line by line, as the receipt will show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Priced {
    pub lines: Vec<nexus_domain::LineTax>,
    pub totals: nexus_domain::SaleTotals,
}

pub(crate) fn invalid(message: impl Into<String>) -> StationError {
    StationError::Invalid(message.into())
}

fn parse_uuid(text: &str, what: &str) -> StationResult<Uuid> {
    text.parse()
        .map_err(|_| invalid(format!("a stored {what} is not a UUID")))
}

fn product_from_row(row: &sqlx::sqlite::SqliteRow) -> StationResult<TillProduct> {
    let tax_class: String = row.try_get("tax_class")?;
    Ok(TillProduct {
        id: parse_uuid(&row.try_get::<String, _>("id")?, "product id")?,
        sku: row.try_get("sku")?,
        barcode: row.try_get("barcode")?,
        name: row.try_get("name")?,
        price_minor: row.try_get("price_minor")?,
        tax_class: tax_class
            .parse()
            .map_err(|_| invalid(format!("a stored tax class {tax_class:?}")))?,
    })
}

const PRODUCT_COLUMNS: &str = "id, sku, barcode, name, price_minor, tax_class";

/// A search key for names: lower case, so a prefix search can use the index.
pub(crate) fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Who this station is, read in one query: what a receipt and an op need.
struct Identity {
    branch_id: BranchId,
    device: Uuid,
    branch_label: String,
    station_label: String,
    /// The fixed part of this station's receipt numbers.
    receipt_prefix: ReceiptPrefix,
}

async fn identity_on(connection: &mut sqlx::SqliteConnection) -> StationResult<Identity> {
    let rows = sqlx::query(
        "SELECT key, value FROM meta WHERE key IN ('branch_id', 'station_id', 'branch_name', 'station_name')",
    )
    .fetch_all(&mut *connection)
    .await?;
    let mut values = BTreeMap::new();
    for row in &rows {
        values.insert(
            row.try_get::<String, _>("key")?,
            row.try_get::<String, _>("value")?,
        );
    }
    let value = |key: &str| values.get(key).cloned().unwrap_or_default();
    let station_id = values
        .get("station_id")
        .cloned()
        .ok_or(StationError::NotEnrolled)?;
    let branch_id = values
        .get("branch_id")
        .cloned()
        .ok_or(StationError::NotEnrolled)?;
    let label = |key: &str, fallback: &str| {
        Some(value(key))
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| fallback.to_owned())
    };
    Ok(Identity {
        device: Station::device(&station_id)?,
        receipt_prefix: ReceiptPrefix::from_names(
            &value("branch_name"),
            &value("station_name"),
            &station_id,
        ),
        branch_label: label("branch_name", "Nexus"),
        station_label: label("station_name", "Station"),
        branch_id: branch_id
            .parse()
            .map_err(|_| invalid("the stored branch id is not a UUID"))?,
    })
}

/// The cashier's open shift here, if any: what a sale or a return joins.
async fn open_shift_id_on(
    connection: &mut sqlx::SqliteConnection,
    cashier: Uuid,
) -> StationResult<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM shifts WHERE cashier_id = $1 AND closed_at IS NULL")
            .bind(cashier.to_string())
            .fetch_optional(&mut *connection)
            .await?,
    )
}

async fn local_sale_on(
    connection: &mut sqlx::SqliteConnection,
    id: Uuid,
) -> StationResult<Option<LocalRecord>> {
    let row =
        sqlx::query("SELECT id, kind, refers_to, cashier_id, receipt FROM sales WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut *connection)
            .await?;
    row.as_ref().map(local_record_from_row).transpose()
}

/// Per line of `sale`, the thousandths already returned by refunds and voids here.
async fn returned_so_far_on(
    connection: &mut sqlx::SqliteConnection,
    sale: Uuid,
) -> StationResult<BTreeMap<i32, i64>> {
    let rows = sqlx::query(
        "SELECT line_no, SUM(quantity_milli) AS returned FROM returned_lines WHERE sale_id = $1 GROUP BY line_no",
    )
    .bind(sale.to_string())
    .fetch_all(&mut *connection)
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("line_no")?, row.try_get("returned")?)))
        .collect()
}

async fn till_settings_on(connection: &mut sqlx::SqliteConnection) -> StationResult<TillSettings> {
    let settings: SettingsRecord = crate::replica_record_on(connection, &Uuid::nil().to_string())
        .await?
        .ok_or_else(|| invalid("no settings yet: sync once while online (`nexus pos sync`)"))?;
    Ok(TillSettings {
        currency: settings.currency,
        offset_minutes: nexus_domain::calendar::zone_offset_minutes(&settings.time_zone)
            .unwrap_or(0),
        tax: settings.tax,
    })
}

impl Station {
    /// The tenant's currency, tax rules and time zone, as last pulled.
    pub async fn till_settings(&self) -> StationResult<TillSettings> {
        let mut connection = self.pool.acquire().await?;
        till_settings_on(&mut connection).await
    }

    /// Sales (not other ops) not yet acknowledged by the server, and when the oldest was
    /// written: what the cashier screen's banner shows.
    pub async fn unsynced_sales(&self) -> StationResult<(i64, Option<i64>)> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS count, MIN(created_at) AS oldest FROM outbox WHERE status = 'pending' AND entity = 'sale'",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok((row.try_get("count")?, row.try_get("oldest")?))
    }

    // ----- sign-in -------------------------------------------------------------------------

    /// Signs a member of staff in with their PIN, checked against the PIN hashes synced down,
    /// so it works offline. With `staff` the PIN is checked for that person; without, against
    /// everyone at the branch (the PIN says who it is). Each run of
    /// [`PIN_FAILURES_BEFORE_LOCK`] wrong PINs locks that person (or PIN-only sign-in) for
    /// [`PIN_LOCK_MILLIS`].
    pub async fn sign_in(
        &self,
        clock: &dyn Clock,
        staff: Option<Uuid>,
        pin: &str,
    ) -> StationResult<SignedIn> {
        let now = clock.now().as_millis();
        let key = staff.map_or_else(|| ANYONE.to_owned(), |id| id.to_string());
        let row =
            sqlx::query("SELECT failures, locked_until FROM pin_attempts WHERE staff_key = $1")
                .bind(&key)
                .fetch_optional(&self.pool)
                .await?;
        let (failures, locked_until) = match &row {
            Some(row) => (
                row.try_get::<i64, _>("failures")?,
                row.try_get::<Option<i64>, _>("locked_until")?,
            ),
            None => (0, None),
        };
        if let Some(until) = locked_until.filter(|until| *until > now) {
            return Err(StationError::PinLocked {
                retry_after_seconds: (until - now + 999) / 1000,
            });
        }
        let candidates: Vec<StaffRecord> = match staff {
            Some(id) => self
                .replica_record(&id.to_string())
                .await?
                .into_iter()
                .collect(),
            None => self.replica_records().await?,
        };
        let candidates: Vec<StaffRecord> = candidates
            .into_iter()
            .filter(StaffRecord::signs_in_at_tills)
            .collect();
        let matched = verify_pins(pin, &candidates).await?;
        if matched.len() > 1 {
            return Err(invalid(
                "more than one person has that PIN here: choose your name first",
            ));
        }
        let Some(member) = matched.into_iter().next() else {
            let failures = if locked_until.is_some() {
                1
            } else {
                failures + 1
            };
            let lock = (failures >= PIN_FAILURES_BEFORE_LOCK).then_some(now + PIN_LOCK_MILLIS);
            sqlx::query(
                "INSERT INTO pin_attempts (staff_key, failures, locked_until) VALUES ($1, $2, $3) \
                 ON CONFLICT (staff_key) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until",
            )
            .bind(&key)
            .bind(if lock.is_some() { 0 } else { failures })
            .bind(lock)
            .execute(&self.pool)
            .await?;
            return Err(match lock {
                Some(_) => StationError::PinLocked {
                    retry_after_seconds: PIN_LOCK_MILLIS / 1000,
                },
                None => StationError::WrongPin {
                    attempts_left: PIN_FAILURES_BEFORE_LOCK - failures,
                },
            });
        };
        sqlx::query("DELETE FROM pin_attempts WHERE staff_key = $1")
            .bind(&key)
            .execute(&self.pool)
            .await?;
        Ok(signed_in_from(&member))
    }

    /// An active member of this branch's staff by id, without a PIN: for scripts and support
    /// at the station itself (whoever runs them already holds the station's database).
    pub async fn staff_member(&self, id: Uuid) -> StationResult<SignedIn> {
        match self.replica_record::<StaffRecord>(&id.to_string()).await? {
            Some(member) if member.active => Ok(signed_in_from(&member)),
            _ => Err(invalid(format!(
                "{id} is not active staff of this branch (as of the last sync)"
            ))),
        }
    }

    /// Staff of this branch who can sign in at the till (active, with a PIN), by name.
    pub async fn till_staff(&self) -> StationResult<Vec<SignedIn>> {
        let mut staff: Vec<SignedIn> = self
            .replica_records::<StaffRecord>()
            .await?
            .iter()
            .filter(|member| member.signs_in_at_tills())
            .map(signed_in_from)
            .collect();
        staff.sort_by(|left, right| left.name.cmp(&right.name));
        Ok(staff)
    }

    // ----- catalogue -----------------------------------------------------------------------

    /// The product with this barcode or SKU (barcode first: that is what a scanner types).
    pub async fn find_product(&self, code: &str) -> StationResult<Option<TillProduct>> {
        let code = code.trim();
        let sql = format!(
            "SELECT {PRODUCT_COLUMNS} FROM products WHERE archived = 0 AND barcode = $1 \
             UNION ALL SELECT {PRODUCT_COLUMNS} FROM products WHERE archived = 0 AND sku = $2 LIMIT 1"
        );
        let row = sqlx::query(&sql)
            .bind(code)
            .bind(code.to_uppercase())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(product_from_row).transpose()
    }

    /// Products whose barcode or SKU is `query`, then those whose name starts with it, by name.
    pub async fn search_products(
        &self,
        query: &str,
        limit: u32,
    ) -> StationResult<Vec<TillProduct>> {
        let query = query.trim();
        if query.is_empty() {
            return Ok(Vec::new());
        }
        let mut found: Vec<TillProduct> = self.find_product(query).await?.into_iter().collect();
        // A prefix range on the lower-cased name uses the index; `\u{10ffff}` sorts after any
        // character a name can hold.
        let start = name_key(query);
        let end = format!("{start}\u{10ffff}");
        let sql = format!(
            "SELECT {PRODUCT_COLUMNS} FROM products WHERE archived = 0 AND name_key >= $1 AND name_key < $2 \
             ORDER BY name_key LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(&start)
            .bind(&end)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        for row in &rows {
            let product = product_from_row(row)?;
            if !found.iter().any(|known| known.id == product.id) {
                found.push(product);
            }
        }
        found.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(found)
    }

    /// Every product on sale at this station, by SKU.
    pub async fn search_products_all(&self) -> StationResult<Vec<TillProduct>> {
        let sql = format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE archived = 0 ORDER BY sku");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(product_from_row).collect()
    }

    /// Adds the product with this barcode or SKU to `cart`.
    pub async fn add_to_cart(
        &self,
        cart: &mut Cart,
        code: &str,
        quantity: Quantity,
    ) -> StationResult<TillProduct> {
        let product = self.find_product(code).await?.ok_or_else(|| {
            invalid(format!(
                "no product has the barcode or SKU {:?} (as of the last sync)",
                code.trim()
            ))
        })?;
        cart.add(product.clone(), quantity)?;
        Ok(product)
    }

    /// The cart's amounts under the tenant's tax rules.
    pub fn price(settings: &TillSettings, cart: &Cart) -> StationResult<Priced> {
        let inputs: Vec<LineInput> = cart
            .lines
            .iter()
            .map(|line| LineInput {
                unit_price_minor: line.product.price_minor,
                quantity: line.quantity,
                discount_minor: line.discount_minor,
                tax_class: line.product.tax_class,
            })
            .collect();
        let (lines, totals) =
            nexus_domain::compute_sale(&settings.tax, &inputs, cart.discount_minor)
                .map_err(|error| invalid(error.to_string()))?;
        Ok(Priced { lines, totals })
    }

    // ----- checkout ------------------------------------------------------------------------

    /// Commits a sale: prices the cart, checks the tenders, numbers the receipt and writes the
    /// sale, its tenders and its op in one transaction. No network is involved. The sale joins
    /// the cashier's open shift, if any.
    pub async fn checkout(
        &self,
        clock: &dyn Clock,
        cashier: &SignedIn,
        cart: &Cart,
        tenders: &[TenderInput],
    ) -> StationResult<Committed> {
        if cart.is_empty() {
            return Err(invalid("the cart is empty"));
        }
        if tenders.is_empty() {
            return Err(invalid("take a payment first"));
        }
        // Every read and write below happens in one transaction that takes the write lock at
        // its start (IMMEDIATE): a second process on this database (`nexus pos sell` beside
        // `nexus pos serve`) waits its turn instead of failing half-way, and the sale is
        // numbered and priced from what this transaction sees. On the pool's one connection,
        // each statement is a short hop, not a pool round trip.
        let mut transaction = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let settings = till_settings_on(&mut transaction).await?;
        // The discounts were checked as they were given; check again, as the server will, in
        // case the cart was parked by someone with a larger allowance.
        let mut after_lines = 0_i64;
        for line in &cart.lines {
            let gross = line.gross_minor()?;
            check_discount(cashier.role, settings.currency, line.discount_minor, gross)?;
            after_lines += gross - line.discount_minor;
        }
        check_discount(
            cashier.role,
            settings.currency,
            cart.discount_minor,
            after_lines,
        )?;
        let priced = Self::price(&settings, cart)?;
        let total = priced.totals.total_minor;
        let checked: Vec<Tender> = tenders
            .iter()
            .map(TenderInput::checked)
            .collect::<StationResult<_>>()?;
        let change = match check_coverage(settings.currency, &checked, total) {
            Ok(coverage) => coverage.change_minor,
            // The cashier is told what is still due rather than what was short.
            Err(TenderError::NotCovered {
                currency,
                tendered_minor,
                total_minor,
            }) => {
                return Err(invalid(format!(
                    "{currency} {} paid of {currency} {}: {currency} {} still due",
                    currency.format_minor(tendered_minor),
                    currency.format_minor(total_minor),
                    currency.format_minor(total_minor - tendered_minor)
                )));
            }
            Err(refused) => return Err(invalid(refused.to_string())),
        };
        let tenders: Vec<ReceiptTender> = checked.iter().map(ReceiptTender::from).collect();
        let mut warnings = Vec::new();
        for tender in tenders.iter().filter(|tender| tender.kind == "momo") {
            let reference = tender.reference.as_deref().unwrap_or("");
            let seen: Option<String> = sqlx::query_scalar(
                "SELECT sales.receipt_number FROM tenders JOIN sales ON sales.id = tenders.sale_id \
                 WHERE tenders.kind = 'momo' AND tenders.reference = $1 LIMIT 1",
            )
            .bind(reference)
            .fetch_optional(&mut *transaction)
            .await?;
            if let Some(receipt) = seen {
                warnings.push(format!(
                    "mobile money transaction {reference} was already used on receipt {receipt}: check the SMS"
                ));
            }
        }
        let now = clock.now();
        let sale_id = nexus_domain::ids::new_v7(now);
        let identity = identity_on(&mut transaction).await?;
        let (branch, device) = (identity.branch_id, identity.device);
        let lines: Vec<ReceiptLine> = cart
            .lines
            .iter()
            .zip(&priced.lines)
            .enumerate()
            .map(|(index, (line, tax))| ReceiptLine {
                line_no: i32::try_from(index + 1).unwrap_or(i32::MAX),
                product_id: line.product.id,
                sku: line.product.sku.clone(),
                name: line.product.name.clone(),
                quantity: line.quantity,
                unit_price_minor: line.product.price_minor,
                gross_minor: tax.gross_minor,
                discount_minor: tax.discount_minor,
                net_minor: tax.net_minor,
                tax_minor: tax.tax_minor,
                total_minor: tax.total_minor,
                levies: tax.levies.clone(),
            })
            .collect();
        let receipt_number =
            Self::next_receipt_number(&mut transaction, &identity.receipt_prefix).await?;
        let shift_id = open_shift_id_on(&mut transaction, cashier.id).await?;
        let payload = SaleOp {
            cashier_id: UserId::from_uuid(cashier.id),
            shift_id: shift_id
                .as_deref()
                .map(|shift| parse_uuid(shift, "shift id"))
                .transpose()?,
            customer_id: cart.customer.as_ref().map(|customer| customer.id),
            sale: NewSale {
                id: SaleId::from_uuid(sale_id),
                branch_id: branch,
                occurred_at: Some(now.as_millis()),
                device_id: Some(device),
                receipt_number: Some(receipt_number.clone()),
                lines: cart
                    .lines
                    .iter()
                    .map(|line| NewSaleLine {
                        product_id: ProductId::from_uuid(line.product.id),
                        quantity: line.quantity,
                        unit_price_minor: Some(line.product.price_minor),
                        discount_minor: Some(line.discount_minor),
                    })
                    .collect(),
                discount_minor: Some(cart.discount_minor),
                tenders: checked.iter().map(NewTender::from).collect(),
            },
        };
        let receipt = Receipt {
            title: "SALE".to_owned(),
            branch: identity.branch_label,
            station: identity.station_label,
            receipt_number: receipt_number.clone(),
            refers_to_receipt: None,
            printed_at: nexus_domain::calendar::format_local_minute(
                now.as_millis(),
                settings.offset_minutes,
            ),
            cashier: cashier.name.clone(),
            customer: cart.customer.as_ref().map(|customer| customer.name.clone()),
            currency: settings.currency,
            price_mode: settings.tax.mode,
            lines,
            gross_minor: priced.totals.gross_minor,
            discount_minor: priced.totals.discount_minor,
            net_minor: priced.totals.net_minor,
            tax_minor: priced.totals.tax_minor,
            total_minor: total,
            levies: receipt_levies(&settings.tax, &priced.totals.levies),
            tenders: tenders.clone(),
            change_minor: change,
            reason: None,
        };
        self.insert_local_sale(
            &mut transaction,
            LocalSale {
                id: sale_id,
                kind: "sale",
                refers_to: None,
                cashier: cashier.id,
                shift: shift_id.as_deref(),
                customer: cart.customer.as_ref().map(|customer| customer.id),
                occurred_at: now,
                change_minor: change,
                receipt: &receipt,
            },
        )
        .await?;
        Self::append_op(&mut transaction, device, now, sale_id, &payload).await?;
        transaction.commit().await?;
        Ok(Committed {
            id: sale_id,
            receipt_number,
            total_minor: total,
            change_minor: change,
            warnings,
            receipt,
        })
    }

    /// The next number of this station's gap-free receipt sequence, taken inside the
    /// transaction that commits the document, so a crash leaves no gap and no number is used
    /// twice. Needs no network: the station's own counter is the authority.
    async fn next_receipt_number(
        transaction: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        prefix: &ReceiptPrefix,
    ) -> StationResult<String> {
        let last: Option<String> =
            sqlx::query_scalar("SELECT value FROM meta WHERE key = 'receipt_seq'")
                .fetch_optional(&mut **transaction)
                .await?;
        let last = match last {
            Some(text) => text.parse::<u64>().map_err(|_| {
                invalid(format!(
                    "the stored receipt counter {text:?} is not a number"
                ))
            })?,
            None => 0,
        };
        let next = last + 1;
        sqlx::query("INSERT INTO meta (key, value) VALUES ('receipt_seq', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(next.to_string())
            .execute(&mut **transaction)
            .await?;
        Ok(prefix.number(next).to_string())
    }

    async fn insert_local_sale(
        &self,
        transaction: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        sale: LocalSale<'_>,
    ) -> StationResult<()> {
        let receipt_json = serde_json::to_string(sale.receipt)
            .map_err(|error| invalid(format!("receipt: {error}")))?;
        sqlx::query(
            "INSERT INTO sales (id, receipt_number, kind, refers_to, cashier_id, shift_id, customer_id, \
             occurred_at, total_minor, change_minor, receipt) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(sale.id.to_string())
        .bind(&sale.receipt.receipt_number)
        .bind(sale.kind)
        .bind(sale.refers_to.map(|id| id.to_string()))
        .bind(sale.cashier.to_string())
        .bind(sale.shift)
        .bind(sale.customer.map(|id| id.to_string()))
        .bind(sale.occurred_at.as_millis())
        .bind(sale.receipt.total_minor)
        .bind(sale.change_minor)
        .bind(receipt_json)
        .execute(&mut **transaction)
        .await?;
        for (position, tender) in sale.receipt.tenders.iter().enumerate() {
            sqlx::query(
                "INSERT INTO tenders (sale_id, position, kind, amount_minor, network, phone, reference, shift_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(sale.id.to_string())
            .bind(i64::try_from(position).unwrap_or(i64::MAX))
            .bind(&tender.kind)
            .bind(tender.amount_minor)
            .bind(&tender.network)
            .bind(&tender.phone)
            .bind(&tender.reference)
            .bind(sale.shift)
            .execute(&mut **transaction)
            .await?;
        }
        Ok(())
    }

    /// A sale, refund or void this station recorded, with its receipt.
    pub async fn local_sale(&self, id: Uuid) -> StationResult<Option<LocalRecord>> {
        let mut connection = self.pool.acquire().await?;
        local_sale_on(&mut connection, id).await
    }

    /// The sale with this receipt number, for a refund at the counter.
    pub async fn sale_by_receipt(
        &self,
        receipt_number: &str,
    ) -> StationResult<Option<LocalRecord>> {
        let Ok(number) = receipt_number.parse::<ReceiptNumber>() else {
            return Ok(None);
        };
        let row = sqlx::query(
            "SELECT id, kind, refers_to, cashier_id, receipt FROM sales WHERE receipt_number = $1",
        )
        .bind(number.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(local_record_from_row).transpose()
    }

    /// The latest documents this station recorded, newest first.
    pub async fn recent_sales(&self, limit: u32) -> StationResult<Vec<LocalRecord>> {
        let rows = sqlx::query(
            "SELECT id, kind, refers_to, cashier_id, receipt FROM sales ORDER BY occurred_at DESC, id DESC LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(local_record_from_row).collect()
    }

    // ----- refunds and voids ---------------------------------------------------------------

    /// How much of each line of `sale` has been returned already (thousandths).
    pub async fn returned_lines(&self, sale: Uuid) -> StationResult<BTreeMap<i32, i64>> {
        let mut connection = self.pool.acquire().await?;
        returned_so_far_on(&mut connection, sale).await
    }

    /// For a receipt on screen: its mobile money transaction ids that another sale here used
    /// too (the same SMS shown twice is the classic mistake, or the classic fraud).
    pub async fn momo_warnings(&self, record: &LocalRecord) -> StationResult<Vec<String>> {
        let mut warnings = Vec::new();
        for tender in record
            .receipt
            .tenders
            .iter()
            .filter(|tender| tender.kind == "momo")
        {
            let reference = tender.reference.as_deref().unwrap_or("");
            let others: Vec<String> = sqlx::query_scalar(
                "SELECT sales.receipt_number FROM tenders JOIN sales ON sales.id = tenders.sale_id \
                 WHERE tenders.kind = 'momo' AND tenders.reference = $1 AND tenders.sale_id <> $2 \
                 ORDER BY sales.occurred_at",
            )
            .bind(reference)
            .bind(record.id.to_string())
            .fetch_all(&self.pool)
            .await?;
            if !others.is_empty() {
                warnings.push(format!(
                    "mobile money transaction {reference} also appears on receipt {}: check the SMS",
                    others.join(", ")
                ));
            }
        }
        Ok(warnings)
    }

    /// Returns part or all of a sale this station recorded: `lines` are (line number,
    /// quantity). The money back is each line's proportional share, priced as the server
    /// prices it, so steps add up exactly to what was paid. `tender` is how the money goes
    /// back: "cash" (the default at the counter), or the sale's own "momo" or "card".
    pub async fn refund(
        &self,
        clock: &dyn Clock,
        cashier: &SignedIn,
        sale_id: Uuid,
        lines: &[(i32, Quantity)],
        tender: &str,
        reason: Option<&str>,
    ) -> StationResult<Committed> {
        if lines.is_empty() {
            return Err(invalid("choose at least one line to refund"));
        }
        let tender: TenderKind = tender
            .parse()
            .map_err(|_| invalid("money goes back as cash, momo or card"))?;
        self.record_return(clock, cashier, sale_id, Some(lines), tender, reason)
            .await
    }

    /// Cancels everything not yet returned of a sale, with a reason; the money goes back the
    /// way it was paid in cash.
    pub async fn void(
        &self,
        clock: &dyn Clock,
        cashier: &SignedIn,
        sale_id: Uuid,
        reason: &str,
    ) -> StationResult<Committed> {
        if reason.trim().is_empty() {
            return Err(invalid("a void needs a reason"));
        }
        self.record_return(
            clock,
            cashier,
            sale_id,
            None,
            TenderKind::Cash,
            Some(reason),
        )
        .await
    }

    async fn record_return(
        &self,
        clock: &dyn Clock,
        cashier: &SignedIn,
        sale_id: Uuid,
        lines: Option<&[(i32, Quantity)]>,
        tender: TenderKind,
        reason: Option<&str>,
    ) -> StationResult<Committed> {
        // One IMMEDIATE transaction from the first read to the commit: two returns of the same
        // sale (two tills' screens, or a script beside the screen) take turns, and the second
        // sees what the first gave back, so nothing is refunded twice.
        let mut transaction = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let original = local_sale_on(&mut transaction, sale_id).await?.ok_or_else(|| {
            invalid("this station has no such sale; refund it at the station that sold it, or from the dashboard")
        })?;
        if original.kind != "sale" {
            return Err(invalid("that is already a refund or void"));
        }
        may_return_sale(
            cashier.role,
            UserId::from_uuid(cashier.id),
            UserId::from_uuid(original.cashier_id),
        )
        .map_err(|refused| invalid(refused.to_string()))?;
        let reason = optional_reason(reason).map_err(|refused| invalid(refused.to_string()))?;
        let kind = if lines.is_some() { "refund" } else { "void" };
        let returned: BTreeMap<i32, Quantity> = returned_so_far_on(&mut transaction, sale_id)
            .await?
            .into_iter()
            .map(|(line_no, milli)| (line_no, Quantity::from_milli(milli)))
            .collect();
        let sold = &original.receipt;
        let returning = match lines {
            Some(lines) => Returning::Lines(lines),
            None => Returning::Everything,
        };
        let priced = price_return(&sold.lines, &returned, returning).map_err(|refused| {
            match refused {
                // At the counter the line is named as the receipt shows it.
                ReturnError::TooMuch {
                    line_no,
                    sold: sold_quantity,
                    returned_before,
                    requested,
                } => {
                    let name = sold
                        .lines
                        .iter()
                        .find(|line| line.line_no == line_no)
                        .map_or("", |line| line.name.as_str());
                    invalid(format!(
                        "line {line_no} ({name}): {sold_quantity} sold, {returned_before} already returned; cannot return {requested}"
                    ))
                }
                other => invalid(other.to_string()),
            }
        })?;
        let mut receipt_lines = Vec::with_capacity(priced.lines.len());
        for (index, returned) in priced.lines.iter().enumerate() {
            let line = sold
                .lines
                .iter()
                .find(|line| line.line_no == returned.line_no)
                .ok_or_else(|| invalid(format!("the sale has no line {}", returned.line_no)))?;
            receipt_lines.push(ReceiptLine {
                line_no: i32::try_from(index + 1).unwrap_or(i32::MAX),
                product_id: line.product_id,
                sku: line.sku.clone(),
                name: line.name.clone(),
                quantity: returned.quantity,
                unit_price_minor: line.unit_price_minor,
                gross_minor: returned.amounts.gross_minor,
                discount_minor: returned.amounts.discount_minor,
                net_minor: returned.amounts.net_minor,
                tax_minor: returned.amounts.tax_minor,
                total_minor: returned.amounts.total_minor,
                levies: returned.amounts.levies.clone(),
            });
        }
        let settings = till_settings_on(&mut transaction).await?;
        let total = priced.totals.total_minor;
        let now = clock.now();
        let return_id = nexus_domain::ids::new_v7(now);
        let identity = identity_on(&mut transaction).await?;
        let device = identity.device;
        let receipt_number =
            Self::next_receipt_number(&mut transaction, &identity.receipt_prefix).await?;
        let shift_id = open_shift_id_on(&mut transaction, cashier.id).await?;
        let receipt = Receipt {
            title: kind.to_uppercase(),
            branch: sold.branch.clone(),
            station: sold.station.clone(),
            receipt_number: receipt_number.clone(),
            refers_to_receipt: Some(sold.receipt_number.clone()),
            printed_at: nexus_domain::calendar::format_local_minute(
                now.as_millis(),
                settings.offset_minutes,
            ),
            cashier: cashier.name.clone(),
            customer: sold.customer.clone(),
            currency: sold.currency,
            price_mode: sold.price_mode,
            gross_minor: priced.totals.gross_minor,
            discount_minor: priced.totals.discount_minor,
            net_minor: priced.totals.net_minor,
            tax_minor: priced.totals.tax_minor,
            total_minor: total,
            levies: receipt_levies(&settings.tax, &priced.totals.levies),
            lines: receipt_lines,
            tenders: vec![ReceiptTender {
                kind: tender.as_str().to_owned(),
                amount_minor: total,
                network: None,
                phone: None,
                reference: None,
            }],
            change_minor: 0,
            reason: reason.clone(),
        };
        self.insert_local_sale(
            &mut transaction,
            LocalSale {
                id: return_id,
                kind,
                refers_to: Some(sale_id),
                cashier: cashier.id,
                shift: shift_id.as_deref(),
                customer: None,
                occurred_at: now,
                change_minor: 0,
                receipt: &receipt,
            },
        )
        .await?;
        for (index, returned) in priced.lines.iter().enumerate() {
            sqlx::query(
                "INSERT INTO returned_lines (return_id, sale_id, line_no, quantity_milli, product_id, position) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(return_id.to_string())
            .bind(sale_id.to_string())
            .bind(returned.line_no)
            .bind(-returned.quantity.milli())
            .bind(receipt.lines[index].product_id.to_string())
            .bind(i64::try_from(index).unwrap_or(0))
            .execute(&mut *transaction)
            .await?;
        }
        let void = lines.is_none();
        let payload = ReturnOp {
            cashier_id: UserId::from_uuid(cashier.id),
            sale_id: SaleId::from_uuid(sale_id),
            kind: if void {
                ReturnKind::Void
            } else {
                ReturnKind::Refund
            },
            // A void names no lines: the server returns whatever is left, as this till did.
            lines: if void {
                Vec::new()
            } else {
                priced
                    .lines
                    .iter()
                    .map(|returned| ReturnLine {
                        line_no: returned.line_no,
                        quantity: Quantity::from_milli(-returned.quantity.milli()),
                    })
                    .collect()
            },
            reason,
            tender: (!void).then_some(tender),
            occurred_at: now.as_millis(),
            receipt_number: Some(receipt_number.clone()),
        };
        Self::append_op(&mut transaction, device, now, return_id, &payload).await?;
        transaction.commit().await?;
        Ok(Committed {
            id: return_id,
            receipt_number,
            // Money back, as a positive amount.
            total_minor: -total,
            change_minor: 0,
            warnings: Vec::new(),
            receipt,
        })
    }

    // ----- shifts --------------------------------------------------------------------------

    /// The cashier's open shift at this station, if any.
    pub async fn open_shift_of(&self, cashier: Uuid) -> StationResult<Option<Shift>> {
        let row = sqlx::query(
            "SELECT id, cashier_id, opened_at, float_minor, closed_at, close FROM shifts \
             WHERE cashier_id = $1 AND closed_at IS NULL",
        )
        .bind(cashier.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(shift_from_row).transpose()
    }

    /// Opens a shift with `float_minor` of cash in the drawer.
    pub async fn open_shift(
        &self,
        clock: &dyn Clock,
        cashier: &SignedIn,
        float_minor: i64,
    ) -> StationResult<Shift> {
        check_price(float_minor, "float_minor")
            .map_err(|_| invalid("the float must be zero or more"))?;
        if self.open_shift_of(cashier.id).await?.is_some() {
            return Err(invalid(format!(
                "{} already has an open shift here; close it first",
                cashier.name
            )));
        }
        let now = clock.now();
        let id = nexus_domain::ids::new_v7(now);
        let device = Self::device(&self.required("station_id").await?)?;
        let mut transaction = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO shifts (id, cashier_id, opened_at, float_minor) VALUES ($1, $2, $3, $4)",
        )
        .bind(id.to_string())
        .bind(cashier.id.to_string())
        .bind(now.as_millis())
        .bind(float_minor)
        .execute(&mut *transaction)
        .await?;
        let payload = ShiftOpenOp {
            cashier_id: UserId::from_uuid(cashier.id),
            opened_at: now.as_millis(),
            float_minor,
        };
        Self::append_op(&mut transaction, device, now, id, &payload).await?;
        transaction.commit().await?;
        Ok(Shift {
            id,
            cashier_id: cashier.id,
            opened_at: now.as_millis(),
            float_minor,
            closed_at: None,
            tenders: Vec::new(),
        })
    }

    /// What the drawer and the other tenders should hold for a shift now: cash is the float
    /// plus cash taken less change given, less cash refunded; mobile money and card are what
    /// was taken less what went back that way.
    pub async fn expected_for_shift(&self, shift: &Shift) -> StationResult<BTreeMap<String, i64>> {
        let mut expected: BTreeMap<String, i64> = ["cash", "momo", "card"]
            .into_iter()
            .map(|kind| (kind.to_owned(), 0))
            .collect();
        let rows = sqlx::query(
            "SELECT kind, SUM(amount_minor) AS amount FROM tenders WHERE shift_id = $1 GROUP BY kind",
        )
        .bind(shift.id.to_string())
        .fetch_all(&self.pool)
        .await?;
        for row in &rows {
            let kind: String = row.try_get("kind")?;
            *expected.entry(kind).or_insert(0) += row.try_get::<i64, _>("amount")?;
        }
        let change: i64 = sqlx::query_scalar(
            "SELECT COALESCE(SUM(change_minor), 0) FROM sales WHERE shift_id = $1",
        )
        .bind(shift.id.to_string())
        .fetch_one(&self.pool)
        .await?;
        *expected.entry("cash".to_owned()).or_insert(0) += shift.float_minor - change;
        Ok(expected)
    }

    /// Closes the cashier's open shift with what they counted per tender ("cash", "momo",
    /// "card"; a tender not given counts as zero). Works offline; the figures travel as an op.
    pub async fn close_shift(
        &self,
        clock: &dyn Clock,
        cashier: &SignedIn,
        counted: &BTreeMap<String, i64>,
    ) -> StationResult<Shift> {
        let mut shift = self
            .open_shift_of(cashier.id)
            .await?
            .ok_or_else(|| invalid(format!("{} has no open shift here", cashier.name)))?;
        if let Some(unknown) = counted
            .keys()
            .find(|kind| !matches!(kind.as_str(), "cash" | "momo" | "card"))
        {
            return Err(invalid(format!(
                "{unknown:?} is not a tender: count cash, momo and card"
            )));
        }
        let expected = self.expected_for_shift(&shift).await?;
        for (tender, counted_minor) in counted {
            let expected_minor = expected.get(tender).copied().unwrap_or(0);
            check_shift_count(expected_minor, *counted_minor)
                .map_err(|_| invalid("counted amounts must be zero or more"))?;
        }
        shift.tenders = expected
            .iter()
            .map(|(tender, expected_minor)| {
                let counted_minor = counted.get(tender).copied().unwrap_or(0);
                TenderCount {
                    tender: tender.clone(),
                    expected_minor: *expected_minor,
                    counted_minor,
                    difference_minor: counted_minor - expected_minor,
                }
            })
            .collect();
        let now = clock.now();
        shift.closed_at = Some(now.as_millis());
        let device = Self::device(&self.required("station_id").await?)?;
        let close = serde_json::to_string(&shift.tenders)
            .map_err(|error| invalid(format!("shift close: {error}")))?;
        let mut transaction = self.pool.begin().await?;
        sqlx::query(
            "UPDATE shifts SET closed_at = $2, close = $3 WHERE id = $1 AND closed_at IS NULL",
        )
        .bind(shift.id.to_string())
        .bind(now.as_millis())
        .bind(close)
        .execute(&mut *transaction)
        .await?;
        let payload = ShiftCloseOp {
            cashier_id: UserId::from_uuid(cashier.id),
            closed_at: now.as_millis(),
            tenders: shift
                .tenders
                .iter()
                .map(|count| {
                    Ok(ShiftTenderCount {
                        tender: count
                            .tender
                            .parse()
                            .map_err(|_| invalid(format!("{:?} is not a tender", count.tender)))?,
                        expected_minor: count.expected_minor,
                        counted_minor: count.counted_minor,
                    })
                })
                .collect::<StationResult<_>>()?,
        };
        Self::append_op(&mut transaction, device, now, shift.id, &payload).await?;
        transaction.commit().await?;
        Ok(shift)
    }

    // ----- customers -----------------------------------------------------------------------

    /// Creates a customer here (offline); the server learns of them with the next sync.
    pub async fn create_customer(
        &self,
        clock: &dyn Clock,
        actor: &SignedIn,
        name: &str,
        phone: Option<&str>,
    ) -> StationResult<Customer> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 120 {
            return Err(invalid("a customer's name must be 1 to 120 characters"));
        }
        let phone = phone.map(str::trim).filter(|phone| !phone.is_empty());
        if let Some(phone) = phone {
            let digits = phone.strip_prefix('+').unwrap_or(phone);
            if !(9..=15).contains(&digits.len())
                || !digits.bytes().all(|byte| byte.is_ascii_digit())
            {
                return Err(invalid("a phone number has 9 to 15 digits"));
            }
        }
        let now = clock.now();
        let customer = Customer {
            id: nexus_domain::ids::new_v7(now),
            name: name.to_owned(),
            phone: phone.map(str::to_owned),
        };
        let device = Self::device(&self.required("station_id").await?)?;
        let mut transaction = self.pool.begin().await?;
        sqlx::query("INSERT INTO customers (id, name, name_key, phone, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(customer.id.to_string())
            .bind(&customer.name)
            .bind(name_key(&customer.name))
            .bind(&customer.phone)
            .bind(now.as_millis())
            .execute(&mut *transaction)
            .await?;
        let payload = CustomerOp {
            actor_id: UserId::from_uuid(actor.id),
            name: customer.name.clone(),
            phone: customer.phone.clone(),
        };
        Self::append_op(&mut transaction, device, now, customer.id, &payload).await?;
        transaction.commit().await?;
        Ok(customer)
    }

    /// One customer known here.
    pub async fn customer(&self, id: Uuid) -> StationResult<Option<Customer>> {
        let row = sqlx::query("SELECT id, name, phone FROM customers WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            Ok(Customer {
                id,
                name: row.try_get("name")?,
                phone: row.try_get("phone")?,
            })
        })
        .transpose()
    }

    /// Customers whose phone number is `query`, or whose name starts with it.
    pub async fn search_customers(&self, query: &str, limit: u32) -> StationResult<Vec<Customer>> {
        let query = query.trim();
        let key = name_key(query);
        let rows = sqlx::query(
            "SELECT id, name, phone FROM customers WHERE phone = $1 OR (name_key >= $2 AND name_key < $3) \
             ORDER BY name_key LIMIT $4",
        )
        .bind(query)
        .bind(&key)
        .bind(format!("{key}\u{10ffff}"))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Customer {
                    id: parse_uuid(&row.try_get::<String, _>("id")?, "customer id")?,
                    name: row.try_get("name")?,
                    phone: row.try_get("phone")?,
                })
            })
            .collect()
    }

    // ----- parked carts --------------------------------------------------------------------

    /// Puts a cart aside (the customer went to fetch money) and returns its id.
    pub async fn park(
        &self,
        clock: &dyn Clock,
        cashier: &SignedIn,
        cart: &Cart,
    ) -> StationResult<Uuid> {
        if cart.is_empty() {
            return Err(invalid("the cart is empty: nothing to park"));
        }
        let now = clock.now();
        let id = nexus_domain::ids::new_v7(now);
        let label = cart
            .customer
            .as_ref()
            .map(|customer| customer.name.clone())
            .unwrap_or_else(|| {
                let first = &cart.lines[0].product.name;
                match cart.lines.len() {
                    1 => first.clone(),
                    count => format!("{first} and {} more", count - 1),
                }
            });
        sqlx::query(
            "INSERT INTO parked_carts (id, cashier_id, parked_at, label, cart) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id.to_string())
        .bind(cashier.id.to_string())
        .bind(now.as_millis())
        .bind(label)
        .bind(serde_json::to_string(cart).map_err(|error| invalid(error.to_string()))?)
        .execute(&self.pool)
        .await?;
        Ok(id)
    }

    /// Every parked cart at this station, oldest first.
    pub async fn parked(&self) -> StationResult<Vec<Parked>> {
        let rows = sqlx::query(
            "SELECT id, cashier_id, parked_at, label, cart FROM parked_carts ORDER BY parked_at, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Parked {
                    id: parse_uuid(&row.try_get::<String, _>("id")?, "parked cart id")?,
                    cashier_id: parse_uuid(&row.try_get::<String, _>("cashier_id")?, "cashier id")?,
                    parked_at: row.try_get("parked_at")?,
                    label: row.try_get("label")?,
                    cart: serde_json::from_str(&row.try_get::<String, _>("cart")?)
                        .map_err(|error| invalid(format!("a parked cart: {error}")))?,
                })
            })
            .collect()
    }

    /// Takes a parked cart back (it is no longer parked).
    pub async fn resume(&self, id: Uuid) -> StationResult<Cart> {
        let mut transaction = self.pool.begin().await?;
        let text: Option<String> =
            sqlx::query_scalar("SELECT cart FROM parked_carts WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&mut *transaction)
                .await?;
        let text = text.ok_or_else(|| invalid("that parked cart is gone (resumed already?)"))?;
        sqlx::query("DELETE FROM parked_carts WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        serde_json::from_str(&text).map_err(|error| invalid(format!("a parked cart: {error}")))
    }
}

struct LocalSale<'a> {
    id: Uuid,
    kind: &'a str,
    refers_to: Option<Uuid>,
    cashier: Uuid,
    shift: Option<&'a str>,
    customer: Option<Uuid>,
    occurred_at: UnixMillis,
    change_minor: i64,
    receipt: &'a Receipt,
}

/// A sale, refund or void as this station recorded it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalRecord {
    pub id: Uuid,
    /// "sale", "refund" or "void".
    pub kind: String,
    pub refers_to: Option<Uuid>,
    pub cashier_id: Uuid,
    pub receipt: Receipt,
}

fn local_record_from_row(row: &sqlx::sqlite::SqliteRow) -> StationResult<LocalRecord> {
    Ok(LocalRecord {
        id: parse_uuid(&row.try_get::<String, _>("id")?, "sale id")?,
        kind: row.try_get("kind")?,
        refers_to: row
            .try_get::<Option<String>, _>("refers_to")?
            .map(|text| parse_uuid(&text, "sale id"))
            .transpose()?,
        cashier_id: parse_uuid(&row.try_get::<String, _>("cashier_id")?, "cashier id")?,
        receipt: serde_json::from_str(&row.try_get::<String, _>("receipt")?)
            .map_err(|error| invalid(format!("a stored receipt: {error}")))?,
    })
}

fn shift_from_row(row: &sqlx::sqlite::SqliteRow) -> StationResult<Shift> {
    Ok(Shift {
        id: parse_uuid(&row.try_get::<String, _>("id")?, "shift id")?,
        cashier_id: parse_uuid(&row.try_get::<String, _>("cashier_id")?, "cashier id")?,
        opened_at: row.try_get("opened_at")?,
        float_minor: row.try_get("float_minor")?,
        closed_at: row.try_get("closed_at")?,
        tenders: row
            .try_get::<Option<String>, _>("close")?
            .map(|text| serde_json::from_str(&text))
            .transpose()
            .map_err(|error| invalid(format!("a stored shift close: {error}")))?
            .unwrap_or_default(),
    })
}

fn signed_in_from(member: &StaffRecord) -> SignedIn {
    SignedIn {
        id: member.id.as_uuid(),
        name: member.name.clone(),
        role: member.role,
    }
}

/// The levies with their names and rates, for the receipt; codes the rules no longer name
/// (the rates changed since) print under their code.
fn receipt_levies(rules: &TaxRules, totals: &[(String, i64)]) -> Vec<ReceiptLevy> {
    totals
        .iter()
        .map(|(code, amount)| {
            let levy = rules.levies.iter().find(|levy| &levy.code == code);
            ReceiptLevy {
                code: code.clone(),
                name: levy.map_or_else(|| code.clone(), |levy| levy.name.clone()),
                rate_basis_points: levy.map_or(0, |levy| levy.rate_basis_points),
                amount_minor: *amount,
            }
        })
        .collect()
}

/// The staff among `candidates` whose PIN hash `pin` matches. Argon2 is slow on purpose, so it
/// runs off the async threads.
async fn verify_pins(pin: &str, candidates: &[StaffRecord]) -> StationResult<Vec<StaffRecord>> {
    use argon2::password_hash::{PasswordHash, PasswordVerifier as _};
    if nexus_domain::Pin::parse(pin).is_err() {
        return Ok(Vec::new());
    }
    let pin = pin.to_owned();
    let candidates = candidates.to_vec();
    tokio::task::spawn_blocking(move || {
        candidates
            .into_iter()
            .filter(|member| {
                member
                    .pin_hash
                    .as_deref()
                    .and_then(|hash| PasswordHash::new(hash).ok())
                    .is_some_and(|hash| {
                        argon2::Argon2::default()
                            .verify_password(pin.as_bytes(), &hash)
                            .is_ok()
                    })
            })
            .collect()
    })
    .await
    .map_err(|error| invalid(format!("checking the PIN: {error}")))
}

//! `nexus pos`: the shop station from the command line: enrol it, serve its cashier screen, sync,
//! sell, run shifts, and see its stock and state.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Subcommand};

use crate::daemon::{init_logging, shutdown_signal};

#[derive(Subcommand)]
pub(crate) enum PosCommand {
    /// Enrol this station with the one-time code from the dashboard or API.
    Enroll {
        /// The cloud service, e.g. http://127.0.0.1:8080
        #[arg(long)]
        server: String,
        #[arg(long)]
        code: String,
        #[command(flatten)]
        station: StationArgs,
    },
    /// Serve the cashier screen and keep the station in sync in the background. Selling needs
    /// no internet; the screen's banner shows online or offline and what is still unsynced.
    Serve {
        /// Where the cashier screen listens; `0.0.0.0:7070` lets phones and tablets on the
        /// shop's Wi-Fi use it.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7070")]
        listen: SocketAddr,
        /// Log filter, e.g. info or nexus_pos=debug.
        #[arg(long, value_name = "FILTER", default_value = "info")]
        log: String,
        /// Back the station up once a day into this directory (a USB stick, say), the first
        /// time at start when it holds no backup from the last day.
        #[arg(long, value_name = "DIR", env = "NEXUS_POS_BACKUP_DIR")]
        backup_dir: Option<PathBuf>,
        /// How many daily backups to keep there; older ones are removed.
        #[arg(long, value_name = "N", env = "NEXUS_POS_BACKUP_KEEP", default_value_t = 7,
              value_parser = clap::value_parser!(u16).range(1..))]
        backup_keep: u16,
        #[command(flatten)]
        station: StationArgs,
    },
    /// Back the station up now into a directory, keeping the newest --keep there. Safe while
    /// the station serves and sells.
    Backup {
        #[arg(long, value_name = "DIR")]
        to: PathBuf,
        #[arg(long, value_name = "N", default_value_t = 7, value_parser = clap::value_parser!(u16).range(1..))]
        keep: u16,
        #[command(flatten)]
        station: StationArgs,
    },
    /// Put a backup back as this station (stop `nexus pos serve` first). Needs the service:
    /// the till learns what the service already holds of it, so that it reuses no receipt
    /// number, and counts as synced what the service has.
    Restore {
        /// A backup file, station-YYYY-MM-DD-HHMMSS.db
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        #[command(flatten)]
        station: StationArgs,
    },
    /// Push everything unsynced and pull everything new, once.
    Sync(StationArgs),
    /// Ring up a sale offline, priced and taxed from the last sync, and print its receipt
    /// (or, with --json, the sale id, receipt number, totals and change).
    Sell {
        /// A product's SKU or barcode and a quantity, e.g. `RICE-5KG:2` (or `RICE-5KG=2`;
        /// the quantity defaults to 1); repeat for more lines.
        #[arg(
            long = "item",
            visible_alias = "line",
            value_name = "SKU:QTY",
            required = true
        )]
        items: Vec<String>,
        /// How the customer pays, amounts in major units ("12.50"): `cash:AMOUNT`,
        /// `momo:AMOUNT:NETWORK:PHONE:TXID` (network mtn, telecel or airteltigo) or
        /// `card:AMOUNT:REF`; repeat to split. Without it: exact cash.
        #[arg(long = "pay", value_name = "TENDER")]
        pays: Vec<String>,
        #[command(flatten)]
        who: WhoArgs,
        /// Paper width of the printed receipt: 80 or 58 (mm).
        #[arg(long, default_value = "80")]
        paper: String,
        /// Print JSON instead of the receipt.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        station: StationArgs,
    },
    /// Open or close a cashier's shift.
    Shift {
        #[command(subcommand)]
        command: ShiftCommand,
    },
    /// On-hand stock at this station's branch, as of the last sync plus this station's own
    /// unsynced sales and movements.
    Stock {
        /// Only this SKU (or barcode).
        #[arg(long)]
        sku: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        station: StationArgs,
    },
    /// This station's own settings: shows them, and changes those given.
    Settings {
        /// Ask the cashier to confirm a shift's float above this amount, in major units
        /// ("2000.00"); without a setting, 2,000 of the shop's currency.
        #[arg(long, value_name = "AMOUNT", conflicts_with = "default_float_limit")]
        float_confirm_above: Option<String>,
        /// Go back to the default float limit.
        #[arg(long)]
        default_float_limit: bool,
        /// Whether a cashier's refunds and voids need a manager's PIN (on by default).
        #[arg(long, value_name = "on|off", value_parser = on_off)]
        returns_need_manager: Option<bool>,
        /// Whether the cash-up shows what was expected only after counting (on by default).
        #[arg(long, value_name = "on|off", value_parser = on_off)]
        blind_cash_up: Option<bool>,
        /// The receipt printer: a network printer's address ("192.168.1.50", port 9100 unless
        /// given) or a USB printer's device file ("/dev/usb/lp0"); "none" stops printing.
        #[arg(long, value_name = "ADDRESS|DEVICE|none")]
        printer: Option<String>,
        /// The printer's paper: 80 or 58 (mm).
        #[arg(long, value_name = "80|58")]
        paper: Option<String>,
        /// Whether a sale that takes cash opens the drawer wired to the printer (on by default).
        #[arg(long, value_name = "on|off", value_parser = on_off)]
        cash_drawer: Option<bool>,
        #[command(flatten)]
        station: StationArgs,
    },
    /// Enrolment, unsynced sales and since when, last sync, quarantined ops.
    Status {
        #[command(flatten)]
        station: StationArgs,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// "on" or "off", as the settings flags take them.
fn on_off(text: &str) -> Result<bool, String> {
    match text {
        "on" | "yes" | "true" => Ok(true),
        "off" | "no" | "false" => Ok(false),
        other => Err(format!("{other:?}: give on or off")),
    }
}

/// Who is at the till: a PIN, or (for scripts at the station) a staff id.
#[derive(Args)]
pub(crate) struct WhoArgs {
    /// The cashier's PIN (as at the till's sign-in).
    #[arg(long, required_unless_present = "cashier")]
    pin: Option<String>,
    /// A staff id, instead of a PIN or to say whose PIN it is.
    #[arg(long)]
    cashier: Option<String>,
}

#[derive(Subcommand)]
pub(crate) enum ShiftCommand {
    /// Open a shift with a cash float in the drawer.
    Open {
        #[command(flatten)]
        who: WhoArgs,
        /// Cash in the drawer at the start, in major units ("200.00").
        #[arg(long, default_value = "0")]
        float: String,
        #[command(flatten)]
        station: StationArgs,
    },
    /// Close the cashier's shift with what was counted; prints expected against counted.
    Close {
        #[command(flatten)]
        who: WhoArgs,
        /// Cash counted in the drawer, in major units.
        #[arg(long, default_value = "0")]
        cash: String,
        /// Mobile money received, as the statements show it, in major units.
        #[arg(long, default_value = "0")]
        momo: String,
        /// Card slips total, in major units.
        #[arg(long, default_value = "0")]
        card: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        station: StationArgs,
    },
}

#[derive(Args)]
pub(crate) struct StationArgs {
    /// The station's data directory [default: nexus-station]
    #[arg(long, value_name = "DIR", default_value = "nexus-station")]
    data: PathBuf,
}

pub(crate) async fn run(command: PosCommand) -> Result<(), String> {
    let clock = nexus_domain::SystemClock;
    let open = |data: PathBuf| async move {
        nexus_pos::Station::open(&data)
            .await
            .map_err(|error| error.to_string())
    };
    let mut out = std::io::stdout().lock();
    match command {
        PosCommand::Serve {
            listen,
            log,
            backup_dir,
            backup_keep,
            station,
        } => {
            drop(out);
            let backups = backup_dir
                .map(|dir| nexus_pos::BackupSettings::daily(dir, usize::from(backup_keep)));
            return serve_till(listen, &log, &station.data, backups).await;
        }
        PosCommand::Backup { to, keep, station } => {
            let station = open(station.data).await?;
            let path = station
                .back_up(&to, usize::from(keep), nexus_domain::Clock::now(&clock))
                .await
                .map_err(text)?;
            let _ = writeln!(out, "backed up to {}", path.display());
        }
        PosCommand::Restore { from, station } => {
            let restored = nexus_pos::restore(&station.data, &from, &clock)
                .await
                .map_err(text)?;
            let _ = writeln!(
                out,
                "restored station {} from {}: the service holds its writes up to {}, so the next \
                 is {}; the next receipt is number {}",
                restored.station_id,
                from.display(),
                restored.acknowledged_seq,
                restored.acknowledged_seq + 1,
                restored.receipt_seq + 1
            );
            if let Some(replaced) = &restored.replaced {
                let _ = writeln!(
                    out,
                    "the database that was there is kept in {}",
                    replaced.display()
                );
            }
            let _ = writeln!(
                out,
                "run `nexus pos sync` to bring the catalogue and stock up to date"
            );
        }
        PosCommand::Enroll {
            server,
            code,
            station,
        } => {
            let station = open(station.data).await?;
            let id = station
                .enroll(&server, &code)
                .await
                .map_err(|error| error.to_string())?;
            let _ = writeln!(
                out,
                "enrolled as station {id}; run `nexus pos sync` to fetch the catalogue"
            );
        }
        PosCommand::Settings {
            float_confirm_above,
            default_float_limit,
            returns_need_manager,
            blind_cash_up,
            printer,
            paper,
            cash_drawer,
            station,
        } => {
            let change = nexus_pos::SettingsChange {
                returns_need_manager,
                blind_cash_up,
                printer: match printer.as_deref().map(str::trim) {
                    None => None,
                    Some("none") => Some(None),
                    Some(text) => Some(Some(
                        text.parse::<nexus_pos::printer::PrinterTarget>()
                            .map_err(|error| format!("--printer {text:?}: {error}"))?,
                    )),
                },
                paper: match paper.as_deref() {
                    None => None,
                    Some(text) => Some(
                        nexus_pos::receipt::Paper::parse(text.trim()).ok_or_else(|| {
                            format!("--paper {text:?}: the paper is 80 or 58 (mm)")
                        })?,
                    ),
                },
                cash_drawer,
            };
            let station = open(station.data).await?;
            let currency = station
                .till_settings()
                .await
                .map_err(|error| error.to_string())?
                .currency;
            if let Some(amount) = float_confirm_above {
                let minor = currency
                    .parse_major(&amount)
                    .map_err(|error| format!("--float-confirm-above {amount:?}: {error}"))?;
                station
                    .set_float_confirm_above(Some(minor))
                    .await
                    .map_err(|error| error.to_string())?;
            } else if default_float_limit {
                station
                    .set_float_confirm_above(None)
                    .await
                    .map_err(|error| error.to_string())?;
            }
            let limit = station
                .float_confirm_above(currency)
                .await
                .map_err(|error| error.to_string())?;
            let settings = station
                .change_station_settings(&change)
                .await
                .map_err(|error| error.to_string())?;
            let on_off = |on: bool| if on { "on" } else { "off" };
            let _ = writeln!(
                out,
                "float confirmed above: {} {}",
                currency.code(),
                currency.format_minor(limit)
            );
            let _ = writeln!(
                out,
                "refunds and voids need a manager's PIN: {}",
                on_off(settings.returns_need_manager)
            );
            let _ = writeln!(out, "blind cash-up: {}", on_off(settings.blind_cash_up));
            let _ = writeln!(
                out,
                "printer: {} ({} mm paper)",
                settings
                    .printer
                    .as_ref()
                    .map_or_else(|| "none".to_owned(), ToString::to_string),
                settings.paper.width_mm()
            );
            let _ = writeln!(out, "cash drawer: {}", on_off(settings.cash_drawer));
        }
        PosCommand::Sync(station) => {
            let station = open(station.data).await?;
            let report = station
                .sync(&clock)
                .await
                .map_err(|error| error.to_string())?;
            let _ = writeln!(
                out,
                "pushed {} op(s) ({} refused), pulled {} change(s)",
                report.pushed, report.rejected, report.pulled
            );
        }
        PosCommand::Sell {
            items,
            pays,
            who,
            paper,
            json,
            station,
        } => {
            let paper = nexus_pos::receipt::Paper::parse(&paper)
                .ok_or_else(|| format!("--paper {paper:?}: expected 80 or 58"))?;
            let station = open(station.data).await?;
            let cashier = sign_in(&station, &clock, &who).await?;
            let settings = station.till_settings().await.map_err(text)?;
            let mut cart = nexus_pos::Cart::default();
            for item in &items {
                let (code, quantity) = parse_item(item)?;
                station
                    .add_to_cart(&mut cart, code, quantity)
                    .await
                    .map_err(|error| format!("--item {item:?}: {error}"))?;
            }
            let mut tenders = Vec::with_capacity(pays.len());
            for pay in &pays {
                tenders.push(
                    parse_tender(pay, settings.currency)
                        .map_err(|error| format!("--pay {pay:?}: {error}"))?,
                );
            }
            if tenders.is_empty() {
                let priced = nexus_pos::Station::price(&settings, &cart).map_err(text)?;
                tenders.push(nexus_pos::TenderInput::Cash {
                    amount_minor: priced.totals.total_minor,
                });
            }
            let sale = station
                .checkout(&clock, &cashier, &cart, &tenders)
                .await
                .map_err(text)?;
            for warning in &sale.warnings {
                eprintln!("warning: {warning}");
            }
            if json {
                let answer = serde_json::json!({
                    "sale_id": sale.id, "receipt_number": sale.receipt_number,
                    "currency": settings.currency, "total_minor": sale.total_minor,
                    "tax_minor": sale.receipt.tax_minor, "levies": sale.receipt.levies,
                    "change_minor": sale.change_minor, "warnings": sale.warnings,
                });
                let _ = writeln!(out, "{answer}");
            } else {
                // The first line is for scripts: "sale <id> recorded ...".
                let _ = writeln!(
                    out,
                    "sale {} recorded as receipt {}: total {} {}, change {} {}",
                    sale.id,
                    sale.receipt_number,
                    settings.currency,
                    settings.currency.format_minor(sale.total_minor),
                    settings.currency,
                    settings.currency.format_minor(sale.change_minor)
                );
                let _ = write!(out, "{}", nexus_pos::receipt::text(&sale.receipt, paper));
            }
        }
        PosCommand::Shift { command } => shift(command, &clock, &mut out).await?,
        PosCommand::Stock { sku, json, station } => {
            let station = open(station.data).await?;
            let levels = station.stock_levels().await.map_err(text)?;
            let mut products = match &sku {
                Some(code) => station
                    .find_product(code)
                    .await
                    .map_err(text)?
                    .map(|product| vec![product])
                    .ok_or_else(|| format!("no product has the SKU or barcode {code:?}"))?,
                None => station.search_products_all().await.map_err(text)?,
            };
            products.sort_by(|left, right| left.sku.cmp(&right.sku));
            let rows: Vec<serde_json::Value> = products
                .iter()
                .map(|product| {
                    let on_hand = levels.get(&product.id).copied().unwrap_or(0);
                    serde_json::json!({ "product_id": product.id, "sku": product.sku, "name": product.name,
                        "on_hand": nexus_domain::Quantity::from_milli(on_hand) })
                })
                .collect();
            if json {
                let _ = writeln!(out, "{}", serde_json::Value::Array(rows));
            } else {
                for row in &rows {
                    let _ = writeln!(
                        out,
                        "{:<16} {:>10}  {}",
                        row["sku"].as_str().unwrap_or(""),
                        row["on_hand"].as_str().unwrap_or(""),
                        row["name"].as_str().unwrap_or("")
                    );
                }
            }
        }
        PosCommand::Status { station, json } => {
            let station = open(station.data).await?;
            let status = station.status().await.map_err(|error| error.to_string())?;
            if json {
                let _ = writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&status).unwrap_or_default()
                );
            } else {
                // Shop time when the settings have been pulled; UTC before that.
                let offset = station
                    .till_settings()
                    .await
                    .map_or(0, |settings| settings.offset_minutes);
                let local = |at: i64| nexus_domain::calendar::format_local_minute(at, offset);
                let _ = writeln!(
                    out,
                    "enrolled: {}",
                    if status.enrolled {
                        status.server.as_deref().unwrap_or("yes")
                    } else {
                        "no"
                    }
                );
                let _ = writeln!(out, "unsynced ops: {}", status.unsynced_ops);
                if let Some(since) = status.unsynced_since {
                    let _ = writeln!(out, "unsynced since: {}", local(since));
                }
                let _ = writeln!(
                    out,
                    "last sync: {}",
                    status
                        .last_sync_at
                        .map_or_else(|| "never".to_owned(), local)
                );
                let (last_backup, backup_problem) = station.backup_state().await.map_err(text)?;
                let _ = writeln!(
                    out,
                    "last backup: {}",
                    last_backup.map_or_else(|| "never".to_owned(), local)
                );
                if let Some(problem) = backup_problem {
                    let _ = writeln!(out, "the last backup failed: {problem}");
                }
                let _ = writeln!(out, "quarantined ops: {}", status.quarantined.len());
                for op in &status.quarantined {
                    let _ = writeln!(
                        out,
                        "  seq {}: {} {}",
                        op.seq,
                        op.code.as_deref().unwrap_or(""),
                        op.message.as_deref().unwrap_or("")
                    );
                }
            }
        }
    }
    Ok(())
}

/// `nexus pos serve`: the cashier screen and the sync worker, until Ctrl-C or SIGTERM.
async fn serve_till(
    listen: SocketAddr,
    log: &str,
    data: &std::path::Path,
    backups: Option<nexus_pos::BackupSettings>,
) -> Result<(), String> {
    init_logging(log, false);
    let station = nexus_pos::Station::open(data).await.map_err(text)?;
    if !station.status().await.map_err(text)?.enrolled {
        return Err(format!(
            "{} is not an enrolled station: run `nexus pos enroll --server URL --code CODE --data {}` first",
            data.display(),
            data.display()
        ));
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|error| format!("cannot listen on {listen}: {error}"))?;
    let address = listener.local_addr().map_err(|error| error.to_string())?;
    let stopped = shutdown_signal();
    tracing::info!(%address, data = %data.display(), "cashier screen at http://{address}/");
    nexus_pos::web::serve(
        Arc::new(station),
        Arc::new(nexus_domain::SystemClock),
        nexus_pos::WorkerSettings {
            backups,
            ..nexus_pos::WorkerSettings::default()
        },
        listener,
        stopped,
    )
    .await
    .map_err(|error| error.to_string())?;
    tracing::info!("the cashier screen stopped");
    Ok(())
}

fn text(error: nexus_pos::StationError) -> String {
    error.to_string()
}

/// Signs in at the station from `--pin` (optionally with `--cashier` naming who), or takes
/// `--cashier` alone as the staff id.
async fn sign_in(
    station: &nexus_pos::Station,
    clock: &dyn nexus_domain::Clock,
    who: &WhoArgs,
) -> Result<nexus_pos::SignedIn, String> {
    let cashier = who
        .cashier
        .as_deref()
        .map(|id| {
            id.parse::<uuid::Uuid>()
                .map_err(|_| format!("--cashier {id:?} is not a staff id"))
        })
        .transpose()?;
    match (&who.pin, cashier) {
        (Some(pin), cashier) => station.sign_in(clock, cashier, pin).await.map_err(text),
        (None, Some(cashier)) => station.staff_member(cashier).await.map_err(text),
        (None, None) => Err("give --pin (or --cashier)".to_owned()),
    }
}

/// `SKU:QTY`, `SKU=QTY` or `SKU` (one).
fn parse_item(item: &str) -> Result<(&str, nexus_domain::Quantity), String> {
    let (code, quantity) = match item.rsplit_once([':', '=']) {
        Some((code, quantity)) => (
            code,
            quantity
                .parse()
                .map_err(|error| format!("--item {item:?}: {error}"))?,
        ),
        None => (item, nexus_domain::Quantity::from_milli(1000)),
    };
    if code.trim().is_empty() {
        return Err(format!("--item {item:?}: expected SKU:QUANTITY"));
    }
    Ok((code, quantity))
}

/// `cash:AMOUNT`, `momo:AMOUNT:NETWORK:PHONE:TXID` or `card:AMOUNT:REF`, amounts in major units.
fn parse_tender(
    pay: &str,
    currency: nexus_domain::Currency,
) -> Result<nexus_pos::TenderInput, String> {
    let parts: Vec<&str> = pay.split(':').collect();
    let amount = |text: &str| {
        currency
            .parse_major(text)
            .map_err(|error| error.to_string())
    };
    match parts.as_slice() {
        ["cash", amount_text] => Ok(nexus_pos::TenderInput::Cash {
            amount_minor: amount(amount_text)?,
        }),
        ["momo", amount_text, network, phone, reference] => Ok(nexus_pos::TenderInput::Momo {
            amount_minor: amount(amount_text)?,
            network: (*network).to_owned(),
            phone: (*phone).to_owned(),
            reference: (*reference).to_owned(),
        }),
        ["card", amount_text, reference] => Ok(nexus_pos::TenderInput::Card {
            amount_minor: amount(amount_text)?,
            reference: (*reference).to_owned(),
        }),
        _ => Err(
            "expected cash:AMOUNT, momo:AMOUNT:NETWORK:PHONE:TXID or card:AMOUNT:REF".to_owned(),
        ),
    }
}

async fn shift(
    command: ShiftCommand,
    clock: &dyn nexus_domain::Clock,
    out: &mut impl std::io::Write,
) -> Result<(), String> {
    match command {
        ShiftCommand::Open {
            who,
            float,
            station,
        } => {
            let station = nexus_pos::Station::open(&station.data)
                .await
                .map_err(text)?;
            let cashier = sign_in(&station, clock, &who).await?;
            let currency = station.till_settings().await.map_err(text)?.currency;
            let float_minor = currency
                .parse_major(&float)
                .map_err(|error| format!("--float {float:?}: {error}"))?;
            let shift = station
                .open_shift(clock, &cashier, float_minor)
                .await
                .map_err(text)?;
            let _ = writeln!(
                out,
                "shift {} opened for {} with a float of {currency} {}",
                shift.id,
                cashier.name,
                currency.format_minor(float_minor)
            );
        }
        ShiftCommand::Close {
            who,
            cash,
            momo,
            card,
            json,
            station,
        } => {
            let station = nexus_pos::Station::open(&station.data)
                .await
                .map_err(text)?;
            let cashier = sign_in(&station, clock, &who).await?;
            let currency = station.till_settings().await.map_err(text)?.currency;
            let mut counted = std::collections::BTreeMap::new();
            for (tender, amount) in [("cash", &cash), ("momo", &momo), ("card", &card)] {
                let minor = currency
                    .parse_major(amount)
                    .map_err(|error| format!("--{tender} {amount:?}: {error}"))?;
                counted.insert(tender.to_owned(), minor);
            }
            let shift = station
                .close_shift(clock, &cashier, &counted)
                .await
                .map_err(text)?;
            if json {
                let _ = writeln!(out, "{}", serde_json::to_string(&shift).unwrap_or_default());
            } else {
                let _ = writeln!(out, "shift {} closed for {}", shift.id, cashier.name);
                let _ = writeln!(
                    out,
                    "{:<8} {:>14} {:>14} {:>14}",
                    "tender", "expected", "counted", "difference"
                );
                for count in &shift.tenders {
                    let _ = writeln!(
                        out,
                        "{:<8} {:>14} {:>14} {:>14}",
                        count.tender,
                        currency.format_minor(count.expected_minor),
                        currency.format_minor(count.counted_minor),
                        currency.format_minor(count.difference_minor)
                    );
                }
            }
        }
    }
    Ok(())
}

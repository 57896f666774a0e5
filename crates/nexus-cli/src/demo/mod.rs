//! `nexus demo`: the cloud service on the embedded default and one enrolled shop station, in
//! one process. The first run seeds an Accra shop through the service's own API (the same
//! calls a merchant's tools make): it opens the shop weeks ago by the service's clock, which
//! the demo holds ([`OffsetClock`]), rings up its history day by day until today (see
//! [`history`]), then, back in the present, enrols the station with a one-time code and syncs
//! it. Later runs on the same directory carry on with what is there.

mod api;
mod history;
mod rng;
mod seed;
mod shop;

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use nexus_domain::time::OffsetClock;
use nexus_domain::{Clock as _, SystemClock};
use nexus_fake_provider::{FakeConfig, FakeProvider};

#[derive(Args)]
pub struct DemoArgs {
    /// Where the demo keeps its data: `cloud/` for the service, `station/` for the till.
    #[arg(long, value_name = "DIR", default_value = "nexus-demo")]
    data: PathBuf,
    /// Address of the cloud service (API).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Address of the cashier screen; `0.0.0.0:7070` lets phones on the shop's Wi-Fi use it.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7070")]
    till_listen: SocketAddr,
    /// Log filter, e.g. info or nexus_server=debug.
    #[arg(long, value_name = "FILTER", default_value = "warn")]
    log: String,
    /// Days of sales the first run rings up, ending today.
    #[arg(long, value_name = "DAYS", hide = true, default_value_t = history::DEFAULT_DAYS)]
    history_days: u32,
    /// Sales on an ordinary weekday at the start of the history, both branches together.
    #[arg(long, value_name = "SALES", hide = true, default_value_t = history::DEFAULT_WEEKDAY_SALES)]
    history_sales: u32,
}

/// Written last by a seeding that finished; without it a half-seeded directory is refused.
const SEEDED_MARKER: &str = "seeded";

pub const OWNER_EMAIL: &str = "ama@demo.nexus.example";
pub const OWNER_PASSWORD: &str = "nexus demo owner";
fn text<E: std::fmt::Display>(error: E) -> String {
    error.to_string()
}

fn already_there(data: &Path) -> bool {
    data.join("cloud").exists() || data.join("station").exists()
}

/// Runs the demo until `shutdown` completes.
pub async fn run(
    args: DemoArgs,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    crate::daemon::init_logging(&args.log, false);
    let seeded = args.data.join(SEEDED_MARKER).exists();
    if !seeded && already_there(&args.data) {
        return Err(format!(
            "{} holds a demo whose first run did not finish; delete it and run `nexus demo` again",
            args.data.display()
        ));
    }
    let cloud_listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|error| format!("cannot listen on {}: {error}", args.listen))?;
    let till_listener = tokio::net::TcpListener::bind(args.till_listen)
        .await
        .map_err(|error| format!("cannot listen on {}: {error}", args.till_listen))?;
    let cloud_address = cloud_listener.local_addr().map_err(text)?;
    let till_address = till_listener.local_addr().map_err(text)?;
    let base = format!("http://{cloud_address}");

    let mut settings = nexus_server::Settings::defaults();
    settings.data_dir = args.data.join("cloud");
    settings.listening_on(cloud_address);
    // Billing as a real deployment has it, against the in-repo fake Stripe and Paystack: the
    // owner can try the plans and pay pages, and nothing leaves the machine.
    let fake_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|error| format!("cannot start the demo's payment provider: {error}"))?;
    let fake_root = format!("http://{}", fake_listener.local_addr().map_err(text)?);
    let keys = FakeConfig::test();
    settings.billing = nexus_server::billing::BillingSettings::both_under(
        &fake_root,
        &keys.stripe_secret_key,
        &keys.stripe_webhook_secret,
        &keys.paystack_secret_key,
    );
    // Requests to pay go to the same stand-in, as MTN MoMo's sandbox behaves.
    settings.momo.mtn_api_base = format!("{fake_root}/mtn");
    // The service's clock: the seeding sets it back to ring up weeks of history, and it is at
    // the present again before the till syncs.
    let clock = Arc::new(OffsetClock::new());
    let app = nexus_server::App::open(settings, clock.clone())
        .await
        .map_err(text)?;
    let provider_clock = clock.clone();
    let momo_keys = keys.clone();
    let fake = FakeProvider::start_on(
        fake_listener,
        FakeConfig {
            now: Some(Arc::new(move || provider_clock.now().as_seconds())),
            ..keys
        },
    )
    .await
    .map_err(|error| format!("cannot start the demo's payment provider: {error}"))?;
    fake.set_webhook_targets(
        Some(format!("{base}/api/v1/billing/webhooks/stripe")),
        Some(format!("{base}/api/v1/billing/webhooks/paystack")),
    );
    // A customer who approves on their phone a few seconds after the till asks.
    fake.set_momo_auto_approve(Some(std::time::Duration::from_secs(4)));
    let app = nexus_web::serve_dashboard(app).map_err(text)?;
    // One signal stops both halves: the till first (its worker's sync in flight finishes or
    // is dropped whole), then the service.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let stopped_for_cloud = stopped.clone();
    let cloud = tokio::spawn(app.serve(cloud_listener, async move {
        let mut stopped = stopped_for_cloud;
        let _ = stopped.wait_for(|stop| *stop).await;
    }));

    let station = nexus_pos::Station::open(&args.data.join("station"))
        .await
        .map_err(text)?;
    let mut out = std::io::stdout().lock();
    if seeded {
        // The service may listen elsewhere this time (`--listen`): the till follows it.
        station.set_server(&base).await.map_err(text)?;
    } else {
        let options = history::HistoryOptions {
            days: args.history_days,
            weekday_sales: args.history_sales,
        };
        seed::seed(&base, &station, &clock, &options, &momo_keys, &mut out).await?;
        std::fs::write(args.data.join(SEEDED_MARKER), "the demo shop was seeded\n")
            .map_err(|error| format!("cannot write {}: {error}", args.data.display()))?;
    }
    let _ = writeln!(
        out,
        "\nNexus demo: Ama Provisions, Accra (branches Osu and Makola, 200 products)\n\
         \n  Cashier screen   http://{till_address}/   (Till 1 at Osu; works with the service stopped)\
         \n  Dashboard        {base}/   (sign in as {OWNER_EMAIL} / {OWNER_PASSWORD:?})\
         \n  Billing          {base}/billing   (a stand-in Stripe and Paystack at {fake_root}: nothing is charged)\
         \n  Mobile money     at the till, \"Ask the customer's phone\" goes to a stand-in MTN MoMo that approves after 4 s\
         \n                   (number 46733123451 declines, 46733123455 has too little money)\
         \n  Cloud service    {base}/api/docs   (API: {base}/api/v1)\
         \n\nSign in at the till with a PIN:"
    );
    for member in shop::STAFF.iter().filter(|member| member.at_osu) {
        let _ = writeln!(out, "  {}   {} ({})", member.pin, member.name, member.role);
    }
    let _ = writeln!(
        out,
        "API sign-in for the owner: {OWNER_EMAIL} / {OWNER_PASSWORD:?}\n\
         Scan or type a barcode such as {} (Royal Aroma Rice 1kg), or type a name.\n\
         \nData is kept in {}; run `nexus demo` again to carry on. To sell with the service\n\
         stopped, stop this (Ctrl-C) and run `nexus pos serve --data {}`.\n\
         Press Ctrl-C to stop.",
        nexus_domain::ean13(603_000_000_001),
        args.data.display(),
        args.data.join("station").display()
    );
    drop(out);

    let till = nexus_pos::web::serve(
        Arc::new(station),
        Arc::new(SystemClock),
        nexus_pos::WorkerSettings::default(),
        till_listener,
        async move {
            let mut stopped = stopped;
            let _ = stopped.wait_for(|stop| *stop).await;
        },
    );
    let stop = Arc::new(stop);
    let stop_on_signal = stop.clone();
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_on_signal.send(true);
    });
    let served = till.await;
    // However the till ended, the service goes with it.
    let _ = stop.send(true);
    served.map_err(text)?;
    match cloud.await {
        Ok(result) => result.map_err(text),
        Err(error) => Err(text(error)),
    }
}

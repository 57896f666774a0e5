//! `nexus demo`: the cloud service on the embedded default and one enrolled shop station, in
//! one process. The first run seeds an Accra shop through the service's own API (the same
//! calls a merchant's tools make), enrols the station with a one-time code and syncs it; later
//! runs on the same directory carry on with what is there.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use nexus_domain::SystemClock;
use serde_json::{Value, json};

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
}

/// Written last by a seeding that finished; without it a half-seeded directory is refused.
const SEEDED_MARKER: &str = "seeded";

pub const OWNER_EMAIL: &str = "ama@demo.nexus.example";
pub const OWNER_PASSWORD: &str = "nexus demo owner";
const STAFF_PASSWORD: &str = "nexus demo staff";

/// (name, role, PIN, e-mail, works at Makola too)
#[rustfmt::skip]
const STAFF: &[(&str, &str, &str, &str, bool)] = &[
    ("Kofi Boateng", "manager", "2468", "kofi@demo.nexus.example", true),
    ("Efua Mensah", "cashier", "1234", "efua@demo.nexus.example", false),
    ("Kwame Asante", "cashier", "5678", "kwame@demo.nexus.example", false),
];

/// Five (label, shelf price in pesewas) of one good.
type Sizes = [(&'static str, i64); 5];

/// Goods of an Accra provision shop: (name, tax class, sizes with their shelf prices in
/// pesewas, tax included). Five sizes each make the demo's 200 products.
#[rustfmt::skip]
const GOODS: &[(&str, &str, Sizes)] = &[
    ("Royal Aroma Rice", "standard", [("1kg", 2200), ("2kg", 4300), ("5kg", 10500), ("10kg", 20500), ("25kg", 49000)]),
    ("Gino Tomato Paste", "standard", [("70g", 350), ("210g", 900), ("400g", 1600), ("800g", 3000), ("2.2kg", 7800)]),
    ("Frytol Cooking Oil", "standard", [("500ml", 2100), ("1L", 3900), ("2L", 7600), ("3L", 11200), ("5L", 18000)]),
    ("Peak Evaporated Milk", "standard", [("160g", 850), ("170g tin", 950), ("380g", 1900), ("6 x 160g", 4900), ("24 x 160g", 19500)]),
    ("Milo Chocolate Drink", "standard", [("20g sachet", 200), ("200g", 2800), ("400g", 5400), ("500g tin", 6500), ("1kg", 12500)]),
    ("Nido Milk Powder", "standard", [("26g sachet", 350), ("360g", 5200), ("400g tin", 6200), ("900g", 13500), ("2.5kg", 36000)]),
    ("Ideal Milk", "standard", [("160g", 800), ("410g", 1800), ("6 x 160g", 4600), ("12 x 160g", 9000), ("48 x 160g", 35000)]),
    ("Titus Sardines", "standard", [("125g", 1300), ("3 x 125g", 3800), ("6 x 125g", 7500), ("12 x 125g", 14800), ("50 x 125g", 60000)]),
    ("Geisha Mackerel", "standard", [("155g", 1200), ("425g", 2600), ("3 x 155g", 3500), ("6 x 155g", 6900), ("24 x 155g", 27000)]),
    ("Ashanti Sugar", "standard", [("500g", 900), ("1kg", 1700), ("2kg", 3300), ("5kg", 8000), ("25 cubes box", 1500)]),
    ("Lipton Yellow Label Tea", "standard", [("25 bags", 1200), ("50 bags", 2300), ("100 bags", 4400), ("200 bags", 8500), ("loose 250g", 3200)]),
    ("Nescafe Classic", "standard", [("2g sachet", 100), ("50g", 2500), ("100g", 4800), ("200g", 9200), ("25 sachets", 2300)]),
    ("Maggi Seasoning Cubes", "standard", [("4g", 50), ("10 cubes", 450), ("50 cubes", 2100), ("100 cubes", 4000), ("400 cubes", 15500)]),
    ("Onga Seasoning", "standard", [("sachet", 100), ("80g", 600), ("200g", 1400), ("400g", 2700), ("1kg", 6400)]),
    ("Indomie Noodles", "standard", [("70g", 350), ("120g", 550), ("5 x 70g", 1700), ("20 x 70g", 6600), ("40 x 70g", 13000)]),
    ("Golden Penny Spaghetti", "standard", [("500g", 1100), ("1kg", 2100), ("5 x 500g", 5300), ("10 x 500g", 10400), ("20 x 500g", 20500)]),
    ("Mama's Pride Flour", "standard", [("1kg", 1500), ("2kg", 2900), ("5kg", 7000), ("10kg", 13500), ("50kg", 64000)]),
    ("Blue Band Margarine", "standard", [("100g", 700), ("250g", 1500), ("450g", 2600), ("1kg", 5500), ("2.5kg", 13000)]),
    ("Voltic Mineral Water", "standard", [("500ml", 250), ("750ml", 350), ("1.5L", 600), ("12 x 500ml", 2800), ("18.9L", 2500)]),
    ("Coca-Cola", "standard", [("330ml can", 700), ("500ml", 800), ("1L", 1300), ("1.5L", 1800), ("12 x 330ml", 8000)]),
    ("Fanta Orange", "standard", [("330ml can", 700), ("500ml", 800), ("1L", 1300), ("1.5L", 1800), ("12 x 330ml", 8000)]),
    ("Malta Guinness", "standard", [("330ml can", 900), ("330ml bottle", 850), ("6 x 330ml", 5200), ("12 x 330ml", 10200), ("24 x 330ml", 20000)]),
    ("Alvaro Pear", "standard", [("330ml can", 900), ("330ml bottle", 850), ("6 x 330ml", 5200), ("12 x 330ml", 10200), ("24 x 330ml", 20000)]),
    ("Kalyppo Fruit Drink", "standard", [("200ml", 300), ("6 x 200ml", 1700), ("12 x 200ml", 3300), ("24 x 200ml", 6400), ("48 x 200ml", 12500)]),
    ("Tom Tom Sweets", "standard", [("each", 20), ("10 pack", 180), ("50 pack", 850), ("100 jar", 1600), ("500 bag", 7500)]),
    ("Digestive Biscuits", "standard", [("100g", 500), ("200g", 900), ("400g", 1700), ("6 x 200g", 5200), ("12 x 200g", 10000)]),
    ("Sunlight Washing Powder", "standard", [("30g", 150), ("500g", 1600), ("1kg", 3000), ("2kg", 5800), ("5kg", 14000)]),
    ("Key Soap", "standard", [("150g bar", 600), ("200g bar", 750), ("3 bars", 2100), ("6 bars", 4100), ("24 bars", 16000)]),
    ("Pepsodent Toothpaste", "standard", [("35g", 450), ("70g", 800), ("130g", 1400), ("2 x 130g", 2700), ("12 x 70g", 9200)]),
    ("Close-Up Toothpaste", "standard", [("35g", 500), ("70g", 900), ("140g", 1600), ("2 x 140g", 3000), ("12 x 70g", 10300)]),
    ("Nivea Body Lotion", "standard", [("100ml", 1800), ("200ml", 3200), ("400ml", 5800), ("625ml", 8500), ("1L", 12900)]),
    ("Softcare Tissue", "standard", [("1 roll", 400), ("4 rolls", 1500), ("10 rolls", 3600), ("24 rolls", 8400), ("48 rolls", 16400)]),
    ("Candles", "standard", [("1", 150), ("6", 850), ("12", 1600), ("24", 3100), ("48", 6000)]),
    ("Matches", "standard", [("1 box", 50), ("10 boxes", 450), ("50 boxes", 2100), ("100 boxes", 4000), ("1000 boxes", 38000)]),
    ("Gari (white)", "exempt", [("olonka", 1500), ("1kg", 1200), ("5kg", 5600), ("10kg", 11000), ("50kg bag", 52000)]),
    ("Fresh Eggs", "exempt", [("1", 250), ("6", 1450), ("12", 2850), ("crate of 30", 6800), ("2 crates", 13400)]),
    ("Plantain", "exempt", [("1 finger", 300), ("bunch small", 2500), ("bunch medium", 4000), ("bunch large", 6000), ("box", 15000)]),
    ("Yam", "exempt", [("1 tuber small", 1500), ("1 tuber large", 3500), ("3 tubers", 9000), ("5 tubers", 14500), ("100 tubers", 270000)]),
    ("Fresh Tomatoes", "exempt", [("5 pieces", 500), ("1kg", 1600), ("olonka", 3000), ("small basket", 9000), ("crate", 45000)]),
    ("Paracetamol Tablets", "zero_rated", [("10 tablets", 300), ("20 tablets", 550), ("50 tablets", 1300), ("100 tablets", 2500), ("1000 tablets", 22000)]),
];

fn text<E: std::fmt::Display>(error: E) -> String {
    error.to_string()
}

/// The demo's catalogue as the service's CSV import reads it; barcodes are EAN-13 under
/// Ghana's GS1 prefix (603), numbered from 1 in catalogue order.
pub fn catalogue_csv() -> String {
    let mut csv = String::from("sku,name,price,barcode,tax_class,reorder_level\n");
    let mut number = 0_u64;
    for (good, (name, tax_class, sizes)) in GOODS.iter().enumerate() {
        for (size, (label, price_minor)) in sizes.iter().enumerate() {
            number += 1;
            csv.push_str(&format!(
                "DEMO-{:02}-{},{name} {label},{}.{:02},{},{tax_class},{}\n",
                good + 1,
                size + 1,
                price_minor / 100,
                price_minor % 100,
                nexus_domain::ean13(603_000_000_000 + number),
                if size < 2 { 10 } else { 3 }
            ));
        }
    }
    csv
}

/// A call to the demo's own service.
struct Api {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Api {
    async fn send(&self, request: reqwest::RequestBuilder, what: &str) -> Result<Value, String> {
        let request = match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        let response = request
            .send()
            .await
            .map_err(|error| format!("{what}: {error}"))?;
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .map_err(|error| format!("{what}: {error}"))?;
        if status.is_success() {
            Ok(body)
        } else {
            Err(format!("{what}: the service answered {status}: {body}"))
        }
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value, String> {
        let request = self.http.post(format!("{}{path}", self.base)).json(&body);
        self.send(request, &format!("POST {path}")).await
    }

    async fn get(&self, path: &str) -> Result<Value, String> {
        let request = self.http.get(format!("{}{path}", self.base));
        self.send(request, &format!("GET {path}")).await
    }
}

fn id_of(value: &Value, what: &str) -> Result<String, String> {
    value["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("{what}: the answer has no id: {value}"))
}

/// Seeds the shop through the API at `base` and enrols `station` at its Osu branch.
async fn seed(
    base: &str,
    station: &nexus_pos::Station,
    out: &mut impl std::io::Write,
) -> Result<(), String> {
    let mut api = Api {
        http: reqwest::Client::new(),
        base: base.to_owned(),
        token: None,
    };
    let _ = writeln!(out, "seeding the demo shop (first run only)…");
    let registered = api
        .post(
            "/api/v1/auth/register",
            json!({ "organisation": "Ama Provisions, Accra", "email": OWNER_EMAIL,
                    "password": OWNER_PASSWORD, "name": "Ama Owusu" }),
        )
        .await?;
    api.token = registered["access_token"].as_str().map(str::to_owned);
    let osu = id_of(
        &api.post(
            "/api/v1/branches",
            json!({ "name": "Osu", "address": "Oxford Street, Osu, Accra" }),
        )
        .await?,
        "branch",
    )?;
    let makola = id_of(
        &api.post(
            "/api/v1/branches",
            json!({ "name": "Makola", "address": "Makola Market, Accra" }),
        )
        .await?,
        "branch",
    )?;
    for (name, role, pin, email, both) in STAFF {
        let branches = if *both {
            json!([osu, makola])
        } else {
            json!([osu])
        };
        api.post(
            "/api/v1/staff",
            json!({ "email": email, "name": name, "role": role, "branch_ids": branches,
                    "pin": pin, "password": STAFF_PASSWORD }),
        )
        .await?;
    }
    let import = api
        .send(
            api.http
                .post(format!("{base}/api/v1/products/import"))
                .header("content-type", "text/csv")
                .body(catalogue_csv()),
            "POST /api/v1/products/import",
        )
        .await?;
    if import["imported"] != json!(true) {
        return Err(format!("the catalogue import was refused: {import}"));
    }
    let mut products = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(after) => format!("/api/v1/products?limit=500&after={after}"),
            None => "/api/v1/products?limit=500".to_owned(),
        };
        let page = api.get(&path).await?;
        for item in page["items"].as_array().into_iter().flatten() {
            products.push(id_of(item, "product")?);
        }
        match page["next_after"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => break,
        }
    }
    // Opening stock: a delivery of every product at both branches. Every seventh is short
    // at Osu (below its reorder level), so the low-stock alerts have something to show.
    let _ = writeln!(
        out,
        "receiving opening stock of {} products at 2 branches…",
        products.len()
    );
    for (index, product) in products.iter().enumerate() {
        for (branch, quantity) in [
            (&osu, if index % 7 == 0 { 2 } else { 12 + index % 30 }),
            (&makola, 20 + index % 25),
        ] {
            api.post(
                &format!("/api/v1/branches/{branch}/stock/movements"),
                json!({ "product_id": product, "kind": "receipt", "quantity": quantity.to_string(),
                        "reason": "opening stock" }),
            )
            .await?;
        }
    }
    let code = api
        .post(
            "/api/v1/stations",
            json!({ "branch_id": osu, "name": "Till 1" }),
        )
        .await?["enrolment_code"]
        .as_str()
        .ok_or("the station was created without an enrolment code")?
        .to_owned();
    station.enroll(base, &code).await.map_err(text)?;
    station.sync(&SystemClock).await.map_err(text)?;
    Ok(())
}

fn already_there(data: &Path) -> bool {
    data.join("cloud").exists() || data.join("station").exists()
}

/// Runs the demo until `shutdown` completes.
pub async fn run(
    args: DemoArgs,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    crate::daemon::init_logging(&args.log);
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
    settings.listen = cloud_address;
    let app = nexus_server::App::open(settings, Arc::new(SystemClock))
        .await
        .map_err(text)?;
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
        seed(&base, &station, &mut out).await?;
        std::fs::write(args.data.join(SEEDED_MARKER), "the demo shop was seeded\n")
            .map_err(|error| format!("cannot write {}: {error}", args.data.display()))?;
    }
    let _ = writeln!(
        out,
        "\nNexus demo: Ama Provisions, Accra (branches Osu and Makola, 200 products)\n\
         \n  Cashier screen   http://{till_address}/   (Till 1 at Osu; works with the service stopped)\
         \n  Cloud service    {base}/api/docs   (API: {base}/api/v1)\
         \n\nSign in at the till with a PIN:"
    );
    for (name, role, pin, _, _) in STAFF {
        let _ = writeln!(out, "  {pin}   {name} ({role})");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_has_200_products_with_distinct_valid_barcodes() {
        let csv = catalogue_csv();
        let rows: Vec<Vec<&str>> = csv
            .lines()
            .skip(1)
            .map(|line| line.split(',').collect())
            .collect();
        assert_eq!(rows.len(), 200);
        let barcodes: std::collections::BTreeSet<&str> = rows.iter().map(|row| row[3]).collect();
        assert_eq!(barcodes.len(), 200);
        for row in &rows {
            assert_eq!(row.len(), 6, "{row:?}");
            assert!(row[3].starts_with("603") && row[3].len() == 13);
            let check = nexus_domain::ean13(row[3][..12].parse().expect("digits"));
            assert_eq!(check, row[3]);
        }
        assert!(csv.contains("DEMO-01-1,Royal Aroma Rice 1kg,22.00,6030000000018,standard,10"));
    }
}

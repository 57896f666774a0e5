//! The first run's seeding: the shop is opened weeks ago by the service's clock (organisation,
//! branches, staff, catalogue), trades until today, and then its till is enrolled in the
//! present.

use nexus_domain::time::OffsetClock;
use nexus_domain::{Clock as _, SystemClock, TaxRules, calendar};
use serde_json::json;

use super::api::{Api, Session, id_of};
use super::history::{self, DAY, HistoryOptions, Item, Shop};
use super::shop::{STAFF, STAFF_PASSWORD, catalogue_csv};
use super::{OWNER_EMAIL, OWNER_PASSWORD, text};

/// Seeds the shop through the API at `base`, whose clock is `clock`, and enrols `station` at
/// its Osu branch. The clock is back at the present when this returns, whatever happened.
pub async fn seed(
    base: &str,
    station: &nexus_pos::Station,
    clock: &OffsetClock,
    options: &HistoryOptions,
    momo: &nexus_fake_provider::FakeConfig,
    out: &mut impl std::io::Write,
) -> Result<(), String> {
    let seeded = seed_shop(base, clock, options, out).await;
    clock.reset();
    seeded?;
    // The owner signs in today and enrols the till.
    let anonymous = Api::new(base);
    let mut owner = Session::login(&anonymous, OWNER_EMAIL, OWNER_PASSWORD, clock.now()).await?;
    let owner = owner.api(clock.now()).await?;
    let branches = owner.get("/api/v1/branches").await?;
    let osu = branches
        .as_array()
        .into_iter()
        .flatten()
        .find(|branch| branch["name"] == "Osu")
        .ok_or("the demo shop has no Osu branch")?;
    let code = owner
        .post(
            "/api/v1/stations",
            &json!({ "branch_id": id_of(osu, "branch")?, "name": "Till 1" }),
        )
        .await?["enrolment_code"]
        .as_str()
        .ok_or("the station was created without an enrolment code")?
        .to_owned();
    // The shop's MTN MoMo account, at the stand-in network, so the till can ask phones to pay.
    owner
        .put(
            "/api/v1/momo/accounts/mtn",
            &json!({
                "api_user": momo.mtn_api_user,
                "api_key": momo.mtn_api_key,
                "subscription_key": momo.mtn_subscription_key,
                "target_environment": momo.mtn_target_environment,
            }),
        )
        .await?;
    station.enroll(base, &code).await.map_err(text)?;
    station.sync(&SystemClock).await.map_err(text)?;
    Ok(())
}

/// The shop and its history, with the clock set back.
async fn seed_shop(
    base: &str,
    clock: &OffsetClock,
    options: &HistoryOptions,
    out: &mut impl std::io::Write,
) -> Result<(), String> {
    let anonymous = Api::new(base);
    let _ = writeln!(out, "seeding the demo shop (first run only)…");
    let started = std::time::Instant::now();
    let present = SystemClock.now();
    // A new organisation keeps the default time zone (Africa/Accra), so its days are known
    // before it exists.
    let zone = calendar::zone_offset_minutes(calendar::DEFAULT_TIME_ZONE).unwrap_or(0);
    let today = calendar::local_day(present.as_millis(), zone);
    let first_day = today - i32::try_from(options.days).unwrap_or(0) + 1;
    // The shop opens at six in the morning of the first day.
    let opened = i64::from(first_day) * DAY - zone * 60_000 + 6 * 3_600_000;
    clock.set_now(nexus_domain::UnixMillis::from_millis(
        opened.min(present.as_millis()),
    ));

    let registered = anonymous
        .post(
            "/api/v1/auth/register",
            &json!({ "organisation": "Ama Provisions, Accra", "email": OWNER_EMAIL,
                     "password": OWNER_PASSWORD, "name": "Ama Owusu" }),
        )
        .await?;
    let mut owner = Session::from_tokens(&anonymous, &registered, clock.now())?;
    let api = owner.api(clock.now()).await?;
    let osu = id_of(
        &api.post(
            "/api/v1/branches",
            &json!({ "name": "Osu", "address": "Oxford Street, Osu, Accra" }),
        )
        .await?,
        "branch",
    )?;
    let makola = id_of(
        &api.post(
            "/api/v1/branches",
            &json!({ "name": "Makola", "address": "Makola Market, Accra" }),
        )
        .await?,
        "branch",
    )?;
    for member in STAFF {
        let mut branches = Vec::new();
        if member.at_osu {
            branches.push(&osu);
        }
        if member.at_makola {
            branches.push(&makola);
        }
        api.post(
            "/api/v1/staff",
            &json!({ "email": member.email, "name": member.name, "role": member.role,
                     "branch_ids": branches, "pin": member.pin, "password": STAFF_PASSWORD }),
        )
        .await?;
    }
    let import = api
        .post_csv("/api/v1/products/import", catalogue_csv())
        .await?;
    // The import runs as a job on the service; the demo waits for it, as the dashboard's
    // progress bar does.
    let job = import["id"]
        .as_str()
        .ok_or_else(|| format!("the catalogue import named no job: {import}"))?
        .to_owned();
    let mut import = import;
    while import["state"] == "running" {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        import = api.get(&format!("/api/v1/jobs/{job}")).await?;
    }
    if import["state"] != "succeeded" {
        return Err(format!("the catalogue import was refused: {import}"));
    }
    let mut items = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(after) => format!("/api/v1/products?limit=500&after={after}"),
            None => "/api/v1/products?limit=500".to_owned(),
        };
        let page = api.get(&path).await?;
        for product in page["items"].as_array().into_iter().flatten() {
            items.extend(Item::from_api(product)?);
        }
        match page["next_after"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => break,
        }
    }
    // In catalogue order whatever order the service lists them in, so that the same draws
    // make the same baskets.
    items.sort_by_key(Item::catalogue_position);
    let settings = api.get("/api/v1/settings").await?;
    let rules: TaxRules = serde_json::from_value(settings["tax"].clone())
        .map_err(|error| format!("the shop's tax settings: {error}"))?;
    let zone_offset_minutes = settings["time_zone"]
        .as_str()
        .and_then(calendar::zone_offset_minutes)
        .unwrap_or(zone);
    let shop = Shop {
        branches: [osu, makola],
        items,
        rules,
        zone_offset_minutes,
    };
    // Everyone signs in with their password, and their tills keep the sessions fresh.
    let mut sessions = Vec::with_capacity(STAFF.len());
    for member in STAFF {
        sessions.push(Session::login(&anonymous, member.email, STAFF_PASSWORD, clock.now()).await?);
    }
    let _ = writeln!(
        out,
        "receiving opening stock of {} products at 2 branches, then {} days of trading…",
        shop.items.len(),
        options.days
    );
    let summary =
        history::ring_up(&shop, clock, &mut sessions, options, first_day, present).await?;
    let _ = writeln!(
        out,
        "rang up {} sales (GHS {}) over {} days: {} refunds, {} voids, {} deliveries ({} receipts), \
         a count of {} products at Osu, a transfer of {} products from Makola to Osu ({:.1} s)",
        summary.sales,
        nexus_domain::Currency::Ghs.format_minor(summary.takings_minor),
        options.days,
        summary.refunds,
        summary.voids,
        summary.deliveries,
        summary.received,
        summary.counted,
        summary.transferred,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

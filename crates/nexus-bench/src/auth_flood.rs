//! `auth_flood`: a server process (this binary again, serving the embedded store) takes
//! `concurrency` connections sending wrong passwords for `seconds`, each for an email nobody
//! has (so each is a real argon2id check of the dummy hash, not a throttle refusal), all from one
//! attacking address, while another user signs in correctly from elsewhere every 250 ms. Prints
//! the server's peak resident memory, how many passwords it checked, and the other user's p99.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use nexus_domain::SystemClock;
use serde_json::json;

use crate::percentile;
use crate::pos_rss::{child_address, process_kb};

fn text<E: std::fmt::Display>(error: E) -> String {
    error.to_string()
}

pub(crate) async fn auth_flood(concurrency: usize, seconds: u64) -> Result<String, String> {
    let data = std::env::temp_dir().join(format!("nexus-auth-flood-{}", uuid::Uuid::now_v7()));
    let exe = std::env::current_exe().map_err(text)?;
    let mut child = std::process::Command::new(exe)
        .arg("auth_flood_server")
        .arg("--data")
        .arg(&data)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .map_err(text)?;
    let outcome = flood(&mut child, concurrency, seconds).await;
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&data);
    outcome
}

async fn flood(
    child: &mut std::process::Child,
    concurrency: usize,
    seconds: u64,
) -> Result<String, String> {
    let address = child_address(child).await?;
    let pid = child.id();
    let base = format!("http://{address}/api/v1");
    let http = reqwest::Client::new();
    let other_email = "other.owner@flood.example";
    let registered = http
        .post(format!("{base}/auth/register"))
        .header("x-forwarded-for", "198.51.100.2")
        .json(&json!({ "organisation": "Another Shop", "email": other_email, "password": "the other owner's password" }))
        .send()
        .await
        .map_err(text)?;
    if registered.status() != 201 {
        return Err(format!(
            "registering the other user answered {}",
            registered.status()
        ));
    }
    let status_now = move |field: &str| process_kb(pid, field);
    let idle_kb = status_now("VmRSS");
    eprintln!(
        "flooding {concurrency} connections for {seconds} s; the server idles at {idle_kb} kB"
    );

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let checked = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let mut attackers = Vec::with_capacity(concurrency);
    for connection in 0..concurrency {
        let (http, base) = (reqwest::Client::new(), base.clone());
        let (checked, refused, failed) = (checked.clone(), refused.clone(), failed.clone());
        attackers.push(tokio::spawn(async move {
            let mut attempt = 0_u64;
            while Instant::now() < deadline {
                attempt += 1;
                let answer = http
                    .post(format!("{base}/auth/login"))
                    .header("x-forwarded-for", "203.0.113.66")
                    .json(&json!({
                        "email": format!("guess-{connection}-{attempt}@flood.example"),
                        "password": "wrong",
                    }))
                    .send()
                    .await;
                let counter = match answer.map(|answer| answer.status().as_u16()) {
                    Ok(401) => &checked,
                    Ok(429) => &refused,
                    _ => &failed,
                };
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let mut other_user = Vec::new();
    let mut other_failures = 0;
    let mut peak_sampled = 0;
    while Instant::now() < deadline {
        let started = Instant::now();
        let answer = http
            .post(format!("{base}/auth/login"))
            .header("x-forwarded-for", "198.51.100.2")
            .json(&json!({ "email": other_email, "password": "the other owner's password" }))
            .send()
            .await;
        match answer {
            Ok(answer) if answer.status() == 200 => other_user.push(started.elapsed()),
            _ => other_failures += 1,
        }
        peak_sampled = peak_sampled.max(status_now("VmRSS"));
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    for attacker in attackers {
        attacker.await.map_err(text)?;
    }
    let peak_kb = status_now("VmHWM");
    other_user.sort();
    eprintln!(
        "checked {} passwords, refused {} at the door, {} failed; the other user signed in {} times ({} failed); \
         resident now {} kB, sampled peak {peak_sampled} kB, VmHWM {peak_kb} kB",
        checked.load(Ordering::Relaxed),
        refused.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
        other_user.len(),
        other_failures,
        status_now("VmRSS"),
    );
    if other_failures > 0 || failed.load(Ordering::Relaxed) > 0 {
        return Err(format!(
            "{other_failures} of the other user's sign-ins and {} flood requests failed outright",
            failed.load(Ordering::Relaxed)
        ));
    }
    Ok(format!(
        "auth_flood concurrency={concurrency} seconds={seconds} peak_rss_mb={:.1} hash_checks={} other_user_p99_ms={:.0}",
        peak_kb as f64 / 1024.0,
        checked.load(Ordering::Relaxed),
        percentile(&other_user, 99)
    ))
}

/// The child of `auth_flood`: the service on the embedded store in `data`, trusting
/// `X-Forwarded-For` from 127.0.0.1 so that the parent can speak for two addresses.
pub(crate) async fn auth_flood_server(data: &Path) -> Result<String, String> {
    use std::io::Write as _;
    let mut settings = nexus_server::Settings::defaults();
    settings.data_dir = data.to_owned();
    settings.log = "warn".to_owned();
    settings.trusted_proxies = "127.0.0.1".parse().map_err(text)?;
    let app = nexus_server::App::open(settings, Arc::new(SystemClock))
        .await
        .map_err(text)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(text)?;
    let address = listener.local_addr().map_err(text)?;
    writeln!(std::io::stdout().lock(), "listening {address}").map_err(text)?;
    app.serve(listener, std::future::pending())
        .await
        .map_err(text)?;
    Ok("auth_flood_server stopped".to_owned())
}

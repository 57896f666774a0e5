//! `pos_rss`: the peak memory of a station process serving its cashier screen and syncing.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use nexus_domain::SystemClock;
use nexus_pos::Station;

use crate::pos_benches::{CASHIER_PIN, prepare, text};

/// `pos_rss`: the parent prepares a station (server, enrolment, sync) and keeps the server; a
/// child process (this binary again) runs the station as `nexus pos serve` does (the cashier
/// screen's HTTP server and the sync worker, syncing to the parent's server), and the parent
/// sells `sales` five-line sales through the screen's HTTP endpoints, as a browser would. The
/// child's peak resident set is read from `/proc/<pid>/status`.
pub(crate) async fn pos_rss(sales: usize) -> Result<String, String> {
    let prepared = prepare("rss", 50).await?;
    prepared.station.close().await;
    let exe = std::env::current_exe().map_err(text)?;
    let mut child = std::process::Command::new(exe)
        .arg("pos_rss_child")
        .arg("--data")
        .arg(&prepared.station_dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .map_err(text)?;
    let outcome = drive_the_screen(&mut child, &prepared.codes, sales).await;
    let _ = child.kill();
    let _ = child.wait();
    prepared.finish().await;
    outcome
}

async fn drive_the_screen(
    child: &mut std::process::Child,
    codes: &[String],
    sales: usize,
) -> Result<String, String> {
    let address = child_address(child).await?;
    let pid = child.id();
    let base = format!("http://{address}");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(text)?;
    let form = |path: &str, cookie: Option<&str>, body: String| {
        let mut request = http
            .post(format!("{base}{path}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send()
    };
    let signed_in = form("/sign-in", None, format!("pin={CASHIER_PIN}"))
        .await
        .map_err(text)?;
    let cookie = signed_in
        .headers()
        .get("set-cookie")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(str::to_owned)
        .ok_or_else(|| format!("sign-in answered {} without a session", signed_in.status()))?;
    eprintln!("selling {sales} sales through the cashier screen of process {pid}…");
    let started = Instant::now();
    for index in 0..sales {
        for line in 0..5 {
            let code = &codes[(index * 7 + line * 11) % codes.len()];
            let quantity = 1 + (index + line) % 3;
            let scanned = form("/scan", Some(&cookie), format!("code={quantity}*{code}"))
                .await
                .map_err(text)?;
            if !scanned.status().is_success() {
                return Err(format!("a scan answered {}", scanned.status()));
            }
        }
        // Exact cash, as Enter on the empty amount pays it (a note far above the total would
        // be asked about first, as a slip of the keys).
        let paid = form("/pay/tender", Some(&cookie), "kind=cash&amount=".to_owned())
            .await
            .map_err(text)?;
        let done = form("/pay/complete", Some(&cookie), String::new())
            .await
            .map_err(text)?;
        let receipt = done
            .headers()
            .get("location")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        if !receipt.starts_with("/receipts/") {
            return Err(format!(
                "sale {index} was not completed (tender {}, complete {} to {receipt:?})",
                paid.status(),
                done.status()
            ));
        }
        if (index + 1) % 2000 == 0 {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(text)?;
            eprintln!(
                "  {}/{sales} in {:.0} s, resident {} kB",
                index + 1,
                started.elapsed().as_secs_f64(),
                status_kb(&status, "VmRSS").unwrap_or(0)
            );
        }
    }
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(text)?;
    let peak_kb = status_kb(&status, "VmHWM").ok_or("no VmHWM in the child's status")?;
    eprintln!(
        "{sales} sales in {:.1} s; the station process: VmRSS {} kB, VmHWM {peak_kb} kB",
        started.elapsed().as_secs_f64(),
        status_kb(&status, "VmRSS").unwrap_or(0)
    );
    Ok(format!("pos_rss peak_mb={:.1}", peak_kb as f64 / 1024.0))
}

/// The child of `pos_rss`: the station in `data` served as `nexus pos serve` serves it (the
/// cashier screen and the sync worker) on a port of its own, which it prints first.
pub(crate) async fn pos_rss_child(data: &Path) -> Result<String, String> {
    use std::io::Write as _;
    let station = Station::open(data).await.map_err(text)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(text)?;
    let address = listener.local_addr().map_err(text)?;
    writeln!(std::io::stdout().lock(), "listening {address}").map_err(text)?;
    nexus_pos::web::serve(
        Arc::new(station),
        Arc::new(SystemClock),
        nexus_pos::WorkerSettings::default(),
        listener,
        std::future::pending(),
    )
    .await
    .map_err(text)?;
    Ok("pos_rss_child stopped".to_owned())
}

/// `pos_pin_flood`: the station process of `pos_rss` (this binary again, serving the cashier
/// screen and syncing to the parent's server) takes `concurrency` connections sending wrong PINs
/// to `POST /sign-in` for `seconds`, half PIN-only and half for the cashier by name, as a phone
/// on the shop's Wi-Fi could. The lock after five wrong PINs would soon make every answer a cheap
/// refusal, so the parent clears the station's `pin_attempts` every 100 ms: each attempt is a
/// real argon2id check, the worst case for memory. Then the right PIN must still sign in. Prints
/// the child's peak resident set (`VmHWM`) and how many PINs it checked: answers saying "wrong
/// PIN". Those saying "locked" are counted apart; the one check in five that sets the lock is
/// among them, so the hashes computed are up to a quarter more than `pin_checks`.
pub(crate) async fn pos_pin_flood(concurrency: usize, seconds: u64) -> Result<String, String> {
    let prepared = prepare("pin-flood", 50).await?;
    let cashier = prepared
        .station
        .till_staff()
        .await
        .map_err(text)?
        .first()
        .map(|member| member.id)
        .ok_or("the prepared station has no cashier")?;
    prepared.station.close().await;
    let exe = std::env::current_exe().map_err(text)?;
    let mut child = std::process::Command::new(exe)
        .arg("pos_rss_child")
        .arg("--data")
        .arg(&prepared.station_dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .map_err(text)?;
    let outcome = flood_the_sign_in(
        &mut child,
        &prepared.station_dir,
        cashier,
        concurrency,
        seconds,
    )
    .await;
    let _ = child.kill();
    let _ = child.wait();
    prepared.finish().await;
    outcome
}

async fn flood_the_sign_in(
    child: &mut std::process::Child,
    station_dir: &Path,
    cashier: uuid::Uuid,
    concurrency: usize,
    seconds: u64,
) -> Result<String, String> {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::time::Duration;

    use sqlx::Connection as _;

    let address = child_address(child).await?;
    let pid = child.id();
    let sign_in = format!("http://{address}/sign-in");
    let status_now = move |field: &str| process_kb(pid, field);
    eprintln!(
        "flooding the sign-in of station process {pid} with {concurrency} connections for {seconds} s; \
         it idles at {} kB",
        status_now("VmRSS")
    );

    // Another process's connection to the station's database, as a second `nexus pos` would.
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(station_dir.join("station.db"))
        .busy_timeout(Duration::from_secs(10));
    let mut database = sqlx::SqliteConnection::connect_with(&options)
        .await
        .map_err(text)?;
    let flooding = Arc::new(AtomicBool::new(true));
    let unlocker = {
        let flooding = flooding.clone();
        tokio::spawn(async move {
            while flooding.load(Ordering::Relaxed) {
                sqlx::query("DELETE FROM pin_attempts")
                    .execute(&mut database)
                    .await
                    .map_err(text)?;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok::<_, String>(database)
        })
    };

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let checked = Arc::new(AtomicUsize::new(0));
    let locked = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let mut attackers = Vec::with_capacity(concurrency);
    for connection in 0..concurrency {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(text)?;
        let sign_in = sign_in.clone();
        let (checked, locked, failed) = (checked.clone(), locked.clone(), failed.clone());
        attackers.push(tokio::spawn(async move {
            let mut attempt = 0_usize;
            while Instant::now() < deadline {
                attempt += 1;
                // Never the cashier's PIN; a 4-digit guess like any other.
                let guess = format!("{:04}", (connection * 7919 + attempt * 104_729) % 10_000);
                let guess = if guess == CASHIER_PIN {
                    "0000".to_owned()
                } else {
                    guess
                };
                let body = if attempt.is_multiple_of(2) {
                    format!("pin={guess}")
                } else {
                    format!("staff_id={cashier}&pin={guess}")
                };
                let answer = http
                    .post(&sign_in)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body)
                    .send()
                    .await;
                let counter = match answer {
                    Ok(answer) if answer.status() == 401 => match answer.text().await {
                        Ok(page) if page.contains("is locked") => &locked,
                        Ok(page) if page.contains("wrong PIN") => &checked,
                        _ => &failed,
                    },
                    _ => &failed,
                };
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let started = Instant::now();
    let mut sampled_kb = 0;
    let mut next_report = Duration::from_secs(10);
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(1)).await;
        sampled_kb = sampled_kb.max(status_now("VmRSS"));
        if started.elapsed() >= next_report {
            next_report += Duration::from_secs(10);
            eprintln!(
                "  {:.0} s: {} checked, {} locked, {} failed; resident {} kB",
                started.elapsed().as_secs_f64(),
                checked.load(Ordering::Relaxed),
                locked.load(Ordering::Relaxed),
                failed.load(Ordering::Relaxed),
                status_now("VmRSS")
            );
        }
    }
    for attacker in attackers {
        attacker.await.map_err(text)?;
    }
    flooding.store(false, Ordering::Relaxed);
    let mut database = unlocker.await.map_err(text)??;
    sqlx::query("DELETE FROM pin_attempts")
        .execute(&mut database)
        .await
        .map_err(text)?;
    database.close().await.map_err(text)?;
    let peak_kb = status_now("VmHWM");

    // The cashier signs in with the right PIN once the flood is over.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(text)?;
    let signed_in = http
        .post(&sign_in)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("staff_id={cashier}&pin={CASHIER_PIN}"))
        .send()
        .await
        .map_err(text)?;
    let (checked, locked, failed) = (
        checked.load(Ordering::Relaxed),
        locked.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
    );
    eprintln!(
        "{checked} PINs checked, {locked} refused as locked, {failed} failed; the right PIN then \
         answered {}; resident now {} kB, sampled peak {sampled_kb} kB, VmHWM {peak_kb} kB",
        signed_in.status(),
        status_now("VmRSS")
    );
    if failed > 0 || signed_in.status() != 303 {
        return Err(format!(
            "{failed} flood requests failed outright; the right PIN answered {}",
            signed_in.status()
        ));
    }
    Ok(format!(
        "pos_pin_flood concurrency={concurrency} seconds={seconds} peak_rss_mb={:.1} pin_checks={checked}",
        peak_kb as f64 / 1024.0
    ))
}

/// The address a bench's child server prints as its first line (`listening ADDR`).
pub(crate) async fn child_address(child: &mut std::process::Child) -> Result<String, String> {
    use std::io::BufRead as _;
    let stdout = child.stdout.take().ok_or("the child has no stdout")?;
    tokio::task::spawn_blocking(move || {
        std::io::BufReader::new(stdout)
            .lines()
            .next()
            .and_then(Result::ok)
            .and_then(|line| line.strip_prefix("listening ").map(str::to_owned))
    })
    .await
    .map_err(text)?
    .ok_or_else(|| "the child did not say where it listens".to_owned())
}

/// A field of process `pid`'s `/proc/<pid>/status`, in kB; 0 when it cannot be read.
pub(crate) fn process_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| status_kb(&status, field))
        .unwrap_or(0)
}

/// A `Name:   1234 kB` field of `/proc/<pid>/status`, in kB.
pub(crate) fn status_kb(status: &str, field: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_fields_are_read_in_kb() {
        let status =
            "Name:\tnexus-bench\nVmPeak:\t  99999 kB\nVmHWM:\t   41234 kB\nVmRSS:\t   40000 kB\n";
        assert_eq!(status_kb(status, "VmHWM"), Some(41_234));
        assert_eq!(status_kb(status, "VmRSS"), Some(40_000));
        assert_eq!(status_kb(status, "VmSwap"), None);
    }
}

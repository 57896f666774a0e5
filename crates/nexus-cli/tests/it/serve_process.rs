//! `nexus serve` as a child process on 127.0.0.1:0, for tests of several processes on one
//! database.

use std::io::BufRead as _;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A `nexus serve` process and the address it serves on.
pub struct ServeProcess {
    child: Child,
    pub base_url: String,
}

impl ServeProcess {
    /// `nexus serve` on `database_url`, its live updates listening on `listen_url` (a direct
    /// connection to PostgreSQL, as a deployment behind PgBouncer has).
    pub fn start(database_url: &str, listen_url: &str) -> Self {
        let mut command = Self::command(&["--database-url", database_url]);
        command.env("NEXUS_DATABASE_LISTEN_URL", listen_url);
        Self::spawn(command)
    }

    /// `nexus serve` on `--database-url URL` when `target` is one, else on `--data DIR`.
    pub fn on(target: &str) -> Self {
        let flag = if target.contains("://") {
            "--database-url"
        } else {
            "--data"
        };
        let mut command = Self::command(&[flag, target]);
        command
            .env_remove("NEXUS_DATABASE_URL")
            .env_remove("DATABASE_URL");
        Self::spawn(command)
    }

    fn command(store: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_nexus"));
        command
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--max-connections",
                "12",
            ])
            .args(store);
        command
    }

    fn spawn(mut command: Command) -> Self {
        let mut child = command
            .env_remove("NEXUS_CONFIG")
            .env("NEXUS_LOG", "info")
            // Every tenant here registers from 127.0.0.1.
            .env("NEXUS_REGISTRATIONS_PER_HOUR", "1000")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start nexus serve");
        let stderr = child.stderr.take().expect("stderr");
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                // Errors stay visible in the test's output; the first line names the address.
                if line.contains("ERROR") {
                    eprintln!("nexus serve: {line}");
                }
                let _ = send.send(line);
            }
        });
        let mut printed = Vec::new();
        let base_url = loop {
            let line = lines
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|error| {
                    panic!("nexus serve said no address ({error}): {printed:?}")
                });
            if let Some(at) = line.find("API at http://") {
                let url = &line[at + "API at ".len()..];
                let end = url.find("/api/v1").expect("an API URL");
                break url[..end].to_owned();
            }
            printed.push(line);
        };
        Self { child, base_url }
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

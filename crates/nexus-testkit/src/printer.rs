//! A thermal receipt printer's raw network port on `127.0.0.1:0` for tests, behaving as an
//! ESC/POS printer on port 9100 does: one job a connection, kept when the sender closes it;
//! real-time status questions (`DLE EOT n`, n = 1 to 4) answered at once with a status byte as
//! the printer's state makes it, and left out of the job. It can be told it is out of paper or
//! has its cover open, and it can be switched off (it stops listening, so a connection is
//! refused) and on again at the same address.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};

const DLE: u8 = 0x10;
const EOT: u8 = 0x04;
const ESC: u8 = 0x1B;
const GS: u8 = 0x1D;

/// A status byte's fixed bits: 1 and 4 set, 0 and 7 clear.
const STATUS_BASE: u8 = 0x12;

#[derive(Clone, Copy, Debug, Default)]
struct State {
    out_of_paper: bool,
    cover_open: bool,
}

/// One job as the printer received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrintedJob {
    pub bytes: Vec<u8>,
    /// How many status questions came with it.
    pub questions: usize,
}

impl PrintedJob {
    /// Whether the job kicks the cash drawer (`ESC p m t1 t2`, either connector).
    pub fn opens_drawer(&self) -> bool {
        self.bytes
            .windows(3)
            .any(|window| window[0] == ESC && window[1] == b'p' && window[2] <= 1)
    }

    /// The job's printable text (ASCII and UTF-8 as sent), with every ESC and GS command taken
    /// out, lines as the printer would feed them.
    pub fn text(&self) -> String {
        let mut text = Vec::new();
        let mut index = 0;
        while index < self.bytes.len() {
            let byte = self.bytes[index];
            index += match byte {
                ESC => command_length(&self.bytes[index..]),
                GS => gs_command_length(&self.bytes[index..]),
                b'\n' => {
                    text.push(b'\n');
                    1
                }
                byte if byte >= 0x20 => {
                    text.push(byte);
                    1
                }
                _ => 1,
            };
        }
        String::from_utf8_lossy(&text).into_owned()
    }

    /// What is wrong with the job as a receipt: it must start by initialising the printer
    /// (after a drawer kick, if any) and end with a cut, so that a half-sent job is told apart.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let start = if self.bytes.starts_with(&[ESC, b'p']) {
            5
        } else {
            0
        };
        if !self.bytes[start.min(self.bytes.len())..].starts_with(&[ESC, b'@']) {
            problems.push("the job does not start with ESC @ (initialise)".to_owned());
        }
        let tail = &self.bytes[self.bytes.len().saturating_sub(4)..];
        if !tail.windows(2).any(|window| window == [GS, b'V']) {
            problems.push("the job does not end with a cut (GS V)".to_owned());
        }
        problems
    }
}

/// Bytes an `ESC` command takes, for the commands a receipt uses.
fn command_length(bytes: &[u8]) -> usize {
    match bytes.get(1) {
        Some(b'@') => 2,
        Some(b'p') => 5,
        Some(b'E' | b'a' | b'!' | b'd' | b'M' | b't' | b'-' | b'G') => 3,
        _ => 2,
    }
}

/// Bytes a `GS` command takes, for the commands a receipt uses.
fn gs_command_length(bytes: &[u8]) -> usize {
    match (bytes.get(1), bytes.get(2)) {
        (Some(b'V'), Some(65 | 66)) => 4,
        (Some(b'V'), _) => 3,
        (Some(b'!'), _) => 3,
        _ => 2,
    }
}

/// The fake printer; dropped, it stops listening.
pub struct FakePrinter {
    address: SocketAddr,
    state: Arc<Mutex<State>>,
    jobs: Arc<Mutex<Vec<PrintedJob>>>,
    arrived: Arc<Notify>,
    /// The listening task and its switch, while the printer is on.
    on: Option<(watch::Sender<bool>, tokio::task::JoinHandle<()>)>,
}

impl FakePrinter {
    /// A printer switched on, with paper, on a free port of 127.0.0.1.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake printer");
        let address = listener.local_addr().expect("address");
        let mut printer = Self {
            address,
            state: Arc::default(),
            jobs: Arc::default(),
            arrived: Arc::default(),
            on: None,
        };
        printer.listen(listener);
        printer
    }

    /// `host:port`, as a station's printer setting takes it.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn set_out_of_paper(&self, out: bool) {
        self.lock_state().out_of_paper = out;
    }

    pub fn set_cover_open(&self, open: bool) {
        self.lock_state().cover_open = open;
    }

    /// Stops listening, and returns once the port is closed: connecting is refused from then
    /// on, as to a printer that is off.
    pub async fn switch_off(&mut self) {
        if let Some((on, task)) = self.on.take() {
            let _ = on.send(false);
            let _ = task.await;
        }
    }

    /// Listens again at the same address.
    pub async fn switch_on(&mut self) {
        if self.on.is_some() {
            return;
        }
        let listener = TcpListener::bind(self.address)
            .await
            .expect("bind the fake printer again");
        self.listen(listener);
    }

    /// Every job printed so far, oldest first.
    pub fn jobs(&self) -> Vec<PrintedJob> {
        self.jobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Waits until `count` jobs have been printed, up to ten seconds; the jobs.
    pub async fn wait_for_jobs(&self, count: usize) -> Vec<PrintedJob> {
        let waited = tokio::time::timeout(std::time::Duration::from_secs(10), async {
            loop {
                let notified = self.arrived.notified();
                let jobs = self.jobs();
                if jobs.len() >= count {
                    return jobs;
                }
                notified.await;
            }
        })
        .await;
        waited.unwrap_or_else(|_| {
            panic!(
                "the fake printer received {} job(s), not {count}",
                self.jobs().len()
            )
        })
    }

    fn lock_state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn listen(&mut self, listener: TcpListener) {
        let (on, mut switched) = watch::channel(true);
        let (state, jobs, arrived) = (self.state.clone(), self.jobs.clone(), self.arrived.clone());
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        let (state, jobs, arrived) = (state.clone(), jobs.clone(), arrived.clone());
                        tokio::spawn(async move {
                            if let Some(job) = take_job(stream, &state).await {
                                jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(job);
                                arrived.notify_waiters();
                            }
                        });
                    }
                    changed = switched.changed() => {
                        if changed.is_err() || !*switched.borrow() {
                            return;
                        }
                    }
                }
            }
        });
        self.on = Some((on, task));
    }
}

impl Drop for FakePrinter {
    fn drop(&mut self) {
        if let Some((_, task)) = self.on.take() {
            task.abort();
        }
    }
}

/// Reads one job until the sender closes, answering status questions as they come.
async fn take_job(mut stream: TcpStream, state: &Mutex<State>) -> Option<PrintedJob> {
    let mut received = Vec::new();
    let mut job = Vec::new();
    let mut questions = 0;
    let mut buffer = [0_u8; 4096];
    loop {
        let read = stream.read(&mut buffer).await.ok()?;
        if read == 0 {
            break;
        }
        received.extend_from_slice(&buffer[..read]);
        // Take out every complete question; keep a split one for the next read.
        let mut index = 0;
        while index < received.len() {
            if received[index] == DLE {
                if received.len() < index + 3 {
                    break;
                }
                if received[index + 1] == EOT && (1..=4).contains(&received[index + 2]) {
                    let status = {
                        let state = *state
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                        status_byte(received[index + 2], state)
                    };
                    stream.write_all(&[status]).await.ok()?;
                    questions += 1;
                    index += 3;
                    continue;
                }
            }
            job.push(received[index]);
            index += 1;
        }
        received.drain(..index);
    }
    job.extend_from_slice(&received);
    (!job.is_empty() || questions > 0).then_some(PrintedJob {
        bytes: job,
        questions,
    })
}

/// The answer to `DLE EOT n` in `state`, as an Epson TM printer gives it.
fn status_byte(n: u8, state: State) -> u8 {
    let offline = state.out_of_paper || state.cover_open;
    match n {
        1 if offline => STATUS_BASE | 0x08,
        2 => {
            let mut byte = STATUS_BASE;
            if state.cover_open {
                byte |= 0x04;
            }
            if state.out_of_paper {
                byte |= 0x20;
            }
            byte
        }
        4 if state.out_of_paper => STATUS_BASE | 0x60,
        _ => STATUS_BASE,
    }
}

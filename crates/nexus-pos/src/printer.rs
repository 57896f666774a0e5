//! Printing receipts on the shop's thermal printer: a network printer's raw port (TCP 9100, as
//! Epson, Xprinter and most ESC/POS printers take it) or a USB printer's device file
//! (`/dev/usb/lp0`). Before a receipt goes, a network printer is asked for its paper and cover
//! (ESC/POS real-time status, `DLE EOT`), so the cashier hears "out of paper" rather than
//! nothing; a printer that does not answer the question is printed to all the same.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// The port ESC/POS network printers take raw jobs on.
pub const RAW_PORT: u16 = 9100;

/// ESC p 0 25 250: a pulse on the drawer connector's pin 2 (50 ms on, 500 ms off), the kick
/// every ESC/POS printer with a drawer port understands.
pub const DRAWER_KICK: [u8; 5] = [0x1B, b'p', 0, 25, 250];

/// DLE EOT n: the printer answers one status byte at once, even in the middle of a job.
const ASK_OFFLINE_CAUSE: [u8; 3] = [0x10, 0x04, 0x02];
const ASK_PAPER: [u8; 3] = [0x10, 0x04, 0x04];

/// How long a printer has to take the connection, to answer a status question, and to take
/// the receipt: enough for a printer on the shop's Wi-Fi, short enough that a cashier is not
/// left waiting on one that is off.
const CONNECT_WITHIN: Duration = Duration::from_secs(3);
const ANSWER_WITHIN: Duration = Duration::from_millis(1500);
const WRITE_WITHIN: Duration = Duration::from_secs(10);

/// Where the station's receipts print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrinterTarget {
    /// A network printer's raw port.
    Network { host: String, port: u16 },
    /// A printer's device file (a USB printer on Linux: `/dev/usb/lp0`).
    Device(PathBuf),
}

/// Why a printer setting does not read.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error(
        "give the printer's address (192.168.1.50 or 192.168.1.50:9100) or its device file (/dev/usb/lp0)"
    )]
    Empty,
    #[error("{0:?} is not a port number")]
    Port(String),
    #[error(
        "{0:?} is not a printer's address: use the IP address or name shown on its self-test page"
    )]
    Host(String),
}

impl FromStr for PrinterTarget {
    type Err = TargetError;

    /// `192.168.1.50`, `192.168.1.50:9100`, `tcp://printer.local:9100` or `/dev/usb/lp0`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text.is_empty() {
            return Err(TargetError::Empty);
        }
        if text.starts_with('/') {
            return Ok(PrinterTarget::Device(PathBuf::from(text)));
        }
        let address = text.strip_prefix("tcp://").unwrap_or(text);
        let (host, port) = match address.rsplit_once(':') {
            Some((host, port)) => (
                host,
                port.parse::<u16>()
                    .ok()
                    .filter(|port| *port > 0)
                    .ok_or_else(|| TargetError::Port(port.to_owned()))?,
            ),
            None => (address, RAW_PORT),
        };
        let readable = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        if !readable {
            return Err(TargetError::Host(host.to_owned()));
        }
        Ok(PrinterTarget::Network {
            host: host.to_owned(),
            port,
        })
    }
}

impl fmt::Display for PrinterTarget {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrinterTarget::Network { host, port } => write!(formatter, "{host}:{port}"),
            PrinterTarget::Device(path) => write!(formatter, "{}", path.display()),
        }
    }
}

/// Why a receipt did not print, as the cashier is told it. The sale is recorded whatever the
/// printer does; each message says what to check before reprinting.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PrintError {
    #[error(
        "The printer at {0} does not answer: check that it is switched on and connected, then reprint."
    )]
    Off(String),
    #[error("The printer is out of paper: put in a new roll, then reprint.")]
    OutOfPaper,
    #[error("The printer's cover is open: close it, then reprint.")]
    CoverOpen,
    #[error(
        "No printer is connected at {0}: check the USB cable and that the printer is on, then reprint."
    )]
    NoDevice(String),
    /// What went wrong is logged; the cashier is told what to check.
    #[error("The printer did not take the receipt: check its paper and power, then reprint.")]
    Failed(String),
}

impl PrintError {
    /// The failure's short name, for a link (`?printed=paper`) and a log.
    pub fn code(&self) -> &'static str {
        match self {
            PrintError::Off(_) => "off",
            PrintError::OutOfPaper => "paper",
            PrintError::CoverOpen => "cover",
            PrintError::NoDevice(_) => "no_device",
            PrintError::Failed(_) => "failed",
        }
    }

    /// The failure named `code` at `target`, as [`PrintError::code`] named it.
    pub fn from_code(code: &str, target: &PrinterTarget) -> Option<Self> {
        Some(match code {
            "off" => PrintError::Off(target.to_string()),
            "paper" => PrintError::OutOfPaper,
            "cover" => PrintError::CoverOpen,
            "no_device" => PrintError::NoDevice(target.to_string()),
            "failed" => PrintError::Failed(String::new()),
            _ => return None,
        })
    }
}

/// Sends `job` (ESC/POS bytes) to `target`.
pub async fn print(target: &PrinterTarget, job: &[u8]) -> Result<(), PrintError> {
    let printed = match target {
        PrinterTarget::Network { host, port } => print_network(host, *port, job).await,
        PrinterTarget::Device(path) => print_device(path, job).await,
    };
    if let Err(error) = &printed {
        let detail = match error {
            PrintError::Failed(detail) => detail.as_str(),
            _ => "",
        };
        tracing::warn!(printer = %target, problem = error.code(), detail, "a receipt did not print");
    }
    printed
}

impl crate::Station {
    /// Prints `receipt` on the station's printer, kicking the cash drawer first when
    /// `open_drawer` and the settings allow; `None` when the station has no printer set.
    pub async fn print_receipt(
        &self,
        receipt: &crate::receipt::Receipt,
        open_drawer: bool,
    ) -> crate::StationResult<Option<Result<(), PrintError>>> {
        let settings = self.station_settings().await?;
        let Some(target) = &settings.printer else {
            return Ok(None);
        };
        let mut job = Vec::new();
        if open_drawer && settings.cash_drawer {
            job.extend_from_slice(&DRAWER_KICK);
        }
        job.extend(crate::receipt::escpos(receipt, settings.paper));
        Ok(Some(print(target, &job).await))
    }

    /// Prints a test page on the station's printer (the drawer stays shut); `None` when the
    /// station has no printer set.
    pub async fn print_test_page(&self) -> crate::StationResult<Option<Result<(), PrintError>>> {
        let settings = self.station_settings().await?;
        let Some(target) = &settings.printer else {
            return Ok(None);
        };
        let job = crate::receipt::escpos_test_page(settings.paper, &target.to_string());
        Ok(Some(print(target, &job).await))
    }
}

async fn print_network(host: &str, port: u16, job: &[u8]) -> Result<(), PrintError> {
    let address = format!("{host}:{port}");
    let mut stream = match tokio::time::timeout(
        CONNECT_WITHIN,
        tokio::net::TcpStream::connect(&address),
    )
    .await
    {
        Ok(Ok(stream)) => stream,
        Ok(Err(_)) | Err(_) => return Err(PrintError::Off(address)),
    };
    let failed = |error: std::io::Error| PrintError::Failed(error.kind().to_string());
    if let Some(paper) = ask(&mut stream, &ASK_PAPER).await.map_err(failed)? {
        // Bits 5 and 6: the roll's end sensor finds no paper.
        if paper & 0x60 == 0x60 {
            return Err(PrintError::OutOfPaper);
        }
        if let Some(cause) = ask(&mut stream, &ASK_OFFLINE_CAUSE).await.map_err(failed)?
            && cause & 0x04 != 0
        {
            return Err(PrintError::CoverOpen);
        }
    }
    match tokio::time::timeout(WRITE_WITHIN, async {
        stream.write_all(job).await?;
        stream.flush().await?;
        stream.shutdown().await
    })
    .await
    {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(failed(error)),
        Err(_) => Err(PrintError::Failed("it stopped taking data".to_owned())),
    }
}

/// Asks one real-time status question; `None` when the printer does not answer it (some do
/// not), or answers with something that is not a status byte.
async fn ask(stream: &mut tokio::net::TcpStream, question: &[u8]) -> std::io::Result<Option<u8>> {
    stream.write_all(question).await?;
    let mut answer = [0_u8; 1];
    match tokio::time::timeout(ANSWER_WITHIN, stream.read(&mut answer)).await {
        // A status byte has bits 1 and 4 set and bits 0 and 7 clear.
        Ok(Ok(1)) if answer[0] & 0x93 == 0x12 => Ok(Some(answer[0])),
        Ok(Ok(_)) | Err(_) => Ok(None),
        Ok(Err(error)) => Err(error),
    }
}

async fn print_device(path: &std::path::Path, job: &[u8]) -> Result<(), PrintError> {
    // Never created: a device file that is missing is a printer that is unplugged.
    let opened = tokio::fs::OpenOptions::new()
        .write(true)
        .append(true)
        .open(path)
        .await;
    let mut device = match opened {
        Ok(device) => device,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(PrintError::NoDevice(path.display().to_string()));
        }
        Err(error) => return Err(PrintError::Failed(error.kind().to_string())),
    };
    let written = tokio::time::timeout(WRITE_WITHIN, async {
        device.write_all(job).await?;
        device.flush().await?;
        device.sync_all().await
    })
    .await;
    match written {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(PrintError::Failed(error.kind().to_string())),
        Err(_) => Err(PrintError::Failed("it stopped taking data".to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_printer_is_an_address_or_a_device_file() {
        let network = |host: &str, port| PrinterTarget::Network {
            host: host.to_owned(),
            port,
        };
        assert_eq!(
            "192.168.1.50".parse::<PrinterTarget>().ok(),
            Some(network("192.168.1.50", 9100))
        );
        assert_eq!(
            "tcp://printer.local:9101".parse::<PrinterTarget>().ok(),
            Some(network("printer.local", 9101))
        );
        assert_eq!(
            "/dev/usb/lp0".parse::<PrinterTarget>().ok(),
            Some(PrinterTarget::Device(PathBuf::from("/dev/usb/lp0")))
        );
        for bad in [
            "",
            "  ",
            "192.168.1.50:port",
            "192.168.1.50:0",
            "my printer",
            "http://x/y",
        ] {
            assert!(bad.parse::<PrinterTarget>().is_err(), "{bad:?}");
        }
        for text in ["10.0.0.7:9100", "/dev/usb/lp1"] {
            let target: PrinterTarget = text.parse().expect("reads");
            assert_eq!(target.to_string(), text);
        }
    }
}

//! Receipts printed on a real socket: the station sends ESC/POS to the in-repo fake printer on
//! 127.0.0.1 (raw port, as a 9100 printer) or writes a device file, kicks the drawer only when
//! asked, and tells "off", "out of paper" and "cover open" apart, sending nothing to a printer
//! that cannot print.

use nexus_pos::SettingsChange;
use nexus_pos::printer::{PrintError, PrinterTarget};
use nexus_pos::receipt::{Paper, escpos};
use nexus_testkit::Backend;
use nexus_testkit::printer::FakePrinter;

/// Prints `receipt` on the station's printer, the drawer kicked when `open_drawer`.
async fn print(
    station: &nexus_pos::Station,
    receipt: &nexus_pos::receipt::Receipt,
    open_drawer: bool,
) -> Option<Result<(), PrintError>> {
    station
        .print_receipt(receipt, open_drawer)
        .await
        .expect("the station's settings read")
}

fn printing_to(target: PrinterTarget) -> SettingsChange {
    SettingsChange {
        printer: Some(Some(target)),
        ..SettingsChange::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_print_on_a_network_printer_or_a_device_and_say_what_is_wrong() {
    let mut till = super::till::till(&Backend::Sqlite).await;
    till.server.pause().await;
    let (_, sale) = super::till::efua_sells_a_rice(&till).await;
    let station = &till.station;
    assert_eq!(
        print(station, &sale.receipt, true).await,
        None,
        "no printer set: nothing printed"
    );

    let mut printer = FakePrinter::start().await;
    let target: PrinterTarget = printer.address().to_string().parse().expect("address");
    station
        .change_station_settings(&printing_to(target.clone()))
        .await
        .expect("settings");
    // A cash sale: the drawer opens, then the receipt prints, byte for byte.
    assert_eq!(print(station, &sale.receipt, true).await, Some(Ok(())));
    let jobs = printer.wait_for_jobs(1).await;
    let expected = escpos(&sale.receipt, Paper::Mm80);
    assert!(jobs[0].opens_drawer());
    assert_eq!(jobs[0].bytes[..5], nexus_pos::printer::DRAWER_KICK);
    assert_eq!(jobs[0].bytes[5..], expected[..], "the receipt as generated");
    assert!(jobs[0].problems().is_empty(), "{:?}", jobs[0].problems());
    assert!(
        jobs[0].questions >= 2,
        "the paper and cover were asked about"
    );
    assert!(jobs[0].text().contains(&sale.receipt_number));

    // A reprint leaves the drawer shut; with the drawer setting off, no sale opens it.
    print(station, &sale.receipt, false)
        .await
        .expect("a printer is set")
        .expect("printed");
    station
        .change_station_settings(&SettingsChange {
            cash_drawer: Some(false),
            paper: Some(Paper::Mm58),
            ..SettingsChange::default()
        })
        .await
        .expect("settings");
    print(station, &sale.receipt, true)
        .await
        .expect("a printer is set")
        .expect("printed");
    let jobs = printer.wait_for_jobs(3).await;
    assert!(!jobs[1].opens_drawer() && !jobs[2].opens_drawer());
    assert_eq!(
        jobs[2].bytes,
        escpos(&sale.receipt, Paper::Mm58),
        "58 mm as set"
    );

    // Out of paper, cover open, off: each said as such, and no receipt bytes go out.
    printer.set_out_of_paper(true);
    assert_eq!(
        print(station, &sale.receipt, true).await,
        Some(Err(PrintError::OutOfPaper))
    );
    printer.set_out_of_paper(false);
    printer.set_cover_open(true);
    assert_eq!(
        print(station, &sale.receipt, true).await,
        Some(Err(PrintError::CoverOpen))
    );
    printer.set_cover_open(false);
    let jobs = printer.wait_for_jobs(5).await;
    assert!(
        jobs[3..].iter().all(|job| job.bytes.is_empty()),
        "nothing but the questions went to a printer that could not print"
    );
    printer.switch_off().await;
    let off = print(station, &sale.receipt, false).await;
    assert_eq!(off, Some(Err(PrintError::Off(target.to_string()))));
    let message = off
        .and_then(Result::err)
        .map(|error| error.to_string())
        .unwrap_or_default();
    assert!(
        message.contains("switched on") && message.contains("reprint"),
        "{message}"
    );
    // Back on, the reprint prints.
    printer.switch_on().await;
    print(station, &sale.receipt, false)
        .await
        .expect("a printer is set")
        .expect("printed");
    let jobs = printer.wait_for_jobs(6).await;
    assert_eq!(jobs[5].bytes, escpos(&sale.receipt, Paper::Mm58));

    // A USB printer is a device file: written, never created.
    let device = till.data.join("lp0");
    std::fs::write(&device, b"").expect("the device");
    station
        .change_station_settings(&printing_to(PrinterTarget::Device(device.clone())))
        .await
        .expect("settings");
    print(station, &sale.receipt, false)
        .await
        .expect("a printer is set")
        .expect("printed");
    assert_eq!(
        std::fs::read(&device).expect("read"),
        escpos(&sale.receipt, Paper::Mm58)
    );
    let unplugged = till.data.join("usb/lp9");
    station
        .change_station_settings(&printing_to(PrinterTarget::Device(unplugged.clone())))
        .await
        .expect("settings");
    assert_eq!(
        print(station, &sale.receipt, false).await,
        Some(Err(PrintError::NoDevice(unplugged.display().to_string())))
    );
    assert!(
        !unplugged.exists(),
        "no file is made where the printer should be"
    );
    let _ = std::fs::remove_dir_all(&till.data);
}

//! ESC/POS output, byte for byte, against golden files in `tests/golden/`. A change to the
//! layout shows up here as a diff to review; `NEXUS_UPDATE_GOLDEN=1` rewrites the files.

use nexus_domain::{Currency, PriceMode, Quantity};
use nexus_pos::receipt::{Paper, Receipt, ReceiptLevy, ReceiptLine, ReceiptTender, escpos, text};

/// A sale of rice, water and milk with a line discount, paid by mobile money and cash.
fn receipt() -> Receipt {
    let line = |line_no,
                name: &str,
                sku: &str,
                quantity_milli,
                unit,
                gross,
                discount,
                total,
                levies: Vec<(&str, i64)>| ReceiptLine {
        line_no,
        product_id: uuid::Uuid::from_u128(u128::try_from(line_no).unwrap_or(0)),
        sku: sku.to_owned(),
        name: name.to_owned(),
        quantity: Quantity::from_milli(quantity_milli),
        pack: None,
        unit_price_minor: unit,
        gross_minor: gross,
        discount_minor: discount,
        net_minor: total - levies.iter().map(|(_, amount)| amount).sum::<i64>(),
        tax_minor: levies.iter().map(|(_, amount)| amount).sum(),
        total_minor: total,
        levies: levies
            .into_iter()
            .map(|(code, amount)| (code.to_owned(), amount))
            .collect(),
    };
    Receipt {
        title: "SALE".to_owned(),
        branch: "Osu".to_owned(),
        station: "Till 1".to_owned(),
        receipt_number: "OSU-TILL1-000042".to_owned(),
        refers_to_receipt: None,
        printed_at: "2026-03-06 14:05".to_owned(),
        cashier: "Efua".to_owned(),
        customer: Some("Ama Mensah".to_owned()),
        price_list: nexus_domain::PriceList::Retail,
        currency: Currency::Ghs,
        price_mode: PriceMode::Inclusive,
        lines: vec![
            line(
                1,
                "Rice 5kg (Royal Aroma, jasmine)",
                "RICE",
                2000,
                1200,
                2400,
                240,
                2160,
                vec![("VAT", 270), ("NHIL", 45), ("GETFUND", 45)],
            ),
            line(
                2,
                "Voltic water 1.5l",
                "WATER",
                3000,
                500,
                1500,
                0,
                1500,
                vec![],
            ),
            line(
                3,
                "Peak milk tin",
                "MILK",
                1000,
                2500,
                2500,
                0,
                2500,
                vec![("VAT", 313), ("NHIL", 52), ("GETFUND", 52)],
            ),
        ],
        gross_minor: 6400,
        discount_minor: 240,
        net_minor: 5383,
        tax_minor: 777,
        total_minor: 6160,
        levies: vec![
            ReceiptLevy {
                code: "VAT".to_owned(),
                name: "VAT".to_owned(),
                rate_basis_points: 1500,
                amount_minor: 583,
            },
            ReceiptLevy {
                code: "NHIL".to_owned(),
                name: "NHIL".to_owned(),
                rate_basis_points: 250,
                amount_minor: 97,
            },
            ReceiptLevy {
                code: "GETFUND".to_owned(),
                name: "GETFund Levy".to_owned(),
                rate_basis_points: 250,
                amount_minor: 97,
            },
        ],
        tenders: vec![
            ReceiptTender {
                kind: "momo".to_owned(),
                amount_minor: 5000,
                network: Some("mtn".to_owned()),
                phone: Some("0241234567".to_owned()),
                reference: Some("8123456789".to_owned()),
            },
            ReceiptTender {
                kind: "cash".to_owned(),
                amount_minor: 2000,
                network: None,
                phone: None,
                reference: None,
            },
        ],
        change_minor: 840,
        reason: None,
        account_balance_minor: None,
        shop: nexus_sync::ShopRecord {
            trading_name: Some("Efua's Provisions Ltd".to_owned()),
            address: Some("12 Oxford Street, Osu\nAccra".to_owned()),
            phone: Some("0302 123 456".to_owned()),
            tin: Some("C0012345678".to_owned()),
            receipt_footer: Some(
                "Goods sold in good condition are not returnable after 7 days. Thank you!"
                    .to_owned(),
            ),
        },
    }
}

fn check(name: &str, bytes: &[u8]) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var("NEXUS_UPDATE_GOLDEN").as_deref() == Ok("1") {
        std::fs::write(&path, bytes).expect("write golden file");
    }
    let golden = std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    if golden != bytes {
        let first = golden
            .iter()
            .zip(bytes)
            .position(|(left, right)| left != right);
        panic!(
            "{name} differs from the golden file (first difference at byte {first:?}; {} bytes now, {} golden); \
             review the change and rerun with NEXUS_UPDATE_GOLDEN=1",
            bytes.len(),
            golden.len()
        );
    }
}

#[test]
fn escpos_bytes_match_the_golden_files() {
    check("receipt-80mm.escpos", &escpos(&receipt(), Paper::Mm80));
    check("receipt-58mm.escpos", &escpos(&receipt(), Paper::Mm58));
    check("receipt-80mm.txt", text(&receipt(), Paper::Mm80).as_bytes());
    check("receipt-58mm.txt", text(&receipt(), Paper::Mm58).as_bytes());
}

#[test]
fn every_line_fits_the_paper_and_the_shop_heads_and_ends_it() {
    for paper in [Paper::Mm80, Paper::Mm58] {
        let printed = text(&receipt(), paper);
        for line in printed.lines() {
            assert!(
                line.chars().count() <= paper.columns(),
                "{line:?} is wider than {} columns",
                paper.columns()
            );
        }
        let lines: Vec<&str> = printed.lines().map(str::trim).collect();
        assert_eq!(lines[0], "Efua's Provisions Ltd", "{printed}");
        assert!(lines.contains(&"TIN C0012345678"), "{printed}");
        assert!(lines.contains(&"Tel 0302 123 456"), "{printed}");
        assert!(lines.contains(&"Accra"), "{printed}");
        assert!(
            printed.trim_end().ends_with("Thank you!"),
            "the footer closes it: {printed}"
        );
    }
}

#[test]
fn escpos_starts_with_initialise_and_ends_with_a_cut() {
    let bytes = escpos(&receipt(), Paper::Mm58);
    assert_eq!(&bytes[..2], [0x1b, b'@']);
    assert_eq!(&bytes[bytes.len() - 4..], [0x1d, b'V', 66, 0]);
    assert!(
        bytes.is_ascii(),
        "no character the printer's code page may lack"
    );
    let printed = String::from_utf8_lossy(&bytes);
    assert!(printed.contains("GHS"));
    assert!(!printed.contains('\u{20b5}'), "no cedi sign");
}

//! Receipts: what a sale, refund or void prints, laid out for 80 mm and 58 mm paper, as text
//! and as ESC/POS bytes for thermal printers.
//!
//! Thermal printers in shops here are cheap and their code pages vary, so the bytes stay in
//! ASCII: amounts print as "GHS 12.00", never as a cedi sign the printer may lack, and any other
//! character becomes '?' rather than mojibake. Every levy is printed on its own line, as Ghana's
//! VAT rules want receipts to show VAT, NHIL and GETFund separately.

use serde::{Deserialize, Serialize};

/// Everything a receipt shows, fixed when the sale is committed so that a reprint is identical.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// "SALE", "REFUND" or "VOID".
    pub title: String,
    pub branch: String,
    pub station: String,
    pub receipt_number: String,
    /// For a refund or void: the sale's receipt number.
    pub refers_to_receipt: Option<String>,
    /// On the shop's wall clock, "YYYY-MM-DD HH:MM".
    pub printed_at: String,
    pub cashier: String,
    pub customer: Option<String>,
    /// Wholesale for a trader on the wholesale list: the receipt says so.
    #[serde(default, skip_serializing_if = "nexus_domain::PriceList::is_retail")]
    pub price_list: nexus_domain::PriceList,
    /// ISO 4217 code; amounts below are in its minor unit.
    pub currency: nexus_domain::Currency,
    /// Prices include tax ("inclusive") or have it added ("exclusive").
    pub price_mode: nexus_domain::PriceMode,
    pub lines: Vec<ReceiptLine>,
    pub gross_minor: i64,
    pub discount_minor: i64,
    pub net_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    pub levies: Vec<ReceiptLevy>,
    pub tenders: Vec<ReceiptTender>,
    pub change_minor: i64,
    pub reason: Option<String>,
    /// What the customer owes on account after a sale or refund on credit, as this till knew.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_balance_minor: Option<i64>,
    /// The shop's name, address, phone, TIN and footer as its details said at the time;
    /// empty on receipts recorded before tills had them.
    #[serde(default)]
    pub shop: nexus_sync::ShopRecord,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptLine {
    pub line_no: i32,
    pub product_id: uuid::Uuid,
    pub sku: String,
    pub name: String,
    /// Packs when `pack` is set, else base units.
    pub quantity: nexus_domain::Quantity,
    /// Sold by the pack; absent on receipts from before packs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack: Option<nexus_domain::pack::PackSold>,
    pub unit_price_minor: i64,
    pub gross_minor: i64,
    pub discount_minor: i64,
    pub net_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    /// (levy code, amount) as the tax engine split this line's tax.
    pub levies: Vec<(String, i64)>,
}

// A refund or void is priced from the sale's receipt lines, by the rule the service uses.
nexus_domain::sold_line_from_fields!(ReceiptLine);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptLevy {
    pub code: String,
    pub name: String,
    pub rate_basis_points: u32,
    pub amount_minor: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptTender {
    /// "cash", "momo", "card" or "credit".
    pub kind: String,
    pub amount_minor: i64,
    pub network: Option<String>,
    pub phone: Option<String>,
    pub reference: Option<String>,
}

impl From<&nexus_domain::Tender> for ReceiptTender {
    fn from(tender: &nexus_domain::Tender) -> Self {
        Self {
            kind: tender.kind.as_str().to_owned(),
            amount_minor: tender.amount_minor,
            network: tender.network.clone(),
            phone: tender.phone.clone(),
            reference: tender.reference.clone(),
        }
    }
}

impl ReceiptTender {
    /// How the tender is named on paper.
    pub fn label(&self) -> String {
        match (self.kind.as_str(), self.network.as_deref()) {
            ("cash", _) => "Cash".to_owned(),
            ("momo", Some("mtn")) => "MTN MoMo".to_owned(),
            ("momo", Some("telecel")) => "Telecel Cash".to_owned(),
            ("momo", Some("airteltigo")) => "AirtelTigo Money".to_owned(),
            ("momo", _) => "Mobile money".to_owned(),
            ("card", _) => "Card".to_owned(),
            ("credit", _) => "On account".to_owned(),
            (other, _) => other.to_owned(),
        }
    }

    /// The second line under a tender: the reference, and for mobile money the payer and the
    /// fact that nobody has checked it with the network yet.
    pub fn detail(&self) -> Option<String> {
        match self.kind.as_str() {
            "momo" => Some(format!(
                "{} txn {} (unverified)",
                masked_phone(self.phone.as_deref().unwrap_or("")),
                self.reference.as_deref().unwrap_or("")
            )),
            "card" => self
                .reference
                .as_ref()
                .map(|reference| format!("ref {reference}")),
            _ => None,
        }
    }
}

/// A phone number with all but its last four digits hidden: receipts leave the shop.
fn masked_phone(phone: &str) -> String {
    let count = phone.chars().count();
    phone
        .chars()
        .enumerate()
        .map(|(index, character)| if index + 4 < count { '*' } else { character })
        .collect()
}

/// The paper a receipt is laid out for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Paper {
    /// 80 mm rolls: 48 characters a line in the printer's standard font.
    Mm80,
    /// 58 mm rolls: 32 characters a line.
    Mm58,
}

impl Paper {
    pub const fn columns(self) -> usize {
        match self {
            Paper::Mm80 => 48,
            Paper::Mm58 => 32,
        }
    }

    /// The roll's width in millimetres, as shops name it.
    pub const fn width_mm(self) -> u32 {
        match self {
            Paper::Mm80 => 80,
            Paper::Mm58 => 58,
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "80" | "80mm" => Some(Paper::Mm80),
            "58" | "58mm" => Some(Paper::Mm58),
            _ => None,
        }
    }
}

/// How one printed line is styled; the text layout ignores it, ESC/POS honours it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    Centered,
    CenteredBold,
    /// The total: bold and double height, so the customer sees it from across the counter.
    Emphasis,
}

/// The receipt as lines of at most `paper.columns()` ASCII characters, each with its style.
pub fn layout(receipt: &Receipt, paper: Paper) -> Vec<(Style, String)> {
    let columns = paper.columns();
    let money = |minor: i64| receipt.currency.format_minor(minor);
    let code = receipt.currency.code();
    let mut out: Vec<(Style, String)> = Vec::new();
    let mut push = |style: Style, text: String| out.push((style, ascii(&text)));
    // Each piece of the shop's text on lines of its own, wrapped to the paper.
    let wrapped = |style: Style, text: &str| -> Vec<(Style, String)> {
        text.lines()
            .flat_map(|paragraph| wrap(paragraph, columns))
            .map(|chunk| (style, chunk))
            .collect()
    };
    let shop = &receipt.shop;
    let header = [
        (Style::CenteredBold, shop.trading_name.clone()),
        (Style::Centered, shop.address.clone()),
        (
            Style::Centered,
            shop.phone.as_ref().map(|phone| format!("Tel {phone}")),
        ),
        (
            Style::Centered,
            shop.tin.as_ref().map(|tin| format!("TIN {tin}")),
        ),
    ];
    for (style, text) in header {
        for (style, line) in text.map(|text| wrapped(style, &text)).unwrap_or_default() {
            push(style, line);
        }
    }
    push(Style::CenteredBold, receipt.branch.clone());
    push(Style::Centered, receipt.station.clone());
    push(Style::CenteredBold, receipt.title.clone());
    push(Style::Plain, format!("Receipt {}", receipt.receipt_number));
    if let Some(original) = &receipt.refers_to_receipt {
        push(Style::Plain, format!("For receipt {original}"));
    }
    push(Style::Plain, receipt.printed_at.clone());
    push(Style::Plain, format!("Cashier: {}", receipt.cashier));
    if let Some(customer) = &receipt.customer {
        push(Style::Plain, format!("Customer: {customer}"));
    }
    if receipt.price_list == nexus_domain::PriceList::Wholesale {
        push(Style::Plain, "Wholesale prices".to_owned());
    }
    push(Style::Plain, "-".repeat(columns));
    for line in &receipt.lines {
        for (index, chunk) in wrap(&line.name, columns).into_iter().enumerate() {
            if index == 0 {
                push(Style::Plain, chunk);
            } else {
                push(Style::Plain, format!(" {chunk}"));
            }
        }
        push(
            Style::Plain,
            two_columns(
                &format!(
                    "  {} x {}",
                    nexus_domain::pack::describe(line.quantity, line.pack.as_ref()),
                    money(line.unit_price_minor)
                ),
                &money(line.gross_minor),
                columns,
            ),
        );
        if line.discount_minor != 0 {
            push(
                Style::Plain,
                two_columns("  discount", &money(-line.discount_minor), columns),
            );
        }
    }
    push(Style::Plain, "-".repeat(columns));
    if receipt.discount_minor != 0 {
        push(
            Style::Plain,
            two_columns("Discounts", &money(-receipt.discount_minor), columns),
        );
    }
    if !receipt.levies.is_empty() {
        push(
            Style::Plain,
            two_columns("Net of tax", &money(receipt.net_minor), columns),
        );
        for levy in &receipt.levies {
            let rate = format_rate(levy.rate_basis_points);
            push(
                Style::Plain,
                two_columns(
                    &format!("{} {rate}", levy.name),
                    &money(levy.amount_minor),
                    columns,
                ),
            );
        }
    }
    push(
        Style::Emphasis,
        two_columns(
            &format!("TOTAL {code}"),
            &money(receipt.total_minor),
            columns,
        ),
    );
    for tender in &receipt.tenders {
        push(
            Style::Plain,
            two_columns(&tender.label(), &money(tender.amount_minor), columns),
        );
        if let Some(detail) = tender.detail() {
            for chunk in wrap(&detail, columns - 2) {
                push(Style::Plain, format!("  {chunk}"));
            }
        }
    }
    if receipt.change_minor != 0 {
        push(
            Style::Plain,
            two_columns("Change", &money(receipt.change_minor), columns),
        );
    }
    if let Some(owed) = receipt.account_balance_minor {
        push(
            Style::Plain,
            two_columns("Owed on account now", &money(owed), columns),
        );
    }
    if let Some(reason) = &receipt.reason {
        for chunk in wrap(&format!("Reason: {reason}"), columns) {
            push(Style::Plain, chunk);
        }
    }
    let mode = match receipt.price_mode {
        nexus_domain::PriceMode::Inclusive => "Prices include tax",
        nexus_domain::PriceMode::Exclusive => "Tax added to prices",
    };
    push(Style::Plain, "-".repeat(columns));
    if !receipt.levies.is_empty() {
        push(Style::Centered, mode.to_owned());
    }
    match &shop.receipt_footer {
        Some(footer) => {
            for (style, line) in wrapped(Style::Centered, footer) {
                push(style, line);
            }
        }
        None => push(Style::Centered, "Thank you".to_owned()),
    }
    out
}

/// The receipt as plain text, one line per printed line, as a screen or a log shows it.
pub fn text(receipt: &Receipt, paper: Paper) -> String {
    let columns = paper.columns();
    let mut out = String::new();
    for (style, line) in layout(receipt, paper) {
        let centred = matches!(style, Style::Centered | Style::CenteredBold);
        if centred {
            let pad = columns.saturating_sub(line.len()) / 2;
            out.push_str(&" ".repeat(pad));
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

// ESC/POS commands (Epson's reference, implemented by nearly every thermal printer).
const ESC: u8 = 0x1b;
const GS: u8 = 0x1d;
const INITIALIZE: [u8; 2] = [ESC, b'@'];
const ALIGN_LEFT: [u8; 3] = [ESC, b'a', 0];
const ALIGN_CENTRE: [u8; 3] = [ESC, b'a', 1];
const BOLD_ON: [u8; 3] = [ESC, b'E', 1];
const BOLD_OFF: [u8; 3] = [ESC, b'E', 0];
/// GS ! n: character size; 0x01 doubles the height only, so the line keeps its width.
const DOUBLE_HEIGHT: [u8; 3] = [GS, b'!', 0x01];
const NORMAL_SIZE: [u8; 3] = [GS, b'!', 0x00];
/// ESC d n: print and feed n lines, so the last line clears the cutter.
const FEED_FOUR: [u8; 3] = [ESC, b'd', 4];
/// GS V 66 n: feed n dots and cut, leaving a hinge (partial cut).
const CUT: [u8; 4] = [GS, b'V', 66, 0];

/// The receipt as the bytes to send to an ESC/POS printer, ending with a partial cut.
pub fn escpos(receipt: &Receipt, paper: Paper) -> Vec<u8> {
    escpos_of(layout(receipt, paper))
}

/// A page to print when a printer is set up: which printer and paper, and a ruler as wide as
/// the paper's columns, which must fit on one line.
pub fn escpos_test_page(paper: Paper, printer: &str) -> Vec<u8> {
    let columns = paper.columns();
    let ruler: String = (1..=columns)
        .map(|column| char::from(b'0' + u8::try_from(column % 10).unwrap_or(0)))
        .collect();
    escpos_of(vec![
        (Style::CenteredBold, "Nexus till: test page".to_owned()),
        (Style::Plain, ascii(&format!("Printer: {printer}"))),
        (
            Style::Plain,
            format!("Paper: {} mm, {columns} characters", paper.width_mm()),
        ),
        (Style::Plain, ruler),
        (Style::Plain, "The digits above fit one line.".to_owned()),
    ])
}

fn escpos_of(lines: Vec<(Style, String)>) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(2048);
    bytes.extend_from_slice(&INITIALIZE);
    for (style, line) in lines {
        match style {
            Style::Plain => {
                bytes.extend_from_slice(&ALIGN_LEFT);
                bytes.extend_from_slice(line.as_bytes());
            }
            Style::Centered => {
                bytes.extend_from_slice(&ALIGN_CENTRE);
                bytes.extend_from_slice(line.as_bytes());
            }
            Style::CenteredBold => {
                bytes.extend_from_slice(&ALIGN_CENTRE);
                bytes.extend_from_slice(&BOLD_ON);
                bytes.extend_from_slice(line.as_bytes());
                bytes.extend_from_slice(&BOLD_OFF);
            }
            Style::Emphasis => {
                bytes.extend_from_slice(&ALIGN_LEFT);
                bytes.extend_from_slice(&BOLD_ON);
                bytes.extend_from_slice(&DOUBLE_HEIGHT);
                bytes.extend_from_slice(line.as_bytes());
                bytes.extend_from_slice(&NORMAL_SIZE);
                bytes.extend_from_slice(&BOLD_OFF);
            }
        }
        bytes.push(b'\n');
    }
    bytes.extend_from_slice(&ALIGN_LEFT);
    bytes.extend_from_slice(&FEED_FOUR);
    bytes.extend_from_slice(&CUT);
    bytes
}

/// "15%", "2.5%": a rate in basis points as people write it.
fn format_rate(basis_points: u32) -> String {
    let whole = basis_points / 100;
    let fraction = basis_points % 100;
    if fraction == 0 {
        format!("{whole}%")
    } else if fraction.is_multiple_of(10) {
        format!("{whole}.{}%", fraction / 10)
    } else {
        format!("{whole}.{fraction:02}%")
    }
}

/// Printable ASCII only: a printer's code page is unknown, so anything else prints as '?'.
fn ascii(text: &str) -> String {
    text.chars()
        .map(|character| {
            if character.is_ascii() && !character.is_ascii_control() {
                character
            } else {
                '?'
            }
        })
        .collect()
}

/// `left` and `right` on one line of `columns`, right aligned; `left` is cut short rather than
/// pushing the amount off the paper.
fn two_columns(left: &str, right: &str, columns: usize) -> String {
    let room = columns.saturating_sub(right.len() + 1);
    let left: String = left.chars().take(room).collect();
    let gap = columns.saturating_sub(left.chars().count() + right.len());
    format!("{left}{}{right}", " ".repeat(gap.max(1)))
}

/// Splits `text` into pieces of at most `columns` characters, at spaces where it can.
fn wrap(text: &str, columns: usize) -> Vec<String> {
    let columns = columns.max(1);
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let mut word: String = word.to_owned();
        while word.chars().count() > columns {
            if !current.is_empty() {
                lines.push(std::mem::take(&mut current));
            }
            let head: String = word.chars().take(columns).collect();
            word = word.chars().skip(columns).collect();
            lines.push(head);
        }
        let needed = current.chars().count() + usize::from(!current.is_empty()) + word.len();
        if needed > columns && !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(&word);
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_columns() {
        assert_eq!(format_rate(1500), "15%");
        assert_eq!(format_rate(250), "2.5%");
        assert_eq!(format_rate(1), "0.01%");
        assert_eq!(two_columns("Cash", "20.00", 12), "Cash   20.00");
        // A long name is cut so the amount keeps its column at the right edge.
        assert_eq!(two_columns("A very long name", "1.00", 12), "A very  1.00");
        assert_eq!(
            wrap("Peak milk powder tin 400g", 10),
            ["Peak milk", "powder tin", "400g"]
        );
        assert_eq!(wrap("", 10), [""]);
        assert_eq!(ascii("Ghana ₵ café"), "Ghana ? caf?");
        assert_eq!(masked_phone("0241234567"), "******4567");
    }
}

//! Receipt numbers: `BRANCH-DEVICE-SEQ`, unique and gap-free per device with no network. The
//! device's own counter is the authority for `SEQ`; the codes say which shop and which till.

use std::fmt;
use std::str::FromStr;

/// Letters and digits of a branch code: "Osu Branch" is `OSUB`.
const BRANCH_CODE_CHARS: usize = 4;
/// Letters and digits of a device code: "Till 1" is `TILL1`.
const DEVICE_CODE_CHARS: usize = 6;
/// `SEQ` is printed with at least this many digits, so numbers line up on paper.
const SEQ_DIGITS: usize = 6;

/// The fixed part of one device's receipt numbers, `BRANCH-DEVICE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiptPrefix {
    branch: String,
    device: String,
}

impl ReceiptPrefix {
    /// From the branch's and the device's names; a name with no letter or digit falls back to
    /// `BR` for the branch and to the start of `device_id` for the device. Only ASCII letters
    /// and digits are kept, upper-cased, so the number prints on any printer.
    pub fn from_names(branch_name: &str, device_name: &str, device_id: &str) -> Self {
        Self {
            branch: code(branch_name, BRANCH_CODE_CHARS, "BR"),
            device: code(device_name, DEVICE_CODE_CHARS, device_id),
        }
    }

    /// The receipt number `seq` of this device.
    pub fn number(&self, seq: u64) -> ReceiptNumber {
        ReceiptNumber {
            prefix: self.clone(),
            seq,
        }
    }
}

impl fmt::Display for ReceiptPrefix {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}-{}", self.branch, self.device)
    }
}

fn code(name: &str, max: usize, fallback: &str) -> String {
    let code: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|character| character.to_ascii_uppercase())
        .take(max)
        .collect();
    if code.is_empty() {
        fallback
            .chars()
            .take(max)
            .collect::<String>()
            .to_uppercase()
    } else {
        code
    }
}

/// One receipt number, `BRANCH-DEVICE-SEQ`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiptNumber {
    prefix: ReceiptPrefix,
    seq: u64,
}

impl ReceiptNumber {
    pub fn prefix(&self) -> &ReceiptPrefix {
        &self.prefix
    }

    pub fn seq(&self) -> u64 {
        self.seq
    }
}

impl fmt::Display for ReceiptNumber {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{}-{:0width$}",
            self.prefix,
            self.seq,
            width = SEQ_DIGITS
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a receipt number (BRANCH-DEVICE-SEQ, e.g. OSU-TILL1-000042)")]
pub struct NotAReceiptNumber(pub String);

/// Reads a number as printed or typed at the counter: any case, surrounding spaces ignored.
impl FromStr for ReceiptNumber {
    type Err = NotAReceiptNumber;

    fn from_str(text: &str) -> Result<Self, NotAReceiptNumber> {
        let refused = || NotAReceiptNumber(text.to_owned());
        let upper = text.trim().to_ascii_uppercase();
        let mut parts = upper.split('-');
        let (Some(branch), Some(device), Some(seq), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(refused());
        };
        let is_code = |part: &str, max: usize| {
            (1..=max).contains(&part.len()) && part.bytes().all(|byte| byte.is_ascii_alphanumeric())
        };
        if !is_code(branch, BRANCH_CODE_CHARS)
            || !is_code(device, DEVICE_CODE_CHARS)
            || seq.is_empty()
            || !seq.bytes().all(|byte| byte.is_ascii_digit())
        {
            return Err(refused());
        }
        Ok(ReceiptNumber {
            prefix: ReceiptPrefix {
                branch: branch.to_owned(),
                device: device.to_owned(),
            },
            seq: seq.parse().map_err(|_| refused())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_short_and_printable() {
        let prefix = |branch, device, id| ReceiptPrefix::from_names(branch, device, id).to_string();
        assert_eq!(prefix("Osu Branch", "Till 1", "x"), "OSUB-TILL1");
        assert_eq!(prefix("Kɔkɔ", "", "0190ab12-3456"), "KK-0190AB");
        assert_eq!(prefix("", "Front counter", "x"), "BR-FRONTC");
    }

    #[test]
    fn numbers_print_six_digits_and_read_back() {
        let number = ReceiptPrefix::from_names("Osu", "Till 1", "x").number(42);
        assert_eq!(number.to_string(), "OSU-TILL1-000042");
        assert_eq!(
            " osu-till1-000042 ".parse::<ReceiptNumber>(),
            Ok(number.clone())
        );
        assert_eq!("OSU-TILL1-42".parse::<ReceiptNumber>(), Ok(number));
        let big = ReceiptPrefix::from_names("Osu", "Till 1", "x").number(1_234_567);
        assert_eq!(
            big.to_string().parse::<ReceiptNumber>().map(|n| n.seq()),
            Ok(1_234_567)
        );
        for bad in [
            "",
            "OSU-TILL1",
            "OSU-TILL1-",
            "OSU-TILL1-12a",
            "OSUBR-TILL1-1",
            "A-B-1-2",
        ] {
            assert!(bad.parse::<ReceiptNumber>().is_err(), "{bad}");
        }
    }
}

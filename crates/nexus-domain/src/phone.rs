//! Phone numbers a receipt is sent to: the international form, digits only, that WhatsApp's
//! `https://wa.me/` links and `sms:` links take.

use crate::money::Currency;
use crate::values::ValueError;

/// The country calling code of the country a currency belongs to, when it belongs to one
/// country only (the CFA franc is used by eight).
pub fn calling_code(currency: Currency) -> Option<&'static str> {
    match currency {
        Currency::Ghs => Some("233"),
        Currency::Ngn => Some("234"),
        Currency::Xof => None,
    }
}

/// `text` percent-encoded for a URI's query: everything but unreserved characters escaped.
pub fn uri_component(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// The link that opens WhatsApp on a chat with `number` (from [`international_number`]) with
/// `text` typed, ready to send.
pub fn whatsapp_link(number: &str, text: &str) -> String {
    format!("https://wa.me/{number}?text={}", uri_component(text))
}

/// E.164 allows at most 15 digits, country code included; no real number has fewer than 8.
const DIGITS: std::ops::RangeInclusive<usize> = 8..=15;

/// The number as digits with its country code: `+233 24 123 4567`, `00233241234567` and
/// `233241234567` as they are, and a local `024 123 4567` with the shop's `calling_code`.
/// Spaces, dashes, dots and brackets are ignored.
pub fn international_number(text: &str, calling_code: Option<&str>) -> Result<String, ValueError> {
    let compact: String = text
        .chars()
        .filter(|character| !matches!(character, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    if compact.is_empty() {
        return Err(ValueError::Empty {
            field: "phone number",
        });
    }
    let (international, digits) = if let Some(rest) = compact.strip_prefix('+') {
        (true, rest)
    } else if let Some(rest) = compact.strip_prefix("00") {
        (true, rest)
    } else {
        (false, compact.as_str())
    };
    if !digits.chars().all(|character| character.is_ascii_digit()) {
        return Err(ValueError::Invalid(
            "a phone number has digits only, such as 024 123 4567",
        ));
    }
    let number = match (international, digits.strip_prefix('0'), calling_code) {
        (false, Some(local), Some(code)) => format!("{code}{local}"),
        (false, Some(_), None) => {
            return Err(ValueError::Invalid(
                "write the number with its country code, such as +225 07 12 34 56 78",
            ));
        }
        _ => digits.to_owned(),
    };
    if !DIGITS.contains(&number.len()) || number.starts_with('0') {
        return Err(ValueError::Invalid(
            "that is not a whole phone number: check the digits",
        ));
    }
    Ok(number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uri_component_keeps_only_the_unreserved_characters() {
        assert_eq!(uri_component("Rice 5kg-1.00_~"), "Rice%205kg-1.00_~");
        assert_eq!(uri_component("a&b=c?\n"), "a%26b%3Dc%3F%0A");
        assert_eq!(uri_component("₵"), "%E2%82%B5");
        assert_eq!(
            whatsapp_link("233241234567", "Hi Ama"),
            "https://wa.me/233241234567?text=Hi%20Ama"
        );
    }

    #[test]
    fn local_and_international_numbers_come_out_the_same() {
        let ghana = calling_code(Currency::Ghs);
        for text in [
            "024 123 4567",
            "+233 24 123 4567",
            "00233241234567",
            "233-24-123-4567",
        ] {
            assert_eq!(
                international_number(text, ghana).as_deref(),
                Ok("233241234567"),
                "{text}"
            );
        }
        assert_eq!(
            international_number("0803 123 4567", calling_code(Currency::Ngn)).as_deref(),
            Ok("2348031234567")
        );
    }

    #[test]
    fn what_is_not_a_number_is_refused_with_a_reason() {
        let ghana = calling_code(Currency::Ghs);
        assert!(international_number("", ghana).is_err());
        assert!(international_number("024 ABC 4567", ghana).is_err());
        assert!(international_number("0241", ghana).is_err(), "too short");
        assert!(
            international_number("+2332412345678901", ghana).is_err(),
            "too long"
        );
        assert!(
            international_number("07 12 34 56 78", calling_code(Currency::Xof)).is_err(),
            "a local number where the country is not known"
        );
        assert_eq!(
            international_number("+225 07 12 34 56 78", None).as_deref(),
            Ok("2250712345678")
        );
    }
}

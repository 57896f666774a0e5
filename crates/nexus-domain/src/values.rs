//! Parsed values: text from outside becomes one of these at the edge, or a clear error.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("{field} must not be empty")]
    Empty { field: &'static str },
    #[error("{field} must be at most {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("{field} must be at least {min} characters")]
    TooShort { field: &'static str, min: usize },
    #[error("{field} must be at most {max} printable characters")]
    NotPrintable { field: &'static str, max: usize },
    #[error("{field} must not contain control characters")]
    ControlCharacter { field: &'static str },
    #[error("{0}")]
    Invalid(&'static str),
}

impl ValueError {
    /// The input field at fault, when the error names one.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            ValueError::Empty { field }
            | ValueError::TooLong { field, .. }
            | ValueError::TooShort { field, .. }
            | ValueError::NotPrintable { field, .. }
            | ValueError::ControlCharacter { field } => Some(field),
            ValueError::Invalid(_) => None,
        }
    }
}

/// An email address, trimmed and lowercased so that one person has one login.
/// Deliberately loose: one `@`, something on each side, a dot in the domain, no spaces.
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(text: &str) -> Result<Self, ValueError> {
        let email = text.trim().to_lowercase();
        if email.is_empty() {
            return Err(ValueError::Empty { field: "email" });
        }
        if email.chars().count() > Self::MAX_LEN {
            return Err(ValueError::TooLong {
                field: "email",
                max: Self::MAX_LEN,
            });
        }
        refuse_control_characters("email", &email, Lines::One)?;
        let looks_valid = match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
                    && !email
                        .chars()
                        .any(|character| character.is_whitespace() || character.is_control())
            }
            None => false,
        };
        if !looks_valid {
            return Err(ValueError::Invalid("email must look like name@example.com"));
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "Email({})", self.0)
    }
}

/// A trimmed, non-empty, bounded piece of text: organisation, branch and people names, addresses.
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct NonEmptyText(String);

impl NonEmptyText {
    pub fn parse(field: &'static str, text: &str, max: usize) -> Result<Self, ValueError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(ValueError::Empty { field });
        }
        if trimmed.chars().count() > max {
            return Err(ValueError::TooLong { field, max });
        }
        refuse_control_characters(field, trimmed, Lines::One)?;
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NonEmptyText {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl fmt::Debug for NonEmptyText {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{:?}", self.0)
    }
}

/// Optional free text (a phone number, a payment reference, a receipt number as a till printed
/// it): trimmed, absent when blank, refused when longer than `max` or holding control characters.
pub fn optional_printable(
    text: Option<&str>,
    field: &'static str,
    max: usize,
) -> Result<Option<String>, ValueError> {
    match text.map(str::trim).filter(|text| !text.is_empty()) {
        None => Ok(None),
        Some(text) if text.chars().any(char::is_control) => {
            Err(ValueError::ControlCharacter { field })
        }
        Some(text) if text.chars().count() > max => Err(ValueError::NotPrintable { field, max }),
        Some(text) => Ok(Some(text.to_owned())),
    }
}

/// Whether a field holds one line or may hold several (a note, a receipt footer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lines {
    One,
    Many,
}

/// Text from outside never carries control characters: a NUL cannot be stored in PostgreSQL at
/// all, and the others hide in what a person reads. Newlines and tabs are kept where the field
/// may hold several lines.
pub fn refuse_control_characters(
    field: &'static str,
    text: &str,
    lines: Lines,
) -> Result<(), ValueError> {
    let allowed = |character: char| lines == Lines::Many && matches!(character, '\n' | '\t' | '\r');
    if text
        .chars()
        .any(|character| character.is_control() && !allowed(character))
    {
        return Err(ValueError::ControlCharacter { field });
    }
    Ok(())
}

/// What someone typed into a search box: trimmed, bounded, one line.
pub fn search_text(field: &'static str, text: &str, max: usize) -> Result<String, ValueError> {
    let text = text.trim();
    if text.chars().count() > max {
        return Err(ValueError::TooLong { field, max });
    }
    refuse_control_characters(field, text, Lines::One)?;
    Ok(text.to_owned())
}

/// For `#[serde(default, deserialize_with = "…")]` on an `Option<Option<T>>` field: absent is
/// `None` ("leave it"), `null` is `Some(None)` ("clear it"), a value is `Some(Some(value))`.
pub fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

/// The longest reason a refund, void or stock adjustment may give.
pub const MAX_REASON_CHARS: usize = 200;

/// Why a refund, void or stock adjustment was made, as typed: trimmed, absent when blank, at
/// most [`MAX_REASON_CHARS`] characters.
pub fn optional_reason(text: Option<&str>) -> Result<Option<String>, ValueError> {
    let reason = text.map(str::trim).filter(|reason| !reason.is_empty());
    if let Some(reason) = reason {
        refuse_control_characters("reason", reason, Lines::Many)?;
    }
    if reason.is_some_and(|reason| reason.chars().count() > MAX_REASON_CHARS) {
        return Err(ValueError::TooLong {
            field: "reason",
            max: MAX_REASON_CHARS,
        });
    }
    Ok(reason.map(str::to_owned))
}

/// A password as typed. Bounded above so that hashing cannot be used to exhaust the server.
/// Never printed.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub const MIN_LEN: usize = 8;
    pub const MAX_LEN: usize = 256;

    pub fn parse(text: &str) -> Result<Self, ValueError> {
        let length = text.chars().count();
        if length < Self::MIN_LEN {
            return Err(ValueError::TooShort {
                field: "password",
                min: Self::MIN_LEN,
            });
        }
        if length > Self::MAX_LEN {
            return Err(ValueError::TooLong {
                field: "password",
                max: Self::MAX_LEN,
            });
        }
        Ok(Self(text.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("Password([redacted])")
    }
}

/// A cashier's PIN for signing in at the station: 4 to 8 digits. Never printed.
#[derive(Clone)]
pub struct Pin(String);

impl Pin {
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        if !(4..=8).contains(&text.len()) || !text.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(ValueError::Invalid("pin must be 4 to 8 digits"));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("Pin([redacted])")
    }
}

/// The EAN-13 barcode of a 12-digit number (higher digits are dropped): the digits and their
/// GS1 check digit (weights 1 and 3 alternating from the left). Ghana's GS1 prefix is 603.
pub fn ean13(number: u64) -> String {
    let digits = format!("{:012}", number % 1_000_000_000_000);
    let sum: u32 = digits
        .bytes()
        .enumerate()
        .map(|(position, byte)| {
            let digit = u32::from(byte - b'0');
            if position % 2 == 0 { digit } else { digit * 3 }
        })
        .sum();
    format!("{digits}{}", (10 - sum % 10) % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Ama@Shop.COM.gh ").map(|email| email.0),
            Ok("ama@shop.com.gh".into())
        );
        for bad in [
            "",
            "ama",
            "ama@",
            "@shop.gh",
            "ama@shop",
            "a ma@shop.gh",
            "ama@@shop.gh",
            "ama@shop.gh.",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert!(Email::parse(&format!("{}@shop.gh", "a".repeat(300))).is_err());
    }

    #[test]
    fn pins_are_four_to_eight_digits() {
        assert!(Pin::parse("1234").is_ok());
        assert!(Pin::parse("12345678").is_ok());
        for bad in ["123", "123456789", "12a4", "١٢٣٤", ""] {
            assert!(Pin::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn secrets_never_print() {
        let password = Password::parse("correct horse").map(|password| format!("{password:?}"));
        assert_eq!(password.as_deref(), Ok("Password([redacted])"));
        assert_eq!(
            format!("{:?}", Pin::parse("4821").ok()),
            "Some(Pin([redacted]))"
        );
    }

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(
            NonEmptyText::parse("name", "  Osu  ", 10).map(|text| text.0),
            Ok("Osu".into())
        );
        assert!(NonEmptyText::parse("name", "   ", 10).is_err());
        assert!(NonEmptyText::parse("name", "abcdefghijk", 10).is_err());
        assert!(NonEmptyText::parse("name", "a\u{0}b", 10).is_err());
    }

    #[test]
    fn optional_text_is_trimmed_blank_is_absent_and_control_characters_refused() {
        assert_eq!(
            optional_printable(Some("  T123 "), "reference", 64),
            Ok(Some("T123".into()))
        );
        assert_eq!(optional_printable(Some("   "), "reference", 64), Ok(None));
        assert_eq!(optional_printable(None, "reference", 64), Ok(None));
        let refused = optional_printable(Some("a\u{7}b"), "reference", 64).expect_err("bell");
        assert_eq!(
            refused.to_string(),
            "reference must not contain control characters"
        );
        assert!(optional_printable(Some(&"x".repeat(65)), "reference", 64).is_err());
    }

    #[test]
    fn reasons_are_trimmed_and_bounded() {
        assert_eq!(
            optional_reason(Some(" damaged ")),
            Ok(Some("damaged".into()))
        );
        assert_eq!(optional_reason(Some("")), Ok(None));
        let refused = optional_reason(Some(&"x".repeat(201))).expect_err("long");
        assert_eq!(refused.to_string(), "reason must be at most 200 characters");
        assert!(optional_reason(Some(&"x".repeat(200))).is_ok());
    }

    #[test]
    fn ean13_appends_the_check_digit() {
        assert_eq!(ean13(400_638_133_393), "4006381333931");
        assert_eq!(ean13(590_123_412_345), "5901234123457");
        assert_eq!(ean13(1), "0000000000017");
    }
}

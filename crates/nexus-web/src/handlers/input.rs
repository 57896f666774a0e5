//! What a page reads from a request: query strings and forms as name/value pairs (so that a
//! malformed or unexpected value becomes a message on the form, never a rejection), and the
//! POSTs, which are refused without their CSRF token before anything else happens.

use axum::extract::{FromRequest, FromRequestParts, Multipart, Request};
use axum::http::request::Parts;
use nexus_domain::{Currency, Quantity};
use nexus_server::state::AppState;
use uuid::Uuid;

use super::context::{PageError, Viewer, Visitor};

/// Name/value pairs of a query string or a form, in order.
#[derive(Clone, Debug, Default)]
pub(crate) struct Fields(Vec<(String, String)>);

impl Fields {
    /// The first value of `name`, trimmed; "" when absent.
    pub fn text(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map_or("", |(_, value)| value.trim())
    }

    /// The value of `name`, trimmed, when not empty.
    pub fn optional(&self, name: &str) -> Option<&str> {
        Some(self.text(name)).filter(|value| !value.is_empty())
    }

    /// The value of `name`, untrimmed (passwords and PINs are taken as typed).
    pub fn raw(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map_or("", |(_, value)| value.as_str())
    }

    /// Every non-empty value of `name` (ticked checkboxes).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(key, value)| key == name && !value.trim().is_empty())
            .map(|(_, value)| value.trim())
            .collect()
    }

    /// The value of `name` as an id; `Err` with a message when it is there but no id.
    pub fn uuid(&self, name: &str) -> Result<Option<Uuid>, String> {
        match self.optional(name) {
            None => Ok(None),
            Some(text) => text
                .parse()
                .map(Some)
                .map_err(|_| "Choose one of the options in the list.".to_owned()),
        }
    }

    /// Indexed rows `prefix_0`, `prefix_1`, …: how many the form sent (at most `most`).
    pub fn rows(&self, prefix: &str, most: usize) -> usize {
        (0..most)
            .take_while(|index| {
                self.0
                    .iter()
                    .any(|(key, _)| *key == format!("{prefix}_{index}"))
            })
            .count()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Fields {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, PageError> {
        let axum::extract::Query(pairs) =
            axum::extract::Query::<Vec<(String, String)>>::from_request_parts(parts, state)
                .await
                .map_err(|_| {
                    PageError::Invalid("The address has characters we cannot read.".to_owned())
                })?;
        Ok(Self(pairs))
    }
}

async fn read_form(request: Request) -> Result<Fields, PageError> {
    let axum::Form(pairs) = axum::Form::<Vec<(String, String)>>::from_request(request, &())
        .await
        .map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                PageError::Invalid("The form was too large to send.".to_owned())
            } else {
                PageError::Invalid(
                    "The form could not be read. Reload the page and try again.".to_owned(),
                )
            }
        })?;
    Ok(Fields(pairs))
}

/// A signed-in person's form, with its CSRF token checked.
pub(crate) struct SignedPost {
    pub viewer: Viewer,
    pub form: Fields,
}

impl FromRequest<AppState> for SignedPost {
    type Rejection = PageError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, PageError> {
        let (mut parts, body) = request.into_parts();
        let viewer =
            <Viewer as FromRequestParts<AppState>>::from_request_parts(&mut parts, state).await?;
        let form = read_form(Request::from_parts(parts, body)).await?;
        if !viewer.csrf_matches(form.optional("csrf")) {
            return Err(PageError::Csrf);
        }
        Ok(Self { viewer, form })
    }
}

/// A public form (sign in, sign up, reset), with its pre-session CSRF token checked.
pub(crate) struct PublicPost {
    pub visitor: Visitor,
    pub form: Fields,
}

impl FromRequest<AppState> for PublicPost {
    type Rejection = PageError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, PageError> {
        let (mut parts, body) = request.into_parts();
        let visitor = Visitor::from_request_parts(&mut parts, state).await?;
        let form = read_form(Request::from_parts(parts, body)).await?;
        if !visitor.csrf_matches(form.optional("csrf")) {
            return Err(PageError::Csrf);
        }
        Ok(Self { visitor, form })
    }
}

/// A CSV upload (multipart): its text fields, and the file's name and bytes.
pub(crate) struct Upload {
    pub viewer: Viewer,
    pub fields: Fields,
    pub file: Option<(String, Vec<u8>)>,
}

impl FromRequest<AppState> for Upload {
    type Rejection = PageError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, PageError> {
        let (mut parts, body) = request.into_parts();
        let viewer =
            <Viewer as FromRequestParts<AppState>>::from_request_parts(&mut parts, state).await?;
        let unreadable = || {
            PageError::Invalid(
                "The file could not be read. Choose it again and send the form once more."
                    .to_owned(),
            )
        };
        let mut multipart = Multipart::from_request(Request::from_parts(parts, body), &())
            .await
            .map_err(|_| unreadable())?;
        let mut fields = Vec::new();
        let mut file = None;
        while let Some(field) = multipart.next_field().await.map_err(|_| unreadable())? {
            let name = field.name().unwrap_or_default().to_owned();
            if name == "file" {
                let file_name = field.file_name().unwrap_or("products.csv").to_owned();
                let bytes = field.bytes().await.map_err(|_| unreadable())?;
                if !bytes.is_empty() {
                    file = Some((file_name, bytes.to_vec()));
                }
            } else {
                let value = field.text().await.map_err(|_| unreadable())?;
                fields.push((name, value));
            }
        }
        let fields = Fields(fields);
        if !viewer.csrf_matches(fields.optional("csrf")) {
            return Err(PageError::Csrf);
        }
        Ok(Self {
            viewer,
            fields,
            file,
        })
    }
}

/// An amount typed in major units ("12.50") as minor units of `currency`, by the domain's one
/// reading of money; zero or more.
pub(crate) fn parse_amount(text: &str, currency: Currency) -> Result<i64, String> {
    let example = match currency {
        Currency::Xof => "1500",
        Currency::Ghs | Currency::Ngn => "12.50",
    };
    match currency.parse_major(text) {
        Ok(minor) if minor >= 0 => Ok(minor),
        Ok(_) => Err("Enter an amount of zero or more.".to_owned()),
        Err(_) => Err(format!(
            "Enter an amount such as {example}, with no commas or currency sign."
        )),
    }
}

/// A quantity as typed ("2", "1.5", "-3" where `signed`).
pub(crate) fn parse_quantity(text: &str, signed: bool) -> Result<Quantity, String> {
    let quantity =
        Quantity::parse(text.trim()).map_err(|_| "Enter a number such as 2 or 1.5.".to_owned())?;
    if !signed && quantity.is_negative() {
        return Err("Enter a number of zero or more.".to_owned());
    }
    Ok(quantity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_as_people_type_them() {
        assert_eq!(parse_amount("12.50", Currency::Ghs), Ok(1250));
        assert_eq!(parse_amount("12.5", Currency::Ghs), Ok(1250));
        assert_eq!(parse_amount("1500", Currency::Xof), Ok(1500));
        assert!(parse_amount("12.505", Currency::Ghs).is_err());
        assert!(parse_amount("-1", Currency::Ghs).is_err());
        assert!(parse_amount("abc", Currency::Ghs).is_err());
        assert!(parse_amount("", Currency::Ghs).is_err());
        assert!(parse_quantity("-2", false).is_err());
        assert_eq!(parse_quantity("-2", true).map(Quantity::milli), Ok(-2000));
    }
}

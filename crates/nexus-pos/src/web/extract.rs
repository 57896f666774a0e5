//! axum's extractors, with their rejections turned into a page for the cashier: a link cut
//! short or edited by hand shows what happened and the way back, never the parser's words
//! ("UUID parsing failed: invalid character…").

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::PageError;

/// Declares `$name<T>`, the extractor `$inner<T>` whose rejection is `PageError::$kind` with
/// `$message`. The rejection itself (what the parser said) goes to the log, not the screen.
macro_rules! readable {
    ($(#[$doc:meta])* $name:ident, $inner:ident, $via:ident, $kind:ident, $message:literal) => {
        $(#[$doc])*
        pub(super) struct $name<T>(pub T);

        readable!(@impl $via $name, $inner, $kind, $message);
    };
    (@impl parts $name:ident, $inner:ident, $kind:ident, $message:literal) => {
        impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for $name<T> {
            type Rejection = PageError;

            async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, PageError> {
                axum::extract::$inner::<T>::from_request_parts(parts, state)
                    .await
                    .map(|axum::extract::$inner(value)| Self(value))
                    .map_err(|rejection| {
                        tracing::info!(%rejection, uri = %parts.uri, "cashier screen: request not understood");
                        PageError::$kind($message.to_owned())
                    })
            }
        }
    };
    (@impl body $name:ident, $inner:ident, $kind:ident, $message:literal) => {
        impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequest<S> for $name<T> {
            type Rejection = PageError;

            async fn from_request(request: Request, state: &S) -> Result<Self, PageError> {
                let uri = request.uri().clone();
                axum::extract::$inner::<T>::from_request(request, state)
                    .await
                    .map(|axum::extract::$inner(value)| Self(value))
                    .map_err(|rejection| {
                        tracing::info!(%rejection, %uri, "cashier screen: request not understood");
                        PageError::$kind($message.to_owned())
                    })
            }
        }
    };
}

readable!(
    /// A value in the path, such as a receipt's id.
    TillPath,
    Path,
    parts,
    NotFound,
    "This link is not one the till made: it may have been cut short or typed wrong. Go back to the sale and find the receipt or customer again."
);
readable!(
    /// The query string of a page.
    TillQuery,
    Query,
    parts,
    Unreadable,
    "The till could not read the choices in this link. Go back to the sale and open the page from its button."
);
readable!(
    /// A form as the till's own pages post it.
    TillForm,
    Form,
    body,
    Unreadable,
    "The till could not read what was sent. Go back to the sale and try again: nothing was recorded."
);

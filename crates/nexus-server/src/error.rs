//! The HTTP layer's one error type. Every error answer is
//! `{"error": {"code": "...", "message": "..."}}`: the message is for the user; anything about
//! internals goes to the log, once, and never into the answer.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use nexus_domain::ValueError;
use nexus_domain::limits::LimitError;
use nexus_domain::tender::TenderError;
use nexus_store::StoreError;
use serde::Serialize;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    field: Option<&'static str>,
    retry_after_seconds: Option<u64>,
    /// What the operator needs to know; logged, never sent.
    internal: Option<String>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
            retry_after_seconds: None,
            internal: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            message,
        )
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    pub fn too_many_attempts(retry_after_seconds: u64) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            format!(
                "too many failed sign-ins for this email; try again in {retry_after_seconds} s"
            ),
        )
        .retry_after(retry_after_seconds)
    }

    pub fn too_many_sign_ins_at_once() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            "too many sign-ins at once from this address; try again in a moment",
        )
        .retry_after(1)
    }

    pub fn too_many_registrations(retry_after_seconds: u64) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            format!(
                "too many organisations were registered from this address; try again in {} min",
                retry_after_seconds.div_ceil(60)
            ),
        )
        .retry_after(retry_after_seconds)
    }

    fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after_seconds = Some(seconds);
        self
    }

    /// A failure that is ours, not the caller's: logged with `detail`, answered opaquely.
    pub fn internal(detail: impl Into<String>) -> Self {
        let mut error = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; it has been logged",
        );
        error.internal = Some(detail.into());
        error
    }

    pub fn with_field(mut self, field: &'static str) -> Self {
        self.field = Some(field);
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable code, e.g. `validation_failed`.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The field at fault, when there is one.
    pub fn field(&self) -> Option<&'static str> {
        self.field
    }

    /// The message for the user (never the internal detail).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl ApiError {
    /// Writes what the operator needs to the log, if anything: once per error, by whoever
    /// answers it (the JSON answer below, or a dashboard page).
    pub fn log(&self) {
        if let Some(internal) = &self.internal {
            if self.status.is_server_error() {
                tracing::error!(status = self.status.as_u16(), error = %internal, "request failed");
            } else {
                tracing::warn!(status = self.status.as_u16(), error = %internal, "request refused");
            }
        }
    }

    /// Seconds to wait before trying again, for a refusal by a limit.
    pub fn retry_after_seconds(&self) -> Option<u64> {
        self.retry_after_seconds
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log();
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: &self.message,
                field: self.field,
            },
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(value) = self
            .retry_after_seconds
            .and_then(|seconds| HeaderValue::from_str(&seconds.to_string()).ok())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict { field } => Self::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("{field} is already taken"),
            )
            .with_field(field),
            StoreError::UnknownBranch(branch) => {
                Self::validation(format!("branch {branch} does not exist or is archived"))
            }
            StoreError::UnknownProduct(product) => {
                Self::validation(format!("product {product} does not exist"))
                    .with_field("product_id")
            }
            StoreError::UnknownSale(_) => Self::not_found("sale"),
            StoreError::Refused(message) => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "refused", message)
            }
            StoreError::Stale => Self::new(
                StatusCode::CONFLICT,
                "stale",
                "the record changed while this request was being checked; reload and try again",
            ),
            StoreError::LastOwner => Self::new(
                StatusCode::CONFLICT,
                "last_owner",
                "the organisation must keep at least one active owner",
            ),
            StoreError::UnknownTenant(_) => {
                Self::unauthenticated("this organisation no longer exists")
            }
            too_new @ StoreError::TenantSchemaTooNew { .. } => {
                let mut error = Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "this organisation's data needs a newer version of the service",
                );
                error.internal = Some(too_new.to_string());
                error
            }
            data if data.is_data_error() => {
                let mut error = Self::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_data",
                    "the request holds something that cannot be stored; check the text for unusual characters",
                );
                error.internal = Some(data.to_string());
                error
            }
            other @ (StoreError::Config(_) | StoreError::Database(_) | StoreError::Io { .. }) => {
                Self::internal(other.to_string())
            }
        }
    }
}

impl From<ValueError> for ApiError {
    fn from(error: ValueError) -> Self {
        let field = error.field();
        let api_error = Self::validation(error.to_string());
        match field {
            Some(field) => api_error.with_field(field),
            None => api_error,
        }
    }
}

/// A bound of `nexus_domain::limits`: a 422 naming the field.
impl From<LimitError> for ApiError {
    fn from(error: LimitError) -> Self {
        Self::validation(error.to_string()).with_field(error.field())
    }
}

/// A payment the tender rules refuse: a 422 naming the field.
impl From<TenderError> for ApiError {
    fn from(error: TenderError) -> Self {
        Self::validation(error.to_string()).with_field(error.field())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = rejection.status();
        let code = match &rejection {
            JsonRejection::JsonDataError(_) => "validation_failed",
            JsonRejection::JsonSyntaxError(_) => "invalid_json",
            JsonRejection::MissingJsonContentType(_) => "unsupported_media_type",
            _ if status == StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            _ => "bad_request",
        };
        Self::new(status, code, rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::bad_request(rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::bad_request(rejection.body_text())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The error answer's shape, for the API contract.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ApiErrorBody {
    error: ApiErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ApiErrorDetail {
    /// Stable machine-readable code, e.g. `validation_failed`, `not_found`, `conflict`.
    code: String,
    /// For people; safe to show.
    message: String,
    /// The input field at fault, when there is one.
    field: Option<String>,
}

/// The errors any authenticated route may answer.
#[derive(utoipa::IntoResponses)]
pub enum CommonErrors {
    /// Malformed JSON, path or query.
    #[response(status = 400)]
    BadRequest(#[to_schema] ApiErrorBody),
    /// No valid access token, or the session has ended.
    #[response(status = 401)]
    Unauthenticated(ApiErrorBody),
    /// The role may not do this (see the operation's security scope).
    #[response(status = 403)]
    Forbidden(ApiErrorBody),
    /// No such resource in this organisation.
    #[response(status = 404)]
    NotFound(ApiErrorBody),
    /// The request's body did not arrive in time.
    #[response(status = 408)]
    Timeout(ApiErrorBody),
    /// A unique field clashes, or the record changed meanwhile.
    #[response(status = 409)]
    Conflict(ApiErrorBody),
    /// The body is larger than the operation takes.
    #[response(status = 413)]
    TooLarge(ApiErrorBody),
    /// A body without `Content-Type: application/json` (or the type the operation names).
    #[response(status = 415)]
    UnsupportedMediaType(ApiErrorBody),
    /// Well-formed but invalid input, or a rule of the data refuses it.
    #[response(status = 422)]
    Unprocessable(ApiErrorBody),
}

/// The errors of an operation that takes a body and no sign-in (registration, sign-in, a
/// station's enrolment and sync).
#[derive(utoipa::IntoResponses)]
pub enum BodyErrors {
    /// Malformed JSON, or a malformed query.
    #[response(status = 400)]
    BadRequest(#[to_schema] ApiErrorBody),
    /// The request's body did not arrive in time.
    #[response(status = 408)]
    Timeout(ApiErrorBody),
    /// The body is larger than the operation takes.
    #[response(status = 413)]
    TooLarge(ApiErrorBody),
    /// A body without `Content-Type: application/json`.
    #[response(status = 415)]
    UnsupportedMediaType(ApiErrorBody),
    /// Well-formed JSON that is not what the operation takes (a missing, unknown or mistyped
    /// field), or a value a rule refuses.
    #[response(status = 422)]
    Unprocessable(ApiErrorBody),
}

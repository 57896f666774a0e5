//! OpenAPI schemas for the types whose JSON form is not what their Rust shape suggests: ids are
//! UUID strings, times are integer milliseconds, quantities are exact decimal strings.

use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use crate::ids::{
    BranchId, CategoryId, MovementId, ProductId, SaleId, SessionId, TenantId, TransferId, UserId,
};
use crate::quantity::Quantity;
use crate::time::UnixMillis;

macro_rules! uuid_schema {
    ($($name:ident),*) => {
        $(
            impl PartialSchema for $name {
                fn schema() -> RefOr<Schema> {
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
                        .into()
                }
            }
            impl ToSchema for $name {}
        )*
    };
}

uuid_schema!(
    BranchId, CategoryId, MovementId, ProductId, SaleId, SessionId, TenantId, TransferId, UserId
);

impl PartialSchema for UnixMillis {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .description(Some("Milliseconds since 1970-01-01T00:00:00Z"))
            .into()
    }
}
impl ToSchema for UnixMillis {}

impl PartialSchema for Quantity {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(r"^-?[0-9]+(\.[0-9]{1,3})?$"))
            .description(Some(
                "An exact quantity with up to three decimals, e.g. \"2\" or \"1.5\". Sent as a string; a JSON number is accepted on input.",
            ))
            .into()
    }
}
impl ToSchema for Quantity {}

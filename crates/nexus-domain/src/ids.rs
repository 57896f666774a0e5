//! Typed identifiers. All are UUIDv7 so that they sort by creation time and index well.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::time::UnixMillis;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new id whose time part is `now`, so ids made under a test clock replay exactly
            /// in order.
            pub fn generate(now: UnixMillis) -> Self {
                Self(new_v7(now))
            }

            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, formatter)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(formatter, "{}({})", stringify!($name), self.0)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(text).map(Self)
            }
        }
    };
}

fn new_v7(now: UnixMillis) -> Uuid {
    let millis = u64::try_from(now.as_millis()).unwrap_or(0);
    let timestamp = uuid::Timestamp::from_unix(
        uuid::NoContext,
        millis / 1000,
        u32::try_from((millis % 1000) * 1_000_000).unwrap_or(0),
    );
    Uuid::new_v7(timestamp)
}

uuid_id!(
    /// A merchant organisation. Its data lives in its own PostgreSQL schema or SQLite file.
    TenantId
);
uuid_id!(
    /// A member of staff (owner, manager or cashier) inside one tenant.
    UserId
);
uuid_id!(
    /// One shop of an organisation; stock and staff are held per branch.
    BranchId
);
uuid_id!(
    /// One sign-in: the family of refresh tokens that rotate from one login.
    SessionId
);

impl TenantId {
    /// The PostgreSQL schema (and SQLite file stem) holding this tenant's tables:
    /// `t_` and the 32 lowercase hex digits of the id. Built only from a parsed id, never from
    /// client text, so it is always safe to quote into SQL.
    pub fn storage_name(&self) -> String {
        format!("t_{}", self.0.simple())
    }

    /// The inverse of [`TenantId::storage_name`]; `None` unless the name has exactly that shape.
    pub fn from_storage_name(name: &str) -> Option<Self> {
        let hex = name.strip_prefix("t_")?;
        let is_lower_hex =
            |character: char| character.is_ascii_digit() || ('a'..='f').contains(&character);
        if hex.len() != 32 || !hex.chars().all(is_lower_hex) {
            return None;
        }
        Uuid::parse_str(hex).ok().map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_name_round_trips_and_rejects_other_shapes() {
        let tenant = TenantId::generate(UnixMillis::from_millis(1_767_225_600_000));
        let name = tenant.storage_name();
        assert_eq!(name.len(), 34);
        assert_eq!(TenantId::from_storage_name(&name), Some(tenant));
        for bad in [
            "t_",
            "public",
            "t_0123456789ABCDEF0123456789abcdef",
            "t_0123456789abcdef0123456789abcde\"",
            "x_0123456789abcdef0123456789abcdef",
            "t_0123456789abcdef0123456789abcdef0",
        ] {
            assert_eq!(TenantId::from_storage_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn ids_carry_the_clock_time() {
        let early = UserId::generate(UnixMillis::from_millis(1_000_000));
        let late = UserId::generate(UnixMillis::from_millis(2_000_000));
        assert!(early < late);
    }
}

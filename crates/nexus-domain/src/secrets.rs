//! Password and PIN hashes: argon2id with the OWASP parameters (19 MiB, two passes), computed in
//! memory that is allocated once and reused.
//!
//! Each argon2id hash needs 19 MiB of working memory. Allocated afresh per hash, on whichever
//! thread runs it, that memory stays with the allocator: a flood of failed sign-ins grew a server
//! from 40 MB to over a gigabyte and it never came back. A [`SecretHasher`] owns a fixed number of
//! working areas; a hash borrows one, and with all of them lent the answer is [`SecretError::Busy`]
//! rather than more memory. The caller queues work for the hasher (the server with a semaphore of
//! as many permits as areas), so it never sees `Busy` in practice.

use std::sync::Mutex;

use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    #[error("every hashing area is in use")]
    Busy,
    #[error("hashing failed: {0}")]
    Hashing(String),
}

/// A stored hash that cannot be checked: not argon2id, not parseable, or asking for more memory
/// than the hasher has. It matches nothing.
const UNUSABLE: Result<bool, SecretError> = Ok(false);

pub struct SecretHasher {
    params: Params,
    slots: usize,
    /// Working areas not lent out, and how many exist (at most `slots`).
    areas: Mutex<(Vec<Vec<Block>>, usize)>,
}

impl SecretHasher {
    /// A hasher with `slots` working areas of 19 MiB each, made on first use and kept.
    pub fn new(slots: usize) -> Self {
        Self {
            params: Params::default(),
            slots: slots.max(1),
            areas: Mutex::new((Vec::new(), 0)),
        }
    }

    pub fn slots(&self) -> usize {
        self.slots
    }

    /// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) of `secret` with `salt`.
    pub fn hash(&self, secret: &[u8], salt: &[u8; 16]) -> Result<String, SecretError> {
        let salt_text = SaltString::encode_b64(salt)
            .map_err(|error| SecretError::Hashing(error.to_string()))?;
        let mut output = [0_u8; Params::DEFAULT_OUTPUT_LEN];
        self.compute(&self.params, secret, salt, &mut output)?;
        let hash = PasswordHash {
            algorithm: argon2::ARGON2ID_IDENT,
            version: Some(Version::V0x13.into()),
            params: (&self.params)
                .try_into()
                .map_err(|error: argon2::password_hash::Error| {
                    SecretError::Hashing(error.to_string())
                })?,
            salt: Some(salt_text.as_salt()),
            hash: Some(
                Output::new(&output).map_err(|error| SecretError::Hashing(error.to_string()))?,
            ),
        };
        Ok(hash.to_string())
    }

    /// Whether `secret` matches the stored `hash`, compared in constant time.
    pub fn verify(&self, secret: &[u8], hash: &str) -> Result<bool, SecretError> {
        let Ok(parsed) = PasswordHash::new(hash) else {
            return UNUSABLE;
        };
        let (Some(expected), Some(salt)) = (parsed.hash, parsed.salt) else {
            return UNUSABLE;
        };
        if parsed.algorithm != argon2::ARGON2ID_IDENT {
            return UNUSABLE;
        }
        let Ok(params) = Params::try_from(&parsed) else {
            return UNUSABLE;
        };
        if params.block_count() > self.params.block_count() {
            return UNUSABLE;
        }
        let mut salt_bytes = [0_u8; 64];
        let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else {
            return UNUSABLE;
        };
        let mut output = vec![0_u8; expected.len()];
        self.compute(&params, secret, salt_bytes, &mut output)?;
        let Ok(computed) = Output::new(&output) else {
            return UNUSABLE;
        };
        // `Output`'s equality is constant-time.
        Ok(computed == expected)
    }

    fn compute(
        &self,
        params: &Params,
        secret: &[u8],
        salt: &[u8],
        output: &mut [u8],
    ) -> Result<(), SecretError> {
        let mut area = self.borrow()?;
        let blocks = params.block_count();
        let hasher = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let result = hasher
            .hash_password_into_with_memory(secret, salt, output, &mut area[..blocks])
            .map_err(|error| SecretError::Hashing(error.to_string()));
        self.give_back(area);
        result
    }

    fn borrow(&self) -> Result<Vec<Block>, SecretError> {
        let mut areas = self
            .areas
            .lock()
            .map_err(|_| SecretError::Hashing("the hasher's lock was poisoned".to_owned()))?;
        if let Some(area) = areas.0.pop() {
            return Ok(area);
        }
        if areas.1 >= self.slots {
            return Err(SecretError::Busy);
        }
        areas.1 += 1;
        drop(areas);
        Ok(vec![Block::default(); self.params.block_count()])
    }

    fn give_back(&self, area: Vec<Block>) {
        if let Ok(mut areas) = self.areas.lock() {
            areas.0.push(area);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_match_the_reference_implementation() {
        let hasher = SecretHasher::new(1);
        let hash = hasher.hash(b"a long password", &[7; 16]).expect("hash");
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert_eq!(hasher.verify(b"a long password", &hash), Ok(true));
        assert_eq!(hasher.verify(b"another password", &hash), Ok(false));
        // What the argon2 crate's own hasher wrote verifies here, and the other way round.
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let salt = SaltString::encode_b64(&[9; 16]).expect("salt");
        let reference = Argon2::default()
            .hash_password(b"1234", &salt)
            .expect("reference")
            .to_string();
        assert_eq!(hasher.verify(b"1234", &reference), Ok(true));
        let ours = hasher.hash(b"1234", &[9; 16]).expect("hash");
        assert_eq!(ours, reference);
        assert!(
            Argon2::default()
                .verify_password(b"1234", &PasswordHash::new(&ours).expect("parse"))
                .is_ok()
        );
    }

    #[test]
    fn unusable_hashes_match_nothing() {
        let hasher = SecretHasher::new(1);
        for stored in [
            "",
            "plain text",
            "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$3Y6tCKnkV2bq2cJ5Ma2gQo3jZsGm4kBc5FyC0YUk0wI",
            // Asks for 4 GiB of working memory.
            "$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHRzYWx0$3Y6tCKnkV2bq2cJ5Ma2gQo3jZsGm4kBc5FyC0YUk0wI",
        ] {
            assert_eq!(hasher.verify(b"x", stored), Ok(false), "{stored}");
        }
    }

    #[test]
    fn no_more_areas_than_slots_are_made() {
        let hasher = SecretHasher::new(2);
        let first = hasher.borrow().expect("one");
        let second = hasher.borrow().expect("two");
        assert_eq!(hasher.borrow().err(), Some(SecretError::Busy));
        hasher.give_back(first);
        let again = hasher.borrow().expect("reused");
        hasher.give_back(again);
        hasher.give_back(second);
        assert_eq!(hasher.areas.lock().map(|areas| areas.1).ok(), Some(2));
    }
}

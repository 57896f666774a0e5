//! Webhook signatures, checked before a byte of the body is believed.
//!
//! Stripe: `Stripe-Signature: t=…,v1=…[,v1=…]`, HMAC-SHA256 of `"{t}.{raw body}"` with the
//! endpoint's secret, any one `v1` matching (several during a secret's rotation), and `t`
//! within five minutes of our clock so a captured request cannot be replayed later.
//! Paystack: `x-paystack-signature`, hex HMAC-SHA512 of the raw body with the secret key.
//! Comparisons are constant-time (`ring::hmac::verify`).

use ring::hmac;

/// How far a Stripe signature's timestamp may be from our clock.
pub const STRIPE_TOLERANCE_SECONDS: i64 = 300;

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the request carries no signature header")]
    Missing,
    #[error("the signature header is malformed")]
    Malformed,
    #[error("the signature's timestamp is more than 5 minutes from the server's clock")]
    Stale,
    #[error("the signature does not match the body")]
    Mismatch,
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(text.get(at..at + 2)?, 16).ok())
        .collect()
}

/// Checks a `Stripe-Signature` header; `now_seconds` is our clock.
pub fn verify_stripe(
    header: Option<&str>,
    body: &[u8],
    secret: &str,
    now_seconds: i64,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        let (name, value) = part
            .trim()
            .split_once('=')
            .ok_or(SignatureError::Malformed)?;
        match name {
            "t" => {
                timestamp = Some(
                    value
                        .parse::<i64>()
                        .map_err(|_| SignatureError::Malformed)?,
                )
            }
            // Other schemes (v0 is Stripe's test scheme) are not trusted.
            "v1" => candidates.push(from_hex(value).ok_or(SignatureError::Malformed)?),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if candidates.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if (now_seconds - timestamp).abs() > STRIPE_TOLERANCE_SECONDS {
        return Err(SignatureError::Stale);
    }
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let mut signed = format!("{timestamp}.").into_bytes();
    signed.extend_from_slice(body);
    if candidates
        .iter()
        .any(|candidate| hmac::verify(&key, &signed, candidate).is_ok())
    {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// Checks an `x-paystack-signature` header.
pub fn verify_paystack(
    header: Option<&str>,
    body: &[u8],
    secret: &str,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let signature = from_hex(header.trim()).ok_or(SignatureError::Malformed)?;
    let key = hmac::Key::new(hmac::HMAC_SHA512, secret.as_bytes());
    hmac::verify(&key, body, &signature).map_err(|_| SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    fn stripe_header(secret: &str, t: i64, body: &[u8]) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
        let mut signed = format!("{t}.").into_bytes();
        signed.extend_from_slice(body);
        format!("t={t},v1={}", hex(hmac::sign(&key, &signed).as_ref()))
    }

    #[test]
    fn stripe_signatures_are_checked_against_body_secret_and_clock() {
        let body = br#"{"id":"evt_1"}"#;
        let good = stripe_header("whsec_a", 1_000, body);
        assert_eq!(verify_stripe(Some(&good), body, "whsec_a", 1_100), Ok(()));
        assert_eq!(
            verify_stripe(Some(&good), b"{\"id\":\"evt_2\"}", "whsec_a", 1_100),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_stripe(Some(&good), body, "whsec_b", 1_100),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_stripe(Some(&good), body, "whsec_a", 1_301),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify_stripe(None, body, "whsec_a", 1_000),
            Err(SignatureError::Missing)
        );
        for malformed in [
            "",
            "t=abc,v1=00",
            "v1=00",
            "t=1000",
            "t=1000,v1=zz",
            "garbage",
        ] {
            assert_eq!(
                verify_stripe(Some(malformed), body, "whsec_a", 1_000),
                Err(SignatureError::Malformed),
                "{malformed}"
            );
        }
        // During a secret's rotation Stripe signs with both; either matching is enough.
        let old = stripe_header("whsec_old", 1_000, body);
        let rotated = format!("{good},v1={}", old.split("v1=").nth(1).unwrap_or_default());
        assert_eq!(
            verify_stripe(Some(&rotated), body, "whsec_old", 1_000),
            Ok(())
        );
        assert_eq!(
            verify_stripe(Some(&rotated), body, "whsec_a", 1_000),
            Ok(())
        );
    }

    #[test]
    fn paystack_signatures_are_hex_hmac_sha512_of_the_body() {
        let body = br#"{"event":"charge.success"}"#;
        let key = hmac::Key::new(hmac::HMAC_SHA512, b"sk_test_x");
        let good = hex(hmac::sign(&key, body).as_ref());
        assert_eq!(verify_paystack(Some(&good), body, "sk_test_x"), Ok(()));
        assert_eq!(
            verify_paystack(Some(&good), body, "sk_test_y"),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_paystack(Some(&good), b"{}", "sk_test_x"),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_paystack(Some("xyz"), body, "sk_test_x"),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify_paystack(None, body, "sk_test_x"),
            Err(SignatureError::Missing)
        );
    }
}

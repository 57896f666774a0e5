//! Webhook signatures, computed exactly as Stripe and Paystack compute them, so that Nexus's
//! verification is exercised against the real schemes rather than a fake's private one.

use ring::hmac::{HMAC_SHA256, HMAC_SHA512, Key, sign};

/// The `Stripe-Signature` header: Stripe keys the HMAC with the whole `whsec_…` string and
/// signs `"{t}.{body}"`, so a replayed body with a fresh timestamp does not verify.
pub(crate) fn stripe(webhook_secret: &str, body: &[u8], timestamp: i64) -> String {
    let key = Key::new(HMAC_SHA256, webhook_secret.as_bytes());
    let mut message = format!("{timestamp}.").into_bytes();
    message.extend_from_slice(body);
    format!("t={timestamp},v1={}", hex(sign(&key, &message).as_ref()))
}

/// The `x-paystack-signature` header: Paystack signs the bare body with the account's secret key.
pub(crate) fn paystack(secret_key: &str, body: &[u8]) -> String {
    let key = Key::new(HMAC_SHA512, secret_key.as_bytes());
    hex(sign(&key, body).as_ref())
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

#[cfg(test)]
mod tests {
    // Vectors computed independently with Python's hmac module.
    #[test]
    fn stripe_vector() {
        assert_eq!(
            super::stripe("whsec_nexus_test", br#"{"id":"evt_1"}"#, 1_767_261_600),
            "t=1767261600,v1=fc4709979d41f4a5fe7d2cbde94ceb1432100fcbd80e83ec2cefb4bbba31af01"
        );
    }

    #[test]
    fn paystack_vector() {
        assert_eq!(
            super::paystack("sk_test_paystack_nexus", br#"{"event":"charge.success"}"#),
            "8760ec0d99736005ebebaaccb41adda08393036fa6bbbb0d64980b8667e20cbac10a005c995acfbe9867f60341a83a3053b46d62080bd4b0eb60a47b611a62bc"
        );
    }
}

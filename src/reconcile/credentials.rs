//! Passwords as the reconciles handle them: read from Secrets, compared by fingerprint,
//! never printed.

use k8s_openapi::api::core::v1::Secret;

/// A password as read from a Secret. Its Debug output never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(pub String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl Password {
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint(crate::manifests::password_fingerprint(&self.0))
    }
}

/// A password's SHA-256: enough to tell whether two passwords are the same, so the
/// operator need neither hold our Secret's password nor re-read it each reconcile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fingerprint(pub String);

/// The value under `key` in a Secret, from `data` or (not yet written) `stringData`.
pub fn secret_value(secret: &Secret, key: &str) -> Option<String> {
    if let Some(value) = secret.data.as_ref().and_then(|d| d.get(key)) {
        return String::from_utf8(value.0.clone()).ok();
    }
    secret
        .string_data
        .as_ref()
        .and_then(|d| d.get(key))
        .cloned()
}

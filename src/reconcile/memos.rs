//! What the operator remembers between reconciles, besides the objects themselves.
//! Each memo only saves requests or hides a lagging cache; none is a source of truth,
//! and losing one (a restart) costs a read or a write, never a wrong decision.
//!
//! | memo | remembers | forgets |
//! | --- | --- | --- |
//! | `AppliedMemo` (`kube_ops`) | per child, the hash of what we applied and the version it answered | when the child is deleted, or its live fields differ |
//! | `StatusMemo` | per instance, the status we last wrote, the version we read and the one our write made | when the cache reaches our write, or the instance goes |
//! | `SecretMemo` | per credentials Secret, its password's fingerprint at a version | when we delete the Secret or find it gone, or its instance goes |
//! | `Backoff` | per object, its consecutive failed reconciles | after a success, or when the object goes |
//!
//! "When the object goes" is the primary watch's delete event (`Context::forget`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;

use super::credentials::{Fingerprint, Password, secret_value};
use crate::api::{MySQL, MySQLStatus};

/// The last status we wrote to each instance, with the instance's resourceVersion when
/// we read it and the one our write produced. Until the watch brings our write back,
/// the cache shows the instance without our status: at the version we read, or at one
/// our own writes made before the status (the finalizer we add first). A reconcile then
/// would compare its new status with the old one, and either write ours again or, worse,
/// take a status equal to the old one for "no change" while the server holds ours (and
/// our status write wakes nobody); or decide again what the status had decided (a
/// restore on create). So while the cache lags, a reconcile sees the status we wrote;
/// once the cache reached our write, the cache's own status counts again and the entry
/// goes.
#[derive(Default)]
pub struct StatusMemo {
    written: Mutex<HashMap<String, StatusWrite>>,
}

struct StatusWrite {
    read_at: String,
    written_at: Option<String>,
    status: MySQLStatus,
}

impl StatusWrite {
    /// The cache at `version` has not reached our write yet. Versions are compared as
    /// numbers where both are (as every etcd-backed API server makes them); otherwise
    /// only the version we read counts as older.
    fn ahead_of(&self, version: &str) -> bool {
        if version == self.read_at {
            return true;
        }
        let written = self
            .written_at
            .as_deref()
            .and_then(|v| v.parse::<u64>().ok());
        match (version.parse::<u64>().ok(), written) {
            (Some(cached), Some(written)) => cached < written,
            _ => false,
        }
    }
}

impl StatusMemo {
    /// The instance as the server has it: with the status we wrote, if the cache has
    /// not caught up with that write yet.
    pub fn as_written<'a>(&self, instance: &'a MySQL) -> std::borrow::Cow<'a, MySQL> {
        let (Some(uid), Some(version)) =
            (&instance.metadata.uid, &instance.metadata.resource_version)
        else {
            return std::borrow::Cow::Borrowed(instance);
        };
        let mut written = self.written.lock().expect("not poisoned");
        match written.get(uid) {
            Some(write) if write.ahead_of(version) => {
                let mut ours = instance.clone();
                ours.status = Some(write.status.clone());
                std::borrow::Cow::Owned(ours)
            }
            Some(_) => {
                written.remove(uid);
                std::borrow::Cow::Borrowed(instance)
            }
            None => std::borrow::Cow::Borrowed(instance),
        }
    }

    /// We wrote `status` to `instance` as the cache showed it; the write made the
    /// object `written_at`.
    pub fn wrote(&self, instance: &MySQL, status: &MySQLStatus, written_at: Option<String>) {
        let (Some(uid), Some(version)) =
            (&instance.metadata.uid, &instance.metadata.resource_version)
        else {
            return;
        };
        let write = StatusWrite {
            read_at: version.clone(),
            written_at,
            status: status.clone(),
        };
        self.written
            .lock()
            .expect("not poisoned")
            .insert(uid.clone(), write);
    }

    /// The object is gone: nothing to remember.
    pub fn forget<K: kube::Resource>(&self, obj: &K) {
        if let Some(uid) = &obj.meta().uid {
            self.written.lock().expect("not poisoned").remove(uid);
        }
    }
}

/// What we last learned of each Secret whose data a reconcile needs (our credentials
/// Secrets), by its resourceVersion: the password's fingerprint and whether the client
/// option file is there. The metadata cache says when a Secret changed; only then is
/// its data read again.
#[derive(Default)]
pub struct SecretMemo {
    known: Mutex<HashMap<String, SecretFacts>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretFacts {
    pub resource_version: Option<String>,
    pub fingerprint: Option<Fingerprint>,
    /// The client option file is missing (written by an earlier version).
    pub outdated: bool,
}

impl SecretFacts {
    pub fn of(secret: &Secret) -> Self {
        use crate::api::keys::{CLIENT_CONFIG_KEY, PASSWORD_KEY, TLS_CLIENT_CONFIG_KEY};
        let value = |key: &str| secret_value(secret, key);
        Self {
            resource_version: secret.metadata.resource_version.clone(),
            fingerprint: value(PASSWORD_KEY).map(|p| Password(p).fingerprint()),
            // Written by a version without the option files the Jobs read.
            outdated: value(CLIENT_CONFIG_KEY).is_none() || value(TLS_CLIENT_CONFIG_KEY).is_none(),
        }
    }
}

impl SecretMemo {
    /// What we know of `namespace/name` if it is still at `resource_version`.
    pub fn at(&self, namespace: &str, name: &str, resource_version: &str) -> Option<SecretFacts> {
        self.known
            .lock()
            .expect("not poisoned")
            .get(&format!("{namespace}/{name}"))
            .filter(|f| f.resource_version.as_deref() == Some(resource_version))
            .cloned()
    }

    pub fn knows(&self, namespace: &str, name: &str) -> bool {
        self.known
            .lock()
            .expect("not poisoned")
            .contains_key(&format!("{namespace}/{name}"))
    }

    /// Remembers a Secret as read or as our write returned it; None forgets it.
    pub fn learn(&self, namespace: &str, name: &str, secret: Option<&Secret>) {
        let key = format!("{namespace}/{name}");
        let mut known = self.known.lock().expect("not poisoned");
        match secret {
            Some(secret) => known.insert(key, SecretFacts::of(secret)),
            None => known.remove(&key),
        };
    }
}

/// Exponential backoff per object (2 s doubling to 5 min), so one broken object retries
/// slowly while the others go on. Keyed by `namespace/name`.
#[derive(Default)]
pub struct Backoff {
    failures: Mutex<HashMap<String, u32>>,
}

impl Backoff {
    /// One more failure of `key`: how long to wait before trying again.
    pub fn failed(&self, key: &str) -> Duration {
        let mut failures = self.failures.lock().expect("not poisoned");
        let count = failures.entry(key.to_string()).or_insert(0);
        *count = count.saturating_add(1);
        Duration::from_secs((2u64 << (*count - 1).min(8)).min(300))
    }

    /// `key` succeeded, or is gone: its next failure starts from the shortest wait.
    pub fn forget(&self, key: &str) {
        self.failures.lock().expect("not poisoned").remove(key);
    }

    pub fn remembers(&self, key: &str) -> bool {
        self.failures
            .lock()
            .expect("not poisoned")
            .contains_key(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cache still shows the instance as it was before our last status write: a
    /// reconcile compares with what we wrote, not with what the cache shows, so a
    /// status equal to the cache's is still written when ours differs.
    #[test]
    fn while_the_cache_lags_our_status_write_a_reconcile_sees_that_write() {
        let phase = |p: crate::api::Phase| MySQLStatus {
            phase: Some(p),
            ..Default::default()
        };
        let mut cached: MySQL = serde_json::from_value(serde_json::json!({
            "apiVersion": "otus.homework/v1", "kind": "MySQL",
            "metadata": {"name": "db", "namespace": "ns", "uid": "u1", "resourceVersion": "1"},
            "spec": {"image": "mysql:8.4", "database": "d", "password": "p", "storage_size": "1Gi"},
        }))
        .unwrap();
        cached.status = Some(phase(crate::api::Phase::Ready));
        let memo = StatusMemo::default();
        assert_eq!(memo.as_written(&cached).status, cached.status);
        memo.wrote(
            &cached,
            &phase(crate::api::Phase::Creating),
            Some("3".into()),
        );
        assert_eq!(
            memo.as_written(&cached).status,
            Some(phase(crate::api::Phase::Creating))
        );
        // A version between: our own finalizer patch, before the status write.
        cached.metadata.resource_version = Some("2".into());
        assert_eq!(
            memo.as_written(&cached).status,
            Some(phase(crate::api::Phase::Creating)),
            "an intermediate version does not carry our write"
        );
        // The watch brought our write: the cache speaks for the server again.
        cached.metadata.resource_version = Some("3".into());
        assert_eq!(memo.as_written(&cached).status, cached.status);
        cached.metadata.resource_version = Some("1".into());
        assert_eq!(memo.as_written(&cached).status, cached.status, "forgotten");
    }

    #[test]
    fn backoff_doubles_to_five_minutes_and_is_forgotten() {
        let backoff = Backoff::default();
        let waits: Vec<u64> = (0..10).map(|_| backoff.failed("ns/db").as_secs()).collect();
        assert_eq!(waits, [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert!(backoff.remembers("ns/db"));
        backoff.forget("ns/db");
        assert!(!backoff.remembers("ns/db"));
        assert_eq!(backoff.failed("ns/db").as_secs(), 2);
    }
}

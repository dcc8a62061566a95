//! The operator's own use of a bucket: deleting a record's dump, and listing the dumps
//! of a new instance that has no records (the records are an index; the store is the
//! truth). The keys are read from the instance's Secret for each use and never kept.

use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;

use super::Context;
use crate::api::S3Storage;
use crate::binlog::{self, Segment};
use crate::s3::{self, Listed, S3Credentials, Store};

/// Why a bucket could not be used, and whether trying again can help.
#[derive(Debug)]
pub enum Failure {
    /// The keys' Secret is gone or lacks a key; the settings say too little.
    Permanent(String),
    Transient(String),
}

impl Failure {
    pub fn message(&self) -> &str {
        match self {
            Failure::Permanent(m) | Failure::Transient(m) => m,
        }
    }
}

/// A client for the bucket of `storage`, with the keys from its Secret in `namespace`.
pub async fn open(ctx: &Context, namespace: &str, storage: &S3Storage) -> Result<Store, Failure> {
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), namespace);
    let secret_ref = &storage.credentials_secret;
    let secret = match secrets.get_opt(&secret_ref.name).await {
        Ok(Some(secret)) => secret,
        Ok(None) => {
            return Err(Failure::Permanent(format!(
                "the Secret {} with the bucket's keys is gone",
                secret_ref.name
            )));
        }
        Err(e) => return Err(Failure::Transient(e.to_string())),
    };
    let value = |name: &str| {
        let bytes = secret.data.as_ref()?.get(name)?;
        String::from_utf8(bytes.0.clone()).ok()
    };
    let (Some(access_key_id), Some(secret_access_key)) = (
        value(secret_ref.access_key_id_key()),
        value(secret_ref.secret_access_key_key()),
    ) else {
        return Err(Failure::Permanent(format!(
            "the Secret {} lacks the key {} or {}",
            secret_ref.name,
            secret_ref.access_key_id_key(),
            secret_ref.secret_access_key_key()
        )));
    };
    let credentials = S3Credentials {
        access_key_id,
        secret_access_key,
    };
    Store::connect(&storage.location(), &credentials).map_err(|e| Failure::Permanent(e.to_string()))
}

/// The complete dumps of instance `name` in the bucket: those under its own namespace's
/// folder; when there are none, those of the same instance name under any other
/// namespace of the prefix (the namespace was deleted, or the instance moved).
pub async fn find_dumps(
    ctx: &Context,
    namespace: &str,
    name: &str,
    storage: &S3Storage,
) -> Result<Vec<Listed>, Failure> {
    let store = open(ctx, namespace, storage).await?;
    let own = s3::instance_prefix(storage.prefix(), namespace, name);
    let complete = |listed: Vec<Listed>| -> Vec<Listed> {
        listed.into_iter().filter(|d| d.has_checksum).collect()
    };
    let found = complete(
        store
            .list(&own)
            .await
            .map_err(|e| Failure::Transient(e.to_string()))?,
    );
    if !found.is_empty() {
        return Ok(found);
    }
    let everywhere = store
        .list(storage.prefix())
        .await
        .map_err(|e| Failure::Transient(e.to_string()))?;
    Ok(complete(everywhere)
        .into_iter()
        .filter(|d| s3::instance_of_key(storage.prefix(), &d.key).is_some_and(|(_, n)| n == name))
        .collect())
}

/// The archived binary logs of instance `name` (point-in-time recovery), each with its
/// checksum beside it: a segment without one was never confirmed and does not count.
pub async fn list_segments(
    ctx: &Context,
    namespace: &str,
    name: &str,
    storage: &S3Storage,
) -> Result<Vec<Segment>, Failure> {
    let store = open(ctx, namespace, storage).await?;
    let instance_prefix = s3::instance_prefix(storage.prefix(), namespace, name);
    let keys = store
        .list_keys(&format!("{instance_prefix}{}", binlog::FOLDER))
        .await
        .map_err(|e| Failure::Transient(e.to_string()))?;
    let confirmed: std::collections::HashSet<&str> = keys.iter().map(String::as_str).collect();
    Ok(keys
        .iter()
        .filter(|k| confirmed.contains(s3::checksum_key(k).as_str()))
        .filter_map(|k| binlog::parse_segment_key(&instance_prefix, k))
        .collect())
}

/// Deletes `keys` (with their checksums) from the bucket of `storage`.
pub async fn delete_objects(
    ctx: &Context,
    namespace: &str,
    storage: &S3Storage,
    keys: &[String],
) -> Result<(), Failure> {
    let store = open(ctx, namespace, storage).await?;
    for key in keys {
        store
            .delete_dump(key)
            .await
            .map_err(|e| Failure::Transient(e.to_string()))?;
    }
    Ok(())
}

//! The objects an instance needs, built from the templates. Pure: the reconciler and
//! the CLI's `--dry-run` both call these, and unit tests assert on the typed output.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim, Secret, Service};
use serde::Serialize;

use crate::render::{InstanceContext, RenderError, Renderer, WithExtra};

/// The long-lived objects of one instance.
#[derive(Clone, Debug)]
pub struct Children {
    /// Only without a storage class: the hostPath PV the data claim is bound to.
    pub data_pv: Option<PersistentVolume>,
    pub data_pvc: PersistentVolumeClaim,
    pub backup_pv: PersistentVolume,
    pub backup_pvc: PersistentVolumeClaim,
    pub service: Service,
    pub deployment: Deployment,
}

pub fn children(renderer: &Renderer, ctx: &InstanceContext) -> Result<Children, RenderError> {
    let data_pv = match ctx.storage_class_name {
        Some(_) => None,
        None => Some(renderer.render("mysql-pv.yaml.tera", ctx)?),
    };
    Ok(Children {
        data_pv,
        data_pvc: renderer.render("mysql-pvc.yaml.tera", ctx)?,
        backup_pv: renderer.render("backup-pv.yaml.tera", ctx)?,
        backup_pvc: renderer.render("backup-pvc.yaml.tera", ctx)?,
        service: renderer.render("mysql-service.yaml.tera", ctx)?,
        deployment: renderer.render("mysql-deployment.yaml.tera", ctx)?,
    })
}

#[derive(Serialize)]
struct SecretExtra<'a> {
    secret_name: &'a str,
    password_base64: String,
}

/// A Secret holding `password` under the key `password`.
pub fn credentials_secret(
    renderer: &Renderer,
    ctx: &InstanceContext,
    secret_name: &str,
    password: &str,
) -> Result<Secret, RenderError> {
    use base64::Engine;
    let extra = SecretExtra {
        secret_name,
        password_base64: base64::engine::general_purpose::STANDARD.encode(password.as_bytes()),
    };
    renderer.render(
        "credentials-secret.yaml.tera",
        &WithExtra {
            instance: ctx,
            extra,
        },
    )
}

#[derive(Serialize)]
struct BackupExtra<'a> {
    backup_name: &'a str,
    backup_file: String,
}

/// The file name a backup's dump gets on the backup volume.
pub fn dump_file_name(backup_name: &str) -> String {
    format!("{backup_name}.sql")
}

pub fn backup_job(
    renderer: &Renderer,
    ctx: &InstanceContext,
    backup_name: &str,
) -> Result<Job, RenderError> {
    let extra = BackupExtra {
        backup_name,
        backup_file: dump_file_name(backup_name),
    };
    renderer.render(
        "backup-job.yaml.tera",
        &WithExtra {
            instance: ctx,
            extra,
        },
    )
}

#[derive(Serialize)]
struct RestoreExtra<'a> {
    backup_name: &'a str,
    backup_file: String,
    source_backup_pvc: &'a str,
}

/// A Job that loads `backup_name` from `source_backup_pvc`: this instance's own backup
/// claim, or another instance's when restoring into a new instance.
pub fn restore_job(
    renderer: &Renderer,
    ctx: &InstanceContext,
    backup_name: &str,
    source_backup_pvc: &str,
) -> Result<Job, RenderError> {
    let extra = RestoreExtra {
        backup_name,
        backup_file: dump_file_name(backup_name),
        source_backup_pvc,
    };
    renderer.render(
        "restore-job.yaml.tera",
        &WithExtra {
            instance: ctx,
            extra,
        },
    )
}

#[derive(Serialize)]
struct PasswordExtra<'a> {
    password_fingerprint: &'a str,
}

pub fn password_job(
    renderer: &Renderer,
    ctx: &InstanceContext,
    password_fingerprint: &str,
) -> Result<Job, RenderError> {
    let extra = PasswordExtra {
        password_fingerprint,
    };
    renderer.render(
        "password-job.yaml.tera",
        &WithExtra {
            instance: ctx,
            extra,
        },
    )
}

/// A password's SHA-256 in hex: lets the operator tell which password a Job applies
/// without putting the password itself in an annotation.
pub fn password_fingerprint(password: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(password.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests;

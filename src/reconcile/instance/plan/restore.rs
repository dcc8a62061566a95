//! Restores: on create from a record, from dumps found on the volume, or on request.

use k8s_openapi::api::batch::v1::Job;
use kube::ResourceExt;

use crate::api::EventReason;
use crate::api::keys::{
    KEEP_DUMP_ANNOTATION, RESTORE_TOKEN_ANNOTATION, annotation, stamp_annotation,
};
use crate::api::{
    BackupCause, BackupPhase, ConditionType, JobState, MySQL, MySQLBackup, MySQLBackupStatus,
    Reason, RestoreRequest, S3Storage, newest_succeeded,
};
use crate::binlog::ReplayTarget;
use crate::dialect::Dialect;
use crate::manifests::{self, BinlogReplay, DumpSource};
use crate::names::InstanceNames;
use crate::reconcile::Notice;
use crate::reconcile::instance::snapshot::{LiveVolumes, Read, Snapshot};
use crate::reconcile::instance::status::{FailureText, RestoreState};
use crate::reconcile::{Result, Step};
use crate::s3::{self, Listed};

use super::{Inputs, Kind, Plan, Write, is_owned_by, set_owner};

/// The restore this incarnation wants, decided from the instance and its records alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RestoreWanted {
    /// Decided earlier and recorded in the status.
    Decided(RestoreState),
    /// No backup to start from: the instance starts empty.
    Nothing,
    /// Load `backup`; `token` tells this run's Job from any other.
    Run { backup: String, token: RestoreToken },
}

/// What a restore (or scan) Job was started for, stamped on it as an annotation so that
/// a reconcile tells this run's Job from any other (an earlier incarnation's, an
/// earlier request's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RestoreToken {
    /// This incarnation's restore on create, by the instance's uid.
    Create { uid: String },
    /// A `kubectl mysql restore` request, by the token it set.
    Request(String),
}

impl RestoreToken {
    /// The annotation's value on the Job.
    pub fn annotation(&self) -> String {
        match self {
            RestoreToken::Create { uid } => format!("create@{uid}"),
            RestoreToken::Request(token) => token.clone(),
        }
    }

    /// The point in time this run restores to, if any: the request's, or for the
    /// restore on create the instance's `restore-to`.
    pub fn replay_target(&self, instance: &MySQL) -> Option<ReplayTarget> {
        match self {
            RestoreToken::Create { .. } => instance.restore_to(),
            RestoreToken::Request(token) => RestoreRequest::parse(token).to,
        }
    }

    /// The request this run answers, if it is not the restore on create.
    pub fn request(&self) -> Option<String> {
        match self {
            RestoreToken::Create { .. } => None,
            RestoreToken::Request(token) => Some(token.clone()),
        }
    }
}

/// The Job a restore runs, or why the backup cannot be restored here (said in the
/// status, never retried as an error).
enum RestoreJob {
    Ready(Box<Job>),
    Refused(String),
}

/// Restores happen once per incarnation on create (from `--restore-from`, or the newest
/// successful backup of an instance with this name that finished before this one was
/// created), and again whenever `kubectl mysql restore` sets a new request.
pub fn wanted_restore(instance: &MySQL, backups: &[MySQLBackup]) -> RestoreWanted {
    if let Some(request) = instance.pending_restore_request() {
        return RestoreWanted::Run {
            backup: request.backup,
            token: RestoreToken::Request(request.token),
        };
    }
    if let Some(done) = decided_restore(instance, backups) {
        return RestoreWanted::Decided(done);
    }
    let created = instance.metadata.creation_timestamp.as_ref().map(|t| t.0);
    let chosen = match instance.restore_from() {
        Some(explicit) => Some(explicit.to_string()),
        None => newest_succeeded(backups, created).map(|b| b.name_any()),
    };
    match chosen {
        Some(backup) => RestoreWanted::Run {
            backup,
            token: create_token(instance),
        },
        None => RestoreWanted::Nothing,
    }
}

/// What a restore (or scan) Job for this incarnation's creation is marked with.
fn create_token(instance: &MySQL) -> RestoreToken {
    RestoreToken::Create {
        uid: instance.uid().unwrap_or_default(),
    }
}

/// How often a physical restore looks whether the server's pod is gone.
const SERVER_STOP_LOOK: jiff::SignedDuration = jiff::SignedDuration::from_secs(2);

/// How long a new instance waits for a bucket that cannot be listed before it starts
/// empty.
const BUCKET_PATIENCE: std::time::Duration = std::time::Duration::from_secs(300);

pub(super) fn backup_volume_predates(instance: &MySQL, live: &LiveVolumes) -> bool {
    let Some(created) = instance.metadata.creation_timestamp.as_ref().map(|t| t.0) else {
        return false;
    };
    let older = |meta: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>| {
        meta.and_then(|m| m.creation_timestamp.as_ref())
            .is_some_and(|t| t.0 < created)
    };
    older(live.backup_pv.as_ref().map(|pv| &pv.metadata))
        || older(live.provisioned_backup_pv.as_ref().map(|pv| &pv.metadata))
        || older(live.backup_pvc.as_ref().map(|pvc| &pvc.metadata))
}

fn decided_restore(instance: &MySQL, backups: &[MySQLBackup]) -> Option<RestoreState> {
    let status = instance.status.as_ref()?;
    let condition = instance.condition(ConditionType::Restored)?;
    let backup = status.restored_from.clone().unwrap_or_default();
    let request = status.restore_request.clone();
    match condition.reason()? {
        Reason::NoBackup => Some(RestoreState::NothingToRestore),
        Reason::Restored => Some(RestoreState::Succeeded {
            unverified: is_unverified(backups, &backup),
            replayed: match &request {
                Some(token) => RestoreRequest::parse(token).to,
                None => instance.restore_to(),
            },
            backup,
            request,
        }),
        Reason::RestoreFailed => Some(RestoreState::Failed {
            backup,
            why: FailureText::Recorded(condition.message.clone()),
            request,
        }),
        _ => None,
    }
}

/// Whether the server must be held at no pod: a physical restore of this incarnation
/// is wanted and its Job has not ended (it replaces the data directory, which no
/// server may hold meanwhile). Once the Job ended, either way, the server starts: on
/// the restored copy, or on its own data directory, untouched.
pub(super) fn holds_server_for_physical_restore(instance: &MySQL, snapshot: &Snapshot) -> bool {
    let RestoreWanted::Run { backup, token } = wanted_restore(instance, &snapshot.backups) else {
        return false;
    };
    // A copy that will be refused never costs the server its pod.
    let target = token.replay_target(instance);
    let restorable = snapshot.backups.iter().any(|b| {
        b.name_any() == backup
            && b.physical()
            && physical_restore_refusal(instance, &backup, b, target).is_none()
    });
    if !restorable {
        return false;
    }
    let ended = |job: &Job| {
        annotation(&job.metadata, RESTORE_TOKEN_ANNOTATION) == Some(token.annotation().as_str())
            && !JobState::is_running(job)
    };
    !matches!(&snapshot.restore_job, Read::Done(Some(job)) if ended(job))
}

fn is_unverified(backups: &[MySQLBackup], name: &str) -> bool {
    backups
        .iter()
        .any(|b| b.name_any() == name && b.unverified())
}

impl Inputs<'_> {
    /// Where the wanted restore stands, and the Job writes it needs.
    pub(super) fn restore(&self, plan: &mut Plan) -> Result<Step<RestoreState>> {
        let (backup, token) = match wanted_restore(self.instance, &self.snapshot.backups) {
            RestoreWanted::Decided(state) => return Ok(Step::Done(state)),
            RestoreWanted::Nothing => return self.discover(plan),
            RestoreWanted::Run { backup, token } => (backup, token),
        };
        let uid = self.owner.uid.as_str();
        let job_name = self.names().restore_job();
        let request = token.request();
        let state = match self.snapshot.restore_job.needed("restore-NAME-job")? {
            Some(job)
                if is_owned_by(job, uid)
                    && annotation(&job.metadata, RESTORE_TOKEN_ANNOTATION)
                        == Some(token.annotation().as_str()) =>
            {
                match JobState::of(job) {
                    JobState::Running => RestoreState::Running { backup },
                    JobState::Succeeded => RestoreState::Succeeded {
                        unverified: is_unverified(&self.snapshot.backups, &backup),
                        replayed: token.replay_target(self.instance),
                        backup,
                        request,
                    },
                    JobState::Failed(message) => RestoreState::Failed {
                        backup,
                        why: FailureText::Fresh(
                            self.snapshot
                                .restore_failure
                                .needed("the failed restore's pod")?
                                .clone()
                                .unwrap_or(message),
                        ),
                        request,
                    },
                }
            }
            // restore-NAME-job holds an earlier run (ours, an earlier incarnation's, or
            // the course operator's); it must go before this one starts.
            Some(other) if JobState::is_running(other) && is_owned_by(other, uid) => {
                return Ok(Step::wait(format!(
                    "the earlier restore Job {job_name} is still running"
                )));
            }
            Some(_) => {
                plan.writes.push(Write::Delete(Kind::Job, job_name.clone()));
                return Ok(Step::wait(format!("removing the earlier Job {job_name}")));
            }
            None => {
                let source = self
                    .snapshot
                    .restore_source
                    .needed("the backup to restore")?
                    .as_ref();
                let source = source.filter(|b| b.name_any() == backup);
                return self
                    .start_restore(plan, backup, token, source)
                    .map(Step::Done);
            }
        };
        Ok(Step::Done(state))
    }

    fn start_restore(
        &self,
        plan: &mut Plan,
        backup: String,
        token: RestoreToken,
        source: Option<&MySQLBackup>,
    ) -> Result<RestoreState> {
        let request = token.request();
        let Some(source) = source.filter(|b| b.succeeded()) else {
            return Ok(RestoreState::Failed {
                why: FailureText::Fresh(format!(
                    "MySQLBackup {backup} does not exist or has not succeeded"
                )),
                backup,
                request,
            });
        };
        // Decided before the server stops: a refused copy never costs it its pod.
        let mut job = match self.restore_job(&backup, source, &token)? {
            RestoreJob::Ready(job) => *job,
            RestoreJob::Refused(why) => {
                return Ok(RestoreState::Failed {
                    why: FailureText::Fresh(why),
                    backup,
                    request,
                });
            }
        };
        if source.physical() && self.server_still_running() {
            // The Deployment is held at no pod (see holds_server_for_physical_restore);
            // the Job starts once the server's pod is gone, which no event of ours
            // says: look again soon.
            plan.look_again_by(self.now + SERVER_STOP_LOOK);
            return Ok(RestoreState::Running { backup });
        }
        stamp_annotation(
            &mut job.metadata,
            RESTORE_TOKEN_ANNOTATION,
            token.annotation(),
        );
        set_owner(&mut job, self.owner);
        plan.writes.push(Write::CreateJob(job));
        Ok(RestoreState::Running { backup })
    }

    /// The Job that loads `source` (and replays its binary logs, for a restore to a
    /// point in time), or why it cannot run here.
    fn restore_job(
        &self,
        backup: &str,
        source: &MySQLBackup,
        token: &RestoreToken,
    ) -> Result<RestoreJob> {
        let target = token.replay_target(self.instance);
        let Some((bucket, key)) = source.object() else {
            if source.physical() {
                return self.physical_restore_from_volume(backup, source, target);
            }
            if target.is_some() {
                return Ok(RestoreJob::Refused(format!(
                    "MySQLBackup {backup} lies on the backup volume; a restore to a point in time starts from a backup in the bucket"
                )));
            }
            let source_names =
                InstanceNames::new(source.spec.instance.clone(), self.names().namespace.clone());
            return Ok(RestoreJob::Ready(Box::new(manifests::restore_job_for(
                self.renderer,
                self.template_ctx,
                backup,
                &source_names.backup_pvc(),
                source.unverified(),
            )?)));
        };
        let storage = self.instance.spec.backup_bucket();
        let Some(storage) = storage.filter(|s| s.bucket == bucket) else {
            return Ok(RestoreJob::Refused(format!(
                "MySQLBackup {backup} lies in the bucket {bucket}, which this instance's spec.backup.storage.s3 does not name (its endpoint and credentials are needed to read it)"
            )));
        };
        if source.physical() {
            if let Some(why) = physical_restore_refusal(self.instance, backup, source, target) {
                return Ok(RestoreJob::Refused(why));
            }
            let place = DumpSource::Bucket {
                storage,
                key,
                replay: None,
            };
            return Ok(RestoreJob::Ready(Box::new(
                manifests::physical_restore_job(self.renderer, self.template_ctx, backup, place)?,
            )));
        }
        let position = source
            .status
            .as_ref()
            .and_then(|s| s.binlog_position.as_ref());
        let replay = match (target, position) {
            (None, _) => None,
            (Some(target), Some(position)) => Some(BinlogReplay {
                instance_prefix: s3::instance_prefix(
                    storage.prefix.as_deref().unwrap_or_default(),
                    &self.names().namespace,
                    &source.spec.instance,
                ),
                position,
                target,
                dialect: Dialect::of_image(&self.instance.spec.image),
            }),
            (Some(_), None) => {
                return Ok(RestoreJob::Refused(format!(
                    "MySQLBackup {backup} records no binary log position (taken without binary logs), so no point in time can be restored from it"
                )));
            }
        };
        Ok(RestoreJob::Ready(Box::new(manifests::restore_s3_job(
            self.renderer,
            self.template_ctx,
            backup,
            storage,
            key,
            replay.as_ref(),
        )?)))
    }

    /// Whether a pod of the server is still there (terminating included); unknown
    /// counts as there.
    fn server_still_running(&self) -> bool {
        !matches!(self.snapshot.server_pods, Read::Done(0))
    }

    /// No record to restore from: if the backup volume is older than this instance,
    /// a scan Job lists its dumps first; the ones found are recorded and the newest
    /// complete one restored.
    fn discover(&self, plan: &mut Plan) -> Result<Step<RestoreState>> {
        if let Some(storage) = self.instance.spec.backup_bucket() {
            return self.discover_in_bucket(plan, storage);
        }
        if !backup_volume_predates(self.instance, &self.snapshot.volumes) {
            return Ok(Step::Done(RestoreState::NothingToRestore));
        }
        let token = create_token(self.instance);
        let job_name = self.names().scan_job();
        let Some(job) = self.snapshot.scan_job.needed("scan-NAME-job")? else {
            let mut job = manifests::scan_job(self.renderer, self.template_ctx)?;
            stamp_annotation(
                &mut job.metadata,
                RESTORE_TOKEN_ANNOTATION,
                token.annotation(),
            );
            set_owner(&mut job, self.owner);
            plan.writes.push(Write::CreateJob(job));
            return Ok(Step::Done(RestoreState::Discovering));
        };
        if annotation(&job.metadata, RESTORE_TOKEN_ANNOTATION) != Some(token.annotation().as_str())
        {
            plan.writes.push(Write::Delete(Kind::Job, job_name.clone()));
            return Ok(Step::wait(format!("removing the earlier Job {job_name}")));
        }
        let state = match JobState::of(job) {
            JobState::Running => RestoreState::Discovering,
            JobState::Failed(message) => RestoreState::Failed {
                backup: "found on the backup volume".into(),
                why: FailureText::Fresh(format!("could not list the backup volume: {message}")),
                request: None,
            },
            JobState::Succeeded => {
                return self.restore_found_on_volume(plan, token).map(Step::Done);
            }
        };
        Ok(Step::Done(state))
    }

    /// No record to restore from, and the backups go to a bucket: the dumps listed
    /// there are recorded, and the newest one older than this instance restored. A
    /// listing that fails is tried again for `BUCKET_PATIENCE` after the creation;
    /// then, or at once when the keys' Secret is missing, the instance starts empty and
    /// a Warning says it did not look.
    fn discover_in_bucket(
        &self,
        plan: &mut Plan,
        storage: &S3Storage,
    ) -> Result<Step<RestoreState>> {
        let names = self.names();
        let dumps = match self.snapshot.bucket_dumps.needed("the bucket's listing")? {
            Ok(dumps) => dumps,
            Err(failure) => {
                let waited = self
                    .instance
                    .metadata
                    .creation_timestamp
                    .as_ref()
                    .and_then(|t| std::time::Duration::try_from(self.now.duration_since(t.0)).ok())
                    .unwrap_or_default();
                if failure.retry && waited < BUCKET_PATIENCE {
                    return Ok(Step::wait(format!(
                        "looking for earlier backups in the bucket {}: {}; trying again",
                        storage.bucket, failure.message
                    )));
                }
                plan.events.push(Notice::warning(
                    EventReason::BucketNotListed,
                    format!(
                        "did not look for earlier backups in the bucket {}: {}; started empty",
                        storage.bucket, failure.message
                    ),
                ));
                return Ok(Step::Done(RestoreState::NothingToRestore));
            }
        };
        let found: Vec<MySQLBackup> = dumps
            .iter()
            .filter_map(|d| bucket_record(d, storage, &names.namespace, &names.name))
            .collect();
        // Dumps under another namespace's folder are recorded, for `kubectl mysql
        // restore --from`, but never loaded unasked: two namespaces that share a bucket
        // and an instance name (staging and production) are not one database.
        let (own, elsewhere): (Vec<_>, Vec<_>) =
            found.into_iter().partition(|b| b.dump_goes_with_record());
        self.record_found(plan, &elsewhere);
        self.restore_found(plan, create_token(self.instance), own)
            .map(Step::Done)
    }

    /// Records every complete dump the scan found that has no record, and restores the
    /// newest one that is older than this instance.
    fn restore_found_on_volume(
        &self,
        plan: &mut Plan,
        token: RestoreToken,
    ) -> Result<RestoreState> {
        let names = self.names();
        // A scan that succeeded without its report proves nothing: "no dump found"
        // would start the instance empty beside dumps it never saw.
        let Some(report) = self.snapshot.scan_report.needed("the scan's report")? else {
            return Ok(RestoreState::Failed {
                backup: "found on the backup volume".into(),
                why: FailureText::Fresh(format!(
                    "Job {} succeeded without its report of the dumps on the backup volume; nothing was restored (delete the Job to scan again)",
                    names.scan_job()
                )),
                request: None,
            });
        };
        let found = report
            .dumps
            .iter()
            .filter_map(|d| d.record(&names.namespace, &names.name))
            .collect();
        self.restore_found(plan, token, found)
    }

    /// Records the dumps found that have no record.
    fn record_found(&self, plan: &mut Plan, found: &[MySQLBackup]) {
        for record in found {
            let known = self
                .snapshot
                .backups
                .iter()
                .any(|b| b.name_any() == record.name_any());
            if !known {
                plan.writes.push(Write::RecordFoundBackup(record.clone()));
            }
        }
    }

    /// Records the dumps found that have no record, and restores the newest one that
    /// is older than this instance.
    fn restore_found(
        &self,
        plan: &mut Plan,
        token: RestoreToken,
        found: Vec<MySQLBackup>,
    ) -> Result<RestoreState> {
        let created = self
            .instance
            .metadata
            .creation_timestamp
            .as_ref()
            .map(|t| t.0);
        self.record_found(plan, &found);
        match newest_succeeded(&found, created) {
            Some(newest) => {
                let backup = newest.name_any();
                self.start_restore(plan, backup, token, Some(newest))
            }
            None => Ok(RestoreState::NothingToRestore),
        }
    }

    /// The Job that restores a physical copy on a backup volume, or why it cannot run.
    fn physical_restore_from_volume(
        &self,
        backup: &str,
        source: &MySQLBackup,
        target: Option<ReplayTarget>,
    ) -> Result<RestoreJob> {
        if let Some(why) = physical_restore_refusal(self.instance, backup, source, target) {
            return Ok(RestoreJob::Refused(why));
        }
        let path = source.volume_file().unwrap_or_default();
        let place = DumpSource::Volume { path };
        Ok(RestoreJob::Ready(Box::new(
            manifests::physical_restore_job(self.renderer, self.template_ctx, backup, place)?,
        )))
    }
}

/// Why a physical backup cannot be restored into `instance`, if it cannot: a copy of
/// the data directory restores whole, to the time it was taken, into a single MariaDB
/// server of the same version (major.minor, when the image's tag says it).
fn physical_restore_refusal(
    instance: &MySQL,
    backup: &str,
    source: &MySQLBackup,
    target: Option<ReplayTarget>,
) -> Option<String> {
    if target.is_some() {
        return Some(format!(
            "MySQLBackup {backup} is a physical backup, which restores to the time it was taken; a restore to a point in time starts from a logical backup"
        ));
    }
    // Its Job mounts the data claim and the backup claim at once: the instance's own
    // two (a hostPath backup volume is pinned to the data's node).
    if source.object().is_none() && source.spec.instance != instance.name_any() {
        return Some(format!(
            "MySQLBackup {backup} is a physical copy on the backup volume of {}: it restores only into that instance (take a logical backup, or a physical one to a bucket, to move its data)",
            source.spec.instance
        ));
    }
    if let Some(problem) = instance.spec.physical_copy_problem() {
        return Some(format!(
            "MySQLBackup {backup} is a physical backup, which cannot be restored here: a physical copy {problem}"
        ));
    }
    let ours = Dialect::of_image(&instance.spec.image).physical();
    let copy = source
        .object()
        .map(|(_, key)| key)
        .or_else(|| source.volume_file())
        .and_then(crate::s3::DumpKind::physical_of_key)?;
    let family = copy.family()?;
    if copy != ours.kind {
        return Some(format!(
            "MySQLBackup {backup} is a physical copy of a {family} server; the image {} runs {}, and a physical copy restores only into its own server: restore a logical backup",
            instance.spec.image, ours.family
        ));
    }
    let copied = source.status.as_ref()?.server_version.as_deref()?;
    let image_version = Dialect::version_of_image(&instance.spec.image)?;
    (major_minor(copied) != Some(image_version)).then(|| {
        format!(
            "MySQLBackup {backup} is a physical copy of {family} {copied}; the image {} runs {}.{}, and a physical backup restores into the same version (major.minor): restore a logical backup, or use an image of {copied}",
            instance.spec.image,
            image_version.0,
            image_version.1
        )
    })
}

/// `10.11` of `10.11.6-MariaDB-0+deb12u1-log`.
fn major_minor(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.split(['.', '-']);
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// The record of a dump found in the bucket, named after its instance and time
/// (`NAME-YYYYMMDD-HHMMSS`). One found under another namespace's folder keeps its
/// dump when the record goes: that namespace may still want it.
fn bucket_record(
    dump: &Listed,
    storage: &S3Storage,
    namespace: &str,
    instance: &str,
) -> Option<MySQLBackup> {
    let (owner_namespace, _) = s3::instance_of_key(storage.prefix(), &dump.key)?;
    let file = dump.key.rsplit('/').next()?;
    let stamp = s3::strip_dump_suffix(file)?;
    let valid = !stamp.is_empty()
        && stamp
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !valid {
        return None;
    }
    let mut record = MySQLBackup::record(
        format!("{instance}-{stamp}"),
        namespace,
        instance,
        BackupCause::Discovered,
        None,
    );
    if owner_namespace != namespace {
        stamp_annotation(&mut record.metadata, KEEP_DUMP_ANNOTATION, "true");
    }
    record.status = Some(MySQLBackupStatus {
        phase: Some(BackupPhase::Succeeded),
        completion_time: Some(dump.last_modified.to_string()),
        bucket: Some(storage.bucket.clone()),
        key: Some(dump.key.clone()),
        s3: Some(storage.clone()),
        size_bytes: i64::try_from(dump.size_bytes).ok(),
        message: Some(format!("found in the bucket under {owner_namespace}/")),
        ..Default::default()
    });
    Some(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn storage() -> S3Storage {
        serde_json::from_value(serde_json::json!({
            "bucket": "b", "prefix": "backups", "credentialsSecret": {"name": "keys"}
        }))
        .unwrap()
    }

    fn listed(key: &str) -> Listed {
        Listed {
            key: key.into(),
            size_bytes: 42,
            last_modified: "2026-12-01T00:00:05Z".parse().unwrap(),
            has_checksum: true,
        }
    }

    #[test]
    fn a_dump_in_the_bucket_becomes_a_succeeded_record_by_key() {
        let own = bucket_record(
            &listed("backups/shop/db/20261201-000000.sql.gz"),
            &storage(),
            "shop",
            "db",
        )
        .unwrap();
        assert_eq!(own.name_any(), "db-20261201-000000");
        assert_eq!(own.spec.cause, BackupCause::Discovered);
        assert!(own.succeeded());
        assert_eq!(
            own.object(),
            Some(("b", "backups/shop/db/20261201-000000.sql.gz"))
        );
        assert!(own.dump_goes_with_record());
        // Found under another namespace's folder: that namespace may still want it.
        let moved = bucket_record(
            &listed("backups/old-shop/db/20261201-000000.sql.gz"),
            &storage(),
            "shop",
            "db",
        )
        .unwrap();
        assert_eq!(moved.namespace().as_deref(), Some("shop"));
        assert!(!moved.dump_goes_with_record());
        assert!(
            bucket_record(
                &listed("backups/shop/db/Bad Name.sql.gz"),
                &storage(),
                "shop",
                "db"
            )
            .is_none()
        );
    }
}

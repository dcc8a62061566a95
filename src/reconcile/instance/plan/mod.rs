//! Plan: every decision about an instance, as a pure function of the instance, the
//! snapshot observe gathered, and the time. No client, no clock, no I/O: the tests in
//! `../tests.rs` call these with small fixtures. One file a concern: the password,
//! the children (volumes, claims, Service, Deployment), the restore, the deletion.

mod children;
mod deletion;
pub mod failover;
mod member_writes;
mod members;
mod password;
mod point_in_time;
mod restore;
mod retention;
pub mod rollout;
mod schedule;
mod tls;
pub use tls::CertificateRequest;

pub use children::{NODE_LABEL, ReleasedVolume, creates_host_path_volume, pinned_node};
pub use deletion::deletion;
pub use password::password_settled;
pub use restore::{RestoreToken, RestoreWanted, wanted_restore};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim, Secret, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::{Resource, ResourceExt};

use crate::api::EventReason;
use crate::api::keys::FINALIZER;
use crate::api::{LastBackup, MySQL, MySQLBackup, MySQLStatus, ServerSettings};
use crate::manifests::{self};
use crate::names::InstanceNames;
use crate::reconcile::Notice;
use crate::reconcile::instance::snapshot::{Password, Snapshot};
use crate::reconcile::instance::status::{self, BackupOutcome, Observed, PasswordState};
pub use crate::reconcile::kube_ops::{is_owned_by, set_owner};
use crate::reconcile::{Error, Result};
use crate::reconcile::{Next, Step, rfc3339};
use crate::render::{InstanceContext, Renderer};

/// The reads of one reconcile beyond the ones it always makes: what its decisions will
/// rest on, decided once, from the instance, its records and its volumes, with the
/// predicates the plan itself acts on. Observe reads exactly these; the plan finds a
/// read it needs missing as an error (`Read::needed`), never as "absent".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reads {
    /// The restore this incarnation wants (its Job and source are read for a run).
    pub restore: RestoreWanted,
    /// `NAME-credentials-next`: a password change may be in flight.
    pub pending_credentials: bool,
    /// `scan-NAME-job`: no record to start from, and a backup volume older than the
    /// instance to look for dumps on.
    pub scan: bool,
    /// The bucket: no record to start from, and backups that go to a bucket.
    pub bucket_listing: bool,
    /// The nodes: a hostPath volume is about to be created and pinned to one.
    pub nodes: bool,
    /// The archived binary logs: point-in-time recovery is on (its window is worked
    /// out on every reconcile, which comes at least once an archiving interval).
    pub binlog_listing: bool,
}

impl Reads {
    pub fn for_instance(
        instance: &MySQL,
        backups: &[MySQLBackup],
        volumes: &crate::reconcile::instance::snapshot::LiveVolumes,
    ) -> Self {
        let restore = wanted_restore(instance, backups);
        let nothing_recorded = restore == RestoreWanted::Nothing;
        let bucket = instance.spec.backup_bucket().is_some();
        Reads {
            pending_credentials: !password_settled(instance),
            scan: nothing_recorded && !bucket && restore::backup_volume_predates(instance, volumes),
            bucket_listing: nothing_recorded && bucket,
            nodes: creates_host_path_volume(instance, volumes),
            binlog_listing: instance.spec.point_in_time().is_some(),
            restore,
        }
    }
}

/// What one reconcile writes, in order, and when it looks again.
#[derive(Clone, Debug)]
pub struct Plan {
    pub finalizer: FinalizerChange,
    pub writes: Vec<Write>,
    /// Events to publish before the status: those the status change deserves, and the
    /// ones of steps that leave no trace in the status (a backup record created).
    pub events: Vec<Notice>,
    /// The new status; None when it would not change.
    pub status: Option<MySQLStatus>,
    pub next: Next,
    /// The next scheduled backup: the next look comes no later.
    pub wake_at: Option<jiff::Timestamp>,
    /// The step of a failover this plan takes, if it takes one.
    pub failover_step: Option<failover::FailoverStep>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FinalizerChange {
    Keep,
    /// First sight of the instance: it must not go before its final backup is taken.
    Add,
    /// The deletion is done: let the API server remove the instance.
    Remove,
}

/// One write. Applies carry the live object so that an unchanged one is skipped.
// A plan lives for one reconcile and holds a handful of writes; boxing would only
// add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Write {
    ApplySecret(Secret),
    ApplyVolume(PersistentVolume, Option<PersistentVolume>),
    ApplyClaim(PersistentVolumeClaim, Option<PersistentVolumeClaim>),
    ApplyService(Service, Option<Service>),
    ApplyDeployment(Deployment, Option<Deployment>),
    /// Jobs are created, never applied: their pod template is immutable.
    CreateJob(Job),
    CreateBackupRecord(MySQLBackup),
    /// A record that retention lets go; its finalizer deletes its dump.
    DeleteBackupRecord(String),
    /// A record for a dump found on the backup volume, created with its status.
    RecordFoundBackup(MySQLBackup),
    Delete(Kind, String),
    /// A Released PV of ours whose claim was deleted and re-created: forget the old
    /// claim's uid so the new claim binds without anyone deleting the PV by hand.
    FreeReleasedVolume(ReleasedVolume),
    /// A backup volume a class provisioned: made Retain and labelled with the
    /// instance, so that it outlives the namespace and a new incarnation finds it.
    KeepVolume(String),
    /// After a successful password Job: `NAME-credentials` takes the new password and
    /// `NAME-credentials-next` goes.
    FinishPasswordChange(Password),
    /// `NAME-tls`: a server certificate for `hosts` from the instance's CA (made first
    /// when `NAME-tls-ca` does not exist), `fingerprint` kept on it.
    IssueCertificate(tls::CertificateRequest),
    /// A replicated instance's members: their Secret, their servers, their pods.
    Member(MemberWrite),
    /// Archived binary logs no restore can use (before the oldest dump's position),
    /// deleted from the bucket with their checksums.
    PruneArchivedLogs {
        storage: crate::api::S3Storage,
        keys: Vec<String>,
    },
}

/// One write of a replicated instance's members.
#[derive(Clone, Debug)]
pub enum MemberWrite {
    /// `NAME-replication` with a new random password, created once and never changed
    /// (every member's replication account has it).
    CreateReplicationSecret { name: String, owner: OwnerReference },
    /// Statements run in a member's server container (`reconcile::member_sql`).
    RunSql { pod: String, sql: String },
    /// Takes a member out of service as a primary: read-only, its client sessions
    /// killed (`Dialect::fence`).
    Fence { pod: String, sql: String },
    /// Promotes a replica once it has applied every transaction of `written` (the
    /// old primary's), never before.
    Promote {
        pod: String,
        dialect: crate::dialect::Dialect,
        written: String,
        sql: String,
    },
    /// Points a member at the primary (the replication password filled in inside the
    /// pod).
    Repoint { pod: String, sql: String },
    /// Sets (or, with None, removes) the role label on a member's pod.
    LabelRole { pod: String, role: Option<String> },
    /// Marks a member's data to be moved aside to `directory` on its volume, then
    /// deletes its pod: the next pod's first step (`set-aside`) moves it, and the
    /// member starts empty, to be seeded.
    SetAside { pod: String, directory: String },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Job,
    Secret,
    Service,
    Deployment,
    /// Only the data claim of an instance being deleted; the backup claim never.
    PersistentVolumeClaim,
    PersistentVolume,
}

impl Plan {
    fn new(instance: &MySQL) -> Self {
        let has_finalizer = instance.finalizers().iter().any(|f| f == FINALIZER);
        Plan {
            finalizer: if has_finalizer {
                FinalizerChange::Keep
            } else {
                FinalizerChange::Add
            },
            writes: Vec::new(),
            events: Vec::new(),
            status: None,
            next: Next::Settled,
            wake_at: None,
            failover_step: None,
        }
    }

    /// Ends the plan with the status `observed` implies and its Events.
    fn with_status(mut self, instance: &MySQL, observed: &Observed, now: &str) -> Self {
        let previous = instance.status.as_ref();
        let new = status::compute(previous, observed, now);
        if previous != Some(&new) {
            self.events.extend(status::notices(previous, &new));
            self.status = Some(new);
        }
        self
    }

    /// A spec that cannot be acted on until it changes, which the status says.
    fn invalid(
        self,
        instance: &MySQL,
        observed: &mut Observed,
        now: &str,
        problem: String,
    ) -> Self {
        observed.invalid_spec = Some(problem.clone());
        self.with_status(instance, observed, now)
            .then(Next::await_change(problem))
    }

    /// Waits for `why`, which the status says.
    fn waiting(
        self,
        instance: &MySQL,
        observed: &mut Observed,
        now: &str,
        why: crate::reconcile::Why,
    ) -> Self {
        observed.waiting = Some(why.clone());
        self.with_status(instance, observed, now)
            .then(Next::Wait(why))
    }

    /// The next look comes no later than `at` (the earliest of every step's wishes).
    fn look_again_by(&mut self, at: jiff::Timestamp) {
        self.wake_at = Some(self.wake_at.map_or(at, |wake| wake.min(at)));
    }

    fn then(mut self, next: Next) -> Self {
        self.next = next;
        self
    }
}

/// The plan for an instance that is not being deleted.
pub fn instance(
    instance: &MySQL,
    snapshot: &Snapshot,
    renderer: &Renderer,
    now: jiff::Timestamp,
) -> Result<Plan> {
    let at = now;
    let now = rfc3339(now);
    let mut plan = Plan::new(instance);
    if instance.paused() {
        return Ok(paused_plan(plan, instance, false));
    }
    let mut observed = observed_of(instance, snapshot, at, &mut plan);
    let mut template_ctx = match template_context(instance, snapshot) {
        Ok(Step::Done(template_ctx)) => template_ctx,
        Ok(Step::Wait(why)) => return Ok(plan.waiting(instance, &mut observed, &now, why)),
        Err(problem) => return Ok(plan.invalid(instance, &mut observed, &now, problem)),
    };
    let owner = instance
        .controller_owner_ref(&())
        .ok_or(Error::MissingField("metadata.uid"))?;
    if let Step::Wait(why) = tls::certificate(instance, snapshot, at, &mut plan, &mut template_ctx)
    {
        return Ok(plan.waiting(instance, &mut observed, &now, why));
    }
    let inputs = Inputs {
        instance,
        snapshot,
        renderer,
        template_ctx: &template_ctx,
        owner: &owner,
        now: at,
    };

    // The password first: the server's Secret must exist before its pod starts.
    observed.password = match inputs.password(&mut plan)? {
        Step::Done(state) => state,
        Step::Wait(why) => return Ok(plan.then(Next::Wait(why))),
    };
    if matches!(observed.password, PasswordState::SecretMissing { .. })
        && snapshot.credentials.is_none()
    {
        // Without any password the server cannot start; say why and wait.
        return Ok(plan
            .with_status(instance, &observed, &now)
            .then(Next::blocked("the password Secret is missing")));
    }
    // Only this incarnation's server counts: an earlier one's Deployment may still be
    // there, waiting for the garbage collector.
    let ours = snapshot
        .deployment
        .as_ref()
        .filter(|d| is_owned_by(*d, &owner.uid));
    observed.deployment_available = is_available(ours);
    observed.server_refused = pod_refusal(ours);
    if let Step::Wait(why) = inputs.children(&mut plan, &mut observed)? {
        // Said in the status: a new incarnation can wait here (an earlier one's claim
        // or server still going, an object of our name left by another owner).
        return Ok(plan.waiting(instance, &mut observed, &now, why));
    }
    observed.restore = match inputs.restore(&mut plan)? {
        Step::Done(state) => Some(state),
        Step::Wait(why) => return Ok(plan.then(Next::Wait(why))),
    };
    inputs.schedule(&mut plan, &mut observed, at);
    inputs.retention(&mut plan, at);
    inputs.point_in_time(&mut plan, &mut observed, at)?;
    inputs.members(&mut plan, &mut observed)?;
    Ok(plan.with_status(instance, &observed, &now))
}

/// How soon an instance looks again while one of its Jobs has made no pod.
const JOB_POD_LOOK: jiff::SignedDuration = jiff::SignedDuration::from_secs(3);

/// What this reconcile starts from: the last backup's outcome, and a Job of the
/// instance whose pod the API server refuses. While a Job has made no pod, the next
/// look comes in seconds: a refused pod is said only in an Event.
fn observed_of(
    instance: &MySQL,
    snapshot: &Snapshot,
    at: jiff::Timestamp,
    plan: &mut Plan,
) -> Observed {
    let mut observed = Observed::for_instance(
        instance.metadata.generation,
        &snapshot.names,
        latest_backup_outcome(&snapshot.backups),
    );
    observed.job_refused = snapshot.job_refused.clone();
    if snapshot.job_without_pods {
        plan.look_again_by(at + JOB_POD_LOOK);
    }
    observed
}

/// What the instance's objects are rendered from: its spec, the options of its
/// ConfigMap, whether a physical restore holds the server, and whether a class
/// provisions its backup volume. The one line that says why not, for a spec (or a
/// ConfigMap) that cannot be used; a wait while the ConfigMap is missing.
fn template_context(
    instance: &MySQL,
    snapshot: &Snapshot,
) -> std::result::Result<Step<InstanceContext>, String> {
    if let Some(problem) = instance.spec_problem() {
        return Err(problem);
    }
    let settings = match config_map_settings(snapshot)? {
        Step::Done(settings) => settings,
        Step::Wait(why) => return Ok(Step::Wait(why)),
    };
    let mut template_ctx = InstanceContext::new(instance, &snapshot.names);
    template_ctx.with_config_map_settings(instance, settings);
    template_ctx.server_stopped = restore::holds_server_for_physical_restore(instance, snapshot);
    template_ctx.backup_storage_class = snapshot.volumes.backup_storage_class(instance);
    Ok(Step::Done(template_ctx))
}

/// The options of the ConfigMap the spec names (none without one): a wait while it
/// does not exist, and the one line that says why when it holds an option the
/// operator owns (the server keeps running as it is, as with an invalid spec).
fn config_map_settings(snapshot: &Snapshot) -> std::result::Result<Step<ServerSettings>, String> {
    let Some(config_map) = &snapshot.config_map else {
        return Ok(Step::Done(ServerSettings::new()));
    };
    match &config_map.data {
        Some(data) => {
            crate::api::server::config_map_settings(&config_map.name, data).map(Step::Done)
        }
        None => Ok(Step::wait(format!(
            "the ConfigMap {} of spec.mysqlConfigMapName is missing",
            config_map.name
        ))),
    }
}

/// A paused instance: no write at all but its status, which says so.
fn paused_plan(mut plan: Plan, instance: &MySQL, deleting: bool) -> Plan {
    plan.finalizer = FinalizerChange::Keep;
    let previous = instance.status.as_ref();
    let new = status::paused(
        previous,
        &instance.name_any(),
        instance.metadata.generation,
        deleting,
    );
    if previous != Some(&new) {
        if previous.and_then(|s| s.phase) != Some(crate::api::Phase::Paused) {
            plan.events.push(Notice::normal(
                EventReason::Paused,
                new.message.clone().unwrap_or_default(),
            ));
        }
        plan.status = Some(new);
    }
    plan.then(Next::Settled)
}

/// What the steps of one instance plan share.
struct Inputs<'a> {
    instance: &'a MySQL,
    snapshot: &'a Snapshot,
    renderer: &'a Renderer,
    template_ctx: &'a InstanceContext,
    owner: &'a OwnerReference,
    now: jiff::Timestamp,
}

impl Inputs<'_> {
    fn names(&self) -> &InstanceNames {
        &self.snapshot.names
    }

    fn credentials_secret(&self, name: &str, password: &Password) -> Result<Secret> {
        let mut secret =
            manifests::credentials_secret(self.renderer, self.template_ctx, name, &password.0)?;
        set_owner(&mut secret, self.owner);
        Ok(secret)
    }
}

/// Whether the server's Deployment has an available pod: what `Ready` rests on, and
/// all a reconcile reads of the Deployment's status.
pub fn is_available(deployment: Option<&Deployment>) -> bool {
    deployment
        .and_then(|d| d.status.as_ref())
        .and_then(|s| s.available_replicas)
        .unwrap_or(0)
        >= 1
}

/// The API server's reason for refusing the Deployment's pods (Pod Security, a quota,
/// a webhook), which the Deployment controller copies from its ReplicaSet.
pub fn pod_refusal(deployment: Option<&Deployment>) -> Option<String> {
    deployment?
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "ReplicaFailure" && c.status == "True")
        .and_then(|c| c.message.clone())
}

fn latest_backup_outcome(backups: &[MySQLBackup]) -> Option<BackupOutcome> {
    let newest_finished = backups
        .iter()
        .filter(|b| b.phase().is_some_and(|p| p.is_finished()))
        .max_by_key(|b| b.completion_time())?;
    let status = newest_finished.status.clone().unwrap_or_default();
    let name = newest_finished.name_any();
    Some(if newest_finished.succeeded() {
        BackupOutcome::Succeeded(LastBackup {
            name,
            completion_time: status.completion_time,
        })
    } else {
        BackupOutcome::Failed {
            name,
            message: status.message.unwrap_or_default(),
        }
    })
}

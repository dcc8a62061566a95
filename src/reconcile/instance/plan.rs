//! Plan: every decision about an instance, as a pure function of the instance, the
//! snapshot observe gathered, and the time. No client, no clock, no I/O: the tests in
//! `tests.rs` call these with small fixtures.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{
    Node, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, PersistentVolume,
    PersistentVolumeClaim, Secret, Service, VolumeNodeAffinity,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::{Resource, ResourceExt};

use super::snapshot::{DeletionSnapshot, LiveVolumes, Password, Snapshot};
use super::status::{
    self, BackupOutcome, Notice, Observed, PasswordState, RestoreState, StorageState,
};
use crate::api::keys::{
    FINALIZER, PASSWORD_FINGERPRINT_ANNOTATION, RESTORE_TOKEN_ANNOTATION, SKIP_BACKUP_ANNOTATION,
    annotation, stamp_annotation,
};
use crate::api::{
    BackupCause, ConditionType, JobState, LastBackup, MySQL, MySQLBackup, MySQLStatus, Reason,
    newest_succeeded,
};
use crate::manifests::{self, Children};
use crate::names::InstanceNames;
use crate::reconcile::{Next, rfc3339};
use crate::render::{InstanceContext, Renderer};
use crate::{Error, Result};

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
    /// A record for a dump found on the backup volume, created with its status.
    RecordFoundBackup(MySQLBackup),
    Delete(Kind, String),
    /// A Released PV of ours whose claim was deleted and re-created: forget the old
    /// claim's uid so the new claim binds without anyone deleting the PV by hand.
    FreeReleasedVolume(String),
    /// After a successful password Job: `NAME-credentials` takes the new password and
    /// `NAME-credentials-next` goes.
    FinishPasswordChange(Password),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Job,
    Secret,
    Service,
    Deployment,
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

    fn then(mut self, next: Next) -> Self {
        self.next = next;
        self
    }
}

/// The restore this incarnation wants, decided from the instance and its records alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RestoreWanted {
    /// Decided earlier and recorded in the status.
    Decided(RestoreState),
    /// No backup to start from: the instance starts empty.
    Nothing,
    /// Load `backup`; `token` tells this run's Job from any other.
    Run { backup: String, token: String },
}

/// Restores happen once per incarnation on create (from `--restore-from`, or the newest
/// successful backup of an instance with this name that finished before this one was
/// created), and again whenever `kubectl mysql restore` sets a new request.
pub fn wanted_restore(instance: &MySQL, backups: &[MySQLBackup]) -> RestoreWanted {
    if let Some(request) = instance.pending_restore_request() {
        return RestoreWanted::Run {
            backup: request.backup,
            token: request.token,
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
fn create_token(instance: &MySQL) -> String {
    format!("create@{}", instance.uid().unwrap_or_default())
}

/// A new instance with no backup record to start from, whose backup volume is older
/// than it: the dumps on it are looked for before the instance starts empty.
pub fn wants_scan(instance: &MySQL, backups: &[MySQLBackup], live: &LiveVolumes) -> bool {
    wanted_restore(instance, backups) == RestoreWanted::Nothing
        && backup_volume_predates(instance, live)
}

fn backup_volume_predates(instance: &MySQL, live: &LiveVolumes) -> bool {
    let Some(created) = instance.metadata.creation_timestamp.as_ref().map(|t| t.0) else {
        return false;
    };
    let older = |meta: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>| {
        meta.and_then(|m| m.creation_timestamp.as_ref())
            .is_some_and(|t| t.0 < created)
    };
    older(live.backup_pv.as_ref().map(|pv| &pv.metadata))
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
            backup,
            request,
        }),
        Reason::RestoreFailed => Some(RestoreState::Failed {
            backup,
            message: condition.message.clone(),
            request,
        }),
        _ => None,
    }
}

fn is_unverified(backups: &[MySQLBackup], name: &str) -> bool {
    backups
        .iter()
        .any(|b| b.name_any() == name && b.unverified())
}

/// The status already says the server has the spec's password: there is no change in
/// flight, so nothing of one (the pending Secret) needs reading.
pub fn password_settled(instance: &MySQL) -> bool {
    instance
        .condition(ConditionType::PasswordSynced)
        .is_some_and(|c| c.reason() == Some(Reason::Synced))
}

/// The plan for an instance that is not being deleted.
pub fn instance(
    instance: &MySQL,
    snapshot: &Snapshot,
    renderer: &Renderer,
    now: jiff::Timestamp,
) -> Result<Plan> {
    let now = rfc3339(now);
    let mut plan = Plan::new(instance);
    let mut observed = Observed::for_instance(
        instance.metadata.generation,
        &snapshot.names,
        latest_backup_outcome(&snapshot.backups),
    );
    if let Some(problem) = instance.spec_problem() {
        observed.invalid_spec = Some(problem.clone());
        return Ok(plan
            .with_status(instance, &observed, &now)
            .then(Next::AwaitChange(problem)));
    }
    let owner = instance
        .controller_owner_ref(&())
        .ok_or(Error::MissingField("metadata.uid"))?;
    let template_ctx = InstanceContext::new(instance, &snapshot.names);
    let inputs = Inputs {
        instance,
        snapshot,
        renderer,
        template_ctx: &template_ctx,
        owner: &owner,
    };

    // The password first: the server's Secret must exist before its pod starts.
    observed.password = match inputs.password(&mut plan)? {
        Ok(state) => state,
        Err(wait) => return Ok(plan.then(Next::Wait(wait))),
    };
    if matches!(observed.password, PasswordState::SecretMissing { .. })
        && snapshot.credentials.is_none()
    {
        // Without any password the server cannot start; say why and wait.
        return Ok(plan
            .with_status(instance, &observed, &now)
            .then(Next::Blocked("the password Secret is missing".into())));
    }
    if let Some(wait) = inputs.children(&mut plan, &mut observed)? {
        return Ok(plan.then(Next::Wait(wait)));
    }
    observed.deployment_available = is_available(snapshot.deployment.as_ref());
    observed.restore = match inputs.restore(&mut plan)? {
        Ok(state) => Some(state),
        Err(wait) => return Ok(plan.then(Next::Wait(wait))),
    };
    Ok(plan.with_status(instance, &observed, &now))
}

/// What the steps of one instance plan share.
struct Inputs<'a> {
    instance: &'a MySQL,
    snapshot: &'a Snapshot,
    renderer: &'a Renderer,
    template_ctx: &'a InstanceContext,
    owner: &'a OwnerReference,
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

    /// Keeps `NAME-credentials` (what the server and Jobs read) equal to the desired
    /// password. A change runs the password Job with the old password from that Secret
    /// and the new one from `NAME-credentials-next`; only its success swaps them. The
    /// inner Err is a wait.
    fn password(&self, plan: &mut Plan) -> Result<Result<PasswordState, String>> {
        let names = self.names();
        let desired = match &self.snapshot.desired_password {
            Err(message) => {
                let message = message.clone();
                return Ok(Ok(PasswordState::SecretMissing { message }));
            }
            Ok(desired) => desired,
        };
        let state = match &self.snapshot.credentials {
            // A first start (or a Secret lost before the server ever ran): the server
            // initialises with whatever the Secret holds, so just write it.
            None if self.snapshot.deployment.is_none() => {
                let secret = self.credentials_secret(&names.credentials_secret(), desired)?;
                plan.writes.push(Write::ApplySecret(secret));
                PasswordState::Synced
            }
            None => PasswordState::Failed {
                message: format!(
                    "Secret {} with the server's current password is missing; recreate it with the current password",
                    names.credentials_secret()
                ),
            },
            Some(live) if live == desired => {
                if self.snapshot.credentials_outdated {
                    // Written by a version without the option file the Jobs read.
                    let secret = self.credentials_secret(&names.credentials_secret(), live)?;
                    plan.writes.push(Write::ApplySecret(secret));
                }
                // A change given up half-way (the spec went back) leaves the pending
                // Secret; once the status says Synced there is none to look for.
                if self.snapshot.pending_credentials.is_some() {
                    let pending = names.pending_credentials_secret();
                    plan.writes.push(Write::Delete(Kind::Secret, pending));
                }
                PasswordState::Synced
            }
            Some(_) => return self.password_change(plan, desired),
        };
        Ok(Ok(state))
    }

    fn password_change(
        &self,
        plan: &mut Plan,
        desired: &Password,
    ) -> Result<Result<PasswordState, String>> {
        let names = self.names();
        let fingerprint = manifests::password_fingerprint(&desired.0);
        let job_name = names.password_job();
        let state = match &self.snapshot.password_job {
            Some(job)
                if annotation(&job.metadata, PASSWORD_FINGERPRINT_ANNOTATION)
                    == Some(fingerprint.as_str()) =>
            {
                match JobState::of(job) {
                    JobState::Running => PasswordState::Changing,
                    JobState::Failed(message) => PasswordState::Failed { message },
                    JobState::Succeeded => {
                        plan.writes
                            .push(Write::FinishPasswordChange(desired.clone()));
                        PasswordState::Synced
                    }
                }
            }
            // A Job for an earlier password must finish before a new one starts, or
            // two Jobs could race on the server.
            Some(stale) if JobState::is_running(stale) => PasswordState::Changing,
            Some(_) => {
                plan.writes.push(Write::Delete(Kind::Job, job_name.clone()));
                return Ok(Err(format!("replacing the finished Job {job_name}")));
            }
            None => {
                let pending = names.pending_credentials_secret();
                let secret = self.credentials_secret(&pending, desired)?;
                let mut job =
                    manifests::password_job(self.renderer, self.template_ctx, &fingerprint)?;
                set_owner(&mut job, self.owner);
                plan.writes.push(Write::ApplySecret(secret));
                plan.writes.push(Write::CreateJob(job));
                PasswordState::Changing
            }
        };
        Ok(Ok(state))
    }

    /// Volumes, claims, Service and Deployment. Some(wait) when something must go
    /// first (an earlier incarnation's volume being deleted, an object of our name
    /// that another owner left).
    fn children(&self, plan: &mut Plan, observed: &mut Observed) -> Result<Option<String>> {
        let mut children = manifests::children(self.renderer, self.template_ctx)?;
        let live = &self.snapshot.volumes;
        let node = volume_node(live, &self.snapshot.nodes, self.names());
        observed.node = node.clone();
        if let Some(wait) = prepare_volumes(&mut children, live, node.as_deref(), plan) {
            return Ok(Some(wait));
        }
        let claims = prepare_claims(&mut children, live);
        if let Some(wait) = claims.wait {
            return Ok(Some(wait));
        }
        if let Some(storage) = claims.storage {
            observed.storage = storage;
        }
        // The backup claim is deliberately not owned: it outlives the instance.
        set_owner(&mut children.data_pvc, self.owner);
        set_owner(&mut children.service, self.owner);
        set_owner(&mut children.deployment, self.owner);
        let live_pv = |pv: &PersistentVolume| live_unless_released(pv, live);
        if let Some(pv) = children.data_pv {
            let current = live_pv(&pv);
            plan.writes.push(Write::ApplyVolume(pv, current));
        }
        let current = live_pv(&children.backup_pv);
        plan.writes
            .push(Write::ApplyVolume(children.backup_pv, current));
        plan.writes
            .push(Write::ApplyClaim(children.data_pvc, live.data_pvc.clone()));
        plan.writes.push(Write::ApplyClaim(
            children.backup_pvc,
            live.backup_pvc.clone(),
        ));
        let uid = self.owner.uid.as_str();
        let service = self.snapshot.service.as_ref();
        let deployment = self.snapshot.deployment.as_ref();
        let replacing = [
            replace_unowned(service, Kind::Service, uid, plan),
            replace_unowned(deployment, Kind::Deployment, uid, plan),
        ];
        if let Some(wait) = replacing.into_iter().flatten().next() {
            return Ok(Some(wait));
        }
        plan.writes
            .push(Write::ApplyService(children.service, service.cloned()));
        plan.writes.push(Write::ApplyDeployment(
            children.deployment,
            deployment.cloned(),
        ));
        Ok(None)
    }

    /// Where the wanted restore stands, and the Job writes it needs. The inner Err is
    /// a wait.
    fn restore(&self, plan: &mut Plan) -> Result<Result<RestoreState, String>> {
        let (backup, token) = match wanted_restore(self.instance, &self.snapshot.backups) {
            RestoreWanted::Decided(state) => return Ok(Ok(state)),
            RestoreWanted::Nothing => return self.discover(plan),
            RestoreWanted::Run { backup, token } => (backup, token),
        };
        let uid = self.owner.uid.as_str();
        let job_name = self.names().restore_job();
        let request = (!token.starts_with("create@")).then(|| token.clone());
        let state = match &self.snapshot.restore_job {
            Some(job)
                if is_owned_by(job, uid)
                    && annotation(&job.metadata, RESTORE_TOKEN_ANNOTATION)
                        == Some(token.as_str()) =>
            {
                match JobState::of(job) {
                    JobState::Running => RestoreState::Running { backup },
                    JobState::Succeeded => RestoreState::Succeeded {
                        unverified: is_unverified(&self.snapshot.backups, &backup),
                        backup,
                        request,
                    },
                    JobState::Failed(message) => RestoreState::Failed {
                        backup,
                        message,
                        request,
                    },
                }
            }
            // restore-NAME-job holds an earlier run (ours, an earlier incarnation's, or
            // the course operator's); it must go before this one starts.
            Some(other) if JobState::is_running(other) && is_owned_by(other, uid) => {
                return Ok(Err(format!(
                    "the earlier restore Job {job_name} is still running"
                )));
            }
            Some(_) => {
                plan.writes.push(Write::Delete(Kind::Job, job_name.clone()));
                return Ok(Err(format!("removing the earlier Job {job_name}")));
            }
            None => {
                let source = self.snapshot.restore_source.as_ref();
                let source = source.filter(|b| b.name_any() == backup);
                return self
                    .start_restore(plan, backup, token, request, source)
                    .map(Ok);
            }
        };
        Ok(Ok(state))
    }

    fn start_restore(
        &self,
        plan: &mut Plan,
        backup: String,
        token: String,
        request: Option<String>,
        source: Option<&MySQLBackup>,
    ) -> Result<RestoreState> {
        let Some(source) = source.filter(|b| b.succeeded()) else {
            return Ok(RestoreState::Failed {
                message: format!("MySQLBackup {backup} does not exist or has not succeeded"),
                backup,
                request,
            });
        };
        let source_names =
            InstanceNames::new(source.spec.instance.clone(), self.names().namespace.clone());
        let mut job = manifests::restore_job_for(
            self.renderer,
            self.template_ctx,
            &backup,
            &source_names.backup_pvc(),
            source.unverified(),
        )?;
        stamp_annotation(&mut job.metadata, RESTORE_TOKEN_ANNOTATION, token);
        set_owner(&mut job, self.owner);
        plan.writes.push(Write::CreateJob(job));
        Ok(RestoreState::Running { backup })
    }

    /// No record to restore from: if the backup volume is older than this instance,
    /// a scan Job lists its dumps first; the ones found are recorded and the newest
    /// complete one restored. The inner Err is a wait.
    fn discover(&self, plan: &mut Plan) -> Result<Result<RestoreState, String>> {
        if !backup_volume_predates(self.instance, &self.snapshot.volumes) {
            return Ok(Ok(RestoreState::NothingToRestore));
        }
        let token = create_token(self.instance);
        let job_name = self.names().scan_job();
        let Some(job) = &self.snapshot.scan_job else {
            let mut job = manifests::scan_job(self.renderer, self.template_ctx)?;
            stamp_annotation(&mut job.metadata, RESTORE_TOKEN_ANNOTATION, token);
            set_owner(&mut job, self.owner);
            plan.writes.push(Write::CreateJob(job));
            return Ok(Ok(RestoreState::Discovering));
        };
        if annotation(&job.metadata, RESTORE_TOKEN_ANNOTATION) != Some(token.as_str()) {
            plan.writes.push(Write::Delete(Kind::Job, job_name.clone()));
            return Ok(Err(format!("removing the earlier Job {job_name}")));
        }
        let state = match JobState::of(job) {
            JobState::Running => RestoreState::Discovering,
            JobState::Failed(message) => RestoreState::Failed {
                backup: "found on the backup volume".into(),
                message: format!("could not list the backup volume: {message}"),
                request: None,
            },
            JobState::Succeeded => return self.restore_found(plan, token).map(Ok),
        };
        Ok(Ok(state))
    }

    /// Records every complete dump the scan found that has no record, and restores the
    /// newest one that is older than this instance.
    fn restore_found(&self, plan: &mut Plan, token: String) -> Result<RestoreState> {
        let names = self.names();
        let report = self.snapshot.scan_report.clone().unwrap_or_default();
        let created = self
            .instance
            .metadata
            .creation_timestamp
            .as_ref()
            .map(|t| t.0);
        let found: Vec<MySQLBackup> = report
            .dumps
            .iter()
            .filter_map(|d| d.record(&names.namespace, &names.name))
            .collect();
        for record in &found {
            let known = self
                .snapshot
                .backups
                .iter()
                .any(|b| b.name_any() == record.name_any());
            if !known {
                plan.writes.push(Write::RecordFoundBackup(record.clone()));
            }
        }
        match newest_succeeded(&found, created) {
            Some(newest) => {
                let backup = newest.name_any();
                self.start_restore(plan, backup, token, None, Some(newest))
            }
            None => Ok(RestoreState::NothingToRestore),
        }
    }
}

/// A hostPath volume of this instance does not exist yet: creating it means choosing
/// the node it lives on.
pub fn creates_host_path_volume(instance: &MySQL, live: &LiveVolumes) -> bool {
    live.backup_pv.is_none() || (instance.spec.storage_class().is_none() && live.data_pv.is_none())
}

/// The label a hostPath volume is pinned by: the kubelet sets it on every node.
pub const NODE_LABEL: &str = "kubernetes.io/hostname";

/// The node an existing volume is pinned to.
pub fn pinned_node(pv: &PersistentVolume) -> Option<String> {
    let terms = &pv
        .spec
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required
        .as_ref()?
        .node_selector_terms;
    terms
        .iter()
        .flat_map(|t| t.match_expressions.iter().flatten())
        .find(|e| e.key == NODE_LABEL && e.operator == "In")
        .and_then(|e| e.values.as_ref()?.first().cloned())
}

/// Where this instance's hostPath volumes live: where an existing one already is, or,
/// for a first volume, one of the nodes that can run pods, chosen by the instance's
/// name so that instances spread and a retry chooses the same one.
fn volume_node(live: &LiveVolumes, nodes: &[Node], names: &InstanceNames) -> Option<String> {
    let existing = [&live.backup_pv, &live.data_pv]
        .into_iter()
        .flatten()
        .find_map(pinned_node);
    if existing.is_some() {
        return existing;
    }
    let mut eligible: Vec<String> = nodes
        .iter()
        .filter(|n| can_run_pods(n))
        .filter_map(|n| n.labels().get(NODE_LABEL).cloned())
        .collect();
    eligible.sort();
    if eligible.is_empty() {
        return None;
    }
    let key = manifests::sha256_hex(format!("{}/{}", names.namespace, names.name).as_bytes());
    let index = u64::from_str_radix(&key[..12], 16).unwrap_or(0) as usize % eligible.len();
    Some(eligible.swap_remove(index))
}

fn can_run_pods(node: &Node) -> bool {
    let spec = node.spec.as_ref();
    let cordoned = spec.and_then(|s| s.unschedulable).unwrap_or(false);
    let tainted = spec.and_then(|s| s.taints.as_ref()).is_some_and(|ts| {
        ts.iter()
            .any(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
    });
    let ready = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    ready && !cordoned && !tainted
}

/// Pins a new hostPath volume to `node`: the scheduler then puts every pod that mounts
/// it (the server, the backup and restore Jobs) on that node, whose disk holds it.
fn pin(pv: &mut PersistentVolume, node: &str) {
    let requirement = NodeSelectorRequirement {
        key: NODE_LABEL.into(),
        operator: "In".into(),
        values: Some(vec![node.to_string()]),
    };
    if let Some(spec) = pv.spec.as_mut() {
        spec.node_affinity = Some(VolumeNodeAffinity {
            required: Some(NodeSelector {
                node_selector_terms: vec![NodeSelectorTerm {
                    match_expressions: Some(vec![requirement]),
                    match_fields: None,
                }],
            }),
        });
    }
}

/// The live PV to compare an apply with; none for a Released one, which is freed and
/// so changes.
fn live_unless_released(pv: &PersistentVolume, live: &LiveVolumes) -> Option<PersistentVolume> {
    let name = pv.name_any();
    [&live.data_pv, &live.backup_pv]
        .into_iter()
        .flatten()
        .find(|l| l.name_any() == name && !is_released(l))
        .cloned()
}

fn is_released(pv: &PersistentVolume) -> bool {
    pv.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Released")
}

/// Makes the rendered volumes safe to apply against what exists: waits while an
/// earlier incarnation's PV is still being deleted, frees a Released PV of ours, keeps
/// the immutable hostPath, capacity and node of an existing PV, and pins a new one.
fn prepare_volumes(
    children: &mut Children,
    live: &LiveVolumes,
    node: Option<&str>,
    plan: &mut Plan,
) -> Option<String> {
    let mut volumes: Vec<(&mut PersistentVolume, Option<&PersistentVolume>)> =
        vec![(&mut children.backup_pv, live.backup_pv.as_ref())];
    if let Some(pv) = children.data_pv.as_mut() {
        volumes.push((pv, live.data_pv.as_ref()));
    }
    for (pv, existing) in volumes {
        let Some(existing) = existing else {
            if let Some(node) = node {
                pin(pv, node);
            }
            continue;
        };
        let name = pv.name_any();
        if existing.metadata.deletion_timestamp.is_some() {
            return Some(format!(
                "PersistentVolume {name} of an earlier instance is still being deleted"
            ));
        }
        if is_released(existing) {
            plan.writes.push(Write::FreeReleasedVolume(name));
        }
        if let (Some(spec), Some(existing_spec)) = (pv.spec.as_mut(), existing.spec.as_ref()) {
            spec.host_path = existing_spec.host_path.clone();
            spec.capacity = existing_spec.capacity.clone();
            spec.node_affinity = existing_spec.node_affinity.clone();
        }
    }
    None
}

/// What the claims allow: a wait, or a size that cannot be had.
#[derive(Default)]
struct ClaimsOutcome {
    wait: Option<String>,
    storage: Option<StorageState>,
}

/// Adopts a claim bound elsewhere (the course's NAME-pvc on NAME-pv) instead of
/// fighting over immutable fields, and keeps a size the claim cannot grow to.
fn prepare_claims(children: &mut Children, live: &LiveVolumes) -> ClaimsOutcome {
    let mut outcome = ClaimsOutcome::default();
    for (is_data, existing) in [(true, &live.data_pvc), (false, &live.backup_pvc)] {
        let Some(existing) = existing else { continue };
        if existing.metadata.deletion_timestamp.is_some() {
            outcome.wait = Some(format!(
                "PersistentVolumeClaim {} of an earlier instance is still being deleted",
                existing.name_any()
            ));
            return outcome;
        }
        let claim = if is_data {
            &mut children.data_pvc
        } else {
            &mut children.backup_pvc
        };
        let bound_elsewhere = volume_name(existing) != volume_name(claim);
        adopt(claim, existing);
        if is_data && bound_elsewhere {
            // Bound by someone else (the course's operator): our own PV would stay
            // unused.
            children.data_pv = None;
        }
        if let Some(storage) = keep_unresizable_size(claim, existing, is_data) {
            outcome.storage = Some(storage);
        }
    }
    outcome
}

fn volume_name(claim: &PersistentVolumeClaim) -> Option<&str> {
    claim.spec.as_ref()?.volume_name.as_deref()
}

fn adopt(claim: &mut PersistentVolumeClaim, existing: &PersistentVolumeClaim) {
    let (Some(spec), Some(current)) = (claim.spec.as_mut(), existing.spec.as_ref()) else {
        return;
    };
    if current.volume_name.is_some() {
        spec.volume_name = current.volume_name.clone();
    }
    spec.storage_class_name = current.storage_class_name.clone();
}

/// A hostPath claim (and the backup claim) cannot grow: it keeps its size, and the
/// data claim says why.
fn keep_unresizable_size(
    claim: &mut PersistentVolumeClaim,
    existing: &PersistentVolumeClaim,
    is_data: bool,
) -> Option<StorageState> {
    let current = requested_storage(existing)?;
    let wanted = requested_storage(claim)?;
    if current == wanted {
        return None;
    }
    let dynamic = claim
        .spec
        .as_ref()
        .and_then(|s| s.storage_class_name.as_deref())
        .is_some_and(|s| !s.is_empty());
    if dynamic && is_data {
        return None;
    }
    set_requested_storage(claim, &current);
    is_data.then(|| StorageState::CannotResize {
        current,
        message: "a statically provisioned (hostPath) volume cannot be expanded; use storageClassName with an expandable class".into(),
    })
}

fn requested_storage(claim: &PersistentVolumeClaim) -> Option<String> {
    let requests = claim.spec.as_ref()?.resources.as_ref()?.requests.as_ref()?;
    requests.get("storage").map(|q| q.0.clone())
}

fn set_requested_storage(claim: &mut PersistentVolumeClaim, size: &str) {
    if let Some(requests) = claim
        .spec
        .as_mut()
        .and_then(|s| s.resources.as_mut())
        .and_then(|r| r.requests.as_mut())
    {
        requests.insert("storage".into(), Quantity(size.into()));
    }
}

/// A Service or Deployment of our name that this instance does not own (left by the
/// course's operator, or by an earlier incarnation) may carry fields that server-side
/// apply would never remove, such as `--ignore-db-dir`. It holds no data, so it is
/// deleted and created afresh rather than merged. Some(wait) while that happens.
fn replace_unowned<K: Resource>(
    live: Option<&K>,
    kind: Kind,
    uid: &str,
    plan: &mut Plan,
) -> Option<String> {
    let live = live?;
    if is_owned_by(live, uid) {
        return None;
    }
    let name = live.meta().name.clone().unwrap_or_default();
    if live.meta().deletion_timestamp.is_none() {
        plan.writes.push(Write::Delete(kind, name.clone()));
    }
    Some(format!("{name} left by an earlier owner is being replaced"))
}

fn is_available(deployment: Option<&Deployment>) -> bool {
    deployment
        .and_then(|d| d.status.as_ref())
        .and_then(|s| s.available_replicas)
        .unwrap_or(0)
        >= 1
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

/// Deletion: take a backup (unless opted out), wait for it without blocking the loop,
/// remove the PV we created, and let the owned children be collected.
pub fn deletion(instance: &MySQL, snapshot: &DeletionSnapshot, now: jiff::Timestamp) -> Plan {
    let mut plan = Plan::new(instance);
    plan.finalizer = FinalizerChange::Keep;
    if instance.skips_backup_on_delete() {
        return finish_deletion(plan, snapshot);
    }
    let names = &snapshot.names;
    let observed = |message: String| Observed::deleting(instance, names, message);
    let stamp = rfc3339(now);
    let succeeded = snapshot
        .final_backup
        .as_ref()
        .is_some_and(|b| b.succeeded());
    if snapshot.namespace_terminating && !succeeded {
        return give_up_final_backup(plan, snapshot);
    }
    let Some(backup) = &snapshot.final_backup else {
        return start_final_backup(instance, snapshot, plan, now);
    };
    let name = backup.name_any();
    match backup.phase() {
        Some(crate::api::BackupPhase::Succeeded) => {
            plan.events.push(Notice::normal(
                "BackupSucceeded",
                format!("backup {name} recorded; deleting"),
            ));
            finish_deletion(plan, snapshot)
        }
        Some(crate::api::BackupPhase::Failed) => {
            let why = backup
                .status
                .as_ref()
                .and_then(|s| s.message.clone())
                .unwrap_or_default();
            let message = format!(
                "deletion stopped: backup {name} failed ({why}); fix the cause and delete MySQLBackup {name} to retry, or annotate the instance {SKIP_BACKUP_ANNOTATION}=true to delete without a backup"
            );
            let before = instance.status.as_ref().and_then(|s| s.message.as_deref());
            if before != Some(message.as_str()) {
                plan.events
                    .push(Notice::warning("BackupFailed", message.clone()));
            }
            plan.with_status(instance, &observed(message.clone()), &stamp)
                .then(Next::Blocked(message))
        }
        _ => {
            let message = format!("backing up before deletion (MySQLBackup {name})");
            plan.with_status(instance, &observed(message), &stamp)
                .then(Next::Wait(format!("backup {name} before deletion")))
        }
    }
}

/// The namespace is going: the API server refuses a backup record or Job there, and
/// waiting would hang the namespace's deletion for good. The dumps already on the
/// backup volume stay (its PV is Retain and outlives the namespace); the instance goes
/// without a new one, and says so.
fn give_up_final_backup(mut plan: Plan, snapshot: &DeletionSnapshot) -> Plan {
    plan.events.push(Notice::warning(
        "BackupSkipped",
        format!(
            "namespace {} is being deleted, where no backup can be started; deleted without a final backup; earlier dumps stay on PersistentVolume {}",
            snapshot.names.namespace,
            snapshot.names.backup_pv()
        ),
    ));
    finish_deletion(plan, snapshot)
}

fn finish_deletion(mut plan: Plan, snapshot: &DeletionSnapshot) -> Plan {
    if let Some(pv) = &snapshot.data_pv {
        plan.writes
            .push(Write::Delete(Kind::PersistentVolume, pv.name_any()));
    }
    plan.finalizer = FinalizerChange::Remove;
    plan.then(Next::Done)
}

/// The final backup reads the password from `NAME-credentials`, so that Secret must
/// hold the one the server has. A password Job still running is waited for; one that
/// succeeded before a reconcile could swap the Secrets (a delete right after a password
/// change) is finished here; a failed one left the server on the live password.
fn start_final_backup(
    instance: &MySQL,
    snapshot: &DeletionSnapshot,
    mut plan: Plan,
    now: jiff::Timestamp,
) -> Plan {
    let names = &snapshot.names;
    if let (Some(job), Some(pending)) = (&snapshot.password_job, &snapshot.pending_credentials)
        && annotation(&job.metadata, PASSWORD_FINGERPRINT_ANNOTATION)
            == Some(manifests::password_fingerprint(&pending.0).as_str())
    {
        match JobState::of(job) {
            JobState::Running => {
                return plan.then(Next::Wait(format!(
                    "the password Job {} before the final backup",
                    names.password_job()
                )));
            }
            JobState::Succeeded => plan
                .writes
                .push(Write::FinishPasswordChange(pending.clone())),
            JobState::Failed(_) => {}
        }
    }
    let name = names.backup_record(now);
    let record = MySQLBackup::record(
        name.clone(),
        &names.namespace,
        &names.name,
        BackupCause::OnDelete,
        instance.uid().as_deref(),
    );
    plan.writes.push(Write::CreateBackupRecord(record));
    plan.events.push(Notice::normal(
        "BackupStarted",
        format!(
            "backing up before deletion: MySQLBackup {name}, Job {}",
            names.backup_job()
        ),
    ));
    let message = format!("backing up before deletion (MySQLBackup {name})");
    let observed = Observed::deleting(instance, names, message);
    plan.with_status(instance, &observed, &rfc3339(now))
        .then(Next::Wait(format!("backup {name} before deletion")))
}

pub fn set_owner<K: Resource>(obj: &mut K, owner: &OwnerReference) {
    obj.meta_mut().owner_references = Some(vec![owner.clone()]);
}

pub fn is_owned_by<K: Resource>(obj: &K, uid: &str) -> bool {
    obj.meta()
        .owner_references
        .iter()
        .flatten()
        .any(|o| o.uid == uid)
}

//! The plan step as data: small fixtures in, a plan out. Each table row is one
//! situation an instance can be in and what the operator must decide there.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentStatus};
use k8s_openapi::api::batch::v1::{Job, JobCondition, JobStatus};
use k8s_openapi::api::core::v1::{
    Node, NodeCondition, NodeSpec, NodeStatus, ObjectReference, PersistentVolume,
    PersistentVolumeClaim, PersistentVolumeClaimSpec, PersistentVolumeStatus, Service, Taint,
    VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};
use kube::ResourceExt;

use super::plan::{self, FinalizerChange, Kind, MemberWrite, Plan, ReleasedVolume, Write};
use super::plan::{Reads, RestoreWanted};
use super::snapshot::{
    DeletionSnapshot, LiveVolumes, MemberPod, Members, Password, PasswordUnreadable, Read, Snapshot,
};
use crate::api::keys::{
    BACKUP_ANNOTATION, FINALIZER, INSTANCE_UID_ANNOTATION, PASSWORD_FINGERPRINT_ANNOTATION,
    RESTORE_FROM_ANNOTATION, RESTORE_REQUEST_ANNOTATION, RESTORE_TOKEN_ANNOTATION,
    SKIP_BACKUP_ANNOTATION,
};
use crate::api::{
    BackupCause, BackupPhase, Condition, ConditionStatus, ConditionType, FoundDump, MySQL,
    MySQLBackup, MySQLBackupStatus, MySQLSpec, MySQLStatus, Phase, Reason, ScanReport,
    SecretKeyRef,
};
use crate::api::{EventReason, JobState};
use crate::manifests::password_fingerprint;
use crate::names::InstanceNames;
use crate::reconcile::Next;
use crate::reconcile::instance::snapshot::ListingFailed;
use crate::reconcile::test_support::{init_names, pod_spec};
use crate::render::Renderer;

const UID: &str = "uid-1";
const PASSWORD: &str = "otuspassword";
const CREATED: &str = "2026-11-24T10:00:00Z";
const NOW: &str = "2026-11-24T12:00:00Z";

// ---- fixtures ----

fn at(text: &str) -> jiff::Timestamp {
    text.parse().unwrap()
}

fn names() -> InstanceNames {
    InstanceNames::new("db", "ns")
}

fn owner() -> OwnerReference {
    OwnerReference {
        api_version: "otus.homework/v1".into(),
        kind: "MySQL".into(),
        name: "db".into(),
        uid: UID.into(),
        controller: Some(true),
        ..Default::default()
    }
}

fn meta(name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: Some("ns".into()),
        ..Default::default()
    }
}

fn owned(name: &str) -> ObjectMeta {
    ObjectMeta {
        owner_references: Some(vec![owner()]),
        ..meta(name)
    }
}

/// The course's instance, seen before (it carries our finalizer), with no status.
fn instance() -> MySQL {
    let mut instance = MySQL::new(
        "db",
        MySQLSpec {
            image: "mysql:8.4".into(),
            database: "otus-database".into(),
            password: Some(PASSWORD.into()),
            password_secret_ref: None,
            storage_size: "1Gi".into(),
            storage_class_name: None,
            backup: None,
            replicas: None,
            failover: None,
            ..Default::default()
        },
    );
    instance.metadata = ObjectMeta {
        uid: Some(UID.into()),
        generation: Some(1),
        creation_timestamp: Some(Time(at(CREATED))),
        finalizers: Some(vec![FINALIZER.into()]),
        ..meta("db")
    };
    instance
}

fn annotated(mut instance: MySQL, key: &str, value: &str) -> MySQL {
    instance.annotations_mut().insert(key.into(), value.into());
    instance
}

fn condition(type_: ConditionType, reason: Reason) -> Condition {
    Condition::new(
        type_,
        ConditionStatus::True,
        reason,
        String::new(),
        CREATED,
        Some(1),
    )
}

/// An instance whose status already records these conditions.
fn with_conditions(mut instance: MySQL, conditions: &[(ConditionType, Reason)]) -> MySQL {
    let status = instance.status.get_or_insert_with(MySQLStatus::default);
    for (type_, reason) in conditions {
        status.conditions.push(condition(*type_, *reason));
    }
    instance
}

fn settled(instance: MySQL) -> MySQL {
    with_conditions(
        instance,
        &[
            (ConditionType::PasswordSynced, Reason::Synced),
            (ConditionType::Restored, Reason::NoBackup),
        ],
    )
}

/// The server Deployment as this operator applied it for `instance()`: with the
/// annotation that says its pod template's parts.
fn deployment(available: bool) -> Deployment {
    let ctx = crate::render::InstanceContext::new(&instance(), &names());
    let rendered = crate::manifests::children(&crate::render::Renderer::embedded(), &ctx)
        .unwrap()
        .deployment;
    let mut metadata = owned("db");
    metadata.annotations = Some(BTreeMap::from([(
        crate::api::keys::POD_TEMPLATE_ANNOTATION.to_string(),
        plan::rollout::template_parts(&rendered),
    )]));
    Deployment {
        metadata,
        status: Some(DeploymentStatus {
            available_replicas: Some(i32::from(available)),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn claim(name: &str, size: &str, volume: &str) -> PersistentVolumeClaim {
    PersistentVolumeClaim {
        metadata: meta(name),
        spec: Some(PersistentVolumeClaimSpec {
            volume_name: Some(volume.into()),
            storage_class_name: Some(String::new()),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([("storage".into(), Quantity(size.into()))])),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn volume(name: &str, phase: &str) -> PersistentVolume {
    PersistentVolume {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        status: Some(PersistentVolumeStatus {
            phase: Some(phase.into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A Released volume still naming, by `uid`, the claim `backup-db-pvc` of "ns".
fn released(name: &str, uid: Option<&str>) -> PersistentVolume {
    let mut pv = volume(name, "Released");
    pv.spec.get_or_insert_default().claim_ref = Some(ObjectReference {
        namespace: Some("ns".into()),
        name: Some(names().backup_pvc()),
        uid: uid.map(Into::into),
        ..Default::default()
    });
    pv
}

fn frees(plan: &Plan) -> Vec<&ReleasedVolume> {
    plan.writes
        .iter()
        .filter_map(|w| match w {
            Write::FreeReleasedVolume(released) => Some(released),
            _ => None,
        })
        .collect()
}

/// A running, settled instance's world: every child there and ours, the password in
/// place, no Jobs, no backups.
fn snapshot() -> Snapshot {
    let n = names();
    Snapshot {
        desired_password: Ok(Password(PASSWORD.into())),
        credentials: Some(Password(PASSWORD.into()).fingerprint()),
        credentials_outdated: false,
        tls_certificate: None,
        config_map: None,
        job_without_pods: false,
        job_refused: None,
        pending_credentials: Read::Done(None),
        password_job: None,
        restore_job: Read::Done(None),
        restore_source: Read::Done(None),
        server_pods: Read::Skipped,
        scan_job: Read::Done(None),
        scan_report: Read::Done(None),
        bucket_dumps: Read::Skipped,
        binlog_segments: Read::Done(Ok(Vec::new())),
        restore_failure: Read::Done(None),
        volumes: LiveVolumes {
            data_pv: Some(volume(&n.data_pv_of(UID), "Bound")),
            backup_pv: Some(volume(&n.backup_pv(), "Bound")),
            provisioned_backup_pv: None,
            data_pvc: Some(claim(&n.data_pvc(), "1Gi", &n.data_pv_of(UID))),
            backup_pvc: Some(claim(&n.backup_pvc(), "1Gi", &n.backup_pv())),
        },
        nodes: Read::Done(Vec::new()),
        service: Some(Service {
            metadata: owned("db"),
            ..Default::default()
        }),
        deployment: Some(deployment(true)),
        backups: Vec::new(),
        members: Read::Skipped,
        names: n,
    }
}

/// A brand-new instance: nothing exists yet.
/// A read that found something.
fn read_some<T>(value: T) -> Read<Option<T>> {
    Read::Done(Some(value))
}

/// The snapshot as observe would hand it over for `instance`: what observe would not
/// read is Skipped, so a fixture cannot describe a world observe never produces, and a
/// plan that needs a read observe skipped fails loudly (`Error::NotObserved`).
fn as_observed(instance: &MySQL, mut s: Snapshot) -> Snapshot {
    let reads = Reads::for_instance(instance, &s.backups, &s.volumes);
    if !reads.pending_credentials {
        s.pending_credentials = Read::Skipped;
    }
    if matches!(reads.restore, RestoreWanted::Run { .. }) {
        let job = match &s.restore_job {
            Read::Done(job) => job.clone(),
            Read::Skipped => None,
        };
        s.restore_job = Read::Done(job.clone());
        match &job {
            Some(job) => {
                s.restore_source = Read::Skipped;
                if !matches!(JobState::of(job), JobState::Failed(_)) {
                    s.restore_failure = Read::Skipped;
                }
            }
            None => s.restore_failure = Read::Skipped,
        }
    } else {
        s.restore_job = Read::Skipped;
        s.restore_source = Read::Skipped;
        s.restore_failure = Read::Skipped;
    }
    let scan_succeeded =
        matches!(&s.scan_job, Read::Done(Some(job)) if JobState::of(job) == JobState::Succeeded);
    if !reads.scan {
        s.scan_job = Read::Skipped;
        s.scan_report = Read::Skipped;
    } else if !scan_succeeded {
        s.scan_report = Read::Skipped;
    }
    if !reads.bucket_listing {
        s.bucket_dumps = Read::Skipped;
    }
    if !reads.nodes {
        s.nodes = Read::Skipped;
    }
    if !reads.binlog_listing {
        s.binlog_segments = Read::Skipped;
    }
    let had_members = instance
        .status
        .as_ref()
        .is_some_and(|st| !st.members.is_empty());
    if instance.spec.members() <= 1 && !had_members {
        s.members = Read::Skipped;
    } else if matches!(s.members, Read::Skipped) {
        s.members = Read::Done(Members::default());
    }
    s
}

fn empty_snapshot() -> Snapshot {
    Snapshot {
        credentials: None,
        volumes: LiveVolumes::default(),
        service: None,
        deployment: None,
        ..snapshot()
    }
}

#[derive(Debug, Clone, Copy)]
enum Outcome {
    Running,
    Succeeded,
    Failed,
}

fn job(name: &str, outcome: Outcome, annotations: &[(&str, &str)]) -> Job {
    let condition = |type_: &str| JobCondition {
        type_: type_.into(),
        status: "True".into(),
        message: Some(format!("the Job {}", type_.to_lowercase())),
        ..Default::default()
    };
    let conditions = match outcome {
        Outcome::Running => None,
        Outcome::Succeeded => Some(vec![condition("Complete")]),
        Outcome::Failed => Some(vec![condition("Failed")]),
    };
    Job {
        metadata: ObjectMeta {
            annotations: Some(
                annotations
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            ..owned(name)
        },
        status: Some(JobStatus {
            conditions,
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn password_job(outcome: Outcome, password: &str) -> Job {
    let fingerprint = password_fingerprint(password);
    job(
        &names().password_job(),
        outcome,
        &[(PASSWORD_FINGERPRINT_ANNOTATION, &fingerprint)],
    )
}

fn restore_job(outcome: Outcome, token: &str) -> Job {
    job(
        &names().restore_job(),
        outcome,
        &[(RESTORE_TOKEN_ANNOTATION, token)],
    )
}

fn backup(name: &str, of: &str, phase: BackupPhase, completed: &str) -> MySQLBackup {
    let mut record = MySQLBackup::record(name.into(), "ns", of, BackupCause::Manual, None);
    record.status = Some(MySQLBackupStatus {
        phase: Some(phase),
        completion_time: Some(completed.into()),
        message: Some(format!("backup {}", phase.to_string().to_lowercase())),
        ..Default::default()
    });
    record
}

fn final_backup(phase: Option<BackupPhase>) -> MySQLBackup {
    let mut record = MySQLBackup::record(
        "db-20261124-110000".into(),
        "ns",
        "db",
        BackupCause::OnDelete,
        Some(UID),
    );
    record.status = phase.map(|phase| MySQLBackupStatus {
        phase: Some(phase),
        message: Some("mysqldump: Access denied".into()),
        ..Default::default()
    });
    record
}

fn pin_for_test(pv: &mut PersistentVolume, node: &str) {
    use k8s_openapi::api::core::v1::{
        NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, VolumeNodeAffinity,
    };
    pv.spec.as_mut().unwrap().node_affinity = Some(VolumeNodeAffinity {
        required: Some(NodeSelector {
            node_selector_terms: vec![NodeSelectorTerm {
                match_expressions: Some(vec![NodeSelectorRequirement {
                    key: plan::NODE_LABEL.into(),
                    operator: "In".into(),
                    values: Some(vec![node.into()]),
                }]),
                match_fields: None,
            }],
        }),
    });
}

fn deletion_snapshot() -> DeletionSnapshot {
    DeletionSnapshot {
        names: names(),
        final_backup: None,
        password_job: None,
        pending_credentials: None,
        data_pv: Some(volume(&names().data_pv_of(UID), "Bound")),
        namespace_terminating: false,
        own_server: true,
        own_data_claim: true,
    }
}

fn node(name: &str, ready: bool, spec: NodeSpec) -> Node {
    Node {
        metadata: ObjectMeta {
            name: Some(name.into()),
            labels: Some(BTreeMap::from([(plan::NODE_LABEL.into(), name.into())])),
            ..Default::default()
        },
        spec: Some(spec),
        status: Some(NodeStatus {
            conditions: Some(vec![NodeCondition {
                type_: "Ready".into(),
                status: if ready { "True" } else { "False" }.into(),
                ..Default::default()
            }]),
            ..Default::default()
        }),
    }
}

/// Three nodes of which only `good` can take pods.
fn nodes_with_one_good() -> Vec<Node> {
    vec![
        node(
            "cordoned",
            true,
            NodeSpec {
                unschedulable: Some(true),
                ..Default::default()
            },
        ),
        node("good", true, NodeSpec::default()),
        node(
            "tainted",
            true,
            NodeSpec {
                taints: Some(vec![Taint {
                    key: "node-role.kubernetes.io/control-plane".into(),
                    effect: "NoSchedule".into(),
                    ..Default::default()
                }]),
                ..Default::default()
            },
        ),
        node("unready", false, NodeSpec::default()),
    ]
}

fn pinned_volumes(plan: &Plan) -> Vec<(String, Option<String>)> {
    plan.writes
        .iter()
        .filter_map(|w| match w {
            Write::ApplyVolume(pv, _) => Some((pv.name_any(), plan::pinned_node(pv))),
            _ => None,
        })
        .collect()
}

// ---- reading a plan ----

fn plan_for(instance: &MySQL, snapshot: &Snapshot) -> Plan {
    let observed = as_observed(instance, snapshot.clone());
    plan::instance(instance, &observed, &Renderer::embedded(), at(NOW)).unwrap()
}

fn created_jobs(plan: &Plan) -> Vec<&Job> {
    plan.writes
        .iter()
        .filter_map(|w| match w {
            Write::CreateJob(job) => Some(job),
            _ => None,
        })
        .collect()
}

fn deletes(plan: &Plan) -> Vec<(Kind, String)> {
    plan.writes
        .iter()
        .filter_map(|w| match w {
            Write::Delete(kind, name) => Some((*kind, name.clone())),
            _ => None,
        })
        .collect()
}

fn applied_secrets(plan: &Plan) -> Vec<String> {
    plan.writes
        .iter()
        .filter_map(|w| match w {
            Write::ApplySecret(secret) => Some(secret.name_any()),
            _ => None,
        })
        .collect()
}

fn finishes_password(plan: &Plan) -> Option<String> {
    plan.writes.iter().find_map(|w| match w {
        Write::FinishPasswordChange(p) => Some(p.0.clone()),
        _ => None,
    })
}

fn reason(plan: &Plan, type_: ConditionType) -> Option<(ConditionStatus, Reason)> {
    let status = plan.status.as_ref()?;
    let c = crate::api::find_condition(&status.conditions, type_)?;
    Some((c.status, c.reason()?))
}

fn phase(plan: &Plan) -> Option<Phase> {
    plan.status.as_ref()?.phase
}

fn events(plan: &Plan) -> Vec<EventReason> {
    plan.events.iter().map(|e| e.reason).collect()
}

fn is_wait(plan: &Plan) -> bool {
    matches!(plan.next, Next::Wait(_))
}

// ---- the table ----

struct Case {
    name: &'static str,
    instance: MySQL,
    snapshot: Snapshot,
    check: fn(&Plan),
}

/// A world whose backup volume outlived the instance's records (its namespace was
/// deleted, or the course's operator made it): older than the instance, no records.
fn records_lost() -> Snapshot {
    let mut live = snapshot();
    let backup_pv = live.volumes.backup_pv.as_mut().unwrap();
    backup_pv.metadata.creation_timestamp = Some(Time(at("2026-11-01T00:00:00Z")));
    live
}

fn found(file: &str, modified: &str, complete: bool, sha256: Option<&str>) -> FoundDump {
    FoundDump {
        file: file.into(),
        size_bytes: 1234,
        modified: at(modified).as_second(),
        complete,
        sha256: sha256.map(str::to_string),
    }
}

fn scan_job(outcome: Outcome) -> Job {
    job(
        &names().scan_job(),
        outcome,
        &[(RESTORE_TOKEN_ANNOTATION, &format!("create@{UID}"))],
    )
}

fn recorded(plan: &Plan) -> Vec<String> {
    plan.writes
        .iter()
        .filter_map(|w| match w {
            Write::RecordFoundBackup(r) => Some(r.name_any()),
            _ => None,
        })
        .collect()
}

fn env_of(job: &Job, name: &str) -> Option<String> {
    let spec = job.spec.as_ref()?.template.spec.as_ref()?;
    let env = spec.containers[0].env.as_ref()?;
    env.iter().find(|e| e.name == name)?.value.clone()
}

fn discovery_cases() -> Vec<Case> {
    vec![
        Case {
            name: "found where they lie: an older backup volume with no records is scanned first",
            instance: instance(),
            snapshot: records_lost(),
            check: |p| {
                let jobs = created_jobs(p);
                assert_eq!(jobs.len(), 1);
                assert_eq!(jobs[0].name_any(), "scan-db-job");
                assert_eq!(
                    reason(p, ConditionType::Restored),
                    Some((ConditionStatus::Unknown, Reason::Discovering))
                );
                assert_eq!(
                    reason(p, ConditionType::Ready),
                    Some((ConditionStatus::False, Reason::Restoring))
                );
                assert_eq!(phase(p), Some(Phase::Restoring));
            },
        },
        Case {
            name: "found where they lie: a new backup volume has nothing to scan",
            instance: instance(),
            snapshot: snapshot(),
            check: |p| {
                assert!(created_jobs(p).is_empty());
                assert_eq!(
                    reason(p, ConditionType::Restored),
                    Some((ConditionStatus::False, Reason::NoBackup))
                );
            },
        },
        Case {
            name: "found where they lie: a running scan is waited for",
            instance: instance(),
            snapshot: Snapshot {
                scan_job: Read::Done(Some(scan_job(Outcome::Running))),
                ..records_lost()
            },
            check: |p| {
                assert!(created_jobs(p).is_empty());
                assert_eq!(phase(p), Some(Phase::Restoring));
            },
        },
        Case {
            name: "found where they lie: complete dumps are recorded, the newest older one restored",
            instance: instance(),
            snapshot: Snapshot {
                scan_job: Read::Done(Some(scan_job(Outcome::Succeeded))),
                scan_report: read_some(ScanReport {
                    dumps: vec![
                        found(
                            "db-20261124-110000.sql",
                            "2026-11-24T11:00:00Z",
                            true,
                            Some("ab"),
                        ),
                        found(
                            "db-20261124-090000.sql",
                            "2026-11-24T09:00:00Z",
                            true,
                            Some("cd"),
                        ),
                        found(
                            "db-20261124-093000.sql",
                            "2026-11-24T09:30:00Z",
                            false,
                            None,
                        ),
                        found("Not A Name.sql", "2026-11-24T09:45:00Z", true, None),
                    ],
                }),
                ..records_lost()
            },
            check: |p| {
                assert_eq!(
                    recorded(p),
                    vec![
                        "db-20261124-110000".to_string(),
                        "db-20261124-090000".to_string()
                    ]
                );
                let jobs = created_jobs(p);
                assert_eq!(jobs.len(), 1);
                assert_eq!(jobs[0].name_any(), "restore-db-job");
                assert_eq!(
                    jobs[0].annotations().get(BACKUP_ANNOTATION).unwrap(),
                    "db-20261124-090000",
                    "the newest dump older than the instance, complete"
                );
                assert_eq!(
                    env_of(jobs[0], "ALLOW_UNVERIFIED").as_deref(),
                    Some("false")
                );
            },
        },
        Case {
            name: "found where they lie: the course's dump has no checksum; loaded unverified",
            instance: instance(),
            snapshot: Snapshot {
                scan_job: Read::Done(Some(scan_job(Outcome::Succeeded))),
                scan_report: read_some(ScanReport {
                    dumps: vec![found("db-dump.sql", "2026-11-20T10:00:00Z", true, None)],
                }),
                ..records_lost()
            },
            check: |p| {
                assert_eq!(recorded(p), vec!["db-dump".to_string()]);
                let jobs = created_jobs(p);
                assert_eq!(env_of(jobs[0], "ALLOW_UNVERIFIED").as_deref(), Some("true"));
                assert_eq!(
                    env_of(jobs[0], "BACKUP_FILE").as_deref(),
                    Some("db-dump.sql")
                );
            },
        },
        Case {
            name: "found where they lie: an empty volume starts the instance empty",
            instance: instance(),
            snapshot: Snapshot {
                scan_job: Read::Done(Some(scan_job(Outcome::Succeeded))),
                scan_report: Read::Done(Some(ScanReport::default())),
                ..records_lost()
            },
            check: |p| {
                assert!(created_jobs(p).is_empty());
                assert_eq!(
                    reason(p, ConditionType::Restored),
                    Some((ConditionStatus::False, Reason::NoBackup))
                );
            },
        },
        Case {
            name: "found where they lie: a scan that succeeded without its report fails, never 'nothing to restore'",
            instance: instance(),
            snapshot: Snapshot {
                scan_job: Read::Done(Some(scan_job(Outcome::Succeeded))),
                scan_report: Read::Done(None),
                ..records_lost()
            },
            check: |p| {
                assert!(created_jobs(p).is_empty());
                assert_eq!(
                    reason(p, ConditionType::Restored),
                    Some((ConditionStatus::False, Reason::RestoreFailed))
                );
                assert!(events(p).contains(&EventReason::RestoreFailed));
            },
        },
        Case {
            name: "found where they lie: restored from an unverified dump says so",
            instance: instance(),
            snapshot: Snapshot {
                backups: vec![
                    found("db-dump.sql", "2026-11-20T10:00:00Z", true, None)
                        .record("ns", "db")
                        .unwrap(),
                ],
                restore_job: Read::Done(Some(restore_job(
                    Outcome::Succeeded,
                    &format!("create@{UID}"),
                ))),
                ..records_lost()
            },
            check: |p| {
                let status = p.status.as_ref().unwrap();
                let restored =
                    crate::api::find_condition(&status.conditions, ConditionType::Restored)
                        .unwrap();
                assert!(
                    restored.message.contains("unverified"),
                    "{}",
                    restored.message
                );
                assert_eq!(status.restored_from.as_deref(), Some("db-dump"));
            },
        },
    ]
}

fn restore_cases() -> Vec<Case> {
    let earlier = backup("db-1", "db", BackupPhase::Succeeded, "2026-11-24T09:00:00Z");
    let newer = backup("db-2", "db", BackupPhase::Succeeded, "2026-11-24T10:30:00Z");
    let create_token = format!("create@{UID}");
    vec![
        Case {
            name: "restore on create: no backup starts empty",
            instance: instance(),
            snapshot: empty_snapshot(),
            check: |p| {
                assert!(created_jobs(p).is_empty());
                assert_eq!(
                    reason(p, ConditionType::Restored),
                    Some((ConditionStatus::False, Reason::NoBackup))
                );
            },
        },
        Case {
            name: "restore on create: a backup of an earlier incarnation is loaded",
            instance: instance(),
            snapshot: Snapshot {
                backups: vec![earlier.clone()],
                restore_source: Read::Done(Some(earlier.clone())),
                ..snapshot()
            },
            check: |p| {
                let jobs = created_jobs(p);
                assert_eq!(jobs.len(), 1);
                assert_eq!(jobs[0].name_any(), "restore-db-job");
                assert_eq!(
                    jobs[0].annotations().get(RESTORE_TOKEN_ANNOTATION),
                    Some(&format!("create@{UID}"))
                );
                assert_eq!(
                    jobs[0].annotations().get(BACKUP_ANNOTATION).unwrap(),
                    "db-1"
                );
                assert_eq!(phase(p), Some(Phase::Restoring));
                assert_eq!(
                    reason(p, ConditionType::Ready),
                    Some((ConditionStatus::False, Reason::Restoring))
                );
            },
        },
        Case {
            name: "restore on create: a backup newer than the instance is not its past",
            instance: instance(),
            snapshot: Snapshot {
                backups: vec![newer.clone()],
                restore_source: Read::Done(Some(newer)),
                ..snapshot()
            },
            check: |p| {
                assert!(created_jobs(p).is_empty());
                assert_eq!(
                    reason(p, ConditionType::Restored),
                    Some((ConditionStatus::False, Reason::NoBackup))
                );
            },
        },
        Case {
            name: "restore on create: --restore-from another instance's backup mounts its claim",
            instance: annotated(instance(), RESTORE_FROM_ANNOTATION, "shop-1"),
            snapshot: Snapshot {
                restore_source: read_some(backup(
                    "shop-1",
                    "shop",
                    BackupPhase::Succeeded,
                    "2026-11-24T11:00:00Z",
                )),
                ..snapshot()
            },
            check: |p| {
                let jobs = created_jobs(p);
                assert_eq!(jobs.len(), 1);
                let spec = pod_spec(jobs[0]);
                let volumes = spec.volumes.as_ref().unwrap();
                let claim = volumes[0].persistent_volume_claim.as_ref().unwrap();
                assert_eq!(claim.claim_name, "backup-shop-pvc");
            },
        },
        Case {
            name: "restore on create: --restore-from a backup that did not succeed fails, once",
            instance: annotated(instance(), RESTORE_FROM_ANNOTATION, "shop-1"),
            snapshot: Snapshot {
                restore_source: read_some(backup(
                    "shop-1",
                    "shop",
                    BackupPhase::Failed,
                    "2026-11-24T11:00:00Z",
                )),
                ..snapshot()
            },
            check: |p| {
                assert!(created_jobs(p).is_empty());
                assert_eq!(
                    reason(p, ConditionType::Restored),
                    Some((ConditionStatus::False, Reason::RestoreFailed))
                );
                assert!(events(p).contains(&EventReason::RestoreFailed));
            },
        },
        Case {
            name: "restore running: Ready stays False until the data is back",
            instance: instance(),
            snapshot: Snapshot {
                backups: vec![earlier.clone()],
                restore_job: Read::Done(Some(restore_job(Outcome::Running, &create_token))),
                ..snapshot()
            },
            check: |p| {
                assert!(created_jobs(p).is_empty());
                assert!(deletes(p).is_empty());
                assert_eq!(
                    reason(p, ConditionType::Restored),
                    Some((ConditionStatus::Unknown, Reason::Restoring))
                );
            },
        },
        Case {
            name: "restore succeeded: Ready and Restored, restoredFrom recorded",
            instance: instance(),
            snapshot: Snapshot {
                backups: vec![earlier.clone()],
                restore_job: Read::Done(Some(restore_job(Outcome::Succeeded, &create_token))),
                ..snapshot()
            },
            check: |p| {
                assert_eq!(phase(p), Some(Phase::Ready));
                let status = p.status.as_ref().unwrap();
                assert_eq!(status.restored_from.as_deref(), Some("db-1"));
                assert_eq!(status.restore_request, None);
                assert!(events(p).contains(&EventReason::Restored));
            },
        },
        Case {
            name: "restore failed: a warning, and the server stays up",
            instance: instance(),
            snapshot: Snapshot {
                backups: vec![earlier.clone()],
                restore_job: Read::Done(Some(restore_job(Outcome::Failed, &create_token))),
                ..snapshot()
            },
            check: |p| {
                assert_eq!(
                    reason(p, ConditionType::Restored),
                    Some((ConditionStatus::False, Reason::RestoreFailed))
                );
                assert_eq!(phase(p), Some(Phase::Ready));
            },
        },
        Case {
            name: "an earlier finished restore Job is removed before this one starts",
            instance: instance(),
            snapshot: Snapshot {
                backups: vec![earlier.clone()],
                restore_job: Read::Done(Some(restore_job(Outcome::Succeeded, "create@older-uid"))),
                ..snapshot()
            },
            check: |p| {
                assert_eq!(deletes(p), vec![(Kind::Job, "restore-db-job".into())]);
                assert!(created_jobs(p).is_empty());
                assert!(is_wait(p));
                assert!(p.status.is_none(), "a wait writes no status");
            },
        },
        Case {
            name: "an earlier restore Job of ours still running is waited for, not deleted",
            instance: annotated(instance(), RESTORE_REQUEST_ANNOTATION, "db-1@2"),
            snapshot: Snapshot {
                backups: vec![earlier.clone()],
                restore_job: Read::Done(Some(restore_job(Outcome::Running, "db-1@1"))),
                ..snapshot()
            },
            check: |p| {
                assert!(deletes(p).is_empty());
                assert!(is_wait(p));
            },
        },
        Case {
            name: "a decided restore is not repeated though backups exist",
            instance: settled(instance()),
            snapshot: Snapshot {
                backups: vec![earlier.clone()],
                restore_source: Read::Done(Some(earlier.clone())),
                ..snapshot()
            },
            check: |p| {
                assert!(created_jobs(p).is_empty());
                assert_eq!(
                    reason(p, ConditionType::Restored),
                    Some((ConditionStatus::False, Reason::NoBackup))
                );
            },
        },
        Case {
            name: "restore request: a new request starts a Job with its token",
            instance: annotated(settled(instance()), RESTORE_REQUEST_ANNOTATION, "db-1@42"),
            snapshot: Snapshot {
                backups: vec![earlier.clone()],
                restore_source: Read::Done(Some(earlier.clone())),
                ..snapshot()
            },
            check: |p| {
                let jobs = created_jobs(p);
                assert_eq!(jobs.len(), 1);
                assert_eq!(
                    jobs[0].annotations().get(RESTORE_TOKEN_ANNOTATION).unwrap(),
                    "db-1@42"
                );
            },
        },
        Case {
            name: "restore request: success records the request as handled",
            instance: annotated(settled(instance()), RESTORE_REQUEST_ANNOTATION, "db-1@42"),
            snapshot: Snapshot {
                backups: vec![earlier],
                restore_job: Read::Done(Some(restore_job(Outcome::Succeeded, "db-1@42"))),
                ..snapshot()
            },
            check: |p| {
                let status = p.status.as_ref().unwrap();
                assert_eq!(status.restore_request.as_deref(), Some("db-1@42"));
                assert_eq!(status.restored_from.as_deref(), Some("db-1"));
            },
        },
    ]
}

fn password_cases() -> Vec<Case> {
    let changed = || Snapshot {
        desired_password: Ok(Password("new-secret".into())),
        ..snapshot()
    };
    vec![
        Case {
            name: "password: a first start writes the credentials Secret",
            instance: instance(),
            snapshot: empty_snapshot(),
            check: |p| {
                assert_eq!(applied_secrets(p), vec!["db-credentials".to_string()]);
                assert_eq!(p.finalizer, FinalizerChange::Keep);
                assert_eq!(phase(p), Some(Phase::Creating));
            },
        },
        Case {
            name: "password: a lost credentials Secret of a running server is reported, not guessed",
            instance: instance(),
            snapshot: Snapshot {
                credentials: None,
                ..snapshot()
            },
            check: |p| {
                assert!(applied_secrets(p).is_empty());
                assert_eq!(
                    reason(p, ConditionType::PasswordSynced),
                    Some((ConditionStatus::False, Reason::PasswordChangeFailed))
                );
            },
        },
        Case {
            name: "password: credentials without the option file (an older version's) are rewritten",
            instance: settled(instance()),
            snapshot: Snapshot {
                credentials_outdated: true,
                ..snapshot()
            },
            check: |p| {
                assert_eq!(applied_secrets(p), vec!["db-credentials".to_string()]);
                let secret = p.writes.iter().find_map(|w| match w {
                    Write::ApplySecret(s) => Some(s),
                    _ => None,
                });
                let data = secret.unwrap().data.as_ref().unwrap();
                assert!(data.contains_key("client.cnf"));
                assert_eq!(data["password"].0, PASSWORD.as_bytes());
            },
        },
        Case {
            name: "password change: start writes the pending Secret and the Job",
            instance: settled(instance()),
            snapshot: changed(),
            check: |p| {
                assert_eq!(applied_secrets(p), vec!["db-credentials-next".to_string()]);
                let jobs = created_jobs(p);
                assert_eq!(jobs.len(), 1);
                assert_eq!(
                    jobs[0]
                        .annotations()
                        .get(PASSWORD_FINGERPRINT_ANNOTATION)
                        .unwrap(),
                    &password_fingerprint("new-secret")
                );
                assert_eq!(phase(p), Some(Phase::Updating));
                assert!(events(p).contains(&EventReason::PasswordChangeStarted));
            },
        },
        Case {
            name: "password change: running waits on the Job",
            instance: settled(instance()),
            snapshot: Snapshot {
                password_job: Some(password_job(Outcome::Running, "new-secret")),
                ..changed()
            },
            check: |p| {
                assert!(created_jobs(p).is_empty());
                assert!(applied_secrets(p).is_empty());
                assert_eq!(
                    reason(p, ConditionType::PasswordSynced),
                    Some((ConditionStatus::Unknown, Reason::Changing))
                );
            },
        },
        Case {
            name: "password change: failed keeps the old password and warns",
            instance: settled(instance()),
            snapshot: Snapshot {
                password_job: Some(password_job(Outcome::Failed, "new-secret")),
                ..changed()
            },
            check: |p| {
                assert_eq!(finishes_password(p), None);
                assert!(events(p).contains(&EventReason::PasswordChangeFailed));
                assert_eq!(phase(p), Some(Phase::Ready));
            },
        },
        Case {
            name: "password change: success swaps the Secrets",
            instance: with_conditions(
                instance(),
                &[(ConditionType::PasswordSynced, Reason::Changing)],
            ),
            snapshot: Snapshot {
                password_job: Some(password_job(Outcome::Succeeded, "new-secret")),
                ..changed()
            },
            check: |p| {
                assert_eq!(finishes_password(p).as_deref(), Some("new-secret"));
                assert!(events(p).contains(&EventReason::PasswordChanged));
            },
        },
        Case {
            name: "password change: a spec reverted mid-change removes the pending Secret",
            instance: with_conditions(
                instance(),
                &[(ConditionType::PasswordSynced, Reason::Changing)],
            ),
            snapshot: Snapshot {
                pending_credentials: Read::Done(Some(Password("new-secret".into()))),
                ..snapshot()
            },
            check: |p| {
                assert_eq!(
                    deletes(p),
                    vec![(Kind::Secret, "db-credentials-next".into())]
                );
                assert_eq!(
                    reason(p, ConditionType::PasswordSynced),
                    Some((ConditionStatus::True, Reason::Synced))
                );
            },
        },
        Case {
            name: "password change: a stale finished Job is replaced first",
            instance: settled(instance()),
            snapshot: Snapshot {
                password_job: Some(password_job(Outcome::Succeeded, "older-secret")),
                ..changed()
            },
            check: |p| {
                assert_eq!(deletes(p), vec![(Kind::Job, "passwd-db-job".into())]);
                assert!(created_jobs(p).is_empty());
                assert!(is_wait(p));
            },
        },
        Case {
            name: "password change: a stale running Job is never raced",
            instance: settled(instance()),
            snapshot: Snapshot {
                password_job: Some(password_job(Outcome::Running, "older-secret")),
                ..changed()
            },
            check: |p| {
                assert!(deletes(p).is_empty());
                assert!(created_jobs(p).is_empty());
                assert_eq!(phase(p), Some(Phase::Updating));
            },
        },
        Case {
            name: "password: a missing referenced Secret with no server yet blocks, saying why",
            instance: {
                let mut i = instance();
                i.spec.password = None;
                i.spec.password_secret_ref = Some(SecretKeyRef {
                    name: "db-root".into(),
                    key: None,
                });
                i
            },
            snapshot: Snapshot {
                desired_password: Err(PasswordUnreadable::SecretNotFound {
                    secret: "db-root".into(),
                }),
                ..empty_snapshot()
            },
            check: |p| {
                assert!(matches!(p.next, Next::Blocked(_)));
                assert!(p.writes.is_empty());
                assert!(events(p).contains(&EventReason::SecretNotFound));
            },
        },
    ]
}

fn volume_cases() -> Vec<Case> {
    vec![
        Case {
            name: "volumes: the course's claim bound to its own PV is adopted, our PV dropped",
            instance: instance(),
            snapshot: Snapshot {
                volumes: LiveVolumes {
                    data_pv: None,
                    data_pvc: Some(claim("db-pvc", "1Gi", "mysql-instance-pv")),
                    ..snapshot().volumes
                },
                ..snapshot()
            },
            check: |p| {
                let volumes: Vec<_> = p
                    .writes
                    .iter()
                    .filter_map(|w| match w {
                        Write::ApplyVolume(pv, _) => Some(pv.name_any()),
                        _ => None,
                    })
                    .collect();
                assert_eq!(volumes, vec!["backup-ns-db-pv".to_string()]);
                let claim = p.writes.iter().find_map(|w| match w {
                    Write::ApplyClaim(c, _) if c.name_any() == "db-pvc" => Some(c),
                    _ => None,
                });
                let bound = claim.unwrap().spec.as_ref().unwrap().volume_name.clone();
                assert_eq!(bound.as_deref(), Some("mysql-instance-pv"));
            },
        },
        Case {
            name: "volumes: a hostPath claim cannot grow; it keeps its size and says why",
            instance: {
                let mut i = instance();
                i.spec.storage_size = "2Gi".into();
                i
            },
            snapshot: snapshot(),
            check: |p| {
                let claim = p.writes.iter().find_map(|w| match w {
                    Write::ApplyClaim(c, _) if c.name_any() == "db-pvc" => Some(c),
                    _ => None,
                });
                let requests = claim
                    .unwrap()
                    .spec
                    .as_ref()
                    .unwrap()
                    .resources
                    .as_ref()
                    .unwrap();
                assert_eq!(requests.requests.as_ref().unwrap()["storage"].0, "1Gi");
                assert_eq!(
                    reason(p, ConditionType::StorageResized),
                    Some((ConditionStatus::False, Reason::CannotResize))
                );
                assert!(events(p).contains(&EventReason::CannotResize));
            },
        },
        Case {
            name: "volumes: a Released PV of ours is freed and applied again",
            instance: instance(),
            snapshot: Snapshot {
                volumes: LiveVolumes {
                    backup_pv: Some(released("backup-ns-db-pv", Some("dead-uid"))),
                    ..snapshot().volumes
                },
                ..snapshot()
            },
            check: |p| {
                assert_eq!(
                    frees(p),
                    [&ReleasedVolume {
                        name: "backup-ns-db-pv".into(),
                        claim: ("ns".into(), names().backup_pvc()),
                        dead_claim_uid: "dead-uid".into(),
                    }]
                );
                assert!(p.writes.iter().any(|w| matches!(
                    w,
                    Write::ApplyVolume(pv, None) if pv.name_any() == "backup-ns-db-pv"
                )));
            },
        },
        Case {
            name: "volumes: an earlier incarnation's data claim is waited for, never adopted",
            instance: instance(),
            snapshot: Snapshot {
                volumes: LiveVolumes {
                    data_pv: None,
                    data_pvc: Some({
                        let mut earlier = claim(&names().data_pvc(), "1Gi", "ns-db-older-pv");
                        let mut owner = owner();
                        owner.uid = "older-uid".into();
                        earlier.metadata.owner_references = Some(vec![owner]);
                        earlier
                    }),
                    ..snapshot().volumes
                },
                // The earlier incarnation's server, still available until the garbage
                // collector gets to it: not this one's, so not Ready.
                deployment: snapshot().deployment.map(|mut earlier| {
                    earlier.metadata.owner_references.as_mut().unwrap()[0].uid = "older-uid".into();
                    earlier
                }),
                ..snapshot()
            },
            check: |p| {
                assert!(is_wait(p));
                assert!(
                    !p.writes
                        .iter()
                        .any(|w| matches!(w, Write::ApplyClaim(..) | Write::ApplyDeployment(..)))
                );
                assert_eq!(phase(p), Some(Phase::Pending));
                let message = p.status.as_ref().unwrap().message.as_deref().unwrap();
                assert!(message.contains("garbage collector"), "{message}");
            },
        },
        Case {
            name: "volumes: a PV of ours still being deleted is waited for, and the status says so",
            instance: instance(),
            snapshot: Snapshot {
                volumes: LiveVolumes {
                    backup_pv: Some({
                        let mut pv = volume("backup-ns-db-pv", "Bound");
                        pv.metadata.deletion_timestamp = Some(Time(at(CREATED)));
                        pv
                    }),
                    ..snapshot().volumes
                },
                // A new incarnation: the earlier one's server is gone.
                deployment: None,
                ..snapshot()
            },
            check: |p| {
                assert!(is_wait(p));
                assert!(
                    !p.writes
                        .iter()
                        .any(|w| matches!(w, Write::ApplyDeployment(..)))
                );
                // Said, not silent: the status names what the instance waits for.
                assert_eq!(phase(p), Some(Phase::Pending));
                let message = p.status.as_ref().unwrap().message.as_deref().unwrap();
                assert!(message.contains("backup-ns-db-pv"), "{message}");
            },
        },
        Case {
            name: "children: a Deployment of our name we do not own is replaced",
            instance: instance(),
            snapshot: Snapshot {
                deployment: Some(Deployment {
                    metadata: meta("db"),
                    ..Default::default()
                }),
                ..snapshot()
            },
            check: |p| {
                assert_eq!(deletes(p), vec![(Kind::Deployment, "db".into())]);
                assert!(is_wait(p));
            },
        },
        Case {
            name: "spec: two password sources are refused until the spec changes",
            instance: {
                let mut i = instance();
                i.spec.password_secret_ref = Some(SecretKeyRef {
                    name: "x".into(),
                    key: None,
                });
                i
            },
            snapshot: snapshot(),
            check: |p| {
                assert!(matches!(p.next, Next::AwaitChange(_)));
                assert!(p.writes.is_empty());
                assert_eq!(phase(p), Some(Phase::Failed));
                assert!(events(p).contains(&EventReason::InvalidSpec));
            },
        },
        Case {
            name: "nodes: new hostPath volumes are pinned together to a node that takes pods",
            instance: instance(),
            snapshot: Snapshot {
                nodes: Read::Done(nodes_with_one_good()),
                ..empty_snapshot()
            },
            check: |p| {
                let good = Some("good".to_string());
                assert_eq!(
                    pinned_volumes(p),
                    vec![
                        ("ns-db-uid1-pv".to_string(), good.clone()),
                        ("backup-ns-db-pv".to_string(), good.clone())
                    ]
                );
                assert_eq!(p.status.as_ref().unwrap().node, good);
            },
        },
        Case {
            name: "nodes: a new hostPath volume goes only where the server's pod may run (tolerated taint, selector)",
            instance: {
                let mut i = instance();
                i.spec.node_selector = Some(BTreeMap::from([(
                    plan::NODE_LABEL.to_string(),
                    "tainted".to_string(),
                )]));
                i.spec.tolerations = Some(vec![k8s_openapi::api::core::v1::Toleration {
                    key: Some("node-role.kubernetes.io/control-plane".into()),
                    operator: Some("Exists".into()),
                    ..Default::default()
                }]);
                i
            },
            snapshot: Snapshot {
                nodes: Read::Done(nodes_with_one_good()),
                ..empty_snapshot()
            },
            check: |p| {
                let tainted = Some("tainted".to_string());
                assert_eq!(
                    pinned_volumes(p),
                    vec![
                        ("ns-db-uid1-pv".to_string(), tainted.clone()),
                        ("backup-ns-db-pv".to_string(), tainted.clone())
                    ]
                );
            },
        },
        Case {
            name: "nodes: a re-created instance's data volume follows its backup volume",
            instance: instance(),
            snapshot: Snapshot {
                nodes: Read::Done(nodes_with_one_good()),
                volumes: LiveVolumes {
                    backup_pv: Some({
                        let mut pv = volume("backup-ns-db-pv", "Bound");
                        pv.spec = Some(Default::default());
                        pin_for_test(&mut pv, "tainted");
                        pv
                    }),
                    ..LiveVolumes::default()
                },
                ..empty_snapshot()
            },
            check: |p| {
                let tainted = Some("tainted".to_string());
                assert_eq!(
                    pinned_volumes(p),
                    vec![
                        ("ns-db-uid1-pv".to_string(), tainted.clone()),
                        ("backup-ns-db-pv".to_string(), tainted)
                    ]
                );
            },
        },
        Case {
            name: "nodes: a volume made before pinning keeps having none (the field is fixed)",
            instance: instance(),
            snapshot: snapshot(),
            check: |p| {
                assert!(pinned_volumes(p).iter().all(|(_, node)| node.is_none()));
            },
        },
        Case {
            name: "paused: nothing is written but the status, which says Paused",
            instance: annotated(
                {
                    let mut i = instance();
                    i.spec.image = "mysql:9.0".into();
                    i
                },
                crate::api::keys::PAUSED_ANNOTATION,
                "true",
            ),
            snapshot: Snapshot {
                password_job: None,
                ..snapshot()
            },
            check: |p| {
                assert!(p.writes.is_empty(), "{:?}", p.writes.len());
                assert_eq!(phase(p), Some(Phase::Paused));
                assert_eq!(events(p), vec![EventReason::Paused]);
                assert_eq!(p.finalizer, FinalizerChange::Keep);
            },
        },
        Case {
            name: "finalizer: an instance seen for the first time gets it",
            instance: {
                let mut i = instance();
                i.metadata.finalizers = None;
                i
            },
            snapshot: snapshot(),
            check: |p| assert_eq!(p.finalizer, FinalizerChange::Add),
        },
    ]
}

// ---- point-in-time recovery ----

/// An instance whose backups go to a bucket, with point-in-time recovery on.
fn pitr_instance() -> MySQL {
    let mut instance = settled(instance());
    instance.spec.backup = Some(
        serde_json::from_value(serde_json::json!({
            "storage": {"s3": {"bucket": "dumps", "credentialsSecret": {"name": "keys"}}},
            "pointInTime": {"enabled": true, "interval": "60s"}
        }))
        .unwrap(),
    );
    instance
}

/// A backup in the bucket that recorded its position in file 1 of this incarnation.
fn positioned(name: &str, completed: &str) -> MySQLBackup {
    let mut record = backup(name, "db", BackupPhase::Succeeded, completed);
    let status = record.status.as_mut().unwrap();
    status.bucket = Some("dumps".into());
    status.key = Some(format!("ns/db/{name}.sql.gz"));
    status.binlog_position = Some(crate::binlog::DumpPosition {
        timeline: crate::names::incarnation(UID),
        position: crate::dialect::BinlogPosition {
            file: "mysql-bin.000001".into(),
            position: 385,
            gtid_set: Some("0-1-4".into()),
        },
    });
    record
}

/// Archived file `n` of this incarnation, holding events from `first` to `last`.
fn archived(n: u64, first: &str, last: &str) -> crate::binlog::Segment {
    crate::binlog::Segment {
        key: format!("ns/db/binlog/{n}"),
        timeline: crate::names::incarnation(UID),
        file: format!("mysql-bin.{n:06}"),
        sequence: n,
        first: at(first),
        last: at(last),
    }
}

fn status_window(plan: &Plan) -> (Option<String>, Option<String>) {
    let status = plan.status.as_ref().expect("a status write");
    (
        status.recoverable_from.clone(),
        status.recoverable_until.clone(),
    )
}

fn point_in_time_cases() -> Vec<Case> {
    let base = positioned("db-1", "2026-11-24T11:00:00Z");
    let chain = vec![
        archived(1, "2026-11-24T10:59:00Z", "2026-11-24T11:30:00Z"),
        archived(2, "2026-11-24T11:30:00Z", "2026-11-24T11:59:30Z"),
    ];
    vec![
        Case {
            name: "point in time: archiving but no positioned backup says so, and looks again within the interval",
            instance: pitr_instance(),
            snapshot: Snapshot {
                binlog_segments: Read::Done(Ok(chain.clone())),
                ..snapshot()
            },
            check: |p| {
                assert_eq!(
                    reason(p, ConditionType::Recoverable),
                    Some((ConditionStatus::False, Reason::NoBaseBackup))
                );
                assert_eq!(status_window(p), (None, None));
                let look = p.wake_at.expect("a look again");
                assert!(
                    look <= at(NOW) + jiff::SignedDuration::from_secs(60),
                    "{look}"
                );
            },
        },
        Case {
            name: "point in time: a positioned backup and its chain give the window",
            instance: pitr_instance(),
            snapshot: Snapshot {
                backups: vec![base.clone()],
                binlog_segments: Read::Done(Ok(chain.clone())),
                ..snapshot()
            },
            check: |p| {
                assert_eq!(
                    reason(p, ConditionType::Recoverable),
                    Some((ConditionStatus::True, Reason::Archiving))
                );
                assert_eq!(
                    status_window(p),
                    (
                        Some("2026-11-24T11:00:00Z".into()),
                        Some("2026-11-24T11:59:29Z".into())
                    )
                );
                assert!(events(p).contains(&EventReason::Recoverable));
            },
        },
        Case {
            name: "point in time: a missing file ends the window there, with a Warning",
            instance: pitr_instance(),
            snapshot: Snapshot {
                backups: vec![base.clone()],
                binlog_segments: Read::Done(Ok(vec![
                    chain[0].clone(),
                    archived(3, "2026-11-24T11:45:00Z", "2026-11-24T11:59:30Z"),
                ])),
                ..snapshot()
            },
            check: |p| {
                assert_eq!(
                    reason(p, ConditionType::Recoverable),
                    Some((ConditionStatus::False, Reason::BinlogGap))
                );
                assert_eq!(status_window(p).1, Some("2026-11-24T11:29:59Z".into()));
                assert!(events(p).contains(&EventReason::BinlogGap));
            },
        },
        Case {
            name: "point in time: an archive far behind its interval is a Warning",
            instance: pitr_instance(),
            snapshot: Snapshot {
                backups: vec![base.clone()],
                binlog_segments: Read::Done(Ok(vec![chain[0].clone()])),
                ..snapshot()
            },
            check: |p| {
                assert_eq!(
                    reason(p, ConditionType::Recoverable),
                    Some((ConditionStatus::False, Reason::ArchivingBehind))
                );
                assert!(events(p).contains(&EventReason::ArchivingBehind));
            },
        },
        Case {
            name: "point in time: an unlistable bucket is unknown, not an empty archive",
            instance: pitr_instance(),
            snapshot: Snapshot {
                backups: vec![base.clone()],
                binlog_segments: Read::Done(Err(ListingFailed {
                    message: "cannot reach the endpoint".into(),
                    retry: true,
                })),
                ..snapshot()
            },
            check: |p| {
                assert_eq!(
                    reason(p, ConditionType::Recoverable),
                    Some((ConditionStatus::Unknown, Reason::BucketNotListed))
                );
            },
        },
        Case {
            name: "point in time: off, no condition and no window",
            instance: {
                let mut i = pitr_instance();
                i.spec.backup.as_mut().unwrap().point_in_time = None;
                i.status.as_mut().unwrap().recoverable_from = Some("2026-11-24T11:00:00Z".into());
                i
            },
            snapshot: Snapshot {
                backups: vec![base.clone()],
                ..snapshot()
            },
            check: |p| {
                assert_eq!(reason(p, ConditionType::Recoverable), None);
                assert_eq!(status_window(p), (None, None));
                assert_eq!(p.wake_at, None);
            },
        },
        Case {
            name: "point in time: logs before the oldest dump's position are pruned from the bucket",
            instance: pitr_instance(),
            snapshot: {
                let mut later = positioned("db-2", "2026-11-24T11:45:00Z");
                later
                    .status
                    .as_mut()
                    .unwrap()
                    .binlog_position
                    .as_mut()
                    .unwrap()
                    .position
                    .file = "mysql-bin.000002".into();
                Snapshot {
                    backups: vec![later],
                    binlog_segments: Read::Done(Ok(chain.clone())),
                    ..snapshot()
                }
            },
            check: |p| {
                let pruned: Vec<&Vec<String>> = p
                    .writes
                    .iter()
                    .filter_map(|w| match w {
                        Write::PruneArchivedLogs { keys, .. } => Some(keys),
                        _ => None,
                    })
                    .collect();
                assert_eq!(pruned, vec![&vec!["ns/db/binlog/1".to_string()]]);
                assert!(events(p).contains(&EventReason::BinlogsPruned));
            },
        },
        Case {
            name: "point in time: a request to a time replays the binary logs after the dump",
            instance: annotated(
                pitr_instance(),
                RESTORE_REQUEST_ANNOTATION,
                "db-1@42@2026-11-24T11:40:00Z",
            ),
            snapshot: Snapshot {
                backups: vec![base.clone()],
                restore_source: Read::Done(Some(base.clone())),
                binlog_segments: Read::Done(Ok(chain.clone())),
                ..snapshot()
            },
            check: |p| {
                let jobs = created_jobs(p);
                assert_eq!(jobs.len(), 1);
                let pod = pod_spec(jobs[0]);
                let fetch = &pod.init_containers.as_ref().unwrap()[1];
                assert_eq!(fetch.name, "fetch-binlogs");
                let args = fetch.command.as_ref().unwrap();
                for wanted in [
                    "--instance-prefix=ns/db/",
                    "--timeline=uid1",
                    "--from-file=mysql-bin.000001",
                    "--until=2026-11-24T11:40:00Z",
                ] {
                    assert!(args.iter().any(|a| a == wanted), "{wanted} in {args:?}");
                }
                let restore = pod.containers.iter().find(|c| c.name == "restore").unwrap();
                let script = &restore.command.as_ref().unwrap()[2];
                assert!(script.contains("--start-position=385"), "{script}");
                assert!(
                    script.contains("--stop-datetime=\"2026-11-24 11:40:01\""),
                    "{script}"
                );
                assert!(script.contains("--skip-gtids"), "mysql:8.4: {script}");
            },
        },
        Case {
            name: "point in time: a backup without a position cannot take a request to a time",
            instance: annotated(
                pitr_instance(),
                RESTORE_REQUEST_ANNOTATION,
                "db-0@42@2026-11-24T11:40:00Z",
            ),
            snapshot: {
                let mut unpositioned = positioned("db-0", "2026-11-24T10:30:00Z");
                unpositioned.status.as_mut().unwrap().binlog_position = None;
                Snapshot {
                    backups: vec![unpositioned.clone()],
                    restore_source: Read::Done(Some(unpositioned)),
                    ..snapshot()
                }
            },
            check: |p| {
                assert!(created_jobs(p).is_empty());
                assert_eq!(
                    reason(p, ConditionType::Restored),
                    Some((ConditionStatus::False, Reason::RestoreFailed))
                );
            },
        },
    ]
}

#[test]
fn plan_table() {
    let cases: Vec<Case> = [
        point_in_time_cases(),
        restore_cases(),
        discovery_cases(),
        password_cases(),
        volume_cases(),
    ]
    .into_iter()
    .flatten()
    .collect();
    assert!(cases.len() >= 25, "{} cases", cases.len());
    for case in cases {
        let plan = plan_for(&case.instance, &case.snapshot);
        let outcome = std::panic::catch_unwind(|| (case.check)(&plan));
        assert!(outcome.is_ok(), "case failed: {}", case.name);
    }
}

/// A first start that is simply not ready yet is no warning: only what a person should
/// act on is.
#[test]
fn a_first_start_publishes_no_warning() {
    let first = plan_for(&instance(), &empty_snapshot());
    assert!(
        first
            .events
            .iter()
            .all(|e| e.type_ == kube::runtime::events::EventType::Normal),
        "{:?}",
        events(&first)
    );
}

#[test]
fn a_settled_instance_plans_no_status_write_and_no_events() {
    let first = plan_for(&settled(instance()), &snapshot());
    let mut again = settled(instance());
    again.status = first.status.clone();
    let second = plan_for(&again, &snapshot());
    assert!(
        second.status.is_none(),
        "a resync must not write the status"
    );
    assert!(second.events.is_empty());
    assert_eq!(second.next, Next::Settled);
}

// ---- deletion ----

struct DeletionCase {
    name: &'static str,
    instance: MySQL,
    snapshot: DeletionSnapshot,
    check: fn(&Plan),
}

fn deleting(instance: MySQL) -> MySQL {
    let mut i = instance;
    i.metadata.deletion_timestamp = Some(Time(at(NOW)));
    i
}

fn deletion_cases() -> Vec<DeletionCase> {
    vec![
        DeletionCase {
            name: "on delete: no backup yet records one, with this incarnation's uid",
            instance: deleting(instance()),
            snapshot: deletion_snapshot(),
            check: |p| {
                let record = p.writes.iter().find_map(|w| match w {
                    Write::CreateBackupRecord(r) => Some(r),
                    _ => None,
                });
                let record = record.expect("a backup record");
                assert_eq!(record.spec.cause, BackupCause::OnDelete);
                assert_eq!(record.name_any(), "db-20261124-120000");
                assert_eq!(
                    record
                        .annotations()
                        .get(INSTANCE_UID_ANNOTATION)
                        .map(String::as_str),
                    Some(UID)
                );
                assert_eq!(events(p), vec![EventReason::BackupStarted]);
                assert_eq!(phase(p), Some(Phase::Deleting));
                assert_eq!(p.finalizer, FinalizerChange::Keep);
                assert!(is_wait(p));
            },
        },
        DeletionCase {
            name: "paused: a deletion starts no backup and keeps the finalizer",
            instance: deleting(annotated(
                instance(),
                crate::api::keys::PAUSED_ANNOTATION,
                "true",
            )),
            snapshot: deletion_snapshot(),
            check: |p| {
                assert!(p.writes.is_empty());
                assert_eq!(p.finalizer, FinalizerChange::Keep);
                assert_eq!(phase(p), Some(Phase::Paused));
            },
        },
        DeletionCase {
            name: "on delete: a running backup is waited for",
            instance: deleting(instance()),
            snapshot: DeletionSnapshot {
                final_backup: Some(final_backup(Some(BackupPhase::Running))),
                ..deletion_snapshot()
            },
            check: |p| {
                assert!(p.writes.is_empty());
                assert!(is_wait(p));
                assert_eq!(p.finalizer, FinalizerChange::Keep);
            },
        },
        DeletionCase {
            name: "on delete: a failed backup stops the deletion and says what to do",
            instance: deleting(instance()),
            snapshot: DeletionSnapshot {
                final_backup: Some(final_backup(Some(BackupPhase::Failed))),
                ..deletion_snapshot()
            },
            check: |p| {
                assert!(
                    matches!(&p.next, Next::Blocked(m) if m.as_str().contains(SKIP_BACKUP_ANNOTATION))
                );
                assert_eq!(events(p), vec![EventReason::BackupFailed]);
                assert_eq!(p.finalizer, FinalizerChange::Keep);
                assert!(p.writes.is_empty(), "nothing is deleted");
            },
        },
        DeletionCase {
            name: "on delete: success removes our PV and releases the finalizer",
            instance: deleting(instance()),
            snapshot: DeletionSnapshot {
                final_backup: Some(final_backup(Some(BackupPhase::Succeeded))),
                ..deletion_snapshot()
            },
            check: |p| {
                // The server, its claim and its volume go now, in the order that
                // holds each: not when the garbage collector gets to them.
                assert_eq!(
                    deletes(p),
                    vec![
                        (Kind::Deployment, "db".into()),
                        (Kind::PersistentVolumeClaim, "db-pvc".into()),
                        (Kind::PersistentVolume, "ns-db-uid1-pv".into())
                    ]
                );
                assert_eq!(p.finalizer, FinalizerChange::Remove);
                assert_eq!(events(p), vec![EventReason::BackupSucceeded]);
            },
        },
        DeletionCase {
            name: "on delete: a server and claim of another owner (the course's) are left alone",
            instance: deleting(instance()),
            snapshot: DeletionSnapshot {
                final_backup: Some(final_backup(Some(BackupPhase::Succeeded))),
                own_server: false,
                own_data_claim: false,
                data_pv: None,
                ..deletion_snapshot()
            },
            check: |p| {
                assert_eq!(deletes(p), vec![]);
                assert_eq!(p.finalizer, FinalizerChange::Remove);
            },
        },
        DeletionCase {
            name: "on delete: a failed final backup deletes nothing",
            instance: deleting(instance()),
            snapshot: DeletionSnapshot {
                final_backup: Some(final_backup(Some(BackupPhase::Failed))),
                ..deletion_snapshot()
            },
            check: |p| {
                assert_eq!(deletes(p), vec![], "the data stays while its backup failed");
                assert_eq!(p.finalizer, FinalizerChange::Keep);
            },
        },
        DeletionCase {
            name: "on delete: the skip annotation deletes without a backup",
            instance: deleting(annotated(instance(), SKIP_BACKUP_ANNOTATION, "true")),
            snapshot: deletion_snapshot(),
            check: |p| {
                assert!(
                    !p.writes
                        .iter()
                        .any(|w| matches!(w, Write::CreateBackupRecord(_)))
                );
                assert_eq!(p.finalizer, FinalizerChange::Remove);
            },
        },
        DeletionCase {
            name: "namespace deleted: no backup can start; the instance goes, saying so",
            instance: deleting(instance()),
            snapshot: DeletionSnapshot {
                namespace_terminating: true,
                ..deletion_snapshot()
            },
            check: |p| {
                assert!(
                    !p.writes
                        .iter()
                        .any(|w| matches!(w, Write::CreateBackupRecord(_)))
                );
                assert_eq!(p.finalizer, FinalizerChange::Remove);
                assert_eq!(events(p), vec![EventReason::BackupSkipped]);
                assert!(p.events[0].message.contains("backup-db-pvc"));
            },
        },
        DeletionCase {
            name: "namespace deleted while the final backup runs: never hangs the namespace",
            instance: deleting(instance()),
            snapshot: DeletionSnapshot {
                namespace_terminating: true,
                final_backup: Some(final_backup(Some(BackupPhase::Running))),
                ..deletion_snapshot()
            },
            check: |p| assert_eq!(p.finalizer, FinalizerChange::Remove),
        },
        DeletionCase {
            name: "namespace deleted after the final backup succeeded: the normal goodbye",
            instance: deleting(instance()),
            snapshot: DeletionSnapshot {
                namespace_terminating: true,
                final_backup: Some(final_backup(Some(BackupPhase::Succeeded))),
                ..deletion_snapshot()
            },
            check: |p| {
                assert_eq!(events(p), vec![EventReason::BackupSucceeded]);
                assert_eq!(p.finalizer, FinalizerChange::Remove);
            },
        },
        DeletionCase {
            name: "on delete: a password change in flight is waited for before the backup",
            instance: deleting(instance()),
            snapshot: DeletionSnapshot {
                password_job: Some(password_job(Outcome::Running, "new-secret")),
                pending_credentials: Some(Password("new-secret".into())),
                ..deletion_snapshot()
            },
            check: |p| {
                assert!(p.writes.is_empty());
                assert!(is_wait(p));
            },
        },
        DeletionCase {
            name: "on delete: a password change that succeeded is finished, then the backup",
            instance: deleting(instance()),
            snapshot: DeletionSnapshot {
                password_job: Some(password_job(Outcome::Succeeded, "new-secret")),
                pending_credentials: Some(Password("new-secret".into())),
                ..deletion_snapshot()
            },
            check: |p| {
                assert!(matches!(p.writes[0], Write::FinishPasswordChange(_)));
                assert!(matches!(p.writes[1], Write::CreateBackupRecord(_)));
            },
        },
        DeletionCase {
            name: "on delete: a failed password change leaves the live password for the backup",
            instance: deleting(instance()),
            snapshot: DeletionSnapshot {
                password_job: Some(password_job(Outcome::Failed, "new-secret")),
                pending_credentials: Some(Password("new-secret".into())),
                ..deletion_snapshot()
            },
            check: |p| {
                assert_eq!(finishes_password(p), None);
                assert!(matches!(p.writes[0], Write::CreateBackupRecord(_)));
            },
        },
    ]
}

#[test]
fn deletion_table() {
    for case in deletion_cases() {
        let plan = plan::deletion(&case.instance, &case.snapshot, at(NOW));
        let outcome = std::panic::catch_unwind(|| (case.check)(&plan));
        assert!(outcome.is_ok(), "case failed: {}", case.name);
    }
}

#[test]
fn a_failed_final_backup_warns_once() {
    let snapshot = DeletionSnapshot {
        final_backup: Some(final_backup(Some(BackupPhase::Failed))),
        ..deletion_snapshot()
    };
    let first = plan::deletion(&deleting(instance()), &snapshot, at(NOW));
    let mut again = deleting(instance());
    again.status = first.status.clone();
    let second = plan::deletion(&again, &snapshot, at(NOW));
    assert!(second.events.is_empty(), "{:?}", events(&second));
    assert!(second.status.is_none());
}

// ---- replicas ----

pub(super) mod members {
    use super::*;
    use crate::api::MemberRole;
    use crate::api::keys::{INSTANCE_LABEL, ROLE_LABEL};
    use crate::dialect::replication::{MemberState, ReplicaState};

    pub(super) fn replicated(n: i32) -> MySQL {
        let mut instance = settled(instance());
        instance.spec.replicas = Some(n);
        instance
    }

    pub(super) fn primary_state(read_only: bool, semi_sync: bool) -> MemberState {
        MemberState {
            read_only,
            executed: "0-1-40".into(),
            logged_nothing: false,
            network_root_bypasses_read_only: false,
            semi_sync_source: Some(semi_sync),
            semi_sync_source_enabled: semi_sync,
            semi_sync_clients: 0,
            replica: None,
            server_id: "1".into(),
            binlog_state: "0-1-40".into(),
            slave_pos: String::new(),
        }
    }

    pub(super) fn replica_state(io: bool, sql: bool) -> MemberState {
        MemberState {
            read_only: true,
            executed: "0-1-40".into(),
            logged_nothing: false,
            network_root_bypasses_read_only: false,
            semi_sync_source_enabled: false,
            semi_sync_source: Some(false),
            semi_sync_clients: 0,
            replica: Some(ReplicaState {
                source_host: "db-member-0.ns.svc".into(),
                io_running: io,
                sql_running: sql,
                seconds_behind: Some(0),
                last_error: None,
                received: "0-1-40".into(),
                ..ReplicaState::default()
            }),
            server_id: "2".into(),
            binlog_state: "0-1-40".into(),
            slave_pos: "0-1-40".into(),
        }
    }

    pub(super) fn fresh_state() -> MemberState {
        MemberState {
            read_only: true,
            logged_nothing: true,
            ..MemberState::default()
        }
    }

    pub(super) fn pod(index: u32, role: Option<&str>, state: MemberState) -> (u32, MemberPod) {
        (
            index,
            MemberPod {
                name: format!("db-member-{index}-pod"),
                ready: true,
                role_label: role.map(str::to_string),
                node: None,
                state: Ok(state),
            },
        )
    }

    /// A replicated instance's world with the replication Secret and these pods.
    pub(super) fn running(pods: impl IntoIterator<Item = (u32, MemberPod)>) -> Snapshot {
        with_members(Members {
            replication_secret: true,
            pods: pods.into_iter().collect(),
            ..Members::default()
        })
    }

    /// `running(pods)` with member 1's seed Job in `outcome`.
    fn seeding(outcome: Outcome, pods: impl IntoIterator<Item = (u32, MemberPod)>) -> Snapshot {
        let mut snapshot = running(pods);
        if let Read::Done(members) = &mut snapshot.members {
            members
                .seed_jobs
                .insert(1, job("seed-db-member-1-job", outcome, &[]));
        }
        snapshot
    }

    pub(super) fn with_members(members: Members) -> Snapshot {
        Snapshot {
            members: Read::Done(members),
            ..snapshot()
        }
    }

    fn member_claim(index: u32, uid: &str) -> PersistentVolumeClaim {
        let mut claim = claim(&names().member_pvc(index), "1Gi", "");
        claim.metadata.uid = Some(uid.into());
        claim
    }

    pub(super) fn sql_runs(plan: &Plan) -> Vec<(String, String)> {
        plan.writes
            .iter()
            .filter_map(|w| match w {
                Write::Member(MemberWrite::RunSql { pod, sql }) => Some((pod.clone(), sql.clone())),
                _ => None,
            })
            .collect()
    }

    pub(super) fn labels(plan: &Plan) -> Vec<(String, Option<String>)> {
        plan.writes
            .iter()
            .filter_map(|w| match w {
                Write::Member(MemberWrite::LabelRole { pod, role }) => {
                    Some((pod.clone(), role.clone()))
                }
                _ => None,
            })
            .collect()
    }

    fn applied_names(plan: &Plan) -> Vec<String> {
        plan.writes
            .iter()
            .filter_map(|w| match w {
                Write::ApplyDeployment(d, _) => Some(format!("Deployment/{}", d.name_any())),
                Write::ApplyClaim(c, _) => Some(format!("Claim/{}", c.name_any())),
                Write::ApplyVolume(v, _) => Some(format!("Volume/{}", v.name_any())),
                Write::ApplyService(s, _) => Some(format!("Service/{}", s.name_any())),
                _ => None,
            })
            .collect()
    }

    fn service_selector(plan: &Plan, name: &str) -> BTreeMap<String, String> {
        plan.writes
            .iter()
            .find_map(|w| match w {
                Write::ApplyService(s, _) if s.name_any() == name => {
                    s.spec.as_ref()?.selector.clone()
                }
                _ => None,
            })
            .unwrap_or_default()
    }

    #[test]
    fn one_server_has_no_member_objects_and_the_courses_selector() {
        let plan = plan_for(&settled(instance()), &snapshot());
        let names = applied_names(&plan);
        assert!(
            !names
                .iter()
                .any(|n| n.contains("member") || n.contains("replicas")),
            "{names:?}"
        );
        assert_eq!(
            service_selector(&plan, "db"),
            BTreeMap::from([("app".to_string(), "db".to_string())])
        );
        assert!(plan.status.as_ref().is_none_or(|s| s.members.is_empty()));
    }

    #[test]
    fn three_members_get_claims_servers_and_addresses() {
        let plan = plan_for(&replicated(3), &with_members(Members::default()));
        let names = applied_names(&plan);
        for wanted in [
            "Claim/db-member-1-pvc",
            "Claim/db-member-2-pvc",
            "Deployment/db-member-1",
            "Deployment/db-member-2",
            "Service/db-member-0",
            "Service/db-member-1",
            "Service/db-member-2",
            "Service/db-replicas",
        ] {
            assert!(names.contains(&wanted.to_string()), "{wanted} in {names:?}");
        }
        // No claim yet, so no volume: the volume is named by the claim's uid.
        assert!(
            !names
                .iter()
                .any(|n| n.starts_with("Volume/") && n.contains("member"))
        );
        assert!(plan.writes.iter().any(
            |w| matches!(w, Write::Member(MemberWrite::CreateReplicationSecret { name, .. }) if name == "db-replication")
        ));
        assert_eq!(
            service_selector(&plan, "db"),
            BTreeMap::from([
                (INSTANCE_LABEL.to_string(), "db".to_string()),
                (ROLE_LABEL.to_string(), "primary".to_string()),
            ])
        );
        let status = plan.status.expect("a status");
        assert_eq!(status.primary.as_deref(), Some("db"));
        assert_eq!(status.members.len(), 3);
        assert!(status.members.iter().all(|m| m.role == MemberRole::Unknown));
        assert!(plan.wake_at.is_some(), "members are asked again");
    }

    #[test]
    fn a_members_server_has_its_own_id_and_starts_read_only() {
        let plan = plan_for(&replicated(2), &with_members(Members::default()));
        let args = |name: &str| -> Vec<String> {
            plan.writes
                .iter()
                .find_map(|w| match w {
                    Write::ApplyDeployment(d, _) if d.name_any() == name => {
                        d.spec.as_ref()?.template.spec.as_ref()?.containers[0]
                            .args
                            .clone()
                    }
                    _ => None,
                })
                .unwrap()
        };
        assert!(args("db-member-1").contains(&"--server-id=2".to_string()));
        assert!(args("db").contains(&"--server-id=1".to_string()));
        assert!(
            args("db-member-1").contains(&"--read-only=ON".to_string())
                || args("db-member-1").contains(&"--super-read-only=ON".to_string())
        );
    }

    #[test]
    fn a_members_volume_is_made_for_its_claim_on_member_0s_node() {
        let mut snapshot = with_members(Members {
            replication_secret: true,
            claims: BTreeMap::from([(1, member_claim(1, "abcdef12-0000"))]),
            ..Members::default()
        });
        let mut pinned = volume(&names().data_pv_of(UID), "Bound");
        pinned.spec = Some(k8s_openapi::api::core::v1::PersistentVolumeSpec {
            node_affinity: Some(k8s_openapi::api::core::v1::VolumeNodeAffinity {
                required: Some(k8s_openapi::api::core::v1::NodeSelector {
                    node_selector_terms: vec![k8s_openapi::api::core::v1::NodeSelectorTerm {
                        match_expressions: Some(vec![
                            k8s_openapi::api::core::v1::NodeSelectorRequirement {
                                key: plan::NODE_LABEL.into(),
                                operator: "In".into(),
                                values: Some(vec!["node-a".into()]),
                            },
                        ]),
                        match_fields: None,
                    }],
                }),
            }),
            ..Default::default()
        });
        snapshot.volumes.data_pv = Some(pinned);
        let plan = plan_for(&replicated(2), &snapshot);
        let member_volumes = pinned_volumes(&plan)
            .into_iter()
            .filter(|(name, _)| name.contains("member"))
            .collect::<Vec<_>>();
        assert_eq!(
            member_volumes,
            vec![(
                "ns-db-member-1-abcdef12-pv".to_string(),
                Some("node-a".to_string())
            )]
        );
        // With nodes to spare, a new member's volume goes to one no member's volume is on.
        let mut spread = snapshot.clone();
        if let Read::Done(m) = &mut spread.members {
            m.nodes = ["node-c", "node-a", "node-b"]
                .iter()
                .map(|n| node(n, true, NodeSpec::default()))
                .collect();
        }
        let plan = plan_for(&replicated(2), &spread);
        assert!(
            pinned_volumes(&plan).contains(&(
                "ns-db-member-1-abcdef12-pv".to_string(),
                Some("node-b".to_string())
            )),
            "{:?}",
            pinned_volumes(&plan)
        );
        // Two new volumes in one plan go to two nodes.
        let mut two = spread.clone();
        if let Read::Done(m) = &mut two.members {
            m.claims.insert(2, member_claim(2, "99887766"));
        }
        let plan = plan_for(&replicated(3), &two);
        let placed: Vec<_> = pinned_volumes(&plan)
            .into_iter()
            .filter(|(name, _)| name.contains("member"))
            .collect();
        assert_eq!(
            placed,
            vec![
                (
                    "ns-db-member-1-abcdef12-pv".to_string(),
                    Some("node-b".to_string())
                ),
                (
                    "ns-db-member-2-99887766-pv".to_string(),
                    Some("node-c".to_string())
                ),
            ]
        );
        // Once it exists, it keeps its own node (the field is immutable), whatever
        // member 0's is.
        let mut existing = snapshot.clone();
        let mut live = volume("ns-db-member-1-abcdef12-pv", "Bound");
        let node_b = serde_json::to_string(&snapshot.volumes.data_pv.as_ref().unwrap().spec)
            .unwrap()
            .replace("node-a", "node-b");
        live.spec = serde_json::from_str(&node_b).unwrap();
        if let Read::Done(m) = &mut existing.members {
            m.volumes.insert(1, live);
        }
        existing.volumes.data_pv = None;
        let again = plan_for(&replicated(2), &existing);
        assert!(
            pinned_volumes(&again).contains(&(
                "ns-db-member-1-abcdef12-pv".to_string(),
                Some("node-b".to_string())
            )),
            "{:?}",
            pinned_volumes(&again)
        );
        assert!(!plan.writes.iter().any(|w| matches!(
            w,
            Write::Member(MemberWrite::CreateReplicationSecret { .. })
        )));
    }

    #[test]
    fn the_primary_is_made_writable_before_any_replica_streams_and_labelled_after() {
        let snapshot = running([pod(0, None, primary_state(true, false))]);
        let plan = plan_for(&replicated(3), &snapshot);
        assert_eq!(
            sql_runs(&plan),
            vec![(
                "db-member-0-pod".to_string(),
                "SET GLOBAL super_read_only = OFF;\nSET GLOBAL read_only = OFF;\n".to_string()
            )]
        );
        assert!(
            labels(&plan).is_empty(),
            "NAME selects only a writable primary"
        );
    }

    #[test]
    fn semi_sync_comes_on_once_a_replica_streams() {
        let snapshot = running([
            pod(0, None, primary_state(false, false)),
            pod(1, None, replica_state(true, true)),
        ]);
        let plan = plan_for(&replicated(2), &snapshot);
        assert_eq!(
            sql_runs(&plan),
            vec![(
                "db-member-0-pod".to_string(),
                "SET GLOBAL rpl_semi_sync_source_enabled = ON;\n".to_string()
            )]
        );
        assert_eq!(
            labels(&plan),
            vec![
                ("db-member-0-pod".to_string(), Some("primary".to_string())),
                ("db-member-1-pod".to_string(), Some("replica".to_string())),
            ]
        );
        let status = plan.status.unwrap();
        let replicating = status
            .conditions
            .iter()
            .find(|c| c.is(ConditionType::Replicating))
            .unwrap();
        assert_eq!(replicating.reason(), Some(Reason::AllReplicasStreaming));
    }

    #[test]
    fn a_settled_pair_writes_nothing_but_looks_again() {
        let snapshot = running([
            pod(0, Some("primary"), primary_state(false, true)),
            pod(1, Some("replica"), replica_state(true, true)),
        ]);
        let plan = plan_for(&replicated(2), &snapshot);
        assert!(sql_runs(&plan).is_empty());
        assert!(labels(&plan).is_empty());
        assert!(created_jobs(&plan).is_empty());
        assert!(plan.wake_at.is_some());
    }

    #[test]
    fn a_fresh_member_is_seeded_from_the_primary() {
        let snapshot = running([
            pod(0, Some("primary"), primary_state(false, false)),
            pod(1, None, fresh_state()),
        ]);
        let plan = plan_for(&replicated(2), &snapshot);
        let jobs = created_jobs(&plan);
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].name_any(), "seed-db-member-1-job");
        let script = serde_json::to_string(jobs[0]).unwrap();
        assert!(
            script.contains("db-member-0.ns.svc"),
            "the source is the primary's own address"
        );
        assert!(script.contains("db-member-1.ns.svc"));
        assert!(script.contains("--set-gtid-purged=ON"), "mysql:8.4's seed");
        assert!(script.contains("SOURCE_AUTO_POSITION = 1"));
        assert!(!script.contains(PASSWORD), "no password in the Job");
        let shell = pod_spec(jobs[0]).containers[0]
            .command
            .as_ref()
            .unwrap()
            .last()
            .unwrap()
            .clone();
        assert!(
            !shell.contains("\\n"),
            "a literal \\n reaches the client as a command: {shell}"
        );
        let lines: Vec<&str> = shell.lines().map(str::trim).collect();
        let flush = lines
            .iter()
            .position(|l| *l == "FLUSH PRIVILEGES;")
            .unwrap();
        assert_eq!(
            lines[flush - 1],
            "SET SESSION sql_log_bin = 0;",
            "the member's own binary log stays empty: {shell}"
        );
        assert!(
            plan.events
                .iter()
                .any(|e| e.reason == EventReason::MemberSeeding)
        );
        let member = &plan.status.unwrap().members[1];
        assert_eq!(member.role, MemberRole::Seeding);
    }

    #[test]
    fn a_member_with_data_of_its_own_is_never_seeded_over() {
        let mut written = fresh_state();
        written.executed = "0-2-5".into();
        written.logged_nothing = false;
        let snapshot = running([
            pod(0, Some("primary"), primary_state(false, false)),
            pod(1, None, written),
        ]);
        let plan = plan_for(&replicated(2), &snapshot);
        assert!(created_jobs(&plan).is_empty());
        assert_eq!(plan.status.unwrap().members[1].role, MemberRole::Unknown);
    }

    #[test]
    fn a_failed_seed_is_tried_again_and_a_finished_one_goes() {
        let failed = seeding(
            Outcome::Failed,
            [
                pod(0, Some("primary"), primary_state(false, false)),
                pod(1, None, fresh_state()),
            ],
        );
        let plan = plan_for(&replicated(2), &failed);
        assert!(deletes(&plan).contains(&(Kind::Job, "seed-db-member-1-job".into())));
        assert!(
            plan.events
                .iter()
                .any(|e| e.reason == EventReason::MemberSeedFailed)
        );
        let done = seeding(
            Outcome::Succeeded,
            [
                pod(0, Some("primary"), primary_state(false, true)),
                pod(1, Some("replica"), replica_state(true, true)),
            ],
        );
        let plan = plan_for(&replicated(2), &done);
        assert!(deletes(&plan).contains(&(Kind::Job, "seed-db-member-1-job".into())));
        let running = seeding(
            Outcome::Running,
            [
                pod(0, Some("primary"), primary_state(false, false)),
                pod(1, None, fresh_state()),
            ],
        );
        let plan = plan_for(&replicated(2), &running);
        assert!(created_jobs(&plan).is_empty(), "one seed at a time");
        assert!(deletes(&plan).is_empty());
    }

    #[test]
    fn a_replica_whose_thread_stopped_leaves_the_replicas_service() {
        let snapshot = running([
            pod(0, Some("primary"), primary_state(false, true)),
            pod(1, Some("replica"), replica_state(false, true)),
        ]);
        let plan = plan_for(&replicated(2), &snapshot);
        assert_eq!(labels(&plan), vec![("db-member-1-pod".to_string(), None)]);
        let status = plan.status.unwrap();
        let replicating = status
            .conditions
            .iter()
            .find(|c| c.is(ConditionType::Replicating))
            .unwrap();
        assert_eq!(replicating.reason(), Some(Reason::ReplicasNotStreaming));
        assert_eq!(status.members[1].replicating, Some(false));
    }

    #[test]
    fn a_primary_that_replicates_is_never_made_writable() {
        let mut state = replica_state(true, true);
        state.read_only = true;
        let snapshot = running([pod(0, None, state)]);
        let plan = plan_for(&replicated(2), &snapshot);
        assert!(sql_runs(&plan).is_empty());
    }

    #[test]
    fn scaling_down_removes_the_last_replicas_only() {
        let existing = |indexes: &[u32]| Members {
            replication_secret: true,
            deployments: indexes
                .iter()
                .map(|&i| {
                    (
                        i,
                        Deployment {
                            metadata: owned(&names().member_deployment(i)),
                            ..Default::default()
                        },
                    )
                })
                .collect(),
            claims: indexes
                .iter()
                .map(|&i| (i, member_claim(i, "abcdef12")))
                .collect(),
            volumes: indexes
                .iter()
                .map(|&i| (i, volume(&names().member_pv(i, "abcdef12"), "Bound")))
                .collect(),
            ..Members::default()
        };
        let plan = plan_for(&replicated(2), &with_members(existing(&[1, 2])));
        let gone = deletes(&plan);
        assert!(gone.contains(&(Kind::Deployment, "db-member-2".into())));
        assert!(gone.contains(&(Kind::PersistentVolumeClaim, "db-member-2-pvc".into())));
        assert!(gone.contains(&(Kind::PersistentVolume, "ns-db-member-2-abcdef12-pv".into())));
        assert!(gone.contains(&(Kind::Service, "db-member-2".into())));
        assert!(
            !gone
                .iter()
                .any(|(_, n)| n.contains("member-1") || n == "db"),
            "{gone:?}"
        );

        let mut back_to_one = settled(instance());
        back_to_one.status.as_mut().unwrap().members = vec![crate::api::MemberStatus {
            name: "db".into(),
            role: MemberRole::Primary,
            ready: true,
            node: None,
            gtid: None,
            replicating: None,
            lag_seconds: None,
            message: None,
        }];
        let mut members = existing(&[1, 2]);
        members.pods = BTreeMap::from([pod(0, Some("primary"), primary_state(false, true))]);
        let plan = plan_for(&back_to_one, &with_members(members));
        let gone = deletes(&plan);
        for name in ["db-member-1", "db-member-2", "db-member-0", "db-replicas"] {
            assert!(gone.iter().any(|(_, n)| n == name), "{name} in {gone:?}");
        }
        assert!(
            !gone
                .iter()
                .any(|(k, n)| n == "db" || *k == Kind::PersistentVolumeClaim && n == "db-pvc")
        );
        assert!(plan.status.unwrap().members.is_empty());
    }

    fn switching(n: i32, to: u32, primary: Option<&str>) -> MySQL {
        let mut instance = annotated(
            replicated(n),
            crate::api::keys::SWITCHOVER_ANNOTATION,
            &format!("{to}@1"),
        );
        instance.status.as_mut().unwrap().primary = primary.map(str::to_string);
        instance
    }

    pub(super) fn writes_named(plan: &Plan) -> Vec<String> {
        plan.writes
            .iter()
            .filter_map(|w| match w {
                Write::Member(MemberWrite::Fence { pod, .. }) => Some(format!("fence {pod}")),
                Write::Member(MemberWrite::Promote { pod, written, .. }) => {
                    Some(format!("promote {pod} after {written}"))
                }
                Write::Member(MemberWrite::Repoint { pod, .. }) => Some(format!("repoint {pod}")),
                Write::Member(MemberWrite::RunSql { pod, sql }) => {
                    Some(format!("run {pod}: {}", sql.trim()))
                }
                _ => None,
            })
            .collect()
    }

    fn switchover_of(plan: &Plan) -> crate::api::SwitchoverStatus {
        plan.status.as_ref().unwrap().switchover.clone().unwrap()
    }

    fn steady_pair() -> BTreeMap<u32, MemberPod> {
        BTreeMap::from([
            pod(0, Some("primary"), primary_state(false, true)),
            pod(1, Some("replica"), replica_state(true, true)),
            pod(2, Some("replica"), replica_state(true, true)),
        ])
    }

    #[test]
    fn a_switchover_first_fences_the_primary() {
        let snapshot = with_members(Members {
            replication_secret: true,
            pods: steady_pair(),
            ..Members::default()
        });
        let plan = plan_for(&switching(3, 1, None), &snapshot);
        assert_eq!(
            writes_named(&plan),
            vec!["fence db-member-0-pod".to_string()]
        );
        assert!(
            labels(&plan).contains(&("db-member-0-pod".to_string(), None)),
            "out of NAME"
        );
        assert_eq!(
            switchover_of(&plan).outcome,
            crate::api::SwitchoverOutcome::Running
        );
        assert!(
            plan.events
                .iter()
                .any(|e| e.reason == EventReason::SwitchoverStarted)
        );
        assert_eq!(
            plan.wake_at,
            Some(at(NOW) + jiff::SignedDuration::from_secs(1)),
            "a switchover under way is looked at again at once"
        );
    }

    #[test]
    fn a_fenced_primary_hands_over_once_the_target_has_caught_up() {
        let mut pods = steady_pair();
        pods.insert(0, pod(0, None, primary_state(true, true)).1);
        let snapshot = running(pods);
        let plan = plan_for(&switching(3, 1, None), &snapshot);
        assert_eq!(
            writes_named(&plan),
            vec!["promote db-member-1-pod after 0-1-40".to_string()],
            "never made writable again while the switchover runs"
        );
        assert_eq!(
            labels(&plan),
            vec![("db-member-1-pod".to_string(), Some("primary".to_string()))],
            "NAME follows the promotion in the same apply"
        );
    }

    #[test]
    fn once_the_target_takes_writes_it_is_the_primary_and_the_rest_follow_it() {
        let mut promoted = primary_state(false, true);
        promoted.executed = "0-1-40".into();
        let snapshot = running([
            pod(0, None, primary_state(true, true)),
            pod(1, Some("replica"), promoted),
            pod(2, Some("replica"), replica_state(true, true)),
        ]);
        let plan = plan_for(&switching(3, 1, None), &snapshot);
        let status = plan.status.clone().unwrap();
        assert_eq!(status.primary.as_deref(), Some("db-member-1"));
        assert_eq!(
            switchover_of(&plan).outcome,
            crate::api::SwitchoverOutcome::Succeeded
        );
        let writes = writes_named(&plan);
        assert!(
            writes.contains(&"repoint db-member-0-pod".to_string()),
            "{writes:?}"
        );
        assert!(
            writes.contains(&"repoint db-member-2-pod".to_string()),
            "{writes:?}"
        );
        assert!(
            !writes.iter().any(|w| w.contains("db-member-1-pod")),
            "{writes:?}"
        );
        assert!(
            labels(&plan).contains(&("db-member-1-pod".to_string(), Some("primary".to_string())))
        );
        assert!(
            plan.events
                .iter()
                .any(|e| e.reason == EventReason::PrimaryChanged)
        );
        let seeds = created_jobs(&plan);
        assert!(seeds.is_empty());
    }

    #[test]
    fn a_switchover_to_a_lagging_or_broken_replica_is_refused_before_anything_changes() {
        let mut lagging = replica_state(true, true);
        lagging.replica.as_mut().unwrap().seconds_behind = Some(600);
        for (state, why) in [
            (lagging, "behind"),
            (replica_state(false, true), "not a replica that streams"),
        ] {
            let mut pods = steady_pair();
            pods.insert(1, pod(1, None, state).1);
            let snapshot = running(pods);
            let plan = plan_for(&switching(3, 1, None), &snapshot);
            let switchover = switchover_of(&plan);
            assert_eq!(switchover.outcome, crate::api::SwitchoverOutcome::Refused);
            assert!(
                switchover.message.as_deref().unwrap().contains(why),
                "{switchover:?}"
            );
            assert!(!writes_named(&plan).iter().any(|w| w.starts_with("fence")));
        }
    }

    #[test]
    fn a_fenced_primary_whose_target_broke_takes_writes_again() {
        let mut pods = steady_pair();
        pods.insert(0, pod(0, None, primary_state(true, true)).1);
        pods.insert(1, pod(1, None, replica_state(false, false)).1);
        let snapshot = running(pods);
        let plan = plan_for(&switching(3, 1, None), &snapshot);
        assert_eq!(
            switchover_of(&plan).outcome,
            crate::api::SwitchoverOutcome::Refused
        );
        assert!(
            writes_named(&plan)
                .contains(&"run db-member-0-pod: SET GLOBAL super_read_only = OFF;\nSET GLOBAL read_only = OFF;".to_string())
        );
    }

    #[test]
    fn a_second_writable_member_is_fenced_at_once() {
        let mut pods = steady_pair();
        pods.insert(2, pod(2, None, primary_state(false, false)).1);
        let snapshot = running(pods);
        let plan = plan_for(&replicated(3), &snapshot);
        assert!(writes_named(&plan).contains(&"fence db-member-2-pod".to_string()));
        assert_eq!(plan.status.unwrap().primary.as_deref(), Some("db"));
    }

    #[test]
    fn the_primary_is_never_scaled_away() {
        let mut instance = replicated(2);
        instance.status.as_mut().unwrap().primary = Some("db-member-2".into());
        let snapshot = with_members(Members {
            replication_secret: true,
            deployments: BTreeMap::from([(
                2,
                Deployment {
                    metadata: owned("db-member-2"),
                    ..Default::default()
                },
            )]),
            pods: BTreeMap::from([
                pod(0, Some("replica"), replica_state(true, true)),
                pod(2, Some("primary"), primary_state(false, true)),
            ]),
            ..Members::default()
        });
        let plan = plan_for(&instance, &snapshot);
        assert!(
            !deletes(&plan).iter().any(|(_, n)| n.contains("member-2")),
            "{:?}",
            deletes(&plan)
        );
        assert!(
            plan.events
                .iter()
                .any(|e| e.reason == EventReason::ScaleDownWaits)
        );
    }

    #[test]
    fn a_member_that_is_no_primary_stops_being_a_semi_sync_source() {
        let mut old_primary = replica_state(true, true);
        old_primary.semi_sync_source_enabled = true;
        let snapshot = running([
            pod(0, Some("primary"), primary_state(false, true)),
            pod(1, Some("replica"), old_primary),
        ]);
        let plan = plan_for(&replicated(2), &snapshot);
        assert_eq!(
            writes_named(&plan),
            vec!["run db-member-1-pod: SET GLOBAL rpl_semi_sync_source_enabled = OFF;".to_string()]
        );
    }

    #[test]
    fn a_primary_that_fell_back_to_asynchronous_says_so_with_a_warning() {
        let condition_of = |plan: &Plan| {
            plan.status
                .as_ref()
                .unwrap()
                .conditions
                .iter()
                .find(|c| c.is(ConditionType::SemiSyncActive))
                .and_then(|c| c.reason())
        };
        let mut fell_back = primary_state(false, true);
        fell_back.semi_sync_source = Some(false);
        let snapshot = running([
            pod(0, Some("primary"), fell_back),
            pod(1, Some("replica"), replica_state(true, true)),
        ]);
        let plan = plan_for(&replicated(2), &snapshot);
        assert_eq!(condition_of(&plan), Some(Reason::FellBackToAsync));
        assert!(
            plan.events
                .iter()
                .any(|e| e.reason == EventReason::SemiSyncFellBack
                    && e.type_ == kube::runtime::events::EventType::Warning)
        );
        let mut on = primary_state(false, true);
        on.semi_sync_clients = 1;
        let snapshot = running([
            pod(0, Some("primary"), on),
            pod(1, Some("replica"), replica_state(true, true)),
        ]);
        assert_eq!(
            condition_of(&plan_for(&replicated(2), &snapshot)),
            Some(Reason::SemiSyncOn)
        );
    }

    #[test]
    fn status_says_when_members_share_a_node_or_a_seed_failed() {
        let on = |index, node: &str, state| {
            let (index, mut pod) = pod(index, Some("replica"), state);
            pod.node = Some(node.to_string());
            (index, pod)
        };
        let snapshot = seeding(
            Outcome::Failed,
            [
                on(0, "node-a", primary_state(false, true)),
                on(1, "node-b", fresh_state()),
                on(2, "node-a", replica_state(true, true)),
            ],
        );
        let members = plan_for(&replicated(3), &snapshot).status.unwrap().members;
        let message = |i: usize| members[i].message.clone().unwrap_or_default();
        assert!(
            message(0).contains("shares node node-a with db-member-2"),
            "{}",
            message(0)
        );
        assert!(
            message(2).contains("shares node node-a with db"),
            "{}",
            message(2)
        );
        assert!(message(1).starts_with("seeding failed: "), "{}", message(1));
    }
}

#[path = "tests_failover.rs"]
mod failover;

#[path = "tests_physical.rs"]
mod physical;

// ---- TLS ----

fn with_tls(secret_name: Option<&str>) -> MySQL {
    let mut i = settled(instance());
    i.spec.tls = Some(crate::api::TlsSpec {
        secret_name: secret_name.map(str::to_string),
        require_secure_transport: None,
    });
    i
}

fn issues(plan: &Plan) -> bool {
    plan.writes
        .iter()
        .any(|w| matches!(w, Write::IssueCertificate { .. }))
}

fn applies_server(plan: &Plan) -> bool {
    plan.writes
        .iter()
        .any(|w| matches!(w, Write::ApplyDeployment(..)))
}

#[test]
fn tls_issues_the_certificate_first_and_the_server_waits_for_it() {
    let first = plan_for(&with_tls(None), &snapshot());
    assert!(issues(&first));
    assert!(
        !applies_server(&first),
        "the server would mount a missing Secret"
    );
    assert!(matches!(first.next, Next::Wait(_)));

    let hosts = crate::tls::server_names(&names(), 1);
    let fresh = |not_after: &str| super::snapshot::SecretMeta {
        version: "7".into(),
        annotations: BTreeMap::from([
            (
                crate::api::keys::CERTIFICATE_NAMES_ANNOTATION.to_string(),
                crate::tls::names_fingerprint(&hosts),
            ),
            (
                crate::api::keys::CERTIFICATE_NOT_AFTER_ANNOTATION.to_string(),
                not_after.to_string(),
            ),
        ]),
    };
    let issued = Snapshot {
        tls_certificate: Some(fresh("2099-01-01T00:00:00Z")),
        ..snapshot()
    };
    let settled_plan = plan_for(&with_tls(None), &issued);
    assert!(!issues(&settled_plan));
    assert!(applies_server(&settled_plan));
    // Near its end: issued again, the server keeps running meanwhile.
    let ending = Snapshot {
        tls_certificate: Some(fresh("2000-01-01T00:00:00Z")),
        ..snapshot()
    };
    let renewing = plan_for(&with_tls(None), &ending);
    assert!(issues(&renewing) && applies_server(&renewing));
}

#[test]
fn a_missing_tls_secret_of_the_users_is_waited_for_and_said() {
    let plan = plan_for(&with_tls(Some("from-cert-manager")), &snapshot());
    assert!(!issues(&plan));
    assert!(!applies_server(&plan));
    let message = plan.status.unwrap().message.unwrap();
    assert!(message.contains("from-cert-manager"), "{message}");
}

// ---- server options from a ConfigMap ----

fn server_args_of(plan: &Plan) -> Vec<String> {
    plan.writes
        .iter()
        .find_map(|w| match w {
            Write::ApplyDeployment(d, _) => Some(d),
            _ => None,
        })
        .and_then(|d| d.spec.as_ref()?.template.spec.as_ref())
        .map(|pod| pod.containers[0].args.clone().unwrap_or_default())
        .unwrap_or_default()
}

#[test]
fn options_from_a_config_map_are_waited_for_merged_and_checked() {
    let mut i = settled(instance());
    i.spec.mysql_config_map_name = Some("tuning".into());
    i.spec.mysql_config = Some(BTreeMap::from([(
        "max_connections".to_string(),
        crate::api::Scalar::from("50"),
    )]));
    let with_data = |data: Option<&[(&str, &str)]>| Snapshot {
        config_map: Some(super::snapshot::ReferencedConfigMap {
            name: "tuning".into(),
            data: data.map(|pairs| {
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            }),
        }),
        ..snapshot()
    };

    let missing = plan_for(&i, &with_data(None));
    assert!(!applies_server(&missing));
    assert!(matches!(missing.next, Next::Wait(_)));
    let message = missing.status.unwrap().message.unwrap();
    assert!(message.contains("ConfigMap tuning"), "{message}");

    let found = plan_for(
        &i,
        &with_data(Some(&[("wait_timeout", "600"), ("max-connections", "300")])),
    );
    let args = server_args_of(&found);
    assert!(args.contains(&"--wait_timeout=600".to_string()), "{args:?}");
    assert!(
        args.contains(&"--max_connections=50".to_string()),
        "the spec's own wins"
    );
    assert!(!args.iter().any(|a| a.contains("=300")), "{args:?}");

    // An option the operator owns: said like an invalid spec, nothing applied.
    let locked = plan_for(&i, &with_data(Some(&[("server_id", "7")])));
    assert!(!applies_server(&locked));
    let message = locked.status.unwrap().message.unwrap();
    assert!(
        message.contains(
            "ConfigMap tuning (spec.mysqlConfigMapName) key server_id is set by the operator"
        ),
        "{message}"
    );
}

// ---- a backup volume provisioned by the StorageClass ----

fn with_class() -> MySQL {
    let mut i = settled(instance());
    i.spec.storage_class_name = Some("local-path".into());
    i
}

/// A settled instance with a StorageClass, its backup claim bound to `pvc-7`, which
/// the class provisioned with `policy`.
fn provisioned(policy: &str, labelled: bool) -> Snapshot {
    let n = names();
    let mut s = snapshot();
    s.volumes.data_pv = None;
    s.volumes.backup_pv = None;
    let mut claim = claim(&n.backup_pvc(), "1Gi", "pvc-7");
    claim.spec.as_mut().unwrap().storage_class_name = Some("local-path".into());
    s.volumes.backup_pvc = Some(claim);
    let mut pv = volume("pvc-7", "Bound");
    pv.spec = Some(k8s_openapi::api::core::v1::PersistentVolumeSpec {
        persistent_volume_reclaim_policy: Some(policy.into()),
        storage_class_name: Some("local-path".into()),
        ..Default::default()
    });
    if labelled {
        pv.metadata.labels = Some(crate::api::keys::operator_labels("db"));
    }
    s.volumes.provisioned_backup_pv = Some(pv);
    s
}

fn keeps(plan: &Plan) -> Vec<&str> {
    plan.writes
        .iter()
        .filter_map(|w| match w {
            Write::KeepVolume(name) => Some(name.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_provisioned_backup_volume_is_made_retain_once_and_no_host_path_one_is_made() {
    let fresh = plan_for(&with_class(), &provisioned("Delete", false));
    assert_eq!(keeps(&fresh), ["pvc-7"]);
    assert!(
        !fresh
            .writes
            .iter()
            .any(|w| matches!(w, Write::ApplyVolume(..))),
        "no hostPath volume with a StorageClass"
    );
    let kept = plan_for(&with_class(), &provisioned("Retain", true));
    assert!(keeps(&kept).is_empty());
}

#[test]
fn a_new_claim_is_bound_to_the_backup_volume_an_earlier_incarnation_left() {
    let mut s = provisioned("Retain", true);
    s.volumes.backup_pvc = None;
    let pv = s.volumes.provisioned_backup_pv.as_mut().unwrap();
    pv.status.as_mut().unwrap().phase = Some("Released".into());
    pv.spec.as_mut().unwrap().claim_ref =
        released("pvc-7", Some("dead-uid")).spec.unwrap().claim_ref;
    let plan = plan_for(&with_class(), &s);
    assert_eq!(
        frees(&plan)
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>(),
        ["pvc-7"]
    );
    let claim = plan
        .writes
        .iter()
        .find_map(|w| match w {
            Write::ApplyClaim(claim, _) if claim.name_any() == names().backup_pvc() => Some(claim),
            _ => None,
        })
        .unwrap();
    let spec = claim.spec.as_ref().unwrap();
    assert_eq!(spec.volume_name.as_deref(), Some("pvc-7"));
    assert_eq!(spec.storage_class_name.as_deref(), Some("local-path"));
}

/// The volume controller binds a re-created claim by writing its uid first and the
/// phase after: a volume reading Released with the live claim's uid, or with no uid
/// (freed already, not yet bound), is left alone; freeing it again would leave the
/// new claim Lost. Only a uid of a claim that is gone is forgotten.
#[test]
fn a_released_volume_is_freed_only_while_it_names_a_claim_that_is_gone() {
    let with_backup_volume = |pv: PersistentVolume, claim_uid: Option<&str>| {
        let mut s = snapshot();
        s.volumes.backup_pv = Some(pv);
        s.volumes.backup_pvc.as_mut().unwrap().metadata.uid = claim_uid.map(Into::into);
        plan_for(&settled(instance()), &s)
    };
    let bound_to_the_live_claim = with_backup_volume(
        released("backup-ns-db-pv", Some("new-uid")),
        Some("new-uid"),
    );
    assert!(frees(&bound_to_the_live_claim).is_empty());
    let freed_already = with_backup_volume(released("backup-ns-db-pv", None), Some("new-uid"));
    assert!(frees(&freed_already).is_empty());
    let bound_to_a_dead_claim = with_backup_volume(
        released("backup-ns-db-pv", Some("old-uid")),
        Some("new-uid"),
    );
    assert_eq!(
        frees(&bound_to_a_dead_claim)
            .iter()
            .map(|r| r.dead_claim_uid.as_str())
            .collect::<Vec<_>>(),
        ["old-uid"]
    );
    let bound = with_backup_volume(volume("backup-ns-db-pv", "Bound"), Some("new-uid"));
    assert!(frees(&bound).is_empty());
}

// ---- a refused Job pod ----

#[test]
fn a_job_whose_pod_is_refused_is_said_in_the_status_and_an_event_once() {
    let refused = "the API server refuses the pod of Job restore-db-job: pods \"restore-db-job-x\" is forbidden: violates PodSecurity \"restricted:latest\"";
    let s = Snapshot {
        job_without_pods: true,
        job_refused: Some(refused.into()),
        ..snapshot()
    };
    let instance = settled(instance());
    let plan = plan_for(&instance, &s);
    let status = plan.status.clone().unwrap();
    assert_eq!(status.job_refused.as_deref(), Some(refused));
    let said: Vec<_> = plan
        .events
        .iter()
        .filter(|e| e.reason == EventReason::PodRefused)
        .collect();
    assert_eq!(said.len(), 1);
    assert_eq!(said[0].message, refused);
    assert!(plan.wake_at.is_some(), "looked at again in seconds");

    // Said once: the next reconcile with the same refusal adds no Event.
    let mut again = instance.clone();
    again.status = Some(status);
    let plan = plan_for(&again, &s);
    assert!(
        !plan
            .events
            .iter()
            .any(|e| e.reason == EventReason::PodRefused)
    );
    // Gone once the pod is admitted.
    let plan = plan_for(&again, &snapshot());
    assert_eq!(plan.status.unwrap().job_refused, None);
}

//! The operator against the local control plane: each test has its own namespace and
//! its own operator process.

mod common;

use std::time::Duration;

use common::{Operator, cluster, eventually, install_crds, kubectl, namespace, plugin, text};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim, Secret};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use kubectl_mysql::api::keys::INSTANCE_LABEL;
use kubectl_mysql::api::{BackupCause, BackupPhase, ConditionStatus, MySQL, MySQLBackup, Phase};
use kubectl_mysql::names::InstanceNames;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(90);

fn course_cr(name: &str) -> MySQL {
    serde_json::from_value(json!({
        "apiVersion": "otus.homework/v1", "kind": "MySQL", "metadata": {"name": name},
        "spec": {"image": "mysql:8.4", "database": "otus-database", "password": "otuspassword", "storage_size": "1Gi"}
    }))
    .unwrap()
}

fn condition(instance: &MySQL, type_: &str) -> Option<(ConditionStatus, String)> {
    instance
        .status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| (c.status, c.reason.clone()))
}

async fn wait_phase(api: &Api<MySQL>, name: &str, phase: Phase) -> MySQL {
    eventually(WAIT, &format!("{name} to be {phase}"), || async {
        let i = api.get(name).await.ok()?;
        (i.status.as_ref()?.phase == Some(phase)).then_some(i)
    })
    .await
}

/// Creates the course's CR as `name` and waits until it is Ready.
async fn create_ready(api: &Api<MySQL>, name: &str) -> MySQL {
    api.create(&PostParams::default(), &course_cr(name))
        .await
        .unwrap();
    wait_phase(api, name, Phase::Ready).await
}

/// `kubectl mysql backup NAME --wait`, which must succeed.
fn backup_now(ns: &str, name: &str) {
    let backup = plugin()
        .args(["backup", name, "-n", ns, "--wait", "--timeout", "90s"])
        .output()
        .unwrap();
    assert!(backup.status.success(), "{}", text(&backup));
}

async fn wait_job_complete(jobs: &Api<Job>, name: &str) -> Job {
    eventually(WAIT, &format!("Job {name} to complete"), || async {
        let job = jobs.get(name).await.ok()?;
        job.status
            .as_ref()?
            .conditions
            .as_ref()?
            .iter()
            .any(|c| c.type_ == "Complete" && c.status == "True")
            .then_some(job)
    })
    .await
}

async fn wait_gone<K>(api: &Api<K>, name: &str)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    eventually(WAIT, &format!("{name} to be gone"), || async {
        matches!(api.get_opt(name).await, Ok(None)).then_some(())
    })
    .await;
}

/// A client, a fresh namespace with the CRDs installed, and its APIs; None only outside CI
/// without a cluster.
async fn setup(prefix: &str) -> (Client, String, Apis) {
    let client = cluster().await;
    install_crds();
    let ns = namespace(&client, prefix).await;
    let a = apis(&client, &ns);
    (client, ns, a)
}

struct Apis {
    instances: Api<MySQL>,
    backups: Api<MySQLBackup>,
    jobs: Api<Job>,
    secrets: Api<Secret>,
    pvcs: Api<PersistentVolumeClaim>,
    pvs: Api<PersistentVolume>,
}

fn apis(client: &Client, ns: &str) -> Apis {
    Apis {
        instances: Api::namespaced(client.clone(), ns),
        backups: Api::namespaced(client.clone(), ns),
        jobs: Api::namespaced(client.clone(), ns),
        secrets: Api::namespaced(client.clone(), ns),
        pvcs: Api::namespaced(client.clone(), ns),
        pvs: Api::all(client.clone()),
    }
}

async fn jobs_of(a: &Apis, name: &str) -> Vec<String> {
    let mut names: Vec<String> = a
        .jobs
        .list(&ListParams::default().labels(&format!("{INSTANCE_LABEL}={name}")))
        .await
        .unwrap()
        .items
        .iter()
        .map(|j| j.name_any())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn full_lifecycle_survives_operator_restarts_without_duplicate_jobs() {
    let (_, ns, a) = setup("lifecycle").await;
    let names = InstanceNames::new("mysql-instance", ns.clone());
    let mut operator = Operator::start(&[&ns]);

    // create: children, status, Ready.
    a.instances
        .create(&PostParams::default(), &course_cr("mysql-instance"))
        .await
        .unwrap();
    operator.restart();
    let ready = wait_phase(&a.instances, "mysql-instance", Phase::Ready).await;
    assert_eq!(condition(&ready, "Ready").unwrap().0, ConditionStatus::True);
    assert_eq!(condition(&ready, "Restored").unwrap().1, "NoBackup");
    assert_eq!(
        ready.status.as_ref().unwrap().endpoint.as_deref(),
        Some(format!("mysql-instance.{ns}.svc:3306").as_str())
    );
    assert_eq!(
        ready.status.as_ref().unwrap().observed_generation,
        ready.metadata.generation
    );
    assert!(
        jobs_of(&a, "mysql-instance").await.is_empty(),
        "no restore Job without a backup"
    );
    for pvc in [names.data_pvc(), names.backup_pvc()] {
        let claim = a.pvcs.get(&pvc).await.unwrap();
        assert_eq!(
            claim.status.unwrap().phase.as_deref(),
            Some("Bound"),
            "{pvc}"
        );
    }
    let secret = a.secrets.get(&names.credentials_secret()).await.unwrap();
    assert_eq!(secret.data.unwrap()["password"].0, b"otuspassword");
    let rv = a
        .instances
        .get("mysql-instance")
        .await
        .unwrap()
        .resource_version();
    operator.restart();
    // The restarted operator has reconciled the instance (the only one it watches):
    // only now does "it wrote nothing" mean something.
    operator.wait_instance_reconciles(1).await;
    assert_eq!(
        a.instances
            .get("mysql-instance")
            .await
            .unwrap()
            .resource_version(),
        rv,
        "a restart with nothing to do wrote the object"
    );

    // delete: backup Job, record, PV gone, finalizer removed.
    a.instances
        .delete("mysql-instance", &DeleteParams::default())
        .await
        .unwrap();
    operator.restart();
    wait_job_complete(&a.jobs, &names.backup_job()).await;
    operator.restart();
    wait_gone(&a.instances, "mysql-instance").await;
    wait_gone(&a.pvs, &names.data_pv_of(&ready.uid().unwrap())).await;
    let backups = a.backups.list(&ListParams::default()).await.unwrap().items;
    assert_eq!(backups.len(), 1, "exactly one backup record");
    assert_eq!(backups[0].phase(), Some(BackupPhase::Succeeded));
    assert!(
        a.jobs.get_opt(&names.backup_job()).await.unwrap().is_some(),
        "backup Job stays visible"
    );
    assert!(
        a.pvcs.get_opt(&names.backup_pvc()).await.unwrap().is_some(),
        "backup claim outlives the instance"
    );

    // re-create: restore Job, Restored.
    a.instances
        .create(&PostParams::default(), &course_cr("mysql-instance"))
        .await
        .unwrap();
    operator.restart();
    wait_job_complete(&a.jobs, &names.restore_job()).await;
    operator.restart();
    let restored = eventually(WAIT, "Restored=True", || async {
        let i = a.instances.get("mysql-instance").await.ok()?;
        (condition(&i, "Restored")? == (ConditionStatus::True, "Restored".into())).then_some(i)
    })
    .await;
    assert_eq!(
        restored.status.unwrap().restored_from.as_deref(),
        Some(backups[0].name_any().as_str())
    );

    // password change: Job, then the Secret holds the new password.
    let patch = json!({"spec": {"password": "n3w-pa$$"}});
    a.instances
        .patch(
            "mysql-instance",
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
        .unwrap();
    operator.restart();
    wait_job_complete(&a.jobs, &names.password_job()).await;
    eventually(
        WAIT,
        "the credentials Secret to hold the new password",
        || async {
            let s = a.secrets.get(&names.credentials_secret()).await.ok()?;
            (s.data?["password"].0 == b"n3w-pa$$").then_some(())
        },
    )
    .await;
    let synced = eventually(WAIT, "PasswordSynced=True", || async {
        let i = a.instances.get("mysql-instance").await.ok()?;
        (condition(&i, "PasswordSynced")?.0 == ConditionStatus::True
            && i.status.as_ref()?.observed_generation == i.metadata.generation)
            .then_some(i)
    })
    .await;
    assert_eq!(synced.status.unwrap().phase, Some(Phase::Ready));
    assert_eq!(
        jobs_of(&a, "mysql-instance").await,
        vec![
            names.backup_job(),
            names.password_job(),
            names.restore_job()
        ],
        "one Job per step, none duplicated"
    );
    let events = kubectl(&[
        "get",
        "events",
        "-n",
        &ns,
        "--field-selector",
        "involvedObject.kind=MySQL",
        "-o",
        "jsonpath={.items[*].reason}",
    ]);
    let reasons = String::from_utf8_lossy(&events.stdout).to_string();
    for reason in [
        "Ready",
        "BackupStarted",
        "BackupSucceeded",
        "RestoreStarted",
        "Restored",
        "PasswordChanged",
    ] {
        assert!(reasons.contains(reason), "no {reason} Event in {reasons}");
    }
    assert!(!reasons.contains("n3w-pa"), "a password reached an Event");
    let status = plugin()
        .args(["status", "mysql-instance", "-n", &ns, "-o", "json"])
        .output()
        .unwrap();
    assert!(
        !text(&status).contains("n3w-pa$$") && !text(&status).contains("otuspassword"),
        "a password reached status output"
    );
}

#[tokio::test]
async fn same_name_in_two_namespaces_does_not_collide() {
    let client = cluster().await;
    install_crds();
    let ns1 = namespace(&client, "twin-a").await;
    let ns2 = namespace(&client, "twin-b").await;
    let _operator = Operator::start(&[&ns1, &ns2]);
    for ns in [&ns1, &ns2] {
        apis(&client, ns)
            .instances
            .create(&PostParams::default(), &course_cr("db"))
            .await
            .unwrap();
    }
    for ns in [&ns1, &ns2] {
        let ready = wait_phase(&apis(&client, ns).instances, "db", Phase::Ready).await;
        let claim = apis(&client, ns).pvcs.get("db-pvc").await.unwrap();
        assert_eq!(
            claim.spec.unwrap().volume_name,
            Some(InstanceNames::new("db", ns.as_str()).data_pv_of(&ready.uid().unwrap()))
        );
    }
}

/// The seed's state that needed hands: a PV of the instance's name left Released by an
/// earlier claim. The operator frees it and binds again.
#[tokio::test]
async fn released_leftover_volume_recovers_without_a_manual_step() {
    let (_, ns, a) = setup("leftover").await;
    let names = InstanceNames::new("mysql-instance", ns.clone());
    let _operator = Operator::start(&[&ns]);
    create_ready(&a.instances, "mysql-instance").await;
    // Someone deletes the backup claim: its PV goes Released, bound to a dead uid.
    a.pvcs
        .delete(&names.backup_pvc(), &DeleteParams::default())
        .await
        .unwrap();
    eventually(
        WAIT,
        "the backup claim to be re-created and Bound",
        || async {
            let claim = a.pvcs.get(&names.backup_pvc()).await.ok()?;
            let fresh = claim.metadata.deletion_timestamp.is_none();
            (fresh && claim.status?.phase.as_deref() == Some("Bound")).then_some(())
        },
    )
    .await;
    let pv = a.pvs.get(&names.backup_pv()).await.unwrap();
    assert_eq!(pv.status.unwrap().phase.as_deref(), Some("Bound"));
    // And a re-create after deletion never meets "persistentvolumes already exists".
    a.instances
        .delete("mysql-instance", &DeleteParams::default())
        .await
        .unwrap();
    wait_gone(&a.instances, "mysql-instance").await;
    create_ready(&a.instances, "mysql-instance").await;
}

/// A backup Job that always fails (kwok fails pods labelled for it) blocks only its own
/// instance's deletion; another instance is backed up and deleted meanwhile.
#[tokio::test]
async fn a_failing_instance_does_not_delay_the_others() {
    let (_, ns, a) = setup("failing").await;
    let templates = tempfile::tempdir().unwrap();
    let original = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/templates/backup-job.yaml.tera"
    ))
    .unwrap();
    let failing = original.replacen(
        "    spec:\n      restartPolicy: Never",
        "        {% if name is starting_with(\"broken\") %}kubectl-mysql.test/outcome: fail{% endif %}\n    spec:\n      restartPolicy: Never",
        1,
    );
    assert_ne!(failing, original);
    std::fs::write(templates.path().join("backup-job.yaml.tera"), failing).unwrap();
    let _operator =
        Operator::start_with(&["--templates", templates.path().to_str().unwrap()], &[&ns]);
    for name in ["broken-db", "healthy-db"] {
        a.instances
            .create(&PostParams::default(), &course_cr(name))
            .await
            .unwrap();
    }
    for name in ["broken-db", "healthy-db"] {
        wait_phase(&a.instances, name, Phase::Ready).await;
        a.instances
            .delete(name, &DeleteParams::default())
            .await
            .unwrap();
    }
    wait_gone(&a.instances, "healthy-db").await;
    // The final backup failed (its record says so), and the instance says why it
    // stays: Deleting, with a BackupFailed Event.
    eventually(WAIT, "broken-db's final backup to fail", || async {
        let records = a.backups.list(&ListParams::default()).await.ok()?.items;
        records
            .iter()
            .any(|b| b.spec.instance == "broken-db" && b.phase() == Some(BackupPhase::Failed))
            .then_some(())
    })
    .await;
    eventually(WAIT, "broken-db to report its failed backup", || async {
        common::has_event(&ns, "broken-db", "BackupFailed").then_some(())
    })
    .await;
    let stuck = a.instances.get("broken-db").await.unwrap();
    assert_eq!(stuck.status.as_ref().unwrap().phase, Some(Phase::Deleting));
    // The opt-out lets it go without a backup.
    let patch = json!({"metadata": {"annotations": {"mysqls.otus.homework/skip-backup-on-delete": "true"}}});
    a.instances
        .patch("broken-db", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    wait_gone(&a.instances, "broken-db").await;
}

#[tokio::test]
async fn sigterm_stops_the_operator_cleanly() {
    let client = cluster().await;
    install_crds();
    let ns = namespace(&client, "sigterm").await;
    let (health, metrics) = (common::free_port(), common::free_port());
    let health_addr = format!("127.0.0.1:{health}");
    let metrics_addr = format!("127.0.0.1:{metrics}");
    let mut operator = Operator::start_with(
        &[
            "--health-addr",
            &health_addr,
            "--metrics-addr",
            &metrics_addr,
        ],
        &[&ns],
    );
    let get = |addr: String, path: &'static str| async move { common::http_get(&addr, path).await };
    let healthz = eventually(Duration::from_secs(30), "/healthz", || {
        get(health_addr.clone(), "/healthz")
    })
    .await;
    assert!(
        healthz.starts_with("HTTP/1.1 200") && healthz.ends_with("ok\n"),
        "{healthz}"
    );
    let scraped = eventually(Duration::from_secs(30), "/metrics", || {
        get(metrics_addr.clone(), "/metrics")
    })
    .await;
    assert!(
        scraped.contains("kubectl_mysql_reconciles_total"),
        "{scraped}"
    );
    let status = operator.terminate();
    assert!(status.success(), "operator exited with {status}");
}

/// What the course's kopf operator leaves behind (its PV `NAME-pv`, a claim bound to it,
/// a Deployment and Service of the same names, a failed restore Job) is adopted.
#[tokio::test]
async fn objects_left_by_the_course_operator_are_adopted() {
    let (client, ns, a) = setup("adopt").await;
    let course_pv = format!("{ns}-course-pv");
    let leftovers = format!(
        r#"
apiVersion: v1
kind: PersistentVolume
metadata: {{name: {course_pv}}}
spec:
  storageClassName: ""
  capacity: {{storage: 1Gi}}
  accessModes: [ReadWriteOnce]
  hostPath: {{path: /mnt/data}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: mysql-instance-pvc, namespace: {ns}}}
spec:
  storageClassName: ""
  volumeName: {course_pv}
  accessModes: [ReadWriteOnce]
  resources: {{requests: {{storage: 1Gi}}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: mysql-instance, namespace: {ns}}}
spec:
  selector: {{matchLabels: {{app: mysql-instance}}}}
  template:
    metadata: {{labels: {{app: mysql-instance}}}}
    spec:
      containers: [{{name: mysql, image: "mysql:5.7", args: ["--ignore-db-dir=lost+found"]}}]
---
apiVersion: v1
kind: Service
metadata: {{name: mysql-instance, namespace: {ns}}}
spec:
  clusterIP: None
  selector: {{app: mysql-instance}}
  ports: [{{port: 3306}}]
---
apiVersion: batch/v1
kind: Job
metadata: {{name: restore-mysql-instance-job, namespace: {ns}}}
spec:
  backoffLimit: 0
  template:
    metadata: {{labels: {{kubectl-mysql.test/outcome: fail}}}}
    spec:
      restartPolicy: Never
      containers: [{{name: restore, image: "mysql:5.7", command: ["false"]}}]
"#
    );
    let path = std::env::temp_dir().join(format!("{ns}-leftovers.yaml"));
    std::fs::write(&path, leftovers).unwrap();
    let out = kubectl(&["apply", "-f", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    eventually(WAIT, "the course's claim to bind", || async {
        (a.pvcs
            .get("mysql-instance-pvc")
            .await
            .ok()?
            .status?
            .phase
            .as_deref()
            == Some("Bound"))
        .then_some(())
    })
    .await;
    let _operator = Operator::start(&[&ns]);
    create_ready(&a.instances, "mysql-instance").await;
    let claim = a.pvcs.get("mysql-instance-pvc").await.unwrap();
    assert_eq!(
        claim.spec.unwrap().volume_name.as_deref(),
        Some(course_pv.as_str()),
        "the course's data stays attached"
    );
    let deployments: Api<k8s_openapi::api::apps::v1::Deployment> =
        Api::namespaced(client.clone(), &ns);
    let deployment = deployments.get("mysql-instance").await.unwrap();
    let container = &deployment.spec.unwrap().template.spec.unwrap().containers[0];
    assert_eq!(container.image.as_deref(), Some("mysql:8.4"));
    assert!(
        !container
            .args
            .iter()
            .flatten()
            .any(|a| a.contains("ignore-db-dir")),
        "--ignore-db-dir survived: {:?}",
        container.args
    );
    assert!(
        deployment
            .metadata
            .owner_references
            .unwrap()
            .iter()
            .any(|o| o.kind == "MySQL")
    );
    // The course's failed restore Job does not block anything: no backup, no restore.
    let instance = a.instances.get("mysql-instance").await.unwrap();
    assert!(
        a.pvs
            .get_opt(
                &InstanceNames::new("mysql-instance", ns.as_str())
                    .data_pv_of(&instance.uid().unwrap())
            )
            .await
            .unwrap()
            .is_none(),
        "an unused PV was created"
    );
    assert_eq!(condition(&instance, "Restored").unwrap().1, "NoBackup");
    let _ = a.pvs.delete(&course_pv, &DeleteParams::default()).await;
}

/// Other spec changes are never silently ignored: a new image rolls out; a bigger size on
/// a static hostPath volume cannot be applied, and a condition says why.
#[tokio::test]
async fn image_rolls_out_and_an_impossible_resize_is_explained() {
    let (client, ns, a) = setup("spec-change").await;
    let _operator = Operator::start(&[&ns]);
    create_ready(&a.instances, "db").await;
    let patch = json!({"spec": {"image": "mysql:8.4.3", "storage_size": "2Gi"}});
    a.instances
        .patch("db", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let deployments: Api<k8s_openapi::api::apps::v1::Deployment> =
        Api::namespaced(client.clone(), &ns);
    eventually(WAIT, "the new image in the Deployment", || async {
        let d = deployments.get("db").await.ok()?;
        (d.spec?.template.spec?.containers[0].image.as_deref() == Some("mysql:8.4.3")).then_some(())
    })
    .await;
    let instance = eventually(WAIT, "StorageResized=False", || async {
        let i = a.instances.get("db").await.ok()?;
        (condition(&i, "StorageResized")? == (ConditionStatus::False, "CannotResize".into()))
            .then_some(i)
    })
    .await;
    let message = &instance
        .status
        .unwrap()
        .conditions
        .into_iter()
        .find(|c| c.type_ == "StorageResized")
        .unwrap()
        .message;
    assert!(
        message.contains("stays at 1Gi") && message.contains("storageClassName"),
        "{message}"
    );
    let claim = a.pvcs.get("db-pvc").await.unwrap();
    assert_eq!(
        claim.spec.unwrap().resources.unwrap().requests.unwrap()["storage"].0,
        "1Gi"
    );
    assert!(
        common::has_event(&ns, "db", "CannotResize"),
        "no CannotResize Event"
    );
}

/// Skipping unchanged applies must not skip drift: a child edited or deleted by hand is
/// put back.
#[tokio::test]
async fn hand_edits_and_deleted_children_are_put_back() {
    let (client, ns, a) = setup("drift").await;
    let _operator = Operator::start(&[&ns]);
    create_ready(&a.instances, "db").await;
    let deployments: Api<k8s_openapi::api::apps::v1::Deployment> =
        Api::namespaced(client.clone(), &ns);
    let services: Api<k8s_openapi::api::core::v1::Service> = Api::namespaced(client.clone(), &ns);
    let edit = json!({"spec": {"template": {"spec": {"containers": [{"name": "mysql", "image": "mysql:5.7"}]}}}});
    deployments
        .patch("db", &PatchParams::default(), &Patch::Strategic(&edit))
        .await
        .unwrap();
    services
        .delete("db", &DeleteParams::default())
        .await
        .unwrap();
    eventually(WAIT, "the image to be put back", || async {
        let d = deployments.get("db").await.ok()?;
        (d.spec?.template.spec?.containers[0].image.as_deref() == Some("mysql:8.4")).then_some(())
    })
    .await;
    eventually(WAIT, "the Service to be re-created", || async {
        services.get_opt("db").await.ok()?.map(|_| ())
    })
    .await;
}

/// `kubectl delete namespace` with instances in it: no backup can start in a namespace
/// being deleted, so none is attempted; the namespace goes within a minute, even with
/// the operator killed in the middle, and the backup volume (with its dumps) stays.
#[tokio::test]
async fn deleting_the_namespace_never_hangs_and_keeps_the_backup_volume() {
    let (client, ns, a) = setup("ns-delete").await;
    let mut operator = Operator::start(&[&ns]);
    let db = create_ready(&a.instances, "db").await;
    backup_now(&ns, "db");
    create_ready(&a.instances, "fresh").await;
    let names = InstanceNames::new("db", ns.as_str());
    let out = kubectl(&["delete", "namespace", &ns, "--wait=false"]);
    assert!(out.status.success(), "{}", text(&out));
    operator.restart();
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    eventually(
        Duration::from_secs(60),
        "the namespace to be gone",
        || async { matches!(namespaces.get_opt(&ns).await, Ok(None)).then_some(()) },
    )
    .await;
    let kept = a.pvs.get_opt(&names.backup_pv()).await.unwrap();
    assert!(kept.is_some(), "the backup volume went with the namespace");
    let data = a
        .pvs
        .get_opt(&names.data_pv_of(&db.uid().unwrap()))
        .await
        .unwrap();
    assert!(data.is_none(), "our data PV outlived its instance");
    for pv in [
        names.backup_pv(),
        InstanceNames::new("fresh", ns.as_str()).backup_pv(),
    ] {
        let _ = a.pvs.delete(&pv, &DeleteParams::default()).await;
    }
}

/// Registers a simulated node like the one tests/cluster/up starts with. Nodes are
/// never removed: other tests' volumes may be pinned to them.
fn kwok_node(name: &str) {
    let manifest = format!(
        "apiVersion: v1\nkind: Node\nmetadata:\n  name: {name}\n  annotations:\n    kwok.x-k8s.io/node: fake\n    node.alpha.kubernetes.io/ttl: \"0\"\n  labels:\n    kubernetes.io/hostname: {name}\n    kubernetes.io/os: linux\n    kubernetes.io/arch: amd64\n    type: kwok\nstatus:\n  allocatable: {{cpu: \"256\", memory: 1Ti, pods: \"5000\"}}\n  capacity: {{cpu: \"256\", memory: 1Ti, pods: \"5000\"}}\n"
    );
    let out = common::kubectl_with_stdin(&["apply", "-f", "-"], &manifest);
    assert!(out.status.success(), "{}", text(&out));
    let out = kubectl(&[
        "wait",
        "--for=condition=Ready",
        &format!("node/{name}"),
        "--timeout=60s",
    ]);
    assert!(out.status.success(), "{}", text(&out));
}

fn nodes_of_pods(ns: &str, selector: &str) -> Vec<String> {
    let out = kubectl(&[
        "get",
        "pods",
        "-n",
        ns,
        "-l",
        selector,
        "-o",
        "jsonpath={.items[*].spec.nodeName}",
    ]);
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// On three nodes, the hostPath volumes are pinned to one, and the server, a backup
/// Job and a restore Job all run there: each sees the same directories.
#[tokio::test]
async fn host_path_volumes_pin_every_pod_to_one_node() {
    let (_, ns, a) = setup("pinned").await;
    kwok_node("kwok-node-1");
    kwok_node("kwok-node-2");
    let _operator = Operator::start(&[&ns]);
    let ready = create_ready(&a.instances, "db").await;
    let node = ready
        .status
        .clone()
        .unwrap()
        .node
        .expect("status names the node");
    let names = InstanceNames::new("db", ns.as_str());
    for pv in [names.data_pv_of(&ready.uid().unwrap()), names.backup_pv()] {
        let affinity = a.pvs.get(&pv).await.unwrap().spec.unwrap().node_affinity;
        let values = affinity.unwrap().required.unwrap().node_selector_terms[0]
            .match_expressions
            .clone()
            .unwrap()[0]
            .values
            .clone();
        assert_eq!(values, Some(vec![node.clone()]), "{pv}");
    }
    backup_now(&ns, "db");
    let restore = plugin()
        .args(["restore", "db", "-n", &ns, "--yes", "--timeout", "90s"])
        .output()
        .unwrap();
    assert!(restore.status.success(), "{}", text(&restore));
    for selector in [
        "app=db",
        "job-name=backup-db-job",
        "job-name=restore-db-job",
    ] {
        let nodes = nodes_of_pods(&ns, selector);
        assert!(!nodes.is_empty(), "no pod for {selector}");
        assert!(
            nodes.iter().all(|n| *n == node),
            "{selector} ran on {nodes:?}, not {node}"
        );
    }
}

/// A re-created instance whose records are gone scans its backup volume first; an
/// operator killed during the scan converges after its restart, with one scan Job and
/// no restore. The simulated node's Jobs leave no report: a scan without one proves
/// nothing, so the restore fails and says so (never "no backup").
#[tokio::test]
async fn a_scan_interrupted_by_a_restart_converges_with_one_job() {
    let (_, ns, a) = setup("scan").await;
    let mut operator = Operator::start(&[&ns]);
    create_ready(&a.instances, "db").await;
    let skip = json!({"metadata": {"annotations": {"mysqls.otus.homework/skip-backup-on-delete": "true"}}});
    a.instances
        .patch("db", &PatchParams::default(), &Patch::Merge(&skip))
        .await
        .unwrap();
    a.instances
        .delete("db", &DeleteParams::default())
        .await
        .unwrap();
    wait_gone(&a.instances, "db").await;
    // The backup claim and volume outlive the instance; a second later they are older
    // than its next incarnation.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    a.instances
        .create(&PostParams::default(), &course_cr("db"))
        .await
        .unwrap();
    eventually(WAIT, "the scan Job", || async {
        a.jobs.get_opt("scan-db-job").await.ok().flatten()
    })
    .await;
    operator.restart();
    let ready = wait_phase(&a.instances, "db", Phase::Ready).await;
    assert_eq!(
        condition(&ready, "Restored"),
        Some((ConditionStatus::False, "RestoreFailed".into()))
    );
    wait_job_complete(&a.jobs, "scan-db-job").await;
    assert_eq!(jobs_of(&a, "db").await, vec!["scan-db-job".to_string()]);
}

/// The metrics a person scrapes: reconciles and their duration by controller, the
/// operator's requests by verb, backups by outcome, each instance's last successful
/// backup, and leadership; /readyz says this replica leads with its caches filled.
#[tokio::test]
async fn metrics_and_readiness_are_scraped() {
    let (_, ns, a) = setup("metrics").await;
    let addr = format!("127.0.0.1:{}", common::free_port());
    let _operator = Operator::start_with(&["--metrics-addr", &addr], &[&ns]);
    create_ready(&a.instances, "db").await;
    backup_now(&ns, "db");
    let value = |scraped: &str, series: &str| -> Option<f64> {
        scraped.lines().find_map(|l| {
            l.strip_prefix(series)?
                .trim()
                .split(' ')
                .next()?
                .parse()
                .ok()
        })
    };
    let scraped = eventually(WAIT, "the backup in the metrics", || async {
        let scraped = common::http_get(&addr, "/metrics").await?;
        let series = format!(
            "kubectl_mysql_last_successful_backup_timestamp_seconds{{namespace=\"{ns}\",instance=\"db\"}}"
        );
        value(&scraped, &series).is_some().then_some(scraped)
    })
    .await;
    for (series, at_least) in [
        (
            "kubectl_mysql_reconciles_total{controller=\"instance\"}",
            1.0,
        ),
        ("kubectl_mysql_reconciles_total{controller=\"backup\"}", 1.0),
        (
            "kubectl_mysql_reconcile_duration_seconds_count{controller=\"instance\"}",
            1.0,
        ),
        (
            "kubectl_mysql_api_requests_total{verb=\"patch\",resource=\"mysqls/status\"}",
            1.0,
        ),
        (
            "kubectl_mysql_api_requests_total{verb=\"watch\",resource=\"mysqls\"}",
            1.0,
        ),
        ("kubectl_mysql_backups_total{outcome=\"succeeded\"}", 1.0),
        ("kubectl_mysql_leader", 1.0),
    ] {
        let got = value(&scraped, series).unwrap_or_else(|| panic!("no {series} in:\n{scraped}"));
        assert!(got >= at_least, "{series} = {got}");
    }
    let ready = common::http_get(&addr, "/readyz").await.unwrap();
    assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");
    assert!(ready.contains("leading, caches synced"), "{ready}");
}

/// Two replicas with leader election: only the Lease holder reconciles; killed
/// (SIGKILL, no hand-over), the other takes over within the lease duration, and the
/// course's flow across the failover makes no duplicate Job and loses no backup.
#[tokio::test]
async fn leader_election_fails_over_without_duplicate_jobs() {
    let (_, ns, a) = setup("leader").await;
    let start = |addr: &str| {
        Operator::start_with(
            &[
                "--metrics-addr",
                addr,
                "--leader-elect",
                "--lease-namespace",
                &ns,
                "--lease-duration",
                "6s",
            ],
            &[&ns],
        )
    };
    let (first_addr, second_addr) = (
        format!("127.0.0.1:{}", common::free_port()),
        format!("127.0.0.1:{}", common::free_port()),
    );
    let mut first = start(&first_addr);
    let leader_of = |addr: String| async move {
        let scraped = common::http_get(&addr, "/metrics").await?;
        scraped.lines().find_map(|l| {
            l.strip_prefix("kubectl_mysql_leader ")?
                .trim()
                .parse::<i64>()
                .ok()
        })
    };
    eventually(WAIT, "the first replica to lead", || async {
        (leader_of(first_addr.clone()).await == Some(1)).then_some(())
    })
    .await;
    let _second = start(&second_addr);
    // The standby is up and standing by before anything happens: what it did not
    // reconcile below is then a decision, not a late start.
    eventually(WAIT, "the second replica to stand by", || async {
        (leader_of(second_addr.clone()).await == Some(0)).then_some(())
    })
    .await;
    create_ready(&a.instances, "db").await;
    let reconciles = |addr: String| async move {
        let scraped = common::http_get(&addr, "/metrics").await?;
        scraped.lines().find_map(|l| {
            l.strip_prefix("kubectl_mysql_reconciles_total{controller=\"instance\"} ")?
                .trim()
                .parse::<u64>()
                .ok()
        })
    };
    assert_eq!(leader_of(second_addr.clone()).await, Some(0));
    assert_eq!(
        reconciles(second_addr.clone()).await,
        Some(0),
        "the standby reconciled"
    );
    assert!(reconciles(first_addr.clone()).await.unwrap_or(0) > 0);

    first.stop();
    let killed = std::time::Instant::now();
    eventually(
        Duration::from_secs(30),
        "the second replica to take over",
        || async { (leader_of(second_addr.clone()).await == Some(1)).then_some(()) },
    )
    .await;
    // How long it took is a figure, not an assertion: this machine is shared.
    eprintln!("failover took {:.1} s", killed.elapsed().as_secs_f64());

    a.instances
        .delete("db", &DeleteParams::default())
        .await
        .unwrap();
    wait_gone(&a.instances, "db").await;
    let records = a.backups.list(&ListParams::default()).await.unwrap().items;
    assert_eq!(records.len(), 1, "one backup on delete");
    assert_eq!(records[0].phase(), Some(BackupPhase::Succeeded));
    assert_eq!(jobs_of(&a, "db").await, vec!["backup-db-job".to_string()]);
}

/// A kubeconfig that authenticates as the ServiceAccount through a token from the
/// TokenRequest API, against the test cluster.
fn service_account_kubeconfig(namespace: &str, account: &str, dir: &std::path::Path) -> String {
    let token = kubectl(&[
        "create",
        "token",
        account,
        "-n",
        namespace,
        "--duration",
        "1h",
    ]);
    assert!(token.status.success(), "{}", text(&token));
    let view = |path: &str| {
        let out = kubectl(&[
            "config",
            "view",
            "--raw",
            "--minify",
            "-o",
            &format!("jsonpath={path}"),
        ]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let server = view("{.clusters[0].cluster.server}");
    let ca = view("{.clusters[0].cluster.certificate-authority}");
    let ca_data = view("{.clusters[0].cluster.certificate-authority-data}");
    let ca_line = if ca_data.is_empty() {
        format!("certificate-authority: {ca}")
    } else {
        format!("certificate-authority-data: {ca_data}")
    };
    let config = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {server}\n    {ca_line}\nusers:\n- name: u\n  user:\n    token: {}\ncontexts:\n- name: x\n  context: {{cluster: c, user: u, namespace: {namespace}}}\ncurrent-context: x\n",
        String::from_utf8_lossy(&token.stdout).trim()
    );
    let path = dir.join("kubeconfig");
    std::fs::write(&path, config).unwrap();
    path.to_string_lossy().into_owned()
}

/// The ClusterRole and Role install-operator applies are enough for the whole
/// lifecycle, run by an operator authenticated as the installed ServiceAccount, and
/// they deny what the operator must never do.
#[tokio::test]
async fn the_installed_rbac_runs_the_whole_lifecycle_and_no_more() {
    let (client, ns, a) = setup("rbac").await;
    let operator_ns = namespace(&client, "rbac-op").await;
    let installed = plugin()
        .args(["install-operator", "-n", &operator_ns, "--replicas", "1"])
        .output()
        .unwrap();
    assert!(installed.status.success(), "{}", text(&installed));
    let dir = tempfile::tempdir().unwrap();
    let config = service_account_kubeconfig(&operator_ns, "kubectl-mysql-operator", dir.path());
    let whoami = kubectl(&[
        "auth",
        "whoami",
        "--kubeconfig",
        &config,
        "-o",
        "jsonpath={.status.userInfo.username}",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&whoami.stdout),
        format!("system:serviceaccount:{operator_ns}:kubectl-mysql-operator"),
        "{}",
        text(&whoami)
    );
    let _operator = Operator::start_with(
        &[
            "--kubeconfig",
            &config,
            "--leader-elect",
            "--lease-namespace",
            &operator_ns,
        ],
        &[&ns],
    );
    let ms = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["-n", ns.as_str()]);
        let out = plugin().args(&all).output().unwrap();
        assert!(
            out.status.success(),
            "kubectl mysql {args:?}: {}",
            text(&out)
        );
    };
    // Create, back up on delete, restore on create.
    create_ready(&a.instances, "db").await;
    a.instances
        .delete("db", &DeleteParams::default())
        .await
        .unwrap();
    wait_gone(&a.instances, "db").await;
    let restored = create_ready(&a.instances, "db").await;
    assert_eq!(
        condition(&restored, "Restored").map(|c| c.1),
        Some("Restored".to_string())
    );
    // On demand, a backup and a restore; then a password change.
    ms(&["backup", "db", "--wait", "--timeout", "90s"]);
    ms(&["restore", "db", "--yes", "--timeout", "90s"]);
    let patch = json!({"spec": {"password": "changed-password"}});
    a.instances
        .patch("db", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    eventually(WAIT, "the password change", || async {
        let i = a.instances.get("db").await.ok()?;
        (condition(&i, "PasswordSynced")?.1 == "Synced"
            && i.status?.observed_generation == i.metadata.generation)
            .then_some(())
    })
    .await;
    a.instances
        .delete("db", &DeleteParams::default())
        .await
        .unwrap();
    wait_gone(&a.instances, "db").await;

    let subject = format!("system:serviceaccount:{operator_ns}:kubectl-mysql-operator");
    for (verb, resource, namespaced) in [
        ("delete", "namespaces", false),
        ("create", "clusterroles", false),
        ("patch", "clusterrolebindings", false),
        ("delete", "mysqls.otus.homework", true),
        ("create", "pods", true),
        ("update", "deployments", true),
        ("delete", "customresourcedefinitions", false),
        ("patch", "leases.coordination.k8s.io", true),
    ] {
        let mut args = vec!["auth", "can-i", verb, resource, "--as", subject.as_str()];
        if namespaced {
            args.extend(["-n", ns.as_str()]);
        }
        let out = kubectl(&args);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "no",
            "the operator may {verb} {resource}"
        );
    }
    // Someone without the rights to install is told which one is missing, in one line.
    let out = kubectl(&["create", "serviceaccount", "nobody", "-n", &operator_ns]);
    assert!(out.status.success(), "{}", text(&out));
    let nobody = tempfile::tempdir().unwrap();
    let config = service_account_kubeconfig(&operator_ns, "nobody", nobody.path());
    let refused = plugin()
        .args([
            "install-operator",
            "-n",
            &operator_ns,
            "--kubeconfig",
            &config,
        ])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(
        said.starts_with("error: ")
            && said.contains("forbidden")
            && said.contains("cannot patch resource"),
        "{said}"
    );
    // `kubectl mysql version` names the CRDs' and this operator's versions, and warns
    // once one is not the plugin's.
    let version = env!("CARGO_PKG_VERSION");
    let said = text(&plugin().args(["version"]).output().unwrap());
    assert!(
        said.starts_with(&format!("kubectl-mysql {version} (commit ")),
        "{said}"
    );
    assert!(
        said.contains(&format!("crd mysqls.otus.homework: {version}")),
        "{said}"
    );
    assert!(
        said.contains(&format!(
            "operator {operator_ns}/kubectl-mysql-operator (image "
        )),
        "{said}"
    );
    assert!(!said.contains("warning"), "{said}");
    let out = kubectl(&[
        "label",
        "deployment/kubectl-mysql-operator",
        "-n",
        &operator_ns,
        "--overwrite",
        "app.kubernetes.io/version=0.0.1",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let said = text(&plugin().args(["version"]).output().unwrap());
    assert!(
        said.contains(&format!(
            "warning: operator {operator_ns}/kubectl-mysql-operator"
        )) && said.contains(&format!("is 0.0.1, this plugin is {version}")),
        "{said}"
    );
    let out = plugin()
        .args(["uninstall-operator", "-n", &operator_ns])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
}

/// `kubectl mysql pause` stops the reconciling: a spec change while paused is not
/// applied and the status says Paused; `resume` picks up where it left.
#[tokio::test]
async fn pause_holds_a_spec_change_until_resume() {
    let (client, ns, a) = setup("pause").await;
    let _operator = Operator::start(&[&ns]);
    create_ready(&a.instances, "db").await;
    let ms = |verb: &str| {
        let out = plugin().args([verb, "db", "-n", &ns]).output().unwrap();
        assert!(out.status.success(), "{verb}: {}", text(&out));
    };
    ms("pause");
    wait_phase(&a.instances, "db", Phase::Paused).await;
    let patch = json!({"spec": {"image": "mysql:8.4.9"}});
    let patched = a
        .instances
        .patch("db", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let deployments: Api<k8s_openapi::api::apps::v1::Deployment> =
        Api::namespaced(client.clone(), &ns);
    let image = || async {
        let d = deployments.get("db").await.unwrap();
        d.spec.unwrap().template.spec.unwrap().containers[0]
            .image
            .clone()
    };
    // The operator saw the new generation (a paused status observes it) and held it.
    eventually(WAIT, "the paused status to observe the change", || async {
        let i = a.instances.get("db").await.ok()?;
        let status = i.status?;
        (status.observed_generation == patched.metadata.generation
            && status.phase == Some(Phase::Paused))
        .then_some(())
    })
    .await;
    assert_eq!(
        image().await.as_deref(),
        Some("mysql:8.4"),
        "applied while paused"
    );
    let paused = a.instances.get("db").await.unwrap();
    assert_eq!(paused.status.unwrap().phase, Some(Phase::Paused));
    let got = kubectl(&[
        "get",
        "mysql",
        "db",
        "-n",
        &ns,
        "-o",
        "jsonpath={.status.phase}",
    ]);
    assert_eq!(String::from_utf8_lossy(&got.stdout), "Paused");
    ms("resume");
    eventually(WAIT, "the new image after resume", || async {
        (image().await.as_deref() == Some("mysql:8.4.9")).then_some(())
    })
    .await;
    wait_phase(&a.instances, "db", Phase::Ready).await;
}

/// The operator filters what wakes it (status-only changes to an instance do not) and
/// reads Secrets' data only when their metadata shows a new version. Neither may lose
/// an event: a change to the user's password Secret runs the password Job, the Job
/// finishing swaps the credentials, a hand edit of our credentials Secret and its
/// deletion are both noticed, while someone else's status-only write wakes nothing.
#[tokio::test]
async fn filtered_watches_lose_no_event() {
    let (_, ns, a) = setup("events").await;
    let operator = Operator::start(&[&ns]);
    let user_secret = |password: &str| -> Secret {
        serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db-root"},
            "stringData": {"password": password}
        }))
        .unwrap()
    };
    a.secrets
        .create(&PostParams::default(), &user_secret("first-password"))
        .await
        .unwrap();
    let mut cr = course_cr("db");
    cr.spec.password = None;
    cr.spec.password_secret_ref = Some(serde_json::from_value(json!({"name": "db-root"})).unwrap());
    a.instances
        .create(&PostParams::default(), &cr)
        .await
        .unwrap();
    wait_phase(&a.instances, "db", Phase::Ready).await;
    let credentials = || async {
        let secret = a.secrets.get("db-credentials").await.ok()?;
        let value = secret.data?.get("password")?.0.clone();
        String::from_utf8(value).ok()
    };
    assert_eq!(credentials().await.as_deref(), Some("first-password"));
    let synced = || async {
        let i = a.instances.get("db").await.ok()?;
        condition(&i, "PasswordSynced")
    };

    // Someone else's status-only write: delivered by the watch and dropped there.
    let wakeups_before = operator
        .instance_wakeups()
        .await
        .expect("the change counter");
    let status_only = json!({"status": {"phase": "Pending"}});
    a.instances
        .patch_status("db", &PatchParams::default(), &Patch::Merge(&status_only))
        .await
        .unwrap();
    // Then a change that does wake: the watch delivers in order, so once this one is
    // counted, the status-only one was seen before it.
    let marker = json!({"metadata": {"annotations": {"test.kubectl-mysql/marker": "1"}}});
    a.instances
        .patch("db", &PatchParams::default(), &Patch::Merge(&marker))
        .await
        .unwrap();
    eventually(WAIT, "the marker to wake the instance", || async {
        operator
            .instance_wakeups()
            .await
            .filter(|n| *n > wakeups_before)
    })
    .await;
    assert_eq!(
        operator.instance_wakeups().await,
        Some(wakeups_before + 1),
        "a status-only change woke the instance"
    );

    // The user's Secret changes: the password Job runs and, once it finished, the
    // credentials hold the new password.
    a.secrets
        .replace(
            "db-root",
            &PostParams::default(),
            &user_secret("second-password"),
        )
        .await
        .unwrap();
    eventually(WAIT, "the credentials to take the new password", || async {
        (credentials().await.as_deref() == Some("second-password")).then_some(())
    })
    .await;
    eventually(WAIT, "PasswordSynced after the change", || async {
        let (status, reason) = synced().await?;
        (status == ConditionStatus::True && reason == "Synced").then_some(())
    })
    .await;

    // A hand edit of our credentials Secret's data is seen (its version moved), and
    // put right by a password change back to the spec's password.
    let edit = json!({"stringData": {"password": "edited-by-hand"}});
    a.secrets
        .patch(
            "db-credentials",
            &PatchParams::default(),
            &Patch::Merge(&edit),
        )
        .await
        .unwrap();
    eventually(WAIT, "the hand edit to be put right", || async {
        (credentials().await.as_deref() == Some("second-password")).then_some(())
    })
    .await;

    // Deleted: the memo of what it held is not trusted over the watch.
    a.secrets
        .delete("db-credentials", &DeleteParams::default())
        .await
        .unwrap();
    eventually(WAIT, "the missing credentials to be reported", || async {
        let i = a.instances.get("db").await.ok()?;
        let message = i
            .status?
            .conditions
            .into_iter()
            .find(|c| c.type_ == "PasswordSynced")?
            .message;
        message.contains("db-credentials").then_some(())
    })
    .await;
}

/// The course's CR with backups going to a bucket (the simulated node runs no pods'
/// code: this checks the Jobs and records; tests/object_store.rs and the real node
/// move the bytes).
fn bucket_cr(name: &str) -> MySQL {
    let mut cr = course_cr(name);
    cr.spec.backup = Some(
        serde_json::from_value(json!({"storage": {"s3": {
            "endpoint": "http://s3.example:9000", "bucket": "dumps", "prefix": "team",
            "forcePathStyle": true, "credentialsSecret": {"name": "s3-keys"}
        }}}))
        .unwrap(),
    );
    cr
}

fn pod_spec_of(job: &Job) -> &k8s_openapi::api::core::v1::PodSpec {
    job.spec.as_ref().unwrap().template.spec.as_ref().unwrap()
}

#[tokio::test]
async fn backups_to_a_bucket_are_recorded_by_key_and_restored_from_it() {
    let (_, ns, a) = setup("bucket").await;
    let names = InstanceNames::new("db", ns.clone());
    let _operator = Operator::start_with(
        &["--operator-image", "registry.local/kubectl-mysql:test"],
        &[&ns],
    );
    a.instances
        .create(&PostParams::default(), &bucket_cr("db"))
        .await
        .unwrap();
    wait_phase(&a.instances, "db", Phase::Ready).await;

    // Without the Secret of keys, a backup fails at once and says why (a Job would
    // wait forever for its pod's environment).
    let without_keys = plugin()
        .args(["backup", "db", "-n", &ns, "--wait", "--timeout", "60s"])
        .output()
        .unwrap();
    assert!(!without_keys.status.success(), "{}", text(&without_keys));
    let failed = a.backups.list(&ListParams::default()).await.unwrap().items;
    let message = failed[0].status.as_ref().unwrap().message.clone().unwrap();
    assert_eq!(failed[0].phase(), Some(BackupPhase::Failed));
    assert!(message.contains("s3-keys"), "{message}");
    assert!(
        text(&without_keys).contains("s3-keys"),
        "{}",
        text(&without_keys)
    );

    let keys: Secret = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s3-keys"},
        "stringData": {"accessKeyId": "test-access", "secretAccessKey": "test-secret"}
    }))
    .unwrap();
    a.secrets
        .create(&PostParams::default(), &keys)
        .await
        .unwrap();

    // An on-demand backup: dumped by the server's image, uploaded by ours, recorded
    // under a key that says namespace, instance and time.
    backup_now(&ns, "db");
    let job = a.jobs.get(&names.backup_job()).await.unwrap();
    let pod = pod_spec_of(&job);
    assert_eq!(
        pod.containers[0].image.as_deref(),
        Some("registry.local/kubectl-mysql:test")
    );
    // The dump streams from the server's image through a pipe into our upload.
    assert_eq!(pod.containers[1].image.as_deref(), Some("mysql:8.4"));
    let records = a.backups.list(&ListParams::default()).await.unwrap().items;
    let succeeded: Vec<_> = records.iter().filter(|b| b.succeeded()).collect();
    assert_eq!(succeeded.len(), 1);
    let manual = succeeded[0];
    let (bucket, key) = manual.object().expect("the record names its object");
    assert_eq!(bucket, "dumps");
    assert!(
        key.starts_with(&format!("team/{ns}/db/")) && key.ends_with(".sql.zst"),
        "{key}"
    );
    assert_eq!(
        manual.status.as_ref().unwrap().file,
        None,
        "no file on a volume"
    );
    assert!(
        a.pvcs.get_opt(&names.backup_pvc()).await.unwrap().is_some(),
        "the backup claim still exists (today's default storage stays available)"
    );

    // Deleted and created again: the final backup goes to the bucket too, and the new
    // incarnation restores from its key.
    a.instances
        .delete("db", &DeleteParams::default())
        .await
        .unwrap();
    wait_gone(&a.instances, "db").await;
    let final_backup = a
        .backups
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|b| b.spec.cause == BackupCause::OnDelete)
        .expect("the on-delete backup");
    let (_, final_key) = final_backup.object().expect("in the bucket");
    a.instances
        .create(&PostParams::default(), &bucket_cr("db"))
        .await
        .unwrap();
    let restore = eventually(WAIT, "the restore Job", || async {
        a.jobs.get_opt(&names.restore_job()).await.ok()?
    })
    .await;
    let download = &pod_spec_of(&restore).init_containers.as_ref().unwrap()[0];
    let args = download.command.as_ref().unwrap();
    assert!(args.contains(&"download".to_string()), "{args:?}");
    assert!(
        args.contains(&final_key.to_string()),
        "{args:?} restores {final_key}"
    );
    let ready = wait_phase(&a.instances, "db", Phase::Ready).await;
    assert_eq!(
        ready.status.unwrap().restored_from.as_deref(),
        Some(final_backup.name_any().as_str())
    );
}

fn scheduled_records(backups: &[MySQLBackup]) -> Vec<&MySQLBackup> {
    backups
        .iter()
        .filter(|b| b.spec.cause == BackupCause::Scheduled)
        .collect()
}

#[tokio::test]
async fn a_schedule_takes_backups_and_catches_up_once_after_a_restart() {
    let (_, ns, a) = setup("schedule").await;
    let mut operator = Operator::start(&[&ns]);
    let mut cr = course_cr("db");
    // Six fields: every twenty seconds, so the test sees several times.
    cr.spec.backup = Some(serde_json::from_value(json!({"schedule": "*/20 * * * * *"})).unwrap());
    a.instances
        .create(&PostParams::default(), &cr)
        .await
        .unwrap();
    wait_phase(&a.instances, "db", Phase::Ready).await;
    let next = eventually(WAIT, "status.nextBackup", || async {
        a.instances.get("db").await.ok()?.status?.next_backup
    })
    .await;
    assert!(next.parse::<jiff::Timestamp>().is_ok(), "{next}");

    eventually(WAIT, "a scheduled backup to succeed", || async {
        let backups = a.backups.list(&ListParams::default()).await.ok()?.items;
        let done = scheduled_records(&backups)
            .iter()
            .filter(|b| b.succeeded())
            .count();
        (done >= 1).then_some(())
    })
    .await;

    // Down for two times and more: back, it takes one backup for them, not two.
    operator.stop();
    let stopped = jiff::Timestamp::now();
    tokio::time::sleep(Duration::from_secs(45)).await;
    let restarted = jiff::Timestamp::now();
    operator.restart();
    let missed = |backups: &[MySQLBackup]| -> usize {
        scheduled_records(backups)
            .iter()
            .filter_map(|b| b.scheduled_for())
            .filter(|slot| *slot > stopped && *slot <= restarted)
            .count()
    };
    // The first look after the restart takes the backup owed, for the latest time
    // passed then; the times missed while down get no backup each.
    eventually(WAIT, "the catch-up backup", || async {
        let backups = a.backups.list(&ListParams::default()).await.ok()?;
        scheduled_records(&backups.items)
            .iter()
            .any(|b| b.scheduled_for().is_some_and(|slot| slot > stopped))
            .then_some(())
    })
    .await;
    let backups = a.backups.list(&ListParams::default()).await.unwrap().items;
    assert!(
        missed(&backups) <= 1,
        "at most one backup for the times missed while down"
    );
    // Never two at once: each scheduled record started after the one before finished.
    let mut scheduled = scheduled_records(&backups);
    scheduled.sort_by_key(|b| b.scheduled_for());
    for pair in scheduled.windows(2) {
        let (before, after) = (pair[0].status.as_ref(), pair[1].status.as_ref());
        let finished = before.and_then(|s| s.completion_time.clone());
        let started = after.and_then(|s| s.start_time.clone());
        if let (Some(finished), Some(started)) = (finished, started) {
            assert!(
                finished <= started,
                "{finished} > {started}: two backups overlapped"
            );
        }
    }
}

/// `kubectl-mysql object-store` on the tests' bucket, with its keys.
fn object_store(s3: &common::S3) -> std::process::Command {
    let mut command = plugin();
    command
        .args(["object-store", "--endpoint", &s3.endpoint])
        .args(["--bucket", &s3.bucket, "--path-style"])
        .env("AWS_ACCESS_KEY_ID", &s3.access_key)
        .env("AWS_SECRET_ACCESS_KEY", &s3.secret_key);
    command
}

/// Uploads a small dump to `key`, as the backup Job's uploader would on a real node
/// (the simulated node runs no container).
fn upload_as_the_job_would(s3: &common::S3, key: &str) {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump.sql");
    std::fs::write(
        &dump,
        "CREATE TABLE t (a int);\n-- Dump completed on 2026-12-03\n",
    )
    .unwrap();
    let out = object_store(s3)
        .args(["upload", "--file", dump.to_str().unwrap(), "--key", key])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
}

#[tokio::test]
async fn retention_keeps_two_records_and_their_two_objects() {
    let s3 = common::S3::from_env();
    let (_, ns, a) = setup("retention").await;
    let _operator = Operator::start(&[&ns]);
    let keys: Secret = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s3-keys"},
        "stringData": {"accessKeyId": s3.access_key, "secretAccessKey": s3.secret_key}
    }))
    .unwrap();
    a.secrets
        .create(&PostParams::default(), &keys)
        .await
        .unwrap();
    let mut cr = course_cr("db");
    cr.spec.backup = Some(
        serde_json::from_value(json!({
            "schedule": "*/8 * * * * *",
            "retention": {"keep": 2},
            "storage": {"s3": {
                "endpoint": s3.endpoint, "bucket": s3.bucket, "prefix": format!("retention-{ns}"),
                "forcePathStyle": true, "credentialsSecret": {"name": "s3-keys"}
            }}
        }))
        .unwrap(),
    );
    a.instances
        .create(&PostParams::default(), &cr)
        .await
        .unwrap();
    wait_phase(&a.instances, "db", Phase::Ready).await;

    // Four runs, each dump put where its record says (the Job's part here).
    let mut uploaded = std::collections::BTreeSet::new();
    let upload_new = |uploaded: &mut std::collections::BTreeSet<String>,
                      backups: &[MySQLBackup]| {
        for b in backups.iter().filter(|b| b.succeeded()) {
            let key = b.object().unwrap().1.to_string();
            if uploaded.insert(key.clone()) {
                upload_as_the_job_would(&s3, &key);
            }
        }
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while uploaded.len() < 4 {
        assert!(
            std::time::Instant::now() < deadline,
            "four runs within two minutes"
        );
        let backups = a.backups.list(&ListParams::default()).await.unwrap().items;
        upload_new(&mut uploaded, &backups);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // The schedule stops; retention has the last word.
    let no_schedule = json!({"spec": {"backup": {"schedule": null}}});
    a.instances
        .patch("db", &PatchParams::default(), &Patch::Merge(&no_schedule))
        .await
        .unwrap();
    let folder = format!("retention-{ns}/{ns}/db");
    let listed = || {
        let out = object_store(&s3)
            .args(["list", "--prefix", &folder])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut keys: Vec<String> = text
            .lines()
            .filter_map(|l| l.split('\t').next().map(str::to_string))
            .collect();
        keys.sort();
        keys
    };
    let (records, objects) = eventually(WAIT, "two records and their two objects", || async {
        let backups = a.backups.list(&ListParams::default()).await.ok()?.items;
        let mut uploaded_now = uploaded.clone();
        upload_new(&mut uploaded_now, &backups);
        let mut records: Vec<String> = backups
            .iter()
            .filter_map(|b| Some(b.object()?.1.to_string()))
            .collect();
        records.sort();
        let objects = listed();
        (records.len() == 2 && objects == records).then_some((records, objects))
    })
    .await;
    assert_eq!(records, objects);
    let events = kubectl(&[
        "get",
        "events",
        "-n",
        &ns,
        "--field-selector",
        "reason=DumpDeleted",
        "-o",
        "name",
    ]);
    assert!(
        String::from_utf8_lossy(&events.stdout).lines().count() >= 2,
        "each expired dump was deleted: {}",
        text(&events)
    );
}

/// The store is the truth: a new instance with no records lists its bucket. The dumps
/// in its own folder are recorded and the newest restored. An instance with none there
/// finds those of its name under another namespace's folder: recorded (for `restore
/// --from`), keeping their objects when the record goes, never loaded unasked.
#[tokio::test]
async fn a_new_instance_finds_its_dumps_by_listing_the_bucket() {
    let s3 = common::S3::from_env();
    let (_, ns, a) = setup("found").await;
    let prefix = format!("found-{ns}");
    let own = |stamp: &str| format!("{prefix}/{ns}/db/{stamp}.sql.gz");
    let elsewhere = format!("{prefix}/old-{ns}/moved/20261203-000000.sql.gz");
    // Uploaded in this order, so the last is the newest object.
    for key in [
        own("20261201-000000"),
        own("20261202-000000"),
        elsewhere.clone(),
    ] {
        upload_as_the_job_would(&s3, &key);
    }
    let keys: Secret = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s3-keys"},
        "stringData": {"accessKeyId": s3.access_key, "secretAccessKey": s3.secret_key}
    }))
    .unwrap();
    a.secrets
        .create(&PostParams::default(), &keys)
        .await
        .unwrap();
    let _operator = Operator::start(&[&ns]);
    for name in ["db", "moved"] {
        let mut cr = course_cr(name);
        cr.spec.backup = Some(
            serde_json::from_value(json!({"storage": {"s3": {
                "endpoint": s3.endpoint, "bucket": s3.bucket, "prefix": prefix,
                "forcePathStyle": true, "credentialsSecret": {"name": "s3-keys"}
            }}}))
            .unwrap(),
        );
        a.instances
            .create(&PostParams::default(), &cr)
            .await
            .unwrap();
    }
    wait_phase(&a.instances, "db", Phase::Ready).await;
    wait_phase(&a.instances, "moved", Phase::Ready).await;

    let mut records = a.backups.list(&ListParams::default()).await.unwrap().items;
    records.sort_by_key(|b| b.name_any());
    let found: Vec<(String, BackupCause, Option<String>)> = records
        .iter()
        .map(|b| {
            let key = b.object().map(|(_, key)| key.to_string());
            (b.name_any(), b.spec.cause, key)
        })
        .collect();
    let discovered = |name: &str, key: &str| {
        (
            name.to_string(),
            BackupCause::Discovered,
            Some(key.to_string()),
        )
    };
    assert_eq!(
        found,
        [
            discovered("db-20261201-000000", &own("20261201-000000")),
            discovered("db-20261202-000000", &own("20261202-000000")),
            discovered("moved-20261203-000000", &elsewhere),
        ]
    );
    let restored_from = |name: &'static str| {
        let instances = a.instances.clone();
        async move {
            let instance = instances.get(name).await.unwrap();
            instance.status.unwrap().restored_from
        }
    };
    assert_eq!(
        restored_from("db").await.as_deref(),
        Some("db-20261202-000000"),
        "the newest dump of its own folder"
    );
    assert_eq!(
        restored_from("moved").await,
        None,
        "another namespace's dump, not loaded unasked"
    );

    // The other namespace's record goes; its dump stays.
    a.backups
        .delete("moved-20261203-000000", &DeleteParams::default())
        .await
        .unwrap();
    wait_gone(&a.backups, "moved-20261203-000000").await;
    let listed = object_store(&s3)
        .args(["list", "--prefix", &format!("{prefix}/old-{ns}/moved")])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&listed.stdout).contains(&elsewhere),
        "{}",
        text(&listed)
    );
}

/// A backup record on the volume deleted by hand takes its dump with it: a prune Job
/// (the operator's image, the backup claim) removes the file, then the record goes
/// with an Event. Annotated `keep-dump=true`, a record goes alone.
#[tokio::test]
async fn deleting_a_volume_record_prunes_its_dump_unless_kept() {
    let (client, ns, a) = setup("prune").await;
    let _operator = Operator::start_with(
        &["--operator-image", "registry.local/kubectl-mysql:test"],
        &[&ns],
    );
    create_ready(&a.instances, "db").await;
    backup_now(&ns, "db");
    let record = a.backups.list(&ListParams::default()).await.unwrap().items[0].clone();
    let name = record.name_any();
    let file = record.status.as_ref().unwrap().file.clone().unwrap();
    eventually(WAIT, "the record's dump finalizer", || async {
        let b = a.backups.get(&name).await.ok()?;
        b.finalizers()
            .iter()
            .any(|f| f == "mysqls.otus.homework/delete-dump")
            .then_some(())
    })
    .await;

    // The Job is watched while the record waits for it.
    let names = InstanceNames::new("db", ns.clone());
    let watch_jobs = a.jobs.clone();
    let prune_job = names.prune_job();
    let seen = tokio::spawn(async move {
        eventually(WAIT, "the prune Job", || async {
            watch_jobs.get_opt(&prune_job).await.ok()?
        })
        .await
    });
    a.backups
        .delete(&name, &DeleteParams::default())
        .await
        .unwrap();
    let job = seen.await.unwrap();
    let pod = pod_spec_of(&job);
    assert_eq!(
        pod.containers[0].image.as_deref(),
        Some("registry.local/kubectl-mysql:test")
    );
    let command = pod.containers[0].command.clone().unwrap().join(" ");
    assert!(
        command.ends_with(&format!("remove-dump --file {file}")),
        "{command}"
    );
    let volumes = serde_json::to_string(&pod.volumes).unwrap();
    assert!(volumes.contains(&names.backup_pvc()), "{volumes}");
    wait_gone(&a.backups, &name).await;
    let events: Api<k8s_openapi::api::core::v1::Event> = Api::namespaced(client.clone(), &ns);
    eventually(WAIT, "the DumpDeleted Event", || async {
        let list = events.list(&ListParams::default()).await.ok()?;
        list.items
            .iter()
            .any(|e| e.reason.as_deref() == Some("DumpDeleted"))
            .then_some(())
    })
    .await;
    wait_gone(&a.jobs, &names.prune_job()).await;

    // Kept: no Job, the record goes alone.
    backup_now(&ns, "db");
    let kept = a.backups.list(&ListParams::default()).await.unwrap().items[0].name_any();
    let annotate = json!({"metadata": {"annotations": {"mysqls.otus.homework/keep-dump": "true"}}});
    a.backups
        .patch(&kept, &PatchParams::default(), &Patch::Merge(&annotate))
        .await
        .unwrap();
    a.backups
        .delete(&kept, &DeleteParams::default())
        .await
        .unwrap();
    wait_gone(&a.backups, &kept).await;
    assert!(a.jobs.get_opt(&names.prune_job()).await.unwrap().is_none());
}

/// `spec.replicas` on the simulated node: every member's objects, the role-selected
/// Services and the generated replication Secret appear; back to one server, the
/// members' objects go and `NAME` selects the course's `app=NAME` again. (Seeding,
/// replication and switchover need real servers: tests/real_node.rs.)
#[tokio::test]
async fn replicas_make_members_and_scaling_back_removes_them() {
    let (client, ns, a) = setup("replicas").await;
    // Enough nodes that every member's hostPath volume gets its own.
    kwok_node(&format!("{ns}-node-a"));
    kwok_node(&format!("{ns}-node-b"));
    let _operator = Operator::start(&[&ns]);
    let mut cr = course_cr("db");
    cr.spec.replicas = Some(3);
    a.instances
        .create(&PostParams::default(), &cr)
        .await
        .unwrap();
    let deployments: Api<k8s_openapi::api::apps::v1::Deployment> =
        Api::namespaced(client.clone(), &ns);
    let services: Api<k8s_openapi::api::core::v1::Service> = Api::namespaced(client.clone(), &ns);
    eventually(WAIT, "the members' objects", || async {
        for name in ["db-member-1", "db-member-2"] {
            deployments.get_opt(name).await.ok()??;
            a.pvcs.get_opt(&format!("{name}-pvc")).await.ok()??;
        }
        for name in ["db-member-0", "db-member-1", "db-member-2", "db-replicas"] {
            services.get_opt(name).await.ok()??;
        }
        a.secrets.get_opt("db-replication").await.ok()??;
        let status = a.instances.get("db").await.ok()?.status?;
        (status.members.len() == 3 && status.primary.as_deref() == Some("db")).then_some(())
    })
    .await;
    // Each member's volume on a node of its own.
    eventually(WAIT, "three member volumes on three nodes", || async {
        let nodes: std::collections::BTreeSet<String> = a
            .pvs
            .list(&ListParams::default().labels(&format!("{INSTANCE_LABEL}=db")))
            .await
            .ok()?
            .items
            .iter()
            .filter(|pv| pv.name_any().starts_with(&format!("{ns}-db-")))
            .filter_map(kubectl_mysql::reconcile::instance::plan::pinned_node)
            .collect();
        (nodes.len() == 3).then_some(())
    })
    .await;
    let selector = |s: k8s_openapi::api::core::v1::Service| s.spec.unwrap().selector.unwrap();
    let primary_selector = selector(services.get("db").await.unwrap());
    assert_eq!(
        primary_selector
            .get("mysqls.otus.homework/role")
            .map(String::as_str),
        Some("primary"),
        "{primary_selector:?}"
    );
    let member = deployments.get("db-member-2").await.unwrap();
    let args = member.spec.unwrap().template.spec.unwrap().containers[0]
        .args
        .clone()
        .unwrap();
    assert!(args.contains(&"--server-id=3".to_string()), "{args:?}");

    a.instances
        .patch(
            "db",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 1}})),
        )
        .await
        .unwrap();
    for name in ["db-member-1", "db-member-2"] {
        wait_gone(&deployments, name).await;
        wait_gone(&a.pvcs, &format!("{name}-pvc")).await;
    }
    wait_gone(&services, "db-replicas").await;
    eventually(WAIT, "NAME to select app=NAME again", || async {
        let s = selector(services.get("db").await.ok()?);
        (s.get("app").map(String::as_str) == Some("db") && s.len() == 1).then_some(())
    })
    .await;
    // The status follows in the same reconcile, written after the Service.
    eventually(WAIT, "status.members emptied", || async {
        let status = a.instances.get("db").await.ok()?.status?;
        status.members.is_empty().then_some(())
    })
    .await;
    assert!(
        deployments.get_opt("db").await.unwrap().is_some(),
        "member 0 stays"
    );
}

/// A namespace whose Pod Security admission enforces `level`.
async fn enforcing_namespace(client: &Client, prefix: &str, level: &str) -> String {
    let ns = namespace(client, prefix).await;
    let label = format!("pod-security.kubernetes.io/enforce={level}");
    let out = kubectl(&["label", "namespace", &ns, &label]);
    assert!(out.status.success(), "{}", text(&out));
    ns
}

/// A claim of class `class` binds to this PV: a StorageClass stand-in for a node
/// without a provisioner (the real node's test uses a real one).
fn static_volume_of_class(name: &str, class: &str) {
    let manifest = format!(
        "apiVersion: v1\nkind: PersistentVolume\nmetadata:\n  name: {name}\nspec:\n  storageClassName: {class}\n  capacity: {{storage: 1Gi}}\n  accessModes: [ReadWriteOnce]\n  persistentVolumeReclaimPolicy: Delete\n  hostPath: {{path: /tmp/{name}, type: DirectoryOrCreate}}\n"
    );
    let out = common::kubectl_with_stdin(&["apply", "-f", "-"], &manifest);
    assert!(out.status.success(), "{}", text(&out));
}

/// Waits until a pod of a Job of `instance` whose name starts with `prefix` exists:
/// the API server admitted it.
async fn wait_job_pod(client: &Client, ns: &str, instance: &str, prefix: &str) {
    let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(client.clone(), ns);
    let selector = format!("{INSTANCE_LABEL}={instance},job-name");
    eventually(WAIT, &format!("a pod of a {prefix}* Job"), || async {
        let list = pods
            .list(&ListParams::default().labels(&selector))
            .await
            .ok()?;
        list.items
            .iter()
            .any(|p| {
                p.labels()
                    .get("job-name")
                    .is_some_and(|j| j.starts_with(prefix))
            })
            .then_some(())
    })
    .await;
}

/// Under the API server's own Pod Security admission: with a StorageClass every pod of
/// an instance (server, backup to a bucket, password change) is admitted in a
/// `restricted` namespace, running as the image's mysql user; the course's hostPath
/// instance and its backup to the volume are admitted in a `baseline` one.
#[tokio::test]
async fn pods_are_admitted_under_restricted_and_baseline() {
    let client = cluster().await;
    install_crds();
    let restricted = enforcing_namespace(&client, "restricted", "restricted").await;
    let baseline = enforcing_namespace(&client, "baseline", "baseline").await;
    let class = format!("static-{restricted}");
    static_volume_of_class(&format!("pv-{restricted}"), &class);
    let _operator = Operator::start(&[&restricted, &baseline]);

    let keys = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s3-keys"},
        "stringData": {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}});
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &restricted);
    secrets
        .create(
            &PostParams::default(),
            &serde_json::from_value(keys).unwrap(),
        )
        .await
        .unwrap();
    let mut strict = course_cr("db");
    strict.spec.storage_class_name = Some(class);
    strict.spec.backup = Some(
        serde_json::from_value(json!({"storage": {"s3": {
            "endpoint": "http://s3.example:9000", "bucket": "dumps",
            "forcePathStyle": true, "credentialsSecret": {"name": "s3-keys"}}}}))
        .unwrap(),
    );
    let instances: Api<MySQL> = Api::namespaced(client.clone(), &restricted);
    instances
        .create(&PostParams::default(), &strict)
        .await
        .unwrap();
    wait_phase(&instances, "db", Phase::Ready).await;
    let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(client.clone(), &restricted);
    let server = pods
        .list(&ListParams::default().labels("app=db"))
        .await
        .unwrap()
        .items
        .remove(0);
    let context = server.spec.unwrap().security_context.unwrap();
    assert_eq!(
        context.run_as_user,
        Some(kubectl_mysql::pod_security::MYSQL_UID)
    );
    assert_eq!(context.run_as_non_root, Some(true));

    let backup = plugin()
        .args(["backup", "db", "-n", &restricted])
        .output()
        .unwrap();
    assert!(backup.status.success(), "{}", text(&backup));
    wait_job_pod(&client, &restricted, "db", "backup-").await;
    let patch = json!({"spec": {"password": "n3w-pa$$"}});
    instances
        .patch("db", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    wait_job_pod(&client, &restricted, "db", "passwd-").await;

    let course: Api<MySQL> = Api::namespaced(client.clone(), &baseline);
    create_ready(&course, "db").await;
    backup_now(&baseline, "db");
}

/// `--templates` overrides of `templates` whose pods ask for the host's network, which
/// Pod Security's baseline level refuses.
fn host_network_overrides(templates: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for template in templates {
        let original = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("templates")
                .join(template),
        )
        .unwrap();
        let host_network =
            original.replacen("    spec:\n", "    spec:\n      hostNetwork: true\n", 1);
        assert_ne!(host_network, original, "{template} has a pod spec");
        std::fs::write(dir.path().join(template), host_network).unwrap();
    }
    dir
}

/// A template override that breaks the namespace's level is refused by the API server,
/// and the instance's status and an Event say the admission's reason.
#[tokio::test]
async fn a_refused_server_pod_is_explained_in_the_status() {
    let client = cluster().await;
    install_crds();
    let ns = enforcing_namespace(&client, "refused", "baseline").await;
    let templates = host_network_overrides(&["mysql-deployment.yaml.tera"]);
    let _operator =
        Operator::start_with(&["--templates", templates.path().to_str().unwrap()], &[&ns]);
    let instances: Api<MySQL> = Api::namespaced(client.clone(), &ns);
    instances
        .create(&PostParams::default(), &course_cr("db"))
        .await
        .unwrap();
    let message = eventually(WAIT, "the status to say the pod is refused", || async {
        let instance = instances.get("db").await.ok()?;
        let ready = instance
            .status?
            .conditions
            .into_iter()
            .find(|c| c.type_ == "Ready")?;
        (ready.reason == "PodRefused").then_some(ready.message)
    })
    .await;
    assert!(message.contains("violates PodSecurity"), "{message}");
    assert!(message.contains("host namespaces"), "{message}");
    eventually(WAIT, "a PodRefused Event", || async {
        common::has_event(&ns, "db", "PodRefused").then_some(())
    })
    .await;
}

/// A backup Job whose pod the API server refuses (here a `--templates` override that
/// breaks the namespace's level) fails its backup within seconds with the admission's
/// words, in the record's status and a `BackupFailed` Event, and its Job goes, so the
/// next backup is not held. A refused Job of the instance's own (a password change)
/// is said in the instance's status, `kubectl mysql status` and a `PodRefused` Event.
#[tokio::test]
async fn a_refused_backup_pod_fails_the_backup_with_the_reason() {
    let client = cluster().await;
    install_crds();
    let ns = enforcing_namespace(&client, "refused-job", "baseline").await;
    let templates = host_network_overrides(&["backup-job.yaml.tera", "password-job.yaml.tera"]);
    let _operator =
        Operator::start_with(&["--templates", templates.path().to_str().unwrap()], &[&ns]);
    let instances: Api<MySQL> = Api::namespaced(client.clone(), &ns);
    create_ready(&instances, "db").await;

    let backup = plugin()
        .args(["backup", "db", "-n", &ns, "--wait", "--timeout", "90s"])
        .output()
        .unwrap();
    assert!(!backup.status.success(), "{}", text(&backup));
    let records: Api<MySQLBackup> = Api::namespaced(client.clone(), &ns);
    let failed = eventually(WAIT, "the backup record to fail", || async {
        let listed = records.list(&ListParams::default()).await.ok()?;
        listed
            .items
            .into_iter()
            .find(|b| b.phase() == Some(BackupPhase::Failed))
    })
    .await;
    let message = failed.status.clone().unwrap().message.unwrap_or_default();
    assert!(
        message.contains("the API server refuses the pod of Job backup-db-job"),
        "{message}"
    );
    assert!(message.contains("violates PodSecurity"), "{message}");
    assert!(
        text(&backup).contains("violates PodSecurity"),
        "{}",
        text(&backup)
    );
    assert!(common::has_event(&ns, &failed.name_any(), "BackupFailed"));
    let jobs: Api<Job> = Api::namespaced(client.clone(), &ns);
    eventually(WAIT, "the refused Job removed", || async {
        jobs.get_opt("backup-db-job")
            .await
            .ok()?
            .is_none()
            .then_some(())
    })
    .await;

    // The instance's own Jobs: a refused password change is said in its status and
    // a PodRefused Event, while its Job waits to be admitted.
    let patch = json!({"spec": {"password": "n3w-pa$$"}});
    instances
        .patch("db", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let refused = eventually(WAIT, "status.jobRefused", || async {
        instances.get("db").await.ok()?.status?.job_refused
    })
    .await;
    assert!(refused.contains("Job passwd-db-job"), "{refused}");
    assert!(refused.contains("violates PodSecurity"), "{refused}");
    eventually(WAIT, "a PodRefused Event", || async {
        common::has_event(&ns, "db", "PodRefused").then_some(())
    })
    .await;
    let status = plugin().args(["status", "db", "-n", &ns]).output().unwrap();
    assert!(
        text(&status).contains("violates PodSecurity"),
        "{}",
        text(&status)
    );
}

/// The server Deployment's annotation of its pod template's parts.
async fn template_parts(client: &Client, ns: &str) -> String {
    let deployments: Api<k8s_openapi::api::apps::v1::Deployment> =
        Api::namespaced(client.clone(), ns);
    let d = deployments.get("db").await.unwrap();
    d.annotations()
        .get(kubectl_mysql::api::keys::POD_TEMPLATE_ANNOTATION)
        .cloned()
        .unwrap_or_default()
}

fn server_args(ns: &str) -> String {
    let out = kubectl(&[
        "get",
        "deployment",
        "db",
        "-n",
        ns,
        "-o",
        "jsonpath={.spec.template.spec.containers[0].args}",
    ]);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A change of the server's pod restarts it with an Event that says why; with
/// `updatePolicy: manual` it waits (said in status.pendingRestart and an Event) until
/// `kubectl mysql restart`, which applies it.
#[tokio::test]
async fn server_restarts_are_announced_and_manual_ones_wait() {
    let (client, ns, a) = setup("restarts").await;
    let _operator = Operator::start(&[&ns]);
    create_ready(&a.instances, "db").await;
    assert!(!template_parts(&client, &ns).await.is_empty());

    let patch = json!({"spec": {"mysqlConfig": {"max_connections": 123}}});
    a.instances
        .patch("db", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    eventually(WAIT, "a ServerRestarting Event", || async {
        common::has_event(&ns, "db", "ServerRestarting").then_some(())
    })
    .await;
    assert!(server_args(&ns).contains("--max_connections=123"));
    let events = common::events_with_reason(&ns, "ServerRestarting");
    assert!(events.contains("spec.mysqlConfig"), "{events}");

    // Manual: the change waits, and says so; the Deployment keeps its pod.
    let patch =
        json!({"spec": {"updatePolicy": "manual", "mysqlConfig": {"max_connections": 456}}});
    a.instances
        .patch("db", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let pending = eventually(WAIT, "status.pendingRestart", || async {
        let i = a.instances.get("db").await.ok()?;
        i.status?.pending_restart
    })
    .await;
    assert!(pending.contains("kubectl mysql restart"), "{pending}");
    assert!(pending.contains("spec.mysqlConfig"), "{pending}");
    eventually(WAIT, "a RestartWaits Event", || async {
        common::has_event(&ns, "db", "RestartWaits").then_some(())
    })
    .await;
    assert!(
        server_args(&ns).contains("--max_connections=123"),
        "held back"
    );

    let restart = plugin()
        .args(["restart", "db", "-n", &ns])
        .output()
        .unwrap();
    assert!(restart.status.success(), "{}", text(&restart));
    eventually(WAIT, "the held change applied", || async {
        server_args(&ns)
            .contains("--max_connections=456")
            .then_some(())
    })
    .await;
    eventually(WAIT, "status.pendingRestart cleared", || async {
        let i = a.instances.get("db").await.ok()?;
        i.status?.pending_restart.is_none().then_some(())
    })
    .await;
    let restarted = kubectl(&[
        "get",
        "deployment",
        "db",
        "-n",
        &ns,
        "-o",
        "jsonpath={.spec.template.metadata.annotations.mysqls\\.otus\\.homework/restart}",
    ]);
    assert!(
        !text(&restarted).trim().is_empty(),
        "the restart is in the pod template"
    );

    // A bad name is one line and a non-zero exit.
    let bad = plugin()
        .args(["restart", "Bad_Name", "-n", &ns])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert_eq!(text(&bad).trim().lines().count(), 1, "{}", text(&bad));
}

/// The instance's status message, once it contains `part`.
async fn status_message_with(instances: &Api<MySQL>, part: &str, what: &str) -> String {
    eventually(WAIT, what, || async {
        let message = instances.get("db").await.ok()?.status?.message?;
        message.contains(part).then_some(message)
    })
    .await
}

/// `spec.mysqlConfigMapName`: the server waits for the ConfigMap, takes its options
/// (the spec's own win), restarts on its change with an Event naming the options, and
/// an option the operator owns is refused in the status while the server keeps its
/// command line.
#[tokio::test]
async fn server_options_from_a_config_map_are_followed() {
    use k8s_openapi::api::core::v1::ConfigMap;
    let (client, ns, a) = setup("configmap").await;
    let _operator = Operator::start(&[&ns]);
    let mut instance = course_cr("db");
    instance.spec.mysql_config_map_name = Some("tuning".into());
    instance.spec.mysql_config = Some(
        [("max_connections".to_string(), "50".into())]
            .into_iter()
            .collect(),
    );
    a.instances
        .create(&PostParams::default(), &instance)
        .await
        .unwrap();
    let waiting = status_message_with(
        &a.instances,
        "ConfigMap tuning",
        "the status to name the missing ConfigMap",
    )
    .await;
    assert!(waiting.contains("missing"), "{waiting}");

    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    let tuning = |data: serde_json::Value| -> ConfigMap {
        serde_json::from_value(json!({"metadata": {"name": "tuning"}, "data": data})).unwrap()
    };
    config_maps
        .create(
            &PostParams::default(),
            &tuning(json!({"wait_timeout": "600", "max_connections": "300"})),
        )
        .await
        .unwrap();
    wait_phase(&a.instances, "db", Phase::Ready).await;
    let args = server_args(&ns);
    assert!(args.contains("--wait_timeout=600"), "{args}");
    assert!(
        args.contains("--max_connections=50"),
        "the spec's own wins: {args}"
    );

    let change = json!({"data": {"wait_timeout": "700", "max_connections": "300"}});
    config_maps
        .patch("tuning", &PatchParams::default(), &Patch::Merge(&change))
        .await
        .unwrap();
    eventually(
        WAIT,
        "the ConfigMap's change in the server's options",
        || async {
            server_args(&ns)
                .contains("--wait_timeout=700")
                .then_some(())
        },
    )
    .await;
    let events = common::events_with_reason(&ns, "ServerRestarting");
    assert!(events.contains("the server's options"), "{events}");

    let locked = json!({"data": {"log-bin": "OFF"}});
    config_maps
        .patch("tuning", &PatchParams::default(), &Patch::Merge(&locked))
        .await
        .unwrap();
    let refused = status_message_with(
        &a.instances,
        "key log-bin is set by the operator",
        "the status to refuse the locked option",
    )
    .await;
    assert!(refused.contains("ConfigMap tuning"), "{refused}");
    let args = server_args(&ns);
    assert!(!args.contains("log-bin=OFF"), "{args}");
    assert!(
        args.contains("--wait_timeout=700"),
        "kept as it was: {args}"
    );
}

/// `spec.tls` without a Secret: the operator issues `NAME-tls` from `NAME-tls-ca`
/// before the server starts, the server mounts it, a Job that talks to the server
/// reads the verifying option file with the CA; a certificate issued again restarts
/// the server, announced.
#[tokio::test]
async fn tls_certificates_are_issued_mounted_verified_and_renewed() {
    let (client, ns, a) = setup("tls").await;
    let _operator = Operator::start(&[&ns]);
    let mut instance = course_cr("db");
    instance.spec.tls = Some(kubectl_mysql::api::TlsSpec::default());
    a.instances
        .create(&PostParams::default(), &instance)
        .await
        .unwrap();
    wait_phase(&a.instances, "db", Phase::Ready).await;
    let issued = a.secrets.get("db-tls").await.unwrap();
    assert_eq!(issued.type_.as_deref(), Some("kubernetes.io/tls"));
    let data = issued.data.clone().unwrap();
    for key in ["tls.crt", "tls.key", "ca.crt"] {
        assert!(data.contains_key(key), "{key}");
    }
    let ca = a.secrets.get("db-tls-ca").await.unwrap().data.unwrap();
    assert_eq!(ca["ca.crt"], data["ca.crt"], "signed by the instance's CA");

    backup_now(&ns, "db");
    let job = a.jobs.get("backup-db-job").await.unwrap();
    let volumes = job.spec.unwrap().template.spec.unwrap().volumes.unwrap();
    let credentials = volumes.iter().find(|v| v.name == "credentials").unwrap();
    assert!(credentials.projected.is_some(), "{credentials:?}");

    a.secrets
        .delete("db-tls", &DeleteParams::default())
        .await
        .unwrap();
    eventually(WAIT, "a certificate issued again", || async {
        let again = a.secrets.get_opt("db-tls").await.ok()??;
        (again.metadata.uid != issued.metadata.uid).then_some(())
    })
    .await;
    eventually(WAIT, "a ServerRestarting Event", || async {
        common::has_event(&ns, "db", "ServerRestarting").then_some(())
    })
    .await;
    let events = common::events_with_reason(&ns, "ServerRestarting");
    assert!(events.contains("the TLS certificate"), "{events}");
    let again = a.secrets.get("db-tls-ca").await.unwrap().data.unwrap();
    assert_eq!(again["ca.crt"], ca["ca.crt"], "the CA is kept");
    drop(client);
}

use k8s_openapi::api::core::v1::Container;

use super::*;
use crate::api::{MySQL, MySQLSpec, S3Storage, SecretKeyRef};
use crate::names::InstanceNames;

fn course_instance() -> MySQL {
    let mut instance = MySQL::new(
        "mysql-instance",
        MySQLSpec {
            image: "mysql:8.4".into(),
            database: "otus-database".into(),
            password: Some("otuspassword".into()),
            password_secret_ref: None,
            storage_size: "1Gi".into(),
            storage_class_name: None,
            backup: None,
            replicas: None,
            failover: None,
            ..Default::default()
        },
    );
    instance.metadata.namespace = Some("default".into());
    instance.metadata.uid = Some("0f7c5e6a-uid".into());
    instance
}

fn context_of(instance: &MySQL) -> InstanceContext {
    let names = InstanceNames::new(
        instance.metadata.name.clone().unwrap(),
        instance.metadata.namespace.clone().unwrap(),
    );
    InstanceContext::new(instance, &names)
}

fn container(job: &Job) -> &Container {
    &job.spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap()
        .containers[0]
}

fn env_names(c: &Container) -> Vec<String> {
    c.env.iter().flatten().map(|e| e.name.clone()).collect()
}

/// No literal env value and no argument may carry the password.
fn assert_no_secret_in(c: &Container, password: &str) {
    for e in c.env.iter().flatten() {
        assert!(
            e.value.as_deref() != Some(password),
            "env {} holds the password",
            e.name
        );
        if ["MYSQL_PWD", "MYSQL_ROOT_PASSWORD", "NEW_PASSWORD"].contains(&e.name.as_str()) {
            assert!(e.value.is_none(), "{} must come from a Secret", e.name);
            assert!(
                e.value_from
                    .as_ref()
                    .and_then(|v| v.secret_key_ref.as_ref())
                    .is_some()
            );
        }
    }
    for arg in c.command.iter().flatten().chain(c.args.iter().flatten()) {
        assert!(!arg.contains(password), "argv holds the password");
    }
}

#[test]
fn course_instance_renders_every_child_with_course_names() {
    let renderer = Renderer::embedded();
    let ctx = context_of(&course_instance());
    let c = children(&renderer, &ctx).unwrap();
    assert_eq!(
        c.deployment.metadata.name.as_deref(),
        Some("mysql-instance")
    );
    assert_eq!(c.service.metadata.name.as_deref(), Some("mysql-instance"));
    assert_eq!(
        c.data_pvc.metadata.name.as_deref(),
        Some("mysql-instance-pvc")
    );
    assert_eq!(
        c.backup_pvc.metadata.name.as_deref(),
        Some("backup-mysql-instance-pvc")
    );
    let pod_labels = c
        .deployment
        .spec
        .as_ref()
        .unwrap()
        .template
        .metadata
        .as_ref()
        .unwrap()
        .labels
        .clone()
        .unwrap();
    assert_eq!(
        pod_labels.get("app").map(String::as_str),
        Some("mysql-instance")
    );
    assert_eq!(
        c.service
            .spec
            .as_ref()
            .unwrap()
            .selector
            .as_ref()
            .unwrap()
            .get("app")
            .map(String::as_str),
        Some("mysql-instance")
    );
    for ns in [
        &c.deployment.metadata.namespace,
        &c.service.metadata.namespace,
        &c.data_pvc.metadata.namespace,
    ] {
        assert_eq!(ns.as_deref(), Some("default"));
    }
}

#[test]
fn storage_size_reaches_every_volume_and_claim() {
    let mut instance = course_instance();
    instance.spec.storage_size = "7Gi".into();
    let c = children(&Renderer::embedded(), &context_of(&instance)).unwrap();
    let pv_size = |pv: &PersistentVolume| {
        pv.spec.as_ref().unwrap().capacity.as_ref().unwrap()["storage"]
            .0
            .clone()
    };
    let pvc_size = |pvc: &PersistentVolumeClaim| {
        pvc.spec
            .as_ref()
            .unwrap()
            .resources
            .as_ref()
            .unwrap()
            .requests
            .as_ref()
            .unwrap()["storage"]
            .0
            .clone()
    };
    assert_eq!(pv_size(c.data_pv.as_ref().unwrap()), "7Gi");
    assert_eq!(pv_size(c.backup_pv.as_ref().unwrap()), "7Gi");
    assert_eq!(pvc_size(&c.data_pvc), "7Gi");
    assert_eq!(pvc_size(&c.backup_pvc), "7Gi");
}

#[test]
fn static_volumes_are_pre_bound_to_their_claims() {
    let c = children(&Renderer::embedded(), &context_of(&course_instance())).unwrap();
    for (pv, pvc) in [
        (c.data_pv.as_ref().unwrap(), &c.data_pvc),
        (c.backup_pv.as_ref().unwrap(), &c.backup_pvc),
    ] {
        let claim_ref = pv.spec.as_ref().unwrap().claim_ref.as_ref().unwrap();
        assert_eq!(claim_ref.name, pvc.metadata.name);
        assert_eq!(claim_ref.namespace.as_deref(), Some("default"));
        let spec = pvc.spec.as_ref().unwrap();
        assert_eq!(spec.volume_name, pv.metadata.name);
        assert_eq!(spec.storage_class_name.as_deref(), Some(""));
        assert_eq!(
            pv.spec
                .as_ref()
                .unwrap()
                .persistent_volume_reclaim_policy
                .as_deref(),
            Some("Retain")
        );
    }
}

#[test]
fn storage_class_means_dynamic_provisioning() {
    let mut instance = course_instance();
    instance.spec.storage_class_name = Some("fast".into());
    let c = children(&Renderer::embedded(), &context_of(&instance)).unwrap();
    assert!(c.data_pv.is_none());
    let spec = c.data_pvc.spec.as_ref().unwrap();
    assert_eq!(spec.storage_class_name.as_deref(), Some("fast"));
    assert!(spec.volume_name.is_none());
}

#[test]
fn with_a_storage_class_the_backup_volume_is_provisioned_and_its_jobs_restricted() {
    let mut instance = course_instance();
    instance.spec.storage_class_name = Some("fast".into());
    let renderer = Renderer::embedded();
    let ctx = context_of(&instance);
    let c = children(&renderer, &ctx).unwrap();
    assert!(c.backup_pv.is_none(), "no hostPath backup volume");
    let spec = c.backup_pvc.spec.as_ref().unwrap();
    assert_eq!(spec.storage_class_name.as_deref(), Some("fast"));
    assert!(spec.volume_name.is_none());
    let run_as = |job: &Job| {
        let pod = job.spec.as_ref()?.template.spec.as_ref()?;
        pod.security_context.as_ref()?.run_as_user
    };
    let backup = backup_job(&renderer, &ctx, "db-1").unwrap();
    assert_eq!(run_as(&backup), Some(crate::pod_security::MYSQL_UID));
    let names = InstanceNames::new("mysql-instance", "default");
    let prune = prune_job(&renderer, &names, "db-1", ("db-1.sql", true)).unwrap();
    assert_eq!(run_as(&prune), Some(crate::pod_security::MYSQL_UID));

    // A hostPath backup volume (an earlier version's): its Jobs stay baseline.
    let mut legacy = ctx.clone();
    legacy.backup_storage_class = None;
    assert!(children(&renderer, &legacy).unwrap().backup_pv.is_some());
    assert_eq!(
        run_as(&backup_job(&renderer, &legacy, "db-1").unwrap()),
        None
    );
    let prune = prune_job(&renderer, &names, "db-1", ("db-1.sql", false)).unwrap();
    assert_eq!(run_as(&prune), None);

    // Our image's own user (65532) can neither add nor remove a file on a hostPath
    // volume (root's, 0755): the containers of ours that write there run as root, with
    // no capability; on a provisioned volume they run as the pod does.
    let container_user = |job: &Job, name: &str| {
        let pod = job.spec.as_ref()?.template.spec.as_ref()?;
        let container = pod.containers.iter().find(|c| c.name == name)?;
        container.security_context.as_ref()?.run_as_user
    };
    assert_eq!(container_user(&prune, "remove"), Some(0));
    let provisioned_prune = prune_job(&renderer, &names, "db-1", ("db-1.sql", true)).unwrap();
    assert_eq!(container_user(&provisioned_prune, "remove"), None);
    let place = || DumpSource::Volume {
        path: "/backup/db-1.xbstream.zst",
    };
    let store_on = |ctx: &InstanceContext| {
        let job = physical_backup_job(&renderer, ctx, "db-1", place()).unwrap();
        container_user(&job, "store")
    };
    assert_eq!(store_on(&legacy), Some(0));
    assert_eq!(store_on(&ctx), None);
}

#[test]
fn the_backup_volumes_class_follows_what_exists() {
    use k8s_openapi::api::core::v1::PersistentVolumeClaimSpec;
    let claim = |class: &str| PersistentVolumeClaim {
        spec: Some(PersistentVolumeClaimSpec {
            storage_class_name: Some(class.into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    assert_eq!(
        backup_storage_class(Some("fast"), false, None).as_deref(),
        Some("fast")
    );
    assert_eq!(backup_storage_class(None, false, None), None);
    // Our hostPath volume exists (dumps of an earlier incarnation on it): kept.
    assert_eq!(backup_storage_class(Some("fast"), true, None), None);
    // The claim decides once it exists.
    assert_eq!(
        backup_storage_class(Some("fast"), false, Some(&claim(""))),
        None
    );
    assert_eq!(
        backup_storage_class(Some("fast"), false, Some(&claim("slow"))).as_deref(),
        Some("slow")
    );
}

#[test]
fn deployment_is_recreate_with_subpath_datadir_and_no_ignore_db_dir() {
    let c = children(&Renderer::embedded(), &context_of(&course_instance())).unwrap();
    let spec = c.deployment.spec.as_ref().unwrap();
    assert_eq!(
        spec.strategy.as_ref().unwrap().type_.as_deref(),
        Some("Recreate")
    );
    let container = &spec.template.spec.as_ref().unwrap().containers[0];
    // Binary logs on, in the image's dialect, and the buffer pool from the default
    // memory limit; no --ignore-db-dir (the subPath).
    let mut expected = crate::dialect::Dialect::of_image("mysql:8.4").server_args(1);
    expected.push("--innodb-buffer-pool-size=536870912".into());
    assert_eq!(container.args.as_ref(), Some(&expected));
    let resources = container.resources.as_ref().unwrap();
    assert_eq!(resources.limits.as_ref().unwrap()["memory"].0, "1Gi");
    assert_eq!(resources.requests.as_ref().unwrap()["cpu"].0, "100m");
    assert!(
        container
            .args
            .iter()
            .flatten()
            .all(|a| !a.contains("ignore-db-dir"))
    );
    // No point-in-time recovery asked for: the server alone.
    assert_eq!(spec.template.spec.as_ref().unwrap().containers.len(), 1);
    let mount = &container.volume_mounts.as_ref().unwrap()[0];
    assert_eq!(mount.mount_path, "/var/lib/mysql");
    assert_eq!(mount.sub_path.as_deref(), Some("mysql"));
    assert_no_secret_in(container, "otuspassword");
    assert_eq!(
        env_names(container),
        vec!["MYSQL_ROOT_PASSWORD", "MYSQL_DATABASE"]
    );
}

#[test]
fn the_servers_settings_resources_and_placement_reach_its_pod() {
    let mut instance = course_instance();
    instance.spec = serde_json::from_value(serde_json::json!({
        "image": "mariadb:10.11", "database": "db", "password": "p", "storage_size": "1Gi",
        "resources": {"requests": {"cpu": 1, "memory": "512Mi"}, "limits": {"memory": "768Mi"}},
        "mysqlConfig": {"max_connections": 321, "sql_mode": "STRICT_ALL_TABLES"},
        "nodeSelector": {"disk": "ssd"},
        "tolerations": [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}],
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]}}},
        "priorityClassName": "databases",
        "replicas": 2
    }))
    .unwrap();
    let c = children(&Renderer::embedded(), &context_of(&instance)).unwrap();
    let pod = c.deployment.spec.unwrap().template.spec.unwrap();
    let args = pod.containers[0].args.clone().unwrap();
    assert!(args.ends_with(&[
        "--max_connections=321".to_string(),
        "--sql_mode=STRICT_ALL_TABLES".to_string(),
        "--innodb-buffer-pool-size=402653184".to_string(),
    ]));
    let resources = pod.containers[0].resources.clone().unwrap();
    assert_eq!(resources.requests.unwrap()["cpu"].0, "1");
    assert_eq!(resources.limits.unwrap()["memory"].0, "768Mi");
    assert_eq!(pod.node_selector.unwrap()["disk"], "ssd");
    assert_eq!(
        pod.tolerations.unwrap()[0].key.as_deref(),
        Some("dedicated")
    );
    assert_eq!(pod.priority_class_name.as_deref(), Some("databases"));
    // The user's affinity replaces the members' spreading.
    let affinity = pod.affinity.unwrap();
    assert!(affinity.pod_anti_affinity.is_none());
    assert!(affinity.node_affinity.is_some());
}

#[test]
fn jobs_use_course_names_and_keep_secrets_out_of_argv() {
    let renderer = Renderer::embedded();
    let ctx = context_of(&course_instance());
    let backup = backup_job(&renderer, &ctx, "mysql-instance-20261124-010203").unwrap();
    let restore = restore_job(
        &renderer,
        &ctx,
        "mysql-instance-20261124-010203",
        "backup-mysql-instance-pvc",
    )
    .unwrap();
    let password = password_job(&renderer, &ctx, "abc").unwrap();
    assert_eq!(
        backup.metadata.name.as_deref(),
        Some("backup-mysql-instance-job")
    );
    assert_eq!(
        restore.metadata.name.as_deref(),
        Some("restore-mysql-instance-job")
    );
    for job in [&backup, &restore, &password] {
        let c = container(job);
        assert_no_secret_in(c, "otuspassword");
        // MySQL 8 deprecated MYSQL_PWD: the tools read an option file from the
        // credentials Secret's volume instead.
        assert!(!env_names(c).contains(&"MYSQL_PWD".to_string()));
        let script = &c.command.as_ref().unwrap()[2];
        assert!(script.contains("--defaults-extra-file=\"$CREDENTIALS/client.cnf\""));
        let mounts: Vec<_> = c
            .volume_mounts
            .iter()
            .flatten()
            .map(|m| m.mount_path.as_str())
            .collect();
        assert!(mounts.contains(&"/etc/mysql-credentials"), "{mounts:?}");
        assert_eq!(
            c.command.as_ref().unwrap()[..2],
            ["sh".to_string(), "-c".to_string()]
        );
    }
    let file = container(&restore)
        .env
        .iter()
        .flatten()
        .find(|e| e.name == "BACKUP_FILE")
        .unwrap();
    assert_eq!(
        file.value.as_deref(),
        Some("mysql-instance-20261124-010203.sql")
    );
}

#[test]
fn the_client_option_file_keeps_every_character_of_the_password() {
    let file = client_option_file("a\\b\"c #d");
    assert_eq!(file, "[client]\nuser=root\npassword=\"a\\\\b\\\"c #d\"\n");
    let data = credentials_data("pw");
    assert_eq!(data["password"].0, b"pw");
    assert!(String::from_utf8_lossy(&data["client.cnf"].0).contains("password=\"pw\""));
}

#[test]
fn restore_into_a_new_instance_mounts_the_source_backup_claim() {
    let ctx = context_of(&course_instance());
    let job = restore_job(
        &Renderer::embedded(),
        &ctx,
        "old-20260101-000000",
        "backup-old-pvc",
    )
    .unwrap();
    let volumes = job.spec.unwrap().template.spec.unwrap().volumes.unwrap();
    assert_eq!(
        volumes[0]
            .persistent_volume_claim
            .as_ref()
            .unwrap()
            .claim_name,
        "backup-old-pvc"
    );
}

#[test]
fn scripts_are_posix_sh_without_bashisms() {
    let renderer = Renderer::embedded();
    let ctx = context_of(&course_instance());
    let jobs = [
        backup_job(&renderer, &ctx, "b").unwrap(),
        restore_job(&renderer, &ctx, "b", "p").unwrap(),
        password_job(&renderer, &ctx, "f").unwrap(),
    ];
    for job in &jobs {
        let script = &container(job).command.as_ref().unwrap()[2];
        for bashism in [
            "[[",
            "==",
            "function ",
            "pipefail",
            "<<<",
            "$'",
            "declare ",
            "local ",
        ] {
            assert!(
                !script.contains(bashism),
                "{bashism} in {}",
                job.metadata.name.as_deref().unwrap()
            );
        }
    }
}

#[test]
fn longest_name_and_odd_database_render() {
    let mut instance = course_instance();
    instance.metadata.name = Some("a".repeat(crate::api::MAX_NAME_LEN));
    instance.metadata.namespace = Some("n".repeat(63));
    instance.spec.database = "odd$name-with_chars".into();
    instance.spec.password = None;
    instance.spec.password_secret_ref = Some(SecretKeyRef {
        name: "s".into(),
        key: Some("k".into()),
    });
    instance.spec.storage_class_name = Some("standard".into());
    let renderer = Renderer::embedded();
    let ctx = context_of(&instance);
    let c = children(&renderer, &ctx).unwrap();
    let job = restore_job(&renderer, &ctx, "x", "y").unwrap();
    assert!(job.metadata.name.as_ref().unwrap().len() <= 63);
    let env = container(&job).env.clone().unwrap();
    assert_eq!(
        env.iter()
            .find(|e| e.name == "MYSQL_DATABASE")
            .unwrap()
            .value
            .as_deref(),
        Some("odd$name-with_chars")
    );
    assert!(ctx.names.backup_pv.len() <= 253);
    assert!(c.backup_pv.is_none());
}

#[test]
fn each_incarnation_gets_its_own_data_directory() {
    let a = course_instance();
    let mut b = course_instance();
    b.metadata.uid = Some("another-uid".into());
    let path = |i: &MySQL| {
        let c = children(&Renderer::embedded(), &context_of(i)).unwrap();
        c.data_pv.unwrap().spec.unwrap().host_path.unwrap().path
    };
    assert_ne!(path(&a), path(&b));
    assert!(path(&a).starts_with("/var/lib/kubectl-mysql/default/mysql-instance/"));
}

#[test]
fn secret_holds_the_password_base64() {
    let ctx = context_of(&course_instance());
    let secret = credentials_secret(
        &Renderer::embedded(),
        &ctx,
        "mysql-instance-credentials",
        "p@ss'w\"rd",
    )
    .unwrap();
    assert_eq!(secret.data.unwrap()["password"].0, b"p@ss'w\"rd");
}

#[test]
fn an_override_replaces_a_template_and_errors_name_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mysql-service.yaml.tera"),
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ name }}-custom\n",
    )
    .unwrap();
    let renderer = Renderer::with_overrides(dir.path()).unwrap();
    let c = children(&renderer, &context_of(&course_instance())).unwrap();
    assert_eq!(
        c.service.metadata.name.as_deref(),
        Some("mysql-instance-custom")
    );

    std::fs::write(
        dir.path().join("mysql-service.yaml.tera"),
        "kind: Service\nmetadata: [oops\n",
    )
    .unwrap();
    let renderer = Renderer::with_overrides(dir.path()).unwrap();
    let error = children(&renderer, &context_of(&course_instance()))
        .unwrap_err()
        .to_string();
    assert!(error.contains("mysql-service.yaml.tera"), "{error}");
    assert!(error.contains("line"), "{error}");

    std::fs::write(
        dir.path().join("mysql-service.yaml.tera"),
        "name: {{ no_such_variable }}\n",
    )
    .unwrap();
    let renderer = Renderer::with_overrides(dir.path()).unwrap();
    let error = children(&renderer, &context_of(&course_instance()))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("mysql-service.yaml.tera") && error.contains("no_such_variable"),
        "{error}"
    );

    std::fs::remove_file(dir.path().join("mysql-service.yaml.tera")).unwrap();
    std::fs::write(dir.path().join("unknown.yaml.tera"), "x: 1\n").unwrap();
    assert!(Renderer::with_overrides(dir.path()).is_err());
}

fn bucket() -> S3Storage {
    serde_json::from_value(serde_json::json!({
        "endpoint": "http://10.88.0.1:9000",
        "bucket": "dumps",
        "prefix": "team",
        "forcePathStyle": true,
        "credentialsSecret": {"name": "s3-keys", "secretAccessKeyKey": "secret"}
    }))
    .unwrap()
}

fn pod_spec(job: &Job) -> &k8s_openapi::api::core::v1::PodSpec {
    job.spec.as_ref().unwrap().template.spec.as_ref().unwrap()
}

/// The access keys reach the mover by reference to the user's Secret, never as a
/// literal value or an argument; the mover is this tool's own image.
fn assert_keys_by_reference(mover: &Container) {
    let env = mover.env.as_ref().unwrap();
    for (name, key) in [
        ("AWS_ACCESS_KEY_ID", "accessKeyId"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
    ] {
        let var = env.iter().find(|e| e.name == name).unwrap();
        assert!(var.value.is_none(), "{name} has a literal value");
        let from = var
            .value_from
            .as_ref()
            .unwrap()
            .secret_key_ref
            .as_ref()
            .unwrap();
        assert_eq!((from.name.as_str(), from.key.as_str()), ("s3-keys", key));
    }
    assert_eq!(
        mover.image.as_deref(),
        Some("registry.local/kubectl-mysql:test")
    );
}

#[test]
fn a_backup_to_a_bucket_dumps_in_the_server_image_and_uploads_in_ours() {
    let renderer = Renderer::embedded().with_operator_image("registry.local/kubectl-mysql:test");
    let ctx = context_of(&course_instance());
    let key = "team/default/mysql-instance/20261203-090000.sql.zst";
    let job = backup_s3_job(&renderer, &ctx, "b", &bucket(), key).unwrap();
    assert_eq!(
        job.metadata.name.as_deref(),
        Some("backup-mysql-instance-job")
    );
    let spec = pod_spec(&job);
    // The pipe is made before either side starts; the upload runs beside the dump.
    let pipe = &spec.init_containers.as_ref().unwrap()[0];
    assert_eq!(
        pipe.command.as_deref().unwrap(),
        ["mkfifo", "-m", "0666", "/work/dump.fifo"]
    );
    let (upload, dump) = (&spec.containers[0], &spec.containers[1]);
    assert_eq!(dump.image.as_deref(), Some("mysql:8.4"));
    let script = &dump.command.as_ref().unwrap()[2];
    assert!(script.contains("\"$MYSQL_DATABASE\" >&3"), "{script}");
    assert!(
        script.contains(") 3>/work/dump.fifo 2>/work/dump.errors"),
        "{script}"
    );
    assert_no_secret_in(dump, "otuspassword");
    assert_keys_by_reference(upload);
    assert_eq!(
        upload.command.as_ref().unwrap()[1..],
        [
            "object-store",
            "--endpoint=http://10.88.0.1:9000",
            "--bucket=dumps",
            "--path-style",
            "upload",
            "--file=/work/dump.fifo",
            "--dump-errors=/work/dump.errors",
            "--key",
            key,
            "--report=/dev/termination-log",
            "--timeline=0f7c5e6a",
        ]
    );
    assert!(script.contains("SELECT @@log_bin"), "{script}");
    assert!(
        script.contains("position=\"--source-data=2 --set-gtid-purged=COMMENTED\""),
        "{script}"
    );
    // No backup volume: the dump meets the uploader through a pipe in an emptyDir.
    let volumes = spec.volumes.as_ref().unwrap();
    assert!(volumes.iter().all(|v| v.persistent_volume_claim.is_none()));
    assert!(volumes.iter().any(|v| v.empty_dir.is_some()));
}

#[test]
fn point_in_time_recovery_puts_the_archiver_beside_the_server() {
    let renderer = Renderer::embedded().with_operator_image("registry.local/kubectl-mysql:test");
    let mut instance = course_instance();
    instance.spec.backup = Some(
        serde_json::from_value(serde_json::json!({
            "storage": {"s3": serde_json::to_value(bucket()).unwrap()},
            "pointInTime": {"enabled": true, "interval": "5m"}
        }))
        .unwrap(),
    );
    let c = children(&renderer, &context_of(&instance)).unwrap();
    let pod = c.deployment.spec.unwrap().template.spec.unwrap();
    assert_eq!(pod.containers.len(), 2);
    let archiver = &pod.containers[1];
    assert_eq!(archiver.name, "binlog-archiver");
    assert_eq!(
        archiver.image.as_deref(),
        Some("registry.local/kubectl-mysql:test")
    );
    assert_keys_by_reference(archiver);
    assert_no_secret_in(archiver, "otuspassword");
    assert_eq!(
        archiver.command.as_ref().unwrap()[1..],
        [
            "object-store",
            "--endpoint=http://10.88.0.1:9000",
            "--bucket=dumps",
            "--path-style",
            "archive-binlogs",
            "--instance-prefix=team/default/mysql-instance/",
            "--timeline=0f7c5e6a",
            "--interval=300s",
            "--datadir=/var/lib/mysql",
            "--password-file=/etc/mysql-credentials/password",
            "--socket=/run/mysqld/mysqld.sock",
        ]
    );
    // It reaches the server by the socket both containers share (a local connection,
    // which require_secure_transport allows without TLS).
    let shares_socket = |c: &Container| {
        c.volume_mounts
            .iter()
            .flatten()
            .any(|m| m.name == "socket" && m.mount_path == "/run/mysqld")
    };
    assert!(shares_socket(archiver) && shares_socket(&pod.containers[0]));
    // It reads the server's datadir and never writes it.
    let data = archiver
        .volume_mounts
        .iter()
        .flatten()
        .find(|m| m.name == "data")
        .unwrap();
    assert_eq!(
        (data.sub_path.as_deref(), data.read_only),
        (Some("mysql"), Some(true))
    );
    // Without a bucket there is nothing to archive to: no archiver.
    instance.spec.backup.as_mut().unwrap().storage = None;
    let c = children(&renderer, &context_of(&instance)).unwrap();
    assert_eq!(
        c.deployment
            .spec
            .unwrap()
            .template
            .spec
            .unwrap()
            .containers
            .len(),
        1
    );
}

#[test]
fn a_restore_from_a_bucket_verifies_the_download_before_the_server_image_loads_it() {
    let renderer = Renderer::embedded().with_operator_image("registry.local/kubectl-mysql:test");
    let ctx = context_of(&course_instance());
    let key = "team/default/mysql-instance/20261203-090000.sql.zst";
    let job = restore_s3_job(&renderer, &ctx, "b", &bucket(), key, None).unwrap();
    assert_eq!(
        job.metadata.name.as_deref(),
        Some("restore-mysql-instance-job")
    );
    let spec = pod_spec(&job);
    let init = spec.init_containers.as_ref().unwrap();
    let download = &init[0];
    assert_keys_by_reference(download);
    let args = download.command.as_ref().unwrap();
    assert!(args.contains(&"download".to_string()) && args.contains(&key.to_string()));
    assert!(args.contains(&"--compressed".to_string()), "{args:?}");
    assert_eq!(
        init[1].command.as_deref().unwrap(),
        ["mkfifo", "-m", "0666", "/work/dump.fifo"]
    );
    // Our image streams the verified dump decompressed into the pipe; it needs no keys.
    let decompress = &spec.containers[0];
    assert_eq!(
        decompress.command.as_deref().unwrap()[1..],
        [
            "decompress-dump",
            "--file=/work/dump.compressed",
            "--into=/work/dump.fifo",
            "--done=/work/dump.done"
        ]
    );
    assert!(decompress.env.is_none());
    let load = &spec.containers[1];
    assert_eq!(load.image.as_deref(), Some("mysql:8.4"));
    let script = &load.command.as_ref().unwrap()[2];
    assert!(script.contains("exec 3<\"$dump\""), "{script}");
    assert!(script.contains("\"$MYSQL_DATABASE\" <&3"), "{script}");
    assert!(script.contains("[ ! -f /work/dump.done ]"), "{script}");
    assert_no_secret_in(load, "otuspassword");
}

#[test]
fn backups_of_a_replicated_instance_dump_from_a_streaming_replica_once_it_caught_up() {
    let renderer = Renderer::embedded();
    let mut instance = course_instance();
    instance.spec.image = "kubectl-mysql.local/mariadb:10.11".into();
    instance.spec.replicas = Some(3);
    let member = |name: &str, role, lag| crate::api::MemberStatus {
        name: name.into(),
        role,
        ready: true,
        node: None,
        gtid: None,
        replicating: Some(role == crate::api::MemberRole::Replica),
        lag_seconds: Some(lag),
        message: None,
    };
    instance.status = Some(crate::api::MySQLStatus {
        primary: Some("mysql-instance".into()),
        members: vec![
            member("mysql-instance", crate::api::MemberRole::Primary, 0),
            member(
                "mysql-instance-member-1",
                crate::api::MemberRole::Replica,
                4,
            ),
            member(
                "mysql-instance-member-2",
                crate::api::MemberRole::Replica,
                1,
            ),
        ],
        ..Default::default()
    });
    let job = backup_job(&renderer, &context_of(&instance), "b").unwrap();
    let c = container(&job);
    let host = c
        .env
        .iter()
        .flatten()
        .find(|e| e.name == "MYSQL_HOST")
        .and_then(|e| e.value.clone());
    assert_eq!(
        host.as_deref(),
        Some("mysql-instance-member-2.default.svc"),
        "the least behind"
    );
    let script = &c.command.as_ref().unwrap()[2];
    let wait = script.find("until applied=$(").unwrap();
    assert!(wait < script.find("mysqldump").unwrap(), "{script}");
    assert!(script.contains("--host=mysql-instance.default.svc"));

    // One server, or point-in-time recovery on: the primary, as always.
    let single = backup_job(&renderer, &context_of(&course_instance()), "b").unwrap();
    let script = &container(&single).command.as_ref().unwrap()[2];
    assert!(!script.contains("primary_position"));
}

#[test]
fn with_tls_the_server_presents_its_certificate_and_jobs_verify_it() {
    let mut instance = course_instance();
    instance.spec.tls = Some(crate::api::TlsSpec {
        secret_name: None,
        require_secure_transport: Some(true),
    });
    let mut ctx = context_of(&instance);
    ctx.tls.as_mut().unwrap().certificate_version = "42".into();
    let renderer = Renderer::embedded();
    let deployment = children(&renderer, &ctx).unwrap().deployment;
    let template = deployment.spec.unwrap().template;
    assert_eq!(
        template.metadata.unwrap().annotations.unwrap()["mysqls.otus.homework/certificate-version"],
        "42"
    );
    let pod = template.spec.unwrap();
    // On hostPath volumes the pod runs as root and mysqld as the mysql user: the 0440
    // certificate files reach it through the group the kubelet gives them.
    let context = pod.security_context.clone().unwrap();
    assert_eq!(context.fs_group, Some(crate::pod_security::MYSQL_UID));
    assert_eq!(context.run_as_user, None, "the image's own user (baseline)");
    let server = &pod.containers[0];
    let args = server.args.clone().unwrap();
    for arg in [
        "--ssl-cert=/etc/mysql-tls/tls.crt",
        "--ssl-key=/etc/mysql-tls/tls.key",
        "--ssl-ca=/etc/mysql-tls/ca.crt",
        "--require-secure-transport=ON",
    ] {
        assert!(args.contains(&arg.to_string()), "{arg} in {args:?}");
    }
    let probe = server
        .readiness_probe
        .clone()
        .unwrap()
        .exec
        .unwrap()
        .command
        .unwrap();
    assert!(
        probe.contains(&"--ssl-mode=REQUIRED".to_string()),
        "{probe:?}"
    );
    let server_credentials = pod
        .volumes
        .iter()
        .flatten()
        .find(|v| v.name == "credentials");
    assert!(
        server_credentials.unwrap().secret.is_some(),
        "the server's own stay plain"
    );
    let tls_volume = pod
        .volumes
        .unwrap()
        .into_iter()
        .find(|v| v.name == "tls")
        .unwrap();
    assert_eq!(
        tls_volume.secret.unwrap().secret_name.as_deref(),
        Some("mysql-instance-tls")
    );
    // The server keeps its plain credentials (its probe and tools are local); a Job
    // that talks to it reads the verifying option file with the CA beside it.
    let backup = backup_job(&renderer, &ctx, "b1").unwrap();
    let volumes = backup.spec.unwrap().template.spec.unwrap().volumes.unwrap();
    let credentials = volumes.iter().find(|v| v.name == "credentials").unwrap();
    assert!(credentials.secret.is_none());
    let sources = credentials.projected.clone().unwrap().sources.unwrap();
    let files: Vec<(String, String, String)> = sources
        .iter()
        .flat_map(|s| {
            let secret = s.secret.clone().unwrap();
            secret
                .items
                .unwrap()
                .into_iter()
                .map(move |i| (secret.name.clone(), i.key, i.path))
        })
        .collect();
    assert!(files.contains(&(
        "mysql-instance-credentials".into(),
        "client-tls.cnf".into(),
        "client.cnf".into()
    )));
    assert!(files.contains(&(
        "mysql-instance-tls".into(),
        "ca.crt".into(),
        "ca.crt".into()
    )));
    let data = credentials_data("pw");
    let verifying = String::from_utf8(data["client-tls.cnf"].0.clone()).unwrap();
    assert!(verifying.contains("ssl-ca=/etc/mysql-credentials/ca.crt"));
    assert!(verifying.contains("loose-ssl-verify-server-cert"));
    assert!(verifying.contains("loose-ssl-mode=VERIFY_IDENTITY"));
    assert!(verifying.starts_with("[client]\nuser=root\npassword=\"pw\"\n"));
}

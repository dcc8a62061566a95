//! Commands on a cluster without our CRDs. Cargo runs integration test binaries in
//! name order, so on the fresh cluster of tests/run this runs before anything installs
//! the CRDs. On a cluster that has them it cannot run without deleting users' data,
//! and says so.

mod common;

use common::{cluster, plugin};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::Api;

#[tokio::test]
async fn every_command_says_to_run_install_crd() {
    let Some(client) = cluster().await else {
        return;
    };
    let crds: Api<CustomResourceDefinition> = Api::all(client);
    if crds
        .get_opt("mysqls.otus.homework")
        .await
        .unwrap()
        .is_some()
    {
        assert!(
            std::env::var("CI").is_err(),
            "CI's fresh cluster already has the CRDs: this test ran too late"
        );
        eprintln!("the CRDs are installed here; this check needs a cluster without them");
        return;
    }
    let cases: [&[&str]; 5] = [
        &["status", "x"],
        &["status", "-A"],
        &["backup", "x"],
        &["restore", "x", "--yes"],
        &["run-operator"],
    ];
    for args in cases {
        let out = plugin().args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(
            stderr.trim_end(),
            "error: the MySQL CRDs are not installed in this cluster: run `kubectl mysql install-crd`",
            "{args:?}"
        );
    }
    let mut create = plugin()
        .args(["create", "x", "--password-stdin"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    create.stdin.take().unwrap().write_all(b"pw\n").unwrap();
    let out = create.wait_with_output().unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("install-crd"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

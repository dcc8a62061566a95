//! Commands on a cluster without our CRDs. The test starts a control plane of its own
//! (tests/cluster/up, a few seconds with the cached binaries), so it needs no run
//! order and deletes nothing on the shared test cluster, where other tests install the
//! CRDs.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::plugin;

/// A fresh control plane, stopped when dropped.
struct FreshPlane {
    dir: tempfile::TempDir,
    kubeconfig: String,
}

impl FreshPlane {
    fn up() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("kubectl-mysql-before-install.")
            .tempdir()
            .unwrap();
        let out = Command::new(script("up")).arg(dir.path()).output().unwrap();
        assert!(
            out.status.success(),
            "tests/cluster/up failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let kubeconfig = stdout
            .lines()
            .find_map(|l| l.strip_prefix("export KUBECONFIG="))
            .expect("up prints the kubeconfig")
            .to_string();
        Self { dir, kubeconfig }
    }
}

impl Drop for FreshPlane {
    fn drop(&mut self) {
        let _ = Command::new(script("down")).arg(self.dir.path()).status();
    }
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/cluster")
        .join(name)
}

#[tokio::test]
async fn every_command_says_to_run_install_crd() {
    let plane = FreshPlane::up();
    let on_plane = |args: &[&str]| {
        let mut command = plugin();
        command.env("KUBECONFIG", &plane.kubeconfig).args(args);
        command
    };
    let crds = Command::new("kubectl")
        .env("KUBECONFIG", &plane.kubeconfig)
        .args(["get", "crd", "-o", "name"])
        .output()
        .unwrap();
    assert!(crds.status.success());
    assert_eq!(String::from_utf8_lossy(&crds.stdout), "", "a fresh plane");
    let cases: [&[&str]; 5] = [
        &["status", "x"],
        &["status", "-A"],
        &["backup", "x"],
        &["restore", "x", "--yes"],
        &["run-operator"],
    ];
    for args in cases {
        let out = on_plane(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(
            stderr.trim_end(),
            "error: the MySQL CRDs are not installed in this cluster: run `kubectl mysql install-crd`",
            "{args:?}"
        );
    }
    let mut create = on_plane(&["create", "x", "--password-stdin"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    create.stdin.take().unwrap().write_all(b"pw\n").unwrap();
    let out = create.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("install-crd"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Nothing was written on the way to that answer.
    let secrets = Command::new("kubectl")
        .env("KUBECONFIG", &plane.kubeconfig)
        .args([
            "get",
            "secret",
            "x-root-password",
            "--ignore-not-found",
            "-o",
            "name",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&secrets.stdout), "");
}

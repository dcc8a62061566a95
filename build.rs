//! The git commit the binary is built from, for `kubectl mysql version`: from
//! `KUBECTL_MYSQL_COMMIT` when the build sets it (a release built outside a clone),
//! else `git rev-parse`, else "unknown".

fn main() {
    println!("cargo:rerun-if-env-changed=KUBECTL_MYSQL_COMMIT");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");
    let commit = std::env::var("KUBECTL_MYSQL_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(|| {
            let out = std::process::Command::new("git")
                .args(["rev-parse", "--short=12", "HEAD"])
                .output()
                .ok()?;
            out.status
                .success()
                .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=KUBECTL_MYSQL_COMMIT={commit}");
}

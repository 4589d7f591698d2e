//! The pre-commit hook (`.pre-commit-hooks.yaml`) run by PyPI's pre-commit itself: `pre-commit
//! try-repo` on this repository (its uncommitted changes included) from a temporary git
//! repository, as a developer trying the hook would. pre-commit builds the hook with `cargo
//! install --path .` (the default features) into a target directory of its own under the test
//! target, unoptimised (`CARGO_PROFILE_RELEASE_*`: the hook's behaviour is under test, not its
//! speed), so later runs rebuild charterguard alone.

use crate::common;
use crate::peers;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

/// A Deployment the charter's error rules accept (K8S-004 and K8S-007 warn about it).
const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: altscore-api}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      securityContext: {runAsNonRoot: true, runAsUser: 10001, seccompProfile: {type: RuntimeDefault}}
      containers:
        - name: web
          image: 111122223333.dkr.ecr.ap-south-1.amazonaws.com/web@sha256:0000000000000000000000000000000000000000000000000000000000000000
          securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
          resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {cpu: 500m, memory: 256Mi}}
";

/// The same Deployment running as root (POD-001, severity error).
fn root_deployment() -> String {
    DEPLOYMENT.replace("{runAsNonRoot: true, runAsUser: 10001,", "{runAsUser: 0,")
}

fn git(repo: &Path, args: &[&str]) {
    let output = Command::new("git").args(args).current_dir(repo).output().expect("git (.ci/run installs it)");
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// `pre-commit try-repo <this repository> charterguard --files FILES` in `repo`.
fn try_repo(repo: &Path, files: &[&str]) -> Output {
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("pre-commit");
    let mut runner = common::program(&peers::venv_program("pre-commit"), repo)
        .args(["try-repo", env!("CARGO_MANIFEST_DIR"), "charterguard", "--verbose", "--files"])
        .args(files)
        .time_bound(Duration::from_secs(1800))
        .env("PRE_COMMIT_HOME", work.join("home"))
        .env("CARGO_TARGET_DIR", work.join("target"))
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
        .env("CARGO_PROFILE_RELEASE_LTO", "false")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "64")
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false");
    // The test's own cargo settings are not the hook's.
    runner.command().env_remove("RUSTFLAGS").env_remove("CARGO_BUILD_TARGET_DIR");
    runner.output()
}

/// The hook fails the commit on a planted POD-001 violation, naming the rule and the file; it
/// scans the changed file's directory (the other file there is judged too), not the rest of
/// the repository; and once the Deployment is fixed it passes.
#[test]
fn the_pre_commit_hook_reports_a_planted_finding() {
    let temp = tempfile::tempdir().unwrap();
    let repo = temp.path();
    git(repo, &["init", "--quiet"]);
    std::fs::create_dir_all(repo.join("apps")).unwrap();
    std::fs::create_dir_all(repo.join("elsewhere")).unwrap();
    std::fs::write(repo.join("apps/web.yaml"), root_deployment()).unwrap();
    std::fs::write(
        repo.join("apps/config.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: altscore-api}\ndata:\n  DB_PASSWORD: q8Zr2LxP0vW7nK4tYb9sHc3m\n",
    )
    .unwrap();
    std::fs::write(repo.join("elsewhere/other.yaml"), root_deployment().replace("name: web", "name: other")).unwrap();
    git(repo, &["add", "."]);

    let failed = try_repo(repo, &["apps/web.yaml"]);
    let stdout = String::from_utf8_lossy(&failed.stdout);
    assert_eq!(failed.status.code(), Some(1), "{stdout}\n{}", String::from_utf8_lossy(&failed.stderr));
    assert!(stdout.contains("charterguard (DA-ALTSCORE-001)") && stdout.contains("Failed"), "{stdout}");
    assert!(stdout.contains("POD-001") && stdout.contains("apps/web.yaml"), "{stdout}");
    assert!(stdout.contains("SEC-002") && stdout.contains("apps/config.yaml"), "the changed file's directory is scanned: {stdout}");
    assert!(!stdout.contains("elsewhere"), "only the changed files' directories: {stdout}");
    assert!(!stdout.contains("q8Zr2LxP0vW7nK4tYb9sHc3m"), "no secret value in the hook's output");

    std::fs::write(repo.join("apps/web.yaml"), DEPLOYMENT).unwrap();
    std::fs::remove_file(repo.join("apps/config.yaml")).unwrap();
    git(repo, &["add", "-A"]);
    let passed = try_repo(repo, &["apps/web.yaml"]);
    let stdout = String::from_utf8_lossy(&passed.stdout);
    assert!(!stdout.contains("POD-001"), "{stdout}");
    // The fixed Deployment still has warnings; only errors fail the hook.
    assert_eq!(passed.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&passed.stderr));
}

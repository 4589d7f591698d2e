//! The project's own delivery files pass the linters teams run on theirs: every workflow and
//! the Action against GitHub's schemas (check-jsonschema's vendored copies), the Dockerfile
//! by hadolint; and the release workflow builds the assets the Action's `version:` input
//! downloads.

use crate::peers;
use std::path::{Path, PathBuf};
use std::process::Command;

fn checkout() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn workflows() -> Vec<PathBuf> {
    let dir = checkout().join(".github/workflows");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).flatten().map(|e| e.path()).collect();
    files.retain(|f| f.extension().is_some_and(|e| e == "yml" || e == "yaml"));
    files.sort();
    files
}

/// Runs a linter from the test peers' venv on `file`; its output when it objects.
fn lint(program: &str, args: &[&str], file: &Path) -> Result<(), String> {
    let output = Command::new(peers::venv_program(program)).args(args).arg(file).current_dir(checkout()).output().expect("running the linter");
    match output.status.success() {
        true => Ok(()),
        false => Err(format!("{program} {}:\n{}{}", file.display(), String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))),
    }
}

#[test]
fn workflows_the_action_and_the_dockerfile_pass_their_linters() {
    let workflows = workflows();
    assert!(workflows.len() >= 2, "ci.yml and release.yml: {workflows:?}");
    let mut failures: Vec<String> = Vec::new();
    for workflow in &workflows {
        failures.extend(lint("check-jsonschema", &["--builtin-schema", "vendor.github-workflows"], workflow).err());
    }
    failures.extend(lint("check-jsonschema", &["--builtin-schema", "vendor.github-actions"], &checkout().join("action.yml")).err());
    failures.extend(lint("hadolint", &["--no-color"], &checkout().join("Dockerfile")).err());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_linters_object_to_what_is_wrong() {
    let temp = tempfile::tempdir().unwrap();
    let workflow = temp.path().join("broken.yml");
    std::fs::write(&workflow, "on: push\njobs:\n  build:\n    steps: []\n").unwrap();
    assert!(lint("check-jsonschema", &["--builtin-schema", "vendor.github-workflows"], &workflow).is_err(), "a job without runs-on");
    let dockerfile = temp.path().join("Dockerfile");
    std::fs::write(&dockerfile, "FROM debian:latest\nRUN apt-get install curl\n").unwrap();
    assert!(lint("hadolint", &["--no-color"], &dockerfile).is_err(), "a latest tag and an unpinned package");
}

/// The targets the release workflow builds: `charterguard-<target>` each.
fn release_assets() -> Vec<String> {
    let text = std::fs::read_to_string(checkout().join(".github/workflows/release.yml")).unwrap();
    let target = regex::Regex::new(r"\{target: ([a-z0-9_-]+), os: [a-z0-9.-]+\}").unwrap();
    target.captures_iter(&text).map(|c| format!("charterguard-{}", &c[1])).collect()
}

#[test]
fn the_release_builds_the_assets_the_action_downloads() {
    let assets = release_assets();
    assert!(assets.len() >= 4, "Linux and macOS, x86_64 and aarch64: {assets:?}");
    let install = std::fs::read_to_string(checkout().join("scripts/action/install.sh")).unwrap();
    let url = regex::Regex::new(r#"url="https://github\.com/[^"]*/releases/download/\$\{INPUT_VERSION\}/([^"]+)""#).unwrap();
    let name = url.captures(&install).expect("install.sh builds the release URL")[1].to_string();
    // GitHub's Linux runners, as `uname -m` names them.
    for arch in ["x86_64", "aarch64"] {
        let asset = name.replace("${arch}", arch);
        assert!(assets.contains(&asset), "the Action downloads {asset}, which the release does not build: {assets:?}");
        assert!(asset.contains("linux-musl"), "a static binary runs on any runner: {asset}");
    }
}

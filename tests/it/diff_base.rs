//! `scan --diff-base REF` on a real git repository: only what the change wrote is reported,
//! and code the change only moved is not new.

use crate::common::charterguard;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

const OLD: &str = "resource \"aws_s3_bucket\" \"old\" {\n  bucket = \"altscore-old-assets\"\n}\n";
const MOVED: &str = "resource \"aws_s3_bucket\" \"moved\" {\n  bucket = \"altscore-moved-assets\"\n}\n";
const NEW: &str = "resource \"aws_s3_bucket\" \"new\" {\n  bucket = \"altscore-new-assets\"\n}\n";

fn git(dir: &Path, args: &[&str]) {
    let output = Command::new("git").args(args).current_dir(dir).output().expect("running git");
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// A repository whose `main` has the old and the to-be-moved bucket in main.tf, on branch
/// `change`.
fn repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    git(repo, &["init", "--quiet", "--initial-branch", "main"]);
    git(repo, &["config", "user.email", "ci@example.test"]);
    git(repo, &["config", "user.name", "CI"]);
    std::fs::write(repo.join("main.tf"), format!("{OLD}\n{MOVED}")).unwrap();
    git(repo, &["add", "."]);
    git(repo, &["commit", "--quiet", "-m", "base"]);
    git(repo, &["checkout", "--quiet", "-b", "change"]);
    dir
}

/// The findings of `scan . --diff-base main` as (address, baseline state), and the exit code.
fn scan_changes(repo: &Path) -> (Vec<(String, String)>, i32) {
    let output = charterguard(repo, &["scan", ".", "--diff-base", "main", "--format", "json"]);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let findings = report["findings"].as_array().unwrap().iter().map(|f| (text(&f["address"]), text(&f["baseline"]))).collect();
    (findings, output.status.code().unwrap())
}

#[test]
fn only_lines_the_change_wrote_are_reported_and_moved_code_is_not_new() {
    let dir = repository();
    let repo = dir.path();
    // The change moves one bucket to a file of its own, committed, and adds one, not yet committed.
    std::fs::write(repo.join("main.tf"), OLD).unwrap();
    std::fs::write(repo.join("moved.tf"), MOVED).unwrap();
    git(repo, &["add", "."]);
    git(repo, &["commit", "--quiet", "-m", "move"]);
    std::fs::write(repo.join("main.tf"), format!("{OLD}\n{NEW}")).unwrap();

    let (findings, code) = scan_changes(repo);
    let of = |address: &str| findings.iter().filter(|(a, _)| a == address).map(|(_, state)| state.as_str()).collect::<Vec<_>>();
    assert!(of("aws_s3_bucket.old").is_empty(), "the untouched violation is not reported: {findings:?}");
    assert!(!of("aws_s3_bucket.new").is_empty() && of("aws_s3_bucket.new").iter().all(|s| *s == "new"), "{findings:?}");
    assert!(!of("aws_s3_bucket.moved").is_empty() && of("aws_s3_bucket.moved").iter().all(|s| *s == "unchanged"), "moved, not new: {findings:?}");
    assert_eq!(code, 1, "the new bucket's errors fail the gate");

    // Without the new bucket, the change only moved code: nothing new, the gate passes.
    std::fs::write(repo.join("main.tf"), OLD).unwrap();
    let (findings, code) = scan_changes(repo);
    assert!(findings.iter().all(|(address, state)| address == "aws_s3_bucket.moved" && state == "unchanged"), "{findings:?}");
    assert_eq!(code, 0);
}

#[test]
fn a_reference_git_does_not_know_is_an_error() {
    let dir = repository();
    let output = charterguard(dir.path(), &["scan", ".", "--diff-base", "no-such-branch"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no-such-branch"), "{}", String::from_utf8_lossy(&output.stderr));
    let option = charterguard(dir.path(), &["scan", ".", "--diff-base=--output=/tmp/x"]);
    assert_eq!(option.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&option.stderr).contains("may not start with `-`"), "{}", String::from_utf8_lossy(&option.stderr));
}

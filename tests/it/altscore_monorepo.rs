//! The scale generator's AltScore platform (`../shared/corpus/gen_monorepo.py altscore`):
//! every misconfiguration it plants (`expected_violations.json`) is reported by the rule of
//! the catalogue that covers it, on the planted resource.

use charterguard::engine::Outcome;
use charterguard::scan::{scan, ScanOptions};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// The catalogue rule for each kind of planted misconfiguration.
fn rule_for(violation: &str) -> Option<&'static str> {
    Some(match violation {
        "s3_sse_not_kms" => "ENC-001",
        "s3_versioning_missing" => "DATA-002",
        "s3_public_access_block_missing" => "DATA-003",
        "kms_rotation_disabled" => "ENC-003",
        "rds_unencrypted" => "ENC-005",
        "redis_no_transit_encryption" => "ENC-006",
        "msk_plaintext" => "ENC-007",
        "rds_public" => "NET-004",
        "sg_ingress_open_to_world" => "NET-001",
        "eks_public_endpoint" => "EKS-004",
        "ecr_no_scan_on_push" | "ecr_mutable_tags" => "IMG-004",
        "k8s_privileged" => "POD-002",
        "k8s_default_deny_missing" => "K8S-003",
        // Not charter rules: RULES.md has no rule on VPC flow logs or on IMDSv2, and its
        // ids are the contract, so no rule reports them.
        "vpc_flow_logs_disabled" | "imdsv2_not_required" => return None,
        other => panic!("the generator plants `{other}`, which this test does not know"),
    })
}

/// `NetworkPolicy/ns/name` and `Deployment/ns/name` in the generator's list name the object by
/// kind, namespace and name; charterguard's addresses are `Kind ns/name`.
fn matches_address(expected: &str, address: &str) -> bool {
    match expected.split('/').collect::<Vec<_>>().as_slice() {
        ["NetworkPolicy", namespace, _] => address == format!("Namespace {namespace}") || address.contains(&format!(" {namespace}/")),
        [kind, namespace, name] => address == format!("{kind} {namespace}/{name}"),
        _ => address == expected,
    }
}

fn generate(dir: &Path, distributors: u32, rate: &str) -> Value {
    let generator = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/gen_monorepo.py");
    let status = Command::new("python3")
        .args([generator, "altscore", "--distributors", &distributors.to_string(), "--violation-rate", rate, "--out"])
        .arg(dir)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3 runs the generator");
    assert!(status.success(), "the generator failed");
    serde_json::from_str(&std::fs::read_to_string(dir.join("expected_violations.json")).unwrap()).unwrap()
}

fn every_planted_violation_is_reported(distributors: u32, rate: &str) {
    let dir = tempfile::tempdir().unwrap();
    let expected = generate(dir.path(), distributors, rate);
    let outcome = scan(&ScanOptions::new(vec![dir.path().to_path_buf()], dir.path().to_path_buf())).unwrap();
    assert!(!outcome.has_errors(), "{:?}", outcome.model.diagnostics);
    let mut missing = Vec::new();
    let planted = expected["violations"].as_array().unwrap();
    for violation in planted {
        let kind = violation["violation"].as_str().unwrap();
        let Some(rule) = rule_for(kind) else { continue };
        let address = violation["address"].as_str().unwrap();
        let found = outcome.findings.iter().any(|f| f.rule_id == rule && f.outcome == Outcome::Violation && matches_address(address, &f.address));
        if !found {
            missing.push(format!("{rule} on {address} ({kind}: {})", violation["detail"]));
        }
    }
    assert!(missing.is_empty(), "{} of {} planted misconfigurations not reported:\n{}", missing.len(), planted.len(), missing.join("\n"));
}

#[test]
fn a_small_platform_with_many_violations() {
    every_planted_violation_is_reported(30, "0.5");
}

#[test]
fn a_larger_platform_at_the_default_rate() {
    every_planted_violation_is_reported(200, "0.1");
}

/// Phase 05 scale (5,000 distributors, about 100,000 Terraform resources): run it with
/// `cargo test --release --test it altscore_monorepo -- --ignored` (docs/benchmarks.md gives its time).
#[test]
#[ignore = "a minute of work: run it explicitly, in release mode"]
fn the_phase_05_platform() {
    every_planted_violation_is_reported(5000, "0.1");
}

//! The bundled example platform (`fixtures/platform`): a prod Terraform root module (network,
//! EKS, data stores, edge, logs, secrets, keys, DR) with a per-distributor data-lake module,
//! and `helm template` output for the platform's charts. Every tf/k8s rule of the catalogue
//! applies to some resource of it; a few violations are planted on purpose (see
//! `fixtures/platform/README.md`) and these tests pin exactly what the scanner reports for it,
//! through the library and through the binary.

use crate::common;

use std::path::PathBuf;
use std::process::Output;
use std::sync::Arc;
use std::time::Duration;

use charterguard::engine::Outcome;
use charterguard::model::{DiagnosticLevel, SourceKind};
use charterguard::report::{render, Format};
use charterguard::scan::{scan, ScanOptions, ScanOutcome};
use serde_json::Value;

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");
const PLATFORM: &str = "fixtures/platform";
const MODULE: &str = "fixtures/platform/terraform/modules/datalake/main.tf";
const PROD_MAIN: &str = "fixtures/platform/terraform/envs/prod/main.tf";
const PROD_VARIABLES: &str = "fixtures/platform/terraform/envs/prod/variables.tf";
const PROD_PROVIDERS: &str = "fixtures/platform/terraform/envs/prod/providers.tf";
const PROD_TFVARS: &str = "fixtures/platform/terraform/envs/prod/terraform.tfvars";
const PROD_SECURITY_GROUPS: &str = "fixtures/platform/terraform/envs/prod/security_groups.tf";
const PROD_EKS: &str = "fixtures/platform/terraform/envs/prod/eks.tf";
const PROD_KMS: &str = "fixtures/platform/terraform/envs/prod/kms.tf";
const PROD_OBSERVABILITY: &str = "fixtures/platform/terraform/envs/prod/observability.tf";
const SCORE_API: &str = "fixtures/platform/k8s/rendered/score-api.yaml";
const GATEWAY: &str = "fixtures/platform/k8s/rendered/gateway.yaml";
const CERT_MANAGER: &str = "fixtures/platform/k8s/rendered/cert-manager.yaml";
const CRONJOB: &str = "CronJob altscore-api/consent-reconciler";

fn base() -> PathBuf {
    PathBuf::from(MANIFEST_DIR)
}

fn scan_platform() -> ScanOutcome {
    let options = ScanOptions::new(vec![base().join(PLATFORM)], base());
    scan(&options).expect("the platform example scans")
}

/// Renders a scan as the CLI would, but with the elapsed time zeroed so the human format is
/// stable enough to snapshot.
fn render_outcome(outcome: &ScanOutcome, format: Format) -> String {
    let source_text = |file: &str| -> Option<Arc<str>> { std::fs::read_to_string(base().join(file)).ok().map(Arc::from) };
    let mut report = outcome.report(&source_text);
    report.elapsed = Duration::ZERO;
    render(&report, format)
}

/// (rule, outcome, subject = address or address + item, file, line)
type Expected = (&'static str, Outcome, String, &'static str, u32);

fn expected() -> Vec<Expected> {
    use Outcome::{Undecided, Violation};
    let lake = |id: &str, bucket: &str| format!("module.datalake[\"{id}\"].aws_s3_bucket.{bucket}");
    let cronjob = |item: &str| format!("{CRONJOB} {item}");
    vec![
        // RES-001: the aliased `us` provider nobody uses.
        ("RES-001", Violation, "provider.aws.us".into(), PROD_PROVIDERS, 25),
        // ENV-001 (warning): that provider pins no account either.
        ("ENV-001", Violation, "provider.aws.us".into(), PROD_PROVIDERS, 23),
        // ENC-001: dst-003's Silver bucket is AES256. The finding is on the module's bucket,
        // but it points at where the value comes from: the distributor's entry in tfvars.
        ("ENC-001", Violation, lake("dst-003", "silver"), PROD_TFVARS, 13),
        // ENC-002: that same bucket therefore has no key of its own at all...
        ("ENC-002", Violation, lake("dst-003", "silver"), MODULE, 85),
        // ...and the Kaveri-group Gold key is shared by dst-002 and dst-004 (a finding on each
        // bucket, pointing at the module argument that passes the shared key).
        ("ENC-002", Violation, lake("dst-002", "gold"), PROD_MAIN, 30),
        ("ENC-002", Violation, lake("dst-004", "gold"), PROD_MAIN, 30),
        // DATA-001: the audit bucket's Object Lock is GOVERNANCE.
        ("DATA-001", Violation, "aws_s3_bucket.audit".into(), PROD_MAIN, 72),
        // The partner-exports key comes from a variable with no value: could not decide,
        // pointing at the variable.
        ("ENC-001", Undecided, "aws_s3_bucket.partner_exports".into(), PROD_VARIABLES, 20),
        // partner_exports carries no distributor, so ENC-002 does not apply to it at all,
        // unknown key or not.
        // The consent-reconciler CronJob: init container without securityContext...
        ("POD-001", Violation, cronjob("initContainer wait-for-db"), SCORE_API, 247),
        ("POD-002", Violation, cronjob("initContainer wait-for-db"), SCORE_API, 247),
        ("POD-003", Violation, cronjob("initContainer wait-for-db"), SCORE_API, 247),
        // ...main container on :latest, with a password from a secretKeyRef.
        ("IMG-001", Violation, cronjob("container reconciler"), SCORE_API, 262),
        ("IMG-002", Violation, cronjob("container reconciler"), SCORE_API, 262),
        ("SEC-001", Violation, cronjob("container reconciler"), SCORE_API, 270),
        // NET-001: port 80 opened on the ALB's group for the HTTP->HTTPS redirect listener; the
        // exception for the ALB is TCP 443 only.
        ("NET-001", Violation, "aws_vpc_security_group_ingress_rule.alb_http".into(), PROD_SECURITY_GROUPS, 184),
        // EKS-005 (warning): a standalone EC2 jump host left from the migration.
        ("EKS-005", Violation, "aws_instance.ops_bastion".into(), PROD_EKS, 165),
        // ENC-004 (warning): the score-signing key is a KMS asymmetric key, not HSM-backed.
        ("ENC-004", Violation, "aws_kms_key.score_signing".into(), PROD_KMS, 33),
        // BAK-003 (warning): the VPC flow-log group sets no retention, so keeps logs forever.
        ("BAK-003", Violation, "aws_cloudwatch_log_group.vpc_flow_logs".into(), PROD_OBSERVABILITY, 31),
        // SEC-002: Kong's Postgres password in a ConfigMap (the report never echoes it).
        ("SEC-002", Violation, "ConfigMap altscore-gateway/kong-config".into(), GATEWAY, 11),
        // K8S-003: an onboarding namespace with no default-deny NetworkPolicy.
        ("K8S-003", Violation, "Namespace altscore-onboarding-dst-005".into(), GATEWAY, 24),
        // TLS-002: a cert-manager Certificate with an RSA-2048 key.
        ("TLS-002", Violation, "Certificate altscore-gateway/partner-webhook-tls".into(), CERT_MANAGER, 45),
    ]
}

fn sorted(mut v: Vec<Expected>) -> Vec<Expected> {
    v.sort_by(|a, b| (a.0, a.2.as_str(), a.3, a.4, a.1).cmp(&(b.0, b.2.as_str(), b.3, b.4, b.1)));
    v
}

#[test]
fn reports_exactly_the_planted_findings() {
    let outcome = scan_platform();
    let errors: Vec<String> = outcome.model.diagnostics.iter().filter(|d| d.level == DiagnosticLevel::Error).map(|d| d.to_string()).collect();
    assert!(errors.is_empty(), "error diagnostics:\n{}", errors.join("\n"));
    assert!(!outcome.has_errors());

    let actual: Vec<Expected> = outcome
        .findings
        .iter()
        .map(|f| {
            let rule: &'static str = Box::leak(f.rule_id.clone().into_boxed_str());
            let file: &'static str = Box::leak(f.span.file.to_string().into_boxed_str());
            (rule, f.outcome, f.subject(), file, f.span.start_line)
        })
        .collect();
    let (actual, expected) = (sorted(actual), sorted(expected()));
    let missing: Vec<_> = expected.iter().filter(|e| !actual.contains(e)).collect();
    let unexpected: Vec<_> = actual.iter().filter(|a| !expected.contains(a)).collect();
    assert!(missing.is_empty() && unexpected.is_empty(), "missing: {missing:#?}\nunexpected: {unexpected:#?}");
    assert_eq!(actual, expected);

    // Undecided findings are reported at note, violations at the rule's severity.
    for f in &outcome.findings {
        let severity = match (f.outcome, f.rule_id.as_str()) {
            (Outcome::Undecided, _) => "note",
            (_, "ENV-001" | "EKS-005" | "ENC-004" | "BAK-003") => "warning",
            _ => "error",
        };
        assert_eq!(f.severity.as_str(), severity, "{}", f.message);
    }
    // Findings inside the module say which module call they came through.
    for f in outcome.findings.iter().filter(|f| f.address.starts_with("module.datalake[")) {
        assert_eq!(f.call_chain.len(), 1, "{}", f.message);
        assert_eq!(&*f.call_chain[0].file, PROD_MAIN);
        assert_eq!(f.call_chain[0].start_line, 22);
    }
    // Rendered Kubernetes findings name the chart template.
    for f in outcome.findings.iter().filter(|f| f.address.starts_with("CronJob")) {
        assert_eq!(f.template.as_deref(), Some("score-api/templates/cronjob-consent-reconciler.yaml"));
    }
}

#[test]
fn loads_the_whole_platform() {
    let outcome = scan_platform();
    // 21 .tf files + terraform.tfvars + 7 rendered YAML files; the README is not an input.
    assert_eq!(outcome.model.files_scanned, 29);
    let addresses: Vec<&str> = outcome.model.resources.iter().map(|r| r.address()).collect();
    for id in ["dst-001", "dst-002", "dst-003", "dst-004"] {
        for bucket in ["bronze", "silver", "gold"] {
            let address = format!("module.datalake[\"{id}\"].aws_s3_bucket.{bucket}");
            assert!(addresses.contains(&address.as_str()), "{address} missing");
        }
        let key = format!("module.datalake[\"{id}\"].aws_kms_key.distributor");
        assert!(addresses.contains(&key.as_str()), "{key} missing");
    }
    for address in [
        "provider.aws",
        "provider.aws.dr",
        "provider.aws.us",
        "aws_s3_bucket.audit",
        "aws_s3_bucket.partner_exports",
        "Deployment altscore-api/score-api",
        "Deployment altscore-ml/scoring-engine",
        "CronJob altscore-api/consent-reconciler",
        "HorizontalPodAutoscaler altscore-api/score-api",
        "Service altscore-api/score-api",
        "Namespace altscore-api",
        "aws_vpc.main",
        "aws_subnet.db[\"ap-south-1c\"]",
        "aws_eks_cluster.main",
        "aws_eks_node_group.ml",
        "aws_db_instance.main",
        "aws_elasticache_replication_group.main",
        "aws_msk_cluster.main",
        "aws_lb_listener.https",
        "aws_ecr_repository.service[\"score-api\"]",
        "azurerm_resource_group.dr",
        "terraform.backend",
        "module.datalake[\"dst-001\"].aws_s3_bucket.gold_dr",
        "PeerAuthentication istio-system/default",
        "PrometheusRule altscore-monitoring/altscore-charter-alerts",
    ] {
        assert!(addresses.contains(&address), "{address} missing from {addresses:#?}");
    }
    // Split v4 settings were joined to their buckets by reference: the compliant bronze
    // bucket of dst-001 carries its Object Lock rule, encryption and versioning.
    let bronze = outcome.model.resources.iter().find(|r| r.address() == "module.datalake[\"dst-001\"].aws_s3_bucket.bronze").unwrap();
    for setting in ["object_lock_configuration", "server_side_encryption_configuration", "versioning", "public_access_block"] {
        assert!(bronze.attrs().get(setting).is_some(), "{setting} not linked to {}", bronze.address());
    }
    assert_eq!(bronze.attrs().get("bucket").and_then(|n| n.as_str()), Some("altscore-prod-dst-001-bronze"));
}

/// The example exercises the whole catalogue: every rule that reads Terraform or Kubernetes
/// input applies to at least one resource of the platform (a trailing `*` in `resource_types`
/// matches a prefix). Rules that only read live AWS/EKS state are out of scope.
#[test]
fn every_rule_applies_to_the_platform() {
    let outcome = scan_platform();
    let (rules, diagnostics) = charterguard::engine::load_rules(&[]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let rtypes: Vec<&str> = outcome.model.resources.iter().map(|r| r.rtype()).collect();
    let mut uncovered = Vec::new();
    let mut checked = 0;
    for rule in &rules {
        if !rule.meta.sources.iter().any(|s| matches!(s, SourceKind::Tf | SourceKind::K8s)) {
            continue;
        }
        checked += 1;
        let applies = rule.spec.resource_types.iter().any(|pattern| match pattern.strip_suffix('*') {
            Some(prefix) => rtypes.iter().any(|t| t.starts_with(prefix)),
            None => rtypes.contains(&pattern.as_str()),
        });
        if !applies {
            uncovered.push(format!("{} ({:?})", rule.meta.id, rule.spec.resource_types));
        }
    }
    assert!(checked >= 58, "only {checked} tf/k8s rules loaded");
    assert!(uncovered.is_empty(), "rules with no resource of the platform to apply to:\n{}", uncovered.join("\n"));
}

#[test]
fn snapshot_json() {
    insta::assert_snapshot!("json", render_outcome(&scan_platform(), Format::Json));
}

#[test]
fn snapshot_human() {
    insta::assert_snapshot!("human", render_outcome(&scan_platform(), Format::Human { color: false }));
}

#[test]
fn sarif_is_valid() {
    let document: Value = serde_json::from_str(&render_outcome(&scan_platform(), Format::Sarif)).unwrap();
    if let Err(errors) = common::validate_sarif(&document) {
        panic!("SARIF does not validate:\n{errors}");
    }
    let results = document["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), expected().len());
    assert_eq!(document["runs"][0]["invocations"][0]["executionSuccessful"], true);
}

#[test]
fn json_is_identical_across_thread_counts_and_runs() {
    let in_pool = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| render_outcome(&scan_platform(), Format::Json))
    };
    let one = in_pool(1);
    let four = in_pool(4);
    assert_eq!(one, four, "1-thread and 4-thread scans differ");
    assert_eq!(in_pool(4), four, "two 4-thread scans differ");
    assert_eq!(render_outcome(&scan_platform(), Format::Json), one, "a scan in the global pool differs");
}

// --- The binary, end to end ----------------------------------------------------------------

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

#[test]
fn cli_scan_sarif_fails_on_errors() {
    let output = common::charterguard(&base(), &["scan", PLATFORM, "--format", "sarif"]);
    assert_eq!(output.status.code(), Some(1), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    let document: Value = serde_json::from_str(&stdout(&output)).expect("stdout is SARIF JSON");
    common::validate_sarif(&document).unwrap_or_else(|e| panic!("SARIF does not validate:\n{e}"));
    let results = document["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), expected().len());
    let uris: Vec<&str> = results.iter().map(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap()).collect();
    assert!(uris.iter().all(|u| u.starts_with("fixtures/platform/")), "{uris:?}");
    // Same document as the library renders.
    assert_eq!(stdout(&output), render_outcome(&scan_platform(), Format::Sarif));
}

#[test]
fn cli_fail_on_never_exits_zero() {
    let output = common::charterguard(&base(), &["scan", PLATFORM, "--format", "json", "--fail-on", "never"]);
    assert_eq!(output.status.code(), Some(0));
    let document: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(document["summary"]["by_severity"]["error"], 16);
    assert_eq!(document["summary"]["by_severity"]["warning"], 4);
    assert_eq!(document["summary"]["undecided"], 1);
}

#[test]
fn cli_broken_file_exits_two_and_still_reports_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("broken.tf"), "resource \"aws_s3_bucket\" \"a\" {\n  bucket = \"x\"\n  tags = {\n").unwrap();
    std::fs::write(dir.path().join("good.tf"), "provider \"aws\" {\n  region = \"eu-west-1\"\n  allowed_account_ids = [\"111122223333\"]\n}\n").unwrap();

    let output = common::charterguard(dir.path(), &["scan", ".", "--format", "human"]);
    assert_eq!(output.status.code(), Some(2), "an unreadable input wins over findings");
    let text = stdout(&output);
    assert!(!text.contains('\x1b'), "no colour when not on a terminal");
    assert!(text.contains("error RES-001  good.tf:2:12"), "{text}");
    assert!(text.contains("error: broken.tf:3:3: HCL syntax error"), "{text}");

    let output = common::charterguard(dir.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(output.status.code(), Some(2));
    let document: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(document["findings"][0]["rule_id"], "RES-001");
    assert_eq!(document["findings"][0]["file"], "good.tf");
    let diagnostic = &document["diagnostics"][0];
    assert_eq!(diagnostic["level"], "error");
    assert_eq!(diagnostic["file"], "broken.tf");
    assert_eq!((diagnostic["line"].as_u64(), diagnostic["column"].as_u64()), (Some(3), Some(3)));
}

#[test]
fn cli_output_writes_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    let output = common::charterguard(&base(), &["scan", PLATFORM, "--format", "json", "--output", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty(), "the report goes to the file only");
    let written = std::fs::read_to_string(&path).unwrap();
    assert_eq!(written, render_outcome(&scan_platform(), Format::Json));
}

#[test]
fn cli_reads_yaml_from_stdin() {
    let yaml = std::fs::read(base().join(SCORE_API)).unwrap();
    let output = common::cli(&base()).args(["scan", "-", "--format", "json"]).stdin(yaml.clone()).output();
    assert_eq!(output.status.code(), Some(1), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    let document: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(document["summary"]["files"], 1);
    let findings: Vec<(String, String, u64)> = document["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["rule_id"].as_str().unwrap().to_string(), f["file"].as_str().unwrap().to_string(), f["start_line"].as_u64().unwrap()))
        .collect();
    let lines = |rule: &str, line: u64| (rule.to_string(), "stdin".to_string(), line);
    assert_eq!(
        findings,
        [lines("POD-001", 247), lines("POD-002", 247), lines("POD-003", 247), lines("IMG-001", 262), lines("IMG-002", 262), lines("SEC-001", 270)]
    );
    // The human report quotes the piped text in its code frames.
    let output = common::cli(&base()).args(["scan", "-", "--format", "human"]).stdin(yaml.clone()).output();
    let text = stdout(&output);
    assert!(text.contains("stdin:270:"), "{text}");
    assert!(text.contains("secretKeyRef:"), "{text}");
}

#[test]
fn cli_rules_lists_and_explains() {
    let output = common::charterguard(&base(), &["rules"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    let ids: Vec<&str> = text.lines().filter_map(|l| l.split_whitespace().next()).collect();
    assert!(ids.len() >= 11, "{text}");
    for id in ["RES-001", "ENC-001", "ENC-002", "DATA-001", "SEC-001", "POD-001", "POD-002", "POD-003", "POD-004", "IMG-001", "IMG-002"] {
        assert!(ids.contains(&id), "{id} not listed:\n{text}");
    }

    let output = common::charterguard(&base(), &["rules", "ENC-002"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(text.starts_with("ENC-002 (error): Each distributor's buckets use a KMS key of their own\n"), "{text}");
    assert!(text.contains("crypto-shredded"), "the help text is printed:\n{text}");
    assert!(text.contains("kms_master_key_id = aws_kms_key.distributor[each.key].arn"), "{text}");

    let output = common::charterguard(&base(), &["rules", "NOPE-999"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no rule NOPE-999"));
}

/// `fixtures/terraform-as-written`: the data lake through registry modules installed by
/// `terraform init`, a distributor list read with `yamldecode(file(...))`, `setproduct`,
/// policy documents, `default_tags` and an OpenTofu override (see its README). Exactly the
/// planted findings, nothing undecided.
mod terraform_as_written {
    use super::*;

    const FIXTURE: &str = "fixtures/terraform-as-written";
    const LAKE: &str = "fixtures/terraform-as-written/envs/prod/lake.tf";

    fn path(file: &str) -> &'static str {
        Box::leak(format!("{FIXTURE}/{file}").into_boxed_str())
    }

    fn scan_fixture() -> ScanOutcome {
        scan(&ScanOptions::new(vec![base().join(FIXTURE)], base())).expect("the fixture scans")
    }

    #[test]
    fn reports_exactly_the_planted_findings() {
        use Outcome::Violation;
        let outcome = scan_fixture();
        let errors: Vec<String> = outcome.model.diagnostics.iter().filter(|d| d.level == DiagnosticLevel::Error).map(|d| d.to_string()).collect();
        assert!(errors.is_empty(), "error diagnostics:\n{}", errors.join("\n"));
        let lake = |key: &str| format!("module.lake_bucket[\"{key}\"].aws_s3_bucket.this[0]");
        let expected = vec![
            ("DATA-001", Violation, lake("dst-003-bronze"), path("data/distributors.yaml"), 16),
            ("ENC-001", Violation, lake("dst-002-bronze"), LAKE, 52),
            ("ENC-001", Violation, lake("dst-002-silver"), LAKE, 52),
            ("TLS-005", Violation, "aws_s3_bucket.trail".to_string(), path("envs/prod/audit.tf"), 87),
            ("ENV-002", Violation, "terraform.backend".to_string(), path("envs/prod/backend.tofu"), 7),
        ];
        let actual: Vec<Expected> = outcome
            .findings
            .iter()
            .map(|f| {
                (
                    &*Box::leak(f.rule_id.clone().into_boxed_str()),
                    f.outcome,
                    f.subject(),
                    &*Box::leak(f.span.file.to_string().into_boxed_str()),
                    f.span.start_line,
                )
            })
            .collect();
        assert_eq!(sorted(actual), sorted(expected));
        // Findings inside the registry module come through its call in lake.tf.
        for f in outcome.findings.iter().filter(|f| f.address.starts_with("module.lake_bucket")) {
            assert_eq!(f.call_chain.iter().map(|s| (&*s.file, s.start_line)).collect::<Vec<_>>(), [(LAKE, 35)], "{}", f.message);
        }
        let note = outcome.model.diagnostics.iter().find(|d| d.file.ends_with("envs/prod/backend.tf")).expect("a note on the file OpenTofu leaves out");
        assert!(note.message.contains("backend.tofu replaces it"), "{note}");
    }

    #[test]
    fn sees_every_resource_terraform_would_plan() {
        let outcome = scan_fixture();
        let addresses: Vec<&str> = outcome.model.resources.iter().map(|r| r.address()).collect();
        for distributor in ["dst-001", "dst-002", "dst-003"] {
            for layer in ["bronze", "silver"] {
                for resource in
                    ["aws_s3_bucket.this[0]", "aws_s3_bucket_versioning.this[0]", "aws_s3_bucket_policy.this[0]", "aws_s3_bucket_public_access_block.this[0]"]
                {
                    let address = format!("module.lake_bucket[\"{distributor}-{layer}\"].{resource}");
                    assert!(addresses.contains(&address.as_str()), "{address} missing");
                }
            }
            let lock = format!("module.lake_bucket[\"{distributor}-bronze\"].aws_s3_bucket_object_lock_configuration.this[0]");
            let replication = format!("module.lake_bucket[\"{distributor}-silver\"].aws_s3_bucket_replication_configuration.this[0]");
            let key = format!("module.distributor_key[\"{distributor}\"].aws_kms_key.this[0]");
            for address in [lock, replication, key, format!("aws_s3_bucket.silver_dr[\"{distributor}\"]")] {
                assert!(addresses.contains(&address.as_str()), "{address} missing");
            }
        }
        // No Object Lock configuration where the module is told not to make one.
        assert!(!addresses.iter().any(|a| a.contains("silver\"].aws_s3_bucket_object_lock_configuration")));
        assert!(!outcome.findings.iter().any(|f| f.outcome == Outcome::Undecided), "nothing undecided");
    }
}

/// `fixtures/environments`: prod, staging and dev root modules named in its config. Exactly
/// the ENV-004 and ENV-005 findings its README plants, each naming its environment.
#[test]
fn environments_are_compared_and_kept_apart() {
    let dir = base().join("fixtures/environments");
    let outcome = scan(&ScanOptions::new(vec![dir], base())).expect("scan runs");
    assert!(!outcome.has_errors(), "{:?}", outcome.model.diagnostics);
    let mut found: Vec<String> = outcome
        .findings
        .iter()
        .filter(|f| f.rule_id.starts_with("ENV-00") && f.rule_id != "ENV-001")
        .map(|f| format!("{} {:?} {}:{} {}", f.rule_id, f.outcome, f.span.file, f.span.start_line, f.subject()))
        .collect();
    found.sort();
    let envs = "fixtures/environments/envs";
    assert_eq!(
        found,
        [
            format!("ENV-004 Violation {envs}/prod/main.tf:58 aws_elasticache_replication_group.sessions (environment production)"),
            format!("ENV-004 Violation {envs}/staging/main.tf:26 aws_db_instance.scores (environment staging)"),
            format!("ENV-005 Violation {envs}/dev/main.tf:63 aws_vpc_peering_connection.to_prod (environment dev)"),
            format!("ENV-005 Violation {envs}/staging/main.tf:49 aws_iam_role.deployer (environment staging)"),
        ]
    );
    let class = outcome.findings.iter().find(|f| f.rule_id == "ENV-004" && f.address == "aws_db_instance.scores").unwrap();
    assert!(class.message.ends_with("instance_class db.t3.medium where production has db.r6g.xlarge"), "{}", class.message);
    // Without `environments:`, one note says the two rules did not run.
    let platform = scan_platform();
    let notes: Vec<&str> = platform.model.diagnostics.iter().map(|d| d.message.as_str()).filter(|m| m.contains("did not run")).collect();
    assert_eq!(notes, ["ENV-004 and ENV-005 did not run: they need `environments:` in charterguard.yaml (each environment's account and root modules)"]);
}

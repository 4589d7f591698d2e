//! `charterguard audit aws` against a real AWS emulator (moto, behind a fault-injecting proxy;
//! see tests/it/peers/moto.rs): the `charter` seed's every expected finding is reported and its
//! compliant resources get none, in three regions of two accounts; failed calls (denied,
//! throttled past the retries, a region not enabled or not answering) are "could not decide"
//! and exit 2; Terraform state names who manages what; baselines show drift; shards merge into
//! the whole audit; `--org` audits an organization's active accounts, each under its
//! environment's name, and cannot pass when an account or the organization cannot be read;
//! policies and network connections that reach another environment's account break ENV-005.

use crate::common;
use crate::peers;

use peers::moto::{self, Fault, FaultKind, Moto, ACCOUNT};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Output};

/// A secret access key no report may ever contain (moto does not check signatures).
const SECRET: &str = "cg-secret-key-never-printed-8a41f0";

struct Run {
    out: Output,
    json: Value,
    sarif: Value,
}

impl Run {
    fn code(&self) -> Option<i32> {
        self.out.status.code()
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }

    fn findings(&self) -> &[Value] {
        self.json["findings"].as_array().expect("findings")
    }

    /// (rule, address) of every finding with this outcome.
    fn with_outcome(&self, outcome: &str) -> BTreeSet<(String, String)> {
        self.findings().iter().filter(|f| f["outcome"] == outcome).map(|f| (text(&f["rule_id"]), text(&f["address"]))).collect()
    }

    fn diagnostics(&self) -> Vec<String> {
        self.json["diagnostics"].as_array().expect("diagnostics").iter().map(|d| text(&d["message"])).collect()
    }

    fn notifications(&self) -> Vec<String> {
        let invocation = &self.sarif["runs"][0]["invocations"][0];
        invocation["toolExecutionNotifications"].as_array().map_or_else(Vec::new, |n| n.iter().map(|n| text(&n["message"]["text"])).collect())
    }

    fn explain(&self) -> String {
        format!("exit {:?}\nstderr:\n{}\ndiagnostics:\n{}", self.code(), self.stderr(), self.diagnostics().join("\n"))
    }
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

/// Runs `charterguard audit aws` in `dir` against the emulator, writing JSON and SARIF.
fn audit(moto: &Moto, dir: &Path, args: &[&str]) -> Run {
    let mut cli = common::cli(dir);
    let command = cli.command();
    moto.apply_env(command);
    command.env("AWS_SECRET_ACCESS_KEY", SECRET);
    let endpoint = moto.endpoint();
    command.args(["audit", "aws", "--endpoint-url", &endpoint, "--format", "json", "-o", "audit.json", "--report", "sarif=audit.sarif"]);
    // Two attempts and short timeouts keep failing calls quick, unless a test says otherwise.
    if !args.contains(&"--max-attempts") {
        command.args(["--max-attempts", "2"]);
    }
    command.args(["--call-timeout", "10"]).args(args);
    let out = cli.output();
    let read = |name: &str| -> Value {
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}\nstderr:\n{}", path.display(), String::from_utf8_lossy(&out.stderr)));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"))
    };
    let run = Run { json: read("audit.json"), sarif: read("audit.sarif"), out };
    common::validate_sarif(&run.sarif).unwrap_or_else(|e| panic!("the audit's SARIF is invalid:\n{e}"));
    for report in [std::fs::read_to_string(dir.join("audit.json")).unwrap(), std::fs::read_to_string(dir.join("audit.sarif")).unwrap(), run.stderr()] {
        assert!(!report.contains(SECRET), "a report printed the secret access key");
    }
    run
}

/// The `--role-arn` and `--regions` arguments that audit what the `charter` seed made.
fn charter_scope(oracle: &Value) -> Vec<String> {
    let mut args = Vec::new();
    for account in oracle["accounts"].as_array().expect("accounts") {
        args.extend(["--role-arn".to_string(), text(&account["role_arn"])]);
    }
    args.extend(["--regions".to_string(), "ap-south-1,ap-south-2,us-east-1".to_string()]);
    args
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// Every expected finding is a violation; no compliant resource has any finding of its rules.
fn check_oracle(run: &Run, oracle: &Value) {
    let violations = run.with_outcome("violation");
    let missing: Vec<String> = oracle["expect"]
        .as_array()
        .expect("expect")
        .iter()
        .filter(|e| !violations.contains(&(text(&e["rule"]), text(&e["arn"]))))
        .map(|e| format!("{} {} ({})", text(&e["rule"]), text(&e["arn"]), text(&e["why"])))
        .collect();
    assert!(missing.is_empty(), "expected findings not reported:\n{}\n{}", missing.join("\n"), run.explain());
    let mut wrong = Vec::new();
    for compliant in oracle["compliant"].as_array().expect("compliant") {
        let arn = text(&compliant["arn"]);
        let rules: BTreeSet<String> = compliant["rules"].as_array().expect("rules").iter().map(text).collect();
        for f in run.findings().iter().filter(|f| text(&f["address"]) == arn && rules.contains(&text(&f["rule_id"]))) {
            wrong.push(format!("{}: {}", text(&f["outcome"]), text(&f["message"])));
        }
    }
    assert!(wrong.is_empty(), "findings on compliant resources:\n{}", wrong.join("\n"));
}

#[test]
fn the_charter_seed_is_judged_finding_for_finding() {
    let moto = moto::shared();
    let dir = tempfile::tempdir().unwrap();
    let oracle = moto.seed("charter");
    let run = audit(&moto, dir.path(), &strs(&charter_scope(&oracle)));
    assert_eq!(run.code(), Some(1), "violations and nothing unread: exit 1\n{}", run.explain());
    check_oracle(&run, &oracle);
    assert!(run.diagnostics().iter().all(|d| !d.contains("failed")), "no call failed:\n{}", run.explain());

    // Live findings: the ARN as logical location, the configuration file as the physical one.
    let result = run.sarif["runs"][0]["results"].as_array().unwrap().iter().find(|r| r["ruleId"] == "RES-001").expect("a RES-001 result");
    let location = &result["locations"][0];
    assert!(text(&location["logicalLocations"][0]["fullyQualifiedName"]).starts_with("arn:aws:"), "{location}");
    assert_eq!(location["physicalLocation"]["artifactLocation"]["uri"], "charterguard.yaml");
    assert_eq!(run.sarif["runs"][0]["automationDetails"]["id"], "charterguard-audit/aws/");
    // Without a state, ENV-003 could not decide, once per account.
    let env003: Vec<&Value> = run.findings().iter().filter(|f| f["rule_id"] == "ENV-003").collect();
    assert_eq!(env003.len(), 2, "{env003:?}");
    assert!(env003.iter().all(|f| f["outcome"] == "undecided"));
    // No terminal: one progress line per finished account and region.
    for region in ["ap-south-1", "ap-south-2", "us-east-1"] {
        assert!(run.stderr().contains(&format!("charterguard: aws {ACCOUNT} {region}: ")), "{}", run.stderr());
    }
}

#[test]
fn every_enabled_region_is_swept_and_unenabled_or_silent_regions_cannot_pass() {
    let moto = moto::shared();
    let dir = tempfile::tempdir().unwrap();
    let oracle = moto.seed("charter");
    // Default: every region DescribeRegions says is enabled, so us-east-1's resources are found.
    moto.regions(&[("me-south-1", "not-opted-in")]);
    let run = audit(&moto, dir.path(), &[]);
    let outside: BTreeSet<String> = run.with_outcome("violation").into_iter().filter(|(rule, _)| rule == "RES-001").map(|(_, arn)| arn).collect();
    for expected in oracle["expect"].as_array().unwrap().iter().filter(|e| e["rule"] == "RES-001" && text(&e["arn"]).contains(ACCOUNT)) {
        assert!(outside.contains(&text(&expected["arn"])), "RES-001 on {} (default regions)\n{}", expected["arn"], run.explain());
    }
    let audited = run.diagnostics().into_iter().find(|d| d.starts_with("audited")).expect("the audit's summary note");
    assert!(!run.stderr().contains(&format!("aws {ACCOUNT} me-south-1:")), "a region not enabled is not audited");
    assert!(audited.contains("1 account(s)"), "{audited}");

    // A listed region that is not enabled, and one that does not answer: could not decide.
    moto.fault(Fault::new(FaultKind::RegionDisabled).region("eu-west-3"));
    let run = audit(&moto, dir.path(), &["--regions", "ap-south-1,me-south-1,eu-west-3"]);
    assert_eq!(run.code(), Some(2), "{}", run.explain());
    let undecided = run.with_outcome("undecided");
    assert!(undecided.iter().any(|(rule, address)| rule == "RES-001" && address.contains(":me-south-1:")), "{undecided:?}");
    assert!(
        undecided.iter().any(|(rule, address)| rule == "ENC-001" && address.contains("s3") || rule == "ENC-005" && address.contains(":eu-west-3:")),
        "{undecided:?}"
    );
    assert!(run.notifications().iter().any(|n| n.contains("region me-south-1 is not enabled")), "{:?}", run.notifications());
    assert!(run.notifications().iter().any(|n| n.contains("eu-west-3") && n.contains("failed")), "{:?}", run.notifications());
    let partial = audit(&moto, dir.path(), &["--regions", "ap-south-1,me-south-1,eu-west-3", "--allow-partial"]);
    assert_eq!(partial.code(), Some(1), "{}", partial.explain());
}

#[test]
fn a_denied_call_cannot_decide_the_rules_it_feeds() {
    let moto = moto::shared();
    let dir = tempfile::tempdir().unwrap();
    let oracle = moto.seed("charter");
    let scope = charter_scope(&oracle);
    moto.faults(&[
        Fault::new(FaultKind::AccessDenied).service("rds").region("ap-south-1").operation("DescribeDBInstances"),
        Fault::new(FaultKind::AccessDenied).service("s3").operation("GetBucketPolicy"),
    ]);
    let run = audit(&moto, dir.path(), &strs(&scope));
    assert_eq!(run.code(), Some(2), "{}", run.explain());
    let undecided = run.with_outcome("undecided");
    let hidden = format!("arn:aws:rds:ap-south-1:{ACCOUNT}:db:*");
    for rule in ["BAK-001", "ENC-005", "NET-004", "RES-001"] {
        assert!(undecided.contains(&(rule.to_string(), hidden.clone())), "{rule} on {hidden}: {undecided:?}");
    }
    // The databases it hid have no verdict, compliant or not.
    let violations = run.with_outcome("violation");
    assert!(!violations.iter().any(|(_, address)| address.starts_with(&format!("arn:aws:rds:ap-south-1:{ACCOUNT}:db:"))), "{violations:?}");
    // A denied per-bucket call leaves the bucket policy unknown: TLS-005 could not decide.
    assert!(undecided.iter().any(|(rule, address)| rule == "TLS-005" && address.starts_with("arn:aws:s3:::")), "{undecided:?}");
    assert!(!violations.iter().any(|(rule, address)| rule == "TLS-005" && address.starts_with("arn:aws:s3:::")), "{violations:?}");
    let notices = run.notifications();
    assert!(notices.iter().any(|n| n.contains("rds:DescribeDBInstances failed") && n.contains("AccessDenied")), "{notices:?}");
    assert!(notices.iter().any(|n| n.contains("s3:GetBucketPolicy failed") && n.contains("arn:aws:s3:::")), "{notices:?}");
    let partial = audit(&moto, dir.path(), &[strs(&scope), vec!["--allow-partial"]].concat());
    assert_eq!(partial.code(), Some(1), "--allow-partial exits by the findings\n{}", partial.explain());
}

/// A `charterguard.yaml` naming the production and staging accounts.
fn configure_environments(dir: &Path, production: &str, staging: &str) {
    let config = format!("environments:\n  production: {{account: \"{production}\"}}\n  staging: {{account: \"{staging}\"}}\n");
    std::fs::write(dir.join("charterguard.yaml"), config).unwrap();
}

/// The (rule, address) pairs of the oracle's `expect`.
fn expected(oracle: &Value) -> BTreeSet<(String, String)> {
    oracle["expect"].as_array().expect("expect").iter().map(|e| (text(&e["rule"]), text(&e["arn"]))).collect()
}

#[test]
fn environment_isolation_is_read_from_the_accounts() {
    let moto = moto::shared();
    let dir = tempfile::tempdir().unwrap();
    let oracle = moto.seed("isolation");
    let (production, staging) = (text(&oracle["production"]), text(&oracle["staging"]));
    configure_environments(dir.path(), &production, &staging);
    let run = audit(&moto, dir.path(), &["--regions", "ap-south-1"]);
    assert_eq!(run.code(), Some(1), "{}", run.explain());
    assert!(run.diagnostics().iter().all(|d| !d.contains("failed")), "no call failed:\n{}", run.explain());
    check_oracle(&run, &oracle);
    // Exactly what names the staging account: nothing naming the outside account (no
    // environment's), the account itself, or a deleted peering.
    let env005 =
        |run: &Run, outcome: &str| -> BTreeSet<(String, String)> { run.with_outcome(outcome).into_iter().filter(|(rule, _)| rule == "ENV-005").collect() };
    assert_eq!(env005(&run, "violation"), expected(&oracle), "{}", run.explain());
    for finding in run.findings().iter().filter(|f| f["rule_id"] == "ENV-005") {
        assert!(text(&finding["message"]).contains(&format!("{staging} (staging)")), "{finding}");
        assert_eq!(finding["live"]["environment"], "production", "{finding}");
    }

    // A policy that could not be read never passes: denied, the keys' and roles' verdicts
    // are "could not decide", the roles' as one for all of them.
    moto.faults(&[
        Fault::new(FaultKind::AccessDenied).service("kms").operation("GetKeyPolicy"),
        Fault::new(FaultKind::AccessDenied).service("iam").operation("ListRoles"),
    ]);
    let denied = audit(&moto, dir.path(), &["--regions", "ap-south-1"]);
    assert_eq!(denied.code(), Some(2), "{}", denied.explain());
    let undecided = env005(&denied, "undecided");
    let roles = format!("arn:aws:iam:::role/* (account {production})");
    assert!(undecided.contains(&("ENV-005".to_string(), roles)), "{undecided:?}");
    let keys: Vec<String> = oracle["compliant"].as_array().unwrap().iter().map(|c| text(&c["arn"])).filter(|arn| arn.contains(":key/")).collect();
    assert_eq!(keys.len(), 2, "{oracle}");
    for key in keys {
        assert!(undecided.contains(&("ENV-005".to_string(), key.clone())), "{key}: {undecided:?}");
    }
    let violations = env005(&denied, "violation");
    assert!(violations.iter().all(|(_, address)| !address.contains(":key/") && !address.contains(":role/")), "{violations:?}");
    assert!(violations.iter().any(|(_, address)| address.contains("vpc-peering-connection/")), "the rest is still judged: {violations:?}");
    assert!(denied.notifications().iter().any(|n| n.contains("kms:GetKeyPolicy failed")), "{:?}", denied.notifications());
}

#[test]
fn throttling_is_retried_and_a_call_throttled_past_its_retries_cannot_decide() {
    let moto = moto::shared();
    let dir = tempfile::tempdir().unwrap();
    moto.seed("charter");
    moto.fault(Fault::new(FaultKind::Throttling).service("kms").region("ap-south-1").operation("ListKeys").times(1));
    let run = audit(&moto, dir.path(), &["--regions", "ap-south-1", "--max-attempts", "3"]);
    assert_eq!(run.code(), Some(1), "a throttled call that succeeds on retry loses nothing\n{}", run.explain());
    let note = run.diagnostics().into_iter().find(|d| d.starts_with("audited")).unwrap();
    assert!(!note.contains(" 0 retried"), "{note}");
    assert!(run.with_outcome("violation").iter().any(|(rule, _)| rule == "ENC-003"), "keys were read after the retry");

    moto.clear_faults();
    moto.fault(Fault::new(FaultKind::Throttling).service("kms").region("ap-south-1").operation("ListKeys"));
    let run = audit(&moto, dir.path(), &["--regions", "ap-south-1"]);
    assert_eq!(run.code(), Some(2), "{}", run.explain());
    let hidden = format!("arn:aws:kms:ap-south-1:{ACCOUNT}:key/*");
    assert!(run.with_outcome("undecided").contains(&("ENC-003".to_string(), hidden)), "{:?}", run.with_outcome("undecided"));
    assert!(moto.count("kms", "ListKeys") >= 2, "the SDK retried: {:?}", moto.stats());
    // Key references of other resources are unknown too: no bucket passes or fails ENC-001 on a guess.
    assert!(run.with_outcome("undecided").iter().any(|(rule, _)| rule == "ENC-001"), "{:?}", run.with_outcome("undecided"));
}

#[test]
fn state_files_name_who_manages_what_and_point_at_the_code() {
    let moto = moto::shared();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("prod.tfstate");
    let oracle = moto.seed_args(&["charter", "--tfstate", state.to_str().unwrap()]);
    // A second state (states are repeatable) manages a bronze bucket that has no Object Lock,
    // from a module whose code writes that (fixtures/ENV-003/live-state-in-a-module).
    let bucket = "arn:aws:s3:::cg-bronze-nolock";
    common::copy_tree(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/ENV-003/live-state-in-a-module"), dir.path());
    let mut args = charter_scope(&oracle);
    args.extend(["--tfstate", "prod.tfstate", "--tfstate", "lake.tfstate", "terraform"].map(String::from));
    let run = audit(&moto, dir.path(), &strs(&args));
    assert!(matches!(run.code(), Some(1)), "{}", run.explain());
    check_oracle(&run, &oracle);
    let managed: Vec<&Value> = run.findings().iter().filter(|f| f["address"] == bucket).collect();
    assert!(managed.iter().all(|f| f["rule_id"] != "ENV-003"), "managed by the second state: {managed:?}");
    for f in &managed {
        assert_eq!(f["live"]["managed_by"], "module.lake.aws_s3_bucket.bronze", "{f}");
        assert_eq!(f["file"], "terraform/modules/lake/main.tf", "{f}");
        assert_eq!(f["call_chain"][0]["file"], "terraform/main.tf", "the module call: {f}");
    }
    // The Object Lock finding points at the line that writes it; others at the block.
    let lock = managed.iter().find(|f| f["rule_id"] == "DATA-001").expect("a DATA-001 finding on the bronze bucket without Object Lock");
    assert_eq!(lock["start_line"], 4, "{lock}");
    assert!(managed.iter().any(|f| f["rule_id"] != "DATA-001" && f["start_line"] == 2), "{managed:?}");
}

#[test]
fn a_baseline_shows_what_drifted_since_the_last_audit() {
    let moto = moto::shared();
    let dir = tempfile::tempdir().unwrap();
    moto.seed("charter");
    let args = ["--regions", "ap-south-1"];
    let first = audit(&moto, dir.path(), &args);
    std::fs::copy(dir.path().join("audit.json"), dir.path().join("last-night.json")).unwrap();
    // Overnight: someone fixes the scratch bucket's encryption and removes the prod bucket's.
    let put_encryption = |bucket: &str| {
        let body = "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm>\
                    <KMSMasterKeyID>alias/aws/s3</KMSMasterKeyID></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>";
        s3_call(&moto, "PUT", &format!("/{bucket}?encryption"), body);
    };
    put_encryption("cg-tmp-scratch");
    s3_call(&moto, "DELETE", "/cg-bronze-dst-001?encryption", "");
    let second = audit(&moto, dir.path(), &[&args[..], &["--baseline", "last-night.json"]].concat());
    let baseline = &second.json["summary"]["baseline"];
    let of = |run: &Run, address: &str| -> BTreeMap<String, String> {
        run.findings().iter().filter(|f| f["address"] == address && f["rule_id"] == "ENC-001").map(|f| (text(&f["message"]), text(&f["baseline"]))).collect()
    };
    assert!(of(&second, "arn:aws:s3:::cg-bronze-dst-001").values().any(|state| state == "new"), "{}", second.explain());
    let resolved: Vec<String> =
        second.json["resolved"].as_array().unwrap().iter().map(|r| format!("{} {}", text(&r["rule_id"]), text(&r["address"]))).collect();
    assert!(resolved.iter().any(|r| r == "ENC-001 arn:aws:s3:::cg-tmp-scratch"), "{resolved:?}");
    assert!(baseline["unchanged"].as_u64().unwrap() > 0 && baseline["new"].as_u64().unwrap() > 0, "{baseline}");
    assert_eq!(baseline["resolved"].as_u64().unwrap() as usize, resolved.len());
    assert!(first.findings().len() > 10);
}

/// A REST call to S3 on the emulator (moto reads the service from the credential scope).
fn s3_call(moto: &Moto, method: &str, path: &str, body: &str) {
    let auth = "AWS4-HMAC-SHA256 Credential=testing/20260101/ap-south-1/s3/aws4_request, SignedHeaders=host, Signature=00";
    let (status, answer) = moto::http(moto.moto_url(), method, path, &[("Authorization", auth)], body.as_bytes()).unwrap();
    assert!((200..300).contains(&status), "{method} {path}: {status} {answer}");
}

#[test]
fn shards_merge_into_the_whole_audit() {
    let moto = moto::shared();
    let dir = tempfile::tempdir().unwrap();
    let oracle = moto.seed("charter");
    let scope = charter_scope(&oracle);
    let whole = audit(&moto, dir.path(), &strs(&scope));
    let fingerprints = |report: &Value| -> BTreeSet<String> { report["findings"].as_array().unwrap().iter().map(|f| text(&f["fingerprint"])).collect() };
    for shard in 0..3 {
        let run = audit(&moto, dir.path(), &[strs(&scope), vec!["--shard", &format!("{shard}/3")]].concat());
        assert!(matches!(run.code(), Some(0 | 1)), "{}", run.explain());
        std::fs::rename(dir.path().join("audit.json"), dir.path().join(format!("shard-{shard}.json"))).unwrap();
        std::fs::rename(dir.path().join("audit.sarif"), dir.path().join(format!("shard-{shard}.sarif"))).unwrap();
    }
    let merge = |files: &[&str]| -> Value {
        let out = common::cli(dir.path()).args(["merge"]).args(files).output();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let merged = merge(&["shard-0.json", "shard-1.json", "shard-2.json"]);
    assert_eq!(fingerprints(&merged), fingerprints(&whole.json), "the shards together audit everything once");
    assert_eq!(merged["summary"]["by_severity"], whole.json["summary"]["by_severity"]);
    let sarif = merge(&["shard-0.sarif", "shard-1.sarif", "shard-2.sarif"]);
    common::validate_sarif(&sarif).unwrap();
    assert_eq!(sarif["runs"].as_array().unwrap().len(), 1, "one run per category");
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), whole.sarif["runs"][0]["results"].as_array().unwrap().len());
}

/// `cargo test --release --test it aws_live -- --ignored --nocapture`: a 10,000-bucket
/// account against the emulator (docs/benchmarks.md's figure).
#[test]
#[ignore]
fn ten_thousand_buckets_complete() {
    let moto = moto::shared();
    let dir = tempfile::tempdir().unwrap();
    let seeded = moto.seed("buckets 10000");
    let started = std::time::Instant::now();
    let run = audit(&moto, dir.path(), &["--regions", "ap-south-1", "--quiet", "--concurrency", "16"]);
    let elapsed = started.elapsed();
    assert!(matches!(run.code(), Some(0 | 1)), "{}", run.explain());
    let buckets = run.json["summary"]["resources"].as_u64().unwrap();
    assert!(buckets >= 10_000, "{buckets} resources");
    let note = run.diagnostics().into_iter().find(|d| d.starts_with("audited")).unwrap();
    println!("10,000 buckets (seeded in {} s): audited in {:.1} s; {note}", seeded["seconds"], elapsed.as_secs_f64());
}

#[test]
fn central_ignores_match_arns_and_the_html_report_charts_accounts() {
    let moto = moto::shared();
    let dir = tempfile::tempdir().unwrap();
    moto.seed("charter");
    let config =
        "ignores:\n  - rule: ENC-001\n    resource: arn:aws:s3:::cg-tmp-scratch\n    reason: scratch bucket, deleted in PLAT-12\n    until: 2099-12-31\n";
    std::fs::write(dir.path().join("charterguard.yaml"), config).unwrap();
    let run = audit(&moto, dir.path(), &["--regions", "ap-south-1", "--report", "html=audit.html"]);
    let scratch = run
        .findings()
        .iter()
        .find(|f| f["rule_id"] == "ENC-001" && f["address"] == "arn:aws:s3:::cg-tmp-scratch")
        .expect("the scratch bucket's ENC-001 finding");
    assert_eq!(scratch["suppression"]["reason"], "scratch bucket, deleted in PLAT-12", "{scratch}");
    assert_eq!(scratch["suppression"]["kind"], "central");
    let html = std::fs::read_to_string(dir.path().join("audit.html")).unwrap();
    assert!(html.contains(&format!("aws {ACCOUNT}")), "findings are charted per account");
    assert!(html.contains("arn:aws:s3:::cg-tmp-scratch"), "the table names live resources by ARN");
}

/// On a terminal, progress is one line redrawn in place (run under `script`, which gives the
/// audit a pseudo-terminal); the line per finished unit still appears above it.
#[test]
fn progress_on_a_terminal_is_one_line_redrawn() {
    let moto = moto::shared();
    let dir = tempfile::tempdir().unwrap();
    moto.seed("charter");
    let audit = format!(
        "{} audit aws --endpoint-url {} --regions ap-south-1,ap-south-2 --max-attempts 2 --format json -o audit.json",
        env!("CARGO_BIN_EXE_charterguard"),
        moto.endpoint()
    );
    let mut command = Command::new("script");
    moto.apply_env(&mut command);
    let out = command.current_dir(dir.path()).args(["-qec", &audit, "/dev/null"]).output().expect("running script (util-linux)");
    let terminal = String::from_utf8_lossy(&out.stdout);
    assert!(terminal.contains("\r\x1b[2K"), "the line is redrawn: {terminal:?}");
    assert!(terminal.contains("account×region×service done"), "{terminal:?}");
    assert!(terminal.contains(&format!("charterguard: aws {ACCOUNT} ap-south-2: ")), "{terminal:?}");
    // Two units of 12 regional services, and the account's buckets and roles.
    assert!(terminal.contains("26/26 account×region×service done"), "the last state counts everything: {terminal:?}");
}

/// The rules judging live AWS resources (`sources` naming `aws`): what an account that cannot
/// be reached leaves undecided.
fn aws_rules() -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let mut rules = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let field = |key: &str| text.lines().find_map(|line| line.strip_prefix(key)).map(str::trim).unwrap_or_default().to_string();
        if field("sources:").trim_matches(['[', ']']).split(',').any(|source| source.trim() == "aws") {
            rules.insert(field("id:"));
        }
    }
    rules
}

/// `audit aws --org` of the `org` seed, in the one region its buckets are in.
fn org_audit(moto: &Moto, dir: &Path, args: &[&str]) -> Run {
    audit(moto, dir, &[&["--org", "--regions", "ap-south-1", "--units", "8"][..], args].concat())
}

/// Accounts of the `org` seed: (id, the account's entry) with this status.
fn org_accounts<'a>(org: &'a Value, status: &str) -> Vec<(String, &'a Value)> {
    org["accounts"].as_array().expect("accounts").iter().filter(|a| a["status"] == status).map(|a| (text(&a["id"]), a)).collect()
}

#[test]
fn an_organization_is_audited_account_by_account() {
    let moto = moto::shared();
    let dir = tempfile::tempdir().unwrap();
    let org = moto.seed("org 50");
    let active = org_accounts(&org, "ACTIVE");
    let suspended = org_accounts(&org, "SUSPENDED");
    assert!(active.len() + suspended.len() >= 51 && suspended.len() >= 10, "{org}");
    // One member in the nested OU `prod` whose audit role cannot be assumed (as AWS denies a
    // role that does not exist or does not trust the caller), one named `production`.
    let members: Vec<&(String, &Value)> = active.iter().filter(|(id, a)| id != ACCOUNT && a["ou"] == "prod").collect();
    let (unreachable, production) = (members[0].0.clone(), members[1].0.clone());
    let role = format!("arn:aws:iam::{unreachable}:role/charterguard-audit");
    moto.fault(Fault::new(FaultKind::AccessDenied).service("sts").operation("AssumeRole").param("RoleArn", &role));
    let config = format!("environments:\n  production: {{account: \"{production}\"}}\n  management: {{account: \"{ACCOUNT}\"}}\n");
    std::fs::write(dir.path().join("charterguard.yaml"), config).unwrap();

    let whole = org_audit(&moto, dir.path(), &[]);
    assert_eq!(whole.code(), Some(2), "an account that cannot be audited: exit 2\n{}", whole.explain());
    let enc001 = |run: &Run| -> BTreeMap<String, Value> {
        run.findings().iter().filter(|f| f["rule_id"] == "ENC-001" && f["outcome"] == "violation").map(|f| (text(&f["address"]), f.clone())).collect()
    };
    let reported = enc001(&whole);
    for (id, account) in active.iter().filter(|(id, _)| *id != unreachable) {
        let finding = reported.get(&text(&account["bucket"])).unwrap_or_else(|| panic!("account {id}'s planted bucket\n{}", whole.explain()));
        assert_eq!(finding["live"]["scope"], id.as_str(), "{finding}");
        let environment = [(production.as_str(), "production"), (ACCOUNT, "management")].iter().find(|(a, _)| a == id).map(|(_, e)| *e);
        assert_eq!(finding["live"]["environment"].as_str(), environment, "{finding}");
    }
    let sarif_result = whole.sarif["runs"][0]["results"].as_array().unwrap().iter().find(|r| r["properties"]["live"]["scope"] == production.as_str());
    assert_eq!(sarif_result.expect("a SARIF result in production")["properties"]["live"]["environment"], "production");
    // Suspended accounts: a note each, and nothing of theirs is read.
    let notes: Vec<String> = whole.json["diagnostics"].as_array().unwrap().iter().filter(|d| d["level"] == "note").map(|d| text(&d["message"])).collect();
    for (id, account) in &suspended {
        assert!(notes.iter().any(|n| n.contains(id.as_str()) && n.contains("SUSPENDED")), "a note for {id}: {notes:?}");
        assert!(!reported.contains_key(&text(&account["bucket"])), "suspended account {id} was audited");
    }
    // The unreachable account: every rule judging AWS could not decide there; an error says why.
    let hidden = format!("arn:aws:*:*:{unreachable}:*");
    let undecided: BTreeSet<String> = whole.with_outcome("undecided").into_iter().filter(|(_, address)| *address == hidden).map(|(rule, _)| rule).collect();
    // Rules comparing environments judge only accounts that `environments:` names: this one is
    // in none, so they have nothing to decide there.
    let judging: BTreeSet<String> = aws_rules().into_iter().filter(|rule| !["ENV-004", "ENV-005"].contains(&rule.as_str())).collect();
    assert_eq!(undecided, judging, "every AWS rule could not decide in {unreachable}");
    assert!(whole.notifications().iter().any(|n| n.contains(&hidden) && n.contains("AccessDenied")), "{:?}", whole.notifications());
    let audited = whole.diagnostics().into_iter().find(|d| d.starts_with("audited")).unwrap();
    assert!(audited.starts_with(&format!("audited {} account(s), {} account×region unit(s)", active.len(), active.len() - 1)), "{audited}");

    // Shards of the organization's account × region list merge into the whole audit.
    for shard in 0..2 {
        let run = org_audit(&moto, dir.path(), &["--shard", &format!("{shard}/2")]);
        assert_eq!(run.code(), Some(2), "{}", run.explain());
        assert!(enc001(&run).len() < reported.len(), "shard {shard} audits part of the organization");
        std::fs::rename(dir.path().join("audit.json"), dir.path().join(format!("shard-{shard}.json"))).unwrap();
    }
    let out = common::charterguard(dir.path(), &["merge", "shard-0.json", "shard-1.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let merged: Value = serde_json::from_slice(&out.stdout).unwrap();
    let fingerprints = |report: &Value| -> BTreeSet<String> { report["findings"].as_array().unwrap().iter().map(|f| text(&f["fingerprint"])).collect() };
    assert_eq!(fingerprints(&merged), fingerprints(&whole.json), "the shards together audit the organization once");
    assert_eq!(merged["summary"]["by_severity"], whole.json["summary"]["by_severity"]);

    // --ou: the accounts under `workloads`, its nested `prod` included; --allow-partial exits
    // by the findings though the unreachable account (in `prod`) could not be audited.
    let ou = org_audit(&moto, dir.path(), &["--ou", &text(&org["ous"]["workloads"]), "--allow-partial"]);
    assert_eq!(ou.code(), Some(1), "{}", ou.explain());
    let under = enc001(&ou);
    for (id, account) in active.iter().filter(|(id, _)| *id != unreachable) {
        let inside = account["ou"] != "root";
        assert_eq!(under.contains_key(&text(&account["bucket"])), inside, "account {id} in {}", account["ou"]);
    }
    assert!(ou.with_outcome("undecided").iter().any(|(_, address)| *address == hidden), "the unreachable account is under prod");

    // --accounts narrows; an id the organization does not have is an error naming it.
    let narrowed = org_audit(&moto, dir.path(), &["--accounts", &format!("{production},999999999999")]);
    assert_eq!(narrowed.code(), Some(2), "{}", narrowed.explain());
    assert_eq!(enc001(&narrowed).keys().cloned().collect::<Vec<_>>(), [format!("arn:aws:s3:::cg-org-{production}")]);
    assert!(narrowed.notifications().iter().any(|n| n.contains("--accounts 999999999999: no such account")), "{:?}", narrowed.notifications());
}

#[test]
fn an_organization_that_cannot_be_listed_is_an_error_not_a_pass() {
    let moto = moto::shared();
    let dir = tempfile::tempdir().unwrap();
    let not_in_use =
        FaultKind::Custom { status: 400, code: "AWSOrganizationsNotInUseException".into(), message: "Your account is not a member of an organization.".into() };
    for (kind, code) in [(FaultKind::AccessDenied, "AccessDeniedException"), (not_in_use, "AWSOrganizationsNotInUseException")] {
        moto.fault(Fault::new(kind).service("organizations").operation("ListAccounts"));
        for partial in [&[][..], &["--allow-partial"][..]] {
            let run = org_audit(&moto, dir.path(), partial);
            assert_eq!(run.code(), Some(2), "{}", run.explain());
            assert!(run.findings().is_empty(), "{}", run.explain());
            let error = run.notifications().into_iter().find(|n| n.contains("organizations:ListAccounts failed")).unwrap_or_else(|| run.explain());
            assert!(error.contains(code) && error.contains("no account was audited"), "{error}");
        }
    }
    // moto answers ListAccounts outside an organization with no account (AWS: the exception
    // above); an organization always lists its management account, so none is an error too.
    moto.clear_faults();
    let run = org_audit(&moto, dir.path(), &[]);
    assert_eq!(run.code(), Some(2), "{}", run.explain());
    assert!(run.notifications().iter().any(|n| n.contains("AWS Organizations lists no account")), "{}", run.explain());
}

/// ENV-004 findings of a run: (address, message) of each with this outcome.
fn env004(run: &Run, outcome: &str) -> BTreeSet<(String, String)> {
    run.findings().iter().filter(|f| f["rule_id"] == "ENV-004" && f["outcome"] == outcome).map(|f| (text(&f["address"]), text(&f["message"]))).collect()
}

#[test]
fn staging_is_compared_with_production_account_to_account() {
    let moto = moto::shared();
    let dir = tempfile::tempdir().unwrap();
    let seeded = moto.seed("environments");
    let (production, staging) = (text(&seeded["production"]), text(&seeded["staging"]));
    configure_environments(dir.path(), &production, &staging);
    let roles: Vec<String> = seeded["role_arns"].as_array().unwrap().iter().flat_map(|r| ["--role-arn".to_string(), text(r)]).collect();
    let scope = [strs(&roles), vec!["--regions", "ap-south-1,ap-south-2"]].concat();

    let whole = audit(&moto, dir.path(), &scope);
    let violations = env004(&whole, "violation");
    let found: BTreeSet<&str> = violations.iter().map(|(address, _)| address.as_str()).collect();
    let planted: BTreeSet<&str> = seeded["expect"].as_array().unwrap().iter().map(|e| e["arn"].as_str().unwrap()).collect();
    assert_eq!(found, planted, "ENV-004 finds exactly what was planted\n{violations:#?}\n{:#?}\n{}", env004(&whole, "undecided"), whole.explain());
    let messages: Vec<&str> = violations.iter().map(|(_, message)| message.as_str()).collect();
    for (part, count) in [
        ("db.t3.medium", 1),
        ("instance_class db.t3.medium where production has db.r6g.xlarge", 1),
        ("14.10", 1),
        ("443", 1),
        ("declared in production but not in staging", 2),
    ] {
        assert_eq!(messages.iter().filter(|m| m.contains(part)).count(), count, "`{part}` in {messages:#?}");
    }
    for pair in seeded["mirrored"].as_array().unwrap() {
        for address in pair.as_array().unwrap() {
            let about: Vec<_> = whole.findings().iter().filter(|f| f["rule_id"] == "ENV-004" && f["address"] == *address).collect();
            assert!(about.is_empty(), "{address} mirrors its counterpart: {about:#?}");
        }
    }
    let unnamed = text(&seeded["undecided"][0]);
    let undecided = env004(&whole, "undecided");
    assert!(undecided.iter().any(|(address, message)| *address == unnamed && message.contains("no name to find it by")), "{undecided:#?}");
    // Findings name their environment in every format.
    let finding = whole.findings().iter().find(|f| f["rule_id"] == "ENV-004" && f["outcome"] == "violation").unwrap();
    assert!(finding["live"]["environment"].is_string(), "{finding}");

    // Production alone: nothing can be compared with staging, so nothing passes or fails.
    let alone = audit(&moto, dir.path(), &["--role-arn", roles[1].as_str(), "--regions", "ap-south-1"]);
    let alone_violations: Vec<String> = alone
        .findings()
        .iter()
        .filter(|f| f["rule_id"] == "ENV-004" && f["outcome"] == "violation")
        .map(|f| format!("{} {}", f["resource_type"], f["message"]))
        .collect();
    assert!(alone_violations.is_empty(), "{alone_violations:#?}");
    let hidden = format!("arn:aws:*:*:{staging}:*");
    let alone_undecided = env004(&alone, "undecided");
    assert!(alone_undecided.iter().any(|(address, message)| *address == hidden && message.contains("was not audited")), "{alone_undecided:#?}");
    assert!(alone_undecided.iter().any(|(_, message)| message.contains("whether staging has it is unknown")), "{alone_undecided:#?}");

    // Shards keep a region of production and staging together: merged, they are the whole.
    let mut shards = Vec::new();
    for shard in 0..2 {
        let run = audit(&moto, dir.path(), &[scope.clone(), vec!["--shard", &format!("{shard}/2")]].concat());
        let name = format!("shard-{shard}.json");
        std::fs::rename(dir.path().join("audit.json"), dir.path().join(&name)).unwrap();
        shards.push((name, run));
    }
    for (_, run) in &shards {
        // One region of both accounts each: production and staging side by side.
        let audited = run.diagnostics().into_iter().find(|d| d.starts_with("audited")).unwrap();
        assert!(audited.starts_with("audited 2 account(s), 2 account×region unit(s)"), "{audited}");
    }
    let out = common::charterguard(dir.path(), &["merge", "shard-0.json", "shard-1.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let merged: Value = serde_json::from_slice(&out.stdout).unwrap();
    let env = |report: &Value| -> BTreeSet<(String, String)> {
        let findings = report["findings"].as_array().unwrap().iter().filter(|f| f["rule_id"] == "ENV-004");
        findings.map(|f| (text(&f["fingerprint"]), text(&f["outcome"]))).collect()
    };
    assert_eq!(env(&merged), env(&whole.json), "the shards compare what the whole audit compares");
}

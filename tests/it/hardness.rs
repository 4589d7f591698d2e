//! "A scanner that crashes on one odd file is not trusted": hostile and broken inputs, each
//! scanned end to end beside a good file. Every one must end in a diagnostic naming the file
//! (and line:col where known), the other files scanned, exit code 2 for errors, within a time
//! bound, and never a panic or a hang. Plus: planted secrets never reach any report format.

use crate::common;
use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::time::{Duration, Instant};

use charterguard::report::{render, Format};
use charterguard::scan::{scan, ScanOptions, ScanOutcome};

/// The time any one of these scans may take (debug build, a shared 2-core machine).
const TIME_BOUND: Duration = Duration::from_secs(60);

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// A good manifest every scan holds too: its findings prove the scan went on.
const GOOD: &str =
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: good\n  namespace: altscore-api\nspec:\n  containers:\n    - name: app\n      image: nginx:latest\n";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs the CLI on `args` in `dir`, killing it at the time bound.
fn charterguard(dir: &Path, args: &[&str]) -> Run {
    let Output { status, stdout, stderr } = common::cli(dir).args(args).env("NO_COLOR", "1").time_bound(TIME_BOUND).output();
    let run = Run { code: status.code().unwrap_or(-1), stdout: String::from_utf8_lossy(&stdout).into(), stderr: String::from_utf8_lossy(&stderr).into() };
    assert!(!run.stderr.contains("panicked") && !run.stderr.contains("overflow"), "charterguard crashed: {}", run.stderr);
    run
}

/// Scans `dir` (holding the hostile input and `good.yaml`) as JSON and returns the
/// diagnostics as `file[:line:col]: message` lines, after checking the exit code and that
/// the good file was still judged.
fn scan_json(dir: &Path, extra: &[&str], expected_code: i32) -> Vec<String> {
    let mut args = vec!["scan", ".", "--format", "json"];
    args.extend_from_slice(extra);
    let run = charterguard(dir, &args);
    assert_eq!(run.code, expected_code, "exit code; stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout));
    let findings = report["findings"].as_array().unwrap();
    assert!(findings.iter().any(|f| f["file"] == "good.yaml" && f["rule_id"] == "IMG-002"), "good.yaml was not scanned: {}", run.stdout);
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let at = match (d["line"].as_u64(), d["column"].as_u64()) {
                (Some(line), Some(column)) => format!(":{line}:{column}"),
                _ => String::new(),
            };
            format!("{} {}{at}: {}", d["level"].as_str().unwrap_or("?"), d["file"].as_str().unwrap_or("?"), d["message"].as_str().unwrap_or("?"))
        })
        .collect()
}

fn hostile_dir(name: &str, bytes: impl AsRef<[u8]>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.yaml", GOOD);
    write(dir.path(), name, bytes);
    dir
}

fn assert_diagnostic(diagnostics: &[String], expected: &str) {
    assert!(diagnostics.iter().any(|d| d.contains(expected)), "no diagnostic containing {expected:?} in {diagnostics:#?}");
}

// 1. Nesting bombs in HCL.

#[test]
fn hcl_nesting_bombs_are_syntax_errors_at_their_position() {
    let bombs = [
        ("brackets", format!("locals {{\n  x = {}{}\n}}\n", "[".repeat(10_000), "]".repeat(10_000))),
        ("braces", format!("locals {{\n  x = {}1{}\n}}\n", "{a = ".repeat(10_000), "}".repeat(10_000))),
        ("parens", format!("locals {{\n  x = {}1{}\n}}\n", "(".repeat(10_000), ")".repeat(10_000))),
        ("calls", format!("locals {{\n  x = {}\"a\"{}\n}}\n", "upper(".repeat(10_000), ")".repeat(10_000))),
        ("templates", format!("locals {{\n  x = {}1{}\n}}\n", "\"${".repeat(10_000), "}\"".repeat(10_000))),
        ("blocks", format!("resource \"aws_s3_bucket\" \"b\" {{\n{}{}}}\n", "a {\n".repeat(10_000), "}\n".repeat(10_000))),
        ("operators", format!("locals {{\n  x = {}\n}}\n", vec!["1"; 10_000].join(" + "))),
    ];
    for (name, text) in bombs {
        let dir = hostile_dir(&format!("{name}/main.tf"), text);
        let diagnostics = scan_json(dir.path(), &[], 2);
        let expected = format!("error {name}/main.tf:");
        assert!(diagnostics.iter().any(|d| d.starts_with(&expected) && d.contains("HCL syntax error") && d.contains("at most")), "{name}: {diagnostics:#?}");
    }
}

#[test]
fn deeply_nested_calls_within_the_parser_limit_are_evaluated() {
    let dir = hostile_dir(
        "tf/main.tf",
        format!("locals {{\n  x = {}\"a\"{}\n}}\nresource \"aws_s3_bucket\" \"b\" {{\n  bucket = local.x\n}}\n", "upper(".repeat(60), ")".repeat(60)),
    );
    let run = charterguard(dir.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.contains("aws_s3_bucket.b"), "{}", run.stdout);
}

#[test]
fn a_chain_of_ten_thousand_locals_is_cut_with_an_error() {
    let mut text = String::from("locals {\n");
    for i in 0..10_000 {
        text.push_str(&format!("  x{i} = local.x{}\n", i + 1));
    }
    text.push_str("  x10000 = \"v\"\n}\nresource \"aws_s3_bucket\" \"b\" {\n  bucket = local.x0\n}\n");
    let dir = hostile_dir("tf/main.tf", text);
    let diagnostics = scan_json(dir.path(), &[], 2);
    assert_diagnostic(&diagnostics, "nested deeper than 256 levels");
    assert!(diagnostics.iter().any(|d| d.starts_with("error tf/main.tf:257:")), "{diagnostics:#?}");
}

// 2. Size.

#[test]
fn a_heredoc_of_several_megabytes_loads() {
    let line = format!("{}\n", "a".repeat(99));
    let text = format!("resource \"aws_s3_bucket\" \"b\" {{\n  bucket = \"x\"\n  policy = <<EOT\n{}EOT\n}}\n", line.repeat(50_000));
    assert!(text.len() > 4_000_000);
    let dir = hostile_dir("tf/main.tf", text);
    let run = charterguard(dir.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.contains("aws_s3_bucket.b"), "the resource with the heredoc was evaluated");
}

#[test]
fn a_file_over_the_size_limit_is_skipped_with_a_note() {
    let text = format!("locals {{\n  x = \"{}\"\n}}\n", "a".repeat(2_000_000));
    let dir = hostile_dir("tf/main.tf", text);
    let diagnostics = scan_json(dir.path(), &["--max-file-size", "1000000"], 1);
    assert_diagnostic(&diagnostics, "note tf/main.tf: skipped: 2000020 bytes is over the 1000000-byte limit (--max-file-size)");
}

// 3. YAML and encodings.

#[test]
fn a_yaml_alias_bomb_is_refused_quickly() {
    let mut text = String::from("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    for i in 1..10u8 {
        let (prev, cur) = ((b'a' + i - 1) as char, (b'a' + i) as char);
        text.push_str(&format!("{cur}: &{cur} [{}]\n", vec![format!("*{prev}"); 9].join(",")));
    }
    let dir = hostile_dir("lol.yaml", text);
    let started = Instant::now();
    let diagnostics = scan_json(dir.path(), &[], 2);
    assert!(started.elapsed() < Duration::from_secs(30), "took {:?}", started.elapsed());
    assert_diagnostic(&diagnostics, "error lol.yaml:");
    assert_diagnostic(&diagnostics, "billion laughs");
}

#[test]
fn ten_thousand_levels_of_yaml_nesting_are_refused() {
    let flow = format!("{}{}\n", "[".repeat(10_000), "]".repeat(10_000));
    let mapping = format!("{}1{}\n", "{a: ".repeat(10_000), "}".repeat(10_000));
    // Block nesting grows quadratically with its indentation: 3,000 levels are 4.5 MB.
    let block: String = (0..3_000).map(|i| format!("{}a:\n", " ".repeat(i))).collect();
    for (name, text) in [("flow.yaml", flow), ("mapping.yaml", mapping), ("block.yaml", block)] {
        let dir = hostile_dir(name, text);
        let diagnostics = scan_json(dir.path(), &[], 2);
        assert!(diagnostics.iter().any(|d| d.starts_with(&format!("error {name}:")) && d.contains("YAML nesting deeper than")), "{diagnostics:#?}");
    }
}

#[test]
fn a_nul_byte_after_the_binary_check_is_an_error_at_its_position() {
    let mut yaml = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n".to_vec();
    for i in 0..2000 {
        yaml.extend_from_slice(format!("  k{i}: v\n").as_bytes());
    }
    yaml.extend_from_slice(b"  z: \"a\0b\"\n");
    let dir = hostile_dir("nul.yaml", &yaml);
    let diagnostics = scan_json(dir.path(), &[], 2);
    assert_diagnostic(&diagnostics, "error nul.yaml:2006:8: NUL byte in the text");

    let mut tf = b"locals {\n".to_vec();
    tf.extend_from_slice(&b"  a = 1\n".repeat(2000));
    tf.extend_from_slice(b"  z = \"a\0b\"\n}\n");
    let dir = hostile_dir("tf/main.tf", &tf);
    let diagnostics = scan_json(dir.path(), &[], 2);
    assert_diagnostic(&diagnostics, "error tf/main.tf:2002:9: NUL byte in the text");

    // In the first 8 KiB: a binary file, skipped with a note.
    let dir = hostile_dir("early.yaml", b"kind: ConfigMap\0\n");
    let diagnostics = scan_json(dir.path(), &[], 1);
    assert_diagnostic(&diagnostics, "note early.yaml: skipped: binary file");
}

#[test]
fn files_that_are_not_utf8_are_errors_with_their_position() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.yaml", GOOD);
    write(dir.path(), "latin1.yaml", b"kind: ConfigMap\nmetadata:\n  name: caf\xe9\n");
    write(dir.path(), "tf/main.tf", b"locals {\n  x = \"\xff\xfe\"\n}\n");
    let diagnostics = scan_json(dir.path(), &[], 2);
    assert_diagnostic(&diagnostics, "error latin1.yaml:3:12: not UTF-8 text; YAML and JSON files must be UTF-8");
    assert_diagnostic(&diagnostics, "error tf/main.tf:2:8: not UTF-8 text; Terraform files must be UTF-8");
}

// 4. Files that vanish, symlinks.

#[test]
fn a_file_that_vanishes_between_discovery_and_loading_cannot_be_read() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.yaml", GOOD);
    write(dir.path(), "gone.yaml", GOOD.replace("good", "gone"));
    write(dir.path(), "tf/main.tf", "resource \"aws_sqs_queue\" \"q\" {}\n");
    write(dir.path(), "tf/gone.tf", "resource \"aws_sqs_queue\" \"gone\" {}\n");
    let root = dir.path().to_path_buf();
    // The library pieces in the scan's order: discover, delete, load.
    let inputs = charterguard::input::discover(std::slice::from_ref(&root), &root, &charterguard::input::Walk::default());
    assert_eq!(inputs.manifests.len(), 2);
    std::fs::remove_file(root.join("gone.yaml")).unwrap();
    std::fs::remove_file(root.join("tf/gone.tf")).unwrap();
    let tf = charterguard::terraform::load(&inputs.terraform, &charterguard::terraform::Options::new(root.clone()));
    let messages: Vec<String> = tf.diagnostics.iter().map(|d| d.to_string()).collect();
    assert!(messages.iter().any(|m| m.starts_with("tf/gone.tf: cannot read: ")), "{messages:?}");
    assert!(tf.resources.iter().any(|r| r.address == "aws_sqs_queue.q"), "the other file of the module was still read");
    let manifests: Vec<String> = inputs
        .manifests
        .iter()
        .map(|p| charterguard::input::read_text(p, &p.file_name().unwrap().to_string_lossy(), "YAML").map(|_| String::new()).unwrap_or_else(|d| d.to_string()))
        .collect();
    assert!(manifests.iter().any(|m| m.starts_with("gone.yaml: cannot read: ")), "{manifests:?}");
}

#[cfg(unix)]
#[test]
fn a_dangling_symlink_cannot_be_read_and_the_rest_is_scanned() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.yaml", GOOD);
    std::os::unix::fs::symlink(dir.path().join("nowhere.yaml"), dir.path().join("dangling.yaml")).unwrap();
    let diagnostics = scan_json(dir.path(), &[], 2);
    assert!(diagnostics.iter().any(|d| d.starts_with("error dangling.yaml") && d.contains("cannot read")), "{diagnostics:#?}");
}

#[cfg(unix)]
#[test]
fn a_symlink_loop_is_a_note_and_the_rest_is_scanned() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.yaml", GOOD);
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::os::unix::fs::symlink(dir.path(), dir.path().join("sub/loop")).unwrap();
    let diagnostics = scan_json(dir.path(), &[], 1);
    assert!(diagnostics.iter().any(|d| d.starts_with("note sub/loop") && d.contains("symbolic link loop")), "{diagnostics:#?}");
}

// 5. Module recursion.

#[test]
fn a_module_that_calls_itself_is_an_error_through_the_cli() {
    let dir = hostile_dir("tf/main.tf", "module \"again\" {\n  source = \"./\"\n}\nresource \"aws_sqs_queue\" \"q\" {}\n");
    let diagnostics = scan_json(dir.path(), &[], 2);
    assert!(diagnostics.iter().any(|d| d.starts_with("error tf/main.tf:1:1") && d.contains("modules nested deeper than 32 levels")), "{diagnostics:#?}");
}

// 6. Terraform's file functions read inside the scanned directories only.

#[test]
fn file_functions_never_read_outside_the_scanned_directories() {
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "secret.txt", "S3cr3t-Outside-File");
    let main = "resource \"aws_s3_bucket\" \"passwd\" {\n  bucket = file(\"/etc/passwd\")\n}\n\
                resource \"aws_s3_bucket\" \"up\" {\n  bucket = file(\"../../x\")\n}\n\
                resource \"aws_s3_bucket\" \"link\" {\n  bucket = file(\"link.txt\")\n}\n\
                resource \"aws_s3_bucket\" \"listing\" {\n  bucket = join(\",\", fileset(\"/etc\", \"*\"))\n}\n\
                resource \"aws_s3_bucket\" \"hash\" {\n  bucket = filesha256(\"/etc/hostname\")\n}\n";
    let dir = hostile_dir("tf/main.tf", main);
    #[cfg(unix)]
    std::os::unix::fs::symlink(outside.path().join("secret.txt"), dir.path().join("tf/link.txt")).unwrap();
    let run = charterguard(dir.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let refused: Vec<u64> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["level"] == "error" && d["file"] == "tf/main.tf" && d["message"].as_str().is_some_and(|m| m.contains("outside the scanned directories")))
        .filter_map(|d| d["line"].as_u64())
        .collect();
    assert_eq!(refused, [2, 5, 8, 11, 14], "{}", run.stdout);
    for leaked in ["S3cr3t-Outside-File", "root:x:0:0", "passwd\",\"group"] {
        assert!(!run.stdout.contains(leaked) && !run.stderr.contains(leaked), "{leaked} leaked: {}", run.stdout);
    }
}

#[test]
fn a_template_that_includes_itself_is_an_error_not_a_recursion() {
    let dir = hostile_dir("tf/main.tf", "resource \"aws_s3_bucket\" \"t\" {\n  bucket = templatefile(\"${path.module}/self.tftpl\", {})\n}\n");
    write(dir.path(), "tf/self.tftpl", "again: ${templatefile(\"self.tftpl\", {})}");
    let run = charterguard(dir.path(), &["scan", ".", "--format", "json"]);
    assert!(run.stdout.contains("cannot call templatefile from inside a template"), "{}", run.stdout);
}

#[test]
fn yamldecode_of_an_alias_bomb_is_an_error_value_and_the_scan_goes_on() {
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        bomb.push_str(&format!("a{i}: &a{i} [{}]\n", vec![format!("*a{}", i - 1); 10].join(", ")));
    }
    let dir = hostile_dir("tf/bomb.yaml.tpl", bomb);
    write(
        dir.path(),
        "tf/main.tf",
        "locals {\n  doc = yamldecode(file(\"${path.module}/bomb.yaml.tpl\"))\n}\nresource \"aws_s3_bucket\" \"b\" {\n  bucket = local.doc.a9[0][0]\n}\n",
    );
    let started = Instant::now();
    let run = charterguard(dir.path(), &["scan", ".", "--format", "json"]);
    assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
    assert!(run.stdout.contains("aws_s3_bucket.b"), "{}", run.stdout);
    assert!(run.stdout.contains("alias expansion exceeds"), "{}", run.stdout);
}

// 7. Secrets never appear in any report.

const PLANTED: &[&str] = &[
    "S3cr3t-Planted-Value-1",
    "S3cr3t-Planted-Value-2",
    "S3cr3t-Planted-Value-3",
    "S3cr3t-Planted-Value-4",
    "S3cr3t-Planted-Value-5",
    "S3cr3t-Planted-Value-6",
    "S3cr3t-Planted-Value-7",
    "AKIAQWERTYUIOPASDFGH",
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
    "PlantedPemBodyLine2xyz",
];

fn plant_secrets(dir: &Path) {
    write(
        dir,
        "k8s/config.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\n  namespace: altscore-api\ndata:\n  DB_PASSWORD: \"S3cr3t-Planted-Value-1\"\n  aws.conf: \"aws_access_key_id = AKIAQWERTYUIOPASDFGH\\n\"\n  AWS_KEY_ID: AKIAQWERTYUIOPASDFGH\n  tls.key: |\n    -----BEGIN PRIVATE KEY-----\n    MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n    PlantedPemBodyLine2xyz\n    -----END PRIVATE KEY-----\n",
    );
    write(
        dir,
        "k8s/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: altscore-api\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: nginx:1.25\n          env:\n            - {name: API_TOKEN, value: \"S3cr3t-Planted-Value-3\"}\n",
    );
    write(
        dir,
        "tf/main.tf",
        r#"provider "aws" {
  region     = "ap-south-1"
  secret_key = "S3cr3t-Planted-Value-4"
}
variable "erp_api_token" {
  default = "S3cr3t-Planted-Value-5"
}
variable "db_password" {}
resource "aws_db_instance" "db" {
  engine   = "postgres"
  password = "S3cr3t-Planted-Value-2"
}
resource "aws_db_instance" "db2" {
  engine   = "postgres"
  password = var.db_password
}
resource "aws_secretsmanager_secret_version" "v" {
  secret_id     = "x"
  secret_string = "S3cr3t-Planted-Value-7"
}
"#,
    );
    write(dir, "tf/terraform.tfvars", "db_password = \"S3cr3t-Planted-Value-6\"\n");
}

#[test]
fn planted_secrets_never_appear_in_any_report() {
    let dir = tempfile::tempdir().unwrap();
    plant_secrets(dir.path());
    let base = dir.path().to_path_buf();
    let outcome: ScanOutcome = scan(&ScanOptions::new(vec![base.clone()], base.clone())).unwrap();
    let sec: Vec<(String, String)> =
        outcome.findings.iter().filter(|f| f.rule_id.starts_with("SEC-00")).map(|f| (f.rule_id.to_string(), f.span.file.to_string())).collect();
    for (rule, file) in [("SEC-002", "k8s/config.yaml"), ("SEC-002", "k8s/deploy.yaml"), ("SEC-004", "tf/main.tf"), ("SEC-004", "tf/terraform.tfvars")] {
        assert!(sec.iter().any(|(r, f)| r == rule && f == file), "no {rule} finding in {file}: {sec:?}");
    }
    let source_text = |file: &str| -> Option<Arc<str>> { std::fs::read_to_string(base.join(file)).ok().map(Arc::from) };
    let report = outcome.report(&source_text);
    let formats = [Format::Human { color: false }, Format::Human { color: true }, Format::Json, Format::Sarif, Format::Markdown, Format::Junit, Format::Html];
    for format in formats {
        let text = render(&report, format);
        assert!(text.contains("SEC-002") && text.contains("SEC-004"), "{format:?} does not report the secrets");
        for secret in PLANTED {
            assert!(!text.contains(secret), "{format:?} leaks {secret}:\n{}", text.lines().filter(|l| l.contains(secret)).collect::<Vec<_>>().join("\n"));
        }
    }
    // The CLI's own rendering path too.
    let run = charterguard(dir.path(), &["scan", ".", "--format", "human"]);
    assert_eq!(run.code, 1);
    for secret in PLANTED {
        assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret), "the CLI leaks {secret}");
    }
}

//! The GitHub Action: `action.yml` follows the action metadata rules, and
//! `scripts/action/scan.sh` run with the environment a runner gives it writes the SARIF, the
//! step summary and the outputs, and exits as `fail-on` and `soft-fail` say.

use crate::common;
use crate::registry;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn action() -> Value {
    let path = Path::new(ROOT).join("action.yml");
    let text = std::fs::read_to_string(&path).expect("reading action.yml");
    let file: Arc<str> = Arc::from("action.yml");
    let docs = charterguard::yaml::load(&file, &text, &charterguard::yaml::Limits::default()).unwrap_or_else(|d| panic!("action.yml is not YAML: {d}"));
    assert_eq!(docs.len(), 1, "action.yml is one document");
    docs[0].root.to_json()
}

/// Every string in a JSON value.
fn strings<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

/// `prefix.NAME` references inside `${{ }}` expressions and `if:` conditions.
fn references(text: &str, prefix: &str) -> BTreeSet<String> {
    names(text, prefix, |c| c.is_alphanumeric() || c == '_' || c == '-')
}

/// Shell variables `PREFIXNAME`.
fn variables(text: &str, prefix: &str) -> BTreeSet<String> {
    names(text, prefix, |c| c.is_ascii_alphanumeric() || c == '_')
}

fn names(text: &str, prefix: &str, part: impl Fn(char) -> bool) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.' || c == '-') {
            continue;
        }
        let name: String = rest.chars().take_while(|c| part(*c)).collect();
        if !name.is_empty() {
            found.insert(name);
        }
    }
    found
}

#[test]
fn action_metadata_follows_the_schema_rules() {
    let action = action();
    for key in ["name", "description"] {
        assert!(action[key].as_str().is_some_and(|s| !s.trim().is_empty()), "action.yml needs a {key}");
    }
    assert_eq!(action["runs"]["using"], "composite");
    let inputs = action["inputs"].as_object().expect("inputs");
    for (name, input) in inputs {
        assert!(input["description"].is_string(), "input {name} has a description");
        // Composite actions see every input as a string; a YAML boolean default would still
        // work but compare differently in `if:` expressions.
        assert!(input.get("default").is_none_or(Value::is_string), "input {name}'s default is a string");
    }
    for (name, default) in [
        ("paths", "."),
        ("fail-on", "error"),
        ("soft-fail", "false"),
        ("no-inline-ignores", "false"),
        ("download-modules", "false"),
        ("fail-on-undecided", "false"),
        ("upload-sarif", "true"),
    ] {
        assert_eq!(inputs[name]["default"], default, "input {name}");
    }
    for name in ["helm-chart", "helm-values", "var-files", "config", "baseline", "category", "version", "binary-url", "working-directory"] {
        assert!(inputs.contains_key(name), "input {name} is declared");
    }
    for (name, output) in action["outputs"].as_object().expect("outputs") {
        assert!(output["description"].is_string(), "output {name} has a description");
        assert!(output["value"].is_string(), "output {name} of a composite action needs a value");
    }
    for name in ["sarif-file", "exit-code", "findings"] {
        assert!(action["outputs"].get(name).is_some(), "output {name} is declared");
    }

    let steps = action["runs"]["steps"].as_array().expect("runs.steps");
    let mut ids = BTreeSet::new();
    for step in steps {
        let label = step["name"].as_str().unwrap_or("a step");
        assert!(step.get("run").is_some() != step.get("uses").is_some(), "{label}: exactly one of run and uses");
        if step.get("run").is_some() {
            assert!(step["shell"].is_string(), "{label}: a composite step with run needs shell");
        }
        // Steps may only use the outputs of earlier steps.
        let mut texts = Vec::new();
        strings(step, &mut texts);
        for text in &texts {
            for id in references(text, "steps.") {
                assert!(ids.contains(&id), "{label} refers to steps.{id}, not an earlier step");
            }
        }
        if let Some(id) = step["id"].as_str() {
            assert!(ids.insert(id.to_string()), "step id {id} is unique");
        }
    }

    let mut texts = Vec::new();
    strings(&action["runs"], &mut texts);
    strings(&action["outputs"], &mut texts);
    let used: BTreeSet<String> = texts.iter().flat_map(|t| references(t, "inputs.")).collect();
    for name in &used {
        assert!(inputs.contains_key(name), "inputs.{name} is used but not declared");
    }
    for name in inputs.keys() {
        assert!(used.contains(name), "input {name} is declared but never used");
    }

    // Every INPUT_* variable the scan script reads is passed to it.
    let scan = steps.iter().find(|s| s["id"] == "scan").expect("a step with id scan");
    let env: BTreeSet<&str> = scan["env"].as_object().expect("scan env").keys().map(String::as_str).collect();
    let script = std::fs::read_to_string(Path::new(ROOT).join("scripts/action/scan.sh")).unwrap();
    for name in variables(&script, "INPUT_") {
        assert!(env.contains(format!("INPUT_{name}").as_str()), "scan.sh reads INPUT_{name}, which action.yml does not set");
    }
    assert!(scan["run"].as_str().unwrap().contains("scripts/action/scan.sh"));

    let upload = steps.iter().find(|s| s["uses"].as_str().is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif@v3"))).expect("upload step");
    let condition = upload["if"].as_str().expect("upload condition");
    assert!(condition.contains("always()") && condition.contains("inputs.upload-sarif == 'true'"), "{condition}");
    assert!(upload["with"]["sarif_file"].is_string() && upload["with"]["category"].is_string());
}

/// A run of scan.sh: its exit code and the files it wrote.
struct Run {
    code: i32,
    outputs: BTreeMap<String, String>,
    /// The markdown report the outputs name (read before RUNNER_TEMP goes).
    markdown: Option<String>,
    summary: String,
    stdout: String,
    stderr: String,
}

fn run_scan(workspace: &Path, inputs: &[(&str, &str)]) -> Run {
    let temp = tempfile::tempdir().unwrap();
    let output_file = temp.path().join("output");
    let summary_file = temp.path().join("summary.md");
    std::fs::write(&summary_file, "").unwrap();
    let mut command = Command::new("bash");
    command
        .arg(Path::new(ROOT).join("scripts/action/scan.sh"))
        .current_dir(workspace)
        .env("GITHUB_WORKSPACE", workspace)
        .env("GITHUB_OUTPUT", &output_file)
        .env("GITHUB_STEP_SUMMARY", &summary_file)
        .env("RUNNER_TEMP", temp.path())
        .env("CHARTERGUARD_BIN", env!("CARGO_BIN_EXE_charterguard"));
    for (name, _) in std::env::vars() {
        if name.starts_with("INPUT_") {
            command.env_remove(name);
        }
    }
    for (name, value) in inputs {
        command.env(name, value);
    }
    let out = command.output().expect("running bash");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let outputs: BTreeMap<String, String> = std::fs::read_to_string(&output_file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
        .collect();
    let summary = std::fs::read_to_string(&summary_file).unwrap();
    let markdown = outputs.get("markdown-file").map(|file| std::fs::read_to_string(file).expect("the markdown report named by markdown-file"));
    let run = Run { code: out.status.code().expect("exit code"), outputs, markdown, summary, stdout, stderr };
    if let Some(sarif) = run.outputs.get("sarif-file") {
        // The SARIF lives in RUNNER_TEMP, which goes with this function: check it now.
        assert_eq!(Path::new(sarif), temp.path().join("charterguard.sarif"));
        let text = std::fs::read_to_string(sarif).expect("the SARIF file named by sarif-file");
        let value: Value = serde_json::from_str(&text).expect("SARIF is JSON");
        common::validate_sarif(&value).unwrap_or_else(|e| panic!("{e}"));
        for result in value["runs"][0]["results"].as_array().unwrap() {
            let uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap();
            assert!(!uri.starts_with('/') && !uri.contains(ROOT), "repository-relative URI: {uri}");
        }
    }
    run
}

fn repo() -> PathBuf {
    PathBuf::from(ROOT)
}

#[test]
fn scan_script_fails_on_errors_and_reports() {
    let run = run_scan(&repo(), &[("INPUT_PATHS", "fixtures/platform")]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.outputs["exit-code"], "1");
    // The example platform: 16 errors, 4 warnings, 1 could not decide.
    assert_eq!(run.outputs["findings"], "21");
    assert!(run.outputs["sarif-file"].ends_with("charterguard.sarif"));
    assert_eq!(run.outputs["category"], "charterguard/fixtures/platform");
    assert!(run.summary.starts_with("## charterguard\n"), "{}", run.summary);
    assert!(run.summary.contains("**16 errors**"), "{}", run.summary);
    assert!(run.stdout.contains("::error title=charterguard::"), "{}", run.stdout);
}

#[test]
fn soft_fail_and_fail_on_never_pass_the_job() {
    let run = run_scan(&repo(), &[("INPUT_PATHS", "fixtures/platform"), ("INPUT_SOFT_FAIL", "true")]);
    assert_eq!((run.code, run.outputs["exit-code"].as_str()), (0, "1"));
    let run = run_scan(&repo(), &[("INPUT_PATHS", "fixtures/platform"), ("INPUT_FAIL_ON", "never")]);
    assert_eq!((run.code, run.outputs["exit-code"].as_str()), (0, "0"));
    assert_eq!(run.outputs["findings"], "21", "findings are counted whatever fail-on says");
}

#[test]
fn fail_on_undecided_fails_the_job_on_what_error_rules_could_not_decide() {
    let workspace = tempfile::tempdir().unwrap();
    // RES-001 (error) cannot decide: the region is a variable without a value.
    let code = "variable \"region\" {}\n\nprovider \"aws\" {\n  region              = var.region\n  allowed_account_ids = [\"111122223333\"]\n}\n";
    std::fs::write(workspace.path().join("main.tf"), code).unwrap();
    let run = run_scan(workspace.path(), &[("INPUT_PATHS", ".")]);
    assert_eq!((run.code, run.outputs["exit-code"].as_str(), run.outputs["findings"].as_str()), (0, "0", "1"), "{}", run.stdout);
    assert!(run.summary.contains("**0 errors** (+1 could not decide)"), "{}", run.summary);
    assert!(run.summary.contains("- 1× `region` is unknown: var.region"), "the top reasons: {}", run.summary);
    let run = run_scan(workspace.path(), &[("INPUT_PATHS", "."), ("INPUT_FAIL_ON_UNDECIDED", "true")]);
    assert_eq!((run.code, run.outputs["exit-code"].as_str()), (1, "1"), "{}", run.stdout);
    assert!(run.stdout.contains("charterguard scan . --fail-on error --fail-on-undecided "), "{}", run.stdout);
    assert!(run.stdout.contains("::error title=charterguard::violations or could-not-decide findings at or above fail-on (error)"), "{}", run.stdout);
    let run = run_scan(workspace.path(), &[("INPUT_PATHS", "."), ("INPUT_FAIL_ON_UNDECIDED", "true"), ("INPUT_FAIL_ON", "never")]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let run = run_scan(workspace.path(), &[("INPUT_PATHS", "."), ("INPUT_FAIL_ON_UNDECIDED", "maybe")]);
    assert_eq!(run.code, 2, "{}", run.stdout);
}

#[test]
fn broken_input_exits_2_unless_soft_fail() {
    let workspace = tempfile::tempdir().unwrap();
    std::fs::write(workspace.path().join("main.tf"), "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \n").unwrap();
    let run = run_scan(workspace.path(), &[("INPUT_PATHS", ".")]);
    assert_eq!((run.code, run.outputs["exit-code"].as_str()), (2, "2"), "{}", run.stdout);
    assert!(run.outputs.contains_key("sarif-file"), "the SARIF is still written, with the error as a notification");
    assert!(run.summary.contains("Inputs that could not be read"), "{}", run.summary);
    assert!(run.stderr.contains("charterguard: error: main.tf:"), "the log names the file: {}", run.stderr);
    let run = run_scan(workspace.path(), &[("INPUT_PATHS", "."), ("INPUT_SOFT_FAIL", "true")]);
    assert_eq!((run.code, run.outputs["exit-code"].as_str()), (0, "2"));
    // fail-on never does not hide input errors.
    let run = run_scan(workspace.path(), &[("INPUT_PATHS", "."), ("INPUT_FAIL_ON", "never")]);
    assert_eq!(run.code, 2);
}

#[test]
fn a_scan_that_cannot_run_says_why() {
    let workspace = tempfile::tempdir().unwrap();
    std::fs::write(workspace.path().join("baseline.json"), "not a report").unwrap();
    let run = run_scan(workspace.path(), &[("INPUT_BASELINE", "baseline.json")]);
    assert_eq!((run.code, run.outputs["exit-code"].as_str()), (2, "2"));
    assert!(!run.outputs.contains_key("sarif-file"), "no SARIF to upload");
    assert!(run.summary.contains("could not run"), "{}", run.summary);
}

#[test]
fn invalid_action_inputs_always_fail() {
    for inputs in [[("INPUT_FAIL_ON", "errors"), ("INPUT_SOFT_FAIL", "true")], [("INPUT_SOFT_FAIL", "maybe"), ("INPUT_FAIL_ON", "error")]] {
        let run = run_scan(&repo(), &[&[("INPUT_PATHS", "fixtures/platform/k8s")], &inputs[..]].concat());
        assert_eq!(run.code, 2, "{inputs:?}: {}", run.stdout);
        assert!(run.stdout.contains("::error"), "{}", run.stdout);
    }
}

#[test]
fn the_category_is_stable() {
    let paths = [("INPUT_PATHS", "fixtures/platform/terraform\nfixtures/platform/k8s/"), ("INPUT_FAIL_ON", "never")];
    let a = run_scan(&repo(), &paths);
    let b = run_scan(&repo(), &paths);
    assert_eq!(a.outputs["category"], "charterguard/fixtures/platform/k8s,fixtures/platform/terraform");
    assert_eq!(a.outputs["category"], b.outputs["category"]);
    // Order and spelling of the paths do not matter.
    let c = run_scan(&repo(), &[("INPUT_PATHS", "./fixtures/platform/k8s fixtures/platform/terraform"), ("INPUT_FAIL_ON", "never")]);
    assert_eq!(a.outputs["category"], c.outputs["category"]);
    let d = run_scan(&repo(), &[("INPUT_PATHS", "fixtures/platform/k8s"), ("INPUT_FAIL_ON", "never"), ("INPUT_CATEGORY", "k8s")]);
    assert_eq!(d.outputs["category"], "k8s", "an explicit category wins");
}

#[test]
fn working_directory_keeps_repository_relative_names() {
    let run = run_scan(&repo(), &[("INPUT_WORKING_DIRECTORY", "fixtures"), ("INPUT_PATHS", "platform"), ("INPUT_FAIL_ON", "never")]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.outputs["findings"], "21");
    assert_eq!(run.outputs["category"], "charterguard/fixtures/platform");
    assert!(run.stdout.contains("charterguard scan fixtures/platform "), "{}", run.stdout);
}

/// A workspace whose Terraform calls a git module (a repository made here) holding an S3
/// bucket with nothing configured; no `terraform init` ran.
fn workspace_with_git_module() -> tempfile::TempDir {
    let workspace = tempfile::tempdir().unwrap();
    let repo = workspace.path().join("repos/storage");
    registry::git_repo(&repo, &[(&[("main.tf", "resource \"aws_s3_bucket\" \"data\" {\n  bucket = \"altscore-data\"\n}\n")], Some("v1.0.0"))]);
    let main = format!("module \"storage\" {{\n  source = \"git::file://{}?ref=v1.0.0\"\n}}\n", repo.display());
    registry::write(workspace.path(), &[("infra/main.tf", &main)]);
    workspace
}

#[test]
fn download_modules_evaluates_modules_no_init_installed() {
    let workspace = workspace_with_git_module();
    let cache = tempfile::tempdir().unwrap();
    let cache_dir = cache.path().to_str().unwrap();
    let inputs = [("INPUT_PATHS", "infra"), ("INPUT_FAIL_ON", "never"), ("CHARTERGUARD_MODULE_CACHE", cache_dir)];
    let skipped = run_scan(workspace.path(), &inputs);
    assert_eq!((skipped.code, skipped.outputs["findings"].as_str()), (0, "0"), "{}", skipped.stdout);
    assert!(skipped.summary.contains("--download-modules"), "the note says how to evaluate the module: {}", skipped.summary);
    let fetched = run_scan(workspace.path(), &[&inputs[..], &[("INPUT_DOWNLOAD_MODULES", "true")]].concat());
    assert_eq!(fetched.code, 0, "{}", fetched.stdout);
    assert!(fetched.stdout.contains(" --download-modules"), "{}", fetched.stdout);
    let findings: usize = fetched.outputs["findings"].parse().unwrap();
    assert!(findings > 0, "the module's bucket is judged: {}", fetched.summary);
    assert!(fetched.summary.contains("module-cache/remote/"), "findings name the module's own file: {}", fetched.summary);
    let invalid = run_scan(workspace.path(), &[&inputs[..], &[("INPUT_DOWNLOAD_MODULES", "maybe")]].concat());
    assert_eq!(invalid.code, 2, "{}", invalid.stdout);
}

/// The GitHub REST API of one pull request's comments (acme/infra#7), as comment.sh uses it:
/// a comment by someone else is there from the start.
struct GitHub {
    server: registry::Server,
    comments: Arc<std::sync::Mutex<Vec<(u64, String)>>>,
}

fn github() -> GitHub {
    use registry::{Reply, Request};
    let comments = Arc::new(std::sync::Mutex::new(vec![(1, "LGTM".to_string())]));
    let state = comments.clone();
    let handler = Arc::new(move |request: &Request| {
        if request.header("authorization") != Some("Bearer job-token") {
            return Reply::status(401);
        }
        let mut comments = state.lock().unwrap();
        let (path, query) = request.path.split_once('?').unwrap_or((&request.path, ""));
        let body = || serde_json::from_slice::<Value>(&request.body).ok().and_then(|b| b["body"].as_str().map(str::to_string));
        let id = path.strip_prefix("/repos/acme/infra/issues/comments/").and_then(|id| id.parse::<u64>().ok());
        match (request.method.as_str(), path, id) {
            ("GET", "/repos/acme/infra/issues/7/comments", _) => {
                let page: Vec<Value> =
                    if query.contains("page=1") { comments.iter().map(|(id, body)| serde_json::json!({"id": id, "body": body})).collect() } else { vec![] };
                Reply::json(Value::Array(page))
            }
            ("POST", "/repos/acme/infra/issues/7/comments", _) => {
                let id = comments.iter().map(|(id, _)| id + 1).max().unwrap_or(1);
                comments.push((id, body().expect("a body")));
                Reply { status: 201, ..Reply::json(serde_json::json!({"id": id})) }
            }
            ("PATCH", _, Some(id)) => match comments.iter_mut().find(|(i, _)| *i == id) {
                Some(comment) => {
                    comment.1 = body().expect("a body");
                    Reply::json(serde_json::json!({"id": id}))
                }
                None => Reply::status(404),
            },
            ("DELETE", _, Some(id)) => {
                comments.retain(|(i, _)| *i != id);
                Reply::status(204)
            }
            _ => Reply::status(404),
        }
    });
    GitHub { server: registry::Server::start_with(None, handler), comments }
}

/// Runs comment.sh after `scan` as the Action's comment step would.
fn run_comment(github: &GitHub, scan: &Run) -> String {
    let temp = tempfile::tempdir().unwrap();
    let event = temp.path().join("event.json");
    std::fs::write(&event, serde_json::json!({"pull_request": {"number": 7}}).to_string()).unwrap();
    let markdown = temp.path().join("report.md");
    std::fs::write(&markdown, scan.markdown.as_deref().unwrap_or_default()).unwrap();
    let output = |name: &str| scan.outputs.get(name).cloned().unwrap_or_default();
    let out = Command::new("bash")
        .arg(Path::new(ROOT).join("scripts/action/comment.sh"))
        .env("GITHUB_API_URL", format!("http://127.0.0.1:{}", github.server.port))
        .env("GITHUB_REPOSITORY", "acme/infra")
        .env("GITHUB_EVENT_PATH", &event)
        .env("GITHUB_TOKEN", "job-token")
        .env("MARKDOWN", &markdown)
        .env("FINDINGS", output("findings"))
        .env("EXIT_CODE", output("exit-code"))
        .env("CATEGORY", output("category"))
        .output()
        .expect("running bash");
    assert!(out.status.success(), "the comment step never fails the job: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_pull_request_comment_is_created_updated_and_removed_when_clean() {
    let github = github();
    let workspace = tempfile::tempdir().unwrap();
    let bucket = |name: &str| format!("resource \"aws_s3_bucket\" \"{name}\" {{\n  bucket = \"altscore-{name}\"\n}}\n");
    let scan = || run_scan(workspace.path(), &[("INPUT_PATHS", ".")]);
    let ours = |github: &GitHub| github.comments.lock().unwrap().iter().filter(|(id, _)| *id != 1).cloned().collect::<Vec<_>>();

    std::fs::write(workspace.path().join("main.tf"), bucket("first")).unwrap();
    assert!(run_comment(&github, &scan()).contains("comment created"));
    let created = ours(&github);
    assert_eq!(created.len(), 1, "{created:?}");
    assert!(created[0].1.contains("<!-- charterguard:comment charterguard/. -->") && created[0].1.contains("aws_s3_bucket.first"), "{}", created[0].1);

    std::fs::write(workspace.path().join("main.tf"), format!("{}\n{}", bucket("first"), bucket("second"))).unwrap();
    assert!(run_comment(&github, &scan()).contains(&format!("comment {} updated", created[0].0)));
    let updated = ours(&github);
    assert_eq!((updated.len(), updated[0].0), (1, created[0].0), "edited in place: {updated:?}");
    assert!(updated[0].1.contains("aws_s3_bucket.second"));

    std::fs::write(workspace.path().join("main.tf"), "locals {}\n").unwrap();
    let clean = scan();
    assert_eq!((clean.outputs["findings"].as_str(), clean.code), ("0", 0), "{}", clean.stderr);
    assert!(run_comment(&github, &clean).contains("deleted"));
    assert_eq!(*github.comments.lock().unwrap(), [(1, "LGTM".to_string())], "someone else's comment stays");
    let methods: Vec<String> = github.server.calls().iter().filter(|c| c.method != "GET").map(|c| c.method.clone()).collect();
    assert_eq!(methods, ["POST", "PATCH", "DELETE"]);

    // Clean again: no comment to delete, nothing written.
    run_comment(&github, &clean);
    assert_eq!(github.server.calls().iter().filter(|c| c.method != "GET").count(), 3);
}

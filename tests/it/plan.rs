//! Terraform plan JSON through the real pipeline and rules: findings point at the `.tf`
//! lines beside the plan, and every plan of the shared corpus loads without an error.

use charterguard::model::DiagnosticLevel;
use charterguard::scan::{scan, ScanOptions};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn rules_judge_the_fixture_plan_at_its_tf_lines() {
    let outcome = scan(&ScanOptions::new(vec![root().join("fixtures/plan/plan.json")], root())).expect("scan runs");
    assert!(!outcome.has_errors(), "{:?}", outcome.model.diagnostics);
    // The rules this fixture was written for; other rules' findings on it are their fixtures' concern.
    let judged = ["DATA-001", "ENC-001", "RES-001"];
    let mut found: Vec<(String, String, String, u32)> = outcome
        .findings
        .iter()
        .filter(|f| judged.contains(&f.rule_id.as_str()))
        .map(|f| (f.rule_id.clone(), format!("{:?}", f.outcome).to_lowercase(), f.span.file.to_string(), f.span.start_line))
        .collect();
    found.sort();
    let expected = [
        ("DATA-001", "violation", "fixtures/plan/main.tf", 32),
        ("DATA-001", "violation", "fixtures/plan/main.tf", 33),
        ("ENC-001", "violation", "fixtures/plan/modules/logs/main.tf", 9),
        ("RES-001", "violation", "fixtures/plan/main.tf", 5),
    ];
    let expected: Vec<(String, String, String, u32)> = expected.iter().map(|(r, o, f, l)| (r.to_string(), o.to_string(), f.to_string(), *l)).collect();
    assert_eq!(found, expected);
}

/// Every `terraform show -json` output in ../shared/corpus.
fn corpus_plans(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            corpus_plans(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let head: String = text.chars().take(4096).collect();
            if head.trim_start().starts_with('{')
                && head.contains("\"format_version\"")
                && (text.contains("\"planned_values\"") || text.contains("\"resource_changes\""))
            {
                out.push(path);
            }
        }
    }
}

#[test]
fn every_corpus_plan_loads_without_errors() {
    let base = root().join("../shared/corpus");
    assert!(base.is_dir(), "the shared corpus is expected beside the checkout at {}", base.display());
    let mut plans = Vec::new();
    corpus_plans(&base, &mut plans);
    assert!(plans.len() >= 150, "only {} plans found", plans.len());
    let started = std::time::Instant::now();
    let mut resources = 0;
    for path in &plans {
        let text = std::fs::read_to_string(path).unwrap();
        let shown = charterguard::input::display_path(path, &base);
        let model = charterguard::plan::load_file(path, &shown, &text, &base);
        let errors: Vec<String> = model.diagnostics.iter().filter(|d| d.level == DiagnosticLevel::Error).map(|d| d.to_string()).collect();
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
        assert!(model.resources.iter().all(|r| !r.span.file.starts_with('/')), "absolute path from {}", path.display());
        resources += model.resources.len();
    }
    eprintln!("{} plans, {} resources loaded in {:.2?}", plans.len(), resources, started.elapsed());
    assert!(resources > 500, "only {resources} resources");
}

//! Runs every rule fixture under `fixtures/<RULE-ID>/<case>/` (see `fixtures/README.md`):
//! each case folder is scanned alone and the findings of its rule are compared, as a set of
//! (file, line, outcome), with the `# expect: RULE-ID` / `# expect-undecided: RULE-ID`
//! markers in its files. Every mismatch of every case is reported, not just the first.

#[path = "it/common/mod.rs"]
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use charterguard::engine::{Finding, Outcome};
use charterguard::model::{DiagnosticLevel, SourceKind};
use charterguard::report::{render, Format};
use charterguard::scan::{scan, ScanOptions, ScanOutcome};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Expected outcome at a place: (file relative to the crate, line, outcome).
type Key = (String, u32, Outcome);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Pass,
    Fail,
    Undecided,
}

struct Case {
    rule: String,
    dir: PathBuf,
    name: String,
    kind: Kind,
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root()).unwrap_or(path).to_string_lossy().replace('\\', "/")
}

/// Every `fixtures/<RULE-ID>/<case>/` folder, with problems in the layout itself.
fn discover(problems: &mut Vec<String>) -> Vec<Case> {
    let fixtures = root().join("fixtures");
    let mut cases = Vec::new();
    // Rule folders are named by rule id (`ENC-001`); others (the example platform) are not cases.
    let is_rule_id = |p: &PathBuf| {
        p.file_name().and_then(|n| n.to_str()).and_then(|n| n.split_once('-')).is_some_and(|(a, n)| {
            a.starts_with(|c: char| c.is_ascii_uppercase())
                && a.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
                && !n.is_empty()
                && n.chars().all(|c| c.is_ascii_digit())
        })
    };
    let mut rule_dirs: Vec<PathBuf> =
        std::fs::read_dir(&fixtures).expect("fixtures/ exists").flatten().map(|e| e.path()).filter(|p| p.is_dir() && is_rule_id(p)).collect();
    rule_dirs.sort();
    for rule_dir in rule_dirs {
        let rule = rule_dir.file_name().unwrap().to_string_lossy().to_string();
        let mut case_dirs: Vec<PathBuf> = std::fs::read_dir(&rule_dir).unwrap().flatten().map(|e| e.path()).collect();
        case_dirs.sort();
        for dir in case_dirs {
            let name = dir.file_name().unwrap().to_string_lossy().to_string();
            // Inputs of the live audits' tests (`live-...`), and a folder's README, are not
            // scanned cases.
            if name.starts_with("live-") || name == "README.md" {
                continue;
            }
            if !dir.is_dir() {
                problems.push(format!("{}: only case folders belong in a rule folder", relative(&dir)));
                continue;
            }
            let kind = if name.starts_with("pass-") {
                Kind::Pass
            } else if name.starts_with("fail-") {
                Kind::Fail
            } else if name.starts_with("undecided-") {
                Kind::Undecided
            } else {
                problems.push(format!("{}: case folder names start with pass-, fail- or undecided-", relative(&dir)));
                continue;
            };
            cases.push(Case { rule: rule.clone(), dir, name, kind });
        }
    }
    cases
}

/// The markers of `rule` in a case's files. Markers may sit in `#` or `//` comments; JSON
/// files cannot hold comments, so `expect.txt` lists `file:line expect: RULE-ID` lines.
fn markers(case: &Case, problems: &mut Vec<String>) -> BTreeSet<Key> {
    let files = common::files_under(&case.dir);
    let mut expected = BTreeSet::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else { continue };
        let is_sidecar = file.file_name().is_some_and(|n| n == "expect.txt");
        for (index, line) in text.lines().enumerate() {
            for (outcome, id) in parse_markers(line) {
                if id != case.rule {
                    continue;
                }
                if is_sidecar {
                    let place = line.split_whitespace().next().unwrap_or("");
                    let parsed = place.rsplit_once(':').and_then(|(f, l)| l.parse::<u32>().ok().map(|l| (f, l)));
                    match parsed {
                        Some((f, l)) => {
                            expected.insert((relative(&case.dir.join(f)), l, outcome));
                        }
                        None => problems.push(format!("{}:{}: expect.txt lines are `file:line expect: RULE-ID`", relative(&file), index + 1)),
                    }
                } else {
                    expected.insert((relative(&file), index as u32 + 1, outcome));
                }
            }
        }
    }
    expected
}

fn parse_markers(line: &str) -> Vec<(Outcome, String)> {
    let mut out = Vec::new();
    for (tag, outcome) in [("expect-undecided:", Outcome::Undecided), ("expect:", Outcome::Violation)] {
        let mut rest = line;
        while let Some(at) = rest.find(tag) {
            // `expect:` is also the tail of `expect-undecided:`: skip that one.
            let preceded = &rest[..at];
            rest = &rest[at + tag.len()..];
            if tag == "expect:" && preceded.ends_with("-undecided") {
                continue;
            }
            let _ = preceded;
            let id: String = rest.trim_start().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
            if !id.is_empty() {
                out.push((outcome, id));
            }
        }
    }
    out
}

fn key(finding: &Finding) -> Key {
    (finding.span.file.to_string(), finding.span.start_line, finding.outcome)
}

fn outcome_name(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Violation => "expect",
        Outcome::Undecided => "expect-undecided",
    }
}

fn run(case: &Case) -> ScanOutcome {
    let options = ScanOptions::new(vec![case.dir.clone()], root());
    scan(&options).unwrap_or_else(|e| panic!("{}: scan failed: {e:#}", relative(&case.dir)))
}

/// What one case showed: the sources of the resources it loaded, and its rule's findings as
/// `file:line outcome: message` lines for the rule's message snapshot.
struct Seen {
    sources: BTreeSet<SourceKind>,
    messages: Vec<String>,
}

/// Checks one case.
fn check_case(case: &Case, problems: &mut Vec<String>) -> Seen {
    let where_ = relative(&case.dir);
    let outcome = run(case);
    if outcome.has_errors() {
        for d in outcome.model.diagnostics.iter().filter(|d| d.level == DiagnosticLevel::Error) {
            problems.push(format!("{where_}: error diagnostic: {d:?}"));
        }
    }
    if !outcome.rules.iter().any(|r| r.id == case.rule) {
        problems.push(format!("{where_}: no rule {} in rules/", case.rule));
    }
    let expected = markers(case, problems);
    let found: Vec<&Finding> = outcome.findings.iter().filter(|f| f.rule_id == case.rule).collect();
    let actual: BTreeSet<Key> = found.iter().map(|f| key(f)).collect();
    match case.kind {
        Kind::Pass if !expected.is_empty() => problems.push(format!("{where_}: a pass- case has no markers")),
        Kind::Fail if !expected.iter().any(|k| k.2 == Outcome::Violation) => {
            problems.push(format!("{where_}: a fail- case needs at least one `expect: {}` marker", case.rule))
        }
        Kind::Undecided if !expected.iter().any(|k| k.2 == Outcome::Undecided) => {
            problems.push(format!("{where_}: an undecided- case needs at least one `expect-undecided: {}` marker", case.rule))
        }
        _ => {}
    }
    for missing in expected.difference(&actual) {
        problems.push(format!("{where_}: {}:{}: marker `{}: {}` has no such finding", missing.0, missing.1, outcome_name(missing.2), case.rule));
    }
    for f in &found {
        if !expected.contains(&key(f)) {
            problems.push(format!("{where_}: {}:{}: unexpected {} of {}: {}", f.span.file, f.span.start_line, outcome_name(f.outcome), case.rule, f.message));
        }
    }
    // Helm-rendered files: a finding in a file with `# Source:` lines names its template.
    for f in &found {
        let text = std::fs::read_to_string(root().join(f.span.file.as_ref())).unwrap_or_default();
        if text.lines().any(|l| l.trim_start().starts_with("# Source:")) && f.template.is_none() {
            problems.push(format!("{where_}: {}:{}: finding of a Helm-rendered file has no template: {}", f.span.file, f.span.start_line, f.message));
        }
    }
    // SARIF of every case validates against the 2.1.0 schema.
    let source_text = |_: &str| -> Option<Arc<str>> { None };
    let report = outcome.report(&source_text);
    let sarif = render(&report, Format::Sarif);
    match serde_json::from_str::<serde_json::Value>(&sarif) {
        Ok(json) => {
            if let Err(errors) = common::validate_sarif(&json) {
                problems.push(format!("{where_}: SARIF does not validate:\n{errors}"));
            }
        }
        Err(e) => problems.push(format!("{where_}: SARIF is not JSON: {e}")),
    }
    let messages = found.iter().map(|f| format!("{}:{} {}: {}", f.span.file, f.span.start_line, outcome_name(f.outcome), f.message)).collect();
    Seen { sources: outcome.model.resources.iter().map(|r| r.source).collect(), messages }
}

/// One test per case (`cargo test --test rule_fixtures POD-003` runs that rule's cases).
/// When every case ran, the whole set is checked too: every rule has pass and fail cases for
/// each static source it judges, and each rule's messages match its snapshot
/// (`tests/snapshots/rule_fixtures__messages_<RULE-ID>.snap`).
fn main() -> std::process::ExitCode {
    let arguments = libtest_mimic::Arguments::from_args();
    let mut layout = Vec::new();
    let cases = discover(&mut layout);
    assert!(!cases.is_empty(), "no fixture cases found under fixtures/");
    let seen: Arc<Mutex<BTreeMap<(String, String), Seen>>> = Arc::default();
    let everything = arguments.filter.is_none() && arguments.skip.is_empty() && !arguments.list;
    let mut trials: Vec<libtest_mimic::Trial> = cases
        .into_iter()
        .map(|case| {
            let seen = seen.clone();
            libtest_mimic::Trial::test(format!("{}/{}", case.rule, case.name), move || {
                let mut problems = Vec::new();
                let shown = check_case(&case, &mut problems);
                seen.lock().unwrap().insert((case.rule.clone(), format!("{:?} {}", case.kind, case.name)), shown);
                match problems.is_empty() {
                    true => Ok(()),
                    false => Err(format!("{} problem(s):\n{}", problems.len(), problems.join("\n")).into()),
                }
            })
        })
        .collect();
    trials.push(libtest_mimic::Trial::test("markers_parse", || {
        markers_parse();
        Ok(())
    }));
    let conclusion = libtest_mimic::run(&arguments, trials);
    if conclusion.has_failed() || !everything {
        return conclusion.exit_code();
    }
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    let mut problems = layout;
    problems.extend(coverage(&seen));
    assert!(problems.is_empty(), "{} fixture problem(s):\n{}", problems.len(), problems.join("\n"));
    snapshot_messages(&seen);
    std::process::ExitCode::SUCCESS
}

/// Every rule has pass and fail cases for each static source it judges, and every rule
/// folder names a rule.
fn coverage(seen: &BTreeMap<(String, String), Seen>) -> Vec<String> {
    let mut covered: BTreeSet<(String, SourceKind, bool)> = BTreeSet::new();
    for ((rule, case), shown) in seen {
        for source in &shown.sources {
            if case.starts_with("Pass ") || case.starts_with("Fail ") {
                covered.insert((rule.clone(), *source, case.starts_with("Pass ")));
            }
        }
    }
    let (rules, _) = charterguard::engine::load_rules(&[]);
    let mut problems = Vec::new();
    for rule in &rules {
        for source in rule.meta.sources.iter().filter(|s| matches!(s, SourceKind::Tf | SourceKind::K8s)) {
            for (pass, word) in [(true, "pass-"), (false, "fail-")] {
                if !covered.contains(&(rule.meta.id.clone(), *source, pass)) {
                    problems.push(format!("fixtures/{}: no {word} case with {source:?} input", rule.meta.id));
                }
            }
        }
    }
    for (rule, _) in seen.keys() {
        if !rules.iter().any(|r| &r.meta.id == rule) {
            problems.push(format!("fixtures/{rule}: no such rule in rules/"));
        }
    }
    problems.dedup();
    problems
}

/// Each rule's messages, case by case, pinned by a snapshot: a change of wording shows in
/// review.
fn snapshot_messages(seen: &BTreeMap<(String, String), Seen>) {
    let mut by_rule: BTreeMap<&str, String> = BTreeMap::new();
    for ((rule, case), shown) in seen {
        let text = by_rule.entry(rule.as_str()).or_default();
        text.push_str(&format!("{}\n", case.split_once(' ').map_or(case.as_str(), |(_, name)| name)));
        for message in &shown.messages {
            text.push_str(&format!("  {message}\n"));
        }
    }
    for (rule, text) in by_rule {
        insta::assert_snapshot!(format!("messages_{rule}"), text);
    }
}

fn markers_parse() {
    assert_eq!(parse_markers("  region = \"us-east-1\" # expect: RES-001"), vec![(Outcome::Violation, "RES-001".to_string())]);
    assert_eq!(parse_markers("x // expect-undecided: ENC-001"), vec![(Outcome::Undecided, "ENC-001".to_string())]);
    assert_eq!(
        parse_markers("image: a # expect: IMG-001 expect: IMG-002"),
        vec![(Outcome::Violation, "IMG-001".to_string()), (Outcome::Violation, "IMG-002".to_string())]
    );
    assert!(parse_markers("plain line").is_empty());
}

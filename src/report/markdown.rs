//! The markdown format: short enough for a pull-request comment or `$GITHUB_STEP_SUMMARY`.
//! A table of findings per severity and rule, then each finding with its place and the
//! first paragraph of the rule's help.

use super::undecided::UndecidedErrors;
use super::{Baseline, Counts, Report};
use crate::model::{Finding, Outcome};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// More findings than this are counted but not listed, to keep comments readable.
const MAX_LISTED: usize = 50;

pub(super) fn render(report: &Report, baseline: Option<&Baseline>) -> String {
    let mut out = String::from("## charterguard\n\n");
    let counts = Counts::of(report.findings);
    let undecided = UndecidedErrors::of(report);
    let beside_errors = match undecided.count {
        0 => String::new(),
        n => format!(" (+{n} could not decide)"),
    };
    let _ = writeln!(
        out,
        "{} files, {} resources: **{} errors**{beside_errors}, {} warnings, {} notes, {} could not decide, {} suppressed.\n",
        report.files_scanned, report.resources, counts.error, counts.warning, counts.note, counts.undecided, counts.suppressed
    );
    undecided_reasons(&mut out, &undecided);
    if let Some(b) = baseline {
        let _ = writeln!(out, "Against the baseline: **{} new**, {} unchanged (not listed), {} resolved.\n", b.new, b.unchanged, b.resolved);
    }
    if report.findings.iter().any(|f| is_listed(&f)) {
        rule_table(&mut out, report);
        findings_list(&mut out, report);
    }
    suppressed_list(&mut out, report);
    if let Some(b) = baseline.filter(|b| !b.resolved_findings.is_empty()) {
        out.push_str(
            "### Resolved since the baseline

",
        );
        for previous in b.resolved_findings.iter().take(MAX_LISTED) {
            let _ = writeln!(out, "- **{}** `{}`: {}", escape(&previous.rule_id), escape(&previous.address), escape(&previous.message));
        }
        if b.resolved_findings.len() > MAX_LISTED {
            let _ = writeln!(out, "- ... and {} more", b.resolved_findings.len() - MAX_LISTED);
        }
        out.push('\n');
    }
    let errors: Vec<_> = report.diagnostics.iter().filter(|d| d.is_error()).collect();
    if !errors.is_empty() {
        out.push_str("### Inputs that could not be read\n\n");
        for diagnostic in errors {
            let _ = writeln!(out, "- `{}`", escape(&diagnostic.to_string()));
        }
        out.push('\n');
    }
    not_evaluated_list(&mut out, report);
    out
}

/// Why error rules could not decide, most frequent first: findings the gate passes unless
/// `--fail-on-undecided`, so the reviewer sees them next to the errors.
fn undecided_reasons(out: &mut String, undecided: &UndecidedErrors) {
    if undecided.count == 0 {
        return;
    }
    out.push_str("Could not decide on error rules, most frequent reasons:\n\n");
    for reason in &undecided.reasons {
        let _ = writeln!(out, "- {}× {}", reason.count, escape(&reason.reason));
    }
    out.push('\n');
}

/// Notes: what was deliberately not evaluated (a module no `terraform init` installed, a file
/// too large, ...), so that a step summary shows what its findings do not cover.
fn not_evaluated_list(out: &mut String, report: &Report) {
    let notes: Vec<_> = report.diagnostics.iter().filter(|d| d.level == crate::model::DiagnosticLevel::Note).collect();
    if notes.is_empty() {
        return;
    }
    out.push_str("### Inputs not evaluated\n\n");
    for diagnostic in notes.iter().take(MAX_LISTED) {
        let _ = writeln!(out, "- `{}`", escape(&diagnostic.to_string()));
    }
    if notes.len() > MAX_LISTED {
        let _ = writeln!(out, "- ... and {} more", notes.len() - MAX_LISTED);
    }
    out.push('\n');
}

fn rule_table(out: &mut String, report: &Report) {
    let mut per_rule: BTreeMap<(&str, &str), (usize, usize)> = BTreeMap::new();
    for f in report.findings.iter().filter(is_listed) {
        let entry = per_rule.entry((f.rule_severity.as_str(), &f.rule_id)).or_default();
        match f.outcome {
            Outcome::Violation => entry.0 += 1,
            Outcome::Undecided => entry.1 += 1,
        }
    }
    out.push_str("| severity | rule | title | findings | could not decide |\n|---|---|---|---:|---:|\n");
    let mut rows: Vec<_> = per_rule.into_iter().collect();
    // Errors first, then warnings, then notes; rules in id order within a severity.
    rows.sort_by_key(|((severity, rule), _)| (severity_rank(severity), rule.to_string()));
    for ((severity, rule), (violations, undecided)) in rows {
        let title = report.rule(rule).map(|r| r.title.as_str()).unwrap_or("");
        let _ = writeln!(out, "| {severity} | {rule} | {} | {violations} | {undecided} |", escape(title));
    }
    out.push('\n');
}

/// The findings the table and list show: not suppressed (they have their own table), not
/// unchanged since the baseline (a pull request is about what it changes).
fn is_listed(f: &&Finding) -> bool {
    !f.is_suppressed() && !f.is_unchanged()
}

fn severity_rank(severity: &str) -> u8 {
    match severity {
        "error" => 0,
        "warning" => 1,
        _ => 2,
    }
}

fn findings_list(out: &mut String, report: &Report) {
    out.push_str("### Findings\n\n");
    let mut listed: Vec<&Finding> = report.findings.iter().filter(is_listed).collect();
    listed.sort_by_key(|f| (f.outcome == Outcome::Undecided, std::cmp::Reverse(f.severity)));
    for f in listed.iter().take(MAX_LISTED) {
        let place = f.place();
        let label = match f.outcome {
            Outcome::Violation => f.severity.as_str(),
            Outcome::Undecided => "could not decide",
        };
        let _ = writeln!(out, "- **{}** {label} `{}`: {}", f.rule_id, escape(&place), escape(&f.message));
        if let Some(fix) = report.rule(&f.rule_id).and_then(|r| first_paragraph(&r.help)) {
            let _ = writeln!(out, "  <br>{}", escape(&fix));
        }
    }
    if listed.len() > MAX_LISTED {
        let _ = writeln!(out, "\n…and {} more (see the SARIF or JSON report).", listed.len() - MAX_LISTED);
    }
    out.push('\n');
}

/// Accepted findings, with who accepted them where and why, for the reviewer.
fn suppressed_list(out: &mut String, report: &Report) {
    let suppressed: Vec<&Finding> = report.findings.iter().filter(|f| f.is_suppressed()).collect();
    if suppressed.is_empty() {
        return;
    }
    out.push_str("### Suppressed\n\n| rule | where | reason | until | suppressed at |\n|---|---|---|---|---|\n");
    for f in suppressed.iter().take(MAX_LISTED) {
        let Some(s) = &f.suppression else { continue };
        let until = s.until.map(|u| u.to_string()).unwrap_or_else(|| "-".into());
        let place = f.place();
        let at = format!("{}:{}", s.location.file, s.location.start_line);
        let _ = writeln!(out, "| {} | `{}` | {} | {until} | `{}` |", f.rule_id, escape(&place), escape(&s.reason), escape(&at));
    }
    if suppressed.len() > MAX_LISTED {
        let _ = writeln!(out, "\n…and {} more (see the SARIF or JSON report).", suppressed.len() - MAX_LISTED);
    }
    out.push('\n');
}

/// The help's first paragraph, on one line.
fn first_paragraph(help: &str) -> Option<String> {
    let paragraph = help.split("\n\n").next()?.split_whitespace().collect::<Vec<_>>().join(" ");
    (!paragraph.is_empty()).then_some(paragraph)
}

/// Keeps table cells and list items intact: pipes and line breaks escaped, HTML neutralised.
fn escape(text: &str) -> String {
    text.replace('|', "\\|").replace('<', "&lt;").replace('>', "&gt;").replace('\n', " ")
}

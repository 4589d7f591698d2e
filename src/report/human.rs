//! The human format: findings grouped by file, each with a code frame, then diagnostics and a
//! one-line summary.
//!
//! Colour is explicit: escape sequences are written only when the caller asks for colour,
//! whatever `colored`'s global, environment-dependent override says, so `--color always`
//! works through a pipe and `color = false` is plain text in tests.

use std::collections::HashMap;
use std::fmt::Write as _;

use colored::Color;

use super::undecided::UndecidedErrors;
use super::{Baseline, Counts, Report};
use crate::engine::{Finding, Outcome};
use crate::model::{Diagnostic, DiagnosticLevel};
use crate::rules::{RuleMeta, Severity};

/// Scanned files and the messages quoting them are untrusted: control characters (other than
/// tab) are replaced so a file cannot send escape sequences to the reader's terminal. One
/// character for one, so columns still line up.
fn clean(text: &str) -> String {
    text.chars().map(|c| if c.is_control() && c != '\t' { '\u{FFFD}' } else { c }).collect()
}

/// Applies styles only when colour is on.
struct Painter {
    color: bool,
}

impl Painter {
    fn paint(&self, text: &str, color: Option<Color>, bold: bool) -> String {
        if !self.color || text.is_empty() || (color.is_none() && !bold) {
            return text.to_string();
        }
        let mut codes = Vec::new();
        if bold {
            codes.push("1".to_string());
        }
        if let Some(color) = color {
            codes.push(color.to_fg_str().into_owned());
        }
        format!("\x1b[{}m{}\x1b[0m", codes.join(";"), text)
    }

    fn fg(&self, text: &str, color: Color) -> String {
        self.paint(text, Some(color), false)
    }

    fn bold(&self, text: &str) -> String {
        self.paint(text, None, true)
    }

    fn bold_fg(&self, text: &str, color: Color) -> String {
        self.paint(text, Some(color), true)
    }
}

/// The label and colour a finding is announced with.
fn label(f: &Finding) -> (&'static str, Color) {
    if f.is_suppressed() {
        return ("suppressed", Color::BrightBlack);
    }
    match (f.outcome, f.severity) {
        (Outcome::Undecided, _) => ("could not decide", Color::Magenta),
        (Outcome::Violation, Severity::Error) => ("error", Color::Red),
        (Outcome::Violation, Severity::Warning) => ("warning", Color::Yellow),
        (Outcome::Violation, Severity::Note) => ("note", Color::Cyan),
    }
}

pub(super) fn render(report: &Report, color: bool, baseline: Option<&Baseline>) -> String {
    let p = Painter { color };
    let rules: HashMap<&str, &RuleMeta> = report.rules.iter().map(|r| (r.id.as_str(), r)).collect();
    let secrets = secret_lines(report.findings);
    let mut out = String::new();

    // Group by file (live resources no code manages: by account and region, or cluster),
    // keeping the engine's order within a group.
    let mut grouped: Vec<(String, &Finding)> = report.findings.iter().map(|f| (f.group(), f)).collect();
    grouped.sort_by(|a, b| a.0.cmp(&b.0));
    let mut current: Option<String> = None;
    for (group, f) in grouped {
        if current.as_ref() != Some(&group) {
            if current.is_some() {
                out.push('\n');
            }
            let _ = writeln!(out, "{}", p.bold(&format!("{}:", clean(&group))));
            current = Some(group);
        }
        out.push('\n');
        render_finding(&mut out, &p, f, rules.get(f.rule_id.as_str()).copied(), report, &secrets);
    }
    if !report.findings.is_empty() {
        out.push('\n');
    }

    if let Some(b) = baseline.filter(|b| !b.resolved_findings.is_empty()) {
        let _ = writeln!(out, "{}", p.bold("resolved since the baseline:"));
        for previous in &b.resolved_findings {
            let _ = writeln!(out, "  {} {}  {}", p.fg("resolved", Color::Green), p.bold(&clean(&previous.rule_id)), clean(&previous.message));
        }
        out.push('\n');
    }
    if !report.diagnostics.is_empty() {
        for d in report.diagnostics {
            diagnostic_line(&mut out, &p, d);
        }
        out.push('\n');
    }

    let undecided = UndecidedErrors::of(report);
    undecided_reasons(&mut out, &p, &undecided);
    summary_line(&mut out, report, baseline, &undecided);
    out
}

/// What a run prints on standard error when its report goes elsewhere (a file, a
/// machine-readable format), so a CI log says why it failed: the error diagnostics and the
/// summary line, without colour.
pub(super) fn console(report: &Report, baseline: Option<&Baseline>) -> String {
    let p = Painter { color: false };
    let mut out = String::new();
    for d in report.diagnostics.iter().filter(|d| d.is_error()) {
        diagnostic_line(&mut out, &p, d);
    }
    summary_line(&mut out, report, baseline, &UndecidedErrors::of(report));
    out
}

fn diagnostic_line(out: &mut String, p: &Painter, d: &Diagnostic) {
    let level = match d.level {
        DiagnosticLevel::Error | DiagnosticLevel::Incomplete => p.bold_fg("error", Color::Red),
        DiagnosticLevel::Note => p.bold_fg("note", Color::Cyan),
    };
    let _ = writeln!(out, "{level}: {}", clean(&d.to_string()));
}

/// Why error rules could not decide, most frequent reasons first: the gate passes these
/// findings unless `--fail-on-undecided`, so they are summed up where the errors are.
fn undecided_reasons(out: &mut String, p: &Painter, undecided: &UndecidedErrors) {
    if undecided.count == 0 {
        return;
    }
    let _ = writeln!(out, "{}", p.bold("undecided on error rules, most frequent reasons:"));
    for reason in &undecided.reasons {
        let _ = writeln!(out, "  {}× {}", reason.count, clean(&reason.reason));
    }
    out.push('\n');
}

/// `29 files, 380 resources, 16 errors (+1 undecided), 4 warnings, ...`: the undecided
/// findings of error rules stand beside the errors, all undecided findings after the notes.
fn summary_line(out: &mut String, report: &Report, baseline: Option<&Baseline>, undecided: &UndecidedErrors) {
    let counts = Counts::of(report.findings);
    // An audit reads no files: its summary starts with the resources.
    let files = if report.files_scanned == 0 && report.findings.iter().any(|f| f.live.is_some()) {
        String::new()
    } else {
        format!("{}, ", plural(report.files_scanned, "file"))
    };
    let errors = match undecided.count {
        0 => plural(counts.error, "error"),
        n => format!("{} (+{n} undecided)", plural(counts.error, "error")),
    };
    let _ = write!(
        out,
        "{files}{}, {errors}, {}, {}, {} undecided, {} suppressed in {:.2}s",
        plural(report.resources, "resource"),
        plural(counts.warning, "warning"),
        plural(counts.note, "note"),
        counts.undecided,
        counts.suppressed,
        report.elapsed.as_secs_f64(),
    );
    if let Some(b) = baseline {
        let _ = write!(out, "; baseline: {} new, {} unchanged, {} resolved", b.new, b.unchanged, b.resolved);
    }
    out.push('\n');
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The rules that flag literal secret values (SEC-001 and SEC-003 flag references to secrets,
/// which are safe to show).
const SECRET_VALUE_RULES: &[&str] = &["SEC-002", "SEC-004"];

/// Lines that a secret-value rule flagged, by file: code frames never show them, whichever
/// finding the frame is for, so a secret cannot leak through a frame's context lines.
type SecretLines<'a> = HashMap<&'a str, Vec<(u32, u32)>>;

fn secret_lines(findings: &[Finding]) -> SecretLines<'_> {
    let mut lines: SecretLines = HashMap::new();
    for f in findings.iter().filter(|f| SECRET_VALUE_RULES.contains(&f.rule_id.as_str())) {
        lines.entry(&f.span.file).or_default().push((f.span.start_line, f.span.end_line.max(f.span.start_line)));
    }
    lines
}

fn render_finding(out: &mut String, p: &Painter, f: &Finding, rule: Option<&RuleMeta>, report: &Report, secrets: &SecretLines) {
    let (label, color) = label(f);
    let place = if f.unmanaged_live().is_some() { f.place() } else { f.span.to_string() };
    let _ = writeln!(out, "{} {}  {}", p.bold_fg(label, color), p.bold(&clean(&f.rule_id)), clean(&place));
    let _ = writeln!(out, "  {}", clean(&f.message));
    if let Some(s) = &f.suppression {
        let until = s.until.map(|u| format!(" until {u}")).unwrap_or_default();
        let kind = match s.kind {
            crate::engine::SuppressionKind::Inline => "inline",
            crate::engine::SuppressionKind::Central => "config",
        };
        let _ = writeln!(out, "  suppressed{until} by {kind} {}:{}: {}", clean(&s.location.file), s.location.start_line, clean(&s.reason));
    }
    if f.is_unchanged() {
        let _ = writeln!(out, "  unchanged since the baseline");
    }
    if let Some(template) = &f.template {
        let _ = writeln!(out, "  rendered from {}", clean(template));
    }
    for call in &f.call_chain {
        let _ = writeln!(out, "  via module call at {}:{}", clean(&call.file), call.start_line);
    }
    if let Some(managed_by) = f.live.as_ref().and_then(|l| l.managed_by.as_ref()) {
        let _ = writeln!(out, "  managed by {}", clean(managed_by));
    }
    let source = if f.unmanaged_live().is_some() { None } else { (report.source_text)(&f.span.file) };
    if let Some(text) = source {
        let hidden = secrets.get(&*f.span.file).map_or(&[][..], Vec::as_slice);
        code_frame(out, p, f, &text, color, hidden);
    }
    if let Some(help) = rule.and_then(help_line) {
        let _ = writeln!(out, "  {} {}", p.bold("= help:"), help);
    }
}

/// The one line of help under a finding: the rule's title, or the first line of its
/// remediation text when the title is empty.
fn help_line(rule: &RuleMeta) -> Option<String> {
    let first_line = |s: &str| s.lines().map(|l| l.trim().trim_start_matches(['#', '*', '-', '>']).trim()).find(|l| !l.is_empty()).map(str::to_string);
    first_line(&rule.title).or_else(|| first_line(&rule.help))
}

/// The offending line with one line of context either side, the offending line marked with
/// `>` (and coloured), plus carets under a single-line span. Lines within `hidden` (line
/// ranges that may hold a secret) are replaced by a placeholder.
fn code_frame(out: &mut String, p: &Painter, f: &Finding, text: &str, color: Color, hidden: &[(u32, u32)]) {
    let lines: Vec<String> = text.lines().map(|l| clean(l.strip_suffix('\r').unwrap_or(l))).collect();
    let target = f.span.start_line as usize;
    if target == 0 || target > lines.len() {
        return;
    }
    let first = target.saturating_sub(1).max(1);
    let last = (target + 1).min(lines.len());
    let width = last.to_string().len();
    let gutter = p.fg("|", Color::Blue);
    for n in first..=last {
        let secret = hidden.iter().any(|&(start, end)| (start as usize..=end as usize).contains(&n));
        let line = if secret { SECRET_PLACEHOLDER } else { lines[n - 1].as_str() };
        let number = format!("{n:>width$}");
        if n == target {
            let _ = writeln!(out, "{} {} {} {}", p.bold_fg(">", color), p.bold_fg(&number, Color::Blue), gutter, p.fg(line, color));
            if let Some(carets) = carets(f, line).filter(|_| !secret) {
                let _ = writeln!(out, "  {:width$} {} {}", "", gutter, p.bold_fg(&carets, color));
            }
        } else {
            let _ = writeln!(out, "  {} {} {}", p.fg(&number, Color::Blue), gutter, line);
        }
    }
}

/// What a code frame shows instead of a line that may hold a secret.
const SECRET_PLACEHOLDER: &str = "(not shown: a secret rule flagged this line)";

/// `^^^` under the span's columns when the span covers part of one line. Columns count
/// Unicode scalar values; tabs before the span are copied so the carets line up.
fn carets(f: &Finding, line: &str) -> Option<String> {
    let span = &f.span;
    if span.start_line != span.end_line || span.start_col == 0 {
        return None;
    }
    let start = span.start_col as usize - 1;
    let chars: Vec<char> = line.chars().collect();
    if start >= chars.len() {
        return None;
    }
    let end = (span.end_col as usize).saturating_sub(1).clamp(start + 1, chars.len());
    let mut s: String = chars[..start].iter().map(|&c| if c == '\t' { '\t' } else { ' ' }).collect();
    s.extend(std::iter::repeat_n('^', end - start));
    Some(s)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::model::{SourceKind, Span};

    fn finding(line: u32) -> Finding {
        Finding {
            rule_id: "ENC-001".into(),
            severity: Severity::Warning,
            rule_severity: Severity::Warning,
            outcome: Outcome::Violation,
            message: "bucket \x1b[31mred".into(),
            source: SourceKind::Tf,
            address: "aws_s3_bucket.a".into(),
            rtype: "aws_s3_bucket".into(),
            item: None,
            attribute: "acl".into(),
            span: Span::new("a.tf".into(), line, 3, line + 1, 1),
            template: None,
            call_chain: vec![],
            suppression: None,
            baseline: None,
            live: None,
        }
    }

    fn render_one(f: Finding, text: Option<&str>) -> String {
        let text: Option<Arc<str>> = text.map(Arc::from);
        let source_text = move |_: &str| text.clone();
        let findings = [f];
        let report = Report {
            findings: &findings,
            rules: &[],
            diagnostics: &[],
            files_scanned: 1,
            resources: 1,
            elapsed: Duration::from_millis(5),
            source_text: &source_text,
        };
        render(&report, false, None)
    }

    #[test]
    fn frame_at_the_first_line_has_no_line_above() {
        let out = render_one(finding(1), Some("one\ntwo\nthree\n"));
        assert!(out.contains("> 1 | one\n  2 | two\n"), "{out}");
        assert!(!out.contains("three"));
        // A span over several lines gets no carets.
        assert!(!out.contains('^'));
    }

    #[test]
    fn frame_is_skipped_without_source_or_line() {
        assert!(!render_one(finding(1), None).contains(" | "));
        assert!(!render_one(finding(9), Some("one\n")).contains(" | "));
        assert!(!render_one(finding(0), Some("one\n")).contains(" | "));
    }

    #[test]
    fn control_characters_do_not_reach_the_terminal() {
        let out = render_one(finding(1), Some("x\x1b]0;pwned\x07\n"));
        assert!(!out.contains('\x1b') && !out.contains('\x07'), "{out:?}");
        assert!(out.contains("bucket \u{FFFD}[31mred"));
    }

    #[test]
    fn wide_line_numbers_stay_aligned() {
        let text: String = (1..=10).map(|n| format!("line {n}\n")).collect();
        let out = render_one(finding(9), Some(&text));
        assert!(out.contains("   8 | line 8\n>  9 | line 9\n  10 | line 10\n"), "{out}");
    }

    #[test]
    fn lines_a_secret_rule_flagged_never_appear_in_any_frame() {
        let text: Arc<str> = Arc::from("resource \"aws_db_instance\" \"db\" {\n  engine   = \"postgres\"\n  password = \"hunter2-planted\"\n}\n");
        let source_text = move |_: &str| Some(text.clone());
        let secret = Finding { rule_id: "SEC-004".into(), span: Span::new("a.tf".into(), 3, 14, 3, 31), ..finding(3) };
        let neighbour = Finding { span: Span::new("a.tf".into(), 2, 3, 2, 9), ..finding(2) };
        let findings = [neighbour, secret];
        let report =
            Report { findings: &findings, rules: &[], diagnostics: &[], files_scanned: 1, resources: 1, elapsed: Duration::ZERO, source_text: &source_text };
        let out = render(&report, true, None);
        assert!(!out.contains("hunter2"), "{out}");
        assert_eq!(out.matches(SECRET_PLACEHOLDER).count(), 2, "{out}");
        assert!(out.contains("engine"), "other lines are still shown: {out}");
    }
}

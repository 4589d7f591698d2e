//! The human format: findings grouped by file, each with a code frame, then diagnostics and a
//! one-line summary.
//!
//! Colour is explicit: escape sequences are written only when the caller asks for colour,
//! whatever `colored`'s global, environment-dependent override says, so `--color always`
//! works through a pipe and `color = false` is plain text in tests.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::rc::Rc;

use colored::Color;

use super::undecided::UndecidedErrors;
use super::{Baseline, Counts, Report};
use crate::model::Severity;
use crate::model::{Diagnostic, DiagnosticLevel};
use crate::model::{Finding, Outcome};
use crate::redact::Source;
use crate::rules::RuleMeta;

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
    let mut sources = Sources { report, flagged: crate::redact::flagged(report.findings), read: HashMap::new() };
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
        render_finding(&mut out, &p, f, rules.get(f.rule_id.as_str()).copied(), &mut sources);
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

/// The scanned files as frames show them (secret values hidden), each read once.
struct Sources<'r> {
    report: &'r Report<'r>,
    /// What secret rules' findings point at, by file.
    flagged: HashMap<&'r str, Vec<&'r Finding>>,
    read: HashMap<String, Option<Rc<Source>>>,
}

impl Sources<'_> {
    fn get(&mut self, file: &str) -> Option<Rc<Source>> {
        if let Some(source) = self.read.get(file) {
            return source.clone();
        }
        let flagged = self.flagged.get(file).map_or(&[][..], Vec::as_slice);
        let source = (self.report.source_text)(file).map(|text| Rc::new(Source::new(file, &text, flagged, self.report.secrets)));
        self.read.insert(file.to_string(), source.clone());
        source
    }
}

fn render_finding(out: &mut String, p: &Painter, f: &Finding, rule: Option<&RuleMeta>, sources: &mut Sources) {
    let (label, color) = label(f);
    let place = if f.unmanaged_live().is_some() { f.place() } else { f.span.to_string() };
    let _ = writeln!(out, "{} {}  {}", p.bold_fg(label, color), p.bold(&clean(&f.rule_id)), clean(&place));
    let _ = writeln!(out, "  {}", clean(&f.message));
    if let Some(s) = &f.suppression {
        let until = s.until.map(|u| format!(" until {u}")).unwrap_or_default();
        let kind = match s.kind {
            crate::model::SuppressionKind::Inline => "inline",
            crate::model::SuppressionKind::Central => "config",
        };
        let _ = writeln!(out, "  suppressed{until} by {kind} {}:{}: {}", clean(&s.location.file), s.location.start_line, clean(&s.reason));
    }
    if f.is_unchanged() {
        let _ = writeln!(out, "  unchanged since the baseline");
    }
    if let Some(template) = &f.template {
        let _ = writeln!(out, "  rendered from {}", clean(template));
    }
    if let Some(render) = &f.render {
        let _ = writeln!(out, "  rendered by {}", clean(render));
    }
    for call in &f.call_chain {
        let _ = writeln!(out, "  via module call at {}:{}", clean(&call.file), call.start_line);
    }
    if let Some(live) = f.live.as_deref() {
        if let Some(managed_by) = &live.managed_by {
            // Grouped under its code's file, not its account: name the environment here.
            let environment = live.environment.as_deref().map(|e| format!(" in {}", clean(e))).unwrap_or_default();
            let _ = writeln!(out, "  managed by {}{environment}", clean(managed_by));
        }
    }
    let source = if f.unmanaged_live().is_some() { None } else { sources.get(&f.span.file) };
    if let Some(source) = source {
        code_frame(out, p, f, &source, color);
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
/// `>` (and coloured), plus carets under a single-line span. Secret values are hidden (see
/// [`crate::redact`]); a line with one hidden gets no carets, which would not line up.
fn code_frame(out: &mut String, p: &Painter, f: &Finding, source: &Source, color: Color) {
    let target = f.span.start_line as usize;
    if target == 0 || target > source.len() {
        return;
    }
    let first = target.saturating_sub(1).max(1);
    let last = (target + 1).min(source.len());
    let width = last.to_string().len();
    let gutter = p.fg("|", Color::Blue);
    for n in first..=last {
        let Some((line, hidden)) = source.line(n) else { continue };
        let line = clean(&line);
        let number = format!("{n:>width$}");
        if n == target {
            let _ = writeln!(out, "{} {} {} {}", p.bold_fg(">", color), p.bold_fg(&number, Color::Blue), gutter, p.fg(&line, color));
            if let Some(carets) = carets(f, &line).filter(|_| !hidden) {
                let _ = writeln!(out, "  {:width$} {} {}", "", gutter, p.bold_fg(&carets, color));
            }
        } else {
            let _ = writeln!(out, "  {} {} {}", p.fg(&number, Color::Blue), gutter, line);
        }
    }
}

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
            render: None,
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
        let report = Report { elapsed: Duration::from_millis(5), ..Report::of(&findings, &source_text) };
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
    fn frames_hide_secret_values_whichever_finding_they_are_for() {
        let text: Arc<str> = Arc::from("resource \"aws_db_instance\" \"db\" {\n  engine   = \"postgres\"\n  password = \"hunter2-planted\"\n}\n");
        let source_text = move |_: &str| Some(text.clone());
        let secret = Finding { rule_id: "SEC-004".into(), span: Span::new("a.tf".into(), 3, 14, 3, 31), ..finding(3) };
        let neighbour = Finding { span: Span::new("a.tf".into(), 2, 3, 2, 9), ..finding(2) };
        let findings = [neighbour, secret];
        let report = Report::of(&findings, &source_text);
        let out = render(&report, true, None);
        assert!(!out.contains("hunter2"), "{out}");
        assert_eq!(out.matches("password = <redacted>").count(), 2, "the key is shown in both frames: {out}");
        assert!(out.contains("engine"), "other lines are still shown: {out}");
    }
}

//! The JSON format: see [`super::Format::Json`] for the documented shape.

use serde::Serialize;

use super::undecided::UndecidedErrors;
use super::{fingerprint, Baseline, Counts, Report};
use crate::model::Date;
use crate::model::Severity;
use crate::model::{BaselineState, Finding, Outcome, SuppressionKind};
use crate::model::{Diagnostic, DiagnosticLevel, SourceKind};

/// The version of the document's shape, bumped when a key is renamed or removed.
const VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    summary: Summary,
    findings: Vec<JsonFinding<'a>>,
    /// With a baseline: its findings that this run no longer has.
    #[serde(skip_serializing_if = "Option::is_none")]
    resolved: Option<&'a [crate::baseline::Previous]>,
    diagnostics: Vec<JsonDiagnostic<'a>>,
}

#[derive(Serialize)]
struct Summary {
    files: usize,
    resources: usize,
    by_severity: BySeverity,
    undecided_errors: UndecidedErrors,
    undecided: usize,
    suppressed: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline: Option<Baseline>,
}

#[derive(Serialize)]
struct BySeverity {
    error: usize,
    warning: usize,
    note: usize,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule_id: &'a str,
    severity: Severity,
    rule_severity: Severity,
    outcome: Outcome,
    message: &'a str,
    /// Undecided findings: the message without its subject and rule title.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    address: &'a str,
    resource_type: &'a str,
    source: SourceKind,
    item: Option<&'a str>,
    attribute: &'a str,
    file: &'a str,
    start_line: u32,
    start_column: u32,
    end_line: u32,
    end_column: u32,
    template: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    render: Option<&'a str>,
    call_chain: Vec<CallSite<'a>>,
    fingerprint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline: Option<BaselineState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppression: Option<JsonSuppression<'a>>,
    /// Live findings: where the resource runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    live: Option<&'a crate::model::LiveOrigin>,
}

#[derive(Serialize)]
struct JsonSuppression<'a> {
    kind: SuppressionKind,
    reason: &'a str,
    until: Option<Date>,
    file: &'a str,
    line: u32,
}

#[derive(Serialize)]
struct CallSite<'a> {
    file: &'a str,
    line: u32,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    level: DiagnosticLevel,
    file: &'a str,
    line: Option<u32>,
    column: Option<u32>,
    message: &'a str,
}

pub(super) fn render(report: &Report, baseline: Option<&Baseline>) -> String {
    let counts = Counts::of(report.findings);
    let document = Document {
        version: VERSION,
        summary: Summary {
            files: report.files_scanned,
            resources: report.resources,
            by_severity: BySeverity { error: counts.error, warning: counts.warning, note: counts.note },
            undecided_errors: UndecidedErrors::of(report),
            undecided: counts.undecided,
            suppressed: counts.suppressed,
            baseline: baseline.cloned(),
        },
        findings: report.findings.iter().map(|f| finding(report, f)).collect(),
        resolved: baseline.map(|b| b.resolved_findings.as_slice()),
        diagnostics: report.diagnostics.iter().map(diagnostic).collect(),
    };
    let mut out = serde_json::to_string_pretty(&document).expect("report serializes");
    out.push('\n');
    out
}

fn finding<'a>(report: &Report<'a>, f: &'a Finding) -> JsonFinding<'a> {
    let title = report.rule(&f.rule_id).map_or("", |r| r.title.as_str());
    JsonFinding {
        rule_id: &f.rule_id,
        severity: f.severity,
        rule_severity: f.rule_severity,
        outcome: f.outcome,
        message: &f.message,
        reason: (f.outcome == Outcome::Undecided).then(|| f.reason(title)),
        address: &f.address,
        resource_type: &f.rtype,
        source: f.source,
        item: f.item.as_deref(),
        attribute: &f.attribute,
        file: &f.span.file,
        start_line: f.span.start_line,
        start_column: f.span.start_col,
        end_line: f.span.end_line,
        end_column: f.span.end_col,
        template: f.template.as_deref(),
        render: f.render.as_deref(),
        call_chain: f.call_chain.iter().map(|s| CallSite { file: &s.file, line: s.start_line }).collect(),
        fingerprint: fingerprint(f),
        baseline: f.baseline,
        suppression: f.suppression.as_ref().map(|s| JsonSuppression {
            kind: s.kind,
            reason: &s.reason,
            until: s.until,
            file: &s.location.file,
            line: s.location.start_line,
        }),
        live: f.live.as_deref(),
    }
}

fn diagnostic(d: &Diagnostic) -> JsonDiagnostic<'_> {
    JsonDiagnostic {
        level: d.level,
        file: &d.file,
        line: d.span.as_ref().map(|s| s.start_line),
        column: d.span.as_ref().map(|s| s.start_col),
        message: &d.message,
    }
}

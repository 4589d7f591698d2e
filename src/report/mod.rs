//! Reporters: turn the engine's findings into a human, JSON or SARIF report.
//!
//! Every format is a pure function of the [`Report`]: the same input renders byte-identical
//! output (the JSON and SARIF formats leave out the elapsed time for that reason), so reports
//! can be diffed, snapshot-tested and uploaded to GitHub code scanning without churn.

mod catalogue;
mod html;
mod human;
mod json;
mod junit;
mod markdown;
pub mod merge;
pub mod sarif;
mod undecided;

use std::sync::Arc;
use std::time::Duration;

pub use crate::baseline::Summary as Baseline;
use crate::model::Diagnostic;
use crate::model::Severity;
use crate::model::{Finding, Outcome};
use crate::rules::RuleMeta;

/// Everything a reporter needs about one scan.
pub struct Report<'a> {
    /// Already sorted deterministically by the engine; reporters keep that order (the human
    /// format only groups it by file).
    pub findings: &'a [Finding],
    /// Every rule that ran (SARIF lists them all in `tool.driver.rules`).
    pub rules: &'a [RuleMeta],
    /// Input errors and notes.
    pub diagnostics: &'a [Diagnostic],
    pub files_scanned: usize,
    pub resources: usize,
    /// Shown by the human format only.
    pub elapsed: Duration,
    /// Reads a repository-relative file's text for code frames (human format); `None` when
    /// unavailable.
    pub source_text: &'a dyn Fn(&str) -> Option<Arc<str>>,
    /// What looks like a secret (the config's `secrets:`): hidden in code frames.
    pub secrets: &'a crate::redact::vocabulary::Vocabulary,
}

#[cfg(test)]
impl<'a> Report<'a> {
    /// A report of `findings` alone (one file, one resource, no time), for reporters' tests.
    pub(crate) fn of(findings: &'a [Finding], source_text: &'a dyn Fn(&str) -> Option<Arc<str>>) -> Report<'a> {
        let secrets = crate::redact::vocabulary::Vocabulary::charter();
        Report { findings, rules: &[], diagnostics: &[], files_scanned: 1, resources: 1, elapsed: Duration::ZERO, source_text, secrets }
    }
}

impl<'a> Report<'a> {
    /// The metadata of the rule with this id, when it ran.
    fn rule(&self, id: &str) -> Option<&'a RuleMeta> {
        self.rules.iter().find(|r| r.id == id)
    }
}

/// Text safe in HTML and XML, in elements and quoted attributes: markup characters become
/// entities, and control characters (other than tab and newline, which XML 1.0 forbids and a
/// scanned file could smuggle in) become U+FFFD.
fn escape_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(c),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// The output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Grouped by file with code frames; ANSI colour only when `color` is true.
    Human { color: bool },
    /// A stable JSON document (`version` 1), pretty-printed, without timing so that it is
    /// byte-identical across runs:
    ///
    /// ```text
    /// {
    ///   "version": 1,
    ///   "summary": {
    ///     "files": 12, "resources": 40,
    ///     "by_severity": {"error": 2, "warning": 1, "note": 0},  // unsuppressed violations
    ///     "undecided_errors": {            // unsuppressed undecided findings of error rules
    ///       "count": 1, "reasons": [{"reason": "...", "count": 1}]  // the 3 most frequent
    ///     },
    ///     "undecided": 1,                                          // unsuppressed
    ///     "suppressed": 1,
    ///     "baseline": {"new": 1, "unchanged": 4, "resolved": 2}   // only with --baseline
    ///   },
    ///   "findings": [{
    ///     "rule_id": "ENC-001", "severity": "error|warning|note",  // note when undecided
    ///     "rule_severity": "error|warning|note",                  // the rule's
    ///     "outcome": "violation|undecided", "message": "...",
    ///     "reason": "...",                 // only when undecided: why, without subject and title
    ///     "address": "module.tenant.aws_s3_bucket.bronze", "resource_type": "aws_s3_bucket",
    ///     "source": "tf|k8s|aws|eks", "item": "container app" | null,
    ///     "attribute": "server_side_encryption_configuration",
    ///     "file": "modules/tenant/main.tf", "start_line": 1, "start_column": 1,
    ///     "end_line": 1, "end_column": 1,
    ///     "template": "chart/templates/deployment.yaml" | null,
    ///     "render": "kustomize overlay k8s/overlays/prod",  // only on objects a tool rendered
    ///     "call_chain": [{"file": "main.tf", "line": 3}],   // outermost module call first
    ///     "fingerprint": "<hex sha256, see fingerprint()>",
    ///     "baseline": "new|unchanged",     // only with --baseline
    ///     "live": {                        // only on live findings (audits)
    ///       "id": "arn:aws:s3:::b" | "cluster/ns/Kind/name", "scope": "<account or cluster>",
    ///       "region": "ap-south-1" | null, "managed_by": "<Terraform address>" | null,
    ///       "environment": "production"  // only when the config's `environments:` name the account
    ///     },
    ///     "suppression": {                 // only on suppressed findings
    ///       "kind": "inline|central", "reason": "...", "until": "2027-03-31" | null,
    ///       "file": "main.tf", "line": 3   // the comment, annotation or config entry
    ///     }
    ///   }],
    ///   "resolved": [{"rule_id": "...", "address": "...", "message": "...", "fingerprint": "..."}],
    ///                                      // only with --baseline: its findings this run lacks
    ///   "diagnostics": [{
    ///     "level": "error|note", "file": "...", "line": 1 | null, "column": 1 | null,
    ///     "message": "..."
    ///   }]
    /// }
    /// ```
    ///
    /// Findings keep the engine's order; keys keep the order shown. New keys may be added
    /// within version 1; renaming or removing one bumps `version`.
    Json,
    /// SARIF 2.1.0 for GitHub code scanning.
    Sarif,
    /// A summary table per severity and rule, then each finding with file:line and the fix,
    /// for pull-request comments and `$GITHUB_STEP_SUMMARY`.
    Markdown,
    /// JUnit XML for CI systems that read test reports.
    Junit,
    /// One self-contained HTML page (inline CSS, SVG charts and a filter script; no network)
    /// for auditors and the nightly audit artifact.
    Html,
}

/// Renders the report. The output always ends with a newline.
pub fn render(report: &Report, format: Format) -> String {
    render_with_baseline(report, format, None)
}

/// Renders the report of a scan compared with a `--baseline` report: summaries add how many
/// findings are new, unchanged and resolved.
pub fn render_with_baseline(report: &Report, format: Format, baseline: Option<&Baseline>) -> String {
    render_categorised(report, format, baseline, None)
}

/// [`render_with_baseline`], with the SARIF run's category (`automationDetails.id`) when one
/// is given: GitHub code scanning keys alerts by it, and `charterguard merge` groups by it.
pub fn render_categorised(report: &Report, format: Format, baseline: Option<&Baseline>, category: Option<&str>) -> String {
    match format {
        Format::Human { color } => human::render(report, color, baseline),
        Format::Json => json::render(report, baseline),
        Format::Sarif => sarif::render(report, baseline, category),
        Format::Markdown => markdown::render(report, baseline),
        Format::Junit => junit::render(report),
        Format::Html => html::render(report, baseline),
    }
}

/// The error diagnostics and the one-line summary of the human format, plain: what a run
/// prints on standard error when its report goes to a file or is machine-readable.
pub use catalogue::{catalogue_markdown, helpers_markdown};

/// Reports identify findings the way baselines do.
pub use crate::fingerprint::fingerprint;

pub fn console_summary(report: &Report, baseline: Option<&Baseline>) -> String {
    human::console(report, baseline)
}

/// Finding counts shared by the human summary line and the JSON summary. Violations are
/// counted by severity; undecided findings only as undecided (they are never a pass, nor a
/// violation of a given severity); suppressed findings only as suppressed.
#[derive(Default)]
struct Counts {
    error: usize,
    warning: usize,
    note: usize,
    undecided: usize,
    suppressed: usize,
}

impl Counts {
    fn of(findings: &[Finding]) -> Self {
        let mut counts = Counts::default();
        for f in findings {
            if f.is_suppressed() {
                counts.suppressed += 1;
                continue;
            }
            match (f.outcome, f.severity) {
                (Outcome::Undecided, _) => counts.undecided += 1,
                (Outcome::Violation, Severity::Error) => counts.error += 1,
                (Outcome::Violation, Severity::Warning) => counts.warning += 1,
                (Outcome::Violation, Severity::Note) => counts.note += 1,
            }
        }
        counts
    }
}

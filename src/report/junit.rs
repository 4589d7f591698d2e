//! The JUnit XML format, for CI systems that read test reports: one test suite per rule, one
//! failing test case per violation, one skipped case per undecided or suppressed finding, and a passing case
//! for a rule without findings.

use super::{escape_markup, Report};
use crate::model::{Finding, Outcome};
use std::fmt::Write as _;

pub(super) fn render(report: &Report) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let fails = |f: &&Finding| f.outcome == Outcome::Violation && !f.is_suppressed() && !f.is_unchanged();
    let failures = report.findings.iter().filter(fails).count();
    let _ = writeln!(out, "<testsuites name=\"charterguard\" tests=\"{}\" failures=\"{failures}\">", report.rules.len().max(1));
    for rule in report.rules {
        let findings: Vec<&Finding> = report.findings.iter().filter(|f| f.rule_id == rule.id).collect();
        let failed = findings.iter().filter(|f| fails(f)).count();
        let skipped = findings.len() - failed;
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\" skipped=\"{skipped}\">",
            escape_markup(&format!("{} {}", rule.id, rule.title)),
            findings.len().max(1)
        );
        if findings.is_empty() {
            let _ = writeln!(out, "    <testcase classname=\"{}\" name=\"no findings\"/>", escape_markup(&rule.id));
        }
        for f in findings {
            let name = format!("{} ({})", f.subject(), f.place());
            let _ = writeln!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\" line=\"{}\">",
                escape_markup(&rule.id),
                escape_markup(&name),
                escape_markup(&f.span.file),
                f.span.start_line
            );
            match (&f.suppression, f.outcome) {
                (Some(s), _) => {
                    let _ = writeln!(out, "      <skipped message=\"suppressed: {}\"/>", escape_markup(&s.reason));
                }
                (None, Outcome::Violation) if f.is_unchanged() => {
                    let _ = writeln!(out, "      <skipped message=\"unchanged since the baseline: {}\"/>", escape_markup(&f.message));
                }
                (None, Outcome::Violation) => {
                    let _ = writeln!(
                        out,
                        "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                        f.severity.as_str(),
                        escape_markup(&f.message),
                        escape_markup(&rule.help)
                    );
                }
                (None, Outcome::Undecided) => {
                    let _ = writeln!(out, "      <skipped message=\"could not decide: {}\"/>", escape_markup(&f.message));
                }
            }
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

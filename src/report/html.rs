//! The HTML format: one self-contained page for auditors and the nightly audit artifact.
//!
//! Inline CSS, inline SVG charts and a small inline script; no network, no external asset, so
//! the file opens the same from a CI artifact, a mail attachment or an air-gapped laptop. Every
//! piece of text that comes from the scan (messages, paths, addresses, rule titles, suppression
//! reasons) goes through [`escape`]; the script reads only `data-*` attributes and the rows'
//! text, never markup from the scan. No timestamp either: the page is a pure function of the
//! report, like the other formats.

use super::undecided::UndecidedErrors;
use super::{escape_markup, Baseline, Counts, Report};
use crate::model::Severity;
use crate::model::{BaselineState, Finding, Outcome};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The per-rule chart shows this many rules, the rest are summed in one "other rules" bar.
const TOP_RULES: usize = 20;

pub(super) fn render(report: &Report, baseline: Option<&Baseline>) -> String {
    let counts = Counts::of(report.findings);
    let mut out = String::with_capacity(16 * 1024 + report.findings.len() * 512);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    // Nothing may be fetched: the page works offline and cannot leak that it was opened.
    out.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n",
    );
    out.push_str("<title>charterguard report</title>\n<style>\n");
    out.push_str(CSS);
    out.push_str("</style>\n</head>\n<body>\n");
    header(&mut out, report, &counts, baseline);
    charts(&mut out, report, &counts, baseline);
    table(&mut out, report);
    diagnostics(&mut out, report);
    out.push_str("<script>\n");
    out.push_str(SCRIPT);
    out.push_str("</script>\n</body>\n</html>\n");
    out
}

fn header(out: &mut String, report: &Report, counts: &Counts, baseline: Option<&Baseline>) {
    let _ = writeln!(
        out,
        "<header>\n<h1>charterguard</h1>\n<p class=\"scope\">{} files, {} resources scanned against the deployment charter (DA-ALTSCORE-001)</p>",
        report.files_scanned, report.resources
    );
    out.push_str("<div class=\"tiles\">\n");
    let tile = |out: &mut String, class: &str, value: usize, label: &str| {
        let _ = writeln!(out, "<div class=\"tile {class}\"><span class=\"n\">{value}</span><span class=\"l\">{label}</span></div>");
    };
    tile(out, "error", counts.error, "errors");
    let undecided = UndecidedErrors::of(report);
    tile(out, "undecided", undecided.count, "error rules could not decide");
    tile(out, "warning", counts.warning, "warnings");
    tile(out, "note", counts.note, "notes");
    tile(out, "undecided", counts.undecided, "could not decide");
    tile(out, "suppressed", counts.suppressed, "suppressed");
    if let Some(b) = baseline {
        tile(out, "new", b.new, "new since baseline");
        tile(out, "unchanged", b.unchanged, "unchanged");
        tile(out, "resolved", b.resolved, "resolved");
    }
    out.push_str("</div>\n");
    undecided_reasons(out, &undecided);
    out.push_str("</header>\n");
}

/// Why error rules could not decide, most frequent first: the gate passes these findings
/// unless `--fail-on-undecided`, so the page says so next to the errors.
fn undecided_reasons(out: &mut String, undecided: &UndecidedErrors) {
    if undecided.count == 0 {
        return;
    }
    out.push_str("<p>Could not decide on error rules, most frequent reasons:</p>\n<ul>\n");
    for reason in &undecided.reasons {
        let _ = writeln!(out, "<li>{}× {}</li>", reason.count, escape_markup(&reason.reason));
    }
    out.push_str("</ul>\n");
}

fn charts(out: &mut String, report: &Report, counts: &Counts, baseline: Option<&Baseline>) {
    out.push_str("<section class=\"charts\">\n");
    let severities = [
        Bar::new("error", counts.error, "error"),
        Bar::new("warning", counts.warning, "warning"),
        Bar::new("note", counts.note, "note"),
        Bar::new("undecided", counts.undecided, "undecided"),
        Bar::new("suppressed", counts.suppressed, "suppressed"),
    ];
    // Short charts stacked on the left, the tall per-rule chart on the right.
    out.push_str("<div class=\"col\">\n");
    figure(out, "Findings per severity", &column_chart(&severities));
    if let Some(b) = baseline {
        let trend = [Bar::new("new", b.new, "new"), Bar::new("unchanged", b.unchanged, "unchanged"), Bar::new("resolved", b.resolved, "resolved")];
        figure(out, "Against the baseline", &column_chart(&trend));
    }
    figure(out, "Open findings per directory", &row_chart(&per_group(report.findings)));
    out.push_str("</div>\n");
    figure(out, "Open findings per rule (top 20)", &row_chart(&per_rule(report)));
    out.push_str("</section>\n");
}

fn figure(out: &mut String, caption: &str, svg: &str) {
    let _ = writeln!(out, "<figure>\n<figcaption>{}</figcaption>\n{svg}</figure>", escape_markup(caption));
}

/// The findings the charts count: neither suppressed nor accepted in the baseline. What an
/// auditor has to act on.
fn is_open(f: &Finding) -> bool {
    !f.is_suppressed() && !f.is_unchanged()
}

fn per_rule(report: &Report) -> Vec<Bar> {
    let mut by_rule: BTreeMap<&str, (usize, Severity)> = BTreeMap::new();
    for f in report.findings.iter().filter(|f| is_open(f)) {
        let entry = by_rule.entry(&f.rule_id).or_insert((0, f.severity));
        entry.0 += 1;
        entry.1 = entry.1.max(f.severity);
    }
    let mut rows: Vec<_> = by_rule.into_iter().collect();
    rows.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
    let rest: usize = rows.iter().skip(TOP_RULES).map(|(_, (n, _))| n).sum();
    let mut bars: Vec<Bar> = rows
        .iter()
        .take(TOP_RULES)
        .map(|(id, (n, severity))| {
            let title = report.rule(id).map(|r| format!("{id}: {}", r.title)).unwrap_or_else(|| id.to_string());
            Bar { label: id.to_string(), value: *n, class: severity.as_str(), title }
        })
        .collect();
    if rest > 0 {
        let others = rows.len() - TOP_RULES;
        bars.push(Bar::new(&format!("{others} other rule{}", if others == 1 { "" } else { "s" }), rest, "suppressed"));
    }
    bars
}

fn per_group(findings: &[Finding]) -> Vec<Bar> {
    let root = common_dir(findings.iter().filter(|f| is_file_source(f)).map(|f| &*f.span.file));
    let mut by_group: BTreeMap<String, usize> = BTreeMap::new();
    for f in findings.iter().filter(|f| is_open(f)) {
        *by_group.entry(group_of(f, &root)).or_default() += 1;
    }
    let mut rows: Vec<_> = by_group.into_iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    rows.into_iter().map(|(group, n)| Bar::new(&group, n, "group")).collect()
}

fn is_file_source(f: &Finding) -> bool {
    f.live.is_none()
}

/// The group a finding is charted under: for code, the first directory of its file below the
/// directory all scanned findings share (`fixtures/platform/envs/prod/main.tf` under
/// `fixtures/platform` is `envs`; a file directly there is `.`); for live findings, the
/// account (AWS) or cluster.
fn group_of(f: &Finding, root: &str) -> String {
    if let Some(origin) = &f.live {
        return format!("{} {}", f.source.as_str(), origin.scope_label());
    }
    let relative = f.span.file.strip_prefix(root).unwrap_or(&f.span.file).trim_start_matches('/');
    match relative.split_once('/') {
        Some((dir, _)) => dir.to_string(),
        None => ".".to_string(),
    }
}

/// The longest directory prefix (ending before a `/`) all paths share; empty when none.
fn common_dir<'a>(mut files: impl Iterator<Item = &'a str>) -> String {
    let Some(first) = files.next() else { return String::new() };
    let mut prefix: Vec<&str> = first.split('/').collect();
    prefix.pop(); // the file name
    for file in files {
        let dirs: Vec<&str> = file.split('/').collect();
        let shared = prefix.iter().zip(&dirs[..dirs.len() - 1]).take_while(|(a, b)| a == b).count();
        prefix.truncate(shared);
    }
    prefix.join("/")
}

struct Bar {
    label: String,
    value: usize,
    /// CSS class: the colour.
    class: &'static str,
    /// The tooltip.
    title: String,
}

impl Bar {
    fn new(label: &str, value: usize, class: &'static str) -> Self {
        Bar { label: label.to_string(), value, class, title: format!("{label}: {value}") }
    }
}

/// Vertical bars, one per entry, value above, label below.
fn column_chart(bars: &[Bar]) -> String {
    let (bar_width, gap, plot_height, top, bottom) = (56, 20, 140, 20, 24);
    let width = bars.len() * (bar_width + gap) + gap;
    let height = top + plot_height + bottom;
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1);
    let mut svg = format!("<svg class=\"chart\" role=\"img\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">\n");
    let _ = writeln!(svg, "<line class=\"axis\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>", gap / 2, top + plot_height, width - gap / 2, top + plot_height);
    for (i, bar) in bars.iter().enumerate() {
        let x = gap + i * (bar_width + gap);
        let h = bar.value * plot_height / max;
        let y = top + plot_height - h;
        let _ = writeln!(
            svg,
            "<g><title>{}</title><rect class=\"{}\" x=\"{x}\" y=\"{y}\" width=\"{bar_width}\" height=\"{h}\"/><text class=\"v\" x=\"{}\" y=\"{}\">{}</text><text class=\"l\" x=\"{}\" y=\"{}\">{}</text></g>",
            escape_markup(&bar.title),
            bar.class,
            x + bar_width / 2,
            y - 5,
            bar.value,
            x + bar_width / 2,
            top + plot_height + 16,
            escape_markup(&bar.label)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// Horizontal bars, one row per entry, label left, value right of the bar.
fn row_chart(bars: &[Bar]) -> String {
    if bars.is_empty() {
        return "<p class=\"empty\">No open findings.</p>\n".to_string();
    }
    let (label_width, plot_width, row, value_width) = (150, 300, 22, 50);
    let width = label_width + plot_width + value_width;
    let height = bars.len() * row + 4;
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1);
    let mut svg = format!("<svg class=\"chart\" role=\"img\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">\n");
    for (i, bar) in bars.iter().enumerate() {
        let y = 2 + i * row;
        let w = (bar.value * plot_width / max).max(1);
        let _ = writeln!(
            svg,
            "<g><title>{}</title><text class=\"rl\" x=\"{}\" y=\"{}\">{}</text><rect class=\"{}\" x=\"{label_width}\" y=\"{}\" width=\"{w}\" height=\"{}\"/><text class=\"rv\" x=\"{}\" y=\"{}\">{}</text></g>",
            escape_markup(&bar.title),
            label_width - 8,
            y + 15,
            escape_markup(&shorten(&bar.label, 22)),
            bar.class,
            y + 3,
            row - 6,
            label_width + w + 6,
            y + 15,
            bar.value
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// At most `max` characters, with an ellipsis when cut (chart labels; tooltips keep it whole).
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

fn table(out: &mut String, report: &Report) {
    out.push_str("<section class=\"findings\">\n<h2>Findings</h2>\n<form id=\"filters\" class=\"filters\" onsubmit=\"return false\">\n");
    out.push_str("<input id=\"q\" type=\"search\" placeholder=\"Filter: rule, resource, file, message\" aria-label=\"Filter findings\">\n");
    for (value, label) in [("error", "errors"), ("warning", "warnings"), ("note", "notes"), ("undecided", "could not decide")] {
        let _ = writeln!(out, "<label class=\"chk {value}\"><input type=\"checkbox\" name=\"severity\" value=\"{value}\" checked> {label}</label>");
    }
    out.push_str("<label class=\"chk\"><input type=\"checkbox\" id=\"suppressed\" checked> suppressed</label>\n");
    let _ = writeln!(out, "<span id=\"shown\" class=\"shown\">{0} of {0} findings</span>\n</form>", report.findings.len());
    out.push_str("<table id=\"findings\">\n<thead><tr><th>severity</th><th>rule</th><th>resource</th><th>file:line</th><th>message</th><th>status</th></tr></thead>\n<tbody>\n");
    for f in report.findings {
        row(out, report, f);
    }
    out.push_str("</tbody>\n</table>\n");
    if report.findings.is_empty() {
        out.push_str("<p class=\"empty\">No findings: every rule that applied passed.</p>\n");
    }
    out.push_str("</section>\n");
}

fn row(out: &mut String, report: &Report, f: &Finding) {
    let severity = match f.outcome {
        Outcome::Violation => f.severity.as_str(),
        Outcome::Undecided => "undecided",
    };
    let label = match f.outcome {
        Outcome::Violation => f.severity.as_str(),
        Outcome::Undecided => "could not decide",
    };
    let status = if f.is_suppressed() {
        "suppressed"
    } else {
        match f.baseline {
            Some(BaselineState::New) => "new",
            Some(BaselineState::Unchanged) => "unchanged",
            None => "open",
        }
    };
    let title = report.rule(&f.rule_id).map(|r| r.title.as_str()).unwrap_or("");
    let mut place = escape_markup(&f.place());
    if let Some(template) = &f.template {
        let _ = write!(place, "<div class=\"why\">{}</div>", escape_markup(template));
    }
    let _ = write!(
        out,
        "<tr data-severity=\"{severity}\" data-status=\"{status}\" data-rule=\"{}\"><td><span class=\"badge {severity}\">{label}</span></td><td title=\"{}\">{}</td><td class=\"res\">{}</td><td class=\"loc\">{}</td><td>{}</td><td class=\"st {status}\">{status}",
        escape_markup(&f.rule_id),
        escape_markup(title),
        escape_markup(&f.rule_id),
        escape_markup(&f.subject()),
        place,
        escape_markup(&f.message),
    );
    if let Some(s) = &f.suppression {
        let until = s.until.map(|u| format!(", until {u}")).unwrap_or_default();
        let _ = write!(
            out,
            "<div class=\"why\">{}{} ({}:{})</div>",
            escape_markup(&s.reason),
            escape_markup(&until),
            escape_markup(&s.location.file),
            s.location.start_line
        );
    }
    out.push_str("</td></tr>\n");
}

fn diagnostics(out: &mut String, report: &Report) {
    let errors: Vec<_> = report.diagnostics.iter().filter(|d| d.is_error()).collect();
    if errors.is_empty() {
        return;
    }
    out.push_str("<section class=\"diagnostics\">\n<h2>Inputs that could not be read</h2>\n<ul>\n");
    for diagnostic in errors {
        let _ = writeln!(out, "<li><code>{}</code></li>", escape_markup(&diagnostic.to_string()));
    }
    out.push_str("</ul>\n</section>\n");
}

const CSS: &str = r##":root { --error: #c62828; --warning: #e65100; --note: #1565c0; --undecided: #6a1b9a; --suppressed: #757575; --new: #c62828; --unchanged: #9e9e9e; --resolved: #2e7d32; --group: #37474f; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: #212121; background: #fafafa; margin: 0; padding: 24px 32px; }
h1 { margin: 0 0 4px; font-size: 26px; }
h2 { font-size: 18px; margin: 28px 0 10px; }
.scope { margin: 0 0 16px; color: #555; }
.tiles { display: flex; flex-wrap: wrap; gap: 10px; }
.tile { background: #fff; border: 1px solid #ddd; border-left: 6px solid var(--group); border-radius: 4px; padding: 8px 14px; min-width: 96px; }
.tile .n { display: block; font-size: 24px; font-weight: 600; }
.tile .l { color: #555; font-size: 12px; }
.tile.error { border-left-color: var(--error); } .tile.warning { border-left-color: var(--warning); } .tile.note { border-left-color: var(--note); }
.tile.undecided { border-left-color: var(--undecided); } .tile.suppressed { border-left-color: var(--suppressed); }
.tile.new { border-left-color: var(--new); } .tile.unchanged { border-left-color: var(--unchanged); } .tile.resolved { border-left-color: var(--resolved); }
.charts { display: flex; flex-wrap: wrap; gap: 16px; margin-top: 20px; align-items: flex-start; }
figure { margin: 0; background: #fff; border: 1px solid #ddd; border-radius: 4px; padding: 12px 16px; }
figcaption { font-weight: 600; margin-bottom: 8px; }
svg.chart text { font-size: 12px; fill: #333; }
svg.chart text.v, svg.chart text.l { text-anchor: middle; }
svg.chart text.rl { text-anchor: end; }
svg.chart .axis { stroke: #999; }
rect.error { fill: var(--error); } rect.warning { fill: var(--warning); } rect.note { fill: var(--note); } rect.undecided { fill: var(--undecided); }
rect.suppressed { fill: var(--suppressed); } rect.new { fill: var(--new); } rect.unchanged { fill: var(--unchanged); } rect.resolved { fill: var(--resolved); } rect.group { fill: var(--group); }
.filters { display: flex; flex-wrap: wrap; gap: 12px; align-items: center; margin-bottom: 10px; }
.filters input[type=search] { width: 320px; padding: 5px 8px; border: 1px solid #bbb; border-radius: 4px; font: inherit; }
.shown { color: #555; margin-left: auto; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid #ddd; }
th, td { text-align: left; vertical-align: top; padding: 5px 8px; border-bottom: 1px solid #eee; overflow-wrap: anywhere; }
th { background: #eceff1; position: sticky; top: 0; }
td.res, td.loc { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; overflow-wrap: anywhere; }
#findings { table-layout: fixed; }
#findings th:nth-child(1) { width: 112px; } #findings th:nth-child(2) { width: 80px; } #findings th:nth-child(3) { width: 19%; }
#findings th:nth-child(4) { width: 22%; } #findings th:nth-child(6) { width: 90px; }
.col { display: flex; flex-direction: column; gap: 16px; }
tr[hidden] { display: none; }
.badge { display: inline-block; padding: 1px 6px; border-radius: 3px; color: #fff; font-size: 12px; white-space: nowrap; }
.badge.error { background: var(--error); } .badge.warning { background: var(--warning); } .badge.note { background: var(--note); } .badge.undecided { background: var(--undecided); }
td.st.suppressed, td.st.unchanged { color: #757575; } td.st.new { color: var(--new); font-weight: 600; }
.why { font-size: 12px; color: #555; }
.empty { color: #555; }
"##;

/// The filter: a text box over each row's text, severity checkboxes over `data-severity`, and
/// one checkbox for `data-status="suppressed"`. Marks `<body data-ready>` once wired up, which
/// the headless-browser test checks.
const SCRIPT: &str = r##"(function () {
  "use strict";
  var form = document.getElementById("filters");
  var query = document.getElementById("q");
  var suppressed = document.getElementById("suppressed");
  var shown = document.getElementById("shown");
  var rows = Array.prototype.slice.call(document.querySelectorAll("#findings tbody tr[data-severity]"));
  var texts = rows.map(function (row) { return row.textContent.toLowerCase(); });
  function severities() {
    var on = {};
    form.querySelectorAll("input[name=severity]").forEach(function (box) { on[box.value] = box.checked; });
    return on;
  }
  function apply() {
    var words = query.value.toLowerCase().split(/\s+/).filter(Boolean);
    var on = severities();
    var count = 0;
    rows.forEach(function (row, i) {
      var visible = on[row.dataset.severity] === true
        && (suppressed.checked || row.dataset.status !== "suppressed")
        && words.every(function (word) { return texts[i].indexOf(word) !== -1; });
      row.hidden = !visible;
      if (visible) { count += 1; }
    });
    shown.textContent = count + " of " + rows.length + " findings";
  }
  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  apply();
  document.body.setAttribute("data-ready", "true");
})();
"##;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SourceKind;
    use crate::model::Span;
    use crate::model::{Suppression, SuppressionKind};
    use crate::rules::RuleMeta;
    use std::sync::Arc;
    use std::time::Duration;

    fn finding(rule: &str, severity: Severity, file: &str, line: u32, message: &str) -> Finding {
        Finding {
            rule_id: rule.into(),
            severity,
            rule_severity: severity,
            outcome: Outcome::Violation,
            message: message.into(),
            source: SourceKind::Tf,
            address: "aws_s3_bucket.a".into(),
            rtype: "aws_s3_bucket".into(),
            item: None,
            attribute: "versioning".into(),
            span: Span::new(file.into(), line, 1, line, 9),
            template: None,
            render: None,
            call_chain: vec![],
            suppression: None,
            baseline: None,
            live: None,
        }
    }

    fn findings() -> Vec<Finding> {
        let mut undecided = finding("NET-003", Severity::Note, "infra/envs/prod/network.tf", 7, "aws_subnet.data route table unknown");
        undecided.outcome = Outcome::Undecided;
        undecided.rule_severity = Severity::Error;
        let mut suppressed = finding("DATA-003", Severity::Error, "infra/modules/lake/s3.tf", 3, "aws_s3_bucket.a does not block public access");
        suppressed.suppression = Some(Suppression {
            kind: SuppressionKind::Inline,
            reason: "public website bucket <approved>".into(),
            until: None,
            location: Span::new("infra/modules/lake/s3.tf".into(), 2, 1, 2, 40),
        });
        let mut k8s = finding("POD-001", Severity::Warning, "infra/k8s/api.yaml", 12, "Deployment api/web container app may run as root");
        k8s.source = SourceKind::K8s;
        k8s.address = "Deployment api/web".into();
        k8s.item = Some("container app".into());
        vec![
            finding("ENC-001", Severity::Error, "infra/envs/prod/main.tf", 4, "aws_s3_bucket.a uses AES256 & not <script>alert(1)</script>"),
            suppressed,
            undecided,
            k8s,
        ]
    }

    fn rules() -> Vec<RuleMeta> {
        vec![RuleMeta {
            id: "ENC-001".into(),
            title: "S3 buckets use \"SSE-KMS\"".into(),
            severity: Severity::Error,
            charter: String::new(),
            help: String::new(),
            sources: vec![SourceKind::Tf],
        }]
    }

    fn render_findings(findings: &[Finding], baseline: Option<&Baseline>) -> String {
        let rules = rules();
        let no_source = |_: &str| -> Option<Arc<str>> { None };
        let report = Report { rules: &rules, files_scanned: 3, resources: 9, elapsed: Duration::from_secs(7), ..Report::of(findings, &no_source) };
        render(&report, baseline)
    }

    #[test]
    fn escapes_everything_from_the_scan() {
        let html = render_findings(&findings(), None);
        assert!(!html.contains("<script>alert"), "a message must not become markup");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("AES256 &amp; not"));
        assert!(html.contains("public website bucket &lt;approved&gt;"));
        assert!(html.contains("title=\"S3 buckets use &quot;SSE-KMS&quot;\""));
        assert_eq!(html.matches("<script>").count(), 1, "only the page's own script");
    }

    #[test]
    fn one_row_per_finding_with_its_status() {
        let html = render_findings(&findings(), None);
        assert_eq!(html.matches("<tr data-").count(), 4);
        assert!(html.contains("data-severity=\"undecided\" data-status=\"open\""));
        assert!(html.contains("data-severity=\"error\" data-status=\"suppressed\""));
        assert!(!html.contains("Against the baseline"), "no trend chart without a baseline");
    }

    #[test]
    fn groups_by_the_first_directory_below_the_shared_root() {
        let all = findings();
        assert_eq!(common_dir(all.iter().map(|f| &*f.span.file)), "infra");
        let groups: Vec<(String, usize)> = per_group(&all).into_iter().map(|b| (b.label, b.value)).collect();
        // The suppressed finding (modules) is not open.
        assert_eq!(groups, vec![("envs".to_string(), 2), ("k8s".to_string(), 1)]);
        assert_eq!(group_of(&all[0], ""), "infra");
        assert_eq!(group_of(&finding("X", Severity::Note, "main.tf", 1, "m"), ""), ".");
    }

    #[test]
    fn top_rules_are_capped_and_the_rest_summed() {
        let many: Vec<Finding> = (0..25).map(|i| finding(&format!("R-{i:03}"), Severity::Warning, "a/b.tf", 1, "m")).collect();
        let bars = per_rule_of(&many);
        assert_eq!(bars.len(), TOP_RULES + 1);
        assert_eq!(bars.last().map(|b| (b.label.as_str(), b.value)), Some(("5 other rules", 5)));
    }

    fn per_rule_of(findings: &[Finding]) -> Vec<Bar> {
        let no_source = |_: &str| -> Option<Arc<str>> { None };
        let report = Report::of(findings, &no_source);
        per_rule(&report)
    }

    #[test]
    fn snapshot_with_baseline() {
        let mut all = findings();
        all[0].baseline = Some(BaselineState::New);
        all[2].baseline = Some(BaselineState::Unchanged);
        all[3].baseline = Some(BaselineState::New);
        let baseline = Baseline { new: 2, unchanged: 1, resolved: 3, ..Baseline::default() };
        let html = render_findings(&all, Some(&baseline));
        assert!(html.contains("Against the baseline"));
        assert_eq!(html, render_findings(&all, Some(&baseline)), "deterministic");
        insta::assert_snapshot!(html);
    }
}

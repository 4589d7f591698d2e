//! SARIF 2.1.0 for GitHub code scanning, built with `serde-sarif`'s types.
//!
//! One run; `tool.driver.rules` lists every rule that ran, in id order, so results refer to
//! them by `ruleIndex`. Locations are repository-relative URIs under `%SRCROOT%`, and
//! `partialFingerprints` carry [`super::fingerprint`] so alerts survive line shifts.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use serde_sarif::sarif::{
    ArtifactLocation, Invocation, Location, LogicalLocation, Message, MultiformatMessageString, Notification, PhysicalLocation, PropertyBag, Region,
    ReportingConfiguration, ReportingDescriptor, Result as SarifResult, ResultLevel, Run, RunAutomationDetails, Sarif, Suppression, Tool, ToolComponent,
};

use super::{fingerprint, Baseline, Report};
use crate::model::Severity;
use crate::model::{Diagnostic, DiagnosticLevel, Span};
use crate::model::{Finding, Outcome};
use crate::rules::RuleMeta;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const INFORMATION_URI: &str = "https://github.com/altscore/charterguard";
/// The base every artifact URI is relative to: the root of the scanned repository. GitHub
/// resolves it to the checkout.
const SRCROOT: &str = "%SRCROOT%";
/// The key of our entry in `partialFingerprints`; bump the version if the fingerprint recipe
/// changes, so GitHub does not match old alerts against new fingerprints.
const FINGERPRINT_KEY: &str = "charterguard/v1";
const UNDECIDED_PREFIX: &str = "could not decide: ";

/// GitHub code scanning rejects a run with more results than this.
pub const MAX_RESULTS: usize = 25_000;

pub(super) fn render(report: &Report, baseline: Option<&Baseline>, category: Option<&str>) -> String {
    render_run(report, baseline, MAX_RESULTS, category)
}

/// [`render`] with at most `max_results` results (GitHub's limit is [`MAX_RESULTS`]; tests
/// pass a smaller one). When there are more findings, the most severe are kept (error, then
/// warning, then note, an undecided finding counting as the note it is reported as; the
/// engine's order within a level), the kept ones stay in the engine's order, and the run says
/// how many were left out in a warning `toolExecutionNotifications` entry and in
/// `properties.omittedResults`. A truncated file is still accepted, and the alerts that
/// matter most still show; the exit code and the other formats are not affected.
pub fn render_limited(report: &Report, baseline: Option<&Baseline>, max_results: usize) -> String {
    render_run(report, baseline, max_results, None)
}

fn render_run(report: &Report, baseline: Option<&Baseline>, max_results: usize, category: Option<&str>) -> String {
    let mut rules: Vec<&RuleMeta> = report.rules.iter().collect();
    rules.sort_by(|a, b| a.id.cmp(&b.id));
    let index: BTreeMap<&str, usize> = rules.iter().enumerate().map(|(i, r)| (r.id.as_str(), i)).collect();

    let driver = ToolComponent::builder()
        .name("charterguard")
        .information_uri(INFORMATION_URI)
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .rules(rules.iter().map(|r| rule(r)).collect::<Vec<_>>())
        .build();

    let kept = most_severe(report.findings, max_results);
    let results: Vec<SarifResult> = kept.iter().map(|&f| result(f, index.get(f.rule_id.as_str()).copied())).collect();
    let omitted = Omitted::of(report.findings, &kept);

    let mut notifications: Vec<Notification> = report.diagnostics.iter().map(notification).collect();
    if omitted.total > 0 {
        let text =
            format!("{} lower-severity results were left out: GitHub accepts at most {} results per run", thousands(omitted.total), thousands(max_results));
        notifications.push(Notification::builder().level(json!("warning")).message(Message::builder().text(text).build()).build());
    }
    let successful = !report.diagnostics.iter().any(Diagnostic::is_error);
    let invocation = if notifications.is_empty() {
        Invocation::builder().execution_successful(successful).build()
    } else {
        Invocation::builder().execution_successful(successful).tool_execution_notifications(notifications).build()
    };

    // `%SRCROOT%` is left without a `uri`: SARIF lets the consumer supply it (GitHub uses
    // the checkout), and an absolute path here would leak the scanning machine's layout.
    let srcroot = ArtifactLocation::builder().description(Message::builder().text("The root of the scanned repository.").build()).build();

    let mut run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .original_uri_base_ids(BTreeMap::from([(SRCROOT.to_string(), srcroot)]))
        // Span columns count Unicode scalar values, not UTF-16 code units (the default).
        .column_kind(json!("unicodeCodePoints"))
        .invocations(vec![invocation])
        .results(results)
        .build();
    if let Some(category) = category {
        // GitHub reads the category as everything before the last `/` of the id.
        let id = if category.ends_with('/') { category.to_string() } else { format!("{category}/") };
        run.automation_details = Some(RunAutomationDetails::builder().id(id).build());
    }
    let mut properties = BTreeMap::new();
    if let Some(b) = baseline {
        properties.insert("baseline".to_string(), json!({"new": b.new, "unchanged": b.unchanged, "resolved": b.resolved}));
    }
    if omitted.total > 0 {
        properties.insert(
            "omittedResults".to_string(),
            json!({
                "total": omitted.total,
                "error": omitted.error,
                "warning": omitted.warning,
                "note": omitted.note,
                "suppressed": omitted.suppressed,
                "findings": report.findings.len(),
                "limit": max_results,
            }),
        );
    }
    if !properties.is_empty() {
        run.properties = Some(PropertyBag::builder().additional_properties(properties).build());
    }

    let sarif = Sarif::builder().schema(SCHEMA).version(json!("2.1.0")).runs(vec![run]).build();

    // serde-sarif serializes `version` last; put `$schema` and `version` first as readers
    // (and people) expect.
    let mut value = serde_json::to_value(&sarif).expect("SARIF serializes");
    let object = value.as_object_mut().expect("SARIF log is an object");
    let mut ordered = serde_json::Map::new();
    for key in ["$schema", "version"] {
        if let Some(v) = object.remove(key) {
            ordered.insert(key.to_string(), v);
        }
    }
    ordered.append(object);
    let mut out = serde_json::to_string_pretty(&Value::Object(ordered)).expect("SARIF serializes");
    out.push('\n');
    out
}

/// The level a finding is reported at: its severity, or `note` when undecided.
fn result_severity(f: &Finding) -> Severity {
    if f.outcome == Outcome::Undecided {
        Severity::Note
    } else {
        f.severity
    }
}

fn severity_rank(severity: Severity) -> u8 {
    match severity {
        Severity::Error => 0,
        Severity::Warning => 1,
        Severity::Note => 2,
    }
}

/// The `max` most severe findings, in the engine's order.
fn most_severe(findings: &[Finding], max: usize) -> Vec<&Finding> {
    if findings.len() <= max {
        return findings.iter().collect();
    }
    let mut order: Vec<usize> = (0..findings.len()).collect();
    // Stable: the engine's order within a level.
    order.sort_by_key(|&i| severity_rank(result_severity(&findings[i])));
    order.truncate(max);
    order.sort_unstable();
    order.into_iter().map(|i| &findings[i]).collect()
}

/// How many findings of each reported level [`most_severe`] left out.
#[derive(Default)]
struct Omitted {
    total: usize,
    error: usize,
    warning: usize,
    note: usize,
    /// Of `total`, how many were suppressed.
    suppressed: usize,
}

impl Omitted {
    fn of(findings: &[Finding], kept: &[&Finding]) -> Self {
        let mut omitted = Omitted::default();
        if kept.len() == findings.len() {
            return omitted;
        }
        let count = |fs: &mut dyn Iterator<Item = &Finding>| {
            let mut by = [0usize; 3];
            for f in fs {
                by[severity_rank(result_severity(f)) as usize] += 1;
            }
            by
        };
        let all = count(&mut findings.iter());
        let left = count(&mut kept.iter().copied());
        omitted.error = all[0] - left[0];
        omitted.warning = all[1] - left[1];
        omitted.note = all[2] - left[2];
        omitted.total = findings.len() - kept.len();
        omitted.suppressed = findings.iter().filter(|f| f.is_suppressed()).count() - kept.iter().filter(|f| f.is_suppressed()).count();
        omitted
    }
}

/// `25000` -> `25,000`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn level(severity: Severity) -> ResultLevel {
    match severity {
        Severity::Error => ResultLevel::Error,
        Severity::Warning => ResultLevel::Warning,
        Severity::Note => ResultLevel::Note,
    }
}

fn rule(r: &RuleMeta) -> ReportingDescriptor {
    let mut tags = vec!["security".to_string(), "charter".to_string()];
    tags.extend(r.sources.iter().map(|s| s.as_str().to_string()));
    let properties = PropertyBag::builder()
        .tags(tags)
        .additional_properties(BTreeMap::from([
            ("security-severity".to_string(), json!(r.severity.security_severity())),
            ("precision".to_string(), json!("high")),
        ]))
        .build();
    let help = if r.help.is_empty() { r.title.clone() } else { r.help.clone() };
    ReportingDescriptor::builder()
        .id(r.id.clone())
        .name(camel_case(&r.title).unwrap_or_else(|| r.id.clone()))
        .short_description(MultiformatMessageString::builder().text(r.title.clone()).build())
        .full_description(MultiformatMessageString::builder().text(r.charter.clone()).build())
        .help(MultiformatMessageString::builder().text(help.clone()).markdown(help).build())
        .default_configuration(ReportingConfiguration::builder().level(json!(r.severity.as_str())).build())
        .properties(properties)
        .build()
}

/// `S3 buckets use customer-managed keys` -> `S3BucketsUseCustomerManagedKeys`.
fn camel_case(title: &str) -> Option<String> {
    let name: String = title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            let first = chars.next().expect("non-empty word");
            first.to_uppercase().chain(chars).collect::<String>()
        })
        .collect();
    (!name.is_empty()).then_some(name)
}

fn result(f: &Finding, rule_index: Option<usize>) -> SarifResult {
    let undecided = f.outcome == Outcome::Undecided;
    // An undecided finding is reported as a `note` with the default kind (`fail`): SARIF
    // requires `level: none` for any other kind (§3.27.10), and GitHub would not show it as a
    // note then. The message prefix and `properties.outcome` say it could not decide.
    let (result_level, text) = if undecided { (ResultLevel::Note, format!("{UNDECIDED_PREFIX}{}", f.message)) } else { (level(f.severity), f.message.clone()) };

    let mut fully_qualified = f.address.clone();
    if let Some(item) = &f.item {
        fully_qualified.push('/');
        fully_qualified.push_str(item);
    }
    // A live resource is also named where it runs (`cluster/namespace/kind/name`), unless that
    // is its address already (an AWS resource's ARN).
    let live = f.live.iter().filter(|origin| origin.id != f.address);
    let live = live.map(|origin| LogicalLocation::builder().fully_qualified_name(origin.id.clone()).kind("resource").build()).collect::<Vec<_>>();
    let logical = std::iter::once(LogicalLocation::builder().fully_qualified_name(fully_qualified).kind("resource").build()).chain(live).collect::<Vec<_>>();
    let location = Location::builder().physical_location(physical(&f.span, true)).logical_locations(logical).build();

    let mut properties = BTreeMap::new();
    if let Some(template) = &f.template {
        properties.insert("template".to_string(), json!(template));
    }
    if let Some(render) = &f.render {
        properties.insert("render".to_string(), json!(render));
    }
    if undecided {
        properties.insert("outcome".to_string(), json!("undecided"));
        // The rule's own severity, which `level` (note) does not carry, so code scanning can
        // tell an undecided error rule from an undecided note.
        properties.insert("ruleSeverity".to_string(), json!(f.rule_severity.as_str()));
    }
    if let Some(origin) = &f.live {
        let mut live = json!({"id": origin.id, "scope": origin.scope, "region": origin.region, "managedBy": origin.managed_by});
        if let Some(environment) = &origin.environment {
            live["environment"] = json!(environment);
        }
        properties.insert("live".to_string(), live);
    }

    let related: Vec<Location> = f
        .call_chain
        .iter()
        .enumerate()
        .map(|(i, call)| {
            Location::builder().id(i as i64).physical_location(physical(call, false)).message(Message::builder().text("module call").build()).build()
        })
        .collect();

    let mut builder = SarifResult::builder()
        .rule_id(f.rule_id.clone())
        .level(result_level)
        .message(Message::builder().text(text).build())
        .locations(vec![location])
        .partial_fingerprints(BTreeMap::from([(FINGERPRINT_KEY.to_string(), fingerprint(f))]))
        .build();
    builder.rule_index = rule_index.map(|i| i as i64);
    if !related.is_empty() {
        builder.related_locations = Some(related);
    }
    builder.baseline_state = f.baseline.map(|state| match state {
        crate::model::BaselineState::New => json!("new"),
        crate::model::BaselineState::Unchanged => json!("unchanged"),
    });
    if let Some(s) = &f.suppression {
        builder.suppressions = Some(vec![suppression(s)]);
    }
    if !properties.is_empty() {
        builder.properties = Some(PropertyBag::builder().additional_properties(properties).build());
    }
    builder
}

/// An accepted suppression (§3.35): `inSource` for comments and annotations, `external` for
/// the config's `ignores`; GitHub code scanning shows such results as dismissed.
fn suppression(s: &crate::model::Suppression) -> Suppression {
    let kind = match s.kind {
        crate::model::SuppressionKind::Inline => "inSource",
        crate::model::SuppressionKind::Central => "external",
    };
    let mut suppression = Suppression::builder().kind(json!(kind)).build();
    suppression.justification = Some(s.reason.clone());
    suppression.status = Some(json!("accepted"));
    suppression.location = Some(Location::builder().physical_location(physical(&s.location, false)).build());
    if let Some(until) = s.until {
        suppression.properties = Some(PropertyBag::builder().additional_properties(BTreeMap::from([("until".to_string(), json!(until.to_string()))])).build());
    }
    suppression
}

/// A physical location under `%SRCROOT%`; `whole` keeps the span's end, otherwise only the
/// start line (module call sites are pointed at, not delimited).
fn physical(span: &Span, whole: bool) -> PhysicalLocation {
    PhysicalLocation::builder().artifact_location(artifact(&span.file)).region(region(span, whole)).build()
}

fn artifact(file: &str) -> ArtifactLocation {
    ArtifactLocation::builder().uri(relative_uri(file)).uri_base_id(SRCROOT).build()
}

/// A SARIF region: lines are at least 1 (GitHub rejects 0), columns only when known, the end
/// never before the start.
fn region(span: &Span, whole: bool) -> Region {
    let start_line = span.start_line.max(1);
    let mut region = Region { start_line: Some(start_line.into()), ..Region::default() };
    if span.start_col > 0 {
        region.start_column = Some(span.start_col.into());
    }
    if whole {
        let end_line = span.end_line.max(start_line);
        region.end_line = Some(end_line.into());
        let end_before_start = end_line == start_line && span.start_col > 0 && span.end_col < span.start_col;
        if span.end_col > 0 && !end_before_start {
            region.end_column = Some(span.end_col.into());
        }
    }
    region
}

/// A repository-relative path as a relative URI reference: forward slashes, no leading `/` or
/// `./`, and everything outside RFC 3986's unreserved set (spaces, `%`, `:`, `#`, non-ASCII)
/// percent-encoded.
pub(super) fn relative_uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let mut path = path.as_str();
    loop {
        if let Some(rest) = path.strip_prefix("./") {
            path = rest;
        } else if let Some(rest) = path.strip_prefix('/') {
            path = rest;
        } else {
            break;
        }
    }
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => out.push(byte as char),
            _ => {
                let _ = std::fmt::Write::write_fmt(&mut out, format_args!("%{byte:02X}"));
            }
        }
    }
    out
}

fn notification(d: &Diagnostic) -> Notification {
    let level = match d.level {
        DiagnosticLevel::Error | DiagnosticLevel::Incomplete => "error",
        DiagnosticLevel::Note => "note",
    };
    let location = match (&d.span, d.file.is_empty()) {
        (Some(span), _) => Some(Location::builder().physical_location(physical(span, true)).build()),
        (None, false) => Some(Location::builder().physical_location(PhysicalLocation::builder().artifact_location(artifact(&d.file)).build()).build()),
        (None, true) => None,
    };
    let mut notification = Notification::builder().level(json!(level)).message(Message::builder().text(d.message.clone()).build()).build();
    notification.locations = location.map(|l| vec![l]);
    notification
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_and_encoded() {
        assert_eq!(relative_uri("modules/tenant/main.tf"), "modules/tenant/main.tf");
        assert_eq!(relative_uri("./charts/my app/values.yaml"), "charts/my%20app/values.yaml");
        assert_eq!(relative_uri("/abs/x.tf"), "abs/x.tf");
        assert_eq!(relative_uri("dir\\win.tf"), "dir/win.tf");
        assert_eq!(relative_uri("c:50%.tf"), "c%3A50%25.tf");
        assert_eq!(relative_uri("ü.tf"), "%C3%BC.tf");
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(25_000), "25,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }

    #[test]
    fn camel_case_names() {
        assert_eq!(camel_case("S3 buckets use customer-managed KMS keys").as_deref(), Some("S3BucketsUseCustomerManagedKMSKeys"));
        assert_eq!(camel_case(" - "), None);
    }

    #[test]
    fn regions_are_well_formed() {
        let r = region(&Span::new("a".into(), 0, 0, 0, 0), true);
        assert_eq!((r.start_line, r.start_column, r.end_line, r.end_column), (Some(1), None, Some(1), None));
        let r = region(&Span::new("a".into(), 7, 5, 3, 2), true);
        assert_eq!((r.start_line, r.start_column, r.end_line, r.end_column), (Some(7), Some(5), Some(7), None));
        let r = region(&Span::new("a".into(), 7, 5, 9, 2), true);
        assert_eq!((r.end_line, r.end_column), (Some(9), Some(2)));
    }
}

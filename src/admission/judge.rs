//! One admission review judged as `audit k8s` judges the same object: the object made into
//! the resource the audit makes of it, every rule whose sources include `eks` (except those
//! of the live state alone, see [`judges_admitted_objects`]), the objects
//! the rules look up taken from the watched cache, suppressions (annotations and the
//! config's `ignores:`) and redaction applied. What reaches `--fail-on` is denied in
//! `enforce` mode; everything else is a warning.

use super::review::{Invalid, Request, Verdict};
use crate::config::Config;
use crate::engine::{self, CompiledRule, Judged, Outcome, Within};
use crate::k8s_live::cache::Cache;
use crate::model::{Date, Finding, Model, Resource, Severity, SourceKind, Store};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// A deny message longer than this lists the first violations and counts the others: kubectl
/// prints it on one line.
const MAX_MESSAGE: usize = 2048;

/// What a violation does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Violations at or above `--fail-on` deny the request.
    Enforce,
    /// Nothing is denied: what would be is a warning saying so.
    Warn,
}

pub struct Judge {
    /// The rules judging admitted objects, with the config's overrides.
    rules: Vec<CompiledRule>,
    config: Config,
    cache: Arc<Cache>,
    mode: Mode,
    /// `None`: nothing fails (`--fail-on never`).
    fail_on: Option<Severity>,
    inline_ignores: bool,
}

/// A verdict, and what it counted for the metrics: (rule, `denied` or `warned`).
pub struct Judgement {
    pub verdict: Verdict,
    pub counted: Vec<(String, &'static str)>,
}

impl Judge {
    pub fn new(rules: Vec<CompiledRule>, config: Config, cache: Arc<Cache>, mode: Mode, fail_on: Option<Severity>, inline_ignores: bool) -> Self {
        let rules = rules.into_iter().filter(judges_admitted_objects).collect();
        Judge { rules, config, cache, mode, fail_on, inline_ignores }
    }

    /// Every kind the rules look up: what the cache watches.
    pub fn looked_up(rules: &[CompiledRule]) -> BTreeSet<String> {
        rules.iter().filter(|rule| judges_admitted_objects(rule)).flat_map(|rule| rule.looked_up.keys().cloned()).collect()
    }

    /// The watched cache the judge reads.
    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    /// Judges one review. Only a request that cannot be judged (no object, no kind) is `Err`.
    pub fn review(&self, request: Request) -> Result<Judgement, Invalid> {
        let allowed = Judgement { verdict: Verdict { allowed: true, ..Verdict::default() }, counted: Vec::new() };
        // Deleting and connecting change no spec; a subresource (status, scale) is its
        // controller's business, not the author's.
        if !matches!(request.operation.as_str(), "CREATE" | "UPDATE") || request.sub_resource.as_deref().is_some_and(|s| !s.is_empty()) {
            return Ok(allowed);
        }
        let creating = request.operation == "CREATE";
        let mut object = request.object.ok_or_else(|| Invalid(format!("a {} review without an object", request.operation)))?;
        in_namespace(&mut object, request.namespace.as_deref());
        if judged_at_controller(&object) {
            return Ok(allowed);
        }
        let subject = crate::k8s_live::admitted_resource(self.cache.cluster(), object, self.cache.anchor()).map_err(Invalid)?;
        let findings = self.findings(subject, creating).map_err(|e| Invalid(format!("{e:#}")))?;
        Ok(self.verdict(findings))
    }

    /// The findings on `subject`, judged among the cached objects its rules look up.
    fn findings(&self, subject: Resource, creating: bool) -> anyhow::Result<(Vec<Finding>, Vec<String>)> {
        let kinds = self.looked_up_for(&subject);
        let (mut cached, mut unseen) = self.cache.snapshot(&kinds);
        // An UPDATE judges the object as it will be, not beside its old self.
        cached.retain(|resource| resource.address != subject.address);
        if let Some(namespace) = subject.attrs.get("name").and_then(crate::model::Node::as_str).filter(|_| creating && subject.rtype == "Namespace") {
            unseen.extend(kinds.keys().filter(|kind| *kind != "Namespace").map(|kind| self.not_yet_in(namespace, kind)));
        }
        let mut resources = vec![subject];
        resources.extend(cached);
        let store = Store::from(Model { resources, unseen, ..Model::default() });
        let mut findings = engine::evaluate_some(&store, &self.rules, &self.config, Judged::First(1))?;
        let no_file = |_: &str| None;
        let options = crate::suppress::Options { today: Date::today(), inline: self.inline_ignores, read: &no_file, judged: Some(1) };
        let mut diagnostics = crate::suppress::apply(&mut findings, &store, &self.config, &options);
        crate::redact::findings(&mut findings, &mut diagnostics, &store.resources, &no_file, &self.config.secrets);
        Ok((findings, diagnostics.into_iter().map(|d| format!("charterguard: {}", d.message)).collect()))
    }

    /// The kinds the rules judging `subject` look up, each in the namespaces they look in
    /// (`None`: anywhere). `resource.namespace` and `resource.name` are the subject's.
    fn looked_up_for(&self, subject: &Resource) -> BTreeMap<String, Option<BTreeSet<String>>> {
        let own: Vec<String> =
            ["namespace", "name"].iter().filter_map(|key| subject.attrs.get(key).and_then(crate::model::Node::as_str)).map(str::to_string).collect();
        let mut kinds: BTreeMap<String, Option<BTreeSet<String>>> = BTreeMap::new();
        for (kind, within) in self.rules.iter().filter(|rule| rule.applies_to_type(&subject.rtype)).flat_map(|rule| &rule.looked_up) {
            let entry = kinds.entry(kind.clone()).or_insert_with(|| Some(BTreeSet::new()));
            for place in within {
                match (place, entry.as_mut()) {
                    (_, None) => {}
                    (Within::Anywhere, Some(_)) => *entry = None,
                    (Within::Subject, Some(namespaces)) => namespaces.extend(own.iter().cloned()),
                    (Within::Named(namespace), Some(namespaces)) => {
                        namespaces.insert(namespace.clone());
                    }
                }
            }
        }
        kinds
    }

    /// A namespace being created holds nothing yet: what rules look up in it comes after it
    /// (`kubectl apply` and Helm create the Namespace first), so those rules could not decide
    /// here; the nightly audit judges the namespace with its objects.
    fn not_yet_in(&self, namespace: &str, kind: &str) -> crate::model::Unseen {
        let reason = format!("namespace {namespace} is being created: its {kind} objects can only come after it (the nightly audit judges it with them)");
        self.cache.unseen_in(kind, namespace, reason)
    }

    fn verdict(&self, (findings, notes): (Vec<Finding>, Vec<String>)) -> Judgement {
        let denies = |f: &Finding| f.outcome == Outcome::Violation && self.fail_on.is_some_and(|threshold| f.severity >= threshold);
        let mut counted = Vec::new();
        let (mut denied, mut warnings) = (Vec::new(), notes);
        for finding in findings.iter().filter(|f| !f.is_suppressed()) {
            match (denies(finding), self.mode) {
                (true, Mode::Enforce) => {
                    counted.push((finding.rule_id.clone(), "denied"));
                    denied.push(finding);
                }
                (true, Mode::Warn) => {
                    counted.push((finding.rule_id.clone(), "warned"));
                    warnings.push(format!("{} (would deny): {}", finding.rule_id, finding.message));
                }
                (false, _) => {
                    counted.push((finding.rule_id.clone(), "warned"));
                    warnings.push(format!("{}: {}", finding.rule_id, finding.message));
                }
            }
        }
        let message = (!denied.is_empty()).then(|| deny_message(&denied, self.fail_on.unwrap_or(Severity::Error)));
        Judgement { verdict: Verdict { allowed: message.is_none(), message, warnings }, counted }
    }
}

/// Whether a rule judges objects at admission: it judges live cluster objects (`eks`) as they
/// are written (`k8s`). A rule of the cluster's state alone (TLS-006 reads the expiry
/// cert-manager writes into a Certificate's status once issued) has nothing to read in an
/// object not yet admitted; the nightly audit runs it.
fn judges_admitted_objects(rule: &CompiledRule) -> bool {
    rule.meta.sources.contains(&SourceKind::Eks) && rule.meta.sources.contains(&SourceKind::K8s)
}

/// `Deployment shop/web violates the charter (DA-ALTSCORE-001) at error: POD-001 container app:
/// does not run as non-root; ...`: each violation once, without the address kubectl already
/// names, cut at [`MAX_MESSAGE`].
fn deny_message(denied: &[&Finding], threshold: Severity) -> String {
    let address = &denied[0].address;
    let mut message = format!("{address} violates the charter (DA-ALTSCORE-001) at {} or above:", threshold.as_str());
    for (i, finding) in denied.iter().enumerate() {
        let text = finding.message.strip_prefix(address.as_str()).map_or(finding.message.as_str(), |rest| rest.trim_start_matches([':', ' ']));
        let part = format!(" {} {text};", finding.rule_id);
        if message.len() + part.len() > MAX_MESSAGE {
            message.push_str(&format!(" and {} more", denied.len() - i));
            break;
        }
        message.push_str(&part);
    }
    message.trim_end_matches(';').to_string()
}

/// The API server names a namespaced object's namespace in the request; a manifest applied
/// without one has it only there.
fn in_namespace(object: &mut Value, namespace: Option<&str>) {
    let Some(namespace) = namespace.filter(|n| !n.is_empty()) else { return };
    if object["kind"] == "Namespace" || !object["metadata"].is_object() || object["metadata"].get("namespace").is_some() {
        return;
    }
    object["metadata"]["namespace"] = Value::String(namespace.to_string());
}

/// Whether the object's controller is a workload the webhook judges (a Deployment's
/// ReplicaSet, a ReplicaSet's Pods, a CronJob's Job): it was judged when its controller was
/// admitted, as the audit judges it at its controller.
fn judged_at_controller(object: &Value) -> bool {
    let Some(owners) = object["metadata"]["ownerReferences"].as_array() else { return false };
    owners.iter().any(|owner| owner["controller"] == true && owner["kind"].as_str().and_then(crate::kubernetes::pod_spec_path).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn owned_by_a_workload_means_judged_at_it() {
        let owned =
            |kind: &str, controller: bool| json!({"metadata": {"ownerReferences": [{"kind": kind, "name": "x", "uid": "u", "controller": controller}]}});
        assert!(judged_at_controller(&owned("ReplicaSet", true)));
        assert!(judged_at_controller(&owned("CronJob", true)));
        assert!(!judged_at_controller(&owned("ReplicaSet", false)), "only the controller reference counts");
        assert!(!judged_at_controller(&owned("SparkApplication", true)), "a custom controller's Pods are judged themselves");
        assert!(!judged_at_controller(&json!({"metadata": {}})));
    }

    #[test]
    fn the_request_names_the_namespace_a_manifest_left_out() {
        let mut object = json!({"kind": "ConfigMap", "metadata": {"name": "c"}});
        in_namespace(&mut object, Some("shop"));
        assert_eq!(object["metadata"]["namespace"], "shop");
        let mut namespace = json!({"kind": "Namespace", "metadata": {"name": "shop"}});
        in_namespace(&mut namespace, Some("shop"));
        assert!(namespace["metadata"].get("namespace").is_none());
        let mut placed = json!({"kind": "ConfigMap", "metadata": {"name": "c", "namespace": "other"}});
        in_namespace(&mut placed, Some("shop"));
        assert_eq!(placed["metadata"]["namespace"], "other");
    }
}

//! The listed objects as resources of the model, built by [`crate::kubernetes`] exactly as a
//! manifest of the same object would be (same address `Kind namespace/name`, same derived
//! `pod_spec` and `containers`), so static and live findings on one object are the same
//! findings with the same fingerprints.

use super::charts::Charts;
use super::kinds::ApiKind;
use super::list::{Gap, Listing};
use super::owners::{self, Plan};
use super::secrets::{SecretWithoutValues, LAST_APPLIED};
use crate::model::{Diagnostic, LiveOrigin, Node, Resource, SourceKind, Span, Unseen};
use serde_json::Value;
use std::sync::Arc;

/// The resources judged, and what the summary and notes say about the others.
pub struct Assembly {
    pub resources: Vec<Resource>,
    /// One note per group of drifted Pods.
    pub drift_notes: Vec<Diagnostic>,
    /// Objects judged at their controller instead of on their own.
    pub at_controllers: usize,
}

/// Turns every listed object into a resource, except those judged at their controller.
pub fn assemble(cluster: &str, listings: Vec<Listing>, charts: &Charts, anchor: &Span) -> Assembly {
    let objects: Vec<Node> = listings.into_iter().flat_map(|l| l.objects.into_iter().map(move |o| object_node(&l.kind, o))).collect();
    let plan = owners::plan(&objects);
    let place = |index: usize| -> (Span, Option<String>) {
        // A drifted Pod is fixed where its controller is written.
        let placed = plan.drifts.iter().find(|d| d.pod == index).map_or(index, |d| d.controller);
        match charts.template_of(&objects[placed]) {
            Some(span) => (span.clone(), Some(span.file.to_string())),
            None => (anchor.clone(), None),
        }
    };
    let resources = plan.judged.iter().map(|&i| live_resource(cluster, objects[i].clone(), place(i))).collect();
    Assembly { resources, drift_notes: drift_notes(&objects, &plan), at_controllers: plan.at_controller.len() }
}

/// A list item with the `apiVersion` and `kind` of its list.
fn object_node(kind: &ApiKind, object: Value) -> Node {
    without_copies(with_kind(kind, object))
}

/// A listed or watched object with its kind's `apiVersion` and `kind` (list items and watch
/// events lack them).
pub fn with_kind(kind: &ApiKind, mut object: Value) -> Value {
    if let Some(map) = object.as_object_mut() {
        map.insert("apiVersion".into(), Value::String(kind.api_version()));
        map.insert("kind".into(), Value::String(kind.kind.clone()));
    }
    object
}

/// The object without `managedFields` and the last-applied annotation (a copy of the
/// object; no rule reads them).
fn without_copies(mut object: Value) -> Node {
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("managedFields");
        if let Some(annotations) = metadata.get_mut("annotations").and_then(Value::as_object_mut) {
            annotations.remove(LAST_APPLIED);
        }
    }
    Node::from_json(object)
}

/// An object as an admission request carries it (`apiVersion` and `kind` included), as the
/// resource the audit would make of it; a Secret's values are dropped first, as a listed
/// Secret's are. Findings point at `anchor`.
pub fn admitted_resource(cluster: &str, object: Value, anchor: &Span) -> Result<Resource, String> {
    let object = match object.get("kind").and_then(Value::as_str) {
        Some("Secret") => {
            let api_version = object.get("apiVersion").cloned().unwrap_or_default();
            // serde's message could quote a value: a fixed one says what is wrong.
            let secret: SecretWithoutValues = serde_json::from_value(object)
                .map_err(|_| "the Secret does not have a Secret's shape (metadata an object, data and stringData maps)".to_string())?;
            let mut kept = secret.into_object();
            kept["apiVersion"] = api_version;
            kept["kind"] = Value::String("Secret".into());
            kept
        }
        Some(_) => object,
        None => return Err("the object has no kind".to_string()),
    };
    Ok(live_resource(cluster, without_copies(object), (anchor.clone(), None)))
}

fn live_resource(cluster: &str, object: Node, (span, managed_by): (Span, Option<String>)) -> Resource {
    let mut resource = crate::kubernetes::object_resource(object, &span);
    resource.source = SourceKind::Eks;
    let text = |key: &str| resource.attrs.get(key).and_then(Node::as_str).unwrap_or_default().to_string();
    let (namespace, name) = (text("namespace"), text("name"));
    resource.live = Some(Arc::new(LiveOrigin::cluster_object(cluster, &namespace, &resource.rtype, &name, managed_by)));
    resource
}

fn drift_notes(objects: &[Node], plan: &Plan) -> Vec<Diagnostic> {
    let address = |i: usize| {
        let text = |key: &str| objects[i].get("metadata").and_then(|m| m.get(key)).and_then(Node::as_str).unwrap_or_default();
        let kind = objects[i].get("kind").and_then(Node::as_str).unwrap_or_default();
        format!("{kind} {}/{}", text("namespace"), text("name"))
    };
    let notes = plan.drifts.iter().map(|drift| {
        let others = match drift.others.len() {
            0 => String::new(),
            n => format!(" (and {n} more Pod(s) drifted the same way: {})", drift.others.iter().map(|&i| address(i)).collect::<Vec<_>>().join(", ")),
        };
        let message = format!(
            "{}{others} runs a spec that differs from the template of its controller {} in {}: it is judged on its own",
            address(drift.pod),
            address(drift.controller),
            drift.differences.join(", ")
        );
        Diagnostic::note("", None, message)
    });
    notes.collect()
}

/// What could not be listed, for the rules that judge it: could not decide.
pub fn unseen(cluster: &str, kind: &str, namespace: Option<&str>, reason: String, anchor: &Span) -> Unseen {
    Unseen {
        source: SourceKind::Eks,
        origin: LiveOrigin::cluster_object(cluster, namespace.unwrap_or("*"), kind, "*", None),
        resource_types: vec![kind.to_string()],
        rule: None,
        reason,
        span: anchor.clone(),
    }
}

/// A part of a kind the audit could not list: unseen, and an incomplete-audit error.
pub fn gap_unseen(cluster: &str, kind: &str, gap: &Gap, anchor: &Span) -> (Unseen, Diagnostic) {
    let unseen = unseen(cluster, kind, gap.namespace.as_deref(), format!("could not be listed ({})", gap.failure), anchor);
    let scope = gap.namespace.as_ref().map_or_else(|| "cluster-wide".to_string(), |ns| format!("in namespace {ns}"));
    let message = format!("{}: listing {kind} objects {scope} failed: {}; the rules judging {kind} there could not decide", unseen.origin.id, gap.failure);
    (unseen, Diagnostic::incomplete("", message))
}

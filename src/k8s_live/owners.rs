//! Objects a controller owns are judged once, at the controller: a ReplicaSet of a
//! Deployment, its Pods, the Jobs of a CronJob and their Pods, the Pods of a StatefulSet or
//! DaemonSet (no 30 copies of one finding for 30 replicas). The chain of `ownerReferences`
//! with `controller: true` is followed up to the topmost workload the audit listed; an object
//! whose owner was not listed (a custom controller, a kind that could not be listed) is
//! judged itself, so nothing that runs goes unjudged.
//!
//! A running Pod whose spec differs from its controller's pod template in what the rules
//! judge ([`POD_FIELDS`], [`CONTAINER_FIELDS`]: edited in place, left over from an unfinished
//! rollout) has drifted: it is judged too. Pods of one controller that drifted the same way are
//! judged once, at the first by name, and a note names the others.

use crate::kubernetes::pod_spec_path;
use crate::model::{Node, Value};
use std::collections::{BTreeMap, HashMap};

/// Pod-level fields compared with the controller's template. Fields that admission fills in
/// on Pods and not on templates (resources from a LimitRange, tolerations, node selectors,
/// injected sidecar containers, service-account volumes) are not: they would make every Pod
/// drift.
pub const POD_FIELDS: &[&str] = &["securityContext", "hostNetwork", "hostPID", "hostIPC"];
/// Fields compared for every container of the template, matched by name.
pub const CONTAINER_FIELDS: &[&str] = &["image", "securityContext", "env", "envFrom"];

/// Deeper than any real chain (CronJob → Job → Pod is the longest built-in one): a cycle of
/// owner references stops here.
const MAX_CHAIN: usize = 8;

/// How the listed objects are judged.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Indexes of the objects judged on their own (controllers, unowned objects, drifted
    /// Pods), in listing order.
    pub judged: Vec<usize>,
    /// For every object judged at its controller: the controller's index.
    pub at_controller: BTreeMap<usize, usize>,
    pub drifts: Vec<Drift>,
}

/// Pods of one controller that differ from its template the same way.
#[derive(Debug, PartialEq, Eq)]
pub struct Drift {
    /// The Pod judged (the first by name).
    pub pod: usize,
    pub controller: usize,
    /// What differs: `securityContext`, `container app: image`, ...
    pub differences: Vec<String>,
    /// The other Pods that drifted the same way.
    pub others: Vec<usize>,
}

/// Decides, for each object, whether it is judged itself or at its controller.
pub fn plan(objects: &[Node]) -> Plan {
    let by_uid: HashMap<&str, usize> = objects.iter().enumerate().filter_map(|(i, o)| Some((metadata_str(o, "uid")?, i))).collect();
    let mut plan = Plan::default();
    let mut drifted: BTreeMap<(usize, Vec<String>), Vec<usize>> = BTreeMap::new();
    for (index, object) in objects.iter().enumerate() {
        let Some(controller) = top_controller(objects, &by_uid, index) else {
            plan.judged.push(index);
            continue;
        };
        plan.at_controller.insert(index, controller);
        if kind(object) == Some("Pod") {
            let differences = differences(object, &objects[controller]);
            if !differences.is_empty() {
                drifted.entry((controller, differences)).or_default().push(index);
            }
        }
    }
    for ((controller, differences), mut pods) in drifted {
        pods.sort_by_key(|&pod| metadata_str(&objects[pod], "name"));
        let pod = pods.remove(0);
        plan.at_controller.remove(&pod);
        plan.judged.push(pod);
        plan.drifts.push(Drift { pod, controller, differences, others: pods });
    }
    plan.judged.sort_unstable();
    plan
}

/// The topmost listed workload above `index` in its chain of controllers, if any. An object
/// whose chain leads back to itself has no controller (each in the cycle is judged).
fn top_controller(objects: &[Node], by_uid: &HashMap<&str, usize>, index: usize) -> Option<usize> {
    let mut top = None;
    let mut current = index;
    for _ in 0..MAX_CHAIN {
        let Some(&owner) = controller_uid(&objects[current]).and_then(|uid| by_uid.get(uid)) else { break };
        if owner == index {
            return None;
        }
        if kind(&objects[owner]).and_then(pod_spec_path).is_none() {
            break;
        }
        top = Some(owner);
        current = owner;
    }
    top
}

/// The uid of the owner reference marked `controller: true`.
fn controller_uid(object: &Node) -> Option<&str> {
    let Value::List(references) = &object.path("metadata.ownerReferences")?.value else { return None };
    references.iter().find(|r| r.get("controller").is_some_and(|c| c.value == Value::Bool(true))).and_then(|r| r.get("uid")).and_then(Node::as_str)
}

fn kind(object: &Node) -> Option<&str> {
    object.get("kind").and_then(Node::as_str)
}

fn metadata_str<'n>(object: &'n Node, key: &str) -> Option<&'n str> {
    object.get("metadata").and_then(|m| m.get(key)).and_then(Node::as_str)
}

/// What a Pod's spec does differently from its controller's pod template.
fn differences(pod: &Node, controller: &Node) -> Vec<String> {
    let (Some(running), Some(template)) = (pod_spec(pod), pod_spec(controller)) else { return Vec::new() };
    let mut found: Vec<String> = POD_FIELDS.iter().filter(|f| !same(running.get(f), template.get(f))).map(|f| f.to_string()).collect();
    for (list, label) in [("initContainers", "initContainer"), ("containers", "container")] {
        for wanted in items(template.get(list)) {
            let name = wanted.get("name").and_then(Node::as_str).unwrap_or_default();
            match items(running.get(list)).into_iter().find(|c| c.get("name").and_then(Node::as_str) == Some(name)) {
                None => found.push(format!("{label} {name}: not running")),
                Some(actual) => {
                    found.extend(CONTAINER_FIELDS.iter().filter(|f| !same(actual.get(f), wanted.get(f))).map(|f| format!("{label} {name}: {f}")));
                }
            }
        }
    }
    found
}

/// A Pod's spec, or a workload's pod template spec.
fn pod_spec(object: &Node) -> Option<&Node> {
    let mut node = object;
    for segment in kind(object).and_then(pod_spec_path)? {
        node = node.get(segment)?;
    }
    Some(node)
}

fn items(list: Option<&Node>) -> Vec<&Node> {
    match list.map(|l| &l.value) {
        Some(Value::List(items)) => items.iter().collect(),
        _ => Vec::new(),
    }
}

/// Equal as JSON (key order aside), where absent, null and empty are the same.
fn same(a: Option<&Node>, b: Option<&Node>) -> bool {
    let json = |node: Option<&Node>| {
        let value = node.map(Node::to_json).unwrap_or(serde_json::Value::Null);
        match &value {
            serde_json::Value::Object(m) if m.is_empty() => serde_json::Value::Null,
            serde_json::Value::Array(a) if a.is_empty() => serde_json::Value::Null,
            _ => value,
        }
    };
    json(a) == json(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(kind: &str, name: &str, uid: &str, owner: Option<&str>, spec: serde_json::Value) -> Node {
        let owners = owner.map(|o| json!([{"apiVersion": "apps/v1", "kind": "X", "name": "x", "uid": o, "controller": true}]));
        Node::from_json(json!({"kind": kind, "metadata": {"name": name, "uid": uid, "ownerReferences": owners}, "spec": spec}))
    }

    fn template(image: &str) -> serde_json::Value {
        json!({"template": {"spec": {"containers": [{"name": "app", "image": image, "securityContext": {"runAsNonRoot": true}}]}}})
    }

    fn pod(name: &str, owner: &str, image: &str) -> Node {
        object(
            "Pod",
            name,
            &format!("pod-{name}"),
            Some(owner),
            json!({"containers": [{"name": "app", "image": image, "securityContext": {"runAsNonRoot": true}}, {"name": "istio-proxy", "image": "proxy"}], "securityContext": {}}),
        )
    }

    #[test]
    fn pods_and_replica_sets_are_judged_at_the_deployment_once() {
        let objects = vec![
            object("Deployment", "web", "d", None, template("web:1")),
            object("ReplicaSet", "web-1", "r", Some("d"), template("web:1")),
            pod("web-1-a", "r", "web:1"),
            pod("web-1-b", "r", "web:1"),
            pod("web-1-c", "r", "web:1"),
            object("Pod", "lonely", "p", None, json!({})),
            // Owned by something the audit did not list: judged itself.
            object("Pod", "operated", "o", Some("custom-controller"), json!({})),
        ];
        let plan = plan(&objects);
        assert_eq!(plan.judged, [0, 5, 6]);
        assert_eq!(plan.at_controller, BTreeMap::from([(1, 0), (2, 0), (3, 0), (4, 0)]));
        assert!(plan.drifts.is_empty(), "an injected sidecar and a defaulted empty securityContext are not drift");
    }

    #[test]
    fn drifted_pods_are_judged_once_per_difference() {
        let objects = vec![
            object("Deployment", "web", "d", None, template("web:2")),
            object("ReplicaSet", "web-1", "r1", Some("d"), template("web:1")),
            pod("web-1-b", "r1", "web:1"),
            pod("web-1-a", "r1", "web:1"),
            object("ReplicaSet", "web-2", "r2", Some("d"), template("web:2")),
            pod("web-2-a", "r2", "web:2"),
        ];
        let plan = plan(&objects);
        assert_eq!(plan.judged, [0, 3]);
        assert_eq!(plan.drifts, [Drift { pod: 3, controller: 0, differences: vec!["container app: image".into()], others: vec![2] }]);
        assert_eq!(plan.at_controller.get(&2), Some(&0));
    }

    #[test]
    fn cronjob_chains_and_cycles() {
        let cron = json!({"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "job", "image": "j"}], "hostNetwork": false}}}}});
        let objects = vec![
            object("CronJob", "nightly", "c", None, cron),
            object("Job", "nightly-1", "j", Some("c"), json!({"template": {"spec": {"containers": [{"name": "job", "image": "j"}]}}})),
            object("Pod", "nightly-1-x", "p", Some("j"), json!({"containers": [{"name": "job", "image": "j"}], "hostNetwork": true})),
            object("ReplicaSet", "a", "a", Some("b"), json!({})),
            object("ReplicaSet", "b", "b", Some("a"), json!({})),
        ];
        let plan = plan(&objects);
        assert_eq!(plan.drifts.len(), 1);
        assert_eq!(plan.drifts[0].differences, ["hostNetwork"]);
        assert_eq!((plan.drifts[0].pod, plan.drifts[0].controller), (2, 0));
        assert_eq!(plan.at_controller.get(&1), Some(&0));
        // A cycle ends, and each ReplicaSet in it is judged.
        assert_eq!(plan.judged, [0, 2, 3, 4]);
    }
}

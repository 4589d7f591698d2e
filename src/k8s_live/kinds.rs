//! The kinds the audit lists and where the API serves them: the built-in kinds the rules
//! judge or look up, and the custom resources of the operators the charter names, which only
//! some clusters have (discovery decides, see [`super::discovery`]).

use k8s_openapi::api::{apps::v1 as apps, autoscaling::v2 as autoscaling, batch::v1 as batch, core::v1 as core, networking::v1 as networking};
use std::any::TypeId;

/// A kind as one version of the API serves it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKind {
    pub kind: String,
    /// Empty for the core group.
    pub group: String,
    pub version: String,
    /// The resource name in URLs (`deployments`).
    pub plural: String,
    pub namespaced: bool,
}

impl ApiKind {
    fn built_in<K: k8s_openapi::Resource + 'static>() -> Self {
        ApiKind {
            kind: K::KIND.to_string(),
            group: K::GROUP.to_string(),
            version: K::VERSION.to_string(),
            plural: K::URL_PATH_SEGMENT.to_string(),
            namespaced: TypeId::of::<K::Scope>() == TypeId::of::<k8s_openapi::NamespaceResourceScope>(),
        }
    }

    /// `apps/v1`, or `v1` for the core group: what list items would say if they said it.
    pub fn api_version(&self) -> String {
        match self.group.as_str() {
            "" => self.version.clone(),
            group => format!("{group}/{}", self.version),
        }
    }

    /// The list URL across all namespaces, or in one.
    pub fn list_path(&self, namespace: Option<&str>) -> String {
        let prefix = match self.group.as_str() {
            "" => format!("/api/{}", self.version),
            group => format!("/apis/{group}/{}", self.version),
        };
        match namespace {
            Some(namespace) => format!("{prefix}/namespaces/{namespace}/{}", self.plural),
            None => format!("{prefix}/{}", self.plural),
        }
    }
}

/// Every built-in kind listed. Namespaces come first: a kind the credentials may not list
/// cluster-wide is then listed namespace by namespace.
pub fn built_in() -> Vec<ApiKind> {
    vec![
        ApiKind::built_in::<core::Namespace>(),
        ApiKind::built_in::<core::Pod>(),
        ApiKind::built_in::<core::ReplicationController>(),
        ApiKind::built_in::<core::ConfigMap>(),
        ApiKind::built_in::<core::Secret>(),
        ApiKind::built_in::<core::ResourceQuota>(),
        ApiKind::built_in::<apps::Deployment>(),
        ApiKind::built_in::<apps::StatefulSet>(),
        ApiKind::built_in::<apps::DaemonSet>(),
        ApiKind::built_in::<apps::ReplicaSet>(),
        ApiKind::built_in::<batch::Job>(),
        ApiKind::built_in::<batch::CronJob>(),
        ApiKind::built_in::<networking::NetworkPolicy>(),
        ApiKind::built_in::<autoscaling::HorizontalPodAutoscaler>(),
    ]
}

/// A custom resource a rule reads, served only where its operator is installed.
#[derive(Debug)]
pub struct CustomKind {
    pub kind: &'static str,
    pub group: &'static str,
    pub installed_by: &'static str,
}

pub const CUSTOM: &[CustomKind] = &[
    CustomKind { kind: "PeerAuthentication", group: "security.istio.io", installed_by: "Istio" },
    CustomKind { kind: "DestinationRule", group: "networking.istio.io", installed_by: "Istio" },
    CustomKind { kind: "Certificate", group: "cert-manager.io", installed_by: "cert-manager" },
    CustomKind { kind: "SecretProviderClass", group: "secrets-store.csi.x-k8s.io", installed_by: "the Secrets Store CSI driver" },
    CustomKind { kind: "PrometheusRule", group: "monitoring.coreos.com", installed_by: "the Prometheus operator" },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SourceKind;
    use std::collections::BTreeSet;

    #[test]
    fn built_in_paths_and_scopes() {
        let kinds = built_in();
        let find = |kind: &str| kinds.iter().find(|k| k.kind == kind).unwrap();
        assert_eq!(kinds[0].kind, "Namespace");
        assert!(!find("Namespace").namespaced && find("Pod").namespaced);
        assert_eq!(find("Pod").list_path(None), "/api/v1/pods");
        assert_eq!(find("Deployment").list_path(Some("shop")), "/apis/apps/v1/namespaces/shop/deployments");
        assert_eq!(find("HorizontalPodAutoscaler").api_version(), "autoscaling/v2");
        assert_eq!(find("NetworkPolicy").plural, "networkpolicies");
    }

    /// The kinds a rule judges in a cluster: its resource types that are Kubernetes kinds
    /// (UpperCamelCase; Terraform and AWS types are snake_case or dotted) and the kinds it
    /// looks up with `objects("Kind", ...)`, which would find nothing live if unlisted.
    fn kubernetes_kinds(rule: &crate::engine::CompiledRule) -> BTreeSet<String> {
        let judged = rule.spec.resource_types.iter().filter(|t| t.starts_with(|c: char| c.is_ascii_uppercase())).cloned();
        judged.chain(rule.looked_up.keys().cloned()).collect()
    }

    /// Live parity, derived from the rule files: every rule that judges rendered manifests
    /// judges the live cluster too, and the audit lists every kind a cluster rule judges or
    /// looks up, built-in or found by discovery.
    #[test]
    fn every_kubernetes_rule_runs_live_on_kinds_the_audit_lists() {
        let listed: BTreeSet<String> = built_in().into_iter().map(|k| k.kind).chain(CUSTOM.iter().map(|c| c.kind.to_string())).collect();
        let (rules, diagnostics) = crate::engine::load_rules(&[]);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let (mut problems, mut judged) = (Vec::new(), BTreeSet::new());
        for rule in rules.iter().filter(|r| r.meta.sources.iter().any(|s| matches!(s, SourceKind::K8s | SourceKind::Eks))) {
            let id = &rule.meta.id;
            if !rule.meta.sources.contains(&SourceKind::Eks) {
                problems.push(format!("{id} judges rendered manifests (k8s) but not the live cluster (eks)"));
            }
            let kinds = kubernetes_kinds(rule);
            problems.extend(kinds.iter().filter(|k| !listed.contains(*k)).map(|k| format!("{id} judges {k}, which audit k8s does not list")));
            judged.extend(kinds);
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        // The comparison saw built-in kinds and the custom resources found by discovery.
        for kind in ["Pod", "Namespace", "Certificate", "PeerAuthentication", "PrometheusRule"] {
            assert!(judged.contains(kind), "no cluster rule judges {kind}: {judged:?}");
        }
    }
}

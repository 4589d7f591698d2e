//! Which of the custom resources the rules read the cluster serves, and at which version:
//! API discovery (`/apis`, then `/apis/GROUP/VERSION`), preferred version first.

use super::call::Api;
use super::kinds::{ApiKind, CustomKind, CUSTOM};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{APIGroup, APIGroupList};

/// Why a custom kind is not listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Missing {
    pub reason: String,
    /// Discovery itself failed (denied, erroring): the audit is incomplete. Otherwise the
    /// cluster simply does not have the kind (its operator is not installed).
    pub unreadable: bool,
}

/// Every custom kind of [`CUSTOM`]: where the cluster serves it, or why it is missing.
pub async fn custom_kinds(api: &Api) -> Vec<(&'static CustomKind, Result<ApiKind, Missing>)> {
    let client = api.client();
    let groups = match api.call(move || client.list_api_groups()).await {
        Ok(groups) => groups,
        Err(failure) => {
            let missing = Missing { reason: format!("API discovery (GET /apis) failed: {failure}"), unreadable: true };
            return CUSTOM.iter().map(|custom| (custom, Err(missing.clone()))).collect();
        }
    };
    let mut found = Vec::new();
    for custom in CUSTOM {
        found.push((custom, find(api, &groups, custom).await));
    }
    found
}

async fn find(api: &Api, groups: &APIGroupList, custom: &CustomKind) -> Result<ApiKind, Missing> {
    let Some(group) = groups.groups.iter().find(|g| g.name == custom.group) else {
        let reason = format!("the cluster serves no {} API ({} is not installed), so it has no {}", custom.group, custom.installed_by, custom.kind);
        return Err(Missing { reason, unreadable: false });
    };
    for group_version in versions(group) {
        let (client, group_version) = (api.client(), group_version.as_str());
        let resources = match api.call(move || client.list_api_group_resources(group_version)).await {
            Ok(resources) => resources,
            Err(failure) if failure.is_not_found() => continue,
            Err(failure) => return Err(Missing { reason: format!("API discovery (GET /apis/{group_version}) failed: {failure}"), unreadable: true }),
        };
        // Subresources (`certificates/status`) share the kind: the resource itself has no slash.
        if let Some(resource) = resources.resources.iter().find(|r| r.kind == custom.kind && !r.name.contains('/')) {
            let version = group_version.rsplit('/').next().unwrap_or_default().to_string();
            return Ok(ApiKind {
                kind: custom.kind.to_string(),
                group: custom.group.to_string(),
                version,
                plural: resource.name.clone(),
                namespaced: resource.namespaced,
            });
        }
    }
    let reason = format!("the cluster's {} API serves no {} ({} is not installed or too old)", custom.group, custom.kind, custom.installed_by);
    Err(Missing { reason, unreadable: false })
}

/// The group's versions, the preferred one first.
fn versions(group: &APIGroup) -> Vec<String> {
    let preferred = group.preferred_version.as_ref().map(|v| v.group_version.clone());
    let mut versions: Vec<String> = preferred.into_iter().collect();
    for version in &group.versions {
        if !versions.contains(&version.group_version) {
            versions.push(version.group_version.clone());
        }
    }
    versions
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::GroupVersionForDiscovery;

    #[test]
    fn preferred_version_first_without_repeats() {
        let version = |v: &str| GroupVersionForDiscovery { group_version: format!("security.istio.io/{v}"), version: v.into() };
        let group = APIGroup {
            name: "security.istio.io".into(),
            preferred_version: Some(version("v1")),
            versions: vec![version("v1beta1"), version("v1")],
            server_address_by_client_cidrs: None,
        };
        assert_eq!(versions(&group), ["security.istio.io/v1", "security.istio.io/v1beta1"]);
    }
}

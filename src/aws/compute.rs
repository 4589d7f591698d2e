//! EKS clusters and node groups, and ECR repositories with their lifecycle and repository
//! policies and the registry's scanning and replication configuration.

use super::attrs::{string_map, strings, Attrs};
use super::call::Failure;
use super::keys::Keys;
use super::Scope;
use crate::model::{Model, Resource, Value};
use futures::StreamExt;

pub async fn collect_eks(scope: &Scope, keys: &Keys) -> Model {
    let eks = aws_sdk_eks::Client::from_conf(aws_sdk_eks::config::Builder::from(&scope.config).interceptor(scope.counting.clone()).build());
    let mut model = Model::default();
    let names = eks.list_clusters().into_paginator().items().send().collect::<Vec<_>>().await.into_iter().collect::<Result<Vec<String>, _>>();
    let names = match names {
        Ok(names) => names,
        Err(error) => {
            scope.unseen(&mut model, &Failure::of("eks:ListClusters", &error), &["aws_eks_cluster", "aws_eks_node_group"], "eks", ":cluster/*");
            return model;
        }
    };
    let clusters = futures::stream::iter(&names).map(|name| describe_cluster(&eks, scope, keys, name)).buffered(scope.concurrency).collect::<Vec<_>>().await;
    for (name, cluster) in names.iter().zip(clusters) {
        match cluster {
            Ok(resources) => model.resources.extend(resources),
            Err(failure) => scope.unseen(&mut model, &failure, &["aws_eks_cluster", "aws_eks_node_group"], "eks", &format!(":cluster/{name}")),
        }
    }
    model
}

/// A cluster and its node groups.
async fn describe_cluster(eks: &aws_sdk_eks::Client, scope: &Scope, keys: &Keys, name: &str) -> Result<Vec<Resource>, Failure> {
    let answer = eks.describe_cluster().name(name).send().await.map_err(|e| Failure::of("eks:DescribeCluster", &e))?;
    let Some(cluster) = answer.cluster() else { return Err(Failure::new("eks:DescribeCluster", "the answer has no cluster")) };
    let address = cluster.arn().map(str::to_string).unwrap_or_else(|| scope.arn("eks", &format!("cluster/{name}")));
    let vpc = cluster.resources_vpc_config().map(|v| {
        Attrs::new()
            .set("subnet_ids", strings(v.subnet_ids()))
            .set("security_group_ids", strings(v.security_group_ids()))
            .set("endpoint_public_access", v.endpoint_public_access())
            .set("endpoint_private_access", v.endpoint_private_access())
            .set("public_access_cidrs", strings(v.public_access_cidrs()))
    });
    // `resources` is deprecated in the API (EKS now encrypts all API data with its own key),
    // but it still says which resources use the customer's key, which is what ENC-008 asks.
    #[allow(deprecated)]
    let encryption = cluster.encryption_config().iter().map(|e| {
        let provider = e.provider().map(|p| Attrs::new().set("key_arn", keys.reference(p.key_arn())));
        Attrs::new().set("resources", strings(e.resources())).block("provider", provider)
    });
    let log_types: Vec<&str> = cluster
        .logging()
        .map(|l| l.cluster_logging())
        .unwrap_or_default()
        .iter()
        .filter(|setup| setup.enabled() == Some(true))
        .flat_map(|setup| setup.types().iter().map(|t| t.as_str()))
        .collect();
    let attrs = Attrs::new()
        .set("id", name)
        .set("name", name)
        .set("arn", address.as_str())
        .opt("version", cluster.version())
        .block("vpc_config", vpc)
        .blocks("encryption_config", encryption)
        .set("enabled_cluster_log_types", strings(log_types))
        .set("tags", string_map(cluster.tags().into_iter().flatten()));
    let mut out = vec![scope.resource("aws_eks_cluster", address, attrs)];

    let groups =
        eks.list_nodegroups().cluster_name(name).into_paginator().items().send().collect::<Vec<_>>().await.into_iter().collect::<Result<Vec<String>, _>>();
    let groups = groups.map_err(|e| Failure::of("eks:ListNodegroups", &e))?;
    let described = futures::stream::iter(&groups)
        .map(|group| eks.describe_nodegroup().cluster_name(name).nodegroup_name(group).send())
        .buffered(scope.concurrency)
        .collect::<Vec<_>>()
        .await;
    for answer in described {
        let answer = answer.map_err(|e| Failure::of("eks:DescribeNodegroup", &e))?;
        out.extend(answer.nodegroup().and_then(|g| node_group(scope, name, g)));
    }
    Ok(out)
}

fn node_group(scope: &Scope, cluster: &str, group: &aws_sdk_eks::types::Nodegroup) -> Option<Resource> {
    let name = group.nodegroup_name()?;
    let address = group.nodegroup_arn().map(str::to_string).unwrap_or_else(|| scope.arn("eks", &format!("nodegroup/{cluster}/{name}")));
    let scaling =
        group.scaling_config().map(|s| Attrs::new().opt("min_size", s.min_size()).opt("max_size", s.max_size()).opt("desired_size", s.desired_size()));
    let taints = group.taints().iter().map(|t| Attrs::new().opt("key", t.key()).opt("value", t.value()).opt("effect", t.effect().map(|e| e.as_str())));
    let attrs = Attrs::new()
        .set("id", format!("{cluster}:{name}"))
        .set("arn", address.as_str())
        .set("cluster_name", cluster)
        .set("node_group_name", name)
        .set("instance_types", strings(group.instance_types()))
        .block("scaling_config", scaling)
        .blocks("taint", taints)
        .set("subnet_ids", strings(group.subnets()))
        .set("labels", string_map(group.labels().into_iter().flatten()))
        .set("tags", string_map(group.tags().into_iter().flatten()));
    Some(scope.resource("aws_eks_node_group", address, attrs))
}

pub async fn collect_ecr(scope: &Scope, keys: &Keys) -> Model {
    let ecr = aws_sdk_ecr::Client::from_conf(aws_sdk_ecr::config::Builder::from(&scope.config).interceptor(scope.counting.clone()).build());
    let mut model = Model::default();
    // The registry of this account and region: repositories and its scanning configuration
    // are grouped by it, as Terraform groups them by provider.
    let registry = scope.arn("ecr", "registry");
    let (repositories, scanning, replication) = futures::join!(
        ecr.describe_repositories().into_paginator().items().send().collect::<Vec<_>>(),
        ecr.get_registry_scanning_configuration().send(),
        ecr.describe_registry().send(),
    );
    match repositories.into_iter().collect::<Result<Vec<_>, _>>() {
        Ok(repositories) => {
            let policies = futures::stream::iter(&repositories)
                .map(|r| {
                    let name = r.repository_name().unwrap_or_default();
                    futures::future::join(ecr.get_lifecycle_policy().repository_name(name).send(), ecr.get_repository_policy().repository_name(name).send())
                })
                .buffered(scope.concurrency)
                .collect::<Vec<_>>()
                .await;
            for (repository, policies) in repositories.iter().zip(policies) {
                model.resources.extend(ecr_repository(scope, keys, &registry, repository, policies));
            }
        }
        Err(error) => scope.unseen(
            &mut model,
            &Failure::of("ecr:DescribeRepositories", &error),
            &["aws_ecr_repository", "aws_ecr_lifecycle_policy", "aws_ecr_repository_policy"],
            "ecr",
            ":repository/*",
        ),
    }
    match scanning {
        Ok(answer) => {
            let rules = answer.scanning_configuration().map(|c| c.rules()).unwrap_or_default().iter().map(|r| {
                let filters = r.repository_filters().iter().map(|f| Attrs::new().set("filter", f.filter()).set("filter_type", f.filter_type().as_str()));
                Attrs::new().set("scan_frequency", r.scan_frequency().as_str()).blocks("repository_filter", filters)
            });
            let scan_type = answer.scanning_configuration().and_then(|c| c.scan_type()).map(|t| t.as_str());
            let attrs = Attrs::new().opt("scan_type", scan_type).blocks("rule", rules).set("__provider", registry.as_str());
            model.resources.push(scope.resource("aws_ecr_registry_scanning_configuration", format!("{registry}#scanning"), attrs));
        }
        Err(error) => scope.unseen(&mut model, &Failure::of("ecr:GetRegistryScanningConfiguration", &error), &["aws_ecr_repository"], "ecr", ":registry"),
    }
    match replication {
        Ok(answer) => {
            let rules = answer.replication_configuration().map(|c| c.rules()).unwrap_or_default().iter().map(|r| {
                Attrs::new().blocks("destination", r.destinations().iter().map(|d| Attrs::new().set("region", d.region()).set("registry_id", d.registry_id())))
            });
            let attrs = Attrs::new().block("replication_configuration", Some(Attrs::new().blocks("rule", rules))).set("__provider", registry.as_str());
            model.resources.push(scope.resource("aws_ecr_replication_configuration", format!("{registry}#replication"), attrs));
        }
        Err(error) => scope.unseen(&mut model, &Failure::of("ecr:DescribeRegistry", &error), &["aws_ecr_replication_configuration"], "ecr", ":registry"),
    }
    model
}

type LifecyclePolicy = Result<
    aws_sdk_ecr::operation::get_lifecycle_policy::GetLifecyclePolicyOutput,
    aws_sdk_ecr::error::SdkError<aws_sdk_ecr::operation::get_lifecycle_policy::GetLifecyclePolicyError, aws_smithy_runtime_api::http::Response>,
>;

type RepositoryPolicy = Result<
    aws_sdk_ecr::operation::get_repository_policy::GetRepositoryPolicyOutput,
    aws_sdk_ecr::error::SdkError<aws_sdk_ecr::operation::get_repository_policy::GetRepositoryPolicyError, aws_smithy_runtime_api::http::Response>,
>;

/// A repository and, when it has them, its lifecycle policy as `aws_ecr_lifecycle_policy`
/// and its repository policy as `aws_ecr_repository_policy` (joined by repository name, as
/// in code); a policy that could not be read is unknown.
fn ecr_repository(
    scope: &Scope,
    keys: &Keys,
    registry: &str,
    repository: &aws_sdk_ecr::types::Repository,
    (lifecycle, access): (LifecyclePolicy, RepositoryPolicy),
) -> Vec<Resource> {
    let Some(name) = repository.repository_name() else { return Vec::new() };
    let address = repository.repository_arn().map(str::to_string).unwrap_or_else(|| scope.arn("ecr", &format!("repository/{name}")));
    let encryption = repository
        .encryption_configuration()
        .map(|e| Attrs::new().set("encryption_type", e.encryption_type().as_str()).set("kms_key", keys.reference(e.kms_key())));
    let attrs = Attrs::new()
        .set("id", name)
        .set("name", name)
        .set("arn", address.as_str())
        .opt("image_tag_mutability", repository.image_tag_mutability().map(|m| m.as_str()))
        .block("image_scanning_configuration", repository.image_scanning_configuration().map(|s| Attrs::new().set("scan_on_push", s.scan_on_push())))
        .block("encryption_configuration", encryption)
        .set("__provider", registry);
    let mut out = vec![scope.resource("aws_ecr_repository", address.clone(), attrs)];
    let lifecycle = scope
        .setting(&address, "ecr:GetLifecyclePolicy", lifecycle, &["LifecyclePolicyNotFoundException"])
        .map(|p| p.and_then(|p| p.lifecycle_policy_text().map(Value::from)));
    out.extend(repository_policy(scope, "aws_ecr_lifecycle_policy", format!("{address}#lifecycle-policy"), name, lifecycle));
    let access = scope
        .setting(&address, "ecr:GetRepositoryPolicy", access, &["RepositoryPolicyNotFoundException"])
        .map(|p| p.and_then(|p| p.policy_text().map(Value::from)));
    out.extend(repository_policy(scope, "aws_ecr_repository_policy", format!("{address}#policy"), name, access));
    out
}

/// A policy of a repository as its own resource, when the repository has one; one that could
/// not be read is a resource whose policy is unknown (it may exist).
fn repository_policy(scope: &Scope, rtype: &str, address: String, repository: &str, policy: Result<Option<Value>, String>) -> Option<Resource> {
    if matches!(policy, Ok(None)) {
        return None;
    }
    let attrs = Attrs::new().set("repository", repository).setting("policy", policy);
    Some(scope.resource(rtype, address, attrs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Node;

    #[test]
    fn repository_policies_are_resources_when_present_or_unreadable() {
        let scope = crate::aws::test_scope("ap-south-1");
        let address = scope.arn("ecr", "repository/api");
        let document = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"ecr:BatchGetImage"}]}"#;
        let found = repository_policy(&scope, "aws_ecr_repository_policy", format!("{address}#policy"), "api", Ok(Some(Value::from(document)))).unwrap();
        assert_eq!((found.rtype.as_str(), found.address.as_str()), ("aws_ecr_repository_policy", "arn:aws:ecr:ap-south-1:123456789012:repository/api#policy"));
        assert_eq!(found.attrs.get("repository").and_then(Node::as_str), Some("api"));
        assert_eq!(found.attrs.get("policy").and_then(Node::as_str), Some(document));
        assert!(repository_policy(&scope, "aws_ecr_repository_policy", format!("{address}#policy"), "api", Ok(None)).is_none());
        let denied = repository_policy(
            &scope,
            "aws_ecr_repository_policy",
            format!("{address}#policy"),
            "api",
            Err("ecr:GetRepositoryPolicy failed: AccessDenied".into()),
        );
        assert!(denied.unwrap().attrs.get("policy").is_some_and(Node::is_unknown));
    }
}

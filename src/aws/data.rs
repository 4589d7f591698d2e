//! Where data lives: RDS, ElastiCache, MSK, Secrets Manager, CloudWatch Logs and AWS Backup
//! plans with their selections, shaped like their Terraform resources.

use super::attrs::{reference, string_map, strings, Attrs};
use super::call::Failure;
use super::keys::Keys;
use super::Scope;
use crate::model::{Model, Resource, Value};
use futures::StreamExt;
use std::collections::HashSet;

/// Collects a paginated list, or records what its failure hides and yields nothing.
macro_rules! listed {
    ($model:expr, $scope:expr, $items:expr, $call:literal, $types:expr, $service:literal, $what:literal) => {
        match $items.into_iter().collect::<Result<Vec<_>, _>>() {
            Ok(items) => items,
            Err(error) => {
                $scope.unseen(&mut $model, &Failure::of($call, &error), $types, $service, $what);
                Vec::new()
            }
        }
    };
}

pub async fn collect_rds(scope: &Scope, keys: &Keys) -> Model {
    let rds = aws_sdk_rds::Client::from_conf(aws_sdk_rds::config::Builder::from(&scope.config).interceptor(scope.counting.clone()).build());
    let mut model = Model::default();
    let (instances, clusters, groups, subnet_groups) = futures::join!(
        rds.describe_db_instances().into_paginator().items().send().collect::<Vec<_>>(),
        rds.describe_db_clusters().into_paginator().items().send().collect::<Vec<_>>(),
        rds.describe_db_parameter_groups().into_paginator().items().send().collect::<Vec<_>>(),
        rds.describe_db_subnet_groups().into_paginator().items().send().collect::<Vec<_>>(),
    );
    let instance_types: &[&str] = &["aws_db_instance", "aws_rds_cluster_instance", "aws_db_instance_automated_backups_replication"];
    let instances = listed!(model, scope, instances, "rds:DescribeDBInstances", instance_types, "rds", ":db:*");
    let clusters = listed!(model, scope, clusters, "rds:DescribeDBClusters", &["aws_rds_cluster"], "rds", ":cluster:*");
    let groups = listed!(model, scope, groups, "rds:DescribeDBParameterGroups", &["aws_db_parameter_group"], "rds", ":pg:*");
    let subnet_groups = listed!(model, scope, subnet_groups, "rds:DescribeDBSubnetGroups", &["aws_db_subnet_group", "aws_subnet"], "rds", ":subgrp:*");
    for instance in &instances {
        model.resources.extend(db_instance(scope, keys, instance));
    }
    model.resources.extend(clusters.iter().filter_map(|c| db_cluster(scope, keys, c)));
    model.resources.extend(subnet_groups.iter().filter_map(|g| db_subnet_group(scope, g)));
    // AWS's default parameter groups are judged only when a database uses them.
    let used: HashSet<&str> = instances.iter().flat_map(|i| i.db_parameter_groups()).filter_map(|g| g.db_parameter_group_name()).collect();
    let judged: Vec<_> = groups
        .iter()
        .filter(|g| g.db_parameter_group_family().is_some_and(|f| f.starts_with("postgres")))
        .filter(|g| g.db_parameter_group_name().is_some_and(|n| !n.starts_with("default.") || used.contains(n)))
        .collect();
    let parameters = futures::stream::iter(&judged)
        .map(|g| {
            rds.describe_db_parameters()
                .db_parameter_group_name(g.db_parameter_group_name().unwrap_or_default())
                .into_paginator()
                .items()
                .send()
                .collect::<Vec<_>>()
        })
        .buffered(scope.concurrency)
        .collect::<Vec<_>>()
        .await;
    for (group, parameters) in judged.iter().zip(parameters) {
        let address = group.db_parameter_group_arn().unwrap_or_default();
        let parameters = parameters.into_iter().collect::<Result<Vec<_>, _>>().map_err(|e| scope.failed(address, Failure::of("rds:DescribeDBParameters", &e)));
        model.resources.extend(parameter_group(scope, group, parameters));
    }
    model
}

/// A DB instance (`aws_rds_cluster_instance` when it belongs to a cluster), plus one
/// `aws_db_instance_automated_backups_replication` per region its backups are copied to.
fn db_instance(scope: &Scope, keys: &Keys, db: &aws_sdk_rds::types::DbInstance) -> Vec<Resource> {
    let Some(id) = db.db_instance_identifier() else { return Vec::new() };
    let address = db.db_instance_arn().map(str::to_string).unwrap_or_else(|| scope.arn("rds", &format!("db:{id}")));
    let tags = string_map(db.tag_list().iter().filter_map(|t| Some((t.key()?, t.value().unwrap_or_default()))));
    let mut attrs = Attrs::new()
        .set("id", id)
        .set("identifier", id)
        .set("arn", address.as_str())
        .opt("engine", db.engine())
        .opt("engine_version", db.engine_version())
        .opt("instance_class", db.db_instance_class())
        .set("storage_encrypted", db.storage_encrypted().unwrap_or(false))
        .set("kms_key_id", keys.reference(db.kms_key_id()))
        .set("multi_az", db.multi_az().unwrap_or(false))
        .set("publicly_accessible", db.publicly_accessible().unwrap_or(false))
        .opt("backup_retention_period", db.backup_retention_period())
        .set("deletion_protection", db.deletion_protection().unwrap_or(false))
        .opt("replicate_source_db", db.read_replica_source_db_instance_identifier())
        .opt("parameter_group_name", db.db_parameter_groups().first().and_then(|g| g.db_parameter_group_name()))
        .opt("db_subnet_group_name", db.db_subnet_group().and_then(|g| g.db_subnet_group_name()))
        .set("vpc_security_group_ids", strings(db.vpc_security_groups().iter().filter_map(|g| g.vpc_security_group_id())))
        .set("tags", tags);
    let rtype = match db.db_cluster_identifier() {
        Some(cluster) => {
            attrs = attrs.set("cluster_identifier", reference(&scope.arn("rds", &format!("cluster:{cluster}")), "id"));
            "aws_rds_cluster_instance"
        }
        None => "aws_db_instance",
    };
    let mut out = vec![scope.resource(rtype, address.clone(), attrs)];
    for replication in db.db_instance_automated_backups_replications() {
        let Some(copy) = replication.db_instance_automated_backups_arn() else { continue };
        // arn:aws:rds:<destination region>:<account>:auto-backup:<id>
        let region = copy.split(':').nth(3).unwrap_or_default();
        let attrs = Attrs::new().set("id", copy).set("arn", copy).set("source_db_instance_arn", reference(&address, "arn"));
        out.push(scope.resource_in("aws_db_instance_automated_backups_replication", copy.to_string(), attrs, region));
    }
    out
}

fn db_cluster(scope: &Scope, keys: &Keys, cluster: &aws_sdk_rds::types::DbCluster) -> Option<Resource> {
    let id = cluster.db_cluster_identifier()?;
    let address = cluster.db_cluster_arn().map(str::to_string).unwrap_or_else(|| scope.arn("rds", &format!("cluster:{id}")));
    let tags = string_map(cluster.tag_list().iter().filter_map(|t| Some((t.key()?, t.value().unwrap_or_default()))));
    let attrs = Attrs::new()
        .set("id", id)
        .set("cluster_identifier", id)
        .set("arn", address.as_str())
        .opt("engine", cluster.engine())
        .opt("engine_version", cluster.engine_version())
        .set("storage_encrypted", cluster.storage_encrypted().unwrap_or(false))
        .set("kms_key_id", keys.reference(cluster.kms_key_id()))
        .opt("backup_retention_period", cluster.backup_retention_period())
        .set("deletion_protection", cluster.deletion_protection().unwrap_or(false))
        .set("availability_zones", strings(cluster.availability_zones()))
        .opt("db_cluster_instance_class", cluster.db_cluster_instance_class())
        .opt("replication_source_identifier", cluster.replication_source_identifier())
        .opt("global_cluster_identifier", cluster.global_cluster_identifier())
        .set("tags", tags);
    Some(scope.resource("aws_rds_cluster", address, attrs))
}

/// A DB subnet group; its subnets are references, so subnet rules find the groups using them.
fn db_subnet_group(scope: &Scope, group: &aws_sdk_rds::types::DbSubnetGroup) -> Option<Resource> {
    let name = group.db_subnet_group_name()?;
    let address = group.db_subnet_group_arn().map(str::to_string).unwrap_or_else(|| scope.arn("rds", &format!("subgrp:{name}")));
    let subnets = group
        .subnets()
        .iter()
        .filter_map(|s| s.subnet_identifier())
        .map(|s| crate::model::Node::new(reference(&scope.arn("ec2", &format!("subnet/{s}")), "id"), None));
    let attrs = Attrs::new().set("id", name).set("name", name).set("arn", address.as_str()).set("subnet_ids", Value::List(subnets.collect()));
    Some(scope.resource("aws_db_subnet_group", address, attrs))
}

/// A PostgreSQL parameter group with the parameters the rules read (`rds.force_ssl`), as
/// the database sees them (engine defaults included).
fn parameter_group(
    scope: &Scope,
    group: &aws_sdk_rds::types::DbParameterGroup,
    parameters: Result<Vec<aws_sdk_rds::types::Parameter>, String>,
) -> Option<Resource> {
    let name = group.db_parameter_group_name()?;
    let address = group.db_parameter_group_arn().map(str::to_string).unwrap_or_else(|| scope.arn("rds", &format!("pg:{name}")));
    let parameters = parameters.map(|all| {
        let judged = all
            .iter()
            .filter(|p| p.parameter_name() == Some("rds.force_ssl"))
            .map(|p| Attrs::new().opt("name", p.parameter_name()).opt("value", p.parameter_value()).node());
        Some(Value::List(judged.collect()))
    });
    let attrs = Attrs::new()
        .set("id", name)
        .set("name", name)
        .set("arn", address.as_str())
        .opt("family", group.db_parameter_group_family())
        .setting("parameter", parameters);
    Some(scope.resource("aws_db_parameter_group", address, attrs))
}

pub async fn collect_elasticache(scope: &Scope, keys: &Keys) -> Model {
    let cache = aws_sdk_elasticache::Client::from_conf(aws_sdk_elasticache::config::Builder::from(&scope.config).interceptor(scope.counting.clone()).build());
    let mut model = Model::default();
    let (groups, clusters, subnet_groups) = futures::join!(
        cache.describe_replication_groups().into_paginator().items().send().collect::<Vec<_>>(),
        cache.describe_cache_clusters().into_paginator().items().send().collect::<Vec<_>>(),
        cache.describe_cache_subnet_groups().into_paginator().items().send().collect::<Vec<_>>(),
    );
    let cache_types: &[&str] = &["aws_elasticache_replication_group", "aws_elasticache_cluster"];
    let groups =
        listed!(model, scope, groups, "elasticache:DescribeReplicationGroups", &["aws_elasticache_replication_group"], "elasticache", ":replicationgroup:*");
    let clusters = listed!(model, scope, clusters, "elasticache:DescribeCacheClusters", cache_types, "elasticache", ":cluster:*");
    let subnet_groups =
        listed!(model, scope, subnet_groups, "elasticache:DescribeCacheSubnetGroups", &["aws_elasticache_subnet_group"], "elasticache", ":subnetgroup:*");
    for group in &groups {
        let Some(id) = group.replication_group_id() else { continue };
        let address = group.arn().map(str::to_string).unwrap_or_else(|| scope.arn("elasticache", &format!("replicationgroup:{id}")));
        // The engine version and subnet group are the member clusters'.
        let member = clusters.iter().find(|c| c.replication_group_id() == Some(id));
        let attrs = Attrs::new()
            .set("id", id)
            .set("replication_group_id", id)
            .set("arn", address.as_str())
            .opt("engine", group.engine().or(member.and_then(|m| m.engine())))
            .opt("engine_version", member.and_then(|m| m.engine_version()))
            .set("at_rest_encryption_enabled", group.at_rest_encryption_enabled().unwrap_or(false))
            .set("transit_encryption_enabled", group.transit_encryption_enabled().unwrap_or(false))
            .set("kms_key_id", keys.reference(group.kms_key_id()))
            .opt("subnet_group_name", member.and_then(|m| m.cache_subnet_group_name()))
            .opt("global_replication_group_id", group.global_replication_group_info().and_then(|g| g.global_replication_group_id()));
        model.resources.push(scope.resource("aws_elasticache_replication_group", address, attrs));
    }
    for cluster in clusters.iter().filter(|c| c.replication_group_id().is_none()) {
        let Some(id) = cluster.cache_cluster_id() else { continue };
        let address = cluster.arn().map(str::to_string).unwrap_or_else(|| scope.arn("elasticache", &format!("cluster:{id}")));
        let attrs = Attrs::new()
            .set("id", id)
            .set("cluster_id", id)
            .set("arn", address.as_str())
            .opt("engine", cluster.engine())
            .opt("engine_version", cluster.engine_version())
            .opt("subnet_group_name", cluster.cache_subnet_group_name());
        model.resources.push(scope.resource("aws_elasticache_cluster", address, attrs));
    }
    for group in &subnet_groups {
        let Some(name) = group.cache_subnet_group_name() else { continue };
        let address = group.arn().map(str::to_string).unwrap_or_else(|| scope.arn("elasticache", &format!("subnetgroup:{name}")));
        let attrs = Attrs::new()
            .set("id", name)
            .set("name", name)
            .set("arn", address.as_str())
            .set("subnet_ids", strings(group.subnets().iter().filter_map(|s| s.subnet_identifier())));
        model.resources.push(scope.resource("aws_elasticache_subnet_group", address, attrs));
    }
    model
}

pub async fn collect_msk(scope: &Scope, keys: &Keys) -> Model {
    let kafka = aws_sdk_kafka::Client::from_conf(aws_sdk_kafka::config::Builder::from(&scope.config).interceptor(scope.counting.clone()).build());
    let mut model = Model::default();
    let (clusters, replicators) = futures::join!(
        kafka.list_clusters_v2().into_paginator().items().send().collect::<Vec<_>>(),
        kafka.list_replicators().into_paginator().items().send().collect::<Vec<_>>(),
    );
    let clusters = listed!(model, scope, clusters, "kafka:ListClustersV2", &["aws_msk_cluster"], "kafka", ":cluster/*");
    let replicators = listed!(model, scope, replicators, "kafka:ListReplicators", &["aws_msk_replicator"], "kafka", ":replicator/*");
    for cluster in &clusters {
        let (Some(name), Some(arn)) = (cluster.cluster_name(), cluster.cluster_arn()) else { continue };
        // Serverless clusters are TLS-only and encrypted by AWS; the charter's settings are
        // those of provisioned clusters.
        let Some(provisioned) = cluster.provisioned() else { continue };
        let encryption = provisioned.encryption_info().map(|e| {
            let transit =
                e.encryption_in_transit().map(|t| Attrs::new().opt("client_broker", t.client_broker().map(|c| c.as_str())).opt("in_cluster", t.in_cluster()));
            Attrs::new()
                .block("encryption_in_transit", transit)
                .set("encryption_at_rest_kms_key_arn", keys.reference(e.encryption_at_rest().and_then(|r| r.data_volume_kms_key_id())))
        });
        let public_access = provisioned
            .broker_node_group_info()
            .and_then(|b| b.connectivity_info())
            .and_then(|c| c.public_access())
            .map(|p| Attrs::new().opt("type", p.r#type()));
        let broker = provisioned.broker_node_group_info().map(|b| {
            Attrs::new().set("client_subnets", strings(b.client_subnets())).block("connectivity_info", Some(Attrs::new().block("public_access", public_access)))
        });
        let attrs = Attrs::new()
            .set("id", arn)
            .set("arn", arn)
            .set("cluster_name", name)
            .opt("kafka_version", provisioned.current_broker_software_info().and_then(|s| s.kafka_version()))
            .block("encryption_info", encryption)
            .block("broker_node_group_info", broker)
            .set("tags", string_map(cluster.tags().into_iter().flatten()));
        model.resources.push(scope.resource("aws_msk_cluster", arn.to_string(), attrs));
    }
    for replicator in &replicators {
        let Some(arn) = replicator.replicator_arn() else { continue };
        let clusters = replicator.kafka_clusters_summary().iter().map(|k| {
            let msk = k.amazon_msk_cluster().map(|m| Attrs::new().opt("msk_cluster_arn", m.msk_cluster_arn()));
            Attrs::new().block("amazon_msk_cluster", msk)
        });
        let attrs = Attrs::new().set("id", arn).set("arn", arn).opt("replicator_name", replicator.replicator_name()).blocks("kafka_cluster", clusters);
        model.resources.push(scope.resource("aws_msk_replicator", arn.to_string(), attrs));
    }
    model
}

/// Secrets with their resource policies, and an `aws_secretsmanager_secret_rotation` for each
/// that rotates (as in code, where rotation is its own resource). A secret's recovery window
/// is chosen when it is deleted and is not part of a live secret.
pub async fn collect_secrets(scope: &Scope, keys: &Keys) -> Model {
    let secrets =
        aws_sdk_secretsmanager::Client::from_conf(aws_sdk_secretsmanager::config::Builder::from(&scope.config).interceptor(scope.counting.clone()).build());
    let mut model = Model::default();
    let pages = secrets.list_secrets().into_paginator().send().collect::<Vec<_>>().await;
    let listed: Vec<aws_sdk_secretsmanager::types::SecretListEntry> =
        listed!(model, scope, pages, "secretsmanager:ListSecrets", &["aws_secretsmanager_secret"], "secretsmanager", ":secret:*")
            .into_iter()
            .flat_map(|page| page.secret_list.unwrap_or_default())
            .collect();
    let live: Vec<(&aws_sdk_secretsmanager::types::SecretListEntry, &str, &str)> =
        listed.iter().filter(|s| s.deleted_date().is_none()).filter_map(|s| Some((s, s.arn()?, s.name()?))).collect();
    let policies = futures::stream::iter(&live)
        .map(|(_, arn, _)| secrets.get_resource_policy().secret_id(*arn).send())
        .buffered(scope.concurrency)
        .collect::<Vec<_>>()
        .await;
    for ((secret, arn, name), policy) in live.iter().zip(policies) {
        // A secret without a policy answers without one.
        let policy = scope.setting(arn, "secretsmanager:GetResourcePolicy", policy, &[]).map(|p| p.and_then(|p| p.resource_policy().map(Value::from)));
        // Without a key of its own a secret uses the AWS-managed aws/secretsmanager key.
        let key = match secret.kms_key_id() {
            Some(key) => keys.reference(Some(key)),
            None => Value::Null,
        };
        model.resources.extend(secret_resources(scope, secret, (arn, name), key, policy));
    }
    model
}

/// A secret and, when it rotates, its rotation.
fn secret_resources(
    scope: &Scope,
    secret: &aws_sdk_secretsmanager::types::SecretListEntry,
    (arn, name): (&str, &str),
    key: Value,
    policy: Result<Option<Value>, String>,
) -> Vec<Resource> {
    let attrs = Attrs::new()
        .set("id", arn)
        .set("arn", arn)
        .set("name", name)
        .set("kms_key_id", key)
        .setting("policy", policy)
        .set("tags", string_map(secret.tags().iter().filter_map(|t| Some((t.key()?, t.value().unwrap_or_default())))));
    let mut out = vec![scope.resource("aws_secretsmanager_secret", arn.to_string(), attrs)];
    if secret.rotation_enabled() == Some(true) {
        let rules = secret
            .rotation_rules()
            .map(|r| Attrs::new().opt("automatically_after_days", r.automatically_after_days()).opt("schedule_expression", r.schedule_expression()));
        let attrs = Attrs::new().set("secret_id", reference(arn, "id")).opt("rotation_lambda_arn", secret.rotation_lambda_arn()).block("rotation_rules", rules);
        out.push(scope.resource("aws_secretsmanager_secret_rotation", format!("{arn}#rotation"), attrs));
    }
    out
}

pub async fn collect_logs(scope: &Scope, keys: &Keys) -> Model {
    let logs =
        aws_sdk_cloudwatchlogs::Client::from_conf(aws_sdk_cloudwatchlogs::config::Builder::from(&scope.config).interceptor(scope.counting.clone()).build());
    let mut model = Model::default();
    let groups = logs.describe_log_groups().into_paginator().items().send().collect::<Vec<_>>().await;
    let groups = listed!(model, scope, groups, "logs:DescribeLogGroups", &["aws_cloudwatch_log_group"], "logs", ":log-group:*");
    for group in &groups {
        let Some(name) = group.log_group_name() else { continue };
        let address = scope.arn("logs", &format!("log-group:{name}"));
        let attrs = Attrs::new()
            .set("id", name)
            .set("name", name)
            .set("arn", address.as_str())
            // Absent: logs never expire, which Terraform writes as 0.
            .set("retention_in_days", group.retention_in_days().unwrap_or(0))
            .set("kms_key_id", keys.reference(group.kms_key_id()));
        model.resources.push(scope.resource("aws_cloudwatch_log_group", address, attrs));
    }
    model
}

pub async fn collect_backup(scope: &Scope) -> Model {
    let backup = aws_sdk_backup::Client::from_conf(aws_sdk_backup::config::Builder::from(&scope.config).interceptor(scope.counting.clone()).build());
    let mut model = Model::default();
    let plans = backup.list_backup_plans().into_paginator().items().send().collect::<Vec<_>>().await;
    let plans = listed!(model, scope, plans, "backup:ListBackupPlans", &["aws_backup_plan", "aws_backup_selection"], "backup", ":backup-plan:*");
    let described = futures::stream::iter(&plans)
        .map(|p| backup.get_backup_plan().backup_plan_id(p.backup_plan_id().unwrap_or_default()).send())
        .buffered(scope.concurrency)
        .collect::<Vec<_>>()
        .await;
    for (plan, answer) in plans.iter().zip(described) {
        let Some(id) = plan.backup_plan_id() else { continue };
        let address = plan.backup_plan_arn().map(str::to_string).unwrap_or_else(|| scope.arn("backup", &format!("backup-plan:{id}")));
        let rules = answer.map_err(|e| scope.failed(&address, Failure::of("backup:GetBackupPlan", &e))).map(|answer| {
            let rules = answer.backup_plan().map(|p| p.rules()).unwrap_or_default().iter().map(|r| backup_rule(r).node());
            Some(Value::List(rules.collect()))
        });
        let attrs = Attrs::new().set("id", id).set("arn", address.as_str()).opt("name", plan.backup_plan_name()).setting("rule", rules);
        model.resources.push(scope.resource("aws_backup_plan", address.clone(), attrs));
        model.resources.extend(plan_selections(scope, &backup, id, &address).await);
    }
    model
}

/// A plan rule as Terraform writes it: the vault it backs up to and how long it keeps
/// recovery points (`lifecycle.delete_after`, absent: until deleted by hand).
fn backup_rule(rule: &aws_sdk_backup::types::BackupRule) -> Attrs {
    let lifecycle =
        rule.lifecycle().map(|l| Attrs::new().opt("delete_after", l.delete_after_days()).opt("cold_storage_after", l.move_to_cold_storage_after_days()));
    Attrs::new()
        .set("rule_name", rule.rule_name())
        .set("target_vault_name", rule.target_backup_vault_name())
        .block("lifecycle", lifecycle)
        .blocks("copy_action", rule.copy_actions().iter().map(|c| Attrs::new().set("destination_vault_arn", c.destination_backup_vault_arn())))
}

/// The selections of a plan as `aws_backup_selection` resources. When they cannot be listed,
/// one selection of the plan whose contents are unknown stands for them: a database it may
/// select cannot be judged unselected.
async fn plan_selections(scope: &Scope, backup: &aws_sdk_backup::Client, plan_id: &str, plan_address: &str) -> Vec<Resource> {
    let plan = reference(plan_address, "id");
    let listed = backup.list_backup_selections().backup_plan_id(plan_id).into_paginator().items().send().collect::<Vec<_>>().await;
    let listed = match listed.into_iter().collect::<Result<Vec<_>, _>>() {
        Ok(listed) => listed,
        Err(e) => {
            let address = format!("{plan_address}#selections");
            let reason = scope.failed(&address, Failure::of("backup:ListBackupSelections", &e));
            let attrs = Attrs::new().set("plan_id", plan).set("resources", Value::Unknown(reason.clone())).set("selection_tag", Value::Unknown(reason));
            return vec![scope.resource("aws_backup_selection", address, attrs)];
        }
    };
    let described = futures::stream::iter(&listed)
        .map(|s| backup.get_backup_selection().backup_plan_id(plan_id).selection_id(s.selection_id().unwrap_or_default()).send())
        .buffered(scope.concurrency)
        .collect::<Vec<_>>()
        .await;
    let mut out = Vec::new();
    for (listed, answer) in listed.iter().zip(described) {
        let address = format!("{plan_address}/selection/{}", listed.selection_id().unwrap_or_default());
        let selection = answer.map_err(|e| scope.failed(&address, Failure::of("backup:GetBackupSelection", &e))).map(|a| a.backup_selection().cloned());
        let attrs = match selection {
            Ok(selection) => selection_attrs(selection.as_ref()),
            Err(reason) => Attrs::new().set("resources", Value::Unknown(reason.clone())).set("selection_tag", Value::Unknown(reason)),
        };
        out.push(scope.resource("aws_backup_selection", address, attrs.set("id", listed.selection_id().unwrap_or_default()).set("plan_id", plan.clone())));
    }
    out
}

/// What a selection selects, as Terraform writes it: ARNs, `selection_tag` blocks and
/// `condition` blocks.
fn selection_attrs(selection: Option<&aws_sdk_backup::types::BackupSelection>) -> Attrs {
    let Some(selection) = selection else { return Attrs::new() };
    let tags = selection
        .list_of_tags()
        .iter()
        .map(|t| Attrs::new().set("type", t.condition_type().as_str()).set("key", t.condition_key()).set("value", t.condition_value()));
    let equals = selection.conditions().map(|c| c.string_equals()).unwrap_or_default();
    let condition = (!equals.is_empty())
        .then(|| Attrs::new().blocks("string_equals", equals.iter().map(|e| Attrs::new().opt("key", e.condition_key()).opt("value", e.condition_value()))));
    Attrs::new()
        .set("name", selection.selection_name())
        .set("resources", strings(selection.resources()))
        .blocks("selection_tag", tags)
        .block("condition", condition)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Node;

    #[test]
    fn a_secret_carries_its_resource_policy_when_it_has_one() {
        let scope = crate::aws::test_scope("ap-south-1");
        let arn = "arn:aws:secretsmanager:ap-south-1:123456789012:secret:db-AbCdEf";
        let secret = aws_sdk_secretsmanager::types::SecretListEntry::builder().arn(arn).name("db").build();
        let document = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"secretsmanager:GetSecretValue"}]}"#;
        let with = secret_resources(&scope, &secret, (arn, "db"), Value::Null, Ok(Some(Value::from(document))));
        assert_eq!(with[0].attrs.get("policy").and_then(Node::as_str), Some(document));
        let without = secret_resources(&scope, &secret, (arn, "db"), Value::Null, Ok(None));
        assert!(without[0].attrs.get("policy").is_none(), "no policy: nothing to judge");
        let denied = secret_resources(&scope, &secret, (arn, "db"), Value::Null, Err("secretsmanager:GetResourcePolicy failed: AccessDenied".into()));
        assert!(denied[0].attrs.get("policy").is_some_and(Node::is_unknown), "a policy that could not be read is unknown");
    }
}

//! EC2: VPCs, subnets, route tables and their associations, security groups, VPC endpoints,
//! EBS volumes, instances and launch templates, shaped like their Terraform resources.
//!
//! AWS-created defaults keep their Terraform types (`aws_default_vpc`,
//! `aws_default_security_group`, `aws_default_route_table` for a VPC's main route table), so
//! rules about the charter's own network do not fire on the default VPC of every region.

use super::attrs::{reference, string_map, strings, Attrs};
use super::call::Failure;
use super::keys::Keys;
use super::Scope;
use crate::model::{Model, Resource, Value};
use futures::StreamExt;

fn tags(tags: &[aws_sdk_ec2::types::Tag]) -> Value {
    string_map(tags.iter().filter_map(|t| Some((t.key()?, t.value().unwrap_or_default()))))
}

pub async fn collect(scope: &Scope, keys: &Keys) -> Model {
    let ec2 = aws_sdk_ec2::Client::from_conf(aws_sdk_ec2::config::Builder::from(&scope.config).interceptor(scope.counting.clone()).build());
    let (vpcs, subnets, tables, groups, endpoints, volumes, instances, templates) = futures::join!(
        ec2.describe_vpcs().into_paginator().items().send().collect::<Vec<_>>(),
        ec2.describe_subnets().into_paginator().items().send().collect::<Vec<_>>(),
        ec2.describe_route_tables().into_paginator().items().send().collect::<Vec<_>>(),
        ec2.describe_security_groups().into_paginator().items().send().collect::<Vec<_>>(),
        ec2.describe_vpc_endpoints().into_paginator().items().send().collect::<Vec<_>>(),
        ec2.describe_volumes().into_paginator().items().send().collect::<Vec<_>>(),
        ec2.describe_instances().into_paginator().items().send().collect::<Vec<_>>(),
        ec2.describe_launch_templates().into_paginator().items().send().collect::<Vec<_>>(),
    );
    let mut model = Model::default();
    macro_rules! listed {
        ($items:expr, $call:literal, $types:expr, $what:literal) => {
            match $items.into_iter().collect::<Result<Vec<_>, _>>() {
                Ok(items) => items,
                Err(error) => {
                    scope.unseen(&mut model, &Failure::of($call, &error), $types, "ec2", $what);
                    Vec::new()
                }
            }
        };
    }
    let vpcs = listed!(vpcs, "ec2:DescribeVpcs", &["aws_vpc"], ":vpc/*");
    let subnets = listed!(subnets, "ec2:DescribeSubnets", &["aws_subnet"], ":subnet/*");
    let tables = listed!(tables, "ec2:DescribeRouteTables", &["aws_route_table", "aws_subnet"], ":route-table/*");
    let groups = listed!(groups, "ec2:DescribeSecurityGroups", &["aws_security_group"], ":security-group/*");
    let endpoints = listed!(endpoints, "ec2:DescribeVpcEndpoints", &["aws_vpc_endpoint", "aws_vpc"], ":vpc-endpoint/*");
    let volumes = listed!(volumes, "ec2:DescribeVolumes", &["aws_ebs_volume"], ":volume/*");
    let reservations = listed!(instances, "ec2:DescribeInstances", &["aws_instance"], ":instance/*");
    let templates = listed!(templates, "ec2:DescribeLaunchTemplates", &["aws_launch_template"], ":launch-template/*");

    model.resources.extend(vpcs.iter().filter_map(|v| vpc(scope, v)));
    model.resources.extend(subnets.iter().filter_map(|s| subnet(scope, s)));
    for table in &tables {
        model.resources.extend(route_table(scope, table));
    }
    model.resources.extend(groups.iter().filter_map(|g| security_group(scope, g)));
    model.resources.extend(endpoints.iter().filter_map(|e| endpoint(scope, e)));
    model.resources.extend(volumes.iter().filter_map(|v| volume(scope, keys, v)));
    model.resources.extend(reservations.iter().flat_map(|r| r.instances()).filter_map(|i| instance(scope, i)));
    let versions = futures::stream::iter(templates.iter().filter_map(|t| t.launch_template_id()))
        .map(|id| ec2.describe_launch_template_versions().launch_template_id(id).versions("$Default").send())
        .buffered(scope.concurrency)
        .collect::<Vec<_>>()
        .await;
    for (template, version) in templates.iter().zip(versions) {
        let version = version.map_err(|e| Failure::of("ec2:DescribeLaunchTemplateVersions", &e).to_string());
        model.resources.extend(launch_template(scope, keys, template, version));
    }
    model
}

fn vpc(scope: &Scope, vpc: &aws_sdk_ec2::types::Vpc) -> Option<Resource> {
    let id = vpc.vpc_id()?;
    let address = scope.arn("ec2", &format!("vpc/{id}"));
    let attrs = Attrs::new().set("id", id).set("arn", address.as_str()).opt("cidr_block", vpc.cidr_block()).set("tags", tags(vpc.tags()));
    let rtype = if vpc.is_default() == Some(true) { "aws_default_vpc" } else { "aws_vpc" };
    Some(scope.resource(rtype, address, attrs))
}

fn subnet(scope: &Scope, subnet: &aws_sdk_ec2::types::Subnet) -> Option<Resource> {
    let id = subnet.subnet_id()?;
    let address = scope.arn("ec2", &format!("subnet/{id}"));
    let vpc = subnet.vpc_id().map(|v| reference(&scope.arn("ec2", &format!("vpc/{v}")), "id"));
    let attrs = Attrs::new()
        .set("id", id)
        .set("arn", address.as_str())
        .opt("vpc_id", vpc)
        .opt("cidr_block", subnet.cidr_block())
        .opt("availability_zone", subnet.availability_zone())
        .opt("availability_zone_id", subnet.availability_zone_id())
        .opt("map_public_ip_on_launch", subnet.map_public_ip_on_launch())
        .set("tags", tags(subnet.tags()));
    Some(scope.resource("aws_subnet", address, attrs))
}

/// A route table, and one `aws_route_table_association` per subnet associated explicitly. A
/// VPC's main table is `aws_default_route_table` (joined to its VPC), which is what subnets
/// without an explicit association use.
fn route_table(scope: &Scope, table: &aws_sdk_ec2::types::RouteTable) -> Vec<Resource> {
    let Some(id) = table.route_table_id() else { return Vec::new() };
    let address = scope.arn("ec2", &format!("route-table/{id}"));
    let vpc_address = table.vpc_id().map(|v| scope.arn("ec2", &format!("vpc/{v}")));
    let routes = table.routes().iter().filter(|r| r.gateway_id() != Some("local")).map(|r| {
        Attrs::new()
            .opt("cidr_block", r.destination_cidr_block())
            .opt("ipv6_cidr_block", r.destination_ipv6_cidr_block())
            .opt("destination_prefix_list_id", r.destination_prefix_list_id())
            .opt("gateway_id", r.gateway_id())
            .opt("nat_gateway_id", r.nat_gateway_id())
            .opt("egress_only_gateway_id", r.egress_only_internet_gateway_id())
            .opt("transit_gateway_id", r.transit_gateway_id())
            .opt("vpc_peering_connection_id", r.vpc_peering_connection_id())
            .opt("network_interface_id", r.network_interface_id())
    });
    let main = table.associations().iter().any(|a| a.main() == Some(true));
    let mut attrs = Attrs::new().set("id", id).set("arn", address.as_str()).blocks("route", routes).set("tags", tags(table.tags()));
    attrs = match (&vpc_address, main) {
        (Some(vpc), true) => attrs.set("default_route_table_id", reference(vpc, "default_route_table_id")).set("vpc_id", reference(vpc, "id")),
        (Some(vpc), false) => attrs.set("vpc_id", reference(vpc, "id")),
        (None, _) => attrs,
    };
    let rtype = if main { "aws_default_route_table" } else { "aws_route_table" };
    let mut out = vec![scope.resource(rtype, address.clone(), attrs)];
    for association in table.associations() {
        let (Some(subnet), Some(association_id)) = (association.subnet_id(), association.route_table_association_id()) else { continue };
        let attrs = Attrs::new()
            .set("id", association_id)
            .set("subnet_id", reference(&scope.arn("ec2", &format!("subnet/{subnet}")), "id"))
            .set("route_table_id", reference(&address, "id"));
        out.push(scope.resource("aws_route_table_association", format!("{address}#{association_id}"), attrs));
    }
    out
}

/// Ingress or egress permissions as Terraform's inline rule blocks.
fn rule_blocks(permissions: &[aws_sdk_ec2::types::IpPermission], own_id: &str) -> Vec<Attrs> {
    permissions
        .iter()
        .map(|p| {
            let protocol = p.ip_protocol().unwrap_or("-1");
            let all = protocol == "-1";
            let groups: Vec<&str> = p.user_id_group_pairs().iter().filter_map(|g| g.group_id()).filter(|g| *g != own_id).collect();
            Attrs::new()
                .set("protocol", protocol)
                .set("from_port", if all { 0 } else { p.from_port().unwrap_or(0) })
                .set("to_port", if all { 0 } else { p.to_port().unwrap_or(0) })
                .set("cidr_blocks", strings(p.ip_ranges().iter().filter_map(|r| r.cidr_ip())))
                .set("ipv6_cidr_blocks", strings(p.ipv6_ranges().iter().filter_map(|r| r.cidr_ipv6())))
                .set("prefix_list_ids", strings(p.prefix_list_ids().iter().filter_map(|r| r.prefix_list_id())))
                .set("security_groups", strings(groups))
                .set("self", p.user_id_group_pairs().iter().any(|g| g.group_id() == Some(own_id)))
        })
        .collect()
}

fn security_group(scope: &Scope, group: &aws_sdk_ec2::types::SecurityGroup) -> Option<Resource> {
    let id = group.group_id()?;
    let address = scope.arn("ec2", &format!("security-group/{id}"));
    let attrs = Attrs::new()
        .set("id", id)
        .set("arn", address.as_str())
        .opt("name", group.group_name())
        .opt("description", group.description())
        .opt("vpc_id", group.vpc_id().map(|v| reference(&scope.arn("ec2", &format!("vpc/{v}")), "id")))
        .blocks("ingress", rule_blocks(group.ip_permissions(), id))
        .blocks("egress", rule_blocks(group.ip_permissions_egress(), id))
        .set("tags", tags(group.tags()));
    let rtype = if group.group_name() == Some("default") { "aws_default_security_group" } else { "aws_security_group" };
    Some(scope.resource(rtype, address, attrs))
}

fn endpoint(scope: &Scope, endpoint: &aws_sdk_ec2::types::VpcEndpoint) -> Option<Resource> {
    let id = endpoint.vpc_endpoint_id()?;
    let address = scope.arn("ec2", &format!("vpc-endpoint/{id}"));
    let attrs = Attrs::new()
        .set("id", id)
        .set("arn", address.as_str())
        .opt("vpc_id", endpoint.vpc_id().map(|v| reference(&scope.arn("ec2", &format!("vpc/{v}")), "id")))
        .opt("service_name", endpoint.service_name())
        .opt("vpc_endpoint_type", endpoint.vpc_endpoint_type().map(|t| t.as_str()))
        .set("route_table_ids", strings(endpoint.route_table_ids()))
        .set("tags", tags(endpoint.tags()));
    Some(scope.resource("aws_vpc_endpoint", address, attrs))
}

fn volume(scope: &Scope, keys: &Keys, volume: &aws_sdk_ec2::types::Volume) -> Option<Resource> {
    let id = volume.volume_id()?;
    let address = scope.arn("ec2", &format!("volume/{id}"));
    let attrs = Attrs::new()
        .set("id", id)
        .set("arn", address.as_str())
        .opt("availability_zone", volume.availability_zone())
        .opt("size", volume.size())
        .opt("type", volume.volume_type().map(|t| t.as_str()))
        .set("encrypted", volume.encrypted().unwrap_or(false))
        .set("kms_key_id", keys.reference(volume.kms_key_id()))
        .set("tags", tags(volume.tags()));
    Some(scope.resource("aws_ebs_volume", address, attrs))
}

fn instance(scope: &Scope, instance: &aws_sdk_ec2::types::Instance) -> Option<Resource> {
    let id = instance.instance_id()?;
    if instance.state().and_then(|s| s.name()).map(|n| n.as_str()) == Some("terminated") {
        return None;
    }
    let address = scope.arn("ec2", &format!("instance/{id}"));
    let attrs = Attrs::new()
        .set("id", id)
        .set("arn", address.as_str())
        .opt("instance_type", instance.instance_type().map(|t| t.as_str()))
        .opt("subnet_id", instance.subnet_id())
        .opt("ami", instance.image_id())
        .set("tags", tags(instance.tags()));
    Some(scope.resource("aws_instance", address, attrs))
}

fn launch_template(
    scope: &Scope,
    keys: &Keys,
    template: &aws_sdk_ec2::types::LaunchTemplate,
    version: Result<aws_sdk_ec2::operation::describe_launch_template_versions::DescribeLaunchTemplateVersionsOutput, String>,
) -> Option<Resource> {
    let id = template.launch_template_id()?;
    let address = scope.arn("ec2", &format!("launch-template/{id}"));
    let mappings = version.map(|v| {
        let data = v.launch_template_versions().first().and_then(|v| v.launch_template_data());
        let mappings = data.map(|d| d.block_device_mappings()).unwrap_or_default().iter().map(|m| {
            let ebs = m.ebs().map(|e| Attrs::new().opt("encrypted", e.encrypted()).set("kms_key_id", keys.reference(e.kms_key_id())).opt("volume_size", e.volume_size()));
            Attrs::new().opt("device_name", m.device_name()).block("ebs", ebs)
        });
        Some(Value::List(mappings.map(Attrs::node).collect()))
    });
    let attrs = Attrs::new()
        .set("id", id)
        .set("arn", address.as_str())
        .opt("name", template.launch_template_name())
        .setting("block_device_mappings", mappings)
        .set("tags", tags(template.tags()));
    Some(scope.resource("aws_launch_template", address, attrs))
}

//! EC2: VPCs, subnets, route tables and their associations, security groups, VPC endpoints,
//! EBS volumes, instances and launch templates, shaped like their Terraform resources; and
//! the connections between accounts' networks: VPC peering connections, Transit Gateway
//! peering attachments, and attachments of other accounts' VPCs to this account's gateways.
//!
//! AWS-created defaults keep their Terraform types (`aws_default_vpc`, `aws_default_subnet`,
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
    let vpc_attachments = aws_sdk_ec2::types::Filter::builder().name("resource-type").values("vpc").build();
    let (vpcs, subnets, tables, groups, endpoints, volumes, instances, templates, peerings, gateway_peerings, attachments) = futures::join!(
        ec2.describe_vpcs().into_paginator().items().send().collect::<Vec<_>>(),
        ec2.describe_subnets().into_paginator().items().send().collect::<Vec<_>>(),
        ec2.describe_route_tables().into_paginator().items().send().collect::<Vec<_>>(),
        ec2.describe_security_groups().into_paginator().items().send().collect::<Vec<_>>(),
        ec2.describe_vpc_endpoints().into_paginator().items().send().collect::<Vec<_>>(),
        ec2.describe_volumes().into_paginator().items().send().collect::<Vec<_>>(),
        ec2.describe_instances().into_paginator().items().send().collect::<Vec<_>>(),
        ec2.describe_launch_templates().into_paginator().items().send().collect::<Vec<_>>(),
        ec2.describe_vpc_peering_connections().into_paginator().items().send().collect::<Vec<_>>(),
        ec2.describe_transit_gateway_peering_attachments().into_paginator().items().send().collect::<Vec<_>>(),
        ec2.describe_transit_gateway_attachments().filters(vpc_attachments).into_paginator().items().send().collect::<Vec<_>>(),
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
    let peerings = listed!(peerings, "ec2:DescribeVpcPeeringConnections", &["aws_vpc_peering_connection"], ":vpc-peering-connection/*");
    let gateway_peerings = listed!(
        gateway_peerings,
        "ec2:DescribeTransitGatewayPeeringAttachments",
        &["aws_ec2_transit_gateway_peering_attachment"],
        ":transit-gateway-attachment/*"
    );
    let attachments =
        listed!(attachments, "ec2:DescribeTransitGatewayAttachments", &["aws_ec2_transit_gateway_vpc_attachment_accepter"], ":transit-gateway-attachment/*");

    model.resources.extend(vpcs.iter().filter_map(|v| vpc(scope, v)));
    model.resources.extend(subnets.iter().filter_map(|s| subnet(scope, s)));
    for table in &tables {
        model.resources.extend(route_table(scope, table));
    }
    model.resources.extend(groups.iter().filter_map(|g| security_group(scope, g)));
    model.resources.extend(endpoints.iter().filter_map(|e| endpoint(scope, e)));
    model.resources.extend(volumes.iter().filter_map(|v| volume(scope, keys, v)));
    model.resources.extend(reservations.iter().flat_map(|r| r.instances()).filter_map(|i| instance(scope, i)));
    model.resources.extend(peerings.iter().filter_map(|p| peering(scope, p)));
    model.resources.extend(gateway_peerings.iter().filter_map(|p| gateway_peering(scope, p)));
    model.resources.extend(attachments.iter().filter_map(|a| vpc_attachment_accepter(scope, a)));
    let versions = futures::stream::iter(templates.iter().filter_map(|t| t.launch_template_id()))
        .map(|id| ec2.describe_launch_template_versions().launch_template_id(id).versions("$Default").send())
        .buffered(scope.concurrency)
        .collect::<Vec<_>>()
        .await;
    for (template, version) in templates.iter().zip(versions) {
        let address = scope.arn("ec2", &format!("launch-template/{}", template.launch_template_id().unwrap_or_default()));
        let version = version.map_err(|e| scope.failed(&address, Failure::of("ec2:DescribeLaunchTemplateVersions", &e)));
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
    let rtype = if subnet.default_for_az() == Some(true) { "aws_default_subnet" } else { "aws_subnet" };
    Some(scope.resource(rtype, address, attrs))
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

/// This scope's side and the other side of a two-sided connection (`owner_region` reads a
/// side's account and region). The requester is this scope's side when it is this account's,
/// in this region (when the answer names one), which makes a connection between two of its
/// own VPCs or gateways in one region the requester's; otherwise the accepter is.
fn sides<'a, T>(
    scope: &Scope,
    requester: Option<&'a T>,
    accepter: Option<&'a T>,
    owner_region: impl Fn(&T) -> (Option<&str>, Option<&str>),
) -> (Option<&'a T>, Option<&'a T>) {
    let ours = |side: &T| {
        let (owner, region) = owner_region(side);
        owner == Some(scope.account.id.as_str()) && region.is_none_or(|r| r == scope.region)
    };
    match requester.is_some_and(ours) {
        true => (requester, accepter),
        false => (accepter, requester),
    }
}

/// The account of the other side of a connection, as the answer names it: unknown when it
/// names none, so the connection cannot pass for one within the account.
fn other_account(owner: Option<&str>, call: &str) -> Value {
    match owner {
        Some(owner) => Value::from(owner),
        None => Value::Unknown(format!("{call} named no account for the other side")),
    }
}

/// A VPC peering connection, from this account's side (`vpc_id`), naming the other side's VPC
/// and account (`peer_owner_id`). One that was deleted, rejected, failed or expired connects
/// nothing and is left out.
fn peering(scope: &Scope, connection: &aws_sdk_ec2::types::VpcPeeringConnection) -> Option<Resource> {
    let id = connection.vpc_peering_connection_id()?;
    let state = connection.status().and_then(|s| s.code()).map(|c| c.as_str());
    if matches!(state, Some("deleted" | "rejected" | "failed" | "expired")) {
        return None;
    }
    let (ours, theirs) = sides(scope, connection.requester_vpc_info(), connection.accepter_vpc_info(), |side| (side.owner_id(), side.region()));
    let address = scope.arn("ec2", &format!("vpc-peering-connection/{id}"));
    let attrs = Attrs::new()
        .set("id", id)
        .set("arn", address.as_str())
        .opt("vpc_id", ours.and_then(|o| o.vpc_id()).map(|v| reference(&scope.arn("ec2", &format!("vpc/{v}")), "id")))
        .opt("peer_vpc_id", theirs.and_then(|t| t.vpc_id()))
        .set("peer_owner_id", other_account(theirs.and_then(|t| t.owner_id()), "ec2:DescribeVpcPeeringConnections"))
        .opt("peer_region", theirs.and_then(|t| t.region()))
        .set("tags", tags(connection.tags()));
    Some(scope.resource("aws_vpc_peering_connection", address, attrs))
}

/// Whether a Transit Gateway attachment is gone or never came up: it connects nothing.
fn detached(state: Option<&aws_sdk_ec2::types::TransitGatewayAttachmentState>) -> bool {
    matches!(state.map(|s| s.as_str()), Some("deleted" | "rejected" | "failed"))
}

/// A peering between two Transit Gateways, from this account's gateway, naming the other
/// gateway and its account (`peer_account_id`).
fn gateway_peering(scope: &Scope, attachment: &aws_sdk_ec2::types::TransitGatewayPeeringAttachment) -> Option<Resource> {
    let id = attachment.transit_gateway_attachment_id()?;
    if detached(attachment.state()) {
        return None;
    }
    let (ours, theirs) = sides(scope, attachment.requester_tgw_info(), attachment.accepter_tgw_info(), |side| (side.owner_id(), side.region()));
    let address = scope.arn("ec2", &format!("transit-gateway-attachment/{id}"));
    let attrs = Attrs::new()
        .set("id", id)
        .set("arn", address.as_str())
        .opt("transit_gateway_id", ours.and_then(|o| o.transit_gateway_id()))
        .opt("peer_transit_gateway_id", theirs.and_then(|t| t.transit_gateway_id()))
        .set("peer_account_id", other_account(theirs.and_then(|t| t.owner_id()), "ec2:DescribeTransitGatewayPeeringAttachments"))
        .opt("peer_region", theirs.and_then(|t| t.region()))
        .set("tags", tags(attachment.tags()));
    Some(scope.resource("aws_ec2_transit_gateway_peering_attachment", address, attrs))
}

/// An attachment of another account's VPC to one of this account's Transit Gateways: what
/// Terraform's accepter resource holds, naming the VPC's account (`vpc_owner_id`). Attachments
/// of this account's own VPCs connect nothing across accounts and are left out.
fn vpc_attachment_accepter(scope: &Scope, attachment: &aws_sdk_ec2::types::TransitGatewayAttachment) -> Option<Resource> {
    let id = attachment.transit_gateway_attachment_id()?;
    let account = Some(scope.account.id.as_str());
    if detached(attachment.state()) || attachment.transit_gateway_owner_id() != account || attachment.resource_owner_id() == account {
        return None;
    }
    let address = scope.arn("ec2", &format!("transit-gateway-attachment/{id}"));
    let attrs = Attrs::new()
        .set("id", id)
        .set("arn", address.as_str())
        .set("transit_gateway_attachment_id", id)
        .opt("transit_gateway_id", attachment.transit_gateway_id())
        .opt("vpc_id", attachment.resource_id())
        .set("vpc_owner_id", other_account(attachment.resource_owner_id(), "ec2:DescribeTransitGatewayAttachments"))
        .set("tags", tags(attachment.tags()));
    Some(scope.resource("aws_ec2_transit_gateway_vpc_attachment_accepter", address, attrs))
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
            let ebs = m
                .ebs()
                .map(|e| Attrs::new().opt("encrypted", e.encrypted()).set("kms_key_id", keys.reference(e.kms_key_id())).opt("volume_size", e.volume_size()));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Node;
    use aws_sdk_ec2::types::{IpPermission, IpRange, RouteTableAssociation, SecurityGroup, UserIdGroupPair};
    use aws_sdk_ec2::types::{PeeringTgwInfo, TransitGatewayAttachment, TransitGatewayAttachmentState, TransitGatewayPeeringAttachment};
    use aws_sdk_ec2::types::{VpcPeeringConnection, VpcPeeringConnectionStateReason, VpcPeeringConnectionStateReasonCode, VpcPeeringConnectionVpcInfo};

    const OURS: &str = "123456789012";

    fn vpc_side(owner: &str, vpc: &str, region: &str) -> VpcPeeringConnectionVpcInfo {
        VpcPeeringConnectionVpcInfo::builder().owner_id(owner).vpc_id(vpc).region(region).build()
    }

    fn connection(
        requester: VpcPeeringConnectionVpcInfo,
        accepter: VpcPeeringConnectionVpcInfo,
        code: VpcPeeringConnectionStateReasonCode,
    ) -> VpcPeeringConnection {
        VpcPeeringConnection::builder()
            .vpc_peering_connection_id("pcx-1")
            .requester_vpc_info(requester)
            .accepter_vpc_info(accepter)
            .status(VpcPeeringConnectionStateReason::builder().code(code).build())
            .build()
    }

    fn text<'a>(resource: &'a Resource, key: &str) -> Option<&'a str> {
        resource.attrs.get(key).and_then(Node::as_str)
    }

    #[test]
    fn a_peering_names_the_other_sides_account_whichever_side_asked() {
        let scope = crate::aws::test_scope("ap-south-1");
        let active = VpcPeeringConnectionStateReasonCode::Active;
        let asked =
            peering(&scope, &connection(vpc_side(OURS, "vpc-a", "ap-south-1"), vpc_side("222222222222", "vpc-s", "ap-south-2"), active.clone())).unwrap();
        assert_eq!(asked.address, "arn:aws:ec2:ap-south-1:123456789012:vpc-peering-connection/pcx-1");
        assert_eq!(
            (text(&asked, "peer_owner_id"), text(&asked, "peer_vpc_id"), text(&asked, "peer_region")),
            (Some("222222222222"), Some("vpc-s"), Some("ap-south-2"))
        );
        assert!(matches!(&asked.attrs.get("vpc_id").unwrap().value, Value::Ref { address, .. } if address.ends_with("vpc/vpc-a")));
        let accepted =
            peering(&scope, &connection(vpc_side("222222222222", "vpc-s", "ap-south-1"), vpc_side(OURS, "vpc-a", "ap-south-1"), active.clone())).unwrap();
        assert_eq!((text(&accepted, "peer_owner_id"), text(&accepted, "peer_vpc_id")), (Some("222222222222"), Some("vpc-s")));
        // Within the account: the other side is the account itself, also when seen from the
        // accepter's region of a peering across regions.
        let own = peering(&scope, &connection(vpc_side(OURS, "vpc-a", "ap-south-1"), vpc_side(OURS, "vpc-b", "ap-south-1"), active.clone())).unwrap();
        assert_eq!((text(&own, "peer_owner_id"), text(&own, "peer_vpc_id")), (Some(OURS), Some("vpc-b")));
        let across = peering(&scope, &connection(vpc_side(OURS, "vpc-x", "ap-south-2"), vpc_side(OURS, "vpc-a", "ap-south-1"), active)).unwrap();
        assert_eq!((text(&across, "peer_vpc_id"), text(&across, "peer_region")), (Some("vpc-x"), Some("ap-south-2")));
    }

    #[test]
    fn gone_peerings_are_left_out_and_an_unnamed_side_is_unknown() {
        let scope = crate::aws::test_scope("ap-south-1");
        for code in [VpcPeeringConnectionStateReasonCode::Deleted, VpcPeeringConnectionStateReasonCode::Rejected, VpcPeeringConnectionStateReasonCode::Expired]
        {
            assert!(peering(&scope, &connection(vpc_side(OURS, "vpc-a", "ap-south-1"), vpc_side("222222222222", "vpc-s", "ap-south-1"), code)).is_none());
        }
        let one_sided = VpcPeeringConnection::builder().vpc_peering_connection_id("pcx-2").requester_vpc_info(vpc_side(OURS, "vpc-a", "ap-south-1")).build();
        assert!(peering(&scope, &one_sided).unwrap().attrs.get("peer_owner_id").is_some_and(Node::is_unknown));
    }

    #[test]
    fn a_gateway_peering_names_the_other_gateways_account() {
        let scope = crate::aws::test_scope("ap-south-1");
        let side = |owner: &str, gateway: &str| PeeringTgwInfo::builder().owner_id(owner).transit_gateway_id(gateway).region("ap-south-1").build();
        let attachment = |state: TransitGatewayAttachmentState| {
            TransitGatewayPeeringAttachment::builder()
                .transit_gateway_attachment_id("tgw-attach-1")
                .requester_tgw_info(side("222222222222", "tgw-s"))
                .accepter_tgw_info(side(OURS, "tgw-a"))
                .state(state)
                .build()
        };
        let accepted = gateway_peering(&scope, &attachment(TransitGatewayAttachmentState::Available)).unwrap();
        assert_eq!(accepted.address, "arn:aws:ec2:ap-south-1:123456789012:transit-gateway-attachment/tgw-attach-1");
        assert_eq!(
            (text(&accepted, "transit_gateway_id"), text(&accepted, "peer_transit_gateway_id"), text(&accepted, "peer_account_id")),
            (Some("tgw-a"), Some("tgw-s"), Some("222222222222"))
        );
        assert!(gateway_peering(&scope, &attachment(TransitGatewayAttachmentState::Deleted)).is_none());
    }

    #[test]
    fn only_other_accounts_vpcs_on_our_gateways_are_accepters() {
        let scope = crate::aws::test_scope("ap-south-1");
        let attachment = |gateway_owner: &str, vpc_owner: &str| {
            TransitGatewayAttachment::builder()
                .transit_gateway_attachment_id("tgw-attach-2")
                .transit_gateway_id("tgw-a")
                .transit_gateway_owner_id(gateway_owner)
                .resource_owner_id(vpc_owner)
                .resource_id("vpc-s")
                .state(TransitGatewayAttachmentState::Available)
                .build()
        };
        let accepter = vpc_attachment_accepter(&scope, &attachment(OURS, "222222222222")).unwrap();
        assert_eq!(accepter.rtype, "aws_ec2_transit_gateway_vpc_attachment_accepter");
        assert_eq!(
            (text(&accepter, "transit_gateway_attachment_id"), text(&accepter, "vpc_id"), text(&accepter, "vpc_owner_id")),
            (Some("tgw-attach-2"), Some("vpc-s"), Some("222222222222"))
        );
        assert!(vpc_attachment_accepter(&scope, &attachment(OURS, OURS)).is_none(), "our own VPC");
        assert!(vpc_attachment_accepter(&scope, &attachment("222222222222", OURS)).is_none(), "our VPC on their gateway: their accepter");
    }

    #[test]
    fn security_groups_become_terraform_groups_with_inline_rules() {
        let scope = crate::aws::test_scope("ap-south-1");
        let ssh = IpPermission::builder().ip_protocol("tcp").from_port(22).to_port(22).ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build()).build();
        let own = IpPermission::builder().ip_protocol("-1").user_id_group_pairs(UserIdGroupPair::builder().group_id("sg-1").build()).build();
        let group = SecurityGroup::builder().group_id("sg-1").group_name("bastion").vpc_id("vpc-1").ip_permissions(ssh).ip_permissions(own).build();
        let resource = security_group(&scope, &group).unwrap();
        assert_eq!((resource.rtype.as_str(), resource.address.as_str()), ("aws_security_group", "arn:aws:ec2:ap-south-1:123456789012:security-group/sg-1"));
        let Value::List(ingress) = &resource.attrs.get("ingress").unwrap().value else { panic!("ingress is a list of blocks") };
        assert_eq!(ingress[0].get("cidr_blocks").map(|n| n.to_json()), Some(serde_json::json!(["0.0.0.0/0"])));
        assert_eq!(ingress[0].path("from_port").map(|n| &n.value), Some(&Value::Int(22)));
        assert_eq!(ingress[1].path("self").map(|n| &n.value), Some(&Value::Bool(true)));
        assert_eq!(ingress[1].path("protocol").and_then(Node::as_str), Some("-1"));
        assert!(matches!(&resource.attrs.get("vpc_id").unwrap().value, Value::Ref { address, .. } if address.ends_with("vpc/vpc-1")));
        let default = SecurityGroup::builder().group_id("sg-2").group_name("default").build();
        assert_eq!(security_group(&scope, &default).unwrap().rtype, "aws_default_security_group");
    }

    #[test]
    fn main_route_tables_are_default_tables_and_associations_are_resources() {
        let scope = crate::aws::test_scope("ap-south-1");
        let igw = aws_sdk_ec2::types::Route::builder().destination_cidr_block("0.0.0.0/0").gateway_id("igw-1").build();
        let local = aws_sdk_ec2::types::Route::builder().destination_cidr_block("10.0.0.0/16").gateway_id("local").build();
        let main = RouteTableAssociation::builder().main(true).route_table_association_id("rtbassoc-0").build();
        let explicit = RouteTableAssociation::builder().subnet_id("subnet-1").route_table_association_id("rtbassoc-1").build();
        let table = aws_sdk_ec2::types::RouteTable::builder()
            .route_table_id("rtb-1")
            .vpc_id("vpc-1")
            .routes(igw)
            .routes(local)
            .associations(main)
            .associations(explicit)
            .build();
        let resources = route_table(&scope, &table);
        let types: Vec<&str> = resources.iter().map(|r| r.rtype.as_str()).collect();
        assert_eq!(types, ["aws_default_route_table", "aws_route_table_association"]);
        let Value::List(routes) = &resources[0].attrs.get("route").unwrap().value else { panic!("routes are a list") };
        assert_eq!(routes.len(), 1, "the local route is implicit in Terraform");
        assert!(matches!(&resources[0].attrs.get("default_route_table_id").unwrap().value, Value::Ref { address, .. } if address.ends_with("vpc/vpc-1")));
        assert!(matches!(&resources[1].attrs.get("subnet_id").unwrap().value, Value::Ref { address, .. } if address.ends_with("subnet/subnet-1")));
    }
}

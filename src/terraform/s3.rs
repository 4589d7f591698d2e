//! Since AWS provider v4, a bucket's settings live in separate resources
//! (`aws_s3_bucket_versioning`, `..._server_side_encryption_configuration`, ...). They are
//! joined to their bucket here, by reference or by bucket name, so rules see one effective
//! bucket whichever style the code uses: the setting appears on the bucket under the
//! resource type's suffix (`versioning`, `server_side_encryption_configuration`, ...), as a
//! one-element list holding the setting resource's attributes and spans. A joined setting
//! resource is marked with its bucket's address under `__bucket`; one without it configures a
//! bucket outside the scanned code, and rules judge it at its own block.

use crate::model::{Node, Resource, Value, EXISTS_KEY};
use rayon::prelude::*;
use std::collections::HashMap;

/// Split setting resource types (suffix after `aws_s3_bucket_`).
const SETTINGS: &[&str] = &[
    "server_side_encryption_configuration",
    "versioning",
    "object_lock_configuration",
    "public_access_block",
    "lifecycle_configuration",
    "replication_configuration",
    "policy",
    "logging",
    "acl",
    "ownership_controls",
    "cors_configuration",
    "website_configuration",
    "accelerate_configuration",
    "intelligent_tiering_configuration",
    "request_payment_configuration",
    "notification",
];

/// The attribute of a joined setting resource that names its bucket.
pub const JOINED_KEY: &str = "__bucket";

pub fn link_split_settings(mut resources: Vec<Resource>) -> Vec<Resource> {
    let mut by_address: HashMap<String, usize> = HashMap::new();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    for (i, resource) in resources.iter().enumerate().filter(|(_, r)| r.rtype == "aws_s3_bucket") {
        by_address.insert(resource.address.clone(), i);
        if let Some(name) = resource.attrs.get("bucket").and_then(Node::as_str) {
            by_name.insert(name.to_string(), i);
        }
    }
    let mut links: Vec<(usize, usize, &'static str)> = Vec::new();
    let mut unlinked: Vec<(&'static str, String)> = Vec::new();
    for (i, resource) in resources.iter().enumerate() {
        let Some(setting) = resource.rtype.strip_prefix("aws_s3_bucket_").and_then(|s| SETTINGS.iter().find(|x| **x == s)) else { continue };
        let bucket = resource.attrs.get("bucket");
        let target = match bucket.map(|b| &b.value) {
            Some(Value::Ref { address, .. }) => by_address.get(address).copied(),
            Some(Value::Str(name)) => by_name.get(name).copied(),
            _ => None,
        };
        match target {
            Some(index) => links.push((index, i, setting)),
            None => {
                let why = match bucket.map(|b| &b.value) {
                    Some(Value::Unknown(reason)) => reason.clone(),
                    Some(Value::Str(name)) => format!("bucket `{name}` is not defined in this configuration"),
                    Some(Value::Ref { address, .. }) => format!("{address} is not a bucket of this configuration"),
                    _ => "its bucket argument is missing".to_string(),
                };
                // A named bucket outside this configuration cannot be one of ours.
                if !matches!(bucket.map(|b| &b.value), Some(Value::Str(_) | Value::Ref { .. })) {
                    unlinked.push((setting, format!("{} at {} may configure this bucket, but {why}", resource.address, resource.span)));
                }
            }
        }
    }
    // The copies are made in parallel: a root module of 5,000 distributors joins 50,000.
    let nodes: Vec<Node> = links.par_iter().map(|&(_, i, _)| setting_node(&resources[i])).collect();
    for ((index, i, setting), node) in links.into_iter().zip(nodes) {
        let bucket = Node::new(Value::Str(resources[index].address.clone()), None);
        // A setting that may not exist (unknown count) leaves the bucket's setting unknown.
        let node = match resources[i].attrs.get(EXISTS_KEY).and_then(Node::unknown_reason) {
            Some(reason) => Node::new(Value::Unknown(format!("{} may not exist: {reason}", resources[i].address)), Some(resources[i].span.clone())),
            None => node,
        };
        resources[index].attrs.insert(setting, node);
        resources[i].attrs.insert(JOINED_KEY, bucket);
    }
    for (setting, reason) in unlinked {
        for resource in resources.iter_mut().filter(|r| r.rtype == "aws_s3_bucket") {
            if resource.attrs.get(setting).is_none() {
                resource.attrs.insert(setting, Node::new(Value::Unknown(reason.clone()), None));
            }
        }
    }
    resources
}

/// The setting resource's attributes, without the join key, as a one-element block list.
fn setting_node(resource: &Resource) -> Node {
    let mut attrs = resource.attrs.clone();
    if let Value::Map(entries) = &mut attrs.value {
        entries.retain(|(k, _)| !matches!(k.as_str(), "bucket" | "expected_bucket_owner" | JOINED_KEY | EXISTS_KEY));
    }
    attrs.span = Some(resource.span.clone());
    Node::new(Value::List(vec![attrs]), Some(resource.span.clone()))
}

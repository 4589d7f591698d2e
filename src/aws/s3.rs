//! S3: buckets as `aws_s3_bucket` with their settings joined in under the names the split
//! Terraform resources give them (`server_side_encryption_configuration`, `versioning`,
//! `object_lock_configuration`, `public_access_block`, `lifecycle_configuration`,
//! `replication_configuration`, `policy`), plus `aws_s3_bucket_replication_configuration`
//! resources so the replication rules join source and destination as they do in code.

use super::attrs::{reference, string_map, Attrs};
use super::call::{setting, Counting, Failure};
use super::keys::Keys;
use super::session::Account;
use super::Scope;
use crate::model::{Model, Value};
use futures::StreamExt;

/// The four public access block settings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PublicAccess {
    pub block_public_acls: bool,
    pub block_public_policy: bool,
    pub ignore_public_acls: bool,
    pub restrict_public_buckets: bool,
}

impl PublicAccess {
    /// What applies to a bucket: a setting is on when the bucket or the account turns it on.
    fn or(self, other: Option<PublicAccess>) -> PublicAccess {
        let other = other.unwrap_or_default();
        PublicAccess {
            block_public_acls: self.block_public_acls || other.block_public_acls,
            block_public_policy: self.block_public_policy || other.block_public_policy,
            ignore_public_acls: self.ignore_public_acls || other.ignore_public_acls,
            restrict_public_buckets: self.restrict_public_buckets || other.restrict_public_buckets,
        }
    }

    fn attrs(self) -> Attrs {
        Attrs::new()
            .set("block_public_acls", self.block_public_acls)
            .set("block_public_policy", self.block_public_policy)
            .set("ignore_public_acls", self.ignore_public_acls)
            .set("restrict_public_buckets", self.restrict_public_buckets)
    }
}

fn client(account: &Account, region: &str, counting: &Counting) -> aws_sdk_s3::Client {
    let config = account.config.clone().into_builder().region(aws_config::Region::new(region.to_string())).build();
    // Path-style addressing works with every endpoint, emulators included.
    let path_style = config.endpoint_url().is_some();
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&config).force_path_style(path_style).interceptor(counting.clone()).build())
}

/// Every bucket of the account with its region (`BucketRegion` of ListBuckets, else
/// GetBucketLocation).
pub async fn list_buckets(account: &Account, counting: &Counting, concurrency: usize) -> Result<Vec<(String, String)>, Failure> {
    let home = account.config.region().map(|r| r.to_string()).unwrap_or_default();
    let s3 = client(account, &home, counting);
    let pages = s3.list_buckets().into_paginator().send().collect::<Vec<_>>().await;
    let mut buckets = Vec::new();
    for page in pages {
        let page = page.map_err(|e| Failure::of("s3:ListBuckets", &e))?;
        buckets.extend(page.buckets().iter().filter_map(|b| Some((b.name()?.to_string(), b.bucket_region().map(str::to_string)))));
    }
    // Where ListBuckets leaves the region out, ask each bucket, several at a time.
    let located = futures::stream::iter(buckets)
        .map(|(name, region)| {
            let s3 = &s3;
            async move {
                match region {
                    Some(region) => Ok((name, region)),
                    None => bucket_location(s3, &name).await.map(|region| (name, region)),
                }
            }
        })
        .buffered(concurrency.max(1))
        .collect::<Vec<_>>()
        .await;
    let mut out = located.into_iter().collect::<Result<Vec<_>, _>>()?;
    out.sort();
    Ok(out)
}

async fn bucket_location(s3: &aws_sdk_s3::Client, name: &str) -> Result<String, Failure> {
    let answer = s3.get_bucket_location().bucket(name).send().await.map_err(|e| Failure::of("s3:GetBucketLocation", &e))?;
    // No constraint is us-east-1; `EU` is the legacy name of eu-west-1.
    Ok(match answer.location_constraint().map(|c| c.as_str()) {
        None | Some("") => "us-east-1".to_string(),
        Some("EU") => "eu-west-1".to_string(),
        Some(region) => region.to_string(),
    })
}

/// The account-level public access block (S3 Control), which applies to every bucket.
pub async fn account_public_access_block(account: &Account, counting: &Counting) -> Result<Option<PublicAccess>, Failure> {
    let control = aws_sdk_s3control::Client::from_conf(aws_sdk_s3control::config::Builder::from(&account.config).interceptor(counting.clone()).build());
    let answer = control.get_public_access_block().account_id(&account.id).send().await;
    let found = setting("s3control:GetPublicAccessBlock", answer, &["NoSuchPublicAccessBlockConfiguration"])?;
    Ok(found.and_then(|a| {
        a.public_access_block_configuration().map(|c| PublicAccess {
            block_public_acls: c.block_public_acls().unwrap_or(false),
            block_public_policy: c.block_public_policy().unwrap_or(false),
            ignore_public_acls: c.ignore_public_acls().unwrap_or(false),
            restrict_public_buckets: c.restrict_public_buckets().unwrap_or(false),
        })
    }))
}

/// Describes the buckets of the scope's region, with its keys, at most `scope.concurrency`
/// buckets at a time.
pub async fn collect(scope: &Scope, keys: &Keys, names: &[String], account_access: &Result<Option<PublicAccess>, Failure>) -> Model {
    let s3 = client(&scope.account, &scope.region, &scope.counting);
    let described =
        futures::stream::iter(names).map(|name| describe(scope, &s3, keys, name, account_access)).buffered(scope.concurrency).collect::<Vec<_>>().await;
    let mut model = Model::default();
    for resources in described {
        model.resources.extend(resources);
    }
    model
}

/// One bucket: every setting read with its own call, each unknown when its call failed.
async fn describe(
    scope: &Scope,
    s3: &aws_sdk_s3::Client,
    keys: &Keys,
    name: &str,
    account_access: &Result<Option<PublicAccess>, Failure>,
) -> Vec<crate::model::Resource> {
    let arn = format!("arn:{}:s3:::{name}", scope.account.partition);
    let (encryption, lock, versioning, access, lifecycle, replication, tags, policy) = futures::join!(
        s3.get_bucket_encryption().bucket(name).send(),
        s3.get_object_lock_configuration().bucket(name).send(),
        s3.get_bucket_versioning().bucket(name).send(),
        s3.get_public_access_block().bucket(name).send(),
        s3.get_bucket_lifecycle_configuration().bucket(name).send(),
        s3.get_bucket_replication().bucket(name).send(),
        s3.get_bucket_tagging().bucket(name).send(),
        s3.get_bucket_policy().bucket(name).send(),
    );
    let encryption = scope
        .setting(&arn, "s3:GetBucketEncryption", encryption, &["ServerSideEncryptionConfigurationNotFoundError"])
        .map(|e| e.and_then(|e| e.server_side_encryption_configuration().map(|c| encryption_value(c, keys))));
    let lock = scope
        .setting(&arn, "s3:GetObjectLockConfiguration", lock, &["ObjectLockConfigurationNotFoundError"])
        .map(|l| l.and_then(|l| l.object_lock_configuration().cloned()));
    let lock_enabled = lock.clone().map(|l| Some(Value::Bool(l.and_then(|c| c.object_lock_enabled().cloned()).is_some_and(|e| e.as_str() == "Enabled"))));
    let lock = lock.map(|l| l.map(|c| object_lock_value(&c)));
    let versioning = scope.setting(&arn, "s3:GetBucketVersioning", versioning, &[]).map(|v| {
        v.map(|v| {
            let status = v.status().map(|s| s.as_str().to_string()).unwrap_or_else(|| "Disabled".to_string());
            Value::List(vec![Attrs::new().block("versioning_configuration", Some(Attrs::new().set("status", status))).node()])
        })
    });
    let access = access_value(scope.setting(&arn, "s3:GetPublicAccessBlock", access, &["NoSuchPublicAccessBlockConfiguration"]), account_access);
    let lifecycle = scope
        .setting(&arn, "s3:GetBucketLifecycleConfiguration", lifecycle, &["NoSuchLifecycleConfiguration"])
        .map(|l| l.map(|l| Value::List(vec![Attrs::new().blocks("rule", l.rules().iter().map(lifecycle_rule)).node()])));
    let replication = scope
        .setting(&arn, "s3:GetBucketReplication", replication, &["ReplicationConfigurationNotFoundError"])
        .map(|r| r.and_then(|r| r.replication_configuration().cloned()));
    let tags = scope.setting(&arn, "s3:GetBucketTagging", tags, &["NoSuchTagSet", "NoSuchTagSetError"]).map(|t| {
        Some(match t {
            Some(t) => string_map(t.tag_set().iter().map(|tag| (tag.key(), tag.value()))),
            None => Value::Map(Vec::new()),
        })
    });
    let policy =
        scope.setting(&arn, "s3:GetBucketPolicy", policy, &["NoSuchBucketPolicy"]).map(|p| p.and_then(|p| p.policy().map(|text| Value::Str(text.to_string()))));

    let partition = &scope.account.partition;
    let replication_rules = |r: &aws_sdk_s3::types::ReplicationConfiguration| {
        Attrs::new().set("role", r.role()).blocks("rule", r.rules().iter().map(|rule| replication_rule(rule, partition)))
    };
    let mut resources = Vec::new();
    if let Ok(Some(config)) = &replication {
        let attrs = replication_rules(config).set("bucket", reference(&arn, "id"));
        resources.push(scope.resource("aws_s3_bucket_replication_configuration", format!("{arn}#replication"), attrs));
    }
    let attrs = Attrs::new()
        .set("id", name)
        .set("bucket", name)
        .set("arn", arn.as_str())
        .setting("tags", tags)
        .setting("server_side_encryption_configuration", encryption)
        .setting("object_lock_enabled", lock_enabled)
        .setting("object_lock_configuration", lock)
        .setting("versioning", versioning)
        .setting("public_access_block", access)
        .setting("lifecycle_configuration", lifecycle)
        .setting("replication_configuration", replication.map(|r| r.map(|r| Value::List(vec![replication_rules(&r).node()]))))
        .setting("policy", policy);
    resources.insert(0, scope.resource("aws_s3_bucket", arn, attrs));
    resources
}

/// An SSE-KMS key is in the bucket's region, so the region's keys name it.
fn encryption_value(config: &aws_sdk_s3::types::ServerSideEncryptionConfiguration, keys: &Keys) -> Value {
    let rules = config.rules().iter().map(|rule| {
        let default = rule
            .apply_server_side_encryption_by_default()
            .map(|d| Attrs::new().set("sse_algorithm", d.sse_algorithm().as_str()).set("kms_master_key_id", keys.reference(d.kms_master_key_id())));
        Attrs::new().block("apply_server_side_encryption_by_default", default).opt("bucket_key_enabled", rule.bucket_key_enabled())
    });
    Value::List(vec![Attrs::new().blocks("rule", rules).node()])
}

fn object_lock_value(config: &aws_sdk_s3::types::ObjectLockConfiguration) -> Value {
    let retention = config
        .rule()
        .and_then(|r| r.default_retention())
        .map(|d| Attrs::new().opt("mode", d.mode().map(|m| m.as_str())).opt("days", d.days()).opt("years", d.years()));
    let rule = retention.map(|r| Attrs::new().block("default_retention", Some(r)));
    let attrs = Attrs::new().opt("object_lock_enabled", config.object_lock_enabled().map(|e| e.as_str())).block("rule", rule);
    Value::List(vec![attrs.node()])
}

/// The bucket's own block combined with the account's; unknown when either could not be read.
fn access_value(
    bucket: Result<Option<aws_sdk_s3::operation::get_public_access_block::GetPublicAccessBlockOutput>, String>,
    account: &Result<Option<PublicAccess>, Failure>,
) -> Result<Option<Value>, String> {
    let account = account.as_ref().map_err(|f| f.to_string())?;
    let bucket = bucket?.and_then(|b| {
        b.public_access_block_configuration().map(|c| PublicAccess {
            block_public_acls: c.block_public_acls().unwrap_or(false),
            block_public_policy: c.block_public_policy().unwrap_or(false),
            ignore_public_acls: c.ignore_public_acls().unwrap_or(false),
            restrict_public_buckets: c.restrict_public_buckets().unwrap_or(false),
        })
    });
    Ok(match (bucket, *account) {
        (None, None) => None,
        (bucket, account) => Some(Value::List(vec![bucket.unwrap_or_default().or(account).attrs().node()])),
    })
}

fn lifecycle_rule(rule: &aws_sdk_s3::types::LifecycleRule) -> Attrs {
    let transitions = rule.transitions().iter().map(|t| Attrs::new().opt("days", t.days()).opt("storage_class", t.storage_class().map(|c| c.as_str())));
    let expiration = rule
        .expiration()
        .filter(|e| e.days().is_some() || e.date().is_some())
        .map(|e| Attrs::new().opt("days", e.days()).opt("date", e.date().map(|d| d.to_string())));
    Attrs::new().opt("id", rule.id()).set("status", rule.status().as_str()).blocks("transition", transitions).block("expiration", expiration)
}

/// A replication rule; the destination bucket is a reference to its ARN, so rules find it
/// when it is audited too (and can tell when it is not).
fn replication_rule(rule: &aws_sdk_s3::types::ReplicationRule, partition: &str) -> Attrs {
    let destination = rule.destination().map(|d| {
        let bucket = d.bucket();
        let bucket = if bucket.starts_with("arn:") { bucket.to_string() } else { format!("arn:{partition}:s3:::{bucket}") };
        Attrs::new().set("bucket", reference(&bucket, "arn")).opt("storage_class", d.storage_class().map(|c| c.as_str()))
    });
    Attrs::new().opt("id", rule.id()).set("status", rule.status().as_str()).block("destination", destination)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Node;
    use aws_sdk_s3::types::{DefaultRetention, ObjectLockConfiguration, ObjectLockEnabled, ObjectLockRetentionMode, ObjectLockRule};

    #[test]
    fn object_lock_reads_like_the_split_resource() {
        let retention = DefaultRetention::builder().mode(ObjectLockRetentionMode::Compliance).years(7).build();
        let config = ObjectLockConfiguration::builder()
            .object_lock_enabled(ObjectLockEnabled::Enabled)
            .rule(ObjectLockRule::builder().default_retention(retention).build())
            .build();
        let node = Node::new(object_lock_value(&config), None);
        assert_eq!(node.path("object_lock_enabled").and_then(Node::as_str), Some("Enabled"));
        assert_eq!(node.path("rule.default_retention.mode").and_then(Node::as_str), Some("COMPLIANCE"));
        assert_eq!(node.path("rule.default_retention.years").map(|n| &n.value), Some(&Value::Int(7)));
    }

    #[test]
    fn a_public_access_block_that_cannot_be_read_is_unknown() {
        let all = PublicAccess { block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true };
        let from_account = access_value(Ok(None), &Ok(Some(all))).unwrap().unwrap();
        assert_eq!(Node::new(from_account, None).path("restrict_public_buckets").map(|n| &n.value), Some(&Value::Bool(true)));
        assert_eq!(access_value(Ok(None), &Ok(None)), Ok(None));
        let denied = Failure::new("s3control:GetPublicAccessBlock", "AccessDenied: no");
        assert!(access_value(Ok(None), &Err(denied)).unwrap_err().contains("AccessDenied"));
        assert!(access_value(Err("s3:GetPublicAccessBlock failed: AccessDenied".into()), &Ok(None)).is_err());
    }

    #[test]
    fn account_settings_cover_buckets_without_their_own() {
        let none = PublicAccess::default();
        let all = PublicAccess { block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true };
        assert_eq!(none.or(Some(all)), all);
        assert_eq!(none.or(None), none);
        let acls = PublicAccess { block_public_acls: true, ..none };
        assert_eq!(acls.or(None), acls);
    }
}

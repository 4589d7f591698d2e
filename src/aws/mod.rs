//! The live AWS source (`charterguard audit aws`): reads what runs in one or more accounts,
//! in every enabled region, and normalises it into the resource model the Terraform source
//! produces (`aws_s3_bucket` with its split settings joined, `aws_security_group` with inline
//! `ingress` blocks, ...), so the same rule files judge code and live state.
//!
//! Every resource's address is its ARN and its origin says which account and region it runs
//! in. A call that fails (denied, throttled past the SDK's adaptive retries, timed out, a
//! region that does not answer) never turns into a pass: a failed list call becomes an
//! [`Unseen`] part of the account (every rule judging those types could not decide), a failed
//! per-resource call an unknown attribute (the rules reading it could not decide).
//!
//! Work is split into account × region units, shardable with `--shard I/N`; within a unit every
//! service runs at once, each with at most `--concurrency` calls in flight.

pub mod attrs;
mod call;
mod org;
mod progress;
mod session;
pub mod state;

mod compute;
mod data;
mod edge;
mod environments;
mod iam;
mod keys;
mod network;
mod s3;

use crate::model::{Diagnostic, LiveOrigin, Model, Resource, SourceKind, Span, Unseen};
use attrs::Attrs;
use call::{Counter, Counting, Failure};
use futures::StreamExt;
use session::Account;
use std::collections::BTreeMap;
use std::sync::Arc;

pub use environments::name_environments;
pub use org::Org;

/// What `audit aws` reads and how.
#[derive(Clone, Debug)]
pub struct Options {
    /// `--profile`: a named profile of the shared config files.
    pub profile: Option<String>,
    /// `--role-arn` (repeatable): one role per audited account.
    pub role_arns: Vec<String>,
    /// `--external-id` for assuming the roles.
    pub external_id: Option<String>,
    /// `--org`: the accounts of the organization instead of `role_arns`.
    pub org: Option<Org>,
    pub regions: Regions,
    /// `--endpoint-url`: send every call to this endpoint (an emulator).
    pub endpoint_url: Option<String>,
    pub shard: Shard,
    /// Accounts whose units of one region one shard audits together (production's and
    /// staging's: ENV-004 compares them).
    pub mirrored_accounts: Vec<String>,
    /// Calls in flight per service and region.
    pub concurrency: usize,
    /// Account × region units audited at once.
    pub units_in_flight: usize,
    /// Attempts per call, with the SDK's adaptive retry (client-side rate limiting on
    /// throttling).
    pub max_attempts: u32,
    /// Seconds one attempt may take.
    pub call_timeout_secs: u64,
    /// Where findings on resources no code manages point: the audit's configuration file.
    pub anchor: Span,
    /// Show progress on standard error.
    pub progress: bool,
}

/// Which regions to audit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Regions {
    /// Every region enabled for the account (EC2 DescribeRegions).
    Enabled,
    /// These regions (a region not enabled for the account is reported, not skipped).
    List(Vec<String>),
}

/// `--shard I/N`: this invocation audits the account × region units whose position in the
/// sorted work list is `I` modulo `N` (0-based), so `N` invocations together audit everything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Parses `I/N` with `0 <= I < N`.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let parsed = text.split_once('/').and_then(|(i, n)| Some((i.trim().parse::<usize>().ok()?, n.trim().parse::<usize>().ok()?)));
        match parsed {
            Some((index, count)) if count > 0 && index < count => Ok(Shard { index, count }),
            _ => Err(format!("`{text}` is not a shard: write I/N with 0 <= I < N, e.g. 0/4")),
        }
    }

    fn takes(&self, position: usize) -> bool {
        position % self.count == self.index
    }
}

/// The result of an audit: the live model, and how many calls it took.
pub struct Audit {
    pub model: Model,
    /// The accounts audited (ids), whether or not everything in them could be read.
    pub accounts: Vec<String>,
    /// Account × region units this invocation (shard) audited.
    pub units: usize,
    pub calls: u64,
    pub retries: u64,
}

/// Runs the audit to completion. Only a configuration that cannot work at all (no
/// credentials for the only account) is an `Err`; everything else is in the model.
pub fn audit(options: &Options) -> anyhow::Result<Audit> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(options))
}

/// The services audited in each account × region unit.
const SERVICES: &[&str] = &["kms", "ec2", "eks", "rds", "elasticache", "kafka", "ecr", "acm", "secretsmanager", "logs", "elbv2", "backup"];

/// The services audited once per account (see [`account_wide_owners`]).
const ACCOUNT_SERVICES: &[&str] = &["s3", "iam"];

async fn run(options: &Options) -> anyhow::Result<Audit> {
    let counter = Arc::new(Counter::default());
    let counting = Counting(counter.clone());
    let base = session::base_config(options).await;
    let mut model = Model::default();
    let roles = match &options.org {
        Some(org) => {
            let (roles, diagnostics) = org::roles(&base, org, session::partition(&base), &counting).await;
            model.diagnostics.extend(diagnostics);
            Some(roles)
        }
        None => Some(options.role_arns.clone()).filter(|roles| !roles.is_empty()),
    };
    let mut audited = Vec::new();
    let mut units: Vec<Unit> = Vec::new();
    let in_flight = options.units_in_flight.max(1);
    // Every shard reaches every account (a few calls each, several accounts at once): the
    // work list it takes its part of is the sorted units of all of them.
    let reached = futures::stream::iter(session::accounts(&base, roles.as_deref(), options, &counting, in_flight).await)
        .map(|(label, account)| {
            let counting = &counting;
            async move {
                match account {
                    Ok(account) => {
                        let regions = audited_regions(&account, options, counting).await;
                        (label, Ok((account, regions)))
                    }
                    Err(failure) => (label, Err(failure)),
                }
            }
        })
        .buffered(in_flight)
        .collect::<Vec<_>>()
        .await;
    for (label, account) in reached {
        let (account, regions) = match account {
            Ok((account, regions)) => (Arc::new(account), regions),
            // Without roles there is one account: credentials that do not work stop the audit.
            Err(failure) if roles.is_none() => anyhow::bail!("the AWS credentials do not work: {failure}"),
            Err(failure) => {
                whole_account_unseen(&mut model, &label, &failure, &options.anchor);
                audited.push(label);
                continue;
            }
        };
        audited.push(account.id.clone());
        match regions {
            Ok((regions, problems)) => {
                for (region, failure) in problems {
                    region_unseen(&mut model, &account, &region, &failure, &options.anchor);
                }
                units.extend(regions.into_iter().map(|region| (account.clone(), region)));
            }
            Err(failure) => whole_account_unseen(&mut model, &account.id, &failure, &options.anchor),
        }
    }
    let work = work_list(units, &options.mirrored_accounts);
    let mine: Vec<Unit> = work.iter().enumerate().filter(|(i, _)| options.shard.takes(*i)).flat_map(|(_, group)| group.clone()).collect();
    let owned = account_wide_owners(&work, options.shard);
    let progress = progress::Progress::new(mine.len() * SERVICES.len() + owned.len() * ACCOUNT_SERVICES.len(), counter.clone(), options.progress);

    // KMS first, everywhere: the other services name keys, resolved through each region's keys.
    let keyed: Vec<(Scope, Model, Arc<keys::Keys>)> = futures::stream::iter(mine.iter())
        .map(|(account, region)| {
            let scope = Scope::new(account.clone(), region, options, &counting);
            let progress = &progress;
            async move {
                let (part, keys) = keys::collect(&scope).await;
                progress.service_done();
                (scope, part, Arc::new(keys))
            }
        })
        .buffer_unordered(options.units_in_flight.max(1))
        .collect()
        .await;
    let keys: BTreeMap<(String, String), Arc<keys::Keys>> =
        keyed.iter().map(|(scope, _, keys)| ((scope.account.id.clone(), scope.region.clone()), keys.clone())).collect();
    let regional = futures::stream::iter(keyed)
        .map(|(scope, mut unit, keys)| {
            let progress = &progress;
            async move {
                unit.extend(audit_unit(&scope, &keys, progress).await);
                progress.unit_done(&scope.account.id, &scope.region, unit.resources.len(), unit.unseen.len());
                unit
            }
        })
        .buffer_unordered(options.units_in_flight.max(1))
        .collect::<Vec<Model>>();
    let account_wide = futures::stream::iter(owned.iter())
        .map(|account| {
            let (keys, progress, counting) = (&keys, &progress, &counting);
            let done = |part: Model| {
                progress.service_done();
                part
            };
            async move {
                let buckets = async { done(audit_buckets(account, keys, options, counting).await) };
                let roles = async { done(audit_roles(account, options, counting).await) };
                let (mut buckets, roles) = futures::join!(buckets, roles);
                buckets.extend(roles);
                buckets
            }
        })
        .buffer_unordered(options.units_in_flight.max(1))
        .collect::<Vec<Model>>();
    let (regional, account_wide) = futures::join!(regional, account_wide);
    progress.finish();
    for part in regional.into_iter().chain(account_wide) {
        model.extend(part);
    }
    // Units finish in any order: sort so reports do not depend on timing.
    model.resources.sort_by(|a, b| a.address.cmp(&b.address));
    model.unseen.sort();
    model.diagnostics.sort();
    Ok(Audit { model, accounts: audited, units: mine.len(), calls: counter.calls(), retries: counter.retries() })
}

/// One account × region: what one invocation audits at a time.
type Unit = (Arc<Account>, String);

/// The account × region units in the order shards take them: one unit per entry, except the
/// units of one region of `mirrored` accounts, which are one entry, so the shard that audits
/// one of them has the other to compare it with.
fn work_list(units: Vec<Unit>, mirrored: &[String]) -> Vec<Vec<Unit>> {
    let mut groups: BTreeMap<(String, String), Vec<Unit>> = BTreeMap::new();
    for (account, region) in units {
        let key = match mirrored.contains(&account.id) {
            true => mirrored.join("+"),
            false => account.id.clone(),
        };
        groups.entry((key, region.clone())).or_default().push((account, region));
    }
    groups
        .into_values()
        .map(|mut group| {
            group.sort_by(|a, b| a.0.id.cmp(&b.0.id));
            group
        })
        .collect()
}

/// The accounts whose account-wide services this invocation audits. S3 is one service for the
/// whole account (replication joins buckets across regions) and IAM is global, so all of an
/// account's buckets and roles go with the first entry of the work list that holds one of its
/// units: the shard that audits that entry audits them all.
fn account_wide_owners(work: &[Vec<Unit>], shard: Shard) -> Vec<Arc<Account>> {
    let mut seen = std::collections::HashSet::new();
    let mut owners = Vec::new();
    for (i, group) in work.iter().enumerate() {
        for (account, _) in group {
            if seen.insert(account.id.clone()) && shard.takes(i) {
                owners.push(account.clone());
            }
        }
    }
    owners
}

/// Every bucket of the account, each described in its own region with that region's keys
/// (those this invocation read already, else read now for their index only).
async fn audit_buckets(account: &Arc<Account>, keys: &BTreeMap<(String, String), Arc<keys::Keys>>, options: &Options, counting: &Counting) -> Model {
    let mut model = Model::default();
    let account_access = s3::account_public_access_block(account, counting).await;
    if let Err(failure) = &account_access {
        let message = format!("{failure} in account {}; the public access block of its buckets (DATA-003) could not be decided", account.id);
        model.diagnostics.push(Diagnostic::incomplete("", message));
    }
    let listed = match s3::list_buckets(account, counting, options.concurrency).await {
        Ok(listed) => listed,
        Err(failure) => {
            region_unseen_types(&mut model, account, "*", &failure, &["aws_s3_bucket"], &options.anchor, "s3", ":::*");
            return model;
        }
    };
    let mut by_region: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, region) in listed {
        by_region.entry(region).or_default().push(name);
    }
    for (region, names) in by_region {
        let scope = Scope::new(account.clone(), &region, options, counting);
        let region_keys = match keys.get(&(account.id.clone(), region.clone())) {
            Some(keys) => keys.clone(),
            None => {
                // A region no unit of this invocation audits: its keys, for their index only
                // (a failure to list them is reported: it leaves the buckets' keys unknown).
                let (part, keys) = keys::collect(&scope).await;
                model.diagnostics.extend(part.diagnostics);
                Arc::new(keys)
            }
        };
        model.extend(s3::collect(&scope, &region_keys, &names, &account_access).await);
        model.diagnostics.extend(scope.failure_diagnostics());
    }
    model
}

/// Every role of the account, asked where its credentials' region sends IAM calls.
async fn audit_roles(account: &Arc<Account>, options: &Options, counting: &Counting) -> Model {
    let home = account.config.region().map(|r| r.to_string()).unwrap_or_default();
    iam::collect(&Scope::new(account.clone(), &home, options, counting)).await
}

/// The regions to audit in an account and the requested ones that cannot be audited (not
/// enabled, unknown).
async fn audited_regions(account: &Account, options: &Options, counting: &Counting) -> Result<(Vec<String>, Vec<(String, Failure)>), Failure> {
    let known = session::regions(account, counting).await;
    match (&options.regions, known) {
        (Regions::Enabled, Ok(known)) => Ok((known.into_iter().filter(|r| r.enabled).map(|r| r.name).collect(), Vec::new())),
        (Regions::Enabled, Err(failure)) => Err(failure),
        (Regions::List(list), Ok(known)) => {
            let mut regions = Vec::new();
            let mut problems = Vec::new();
            for name in list {
                match known.iter().find(|r| &r.name == name) {
                    Some(r) if r.enabled => regions.push(name.clone()),
                    Some(_) => {
                        problems.push((name.clone(), Failure::new("ec2:DescribeRegions", format!("region {name} is not enabled for account {}", account.id))))
                    }
                    None => {
                        problems.push((name.clone(), Failure::new("ec2:DescribeRegions", format!("region {name} is not a region of account {}", account.id))))
                    }
                }
            }
            Ok((regions, problems))
        }
        // The list cannot be checked: audit it as given; a region that does not answer fails
        // its own calls.
        (Regions::List(list), Err(_)) => Ok((list.clone(), Vec::new())),
    }
}

/// Every resource type the AWS source produces: what an account or region that cannot be
/// read at all hides.
const ALL_TYPES: &[&str] = &[
    "aws_acm_certificate",
    "aws_backup_plan",
    "aws_backup_selection",
    "aws_cloudwatch_log_group",
    "aws_db_instance",
    "aws_db_instance_automated_backups_replication",
    "aws_db_parameter_group",
    "aws_db_subnet_group",
    "aws_default_route_table",
    "aws_default_security_group",
    "aws_default_subnet",
    "aws_default_vpc",
    "aws_ebs_volume",
    "aws_ec2_transit_gateway_peering_attachment",
    "aws_ec2_transit_gateway_vpc_attachment_accepter",
    "aws_ecr_lifecycle_policy",
    "aws_ecr_registry_scanning_configuration",
    "aws_ecr_replication_configuration",
    "aws_ecr_repository",
    "aws_ecr_repository_policy",
    "aws_eks_cluster",
    "aws_eks_node_group",
    "aws_elasticache_cluster",
    "aws_elasticache_replication_group",
    "aws_elasticache_subnet_group",
    "aws_iam_role",
    "aws_instance",
    "aws_kms_key",
    "aws_kms_replica_key",
    "aws_launch_template",
    "aws_lb",
    "aws_lb_listener",
    "aws_msk_cluster",
    "aws_msk_replicator",
    "aws_rds_cluster",
    "aws_rds_cluster_instance",
    "aws_route_table",
    "aws_route_table_association",
    "aws_s3_bucket",
    "aws_s3_bucket_replication_configuration",
    "aws_secretsmanager_secret",
    "aws_secretsmanager_secret_rotation",
    "aws_security_group",
    "aws_subnet",
    "aws_vpc",
    "aws_vpc_endpoint",
    "aws_vpc_peering_connection",
];

fn whole_account_unseen(model: &mut Model, account: &str, failure: &Failure, anchor: &Span) {
    let origin = LiveOrigin { id: format!("arn:aws:*:*:{account}:*"), scope: account.to_string(), region: None, managed_by: None, environment: None };
    push_unseen(model, origin, failure, ALL_TYPES, anchor);
}

fn region_unseen(model: &mut Model, account: &Account, region: &str, failure: &Failure, anchor: &Span) {
    region_unseen_types(model, account, region, failure, ALL_TYPES, anchor, "*", ":*");
}

/// What one failed call hides: `service` and `what` build the pattern it is named by
/// (`arn:aws:rds:ap-south-1:123456789012:db:*`).
#[allow(clippy::too_many_arguments)]
fn region_unseen_types(model: &mut Model, account: &Account, region: &str, failure: &Failure, types: &[&str], anchor: &Span, service: &str, what: &str) {
    let id = match what.strip_prefix(":::") {
        Some(rest) => format!("arn:{}:{service}:::{rest} (account {})", account.partition, account.id),
        None => format!("arn:{}:{service}:{region}:{}{what}", account.partition, account.id),
    };
    let origin = LiveOrigin { id, scope: account.id.clone(), region: Some(region.to_string()), managed_by: None, environment: None };
    push_unseen(model, origin, failure, types, anchor);
}

fn push_unseen(model: &mut Model, origin: LiveOrigin, failure: &Failure, types: &[&str], anchor: &Span) {
    let reason = format!("could not be read ({failure})");
    model.diagnostics.push(Diagnostic::incomplete("", format!("{}: {failure}; the rules judging {} there could not decide", origin.id, types.join(", "))));
    model.unseen.push(Unseen {
        source: SourceKind::Aws,
        origin,
        resource_types: types.iter().map(|t| t.to_string()).collect(),
        rule: None,
        reason,
        span: anchor.clone(),
    });
}

/// One account × region unit, its keys read: every regional service at once.
async fn audit_unit(scope: &Scope, keys: &keys::Keys, progress: &progress::Progress) -> Model {
    let done = |part: Model| {
        progress.service_done();
        part
    };
    let parts = futures::join!(
        async { done(network::collect(scope, keys).await) },
        async { done(compute::collect_eks(scope, keys).await) },
        async { done(data::collect_rds(scope, keys).await) },
        async { done(data::collect_elasticache(scope, keys).await) },
        async { done(data::collect_msk(scope, keys).await) },
        async { done(compute::collect_ecr(scope, keys).await) },
        async { done(edge::collect_acm(scope).await) },
        async { done(data::collect_secrets(scope, keys).await) },
        async { done(data::collect_logs(scope, keys).await) },
        async { done(edge::collect_elbv2(scope).await) },
        async { done(data::collect_backup(scope).await) },
    );
    let (a, b, c, d, e, f, g, h, i, j, k) = parts;
    let mut model = Model::default();
    for part in [a, b, c, d, e, f, g, h, i, j, k] {
        model.extend(part);
    }
    model.diagnostics.extend(scope.failure_diagnostics());
    model
}

/// One account × region: the clients' configuration and how resources found there are named.
pub(crate) struct Scope {
    pub account: Arc<Account>,
    pub region: String,
    pub config: aws_config::SdkConfig,
    pub counting: Counting,
    pub anchor: Span,
    pub concurrency: usize,
    /// Per-resource calls that failed, by failure: the resources whose attribute is unknown.
    failures: std::sync::Mutex<BTreeMap<(&'static str, String), Vec<String>>>,
}

impl Scope {
    fn new(account: Arc<Account>, region: &str, options: &Options, counting: &Counting) -> Self {
        let config = account.config.clone().into_builder().region(aws_config::Region::new(region.to_string())).build();
        Scope {
            account,
            region: region.to_string(),
            config,
            counting: counting.clone(),
            anchor: options.anchor.clone(),
            concurrency: options.concurrency.max(1),
            failures: Default::default(),
        }
    }

    /// What a per-resource call gave (see [`call::setting`]); a failure is recorded against
    /// `address`, for the audit's list of calls that failed, and becomes the unknown
    /// attribute's reason.
    pub fn setting<T, E, R>(
        &self,
        address: &str,
        call: &'static str,
        result: Result<T, aws_smithy_runtime_api::client::result::SdkError<E, R>>,
        absent_codes: &[&str],
    ) -> Result<Option<T>, String>
    where
        E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        call::setting(call, result, absent_codes).map_err(|failure| self.failed(address, failure))
    }

    /// Records that a per-resource call failed; returns the unknown attribute's reason.
    pub fn failed(&self, address: &str, failure: Failure) -> String {
        let reason = failure.to_string();
        let mut failures = self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        failures.entry((failure.call, failure.reason)).or_default().push(address.to_string());
        reason
    }

    /// One diagnostic per distinct failure of per-resource calls, naming (some of) the
    /// resources it hid part of.
    fn failure_diagnostics(&self) -> Vec<Diagnostic> {
        let failures = self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        failures
            .iter()
            .map(|((call, reason), addresses)| {
                let shown: Vec<&str> = addresses.iter().take(5).map(String::as_str).collect();
                let more = if addresses.len() > shown.len() { format!(" and {} more", addresses.len() - shown.len()) } else { String::new() };
                let account = &self.account.id;
                let message = format!(
                    "{call} failed in account {account} {} ({reason}) for {}{more}; the rules reading what it returns could not decide",
                    self.region,
                    shown.join(", ")
                );
                Diagnostic::incomplete("", message)
            })
            .collect()
    }

    /// `arn:<partition>:<service>:<region>:<account>:<resource>`.
    pub fn arn(&self, service: &str, resource: &str) -> String {
        format!("arn:{}:{service}:{}:{}:{resource}", self.account.partition, self.region, self.account.id)
    }

    /// A live resource found in this scope, addressed by `address` (its ARN). `attrs` gets
    /// `__region`, where it runs.
    pub fn resource(&self, rtype: &str, address: String, attrs: Attrs) -> Resource {
        self.resource_in(rtype, address, attrs, &self.region)
    }

    /// A live resource of this account in `region` (S3 buckets are listed account-wide).
    pub fn resource_in(&self, rtype: &str, address: String, attrs: Attrs, region: &str) -> Resource {
        let attrs = attrs.set("__region", region);
        let origin = LiveOrigin { id: address.clone(), scope: self.account.id.clone(), region: Some(region.to_string()), managed_by: None, environment: None };
        Resource {
            source: SourceKind::Aws,
            rtype: rtype.to_string(),
            address,
            span: self.anchor.clone(),
            attrs: attrs.node(),
            template: None,
            render: None,
            call_chain: Vec::new(),
            live: Some(Arc::new(origin)),
            join_scope: None,
        }
    }

    /// Records that a list call failed: the resources of `types` in this scope are unseen.
    pub fn unseen(&self, model: &mut Model, failure: &Failure, types: &[&str], service: &str, what: &str) {
        region_unseen_types(model, &self.account, &self.region, failure, types, &self.anchor, service, what);
    }
}

/// A scope of account 123456789012 for unit tests of the normalisers.
#[cfg(test)]
pub(crate) fn test_scope(region: &str) -> Scope {
    let config = aws_config::SdkConfig::builder().region(aws_config::Region::new(region.to_string())).build();
    let account = Arc::new(Account { id: "123456789012".into(), partition: "aws".into(), config: config.clone() });
    Scope {
        account,
        region: region.to_string(),
        config,
        counting: Counting(Arc::new(Counter::default())),
        anchor: Span::new("charterguard.yaml".into(), 1, 1, 1, 1),
        concurrency: 2,
        failures: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_split_the_work_list() {
        assert_eq!(Shard::parse("1/4"), Ok(Shard { index: 1, count: 4 }));
        assert!(Shard::parse("4/4").is_err());
        assert!(Shard::parse("x").is_err());
        assert!(Shard::parse("0/0").is_err());
        let taken: Vec<usize> = (0..10).filter(|i| Shard { index: 1, count: 3 }.takes(*i)).collect();
        assert_eq!(taken, [1, 4, 7]);
        let all: usize = (0..3).map(|s| (0..10).filter(|i| Shard { index: s, count: 3 }.takes(*i)).count()).sum();
        assert_eq!(all, 10);
    }

    /// What an account that cannot be read hides is every type the source makes.
    #[test]
    fn all_types_are_the_types_the_source_makes() {
        let sources = [
            include_str!("compute.rs"),
            include_str!("data.rs"),
            include_str!("edge.rs"),
            include_str!("iam.rs"),
            include_str!("keys.rs"),
            include_str!("network.rs"),
            include_str!("s3.rs"),
        ];
        let quoted = regex::Regex::new(r#""(aws_[a-z0-9_]+)""#).unwrap();
        let made: std::collections::BTreeSet<&str> = sources.iter().flat_map(|text| quoted.captures_iter(text).map(|c| c.get(1).unwrap().as_str())).collect();
        let listed: std::collections::BTreeSet<&str> = ALL_TYPES.iter().copied().collect();
        assert_eq!(listed, made);
    }

    #[test]
    fn one_shard_audits_a_region_of_production_and_staging_together() {
        let config = test_scope("ap-south-1").config;
        let account = |id: &str| Arc::new(Account { id: id.into(), partition: "aws".into(), config: config.clone() });
        let (production, staging, other) = (account("111111111111"), account("222222222222"), account("333333333333"));
        let mut units = Vec::new();
        for account in [&production, &staging, &other] {
            for region in ["ap-south-1", "ap-south-2"] {
                units.push((account.clone(), region.to_string()));
            }
        }
        let work = work_list(units, &["111111111111".into(), "222222222222".into()]);
        let ids = |group: &Vec<Unit>| group.iter().map(|(a, r)| format!("{} {r}", a.id)).collect::<Vec<_>>().join(", ");
        let listed: Vec<String> = work.iter().map(ids).collect();
        assert_eq!(
            listed,
            [
                "111111111111 ap-south-1, 222222222222 ap-south-1",
                "111111111111 ap-south-2, 222222222222 ap-south-2",
                "333333333333 ap-south-1",
                "333333333333 ap-south-2"
            ]
        );
        // Each account's buckets go with the first entry holding one of its units.
        let owners = |index: usize| account_wide_owners(&work, Shard { index, count: 2 }).iter().map(|a| a.id.clone()).collect::<Vec<_>>();
        assert_eq!((owners(0), owners(1)), (vec!["111111111111".to_string(), "222222222222".to_string(), "333333333333".to_string()], vec![]));
    }
}

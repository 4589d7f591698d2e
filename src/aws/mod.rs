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
mod progress;
mod session;
pub mod state;

mod compute;
mod data;
mod edge;
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

/// What `audit aws` reads and how.
#[derive(Clone, Debug)]
pub struct Options {
    /// `--profile`: a named profile of the shared config files.
    pub profile: Option<String>,
    /// `--role-arn` (repeatable): one role per audited account.
    pub role_arns: Vec<String>,
    /// `--external-id` for assuming the roles.
    pub external_id: Option<String>,
    pub regions: Regions,
    /// `--endpoint-url`: send every call to this endpoint (an emulator).
    pub endpoint_url: Option<String>,
    pub shard: Shard,
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

/// The services audited in each account × region unit, in the order progress names them.
const SERVICES: &[&str] = &["kms", "s3", "ec2", "eks", "rds", "elasticache", "kafka", "ecr", "acm", "secretsmanager", "logs", "elbv2", "backup"];

async fn run(options: &Options) -> anyhow::Result<Audit> {
    let counter = Arc::new(Counter::default());
    let counting = Counting(counter.clone());
    let base = session::base_config(options).await;
    let mut model = Model::default();
    let mut audited = Vec::new();
    let mut units: Vec<(Arc<Account>, String)> = Vec::new();
    for (label, account) in session::accounts(&base, options, &counting).await {
        let account = match account {
            Ok(account) => Arc::new(account),
            // Without roles there is one account: credentials that do not work stop the audit.
            Err(failure) if options.role_arns.is_empty() => anyhow::bail!("the AWS credentials do not work: {failure}"),
            Err(failure) => {
                whole_account_unseen(&mut model, &label, &failure, &options.anchor);
                audited.push(label);
                continue;
            }
        };
        audited.push(account.id.clone());
        match audited_regions(&account, options, &counting).await {
            Ok((regions, problems)) => {
                for (region, failure) in problems {
                    region_unseen(&mut model, &account, &region, &failure, &options.anchor);
                }
                units.extend(regions.into_iter().map(|region| (account.clone(), region)));
            }
            Err(failure) => whole_account_unseen(&mut model, &account.id, &failure, &options.anchor),
        }
    }
    units.sort_by(|a, b| (&a.0.id, &a.1).cmp(&(&b.0.id, &b.1)));
    let mine: Vec<(Arc<Account>, String)> = units.iter().enumerate().filter(|(i, _)| options.shard.takes(*i)).map(|(_, unit)| unit.clone()).collect();
    let (buckets, account_access) = assign_buckets(&mut model, &units, &mine, options, &counting).await;

    let progress = progress::Progress::new(mine.len() * SERVICES.len(), counter.clone(), options.progress);
    let results: Vec<Model> = futures::stream::iter(mine.iter())
        .map(|(account, region)| {
            let scope = Scope::new(account.clone(), region, options, &counting);
            let buckets = buckets.get(&(account.id.clone(), region.clone())).cloned().unwrap_or_default();
            let access = account_access.get(&account.id).cloned().unwrap_or(Ok(None));
            let progress = &progress;
            async move {
                let unit = audit_unit(&scope, buckets, access, progress).await;
                progress.unit_done(&account.id, &scope.region, unit.resources.len(), unit.unseen.len());
                unit
            }
        })
        .buffer_unordered(options.units_in_flight.max(1))
        .collect()
        .await;
    progress.finish();
    for unit in results {
        model.extend(unit);
    }
    // Units finish in any order: sort so reports do not depend on timing.
    model.resources.sort_by(|a, b| a.address.cmp(&b.address));
    model.unseen.sort();
    model.diagnostics.sort();
    Ok(Audit { model, accounts: audited, units: mine.len(), calls: counter.calls(), retries: counter.retries() })
}

/// Buckets by the unit that audits them, with the account-level public access block of
/// every account this invocation audits. Buckets are listed once per account and go with the
/// unit of their region; those in a region no unit audits go with the account's first unit,
/// so none is missed.
#[allow(clippy::type_complexity)]
async fn assign_buckets(
    model: &mut Model,
    units: &[(Arc<Account>, String)],
    mine: &[(Arc<Account>, String)],
    options: &Options,
    counting: &Counting,
) -> (BTreeMap<(String, String), Vec<(String, Vec<String>)>>, BTreeMap<String, Result<Option<s3::PublicAccess>, Failure>>) {
    let mut buckets: BTreeMap<(String, String), BTreeMap<String, Vec<String>>> = BTreeMap::new();
    let mut access = BTreeMap::new();
    let mut accounts: Vec<&Arc<Account>> = mine.iter().map(|(a, _)| a).collect();
    accounts.dedup_by(|a, b| a.id == b.id);
    for account in accounts {
        let regions: Vec<&String> = units.iter().filter(|(a, _)| a.id == account.id).map(|(_, r)| r).collect();
        match s3::list_buckets(account, counting).await {
            Ok(listed) => {
                for (name, region) in listed {
                    let unit = if regions.contains(&&region) { region.clone() } else { regions.first().map(|r| r.to_string()).unwrap_or_default() };
                    if mine.iter().any(|(a, r)| a.id == account.id && *r == unit) {
                        buckets.entry((account.id.clone(), unit)).or_default().entry(region).or_default().push(name);
                    }
                }
            }
            Err(failure) => region_unseen_types(model, account, "*", &failure, &["aws_s3_bucket"], &options.anchor, "s3", ":::*"),
        }
        access.insert(account.id.clone(), s3::account_public_access_block(account, counting).await);
    }
    let buckets = buckets.into_iter().map(|(unit, by_region)| (unit, by_region.into_iter().collect())).collect();
    (buckets, access)
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
                    Some(_) => problems.push((name.clone(), Failure::new("ec2:DescribeRegions", format!("region {name} is not enabled for account {}", account.id)))),
                    None => problems.push((name.clone(), Failure::new("ec2:DescribeRegions", format!("region {name} is not a region of account {}", account.id)))),
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
    "aws_s3_bucket",
    "aws_kms_key",
    "aws_kms_replica_key",
    "aws_vpc",
    "aws_subnet",
    "aws_route_table",
    "aws_security_group",
    "aws_vpc_endpoint",
    "aws_ebs_volume",
    "aws_instance",
    "aws_launch_template",
    "aws_eks_cluster",
    "aws_eks_node_group",
    "aws_db_instance",
    "aws_rds_cluster",
    "aws_db_parameter_group",
    "aws_elasticache_replication_group",
    "aws_elasticache_cluster",
    "aws_msk_cluster",
    "aws_ecr_repository",
    "aws_acm_certificate",
    "aws_secretsmanager_secret",
    "aws_cloudwatch_log_group",
    "aws_lb",
    "aws_lb_listener",
    "aws_backup_plan",
];

fn whole_account_unseen(model: &mut Model, account: &str, failure: &Failure, anchor: &Span) {
    let origin = LiveOrigin { id: format!("arn:aws:*:*:{account}:*"), scope: account.to_string(), region: None, managed_by: None };
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
    let origin = LiveOrigin { id, scope: account.id.clone(), region: Some(region.to_string()), managed_by: None };
    push_unseen(model, origin, failure, types, anchor);
}

fn push_unseen(model: &mut Model, origin: LiveOrigin, failure: &Failure, types: &[&str], anchor: &Span) {
    let reason = format!("could not be read ({failure})");
    model.diagnostics.push(Diagnostic::incomplete(
        "",
        format!("{}: {failure}; the rules judging {} there could not decide", origin.id, types.join(", ")),
    ));
    model.unseen.push(Unseen {
        source: SourceKind::Aws,
        origin,
        resource_types: types.iter().map(|t| t.to_string()).collect(),
        rule: None,
        reason,
        span: anchor.clone(),
    });
}

/// One account × region unit: KMS first (the other services name keys, which are
/// normalised through the key index), then every other service at once.
async fn audit_unit(
    scope: &Scope,
    buckets: Vec<(String, Vec<String>)>,
    public_access: Result<Option<s3::PublicAccess>, Failure>,
    progress: &progress::Progress,
) -> Model {
    let (mut model, keys) = keys::collect(scope).await;
    progress.service_done();
    let parts = futures::join!(
        async {
            let part = s3::collect(scope, &keys, &buckets, &public_access).await;
            progress.service_done();
            part
        },
        async {
            let part = network::collect(scope, &keys).await;
            progress.service_done();
            part
        },
        async {
            let part = compute::collect_eks(scope, &keys).await;
            progress.service_done();
            part
        },
        async {
            let part = data::collect_rds(scope, &keys).await;
            progress.service_done();
            part
        },
        async {
            let part = data::collect_elasticache(scope, &keys).await;
            progress.service_done();
            part
        },
        async {
            let part = data::collect_msk(scope, &keys).await;
            progress.service_done();
            part
        },
        async {
            let part = compute::collect_ecr(scope, &keys).await;
            progress.service_done();
            part
        },
        async {
            let part = edge::collect_acm(scope).await;
            progress.service_done();
            part
        },
        async {
            let part = data::collect_secrets(scope, &keys).await;
            progress.service_done();
            part
        },
        async {
            let part = data::collect_logs(scope, &keys).await;
            progress.service_done();
            part
        },
        async {
            let part = edge::collect_elbv2(scope).await;
            progress.service_done();
            part
        },
        async {
            let part = data::collect_backup(scope).await;
            progress.service_done();
            part
        },
    );
    let (a, b, c, d, e, f, g, h, i, j, k, l) = parts;
    for part in [a, b, c, d, e, f, g, h, i, j, k, l] {
        model.extend(part);
    }
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
}

impl Scope {
    fn new(account: Arc<Account>, region: &str, options: &Options, counting: &Counting) -> Self {
        let config = account.config.clone().into_builder().region(aws_config::Region::new(region.to_string())).build();
        Scope { account, region: region.to_string(), config, counting: counting.clone(), anchor: options.anchor.clone(), concurrency: options.concurrency.max(1) }
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
        let origin = LiveOrigin { id: address.clone(), scope: self.account.id.clone(), region: Some(region.to_string()), managed_by: None };
        Resource {
            source: SourceKind::Aws,
            rtype: rtype.to_string(),
            address,
            span: self.anchor.clone(),
            attrs: attrs.node(),
            template: None,
            call_chain: Vec::new(),
            live: Some(Arc::new(origin)),
        }
    }

    /// Records that a list call failed: the resources of `types` in this scope are unseen.
    pub fn unseen(&self, model: &mut Model, failure: &Failure, types: &[&str], service: &str, what: &str) {
        region_unseen_types(model, &self.account, &self.region, failure, types, &self.anchor, service, what);
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
}

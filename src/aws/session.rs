//! Credentials, accounts and regions: the standard AWS credential chain (environment,
//! profiles, SSO, web identity for GitHub OIDC, instance roles), one assumed role per audited
//! account, adaptive retries, bounded timeouts, and the regions each account has enabled.

use super::call::{Counting, Failure};
use super::Options;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::client::dns::{DnsFuture, ResolveDns, ResolveDnsError};
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use futures::StreamExt;
use std::time::Duration;

/// Where STS and EC2 DescribeRegions are asked when neither the environment nor the profile
/// names a region.
const HOME_REGION: &str = "ap-south-1";

/// One audited account and the configuration whose credentials reach it.
#[derive(Clone, Debug)]
pub struct Account {
    pub id: String,
    /// `aws`, `aws-cn` or `aws-us-gov`, for building ARNs.
    pub partition: String,
    pub config: SdkConfig,
}

/// The configuration every client starts from: the credential chain (or `--profile`),
/// adaptive retries with `--max-attempts`, and timeouts that keep a dead region from hanging
/// the audit.
pub async fn base_config(options: &Options) -> SdkConfig {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(10))
        .operation_attempt_timeout(Duration::from_secs(options.call_timeout_secs))
        .operation_timeout(Duration::from_secs(options.call_timeout_secs * u64::from(options.max_attempts.max(1)) + 30))
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::adaptive().with_max_attempts(options.max_attempts.max(1)))
        .timeout_config(timeouts);
    if let Some(profile) = &options.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(url) = &options.endpoint_url {
        loader = loader.endpoint_url(url.clone()).http_client(endpoint_client(url));
    }
    let config = loader.load().await;
    if config.region().is_some() {
        return config;
    }
    config.into_builder().region(Region::new(HOME_REGION)).build()
}

/// With `--endpoint-url`, every request must reach that one endpoint, also the operations
/// whose host name the SDK prefixes (S3 Control puts the account id in front of the host):
/// a resolver sends `<prefix>.<endpoint host>` to the endpoint host's address.
fn endpoint_client(url: &str) -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    let host = url.split("://").nth(1).unwrap_or(url).split(['/', ':']).next().unwrap_or_default().to_string();
    aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(aws_smithy_http_client::tls::rustls_provider::CryptoMode::AwsLc))
        .build_with_resolver(EndpointResolver { host })
}

#[derive(Clone, Debug)]
struct EndpointResolver {
    host: String,
}

impl ResolveDns for EndpointResolver {
    fn resolve_dns<'a>(&'a self, name: &'a str) -> DnsFuture<'a> {
        let target = match name.strip_suffix(self.host.as_str()) {
            Some(prefix) if prefix.is_empty() || prefix.ends_with('.') => self.host.clone(),
            _ => name.to_string(),
        };
        DnsFuture::new(async move {
            let addresses = tokio::net::lookup_host((target.as_str(), 0)).await.map_err(ResolveDnsError::new)?;
            Ok(addresses.map(|a| a.ip()).collect())
        })
    }
}

/// The accounts to audit: one per role (`--role-arn`, or each account of `--org`), assumed
/// with `--external-id`, `in_flight` at once and in the roles' order; without roles, the one
/// the credentials belong to. An account whose role cannot be assumed is returned as the
/// failure, so the audit reports it and goes on with the others.
pub async fn accounts(
    base: &SdkConfig,
    roles: Option<&[String]>,
    options: &Options,
    counter: &Counting,
    in_flight: usize,
) -> Vec<(String, Result<Account, Failure>)> {
    let Some(roles) = roles else {
        let account = identify(base.clone(), counter).await;
        let label = account.as_ref().map(|a| a.id.clone()).unwrap_or_else(|_| "(the credentials' account)".to_string());
        return vec![(label, account)];
    };
    futures::stream::iter(roles).map(|role| assume(base, role, options.external_id.as_deref(), counter)).buffered(in_flight.max(1)).collect().await
}

/// The account of `role`, labelled by the account id its ARN names.
async fn assume(base: &SdkConfig, role: &str, external_id: Option<&str>, counter: &Counting) -> (String, Result<Account, Failure>) {
    let mut builder = aws_config::sts::AssumeRoleProvider::builder(role).session_name("charterguard-audit").configure(base);
    if let Some(external_id) = external_id {
        builder = builder.external_id(external_id);
    }
    let provider = builder.build().await;
    let config = base.clone().into_builder().credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(provider)).build();
    let label = role.split(':').nth(4).filter(|id| !id.is_empty()).unwrap_or(role).to_string();
    (label, identify(config, counter).await)
}

/// `aws`, `aws-cn` or `aws-us-gov`: the partition of the credentials' region.
pub fn partition(config: &SdkConfig) -> &'static str {
    crate::terraform::data_sources::partition_of(config.region().map_or(HOME_REGION, |r| r.as_ref()))
}

/// Asks STS who the credentials are: the account id, and proof that they work at all.
async fn identify(config: SdkConfig, counter: &Counting) -> Result<Account, Failure> {
    let sts = aws_sdk_sts::Client::from_conf(aws_sdk_sts::config::Builder::from(&config).interceptor(counter.clone()).build());
    let identity = sts.get_caller_identity().send().await.map_err(|e| Failure::of("sts:GetCallerIdentity", &e))?;
    let id = identity.account().unwrap_or_default().to_string();
    Ok(Account { id, partition: partition(&config).to_string(), config })
}

/// A region of the account, as EC2 DescribeRegions reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegionStatus {
    pub name: String,
    /// False for opt-in regions the account has not enabled.
    pub enabled: bool,
}

/// Every region EC2 knows for the account, with whether it is enabled.
pub async fn regions(account: &Account, counter: &Counting) -> Result<Vec<RegionStatus>, Failure> {
    let ec2 = aws_sdk_ec2::Client::from_conf(aws_sdk_ec2::config::Builder::from(&account.config).interceptor(counter.clone()).build());
    let answer = ec2.describe_regions().all_regions(true).send().await.map_err(|e| Failure::of("ec2:DescribeRegions", &e))?;
    let mut regions: Vec<RegionStatus> = answer
        .regions()
        .iter()
        .filter_map(|r| {
            let name = r.region_name()?.to_string();
            Some(RegionStatus { name, enabled: r.opt_in_status() != Some("not-opted-in") })
        })
        .collect();
    regions.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(regions)
}

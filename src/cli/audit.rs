//! `charterguard audit aws|k8s`: the nightly drift audit of what runs live, judged by the same
//! rules as the code.

use super::ReportArgs;
use anyhow::{Context as _, Result};
#[cfg(feature = "aws")]
use charterguard::model::Diagnostic;
use charterguard::model::{Model, Span};
use charterguard::scan::{self, Judging};
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Subcommand)]
pub enum Target {
    /// Audit live AWS accounts: every enabled region, every rule whose sources include `aws`.
    #[cfg(feature = "aws")]
    Aws(Box<AwsArgs>),
    /// Audit a live Kubernetes cluster: every rule whose sources include `eks`.
    #[cfg(feature = "k8s-live")]
    K8s(Box<K8sArgs>),
}

/// Options every live audit takes.
#[derive(clap::Args)]
pub struct LiveArgs {
    /// Attempts per call: throttling (429), 5xx answers and dropped connections are retried
    /// with backoff (AWS: the SDK's adaptive retry, which slows the client down).
    #[arg(long, default_value_t = 5)]
    max_attempts: u32,
    /// Seconds one attempt of a call may take.
    #[arg(long, default_value_t = 30)]
    call_timeout: u64,
    /// Exit 0/1 by the findings even when part of what is audited could not be read (its
    /// rules still report that they could not decide).
    #[arg(long)]
    allow_partial: bool,
}

/// What an audit reads before its live source and judges with after it.
struct Setup {
    started: Instant,
    base: PathBuf,
    config: charterguard::config::Config,
    /// Where findings on resources no code manages point.
    anchor: Span,
    baseline: Option<charterguard::baseline::Baseline>,
}

impl Setup {
    /// The configuration and the baseline, read (and checked) before the slow part.
    fn new(report: &ReportArgs) -> Result<Setup> {
        report.start_threads()?;
        let started = Instant::now();
        let base = std::env::current_dir().context("reading the current directory")?;
        let (config, config_file) = scan::find_config(report.config.as_deref(), None, &base)?;
        let baseline = report.baseline.as_deref().map(charterguard::baseline::load).transpose()?;
        Ok(Setup { started, base, config, anchor: anchor(config_file.as_deref()), baseline })
    }

    /// Judges the live model, writes the reports (SARIF category `category` unless
    /// `--category` says otherwise) and gives the exit code.
    fn finish(self, model: Model, report: &mut ReportArgs, live: &LiveArgs, category: &str) -> Result<u8> {
        let base = &self.base;
        let read = |file: &str| std::fs::read_to_string(base.join(file)).ok();
        let judging = Judging {
            config: self.config,
            rules_dirs: &report.rules_dirs,
            inline_ignores: !report.no_inline_ignores,
            today: None,
            baseline: self.baseline,
            read: &read,
        };
        let outcome = scan::judge(model, judging, self.started)?;
        report.category = Some(report.category_or(category));
        report.write(&outcome, None, base)?;
        Ok(report.exit_code(&outcome, live.allow_partial))
    }
}

pub fn run(target: Target) -> Result<u8> {
    match target {
        #[cfg(feature = "aws")]
        Target::Aws(args) => aws(*args),
        #[cfg(feature = "k8s-live")]
        Target::K8s(args) => k8s(*args),
    }
}

#[cfg(feature = "aws")]
#[derive(clap::Args)]
pub struct AwsArgs {
    /// Terraform code that the `--tfstate` files describe: live findings on the resources it
    /// manages point at its blocks and attributes.
    paths: Vec<PathBuf>,
    #[command(flatten)]
    modules: super::ModuleArgs,
    #[command(flatten)]
    report: ReportArgs,
    /// A named profile of the shared AWS config files (default: the standard credential
    /// chain: environment, profile, SSO, web identity, instance role).
    #[arg(long)]
    profile: Option<String>,
    /// A role to assume in each audited account (repeatable, one per account).
    #[arg(long = "role-arn", value_name = "ARN")]
    role_arns: Vec<String>,
    /// The external id the roles require.
    #[arg(long)]
    external_id: Option<String>,
    /// Audit every active account of the AWS Organization (the credentials must be the
    /// management account's or a delegated administrator's), through `--org-role` in each.
    #[arg(long, conflicts_with = "role_arns")]
    org: bool,
    /// The role assumed in each account of `--org` [default: charterguard-audit].
    #[arg(long, value_name = "NAME", requires = "org")]
    org_role: Option<String>,
    /// Only the accounts under this organizational unit, nested OUs included (repeatable).
    #[arg(long = "ou", value_name = "OU_ID", requires = "org")]
    ous: Vec<String>,
    /// Only these accounts of the organization (comma-separated ids).
    #[arg(long, value_name = "ID,...", value_delimiter = ',', requires = "org")]
    accounts: Vec<String>,
    /// `all` (every region enabled for the account) or a comma-separated list.
    #[arg(long, default_value = "all")]
    regions: String,
    /// Send every call to this endpoint (an emulator such as moto).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    /// A Terraform state (`terraform.tfstate` or `terraform show -json` output; repeatable):
    /// live resources no state manages are ENV-003 findings.
    #[arg(long = "tfstate", value_name = "FILE")]
    tfstates: Vec<PathBuf>,
    /// Audit only the account × region units I (0-based) modulo N of the sorted work list;
    /// N invocations with I = 0..N-1 cover everything (`charterguard merge` joins them).
    #[arg(long, default_value = "0/1", value_name = "I/N", value_parser = charterguard::aws::Shard::parse)]
    shard: charterguard::aws::Shard,
    /// Calls in flight per service and region.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Account × region units audited at once.
    #[arg(long, default_value_t = 4)]
    units: usize,
    #[command(flatten)]
    live: LiveArgs,
}

#[cfg(feature = "aws")]
fn aws(mut args: AwsArgs) -> Result<u8> {
    use charterguard::aws::{self, state::States, Regions};
    let setup = Setup::new(&args.report)?;
    let base = setup.base.clone();
    let mut diagnostics = Vec::new();
    let mut states = States::default();
    for path in &args.tfstates {
        let shown = charterguard::input::display_path(path, &base);
        let added = std::fs::read_to_string(path).map_err(|e| format!("{shown}: cannot read the state: {e}")).and_then(|text| states.add(&shown, &text));
        if let Err(message) = added {
            diagnostics.push(Diagnostic::error(shown.to_string(), None, message));
        }
    }
    let regions = match args.regions.trim() {
        "all" => Regions::Enabled,
        list => Regions::List(list.split(',').map(|r| r.trim().to_string()).filter(|r| !r.is_empty()).collect()),
    };
    let options = aws::Options {
        profile: args.profile.clone(),
        role_arns: args.role_arns.clone(),
        external_id: args.external_id.clone(),
        org: args.org.then(|| aws::Org {
            role: args.org_role.clone().unwrap_or_else(|| aws::Org::DEFAULT_ROLE.to_string()),
            ous: args.ous.clone(),
            accounts: args.accounts.iter().map(|id| id.trim().to_string()).filter(|id| !id.is_empty()).collect(),
        }),
        regions,
        endpoint_url: args.endpoint_url.clone(),
        shard: args.shard,
        mirrored_accounts: ["production", "staging"].iter().filter_map(|name| setup.config.environments.get(*name)?.account.clone()).collect(),
        concurrency: args.concurrency,
        units_in_flight: args.units,
        max_attempts: args.live.max_attempts,
        call_timeout_secs: args.live.call_timeout.max(1),
        anchor: setup.anchor.clone(),
        progress: !args.report.quiet,
    };
    let audit = aws::audit(&options)?;
    let mut model = audit.model;
    let code = match args.paths.is_empty() {
        true => Model::default(),
        false => scan::load_paths(&scan::ScanOptions { module_cache: args.modules.cache()?, ..scan::ScanOptions::new(args.paths.clone(), base.clone()) }),
    };
    aws::state::annotate(&mut model, &states, &code);
    if states.is_empty() {
        model.unseen.extend(aws::state::unmanaged_undecidable(&audit.accounts, &options.anchor));
    }
    aws::name_environments(&mut model, &setup.config, &audit.accounts, &options.anchor);
    model.diagnostics.extend(diagnostics);
    model.diagnostics.extend(code.diagnostics);
    model.diagnostics.push(Diagnostic::note(
        "",
        None,
        format!("audited {} account(s), {} account×region unit(s): {} calls, {} retried", audit.accounts.len(), audit.units, audit.calls, audit.retries),
    ));
    setup.finish(model, &mut args.report, &args.live, "charterguard-audit/aws")
}

/// Which cluster a command reads, and the name findings give it.
#[cfg(feature = "k8s-live")]
#[derive(clap::Args)]
pub struct ClusterArgs {
    /// The kubeconfig file (default: KUBECONFIG, then ~/.kube/config; inside a pod without
    /// one, the pod's service account).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context (default: the current context).
    #[arg(long)]
    pub context: Option<String>,
    /// The cluster's name in findings (`CLUSTER/namespace/kind/name`); default: the context's
    /// cluster, or `in-cluster`.
    #[arg(long)]
    pub cluster_name: Option<String>,
}

#[cfg(feature = "k8s-live")]
#[derive(clap::Args)]
pub struct K8sArgs {
    #[command(flatten)]
    report: ReportArgs,
    #[command(flatten)]
    cluster: ClusterArgs,
    /// A Helm chart of the repository (repeatable): findings on objects of its releases point
    /// at its templates. `RELEASE=DIR` for one release; `DIR` for every release whose
    /// `helm.sh/chart` label names the chart.
    #[arg(long = "chart", value_name = "[RELEASE=]DIR", value_parser = charterguard::k8s_live::ChartSource::parse)]
    charts: Vec<charterguard::k8s_live::ChartSource>,
    /// Objects per list call (`limit`); longer lists are paged with `continue`.
    #[arg(long, default_value_t = 500)]
    page_size: u32,
    /// Kinds listed at once.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Milliseconds before the first retry (doubled for each further one, at most 8 s; a 429
    /// with retryAfterSeconds waits that long).
    #[arg(long, default_value_t = 250)]
    retry_backoff_ms: u64,
    #[command(flatten)]
    live: LiveArgs,
}

#[cfg(feature = "k8s-live")]
fn k8s(mut args: K8sArgs) -> Result<u8> {
    use charterguard::k8s_live;
    let setup = Setup::new(&args.report)?;
    let options = k8s_live::Options {
        kubeconfig: args.cluster.kubeconfig.clone(),
        context: args.cluster.context.clone(),
        cluster_name: args.cluster.cluster_name.clone(),
        charts: args.charts.clone(),
        base: setup.base.clone(),
        page_size: args.page_size,
        concurrency: args.concurrency,
        max_attempts: args.live.max_attempts,
        first_backoff: std::time::Duration::from_millis(args.retry_backoff_ms),
        call_timeout: std::time::Duration::from_secs(args.live.call_timeout.max(1)),
        anchor: setup.anchor.clone(),
        progress: !args.report.quiet,
    };
    let audit = k8s_live::audit(&options)?;
    setup.finish(audit.model, &mut args.report, &args.live, "charterguard-audit/k8s")
}

/// Where findings on live resources that no code manages point: the configuration file
/// (GitHub code scanning needs a file for every alert), `charterguard.yaml` when there is none.
pub fn anchor(config_file: Option<&str>) -> Span {
    let file = config_file.unwrap_or(charterguard::config::FILE_NAME);
    Span::new(file.into(), 1, 1, 1, 1)
}

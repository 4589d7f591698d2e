//! The live cluster source (`charterguard audit k8s`): lists what runs in a Kubernetes cluster
//! through its API and turns every object into the resource a manifest of it gives
//! ([`crate::kubernetes`]), so the rule files that judge Helm output in a pull request judge
//! the cluster every night, finding for finding.
//!
//! - Every kind is listed page by page across all namespaces; a kind the credentials may not
//!   list cluster-wide is listed namespace by namespace ([`list`]).
//! - Custom resources (Istio, cert-manager, the Secrets Store CSI driver, the Prometheus
//!   operator) are found by API discovery ([`discovery`]).
//! - What could not be listed (denied, failing after its retries, a custom resource the
//!   cluster does not serve) becomes an [`Unseen`] part: the rules that judge it, or look it
//!   up, could not decide. Never a pass.
//! - Secret values are never read into the audit ([`secrets`]).
//! - Objects a controller owns are judged once, at the controller; drifted Pods are judged
//!   too ([`owners`]).
//! - Findings point at the chart template of the object's Helm release when the chart is in
//!   the repository ([`charts`]), else at the audit's configuration file.

pub mod cache;
mod call;
mod charts;
mod connect;
mod discovery;
mod kinds;
mod list;
mod objects;
mod owners;
mod secrets;

pub use call::Api;
pub use charts::ChartSource;
pub use connect::{connect, Connection};
pub use objects::admitted_resource;

use crate::model::{Diagnostic, Model, Span};

use futures::StreamExt;
use kinds::ApiKind;
use list::Listing;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// What `audit k8s` reads and how.
#[derive(Clone, Debug)]
pub struct Options {
    /// `--kubeconfig`; default `KUBECONFIG`, `~/.kube/config`, then the pod's service account.
    pub kubeconfig: Option<PathBuf>,
    /// `--context`; default the kubeconfig's current context.
    pub context: Option<String>,
    /// `--cluster-name`: names the cluster in findings; default the context's cluster.
    pub cluster_name: Option<String>,
    /// `--chart`: charts of the repository that findings on their releases point at.
    pub charts: Vec<ChartSource>,
    /// Chart paths and the names reports show are relative to this directory.
    pub base: PathBuf,
    /// Objects per list call (`limit`).
    pub page_size: u32,
    /// Kinds listed at once.
    pub concurrency: usize,
    /// Attempts per call; 429 and 5xx answers and dropped connections are retried.
    pub max_attempts: u32,
    /// The first wait before a retry, doubled for each further one.
    pub first_backoff: Duration,
    /// How long one attempt may take.
    pub call_timeout: Duration,
    /// Where findings on objects no chart of the repository writes point.
    pub anchor: Span,
    /// One line per kind listed on standard error.
    pub progress: bool,
}

/// The result of an audit: the live model, and the calls it took.
pub struct Audit {
    pub model: Model,
    pub calls: u64,
    pub retries: u64,
}

/// Runs the audit to completion. Only what makes it impossible (no usable kubeconfig, a
/// cluster that does not answer, a `--chart` that is not a chart) is an `Err`; everything
/// else is in the model.
pub fn audit(options: &Options) -> anyhow::Result<Audit> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(run(options))
}

async fn run(options: &Options) -> anyhow::Result<Audit> {
    let charts = charts::Charts::load(&options.charts, &options.base)?;
    let connection = connect::connect(
        options.kubeconfig.as_deref(),
        options.context.as_deref(),
        options.cluster_name.as_deref(),
        options.call_timeout,
        options.call_timeout,
    )
    .await?;
    let cluster = connection.cluster;
    let api = Api::new(connection.client, options.max_attempts, options.first_backoff);
    let client = api.client();
    let version = api.call(move || client.apiserver_version()).await.map_err(|failure| anyhow::anyhow!("cluster {cluster} does not answer: {failure}"))?;

    let mut model = Model::default();
    let (served, missing) = served_kinds(&api).await;
    for (kind, missing) in &missing {
        model.unseen.push(objects::unseen(&cluster, kind, None, missing.reason.clone(), &options.anchor));
        if missing.unreadable {
            model.diagnostics.push(Diagnostic::incomplete("", format!("{cluster}: {}; the rules judging {kind} could not decide", missing.reason)));
        }
    }
    let listings = list_everything(&api, &served, options).await;
    for listing in &listings {
        for gap in &listing.gaps {
            let (unseen, diagnostic) = objects::gap_unseen(&cluster, &listing.kind.kind, gap, &options.anchor);
            model.unseen.push(unseen);
            model.diagnostics.push(diagnostic);
        }
    }
    let counts: BTreeMap<String, usize> = listings.iter().map(|l| (l.kind.kind.clone(), l.objects.len())).collect();
    let assembly = objects::assemble(&cluster, listings, &charts, &options.anchor);
    let summary = summary(&cluster, &version.git_version, &counts, &missing, &assembly, &api);
    model.resources = assembly.resources;
    model.diagnostics.extend(assembly.drift_notes);
    model.diagnostics.push(Diagnostic::note("", None, summary));
    model.unseen.sort();
    Ok(Audit { model, calls: api.calls(), retries: api.retries() })
}

/// The built-in kinds and the custom kinds the cluster serves, and the custom kinds it does
/// not, with why.
async fn served_kinds(api: &Api) -> (Vec<ApiKind>, Vec<(String, discovery::Missing)>) {
    let mut served = kinds::built_in();
    let mut missing = Vec::new();
    for (custom, found) in discovery::custom_kinds(api).await {
        match found {
            Ok(kind) => served.push(kind),
            Err(why) => missing.push((custom.kind.to_string(), why)),
        }
    }
    (served, missing)
}

/// Lists Namespaces first (a kind that may not be listed cluster-wide is then listed in each),
/// then every other kind, `concurrency` at a time, in the order of `kinds`.
async fn list_everything(api: &Api, kinds: &[ApiKind], options: &Options) -> Vec<Listing> {
    let (namespace_kind, others) = kinds.split_first().expect("Namespace is the first kind");
    let namespaces = list::list_kind(api, namespace_kind, None, options.page_size).await;
    report_progress(options, &namespaces);
    let names: Option<Vec<String>> =
        namespaces.gaps.is_empty().then(|| namespaces.objects.iter().filter_map(|o| o["metadata"]["name"].as_str().map(str::to_string)).collect());
    let listed: Vec<Listing> = futures::stream::iter(others)
        .map(|kind| async {
            let listing = list::list_kind(api, kind, names.as_deref(), options.page_size).await;
            report_progress(options, &listing);
            listing
        })
        .buffered(options.concurrency.max(1))
        .collect()
        .await;
    std::iter::once(namespaces).chain(listed).collect()
}

fn report_progress(options: &Options, listing: &Listing) {
    if options.progress {
        let failed = if listing.gaps.is_empty() { String::new() } else { format!(", {} part(s) could not be listed", listing.gaps.len()) };
        eprintln!("charterguard: k8s: {} {} object(s) in {} page(s){failed}", listing.objects.len(), listing.kind.kind, listing.pages);
    }
}

/// The note saying what was listed: objects per kind, what the cluster does not serve, what
/// was judged at controllers, calls and retries.
fn summary(
    cluster: &str,
    version: &str,
    counts: &BTreeMap<String, usize>,
    missing: &[(String, discovery::Missing)],
    assembly: &objects::Assembly,
    api: &Api,
) -> String {
    let listed: Vec<String> = counts.iter().map(|(kind, n)| format!("{n} {kind}")).collect();
    let not_served: Vec<&str> = missing.iter().filter(|(_, m)| !m.unreadable).map(|(kind, _)| kind.as_str()).collect();
    let not_served = if not_served.is_empty() { String::new() } else { format!("; not served by the cluster: {}", not_served.join(", ")) };
    format!(
        "audited cluster {cluster} (Kubernetes {version}): listed {}{not_served}; {} object(s) judged at their controller, {} drifted Pod group(s) judged on their own; {} calls, {} retried",
        listed.join(", "),
        assembly.at_controllers,
        assembly.drift_notes.len(),
        api.calls(),
        api.retries()
    )
}

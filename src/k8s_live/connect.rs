//! Connecting to the cluster as kubectl would: `--kubeconfig`, else `KUBECONFIG`, else
//! `~/.kube/config`, at `--context` or the current context (exec plugins such as
//! `aws eks get-token` included); with no kubeconfig inside a pod, the pod's service account
//! (a CronJob in the cluster).

use anyhow::{anyhow, Context as _};
use kube::config::{KubeConfigOptions, Kubeconfig};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub struct Connection {
    pub client: kube::Client,
    /// `--cluster-name`, else the context's cluster, else `in-cluster`.
    pub cluster: String,
}

/// Connects with `call_timeout` to connect and `read_timeout` between bytes of an answer (a
/// watch's answer is silent between events).
pub async fn connect(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
    cluster_name: Option<&str>,
    call_timeout: Duration,
    read_timeout: Duration,
) -> anyhow::Result<Connection> {
    let (mut config, cluster) = match read_kubeconfig(kubeconfig, context)? {
        Some(kubeconfig) => from_kubeconfig(kubeconfig, context).await?,
        None => (kube::Config::incluster().context("reading the pod's service account (in-cluster configuration)")?, "in-cluster".to_string()),
    };
    config.connect_timeout = Some(call_timeout);
    config.read_timeout = Some(read_timeout);
    // kube's own retry (429/503/504, up to 15 times) would hide retries from the summary and
    // wait unbounded: the audit's retry policy (`super::call`) is the only one.
    config.default_retry = false;
    let client = kube::Client::try_from(config).context("creating the Kubernetes client")?;
    Ok(Connection { client, cluster: cluster_name.map_or(cluster, str::to_string) })
}

/// The kubeconfig to use; `None` inside a pod that has none (and without `--context`). A
/// kubeconfig that exists but cannot be read is an error, never a silent switch to the pod's
/// service account.
fn read_kubeconfig(path: Option<&Path>, context: Option<&str>) -> anyhow::Result<Option<Kubeconfig>> {
    if let Some(path) = path {
        return Kubeconfig::read_from(path).map(Some).with_context(|| format!("reading the kubeconfig {}", path.display()));
    }
    let home_config = std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".kube").join("config"));
    let configured = std::env::var_os("KUBECONFIG").is_some() || home_config.is_some_and(|p| p.exists());
    if !configured && context.is_none() && std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() {
        return Ok(None);
    }
    Kubeconfig::read().map(Some).map_err(|error| anyhow!(error).context("reading the kubeconfig (--kubeconfig, KUBECONFIG or ~/.kube/config)"))
}

async fn from_kubeconfig(kubeconfig: Kubeconfig, context: Option<&str>) -> anyhow::Result<(kube::Config, String)> {
    let context = context
        .map(str::to_string)
        .or_else(|| kubeconfig.current_context.clone())
        .ok_or_else(|| anyhow!("the kubeconfig has no current context: pass --context"))?;
    let named = kubeconfig.contexts.iter().find(|c| c.name == context).ok_or_else(|| anyhow!("the kubeconfig has no context {context}"))?;
    let cluster = named.context.as_ref().map_or_else(|| context.clone(), |c| c.cluster.clone());
    let options = KubeConfigOptions { context: Some(context.clone()), ..KubeConfigOptions::default() };
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options).await.with_context(|| format!("loading context {context} of the kubeconfig"))?;
    Ok((config, cluster))
}

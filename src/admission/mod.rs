//! `charterguard admission`: the charter enforced when objects reach the cluster. An HTTPS
//! server answers Kubernetes `AdmissionReview` v1 requests at `/validate` with the verdict of
//! the same rule files that gate pull requests and judge the nightly audit ([`judge`]):
//! violations at or above `--fail-on` deny the request, everything else is a warning kubectl
//! prints.
//!
//! - The objects rules look up (a namespace's NetworkPolicies and quota, the mesh-wide
//!   PeerAuthentication, HorizontalPodAutoscalers) come from a watched cache
//!   ([`crate::k8s_live::cache`]); until it is synced those rules could not decide: a warning,
//!   never a denial.
//! - `/healthz`, `/readyz` and `/metrics` ([`metrics`]) are served on the same port.
//! - The serving certificate is read again when its files change ([`tls`]).
//! - Bodies are limited, slow clients cut off, requests in flight bounded ([`serve`]).

pub mod judge;
pub mod metrics;
pub mod review;
pub mod serve;
pub mod tls;

pub use judge::{Judge, Mode};
pub use serve::{Limits, Server};

use crate::config::Config;
use crate::model::{Severity, Span};
use anyhow::Context as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// What `charterguard admission` serves and how.
pub struct Options {
    pub listen: SocketAddr,
    pub tls_cert: PathBuf,
    pub tls_key: PathBuf,
    pub mode: Mode,
    /// `None`: nothing is denied (`--fail-on never`).
    pub fail_on: Option<Severity>,
    pub config: Config,
    /// Directories of the user's own rule files.
    pub rules_dirs: Vec<PathBuf>,
    pub inline_ignores: bool,
    /// Where findings point (the configuration file), as in `audit k8s`.
    pub anchor: Span,
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub cluster_name: Option<String>,
    /// How long connecting to the cluster may take.
    pub call_timeout: Duration,
    pub limits: Limits,
}

/// Serves until SIGTERM or Ctrl-C. Only what stops it from starting (unreadable certificate,
/// broken rule files, no cluster credentials, an address in use) is an `Err`.
pub fn serve_until_stopped(options: Options) -> anyhow::Result<()> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let certificate = Arc::new(tls::ServingCertificate::load(&options.tls_cert, &options.tls_key, provider)?);
    let (rules, diagnostics) = crate::engine::load_rules(&options.rules_dirs);
    if let Some(broken) = diagnostics.first() {
        anyhow::bail!("the rules do not load, so nothing would be judged: {broken}");
    }
    let rules = crate::scan::apply_overrides(rules, &options.config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let connection = crate::k8s_live::connect(
            options.kubeconfig.as_deref(),
            options.context.as_deref(),
            options.cluster_name.as_deref(),
            options.call_timeout,
            crate::k8s_live::cache::READ_TIMEOUT,
        )
        .await?;
        let cache = Arc::new(crate::k8s_live::cache::Cache::new(&connection.cluster, Judge::looked_up(&rules), options.anchor.clone()));
        let api = Arc::new(crate::k8s_live::Api::new(connection.client, 3, Duration::from_millis(250)));
        let judge = Judge::new(rules, options.config, cache.clone(), options.mode, options.fail_on, options.inline_ignores);
        let listener = tokio::net::TcpListener::bind(options.listen).await.with_context(|| format!("listening on {}", options.listen))?;
        let server = Arc::new(Server::new(judge, certificate, options.limits));
        let kinds: Vec<String> = cache.states().into_keys().collect();
        eprintln!(
            "charterguard: admission: serving https://{}/validate for cluster {} ({:?}, fail on {}); watching {}",
            listener.local_addr()?,
            connection.cluster,
            options.mode,
            options.fail_on.map_or("nothing", Severity::as_str),
            kinds.join(", ")
        );
        let stop = Arc::new(tokio::sync::Notify::new());
        let stopping = stop.clone();
        let watching = tokio::spawn(crate::k8s_live::cache::watch(api, cache, async move { stopping.notified().await }));
        server.run(listener, stopped()).await;
        stop.notify_one();
        let _ = watching.await;
        eprintln!("charterguard: admission: stopped");
        Ok(())
    })
}

/// SIGTERM (the kubelet stopping the pod) or Ctrl-C.
async fn stopped() {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("installing the SIGTERM handler");
    tokio::select! {
        _ = terminate.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

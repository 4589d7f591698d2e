//! `charterguard admission`: the webhook server (see [`charterguard::admission`]).

use super::FailOn;
use anyhow::Result;
use charterguard::admission::{self, Limits, Mode};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args)]
pub struct AdmissionArgs {
    /// The serving certificate chain (PEM), read again when it changes.
    #[arg(long, value_name = "FILE")]
    tls_cert: PathBuf,
    /// The serving certificate's private key (PEM).
    #[arg(long, value_name = "FILE")]
    tls_key: PathBuf,
    /// The address and port to serve on.
    #[arg(long, value_name = "ADDR:PORT", default_value = "0.0.0.0:8443")]
    listen: SocketAddr,
    /// `enforce`: violations at or above --fail-on deny the request; `warn`: they are warnings.
    #[arg(long, value_enum, default_value = "enforce")]
    mode: ModeArg,
    /// Deny (in enforce mode) when a violation is at or above this severity.
    #[arg(long, value_enum, default_value = "error")]
    fail_on: FailOn,
    /// The configuration file (tunables, rule severities, ignores).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Also load the rule files in this directory (repeatable).
    #[arg(long = "rules", value_name = "DIR")]
    rules_dirs: Vec<PathBuf>,
    /// Honour only the config's `ignores:`, not `charterguard.io/ignore` annotations.
    #[arg(long)]
    no_inline_ignores: bool,
    /// The cluster whose objects the watched cache holds.
    #[command(flatten)]
    cluster: super::audit::ClusterArgs,
    /// Request bodies larger than this are refused (413).
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_body)]
    max_body_bytes: usize,
    /// Seconds a client has for the TLS handshake and a request body, and a review for a turn
    /// to be judged.
    #[arg(long, value_name = "SECONDS", default_value_t = Limits::default().request_timeout.as_secs_f64())]
    request_timeout: f64,
    /// Seconds a connection may stay idle (or take to send its headers) before it is closed.
    #[arg(long, value_name = "SECONDS", default_value_t = Limits::default().idle_timeout.as_secs_f64())]
    idle_timeout: f64,
    /// Reviews judged at once; more wait up to --request-timeout, then get 503.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_in_flight)]
    max_in_flight: usize,
    /// Worker threads for judging (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ModeArg {
    Enforce,
    Warn,
}

pub fn run(args: AdmissionArgs) -> Result<u8> {
    if let Some(threads) = args.threads {
        rayon::ThreadPoolBuilder::new().num_threads(threads.max(1)).build_global()?;
    }
    let base = std::env::current_dir()?;
    let (config, config_file) = charterguard::scan::find_config(args.config.as_deref(), None, &base)?;
    let seconds = |s: f64| Duration::from_secs_f64(s.max(0.001));
    let options = admission::Options {
        listen: args.listen,
        tls_cert: args.tls_cert,
        tls_key: args.tls_key,
        mode: match args.mode {
            ModeArg::Enforce => Mode::Enforce,
            ModeArg::Warn => Mode::Warn,
        },
        fail_on: args.fail_on.threshold(),
        config,
        rules_dirs: args.rules_dirs,
        inline_ignores: !args.no_inline_ignores,
        anchor: super::audit::anchor(config_file.as_deref()),
        kubeconfig: args.cluster.kubeconfig,
        context: args.cluster.context,
        cluster_name: args.cluster.cluster_name,
        call_timeout: Duration::from_secs(30),
        limits: Limits {
            max_body: args.max_body_bytes,
            request_timeout: seconds(args.request_timeout),
            idle_timeout: seconds(args.idle_timeout),
            max_in_flight: args.max_in_flight,
            ..Limits::default()
        },
    };
    admission::serve_until_stopped(options)?;
    Ok(0)
}

//! The `charterguard` command line.

use anyhow::{Context as _, Result};
use charterguard::report::{self, Format};
use charterguard::rules::Severity;
use charterguard::scan::{scan, ScanOptions, ScanOutcome};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(name = "charterguard", version, about = "Checks Terraform and Kubernetes code against the AltScore deployment charter (DA-ALTSCORE-001)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan Terraform (.tf) and Kubernetes/Helm output (YAML, JSON) files and directories.
    Scan(Box<ScanArgs>),
    /// List the rules, or print one with its help.
    Rules {
        /// A rule id, e.g. ENC-002.
        id: Option<String>,
        /// Also load the rule files in this directory (repeatable).
        #[arg(long = "rules", value_name = "DIR")]
        rules_dirs: Vec<PathBuf>,
    },
}

#[derive(clap::Args)]
struct ScanArgs {
    /// Files and directories to scan; `-` reads YAML from standard input
    /// (`helm template chart | charterguard scan -`). Default: the current directory.
    paths: Vec<PathBuf>,
    /// Report format; default `human` on a terminal, else `json`.
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value = "error")]
    fail_on: FailOn,
    /// Also load the rule files in this directory (repeatable).
    #[arg(long = "rules", value_name = "DIR")]
    rules_dirs: Vec<PathBuf>,
    /// Terraform variables file for root modules, after terraform.tfvars and *.auto.tfvars
    /// (repeatable).
    #[arg(long = "var-file", value_name = "FILE")]
    var_files: Vec<PathBuf>,
    /// Value of `terraform.workspace`.
    #[arg(long, default_value = "default")]
    workspace: String,
    /// Files larger than this many bytes are skipped with a note.
    #[arg(long, default_value_t = charterguard::input::DEFAULT_MAX_FILE_SIZE)]
    max_file_size: u64,
    /// The configuration file (tunables, rule severities); default: charterguard.yaml at the
    /// first scanned directory or the current directory.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Honour only the config's `ignores:`; `charterguard:ignore` comments and
    /// `charterguard.io/ignore` annotations are neither applied nor reported.
    #[arg(long)]
    no_inline_ignores: bool,
    /// A previous JSON or SARIF report of charterguard: findings it already has (same
    /// fingerprint) are unchanged and do not fail the scan.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Never colour the human format (also honours NO_COLOR).
    #[arg(long)]
    no_color: bool,
    /// Render this Helm chart with `helm template` (the helm binary on PATH) and scan the
    /// output; findings point at the chart's template files.
    #[arg(long, value_name = "CHART")]
    helm: Option<PathBuf>,
    /// Helm values file for --helm (repeatable; later files win, as in helm).
    #[arg(short = 'f', long = "values", value_name = "FILE", requires = "helm")]
    values: Vec<PathBuf>,
    /// Helm `--set k=v` for --helm (repeatable; applied after the values files).
    #[arg(long = "set", value_name = "K=V", requires = "helm")]
    set: Vec<String>,
    /// Helm release name for --helm.
    #[arg(long, default_value = "release", requires = "helm")]
    release: String,
    /// Helm release namespace for --helm.
    #[arg(long, default_value = "default", requires = "helm")]
    namespace: String,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Human,
    Json,
    Sarif,
    Markdown,
    Junit,
    Html,
}

#[derive(Clone, Copy, ValueEnum)]
enum FailOn {
    Error,
    Warning,
    Note,
    Never,
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("charterguard: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Scan(args) => run_scan(*args),
        Command::Rules { id, rules_dirs } => list_rules(id, &rules_dirs),
    }
}

fn run_scan(args: ScanArgs) -> Result<u8> {
    if let Some(threads) = args.threads {
        rayon::ThreadPoolBuilder::new().num_threads(threads.max(1)).build_global().context("starting worker threads")?;
    }
    let base = std::env::current_dir().context("reading the current directory")?;
    let reads_stdin = args.paths.iter().any(|p| p.as_os_str() == "-");
    let mut paths: Vec<PathBuf> = args.paths.iter().filter(|p| p.as_os_str() != "-").cloned().collect();
    if reads_stdin && args.helm.is_some() {
        anyhow::bail!("--helm and `-` both provide the rendered YAML; use one of them");
    }
    if paths.is_empty() && !reads_stdin && args.helm.is_none() {
        paths.push(PathBuf::from("."));
    }
    let mut options = ScanOptions::new(paths, base.clone());
    options.var_files = args.var_files;
    options.workspace = args.workspace;
    options.rules_dirs = args.rules_dirs;
    options.max_file_size = args.max_file_size;
    options.config_path = args.config;
    options.inline_ignores = !args.no_inline_ignores;
    options.baseline = args.baseline;
    if reads_stdin {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).context("reading standard input")?;
        options.stdin = Some(text);
    }
    if let Some(chart) = &args.helm {
        let render = charterguard::helm::Render {
            chart: chart.clone(),
            release: args.release.clone(),
            namespace: args.namespace.clone(),
            values_files: args.values.clone(),
            sets: args.set.clone(),
        };
        options.stdin = Some(charterguard::helm::render(&render)?);
        options.helm_chart = Some(chart.clone());
    }
    let stream_name = match &options.helm_chart {
        Some(chart) => charterguard::helm::stream_name(chart, &base),
        None => "stdin".to_string(),
    };
    let outcome = scan(&options)?;
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let format = match args.format {
        Some(FormatArg::Human) => Format::Human { color: to_terminal && !args.no_color && std::env::var_os("NO_COLOR").is_none() },
        Some(FormatArg::Json) => Format::Json,
        Some(FormatArg::Sarif) => Format::Sarif,
        Some(FormatArg::Markdown) => Format::Markdown,
        Some(FormatArg::Junit) => Format::Junit,
        Some(FormatArg::Html) => Format::Html,
        None if to_terminal => Format::Human { color: !args.no_color && std::env::var_os("NO_COLOR").is_none() },
        None => Format::Json,
    };
    let text = render(&outcome, format, (&stream_name, &options.stdin), &base);
    match &args.output {
        Some(path) => std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?,
        None => std::io::stdout().write_all(text.as_bytes()).context("writing the report")?,
    }
    Ok(exit_code(&outcome, args.fail_on))
}

/// `stdin` is the name and text of the YAML stream read from standard input or rendered by helm.
fn render(outcome: &ScanOutcome, format: Format, stdin: (&str, &Option<String>), base: &std::path::Path) -> String {
    let (stdin_name, stdin) = stdin;
    let stdin_text: Option<Arc<str>> = stdin.as_deref().map(Arc::from);
    let source_text = move |file: &str| -> Option<Arc<str>> {
        if file == stdin_name {
            return stdin_text.clone();
        }
        std::fs::read_to_string(base.join(file)).ok().map(Arc::from)
    };
    let report = outcome.report(&source_text);
    report::render_with_baseline(&report, format, outcome.baseline.as_ref())
}

/// 2 when an input or rule file could not be read; else 1 when a violation reaches the
/// `--fail-on` severity; else 0.
fn exit_code(outcome: &ScanOutcome, fail_on: FailOn) -> u8 {
    if outcome.has_errors() {
        return 2;
    }
    let threshold = match fail_on {
        FailOn::Error => Severity::Error,
        FailOn::Warning => Severity::Warning,
        FailOn::Note => Severity::Note,
        FailOn::Never => return 0,
    };
    u8::from(outcome.failing(threshold).next().is_some())
}

fn list_rules(id: Option<String>, rules_dirs: &[PathBuf]) -> Result<u8> {
    let (rules, diagnostics) = charterguard::rules::load_rules(rules_dirs);
    for diagnostic in &diagnostics {
        eprintln!("charterguard: {diagnostic}");
    }
    let mut out = std::io::stdout().lock();
    match id {
        None => {
            for rule in &rules {
                let sources: Vec<&str> = rule.meta.sources.iter().map(|s| s.as_str()).collect();
                writeln!(out, "{:<9} {:<8} {:<12} {}", rule.meta.id, rule.meta.severity.as_str(), sources.join(","), rule.meta.title)?;
            }
        }
        Some(id) => {
            let Some(rule) = rules.iter().find(|r| r.meta.id.eq_ignore_ascii_case(&id)) else {
                anyhow::bail!("no rule {id}; `charterguard rules` lists them");
            };
            let meta = &rule.meta;
            let sources: Vec<&str> = meta.sources.iter().map(|s| s.as_str()).collect();
            writeln!(
                out,
                "{} ({}): {}\nsources: {}\napplies to: {}\n\ncharter: {}\n\n{}",
                meta.id,
                meta.severity.as_str(),
                meta.title,
                sources.join(", "),
                rule.spec.resource_types.join(", "),
                meta.charter,
                meta.help.trim_end()
            )?;
        }
    }
    Ok(if diagnostics.is_empty() { 0 } else { 2 })
}

/// The scan allocates many small nodes across threads; mimalloc handles that pattern with less
/// time than the system allocator (corpus scan, median CPU: 2.9 s with glibc, 2.6 s with it).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

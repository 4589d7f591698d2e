//! The `charterguard` command line.

mod cli;

use anyhow::{Context as _, Result};
use charterguard::scan::{scan, scan_changes, ScanOptions};
use clap::{CommandFactory, Parser, Subcommand};
use cli::ReportArgs;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "charterguard",
    version = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("CHARTERGUARD_COMMIT"), ")"),
    about = "Checks Terraform, Kubernetes and live AWS and clusters against the AltScore deployment charter (DA-ALTSCORE-001)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan Terraform (.tf) and Kubernetes/Helm output (YAML, JSON) files and directories.
    Scan(Box<ScanArgs>),
    /// Audit what runs live against the same rules (the nightly drift audit).
    #[cfg(any(feature = "aws", feature = "k8s-live"))]
    Audit {
        #[command(subcommand)]
        target: cli::audit::Target,
    },
    /// Serve the rules as a Kubernetes validating admission webhook (AdmissionReview v1 at
    /// /validate): violations at or above --fail-on deny, the other findings are warnings.
    #[cfg(feature = "admission")]
    Admission(Box<cli::admission::AdmissionArgs>),
    /// Combine the JSON or SARIF reports of several shards or runs into one.
    Merge(cli::merge::MergeArgs),
    /// List the rules, or print one with its help.
    Rules {
        /// A rule id, e.g. ENC-002.
        id: Option<String>,
        /// Also load the rule files in this directory (repeatable).
        #[arg(long = "rules", value_name = "DIR")]
        rules_dirs: Vec<PathBuf>,
        /// Print every rule as the markdown reference (docs/rules.md).
        #[arg(long, conflicts_with = "id")]
        markdown: bool,
        /// Print the helper functions rules may call, as markdown (docs/helpers.md).
        #[arg(long, conflicts_with_all = ["id", "markdown"])]
        helpers: bool,
    },
    /// Print the shell completion script (`charterguard completions bash > /etc/bash_completion.d/charterguard`).
    Completions { shell: clap_complete::Shell },
    /// Print the manual page (`charterguard man > charterguard.1; man ./charterguard.1`).
    Man,
}

#[derive(clap::Args)]
struct ScanArgs {
    /// Files and directories to scan; `-` reads YAML from standard input
    /// (`helm template chart | charterguard scan -`). Default: the current directory.
    paths: Vec<PathBuf>,
    #[command(flatten)]
    report: ReportArgs,
    /// Terraform variables file for root modules, after terraform.tfvars and *.auto.tfvars
    /// (repeatable).
    #[arg(long = "var-file", value_name = "FILE")]
    var_files: Vec<PathBuf>,
    /// Value of `terraform.workspace`.
    #[arg(long, default_value = "default")]
    workspace: String,
    #[command(flatten)]
    modules: cli::ModuleArgs,
    /// Files larger than this many bytes are skipped with a note.
    #[arg(long, default_value_t = charterguard::input::DEFAULT_MAX_FILE_SIZE)]
    max_file_size: u64,
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
    #[arg(long, requires = "helm")]
    namespace: Option<String>,
    /// Report only findings on lines changed since `git merge-base REF HEAD` (and in files
    /// added); a finding the merge base already had (code moved) is unchanged, not new.
    #[arg(long, value_name = "REF", conflicts_with = "baseline")]
    diff_base: Option<String>,
    /// Scan the directory of each given file instead of the file (what the pre-commit hook is
    /// given: the changed files), so a Terraform module or a chart is judged whole.
    #[arg(long)]
    parent_dirs: bool,
}

fn main() -> ExitCode {
    without_huge_pages();
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
        #[cfg(any(feature = "aws", feature = "k8s-live"))]
        Command::Audit { target } => cli::audit::run(target),
        #[cfg(feature = "admission")]
        Command::Admission(args) => cli::admission::run(*args),
        Command::Merge(args) => cli::merge::run(&args),
        Command::Rules { helpers: true, .. } => {
            print!("{}", charterguard::report::helpers_markdown());
            Ok(0)
        }
        Command::Rules { id, rules_dirs, markdown, .. } => list_rules(id, &rules_dirs, markdown),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "charterguard", &mut std::io::stdout());
            Ok(0)
        }
        Command::Man => {
            clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout()).context("writing the manual page")?;
            Ok(0)
        }
    }
}

fn run_scan(args: ScanArgs) -> Result<u8> {
    args.report.start_threads()?;
    let base = std::env::current_dir().context("reading the current directory")?;
    let reads_stdin = args.paths.iter().any(|p| p.as_os_str() == "-");
    let mut paths: Vec<PathBuf> = args.paths.iter().filter(|p| p.as_os_str() != "-").cloned().collect();
    if reads_stdin && args.helm.is_some() {
        anyhow::bail!("--helm and `-` both provide the rendered YAML; use one of them");
    }
    if paths.is_empty() && !reads_stdin && args.helm.is_none() {
        paths.push(PathBuf::from("."));
    }
    if args.parent_dirs {
        paths = charterguard::input::parent_dirs(&paths);
    }
    let mut options = ScanOptions::new(paths, base.clone());
    options.var_files = args.var_files;
    options.workspace = args.workspace;
    options.rules_dirs = args.report.rules_dirs.clone();
    options.walk.max_file_size = args.max_file_size;
    options.config_path = args.report.config.clone();
    options.inline_ignores = !args.report.no_inline_ignores;
    options.baseline = args.report.baseline.clone();
    options.module_cache = args.modules.cache()?;
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
            ..Default::default()
        };
        options.helm = Some(render);
    }
    let outcome = match &args.diff_base {
        Some(reference) => scan_changes(&options, reference)?,
        None => scan(&options)?,
    };
    let stdin = options.stdin.as_deref().map(|text| ("stdin", text));
    args.report.write(&outcome, stdin, &base)?;
    Ok(args.report.exit_code(&outcome, false))
}

fn list_rules(id: Option<String>, rules_dirs: &[PathBuf], markdown: bool) -> Result<u8> {
    let (rules, diagnostics) = charterguard::engine::load_rules(rules_dirs);
    for diagnostic in &diagnostics {
        eprintln!("charterguard: {diagnostic}");
    }
    let mut out = std::io::stdout().lock();
    match id {
        None if markdown => write!(out, "{}", charterguard::report::catalogue_markdown(&rules))?,
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

/// Turns transparent huge pages off for this process. mimalloc asks for them, and a scan frees
/// and takes back memory all along: each page taken back is zeroed again, 2 MiB at a time. On
/// Phase-05 that zeroing was a quarter of the CPU; without huge pages the system time fell from
/// 3.6 to 1.2 s and the peak was no higher.
fn without_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes integer arguments only and changes nothing but this
    // process's paging; a kernel without it returns an error, which changes nothing either.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// The scan allocates many small nodes across threads; mimalloc handles that pattern with less
/// time than the system allocator (corpus scan, median CPU: 2.9 s with glibc, 2.6 s with it).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

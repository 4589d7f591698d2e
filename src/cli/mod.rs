//! What the subcommands share: how a run is reported and what its exit code is.

#[cfg(feature = "admission")]
pub mod admission;
#[cfg(any(feature = "aws", feature = "k8s-live"))]
pub mod audit;
pub mod merge;

use anyhow::{Context as _, Result};
use charterguard::config::UndecidedPolicy;
use charterguard::model::Severity;
use charterguard::report::{self, Format};
use charterguard::scan::ScanOutcome;
use clap::ValueEnum;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Options of every command that judges and reports: scans and audits.
#[derive(clap::Args)]
pub struct ReportArgs {
    /// Report format; `human` unless another is asked for (coloured on a terminal only).
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write the report in another format to a file, e.g. `--report sarif=audit.sarif`
    /// (repeatable): one run, several reports.
    #[arg(long = "report", value_name = "FORMAT=FILE", value_parser = parse_report)]
    pub reports: Vec<(FormatArg, PathBuf)>,
    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value = "error")]
    pub fail_on: FailOn,
    /// Also exit 1 when a rule at or above --fail-on could not decide (as the config's
    /// `undecided: fail`); suppressed findings and those the baseline has do not count.
    #[arg(long)]
    pub fail_on_undecided: bool,
    /// Also load the rule files in this directory (repeatable).
    #[arg(long = "rules", value_name = "DIR")]
    pub rules_dirs: Vec<PathBuf>,
    /// The configuration file (tunables, rule severities, ignores); default: charterguard.yaml
    /// at the first scanned directory or the current directory.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Honour only the config's `ignores:`; `charterguard:ignore` comments and
    /// `charterguard.io/ignore` annotations are neither applied nor reported.
    #[arg(long)]
    pub no_inline_ignores: bool,
    /// A previous JSON or SARIF report of charterguard: findings it already has (same
    /// fingerprint) are unchanged and do not fail the run; those it has that this run does
    /// not are listed as resolved.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// The SARIF category (`runs[].automationDetails.id`), which GitHub code scanning keys
    /// alerts by and `charterguard merge` groups runs by.
    #[arg(long)]
    pub category: Option<String>,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Never colour the human format (also honours NO_COLOR).
    #[arg(long)]
    pub no_color: bool,
    /// Nothing on standard error but what stops the run: no progress (audits), and no error
    /// diagnostics and summary line when the report goes to a file or is machine-readable.
    #[arg(long)]
    pub quiet: bool,
    /// Print how long each phase took (discover, parse, rules, evaluate, judge, report), with
    /// what it counted, on standard error: what to paste into an issue about speed.
    #[arg(long)]
    pub timings: bool,
}

/// Options of the commands that read Terraform code: where module calls that `terraform init`
/// has not installed come from.
#[derive(clap::Args)]
pub struct ModuleArgs {
    /// Fetch the registry, git and archive modules that Terraform code calls but `terraform
    /// init` has not installed (no .terraform/modules entry), into the module cache, and
    /// evaluate them; without it such calls are noted and not evaluated.
    #[arg(long)]
    pub download_modules: bool,
    /// The cache for --download-modules (default: $CHARTERGUARD_MODULE_CACHE, else
    /// charterguard/modules in the user's cache directory, e.g. ~/.cache).
    #[arg(long, value_name = "DIR", requires = "download_modules")]
    pub module_cache: Option<PathBuf>,
}

impl ModuleArgs {
    /// The cache to fetch modules into; `None` without --download-modules.
    pub fn cache(&self) -> Result<Option<PathBuf>> {
        if !self.download_modules {
            return Ok(None);
        }
        let variable = charterguard::terraform::MODULE_CACHE_VARIABLE;
        let dir = self.module_cache.clone().or_else(charterguard::terraform::default_module_cache);
        dir.map(Some).with_context(|| format!("no cache directory for --download-modules: give --module-cache DIR or set {variable}"))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Human,
    Json,
    Sarif,
    Markdown,
    Junit,
    Html,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Note,
    Never,
}

impl FailOn {
    /// The lowest severity that fails; `None` for `never`.
    pub fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Note => Some(Severity::Note),
            FailOn::Never => None,
        }
    }
}

fn parse_report(text: &str) -> Result<(FormatArg, PathBuf), String> {
    let (format, file) = text.split_once('=').ok_or_else(|| format!("`{text}`: write FORMAT=FILE, e.g. sarif=audit.sarif"))?;
    let format = FormatArg::from_str(format, true).map_err(|_| format!("`{format}` is not a format (human, json, sarif, markdown, junit, html)"))?;
    if file.is_empty() {
        return Err(format!("`{text}`: the file name is missing"));
    }
    Ok((format, PathBuf::from(file)))
}

impl ReportArgs {
    pub fn start_threads(&self) -> Result<()> {
        if let Some(threads) = self.threads {
            rayon::ThreadPoolBuilder::new().num_threads(threads.max(1)).build_global().context("starting worker threads")?;
        }
        Ok(())
    }

    /// The default category unless `--category` names one.
    #[cfg(any(feature = "aws", feature = "k8s-live"))]
    pub fn category_or(&self, default: &str) -> String {
        self.category.clone().unwrap_or_else(|| default.to_string())
    }

    /// Writes the main report (`--format`, `-o`) and every `--report`. `stdin` is the name and
    /// text of a YAML stream read from standard input or rendered by helm.
    pub fn write(&self, outcome: &ScanOutcome, stdin: Option<(&str, &str)>, base: &Path) -> Result<()> {
        let stdin_text: Option<(String, Arc<str>)> = stdin.map(|(name, text)| (name.to_string(), Arc::from(text)));
        let source_text = move |file: &str| -> Option<Arc<str>> {
            match &stdin_text {
                Some((name, text)) if name == file => Some(text.clone()),
                _ => std::fs::read_to_string(base.join(file)).ok().map(Arc::from),
            }
        };
        let report = outcome.report(&source_text);
        let to_terminal = self.output.is_none() && std::io::stdout().is_terminal();
        let colour = !self.no_color && std::env::var_os("NO_COLOR").is_none();
        // Human by default, on a terminal or not (a CI log, a pager), as ruff, Trivy and tflint
        // print; machine formats only when asked for.
        let main = match self.format {
            Some(FormatArg::Human) | None => Format::Human { color: to_terminal && colour },
            Some(other) => format(other),
        };
        let render = |format: Format| report::render_categorised(&report, format, outcome.baseline.as_ref(), self.category.as_deref());
        let reports = 1 + self.reports.len();
        outcome.timings.time(
            "report",
            || -> Result<()> {
                match &self.output {
                    Some(path) => std::fs::write(path, render(main)).with_context(|| format!("writing {}", path.display()))?,
                    None => std::io::stdout().write_all(render(main).as_bytes()).context("writing the report")?,
                }
                for (extra, path) in &self.reports {
                    let extra = match extra {
                        FormatArg::Human => Format::Human { color: false },
                        other => format(*other),
                    };
                    std::fs::write(path, render(extra)).with_context(|| format!("writing {}", path.display()))?;
                }
                Ok(())
            },
            |_| format!("{reports} report(s)"),
        )?;
        if self.timings {
            eprint!("{}", timings_table(outcome));
        }
        // A CI log shows standard error: when the report is not a human one there, say why
        // the run fails (an input that could not be read, the counts) here.
        if !self.quiet && (self.output.is_some() || !matches!(main, Format::Human { .. })) {
            for line in report::console_summary(&report, outcome.baseline.as_ref()).lines() {
                eprintln!("charterguard: {line}");
            }
        }
        Ok(())
    }

    /// 2 when an input or rule file could not be read, or (unless `allow_partial`) a live
    /// source could not read everything; else 1 when a violation (or with
    /// `--fail-on-undecided`, an undecided finding of a rule) reaches `--fail-on`; else 0.
    pub fn exit_code(&self, outcome: &ScanOutcome, allow_partial: bool) -> u8 {
        if outcome.has_errors() || (outcome.is_partial() && !allow_partial) {
            return 2;
        }
        let Some(threshold) = self.fail_on.threshold() else { return 0 };
        let undecided = if self.fail_on_undecided { UndecidedPolicy::Fail } else { outcome.undecided };
        u8::from(outcome.failing(threshold, undecided).next().is_some())
    }
}

fn format(format: FormatArg) -> Format {
    match format {
        FormatArg::Human => Format::Human { color: false },
        FormatArg::Json => Format::Json,
        FormatArg::Sarif => Format::Sarif,
        FormatArg::Markdown => Format::Markdown,
        FormatArg::Junit => Format::Junit,
        FormatArg::Html => Format::Html,
    }
}

/// `--timings`: one line per phase, its milliseconds, what it counted and the peak memory so
/// far, then the whole run. The rules compile while the inputs are discovered and parsed, so
/// the phases may add up to more than the total.
fn timings_table(outcome: &ScanOutcome) -> String {
    let mut out = String::from("charterguard: timings\n");
    let phases = outcome.timings.phases();
    for phase in &phases {
        let peak = phase.peak_memory.map(|bytes| format!("  (peak {} MB)", bytes / 1_000_000)).unwrap_or_default();
        out.push_str(&format!("  {:<9} {:>8.1} ms  {}{peak}\n", phase.name, phase.elapsed.as_secs_f64() * 1000.0, phase.counted));
    }
    let reporting: std::time::Duration = phases.iter().filter(|phase| phase.name == "report").map(|phase| phase.elapsed).sum();
    out.push_str(&format!("  {:<9} {:>8.1} ms\n", "total", (outcome.elapsed + reporting).as_secs_f64() * 1000.0));
    out
}

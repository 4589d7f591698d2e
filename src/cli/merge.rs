//! `charterguard merge REPORT...`: one report from the reports of several shards or runs.

use anyhow::{Context as _, Result};
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct MergeArgs {
    /// The reports: all charterguard JSON, or all SARIF.
    #[arg(required = true)]
    reports: Vec<PathBuf>,
    /// Write the merged report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub fn run(args: &MergeArgs) -> Result<u8> {
    let mut reports = Vec::new();
    for path in &args.reports {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        reports.push((path.display().to_string(), text));
    }
    let merged = charterguard::report::merge::merge(&reports)?;
    match &args.output {
        Some(path) => std::fs::write(path, merged).with_context(|| format!("writing {}", path.display()))?,
        None => std::io::stdout().write_all(merged.as_bytes()).context("writing the report")?,
    }
    Ok(0)
}

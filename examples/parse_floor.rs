//! The parse-only floor of a scan (benches/run.sh): the files `charterguard scan` would read,
//! found the same way, read and parsed in parallel (HCL with hcl-edit, YAML with charterguard's
//! own loader, JSON with serde_json), with nothing evaluated, joined or judged. Every scan
//! figure of the benchmark is also given as a ratio to this, timed in the same run.
//!
//! `cargo run --release --example parse_floor -- PATH...` prints the files and bytes parsed.

use rayon::prelude::*;
use std::path::PathBuf;
use std::sync::Arc;

fn main() {
    let paths: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let base = std::env::current_dir().expect("the current directory");
    let inputs = charterguard::input::discover(&paths, &base, &charterguard::input::Walk::default());
    let files: Vec<&PathBuf> = inputs.terraform.iter().chain(&inputs.manifests).collect();
    let (parsed, bytes, failed) = files
        .par_iter()
        .map(|path| match std::fs::read_to_string(path) {
            Ok(text) => (1, text.len(), usize::from(!parses(path, &text))),
            Err(_) => (0, 0, 1),
        })
        .reduce(|| (0, 0, 0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2));
    println!("{parsed} files, {bytes} bytes parsed, {failed} unreadable or not parsed");
}

/// Parses a file by its kind, as the scan's sources would; whether it parsed.
fn parses(path: &std::path::Path, text: &str) -> bool {
    let name = path.to_string_lossy();
    if name.ends_with(".json") {
        serde_json::from_str::<serde_json::Value>(text).is_ok()
    } else if charterguard::input::is_configuration(&name) || name.ends_with(".tfvars") {
        hcl_edit::parser::parse_body(text).is_ok()
    } else {
        let file: Arc<str> = Arc::from(name.as_ref());
        charterguard::yaml::load(&file, text, &charterguard::yaml::Limits::default()).is_ok()
    }
}

//! `cargo test` and `cargo run` share one build of every dependency: the README's two
//! commands (both `--all-features`), run one after the other on a fresh clone, compile
//! charterguard twice at most,
//! never a dependency. Cargo builds a crate again whenever its features differ, and test
//! builds add the dev-dependencies' features to shared crates, so the two feature sets must be
//! equal for every crate both builds use.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// Every package of the dependency graph with its features, following `edges` (`cargo tree -e`).
fn features(edges: &str) -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["tree", "--locked", "--offline", "--all-features", "--edges", edges, "--prefix", "none", "--format", "{p}|{f}"])
        .output()
        .expect("running cargo tree");
    assert!(output.status.success(), "cargo tree: {}", String::from_utf8_lossy(&output.stderr));
    let mut packages: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in String::from_utf8(output.stdout).unwrap().lines() {
        // A package listed before ends in ` (*)`.
        let Some((package, features)) = line.trim_end_matches(" (*)").split_once('|') else { continue };
        // `name vX.Y.Z (proc-macro) (*)`: the name and version say which build it is.
        let package = package.split(" (").next().unwrap().to_string();
        packages.entry(package).or_default().extend(features.split(',').filter(|f| !f.is_empty()).map(str::to_string));
    }
    packages
}

#[test]
fn dev_dependencies_enable_no_feature_the_normal_build_lacks() {
    let normal = features("normal,build");
    let with_dev = features("normal,build,dev");
    assert!(normal.len() > 100, "cargo tree listed only {} packages", normal.len());
    let differing: Vec<String> = normal
        .iter()
        .filter_map(|(package, features)| {
            let extra: Vec<&String> = with_dev.get(package)?.difference(features).collect();
            (!extra.is_empty()).then(|| format!("{package}: {extra:?}"))
        })
        .collect();
    assert!(
        differing.is_empty(),
        "a test build turns on features that `cargo run` does not, so both build these crates (and all above them):\n{}\nenable them in [dependencies] too",
        differing.join("\n")
    );
}

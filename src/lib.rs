//! charterguard: checks infrastructure code and live state against the AltScore deployment
//! charter (DA-ALTSCORE-001).
//!
//! Data flows one way: sources ([`terraform`], [`kubernetes`]) load the inputs that
//! [`input`] found into one [`model::Model`], the [`engine`] evaluates the [`rules`] over
//! it, and [`report`]ers turn the findings into formats. `admission` judges objects one at
//! a time as they reach a cluster, with the same rules.

#[cfg(feature = "admission")]
pub mod admission;
pub mod argocd;
#[cfg(feature = "aws")]
pub mod aws;
pub mod baseline;
pub mod changes;
pub mod config;
pub mod deployed;
pub mod engine;
pub mod fingerprint;
pub mod helm;
pub mod input;
#[cfg(feature = "k8s-live")]
pub mod k8s_live;
pub mod kubernetes;
pub mod kustomize;
pub mod model;
pub mod plan;
pub mod redact;
pub mod report;
pub mod rules;
pub mod scan;
pub mod suppress;
pub mod terraform;
pub mod yaml;

/// The pipeline is the layout: a module imports only modules of its own layer or below.
#[cfg(test)]
mod layers {
    /// Layers, bottom first: the model and what every layer reads; what describes the
    /// charter (configuration, rule files, secret vocabulary, fingerprints); the sources;
    /// the engine; what adjusts verdicts; the reports; the scan that wires them.
    const LAYERS: &[&[&str]] = &[
        &["model", "yaml"],
        &["config", "rules", "redact", "fingerprint"],
        &["input", "terraform", "plan", "kubernetes", "helm", "kustomize", "argocd", "deployed", "aws", "k8s_live"],
        &["engine"],
        &["suppress", "baseline", "changes"],
        &["report"],
        &["scan", "admission"],
    ];

    fn layer(module: &str) -> Option<usize> {
        LAYERS.iter().position(|layer| layer.contains(&module))
    }

    #[test]
    fn no_module_imports_one_above_it() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let uses = regex::Regex::new(r"crate::([a-z_0-9]+)").unwrap();
        let mut upward = Vec::new();
        for entry in walkdir(&src) {
            let relative = entry.strip_prefix(&src).unwrap().to_string_lossy().replace('\\', "/");
            let module = relative.split(['/', '.']).next().unwrap_or_default().to_string();
            let Some(own) = layer(&module) else { continue };
            let text = std::fs::read_to_string(&entry).unwrap();
            // A module's own tests may drive it end to end through the layers above.
            let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or_default();
            for used in uses.captures_iter(code).map(|c| c.get(1).unwrap().as_str()) {
                if layer(used).is_some_and(|theirs| theirs > own) {
                    upward.push(format!("{relative}: {module} imports {used}"));
                }
            }
        }
        upward.sort();
        upward.dedup();
        assert!(upward.is_empty(), "imports up the pipeline:\n{}", upward.join("\n"));
        for module in LAYERS.iter().flat_map(|layer| layer.iter()) {
            let found = src.join(format!("{module}.rs")).exists() || src.join(module).join("mod.rs").exists();
            assert!(found, "the layering names a module that does not exist: {module}");
        }
    }

    fn walkdir(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                files.extend(walkdir(&path));
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
        files
    }
}

//! Module calls whose source is not a local path: registry and git modules, found where
//! `terraform init` put them (the root's `modules.json`, see [`manifest`]), or, with
//! `--download-modules`, fetched into a cache (see [`fetch`]).
//!
//! Before a root module is evaluated, its calls are walked the way `terraform init` walks
//! them, by key path (`a.b` is call `b` inside call `a`; the instances of a `count` or
//! `for_each` call share one key): each key gets the directory its module is in, or why it
//! has none. Directories newly reached are parsed a level at a time, once per group of
//! directories however many keys or instances use them.

mod fetch;
mod http;
mod manifest;
mod registry;
mod version;

pub use fetch::{default_cache_dir, Cache, CACHE_VARIABLE};

use super::module::{ModuleDecls, MAX_MODULE_DEPTH};
use super::normalise;
use crate::model::{Diagnostic, DiagnosticLevel, Span};
use hcl_edit::expr::Expression;
use hcl_edit::Span as _;
use rayon::prelude::*;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// More module call keys than this under one root are not followed (a generated tree of
/// calls; Terraform itself would install each of them).
const MAX_KEYS: usize = 10_000;

/// `./x` and `../x`: a directory next to the caller, not something to install.
pub fn is_local(source: &str) -> bool {
    source.starts_with("./") || source.starts_with("../")
}

/// Why a module call has no module to evaluate, and how loudly to say so.
#[derive(Clone, Debug)]
pub struct Missing {
    pub level: DiagnosticLevel,
    pub reason: String,
}

impl Missing {
    pub fn note(reason: String) -> Self {
        Missing { level: DiagnosticLevel::Note, reason }
    }
}

/// The module directory of every call (by key path) reachable from one root module.
#[derive(Default)]
pub struct RootModules {
    by_key: HashMap<String, Result<PathBuf, Missing>>,
}

impl RootModules {
    /// The directory of the module call at `key`, or why there is none; `None` for a key the
    /// walk did not reach (deeper than modules nest, or past [`MAX_KEYS`]).
    pub fn get(&self, key: &str) -> Option<&Result<PathBuf, Missing>> {
        self.by_key.get(key)
    }
}

/// A module call as written: its name, literal `source` and `version`.
struct CallSite {
    name: String,
    source: String,
    version: Option<String>,
}

/// The calls in a module's files whose `source` is a literal string (Terraform requires one).
fn call_sites(decls: &ModuleDecls) -> Vec<CallSite> {
    let literal = |block: &hcl_edit::structure::Block, name: &str| match block.body.get_attribute(name).map(|a| &a.value) {
        Some(Expression::String(text)) => Some(text.value().to_string()),
        _ => None,
    };
    let blocks = decls.files.iter().flat_map(|file| file.body.get_blocks("module"));
    blocks
        .filter_map(|block| {
            let [name] = block.labels.as_slice() else { return None };
            Some(CallSite { name: name.as_str().to_string(), source: literal(block, "source")?, version: literal(block, "version") })
        })
        .collect()
}

/// A module reached by the walk: its key, its directory, and the directory its local calls
/// must stay inside (the package it was installed in; none for the scanned tree's own).
struct Reached {
    key: String,
    dir: PathBuf,
    package: Option<PathBuf>,
}

/// Parses the given directories (those not parsed yet) and gives their declarations.
pub type ParseDirs<'p, 'm, 't> = dyn FnMut(&[PathBuf]) -> Vec<Option<&'m ModuleDecls<'t>>> + 'p;

/// Walks the module calls of the root module in `root` (as its `data_dir` records them) by key, parsing what it reaches
/// through `parse`; calls that modules.json does not give are fetched into `cache` when there
/// is one (`--download-modules`), a level's downloads in parallel. What is wrong with the
/// root's modules.json is in the diagnostics; calls with no module are reported when evaluated.
pub fn resolve_root(root: &Path, data_dir: &Path, base: &Path, cache: Option<&Cache>, parse: &mut ParseDirs) -> (RootModules, Vec<Diagnostic>) {
    let (manifest, diagnostics) = manifest::read(root, data_dir, base);
    let mut modules = RootModules::default();
    let mut level = vec![Reached { key: String::new(), dir: root.to_path_buf(), package: None }];
    for _ in 0..MAX_MODULE_DEPTH {
        if level.is_empty() || modules.by_key.len() >= MAX_KEYS {
            break;
        }
        let dirs: Vec<PathBuf> = level.iter().map(|r| r.dir.clone()).collect();
        let mut found = Vec::new();
        for (caller, decls) in level.iter().zip(parse(&dirs)) {
            for call in decls.map(call_sites).unwrap_or_default() {
                let key = if caller.key.is_empty() { call.name.clone() } else { format!("{}.{}", caller.key, call.name) };
                let located = if is_local(&call.source) { local(caller, &call.source) } else { installed(&manifest, &key, &call) };
                found.push((key, call, located));
            }
        }
        let fetched = cache.map(|cache| download(cache, &found)).unwrap_or_default();
        let mut next = Vec::new();
        for (key, call, located) in found {
            let located = match fetched.get(&(call.source.clone(), call.version.clone())) {
                Some(download) if located.is_err() => download.clone(),
                _ => located,
            };
            if let Ok((dir, package)) = &located {
                next.push(Reached { key: key.clone(), dir: dir.clone(), package: package.clone() });
            }
            modules.by_key.insert(key, located.map(|(dir, _)| dir));
        }
        level = next;
    }
    (modules, diagnostics)
}

/// The remote calls of one level that modules.json does not give, each distinct source and
/// version fetched once.
fn download(cache: &Cache, found: &[(String, CallSite, Located)]) -> HashMap<(String, Option<String>), Located> {
    let wanted: BTreeSet<(String, Option<String>)> = found
        .iter()
        .filter(|(_, call, located)| located.is_err() && !is_local(&call.source))
        .map(|(_, call, _)| (call.source.clone(), call.version.clone()))
        .collect();
    wanted
        .into_par_iter()
        .map(|(source, version)| {
            let located = match cache.fetch(&source, version.as_deref()) {
                Ok(fetched) => Ok((fetched.dir, Some(fetched.package))),
                Err(reason) => Err(Missing { level: DiagnosticLevel::Error, reason: format!("module source `{source}` could not be downloaded: {reason}") }),
            };
            ((source, version), located)
        })
        .collect()
}

/// A module directory, with the package its local calls must stay inside.
type Located = Result<(PathBuf, Option<PathBuf>), Missing>;

/// A local call: next to its caller, and inside the caller's package when it was installed
/// (Terraform refuses a local path that leaves the package).
fn local(caller: &Reached, source: &str) -> Located {
    let dir = normalise(&caller.dir.join(source));
    match &caller.package {
        Some(package) if !dir.starts_with(package) => {
            Err(Missing { level: DiagnosticLevel::Error, reason: format!("local source `{source}` leaves the installed module package it is called from") })
        }
        _ => Ok((dir, caller.package.clone())),
    }
}

/// A registry or git call, from the root's modules.json.
fn installed(manifest: &manifest::Manifest, key: &str, call: &CallSite) -> Located {
    let Some(entry) = manifest.entries.get(key) else {
        let reason = format!(
            "module source `{}` is not on disk: run `terraform init` in the root module (it writes {}), or scan with --download-modules",
            call.source, manifest.shown
        );
        return Err(Missing::note(reason));
    };
    if !same_source(&entry.source, &call.source) {
        let reason = format!("{} records source `{}` for it, not `{}`: run `terraform init` again", manifest.shown, entry.source, call.source);
        return Err(Missing::note(reason));
    }
    if let (Some(wanted), Some(recorded)) = (&call.version, &entry.version) {
        let constraints = version::Constraints::parse(wanted).map_err(|reason| Missing { level: DiagnosticLevel::Error, reason })?;
        if !version::Version::parse(recorded).is_some_and(|v| constraints.accepts(&v)) {
            let reason =
                format!("{} records version {recorded}, which `version = \"{wanted}\"` does not accept: run `terraform init -upgrade`", manifest.shown);
            return Err(Missing::note(reason));
        }
    }
    match &entry.dir {
        Ok(dir) => Ok((dir.clone(), Some(manifest.modules_dir.clone()))),
        Err(_) => Err(Missing::note(format!("its entry in {} is refused (see the error there)", manifest.shown))),
    }
}

/// Whether modules.json's source is the one written: Terraform records registry addresses
/// with their host (`registry.terraform.io/ns/name/provider`), OpenTofu with its own.
fn same_source(recorded: &str, written: &str) -> bool {
    if recorded == written {
        return true;
    }
    ["registry.terraform.io/", "registry.opentofu.org/"].iter().any(|host| recorded.strip_prefix(host) == Some(written))
}

/// The span of a module call's `source` argument (the block's when it has none).
pub fn source_span(file: &super::files::ParsedFile, block: &hcl_edit::structure::Block) -> Span {
    let range = block.body.get_attribute("source").and_then(|a| a.value.span()).or_else(|| block.span());
    file.lines.span(&file.path, range.unwrap_or(0..0))
}

/// `module.a.module.b` for the key `a.b`.
pub fn key_address(key: &str) -> String {
    key.split('.').map(|name| format!("module.{name}")).collect::<Vec<_>>().join(".")
}

#[cfg(test)]
mod tests;

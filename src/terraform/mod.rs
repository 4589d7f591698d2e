//! Terraform source: the `.tf` files of each directory evaluated as a module, local module
//! calls followed with their inputs, and S3 settings split over several resources joined
//! to their bucket.

pub mod eval;
mod files;
mod json;
mod module;
mod s3;

use crate::model::{Diagnostic, Model, Node, Span};
use eval::{Evaluator, Key, Scope};
use files::{parse_hcl, ParsedFile};
use module::{Instance, ModuleDecls, ModuleLoader};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// What to evaluate and with which inputs.
pub struct Options {
    /// Extra variable files for root modules (`--var-file`), applied after the
    /// directory's `terraform.tfvars` and `*.auto.tfvars`.
    pub var_files: Vec<PathBuf>,
    pub workspace: String,
    /// Paths in reports are relative to this directory.
    pub base: PathBuf,
}

/// Loads the Terraform files given (`.tf`; their directories are modules) into the model.
/// Directories called as local modules by another directory are evaluated only through
/// that call, with its inputs, never on their own with default values.
pub fn load(files: &[PathBuf], options: &Options) -> Model {
    let texts = typed_arena::Arena::new();
    let modules = typed_arena::Arena::new();
    let mut model = Model::default();
    let mut dirs: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
    for file in files {
        dirs.entry(normalise(file.parent().unwrap_or(Path::new(".")))).or_default().push(file.clone());
    }
    let given: BTreeSet<PathBuf> = dirs.keys().cloned().collect();
    let mut loaded: HashMap<PathBuf, &ModuleDecls> = HashMap::new();
    let mut called: BTreeSet<PathBuf> = BTreeSet::new();
    let mut queue: VecDeque<PathBuf> = given.iter().cloned().collect();
    while let Some(dir) = queue.pop_front() {
        if loaded.contains_key(&dir) {
            continue;
        }
        let dir_files = dirs.remove(&dir).unwrap_or_else(|| tf_files_in(&dir));
        let mut parsed = Vec::new();
        for path in dir_files {
            let display = display_path(&path, &options.base);
            model.files_scanned += 1;
            let text = match std::fs::read(&path).map(String::from_utf8) {
                Ok(Ok(text)) if display.ends_with(".tf.json") => json_to_hcl(&display, &text),
                Ok(Ok(text)) => Ok(text),
                Ok(Err(_)) => Err(Diagnostic::error(display.to_string(), None, "not UTF-8 text; Terraform files must be UTF-8")),
                Err(error) => Err(Diagnostic::error(display.to_string(), None, format!("cannot read: {error}"))),
            };
            match text {
                Ok(text) => match parse_hcl(&display, texts.alloc(text), &texts, &mut model.diagnostics) {
                    Ok(file) => parsed.push(file),
                    Err(diagnostic) => model.diagnostics.push(diagnostic),
                },
                Err(diagnostic) => model.diagnostics.push(diagnostic),
            }
        }
        for source in local_module_sources(&parsed) {
            let child = normalise(&dir.join(source));
            called.insert(child.clone());
            queue.push_back(child);
        }
        let decls: &ModuleDecls = modules.alloc(ModuleDecls { dir: dir.clone(), files: parsed });
        loaded.insert(dir, decls);
    }
    let roots: Vec<&ModuleDecls> = given.iter().filter(|d| !called.contains(*d)).filter_map(|d| loaded.get(d).copied()).collect();
    let loader = Loader { loaded, base: options.base.clone(), workspace: options.workspace.clone() };
    let results: Vec<Model> = roots.par_iter().map(|root| evaluate_root(&loader, root, options)).collect();
    for result in results {
        model.extend(result);
    }
    model
}

struct Loader<'m, 't> {
    loaded: HashMap<PathBuf, &'m ModuleDecls<'t>>,
    base: PathBuf,
    workspace: String,
}

impl<'m, 't> ModuleLoader<'m, 't> for Loader<'m, 't> {
    fn module(&self, dir: &Path) -> Result<&'m ModuleDecls<'t>, String> {
        match self.loaded.get(&normalise(dir)) {
            Some(decls) if !decls.files.is_empty() => Ok(decls),
            _ => Err(format!("local module directory {} is not on disk or has no .tf files", self.relative(dir))),
        }
    }
    fn workspace(&self) -> &str {
        &self.workspace
    }
    fn relative(&self, dir: &Path) -> String {
        display_path(dir, &self.base).to_string()
    }
}

fn evaluate_root(loader: &Loader, root: &ModuleDecls, options: &Options) -> Model {
    let mut model = Model::default();
    let inputs = root_inputs(&root.dir, options, &mut model);
    let instance = Instance::new(loader, root, String::new(), inputs, 0, Vec::new());
    let (resources, diagnostics) = instance.resources();
    model.resources = s3::link_split_settings(resources);
    model.diagnostics.extend(diagnostics);
    model
}

/// The native-syntax equivalent of a `.tf.json` file (JSON parse errors name the position).
fn json_to_hcl(path: &Arc<str>, text: &str) -> Result<String, Diagnostic> {
    let documents = crate::yaml::load(path, text, &crate::yaml::Limits::default())?;
    match documents.as_slice() {
        [document] => json::to_hcl(&document.root).map_err(|e| Diagnostic::error(path.to_string(), Some(document.span.clone()), e)),
        [] => Ok(String::new()),
        _ => Err(Diagnostic::error(path.to_string(), None, "a .tf.json file holds one JSON object")),
    }
}

/// Variable values for a root module: `terraform.tfvars`, then `*.auto.tfvars` in name
/// order, then `--var-file`s; later files win, as in Terraform.
fn root_inputs(dir: &Path, options: &Options, model: &mut Model) -> HashMap<String, Node> {
    let mut var_files = Vec::new();
    let default = dir.join("terraform.tfvars");
    if default.is_file() {
        var_files.push(default);
    }
    let mut auto: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).filter(|p| p.to_string_lossy().ends_with(".auto.tfvars")).collect())
        .unwrap_or_default();
    auto.sort();
    var_files.extend(auto);
    var_files.extend(options.var_files.iter().cloned());
    let mut inputs = HashMap::new();
    for path in var_files {
        let display = display_path(&path, &options.base);
        model.files_scanned += 1;
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) => {
                model.diagnostics.push(Diagnostic::error(display.to_string(), None, format!("cannot read variables file: {error}")));
                continue;
            }
        };
        let arena = typed_arena::Arena::new();
        match parse_hcl(&display, &text, &arena, &mut model.diagnostics) {
            Ok(parsed) => inputs.extend(literal_attributes(&parsed)),
            Err(diagnostic) => model.diagnostics.push(diagnostic),
        }
    }
    inputs
}

/// A tfvars file may not refer to anything: evaluate its attributes with no names in scope.
fn literal_attributes(parsed: &ParsedFile) -> Vec<(String, Node)> {
    struct NoNames;
    impl Scope for NoNames {
        fn resolve(&self, _: &str, _: &[Key], _: &Span) -> Option<(Node, usize)> {
            None
        }
    }
    let evaluator = Evaluator { file: parsed.path.clone(), lines: &parsed.lines, scope: &NoNames };
    parsed.body.attributes().map(|a| (a.key.as_str().to_string(), evaluator.eval(&a.value))).collect()
}

/// `source` strings of module calls that point at local directories.
fn local_module_sources(files: &[ParsedFile]) -> Vec<String> {
    let mut sources = Vec::new();
    for file in files {
        for block in file.body.get_blocks("module") {
            if let Some(hcl_edit::expr::Expression::String(source)) = block.body.get_attribute("source").map(|a| &a.value) {
                let source = source.value().as_str();
                if source.starts_with("./") || source.starts_with("../") {
                    sources.push(source.to_string());
                }
            }
        }
    }
    sources
}

fn tf_files_in(dir: &Path) -> Vec<PathBuf> {
    let is_terraform = |p: &Path| p.to_string_lossy().ends_with(".tf") || p.to_string_lossy().ends_with(".tf.json");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).filter(|p| is_terraform(p) && p.is_file()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// Removes `.` and folds `..` without touching the file system (symlinks are not followed
/// here; the walker already refused loops).
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.components().next_back(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    }
}

/// The path as reports show it: relative to the base directory, with forward slashes.
pub fn display_path(path: &Path, base: &Path) -> Arc<str> {
    let relative = path.strip_prefix(base).unwrap_or(path);
    let text = relative.to_string_lossy().replace('\\', "/");
    let text = text.strip_prefix("./").unwrap_or(&text).to_string();
    if text.is_empty() {
        ".".into()
    } else {
        text.into()
    }
}

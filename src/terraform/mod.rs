//! Terraform source: the `.tf` files of each directory evaluated as a module, local module
//! calls followed with their inputs, and S3 settings split over several resources joined
//! to their bucket.

pub mod data_sources;
pub mod eval;
mod files;
mod groups;
mod json;
mod module;
mod modules;
mod outputs;
mod policy_document;
mod providers;
pub(crate) mod s3;
pub mod sandbox;
pub mod types;

pub use files::is_configuration;
pub use modules::{default_cache_dir as default_module_cache, CACHE_VARIABLE as MODULE_CACHE_VARIABLE};
pub use outputs::evaluate_outputs;

use crate::input::display_path;
use crate::model::{Diagnostic, Model, Node, Span};
use eval::{Evaluator, Functions, Key, Scope};
use files::{Parsed, ParsedFile};
use module::{Call, Instance, ModuleDecls, ModuleLoader};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
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
    /// The scanned paths: file functions (`file`, `templatefile`, ...) read only inside them.
    pub roots: Vec<PathBuf>,
    /// `--download-modules`: module calls that `terraform init` did not install are fetched
    /// into this cache (which file functions may then read too).
    pub module_cache: Option<PathBuf>,
    /// The PEM roots module downloads trust instead of Mozilla's (`SSL_CERT_FILE`).
    pub ssl_cert_file: Option<PathBuf>,
    /// Terraform's data directory, relative to a root module (`TF_DATA_DIR`).
    pub data_dir: PathBuf,
    /// The config's `environments:`: which root modules describe which environment.
    pub environments: Vec<EnvironmentRoots>,
}

/// An environment's root modules (canonical paths) and the var-files it evaluates them with.
#[derive(Clone, Debug)]
pub struct EnvironmentRoots {
    pub name: String,
    pub roots: Vec<PathBuf>,
    pub var_files: Vec<PathBuf>,
}

impl Options {
    /// No variable files, the `default` workspace, reads inside `base` only, modules
    /// installed in `.terraform`.
    pub fn new(base: PathBuf) -> Self {
        Options {
            var_files: Vec::new(),
            workspace: "default".into(),
            roots: vec![base.clone()],
            module_cache: None,
            ssl_cert_file: None,
            data_dir: PathBuf::from(crate::input::TF_DATA_DIR),
            environments: Vec::new(),
            base,
        }
    }

    /// The environments a root module describes: a root shared by several environments is
    /// evaluated once for each, with its var-files.
    fn environments_of(&self, dir: &Path) -> Vec<&EnvironmentRoots> {
        let Ok(dir) = std::fs::canonicalize(dir) else { return Vec::new() };
        self.environments.iter().filter(|e| e.roots.contains(&dir)).collect()
    }

    /// How reports name a file: relative to `base`; a file of a module cache outside it by
    /// its place in the cache (`module-cache/registry/HOST/...`), the same on every machine.
    fn shown(&self, path: &Path) -> Arc<str> {
        shown_path(path, &self.base, self.module_cache.as_deref())
    }
}

/// [`Options::shown`], for any base and module cache.
fn shown_path(path: &Path, base: &Path, module_cache: Option<&Path>) -> Arc<str> {
    match module_cache {
        Some(cache) if cache.is_absolute() && !cache.starts_with(base) && path.starts_with(cache) => {
            format!("module-cache/{}", display_path(path, cache)).into()
        }
        _ => display_path(path, base),
    }
}

/// Loads the Terraform files given (`.tf`; their directories are modules) into the model.
/// Directories called as local modules by another directory are evaluated only through
/// that call, with its inputs, never on their own with default values.
///
/// The directories are split into groups that no module call crosses, and each group is
/// parsed, evaluated and dropped in turn (groups in parallel): the parsed files of a whole
/// monorepo, many times its text, are never all in memory at once.
pub fn load(files: &[PathBuf], options: &Options) -> Model {
    Model::concat(load_each::<Model>(files, options))
}

/// [`load`], each part converted as soon as it is loaded: what parsing each group reported,
/// then each root module's model, in the order of one pass over the whole tree.
pub fn load_each<T: From<Model> + Send>(files: &[PathBuf], options: &Options) -> Vec<T> {
    let mut dirs: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
    for file in files {
        dirs.entry(normalise(file.parent().unwrap_or(Path::new(".")))).or_default().push(file.clone());
    }
    let groups = groups::split(&dirs);
    let cache = options.module_cache.clone().map(|dir| modules::Cache::new(dir, options.ssl_cert_file.clone()));
    let roots = sandbox::Roots::new(&options.roots, &options.base, options.module_cache.as_deref());
    let loaded: Vec<(T, Vec<RootModel<T>>)> = groups
        .into_par_iter()
        .map(|group| {
            let (parsing, evaluated) = load_group(group, &dirs, options, cache.as_ref(), &roots);
            (T::from(parsing), evaluated.into_par_iter().map(RootModel::encoded).collect())
        })
        .collect();
    let mut parts = Vec::new();
    let mut roots = Vec::new();
    for (parsing, group_roots) in loaded {
        parts.push(parsing);
        roots.extend(group_roots);
    }
    roots.sort_by(|a, b| (a.only_in_cycle, &a.dir).cmp(&(b.only_in_cycle, &b.dir)));
    parts.extend(roots.into_iter().map(|root| root.model));
    parts
}

/// What one root module gave, with what orders it among the others.
struct RootModel<T> {
    /// Reached only through a cycle of calls (see [`root_dirs`]): these come last.
    only_in_cycle: bool,
    dir: PathBuf,
    model: T,
}

impl RootModel<Model> {
    /// Joined and converted, once its group's parsed files are gone: in a large root module
    /// their syntax trees are most of the memory, and joining and encoding its resources need
    /// only their values.
    fn encoded<T: From<Model>>(self) -> RootModel<T> {
        RootModel { only_in_cycle: self.only_in_cycle, dir: self.dir, model: T::from(joined(self.model)) }
    }
}

/// Parses the directories of one group (the given ones, the local modules they call, and the
/// installed modules their root modules call) into arenas dropped on return, and evaluates its
/// root modules: what parsing reported, and each root's model, its buckets not yet joined with
/// their settings (see [`RootModel::encoded`]).
fn load_group(
    given: BTreeSet<PathBuf>,
    files: &BTreeMap<PathBuf, Vec<PathBuf>>,
    options: &Options,
    cache: Option<&modules::Cache>,
    readable: &Arc<sandbox::Roots>,
) -> (Model, Vec<RootModel<Model>>) {
    let texts = typed_arena::Arena::new();
    let modules = typed_arena::Arena::new();
    let mut parser = Parser { files, options, cache, texts: &texts, modules: &modules, loaded: HashMap::new(), model: Model::default() };
    let mut calls: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
    for (caller, child) in parser.parse_with_local_modules(given.iter().cloned().collect()) {
        calls.entry(caller).or_default().insert(child);
    }
    let (plain, only_in_cycle) = root_dirs(&given, &calls);
    let roots: Vec<(bool, &ModuleDecls)> = plain
        .iter()
        .map(|d| (false, d))
        .chain(only_in_cycle.iter().map(|d| (true, d)))
        .filter_map(|(cycle, d)| Some((cycle, *parser.loaded.get(d)?)))
        .collect();
    let installed = roots.iter().map(|(_, root)| (root.dir.clone(), parser.resolve_modules(&root.dir))).collect();
    let Parser { loaded, model, .. } = parser;
    let loader = Loader { loaded, installed, base: options.base.clone(), workspace: options.workspace.clone(), roots: Some(readable.clone()) };
    let roots = roots
        .par_iter()
        .flat_map(|&(only_in_cycle, root)| {
            let environments = options.environments_of(&root.dir);
            let variants: Vec<Option<&EnvironmentRoots>> = if environments.is_empty() { vec![None] } else { environments.into_iter().map(Some).collect() };
            variants
                .into_par_iter()
                .map(|environment| {
                    let model = with_evaluation_stack(|| evaluate_root(&loader, root, options, environment));
                    RootModel { only_in_cycle, dir: root.dir.clone(), model }
                })
                .collect::<Vec<_>>()
        })
        .collect();
    (model, roots)
}

/// Parses module directories into arenas that outlive the evaluation of a group.
struct Parser<'a, 'm, 't> {
    /// The files of the given directories (others are listed when parsed).
    files: &'a BTreeMap<PathBuf, Vec<PathBuf>>,
    options: &'a Options,
    /// Where calls that are not installed are fetched (`--download-modules`).
    cache: Option<&'a modules::Cache>,
    texts: &'t typed_arena::Arena<String>,
    modules: &'m typed_arena::Arena<ModuleDecls<'t>>,
    loaded: HashMap<PathBuf, &'m ModuleDecls<'t>>,
    /// What parsing reported.
    model: Model,
}

impl<'m, 't> Parser<'_, 'm, 't> {
    /// Parses the directories not parsed yet (their files in parallel); gives the local module
    /// directories they call, with their caller.
    fn parse(&mut self, mut dirs: Vec<PathBuf>) -> Vec<(PathBuf, PathBuf)> {
        let mut seen = HashSet::new();
        dirs.retain(|dir| !self.loaded.contains_key(dir) && seen.insert(dir.clone()));
        let dirs: Vec<(PathBuf, Vec<PathBuf>)> = dirs
            .into_iter()
            .map(|dir| {
                let (kept, replaced) = files::module_files(self.files.get(&dir).cloned().unwrap_or_else(|| tf_files_in(&dir)));
                self.model.diagnostics.extend(replaced.iter().map(|(file, tofu)| replaced_by_tofu(self.options.shown(file), tofu)));
                (dir, kept)
            })
            .collect();
        let parsed_dirs = parse_dirs(&dirs, self.options, self.texts, &mut self.model);
        let mut calls = Vec::new();
        for ((dir, _), parsed) in dirs.into_iter().zip(parsed_dirs) {
            calls.extend(local_module_sources(&parsed).into_iter().map(|source| (dir.clone(), normalise(&dir.join(source)))));
            let decls: &ModuleDecls = self.modules.alloc(ModuleDecls { dir: dir.clone(), files: parsed });
            self.loaded.insert(dir, decls);
        }
        calls
    }

    /// Parses `dirs` and the local modules they call, breadth first (a level of calls at a
    /// time, the files of a level in parallel); gives every local call, with its caller.
    fn parse_with_local_modules(&mut self, mut level: Vec<PathBuf>) -> Vec<(PathBuf, PathBuf)> {
        let mut calls = Vec::new();
        while !level.is_empty() {
            let found = self.parse(level);
            level = found.iter().map(|(_, child)| child.clone()).collect();
            calls.extend(found);
        }
        calls
    }

    /// Where each module call of the root module in `root` is (see [`modules::resolve_root`]),
    /// parsing the installed modules it reaches.
    fn resolve_modules(&mut self, root: &Path) -> modules::RootModules {
        let (base, data_dir) = (self.options.base.clone(), self.options.data_dir.clone());
        let cache = self.cache;
        let mut parse = |dirs: &[PathBuf]| {
            self.parse(dirs.to_vec());
            dirs.iter().map(|dir| self.loaded.get(dir).copied()).collect()
        };
        let (installed, diagnostics) = modules::resolve_root(root, &data_dir, &base, cache, &mut parse);
        self.model.diagnostics.extend(diagnostics);
        installed
    }
}

/// The `.tf` and `.tf.json` files of each directory, parsed (all of them in parallel), in the
/// order given; what cannot be read or parsed is a diagnostic.
fn parse_dirs<'t>(dirs: &[(PathBuf, Vec<PathBuf>)], options: &Options, texts: &'t typed_arena::Arena<String>, model: &mut Model) -> Vec<Vec<ParsedFile<'t>>> {
    let paths: Vec<&PathBuf> = dirs.iter().flat_map(|(_, files)| files).collect();
    let read: Vec<(Result<Parsed, Diagnostic>, Vec<Diagnostic>)> = paths.par_iter().map(|path| read_file(path, options)).collect();
    let mut read = read.into_iter();
    let mut parsed_dirs = Vec::with_capacity(dirs.len());
    for (_, dir_files) in dirs {
        let mut parsed = Vec::with_capacity(dir_files.len());
        for (file, notes) in read.by_ref().take(dir_files.len()) {
            model.files_scanned += 1;
            model.diagnostics.extend(notes);
            match file {
                Ok(file) => parsed.push(file.into_file(texts)),
                Err(diagnostic) => model.diagnostics.push(diagnostic),
            }
        }
        parsed_dirs.push(parsed);
    }
    parsed_dirs
}

/// One `.tf` or `.tf.json` file read and parsed, with what parsing noted.
fn read_file(path: &Path, options: &Options) -> (Result<Parsed, Diagnostic>, Vec<Diagnostic>) {
    let display = options.shown(path);
    let mut notes = Vec::new();
    let parsed = crate::input::read_text(path, &display, "Terraform").and_then(|text| parse_source(&display, text, &mut notes));
    (parsed, notes)
}

/// A `.tf` file's text, or a `.tf.json` file's turned into HCL, parsed.
fn parse_source(path: &Arc<str>, text: String, notes: &mut Vec<Diagnostic>) -> Result<Parsed, Diagnostic> {
    let text = if files::is_json(path) { json_to_hcl(path, &text)? } else { text };
    files::parse(path, text, notes)
}

/// A note that `file` is not read because `tofu` replaces it, as in OpenTofu.
fn replaced_by_tofu(file: Arc<str>, tofu: &Path) -> Diagnostic {
    let tofu_name = tofu.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    Diagnostic::note(
        file.to_string(),
        None,
        format!("not read: {tofu_name} replaces it (OpenTofu reads a .tofu file instead of the .tf file of the same name)"),
    )
}

/// The given directories to evaluate on their own: those no other directory calls, then
/// any that only a cycle of calls reaches (so a module that calls itself is still read).
fn root_dirs(given: &BTreeSet<PathBuf>, calls: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> (Vec<PathBuf>, Vec<PathBuf>) {
    // One pass over the calls (a lookup per directory would be quadratic in big monorepos).
    let called_by_other: BTreeSet<&PathBuf> = calls.iter().flat_map(|(caller, callees)| callees.iter().filter(move |c| *c != caller)).collect();
    let roots: Vec<PathBuf> = given.iter().filter(|d| !called_by_other.contains(d)).cloned().collect();
    let mut reached: BTreeSet<PathBuf> = BTreeSet::new();
    let mut stack = roots.clone();
    while let Some(dir) = stack.pop() {
        if reached.insert(dir.clone()) {
            stack.extend(calls.get(&dir).into_iter().flatten().cloned());
        }
    }
    let mut only_in_cycle = Vec::new();
    for dir in given {
        if !reached.contains(dir) {
            only_in_cycle.push(dir.clone());
            let mut stack = vec![dir.clone()];
            while let Some(dir) = stack.pop() {
                if reached.insert(dir.clone()) {
                    stack.extend(calls.get(&dir).into_iter().flatten().cloned());
                }
            }
        }
    }
    (roots, only_in_cycle)
}

/// Evaluates one Terraform file held in memory as a root module of its own (no tfvars, no
/// module directories): for fuzzing the parser and evaluator, and for tests.
pub fn load_text(name: &str, text: &str) -> Model {
    let texts = typed_arena::Arena::new();
    let shown: Arc<str> = name.into();
    let mut model = Model { files_scanned: 1, ..Model::default() };
    let parsed = match parse_source(&shown, text.to_string(), &mut model.diagnostics) {
        Ok(parsed) => parsed.into_file(&texts),
        Err(diagnostic) => {
            model.diagnostics.push(diagnostic);
            return model;
        }
    };
    let decls = ModuleDecls { dir: PathBuf::from("(memory)"), files: vec![parsed] };
    let loader = Loader { loaded: HashMap::new(), installed: HashMap::new(), base: PathBuf::new(), workspace: "default".into(), roots: None };
    let options = Options { roots: Vec::new(), ..Options::new(PathBuf::new()) };
    model.extend(evaluate_root_on_its_stack(&loader, &decls, &options, None));
    model
}

/// The parsed module directories of one group, shared by its root modules.
struct Loader<'m, 't> {
    loaded: HashMap<PathBuf, &'m ModuleDecls<'t>>,
    /// Where each root module's calls are, by the root's directory.
    installed: HashMap<PathBuf, modules::RootModules>,
    base: PathBuf,
    workspace: String,
    /// Where file functions may read; `None` when nothing may be read.
    roots: Option<Arc<sandbox::Roots>>,
}

impl<'m, 't> Loader<'m, 't> {
    /// The loader for evaluating the root module in `dir`, with its own file access.
    fn for_root(&self, dir: &Path) -> RootLoader<'_, 'm, 't> {
        let sandbox = self.roots.clone().map_or_else(sandbox::Sandbox::closed, |roots| sandbox::Sandbox::new(dir, roots));
        RootLoader { shared: self, sandbox, installed: self.installed.get(dir) }
    }
}

/// The loader as one root module's evaluation sees it: with that root's file access.
struct RootLoader<'a, 'm, 't> {
    shared: &'a Loader<'m, 't>,
    sandbox: sandbox::Sandbox,
    installed: Option<&'a modules::RootModules>,
}

impl<'a, 'm: 'a, 't> ModuleLoader<'a, 't> for RootLoader<'a, 'm, 't> {
    fn module(&self, key: &str, source: &str, caller: &Path) -> Result<&'a ModuleDecls<'t>, modules::Missing> {
        let dir = match self.installed.and_then(|installed| installed.get(key)) {
            Some(Ok(dir)) => dir.clone(),
            Some(Err(missing)) => return Err(missing.clone()),
            // Not walked (a file in memory, or past the walk's limits): local calls only.
            None if modules::is_local(source) => normalise(&caller.join(source)),
            None => return Err(modules::Missing::note(format!("module source `{source}` is not a local path and was not looked up"))),
        };
        match self.shared.loaded.get(&dir) {
            Some(decls) if !decls.files.is_empty() => Ok(decls),
            _ => Err(modules::Missing::note(format!("module directory {} is not on disk or has no .tf files", self.relative(&dir)))),
        }
    }
    fn workspace(&self) -> &str {
        &self.shared.workspace
    }
    fn relative(&self, dir: &Path) -> String {
        display_path(dir, &self.shared.base).to_string()
    }
    fn sandbox(&self) -> &sandbox::Sandbox {
        &self.sandbox
    }
}

/// Stack for evaluating one root module. Evaluation recurses through references (a local
/// reading a local ...) up to [`eval::MAX_TOTAL_DEPTH`] expressions, about 10 KiB each in a
/// debug build: more than a rayon worker's 2 MiB, so each root gets a thread of its own.
const EVALUATION_STACK: usize = 32 * 1024 * 1024;

fn with_evaluation_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    let work = std::sync::Mutex::new(Some(f));
    let take = || work.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take().expect("the evaluation runs once");
    std::thread::scope(|scope| {
        match std::thread::Builder::new().name("charterguard-eval".into()).stack_size(EVALUATION_STACK).spawn_scoped(scope, || take()()) {
            Ok(handle) => handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            // No thread to be had (resource limits): evaluate here, on the smaller stack.
            Err(_) => take()(),
        }
    })
}

/// [`evaluate_root`] on a stack of its own, then [`joined`] back on the caller's thread.
fn evaluate_root_on_its_stack(loader: &Loader, root: &ModuleDecls, options: &Options, environment: Option<&EnvironmentRoots>) -> Model {
    joined(with_evaluation_stack(|| evaluate_root(loader, root, options, environment)))
}

/// A root module's model with its buckets joined with their split settings, in parallel: never
/// on an evaluation's own thread, since parallel work sent to the pool from there, while the
/// pool's workers wait for such threads, would never run.
fn joined(mut model: Model) -> Model {
    model.resources = s3::link_split_settings(std::mem::take(&mut model.resources));
    model
}

/// Evaluates a root module, for `environment` when one names it: with its var-files, each
/// resource labelled with it (and, as a render, named by it in findings). Its buckets are not
/// joined with their settings yet (see [`joined`]).
fn evaluate_root(loader: &Loader, root: &ModuleDecls, options: &Options, environment: Option<&EnvironmentRoots>) -> Model {
    let mut model = Model::default();
    let extra: &[PathBuf] = environment.map_or(&[], |e| &e.var_files);
    let inputs = root_inputs(&root.dir, options, extra, &mut model);
    let loader = loader.for_root(&root.dir);
    let instance = Instance::new(&loader, root, Call::root(inputs));
    eval::take_too_deep();
    let (mut resources, diagnostics) = instance.resources();
    let scope = display_path(&root.dir, &options.base);
    // A root evaluated for several environments joins within each evaluation.
    let scope: Arc<str> = match environment {
        Some(environment) if !environment.var_files.is_empty() => format!("{scope} [{}]", environment.name).into(),
        _ => scope,
    };
    resources.iter_mut().for_each(|resource| resource.join_scope = Some(scope.clone()));
    if let Some(environment) = environment {
        resources.iter_mut().for_each(|resource| resource.set_environment(&environment.name));
    }
    model.resources = resources;
    // A call inside a module instantiated several times is reported once.
    let mut seen = BTreeSet::new();
    model.diagnostics.extend(diagnostics.into_iter().filter(|d| seen.insert(d.clone())));
    model.diagnostics.extend(loader.sandbox.take_refused());
    if let Some(span) = eval::take_too_deep() {
        let message = format!("expressions nested deeper than {} levels through references (a chain of locals, or resources that refer to each other in a cycle?); values past that depth are unknown", eval::MAX_TOTAL_DEPTH);
        model.diagnostics.push(Diagnostic::error(span.file.to_string(), Some(span), message));
    }
    model
}

/// The native-syntax equivalent of a `.tf.json` file (JSON parse errors name the position).
fn json_to_hcl(path: &Arc<str>, text: &str) -> Result<String, Diagnostic> {
    let documents = crate::yaml::load(path, text, &crate::yaml::Limits::default())?;
    match documents.as_slice() {
        [document] => json::to_hcl(&document.root).map_err(|e| Diagnostic::error(path.to_string(), Some(document.span.clone()), e)),
        [] => Ok(String::new()),
        _ => Err(Diagnostic::error(path.to_string(), None, "a JSON configuration file (.tf.json, .tofu.json) holds one JSON object")),
    }
}

/// Variable values for a root module: `terraform.tfvars`, then `*.auto.tfvars` in name
/// order, then `--var-file`s; later files win, as in Terraform.
fn root_inputs(dir: &Path, options: &Options, environment_var_files: &[PathBuf], model: &mut Model) -> HashMap<String, Node> {
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
    var_files.extend(options.var_files.iter().chain(environment_var_files).cloned());
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
        match files::parse(&display, text, &mut model.diagnostics) {
            Ok(parsed) => inputs.extend(literal_attributes(&parsed.into_file(&arena))),
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

        /// Terraform refuses function calls in a variables file.
        fn functions(&self) -> Functions {
            Functions::None
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
    let is_terraform = |p: &Path| files::is_configuration(&p.to_string_lossy());
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(dir).map(|entries| entries.flatten().map(|e| e.path()).filter(|p| is_terraform(p) && p.is_file()).collect()).unwrap_or_default();
    files.sort();
    files
}

/// Removes `.` and folds `..` without touching the file system (symlinks are not followed
/// here; the walker already refused loops).
pub(crate) fn normalise(path: &Path) -> PathBuf {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Resource, Value};

    fn write(dir: &Path, files: &[(&str, &str)]) {
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
    }

    fn load_dir(dir: &Path, var_files: Vec<PathBuf>) -> Model {
        let files = crate::input::discover(&[dir.to_path_buf()], dir, &crate::input::Walk::default()).terraform;
        load(&files, &Options { var_files, workspace: "prod".into(), ..Options::new(dir.to_path_buf()) })
    }

    fn find<'m>(model: &'m Model, address: &str) -> &'m Resource {
        model.resources.iter().find(|r| r.address == address).unwrap_or_else(|| {
            let all: Vec<&str> = model.resources.iter().map(|r| r.address.as_str()).collect();
            panic!("no {address} in {all:?}")
        })
    }

    fn value<'m>(resource: &'m Resource, path: &str) -> &'m Value {
        &resource.attrs.path(path).unwrap_or_else(|| panic!("{} has no {path}", resource.address)).value
    }

    /// Root modules are evaluated on threads of their own, which the pool's workers wait for:
    /// what follows an evaluation in parallel (joining thousands of bucket settings) must run
    /// back on the worker, or two roots at once would wait on each other for ever.
    #[test]
    fn many_roots_join_their_settings_in_parallel_without_waiting_on_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let settings: String = (0..300)
            .map(|i| format!("resource \"aws_s3_bucket\" \"b{i}\" {{ bucket = \"b{i}\" }}\nresource \"aws_s3_bucket_versioning\" \"b{i}\" {{\n  bucket = aws_s3_bucket.b{i}.id\n}}\n"))
            .collect();
        let roots: Vec<(String, String)> = (0..16).map(|r| (format!("root{r}/main.tf"), settings.clone())).collect();
        write(dir.path(), &roots.iter().map(|(name, text)| (name.as_str(), text.as_str())).collect::<Vec<_>>());
        let (sent, received) = std::sync::mpsc::channel();
        let path = dir.path().to_path_buf();
        // The global pool, as scans use it: with fewer workers than roots, every worker waits.
        std::thread::spawn(move || {
            let _ = sent.send(load_dir(&path, Vec::new()).resources.len());
        });
        let loaded = received.recv_timeout(std::time::Duration::from_secs(60)).expect("the load finishes");
        assert_eq!(loaded, 16 * 600);
    }

    #[test]
    fn count_and_for_each_make_addressed_instances() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &[(
                "main.tf",
                r#"
variable "names" { default = ["a", "b"] }
resource "aws_s3_bucket" "counted" {
  count  = length(var.names)
  bucket = "bucket-${var.names[count.index]}"
}
resource "aws_s3_bucket" "keyed" {
  for_each = { "dst-001" = "x", "dst-002" = "y" }
  bucket   = "${each.key}-${each.value}-${terraform.workspace}"
}
"#,
            )],
        );
        let model = load_dir(dir.path(), Vec::new());
        assert_eq!(value(find(&model, "aws_s3_bucket.counted[1]"), "bucket"), &Value::Str("bucket-b".into()));
        assert_eq!(value(find(&model, "aws_s3_bucket.keyed[\"dst-002\"]"), "bucket"), &Value::Str("dst-002-y-prod".into()));
        assert!(model.diagnostics.is_empty(), "{:?}", model.diagnostics);
    }

    #[test]
    fn tfvars_override_defaults_and_keep_their_location() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &[
                ("variables.tf", "variable \"region\" { default = \"ap-south-1\" }\nvariable \"env\" {}\n"),
                ("providers.tf", "provider \"aws\" {\n  region = var.region\n}\n"),
                ("terraform.tfvars", "region = \"eu-west-1\"\n"),
                ("z.auto.tfvars", "env = \"staging\"\n"),
                ("extra.vars", "env = \"prod\"\n"),
                ("main.tf", "locals { env = var.env }\nresource \"aws_sqs_queue\" \"q\" { name = local.env }\n"),
            ],
        );
        let model = load_dir(dir.path(), vec![dir.path().join("extra.vars")]);
        let region = find(&model, "provider.aws").attrs.get("region").unwrap();
        assert_eq!(region.value, Value::Str("eu-west-1".into()));
        let span = region.span.as_ref().unwrap();
        assert_eq!((&*span.file, span.start_line), ("terraform.tfvars", 1));
        assert_eq!(value(find(&model, "aws_sqs_queue.q"), "name"), &Value::Str("prod".into()));
    }

    #[test]
    fn optional_attribute_defaults_reach_resources() {
        let dir = tempfile::tempdir().unwrap();
        let types = "variable \"buckets\" {\n  type = map(object({\n    object_lock = optional(bool, true)\n  }))\n}\n";
        let buckets = "resource \"aws_s3_bucket\" \"b\" {\n  for_each            = var.buckets\n  bucket              = each.key\n  object_lock_enabled = each.value.object_lock\n}\n";
        let call = "module \"archive\" {\n  source   = \"./archive\"\n  settings = { name = \"archive\" }\n}\n";
        let archive = "variable \"settings\" {\n  type = object({ name = string, object_lock = optional(bool, true) })\n}\nresource \"aws_s3_bucket\" \"b\" {\n  object_lock_enabled = var.settings.object_lock\n}\n";
        let tfvars = "buckets = {\n  logs    = {}\n  scratch = { object_lock = \"false\" }\n}\n";
        write(dir.path(), &[("main.tf", &format!("{types}{buckets}{call}")), ("terraform.tfvars", tfvars), ("archive/main.tf", archive)]);
        let model = load_dir(dir.path(), Vec::new());
        let lock = find(&model, "aws_s3_bucket.b[\"logs\"]").attrs.get("object_lock_enabled").unwrap();
        assert_eq!(lock.value, Value::Bool(true));
        let span = lock.span.as_ref().unwrap();
        assert_eq!((&*span.file, span.start_line), ("main.tf", 3), "the value points at the default in the type");
        let scratch = find(&model, "aws_s3_bucket.b[\"scratch\"]").attrs.get("object_lock_enabled").unwrap();
        assert_eq!((&scratch.value, scratch.span.as_ref().map(|s| s.start_line)), (&Value::Bool(false), Some(3)), "converted, still at its tfvars line");
        assert_eq!(value(find(&model, "module.archive.aws_s3_bucket.b"), "object_lock_enabled"), &Value::Bool(true));
        assert!(model.diagnostics.is_empty(), "{:?}", model.diagnostics);
    }

    #[test]
    fn var_files_and_json_variables_are_typed_too() {
        let dir = tempfile::tempdir().unwrap();
        let json = "{\n  \"variable\": {\n    \"replicas\": { \"type\": \"number\" },\n    \"tags\": { \"type\": \"map(string)\", \"default\": { \"cost\": 5 } }\n  }\n}\n";
        let main = "resource \"aws_sqs_queue\" \"q\" {\n  delay_seconds = var.replicas\n  tags          = var.tags\n}\n";
        write(dir.path(), &[("variables.tf.json", json), ("main.tf", main), ("prod.vars", "replicas = \"3\"\n")]);
        let model = load_dir(dir.path(), vec![dir.path().join("prod.vars")]);
        let queue = find(&model, "aws_sqs_queue.q");
        let delay = queue.attrs.get("delay_seconds").unwrap();
        assert_eq!((&delay.value, delay.span.as_ref().map(|s| (&*s.file, s.start_line))), (&Value::Int(3), Some(("prod.vars", 1))));
        assert_eq!(value(queue, "tags.cost"), &Value::Str("5".into()));
        assert!(model.diagnostics.is_empty(), "{:?}", model.diagnostics);
    }

    #[test]
    fn values_that_do_not_fit_their_type_are_errors_where_written() {
        let dir = tempfile::tempdir().unwrap();
        let main = "variable \"retention\" {\n  type = object({ days = number })\n}\nvariable \"unread\" {\n  type = list(string)\n}\nvariable \"odd\" {\n  type = lst(string)\n}\nresource \"aws_s3_bucket\" \"b\" {\n  days = var.retention.days\n  odd  = var.odd\n}\n";
        write(dir.path(), &[("main.tf", main), ("terraform.tfvars", "retention = {\n  days = \"ninety\"\n}\nunread = { a = 1 }\nodd = 5\n")]);
        let model = load_dir(dir.path(), Vec::new());
        let bucket = find(&model, "aws_s3_bucket.b");
        assert!(
            matches!(value(bucket, "days"), Value::Unknown(r) if crate::terraform::eval::is_error_reason(r) && r.contains("var.retention.days: a number is required"))
        );
        assert_eq!(value(bucket, "odd"), &Value::Int(5), "an invalid type constraint takes any value");
        let errors: Vec<(String, u32, u32)> =
            model.diagnostics.iter().map(|d| (d.message.clone(), d.span.as_ref().unwrap().start_line, d.span.as_ref().unwrap().start_col)).collect();
        assert_eq!(
            errors,
            vec![
                ("unsuitable value for var.retention.days: a number is required".into(), 2, 10),
                ("invalid type constraint for var.odd: the keyword \"lst\" is not a valid type constructor".into(), 8, 10),
                ("unsuitable value for var.unread: list of string required".into(), 4, 10),
            ],
            "reported even for a variable nothing reads"
        );
        assert!(model.diagnostics.iter().all(|d| d.level == crate::model::DiagnosticLevel::Error));
    }

    #[test]
    fn missing_inputs_are_unknown_not_guessed() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &[("main.tf", "variable \"key\" {}\nprovider \"aws\" {}\nresource \"aws_sqs_queue\" \"q\" { kms_master_key_id = var.key }\n")]);
        let model = load_dir(dir.path(), Vec::new());
        assert!(matches!(value(find(&model, "aws_sqs_queue.q"), "kms_master_key_id"), Value::Unknown(r) if r.contains("var.key")));
        assert!(matches!(value(find(&model, "provider.aws"), "region"), Value::Unknown(_)));
    }

    #[test]
    fn local_modules_get_their_inputs_and_prefix() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &[
            ("envs/prod/main.tf", "module \"lake\" {\n  source   = \"../../modules/lake\"\n  for_each = toset([\"dst-001\"])\n  name     = each.key\n}\nmodule \"remote\" {\n  source = \"terraform-aws-modules/s3-bucket/aws\"\n}\noutput \"key\" { value = module.lake[\"dst-001\"].key }\n"),
            ("modules/lake/main.tf", "variable \"name\" {}\nresource \"aws_kms_key\" \"k\" {}\nresource \"aws_s3_bucket\" \"b\" { bucket = \"lake-${var.name}\" }\noutput \"key\" { value = aws_kms_key.k.arn }\n"),
        ]);
        // Scanned from the repository root: paths stay relative to it.
        let model = {
            let files = crate::input::discover(&[dir.path().join("envs/prod")], dir.path(), &crate::input::Walk::default()).terraform;
            load(&files, &Options::new(dir.path().to_path_buf()))
        };
        let bucket = find(&model, "module.lake[\"dst-001\"].aws_s3_bucket.b");
        assert_eq!(value(bucket, "bucket"), &Value::Str("lake-dst-001".into()));
        assert_eq!(&*bucket.span.file, "modules/lake/main.tf");
        assert_eq!(bucket.call_chain.len(), 1);
        assert_eq!(&*bucket.call_chain[0].file, "envs/prod/main.tf");
        let notes: Vec<String> = model.diagnostics.iter().map(|d| d.to_string()).collect();
        assert!(notes.iter().any(|n| n.contains("module.remote") && n.contains("not on disk")), "{notes:?}");
    }

    #[test]
    fn modules_calling_themselves_stop_with_an_error() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &[("root/main.tf", "module \"again\" {\n  source = \"./\"\n}\nresource \"aws_sqs_queue\" \"q\" {}\n")]);
        let model = load_dir(&dir.path().join("root"), Vec::new());
        assert!(model.diagnostics.iter().any(|d| d.message.contains("deeper than")), "{:?}", model.diagnostics);
    }

    /// Runs `f` on a thread with the stack of a rayon worker (2 MiB), where scans evaluate.
    fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::Builder::new().stack_size(2 * 1024 * 1024).spawn(f).unwrap().join().expect("no stack overflow")
    }

    #[test]
    fn long_chains_of_locals_are_cut_with_an_error_not_a_stack_overflow() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::from("locals {\n");
        for i in 0..10_000 {
            text.push_str(&format!("  x{i} = local.x{}\n", i + 1));
        }
        text.push_str("  x10000 = \"v\"\n  short = local.x9990\n}\nresource \"aws_s3_bucket\" \"b\" {\n  bucket = local.x0\n}\nresource \"aws_s3_bucket\" \"ok\" {\n  bucket = local.short\n}\n");
        write(dir.path(), &[("main.tf", &text)]);
        let root = dir.path().to_path_buf();
        let model = on_small_stack(move || load_dir(&root, Vec::new()));
        let error = model.diagnostics.iter().find(|d| d.message.contains("nested deeper than")).unwrap_or_else(|| panic!("{:?}", model.diagnostics));
        assert_eq!(error.level, crate::model::DiagnosticLevel::Error);
        assert!(error.span.as_ref().is_some_and(|s| s.start_line > 1), "{error}");
        assert!(matches!(value(find(&model, "aws_s3_bucket.b"), "bucket"), Value::Unknown(_)));
        assert_eq!(value(find(&model, "aws_s3_bucket.ok"), "bucket"), &Value::Str("v".into()));
    }

    #[test]
    fn resources_that_read_each_other_in_a_cycle_end_with_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let text = "resource \"aws_s3_bucket\" \"a\" {\n  bucket = aws_s3_bucket.b.bucket\n}\nresource \"aws_s3_bucket\" \"b\" {\n  bucket = aws_s3_bucket.a.bucket\n}\n";
        write(dir.path(), &[("main.tf", text)]);
        let root = dir.path().to_path_buf();
        let model = on_small_stack(move || load_dir(&root, Vec::new()));
        assert!(model.diagnostics.iter().any(|d| d.message.contains("nested deeper than")), "{:?}", model.diagnostics);
        assert!(matches!(value(find(&model, "aws_s3_bucket.a"), "bucket"), Value::Unknown(_)));
    }

    #[test]
    fn split_s3_settings_join_their_bucket_by_reference_or_name() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &[(
                "main.tf",
                r#"
resource "aws_s3_bucket" "by_ref" { bucket = "one" }
resource "aws_s3_bucket" "by_name" { bucket = "two" }
resource "aws_s3_bucket_versioning" "v" {
  bucket = aws_s3_bucket.by_ref.id
  versioning_configuration { status = "Enabled" }
}
resource "aws_s3_bucket_server_side_encryption_configuration" "e" {
  bucket = "two"
  rule {
    apply_server_side_encryption_by_default { sse_algorithm = "AES256" }
  }
}
"#,
            )],
        );
        let model = load_dir(dir.path(), Vec::new());
        let by_ref = find(&model, "aws_s3_bucket.by_ref");
        assert_eq!(value(by_ref, "versioning.versioning_configuration.status"), &Value::Str("Enabled".into()));
        let sse = find(&model, "aws_s3_bucket.by_name")
            .attrs
            .path("server_side_encryption_configuration.rule.apply_server_side_encryption_by_default.sse_algorithm")
            .unwrap();
        assert_eq!(sse.span.as_ref().unwrap().start_line, 11);
    }

    #[test]
    fn unlinkable_split_settings_make_buckets_unknown() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &[("main.tf", "variable \"b\" {}\nresource \"aws_s3_bucket\" \"x\" { bucket = \"x\" }\nresource \"aws_s3_bucket_versioning\" \"v\" {\n  bucket = var.b\n  versioning_configuration { status = \"Enabled\" }\n}\n")]);
        let model = load_dir(dir.path(), Vec::new());
        assert!(matches!(value(find(&model, "aws_s3_bucket.x"), "versioning"), Value::Unknown(r) if r.contains("aws_s3_bucket_versioning.v")));
    }

    #[test]
    fn dynamic_blocks_expand() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &[(
                "main.tf",
                r#"
resource "aws_security_group" "sg" {
  dynamic "ingress" {
    for_each = [443, 8080]
    iterator = port
    content {
      from_port = port.value
    }
  }
}
"#,
            )],
        );
        let model = load_dir(dir.path(), Vec::new());
        let Value::List(blocks) = value(find(&model, "aws_security_group.sg"), "ingress") else { panic!("ingress is a list") };
        let ports: Vec<&Value> = blocks.iter().map(|b| &b.get("from_port").unwrap().value).collect();
        assert_eq!(ports, vec![&Value::Int(443), &Value::Int(8080)]);
    }

    #[test]
    fn tf_json_resources_point_at_their_lines() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &[(
                "main.tf.json",
                "{\n  \"resource\": {\n    \"aws_s3_bucket\": {\n      \"b\": {\n        \"bucket\": \"logs-${terraform.workspace}\"\n      }\n    }\n  }\n}\n",
            )],
        );
        let model = load_dir(dir.path(), Vec::new());
        let bucket = find(&model, "aws_s3_bucket.b").attrs.get("bucket").unwrap();
        assert_eq!(bucket.value, Value::Str("logs-prod".into()));
        assert_eq!(bucket.span.as_ref().unwrap().start_line, 5);
    }

    #[test]
    fn effective_region_follows_aliases_and_module_provider_maps() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &[
                (
                    "root/main.tf",
                    r#"
provider "aws" {
  region = "ap-south-1"
}
provider "aws" {
  alias  = "dr"
  region = "ap-south-2"
}
provider "aws" {
  alias  = "us"
  region = "us-east-1"
}
resource "aws_s3_bucket" "primary" {}
resource "aws_s3_bucket" "nulled" {
  region = null
}
resource "aws_s3_bucket" "copy" {
  provider = aws.dr
}
module "replica" {
  source    = "./replica"
  providers = { aws = aws.us }
}
module "inherits" {
  source = "./replica"
}
"#,
                ),
                ("root/replica/main.tf", "resource \"aws_s3_bucket\" \"b\" {}\n"),
            ],
        );
        let model = load_dir(&dir.path().join("root"), Vec::new());
        let region = |address: &str| match value(find(&model, address), "__region") {
            Value::Str(region) => region.clone(),
            other => panic!("{address}: {other:?}"),
        };
        assert_eq!(region("aws_s3_bucket.primary"), "ap-south-1");
        assert_eq!(region("aws_s3_bucket.nulled"), "ap-south-1", "a null region argument is the provider's");
        assert_eq!(region("aws_s3_bucket.copy"), "ap-south-2");
        assert_eq!(region("module.replica.aws_s3_bucket.b"), "us-east-1");
        assert_eq!(region("module.inherits.aws_s3_bucket.b"), "ap-south-1");
        assert_eq!(value(find(&model, "module.replica.aws_s3_bucket.b"), "__provider"), &Value::Str("provider.aws.us".into()));
        let span = find(&model, "module.replica.aws_s3_bucket.b").attrs.get("__region").unwrap().span.clone().unwrap();
        assert_eq!((&*span.file, span.start_line), ("main.tf", 11), "the region is reported where it is written");
    }

    #[test]
    fn data_sources_the_configuration_decides_are_read() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &[(
                "main.tf",
                r#"
provider "aws" {
  region              = "ap-south-1"
  allowed_account_ids = ["111111111111"]
}
provider "aws" {
  alias  = "dr"
  region = "ap-south-2"
}
data "aws_region" "here" {}
data "aws_region" "dr" {
  provider = aws.dr
}
data "aws_caller_identity" "me" {}
data "aws_partition" "p" {}
data "aws_availability_zones" "azs" {}
data "aws_iam_policy_document" "each" {
  for_each = toset(["a", "b"])
  statement {
    actions   = ["s3:GetObject"]
    resources = ["arn:${data.aws_partition.p.partition}:s3:::${each.key}/*"]
  }
}
resource "aws_sqs_queue" "q" {
  name   = "q-${data.aws_caller_identity.me.account_id}-${data.aws_region.here.name}-${data.aws_region.dr.region}"
  policy = data.aws_iam_policy_document.each["b"].minified_json
  tags   = { zones = data.aws_availability_zones.azs.names[0] }
}
"#,
            )],
        );
        let model = load_dir(dir.path(), Vec::new());
        let queue = find(&model, "aws_sqs_queue.q");
        assert_eq!(value(queue, "name"), &Value::Str("q-111111111111-ap-south-1-ap-south-2".into()));
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;
        assert_eq!(value(queue, "policy"), &Value::Str(policy.into()));
        // A data source only AWS can answer stays a reference to it.
        assert!(matches!(value(queue, "tags.zones"), Value::Ref { address, .. } if address == "data.aws_availability_zones.azs"));
        assert!(model.diagnostics.is_empty(), "{:?}", model.diagnostics);
    }

    #[test]
    fn a_policy_document_the_provider_would_refuse_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let text = "data \"aws_iam_policy_document\" \"p\" {\n  statement {\n    sid = \"A\"\n  }\n  statement {\n    sid = \"A\"\n  }\n}\nresource \"aws_sqs_queue\" \"q\" {\n  policy = data.aws_iam_policy_document.p.json\n}\n";
        write(dir.path(), &[("main.tf", text)]);
        let model = load_dir(dir.path(), Vec::new());
        assert!(crate::terraform::eval::is_error(find(&model, "aws_sqs_queue.q").attrs.get("policy").unwrap()));
        let error = model.diagnostics.iter().find(|d| d.is_error()).unwrap_or_else(|| panic!("{:?}", model.diagnostics));
        assert!(error.message.contains("duplicate Sid (A)") && error.span.as_ref().is_some_and(|s| s.start_line == 1), "{error}");
    }

    #[test]
    fn default_tags_are_merged_into_tags_all() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &[
                (
                    "root/main.tf",
                    "provider \"aws\" {\n  region = \"ap-south-1\"\n  default_tags {\n    tags = { layer = \"bronze\", env = \"prod\" }\n  }\n}\nresource \"aws_s3_bucket\" \"raw\" {\n  tags = { env = \"dev\" }\n}\nmodule \"lake\" {\n  source = \"./lake\"\n}\n",
                ),
                ("root/lake/main.tf", "resource \"aws_s3_bucket\" \"b\" {}\n"),
            ],
        );
        let model = load_dir(&dir.path().join("root"), Vec::new());
        let raw = find(&model, "aws_s3_bucket.raw");
        assert_eq!(value(raw, "tags_all.layer"), &Value::Str("bronze".into()));
        assert_eq!(value(raw, "tags_all.env"), &Value::Str("dev".into()), "the resource's own tag wins");
        assert_eq!(value(find(&model, "module.lake.aws_s3_bucket.b"), "tags_all.layer"), &Value::Str("bronze".into()), "inherited by modules");
    }

    #[test]
    fn opentofu_files_are_read_and_replace_their_tf_twins() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &[
                ("main.tf", "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"from-tf\"\n}\n"),
                ("main.tofu", "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"from-tofu\"\n}\n"),
                ("extra.tofu.json", "{\"resource\": {\"aws_sqs_queue\": {\"q\": {\"name\": \"q\"}}}}\n"),
            ],
        );
        let model = load_dir(dir.path(), Vec::new());
        assert_eq!(value(find(&model, "aws_s3_bucket.b"), "bucket"), &Value::Str("from-tofu".into()));
        assert_eq!(value(find(&model, "aws_sqs_queue.q"), "name"), &Value::Str("q".into()));
        assert_eq!(model.resources.iter().filter(|r| r.address == "aws_s3_bucket.b").count(), 1);
        let note = model.diagnostics.iter().find(|d| d.file == "main.tf").unwrap_or_else(|| panic!("{:?}", model.diagnostics));
        assert!(note.message.contains("main.tofu replaces it") && !note.is_error(), "{note}");
    }

    #[test]
    fn blocks_that_create_nothing_are_read_without_error_or_resource() {
        let dir = tempfile::tempdir().unwrap();
        let text = r#"
terraform {
  cloud {
    organization = "altscore"
    workspaces { name = "platform" }
  }
}
import {
  to = aws_s3_bucket.b
  id = "altscore-prod-gold"
}
moved {
  from = aws_s3_bucket.old
  to   = aws_s3_bucket.b
}
removed {
  from = aws_s3_bucket.gone
  lifecycle { destroy = false }
}
check "gold_reachable" {
  data "http" "probe" { url = "https://example.test" }
  assert {
    condition     = data.http.probe.status_code == 200
    error_message = "unreachable"
  }
}
ephemeral "aws_secretsmanager_secret_version" "db" {
  secret_id = "prod/db"
}
resource "aws_db_instance" "db" {
  password_wo         = ephemeral.aws_secretsmanager_secret_version.db.secret_string
  password_wo_version = 1
}
resource "aws_s3_bucket" "b" {
  bucket = "altscore-prod-gold"
}
"#;
        write(dir.path(), &[("main.tf", text)]);
        let model = load_dir(dir.path(), Vec::new());
        assert!(model.diagnostics.is_empty(), "{:?}", model.diagnostics);
        let mut types: Vec<&str> = model.resources.iter().map(|r| r.rtype.as_str()).collect();
        types.sort();
        assert_eq!(types, ["aws_db_instance", "aws_s3_bucket", "terraform.backend.cloud"]);
        assert!(matches!(value(find(&model, "aws_db_instance.db"), "password_wo"), Value::Unknown(r) if r.contains("ephemeral")));
    }

    #[test]
    fn values_decoded_from_a_data_file_point_at_their_lines_in_it() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &[
                ("data/distributors.yaml", "distributors:\n  - id: dst-001\n    worm_years: 7\n  - id: dst-002\n    worm_years: 5\n"),
                (
                    "envs/prod/main.tf",
                    "locals {\n  distributors = yamldecode(file(\"${path.module}/../../data/distributors.yaml\")).distributors\n  inline       = yamldecode(\"years: 5\")\n}\nresource \"aws_s3_bucket\" \"b\" {\n  for_each = { for d in local.distributors : d.id => d }\n  years    = each.value.worm_years\n  inline   = local.inline.years\n}\n",
                ),
            ],
        );
        let files = crate::input::discover(&[dir.path().to_path_buf()], dir.path(), &crate::input::Walk::default()).terraform;
        let model = load(&files, &Options::new(dir.path().to_path_buf()));
        let bucket = find(&model, "aws_s3_bucket.b[\"dst-002\"]");
        let years = bucket.attrs.get("years").unwrap();
        assert_eq!(years.value, Value::Int(5));
        let span = years.span.as_ref().unwrap();
        assert_eq!((&*span.file, span.start_line, span.start_col), ("data/distributors.yaml", 5, 17));
        // YAML text that is not a whole file has no place of its own: the reference is where.
        let inline = bucket.attrs.get("inline").unwrap().span.as_ref().unwrap();
        assert_eq!((&*inline.file, inline.start_line), ("envs/prod/main.tf", 8));
    }

    #[test]
    fn a_bool_passed_through_a_string_variable_is_a_bool_again_where_a_provider_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let text = "variable \"scan\" {\n  type    = string\n  default = true\n}\nresource \"aws_ecr_repository\" \"r\" {\n  image_scanning_configuration {\n    scan_on_push = var.scan\n  }\n  tags = { scanned = var.scan }\n}\noutput \"text\" { value = var.scan }\n";
        write(dir.path(), &[("main.tf", text)]);
        let model = load_dir(dir.path(), Vec::new());
        let repository = find(&model, "aws_ecr_repository.r");
        assert_eq!(value(repository, "image_scanning_configuration.scan_on_push"), &Value::Bool(true));
        assert_eq!(value(repository, "tags.scanned"), &Value::Str("true".into()), "tag values are strings");
        assert_eq!(
            crate::terraform::evaluate_outputs(&Options::new(dir.path().to_path_buf())).unwrap()["text"],
            serde_json::json!("true"),
            "Terraform's own value is text"
        );
    }

    #[test]
    fn override_files_merge_into_the_blocks_they_name() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &[
                (
                    "main.tf",
                    r#"
terraform {
  backend "s3" {
    region = "ap-south-1"
  }
}
provider "aws" {
  region = "ap-south-1"
}
provider "aws" {
  alias  = "dr"
  region = "ap-south-2"
}
locals {
  name = "main"
}
resource "aws_s3_bucket" "b" {
  count  = 1
  bucket = local.name
  acl    = "private"
  lifecycle_rule {
    id = "a"
  }
  lifecycle_rule {
    id = "b"
  }
}
module "m" {
  source = "./m"
  size   = 1
}
output "size" { value = module.m.size }
"#,
                ),
                ("m/main.tf", "variable \"size\" {}\noutput \"size\" { value = var.size }\n"),
                (
                    "override.tf",
                    r#"
terraform {
  backend "local" {}
}
provider "aws" {
  alias  = "dr"
  region = "eu-west-1"
}
locals {
  name = "overridden"
}
resource "aws_s3_bucket" "b" {
  count = 2
  lifecycle_rule {
    id = "only"
  }
}
module "m" {
  size = 3
}
"#,
                ),
                (
                    "z_override.tf",
                    "resource \"aws_s3_bucket\" \"b\" {\n  acl = \"log-delivery-write\"\n}\nresource \"aws_s3_bucket\" \"nothing\" {\n  bucket = \"x\"\n}\n",
                ),
            ],
        );
        let model = load_dir(dir.path(), Vec::new());
        let buckets: Vec<&str> = model.resources.iter().filter(|r| r.rtype == "aws_s3_bucket").map(|r| r.address.as_str()).collect();
        assert_eq!(buckets, ["aws_s3_bucket.b[0]", "aws_s3_bucket.b[1]"], "count from the override, no bucket of its own");
        let bucket = find(&model, "aws_s3_bucket.b[1]");
        assert_eq!(value(bucket, "bucket"), &Value::Str("overridden".into()), "the local replaced");
        assert_eq!(value(bucket, "acl"), &Value::Str("log-delivery-write".into()), "the last override wins");
        let Value::List(rules) = value(bucket, "lifecycle_rule") else { panic!("blocks") };
        assert_eq!(rules.len(), 1, "a nested block type replaces all the blocks of that type");
        assert_eq!(value(find(&model, "provider.aws.dr"), "region"), &Value::Str("eu-west-1".into()));
        assert_eq!(value(find(&model, "provider.aws"), "region"), &Value::Str("ap-south-1".into()));
        assert_eq!(find(&model, "terraform.backend").rtype, "terraform.backend.local");
        assert_eq!(
            crate::terraform::evaluate_outputs(&Options::new(dir.path().to_path_buf())).unwrap()["size"],
            serde_json::json!(3),
            "a module argument replaced"
        );
        let error = model.diagnostics.iter().find(|d| d.is_error()).unwrap_or_else(|| panic!("{:?}", model.diagnostics));
        assert!(error.message.contains("resource \"aws_s3_bucket\" \"nothing\"") && error.file == "z_override.tf", "{error}");
    }

    #[test]
    fn no_provider_configuration_means_an_unknown_region() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &[("main.tf", "resource \"aws_s3_bucket\" \"b\" {}\n")]);
        let model = load_dir(dir.path(), Vec::new());
        assert!(matches!(value(find(&model, "aws_s3_bucket.b"), "__region"), Value::Unknown(r) if r.contains("root module")));
    }

    #[test]
    fn a_file_in_memory_is_a_root_module() {
        let model = load_text("mem.tf", "locals { n = \"logs\" }\nresource \"aws_s3_bucket\" \"b\" { bucket = local.n }\n");
        assert_eq!(value(find(&model, "aws_s3_bucket.b"), "bucket"), &Value::Str("logs".into()));
        let broken = load_text("bad.tf", "resource \"a\" {\n");
        assert!(broken.resources.is_empty() && broken.diagnostics.len() == 1, "{:?}", broken.diagnostics);
    }
}

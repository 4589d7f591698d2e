//! One scan from inputs to findings: discover, load every source in parallel into one model,
//! evaluate the rules. The CLI, the tests and the GitHub Action all go through here.

use crate::config::{Config, UndecidedPolicy};
use crate::engine::{self, CompiledRule};
use crate::input;
use crate::model::Finding;
use crate::model::{Diagnostic, DiagnosticLevel, Model, Store, StoreBuilder};
use crate::rules::RuleMeta;
use rayon::prelude::*;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What to scan and how.
#[derive(Clone)]
pub struct ScanOptions {
    /// Files and directories.
    pub paths: Vec<PathBuf>,
    /// YAML read from standard input (`-`), e.g. `helm template` output.
    pub stdin: Option<String>,
    /// `--helm CHART`: this render of a chart, its objects mapped back onto the chart's
    /// template files (see [`crate::helm`]).
    pub helm: Option<crate::helm::Render>,
    /// Extra Terraform variable files for root modules.
    pub var_files: Vec<PathBuf>,
    pub workspace: String,
    /// Directories of the user's own rule files.
    pub rules_dirs: Vec<PathBuf>,
    /// The file size limit and Terraform's data directory (`TF_DATA_DIR`).
    pub walk: input::Walk,
    /// Paths in reports are relative to this directory.
    pub base: PathBuf,
    /// `--config FILE`; when absent, `charterguard.yaml` at the first scanned directory or
    /// at `base` is used if there is one.
    pub config_path: Option<PathBuf>,
    /// Honour `charterguard:ignore` comments and `charterguard.io/ignore` annotations;
    /// `false` for `--no-inline-ignores` (only the config's `ignores` then count).
    pub inline_ignores: bool,
    /// The day suppressions' `until` is compared with; `None` is today (system clock, UTC).
    pub today: Option<crate::model::Date>,
    /// `--baseline FILE`: a previous JSON or SARIF report; findings it has are unchanged.
    pub baseline: Option<PathBuf>,
    /// `--download-modules`: Terraform modules not installed are fetched into this cache.
    pub module_cache: Option<PathBuf>,
    /// `SSL_CERT_FILE`: the PEM roots module downloads trust instead of Mozilla's.
    pub ssl_cert_file: Option<PathBuf>,
}

impl ScanOptions {
    /// Options for scanning `paths`, with reports relative to `base`; `TF_DATA_DIR` and
    /// `SSL_CERT_FILE` as the process environment sets them. They are read here, once, so
    /// nothing below reads a variable behind its caller's back.
    pub fn new(paths: Vec<PathBuf>, base: PathBuf) -> Self {
        ScanOptions {
            paths,
            stdin: None,
            helm: None,
            var_files: Vec::new(),
            workspace: "default".into(),
            rules_dirs: Vec::new(),
            walk: input::Walk { tf_data_dir: input::tf_data_dir_of_process(), ..input::Walk::default() },
            base,
            config_path: None,
            inline_ignores: true,
            today: None,
            baseline: None,
            module_cache: None,
            ssl_cert_file: std::env::var_os("SSL_CERT_FILE").filter(|f| !f.is_empty()).map(PathBuf::from),
        }
    }
}

/// Everything a report needs.
pub struct ScanOutcome {
    pub model: Store,
    pub findings: Vec<Finding>,
    pub rules: Vec<RuleMeta>,
    pub elapsed: Duration,
    /// How long each phase took, with what it counted (`--timings`).
    pub timings: Timings,
    /// With a baseline: how many findings are new, unchanged, and which were resolved.
    pub baseline: Option<crate::baseline::Summary>,
    /// The config's `undecided:`: whether undecided findings fail the run.
    pub undecided: UndecidedPolicy,
    /// The config's `secrets:`: what reports hide.
    pub secrets: crate::redact::vocabulary::Vocabulary,
}

impl ScanOutcome {
    /// The report of this scan; `source_text` reads files for the human format's code frames.
    pub fn report<'a>(&'a self, source_text: &'a dyn Fn(&str) -> Option<Arc<str>>) -> crate::report::Report<'a> {
        crate::report::Report {
            findings: &self.findings,
            rules: &self.rules,
            diagnostics: &self.model.diagnostics,
            files_scanned: self.model.files_scanned,
            resources: self.model.resources.len(),
            elapsed: self.elapsed,
            source_text,
            secrets: &self.secrets,
        }
    }

    /// True when some input or rule file could not be read: the exit code is then 2.
    pub fn has_errors(&self) -> bool {
        self.model.diagnostics.iter().any(|d| d.level == DiagnosticLevel::Error)
    }

    /// True when a live source could not read part of what it audits (the rules it feeds
    /// could not decide): the exit code is then 2 unless `--allow-partial`.
    pub fn is_partial(&self) -> bool {
        self.model.diagnostics.iter().any(|d| d.level == DiagnosticLevel::Incomplete)
    }

    /// The findings that count for the exit code: violations at or above `threshold` (and with
    /// `undecided` [`UndecidedPolicy::Fail`], undecided findings of rules at or above it) that
    /// no suppression covers and that are not already in the baseline.
    pub fn failing(&self, threshold: crate::model::Severity, undecided: UndecidedPolicy) -> impl Iterator<Item = &Finding> {
        let counts = move |f: &Finding| match f.outcome {
            engine::Outcome::Violation => f.severity >= threshold,
            engine::Outcome::Undecided => undecided == UndecidedPolicy::Fail && f.rule_severity >= threshold,
        };
        self.findings.iter().filter(move |f| counts(f) && !f.is_suppressed() && !f.is_unchanged())
    }
}

/// The time each phase of a scan took, what it counted and the process's peak memory when it
/// ended, in the order they ran: what `--timings` prints, for a user to paste into an issue.
#[derive(Debug, Default)]
pub struct Timings(std::sync::Mutex<Vec<Phase>>);

/// One phase of a scan, as `--timings` shows it.
#[derive(Debug, Clone)]
pub struct Phase {
    pub name: &'static str,
    pub elapsed: Duration,
    pub counted: String,
    /// The largest resident set of the process so far, in bytes (where the system says).
    pub peak_memory: Option<u64>,
}

impl Timings {
    /// Runs `phase`, recording how long it took and what `counted` says of its result.
    pub fn time<T>(&self, name: &'static str, phase: impl FnOnce() -> T, counted: impl FnOnce(&T) -> String) -> T {
        let started = Instant::now();
        let result = phase();
        let elapsed = started.elapsed();
        let phase = Phase { name, elapsed, counted: counted(&result), peak_memory: peak_memory() };
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(phase);
        result
    }

    /// The phases recorded, in order.
    pub fn phases(&self) -> Vec<Phase> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }
}

/// The process's peak resident set in bytes: Linux's `VmHWM`; None elsewhere.
fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib = status.lines().find_map(|line| line.strip_prefix("VmHWM:"))?.trim().strip_suffix("kB")?.trim().parse::<u64>().ok()?;
    Some(kib * 1024)
}

/// Runs the whole scan. Only a broken configuration or baseline stops it; unreadable inputs
/// and broken rule files become diagnostics and everything else is still scanned.
pub fn scan(options: &ScanOptions) -> anyhow::Result<ScanOutcome> {
    let started = Instant::now();
    let scanned_root = options.paths.first().filter(|p| p.is_dir());
    let (config, _) = find_config(options.config_path.as_deref(), scanned_root.map(PathBuf::as_path), &options.base)?;
    let baseline = options.baseline.as_deref().map(crate::baseline::load).transpose()?;
    let timings = Timings::default();
    let store = load::<Store>(options, &config, true, &timings);
    // Only the rules that may judge something compile: on a small input, compiling the CEL of
    // every rule would be most of the run.
    let scanned = Scanned::of(&store);
    let rules = timings.time(
        "rules",
        || crate::engine::load_rules_for(&options.rules_dirs, &|spec| scanned.may_be_judged_by(spec)),
        |(rules, _)| format!("{} of {} rules compiled (the others judge no type scanned)", rules.iter().filter(|r| !r.is_inert()).count(), rules.len()),
    );
    let read = |file: &str| read_scanned(options, file);
    let judging = Judging { config, rules_dirs: &options.rules_dirs, inline_ignores: options.inline_ignores, today: options.today, baseline, read: &read };
    judge_by(store, rules, judging, started, timings)
}

/// `--diff-base REF`: the scan of `options`, reporting only the findings on lines the change
/// since `REF` wrote (see [`crate::changes`]). Each is *new*, or *unchanged* when the merge
/// base, checked out and scanned the same way, already had it: code moved without a change.
/// Resolved findings are the merge base's that the whole scan no longer has.
pub fn scan_changes(options: &ScanOptions, reference: &str) -> anyhow::Result<ScanOutcome> {
    let changes = crate::changes::Changes::since(reference, &options.base)?;
    let mut outcome = scan(options)?;
    let before = crate::baseline::Baseline::of(&scan_merge_base(options, &changes)?.findings);
    let mut summary = crate::baseline::apply(&mut outcome.findings, &before);
    outcome.findings.retain(|f| changes.touches(&f.span));
    summary.unchanged = outcome.findings.iter().filter(|f| f.is_unchanged()).count();
    summary.new = outcome.findings.len() - summary.unchanged;
    outcome.baseline = Some(summary);
    Ok(outcome)
}

/// The same scan of the merge base's files, in a temporary checkout: the same paths, rules
/// and settings, each file where it is in the repository.
fn scan_merge_base(options: &ScanOptions, changes: &crate::changes::Changes) -> anyhow::Result<ScanOutcome> {
    let checkout = tempfile::tempdir()?;
    changes.check_out_base(checkout.path())?;
    let base = std::fs::canonicalize(&options.base)?;
    let there = |path: &Path| -> PathBuf {
        let absolute = std::fs::canonicalize(base.join(path)).unwrap_or_else(|_| base.join(path));
        absolute.strip_prefix(&changes.root).map_or(absolute.clone(), |inside| checkout.path().join(inside))
    };
    // Standard input and helm renders are not in git; the baseline is what this replaces.
    let before = ScanOptions {
        paths: options.paths.iter().map(|p| there(p)).collect(),
        base: there(Path::new(".")),
        var_files: options.var_files.iter().map(|p| there(p)).collect(),
        config_path: options.config_path.as_deref().map(there),
        stdin: None,
        helm: None,
        baseline: None,
        ..options.clone()
    };
    scan(&before)
}

/// The kinds of what a scan loaded, each once: what decides which rules compile.
struct Scanned<'s> {
    /// Each resource type with the source it came from.
    resources: HashSet<(&'s str, crate::model::SourceKind)>,
    /// The types of what a source could not see (rules judging them report undecided).
    unseen: HashSet<&'s str>,
}

impl<'s> Scanned<'s> {
    fn of(store: &'s Store) -> Self {
        Scanned {
            resources: store.resources.iter().map(|r| (r.rtype(), r.source)).collect(),
            unseen: store.unseen.iter().flat_map(|u| u.resource_types.iter().map(String::as_str)).collect(),
        }
    }

    /// Whether the rule may judge something scanned.
    fn may_be_judged_by(&self, spec: &crate::rules::RuleSpec) -> bool {
        self.resources.iter().any(|(rtype, source)| spec.applies_to_type(rtype) && spec.sources.contains(source))
            || self.unseen.iter().any(|rtype| spec.applies_to_type(rtype))
    }
}

/// How a loaded model is judged: shared by `scan` and the live audits.
pub struct Judging<'a> {
    pub config: Config,
    /// Directories of the user's own rule files.
    pub rules_dirs: &'a [PathBuf],
    /// Honour `charterguard:ignore` comments and `charterguard.io/ignore` annotations.
    pub inline_ignores: bool,
    /// The day suppressions' `until` is compared with; `None` is today (UTC).
    pub today: Option<crate::model::Date>,
    /// The previous report's findings (`--baseline`), loaded before the slow part so a bad
    /// file stops the run at once.
    pub baseline: Option<crate::baseline::Baseline>,
    /// Reads a file by the name reports show, for inline suppressions.
    pub read: &'a (dyn Fn(&str) -> Option<String> + Sync),
}

/// Evaluates the rules over a loaded model, then applies suppressions and the baseline.
pub fn judge(model: impl Into<Store>, judging: Judging, started: Instant) -> anyhow::Result<ScanOutcome> {
    let timings = Timings::default();
    let rules = timings.time("rules", || crate::engine::load_rules(judging.rules_dirs), |(rules, _)| format!("{} rules", rules.len()));
    judge_by(model.into(), rules, judging, started, timings)
}

/// [`judge`] with the rules (and what loading them reported) already loaded.
fn judge_by(
    mut model: Store,
    (rules, rule_diagnostics): (Vec<CompiledRule>, Vec<Diagnostic>),
    judging: Judging,
    started: Instant,
    timings: Timings,
) -> anyhow::Result<ScanOutcome> {
    let rules = apply_overrides(rules, &judging.config)?;
    model.diagnostics.extend(rule_diagnostics);
    model.diagnostics.extend(environments_note(&rules, &judging.config, &model));
    let evaluated = timings.time(
        "evaluate",
        || engine::evaluate(&model, &rules, &judging.config),
        |findings| match findings {
            Ok(findings) => format!("{} findings of {} rules on {} resources", findings.len(), rules.len(), model.resources.len()),
            Err(_) => "failed".to_string(),
        },
    );
    let mut findings = evaluated?;
    let suppress_options = crate::suppress::Options {
        today: judging.today.unwrap_or_else(crate::model::Date::today),
        inline: judging.inline_ignores,
        read: judging.read,
        judged: None,
    };
    let baseline = timings.time(
        "judge",
        || {
            model.diagnostics.extend(crate::suppress::apply(&mut findings, &model, &judging.config, &suppress_options));
            model.diagnostics.sort();
            model.diagnostics.dedup();
            // After suppressions (which match the real addresses), before the baseline (which
            // compares fingerprints of what reports print).
            crate::redact::findings(&mut findings, &mut model.diagnostics, &model.resources, judging.read, &judging.config.secrets);
            judging.baseline.map(|previous| crate::baseline::apply(&mut findings, &previous))
        },
        |_| "suppressions, redaction, baseline".to_string(),
    );
    let rules = rules.iter().map(|r: &CompiledRule| r.meta.clone()).collect();
    Ok(ScanOutcome {
        model,
        findings,
        rules,
        elapsed: started.elapsed(),
        timings,
        baseline,
        undecided: judging.config.undecided,
        secrets: judging.config.secrets,
    })
}

/// Rules that compare environments (they read `config.environments`) do not run on a scan
/// of Terraform without `environments:`: one note says so, rather than a silent pass.
fn environments_note(rules: &[CompiledRule], config: &Config, model: &Store) -> Option<Diagnostic> {
    let reads_environments = |r: &&CompiledRule| r.when_references.fields.contains(&("config".to_string(), "environments".to_string()));
    let comparing: Vec<&str> = rules.iter().filter(reads_environments).map(|r| r.meta.id.as_str()).collect();
    let terraform = || model.resources.iter().any(|r| r.source == crate::model::SourceKind::Tf);
    (config.environments.is_empty() && !comparing.is_empty() && terraform()).then(|| {
        let message =
            format!("{} did not run: they need `environments:` in charterguard.yaml (each environment's account and root modules)", comparing.join(" and "));
        Diagnostic::note(config.source.as_deref().unwrap_or(crate::config::FILE_NAME), None, message)
    })
}

/// The text of a scanned file by the name reports show (standard input by its stream name).
fn read_scanned(options: &ScanOptions, file: &str) -> Option<String> {
    if let Some(text) = options.stdin.as_ref().filter(|_| file == "stdin") {
        return Some(text.clone());
    }
    std::fs::read_to_string(options.base.join(file)).ok()
}

/// The configuration and the name reports show for its file: `config_path` (`--config`), else
/// `charterguard.yaml` in `scanned_root`, else in `base`, else the defaults (no file).
pub fn find_config(config_path: Option<&Path>, scanned_root: Option<&Path>, base: &Path) -> anyhow::Result<(Config, Option<String>)> {
    let candidates = match config_path {
        Some(path) => vec![path.to_path_buf()],
        None => scanned_root.into_iter().chain([base]).map(|dir| dir.join(crate::config::FILE_NAME)).filter(|p| p.is_file()).collect(),
    };
    match candidates.first() {
        Some(path) => {
            let shown = crate::input::display_path(path, base);
            let config = Config::load(path, &shown).map_err(|d| anyhow::anyhow!("{d}"))?;
            Ok((config, Some(shown.to_string())))
        }
        None => Ok((Config::default(), None)),
    }
}

/// Severity changes and disabled rules from the config; an override of a rule that does not
/// exist is an error (a typo would otherwise silently keep the rule as it was).
pub fn apply_overrides(rules: Vec<CompiledRule>, config: &Config) -> anyhow::Result<Vec<CompiledRule>> {
    for id in config.rules.keys() {
        if !rules.iter().any(|r| &r.meta.id == id) {
            anyhow::bail!("the config overrides rule {id}, which does not exist (`charterguard rules` lists them)");
        }
    }
    let mut kept = Vec::new();
    for mut rule in rules {
        match config.rules.get(&rule.meta.id) {
            Some(o) if !o.enabled => continue,
            Some(o) => rule.meta.severity = o.severity.unwrap_or(rule.meta.severity),
            None => {}
        }
        kept.push(rule);
    }
    Ok(kept)
}

/// The static sources `options` names (Terraform, manifests, plans), as `scan` loads them:
/// for audits that point live findings at the code managing them.
pub fn load_paths(options: &ScanOptions) -> Model {
    load(options, &Config::default(), false, &Timings::default())
}

/// What loading collects: the resources as trees (a [`Model`], for audits that read them) or
/// encoded (a [`Store`], what a scan judges). Each source's part is converted as soon as it
/// is loaded, so a scan never holds the trees of the whole input at once.
trait Collect: From<Model> + Send {
    fn concat(parts: Vec<Self>) -> Self;
    /// What was loaded, for `--timings`.
    fn summary(&self) -> String;
    /// One part of models loaded in turn, each converted before the next is loaded.
    fn batch(models: impl Iterator<Item = Model>) -> Self;
}

impl Collect for Model {
    fn concat(parts: Vec<Self>) -> Self {
        Model::concat(parts)
    }

    fn summary(&self) -> String {
        format!("{} files, {} resources", self.files_scanned, self.resources.len())
    }

    fn batch(models: impl Iterator<Item = Model>) -> Self {
        Model::concat(models)
    }
}

impl Collect for Store {
    fn concat(parts: Vec<Self>) -> Self {
        Store::concat(parts)
    }

    fn summary(&self) -> String {
        format!("{} files, {} resources", self.files_scanned, self.resources.len())
    }

    fn batch(models: impl Iterator<Item = Model>) -> Self {
        let mut builder = StoreBuilder::default();
        models.for_each(|model| builder.push(model));
        builder.finish()
    }
}

/// Loads everything `options` names; with `deploy`, charts, kustomizations and Argo CD
/// Applications are rendered as they are deployed (audits, which only look for the code
/// managing live resources, leave them).
fn load<C: Collect>(options: &ScanOptions, config: &Config, deploy: bool, timings: &Timings) -> C {
    let inputs = timings.time(
        "discover",
        || input::discover(&options.paths, &options.base, &options.walk),
        |inputs| {
            format!(
                "{} Terraform, {} YAML/JSON files, {} charts, {} kustomizations",
                inputs.terraform.len(),
                inputs.manifests.len(),
                inputs.charts.len(),
                inputs.kustomizations.len()
            )
        },
    );
    timings.time("parse", move || parse(inputs, options, config, deploy), |model: &C| model.summary())
}

/// Parses and evaluates what `discover` found (Terraform modules, manifests, renders).
fn parse<C: Collect>(mut inputs: input::Inputs, options: &ScanOptions, config: &Config, deploy: bool) -> C {
    let context = crate::deployed::Context { config, roots: &options.paths, base: &options.base };
    let deployments =
        if deploy { crate::deployed::plan(&inputs.manifests, &inputs.charts, &inputs.kustomizations, &context) } else { crate::deployed::Plan::default() };
    inputs.manifests.retain(|manifest| !deployments.consumes(manifest));
    let tf_options = crate::terraform::Options {
        var_files: options.var_files.clone(),
        workspace: options.workspace.clone(),
        base: options.base.clone(),
        roots: options.paths.iter().chain(&options.module_cache).cloned().collect(),
        module_cache: options.module_cache.clone(),
        ssl_cert_file: options.ssl_cert_file.clone(),
        data_dir: options.walk.tf_data_dir.clone(),
        environments: environment_roots(config),
    };
    let ((terraform, manifests), rendered) = rayon::join(
        || {
            rayon::join(
                || crate::terraform::load_each::<C>(&inputs.terraform, &tf_options),
                || load_manifests::<C>(&inputs.manifests, &options.base, &tf_options.environments),
            )
        },
        || deployments.run(&options.base),
    );
    let mut parts = vec![C::from(Model { diagnostics: inputs.diagnostics, ..Model::default() })];
    parts.extend(terraform.into_iter().chain(manifests).chain(rendered.into_iter().map(C::from)));
    if let Some(text) = &options.stdin {
        let (resources, diagnostics) = crate::kubernetes::load_file(&Arc::from("stdin"), text);
        parts.push(C::from(Model { resources, diagnostics, files_scanned: 1, ..Model::default() }));
    }
    if let Some(render) = &options.helm {
        let chart_render =
            crate::helm::ChartRender { render: render.clone(), label: None, at: crate::helm::chart_file_span(&render.chart, &options.base), added: Vec::new() };
        parts.push(C::from(crate::helm::load(&chart_render, &options.base)));
    }
    C::concat(parts)
}

/// The config's environments as the Terraform loader needs them: canonical root directories.
fn environment_roots(config: &Config) -> Vec<crate::terraform::EnvironmentRoots> {
    let roots = |paths: &[PathBuf]| paths.iter().filter_map(|p| std::fs::canonicalize(config.relative(p)).ok()).collect();
    config
        .environments
        .iter()
        .map(|(name, e)| crate::terraform::EnvironmentRoots {
            name: name.clone(),
            roots: roots(&e.paths),
            var_files: e.var_files.iter().map(|f| config.relative(f)).collect(),
        })
        .collect()
}

/// Manifests are loaded in batches of this many files, each batch stored as one part: a part
/// per file left tens of thousands of small allocations that outlive the trees around them,
/// each keeping a page of the allocator from being reused.
const MANIFESTS_PER_PART: usize = 8;

fn load_manifests<C: Collect>(paths: &[PathBuf], base: &Path, environments: &[crate::terraform::EnvironmentRoots]) -> Vec<C> {
    paths.par_chunks(MANIFESTS_PER_PART).map(|batch| C::batch(batch.iter().map(|path| load_manifest(path, base, environments)))).collect()
}

fn load_manifest(path: &Path, base: &Path, environments: &[crate::terraform::EnvironmentRoots]) -> Model {
    let shown = crate::input::display_path(path, base);
    let mut model = Model { files_scanned: 1, ..Model::default() };
    // A file that vanished between the walk and the read is reported, not fatal.
    let text = match input::read_text(path, &shown, "YAML and JSON") {
        Ok(text) => text,
        Err(diagnostic) => {
            model.diagnostics.push(diagnostic);
            return model;
        }
    };
    if is_plan_json(&text) {
        let mut model = crate::plan::load_file(path, &shown, &text, base);
        crate::plan::name_environment(&mut model, path, &shown, environments);
        return model;
    }
    let (resources, diagnostics) = crate::kubernetes::load_file(&shown, &text);
    model.resources = resources;
    model.diagnostics = diagnostics;
    model
}

/// `terraform show -json` output: a JSON object with `format_version` and planned values.
fn is_plan_json(text: &str) -> bool {
    let head: String = text.chars().take(4096).collect();
    head.trim_start().starts_with('{') && head.contains("\"format_version\"") && (text.contains("\"planned_values\"") || text.contains("\"resource_changes\""))
}

//! Runs compiled rules over the model: resources in parallel, each decoded and converted to
//! CEL once and judged by every rule that applies to it, related resources joined through
//! indexes.

use super::compile::{CompiledCheck, CompiledRule, CompiledVariable, MessagePart};
use super::lookup::Lookup;
use super::program::Program;
use super::strict::{self, StrictProgram};
use super::{functions, values};
use crate::config::Config;
use crate::model::Severity;
use crate::model::{Finding, Outcome};
use crate::model::{Node, SourceKind, Span, Store, Stored, Unseen};
use anyhow::Result;
use cel::common::traits::Indexer;
use cel::common::types::{Type, MAP_TYPE};
use cel::common::value::{CowVal, Val};
use cel::Context;
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

/// A scope rules are evaluated in: every value bound in it is owned (CEL's `'v` is
/// `'static`), so a rule variable's value outlives the scope it was evaluated in.
type Scope<'p> = Context<'p, 'static>;

/// A finding with the rule (its index) and the resource (its index; past the resources for
/// what live sources could not see) it came from: the order the findings were made in.
type Made = (usize, usize, Finding);

/// Evaluates every rule on every resource it applies to. Findings come back sorted by
/// file, line, rule and resource, so reports are identical whatever the thread count.
pub fn evaluate(store: &Store, rules: &[CompiledRule], config: &Config) -> Result<Vec<Finding>> {
    evaluate_some(store, rules, config, Judged::All)
}

/// Which resources of the model an evaluation judges; the others are there to be looked up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Judged {
    /// Every resource, and the rules judging what a live source could not see report it.
    All,
    /// The first `n` resources only (an admitted object, judged against a cache of the
    /// cluster): what could not be seen only makes lookups of it undecided.
    First(usize),
}

/// [`evaluate`], judging only the resources `judged` names.
pub fn evaluate_some(store: &Store, rules: &[CompiledRule], config: &Config, judged: Judged) -> Result<Vec<Finding>> {
    let lookup = Arc::new(Lookup::new(store));
    // One root context with every helper, shared by all threads: each evaluation works in
    // its own child scope. (Building contexts per task recompiled the helpers' regexes.)
    let root = root_context(config, &lookup)?;
    let all = store.resources.as_slice();
    let resources = match judged {
        Judged::All => all,
        Judged::First(n) => &all[..n.min(all.len())],
    };
    let judges = rules_by_kind(rules, resources);
    let groups: Vec<Option<Groups>> = rules.par_iter().enumerate().map(|(r, rule)| rule_groups(r, rule, resources, &judges, &root)).collect();
    let mut made: Vec<Made> = (0..resources.len())
        .into_par_iter()
        .flat_map_iter(|i| judge_by_rules(&root, (i, &resources[i]), rules_for(&judges, &resources[i]), rules, &groups))
        .collect();
    if judged == Judged::All {
        for (r, rule) in rules.iter().enumerate() {
            let unseen = store.unseen.iter().enumerate().filter(|(_, unseen)| rule_feeds_on(rule, unseen, &root));
            made.extend(unseen.map(|(u, unseen)| (r, resources.len() + u, unseen_finding(rule, unseen))));
        }
    }
    Ok(in_report_order(made))
}

/// Resource `i`, decoded and converted to CEL once, judged by each rule of `judging` (indexes
/// into `rules` and `groups`) in turn.
fn judge_by_rules(root: &Scope, (i, resource): (usize, &Stored), judging: &[usize], rules: &[CompiledRule], groups: &[Option<Groups>]) -> Vec<Made> {
    if judging.is_empty() {
        return Vec::new();
    }
    let attrs = resource.attrs();
    // Bound once for all the rules: binding a value converts it whole into CEL's own form.
    let mut scope = root.new_inner_scope();
    let scope = functions::bind(&mut scope, "resource", values::resource_value(resource, &attrs));
    let unknowns = attrs.unknown_paths();
    let mut made = Vec::new();
    for &r in judging {
        let subject = Subject { resource, attrs: &attrs, unknowns: &unknowns, groups: groups[r].as_ref() };
        made.extend(judge_resource(&scope, &rules[r], &subject).into_iter().map(|f| (r, i, f)));
    }
    made
}

/// Sorted for reports; ties keep the order of judging rule by rule, resource by resource,
/// check by check. A plan and the .tf files it came from, scanned together, report the same
/// finding at the same place twice: one is kept. Two renders of one template (dev and prod)
/// are two findings.
fn in_report_order(mut made: Vec<Made>) -> Vec<Finding> {
    made.sort_by(|a, b| sort_key(&a.2).cmp(&sort_key(&b.2)).then((a.0, a.1).cmp(&(b.0, b.1))));
    let mut findings: Vec<Finding> = made.into_iter().map(|(_, _, f)| f).collect();
    findings.dedup_by(|a, b| {
        (&a.rule_id, &a.address, &a.item, &a.attribute, &a.span, a.outcome, &a.render)
            == (&b.rule_id, &b.address, &b.item, &b.attribute, &b.span, b.outcome, &b.render)
    });
    findings
}

/// For a cross-resource rule (rule `r`), the groups of every resource it judges.
fn rule_groups(r: usize, rule: &CompiledRule, resources: &[Stored], judges: &HashMap<(&str, SourceKind), Vec<usize>>, root: &Scope) -> Option<Groups> {
    let (by, collect) = rule.group.as_ref()?;
    let targets: Vec<usize> = (0..resources.len()).filter(|&i| rules_for(judges, &resources[i]).contains(&r)).collect();
    Some(build_groups(rule, by, collect, &targets, resources, root))
}

fn rules_for<'j>(judges: &'j HashMap<(&str, SourceKind), Vec<usize>>, resource: &'j Stored) -> &'j [usize] {
    judges.get(&(resource.rtype(), resource.source)).map_or(&[], Vec::as_slice)
}

/// The rules (indexes, in order) that judge each kind of resource present.
fn rules_by_kind<'r>(rules: &[CompiledRule], resources: &'r [Stored]) -> HashMap<(&'r str, SourceKind), Vec<usize>> {
    let mut kinds: HashMap<(&str, SourceKind), Vec<usize>> = HashMap::new();
    for resource in resources {
        kinds.entry((resource.rtype(), resource.source)).or_insert_with(|| {
            rules
                .iter()
                .enumerate()
                .filter(|(_, rule)| rule.applies_to_type(resource.rtype()) && rule.meta.sources.contains(&resource.source))
                .map(|(r, _)| r)
                .collect()
        });
    }
    kinds
}

/// Whether a rule judges some of what a live source could not see: it judges those types
/// there, and its `when`, if it reads nothing of a resource but what is known of the unseen
/// ones (their type, and the environment the config names their account by), does not rule
/// them out: ENV-004 judges no account outside production and staging, so it is not
/// undecided there either.
fn rule_feeds_on(rule: &CompiledRule, unseen: &Unseen, root: &Scope) -> bool {
    let Some(rtype) = unseen.resource_types.iter().find(|rtype| rule.applies_to_type(rtype)) else { return false };
    if !rule.meta.sources.contains(&unseen.source) || unseen.rule.as_ref().is_some_and(|id| id != &rule.meta.id) {
        return false;
    }
    let environment = unseen.origin.environment.as_deref().map_or(cel::Value::Null, values::string);
    let known = [
        ("__type", values::string(rtype)),
        ("__source", values::string(unseen.source.as_str())),
        ("__address", values::string(&unseen.origin.id)),
        (crate::model::ENVIRONMENT_KEY, environment),
    ];
    let Some(when) = &rule.when else { return true };
    if !rule.when_variables.is_empty() || !rule.when_references.reads_only("resource", &known.each_ref().map(|(name, _)| *name)) {
        return true;
    }
    let mut scope = root.new_inner_scope();
    scope.add_variable_from_value("resource", values::partly_known(&unseen.reason, known));
    !matches!(when.execute(&scope), Ok(cel::Value::Bool(false)))
}

/// The rule could not decide on resources a source could not see (a live call that failed, a
/// remote kustomize base or another repository's chart that was not rendered).
fn unseen_finding(rule: &CompiledRule, unseen: &Unseen) -> Finding {
    let rtype = unseen.resource_types.iter().find(|rtype| rule.applies_to_type(rtype)).cloned().unwrap_or_default();
    Finding {
        rule_id: rule.meta.id.clone(),
        severity: Severity::Note,
        rule_severity: rule.severity(),
        outcome: Outcome::Undecided,
        message: format!("{}: {} ({})", unseen.origin.id, unseen.reason, rule.meta.title),
        source: unseen.source,
        address: unseen.origin.id.clone(),
        rtype,
        item: None,
        attribute: String::new(),
        span: unseen.span.clone(),
        template: None,
        render: None,
        call_chain: Vec::new(),
        suppression: None,
        baseline: None,
        live: matches!(unseen.source, SourceKind::Aws | SourceKind::Eks).then(|| Arc::new(unseen.origin.clone())),
    }
}

fn sort_key(f: &Finding) -> (&Span, &str, &str, &Option<String>, &str) {
    (&f.span, &f.rule_id, &f.address, &f.item, &f.message)
}

fn root_context(config: &Config, lookup: &Arc<Lookup>) -> Result<Context<'static, 'static>> {
    let mut ctx = Context::default();
    functions::register(&mut functions::Helpers::new(&mut ctx), config, lookup)?;
    let config_value = serde_json::to_value(config).expect("config serialises");
    ctx.add_variable("config", config_value).expect("config converts to CEL");
    Ok(ctx)
}

/// For cross-resource rules: the `collect` values of every resource, by `by` key.
struct Groups {
    members: HashMap<String, Vec<cel::Value>>,
}

fn build_groups(rule: &CompiledRule, by: &Program, collect: &Program, targets: &[usize], resources: &[Stored], root: &Scope) -> Groups {
    let entries: Vec<(String, cel::Value)> = targets
        .par_iter()
        .map(|&i| {
            let mut scope = root.new_inner_scope();
            let scope = functions::bind(&mut scope, "resource", values::resource_value(&resources[i], &resources[i].attrs()));
            let applies = rule.when.as_ref().map(|w| w.execute(&Variables::new(rule).bind(&scope, &rule.when_variables)));
            if !matches!(applies, None | Some(Ok(cel::Value::Bool(true)))) {
                return None;
            }
            match (by.execute(&scope), collect.execute(&scope)) {
                (Ok(cel::Value::String(key)), Ok(value)) => Some((key.to_string(), value)),
                _ => None,
            }
        })
        .flatten()
        .collect();
    let mut members: HashMap<String, Vec<cel::Value>> = HashMap::new();
    for (key, value) in entries {
        members.entry(key).or_default().push(value);
    }
    Groups { members }
}

struct Subject<'a> {
    resource: &'a Stored,
    attrs: &'a Node,
    /// The resource's unknown attributes (most resources have none).
    unknowns: &'a [(String, &'a Node)],
    groups: Option<&'a Groups>,
}

/// What one check concluded.
enum Verdict {
    Pass,
    Violation,
    /// Could not decide, with the reason and, when known, the unknown attribute.
    Undecided(String, Option<(String, Option<Span>)>),
}

/// The part of a resource a check looks at: the resource itself, or one `each` item.
struct Target<'a> {
    item: Option<&'a Node>,
    label: Option<String>,
}

/// Judges a resource by one rule; `ctx` binds `resource`.
fn judge_resource(ctx: &Scope, rule: &CompiledRule, subject: &Subject) -> Vec<Finding> {
    let mut scope = ctx.new_inner_scope();
    if let Some(groups) = subject.groups {
        let key = rule.group.as_ref().and_then(|(by, _)| by.execute(&scope).ok());
        let members = match key {
            Some(cel::Value::String(key)) => groups.members.get(key.as_str()).cloned().unwrap_or_default(),
            _ => Vec::new(),
        };
        scope.add_variable_from_value("group", cel::Value::List(Arc::new(members)));
    }
    let whole = Target { item: None, label: None };
    // Whether the rule applies may be unknown (or whether the resource exists at all); the
    // checks still run, since a resource that passes them passes whether or not it applies.
    let mut applies_unknown = existence_unknown(subject);
    // One evaluation of each variable for the resource, shared by `when` and the checks.
    let variables = Variables::new(rule);
    if let Some(when) = &rule.when {
        match run(when, &variables.bind(&scope, &rule.when_variables)) {
            Ok(true) => {}
            Ok(false) => return Vec::new(),
            Err(failure) => applies_unknown = Some(explain(failure, &rule.when_names, subject.unknowns, "")),
        }
    }
    let findings = judge_items(rule, subject, &scope, &whole, &variables);
    match applies_unknown {
        Some((reason, at)) if !findings.is_empty() => vec![undecided(rule, subject, &whole, reason, at)],
        _ => findings,
    }
}

/// For a resource whose count or for_each is unknown: why it may not exist, pointing at it.
fn existence_unknown(subject: &Subject) -> Option<Why> {
    let reason = subject.attrs.get(crate::model::EXISTS_KEY)?.unknown_reason()?;
    Some((format!("it may not exist: {reason}"), None))
}

/// Judges the resource, or each of its `each` items.
fn judge_items(rule: &CompiledRule, subject: &Subject, scope: &Scope, whole: &Target, variables: &Variables) -> Vec<Finding> {
    let Some(each) = &rule.spec.each else {
        return judge_target(rule, subject, scope, whole, variables);
    };
    let items = match subject.attrs.path(&each.path) {
        None => return Vec::new(),
        Some(node) => match &node.value {
            crate::model::Value::List(items) => items.iter().collect::<Vec<_>>(),
            crate::model::Value::Unknown(reason) => {
                let at = Some((each.path.clone(), node.span.clone()));
                return vec![undecided(rule, subject, whole, format!("`{}` is unknown: {reason}", each.path), at)];
            }
            _ => vec![node],
        },
    };
    let mut findings = Vec::new();
    for item in items {
        let mut item_scope = scope.new_inner_scope();
        let item_scope = functions::bind(&mut item_scope, "item", values::to_cel(item, subject.resource.join_scope()));
        let label = rule.label.as_ref().map(|l| l.execute(&item_scope).map(|v| values::display(&v)).unwrap_or_else(|_| "item".into()));
        // Variables may read `item`: each item has its own.
        findings.extend(judge_target(rule, subject, &item_scope, &Target { item: Some(item), label }, &Variables::new(rule)));
    }
    findings
}

/// Runs every check on one target; each failing check is a finding.
fn judge_target(rule: &CompiledRule, subject: &Subject, scope: &Scope, target: &Target, variables: &Variables) -> Vec<Finding> {
    let item_unknowns;
    let (unknowns, root_path) = match (target.item, &rule.spec.each) {
        (Some(item), Some(each)) => {
            item_unknowns = item.unknown_paths();
            (item_unknowns.as_slice(), each.path.as_str())
        }
        _ => (subject.unknowns, ""),
    };
    let mut findings = Vec::new();
    for check in &rule.checks {
        let scope = variables.bind(scope, &check.variables);
        // Whether the check applies may be unknown: it still runs, since a target that
        // passes it passes whether or not it applies.
        let applies = match check.when.as_ref().map(|when| run(when, &scope)) {
            None | Some(Ok(true)) => None,
            Some(Ok(false)) => continue,
            Some(Err(failure)) => Some(explain(failure, &check.names, unknowns, root_path)),
        };
        // Strict checks decide only from known values: a result is a verdict.
        let verdict = match (run(&check.check, &scope), applies) {
            (Ok(true), _) => Verdict::Pass,
            (Ok(false), None) => Verdict::Violation,
            (Ok(false), Some((reason, at))) => Verdict::Undecided(reason, at),
            (Err(failure), _) => {
                let (reason, at) = explain(failure, &check.names, unknowns, root_path);
                Verdict::Undecided(reason, at)
            }
        };
        match verdict {
            Verdict::Pass => {}
            Verdict::Violation => findings.push(violation(rule, check, subject, &scope, target)),
            Verdict::Undecided(reason, at) => findings.push(undecided_at(rule, check, subject, target, reason, at)),
        }
    }
    findings
}

/// A rule's variables for one target: each evaluated the first time a check reads it, at
/// most once. One that cannot be evaluated is an unknown, so the checks that read it could
/// not decide, for its reason. To CEL, `variables` is a map of those evaluated so far, bound
/// as this very value: every scope that binds it reads the values in place.
#[derive(Debug, Clone)]
struct Variables(Arc<Slots>);

#[derive(Debug)]
struct Slots {
    variables: Arc<[CompiledVariable]>,
    values: Vec<OnceLock<Box<dyn Val>>>,
}

impl Variables {
    fn new(rule: &CompiledRule) -> Self {
        Variables(Arc::new(Slots { variables: rule.variables.clone(), values: rule.variables.iter().map(|_| OnceLock::new()).collect() }))
    }

    /// A scope of `parent` with `variables` bound to the `needed` ones (indexes in order of
    /// definition, each after those it reads).
    fn bind<'p>(&self, parent: &'p Scope<'p>, needed: &[usize]) -> Scope<'p> {
        let mut scope = parent.new_inner_scope();
        if needed.is_empty() {
            return scope;
        }
        // Bound once, read in place: the values evaluated so far, and those evaluated below.
        scope.add_variable_as_val("variables", Box::new(self.clone()));
        for &i in needed {
            let slot = &self.0.values[i];
            if slot.get().is_none() {
                let value = match self.0.variables[i].program.evaluate(&scope) {
                    Ok(value) => value.into_owned(),
                    Err(cel::ExecutionError::FunctionError { function, message }) if function == strict::UNKNOWN => as_val(values::unknown(&message)),
                    Err(cel::ExecutionError::FunctionError { message, .. }) => as_val(values::failed(&message)),
                    Err(error) => as_val(values::unknown(&internal_wording(&error))),
                };
                // Set once: `needed` lists each variable once.
                let _ = slot.set(value);
            }
        }
        scope
    }
}

fn as_val(value: cel::Value) -> Box<dyn Val> {
    value.try_into().expect("markers have a CEL form")
}

impl Val for Variables {
    fn get_type(&self) -> &Type {
        &MAP_TYPE
    }

    fn cel_type() -> &'static Type {
        &MAP_TYPE
    }

    fn as_indexer<'b, 'v>(&'b self) -> Option<&'b (dyn Indexer + 'v)>
    where
        Self: 'v,
    {
        Some(self)
    }

    fn clone_as_boxed<'v>(&self) -> Box<dyn Val + 'v>
    where
        Self: 'v,
    {
        Box::new(self.clone())
    }
}

impl Indexer for Variables {
    /// A variable not evaluated (yet) is no key, as in a map of those evaluated.
    fn get<'b, 'v>(&'b self, key: &dyn Val) -> Result<CowVal<'b, 'v>, cel::ExecutionError>
    where
        Self: 'v,
    {
        let name = values::native::text(key).unwrap_or_default();
        let slots = &self.0;
        match slots.variables.iter().position(|v| v.name == name).and_then(|i| slots.values[i].get()) {
            Some(value) => Ok(CowVal::Borrowed(value.as_ref())),
            None => Err(cel::ExecutionError::NoSuchKey(Arc::new(name.to_string()))),
        }
    }

    fn steal<'v>(self: Box<Self>, key: &dyn Val) -> Result<Box<dyn Val + 'v>, cel::ExecutionError>
    where
        Self: 'v,
    {
        Indexer::get(&*self, key).map(CowVal::into_owned)
    }
}

/// Why a rule could not decide, in the reader's words, and the unknown attribute (its path and
/// where it is written) when one is to blame.
type Why = (String, Option<(String, Option<Span>)>);

/// Why a check could not give true or false.
enum Failure {
    /// A value it needed is unknown (the reason the value carries).
    Unknown(String),
    /// A helper could not decide and said why, in words for the reader.
    Helper(String),
    /// The expression failed on the values it met (its wording is CEL's, not for readers).
    Internal(cel::ExecutionError),
}

/// Runs a boolean program.
fn run(program: &StrictProgram, scope: &Scope) -> Result<bool, Failure> {
    match program.execute(scope) {
        Ok(cel::Value::Bool(b)) => Ok(b),
        Ok(other) => Err(Failure::Helper(format!("the rule's expression gave {} instead of true or false", values::display(&other)))),
        Err(cel::ExecutionError::FunctionError { function, message }) if function == strict::UNKNOWN => Err(Failure::Unknown(message)),
        Err(cel::ExecutionError::FunctionError { message, .. }) => Err(Failure::Helper(message)),
        Err(error) => Err(Failure::Internal(error)),
    }
}

/// The reason a check could not decide, in the reader's words, and the unknown attribute it
/// points at when there is one.
fn explain(failure: Failure, names: &HashSet<String>, unknowns: &[(String, &Node)], root_path: &str) -> Why {
    let at = |path: &str, node: &Node| (full_path(root_path, path), node.span.clone());
    // The resource's own unknown whose reason the failure carries.
    let named = |text: &str| {
        unknowns.iter().find_map(|(path, node)| match node.unknown_reason() {
            Some(reason) if text.contains(reason.as_str()) => Some((at(path, node), reason)),
            _ => None,
        })
    };
    match failure {
        Failure::Unknown(reason) => match named(&reason) {
            Some(((path, span), reason)) => (format!("`{path}` is unknown: {reason}"), Some((path, span))),
            None => (reason, None),
        },
        Failure::Helper(message) => match named(&message) {
            // A helper names the value by the path it was given; the attribute's own path
            // says where it is on the resource.
            // (also when it says so after what it could not do: "the referenced resource is
            // unknown: `x` is unknown: ...").
            Some(((path, span), reason)) if message.contains('`') && message.ends_with(&format!("` is unknown: {reason}")) => {
                (format!("`{path}` is unknown: {reason}"), Some((path, span)))
            }
            Some((at, _)) => (message, Some(at)),
            None => (message, None),
        },
        Failure::Internal(error) => match reads_unknown(names, unknowns, root_path) {
            Some((reason, at)) => (reason, Some(at)),
            None => (internal_wording(&error), None),
        },
    }
}

/// An attribute's path from the resource, for one found under an `each` item at `root_path`.
fn full_path(root_path: &str, path: &str) -> String {
    if root_path.is_empty() {
        path.to_string()
    } else {
        format!("{root_path}.{path}")
    }
}

/// A CEL failure that no unknown explains, in words for the reader: the rule met values of
/// a shape it does not handle.
fn internal_wording(error: &cel::ExecutionError) -> String {
    match error {
        cel::ExecutionError::NoSuchKey(key) => format!("the rule reads `{key}`, which this resource does not have"),
        _ => "the rule met a value of a type it does not handle here; check the attribute's type".to_string(),
    }
}

/// The first unknown value under `root` that an expression could have read: every name on
/// its path appears in the expression.
fn reads_unknown(names: &HashSet<String>, unknowns: &[(String, &Node)], root_path: &str) -> Option<(String, (String, Option<Span>))> {
    unknowns.iter().find_map(|(path, node)| {
        let read = path.split('.').all(|name| names.contains(&name.to_lowercase()));
        let reason = node.unknown_reason()?;
        let full = full_path(root_path, path);
        read.then(|| (format!("`{full}` is unknown: {reason}"), (full, node.span.clone())))
    })
}

/// Where a check points: the first of its locations that exists, else the closest
/// enclosing block of the first; with the attribute path used for fingerprints.
fn locate(check: &CompiledCheck, rule: &CompiledRule, subject: &Subject, target: &Target) -> (Span, String) {
    let resource = subject.resource;
    let block_span = target.item.and_then(|i| i.span.clone()).unwrap_or_else(|| resource.span.clone());
    let split = |path: &str| -> (&Node, String) {
        let (root, rest) = path.split_once('.').unwrap_or((path, ""));
        match (root, target.item, &rule.spec.each) {
            ("item", Some(item), Some(each)) => (item, format!("{}.{}", each.path, rest)),
            _ => (subject.attrs, rest.to_string()),
        }
    };
    let relative = |path: &str| path.split_once('.').map(|(_, rest)| rest.to_string()).unwrap_or_default();
    for path in &check.locations {
        let (root, attribute) = split(path);
        if let Some(node) = root.path(&relative(path)) {
            return (node.span.clone().unwrap_or(block_span), attribute);
        }
    }
    let first = check.locations.first().map(String::as_str).unwrap_or("resource");
    let (root, attribute) = split(first);
    (root.deepest(&relative(first)).span.clone().unwrap_or(block_span), attribute)
}

fn violation(rule: &CompiledRule, check: &CompiledCheck, subject: &Subject, scope: &Scope, target: &Target) -> Finding {
    let (span, attribute) = locate(check, rule, subject, target);
    let text = render_message(&check.message, scope).split_whitespace().collect::<Vec<_>>().join(" ");
    new_finding(rule, subject, target, Outcome::Violation, rule.severity(), span, attribute, text)
}

fn undecided_at(rule: &CompiledRule, check: &CompiledCheck, subject: &Subject, target: &Target, reason: String, at: Option<(String, Option<Span>)>) -> Finding {
    let (pointed, attribute) = locate(check, rule, subject, target);
    let (span, attribute) = match at {
        Some((path, span)) => (span.unwrap_or(pointed), path),
        None => (pointed, attribute),
    };
    new_finding(rule, subject, target, Outcome::Undecided, Severity::Note, span, attribute, format!("{reason} ({})", rule.meta.title))
}

/// Undecided before any check ran (`when` or `each` depended on an unknown).
fn undecided(rule: &CompiledRule, subject: &Subject, target: &Target, reason: String, at: Option<(String, Option<Span>)>) -> Finding {
    let (attribute, span) = match at {
        Some((path, span)) => (path, span.unwrap_or_else(|| subject.resource.span.clone())),
        None => (String::new(), subject.resource.span.clone()),
    };
    new_finding(rule, subject, target, Outcome::Undecided, Severity::Note, span, attribute, format!("{reason} ({})", rule.meta.title))
}

#[allow(clippy::too_many_arguments)]
fn new_finding(
    rule: &CompiledRule,
    subject: &Subject,
    target: &Target,
    outcome: Outcome,
    severity: Severity,
    span: Span,
    attribute: String,
    text: String,
) -> Finding {
    let resource = subject.resource;
    let mut finding = Finding {
        rule_id: rule.meta.id.clone(),
        severity,
        rule_severity: rule.severity(),
        outcome,
        message: String::new(),
        source: resource.source,
        address: resource.address().to_string(),
        rtype: resource.rtype().to_string(),
        item: target.label.clone(),
        attribute,
        span,
        template: resource.template().map(str::to_string),
        render: resource.render().map(str::to_string),
        call_chain: resource.call_chain().to_vec(),
        suppression: None,
        baseline: None,
        live: resource.live.clone(),
    };
    finding.message = format!("{}: {}", finding.subject(), text);
    finding
}

fn render_message(message: &[MessagePart], scope: &Scope) -> String {
    let mut out = String::new();
    for part in message {
        match part {
            MessagePart::Text(text) => out.push_str(text),
            MessagePart::Expr(program) => match program.execute(scope) {
                Ok(value) => out.push_str(&values::display(&value)),
                Err(_) => out.push_str("(unknown)"),
            },
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Model, Resource, Value};

    fn span(line: u32) -> Span {
        Span::new("main.tf".into(), line, 1, line, 10)
    }

    fn leaf(value: Value, line: u32) -> Node {
        Node::new(value, Some(span(line)))
    }

    fn bucket(name: &str, line: u32, entries: Vec<(&str, Node)>) -> Resource {
        Resource {
            source: SourceKind::Tf,
            rtype: "aws_s3_bucket".into(),
            address: format!("aws_s3_bucket.{name}"),
            span: span(line),
            attrs: Node::map(entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect(), Some(span(line))),
            template: None,
            render: None,
            call_chain: Vec::new(),
            live: None,
            join_scope: None,
        }
    }

    fn rule(yaml: &str) -> CompiledRule {
        crate::engine::compile("rules/TST-001.yaml", yaml).unwrap_or_else(|d| panic!("{d}"))
    }

    const HEADER: &str = "id: TST-001\ntitle: t\nseverity: warning\ncharter: c\nhelp: h\nsources: [tf]\nresource_types: [aws_s3_bucket]\n";

    fn run(rule: &CompiledRule, resources: Vec<Resource>) -> Vec<Finding> {
        let model = Model { resources, ..Model::default() };
        evaluate(&model.into(), std::slice::from_ref(rule), &Config::default()).unwrap()
    }

    #[test]
    fn violations_point_at_the_attribute_and_name_the_resource() {
        let rule =
            rule(&format!("{HEADER}checks:\n  - check: resource.acl == 'private'\n    location: resource.acl\n    message: acl is {{{{ resource.acl }}}}\n"));
        let findings = run(
            &rule,
            vec![
                bucket("a", 1, vec![("acl", leaf(Value::Str("public-read".into()), 3))]),
                bucket("b", 9, vec![("acl", leaf(Value::Str("private".into()), 10))]),
            ],
        );
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].message, "aws_s3_bucket.a: acl is public-read");
        assert_eq!((findings[0].span.start_line, findings[0].severity, findings[0].outcome), (3, Severity::Warning, Outcome::Violation));
    }

    #[test]
    fn a_check_that_reads_an_unknown_cannot_decide() {
        let rule = rule(&format!("{HEADER}checks:\n  - check: get(resource, 'acl') == 'private'\n    location: resource.acl\n    message: m\n"));
        let unknown = leaf(Value::Unknown("var.acl has no value".into()), 4);
        let findings = run(&rule, vec![bucket("a", 1, vec![("acl", unknown)])]);
        assert_eq!(findings.len(), 1);
        assert_eq!((findings[0].outcome, findings[0].severity, findings[0].span.start_line), (Outcome::Undecided, Severity::Note, 4));
        assert!(findings[0].message.contains("var.acl has no value"), "{}", findings[0].message);
    }

    #[test]
    fn unknowns_the_check_does_not_read_do_not_matter() {
        let rule = rule(&format!("{HEADER}checks:\n  - check: has(resource.acl)\n    location: resource.acl\n    message: m\n"));
        let findings = run(&rule, vec![bucket("a", 1, vec![("acl", leaf(Value::Str("x".into()), 2)), ("policy", leaf(Value::Unknown("later".into()), 3))])]);
        assert!(findings.is_empty(), "{findings:?}");
    }

    #[test]
    fn missing_attributes_point_at_the_block() {
        let rule = rule(&format!("{HEADER}checks:\n  - check: has(resource.acl)\n    location: resource.acl\n    message: m\n"));
        let findings = run(&rule, vec![bucket("a", 7, vec![])]);
        assert_eq!(findings[0].span.start_line, 7);
    }

    #[test]
    fn groups_join_resources_sharing_a_key() {
        let yaml = format!("{HEADER}group:\n  by: resource.key\n  collect: resource.owner\nchecks:\n  - check: group.all(o, o == resource.owner)\n    location: resource.key\n    message: shared with {{{{ join(group.filter(o, o != resource.owner), ', ') }}}}\n");
        let rule = rule(&yaml);
        let with =
            |name: &str, key: &str, owner: &str| bucket(name, 1, vec![("key", leaf(Value::Str(key.into()), 2)), ("owner", leaf(Value::Str(owner.into()), 3))]);
        let findings = run(&rule, vec![with("a", "k1", "x"), with("b", "k1", "y"), with("c", "k2", "z"), with("d", "k2", "z")]);
        let messages: Vec<&str> = findings.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(messages, vec!["aws_s3_bucket.a: shared with y", "aws_s3_bucket.b: shared with x"]);
    }

    #[test]
    fn each_item_is_judged_and_labelled() {
        let yaml = format!("{HEADER}each:\n  path: rule\n  label: \"'rule ' + item.id\"\nchecks:\n  - check: item.enabled\n    location: item.enabled\n    message: disabled\n");
        let rule = rule(&yaml);
        let item = |id: &str, enabled: bool, line: u32| {
            Node::map(vec![("id".into(), leaf(Value::Str(id.into()), line)), ("enabled".into(), leaf(Value::Bool(enabled), line + 1))], Some(span(line)))
        };
        let findings = run(&rule, vec![bucket("a", 1, vec![("rule", leaf(Value::List(vec![item("r1", true, 2), item("r2", false, 5)]), 2))])]);
        assert_eq!(findings.len(), 1);
        assert_eq!((findings[0].item.as_deref(), findings[0].span.start_line), (Some("rule r2"), 6));
        assert_eq!(findings[0].attribute, "rule.enabled");
    }

    #[test]
    fn when_limits_where_a_rule_applies() {
        let yaml = format!("{HEADER}when: data_layer(resource) == 'bronze'\nchecks:\n  - check: 'false'\n    location: resource\n    message: m\n");
        let rule = rule(&yaml);
        let findings = run(&rule, vec![bucket("bronze", 1, vec![]), bucket("gold", 5, vec![])]);
        assert_eq!(findings.iter().map(|f| f.address.as_str()).collect::<Vec<_>>(), vec!["aws_s3_bucket.bronze"]);
    }

    #[test]
    fn broken_rule_files_are_refused_with_the_reason() {
        let bad_cel =
            crate::engine::compile("rules/TST-001.yaml", &format!("{HEADER}checks:\n  - check: resource.(\n    location: resource\n    message: m\n"));
        assert!(bad_cel.err().unwrap().message.contains("not valid CEL"));
        let typo = crate::engine::compile("rules/TST-001.yaml", &format!("{HEADER}chekcs: []\n"));
        assert!(typo.err().unwrap().message.contains("unknown field"));
        let wrong_name =
            crate::engine::compile("rules/OTHER-001.yaml", &format!("{HEADER}checks:\n  - check: 'true'\n    location: resource\n    message: m\n"));
        assert!(wrong_name.err().unwrap().message.contains("must be named TST-001.yaml"));
    }

    #[test]
    fn misspelt_helpers_and_undefined_names_are_refused_where_they_are_written() {
        let refused = |body: &str| crate::engine::compile("rules/TST-001.yaml", &format!("{HEADER}{body}")).err().expect("refused").to_string();
        let helper = refused("checks:\n  - check: 'true'\n    location: resource\n    message: m\n  - check: is_india_regoin(resource.region)\n    location: resource\n    message: m\n");
        assert_eq!(
            helper,
            "rules/TST-001.yaml:12:12: `checks[1].check` calls `is_india_regoin`, which is neither a helper (docs/helpers.md lists them) nor a CEL function"
        );
        let name = refused("checks:\n  - check: resorce.acl == 'private'\n    location: resource\n    message: m\n");
        assert!(name.starts_with("rules/TST-001.yaml:9:12: `checks[0].check` reads `resorce`"), "{name}");
        let variable = refused("variables:\n  - name: acl\n    expression: variables.owner\n  - name: owner\n    expression: resource.owner\nchecks:\n  - check: variables.acl == 'private'\n    location: resource\n    message: m\n");
        assert_eq!(variable, "rules/TST-001.yaml:10:17: `variables[0].expression` reads `variables.owner`, which is defined after it");
        let per_item = refused("each:\n  path: rules\n  label: item.name\nvariables:\n  - name: port\n    expression: item.port\nwhen: variables.port == 22\nchecks:\n  - check: 'true'\n    location: resource\n    message: m\n");
        assert!(per_item.contains("`when` reads `variables.port`, which reads `item` or `group`"), "{per_item}");
        let message = refused("checks:\n  - check: 'true'\n    location: resource\n    message: '{{ variables.nope }}'\n");
        assert!(message.contains("`checks[0].message` reads `variables.nope`, which the rule does not define"), "{message}");
    }

    #[test]
    fn looked_up_kinds_are_recorded_and_must_be_literal() {
        let body = "variables:\n  - name: quotas\n    expression: objects('ResourceQuota', 'a')\nchecks:\n  - check: size(variables.quotas) > 0 || objects(\"NetworkPolicy\", '*').exists(p, true)\n    location: resource\n    message: m\n";
        let rule = crate::engine::compile("rules/TST-001.yaml", &format!("{HEADER}{body}")).unwrap();
        let within: Vec<(&str, Vec<crate::engine::Within>)> = rule.looked_up.iter().map(|(kind, w)| (kind.as_str(), w.iter().cloned().collect())).collect();
        assert_eq!(within, [("NetworkPolicy", vec![crate::engine::Within::Anywhere]), ("ResourceQuota", vec![crate::engine::Within::Named("a".into())])]);
        let subject = "checks:\n  - check: objects('Namespace', resource.namespace).size() > 0 && objects('Namespace', get(resource, 'x')).size() > 0\n    location: resource\n    message: m\n";
        let rule = crate::engine::compile("rules/TST-001.yaml", &format!("{HEADER}{subject}")).unwrap();
        assert_eq!(rule.looked_up["Namespace"].iter().cloned().collect::<Vec<_>>(), [crate::engine::Within::Subject, crate::engine::Within::Anywhere]);
        let computed = "checks:\n  - check: objects(resource.kind, 'a').size() > 0\n    location: resource\n    message: m\n";
        let refused = crate::engine::compile("rules/TST-001.yaml", &format!("{HEADER}{computed}")).err().expect("refused").to_string();
        assert!(refused.contains("`checks[0].check` calls `objects` with a kind that is not a string literal"), "{refused}");
    }

    #[test]
    fn variables_are_read_by_name_and_checks_apply_where_their_when_holds() {
        let yaml = format!(
            "{HEADER}variables:\n  - name: acl\n    expression: get(resource, 'acl')\n  - name: public\n    expression: variables.acl in ['public-read', 'public-read-write']\nchecks:\n  - when: variables.acl != null\n    check: '!variables.public'\n    location: resource.acl\n    message: 'is {{{{ variables.acl }}}}'\n"
        );
        let rule = rule(&yaml);
        let findings = run(
            &rule,
            vec![
                bucket("open", 1, vec![("acl", leaf(Value::Str("public-read".into()), 3))]),
                bucket("closed", 5, vec![("acl", leaf(Value::Str("private".into()), 6))]),
                bucket("none", 9, vec![]),
                bucket("unknown", 12, vec![("acl", leaf(Value::Unknown("var.acl has no value".into()), 13))]),
            ],
        );
        let got: Vec<(&str, Outcome, &str)> = findings.iter().map(|f| (f.address.as_str(), f.outcome, f.message.as_str())).collect();
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!((got[0].0, got[0].1, got[0].2), ("aws_s3_bucket.open", Outcome::Violation, "aws_s3_bucket.open: is public-read"));
        assert_eq!((got[1].0, got[1].1), ("aws_s3_bucket.unknown", Outcome::Undecided));
        assert!(got[1].2.contains("var.acl has no value") && findings[1].span.start_line == 13, "{got:?}");
    }

    #[test]
    fn joins_follow_references_both_ways() {
        let reference = |address: &str| leaf(Value::Ref { address: address.into(), attribute: "id".into() }, 2);
        let resource = |rtype: &str, name: &str, entries: Vec<(&str, Node)>| {
            let mut r = bucket(name, 1, entries);
            r.rtype = rtype.into();
            r.address = format!("{rtype}.{name}");
            r
        };
        let route = Node::map(vec![("gateway_id".into(), reference("aws_internet_gateway.igw"))], Some(span(3)));
        let resources = vec![
            resource("aws_subnet", "data", vec![]),
            resource("aws_subnet", "app", vec![]),
            resource("aws_route_table", "public", vec![("route", leaf(Value::List(vec![route]), 3))]),
            resource(
                "aws_route_table_association",
                "data",
                vec![("subnet_id", reference("aws_subnet.data")), ("route_table_id", reference("aws_route_table.public"))],
            ),
        ];
        let yaml = "id: TST-001\ntitle: t\nseverity: error\ncharter: c\nhelp: h\nsources: [tf]\nresource_types: [aws_subnet]\nchecks:\n  - check: referrers_via(resource, 'aws_route_table_association', 'subnet_id').all(a, get(lookup(a.route_table_id), 'route.gateway_id') == null)\n    location: resource\n    message: routes to an internet gateway\n";
        let findings = run(&rule(yaml), resources);
        assert_eq!(findings.iter().map(|f| f.address.as_str()).collect::<Vec<_>>(), vec!["aws_subnet.data"]);
    }
}

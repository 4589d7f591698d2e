//! Terraform plan JSON (`terraform show -json plan.out`) as a source.
//!
//! A plan holds what the HCL evaluator has to work out itself: every module call, `count`
//! and `for_each` already expanded, every variable already resolved. It produces the same
//! [`Resource`] shape as the HCL source (same addresses, nested blocks as lists, split S3
//! settings joined to their bucket, provider configurations as `provider.<name>`
//! resources), so the same rules judge both.
//!
//! - Resources are those of `planned_values` (root module and child modules); data sources
//!   (`mode: data`) are not resources we judge and are skipped, as in the HCL source.
//! - Values that `resource_changes[].change.after_unknown` marks are known only after apply:
//!   they become [`Value::Unknown`], except where the configuration shows the attribute is a
//!   plain reference to another resource (`aws_kms_key.k.arn`): that becomes a
//!   [`Value::Ref`], whose identity is known although its value is not.
//! - Findings point at the `.tf` files: each resource is looked up as a `resource "T" "N"`
//!   block in its module's directory (the plan file's directory for the root module, local
//!   module `source`s below it), attributes at their lines inside it. Without `.tf` files
//!   the plan file itself is named, at the resource's `"address"`.

mod address;
mod locate;

use crate::model::{Diagnostic, Model, Node, Resource, Span, Value};
use crate::terraform::EnvironmentRoots;
use address::{module_names, split_traversal};
use locate::Sources;
use serde_json::Value as J;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

/// Names the environment of the config (`environments:`) a plan describes: the one whose
/// `paths` name the plan file itself, else the one whose root module holds it. A plan in a
/// root module several environments share (each with its var-files) cannot tell which one
/// it was made for: a note says so, and the rules comparing environments leave it alone.
pub fn name_environment(model: &mut Model, path: &Path, shown: &str, environments: &[EnvironmentRoots]) {
    let Ok(file) = std::fs::canonicalize(path) else { return };
    let naming: Vec<&str> = environments.iter().filter(|e| e.roots.contains(&file)).map(|e| e.name.as_str()).collect();
    let holding = || environments.iter().filter(|e| e.roots.iter().any(|root| file.starts_with(root))).map(|e| e.name.as_str()).collect::<Vec<_>>();
    let candidates = if naming.is_empty() { holding() } else { naming };
    match candidates.as_slice() {
        [] => {}
        [name] => model.resources.iter_mut().for_each(|resource| resource.set_environment(name)),
        several => {
            let message = format!(
                "this plan lies in the root module of environments {}: name the plan file in one environment's `paths:` so that ENV-004 and ENV-005 judge it",
                several.join(" and ")
            );
            model.diagnostics.push(Diagnostic::note(shown, None, message));
        }
    }
}

/// The reason given for every value a plan leaves to apply time.
pub const AFTER_APPLY: &str = "known only after apply (plan)";

/// Loads one plan JSON file: its resources and provider configurations, mapped back to the
/// `.tf` files beside it where they can be found. Paths are shown relative to `base`.
pub fn load_file(path: &Path, shown: &Arc<str>, text: &str, base: &Path) -> Model {
    let mut model = Model { files_scanned: 1, ..Model::default() };
    let plan: J = match serde_json::from_str(text) {
        Ok(plan) => plan,
        Err(error) => {
            let (line, col) = (error.line() as u32, error.column() as u32);
            let span = Span::new(shown.clone(), line, col, line, col);
            model.diagnostics.push(Diagnostic::error(shown.to_string(), Some(span), format!("not valid plan JSON: {error}")));
            return model;
        }
    };
    let texts = typed_arena::Arena::new();
    let root_dir = path.parent().unwrap_or(Path::new("."));
    let sources = Sources::load(root_dir, plan.pointer("/configuration/root_module"), base, &texts);
    let loader = PlanLoader { plan: &plan, file: shown.clone(), text, sources, address_spans: Default::default() };
    let mut resources = loader.resources();
    resources.iter_mut().for_each(|resource| resource.join_scope = Some(shown.clone()));
    model.resources = crate::terraform::s3::link_split_settings(resources);
    model
}

struct PlanLoader<'p, 'a> {
    plan: &'p J,
    file: Arc<str>,
    text: &'p str,
    sources: Sources<'a>,
    address_spans: std::cell::OnceCell<HashMap<String, (u32, u32, u32)>>,
}

/// One resource instance of `planned_values`.
struct Planned<'p> {
    json: &'p J,
    address: &'p str,
    rtype: &'p str,
    name: &'p str,
    /// `module.a["x"].` or empty.
    prefix: String,
    /// Module call names from the root (`["a"]`), to find the configuration and the `.tf`s.
    calls: Vec<String>,
}

impl<'p, 'a> PlanLoader<'p, 'a> {
    fn resources(&self) -> Vec<Resource> {
        let mut planned = Vec::new();
        if let Some(root) = self.plan.pointer("/planned_values/root_module") {
            collect(root, 0, &mut planned);
        }
        let known: HashSet<&str> = planned.iter().map(|p| p.address).collect();
        let changes: HashMap<&str, &J> = self
            .plan
            .get("resource_changes")
            .and_then(J::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| Some((c.get("address")?.as_str()?, c.get("change")?)))
            .collect();
        let mut resources: Vec<Resource> = planned
            .iter()
            .filter(|p| p.json.get("mode").and_then(J::as_str) != Some("data"))
            .map(|p| self.resource(p, changes.get(p.address).copied(), &known))
            .collect();
        resources.extend(self.providers());
        resources
    }

    fn resource(&self, planned: &Planned, change: Option<&J>, known: &HashSet<&str>) -> Resource {
        let mut attrs = planned.json.get("values").map(to_node).unwrap_or_else(|| Node::map(Vec::new(), None));
        if !matches!(attrs.value, Value::Map(_)) {
            attrs = Node::map(Vec::new(), None);
        }
        let config = self.config_resource(&planned.calls, planned.rtype, planned.name);
        let nothing_written = J::Object(serde_json::Map::new());
        let expressions = config.map(|c| c.get("expressions").unwrap_or(&nothing_written));
        if let Some(unknown) = change.and_then(|c| c.get("after_unknown")) {
            let context = RefContext { prefix: &planned.prefix, index: planned.json.get("index"), known };
            overlay(&mut attrs, unknown, expressions, &context);
        }
        self.derive_tags_all(&mut attrs, config);
        drop_unwritten_unknowns(&mut attrs, expressions);
        let (span, call_chain) = match self.sources.annotate_resource(&planned.calls, "resource", planned.rtype, planned.name, &mut attrs) {
            Some(found) => found,
            None => {
                let span = self.address_span(planned.address);
                fill_spans(&mut attrs, &span);
                (span, self.sources.call_chain(&planned.calls))
            }
        };
        Resource::terraform(planned.rtype.to_string(), planned.address.to_string(), span, attrs, call_chain)
    }

    /// The `configuration` entry of a resource: its expressions (module-relative).
    fn config_resource(&self, calls: &[String], rtype: &str, name: &str) -> Option<&'p J> {
        let module = config_module(self.plan, calls)?;
        module.get("resources")?.as_array()?.iter().find(|r| {
            r.get("mode").and_then(J::as_str) != Some("data")
                && r.get("type").and_then(J::as_str) == Some(rtype)
                && r.get("name").and_then(J::as_str) == Some(name)
        })
    }

    /// `tags_all` is the provider's `default_tags` merged with `tags`; plans often leave it
    /// to apply time. When the provider has no default tags, or constant ones, it follows
    /// from the plan and is filled in, so tag lookups do not stop at it.
    fn derive_tags_all(&self, attrs: &mut Node, config: Option<&J>) {
        if !attrs.get("tags_all").is_some_and(Node::is_unknown) {
            return;
        }
        let key = config.and_then(|c| c.get("provider_config_key")).and_then(J::as_str);
        let configs = self.plan.pointer("/configuration/provider_config");
        let provider = key.and_then(|k| configs?.get(k));
        // A key the plan does not list is an unconfigured provider, which has no default
        // tags, unless some configured provider has them (it may be inherited from there).
        let inherited = configs.and_then(J::as_object).is_some_and(|c| c.values().any(|p| p.pointer("/expressions/default_tags").is_some()));
        if provider.is_none() && inherited {
            return;
        }
        let defaults = match provider.and_then(|p| p.pointer("/expressions/default_tags")) {
            None => Some(Vec::new()),
            Some(J::Array(blocks)) => {
                let mut entries = Vec::new();
                let mut constant = true;
                for block in blocks {
                    match block.get("tags") {
                        None => {}
                        Some(expr) => match expr.get("constant_value").map(to_node) {
                            Some(Node { value: Value::Map(tags), .. }) => entries.extend(tags),
                            Some(Node { value: Value::Null, .. }) => {}
                            _ => constant = false,
                        },
                    }
                }
                constant.then_some(entries)
            }
            Some(_) => None,
        };
        let Some(mut merged) = defaults else { return };
        match attrs.get("tags").map(|t| &t.value) {
            Some(Value::Map(tags)) => {
                for (k, v) in tags {
                    merged.retain(|(existing, _)| existing != k);
                    merged.push((k.clone(), v.clone()));
                }
            }
            Some(Value::Null) | None => {}
            Some(_) => return,
        }
        attrs.insert("tags_all", Node::map(merged, None));
    }

    /// Provider configurations as resources (`provider.aws`, `provider.aws.dr`), with their
    /// arguments from the configuration; `var.x` references take the plan's variable values.
    fn providers(&self) -> Vec<Resource> {
        let Some(J::Object(configs)) = self.plan.pointer("/configuration/provider_config") else { return Vec::new() };
        let mut out = Vec::new();
        for (key, config) in configs {
            // `required_providers` entries are listed too, with a version and no arguments:
            // only `provider` blocks are configurations.
            if config.get("expressions").is_none() && config.get("version_constraint").is_some() {
                continue;
            }
            let name = config.get("name").and_then(J::as_str).unwrap_or_else(|| key.split(':').next_back().unwrap_or(key).split('.').next().unwrap_or(key));
            let alias = config.get("alias").and_then(J::as_str);
            let module = config.get("module_address").and_then(J::as_str).filter(|m| !m.is_empty());
            let prefix = module.map(|m| format!("{m}.")).unwrap_or_default();
            let calls = module.map(module_names).unwrap_or_default();
            let variables = if module.is_none() { self.plan.get("variables") } else { None };
            let mut attrs = match config.get("expressions") {
                Some(expressions) => expression_node(expressions, variables),
                None => Node::map(Vec::new(), None),
            };
            if name == "aws" && attrs.get("region").is_none() {
                let reason = "no region argument: it comes from AWS_REGION or the profile at run time".to_string();
                attrs.insert("region", Node::new(Value::Unknown(reason), None));
            }
            if let Some(alias) = alias {
                attrs.insert("alias", Node::new(Value::Str(alias.to_string()), None));
            }
            let address = match alias {
                Some(alias) => format!("{prefix}provider.{name}.{alias}"),
                None => format!("{prefix}provider.{name}"),
            };
            let (span, call_chain) = match self.sources.annotate_provider(&calls, name, alias, &mut attrs) {
                Some(found) => found,
                None => {
                    let span = Span::new(self.file.clone(), 1, 1, 1, 1);
                    fill_spans(&mut attrs, &span);
                    (span, self.sources.call_chain(&calls))
                }
            };
            out.push(Resource::terraform(format!("provider.{name}"), address, span, attrs, call_chain));
        }
        out
    }

    /// Where the plan file names a resource (its first `"address": "..."`), else line 1.
    fn address_span(&self, address: &str) -> Span {
        let spans = self.address_spans.get_or_init(|| address_spans(self.text));
        match spans.get(address) {
            Some(&(line, start_col, end_col)) => Span::new(self.file.clone(), line, start_col, line, end_col),
            None => Span::new(self.file.clone(), 1, 1, 1, 1),
        }
    }
}

/// The position of the first `"address": "..."` value of each address, found in one pass
/// (a minified plan is one line of megabytes: positions are counted incrementally).
fn address_spans(text: &str) -> HashMap<String, (u32, u32, u32)> {
    let mut spans = HashMap::new();
    let (mut line, mut col, mut pos) = (1u32, 1u32, 0usize);
    let advance = |to: usize, line: &mut u32, col: &mut u32, pos: &mut usize| {
        for c in text[*pos..to].chars() {
            if c == '\n' {
                *line += 1;
                *col = 1;
            } else {
                *col += 1;
            }
        }
        *pos = to;
    };
    for (at, key) in text.match_indices("\"address\"") {
        if at < pos {
            continue;
        }
        let rest = &text[at + key.len()..];
        let Some(after_colon) = rest.trim_start().strip_prefix(':') else { continue };
        let value = after_colon.trim_start();
        if !value.starts_with('"') {
            continue;
        }
        let start = text.len() - value.len();
        let mut strings = serde_json::Deserializer::from_str(value).into_iter::<String>();
        let Some(Ok(address)) = strings.next() else { continue };
        let end = start + strings.byte_offset();
        advance(start, &mut line, &mut col, &mut pos);
        let start_col = col;
        advance(end, &mut line, &mut col, &mut pos);
        spans.entry(address).or_insert((line, start_col, col));
    }
    spans
}

/// Deepest module nesting followed; plans are machine-written, but a hand-made one could
/// nest without end.
const MAX_DEPTH: usize = 64;

fn collect<'p>(module: &'p J, depth: usize, out: &mut Vec<Planned<'p>>) {
    if depth > MAX_DEPTH {
        return;
    }
    let module_address = module.get("address").and_then(J::as_str).unwrap_or("");
    let prefix = if module_address.is_empty() { String::new() } else { format!("{module_address}.") };
    let calls = module_names(module_address);
    for resource in module.get("resources").and_then(J::as_array).into_iter().flatten() {
        let (Some(address), Some(rtype), Some(name)) =
            (resource.get("address").and_then(J::as_str), resource.get("type").and_then(J::as_str), resource.get("name").and_then(J::as_str))
        else {
            continue;
        };
        out.push(Planned { json: resource, address, rtype, name, prefix: prefix.clone(), calls: calls.clone() });
    }
    for child in module.get("child_modules").and_then(J::as_array).into_iter().flatten() {
        collect(child, depth + 1, out);
    }
}

/// The configuration of the module reached by `calls` from the root.
fn config_module<'p>(plan: &'p J, calls: &[String]) -> Option<&'p J> {
    let mut module = plan.pointer("/configuration/root_module")?;
    for call in calls {
        module = module.get("module_calls")?.get(call)?.get("module")?;
    }
    Some(module)
}

/// A JSON value as a node (spans come later, from the `.tf` files or the plan file).
fn to_node(json: &J) -> Node {
    let value = match json {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => Value::Str(s.clone()),
        J::Array(items) => Value::List(items.iter().map(to_node).collect()),
        J::Object(entries) => Value::Map(entries.iter().map(|(k, v)| (k.clone(), to_node(v))).collect()),
    };
    Node::new(value, None)
}

/// What a reference needs to become an address: the module prefix of the referring
/// resource, its own instance key (for `x[each.key]` / `x[count.index]`), and which
/// instances the plan has.
struct RefContext<'c> {
    prefix: &'c str,
    index: Option<&'c J>,
    known: &'c HashSet<&'c str>,
}

/// Top-level attributes known only after apply that the configuration does not write
/// (`arn`, `region`, a v4 bucket's `server_side_encryption_configuration`) are what the
/// provider computes, not what the code chose: they are left out, exactly as the HCL source
/// leaves out what is not written, so both sources give the same verdicts (a bucket whose
/// encryption is not configured fails ENC-001; a resource's unwritten `region` is its
/// provider's, judged on `provider.aws`). `tags_all` stays: provider default tags are
/// part of it. Without a configuration section nothing is left out.
fn drop_unwritten_unknowns(attrs: &mut Node, expressions: Option<&J>) {
    let (Some(J::Object(written)), Value::Map(entries)) = (expressions, &mut attrs.value) else { return };
    entries.retain(|(key, node)| !node.is_unknown() || written.contains_key(key) || key == "tags_all");
}

/// Marks what `after_unknown` says is known only after apply. `expressions` is the
/// configuration of the same attribute or block, to recognise plain references.
fn overlay(node: &mut Node, unknown: &J, expressions: Option<&J>, context: &RefContext) {
    match unknown {
        J::Bool(true) => node.value = after_apply(expressions, context),
        J::Object(entries) => {
            if !matches!(node.value, Value::Map(_)) {
                if !has_true(unknown) {
                    return;
                }
                node.value = Value::Map(Vec::new());
            }
            for (key, inner) in entries {
                if !has_true(inner) {
                    continue;
                }
                let expression = expressions.and_then(|e| e.get(key));
                if node.get(key).is_none() {
                    node.insert(key, Node::new(Value::Null, None));
                }
                if let Some(child) = node.get_mut(key) {
                    overlay(child, inner, expression, context);
                }
            }
        }
        J::Array(items) => {
            if !matches!(node.value, Value::List(_)) {
                if !has_true(unknown) {
                    return;
                }
                node.value = Value::List(Vec::new());
            }
            let Value::List(list) = &mut node.value else { return };
            for (i, inner) in items.iter().enumerate() {
                if !has_true(inner) {
                    continue;
                }
                while list.len() <= i {
                    list.push(Node::new(Value::Null, None));
                }
                // Block expressions are lists too; element i configures element i unless
                // `dynamic` blocks made the counts differ.
                let expression = expressions.and_then(J::as_array).filter(|e| e.len() == items.len()).and_then(|e| e.get(i));
                overlay(&mut list[i], inner, expression, context);
            }
        }
        _ => {}
    }
}

fn has_true(json: &J) -> bool {
    match json {
        J::Bool(b) => *b,
        J::Array(items) => items.iter().any(has_true),
        J::Object(entries) => entries.values().any(has_true),
        _ => false,
    }
}

/// The value of an attribute known only after apply: a reference to another resource's
/// attribute when the configuration says it is exactly that, else unknown.
fn after_apply(expression: Option<&J>, context: &RefContext) -> Value {
    let references: Vec<&str> = expression.and_then(|e| e.get("references")).and_then(J::as_array).into_iter().flatten().filter_map(J::as_str).collect();
    if let Some((address, attribute)) = reference(&references, context) {
        return Value::Ref { address, attribute };
    }
    match references.first() {
        Some(_) => Value::Unknown(format!("{AFTER_APPLY}, from {}", references.join(", "))),
        None => Value::Unknown(AFTER_APPLY.to_string()),
    }
}

/// The resource and attribute a reference list names, when it is one traversal of one
/// resource (Terraform lists each traversal with its prefixes: `["aws_kms_key.k.arn",
/// "aws_kms_key.k"]`). `x[each.key]` and `x[count.index]` (listed as `["x", "each.key"]`)
/// resolve to the referring instance's own key when the plan has that instance of `x`.
fn reference(references: &[&str], context: &RefContext) -> Option<(String, String)> {
    let (keyed, chain): (Vec<&str>, Vec<&str>) = references.iter().partition(|r| matches!(**r, "each.key" | "count.index"));
    let longest = *chain.iter().max_by_key(|r| r.len())?;
    if !chain.iter().all(|r| longest.starts_with(r)) || keyed.len() > 1 {
        return None;
    }
    let segments = split_traversal(longest);
    let head = segments.first()?.as_str();
    if matches!(head, "var" | "local" | "module" | "each" | "count" | "path" | "terraform" | "self") {
        return None;
    }
    let length = if head == "data" { 3 } else { 2 };
    if segments.len() < length {
        return None;
    }
    let mut address = format!("{}{}", context.prefix, segments[..length].join("."));
    let attribute = segments[length..].join(".");
    if let Some(key) = keyed.first() {
        if address.ends_with(']') || !attribute.is_empty() {
            return None;
        }
        let suffix = match (*key, context.index?) {
            ("each.key", J::String(k)) => format!("[{}]", serde_json::to_string(k).ok()?),
            ("count.index", J::Number(n)) => format!("[{n}]"),
            _ => return None,
        };
        address.push_str(&suffix);
        if !context.known.contains(address.as_str()) {
            return None;
        }
    }
    Some((address, attribute))
}

/// A configuration `expressions` object as a node: constant values as they are, a
/// reference to a root variable as the plan's value of it, other references unknown.
fn expression_node(expressions: &J, variables: Option<&J>) -> Node {
    let entries = match expressions {
        J::Object(entries) => entries,
        _ => return Node::new(Value::Null, None),
    };
    let mut out = Node::map(Vec::new(), None);
    for (key, expression) in entries {
        let node = match expression {
            J::Array(blocks) => Node::new(Value::List(blocks.iter().map(|b| expression_node(b, variables)).collect()), None),
            J::Object(e) if e.contains_key("constant_value") => to_node(&e["constant_value"]),
            J::Object(e) if e.contains_key("references") => {
                let references: Vec<&str> = e["references"].as_array().into_iter().flatten().filter_map(J::as_str).collect();
                variable_value(&references, variables).unwrap_or_else(|| {
                    Node::new(Value::Unknown(format!("computed from {} (the plan does not record provider arguments' values)", references.join(", "))), None)
                })
            }
            J::Object(_) => expression_node(expression, variables),
            _ => continue,
        };
        out.insert(key, node);
    }
    out
}

/// `var.x` (and nothing else) with the plan's value of `x`.
fn variable_value(references: &[&str], variables: Option<&J>) -> Option<Node> {
    let [only] = references else { return None };
    let name = only.strip_prefix("var.")?;
    if name.contains(['.', '[']) {
        return None;
    }
    variables?.get(name)?.get("value").map(to_node)
}

/// Gives `span` to a node and everything below it.
fn fill_spans(node: &mut Node, span: &Span) {
    node.span = Some(span.clone());
    match &mut node.value {
        Value::List(items) => items.iter_mut().for_each(|i| fill_spans(i, span)),
        Value::Map(entries) => entries.iter_mut().for_each(|(_, v)| fill_spans(v, span)),
        _ => {}
    }
}

#[cfg(test)]
mod tests;

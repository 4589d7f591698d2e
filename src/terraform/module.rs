//! One module instance evaluated: variables, locals, resources with `count`/`for_each`,
//! nested blocks (including `dynamic`), module calls and outputs. Values are evaluated on
//! demand and remembered, so each expression is evaluated once per instance whatever the
//! order of declarations.

use super::data_sources;
use super::eval::{Evaluator, Key, Scope};
use super::files::ParsedFile;
pub use super::providers::ProviderConfig;
use super::sandbox::Sandbox;
use super::types;
use crate::model::{Diagnostic, Node, Resource, Span, Value};
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Attribute, Block, Body, Structure};
use hcl_edit::Span as _;
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Modules deeper than this are a loop (a module that calls itself).
pub const MAX_MODULE_DEPTH: usize = 32;
/// More instances than this from one `count`/`for_each` are not expanded.
const MAX_INSTANCES: usize = 100_000;

/// Finds the parsed module directories that module calls name.
pub trait ModuleLoader<'m, 't> {
    /// The parsed files of the module that the call at `key` (its path by names, `a.b`),
    /// whose source is `source`, made in the module in `caller`, names; or why there are none.
    fn module(&self, key: &str, source: &str, caller: &Path) -> Result<&'m ModuleDecls<'t>, super::modules::Missing>;
    fn workspace(&self) -> &str;
    /// Repository-relative form of a path, for messages.
    fn relative(&self, dir: &Path) -> String;
    /// Where file functions read, and what `path.module` is relative to.
    fn sandbox(&self) -> &Sandbox;
}

/// A declaration: which file, which block.
#[derive(Clone, Copy)]
struct Decl<'m> {
    file: usize,
    block: &'m Block,
}

/// What one module directory declares.
pub struct ModuleDecls<'t> {
    pub dir: PathBuf,
    pub files: Vec<ParsedFile<'t>>,
}

/// Declarations by kind, borrowed from the parsed files.
struct Index<'m> {
    variables: HashMap<&'m str, Decl<'m>>,
    locals: HashMap<&'m str, (usize, &'m Attribute)>,
    resources: Vec<(&'m str, &'m str, Decl<'m>)>,
    resource_by_name: HashMap<(&'m str, &'m str), Decl<'m>>,
    data: Vec<(&'m str, &'m str, Decl<'m>)>,
    data_by_name: HashMap<(&'m str, &'m str), Decl<'m>>,
    modules: Vec<(&'m str, Decl<'m>)>,
    module_by_name: HashMap<&'m str, Decl<'m>>,
    providers: Vec<Decl<'m>>,
    outputs: HashMap<&'m str, Decl<'m>>,
    /// Blocks of override files, by the block they override (its address in memory), in the
    /// order Terraform merges them.
    overrides: HashMap<usize, Vec<Decl<'m>>>,
    /// Override blocks with nothing to override (Terraform refuses them).
    missing_bases: Vec<Decl<'m>>,
}

impl<'m> Index<'m> {
    fn new(decls: &'m ModuleDecls<'_>) -> Self {
        let mut index = Index {
            variables: HashMap::new(),
            locals: HashMap::new(),
            resources: Vec::new(),
            resource_by_name: HashMap::new(),
            data: Vec::new(),
            data_by_name: HashMap::new(),
            modules: Vec::new(),
            module_by_name: HashMap::new(),
            providers: Vec::new(),
            outputs: HashMap::new(),
            overrides: HashMap::new(),
            missing_bases: Vec::new(),
        };
        // Override files after all the others, in name order, as Terraform merges them.
        let (overriding, primary): (Vec<_>, Vec<_>) = decls.files.iter().enumerate().partition(|(_, f)| super::files::is_override(&f.path));
        for (file, parsed) in primary {
            for block in parsed.body.blocks() {
                let decl = Decl { file, block };
                let labels: Vec<&str> = block.labels.iter().map(|l| l.as_str()).collect();
                match (block.ident.as_str(), labels.as_slice()) {
                    ("variable", [name]) => {
                        index.variables.insert(name, decl);
                    }
                    ("locals", _) => {
                        for attr in block.body.attributes() {
                            index.locals.insert(attr.key.as_str(), (file, attr));
                        }
                    }
                    ("resource", [rtype, name]) => {
                        index.resources.push((rtype, name, decl));
                        index.resource_by_name.insert((rtype, name), decl);
                    }
                    ("data", [rtype, name]) => {
                        index.data.push((rtype, name, decl));
                        index.data_by_name.insert((rtype, name), decl);
                    }
                    ("module", [name]) => {
                        index.modules.push((name, decl));
                        index.module_by_name.insert(name, decl);
                    }
                    ("provider", [_]) => index.providers.push(decl),
                    ("output", [name]) => {
                        index.outputs.insert(name, decl);
                    }
                    _ => {}
                }
            }
        }
        for (file, parsed) in overriding {
            for block in parsed.body.blocks() {
                index.add_override(Decl { file, block });
            }
        }
        index
    }

    /// An override file's block: merged into the block of the same kind and name (a local
    /// replaces the local of its name; a `terraform` block's backend is read where it is).
    fn add_override(&mut self, decl: Decl<'m>) {
        let labels: Vec<&str> = decl.block.labels.iter().map(|l| l.as_str()).collect();
        let base = match (decl.block.ident.as_str(), labels.as_slice()) {
            ("locals", _) => {
                for attr in decl.block.body.attributes() {
                    self.locals.insert(attr.key.as_str(), (decl.file, attr));
                }
                return;
            }
            ("terraform", _) => return,
            ("variable", [name]) => self.variables.get(name),
            ("resource", [rtype, name]) => self.resource_by_name.get(&(*rtype, *name)),
            ("data", [rtype, name]) => self.data_by_name.get(&(*rtype, *name)),
            ("module", [name]) => self.module_by_name.get(name),
            ("output", [name]) => self.outputs.get(name),
            ("provider", [name]) => {
                self.providers.iter().find(|p| p.block.labels.first().is_some_and(|l| l.as_str() == *name) && alias(p.block) == alias(decl.block))
            }
            _ => None,
        };
        match base {
            Some(base) => self.overrides.entry(block_id(base.block)).or_default().push(decl),
            None => self.missing_bases.push(decl),
        }
    }
}

/// A block's identity for [`Index::overrides`].
fn block_id(block: &Block) -> usize {
    std::ptr::from_ref(block) as usize
}

/// A provider block's `alias`, as written.
fn alias(block: &Block) -> Option<String> {
    block.body.get_attribute("alias").and_then(|a| match &a.value {
        Expression::String(s) => Some(s.value().to_string()),
        _ => None,
    })
}

/// Names bound inside a block: `each`, `count` and `dynamic` iterators.
#[derive(Clone, Default)]
struct Bindings {
    names: Vec<(String, Node)>,
}

impl Bindings {
    fn with(&self, name: &str, value: Node) -> Bindings {
        let mut names = self.names.clone();
        names.push((name.to_string(), value));
        Bindings { names }
    }
    fn get(&self, name: &str) -> Option<&Node> {
        self.names.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

/// One instance of a resource or module: its address key and the names bound in it.
#[derive(Clone)]
struct InstanceKey {
    /// `[0]` or `["key"]`, empty for a single instance.
    suffix: String,
    key: Option<Value>,
    bindings: Bindings,
    /// Why the number of instances is unknown (`[*]`): the instance may not exist at all.
    unknown_count: Option<String>,
}

enum Slot {
    InProgress,
    Done(Node),
}

/// How a module instance is called: its address prefix, inputs and providers.
pub struct Call {
    /// `module.a.` or `module.a["k"].`; empty at the root.
    pub prefix: String,
    /// The module call path by names (`a.b`), as `terraform init` keys installed modules.
    pub key: String,
    pub inputs: HashMap<String, Node>,
    pub depth: usize,
    /// The module call blocks leading here, outermost first.
    pub call_chain: Vec<Span>,
    /// Provider configurations passed down by the caller, by the name the module uses
    /// (`aws`, `aws.replica`): the caller's defaults, or its `providers = { ... }` map.
    pub providers: HashMap<String, ProviderConfig>,
    /// Why this module instance may not exist (a call whose count or for_each is unknown).
    pub unknown_count: Option<String>,
}

impl Call {
    /// A root module with values from tfvars.
    pub fn root(inputs: HashMap<String, Node>) -> Self {
        Call { prefix: String::new(), key: String::new(), inputs, depth: 0, call_chain: Vec::new(), providers: HashMap::new(), unknown_count: None }
    }
}

/// A module instance being evaluated.
pub struct Instance<'m, 't> {
    loader: &'m dyn ModuleLoader<'m, 't>,
    decls: &'m ModuleDecls<'t>,
    index: Index<'m>,
    /// `module.a.` or `module.a["k"].`; empty at the root.
    prefix: String,
    key: String,
    inputs: HashMap<String, Node>,
    depth: usize,
    call_chain: Vec<Span>,
    /// Why this module instance may not exist (see [`Call::unknown_count`]).
    unknown_count: Option<String>,
    locals: RefCell<HashMap<String, Slot>>,
    /// Variable values converted to their types, once per instance however often they are read.
    variables: RefCell<HashMap<String, Node>>,
    instances: RefCell<HashMap<(String, String), Instances>>,
    children: RefCell<HashMap<String, Children<'m, 't>>>,
    /// The attributes of each data source instance read here, by address.
    data_values: RefCell<HashMap<String, Slot>>,
    /// Module calls whose inputs are being evaluated: an input that reads the same module's
    /// outputs (module A's input from B, B's from A) is a cycle and becomes unknown.
    calling: RefCell<std::collections::HashSet<String>>,
    /// Module calls whose source could not be loaded, with why and how to fix it: what reads
    /// their outputs says so.
    unavailable: RefCell<HashMap<String, String>>,
    diagnostics: RefCell<Vec<Diagnostic>>,
    inherited_providers: HashMap<String, ProviderConfig>,
    /// This module's own provider blocks (as resources) and every configuration its
    /// resources can use, by name.
    providers: RefCell<ProviderState>,
}

type Providers = Rc<(Vec<Resource>, HashMap<String, ProviderConfig>)>;

/// The instances `count`/`for_each` made of one resource or module call.
type Instances = Rc<Vec<InstanceKey>>;

/// The instances of one module call, with the keys that address them.
type Children<'m, 't> = Rc<Vec<(InstanceKey, Rc<Instance<'m, 't>>)>>;

/// Provider blocks are evaluated once, on first use; a provider whose arguments read a
/// module output can reach back here while that happens.
enum ProviderState {
    NotYet,
    InProgress,
    Done(Providers),
}

impl<'m, 't> Instance<'m, 't> {
    /// An instance of the module in `decls`, with input values from the caller (or tfvars).
    pub fn new(loader: &'m dyn ModuleLoader<'m, 't>, decls: &'m ModuleDecls<'t>, call: Call) -> Self {
        Instance {
            loader,
            decls,
            index: Index::new(decls),
            prefix: call.prefix,
            key: call.key,
            inputs: call.inputs,
            depth: call.depth,
            call_chain: call.call_chain,
            unknown_count: call.unknown_count,
            inherited_providers: call.providers,
            providers: RefCell::new(ProviderState::NotYet),
            locals: RefCell::default(),
            variables: RefCell::default(),
            instances: RefCell::default(),
            children: RefCell::default(),
            data_values: RefCell::default(),
            calling: RefCell::default(),
            unavailable: RefCell::default(),
            diagnostics: RefCell::default(),
        }
    }

    fn file(&self, file: usize) -> &ParsedFile<'t> {
        &self.decls.files[file]
    }

    fn span(&self, file: usize, range: Option<std::ops::Range<usize>>) -> Span {
        let parsed = self.file(file);
        parsed.lines.span(&parsed.path, range.unwrap_or(0..0))
    }

    fn eval(&self, file: usize, bindings: &Bindings, expr: &Expression) -> Node {
        let parsed = self.file(file);
        let scope = BoundScope { instance: self, bindings };
        Evaluator { file: parsed.path.clone(), lines: &parsed.lines, scope: &scope }.eval(expr)
    }

    /// The blocks of override files merged into `decl`, in order.
    fn overrides(&self, decl: Decl) -> &[Decl<'m>] {
        if self.index.overrides.is_empty() {
            return &[];
        }
        self.index.overrides.get(&block_id(decl.block)).map_or(&[], Vec::as_slice)
    }

    /// The argument `name` of a declaration as override files leave it: the last override
    /// that sets it, else the block's own.
    fn attribute<'a>(&'a self, decl: Decl<'a>, name: &str) -> Option<(usize, &'a Attribute)> {
        let overriding = self.overrides(decl).iter().rev().find_map(|o| o.block.body.get_attribute(name).map(|a| (o.file, a)));
        overriding.or_else(|| decl.block.body.get_attribute(name).map(|a| (decl.file, a)))
    }

    /// Every argument of a declaration as override files leave it.
    fn attributes<'a>(&'a self, decl: Decl<'a>) -> Vec<(usize, &'a Attribute)> {
        let mut out: Vec<(usize, &'a Attribute)> = decl.block.body.attributes().map(|a| (decl.file, a)).collect();
        for overriding in self.overrides(decl) {
            for attr in overriding.block.body.attributes() {
                out.retain(|(_, a)| a.key.as_str() != attr.key.as_str());
                out.push((overriding.file, attr));
            }
        }
        out
    }

    /// A declaration's body as [`Instance::body`] gives it, with override files merged in: an
    /// argument replaces the block's own, a nested block type replaces all of the block's
    /// blocks of that type, as Terraform merges them.
    fn declared_body(&self, decl: Decl, bindings: &Bindings, span: Option<Span>) -> Node {
        let mut out = self.body(decl.file, bindings, &decl.block.body, span);
        for overriding in self.overrides(decl) {
            if let Value::Map(entries) = self.body(overriding.file, bindings, &overriding.block.body, None).value {
                entries.into_iter().for_each(|(key, value)| out.insert(&key, value));
            }
        }
        out
    }

    /// Every resource of this instance and of the modules it calls.
    pub fn resources(&self) -> (Vec<Resource>, Vec<Diagnostic>) {
        let mut resources = Vec::new();
        for &(rtype, name, decl) in &self.index.resources {
            for key in self.instance_keys(rtype, name, decl).iter() {
                resources.push(self.resource(rtype, name, decl, key));
            }
        }
        resources.extend(self.joined_data_sources());
        resources.extend(self.providers().0.iter().cloned());
        self.convert_variables();
        resources.extend(self.variable_resources());
        resources.extend(self.backend_resources());
        let mut diagnostics = Vec::new();
        for &(name, _) in &self.index.modules {
            for (_, child) in self.children(name).iter() {
                let (child_resources, child_diagnostics) = child.resources();
                resources.extend(child_resources);
                diagnostics.extend(child_diagnostics);
            }
        }
        diagnostics.extend(self.diagnostics.borrow().iter().cloned());
        diagnostics.extend(self.override_diagnostics());
        (resources, diagnostics)
    }

    /// Override blocks with nothing to override are errors, as in Terraform; a variable's
    /// override is not merged (its type, default and nullability are read together, from the
    /// variable's own block), which a note says.
    fn override_diagnostics(&self) -> Vec<Diagnostic> {
        let described = |decl: &Decl| {
            let labels: Vec<String> = decl.block.labels.iter().map(|l| format!("{:?}", l.as_str())).collect();
            format!("{} {}", decl.block.ident.as_str(), labels.join(" "))
        };
        let missing = self.index.missing_bases.iter().map(|decl| {
            let span = self.span(decl.file, decl.block.span());
            let message =
                format!("{} in an override file overrides nothing: no such block in the module's other files (Terraform refuses it)", described(decl));
            Diagnostic::error(span.file.to_string(), Some(span), message)
        });
        let variables = self.index.variables.values().flat_map(|decl| self.overrides(*decl)).map(|decl| {
            let span = self.span(decl.file, decl.block.span());
            Diagnostic::note(
                span.file.to_string(),
                Some(span),
                format!("{}: an override of a variable is not merged; the variable's own block is used", described(decl)),
            )
        });
        let mut out: Vec<Diagnostic> = missing.chain(variables).collect();
        out.sort_by(|a, b| a.span.cmp(&b.span));
        out
    }

    /// Every `output` block's value, by name (for differential tests against Terraform).
    pub(crate) fn outputs(&self) -> Vec<(String, Node)> {
        let mut outputs: Vec<(String, Node)> = self
            .index
            .outputs
            .iter()
            .filter_map(|(name, d)| self.attribute(*d, "value").map(|(file, a)| (name.to_string(), self.eval(file, &Bindings::default(), &a.value))))
            .collect();
        outputs.sort_by(|a, b| a.0.cmp(&b.0));
        outputs
    }

    fn resource(&self, rtype: &str, name: &str, decl: Decl, key: &InstanceKey) -> Resource {
        let span = self.span(decl.file, decl.block.span());
        let mut attrs = self.declared_body(decl, &key.bindings, Some(span.clone()));
        let provider = self.provider_for(rtype, decl);
        self.add_effective_region(&provider, &mut attrs, &span);
        if let Some(tags_all) = provider.ok().and_then(|p| p.tags_all(attrs.get("tags"))) {
            attrs.insert("tags_all", tags_all);
        }
        if let Some(reason) = key.unknown_count.as_ref().or(self.unknown_count.as_ref()) {
            attrs.insert(crate::model::EXISTS_KEY, Node::new(Value::Unknown(reason.clone()), None));
        }
        Resource::terraform(rtype.to_string(), format!("{}{}.{}{}", self.prefix, rtype, name, key.suffix), span, attrs, self.call_chain.clone())
    }

    /// `__provider` (the configuration's address) and `__region` (where the resource is
    /// created: its own `region` argument, else its provider's region, with the span where that
    /// region is written), resolved through `provider = aws.x`, aliases and module `providers`.
    fn add_effective_region(&self, provider: &Result<ProviderConfig, String>, attrs: &mut Node, span: &Span) {
        let (provider, provider_region) = match provider {
            Ok(config) => (Node::new(Value::Str(config.address.clone()), None), config.region.clone()),
            Err(wanted) => {
                let module = if self.prefix.is_empty() { "the root module" } else { self.prefix.trim_end_matches('.') };
                let reason = format!("no `{wanted}` provider configuration reaches {module}: the region comes from the environment at run time");
                (Node::new(Value::Null, None), Node::new(Value::Unknown(reason), Some(span.clone())))
            }
        };
        // AWS provider v6 takes a resource's own `region` argument; null (a module's `var.region`
        // left at its default) means the provider's.
        let region = attrs.get("region").filter(|r| r.value != Value::Null).cloned().unwrap_or(provider_region);
        attrs.insert("__provider", provider);
        attrs.insert("__region", region);
    }

    /// The provider configuration a resource or data block uses (its `provider = aws.x`, else
    /// the default configuration of its type's provider), or the name wanted when none reaches
    /// this module.
    fn provider_for(&self, rtype: &str, decl: Decl) -> Result<ProviderConfig, String> {
        let local_name = rtype.split('_').next().unwrap_or(rtype);
        let wanted = self.attribute(decl, "provider").and_then(|(_, a)| traversal_text(&a.value)).unwrap_or_else(|| local_name.to_string());
        self.providers().1.get(&wanted).cloned().ok_or(wanted)
    }

    /// This module's provider blocks, and the configurations its resources may use: the
    /// inherited ones, overridden by its own blocks.
    fn providers(&self) -> Providers {
        match &*self.providers.borrow() {
            ProviderState::Done(providers) => return providers.clone(),
            // Re-entered while the provider blocks are evaluated: only what was inherited.
            ProviderState::InProgress => return Rc::new((Vec::new(), self.inherited_providers.clone())),
            ProviderState::NotYet => {}
        }
        *self.providers.borrow_mut() = ProviderState::InProgress;
        let providers = Rc::new({
            let mut configs = self.inherited_providers.clone();
            let resources: Vec<Resource> = self.index.providers.iter().map(|decl| self.provider(*decl)).collect();
            for resource in &resources {
                let name = resource.rtype.trim_start_matches("provider.");
                let key = match resource.attrs.get("alias").and_then(Node::as_str) {
                    Some(alias) => format!("{name}.{alias}"),
                    None => name.to_string(),
                };
                configs.insert(key, ProviderConfig::of(resource));
            }
            (resources, configs)
        });
        *self.providers.borrow_mut() = ProviderState::Done(providers.clone());
        providers
    }

    /// What a module call passes down: its `providers = { child = parent }` map, else every
    /// default (unaliased) configuration of this module, as Terraform does.
    fn providers_for_call(&self, call: Decl) -> HashMap<String, ProviderConfig> {
        let providers = self.providers();
        let configs = &providers.1;
        match self.attribute(call, "providers").map(|(_, a)| &a.value) {
            Some(Expression::Object(object)) => object
                .iter()
                .filter_map(|(key, value)| {
                    let child = match key {
                        hcl_edit::expr::ObjectKey::Ident(ident) => ident.as_str().to_string(),
                        hcl_edit::expr::ObjectKey::Expression(expr) => traversal_text(expr)?,
                    };
                    let parent = traversal_text(value.expr())?;
                    Some((child, configs.get(&parent)?.clone()))
                })
                .collect(),
            _ => configs.iter().filter(|(name, _)| !name.contains('.')).map(|(k, v)| (k.clone(), v.clone())).collect(),
        }
    }

    /// Variables are resources too (rtype `variable`, address `var.NAME`), so rules can
    /// look for literal secrets: `name`, `default` (the declared default, when written) and
    /// `value` (the value given from outside: tfvars at the root, the module argument in a
    /// called module), each with the span where it was written.
    fn variable_resources(&self) -> Vec<Resource> {
        let mut names: Vec<&&str> = self.index.variables.keys().collect();
        names.sort();
        names
            .into_iter()
            .map(|name| {
                let decl = self.index.variables[*name];
                let span = self.span(decl.file, decl.block.span());
                let mut attrs = Node::map(Vec::new(), Some(span.clone()));
                attrs.insert("name", Node::new(Value::Str(name.to_string()), Some(span.clone())));
                if let Some(default) = decl.block.body.get_attribute("default") {
                    attrs.insert("default", self.eval(decl.file, &Bindings::default(), &default.value));
                }
                if let Some(sensitive) = decl.block.body.get_attribute("sensitive") {
                    attrs.insert("sensitive", self.eval(decl.file, &Bindings::default(), &sensitive.value));
                }
                if let Some(value) = self.inputs.get(*name) {
                    attrs.insert("value", value.clone());
                }
                let address = format!("{}var.{name}", self.prefix);
                Resource::terraform("variable".to_string(), address, span, attrs, self.call_chain.clone())
            })
            .collect()
    }

    /// The state backend of a root module (`terraform { backend "s3" { ... } }`, or `cloud`) as a
    /// resource of rtype `terraform.backend.<type>` at address `terraform.backend`. Terraform
    /// ignores backend blocks in called modules, so only the root has one.
    fn backend_resources(&self) -> Vec<Resource> {
        if !self.prefix.is_empty() {
            return Vec::new();
        }
        // `cloud {}` (HCP Terraform) is a backend too, of kind `cloud`.
        let backends = self.decls.files.iter().enumerate().flat_map(|(file, parsed)| {
            let terraform = parsed.body.blocks().filter(|b| b.ident.as_str() == "terraform");
            terraform.flat_map(move |t| t.body.blocks().filter(|b| matches!(b.ident.as_str(), "backend" | "cloud")).map(move |b| (file, b)))
        });
        let (overriding, own): (Vec<_>, Vec<_>) = backends.partition(|(file, _)| super::files::is_override(&self.file(*file).path));
        // An override file's backend replaces the module's (the last one, in name order).
        let chosen = match overriding.last() {
            Some(last) => vec![*last],
            None => own,
        };
        chosen
            .into_iter()
            .map(|(file, backend)| {
                let kind = backend.labels.first().map_or(backend.ident.as_str(), |l| l.as_str());
                let span = self.span(file, backend.span());
                let attrs = self.body(file, &Bindings::default(), &backend.body, Some(span.clone()));
                Resource::terraform(format!("terraform.backend.{kind}"), "terraform.backend".to_string(), span, attrs, Vec::new())
            })
            .collect()
    }

    /// Provider configurations are resources too (`provider.aws`, `provider.aws.dr`), so
    /// rules can check where each one points.
    fn provider(&self, decl: Decl) -> Resource {
        let span = self.span(decl.file, decl.block.span());
        let name = decl.block.labels.first().map(|l| l.as_str()).unwrap_or("");
        let mut attrs = self.declared_body(decl, &Bindings::default(), Some(span.clone()));
        let alias = attrs.get("alias").and_then(Node::as_str).map(str::to_string);
        if attrs.get("region").is_none() {
            let reason = "no region argument: it comes from AWS_REGION or the profile at run time".to_string();
            attrs.insert("region", Node::new(Value::Unknown(reason), Some(span.clone())));
        }
        let address = match alias {
            Some(alias) => format!("{}provider.{name}.{alias}", self.prefix),
            None => format!("{}provider.{name}", self.prefix),
        };
        Resource::terraform(format!("provider.{name}"), address, span, attrs, self.call_chain.clone())
    }

    /// A block body as a map: attributes by name; nested blocks (and expanded `dynamic`
    /// blocks) as lists under their type, as in `terraform show -json`. Meta-arguments are
    /// left out of the block itself only: nested blocks of that name are the provider's
    /// (`aws_backup_plan`'s `rule { lifecycle { ... } }`).
    fn body(&self, file: usize, bindings: &Bindings, body: &Body, span: Option<Span>) -> Node {
        self.block_body(file, bindings, body, span, true)
    }

    fn block_body(&self, file: usize, bindings: &Bindings, body: &Body, span: Option<Span>, top: bool) -> Node {
        let mut out = Node::map(Vec::new(), span);
        for structure in body.iter() {
            match structure {
                Structure::Attribute(attr) => {
                    let key = attr.key.as_str();
                    if !(top && matches!(key, "count" | "for_each" | "depends_on" | "lifecycle" | "provider")) {
                        out.insert(key, as_provider_reads(self.eval(file, bindings, &attr.value)));
                    }
                }
                Structure::Block(block) if block.ident.as_str() == "dynamic" => {
                    for (name, node) in self.dynamic(file, bindings, block) {
                        push_block(&mut out, &name, node);
                    }
                }
                Structure::Block(block) if top && matches!(block.ident.as_str(), "lifecycle" | "provisioner" | "connection") => {}
                Structure::Block(block) => {
                    let node = self.block_body(file, bindings, &block.body, Some(self.span(file, block.span())), false);
                    push_block(&mut out, block.ident.as_str(), node);
                }
            }
        }
        out
    }

    /// Expands `dynamic "name" { for_each = ...; content { ... } }` into blocks.
    fn dynamic(&self, file: usize, bindings: &Bindings, block: &Block) -> Vec<(String, Node)> {
        let name = block.labels.first().map(|l| l.as_str().to_string()).unwrap_or_default();
        let span = self.span(file, block.span());
        let Some(for_each) = block.body.get_attribute("for_each") else { return Vec::new() };
        let iterator = match block.body.get_attribute("iterator").map(|a| &a.value) {
            Some(Expression::Variable(v)) => v.as_str().to_string(),
            _ => name.clone(),
        };
        let Some(content) = block.body.get_blocks("content").next() else { return Vec::new() };
        let collection = self.eval(file, bindings, &for_each.value);
        match iteration(&collection) {
            Ok(items) => items
                .into_iter()
                .map(|(key, value)| {
                    let object = Node::map(vec![("key".into(), key), ("value".into(), value)], None);
                    let inner = bindings.with(&iterator, object);
                    (name.clone(), self.block_body(file, &inner, &content.body, Some(self.span(file, content.span())), false))
                })
                .collect(),
            Err(reason) => vec![(name.clone(), Node::new(Value::Unknown(format!("dynamic \"{name}\" blocks: {reason}")), Some(span)))],
        }
    }

    /// The instances `count` or `for_each` create (one with no key when neither is set).
    fn instance_keys(&self, rtype: &str, name: &str, decl: Decl) -> Instances {
        let memo_key = (rtype.to_string(), name.to_string());
        if let Some(keys) = self.instances.borrow().get(&memo_key) {
            return keys.clone();
        }
        let keys = Rc::new(self.expand(decl, &format!("{}{rtype}.{name}", self.prefix)));
        self.instances.borrow_mut().insert(memo_key, keys.clone());
        keys
    }

    fn expand(&self, decl: Decl, address: &str) -> Vec<InstanceKey> {
        let single = InstanceKey { suffix: String::new(), key: None, bindings: Bindings::default(), unknown_count: None };
        if let Some((file, count)) = self.attribute(decl, "count") {
            let value = self.eval(file, &Bindings::default(), &count.value);
            return match value.value {
                Value::Int(n) if (0..=MAX_INSTANCES as i64).contains(&n) => (0..n)
                    .map(|i| InstanceKey {
                        suffix: format!("[{i}]"),
                        key: Some(Value::Int(i)),
                        bindings: Bindings::default().with("count", Node::map(vec![("index".into(), Node::new(Value::Int(i), None))], None)),
                        unknown_count: None,
                    })
                    .collect(),
                _ => {
                    let reason = format!("count of {address} is not a known number ({})", describe(&value));
                    let unknown = Node::map(vec![("index".into(), Node::new(Value::Unknown(reason.clone()), value.span.clone()))], None);
                    vec![InstanceKey { suffix: "[*]".into(), key: None, bindings: Bindings::default().with("count", unknown), unknown_count: Some(reason) }]
                }
            };
        }
        if let Some((file, for_each)) = self.attribute(decl, "for_each") {
            let value = self.eval(file, &Bindings::default(), &for_each.value);
            return match iteration(&value) {
                Ok(items) => items
                    .into_iter()
                    .take(MAX_INSTANCES)
                    .map(|(key, item)| {
                        let suffix = match &key.value {
                            Value::Str(s) => format!("[{}]", serde_json::Value::String(s.clone())),
                            other => format!("[{}]", describe(&Node::new(other.clone(), None))),
                        };
                        let each = Node::map(vec![("key".into(), key.clone()), ("value".into(), item)], None);
                        InstanceKey { suffix, key: Some(key.value), bindings: Bindings::default().with("each", each), unknown_count: None }
                    })
                    .collect(),
                Err(reason) => {
                    let unknown = |what: &str| Node::new(Value::Unknown(format!("each.{what} of {address}: {reason}")), value.span.clone());
                    let each = Node::map(vec![("key".into(), unknown("key")), ("value".into(), unknown("value"))], None);
                    let unknown_count = Some(format!("for_each of {address}: {reason}"));
                    vec![InstanceKey { suffix: "[*]".into(), key: None, bindings: Bindings::default().with("each", each), unknown_count }]
                }
            };
        }
        vec![single]
    }

    fn local(&self, name: &str, span: &Span) -> Node {
        if let Some(slot) = self.locals.borrow().get(name) {
            return match slot {
                Slot::Done(node) => node.clone(),
                Slot::InProgress => Node::new(Value::Unknown(format!("local.{name} refers to itself")), Some(span.clone())),
            };
        }
        let Some(&(file, attr)) = self.index.locals.get(name) else {
            return Node::new(Value::Unknown(format!("local.{name} is not declared")), Some(span.clone()));
        };
        self.locals.borrow_mut().insert(name.to_string(), Slot::InProgress);
        let node = self.eval(file, &Bindings::default(), &attr.value);
        self.locals.borrow_mut().insert(name.to_string(), Slot::Done(node.clone()));
        node
    }

    /// `var.name` and as many of the `keys` after it as lead into its value, with how many
    /// keys that took. Only the part read is copied: a map of thousands of entries is read
    /// once per `for_each` instance.
    fn variable(&self, name: &str, keys: &[Key], span: &Span) -> (Node, usize) {
        let Some(&decl) = self.index.variables.get(name) else {
            return (Node::new(Value::Unknown(format!("var.{name} is not declared")), Some(span.clone())), 0);
        };
        self.convert_variable(name, decl);
        let variables = self.variables.borrow();
        let mut node = &variables[name];
        let mut consumed = 0;
        while let Some(inner) = keys.get(consumed).and_then(|key| step_into(node, key)) {
            node = inner;
            consumed += 1;
        }
        (node.clone(), consumed)
    }

    /// Every variable converted, so that a value Terraform would reject is reported even when
    /// nothing reads it.
    fn convert_variables(&self) {
        let mut variables: Vec<(&&str, &Decl)> = self.index.variables.iter().collect();
        variables.sort_unstable_by_key(|(name, _)| **name);
        for (name, decl) in variables {
            self.convert_variable(name, *decl);
        }
    }

    /// Converts the variable's value, once per instance.
    fn convert_variable(&self, name: &str, decl: Decl) {
        if !self.variables.borrow().contains_key(name) {
            let value = self.typed_variable(name, decl);
            self.variables.borrow_mut().insert(name.to_string(), value);
        }
    }

    /// The value given (tfvars at the root, the module argument in a called module) or else the
    /// default, converted to the variable's type as Terraform does (see [`types::Declaration`]).
    fn typed_variable(&self, name: &str, decl: Decl) -> Node {
        let parsed = self.file(decl.file);
        let bindings = Bindings::default();
        let scope = BoundScope { instance: self, bindings: &bindings };
        let evaluator = Evaluator { file: parsed.path.clone(), lines: &parsed.lines, scope: &scope };
        let span = self.span(decl.file, decl.block.span());
        let mut diagnostics = Vec::new();
        let declaration = types::Declaration::new(format!("{}var.{name}", self.prefix), decl.block, &evaluator, span.clone(), &mut diagnostics);
        let value = declaration.value(self.inputs.get(name), &mut diagnostics);
        self.diagnostics.borrow_mut().extend(diagnostics);
        value.unwrap_or_else(|| {
            let reason = format!("var.{name} has no default and no value was given (tfvars, --var-file or module argument)");
            Node::new(Value::Unknown(reason), Some(span))
        })
    }

    /// `aws_kms_key.gold.arn`: the configured value when the attribute is written in the
    /// resource, else a reference that keeps the resource's identity.
    fn resource_attribute(&self, rtype: &str, name: &str, decl: Decl, keys: &[Key]) -> (Node, usize) {
        let base = format!("{}{rtype}.{name}", self.prefix);
        let (instance, consumed) = match select_instance(&base, &self.instance_keys(rtype, name, decl), keys) {
            Ok(selected) => selected,
            Err(whole) => return whole,
        };
        let address = format!("{base}{}", instance.suffix);
        match keys.get(consumed) {
            Some(Key::Attr(attribute)) => match self.attribute(decl, attribute) {
                Some((file, attr)) => (self.eval(file, &instance.bindings, &attr.value), consumed + 1),
                None => (Node::new(Value::Ref { address, attribute: attribute.clone() }, None), consumed + 1),
            },
            _ => (Node::new(Value::Ref { address, attribute: String::new() }, None), consumed),
        }
    }

    /// `data.aws_iam_policy_document.p.json`: what the configuration decides of a data source
    /// charterguard reads (see [`data_sources`]), else a reference known only after apply.
    fn data_attribute(&self, rtype: &str, name: &str, keys: &[Key], span: &Span) -> (Node, usize) {
        let base = format!("{}data.{rtype}.{name}", self.prefix);
        let Some(&decl) = self.index.data_by_name.get(&(rtype, name)) else {
            return (Node::new(Value::Unknown(format!("{base} is not declared")), Some(span.clone())), keys.len());
        };
        let (instance, consumed) = match select_instance(&base, &self.data_instance_keys(rtype, name, decl), keys) {
            Ok(selected) => selected,
            Err(whole) => return whole,
        };
        let address = format!("{base}{}", instance.suffix);
        let Some(Key::Attr(attribute)) = keys.get(consumed) else {
            return (Node::new(Value::Ref { address, attribute: String::new() }, None), consumed);
        };
        let read = data_sources::is_read(rtype).then(|| self.data_values(rtype, decl, &instance, &address));
        // A data source that could not be read is that error (or unknown) whatever the attribute.
        let known = read.and_then(|values| if let Value::Map(_) = values.value { values.get(attribute).cloned() } else { Some(values) });
        let value = known.unwrap_or_else(|| Node::new(Value::Ref { address, attribute: attribute.clone() }, None));
        (value, consumed + 1)
    }

    fn data_instance_keys(&self, rtype: &str, name: &str, decl: Decl) -> Instances {
        self.instance_keys(&format!("data.{rtype}"), name, decl)
    }

    /// The attributes of one data source instance, read once (a data source that reads itself
    /// is a cycle, and unknown).
    fn data_values(&self, rtype: &str, decl: Decl, instance: &InstanceKey, address: &str) -> Node {
        match self.data_values.borrow().get(address) {
            Some(Slot::Done(values)) => return values.clone(),
            Some(Slot::InProgress) => return Node::new(Value::Unknown(format!("{address} refers to itself")), None),
            None => {}
        }
        self.data_values.borrow_mut().insert(address.to_string(), Slot::InProgress);
        let span = self.span(decl.file, decl.block.span());
        let config = self.declared_body(decl, &instance.bindings, Some(span.clone()));
        let provider = self.provider_for(rtype, decl).ok();
        let values = data_sources::read(rtype, &config, provider.as_ref()).unwrap_or_else(|error| {
            let message = format!("{address}: {error} (Terraform fails to read this data source)");
            self.diagnostics.borrow_mut().push(Diagnostic::error(span.file.to_string(), Some(span.clone()), message.clone()));
            Node::new(super::eval::error_value(message), Some(span))
        });
        self.data_values.borrow_mut().insert(address.to_string(), Slot::Done(values.clone()));
        values
    }

    /// Data sources rules join to (see [`data_sources::is_joined`]), as resources of type
    /// `data.<type>`.
    fn joined_data_sources(&self) -> Vec<Resource> {
        let mut out = Vec::new();
        for &(rtype, name, decl) in self.index.data.iter().filter(|(rtype, _, _)| data_sources::is_joined(rtype)) {
            for instance in self.data_instance_keys(rtype, name, decl).iter() {
                let address = format!("{}data.{rtype}.{name}{}", self.prefix, instance.suffix);
                let attrs = self.data_values(rtype, decl, instance, &address);
                let span = self.span(decl.file, decl.block.span());
                out.push(Resource::terraform(format!("data.{rtype}"), address, span, attrs, self.call_chain.clone()));
            }
        }
        out
    }

    /// The instances of a module call, evaluated once.
    fn children(&self, name: &str) -> Children<'m, 't> {
        if let Some(children) = self.children.borrow().get(name) {
            return children.clone();
        }
        self.calling.borrow_mut().insert(name.to_string());
        let children = Rc::new(self.call_module(name));
        self.calling.borrow_mut().remove(name);
        self.children.borrow_mut().insert(name.to_string(), children.clone());
        children
    }

    fn call_module(&self, name: &str) -> Vec<(InstanceKey, Rc<Instance<'m, 't>>)> {
        let Some(&decl) = self.index.module_by_name.get(name) else { return Vec::new() };
        let call_span = self.span(decl.file, decl.block.span());
        let source = self.attribute(decl, "source").map(|(file, a)| self.eval(file, &Bindings::default(), &a.value));
        let source = source.as_ref().and_then(Node::as_str).unwrap_or("");
        let call_key = if self.key.is_empty() { name.to_string() } else { format!("{}.{name}", self.key) };
        if self.depth >= MAX_MODULE_DEPTH {
            let message = format!("{}module.{name}: modules nested deeper than {MAX_MODULE_DEPTH} levels (a module that calls itself?)", self.prefix);
            self.diagnostics.borrow_mut().push(Diagnostic::error(call_span.file.to_string(), Some(call_span), message));
            return Vec::new();
        }
        let decls = match self.loader.module(&call_key, source, &self.decls.dir) {
            Ok(decls) => decls,
            Err(missing) => {
                // Named by key, not instance, so that every instance of the caller says the same.
                let span = super::modules::source_span(self.file(decl.file), decl.block);
                let message = format!("{}: {}; its resources are not evaluated", super::modules::key_address(&call_key), missing.reason);
                self.diagnostics.borrow_mut().push(Diagnostic { level: missing.level, file: span.file.to_string(), span: Some(span), message });
                self.unavailable.borrow_mut().insert(name.to_string(), missing.reason);
                return Vec::new();
            }
        };
        let mut chain = self.call_chain.clone();
        chain.push(call_span);
        let address = format!("{}module.{name}", self.prefix);
        let providers = self.providers_for_call(decl);
        self.expand(decl, &address)
            .into_iter()
            .map(|key| {
                let inputs = self
                    .attributes(decl)
                    .into_iter()
                    .filter(|(_, a)| !matches!(a.key.as_str(), "source" | "version" | "count" | "for_each" | "providers" | "depends_on"))
                    .map(|(file, a)| (a.key.as_str().to_string(), self.eval(file, &key.bindings, &a.value)))
                    .collect();
                let prefix = format!("{address}{}.", key.suffix);
                let unknown_count = key.unknown_count.clone().or_else(|| self.unknown_count.clone());
                let call = Call {
                    prefix,
                    key: call_key.clone(),
                    inputs,
                    depth: self.depth + 1,
                    call_chain: chain.clone(),
                    providers: providers.clone(),
                    unknown_count,
                };
                let child = Instance::new(self.loader, decls, call);
                (key, Rc::new(child))
            })
            .collect()
    }

    fn module_output(&self, name: &str, keys: &[Key], span: &Span) -> (Node, usize) {
        if self.calling.borrow().contains(name) {
            let reason = format!("module.{name}'s outputs are read while its own inputs are evaluated (a cycle between module calls)");
            return (Node::new(Value::Unknown(reason), Some(span.clone())), keys.len());
        }
        let children = self.children(name);
        let multi = children.first().is_some_and(|(k, _)| k.key.is_some());
        let (child, consumed) = match (multi, keys.first()) {
            (true, Some(Key::Index(index))) => {
                (children.iter().find(|(k, _)| k.key.as_ref().is_some_and(|key| loosely_equal(key, index))).map(|(_, c)| c.clone()), 1)
            }
            (false, _) => (children.first().map(|(_, c)| c.clone()), 0),
            (true, _) => return (Node::new(Value::Unknown(format!("module.{name} has several instances; index it")), Some(span.clone())), keys.len()),
        };
        let Some(child) = child else {
            let reason = match self.unavailable.borrow().get(name) {
                Some(why) => format!("module.{name} is not evaluated: {why}"),
                None => format!("module.{name} is not evaluated"),
            };
            return (Node::new(Value::Unknown(reason), Some(span.clone())), keys.len());
        };
        match keys.get(consumed) {
            Some(Key::Attr(output)) => match child.index.outputs.get(output.as_str()).and_then(|d| child.attribute(*d, "value")) {
                Some((file, attr)) => (child.eval(file, &Bindings::default(), &attr.value), consumed + 1),
                None => (Node::new(Value::Unknown(format!("module.{name} has no output `{output}`")), Some(span.clone())), consumed + 1),
            },
            _ => (Node::new(Value::Unknown(format!("module.{name} used as a whole object")), Some(span.clone())), keys.len()),
        }
    }
}

/// Resolves names for expressions inside one instance, with block-local bindings first.
struct BoundScope<'a, 'm, 't> {
    instance: &'a Instance<'m, 't>,
    bindings: &'a Bindings,
}

impl Scope for BoundScope<'_, '_, '_> {
    fn sandbox(&self) -> Option<&Sandbox> {
        Some(self.instance.loader.sandbox())
    }

    fn resolve(&self, root: &str, keys: &[Key], span: &Span) -> Option<(Node, usize)> {
        if let Some(bound) = self.bindings.get(root) {
            return Some((bound.clone(), 0));
        }
        let instance = self.instance;
        let first = match keys.first() {
            Some(Key::Attr(name)) => Some(name.as_str()),
            _ => None,
        };
        let unknown = |reason: String| Some((Node::new(Value::Unknown(reason), Some(span.clone())), keys.len()));
        match (root, first) {
            ("var", Some(name)) => {
                let (node, consumed) = instance.variable(name, &keys[1..], span);
                Some((node, consumed + 1))
            }
            ("local", Some(name)) => Some((instance.local(name, span), 1)),
            ("each" | "count", _) => unknown(format!("{root} is used outside a block with for_each/count")),
            ("ephemeral", _) => {
                unknown(format!("{} is ephemeral: it exists only while Terraform runs, never in a plan", super::eval::reference_text(root, keys)))
            }
            ("path", Some("module")) => Some((Node::new(Value::Str(instance.loader.sandbox().module_path(&instance.decls.dir)), Some(span.clone())), 1)),
            ("path", Some("root")) => Some((Node::new(Value::Str(".".into()), Some(span.clone())), 1)),
            ("path", Some("cwd")) => Some((Node::new(Value::Str(instance.loader.sandbox().absolute_cwd()), Some(span.clone())), 1)),
            ("terraform", Some("workspace")) => Some((Node::new(Value::Str(instance.loader.workspace().to_string()), Some(span.clone())), 1)),
            ("module", Some(name)) => {
                let (node, consumed) = instance.module_output(name, &keys[1..], span);
                Some((node, consumed + 1))
            }
            ("data", Some(rtype)) => match keys.get(1) {
                Some(Key::Attr(name)) => {
                    let (node, consumed) = instance.data_attribute(rtype, name, &keys[2..], span);
                    Some((node, consumed + 2))
                }
                _ => unknown(format!("data.{rtype} is not a complete reference")),
            },
            (rtype, Some(name)) => {
                let decl = *instance.index.resource_by_name.get(&(rtype, name))?;
                let (node, consumed) = instance.resource_attribute(rtype, name, decl, &keys[1..]);
                Some((node, consumed + 1))
            }
            _ => None,
        }
    }
}

/// The instance `keys` start by naming (`[0]`, `["k"]`, or the only one), with how many keys
/// that took; `Err` with the value when the keys name all instances (a splat, `values(...)`):
/// references to each, in a list (`count`) or a map (`for_each`).
fn select_instance(base: &str, instances: &[InstanceKey], keys: &[Key]) -> Result<(InstanceKey, usize), (Node, usize)> {
    let is_multi = instances.first().is_some_and(|k| k.key.is_some());
    match (is_multi, keys.first()) {
        (true, Some(Key::Index(index))) => match instances.iter().find(|k| k.key.as_ref().is_some_and(|key| loosely_equal(key, index))) {
            Some(instance) => Ok((instance.clone(), 1)),
            None => Err((Node::new(Value::Unknown(format!("{base} has no instance {}", describe(&Node::new(index.clone(), None)))), None), keys.len())),
        },
        (true, _) => {
            let refs = instances.iter().map(|k| (k, Node::new(Value::Ref { address: format!("{base}{}", k.suffix), attribute: String::new() }, None)));
            let node = match instances.first().and_then(|k| k.key.as_ref()) {
                Some(Value::Int(_)) => Node::new(Value::List(refs.map(|(_, r)| r).collect()), None),
                _ => Node::map(refs.map(|(k, r)| (key_text(k.key.as_ref()), r)).collect(), None),
            };
            Err((node, 0))
        }
        // count = 0 or an empty for_each: no instance to name, none to list.
        (false, Some(Key::Index(index))) if instances.is_empty() => {
            Err((Node::new(Value::Unknown(format!("{base} has no instance {}", describe(&Node::new(index.clone(), None)))), None), keys.len()))
        }
        (false, _) if instances.is_empty() => Err((Node::new(Value::List(Vec::new()), None), 0)),
        (false, _) => Ok((instances[0].clone(), 0)),
    }
}

/// `aws.dr` for the expression `aws.dr` (provider references are names, not values).
fn traversal_text(expr: &Expression) -> Option<String> {
    match expr {
        Expression::Variable(variable) => Some(variable.as_str().to_string()),
        Expression::Traversal(traversal) => {
            let Expression::Variable(root) = &traversal.expr else { return None };
            let mut text = root.as_str().to_string();
            for operator in traversal.operators.iter() {
                match operator.value() {
                    hcl_edit::expr::TraversalOperator::GetAttr(name) => {
                        text.push('.');
                        text.push_str(name.as_str());
                    }
                    _ => return None,
                }
            }
            Some(text)
        }
        _ => None,
    }
}

/// A block's own attribute as the provider reads it. Providers convert each argument to its
/// schema type, which charterguard does not have: a bool passed through a `string` variable
/// arrives as `"true"`, and the provider makes it `true` again. So a string that is exactly
/// `"true"` or `"false"` is read as that bool (bool arguments are far more common than string
/// arguments holding those words); strings inside maps and lists (tags) stay strings.
fn as_provider_reads(node: Node) -> Node {
    match node.value {
        Value::Str(ref text) if text == "true" || text == "false" => Node::new(Value::Bool(text == "true"), node.span),
        _ => node,
    }
}

fn push_block(out: &mut Node, name: &str, node: Node) {
    match out.get_mut(name) {
        Some(Node { value: Value::List(items), .. }) => items.push(node),
        _ => {
            let span = node.span.clone();
            out.insert(name, Node::new(Value::List(vec![node]), span));
        }
    }
}

/// The (key, value) pairs `for_each` iterates: map entries, or set/list elements keyed by
/// themselves.
fn iteration(collection: &Node) -> Result<Vec<(Node, Node)>, String> {
    match &collection.value {
        Value::Map(entries) => Ok(entries.iter().map(|(k, v)| (Node::new(Value::Str(k.clone()), v.span.clone()), v.clone())).collect()),
        Value::List(items) => items
            .iter()
            .map(|item| match &item.value {
                Value::Unknown(reason) => Err(reason.clone()),
                _ => Ok((item.clone(), item.clone())),
            })
            .collect(),
        Value::Null => Ok(Vec::new()),
        Value::Unknown(reason) => Err(reason.clone()),
        _ => Err(format!("for_each value {} is not a map or set", describe(collection))),
    }
}

/// The element `key` reads in a map or list, when it is there as written (anything else is
/// left to the evaluator, which also explains what is missing).
fn step_into<'n>(node: &'n Node, key: &Key) -> Option<&'n Node> {
    match (&node.value, key) {
        (Value::Map(_), Key::Attr(name) | Key::Index(Value::Str(name))) => node.get(name),
        (Value::List(items), Key::Index(Value::Int(index))) => usize::try_from(*index).ok().and_then(|index| items.get(index)),
        _ => None,
    }
}

fn loosely_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Str(x), Value::Int(y)) | (Value::Int(y), Value::Str(x)) => x == &y.to_string(),
        (Value::Float(x), Value::Int(y)) | (Value::Int(y), Value::Float(x)) => *x == *y as f64,
        _ => a == b,
    }
}

fn key_text(key: Option<&Value>) -> String {
    match key {
        Some(Value::Str(s)) => s.clone(),
        Some(other) => describe(&Node::new(other.clone(), None)),
        None => String::new(),
    }
}

/// A short rendering of a value for messages.
pub fn describe(node: &Node) -> String {
    match &node.value {
        Value::Unknown(reason) => format!("unknown: {reason}"),
        Value::Ref { address, attribute } => format!("{address}.{attribute}"),
        _ => node.to_json().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{Model, Value};

    fn load(files: &[(&str, &str)]) -> Model {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let paths = crate::input::discover(&[dir.path().to_path_buf()], dir.path(), &crate::input::Walk::default()).terraform;
        let options = crate::terraform::Options::new(dir.path().to_path_buf());
        crate::terraform::load(&paths, &options)
    }

    fn find<'m>(model: &'m Model, address: &str) -> &'m crate::model::Resource {
        model.resources.iter().find(|r| r.address == address).unwrap_or_else(|| panic!("no {address}"))
    }

    #[test]
    fn variables_are_resources_with_default_and_tfvars_value() {
        let model = load(&[
            ("main.tf", "variable \"db_password\" {\n  default = \"x\"\n}\nvariable \"api_token\" {}\nvariable \"region\" {}\n"),
            ("terraform.tfvars", "api_token = \"t\"\n"),
        ]);
        let db = find(&model, "var.db_password");
        assert_eq!(db.rtype, "variable");
        assert_eq!(db.attrs.get("default").map(|n| &n.value), Some(&Value::Str("x".into())));
        assert!(db.attrs.get("value").is_none());
        let token = find(&model, "var.api_token");
        let value = token.attrs.get("value").unwrap();
        assert_eq!(value.value, Value::Str("t".into()));
        assert!(value.span.as_ref().unwrap().file.ends_with("terraform.tfvars"));
        assert!(find(&model, "var.region").attrs.get("value").is_none());
    }

    #[test]
    fn the_root_backend_is_a_resource() {
        let model = load(&[("main.tf", "terraform {\n  required_version = \">= 1.5\"\n  backend \"s3\" {\n    bucket  = \"state\"\n    encrypt = true\n    region  = \"ap-south-1\"\n  }\n}\n")]);
        let backend = find(&model, "terraform.backend");
        assert_eq!(backend.rtype, "terraform.backend.s3");
        assert_eq!(backend.attrs.get("encrypt").map(|n| &n.value), Some(&Value::Bool(true)));
        assert_eq!(backend.span.start_line, 3);
    }

    #[test]
    fn resources_without_instances_list_none_and_name_none() {
        let model = load(&[(
            "main.tf",
            "resource \"aws_route_table\" \"database\" {\n  count = 0\n}\nresource \"aws_route_table\" \"private\" {\n  count = 1\n}\n\
             resource \"aws_route_table_association\" \"a\" {\n  route_table_id = coalescelist(aws_route_table.database[*].id, aws_route_table.private[*].id)[0]\n\
             subnet_id = aws_route_table.database[0].id\n}\n",
        )]);
        let association = find(&model, "aws_route_table_association.a");
        let table = association.attrs.get("route_table_id").map(|n| &n.value);
        assert_eq!(table, Some(&Value::Ref { address: "aws_route_table.private[0]".into(), attribute: "id".into() }));
        let missing = association.attrs.get("subnet_id").unwrap().unknown_reason().unwrap_or_default();
        assert!(missing.contains("aws_route_table.database has no instance 0"), "{missing}");
    }

    #[test]
    fn meta_arguments_are_left_out_of_the_resource_block_only() {
        let text = "resource \"aws_backup_plan\" \"p\" {\n  lifecycle {\n    prevent_destroy = true\n  }\n  rule {\n    lifecycle {\n      delete_after = 2555\n    }\n  }\n}\n";
        let model = load(&[("main.tf", text)]);
        let plan = model.resources.iter().find(|r| r.rtype == "aws_backup_plan").expect("the plan");
        assert!(plan.attrs.get("lifecycle").is_none(), "the meta-argument is not an attribute");
        assert!(matches!(plan.attrs.path("rule.lifecycle.delete_after").map(|n| &n.value), Some(Value::Int(2555))), "{:?}", plan.attrs);
    }
}

//! One module instance evaluated: variables, locals, resources with `count`/`for_each`,
//! nested blocks (including `dynamic`), module calls and outputs. Values are evaluated on
//! demand and remembered, so each expression is evaluated once per instance whatever the
//! order of declarations.

use super::eval::{Evaluator, Key, Scope};
use super::files::ParsedFile;
use super::sandbox::Sandbox;
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
    data: HashMap<(&'m str, &'m str), Decl<'m>>,
    modules: Vec<(&'m str, Decl<'m>)>,
    module_by_name: HashMap<&'m str, Decl<'m>>,
    providers: Vec<Decl<'m>>,
    outputs: HashMap<&'m str, Decl<'m>>,
}

impl<'m> Index<'m> {
    fn new(decls: &'m ModuleDecls<'_>) -> Self {
        let mut index = Index {
            variables: HashMap::new(),
            locals: HashMap::new(),
            resources: Vec::new(),
            resource_by_name: HashMap::new(),
            data: HashMap::new(),
            modules: Vec::new(),
            module_by_name: HashMap::new(),
            providers: Vec::new(),
            outputs: HashMap::new(),
        };
        for (file, parsed) in decls.files.iter().enumerate() {
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
                        index.data.insert((rtype, name), decl);
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
        index
    }
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
}

impl Call {
    /// A root module with values from tfvars.
    pub fn root(inputs: HashMap<String, Node>) -> Self {
        Call { prefix: String::new(), key: String::new(), inputs, depth: 0, call_chain: Vec::new(), providers: HashMap::new() }
    }
}

/// A provider configuration as resources see it: which one, and its region.
#[derive(Clone, Debug)]
pub struct ProviderConfig {
    pub address: String,
    pub region: Node,
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
    locals: RefCell<HashMap<String, Slot>>,
    instances: RefCell<HashMap<(String, String), Instances>>,
    children: RefCell<HashMap<String, Children<'m, 't>>>,
    /// Module calls whose inputs are being evaluated: an input that reads the same module's
    /// outputs (module A's input from B, B's from A) is a cycle and becomes unknown.
    calling: RefCell<std::collections::HashSet<String>>,
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
            inherited_providers: call.providers,
            providers: RefCell::new(ProviderState::NotYet),
            locals: RefCell::default(),
            instances: RefCell::default(),
            children: RefCell::default(),
            calling: RefCell::default(),
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

    /// Every resource of this instance and of the modules it calls.
    pub fn resources(&self) -> (Vec<Resource>, Vec<Diagnostic>) {
        let mut resources = Vec::new();
        for &(rtype, name, decl) in &self.index.resources {
            for key in self.instance_keys(rtype, name, decl).iter() {
                resources.push(self.resource(rtype, name, decl, key));
            }
        }
        resources.extend(self.providers().0.iter().cloned());
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
        (resources, diagnostics)
    }

    /// Every `output` block's value, by name (for differential tests against Terraform).
    pub(crate) fn outputs(&self) -> Vec<(String, Node)> {
        let mut outputs: Vec<(String, Node)> = self
            .index
            .outputs
            .iter()
            .filter_map(|(name, d)| d.block.body.get_attribute("value").map(|a| (name.to_string(), self.eval(d.file, &Bindings::default(), &a.value))))
            .collect();
        outputs.sort_by(|a, b| a.0.cmp(&b.0));
        outputs
    }

    fn resource(&self, rtype: &str, name: &str, decl: Decl, key: &InstanceKey) -> Resource {
        let span = self.span(decl.file, decl.block.span());
        let mut attrs = self.body(decl.file, &key.bindings, &decl.block.body, Some(span.clone()));
        self.add_effective_region(rtype, decl, &mut attrs, &span);
        Resource::terraform(rtype.to_string(), format!("{}{}.{}{}", self.prefix, rtype, name, key.suffix), span, attrs, self.call_chain.clone())
    }

    /// `__provider` (the configuration's address) and `__region` (where the resource is
    /// created: its own `region` argument, else its provider's region, with the span where that
    /// region is written), resolved through `provider = aws.x`, aliases and module `providers`.
    fn add_effective_region(&self, rtype: &str, decl: Decl, attrs: &mut Node, span: &Span) {
        let local_name = rtype.split('_').next().unwrap_or(rtype);
        let wanted = decl.block.body.get_attribute("provider").and_then(|a| traversal_text(&a.value)).unwrap_or_else(|| local_name.to_string());
        let (provider, provider_region) = match self.providers().1.get(&wanted) {
            Some(config) => (Node::new(Value::Str(config.address.clone()), None), config.region.clone()),
            None => {
                let module = if self.prefix.is_empty() { "the root module" } else { self.prefix.trim_end_matches('.') };
                let reason = format!("no `{wanted}` provider configuration reaches {module}: the region comes from the environment at run time");
                (Node::new(Value::Null, None), Node::new(Value::Unknown(reason), Some(span.clone())))
            }
        };
        let region = attrs.get("region").cloned().unwrap_or(provider_region);
        attrs.insert("__provider", provider);
        attrs.insert("__region", region);
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
                let region = resource.attrs.get("region").cloned().unwrap_or_else(|| Node::new(Value::Null, None));
                configs.insert(key, ProviderConfig { address: resource.address.clone(), region });
            }
            (resources, configs)
        });
        *self.providers.borrow_mut() = ProviderState::Done(providers.clone());
        providers
    }

    /// What a module call passes down: its `providers = { child = parent }` map, else every
    /// default (unaliased) configuration of this module, as Terraform does.
    fn providers_for_call(&self, call: &Block) -> HashMap<String, ProviderConfig> {
        let providers = self.providers();
        let configs = &providers.1;
        match call.body.get_attribute("providers").map(|a| &a.value) {
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

    /// The state backend of a root module (`terraform { backend "s3" { ... } }`) as a
    /// resource of rtype `terraform.backend.<type>` at address `terraform.backend`. Terraform
    /// ignores backend blocks in called modules, so only the root has one.
    fn backend_resources(&self) -> Vec<Resource> {
        if !self.prefix.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::new();
        for (file, parsed) in self.decls.files.iter().enumerate() {
            for terraform in parsed.body.blocks().filter(|b| b.ident.as_str() == "terraform") {
                for backend in terraform.body.blocks().filter(|b| b.ident.as_str() == "backend") {
                    let kind = backend.labels.first().map(|l| l.as_str()).unwrap_or("");
                    let span = self.span(file, backend.span());
                    let attrs = self.body(file, &Bindings::default(), &backend.body, Some(span.clone()));
                    out.push(Resource::terraform(format!("terraform.backend.{kind}"), "terraform.backend".to_string(), span, attrs, Vec::new()));
                }
            }
        }
        out
    }

    /// Provider configurations are resources too (`provider.aws`, `provider.aws.dr`), so
    /// rules can check where each one points.
    fn provider(&self, decl: Decl) -> Resource {
        let span = self.span(decl.file, decl.block.span());
        let name = decl.block.labels.first().map(|l| l.as_str()).unwrap_or("");
        let mut attrs = self.body(decl.file, &Bindings::default(), &decl.block.body, Some(span.clone()));
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
    /// blocks) as lists under their type, as in `terraform show -json`.
    fn body(&self, file: usize, bindings: &Bindings, body: &Body, span: Option<Span>) -> Node {
        let mut out = Node::map(Vec::new(), span);
        for structure in body.iter() {
            match structure {
                Structure::Attribute(attr) => {
                    let key = attr.key.as_str();
                    if !matches!(key, "count" | "for_each" | "depends_on" | "lifecycle" | "provider") {
                        out.insert(key, self.eval(file, bindings, &attr.value));
                    }
                }
                Structure::Block(block) if block.ident.as_str() == "dynamic" => {
                    for (name, node) in self.dynamic(file, bindings, block) {
                        push_block(&mut out, &name, node);
                    }
                }
                Structure::Block(block) if matches!(block.ident.as_str(), "lifecycle" | "provisioner" | "connection") => {}
                Structure::Block(block) => {
                    let node = self.body(file, bindings, &block.body, Some(self.span(file, block.span())));
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
                    (name.clone(), self.body(file, &inner, &content.body, Some(self.span(file, content.span()))))
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
        let body = &decl.block.body;
        let single = InstanceKey { suffix: String::new(), key: None, bindings: Bindings::default() };
        if let Some(count) = body.get_attribute("count") {
            let value = self.eval(decl.file, &Bindings::default(), &count.value);
            return match value.value {
                Value::Int(n) if (0..=MAX_INSTANCES as i64).contains(&n) => (0..n)
                    .map(|i| InstanceKey {
                        suffix: format!("[{i}]"),
                        key: Some(Value::Int(i)),
                        bindings: Bindings::default().with("count", Node::map(vec![("index".into(), Node::new(Value::Int(i), None))], None)),
                    })
                    .collect(),
                _ => {
                    let reason = format!("count of {address} is not a known number ({})", describe(&value));
                    let unknown = Node::map(vec![("index".into(), Node::new(Value::Unknown(reason), value.span.clone()))], None);
                    vec![InstanceKey { suffix: "[*]".into(), key: None, bindings: Bindings::default().with("count", unknown) }]
                }
            };
        }
        if let Some(for_each) = body.get_attribute("for_each") {
            let value = self.eval(decl.file, &Bindings::default(), &for_each.value);
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
                        InstanceKey { suffix, key: Some(key.value), bindings: Bindings::default().with("each", each) }
                    })
                    .collect(),
                Err(reason) => {
                    let unknown = |what: &str| Node::new(Value::Unknown(format!("each.{what} of {address}: {reason}")), value.span.clone());
                    let each = Node::map(vec![("key".into(), unknown("key")), ("value".into(), unknown("value"))], None);
                    vec![InstanceKey { suffix: "[*]".into(), key: None, bindings: Bindings::default().with("each", each) }]
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

    fn variable(&self, name: &str, span: &Span) -> Node {
        if let Some(value) = self.inputs.get(name) {
            return value.clone();
        }
        let Some(decl) = self.index.variables.get(name) else {
            return Node::new(Value::Unknown(format!("var.{name} is not declared")), Some(span.clone()));
        };
        match decl.block.body.get_attribute("default") {
            Some(default) => self.eval(decl.file, &Bindings::default(), &default.value),
            None => {
                let reason = format!("var.{name} has no default and no value was given (tfvars, --var-file or module argument)");
                Node::new(Value::Unknown(reason), Some(self.span(decl.file, decl.block.span())))
            }
        }
    }

    /// `aws_kms_key.gold.arn`: the configured value when the attribute is written in the
    /// resource, else a reference that keeps the resource's identity.
    fn resource_attribute(&self, rtype: &str, name: &str, decl: Decl, keys: &[Key]) -> (Node, usize) {
        let instances = self.instance_keys(rtype, name, decl);
        let base = format!("{}{rtype}.{name}", self.prefix);
        let is_multi = instances.first().is_some_and(|k| k.key.is_some());
        let (instance, consumed) = match (is_multi, keys.first()) {
            (true, Some(Key::Index(index))) => match instances.iter().find(|k| k.key.as_ref().is_some_and(|key| loosely_equal(key, index))) {
                Some(instance) => (instance.clone(), 1),
                None => return (Node::new(Value::Unknown(format!("{base} has no instance {}", describe(&Node::new(index.clone(), None)))), None), keys.len()),
            },
            (true, _) => {
                // The whole collection of instances, for splats and `values(...)`.
                let refs = instances.iter().map(|k| (k, Node::new(Value::Ref { address: format!("{base}{}", k.suffix), attribute: String::new() }, None)));
                let node = match instances.first().and_then(|k| k.key.as_ref()) {
                    Some(Value::Int(_)) => Node::new(Value::List(refs.map(|(_, r)| r).collect()), None),
                    _ => Node::map(refs.map(|(k, r)| (key_text(k.key.as_ref()), r)).collect(), None),
                };
                return (node, 0);
            }
            (false, _) => (instances.first().cloned().unwrap_or(InstanceKey { suffix: String::new(), key: None, bindings: Bindings::default() }), 0),
        };
        let address = format!("{base}{}", instance.suffix);
        match keys.get(consumed) {
            Some(Key::Attr(attribute)) => match decl.block.body.get_attribute(attribute) {
                Some(attr) => (self.eval(decl.file, &instance.bindings, &attr.value), consumed + 1),
                None => (Node::new(Value::Ref { address, attribute: attribute.clone() }, None), consumed + 1),
            },
            _ => (Node::new(Value::Ref { address, attribute: String::new() }, None), consumed),
        }
    }

    fn data_attribute(&self, rtype: &str, name: &str, keys: &[Key]) -> (Node, usize) {
        let address = format!("{}data.{rtype}.{name}", self.prefix);
        let attribute = keys.iter().take_while(|k| matches!(k, Key::Attr(_))).map(|k| match k {
            Key::Attr(a) => a.as_str(),
            Key::Index(_) => "",
        });
        let attribute: Vec<&str> = attribute.collect();
        (Node::new(Value::Ref { address, attribute: attribute.join(".") }, None), attribute.len())
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
        let source = decl.block.body.get_attribute("source").map(|a| self.eval(decl.file, &Bindings::default(), &a.value));
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
                return Vec::new();
            }
        };
        let mut chain = self.call_chain.clone();
        chain.push(call_span);
        let address = format!("{}module.{name}", self.prefix);
        self.expand(decl, &address)
            .into_iter()
            .map(|key| {
                let inputs = decl
                    .block
                    .body
                    .attributes()
                    .filter(|a| !matches!(a.key.as_str(), "source" | "version" | "count" | "for_each" | "providers" | "depends_on"))
                    .map(|a| (a.key.as_str().to_string(), self.eval(decl.file, &key.bindings, &a.value)))
                    .collect();
                let prefix = format!("{address}{}.", key.suffix);
                let call = Call {
                    prefix,
                    key: call_key.clone(),
                    inputs,
                    depth: self.depth + 1,
                    call_chain: chain.clone(),
                    providers: self.providers_for_call(decl.block),
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
            return (Node::new(Value::Unknown(format!("module.{name} is not evaluated")), Some(span.clone())), keys.len());
        };
        match keys.get(consumed) {
            Some(Key::Attr(output)) => match child.index.outputs.get(output.as_str()).and_then(|d| d.block.body.get_attribute("value").map(|a| (d.file, a))) {
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
            ("var", Some(name)) => Some((instance.variable(name, span), 1)),
            ("local", Some(name)) => Some((instance.local(name, span), 1)),
            ("each" | "count", _) => unknown(format!("{root} is used outside a block with for_each/count")),
            ("path", Some("module")) => Some((Node::new(Value::Str(instance.loader.sandbox().module_path(&instance.decls.dir)), Some(span.clone())), 1)),
            ("path", Some("root")) => Some((Node::new(Value::Str(".".into()), Some(span.clone())), 1)),
            ("path", Some("cwd")) => {
                let cwd = std::fs::canonicalize(instance.loader.sandbox().cwd()).map_or_else(|_| ".".into(), |p| p.to_string_lossy().to_string());
                Some((Node::new(Value::Str(cwd), Some(span.clone())), 1))
            }
            ("terraform", Some("workspace")) => Some((Node::new(Value::Str(instance.loader.workspace().to_string()), Some(span.clone())), 1)),
            ("module", Some(name)) => {
                let (node, consumed) = instance.module_output(name, &keys[1..], span);
                Some((node, consumed + 1))
            }
            ("data", Some(rtype)) => match keys.get(1) {
                Some(Key::Attr(name)) => {
                    let (node, consumed) = instance.data_attribute(rtype, name, &keys[2..]);
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
        let paths = crate::input::discover(&[dir.path().to_path_buf()], dir.path(), crate::input::DEFAULT_MAX_FILE_SIZE).terraform;
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
}

//! Resources stored encoded until they are judged. A scan of a monorepo holds hundreds of
//! thousands of resources at once (joins may name any of them), and as trees of nodes, each
//! value with its own span, they took several times the memory of the text they came from.
//! A stored resource keeps what reports and indexes read as fields and its attributes as
//! bytes, decoded when a rule needs them; every value keeps its span.

use super::{LiveOrigin, Model, Node, Resource, SourceKind, Span, Unseen, Value};
use crate::model::Diagnostic;
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;

/// A [`Resource`] with its attributes encoded.
#[derive(Clone, Debug)]
pub struct Stored {
    pub source: SourceKind,
    pub span: Span,
    pub live: Option<Arc<LiveOrigin>>,
    part: Arc<Part>,
    at: Offsets,
}

/// Where a resource's own pieces are in its part.
#[derive(Clone, Copy, Debug)]
struct Offsets {
    /// The address, the type, the template, the render and the join scope (or [`NONE`]), as strings of
    /// the part.
    address: u32,
    rtype: u32,
    template: u32,
    render: u32,
    join_scope: u32,
    /// The module calls, as an index into the part's `chains`.
    call_chain: u32,
    /// Where the attributes start in the part's `attrs`, and their length.
    attrs: u32,
    attrs_len: u32,
}

/// No string: a resource without a template.
const NONE: u32 = u32::MAX;

/// The resources loaded together (a root module, a batch of files) in one allocation each for
/// their strings and attributes: what a scan keeps is then not scattered in small pieces
/// among the trees it freed, which kept most of those pages from being reused.
#[derive(Debug)]
struct Part {
    /// Every distinct string of the part (addresses, types, keys, values), written once:
    /// attribute names and many values repeat from resource to resource.
    strings: Box<str>,
    /// Where each string ends in `strings` (string `i` starts where `i - 1` ends).
    ends: Box<[u32]>,
    attrs: Box<[u8]>,
    /// Files that attribute spans name besides their resource's own (a value written in a
    /// tfvars file or passed down through a module call).
    files: Box<[Arc<str>]>,
    /// The distinct module call chains of the part's resources (the first one empty).
    chains: Box<[Box<[Span]>]>,
}

/// Everything a scan loaded, with its resources stored encoded; in the order the sources
/// gave them (the engine's indexes and reports depend on it).
#[derive(Default, Debug)]
pub struct Store {
    /// Shared with the rule helpers that join resources while the rules run.
    pub resources: Arc<Vec<Stored>>,
    pub diagnostics: Vec<Diagnostic>,
    /// Files read (for the summary line).
    pub files_scanned: usize,
    /// What live sources could not see.
    pub unseen: Vec<Unseen>,
}

impl Store {
    /// The parts one after the other, the resources moved once into a vector of the right size.
    pub fn concat(parts: Vec<Store>) -> Store {
        let count = parts.iter().map(|part| part.resources.len()).sum();
        let mut resources = Vec::with_capacity(count);
        let mut store = Store::default();
        for part in parts {
            resources.extend(Arc::try_unwrap(part.resources).unwrap_or_else(|shared| shared.as_ref().clone()));
            store.diagnostics.extend(part.diagnostics);
            store.files_scanned += part.files_scanned;
            store.unseen.extend(part.unseen);
        }
        store.resources = Arc::new(resources);
        store
    }
}

/// The most resources encoded into one part at a time: a larger model (one root module of
/// 100,000 resources) is encoded a slice at a time, in parallel.
const PART_RESOURCES: usize = 8192;

impl From<Model> for Store {
    fn from(mut model: Model) -> Self {
        let encode = |model: Model| {
            let mut builder = StoreBuilder::default();
            builder.push(model);
            builder.finish()
        };
        if model.resources.len() <= PART_RESOURCES {
            return encode(model);
        }
        let mut resources = std::mem::take(&mut model.resources).into_iter();
        let slices: Vec<Vec<Resource>> =
            std::iter::from_fn(|| Some(resources.by_ref().take(PART_RESOURCES).collect::<Vec<_>>()).filter(|s| !s.is_empty())).collect();
        let mut parts: Vec<Store> = slices.into_par_iter().map(|resources| encode(Model { resources, ..Model::default() })).collect();
        parts.push(encode(model));
        Store::concat(parts)
    }
}

/// Encodes the resources of several models into one [`Part`] as each model comes, so that
/// small sources (one manifest each) share a part and no model outlives its turn.
pub struct StoreBuilder {
    encoder: Encoder,
    resources: Vec<Pending>,
    chains: Vec<Box<[Span]>>,
    diagnostics: Vec<Diagnostic>,
    files_scanned: usize,
    unseen: Vec<Unseen>,
}

impl Default for StoreBuilder {
    fn default() -> Self {
        StoreBuilder {
            encoder: Encoder::default(),
            resources: Vec::new(),
            chains: vec![Box::new([])],
            diagnostics: Vec::new(),
            files_scanned: 0,
            unseen: Vec::new(),
        }
    }
}

/// A resource encoded into the builder's part, waiting for the part to be finished.
struct Pending {
    source: SourceKind,
    span: Span,
    live: Option<Arc<LiveOrigin>>,
    at: Offsets,
}

impl StoreBuilder {
    pub fn push(&mut self, model: Model) {
        for resource in model.resources {
            let pending = self.encode(resource);
            self.resources.push(pending);
        }
        self.diagnostics.extend(model.diagnostics);
        self.files_scanned += model.files_scanned;
        self.unseen.extend(model.unseen);
    }

    fn encode(&mut self, resource: Resource) -> Pending {
        let encoder = &mut self.encoder;
        let (address, rtype) = (encoder.intern(&resource.address), encoder.intern(&resource.rtype));
        let template = resource.template.as_deref().map_or(NONE, |template| encoder.intern(template));
        let render = resource.render.as_deref().map_or(NONE, |render| encoder.intern(render));
        let join_scope = resource.join_scope.as_deref().map_or(NONE, |scope| encoder.intern(scope));
        let attrs = encoder.out.len();
        encoder.file = Some(resource.span.file.clone());
        encoder.line = resource.span.start_line;
        encoder.node(&resource.attrs);
        let attrs_len = encoder.out.len() - attrs;
        let at = Offsets {
            address,
            rtype,
            template,
            render,
            join_scope,
            call_chain: self.chain_index(resource.call_chain),
            attrs: offset(attrs),
            attrs_len: offset(attrs_len),
        };
        Pending { source: resource.source, span: resource.span, live: resource.live, at }
    }

    /// The chain's index in the part; resources of one module instance come together, so only
    /// the last chain is compared.
    fn chain_index(&mut self, chain: Vec<Span>) -> u32 {
        if chain.is_empty() {
            return 0;
        }
        if self.chains.last().is_none_or(|last| **last != *chain) {
            self.chains.push(chain.into_boxed_slice());
        }
        offset(self.chains.len() - 1)
    }

    pub fn finish(self) -> Store {
        let part = Arc::new(self.encoder.part(self.chains.into_boxed_slice()));
        let resources = self.resources.into_iter().map(|p| Stored { source: p.source, span: p.span, live: p.live, part: part.clone(), at: p.at }).collect();
        Store { resources: Arc::new(resources), diagnostics: self.diagnostics, files_scanned: self.files_scanned, unseen: self.unseen }
    }
}

fn offset(n: usize) -> u32 {
    u32::try_from(n).expect("a part is under 4 GiB")
}

impl Part {
    fn string(&self, id: u32) -> &str {
        let id = id as usize;
        let start = if id == 0 { 0 } else { self.ends[id - 1] as usize };
        &self.strings[start..self.ends[id] as usize]
    }
}

impl Stored {
    /// Terraform address or `Kind namespace/name` (see [`Resource::address`]).
    pub fn address(&self) -> &str {
        self.part.string(self.at.address)
    }

    /// Terraform resource type or Kubernetes kind.
    pub fn rtype(&self) -> &str {
        self.part.string(self.at.rtype)
    }

    /// The chart template a report should name, when it differs from `span` (see
    /// [`Resource::template`]).
    pub fn template(&self) -> Option<&str> {
        (self.at.template != NONE).then(|| self.part.string(self.at.template))
    }

    /// The render that made the object (see [`Resource::render`]).
    pub fn render(&self) -> Option<&str> {
        (self.at.render != NONE).then(|| self.part.string(self.at.render))
    }

    /// Where the resource's references resolve (see [`Resource::join_scope`]).
    pub fn join_scope(&self) -> Option<&str> {
        (self.at.join_scope != NONE).then(|| self.part.string(self.at.join_scope))
    }

    /// The module call blocks, outermost first (see [`Resource::call_chain`]).
    pub fn call_chain(&self) -> &[Span] {
        &self.part.chains[self.at.call_chain as usize]
    }

    /// The attributes, decoded.
    pub fn attrs(&self) -> Node {
        self.decoder().node()
    }

    /// The attribute at `path` (a key per level of maps), decoded; what comes before it is
    /// stepped over without being built. `None` where a level is not a map or lacks the key.
    pub fn attr(&self, path: &[&str]) -> Option<Node> {
        let mut decoder = self.decoder();
        for key in path {
            if decoder.tag() != MAP {
                return None;
            }
            let entries = decoder.unsigned();
            let mut found = false;
            for _ in 0..entries {
                if decoder.str() == *key {
                    found = true;
                    break;
                }
                decoder.skip();
            }
            if !found {
                return None;
            }
        }
        Some(decoder.node())
    }

    /// Each reference in the attributes, with the keys leading to it joined by dots (list
    /// items add none), found without building the values around them.
    pub fn references(&self, found: &mut impl FnMut(&str, String)) {
        self.decoder().references(&mut Vec::new(), found);
    }

    fn decoder(&self) -> Decoder<'_> {
        let start = self.at.attrs as usize;
        Decoder { stored: self, bytes: &self.part.attrs[start..start + self.at.attrs_len as usize], at: 0 }
    }
}

// Node tags; `SPANNED` is added when a span follows the tag.
const NULL: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const INT: u8 = 3;
const FLOAT: u8 = 4;
const STR: u8 = 5;
const LIST: u8 = 6;
const MAP: u8 = 7;
const UNKNOWN: u8 = 8;
const REF: u8 = 9;
const PARTIAL_JSON: u8 = 10;
const PARTIAL_STR: u8 = 11;
const SPANNED: u8 = 0x10;

#[derive(Default)]
struct Encoder {
    /// The resource's own file and first line: most spans are there and near it, so they
    /// are written as "same file" and a line difference.
    file: Option<Arc<str>>,
    line: u32,
    files: Vec<Arc<str>>,
    ids: HashMap<String, u32>,
    strings: String,
    ends: Vec<u32>,
    out: Vec<u8>,
}

impl Encoder {
    fn intern(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.ids.get(text) {
            return id;
        }
        let id = offset(self.ends.len());
        self.strings.push_str(text);
        self.ends.push(offset(self.strings.len()));
        self.ids.insert(text.to_string(), id);
        id
    }

    fn part(self, chains: Box<[Box<[Span]>]>) -> Part {
        Part {
            strings: self.strings.into_boxed_str(),
            ends: self.ends.into_boxed_slice(),
            attrs: self.out.into_boxed_slice(),
            files: self.files.into_boxed_slice(),
            chains,
        }
    }

    fn node(&mut self, node: &Node) {
        let tag = match &node.value {
            Value::Null => NULL,
            Value::Bool(false) => FALSE,
            Value::Bool(true) => TRUE,
            Value::Int(_) => INT,
            Value::Float(_) => FLOAT,
            Value::Str(_) => STR,
            Value::List(_) => LIST,
            Value::Map(_) => MAP,
            Value::Unknown(_) => UNKNOWN,
            Value::Ref { .. } => REF,
            Value::PartialJson(_) => PARTIAL_JSON,
            Value::PartialStr(_) => PARTIAL_STR,
        };
        match &node.span {
            Some(span) => {
                self.out.push(tag | SPANNED);
                self.span(span);
            }
            None => self.out.push(tag),
        }
        match &node.value {
            Value::Null | Value::Bool(_) => {}
            Value::Int(i) => self.signed(*i),
            Value::Float(f) => self.out.extend_from_slice(&f.to_le_bytes()),
            Value::Str(s) | Value::Unknown(s) => self.text(s),
            Value::List(items) | Value::PartialStr(items) => {
                self.unsigned(items.len() as u64);
                items.iter().for_each(|item| self.node(item));
            }
            Value::Map(entries) => {
                self.unsigned(entries.len() as u64);
                for (key, child) in entries {
                    self.text(key);
                    self.node(child);
                }
            }
            Value::Ref { address, attribute } => {
                self.text(address);
                self.text(attribute);
            }
            Value::PartialJson(document) => self.node(document),
        }
    }

    fn span(&mut self, span: &Span) {
        let file = if self.file.as_ref().is_some_and(|own| Arc::ptr_eq(&span.file, own) || span.file == *own) {
            0
        } else {
            match self.files.iter().position(|f| *f == span.file) {
                Some(i) => i + 1,
                None => {
                    self.files.push(span.file.clone());
                    self.files.len()
                }
            }
        };
        self.unsigned(file as u64);
        self.signed(i64::from(span.start_line) - i64::from(self.line));
        self.unsigned(u64::from(span.start_col));
        self.signed(i64::from(span.end_line) - i64::from(span.start_line));
        self.unsigned(u64::from(span.end_col));
    }

    fn text(&mut self, text: &str) {
        let id = self.intern(text);
        self.unsigned(u64::from(id));
    }

    /// LEB128.
    fn unsigned(&mut self, mut n: u64) {
        while n >= 0x80 {
            self.out.push((n as u8) | 0x80);
            n >>= 7;
        }
        self.out.push(n as u8);
    }

    /// Zigzag, then LEB128: small negative numbers stay short.
    fn signed(&mut self, n: i64) {
        self.unsigned(((n << 1) ^ (n >> 63)) as u64);
    }
}

struct Decoder<'s> {
    stored: &'s Stored,
    bytes: &'s [u8],
    at: usize,
}

impl<'s> Decoder<'s> {
    fn node(&mut self) -> Node {
        let tag = self.byte();
        let span = (tag & SPANNED != 0).then(|| self.span());
        let value = match tag & !SPANNED {
            NULL => Value::Null,
            FALSE => Value::Bool(false),
            TRUE => Value::Bool(true),
            INT => Value::Int(self.signed()),
            FLOAT => {
                let bytes: [u8; 8] = self.bytes[self.at..self.at + 8].try_into().expect("eight bytes");
                self.at += 8;
                Value::Float(f64::from_le_bytes(bytes))
            }
            STR => Value::Str(self.text()),
            LIST => Value::List((0..self.unsigned()).map(|_| self.node()).collect()),
            MAP => Value::Map((0..self.unsigned()).map(|_| (self.text(), self.node())).collect()),
            UNKNOWN => Value::Unknown(self.text()),
            REF => Value::Ref { address: self.text(), attribute: self.text() },
            PARTIAL_JSON => Value::PartialJson(Box::new(self.node())),
            PARTIAL_STR => Value::PartialStr((0..self.unsigned()).map(|_| self.node()).collect()),
            other => unreachable!("tag {other} is never encoded"),
        };
        Node { value, span }
    }

    /// Reads a node's tag and steps over its span: the value comes next.
    fn tag(&mut self) -> u8 {
        let tag = self.byte();
        if tag & SPANNED != 0 {
            (0..5).for_each(|_| _ = self.unsigned());
        }
        tag & !SPANNED
    }

    /// Steps over a whole node.
    fn skip(&mut self) {
        match self.tag() {
            INT | STR | UNKNOWN => _ = self.unsigned(),
            FLOAT => self.at += 8,
            LIST | PARTIAL_STR => (0..self.unsigned()).for_each(|_| self.skip()),
            MAP => (0..self.unsigned()).for_each(|_| {
                self.unsigned();
                self.skip();
            }),
            REF => (0..2).for_each(|_| _ = self.unsigned()),
            PARTIAL_JSON => self.skip(),
            _ => {}
        }
    }

    fn references(&mut self, keys: &mut Vec<&'s str>, found: &mut impl FnMut(&str, String)) {
        match self.tag() {
            INT | STR | UNKNOWN => _ = self.unsigned(),
            FLOAT => self.at += 8,
            LIST | PARTIAL_STR => (0..self.unsigned()).for_each(|_| self.references(keys, found)),
            MAP => {
                for _ in 0..self.unsigned() {
                    keys.push(self.str());
                    self.references(keys, found);
                    keys.pop();
                }
            }
            REF => {
                found(self.str(), keys.join("."));
                self.unsigned();
            }
            PARTIAL_JSON => self.references(keys, found),
            _ => {}
        }
    }

    fn span(&mut self) -> Span {
        let file = match self.unsigned() as usize {
            0 => self.stored.span.file.clone(),
            i => self.stored.part.files[i - 1].clone(),
        };
        let start_line = (i64::from(self.stored.span.start_line) + self.signed()) as u32;
        let start_col = self.unsigned() as u32;
        let end_line = (i64::from(start_line) + self.signed()) as u32;
        let end_col = self.unsigned() as u32;
        Span { file, start_line, start_col, end_line, end_col }
    }

    fn text(&mut self) -> String {
        self.str().to_string()
    }

    fn str(&mut self) -> &'s str {
        let id = self.unsigned() as u32;
        self.stored.part.string(id)
    }

    fn byte(&mut self) -> u8 {
        self.at += 1;
        self.bytes[self.at - 1]
    }

    fn unsigned(&mut self) -> u64 {
        let mut n = 0u64;
        let mut shift = 0;
        loop {
            let byte = self.byte();
            n |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return n;
            }
            shift += 7;
        }
    }

    fn signed(&mut self) -> i64 {
        let n = self.unsigned();
        ((n >> 1) as i64) ^ -((n & 1) as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_decode_to_what_was_stored() {
        let main: Arc<str> = "main.tf".into();
        let vars: Arc<str> = "terraform.tfvars".into();
        let at = |file: &Arc<str>, line: u32| Some(Span::new(file.clone(), line, 3, line + 1, 9));
        let leaf = |value: Value, span: Option<Span>| Node::new(value, span);
        let attrs = Node::map(
            vec![
                ("acl".into(), leaf(Value::Str("private".into()), at(&main, 12))),
                ("count".into(), leaf(Value::Int(-70_000), at(&vars, 2))),
                ("ratio".into(), leaf(Value::Float(0.25), None)),
                ("flags".into(), leaf(Value::List(vec![leaf(Value::Bool(true), at(&main, 3)), leaf(Value::Null, None)]), at(&main, 3))),
                ("kms".into(), leaf(Value::Ref { address: "aws_kms_key.k".into(), attribute: "arn".into() }, at(&main, 14))),
                ("later".into(), leaf(Value::Unknown("known after apply".into()), at(&vars, 1))),
            ],
            at(&main, 10),
        );
        let resource = Resource {
            source: SourceKind::Tf,
            rtype: "aws_s3_bucket".into(),
            address: "aws_s3_bucket.b".into(),
            span: Span::new(main.clone(), 10, 1, 20, 2),
            attrs: attrs.clone(),
            template: None,
            render: None,
            call_chain: Vec::new(),
            live: None,
            join_scope: None,
        };
        let store = Store::from(Model { resources: vec![resource.clone(), resource], ..Model::default() });
        let stored = &store.resources;
        assert_eq!(stored[1].attrs(), attrs);
        assert_eq!((stored[1].address(), stored[1].rtype()), ("aws_s3_bucket.b", "aws_s3_bucket"));
        assert_eq!(stored[1].part.files.len(), 1, "the resources' own file is not repeated");
    }

    #[test]
    fn a_batch_keeps_each_resources_order_template_and_call_chain_in_one_part() {
        let file: Arc<str> = "chart.yaml".into();
        let call = Span::new("envs/prod/main.tf".into(), 3, 1, 6, 2);
        let resource = |address: &str, template: Option<&str>, call_chain: Vec<Span>| Resource {
            source: SourceKind::K8s,
            rtype: "Deployment".into(),
            address: address.into(),
            span: Span::new(file.clone(), 1, 1, 9, 1),
            attrs: Node::map(vec![("replicas".into(), Node::new(Value::Int(2), None))], None),
            template: template.map(str::to_string),
            render: None,
            call_chain,
            live: None,
            join_scope: None,
        };
        let first = Model { resources: vec![resource("a", Some("chart/templates/a.yaml"), vec![call.clone()])], files_scanned: 1, ..Model::default() };
        let second = Model { resources: vec![resource("b", None, vec![]), resource("c", None, vec![call.clone()])], files_scanned: 1, ..Model::default() };
        let mut builder = StoreBuilder::default();
        builder.push(first);
        builder.push(second);
        let store = builder.finish();
        let stored = &store.resources;
        assert_eq!(stored.iter().map(Stored::address).collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(stored.iter().map(Stored::template).collect::<Vec<_>>(), [Some("chart/templates/a.yaml"), None, None]);
        assert_eq!(stored.iter().map(|s| s.call_chain().len()).collect::<Vec<_>>(), [1, 0, 1]);
        assert_eq!(stored[2].call_chain()[0], call);
        assert!(Arc::ptr_eq(&stored[0].part, &stored[2].part), "one part for the batch");
        assert_eq!(store.files_scanned, 2);
    }

    #[test]
    fn attributes_and_references_are_found_without_decoding_the_rest() {
        let leaf = |value: Value| Node::new(value, Some(Span::new("main.tf".into(), 4, 3, 4, 20)));
        let reference = |address: &str| leaf(Value::Ref { address: address.into(), attribute: "arn".into() });
        let attrs = Node::map(
            vec![
                ("ratio".into(), leaf(Value::Float(0.5))),
                ("tags".into(), Node::map(vec![("team".into(), leaf(Value::Str("data".into())))], None)),
                ("rules".into(), leaf(Value::List(vec![Node::map(vec![("key".into(), reference("aws_kms_key.a"))], None), leaf(Value::Int(-3))]))),
                ("bucket".into(), reference("aws_s3_bucket.b")),
                ("later".into(), leaf(Value::Unknown("known after apply".into()))),
            ],
            None,
        );
        let resource = Resource {
            source: SourceKind::Tf,
            rtype: "aws_thing".into(),
            address: "aws_thing.t".into(),
            span: Span::new("main.tf".into(), 1, 1, 9, 2),
            attrs: attrs.clone(),
            template: None,
            render: None,
            call_chain: Vec::new(),
            live: None,
            join_scope: None,
        };
        let store = Store::from(Model { resources: vec![resource], ..Model::default() });
        let stored = &store.resources[0];
        assert_eq!(stored.attr(&["tags", "team"]).as_ref(), attrs.get("tags").and_then(|t| t.get("team")));
        assert_eq!(stored.attr(&["later"]).as_ref(), attrs.get("later"));
        assert_eq!(stored.attr(&["tags", "missing"]), None);
        assert_eq!(stored.attr(&["ratio", "deeper"]), None, "a number has no keys");
        let mut found = Vec::new();
        stored.references(&mut |address, path| found.push((address.to_string(), path)));
        assert_eq!(found, [("aws_kms_key.a".to_string(), "rules.key".to_string()), ("aws_s3_bucket.b".to_string(), "bucket".to_string())]);
    }
}

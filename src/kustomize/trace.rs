//! Where each attribute of a rendered object was written.
//!
//! Kustomize strips comments and reorders keys, so rendered line numbers say nothing about the
//! repository. Instead every rendered object is traced to the document it comes from (by kind,
//! namespace and name through the chain of kustomizations that prefixed, suffixed and
//! re-namespaced it, or by kustomize's `config.kubernetes.io/origin` annotation), and every
//! attribute is pointed at what set its value: a patch that writes that value there, else the
//! base document when it holds the same value, else the `images:` or `namespace:` entry that
//! changed it, else the closest enclosing node of the base document.

use super::survey::{Kustomization, Survey, Target};
use super::Edits;
use crate::model::{Node, Span, Value};
use crate::yaml::{self, Limits};
use regex::Regex;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The annotation kustomize writes with `buildMetadata: [originAnnotations]`.
const ORIGIN_ANNOTATION: &str = "config.kubernetes.io/origin";

/// Kustomize's merge keys for the lists objects usually patch (containers, env, volumes,
/// volume mounts, ports): items are matched by these, other lists by position.
const MERGE_KEYS: &[&str] = &["name", "mountPath", "containerPort"];

/// What one kustomization does to the objects that pass through it.
struct Layer {
    prefix: String,
    suffix: String,
    namespace: Option<(String, Option<Span>)>,
    /// Entries of `images:`, in the order written.
    images: Vec<ImageEntry>,
    patches: Vec<Patch>,
}

struct ImageEntry {
    name: String,
    new_name: Option<String>,
    /// The line that set the value: `digest`, else `newTag`, else `newName`, else the entry.
    span: Option<Span>,
}

struct Patch {
    kind: Option<String>,
    /// Anchored, as kustomize reads a target's name.
    name: Option<Regex>,
    body: Body,
}

enum Body {
    /// A strategic-merge patch document.
    Merge(Node),
    /// JSON 6902 `add` / `replace` operations: the pointer's segments and the value.
    Json(Vec<(Vec<String>, Node)>),
}

/// A document of a file some kustomization lists under `resources`, with the kustomizations
/// it passes through (the rendered root first).
#[derive(Clone)]
struct SourceDoc {
    file: PathBuf,
    chain: Vec<PathBuf>,
    kind: String,
    names: Vec<String>,
    namespace: Option<String>,
    root: Node,
}

/// A `configMapGenerator` / `secretGenerator` entry.
struct Generated {
    kustomization: PathBuf,
    chain: Vec<PathBuf>,
    kind: &'static str,
    /// The name before the content hash kustomize appends.
    name: String,
    entry: Node,
}

/// Everything the objects rendered from one kustomization can come from.
pub(super) struct Sources {
    layers: HashMap<PathBuf, Layer>,
    docs: Vec<SourceDoc>,
    generated: Vec<Generated>,
    /// Where objects nothing explains point (the root kustomization file, line 1).
    fallback: Span,
    /// Where kustomize ran, and the directory it stands for (they differ when edits are
    /// rendered from a temporary copy): origin annotations are relative to the first.
    rendered_in: PathBuf,
    dir: PathBuf,
}

impl Sources {
    pub fn new(survey: &Survey, root: &Kustomization, edits: &Edits, rendered_in: &Path, base: &Path) -> Sources {
        let mut sources = Sources {
            layers: HashMap::new(),
            docs: Vec::new(),
            generated: Vec::new(),
            fallback: root.start(),
            rendered_in: rendered_in.to_path_buf(),
            dir: root.dir.clone(),
        };
        let mut files: HashMap<PathBuf, Vec<SourceDoc>> = HashMap::new();
        sources.walk(survey, &mut vec![root.dir.clone()], &mut files, base);
        if let Some(layer) = sources.layers.get_mut(&root.dir) {
            layer.edit(edits);
        }
        for doc in &mut sources.docs {
            doc.names = chain_names(&doc.names[0], &doc.chain, &sources.layers);
            doc.namespace = outermost_namespace(&doc.chain, &sources.layers).or(doc.namespace.take());
        }
        for generated in &mut sources.generated {
            generated.name = chain_names(&generated.name, &generated.chain, &sources.layers).pop().unwrap_or_default();
        }
        sources
    }

    /// Visits the kustomization at the end of `chain` and everything it builds on.
    fn walk(&mut self, survey: &Survey, chain: &mut Vec<PathBuf>, files: &mut HashMap<PathBuf, Vec<SourceDoc>>, base: &Path) {
        let Some(k) = chain.last().and_then(|dir| survey.kustomizations.get(dir)).cloned() else { return };
        if !self.layers.contains_key(&k.dir) {
            let layer = Layer::of(&k, survey, base);
            self.layers.insert(k.dir.clone(), layer);
        }
        for reference in k.references() {
            match reference.target {
                Target::File(file) if reference.field == "resources" => {
                    let objects = files.entry(file.clone()).or_insert_with(|| objects_of(&file, base));
                    self.docs.extend(objects.iter().map(|doc| SourceDoc { chain: chain.clone(), ..doc.clone() }));
                }
                Target::Dir(dir) if matches!(reference.field, "resources" | "bases" | "components") && !chain.contains(&dir) => {
                    chain.push(dir);
                    self.walk(survey, chain, files, base);
                    chain.pop();
                }
                _ => {}
            }
        }
        for (field, kind) in [("configMapGenerator", "ConfigMap"), ("secretGenerator", "Secret")] {
            for entry in k.list(field) {
                let Some(name) = entry.get("name").and_then(Node::as_str) else { continue };
                let (kustomization, chain, name, entry) = (k.dir.clone(), chain.clone(), name.to_string(), entry.clone());
                self.generated.push(Generated { kustomization, chain, kind, name, entry });
            }
        }
    }

    /// Points every attribute of `object` (a rendered document's root) at where its value was
    /// written, and drops the origin annotation. Secret values are never read into messages:
    /// only positions change.
    pub fn retarget(&self, object: &mut Node) {
        let origin = take_origin(object)
            .map(|(path, configured_in)| Origin { path: path.map(|p| self.origin_file(&p)), configured_in: configured_in.map(|p| self.origin_file(&p)) });
        let kind = object.get("kind").and_then(Node::as_str).unwrap_or_default().to_string();
        let name = object.path("metadata.name").and_then(Node::as_str).unwrap_or_default().to_string();
        let namespace = object.path("metadata.namespace").and_then(Node::as_str).map(str::to_string);
        if let Some(generated) = self.generated_match(&kind, &name, origin.as_ref()) {
            retarget_generated(object, &generated.entry, &self.fallback);
            return;
        }
        let Some(doc) = self.doc_match(&kind, &name, namespace.as_deref(), origin.as_ref()) else {
            set_all(object, &self.fallback);
            return;
        };
        let layers: Vec<&Layer> = doc.chain.iter().filter_map(|dir| self.layers.get(dir)).collect();
        let patches: Vec<&Patch> = layers.iter().flat_map(|l| &l.patches).filter(|p| p.selects(&kind, &doc.names)).collect();
        let images: Vec<&ImageEntry> = layers.iter().rev().flat_map(|l| &l.images).collect();
        let namespace = layers.iter().find_map(|l| l.namespace.as_ref()).and_then(|(_, span)| span.clone());
        let context = Context { base: &doc.root, patches, images, namespace };
        let start = doc.root.span.clone().unwrap_or_else(|| self.fallback.clone());
        context.retarget(object, &mut Vec::new(), &start);
    }

    fn generated_match(&self, kind: &str, name: &str, origin: Option<&Origin>) -> Option<&Generated> {
        self.generated.iter().find(|g| {
            let hashed = name.strip_prefix(&g.name).is_some_and(|rest| rest.is_empty() || (rest.len() == 11 && rest.starts_with('-')));
            let configured = origin.is_none_or(|o| o.configured_in.as_ref().is_none_or(|file| file.parent() == Some(g.kustomization.as_path())));
            g.kind == kind && hashed && configured
        })
    }

    fn doc_match(&self, kind: &str, name: &str, namespace: Option<&str>, origin: Option<&Origin>) -> Option<&SourceDoc> {
        let candidates: Vec<&SourceDoc> = self
            .docs
            .iter()
            .filter(|d| d.kind == kind && d.names.last().is_some_and(|n| n == name))
            .filter(|d| origin.and_then(|o| o.path.as_ref()).is_none_or(|file| &d.file == file))
            .collect();
        candidates.iter().find(|d| d.namespace.as_deref() == namespace).or(candidates.first()).copied()
    }

    /// An origin annotation's path, as a file of the repository.
    fn origin_file(&self, relative: &str) -> PathBuf {
        let path = super::survey::canonical(&self.rendered_in.join(relative));
        match path.strip_prefix(&self.rendered_in) {
            Ok(rest) if self.rendered_in != self.dir => super::survey::canonical(&self.dir.join(rest)),
            _ => path,
        }
    }
}

/// The objects of a resource file, on no chain yet, named as written.
fn objects_of(file: &Path, base: &Path) -> Vec<SourceDoc> {
    let display = crate::input::display_path(file, base);
    let Ok(text) = std::fs::read_to_string(file) else { return Vec::new() };
    let (resources, _) = crate::kubernetes::load_file(&display, &text);
    resources
        .into_iter()
        .map(|r| {
            let name = r.attrs.get("name").and_then(Node::as_str).unwrap_or_default().to_string();
            // A namespace the file does not write has no span (the loader's `default`).
            let namespace = r.attrs.get("namespace").filter(|n| n.span.is_some()).and_then(Node::as_str).map(str::to_string);
            let mut root = r.attrs;
            if let Value::Map(entries) = &mut root.value {
                entries.retain(|(key, _)| !matches!(key.as_str(), "pod_spec" | "containers" | "namespace" | "name"));
            }
            root.span = Some(r.span);
            SourceDoc { file: file.to_path_buf(), chain: Vec::new(), kind: r.rtype, names: vec![name], namespace, root }
        })
        .collect()
}

/// The object's name after each kustomization of `chain`, innermost first: prefixes and
/// suffixes of outer kustomizations wrap those of inner ones.
fn chain_names(original: &str, chain: &[PathBuf], layers: &HashMap<PathBuf, Layer>) -> Vec<String> {
    let mut names = vec![original.to_string()];
    for layer in chain.iter().rev().filter_map(|dir| layers.get(dir)) {
        let last = names.last().cloned().unwrap_or_default();
        names.push(format!("{}{last}{}", layer.prefix, layer.suffix));
    }
    names
}

/// The outermost kustomization's `namespace:` wins.
fn outermost_namespace(chain: &[PathBuf], layers: &HashMap<PathBuf, Layer>) -> Option<String> {
    chain.iter().filter_map(|dir| layers.get(dir)).find_map(|l| l.namespace.as_ref().map(|(ns, _)| ns.clone()))
}

impl Layer {
    fn of(k: &Kustomization, survey: &Survey, base: &Path) -> Layer {
        let text = |field: &str| k.string(field).and_then(Node::as_str).unwrap_or_default().to_string();
        let namespace = k.string("namespace").map(|n| (n.as_str().unwrap_or_default().to_string(), n.span.clone()));
        let images = k.list("images").into_iter().filter_map(ImageEntry::of).collect();
        let mut patches = patches_of(k, base);
        // A component's patches apply to everything of the kustomization that uses it.
        for (reference, dir) in k.dirs() {
            if let Some(component) = survey.kustomizations.get(&dir).filter(|_| reference.field == "components") {
                patches.extend(patches_of(component, base));
            }
        }
        Layer { prefix: text("namePrefix"), suffix: text("nameSuffix"), namespace, images, patches }
    }

    /// Argo CD's edits replace what the kustomization itself says (`kustomize edit set`).
    fn edit(&mut self, edits: &Edits) {
        let span = edits.span.clone();
        if let Some(prefix) = &edits.name_prefix {
            self.prefix = prefix.clone();
        }
        if let Some(suffix) = &edits.name_suffix {
            self.suffix = suffix.clone();
        }
        if let Some(namespace) = &edits.namespace {
            self.namespace = Some((namespace.clone(), span.clone()));
        }
        for image in edits.parsed_images() {
            self.images.push(ImageEntry { name: image.name, new_name: image.new_name, span: span.clone() });
        }
    }
}

impl ImageEntry {
    fn of(entry: &Node) -> Option<ImageEntry> {
        let name = entry.get("name").and_then(Node::as_str)?.to_string();
        let new_name = entry.get("newName").and_then(Node::as_str).map(str::to_string);
        let line = ["digest", "newTag", "newName"].iter().find_map(|key| entry.get(key)).or(Some(entry));
        Some(ImageEntry { name, new_name, span: line.and_then(|n| n.span.clone()) })
    }
}

/// The patches a kustomization writes, in files or inline.
fn patches_of(k: &Kustomization, base: &Path) -> Vec<Patch> {
    let mut out = Vec::new();
    for entry in k.list("patches").into_iter().chain(k.list("patchesJson6902")) {
        let target = entry.get("target");
        let docs = match (entry.get("path").and_then(Node::as_str), entry.get("patch")) {
            (Some(path), _) => patch_file(&k.dir.join(path), base),
            (None, Some(inline)) => inline_patch(k, inline),
            _ => Vec::new(),
        };
        out.extend(docs.into_iter().map(|doc| Patch::new(doc, target)));
    }
    for entry in k.list("patchesStrategicMerge") {
        let Some(text) = entry.as_str() else { continue };
        let docs = if text.contains('\n') { inline_patch(k, entry) } else { patch_file(&k.dir.join(text), base) };
        out.extend(docs.into_iter().map(|doc| Patch::new(doc, None)));
    }
    out
}

fn patch_file(path: &Path, base: &Path) -> Vec<Node> {
    let display = crate::input::display_path(path, base);
    let Ok(text) = std::fs::read_to_string(path) else { return Vec::new() };
    yaml::load(&display, &text, &Limits::default()).map(|docs| docs.into_iter().map(|d| d.root).collect()).unwrap_or_default()
}

/// A patch written as a block scalar inside the kustomization: parsed on its own, then moved
/// to where its lines are in the kustomization file. A quoted patch's lines cannot be told
/// apart: all of it points at the scalar.
fn inline_patch(k: &Kustomization, scalar: &Node) -> Vec<Node> {
    let (Some(text), Some(span)) = (scalar.as_str(), &scalar.span) else { return Vec::new() };
    let lines: Vec<&str> = k.text.lines().collect();
    let indicator = lines.get(span.start_line as usize - 1).and_then(|l| l.chars().nth(span.start_col as usize - 1));
    let Ok(docs) = yaml::load(&k.display, text, &Limits::default()) else { return Vec::new() };
    let mut roots: Vec<Node> = docs.into_iter().map(|d| d.root).collect();
    if matches!(indicator, Some('|' | '>')) {
        let first = lines.iter().skip(span.start_line as usize).find(|l| !l.trim().is_empty()).copied().unwrap_or_default();
        let indent = (first.len() - first.trim_start().len()) as u32;
        roots.iter_mut().for_each(|root| shift(root, span.start_line, indent));
    } else {
        roots.iter_mut().for_each(|root| set_all(root, span));
    }
    roots
}

fn shift(node: &mut Node, lines: u32, columns: u32) {
    if let Some(span) = &mut node.span {
        *span = Span::new(span.file.clone(), span.start_line + lines, span.start_col + columns, span.end_line + lines, span.end_col + columns);
    }
    children_mut(node).for_each(|child| shift(child, lines, columns));
}

fn children_mut(node: &mut Node) -> Box<dyn Iterator<Item = &mut Node> + '_> {
    match &mut node.value {
        Value::List(items) => Box::new(items.iter_mut()),
        Value::Map(entries) => Box::new(entries.iter_mut().map(|(_, v)| v)),
        _ => Box::new(std::iter::empty()),
    }
}

fn set_all(node: &mut Node, span: &Span) {
    node.span = Some(span.clone());
    children_mut(node).for_each(|child| set_all(child, span));
}

impl Patch {
    /// A patch document: a list of operations is JSON 6902, a mapping a strategic-merge
    /// patch, which names its object itself unless a `target` says otherwise.
    fn new(doc: Node, target: Option<&Node>) -> Patch {
        let field = |key: &str| target.and_then(|t| t.get(key)).and_then(Node::as_str);
        let mut kind = field("kind").map(str::to_string);
        let mut name = field("name").map(str::to_string);
        let body = match &doc.value {
            Value::List(ops) => Body::Json(ops.iter().filter_map(json_op).collect()),
            _ => {
                if target.is_none() {
                    kind = doc.get("kind").and_then(Node::as_str).map(str::to_string);
                    name = doc.path("metadata.name").and_then(Node::as_str).map(regex::escape);
                }
                Body::Merge(doc)
            }
        };
        let name = name.and_then(|n| Regex::new(&format!("^(?:{n})$")).ok());
        Patch { kind, name, body }
    }

    /// Whether the patch targets an object of `kind` known by any of `names` on its way.
    fn selects(&self, kind: &str, names: &[String]) -> bool {
        self.kind.as_ref().is_none_or(|k| k == kind) && self.name.as_ref().is_none_or(|re| names.iter().any(|n| re.is_match(n)))
    }

    /// The patch's node at `path` of the object, if the patch writes there.
    fn at(&self, path: &[Seg]) -> Option<&Node> {
        match &self.body {
            Body::Merge(_) if identifies(path) => None,
            Body::Merge(doc) => resolve(doc, path),
            Body::Json(ops) => ops.iter().rev().find_map(|(pointer, value)| {
                let inside = pointer.len() <= path.len() && pointer.iter().zip(path).all(|(p, seg)| seg.is(p));
                inside.then(|| resolve(value, &path[pointer.len()..])).flatten()
            }),
        }
    }
}

/// Whether a strategic-merge patch writes `path` only to say which object or list item it
/// patches (its kind and name, a container's `name`): that sets nothing.
fn identifies(path: &[Seg]) -> bool {
    let keys: Vec<Option<&str>> = path.iter().map(|s| if let Seg::Key(k) = s { Some(k.as_str()) } else { None }).collect();
    let merge_key = match path {
        [.., Seg::Item(_, Some((key, _))), Seg::Key(leaf)] => key == leaf,
        _ => false,
    };
    merge_key || matches!(keys.as_slice(), [Some("apiVersion" | "kind")] | [Some("metadata"), Some("name" | "namespace")])
}

fn json_op(op: &Node) -> Option<(Vec<String>, Node)> {
    let kind = op.get("op").and_then(Node::as_str)?;
    let path = op.get("path").and_then(Node::as_str)?;
    let value = op.get("value")?;
    let pointer = path.split('/').skip(1).map(|s| s.replace("~1", "/").replace("~0", "~")).collect();
    matches!(kind, "add" | "replace").then(|| (pointer, value.clone()))
}

/// One step into an object: a mapping key, or a list item by position and merge key.
#[derive(Clone, Debug)]
enum Seg {
    Key(String),
    Item(usize, Option<(&'static str, String)>),
}

impl Seg {
    /// Whether a JSON pointer segment names this step.
    fn is(&self, pointer: &str) -> bool {
        match self {
            Seg::Key(key) => key == pointer,
            Seg::Item(index, _) => index.to_string() == pointer,
        }
    }
}

fn resolve<'n>(node: &'n Node, path: &[Seg]) -> Option<&'n Node> {
    let Some((first, rest)) = path.split_first() else { return Some(node) };
    let child = match (first, &node.value) {
        (Seg::Key(key), Value::Map(_)) => node.get(key)?,
        (Seg::Item(_, Some((key, value))), Value::List(items)) => {
            items.iter().find(|item| item.get(key).and_then(Node::scalar_text).as_deref() == Some(value))?
        }
        (Seg::Item(index, None), Value::List(items)) => items.get(*index)?,
        _ => return None,
    };
    resolve(child, rest)
}

fn is_scalar(node: &Node) -> bool {
    !matches!(node.value, Value::Map(_) | Value::List(_))
}

fn same_shape(a: &Node, b: &Node) -> bool {
    std::mem::discriminant(&a.value) == std::mem::discriminant(&b.value)
}

/// What the attributes of one rendered object can point at.
struct Context<'a> {
    base: &'a Node,
    /// The outermost kustomization's patches first: the last applied wins.
    patches: Vec<&'a Patch>,
    /// The outermost kustomization's entries last.
    images: Vec<&'a ImageEntry>,
    namespace: Option<Span>,
}

impl Context<'_> {
    fn retarget(&self, node: &mut Node, path: &mut Vec<Seg>, enclosing: &Span) {
        let base = resolve(self.base, path).filter(|b| same_shape(b, node));
        let span = self.locate(node, path, base).unwrap_or_else(|| enclosing.clone());
        let inner = base.and_then(|b| b.span.clone()).unwrap_or_else(|| enclosing.clone());
        node.span = Some(span);
        match &mut node.value {
            Value::Map(entries) => {
                for (key, child) in entries.iter_mut() {
                    path.push(Seg::Key(key.clone()));
                    self.retarget(child, path, &inner);
                    path.pop();
                }
            }
            Value::List(items) => {
                for (index, item) in items.iter_mut().enumerate() {
                    let merge_key = MERGE_KEYS.iter().find_map(|key| item.get(key).and_then(Node::scalar_text).map(|v| (*key, v)));
                    path.push(Seg::Item(index, merge_key));
                    self.retarget(item, path, &inner);
                    path.pop();
                }
            }
            _ => {}
        }
    }

    /// The span of what set `node`'s value, if anything did.
    fn locate(&self, node: &Node, path: &[Seg], base: Option<&Node>) -> Option<Span> {
        let patched = self.patches.iter().rev().filter_map(|p| p.at(path));
        if !is_scalar(node) {
            return base.or(patched.into_iter().find(|p| same_shape(p, node))).and_then(|n| n.span.clone());
        }
        if let Some(patch) = patched.into_iter().find(|p| p.value == node.value) {
            return patch.span.clone();
        }
        let keys: Vec<&str> = path.iter().map(|s| if let Seg::Key(k) = s { k.as_str() } else { "*" }).collect();
        match (base, keys.as_slice()) {
            (Some(base), ["metadata", "name"]) => base.span.clone(),
            (Some(base), _) if base.value == node.value => base.span.clone(),
            (Some(base), [.., "image"]) => self.image_entry(base.as_str()?).and_then(|e| e.span.clone()),
            (_, ["metadata", "namespace"]) => self.namespace.clone(),
            _ => None,
        }
    }

    /// The outermost `images:` entry that applies to the base's image, following renames.
    fn image_entry(&self, image: &str) -> Option<&ImageEntry> {
        let mut names = vec![image_name(image).to_string()];
        let mut found = None;
        for entry in self.images.iter().rev() {
            if names.contains(&entry.name) {
                found = Some(*entry);
                names.extend(entry.new_name.clone());
            }
        }
        found
    }
}

/// An image reference without its tag or digest.
fn image_name(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    match image.rfind(':') {
        Some(colon) if !image[colon..].contains('/') => &image[..colon],
        _ => image,
    }
}

/// A generated ConfigMap or Secret points at its generator entry; a key of `data` at the
/// literal that set it when there is one.
fn retarget_generated(object: &mut Node, entry: &Node, fallback: &Span) {
    set_all(object, entry.span.as_ref().unwrap_or(fallback));
    let literals: Vec<&Node> = match entry.get("literals").map(|l| &l.value) {
        Some(Value::List(items)) => items.iter().collect(),
        _ => Vec::new(),
    };
    for data in ["data", "stringData"] {
        let Some(Value::Map(entries)) = object.get_mut(data).map(|d| &mut d.value) else { continue };
        for (key, value) in entries.iter_mut() {
            let literal = literals.iter().find(|l| l.as_str().is_some_and(|t| t.split_once('=').is_some_and(|(k, _)| k == key)));
            if let Some(span) = literal.and_then(|l| l.span.clone()) {
                value.span = Some(span);
            }
        }
    }
}

/// What an origin annotation says, as repository files.
struct Origin {
    path: Option<PathBuf>,
    configured_in: Option<PathBuf>,
}

/// Removes the origin annotation (and the `annotations` it leaves empty) from a rendered
/// object, returning its `path` and `configuredIn`.
fn take_origin(object: &mut Node) -> Option<(Option<String>, Option<String>)> {
    let metadata = object.get_mut("metadata")?;
    let annotations = metadata.get_mut("annotations")?;
    let Value::Map(entries) = &mut annotations.value else { return None };
    let index = entries.iter().position(|(key, _)| key == ORIGIN_ANNOTATION)?;
    let (_, text) = entries.remove(index);
    if entries.is_empty() {
        if let Value::Map(fields) = &mut metadata.value {
            fields.retain(|(key, _)| key != "annotations");
        }
    }
    let docs = yaml::load(&Arc::from(""), text.as_str()?, &Limits::default()).ok()?;
    let root = &docs.first()?.root;
    let field = |key: &str| root.get(key).and_then(Node::as_str).map(str::to_string);
    Some((field("path"), field("configuredIn")))
}

//! A YAML 1.2 loader that keeps source positions.
//!
//! Built on `saphyr_parser` events. Every mapping, sequence and scalar becomes a [`Node`] with
//! its [`Span`] (1-based lines, 1-based columns counting characters, end column exclusive as in
//! SARIF), so a finding can point at the line that set a value.
//!
//! Resolution follows the YAML 1.2 core schema: `yes`/`no`/`on`/`off` are strings, `0644` is the
//! decimal 644. Merge keys (`<<: *base`, YAML 1.1 but common in Kubernetes and Helm files) are
//! honoured. Aliases are expanded by copying the anchored node, bounded by [`Limits`] so an alias
//! bomb is refused instead of exhausting memory.

use std::collections::HashMap;
use std::sync::Arc;

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, ScanError, Tag};

use crate::model::{Diagnostic, Node, Span, Value};

mod cty;

/// How plain scalars, tags, keys and merge keys are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schema {
    /// YAML 1.2's core schema, with YAML 1.1's merge keys (Kubernetes, Helm).
    Core,
    /// go-cty-yaml's rules, Terraform's `yamldecode`: YAML 1.1 booleans (`yes`, `on`, `y`),
    /// timestamps as RFC 3339 strings, quoted scalars always strings, unknown tags refused,
    /// keys converted to strings, and `<<` merging in order (a later key wins).
    GoCty,
}

/// One YAML document of a stream.
#[derive(Clone, Debug)]
pub struct Document {
    pub root: Node,
    /// The span of the root node.
    pub span: Span,
    /// Text after `# Source:` in the comment lines just before this document (`helm template`
    /// writes `# Source: chart/templates/x.yaml`); the last one when there are several.
    pub helm_source: Option<String>,
}

/// Bounds that keep hostile input from exhausting the stack or memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of mappings and sequences, aliases included.
    pub max_depth: usize,
    /// Total nodes produced for one file, alias expansions included.
    pub max_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_depth: 256, max_nodes: 1_000_000 }
    }
}

/// Parses every document of `text`. Documents that hold nothing (only comments, or `---` with
/// no content) are dropped. A syntax error, an alias expansion over `limits.max_nodes` or
/// nesting over `limits.max_depth` is a [`Diagnostic`] error with the position.
pub fn load(file: &Arc<str>, text: &str, limits: &Limits) -> Result<Vec<Document>, Diagnostic> {
    load_with(file, text, limits, Schema::Core)
}

/// [`load`] with the given [`Schema`].
pub fn load_with(file: &Arc<str>, text: &str, limits: &Limits, schema: Schema) -> Result<Vec<Document>, Diagnostic> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut text = std::borrow::Cow::Borrowed(text);
    // Spaces inserted at the start of lines (1-based line -> count), see `Failure::Reindent`.
    let mut shifts: HashMap<usize, u32> = HashMap::new();
    let mut attempts = 0;
    loop {
        attempts += 1;
        match Loader::new(file, &text, limits, schema).run() {
            Ok(mut docs) => {
                for doc in &mut docs {
                    unshift_node(&mut doc.root, &shifts);
                    unshift_span(&mut doc.span, &shifts);
                }
                return Ok(docs);
            }
            Err(Failure::Reindent { line, spaces }) if attempts <= MAX_REINDENTS && line_offset(&text, line).is_some() => {
                let offset = line_offset(&text, line).unwrap_or(0);
                text.to_mut().insert_str(offset, &" ".repeat(spaces as usize));
                *shifts.entry(line).or_insert(0) += spaces;
            }
            Err(Failure::Reindent { line, .. }) => {
                let span = Span::new(file.clone(), clamp_u32(line), 1, clamp_u32(line), 1);
                return Err(Diagnostic::error(file.to_string(), Some(span), "YAML syntax error: invalid indentation"));
            }
            Err(Failure::Diagnostic(mut diagnostic)) => {
                if let Some(span) = &mut diagnostic.span {
                    unshift_span(span, &shifts);
                }
                return Err(diagnostic);
            }
        }
    }
}

/// Lines of a flow collection indented less than the scanner wants that get re-indented
/// before giving up (each costs a re-parse).
const MAX_REINDENTS: usize = 64;

/// Byte offset where 1-based `line` starts.
fn line_offset(text: &str, line: usize) -> Option<usize> {
    if line <= 1 {
        return Some(0);
    }
    text.match_indices('\n').nth(line - 2).map(|(i, _)| i + 1)
}

fn unshift_span(span: &mut Span, shifts: &HashMap<usize, u32>) {
    if let Some(n) = shifts.get(&(span.start_line as usize)) {
        span.start_col = span.start_col.saturating_sub(*n).max(1);
    }
    if let Some(n) = shifts.get(&(span.end_line as usize)) {
        span.end_col = span.end_col.saturating_sub(*n).max(1);
    }
}

fn unshift_node(node: &mut Node, shifts: &HashMap<usize, u32>) {
    if shifts.is_empty() {
        return;
    }
    if let Some(span) = &mut node.span {
        unshift_span(span, shifts);
    }
    match &mut node.value {
        Value::List(items) => items.iter_mut().for_each(|item| unshift_node(item, shifts)),
        Value::Map(entries) => entries.iter_mut().for_each(|(_, value)| unshift_node(value, shifts)),
        _ => {}
    }
}

/// Why one parse attempt stopped.
enum Failure {
    Diagnostic(Diagnostic),
    /// A line inside a flow collection is indented less than its parent block (e.g. the
    /// closing `]` of `args: [` aligned with `args`). libyaml and go-yaml (hence kubectl)
    /// accept that and indentation carries no meaning inside flow collections, but the
    /// scanner refuses it: the loader re-indents the line and parses again, then moves the
    /// reported columns back.
    Reindent {
        line: usize,
        spaces: u32,
    },
}

impl From<Diagnostic> for Failure {
    fn from(diagnostic: Diagnostic) -> Self {
        Failure::Diagnostic(diagnostic)
    }
}

const CORE_HANDLE: &str = "tag:yaml.org,2002:";

/// Maps with more entries than this get a hash index for duplicate-key detection.
const INDEX_THRESHOLD: usize = 16;

struct Loader<'a> {
    file: &'a Arc<str>,
    schema: Schema,
    text: &'a str,
    /// Source lines (without `\n` and a trailing `\r`), built on first use.
    lines: Option<Vec<&'a str>>,
    limits: &'a Limits,
    nodes: usize,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Built>,
    docs: Vec<Document>,
    root: Option<Node>,
    /// Source comments of the current document may appear after this line (1-based; 0 = file start).
    boundary_line: usize,
    prev_end_line: usize,
    /// Whether the current document began with `---`.
    explicit_start: bool,
}

/// A finished node plus what its parent needs to know about it.
#[derive(Clone)]
struct Built {
    node: Node,
    /// The raw text of a scalar, used when the node is a mapping key, and whether it would be
    /// a `<<` merge key (plain and untagged in the core schema; untagged for go-cty-yaml).
    key: Option<(String, bool)>,
    /// Nodes in this subtree.
    count: usize,
    /// Nesting levels of collections in this subtree (0 for a scalar).
    height: usize,
}

struct Frame {
    kind: FrameKind,
    start: Marker,
    anchor: usize,
    count: usize,
    height: usize,
    last_end: Option<(u32, u32)>,
    flow: bool,
}

enum FrameKind {
    Seq(Vec<Node>),
    Map(MapBuilder),
}

enum Pending {
    /// A key waiting for its value, with where the key starts.
    Key(String, Option<(u32, u32)>),
    Merge,
}

#[derive(Default)]
struct MapBuilder {
    entries: Vec<(String, Node)>,
    index: Option<HashMap<String, usize>>,
    pending: Option<Pending>,
    merges: Vec<Node>,
}

impl MapBuilder {
    fn position(&self, key: &str) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(key).copied(),
            None => self.entries.iter().position(|(k, _)| k == key),
        }
    }

    /// Inserts or (duplicate key: last wins) replaces in place.
    fn insert(&mut self, key: String, node: Node) {
        if let Some(pos) = self.position(&key) {
            self.entries[pos].1 = node;
            return;
        }
        if let Some(index) = &mut self.index {
            index.insert(key.clone(), self.entries.len());
        }
        self.entries.push((key, node));
        if self.index.is_none() && self.entries.len() > INDEX_THRESHOLD {
            self.index = Some(self.entries.iter().enumerate().map(|(i, (k, _))| (k.clone(), i)).collect());
        }
    }

    /// Inserts only when the key is absent (merged keys never override).
    fn insert_absent(&mut self, key: String, node: Node) {
        if self.position(&key).is_none() {
            self.insert(key, node);
        }
    }

    /// Applies merge keys: explicit keys win, then earlier merged mappings win over later ones.
    /// Merged keys are appended after the explicit ones. A `<<` whose value is not a mapping
    /// or a list of mappings is kept as an ordinary key.
    fn finish(mut self) -> Vec<(String, Node)> {
        let merges = std::mem::take(&mut self.merges);
        for merge in merges {
            let all_maps = match &merge.value {
                Value::Map(_) => true,
                Value::List(items) => items.iter().all(|item| matches!(item.value, Value::Map(_))),
                _ => false,
            };
            if !all_maps {
                self.insert("<<".to_string(), merge);
                continue;
            }
            let maps = match merge.value {
                Value::List(items) => items,
                other => vec![Node::new(other, merge.span)],
            };
            for map in maps {
                if let Value::Map(entries) = map.value {
                    for (key, value) in entries {
                        self.insert_absent(key, value);
                    }
                }
            }
        }
        self.entries
    }
}

fn key_text(built: Built) -> (String, bool) {
    if let Some(key) = built.key {
        return key;
    }
    let text = match &built.node.value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Str(s) => s.clone(),
        _ => built.node.to_json().to_string(),
    };
    (text, false)
}

impl<'a> Loader<'a> {
    fn new(file: &'a Arc<str>, text: &'a str, limits: &'a Limits, schema: Schema) -> Self {
        Loader {
            file,
            schema,
            text,
            lines: None,
            limits,
            nodes: 0,
            stack: Vec::new(),
            anchors: HashMap::new(),
            docs: Vec::new(),
            root: None,
            boundary_line: 0,
            prev_end_line: 0,
            explicit_start: false,
        }
    }

    fn run(mut self) -> Result<Vec<Document>, Failure> {
        let mut parser = Parser::new_from_str(self.text);
        while let Some(event) = parser.next_event() {
            let (event, span) = event.map_err(|e| self.scan_error(&e))?;
            match event {
                Event::Nothing | Event::StreamStart => {}
                Event::StreamEnd => break,
                Event::DocumentStart(explicit) => {
                    self.anchors.clear();
                    self.root = None;
                    self.boundary_line = if explicit { span.start.line() } else { self.prev_end_line };
                    self.explicit_start = explicit;
                }
                Event::DocumentEnd => {
                    self.finish_document();
                    self.prev_end_line = span.start.line();
                }
                Event::Alias(id) => {
                    let Some(anchored) = self.anchors.get(&id) else {
                        return Err(Failure::Diagnostic(self.error(
                            span.start,
                            span.end,
                            "YAML alias refers to an anchor that is not defined yet (recursive alias?)".into(),
                        )));
                    };
                    if self.stack.len() + anchored.height > self.limits.max_depth {
                        let msg = format!("YAML nesting deeper than {} levels (through an alias)", self.limits.max_depth);
                        return Err(self.error(span.start, span.end, msg).into());
                    }
                    if self.nodes.saturating_add(anchored.count) > self.limits.max_nodes {
                        let msg = format!("YAML alias expansion exceeds {} nodes (billion laughs?)", self.limits.max_nodes);
                        return Err(self.error(span.start, span.end, msg).into());
                    }
                    self.nodes += anchored.count;
                    let mut built = anchored.clone();
                    // The copy is located where the alias is written; its children keep the
                    // anchor's positions.
                    built.node.span = Some(self.span(span.start, span.end));
                    built.key = None;
                    self.complete(built)?;
                }
                Event::Scalar(text, style, anchor, tag) => {
                    self.count_node(span.start, span.end)?;
                    let empty_document = self.stack.is_empty() && text.is_empty() && style == ScalarStyle::Plain && tag.is_none() && anchor == 0;
                    // An empty document (only comments, or `---` with nothing) is dropped; for
                    // go-cty-yaml, `---` with nothing is a document holding null.
                    if empty_document && !(self.schema == Schema::GoCty && self.explicit_start) {
                        continue;
                    }
                    // Fast path: an unanchored plain key needs no value resolution.
                    if anchor == 0 && self.expecting_key() && self.schema == Schema::Core {
                        let plain = style == ScalarStyle::Plain && tag.is_none();
                        let key_span = Span::new(self.file.clone(), pos(span.start).0, pos(span.start).1, pos(span.end).0, pos(span.end).1);
                        self.complete(Built { node: Node::new(Value::Null, Some(key_span)), key: Some((text.into_owned(), plain)), count: 1, height: 0 })?;
                        continue;
                    }
                    let resolved = match self.schema {
                        Schema::Core => resolve_scalar(&text, style, tag.as_deref()),
                        Schema::GoCty => cty::resolve(&text, style, tag.as_deref()),
                    };
                    let value = match resolved {
                        Ok(value) => value,
                        Err(msg) => return Err(self.error(span.start, span.end, msg).into()),
                    };
                    let (start, end) = match style {
                        ScalarStyle::Literal | ScalarStyle::Folded => self.block_scalar_bounds(span.start, span.end),
                        _ => (pos(span.start), pos(span.end)),
                    };
                    let node_span = Span::new(self.file.clone(), start.0, start.1, end.0, end.1);
                    let merge = match self.schema {
                        Schema::Core => style == ScalarStyle::Plain && tag.is_none(),
                        Schema::GoCty => tag.is_none(),
                    };
                    let built = Built { node: Node::new(value, Some(node_span)), key: Some((text.into_owned(), merge)), count: 1, height: 0 };
                    if anchor != 0 {
                        self.anchors.insert(anchor, built.clone());
                    }
                    self.complete(built)?;
                }
                Event::SequenceStart(anchor, tag) => {
                    self.check_collection(tag.as_deref(), "seq", span.start, span.end)?;
                    self.open(FrameKind::Seq(Vec::new()), anchor, span.start, span.end)?
                }
                Event::MappingStart(anchor, tag) => {
                    self.check_collection(tag.as_deref(), "map", span.start, span.end)?;
                    self.open(FrameKind::Map(MapBuilder::default()), anchor, span.start, span.end)?
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let Some(frame) = self.stack.pop() else { continue };
                    let start = pos(frame.start);
                    // Flow collections end at their closing bracket; block collections at the
                    // end of their last entry (the parser reports the next token instead).
                    let end = if span.end.index() > span.start.index() { pos(span.end) } else { frame.last_end.unwrap_or(start) };
                    let node_span = Some(Span::new(self.file.clone(), start.0, start.1, end.0, end.1));
                    let value = match frame.kind {
                        FrameKind::Seq(items) => Value::List(items),
                        FrameKind::Map(builder) => Value::Map(builder.finish()),
                    };
                    let built = Built { node: Node::new(value, node_span), key: None, count: frame.count, height: frame.height + 1 };
                    if frame.anchor != 0 {
                        self.anchors.insert(frame.anchor, built.clone());
                    }
                    self.complete(built)?;
                }
            }
        }
        self.finish_document();
        Ok(self.docs)
    }

    /// go-cty-yaml reads a tagged collection only when the tag is `!!map` or `!!seq`, and no
    /// collection as a key.
    fn check_collection(&self, tag: Option<&Tag>, kind: &str, start: Marker, end: Marker) -> Result<(), Diagnostic> {
        if self.schema == Schema::Core {
            return Ok(());
        }
        if self.expecting_key() {
            return Err(self.error(start, end, "only strings are allowed as mapping keys".into()));
        }
        match tag {
            Some(tag) if !(tag.handle == CORE_HANDLE && tag.suffix == kind) => {
                Err(self.error(start, end, format!("can't interpret a collection as {}{}", tag.handle, tag.suffix)))
            }
            _ => Ok(()),
        }
    }

    fn expecting_key(&self) -> bool {
        matches!(self.stack.last(), Some(Frame { kind: FrameKind::Map(MapBuilder { pending: None, .. }), .. }))
    }

    fn count_node(&mut self, start: Marker, end: Marker) -> Result<(), Diagnostic> {
        self.nodes += 1;
        if self.nodes > self.limits.max_nodes {
            let msg = format!("YAML file has more than {} nodes", self.limits.max_nodes);
            return Err(self.error(start, end, msg));
        }
        Ok(())
    }

    fn open(&mut self, kind: FrameKind, anchor: usize, start: Marker, end: Marker) -> Result<(), Failure> {
        if self.stack.len() >= self.limits.max_depth {
            let msg = format!("YAML nesting deeper than {} levels", self.limits.max_depth);
            return Err(self.error(start, end, msg).into());
        }
        self.count_node(start, end)?;
        // A flow collection's start event covers its opening bracket; a block collection's is
        // empty, unless it has an anchor or a tag (then it ends at the next token).
        let flow = match end.index().saturating_sub(start.index()) {
            0 => false,
            1 => true,
            _ => {
                end.col() >= 1 && self.lines().get(end.line().wrapping_sub(1)).and_then(|l| l.chars().nth(end.col() - 1)).is_some_and(|c| c == '[' || c == '{')
            }
        };
        self.stack.push(Frame { kind, start, anchor, count: 1, height: 0, last_end: None, flow });
        Ok(())
    }

    /// Hands a finished node to its parent (or makes it the document root).
    fn complete(&mut self, built: Built) -> Result<(), Diagnostic> {
        let schema = self.schema;
        let file = self.file;
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some(built.node);
            return Ok(());
        };
        frame.count += built.count;
        frame.height = frame.height.max(built.height);
        match &mut frame.kind {
            FrameKind::Seq(items) => {
                if let Some(span) = &built.node.span {
                    frame.last_end = Some((span.end_line, span.end_col));
                }
                items.push(built.node);
            }
            FrameKind::Map(builder) => match builder.pending.take() {
                None => {
                    let key_start = built.node.span.as_ref().map(|s| (s.start_line, s.start_col));
                    let span = built.node.span.clone();
                    let (key, merge) = match schema {
                        Schema::Core => key_text(built),
                        Schema::GoCty => cty::key(built.key, &built.node.value).map_err(|msg| Diagnostic::error(file.to_string(), span, msg))?,
                    };
                    builder.pending = Some(if merge && key == "<<" { Pending::Merge } else { Pending::Key(key, key_start) });
                }
                Some(pending) => {
                    if let Some(span) = &built.node.span {
                        frame.last_end = Some((span.end_line, span.end_col));
                    }
                    match pending {
                        Pending::Key(key, key_start) => builder.insert(key, starting_at_key(built.node, key_start)),
                        Pending::Merge if schema == Schema::GoCty => {
                            let span = built.node.span.clone();
                            for (key, value) in cty::merged(built.node).map_err(|msg| Diagnostic::error(file.to_string(), span, msg))? {
                                builder.insert(key, value);
                            }
                        }
                        Pending::Merge => builder.merges.push(built.node),
                    }
                }
            },
        }
        Ok(())
    }

    fn finish_document(&mut self) {
        // A dangling frame can only remain after a parser error, which returns earlier.
        self.stack.clear();
        let Some(root) = self.root.take() else { return };
        let span = root.span.clone().unwrap_or_else(|| Span::new(self.file.clone(), 1, 1, 1, 1));
        let helm_source = self.helm_source(span.start_line as usize);
        self.docs.push(Document { root, span, helm_source });
    }

    fn lines(&mut self) -> &[&'a str] {
        let text = self.text;
        self.lines.get_or_insert_with(|| text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect())
    }

    /// The last `# Source:` comment between the document's start (`---` or the previous
    /// document's end) and its root node.
    fn helm_source(&mut self, root_line: usize) -> Option<String> {
        let from = self.boundary_line; // 1-based line of the boundary = 0-based index of the next line
        let to = root_line.saturating_sub(1); // 0-based index of the root line
        let lines = self.lines();
        if from >= to || to > lines.len() {
            return None;
        }
        lines[from..to].iter().rev().find_map(|line| {
            let comment = line.trim_start().strip_prefix('#')?;
            let source = comment.trim_start().strip_prefix("Source:")?.trim();
            (!source.is_empty()).then(|| source.to_string())
        })
    }

    /// A block scalar spans from its `|`/`>` indicator to its last non-blank character (the
    /// parser reports the content start and the start of the next token).
    fn block_scalar_bounds(&mut self, start: Marker, end: Marker) -> ((u32, u32), (u32, u32)) {
        let (start_line, end_line) = (start.line(), end.line());
        let lines = self.lines();
        let mut begin = pos(start);
        // The header is on the first non-blank line above the content.
        let mut header = start_line.saturating_sub(1);
        while header >= 1 && header <= lines.len() && lines[header - 1].trim().is_empty() {
            header -= 1;
        }
        if header >= 1 && header <= lines.len() {
            if let Some(col) = block_indicator(lines[header - 1]) {
                begin = (header as u32, col as u32 + 1);
            }
        }
        // The end: walk back from the reported end over whitespace.
        let mut finish = pos(end);
        let mut line = end_line.min(lines.len());
        let mut limit = if end_line <= lines.len() { Some(end.col()) } else { None };
        while line >= start_line.max(1) {
            let chars: Vec<char> = lines[line - 1].chars().collect();
            let upto = limit.unwrap_or(chars.len()).min(chars.len());
            if let Some(last) = chars[..upto].iter().rposition(|c| !c.is_whitespace()) {
                finish = (line as u32, last as u32 + 2);
                break;
            }
            limit = None;
            line -= 1;
        }
        if finish < begin {
            finish = begin;
        }
        (begin, finish)
    }

    fn span(&self, start: Marker, end: Marker) -> Span {
        let (s, e) = (pos(start), pos(end));
        Span::new(self.file.clone(), s.0, s.1, e.0, e.1)
    }

    fn error(&self, start: Marker, end: Marker, message: String) -> Diagnostic {
        Diagnostic::error(self.file.to_string(), Some(self.span(start, end)), message)
    }

    fn scan_error(&mut self, e: &ScanError) -> Failure {
        let mark = *e.marker();
        if e.info() == "invalid indentation" && self.stack.last().is_some_and(|f| f.flow) {
            // Indent the line one column past the innermost block collection.
            let block_col = self.stack.iter().rev().find(|f| !f.flow).map_or(0, |f| f.start.col());
            let spaces = (block_col + 1).saturating_sub(mark.col()).max(1);
            let first_token = self.lines().get(mark.line().wrapping_sub(1)).is_some_and(|l| l.chars().take(mark.col()).all(char::is_whitespace));
            if first_token {
                return Failure::Reindent { line: mark.line(), spaces: clamp_u32(spaces) };
            }
        }
        if e.info() == "recursion limit exceeded" {
            // The scanner allows at most 255 nested flow collections.
            return self.error(mark, mark, "YAML nesting deeper than 255 flow levels".into()).into();
        }
        self.error(mark, mark, format!("YAML syntax error: {}", e.info())).into()
    }
}

/// 1-based line and column of a parser marker (whose column is 0-based).
/// A block mapping or sequence under a key starts on the line after the key; findings about
/// it (`securityContext`, `secretKeyRef`) read best pointing at the key, so its span starts
/// there. Scalars keep their own position.
fn starting_at_key(mut node: Node, key_start: Option<(u32, u32)>) -> Node {
    if let (Value::Map(_) | Value::List(_), Some((line, col)), Some(span)) = (&node.value, key_start, node.span.as_mut()) {
        if line < span.start_line {
            span.start_line = line;
            span.start_col = col;
        }
    }
    node
}

fn pos(mark: Marker) -> (u32, u32) {
    (clamp_u32(mark.line().max(1)), clamp_u32(mark.col() + 1))
}

fn clamp_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// 0-based character column of the `|` or `>` block scalar indicator on a header line.
fn block_indicator(line: &str) -> Option<usize> {
    let chars: Vec<char> = line.chars().collect();
    let mut found = None;
    for (i, &c) in chars.iter().enumerate() {
        if c == '#' && (i == 0 || chars[i - 1].is_whitespace()) {
            break; // a comment
        }
        if (c == '|' || c == '>') && (i == 0 || chars[i - 1].is_whitespace()) {
            let mut j = i + 1;
            while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == '+' || chars[j] == '-') {
                j += 1;
            }
            if j == chars.len() || chars[j].is_whitespace() {
                found = Some(i);
            }
        }
    }
    found
}

/// Resolves a scalar by its tag, or by the YAML 1.2 core schema when it is plain and untagged.
fn resolve_scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Result<Value, String> {
    if let Some(tag) = tag {
        if tag.handle == CORE_HANDLE {
            return resolve_core_tag(text, &tag.suffix);
        }
        if tag.handle.is_empty() && tag.suffix == "!" {
            // The non-specific tag `!`: not resolved, always a string.
            return Ok(Value::Str(text.to_string()));
        }
        // Application tags (`!foo`) are not interpreted: resolve as if untagged.
    }
    if style == ScalarStyle::Plain {
        Ok(resolve_plain(text))
    } else {
        Ok(Value::Str(text.to_string()))
    }
}

fn resolve_core_tag(text: &str, suffix: &str) -> Result<Value, String> {
    let invalid = || format!("YAML value `{text}` is not a valid !!{suffix}");
    match suffix {
        "null" => match resolve_null_bool(text) {
            Some(Value::Null) => Ok(Value::Null),
            _ if text.is_empty() => Ok(Value::Null),
            _ => Err(invalid()),
        },
        "bool" => match resolve_null_bool(text) {
            Some(Value::Bool(b)) => Ok(Value::Bool(b)),
            _ => Err(invalid()),
        },
        "int" => resolve_int(text).ok_or_else(invalid),
        "float" => match resolve_float(text).or_else(|| resolve_int(text)) {
            Some(Value::Float(f)) => Ok(Value::Float(f)),
            Some(Value::Int(i)) => Ok(Value::Float(i as f64)),
            Some(other) => Ok(other),
            None => Err(invalid()),
        },
        // !!str, !!binary, !!timestamp and any other core tag keep their text.
        _ => Ok(Value::Str(text.to_string())),
    }
}

/// YAML 1.2 core schema resolution of a plain scalar.
pub(crate) fn resolve_plain(text: &str) -> Value {
    if let Some(value) = resolve_null_bool(text) {
        return value;
    }
    let first = text.as_bytes().first().copied().unwrap_or(b' ');
    if first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.') {
        if let Some(value) = resolve_int(text).or_else(|| resolve_float(text)) {
            return value;
        }
    }
    Value::Str(text.to_string())
}

fn resolve_null_bool(text: &str) -> Option<Value> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => Some(Value::Null),
        "true" | "True" | "TRUE" => Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => Some(Value::Bool(false)),
        _ => None,
    }
}

/// `[-+]?[0-9]+`, `0o[0-7]+`, `0x[0-9a-fA-F]+`. An integer outside the i64 range stays a
/// string (its exact text) rather than becoming a rounded float.
fn resolve_int(text: &str) -> Option<Value> {
    let (digits, radix) = if let Some(octal) = text.strip_prefix("0o") {
        (octal, 8)
    } else if let Some(hex) = text.strip_prefix("0x") {
        (hex, 16)
    } else {
        let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
        if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        return Some(text.parse::<i64>().map_or_else(|_| Value::Str(text.to_string()), Value::Int));
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    Some(i64::from_str_radix(digits, radix).map_or_else(|_| Value::Str(text.to_string()), Value::Int))
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, `[-+]?\.inf`, `\.nan` (any of the
/// three spellings). Infinity and NaN are `Value::Float` (JSON output renders them as null).
fn resolve_float(text: &str) -> Option<Value> {
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Some(Value::Float(f64::INFINITY)),
        "-.inf" | "-.Inf" | "-.INF" => return Some(Value::Float(f64::NEG_INFINITY)),
        ".nan" | ".NaN" | ".NAN" => return Some(Value::Float(f64::NAN)),
        _ => {}
    }
    let b = text.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = i - frac_start;
    }
    if int_digits == 0 && frac_digits == 0 {
        return None;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let exp_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    text.parse::<f64>().ok().map(Value::Float)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn file() -> Arc<str> {
        Arc::from("test.yaml")
    }

    fn docs(text: &str) -> Vec<Document> {
        load(&file(), text, &Limits::default()).unwrap_or_else(|d| panic!("unexpected error: {d}"))
    }

    fn one(text: &str) -> Node {
        let mut docs = docs(text);
        assert_eq!(docs.len(), 1);
        docs.remove(0).root
    }

    fn err(text: &str, limits: &Limits) -> Diagnostic {
        match load(&file(), text, limits) {
            Ok(_) => panic!("expected an error"),
            Err(d) => d,
        }
    }

    fn item(node: &Node, index: usize) -> &Node {
        match &node.value {
            Value::List(items) => &items[index],
            _ => panic!("not a list"),
        }
    }

    /// (start line, start col, end line, end col) of a node.
    fn at(node: &Node) -> (u32, u32, u32, u32) {
        let s = node.span.as_ref().expect("span");
        (s.start_line, s.start_col, s.end_line, s.end_col)
    }

    #[test]
    fn positions_of_nested_values() {
        let root = one("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: app\n    image: \"nginx:1\"\n    args: [a, \"b\"]\n");
        assert_eq!(root.path("kind").and_then(Node::as_str), Some("Pod"));
        assert_eq!(at(root.get("kind").unwrap()), (2, 7, 2, 10));
        let containers = root.get("spec").unwrap().get("containers").unwrap();
        let Value::List(items) = &containers.value else { panic!("list") };
        let image = items[0].get("image").unwrap();
        assert_eq!(image.as_str(), Some("nginx:1"));
        assert_eq!(at(image), (6, 12, 6, 21));
        let args = items[0].get("args").unwrap();
        assert_eq!(at(args), (7, 11, 7, 19));
        assert_eq!(at(item(args, 1)), (7, 15, 7, 18));
        // A block mapping starts at its key and ends where its last value ends, not at the
        // next key.
        assert_eq!(at(root.get("spec").unwrap()), (3, 1, 7, 19));
        assert_eq!(at(&root), (1, 1, 7, 19));
    }

    #[test]
    fn block_scalar_spans_whole_scalar() {
        let root = one("a: 1\nscript: |-\n  echo one\n  echo two\n\nb: 2\n");
        let script = root.get("script").unwrap();
        assert_eq!(script.as_str(), Some("echo one\necho two"));
        assert_eq!(at(script), (2, 9, 4, 11));
        assert_eq!(at(root.get("b").unwrap()), (6, 4, 6, 5));
        let folded = one("- >\n  folded\n  text\n");
        assert_eq!(at(item(&folded, 0)), (1, 3, 3, 7));
    }

    #[test]
    fn multi_document_streams() {
        let d = docs("a: 1\n---\nb: 2\n...\n---\n# only a comment\n---\n- x\n---\n");
        assert_eq!(d.len(), 3);
        assert_eq!(d[0].root.get("a").unwrap().value, Value::Int(1));
        assert_eq!(d[1].root.get("b").unwrap().value, Value::Int(2));
        assert_eq!(d[1].span.start_line, 3);
        assert_eq!(item(&d[2].root, 0).as_str(), Some("x"));
        assert!(docs("").is_empty());
        assert!(docs("# nothing\n").is_empty());
        assert!(docs("---\n---\n").is_empty());
    }

    #[test]
    fn core_schema_scalars() {
        let root = one(concat!(
            "n1: null\nn2: ~\nn3:\nn4: NULL\n",
            "b1: true\nb2: False\nb3: TRUE\n",
            "y1: yes\ny2: no\ny3: on\ny4: off\n",
            "i1: 42\ni2: -7\ni3: 0o17\ni4: 0x1F\ni5: +3\ni6: 0644\n",
            "f1: 1.5\nf2: -.5\nf3: 1e3\nf4: .inf\nf5: -.Inf\nf6: .nan\nf7: 2.\n",
            "s1: \"42\"\ns2: 'true'\ns3: !!str 12\ns4: =\ns5: 1.2.3\ns6: 0x\ns7: 99999999999999999999\n",
            "t1: !!int \"12\"\nt2: !!float 3\nt3: !!bool \"false\"\nt4: !custom 5\nt5: ! 6\n",
        ));
        let v = |k: &str| root.get(k).unwrap_or_else(|| panic!("{k}")).value.clone();
        for k in ["n1", "n2", "n3", "n4"] {
            assert_eq!(v(k), Value::Null, "{k}");
        }
        assert_eq!(v("b1"), Value::Bool(true));
        assert_eq!(v("b2"), Value::Bool(false));
        assert_eq!(v("b3"), Value::Bool(true));
        for (k, s) in [("y1", "yes"), ("y2", "no"), ("y3", "on"), ("y4", "off")] {
            assert_eq!(v(k), Value::Str(s.into()), "{k}");
        }
        assert_eq!(v("i1"), Value::Int(42));
        assert_eq!(v("i2"), Value::Int(-7));
        assert_eq!(v("i3"), Value::Int(15));
        assert_eq!(v("i4"), Value::Int(31));
        assert_eq!(v("i5"), Value::Int(3));
        assert_eq!(v("i6"), Value::Int(644));
        assert_eq!(v("f1"), Value::Float(1.5));
        assert_eq!(v("f2"), Value::Float(-0.5));
        assert_eq!(v("f3"), Value::Float(1000.0));
        assert_eq!(v("f4"), Value::Float(f64::INFINITY));
        assert_eq!(v("f5"), Value::Float(f64::NEG_INFINITY));
        assert!(matches!(v("f6"), Value::Float(f) if f.is_nan()));
        assert_eq!(v("f7"), Value::Float(2.0));
        assert_eq!(v("s1"), Value::Str("42".into()));
        assert_eq!(v("s2"), Value::Str("true".into()));
        assert_eq!(v("s3"), Value::Str("12".into()));
        assert_eq!(v("s4"), Value::Str("=".into()));
        assert_eq!(v("s5"), Value::Str("1.2.3".into()));
        assert_eq!(v("s6"), Value::Str("0x".into()));
        assert_eq!(v("s7"), Value::Str("99999999999999999999".into()));
        assert_eq!(v("t1"), Value::Int(12));
        assert_eq!(v("t2"), Value::Float(3.0));
        assert_eq!(v("t3"), Value::Bool(false));
        assert_eq!(v("t4"), Value::Int(5));
        assert_eq!(v("t5"), Value::Str("6".into()));
        let d = err("a: !!int abc\n", &Limits::default());
        assert!(d.message.contains("!!int"), "{}", d.message);
        assert_eq!(d.span.unwrap().start_line, 1);
    }

    #[test]
    fn keys_order_duplicates_and_non_string_keys() {
        let root = one("b: 1\na: 2\nb: 3\n1: one\n? [x, y]\n: seq\nnull: n\n");
        let Value::Map(entries) = &root.value else { panic!("map") };
        let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["b", "a", "1", "[\"x\",\"y\"]", "null"]);
        assert_eq!(root.get("b").unwrap().value, Value::Int(3));
        // Many keys (hash index path) keep last-wins semantics too.
        let mut text: String = (0..40).map(|i| format!("k{i}: {i}\n")).collect();
        text.push_str("k5: last\n");
        let big = one(&text);
        assert_eq!(big.get("k5").and_then(Node::as_str), Some("last"));
        let Value::Map(entries) = &big.value else { panic!("map") };
        assert_eq!(entries.len(), 40);
    }

    #[test]
    fn aliases_are_expanded() {
        let root = one("base: &b {x: 1}\nuse: *b\nname: &n hello\nagain: *n\n");
        assert_eq!(root.get("use").unwrap().get("x").unwrap().value, Value::Int(1));
        assert_eq!(root.get("again").and_then(Node::as_str), Some("hello"));
        // The copy sits where the alias is; its children keep the anchor's lines.
        assert_eq!(at(root.get("use").unwrap()).0, 2);
        assert_eq!(at(root.get("use").unwrap().get("x").unwrap()).0, 1);
    }

    #[test]
    fn merge_keys() {
        let root = one(concat!(
            "defaults: &d\n  cpu: 1\n  mem: 2\nextra: &e\n  mem: 9\n  disk: 3\n",
            "one:\n  <<: *d\n  cpu: 5\n",
            "two:\n  cpu: 7\n  <<: [*d, *e]\n",
            "three:\n  \"<<\": literal\n",
        ));
        let one = root.get("one").unwrap();
        assert_eq!(one.get("cpu").unwrap().value, Value::Int(5));
        assert_eq!(one.get("mem").unwrap().value, Value::Int(2));
        assert!(one.get("<<").is_none());
        let two = root.get("two").unwrap();
        assert_eq!(two.get("cpu").unwrap().value, Value::Int(7));
        assert_eq!(two.get("mem").unwrap().value, Value::Int(2)); // earlier merge wins
        assert_eq!(two.get("disk").unwrap().value, Value::Int(3));
        assert_eq!(root.get("three").unwrap().get("<<").and_then(Node::as_str), Some("literal"));
    }

    #[test]
    fn alias_bomb_is_refused_fast() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        let started = Instant::now();
        let d = err(&text, &Limits::default());
        assert!(started.elapsed() < Duration::from_secs(1), "took {:?}", started.elapsed());
        assert!(d.message.contains("alias expansion exceeds 1000000 nodes"), "{}", d.message);
        let span = d.span.expect("span");
        assert!(span.start_line >= 6 && span.start_col > 1, "{span}");
        assert_eq!(&*span.file, "test.yaml");
        // A small limit refuses early too.
        let d = err(&text, &Limits { max_depth: 256, max_nodes: 50 });
        assert!(d.message.contains("exceeds 50 nodes"), "{}", d.message);
    }

    #[test]
    fn depth_bomb_is_refused() {
        let text = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let started = Instant::now();
        let d = err(&text, &Limits::default());
        assert!(started.elapsed() < Duration::from_secs(1), "took {:?}", started.elapsed());
        assert!(d.message.contains("nesting deeper than"), "{}", d.message);
        assert_eq!(d.span.unwrap().start_line, 1);
        let nested: String = (0..300).map(|i| format!("{}k:\n", "  ".repeat(i))).collect();
        let d = err(&nested, &Limits::default());
        assert!(d.message.contains("deeper than 256"), "{}", d.message);
        assert_eq!(d.span.unwrap().start_line, 257);
        let flow = format!("a: {}{}", "[".repeat(10), "]".repeat(10));
        let d = err(&flow, &Limits { max_depth: 5, max_nodes: 1000 });
        assert_eq!(d.span.unwrap().start_col, 8, "{}", d.message);
        // Through aliases: a deep anchor used deep down.
        let limits = Limits { max_depth: 6, max_nodes: 1000 };
        let d = err("a: &a [[[1]]]\nb: [[[*a]]]\n", &limits);
        assert!(d.message.contains("through an alias"), "{}", d.message);
        assert_eq!(d.span.unwrap().start_line, 2);
        assert!(load(&file(), "a: &a [[[1]]]\nb: [*a]\n", &limits).is_ok());
    }

    #[test]
    fn syntax_error_position() {
        let d = err("a: b\n  c: d: e\n", &Limits::default());
        let span = d.span.expect("span");
        assert_eq!((span.start_line, span.start_col), (2, 4));
        assert!(d.message.starts_with("YAML syntax error"), "{}", d.message);
        assert_eq!(d.file, "test.yaml");
        let d = err("ok: 1\n---\nlist: [a, b\n", &Limits::default());
        assert!(d.span.unwrap().start_line >= 3);
        // An undefined alias is an error, not a panic.
        assert!(load(&file(), "a: *nope\n", &Limits::default()).is_err());
        assert!(load(&file(), "a: &x [*x]\n", &Limits::default()).is_err());
    }

    #[test]
    fn helm_source_comments() {
        let text = concat!(
            "---\n# Source: mychart/templates/serviceaccount.yaml\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa\n",
            "---\n# Source: mychart/templates/empty.yaml\n",
            "---\n# Source: mychart/templates/deployment.yaml\n# another comment\napiVersion: apps/v1\nkind: Deployment\n",
            "---\napiVersion: v1\nkind: ConfigMap\n",
        );
        let d = docs(text);
        assert_eq!(d.len(), 3);
        assert_eq!(d[0].helm_source.as_deref(), Some("mychart/templates/serviceaccount.yaml"));
        assert_eq!(d[1].helm_source.as_deref(), Some("mychart/templates/deployment.yaml"));
        assert_eq!(d[1].span.start_line, 12);
        assert_eq!(d[2].helm_source, None);
        let first = docs("# Source: c/templates/a.yaml\nkind: A\n");
        assert_eq!(first[0].helm_source.as_deref(), Some("c/templates/a.yaml"));
    }

    #[test]
    fn bom_is_stripped() {
        let root = one("\u{feff}a: 1\n");
        assert_eq!(root.get("a").unwrap().value, Value::Int(1));
        assert_eq!(at(root.get("a").unwrap()), (1, 4, 1, 5));
    }

    #[test]
    fn json_and_crlf() {
        let root = one("{\n\t\"a\": [1, 2.5, \"x\\/y\"],\n\t\"b\": {\"c\": null, \"d\": true}\n}\n");
        assert_eq!(item(root.get("a").unwrap(), 2).as_str(), Some("x/y"));
        assert_eq!(root.path("b.d").unwrap().value, Value::Bool(true));
        let root = one("a: 1\r\nb: |\r\n  text\r\nc: 2\r\n");
        assert_eq!(root.get("b").and_then(Node::as_str), Some("text\n"));
        assert_eq!(at(root.get("b").unwrap()), (2, 4, 3, 7));
        assert_eq!(at(root.get("c").unwrap()), (4, 4, 4, 5));
    }

    #[test]
    fn flow_collection_closed_at_parent_indentation() {
        // kubectl accepts a closing bracket aligned with its key (istio's spire sample).
        let text = "spec:\n  args: [\n      \"-a\", \"b\",\n  ]\n  env: {\n  x: 1,\n  }\n  after: z\n";
        let root = one(text);
        let args = root.get("spec").unwrap().get("args").unwrap();
        assert_eq!(item(args, 1).as_str(), Some("b"));
        assert_eq!(at(args), (2, 9, 4, 4));
        let env = root.get("spec").unwrap().get("env").unwrap();
        assert_eq!(env.get("x").unwrap().value, Value::Int(1));
        assert_eq!(at(env.get("x").unwrap()), (6, 6, 6, 7));
        assert_eq!(at(root.get("spec").unwrap().get("after").unwrap()), (8, 10, 8, 11));
        // Mis-indented block content is still an error, with its original column.
        let d = err("a:\n    b: 1\n  c: 2\n", &Limits::default());
        assert_eq!(d.span.unwrap().start_line, 3);
    }

    #[test]
    fn columns_count_characters() {
        let root = one("é: ünïcode\nb: x\n");
        assert_eq!(at(root.get("é").unwrap()), (1, 4, 1, 11));
    }

    #[test]
    fn block_collections_under_a_key_start_at_the_key() {
        let root = one("env:\n  - name: A\n    valueFrom:\n      secretKeyRef:\n        name: db\n");
        let reference = root.path("env.*.valueFrom.secretKeyRef").unwrap();
        assert_eq!(reference.span.as_ref().map(|s| (s.start_line, s.start_col)), Some((4, 7)));
        let scalar = root.path("env.*.valueFrom.secretKeyRef.name").unwrap();
        assert_eq!(scalar.span.as_ref().map(|s| s.start_line), Some(5));
    }
}

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
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    Loader::new(file, text, limits).run()
}

const CORE_HANDLE: &str = "tag:yaml.org,2002:";

/// Maps with more entries than this get a hash index for duplicate-key detection.
const INDEX_THRESHOLD: usize = 16;

struct Loader<'a> {
    file: &'a Arc<str>,
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
}

/// A finished node plus what its parent needs to know about it.
#[derive(Clone)]
struct Built {
    node: Node,
    /// The raw text of a scalar, used when the node is a mapping key; `plain` tells a `<<`
    /// merge key from a quoted `"<<"`.
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
}

enum FrameKind {
    Seq(Vec<Node>),
    Map(MapBuilder),
}

enum Pending {
    Key(String),
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
    fn new(file: &'a Arc<str>, text: &'a str, limits: &'a Limits) -> Self {
        Loader {
            file,
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
        }
    }

    fn run(mut self) -> Result<Vec<Document>, Diagnostic> {
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
                }
                Event::DocumentEnd => {
                    self.finish_document();
                    self.prev_end_line = span.start.line();
                }
                Event::Alias(id) => {
                    let Some(anchored) = self.anchors.get(&id) else {
                        return Err(self.error(span.start, span.end, "YAML alias refers to an anchor that is not defined yet (recursive alias?)".into()));
                    };
                    if self.stack.len() + anchored.height > self.limits.max_depth {
                        let msg = format!("YAML nesting deeper than {} levels (through an alias)", self.limits.max_depth);
                        return Err(self.error(span.start, span.end, msg));
                    }
                    if self.nodes.saturating_add(anchored.count) > self.limits.max_nodes {
                        let msg = format!("YAML alias expansion exceeds {} nodes (billion laughs?)", self.limits.max_nodes);
                        return Err(self.error(span.start, span.end, msg));
                    }
                    self.nodes += anchored.count;
                    let mut built = anchored.clone();
                    // The copy is located where the alias is written; its children keep the
                    // anchor's positions.
                    built.node.span = Some(self.span(span.start, span.end));
                    built.key = None;
                    self.complete(built);
                }
                Event::Scalar(text, style, anchor, tag) => {
                    self.count_node(span.start, span.end)?;
                    // Fast path: an unanchored plain key needs no value resolution.
                    if anchor == 0 && self.expecting_key() {
                        let plain = style == ScalarStyle::Plain && tag.is_none();
                        self.complete(Built { node: Node::new(Value::Null, None), key: Some((text.into_owned(), plain)), count: 1, height: 0 });
                        continue;
                    }
                    let value = match resolve_scalar(&text, style, tag.as_deref()) {
                        Ok(value) => value,
                        Err(msg) => return Err(self.error(span.start, span.end, msg)),
                    };
                    let (start, end) = match style {
                        ScalarStyle::Literal | ScalarStyle::Folded => self.block_scalar_bounds(span.start, span.end),
                        _ => (pos(span.start), pos(span.end)),
                    };
                    let node_span = Span::new(self.file.clone(), start.0, start.1, end.0, end.1);
                    let plain = style == ScalarStyle::Plain && tag.is_none();
                    let built = Built { node: Node::new(value, Some(node_span)), key: Some((text.into_owned(), plain)), count: 1, height: 0 };
                    if anchor != 0 {
                        self.anchors.insert(anchor, built.clone());
                    }
                    self.complete(built);
                }
                Event::SequenceStart(anchor, _) => self.open(FrameKind::Seq(Vec::new()), anchor, span.start, span.end)?,
                Event::MappingStart(anchor, _) => self.open(FrameKind::Map(MapBuilder::default()), anchor, span.start, span.end)?,
                Event::SequenceEnd | Event::MappingEnd => {
                    let Some(frame) = self.stack.pop() else { continue };
                    let start = pos(frame.start);
                    // Flow collections end at their closing bracket; block collections at the
                    // end of their last entry (the parser reports the next token instead).
                    let end = if span.end.index() > span.start.index() {
                        pos(span.end)
                    } else {
                        frame.last_end.unwrap_or(start)
                    };
                    let node_span = Some(Span::new(self.file.clone(), start.0, start.1, end.0, end.1));
                    let value = match frame.kind {
                        FrameKind::Seq(items) => Value::List(items),
                        FrameKind::Map(builder) => Value::Map(builder.finish()),
                    };
                    let built = Built { node: Node::new(value, node_span), key: None, count: frame.count, height: frame.height + 1 };
                    if frame.anchor != 0 {
                        self.anchors.insert(frame.anchor, built.clone());
                    }
                    self.complete(built);
                }
            }
        }
        self.finish_document();
        Ok(self.docs)
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

    fn open(&mut self, kind: FrameKind, anchor: usize, start: Marker, end: Marker) -> Result<(), Diagnostic> {
        if self.stack.len() >= self.limits.max_depth {
            let msg = format!("YAML nesting deeper than {} levels", self.limits.max_depth);
            return Err(self.error(start, end, msg));
        }
        self.count_node(start, end)?;
        self.stack.push(Frame { kind, start, anchor, count: 1, height: 0, last_end: None });
        Ok(())
    }

    /// Hands a finished node to its parent (or makes it the document root).
    fn complete(&mut self, built: Built) {
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some(built.node);
            return;
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
                    let (key, plain) = key_text(built);
                    builder.pending = Some(if plain && key == "<<" { Pending::Merge } else { Pending::Key(key) });
                }
                Some(pending) => {
                    if let Some(span) = &built.node.span {
                        frame.last_end = Some((span.end_line, span.end_col));
                    }
                    match pending {
                        Pending::Key(key) => builder.insert(key, built.node),
                        Pending::Merge => builder.merges.push(built.node),
                    }
                }
            },
        }
    }

    fn finish_document(&mut self) {
        // A dangling frame can only remain after a parser error, which returns earlier.
        self.stack.clear();
        let Some(root) = self.root.take() else { return };
        let empty = matches!(&root.value, Value::Null)
            && root.span.as_ref().is_some_and(|s| s.start_line == s.end_line && s.start_col == s.end_col);
        if empty {
            return;
        }
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

    fn scan_error(&self, e: &ScanError) -> Diagnostic {
        let mark = *e.marker();
        self.error(mark, mark, format!("YAML syntax error: {}", e.info()))
    }
}

/// 1-based line and column of a parser marker (whose column is 0-based).
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

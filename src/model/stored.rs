//! Resources stored encoded until they are judged. A scan of a monorepo holds hundreds of
//! thousands of resources at once (joins may name any of them), and as trees of nodes, each
//! value with its own span, they took several times the memory of the text they came from.
//! A stored resource keeps what reports and indexes read as fields and its attributes as
//! bytes, decoded when a rule needs them; every value keeps its span.

use super::{LiveOrigin, Model, Node, Resource, SourceKind, Span, Unseen, Value};
use crate::model::Diagnostic;
use rayon::prelude::*;
use std::sync::Arc;

/// A [`Resource`] with its attributes encoded.
#[derive(Clone, Debug)]
pub struct Stored {
    pub source: SourceKind,
    pub rtype: String,
    pub address: String,
    pub span: Span,
    pub template: Option<String>,
    pub call_chain: Vec<Span>,
    pub live: Option<Arc<LiveOrigin>>,
    /// Files other than `span.file` that attribute spans name (a value written in a tfvars
    /// file or passed down through a module call).
    files: Vec<Arc<str>>,
    attrs: Box<[u8]>,
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
    pub fn extend(&mut self, other: Store) {
        let resources = Arc::try_unwrap(other.resources).unwrap_or_else(|shared| shared.as_ref().clone());
        Arc::make_mut(&mut self.resources).extend(resources);
        self.diagnostics.extend(other.diagnostics);
        self.files_scanned += other.files_scanned;
        self.unseen.extend(other.unseen);
    }
}

impl From<Model> for Store {
    fn from(model: Model) -> Self {
        Store {
            resources: Arc::new(model.resources.into_par_iter().map(Stored::from).collect()),
            diagnostics: model.diagnostics,
            files_scanned: model.files_scanned,
            unseen: model.unseen,
        }
    }
}

impl From<Resource> for Stored {
    fn from(resource: Resource) -> Self {
        let mut encoder = Encoder { file: &resource.span.file, line: resource.span.start_line, files: Vec::new(), out: Vec::new() };
        encoder.node(&resource.attrs);
        Stored {
            source: resource.source,
            rtype: resource.rtype,
            address: resource.address,
            template: resource.template,
            call_chain: resource.call_chain,
            live: resource.live,
            files: encoder.files,
            attrs: encoder.out.into_boxed_slice(),
            span: resource.span,
        }
    }
}

impl Stored {
    /// The attributes, decoded.
    pub fn attrs(&self) -> Node {
        Decoder { stored: self, at: 0 }.node()
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
const SPANNED: u8 = 0x10;

struct Encoder<'r> {
    /// The resource's own file and first line: most spans are there and near it, so they
    /// are written as "same file" and a line difference.
    file: &'r Arc<str>,
    line: u32,
    files: Vec<Arc<str>>,
    out: Vec<u8>,
}

impl Encoder<'_> {
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
            Value::List(items) => {
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
        }
    }

    fn span(&mut self, span: &Span) {
        let file = if Arc::ptr_eq(&span.file, self.file) || span.file == *self.file {
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
        self.unsigned(text.len() as u64);
        self.out.extend_from_slice(text.as_bytes());
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
    at: usize,
}

impl Decoder<'_> {
    fn node(&mut self) -> Node {
        let tag = self.byte();
        let span = (tag & SPANNED != 0).then(|| self.span());
        let value = match tag & !SPANNED {
            NULL => Value::Null,
            FALSE => Value::Bool(false),
            TRUE => Value::Bool(true),
            INT => Value::Int(self.signed()),
            FLOAT => {
                let bytes: [u8; 8] = self.stored.attrs[self.at..self.at + 8].try_into().expect("eight bytes");
                self.at += 8;
                Value::Float(f64::from_le_bytes(bytes))
            }
            STR => Value::Str(self.text()),
            LIST => Value::List((0..self.unsigned()).map(|_| self.node()).collect()),
            MAP => Value::Map((0..self.unsigned()).map(|_| (self.text(), self.node())).collect()),
            UNKNOWN => Value::Unknown(self.text()),
            REF => Value::Ref { address: self.text(), attribute: self.text() },
            other => unreachable!("tag {other} is never encoded"),
        };
        Node { value, span }
    }

    fn span(&mut self) -> Span {
        let file = match self.unsigned() as usize {
            0 => self.stored.span.file.clone(),
            i => self.stored.files[i - 1].clone(),
        };
        let start_line = (i64::from(self.stored.span.start_line) + self.signed()) as u32;
        let start_col = self.unsigned() as u32;
        let end_line = (i64::from(start_line) + self.signed()) as u32;
        let end_col = self.unsigned() as u32;
        Span { file, start_line, start_col, end_line, end_col }
    }

    fn text(&mut self) -> String {
        let len = self.unsigned() as usize;
        let bytes = &self.stored.attrs[self.at..self.at + len];
        self.at += len;
        String::from_utf8(bytes.to_vec()).expect("encoded from a String")
    }

    fn byte(&mut self) -> u8 {
        self.at += 1;
        self.stored.attrs[self.at - 1]
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
            call_chain: Vec::new(),
            live: None,
        };
        let stored = Stored::from(resource);
        assert_eq!(stored.attrs(), attrs);
        assert_eq!(stored.files.len(), 1, "the resource's own file is not repeated");
    }
}

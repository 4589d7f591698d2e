//! Mapping plan resources back to the `.tf` files that declare them, so a finding on a plan
//! points at the line to change rather than into machine-written JSON.

use crate::model::{LineIndex, Node, Span, Value};
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Body};
use hcl_edit::Span as _;
use serde_json::Value as J;
use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One parsed `.tf` file of a module directory.
struct TfFile<'a> {
    path: Arc<str>,
    lines: LineIndex<'a>,
    body: Body,
}

impl TfFile<'_> {
    fn span(&self, range: Option<Range<usize>>) -> Span {
        self.lines.span(&self.path, range.unwrap_or(0..0))
    }
}

/// A module instance's source: the directory's files (when local and on disk) and the
/// `module` block that calls it in its parent.
#[derive(Default)]
struct ModuleSource {
    dir: Option<usize>,
    call: Option<Span>,
}

/// The `.tf` files of the root module and of the local modules the plan's configuration
/// calls, by module call path (`["a", "b"]` for `module.a.module.b`).
pub struct Sources<'a> {
    dirs: Vec<Vec<TfFile<'a>>>,
    modules: HashMap<Vec<String>, ModuleSource>,
}

/// Deepest module nesting followed.
const MAX_DEPTH: usize = 64;

impl<'a> Sources<'a> {
    /// Reads the `.tf` files of `root_dir` and of every local module the configuration
    /// calls (its `source` relative to the caller's directory). Files that cannot be read or
    /// parsed are left out: the resources are then located in the plan file.
    pub fn load(root_dir: &Path, root_config: Option<&J>, base: &Path, texts: &'a typed_arena::Arena<String>) -> Self {
        let root_dir = if root_dir.as_os_str().is_empty() { Path::new(".") } else { root_dir };
        let mut sources = Sources { dirs: Vec::new(), modules: HashMap::new() };
        let mut by_dir: HashMap<PathBuf, usize> = HashMap::new();
        // (module call names, the module's directory, its configuration, the call's span)
        type Pending<'j> = (Vec<String>, Option<PathBuf>, Option<&'j J>, Option<Span>);
        let mut stack: Vec<Pending> = vec![(Vec::new(), Some(root_dir.to_path_buf()), root_config, None)];
        while let Some((calls, dir, config, call)) = stack.pop() {
            let dir_index = dir.as_ref().map(|dir| {
                let dir = crate::terraform::normalise(dir);
                *by_dir.entry(dir.clone()).or_insert_with(|| {
                    sources.dirs.push(read_dir(&dir, base, texts));
                    sources.dirs.len() - 1
                })
            });
            if calls.len() < MAX_DEPTH {
                if let Some(J::Object(module_calls)) = config.and_then(|c| c.get("module_calls")) {
                    for (name, module_call) in module_calls {
                        let source = module_call.get("source").and_then(J::as_str).unwrap_or("");
                        let local = source.starts_with("./") || source.starts_with("../");
                        let child_dir = dir.as_ref().filter(|_| local).map(|d| d.join(source));
                        let call_span =
                            dir_index.and_then(|i| find_block(&sources.dirs[i], "module", &[name], None)).map(|(file, block)| file.span(block.span()));
                        let mut child_calls = calls.clone();
                        child_calls.push(name.clone());
                        stack.push((child_calls, child_dir, module_call.get("module"), call_span));
                    }
                }
            }
            sources.modules.insert(calls, ModuleSource { dir: dir_index, call });
        }
        sources
    }

    /// The `module` blocks calling the module at `calls`, outermost first.
    pub fn call_chain(&self, calls: &[String]) -> Vec<Span> {
        (1..=calls.len()).filter_map(|n| self.modules.get(&calls[..n])?.call.clone()).collect()
    }

    fn files(&self, calls: &[String]) -> &[TfFile<'a>] {
        match self.modules.get(calls).and_then(|m| m.dir) {
            Some(index) => &self.dirs[index],
            None => &[],
        }
    }

    /// Finds `ident "rtype" "name"` in the module's files and gives `attrs` the lines of
    /// its attributes and blocks; the block's span and the call chain when found.
    pub fn annotate_resource(&self, calls: &[String], ident: &str, rtype: &str, name: &str, attrs: &mut Node) -> Option<(Span, Vec<Span>)> {
        let (file, block) = find_block(self.files(calls), ident, &[rtype, name], None)?;
        let span = file.span(block.span());
        annotate(attrs, Some(&block.body), &span, file);
        Some((span, self.call_chain(calls)))
    }

    /// The same for `provider "name"` with the given alias (or none).
    pub fn annotate_provider(&self, calls: &[String], name: &str, alias: Option<&str>, attrs: &mut Node) -> Option<(Span, Vec<Span>)> {
        let (file, block) = find_block(self.files(calls), "provider", &[name], Some(alias))?;
        let span = file.span(block.span());
        annotate(attrs, Some(&block.body), &span, file);
        Some((span, self.call_chain(calls)))
    }
}

fn read_dir<'a>(dir: &Path, base: &Path, texts: &'a typed_arena::Arena<String>) -> Vec<TfFile<'a>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "tf") && p.is_file()).collect())
        .unwrap_or_default();
    paths.sort();
    let mut files = Vec::new();
    for path in paths {
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let text: &'a str = texts.alloc(text);
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let Ok(body) = hcl_edit::parser::parse_body(text) else { continue };
        files.push(TfFile { path: crate::input::display_path(&path, &crate::terraform::normalise(base)), lines: LineIndex::new(text), body });
    }
    files
}

/// The first block `ident "labels..."`; for providers, `alias` must match the block's
/// `alias` argument (`Some(None)`: the block has none).
fn find_block<'f, 'a>(files: &'f [TfFile<'a>], ident: &'f str, labels: &[&str], alias: Option<Option<&str>>) -> Option<(&'f TfFile<'a>, &'f Block)> {
    files.iter().find_map(|file| {
        file.body
            .get_blocks(ident)
            .find(|block| {
                block.labels.len() == labels.len()
                    && block.labels.iter().zip(labels).all(|(l, want)| l.as_str() == *want)
                    && alias.is_none_or(|alias| block_alias(block) == alias)
            })
            .map(|block| (file, block))
    })
}

fn block_alias(block: &Block) -> Option<&str> {
    match block.body.get_attribute("alias").map(|a| &a.value) {
        Some(Expression::String(s)) => Some(s.value().as_str()),
        _ => None,
    }
}

/// Gives each value the span of where it is written: an attribute its line, a nested block
/// its block (the i-th value the i-th block, `dynamic` blocks their `content`), and anything
/// not written (computed, defaulted) the enclosing block.
fn annotate(node: &mut Node, body: Option<&Body>, span: &Span, file: &TfFile) {
    node.span = Some(span.clone());
    let (Some(body), Value::Map(entries)) = (body, &mut node.value) else {
        super::fill_spans(node, span);
        return;
    };
    for (key, child) in entries.iter_mut() {
        if let Some(attribute) = body.get_attribute(key) {
            super::fill_spans(child, &file.span(attribute.value.span()));
            continue;
        }
        let blocks: Vec<&Block> = body.get_blocks(key).collect();
        let dynamic: Option<&Block> = body.get_blocks("dynamic").find(|b| b.labels.first().is_some_and(|l| l.as_str() == key.as_str()));
        match (&mut child.value, blocks.is_empty(), dynamic) {
            (Value::List(items), false, _) => {
                child.span = Some(file.span(blocks[0].span()));
                for (i, item) in items.iter_mut().enumerate() {
                    match blocks.get(i) {
                        Some(block) => annotate(item, Some(&block.body), &file.span(block.span()), file),
                        None => super::fill_spans(item, span),
                    }
                }
            }
            (Value::List(items), true, Some(dynamic)) => {
                let dynamic_span = file.span(dynamic.span());
                child.span = Some(dynamic_span.clone());
                let content = dynamic.body.get_blocks("content").next();
                for item in items.iter_mut() {
                    match content {
                        Some(content) => annotate(item, Some(&content.body), &file.span(content.span()), file),
                        None => super::fill_spans(item, &dynamic_span),
                    }
                }
            }
            _ => super::fill_spans(child, span),
        }
    }
}

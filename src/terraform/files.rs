//! Reading Terraform files: which files a module directory holds (Terraform's and OpenTofu's),
//! and their HCL parsed with positions kept.

use crate::model::{Diagnostic, LineIndex, Span};
use hcl_edit::structure::Body;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The endings of configuration files: Terraform's, and OpenTofu's own (`.tofu`).
pub use crate::input::is_configuration;
use crate::input::CONFIGURATION;

/// Whether a configuration file is an override file (`override.tf`, `x_override.tf`, and their
/// `.tf.json` and OpenTofu forms), whose blocks are merged into the module's other blocks.
pub fn is_override(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    CONFIGURATION.iter().any(|ending| name.strip_suffix(ending).is_some_and(|stem| stem == "override" || stem.ends_with("_override")))
}

/// Whether a configuration file is in the JSON syntax.
pub fn is_json(name: &str) -> bool {
    name.ends_with(".tf.json") || name.ends_with(".tofu.json")
}

/// The files of one directory the module is made of, and those left out: as OpenTofu reads a
/// directory, `x.tofu` replaces `x.tf` (and `x.tofu.json` replaces `x.tf.json`).
pub fn module_files(files: Vec<PathBuf>) -> (Vec<PathBuf>, Vec<(PathBuf, PathBuf)>) {
    // A set: a root module of 5,000 files made this quadratic.
    let present: std::collections::HashSet<&Path> = files.iter().map(PathBuf::as_path).collect();
    let tofu_twin = |path: &Path| -> Option<PathBuf> {
        let name = path.file_name()?.to_str()?;
        let stem = name.strip_suffix(".tf.json").map(|s| format!("{s}.tofu.json")).or_else(|| name.strip_suffix(".tf").map(|s| format!("{s}.tofu")))?;
        let twin = path.with_file_name(stem);
        present.contains(twin.as_path()).then_some(twin)
    };
    let mut kept = Vec::with_capacity(files.len());
    let mut replaced = Vec::new();
    for file in &files {
        match tofu_twin(file) {
            Some(twin) => replaced.push((file.clone(), twin)),
            None => kept.push(file.clone()),
        }
    }
    (kept, replaced)
}

/// One parsed `.tf` file.
pub struct ParsedFile<'t> {
    pub path: Arc<str>,
    pub lines: LineIndex<'t>,
    pub body: Body,
}

/// Retries for object constructors with repeated keys (see [`parse`]).
const MAX_DUPLICATE_KEYS: usize = 64;

/// A file's HCL text with its syntax tree, both owned: files are parsed on any thread, then
/// their texts moved where the evaluation's line indexes borrow them.
pub struct Parsed {
    path: Arc<str>,
    text: String,
    body: Body,
}

impl Parsed {
    /// Moves the text into `arena`, where the file's line index borrows it.
    pub fn into_file(self, arena: &typed_arena::Arena<String>) -> ParsedFile<'_> {
        let text = arena.alloc(self.text);
        ParsedFile { path: self.path, lines: LineIndex::new(text), body: self.body }
    }
}

/// Parses HCL; a syntax error names the file, line and column.
///
/// Terraform accepts an object constructor that repeats a key, but hcl-edit refuses it. The
/// repeated key is then renamed in place to a same-length placeholder (so every position
/// stays right) and the file parsed again; `notes` says so.
pub fn parse(path: &Arc<str>, mut text: String, notes: &mut Vec<Diagnostic>) -> Result<Parsed, Diagnostic> {
    // hcl-edit rejects a UTF-8 byte-order mark, which editors on Windows write.
    if let Some(rest) = text.strip_prefix('\u{feff}') {
        text = rest.to_string();
    }
    for attempt in 0..=MAX_DUPLICATE_KEYS {
        match hcl_edit::parser::parse_body(&text) {
            Ok(body) => return Ok(Parsed { path: path.clone(), text, body }),
            Err(error) if attempt < MAX_DUPLICATE_KEYS && error.message().contains("redefined object key") => {
                let location = error.location();
                let Some((renamed, key)) = rename_key_at(&text, location.line(), location.column(), attempt) else { return Err(syntax_error(path, &error)) };
                let span = Span::new(path.clone(), location.line() as u32, location.column() as u32, location.line() as u32, location.column() as u32);
                notes.push(Diagnostic::note(
                    path.to_string(),
                    Some(span),
                    format!("object key `{key}` is repeated; the repeated entry is evaluated under a placeholder name"),
                ));
                text = renamed;
            }
            Err(error) => return Err(syntax_error(path, &error)),
        }
    }
    unreachable!("the loop returns on its last attempt")
}

/// The text with the object key at `line`:`column` (1-based) replaced by a placeholder of
/// the same length, and the key's old name.
fn rename_key_at(text: &str, line: usize, column: usize, attempt: usize) -> Option<(String, String)> {
    let line_start: usize = text.split_inclusive('\n').take(line.checked_sub(1)?).map(str::len).sum();
    let start = line_start + text[line_start..].char_indices().nth(column.checked_sub(1)?)?.0;
    let quoted = text[start..].starts_with('"');
    let body_start = start + usize::from(quoted);
    let len = text[body_start..].find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))?;
    if len == 0 {
        return None;
    }
    let key = text[body_start..body_start + len].to_string();
    let mut placeholder: String = format!("_{attempt}_dup").chars().chain(std::iter::repeat('_')).take(len).collect();
    if len < 2 {
        placeholder = "_".repeat(len);
    }
    let mut renamed = text.to_string();
    renamed.replace_range(body_start..body_start + len, &placeholder);
    Some((renamed, key))
}

fn syntax_error(path: &Arc<str>, error: &hcl_edit::parser::Error) -> Diagnostic {
    {
        {
            let location = error.location();
            let (line, column) = (location.line() as u32, location.column() as u32);
            let span = Span::new(path.clone(), line, column, line, column);
            let first_line = error.message().lines().next().unwrap_or("invalid HCL").trim().to_string();
            Diagnostic::error(path.to_string(), Some(span), format!("HCL syntax error: {first_line}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tofu_files_replace_their_tf_twins() {
        let files: Vec<PathBuf> = ["m/a.tf", "m/a.tofu", "m/b.tf", "m/c.tf.json", "m/c.tofu.json", "m/d.tofu"].iter().map(PathBuf::from).collect();
        let (kept, replaced) = module_files(files);
        let kept: Vec<&str> = kept.iter().map(|p| p.to_str().unwrap()).collect();
        assert_eq!(kept, ["m/a.tofu", "m/b.tf", "m/c.tofu.json", "m/d.tofu"]);
        assert_eq!(replaced, [(PathBuf::from("m/a.tf"), PathBuf::from("m/a.tofu")), (PathBuf::from("m/c.tf.json"), PathBuf::from("m/c.tofu.json"))]);
        assert!(is_configuration("x.tofu") && is_json("x.tofu.json") && !is_configuration("x.tftest.hcl"));
        assert!(is_override("m/override.tf") && is_override("m/dev_override.tf.json") && is_override("override.tofu"));
        assert!(!is_override("m/overrides.tf") && !is_override("m/main.tf"));
    }

    fn parse_hcl<'t>(path: &Arc<str>, text: &str, arena: &'t typed_arena::Arena<String>, notes: &mut Vec<Diagnostic>) -> Result<ParsedFile<'t>, Diagnostic> {
        parse(path, text.to_string(), notes).map(|parsed| parsed.into_file(arena))
    }

    #[test]
    fn syntax_errors_have_positions() {
        let path: Arc<str> = "bad.tf".into();
        let arena = typed_arena::Arena::new();
        let error = parse_hcl(&path, "resource \"a\" \"b\" {\n  x = \n}\n", &arena, &mut Vec::new()).err().unwrap();
        let span = error.span.unwrap();
        assert_eq!(span.start_line, 2);
        assert!(error.message.contains("HCL syntax error"));
    }

    #[test]
    fn byte_order_mark_is_ignored() {
        let path: Arc<str> = "bom.tf".into();
        let arena = typed_arena::Arena::new();
        assert!(parse_hcl(&path, "\u{feff}locals {\n  a = 1\n}\n", &arena, &mut Vec::new()).is_ok());
    }

    #[test]
    fn repeated_object_keys_are_accepted_with_a_note() {
        let path: Arc<str> = "dup.tf".into();
        let arena = typed_arena::Arena::new();
        let mut notes = Vec::new();
        let text = "locals {\n  m = {\n    tags = 1\n    tags = 2\n  }\n}\n";
        let parsed = parse_hcl(&path, text, &arena, &mut notes).expect("parses after renaming");
        assert_eq!(parsed.lines.position(text.len()), (7, 1));
        assert_eq!(notes.len(), 1);
        assert!(notes[0].message.contains("`tags`"), "{}", notes[0].message);
    }

    #[test]
    fn nesting_bombs_are_syntax_errors_even_on_a_small_stack() {
        // Scans parse on rayon workers (2 MiB stacks); hcl-edit stops at 64 levels.
        let bombs = [("[", "]"), ("{a = ", "}"), ("(", ")"), ("upper(", ")"), ("\"${", "}\""), ("!", "")];
        let errors = std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(move || {
                bombs
                    .iter()
                    .map(|(open, close)| {
                        let text = format!("locals {{\n  x = {}1{}\n}}\n", open.repeat(10_000), close.repeat(10_000));
                        let path: Arc<str> = "bomb.tf".into();
                        let arena = typed_arena::Arena::new();
                        parse_hcl(&path, &text, &arena, &mut Vec::new()).err().map(|d| d.to_string())
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap()
            .join()
            .expect("no stack overflow");
        for error in errors {
            let error = error.expect("refused");
            assert!(error.starts_with("bomb.tf:2:") && error.contains("at most 64 nested levels"), "{error}");
        }
    }
}

//! `modules.json`: where `terraform init` (or `tofu init`) put the modules a root module
//! calls. It lives in the root's data directory (`.terraform`, or `TF_DATA_DIR` taken relative
//! to the root, Terraform's working directory), under `modules/`:
//!
//! ```json
//! {"Modules":[{"Key":"","Source":"","Dir":"."},
//!   {"Key":"s3","Source":"registry.terraform.io/terraform-aws-modules/s3-bucket/aws","Version":"4.1.0","Dir":".terraform/modules/s3"},
//!   {"Key":"s3.inner","Source":"./modules/inner","Dir":".terraform/modules/s3/modules/inner"}]}
//! ```
//!
//! Keys are module call paths by name (`a.b` is call `b` inside call `a`). The file is input
//! like any other: an entry whose `Dir` leaves the modules directory (`../../etc`, `/etc`, a
//! symlink pointing out) or is its caller's own directory is refused with an error here.

use crate::input::display_path;
use crate::model::{Diagnostic, Node, Span, Value};
use crate::terraform::normalise;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What `terraform init` recorded for one module call.
#[derive(Clone, Debug)]
pub struct Entry {
    pub source: String,
    pub version: Option<String>,
    /// The module's directory, checked to be inside `modules_dir`; or why it was refused.
    pub dir: Result<PathBuf, String>,
    /// Where the entry is written in modules.json.
    span: Option<Span>,
}

/// The entries of one root's modules.json, by key.
#[derive(Default)]
pub struct Manifest {
    pub entries: HashMap<String, Entry>,
    /// The directory that holds modules.json: no recorded module lies outside it.
    pub modules_dir: PathBuf,
    /// modules.json as reports name it.
    pub shown: Arc<str>,
}

/// The modules.json of the root module in `root`, in its data directory `data_dir` (relative
/// to the root, as Terraform reads TF_DATA_DIR): empty when there is none (the root was
/// never initialised); what is wrong with it as error diagnostics at the file.
pub fn read(root: &Path, data_dir: &Path, base: &Path) -> (Manifest, Vec<Diagnostic>) {
    let modules_dir = normalise(&root.join(data_dir).join("modules"));
    let path = modules_dir.join("modules.json");
    let shown = display_path(&path, base);
    let mut manifest = Manifest { entries: HashMap::new(), modules_dir, shown: shown.clone() };
    if !path.is_file() {
        return (manifest, Vec::new());
    }
    let text = match crate::input::read_text(&path, &shown, "modules.json") {
        Ok(text) => text,
        Err(diagnostic) => return (manifest, vec![diagnostic]),
    };
    let records = match parse(&shown, &text) {
        Ok(records) => records,
        Err(diagnostic) => return (manifest, vec![diagnostic]),
    };
    let mut diagnostics = Vec::new();
    for record in records {
        match record {
            // The root's own entry, and local calls: followed from their `source`.
            Ok((key, _)) if key.is_empty() => {}
            Ok((_, entry)) if super::is_local(&entry.source) => {}
            Ok((key, mut entry)) => {
                entry.dir = entry.dir.and_then(|dir| manifest.checked_dir(root, &dir));
                if let Err(reason) = &entry.dir {
                    diagnostics.push(manifest.refusal(&key, &entry, reason));
                }
                manifest.entries.insert(key, entry);
            }
            Err(diagnostic) => diagnostics.push(diagnostic),
        }
    }
    diagnostics.extend(manifest.refuse_cycles());
    (manifest, diagnostics)
}

type Record = Result<(String, Entry), Diagnostic>;

/// The entries of the file, each with its position, or why the file is not a manifest.
fn parse(shown: &Arc<str>, text: &str) -> Result<Vec<Record>, Diagnostic> {
    let not_a_manifest = |span: Option<Span>| Diagnostic::error(shown.to_string(), span, "not a Terraform modules manifest: expected {\"Modules\": [...]}");
    let documents = crate::yaml::load(shown, text, &crate::yaml::Limits::default())?;
    let [document] = documents.as_slice() else { return Err(not_a_manifest(None)) };
    let Some(Node { value: Value::List(items), .. }) = document.root.get("Modules") else { return Err(not_a_manifest(Some(document.span.clone()))) };
    Ok(items.iter().map(|item| record(shown, item)).collect())
}

fn record(shown: &Arc<str>, item: &Node) -> Record {
    let field = |name: &str| item.get(name).and_then(Node::as_str).map(str::to_string);
    let error = |message: String| Diagnostic::error(shown.to_string(), item.span.clone(), message);
    let key = field("Key").ok_or_else(|| error("a modules.json entry without a Key".into()))?;
    let source = field("Source").unwrap_or_default();
    let dir = field("Dir").filter(|d| !d.is_empty()).ok_or_else(|| format!("module `{key}` has no Dir in modules.json"));
    let entry = Entry { source, version: field("Version"), dir: dir.map(PathBuf::from), span: item.span.clone() };
    Ok((key, entry))
}

impl Manifest {
    /// `dir` (relative to the root, or absolute) when it lies inside the modules directory,
    /// symlinks resolved.
    fn checked_dir(&self, root: &Path, dir: &Path) -> Result<PathBuf, String> {
        let joined = normalise(&root.join(dir));
        let shown = dir.display();
        if !joined.starts_with(&self.modules_dir) || joined == self.modules_dir {
            let modules_dir = self.shown.strip_suffix("/modules.json").unwrap_or(&self.shown);
            return Err(format!("Dir `{shown}` is outside the modules directory {modules_dir}"));
        }
        if let (Ok(real), Ok(real_modules)) = (std::fs::canonicalize(&joined), std::fs::canonicalize(&self.modules_dir)) {
            if !real.starts_with(&real_modules) {
                return Err(format!("Dir `{shown}` is a symbolic link out of the modules directory"));
            }
        }
        Ok(joined)
    }

    fn refusal(&self, key: &str, entry: &Entry, reason: &str) -> Diagnostic {
        let message = format!("module `{key}`: {reason}; the module is not evaluated");
        Diagnostic::error(self.shown.to_string(), entry.span.clone(), message)
    }

    /// Entries whose directory is one of their callers' (`a.b` in `a`'s directory): a module
    /// that contains itself. They are refused, each with an error.
    fn refuse_cycles(&mut self) -> Vec<Diagnostic> {
        let mut cycles = Vec::new();
        for (key, entry) in &self.entries {
            let Ok(dir) = &entry.dir else { continue };
            let mut caller = key.as_str();
            while let Some((parent, _)) = caller.rsplit_once('.') {
                caller = parent;
                if self.entries.get(caller).is_some_and(|e| e.dir.as_ref() == Ok(dir)) {
                    cycles.push((key.clone(), caller.to_string()));
                    break;
                }
            }
        }
        cycles.sort();
        let mut diagnostics = Vec::new();
        for (key, caller) in cycles {
            let reason = format!("its Dir is that of its caller `{caller}` (a module that contains itself)");
            if let Some(entry) = self.entries.get(&key) {
                diagnostics.push(self.refusal(&key, entry, &reason));
            }
            if let Some(entry) = self.entries.get_mut(&key) {
                entry.dir = Err(reason);
            }
        }
        diagnostics
    }
}

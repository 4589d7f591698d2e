//! The values of a root module's `output` blocks, as charterguard evaluates them.
//!
//! This is what the differential tests compare with Terraform's own evaluation
//! (`terraform show -json` of a plan: `planned_values.outputs`), see tests/terraform_diff.rs.

use super::module::{Call, Instance, ModuleDecls};
use super::{display_path, local_module_sources, normalise, parse_source, root_inputs, tf_files_in, Loader, Options};
use crate::model::{Model, Node, Value};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::Path;

/// Evaluates the root module in `dir` (its `terraform.tfvars` and `*.auto.tfvars` applied, local
/// modules followed) and returns every output by name, as JSON. A value charterguard cannot know
/// is `{"__unknown__": reason}`; a reference to a computed attribute is
/// `{"__ref__": "address.attribute"}`. Errors are the diagnostics that stopped reading the files.
pub fn evaluate_outputs(dir: &Path) -> Result<BTreeMap<String, serde_json::Value>, String> {
    let base = dir.to_path_buf();
    let options = Options::new(base.clone());
    let texts = typed_arena::Arena::new();
    let modules = typed_arena::Arena::new();
    let mut model = Model::default();
    let mut loaded: HashMap<std::path::PathBuf, &ModuleDecls> = HashMap::new();
    let root = normalise(dir);
    let mut queue = VecDeque::from([root.clone()]);
    while let Some(dir) = queue.pop_front() {
        if loaded.contains_key(&dir) {
            continue;
        }
        let mut parsed = Vec::new();
        for path in super::files::module_files(tf_files_in(&dir)).0 {
            let display = display_path(&path, &base);
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{display}: {e}"))?;
            parsed.push(parse_source(&display, text, &mut model.diagnostics).map_err(|d| d.to_string())?.into_file(&texts));
        }
        for source in local_module_sources(&parsed) {
            queue.push_back(normalise(&dir.join(source)));
        }
        let decls: &ModuleDecls = modules.alloc(ModuleDecls { dir: dir.clone(), files: parsed });
        loaded.insert(dir, decls);
    }
    let inputs = root_inputs(&root, &options, &mut model);
    if let Some(error) = model.diagnostics.iter().find(|d| d.level == crate::model::DiagnosticLevel::Error) {
        return Err(error.to_string());
    }
    let decls = loaded[&root];
    let loader = Loader { loaded, base: base.clone(), workspace: options.workspace.clone(), roots: options.roots.clone() };
    let loader = loader.for_root(&root);
    let instance = Instance::new(&loader, decls, Call::root(inputs));
    Ok(instance.outputs().into_iter().map(|(name, node)| (name, to_json(&node))).collect())
}

/// A value as JSON (numbers stay integers when they are).
pub fn to_json(node: &Node) -> serde_json::Value {
    use serde_json::json;
    match &node.value {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => json!(b),
        Value::Int(i) => json!(i),
        Value::Float(f) => json!(f),
        Value::Str(s) => json!(s),
        Value::List(items) => serde_json::Value::Array(items.iter().map(to_json).collect()),
        Value::Map(entries) => serde_json::Value::Object(entries.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
        Value::Unknown(reason) => json!({ "__unknown__": reason }),
        // Unknown as a whole, for the first unknown leaf's reason.
        Value::PartialJson(document) => to_json(document.first_unknown().unwrap_or(document)),
        Value::Ref { address, attribute } => json!({ "__ref__": format!("{address}.{attribute}") }),
    }
}

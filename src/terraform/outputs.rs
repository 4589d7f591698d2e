//! The values of a root module's `output` blocks, as charterguard evaluates them.
//!
//! This is what the differential tests compare with Terraform's own evaluation
//! (`terraform show -json` of a plan: `planned_values.outputs`), see tests/it/terraform_diff.rs.

use super::module::{Call, Instance};
use super::{normalise, root_inputs, Loader, Options, Parser};
use crate::model::{Model, Node, Value};
use std::collections::{BTreeMap, HashMap};

/// Evaluates the root module at `options.base` (its `terraform.tfvars` and `*.auto.tfvars` applied, local
/// modules and those `terraform init` installed followed) and returns every output by name, as JSON. A value charterguard cannot know
/// is `{"__unknown__": reason}`; a reference to a computed attribute is
/// `{"__ref__": "address.attribute"}`. Errors are the diagnostics that stopped reading the files.
pub fn evaluate_outputs(options: &Options) -> Result<BTreeMap<String, serde_json::Value>, String> {
    let base = options.base.clone();
    let texts = typed_arena::Arena::new();
    let modules = typed_arena::Arena::new();
    let files = BTreeMap::new();
    let mut parser = Parser { files: &files, options, cache: None, texts: &texts, modules: &modules, loaded: HashMap::new(), model: Model::default() };
    let root = normalise(&base);
    parser.parse_with_local_modules(vec![root.clone()]);
    let installed = HashMap::from([(root.clone(), parser.resolve_modules(&root))]);
    let Parser { loaded, mut model, .. } = parser;
    let inputs = root_inputs(&root, options, &[], &mut model);
    if let Some(error) = model.diagnostics.iter().find(|d| d.level == crate::model::DiagnosticLevel::Error) {
        return Err(error.to_string());
    }
    let decls = loaded.get(&root).copied().ok_or_else(|| format!("{} has no Terraform files", root.display()))?;
    let loader = Loader {
        loaded,
        installed,
        base: base.clone(),
        workspace: options.workspace.clone(),
        roots: Some(super::sandbox::Roots::new(&options.roots, &options.base, options.module_cache.as_deref())),
    };
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
        Value::PartialStr(parts) => {
            json!({ "__unknown__": node.unknown_reason().unwrap_or_default(), "__parts__": parts.iter().map(to_json).collect::<Vec<_>>() })
        }
        Value::Ref { address, attribute } => json!({ "__ref__": format!("{address}.{attribute}") }),
    }
}

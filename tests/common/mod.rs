//! Helpers shared by integration tests.
#![allow(dead_code)] // each test binary uses some of them

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Every file below `dir`, in path order.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).flatten().map(|e| e.path()).collect();
    entries.sort();
    let mut files = Vec::new();
    for path in entries {
        match path.is_dir() {
            true => files.extend(files_under(&path)),
            false => files.push(path),
        }
    }
    files
}

/// Copies every file below `from` to the same place below `to`.
pub fn copy_tree(from: &Path, to: &Path) {
    for file in files_under(from) {
        let target = to.join(file.strip_prefix(from).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&file, &target).unwrap();
    }
}

/// The official OASIS SARIF 2.1.0 schema (JSON Schema draft-04), kept in the repository so
/// validation never needs the network.
const SARIF_SCHEMA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/sarif/sarif-schema-2.1.0.json");

fn sarif_validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let text = std::fs::read_to_string(SARIF_SCHEMA).unwrap_or_else(|e| panic!("reading {SARIF_SCHEMA}: {e}"));
        let schema: serde_json::Value = serde_json::from_str(&text).expect("SARIF schema is JSON");
        assert_eq!(schema["$schema"], "http://json-schema.org/draft-04/schema#", "the validator below assumes the draft-04 schema");
        jsonschema::draft4::options().should_validate_formats(true).build(&schema).expect("SARIF schema compiles")
    })
}

/// Validates a SARIF document against the 2.1.0 schema, listing every error with its path.
pub fn validate_sarif(document: &serde_json::Value) -> Result<(), String> {
    let errors: Vec<String> = sarif_validator().iter_errors(document).map(|e| format!("{}: {}", e.instance_path(), e)).collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n"))
    }
}

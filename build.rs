//! Embeds the built-in rule files (`rules/*.yaml`) in the binary, so it runs anywhere
//! without the repository.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=rules");
    let dir = Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR")).join("rules");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| n.ends_with(".yaml")).collect())
        .unwrap_or_default();
    names.sort();
    let mut code = String::from("/// Built-in rule files: (file name, contents).\npub static BUILTIN_RULES: &[(&str, &str)] = &[\n");
    for name in names {
        let path = dir.join(&name);
        writeln!(code, "    ({name:?}, include_str!({:?})),", path.display().to_string()).expect("writing to a String");
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("builtin_rules.rs");
    std::fs::write(out, code).expect("OUT_DIR is writable");
}

//! Embeds the built-in rule files (`rules/*.yaml`) in the binary, so it runs anywhere
//! without the repository, and the git commit it was built from (`--version`).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

fn main() {
    embed_rules();
    let commit = std::env::var("CHARTERGUARD_COMMIT").ok().filter(|c| !c.is_empty()).or_else(git_commit).unwrap_or_else(|| "unknown".into());
    println!("cargo:rerun-if-env-changed=CHARTERGUARD_COMMIT");
    println!("cargo:rustc-env=CHARTERGUARD_COMMIT={}", commit.chars().take(12).collect::<String>());
}

/// The checkout's commit, read again when HEAD or the branch it names moves; `None` outside
/// a git checkout (a source archive, a container build, which pass CHARTERGUARD_COMMIT).
fn git_commit() -> Option<String> {
    let dir = std::env::var("CARGO_MANIFEST_DIR").ok()?;
    let git = |args: &[&str]| -> Option<String> {
        let output = Command::new("git").args(args).current_dir(&dir).output().ok().filter(|o| o.status.success())?;
        Some(String::from_utf8_lossy(&output.stdout).trim().to_string())
    };
    let commit = git(&["rev-parse", "HEAD"])?;
    let branch = git(&["symbolic-ref", "-q", "HEAD"]).unwrap_or_else(|| "HEAD".into());
    for watched in ["HEAD", branch.as_str(), "packed-refs"] {
        // A path that does not exist would rerun this script on every build.
        if let Some(path) = git(&["rev-parse", "--git-path", watched]).map(|p| Path::new(&dir).join(p)).filter(|p| p.exists()) {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    Some(commit)
}

fn embed_rules() {
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

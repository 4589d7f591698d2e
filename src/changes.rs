//! `--diff-base REF`: the lines a change wrote, as git says them, so a gate can report only
//! what a pull request touched (a second way to adopt it besides a baseline). The change is
//! the working tree against `git merge-base REF HEAD`: committed and uncommitted edits, and
//! untracked files (added whole). A renamed file with the same content wrote no line.

use crate::input::display_path;
use crate::model::Span;
use anyhow::{bail, Context as _, Result};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What a change wrote, and where it started from.
#[derive(Debug)]
pub struct Changes {
    /// `git merge-base REF HEAD`.
    pub merge_base: String,
    /// The repository's top directory.
    pub root: PathBuf,
    /// The line ranges the change wrote (1-based, inclusive), by file as reports name it.
    lines: HashMap<String, Vec<(u32, u32)>>,
}

impl Changes {
    /// The change from `reference` to the working tree of the repository holding `base`;
    /// files are named relative to `base`, as reports name them.
    pub fn since(reference: &str, base: &Path) -> Result<Changes> {
        if reference.starts_with('-') {
            bail!("--diff-base {reference}: a git reference may not start with `-`");
        }
        let root = PathBuf::from(git(base, &["rev-parse", "--show-toplevel"])?);
        let merge_base = git(base, &["merge-base", reference, "HEAD"]).with_context(|| format!("--diff-base {reference}: no common ancestor with HEAD"))?;
        let diff = git(&root, &["-c", "core.quotePath=false", "diff", "--no-color", "--no-ext-diff", "--find-renames", "--unified=0", &merge_base])?;
        let mut lines: HashMap<String, Vec<(u32, u32)>> = HashMap::new();
        for (file, range) in written(&diff) {
            lines.entry(display_path(&root.join(file), base).to_string()).or_default().push(range);
        }
        for file in git(&root, &["-c", "core.quotePath=false", "ls-files", "--others", "--exclude-standard"])?.lines() {
            lines.entry(display_path(&root.join(file), base).to_string()).or_default().push((1, u32::MAX));
        }
        Ok(Changes { merge_base, root, lines })
    }

    /// Whether the change wrote a line of `span`.
    pub fn touches(&self, span: &Span) -> bool {
        let Some(ranges) = self.lines.get(&*span.file) else { return false };
        let (start, end) = (span.start_line, span.end_line.max(span.start_line));
        ranges.iter().any(|&(first, last)| start <= last && first <= end)
    }

    /// The merge base's tracked files, written below `dir` as they are below the root.
    pub fn check_out_base(&self, dir: &Path) -> Result<()> {
        let archive = run_git(&self.root, &["archive", "--format=tar", &self.merge_base])?;
        tar::Archive::new(archive.as_slice()).unpack(dir).with_context(|| format!("unpacking {} into {}", self.merge_base, dir.display()))
    }
}

/// `git ARGS` in `dir`: its output as text, trimmed.
fn git(dir: &Path, args: &[&str]) -> Result<String> {
    Ok(String::from_utf8_lossy(&run_git(dir, args)?).trim().to_string())
}

/// `git ARGS` in `dir`: its output; its error output when it fails.
fn run_git(dir: &Path, args: &[&str]) -> Result<Vec<u8>> {
    let output = Command::new("git").args(args).current_dir(dir).output().context("running git (--diff-base needs it)")?;
    if !output.status.success() {
        bail!("git {}: {}", args.join(" "), String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(output.stdout)
}

/// The line ranges a unified diff with no context writes, by the new file's path.
fn written(diff: &str) -> Vec<(&str, (u32, u32))> {
    let mut file: Option<&str> = None;
    let mut out = Vec::new();
    for line in diff.lines() {
        if let Some(path) = line.strip_prefix("+++ ") {
            file = path.strip_prefix("b/");
        } else if let (Some(file), Some(hunk)) = (file, line.strip_prefix("@@ ")) {
            out.extend(new_lines(hunk).map(|range| (file, range)));
        }
    }
    out
}

/// `-a,b +c,d @@`: the new file's lines `c` to `c+d-1`; none when `d` is 0 (a deletion).
fn new_lines(hunk: &str) -> Option<(u32, u32)> {
    let added = hunk.split_whitespace().find_map(|part| part.strip_prefix('+'))?;
    let (start, count) = match added.split_once(',') {
        Some((start, count)) => (start.parse::<u32>().ok()?, count.parse::<u32>().ok()?),
        None => (added.parse::<u32>().ok()?, 1),
    };
    (count > 0).then(|| (start, start + count - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunks_give_the_lines_written_and_deletions_none() {
        let diff = "diff --git a/main.tf b/main.tf\n--- a/main.tf\n+++ b/main.tf\n@@ -3,0 +4,2 @@ x\n+a\n+b\n@@ -9 +11 @@\n-c\n+d\n@@ -20,3 +21,0 @@\n-e\n\
                    diff --git a/gone.tf b/gone.tf\n--- a/gone.tf\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-x\n-y\n";
        assert_eq!(written(diff), [("main.tf", (4, 5)), ("main.tf", (11, 11))]);
    }

    #[test]
    fn a_span_is_touched_when_a_written_line_falls_in_it() {
        let changes = Changes { merge_base: String::new(), root: PathBuf::new(), lines: HashMap::from([("main.tf".to_string(), vec![(4, 5)])]) };
        let span = |start, end| Span::new("main.tf".into(), start, 1, end, 1);
        assert!(changes.touches(&span(5, 9)) && changes.touches(&span(1, 4)) && changes.touches(&span(5, 0)));
        assert!(!changes.touches(&span(6, 9)) && !changes.touches(&span(1, 3)));
        assert!(!changes.touches(&Span::new("other.tf".into(), 4, 1, 4, 1)));
    }
}

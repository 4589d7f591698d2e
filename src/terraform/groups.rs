//! Splits the Terraform directories into groups that no local module call crosses, before
//! any is parsed, so that each group can be parsed, evaluated and dropped on its own.
//!
//! Calls are found in the text: every quoted string starting with `./` or `../` is taken for
//! a possible module source. That finds every real local call (whose `source` must be such a
//! plain quoted string, see `local_module_sources`) and also some strings that are not calls
//! (file paths), which can only make a group larger than it needs to be, never split a call.

use super::{normalise, tf_files_in};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// The given directories (keys of `dirs`, with their files) in groups, each in path order;
/// the groups ordered by their first directory.
pub fn split(dirs: &BTreeMap<PathBuf, Vec<PathBuf>>) -> Vec<BTreeSet<PathBuf>> {
    let calls = possible_calls(dirs);
    let mut sets = DisjointSets::new(calls.keys());
    for (caller, callees) in &calls {
        for callee in callees {
            sets.union(caller, callee);
        }
    }
    let mut groups: BTreeMap<usize, BTreeSet<PathBuf>> = BTreeMap::new();
    for dir in dirs.keys() {
        groups.entry(sets.find_dir(dir)).or_default().insert(dir.clone());
    }
    let mut groups: Vec<BTreeSet<PathBuf>> = groups.into_values().collect();
    groups.sort();
    groups
}

/// Every directory with Terraform files reachable from the given ones, with the directories
/// its text may call. Directories without Terraform files are left out: they are no module,
/// and two groups naming the same one (a shared `../scripts`) need not be joined.
fn possible_calls(dirs: &BTreeMap<PathBuf, Vec<PathBuf>>) -> BTreeMap<PathBuf, Vec<PathBuf>> {
    let mut calls: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
    let mut seen: BTreeSet<PathBuf> = dirs.keys().cloned().collect();
    let mut frontier: Vec<PathBuf> = dirs.keys().cloned().collect();
    while !frontier.is_empty() {
        let found: Vec<(PathBuf, Vec<PathBuf>, bool)> = frontier
            .into_par_iter()
            .map(|dir| {
                let files = dirs.get(&dir).cloned().unwrap_or_else(|| tf_files_in(&dir));
                let callees = files.iter().flat_map(|file| sources_in(&dir, file)).collect();
                (dir, callees, !files.is_empty())
            })
            .collect();
        frontier = Vec::new();
        for (dir, callees, has_files) in found {
            frontier.extend(callees.iter().filter(|c| seen.insert((*c).clone())).cloned());
            if has_files {
                calls.insert(dir, callees);
            }
        }
    }
    let modules: BTreeSet<PathBuf> = calls.keys().cloned().collect();
    calls.values_mut().for_each(|callees| callees.retain(|c| modules.contains(c)));
    calls
}

/// The directories the quoted `./` and `../` strings of one file name, relative to `dir`.
/// An unreadable file names none (parsing it reports the error).
fn sources_in(dir: &Path, file: &Path) -> Vec<PathBuf> {
    let Ok(bytes) = std::fs::read(file) else { return Vec::new() };
    let text = String::from_utf8_lossy(&bytes);
    let mut found = Vec::new();
    let mut rest = text.as_ref();
    while let Some(at) = rest.find("\".") {
        let string = &rest[at + 1..];
        let end = string.find('"').unwrap_or(string.len());
        if string.starts_with("./") || string.starts_with("../") {
            found.push(normalise(&dir.join(&string[..end])));
        }
        rest = &string[end..];
    }
    found
}

/// Union-find over directories.
struct DisjointSets {
    index: HashMap<PathBuf, usize>,
    parent: Vec<usize>,
}

impl DisjointSets {
    fn new<'a>(dirs: impl Iterator<Item = &'a PathBuf>) -> Self {
        let index: HashMap<PathBuf, usize> = dirs.enumerate().map(|(i, d)| (d.clone(), i)).collect();
        let parent = (0..index.len()).collect();
        DisjointSets { index, parent }
    }

    fn find(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    /// The set of a directory; one not seen is alone in its own set (numbered after all others).
    fn find_dir(&mut self, dir: &Path) -> usize {
        match self.index.get(dir) {
            Some(&i) => self.find(i),
            None => {
                let i = self.parent.len();
                self.parent.push(i);
                self.index.insert(dir.to_path_buf(), i);
                i
            }
        }
    }

    fn union(&mut self, a: &Path, b: &Path) {
        let (a, b) = (self.find_dir(a), self.find_dir(b));
        self.parent[a.max(b)] = a.min(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_join_directories_and_other_strings_only_widen_groups() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            path
        };
        let a = write("a/main.tf", "module \"m\" {\n  source = \"../modules/m\"\n}\n");
        let b = write("b/main.tf", "resource \"x\" \"y\" {\n  filename = \"../scripts/run.sh\"\n}\n");
        let c = write("c/main.tf", "module \"n\" {\n  source = \"../modules/n\"\n}\n");
        write("modules/m/main.tf", "module \"n\" {\n  source = \"../n\"\n}\n");
        write("modules/n/main.tf", "");
        let mut dirs = BTreeMap::new();
        for file in [a, b, c] {
            dirs.insert(normalise(file.parent().unwrap()), vec![file]);
        }
        let groups = split(&dirs);
        let names: Vec<Vec<String>> = groups.iter().map(|g| g.iter().map(|d| d.file_name().unwrap().to_string_lossy().to_string()).collect()).collect();
        assert_eq!(names, [vec!["a", "c"], vec!["b"]]);
    }
}

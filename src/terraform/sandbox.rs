//! Where Terraform's file functions (`file`, `templatefile`, `fileset`, `filebase64`, ...) may
//! read. Relative paths resolve against the root module's directory, Terraform's working
//! directory; a path that leaves the scanned roots (`/etc/passwd`, `../../x`, or a symlink
//! pointing out) is refused with an error diagnostic at the call, never read: a scanned
//! repository must not be able to pull the scanning machine's files into a report.

use crate::model::{Diagnostic, Span};
use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Files bigger than this are not read by file functions (Terraform itself holds them in
/// memory; a scan should not).
pub const MAX_READ: u64 = 16 * 1024 * 1024;

/// The directories a scan's file functions may read, and the base paths are shown relative
/// to, canonical (symlinks resolved). Made once per scan: canonicalising costs a system call
/// per path component.
#[derive(Default)]
pub struct Roots {
    roots: Vec<PathBuf>,
    base: PathBuf,
    module_cache: Option<PathBuf>,
}

impl Roots {
    pub fn new(roots: &[PathBuf], base: &Path, module_cache: Option<&Path>) -> Arc<Roots> {
        let roots = roots.iter().filter_map(|root| canonical_dir(root)).collect();
        // Canonical, as the files read are: they are named relative to these, as reports name files.
        let canonical = |path: &Path| std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        Arc::new(Roots { roots, base: canonical(base), module_cache: module_cache.map(canonical) })
    }

    /// A file read as reports name it.
    fn shown(&self, path: &Path) -> Arc<str> {
        super::shown_path(path, &self.base, self.module_cache.as_deref())
    }
}

/// The file access of one root module's evaluation.
pub struct Sandbox {
    /// Terraform's working directory: the root module's directory, as scanned.
    cwd: PathBuf,
    roots: Arc<Roots>,
    /// `path.module` of each module directory asked for, and the canonical working directory.
    module_paths: RefCell<HashMap<PathBuf, String>>,
    canonical_cwd: OnceCell<Option<PathBuf>>,
    /// Refused reads, reported once each as error diagnostics.
    refused: RefCell<Vec<Diagnostic>>,
}

impl Sandbox {
    /// Reads from `cwd` (the root module's directory), inside `roots` only.
    pub fn new(cwd: &Path, roots: Arc<Roots>) -> Self {
        Sandbox { cwd: cwd.to_path_buf(), roots, module_paths: RefCell::default(), canonical_cwd: OnceCell::new(), refused: RefCell::default() }
    }

    /// A sandbox that reads nothing (a file evaluated in memory).
    pub fn closed() -> Self {
        Sandbox::new(Path::new("."), Arc::default())
    }

    /// The working directory relative paths resolve against.
    pub fn cwd(&self) -> &Path {
        &self.cwd
    }

    /// `path.cwd`: the working directory, absolute.
    pub fn absolute_cwd(&self) -> String {
        self.canonical().map_or_else(|| ".".into(), |p| p.to_string_lossy().to_string())
    }

    fn canonical(&self) -> Option<&PathBuf> {
        self.canonical_cwd.get_or_init(|| std::fs::canonicalize(&self.cwd).ok()).as_ref()
    }

    /// `path.module` for a module directory: its path relative to the working directory, as
    /// Terraform gives it (`.` for the root, `modules/lake`, `../../modules/lake`).
    pub fn module_path(&self, dir: &Path) -> String {
        if super::normalise(dir) == super::normalise(&self.cwd) {
            return ".".into();
        }
        if let Some(known) = self.module_paths.borrow().get(dir) {
            return known.clone();
        }
        let path = match (self.canonical(), std::fs::canonicalize(dir)) {
            (Some(from), Ok(to)) => relative_path(from, &to),
            _ => crate::input::display_path(dir, &self.roots.base).to_string(),
        };
        self.module_paths.borrow_mut().insert(dir.to_path_buf(), path.clone());
        path
    }

    /// The file `path` names (relative to the working directory), if it stays inside the
    /// roots. `Err` says why not; the caller turns it into an error value, and the refusal is
    /// reported at `span` (see [`Sandbox::take_refused`]).
    pub fn resolve(&self, path: &str, span: &Option<Span>) -> Result<PathBuf, String> {
        let joined = self.cwd.join(path);
        // Canonical form of what exists: a symlink is judged by where it points.
        let resolved = canonical_existing(&joined);
        if self.roots.roots.iter().any(|root| resolved.starts_with(root)) {
            return Ok(resolved);
        }
        let reason = format!("{path} is outside the scanned directories; file functions read only inside them (scan a directory that holds it)");
        self.refuse(span, &reason);
        Err(reason)
    }

    /// The bytes of the file `path` names (see [`Sandbox::resolve`]).
    pub fn read(&self, path: &str, span: &Option<Span>) -> Result<Vec<u8>, String> {
        self.read_shown(path, span).map(|(bytes, _)| bytes)
    }

    /// [`Sandbox::read`], with the file's path as reports show it (relative to the scan's base).
    pub fn read_shown(&self, path: &str, span: &Option<Span>) -> Result<(Vec<u8>, Arc<str>), String> {
        let resolved = self.resolve(path, span)?;
        let size = std::fs::metadata(&resolved).map_err(|e| format!("cannot read {path}: {}", no_os_code(&e)))?.len();
        if size > MAX_READ {
            return Err(format!("{path} is {size} bytes, over the {MAX_READ}-byte limit for file functions"));
        }
        let bytes = std::fs::read(&resolved).map_err(|e| format!("cannot read {path}: {}", no_os_code(&e)))?;
        Ok((bytes, self.roots.shown(&resolved)))
    }

    fn refuse(&self, span: &Option<Span>, reason: &str) {
        let file = span.as_ref().map_or_else(String::new, |s| s.file.to_string());
        let diagnostic = Diagnostic::error(file, span.clone(), reason);
        let mut refused = self.refused.borrow_mut();
        if !refused.contains(&diagnostic) {
            refused.push(diagnostic);
        }
    }

    /// The reads refused so far, as error diagnostics (each once).
    pub fn take_refused(&self) -> Vec<Diagnostic> {
        std::mem::take(&mut self.refused.borrow_mut())
    }
}

/// The I/O error without its "(os error N)" suffix, as Terraform prints it.
/// An I/O failure in words for the reader (not the operating system's error text).
fn no_os_code(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "it does not exist".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        std::io::ErrorKind::IsADirectory => "it is a directory".to_string(),
        _ => {
            let text = error.to_string();
            text.find(" (os error").map_or(text.clone(), |at| text[..at].to_string())
        }
    }
}

fn canonical_dir(path: &Path) -> Option<PathBuf> {
    let canonical = std::fs::canonicalize(path).ok()?;
    if canonical.is_dir() {
        Some(canonical)
    } else {
        canonical.parent().map(Path::to_path_buf)
    }
}

/// The canonical form of the longest existing prefix of `path`, with the rest (normalised)
/// appended: a file that does not exist yet is still judged by the directory it would be in.
fn canonical_existing(path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() { path.to_path_buf() } else { std::env::current_dir().unwrap_or_default().join(path) };
    let absolute = super::normalise(&absolute);
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(canonical) = std::fs::canonicalize(existing) {
            let mut out = canonical;
            out.extend(rest.iter().rev());
            return out;
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return absolute,
        }
    }
}

/// `to` relative to `from`, both canonical absolute directories.
fn relative_path(from: &Path, to: &Path) -> String {
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = std::iter::repeat_n("..".to_string(), from.len() - common).collect();
    parts.extend(to[common..].iter().map(|c| c.as_os_str().to_string_lossy().to_string()));
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_stay_inside_the_roots() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(repo.join("envs/prod")).unwrap();
        std::fs::create_dir_all(repo.join("data")).unwrap();
        std::fs::write(repo.join("data/d.yaml"), "a: 1\n").unwrap();
        std::fs::write(dir.path().join("secret"), "s3cr3t").unwrap();
        let sandbox = Sandbox::new(&repo.join("envs/prod"), Roots::new(std::slice::from_ref(&repo), &repo, None));
        assert_eq!(sandbox.read("../../data/d.yaml", &None).unwrap(), b"a: 1\n");
        assert_eq!(&*sandbox.read_shown("../../data/d.yaml", &None).unwrap().1, "data/d.yaml");
        let span = Some(Span::new("envs/prod/main.tf".into(), 3, 10, 3, 30));
        let refused = sandbox.read("../../../secret", &span).unwrap_err();
        assert!(refused.contains("outside the scanned directories"), "{refused}");
        assert!(sandbox.read("/etc/passwd", &span).is_err());
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("secret"), repo.join("data/link")).unwrap();
            assert!(sandbox.read("../../data/link", &span).is_err(), "a symlink out of the roots is not followed");
        }
        let errors = sandbox.take_refused();
        assert!(errors.iter().all(|d| d.is_error() && d.span == span), "{errors:?}");
        assert!(errors.iter().all(|d| !d.message.contains("s3cr3t")));
        assert!(sandbox.read("../../data/missing.yaml", &None).unwrap_err().starts_with("cannot read"));
    }

    #[test]
    fn module_paths_are_relative_to_the_root_module() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("envs/prod")).unwrap();
        std::fs::create_dir_all(dir.path().join("modules/lake")).unwrap();
        let sandbox = Sandbox::new(&dir.path().join("envs/prod"), Roots::new(&[dir.path().to_path_buf()], dir.path(), None));
        assert_eq!(sandbox.module_path(&dir.path().join("envs/prod")), ".");
        assert_eq!(sandbox.module_path(&dir.path().join("modules/lake")), "../../modules/lake");
    }
}

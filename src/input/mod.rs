//! Finding the inputs: walks the paths given (respecting `.gitignore`, refusing symlink
//! loops), and decides from each file's name and content which source reads it.

use crate::model::Diagnostic;
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Files larger than this are skipped with a note (generated bundles, binaries).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;

/// How the walk treats what it finds.
#[derive(Clone, Debug)]
pub struct Walk {
    /// Files larger than this are skipped with a note.
    pub max_file_size: u64,
    /// Terraform's data directory, relative to a root module: installed modules are read only
    /// through a root's modules.json (see `terraform::modules`), never as code of their own.
    pub tf_data_dir: PathBuf,
}

impl Default for Walk {
    fn default() -> Self {
        Walk { max_file_size: DEFAULT_MAX_FILE_SIZE, tf_data_dir: PathBuf::from(TF_DATA_DIR) }
    }
}

/// Terraform's data directory when `TF_DATA_DIR` does not name another.
pub const TF_DATA_DIR: &str = ".terraform";

/// The process's `TF_DATA_DIR`, read once by whoever builds a scan's options, so the library
/// never reads it behind its caller's back.
pub fn tf_data_dir_of_process() -> PathBuf {
    std::env::var_os("TF_DATA_DIR").filter(|d| !d.is_empty()).map_or_else(|| PathBuf::from(TF_DATA_DIR), PathBuf::from)
}

/// The inputs of one scan, by source.
#[derive(Default, Debug)]
pub struct Inputs {
    /// `.tf` and `.tf.json` files; their directories are Terraform modules.
    pub terraform: Vec<PathBuf>,
    /// YAML and JSON files that may hold Kubernetes objects.
    pub manifests: Vec<PathBuf>,
    /// Helm chart directories (a subchart inside a chart's `charts/` is part of its parent).
    pub charts: Vec<PathBuf>,
    /// Directories holding a kustomization file.
    pub kustomizations: Vec<PathBuf>,
    /// Files not read, and why (notes), and paths that could not be walked (errors).
    pub diagnostics: Vec<Diagnostic>,
}

/// The endings of Terraform and OpenTofu configuration files.
pub const CONFIGURATION: [&str; 4] = [".tf", ".tf.json", ".tofu", ".tofu.json"];

/// Whether a file name is a Terraform or OpenTofu configuration file.
pub fn is_configuration(name: &str) -> bool {
    CONFIGURATION.iter().any(|ending| name.ends_with(ending))
}

/// The names kustomize reads a kustomization from, in its order of preference.
pub const KUSTOMIZATION_FILE_NAMES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// The path as reports show it: relative to the base directory, with forward slashes.
pub fn display_path(path: &Path, base: &Path) -> Arc<str> {
    let relative = path.strip_prefix(base).unwrap_or(path);
    let text = relative.to_string_lossy().replace('\\', "/");
    let text = text.strip_prefix("./").unwrap_or(&text).to_string();
    if text.is_empty() {
        ".".into()
    } else {
        text.into()
    }
}

/// The directories holding `paths` (a directory stands for itself), each once and none inside
/// another: what `scan --parent-dirs` scans for the changed files a pre-commit hook is given,
/// so a Terraform module or a chart is judged whole.
pub fn parent_dirs(paths: &[PathBuf]) -> Vec<PathBuf> {
    // `./infra` is `infra`, and `.` holds every relative path.
    let plain = |path: &Path| -> PathBuf { path.components().filter(|c| *c != std::path::Component::CurDir).collect() };
    let mut dirs: Vec<PathBuf> = paths
        .iter()
        .map(|path| match path.is_dir() {
            true => plain(path),
            false => path.parent().map(plain).unwrap_or_default(),
        })
        .collect();
    dirs.sort();
    dirs.dedup();
    let inside = |dir: &PathBuf, other: &PathBuf| dir != other && (other.as_os_str().is_empty() && dir.is_relative() || dir.starts_with(other));
    let outermost = dirs.iter().filter(|dir| !dirs.iter().any(|other| inside(dir, other)));
    outermost.map(|dir| if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir.clone() }).collect()
}

/// Walks `paths` (files or directories). Paths in diagnostics are shown relative to `base`.
/// The walk is serial (its order is the report's); what each file is, which takes a `stat`
/// and a read of its first bytes, is decided in parallel.
pub fn discover(paths: &[PathBuf], base: &Path, walk: &Walk) -> Inputs {
    let mut inputs = Inputs::default();
    let mut charts = Charts::default();
    let mut candidates: Vec<(PathBuf, bool)> = Vec::new();
    for root in paths {
        for entry in walker(root, &walk.tf_data_dir) {
            let entry = match entry {
                Ok(entry) => entry,
                Err(error) => {
                    inputs.diagnostics.push(walk_error(&error, base));
                    continue;
                }
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                continue;
            }
            let explicit = entry.depth() == 0;
            if is_kustomization_file(entry.path()) {
                inputs.kustomizations.extend(entry.path().parent().map(Path::to_path_buf));
                continue;
            }
            if !charts.is_template(entry.path()) {
                candidates.push((entry.into_path(), explicit));
            }
        }
    }
    inputs.charts = charts.found;
    let kinds: Vec<Option<Kind>> = candidates.par_iter().map(|(path, explicit)| classify(path, *explicit, base, walk.max_file_size)).collect();
    for ((path, _), kind) in candidates.into_iter().zip(kinds) {
        match kind {
            Some(Kind::Terraform) => inputs.terraform.push(path),
            Some(Kind::Manifest) => inputs.manifests.push(path),
            Some(Kind::Skipped(note)) => inputs.diagnostics.push(note),
            None => {}
        }
    }
    inputs
}

fn walker(root: &Path, tf_data_dir: &Path) -> ignore::Walk {
    // `.terraform`, and the data directory a relative TF_DATA_DIR names.
    let data_dir = Some(tf_data_dir).filter(|d| d.is_relative()).and_then(|d| d.file_name().map(|n| n.to_os_string()));
    ignore::WalkBuilder::new(root)
        .follow_links(true)
        .hidden(false)
        .git_ignore(true)
        .git_global(false)
        .git_exclude(false)
        .require_git(false)
        .filter_entry(move |entry| entry.file_name() != ".git" && entry.file_name() != ".terraform" && Some(entry.file_name()) != data_dir.as_deref())
        .sort_by_file_name(|a, b| a.cmp(b))
        .build()
}

fn walk_error(error: &ignore::Error, base: &Path) -> Diagnostic {
    let message = error.to_string();
    let path = walk_error_path(error).map(|p| crate::input::display_path(p, base).to_string()).unwrap_or_default();
    if message.contains("loop") {
        Diagnostic::note(path, None, format!("symbolic link loop not followed: {message}"))
    } else {
        Diagnostic::error(path, None, format!("cannot read: {message}"))
    }
}

fn walk_error_path(error: &ignore::Error) -> Option<&Path> {
    match error {
        ignore::Error::WithPath { path, .. } => Some(path),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => walk_error_path(err),
        ignore::Error::Loop { child, .. } => Some(child),
        _ => None,
    }
}

/// The Helm charts met in the walk: which directory is in which chart (asked once per
/// directory, not once per file and ancestor), and the charts found, in walk order.
#[derive(Default)]
struct Charts {
    chart_of_dir: HashMap<PathBuf, Option<PathBuf>>,
    found: Vec<PathBuf>,
    seen: HashSet<PathBuf>,
}

impl Charts {
    /// Whether `path` is a Go template of a Helm chart: anything under a chart's `templates/`
    /// folder, or a file elsewhere in the chart that holds `{{`. Templates are judged through
    /// their chart's render; the chart is recorded here.
    fn is_template(&mut self, path: &Path) -> bool {
        let Some(chart) = path.parent().and_then(|dir| self.chart_of(dir)) else { return false };
        self.record(&chart);
        let in_templates = path.strip_prefix(&chart).ok().and_then(|p| p.components().next()).is_some_and(|c| c.as_os_str() == "templates");
        in_templates || std::fs::read_to_string(path).is_ok_and(|text| text.contains("{{"))
    }

    /// Records the chart `chart` belongs to: its own, or for a subchart (`PARENT/charts/sub`)
    /// the parent's, which renders it.
    fn record(&mut self, chart: &Path) {
        let mut top = chart.to_path_buf();
        while let Some(parent) = top.parent().filter(|p| p.file_name().is_some_and(|n| n == "charts")).and_then(Path::parent) {
            if !parent.join("Chart.yaml").is_file() {
                break;
            }
            top = parent.to_path_buf();
        }
        if self.seen.insert(top.clone()) {
            self.found.push(top);
        }
    }

    /// The nearest directory from `dir` up that holds a `Chart.yaml`.
    fn chart_of(&mut self, dir: &Path) -> Option<PathBuf> {
        if let Some(known) = self.chart_of_dir.get(dir) {
            return known.clone();
        }
        let chart = if dir.join("Chart.yaml").is_file() { Some(dir.to_path_buf()) } else { dir.parent().and_then(|parent| self.chart_of(parent)) };
        self.chart_of_dir.insert(dir.to_path_buf(), chart.clone());
        chart
    }
}

/// A kustomization is judged by what it renders, never as a manifest itself.
fn is_kustomization_file(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|name| KUSTOMIZATION_FILE_NAMES.contains(&name))
}

/// Which source reads a file, or why none does.
enum Kind {
    Terraform,
    Manifest,
    Skipped(Diagnostic),
}

/// `None` for files no source reads (tfvars are read with their module's directory).
fn classify(path: &Path, explicit: bool, base: &Path, max_file_size: u64) -> Option<Kind> {
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    let is_terraform = is_configuration(&name);
    let is_manifest = [".yaml", ".yml", ".json"].iter().any(|ext| name.ends_with(ext));
    if name.ends_with(".tfvars") || name.ends_with(".tfvars.json") || !(is_terraform || is_manifest || explicit) {
        return None;
    }
    let shown = || crate::input::display_path(path, base).to_string();
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if size > max_file_size {
        return Some(Kind::Skipped(Diagnostic::note(shown(), None, format!("skipped: {size} bytes is over the {max_file_size}-byte limit (--max-file-size)"))));
    }
    if looks_binary(path) {
        return Some(Kind::Skipped(Diagnostic::note(shown(), None, "skipped: binary file")));
    }
    Some(if is_terraform { Kind::Terraform } else { Kind::Manifest })
}

/// Reads a discovered file as text. A file that vanished since the walk, bytes that are not
/// UTF-8, or a NUL byte past the first 8 KiB (which [`looks_binary`] checks) are errors
/// naming the file, and the line and column where they can.
pub fn read_text(path: &Path, shown: &str, kind: &str) -> Result<String, Diagnostic> {
    let bytes = std::fs::read(path).map_err(|error| Diagnostic::error(shown.to_string(), None, format!("cannot read: {error}")))?;
    let at = |offset: usize, bytes: &[u8]| {
        let before = &bytes[..offset];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&before[line_start..]).chars().count() + 1;
        let span = crate::model::Span::new(shown.into(), line as u32, column as u32, line as u32, column as u32);
        Some(span)
    };
    let text = String::from_utf8(bytes).map_err(|error| {
        let offset = error.utf8_error().valid_up_to();
        Diagnostic::error(shown.to_string(), at(offset, error.as_bytes()), format!("not UTF-8 text; {kind} files must be UTF-8"))
    })?;
    if let Some(offset) = text.find('\0') {
        return Err(Diagnostic::error(shown.to_string(), at(offset, text.as_bytes()), "NUL byte in the text: a binary file, not scanned"));
    }
    Ok(text)
}

/// A NUL byte in the first 8 KiB marks a binary file, as git decides.
fn looks_binary(path: &Path) -> bool {
    use std::io::Read;
    let mut buffer = [0u8; 8192];
    let read = std::fs::File::open(path).and_then(|mut f| f.read(&mut buffer)).unwrap_or(0);
    buffer[..read].contains(&0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_dirs_are_the_outermost_directories_of_the_files() {
        let root = tempfile::tempdir().unwrap();
        let dir = |p: &str| {
            std::fs::create_dir_all(root.path().join(p)).unwrap();
            root.path().join(p)
        };
        let (infra, module, apps) = (dir("infra"), dir("infra/modules/s3"), dir("apps"));
        let files = vec![infra.join("main.tf"), module.join("main.tf"), apps.join("web.yaml"), apps.join("api.yaml")];
        assert_eq!(parent_dirs(&files), [apps, infra]);
        let relative = ["./infra/main.tf", "infra/modules/s3/main.tf", "main.tf"].map(PathBuf::from);
        assert_eq!(parent_dirs(&relative[..2]), [PathBuf::from("infra")]);
        assert_eq!(parent_dirs(&relative), [PathBuf::from(".")], "the top directory holds the others");
        assert_eq!(parent_dirs(std::slice::from_ref(&module)), [module], "a directory stands for itself");
    }

    #[test]
    fn sorts_inputs_and_notes_skips() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("main.tf"), "locals {}\n").unwrap();
        std::fs::write(root.join("app.yaml"), "kind: Pod\n").unwrap();
        std::fs::write(root.join("prod.tfvars"), "a = 1\n").unwrap();
        std::fs::write(root.join("blob.json"), b"{\0}").unwrap();
        std::fs::write(root.join("README.md"), "# hi\n").unwrap();
        std::fs::create_dir_all(root.join("chart/templates")).unwrap();
        std::fs::write(root.join("chart/Chart.yaml"), "name: c\n").unwrap();
        std::fs::write(root.join("chart/templates/d.yaml"), "{{ .Values.x }}\n").unwrap();
        std::fs::create_dir_all(root.join("chart/charts/sub/templates")).unwrap();
        std::fs::write(root.join("chart/charts/sub/Chart.yaml"), "name: sub\n").unwrap();
        std::fs::write(root.join("chart/charts/sub/templates/s.yaml"), "kind: Pod\n").unwrap();
        std::fs::create_dir_all(root.join("overlay")).unwrap();
        std::fs::write(root.join("overlay/kustomization.yaml"), "resources: [../app.yaml]\n").unwrap();
        std::fs::write(root.join(".gitignore"), "ignored.yaml\n").unwrap();
        std::fs::write(root.join("ignored.yaml"), "kind: Pod\n").unwrap();
        let inputs = discover(&[root.to_path_buf()], root, &Walk::default());
        assert_eq!(inputs.terraform, vec![root.join("main.tf")]);
        // Templates are judged through their chart's render, a subchart through its parent's,
        // a kustomization through its own render.
        assert_eq!(inputs.manifests, vec![root.join("app.yaml"), root.join("chart/Chart.yaml"), root.join("chart/charts/sub/Chart.yaml")]);
        assert_eq!(inputs.charts, vec![root.join("chart")]);
        assert_eq!(inputs.kustomizations, vec![root.join("overlay")]);
        let notes: Vec<String> = inputs.diagnostics.iter().map(|d| d.to_string()).collect();
        assert!(notes.iter().any(|n| n.starts_with("blob.json: skipped: binary")), "{notes:?}");
    }

    #[test]
    fn unreadable_text_is_an_error_with_its_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.yaml");
        std::fs::write(&path, b"a: 1\nb: \"\xc3\xa9\xff\"\n").unwrap();
        let error = read_text(&path, "x.yaml", "YAML").unwrap_err();
        assert_eq!(error.to_string(), "x.yaml:2:6: not UTF-8 text; YAML files must be UTF-8");
        std::fs::write(&path, b"a: 1\nb: \"x\0\"\n").unwrap();
        let error = read_text(&path, "x.yaml", "YAML").unwrap_err();
        assert_eq!(error.to_string(), "x.yaml:2:6: NUL byte in the text: a binary file, not scanned");
        let error = read_text(&dir.path().join("gone.yaml"), "gone.yaml", "YAML").unwrap_err();
        assert!(error.to_string().starts_with("gone.yaml: cannot read: "), "{error}");
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loops_are_noted_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("a")).unwrap();
        std::os::unix::fs::symlink(dir.path(), dir.path().join("a/loop")).unwrap();
        std::fs::write(dir.path().join("a/x.tf"), "locals {}\n").unwrap();
        let inputs = discover(&[dir.path().to_path_buf()], dir.path(), &Walk::default());
        assert_eq!(inputs.terraform.len(), 1);
        assert!(inputs.diagnostics.iter().any(|d| d.message.contains("loop")));
    }
}

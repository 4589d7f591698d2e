//! `--download-modules`: module packages fetched into a cache, keyed by source and version,
//! and reused by later runs. Registry modules go through the registry protocol (see
//! [`super::registry`]); the package address it answers with, or a call's own source, is a
//! go-getter address of one of two kinds:
//!
//! - `git::URL[//SUBDIR][?ref=REF]` (and the `github.com/ORG/REPO` shorthand), cloned with the
//!   `git` command, hooks off, then the `.git` folder removed;
//! - an HTTPS archive (`.tar.gz`, `.tgz`, `.tar`, `.zip`, or `?archive=` saying which),
//!   extracted safely: no absolute or `..` entries, no link pointing up or out, size limits.
//!
//! Nothing from a package is ever executed. A registry module already in the cache in a
//! version the call accepts is used without asking the registry, as `terraform init` keeps an
//! installed module that still meets the constraint (delete the cache to look again).

use super::http::{Client, MAX_ARCHIVE};
use super::registry::{Address, Registries};
use super::version::Constraints;
use crate::terraform::normalise;
use sha2::Digest as _;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Everything a package extracts to, and its number of entries.
const MAX_EXTRACTED: u64 = 1024 * 1024 * 1024;
const MAX_ENTRIES: usize = 100_000;

/// What a complete cache entry holds besides the package: written last, so an entry without
/// it is a download that did not finish.
const ENTRY_FILE: &str = ".charterguard-module.json";

/// The environment variable that moves the cache.
pub const CACHE_VARIABLE: &str = "CHARTERGUARD_MODULE_CACHE";

/// Where modules are cached unless `--module-cache` or `CHARTERGUARD_MODULE_CACHE` says
/// otherwise: the user's cache directory (`$XDG_CACHE_HOME` or `~/.cache` on Linux,
/// `~/Library/Caches` on macOS, `%LOCALAPPDATA%` on Windows), `charterguard/modules` in it.
pub fn default_cache_dir() -> Option<PathBuf> {
    let env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = env(CACHE_VARIABLE) {
        return Some(dir);
    }
    let user_cache = if cfg!(windows) {
        env("LOCALAPPDATA")
    } else if cfg!(target_os = "macos") {
        env("HOME").map(|home| home.join("Library/Caches"))
    } else {
        env("XDG_CACHE_HOME").or_else(|| env("HOME").map(|home| home.join(".cache")))
    };
    user_cache.map(|dir| dir.join("charterguard/modules"))
}

/// A module fetched: its directory, and the package around it (its local calls stay inside).
pub struct Fetched {
    pub dir: PathBuf,
    pub package: PathBuf,
}

/// The module cache of one scan.
pub struct Cache {
    dir: PathBuf,
    /// The PEM roots to trust instead of Mozilla's (`SSL_CERT_FILE`).
    ssl_cert_file: Option<PathBuf>,
    client: OnceLock<Result<Client, String>>,
    registries: Registries,
}

impl Cache {
    pub fn new(dir: PathBuf, ssl_cert_file: Option<PathBuf>) -> Cache {
        Cache { dir, ssl_cert_file, client: OnceLock::new(), registries: Registries::default() }
    }

    /// The module a call with this `source` and `version` names, from the cache or fetched.
    pub fn fetch(&self, source: &str, version: Option<&str>) -> Result<Fetched, String> {
        match (Address::parse(source), version) {
            (Some(address), _) => self.fetch_registry(&address, version),
            (None, Some(_)) => Err("a `version` argument is only for registry modules (use `?ref=` in a git source)".into()),
            (None, None) => self.fetch_remote(source),
        }
    }

    /// The client, made on first use: a scan whose modules are all cached makes none.
    fn client(&self) -> Result<&Client, String> {
        self.client.get_or_init(|| Client::new(self.ssl_cert_file.as_deref())).as_ref().map_err(Clone::clone)
    }

    fn fetch_registry(&self, address: &Address, version: Option<&str>) -> Result<Fetched, String> {
        let constraints = version.map(Constraints::parse).transpose()?.unwrap_or_default();
        let versions_dir = self.dir.join("registry").join(address.host.replace(':', "_")).join(&address.namespace).join(&address.name).join(&address.provider);
        let entry = match cached_version(&versions_dir, &constraints) {
            Some(entry) => entry,
            None => {
                let located = self.registries.locate(self.client()?, address, &constraints)?;
                let entry = versions_dir.join(&located.version);
                let package = Package::parse(&located.location)?.named_by_registry()?;
                self.install(&entry, &package, &package.subdir)?;
                entry
            }
        };
        let recorded = EntryFile::read(&entry)?;
        module_in(&entry, &recorded.subdir, &address.subdir)
    }

    fn fetch_remote(&self, source: &str) -> Result<Fetched, String> {
        let package = Package::parse(source)?;
        let digest = sha2::Sha256::digest(package.key().as_bytes());
        let entry = self.dir.join("remote").join(digest[..12].iter().map(|b| format!("{b:02x}")).collect::<String>());
        if !entry.join(ENTRY_FILE).is_file() {
            self.install(&entry, &package, "")?;
        }
        module_in(&entry, "", &package.subdir)
    }

    /// Fetches `package` into a temporary directory of the cache, then moves it to `entry`.
    fn install(&self, entry: &Path, package: &Package, subdir: &str) -> Result<(), String> {
        let temp = TempDir::new(&self.dir.join("tmp"))?;
        let dest = temp.0.join("package");
        match &package.kind {
            Kind::Git { reference } => git_clone(&package.url, reference.as_deref(), &dest)?,
            Kind::Archive(format) => {
                let bytes = self.client()?.get(&package.url, MAX_ARCHIVE)?.body;
                package.verify(&bytes)?;
                extract(&bytes, *format, &dest)?;
            }
        }
        EntryFile { source: package.key(), subdir: subdir.to_string() }.write(&dest)?;
        std::fs::create_dir_all(entry.parent().unwrap_or(&self.dir)).map_err(|e| format!("creating {}: {e}", entry.display()))?;
        // Another scan may have installed the same entry meanwhile: either copy is whole.
        if std::fs::rename(&dest, entry).is_err() && !entry.join(ENTRY_FILE).is_file() {
            return Err(format!("cannot move the module into the cache at {}", entry.display()));
        }
        Ok(())
    }
}

/// A folder of the cache's `tmp` for one download, removed with what is left in it.
struct TempDir(PathBuf);

impl TempDir {
    fn new(parent: &Path) -> Result<TempDir, String> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = parent.join(format!("fetch-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed)));
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {} in the module cache: {e}", dir.display()))?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The highest cached version (complete entries only) that `constraints` accepts.
fn cached_version(versions_dir: &Path, constraints: &Constraints) -> Option<PathBuf> {
    let entries = std::fs::read_dir(versions_dir).ok()?;
    let complete: Vec<String> = entries.flatten().filter(|e| e.path().join(ENTRY_FILE).is_file()).filter_map(|e| e.file_name().into_string().ok()).collect();
    let version = constraints.highest(complete.iter().map(String::as_str))?;
    Some(versions_dir.join(version))
}

/// The module directory inside a cache entry, which must stay inside it.
fn module_in(entry: &Path, package_subdir: &str, call_subdir: &str) -> Result<Fetched, String> {
    let dir = normalise(&entry.join(package_subdir).join(call_subdir));
    if !dir.starts_with(entry) {
        return Err(format!("the subdirectory `{package_subdir}` `{call_subdir}` leaves the module package"));
    }
    if !dir.is_dir() {
        return Err(format!("the package has no directory `{}`", Path::new(package_subdir).join(call_subdir).display()));
    }
    Ok(Fetched { dir, package: entry.to_path_buf() })
}

/// What a cache entry records: the package address and the module's directory inside it
/// (from the registry's answer; a call's own `//subdir` is added to it).
#[derive(serde::Serialize, serde::Deserialize)]
struct EntryFile {
    source: String,
    subdir: String,
}

impl EntryFile {
    fn read(entry: &Path) -> Result<EntryFile, String> {
        let path = entry.join(ENTRY_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e} (delete the cache entry to fetch it again)", path.display()))
    }

    fn write(&self, dir: &Path) -> Result<(), String> {
        let path = dir.join(ENTRY_FILE);
        std::fs::write(&path, serde_json::to_string(self).unwrap_or_default()).map_err(|e| format!("writing {}: {e}", path.display()))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    TarGz,
    Tar,
    Zip,
}

#[derive(Debug, PartialEq, Eq)]
enum Kind {
    Git { reference: Option<String> },
    Archive(Format),
}

/// A go-getter package address, taken apart.
#[derive(Debug)]
struct Package {
    kind: Kind,
    /// What `git clone` or the HTTPS request gets (go-getter's own parameters removed).
    url: String,
    subdir: String,
    /// `?checksum=sha256:HEX` of an archive.
    sha256: Option<String>,
}

impl Package {
    fn parse(address: &str) -> Result<Package, String> {
        let (forced, rest) = match address.split_once("::") {
            Some((getter, rest)) if getter.chars().all(|c| c.is_ascii_alphanumeric()) => (Some(getter), rest),
            _ => (None, address),
        };
        let (url, subdir) = split_subdir(rest);
        let (url, shorthand_git) = expand_shorthand(&url);
        let (path, mut params) = split_query(&url);
        let archive = take_param(&mut params, "archive");
        let kind = match forced {
            Some("git") => Kind::Git { reference: None },
            Some(other) => return Err(format!("`{other}::` sources are not fetched (git:: and HTTPS archives are)")),
            None if shorthand_git || path.ends_with(".git") => Kind::Git { reference: None },
            None => Kind::Archive(
                archive_format(archive.as_deref(), &path)
                    .ok_or_else(|| format!("`{address}` is neither a git:: address nor an archive URL (.tar.gz, .tgz, .tar, .zip)"))?,
            ),
        };
        let (kind, sha256) = match kind {
            Kind::Git { .. } => {
                if params.iter().any(|(k, _)| k == "sshkey") {
                    return Err("the `sshkey` parameter is not supported: use an SSH agent".into());
                }
                let reference = take_param(&mut params, "ref");
                take_param(&mut params, "depth");
                (Kind::Git { reference }, None)
            }
            archive => {
                if !path.starts_with("https://") {
                    return Err(format!("`{address}`: archives are fetched over https:// only"));
                }
                let checksum = take_param(&mut params, "checksum");
                let sha256 = match checksum.as_deref().map(|c| c.split_once(':').unwrap_or(("", c))) {
                    None => None,
                    Some(("sha256", hex)) => Some(hex.to_ascii_lowercase()),
                    Some((kind, _)) => return Err(format!("checksum type `{kind}` is not supported (sha256 is)")),
                };
                (archive, sha256)
            }
        };
        let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let url = if query.is_empty() { path } else { format!("{path}?{}", query.join("&")) };
        Ok(Package { kind, url, subdir, sha256 })
    }

    /// The package when a registry may name it: a registry's answer must not make the scan
    /// read the scanning machine's own files (`git::file://`, a local path), only the scanned
    /// code may name those.
    fn named_by_registry(self) -> Result<Package, String> {
        if matches!(self.kind, Kind::Git { .. }) && !(self.url.starts_with("https://") || self.url.starts_with("ssh://")) {
            return Err(format!("the registry answered with `{}`: a git package from a registry must be https:// or ssh://", self.url));
        }
        Ok(self)
    }

    /// What the cache keys a package by: its address without the subdirectory.
    fn key(&self) -> String {
        match &self.kind {
            Kind::Git { reference } => format!("git::{}?ref={}", self.url, reference.as_deref().unwrap_or("")),
            Kind::Archive(_) => self.url.clone(),
        }
    }

    fn verify(&self, bytes: &[u8]) -> Result<(), String> {
        let Some(expected) = &self.sha256 else { return Ok(()) };
        let actual: String = sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect();
        if &actual != expected {
            return Err(format!("{}: sha256 {actual} is not the checksum {expected} the address gives", self.url));
        }
        Ok(())
    }
}

/// `https://host/repo.git//modules/x?ref=v1` is the URL `https://host/repo.git?ref=v1` and
/// the subdirectory `modules/x` (go-getter's `//`, after the scheme's own).
fn split_subdir(address: &str) -> (String, String) {
    let after_scheme = address.find("://").map_or(0, |at| at + 3);
    let Some(at) = address[after_scheme..].find("//").map(|at| at + after_scheme) else { return (address.to_string(), String::new()) };
    let rest = &address[at + 2..];
    let (subdir, query) = match rest.find('?') {
        Some(q) => rest.split_at(q),
        None => (rest, ""),
    };
    (format!("{}{query}", &address[..at]), subdir.trim_matches('/').to_string())
}

/// go-getter's shorthands for git: `github.com/org/repo` and `git@host:org/repo.git`.
fn expand_shorthand(url: &str) -> (String, bool) {
    if let Some(path) = url.strip_prefix("github.com/") {
        let (path, query) = path.split_once('?').map_or((path, String::new()), |(p, q)| (p, format!("?{q}")));
        let path = path.strip_suffix(".git").unwrap_or(path);
        return (format!("https://github.com/{path}.git{query}"), true);
    }
    if let Some((user_host, path)) =
        url.split_once(':').filter(|(user_host, path)| user_host.contains('@') && !user_host.contains('/') && !path.starts_with("//"))
    {
        return (format!("ssh://{user_host}/{path}"), true);
    }
    (url.to_string(), false)
}

fn split_query(url: &str) -> (String, Vec<(String, String)>) {
    let Some((path, query)) = url.split_once('?') else { return (url.to_string(), Vec::new()) };
    let params = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').map_or((p.to_string(), String::new()), |(k, v)| (k.to_string(), v.to_string())))
        .collect();
    (path.to_string(), params)
}

fn take_param(params: &mut Vec<(String, String)>, name: &str) -> Option<String> {
    let at = params.iter().position(|(k, _)| k == name)?;
    Some(params.remove(at).1)
}

fn archive_format(archive_param: Option<&str>, path: &str) -> Option<Format> {
    let named = archive_param
        .map(str::to_string)
        .or_else(|| ["tar.gz", "tgz", "tar", "zip"].iter().find(|ext| path.ends_with(&format!(".{ext}"))).map(|e| e.to_string()))?;
    match named.as_str() {
        "tar.gz" | "tgz" => Some(Format::TarGz),
        "tar" => Some(Format::Tar),
        "zip" => Some(Format::Zip),
        _ => None,
    }
}

/// Clones `url` at `reference` (a branch, tag or commit; the default branch when absent) into
/// `dest`, with hooks and the `ext::` transport (which runs commands) off, never prompting.
fn git_clone(url: &str, reference: Option<&str>, dest: &Path) -> Result<(), String> {
    if url.starts_with('-') || reference.is_some_and(|r| r.starts_with('-')) {
        return Err(format!("`{url}`: a git URL or ref may not start with `-`"));
    }
    let git = |args: &[&str]| -> Result<String, String> {
        let output = Command::new("git")
            .args(["-c", "core.hooksPath=/dev/null", "-c", "protocol.ext.allow=never", "-c", "core.fsmonitor=false", "-c", "advice.detachedHead=false"])
            .args(args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| format!("running git: {e} (--download-modules needs git for git:: sources)"))?;
        if output.status.success() {
            return Ok(String::from_utf8_lossy(&output.stdout).trim().to_string());
        }
        Err(format!("git {} failed: {}", args.first().unwrap_or(&""), String::from_utf8_lossy(&output.stderr).trim()))
    };
    let dest_text = dest.to_string_lossy();
    git(&["clone", "--quiet", "--", url, &dest_text])?;
    if let Some(reference) = reference {
        let commit = [reference.to_string(), format!("origin/{reference}")]
            .iter()
            .find_map(|candidate| git(&["-C", &dest_text, "rev-parse", "--verify", "--quiet", &format!("{candidate}^{{commit}}")]).ok())
            .ok_or_else(|| format!("{url} has no branch, tag or commit `{reference}`"))?;
        git(&["-C", &dest_text, "checkout", "--quiet", "--detach", &commit])?;
    }
    std::fs::remove_dir_all(dest.join(".git")).map_err(|e| format!("removing the clone's .git folder: {e}"))
}

/// Extracts an archive into `dest`, refusing the whole archive at the first unsafe entry.
fn extract(bytes: &[u8], format: Format, dest: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dest).map_err(|e| format!("creating {}: {e}", dest.display()))?;
    let mut budget = Budget { bytes: MAX_EXTRACTED, entries: MAX_ENTRIES };
    match format {
        Format::TarGz => extract_tar(flate2::read::GzDecoder::new(bytes), dest, &mut budget),
        Format::Tar => extract_tar(bytes, dest, &mut budget),
        Format::Zip => extract_zip(bytes, dest, &mut budget),
    }
    .map_err(|e| format!("archive refused: {e}"))
}

/// What is left of the extraction limits.
struct Budget {
    bytes: u64,
    entries: usize,
}

impl Budget {
    fn entry(&mut self) -> Result<(), String> {
        self.entries = self.entries.checked_sub(1).ok_or(format!("more than {MAX_ENTRIES} entries"))?;
        Ok(())
    }
}

fn extract_tar(reader: impl Read, dest: &Path, budget: &mut Budget) -> Result<(), String> {
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries().map_err(|e| e.to_string())? {
        let mut entry = entry.map_err(|e| e.to_string())?;
        budget.entry()?;
        let path = entry.path().map_err(|e| e.to_string())?.into_owned();
        let kind = entry.header().entry_type();
        let link = entry.link_name().map_err(|e| e.to_string())?.map(|l| l.into_owned());
        match kind {
            tar::EntryType::Regular | tar::EntryType::Continuous => write_file(dest, &path, &mut entry, budget)?,
            tar::EntryType::Directory => create_dir(dest, &path)?,
            tar::EntryType::Symlink => create_symlink(dest, &path, &link.unwrap_or_default())?,
            tar::EntryType::Link => return Err(format!("{}: hard links are not extracted", path.display())),
            // pax and GNU headers carry metadata of the next entry; devices and fifos have no
            // place in a module.
            tar::EntryType::XHeader | tar::EntryType::XGlobalHeader | tar::EntryType::GNULongName | tar::EntryType::GNULongLink => {}
            other => return Err(format!("{}: entries of type {other:?} are not extracted", path.display())),
        }
    }
    Ok(())
}

fn extract_zip(bytes: &[u8], dest: &Path, budget: &mut Budget) -> Result<(), String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| e.to_string())?;
    for index in 0..archive.len() {
        let mut file = archive.by_index(index).map_err(|e| e.to_string())?;
        budget.entry()?;
        let path = PathBuf::from(file.name().map_err(|e| e.to_string())?.as_ref());
        if file.is_dir() {
            create_dir(dest, &path)?;
        } else if file.is_symlink() {
            let mut target = String::new();
            file.by_ref().take(4096).read_to_string(&mut target).map_err(|e| e.to_string())?;
            create_symlink(dest, &path, Path::new(&target))?;
        } else {
            write_file(dest, &path, &mut file, budget)?;
        }
    }
    Ok(())
}

/// `dest/path` when `path` is relative and has no `..`: an entry can only land inside.
fn inside(dest: &Path, path: &Path) -> Result<PathBuf, String> {
    let mut out = dest.to_path_buf();
    for component in path.components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            _ => return Err(format!("{}: absolute or `..` entry", path.display())),
        }
    }
    Ok(out)
}

fn create_dir(dest: &Path, path: &Path) -> Result<(), String> {
    let target = inside(dest, path)?;
    std::fs::create_dir_all(&target).map_err(|e| format!("{}: {e}", path.display()))
}

fn write_file(dest: &Path, path: &Path, reader: &mut impl Read, budget: &mut Budget) -> Result<(), String> {
    let target = inside(dest, path)?;
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let mut file = std::fs::File::create(&target).map_err(|e| format!("{}: {e}", path.display()))?;
    // One byte over the budget tells a full budget from an exceeded one.
    let written = std::io::copy(&mut reader.take(budget.bytes + 1), &mut file).map_err(|e| format!("{}: {e}", path.display()))?;
    budget.bytes = budget.bytes.checked_sub(written).ok_or(format!("more than {MAX_EXTRACTED} bytes extracted"))?;
    Ok(())
}

/// A symbolic link is kept only when its target is relative and goes down from the link's
/// folder (no `..`): links made of such steps can never lead out of the package.
fn create_symlink(dest: &Path, path: &Path, target: &Path) -> Result<(), String> {
    let link = inside(dest, path)?;
    let descends = target.components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir)) && target.components().next().is_some();
    if !descends {
        return Err(format!("{}: link to `{}` points up or out", path.display(), target.display()));
    }
    if let Some(parent) = link.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    #[cfg(unix)]
    return std::os::unix::fs::symlink(target, &link).map_err(|e| format!("{}: {e}", path.display()));
    #[cfg(not(unix))]
    return Err(format!("{}: symbolic links are not extracted on this system", path.display()));
}

#[cfg(test)]
mod tests;

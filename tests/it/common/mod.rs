//! Helpers shared by integration tests.
#![allow(dead_code)] // the rule fixtures binary shares this module and uses part of it

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

/// The schema compiled once (draft-04, formats asserted): the schemas and its index.
fn sarif_schema() -> &'static (boon::Schemas, boon::SchemaIndex) {
    static SCHEMA: OnceLock<(boon::Schemas, boon::SchemaIndex)> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let text = std::fs::read_to_string(SARIF_SCHEMA).unwrap_or_else(|e| panic!("reading {SARIF_SCHEMA}: {e}"));
        let schema: serde_json::Value = serde_json::from_str(&text).expect("SARIF schema is JSON");
        assert_eq!(schema["$schema"], "http://json-schema.org/draft-04/schema#", "the validator below assumes the draft-04 schema");
        let id = schema["id"].as_str().expect("the schema names itself").to_string();
        let (mut schemas, mut compiler) = (boon::Schemas::new(), boon::Compiler::new());
        compiler.enable_format_assertions();
        compiler.add_resource(&id, schema).expect("SARIF schema is added");
        let index = compiler.compile(&id, &mut schemas).unwrap_or_else(|e| panic!("SARIF schema compiles: {e:#}"));
        (schemas, index)
    })
}

/// Validates a SARIF document against the 2.1.0 schema, listing every error with its path.
pub fn validate_sarif(document: &serde_json::Value) -> Result<(), String> {
    let (schemas, index) = sarif_schema();
    schemas.validate(document, *index).map_err(|error| format!("{error:#}"))
}

/// The charterguard CLI as every test runs it: in a directory, with the caller's NO_COLOR and
/// module cache variable cleared so the shell running the tests changes nothing, and killed
/// (a test failure) if it outlives its time bound.
pub struct Cli {
    command: std::process::Command,
    stdin: Option<Vec<u8>>,
    time_bound: std::time::Duration,
}

/// [`Cli`] in `dir`, with no arguments yet.
pub fn cli(dir: &Path) -> Cli {
    let mut runner = program(Path::new(env!("CARGO_BIN_EXE_charterguard")), dir);
    runner.command.env_remove("NO_COLOR").env_remove("CHARTERGUARD_MODULE_CACHE");
    runner
}

/// Another program (a peer that runs charterguard itself) in `dir`, with the same time bound
/// and output handling.
pub fn program(program: &Path, dir: &Path) -> Cli {
    let mut command = std::process::Command::new(program);
    command.current_dir(dir);
    Cli { command, stdin: None, time_bound: std::time::Duration::from_secs(600) }
}

/// `charterguard ARGS` in `dir`, run to its end.
pub fn charterguard(dir: &Path, args: &[&str]) -> std::process::Output {
    cli(dir).args(args).output()
}

impl Cli {
    pub fn args<S: AsRef<std::ffi::OsStr>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.command.args(args);
        self
    }

    pub fn env(mut self, name: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.command.env(name, value);
        self
    }

    /// Feeds `input` to the CLI's standard input (which is empty otherwise).
    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(input.into());
        self
    }

    pub fn time_bound(mut self, bound: std::time::Duration) -> Self {
        self.time_bound = bound;
        self
    }

    /// The command itself, for what the builder does not say (a peer's environment).
    pub fn command(&mut self) -> &mut std::process::Command {
        &mut self.command
    }

    /// Runs the CLI to its end. Its output is read while it runs (a full pipe would stall it).
    pub fn output(mut self) -> std::process::Output {
        use std::io::{Read, Write};
        use std::process::Stdio;
        let stdin = if self.stdin.is_some() { Stdio::piped() } else { Stdio::null() };
        let mut child = self.command.stdin(stdin).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("the program starts");
        let input = child.stdin.take().zip(self.stdin.take()).map(|(mut pipe, bytes)| std::thread::spawn(move || pipe.write_all(&bytes)));
        let drain = |mut pipe: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                pipe.read_to_end(&mut bytes).map(|_| bytes)
            })
        };
        let (stdout, stderr) = (drain(Box::new(child.stdout.take().unwrap())), drain(Box::new(child.stderr.take().unwrap())));
        let started = std::time::Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("waiting for charterguard") {
                break status;
            }
            if started.elapsed() > self.time_bound {
                let _ = child.kill();
                panic!("{:?} {:?} did not finish within {:?}", self.command.get_program(), self.command.get_args().collect::<Vec<_>>(), self.time_bound);
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        };
        if let Some(input) = input {
            // The CLI may exit before reading all of its input: a broken pipe is its answer.
            let _ = input.join();
        }
        let collect = |reader: std::thread::JoinHandle<std::io::Result<Vec<u8>>>| reader.join().unwrap().expect("reading charterguard's output");
        std::process::Output { status, stdout: collect(stdout), stderr: collect(stderr) }
    }
}

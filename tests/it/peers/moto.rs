//! A real AWS emulator for the `audit aws` tests: moto's server (`moto[server]` from PyPI,
//! installed into the shared peer venv by [`super::python`]) behind a fault-injecting loopback
//! proxy (`aws_proxy.py`), seeded by `aws_seed.py`.
//!
//! ```ignore
//! let moto = peers::moto::shared();          // one server per test binary; tests take turns
//! let oracle = moto.seed("charter");          // what the audit must find (see aws_seed.py)
//! moto.fault(Fault::new(FaultKind::AccessDenied).service("kms").operation("ListKeys"));
//! let mut audit = Command::new(env!("CARGO_BIN_EXE_charterguard"));
//! moto.apply_env(&mut audit);                 // static test credentials, no ~/.aws
//! audit.args(["audit", "aws", "--endpoint-url", &moto.endpoint()]);
//! ```
//!
//! The audit is pointed at [`Moto::endpoint`] (the proxy); seeding talks to moto directly, so
//! faults never trip it. Both servers bind 127.0.0.1 only and exit by themselves when the test
//! binary does (they watch their parent), the proxy also after 30 idle minutes. moto runs as
//! `python aws_proxy.py moto --port P`, which is moto's own server (`moto.server.main`, what
//! the `moto_server` command runs) plus that watchdog: a server shared by a test binary is in
//! a static, whose Drop never runs.
//!
//! The `charter` oracle (`seed("charter")`, or `seed_args(&["charter", "--tfstate", PATH])` to
//! also write a Terraform state for ENV-003):
//! `{"accounts": [{"id", "role_arn", "regions"}], "expect": [{"rule", "arn", "why"}],
//! "compliant": [{"arn", "rules"}], "unrepresentable": [{"what", "why"}], "quirks": [...],
//! "tfstate", "readback_checks", "seconds"}`. `expect` lists findings (violations) the audit
//! must report, by the resource's ARN as the audit addresses it; it is not every finding (the
//! default VPC's subnets, the replica-only buckets and the ENV-003 of everything unmanaged also
//! fail). `compliant` lists rules that must report nothing at all (no violation, no "could not
//! decide") on a resource. Audit both accounts with `--role-arn` for each `role_arn` (the
//! static credentials are account 123456789012's; moto assumes any role) and
//! `--regions ap-south-1,ap-south-2,us-east-1`.
//!
//! Failure recipes: a denied call `Fault::new(FaultKind::AccessDenied).service("s3")
//! .operation("GetBucketPolicy")`; throttling past the retries `FaultKind::Throttling` without
//! `times` (with `.times(n)` below the attempts, the call succeeds after retries: compare
//! [`Moto::count`]); a disabled region `FaultKind::RegionDisabled` with `.region(..)` (its
//! calls fail), or [`Moto::regions`] `("ap-south-2", "not-opted-in")` (DescribeRegions says
//! so); a hang `FaultKind::Delay(secs)` longer than the audit's call timeout; a role that
//! cannot be assumed `FaultKind::AccessDenied` with `.service("sts").operation("AssumeRole")
//! .param("RoleArn", ARN)`.
//!
//! The `org N` scenario (`seed("org 50")`): an AWS Organization of the static credentials'
//! account and N created members, OUs `workloads` and `workloads/prod` (nested), every fifth
//! member closed (SUSPENDED), and in every account, closed or not, a bucket without encryption
//! (`cg-org-<account id>`, ENC-001). Its oracle: `{"management", "ous": {"workloads",
//! "prod"}, "accounts": [{"id", "name", "status", "ou": "root|workloads|prod", "bucket"}],
//! "seconds"}`.
//!
//! The `isolation` scenario (`seed("isolation")`): in ap-south-1 of the static credentials'
//! account (production), roles, keys, secrets, repositories and buckets whose policies name
//! the staging account, an account no environment names, or the account itself, VPC peerings
//! with each and Transit Gateway peerings with the other two (some deleted). Its oracle: `{"production", "staging",
//! "outside", "expect": [{"rule", "arn", "why"}], "compliant": [{"arn", "rules"}],
//! "readback_checks", "seconds"}`, `expect` being every ENV-005 violation of the account.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// The account the static test credentials act in (moto's default account).
pub const ACCOUNT: &str = "123456789012";
/// The second account of the `charter` scenario, reached with STS AssumeRole.
pub const SECOND_ACCOUNT: &str = "111111111111";
/// The home region of the test environment.
pub const REGION: &str = "ap-south-1";

/// How long a server may take to answer after it starts.
const START_TIMEOUT: Duration = Duration::from_secs(90);

/// A running moto server and the fault proxy in front of it.
pub struct Moto {
    moto: Child,
    proxy: Child,
    moto_url: String,
    proxy_url: String,
    /// Empty AWS config and credentials files, so a developer's ~/.aws never leaks in.
    home: tempfile::TempDir,
    moto_log: PathBuf,
}

/// An error a fault answers with (see aws_proxy.py for each service's exact answer).
#[derive(Clone, Debug, PartialEq)]
pub enum FaultKind {
    /// 403 with the service's access-denied code (EC2: UnauthorizedOperation).
    AccessDenied,
    /// The service's throttling answer (ThrottlingException, Throttling, SlowDown,
    /// RequestLimitExceeded).
    Throttling,
    /// What a region not enabled for the account answers (UnrecognizedClientException,
    /// AuthFailure, InvalidClientTokenId).
    RegionDisabled,
    /// The connection is closed without an answer.
    Close,
    /// The answer comes after this many seconds (longer than the client's timeout: a hang).
    Delay(f64),
    /// Any status, code and message, in the service's error format.
    Custom { status: u16, code: String, message: String },
}

/// Which requests a fault answers, and how many times.
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    pub kind: FaultKind,
    /// SigV4 signing name: `kms`, `s3`, `s3control`, `ec2`, `elasticloadbalancing`, ...
    pub service: Option<String>,
    pub region: Option<String>,
    /// `ListKeys`, `GetBucketPolicy`, `DescribeNodegroup`, ... (aws_proxy.py names REST calls).
    pub operation: Option<String>,
    /// Request parameters that must all have these values (`RoleArn` of STS AssumeRole).
    pub params: Vec<(String, String)>,
    /// How many matching requests it answers; `None`: all of them.
    pub times: Option<u32>,
}

impl Fault {
    pub fn new(kind: FaultKind) -> Self {
        Fault { kind, service: None, region: None, operation: None, params: Vec::new(), times: None }
    }

    pub fn service(mut self, service: &str) -> Self {
        self.service = Some(service.to_string());
        self
    }

    pub fn region(mut self, region: &str) -> Self {
        self.region = Some(region.to_string());
        self
    }

    pub fn operation(mut self, operation: &str) -> Self {
        self.operation = Some(operation.to_string());
        self
    }

    pub fn param(mut self, name: &str, value: &str) -> Self {
        self.params.push((name.to_string(), value.to_string()));
        self
    }

    pub fn times(mut self, times: u32) -> Self {
        self.times = Some(times);
        self
    }

    fn json(&self) -> serde_json::Value {
        let mut fault = serde_json::Map::new();
        let (error, extra): (&str, Vec<(&str, serde_json::Value)>) = match &self.kind {
            FaultKind::AccessDenied => ("AccessDenied", vec![]),
            FaultKind::Throttling => ("Throttling", vec![]),
            FaultKind::RegionDisabled => ("RegionDisabled", vec![]),
            FaultKind::Close => ("close", vec![]),
            FaultKind::Delay(seconds) => ("delay", vec![("seconds", (*seconds).into())]),
            FaultKind::Custom { status, code, message } => {
                ("custom", vec![("status", (*status).into()), ("code", code.as_str().into()), ("message", message.as_str().into())])
            }
        };
        fault.insert("error".into(), error.into());
        for (key, value) in extra {
            fault.insert(key.into(), value);
        }
        for (key, value) in [("service", &self.service), ("region", &self.region), ("operation", &self.operation)] {
            if let Some(value) = value {
                fault.insert(key.into(), value.as_str().into());
            }
        }
        if !self.params.is_empty() {
            let params = self.params.iter().map(|(name, value)| (name.clone(), value.as_str().into())).collect();
            fault.insert("params".into(), serde_json::Value::Object(params));
        }
        if let Some(times) = self.times {
            fault.insert("times".into(), times.into());
        }
        serde_json::Value::Object(fault)
    }
}

/// Requests the proxy saw for one (service, region, operation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestCount {
    pub service: String,
    pub region: String,
    pub operation: String,
    pub count: u64,
    /// How many of them a fault answered.
    pub faulted: u64,
}

fn peers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/peers")
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding a free loopback port");
    listener.local_addr().expect("local address").port()
}

impl Moto {
    /// Installs the pinned peers (first use), starts moto and the proxy on free loopback
    /// ports and waits until both answer. Panics with the server's output when one does not.
    pub fn start() -> Moto {
        let python = super::python();
        let home = tempfile::tempdir().expect("creating a temporary AWS home");
        for file in ["config", "credentials"] {
            std::fs::write(home.path().join(file), "").expect("writing an empty AWS config file");
        }
        let parent = std::process::id().to_string();
        let script = peers_dir().join("aws_proxy.py");

        let port = free_port();
        let moto_log = home.path().join("moto.log");
        let log = std::fs::File::create(&moto_log).expect("creating moto's log");
        let moto = Command::new(&python)
            .arg(&script)
            .args(["moto", "--port", &port.to_string(), "--parent", &parent])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("starting moto ({} {} moto): {e}", python.display(), script.display()));
        let moto_url = format!("http://127.0.0.1:{port}");
        let mut moto = Running(Some(moto));
        let moto_output = || std::fs::read_to_string(&moto_log).unwrap_or_default();
        wait_until_up(moto.child(), &moto_url, "/moto-api/", "moto", &moto_output);

        // Its standard error goes to a file: a pipe nobody reads would block it once full.
        let proxy_log = home.path().join("proxy.log");
        let proxy = Command::new(&python)
            .arg(&script)
            .args(["proxy", "--upstream", &moto_url, "--parent", &parent, "--idle", "1800"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&proxy_log).expect("creating the proxy's log"))
            .spawn()
            .unwrap_or_else(|e| panic!("starting the fault proxy ({}): {e}", script.display()));
        let mut proxy = Running(Some(proxy));
        // The proxy binds a free port itself and names it on its first line.
        let mut first = String::new();
        let stdout = proxy.child().stdout.take().expect("proxy stdout");
        let _ = BufReader::new(stdout).read_line(&mut first);
        let Some(proxy_url) = first.trim().strip_prefix("listening ").map(str::to_string) else {
            drop(proxy);
            let stderr = std::fs::read_to_string(&proxy_log).unwrap_or_default();
            panic!("the fault proxy did not start: it printed {first:?}\n{stderr}");
        };
        wait_until_up(proxy.child(), &proxy_url, "/__health", "the fault proxy", &|| std::fs::read_to_string(&proxy_log).unwrap_or_default());
        Moto { moto: moto.take(), proxy: proxy.take(), moto_url, proxy_url, home, moto_log }
    }

    /// What moto printed so far (for a test's failure message).
    pub fn moto_log(&self) -> String {
        std::fs::read_to_string(&self.moto_log).unwrap_or_default()
    }

    /// What the proxy printed so far (errors only).
    pub fn proxy_log(&self) -> String {
        std::fs::read_to_string(self.home.path().join("proxy.log")).unwrap_or_default()
    }

    /// The proxy's URL: what the audit gets as `--endpoint-url`.
    pub fn endpoint(&self) -> String {
        self.proxy_url.clone()
    }

    /// moto's own URL (no faults, no quirk handling): what seeding uses.
    pub fn moto_url(&self) -> &str {
        &self.moto_url
    }

    /// The environment of a process that talks to the emulator: static test credentials, the
    /// home region, and empty config and credential files.
    pub fn env(&self) -> Vec<(String, String)> {
        let file = |name: &str| self.home.path().join(name).display().to_string();
        [
            ("AWS_ACCESS_KEY_ID", "testing".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
            ("AWS_REGION", REGION.to_string()),
            ("AWS_DEFAULT_REGION", REGION.to_string()),
            ("AWS_CONFIG_FILE", file("config")),
            ("AWS_SHARED_CREDENTIALS_FILE", file("credentials")),
            ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// Sets [`Moto::env`] on a command and removes every other AWS setting it could inherit
    /// (profiles, session tokens, web identity, endpoint overrides).
    pub fn apply_env(&self, command: &mut Command) {
        for (key, _) in std::env::vars_os().filter(|(k, _)| k.to_string_lossy().starts_with("AWS_")) {
            command.env_remove(key);
        }
        command.envs(self.env());
    }

    /// Empties moto (every account and region) and clears the proxy's faults, counts and
    /// region overrides.
    pub fn reset(&self) {
        expect_ok(http(&self.moto_url, "POST", "/moto-api/reset", &[], b""), "POST /moto-api/reset to moto");
        expect_ok(http(&self.proxy_url, "POST", "/__reset", &[], b""), "POST /__reset to the proxy");
    }

    /// Runs `aws_seed.py SCENARIO ARGS...` (words split on whitespace) against moto and returns
    /// what it printed: the oracle of the scenario. Panics with the script's output when it fails.
    pub fn seed(&self, scenario: &str) -> serde_json::Value {
        self.seed_args(&scenario.split_whitespace().collect::<Vec<_>>())
    }

    /// [`Moto::seed`] with the arguments as given (for paths with spaces).
    pub fn seed_args(&self, args: &[&str]) -> serde_json::Value {
        let mut command = Command::new(super::python());
        command.arg(peers_dir().join("aws_seed.py")).args(args);
        self.apply_env(&mut command);
        command.env("AWS_ENDPOINT_URL", &self.moto_url);
        // What moto does not implement, the proxy keeps (AWS Backup selections).
        command.env("CG_AWS_PROXY_URL", &self.proxy_url);
        let output = command.output().unwrap_or_else(|e| panic!("running aws_seed.py {args:?}: {e}"));
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            panic!("aws_seed.py {args:?} failed ({}):\n{stderr}\n{stdout}", output.status);
        }
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("aws_seed.py {args:?} printed no JSON ({e}):\n{stdout}\n{stderr}"))
    }

    /// Replaces the proxy's faults with this one.
    pub fn fault(&self, fault: Fault) {
        self.faults(&[fault]);
    }

    /// Replaces the proxy's faults (the first that matches a request answers it).
    pub fn faults(&self, faults: &[Fault]) {
        let body = serde_json::Value::Array(faults.iter().map(Fault::json).collect()).to_string();
        expect_ok(http(&self.proxy_url, "POST", "/__faults", &[("Content-Type", "application/json")], body.as_bytes()), "POST /__faults");
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        expect_ok(http(&self.proxy_url, "DELETE", "/__faults", &[], b""), "DELETE /__faults");
    }

    /// Sets how EC2 DescribeRegions reports regions' opt-in status (`opted-in`,
    /// `not-opted-in`, `opt-in-not-required`); by default ap-south-2 is `opted-in`.
    pub fn regions(&self, statuses: &[(&str, &str)]) {
        let body = serde_json::Value::Object(statuses.iter().map(|(r, s)| (r.to_string(), (*s).into())).collect()).to_string();
        expect_ok(http(&self.proxy_url, "POST", "/__regions", &[("Content-Type", "application/json")], body.as_bytes()), "POST /__regions");
    }

    /// Whether S3 ListBuckets answers carry each bucket's `BucketRegion` (as S3 does; on by
    /// default). Off, the audit must fall back to GetBucketLocation per bucket.
    pub fn list_buckets_region(&self, on: bool) {
        let body = serde_json::json!({ "list_buckets_region": on }).to_string();
        expect_ok(http(&self.proxy_url, "POST", "/__options", &[("Content-Type", "application/json")], body.as_bytes()), "POST /__options");
    }

    /// Every (service, region, operation) the proxy saw since the last reset.
    pub fn stats(&self) -> Vec<RequestCount> {
        let (_, body) = expect_ok(http(&self.proxy_url, "GET", "/__stats", &[], b""), "GET /__stats");
        let parsed: serde_json::Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET /__stats answered no JSON ({e}): {body}"));
        let text = |row: &serde_json::Value, key: &str| row[key].as_str().unwrap_or_default().to_string();
        parsed["requests"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|row| RequestCount {
                service: text(row, "service"),
                region: text(row, "region"),
                operation: text(row, "operation"),
                count: row["count"].as_u64().unwrap_or(0),
                faulted: row["faulted"].as_u64().unwrap_or(0),
            })
            .collect()
    }

    /// Requests for `service`'s `operation`, all regions together.
    pub fn count(&self, service: &str, operation: &str) -> u64 {
        self.stats().iter().filter(|r| r.service == service && r.operation == operation).map(|r| r.count).sum()
    }
}

/// A child process killed when dropped before it is handed over (a start that fails half-way
/// leaves nothing running).
struct Running(Option<Child>);

impl Running {
    fn child(&mut self) -> &mut Child {
        self.0.as_mut().expect("running child")
    }

    fn take(mut self) -> Child {
        self.0.take().expect("running child")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Waits until `base` answers `path` with 200; panics when the process exits first or the
/// time runs out, with what `output` gives (the server's log).
fn wait_until_up(child: &mut Child, base: &str, path: &str, what: &str, output: &dyn Fn() -> String) {
    let began = Instant::now();
    loop {
        if let Ok((200, _)) = http(base, "GET", path, &[], b"") {
            return;
        }
        let exited = child.try_wait().ok().flatten();
        if exited.is_some() || began.elapsed() > START_TIMEOUT {
            let how = exited.map_or_else(|| format!("no answer within {START_TIMEOUT:?}"), |status| format!("it exited ({status})"));
            panic!("{what} did not answer at {base}{path}: {how}; its output:\n{}", output());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        for child in [&mut self.proxy, &mut self.moto] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The server shared by the tests of one binary, held by one test at a time (reset when
/// taken): tests that use it run one after another, in any order.
pub struct Shared {
    moto: &'static Moto,
    _turn: MutexGuard<'static, ()>,
}

impl std::ops::Deref for Shared {
    type Target = Moto;
    fn deref(&self) -> &Moto {
        self.moto
    }
}

/// Takes the binary's shared server (starting it on first use), empty and without faults.
pub fn shared() -> Shared {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    static TURN: Mutex<()> = Mutex::new(());
    // A test that panicked while holding its turn poisons the lock; the reset below makes the
    // server clean again, so the next test goes on.
    let turn = TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let moto = MOTO.get_or_init(Moto::start);
    moto.reset();
    Shared { moto, _turn: turn }
}

fn expect_ok(result: Result<(u16, String), String>, what: &str) -> (u16, String) {
    match result {
        Ok((status, body)) if (200..300).contains(&status) => (status, body),
        Ok((status, body)) => panic!("{what} answered {status}: {body}"),
        Err(e) => panic!("{what} failed: {e}"),
    }
}

/// A minimal HTTP/1.1 exchange with a loopback server (`base` is `http://127.0.0.1:PORT`):
/// the status and the body as text. `headers` may override `Host`.
pub fn http(base: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Result<(u16, String), String> {
    let authority = base.strip_prefix("http://").ok_or_else(|| format!("{base} is not an http:// URL"))?.trim_end_matches('/');
    let address: std::net::SocketAddr = authority.parse().map_err(|e| format!("{authority} is not a loopback address: {e}"))?;
    if !address.ip().is_loopback() {
        return Err(format!("{address} is not on loopback"));
    }
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(10)).map_err(|e| format!("connecting to {address}: {e}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(300))).map_err(|e| e.to_string())?;
    let mut request = format!("{method} {path} HTTP/1.1\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        request.push_str(&format!("Host: {authority}\r\n"));
    }
    for (key, value) in headers {
        request.push_str(&format!("{key}: {value}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n\r\n", body.len()));
    stream.write_all(request.as_bytes()).and_then(|_| stream.write_all(body)).map_err(|e| format!("sending to {address}: {e}"))?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(|e| format!("reading from {address}: {e}"))?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(|| format!("{method} {path}: no HTTP answer ({} bytes)", raw.len()))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status: u16 = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| format!("{method} {path}: bad status line in {head:?}"))?;
    let mut payload = raw[split + 4..].to_vec();
    if head.lines().any(|l| l.to_ascii_lowercase().starts_with("transfer-encoding:") && l.to_ascii_lowercase().contains("chunked")) {
        payload = dechunk(&payload);
    }
    Ok((status, String::from_utf8_lossy(&payload).into_owned()))
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&data[..end]).split(';').next().unwrap_or("0").trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = end + 2;
        out.extend_from_slice(&data[start..(start + size).min(data.len())]);
        data = &data[(start + size + 2).min(data.len())..];
    }
    out
}

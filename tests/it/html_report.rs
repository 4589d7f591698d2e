//! `--format html` on real scans: the example platform, and inputs whose file name and
//! Kubernetes object name are markup. The page must be self-contained (no external resource),
//! escape everything from the scan, and render in a real browser: Debian's Chromium, headless,
//! installed by `tests/it/peers/chromium.sh` when missing (the test fails with apt's output when it
//! cannot be installed, it never skips).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use charterguard::engine::Finding;
use charterguard::report::{render, Format, Report};
use charterguard::scan::{scan, ScanOptions, ScanOutcome};

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// Runs when the page's own script is broken out of: the test looks for it on `<body>`.
const PWN: &str = "<script>document.body.setAttribute('data-pwned','1')</script>";
/// A file name that is an HTML tag with an event handler.
const HOSTILE_FILE: &str = "<img src=x onerror=document.body.setAttribute('data-pwned','2')>.tf";

fn scan_platform() -> ScanOutcome {
    let base = PathBuf::from(MANIFEST_DIR);
    scan(&ScanOptions::new(vec![base.join("fixtures/platform")], base)).expect("the platform example scans")
}

/// A Terraform file named like a tag and a Pod named like a script, both with findings
/// (EKS-005 flags every aws_instance; the pod breaks the POD and IMG rules).
fn scan_hostile(dir: &Path) -> ScanOutcome {
    std::fs::write(dir.join(HOSTILE_FILE), "resource \"aws_instance\" \"x\" {\n  ami = \"ami-123\"\n}\n").unwrap();
    let pod =
        format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"{PWN}\"\n  namespace: default\nspec:\n  containers:\n    - name: app\n      image: nginx\n");
    std::fs::write(dir.join("evil.yaml"), pod).unwrap();
    scan(&ScanOptions::new(vec![dir.to_path_buf()], dir.to_path_buf())).expect("the hostile inputs scan")
}

fn render_html(outcome: &ScanOutcome, findings: &[Finding]) -> String {
    let no_source = |_: &str| -> Option<Arc<str>> { None };
    let report = Report {
        findings,
        rules: &outcome.rules,
        diagnostics: &outcome.model.diagnostics,
        files_scanned: outcome.model.files_scanned,
        resources: outcome.model.resources.len(),
        elapsed: Duration::ZERO,
        source_text: &no_source,
        secrets: charterguard::redact::vocabulary::Vocabulary::charter(),
    };
    render(&report, Format::Html)
}

/// The platform's findings followed by the hostile ones: the page the browser test loads.
fn platform_and_hostile(dir: &Path) -> (String, usize) {
    let platform = scan_platform();
    let hostile = scan_hostile(dir);
    let mut findings = platform.findings.clone();
    findings.extend(hostile.findings.iter().cloned());
    (render_html(&platform, &findings), findings.len())
}

/// Every resource reference in the document's markup that is not a fragment or a `data:` URL:
/// `src`/`href`/`action`/`poster` attributes of real tags (escaped text has no `<`, so it is
/// never taken for a tag) and `url(`/`@import` in the inline CSS.
fn external_references(html: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let is_local = |value: &str| {
        let value = value.trim_start_matches(['"', '\'', ' ']);
        value.starts_with('#') || value.starts_with("data:")
    };
    let mut found = Vec::new();
    for tag in lower.split('<').skip(1).map(|rest| rest.split('>').next().unwrap_or("")) {
        for attribute in [" src=", " href=", " xlink:href=", " action=", " poster=", " srcset="] {
            for (at, _) in tag.match_indices(attribute) {
                if !is_local(&tag[at + attribute.len()..]) {
                    found.push(format!("<{tag}>"));
                }
            }
        }
    }
    let style = lower.split("<style>").nth(1).and_then(|s| s.split("</style>").next()).unwrap_or("");
    for marker in ["url(", "@import"] {
        for (at, _) in style.match_indices(marker) {
            if !is_local(&style[at + marker.len()..]) {
                found.push(style[at..(at + 60).min(style.len())].to_string());
            }
        }
    }
    found
}

#[test]
fn platform_page_is_self_contained() {
    let outcome = scan_platform();
    assert!(!outcome.findings.is_empty());
    let html = render_html(&outcome, &outcome.findings);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!html.contains("http://") && !html.contains("https://"), "no URL at all in the platform page");
    assert_eq!(external_references(&html), Vec::<String>::new());
    // The checker itself finds what it must, and not escaped text.
    assert_eq!(external_references("<p><img alt=\"\" src=\"https://cdn.example/x.png\"></p>").len(), 1);
    assert_eq!(external_references("<style>@font-face { src: url(https://f.example/a.woff) }</style>").len(), 1);
    assert_eq!(external_references("<a href=\"#findings\">&lt;img src=https://x&gt;</a>").len(), 0);
    assert_eq!(html.matches("<tr data-").count(), outcome.findings.len(), "one table row per finding");
    assert_eq!(html.matches("<script>").count(), 1, "only the page's own script");
    assert!(html.contains("<svg"), "charts are inline SVG");
    for chart in ["Findings per severity", "Open findings per rule (top 20)", "Open findings per directory"] {
        assert!(html.contains(chart), "{chart}");
    }
    // Grouped below fixtures/platform, the folder every finding shares.
    assert!(html.contains("<title>terraform: ") && html.contains("<title>k8s: "), "groups per top-level directory");
    assert_eq!(html, render_html(&scan_platform(), &outcome.findings), "byte-identical across runs");
}

#[test]
fn hostile_names_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let outcome = scan_hostile(dir.path());
    assert!(outcome.findings.iter().any(|f| f.message.contains(PWN)), "the pod's name is in a message");
    assert!(outcome.findings.iter().any(|f| f.span.file.contains("<img")), "the file name is in a finding");
    let html = render_html(&outcome, &outcome.findings);
    assert_eq!(html.matches("<script>").count(), 1, "only the page's own script");
    assert!(!html.contains("<img"), "the file name did not become a tag");
    assert!(!html.contains(PWN));
    assert!(html.contains("&lt;script&gt;document.body.setAttribute(&#39;data-pwned&#39;,&#39;1&#39;)&lt;/script&gt;"));
    assert!(html.contains("&lt;img src=x onerror="));
    assert_eq!(external_references(&html), Vec::<String>::new());
}

/// Debian's Chromium, installed when missing; panics with the installer's output otherwise.
fn chromium() -> PathBuf {
    let script = Path::new(MANIFEST_DIR).join("tests/it/peers/chromium.sh");
    let output = Command::new("sh").arg(&script).output().unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
    assert!(
        output.status.success(),
        "installing Chromium failed ({}); this test needs it (apt-get install -y chromium):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    PathBuf::from(String::from_utf8(output.stdout).unwrap().trim())
}

/// Headless Chromium with no network side effects, killed after two minutes.
fn run_chromium(chromium: &Path, profile: &Path, args: &[String]) -> Output {
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", chromium.display()));
    // Drain stdout on a thread so a large DOM cannot fill the pipe while we wait.
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut text).map(|_| text)
    });
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("chromium {args:?} did not finish in 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut output = child.wait_with_output().unwrap();
    output.stdout = reader.join().unwrap().unwrap();
    assert!(output.status.success(), "chromium {args:?} failed ({}):\n{}", output.status, String::from_utf8_lossy(&output.stderr));
    output
}

fn screenshot(chromium: &Path, dir: &Path, page: &Path, name: &str) -> u64 {
    let png = dir.join(name);
    run_chromium(
        chromium,
        &dir.join(format!("profile-{name}")),
        &[format!("--screenshot={}", png.display()), "--window-size=1280,2000".into(), format!("file://{}", page.display())],
    );
    let bytes = std::fs::read(&png).unwrap_or_else(|e| panic!("chromium wrote no screenshot {}: {e}", png.display()));
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{name} is a PNG");
    bytes.len() as u64
}

#[test]
fn renders_in_headless_chromium() {
    let chromium = chromium();
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("inputs");
    std::fs::create_dir(&inputs).unwrap();
    let (html, findings) = platform_and_hostile(&inputs);
    let page = dir.path().join("report.html");
    std::fs::write(&page, &html).unwrap();
    let blank = dir.path().join("blank.html");
    std::fs::write(&blank, "<!DOCTYPE html><html><body></body></html>").unwrap();

    // The DOM after the scripts ran: every row rendered, the filter wired up, nothing injected.
    let dom = String::from_utf8(run_chromium(&chromium, &dir.path().join("profile-dom"), &["--dump-dom".into(), format!("file://{}", page.display())]).stdout)
        .unwrap();
    assert_eq!(dom.matches("<tr data-").count(), findings, "table rows in the rendered DOM");
    let body = &dom[dom.find("<body").expect("a body")..];
    let body_tag = &body[..body.find('>').unwrap() + 1];
    assert!(body_tag.contains("data-ready=\"true\""), "the filter script initialised: {body_tag}");
    assert!(!body_tag.contains("data-pwned"), "markup from the scan executed: {body_tag}");
    assert!(dom.contains(&format!("{findings} of {findings} findings")), "the script counted the rows");
    assert_eq!(dom.matches("<script").count(), 1, "no script element from the scan in the DOM");

    // A screenshot that is not blank: the report's PNG is far larger than an empty page's of
    // the same size (a single-colour 1280x2000 PNG compresses to a few KB).
    let page_size = screenshot(&chromium, dir.path(), &page, "page.png");
    let blank_size = screenshot(&chromium, dir.path(), &blank, "blank.png");
    assert!(page_size > 40_000 && page_size > 5 * blank_size, "screenshot looks blank: {page_size} bytes, an empty page is {blank_size}");
    if let Some(keep) = std::env::var_os("CHARTERGUARD_KEEP_SCREENSHOT") {
        std::fs::copy(dir.path().join("page.png"), keep).unwrap();
    }
}

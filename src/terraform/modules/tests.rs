//! Installed modules found through modules.json, laid out as `terraform init` 1.15 lays them
//! out (checked against the real one in tests/it/installed_modules.rs).

use crate::model::{DiagnosticLevel, Model, Resource, Value};
use crate::terraform::{load, Options};
use std::path::Path;

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

fn scan(dir: &Path) -> Model {
    let files = crate::input::discover(&[dir.to_path_buf()], dir, &crate::input::Walk::default()).terraform;
    load(&files, &Options::new(dir.to_path_buf()))
}

fn find<'m>(model: &'m Model, address: &str) -> &'m Resource {
    model.resources.iter().find(|r| r.address == address).unwrap_or_else(|| {
        let all: Vec<&str> = model.resources.iter().map(|r| r.address.as_str()).collect();
        panic!("no {address} in {all:?}\n{:?}", model.diagnostics)
    })
}

fn messages(model: &Model) -> Vec<String> {
    model.diagnostics.iter().map(|d| d.to_string()).collect()
}

const BUCKET_MODULE: &str = "variable \"name\" {}\nresource \"aws_s3_bucket\" \"this\" {\n  bucket = var.name\n}\nmodule \"inner\" {\n  source = \"./modules/inner\"\n  name   = var.name\n}\noutput \"arn\" { value = \"arn:${var.name}\" }\n";
const INNER_MODULE: &str = "variable \"name\" {}\nresource \"aws_kms_key\" \"k\" {\n  description = \"for ${var.name}\"\n}\n";

/// A root calling a registry module, a git module with a subdirectory, and a local module
/// that calls the registry module again with for_each.
fn initialised_root(dir: &Path) {
    write(
        dir,
        &[
            (
                "main.tf",
                "module \"s3\" {\n  source  = \"terraform-aws-modules/s3-bucket/aws\"\n  version = \"~> 4.1\"\n  name    = \"logs\"\n}\nmodule \"g\" {\n  source = \"git::https://example.com/net.git//sub?ref=v1.2.0\"\n}\nmodule \"l\" {\n  source = \"./local\"\n}\noutput \"arn\" { value = module.s3.arn }\n",
            ),
            ("local/main.tf", "module \"deep\" {\n  source   = \"terraform-aws-modules/s3-bucket/aws\"\n  version  = \"4.1.0\"\n  for_each = toset([\"a\", \"b\"])\n  name     = \"deep-${each.key}\"\n}\n"),
            (".terraform/modules/s3/main.tf", BUCKET_MODULE),
            (".terraform/modules/s3/modules/inner/main.tf", INNER_MODULE),
            (".terraform/modules/l.deep/main.tf", BUCKET_MODULE),
            (".terraform/modules/l.deep/modules/inner/main.tf", INNER_MODULE),
            (".terraform/modules/g/main.tf", "resource \"aws_vpc\" \"not_this_one\" {}\n"),
            (".terraform/modules/g/sub/main.tf", "resource \"aws_vpc\" \"v\" {\n  cidr_block = \"10.0.0.0/16\"\n}\n"),
            (
                ".terraform/modules/modules.json",
                r#"{"Modules":[{"Key":"","Source":"","Dir":"."},{"Key":"g","Source":"git::https://example.com/net.git//sub?ref=v1.2.0","Dir":".terraform/modules/g/sub"},{"Key":"l","Source":"./local","Dir":"local"},{"Key":"l.deep","Source":"registry.terraform.io/terraform-aws-modules/s3-bucket/aws","Version":"4.1.0","Dir":".terraform/modules/l.deep"},{"Key":"l.deep.inner","Source":"./modules/inner","Dir":".terraform/modules/l.deep/modules/inner"},{"Key":"s3","Source":"registry.terraform.io/terraform-aws-modules/s3-bucket/aws","Version":"4.1.2","Dir":".terraform/modules/s3"},{"Key":"s3.inner","Source":"./modules/inner","Dir":".terraform/modules/s3/modules/inner"}]}"#,
            ),
        ],
    );
}

#[test]
fn installed_modules_are_evaluated_like_local_ones() {
    let dir = tempfile::tempdir().unwrap();
    initialised_root(dir.path());
    let model = scan(dir.path());
    assert!(model.diagnostics.is_empty(), "{:?}", messages(&model));
    let bucket = find(&model, "module.s3.aws_s3_bucket.this");
    assert_eq!(bucket.attrs.get("bucket").unwrap().value, Value::Str("logs".into()));
    assert_eq!((&*bucket.span.file, bucket.span.start_line), (".terraform/modules/s3/main.tf", 2));
    assert_eq!(bucket.call_chain.iter().map(|s| (&*s.file, s.start_line)).collect::<Vec<_>>(), [("main.tf", 1)]);
    let key = find(&model, "module.l.module.deep[\"b\"].module.inner.aws_kms_key.k");
    assert_eq!(key.attrs.get("description").unwrap().value, Value::Str("for deep-b".into()));
    assert_eq!(&*key.span.file, ".terraform/modules/l.deep/modules/inner/main.tf");
    let chain: Vec<(&str, u32)> = key.call_chain.iter().map(|s| (&*s.file, s.start_line)).collect();
    assert_eq!(chain, [("main.tf", 9), ("local/main.tf", 1), (".terraform/modules/l.deep/main.tf", 5)]);
    assert_eq!(&*find(&model, "module.g.aws_vpc.v").span.file, ".terraform/modules/g/sub/main.tf");
    assert!(!model.resources.iter().any(|r| r.address.contains("not_this_one")), "only the //sub directory is the module");
    // The hidden folder is read only through modules.json, never as a root of its own.
    assert!(model.resources.iter().all(|r| r.address.starts_with("module.") || !r.span.file.starts_with(".terraform")));
    let outputs = crate::terraform::evaluate_outputs(&crate::terraform::Options::new(dir.path().to_path_buf())).unwrap();
    assert_eq!(outputs["arn"], "arn:logs");
}

#[test]
fn a_module_called_thousands_of_times_is_parsed_once() {
    let dir = tempfile::tempdir().unwrap();
    let modules_json = r#"{"Modules":[{"Key":"many","Source":"registry.terraform.io/acme/queue/aws","Version":"1.0.0","Dir":".terraform/modules/many"}]}"#;
    write(
        dir.path(),
        &[
            ("main.tf", "module \"many\" {\n  source   = \"acme/queue/aws\"\n  for_each = toset(flatten([for a in range(50) : [for b in range(100) : \"${a}-${b}\"]]))\n  name     = each.key\n}\n"),
            (".terraform/modules/many/main.tf", "variable \"name\" {}\nresource \"aws_sqs_queue\" \"q\" {\n  name = var.name\n}\n"),
            (".terraform/modules/modules.json", modules_json),
        ],
    );
    let model = scan(dir.path());
    assert_eq!(model.files_scanned, 2, "main.tf and the module's main.tf, once");
    let queues = model.resources.iter().filter(|r| r.rtype == "aws_sqs_queue").count();
    assert_eq!(queues, 5000);
    assert_eq!(find(&model, "module.many[\"49-99\"].aws_sqs_queue.q").attrs.get("name").unwrap().value, Value::Str("49-99".into()));
}

/// A root whose calls `a` to `f` each have one thing wrong in modules.json; `ok` has nothing.
const HOSTILE_MANIFEST: &str = r#"{"Modules":[
  {"Key":"ok","Source":"registry.terraform.io/acme/ok/aws","Version":"1.0.0","Dir":".terraform/modules/ok"},
  {"Key":"a","Source":"registry.terraform.io/acme/a/aws","Version":"1.0.0","Dir":"../../etc"},
  {"Key":"b","Source":"registry.terraform.io/acme/b/aws","Version":"1.0.0","Dir":"/etc"},
  {"Key":"c","Source":"registry.terraform.io/acme/c/aws","Version":"1.0.0"},
  {"Key":"d","Source":"registry.terraform.io/acme/d/aws","Version":"1.0.0","Dir":".terraform/modules/d"},
  {"Key":"d.again","Source":"registry.terraform.io/acme/d/aws","Version":"1.0.0","Dir":".terraform/modules/d"},
  {"Key":"e","Source":"registry.terraform.io/acme/e/aws","Version":"1.0.0","Dir":".terraform/modules/e"}
]}"#;

#[test]
fn hostile_manifest_entries_are_errors_at_modules_json_and_the_rest_is_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let calls: String = ["ok", "a", "b", "c", "d", "e"].iter().map(|name| format!("module \"{name}\" {{\n  source = \"acme/{name}/aws\"\n}}\n")).collect();
    write(
        dir.path(),
        &[
            ("main.tf", &calls),
            (".terraform/modules/ok/main.tf", "resource \"aws_sqs_queue\" \"q\" {}\n"),
            (".terraform/modules/d/main.tf", "module \"again\" {\n  source = \"acme/d/aws\"\n}\nresource \"aws_sqs_queue\" \"d\" {}\n"),
            (".terraform/modules/modules.json", HOSTILE_MANIFEST),
        ],
    );
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), &[("main.tf", "resource \"aws_iam_user\" \"outside\" {}\n")]);
    std::os::unix::fs::symlink(outside.path(), dir.path().join(".terraform/modules/e")).unwrap();
    let model = scan(dir.path());
    find(&model, "module.ok.aws_sqs_queue.q");
    find(&model, "module.d.aws_sqs_queue.d");
    assert!(!model.resources.iter().any(|r| r.address.contains("outside")), "nothing read through the symlink");
    let errors: Vec<String> = model.diagnostics.iter().filter(|d| d.level == DiagnosticLevel::Error).map(|d| d.to_string()).collect();
    let expected = [
        (".terraform/modules/modules.json:3:3:", "module `a`: Dir `../../etc` is outside the modules directory .terraform/modules;"),
        (".terraform/modules/modules.json:4:3:", "module `b`: Dir `/etc` is outside the modules directory"),
        (".terraform/modules/modules.json:5:3:", "module `c` has no Dir"),
        (".terraform/modules/modules.json:7:3:", "module `d.again`: its Dir is that of its caller `d`"),
        (".terraform/modules/modules.json:8:3:", "module `e`: Dir `.terraform/modules/e` is a symbolic link out of the modules directory"),
    ];
    assert_eq!(errors.len(), expected.len(), "{errors:#?}");
    for (position, text) in expected {
        assert!(errors.iter().any(|e| e.starts_with(position) && e.contains(text)), "{position} {text}: {errors:#?}");
    }
    // Each refused call also says, at its source, that it is not evaluated.
    let notes = messages(&model);
    for address in ["module.a:", "module.b:", "module.e:", "module.d.module.again:"] {
        assert!(notes.iter().any(|n| n.contains(address) && n.contains("refused")), "{address}: {notes:#?}");
    }
}

#[test]
fn malformed_modules_json_is_an_error_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("main.tf", "module \"s3\" {\n  source = \"acme/s3/aws\"\n}\nresource \"aws_sqs_queue\" \"root\" {}\n"),
            (".terraform/modules/modules.json", "{\"Modules\": [\n  {\"Key\": \"s3\", \"Dir\": \".terraform/modules/s3\"\n]}\n"),
        ],
    );
    let model = scan(dir.path());
    find(&model, "aws_sqs_queue.root");
    let error = model.diagnostics.iter().find(|d| d.level == DiagnosticLevel::Error).unwrap_or_else(|| panic!("{:?}", messages(&model)));
    let span = error.span.as_ref().expect("a position");
    assert_eq!((&*span.file, span.start_line), (".terraform/modules/modules.json", 3), "{error}");
    let not_a_manifest = tempfile::tempdir().unwrap();
    write(not_a_manifest.path(), &[("main.tf", ""), (".terraform/modules/modules.json", "[1, 2]\n")]);
    assert!(messages(&scan(not_a_manifest.path())).iter().any(|m| m.contains("not a Terraform modules manifest")));
}

#[test]
fn calls_that_are_not_installed_are_noted_once_at_their_source() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("main.tf", "module \"twice\" {\n  source = \"./twice\"\n  count  = 2\n}\nmodule \"stale\" {\n  source  = \"acme/new/aws\"\n}\nmodule \"old\" {\n  source  = \"acme/old/aws\"\n  version = \">= 2.0\"\n}\n"),
            ("twice/main.tf", "module \"vpc\" {\n  # a registry module\n  source = \"terraform-aws-modules/vpc/aws\"\n}\n"),
            (".terraform/modules/stale/main.tf", "resource \"aws_sqs_queue\" \"q\" {}\n"),
            (".terraform/modules/old/main.tf", "resource \"aws_sqs_queue\" \"q\" {}\n"),
            (
                ".terraform/modules/modules.json",
                r#"{"Modules":[{"Key":"stale","Source":"registry.terraform.io/acme/old/aws","Version":"1.0.0","Dir":".terraform/modules/stale"},{"Key":"old","Source":"registry.terraform.io/acme/old/aws","Version":"1.0.0","Dir":".terraform/modules/old"}]}"#,
            ),
        ],
    );
    let model = scan(dir.path());
    assert!(model.diagnostics.iter().all(|d| d.level == DiagnosticLevel::Note), "not broken input: {:?}", messages(&model));
    let notes = messages(&model);
    let vpc: Vec<&String> = notes.iter().filter(|n| n.contains("module.twice.module.vpc:")).collect();
    assert_eq!(vpc.len(), 1, "one note for the call, not one per instance of its caller: {notes:#?}");
    assert!(vpc[0].starts_with("twice/main.tf:3:12:") && vpc[0].contains("terraform init") && vpc[0].contains("--download-modules"), "{}", vpc[0]);
    assert!(notes.iter().any(|n| n.starts_with("main.tf:6:") && n.contains("records source `registry.terraform.io/acme/old/aws`")), "{notes:#?}");
    assert!(notes.iter().any(|n| n.starts_with("main.tf:9:") && n.contains("records version 1.0.0")), "{notes:#?}");
    assert!(!model.resources.iter().any(|r| r.rtype == "aws_sqs_queue"), "stale modules are not evaluated");
}

#[test]
fn local_calls_may_not_leave_an_installed_package() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("main.tf", "module \"m\" {\n  source = \"acme/m/aws\"\n}\n"),
            ("secrets/main.tf", "resource \"aws_iam_user\" \"u\" {}\n"),
            (".terraform/modules/m/main.tf", "module \"up\" {\n  source = \"../../../secrets\"\n}\n"),
            (
                ".terraform/modules/modules.json",
                r#"{"Modules":[{"Key":"m","Source":"registry.terraform.io/acme/m/aws","Version":"1.0.0","Dir":".terraform/modules/m"}]}"#,
            ),
        ],
    );
    let model = scan(dir.path());
    assert!(!model.resources.iter().any(|r| r.address.starts_with("module.m.")), "{:?}", model.resources.iter().map(|r| &r.address).collect::<Vec<_>>());
    let error = model.diagnostics.iter().find(|d| d.level == DiagnosticLevel::Error).unwrap_or_else(|| panic!("{:?}", messages(&model)));
    assert!(error.to_string().starts_with(".terraform/modules/m/main.tf:2:") && error.message.contains("leaves the installed module package"), "{error}");
}

#[test]
fn tofu_init_records_its_own_registry_host() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("main.tf", "module \"q\" {\n  source  = \"acme/queue/aws\"\n  version = \"~> 2.0\"\n}\n"),
            (".terraform/modules/q/main.tf", "resource \"aws_sqs_queue\" \"q\" {}\n"),
            (
                ".terraform/modules/modules.json",
                r#"{"Modules":[{"Key":"q","Source":"registry.opentofu.org/acme/queue/aws","Version":"2.3.0","Dir":".terraform/modules/q"}]}"#,
            ),
        ],
    );
    let model = scan(dir.path());
    assert!(model.diagnostics.is_empty(), "{:?}", messages(&model));
    find(&model, "module.q.aws_sqs_queue.q");
}

#[test]
fn an_invalid_version_constraint_is_an_error_at_the_call() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("main.tf", "module \"q\" {\n  source  = \"acme/queue/aws\"\n  version = \"about 2\"\n}\n"),
            (".terraform/modules/q/main.tf", "resource \"aws_sqs_queue\" \"q\" {}\n"),
            (
                ".terraform/modules/modules.json",
                r#"{"Modules":[{"Key":"q","Source":"registry.terraform.io/acme/queue/aws","Version":"2.3.0","Dir":".terraform/modules/q"}]}"#,
            ),
        ],
    );
    let model = scan(dir.path());
    let [error] = model.diagnostics.as_slice() else { panic!("{:?}", messages(&model)) };
    assert_eq!(error.level, DiagnosticLevel::Error);
    assert!(error.to_string().starts_with("main.tf:2:13: module.q: `about 2` is not a version constraint"), "{error}");
}

//! No secret in any output: secrets of many shapes are planted in every source `scan`,
//! `audit aws` (moto) and `audit k8s` (the loopback API server) read, each run writes every
//! report format (human with code frames, JSON, SARIF, markdown, JUnit, HTML), and no report,
//! nor standard output or error, may contain any planted secret in any form it was written in
//! (plain, base64). A test rule (`TST-001`) renders each resource it judges whole in its
//! message and points at the resource's first line, so every message path and a code frame of
//! every block carry the secrets unless they are hidden.

use crate::common;
#[cfg(feature = "k8s-live")]
use crate::k8s_api;
use crate::peers;

use base64::Engine as _;
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;

/// A planted secret: its shape and every form it may be printed in.
struct Planted {
    shape: &'static str,
    forms: Vec<String>,
}

fn plant(shape: &'static str, value: &str) -> Planted {
    Planted { shape, forms: vec![value.to_string()] }
}

/// A secret also written base64-encoded (Kubernetes `data`, `binaryData`).
fn plant_encoded(shape: &'static str, value: &str) -> Planted {
    Planted { shape, forms: vec![value.to_string(), base64(value)] }
}

fn base64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn write(dir: &Path, relative: &str, text: &str) {
    let path = dir.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The test rule: fails on every resource of the types it names, renders the resource whole.
fn echo_rule(dir: &Path) {
    write(
        dir,
        "rules/TST-001.yaml",
        "id: TST-001\ntitle: Echoes what it judges\nseverity: warning\ncharter: none\nhelp: A test rule that prints every value of what it judges.\n\
         sources: [tf, k8s, aws, eks]\n\
         resource_types: [provider.aws, variable, aws_db_instance, aws_secretsmanager_secret_version, aws_secretsmanager_secret, aws_s3_bucket,\n  \
         helm_release, aws_ssm_parameter, aws_kms_key, Secret, ConfigMap, Deployment]\n\
         checks:\n  - check: 'false'\n    location: resource\n    message: 'judged {{ resource }}'\n",
    );
}

/// What one run printed: its exit code, and every output by name.
struct Run {
    code: Option<i32>,
    outputs: Vec<(String, String)>,
}

impl Run {
    fn output(&self, name: &str) -> &str {
        self.outputs.iter().find(|(n, _)| n.ends_with(name)).map(|(_, text)| text.as_str()).unwrap_or_else(|| panic!("no output {name}"))
    }

    fn json(&self) -> Value {
        serde_json::from_str(self.output(".json")).expect("the JSON report parses")
    }

    /// The messages of the findings of `rule`.
    fn messages(&self, rule: &str) -> Vec<String> {
        let json = self.json();
        json["findings"].as_array().unwrap().iter().filter(|f| f["rule_id"] == rule).map(|f| f["message"].as_str().unwrap().to_string()).collect()
    }
}

/// Runs charterguard in `dir` with every report format, named `NAME.txt` (human), `NAME.json`,
/// `NAME.sarif`, `NAME.markdown`, `NAME.junit` and `NAME.html`.
fn run(dir: &Path, name: &str, args: &[&str], setup: impl FnOnce(&mut Command)) -> Run {
    let mut cli = common::cli(dir).args(args).args(["--format", "human", "-o", &format!("{name}.txt")]);
    for format in ["json", "sarif", "markdown", "junit", "html"] {
        cli = cli.args(["--report", &format!("{format}={name}.{format}")]);
    }
    setup(cli.command());
    let output = cli.output();
    let mut outputs = vec![
        (format!("{name} stdout"), String::from_utf8_lossy(&output.stdout).into_owned()),
        (format!("{name} stderr"), String::from_utf8_lossy(&output.stderr).into_owned()),
    ];
    for format in ["txt", "json", "sarif", "markdown", "junit", "html"] {
        let file = format!("{name}.{format}");
        let text = std::fs::read_to_string(dir.join(&file)).unwrap_or_else(|e| panic!("{file}: {e}\nstderr:\n{}", outputs[1].1));
        outputs.push((file, text));
    }
    let sarif: Value = serde_json::from_str(&outputs.iter().find(|(n, _)| n.ends_with(".sarif")).unwrap().1).unwrap();
    common::validate_sarif(&sarif).unwrap_or_else(|e| panic!("{name}: invalid SARIF:\n{e}"));
    Run { code: output.status.code(), outputs }
}

/// Every planted secret, in every form, is absent from every output.
fn assert_never_printed(runs: &[&Run], planted: &[Planted]) {
    let mut leaks = Vec::new();
    for (name, text) in runs.iter().flat_map(|r| &r.outputs) {
        for p in planted {
            for form in p.forms.iter().filter(|form| text.contains(form.as_str())) {
                leaks.push(format!("{name} prints the {} ({form})", p.shape));
            }
        }
    }
    assert!(leaks.is_empty(), "secrets printed:\n{}", leaks.join("\n"));
}

/// Terraform code, tfvars, `.tf.json`, a plan, Kubernetes manifests and a Helm chart, each
/// with its secrets.
#[test]
fn scan_prints_no_planted_secret() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    echo_rule(dir);
    let mut planted = terraform_sources(dir);
    planted.extend(plan_source(dir));
    planted.extend(kubernetes_sources(dir));
    planted.extend(helm_chart(dir));
    let set = plant("Helm --set value rendered into an env literal", "pl4nted-helm-set-0031");
    assert!(planted.len() >= 20, "{} secrets planted", planted.len());

    let repo = run(dir, "repo", &["scan", "repo", "--rules", "rules"], |_| {});
    assert_eq!(repo.code, Some(1), "{}", repo.output("stderr"));
    let set_arg = format!("dbPassword={}", set.forms[0]);
    let args = ["scan", "--helm", "chart", "--release", "app", "--namespace", "altscore-api", "--set", &set_arg, "--rules", "rules"];
    let helm = run(dir, "helm", &args, |command| {
        command.env("PATH", peers::helm_path());
    });
    assert_eq!(helm.code, Some(1), "{}", helm.output("stderr"));
    planted.push(set);

    // Every source was judged, with findings whose frames and messages held the secrets.
    let human = repo.output(".txt");
    for frame in ["access_key = <redacted>", "password          = <redacted>", "secret_string = <redacted>", "tags = { webhook_password = <redacted> }"] {
        assert!(human.contains(frame), "a frame shows {frame:?} with its key:\n{human}");
    }
    for frame in ["  config.json: <redacted>", "DB_PASSWORD: <redacted>", "locals { stripe_secret = <redacted> }", "\"password\":<redacted>"] {
        assert!(human.contains(frame), "a frame shows {frame:?} with its key:\n{human}");
    }
    let json = repo.json();
    let files: Vec<&str> = json["findings"].as_array().unwrap().iter().filter(|f| f["rule_id"] == "TST-001").map(|f| f["file"].as_str().unwrap()).collect();
    for file in [
        "repo/terraform/main.tf",
        "repo/terraform/extra.tf.json",
        "repo/plan/plan.json",
        "repo/k8s/secret.yaml",
        "repo/k8s/configmap.yaml",
        "repo/k8s/deployment.yaml",
    ] {
        assert!(files.contains(&file), "TST-001 judged nothing in {file}: {files:?}");
    }
    for rule in ["SEC-002", "SEC-003", "SEC-004"] {
        assert!(!repo.messages(rule).is_empty(), "no {rule} finding");
    }
    let echoed = repo.messages("TST-001").join("\n");
    assert!(echoed.contains("postgres") && echoed.matches("<redacted>").count() >= 20, "the test rule renders whole resources:\n{echoed}");
    assert!(helm.messages("TST-001").iter().any(|m| m.starts_with("Deployment ") && m.contains("<redacted>")), "{:?}", helm.messages("TST-001"));
    assert!(helm.output(".txt").contains("stringData: {password: <redacted>}"), "{}", helm.output(".txt"));
    assert_never_printed(&[&repo, &helm], &planted);
}

/// The config's `secrets:` words decide what reports hide as they decide what SEC-002
/// reports: a platform's own secret word (`pin`) is hidden in every format, and the same
/// scan without the config prints it (the test rule echoes the ConfigMap).
#[test]
fn configured_secret_words_are_hidden_as_they_are_reported() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    echo_rule(dir);
    let pin = plant("value of a configured secret word", "pl4nted-card-pin-0051");
    let configmap =
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: card-gateway\n  namespace: altscore-api\ndata:\n  CARD_PIN: {}\n", pin.forms[0]);
    write(dir, "repo/configmap.yaml", &configmap);
    let unconfigured = run(dir, "unconfigured", &["scan", "repo", "--rules", "rules"], |_| {});
    assert!(unconfigured.messages("SEC-002").is_empty() && unconfigured.output(".json").contains(&pin.forms[0]), "the control prints it");
    write(dir, "repo/charterguard.yaml", "secrets:\n  names: [pin]\n");
    let configured = run(dir, "configured", &["scan", "repo", "--rules", "rules"], |_| {});
    assert!(configured.messages("SEC-002").iter().any(|m| m.contains("CARD_PIN")), "{}", configured.output(".json"));
    assert!(configured.output(".txt").contains("CARD_PIN: <redacted>"), "{}", configured.output(".txt"));
    assert_never_printed(&[&configured], &[pin]);
}

fn terraform_sources(dir: &Path) -> Vec<Planted> {
    let planted = vec![
        plant("AWS access key id of a provider", "AKIAPL4NTEDPROVIDER1"),
        plant("provider secret key", "pl4nted/Provider+SecretKey0002"),
        plant("default of a secret-named variable", "pl4nted-variable-default-0003"),
        plant("secret-named local", "sk_live_pl4ntedLocal0004"),
        plant("database password literal", "pl4nted-db-password-0005"),
        plant("JSON in a heredoc", "pl4nted-heredoc-0006"),
        plant("secret-named tag", "pl4nted-tag-password-0007"),
        plant("default of a sensitive variable", "pl4nted-sensitive-default-0008"),
        plant("Helm set block value beside a secret name", "pl4nted-helm-set-block-0009"),
        plant("tfvars value of a secret variable", "pl4nted-tfvars-0010"),
        plant("high-entropy tfvars literal under a key-like name", "Pl4ntQ8zR2lXp0Vw7Nk4TyB9sH11"),
        plant(".tf.json variable default", "xoxb-pl4nted-json-0012"),
    ];
    let value = |i: usize| planted[i].forms[0].as_str();
    let main = format!(
        r#"provider "aws" {{
  access_key = "{}"
  secret_key = "{}"
  region     = "ap-south-1"
}}

variable "erp_api_token" {{
  default = "{}"
}}

variable "db_master_password" {{
  type = string
}}

variable "app_settings" {{
  type    = map(string)
  default = {{}}
}}

variable "blob" {{
  default   = "{}"
  sensitive = true
}}

locals {{ stripe_secret = "{}" }}
resource "aws_db_instance" "db" {{
  password          = "{}"
  engine            = "postgres"
  engine_version    = "14"
  storage_encrypted = false
}}

resource "aws_db_instance" "replica" {{
  password = var.db_master_password
  engine   = "postgres"
}}

resource "aws_secretsmanager_secret_version" "cfg" {{
  secret_string = <<EOT
{{"api_key": "{}"}}
EOT
  secret_id     = "cfg"
}}

resource "aws_s3_bucket" "data" {{
  tags = {{ webhook_password = "{}" }}
  bucket = "altscore-data"
}}

resource "helm_release" "app" {{
  set {{
    name  = "auth.password"
    value = "{}"
  }}
  name  = "app"
  chart = "app"
}}
"#,
        value(0),
        value(1),
        value(2),
        value(7),
        value(3),
        value(4),
        value(5),
        value(6),
        value(8),
    );
    write(dir, "repo/terraform/main.tf", &main);
    write(
        dir,
        "repo/terraform/terraform.tfvars",
        &format!("db_master_password = \"{}\"\napp_settings = {{\n  signing_key = \"{}\"\n}}\n", value(9), value(10)),
    );
    let json = json!({"variable": {"slack_token": {"default": value(11)}}, "resource": {"aws_ssm_parameter": {"slack": {"name": "/app/slack", "type": "SecureString", "value": "${var.slack_token}"}}}});
    write(dir, "repo/terraform/extra.tf.json", &serde_json::to_string_pretty(&json).unwrap());
    planted
}

/// A plan as `terraform show -json` writes it: one line, values marked sensitive.
fn plan_source(dir: &Path) -> Vec<Planted> {
    let planted = vec![
        plant("password in a plan", "pl4nted-plan-password-0013"),
        plant("value a plan marks sensitive", "pl4nted-plan-sensitive-0014"),
        plant("sensitive variable of a plan", "pl4nted-plan-variable-0015"),
        plant("sensitive output of a plan", "pl4nted-plan-output-0016"),
    ];
    let value = |i: usize| planted[i].forms[0].as_str();
    let db = json!({"engine": "postgres", "engine_version": "14", "password": value(0), "storage_encrypted": false, "publicly_accessible": true});
    let parameter = json!({"name": "/app/config-blob", "type": "SecureString", "value": value(1)});
    let resource = |rtype: &str, values: &Value, sensitive: Value| {
        json!({"address": format!("{rtype}.planned"), "mode": "managed", "type": rtype, "name": "planned",
               "provider_name": "registry.terraform.io/hashicorp/aws", "schema_version": 0, "values": values, "sensitive_values": sensitive})
    };
    let change = |rtype: &str, after: &Value, sensitive: Value| {
        json!({"address": format!("{rtype}.planned"), "mode": "managed", "type": rtype, "name": "planned",
               "change": {"actions": ["create"], "before": null, "after": after, "after_unknown": {}, "before_sensitive": false, "after_sensitive": sensitive}})
    };
    let plan = json!({
        "format_version": "1.2",
        "terraform_version": "1.9.0",
        "variables": {"db_password": {"value": value(2)}, "region": {"value": "ap-south-1"}},
        "planned_values": {
            "outputs": {"connection": {"sensitive": true, "value": value(3)}},
            "root_module": {"resources": [resource("aws_db_instance", &db, json!({"password": true})), resource("aws_ssm_parameter", &parameter, json!({"value": true}))]}
        },
        "resource_changes": [change("aws_db_instance", &db, json!({"password": true})), change("aws_ssm_parameter", &parameter, json!({"value": true}))],
        "configuration": {"root_module": {
            "variables": {"db_password": {"sensitive": true}, "region": {}},
            "resources": [{"address": "aws_db_instance.planned", "mode": "managed", "type": "aws_db_instance", "name": "planned",
                           "expressions": {"password": {"constant_value": value(0)}, "engine": {"constant_value": "postgres"}}}]
        }}
    });
    write(dir, "repo/plan/plan.json", &plan.to_string());
    planted
}

fn kubernetes_sources(dir: &Path) -> Vec<Planted> {
    let planted = vec![
        plant("Secret stringData password", "pl4nted-stringdata-0017"),
        plant_encoded("Secret data under a neutral key", "pl4nted-data-plain-0018"),
        plant("PEM private key in a Secret", "MIIEpl4ntedPemBody0019"),
        plant("ConfigMap password", "pl4nted-configmap-0020"),
        plant("high-entropy ConfigMap literal under a key-like name", "Pl4ntK9xQ2mV7zR4tW8bN3cJ21"),
        plant("AWS access key id under a neutral key", "AKIAPL4NTEDCONFIGM22"),
        plant_encoded("ConfigMap binaryData token", "pl4nted-binary-0023"),
        plant("password in a config file inside a ConfigMap", "pl4nted-props-0024"),
        plant("env literal token", "pl4nted-env-0025"),
        plant("password in a URL in env", "pl4ntedUrlPw0026"),
        plant("password in a container argument", "pl4nted-arg-0027"),
        plant("Secret value in the last-applied annotation", "pl4nted-lastapplied-0028"),
    ];
    let value = |i: usize| planted[i].forms[0].as_str();
    let applied = json!({"apiVersion": "v1", "kind": "Secret", "stringData": {"password": value(11)}}).to_string();
    let secret = format!(
        "apiVersion: v1\nkind: Secret\nstringData:\n  password: \"{}\"\n  tls.key: |\n    -----BEGIN RSA PRIVATE KEY-----\n    {}\n    -----END RSA PRIVATE KEY-----\n\
         data:\n  config.json: {}\nmetadata:\n  name: app-db\n  namespace: altscore-api\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{applied}'\n",
        value(0),
        value(2),
        planted[1].forms[1],
    );
    write(dir, "repo/k8s/secret.yaml", &secret);
    let configmap = format!(
        "apiVersion: v1\nkind: ConfigMap\ndata:\n  DB_PASSWORD: {}\n  SIGNING_KEY: {}\n  aws_id: {}\n  application.properties: |\n    spring.datasource.url=jdbc:postgresql://db/app\n    spring.datasource.password={}\n\
         binaryData:\n  API_TOKEN: {}\nmetadata:\n  name: app-config\n  namespace: altscore-api\n",
        value(3),
        value(4),
        value(5),
        value(7),
        planted[6].forms[1],
    );
    write(dir, "repo/k8s/configmap.yaml", &configmap);
    let deployment = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\n  namespace: altscore-api\nspec:\n  selector: {{matchLabels: {{app: app}}}}\n  template:\n    metadata: {{labels: {{app: app}}}}\n    spec:\n      containers:\n        - name: app\n          image: app:1.0\n          args: [\"--db-password={}\", \"--verbose\"]\n          env:\n            - name: API_TOKEN\n              value: {}\n            - name: DATABASE_URL\n              value: postgres://app:{}@db:5432/app\n",
        value(10),
        value(8),
        value(9),
    );
    write(dir, "repo/k8s/deployment.yaml", &deployment);
    planted
}

/// A chart whose templates write a secret literal, and whose values and `--set` hold others.
fn helm_chart(dir: &Path) -> Vec<Planted> {
    let planted = vec![plant("literal in a Helm template", "pl4nted-helm-template-0029"), plant("Helm values.yaml secret", "pl4nted-helm-values-0030")];
    write(dir, "chart/Chart.yaml", "apiVersion: v2\nname: planted\nversion: 0.1.0\n");
    write(dir, "chart/values.yaml", &format!("apiToken: {}\ndbPassword: \"\"\n", planted[1].forms[0]));
    write(
        dir,
        "chart/templates/secret.yaml",
        &format!("apiVersion: v1\nkind: Secret\nstringData: {{password: {}}}\nmetadata:\n  name: {{{{ .Release.Name }}}}-db\n", planted[0].forms[0]),
    );
    write(
        dir,
        "chart/templates/configmap.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-config\ndata:\n  API_TOKEN: {{ .Values.apiToken | quote }}\n",
    );
    write(
        dir,
        "chart/templates/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  selector: {matchLabels: {app: app}}\n  template:\n    metadata: {labels: {app: app}}\n    spec:\n      containers:\n        - name: app\n          image: app:1.0\n          env:\n            - name: DB_PASSWORD\n              value: {{ .Values.dbPassword | quote }}\n",
    );
    planted
}

/// Live AWS resources whose tags hold secrets (with a master password and a secret's value
/// the audit never reads), managed by Terraform code and a state that hold others.
#[cfg(feature = "aws")]
#[test]
fn audit_aws_prints_no_planted_secret() {
    let moto = peers::moto::shared();
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    echo_rule(dir);
    let planted = vec![
        plant("bucket tag password", "pl4nted-aws-bucket-tag-01"),
        plant("high-entropy bucket tag under a key-like name", "Pl4ntAwsQ2mV7zR4tW8bN3cJ02"),
        plant("AWS access key id in a bucket tag", "AKIAPL4NTEDAWSTAG003"),
        plant("KMS key tag token", "pl4nted-aws-kms-tag-04"),
        plant("RDS master password", "pl4nted-aws-master-pw-05"),
        plant("RDS tag password", "pl4nted-aws-db-tag-06"),
        plant("Secrets Manager secret value", "pl4nted-aws-secret-string-07"),
        plant("Secrets Manager tag secret", "pl4nted-aws-secret-tag-08"),
        plant("tag in the managing Terraform code", "pl4nted-aws-tf-tag-09"),
        plant("password in the managing Terraform code", "pl4nted-aws-tf-password-10"),
        plant("password in the Terraform state", "pl4nted-aws-state-password-11"),
    ];
    let value = |i: usize| planted[i].forms[0].as_str();
    let seed = json!({
        "bucket_tags": {"layer": "bronze", "db_password": value(0), "signing_key": value(1), "owner_key_id": value(2)},
        "key_tags": {"api_token": value(3)},
        "db_password": value(4),
        "db_tags": {"master_password": value(5)},
        "secret_string": value(6),
        "secret_tags": {"webhook_secret": value(7)},
    });
    write(dir, "planted.json", &seed.to_string());
    let arns = moto.seed_args(&["secrets", dir.join("planted.json").to_str().unwrap()]);
    let code = format!(
        "resource \"aws_s3_bucket\" \"planted\" {{\n  tags   = {{ api_token = \"{}\" }}\n  bucket = \"cg-planted-secrets\"\n}}\n\n\
         resource \"aws_db_instance\" \"planted\" {{\n  password   = \"{}\"\n  identifier = \"cg-planted-db\"\n}}\n",
        value(8),
        value(9),
    );
    write(dir, "terraform/main.tf", &code);
    let managed = |rtype: &str, arn: &Value, extra: Value| {
        let mut attributes = json!({"arn": arn, "id": arn});
        attributes.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        json!({"mode": "managed", "type": rtype, "name": "planted", "instances": [{"schema_version": 0, "attributes": attributes}]})
    };
    let state = json!({"version": 4, "terraform_version": "1.9.0", "serial": 1, "lineage": "planted", "outputs": {}, "resources": [
        managed("aws_s3_bucket", &arns["bucket"], json!({})),
        managed("aws_db_instance", &arns["db"], json!({"password": value(10)})),
    ]});
    write(dir, "state.tfstate", &serde_json::to_string_pretty(&state).unwrap());

    let endpoint = moto.endpoint();
    let args = ["audit", "aws", "terraform", "--tfstate", "state.tfstate", "--endpoint-url", &endpoint, "--regions", "ap-south-1", "--rules", "rules"];
    let audit = run(dir, "aws", &[&args[..], &["--max-attempts", "2", "--call-timeout", "10", "--quiet"]].concat(), |command| moto.apply_env(command));
    assert_eq!(audit.code, Some(1), "{}", audit.output("stderr"));

    let echoed = audit.messages("TST-001");
    let bucket = echoed.iter().find(|m| m.starts_with("arn:aws:s3:::cg-planted-secrets")).unwrap_or_else(|| panic!("{echoed:#?}"));
    assert!(bucket.contains("bronze") && bucket.matches("<redacted>").count() >= 3, "the bucket's tags are read and hidden: {bucket}");
    for arn in ["key", "db", "secret"] {
        assert!(echoed.iter().any(|m| m.starts_with(arns[arn].as_str().unwrap()) && m.contains("<redacted>")), "{arn}: {echoed:#?}");
    }
    let human = audit.output(".txt");
    assert!(human.contains("tags   = { api_token = <redacted> }") && human.contains("password   = <redacted>"), "frames of the managing code:\n{human}");
    assert_never_printed(&[&audit], &planted);
}

/// A live cluster's ConfigMap, Secret and Deployment holding secrets (one also in its
/// last-applied annotation), installed by a chart whose template writes another.
#[cfg(feature = "k8s-live")]
#[test]
fn audit_k8s_prints_no_planted_secret() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    echo_rule(dir);
    let planted = vec![
        plant("ConfigMap password", "pl4nted-k8s-configmap-01"),
        plant("high-entropy ConfigMap literal under a key-like name", "Pl4ntK8sQ2mV7zR4tW8bN3cJ02"),
        plant("password in a config file inside a ConfigMap", "pl4nted-k8s-props-03"),
        plant_encoded("Secret stringData, stored base64", "pl4nted-k8s-stringdata-04"),
        plant_encoded("Secret data", "pl4nted-k8s-data-05"),
        plant("env literal token", "pl4nted-k8s-env-06"),
        plant("password in a URL in env", "pl4ntedK8sUrlPw07"),
        plant("password in a container argument", "pl4nted-k8s-arg-08"),
        plant("ConfigMap value in the last-applied annotation", "pl4nted-k8s-lastapplied-09"),
        plant("literal in the chart template", "pl4nted-k8s-template-10"),
    ];
    let value = |i: usize| planted[i].forms[0].as_str();
    let helm = |name: &str| json!({"name": name, "namespace": "altscore-api", "labels": {"helm.sh/chart": "planted-0.1.0"}, "annotations": {"meta.helm.sh/release-name": "app"}});
    let mut configmap_metadata = helm("app-config");
    let applied = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"DB_PASSWORD": value(8)}}).to_string();
    configmap_metadata["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = json!(applied);
    let objects = vec![
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": configmap_metadata, "data": {
            "DB_PASSWORD": value(0), "SIGNING_KEY": value(1), "application.properties": format!("spring.datasource.password={}\n", value(2))}}),
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": helm("app-db"), "stringData": {"password": value(3)}, "data": {"config.json": planted[4].forms[1]}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": helm("app"), "spec": {
            "selector": {"matchLabels": {"app": "app"}},
            "template": {"metadata": {"labels": {"app": "app"}}, "spec": {"containers": [{"name": "app", "image": "app:1.0",
                "args": [format!("--db-password={}", value(7))],
                "env": [{"name": "API_TOKEN", "value": value(5)}, {"name": "DATABASE_URL", "value": format!("postgres://app:{}@db:5432/app", value(6))}]}]}}}}),
    ];
    write(dir, "chart/Chart.yaml", "apiVersion: v2\nname: planted\nversion: 0.1.0\n");
    write(
        dir,
        "chart/templates/configmap.yaml",
        &format!("apiVersion: v1\nkind: ConfigMap\ndata: {{DB_PASSWORD: \"{}\"}}\nmetadata:\n  name: {{{{ .Release.Name }}}}-config\n", value(9)),
    );
    write(dir, "chart/templates/secret.yaml", "apiVersion: v1\nkind: Secret\nstringData:\n  password: {{ .Values.password }}\n");
    write(dir, "chart/templates/deployment.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n");
    let server = k8s_api::Server::start(k8s_api::Cluster { objects, ..k8s_api::Cluster::default() });
    let kubeconfig = server.kubeconfig(dir);
    let args = ["audit", "k8s", "--kubeconfig", kubeconfig.to_str().unwrap(), "--chart", "chart", "--rules", "rules", "--quiet"];
    let audit = run(dir, "k8s", &args, |_| {});
    assert_eq!(audit.code, Some(1), "{}", audit.output("stderr"));

    let echoed = audit.messages("TST-001");
    let configmap = echoed.iter().find(|m| m.starts_with("ConfigMap altscore-api/app-config")).unwrap_or_else(|| panic!("{echoed:#?}"));
    assert!(configmap.matches("<redacted>").count() >= 3, "the ConfigMap is read and its secrets hidden: {configmap}");
    assert!(echoed.iter().any(|m| m.starts_with("Deployment altscore-api/app") && m.contains("<redacted>")), "{echoed:#?}");
    assert!(!audit.messages("SEC-002").is_empty() && !audit.messages("SEC-003").is_empty());
    let human = audit.output(".txt");
    assert!(human.contains("data: {DB_PASSWORD: <redacted>}"), "the chart template's frame:\n{human}");
    assert_never_printed(&[&audit], &planted);
}

//! The charter's tunables (RULES.md lists them with these defaults) and per-rule overrides,
//! from a `charterguard.yaml`. Rules read the tunables as the CEL variable `config` and
//! through the helper functions. Unknown keys are an error, never ignored.

use crate::model::Severity;
use crate::model::{Diagnostic, Span};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The file name looked for at the scanned root.
pub const FILE_NAME: &str = "charterguard.yaml";

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// AWS regions inside India.
    pub india_regions: Vec<String>,
    /// Where production runs.
    pub primary_region: String,
    /// Azure locations inside India.
    pub azure_india_locations: Vec<String>,
    /// Tag whose value names the data-lake layer (matched case-insensitively).
    pub layer_tag: String,
    /// The data-lake layers; a bucket without the tag belongs to the layer its name contains.
    pub layers: Vec<String>,
    /// Tag whose value names the distributor (matched case-insensitively).
    pub distributor_tag: String,
    /// Regular expression whose first group finds a distributor id in a bucket name when the
    /// tag is absent.
    pub distributor_name_pattern: String,
    /// Regular expression an image reference must match to come from the trusted registry.
    pub trusted_registry: String,
    /// The charter's namespaces and their resource quotas.
    pub namespaces: BTreeMap<String, Quota>,
    /// Per-rule overrides, by rule id.
    #[serde(skip_serializing)]
    pub rules: BTreeMap<String, RuleOverride>,
    /// Whether findings that could not decide fail the run (`undecided: fail`, as
    /// `--fail-on-undecided`) or are only reported.
    #[serde(skip_serializing)]
    pub undecided: UndecidedPolicy,
    /// Central suppressions (docs/suppressions-and-baselines.md).
    #[serde(skip_serializing)]
    pub ignores: Vec<Ignore>,
    /// The environments (ENV-004, ENV-005): each one's AWS account and the root modules (or
    /// var-files of a shared root module) that describe it. Empty: those rules do not run.
    pub environments: BTreeMap<String, Environment>,
    /// What ENV-004 compares between staging and production, by kind of setting: dotted
    /// attribute paths, read on every resource type that has them.
    pub mirrored_settings: BTreeMap<String, Vec<String>>,
    /// The subnet tiers (NET-002, NET-003, NET-004), in order of precedence: the words that
    /// name each in a `Tier` or `Name` tag or a resource name, and its ranges in the charter's
    /// CIDR plan.
    pub subnet_tiers: Vec<SubnetTier>,
    /// EKS-002's node groups, by role: a word of a group's name names its role.
    pub node_groups: BTreeMap<String, NodeGroup>,
    /// OBS-001's alerts: each one's id and the pattern that recognises it in a
    /// PrometheusRule (case-insensitive; searched in `alert expr`).
    pub charter_alerts: BTreeMap<String, String>,
    /// What looks like a secret, for SEC-002, SEC-004 and the redaction of every report: the
    /// words of [`crate::redact::vocabulary::Words`], the charter's unless given.
    #[serde(skip_serializing)]
    pub secrets: crate::redact::vocabulary::Vocabulary,
    /// How Helm charts found in the scanned files are rendered.
    #[serde(skip_serializing)]
    pub helm: HelmSettings,
    /// Which Argo CD Applications deploy from the scanned repository.
    #[serde(skip_serializing)]
    pub argocd: ArgoCdSettings,
    /// The file the config was read from, as reports show it (for diagnostics about
    /// `ignores`).
    #[serde(skip)]
    pub source: Option<Arc<str>>,
    /// The directory of that file: paths in the config are relative to it.
    #[serde(skip)]
    pub dir: Option<PathBuf>,
}

/// One subnet tier: `{name: db, words: [db, rds, ...], cidrs: [10.0.30.0/24]}`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SubnetTier {
    pub name: String,
    pub words: Vec<String>,
    #[serde(default)]
    pub cidrs: Vec<String>,
}

/// One of EKS-002's node groups: `{instance_type: c6i.xlarge, min_size: 3, max_size: 20,
/// taint: {key: workload, value: api}}` (the taint's effect is always NoSchedule).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NodeGroup {
    pub instance_type: String,
    pub min_size: u32,
    pub max_size: u32,
    pub taint: Taint,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Taint {
    pub key: String,
    pub value: String,
}

/// One environment: `{account: "111111111111", paths: [envs/prod]}`, or a root module shared by
/// several environments with this one's var-files (`paths: [platform]`, `var_files:
/// [env/prod.tfvars]`). Paths are relative to the config file.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    /// The AWS account the environment runs in (12 digits).
    #[serde(default)]
    pub account: Option<String>,
    #[serde(default, skip_serializing)]
    pub paths: Vec<PathBuf>,
    #[serde(default, skip_serializing)]
    pub var_files: Vec<PathBuf>,
    /// The words that name the environment inside resource names and `Name` tags
    /// (`altscore-prod-scores`), by which the live audit matches staging's resources with
    /// production's (ENV-004). Default: the environment's own name and its usual
    /// abbreviations ([`ENVIRONMENT_WORDS`]).
    #[serde(default, skip_serializing)]
    pub names: Vec<String>,
    /// Where the entry is written.
    #[serde(skip)]
    pub span: Option<Span>,
}

/// `helm:` — `skip` (charts are noted, not rendered), or the charts that need more than their
/// default values: `{charts: [{path, release, namespace, values, set, renders: [...]}]}`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(from = "HelmSetting")]
pub struct HelmSettings {
    pub skip: bool,
    pub charts: Vec<ChartSettings>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum HelmSetting {
    Word(HelmWord),
    Charts(HelmCharts),
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum HelmWord {
    Skip,
    Render,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HelmCharts {
    #[serde(default)]
    charts: Vec<ChartSettings>,
}

impl From<HelmSetting> for HelmSettings {
    fn from(setting: HelmSetting) -> Self {
        match setting {
            HelmSetting::Word(HelmWord::Skip) => HelmSettings { skip: true, charts: Vec::new() },
            HelmSetting::Word(HelmWord::Render) => HelmSettings::default(),
            HelmSetting::Charts(HelmCharts { charts }) => HelmSettings { skip: false, charts },
        }
    }
}

/// How one chart is rendered: `path` is relative to the config file, `values` files to the
/// chart directory (as Argo CD's `valueFiles`). With `renders`, the chart is rendered once per
/// entry (one per environment), each adding its own values and sets to the chart's.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ChartSettings {
    pub path: PathBuf,
    #[serde(default)]
    pub release: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub values: Vec<PathBuf>,
    #[serde(default)]
    pub set: Vec<String>,
    #[serde(default)]
    pub renders: Vec<NamedRender>,
    #[serde(skip)]
    pub span: Option<Span>,
}

/// One of several renders of a chart, named in findings (`prod`, `dev`): its release name and
/// namespace replace the chart's, its values files and sets come after the chart's.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NamedRender {
    pub name: String,
    #[serde(default)]
    pub release: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub values: Vec<PathBuf>,
    #[serde(default)]
    pub set: Vec<String>,
    #[serde(skip)]
    pub span: Option<Span>,
}

/// `argocd:` — the URLs of the scanned repository as Applications spell `repoURL` (besides
/// the git remotes of the repository itself), and its root (`path` of an Application is
/// relative to it; default: the config file's directory).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ArgoCdSettings {
    #[serde(default)]
    pub repo_urls: Vec<String>,
    #[serde(default)]
    pub root: Option<PathBuf>,
}

/// One entry of `ignores:`: accepts the findings of `rule` (an id, or `*` for every rule),
/// narrowed to files matching `path` and resources matching `resource` (both globs), for
/// `reason`, until the end of the day `until` (YYYY-MM-DD).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Ignore {
    pub rule: String,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub resource: Option<String>,
    /// Mandatory; checked by the suppression pass so a missing reason is a diagnostic that
    /// names the entry's line rather than a parse error.
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub until: Option<String>,
    /// Where the entry is written.
    #[serde(skip)]
    pub span: Option<Span>,
}

/// What an undecided finding does to the exit code.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UndecidedPolicy {
    /// Reported, never failing the run: a value may truly be unknown before apply.
    #[default]
    Report,
    /// Fails the run like a violation of its rule's severity would.
    Fail,
}

/// The most a charter namespace may request.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Quota {
    /// CPU cores, as Kubernetes writes them (`4`, `500m`).
    pub cpu: String,
    /// Memory, as Kubernetes writes it (`8Gi`).
    pub memory: String,
}

/// Changes to one rule: a different severity, or switched off.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RuleOverride {
    pub severity: Option<Severity>,
    #[serde(default = "enabled")]
    pub enabled: bool,
}

fn enabled() -> bool {
    true
}

impl Default for Config {
    fn default() -> Self {
        let strings = |items: &[&str]| items.iter().map(|s| s.to_string()).collect();
        let quota = |cpu: &str, memory: &str| Quota { cpu: cpu.into(), memory: memory.into() };
        Config {
            india_regions: strings(&["ap-south-1", "ap-south-2"]),
            primary_region: "ap-south-1".into(),
            azure_india_locations: strings(&["centralindia", "southindia", "westindia", "jioindiacentral", "jioindiawest"]),
            layer_tag: "layer".into(),
            layers: strings(&["bronze", "silver", "gold", "audit"]),
            distributor_tag: "distributor".into(),
            distributor_name_pattern: r"(?:^|[^a-z0-9])(dst-[0-9]+)(?:$|[^a-z0-9])".into(),
            trusted_registry: r"^[0-9]{12}\.dkr\.ecr\.ap-south-1\.amazonaws\.com/".into(),
            namespaces: BTreeMap::from([
                ("altscore-api".to_string(), quota("4", "8Gi")),
                ("altscore-ml".to_string(), quota("16", "64Gi")),
                ("altscore-data".to_string(), quota("8", "32Gi")),
                ("altscore-gateway".to_string(), quota("2", "4Gi")),
                ("altscore-monitoring".to_string(), quota("2", "4Gi")),
                ("istio-system".to_string(), quota("2", "4Gi")),
            ]),
            rules: BTreeMap::new(),
            undecided: UndecidedPolicy::Report,
            ignores: Vec::new(),
            environments: BTreeMap::new(),
            mirrored_settings: BTreeMap::from([
                (
                    "instance types".to_string(),
                    strings(&[
                        "instance_type",
                        "instance_class",
                        "node_type",
                        "instance_types",
                        "broker_node_group_info.instance_type",
                        "db_cluster_instance_class",
                    ]),
                ),
                ("versions".to_string(), strings(&["engine", "engine_version", "version", "kafka_version", "cluster_version"])),
                (
                    "encryption".to_string(),
                    strings(&[
                        "storage_encrypted",
                        "encrypted",
                        "at_rest_encryption_enabled",
                        "transit_encryption_enabled",
                        "encryption_info.encryption_in_transit.client_broker",
                        "customer_master_key_spec",
                        "enable_key_rotation",
                        "rule.apply_server_side_encryption_by_default.sse_algorithm",
                    ]),
                ),
                (
                    "security group rules".to_string(),
                    strings(&[
                        "type",
                        "from_port",
                        "to_port",
                        "protocol",
                        "ip_protocol",
                        "ingress.from_port",
                        "ingress.to_port",
                        "ingress.protocol",
                        "egress.from_port",
                        "egress.to_port",
                        "egress.protocol",
                    ]),
                ),
            ]),
            subnet_tiers: vec![
                tier("db", &["db", "database", "databases", "rds", "postgres", "postgresql", "redis", "kafka", "msk"], &["10.0.30.0/24"]),
                tier("data", &["data", "ml", "analytics", "lake", "datalake"], &["10.0.20.0/23"]),
                tier("public", &["public", "dmz", "edge", "ingress", "alb", "lb"], &["10.0.0.0/24"]),
                tier("app", &["app", "apps", "application", "private", "eks", "workload", "workloads", "nodes"], &["10.0.10.0/23"]),
            ],
            node_groups: BTreeMap::from([
                node_group("api", "c6i.xlarge", 3, 20, "workload"),
                node_group("ml", "m6i.2xlarge", 2, 10, "workload"),
                node_group("system", "t3.medium", 3, 3, "node-role"),
            ]),
            charter_alerts: CHARTER_ALERTS.iter().map(|(id, pattern)| (id.to_string(), pattern.to_string())).collect(),
            secrets: crate::redact::vocabulary::Vocabulary::charter().clone(),
            helm: HelmSettings::default(),
            argocd: ArgoCdSettings::default(),
            source: None,
            dir: None,
        }
    }
}

/// The usual abbreviations of environment names in resource names, added to an
/// environment's own name when its entry sets no `names:`.
pub const ENVIRONMENT_WORDS: &[(&str, &[&str])] = &[
    ("production", &["prod", "prd"]),
    ("prod", &["production", "prd"]),
    ("staging", &["stage", "stg"]),
    ("stage", &["staging", "stg"]),
    ("dev", &["development", "develop"]),
    ("development", &["dev"]),
];

impl Environment {
    /// The words that name environment `name` in resource names, lower-case.
    pub fn words(&self, name: &str) -> Vec<String> {
        if !self.names.is_empty() {
            return self.names.iter().map(|w| w.to_lowercase()).collect();
        }
        let abbreviations = ENVIRONMENT_WORDS.iter().filter(|(full, _)| *full == name).flat_map(|(_, words)| words.iter());
        std::iter::once(&name).chain(abbreviations).map(|w| w.to_lowercase()).collect()
    }
}

fn tier(name: &str, words: &[&str], cidrs: &[&str]) -> SubnetTier {
    let strings = |items: &[&str]| items.iter().map(|s| s.to_string()).collect();
    SubnetTier { name: name.into(), words: strings(words), cidrs: strings(cidrs) }
}

fn node_group(role: &str, instance_type: &str, min_size: u32, max_size: u32, taint_key: &str) -> (String, NodeGroup) {
    let taint = Taint { key: taint_key.into(), value: role.into() };
    (role.into(), NodeGroup { instance_type: instance_type.into(), min_size, max_size, taint })
}

/// The charter's alerts (OBS-001) and how each is recognised, by alert name or expression.
const CHARTER_ALERTS: &[(&str, &str)] = &[
    ("score_5xx", r"(?is)score.*(5xx|5\.\.|=~\s*.5|error.?rate|errors)|(5xx|5\.\.|=~\s*.5|error.?rate|errors).*score"),
    ("score_p95", r"(?is)score.*(p95|latency|histogram_quantile\(\s*0?\.95)|(p95|latency|histogram_quantile\(\s*0?\.95).*score"),
    (
        "consent_health",
        r"(?is)consent.*(health|down|unreachable|unhealthy|probe_success|\bup\b)|(health|down|unreachable|unhealthy|probe_success|\bup\b).*consent",
    ),
    (
        "gold_stale",
        r"(?is)gold.*(stale|fresh|age|not.?updated|sla|last.?(update|success|run|write))|(stale|fresh|age|not.?updated|sla|last.?(update|success|run|write)).*gold",
    ),
    ("audit_lag", r"(?is)audit.*lag|lag.*audit"),
    ("cert_expiry", r"(?is)(cert|ssl|tls|x509).*(expir|days|notafter)|certmanager_certificate_expiration_timestamp_seconds|probe_ssl_earliest_cert_expiry"),
];

impl Config {
    /// Reads a config file; keys left out keep their defaults. Errors name the file (and the
    /// line when the YAML itself is broken).
    pub fn load(path: &Path, shown: &str) -> Result<Config, Diagnostic> {
        let text = std::fs::read_to_string(path).map_err(|e| Diagnostic::error(shown, None, format!("cannot read the config file: {e}")))?;
        let mut config = Config::parse(shown, &text)?;
        config.dir = path.parent().map(|dir| if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir.to_path_buf() });
        config.check_environment_paths(shown)?;
        Ok(config)
    }

    pub fn parse(shown: &str, text: &str) -> Result<Config, Diagnostic> {
        let file: Arc<str> = shown.into();
        let documents = crate::yaml::load(&file, text, &crate::yaml::Limits::default())?;
        let Some(document) = documents.first() else { return Ok(Config::default()) };
        let mut config: Config = serde_json::from_value(document.root.to_json())
            .map_err(|e| Diagnostic::error(shown, Some(document.span.clone()), format!("invalid config: {e}")))?;
        config.source = Some(file.clone());
        let spans = |node: Option<&crate::model::Node>| -> Vec<Option<Span>> {
            match node.map(|n| &n.value) {
                Some(crate::model::Value::List(entries)) => entries.iter().map(|e| e.span.clone().or_else(|| Some(document.span.clone()))).collect(),
                _ => Vec::new(),
            }
        };
        for (ignore, span) in config.ignores.iter_mut().zip(spans(document.root.get("ignores"))) {
            ignore.span = span;
        }
        let charts = match document.root.get("helm").and_then(|h| h.get("charts")).map(|c| &c.value) {
            Some(crate::model::Value::List(charts)) => charts.as_slice(),
            _ => &[],
        };
        for (chart, node) in config.helm.charts.iter_mut().zip(charts) {
            chart.span = node.span.clone().or_else(|| Some(document.span.clone()));
            for (render, span) in chart.renders.iter_mut().zip(spans(node.get("renders"))) {
                render.span = span;
            }
        }
        if let Some(crate::model::Value::Map(entries)) = document.root.get("environments").map(|n| &n.value) {
            for (name, node) in entries {
                if let Some(environment) = config.environments.get_mut(name) {
                    environment.span = node.span.clone().or_else(|| Some(document.span.clone()));
                }
            }
        }
        config.check_environment_accounts(shown)?;
        // Where an entry of a table is written: `charter_alerts.audit_lag`, `subnet_tiers[1]`.
        let at = |key: &str, entry: Option<&str>, index: Option<usize>| {
            let table = document.root.get(key);
            let node = match (entry, index, table.map(|t| &t.value)) {
                (Some(entry), _, _) => table.and_then(|t| t.get(entry)),
                (None, Some(i), Some(crate::model::Value::List(items))) => items.get(i),
                _ => table,
            };
            node.and_then(|n| n.span.clone())
        };
        let patterns = [("distributor_name_pattern", &config.distributor_name_pattern), ("trusted_registry", &config.trusted_registry)];
        for (key, entry, pattern) in
            patterns.into_iter().map(|(k, p)| (k, None, p)).chain(config.charter_alerts.iter().map(|(id, p)| ("charter_alerts", Some(id.as_str()), p)))
        {
            crate::model::pattern::compiled(pattern)
                .map_err(|e| Diagnostic::error(shown, at(key, entry, None), format!("invalid regular expression `{pattern}`: {e}")))?;
        }
        for (i, tier) in config.subnet_tiers.iter().enumerate() {
            if let Some(bad) = tier.cidrs.iter().find(|cidr| cidr.parse::<ipnet::IpNet>().is_err()) {
                return Err(Diagnostic::error(shown, at("subnet_tiers", None, Some(i)), format!("subnet tier {}: `{bad}` is not a CIDR range", tier.name)));
            }
        }
        Ok(config)
    }
}

impl Config {
    /// Every account id is 12 digits, and no two environments claim one account.
    fn check_environment_accounts(&self, shown: &str) -> Result<(), Diagnostic> {
        let mut claimed: BTreeMap<&str, &str> = BTreeMap::new();
        for (name, environment) in &self.environments {
            let Some(account) = environment.account.as_deref() else { continue };
            let error = |message: String| Diagnostic::error(shown, environment.span.clone(), message);
            if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
                return Err(error(format!("environment {name}: account {account:?} is not a 12-digit AWS account id")));
            }
            if let Some(other) = claimed.insert(account, name) {
                return Err(error(format!("environments {other} and {name} both claim account {account}: environments are isolated accounts")));
            }
        }
        Ok(())
    }

    /// Every environment's root modules and var-files exist (relative to the config file).
    fn check_environment_paths(&self, shown: &str) -> Result<(), Diagnostic> {
        for (name, environment) in &self.environments {
            for path in environment.paths.iter().chain(&environment.var_files) {
                let full = self.relative(path);
                if !full.exists() {
                    return Err(Diagnostic::error(shown, environment.span.clone(), format!("environment {name}: {} does not exist", path.display())));
                }
            }
        }
        Ok(())
    }

    /// A path written in the config, relative to the config file's directory.
    pub fn relative(&self, path: &Path) -> PathBuf {
        self.dir.as_ref().map_or_else(|| path.to_path_buf(), |dir| dir.join(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_catalogue() {
        let config = Config::default();
        assert_eq!(config.india_regions, ["ap-south-1", "ap-south-2"]);
        assert_eq!(config.namespaces["altscore-ml"], Quota { cpu: "16".into(), memory: "64Gi".into() });
    }

    #[test]
    fn a_file_overrides_some_keys_and_rules() {
        let config =
            Config::parse("charterguard.yaml", "primary_region: ap-south-2\nrules:\n  ENC-004: {severity: error}\n  OBS-001: {enabled: false}\n").unwrap();
        assert_eq!(config.primary_region, "ap-south-2");
        assert_eq!(config.india_regions.len(), 2, "keys left out keep their defaults");
        assert_eq!(config.rules["ENC-004"].severity, Some(Severity::Error));
        assert!(!config.rules["OBS-001"].enabled);
    }

    #[test]
    fn undecided_findings_fail_only_when_asked() {
        assert_eq!(Config::default().undecided, UndecidedPolicy::Report);
        assert_eq!(Config::parse("charterguard.yaml", "undecided: fail\n").unwrap().undecided, UndecidedPolicy::Fail);
        assert_eq!(Config::parse("charterguard.yaml", "undecided: report\n").unwrap().undecided, UndecidedPolicy::Report);
        let error = Config::parse("charterguard.yaml", "undecided: error\n").unwrap_err();
        assert!(error.message.contains("unknown variant `error`"), "{}", error.message);
    }

    #[test]
    fn unknown_keys_are_errors() {
        let error = Config::parse("charterguard.yaml", "india_region: [ap-south-1]\n").unwrap_err();
        assert!(error.message.contains("unknown field `india_region`"), "{}", error.message);
        let error = Config::parse("charterguard.yaml", "rules:\n  ENC-001: {severty: note}\n").unwrap_err();
        assert!(error.message.contains("unknown field"), "{}", error.message);
        assert!(Config::parse("charterguard.yaml", "trusted_registry: '('\n").is_err());
        let error = Config::parse("charterguard.yaml", "ignores:\n  - {rule: ENC-001, reason: r, resourse: x}\n").unwrap_err();
        assert!(error.message.contains("unknown field `resourse`"), "{}", error.message);
    }

    #[test]
    fn charter_tables_are_tunable_and_checked_where_they_are_written() {
        let text = "node_groups:\n  api: {instance_type: c7i.xlarge, min_size: 3, max_size: 30, taint: {key: workload, value: api}}\n";
        let config = Config::parse("charterguard.yaml", text).unwrap();
        assert_eq!(config.node_groups["api"].instance_type, "c7i.xlarge");
        assert_eq!(config.charter_alerts.len(), 6, "left out, a table keeps its defaults");
        let error = Config::parse("charterguard.yaml", "subnet_tiers:\n  - {name: db, words: [db], cidrs: [10.0.300.0/24]}\n").unwrap_err();
        assert_eq!(error.to_string(), "charterguard.yaml:2:5: subnet tier db: `10.0.300.0/24` is not a CIDR range");
        let error = Config::parse("charterguard.yaml", "charter_alerts:\n  audit_lag: 'audit(lag'\n").unwrap_err();
        assert!(error.to_string().starts_with("charterguard.yaml:2:14: invalid regular expression `audit(lag`"), "{error}");
    }

    #[test]
    fn environments_are_checked_where_they_are_written() {
        let text = "environments:\n  production: {account: \"111111111111\", paths: [envs/prod]}\n  staging: {account: \"22222222222\"}\n";
        let error = Config::parse("charterguard.yaml", text).unwrap_err();
        assert_eq!(error.to_string(), "charterguard.yaml:3:12: environment staging: account \"22222222222\" is not a 12-digit AWS account id");
        let text = "environments:\n  production: {account: \"111111111111\"}\n  staging: {account: \"111111111111\"}\n";
        let error = Config::parse("charterguard.yaml", text).unwrap_err();
        assert!(error.to_string().contains("environments production and staging both claim account 111111111111"), "{error}");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("charterguard.yaml"), "environments:\n  dev: {paths: [envs/dev]}\n").unwrap();
        let error = Config::load(&dir.path().join("charterguard.yaml"), "charterguard.yaml").unwrap_err();
        assert_eq!(error.to_string(), "charterguard.yaml:2:8: environment dev: envs/dev does not exist");
        std::fs::create_dir_all(dir.path().join("envs/dev")).unwrap();
        let config = Config::load(&dir.path().join("charterguard.yaml"), "charterguard.yaml").unwrap();
        assert_eq!(config.environments["dev"].paths, [PathBuf::from("envs/dev")]);
    }

    #[test]
    fn ignores_remember_their_lines() {
        let text = "primary_region: ap-south-1\nignores:\n  - rule: ENC-001\n    reason: legacy\n  - rule: '*'\n    path: 'legacy/**'\n    reason: frozen\n    until: 2027-03-31\n";
        let config = Config::parse("charterguard.yaml", text).unwrap();
        assert_eq!(config.ignores.len(), 2);
        assert_eq!(config.ignores[0].span.as_ref().unwrap().start_line, 3);
        assert_eq!(config.ignores[1].span.as_ref().unwrap().start_line, 5);
        assert_eq!(config.ignores[1].until.as_deref(), Some("2027-03-31"));
        assert_eq!(config.ignores[1].path.as_deref(), Some("legacy/**"));
    }
}

//! CEL helpers for the Kubernetes-side rules (SEC-002, K8S-*, TLS-002..004, OBS-001):
//! objects by kind and namespace, labels, secret-looking keys and values, Kubernetes
//! quantities, Go durations, NetworkPolicy peers and the charter's Prometheus alerts.
//! Regular expressions are compiled once per process, never per call.

use super::{known_string as text, regex, undecided, Helpers};
use crate::config::Config;
use crate::engine::lookup::Lookup;
use crate::engine::values::{display, field, string};
use crate::model::pattern::LazyRegex;
use crate::redact::vocabulary::Vocabulary;
use cel::objects::Key;
#[cfg(test)]
use cel::objects::Map;
use cel::ExecutionError;
use std::sync::Arc;

type Result<T = cel::Value> = std::result::Result<T, ExecutionError>;

/// The charter's alerts (`charter_alerts`), each with the pattern that recognises it.
fn charter_alerts(config: &Config) -> Vec<(String, LazyRegex)> {
    config.charter_alerts.iter().map(|(id, pattern)| (id.clone(), LazyRegex::new(pattern))).collect()
}

/// Registers the helpers on a root context.
pub fn register(helpers: &mut Helpers, config: &Config, lookup: &Arc<Lookup>) -> anyhow::Result<()> {
    let alerts = Arc::new(charter_alerts(config));
    let l = lookup.clone();
    helpers.add("objects", move |kind: Arc<String>, namespace: cel::Value| -> Result {
        let namespace = text(&namespace, "namespace")?;
        let found = l.objects(&kind, &namespace).map_err(|reason| undecided("objects", reason))?;
        Ok(cel::Value::List(Arc::new(found)))
    })?;
    helpers.add("label", |resource: cel::Value, key: Arc<String>| label(&resource, &key))?;
    let secrets = Arc::new(config.secrets.clone());
    let v = secrets.clone();
    helpers.add("secret_reason", move |name: cel::Value, value: cel::Value| -> Result {
        let (name, value) = (text(&name, "name")?, text(&value, "value")?);
        Ok(v.secret_reason(&name, &value).map(|r| string(&r)).unwrap_or(cel::Value::Null))
    })?;
    let v = secrets.clone();
    helpers.add("secret_entries", move |entries: cel::Value| secret_entries(&v, &entries, false))?;
    helpers.add("secret_entries_b64", move |entries: cel::Value| secret_entries(&secrets, &entries, true))?;
    helpers.add("quantity", |value: cel::Value| -> Result {
        let written = text(&value, "quantity")?;
        quantity(&written).map(cel::Value::Float).ok_or_else(|| undecided("quantity", format!("`{written}` is not a Kubernetes quantity")))
    })?;
    helpers.add("duration_hours", |value: cel::Value| -> Result {
        let written = text(&value, "duration")?;
        go_duration_hours(&written)
            .map(cel::Value::Float)
            .ok_or_else(|| undecided("duration_hours", format!("`{written}` is not a Go duration (e.g. 2160h, 720h0m0s)")))
    })?;
    helpers.add("quota_excess", |quota: cel::Value, charter: cel::Value| quota_excess(&quota, &charter))?;
    helpers.add("quota_uncapped", |quotas: cel::Value| quota_uncapped(&quotas))?;
    helpers.add("ingress_sources", |policy: cel::Value| ingress_sources(&policy))?;
    helpers.add("is_default_deny", |policy: cel::Value| is_default_deny(&policy).map(cel::Value::Bool))?;
    let la = lookup.clone();
    helpers.add("has_charter_alert", move |id: Arc<String>| -> Result {
        let Some((_, pattern)) = alerts.iter().find(|(a, _)| *a == *id) else {
            return Err(undecided("has_charter_alert", format!("unknown charter alert `{id}`")));
        };
        let pattern = regex(pattern, "has_charter_alert")?;
        let rules = la.objects("PrometheusRule", "*").map_err(|reason| undecided("has_charter_alert", reason))?;
        Ok(cel::Value::Bool(alert_texts(&rules).iter().any(|t| pattern.is_match(t))))
    })?;
    Ok(())
}

fn entries(value: &cel::Value) -> Vec<(String, &cel::Value)> {
    let mut out: Vec<(String, &cel::Value)> = match value {
        cel::Value::Map(map) => map.map.iter().map(|(k, v)| (key_text(k), v)).collect(),
        _ => Vec::new(),
    };
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn key_text(key: &Key) -> String {
    match key {
        Key::String(s) => s.to_string(),
        Key::Int(i) => i.to_string(),
        Key::Uint(u) => u.to_string(),
        Key::Bool(b) => b.to_string(),
    }
}

/// `label(resource, "pod-security.kubernetes.io/enforce")`: a label value (keys hold dots
/// and slashes, which `get` paths cannot), or null.
fn label(resource: &cel::Value, key: &str) -> Result {
    let labels = field(resource, "metadata").and_then(|m| field(m, "labels"));
    Ok(labels.and_then(|l| field(l, key)).cloned().unwrap_or(cel::Value::Null))
}

/// `secret_entries(x)`: for a ConfigMap `data` map, or a container's `env` list, the names
/// that look like secrets with the reason (`"DB_PASSWORD (is named like a secret...)"`).
/// `secret_entries_b64` reads `binaryData` (values base64-decoded first).
fn secret_entries(vocabulary: &Vocabulary, value: &cel::Value, base64: bool) -> Result {
    let pairs: Vec<(String, String)> = match value {
        cel::Value::Map(_) => entries(value)
            .into_iter()
            .map(|(k, v)| {
                let v = text(v, &k)?;
                Ok((k, if base64 { decode_base64(&v).unwrap_or_default() } else { v }))
            })
            .collect::<Result<_>>()?,
        cel::Value::List(items) => items
            .iter()
            .filter_map(|e| Some((field(e, "name")?, field(e, "value")?)))
            .map(|(n, v)| Ok((text(n, "name")?, text(v, "value")?)))
            .collect::<Result<_>>()?,
        _ => Vec::new(),
    };
    let found = pairs.iter().filter_map(|(name, value)| vocabulary.secret_reason(name, value).map(|r| string(&format!("{name} ({r})")))).collect();
    Ok(cel::Value::List(Arc::new(found)))
}

/// A Secret's `binaryData` value as text: standard or URL-safe base64, padded or not, line
/// breaks allowed (what `kubectl` and generators write); `None` when it is not base64.
fn decode_base64(text: &str) -> Option<String> {
    use base64::engine::{general_purpose::GeneralPurposeConfig, DecodePaddingMode, GeneralPurpose};
    const LENIENT: GeneralPurposeConfig =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent).with_decode_allow_trailing_bits(true);
    let standard: String = text
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            other => other,
        })
        .collect();
    let bytes = base64::Engine::decode(&GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT), standard).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// A Kubernetes quantity as a number: CPU in cores (`500m` = 0.5), memory in bytes (`8Gi`,
/// `8G`, `8192Mi`, `1e3`).
pub fn quantity(text: &str) -> Option<f64> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-')).unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        s if s.starts_with(['e', 'E']) => 10f64.powi(s[1..].parse().ok()?),
        _ => return None,
    };
    Some(number * factor)
}

const QUOTA_KEYS: &[(&str, &str)] =
    &[("cpu", "cpu"), ("requests.cpu", "cpu"), ("limits.cpu", "cpu"), ("memory", "memory"), ("requests.memory", "memory"), ("limits.memory", "memory")];

fn hard_of(quota: &cel::Value) -> Option<&cel::Value> {
    field(quota, "spec").and_then(|s| field(s, "hard"))
}

/// `quota_excess(resourceQuota, {cpu, memory})`: the CPU and memory entries of
/// `spec.hard` that exceed the charter's quota, as `"limits.cpu 8 > 4"`.
fn quota_excess(quota: &cel::Value, charter: &cel::Value) -> Result {
    let mut out = Vec::new();
    let Some(hard) = hard_of(quota) else { return Ok(cel::Value::List(Arc::new(out))) };
    for (key, resource) in QUOTA_KEYS {
        let Some(value) = field(hard, key) else { continue };
        let written = text(value, key)?;
        let limit = text(field(charter, resource).unwrap_or(&cel::Value::Null), "charter quota")?;
        let (Some(v), Some(l)) = (quantity(&written), quantity(&limit)) else {
            return Err(undecided("quota_excess", format!("`{key}: {written}` is not a Kubernetes quantity")));
        };
        if v > l * (1.0 + 1e-9) {
            out.push(string(&format!("{key} {written} > {limit}")));
        }
    }
    Ok(cel::Value::List(Arc::new(out)))
}

/// `quota_uncapped(quotas)`: `"cpu"` and/or `"memory"` when none of the ResourceQuotas sets a
/// ceiling on it (`cpu`, `requests.cpu` or `limits.cpu`; the same for memory).
fn quota_uncapped(quotas: &cel::Value) -> Result {
    let quotas: Vec<cel::Value> = match quotas {
        cel::Value::List(items) => items.to_vec(),
        _ => Vec::new(),
    };
    let capped = |resource: &str| quotas.iter().any(|q| hard_of(q).is_some_and(|h| QUOTA_KEYS.iter().any(|(k, r)| *r == resource && field(h, k).is_some())));
    let out = ["cpu", "memory"].into_iter().filter(|r| !capped(r)).map(string).collect();
    Ok(cel::Value::List(Arc::new(out)))
}

/// A Go `time.ParseDuration` string in hours (`2160h`, `720h0m0s`, `1.5h`, `90m`); None when
/// it is not one (`90d`).
pub fn go_duration_hours(text: &str) -> Option<f64> {
    let text = text.trim();
    let (sign, mut rest) = match text.strip_prefix('-') {
        Some(r) => (-1.0, r),
        None => (1.0, text.strip_prefix('+').unwrap_or(text)),
    };
    if rest == "0" {
        return Some(0.0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut hours = 0.0;
    while !rest.is_empty() {
        let n = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let number: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let u = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let unit = match &rest[..u] {
            "ns" => 1.0 / 3.6e12,
            "us" | "µs" | "μs" => 1.0 / 3.6e9,
            "ms" => 1.0 / 3.6e6,
            "s" => 1.0 / 3600.0,
            "m" => 1.0 / 60.0,
            "h" => 1.0,
            _ => return None,
        };
        hours += number * unit;
        rest = &rest[u..];
    }
    Some(sign * hours)
}

/// `is_default_deny(policy)`: selects every pod (`podSelector: {}`), covers Ingress
/// (`policyTypes` has it, or is absent, which Kubernetes reads as Ingress) and allows no
/// ingress at all.
fn is_default_deny(policy: &cel::Value) -> Result<bool> {
    let spec = field(policy, "spec");
    let get = |k: &str| spec.and_then(|s| field(s, k));
    let selects_all = match get("podSelector") {
        Some(cel::Value::Map(m)) => m.map.values().all(|v| match v {
            cel::Value::Map(inner) => inner.map.is_empty(),
            cel::Value::List(items) => items.is_empty(),
            cel::Value::Null => true,
            _ => false,
        }),
        Some(cel::Value::Null) => true,
        None => false,
        Some(_) => false,
    };
    let covers_ingress = match get("policyTypes") {
        None | Some(cel::Value::Null) => true,
        Some(cel::Value::List(types)) => types.iter().any(|t| matches!(t, cel::Value::String(s) if s.as_str() == "Ingress")),
        Some(_) => false,
    };
    let no_ingress = match get("ingress") {
        None | Some(cel::Value::Null) => true,
        Some(cel::Value::List(rules)) => rules.is_empty(),
        Some(_) => false,
    };
    Ok(selects_all && covers_ingress && no_ingress)
}

/// `ingress_sources(policy)`: where a NetworkPolicy admits ingress from, as namespace names
/// (`podSelector` alone: the policy's own namespace), `"all namespaces"`, `"any source"`
/// (a rule with no `from`), or `"ipBlock <cidr>"`. Namespace selectors by labels other than
/// `kubernetes.io/metadata.name` cannot be resolved statically: the helper fails (undecided).
fn ingress_sources(policy: &cel::Value) -> Result {
    let own = field(policy, "namespace").map(display).unwrap_or_default();
    let spec = field(policy, "spec");
    let covers_ingress = match spec.and_then(|s| field(s, "policyTypes")) {
        None | Some(cel::Value::Null) => true,
        Some(cel::Value::List(types)) => types.iter().any(|t| matches!(t, cel::Value::String(s) if s.as_str() == "Ingress")),
        Some(_) => true,
    };
    let mut out: Vec<String> = Vec::new();
    let rules = match spec.and_then(|s| field(s, "ingress")) {
        Some(cel::Value::List(rules)) if covers_ingress => rules.clone(),
        _ => Arc::new(Vec::new()),
    };
    for rule in rules.iter() {
        let peers = match field(rule, "from") {
            Some(cel::Value::List(peers)) if !peers.is_empty() => peers.clone(),
            _ => {
                out.push("any source".into());
                continue;
            }
        };
        for peer in peers.iter() {
            if let Some(block) = field(peer, "ipBlock") {
                out.push(format!("ipBlock {}", field(block, "cidr").map(display).unwrap_or_default()));
                continue;
            }
            match field(peer, "namespaceSelector") {
                None | Some(cel::Value::Null) => out.push(own.clone()),
                Some(selector) => out.extend(selected_namespaces(selector)?),
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(cel::Value::List(Arc::new(out.iter().map(|s| string(s)).collect())))
}

const NAME_LABEL: &str = "kubernetes.io/metadata.name";

fn selected_namespaces(selector: &cel::Value) -> Result<Vec<String>> {
    let labels = field(selector, "matchLabels").map(entries).unwrap_or_default();
    let expressions: Vec<cel::Value> = match field(selector, "matchExpressions") {
        Some(cel::Value::List(items)) => items.to_vec(),
        _ => Vec::new(),
    };
    if labels.is_empty() && expressions.is_empty() {
        return Ok(vec!["all namespaces".into()]);
    }
    let mut names: Option<Vec<String>> = None;
    for (key, value) in &labels {
        if key == NAME_LABEL {
            names = Some(vec![display(value)]);
        }
    }
    for expression in &expressions {
        let key = field(expression, "key").map(display).unwrap_or_default();
        let operator = field(expression, "operator").map(display).unwrap_or_default();
        if key == NAME_LABEL && operator == "In" {
            let values = match field(expression, "values") {
                Some(cel::Value::List(v)) => v.iter().map(display).collect(),
                _ => Vec::new(),
            };
            names = Some(match names {
                Some(existing) => existing.into_iter().filter(|n| values.contains(n)).collect(),
                None => values,
            });
        }
    }
    names.ok_or_else(|| {
        undecided(
            "ingress_sources",
            format!("a namespaceSelector selects by labels other than {NAME_LABEL}; which namespaces it admits cannot be known from the manifests"),
        )
    })
}

/// `alert + " " + expr` of every alerting rule of the PrometheusRule objects.
fn alert_texts(rules: &[cel::Value]) -> Vec<String> {
    let list = |v: Option<&cel::Value>| match v {
        Some(cel::Value::List(items)) => items.to_vec(),
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    for object in rules {
        for group in list(field(object, "spec").and_then(|s| field(s, "groups"))) {
            for rule in list(field(&group, "rules")) {
                if let Some(alert) = field(&rule, "alert") {
                    let expr = field(&rule, "expr").map(display).unwrap_or_default();
                    out.push(format!("{} {}", display(alert), expr));
                }
            }
        }
    }
    out
}

#[cfg(test)]
fn map_of(entries: Vec<(&str, cel::Value)>) -> cel::Value {
    cel::Value::Map(Map { map: Arc::new(entries.into_iter().map(|(k, v)| (Key::from(k), v)).collect()) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes() {
        assert_eq!(decode_base64("LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0t").unwrap(), "-----BEGIN PRIVATE KEY-----");
        assert_eq!(decode_base64("aGk=").unwrap(), "hi");
        assert!(decode_base64("***").is_none());
        assert_eq!(decode_base64("aGk").unwrap(), "hi", "unpadded");
        assert_eq!(decode_base64("Pz8_\nPz8-").unwrap(), "?????>", "URL-safe, with a line break");
    }

    #[test]
    fn quantities() {
        assert_eq!(quantity("4"), Some(4.0));
        assert_eq!(quantity("500m"), Some(0.5));
        assert_eq!(quantity("8Gi"), Some(8.0 * 1024f64.powi(3)));
        assert_eq!(quantity("8192Mi"), quantity("8Gi"));
        assert_eq!(quantity("8G"), Some(8e9));
        assert_eq!(quantity("1.5"), Some(1.5));
        assert_eq!(quantity("1e3"), Some(1000.0));
        assert_eq!(quantity("lots"), None);
        assert_eq!(quantity("8GB"), None);
    }

    #[test]
    fn quota_limits_against_the_charter() {
        let hard = |entries: Vec<(&str, cel::Value)>| map_of(vec![("spec", map_of(vec![("hard", map_of(entries))]))]);
        let charter = map_of(vec![("cpu", string("4")), ("memory", string("8Gi"))]);
        let ok = hard(vec![("limits.cpu", string("4")), ("limits.memory", string("8192Mi")), ("pods", string("50"))]);
        assert_eq!(display(&quota_excess(&ok, &charter).unwrap()), "[]");
        let big = hard(vec![("requests.cpu", string("4000m")), ("limits.memory", string("16Gi")), ("cpu", string("8"))]);
        assert_eq!(display(&quota_excess(&big, &charter).unwrap()), "[cpu 8 > 4, limits.memory 16Gi > 8Gi]");
        assert_eq!(display(&quota_uncapped(&list(vec![hard(vec![("limits.cpu", string("2"))])])).unwrap()), "[memory]");
        assert_eq!(display(&quota_uncapped(&list(vec![])).unwrap()), "[cpu, memory]");
        assert!(quota_excess(&hard(vec![("cpu", string("lots"))]), &charter).is_err());
    }

    #[test]
    fn go_durations() {
        assert_eq!(go_duration_hours("2160h"), Some(2160.0));
        assert_eq!(go_duration_hours("720h0m0s"), Some(720.0));
        assert_eq!(go_duration_hours("90m"), Some(1.5));
        assert_eq!(go_duration_hours("1.5h"), Some(1.5));
        assert_eq!(go_duration_hours("0"), Some(0.0));
        assert_eq!(go_duration_hours("90d"), None);
        assert_eq!(go_duration_hours("h"), None);
        assert_eq!(go_duration_hours(""), None);
    }

    fn list(items: Vec<cel::Value>) -> cel::Value {
        cel::Value::List(Arc::new(items))
    }

    #[test]
    fn network_policy_peers() {
        let policy = |ingress: cel::Value| {
            map_of(vec![("namespace", string("altscore-ml")), ("spec", map_of(vec![("podSelector", map_of(vec![])), ("ingress", ingress)]))])
        };
        let by_name = map_of(vec![("namespaceSelector", map_of(vec![("matchLabels", map_of(vec![(NAME_LABEL, string("altscore-api"))]))]))]);
        let pods = map_of(vec![("podSelector", map_of(vec![("matchLabels", map_of(vec![("app", string("x"))]))]))]);
        let everyone = map_of(vec![("namespaceSelector", map_of(vec![]))]);
        let block = map_of(vec![("ipBlock", map_of(vec![("cidr", string("10.0.0.0/8"))]))]);
        let found = ingress_sources(&policy(list(vec![map_of(vec![("from", list(vec![by_name, pods, everyone, block]))])]))).unwrap();
        assert_eq!(display(&found), "[all namespaces, altscore-api, altscore-ml, ipBlock 10.0.0.0/8]");
        let open = ingress_sources(&policy(list(vec![map_of(vec![])]))).unwrap();
        assert_eq!(display(&open), "[any source]");
        let team = map_of(vec![("namespaceSelector", map_of(vec![("matchLabels", map_of(vec![("team", string("api"))]))]))]);
        assert!(ingress_sources(&policy(list(vec![map_of(vec![("from", list(vec![team]))])]))).is_err());
        assert!(!is_default_deny(&policy(list(vec![map_of(vec![])]))).unwrap());
        let deny = map_of(vec![("spec", map_of(vec![("podSelector", map_of(vec![])), ("policyTypes", list(vec![string("Ingress"), string("Egress")]))]))]);
        assert!(is_default_deny(&deny).unwrap());
    }

    #[test]
    fn charter_alerts_by_name_or_expression() {
        let alerts = charter_alerts(&Config::default());
        let find = |id: &str, text: &str| alerts.iter().find(|(a, _)| *a == id).unwrap().1.regex().unwrap().is_match(text);
        assert!(find("score_5xx", "ScoreAPIHigh5xxRate sum(rate(http_requests_total{service=\"score-api\",code=~\"5..\"}[5m]))"));
        assert!(find("score_p95", "ScoreApiLatencyHigh histogram_quantile(0.95, ...)"));
        assert!(find("consent_health", "ConsentServiceDown up{job=\"consent\"} == 0"));
        assert!(find("gold_stale", "GoldLayerStale time() - gold_last_success_timestamp > 21600"));
        assert!(find("audit_lag", "AuditConsumerLag kafka_consumergroup_lag{group=\"audit\"} > 10000"));
        assert!(find("cert_expiry", "CertificateExpiringSoon certmanager_certificate_expiration_timestamp_seconds - time() < 14*86400"));
        assert!(!find("audit_lag", "KubePodCrashLooping rate(kube_pod_container_status_restarts_total[5m]) > 0"));
    }
}

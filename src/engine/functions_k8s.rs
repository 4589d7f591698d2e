//! CEL helpers for the Kubernetes-side rules (SEC-002, K8S-*, TLS-002..004, OBS-001):
//! objects by kind and namespace, labels, secret-looking keys and values, Kubernetes
//! quantities, Go durations, NetworkPolicy peers and the charter's Prometheus alerts.
//! Regular expressions are compiled once per registration, never per call.

use super::functions::{undecided, Helpers};
use super::lookup::Lookup;
use super::values::{display, field, string, unknown_reason};
use crate::config::Config;
use cel::objects::Key;
#[cfg(test)]
use cel::objects::Map;
use cel::ExecutionError;
use regex::Regex;
use std::sync::Arc;

type Result<T = cel::Value> = std::result::Result<T, ExecutionError>;

struct Patterns {
    /// Key names that say they hold a secret.
    secret_name: Regex,
    /// Key names that hold something about a secret, not the secret (`TOKEN_URL`, `PASSWORD_FILE`).
    about_secret: Regex,
    /// Weaker names (`KEY`, `AUTH`, `PASS`) that count only with a high-entropy value.
    weak_name: Regex,
    aws_key_id: Regex,
    pem_private_key: Regex,
    alerts: Vec<(&'static str, Regex)>,
}

fn patterns() -> Patterns {
    let re = |p: &str| Regex::new(p).expect("valid regex");
    Patterns {
        secret_name: re(r"(?i)(pass(word|wd)|pwd|secret|token|api[-_. ]?key|private[-_. ]?key|credential)"),
        about_secret: re(
            r"(?i)[-_. ](file|path|dir|mount|url|uri|endpoint|host|name|ref|arn|ttl|expiry|expiration|length|len|enabled|enable|timeout|header|type|format|policy|rotation|version)s?$",
        ),
        weak_name: re(r"(?i)(^|[-_. ])(key|auth|pass|dsn|signing|hmac|salt)([-_. ]|$)"),
        aws_key_id: re(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b"),
        pem_private_key: re(r"-----BEGIN ([A-Z]+ )*PRIVATE KEY-----"),
        alerts: ALERTS.iter().map(|(id, p)| (*id, re(p))).collect(),
    }
}

/// The charter's alerts and how each is recognised, by alert name or expression
/// (case-insensitive; the text searched is `alert + " " + expr`).
const ALERTS: &[(&str, &str)] = &[
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

/// Registers the helpers on a root context.
pub fn register(helpers: &mut Helpers, _config: &Config, lookup: &Arc<Lookup>) -> anyhow::Result<()> {
    let p = Arc::new(patterns());
    let l = lookup.clone();
    helpers.add("objects", move |kind: Arc<String>, namespace: cel::Value| -> Result {
        let namespace = text(&namespace, "namespace")?;
        let found = l.objects(&kind, &namespace).map_err(|reason| undecided("objects", reason))?;
        Ok(cel::Value::List(Arc::new(found)))
    })?;
    helpers.add("label", |resource: cel::Value, key: Arc<String>| label(&resource, &key))?;
    let ps = p.clone();
    helpers.add("secret_reason", move |name: cel::Value, value: cel::Value| -> Result {
        let (name, value) = (text(&name, "name")?, text(&value, "value")?);
        Ok(secret_reason(&ps, &name, &value).map(|r| string(&r)).unwrap_or(cel::Value::Null))
    })?;
    let ps = p.clone();
    helpers.add("secret_entries", move |entries: cel::Value| secret_entries(&ps, &entries, false))?;
    let ps = p.clone();
    helpers.add("secret_entries_b64", move |entries: cel::Value| secret_entries(&ps, &entries, true))?;
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
    let (pa, la) = (p, lookup.clone());
    helpers.add("has_charter_alert", move |id: Arc<String>| -> Result {
        let Some((_, pattern)) = pa.alerts.iter().find(|(a, _)| **a == *id) else {
            return Err(undecided("has_charter_alert", format!("unknown charter alert `{id}`")));
        };
        let rules = la.objects("PrometheusRule", "*").map_err(|reason| undecided("has_charter_alert", reason))?;
        Ok(cel::Value::Bool(alert_texts(&rules).iter().any(|t| pattern.is_match(t))))
    })?;
    Ok(())
}

/// A scalar as text (null as ""); fails on unknowns.
fn text(value: &cel::Value, what: &str) -> Result<String> {
    if let Some(reason) = unknown_reason(value) {
        return Err(undecided(what, format!("{what} is unknown: {reason}")));
    }
    Ok(match value {
        cel::Value::Null => String::new(),
        cel::Value::String(s) => s.to_string(),
        other => display(other),
    })
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

/// Why a key/value pair looks like a secret, never quoting the value; None when it does not.
fn secret_reason(p: &Patterns, name: &str, value: &str) -> Option<String> {
    if p.pem_private_key.is_match(value) {
        return Some("holds a PEM private key".into());
    }
    if p.aws_key_id.is_match(value) {
        return Some("holds an AWS access key id".into());
    }
    let value = value.trim();
    if value.is_empty() || is_placeholder(value) {
        return None;
    }
    let high_entropy = is_high_entropy(value);
    let name = &split_camel_case(name);
    if p.secret_name.is_match(name) && !p.about_secret.is_match(name) {
        return Some(if high_entropy {
            "is named like a secret and holds a high-entropy literal".into()
        } else {
            "is named like a secret and holds a literal value".into()
        });
    }
    if high_entropy && p.weak_name.is_match(name) {
        return Some("holds a high-entropy literal under a key-like name".into());
    }
    None
}

/// Whether a key/value pair looks like a secret as SEC-002 judges it: what reports must
/// never print (see `crate::redact`), decided by the rule's own test.
pub fn looks_secret(name: &str, value: &str) -> bool {
    secret_reason(shared_patterns(), name, value).is_some()
}

/// Whether a key's name alone says it holds a secret (`DB_PASSWORD`, `apiKey`), not
/// something about one (`PASSWORD_FILE`, `tokenUrl`): what is below it is the secret.
pub fn secret_key_name(name: &str) -> bool {
    let (p, name) = (shared_patterns(), split_camel_case(name));
    p.secret_name.is_match(&name) && !p.about_secret.is_match(&name)
}

/// The patterns for callers outside a CEL context, compiled once.
fn shared_patterns() -> &'static Patterns {
    static PATTERNS: std::sync::OnceLock<Patterns> = std::sync::OnceLock::new();
    PATTERNS.get_or_init(patterns)
}

/// `tokenUrl` → `token_Url`, so suffix patterns see camelCase words.
fn split_camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() && previous_lower {
            out.push('_');
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(c);
    }
    out
}

/// Values that cannot be a secret: booleans, plain numbers, paths and template placeholders.
fn is_placeholder(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    matches!(lower.as_str(), "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "none" | "changeme" | "change-me" | "<redacted>" | "redacted")
        || value.parse::<f64>().is_ok()
        || value.starts_with('/')
        || (value.starts_with("${") && value.ends_with('}'))
        || (value.starts_with("$(") && value.ends_with(')'))
        || (value.starts_with("{{") && value.ends_with("}}"))
}

/// At least 16 characters from several character classes with Shannon entropy of at least
/// 3.5 bits per character (random tokens; not words, URLs with spaces or short ids).
fn is_high_entropy(value: &str) -> bool {
    if value.len() < 16 || value.contains(char::is_whitespace) {
        return false;
    }
    let classes = [value.chars().any(|c| c.is_ascii_lowercase()), value.chars().any(|c| c.is_ascii_uppercase()), value.chars().any(|c| c.is_ascii_digit())];
    if classes.iter().filter(|c| **c).count() < 2 {
        return false;
    }
    let mut counts = std::collections::HashMap::new();
    for c in value.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
    }
    let n = value.chars().count() as f64;
    let entropy: f64 = counts.values().map(|&c| -(c as f64 / n) * (c as f64 / n).log2()).sum();
    entropy >= 3.5
}

/// `secret_entries(x)`: for a ConfigMap `data` map, or a container's `env` list, the names
/// that look like secrets with the reason (`"DB_PASSWORD (is named like a secret...)"`).
/// `secret_entries_b64` reads `binaryData` (values base64-decoded first).
fn secret_entries(p: &Patterns, value: &cel::Value, base64: bool) -> Result {
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
    let found = pairs.iter().filter_map(|(name, value)| secret_reason(p, name, value).map(|r| string(&format!("{name} ({r})")))).collect();
    Ok(cel::Value::List(Arc::new(found)))
}

fn decode_base64(text: &str) -> Option<String> {
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        bits = (bits << 6) | v as u32;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
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
    fn secret_names_and_values() {
        let p = patterns();
        assert!(secret_reason(&p, "DATABASE_PASSWORD", "hunter2").unwrap().contains("named like a secret"));
        assert!(secret_reason(&p, "stripe.apiKey", "sk_live_51HxYzAbCdEf0123456789").unwrap().contains("high-entropy"));
        assert!(secret_reason(&p, "aws", "id=AKIAIOSFODNN7EXAMPLE").unwrap().contains("AWS access key id"));
        assert!(secret_reason(&p, "tls.key", "-----BEGIN RSA PRIVATE KEY-----\nMII...").unwrap().contains("PEM"));
        assert!(secret_reason(&p, "DATABASE_PASSWORD", "").is_none(), "empty values are fine");
        assert!(secret_reason(&p, "PASSWORD_FILE", "/mnt/secrets/db").is_none());
        assert!(secret_reason(&p, "TOKEN_URL", "https://auth.example.com/token").is_none());
        assert!(secret_reason(&p, "SECRET_NAME", "consent-db").is_none());
        assert!(secret_reason(&p, "TOKEN_TTL_SECONDS", "3600").is_none());
        assert!(secret_reason(&p, "LOG_LEVEL", "info").is_none());
        assert!(secret_reason(&p, "SIGNING_KEY", "q8Zr2LxP0vW7nK4tYb9sHc3m").is_some(), "weak name with high entropy");
        assert!(secret_reason(&p, "CACHE_KEY", "score-cache").is_none());
        assert!(secret_reason(&p, "tokenUrl", "https://auth/token").is_none());
        assert!(secret_reason(&p, "dbPassword", "s3cr3t").is_some());
        let reason = secret_reason(&p, "API_TOKEN", "abc123secretvalue").unwrap();
        assert!(!reason.contains("abc123"), "never echoes the value");
    }

    #[test]
    fn base64_decodes() {
        assert_eq!(decode_base64("LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0t").unwrap(), "-----BEGIN PRIVATE KEY-----");
        assert_eq!(decode_base64("aGk=").unwrap(), "hi");
        assert!(decode_base64("***").is_none());
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
        let p = patterns();
        let find = |id: &str, text: &str| p.alerts.iter().find(|(a, _)| *a == id).unwrap().1.is_match(text);
        assert!(find("score_5xx", "ScoreAPIHigh5xxRate sum(rate(http_requests_total{service=\"score-api\",code=~\"5..\"}[5m]))"));
        assert!(find("score_p95", "ScoreApiLatencyHigh histogram_quantile(0.95, ...)"));
        assert!(find("consent_health", "ConsentServiceDown up{job=\"consent\"} == 0"));
        assert!(find("gold_stale", "GoldLayerStale time() - gold_last_success_timestamp > 21600"));
        assert!(find("audit_lag", "AuditConsumerLag kafka_consumergroup_lag{group=\"audit\"} > 10000"));
        assert!(find("cert_expiry", "CertificateExpiringSoon certmanager_certificate_expiration_timestamp_seconds - time() < 14*86400"));
        assert!(!find("audit_lag", "KubePodCrashLooping rate(kube_pod_container_status_restarts_total[5m]) > 0"));
    }
}

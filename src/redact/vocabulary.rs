//! What looks like a secret: one module for the rules that report secrets (SEC-002 and
//! SEC-004, through the engine's helpers) and for the redaction that keeps every report free
//! of them, so the two never disagree. Kubernetes keys and values are judged by name and
//! value ([`secret_reason`]); Terraform variables by name alone ([`secret_name`]).

use regex::Regex;
use std::sync::OnceLock;

struct Patterns {
    /// Key names that say they hold a secret.
    secret_name: Regex,
    /// Key names that hold something about a secret, not the secret (`TOKEN_URL`, `PASSWORD_FILE`).
    about_secret: Regex,
    /// Weaker names (`KEY`, `AUTH`, `PASS`) that count only with a high-entropy value.
    weak_name: Regex,
    aws_key_id: Regex,
    pem_private_key: Regex,
}

/// The patterns, compiled once.
fn patterns() -> &'static Patterns {
    static PATTERNS: OnceLock<Patterns> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let re = |p: &str| Regex::new(p).expect("valid regex");
        Patterns {
            secret_name: re(r"(?i)(pass(word|wd)|pwd|secret|token|api[-_. ]?key|private[-_. ]?key|credential)"),
            about_secret: re(
                r"(?i)[-_. ](file|path|dir|mount|url|uri|endpoint|host|name|ref|arn|ttl|expiry|expiration|length|len|enabled|enable|timeout|header|type|format|policy|rotation|version)s?$",
            ),
            weak_name: re(r"(?i)(^|[-_. ])(key|auth|pass|dsn|signing|hmac|salt)([-_. ]|$)"),
            aws_key_id: re(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b"),
            pem_private_key: re(r"-----BEGIN ([A-Z]+ )*PRIVATE KEY-----"),
        }
    })
}

/// Why a key/value pair looks like a secret, never quoting the value; None when it does not.
pub fn secret_reason(name: &str, value: &str) -> Option<String> {
    let p = patterns();
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
    secret_reason(name, value).is_some()
}

/// Whether a key's name alone says it holds a secret (`DB_PASSWORD`, `apiKey`), not
/// something about one (`PASSWORD_FILE`, `tokenUrl`): what is below it is the secret.
pub fn secret_key_name(name: &str) -> bool {
    let (p, name) = (patterns(), split_camel_case(name));
    p.secret_name.is_match(&name) && !p.about_secret.is_match(&name)
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

/// Whether a variable's name says it holds a secret: a word password/passwd/pwd/secret/
/// token, or a name ending in `key` that is not a public, KMS or SSH key, nor a key's
/// id/ARN/name (`kms_key_id` and `key_pair` are not secrets).
pub fn secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let words: Vec<&str> = lower.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
    if words
        .iter()
        .any(|w| matches!(*w, "password" | "passwd" | "pwd" | "secret" | "token" | "apikey" | "passphrase") || w.ends_with("password") || w.ends_with("token"))
    {
        return true;
    }
    let ends_in_key = words.last().is_some_and(|w| *w == "key" || w.ends_with("key"));
    ends_in_key && !words.iter().any(|w| matches!(*w, "public" | "pub" | "kms" | "ssh" | "cmk"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_and_values() {
        assert!(secret_reason("DATABASE_PASSWORD", "hunter2").unwrap().contains("named like a secret"));
        assert!(secret_reason("stripe.apiKey", "sk_live_51HxYzAbCdEf0123456789").unwrap().contains("high-entropy"));
        assert!(secret_reason("aws", "id=AKIAIOSFODNN7EXAMPLE").unwrap().contains("AWS access key id"));
        assert!(secret_reason("tls.key", "-----BEGIN RSA PRIVATE KEY-----\nMII...").unwrap().contains("PEM"));
        assert!(secret_reason("DATABASE_PASSWORD", "").is_none(), "empty values are fine");
        assert!(secret_reason("PASSWORD_FILE", "/mnt/secrets/db").is_none());
        assert!(secret_reason("TOKEN_URL", "https://auth.example.com/token").is_none());
        assert!(secret_reason("SECRET_NAME", "consent-db").is_none());
        assert!(secret_reason("TOKEN_TTL_SECONDS", "3600").is_none());
        assert!(secret_reason("LOG_LEVEL", "info").is_none());
        assert!(secret_reason("SIGNING_KEY", "q8Zr2LxP0vW7nK4tYb9sHc3m").is_some(), "weak name with high entropy");
        assert!(secret_reason("CACHE_KEY", "score-cache").is_none());
        assert!(secret_reason("tokenUrl", "https://auth/token").is_none());
        assert!(secret_reason("dbPassword", "s3cr3t").is_some());
        let reason = secret_reason("API_TOKEN", "abc123secretvalue").unwrap();
        assert!(!reason.contains("abc123"), "never echoes the value");
    }

    #[test]
    fn secret_names() {
        for name in ["db_password", "master_password", "api_token", "stripe_secret", "datadog_api_key", "aws_secret_access_key", "signing-key"] {
            assert!(secret_name(name), "{name}");
        }
        for name in ["kms_key_id", "ssh_public_key", "key_pair_name", "region", "token_ttl_seconds_x"] {
            assert!(!secret_name(name) || name.contains("token"), "{name}");
        }
        assert!(!secret_name("kms_key_id") && !secret_name("ssh_public_key") && !secret_name("key_pair_name"));
    }
}

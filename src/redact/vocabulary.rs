//! What looks like a secret, for every source: one vocabulary of words (the config's
//! `secrets:`, the charter's by default) read by the secret rules and by the redaction of
//! every report alike.

use crate::model::pattern::LazyRegex;
use serde::Deserialize;
use std::sync::OnceLock;

/// The words that say what a secret is, as `secrets:` in charterguard.yaml gives them. Words
/// are matched case-insensitively on a name whose camelCase words are split (`dbPassword` is
/// `db_Password`); a word written with a space matches with or without a separator between
/// its parts (`api key`: `api_key`, `api-key`, `apiKey`, `apikey`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Words {
    /// A name holding one of these (anywhere: `DB_PASSWORD`, `dbpassword`) holds a secret...
    pub names: Vec<String>,
    /// ...unless its last word is one of these (or its plural): it holds something about a
    /// secret (`PASSWORD_FILE`, `tokenUrl`, `password_length`).
    pub about: Vec<String>,
    /// Weaker words: a Kubernetes key named with one is a secret only when its literal value
    /// has high entropy; a Terraform variable whose last word ends in `key` is one by its
    /// name alone (its value comes later, from tfvars or the pipeline).
    pub weak_names: Vec<String>,
    /// Words that say a key is not a secret one: a public, KMS or SSH key (`kms_key_id`,
    /// `ssh_public_key`, `SSH_PUBLIC_KEY`).
    pub public_keys: Vec<String>,
}

impl Default for Words {
    /// The charter's vocabulary (SEC-002, SEC-004).
    fn default() -> Self {
        let words = |items: &[&str]| items.iter().map(|s| s.to_string()).collect();
        Words {
            names: words(&["password", "passwd", "pwd", "secret", "token", "api key", "private key", "credential", "passphrase"]),
            about: words(&[
                "file",
                "path",
                "dir",
                "mount",
                "url",
                "uri",
                "endpoint",
                "host",
                "name",
                "ref",
                "arn",
                "ttl",
                "expiry",
                "expiration",
                "length",
                "len",
                "enabled",
                "enable",
                "timeout",
                "header",
                "type",
                // `secretProviderClass`: the name of a SecretProviderClass object.
                "class",
                "format",
                "policy",
                "rotation",
                "version",
                "directory",
                "account",
                "region",
                "stage",
                "tenant",
            ]),
            weak_names: words(&["key", "auth", "pass", "dsn", "signing", "hmac", "salt"]),
            public_keys: words(&["public", "pub", "kms", "ssh", "cmk"]),
        }
    }
}

/// What looks like a secret: one vocabulary for the rules that report secrets (SEC-002 and
/// SEC-004, through the engine's helpers) and for the redaction that keeps every report free
/// of them, so the two never disagree. Kubernetes keys and values are judged by name and
/// value ([`Vocabulary::secret_reason`]); Terraform variables by name alone
/// ([`Vocabulary::variable_name`]).
#[derive(Clone, Debug, Deserialize)]
#[serde(from = "Words")]
pub struct Vocabulary {
    pub words: Words,
    /// Any of `names`.
    secret_name: LazyRegex,
    /// A last word of `about`.
    about_secret: LazyRegex,
    /// A word of `weak_names`.
    weak_name: LazyRegex,
    /// A word of `public_keys`.
    public_key: LazyRegex,
    aws_key_id: LazyRegex,
    pem_private_key: LazyRegex,
}

impl From<Words> for Vocabulary {
    fn from(words: Words) -> Self {
        // Words are literal text: escaped, a space an optional separator.
        let alternatives = |list: &[String]| list.iter().map(|w| regex::escape(w.trim()).replace(' ', "[-_. ]?")).collect::<Vec<_>>().join("|");
        Vocabulary {
            secret_name: LazyRegex::new(format!("(?i)({})", alternatives(&words.names))),
            about_secret: LazyRegex::new(format!("(?i)[-_. ]({})s?$", alternatives(&words.about))),
            weak_name: LazyRegex::new(format!("(?i)(^|[-_. ])({})([-_. ]|$)", alternatives(&words.weak_names))),
            public_key: LazyRegex::new(format!("(?i)(^|[-_. ])({})([-_. ]|$)", alternatives(&words.public_keys))),
            aws_key_id: LazyRegex::new(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b"),
            pem_private_key: LazyRegex::new(r"-----BEGIN ([A-Z]+ )*PRIVATE KEY-----"),
            words,
        }
    }
}

impl Default for Vocabulary {
    fn default() -> Self {
        Vocabulary::from(Words::default())
    }
}

impl Vocabulary {
    /// The charter's vocabulary, compiled once: for callers with no configuration.
    pub fn charter() -> &'static Vocabulary {
        static CHARTER: OnceLock<Vocabulary> = OnceLock::new();
        CHARTER.get_or_init(Vocabulary::default)
    }

    /// Why a key/value pair looks like a secret, never quoting the value; None when it does not.
    pub fn secret_reason(&self, name: &str, value: &str) -> Option<String> {
        if matches(&self.pem_private_key, value) {
            return Some("holds a PEM private key".into());
        }
        if matches(&self.aws_key_id, value) {
            return Some("holds an AWS access key id".into());
        }
        let value = value.trim();
        if value.is_empty() || is_placeholder(value) {
            return None;
        }
        let high_entropy = is_high_entropy(value);
        let name = &split_camel_case(name);
        if self.names_a_secret(name) {
            return Some(if high_entropy {
                "is named like a secret and holds a high-entropy literal".into()
            } else {
                "is named like a secret and holds a literal value".into()
            });
        }
        if high_entropy && matches(&self.weak_name, name) && !matches(&self.public_key, name) {
            return Some("holds a high-entropy literal under a key-like name".into());
        }
        None
    }

    /// Whether a key/value pair looks like a secret as SEC-002 judges it: what reports must
    /// never print (see `crate::redact`), decided by the rule's own test.
    pub fn looks_secret(&self, name: &str, value: &str) -> bool {
        self.secret_reason(name, value).is_some()
    }

    /// Whether a key's name alone says it holds a secret (`DB_PASSWORD`, `apiKey`), not
    /// something about one (`PASSWORD_FILE`, `tokenUrl`): what is below it is the secret.
    pub fn key_name(&self, name: &str) -> bool {
        self.names_a_secret(&split_camel_case(name))
    }

    /// Whether a Terraform variable's name says it holds a secret (SEC-004): as
    /// [`Vocabulary::key_name`], or a last word ending in `key` that no word of `public_keys`
    /// qualifies (`datadog_api_key`, `signing-key`; not `kms_key_id` nor `ssh_public_key`).
    pub fn variable_name(&self, name: &str) -> bool {
        let name = split_camel_case(name);
        let last = name.rsplit(|c: char| !c.is_ascii_alphanumeric()).find(|w| !w.is_empty()).unwrap_or_default().to_ascii_lowercase();
        self.names_a_secret(&name) || (last.ends_with("key") && !matches(&self.public_key, &name))
    }

    fn names_a_secret(&self, name: &str) -> bool {
        matches(&self.secret_name, name) && !matches(&self.about_secret, name)
    }
}

/// Whether one of the vocabulary's patterns matches: they are built of escaped words, so they
/// always compile.
fn matches(pattern: &LazyRegex, text: &str) -> bool {
    pattern.regex().expect("escaped words make a valid pattern").is_match(text)
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
    // Counted over the sorted characters: no hash map for every value judged, and the terms
    // are summed in one order, so the sum's last bits (at the threshold, the verdict) are the
    // same on every run.
    let mut chars: Vec<char> = value.chars().collect();
    chars.sort_unstable();
    let n = chars.len() as f64;
    let entropy: f64 = chars
        .chunk_by(|a, b| a == b)
        .map(|run| {
            let p = run.len() as f64 / n;
            -p * p.log2()
        })
        .sum();
    entropy >= 3.5
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_and_values() {
        let v = Vocabulary::charter();
        assert!(v.secret_reason("DATABASE_PASSWORD", "hunter2").unwrap().contains("named like a secret"));
        assert!(v.secret_reason("stripe.apiKey", "sk_live_51HxYzAbCdEf0123456789").unwrap().contains("high-entropy"));
        assert!(v.secret_reason("aws", "id=AKIAIOSFODNN7EXAMPLE").unwrap().contains("AWS access key id"));
        assert!(v.secret_reason("tls.key", "-----BEGIN RSA PRIVATE KEY-----\nMII...").unwrap().contains("PEM"));
        assert!(v.secret_reason("DATABASE_PASSWORD", "").is_none(), "empty values are fine");
        assert!(v.secret_reason("PASSWORD_FILE", "/mnt/secrets/db").is_none());
        assert!(v.secret_reason("TOKEN_URL", "https://auth.example.com/token").is_none());
        assert!(v.secret_reason("SECRET_NAME", "consent-db").is_none());
        assert!(v.secret_reason("TOKEN_TTL_SECONDS", "3600").is_none());
        assert!(v.secret_reason("LOG_LEVEL", "info").is_none());
        assert!(v.secret_reason("SIGNING_KEY", "q8Zr2LxP0vW7nK4tYb9sHc3m").is_some(), "weak name with high entropy");
        assert!(v.secret_reason("CACHE_KEY", "score-cache").is_none());
        assert!(v.secret_reason("tokenUrl", "https://auth/token").is_none());
        assert!(v.secret_reason("dbPassword", "s3cr3t").is_some());
        let reason = v.secret_reason("API_TOKEN", "abc123secretvalue").unwrap();
        assert!(!reason.contains("abc123"), "never echoes the value");
    }

    #[test]
    fn entropy_is_shannons_over_the_characters() {
        // 16 different characters: 4 bits each.
        assert!(is_high_entropy("abcdefghABCDEF01"));
        // 8 once and 4 twice: 8/16 * 4 + 8/16 * 3 = 3.5 bits exactly, which is enough.
        assert!(is_high_entropy("abcdEFGH11223344"));
        // 7 once, one 3 times, 3 twice: about 3.33 bits.
        assert!(!is_high_entropy("abcdEFG111223344"));
        // 8 characters twice each: 3 bits.
        assert!(!is_high_entropy("aabbccddEEFF0011"));
        assert!(!is_high_entropy("short1A"), "too short");
        assert!(!is_high_entropy("abcdefghijklmnopqrst"), "one character class");
        assert!(!is_high_entropy("abcdefgh ABCDEFGH 0123"), "spaces");
    }

    #[test]
    fn secret_names() {
        let v = Vocabulary::charter();
        for name in ["db_password", "master_password", "api_token", "stripe_secret", "datadog_api_key", "aws_secret_access_key", "signing-key"] {
            assert!(v.variable_name(name), "{name}");
        }
        for name in ["kms_key_id", "ssh_public_key", "key_pair_name", "region", "token_ttl_seconds_x"] {
            assert!(!v.variable_name(name) || name.contains("token"), "{name}");
        }
        assert!(!v.variable_name("kms_key_id") && !v.variable_name("ssh_public_key") && !v.variable_name("key_pair_name"));
        assert!(!v.variable_name("db_password_length"), "about a secret, not one");
        assert!(!v.key_name("secretProviderClass") && !v.key_name("secretName") && v.key_name("clientSecret"), "Kubernetes names a secret's holder");
        assert!(v.variable_name("google_credentials") && v.variable_name("gpg_passphrase"), "one vocabulary for every source");
    }

    #[test]
    fn a_configured_vocabulary_replaces_the_charter_words() {
        let words: Words = serde_yaml_like("names: [pin]\nweak_names: [nonce]\n");
        let v = Vocabulary::from(words);
        assert!(v.key_name("CARD_PIN") && !v.key_name("DB_PASSWORD"), "names replaced");
        assert!(v.looks_secret("REQUEST_NONCE", "q8Zr2LxP0vW7nK4tYb9sHc3m"), "weak names replaced");
        assert!(!v.key_name("PIN_FILE"), "the other lists keep their defaults");
        let charter = Vocabulary::charter();
        assert!(charter.key_name("apiKey") && charter.key_name("api-key") && charter.key_name("APIKEY"), "a space is an optional separator");
    }

    fn serde_yaml_like(text: &str) -> Words {
        crate::config::Config::parse("charterguard.yaml", &format!("secrets:\n{}", text.lines().map(|l| format!("  {l}\n")).collect::<String>()))
            .unwrap()
            .secrets
            .words
    }
}

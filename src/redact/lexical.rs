//! Secrets read from the text line by line, for what has no syntax tree: Helm templates, a
//! file that does not parse, a config file inside a string. It reads `key: value`,
//! `key = value`, `"key": "value"` and `KEY=value` pairs anywhere on a line, judged as SEC-002
//! judges them; a block scalar or heredoc written as a secret key's value; the `data` of a
//! Kubernetes Secret document; and credentials by their shape wherever they are: PEM private
//! keys, AWS access key ids, passwords in URLs.

use super::is_secret;
use super::vocabulary::Vocabulary;
use super::Mask;
use regex::Regex;
use std::sync::OnceLock;

/// The masks of a text and the secret texts they hide.
#[derive(Default)]
pub struct Found {
    pub masks: Vec<Mask>,
    pub texts: Vec<String>,
}

pub fn scan(text: &str, vocabulary: &Vocabulary) -> Found {
    let mut scanner = Scanner { vocabulary, found: Found::default(), state: State::Free, section: None, pair: None };
    let secret_documents = secret_documents(text);
    for (i, line) in text.lines().enumerate() {
        scanner.line(i + 1, line.strip_suffix('\r').unwrap_or(line), secret_documents[i]);
    }
    scanner.found
}

/// What the lines after a secret key are.
enum State {
    Free,
    /// A YAML block scalar: every line indented past the key is the secret.
    Block {
        indent: usize,
    },
    /// A heredoc: every line up to the one holding only its delimiter.
    Heredoc {
        delimiter: String,
    },
    /// A PEM private key: every line up to its END line.
    Pem,
}

struct Scanner<'v> {
    vocabulary: &'v Vocabulary,
    found: Found,
    state: State,
    /// Lines indented past this are a Secret's `data`: their values are secrets, their keys
    /// are not.
    section: Option<usize>,
    /// The last `name:` of a list item (its column and text), for the `value:` beside it.
    pair: Option<(usize, String)>,
}

/// `key: value` or `key = value` at the start of a line (after list dashes).
struct Leading<'l> {
    indent: usize,
    /// The key's byte column, and where its value starts.
    key_at: usize,
    key: &'l str,
    equals: bool,
    value_at: usize,
    value: &'l str,
}

fn leading(line: &str) -> Option<Leading<'_>> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r#"^(?P<indent>[ \t]*)(?:-[ \t]+)*["']?(?P<key>[\w.\-/]+)["']?[ \t]*(?P<sep>:(?:[ \t]|$)|=)[ \t]*(?P<value>.*)$"#).expect("valid regex")
    });
    let caps = re.captures(line)?;
    let (key, mut value) = (caps.name("key")?, caps.name("value")?.as_str());
    // A comment after the key is not its value.
    if value.starts_with('#') || value.starts_with("//") {
        value = "";
    }
    Some(Leading {
        indent: caps.name("indent")?.len(),
        key_at: key.start(),
        key: key.as_str(),
        equals: caps.name("sep")?.as_str() == "=",
        value_at: caps.name("value")?.start(),
        value: value.trim_end(),
    })
}

/// The key a line starts with and where its value starts (a byte offset).
pub fn key_and_value(line: &str) -> Option<(&str, usize)> {
    leading(line).filter(|lead| !lead.value.is_empty()).map(|lead| (lead.key, lead.value_at))
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

impl Scanner<'_> {
    fn line(&mut self, n: usize, line: &str, secret_document: bool) {
        if self.continues_block(n, line) {
            return;
        }
        let indent = indent_of(line);
        if self.section.is_some_and(|s| line.trim().is_empty() || indent > s) {
            self.section_line(n, line);
        } else {
            self.section = None;
            self.free_line(n, line, secret_document);
        }
        self.inline_pairs(n, line, leading(line).map_or(0, |lead| lead.value_at), false);
        self.shapes(n, line);
    }

    /// Masks a line of the open block scalar, heredoc or PEM key; false when the line ends it
    /// or none is open.
    fn continues_block(&mut self, n: usize, line: &str) -> bool {
        let inside = match &self.state {
            State::Free => return false,
            State::Block { indent } => line.trim().is_empty() || indent_of(line) > *indent,
            State::Heredoc { delimiter } => line.trim() != delimiter,
            State::Pem => true,
        };
        if !inside {
            self.state = State::Free;
            return false;
        }
        let end = match self.state {
            State::Pem => pem_end(line).inspect(|_| self.state = State::Free).unwrap_or(line.len()),
            _ => line.len(),
        };
        self.mask(n, line, indent_of(line), end);
        true
    }

    /// A line inside a secret map: its value (or the whole line, a list item or a
    /// continuation) is masked; a value opening a block scalar opens it.
    fn section_line(&mut self, n: usize, line: &str) {
        match leading(line) {
            Some(lead) if !lead.value.is_empty() => {
                self.open_block(lead.indent, lead.value);
                self.mask(n, line, lead.value_at, line.len());
            }
            Some(_) => {}
            None => self.mask(n, line, indent_of(line), line.len()),
        }
    }

    fn free_line(&mut self, n: usize, line: &str, secret_document: bool) {
        let Some(lead) = leading(line) else { return };
        if self.pair.as_ref().is_some_and(|(column, _)| lead.indent < *column && !line.trim_start().starts_with('-')) {
            self.pair = None;
        }
        let data = secret_document && lead.indent == 0 && matches!(lead.key, "data" | "stringData");
        if lead.value.is_empty() {
            if data {
                self.section = Some(lead.indent);
            }
            return;
        }
        if (data || self.vocabulary.key_name(lead.key)) && self.open_block(lead.indent, lead.value) {
            return;
        }
        if lead.key == "name" {
            self.pair = Some((lead.key_at, unquote(lead.value).to_string()));
        }
        let judged_as = match &self.pair {
            Some((column, name)) if lead.key == "value" && *column == lead.key_at => name.clone(),
            _ => lead.key.to_string(),
        };
        // A flow map or list is no literal: its pairs are judged one by one (all of them
        // secrets in a Secret's data).
        if lead.value.starts_with(['{', '[']) {
            return self.inline_pairs(n, line, lead.value_at, data);
        }
        let value = unquote(lead.value);
        if data || (!(lead.equals && is_expression(lead.value)) && is_secret(self.vocabulary, &judged_as, value)) {
            self.mask(n, line, lead.value_at, lead.value_at + lead.value.len());
            self.keep(value);
        }
    }

    /// Opens a block scalar (`|`, `>-`) or heredoc (`<<EOT`, `<<-EOT`) written as a secret's
    /// value; true when it did.
    fn open_block(&mut self, indent: usize, value: &str) -> bool {
        if value.starts_with('|') || value.starts_with('>') {
            self.state = State::Block { indent };
            return true;
        }
        if let Some(delimiter) = value.strip_prefix("<<").map(|d| d.trim_start_matches('-').trim()) {
            if !delimiter.is_empty() && delimiter.chars().all(|c| c.is_alphanumeric() || c == '_') {
                self.state = State::Heredoc { delimiter: delimiter.to_string() };
                return true;
            }
        }
        false
    }

    /// `"key": "value"`, `key=value` and `key: value` pairs anywhere in the line from `from`
    /// (JSON on one line, flow maps, a command line or a config file inside a string), judged
    /// as SEC-002 judges them unless `every` value is a secret. Escaped quotes are read as
    /// quotes.
    fn inline_pairs(&mut self, n: usize, line: &str, from: usize, every: bool) {
        static RE: OnceLock<Regex> = OnceLock::new();
        let re = RE.get_or_init(|| {
            Regex::new(r#"(?P<open>["']?)(?P<key>[A-Za-z_][\w.\-]*)(?P<close>["']?)[ \t]*(?P<sep>:|=)[ \t]*(?P<value>"[^"]*"|'[^']*'|[^\s,;{}\[\]()"'&]+)"#)
                .expect("valid regex")
        });
        let view = line.replace("\\\"", " \"");
        let pairs: Vec<(usize, usize, String)> = re
            .captures_iter(&view[from..])
            .filter_map(|caps| {
                let (key, sep, value) = (caps.name("key")?, caps.name("sep")?, caps.name("value")?);
                // `"module.x:aws"`: a colon inside a quoted string is no separator.
                if caps.name("open")?.as_str() != caps.name("close")?.as_str() {
                    return None;
                }
                let text = unquote(value.as_str());
                let secret = every || (!(sep.as_str() == "=" && is_expression(value.as_str())) && is_secret(self.vocabulary, key.as_str(), text));
                secret.then(|| (from + value.start(), from + value.end(), text.to_string()))
            })
            .collect();
        for (start, end, text) in pairs {
            self.mask(n, line, start, end);
            self.keep(&text);
        }
    }

    /// Credentials by their shape, whatever their key.
    fn shapes(&mut self, n: usize, line: &str) {
        static RES: OnceLock<[Regex; 2]> = OnceLock::new();
        let [aws_key_id, url_password] = RES.get_or_init(|| {
            [
                Regex::new(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b").expect("valid regex"),
                Regex::new(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s/:@]+:(?P<password>[^\s/@]+)@").expect("valid regex"),
            ]
        });
        let mut found: Vec<(usize, usize)> = aws_key_id.find_iter(line).map(|m| (m.start(), m.end())).collect();
        found.extend(url_password.captures_iter(line).filter_map(|c| c.name("password")).map(|m| (m.start(), m.end())));
        if let Some(begin) = pem_begin(line) {
            match pem_end(&line[begin..]) {
                Some(end) => found.push((begin, begin + end)),
                None => {
                    found.push((begin, line.len()));
                    self.state = State::Pem;
                }
            }
        }
        for (start, end) in found {
            self.mask(n, line, start, end);
            self.keep(&line[start..end]);
        }
    }

    fn mask(&mut self, line_number: usize, line: &str, start: usize, end: usize) {
        let end = end.min(line.len());
        if start < end {
            self.found.masks.push(Mask { line: line_number, start, end });
            self.keep(line[start..end].trim());
        }
    }

    fn keep(&mut self, text: &str) {
        if !text.is_empty() {
            self.found.texts.push(text.to_string());
        }
    }
}

fn pem_begin(line: &str) -> Option<usize> {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----").expect("valid regex")).find(line).map(|m| m.start())
}

/// Where the END line of a PEM private key ends in `text`.
fn pem_end(text: &str) -> Option<usize> {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"-----END ([A-Z0-9]+ )*PRIVATE KEY-----").expect("valid regex")).find(text).map(|m| m.end())
}

/// A quoted value without its quotes (a trailing comment or comma after an unquoted one
/// kept: masking it too is harmless).
fn unquote(value: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = value.strip_prefix(quote) {
            return inner.split(quote).next().unwrap_or(inner);
        }
    }
    value
}

/// An HCL expression rather than a literal: a reference (`var.db_password`,
/// `random_password.db.result`) or a function call; not a secret in itself.
fn is_expression(value: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^[A-Za-z_][\w\-]*(\.[\w\-\[\]\x22*]+)+\s*$|^[A-Za-z_][\w:]*\(").expect("valid regex")).is_match(value)
}

/// For each line, whether it belongs to a YAML document of `kind: Secret`.
fn secret_documents(text: &str) -> Vec<bool> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let kind = RE.get_or_init(|| Regex::new(r#"^kind:[ \t]*["']?Secret["']?[ \t]*(#.*)?$"#).expect("valid regex"));
    let lines: Vec<&str> = text.lines().collect();
    let mut out = vec![false; lines.len()];
    let mut start = 0;
    for end in (0..=lines.len()).filter(|&i| i == lines.len() || lines[i].starts_with("---")) {
        let secret = lines[start..end].iter().any(|l| kind.is_match(l.trim_end()));
        out[start..end].iter_mut().for_each(|o| *o = secret);
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text with every mask applied as `#`s.
    fn masked(text: &str) -> String {
        let found = scan(text, Vocabulary::charter());
        let mut lines: Vec<Vec<u8>> = text.lines().map(|l| l.as_bytes().to_vec()).collect();
        for m in &found.masks {
            lines[m.line - 1][m.start..m.end].iter_mut().for_each(|b| *b = b'#');
        }
        lines.into_iter().map(|l| String::from_utf8(l).unwrap() + "\n").collect()
    }

    #[test]
    fn secret_documents_hide_their_data_templates_included() {
        let text = "apiVersion: v1\nkind: Secret\ndata: {a.b: x1, c: \"x2\"}\nstringData:\n  config.json: '{\"a\": 1}'\n  tls.key: |\n    line-one\n    line=two==\n  user: {{ .Values.user }}\nmetadata:\n  name: db\n---\nkind: ConfigMap\ndata:\n  mode: fast\n";
        let out = masked(text);
        assert!(
            out.contains("  config.json: ##########\n  tls.key: #\n    ########\n    ##########\n  user: ##################\nmetadata:\n  name: db\n"),
            "{out}"
        );
        assert!(out.contains("  mode: fast") && out.contains("data: {a.b: ##, c: ####}"), "{out}");
    }

    #[test]
    fn keys_named_like_secrets_hide_their_values_and_blocks() {
        let text = "DB_PASSWORD: hunter2-value\ntokenUrl: https://auth/token\npassword = var.db_password\nsecret_string = <<EOT\n{\"k\": 1}\nEOT\nprivateKey:\n  algorithm: RSA\nafter: shown\ndata: # a comment\n";
        let out = masked(text);
        assert_eq!(out, "DB_PASSWORD: #############\ntokenUrl: https://auth/token\npassword = var.db_password\nsecret_string = <<EOT\n########\nEOT\nprivateKey:\n  algorithm: RSA\nafter: shown\ndata: # a comment\n");
    }

    #[test]
    fn env_pairs_inline_pairs_and_shapes() {
        let text = "- name: API_TOKEN\n  value: tok-abcdef\n- name: LOG_LEVEL\n  value: info\n{\"db_password\": {\"value\": \"nested\"}, \"module.secrets:aws\": 1}\nargs: [\"--db-password=cli-secret\", \"-v\"]\n{\"user\": \"u\", \"password\": \"json-pw\"}\ndsn: postgres://app:url-pw@db:5432/app\nid: AKIAIOSFODNN7EXAMPLE\nkey: \"-----BEGIN RSA PRIVATE KEY-----\\nMIIE\\n-----END RSA PRIVATE KEY-----\"\n";
        let out = masked(text);
        for hidden in ["tok-abcdef", "cli-secret", "json-pw", "url-pw", "AKIAIOSFODNN7EXAMPLE", "MIIE"] {
            assert!(!out.contains(hidden), "{hidden}: {out}");
        }
        assert!(
            out.contains("value: info") && out.contains("\"user\": \"u\"") && out.contains("{\"db_password\": {") && out.contains("\"module.secrets:aws\""),
            "{out}"
        );
        let found = scan(text, Vocabulary::charter());
        assert!(found.texts.contains(&"tok-abcdef".to_string()) && found.texts.contains(&"json-pw".to_string()), "{:?}", found.texts);
    }

    #[test]
    fn pem_blocks_are_hidden_to_their_end() {
        let out = masked("tls.key: |\n  -----BEGIN PRIVATE KEY-----\n  MIIEvgIBADANBg\n  -----END PRIVATE KEY-----\nnext: 1\n");
        assert!(!out.contains("MIIE") && out.contains("next: 1"), "{out}");
        let loose = masked("x\n-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEI\n-----END EC PRIVATE KEY-----\ny\n");
        let lines: Vec<&str> = loose.lines().collect();
        assert_eq!((lines[0], lines[4]), ("x", "y"));
        assert!(lines[1..4].iter().all(|l| l.chars().all(|c| c == '#')), "{loose}");
    }
}

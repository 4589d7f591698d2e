//! The text of a suppression: `RULE[,RULE...] reason="..." until=YYYY-MM-DD`, as written after
//! `charterguard:ignore` in a comment or as the value of the `charterguard.io/ignore`
//! annotation; and the calendar dates `until` takes.

use crate::model::Date;

/// The marker that starts an inline suppression in a comment.
pub const MARKER: &str = "charterguard:ignore";

/// A parsed suppression. `reason` is `None` when missing or blank: the caller reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directive {
    /// Rule ids as written (matched case-insensitively).
    pub rules: Vec<String>,
    pub reason: Option<String>,
    pub until: Option<Date>,
}

const KEYS: [&str; 2] = ["reason", "until"];

/// Parses `RULE[,RULE...] [reason=VALUE] [until=YYYY-MM-DD]`. Rule ids come first, separated
/// by commas (spaces after commas allowed). A VALUE is `"double-quoted"` (with `\"` and `\\`
/// escapes) or bare; a bare value runs to the next ` reason=`/` until=` or the end, so
/// `reason=legacy bucket, ticket PLAT-9 until=2027-03-31` works unquoted.
pub fn parse(text: &str) -> Result<Directive, String> {
    let text = text.trim();
    let mut rest = text;
    let mut rules = Vec::new();
    // Rule ids: every leading whitespace-separated token without `=`.
    loop {
        rest = rest.trim_start();
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let token = &rest[..end];
        if token.is_empty() || token.contains('=') {
            break;
        }
        rules.extend(token.split(',').map(str::trim).filter(|r| !r.is_empty()).map(str::to_string));
        rest = &rest[end..];
    }
    if rules.is_empty() {
        return Err("names no rule id (write e.g. `charterguard:ignore ENC-001 reason=\"...\"`)".into());
    }
    if let Some(bad) = rules.iter().find(|r| !r.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')) {
        return Err(format!("`{bad}` is not a rule id"));
    }
    let mut reason = None;
    let mut until = None;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        let Some((key, after)) = rest.split_once('=') else {
            return Err(format!("unexpected `{}`: expected reason=... or until=...", rest.split_whitespace().next().unwrap_or(rest)));
        };
        if !KEYS.contains(&key) {
            return Err(format!("unknown key `{key}`: expected reason or until"));
        }
        let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            unquote(quoted).ok_or_else(|| format!("the value of {key} has no closing quote"))?
        } else {
            let end = next_key(after).unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        rest = remaining;
        match key {
            "reason" => reason = Some(value),
            _ => until = Some(Date::parse(&value).ok_or_else(|| format!("until `{value}` is not a date YYYY-MM-DD"))?),
        }
    }
    let reason = reason.map(|r| r.trim().to_string()).filter(|r| !r.is_empty());
    Ok(Directive { rules, reason, until })
}

/// The byte offset of the next ` reason=` / ` until=` in a bare value.
fn next_key(text: &str) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            let after = text[i..].trim_start();
            if KEYS.iter().any(|k| after.strip_prefix(k).is_some_and(|a| a.starts_with('='))) {
                best = Some(i);
                break;
            }
        }
    }
    best
}

/// A double-quoted value (opening quote already consumed) and the text after it.
fn unquote(text: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &text[i + 1..])),
            '\\' => out.push(chars.next()?.1),
            c => out.push(c),
        }
    }
    None
}

/// An inline suppression found in a line: its directive text and the 1-based column of the
/// marker.
pub struct Found<'l> {
    pub text: &'l str,
    pub column: u32,
}

/// Finds `charterguard:ignore` at the start of a `#`, `//` or `/*` comment on this line.
pub fn find(line: &str) -> Option<Found<'_>> {
    let at = line.find(MARKER)?;
    let before = &line[..at];
    let trimmed = before.trim_end();
    if !(trimmed.ends_with("//") || trimmed.ends_with("/*") || trimmed.ends_with('#')) {
        return None;
    }
    let after = &line[at + MARKER.len()..];
    if !(after.is_empty() || after.starts_with(char::is_whitespace)) {
        return None; // e.g. `charterguard:ignored`
    }
    // Block-comment and HTML-comment closers are not part of the directive.
    let text = after.trim_end();
    let text = text.strip_suffix("*/").or_else(|| text.strip_suffix("-->")).unwrap_or(text);
    Some(Found { text, column: before.chars().count() as u32 + 1 })
}

/// A line that holds only a comment (of any content): part of the comment run above a line.
pub fn is_comment_line(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with('#') || t.starts_with("//") || t.starts_with("/*")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_since_epoch_inverts_from_days() {
        for days in [-800_000, -1, 0, 59, 365, 11_016, 20_819, 2_932_896] {
            assert_eq!(Date::from_days_since_epoch(days).days_since_epoch(), days);
        }
        assert_eq!(Date::parse("2027-03-31").unwrap().days_since_epoch() - Date::parse("2027-02-28").unwrap().days_since_epoch(), 31);
    }

    fn date(text: &str) -> Date {
        Date::parse(text).unwrap()
    }

    #[test]
    fn dates() {
        assert_eq!(date("2027-03-31").to_string(), "2027-03-31");
        assert!(Date::parse("2027-02-29").is_none());
        assert!(Date::parse("2028-02-29").is_some());
        assert!(Date::parse("2027-13-01").is_none());
        assert!(Date::parse("2027-3-31").is_none());
        assert!(date("2026-12-31") < date("2027-01-01"));
        assert_eq!(Date::from_days_since_epoch(0), date("1970-01-01"));
        assert_eq!(Date::from_days_since_epoch(20_454), date("2026-01-01"));
        assert_eq!(Date::from_days_since_epoch(-1), date("1969-12-31"));
    }

    #[test]
    fn directives() {
        let d = parse(r#"ENC-001 reason="legacy bucket, ticket PLAT-9" until=2027-03-31"#).unwrap();
        assert_eq!(d, Directive { rules: vec!["ENC-001".into()], reason: Some("legacy bucket, ticket PLAT-9".into()), until: Some(date("2027-03-31")) });
        let d = parse("ENC-001,DATA-003 until=2027-03-31 reason=legacy bucket, ticket PLAT-9").unwrap();
        assert_eq!(d.rules, ["ENC-001", "DATA-003"]);
        assert_eq!(d.reason.as_deref(), Some("legacy bucket, ticket PLAT-9"));
        let d = parse("ENC-001, DATA-003 reason=a \"quoted\" word until=2027-03-31").unwrap();
        assert_eq!((d.rules.len(), d.reason.as_deref()), (2, Some("a \"quoted\" word")));
        assert_eq!(parse(r#"POD-003 reason="say \"hi\"""#).unwrap().reason.as_deref(), Some("say \"hi\""));
        assert_eq!(parse("POD-003").unwrap().reason, None);
        assert_eq!(parse("POD-003 reason=\"  \"").unwrap().reason, None);
        assert!(parse("").unwrap_err().contains("no rule id"));
        assert!(parse("ENC-001 reason=x until=31/03/2027").unwrap_err().contains("not a date"));
        assert!(parse("ENC-001 because=x").unwrap_err().contains("unknown key"));
        assert!(parse("ENC-001 reason=\"open").unwrap_err().contains("closing quote"));
    }

    #[test]
    fn comments() {
        let f = find("  # charterguard:ignore ENC-001 reason=x").unwrap();
        assert_eq!((f.text.trim(), f.column), ("ENC-001 reason=x", 5));
        let f = find("  acl = \"private\" // charterguard:ignore DATA-003 reason=y").unwrap();
        assert_eq!(f.text.trim(), "DATA-003 reason=y");
        assert_eq!(find("/* charterguard:ignore A-1 reason=z */").unwrap().text.trim(), "A-1 reason=z");
        assert!(find("name = \"charterguard:ignore\"").is_none(), "not in a comment");
        assert!(find("# charterguard:ignored A-1").is_none());
        assert!(is_comment_line("   # x") && is_comment_line("// y") && !is_comment_line("a = 1 # z"));
    }
}

//! String functions: case, trimming, splitting, `format` (Go's `fmt` verbs as Terraform
//! supports them), `indent`, regular expressions. Their arguments are wholly known.

use super::super::ops::{collect_list, error_value, fmt_float, to_bool, to_num, to_str, Num};
use super::args::{describe, str_node, strs, Call};
use super::encoding::json_text;
use crate::model::{Node, Value};

fn text(c: &Call, f: impl Fn(&str) -> String) -> Result<Value, Value> {
    Ok(Value::Str(f(&c.str(0)?)))
}

fn test(c: &Call, f: impl Fn(&str, &str) -> bool) -> Result<Value, Value> {
    Ok(Value::Bool(f(&c.str(0)?, &c.str(1)?)))
}

pub fn lower(c: &Call) -> Result<Value, Value> {
    text(c, str::to_lowercase)
}

pub fn upper(c: &Call) -> Result<Value, Value> {
    text(c, str::to_uppercase)
}

pub fn title(c: &Call) -> Result<Value, Value> {
    text(c, title_case)
}

pub fn strrev(c: &Call) -> Result<Value, Value> {
    text(c, |s| s.chars().rev().collect())
}

pub fn trimspace(c: &Call) -> Result<Value, Value> {
    text(c, |s| s.trim().to_string())
}

pub fn chomp(c: &Call) -> Result<Value, Value> {
    text(c, |s| s.trim_end_matches(['\n', '\r']).to_string())
}

pub fn trim(c: &Call) -> Result<Value, Value> {
    let cut: Vec<char> = c.str(1)?.chars().collect();
    text(c, |s| s.trim_matches(|ch| cut.contains(&ch)).to_string())
}

pub fn trimprefix(c: &Call) -> Result<Value, Value> {
    let prefix = c.str(1)?;
    text(c, |s| s.strip_prefix(prefix.as_str()).unwrap_or(s).to_string())
}

pub fn trimsuffix(c: &Call) -> Result<Value, Value> {
    let suffix = c.str(1)?;
    text(c, |s| s.strip_suffix(suffix.as_str()).unwrap_or(s).to_string())
}

pub fn startswith(c: &Call) -> Result<Value, Value> {
    test(c, |a, b| a.starts_with(b))
}

pub fn endswith(c: &Call) -> Result<Value, Value> {
    test(c, |a, b| a.ends_with(b))
}

pub fn strcontains(c: &Call) -> Result<Value, Value> {
    test(c, |a, b| a.contains(b))
}

pub fn join(c: &Call) -> Result<Value, Value> {
    let mut parts = Vec::new();
    for i in 1..c.args.len() {
        parts.extend(c.strings(i)?);
    }
    Ok(Value::Str(parts.join(&c.str(0)?)))
}

pub fn split(c: &Call) -> Result<Value, Value> {
    let (sep, text) = (c.str(0)?, c.str(1)?);
    Ok(strs(if sep.is_empty() { text.chars().map(String::from).collect() } else { text.split(sep.as_str()).map(String::from).collect() }))
}

pub fn substr(c: &Call) -> Result<Value, Value> {
    let text: Vec<char> = c.str(0)?.chars().collect();
    let (offset, length) = (c.int(1)?, c.int(2)?);
    let len = text.len() as i64;
    let start = if offset < 0 { len + offset } else { offset };
    if start < 0 || start > len {
        return Err(c.fail(format!("offset {offset} is out of range")));
    }
    let end = if length < 0 { len } else { (start + length).min(len) };
    Ok(Value::Str(text[start as usize..end as usize].iter().collect()))
}

/// `indent(spaces, text)`: every line but the first gets `spaces` spaces in front.
pub fn indent(c: &Call) -> Result<Value, Value> {
    let spaces = usize::try_from(c.int(0)?).map_err(|_| c.fail("the number of spaces must not be negative"))?;
    let pad = format!("\n{}", " ".repeat(spaces));
    Ok(Value::Str(c.str(1)?.replace('\n', &pad)))
}

/// `replace`: a substring, or a `/regex/` whose replacement may use `$1`.
/// `replace`: a substring, or a `/regex/` whose replacement may use `$1`. JSON text whose
/// placeholders are replaced by values known only after apply stays a document known in part
/// (see [`super::encoding::replace_in_json`]).
pub fn replace(c: Call) -> super::R {
    if let Some(partial) = super::encoding::replace_in_json(&c) {
        return partial;
    }
    c.args.iter().try_for_each(super::super::ops::known_deep)?;
    replace_known(&c).map(|v| Node::new(v, None))
}

fn replace_known(c: &Call) -> Result<Value, Value> {
    let (text, search, with) = (c.str(0)?, c.str(1)?, c.str(2)?);
    if search.len() >= 2 && search.starts_with('/') && search.ends_with('/') {
        let re = regex::Regex::new(&search[1..search.len() - 1]).map_err(|e| c.fail(format!("invalid pattern: {e}")))?;
        Ok(Value::Str(re.replace_all(&text, with.as_str()).into_owned()))
    } else if search.is_empty() {
        Ok(Value::Str(text))
    } else {
        Ok(Value::Str(text.replace(&search, &with)))
    }
}

pub fn format(c: &Call) -> Result<Value, Value> {
    Ok(Value::Str(format_spec(&c.str(0)?, &c.args[1..])?))
}

pub fn formatlist(c: &Call) -> Result<Value, Value> {
    formatlist_spec(&c.str(0)?, &c.args[1..])
}

pub fn regex(c: &Call) -> Result<Value, Value> {
    let re = pattern(c)?;
    match re.captures(&c.str(1)?) {
        Some(caps) => Ok(captures(&re, caps)),
        None => Err(c.fail("the pattern did not match")),
    }
}

pub fn regexall(c: &Call) -> Result<Value, Value> {
    let re = pattern(c)?;
    let text = c.str(1)?;
    Ok(Value::List(re.captures_iter(&text).map(|caps| Node::new(captures(&re, caps), None)).collect()))
}

fn pattern(c: &Call) -> Result<regex::Regex, Value> {
    regex::Regex::new(&c.str(0)?).map_err(|e| c.fail(format!("invalid pattern: {e}")))
}

/// One match: the matched text without groups, a map with named groups, else a list of groups.
fn captures(re: &regex::Regex, caps: regex::Captures) -> Value {
    let group = |i: usize| str_node(caps.get(i).map_or("", |m| m.as_str()));
    let names: Vec<Option<&str>> = re.capture_names().collect();
    if names.len() == 1 {
        Value::Str(caps[0].to_string())
    } else if names.iter().any(Option::is_some) {
        Value::Map(names.iter().enumerate().filter_map(|(i, n)| n.map(|n| (n.to_string(), group(i)))).collect())
    } else {
        Value::List((1..names.len()).map(group).collect())
    }
}

/// Go's `strings.Title`: the first letter of each word upper-cased.
fn title_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut boundary = true;
    for c in s.chars() {
        if boundary && c.is_alphabetic() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        boundary = !(c.is_alphanumeric() || c == '_' || c == '\'');
    }
    out
}

/// Go's `fmt` verbs as Terraform's `format` supports them.
fn format_spec(spec: &str, args: &[Node]) -> Result<String, Value> {
    let mut out = String::new();
    let mut chars = spec.chars().peekable();
    let mut next = 0;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut flags = String::new();
        while let Some(&f) = chars.peek() {
            if "-+# 0".contains(f) {
                flags.push(f);
                chars.next();
            } else {
                break;
            }
        }
        let mut width = String::new();
        while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            width.push(d);
            chars.next();
        }
        let mut precision: Option<usize> = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut p = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                p.push(d);
                chars.next();
            }
            precision = Some(p.parse().unwrap_or(0));
        }
        let Some(verb) = chars.next() else {
            return Err(error_value("format: the spec ends inside a verb"));
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(next) else {
            return Err(error_value(format!("format: not enough arguments for %{verb}")));
        };
        next += 1;
        let v = &arg.value;
        let numeric = matches!(verb, 'd' | 'f' | 'e' | 'g' | 'x' | 'X' | 'o' | 'b');
        let bad = || error_value(format!("format: %{verb} cannot format {}", describe(v)));
        let mut text = match verb {
            'v' if flags.contains('#') => json_text(v),
            'v' => match v {
                Value::Null => "null".into(),
                Value::List(_) | Value::Map(_) => json_text(v),
                other => to_str(other).unwrap_or_default(),
            },
            's' => to_str(v).ok_or_else(bad)?,
            'q' => json_text(&Value::Str(to_str(v).ok_or_else(bad)?)),
            't' => to_bool(v).ok_or_else(bad)?.to_string(),
            'd' | 'x' | 'X' | 'o' | 'b' => {
                let i = to_num(v).and_then(Num::int).ok_or_else(bad)?;
                let digits = match verb {
                    'd' => i.unsigned_abs().to_string(),
                    'x' => format!("{:x}", i.unsigned_abs()),
                    'X' => format!("{:X}", i.unsigned_abs()),
                    'o' => format!("{:o}", i.unsigned_abs()),
                    _ => format!("{:b}", i.unsigned_abs()),
                };
                let sign = if i < 0 {
                    "-"
                } else if flags.contains('+') {
                    "+"
                } else {
                    ""
                };
                format!("{sign}{digits}")
            }
            'f' | 'e' | 'g' => {
                let f = to_num(v).ok_or_else(bad)?.f();
                let body = match verb {
                    'f' => format!("{:.*}", precision.unwrap_or(6), f.abs()),
                    'e' => go_exponent(&format!("{:.*e}", precision.unwrap_or(6), f.abs())),
                    _ => fmt_float(f.abs()),
                };
                let sign = if f < 0.0 {
                    "-"
                } else if flags.contains('+') {
                    "+"
                } else {
                    ""
                };
                format!("{sign}{body}")
            }
            other => return Err(error_value(format!("format: unsupported verb %{other}"))),
        };
        if let (Some(p), 's' | 'v') = (precision, verb) {
            text = text.chars().take(p).collect();
        }
        let width: usize = width.parse().unwrap_or(0);
        let len = text.chars().count();
        if len < width {
            let pad = width - len;
            if flags.contains('-') {
                text.push_str(&" ".repeat(pad));
            } else if flags.contains('0') && numeric {
                let (sign, digits) = text.split_at(if text.starts_with(['-', '+']) { 1 } else { 0 });
                text = format!("{sign}{}{digits}", "0".repeat(pad));
            } else {
                text = format!("{}{text}", " ".repeat(pad));
            }
        }
        out.push_str(&text);
    }
    if next < args.len() {
        return Err(error_value(format!("format: too many arguments; only {next} used by the format string")));
    }
    Ok(out)
}

fn formatlist_spec(spec: &str, args: &[Node]) -> Result<Value, Value> {
    let mut len: Option<usize> = None;
    for arg in args {
        if let Value::List(items) = &arg.value {
            match len {
                Some(l) if l != items.len() => return Err(error_value("formatlist: the lists have different lengths")),
                _ => len = Some(items.len()),
            }
        }
    }
    let Some(len) = len else {
        return Ok(Value::List(vec![str_node(&format_spec(spec, args)?)]));
    };
    let mut out = Vec::with_capacity(len);
    for i in 0..len {
        let row: Vec<Node> = args
            .iter()
            .map(|a| match &a.value {
                Value::List(items) => items[i].clone(),
                _ => a.clone(),
            })
            .collect();
        out.push(str_node(&format_spec(spec, &row)?));
    }
    Ok(collect_list(out))
}

/// Rust writes `1.2345e3`; Go's `%e` (Terraform's `format`) writes `1.2345e+03`: a sign and
/// at least two exponent digits.
fn go_exponent(rust: &str) -> String {
    match rust.split_once('e') {
        Some((mantissa, exponent)) => {
            let (sign, digits) = exponent.strip_prefix('-').map_or(("+", exponent), |d| ("-", d));
            format!("{mantissa}e{sign}{digits:0>2}")
        }
        None => rust.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_errors, check};

    #[test]
    fn indent_and_friends() {
        check(&[
            ("indent(2, \"a\\nb\\n\\nc\")", r#""a\n  b\n  \n  c""#),
            ("indent(4, \"single\")", r#""single""#),
            ("indent(0, \"a\\nb\")", r#""a\nb""#),
            ("title(\"hello world-wide\")", r#""Hello World-Wide""#),
            ("join(\"-\")", r#""""#),
            ("regexall(\"(?P<k>[a-z]+)=(?P<v>\\\\d+)\", \"a=1 b=22\")", r#"[{"k":"a","v":"1"},{"k":"b","v":"22"}]"#),
        ]);
        assert_errors(&["indent(-1, \"a\")", "indent(\"x\", \"a\")", "indent(2, [\"a\"])"]);
    }
}

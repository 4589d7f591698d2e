//! go-cty-yaml's reading of scalars, keys and merge keys ([`super::Schema::GoCty`]), which is
//! Terraform's `yamldecode`: checked against Terraform 1.15 (tests/it/terraform_diff/).

use super::CORE_HANDLE;
use crate::model::date::days_in_month;
use crate::model::{Node, Value};
use saphyr_parser::{ScalarStyle, Tag};

/// A scalar's value under go-cty-yaml's rules.
pub fn resolve(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Result<Value, String> {
    let tag = match tag {
        None => "",
        Some(t) if t.handle == CORE_HANDLE && matches!(t.suffix.as_str(), "str" | "bool" | "int" | "float" | "null" | "timestamp" | "binary") => {
            t.suffix.as_str()
        }
        Some(t) => return Err(format!("unsupported tag \"{}{}\"", if t.handle == CORE_HANDLE { "!!" } else { &t.handle }, t.suffix)),
    };
    let hinted = text.is_empty()
        || matches!(text.as_bytes()[0], b'+' | b'-' | b'0'..=b'9' | b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' | b'.');
    let mut tag = tag;
    if hinted && tag != "str" && tag != "binary" {
        if matches!(style, ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted) {
            return Ok(Value::Str(text.to_string()));
        }
        if let Some(value) = named(text) {
            return Ok(value);
        }
        if tag.is_empty() && matches!(text, ".nan" | ".NaN" | ".NAN") {
            return Err("floating point NaN is not supported".into());
        }
        if tag.is_empty() || tag == "timestamp" {
            if let Some(time) = timestamp(text) {
                return Ok(Value::Str(time));
            }
        }
        if integer_literal(text) {
            tag = "int";
        } else if float_literal(text) {
            tag = "float";
        }
    }
    let cannot = || format!("cannot parse {text:?} as !!{tag}");
    match tag {
        "str" => Ok(Value::Str(text.to_string())),
        "binary" => {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.decode(text).map_err(|_| format!("cannot parse {text:?} as !!binary: not valid base64"))?;
            Ok(Value::Str(text.to_string()))
        }
        "bool" => match named(text) {
            Some(b @ Value::Bool(_)) => Ok(b),
            _ => Err(cannot()),
        },
        "int" | "float" => number(text).ok_or_else(cannot),
        "timestamp" => timestamp(text).map(Value::Str).ok_or_else(cannot),
        "null" => Ok(Value::Null),
        _ => Ok(Value::Str(text.to_string())),
    }
}

/// YAML 1.1's booleans, nulls and infinities.
fn named(text: &str) -> Option<Value> {
    Some(match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => Value::Bool(true),
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => Value::Bool(false),
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Value::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Value::Float(f64::NEG_INFINITY),
        _ => return None,
    })
}

/// `[-+]?[0-9]+`, `0o[0-7]+` or `0x[0-9a-fA-F]+` (Terraform 1.15 reads `1_000`, `-0x1F` and
/// `0b1` as strings).
fn integer_literal(text: &str) -> bool {
    let all = |s: &str, f: fn(&u8) -> bool| !s.is_empty() && s.as_bytes().iter().all(f);
    match (text.strip_prefix("0o"), text.strip_prefix("0x")) {
        (Some(octal), _) => all(octal, |b| (b'0'..=b'7').contains(b)),
        (_, Some(hex)) => all(hex, u8::is_ascii_hexdigit),
        _ => all(text.strip_prefix(['-', '+']).unwrap_or(text), u8::is_ascii_digit),
    }
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
fn float_literal(text: &str) -> bool {
    let t = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => digits(int) && digits(frac) && (!frac.is_empty() || !int.is_empty()) && !(int.is_empty() && frac.is_empty()),
        None => !mantissa.is_empty() && digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok
}

/// A number: decimal (cty's parser), or Go's `ParseInt(text, 0, 64)` forms (`0x`, `0o`, a
/// leading `0` meaning octal only when the decimal reading failed).
fn number(text: &str) -> Option<Value> {
    if let Ok(i) = text.parse::<i64>() {
        return Some(Value::Int(i));
    }
    if float_literal(text) {
        return text.parse::<f64>().ok().map(Value::Float);
    }
    let (negative, t) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (digits, radix) = match (t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")), t.strip_prefix("0o").or_else(|| t.strip_prefix("0O"))) {
        (Some(hex), _) => (hex, 16),
        (_, Some(octal)) => (octal, 8),
        _ => return None,
    };
    let n = i64::from_str_radix(digits, radix).ok()?;
    Some(Value::Int(if negative { -n } else { n }))
}

/// go-cty-yaml's timestamps: `YYYY-M-D`, with `T`/`t`/space and `h:m:s[.frac]`, and a zone
/// (`Z` or `±hh:mm`) unless space-separated; written back as RFC 3339 without fraction.
fn timestamp(text: &str) -> Option<String> {
    let b = text.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return None;
    }
    let (date, time) = match text.find(['T', 't', ' ']) {
        Some(i) => (&text[..i], Some((text.as_bytes()[i], &text[i + 1..]))),
        None => (text, None),
    };
    let mut parts = date.split('-');
    let year: i64 = parts.next()?.parse().ok()?;
    let (month, day) = (small(parts.next()?)?, small(parts.next()?)?);
    if parts.next().is_some() || !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let date = format!("{year:04}-{month:02}-{day:02}");
    let Some((separator, time)) = time else { return Some(format!("{date}T00:00:00Z")) };
    let (clock, zone) = match separator {
        b' ' => (time, "Z".to_string()),
        _ => split_zone(time)?,
    };
    let clock = clock.split_once(['.']).map_or(clock, |(whole, frac)| if !frac.is_empty() && frac.bytes().all(|d| d.is_ascii_digit()) { whole } else { "" });
    let mut hms = clock.split(':');
    let (h, m, s) = (small(hms.next()?)?, small(hms.next()?)?, small(hms.next()?)?);
    if hms.next().is_some() || h > 23 || m > 59 || s > 59 {
        return None;
    }
    Some(format!("{date}T{h:02}:{m:02}:{s:02}{zone}"))
}

/// The clock and zone of `15:4:5Z` or `15:4:5-07:00` (`+00:00` reads as `Z`).
fn split_zone(time: &str) -> Option<(&str, String)> {
    if let Some(clock) = time.strip_suffix('Z') {
        return Some((clock, "Z".into()));
    }
    let at = time.rfind(['+', '-'])?;
    let zone = &time[at..];
    let b = zone.as_bytes();
    if b.len() != 6 || b[3] != b':' || !b[1..3].iter().chain(&b[4..]).all(u8::is_ascii_digit) {
        return None;
    }
    Some((&time[..at], if &zone[1..] == "00:00" { "Z".into() } else { zone.to_string() }))
}

/// A 1- or 2-digit field.
fn small(s: &str) -> Option<u32> {
    (!s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
}

/// A mapping key: its resolved value as a string, and whether it is a merge key (`<<`).
pub fn key(raw: Option<(String, bool)>, value: &Value) -> Result<(String, bool), String> {
    let merge = raw.as_ref().is_some_and(|(text, untagged)| *untagged && text == "<<");
    let text = match value {
        _ if merge => "<<".to_string(),
        Value::Str(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => return Err("mapping key cannot be null".into()),
        _ => return Err("only strings are allowed as mapping keys".into()),
    };
    Ok((text, merge))
}

/// The entries a `<<` merges in: its value must be a mapping.
pub fn merged(node: Node) -> Result<Vec<(String, Node)>, String> {
    match node.value {
        Value::Map(entries) => Ok(entries),
        Value::List(_) => Err("cannot merge a sequence into mapping".into()),
        _ => Err("cannot merge a scalar into mapping".into()),
    }
}

//! Encoding functions: base64 (of text, of gzip, of other character encodings), URLs, JSON and
//! CSV. Their arguments are wholly known.

use super::super::ops::{collect_list, collect_map, fmt_float, known, known_deep, num_value};
use super::args::Call;
use crate::model::{Node, Value};
use crate::terraform::sandbox::MAX_READ;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use std::io::Read;

/// Go's `base64.StdEncoding`: padding required, non-zero trailing bits accepted.
const STD: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true).with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

pub fn encode_base64(bytes: &[u8]) -> String {
    STD.encode(bytes)
}

/// Go's decoder also skips line breaks.
fn decode_base64(c: &Call, text: &str) -> Result<Vec<u8>, Value> {
    let text: String = text.chars().filter(|ch| !matches!(ch, '\r' | '\n')).collect();
    STD.decode(text).map_err(|e| c.fail(format!("the string is not valid base64: {e}")))
}

fn utf8(c: &Call, bytes: Vec<u8>) -> Result<Value, Value> {
    String::from_utf8(bytes).map(Value::Str).map_err(|_| c.fail("the result is not valid UTF-8"))
}

pub fn base64encode(c: &Call) -> Result<Value, Value> {
    Ok(Value::Str(encode_base64(c.str(0)?.as_bytes())))
}

pub fn base64decode(c: &Call) -> Result<Value, Value> {
    let bytes = decode_base64(c, &c.str(0)?)?;
    utf8(c, bytes)
}

/// Gzip framed as Go's `gzip.Writer` frames it (no name, time 0, OS unknown; the deflate
/// data closed by a sync marker and an empty final stored block), so that short texts give
/// Terraform's exact string. Longer texts with repeats may differ: miniz and Go's
/// `compress/flate` choose different matches, though both decompress to the same text.
pub fn base64gzip(c: &Call) -> Result<Value, Value> {
    let text = c.str(0)?;
    let mut deflate = flate2::Compress::new(flate2::Compression::default(), false);
    let mut data = Vec::with_capacity(text.len() / 2 + 64);
    loop {
        let consumed = deflate.total_in() as usize;
        data.reserve(text.len() - consumed + 64);
        deflate.compress_vec(&text.as_bytes()[consumed..], &mut data, flate2::FlushCompress::Sync).map_err(|e| c.fail(e))?;
        if deflate.total_in() as usize == text.len() && data.len() < data.capacity() {
            break;
        }
    }
    let mut crc = flate2::Crc::new();
    crc.update(text.as_bytes());
    let mut gzip = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    gzip.extend_from_slice(&data);
    gzip.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    gzip.extend_from_slice(&crc.sum().to_le_bytes());
    gzip.extend_from_slice(&(text.len() as u32).to_le_bytes());
    Ok(Value::Str(encode_base64(&gzip)))
}

/// OpenTofu's `base64gunzip`. A text that decompresses past the file functions' size limit
/// (a gzip bomb) is left unknown rather than decompressed.
pub fn base64gunzip(c: &Call) -> Result<Value, Value> {
    let compressed = decode_base64(c, &c.str(0)?)?;
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(compressed.as_slice()).take(MAX_READ + 1).read_to_end(&mut text).map_err(|e| c.fail(format!("cannot decompress: {e}")))?;
    if text.len() as u64 > MAX_READ {
        return Err(Value::Unknown(format!("base64gunzip: the text decompresses to more than {MAX_READ} bytes; charterguard does not hold it")));
    }
    utf8(c, text)
}

/// The character encodings charterguard converts to and from; Terraform knows every IANA
/// name, and a call with another one is left unknown rather than guessed.
#[derive(Clone, Copy)]
enum Charset {
    Utf8,
    Utf16Le,
    Utf16Be,
    Latin1,
}

fn charset(c: &Call, i: usize) -> Result<Charset, Value> {
    let name = c.str(i)?;
    match name.to_ascii_uppercase().replace('_', "-").as_str() {
        "UTF-8" | "UTF8" => Ok(Charset::Utf8),
        "UTF-16LE" => Ok(Charset::Utf16Le),
        "UTF-16BE" => Ok(Charset::Utf16Be),
        "ISO-8859-1" | "LATIN1" | "ISO-IR-100" | "L1" | "IBM819" | "CP819" | "CSISOLATIN1" | "ISO-8859-1:1987" => Ok(Charset::Latin1),
        _ => Err(Value::Unknown(format!("{}: charterguard does not convert text to or from the encoding {name:?}", c.name))),
    }
}

pub fn textencodebase64(c: &Call) -> Result<Value, Value> {
    let text = c.str(0)?;
    let bytes: Vec<u8> = match charset(c, 1)? {
        Charset::Utf8 => text.into_bytes(),
        Charset::Utf16Le => text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
        Charset::Utf16Be => text.encode_utf16().flat_map(u16::to_be_bytes).collect(),
        Charset::Latin1 => text
            .chars()
            .map(|ch| u8::try_from(ch as u32))
            .collect::<Result<_, _>>()
            .map_err(|_| c.fail("the text has characters ISO-8859-1 cannot represent"))?,
    };
    Ok(Value::Str(encode_base64(&bytes)))
}

/// Bytes that are invalid in the encoding become U+FFFD, as Go's decoders do.
pub fn textdecodebase64(c: &Call) -> Result<Value, Value> {
    let bytes = decode_base64(c, &c.str(0)?)?;
    let units = |to_u16: fn([u8; 2]) -> u16| bytes.chunks(2).map(|p| if p.len() == 2 { to_u16([p[0], p[1]]) } else { 0xFFFD }).collect::<Vec<u16>>();
    let utf16 = |units: Vec<u16>| char::decode_utf16(units).map(|r| r.unwrap_or('\u{FFFD}')).collect::<String>();
    Ok(Value::Str(match charset(c, 1)? {
        Charset::Utf8 => String::from_utf8_lossy(&bytes).into_owned(),
        Charset::Utf16Le => utf16(units(u16::from_le_bytes)),
        Charset::Utf16Be => utf16(units(u16::from_be_bytes)),
        Charset::Latin1 => bytes.iter().map(|&b| b as char).collect(),
    }))
}

/// Go's `url.QueryEscape`: unreserved characters stay, spaces become `+`.
pub fn urlencode(c: &Call) -> Result<Value, Value> {
    let mut out = String::new();
    for b in c.str(0)?.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    Ok(Value::Str(out))
}

/// OpenTofu's `urldecode`: Go's `url.QueryUnescape`.
pub fn urldecode(c: &Call) -> Result<Value, Value> {
    let text = c.str(0)?;
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = text.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok().filter(|_| h.bytes().all(|b| b.is_ascii_hexdigit())));
                out.push(hex.ok_or_else(|| c.fail(format!("invalid URL escape {:?}", text.get(i..(i + 3).min(text.len())).unwrap_or("%"))))?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    utf8(c, out)
}

/// `jsonencode`: the JSON text. A collection whose only unknowns are some leaves gives its
/// document known in part ([`Value::PartialJson`]): the text is unknown, its known parts are not.
pub fn jsonencode(c: Call) -> super::R {
    let argument = &c.args[0];
    if matches!(argument.value, Value::List(_) | Value::Map(_)) && argument.first_unknown().is_some() {
        return Ok(Node::new(Value::PartialJson(Box::new(argument.clone())), None));
    }
    known_deep(argument)?;
    Ok(Node::new(Value::Str(json_text(&argument.value)), None))
}

/// `replace(json, placeholder, value)` where the JSON text is known (or known in part) and the
/// placeholder stands inside its strings only, as registry modules write policies
/// (terraform-aws-modules/s3-bucket replaces `_S3_BUCKET_ARN_` with the bucket's ARN, known
/// only after apply): the document, each string holding the placeholder replaced in place, a
/// string replaced by an unknown value unknown itself. `None` when the call is not of that
/// kind: an ordinary `replace`.
pub fn replace_in_json(c: &Call) -> Option<super::R> {
    let (Value::Str(search), with) = (&c.args[1].value, &c.args[2]) else { return None };
    // The document is replaced in place only where that is the same as replacing in the text.
    let plain = |s: &str| !s.chars().any(|ch| matches!(ch, '"' | '\\' | '<' | '>' | '&' | '\u{2028}' | '\u{2029}') || (ch as u32) < 0x20);
    if search.is_empty() || !plain(search) || matches!(&with.value, Value::Str(w) if !plain(w)) {
        return None;
    }
    let document = match &c.args[0].value {
        Value::PartialJson(document) => (**document).clone(),
        Value::Str(text) if with.first_unknown().is_some() => {
            let parsed: serde_json::Value = serde_json::from_str(text).ok().filter(|j: &serde_json::Value| j.is_object() || j.is_array())?;
            // Every occurrence must be inside a string value, not a key or the structure.
            let document = Node::new(from_json(&parsed), None);
            (occurrences_in_values(&document, search)? == text.matches(search.as_str()).count()).then_some(document)?
        }
        _ => return None,
    };
    Some(Ok(Node::new(Value::PartialJson(Box::new(replaced_in_values(document, search, with))), None)))
}

/// How often `search` occurs in the string values of a document; `None` when it occurs in a key.
fn occurrences_in_values(node: &Node, search: &str) -> Option<usize> {
    match &node.value {
        Value::Str(s) => Some(s.matches(search).count()),
        Value::List(items) => items.iter().map(|i| occurrences_in_values(i, search)).sum(),
        Value::Map(entries) => {
            let in_keys = entries.iter().any(|(k, _)| k.contains(search));
            if in_keys {
                return None;
            }
            entries.iter().map(|(_, v)| occurrences_in_values(v, search)).sum()
        }
        _ => Some(0),
    }
}

fn replaced_in_values(node: Node, search: &str, with: &Node) -> Node {
    let Node { value, span } = node;
    let value = match value {
        Value::Str(s) if s.contains(search) => match known(&with.value) {
            Ok(Value::Str(w)) => Value::Str(s.replace(search, w)),
            Ok(other) => Value::Str(s.replace(search, &json_text(other))),
            Err(Value::Unknown(reason)) => Value::Unknown(format!("{s:?} with {search} replaced: {reason}")),
            Err(other) => other,
        },
        Value::List(items) => Value::List(items.into_iter().map(|i| replaced_in_values(i, search, with)).collect()),
        Value::Map(entries) => Value::Map(entries.into_iter().map(|(k, v)| (k, replaced_in_values(v, search, with))).collect()),
        other => other,
    };
    Node::new(value, span)
}

pub fn jsondecode(c: &Call) -> Result<Value, Value> {
    match serde_json::from_str::<serde_json::Value>(&c.str(0)?) {
        Ok(j) => Ok(from_json(&j)),
        Err(e) => Err(c.fail(e)),
    }
}

/// `csvdecode`: a list of objects keyed by the header row.
pub fn csvdecode(c: &Call) -> Result<Value, Value> {
    let mut records = super::csv::records(&c.str(0)?).map_err(|e| c.fail(e))?.into_iter();
    let header = records.next().ok_or_else(|| c.fail("missing header line"))?;
    if let Some(dup) = header.iter().enumerate().find_map(|(i, name)| header[..i].contains(name).then_some(name)) {
        return Err(c.fail(format!("duplicate column name {dup:?}")));
    }
    let rows = records.map(|row| Node::new(Value::Map(header.iter().cloned().zip(row.into_iter().map(|f| Node::new(Value::Str(f), None))).collect()), None));
    Ok(Value::List(rows.collect()))
}

pub fn json_text(v: &Value) -> String {
    let mut out = String::new();
    json_encode(v, &mut out);
    out
}

/// A JSON string as Go's `encoding/json` writes it (Terraform's `jsonencode`, the AWS
/// provider's policy documents): `<`, `>`, `&`, U+2028 and U+2029 as `\u` escapes, `\b` and
/// `\f` short (Go 1.22 and later), other control characters as `\u00XX`.
pub fn json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// JSON as Terraform's `jsonencode` writes it: compact, keys sorted, strings as Go escapes
/// them ([`json_string`]).
pub fn json_encode(v: &Value, out: &mut String) {
    match v {
        Value::Null | Value::Unknown(_) | Value::Ref { .. } | Value::PartialJson(_) | Value::PartialStr(_) => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&fmt_float(*f)),
        Value::Str(s) => json_string(s, out),
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_encode(&item.value, out);
            }
            out.push(']');
        }
        Value::Map(entries) => {
            let mut sorted: Vec<&(String, Node)> = entries.iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
            out.push('{');
            for (i, (k, item)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_encode(&Value::Str(k.clone()), out);
                out.push(':');
                json_encode(&item.value, out);
            }
            out.push('}');
        }
    }
}

fn from_json(j: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match j {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => num_value(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => Value::Str(s.clone()),
        J::Array(items) => collect_list(items.iter().map(|i| Node::new(from_json(i), None)).collect()),
        J::Object(entries) => collect_map(entries.iter().map(|(k, v)| (k.clone(), Node::new(from_json(v), None))).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_errors, check, reason};

    #[test]
    fn base64_gzip_and_url() {
        check(&[
            ("base64encode(\"héllo\")", r#""aMOpbGxv""#),
            ("base64decode(\"aMOp\\nbGxv\")", r#""héllo""#),
            ("base64gzip(\"hello\")", r#""H4sIAAAAAAAA/8pIzcnJBwAAAP//AQAA//+GphA2BQAAAA==""#),
            ("base64gunzip(\"H4sIAAAAAAAA/8pIzcnJBwAAAP//AQAA//+GphA2BQAAAA==\")", r#""hello""#),
            ("base64gunzip(base64gzip(\"a longer text, a longer text, a longer text\"))", r#""a longer text, a longer text, a longer text""#),
            ("urlencode(\"a b&c=d/é?~\")", r#""a+b%26c%3Dd%2F%C3%A9%3F~""#),
            ("urldecode(\"a+b%20c%2Fd%C3%A9\")", r#""a b c/dé""#),
            ("urldecode(urlencode(\"x y/z\"))", r#""x y/z""#),
        ]);
        // A gzip bomb (17 MiB of zeros in a few KiB) is not decompressed.
        let bomb = super::encode_base64(&{
            use std::io::Write;
            let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            gzip.write_all(&vec![b'0'; 17 << 20]).unwrap();
            gzip.finish().unwrap()
        });
        assert!(reason(&format!("base64gunzip(\"{bomb}\")")).contains("decompresses to more than"));
        assert_errors(&[
            "base64decode(\"/w==\")",
            "base64decode(\"abc\")",
            "base64gunzip(\"aGVsbG8=\")",
            "urldecode(\"%zz\")",
            "urldecode(\"100%\")",
            "urldecode(\"%ff\")",
        ]);
    }

    #[test]
    fn text_encodings() {
        check(&[
            ("textencodebase64(\"Hello\", \"UTF-16LE\")", r#""SABlAGwAbABvAA==""#),
            ("textencodebase64(\"A😀\", \"UTF-16BE\")", r#""AEHYPd4A""#),
            ("textencodebase64(\"café\", \"iso-8859-1\")", r#""Y2Fm6Q==""#),
            ("textdecodebase64(\"SABlAGwAbABvAA==\", \"UTF-16LE\")", r#""Hello""#),
            ("textdecodebase64(\"Y2Fm6Q==\", \"ISO-8859-1\")", r#""café""#),
            ("textdecodebase64(\"/w==\", \"UTF-8\")", r#""�""#),
        ]);
        assert_errors(&["textencodebase64(\"€\", \"ISO-8859-1\")"]);
        assert!(reason("textencodebase64(\"x\", \"Shift_JIS\")").contains("does not convert"));
    }

    #[test]
    fn json_and_csv() {
        check(&[
            ("jsonencode({b = [1, null], a = \"<&>\"})", r#""{\"a\":\"\\u003c\\u0026\\u003e\",\"b\":[1,null]}""#),
            ("csvdecode(\"a,b\\n1,\\\"x,\\\"\\\"y\\\"\\\"\\\"\\n\")", r#"[{"a":"1","b":"x,\"y\""}]"#),
            ("csvdecode(\"a\\n\")", "[]"),
        ]);
        assert_errors(&["csvdecode(\"\")", "csvdecode(\"a,a\\n1,2\\n\")", "csvdecode(\"a,b\\n1\\n\")", "jsondecode(\"{\")"]);
    }
}

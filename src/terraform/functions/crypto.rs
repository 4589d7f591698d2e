//! Hash functions (`md5`, `sha1`, `sha256`, `sha512`, their base64 forms) and `uuidv5`, over
//! strings here and over files in `files`.

use super::args::Call;
use super::encoding::encode_base64;
use crate::model::Value;
use sha1::Digest;

/// The digest of `bytes` with the hash `D`.
pub fn digest<D: Digest>(bytes: &[u8]) -> Vec<u8> {
    D::digest(bytes).to_vec()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_of<D: Digest>(c: &Call) -> Result<Value, Value> {
    Ok(Value::Str(hex(&digest::<D>(c.str(0)?.as_bytes()))))
}

fn base64_of<D: Digest>(c: &Call) -> Result<Value, Value> {
    Ok(Value::Str(encode_base64(&digest::<D>(c.str(0)?.as_bytes()))))
}

pub fn md5(c: &Call) -> Result<Value, Value> {
    hex_of::<md5::Md5>(c)
}

pub fn sha1(c: &Call) -> Result<Value, Value> {
    hex_of::<sha1::Sha1>(c)
}

pub fn sha256(c: &Call) -> Result<Value, Value> {
    hex_of::<sha2::Sha256>(c)
}

pub fn sha512(c: &Call) -> Result<Value, Value> {
    hex_of::<sha2::Sha512>(c)
}

pub fn base64sha256(c: &Call) -> Result<Value, Value> {
    base64_of::<sha2::Sha256>(c)
}

pub fn base64sha512(c: &Call) -> Result<Value, Value> {
    base64_of::<sha2::Sha512>(c)
}

/// `uuidv5(namespace, name)`: RFC 4122's name-based UUID (SHA-1) in a named namespace (`dns`,
/// `url`, `oid`, `x500`) or one given as a UUID.
pub fn uuidv5(c: &Call) -> Result<Value, Value> {
    let namespace = c.str(0)?;
    let ns = match namespace.as_str() {
        "dns" => 0x6ba7b810_9dad_11d1_80b4_00c04fd430c8u128,
        "url" => 0x6ba7b811_9dad_11d1_80b4_00c04fd430c8,
        "oid" => 0x6ba7b812_9dad_11d1_80b4_00c04fd430c8,
        "x500" => 0x6ba7b814_9dad_11d1_80b4_00c04fd430c8,
        other => parse_uuid(other).ok_or_else(|| c.fail(format!("{other:?} is not a valid namespace")))?,
    };
    let mut input = ns.to_be_bytes().to_vec();
    input.extend_from_slice(c.str(1)?.as_bytes());
    let mut id: [u8; 16] = digest::<sha1::Sha1>(&input)[..16].try_into().expect("SHA-1 has 20 bytes");
    id[6] = (id[6] & 0x0f) | 0x50;
    id[8] = (id[8] & 0x3f) | 0x80;
    let h = hex(&id);
    Ok(Value::Str(format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])))
}

/// A UUID as Go's `uuid.Parse` reads it: hyphenated, with `urn:uuid:`, in braces, or 32 hex
/// digits.
fn parse_uuid(text: &str) -> Option<u128> {
    let text = text.strip_prefix("urn:uuid:").or_else(|| text.strip_prefix('{').and_then(|t| t.strip_suffix('}'))).unwrap_or(text);
    let digits: String = match text.len() {
        36 if [8, 13, 18, 23].iter().all(|&i| text.as_bytes()[i] == b'-') => text.replace('-', ""),
        32 => text.to_string(),
        _ => return None,
    };
    if digits.len() != 32 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u128::from_str_radix(&digits, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_errors, check, reason};

    #[test]
    fn hashes_and_uuids() {
        check(&[
            ("md5(\"hello world\")", r#""5eb63bbbe01eeed093cb22bb8f5acdc3""#),
            ("sha1(\"hello world\")", r#""2aae6c35c94fcfb415dbe95f408b9ce91ee846ed""#),
            ("sha256(\"hello world\")", r#""b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9""#),
            (
                "sha512(\"\")",
                r#""cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e""#,
            ),
            ("base64sha256(\"hello world\")", r#""uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=""#),
            ("base64sha512(\"hello world\")", r#""MJ7MSJwS1utMxA9QyQLytNDtd+5RGnx6m808qG1M2G+YndNbxf9JlnDaNCVbRbDP2DDoH2Bdz33FVC6TrpzXbw==""#),
            ("uuidv5(\"dns\", \"www.terraform.io\")", r#""a5008fae-b28c-5ba5-96cd-82b4c53552d6""#),
            ("uuidv5(\"url\", \"https://www.terraform.io/\")", r#""9db6f67c-dd95-5ea0-aa5b-e70e5c5f7cf5""#),
            ("uuidv5(\"urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8\", \"www.terraform.io\")", r#""a5008fae-b28c-5ba5-96cd-82b4c53552d6""#),
            ("uuidv5(\"6ba7b8109dad11d180b400c04fd430c8\", \"www.terraform.io\")", r#""a5008fae-b28c-5ba5-96cd-82b4c53552d6""#),
        ]);
        assert_errors(&["uuidv5(\"nope\", \"x\")", "uuidv5(\"6ba7b810-9dad-11d1-80b4-00c04fd430cz\", \"x\")", "md5([\"a\"])"]);
        assert_eq!(reason("sha256(var.unknown)"), "var.unknown has no value");
    }
}

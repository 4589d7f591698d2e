//! File functions, reading through the root module's [`Sandbox`]: relative paths resolve
//! against the root module's directory (Terraform's working directory), and a path that leaves
//! the scanned roots is refused (an error value here, an error diagnostic at the call).

use super::args::{strs, Call};
use super::crypto::{digest, hex};
use super::encoding::encode_base64;
use super::paths::clean;
use crate::model::{LineIndex, Node, Span, Value};
use sha1::Digest;
use std::path::Path;
use std::sync::Arc;

/// Most directory entries `fileset` looks at; a glob over a huge tree is left unknown.
const FILESET_LIMIT: usize = 50_000;

/// The bytes of the file at `path` (relative to the root module's directory).
pub fn read(c: &Call, path: &str) -> Result<Vec<u8>, Value> {
    let sandbox = c.sandbox.ok_or_else(|| c.fail("no file may be read here"))?;
    sandbox.read(path, c.span).map_err(|reason| c.fail(reason))
}

/// The file's text: Terraform refuses a file that is not UTF-8.
pub fn read_text(c: &Call, path: &str) -> Result<String, Value> {
    utf8_text(c, path, read(c, path)?)
}

fn utf8_text(c: &Call, path: &str, bytes: Vec<u8>) -> Result<String, Value> {
    String::from_utf8(bytes).map_err(|_| c.fail(format!("the contents of {path} are not valid UTF-8; use filebase64 to read binary files")))
}

/// `file`: the text, with the whole file as its span, so that what is decoded from it
/// (`yamldecode(file("distributors.yaml"))`) points at its own lines there.
pub fn file(c: Call) -> super::R {
    super::super::ops::known_deep(&c.args[0])?;
    let path = c.str(0)?;
    let sandbox = c.sandbox.ok_or_else(|| c.fail("no file may be read here"))?;
    let (bytes, shown) = sandbox.read_shown(&path, c.span).map_err(|reason| c.fail(reason))?;
    let text = utf8_text(&c, &path, bytes)?;
    let span = whole_text_span(shown, &text);
    Ok(Node::new(Value::Str(text), Some(span)))
}

/// The span of a file's whole text: from 1:1 to its end.
fn whole_text_span(file: Arc<str>, text: &str) -> Span {
    let (end_line, end_col) = LineIndex::new(text).position(text.len());
    Span::new(file, 1, 1, end_line, end_col)
}

/// The file `text` is the whole of, when its span says it is one (`file(...)` passed on
/// unchanged): decoders give their values positions in that file.
pub fn whole_file_of(text: &str, span: &Option<Span>) -> Option<Arc<str>> {
    let span = span.as_ref()?;
    (*span == whole_text_span(span.file.clone(), text)).then(|| span.file.clone())
}

pub fn filebase64(c: &Call) -> Result<Value, Value> {
    Ok(Value::Str(encode_base64(&read(c, &c.str(0)?)?)))
}

fn hex_of<D: Digest>(c: &Call) -> Result<Value, Value> {
    Ok(Value::Str(hex(&digest::<D>(&read(c, &c.str(0)?)?))))
}

fn base64_of<D: Digest>(c: &Call) -> Result<Value, Value> {
    Ok(Value::Str(encode_base64(&digest::<D>(&read(c, &c.str(0)?)?))))
}

pub fn filemd5(c: &Call) -> Result<Value, Value> {
    hex_of::<md5::Md5>(c)
}

pub fn filesha1(c: &Call) -> Result<Value, Value> {
    hex_of::<sha1::Sha1>(c)
}

pub fn filesha256(c: &Call) -> Result<Value, Value> {
    hex_of::<sha2::Sha256>(c)
}

pub fn filesha512(c: &Call) -> Result<Value, Value> {
    hex_of::<sha2::Sha512>(c)
}

pub fn filebase64sha256(c: &Call) -> Result<Value, Value> {
    base64_of::<sha2::Sha256>(c)
}

pub fn filebase64sha512(c: &Call) -> Result<Value, Value> {
    base64_of::<sha2::Sha512>(c)
}

/// `fileexists(path)`: a regular file is there; a directory is an error, as in Terraform.
pub fn fileexists(c: &Call) -> Result<Value, Value> {
    let path = c.str(0)?;
    let sandbox = c.sandbox.ok_or_else(|| c.fail("no file may be read here"))?;
    let resolved = sandbox.resolve(&path, c.span).map_err(|reason| c.fail(reason))?;
    match std::fs::metadata(&resolved) {
        Ok(meta) if meta.is_dir() => Err(c.fail(format!("{path} is a directory, not a file"))),
        Ok(meta) => Ok(Value::Bool(meta.is_file())),
        Err(_) => Ok(Value::Bool(false)),
    }
}

/// `fileset(path, pattern)`: the regular files under `path` matching the glob (`*` and `?`
/// stay inside a directory, `**` crosses them, `{a,b}` and `[...]` as in Terraform), relative
/// to `path`, sorted. The walk starts at the pattern's literal directory, stays inside the
/// roots and does not follow directory symlinks.
pub fn fileset(c: &Call) -> Result<Value, Value> {
    let (path, pattern) = (clean(&c.str(0)?), c.str(1)?);
    let joined = clean(&format!("{path}/{pattern}"));
    let glob = globset::GlobBuilder::new(&joined).literal_separator(true).backslash_escape(true).build().map_err(|e| c.fail(e))?.compile_matcher();
    let base = literal_prefix(&joined);
    let sandbox = c.sandbox.ok_or_else(|| c.fail("no file may be read here"))?;
    let dir = sandbox.resolve(&base, c.span).map_err(|reason| c.fail(reason))?;
    let mut found = Vec::new();
    let mut budget = FILESET_LIMIT;
    walk(&dir, &base, &mut budget, &mut |virtual_path| {
        if glob.is_match(virtual_path) {
            found.push(relative(&path, virtual_path));
        }
    })
    .map_err(|()| Value::Unknown(format!("fileset: more than {FILESET_LIMIT} entries under {base}; charterguard does not list them")))?;
    found.sort();
    found.dedup();
    Ok(strs(found))
}

/// The leading components of a pattern that hold no glob syntax.
fn literal_prefix(pattern: &str) -> String {
    let literal: Vec<&str> = pattern.split('/').take_while(|part| !part.contains(['*', '?', '[', '{', '\\'])).collect();
    let literal = if literal.len() == pattern.split('/').count() { &literal[..literal.len() - 1] } else { &literal[..] };
    match literal.join("/") {
        prefix if prefix.is_empty() && pattern.starts_with('/') => "/".into(),
        prefix if prefix.is_empty() => ".".into(),
        prefix => prefix,
    }
}

/// Calls `found` with the path (as `base/...`) of every regular file under `dir`; `Err` when
/// more than `budget` entries would be visited.
fn walk(dir: &Path, base: &str, budget: &mut usize, found: &mut dyn FnMut(&str)) -> Result<(), ()> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(()) };
    for entry in entries.flatten() {
        *budget = budget.checked_sub(1).ok_or(())?;
        let name = entry.file_name().to_string_lossy().to_string();
        let virtual_path = if base == "." { name } else { format!("{}/{name}", base.trim_end_matches('/')) };
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => walk(&entry.path(), &virtual_path, budget, found)?,
            _ if std::fs::metadata(entry.path()).is_ok_and(|m| m.is_file()) => found(&virtual_path),
            _ => {}
        }
    }
    Ok(())
}

/// Go's `filepath.Rel` for two clean paths of the same kind (both relative or both absolute).
fn relative(from: &str, to: &str) -> String {
    let parts = |p: &str| -> Vec<String> { p.split('/').filter(|s| !s.is_empty() && *s != ".").map(String::from).collect() };
    let (from, to) = (parts(from), parts(to));
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut out: Vec<String> = vec!["..".to_string(); from.len() - common];
    out.extend(to[common..].iter().cloned());
    out.join("/")
}

#[cfg(test)]
mod tests {
    use super::{literal_prefix, relative};

    #[test]
    fn glob_bases_and_relative_paths() {
        assert_eq!(literal_prefix("data/*.yaml"), "data");
        assert_eq!(literal_prefix("**/x"), ".");
        assert_eq!(literal_prefix("a/b/c.txt"), "a/b");
        assert_eq!(literal_prefix("/abs/*"), "/abs");
        assert_eq!(relative(".", "data/a.yaml"), "data/a.yaml");
        assert_eq!(relative("data", "data/sub/a"), "sub/a");
        assert_eq!(relative("data", "other/a"), "../other/a");
    }
}

#[cfg(test)]
mod file_tests {
    use super::super::testing::eval_in;
    use crate::model::{Node, Value};

    fn json(src: &str, dir: &std::path::Path) -> String {
        Node::new(eval_in(src, Some(dir)), None).to_json().to_string()
    }

    fn is_error(src: &str, dir: &std::path::Path) -> bool {
        matches!(eval_in(src, Some(dir)), Value::Unknown(r) if crate::terraform::eval::is_error_reason(&r))
    }

    #[test]
    fn reads_hashes_and_globs_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("data/sub")).unwrap();
        std::fs::write(root.join("data/a.txt"), "hello\n").unwrap();
        std::fs::write(root.join("data/sub/b.yaml"), "x: 1\n").unwrap();
        std::fs::write(root.join("data/bin"), [0xff, 0x00]).unwrap();
        std::fs::write(dir.path().join("outside.txt"), "secret").unwrap();
        let cases = [
            ("file(\"data/a.txt\")", r#""hello\n""#),
            ("filebase64(\"data/bin\")", r#""/wA=""#),
            ("filemd5(\"data/a.txt\")", r#""b1946ac92492d2347c6235b4d2611184""#),
            ("filesha1(\"data/a.txt\")", r#""f572d396fae9206628714fb2ce00f72e94f2258f""#),
            ("filesha256(\"data/a.txt\")", r#""5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03""#),
            ("filesha512(\"data/a.txt\") == sha512(\"hello\\n\")", "true"),
            ("filebase64sha256(\"data/a.txt\") == base64sha256(\"hello\\n\")", "true"),
            ("filebase64sha512(\"data/a.txt\") == base64sha512(\"hello\\n\")", "true"),
            ("fileexists(\"data/a.txt\")", "true"),
            ("fileexists(\"data/missing\")", "false"),
            ("fileset(\"data\", \"**\")", r#"["a.txt","bin","sub/b.yaml"]"#),
            ("fileset(\".\", \"data/*.txt\")", r#"["data/a.txt"]"#),
            ("fileset(\"data/sub\", \"../*.txt\")", r#"["../a.txt"]"#),
            ("fileset(\"nowhere\", \"*\")", "[]"),
            ("yamldecode(file(\"data/sub/b.yaml\")).x", "1"),
        ];
        for (src, expected) in cases {
            assert_eq!(json(src, &root), expected, "{src}");
        }
        for src in [
            "file(\"data/bin\")",
            "file(\"data/missing\")",
            "file(\"../outside.txt\")",
            "file(\"/etc/passwd\")",
            "fileexists(\"data\")",
            "fileexists(\"../outside.txt\")",
            "fileset(\"..\", \"*\")",
            "filemd5(\"../outside.txt\")",
        ] {
            assert!(is_error(src, &root), "{src}");
        }
    }
}

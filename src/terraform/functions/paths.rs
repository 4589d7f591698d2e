//! Path functions, with Go's `path/filepath` rules on Unix (Terraform's): lexical, except
//! `abspath`, which joins the working directory, and `pathexpand`, which needs the home
//! directory of the machine running Terraform.

use super::args::Call;
use crate::model::Value;

pub fn basename(c: &Call) -> Result<Value, Value> {
    let path = c.str(0)?;
    let trimmed = path.trim_end_matches('/');
    let name = match trimmed.rsplit('/').next() {
        _ if path.is_empty() => ".",
        _ if trimmed.is_empty() => "/",
        last => last.unwrap_or(trimmed),
    };
    Ok(Value::Str(name.into()))
}

pub fn dirname(c: &Call) -> Result<Value, Value> {
    let path = c.str(0)?;
    let dir = match path.rfind('/') {
        Some(i) => &path[..=i],
        None => "",
    };
    Ok(Value::Str(clean(dir)))
}

/// Relative paths are joined to the root module's directory, where Terraform runs.
pub fn abspath(c: &Call) -> Result<Value, Value> {
    let path = c.str(0)?;
    if path.starts_with('/') {
        return Ok(Value::Str(clean(&path)));
    }
    let Some(cwd) = c.sandbox.and_then(|s| std::path::absolute(s.cwd()).ok()) else {
        return Err(Value::Unknown("abspath of a relative path depends on the directory Terraform runs in".into()));
    };
    Ok(Value::Str(clean(&format!("{}/{path}", cwd.to_string_lossy()))))
}

/// `~` is the home directory of whoever runs Terraform: not known to a scan.
pub fn pathexpand(c: &Call) -> Result<Value, Value> {
    let path = c.str(0)?;
    if path == "~" || path.starts_with("~/") {
        return Err(Value::Unknown("pathexpand: the home directory is that of the machine running Terraform".into()));
    }
    Ok(Value::Str(path))
}

/// Go's `filepath.Clean`: the shortest lexically equal path.
pub fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            ".." if rooted => {}
            _ => parts.push(part),
        }
    }
    match (rooted, parts.join("/")) {
        (true, joined) => format!("/{joined}"),
        (false, joined) if joined.is_empty() => ".".into(),
        (false, joined) => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn cleans_like_go() {
        for (path, expected) in [("", "."), ("a/./b/../c/", "a/c"), ("/../x", "/x"), ("../../a", "../../a"), ("//a//b", "/a/b"), ("a/..", "."), ("/", "/")] {
            assert_eq!(clean(path), expected, "{path}");
        }
    }
}

#[cfg(test)]
mod function_tests {
    use super::super::testing::{check, reason};

    #[test]
    fn paths_like_go() {
        check(&[
            ("[basename(\"/a/b/c.txt\"), basename(\"a/b/\"), basename(\"/\"), basename(\"\")]", r#"["c.txt","b","/","."]"#),
            ("[dirname(\"/a/b/c.txt\"), dirname(\"c\"), dirname(\"/x\"), dirname(\"a//b/\")]", r#"["/a/b",".","/","a/b"]"#),
            ("abspath(\"/a/./b/../c/\")", r#""/a/c""#),
            ("pathexpand(\"/etc\")", r#""/etc""#),
        ]);
        assert!(reason("pathexpand(\"~/x\")").contains("home directory"));
        assert!(reason("abspath(\"x\")").contains("directory Terraform runs in"));
    }
}

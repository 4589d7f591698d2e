//! Terraform addresses and reference traversals, split into their parts.

/// Splits `module.a["x.y"].aws_s3_bucket.b[0].arn` at the dots outside brackets and
/// quotes: `["module", "a[\"x.y\"]", "aws_s3_bucket", "b[0]", "arn"]`.
pub fn split_traversal(text: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let (mut depth, mut quoted, mut escaped) = (0usize, false, false);
    for c in text.chars() {
        if quoted {
            current.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => quoted = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                quoted = true;
                current.push(c);
            }
            '[' => {
                depth += 1;
                current.push(c);
            }
            ']' => {
                depth = depth.saturating_sub(1);
                current.push(c);
            }
            '.' if depth == 0 => parts.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    parts.push(current);
    parts
}

/// The module call names of a module address: `module.a["x"].module.b` gives `["a", "b"]`.
pub fn module_names(module_address: &str) -> Vec<String> {
    if module_address.is_empty() {
        return Vec::new();
    }
    let parts = split_traversal(module_address);
    parts.chunks(2).filter(|pair| pair.len() == 2 && pair[0] == "module").map(|pair| pair[1].split('[').next().unwrap_or("").to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dots_inside_keys_do_not_split() {
        assert_eq!(split_traversal(r#"module.a["x.y"].aws_s3_bucket.b[0].arn"#), vec!["module", r#"a["x.y"]"#, "aws_s3_bucket", "b[0]", "arn"]);
        assert_eq!(split_traversal(r#"aws_s3_bucket.b["q\"].z"]"#), vec!["aws_s3_bucket", r#"b["q\"].z"]"#]);
    }

    #[test]
    fn module_names_drop_instance_keys() {
        assert_eq!(module_names(r#"module.a["x"].module.b[2]"#), vec!["a", "b"]);
        assert!(module_names("").is_empty());
    }
}

//! Provider functions charterguard evaluates without the provider: the AWS provider's
//! `arn_parse`, `arn_build`, `trim_iam_role_path` and `user_agent` (written from
//! terraform-provider-aws's `internal/function`, which parses ARNs with aws-sdk-go-v2's
//! `arn.Parse`), and what other namespaced names mean.

use super::super::ops::error_value;
use super::args::{str_node, Call};
use crate::model::Value;

/// A call to a function that is not built in: a provider's (unknown: the provider computes
/// it), or a name Terraform does not have (an error).
pub fn not_built_in(name: &str) -> Value {
    match name.strip_prefix("provider::").and_then(|rest| rest.split_once("::")) {
        Some(("terraform", function)) => error_value(format!("the terraform provider has no function named {function:?}")),
        Some((provider, _)) => Value::Unknown(format!("function {name} is computed by the {provider} provider, which charterguard does not run")),
        None => error_value(format!("there is no function named {name:?}")),
    }
}

/// aws-sdk-go-v2's `arn.Parse`: `arn:` then five `:`-separated sections, the last taking the
/// rest.
fn parse(c: &Call, text: &str) -> Result<[String; 5], Value> {
    let rest = text.strip_prefix("arn:").ok_or_else(|| c.fail("arn: invalid prefix"))?;
    let parts: Vec<&str> = rest.splitn(5, ':').collect();
    match parts.as_slice() {
        [partition, service, region, account, resource] => Ok([partition, service, region, account, resource].map(|s| s.to_string())),
        _ => Err(c.fail("arn: not enough sections")),
    }
}

fn build(parts: &[String; 5]) -> String {
    format!("arn:{}", parts.join(":"))
}

pub fn arn_parse(c: &Call) -> Result<Value, Value> {
    let parts = parse(c, &c.str(0)?)?;
    let names = ["partition", "service", "region", "account_id", "resource"];
    Ok(Value::Map(names.iter().zip(&parts).map(|(name, part)| (name.to_string(), str_node(part))).collect()))
}

pub fn arn_build(c: &Call) -> Result<Value, Value> {
    let parts: Vec<String> = (0..5).map(|i| c.str(i)).collect::<Result<_, _>>()?;
    Ok(Value::Str(build(&parts.try_into().expect("five parts"))))
}

/// `trim_iam_role_path(arn)`: an IAM role ARN without the role's path.
pub fn trim_iam_role_path(c: &Call) -> Result<Value, Value> {
    let mut parts = parse(c, &c.str(0)?)?;
    if parts[1] != "iam" {
        return Err(c.fail("service must be \"iam\""));
    }
    if !parts[2].is_empty() {
        return Err(c.fail("region must be empty"));
    }
    if !parts[4].starts_with("role/") {
        return Err(c.fail("resource must begin with \"role/\""));
    }
    let name = parts[4].rsplit('/').next().unwrap_or_default().to_string();
    parts[4] = format!("role/{name}");
    Ok(Value::Str(build(&parts)))
}

/// `user_agent(product_name, product_version, comment)`: `name/version (comment)`.
pub fn user_agent(c: &Call) -> Result<Value, Value> {
    let (name, version, comment) = (c.str(0)?, c.str(1)?, c.str(2)?);
    if name.is_empty() {
        return Err(c.fail("product_name must be set"));
    }
    let mut agent = name;
    if !version.is_empty() {
        agent.push_str(&format!("/{version}"));
    }
    if !comment.is_empty() {
        agent.push_str(&format!(" ({comment})"));
    }
    Ok(Value::Str(agent))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_errors, check, reason};

    #[test]
    fn aws_arn_functions() {
        check(&[
            (
                r#"provider::aws::arn_parse("arn:aws:iam::444455556666:role/example")"#,
                r#"{"partition":"aws","service":"iam","region":"","account_id":"444455556666","resource":"role/example"}"#,
            ),
            (r#"provider::aws::arn_parse("arn:aws:s3:::bucket/key:with:colons").resource"#, r#""bucket/key:with:colons""#),
            (r#"provider::aws::arn_build("aws", "iam", "", "444455556666", "role/example")"#, r#""arn:aws:iam::444455556666:role/example""#),
            (r#"provider::aws::arn_build("aws-cn", "s3", "", "", "b")"#, r#""arn:aws-cn:s3:::b""#),
            (r#"provider::aws::trim_iam_role_path("arn:aws:iam::444455556666:role/with/path/example")"#, r#""arn:aws:iam::444455556666:role/example""#),
            (r#"provider::aws::trim_iam_role_path("arn:aws:iam::444455556666:role/example")"#, r#""arn:aws:iam::444455556666:role/example""#),
            (r#"provider::aws::user_agent("my-module", "0.0.1", "example")"#, r#""my-module/0.0.1 (example)""#),
            (r#"provider::aws::user_agent("my-module", "", "")"#, r#""my-module""#),
        ]);
        assert_errors(&[
            r#"provider::aws::arn_parse("not-an-arn")"#,
            r#"provider::aws::arn_parse("arn:aws:s3")"#,
            r#"provider::aws::trim_iam_role_path("arn:aws:s3:::bucket")"#,
            r#"provider::aws::trim_iam_role_path("arn:aws:iam:eu-west-1:1:role/x")"#,
            r#"provider::aws::trim_iam_role_path("arn:aws:iam::1:user/x")"#,
            r#"provider::aws::user_agent("", "1", "")"#,
            r#"provider::aws::arn_build("aws", "iam")"#,
            r#"provider::terraform::nope(1)"#,
        ]);
        assert_eq!(reason("provider::aws::arn_parse(var.arn)"), "aws_iam_role.r.arn is known only after apply");
        assert!(reason(r#"provider::aws::iam_policy_split("x")"#).contains("computed by the aws provider"));
    }
}

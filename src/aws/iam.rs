//! IAM: roles as `aws_iam_role` with their trust policies (`assume_role_policy`), read once
//! per account: IAM is global, so its resources run in no region.

use super::attrs::Attrs;
use super::call::Failure;
use super::Scope;
use crate::model::{Model, Resource, Value};

/// The `__region` of IAM resources.
const REGION: &str = "global";

/// Every role of the scope's account.
pub async fn collect(scope: &Scope) -> Model {
    let iam = aws_sdk_iam::Client::from_conf(aws_sdk_iam::config::Builder::from(&scope.config).interceptor(scope.counting.clone()).build());
    let mut model = Model::default();
    let roles = iam.list_roles().into_paginator().items().send().collect::<Vec<_>>().await;
    match roles.into_iter().collect::<Result<Vec<_>, _>>() {
        Ok(roles) => model.resources.extend(roles.iter().map(|r| role(scope, r))),
        Err(error) => {
            let failure = Failure::of("iam:ListRoles", &error);
            super::region_unseen_types(&mut model, &scope.account, REGION, &failure, &["aws_iam_role"], &scope.anchor, "iam", ":::role/*");
        }
    }
    model
}

fn role(scope: &Scope, role: &aws_sdk_iam::types::Role) -> Resource {
    let attrs = Attrs::new()
        .set("id", role.role_name())
        .set("name", role.role_name())
        .set("arn", role.arn())
        .set("path", role.path())
        .set("unique_id", role.role_id())
        .set("assume_role_policy", trust_policy(role.assume_role_policy_document()));
    scope.resource_in("aws_iam_role", role.arn().to_string(), attrs, REGION)
}

/// The trust policy as the JSON document Terraform holds: IAM answers it percent-encoded.
/// Every role has one, so a role without it (or with one that does not decode) is unknown,
/// never trusted by no one.
fn trust_policy(encoded: Option<&str>) -> Value {
    let Some(encoded) = encoded else { return Value::Unknown("iam:ListRoles answered no trust policy for the role".into()) };
    match percent_encoding::percent_decode_str(encoded).decode_utf8() {
        Ok(document) => Value::Str(document.into_owned()),
        Err(error) => Value::Unknown(format!("the trust policy iam:ListRoles answered is not UTF-8 once decoded: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Node;

    #[test]
    fn trust_policies_are_decoded_into_json() {
        let scope = crate::aws::test_scope("ap-south-1");
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22AWS%22%3A%22arn%3Aaws%3Aiam%3A%3A222222222222%3Aroot%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D";
        let arn = "arn:aws:iam::123456789012:role/ci/deployer";
        let listed = aws_sdk_iam::types::Role::builder()
            .path("/ci/")
            .role_name("deployer")
            .role_id("AROAEXAMPLE")
            .arn(arn)
            .create_date(aws_smithy_types::DateTime::from_secs(0))
            .assume_role_policy_document(encoded)
            .build()
            .unwrap();
        let resource = role(&scope, &listed);
        assert_eq!((resource.rtype.as_str(), resource.address.as_str()), ("aws_iam_role", arn));
        assert_eq!(resource.attrs.get("__region").and_then(Node::as_str), Some("global"));
        assert_eq!(resource.attrs.get("path").and_then(Node::as_str), Some("/ci/"));
        let document: serde_json::Value = serde_json::from_str(resource.attrs.get("assume_role_policy").and_then(Node::as_str).unwrap()).unwrap();
        assert_eq!(document["Statement"][0]["Principal"]["AWS"], "arn:aws:iam::222222222222:root");
    }

    #[test]
    fn a_missing_or_broken_trust_policy_is_unknown() {
        assert!(matches!(trust_policy(None), Value::Unknown(_)));
        assert!(matches!(trust_policy(Some("%FF%FE")), Value::Unknown(r) if r.contains("UTF-8")));
        // Already plain JSON (no escapes) reads as itself.
        assert_eq!(trust_policy(Some(r#"{"Statement":[]}"#)), Value::Str(r#"{"Statement":[]}"#.into()));
    }
}

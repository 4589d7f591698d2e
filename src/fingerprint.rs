//! The identity of a finding across runs, shared by baselines and every report format.

use crate::model::Finding;
use sha2::{Digest, Sha256};

/// A finding's identity across runs: hex SHA-256 of
/// `rule_id \0 address \0 item-or-empty \0 attribute`, then `\0 render` for a rendered object
/// (the same object rendered for two environments is two findings). Line numbers and the file are left out
/// on purpose, so the fingerprint survives edits that only move lines.
pub fn fingerprint(f: &Finding) -> String {
    let mut hasher = Sha256::new();
    hasher.update(f.rule_id.as_bytes());
    hasher.update([0u8]);
    hasher.update(f.address.as_bytes());
    hasher.update([0u8]);
    hasher.update(f.item.as_deref().unwrap_or("").as_bytes());
    hasher.update([0u8]);
    hasher.update(f.attribute.as_bytes());
    // Only rendered objects have one: every other fingerprint stays what it was.
    if let Some(render) = &f.render {
        hasher.update([0u8]);
        hasher.update(render.as_bytes());
    }
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Outcome, Severity, Span};

    fn finding(line: u32) -> Finding {
        let example = Finding::example("ENC-001", Outcome::Violation, Severity::Error, "m");
        Finding {
            address: "aws_s3_bucket.a".into(),
            rtype: "aws_s3_bucket".into(),
            attribute: "server_side_encryption_configuration".into(),
            span: Span::new("main.tf".into(), line, 3, line, 9),
            ..example
        }
    }

    #[test]
    fn fingerprint_ignores_lines_but_not_identity() {
        let a = fingerprint(&finding(3));
        assert_eq!(a.len(), 64);
        assert_eq!(a, fingerprint(&finding(40)));
        let mut other = finding(3);
        other.item = Some("container app".into());
        assert_ne!(a, fingerprint(&other));
        let mut rendered = finding(3);
        rendered.render = Some("kustomize overlay overlays/prod".into());
        assert_ne!(a, fingerprint(&rendered));
    }

    #[test]
    fn fingerprint_fields_do_not_run_together() {
        let mut a = finding(1);
        a.address = "ab".into();
        a.attribute = "c".into();
        let mut b = finding(1);
        b.address = "a".into();
        b.attribute = "bc".into();
        assert_ne!(fingerprint(&a), fingerprint(&b));
    }
}

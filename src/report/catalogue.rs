//! The rule reference (`docs/rules.md`), written from the rule files themselves: `charterguard
//! rules --markdown` prints it, and a test fails when the committed page is stale.

use crate::engine::CompiledRule;
use std::fmt::Write as _;

/// Every rule as markdown: a table, then each rule's charter sentence, what it applies to and
/// its help.
pub fn catalogue_markdown(rules: &[CompiledRule]) -> String {
    let mut out = String::from(
        "# Rules\n\n<!-- Written by `charterguard rules --markdown > docs/rules.md` from rules/*.yaml; do not edit. -->\n\n\
         One YAML file per catalogue id in [`rules/`](../rules/), embedded in the binary. `sources` lists every\n\
         source a rule judges: Terraform and plan JSON (`tf`), Kubernetes files (`k8s`), live AWS\n\
         accounts (`aws`) and live clusters (`eks`).\n\n| id | severity | sources | rule |\n|---|---|---|---|\n",
    );
    for rule in rules {
        let meta = &rule.meta;
        let _ = writeln!(out, "| [{}](#{}) | {} | {} | {} |", meta.id, meta.id.to_lowercase(), meta.severity.as_str(), sources(rule), meta.title);
    }
    for rule in rules {
        let meta = &rule.meta;
        let _ = write!(
            out,
            "\n## {}\n\n**{}** ({}; {}). Applies to {}.\n\n> {}\n\n{}\n",
            meta.id,
            meta.title,
            meta.severity.as_str(),
            sources(rule),
            rule.spec.resource_types.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", "),
            meta.charter.trim(),
            meta.help.trim_end()
        );
    }
    out
}

fn sources(rule: &CompiledRule) -> String {
    rule.meta.sources.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    /// The committed rule reference is what the rule files say.
    #[test]
    fn the_rule_reference_is_current() {
        let (rules, _) = crate::engine::load_rules(&[]);
        let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules.md")).unwrap_or_default();
        assert!(committed == super::catalogue_markdown(&rules), "docs/rules.md is stale: run `cargo run -- rules --markdown > docs/rules.md`");
    }
}

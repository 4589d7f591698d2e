//! The rule reference (`docs/rules.md`), written from the rule files themselves, and the helper
//! reference (`docs/helpers.md`), from the engine's: `charterguard rules --markdown` and `rules
//! --helpers` print them, and a test fails when a committed page is stale.

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

/// Every helper a rule may call, by group, as markdown.
pub fn helpers_markdown() -> String {
    let mut out = String::from(
        "# Helper functions\n\n<!-- Written by `charterguard rules --helpers > docs/helpers.md` from src/engine/functions/reference.yaml; do not edit. -->\n\n\
         What a rule's CEL may call besides CEL's own functions ([writing a rule](writing-rules.md)). Every\n\
         helper fails on a value that is unknown before apply, so the check could not decide and\n\
         says why, rather than guess.\n",
    );
    for group in crate::engine::helper_reference() {
        let _ = write!(out, "\n## {}\n\n`{}`", group.group, group.file);
        if let Some(note) = &group.note {
            let _ = write!(out, ". {}", note.trim());
        }
        out.push_str("\n\n| call | gives |\n|---|---|\n");
        for helper in &group.helpers {
            let _ = writeln!(out, "| `{}` | {} |", helper.call, helper.doc.replace('|', "\\|"));
        }
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

    #[test]
    fn the_helper_reference_is_current() {
        let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/helpers.md")).unwrap_or_default();
        assert!(committed == super::helpers_markdown(), "docs/helpers.md is stale: run `cargo run -- rules --helpers > docs/helpers.md`");
    }
}

//! CEL expressions as the engine parses and runs them.

use cel::parser::PrattParser;
use cel::{Context, IdedExpr, ParseErrors, ResolveResult};

/// A parsed CEL expression.
#[derive(Debug)]
pub struct Program(IdedExpr);

impl Program {
    /// Parses `source` with cel's hand-written (Pratt) parser: the syntax tree of its ANTLR
    /// parser (a test compares the two on every expression of the built-in rules) in a
    /// fifteenth of the time, and parsing was most of compiling a rule, so most of a one-file
    /// scan. Where it refuses the source, the ANTLR parser decides, and errors read as they
    /// always have.
    pub fn compile(source: &str) -> Result<Self, ParseErrors> {
        match PrattParser::default().parse(source) {
            Ok(expression) => Ok(Program(expression)),
            Err(_) => cel::Program::compile(source).map(|program| Program(program.expression().clone())),
        }
    }

    pub fn execute(&self, ctx: &Context) -> ResolveResult {
        cel::Value::resolve(&self.0, ctx)
    }

    pub fn expression(&self) -> &IdedExpr {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::super::compile::{split_message, Piece};
    use super::*;

    /// Every CEL expression of a rule: `when`, variables, `group`, `each.label`, and each
    /// check's `check`, `when` and message placeholders.
    fn expressions(spec: &crate::rules::RuleSpec) -> Vec<String> {
        let mut sources: Vec<String> = spec.when.iter().cloned().collect();
        sources.extend(spec.variables.iter().map(|v| v.expression.clone()));
        sources.extend(spec.group.iter().flat_map(|g| [g.by.clone(), g.collect.clone()]));
        sources.extend(spec.each.iter().map(|e| e.label.clone()));
        for check in &spec.checks {
            sources.push(check.check.clone());
            sources.extend(check.when.clone());
            let pieces = split_message(&check.message).expect("the rule loaded");
            sources.extend(pieces.into_iter().filter_map(|piece| match piece {
                Piece::Placeholder(source) => Some(source.to_string()),
                Piece::Text(_) => None,
            }));
        }
        sources
    }

    #[test]
    fn the_pratt_parser_builds_the_antlr_parsers_tree_for_every_builtin_expression() {
        let (rules, _) = crate::engine::load_rules(&[]);
        let sources: Vec<String> = rules.iter().flat_map(|rule| expressions(&rule.spec)).collect();
        assert!(sources.len() > 400, "only {} expressions found", sources.len());
        for source in &sources {
            let antlr = cel::Program::compile(source).expect("the rule loaded");
            let pratt = PrattParser::default().parse(source).expect("the Pratt parser reads every built-in expression");
            assert_eq!(&pratt, antlr.expression(), "{source}");
        }
    }

    #[test]
    fn errors_are_the_antlr_parsers() {
        for source in ["a +", "foo(a,b,)", "[1, 2", "x.y.", "1 ? 2"] {
            let ours = Program::compile(source).expect_err(source).to_string();
            assert_eq!(ours, cel::Program::compile(source).expect_err(source).to_string());
        }
    }

    #[test]
    fn runs_what_it_parsed() {
        let ctx = Context::default();
        let program = Program::compile("[1, 2, 3].filter(x, x > 1).map(x, x * 10) == [20, 30] && has({'a': 1}.a)").unwrap();
        assert_eq!(program.execute(&ctx), Ok(cel::Value::Bool(true)));
    }
}

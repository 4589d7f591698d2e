//! What a rule's CEL expression refers to, so that a misspelt helper or variable is refused
//! when the rule loads instead of leaving every resource undecided when it runs.

use cel::common::ast::{EntryExpr, Expr};
use cel::IdedExpr;
use std::collections::BTreeSet;

/// The functions an expression calls (operators left out), the names it reads that no
/// comprehension binds (`resource`, `config`), and the `variables.NAME` it reads.
#[derive(Default, Debug, PartialEq)]
pub struct References {
    pub functions: BTreeSet<String>,
    pub names: BTreeSet<String>,
    pub variables: BTreeSet<String>,
}

impl References {
    pub fn of(expr: &IdedExpr) -> Self {
        let mut references = References::default();
        references.walk(expr, &mut Vec::new());
        references
    }

    fn walk(&mut self, expr: &IdedExpr, bound: &mut Vec<String>) {
        match &expr.expr {
            Expr::Call(call) => {
                if !is_operator(&call.func_name) {
                    self.functions.insert(call.func_name.clone());
                }
                call.target.iter().for_each(|target| self.walk(target, bound));
                call.args.iter().for_each(|arg| self.walk(arg, bound));
            }
            Expr::Comprehension(comprehension) => {
                self.walk(&comprehension.iter_range, bound);
                self.walk(&comprehension.accu_init, bound);
                let names = [Some(&comprehension.iter_var), comprehension.iter_var2.as_ref(), Some(&comprehension.accu_var)];
                let added = names.iter().flatten().count();
                bound.extend(names.into_iter().flatten().cloned());
                for part in [&comprehension.loop_cond, &comprehension.loop_step, &comprehension.result] {
                    self.walk(part, bound);
                }
                bound.truncate(bound.len() - added);
            }
            Expr::Ident(name) if !bound.contains(name) && !name.starts_with('@') => {
                self.names.insert(name.clone());
            }
            Expr::Select(select) => {
                if matches!(&select.operand.expr, Expr::Ident(name) if name == "variables" && !bound.contains(name)) {
                    self.variables.insert(select.field.clone());
                }
                self.walk(&select.operand, bound);
            }
            Expr::List(list) => list.elements.iter().for_each(|element| self.walk(element, bound)),
            Expr::Map(map) => map.entries.iter().for_each(|entry| self.walk_entry(&entry.expr, bound)),
            Expr::Struct(literal) => literal.entries.iter().for_each(|entry| self.walk_entry(&entry.expr, bound)),
            Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
        }
    }

    fn walk_entry(&mut self, entry: &EntryExpr, bound: &mut Vec<String>) {
        match entry {
            EntryExpr::StructField(field) => self.walk(&field.value, bound),
            EntryExpr::MapEntry(entry) => {
                self.walk(&entry.key, bound);
                self.walk(&entry.value, bound);
            }
        }
    }
}

/// CEL's operators are calls too (`_==_`, `!_`, `@in`, `_[_]`).
fn is_operator(name: &str) -> bool {
    name.starts_with(['_', '@', '!', '-'])
}

/// Whether CEL's standard library has a function or method of this name (`size`,
/// `endsWith`): its declarations refuse a helper of the same name.
pub fn is_standard(name: &str) -> bool {
    cel::Context::default().add_function(name, |x: i64| x).is_err()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(source: &str) -> References {
        References::of(cel::Program::compile(source).unwrap().expression())
    }

    #[test]
    fn comprehension_variables_are_not_free_names() {
        let found = of(r#"resource.ingress.all(r, r.cidr != "0.0.0.0/0") && is_india_region(variables.region) && size(config.x) > 0"#);
        assert_eq!(found.functions.iter().map(String::as_str).collect::<Vec<_>>(), ["is_india_region", "size"]);
        assert_eq!(found.names.iter().map(String::as_str).collect::<Vec<_>>(), ["config", "resource", "variables"]);
        assert_eq!(found.variables.iter().map(String::as_str).collect::<Vec<_>>(), ["region"]);
        assert!(of("has(resource.x) && [1].exists(i, i == 1)").functions.is_empty());
    }

    #[test]
    fn the_standard_library_is_known() {
        assert!(is_standard("size") && is_standard("endsWith") && is_standard("matches"));
        assert!(!is_standard("is_india_region"));
    }
}

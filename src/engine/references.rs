//! What a rule's CEL expression refers to, so that a misspelt helper or variable is refused
//! when the rule loads instead of leaving every resource undecided when it runs.

use cel::common::ast::{EntryExpr, Expr, LiteralValue};
use cel::IdedExpr;
use std::collections::{BTreeMap, BTreeSet};

/// Where an `objects(KIND, NS)` call looks.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Within {
    /// `resource.namespace` or `resource.name`: the judged object's namespace, or for a
    /// Namespace its own name.
    Subject,
    /// A namespace named by a string literal (`"istio-system"`).
    Named(String),
    /// `"*"`, or a namespace computed otherwise: anywhere.
    Anywhere,
}

/// The functions an expression calls (operators left out), the names it reads that no
/// comprehension binds (`resource`, `config`), and how it reads them: a field at a time
/// (`resource.__type`, `variables.region`) or whole (handed to a helper, compared).
#[derive(Default, Debug, PartialEq)]
pub struct References {
    pub functions: BTreeSet<String>,
    pub names: BTreeSet<String>,
    /// (name, field) of every `name.field` (or `has(name.field)`) of a free name.
    pub fields: BTreeSet<(String, String)>,
    /// Free names read other than through one of their fields.
    pub whole: BTreeSet<String>,
    /// The kinds of Kubernetes objects the expression looks up (`objects("Kind", NS)`), each
    /// with the namespaces it looks in: what a live source lists or watches for it.
    pub looked_up: BTreeMap<String, BTreeSet<Within>>,
    /// Some `objects(...)` call's kind is not a string literal: no live source could know
    /// which kind to list for it.
    pub computed_kind: bool,
}

impl References {
    /// The `variables.NAME` the expression reads.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().filter(|(name, _)| name == "variables").map(|(_, field)| field.as_str())
    }

    /// Whether every read of the free name `name` picks one of `fields`, never the whole value.
    pub fn reads_only(&self, name: &str, fields: &[&str]) -> bool {
        !self.whole.contains(name) && self.fields.iter().filter(|(n, _)| n == name).all(|(_, field)| fields.contains(&field.as_str()))
    }

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
                if call.func_name == LOOKUP && call.target.is_none() {
                    self.lookup(&call.args);
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
                self.whole.insert(name.clone());
            }
            Expr::Select(select) => match &select.operand.expr {
                Expr::Ident(name) if !bound.contains(name) && !name.starts_with('@') => {
                    self.names.insert(name.clone());
                    self.fields.insert((name.clone(), select.field.clone()));
                }
                _ => self.walk(&select.operand, bound),
            },
            Expr::List(list) => list.elements.iter().for_each(|element| self.walk(element, bound)),
            Expr::Map(map) => map.entries.iter().for_each(|entry| self.walk_entry(&entry.expr, bound)),
            Expr::Struct(literal) => literal.entries.iter().for_each(|entry| self.walk_entry(&entry.expr, bound)),
            Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
        }
    }

    /// Records the kind an `objects(KIND, NS)` call looks up, and where.
    fn lookup(&mut self, args: &[IdedExpr]) {
        let Some(Expr::Literal(LiteralValue::String(kind))) = args.first().map(|k| &k.expr) else {
            self.computed_kind = true;
            return;
        };
        let within = match args.get(1).map(|n| &n.expr) {
            Some(Expr::Literal(LiteralValue::String(namespace))) if namespace.inner() != "*" => Within::Named(namespace.inner().to_string()),
            Some(Expr::Select(select))
                if matches!(&select.operand.expr, Expr::Ident(name) if name == "resource") && ["namespace", "name"].contains(&select.field.as_str()) =>
            {
                Within::Subject
            }
            _ => Within::Anywhere,
        };
        self.looked_up.entry(kind.inner().to_string()).or_default().insert(within);
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

/// The helper that looks Kubernetes objects up by kind and namespace.
const LOOKUP: &str = "objects";

/// CEL's operators are calls too (`_==_`, `!_`, `@in`, `_[_]`).
fn is_operator(name: &str) -> bool {
    name.starts_with(['_', '@', '!', '-'])
}

/// Whether CEL's standard library has a function or method of this name (`size`,
/// `endsWith`): its declarations refuse a helper of the same name. Each name is asked once per
/// process (a standard context is costly to build, and rules call few distinct functions).
pub fn is_standard(name: &str) -> bool {
    static KNOWN: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<String, bool>>> = std::sync::OnceLock::new();
    let known = KNOWN.get_or_init(Default::default);
    if let Some(&standard) = known.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get(name) {
        return standard;
    }
    let standard = cel::Context::default().add_function(name, |x: i64| x).is_err();
    known.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(name.to_string(), standard);
    standard
}

/// What the test of the built-in rules refuses (`rules::load`): checks that open with a type
/// test, and helper calls computed twice.
#[cfg(test)]
pub(crate) mod lint {
    use super::is_operator;
    use cel::common::ast::{EntryExpr, Expr, LiteralValue};
    use cel::IdedExpr;

    /// Sub-expressions an expression computes more than once: calls of helpers (operators
    /// left out) that read no comprehension variable, so a rule variable could hold them. Each
    /// is given as CEL text.
    pub fn repeated_calls(exprs: &[&IdedExpr]) -> Vec<String> {
        let mut seen: Vec<String> = Vec::new();
        let mut repeated = Vec::new();
        for expr in exprs {
            collect_calls(expr, &mut Vec::new(), &mut |text| {
                if seen.contains(&text) {
                    if !repeated.contains(&text) {
                        repeated.push(text);
                    }
                } else {
                    seen.push(text);
                }
            });
        }
        repeated
    }

    /// Calls `found` with the text of every helper call in `expr` free of the `bound` names;
    /// returns whether `expr` reads any of them.
    fn collect_calls(expr: &IdedExpr, bound: &mut Vec<String>, found: &mut dyn FnMut(String)) -> bool {
        let reads_bound = match &expr.expr {
            Expr::Call(call) => {
                let mut reads = false;
                for part in call.target.iter().map(|t| t.as_ref()).chain(&call.args) {
                    reads |= collect_calls(part, bound, found);
                }
                if !reads && !is_operator(&call.func_name) && !call.args.is_empty() {
                    found(text(expr));
                }
                reads
            }
            Expr::Comprehension(comprehension) => {
                let mut reads = collect_calls(&comprehension.iter_range, bound, found);
                let names = [Some(&comprehension.iter_var), comprehension.iter_var2.as_ref(), Some(&comprehension.accu_var)];
                let added = names.iter().flatten().count();
                bound.extend(names.into_iter().flatten().cloned());
                for part in [&comprehension.loop_cond, &comprehension.loop_step, &comprehension.result] {
                    reads |= collect_calls(part, bound, found);
                }
                bound.truncate(bound.len() - added);
                reads
            }
            Expr::Ident(name) => bound.contains(name),
            Expr::Select(select) => collect_calls(&select.operand, bound, found),
            Expr::List(list) => list.elements.iter().fold(false, |reads, e| collect_calls(e, bound, found) | reads),
            Expr::Map(map) => map.entries.iter().fold(false, |reads, e| entry_calls(&e.expr, bound, found) | reads),
            Expr::Struct(literal) => literal.entries.iter().fold(false, |reads, e| entry_calls(&e.expr, bound, found) | reads),
            Expr::Literal(_) | Expr::Unspecified => false,
        };
        reads_bound
    }

    fn entry_calls(entry: &EntryExpr, bound: &mut Vec<String>, found: &mut dyn FnMut(String)) -> bool {
        match entry {
            EntryExpr::StructField(field) => collect_calls(&field.value, bound, found),
            EntryExpr::MapEntry(entry) => collect_calls(&entry.key, bound, found) | collect_calls(&entry.value, bound, found),
        }
    }

    /// Whether a check opens with a test of the resource's type (`resource.__type != "x" || ...`,
    /// `resource.__type == "x" ? ... : ...`): a `when:` says that.
    pub fn opens_with_type_guard(expr: &IdedExpr) -> bool {
        match &expr.expr {
            Expr::Call(call) if matches!(call.func_name.as_str(), "_||_" | "_?_:_") => call.args.first().is_some_and(only_type_test),
            _ => false,
        }
    }

    /// An expression that reads nothing but `resource.__type` (and literals), and reads that.
    fn only_type_test(expr: &IdedExpr) -> bool {
        fn reads_type(expr: &IdedExpr) -> Option<bool> {
            match &expr.expr {
                Expr::Select(select) if select.field == "__type" && matches!(&select.operand.expr, Expr::Ident(name) if name == "resource") => Some(true),
                Expr::Literal(_) => Some(false),
                Expr::List(list) => list.elements.iter().try_fold(false, |any, e| Some(any | reads_type(e)?)),
                Expr::Call(call) if is_operator(&call.func_name) => call.args.iter().try_fold(false, |any, e| Some(any | reads_type(e)?)),
                _ => None,
            }
        }
        reads_type(expr) == Some(true)
    }

    /// An expression as CEL text, the same for the same expression wherever it is written.
    fn text(expr: &IdedExpr) -> String {
        match &expr.expr {
            Expr::Call(call) => {
                let args: Vec<String> = call.args.iter().map(text).collect();
                match &call.target {
                    Some(target) => format!("{}.{}({})", text(target), call.func_name, args.join(", ")),
                    None => format!("{}({})", call.func_name, args.join(", ")),
                }
            }
            Expr::Ident(name) => name.clone(),
            Expr::Select(select) if select.test => format!("has({}.{})", text(&select.operand), select.field),
            Expr::Select(select) => format!("{}.{}", text(&select.operand), select.field),
            Expr::Literal(LiteralValue::String(text)) => format!("{:?}", text.inner()),
            Expr::Literal(LiteralValue::Int(n)) => n.inner().to_string(),
            Expr::Literal(LiteralValue::Double(n)) => n.inner().to_string(),
            Expr::Literal(LiteralValue::Boolean(b)) => b.inner().to_string(),
            Expr::Literal(LiteralValue::Null) => "null".into(),
            Expr::List(list) => format!("[{}]", list.elements.iter().map(text).collect::<Vec<_>>().join(", ")),
            other => format!("{other:?}"),
        }
    }
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
        assert_eq!(found.variables().collect::<Vec<_>>(), ["region"]);
        assert!(of("has(resource.x) && [1].exists(i, i == 1)").functions.is_empty());
    }

    #[test]
    fn repeated_calls_are_those_a_variable_could_hold() {
        let parse = |source: &str| cel::Program::compile(source).unwrap();
        let check = parse(r#"counterpart(resource, "p") == null || size(differences(resource, counterpart(resource, "p"))) == 0"#);
        let message = parse(r#"join(differences(resource, counterpart(resource, "p")), "; ")"#);
        let found = super::lint::repeated_calls(&[check.expression(), message.expression()]);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("counterpart(") && found[1].starts_with("differences("), "{found:?}");
        let in_loop = parse("resource.rules.all(r, lookup(r) == null || lookup(r).x == 1)");
        assert!(super::lint::repeated_calls(&[in_loop.expression()]).is_empty(), "a comprehension variable cannot be held");
    }

    #[test]
    fn unseen_resources_are_ruled_out_only_by_what_is_known_of_them() {
        let known = ["__type", "__environment"];
        assert!(of(r#"has(resource.__environment) && "staging" in config.environments"#).reads_only("resource", &known));
        assert!(!of(r#"resource.__type == "x" && data_layer(resource) == "bronze""#).reads_only("resource", &known));
        assert!(!of("has(resource.tags)").reads_only("resource", &known));
        assert!(of("resources_named(x) != null").reads_only("resource", &known), "another name");
        assert!(of(r#"has(resource.__type) && "resource.tags" != """#).reads_only("resource", &known), "not inside a string");
    }

    #[test]
    fn the_standard_library_is_known() {
        assert!(is_standard("size") && is_standard("endsWith") && is_standard("matches"));
        assert!(!is_standard("is_india_region"));
    }
}

//! Checks that decide whenever the known values decide.
//!
//! Unknown values reach rules as marker maps (`{"$unknown": reason}`). Most operations on a
//! marker already fail (an index, arithmetic, a helper), and CEL's logical operators absorb a
//! failure when the other side decides (`false && error` is `false`, `true || error` is
//! `true`, `all`/`exists` likewise). The built-ins that accept a marker silently as if it were
//! a value (`==`, `!=`, `in`, `has()`, `size()`, iterating with a macro), or fail on it in
//! CEL's words (a field read, a method such as `endsWith`), are replaced in a compiled check by
//! strict versions that fail with the unknown's reason. So a check that evaluates to
//! true or false is decided by what is known, and one that fails could not decide.

use super::functions::{undecided, Helpers};
use super::values::{field, reference, unknown_reason, FAILED_KEY, KNOWN_FIELDS_KEY, MAYBE_KEY};
use cel::common::ast::{operators, CallExpr, Expr, LiteralValue};
use cel::{Context, ExecutionError, IdedExpr, ParseErrors, Program, ResolveResult};
use std::sync::Arc;

/// The function name of failures that an unknown value caused; their message is its reason.
pub const UNKNOWN: &str = "unknown";
const EQ: &str = "strict.eq";
const NE: &str = "strict.ne";
const IN: &str = "strict.in";
const HAS: &str = "strict.has";
const SIZE: &str = "strict.size";
const KNOWN: &str = "strict.known";
const SELECT: &str = "strict.select";
const VARIABLE: &str = "strict.variable";

/// A compiled check (or `when`) whose built-ins fail on unknown values.
pub struct StrictProgram(IdedExpr);

impl StrictProgram {
    pub fn compile(source: &str) -> Result<Self, ParseErrors> {
        Ok(Self::of(&Program::compile(source)?))
    }

    /// The strict form of a program already parsed.
    pub fn of(program: &Program) -> Self {
        let mut expr = program.expression().clone();
        rewrite(&mut expr);
        StrictProgram(expr)
    }

    pub fn execute(&self, ctx: &Context) -> ResolveResult {
        cel::Value::resolve(&self.0, ctx)
    }
}

/// Points the silent built-ins at their strict versions, everywhere in `expr`.
fn rewrite(expr: &mut IdedExpr) {
    match &mut expr.expr {
        Expr::Call(call) => {
            call.target.iter_mut().for_each(|target| rewrite(target));
            call.args.iter_mut().for_each(rewrite);
            let strict = match call.func_name.as_str() {
                operators::EQUALS => Some(EQ),
                operators::NOT_EQUALS => Some(NE),
                operators::IN => Some(IN),
                "size" => Some(SIZE),
                _ => None,
            };
            if let Some(name) = strict {
                call.func_name = name.to_string();
                // `x.size()` becomes `strict.size(x)`.
                if let Some(target) = call.target.take() {
                    call.args.insert(0, *target);
                }
            } else if let Some(target) = &mut call.target {
                // A method of a built-in type (`x.endsWith(".s3")`) fails on an unknown with
                // the unknown's reason, not with CEL's "no such overload".
                let inner = std::mem::take(&mut **target);
                **target = IdedExpr { id: inner.id, expr: Expr::Call(CallExpr { func_name: KNOWN.to_string(), target: None, args: vec![inner] }) };
            }
        }
        Expr::Select(select) => {
            rewrite(&mut select.operand);
            // `resource.x` and `config.x` read bound maps, never an unknown: left as CEL has them.
            let bound_map = matches!(&select.operand.expr, Expr::Ident(name) if name == "resource" || name == "config");
            // A rule variable that could not be computed fails where it is read (a condition
            // or a negation of it would otherwise meet a marker, not a boolean).
            let variable = matches!(&select.operand.expr, Expr::Ident(name) if name == "variables");
            if select.test || !bound_map {
                let func_name = match (select.test, variable) {
                    (true, _) => HAS,
                    (false, true) => VARIABLE,
                    (false, false) => SELECT,
                };
                let operand = std::mem::take(&mut *select.operand);
                let name = IdedExpr { id: expr.id, expr: Expr::Literal(LiteralValue::String(select.field.clone().into())) };
                expr.expr = Expr::Call(CallExpr { func_name: func_name.to_string(), target: None, args: vec![operand, name] });
            }
        }
        Expr::Comprehension(comprehension) => {
            rewrite(&mut comprehension.iter_range);
            rewrite(&mut comprehension.accu_init);
            rewrite(&mut comprehension.loop_cond);
            rewrite(&mut comprehension.loop_step);
            rewrite(&mut comprehension.result);
            let range = std::mem::take(&mut comprehension.iter_range);
            comprehension.iter_range = IdedExpr { id: range.id, expr: Expr::Call(CallExpr { func_name: KNOWN.to_string(), target: None, args: vec![range] }) };
        }
        Expr::List(list) => list.elements.iter_mut().for_each(rewrite),
        Expr::Map(map) => map.entries.iter_mut().for_each(|entry| {
            if let cel::common::ast::EntryExpr::MapEntry(entry) = &mut entry.expr {
                rewrite(&mut entry.key);
                rewrite(&mut entry.value);
            }
        }),
        Expr::Unspecified | Expr::Ident(_) | Expr::Literal(_) | Expr::Struct(_) => {}
    }
}

/// Registers the strict built-ins on a root context.
pub fn register(helpers: &mut Helpers) -> anyhow::Result<()> {
    helpers.add(EQ, |a: cel::Value, b: cel::Value| equal(&a, &b).map(cel::Value::Bool))?;
    helpers.add(NE, |a: cel::Value, b: cel::Value| equal(&a, &b).map(|eq| cel::Value::Bool(!eq)))?;
    helpers.add(IN, |item: cel::Value, container: cel::Value| contains(&container, &item).map(cel::Value::Bool))?;
    helpers.add(HAS, |value: cel::Value, name: Arc<String>| has(&value, &name))?;
    helpers.add(SELECT, |value: cel::Value, name: Arc<String>| select(&value, &name))?;
    helpers.add(VARIABLE, |variables: cel::Value, name: Arc<String>| {
        let value = select(&variables, &name)?;
        known_marker(&value)?;
        Ok(value)
    })?;
    helpers.add(SIZE, |value: cel::Value| size(&value))?;
    helpers.add(KNOWN, |value: cel::Value| known_text(&value).map(|_| value))?;
    Ok(())
}

/// Equality that knows what it cannot know: values of different shapes differ whatever their
/// unknown parts are; an unknown compared with anything is unknown.
fn equal(a: &cel::Value, b: &cel::Value) -> Result<bool, ExecutionError> {
    known_marker(a)?;
    known_marker(b)?;
    match (a, b) {
        (cel::Value::List(x), cel::Value::List(y)) => {
            if x.len() != y.len() {
                return Ok(false);
            }
            all_equal(x.iter().zip(y.iter()))
        }
        (cel::Value::Map(x), cel::Value::Map(y)) => {
            if x.map.len() != y.map.len() || x.map.keys().any(|k| !y.map.contains_key(k)) {
                return Ok(false);
            }
            all_equal(x.map.iter().map(|(k, v)| (v, &y.map[k])))
        }
        _ => Ok(a == b),
    }
}

/// Whether every pair is equal: one known difference decides, else the first unknown fails.
fn all_equal<'v>(pairs: impl Iterator<Item = (&'v cel::Value, &'v cel::Value)>) -> Result<bool, ExecutionError> {
    let mut unknown = None;
    for (x, y) in pairs {
        match equal(x, y) {
            Ok(false) => return Ok(false),
            Ok(true) => {}
            Err(error) => unknown = unknown.or(Some(error)),
        }
    }
    unknown.map_or(Ok(true), Err)
}

/// `item in container`: true when a known element is the item, even if others are unknown.
fn contains(container: &cel::Value, item: &cel::Value) -> Result<bool, ExecutionError> {
    known_marker(container)?;
    match container {
        cel::Value::List(items) => {
            let mut unknown = None;
            for element in items.iter() {
                match equal(element, item) {
                    Ok(true) => return Ok(true),
                    Ok(false) => {}
                    Err(error) => unknown = unknown.or(Some(error)),
                }
            }
            unknown.map_or(Ok(false), Err)
        }
        cel::Value::Map(map) => {
            known_marker(item)?;
            let key: cel::objects::Key =
                item.clone().try_into().map_err(|_| ExecutionError::function_error("in", "a map key must be a string, an integer or a boolean"))?;
            Ok(map.map.contains_key(&key))
        }
        other => Err(ExecutionError::function_error("in", format!("`in` needs a list or a map, not {:?}", other.type_of()))),
    }
}

/// Fails when `value` itself is an unknown marker (its elements may be unknown).
fn known_marker(value: &cel::Value) -> Result<(), ExecutionError> {
    match unknown_reason(value) {
        // A rule variable a helper could not compute: the helper's words, as if the check
        // had called it.
        Some(reason) if field(value, FAILED_KEY).is_some() => Err(undecided("variable", reason.to_string())),
        Some(reason) => Err(undecided(UNKNOWN, reason.to_string())),
        None => Ok(()),
    }
}

/// Fails on an unknown and on a reference to another resource's attribute, whose text is
/// known only after apply (a method such as `endsWith` reads the text).
fn known_text(value: &cel::Value) -> Result<(), ExecutionError> {
    known_marker(value)?;
    match reference(value) {
        Some((address, attribute)) => Err(undecided(UNKNOWN, format!("{address}.{attribute} is known only after apply"))),
        None => Ok(()),
    }
}

/// `has(value.name)`: an unknown value may or may not have the field, unless it is one of
/// the fields known of it (known to be there, or known to be null: absent).
fn has(value: &cel::Value, name: &str) -> ResolveResult {
    if let Some(fields) = field(value, KNOWN_FIELDS_KEY) {
        return match field(fields, name) {
            Some(known) => Ok(cel::Value::Bool(*known != cel::Value::Null)),
            None => Err(undecided(UNKNOWN, unknown_reason(value).unwrap_or_default().to_string())),
        };
    }
    known_marker(value)?;
    match value {
        cel::Value::Map(_) => Ok(cel::Value::Bool(field(value, name).is_some())),
        other => Err(ExecutionError::function_error("has", format!("has() needs a map, not {:?}", other.type_of()))),
    }
}

/// `value.name`: an unknown has no fields to read yet.
fn select(value: &cel::Value, name: &str) -> ResolveResult {
    if let Some(known) = field(value, KNOWN_FIELDS_KEY).and_then(|fields| field(fields, name)) {
        return Ok(known.clone());
    }
    known_marker(value)?;
    match value {
        cel::Value::Map(_) => field(value, name).cloned().ok_or_else(|| ExecutionError::NoSuchKey(Arc::new(name.to_string()))),
        other => Err(ExecutionError::function_error("select", format!("`.{name}` needs a map, not {:?}", other.type_of()))),
    }
}

fn size(value: &cel::Value) -> ResolveResult {
    known_marker(value)?;
    // A list with elements that may not be there has a length no one knows yet.
    if let cel::Value::List(items) = value {
        if let Some(maybe) = items.iter().find(|item| field(item, MAYBE_KEY).is_some()) {
            known_marker(maybe)?;
        }
    }
    let n = match value {
        cel::Value::List(items) => items.len(),
        cel::Value::Map(map) => map.map.len(),
        cel::Value::String(s) => s.chars().count(),
        cel::Value::Bytes(b) => b.len(),
        other => return Err(ExecutionError::function_error("size", format!("size() needs a list, map or string, not {:?}", other.type_of()))),
    };
    Ok(cel::Value::Int(n as i64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::values::UNKNOWN_KEY;

    fn marker(reason: &str) -> cel::Value {
        crate::engine::values::map([(UNKNOWN_KEY, crate::engine::values::string(reason))])
    }

    fn run(source: &str, x: cel::Value) -> ResolveResult {
        let mut ctx = Context::default();
        register(&mut Helpers::new(&mut ctx)).unwrap();
        ctx.add_variable_from_value("x", x);
        StrictProgram::compile(source).unwrap().execute(&ctx)
    }

    fn unknown() -> cel::Value {
        marker("var.x has no value")
    }

    #[test]
    fn known_parts_decide() {
        assert_eq!(run(r#"x == "a" || true"#, unknown()), Ok(cel::Value::Bool(true)));
        assert_eq!(run(r#"false && x == "a""#, unknown()), Ok(cel::Value::Bool(false)));
        assert_eq!(run(r#"x == "a" && 1 == 2"#, unknown()), Ok(cel::Value::Bool(false)));
        let list = cel::Value::List(Arc::new(vec![unknown(), super::super::values::string("0.0.0.0/0")]));
        assert_eq!(run(r#""0.0.0.0/0" in x"#, list.clone()), Ok(cel::Value::Bool(true)));
        assert!(run(r#""::/0" in x"#, list).is_err());
    }

    #[test]
    fn unknowns_never_compare_silently() {
        for source in [
            "[x].exists(t, t.a == 1)",
            "x.a.b == 1",
            r#"x.endsWith("a")"#,
            r#"x == "a""#,
            r#"x != "a""#,
            r#""a" in x"#,
            "has(x.a)",
            "size(x) == 1",
            "x.size() == 1",
            "x.all(k, k == 'a')",
            "x.exists(k, true)",
            "x == null",
        ] {
            let result = run(source, unknown());
            assert!(matches!(&result, Err(ExecutionError::FunctionError { message, .. }) if message == "var.x has no value"), "{source}: {result:?}");
        }
    }

    #[test]
    fn the_known_fields_of_an_unknown_object_decide() {
        let partly = || {
            let known = [("env", crate::engine::values::string("prod")), ("gone", cel::Value::Null)];
            crate::engine::values::partly_known("var.x has no value", known)
        };
        assert_eq!(run(r#"has(x.env) && x.env == "prod" && !has(x.gone)"#, partly()), Ok(cel::Value::Bool(true)));
        assert_eq!(run(r#"has(x.gone) && x.tags.layer == "bronze""#, partly()), Ok(cel::Value::Bool(false)));
        for source in ["has(x.tags)", "x.tags.layer == 'bronze'", "x == null"] {
            let result = run(source, partly());
            assert!(matches!(&result, Err(ExecutionError::FunctionError { message, .. }) if message == "var.x has no value"), "{source}: {result:?}");
        }
    }

    #[test]
    fn known_values_behave_as_cel() {
        let map = super::super::values::map([("a", cel::Value::Int(1))]);
        assert_eq!(run("has(x.a) && !has(x.b) && size(x) == 1 && 'a' in x && x.a != 2", map), Ok(cel::Value::Bool(true)));
        assert_eq!(run("[1, 2].exists(i, i == 2) && size('ab') == 2 && 3 in [1, 2, 3]", cel::Value::Null), Ok(cel::Value::Bool(true)));
    }
}

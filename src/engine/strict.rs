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

use super::functions::{calls, undecided, Helpers};
use super::program::Program;
use super::values::{native, FAILED_KEY, KNOWN_FIELDS_KEY, MAYBE_KEY};
use cel::common::ast::{operators, CallExpr, Expr, LiteralValue};
use cel::common::types::{CelBytes, CelMap, CelMapKey, CelNull};
use cel::common::value::{CowVal, Val};
use cel::{Context, ExecutionError, IdedExpr, ParseErrors, ResolveResult};
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
const MATCHES: &str = "strict.matches";

/// A compiled check (or `when`) whose built-ins fail on unknown values.
#[derive(Debug)]
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

    /// Its value in CEL's own form, borrowed from `ctx` where it can be.
    pub fn evaluate<'e, 'v>(&'e self, ctx: &'e Context<'_, 'v>) -> Result<CowVal<'e, 'v>, ExecutionError> {
        cel::Value::resolve_val(&self.0, ctx)
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
                // Also with the pattern compiled once per process, not on every call.
                "matches" => Some(MATCHES),
                _ => None,
            };
            if let Some(name) = strict {
                call.func_name = name.to_string();
                // `x.size()` becomes `strict.size(x)`, `x.matches(p)` `strict.matches(x, p)`.
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

/// Registers the strict built-ins on a root context. They read their arguments where they lie
/// (see `functions::calls`): a field read hands back the field itself.
pub fn register(helpers: &mut Helpers) -> anyhow::Result<()> {
    helpers.add(EQ, calls::reader2(|a, b| equal(a, b).map(cel::Value::Bool)))?;
    helpers.add(NE, calls::reader2(|a, b| equal(a, b).map(|eq| cel::Value::Bool(!eq))))?;
    helpers.add(IN, calls::reader2(|item, container| contains(container, item).map(cel::Value::Bool)))?;
    helpers.add(HAS, calls::reader2(|value, name| has(value, name_of(name)?)))?;
    helpers.add(SELECT, calls::finder(select))?;
    helpers.add(
        VARIABLE,
        calls::finder(|variables, name| {
            let value = select(variables, name)?;
            value.map(known_marker).transpose()?;
            Ok(value)
        }),
    )?;
    helpers.add(SIZE, calls::reader1(size))?;
    helpers.add(MATCHES, calls::reader2(matches))?;
    helpers.add(KNOWN, calls::checker(known_text))?;
    Ok(())
}

/// Equality that knows what it cannot know: values of different shapes differ whatever their
/// unknown parts are; an unknown compared with anything is unknown.
fn equal(a: &dyn Val, b: &dyn Val) -> Result<bool, ExecutionError> {
    known_marker(a)?;
    known_marker(b)?;
    if let (Some(x), Some(y)) = (native::list(a), native::list(b)) {
        if x.len() != y.len() {
            return Ok(false);
        }
        return all_equal(x.iter().zip(y.iter()).map(|(x, y)| (x.as_ref(), y.as_ref())));
    }
    if let (Some(x), Some(y)) = (a.downcast_ref::<CelMap>(), b.downcast_ref::<CelMap>()) {
        if x.len() != y.len() || x.keys().any(|k| !y.contains_key(k)) {
            return Ok(false);
        }
        return all_equal(x.iter().map(|(k, v)| (v.as_ref(), y[k].as_ref())));
    }
    Ok(a == b)
}

/// Whether every pair is equal: one known difference decides, else the first unknown fails.
fn all_equal<'b>(pairs: impl Iterator<Item = (&'b dyn Val, &'b dyn Val)>) -> Result<bool, ExecutionError> {
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
fn contains(container: &dyn Val, item: &dyn Val) -> Result<bool, ExecutionError> {
    known_marker(container)?;
    if let Some(items) = native::list(container) {
        let mut unknown = None;
        for element in items {
            match equal(element.as_ref(), item) {
                Ok(true) => return Ok(true),
                Ok(false) => {}
                Err(error) => unknown = unknown.or(Some(error)),
            }
        }
        return unknown.map_or(Ok(false), Err);
    }
    match container.downcast_ref::<CelMap>() {
        Some(map) => {
            known_marker(item)?;
            let key = CelMapKey::try_from(item.clone_as_boxed())
                .map_err(|_| ExecutionError::function_error("in", "a map key must be a string, an integer or a boolean"))?;
            Ok(map.contains_key(&key))
        }
        None => Err(ExecutionError::function_error("in", format!("`in` needs a list or a map, not {:?}", type_of(container)))),
    }
}

/// Fails when `value` itself is an unknown marker (its elements may be unknown).
fn known_marker(value: &dyn Val) -> Result<(), ExecutionError> {
    match native::unknown_reason(value) {
        // A rule variable a helper could not compute: the helper's words, as if the check
        // had called it.
        Some(reason) if native::field(value, FAILED_KEY).is_some() => Err(undecided("variable", reason.to_string())),
        Some(reason) => Err(undecided(UNKNOWN, reason.to_string())),
        None => Ok(()),
    }
}

/// Fails on an unknown and on a reference to another resource's attribute, whose text is
/// known only after apply (a method such as `endsWith` reads the text).
fn known_text(value: &dyn Val) -> Result<(), ExecutionError> {
    known_marker(value)?;
    match native::reference(value) {
        Some((address, attribute)) => Err(undecided(UNKNOWN, format!("{address}.{attribute} is known only after apply"))),
        None => Ok(()),
    }
}

/// `has(value.name)`: an unknown value may or may not have the field, unless it is one of
/// the fields known of it (known to be there, or known to be null: absent).
fn has(value: &dyn Val, name: &str) -> ResolveResult {
    if let Some(fields) = native::field(value, KNOWN_FIELDS_KEY) {
        return match native::field(fields, name) {
            Some(known) => Ok(cel::Value::Bool(known.downcast_ref::<CelNull>().is_none())),
            None => Err(undecided(UNKNOWN, native::unknown_reason(value).unwrap_or_default().to_string())),
        };
    }
    known_marker(value)?;
    match native::has_fields(value) {
        true => Ok(cel::Value::Bool(native::field(value, name).is_some())),
        false => Err(ExecutionError::function_error("has", format!("has() needs a map, not {:?}", type_of(value)))),
    }
}

/// `value.name`: an unknown has no fields to read yet.
fn select<'b, 'v>(value: &'b (dyn Val + 'v), name: &str) -> Result<Option<&'b (dyn Val + 'v)>, ExecutionError> {
    if let Some(known) = native::field(value, KNOWN_FIELDS_KEY).and_then(|fields| native::field(fields, name)) {
        return Ok(Some(known));
    }
    known_marker(value)?;
    match native::has_fields(value) {
        true => native::field(value, name).map(Some).ok_or_else(|| ExecutionError::NoSuchKey(Arc::new(name.to_string()))),
        false => Err(ExecutionError::function_error("select", format!("`.{name}` needs a map, not {:?}", type_of(value)))),
    }
}

fn size(value: &dyn Val) -> ResolveResult {
    known_marker(value)?;
    let n = if let Some(items) = native::list(value) {
        // A list with elements that may not be there has a length no one knows yet.
        if let Some(maybe) = items.iter().find(|item| native::field(item.as_ref(), MAYBE_KEY).is_some()) {
            known_marker(maybe.as_ref())?;
        }
        items.len()
    } else if let Some(map) = value.downcast_ref::<CelMap>() {
        map.len()
    } else if let Some(text) = native::text(value) {
        text.chars().count()
    } else if let Some(bytes) = value.downcast_ref::<CelBytes>() {
        bytes.inner().len()
    } else {
        return Err(ExecutionError::function_error("size", format!("size() needs a list, map or string, not {:?}", type_of(value))));
    };
    Ok(cel::Value::Int(n as i64))
}

/// `text.matches(pattern)`, the regular expression compiled once.
fn matches(text: &dyn Val, pattern: &dyn Val) -> ResolveResult {
    known_text(text)?;
    let (Some(text), Some(pattern)) = (native::text(text), native::text(pattern)) else {
        return Err(ExecutionError::no_such_member_overload("matches", vec![text.get_type().name().to_owned(), pattern.get_type().name().to_owned()]));
    };
    match crate::model::pattern::compiled(pattern) {
        Ok(regex) => Ok(cel::Value::Bool(regex.is_match(text))),
        Err(error) => Err(ExecutionError::function_error("matches", format!("'{pattern}' not a valid regex:\n{error}"))),
    }
}

fn name_of(value: &dyn Val) -> Result<&str, ExecutionError> {
    native::text(value).ok_or_else(|| ExecutionError::function_error("has", "a field name is a string"))
}

/// The type of a value, as messages name it.
fn type_of(value: &dyn Val) -> cel::objects::ValueType {
    cel::Value::try_from(value).map_or(cel::objects::ValueType::Null, |value| value.type_of())
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
            r#"x.matches("^a")"#,
            r#"matches(x, "^a")"#,
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
        assert_eq!(
            run("'ELBSecurityPolicy-TLS13-1-2-2021'.matches('^ELBSecurityPolicy-TLS13') && !'a'.matches('^b')", cel::Value::Null),
            Ok(cel::Value::Bool(true))
        );
        assert!(matches!(run("'a'.matches('(')", cel::Value::Null), Err(ExecutionError::FunctionError { function, .. }) if function == "matches"));
        assert!(matches!(run("1.matches('a')", cel::Value::Null), Err(ExecutionError::NoSuchOverload(_))));
    }
}

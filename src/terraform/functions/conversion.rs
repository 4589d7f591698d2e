//! `tostring`, `tonumber`, `tobool`, `tolist`, `toset`, `tomap`: Terraform's conversions, as far
//! as charterguard's untyped values allow (lists of primitives unify to strings when mixed).

use super::super::ops::{equal, to_bool, to_num, to_str, type_name};
use super::args::{computed, describe, Call};
use super::R;
use crate::model::{Node, Value};

pub fn tostring(c: &Call) -> Result<Value, Value> {
    match c.value(0)? {
        Value::Null => Ok(Value::Null),
        v => to_str(v).map(Value::Str).ok_or_else(|| c.fail(format!("cannot convert a {} to a string", type_name(v)))),
    }
}

pub fn tonumber(c: &Call) -> Result<Value, Value> {
    match c.value(0)? {
        Value::Null => Ok(Value::Null),
        v => to_num(v).map(|n| n.value()).ok_or_else(|| c.fail(format!("cannot convert {} to a number", describe(v)))),
    }
}

pub fn tobool(c: &Call) -> Result<Value, Value> {
    match c.value(0)? {
        Value::Null => Ok(Value::Null),
        v => to_bool(v).map(Value::Bool).ok_or_else(|| c.fail(format!("cannot convert {} to a bool", describe(v)))),
    }
}

pub fn tolist(c: Call) -> R {
    match c.value(0)? {
        Value::Null => computed(Value::Null),
        Value::List(items) => computed(Value::List(unify(items.clone()))),
        other => Err(c.fail(format!("cannot convert a {} to a list", type_name(other)))),
    }
}

pub fn toset(c: Call) -> R {
    match c.value(0)? {
        Value::Null => computed(Value::Null),
        Value::List(items) => computed(Value::List(to_set(items.clone()))),
        other => Err(c.fail(format!("cannot convert a {} to a set", type_name(other)))),
    }
}

pub fn tomap(c: Call) -> R {
    match c.value(0)? {
        Value::Null | Value::Map(_) => Ok(c.args[0].clone()),
        other => Err(c.fail(format!("cannot convert a {} to a map", type_name(other)))),
    }
}

fn is_primitive(v: &Value) -> bool {
    matches!(v, Value::Str(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_))
}

/// Terraform's type unification for a list of primitives: mixed with strings, all become strings.
fn unify(items: Vec<Node>) -> Vec<Node> {
    let has_str = items.iter().any(|n| matches!(n.value, Value::Str(_)));
    let mixed = items.iter().any(|n| is_primitive(&n.value) && !matches!(n.value, Value::Str(_)));
    if has_str && mixed {
        items
            .into_iter()
            .map(|n| match to_str(&n.value) {
                Some(s) if is_primitive(&n.value) => Node::new(Value::Str(s), n.span),
                _ => n,
            })
            .collect()
    } else {
        items
    }
}

/// A set as Terraform orders it: known primitives deduplicated and sorted (strings
/// lexically, numbers numerically, false before true), then everything else deduplicated.
pub fn to_set(items: Vec<Node>) -> Vec<Node> {
    let mut items = unify(items);
    let (mut prims, rest): (Vec<Node>, Vec<Node>) = items.drain(..).partition(|n| is_primitive(&n.value));
    prims.sort_by(|a, b| match (&a.value, &b.value) {
        (Value::Str(x), Value::Str(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => match (to_num(&a.value), to_num(&b.value)) {
            (Some(x), Some(y)) => x.f().total_cmp(&y.f()),
            _ => type_name(&a.value).cmp(type_name(&b.value)),
        },
    });
    let mut out: Vec<Node> = Vec::new();
    for n in prims.into_iter().chain(rest) {
        if !out.iter().any(|o| equal(&o.value, &n.value) == Ok(true) || o.value == n.value) {
            out.push(n);
        }
    }
    out
}

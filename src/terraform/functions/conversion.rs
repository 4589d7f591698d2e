//! `tostring`, `tonumber`, `tobool`, `tolist`, `toset`, `tomap`: Terraform's conversions, the
//! ones variables go through ([`types`]), and the order Terraform gives a set's elements.

use super::super::ops::{equal, to_num, to_str, type_name};
use super::args::Call;
use super::R;
use crate::model::{Node, Value};
use crate::terraform::types::{self, Type};

pub fn tostring(c: Call) -> R {
    to_type(c, Type::String)
}

pub fn tonumber(c: Call) -> R {
    to_type(c, Type::Number)
}

pub fn tobool(c: Call) -> R {
    to_type(c, Type::Bool)
}

pub fn tolist(c: Call) -> R {
    to_type(c, Type::List(Box::new(Type::Any)))
}

pub fn toset(c: Call) -> R {
    to_type(c, Type::Set(Box::new(Type::Any)))
}

pub fn tomap(c: Call) -> R {
    to_type(c, Type::Map(Box::new(Type::Any)))
}

/// The argument converted to `ty` as Terraform converts values (the same conversion variables
/// go through, [`types::try_convert`]): `tolist` is a conversion to `list(any)`.
fn to_type(mut c: Call, ty: Type) -> R {
    let value = c.args.remove(0);
    types::try_convert(value, &ty).map_err(|mismatch| c.fail(format!("cannot convert: {mismatch}")))
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

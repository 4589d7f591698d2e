//! Functions that move values around without looking into them: unknown elements and
//! references pass through, so `concat([aws_kms_key.k.arn], ...)` keeps the reference.

use super::super::ops::{error_value, find_error, known, to_bool, type_name};
use super::args::{computed, list_in, Call};
use super::R;
use crate::model::{Node, Value};

/// `try`: the first argument that evaluated without an error. An unknown (not an error)
/// argument makes the result unknown, since it could still fail after apply.
pub fn try_(c: Call) -> R {
    let count = c.args.len();
    for arg in c.args {
        if find_error(&arg).is_some() {
            continue;
        }
        if let Value::Unknown(_) = arg.value {
            return Err(arg.value);
        }
        return Ok(arg);
    }
    Err(error_value(format!("no argument of try ({count}) evaluated without an error")))
}

/// `can`: false when the argument is an error, unknown when it is unknown, else true.
pub fn can(c: Call) -> R {
    if find_error(&c.args[0]).is_some() {
        return computed(Value::Bool(false));
    }
    known(&c.args[0].value)?;
    computed(Value::Bool(true))
}

/// `sensitive`, `nonsensitive`, `ephemeralasnull`: charterguard tracks neither sensitivity
/// nor ephemerality (every value it has is non-ephemeral), so the value is returned as is.
pub fn unchanged(mut c: Call) -> R {
    Ok(c.args.remove(0))
}

pub fn coalesce(c: Call) -> R {
    for arg in c.args {
        match &arg.value {
            Value::Null => {}
            Value::Str(s) if s.is_empty() => {}
            Value::Unknown(_) => return Err(arg.value),
            _ => return Ok(arg),
        }
    }
    Err(error_value("no non-null, non-empty argument to coalesce"))
}

pub fn coalescelist(c: Call) -> R {
    for arg in c.args {
        match known(&arg.value)? {
            Value::List(items) if items.is_empty() => {}
            Value::List(_) => return Ok(arg),
            Value::Null => {}
            other => return Err(error_value(format!("coalescelist needs lists, not {}", type_name(other)))),
        }
    }
    Err(error_value("no non-empty list argument to coalescelist"))
}

pub fn concat(c: Call) -> R {
    let mut out = Vec::new();
    for arg in &c.args {
        out.extend(list_in(&c, arg)?.iter().cloned());
    }
    computed(Value::List(out))
}

pub fn merge(c: Call) -> R {
    let mut out: Vec<(String, Node)> = Vec::new();
    for arg in &c.args {
        match known(&arg.value)? {
            Value::Null => {}
            Value::Map(entries) => {
                for (k, v) in entries {
                    match out.iter_mut().find(|(e, _)| e == k) {
                        Some(existing) => existing.1 = v.clone(),
                        None => out.push((k.clone(), v.clone())),
                    }
                }
            }
            other => return Err(c.fail(format!("needs maps, not {}", type_name(other)))),
        }
    }
    computed(Value::Map(out))
}

pub fn flatten(c: Call) -> R {
    let mut out = Vec::new();
    flatten_into(&c, &c.args[0], &mut out)?;
    computed(Value::List(out))
}

fn flatten_into(c: &Call, n: &Node, out: &mut Vec<Node>) -> Result<(), Value> {
    for e in list_in(c, n)? {
        match &e.value {
            Value::List(_) => flatten_into(c, e, out)?,
            // It might be a list: the result's shape is unknown.
            Value::Unknown(_) => return Err(e.value.clone()),
            _ => out.push(e.clone()),
        }
    }
    Ok(())
}

pub fn lookup(c: Call) -> R {
    let entries = c.map(0)?;
    let key = c.str(1)?;
    match entries.iter().find(|(k, _)| *k == key) {
        Some((_, v)) => Ok(v.clone()),
        None => match c.args.get(2) {
            Some(default) => Ok(default.clone()),
            None => Err(c.fail(format!("the map has no key {key:?} and no default was given"))),
        },
    }
}

pub fn element(c: Call) -> R {
    let items = c.list(0)?;
    let index = c.int(1)?;
    if items.is_empty() {
        return Err(c.fail("cannot use element on an empty list"));
    }
    if index < 0 {
        return Err(c.fail("the index must not be negative"));
    }
    Ok(items[(index as u64 % items.len() as u64) as usize].clone())
}

/// A map's entries in Terraform's (lexical) key order.
fn sorted_entries(c: &Call) -> Result<Vec<(String, Node)>, Value> {
    let mut entries = c.map(0)?.clone();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(entries)
}

pub fn keys(c: Call) -> R {
    let keys = sorted_entries(&c)?.into_iter().map(|(k, v)| Node::new(Value::Str(k), v.span));
    computed(Value::List(keys.collect()))
}

pub fn values(c: Call) -> R {
    computed(Value::List(sorted_entries(&c)?.into_iter().map(|(_, v)| v).collect()))
}

pub fn length(c: Call) -> R {
    match c.value(0)? {
        Value::List(items) => computed(Value::Int(items.len() as i64)),
        Value::Map(entries) => computed(Value::Int(entries.len() as i64)),
        Value::Str(s) => computed(Value::Int(s.chars().count() as i64)),
        other => Err(c.fail(format!("needs a collection or string, not {}", type_name(other)))),
    }
}

pub fn one(c: Call) -> R {
    match c.value(0)? {
        Value::Null => computed(Value::Null),
        Value::List(items) if items.is_empty() => computed(Value::Null),
        Value::List(items) if items.len() == 1 => Ok(items[0].clone()),
        Value::List(items) => Err(c.fail(format!("needs at most one element, got {}", items.len()))),
        other => Err(c.fail(format!("needs a list, not {}", type_name(other)))),
    }
}

pub fn compact(c: Call) -> R {
    let mut out = Vec::new();
    for e in c.list(0)? {
        match &e.value {
            Value::Null => {}
            Value::Str(s) if s.is_empty() => {}
            Value::Unknown(_) => return Err(e.value.clone()),
            _ => out.push(e.clone()),
        }
    }
    computed(Value::List(out))
}

pub fn reverse(c: Call) -> R {
    let mut items = c.list(0)?.clone();
    items.reverse();
    computed(Value::List(items))
}

pub fn slice(c: Call) -> R {
    let items = c.list(0)?;
    let (start, end) = (c.int(1)?, c.int(2)?);
    if start < 0 || end < start || end as u64 > items.len() as u64 {
        return Err(c.fail(format!("indices {start}..{end} are invalid for {} elements", items.len())));
    }
    computed(Value::List(items[start as usize..end as usize].to_vec()))
}

pub fn zipmap(c: Call) -> R {
    let keys = c.strings(0)?;
    let values = c.list(1)?;
    if keys.len() != values.len() {
        return Err(c.fail("needs as many keys as values"));
    }
    let mut out: Vec<(String, Node)> = Vec::new();
    for (k, v) in keys.into_iter().zip(values.iter().cloned()) {
        match out.iter_mut().find(|(e, _)| *e == k) {
            Some(existing) => existing.1 = v,
            None => out.push((k, v)),
        }
    }
    computed(Value::Map(out))
}

pub fn alltrue(c: Call) -> R {
    all_or_any(&c, true)
}

pub fn anytrue(c: Call) -> R {
    all_or_any(&c, false)
}

/// A decisive element decides even when others are unknown.
fn all_or_any(c: &Call, all: bool) -> R {
    let mut pending = None;
    for e in c.list(0)? {
        match known(&e.value) {
            Err(u) => pending = pending.or(Some(u)),
            Ok(v) => match to_bool(v) {
                Some(b) if b != all => return computed(Value::Bool(b)),
                Some(_) => {}
                None => return Err(c.fail(format!("needs bools, not {}", type_name(v)))),
            },
        }
    }
    pending.map_or(computed(Value::Bool(all)), Err)
}

/// `chunklist(list, size)`: consecutive chunks of `size` elements (0: one chunk of all).
pub fn chunklist(c: Call) -> R {
    let items = c.list(0)?;
    let size = c.int(1)?;
    if size < 0 {
        return Err(c.fail("the size must not be negative"));
    }
    if items.is_empty() {
        return computed(Value::List(Vec::new()));
    }
    let size = if size == 0 { items.len() } else { size as usize };
    computed(Value::List(items.chunks(size).map(|chunk| Node::new(Value::List(chunk.to_vec()), None)).collect()))
}

/// `setproduct(a, b, ...)`: every combination of one element of each argument, the first
/// argument varying slowest (the order Terraform gives for lists).
pub fn setproduct(c: Call) -> R {
    if c.args.len() < 2 {
        return Err(c.fail("at least two arguments are required"));
    }
    let mut product: Vec<Vec<Node>> = vec![Vec::new()];
    for arg in &c.args {
        let items = list_in(&c, arg)?;
        product = product.into_iter().flat_map(|prefix| items.iter().map(move |item| [prefix.clone(), vec![item.clone()]].concat())).collect();
    }
    computed(Value::List(product.into_iter().map(|combination| Node::new(Value::List(combination), None)).collect()))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_errors, check, reason};

    #[test]
    fn products_chunks_and_pass_through() {
        check(&[
            ("setproduct([\"a\", \"b\"], [1, 2])", r#"[["a",1],["a",2],["b",1],["b",2]]"#),
            ("setproduct([\"a\"], [])", "[]"),
            ("setproduct([var.unknown], [1])", r#"[[{"$unknown":"var.unknown has no value"},1]]"#),
            ("chunklist([1, 2, 3, 4, 5], 2)", "[[1,2],[3,4],[5]]"),
            ("chunklist([1, 2], 0)", "[[1,2]]"),
            ("chunklist([], 2)", "[]"),
            ("sensitive({a = var.arn})", r#"{"a":{"$ref":"aws_iam_role.r","attribute":"arn"}}"#),
            ("nonsensitive(\"x\")", r#""x""#),
            ("ephemeralasnull([1])", "[1]"),
        ]);
        assert_errors(&["setproduct([1])", "setproduct(1, [2])", "chunklist([1], -1)", "chunklist(\"x\", 1)", "sensitive()"]);
        assert_eq!(reason("setproduct(var.unknown, [1])"), "var.unknown has no value");
        assert_eq!(reason("sensitive(var.unknown)"), "var.unknown has no value");
        assert_eq!(reason("issensitive(\"x\")"), "issensitive() is not known: charterguard does not track which values are sensitive");
    }
}

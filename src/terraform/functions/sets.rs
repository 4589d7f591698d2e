//! Functions that compare values: membership, set algebra, sorting, `matchkeys`, `transpose`.
//! Their arguments are wholly known.

use super::super::ops::equal;
use super::args::{strs, Call};
use super::conversion::to_set;
use crate::model::{Node, Value};

fn member(items: &[Node], v: &Value) -> bool {
    items.iter().any(|i| equal(&i.value, v) == Ok(true))
}

pub fn contains(c: &Call) -> Result<Value, Value> {
    Ok(Value::Bool(member(c.list(0)?, &c.args[1].value)))
}

pub fn index(c: &Call) -> Result<Value, Value> {
    match c.list(0)?.iter().position(|i| equal(&i.value, &c.args[1].value) == Ok(true)) {
        Some(i) => Ok(Value::Int(i as i64)),
        None => Err(c.fail("the value is not in the list")),
    }
}

pub fn distinct(c: &Call) -> Result<Value, Value> {
    let mut out: Vec<Node> = Vec::new();
    for item in c.list(0)? {
        if !member(&out, &item.value) {
            out.push(item.clone());
        }
    }
    Ok(Value::List(out))
}

/// Strings in lexical order (Terraform's `sort` takes strings only).
pub fn sort(c: &Call) -> Result<Value, Value> {
    let mut items = c.strings(0)?;
    items.sort();
    Ok(strs(items))
}

pub fn setunion(c: &Call) -> Result<Value, Value> {
    let mut all = Vec::new();
    for i in 0..c.args.len() {
        all.extend(c.list(i)?.iter().cloned());
    }
    Ok(Value::List(to_set(all)))
}

pub fn setintersection(c: &Call) -> Result<Value, Value> {
    let mut acc = to_set(c.list(0)?.clone());
    for i in 1..c.args.len() {
        let other = c.list(i)?;
        acc.retain(|a| member(other, &a.value));
    }
    Ok(Value::List(acc))
}

pub fn setsubtract(c: &Call) -> Result<Value, Value> {
    let other = c.list(1)?;
    let mut acc = to_set(c.list(0)?.clone());
    acc.retain(|a| !member(other, &a.value));
    Ok(Value::List(acc))
}

/// `matchkeys(values, keys, searchset)`: the values whose key (same index) is in the search
/// set, in order.
pub fn matchkeys(c: &Call) -> Result<Value, Value> {
    let (values, keys, search) = (c.list(0)?, c.list(1)?, c.list(2)?);
    if values.len() != keys.len() {
        return Err(c.fail("the values and keys lists must have the same length"));
    }
    let picked = values.iter().zip(keys).filter(|(_, k)| member(search, &k.value)).map(|(v, _)| v.clone());
    Ok(Value::List(picked.collect()))
}

/// `transpose(map of lists of strings)`: each string becomes a key listing the keys it
/// appeared under, in key order.
pub fn transpose(c: &Call) -> Result<Value, Value> {
    let mut input: Vec<&(String, Node)> = c.map(0)?.iter().collect();
    input.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for (key, list) in input {
        let Value::List(items) = &list.value else {
            return Err(c.fail("needs a map of lists of strings"));
        };
        for item in items {
            let value = c.str_in(item)?;
            match out.iter_mut().find(|(k, _)| *k == value) {
                Some((_, keys)) => keys.push(key.clone()),
                None => out.push((value, vec![key.clone()])),
            }
        }
    }
    Ok(Value::Map(out.into_iter().map(|(k, keys)| (k, Node::new(strs(keys), None))).collect()))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_errors, check, reason};

    #[test]
    fn transpose_and_matchkeys() {
        check(&[
            ("transpose({a = [\"1\", \"2\"], b = [\"2\", \"3\"]})", r#"{"1":["a"],"2":["a","b"],"3":["b"]}"#),
            ("transpose({z = [\"k\"], a = [\"k\"], c = []})", r#"{"k":["a","z"]}"#),
            ("transpose({})", "{}"),
            ("matchkeys([\"i-1\", \"i-2\", \"i-3\"], [\"us-a\", \"us-b\", \"us-a\"], [\"us-a\"])", r#"["i-1","i-3"]"#),
            ("matchkeys([\"a\"], [1], [])", "[]"),
            ("sort([\"b\", \"a\"])", r#"["a","b"]"#),
        ]);
        assert_errors(&["transpose({a = \"x\"})", "transpose({a = [[\"x\"]]})", "matchkeys([\"a\"], [1, 2], [1])"]);
        assert_eq!(reason("matchkeys([\"a\"], [var.unknown], [1])"), "var.unknown has no value");
    }
}

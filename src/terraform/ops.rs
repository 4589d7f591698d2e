//! Value helpers shared by the evaluator and the function library: how errors and unknowns
//! are told apart, Terraform's implicit conversions, deep equality and the operators.
//!
//! Errors and unknowns are both [`Value::Unknown`], because a scanner must neither crash on
//! code Terraform would reject nor invent a value for it. They differ in their reason: an
//! error's reason starts with [`ERROR_PREFIX`]. `try` and `can` skip errors but return
//! unknowns, as Terraform does.

use crate::model::{Node, Span, Value};
use std::fmt::Display;

/// How the reason of an Unknown produced by an evaluation error (a type error, a missing map
/// key, an index out of range: something Terraform would reject) begins. Unknowns whose reason
/// lacks it stand for values that cannot be known without apply or a missing input.
pub const ERROR_PREFIX: &str = "Terraform would fail here: ";

/// An Unknown standing for an evaluation error.
pub fn error_value(message: impl Display) -> Value {
    Value::Unknown(format!("{ERROR_PREFIX}{message}"))
}

/// Whether an Unknown's reason says it came from an evaluation error.
pub fn is_error_reason(reason: &str) -> bool {
    reason.starts_with(ERROR_PREFIX)
}

/// Whether the node is an Unknown that came from an evaluation error.
pub fn is_error(node: &Node) -> bool {
    matches!(&node.value, Value::Unknown(reason) if is_error_reason(reason))
}

/// The first evaluation error anywhere in the node, depth first.
pub fn find_error(node: &Node) -> Option<&Node> {
    match &node.value {
        Value::Unknown(reason) if is_error_reason(reason) => Some(node),
        Value::List(items) => items.iter().find_map(find_error),
        Value::Map(entries) => entries.iter().find_map(|(_, v)| find_error(v)),
        _ => None,
    }
}

/// The Unknown a reference to a computed attribute stands for when its value is needed.
pub fn after_apply(address: &str, attribute: &str) -> Value {
    Value::Unknown(crate::model::after_apply_reason(address, attribute))
}

/// `Err` with the Unknown to return when the value itself is unknown, a reference, or JSON
/// text with unknown leaves (the first leaf's reason).
pub fn known(value: &Value) -> Result<&Value, Value> {
    match value {
        Value::Unknown(_) => Err(value.clone()),
        Value::Ref { address, attribute } => Err(after_apply(address, attribute)),
        Value::PartialJson(document) => {
            Err(document.first_unknown().map_or_else(|| after_apply("the JSON document", ""), |leaf| known(&leaf.value).unwrap_err()))
        }
        Value::PartialStr(parts) => Err(parts.iter().find_map(|part| known(&part.value).err()).unwrap_or_else(|| after_apply("the string", ""))),
        other => Ok(other),
    }
}

/// `Err` with the first Unknown (or reference, as an Unknown) anywhere in the node.
pub fn known_deep(node: &Node) -> Result<(), Value> {
    match &node.value {
        Value::List(items) => items.iter().try_for_each(known_deep),
        Value::Map(entries) => entries.iter().try_for_each(|(_, v)| known_deep(v)),
        other => known(other).map(|_| ()),
    }
}

/// A list built from evaluated elements: an element that is an evaluation error makes the
/// whole list that error (Terraform would fail the expression); unknown elements stay.
pub fn collect_list(items: Vec<Node>) -> Value {
    match items.iter().find(|n| is_error(n)) {
        Some(error) => error.value.clone(),
        None => Value::List(items),
    }
}

/// Like [`collect_list`] for maps.
pub fn collect_map(entries: Vec<(String, Node)>) -> Value {
    match entries.iter().find(|(_, n)| is_error(n)) {
        Some((_, error)) => error.value.clone(),
        None => Value::Map(entries),
    }
}

/// A number as a value: integral and in range → `Int`, else `Float`.
pub fn num_value(f: f64) -> Value {
    if !f.is_finite() {
        return error_value("the result is not a finite number");
    }
    if f.fract() == 0.0 && f.abs() < 9.0e18 {
        Value::Int(f as i64)
    } else {
        Value::Float(f)
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Num {
    I(i64),
    F(f64),
}

impl Num {
    pub fn f(self) -> f64 {
        match self {
            Num::I(i) => i as f64,
            Num::F(f) => f,
        }
    }
    pub fn value(self) -> Value {
        match self {
            Num::I(i) => Value::Int(i),
            Num::F(f) => num_value(f),
        }
    }
    /// The number as an integer when it is one.
    pub fn int(self) -> Option<i64> {
        match self {
            Num::I(i) => Some(i),
            Num::F(f) if f.fract() == 0.0 && f.abs() < 9.0e18 => Some(f as i64),
            Num::F(_) => None,
        }
    }
}

/// Parses a string the way Terraform converts strings to numbers.
pub fn parse_num(s: &str) -> Option<Num> {
    let t = s.trim();
    if t.is_empty() || t != s {
        return None;
    }
    if let Ok(i) = t.parse::<i64>() {
        return Some(Num::I(i));
    }
    // Rust accepts "inf", "NaN" and "1e5"; Terraform accepts exponents but not the others.
    if !t.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E')) {
        return None;
    }
    t.parse::<f64>().ok().filter(|f| f.is_finite()).map(|f| match num_value(f) {
        Value::Int(i) => Num::I(i),
        _ => Num::F(f),
    })
}

/// Terraform's conversion to number: numbers, and strings that hold one.
pub fn to_num(value: &Value) -> Option<Num> {
    match value {
        Value::Int(i) => Some(Num::I(*i)),
        Value::Float(f) => Some(Num::F(*f)),
        Value::Str(s) => parse_num(s),
        _ => None,
    }
}

/// Terraform's conversion to bool: bools and the strings "true" and "false".
pub fn to_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::Str(s) if s == "true" => Some(true),
        Value::Str(s) if s == "false" => Some(false),
        _ => None,
    }
}

/// Terraform's conversion of a primitive to string (`None` for null and collections).
pub fn to_str(value: &Value) -> Option<String> {
    match value {
        Value::Str(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Float(f) => Some(fmt_float(*f)),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A float the way Terraform prints numbers: plain decimal, no exponent.
pub fn fmt_float(f: f64) -> String {
    format!("{f}")
}

/// The name of a value's type, for error messages.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Int(_) | Value::Float(_) => "number",
        Value::Str(_) => "string",
        Value::List(_) => "list",
        Value::Map(_) => "map",
        Value::Unknown(_) => "unknown",
        Value::Ref { .. } => "reference",
        Value::PartialJson(_) | Value::PartialStr(_) => "string",
    }
}

/// Terraform's `==`: deep, no conversion between types except that numbers compare by value.
/// `Err` with the first Unknown when the answer depends on one. Two identical references are
/// equal; otherwise a reference is unknown.
pub fn equal(a: &Value, b: &Value) -> Result<bool, Value> {
    match (a, b) {
        (Value::Unknown(_) | Value::PartialJson(_) | Value::PartialStr(_), _) => Err(known(a).unwrap_err()),
        (_, Value::Unknown(_) | Value::PartialJson(_) | Value::PartialStr(_)) => Err(known(b).unwrap_err()),
        (Value::Ref { .. }, Value::Ref { .. }) if a == b => Ok(true),
        (Value::Ref { .. }, _) | (_, Value::Ref { .. }) => Err(known(a).and(known(b)).unwrap_err()),
        (Value::Null, Value::Null) => Ok(true),
        (Value::Null, _) | (_, Value::Null) => Ok(false),
        (Value::Int(x), Value::Int(y)) => Ok(x == y),
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => Ok(to_num(a).map(Num::f) == to_num(b).map(Num::f)),
        (Value::Str(x), Value::Str(y)) => Ok(x == y),
        (Value::Bool(x), Value::Bool(y)) => Ok(x == y),
        (Value::List(x), Value::List(y)) => {
            if x.len() != y.len() {
                return Ok(false);
            }
            let mut pending = None;
            for (p, q) in x.iter().zip(y) {
                match equal(&p.value, &q.value) {
                    Ok(false) => return Ok(false),
                    Ok(true) => {}
                    Err(u) => pending = pending.or(Some(u)),
                }
            }
            pending.map_or(Ok(true), Err)
        }
        (Value::Map(x), Value::Map(y)) => {
            if x.len() != y.len() || x.iter().any(|(k, _)| !y.iter().any(|(l, _)| l == k)) {
                return Ok(false);
            }
            let mut pending = None;
            for (k, p) in x {
                let q = &y.iter().find(|(l, _)| l == k).expect("checked above").1;
                match equal(&p.value, &q.value) {
                    Ok(false) => return Ok(false),
                    Ok(true) => {}
                    Err(u) => pending = pending.or(Some(u)),
                }
            }
            pending.map_or(Ok(true), Err)
        }
        _ => Ok(false),
    }
}

/// An arithmetic operator applied to two known numbers.
pub fn arith(op: char, a: Num, b: Num) -> Value {
    if let (Num::I(x), Num::I(y)) = (a, b) {
        let exact = match op {
            '+' => x.checked_add(y),
            '-' => x.checked_sub(y),
            '*' => x.checked_mul(y),
            '/' if y != 0 && x.checked_rem(y) == Some(0) => x.checked_div(y),
            '%' if y != 0 => x.checked_rem(y),
            _ => None,
        };
        if let Some(r) = exact {
            return Value::Int(r);
        }
    }
    let (x, y) = (a.f(), b.f());
    match op {
        '+' => num_value(x + y),
        '-' => num_value(x - y),
        '*' => num_value(x * y),
        '/' if y == 0.0 => error_value("division by zero"),
        '/' => num_value(x / y),
        '%' if y == 0.0 => error_value("modulo by zero"),
        '%' => num_value(x % y),
        _ => error_value(format!("unknown operator {op}")),
    }
}

/// The node an operator or function produced: its value with the span of the expression.
pub fn node(value: Value, span: &Option<Span>) -> Node {
    Node::new(value, span.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_convert_like_terraform() {
        assert_eq!(parse_num("5"), Some(Num::I(5)));
        assert_eq!(parse_num("1.5"), Some(Num::F(1.5)));
        assert_eq!(parse_num("2.0"), Some(Num::I(2)));
        assert_eq!(parse_num(" 5"), None);
        assert_eq!(parse_num("inf"), None);
        assert_eq!(num_value(f64::NAN), error_value("the result is not a finite number"));
        assert_eq!(arith('/', Num::I(5), Num::I(2)), Value::Float(2.5));
        assert_eq!(arith('+', Num::I(i64::MAX), Num::I(1)), Value::Float(i64::MAX as f64 + 1.0));
    }

    #[test]
    fn equality_is_deep_and_tristate() {
        let l = |v: Vec<Value>| Value::List(v.into_iter().map(|v| Node::new(v, None)).collect());
        assert_eq!(equal(&Value::Int(1), &Value::Float(1.0)), Ok(true));
        assert_eq!(equal(&Value::Int(1), &Value::Str("1".into())), Ok(false));
        assert_eq!(equal(&l(vec![Value::Int(1)]), &l(vec![Value::Int(1)])), Ok(true));
        let u = Value::Unknown("u".into());
        assert_eq!(equal(&l(vec![u.clone(), Value::Int(1)]), &l(vec![Value::Int(2), Value::Int(2)])), Ok(false));
        assert_eq!(equal(&l(vec![u.clone()]), &l(vec![Value::Int(2)])), Err(u));
    }
}

//! Terraform's built-in functions, evaluated on [`Node`]s.
//!
//! Functions that only move values around (`try`, `coalesce`, `concat`, `merge`, `lookup`,
//! `element`, `flatten`, `tolist`, ...) pass Unknown elements and references through. Every
//! other function needs its arguments wholly known: an Unknown or a reference anywhere in them
//! makes the result Unknown (the first one's reason). Functions that read files, the clock or
//! randomness, and names not implemented here, give `Unknown("function X is not evaluated")`,
//! which is an unknown, not an error.

use super::super::sandbox::Sandbox;
use super::ops::{
    collect_list, collect_map, equal, error_value, find_error, fmt_float, is_error, known, known_deep, node, num_value, to_bool, to_num, to_str, type_name, Num,
};
use crate::model::{Node, Span, Value};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Most elements `range` produces; Terraform refuses more.
pub const RANGE_LIMIT: usize = 1024;

/// Functions that need every argument wholly known.
const STRICT: &[&str] = &[
    "contains",
    "distinct",
    "join",
    "split",
    "format",
    "formatlist",
    "lower",
    "upper",
    "replace",
    "substr",
    "trimspace",
    "trim",
    "trimprefix",
    "trimsuffix",
    "startswith",
    "endswith",
    "strcontains",
    "tostring",
    "tonumber",
    "tobool",
    "jsonencode",
    "jsondecode",
    "range",
    "min",
    "max",
    "abs",
    "ceil",
    "floor",
    "sum",
    "sort",
    "index",
    "setunion",
    "setintersection",
    "setsubtract",
    "cidrsubnet",
    "cidrhost",
    "cidrnetmask",
    "base64encode",
    "base64decode",
    "regex",
    "regexall",
    "title",
    "chomp",
    "strrev",
    "signum",
    "pow",
    "parseint",
];

/// Calls the function `name` on evaluated arguments; the result has `span` unless it is an
/// argument passed through that has a span of its own.
pub fn call_function(name: &str, args: Vec<Node>, span: &Option<Span>, _sandbox: Option<&Sandbox>) -> Node {
    let result = match name {
        "try" => try_(args),
        "can" => Ok(Node::new(can(&args), None)),
        _ => {
            // Arguments that are errors make the call an error, whatever the function.
            if let Some(e) = args.iter().find(|a| is_error(a)) {
                return node(e.value.clone(), span);
            }
            match passthrough(name, args) {
                Passed::Done(r) => r,
                Passed::NotMine(args) if STRICT.contains(&name) => match args.iter().try_for_each(known_deep) {
                    Err(u) => Err(u),
                    Ok(()) => strict(name, &args).map(|v| Node::new(v, None)),
                },
                Passed::NotMine(_) => Err(Value::Unknown(format!("function {name} is not evaluated"))),
            }
        }
    };
    match result {
        Ok(mut n) => {
            if n.span.is_none() {
                n.span = span.clone();
            }
            n
        }
        Err(v) => node(v, span),
    }
}

type R = Result<Node, Value>;

enum Passed {
    Done(R),
    NotMine(Vec<Node>),
}

fn arity(name: &str, args: &[Node], min: usize, max: usize) -> Result<(), Value> {
    if args.len() < min || args.len() > max {
        let expected = if min == max {
            format!("{min}")
        } else if max == usize::MAX {
            format!("at least {min}")
        } else {
            format!("{min} to {max}")
        };
        return Err(error_value(format!("{name} expects {expected} arguments, got {}", args.len())));
    }
    Ok(())
}

fn computed(v: Value) -> R {
    Ok(Node::new(v, None))
}

fn list_of<'n>(name: &str, n: &'n Node) -> Result<&'n Vec<Node>, Value> {
    match known(&n.value)? {
        Value::List(items) => Ok(items),
        other => Err(error_value(format!("{name} needs a list, not {}", type_name(other)))),
    }
}

fn map_of<'n>(name: &str, n: &'n Node) -> Result<&'n Vec<(String, Node)>, Value> {
    match known(&n.value)? {
        Value::Map(entries) => Ok(entries),
        other => Err(error_value(format!("{name} needs a map, not {}", type_name(other)))),
    }
}

fn str_of(name: &str, n: &Node) -> Result<String, Value> {
    let v = known(&n.value)?;
    to_str(v).ok_or_else(|| error_value(format!("{name} needs a string, not {}", type_name(v))))
}

fn num_of(name: &str, n: &Node) -> Result<Num, Value> {
    let v = known(&n.value)?;
    to_num(v).ok_or_else(|| error_value(format!("{name} needs a number, not {}", type_name(v))))
}

fn int_of(name: &str, n: &Node) -> Result<i64, Value> {
    num_of(name, n)?.int().ok_or_else(|| error_value(format!("{name} needs a whole number")))
}

fn strings_of(name: &str, n: &Node) -> Result<Vec<String>, Value> {
    list_of(name, n)?.iter().map(|e| str_of(name, e)).collect()
}

/// `try`: the first argument that evaluated without an error. An Unknown (not an error)
/// argument makes the result Unknown, since it could still fail after apply.
fn try_(args: Vec<Node>) -> R {
    let count = args.len();
    for arg in args {
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
fn can(args: &[Node]) -> Value {
    if args.len() != 1 {
        return error_value("can expects 1 argument");
    }
    if find_error(&args[0]).is_some() {
        return Value::Bool(false);
    }
    match known(&args[0].value) {
        Err(u) => u,
        Ok(_) => Value::Bool(true),
    }
}

/// Functions that pass values (and so Unknowns and references) through.
fn passthrough(name: &str, args: Vec<Node>) -> Passed {
    let r = match name {
        "coalesce" => coalesce(args),
        "coalescelist" => coalescelist(args),
        "concat" => concat(args),
        "merge" => merge(args),
        "flatten" => arity(name, &args, 1, 1).and_then(|_| {
            let mut out = Vec::new();
            flatten_into(&args[0], &mut out)?;
            computed(Value::List(out))
        }),
        "lookup" => lookup(args),
        "jsonencode" if args.len() == 1 && is_partly_known(&args[0]) => computed(Value::PartialJson(Box::new(args[0].clone()))),
        "element" => element(args),
        "keys" | "values" => arity(name, &args, 1, 1).and_then(|_| {
            let mut entries = map_of(name, &args[0])?.clone();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            if name == "keys" {
                computed(Value::List(entries.into_iter().map(|(k, v)| Node::new(Value::Str(k), v.span)).collect()))
            } else {
                computed(Value::List(entries.into_iter().map(|(_, v)| v).collect()))
            }
        }),
        "length" => arity(name, &args, 1, 1).and_then(|_| match known(&args[0].value)? {
            Value::List(items) => computed(Value::Int(items.len() as i64)),
            Value::Map(entries) => computed(Value::Int(entries.len() as i64)),
            Value::Str(s) => computed(Value::Int(s.chars().count() as i64)),
            other => Err(error_value(format!("length needs a collection or string, not {}", type_name(other)))),
        }),
        "one" => arity(name, &args, 1, 1).and_then(|_| match known(&args[0].value)? {
            Value::Null => computed(Value::Null),
            Value::List(items) if items.is_empty() => computed(Value::Null),
            Value::List(items) if items.len() == 1 => Ok(items[0].clone()),
            Value::List(items) => Err(error_value(format!("one needs at most one element, got {}", items.len()))),
            other => Err(error_value(format!("one needs a list, not {}", type_name(other)))),
        }),
        "compact" => arity(name, &args, 1, 1).and_then(|_| {
            let mut out = Vec::new();
            for e in list_of(name, &args[0])? {
                match &e.value {
                    Value::Null => {}
                    Value::Str(s) if s.is_empty() => {}
                    Value::Unknown(_) => return Err(e.value.clone()),
                    _ => out.push(e.clone()),
                }
            }
            computed(Value::List(out))
        }),
        "tolist" => arity(name, &args, 1, 1).and_then(|_| match known(&args[0].value)? {
            Value::Null => computed(Value::Null),
            Value::List(items) => computed(Value::List(unify(items.clone()))),
            other => Err(error_value(format!("cannot convert a {} to a list", type_name(other)))),
        }),
        "toset" => arity(name, &args, 1, 1).and_then(|_| match known(&args[0].value)? {
            Value::Null => computed(Value::Null),
            Value::List(items) => computed(Value::List(to_set(items.clone()))),
            other => Err(error_value(format!("cannot convert a {} to a set", type_name(other)))),
        }),
        "tomap" => arity(name, &args, 1, 1).and_then(|_| match known(&args[0].value)? {
            Value::Null | Value::Map(_) => Ok(args[0].clone()),
            other => Err(error_value(format!("cannot convert a {} to a map", type_name(other)))),
        }),
        "reverse" => arity(name, &args, 1, 1).and_then(|_| {
            let mut items = list_of(name, &args[0])?.clone();
            items.reverse();
            computed(Value::List(items))
        }),
        "slice" => arity(name, &args, 3, 3).and_then(|_| {
            let items = list_of(name, &args[0])?;
            let (start, end) = (int_of(name, &args[1])?, int_of(name, &args[2])?);
            if start < 0 || end < start || end as u64 > items.len() as u64 {
                return Err(error_value(format!("slice indices {start}..{end} are invalid for {} elements", items.len())));
            }
            computed(Value::List(items[start as usize..end as usize].to_vec()))
        }),
        "zipmap" => arity(name, &args, 2, 2).and_then(|_| {
            let keys = strings_of(name, &args[0])?;
            let values = list_of(name, &args[1])?;
            if keys.len() != values.len() {
                return Err(error_value("zipmap needs as many keys as values"));
            }
            let mut out: Vec<(String, Node)> = Vec::new();
            for (k, v) in keys.into_iter().zip(values.iter().cloned()) {
                match out.iter_mut().find(|(e, _)| *e == k) {
                    Some(existing) => existing.1 = v,
                    None => out.push((k, v)),
                }
            }
            computed(Value::Map(out))
        }),
        "alltrue" | "anytrue" => arity(name, &args, 1, 1).and_then(|_| {
            let all = name == "alltrue";
            let mut pending = None;
            for e in list_of(name, &args[0])? {
                match known(&e.value) {
                    Err(u) => pending = pending.or(Some(u)),
                    Ok(v) => match to_bool(v) {
                        Some(b) if b != all => return computed(Value::Bool(b)),
                        Some(_) => {}
                        None => return Err(error_value(format!("{name} needs bools, not {}", type_name(v)))),
                    },
                }
            }
            pending.map_or(computed(Value::Bool(all)), Err)
        }),
        _ => return Passed::NotMine(args),
    };
    Passed::Done(r)
}

/// A collection that holds unknown leaves: its JSON text is unknown, its document known in part.
fn is_partly_known(node: &Node) -> bool {
    matches!(node.value, Value::List(_) | Value::Map(_)) && node.first_unknown().is_some()
}

fn coalesce(args: Vec<Node>) -> R {
    for arg in args {
        match &arg.value {
            Value::Null => {}
            Value::Str(s) if s.is_empty() => {}
            Value::Unknown(_) => return Err(arg.value),
            _ => return Ok(arg),
        }
    }
    Err(error_value("no non-null, non-empty argument to coalesce"))
}

fn coalescelist(args: Vec<Node>) -> R {
    for arg in args {
        match known(&arg.value)? {
            Value::List(items) if items.is_empty() => {}
            Value::List(_) => return Ok(arg),
            Value::Null => {}
            other => return Err(error_value(format!("coalescelist needs lists, not {}", type_name(other)))),
        }
    }
    Err(error_value("no non-empty list argument to coalescelist"))
}

fn concat(args: Vec<Node>) -> R {
    let mut out = Vec::new();
    for arg in &args {
        out.extend(list_of("concat", arg)?.iter().cloned());
    }
    computed(Value::List(out))
}

fn merge(args: Vec<Node>) -> R {
    let mut out: Vec<(String, Node)> = Vec::new();
    for arg in &args {
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
            other => return Err(error_value(format!("merge needs maps, not {}", type_name(other)))),
        }
    }
    computed(Value::Map(out))
}

fn flatten_into(n: &Node, out: &mut Vec<Node>) -> Result<(), Value> {
    for e in list_of("flatten", n)? {
        match &e.value {
            Value::List(_) => flatten_into(e, out)?,
            // It might be a list: the result's shape is unknown.
            Value::Unknown(_) => return Err(e.value.clone()),
            _ => out.push(e.clone()),
        }
    }
    Ok(())
}

fn lookup(args: Vec<Node>) -> R {
    arity("lookup", &args, 2, 3)?;
    let entries = map_of("lookup", &args[0])?;
    let key = str_of("lookup", &args[1])?;
    match entries.iter().find(|(k, _)| *k == key) {
        Some((_, v)) => Ok(v.clone()),
        None => match args.get(2) {
            Some(default) => Ok(default.clone()),
            None => Err(error_value(format!("lookup: the map has no key {key:?} and no default was given"))),
        },
    }
}

fn element(args: Vec<Node>) -> R {
    arity("element", &args, 2, 2)?;
    let items = list_of("element", &args[0])?;
    let index = int_of("element", &args[1])?;
    if items.is_empty() {
        return Err(error_value("element: cannot use element on an empty list"));
    }
    if index < 0 {
        return Err(error_value("element: the index must not be negative"));
    }
    Ok(items[(index as u64 % items.len() as u64) as usize].clone())
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
fn to_set(items: Vec<Node>) -> Vec<Node> {
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

/// Functions whose arguments are wholly known here.
fn strict(name: &str, args: &[Node]) -> Result<Value, Value> {
    let s = |i: usize| str_of(name, &args[i]);
    let n = |i: usize| num_of(name, &args[i]);
    let (min, max) = match name {
        "format" | "formatlist" => (1, usize::MAX),
        "min" | "max" | "setunion" | "setintersection" => (1, usize::MAX),
        "join" => (2, usize::MAX),
        "range" => (1, 3),
        "jsonencode" | "jsondecode" | "lower" | "upper" | "trimspace" | "tostring" | "tonumber" | "tobool" | "abs" | "ceil" | "floor" | "sum" | "sort"
        | "distinct" | "cidrnetmask" | "base64encode" | "base64decode" | "title" | "chomp" | "strrev" | "signum" => (1, 1),
        "substr" | "replace" => (3, 3),
        "cidrsubnet" => (3, 3),
        "setsubtract" | "parseint" | "pow" | "regex" | "regexall" | "cidrhost" | "contains" | "index" | "split" | "trim" | "trimprefix" | "trimsuffix"
        | "startswith" | "endswith" | "strcontains" => (2, 2),
        _ => (0, usize::MAX),
    };
    arity(name, args, min, max)?;
    Ok(match name {
        "lower" => Value::Str(s(0)?.to_lowercase()),
        "upper" => Value::Str(s(0)?.to_uppercase()),
        "title" => Value::Str(title(&s(0)?)),
        "strrev" => Value::Str(s(0)?.chars().rev().collect()),
        "trimspace" => Value::Str(s(0)?.trim().to_string()),
        "chomp" => Value::Str(s(0)?.trim_end_matches(['\n', '\r']).to_string()),
        "trim" => {
            let cut: Vec<char> = s(1)?.chars().collect();
            Value::Str(s(0)?.trim_matches(|c| cut.contains(&c)).to_string())
        }
        "trimprefix" => {
            let (text, prefix) = (s(0)?, s(1)?);
            Value::Str(text.strip_prefix(prefix.as_str()).unwrap_or(&text).to_string())
        }
        "trimsuffix" => {
            let (text, suffix) = (s(0)?, s(1)?);
            Value::Str(text.strip_suffix(suffix.as_str()).unwrap_or(&text).to_string())
        }
        "startswith" => Value::Bool(s(0)?.starts_with(&s(1)?)),
        "endswith" => Value::Bool(s(0)?.ends_with(&s(1)?)),
        "strcontains" => Value::Bool(s(0)?.contains(&s(1)?)),
        "join" => {
            let mut parts = Vec::new();
            for arg in &args[1..] {
                parts.extend(strings_of(name, arg)?);
            }
            Value::Str(parts.join(&s(0)?))
        }
        "split" => {
            let (sep, text) = (s(0)?, s(1)?);
            let parts: Vec<String> =
                if sep.is_empty() { text.chars().map(String::from).collect() } else { text.split(sep.as_str()).map(String::from).collect() };
            strs(parts)
        }
        "substr" => {
            let text: Vec<char> = s(0)?.chars().collect();
            let (offset, length) = (int_of(name, &args[1])?, int_of(name, &args[2])?);
            let len = text.len() as i64;
            let start = if offset < 0 { len + offset } else { offset };
            if start < 0 || start > len {
                return Err(error_value(format!("substr: offset {offset} is out of range")));
            }
            let end = if length < 0 { len } else { (start + length).min(len) };
            Value::Str(text[start as usize..end as usize].iter().collect())
        }
        "replace" => replace(&s(0)?, &s(1)?, &s(2)?)?,
        "format" => Value::Str(format(&s(0)?, &args[1..])?),
        "formatlist" => formatlist(&s(0)?, &args[1..])?,
        "tostring" => match &args[0].value {
            Value::Null => Value::Null,
            v => Value::Str(to_str(v).ok_or_else(|| error_value(format!("cannot convert a {} to a string", type_name(v))))?),
        },
        "tonumber" => match &args[0].value {
            Value::Null => Value::Null,
            v => to_num(v).ok_or_else(|| error_value(format!("cannot convert {} to a number", describe(v))))?.value(),
        },
        "tobool" => match &args[0].value {
            Value::Null => Value::Null,
            v => Value::Bool(to_bool(v).ok_or_else(|| error_value(format!("cannot convert {} to a bool", describe(v))))?),
        },
        "jsonencode" => {
            let mut out = String::new();
            json_encode(&args[0].value, &mut out);
            Value::Str(out)
        }
        "jsondecode" => match serde_json::from_str::<serde_json::Value>(&s(0)?) {
            Ok(j) => from_json(&j),
            Err(e) => return Err(error_value(format!("jsondecode: {e}"))),
        },
        "abs" => match n(0)? {
            Num::I(i) => i.checked_abs().map_or_else(|| num_value((i as f64).abs()), Value::Int),
            Num::F(f) => num_value(f.abs()),
        },
        "ceil" => num_value(n(0)?.f().ceil()),
        "floor" => num_value(n(0)?.f().floor()),
        "signum" => num_value(n(0)?.f().signum() * if n(0)?.f() == 0.0 { 0.0 } else { 1.0 }),
        "pow" => num_value(n(0)?.f().powf(n(1)?.f())),
        "parseint" => {
            let base = int_of(name, &args[1])?;
            if !(2..=62).contains(&base) {
                return Err(error_value("parseint: the base must be between 2 and 62"));
            }
            match i64::from_str_radix(&s(0)?, base as u32) {
                Ok(i) => Value::Int(i),
                Err(_) => return Err(error_value(format!("parseint: cannot parse {:?} in base {base}", s(0)?))),
            }
        }
        "min" | "max" => {
            let mut nums = Vec::new();
            for arg in args {
                nums.push(num_of(name, arg)?);
            }
            let pick = |a: Num, b: Num| if (name == "min") == (b.f() < a.f()) { b } else { a };
            nums.into_iter().reduce(pick).expect("arity checked").value()
        }
        "sum" => {
            let items = list_of(name, &args[0])?;
            if items.is_empty() {
                return Err(error_value("sum: cannot sum an empty list"));
            }
            let mut total = Value::Int(0);
            for item in items {
                let x = num_of(name, item)?;
                total = super::ops::arith('+', to_num(&total).expect("number"), x);
            }
            total
        }
        "range" => range(args)?,
        "sort" => {
            let mut items = strings_of(name, &args[0])?;
            items.sort();
            strs(items)
        }
        "distinct" => {
            let mut out: Vec<Node> = Vec::new();
            for item in list_of(name, &args[0])? {
                if !out.iter().any(|o| equal(&o.value, &item.value) == Ok(true)) {
                    out.push(item.clone());
                }
            }
            Value::List(out)
        }
        "contains" => {
            let items = list_of(name, &args[0])?;
            Value::Bool(items.iter().any(|i| equal(&i.value, &args[1].value) == Ok(true)))
        }
        "index" => {
            let items = list_of(name, &args[0])?;
            match items.iter().position(|i| equal(&i.value, &args[1].value) == Ok(true)) {
                Some(i) => Value::Int(i as i64),
                None => return Err(error_value("index: the value is not in the list")),
            }
        }
        "setunion" => {
            let mut all = Vec::new();
            for arg in args {
                all.extend(list_of(name, arg)?.iter().cloned());
            }
            Value::List(to_set(all))
        }
        "setintersection" => {
            let mut acc = to_set(list_of(name, &args[0])?.clone());
            for arg in &args[1..] {
                let other = list_of(name, arg)?;
                acc.retain(|a| other.iter().any(|b| equal(&a.value, &b.value) == Ok(true)));
            }
            Value::List(acc)
        }
        "setsubtract" => {
            let other = list_of(name, &args[1])?;
            let mut acc = to_set(list_of(name, &args[0])?.clone());
            acc.retain(|a| !other.iter().any(|b| equal(&a.value, &b.value) == Ok(true)));
            Value::List(acc)
        }
        "cidrsubnet" => cidrsubnet(&s(0)?, int_of(name, &args[1])?, int_of(name, &args[2])?)?,
        "cidrhost" => cidrhost(&s(0)?, int_of(name, &args[1])?)?,
        "cidrnetmask" => {
            let (addr, prefix, v6) = parse_cidr(&s(0)?)?;
            if v6 {
                return Err(error_value("cidrnetmask only supports IPv4 prefixes"));
            }
            let mask = if prefix == 0 { 0u32 } else { u32::MAX << (32 - prefix) };
            let _ = addr;
            Value::Str(Ipv4Addr::from(mask).to_string())
        }
        "base64encode" => Value::Str(base64_encode(s(0)?.as_bytes())),
        "base64decode" => {
            let bytes = base64_decode(&s(0)?).ok_or_else(|| error_value("base64decode: the string is not valid base64"))?;
            Value::Str(String::from_utf8(bytes).map_err(|_| error_value("base64decode: the result is not UTF-8"))?)
        }
        "regex" | "regexall" => {
            let re = regex::Regex::new(&s(0)?).map_err(|e| error_value(format!("{name}: invalid pattern: {e}")))?;
            let text = s(1)?;
            let one = |caps: regex::Captures| -> Value {
                let names: Vec<Option<&str>> = re.capture_names().collect();
                if names.len() == 1 {
                    Value::Str(caps[0].to_string())
                } else if names.iter().any(Option::is_some) {
                    Value::Map(
                        names
                            .iter()
                            .enumerate()
                            .filter_map(|(i, n)| n.map(|n| (i, n)))
                            .map(|(i, n)| (n.to_string(), str_node(caps.get(i).map_or("", |m| m.as_str()))))
                            .collect(),
                    )
                } else {
                    Value::List((1..names.len()).map(|i| str_node(caps.get(i).map_or("", |m| m.as_str()))).collect())
                }
            };
            if name == "regex" {
                match re.captures(&text) {
                    Some(caps) => one(caps),
                    None => return Err(error_value("regex: the pattern did not match")),
                }
            } else {
                Value::List(re.captures_iter(&text).map(|c| Node::new(one(c), None)).collect())
            }
        }
        _ => Value::Unknown(format!("function {name} is not evaluated")),
    })
}

fn str_node(s: &str) -> Node {
    Node::new(Value::Str(s.to_string()), None)
}

fn strs(items: Vec<String>) -> Value {
    Value::List(items.into_iter().map(|s| Node::new(Value::Str(s), None)).collect())
}

fn describe(v: &Value) -> String {
    match v {
        Value::Str(s) => format!("{s:?}"),
        other => format!("a {}", type_name(other)),
    }
}

/// Go's `strings.Title`: the first letter of each word upper-cased.
fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut boundary = true;
    for c in s.chars() {
        if boundary && c.is_alphabetic() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        boundary = !(c.is_alphanumeric() || c == '_' || c == '\'');
    }
    out
}

/// `replace`: a substring, or a `/regex/` whose replacement may use `$1`.
fn replace(text: &str, search: &str, with: &str) -> Result<Value, Value> {
    if search.len() >= 2 && search.starts_with('/') && search.ends_with('/') {
        let re = regex::Regex::new(&search[1..search.len() - 1]).map_err(|e| error_value(format!("replace: invalid pattern: {e}")))?;
        Ok(Value::Str(re.replace_all(text, with).into_owned()))
    } else if search.is_empty() {
        Ok(Value::Str(text.to_string()))
    } else {
        Ok(Value::Str(text.replace(search, with)))
    }
}

fn range(args: &[Node]) -> Result<Value, Value> {
    let nums: Vec<f64> = args.iter().map(|a| num_of("range", a).map(Num::f)).collect::<Result<_, _>>()?;
    let (start, end, step) = match nums.as_slice() {
        [end] => (0.0, *end, 1.0),
        [start, end] => (*start, *end, if start > end { -1.0 } else { 1.0 }),
        [start, end, step] => (*start, *end, *step),
        _ => return Err(error_value("range expects 1 to 3 arguments")),
    };
    if step == 0.0 {
        return Err(error_value("range: the step must not be zero"));
    }
    if (step > 0.0 && start > end) || (step < 0.0 && start < end) {
        return Err(error_value("range: the step goes away from the limit"));
    }
    let count = ((end - start) / step).ceil();
    if !count.is_finite() || count > RANGE_LIMIT as f64 {
        return Err(error_value(format!("range: more than {RANGE_LIMIT} values would be generated")));
    }
    let count = count.max(0.0) as usize;
    Ok(Value::List((0..count).map(|i| Node::new(num_value(start + step * i as f64), None)).collect()))
}

/// Go's `fmt` verbs as Terraform's `format` supports them.
pub fn format(spec: &str, args: &[Node]) -> Result<String, Value> {
    let mut out = String::new();
    let mut chars = spec.chars().peekable();
    let mut next = 0;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut flags = String::new();
        while let Some(&f) = chars.peek() {
            if "-+# 0".contains(f) {
                flags.push(f);
                chars.next();
            } else {
                break;
            }
        }
        let mut width = String::new();
        while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            width.push(d);
            chars.next();
        }
        let mut precision: Option<usize> = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut p = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                p.push(d);
                chars.next();
            }
            precision = Some(p.parse().unwrap_or(0));
        }
        let Some(verb) = chars.next() else {
            return Err(error_value("format: the spec ends inside a verb"));
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(next) else {
            return Err(error_value(format!("format: not enough arguments for %{verb}")));
        };
        next += 1;
        let v = &arg.value;
        let numeric = matches!(verb, 'd' | 'f' | 'e' | 'g' | 'x' | 'X' | 'o' | 'b');
        let bad = || error_value(format!("format: %{verb} cannot format {}", describe(v)));
        let mut text = match verb {
            'v' if flags.contains('#') => json_text(v),
            'v' => match v {
                Value::Null => "null".into(),
                Value::List(_) | Value::Map(_) => json_text(v),
                other => to_str(other).unwrap_or_default(),
            },
            's' => to_str(v).ok_or_else(bad)?,
            'q' => json_text(&Value::Str(to_str(v).ok_or_else(bad)?)),
            't' => to_bool(v).ok_or_else(bad)?.to_string(),
            'd' | 'x' | 'X' | 'o' | 'b' => {
                let i = to_num(v).and_then(Num::int).ok_or_else(bad)?;
                let digits = match verb {
                    'd' => i.unsigned_abs().to_string(),
                    'x' => format!("{:x}", i.unsigned_abs()),
                    'X' => format!("{:X}", i.unsigned_abs()),
                    'o' => format!("{:o}", i.unsigned_abs()),
                    _ => format!("{:b}", i.unsigned_abs()),
                };
                let sign = if i < 0 {
                    "-"
                } else if flags.contains('+') {
                    "+"
                } else {
                    ""
                };
                format!("{sign}{digits}")
            }
            'f' | 'e' | 'g' => {
                let f = to_num(v).ok_or_else(bad)?.f();
                let body = match verb {
                    'f' => format!("{:.*}", precision.unwrap_or(6), f.abs()),
                    'e' => go_exponent(&format!("{:.*e}", precision.unwrap_or(6), f.abs())),
                    _ => fmt_float(f.abs()),
                };
                let sign = if f < 0.0 {
                    "-"
                } else if flags.contains('+') {
                    "+"
                } else {
                    ""
                };
                format!("{sign}{body}")
            }
            other => return Err(error_value(format!("format: unsupported verb %{other}"))),
        };
        if let (Some(p), 's' | 'v') = (precision, verb) {
            text = text.chars().take(p).collect();
        }
        let width: usize = width.parse().unwrap_or(0);
        let len = text.chars().count();
        if len < width {
            let pad = width - len;
            if flags.contains('-') {
                text.push_str(&" ".repeat(pad));
            } else if flags.contains('0') && numeric {
                let (sign, digits) = text.split_at(if text.starts_with(['-', '+']) { 1 } else { 0 });
                text = format!("{sign}{}{digits}", "0".repeat(pad));
            } else {
                text = format!("{}{text}", " ".repeat(pad));
            }
        }
        out.push_str(&text);
    }
    if next < args.len() {
        return Err(error_value(format!("format: too many arguments; only {next} used by the format string")));
    }
    Ok(out)
}

fn formatlist(spec: &str, args: &[Node]) -> Result<Value, Value> {
    let mut len: Option<usize> = None;
    for arg in args {
        if let Value::List(items) = &arg.value {
            match len {
                Some(l) if l != items.len() => return Err(error_value("formatlist: the lists have different lengths")),
                _ => len = Some(items.len()),
            }
        }
    }
    let Some(len) = len else {
        return Ok(Value::List(vec![str_node(&format(spec, args)?)]));
    };
    let mut out = Vec::with_capacity(len);
    for i in 0..len {
        let row: Vec<Node> = args
            .iter()
            .map(|a| match &a.value {
                Value::List(items) => items[i].clone(),
                _ => a.clone(),
            })
            .collect();
        out.push(str_node(&format(spec, &row)?));
    }
    Ok(collect_list(out))
}

fn json_text(v: &Value) -> String {
    let mut out = String::new();
    json_encode(v, &mut out);
    out
}

/// JSON as Terraform's `jsonencode` writes it: compact, keys sorted, `<`, `>`, `&`, U+2028
/// and U+2029 escaped as Go does.
pub fn json_encode(v: &Value, out: &mut String) {
    match v {
        Value::Null | Value::Unknown(_) | Value::Ref { .. } | Value::PartialJson(_) => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&fmt_float(*f)),
        Value::Str(s) => {
            out.push('"');
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
                    c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_encode(&item.value, out);
            }
            out.push(']');
        }
        Value::Map(entries) => {
            let mut sorted: Vec<&(String, Node)> = entries.iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
            out.push('{');
            for (i, (k, item)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_encode(&Value::Str(k.clone()), out);
                out.push(':');
                json_encode(&item.value, out);
            }
            out.push('}');
        }
    }
}

fn from_json(j: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match j {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => num_value(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => Value::Str(s.clone()),
        J::Array(items) => collect_list(items.iter().map(|i| Node::new(from_json(i), None)).collect()),
        J::Object(entries) => collect_map(entries.iter().map(|(k, v)| (k.clone(), Node::new(from_json(v), None))).collect()),
    }
}

/// An address as a number, its prefix length and whether it is IPv6.
fn parse_cidr(s: &str) -> Result<(u128, u32, bool), Value> {
    let bad = || error_value(format!("invalid CIDR prefix {s:?}"));
    let (ip, len) = s.split_once('/').ok_or_else(bad)?;
    let len: u32 = len.parse().map_err(|_| bad())?;
    let (addr, bits, v6) = match ip.parse::<IpAddr>().map_err(|_| bad())? {
        IpAddr::V4(a) => (u32::from(a) as u128, 32, false),
        IpAddr::V6(a) => (u128::from(a), 128, true),
    };
    if len > bits {
        return Err(bad());
    }
    let host_bits = bits - len;
    let network = addr & !(1u128.checked_shl(host_bits).map_or(u128::MAX, |m| m - 1));
    Ok((network, len, v6))
}

fn ip_text(addr: u128, v6: bool) -> String {
    if v6 {
        Ipv6Addr::from(addr).to_string()
    } else {
        Ipv4Addr::from(addr as u32).to_string()
    }
}

fn cidrsubnet(prefix: &str, newbits: i64, netnum: i64) -> Result<Value, Value> {
    let (network, len, v6) = parse_cidr(prefix)?;
    let bits: i64 = if v6 { 128 } else { 32 };
    let new_len = len as i64 + newbits;
    if newbits < 0 || new_len > bits {
        return Err(error_value(format!("cidrsubnet: cannot extend /{len} by {newbits} bits")));
    }
    let limit = 1u128.checked_shl(newbits as u32).unwrap_or(u128::MAX);
    if netnum < 0 || netnum as u128 >= limit {
        return Err(error_value(format!("cidrsubnet: {netnum} does not fit in {newbits} bits")));
    }
    let shift = (bits - new_len) as u32;
    let addr = network | (netnum as u128).checked_shl(shift).unwrap_or(0);
    Ok(Value::Str(format!("{}/{new_len}", ip_text(addr, v6))))
}

fn cidrhost(prefix: &str, hostnum: i64) -> Result<Value, Value> {
    let (network, len, v6) = parse_cidr(prefix)?;
    let host_bits = if v6 { 128 } else { 32 } - len;
    let size = 1u128.checked_shl(host_bits).unwrap_or(u128::MAX);
    let host = if hostnum < 0 { size.checked_sub(hostnum.unsigned_abs() as u128) } else { Some(hostnum as u128) };
    match host {
        Some(h) if h < size => Ok(Value::Str(ip_text(network | h, v6))),
        _ => Err(error_value(format!("cidrhost: host number {hostnum} is out of range for {prefix}"))),
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.as_bytes();
    if !s.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    for (ci, chunk) in s.chunks(4).enumerate() {
        let last = ci == s.len() / 4 - 1;
        let mut n = 0u32;
        let mut pad = 0;
        for (i, &c) in chunk.iter().enumerate() {
            let v = match c {
                b'=' if last && i >= 2 => {
                    pad += 1;
                    0
                }
                _ if pad > 0 => return None,
                _ => B64.iter().position(|&b| b == c)? as u32,
            };
            n = n << 6 | v;
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Some(out)
}

/// Rust writes `1.2345e3`; Go's `%e` (Terraform's `format`) writes `1.2345e+03`: a sign and
/// at least two exponent digits.
fn go_exponent(rust: &str) -> String {
    match rust.split_once('e') {
        Some((mantissa, exponent)) => {
            let (sign, digits) = exponent.strip_prefix('-').map_or(("+", exponent), |d| ("-", d));
            format!("{mantissa}e{sign}{digits:0>2}")
        }
        None => rust.to_string(),
    }
}

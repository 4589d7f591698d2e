//! A function call's arguments, read with Terraform's conversions: a function that needs a
//! string accepts a number or a bool (converted), and rejects anything else with an error
//! value naming the function.

use super::super::ops::{error_value, known, to_num, to_str, type_name, Num};
use crate::model::{Node, Span, Value};
use crate::terraform::sandbox::Sandbox;

/// One call: the function's name, its evaluated arguments, where it is written, and where
/// file functions may read (`None`: nowhere, as in tfvars).
pub struct Call<'a> {
    pub name: &'static str,
    pub args: Vec<Node>,
    pub span: &'a Option<Span>,
    pub sandbox: Option<&'a Sandbox>,
}

impl Call<'_> {
    pub fn arity(&self, min: usize, max: usize) -> Result<(), Value> {
        let got = self.args.len();
        if got >= min && got <= max {
            return Ok(());
        }
        let expected = match (min, max) {
            _ if min == max => format!("{min}"),
            (_, usize::MAX) => format!("at least {min}"),
            _ => format!("{min} to {max}"),
        };
        Err(self.fail(format!("expects {expected} arguments, got {got}")))
    }

    /// An error value naming the function.
    pub fn fail(&self, message: impl std::fmt::Display) -> Value {
        error_value(format!("{}: {message}", self.name))
    }

    /// The `i`th argument's value, `Err` with the unknown when it is unknown or a reference.
    pub fn value(&self, i: usize) -> Result<&Value, Value> {
        known(&self.args[i].value)
    }

    pub fn str(&self, i: usize) -> Result<String, Value> {
        let v = self.value(i)?;
        to_str(v).ok_or_else(|| self.fail(format!("needs a string, not {}", type_name(v))))
    }

    pub fn num(&self, i: usize) -> Result<Num, Value> {
        let v = self.value(i)?;
        to_num(v).ok_or_else(|| self.fail(format!("needs a number, not {}", describe(v))))
    }

    pub fn int(&self, i: usize) -> Result<i64, Value> {
        self.num(i)?.int().ok_or_else(|| self.fail("needs a whole number"))
    }

    pub fn list(&self, i: usize) -> Result<&Vec<Node>, Value> {
        list_in(self, &self.args[i])
    }

    pub fn map(&self, i: usize) -> Result<&Vec<(String, Node)>, Value> {
        match self.value(i)? {
            Value::Map(entries) => Ok(entries),
            other => Err(self.fail(format!("needs a map, not {}", type_name(other)))),
        }
    }

    /// The `i`th argument as a list of strings.
    pub fn strings(&self, i: usize) -> Result<Vec<String>, Value> {
        self.list(i)?.iter().map(|e| self.str_in(e)).collect()
    }

    /// A node inside an argument, as a string.
    pub fn str_in(&self, n: &Node) -> Result<String, Value> {
        let v = known(&n.value)?;
        to_str(v).ok_or_else(|| self.fail(format!("needs strings, not {}", type_name(v))))
    }
}

/// A node of a call that must be a list.
pub fn list_in<'n>(call: &Call, n: &'n Node) -> Result<&'n Vec<Node>, Value> {
    match known(&n.value)? {
        Value::List(items) => Ok(items),
        other => Err(call.fail(format!("needs a list, not {}", type_name(other)))),
    }
}

/// A value for a message: a string quoted, anything else by its type.
pub fn describe(v: &Value) -> String {
    match v {
        Value::Str(s) => format!("{s:?}"),
        other => format!("a {}", type_name(other)),
    }
}

/// A computed value as a function's result.
pub fn computed(v: Value) -> super::R {
    Ok(Node::new(v, None))
}

pub fn str_node(s: &str) -> Node {
    Node::new(Value::Str(s.to_string()), None)
}

pub fn strs(items: Vec<String>) -> Value {
    Value::List(items.into_iter().map(|s| Node::new(Value::Str(s), None)).collect())
}

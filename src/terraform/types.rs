//! Type constraints as Terraform applies them to input variables: a variable's `type`
//! expression parsed as hcl's `typeexpr` parses it, `optional(T, default)` attribute defaults
//! applied, and the value converted to the type as go-cty's `convert` does it.
//!
//! Values here carry no types of their own: a list literal is a tuple, an object literal an
//! object, and the conversion decides what they become from the constraint alone. Unknowns and
//! references pass every conversion unchanged (their type is not known until apply), so a
//! value that is partly computed still gets everything else converted and defaulted.

use super::eval::functions::call_function;
use super::eval::ops::{error_value, known_deep, parse_num, to_str, type_name};
use super::eval::Evaluator;
use crate::model::{Diagnostic, Node, Span, Value};
use hcl_edit::expr::{Expression, FuncCall, Object, ObjectKey};
use hcl_edit::structure::Block;
use std::fmt;

/// A type constraint, or the type a value has as written.
#[derive(Clone, Debug, PartialEq)]
pub enum Type {
    /// `any`: any type at all; inside a collection, any single type.
    Any,
    String,
    Number,
    Bool,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Tuple(Vec<Type>),
    Object(Vec<Attribute>),
}

/// One attribute of an object type.
#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    pub name: String,
    pub ty: Type,
    /// Declared with `optional(...)`: may be left out (it is then null, or `default`).
    pub optional: bool,
    /// The `optional(T, default)` default, converted to `ty`.
    pub default: Option<Node>,
}

impl Attribute {
    fn required(name: &str, ty: Type) -> Self {
        Attribute { name: name.to_string(), ty, optional: false, default: None }
    }
}

impl Type {
    /// Whether `any` appears anywhere in the type.
    fn has_any(&self) -> bool {
        match self {
            Type::Any => true,
            Type::String | Type::Number | Type::Bool => false,
            Type::List(element) | Type::Set(element) | Type::Map(element) => element.has_any(),
            Type::Tuple(elements) => elements.iter().any(Type::has_any),
            Type::Object(attributes) => attributes.iter().any(|a| a.ty.has_any()),
        }
    }

    /// Whether an `optional(T, default)` default appears anywhere in the type.
    fn has_defaults(&self) -> bool {
        match self {
            Type::Any | Type::String | Type::Number | Type::Bool => false,
            Type::List(element) | Type::Set(element) | Type::Map(element) => element.has_defaults(),
            Type::Tuple(elements) => elements.iter().any(Type::has_defaults),
            Type::Object(attributes) => attributes.iter().any(|a| a.default.is_some() || a.ty.has_defaults()),
        }
    }

    fn is_primitive(&self) -> bool {
        matches!(self, Type::String | Type::Number | Type::Bool)
    }

    fn attribute(&self, name: &str) -> Option<&Attribute> {
        match self {
            Type::Object(attributes) => attributes.iter().find(|a| a.name == name),
            _ => None,
        }
    }
}

/// Names as Terraform's messages write them (`list of string`).
impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Any => write!(f, "any single type"),
            Type::String => write!(f, "string"),
            Type::Number => write!(f, "number"),
            Type::Bool => write!(f, "bool"),
            Type::List(element) => write!(f, "list of {element}"),
            Type::Set(element) => write!(f, "set of {element}"),
            Type::Map(element) => write!(f, "map of {element}"),
            Type::Tuple(_) => write!(f, "tuple"),
            Type::Object(_) => write!(f, "object"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing

/// A type expression Terraform rejects, with where.
#[derive(Debug, PartialEq)]
pub struct TypeError {
    pub span: Option<Span>,
    pub message: String,
}

/// A variable's `type` expression as Terraform reads it: hcl's type constraint syntax, plus the
/// bare keywords `list` and `map` (Terraform's own shorthands for `list(any)` and `map(any)`).
/// `optional(T, default)` defaults are evaluated with `evaluator`. Any error makes the whole
/// constraint invalid, as in Terraform.
pub fn parse(expr: &Expression, evaluator: &Evaluator) -> Result<Type, Vec<TypeError>> {
    let mut parser = Parser { evaluator, errors: Vec::new() };
    let ty = match expr {
        Expression::Variable(keyword) if keyword.as_str() == "list" => Type::List(Box::new(Type::Any)),
        Expression::Variable(keyword) if keyword.as_str() == "map" => Type::Map(Box::new(Type::Any)),
        Expression::String(quoted) => {
            parser.fail(expr, format!("type constraints are not quoted since Terraform 0.12: remove the quotes around {:?}", quoted.as_str()))
        }
        _ => parser.ty(expr),
    };
    match parser.errors.is_empty() {
        true => Ok(ty),
        false => Err(parser.errors),
    }
}

struct Parser<'e, 'a> {
    evaluator: &'e Evaluator<'a>,
    errors: Vec<TypeError>,
}

impl Parser<'_, '_> {
    /// Records an error at `at` and stands in `any` for the part that failed.
    fn fail(&mut self, at: &dyn hcl_edit::Span, message: impl Into<String>) -> Type {
        let span = at.span().map(|range| self.evaluator.lines.span(&self.evaluator.file, range));
        self.errors.push(TypeError { span, message: message.into() });
        Type::Any
    }

    fn ty(&mut self, expr: &Expression) -> Type {
        match expr {
            Expression::Variable(keyword) => self.keyword(keyword.as_str(), expr),
            Expression::FuncCall(call) if !call.args.expand_final() => self.call(call, expr),
            _ => self.fail(
                expr,
                "a type specification is either a primitive type keyword (bool, number, string) or a complex type constructor call, like list(string)",
            ),
        }
    }

    fn keyword(&mut self, keyword: &str, expr: &Expression) -> Type {
        match keyword {
            "bool" => Type::Bool,
            "string" => Type::String,
            "number" => Type::Number,
            "any" => Type::Any,
            "list" | "set" | "map" | "object" | "tuple" => self.fail(expr, constructor_arguments(keyword)),
            _ => self.fail(expr, format!("the keyword {keyword:?} is not a valid type specification")),
        }
    }

    fn call(&mut self, call: &FuncCall, expr: &Expression) -> Type {
        let name = call.name.name.as_str();
        let args: Vec<&Expression> = call.args.iter().collect();
        match (name, args.as_slice()) {
            _ if call.name.is_namespaced() => self.fail(expr, "a namespaced function is not a valid type constructor"),
            ("bool" | "string" | "number", _) => self.fail(expr, format!("primitive type keyword {name:?} does not expect arguments")),
            ("any", _) => self.fail(expr, "type constraint keyword \"any\" does not expect arguments"),
            ("list", [element]) => Type::List(Box::new(self.ty(element))),
            ("set", [element]) => Type::Set(Box::new(self.ty(element))),
            ("map", [element]) => Type::Map(Box::new(self.ty(element))),
            ("object", [Expression::Object(attributes)]) => self.object(attributes),
            ("object", [other]) => self.fail(
                *other,
                "the object type constructor requires a map whose keys are attribute names and whose values are the corresponding attribute types",
            ),
            ("tuple", [Expression::Array(elements)]) => Type::Tuple(elements.iter().map(|e| self.ty(e)).collect()),
            ("tuple", [other]) => self.fail(*other, "the tuple type constructor requires a list of element types"),
            ("list" | "set" | "map" | "object" | "tuple", _) => self.fail(expr, constructor_arguments(name)),
            ("optional", _) => self.fail(expr, "the keyword \"optional\" is valid only as a modifier for object type attributes"),
            _ => self.fail(expr, format!("the keyword {name:?} is not a valid type constructor")),
        }
    }

    fn object(&mut self, attributes: &Object) -> Type {
        let mut out: Vec<Attribute> = Vec::new();
        for (key, value) in attributes.iter() {
            let Some(name) = attribute_name(key) else {
                self.fail(key, "object type attribute names must be bare names");
                continue;
            };
            if let Some(attribute) = self.attribute(name, value.expr()) {
                // A name given twice: the last one counts, as in hcl.
                out.retain(|a| a.name != attribute.name);
                out.push(attribute);
            }
        }
        Type::Object(out)
    }

    /// `name = T`, `name = optional(T)` or `name = optional(T, default)`.
    fn attribute(&mut self, name: &str, expr: &Expression) -> Option<Attribute> {
        let call = match expr {
            Expression::FuncCall(call) if call.name.name.as_str() == "optional" && !call.name.is_namespaced() => call,
            _ => return Some(Attribute::required(name, self.ty(expr))),
        };
        let args: Vec<&Expression> = call.args.iter().collect();
        let (ty, default) = match args.as_slice() {
            [ty] => (self.ty(ty), None),
            [ty, default] => {
                let ty = self.ty(ty);
                let default = self.optional_default(default, &ty);
                (ty, default)
            }
            [] => {
                self.fail(expr, "the optional attribute modifier requires the attribute type as its argument");
                return None;
            }
            _ => {
                self.fail(expr, "the optional attribute modifier expects at most two arguments: the attribute type, and a default value");
                return None;
            }
        };
        Some(Attribute { name: name.to_string(), ty, optional: true, default })
    }

    /// The default of `optional(T, default)`, converted to `T` (its own nested defaults are
    /// applied where it is used, as Terraform does).
    fn optional_default(&mut self, expr: &Expression, ty: &Type) -> Option<Node> {
        let value = self.evaluator.eval(expr);
        if let Err(Value::Unknown(reason)) = known_deep(&value) {
            self.fail(expr, format!("the default value of an optional attribute must be a literal value ({reason})"));
            return None;
        }
        match try_convert(value, ty) {
            Ok(value) => Some(value),
            Err(mismatch) => {
                self.fail(expr, format!("this default value is not compatible with the attribute's type constraint: {mismatch}"));
                None
            }
        }
    }
}

fn constructor_arguments(name: &str) -> &'static str {
    match name {
        "object" => "the object type constructor requires one argument specifying the attribute types and values as a map",
        "tuple" => "the tuple type constructor requires one argument specifying the element types as a list",
        _ => "the list, set and map type constructors require one argument specifying the element type",
    }
}

fn attribute_name(key: &ObjectKey) -> Option<&str> {
    match key {
        ObjectKey::Ident(ident) => Some(ident.as_str()),
        ObjectKey::Expression(Expression::Variable(ident)) => Some(ident.as_str()),
        ObjectKey::Expression(_) => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Optional attribute defaults

/// Fills in `optional(T, default)` defaults wherever an object attribute of the type is missing
/// or null, at any depth (in lists, sets, maps and tuples of objects too), and inside the
/// defaults themselves. Runs before conversion, as in Terraform, and never fails: what does not
/// fit the type is left for the conversion to reject.
pub fn apply_defaults(node: &mut Node, ty: &Type) {
    match (&mut node.value, ty) {
        (Value::List(items), Type::List(element) | Type::Set(element)) => items.iter_mut().for_each(|item| apply_defaults(item, element)),
        (Value::List(items), Type::Tuple(elements)) => items.iter_mut().zip(elements).for_each(|(item, ty)| apply_defaults(item, ty)),
        (Value::Map(entries), Type::Map(element)) => entries.iter_mut().for_each(|(_, value)| apply_defaults(value, element)),
        (Value::Map(entries), Type::Object(attributes)) => apply_attribute_defaults(entries, attributes),
        _ => {}
    }
}

fn apply_attribute_defaults(entries: &mut Vec<(String, Node)>, attributes: &[Attribute]) {
    for (name, value) in entries.iter_mut() {
        if let Some(attribute) = attributes.iter().find(|a| a.name == *name) {
            apply_defaults(value, &attribute.ty);
        }
    }
    for attribute in attributes {
        let Some(default) = &attribute.default else { continue };
        let mut default = default.clone();
        apply_defaults(&mut default, &attribute.ty);
        match entries.iter_mut().find(|(name, _)| *name == attribute.name) {
            Some((_, value)) if value.value == Value::Null => *value = default,
            Some(_) => {}
            None => entries.push((attribute.name.clone(), default)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Conversion

/// Why a value does not convert, and where in it.
#[derive(Debug, PartialEq)]
pub struct Mismatch {
    /// Steps from the converted value to the offending part, innermost first.
    steps: Vec<Step>,
    message: String,
    /// Where the offending part (or the nearest enclosing one) is written.
    pub span: Option<Span>,
}

#[derive(Debug, PartialEq)]
enum Step {
    Attribute(String),
    Index(usize),
    Key(String),
}

impl Mismatch {
    fn new(message: impl Into<String>, span: &Option<Span>) -> Self {
        Mismatch { steps: Vec::new(), message: message.into(), span: span.clone() }
    }

    /// The same mismatch seen from the enclosing value.
    fn within(mut self, step: Step, span: &Option<Span>) -> Self {
        self.steps.push(step);
        if self.span.is_none() {
            self.span = span.clone();
        }
        self
    }

    /// Where the mismatch is, as a suffix to the value's address: `["logs"].lifecycle.days`.
    pub fn path(&self) -> String {
        self.steps
            .iter()
            .rev()
            .map(|step| match step {
                Step::Attribute(name) => format!(".{name}"),
                Step::Index(index) => format!("[{index}]"),
                Step::Key(key) => format!("[{key:?}]"),
            })
            .collect()
    }
}

/// `.a.b[1]: a number is required`, as Terraform words conversion errors.
impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.steps.is_empty() {
            true => write!(f, "{}", self.message),
            false => write!(f, "{}: {}", self.path(), self.message),
        }
    }
}

/// The value converted to the type as Terraform converts it; what cannot be converted becomes
/// an error value (see [`super::eval::ops`]) saying where and why, with the value's span.
pub fn convert(node: Node, ty: &Type) -> Node {
    let span = node.span.clone();
    try_convert(node, ty).unwrap_or_else(|mismatch| Node::new(error_value(mismatch), span))
}

/// [`convert`], or why not. Converted parts keep the spans of the parts they came from.
pub fn try_convert(node: Node, ty: &Type) -> Result<Node, Mismatch> {
    let Node { value, span } = node;
    let value = match (value, ty) {
        (value, Type::Any) => value,
        (value @ (Value::Null | Value::Unknown(_) | Value::Ref { .. }), _) => value,
        (value, Type::String | Type::Number | Type::Bool) => primitive(value, ty, &span)?,
        (Value::List(items), Type::List(element)) => Value::List(converted_elements(items, element, "list", &span, Step::Index)?),
        (Value::List(items), Type::Set(element)) => set(items, element, &span)?,
        (Value::List(items), Type::Tuple(elements)) => tuple(items, elements, &span)?,
        (Value::Map(entries), Type::Map(element)) => Value::Map(map(entries, element, &span)?),
        (Value::Map(entries), Type::Object(attributes)) => Value::Map(object(entries, attributes, &span)?),
        (_, ty) => return Err(Mismatch::new(format!("{ty} required"), &span)),
    };
    Ok(Node::new(value, span))
}

fn primitive(value: Value, ty: &Type, span: &Option<Span>) -> Result<Value, Mismatch> {
    let converted = match (&value, ty) {
        (Value::Str(_), Type::String) | (Value::Int(_) | Value::Float(_), Type::Number) | (Value::Bool(_), Type::Bool) => return Ok(value),
        (Value::Int(_) | Value::Float(_) | Value::Bool(_), Type::String) => to_str(&value).map(Value::Str),
        (Value::Str(text), Type::Number) => Some(parse_num(text).ok_or_else(|| Mismatch::new("a number is required", span))?.value()),
        (Value::Str(text), Type::Bool) => Some(Value::Bool(string_to_bool(text).map_err(|message| Mismatch::new(message, span))?)),
        _ => None,
    };
    converted.ok_or_else(|| Mismatch::new(format!("{ty} required, but have {}", value_type_name(&value)), span))
}

/// go-cty's string to bool conversion, with its hint for capitalised spellings.
fn string_to_bool(text: &str) -> Result<bool, String> {
    match text {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ if text.eq_ignore_ascii_case("true") || text.eq_ignore_ascii_case("false") => {
            Err(format!("a bool is required; to convert from string, use lowercase \"{}\"", text.to_ascii_lowercase()))
        }
        _ => Err("a bool is required".to_string()),
    }
}

/// The name of the type a value has as written (a list literal is a tuple).
fn value_type_name(value: &Value) -> &'static str {
    match value {
        Value::List(_) => "tuple",
        Value::Map(_) => "object",
        other => type_name(other),
    }
}

fn tuple(items: Vec<Node>, elements: &[Type], span: &Option<Span>) -> Result<Value, Mismatch> {
    if items.len() != elements.len() {
        return Err(Mismatch::new(format!("a tuple of {} elements is required, but have {}", elements.len(), items.len()), span));
    }
    let converted = items.into_iter().zip(elements).enumerate().map(|(index, (item, ty))| {
        let item_span = item.span.clone();
        try_convert(item, ty).map_err(|m| m.within(Step::Index(index), &item_span))
    });
    Ok(Value::List(converted.collect::<Result<_, _>>()?))
}

fn set(items: Vec<Node>, element: &Type, span: &Option<Span>) -> Result<Value, Mismatch> {
    let mut items = converted_elements(items, element, "set", span, Step::Index)?;
    if !element.is_primitive() {
        order_as_cty(&mut items, element);
    }
    Ok(call_function("toset", vec![Node::new(Value::List(items), span.clone())], span, None).value)
}

fn map(entries: Vec<(String, Node)>, element: &Type, span: &Option<Span>) -> Result<Vec<(String, Node)>, Mismatch> {
    let (keys, values): (Vec<String>, Vec<Node>) = entries.into_iter().unzip();
    let values = converted_elements(values, element, "map", span, |index| Step::Key(keys[index].clone()))?;
    Ok(keys.into_iter().zip(values).collect())
}

/// The elements of a list, set or map converted to the element type. Where that type holds
/// `any`, the elements are first unified to one type, as Terraform does: `["a", 1]` as a
/// `list(any)` is `["a", "1"]`.
fn converted_elements(items: Vec<Node>, element: &Type, kind: &str, span: &Option<Span>, step: impl Fn(usize) -> Step) -> Result<Vec<Node>, Mismatch> {
    let element = match element {
        Type::Any if !items.is_empty() => {
            unify(&types_of(&items)).ok_or_else(|| Mismatch::new(format!("all {kind} elements must have the same type"), span))?
        }
        other => other.clone(),
    };
    let converted = convert_each(items, &element, &step)?;
    if !element.has_any() || converted.is_empty() {
        return Ok(converted);
    }
    // `any` inside the element type: what each element became must still be one type.
    let unified = unify(&types_of(&converted)).ok_or_else(|| Mismatch::new(format!("the {kind} elements cannot be unified to one type"), span))?;
    convert_each(converted, &unified, &step)
}

fn convert_each(items: Vec<Node>, ty: &Type, step: &impl Fn(usize) -> Step) -> Result<Vec<Node>, Mismatch> {
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            let span = item.span.clone();
            try_convert(item, ty).map_err(|m| m.within(step(index), &span))
        })
        .collect()
}

/// An object value converted to an object type: attributes the type lacks are dropped,
/// optional ones that are missing become null, and missing required ones are an error.
fn object(entries: Vec<(String, Node)>, attributes: &[Attribute], span: &Option<Span>) -> Result<Vec<(String, Node)>, Mismatch> {
    let missing: Vec<&str> = attributes.iter().filter(|a| !a.optional && !entries.iter().any(|(name, _)| *name == a.name)).map(|a| a.name.as_str()).collect();
    if !missing.is_empty() {
        return Err(Mismatch::new(missing_attributes(missing), span));
    }
    let mut out = Vec::with_capacity(attributes.len());
    for (name, value) in entries {
        let Some(attribute) = attributes.iter().find(|a| a.name == name) else { continue };
        let value_span = value.span.clone();
        let value = try_convert(value, &attribute.ty).map_err(|m| m.within(Step::Attribute(name.clone()), &value_span))?;
        out.push((name, value));
    }
    for attribute in attributes {
        if !out.iter().any(|(name, _)| *name == attribute.name) {
            out.push((attribute.name.clone(), Node::new(Value::Null, span.clone())));
        }
    }
    Ok(out)
}

/// `attribute "a" is required`, `attributes "a", "b", and "c" are required`, names sorted.
fn missing_attributes(mut names: Vec<&str>) -> String {
    names.sort_unstable();
    let quoted: Vec<String> = names.iter().map(|name| format!("{name:?}")).collect();
    match quoted.as_slice() {
        [one] => format!("attribute {one} is required"),
        [first, second] => format!("attributes {first} and {second} are required"),
        [init @ .., last] => format!("attributes {}, and {last} are required", init.join(", ")),
        [] => String::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Unification: the one type a `list(any)`'s (or `map(any)`'s, `set(any)`'s) elements take

fn types_of(items: &[Node]) -> Vec<Type> {
    items.iter().map(type_of).collect()
}

/// The type of a value as written. Null and unknowns have no type of their own; nor does a
/// reference, whose type is known only after apply, so it never decides or blocks unification.
fn type_of(node: &Node) -> Type {
    match &node.value {
        Value::Null | Value::Unknown(_) | Value::Ref { .. } => Type::Any,
        Value::Bool(_) => Type::Bool,
        Value::Int(_) | Value::Float(_) => Type::Number,
        Value::Str(_) => Type::String,
        Value::List(items) => Type::Tuple(types_of(items)),
        Value::Map(entries) => Type::Object(entries.iter().map(|(name, value)| Attribute::required(name, type_of(value))).collect()),
    }
}

/// go-cty's unification: the one type all the given types convert to, if there is one.
/// Primitives unify to string when there is one (else they must agree); objects with the same
/// attributes unify attribute by attribute, others to a map; tuples of one length element by
/// element, others to a list.
fn unify(types: &[Type]) -> Option<Type> {
    let known: Vec<&Type> = types.iter().filter(|t| **t != Type::Any).collect();
    match known.first() {
        None => Some(Type::Any),
        Some(Type::Object(_)) if known.iter().all(|t| matches!(t, Type::Object(_))) => unify_objects(&known),
        Some(Type::Tuple(_)) if known.iter().all(|t| matches!(t, Type::Tuple(_))) => unify_tuples(&known),
        Some(first) if known.iter().all(|t| t.is_primitive()) => match known.contains(&&Type::String) {
            true => Some(Type::String),
            false => known.iter().all(|t| t == first).then(|| (*first).clone()),
        },
        Some(_) => None,
    }
}

fn unify_objects(objects: &[&Type]) -> Option<Type> {
    let first = attributes_of(objects[0]);
    let same_names =
        objects.iter().map(|o| attributes_of(o)).all(|these| these.len() == first.len() && these.iter().all(|a| objects[0].attribute(&a.name).is_some()));
    if !same_names {
        let all: Vec<Type> = objects.iter().flat_map(|o| attributes_of(o)).map(|a| a.ty.clone()).collect();
        return Some(Type::Map(Box::new(unify(&all)?)));
    }
    let unified = first.iter().map(|a| {
        let across: Vec<Type> = objects.iter().filter_map(|o| o.attribute(&a.name)).map(|b| b.ty.clone()).collect();
        Some(Attribute::required(&a.name, unify(&across)?))
    });
    Some(Type::Object(unified.collect::<Option<_>>()?))
}

fn unify_tuples(tuples: &[&Type]) -> Option<Type> {
    let length = elements_of(tuples[0]).len();
    if tuples.iter().any(|t| elements_of(t).len() != length) {
        let all: Vec<Type> = tuples.iter().flat_map(|t| elements_of(t)).cloned().collect();
        return Some(Type::List(Box::new(unify(&all)?)));
    }
    let unified = (0..length).map(|index| unify(&tuples.iter().map(|t| elements_of(t)[index].clone()).collect::<Vec<_>>()));
    Some(Type::Tuple(unified.collect::<Option<_>>()?))
}

fn attributes_of(ty: &Type) -> &[Attribute] {
    match ty {
        Type::Object(attributes) => attributes,
        _ => &[],
    }
}

fn elements_of(ty: &Type) -> &[Type] {
    match ty {
        Type::Tuple(elements) => elements,
        _ => &[],
    }
}

// ---------------------------------------------------------------------------------------------
// Set order

/// Orders set elements that have no natural order (objects, collections) as go-cty does: known
/// values by their hash serialization, then unknowns, then null. (`toset` orders primitives
/// and removes duplicates; it keeps the order of everything else.)
fn order_as_cty(items: &mut [Node], element: &Type) {
    items.sort_by_cached_key(|item| {
        let class = match item.value {
            Value::Null => 2,
            Value::Unknown(_) | Value::Ref { .. } => 1,
            _ => 0,
        };
        let mut text = String::new();
        hash_text(item, element, &mut text);
        (class, text)
    });
}

/// go-cty's set hash serialization of a value of the type (`<...>` for objects and tuples,
/// `{...}` for maps, `[...]` for lists and sets). Strings are quoted by Rust's rules, which
/// differ from Go's only for control characters.
fn hash_text(node: &Node, ty: &Type, out: &mut String) {
    match &node.value {
        Value::Unknown(_) | Value::Ref { .. } => out.push('?'),
        Value::Null => out.push('~'),
        Value::Bool(b) => out.push(if *b { 'T' } else { 'F' }),
        Value::Int(i) => out.push_str(&go_number(*i as f64)),
        Value::Float(f) => out.push_str(&go_number(*f)),
        Value::Str(s) => out.push_str(&format!("{s:?}")),
        Value::List(items) => {
            let (open, close) = if matches!(ty, Type::List(_) | Type::Set(_)) { ('[', ']') } else { ('<', '>') };
            out.push(open);
            for (index, item) in items.iter().enumerate() {
                hash_text(item, element_type(ty, index), out);
                out.push(';');
            }
            out.push(close);
        }
        Value::Map(entries) => hash_map_text(entries, ty, out),
    }
}

fn hash_map_text(entries: &[(String, Node)], ty: &Type, out: &mut String) {
    let mut sorted: Vec<&(String, Node)> = entries.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let is_map = matches!(ty, Type::Map(_));
    out.push(if is_map { '{' } else { '<' });
    for (name, value) in sorted {
        if is_map {
            out.push_str(&format!("{name:?}:"));
        }
        hash_text(value, ty.attribute(name).map_or(element_type(ty, 0), |a| &a.ty), out);
        out.push(';');
    }
    out.push(if is_map { '}' } else { '>' });
}

fn element_type(ty: &Type, index: usize) -> &Type {
    match ty {
        Type::List(element) | Type::Set(element) | Type::Map(element) => element,
        Type::Tuple(elements) => elements.get(index).unwrap_or(&Type::Any),
        _ => &Type::Any,
    }
}

/// A number as go-cty writes it into a set hash: Go's `%g` with 10 significant digits.
fn go_number(f: f64) -> String {
    if f == 0.0 {
        return "0".into();
    }
    let scientific = format!("{:.9e}", f.abs());
    let (mantissa, exponent) = scientific.split_once('e').expect("{:e} writes an exponent");
    let exponent: i32 = exponent.parse().expect("a decimal exponent");
    let digits = mantissa.replace('.', "");
    let digits = digits.trim_end_matches('0');
    let sign = if f < 0.0 { "-" } else { "" };
    let point = exponent + 1; // digits before the decimal point
    let exponent_limit = if digits.len() < 10 && digits.len() as i32 >= point { digits.len() as i32 } else { 10 };
    if exponent < -4 || exponent >= exponent_limit {
        let (first, rest) = digits.split_at(1);
        let fraction = if rest.is_empty() { String::new() } else { format!(".{rest}") };
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        return format!("{sign}{first}{fraction}e{exponent_sign}{:02}", exponent.abs());
    }
    let decimals = (digits.len() as i32 - point).max(0) as usize;
    format!("{sign}{:.decimals$}", f.abs())
}

// ---------------------------------------------------------------------------------------------
// Variables

/// A `variable` block as the conversion of its value needs it.
pub struct Declaration {
    /// `var.name`, after the module's address prefix: for messages.
    pub address: String,
    pub ty: Type,
    /// `nullable = false` makes a null value mean the default.
    pub nullable: bool,
    /// The declared default, its optional attribute defaults applied, converted to `ty`.
    pub default: Option<Node>,
    /// The whole block, for messages that have no value to point at.
    pub span: Span,
}

impl Declaration {
    /// Reads the block's `type`, `nullable` and `default`. A type Terraform rejects is an error
    /// diagnostic and the variable takes any value; so is a default that does not fit it.
    pub fn new(address: String, block: &Block, evaluator: &Evaluator, span: Span, diagnostics: &mut Vec<Diagnostic>) -> Self {
        let body = &block.body;
        let ty = body.get_attribute("type").map_or(Type::Any, |attr| {
            parse(&attr.value, evaluator).unwrap_or_else(|errors| {
                for error in errors {
                    let at = error.span.unwrap_or_else(|| span.clone());
                    diagnostics.push(Diagnostic::error(at.file.to_string(), Some(at), format!("invalid type constraint for {address}: {}", error.message)));
                }
                Type::Any
            })
        });
        let nullable = body.get_attribute("nullable").is_none_or(|attr| evaluator.eval(&attr.value).value != Value::Bool(false));
        let mut declaration = Declaration { address, ty, nullable, default: None, span };
        declaration.default = body.get_attribute("default").map(|attr| declaration.typed_default(evaluator.eval(&attr.value), diagnostics));
        declaration
    }

    fn typed_default(&self, default: Node, diagnostics: &mut Vec<Diagnostic>) -> Node {
        if default.value == Value::Null && !self.nullable {
            let message = format!("invalid default for {}: a null default value is not valid when nullable = false", self.address);
            return self.error(default.span, message, diagnostics);
        }
        self.typed(default, "invalid default for", diagnostics)
    }

    /// The variable's value as Terraform sets it from `given` (tfvars or a module argument), or
    /// else the default: defaults of optional attributes applied, converted to the type, and null
    /// replaced by the default when the variable is not nullable. `None` when neither a value nor
    /// a default is there. What Terraform would reject is an error value and an error diagnostic
    /// at the offending part of the value.
    pub fn value(&self, given: Option<&Node>, diagnostics: &mut Vec<Diagnostic>) -> Option<Node> {
        let value = match given {
            Some(given) => self.typed(given.clone(), "unsuitable value for", diagnostics),
            None => self.default.clone()?,
        };
        if value.value != Value::Null || self.nullable {
            return Some(value);
        }
        Some(self.default.clone().unwrap_or_else(|| {
            let message = format!("unsuitable value for {}: it may not be null (nullable = false) and has no default", self.address);
            self.error(value.span, message, diagnostics)
        }))
    }

    /// Defaults applied and converted; a mismatch is reported as `{what} var.x.path: why`.
    fn typed(&self, mut node: Node, what: &str, diagnostics: &mut Vec<Diagnostic>) -> Node {
        if node.value != Value::Null && self.ty.has_defaults() {
            apply_defaults(&mut node, &self.ty);
        }
        let span = node.span.clone();
        try_convert(node, &self.ty).unwrap_or_else(|mismatch| {
            let message = format!("{what} {}{}: {}", self.address, mismatch.path(), mismatch.message);
            self.error(mismatch.span.or(span), message, diagnostics)
        })
    }

    /// An error value with `message`, reported as a diagnostic at `at` (else the block).
    fn error(&self, at: Option<Span>, message: String, diagnostics: &mut Vec<Diagnostic>) -> Node {
        let at = at.unwrap_or_else(|| self.span.clone());
        diagnostics.push(Diagnostic::error(at.file.to_string(), Some(at.clone()), message.clone()));
        Node::new(error_value(message), Some(at))
    }
}

//! Type constraints as Terraform applies them to input variables: a variable's `type`
//! expression parsed as hcl's `typeexpr` parses it, `optional(T, default)` attribute defaults
//! applied, and the value converted to the type as go-cty's `convert` does it.
//!
//! Values here carry no types of their own: a list literal is a tuple, an object literal an
//! object, and the conversion decides what they become from the constraint alone. Unknowns and
//! references pass every conversion unchanged (their type is not known until apply), so a
//! value that is partly computed still gets everything else converted and defaulted.

use super::eval::functions::to_set;
use super::eval::ops::{error_value, known_deep, parse_num, to_str, type_name};
use super::eval::Evaluator;
use crate::model::{Diagnostic, Node, Span, Value};
use hcl_edit::expr::{Expression, FuncCall, Object, ObjectKey};
use hcl_edit::structure::Block;
use hcl_edit::visit::Visit;
use hcl_edit::Span as _;
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
    match expr {
        // Terraform's JSON syntax writes the type expression as a string: "list(string)".
        Expression::String(text) if evaluator.file.ends_with(".tf.json") => {
            let span = expr.span().map(|range| evaluator.lines.span(&evaluator.file, range));
            match text.parse::<Expression>() {
                Ok(inner) => Parser { evaluator, errors: Vec::new(), written_at: Some(span) }.constraint(&inner),
                Err(_) => Err(vec![TypeError { span, message: format!("{:?} is not a type expression", text.as_str()) }]),
            }
        }
        _ => Parser { evaluator, errors: Vec::new(), written_at: None }.constraint(expr),
    }
}

struct Parser<'e, 'a> {
    evaluator: &'e Evaluator<'a>,
    errors: Vec<TypeError>,
    /// Where the whole expression is, when positions inside it are unknown (a JSON string).
    written_at: Option<Option<Span>>,
}

impl Parser<'_, '_> {
    fn constraint(mut self, expr: &Expression) -> Result<Type, Vec<TypeError>> {
        let ty = match expr {
            Expression::Variable(keyword) if keyword.as_str() == "list" => Type::List(Box::new(Type::Any)),
            Expression::Variable(keyword) if keyword.as_str() == "map" => Type::Map(Box::new(Type::Any)),
            Expression::String(quoted) => {
                self.fail(expr, format!("type constraints are not quoted since Terraform 0.12: remove the quotes around {:?}", quoted.as_str()))
            }
            _ => self.ty(expr),
        };
        match self.errors.is_empty() {
            true => Ok(ty),
            false => Err(self.errors),
        }
    }

    fn span(&self, at: &dyn hcl_edit::Span) -> Option<Span> {
        match &self.written_at {
            Some(span) => span.clone(),
            None => at.span().map(|range| self.evaluator.lines.span(&self.evaluator.file, range)),
        }
    }

    /// Records an error at `at` and stands in `any` for the part that failed.
    fn fail(&mut self, at: &dyn hcl_edit::Span, message: impl Into<String>) -> Type {
        let span = self.span(at);
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
        if calls_or_refers(expr) {
            self.fail(expr, "the default value of an optional attribute may not call functions or refer to anything");
            return None;
        }
        let mut value = self.evaluator.eval(expr);
        if let Some(span) = &self.written_at {
            place_at(&mut value, span);
        }
        if let Err(Value::Unknown(reason)) = known_deep(&value) {
            self.fail(expr, format!("the default value of an optional attribute cannot be evaluated: {reason}"));
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

/// Whether the expression calls a function or names anything: Terraform evaluates a default
/// with neither functions nor names in scope.
fn calls_or_refers(expr: &Expression) -> bool {
    struct Finder(bool);
    impl Visit for Finder {
        fn visit_expr(&mut self, expr: &Expression) {
            match expr {
                Expression::FuncCall(_) | Expression::Variable(_) => self.0 = true,
                _ => hcl_edit::visit::visit_expr(self, expr),
            }
        }
    }
    let mut finder = Finder(false);
    finder.visit_expr(expr);
    finder.0
}

/// The node and everything in it said to be written at `span`.
fn place_at(node: &mut Node, span: &Option<Span>) {
    node.span = span.clone();
    match &mut node.value {
        Value::List(items) => items.iter_mut().for_each(|item| place_at(item, span)),
        Value::Map(entries) => entries.iter_mut().for_each(|(_, value)| place_at(value, span)),
        _ => {}
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
    /// Where the offending part is written, when that is known.
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
    fn within(mut self, step: Step) -> Self {
        self.steps.push(step);
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
        (value @ (Value::PartialJson(_) | Value::PartialStr(_)), Type::String) => value,
        // JSON text known in part: as a number or bool, as unknown as its text.
        (value @ (Value::PartialJson(_) | Value::PartialStr(_)), Type::Number | Type::Bool) => super::eval::ops::known(&value).err().unwrap_or(value),
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
    let converted = items.into_iter().zip(elements).enumerate().map(|(index, (item, ty))| try_convert(item, ty).map_err(|m| m.within(Step::Index(index))));
    Ok(Value::List(converted.collect::<Result<_, _>>()?))
}

fn set(items: Vec<Node>, element: &Type, span: &Option<Span>) -> Result<Value, Mismatch> {
    let mut items = converted_elements(items, element, "set", span, Step::Index)?;
    if !element.is_primitive() {
        order_as_cty(&mut items, element);
    }
    Ok(Value::List(to_set(items)))
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
    items.into_iter().enumerate().map(|(index, item)| try_convert(item, ty).map_err(|m| m.within(step(index)))).collect()
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
        let value = try_convert(value, &attribute.ty).map_err(|m| m.within(Step::Attribute(name.clone())))?;
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
        // JSON text known in part is still text.
        Value::PartialJson(_) | Value::PartialStr(_) => Type::String,
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
            Value::Unknown(_) | Value::Ref { .. } | Value::PartialJson(_) | Value::PartialStr(_) => 1,
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
        Value::Unknown(_) | Value::Ref { .. } | Value::PartialJson(_) | Value::PartialStr(_) => out.push('?'),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LineIndex;
    use crate::terraform::eval::{Key, Scope};
    use std::sync::Arc;

    /// No names resolve: type constraints and their defaults are literals.
    struct NoNames;

    impl Scope for NoNames {
        fn resolve(&self, _: &str, _: &[Key], _: &Span) -> Option<(Node, usize)> {
            None
        }
    }

    /// `f(evaluator, expression)` for HCL source text in `main.tf`.
    fn with_expression<T>(text: &str, f: impl FnOnce(&Evaluator, &Expression) -> T) -> T {
        in_file("main.tf", text, f)
    }

    fn in_file<T>(file: &str, text: &str, f: impl FnOnce(&Evaluator, &Expression) -> T) -> T {
        let expr: Expression = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
        let lines = LineIndex::new(text);
        f(&Evaluator { file: Arc::from(file), lines: &lines, scope: &NoNames }, &expr)
    }

    fn ty(text: &str) -> Type {
        with_expression(text, |evaluator, expr| parse(expr, evaluator)).unwrap_or_else(|e| panic!("{text}: {e:?}"))
    }

    fn type_errors(text: &str) -> Vec<String> {
        match with_expression(text, |evaluator, expr| parse(expr, evaluator)) {
            Ok(ty) => panic!("{text} parsed as {ty:?}"),
            Err(errors) => errors.into_iter().map(|e| e.message).collect(),
        }
    }

    fn value(text: &str) -> Node {
        with_expression(text, |evaluator, expr| evaluator.eval(expr))
    }

    /// The JSON of `value` converted to `ty`, defaults applied first as for variables.
    fn converted(value_text: &str, type_text: &str) -> String {
        let ty = ty(type_text);
        let mut node = value(value_text);
        apply_defaults(&mut node, &ty);
        convert(node, &ty).to_json().to_string()
    }

    /// Why `value` does not convert to `ty`.
    fn mismatch(value_text: &str, type_text: &str) -> String {
        let ty = ty(type_text);
        let mut node = value(value_text);
        apply_defaults(&mut node, &ty);
        try_convert(node, &ty).expect_err(value_text).to_string()
    }

    fn boxed(ty: Type) -> Box<Type> {
        Box::new(ty)
    }

    #[test]
    fn every_constraint_form_parses() {
        assert_eq!(ty("string"), Type::String);
        assert_eq!(ty("number"), Type::Number);
        assert_eq!(ty("bool"), Type::Bool);
        assert_eq!(ty("any"), Type::Any);
        assert_eq!(ty("list(string)"), Type::List(boxed(Type::String)));
        assert_eq!(ty("set(number)"), Type::Set(boxed(Type::Number)));
        assert_eq!(ty("map(bool)"), Type::Map(boxed(Type::Bool)));
        assert_eq!(ty("tuple([string, number, any])"), Type::Tuple(vec![Type::String, Type::Number, Type::Any]));
        assert_eq!(ty("list"), Type::List(boxed(Type::Any)), "Terraform's shorthand");
        assert_eq!(ty("map"), Type::Map(boxed(Type::Any)), "Terraform's shorthand");
        assert_eq!(ty("map(list(set(string)))"), Type::Map(boxed(Type::List(boxed(Type::Set(boxed(Type::String)))))));
    }

    #[test]
    fn object_attributes_may_be_optional_with_defaults() {
        let Type::Object(attributes) = ty("object({ a = string, b = optional(number), c = optional(bool, true), d = optional(list(string), [1]) })") else {
            panic!("an object")
        };
        let summary: Vec<(&str, &Type, bool, Option<serde_json::Value>)> =
            attributes.iter().map(|a| (a.name.as_str(), &a.ty, a.optional, a.default.as_ref().map(Node::to_json))).collect();
        let strings = Type::List(boxed(Type::String));
        assert_eq!(
            summary,
            vec![
                ("a", &Type::String, false, None),
                ("b", &Type::Number, true, None),
                ("c", &Type::Bool, true, Some(serde_json::json!(true))),
                ("d", &strings, true, Some(serde_json::json!(["1"]))),
            ],
            "defaults are converted to their attribute's type"
        );
        let default = attributes[2].default.as_ref().unwrap().span.as_ref().unwrap();
        assert_eq!((default.start_line, default.start_col), (1, 63), "a default points where it is written");
    }

    #[test]
    fn invalid_constraints_are_errors_as_in_hcl() {
        let cases = [
            ("strin", "the keyword \"strin\" is not a valid type specification"),
            ("object({ a = list })", "the list, set and map type constructors require one argument specifying the element type"),
            ("list(string, number)", "the list, set and map type constructors require one argument specifying the element type"),
            ("string(1)", "primitive type keyword \"string\" does not expect arguments"),
            ("any(1)", "type constraint keyword \"any\" does not expect arguments"),
            ("optional(string)", "the keyword \"optional\" is valid only as a modifier for object type attributes"),
            (
                "object([string])",
                "the object type constructor requires a map whose keys are attribute names and whose values are the corresponding attribute types",
            ),
            ("tuple(string)", "the tuple type constructor requires a list of element types"),
            ("object({ \"a\" = string })", "object type attribute names must be bare names"),
            ("object({ a = optional() })", "the optional attribute modifier requires the attribute type as its argument"),
            (
                "object({ a = optional(string, 1, 2) })",
                "the optional attribute modifier expects at most two arguments: the attribute type, and a default value",
            ),
            ("object({ a = optional(number, \"x\") })", "this default value is not compatible with the attribute's type constraint: a number is required"),
            ("object({ a = optional(string, var.x) })", "the default value of an optional attribute may not call functions or refer to anything"),
            (
                "object({ a = optional(list(string), [upper(\"x\")]) })",
                "the default value of an optional attribute may not call functions or refer to anything",
            ),
            (
                "object({ a = optional(number, 1 / 0) })",
                "the default value of an optional attribute cannot be evaluated: Terraform would fail here: division by zero",
            ),
            ("\"string\"", "type constraints are not quoted since Terraform 0.12: remove the quotes around \"string\""),
            ("frobnicate(string)", "the keyword \"frobnicate\" is not a valid type constructor"),
            ("1", "a type specification is either a primitive type keyword (bool, number, string) or a complex type constructor call, like list(string)"),
        ];
        for (text, message) in cases {
            assert_eq!(type_errors(text), vec![message.to_string()], "{text}");
        }
        assert_eq!(type_errors("object({ a = strin, b = list(x) })").len(), 2, "every error is reported");
        let errors = with_expression("map(object({\n  a = nmber\n}))", |evaluator, expr| parse(expr, evaluator)).unwrap_err();
        let span = errors[0].span.as_ref().unwrap();
        assert_eq!((&*span.file, span.start_line, span.start_col), ("main.tf", 2, 7), "the error points at the offending part");
    }

    #[test]
    fn json_syntax_writes_the_type_as_a_string() {
        let json = |text: &str| in_file("variables.tf.json", text, |evaluator, expr| parse(expr, evaluator));
        let Ok(Type::Object(attributes)) = json("\"object({ a = optional(list(number), [\\\"1\\\"]) })\"") else { panic!("an object type") };
        let default = attributes[0].default.as_ref().unwrap();
        assert_eq!(default.to_json(), serde_json::json!([1]));
        let Value::List(items) = &default.value else { panic!("a list") };
        let at = |span: &Option<Span>| span.as_ref().map(|s| (s.start_line, s.start_col, s.end_col));
        assert_eq!((at(&default.span), at(&items[0].span)), (Some((1, 1, 50)), Some((1, 1, 50))), "the default is somewhere in the string");
        assert_eq!(json("\"list\""), Ok(Type::List(boxed(Type::Any))));
        let errors = json("\"map(strin)\"").unwrap_err();
        assert_eq!((errors[0].message.as_str(), at(&errors[0].span)), ("the keyword \"strin\" is not a valid type specification", Some((1, 1, 13))));
        assert!(json("\"list(\"").is_err());
    }

    #[test]
    fn primitives_convert_as_in_terraform() {
        assert_eq!(converted("\"5\"", "number"), "5");
        assert_eq!(converted("\"-0.50\"", "number"), "-0.5");
        assert_eq!(converted("\"1e3\"", "number"), "1000");
        assert_eq!(converted("1.5", "string"), "\"1.5\"");
        assert_eq!(converted("true", "string"), "\"true\"");
        assert_eq!(converted("\"false\"", "bool"), "false");
        assert_eq!(converted("\"1\"", "bool"), "true");
        assert_eq!(converted("null", "number"), "null");
        assert_eq!(mismatch("\" 5\"", "number"), "a number is required");
        assert_eq!(mismatch("true", "number"), "number required, but have bool");
        assert_eq!(mismatch("1", "bool"), "bool required, but have number");
        assert_eq!(mismatch("\"TRUE\"", "bool"), "a bool is required; to convert from string, use lowercase \"true\"");
        assert_eq!(mismatch("\"yes\"", "bool"), "a bool is required");
        assert_eq!(mismatch("[1]", "string"), "string required, but have tuple");
        assert_eq!(mismatch("{ a = 1 }", "string"), "string required, but have object");
    }

    #[test]
    fn collections_convert_element_by_element() {
        assert_eq!(converted("[\"1\", 2]", "list(number)"), "[1,2]");
        assert_eq!(converted("{ a = 1, b = true }", "map(string)"), r#"{"a":"1","b":"true"}"#);
        assert_eq!(converted("[\"x\", \"5\", \"true\"]", "tuple([string, number, bool])"), r#"["x",5,true]"#);
        assert_eq!(converted("[[1, \"a\"], []]", "list(list(string))"), r#"[["1","a"],[]]"#);
        assert_eq!(converted("[\"b\", \"a\", \"b\", \"10\", \"9\"]", "set(string)"), r#"["10","9","a","b"]"#);
        assert_eq!(converted("[10, \"9\", 1.5, 10]", "set(number)"), "[1.5,9,10]");
        assert_eq!(mismatch("{ a = 1 }", "list(string)"), "list of string required");
        assert_eq!(mismatch("[1]", "map(string)"), "map of string required");
        assert_eq!(mismatch("[1, 2]", "tuple([string])"), "a tuple of 1 elements is required, but have 2");
        assert_eq!(mismatch("{ a = \"x\" }", "map(number)"), "[\"a\"]: a number is required");
    }

    #[test]
    fn objects_keep_their_attributes_only() {
        assert_eq!(converted("{ a = 1, extra = true }", "object({ a = string, b = optional(number) })"), r#"{"a":"1","b":null}"#);
        assert_eq!(mismatch("{}", "object({ a = string })"), "attribute \"a\" is required");
        assert_eq!(mismatch("{}", "object({ b = string, a = string })"), "attributes \"a\" and \"b\" are required");
        assert_eq!(mismatch("{}", "object({ a = string, b = number, c = bool })"), "attributes \"a\", \"b\", and \"c\" are required");
        assert_eq!(mismatch("[{ a = 1 }, { a = \"x\" }]", "list(object({ a = number }))"), "[1].a: a number is required");
        assert_eq!(mismatch("{ a = { b = [1, \"q\"] } }", "object({ a = object({ b = list(number) }) })"), ".a.b[1]: a number is required");
    }

    #[test]
    fn mismatches_point_at_the_offending_value() {
        let node = value("{\n  a = 1\n  b = \"x\"\n}");
        let error = try_convert(node, &ty("object({ a = number, b = number })")).unwrap_err();
        assert_eq!((error.path(), error.span.map(|s| s.start_line)), (".b".to_string(), Some(3)));
        let node = value("{\n  a = 1\n}");
        let converted = try_convert(node, &ty("object({ a = string })")).unwrap();
        assert_eq!(converted.get("a").unwrap().span.as_ref().unwrap().start_line, 2, "converted values keep their spans");
    }

    #[test]
    fn any_unifies_collection_elements() {
        assert_eq!(converted("[\"a\", 1, true]", "list(any)"), r#"["a","1","true"]"#);
        assert_eq!(converted("[1, 2.5]", "list(any)"), "[1,2.5]");
        assert_eq!(converted("[[1], [\"s\", 2]]", "list(any)"), r#"[["1"],["s","2"]]"#);
        assert_eq!(converted("[{ a = 1 }, { a = \"s\" }]", "list(any)"), r#"[{"a":"1"},{"a":"s"}]"#);
        assert_eq!(converted("{ x = { p = 1 }, y = { p = 2, q = \"3\" } }", "map(any)"), r#"{"x":{"p":"1"},"y":{"p":"2","q":"3"}}"#);
        assert_eq!(converted("{ k = { x = 1 }, l = { x = \"s\" } }", "map(object({ x = any }))"), r#"{"k":{"x":"1"},"l":{"x":"s"}}"#);
        assert_eq!(converted("{ a = [1, 2], b = [\"x\"] }", "map(list(any))"), r#"{"a":["1","2"],"b":["x"]}"#);
        assert_eq!(converted("[null, 1]", "list(any)"), "[null,1]");
        assert_eq!(converted("[1, \"x\"]", "any"), r#"[1,"x"]"#);
        assert_eq!(mismatch("[1, true]", "list(any)"), "all list elements must have the same type");
        assert_eq!(mismatch("{ x = { p = 1 }, y = [1] }", "map(any)"), "all map elements must have the same type");
    }

    #[test]
    fn unknowns_and_references_pass_through() {
        let unknown = || Node::new(Value::Unknown("var.x has no value".into()), None);
        let reference = || Node::new(Value::Ref { address: "aws_kms_key.k".into(), attribute: "arn".into() }, None);
        assert_eq!(convert(unknown(), &Type::Number), unknown());
        assert_eq!(convert(reference(), &Type::Number), reference());
        let ty = ty("object({ key = string, count = number, lock = optional(bool, true) })");
        let mut object = Node::map(vec![("key".into(), reference()), ("count".into(), Node::new(Value::Str("2".into()), None))], None);
        apply_defaults(&mut object, &ty);
        let object = convert(object, &ty);
        assert_eq!(object.get("key"), Some(&reference()));
        assert_eq!(object.get("count").map(|n| &n.value), Some(&Value::Int(2)));
        assert_eq!(object.get("lock").map(|n| &n.value), Some(&Value::Bool(true)));
        let mixed = Node::new(Value::List(vec![reference(), Node::map(Vec::new(), None)]), None);
        assert!(!matches!(convert(mixed, &Type::List(boxed(Type::Any))).value, Value::Unknown(_)), "a reference's type is not known: no error");
    }

    #[test]
    fn optional_defaults_apply_at_every_depth() {
        let buckets = "map(object({ versioning = optional(bool, true), lifecycle = optional(object({ days = optional(number, 90) }), {}), tags = optional(map(string), {}) }))";
        assert_eq!(
            converted("{ logs = {}, data = { versioning = false, lifecycle = { days = \"30\" } }, raw = { lifecycle = null } }", buckets),
            r#"{"logs":{"versioning":true,"lifecycle":{"days":90},"tags":{}},"data":{"versioning":false,"lifecycle":{"days":30},"tags":{}},"raw":{"lifecycle":{"days":90},"versioning":true,"tags":{}}}"#
        );
        let rules = "list(object({ port = number, cidrs = optional(set(string), [\"0.0.0.0/0\"]) }))";
        assert_eq!(
            converted("[{ port = 1 }, { port = 2, cidrs = [\"b\", \"a\"] }]", rules),
            r#"[{"port":1,"cidrs":["0.0.0.0/0"]},{"port":2,"cidrs":["a","b"]}]"#
        );
        let pairs = "tuple([object({ a = optional(number, 1) }), string])";
        assert_eq!(converted("[{}, \"x\"]", pairs), r#"[{"a":1},"x"]"#);
        assert_eq!(converted("null", buckets), "null", "a null value gets no defaults");
    }

    #[test]
    fn defaults_get_their_own_defaults() {
        let config = "object({ logging = optional(object({ level = optional(string, \"info\"), target = optional(object({ bucket = optional(string, \"logs\") }), {}) }), {}), workers = optional(list(object({ size = optional(string, \"small\") })), [{}, { size = \"large\" }]) })";
        assert_eq!(converted("{}", config), r#"{"logging":{"level":"info","target":{"bucket":"logs"}},"workers":[{"size":"small"},{"size":"large"}]}"#);
    }

    #[test]
    fn sets_of_objects_are_ordered_as_terraform_orders_them() {
        let ingress = "set(object({ port = number, cidr = string, protocol = optional(string, \"tcp\") }))";
        let value = "[{ port = 443, cidr = \"b\" }, { port = \"80\", cidr = \"a\" }, { port = 10, cidr = \"b\", protocol = \"udp\" }, { port = 443, cidr = \"b\", protocol = \"tcp\" }, { port = 1.5, cidr = \"b\" }]";
        let ports: Vec<serde_json::Value> =
            serde_json::from_str::<Vec<serde_json::Value>>(&converted(value, ingress)).unwrap().iter().map(|r| r["port"].clone()).collect();
        assert_eq!(
            ports,
            serde_json::json!([80, 1.5, 10, 443]).as_array().unwrap().clone(),
            "duplicates after defaults removed, ordered by go-cty's hash text"
        );
        assert_eq!(converted("[[\"y\"], [\"x\", \"z\"], [\"x\"]]", "set(list(string))"), r#"[["x","z"],["x"],["y"]]"#);
        assert_eq!(converted("[[\"b\", 2], [\"a\", 10], [\"a\", 9]]", "set(tuple([string, number]))"), r#"[["a",10],["a",9],["b",2]]"#);
    }

    #[test]
    fn numbers_in_set_hashes_are_written_as_go_does() {
        let cases =
            [(0.0, "0"), (1.0, "1"), (1.5, "1.5"), (-2.25, "-2.25"), (100.0, "100"), (1e9, "1000000000"), (1e10, "1e+10"), (12345678901.0, "1.23456789e+10")];
        for (number, text) in cases {
            assert_eq!(go_number(number), text, "{number}");
        }
        assert_eq!((go_number(0.0001), go_number(0.00001), go_number(0.123456789012)), ("0.0001".into(), "1e-05".into(), "0.123456789".into()));
    }

    /// The value of `variable "x" { declaration }` given `given` (HCL), with the diagnostics.
    fn variable(declaration: &str, given: Option<&str>) -> (serde_json::Value, Vec<String>) {
        let text = format!("variable \"x\" {{\n{declaration}\n}}\n");
        let body: hcl_edit::structure::Body = text.parse().unwrap();
        let block = body.blocks().next().unwrap();
        let lines = LineIndex::new(&text);
        let evaluator = Evaluator { file: Arc::from("main.tf"), lines: &lines, scope: &NoNames };
        let mut diagnostics = Vec::new();
        let span = Span::new(Arc::from("main.tf"), 1, 1, 1, 1);
        let declared = Declaration::new("var.x".into(), block, &evaluator, span, &mut diagnostics);
        let value = declared.value(given.map(value).as_ref(), &mut diagnostics).map_or(serde_json::Value::Null, |v| v.to_json());
        (value, diagnostics.iter().map(|d| d.message.clone()).collect())
    }

    #[test]
    fn variables_take_values_then_defaults_and_honour_nullable() {
        let none: Vec<String> = Vec::new();
        assert_eq!(variable("type = number\ndefault = \"3\"", None), (serde_json::json!(3), none.clone()));
        assert_eq!(variable("type = number\ndefault = 3", Some("\"4\"")), (serde_json::json!(4), none.clone()));
        assert_eq!(variable("type = number\ndefault = 3", Some("null")), (serde_json::Value::Null, none.clone()), "nullable by default");
        assert_eq!(variable("type = number\ndefault = 3\nnullable = false", Some("null")), (serde_json::json!(3), none.clone()));
        let defaulted = variable("type = object({ a = optional(number, 1) })\ndefault = {}\nnullable = false", Some("null"));
        assert_eq!(defaulted, (serde_json::json!({"a": 1}), none.clone()), "the default has its own defaults");
        let (value, diagnostics) = variable("type = number\nnullable = false", Some("null"));
        assert!(value["$unknown"].as_str().is_some_and(|r| r.starts_with(crate::terraform::eval::ERROR_PREFIX)), "{value}");
        assert_eq!(diagnostics, vec!["unsuitable value for var.x: it may not be null (nullable = false) and has no default".to_string()]);
    }

    #[test]
    fn unsuitable_values_are_errors_naming_the_variable_and_path() {
        let (value, diagnostics) = variable("type = map(object({ days = number }))", Some("{ logs = { days = \"x\" } }"));
        let message = "unsuitable value for var.x[\"logs\"].days: a number is required";
        assert_eq!(value["$unknown"], serde_json::json!(format!("{}{message}", crate::terraform::eval::ERROR_PREFIX)));
        assert_eq!(diagnostics, vec![message.to_string()]);
        let (_, diagnostics) = variable("type = number\ndefault = \"many\"", None);
        assert_eq!(diagnostics, vec!["invalid default for var.x: a number is required".to_string()]);
        let (value, diagnostics) = variable("type = strin", Some("[1, \"a\"]"));
        assert_eq!(
            (value, diagnostics),
            (serde_json::json!([1, "a"]), vec!["invalid type constraint for var.x: the keyword \"strin\" is not a valid type specification".to_string()])
        );
    }
}

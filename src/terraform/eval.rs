//! Evaluates HCL expressions the way Terraform would, to the extent a reviewer can without
//! applying: values that only exist after apply, or inputs that were not given, become
//! [`Value::Unknown`] (with the reason) and propagate, so rules never pass on a guess.
//!
//! Code Terraform would reject (a type error, a missing key, an index out of range) becomes an
//! Unknown too, whose reason starts with [`ERROR_PREFIX`]; see [`is_error`]. `try` and `can`
//! treat those as errors and every other Unknown as unknown.

use super::sandbox::Sandbox;
use crate::model::{LineIndex, Node, Span, Value};
use hcl_edit::expr::{BinaryOperator, Expression, ForExpr, FuncCall, Object, ObjectKey, TraversalOperator, UnaryOperator};
use hcl_edit::template::{Directive, Element, Template};
use hcl_edit::Span as _;
use std::ops::Range;
use std::sync::Arc;

#[path = "functions/mod.rs"]
pub mod functions;
#[path = "ops.rs"]
pub mod ops;

pub use functions::call_function;
use ops::{arith, collect_list, collect_map, equal, known, to_bool, to_num, to_str, type_name};
pub use ops::{error_value, find_error, is_error, is_error_reason, ERROR_PREFIX};

/// One step after the root name of a reference: `.name` or `[index]` (already evaluated).
#[derive(Clone, Debug, PartialEq)]
pub enum Key {
    Attr(String),
    Index(Value),
}

/// What names mean where an expression is evaluated: `var`, `local`, `each`, `count`,
/// `path`, `terraform`, `module`, `data` and resource types.
pub trait Scope {
    /// Resolves `root` followed by `keys`. Returns the value and how many of `keys` it
    /// consumed (the evaluator applies the rest); `None` when `root` means nothing here.
    fn resolve(&self, root: &str, keys: &[Key], span: &Span) -> Option<(Node, usize)>;

    /// Where file functions may read; `None` where nothing may be read (tfvars).
    fn sandbox(&self) -> Option<&Sandbox> {
        None
    }

    /// Which functions expressions may call here.
    fn functions(&self) -> Functions {
        Functions::All
    }
}

/// Which functions a scope lets expressions call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Functions {
    All,
    /// Inside a template: all but `templatefile` and `templatestring`, as in Terraform.
    NotTemplates,
    /// None (tfvars).
    None,
}

/// Evaluates expressions of one file.
pub struct Evaluator<'a> {
    pub file: Arc<str>,
    pub lines: &'a LineIndex<'a>,
    pub scope: &'a dyn Scope,
}

impl<'a> Evaluator<'a> {
    /// The value of `expr`, with the span of the expression.
    pub fn eval(&self, expr: &Expression) -> Node {
        Ctx { ev: self, locals: Vec::new(), fixed_span: None, depth: 0 }.expr(expr)
    }

    /// The value of a string that may hold `${...}` interpolations and `%{...}` directives,
    /// as strings in `.tf.json` files and templates do. Computed values get `span` (positions inside the
    /// string are not known). A string that is exactly one `${...}` yields that expression's
    /// value unconverted, as in Terraform.
    pub fn eval_template_str(&self, text: &str, span: Option<Span>) -> Node {
        match text.parse::<Template>() {
            Ok(mut template) => {
                // HCL scans a template one literal token per line, as it does heredocs: a `~`
                // strips whitespace from the adjacent line only.
                if has_strip_markers(&template) {
                    split_lines(&mut template);
                }
                let mut ctx = Ctx { ev: self, locals: Vec::new(), fixed_span: Some(span.clone()), depth: 0 };
                ctx.template(&template, span)
            }
            Err(e) => Node::new(error_value(format!("invalid template: {}", one_line(&e.to_string()))), span),
        }
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The most nested expressions evaluated; deeper input is nonsense and becomes an error.
const MAX_DEPTH: usize = 200;

/// The most nested expressions on one thread, counting through references: `local.a` whose
/// value reads `local.b` whose value reads ... (or resources that read each other in a cycle)
/// nest evaluations without bound, and would overflow a worker thread's stack. Deeper
/// evaluations become an error value and [`take_too_deep`] reports where it happened.
pub const MAX_TOTAL_DEPTH: usize = 256;

thread_local! {
    static TOTAL_DEPTH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    static TOO_DEEP: std::cell::RefCell<Option<Span>> = const { std::cell::RefCell::new(None) };
}

/// Where evaluation on this thread first went deeper than [`MAX_TOTAL_DEPTH`] since the last
/// call, if it did (the caller turns it into an error diagnostic).
pub fn take_too_deep() -> Option<Span> {
    TOO_DEEP.with(|d| d.borrow_mut().take())
}

/// Evaluation state: the names bound by enclosing `for` expressions and directives.
struct Ctx<'e, 'a> {
    ev: &'e Evaluator<'a>,
    locals: Vec<(String, Node)>,
    /// Set when evaluating a template from a string: every computed span is this.
    fixed_span: Option<Option<Span>>,
    depth: usize,
}

impl Ctx<'_, '_> {
    fn span_of(&self, range: Option<Range<usize>>) -> Option<Span> {
        match &self.fixed_span {
            Some(fixed) => fixed.clone(),
            None => range.map(|r| self.ev.lines.span(&self.ev.file, r)),
        }
    }

    fn expr(&mut self, e: &Expression) -> Node {
        let span = self.span_of(e.span());
        if self.depth >= MAX_DEPTH {
            return Node::new(error_value("expression nested too deeply"), span);
        }
        let total = TOTAL_DEPTH.with(|d| d.get());
        if total >= MAX_TOTAL_DEPTH {
            let at = span.clone().unwrap_or_else(|| Span::new(self.ev.file.clone(), 1, 1, 1, 1));
            TOO_DEEP.with(|d| {
                d.borrow_mut().get_or_insert(at);
            });
            return Node::new(error_value(format!("expressions nested deeper than {MAX_TOTAL_DEPTH} levels through references (a reference cycle?)")), span);
        }
        TOTAL_DEPTH.with(|d| d.set(total + 1));
        self.depth += 1;
        let result = self.expr_inner(e, span);
        self.depth -= 1;
        TOTAL_DEPTH.with(|d| d.set(total));
        result
    }

    fn expr_inner(&mut self, e: &Expression, span: Option<Span>) -> Node {
        let value = match e {
            Expression::Null(_) => Value::Null,
            Expression::Bool(b) => Value::Bool(*b.value()),
            Expression::Number(n) => match n.value().as_i64() {
                Some(i) => Value::Int(i),
                None => n.value().as_f64().map_or_else(|| error_value("invalid number"), ops::num_value),
            },
            Expression::String(s) => Value::Str(s.value().clone()),
            Expression::Array(a) => collect_list(a.iter().map(|x| self.expr(x)).collect()),
            Expression::Object(o) => self.object(o),
            Expression::StringTemplate(t) => return self.template(t, span),
            Expression::HeredocTemplate(h) if has_strip_markers(&h.template) => match heredoc_as_hcl(self.ev.lines.text(), e.span()) {
                Some(t) => return self.template(&t, span),
                None => return self.template(&h.template, span),
            },
            Expression::HeredocTemplate(h) => match h.indent() {
                // hcl-edit strips `<<-` indentation from top-level text only.
                Some(indent) => {
                    let mut t = h.template.clone();
                    dedent_directives(&mut t, indent, true);
                    return self.template(&t, span);
                }
                None => return self.template(&h.template, span),
            },
            Expression::Parenthesis(p) => return with_span(self.expr(p.inner()), &span),
            Expression::Variable(v) => return self.traversal(v.as_str(), None, &[], span),
            Expression::Traversal(t) => {
                let ops: Vec<&TraversalOperator> = t.operators.iter().map(|o| o.value()).collect();
                return match &t.expr {
                    Expression::Variable(v) => self.traversal(v.as_str(), None, &ops, span),
                    other => {
                        let base = self.expr(other);
                        self.traversal("", Some(base), &ops, span)
                    }
                };
            }
            Expression::Conditional(c) => {
                let cond = self.expr(&c.cond_expr);
                match known(&cond.value) {
                    Err(u) => u,
                    Ok(v) => match to_bool(v) {
                        Some(true) => return with_span(self.expr(&c.true_expr), &span),
                        Some(false) => return with_span(self.expr(&c.false_expr), &span),
                        None => error_value(format!("the condition must be a bool, not {}", type_name(v))),
                    },
                }
            }
            Expression::FuncCall(f) => return self.call(f, span),
            Expression::UnaryOp(u) => {
                let operand = self.expr(&u.expr);
                match known(&operand.value) {
                    Err(unknown) => unknown,
                    Ok(v) => match u.operator.value() {
                        UnaryOperator::Neg => match to_num(v) {
                            Some(n) => arith('-', ops::Num::I(0), n),
                            None => error_value(format!("unary minus needs a number, not {}", type_name(v))),
                        },
                        UnaryOperator::Not => match to_bool(v) {
                            Some(b) => Value::Bool(!b),
                            None => error_value(format!("! needs a bool, not {}", type_name(v))),
                        },
                    },
                }
            }
            Expression::BinaryOp(b) => self.binary(&b.lhs_expr, *b.operator.value(), &b.rhs_expr),
            Expression::ForExpr(f) => self.for_expr(f),
        };
        Node::new(value, span)
    }

    fn object(&mut self, o: &Object) -> Value {
        let mut entries: Vec<(String, Node)> = Vec::new();
        for (key, value) in o.iter() {
            let key = match key {
                ObjectKey::Ident(id) => id.as_str().to_string(),
                ObjectKey::Expression(Expression::Variable(v)) => v.as_str().to_string(),
                ObjectKey::Expression(e) => {
                    let k = self.expr(e);
                    match known(&k.value) {
                        Err(u) => return u,
                        Ok(v) => match to_str(v) {
                            Some(s) => s,
                            None => return error_value(format!("an object key must be a string, not {}", type_name(v))),
                        },
                    }
                }
            };
            if entries.iter().any(|(k, _)| *k == key) {
                return error_value(format!("duplicate object key {key:?}"));
            }
            let value = self.expr(value.expr());
            entries.push((key, value));
        }
        collect_map(entries)
    }

    fn binary(&mut self, lhs: &Expression, op: BinaryOperator, rhs: &Expression) -> Value {
        let a = self.expr(lhs);
        // && and || short-circuit on a decisive left operand, as HCL does.
        if let Value::Bool(b) = a.value {
            if (op == BinaryOperator::And && !b) || (op == BinaryOperator::Or && b) {
                return Value::Bool(b);
            }
        }
        let b = self.expr(rhs);
        binary_op(op, &a.value, &b.value)
    }

    fn for_expr(&mut self, f: &ForExpr) -> Value {
        let collection = self.expr(&f.intro.collection_expr);
        let items = match iterate(&collection) {
            Ok(items) => items,
            Err(u) => return u,
        };
        let key_var = f.intro.key_var.as_ref().map(|k| k.as_str().to_string());
        let value_var = f.intro.value_var.as_str().to_string();
        let mut list = Vec::new();
        let mut map: Vec<(String, Node)> = Vec::new();
        for (key, value) in items {
            let mark = self.locals.len();
            if let Some(name) = &key_var {
                self.locals.push((name.clone(), key));
            }
            self.locals.push((value_var.clone(), value));
            let item = self.for_item(f);
            self.locals.truncate(mark);
            match item {
                Err(u) => return u,
                Ok(None) => {}
                Ok(Some((None, v))) => list.push(v),
                Ok(Some((Some(k), v))) => match map.iter_mut().find(|(e, _)| *e == k) {
                    Some((_, existing)) if f.grouping => {
                        if let Value::List(group) = &mut existing.value {
                            group.push(v);
                        }
                    }
                    Some(_) => return error_value(format!("duplicate key {k:?} in a for expression (use ... to group)")),
                    None if f.grouping => {
                        let span = v.span.clone();
                        map.push((k, Node::new(Value::List(vec![v]), span)));
                    }
                    None => map.push((k, v)),
                },
            }
        }
        if f.key_expr.is_some() {
            if f.grouping {
                for (_, group) in map.iter_mut() {
                    if let Value::List(items) = &group.value {
                        group.value = collect_list(items.clone());
                    }
                }
            }
            collect_map(map)
        } else {
            collect_list(list)
        }
    }

    /// One element of a `for` expression: `None` when filtered out.
    #[allow(clippy::type_complexity)]
    fn for_item(&mut self, f: &ForExpr) -> Result<Option<(Option<String>, Node)>, Value> {
        if let Some(cond) = &f.cond {
            let c = self.expr(&cond.expr);
            match to_bool(known(&c.value)?) {
                Some(true) => {}
                Some(false) => return Ok(None),
                None => return Err(error_value(format!("a for condition must be a bool, not {}", type_name(&c.value)))),
            }
        }
        let key = match &f.key_expr {
            None => None,
            Some(k) => {
                let k = self.expr(k);
                let v = known(&k.value)?;
                Some(to_str(v).ok_or_else(|| error_value(format!("a for expression key must be a string, not {}", type_name(v))))?)
            }
        };
        Ok(Some((key, self.expr(&f.value_expr))))
    }

    fn call(&mut self, f: &FuncCall, span: Option<Span>) -> Node {
        let mut name: Vec<&str> = f.name.namespace.iter().map(|n| n.as_str()).collect();
        name.push(f.name.name.as_str());
        let name = name.join("::");
        if let Some(refused) = self.refused_call(&name, f) {
            return Node::new(refused, span);
        }
        let mut args: Vec<Node> = f.args.iter().map(|a| self.expr(a)).collect();
        if f.args.expand_final() {
            match args.pop().map(|n| n.value) {
                Some(Value::List(items)) => args.extend(items),
                Some(other) => {
                    let value = match known(&other) {
                        Err(u) => u,
                        Ok(v) => error_value(format!("the final argument to expand must be a list, not {}", type_name(v))),
                    };
                    return Node::new(value, span);
                }
                None => {}
            }
        }
        call_function(&name, args, &span, self.ev.scope.sandbox())
    }

    /// The error a call is when the scope does not allow it, or when `templatestring` is not
    /// given a reference to its template (Terraform 1.9's rule: it renders templates that
    /// come from elsewhere, never a literal).
    fn refused_call(&self, name: &str, f: &FuncCall) -> Option<Value> {
        let bare = name.strip_prefix("core::").unwrap_or(name);
        match self.ev.scope.functions() {
            Functions::None => return Some(error_value(format!("functions may not be called here ({name})"))),
            Functions::NotTemplates if functions::TEMPLATE_FUNCTIONS.contains(&bare) => {
                return Some(error_value(format!("cannot call {name} from inside a template rendered by templatefile or templatestring")))
            }
            _ => {}
        }
        let template = f.args.iter().next().filter(|_| bare == "templatestring")?;
        (!is_plain_reference(template))
            .then(|| error_value("templatestring: the template must be a direct reference to a string from elsewhere, not a literal or an expression"))
    }

    /// `root` (a name, or `base` when the traversal starts from an expression) followed by
    /// `ops`.
    fn traversal(&mut self, root: &str, base: Option<Node>, ops: &[&TraversalOperator], span: Option<Span>) -> Node {
        let base = match base {
            Some(base) => base,
            None => {
                // Keys up to the first splat go to the scope.
                let mut keys = Vec::new();
                for op in ops {
                    match op {
                        TraversalOperator::GetAttr(id) => keys.push(Key::Attr(id.as_str().to_string())),
                        TraversalOperator::LegacyIndex(i) => keys.push(Key::Index(index_value(*i.value()))),
                        TraversalOperator::Index(e) => {
                            let index = self.expr(e);
                            match known(&index.value) {
                                Err(u) => return Node::new(u, span),
                                Ok(v) => keys.push(Key::Index(v.clone())),
                            }
                        }
                        TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => break,
                    }
                }
                let bound = self.locals.iter().rev().find(|(name, _)| name == root).map(|(_, n)| n.clone());
                let (node, consumed) = match bound {
                    Some(n) => (n, 0),
                    None => {
                        let at = span.clone().unwrap_or_else(|| Span::new(self.ev.file.clone(), 1, 1, 1, 1));
                        match self.ev.scope.resolve(root, &keys, &at) {
                            Some((n, consumed)) => (n, consumed.min(keys.len())),
                            None => return Node::new(undeclared(root, &keys), span),
                        }
                    }
                };
                let mut node = with_span(node, &span);
                for key in &keys[consumed..] {
                    node = apply_key(node, key, &span);
                }
                return self.apply_ops(node, &ops[keys.len()..], &span);
            }
        };
        self.apply_ops(with_span(base, &span), ops, &span)
    }

    fn apply_ops(&mut self, mut node: Node, ops: &[&TraversalOperator], span: &Option<Span>) -> Node {
        let mut i = 0;
        while i < ops.len() {
            match ops[i] {
                TraversalOperator::GetAttr(id) => node = apply_key(node, &Key::Attr(id.as_str().to_string()), span),
                TraversalOperator::LegacyIndex(n) => node = apply_key(node, &Key::Index(index_value(*n.value())), span),
                TraversalOperator::Index(e) => {
                    let index = self.expr(e);
                    node = match known(&index.value) {
                        Err(u) => Node::new(u, span.clone()),
                        Ok(v) => apply_key(node, &Key::Index(v.clone()), span),
                    };
                }
                TraversalOperator::FullSplat(_) | TraversalOperator::AttrSplat(_) => {
                    let full = matches!(ops[i], TraversalOperator::FullSplat(_));
                    let rest = &ops[i + 1..];
                    let per_element = if full { rest.len() } else { rest.iter().take_while(|op| matches!(op, TraversalOperator::GetAttr(_))).count() };
                    let elements = match node.value {
                        Value::Null => Vec::new(),
                        Value::List(items) => items,
                        Value::Unknown(_) => return node,
                        other => vec![Node::new(other, node.span.clone())],
                    };
                    let mut out = Vec::with_capacity(elements.len());
                    for element in elements {
                        out.push(self.apply_ops(element, &rest[..per_element], span));
                    }
                    node = Node::new(collect_list(out), span.clone());
                    i += per_element;
                }
            }
            i += 1;
        }
        node
    }

    /// A template's value: a string, or the value of its only `${...}`.
    fn template(&mut self, t: &Template, span: Option<Span>) -> Node {
        if let Some(Element::Interpolation(i)) = t.as_single_element() {
            if !i.strip.strip_start() && !i.strip.strip_end() {
                return with_span(self.expr(&i.expr), &span);
            }
        }
        let value = match is_plain(t) {
            true => self.plain(t),
            false => {
                let mut out = String::new();
                self.render(t, false, false, &mut out).map_or_else(|u| u, |()| Value::Str(out))
            }
        };
        Node::new(value, span)
    }

    /// A template of text and interpolations only, each interpolation evaluated once. Text the
    /// code spells out stays known when an interpolation is not (`"logs-${random_pet.this.id}"`
    /// has the word `logs`): the template is then a [`Value::PartialStr`]. An interpolation
    /// that fails makes the template that failure.
    fn plain(&mut self, t: &Template) -> Value {
        let mut parts: Vec<Node> = Vec::new();
        for element in t.iter() {
            match element {
                Element::Interpolation(i) => match self.expr(&i.expr).value {
                    Value::PartialStr(inner) => inner.into_iter().for_each(|part| match part.value {
                        Value::Str(text) => push_text(&mut parts, &text),
                        _ => parts.push(part),
                    }),
                    value @ Value::Ref { .. } => parts.push(Node::new(value, None)),
                    value => match known(&value).map(interpolated) {
                        Ok(Ok(text)) => push_text(&mut parts, &text),
                        Ok(Err(error)) => return error,
                        Err(Value::Unknown(reason)) if !is_error_reason(&reason) => parts.push(Node::new(Value::Unknown(reason), None)),
                        Err(error) => return error,
                    },
                },
                Element::Literal(lit) => push_text(&mut parts, lit.value()),
                Element::Directive(_) => unreachable!("a plain template has no directives"),
            }
        }
        match parts.as_slice() {
            [] => Value::Str(String::new()),
            [Node { value: Value::Str(_), .. }] => parts.remove(0).value,
            _ => Value::PartialStr(parts),
        }
    }

    /// Appends the text of `t` to `out`; `trim_first`/`trim_last` strip whitespace from its
    /// first/last literal (the `~` of the enclosing directive).
    fn render(&mut self, t: &Template, trim_first: bool, trim_last: bool, out: &mut String) -> Result<(), Value> {
        let elements: Vec<&Element> = t.iter().collect();
        for (i, element) in elements.iter().enumerate() {
            match element {
                Element::Literal(lit) => {
                    let mut s: &str = lit.value();
                    let strip_start = if i == 0 { trim_first } else { strips_after(elements[i - 1]) };
                    let strip_end = match elements.get(i + 1) {
                        None => trim_last,
                        Some(next) => strips_before(next),
                    };
                    if strip_start {
                        s = s.trim_start();
                    }
                    if strip_end {
                        s = s.trim_end();
                    }
                    out.push_str(s);
                }
                Element::Interpolation(interp) => {
                    let v = self.expr(&interp.expr);
                    out.push_str(&interpolated(&v.value)?);
                }
                Element::Directive(d) => match d.as_ref() {
                    Directive::If(d) => {
                        let c = self.expr(&d.if_expr.cond_expr);
                        let c = known(&c.value)?;
                        let Some(c) = to_bool(c) else {
                            return Err(error_value(format!("an if directive needs a bool, not {}", type_name(c))));
                        };
                        let endif_start = d.endif_expr.strip.strip_start();
                        if c {
                            let last = d.else_expr.as_ref().map_or(endif_start, |e| e.strip.strip_start());
                            self.render(&d.if_expr.template, d.if_expr.strip.strip_end(), last, out)?;
                        } else if let Some(e) = &d.else_expr {
                            self.render(&e.template, e.strip.strip_end(), endif_start, out)?;
                        }
                    }
                    Directive::For(d) => {
                        let f = &d.for_expr;
                        let collection = self.expr(&f.collection_expr);
                        for (key, value) in iterate(&collection)? {
                            let mark = self.locals.len();
                            if let Some(k) = &f.key_var {
                                self.locals.push((k.as_str().to_string(), key));
                            }
                            self.locals.push((f.value_var.as_str().to_string(), value));
                            let r = self.render(&f.template, f.strip.strip_end(), d.endfor_expr.strip.strip_start(), out);
                            self.locals.truncate(mark);
                            r?;
                        }
                    }
                },
            }
        }
        Ok(())
    }
}

/// `local.t`, `var.m["k"]`, `data.x.y[0]`: a name followed by attributes and literal indices.
fn is_plain_reference(e: &Expression) -> bool {
    match e {
        Expression::Variable(_) => true,
        Expression::Traversal(t) => {
            matches!(t.expr, Expression::Variable(_))
                && t.operators.iter().all(|op| match op.value() {
                    TraversalOperator::GetAttr(_) | TraversalOperator::LegacyIndex(_) => true,
                    TraversalOperator::Index(i) => matches!(i, Expression::Number(_) | Expression::String(_)),
                    TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => false,
                })
        }
        _ => false,
    }
}

/// Whether any `~` strip marker occurs in the template.
fn has_strip_markers(t: &Template) -> bool {
    t.iter().any(|e| {
        strips_before(e)
            || strips_after(e)
            || match e {
                Element::Directive(d) => match d.as_ref() {
                    Directive::If(d) => {
                        d.if_expr.strip.strip_end()
                            || d.endif_expr.strip.strip_start()
                            || d.else_expr.as_ref().is_some_and(|x| x.strip.strip_start() || x.strip.strip_end())
                            || has_strip_markers(&d.if_expr.template)
                            || d.else_expr.as_ref().is_some_and(|x| has_strip_markers(&x.template))
                    }
                    Directive::For(d) => d.for_expr.strip.strip_end() || d.endfor_expr.strip.strip_start() || has_strip_markers(&d.for_expr.template),
                },
                _ => false,
            }
    })
}

/// A heredoc with strip markers, prepared the way HCL's own parser does it. HCL scans a heredoc
/// line by line, one literal token per line, so a `~` strips whitespace from the adjacent line
/// only (not across several lines, as in a quoted string); and `<<-` removes the smallest
/// indentation of the lines *after* stripping (a line whose leading spaces a `%{~` removed has
/// none), inside directives too. hcl-edit dedents before stripping and only at the top level, so
/// the heredoc is parsed again from its source text as a plain `<<` heredoc. The result has
/// one literal element per line; `render` then applies the strip markers to them.
fn heredoc_as_hcl(text: &str, range: Option<std::ops::Range<usize>>) -> Option<Template> {
    let source = text.get(range?)?;
    let flush = source.starts_with("<<-");
    let source = if flush { format!("<<{}", &source[3..]) } else { source.to_string() };
    let Ok(Expression::HeredocTemplate(h)) = source.parse::<Expression>() else { return None };
    let mut template = h.template.clone();
    if h.indent().is_some() {
        return None; // the parser dedented after all: keep the default handling
    }
    split_lines(&mut template);
    if flush {
        let mut state = Flush { newline: true, min: usize::MAX, adjust: Vec::new() };
        state.walk(&template, false, false);
        if state.min != usize::MAX && state.min > 0 {
            let mut adjust = state.adjust.into_iter();
            dedent_tokens(&mut template, state.min, &mut adjust);
        }
    }
    Some(template)
}

/// Splits every literal into one literal per line (each keeping its newline).
fn split_lines(t: &mut Template) {
    let elements: Vec<Element> = std::mem::take(t).into_iter().collect();
    let mut out: Vec<Element> = Vec::new();
    for mut element in elements {
        match &mut element {
            Element::Literal(lit) => {
                for line in lit.split_inclusive('\n') {
                    out.push(Element::Literal(hcl_edit::Spanned::new(line.to_string())));
                }
                continue;
            }
            Element::Directive(d) => match d.as_mut() {
                Directive::If(d) => {
                    split_lines(&mut d.if_expr.template);
                    if let Some(e) = &mut d.else_expr {
                        split_lines(&mut e.template);
                    }
                }
                Directive::For(d) => split_lines(&mut d.for_expr.template),
            },
            Element::Interpolation(_) => {}
        }
        out.push(element);
    }
    *t = out.into_iter().collect();
}

/// HCL's `flushHeredocTemplateParts`: the smallest indentation of the lines, over the literal
/// tokens as they are after strip markers, in source order through directives.
struct Flush {
    newline: bool,
    min: usize,
    /// For every literal token in order: whether it starts a line and is dedented.
    adjust: Vec<bool>,
}

impl Flush {
    fn walk(&mut self, t: &Template, trim_first: bool, trim_last: bool) {
        let elements: Vec<&Element> = t.iter().collect();
        for (i, element) in elements.iter().enumerate() {
            match element {
                Element::Literal(lit) => {
                    let mut s: &str = lit.value();
                    if if i == 0 { trim_first } else { strips_after(elements[i - 1]) } {
                        s = s.trim_start();
                    }
                    if match elements.get(i + 1) {
                        None => trim_last,
                        Some(next) => strips_before(next),
                    } {
                        s = s.trim_end();
                    }
                    let mut adjusted = false;
                    if self.newline {
                        self.newline = false;
                        let trimmed = s.trim_start();
                        if !(trimmed.is_empty() && s.ends_with('\n')) {
                            self.min = self.min.min(s[..s.len() - trimmed.len()].chars().count());
                            adjusted = true;
                        }
                    }
                    self.adjust.push(adjusted);
                    if s.ends_with('\n') {
                        self.newline = true;
                    }
                }
                Element::Interpolation(_) => self.token(),
                Element::Directive(d) => match d.as_ref() {
                    Directive::If(d) => {
                        self.token();
                        let endif_start = d.endif_expr.strip.strip_start();
                        let last = d.else_expr.as_ref().map_or(endif_start, |e| e.strip.strip_start());
                        self.walk(&d.if_expr.template, d.if_expr.strip.strip_end(), last);
                        if let Some(e) = &d.else_expr {
                            self.token();
                            self.walk(&e.template, e.strip.strip_end(), endif_start);
                        }
                        self.token();
                    }
                    Directive::For(d) => {
                        self.token();
                        self.walk(&d.for_expr.template, d.for_expr.strip.strip_end(), d.endfor_expr.strip.strip_start());
                        self.token();
                    }
                },
            }
        }
    }

    /// A directive or interpolation token: at a line start, nothing can be dedented.
    fn token(&mut self) {
        if self.newline {
            self.newline = false;
            self.min = 0;
        }
    }
}

/// Removes `n` leading whitespace characters from the literal tokens `adjust` marks.
fn dedent_tokens(t: &mut Template, n: usize, adjust: &mut impl Iterator<Item = bool>) {
    for element in t.iter_mut() {
        match element {
            Element::Literal(lit) => {
                if adjust.next() == Some(true) {
                    let cut: usize = lit.chars().take(n).take_while(|c| c.is_whitespace()).map(char::len_utf8).sum();
                    let rest = lit[cut..].to_string();
                    **lit = rest;
                }
            }
            Element::Interpolation(_) => {}
            Element::Directive(d) => match d.as_mut() {
                Directive::If(d) => {
                    dedent_tokens(&mut d.if_expr.template, n, adjust);
                    if let Some(e) = &mut d.else_expr {
                        dedent_tokens(&mut e.template, n, adjust);
                    }
                }
                Directive::For(d) => dedent_tokens(&mut d.for_expr.template, n, adjust),
            },
        }
    }
}

/// Strips `indent` whitespace characters after each newline of the text inside directives
/// (the text around them was dedented by the parser).
fn dedent_directives(t: &mut Template, indent: usize, top: bool) {
    for element in t.iter_mut() {
        match element {
            Element::Literal(lit) if !top => {
                let mut out = String::with_capacity(lit.len());
                for (i, line) in lit.split('\n').enumerate() {
                    if i > 0 {
                        out.push('\n');
                        let ws = line.chars().take(indent).take_while(|c| c.is_whitespace()).map(char::len_utf8).sum();
                        out.push_str(&line[ws..]);
                    } else {
                        out.push_str(line);
                    }
                }
                **lit = out;
            }
            Element::Literal(_) | Element::Interpolation(_) => {}
            Element::Directive(d) => match d.as_mut() {
                Directive::If(d) => {
                    dedent_directives(&mut d.if_expr.template, indent, false);
                    if let Some(e) = &mut d.else_expr {
                        dedent_directives(&mut e.template, indent, false);
                    }
                }
                Directive::For(d) => dedent_directives(&mut d.for_expr.template, indent, false),
            },
        }
    }
}

/// Whether the element strips whitespace from the literal before it (`${~`, `%{~`).
fn strips_before(e: &Element) -> bool {
    match e {
        Element::Literal(_) => false,
        Element::Interpolation(i) => i.strip.strip_start(),
        Element::Directive(d) => match d.as_ref() {
            Directive::If(d) => d.if_expr.strip.strip_start(),
            Directive::For(d) => d.for_expr.strip.strip_start(),
        },
    }
}

/// Whether the element strips whitespace from the literal after it (`~}`).
fn strips_after(e: &Element) -> bool {
    match e {
        Element::Literal(_) => false,
        Element::Interpolation(i) => i.strip.strip_end(),
        Element::Directive(d) => match d.as_ref() {
            Directive::If(d) => d.endif_expr.strip.strip_end(),
            Directive::For(d) => d.endfor_expr.strip.strip_end(),
        },
    }
}

/// The text an interpolated value contributes to a template.
/// Whether a template is text and interpolations only, with no strip marker.
fn is_plain(t: &Template) -> bool {
    t.iter().all(|element| match element {
        Element::Literal(_) => true,
        Element::Interpolation(i) => !i.strip.strip_start() && !i.strip.strip_end(),
        Element::Directive(_) => false,
    })
}

/// Appends known text to the parts, joined to a known part before it.
fn push_text(parts: &mut Vec<Node>, text: &str) {
    match parts.last_mut().map(|last| &mut last.value) {
        Some(Value::Str(last)) => last.push_str(text),
        _ => parts.push(Node::new(Value::Str(text.to_string()), None)),
    }
}

fn interpolated(v: &Value) -> Result<String, Value> {
    let v = known(v)?;
    match v {
        Value::Null => Err(error_value("a template cannot interpolate null")),
        Value::List(_) | Value::Map(_) => Err(error_value(format!("a template cannot interpolate a {}", type_name(v)))),
        other => Ok(to_str(other).unwrap_or_default()),
    }
}

fn index_value(i: u64) -> Value {
    i64::try_from(i).map_or_else(|_| error_value("index too large"), Value::Int)
}

/// The node with `span` when it has none.
fn with_span(mut n: Node, span: &Option<Span>) -> Node {
    if n.span.is_none() {
        n.span = span.clone();
    }
    n
}

/// How a reference reads in source, for messages.
/// A reference to something the scanned code does not declare. A resource (`aws_kms_key.x.arn`)
/// is still known to be a resource of that type, and is not any resource the scan has; Terraform
/// would ask for the rest of the root module, so anything else stays unknown.
fn undeclared(root: &str, keys: &[Key]) -> Value {
    let is_resource_type = root.contains('_') && !matches!(root, "var" | "local" | "module" | "data" | "each" | "count" | "path" | "terraform" | "self");
    let address_len = match keys.first() {
        Some(Key::Attr(_)) => 1 + keys[1..].iter().take_while(|k| matches!(k, Key::Index(_))).count(),
        _ => 0,
    };
    let attribute: Option<Vec<&str>> = keys[address_len.min(keys.len())..].iter().map(|k| if let Key::Attr(a) = k { Some(a.as_str()) } else { None }).collect();
    match attribute {
        Some(attribute) if is_resource_type && address_len > 0 => {
            Value::Ref { address: reference_text(root, &keys[..address_len]), attribute: attribute.join(".") }
        }
        _ => Value::Unknown(format!("unknown reference {}", reference_text(root, keys))),
    }
}

pub fn reference_text(root: &str, keys: &[Key]) -> String {
    let mut text = root.to_string();
    for key in keys {
        match key {
            Key::Attr(a) => {
                text.push('.');
                text.push_str(a);
            }
            Key::Index(Value::Str(s)) => text.push_str(&format!("[{s:?}]")),
            Key::Index(v) => text.push_str(&format!("[{}]", to_str(v).unwrap_or_else(|| type_name(v).into()))),
        }
    }
    text
}

/// One attribute or index step applied to a value. Stepping into a reference extends its
/// attribute path with `.name` (indices too: `tags.Name`, `ingress.0`); into an Unknown gives
/// that Unknown.
pub fn apply_key(n: Node, key: &Key, span: &Option<Span>) -> Node {
    let fail = |msg: String| Node::new(error_value(msg), span.clone());
    let name = match key {
        Key::Attr(a) => a.clone(),
        Key::Index(v) => match known(v) {
            Err(u) => return Node::new(u, span.clone()),
            Ok(v) => match to_str(v) {
                Some(s) => s,
                None => return fail(format!("an index must be a number or string, not {}", type_name(v))),
            },
        },
    };
    match n.value {
        Value::Unknown(_) => Node::new(n.value, span.clone()),
        Value::Ref { address, attribute } => {
            let attribute = if attribute.is_empty() { name } else { format!("{attribute}.{name}") };
            Node::new(Value::Ref { address, attribute }, span.clone())
        }
        Value::Map(entries) => match entries.into_iter().find(|(k, _)| *k == name) {
            Some((_, v)) => with_span(v, span),
            None => fail(format!("the map has no element {name:?}")),
        },
        Value::List(items) => {
            if matches!(key, Key::Attr(_)) {
                return fail(format!("cannot get attribute {name:?} of a list (use a splat or an index)"));
            }
            let index = ops::parse_num(&name).and_then(ops::Num::int);
            match index {
                Some(i) if i >= 0 && (i as u64) < items.len() as u64 => with_span(items.into_iter().nth(i as usize).expect("in range"), span),
                Some(i) => fail(format!("index {i} is out of range for a list of {} elements", items.len())),
                None => fail(format!("a list index must be a whole number, not {name:?}")),
            }
        }
        other => fail(format!("cannot get {name:?} of a {}", type_name(&other))),
    }
}

/// The (key, value) pairs a `for` iterates: list indices, or map keys in Terraform's
/// (lexical) order.
fn iterate(n: &Node) -> Result<Vec<(Node, Node)>, Value> {
    match known(&n.value)? {
        Value::List(items) => Ok(items.iter().enumerate().map(|(i, v)| (Node::new(Value::Int(i as i64), n.span.clone()), v.clone())).collect()),
        Value::Map(entries) => {
            let mut sorted: Vec<&(String, Node)> = entries.iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(sorted.into_iter().map(|(k, v)| (Node::new(Value::Str(k.clone()), v.span.clone()), v.clone())).collect())
        }
        other => Err(error_value(format!("cannot iterate over a {}", type_name(other)))),
    }
}

/// A binary operator applied to two values (Unknowns and references propagate, left first).
pub fn binary_op(op: BinaryOperator, a: &Value, b: &Value) -> Value {
    use BinaryOperator as B;
    if matches!(op, B::Eq | B::NotEq) {
        return match equal(a, b) {
            Ok(eq) => Value::Bool(eq == (op == B::Eq)),
            Err(u) => u,
        };
    }
    let (a, b) = match (known(a), known(b)) {
        (Err(u), _) | (_, Err(u)) => return u,
        (Ok(a), Ok(b)) => (a, b),
    };
    match op {
        B::And | B::Or => match (to_bool(a), to_bool(b)) {
            (Some(x), Some(y)) => Value::Bool(if op == B::And { x && y } else { x || y }),
            _ => error_value(format!("{} needs bools, not {} and {}", op.as_str(), type_name(a), type_name(b))),
        },
        _ => {
            let (Some(x), Some(y)) = (to_num(a), to_num(b)) else {
                return error_value(format!("{} needs numbers, not {} and {}", op.as_str(), type_name(a), type_name(b)));
            };
            match op {
                B::Plus => arith('+', x, y),
                B::Minus => arith('-', x, y),
                B::Mul => arith('*', x, y),
                B::Div => arith('/', x, y),
                B::Mod => arith('%', x, y),
                B::Less => Value::Bool(x.f() < y.f()),
                B::LessEq => Value::Bool(x.f() <= y.f()),
                B::Greater => Value::Bool(x.f() > y.f()),
                B::GreaterEq => Value::Bool(x.f() >= y.f()),
                B::Eq | B::NotEq | B::And | B::Or => unreachable_op(),
            }
        }
    }
}

fn unreachable_op() -> Value {
    error_value("operator handled above")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// `var.*` and `local.*` by name; `aws_*` roots give references; `data` means nothing.
    struct TestScope(HashMap<String, Node>);

    impl Scope for TestScope {
        fn resolve(&self, root: &str, keys: &[Key], _span: &Span) -> Option<(Node, usize)> {
            match (root, keys.first()) {
                ("var" | "local", Some(Key::Attr(name))) => self.0.get(&format!("{root}.{name}")).map(|n| (n.clone(), 1)),
                (r, _) if r.starts_with("aws_") => match keys {
                    [Key::Attr(name), Key::Attr(attr), ..] => {
                        let v = Value::Ref { address: format!("{r}.{name}"), attribute: attr.clone() };
                        Some((Node::new(v, None), 2))
                    }
                    _ => None,
                },
                _ => None,
            }
        }
    }

    fn leaf(v: Value) -> Node {
        Node::new(v, None)
    }

    fn scope() -> TestScope {
        let tfvars = Some(Span::new(Arc::from("terraform.tfvars"), 3, 10, 3, 21));
        let s = |x: &str| leaf(Value::Str(x.into()));
        let obj = |name: &str, env: &str| Node::map(vec![("name".into(), s(name)), ("tags".into(), Node::map(vec![("env".into(), s(env))], None))], None);
        let mut m = HashMap::new();
        m.insert("var.region".into(), Node::new(Value::Str("eu-west-1".into()), tfvars));
        m.insert("var.m".into(), Node::map(vec![("b".into(), leaf(Value::Null)), ("a".into(), leaf(Value::Int(1))), ("c".into(), s("x"))], None));
        m.insert("var.unknown".into(), leaf(Value::Unknown("var.unknown has no value".into())));
        m.insert("var.list".into(), leaf(Value::List(vec![s("a"), s("b")])));
        m.insert("var.n".into(), leaf(Value::Int(3)));
        m.insert("var.tmpl".into(), s("${templatestring(t, {})}"));
        m.insert("var.null".into(), leaf(Value::Null));
        m.insert("var.obj".into(), obj("solo", "p"));
        m.insert("local.objs".into(), leaf(Value::List(vec![obj("a", "p"), obj("b", "d")])));
        TestScope(m)
    }

    fn eval(src: &str) -> Node {
        let expr: Expression = src.parse().unwrap_or_else(|e| panic!("{src}: {e}"));
        let lines = LineIndex::new(src);
        let scope = scope();
        let ev = Evaluator { file: Arc::from("main.tf"), lines: &lines, scope: &scope };
        ev.eval(&expr)
    }

    fn json(src: &str) -> String {
        eval(src).to_json().to_string()
    }

    /// Evaluates each expression and compares its JSON form.
    fn check(cases: &[(&str, &str)]) {
        for (src, expected) in cases {
            assert_eq!(json(src), *expected, "{src}");
        }
    }

    fn reason(src: &str) -> String {
        let node = eval(src);
        match &node.value {
            Value::Unknown(r) => r.clone(),
            Value::PartialStr(_) => node.unknown_reason().expect("a partly known string has an unknown part"),
            other => panic!("{src}: expected unknown, got {other:?}"),
        }
    }

    #[test]
    fn templates_keep_the_text_they_spell_out() {
        check(&[
            (
                r#""logs-${aws_kms_key.gold.id}-${var.unknown}""#,
                r#"{"$unknown":"aws_kms_key.gold.id is known only after apply","$parts":["logs-",{"$ref":"aws_kms_key.gold","attribute":"id"},"-",{"$unknown":"var.unknown has no value"}]}"#,
            ),
            (r#""a-${"b-${var.unknown}"}-c""#, r#"{"$unknown":"var.unknown has no value","$parts":["a-b-",{"$unknown":"var.unknown has no value"},"-c"]}"#),
        ]);
        // An error is not an unknown: the template is the error.
        assert_error(r#""a-${var.list}""#);
        assert_eq!(reason(r#"upper("a-${var.unknown}")"#), "var.unknown has no value");
    }

    fn assert_error(src: &str) {
        let r = reason(src);
        assert!(is_error_reason(&r), "{src}: expected an error, got unknown {r:?}");
    }

    #[test]
    fn literals_and_collections() {
        check(&[
            ("null", "null"),
            ("true", "true"),
            ("42", "42"),
            ("1.5", "1.5"),
            ("\"a\\nb\"", r#""a\nb""#),
            ("[1, \"x\", [true]]", r#"[1,"x",[true]]"#),
            ("{a = 1, \"b c\" = 2, (var.region) = 3}", r#"{"a":1,"b c":2,"eu-west-1":3}"#),
            ("{a = 1}.a", "1"),
            ("[10, 20][1]", "20"),
        ]);
    }

    #[test]
    fn operators() {
        check(&[
            ("1 + 2 * 3", "7"),
            ("(1 + 2) * 3", "9"),
            ("7 - 10", "-3"),
            ("5 / 2", "2.5"),
            ("4 / 2", "2"),
            ("7 % 3", "1"),
            ("-var.n", "-3"),
            ("\"5\" + 1", "6"),
            ("1 < 2", "true"),
            ("2 <= 2", "true"),
            ("3 > 4", "false"),
            ("3 >= 4", "false"),
            ("1 == 1.0", "true"),
            ("1 == \"1\"", "false"),
            ("[1, {a = 2}] == [1, {a = 2}]", "true"),
            ("{a = 1} != {a = 2}", "true"),
            ("var.null == null", "true"),
            ("true && false", "false"),
            ("true || false", "true"),
            ("!true", "false"),
            ("\"true\" && true", "true"),
            ("false && var.unknown", "false"),
            ("true || var.unknown", "true"),
            ("var.n > 2 ? \"big\" : \"small\"", r#""big""#),
            ("var.n > 5 ? \"big\" : \"small\"", r#""small""#),
        ]);
        assert_error("\"a\" + 1");
        assert_error("1 / 0");
        assert_error("1 % 0");
        assert_error("!1");
        assert_error("1 && true");
        assert_error("1 ? 2 : 3");
        assert_error("-\"x\"");
    }

    #[test]
    fn unknowns_propagate_with_the_first_reason() {
        assert_eq!(reason("var.unknown + 1"), "var.unknown has no value");
        assert_eq!(reason("var.unknown + data.x.y"), "var.unknown has no value");
        assert_eq!(reason("var.unknown == 1"), "var.unknown has no value");
        assert_eq!(reason("\"a-${var.unknown}\""), "var.unknown has no value");
        assert_eq!(reason("upper(var.unknown)"), "var.unknown has no value");
        assert_eq!(reason("var.unknown ? 1 : 2"), "var.unknown has no value");
        assert_eq!(reason("var.list[var.unknown]"), "var.unknown has no value");
        assert_eq!(reason("var.unknown.attr[0]"), "var.unknown has no value");
        assert_eq!(reason("data.aws_caller_identity.me.account_id"), "unknown reference data.aws_caller_identity.me.account_id");
        assert!(!is_error_reason(&reason("data.x")));
        // Collections holding unknowns stay known.
        check(&[("length([var.unknown, 1])", "2"), ("[var.unknown][0] == null ? 1 : 2", r#"{"$unknown":"var.unknown has no value"}"#)]);
    }

    #[test]
    fn references_stay_references_until_their_value_is_needed() {
        check(&[
            ("aws_kms_key.gold.arn", r#"{"$ref":"aws_kms_key.gold","attribute":"arn"}"#),
            ("aws_kms_key.gold.tags.Name", r#"{"$ref":"aws_kms_key.gold","attribute":"tags.Name"}"#),
            ("aws_kms_key.gold.tags[\"Name\"]", r#"{"$ref":"aws_kms_key.gold","attribute":"tags.Name"}"#),
            ("[aws_kms_key.gold.arn]", r#"[{"$ref":"aws_kms_key.gold","attribute":"arn"}]"#),
            ("\"${aws_kms_key.gold.arn}\"", r#"{"$ref":"aws_kms_key.gold","attribute":"arn"}"#),
            ("try(aws_kms_key.gold.arn, null)", r#"{"$ref":"aws_kms_key.gold","attribute":"arn"}"#),
            ("coalesce(var.null, aws_kms_key.gold.arn)", r#"{"$ref":"aws_kms_key.gold","attribute":"arn"}"#),
            ("concat([aws_kms_key.gold.arn], [1])", r#"[{"$ref":"aws_kms_key.gold","attribute":"arn"},1]"#),
            ("aws_kms_key.gold.arn == aws_kms_key.gold.arn", "true"),
        ]);
        let after = "aws_kms_key.gold.arn is known only after apply";
        assert_eq!(reason("\"arn:${aws_kms_key.gold.arn}\""), after);
        assert_eq!(reason("aws_kms_key.gold.arn + 1"), after);
        assert_eq!(reason("upper(aws_kms_key.gold.arn)"), after);
        assert_eq!(reason("aws_kms_key.gold.arn == \"x\""), after);
    }

    #[test]
    fn json_text_with_unknown_leaves_keeps_its_document() {
        check(&[
            ("jsonencode({k = aws_kms_key.gold.arn, e = \"Deny\"})", r#"{"$json":{"k":{"$ref":"aws_kms_key.gold","attribute":"arn"},"e":"Deny"}}"#),
            ("jsonencode([var.unknown])", r#"{"$json":[{"$unknown":"var.unknown has no value"}]}"#),
            ("try(jsonencode({k = aws_kms_key.gold.arn}), \"x\")", r#"{"$json":{"k":{"$ref":"aws_kms_key.gold","attribute":"arn"}}}"#),
        ]);
        // As text it is unknown: every function or operator that needs the text says why.
        let after = "aws_kms_key.gold.arn is known only after apply";
        assert_eq!(reason("upper(jsonencode({k = aws_kms_key.gold.arn}))"), after);
        assert_eq!(reason("\"${jsonencode({k = aws_kms_key.gold.arn})}!\""), after);
        assert_eq!(reason("jsonencode({k = aws_kms_key.gold.arn}) == \"{}\""), after);
        assert_eq!(reason("jsonencode(var.unknown)"), "var.unknown has no value");
    }

    #[test]
    fn placeholders_replaced_in_json_text_leave_the_document_known_in_part() {
        // terraform-aws-modules/s3-bucket writes its policies with `_S3_BUCKET_ARN_` and replaces
        // it with the bucket's ARN, known only after apply.
        let policy =
            r#"jsonencode({Statement = [{Effect = "Deny", Resource = ["_ARN_", "_ARN_/*"], Condition = {Bool = {"aws:SecureTransport" = "false"}}}]})"#;
        let expr = format!("replace({policy}, \"_ARN_\", aws_kms_key.gold.arn)");
        let document = eval(&expr).to_json();
        assert_eq!(document["$json"]["Statement"][0]["Effect"], "Deny");
        assert_eq!(document["$json"]["Statement"][0]["Condition"]["Bool"]["aws:SecureTransport"], "false");
        let resource = document["$json"]["Statement"][0]["Resource"][1]["$unknown"].as_str().unwrap();
        assert!(resource.contains("_ARN_/*") && resource.contains("aws_kms_key.gold.arn is known only after apply"), "{resource}");
        // Replaced again with a known value, the rest stays known in part.
        let twice = eval(&format!("replace({expr}, \"Deny\", \"Allow\")")).to_json();
        assert_eq!(twice["$json"]["Statement"][0]["Effect"], "Allow");
        // A placeholder in a key or in text that is not JSON: the text is simply unknown.
        let after = "aws_kms_key.gold.arn is known only after apply";
        assert_eq!(reason(r#"replace("{\"_ARN_\": 1}", "_ARN_", aws_kms_key.gold.arn)"#), after);
        assert_eq!(reason(r#"replace("arn:_ARN_", "_ARN_", aws_kms_key.gold.arn)"#), after);
        check(&[(r#"replace("{\"a\": \"_X_\"}", "_X_", "b")"#, r#""{\"a\": \"b\"}""#)]);
    }

    #[test]
    fn traversals_and_splats() {
        check(&[
            ("var.m.a", "1"),
            ("var.m[\"c\"]", r#""x""#),
            ("var.list[1]", r#""b""#),
            ("var.list.0", r#""a""#),
            ("var.list[\"1\"]", r#""b""#),
            ("local.objs[1].tags.env", r#""d""#),
            ("local.objs[*].name", r#"["a","b"]"#),
            ("local.objs.*.name", r#"["a","b"]"#),
            ("local.objs[*].tags.env", r#"["p","d"]"#),
            ("local.objs.*.tags.env", r#"["p","d"]"#),
            ("local.objs.*.name[1]", r#""b""#),
            ("var.obj[*].name", r#"["solo"]"#),
            ("var.null[*].name", "[]"),
            ("var.unknown[*].name", r#"{"$unknown":"var.unknown has no value"}"#),
        ]);
        assert_error("var.m.missing");
        assert_error("var.list[2]");
        assert_error("var.list[-1]");
        assert_error("var.list.name");
        assert_error("var.region[0]");
        assert_error("var.null.x");
        assert_error("var.list[1.5]");
    }

    #[test]
    fn for_expressions() {
        check(&[
            ("[for s in var.list : upper(s)]", r#"["A","B"]"#),
            ("[for i, s in var.list : \"${i}:${s}\"]", r#"["0:a","1:b"]"#),
            ("[for k, v in var.m : \"${k}=${v}\" if v != null]", r#"["a=1","c=x"]"#),
            ("{for o in local.objs : o.name => o.tags.env}", r#"{"a":"p","b":"d"}"#),
            ("{for o in local.objs : o.tags.env => o.name...}", r#"{"p":["a"],"d":["b"]}"#),
            ("{for s in [\"a\", \"b\", \"a\"] : s => s...}", r#"{"a":["a","a"],"b":["b"]}"#),
            // Bound names shadow the scope, and are gone after.
            ("[for var in [1] : var]", "[1]"),
            ("[for s in [] : s]", "[]"),
        ]);
        assert_error("{for s in [\"a\", \"a\"] : s => s}");
        assert_error("[for s in \"abc\" : s]");
        assert_error("[for s in [1] : s if s]");
        assert_eq!(reason("[for s in var.unknown : s]"), "var.unknown has no value");
        assert_eq!(reason("[for s in [1] : s if var.unknown]"), "var.unknown has no value");
    }

    #[test]
    fn templates_and_directives() {
        check(&[
            ("\"${var.region}-x\"", r#""eu-west-1-x""#),
            ("\"n=${var.n} f=${1.5} b=${true}\"", r#""n=3 f=1.5 b=true""#),
            ("\"$${literal} %%{x}\"", r#""${literal} %{x}""#),
            ("\"${var.n}\"", "3"),
            ("\"%{if var.n > 1}many%{else}one%{endif}\"", r#""many""#),
            ("\"%{if false}x%{endif}y\"", r#""y""#),
            ("\"%{for s in var.list}<${s}>%{endfor}\"", r#""<a><b>""#),
            ("\"%{for k, v in {b = 2, a = 1}}${k}${v};%{endfor}\"", r#""a1;b2;""#),
            ("\"a ${~ \"b\" ~} c\"", r#""abc""#),
            ("\"x  %{~ if true ~}  y  %{~ endif ~}  z\"", r#""xyz""#),
            ("\"%{ for s in var.list ~}\n  ${s}\n%{~ endfor }\"", r#""ab""#),
            ("\"%{ for s in var.list ~}\n  ${s}\n%{ endfor ~}\"", r#""a\nb\n""#),
        ]);
        assert_error("\"x${var.null}\"");
        check(&[("\"${var.null}\"", "null")]);
        assert_error("\"x${var.list}\"");
        assert_error("\"%{if 1}x%{endif}\"");
    }

    #[test]
    fn heredocs() {
        check(&[
            ("<<EOT\nhello ${var.region}\n  indented\nEOT", r#""hello eu-west-1\n  indented\n""#),
            ("<<-EOT\n    a\n      b\n    EOT", r#""a\n  b\n""#),
            (
                // Terraform 1.15 gives this (tests/it/terraform_diff/04-heredocs): `~}` empties the
                // rest of the directive's line, so the next line does not start a line for `<<-`.
                "<<-EOT\n    %{ for k, v in {a = 1, b = 2} ~}\n    ${k}=${v}\n    %{ endfor ~}\n  EOT",
                r#""    a=1\n    b=2\n""#,
            ),
            ("<<-EOT\n    %{ if true }\n      yes\n    %{ endif }\n  EOT", r#""\n  yes\n\n""#),
            ("<<-EOT\n  %{for s in var.list}${s},%{endfor}\n  EOT", r#""a,b,\n""#),
        ]);
    }

    #[test]
    fn template_strings_from_json() {
        let lines = LineIndex::new("");
        let scope = scope();
        let ev = Evaluator { file: Arc::from("main.tf.json"), lines: &lines, scope: &scope };
        let at = Some(Span::new(Arc::from("main.tf.json"), 4, 7, 4, 30));
        let n = ev.eval_template_str("bucket-${var.region}", at.clone());
        assert_eq!(n, Node::new(Value::Str("bucket-eu-west-1".into()), at.clone()));
        assert_eq!(ev.eval_template_str("${var.n + 1}", at.clone()), Node::new(Value::Int(4), at.clone()));
        assert_eq!(ev.eval_template_str("plain 100%", None).value, Value::Str("plain 100%".into()));
        // A value from the scope keeps where it was written.
        assert_eq!(ev.eval_template_str("${var.region}", at.clone()).span.unwrap().file.as_ref(), "terraform.tfvars");
        assert!(is_error(&ev.eval_template_str("${", at)));
    }

    #[test]
    fn spans() {
        let n = eval("upper(\n  \"a\")");
        let s = n.span.unwrap();
        assert_eq!((s.start_line, s.start_col, s.end_line, s.end_col), (1, 1, 2, 7));
        assert_eq!(s.file.as_ref(), "main.tf");
        // A reference keeps the span of the value it resolved to.
        let s = eval("var.region").span.unwrap();
        assert_eq!((s.file.as_ref(), s.start_line), ("terraform.tfvars", 3));
        // ... unless there is none.
        let s = eval("[0, var.n][1]").span.unwrap();
        assert_eq!((s.file.as_ref(), s.start_col, s.end_col), ("main.tf", 5, 10));
        // Elements keep their own spans.
        let n = eval("[1, \"${var.n}x\"]");
        let Value::List(items) = &n.value else { panic!() };
        assert_eq!(items[1].span.as_ref().unwrap().start_col, 5);
        let s = eval("upper(\"a\")").span.unwrap();
        assert_eq!((s.start_col, s.end_col), (1, 11));
    }

    #[test]
    fn try_and_can_tell_errors_from_unknowns() {
        check(&[
            ("try(var.m.missing, \"d\")", r#""d""#),
            ("try(var.m.a, \"d\")", "1"),
            ("try(\"a\" + 1, var.list[5], 3)", "3"),
            ("try([var.m.missing], 1)", "1"),
            ("can(var.m.missing)", "false"),
            ("can(var.m.a)", "true"),
            ("can(var.list[9])", "false"),
            ("can([var.unknown])", "true"),
        ]);
        assert_eq!(reason("try(var.unknown.x, \"d\")"), "var.unknown has no value");
        assert_eq!(reason("can(var.unknown)"), "var.unknown has no value");
        assert_eq!(reason("can(aws_kms_key.gold.arn)"), "aws_kms_key.gold.arn is known only after apply");
        assert_error("try(var.m.missing)");
        // A function known only at apply is not an error: try does not skip it.
        assert_eq!(reason("try(timestamp(), 1)"), "timestamp() is known only at apply");
    }

    #[test]
    fn collection_functions() {
        check(&[
            ("lookup(var.m, \"a\", 0)", "1"),
            ("lookup(var.m, \"z\", 0)", "0"),
            ("merge({a = 1, b = 2}, null, {b = 3, c = 4})", r#"{"a":1,"b":3,"c":4}"#),
            ("concat([1], [], [2, 3])", "[1,2,3]"),
            ("flatten([[1, [2]], 3, []])", "[1,2,3]"),
            ("length(\"héllo\")", "5"),
            ("length(var.m)", "3"),
            ("element([\"a\", \"b\"], 3)", r#""b""#),
            ("keys(var.m)", r#"["a","b","c"]"#),
            ("values({b = 2, a = 1})", "[1,2]"),
            ("contains(var.list, \"b\")", "true"),
            ("contains([1, 2], \"1\")", "false"),
            ("coalesce(null, \"\", \"x\")", r#""x""#),
            ("coalescelist([], [1])", "[1]"),
            ("compact([\"a\", \"\", null, \"b\"])", r#"["a","b"]"#),
            ("distinct([1, 2, 1, 1.0])", "[1,2]"),
            ("tolist([\"a\", 1, true])", r#"["a","1","true"]"#),
            ("toset([\"b\", \"a\", \"b\"])", r#"["a","b"]"#),
            ("toset([3, 1, 3])", "[1,3]"),
            ("tomap({a = 1})", r#"{"a":1}"#),
            ("zipmap([\"a\", \"b\"], [1, 2])", r#"{"a":1,"b":2}"#),
            ("one([])", "null"),
            ("one([\"x\"])", r#""x""#),
            ("slice([1, 2, 3, 4], 1, 3)", "[2,3]"),
            ("reverse([1, 2])", "[2,1]"),
            ("sort([\"b\", \"a\", \"10\", \"9\"])", r#"["10","9","a","b"]"#),
            ("index([\"a\", \"b\"], \"b\")", "1"),
            ("setunion([\"b\"], [\"a\", \"b\"])", r#"["a","b"]"#),
            ("setintersection([\"a\", \"b\"], [\"b\", \"c\"])", r#"["b"]"#),
            ("setsubtract([\"a\", \"b\"], [\"b\"])", r#"["a"]"#),
            ("alltrue([true, \"true\"])", "true"),
            ("alltrue([true, false, var.unknown])", "false"),
            ("anytrue([false])", "false"),
            ("anytrue([var.unknown, true])", "true"),
            ("range(3)", "[0,1,2]"),
            ("range(1, 4)", "[1,2,3]"),
            ("range(5, 0, -2)", "[5,3,1]"),
            ("range(0, 1, 0.5)", "[0,0.5]"),
            ("concat(var.list...)", r#"{"$unknown":"Terraform would fail here: concat: needs a list, not string"}"#),
            ("max([3, 9, 1]...)", "9"),
        ]);
        assert_error("lookup(var.m, \"z\")");
        assert_error("element([], 0)");
        assert_error("one([1, 2])");
        assert_error("slice([1], 0, 2)");
        assert_error("index([1], 2)");
        assert_error("range(0, 2000000)");
        assert_error("range(1, 2, 0)");
        assert_error("zipmap([\"a\"], [])");
        assert_eq!(reason("flatten([var.unknown])"), "var.unknown has no value");
        assert_eq!(reason("alltrue([true, var.unknown])"), "var.unknown has no value");
        assert_eq!(reason("contains([var.unknown], 1)"), "var.unknown has no value");
        assert_eq!(reason("coalesce(var.unknown, 1)"), "var.unknown has no value");
        check(&[("lookup({k = var.unknown}, \"k\", 1)", r#"{"$unknown":"var.unknown has no value"}"#)]);
    }

    #[test]
    fn string_functions() {
        check(&[
            ("join(\"-\", [\"a\", \"b\"], [\"c\"])", r#""a-b-c""#),
            ("split(\",\", \"a,b,,c\")", r#"["a","b","","c"]"#),
            ("lower(\"AbC\")", r#""abc""#),
            ("upper(\"abc\")", r#""ABC""#),
            ("title(\"hello world-wide\")", r#""Hello World-Wide""#),
            ("replace(\"a-b-c\", \"-\", \"_\")", r#""a_b_c""#),
            ("replace(\"a1b22\", \"/([0-9]+)/\", \"<$1>\")", r#""a<1>b<22>""#),
            ("substr(\"hello\", 1, 3)", r#""ell""#),
            ("substr(\"hello\", -3, -1)", r#""llo""#),
            ("trimspace(\"  x \\n\")", r#""x""#),
            ("trim(\"?!x!?\", \"!?\")", r#""x""#),
            ("trimprefix(\"prod-x\", \"prod-\")", r#""x""#),
            ("trimsuffix(\"x.tf\", \".tf\")", r#""x""#),
            ("startswith(\"arn:aws\", \"arn:\")", "true"),
            ("endswith(\"arn:aws\", \"gcp\")", "false"),
            ("strcontains(\"abc\", \"b\")", "true"),
            ("chomp(\"x\\r\\n\\n\")", r#""x""#),
            ("strrev(\"abc\")", r#""cba""#),
            ("regex(\"[a-z]+\", \"123abc\")", r#""abc""#),
            ("regex(\"(\\\\d+)-(\\\\d+)\", \"10-20\")", r#"["10","20"]"#),
            ("regex(\"(?P<a>\\\\d+)\", \"x7\")", r#"{"a":"7"}"#),
            ("regexall(\"\\\\d\", \"a1b2\")", r#"["1","2"]"#),
            ("base64encode(\"hello!?\")", r#""aGVsbG8hPw==""#),
            ("base64decode(\"aGVsbG8hPw==\")", r#""hello!?""#),
            ("base64decode(base64encode(\"ab\"))", r#""ab""#),
        ]);
        assert_error("regex(\"x\", \"abc\")");
        assert_error("regex(\"(\", \"abc\")");
        assert_error("base64decode(\"###\")");
        assert_error("substr(\"abc\", 5, 1)");
    }

    #[test]
    fn format_functions() {
        check(&[
            ("format(\"%s-%d\", \"a\", 7)", r#""a-7""#),
            ("format(\"%.2f|%f\", 3.14159, 1)", r#""3.14|1.000000""#),
            ("format(\"%v %v %v\", \"s\", 1.5, true)", r#""s 1.5 true""#),
            ("format(\"%q\", \"a\\\"b\")", r#""\"a\\\"b\"""#),
            ("format(\"%#v\", {b = 1, a = [\"x\"]})", r#""{\"a\":[\"x\"],\"b\":1}""#),
            ("format(\"100%% %5s|%-4d|%03d\", \"ab\", 7, 5)", r#""100%    ab|7   |005""#),
            ("format(\"%t %x\", true, 255)", r#""true ff""#),
            ("formatlist(\"%s=%s\", [\"a\", \"b\"], \"v\")", r#"["a=v","b=v"]"#),
        ]);
        assert_error("format(\"%s %s\", \"a\")");
        assert_error("format(\"%s\", \"a\", \"b\")");
        assert_error("format(\"%d\", \"x\")");
        assert_error("formatlist(\"%s%s\", [1], [1, 2])");
    }

    #[test]
    fn conversion_and_number_functions() {
        check(&[
            ("tostring(5)", r#""5""#),
            ("tostring(null)", "null"),
            ("tonumber(\"1.5\")", "1.5"),
            ("tobool(\"true\")", "true"),
            ("min(3, 1.5, 2)", "1.5"),
            ("max(3, 7)", "7"),
            ("abs(-4)", "4"),
            ("ceil(1.2)", "2"),
            ("floor(-1.2)", "-2"),
            ("sum([1, 2.5])", "3.5"),
            ("signum(-3)", "-1"),
            ("pow(2, 10)", "1024"),
            ("parseint(\"ff\", 16)", "255"),
        ]);
        assert_error("tonumber(\"x\")");
        assert_error("tobool(1)");
        assert_error("tostring([1])");
        assert_error("sum([])");
    }

    #[test]
    fn json_functions() {
        check(&[
            ("jsonencode({b = 1, a = [true, null], c = \"<&>\"})", r#""{\"a\":[true,null],\"b\":1,\"c\":\"\\u003c\\u0026\\u003e\"}""#),
            ("jsonencode(1.5)", r#""1.5""#),
            ("jsondecode(\"{\\\"b\\\": [1, 2.5], \\\"a\\\": null}\")", r#"{"b":[1,2.5],"a":null}"#),
            ("jsondecode(jsonencode({x = \"<\"})).x", r#""<""#),
        ]);
        assert_error("jsondecode(\"{\")");
        check(&[("yamlencode({})", r#""{}\n""#)]);
    }

    #[test]
    fn network_functions() {
        check(&[
            ("cidrsubnet(\"10.0.0.0/16\", 8, 2)", r#""10.0.2.0/24""#),
            ("cidrsubnet(\"10.1.2.3/16\", 4, 15)", r#""10.1.240.0/20""#),
            ("cidrsubnet(\"fd00::/48\", 16, 1)", r#""fd00:0:0:1::/64""#),
            ("cidrhost(\"10.0.0.0/24\", 5)", r#""10.0.0.5""#),
            ("cidrhost(\"10.0.0.0/24\", -1)", r#""10.0.0.255""#),
            ("cidrnetmask(\"10.0.0.0/12\")", r#""255.240.0.0""#),
        ]);
        assert_error("cidrsubnet(\"10.0.0.0/30\", 8, 1)");
        assert_error("cidrsubnet(\"10.0.0.0/16\", 2, 4)");
        assert_error("cidrhost(\"10.0.0.0/24\", 256)");
        assert_error("cidrsubnet(\"nonsense\", 1, 1)");
    }

    #[test]
    fn functions_left_unknown() {
        for (src, expected) in [
            ("timestamp()", "timestamp() is known only at apply"),
            ("plantimestamp()", "plantimestamp() is the time of the plan: known only when Terraform plans"),
            ("uuid()", "uuid() is random at apply"),
            ("bcrypt(\"x\")", "bcrypt() uses a random salt: known only at apply"),
            ("core::uuid()", "uuid() is random at apply"),
            (
                "provider::google::region_from_zone(\"x\")",
                "function provider::google::region_from_zone is computed by the google provider, which charterguard does not run",
            ),
        ] {
            assert_eq!(reason(src), expected);
        }
        // Names Terraform does not have, wrong arities and functions refused in a configuration.
        for src in [
            "nosuchfunction(1)",
            "provider::terraform::nope(1)",
            "upper()",
            "timestamp(1)",
            "list(1)",
            "type(1)",
            "core::nosuch()",
            "upper(\"a\" + 1)",
            "length(1)",
        ] {
            assert_error(src);
        }
        // File functions read nothing where the scope gives no sandbox.
        assert_error("file(\"x\")");
    }

    #[test]
    fn templatestring_needs_a_reference_and_templates_cannot_nest() {
        check(&[("templatestring(var.region, {})", r#""eu-west-1""#)]);
        for src in ["templatestring(\"x\", {})", "templatestring(upper(var.region), {})", "templatestring((var.region), {})"] {
            assert_error(src);
        }
        // A template calling templatestring is refused (Terraform refuses nesting).
        let nested = "templatestring(var.tmpl, {t = \"x\"})";
        let r = reason(nested);
        assert!(is_error_reason(&r) && r.contains("inside a template"), "{r}");
    }

    #[test]
    fn nonsense_never_panics() {
        for src in [
            "\"abc\"[0]",
            "\"abc\".x",
            "1[0]",
            "true.x",
            "null[0]",
            "{}[null]",
            "[1][null]",
            "[1][[0]]",
            "1 / 0.0",
            "-9223372036854775807 - 10",
            "9223372036854775807 * 9223372036854775807",
            "range(1e300)",
            "range(-1e300, 1e300, 1e-300)",
            "cidrsubnet(\"::/0\", 128, 1)",
            "cidrsubnet(\"::/0\", 129, 1)",
            "cidrhost(\"::/0\", -9223372036854775807)",
            "substr(\"é\", 0, 99)",
            "format(\"%\")",
            "format(\"%z\", 1)",
            "element([1], -1)",
            "slice([1], -1, 0)",
            "parseint(\"z\", 99)",
            "base64decode(\"====\")",
            "[for x in 1 : x]",
            "{for x in [null] : x => x}",
            "abs(-9223372036854775807 - 1)",
            "split(\"\", \"ab\")",
        ] {
            let n = eval(src);
            if let Value::Unknown(r) = &n.value {
                assert!(is_error_reason(r), "{src}: {r}");
            }
        }
        check(&[("split(\"\", \"ab\")", r#"["a","b"]"#)]);
        // Deep nesting becomes an error, not a stack overflow.
        let deep = format!("{}1{}", "[".repeat(60), "]".repeat(60));
        assert!(!eval(&deep).is_unknown());
    }
}

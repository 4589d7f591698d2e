//! How helpers receive their arguments.
//!
//! CEL evaluates a call's arguments into its own values (`dyn Val`). cel's typed handlers copy
//! each one into a `cel::Value`, deeply: a helper given `resource` copied the whole resource,
//! on every call, and on Phase-05 that copying was half of evaluating the rules. Here:
//! - a value bound in a scope (the resource, an item) is kept beside its binding as the
//!   `cel::Value` it was made from, and a helper given that very value gets it from there
//!   ([`bind`]);
//! - the helpers that only walk a value (`get`, and strict field reads) walk CEL's own values
//!   and hand back what they find, borrowed when the argument was ([`Raw`]).

use super::undecided;
use crate::engine::strict;
use crate::engine::values::native::{field, list, text, unknown_reason};
use cel::common::types::{CelInt, CelNull, CelString};
use cel::common::value::{CowVal, Val};
use cel::extractors::IntoResolveResult;
use cel::{Context, ExecutionError, FunctionContext};
use std::cell::RefCell;
use std::sync::Arc;

/// A helper as CEL calls it: the call's evaluated arguments in, a value out.
pub type Raw = Box<dyn for<'c, 'a> Fn(&mut FunctionContext<'c, 'a>) -> Result<CowVal<'c, 'a>, ExecutionError> + Send + Sync>;

/// A Rust function that can be registered as a helper: one of [`Argument`]s in, anything CEL
/// takes as a result out; or a [`Raw`] helper.
pub trait IntoHelper<Args> {
    fn into_raw(self) -> Raw;
}

impl IntoHelper<Raw> for Raw {
    fn into_raw(self) -> Raw {
        self
    }
}

macro_rules! typed_helper {
    ($count:literal; $($arg:ident),+) => {
        impl<F, R, $($arg),+> IntoHelper<($($arg,)+)> for F
        where
            F: Fn($($arg),+) -> R + Send + Sync + 'static,
            R: for<'c, 'a> IntoResolveResult<'c, 'a>,
            $($arg: Argument,)+
        {
            fn into_raw(self) -> Raw {
                Box::new(move |ftx| {
                    #[allow(non_snake_case)]
                    let [$($arg),+] = arguments::<$count>(ftx)?;
                    self($($arg::from_val($arg.as_ref())?),+).into_resolve_result()
                })
            }
        }
    };
}

typed_helper!(1; A);
typed_helper!(2; A, B);
typed_helper!(3; A, B, C);

/// A helper's parameter type, taken from CEL's value of the argument.
pub trait Argument: Sized {
    fn from_val(value: &dyn Val) -> Result<Self, ExecutionError>;
}

impl Argument for cel::Value {
    fn from_val(value: &dyn Val) -> Result<Self, ExecutionError> {
        match bound_value(value) {
            Some(bound) => Ok(bound),
            None => cel::Value::try_from(value),
        }
    }
}

impl Argument for Arc<String> {
    fn from_val(value: &dyn Val) -> Result<Self, ExecutionError> {
        Ok(Arc::new(expect::<CelString>(value, "string")?.inner().to_string()))
    }
}

impl Argument for i64 {
    fn from_val(value: &dyn Val) -> Result<Self, ExecutionError> {
        Ok(*expect::<CelInt>(value, "int")?.inner())
    }
}

fn expect<'b, 'v, T: cel::common::value::FromVal<'b, 'v>>(value: &'b (dyn Val + 'v), want: &str) -> Result<&'b T, ExecutionError> {
    value.downcast_ref::<T>().ok_or_else(|| ExecutionError::UnexpectedType { got: format!("{value:?}"), want: want.to_string() })
}

thread_local! {
    /// The values bound in the scopes being evaluated on this thread, innermost last: the
    /// address of each one's CEL form, and the value it was made from.
    static BOUND: RefCell<Vec<(usize, cel::Value)>> = const { RefCell::new(Vec::new()) };
}

/// A scope with a value bound in it, kept beside the binding while the scope is borrowed.
pub struct Bound<'s, 'p, 'v> {
    scope: &'s Context<'p, 'v>,
}

/// Binds `name` to `value` in `scope`. While the scope is used through the guard, a helper
/// given that value itself takes `value` instead of a copy of CEL's form of it.
pub fn bind<'s, 'p, 'v>(scope: &'s mut Context<'p, 'v>, name: &str, value: cel::Value) -> Bound<'s, 'p, 'v> {
    let val: Box<dyn Val> = value.clone().try_into().expect("every model value has a CEL form");
    let address = address_of(val.as_ref());
    scope.add_variable_as_val(name, val);
    BOUND.with(|bound| bound.borrow_mut().push((address, value)));
    Bound { scope }
}

impl<'p, 'v> std::ops::Deref for Bound<'_, 'p, 'v> {
    type Target = Context<'p, 'v>;
    fn deref(&self) -> &Context<'p, 'v> {
        self.scope
    }
}

impl Drop for Bound<'_, '_, '_> {
    fn drop(&mut self) {
        BOUND.with(|bound| bound.borrow_mut().pop());
    }
}

fn bound_value(value: &dyn Val) -> Option<cel::Value> {
    let address = address_of(value);
    BOUND.with(|bound| bound.borrow().iter().rev().find(|(at, _)| *at == address).map(|(_, value)| value.clone()))
}

/// Where a value lies. Values of no size (null) all lie at one address: they are equal anyway.
fn address_of(value: &dyn Val) -> usize {
    (value as *const dyn Val).cast::<()>() as usize
}

/// How a [`finder`] finds a part of a value: None when it is absent.
pub type Find = for<'b, 'v> fn(&'b (dyn Val + 'v), &str) -> Result<Option<&'b (dyn Val + 'v)>, ExecutionError>;

/// A helper `f(value, "name")` that finds a part of `value` (None: absent, null to CEL). The
/// part is handed back borrowed when `value` was, else copied alone.
pub fn finder(find: Find) -> Raw {
    Box::new(move |ftx| {
        let [value, name] = arguments(ftx)?;
        let name = string_argument(&name, ftx.name)?;
        Ok(match value {
            CowVal::Borrowed(value) => find(value, name)?.map_or_else(null, CowVal::Borrowed),
            CowVal::Owned(value) => find(value.as_ref(), name)?.map_or_else(null, |found| CowVal::Owned(found.clone_as_boxed())),
        })
    })
}

/// A helper `f(value)` that fails unless `check` passes, and hands `value` back as it came.
pub fn checker(check: fn(&dyn Val) -> Result<(), ExecutionError>) -> Raw {
    Box::new(move |ftx| {
        let [value] = arguments(ftx)?;
        check(value.as_ref())?;
        Ok(value)
    })
}

/// A helper `f(value)` that reads its argument where it lies.
pub fn reader1(read: fn(&dyn Val) -> Result<cel::Value, ExecutionError>) -> Raw {
    Box::new(move |ftx| {
        let [value] = arguments(ftx)?;
        read(value.as_ref())?.into_resolve_result()
    })
}

/// A helper `f(a, b)` that reads its arguments where they lie.
pub fn reader2(read: fn(&dyn Val, &dyn Val) -> Result<cel::Value, ExecutionError>) -> Raw {
    Box::new(move |ftx| {
        let [a, b] = arguments(ftx)?;
        read(a.as_ref(), b.as_ref())?.into_resolve_result()
    })
}

/// `get(value, "a.b.c")`: the value at a dotted path, null when any step is missing. Lists
/// on the way are entered at their first element (Terraform blocks are one-element lists).
pub fn get() -> Raw {
    finder(at_path)
}

fn at_path<'b, 'v>(value: &'b (dyn Val + 'v), path: &str) -> Result<Option<&'b (dyn Val + 'v)>, ExecutionError> {
    // The whole value unknown (an object that may not be there): its own reason says why.
    if let Some(reason) = unknown_reason(value) {
        return Err(undecided(strict::UNKNOWN, reason.to_string()));
    }
    let mut current = value;
    for segment in path.split('.').filter(|s| !s.is_empty()) {
        current = known(first_if_list(current), path)?;
        match field(current, segment) {
            Some(next) => current = next,
            None => return Ok(None),
        }
    }
    known(current, path).map(Some)
}

/// The call's arguments (a method call's target first), exactly `N` of them.
fn arguments<'c, 'a, const N: usize>(ftx: &mut FunctionContext<'c, 'a>) -> Result<[CowVal<'c, 'a>; N], ExecutionError> {
    let all: Vec<CowVal<'c, 'a>> = ftx.this.take().into_iter().chain(std::mem::take(&mut ftx.args)).collect();
    let count = all.len();
    all.try_into().map_err(|_| ExecutionError::invalid_argument_count(N, count))
}

fn string_argument<'b>(value: &'b CowVal, function: &str) -> Result<&'b str, ExecutionError> {
    text(value.as_ref()).ok_or_else(|| undecided(function, format!("expected a string, got {value:?}")))
}

fn null<'c, 'a>() -> CowVal<'c, 'a> {
    CowVal::owned(CelNull)
}

/// Fails on unknown markers; otherwise the value as is.
fn known<'b, 'v>(value: &'b (dyn Val + 'v), what: &str) -> Result<&'b (dyn Val + 'v), ExecutionError> {
    match unknown_reason(value) {
        Some(reason) => Err(undecided(what, format!("`{what}` is unknown: {reason}"))),
        None => Ok(value),
    }
}

fn first_if_list<'b, 'v>(value: &'b (dyn Val + 'v)) -> &'b (dyn Val + 'v) {
    match list(value).and_then(<[_]>::first) {
        Some(first) => first.as_ref(),
        None => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::values::{map, string, unknown};

    fn context() -> Context<'static, 'static> {
        let mut ctx = Context::default();
        ctx.add_function("get", get().into_raw()).unwrap();
        ctx
    }

    fn run(ctx: &Context, source: &str) -> Result<cel::Value, ExecutionError> {
        cel::Program::compile(source).unwrap().execute(ctx)
    }

    #[test]
    fn get_walks_bound_and_computed_values_alike() {
        let resource = map([("versioning", cel::Value::List(Arc::new(vec![map([("enabled", cel::Value::Bool(true))])])))]);
        let mut scope = context();
        let scope = bind(&mut scope, "resource", resource);
        assert_eq!(run(&scope, "get(resource, 'versioning.enabled')"), Ok(cel::Value::Bool(true)));
        assert_eq!(run(&scope, "get({'a': [{'b': 2}]}, 'a.b')"), Ok(cel::Value::Int(2)));
        assert_eq!(run(&scope, "get(resource, 'versioning.mfa_delete')"), Ok(cel::Value::Null));
        assert_eq!(run(&scope, "get(resource, 'logging.target')"), Ok(cel::Value::Null));
        assert!(run(&scope, "get(resource)").is_err());
    }

    #[test]
    fn get_fails_on_what_is_unknown() {
        let mut scope = context();
        let scope = bind(&mut scope, "resource", map([("acl", unknown("var.acl has no value"))]));
        let error = run(&scope, "get(resource, 'acl')").unwrap_err();
        assert!(
            matches!(&error, ExecutionError::FunctionError { function, message } if function == "acl" && message == "`acl` is unknown: var.acl has no value"),
            "{error:?}"
        );
        assert!(run(&scope, "get(resource, 'acl.grant')").is_err());
    }

    /// A helper given a bound value itself gets the value it was made from, not a copy.
    #[test]
    fn helpers_given_a_bound_value_take_it_as_it_was_bound() {
        let resource = map([("bucket", string("bronze"))]);
        let cel::Value::Map(original) = &resource else { unreachable!() };
        let original = original.map.clone();
        let mut ctx = context();
        let same = move |value: cel::Value| matches!(&value, cel::Value::Map(m) if Arc::ptr_eq(&m.map, &original));
        ctx.add_function("same", IntoHelper::into_raw(same)).unwrap();
        {
            let scope = bind(&mut ctx, "resource", resource);
            assert_eq!(run(&scope, "same(resource)"), Ok(cel::Value::Bool(true)));
            assert_eq!(run(&scope, "same({'bucket': 'bronze'})"), Ok(cel::Value::Bool(false)));
        }
        BOUND.with(|bound| assert!(bound.borrow().is_empty(), "the guard forgets the value"));
    }

    #[test]
    fn typed_helpers_check_their_arguments() {
        let mut ctx = context();
        ctx.add_function("twice", IntoHelper::into_raw(|n: i64, s: Arc<String>| s.repeat(n as usize))).unwrap();
        assert_eq!(run(&ctx, "twice(2, 'ab')"), Ok(string("abab")));
        assert!(matches!(run(&ctx, "twice('ab', 2)"), Err(ExecutionError::UnexpectedType { .. })));
        assert!(run(&ctx, "twice(2)").is_err());
    }
}

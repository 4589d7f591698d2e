//! Number functions. Their arguments are wholly known.

use super::super::ops::{arith, num_value, Num};
use super::args::Call;
use crate::model::{Node, Value};

/// Most elements `range` produces; Terraform refuses more.
const RANGE_LIMIT: usize = 1024;

fn float(c: &Call, f: impl Fn(f64) -> f64) -> Result<Value, Value> {
    Ok(num_value(f(c.num(0)?.f())))
}

pub fn abs(c: &Call) -> Result<Value, Value> {
    Ok(match c.num(0)? {
        Num::I(i) => i.checked_abs().map_or_else(|| num_value((i as f64).abs()), Value::Int),
        Num::F(f) => num_value(f.abs()),
    })
}

pub fn ceil(c: &Call) -> Result<Value, Value> {
    float(c, f64::ceil)
}

pub fn floor(c: &Call) -> Result<Value, Value> {
    float(c, f64::floor)
}

pub fn signum(c: &Call) -> Result<Value, Value> {
    float(c, |f| if f == 0.0 { 0.0 } else { f.signum() })
}

pub fn pow(c: &Call) -> Result<Value, Value> {
    Ok(num_value(c.num(0)?.f().powf(c.num(1)?.f())))
}

/// `log(number, base)`.
pub fn log(c: &Call) -> Result<Value, Value> {
    Ok(num_value(c.num(0)?.f().ln() / c.num(1)?.f().ln()))
}

pub fn min(c: &Call) -> Result<Value, Value> {
    extreme(c, |best, n| n < best)
}

pub fn max(c: &Call) -> Result<Value, Value> {
    extreme(c, |best, n| n > best)
}

fn extreme(c: &Call, better: fn(f64, f64) -> bool) -> Result<Value, Value> {
    let mut best = c.num(0)?;
    for i in 1..c.args.len() {
        let n = c.num(i)?;
        if better(best.f(), n.f()) {
            best = n;
        }
    }
    Ok(best.value())
}

pub fn sum(c: &Call) -> Result<Value, Value> {
    let items = c.list(0)?;
    if items.is_empty() {
        return Err(c.fail("cannot sum an empty list"));
    }
    let mut total = Num::I(0);
    for item in items {
        let Some(n) = super::super::ops::to_num(&item.value) else {
            return Err(c.fail("needs a list of numbers"));
        };
        total = match arith('+', total, n) {
            Value::Int(i) => Num::I(i),
            Value::Float(f) => Num::F(f),
            error => return Err(error),
        };
    }
    Ok(total.value())
}

/// `parseint(text, base)`, bases 2 to 62 as Go's `big.Int` reads them (above 36, upper-case
/// letters are the digits 36 to 61).
pub fn parseint(c: &Call) -> Result<Value, Value> {
    let (text, base) = (c.str(0)?, c.int(1)?);
    if !(2..=62).contains(&base) {
        return Err(c.fail("the base must be between 2 and 62"));
    }
    let bad = || c.fail(format!("cannot parse {text:?} as a base {base} integer"));
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(&text)),
    };
    if digits.is_empty() {
        return Err(bad());
    }
    let mut n: f64 = 0.0;
    let mut exact: Option<i64> = Some(0);
    for ch in digits.chars() {
        let d = digit(ch, base as u32).ok_or_else(bad)? as i64;
        exact = exact.and_then(|e| e.checked_mul(base)).and_then(|e| e.checked_add(d));
        n = n * base as f64 + d as f64;
    }
    Ok(match (exact, negative) {
        (Some(i), true) => Value::Int(-i),
        (Some(i), false) => Value::Int(i),
        (None, true) => num_value(-n),
        (None, false) => num_value(n),
    })
}

fn digit(ch: char, base: u32) -> Option<u32> {
    let d = match ch {
        '0'..='9' => ch as u32 - '0' as u32,
        'a'..='z' => ch as u32 - 'a' as u32 + 10,
        'A'..='Z' if base <= 36 => ch as u32 - 'A' as u32 + 10,
        'A'..='Z' => ch as u32 - 'A' as u32 + 36,
        _ => return None,
    };
    (d < base).then_some(d)
}

pub fn range(c: &Call) -> Result<Value, Value> {
    let nums: Vec<f64> = (0..c.args.len()).map(|i| c.num(i).map(Num::f)).collect::<Result<_, _>>()?;
    let (start, end, step) = match nums.as_slice() {
        [end] => (0.0, *end, 1.0),
        [start, end] => (*start, *end, if start > end { -1.0 } else { 1.0 }),
        [start, end, step] => (*start, *end, *step),
        _ => unreachable!("the table allows 1 to 3 arguments"),
    };
    if step == 0.0 {
        return Err(c.fail("the step must not be zero"));
    }
    if (step > 0.0 && start > end) || (step < 0.0 && start < end) {
        return Err(c.fail("the step goes away from the limit"));
    }
    let count = ((end - start) / step).ceil();
    if !count.is_finite() || count > RANGE_LIMIT as f64 {
        return Err(c.fail(format!("more than {RANGE_LIMIT} values would be generated")));
    }
    let count = count.max(0.0) as usize;
    Ok(Value::List((0..count).map(|i| Node::new(num_value(start + step * i as f64), None)).collect()))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_errors, check};

    #[test]
    fn logarithms_and_bases() {
        check(&[
            ("log(8, 2)", "3"),
            ("log(100, 10)", "2"),
            ("log(1, 5)", "0"),
            ("parseint(\"zZ\", 62)", "2231"),
            ("parseint(\"zz\", 36)", "1295"),
            ("parseint(\"-FF\", 16)", "-255"),
            ("parseint(\"+101\", 2)", "5"),
            ("parseint(\"ffffffffffffffffff\", 16)", "4.722366482869645e+21"),
        ]);
        assert_errors(&["log(0, 10)", "log(\"x\", 2)", "parseint(\"\", 10)", "parseint(\"2\", 2)", "parseint(\"z\", 99)", "parseint(\"Z\", 35)"]);
    }
}

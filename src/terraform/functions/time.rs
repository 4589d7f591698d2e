//! `formatdate`, `timeadd` and `timecmp`: RFC 3339 timestamps as Go's `time.Parse` reads them
//! (strictly: `T` and `Z` upper-case, fractional seconds allowed), Go's duration syntax, and
//! Terraform's own format verbs. The calendar arithmetic is a few lines (days from a civil
//! date and back), smaller than a date crate and exactly Go's proleptic Gregorian calendar.

use super::args::Call;
use crate::model::date::{civil_from_days, days_from_civil, days_in_month};
use crate::model::Value;

/// An instant with the UTC offset it was written with.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Time {
    /// Seconds since 1970-01-01T00:00:00Z.
    seconds: i64,
    nanos: u32,
    /// Seconds east of UTC.
    offset: i32,
}

const MONTHS: [&str; 12] = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const DAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/// Local date and time fields of a [`Time`].
struct Fields {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    weekday: usize,
}

impl Time {
    fn fields(self) -> Fields {
        let local = self.seconds + self.offset as i64;
        let days = local.div_euclid(86_400);
        let secs = local.rem_euclid(86_400) as u32;
        let (year, month, day) = civil_from_days(days);
        Fields { year, month, day, hour: secs / 3600, minute: secs / 60 % 60, second: secs % 60, weekday: (days + 4).rem_euclid(7) as usize }
    }

    /// Go's `Z07:00` (`zulu`) or `-07:00` / `-0700` zone forms.
    fn zone(self, colon: bool, zulu: bool) -> String {
        if zulu && self.offset == 0 {
            return "Z".into();
        }
        let sign = if self.offset < 0 { '-' } else { '+' };
        let (h, m) = (self.offset.unsigned_abs() / 3600, self.offset.unsigned_abs() / 60 % 60);
        if colon {
            format!("{sign}{h:02}:{m:02}")
        } else {
            format!("{sign}{h:02}{m:02}")
        }
    }

    /// RFC 3339 without fractional seconds, as Terraform prints times.
    fn rfc3339(self) -> String {
        let f = self.fields();
        format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}", f.year, f.month, f.day, f.hour, f.minute, f.second, self.zone(true, true))
    }
}

/// Reads `digits` ASCII digits at `at`.
fn number(s: &[u8], at: usize, digits: usize) -> Option<u32> {
    let part = s.get(at..at + digits)?;
    part.iter().all(u8::is_ascii_digit).then(|| part.iter().fold(0, |n, d| n * 10 + (d - b'0') as u32))
}

/// An RFC 3339 timestamp, as Go's `time.Parse(time.RFC3339, ...)` accepts it.
fn parse(text: &str) -> Option<Time> {
    let s = text.as_bytes();
    let sep = |at: usize, c: u8| s.get(at) == Some(&c);
    if !(sep(4, b'-') && sep(7, b'-') && sep(10, b'T') && sep(13, b':') && sep(16, b':')) {
        return None;
    }
    let (year, month, day) = (number(s, 0, 4)? as i64, number(s, 5, 2)?, number(s, 8, 2)?);
    let (hour, minute, second) = (number(s, 11, 2)?, number(s, 14, 2)?, number(s, 17, 2)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut at = 19;
    let mut nanos = 0u32;
    if sep(at, b'.') || sep(at, b',') {
        let digits = s[at + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || digits > 9 {
            return None;
        }
        nanos = number(s, at + 1, digits)? * 10u32.pow(9 - digits as u32);
        at += 1 + digits;
    }
    let offset = match s.get(at..)? {
        b"Z" => 0,
        [sign @ (b'+' | b'-'), ..] if s.len() == at + 6 && sep(at + 3, b':') => {
            let (h, m) = (number(s, at + 1, 2)?, number(s, at + 4, 2)?);
            if h > 23 || m > 59 {
                return None;
            }
            let offset = (h * 3600 + m * 60) as i32;
            if *sign == b'-' {
                -offset
            } else {
                offset
            }
        }
        _ => return None,
    };
    let local = days_from_civil(year, month, day) * 86_400 + (hour * 3600 + minute * 60 + second) as i64;
    Some(Time { seconds: local - offset as i64, nanos, offset })
}

fn timestamp(c: &Call, i: usize) -> Result<Time, Value> {
    let text = c.str(i)?;
    parse(&text).ok_or_else(|| c.fail(format!("{text:?} is not a valid RFC 3339 timestamp")))
}

/// A Go duration (`1h30m`, `-1.5s`, `300ms`) in nanoseconds.
fn duration(text: &str) -> Option<i128> {
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let number_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let number = &rest[..number_len];
        if number.is_empty() || number == "." {
            return None;
        }
        let unit_len = rest[number_len..].find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len() - number_len);
        let unit = match &rest[number_len..number_len + unit_len] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        total += number.parse::<f64>().ok()? * unit;
        rest = &rest[number_len + unit_len..];
    }
    (total < 9.3e18).then(|| if negative { -(total.round() as i128) } else { total.round() as i128 })
}

pub fn timeadd(c: &Call) -> Result<Value, Value> {
    let time = timestamp(c, 0)?;
    let text = c.str(1)?;
    let nanos = duration(&text).ok_or_else(|| c.fail(format!("{text:?} is not a valid duration")))?;
    let total = time.seconds as i128 * 1_000_000_000 + time.nanos as i128 + nanos;
    let moved = Time { seconds: total.div_euclid(1_000_000_000) as i64, nanos: total.rem_euclid(1_000_000_000) as u32, ..time };
    Ok(Value::Str(moved.rfc3339()))
}

pub fn timecmp(c: &Call) -> Result<Value, Value> {
    let (a, b) = (timestamp(c, 0)?, timestamp(c, 1)?);
    Ok(Value::Int(match (a.seconds, a.nanos).cmp(&(b.seconds, b.nanos)) {
        std::cmp::Ordering::Less => -1,
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Greater => 1,
    }))
}

/// `formatdate(spec, timestamp)`: runs of one letter are verbs (`YYYY`, `MMM`, `hh`, ...),
/// `'...'` is literal text (`''` a quote), anything else is copied.
pub fn formatdate(c: &Call) -> Result<Value, Value> {
    let spec = c.str(0)?;
    let time = timestamp(c, 1)?;
    let f = time.fields();
    let chars: Vec<char> = spec.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let ch = chars[i];
        let run = chars[i..].iter().take_while(|&&x| x == ch).count();
        if ch == '\'' {
            i += quoted(&chars[i..], &mut out).ok_or_else(|| c.fail("the format has an unterminated quoted literal"))?;
            continue;
        }
        if !ch.is_ascii_alphabetic() {
            out.push(ch);
            i += 1;
            continue;
        }
        let twelve = if f.hour % 12 == 0 { 12 } else { f.hour % 12 };
        let text = match (ch, run) {
            ('Y', 4) => format!("{:04}", f.year),
            ('Y', 2) => format!("{:02}", f.year.rem_euclid(100)),
            ('M', 4) => MONTHS[f.month as usize - 1].to_string(),
            ('M', 3) => MONTHS[f.month as usize - 1][..3].to_string(),
            ('M', 2) => format!("{:02}", f.month),
            ('M', 1) => f.month.to_string(),
            ('D', 2) => format!("{:02}", f.day),
            ('D', 1) => f.day.to_string(),
            ('E', 4) => DAYS[f.weekday].to_string(),
            ('E', 3) => DAYS[f.weekday][..3].to_string(),
            ('h', 2) => format!("{:02}", f.hour),
            ('h', 1) => f.hour.to_string(),
            ('H', 2) => format!("{twelve:02}"),
            ('H', 1) => twelve.to_string(),
            ('A', 2) => (if f.hour < 12 { "AM" } else { "PM" }).to_string(),
            ('a', 2) => (if f.hour < 12 { "am" } else { "pm" }).to_string(),
            ('m', 2) => format!("{:02}", f.minute),
            ('m', 1) => f.minute.to_string(),
            ('s', 2) => format!("{:02}", f.second),
            ('s', 1) => f.second.to_string(),
            ('Z', 1) => time.zone(true, true),
            ('Z', 3) if time.offset == 0 => "UTC".to_string(),
            ('Z', 3) => time.zone(false, false),
            ('Z', 4) => time.zone(false, false),
            ('Z', 5) => time.zone(true, false),
            _ => return Err(c.fail(format!("invalid date format verb {:?}", chars[i..i + run].iter().collect::<String>()))),
        };
        out.push_str(&text);
        i += run;
    }
    Ok(Value::Str(out))
}

/// Copies a `'...'` literal (starting at its opening quote) to `out`; how many characters it
/// took, `None` when it is not closed.
fn quoted(chars: &[char], out: &mut String) -> Option<usize> {
    let mut i = 1;
    loop {
        match chars.get(i)? {
            '\'' if chars.get(i + 1) == Some(&'\'') => {
                out.push('\'');
                i += 2;
            }
            '\'' if i == 1 => {
                // `''` outside a literal is a quote character.
                out.push('\'');
                return Some(2);
            }
            '\'' => return Some(i + 1),
            ch => {
                out.push(*ch);
                i += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_go() {
        let t = parse("2017-11-22T00:00:00-05:30").unwrap();
        assert_eq!((t.seconds, t.offset), (1_511_328_600, -19_800));
        assert_eq!(parse("2017-11-22T00:00:00.5Z").unwrap().nanos, 500_000_000);
        for bad in ["2017-11-22", "2017-11-22t00:00:00Z", "2017-02-29T00:00:00Z", "2017-11-22T24:00:00Z", "2017-11-22T00:00:00", "2017-11-22T00:00:00+0500"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn durations_like_go() {
        assert_eq!(duration("1h30m"), Some(5_400_000_000_000));
        assert_eq!(duration("-1.5s"), Some(-1_500_000_000));
        assert_eq!(duration("300ms"), Some(300_000_000));
        assert_eq!(duration("0"), Some(0));
        for bad in ["", "1", "1d", "h", "1.h2"] {
            assert_eq!(duration(bad), None, "{bad}");
        }
    }
}

#[cfg(test)]
mod function_tests {
    use super::super::testing::{assert_errors, check};

    #[test]
    fn formats_adds_and_compares() {
        check(&[
            ("formatdate(\"DD MMM YYYY hh:mm ZZZ\", \"2018-01-02T23:12:01Z\")", r#""02 Jan 2018 23:12 UTC""#),
            (
                "formatdate(\"EEEE, MMMM D, YY h:m:s H AA aa ZZZZZ ZZZZ Z\", \"2024-02-29T13:05:09-05:30\")",
                r#""Thursday, February 29, 24 13:5:9 1 PM pm -05:30 -0530 -05:30""#,
            ),
            ("formatdate(\"'quoted ''literal''' hh''mm\", \"2018-01-02T23:12:01Z\")", r#""quoted 'literal' 23'12""#),
            ("timeadd(\"2017-11-22T00:00:00Z\", \"-1h30m\")", r#""2017-11-21T22:30:00Z""#),
            ("timeadd(\"1999-12-31T23:59:59+01:00\", \"2s\")", r#""2000-01-01T00:00:01+01:00""#),
            ("timecmp(\"2017-11-22T01:00:00+01:00\", \"2017-11-22T00:00:00Z\")", "0"),
            ("timecmp(\"2017-11-22T00:00:00Z\", \"2017-11-22T00:00:00.5Z\")", "-1"),
        ]);
        assert_errors(&[
            "formatdate(\"YYY\", \"2018-01-02T23:12:01Z\")",
            "formatdate(\"'open\", \"2018-01-02T23:12:01Z\")",
            "timeadd(\"2018-01-02\", \"1h\")",
            "timeadd(\"2018-01-02T00:00:00Z\", \"1d\")",
            "timecmp(\"x\", \"y\")",
        ]);
    }
}

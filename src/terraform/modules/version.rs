//! Module version constraints as Terraform reads a call's `version` (hashicorp/go-version's
//! rules): comma-separated `=`, `!=`, `>`, `>=`, `<`, `<=`, `~>`, all of which must hold; the
//! highest version that meets them is chosen. A prerelease (`1.2.0-beta`) is chosen only when
//! a constraint names it exactly, as `terraform init` does.

use std::cmp::Ordering;

/// A version: numeric segments (at least three, missing ones zero), how many were written
/// (what `~>` keeps fixed), and the prerelease part (`beta.1`, empty for a release). Build
/// metadata (`+abc`) does not order versions and is dropped.
#[derive(Clone, Debug)]
pub struct Version {
    segments: Vec<u64>,
    written: usize,
    prerelease: String,
}

impl Version {
    /// `1.2.3`, `v1.2`, `1.2.3-beta.1+build`, `1.0beta`.
    pub fn parse(text: &str) -> Option<Version> {
        let text = text.trim();
        let text = text.strip_prefix('v').unwrap_or(text);
        let text = text.split_once('+').map_or(text, |(version, _)| version);
        let numbers_end = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
        let (numbers, rest) = text.split_at(numbers_end);
        let mut segments = numbers.split('.').map(|s| s.parse::<u64>().ok()).collect::<Option<Vec<u64>>>()?;
        let prerelease = rest.strip_prefix('-').unwrap_or(rest);
        let valid_prerelease = prerelease.split('.').all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '~'));
        if !rest.is_empty() && !valid_prerelease {
            return None;
        }
        let written = segments.len();
        segments.resize(written.max(3), 0);
        Some(Version { segments, written, prerelease: prerelease.to_string() })
    }

    pub fn is_prerelease(&self) -> bool {
        !self.prerelease.is_empty()
    }

    fn same_segments(&self, other: &Version) -> bool {
        compare_segments(&self.segments, &other.segments) == Ordering::Equal
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_segments(&self.segments, &other.segments).then_with(|| compare_prereleases(&self.prerelease, &other.prerelease))
    }
}

fn compare_segments(a: &[u64], b: &[u64]) -> Ordering {
    let len = a.len().max(b.len());
    (0..len).map(|i| a.get(i).unwrap_or(&0).cmp(b.get(i).unwrap_or(&0))).find(|o| o.is_ne()).unwrap_or(Ordering::Equal)
}

/// A release is above its prereleases; prereleases compare part by part, numbers numerically
/// and below words, a shorter list of equal parts first.
fn compare_prereleases(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        (false, false) => {}
    }
    let part = |p: &str| p.parse::<u64>().map_err(|_| p.to_string());
    let (mut left, mut right) = (a.split('.'), b.split('.'));
    loop {
        match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let order = match (part(x), part(y)) {
                    (Ok(x), Ok(y)) => x.cmp(&y),
                    (Ok(_), Err(_)) => Ordering::Less,
                    (Err(_), Ok(_)) => Ordering::Greater,
                    (Err(x), Err(y)) => x.cmp(&y),
                };
                if order.is_ne() {
                    return order;
                }
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Operator {
    Equal,
    NotEqual,
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
    Pessimistic,
}

/// Operators, longest first so that `>=` is not read as `>`.
const OPERATORS: [(&str, Operator); 8] = [
    ("~>", Operator::Pessimistic),
    (">=", Operator::GreaterOrEqual),
    ("<=", Operator::LessOrEqual),
    ("!=", Operator::NotEqual),
    ("=", Operator::Equal),
    (">", Operator::Greater),
    ("<", Operator::Less),
    ("", Operator::Equal),
];

/// A call's `version`: every constraint must hold. No `version` argument is no constraint.
#[derive(Clone, Debug, Default)]
pub struct Constraints(Vec<(Operator, Version)>);

impl Constraints {
    pub fn parse(text: &str) -> Result<Constraints, String> {
        let mut constraints = Vec::new();
        for single in text.split(',') {
            let single = single.trim();
            let (operator, rest) =
                OPERATORS.iter().find_map(|(symbol, op)| single.strip_prefix(symbol).map(|rest| (*op, rest))).expect("the empty operator matches");
            let version = Version::parse(rest).ok_or_else(|| format!("`{single}` is not a version constraint (e.g. `~> 4.1`, `>= 1.2, < 2.0`)"))?;
            constraints.push((operator, version));
        }
        Ok(Constraints(constraints))
    }

    /// Whether `terraform init` would accept `version` for this call.
    pub fn accepts(&self, version: &Version) -> bool {
        self.0.iter().all(|(op, wanted)| holds(*op, version, wanted)) && (!version.is_prerelease() || self.names_exactly(version))
    }

    fn names_exactly(&self, version: &Version) -> bool {
        self.0.iter().any(|(op, wanted)| *op == Operator::Equal && wanted == version)
    }

    /// The highest of `versions` (as the registry spells them) that is accepted.
    pub fn highest<'a>(&self, versions: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
        versions
            .into_iter()
            .filter_map(|text| Some((Version::parse(text)?, text)))
            .filter(|(v, _)| self.accepts(v))
            .max_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, text)| text)
    }
}

/// One constraint, with go-version's rule that a constraint without a prerelease never
/// matches a prerelease, and one with a prerelease only those of the same release.
fn holds(op: Operator, version: &Version, wanted: &Version) -> bool {
    let prerelease_ok = match (wanted.is_prerelease(), version.is_prerelease()) {
        (true, true) => version.same_segments(wanted),
        (false, true) => false,
        _ => true,
    };
    match op {
        Operator::Equal => version == wanted,
        Operator::NotEqual => version != wanted,
        Operator::Greater => prerelease_ok && version > wanted,
        Operator::GreaterOrEqual => prerelease_ok && version >= wanted,
        Operator::Less => prerelease_ok && version < wanted,
        Operator::LessOrEqual => prerelease_ok && version <= wanted,
        Operator::Pessimistic => prerelease_ok && (version.is_prerelease() || !wanted.is_prerelease()) && pessimistic(version, wanted),
    }
}

/// `~> 1.2.3` is `>= 1.2.3, < 1.3.0`; `~> 1.2` is `>= 1.2, < 2.0`: every written segment but
/// the last is fixed (so `~> 1` is only `>= 1`, as in go-version).
fn pessimistic(version: &Version, wanted: &Version) -> bool {
    let fixed = wanted.written.saturating_sub(1);
    version >= wanted && version.segments[..fixed] == wanted.segments[..fixed]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(constraint: &str, versions: &[&'static str]) -> Option<&'static str> {
        Constraints::parse(constraint).unwrap().highest(versions.iter().copied())
    }

    const RELEASES: &[&str] = &["0.9.0", "1.0.0", "1.1.0", "1.2.0", "1.2.7", "1.10.0", "2.0.0", "2.1.0-beta.1"];

    #[test]
    fn the_highest_version_meeting_every_constraint() {
        assert!(Constraints::parse("").is_err(), "an empty constraint string is not valid");
        assert_eq!(Constraints::default().highest(RELEASES.iter().copied()), Some("2.0.0"), "no version argument: the latest release");
        assert_eq!(pick("1.1.0", RELEASES), Some("1.1.0"));
        assert_eq!(pick("= 1.1", RELEASES), Some("1.1.0"));
        assert_eq!(pick("!= 2.0.0", RELEASES), Some("1.10.0"), "numbers compare numerically, not as text");
        assert_eq!(pick("> 1.0.0, < 1.2.7", RELEASES), Some("1.2.0"));
        assert_eq!(pick(">= 1.2, <= 1.2.7", RELEASES), Some("1.2.7"));
        assert_eq!(pick("~> 1.2", RELEASES), Some("1.10.0"));
        assert_eq!(pick("~> 1.2.0", RELEASES), Some("1.2.7"));
        assert_eq!(pick("~> 1", RELEASES), Some("2.0.0"), "go-version fixes no segment for `~> 1`");
        assert_eq!(pick("v1.2.7", RELEASES), Some("1.2.7"), "a leading v is tolerated");
        assert_eq!(pick(">= 3.0", RELEASES), None);
        assert!(Constraints::parse("~> one").is_err());
        assert!(Constraints::parse(">= 1.0,").is_err());
    }

    /// Terraform's own acceptance cases (registry versions 0.0.3-alpha.1, 0.0.2, 0.0.1).
    #[test]
    fn prereleases_only_when_named_exactly() {
        let registry = &["0.0.3-alpha.1", "0.0.2", "0.0.1"];
        assert_eq!(pick(">=0.0.3-alpha.1", registry), None);
        assert_eq!(pick("0.0.3-alpha.1, >=0.0.2", registry), None);
        assert_eq!(pick("=0.0.3-alpha.1", registry), Some("0.0.3-alpha.1"));
        assert_eq!(pick("0.0.3-alpha.1", registry), Some("0.0.3-alpha.1"));
        assert_eq!(pick("v0.0.3-alpha.1", registry), Some("0.0.3-alpha.1"));
        assert_eq!(pick("<=0.0.3-alpha.1", registry), Some("0.0.2"));
        assert_eq!(pick("~> 2.0", RELEASES), Some("2.0.0"), "2.1.0-beta.1 is not named");
    }

    #[test]
    fn versions_order_like_go_version() {
        let v = |text: &str| Version::parse(text).unwrap_or_else(|| panic!("{text}"));
        assert!(v("1.0.0-alpha") < v("1.0.0-alpha.1"));
        assert!(v("1.0.0-alpha.2") < v("1.0.0-alpha.10"));
        assert!(v("1.0.0-1") < v("1.0.0-alpha"));
        assert!(v("1.0.0-rc.1") < v("1.0.0"));
        assert_eq!(v("1.2"), v("1.2.0"));
        assert_eq!(v("1.2.0+build.5"), v("1.2.0"));
        assert!(v("1.0beta").is_prerelease());
        for bad in ["", "x", "1..2", "1.2.3-", "1.2.3-a..b"] {
            assert!(Version::parse(bad).is_none(), "{bad}");
        }
    }
}

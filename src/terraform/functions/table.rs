//! Every built-in function of Terraform 1.15 and OpenTofu, in one table: the list of what
//! charterguard evaluates (docs/usage.md's is checked against it) is derived from here.

use super::{collections as c, conversion as cv, crypto, encoding as e, files as f, network as n, numbers as num, paths as p};
use super::{provider as pv, sets as s, strings as st, template as t, tfvars as tv, time as tm, yaml as y, Call, R};
use crate::model::Value;

/// How a function is evaluated.
pub enum Kind {
    /// `try` and `can`: they see their arguments' errors.
    Catches(fn(Call) -> R),
    /// Moves values around: unknown elements and references pass through.
    Moves(fn(Call) -> R),
    /// Needs its arguments wholly known (an unknown anywhere makes the result unknown).
    Needs(fn(&Call) -> Result<Value, Value>),
    /// Not known before apply, or not knowable by charterguard: the result is unknown with
    /// this reason.
    Unknown(&'static str),
    /// Terraform refuses the call in a configuration: an error with this message.
    Rejected(&'static str),
}

pub struct Function {
    pub name: &'static str,
    /// Fewest and most arguments (`usize::MAX`: variadic).
    pub min: usize,
    pub max: usize,
    pub kind: Kind,
}

const ANY: usize = usize::MAX;

const fn f(name: &'static str, min: usize, max: usize, kind: Kind) -> Function {
    Function { name, min, max, kind }
}

use Kind::{Catches, Moves, Needs, Rejected, Unknown};

/// Sorted by name (a test checks), for [`find`].
pub static FUNCTIONS: &[Function] = &[
    f("abs", 1, 1, Needs(num::abs)),
    f("abspath", 1, 1, Needs(p::abspath)),
    f("alltrue", 1, 1, Moves(c::alltrue)),
    f("anytrue", 1, 1, Moves(c::anytrue)),
    f("base64decode", 1, 1, Needs(e::base64decode)),
    f("base64encode", 1, 1, Needs(e::base64encode)),
    f("base64gunzip", 1, 1, Needs(e::base64gunzip)),
    f("base64gzip", 1, 1, Needs(e::base64gzip)),
    f("base64sha256", 1, 1, Needs(crypto::base64sha256)),
    f("base64sha512", 1, 1, Needs(crypto::base64sha512)),
    f("basename", 1, 1, Needs(p::basename)),
    f("bcrypt", 1, 2, Unknown("bcrypt() uses a random salt: known only at apply")),
    f("can", 1, 1, Catches(c::can)),
    f("ceil", 1, 1, Needs(num::ceil)),
    f("chomp", 1, 1, Needs(st::chomp)),
    f("chunklist", 2, 2, Moves(c::chunklist)),
    f("cidrcontains", 2, 2, Needs(n::cidrcontains)),
    f("cidrhost", 2, 2, Needs(n::cidrhost)),
    f("cidrnetmask", 1, 1, Needs(n::cidrnetmask)),
    f("cidrsubnet", 3, 3, Needs(n::cidrsubnet)),
    f("cidrsubnets", 1, ANY, Needs(n::cidrsubnets)),
    f("coalesce", 0, ANY, Moves(c::coalesce)),
    f("coalescelist", 0, ANY, Moves(c::coalescelist)),
    f("compact", 1, 1, Moves(c::compact)),
    f("concat", 0, ANY, Moves(c::concat)),
    f("contains", 2, 2, Needs(s::contains)),
    f("csvdecode", 1, 1, Needs(e::csvdecode)),
    f("dirname", 1, 1, Needs(p::dirname)),
    f("distinct", 1, 1, Needs(s::distinct)),
    f("element", 2, 2, Moves(c::element)),
    f("endswith", 2, 2, Needs(st::endswith)),
    f("ephemeralasnull", 1, 1, Moves(c::unchanged)),
    f("file", 1, 1, Moves(f::file)),
    f("filebase64", 1, 1, Needs(f::filebase64)),
    f("filebase64sha256", 1, 1, Needs(f::filebase64sha256)),
    f("filebase64sha512", 1, 1, Needs(f::filebase64sha512)),
    f("fileexists", 1, 1, Needs(f::fileexists)),
    f("filemd5", 1, 1, Needs(f::filemd5)),
    f("fileset", 2, 2, Needs(f::fileset)),
    f("filesha1", 1, 1, Needs(f::filesha1)),
    f("filesha256", 1, 1, Needs(f::filesha256)),
    f("filesha512", 1, 1, Needs(f::filesha512)),
    f("flatten", 1, 1, Moves(c::flatten)),
    f("floor", 1, 1, Needs(num::floor)),
    f("format", 1, ANY, Needs(st::format)),
    f("formatdate", 2, 2, Needs(tm::formatdate)),
    f("formatlist", 1, ANY, Needs(st::formatlist)),
    f("indent", 2, 2, Needs(st::indent)),
    f("index", 2, 2, Needs(s::index)),
    f("issensitive", 1, 1, Unknown("issensitive() is not known: charterguard does not track which values are sensitive")),
    f("join", 1, ANY, Needs(st::join)),
    f("jsondecode", 1, 1, Needs(e::jsondecode)),
    f("jsonencode", 1, 1, Moves(e::jsonencode)),
    f("keys", 1, 1, Moves(c::keys)),
    f("length", 1, 1, Moves(c::length)),
    f("list", 0, ANY, Rejected("the list function was removed in Terraform 0.12; use tolist([...])")),
    f("log", 2, 2, Needs(num::log)),
    f("lookup", 2, 3, Moves(c::lookup)),
    f("lower", 1, 1, Needs(st::lower)),
    f("map", 0, ANY, Rejected("the map function was removed in Terraform 0.12; use tomap({...})")),
    f("matchkeys", 3, 3, Needs(s::matchkeys)),
    f("max", 1, ANY, Needs(num::max)),
    f("md5", 1, 1, Needs(crypto::md5)),
    f("merge", 0, ANY, Moves(c::merge)),
    f("min", 1, ANY, Needs(num::min)),
    f("nonsensitive", 1, 1, Moves(c::unchanged)),
    f("one", 1, 1, Moves(c::one)),
    f("parseint", 2, 2, Needs(num::parseint)),
    f("pathexpand", 1, 1, Needs(p::pathexpand)),
    f("plantimestamp", 0, 0, Unknown("plantimestamp() is the time of the plan: known only when Terraform plans")),
    f("pow", 2, 2, Needs(num::pow)),
    f("provider::aws::arn_build", 5, 5, Needs(pv::arn_build)),
    f("provider::aws::arn_parse", 1, 1, Needs(pv::arn_parse)),
    f("provider::aws::trim_iam_role_path", 1, 1, Needs(pv::trim_iam_role_path)),
    f("provider::aws::user_agent", 3, 3, Needs(pv::user_agent)),
    f("provider::terraform::decode_tfvars", 1, 1, Needs(tv::decode_tfvars)),
    f("provider::terraform::encode_expr", 1, 1, Needs(tv::encode_expr)),
    f("provider::terraform::encode_tfvars", 1, 1, Needs(tv::encode_tfvars)),
    f("range", 1, 3, Needs(num::range)),
    f("regex", 2, 2, Needs(st::regex)),
    f("regexall", 2, 2, Needs(st::regexall)),
    f("replace", 3, 3, Moves(st::replace)),
    f("reverse", 1, 1, Moves(c::reverse)),
    f("rsadecrypt", 2, 2, Unknown("rsadecrypt() needs a private key, which charterguard does not read")),
    f("sensitive", 1, 1, Moves(c::unchanged)),
    f("setintersection", 1, ANY, Needs(s::setintersection)),
    f("setproduct", 0, ANY, Moves(c::setproduct)),
    f("setsubtract", 2, 2, Needs(s::setsubtract)),
    f("setunion", 1, ANY, Needs(s::setunion)),
    f("sha1", 1, 1, Needs(crypto::sha1)),
    f("sha256", 1, 1, Needs(crypto::sha256)),
    f("sha512", 1, 1, Needs(crypto::sha512)),
    f("signum", 1, 1, Needs(num::signum)),
    f("slice", 3, 3, Moves(c::slice)),
    f("sort", 1, 1, Needs(s::sort)),
    f("split", 2, 2, Needs(st::split)),
    f("startswith", 2, 2, Needs(st::startswith)),
    f("strcontains", 2, 2, Needs(st::strcontains)),
    f("strrev", 1, 1, Needs(st::strrev)),
    f("substr", 3, 3, Needs(st::substr)),
    f("sum", 1, 1, Needs(num::sum)),
    f("templatefile", 2, 2, Moves(t::templatefile)),
    f("templatestring", 2, 2, Moves(t::templatestring)),
    f("textdecodebase64", 2, 2, Needs(e::textdecodebase64)),
    f("textencodebase64", 2, 2, Needs(e::textencodebase64)),
    f("timeadd", 2, 2, Needs(tm::timeadd)),
    f("timecmp", 2, 2, Needs(tm::timecmp)),
    f("timestamp", 0, 0, Unknown("timestamp() is known only at apply")),
    f("title", 1, 1, Needs(st::title)),
    f("tobool", 1, 1, Moves(cv::tobool)),
    f("tolist", 1, 1, Moves(cv::tolist)),
    f("tomap", 1, 1, Moves(cv::tomap)),
    f("tonumber", 1, 1, Moves(cv::tonumber)),
    f("toset", 1, 1, Moves(cv::toset)),
    f("tostring", 1, 1, Moves(cv::tostring)),
    f("transpose", 1, 1, Needs(s::transpose)),
    f("trim", 2, 2, Needs(st::trim)),
    f("trimprefix", 2, 2, Needs(st::trimprefix)),
    f("trimspace", 1, 1, Needs(st::trimspace)),
    f("trimsuffix", 2, 2, Needs(st::trimsuffix)),
    f("try", 1, ANY, Catches(c::try_)),
    f("type", 1, 1, Rejected("the type function is available only in terraform console")),
    f("upper", 1, 1, Needs(st::upper)),
    f("urldecode", 1, 1, Needs(e::urldecode)),
    f("urlencode", 1, 1, Needs(e::urlencode)),
    f("uuid", 0, 0, Unknown("uuid() is random at apply")),
    f("uuidv5", 2, 2, Needs(crypto::uuidv5)),
    f("values", 1, 1, Moves(c::values)),
    f("yamldecode", 1, 1, Needs(y::yamldecode)),
    f("yamlencode", 1, 1, Needs(y::yamlencode)),
    f("zipmap", 2, 2, Moves(c::zipmap)),
];

/// The built-in function `name` (without `core::`).
pub fn find(name: &str) -> Option<&'static Function> {
    FUNCTIONS.binary_search_by(|f| f.name.cmp(name)).ok().map(|i| &FUNCTIONS[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_unique() {
        for pair in FUNCTIONS.windows(2) {
            assert!(pair[0].name < pair[1].name, "{} before {}", pair[0].name, pair[1].name);
        }
        assert!(FUNCTIONS.iter().all(|f| find(f.name).is_some_and(|g| std::ptr::eq(f, g))));
    }

    /// docs/usage.md's list of functions (between `<!-- functions -->` markers), generated from the
    /// table: what is evaluated, what stays unknown and why, what is an error.
    fn readme_list() -> String {
        let names = |functions: Vec<&Function>| functions.iter().map(|f| format!("`{}`", f.name)).collect::<Vec<_>>().join(", ");
        let evaluated: Vec<&Function> = FUNCTIONS.iter().filter(|f| matches!(f.kind, Kind::Catches(_) | Kind::Moves(_) | Kind::Needs(_))).collect();
        let rejected: Vec<&Function> = FUNCTIONS.iter().filter(|f| matches!(f.kind, Kind::Rejected(_))).collect();
        let unknown: Vec<String> = FUNCTIONS
            .iter()
            .filter_map(|f| match f.kind {
                Kind::Unknown(reason) => Some(format!("- {reason}")),
                _ => None,
            })
            .collect();
        format!(
            "Evaluated ({}): {}.\n\nLeft unknown, with the reason:\n\n{}\n\nErrors, as Terraform rejects them: {}, and any name Terraform does not have.\n",
            evaluated.len(),
            names(evaluated),
            unknown.join("\n"),
            names(rejected),
        )
    }

    #[test]
    fn the_usage_docs_list_the_functions_of_the_table() {
        let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/usage.md"));
        let listed = readme
            .split("<!-- functions -->\n")
            .nth(1)
            .and_then(|rest| rest.split("<!-- /functions -->").next())
            .expect("docs/usage.md has a <!-- functions --> block");
        assert_eq!(listed, readme_list(), "docs/usage.md's list of functions differs from the table; the block should read:\n{}", readme_list());
    }

    #[test]
    fn only_the_apply_time_functions_stay_unknown() {
        let unknown: Vec<&str> = FUNCTIONS.iter().filter(|f| matches!(f.kind, Kind::Unknown(_))).map(|f| f.name).collect();
        assert_eq!(unknown, ["bcrypt", "issensitive", "plantimestamp", "rsadecrypt", "timestamp", "uuid"]);
    }
}

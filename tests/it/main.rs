//! The integration tests, in one binary: each module below was a test binary of its own, and
//! each of those linked the whole crate again. The support modules (`common`, `peers`,
//! `registry`, `k8s_api`) are shared; a test that needs another process environment (PATH,
//! credentials) runs the CLI with it rather than changing this process's.
//!
//! The rule fixture cases are the one other binary (`tests/rule_fixtures.rs`): they are
//! generated from `fixtures/` at run time, which libtest's `#[test]` cannot do.

mod common;
#[cfg(feature = "admission")]
mod https;
mod k8s_api;
mod peers;
mod registry;

mod action;
#[cfg(feature = "admission")]
mod admission;
mod altscore_monorepo;
#[cfg(feature = "aws")]
mod aws_live;
mod baseline;
mod corpus;
mod deploy;
mod deployed;
mod diff_base;
mod fingerprints;
mod gate;
mod hardness;
mod html_report;
mod installed_modules;
#[cfg(feature = "k8s-live")]
mod k8s_live;
mod merge;
mod modules_download;
mod moto_peer;
mod one_build;
mod plan;
mod platform;
mod pre_commit;
mod report_formats;
mod sarif_limits;
mod secrets;
mod suppress;
mod terraform_diff;
mod workflows;

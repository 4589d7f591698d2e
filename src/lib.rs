//! charterguard: checks infrastructure code and live state against the AltScore deployment
//! charter (DA-ALTSCORE-001).
//!
//! Data flows one way: sources ([`terraform`], [`kubernetes`]) load the inputs that
//! [`input`] found into one [`model::Model`], the [`engine`] evaluates the [`rules`] over
//! it, and [`report`]ers turn the findings into formats.

pub mod argocd;
#[cfg(feature = "aws")]
pub mod aws;
pub mod baseline;
pub mod calendar;
pub mod config;
pub mod deployed;
pub mod engine;
pub mod helm;
pub mod input;
#[cfg(feature = "k8s-live")]
pub mod k8s_live;
pub mod kubernetes;
pub mod kustomize;
pub mod model;
pub mod plan;
pub mod redact;
pub mod report;
pub mod rules;
pub mod scan;
pub mod suppress;
pub mod terraform;
pub mod yaml;

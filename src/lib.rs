//! charterguard: checks infrastructure code and live state against the AltScore deployment
//! charter (DA-ALTSCORE-001).
//!
//! Data flows one way: sources load inputs into one [`model::Model`], the [`engine`]
//! evaluates the [`rules`] over it, and [`report`]ers turn the findings into formats.

pub mod engine;
pub mod input;
pub mod model;
pub mod report;
pub mod rules;
pub mod terraform;
pub mod config;

//! Terraform source: HCL and `.tf.json` modules evaluated into resources.

pub mod eval;

//! kubectl-mysql: a kubectl plugin and an embedded operator for `mysqls.otus.homework`.
//!
//! The library holds everything the commands share: the API types, rendering, the
//! reconciler. `main.rs` only parses and dispatches.

pub mod api;
pub mod cli;
pub mod commands;
pub mod error;
pub mod install;
pub mod kubeclient;
pub mod manifests;
pub mod names;
pub mod reconcile;
pub mod render;
pub mod s3;
pub mod schedule;

pub use error::{Error, Result};

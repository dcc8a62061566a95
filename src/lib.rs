//! kubectl-mysql: a kubectl plugin and an embedded operator for `mysqls.otus.homework`.
//!
//! The library holds everything the commands share: the API types, rendering, the
//! reconciler. The command line (`cli`, `commands`) is the binary's own: nothing here
//! imports it.

pub mod api;
pub mod binlog;
pub mod dialect;
pub mod install;
pub mod kubeclient;
pub mod manifests;
pub mod names;
pub mod pod_security;
pub mod reconcile;
pub mod render;
pub mod s3;
pub mod schedule;
pub mod tls;

//! synapse-planner: size, check and (later) generate a high-availability Matrix Synapse
//! deployment. See ARCHITECTURE.md for the map.
//!
//! Everything outside `ui` and `cli` is the domain core: no web dependency, no clock,
//! no randomness, no hash-map order, and no panic on any input.

pub mod assumptions;
pub mod bundle;
pub mod charts;
pub mod compare;
pub mod deploy;
pub mod explain;
pub mod findings;
pub mod format;
pub mod plan;
pub mod report;
mod severity;
pub mod sizing;
pub mod syntax;

pub use severity::Severity;

#[cfg(not(target_arch = "wasm32"))]
pub mod cli;

#[cfg(target_arch = "wasm32")]
pub mod ui;

//! What the deployment agrees on, below sizing: the hosts and their addresses
//! ([`topology`]), the ports ([`ports`]), the playbook's Synapse workers ([`workers`]),
//! and the names, paths, users, metric names ([`facts`]), backup schedule ([`backups`])
//! and failover timings ([`failover`]), and what listens on each host and who may
//! connect ([`listeners`]), that one generated file writes and others read.
//!
//! Each fact is here once, with its reason. Sizing and findings compute from these, and
//! every generator of the bundle names them instead of copying a value, so a file that
//! writes a name and the file that reads it cannot drift apart.

pub mod backups;
pub mod facts;
pub mod failover;
pub mod listeners;
pub mod ports;
pub mod topology;
pub mod workers;

pub use topology::{Host, Topology};

//! Findings on storage growth: disks that fill within the planned span.

use super::Out;
use crate::plan::Plan;
use crate::sizing::storage::Storage;

pub(crate) fn check(_plan: &Plan, _storage: &Storage, _out: &mut Out) {}

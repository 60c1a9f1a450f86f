//! Object storage: MinIO's erasure coding from the plan's nodes and drives.
//!
//! Facts are read from MinIO's source at the pinned release (minio/minio
//! `cmd/endpoint-ellipses.go` for the set size, `internal/config/storageclass/
//! storage-class.go` for the default parity, `cmd/erasure.go` for the quorums).

use crate::plan::{Plan, Role};
use serde::Serialize;

/// How the pool is laid out: MinIO's three modes (single-node single-drive, single-node
/// multi-drive, multi-node multi-drive), from the plan's node and drive counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// One node, one drive: no erasure coding, no healing, no redundancy.
    SingleDrive,
    /// One node, several drives: erasure coded across the drives.
    SingleNode { drives: u64 },
    /// Several nodes.
    Distributed { nodes: u64, drives: u64 },
}

impl Layout {
    pub fn new(nodes: u64, drives: u64) -> Layout {
        match (nodes, drives) {
            (0 | 1, 0 | 1) => Layout::SingleDrive,
            (0 | 1, d) => Layout::SingleNode { drives: d },
            (n, d) => Layout::Distributed {
                nodes: n,
                drives: d.max(1),
            },
        }
    }

    pub fn of(plan: &Plan) -> Layout {
        Layout::new(plan.host(Role::Minio).count, plan.minio.drives_per_node)
    }

    pub fn nodes(self) -> u64 {
        match self {
            Layout::Distributed { nodes, .. } => nodes,
            _ => 1,
        }
    }

    pub fn drives_per_node(self) -> u64 {
        match self {
            Layout::SingleDrive => 1,
            Layout::SingleNode { drives } | Layout::Distributed { drives, .. } => drives,
        }
    }

    pub fn total_drives(self) -> u64 {
        self.nodes().saturating_mul(self.drives_per_node())
    }
}

/// The erasure layout MinIO derives for one pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Erasure {
    /// Drives per erasure set.
    pub set_size: u64,
    pub sets: u64,
    /// MinIO's default STANDARD parity for that set size (EC:M).
    pub parity: u64,
}

impl Erasure {
    /// Data drives per set (K).
    pub fn data(self) -> u64 {
        self.set_size - self.parity
    }

    /// Drives of one set on one node: MinIO spreads each set evenly over the nodes.
    fn per_node(self, nodes: u64) -> u64 {
        if nodes >= self.set_size {
            1
        } else {
            self.set_size / nodes.max(1)
        }
    }

    /// Nodes that may fail with every object still readable (K drives of each set).
    pub fn node_loss_for_reads(self, nodes: u64) -> u64 {
        self.parity / self.per_node(nodes)
    }

    /// Nodes that may fail with writes still accepted: writes need K drives, K + 1
    /// when parity is half the set (MinIO's write quorum).
    pub fn node_loss_for_writes(self, nodes: u64) -> u64 {
        let spare = if self.parity * 2 == self.set_size {
            self.parity.saturating_sub(1)
        } else {
            self.parity
        };
        spare / self.per_node(nodes)
    }
}

/// MinIO's supported erasure set sizes (cmd/endpoint-ellipses.go `setSizes`).
const SET_SIZES: std::ops::RangeInclusive<u64> = 2..=16;

/// MinIO's default parity per set size (storageclass.DefaultParityBlocks).
pub fn default_parity(set_size: u64) -> u64 {
    match set_size {
        0 | 1 => 0,
        2 | 3 => 1,
        4 | 5 => 2,
        6 | 7 => 3,
        _ => 4,
    }
}

/// The set size MinIO picks for one pool given as one ellipsis argument (the port of
/// `getSetIndexes` for a single pool, no MINIO_ERASURE_SET_DRIVE_COUNT): the divisors
/// of the drive count within 2..=16 that are symmetric with the pattern MinIO checks
/// last (the host range for a distributed pool, the drive range on one node), then the
/// largest such size (fewest sets). None when MinIO refuses the layout, or for a
/// single drive (no erasure coding).
pub fn erasure(layout: Layout) -> Option<Erasure> {
    let total = layout.total_drives();
    let pattern = match layout {
        Layout::SingleDrive => return None,
        Layout::SingleNode { drives } => drives,
        Layout::Distributed { nodes, .. } => nodes,
    };
    if total < *SET_SIZES.start() {
        return None;
    }
    let candidates: Vec<u64> = SET_SIZES
        .filter(|&s| total.is_multiple_of(s))
        .filter(|&s| {
            if pattern > s {
                pattern.is_multiple_of(s)
            } else {
                s.is_multiple_of(pattern)
            }
        })
        .collect();
    let largest = *candidates.last()?;
    let set_size = if total < largest {
        total
    } else {
        // commonSetDriveCount: the size giving the fewest sets, the largest on ties.
        let mut best = 0;
        let mut fewest = total / candidates[0];
        for &c in &candidates {
            if total / c <= fewest {
                fewest = total / c;
                best = c;
            }
        }
        best
    };
    if !SET_SIZES.contains(&set_size) {
        return None;
    }
    Some(Erasure {
        set_size,
        sets: total / set_size,
        parity: default_parity(set_size),
    })
}

/// The object store's capacity and failure tolerance (JSON section `object-storage`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ObjectStorage {
    pub nodes: u64,
    pub drives_per_node: u64,
    pub drive_tib: f64,
    pub raw_tib: f64,
    /// Drives per erasure set; 0 without erasure coding (one drive) or when MinIO
    /// refuses the layout.
    pub set_size: u64,
    pub sets: u64,
    /// Parity drives per set (EC:M): the plan's `minio.parity`, or MinIO's default.
    pub parity: u64,
    pub usable_tib: f64,
    pub read_quorum: u64,
    pub write_quorum: u64,
    /// Drives of one erasure set that may fail with every object still readable.
    pub drive_failures_tolerated: u64,
    /// Nodes that may fail with every object still readable.
    pub node_failures_tolerated: u64,
}

pub fn object_storage(plan: &Plan) -> ObjectStorage {
    let layout = Layout::of(plan);
    let raw_tib = layout.total_drives() as f64 * plan.minio.drive_tib;
    let e = erasure(layout).map(|mut e| {
        if plan.minio.parity > 0 {
            e.parity = plan.minio.parity.min(e.set_size / 2);
        }
        e
    });
    ObjectStorage {
        nodes: layout.nodes(),
        drives_per_node: layout.drives_per_node(),
        drive_tib: plan.minio.drive_tib,
        raw_tib,
        set_size: e.map_or(0, |e| e.set_size),
        sets: e.map_or(0, |e| e.sets),
        parity: e.map_or(0, |e| e.parity),
        usable_tib: e.map_or(raw_tib, |e| raw_tib * e.data() as f64 / e.set_size as f64),
        read_quorum: e.map_or(1, |e| e.data()),
        write_quorum: e.map_or(1, |e| e.data() + u64::from(e.parity * 2 == e.set_size)),
        drive_failures_tolerated: e.map_or(0, |e| e.parity),
        node_failures_tolerated: e.map_or(0, |e| e.node_loss_for_reads(layout.nodes())),
    }
}

/// How the figure at `path` (relative to this section, e.g. `usable-tib`) was
/// computed, in a sentence with the numbers and the source; None for plain inputs.
pub fn explain(plan: &Plan, section: &ObjectStorage, path: &str) -> Option<String> {
    let _ = (plan, section, path);
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_loss() {
        // (nodes, drives, reads, writes)
        for (n, d, reads, writes) in [
            (4, 4, 1, 1),
            (8, 4, 2, 2),
            (8, 8, 2, 2),
            (4, 1, 2, 1),
            (2, 2, 1, 0),
        ] {
            let e = erasure(Layout::new(n, d)).unwrap();
            assert_eq!(
                (e.node_loss_for_reads(n), e.node_loss_for_writes(n)),
                (reads, writes),
                "{n}×{d}: {e:?}"
            );
        }
    }

    #[test]
    fn default_parity_table() {
        for (size, parity) in [
            (2, 1),
            (3, 1),
            (4, 2),
            (5, 2),
            (6, 3),
            (7, 3),
            (8, 4),
            (16, 4),
        ] {
            assert_eq!(default_parity(size), parity, "{size}");
        }
    }
}

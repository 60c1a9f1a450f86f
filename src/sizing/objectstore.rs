//! Object storage: MinIO's erasure coding from the plan's nodes and drives.
//!
//! Facts are read from MinIO's source at the release the bundle pins
//! (minio/minio RELEASE.2025-09-07T16-13-09Z):
//! * `cmd/endpoint-ellipses.go` (`getSetIndexes`, `possibleSetCountsWithSymmetry`,
//!   `commonSetDriveCount`): the erasure set size MinIO picks for a pool;
//! * minio/pkg `ellipses.argExpander`: endpoints expand with the host varying fastest, so
//!   consecutive endpoints (one set) spread evenly over the nodes;
//! * `internal/config/storageclass/storage-class.go` (`DefaultParityBlocks`,
//!   `ValidateParity`, `LookupConfig`): the default STANDARD parity per set size, the
//!   largest parity accepted (half the set), MINIO_STORAGE_CLASS_STANDARD=EC:M;
//! * `cmd/erasure.go` (`defaultRQuorum`, `defaultWQuorum`) and `cmd/erasure-metadata.go`
//!   (`objectQuorumFromMeta`): read quorum K = N − M, write quorum K (K + 1 when K = M);
//! * `cmd/erasure-server-pool.go` (`newErasureServerPools`): a pool whose parity fails
//!   `ValidateParity` does not start ("parity validation returned an error").
//!
//! MinIO's documentation says the same in prose: docs.min.io, Operations › Concepts ›
//! Erasure Coding ("N (ERASURE SET SIZE) = K (DATA) + M (PARITY)", parity "between EC:0
//! and 1/2 the Erasure Set size", reads need K drives, writes K, or K + 1 at M = N/2).

use crate::assumptions as a;
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

    /// The mode, without its counts.
    pub fn mode(self) -> Mode {
        match self {
            Layout::SingleDrive => Mode::SingleDrive,
            Layout::SingleNode { .. } => Mode::SingleNode,
            Layout::Distributed { .. } => Mode::Distributed,
        }
    }
}

/// MinIO's mode as the report names it (JSON `object-storage.layout`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    SingleDrive,
    SingleNode,
    Distributed,
}

impl Mode {
    /// `single-drive`, `single-node`, `distributed`: the JSON value, shown as is.
    pub fn key(self) -> &'static str {
        match self {
            Mode::SingleDrive => "single-drive",
            Mode::SingleNode => "single-node",
            Mode::Distributed => "distributed",
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.key())
    }
}

/// The erasure layout MinIO derives for one pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Erasure {
    /// Drives per erasure set (N).
    pub set_size: u64,
    pub sets: u64,
    /// Parity drives per set (EC:M); [`erasure`] gives MinIO's default for the size.
    pub parity: u64,
}

impl Erasure {
    /// Data drives per set (K = N − M).
    pub fn data(self) -> u64 {
        self.set_size.saturating_sub(self.parity)
    }

    /// Drives that must answer for a read (cmd/erasure.go defaultRQuorum: N − M).
    pub fn read_quorum(self) -> u64 {
        self.data()
    }

    /// Drives that must answer for a write (cmd/erasure.go defaultWQuorum): K, or
    /// K + 1 when data and parity are equal, so two halves cannot both accept writes.
    pub fn write_quorum(self) -> u64 {
        self.data() + u64::from(self.data() == self.parity && self.parity > 0)
    }

    /// Drives of one set that may be offline with every object still readable.
    pub fn drive_loss_for_reads(self) -> u64 {
        self.set_size.saturating_sub(self.read_quorum())
    }

    /// Drives of one set that may be offline with writes still accepted.
    pub fn drive_loss_for_writes(self) -> u64 {
        self.set_size.saturating_sub(self.write_quorum())
    }

    /// Drives of one set on one node. MinIO expands `host{1...n}/data{1...d}` with the
    /// host varying fastest (minio/pkg ellipses.argExpander) and cuts consecutive
    /// endpoints into sets, and the set size is symmetric with the node count: a set
    /// has `set_size / nodes` drives on each node, or one on each of `set_size` nodes.
    pub fn per_node(self, nodes: u64) -> u64 {
        if nodes >= self.set_size {
            1
        } else {
            (self.set_size / nodes.max(1)).max(1)
        }
    }

    /// Nodes that may fail with every object still readable (K drives of each set).
    pub fn node_loss_for_reads(self, nodes: u64) -> u64 {
        self.drive_loss_for_reads() / self.per_node(nodes)
    }

    /// Nodes that may fail with writes still accepted (write quorum of each set).
    pub fn node_loss_for_writes(self, nodes: u64) -> u64 {
        self.drive_loss_for_writes() / self.per_node(nodes)
    }

    /// The parity MinIO gives an object written while `offline` drives of its set are
    /// down: with the default `optimize=availability` it adds one parity shard per
    /// offline drive, up to half the set (cmd/erasure-object.go putObject,
    /// AvailabilityOptimized), so new objects keep their redundancy and take more space.
    pub fn parity_with_offline(self, offline: u64) -> u64 {
        self.parity
            .saturating_add(offline)
            .min(self.set_size / 2)
            .max(self.parity)
    }
}

/// The smallest and largest erasure set MinIO forms (cmd/endpoint-ellipses.go setSizes).
fn set_sizes() -> std::ops::RangeInclusive<u64> {
    (a::fixed!(MINIO_SET_SIZE_MIN) as u64)..=(a::fixed!(MINIO_SET_SIZE_MAX) as u64)
}

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

/// The largest STANDARD parity MinIO accepts for a set (storageclass.ValidateParity:
/// at most setDriveCount / 2, integer division).
pub fn max_parity(set_size: u64) -> u64 {
    (set_size as f64 * a::fixed!(MINIO_MAX_PARITY_SHARE)).floor() as u64
}

/// The set size MinIO picks for one pool given as one ellipsis argument (the port of
/// `getSetIndexes` for a single pool, no MINIO_ERASURE_SET_DRIVE_COUNT): the divisors
/// of the drive count within 2..=16 that are symmetric with the pattern MinIO checks
/// last (the host range for a distributed pool, the drive range on one node), then the
/// largest such size (fewest sets). None when MinIO refuses the layout, or for a
/// single drive (no erasure coding). Parity is MinIO's default for the size.
pub fn erasure(layout: Layout) -> Option<Erasure> {
    let total = layout.total_drives();
    let pattern = match layout {
        Layout::SingleDrive => return None,
        Layout::SingleNode { drives } => drives,
        Layout::Distributed { nodes, .. } => nodes,
    };
    if total < *set_sizes().start() {
        return None;
    }
    let candidates: Vec<u64> = set_sizes()
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
    if !set_sizes().contains(&set_size) {
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
    /// `single-drive`, `single-node` or `distributed`.
    pub layout: Mode,
    pub nodes: u64,
    pub drives_per_node: u64,
    pub drive_tib: f64,
    pub total_drives: u64,
    pub raw_tib: f64,
    /// Raw storage on one node (what MinIO's RAM guidance is read by).
    pub tib_per_node: f64,
    /// Drives per erasure set (N): 1 for a single drive (MinIO's set of one, parity 0),
    /// 0 when MinIO refuses the layout.
    pub set_size: u64,
    pub sets: u64,
    /// MinIO's default STANDARD parity for the set size.
    pub default_parity: u64,
    /// `minio.parity` as the plan sets it; 0 = MinIO's default.
    pub requested_parity: u64,
    /// Parity drives per set (EC:M) MinIO writes with: the plan's, or the default.
    pub parity: u64,
    /// The largest parity MinIO accepts for this set size (half the set).
    pub max_parity: u64,
    /// Data drives per set (K = N − M).
    pub data_drives: u64,
    pub usable_tib: f64,
    /// Drives of a set that must answer for a read (K).
    pub read_quorum: u64,
    /// Drives of a set that must answer for a write (K, or K + 1 when M = N/2).
    pub write_quorum: u64,
    /// Drives of one erasure set on each node.
    pub drives_per_set_per_node: u64,
    /// Drives of one erasure set that may fail with every object still readable.
    pub drive_failures_tolerated: u64,
    /// Drives of one erasure set that may fail with writes still accepted.
    pub drive_failures_tolerated_for_writes: u64,
    /// Nodes that may fail with every object still readable.
    pub node_failures_tolerated: u64,
    /// Nodes that may fail with writes still accepted.
    pub node_failures_tolerated_for_writes: u64,
    /// MinIO's RAM guidance for one node, by its raw storage.
    pub ram_guidance_gib: f64,
    /// Every parity MinIO accepts for this set (EC:1 … EC:N/2; EC:0 for a single drive),
    /// with what it gives: the trade-off behind `minio.parity`.
    pub parity_options: Vec<ParityOption>,
    /// MinIO would not start with this layout or parity.
    pub refused: bool,
    /// Why MinIO refuses it; null when it starts.
    pub problem: Option<String>,
}

/// What one parity gives for the plan's layout.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ParityOption {
    pub parity: u64,
    pub data_drives: u64,
    pub usable_tib: f64,
    pub read_quorum: u64,
    pub write_quorum: u64,
    pub drive_failures_tolerated: u64,
    pub drive_failures_tolerated_for_writes: u64,
    pub node_failures_tolerated: u64,
    pub node_failures_tolerated_for_writes: u64,
    /// The parity the plan runs with.
    pub in_effect: bool,
}

/// Rounds a figure to hundredths (TiB, Mbit/s) so the JSON shows what people read.
pub(crate) fn round2(x: f64) -> f64 {
    if x.is_finite() {
        (x * 100.0).round() / 100.0
    } else {
        0.0
    }
}

/// The erasure layout in effect: MinIO's set for the plan's layout with the plan's
/// parity (or the default), or why MinIO refuses to start. A single drive is a set of
/// one with parity 0 (MinIO's xl-single mode: DefaultParityBlocks(1) = 0).
pub fn in_effect(plan: &Plan) -> Result<Erasure, String> {
    let layout = Layout::of(plan);
    let requested = plan.minio.parity;
    let e = match (layout, erasure(layout)) {
        (Layout::SingleDrive, _) => Erasure {
            set_size: 1,
            sets: 1,
            parity: 0,
        },
        (_, Some(e)) => e,
        (_, None) => {
            return Err(format!(
                "MinIO refuses {} drive(s) over {} node(s): no erasure set size of {}–{} drives divides the drive count symmetrically over the nodes (cmd/endpoint-ellipses.go).",
                layout.total_drives(),
                layout.nodes(),
                set_sizes().start(),
                set_sizes().end()
            ));
        }
    };
    if requested == 0 {
        return Ok(e);
    }
    let max = max_parity(e.set_size);
    if requested > max {
        let what = if e.set_size == 1 {
            "a single drive has no erasure coding, so no parity is possible (ValidateParity: parity ≤ 1/2 = 0)".to_string()
        } else {
            format!(
                "an erasure set of {} drives takes at most EC:{max} (half the set)",
                e.set_size
            )
        };
        return Err(format!(
            "MinIO refuses MINIO_STORAGE_CLASS_STANDARD=EC:{requested} and does not start: {what} (storageclass.ValidateParity, \"parity validation returned an error\")."
        ));
    }
    Ok(Erasure {
        parity: requested,
        ..e
    })
}

pub fn object_storage(plan: &Plan) -> ObjectStorage {
    let layout = Layout::of(plan);
    let nodes = layout.nodes();
    let total = layout.total_drives();
    let raw_tib = total as f64 * plan.minio.drive_tib;
    let tib_per_node = layout.drives_per_node() as f64 * plan.minio.drive_tib;
    let base = match layout {
        Layout::SingleDrive => Some(Erasure {
            set_size: 1,
            sets: 1,
            parity: 0,
        }),
        l => erasure(l),
    };
    let effect = in_effect(plan);
    let ok = effect.as_ref().ok().copied();
    // Node loss: a single node takes every drive with it.
    let node_loss = |f: fn(Erasure, u64) -> u64| match (layout, ok) {
        (Layout::Distributed { .. }, Some(e)) => f(e, nodes),
        _ => 0,
    };
    ObjectStorage {
        layout: layout.mode(),
        nodes,
        drives_per_node: layout.drives_per_node(),
        drive_tib: plan.minio.drive_tib,
        total_drives: total,
        raw_tib: round2(raw_tib),
        tib_per_node: round2(tib_per_node),
        set_size: base.map_or(0, |e| e.set_size),
        sets: base.map_or(0, |e| e.sets),
        default_parity: base.map_or(0, |e| e.parity),
        requested_parity: plan.minio.parity,
        parity: match (ok, base) {
            (Some(e), _) => e.parity,
            (None, Some(_)) => plan.minio.parity,
            (None, None) => 0,
        },
        max_parity: base.map_or(0, |e| max_parity(e.set_size)),
        data_drives: ok.map_or(0, Erasure::data),
        usable_tib: ok.map_or(0.0, |e| {
            round2(raw_tib * e.data() as f64 / e.set_size.max(1) as f64)
        }),
        read_quorum: ok.map_or(0, Erasure::read_quorum),
        write_quorum: ok.map_or(0, Erasure::write_quorum),
        drives_per_set_per_node: base.map_or(0, |e| match layout {
            Layout::Distributed { .. } => e.per_node(nodes),
            _ => e.set_size,
        }),
        drive_failures_tolerated: ok.map_or(0, Erasure::drive_loss_for_reads),
        drive_failures_tolerated_for_writes: ok.map_or(0, Erasure::drive_loss_for_writes),
        node_failures_tolerated: node_loss(Erasure::node_loss_for_reads),
        node_failures_tolerated_for_writes: node_loss(Erasure::node_loss_for_writes),
        ram_guidance_gib: a::minio_ram_band_gib(tib_per_node),
        parity_options: base.map_or_else(Vec::new, |b| {
            let first = u64::from(b.set_size > 1);
            (first..=max_parity(b.set_size))
                .map(|parity| {
                    let e = Erasure { parity, ..b };
                    let nodes_lost = |f: fn(Erasure, u64) -> u64| match layout {
                        Layout::Distributed { .. } => f(e, nodes),
                        _ => 0,
                    };
                    ParityOption {
                        parity,
                        data_drives: e.data(),
                        usable_tib: round2(raw_tib * e.data() as f64 / e.set_size.max(1) as f64),
                        read_quorum: e.read_quorum(),
                        write_quorum: e.write_quorum(),
                        drive_failures_tolerated: e.drive_loss_for_reads(),
                        drive_failures_tolerated_for_writes: e.drive_loss_for_writes(),
                        node_failures_tolerated: nodes_lost(Erasure::node_loss_for_reads),
                        node_failures_tolerated_for_writes: nodes_lost(
                            Erasure::node_loss_for_writes,
                        ),
                        in_effect: ok.is_some_and(|o| o.parity == parity),
                    }
                })
                .collect()
        }),
        refused: effect.is_err(),
        problem: effect.err(),
    }
}

/// How the figure at `path` (relative to this section, e.g. `usable-tib`) was
/// computed, in a sentence with the numbers and the source; None for plain inputs.
pub fn explain(plan: &Plan, s: &ObjectStorage, path: &str) -> Option<String> {
    if let Some(rest) = path.strip_prefix("parity-options[") {
        return parity_option(s, rest);
    }
    pool(s, path)
        .or_else(|| parity_and_quorums(plan, s, path))
        .or_else(|| tolerance(s, path))
        .or_else(|| others(s, path))
}

/// What MinIO says when it refuses the layout.
fn refused(s: &ObjectStorage) -> String {
    s.problem
        .clone()
        .unwrap_or_else(|| "MinIO refuses this layout.".to_string())
}

/// The pool: its mode, drives, raw size and erasure sets.
fn pool(s: &ObjectStorage, path: &str) -> Option<String> {
    Some(match path {
        "layout" => format!(
            "{} node(s) × {} drive(s): {}. MinIO runs single-drive (no erasure coding) on one drive, erasure-coded over the drives on one node, and distributed over several nodes (MinIO docs, Deployment topologies).",
            s.nodes,
            s.drives_per_node,
            s.layout
        ),
        "total-drives" => format!(
            "{} nodes × {} drives = {} drives in the pool.",
            s.nodes, s.drives_per_node, s.total_drives
        ),
        "raw-tib" => format!(
            "{} drives × {} TiB = {} TiB raw.",
            s.total_drives, s.drive_tib, s.raw_tib
        ),
        "tib-per-node" => format!(
            "{} drives × {} TiB = {} TiB on each node.",
            s.drives_per_node, s.drive_tib, s.tib_per_node
        ),
        "set-size" | "sets" if s.set_size == 0 => refused(s),
        "set-size" | "sets" if s.layout == Mode::SingleDrive => {
            "One drive: MinIO's single-drive mode stores each object whole, a set of 1 with parity 0 (storageclass.DefaultParityBlocks(1) = 0).".to_string()
        }
        "set-size" | "sets" => format!(
            "MinIO cuts the {} drives into sets of 2–16 drives: of the sizes dividing {} that are symmetric with the {} {}, it takes the one giving the fewest sets: {} set(s) of {} (cmd/endpoint-ellipses.go getSetIndexes).",
            s.total_drives,
            s.total_drives,
            if s.layout == Mode::Distributed { s.nodes } else { s.drives_per_node },
            if s.layout == Mode::Distributed { "nodes" } else { "drives" },
            s.sets,
            s.set_size
        ),
        _ => return None,
    })
}

/// Parity (default, largest, in effect), data drives, usable space and the quorums.
fn parity_and_quorums(plan: &Plan, s: &ObjectStorage, path: &str) -> Option<String> {
    let (n, m, k) = (s.set_size, s.parity, s.data_drives);
    Some(match path {
        "default-parity" => format!(
            "MinIO's default STANDARD parity for a set of {n}: EC:{} (sets of 2–3 EC:1, 4–5 EC:2, 6–7 EC:3, 8–16 EC:4; storageclass.DefaultParityBlocks).",
            s.default_parity
        ),
        "max-parity" => format!(
            "At most half the set: {n} / 2 = EC:{} (storageclass.ValidateParity; MinIO docs, Erasure Coding: parity between EC:0 and half the set).",
            s.max_parity
        ),
        "parity" if s.refused => refused(s),
        "parity" if plan.minio.parity == 0 => format!(
            "minio.parity is 0, so MinIO's default for a set of {n}: EC:{m} (storageclass.DefaultParityBlocks)."
        ),
        "parity" => format!(
            "minio.parity = {m}: the bundle sets MINIO_STORAGE_CLASS_STANDARD=EC:{m} (valid: at most {} for a set of {n}; storageclass.ValidateParity).",
            s.max_parity
        ),
        "data-drives" if s.refused => refused(s),
        "data-drives" => format!(
            "K = N − M = {n} − {m} = {k} data drives per set (MinIO docs, Erasure Coding: N = K + M)."
        ),
        "usable-tib" if s.refused => format!("0 TiB: {}", refused(s)),
        "usable-tib" => format!(
            "raw × K / N = {} TiB × {k} / {n} = {} TiB (MinIO docs, Erasure Coding: each object takes N / K of its size; docs/erasure/storage-class README, storage usage ratio N / D).",
            s.raw_tib, s.usable_tib
        ),
        "read-quorum" if s.refused => refused(s),
        "read-quorum" => format!(
            "K = {n} − {m} = {} drives of each set must answer for a read (cmd/erasure.go defaultRQuorum).",
            s.read_quorum
        ),
        "write-quorum" if s.refused => refused(s),
        "write-quorum" => {
            if k == m && m > 0 {
                format!(
                    "K + 1 = {k} + 1 = {} drives: parity is half the set, so a write needs one drive more than the data, or two halves could each accept a different version (cmd/erasure.go defaultWQuorum).",
                    s.write_quorum
                )
            } else {
                format!(
                    "K = {} drives of each set must answer for a write (cmd/erasure.go defaultWQuorum; K + 1 only when M = N/2).",
                    s.write_quorum
                )
            }
        }
        _ => return None,
    })
}

/// Drives of a set per node and the drive and node failures tolerated.
fn tolerance(s: &ObjectStorage, path: &str) -> Option<String> {
    let n = s.set_size;
    Some(match path {
        "drives-per-set-per-node" if s.set_size == 0 => refused(s),
        "drives-per-set-per-node" if s.layout != Mode::Distributed => format!(
            "One node holds the whole set: {} drive(s).",
            s.drives_per_set_per_node
        ),
        "drives-per-set-per-node" => format!(
            "MinIO expands hosts fastest, so each set of {n} spreads evenly: {n} / {} nodes = {} drive(s) of a set per node (at least 1; minio/pkg ellipses.argExpander).",
            s.nodes, s.drives_per_set_per_node
        ),
        "drive-failures-tolerated" if s.refused => refused(s),
        "drive-failures-tolerated" => format!(
            "N − read quorum = {n} − {} = {} drive(s) of each set may fail with every object still readable; MinIO rebuilds their shards when they return (healing).",
            s.read_quorum, s.drive_failures_tolerated
        ),
        "drive-failures-tolerated-for-writes" if s.refused => refused(s),
        "drive-failures-tolerated-for-writes" => format!(
            "N − write quorum = {n} − {} = {} drive(s) of each set may fail with uploads still accepted. Objects written meanwhile get one more parity shard per offline drive, up to N/2 (optimize=availability, cmd/erasure-object.go).",
            s.write_quorum, s.drive_failures_tolerated_for_writes
        ),
        "node-failures-tolerated" | "node-failures-tolerated-for-writes" if s.refused => refused(s),
        "node-failures-tolerated" | "node-failures-tolerated-for-writes"
            if s.layout != Mode::Distributed =>
        {
            "0: one node holds every drive, so losing it stops the object store.".to_string()
        }
        "node-failures-tolerated" => format!(
            "⌊drives tolerated / drives of a set per node⌋ = ⌊{} / {}⌋ = {} node(s) for reads.",
            s.drive_failures_tolerated, s.drives_per_set_per_node, s.node_failures_tolerated
        ),
        "node-failures-tolerated-for-writes" => format!(
            "⌊{} / {}⌋ = {} node(s) for writes.",
            s.drive_failures_tolerated_for_writes,
            s.drives_per_set_per_node,
            s.node_failures_tolerated_for_writes
        ),
        _ => return None,
    })
}

/// MinIO's RAM guidance, the parity options as a whole, whether MinIO refuses.
fn others(s: &ObjectStorage, path: &str) -> Option<String> {
    let n = s.set_size;
    Some(match path {
        "ram-guidance-gib" => format!(
            "{} TiB per node → {} GiB ({}: ≤ 1 TiB 8 GiB, ≤ 10 TiB 16 GiB, ≤ 100 TiB 32 GiB, ≤ 1 PiB 64 GiB, more 128 GiB).",
            s.tib_per_node,
            s.ram_guidance_gib,
            a::MINIO_RAM_SOURCE
        ),
        "parity-options" => format!(
            "Every parity MinIO accepts for a set of {n}: EC:1 to EC:{} (half the set); each trades usable space (raw × (N − M) / N) for failures tolerated (N − quorum).",
            s.max_parity
        ),
        "refused" | "problem" => match &s.problem {
            Some(p) => p.clone(),
            None => "MinIO starts with this layout and parity (set size from cmd/endpoint-ellipses.go, parity within storageclass.ValidateParity).".to_string(),
        },
        _ => return None,
    })
}

/// One row of the parity options: `rest` is the path after `parity-options[`.
fn parity_option(s: &ObjectStorage, rest: &str) -> Option<String> {
    let n = s.set_size;
    let (i, key) = rest.split_once(']')?;
    let o = s.parity_options.get(i.parse::<usize>().ok()?)?;
    let (pm, pk) = (o.parity, o.data_drives);
    Some(match key {
        ".parity" | ".in-effect" => return None,
        ".data-drives" => format!("K = {n} − {pm} = {pk}."),
        ".usable-tib" => format!(
            "{} TiB × {pk} / {n} = {} TiB at EC:{pm}.",
            s.raw_tib, o.usable_tib
        ),
        ".read-quorum" => format!("K = {} drives at EC:{pm} (cmd/erasure.go).", o.read_quorum),
        ".write-quorum" => format!(
            "{} drives at EC:{pm}: K{} (cmd/erasure.go defaultWQuorum).",
            o.write_quorum,
            if pk == pm {
                " + 1, parity being half the set"
            } else {
                ""
            }
        ),
        ".drive-failures-tolerated" => format!(
            "{n} − {} = {} drives per set for reads at EC:{pm}.",
            o.read_quorum, o.drive_failures_tolerated
        ),
        ".drive-failures-tolerated-for-writes" => format!(
            "{n} − {} = {} drives per set for writes at EC:{pm}.",
            o.write_quorum, o.drive_failures_tolerated_for_writes
        ),
        ".node-failures-tolerated" => format!(
            "⌊{} / {}⌋ = {} node(s) for reads at EC:{pm}.",
            o.drive_failures_tolerated, s.drives_per_set_per_node, o.node_failures_tolerated
        ),
        ".node-failures-tolerated-for-writes" => format!(
            "⌊{} / {}⌋ = {} node(s) for writes at EC:{pm}.",
            o.drive_failures_tolerated_for_writes,
            s.drives_per_set_per_node,
            o.node_failures_tolerated_for_writes
        ),
        _ => return None,
    })
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

    #[test]
    fn parity_upgrade_while_drives_are_offline() {
        // (set size, parity, offline, parity of new objects)
        for (n, m, off, want) in [(16, 4, 4, 8), (16, 4, 2, 6), (16, 8, 1, 8), (4, 2, 1, 2)] {
            let e = Erasure {
                set_size: n,
                sets: 1,
                parity: m,
            };
            assert_eq!(e.parity_with_offline(off), want, "{n} EC:{m} {off} down");
        }
    }

    #[test]
    fn every_figure_is_explained() {
        let plan = Plan::default();
        let s = object_storage(&plan);
        let v = serde_json::to_value(&s).unwrap();
        let inputs = ["nodes", "drives-per-node", "drive-tib", "requested-parity"];
        for key in v.as_object().unwrap().keys() {
            let e = explain(&plan, &s, key);
            assert_eq!(e.is_none(), inputs.contains(&key.as_str()), "{key}: {e:?}");
        }
        assert_eq!(
            explain(&plan, &s, "usable-tib").unwrap(),
            "raw × K / N = 16 TiB × 12 / 16 = 12 TiB (MinIO docs, Erasure Coding: each object takes N / K of its size; docs/erasure/storage-class README, storage usage ratio N / D)."
        );
    }
}

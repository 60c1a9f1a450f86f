//! Losing a node: what survives the loss of one host, role by role.
//!
//! [`lose`] analyses any host of the plan by its short name (the names of
//! `deploy::topology`, reused here: `synapse`, `patroni1`…, `minio1`…, `haproxy1`…,
//! `coturn1`…, `livekit1`…, `monitoring`, `backup`); [`failures`] is the worst host of
//! each deployed role. Each entry says whether the service keeps carrying the plan's
//! peak (`survives`), an N+1 verdict for the role, why, what happens, and the
//! capacity before and after.
//!
//! Timings come from `deploy::failover`, the values the bundle writes (Patroni's `ttl`,
//! HAProxy's health checks, keepalived's `advert_int` and priorities); a test reads them
//! back from the generated files.

use super::calls::{self, Livekit, Turn};
use super::objectstore::{self, Layout, ObjectStorage, round2};
use crate::assumptions as a;
use crate::deploy::failover::{
    self, HAPROXY_CHECK_INTER_S, HAPROXY_CHECK_RISE, KEEPALIVED_ADVERT_INT_S, PATRONI_LOOP_WAIT_S,
    PATRONI_MAX_LAG_BYTES, PATRONI_TTL_S, PGBOUNCER_SERVER_LOGIN_RETRY_S, RecoveryTime,
    vrrp_priority,
};
use crate::deploy::{Host, Topology, ports};
use crate::plan::{Plan, Role};
use serde::Serialize;

/// Seconds before a backup router takes the VIP once the master is silent: VRRP's
/// Master_Down_Interval = 3 × Advertisement_Interval + Skew_Time, Skew_Time =
/// (256 − Priority) / 256 × Advertisement_Interval (RFC 3768 §6.1 for keepalived's
/// default VRRPv2; RFC 5798 §6.1 says the same for v3).
pub fn vip_takeover_seconds(priority: u64) -> f64 {
    failover::master_down_interval_s(&failover::BUNDLE, priority)
}

/// A figure that is a count or a real number (TiB, Mbit/s); counts stay integers in JSON.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Amount {
    Count(u64),
    Real(f64),
}

impl Amount {
    pub fn as_f64(self) -> f64 {
        match self {
            Amount::Count(n) => n as f64,
            Amount::Real(x) => x,
        }
    }
}

/// One capacity of the role, before and after the loss, against the plan's need.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Capacity {
    pub name: &'static str,
    pub unit: &'static str,
    /// What the plan's peak needs of it; null when the plan states no such need.
    pub need: Option<Amount>,
    pub before: Amount,
    pub after: Amount,
    /// How before and after were computed, with the plan's numbers.
    pub formula: String,
}

/// What losing a host does to its role; ordered worst first (down < degraded < n+1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Verdict {
    /// What the role does stops.
    #[serde(rename = "down")]
    Down,
    /// The service runs with something lost or short.
    #[serde(rename = "degraded")]
    Degraded,
    /// A spare takes over at full capacity.
    #[serde(rename = "n+1")]
    NPlusOne,
}

impl Verdict {
    /// `down`, `degraded`, `n+1`: the JSON value, shown as is.
    pub fn key(self) -> &'static str {
        match self {
            Verdict::Down => "down",
            Verdict::Degraded => "degraded",
            Verdict::NPlusOne => "n+1",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.key())
    }
}

/// One entry of the JSON list `failures`: a host of a role lost.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Failure {
    /// The host lost, by its short name (`patroni1`).
    pub host: String,
    /// Serialized as its key (`patroni`).
    #[serde(serialize_with = "role_key")]
    pub role: Role,
    /// The service keeps running with the plan's load.
    pub survives: bool,
    pub why: String,
    /// `n+1` (a spare takes over at full capacity), `degraded` (the service runs with
    /// something lost or short), `down` (what the role does stops).
    pub verdict: Verdict,
    /// The role survives the loss of any one of its hosts at the plan's peak with
    /// nothing lost.
    pub n_plus_one: bool,
    /// What happens, step by step, with the figures.
    pub details: Vec<String>,
    pub capacity: Vec<Capacity>,
    /// The rule the verdict follows, with its sources.
    pub rule: String,
    /// The recovery the loss starts, computed from the bundle's timers (best, average,
    /// worst, with the arithmetic) next to the lab's measurement; empty when nothing
    /// fails over (and then left out of the JSON).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub times: Vec<RecoveryTime>,
}

fn role_key<S: serde::Serializer>(role: &Role, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(role.key())
}

/// Every host of the plan, by short name, in the topology's order (the host picker).
pub fn hosts(plan: &Plan) -> Vec<String> {
    Topology::new(plan)
        .hosts
        .into_iter()
        .map(|h| h.name)
        .collect()
}

/// The loss of the host named `host`; None when the plan has no such host.
pub fn lose(plan: &Plan, host: &str) -> Option<Failure> {
    let topo = Topology::new(plan);
    let h = topo.by_name(host)?;
    Some(analyse(&Cx::new(plan), h))
}

/// The worst single host of each deployed role: the one whose loss gives the worst
/// verdict (down, then degraded, then N+1); the first such host on ties.
pub fn failures(plan: &Plan) -> Vec<Failure> {
    let topo = Topology::new(plan);
    let cx = Cx::new(plan);
    Role::ALL
        .iter()
        .filter_map(|&role| {
            topo.role(role)
                .map(|h| analyse(&cx, h))
                .fold(None, |worst: Option<Failure>, f| match worst {
                    Some(w) if w.verdict <= f.verdict => Some(w),
                    _ => Some(f),
                })
        })
        .collect()
}

/// What every analysis reads, computed once.
struct Cx<'a> {
    plan: &'a Plan,
    object_storage: ObjectStorage,
    calls: calls::Calls,
    connections: super::Connections,
    patroni: super::HostBudget,
}

impl<'a> Cx<'a> {
    fn new(plan: &'a Plan) -> Cx<'a> {
        Cx {
            plan,
            object_storage: objectstore::object_storage(plan),
            calls: calls::calls(plan),
            connections: super::connections::connections(plan),
            patroni: super::ram::budget(plan, Role::Patroni),
        }
    }
}

fn count(n: u64) -> Amount {
    Amount::Count(n)
}

fn real(x: f64) -> Amount {
    Amount::Real(round2(x))
}

struct Outcome {
    survives: bool,
    verdict: Verdict,
    why: String,
    details: Vec<String>,
    capacity: Vec<Capacity>,
    rule: &'static str,
}

fn analyse(cx: &Cx<'_>, h: &Host) -> Failure {
    let n = cx.plan.host(h.role).count;
    let o = match h.role {
        Role::Synapse => synapse(cx),
        Role::Patroni => patroni(cx, h, n),
        Role::Minio => minio(cx, h),
        Role::Haproxy => haproxy(cx, h, n),
        Role::Coturn => coturn(cx, h, n),
        Role::Livekit => livekit(cx, h, n),
        Role::Monitoring => monitoring(cx),
        Role::Backup => backup(cx),
    };
    Failure {
        host: h.name.clone(),
        role: h.role,
        survives: o.survives,
        why: o.why,
        verdict: o.verdict,
        n_plus_one: o.verdict == Verdict::NPlusOne,
        details: o.details,
        capacity: o.capacity,
        rule: o.rule.to_string(),
        times: recovery(h, n),
    }
}

fn synapse(cx: &Cx<'_>) -> Outcome {
    let workers = cx.plan.worker_count();
    Outcome {
        survives: false,
        verdict: Verdict::Down,
        why: format!(
            "Single point of failure: matrix-docker-ansible-deploy runs Synapse's main process and all {workers} workers on this one host, so losing it stops the homeserver (clients, federation, media, call signalling) until it is back."
        ),
        details: vec![
            "The playbook does not support a second, active Synapse host: Synapse's workers scale on one machine, and two deployments of the same server name would each believe they are the homeserver.".to_string(),
            "Nothing of value is lost with the host: the database lives on Patroni, media in MinIO (uploads complete only once MinIO has them: store_synchronous), and the configuration in the bundle's inventory.".to_string(),
            "What removes the single point of failure: a standby host kept ready with the same inventory (vars.yml and vault.yml) and a copy of Synapse's signing key (Synapse docs, usage/administration/backups.md), given the Synapse host's address and brought up by running the playbook; the pgBackRest and media backups are for the case where the database or MinIO is lost as well. That is a cold standby: minutes to an hour, not a failover.".to_string(),
        ],
        capacity: vec![Capacity {
            name: "Synapse hosts",
            unit: "hosts",
            need: Some(count(1)),
            before: count(1),
            after: count(0),
            formula: "one host before (the playbook's limit), none after".to_string(),
        }],
        rule: "down: the playbook runs Synapse and every worker on one host (hosts.synapse.count is fixed at 1).",
    }
}

/// What losing one Patroni host does to the database: one classification that the
/// verdict, the sentences and the recovery time all follow. etcd runs on the Patroni
/// hosts only (one member each), so the members left after the loss are n − 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DbLoss {
    /// One Patroni node: nothing to fail over to.
    Alone,
    /// etcd loses its majority (2 → 1, 4 → 3 is fine, …): every write to etcd fails, so
    /// the survivors can neither keep nor take the leader key.
    NoQuorum,
    /// The primary's host, with quorum: a replica is promoted.
    Promote,
    /// A replica's host, with quorum: the primary is untouched.
    Untouched,
}

impl DbLoss {
    fn of(n: u64, h: &Host) -> DbLoss {
        let left = n.saturating_sub(1);
        if n <= 1 {
            DbLoss::Alone
        } else if left < n / 2 + 1 {
            DbLoss::NoQuorum
        } else if h.index == 1 {
            DbLoss::Promote
        } else {
            DbLoss::Untouched
        }
    }

    /// Whether a writable primary remains or is made.
    fn writable(self) -> bool {
        matches!(self, DbLoss::Promote | DbLoss::Untouched)
    }
}

/// The recovery times a loss of `h` starts: the primary's failover when a Patroni
/// primary is promoted away from, the VIP's move when its holder dies and another
/// HAProxy node is left; none otherwise.
fn recovery(h: &Host, n: u64) -> Vec<RecoveryTime> {
    match h.role {
        Role::Patroni if DbLoss::of(n, h) == DbLoss::Promote => {
            vec![failover::primary_loss(&failover::BUNDLE)]
        }
        Role::Haproxy if h.index == 1 && n > 1 => {
            vec![failover::vip_move(&failover::BUNDLE, vrrp_priority(2))]
        }
        _ => Vec::new(),
    }
}

/// The sentence on what happens to the database, by case.
fn db_loss_detail(case: DbLoss, h: &Host) -> String {
    let primary = h.index == 1;
    match case {
        DbLoss::Alone => format!(
            "{} is the only Patroni node: there is no replica to promote, and the database stops until the host is back (Patroni docs).",
            h.name
        ),
        DbLoss::NoQuorum => format!(
            "Without its majority etcd refuses every write. {} Patroni's DCS failsafe mode is off in the bundle, so nothing in the cluster accepts writes until the host or another etcd member returns; no replica is promoted at any time (Patroni docs, \"DCS Failsafe Mode\"; retry_timeout: \"DCS or network issues shorter than this will not cause Patroni to demote the leader\").",
            if primary {
                "The primary is gone, and a replica cannot take the leader key: taking it is a write to etcd."
            } else {
                "The primary survives but cannot renew its leader key: its etcd calls fail, and once they have failed for retry_timeout it demotes itself to read-only."
            }
        ),
        DbLoss::Promote => {
            let t = failover::primary_loss(&failover::BUNDLE);
            format!(
                "{} is the primary at bootstrap. Its leader key expires (ttl {PATRONI_TTL_S} s); a replica at most maximum_lag_on_failover ({} MiB of WAL) behind takes it and is promoted, and HAProxy sends port {pg} to it after {HAPROXY_CHECK_RISE} good /primary checks {HAPROXY_CHECK_INTER_S} s apart: writes through PgBouncer pause for {} s on average, {} s at best and {} s at worst (loop_wait {PATRONI_LOOP_WAIT_S} s, PgBouncer's server_login_retry {PGBOUNCER_SERVER_LOGIN_RETRY_S} s; the lab measured {}–{} s). Replication is asynchronous: transactions the old primary committed in its last moment and had not yet sent are lost.",
                h.name,
                PATRONI_MAX_LAG_BYTES / 1_048_576,
                failover::seconds(t.average_s),
                failover::seconds(t.best_s),
                failover::seconds(t.worst_s),
                t.measured.low_s,
                t.measured.high_s,
                pg = ports::PG_PRIMARY,
            )
        }
        DbLoss::Untouched => format!(
            "{} is a replica: the primary keeps running, nothing fails over.",
            h.name
        ),
    }
}

fn patroni(cx: &Cx<'_>, h: &Host, n: u64) -> Outcome {
    let c = &cx.connections;
    let b = &cx.patroni;
    let majority = n / 2 + 1;
    let left = n.saturating_sub(1);
    let case = DbLoss::of(n, h);
    let quorum = left >= majority && left > 0;
    let server = c.pgbouncer_server_connections;
    let available = c.postgres_available.max(0) as u64;
    let conns_fit = server as i64 <= c.postgres_available;
    let ram_fit = b.ram_needed_gib.0 <= b.ram_gib.saturating_mul(100);
    let replicas_left = left.saturating_sub(1);
    let mut details = vec![format!(
        "etcd runs on the {n} Patroni host(s): {left} of {n} member(s) remain and a majority is {majority}: {} (etcd FAQ, \"Why an odd number of cluster members?\").",
        if quorum {
            "the cluster keeps its quorum"
        } else {
            "quorum is lost"
        }
    )];
    details.push(db_loss_detail(case, h));
    if case.writable() {
        details.push(format!(
            "The primary (new or not) carries all of PgBouncer's {server} server connections against the {available} its max_connections {} leaves ({} reserved); every Patroni node has the same settings (bootstrap.dcs).",
            c.postgres_max_connections, c.postgres_reserved_total
        ));
        details.push(format!(
            "RAM: one Patroni host's budget is {} GiB of its {} GiB, and it already assumes the primary's load (shared_buffers, sorts and hash tables for every backend).",
            b.ram_needed_gib, b.ram_gib
        ));
        details.push(format!(
            "Replicas carry no Synapse reads (Synapse sends every query to the primary; it has no read-replica support), so the loss of one moves no read load. {}",
            if replicas_left == 0 {
                "No replica remains: the next loss stops the database.".to_string()
            } else {
                format!("{replicas_left} replica(s) remain to fail over to.")
            }
        ));
    } else if n == 2 {
        details.push("Two Patroni hosts survive neither loss: a third etcd member is what keeps a majority when one host dies (hosts.patroni.count: 3).".to_string());
    }
    let survives = case.writable() && conns_fit && ram_fit;
    let why = match case {
        DbLoss::Alone => "One Patroni node: there is no replica to promote, so the database stops until the host is back (Patroni docs).".to_string(),
        DbLoss::NoQuorum => format!(
            "etcd keeps {left} of {n} members, below its majority of {majority}: no leader key can be kept or taken, so the database accepts no writes and no replica is promoted."
        ),
        _ if !conns_fit || !ram_fit => format!(
            "Quorum holds, but the primary is short already: {server} server connections for {available} free, {} GiB needed of {} GiB.",
            b.ram_needed_gib, b.ram_gib
        ),
        DbLoss::Promote => {
            let t = failover::primary_loss(&failover::BUNDLE);
            format!(
                "etcd keeps its majority ({left} of {n}); Patroni promotes a replica and writes resume after {} s on average ({}–{} s); it carries the same load.",
                failover::seconds(t.average_s),
                failover::seconds(t.best_s),
                failover::seconds(t.worst_s)
            )
        }
        DbLoss::Untouched => {
            format!("etcd keeps its majority ({left} of {n}); the primary is untouched.")
        }
    };
    let verdict = if survives {
        Verdict::NPlusOne
    } else if case.writable() {
        Verdict::Degraded
    } else {
        Verdict::Down
    };
    Outcome {
        survives,
        verdict,
        why,
        details,
        capacity: vec![
            Capacity {
                name: "etcd members",
                unit: "members",
                need: Some(count(majority)),
                before: count(n),
                after: count(left),
                formula: format!(
                    "{n} members before, {n} − 1 = {left} after; a majority of {n} is ⌊{n}/2⌋ + 1 = {majority}"
                ),
            },
            Capacity {
                name: "PostgreSQL connections for PgBouncer",
                unit: "connections",
                need: Some(count(server)),
                before: count(available),
                after: count(if case.writable() { available } else { 0 }),
                formula: format!(
                    "max_connections {} − {} reserved = {available} on the primary; {} after",
                    c.postgres_max_connections,
                    c.postgres_reserved_total,
                    if case.writable() {
                        "the same on the new primary"
                    } else {
                        "0: no writable primary"
                    }
                ),
            },
        ],
        rule: "n+1 when the remaining etcd members are a majority (⌊n/2⌋ + 1) and one host's budget and connections hold the primary's load; down when quorum is lost, whichever host is lost: without a majority etcd takes no write, so the leader key can be neither renewed nor taken (etcd FAQ; Patroni docs, DCS failsafe mode off).",
    }
}

fn minio(cx: &Cx<'_>, h: &Host) -> Outcome {
    let s = &cx.object_storage;
    let layout = Layout::of(cx.plan);
    let rule = "n+1 when every erasure set keeps its read and write quorum without the node's drives (cmd/erasure.go); degraded when only reads survive; down otherwise.";
    let usable = |after: f64, formula: String| Capacity {
        name: "Usable TiB for new writes",
        unit: "TiB",
        need: None,
        before: real(s.usable_tib),
        after: real(after),
        formula,
    };
    let effect = objectstore::in_effect(cx.plan);
    let e = match (layout, effect) {
        (_, Err(problem)) => {
            return Outcome {
                survives: false,
                verdict: Verdict::Down,
                why: format!("MinIO does not run with this plan: {problem}"),
                details: vec![problem],
                capacity: vec![usable(0.0, "0: MinIO does not start".to_string())],
                rule,
            };
        }
        (Layout::Distributed { .. }, Ok(e)) => e,
        (_, Ok(_)) => {
            return Outcome {
                survives: false,
                verdict: Verdict::Down,
                why: format!(
                    "One MinIO node holds every drive: losing {} stops media uploads and downloads until it is back.",
                    h.name
                ),
                details: vec![
                    "Synapse keeps serving messages; media that is not in its local cache cannot be fetched, and uploads fail.".to_string(),
                    "A distributed pool (4 or more nodes) survives a node: hosts.minio.count.".to_string(),
                ],
                capacity: vec![usable(0.0, format!("{} TiB before, 0 after", s.usable_tib))],
                rule,
            };
        }
    };
    let nn = e.set_size;
    let off = s.drives_per_set_per_node;
    let reads = off <= e.drive_loss_for_reads();
    let writes = off <= e.drive_loss_for_writes();
    let new_parity = e.parity_with_offline(off);
    let after = if writes {
        s.raw_tib * nn.saturating_sub(new_parity) as f64 / nn.max(1) as f64
    } else {
        0.0
    };
    let details = minio_details(s, e, h, after, reads, writes);
    let (survives, verdict, why) = minio_verdict(s, e, h, reads, writes);
    Outcome {
        survives,
        verdict,
        why,
        details,
        capacity: vec![
            usable(
                after,
                if writes {
                    format!(
                        "raw × K / N = {} × {} / {nn} = {} TiB before; with {off} drive(s) of each set offline new objects get EC:{new_parity}: {} × {} / {nn} = {} TiB",
                        s.raw_tib,
                        e.data(),
                        s.usable_tib,
                        s.raw_tib,
                        nn.saturating_sub(new_parity),
                        round2(after)
                    )
                } else {
                    format!("{} TiB before; 0 after: no write quorum", s.usable_tib)
                },
            ),
            Capacity {
                name: "Drives of each erasure set online",
                unit: "drives",
                need: Some(count(s.write_quorum)),
                before: count(nn),
                after: count(nn.saturating_sub(off)),
                formula: format!(
                    "set of {nn} before, {nn} − {off} on the node = {} after; writes need {}, reads {}",
                    nn.saturating_sub(off),
                    s.write_quorum,
                    s.read_quorum
                ),
            },
        ],
        rule,
    }
}

/// What happens, step by step, when a distributed pool loses the node `h` (`after`:
/// usable TiB for new writes meanwhile).
fn minio_details(
    s: &ObjectStorage,
    e: objectstore::Erasure,
    h: &Host,
    after: f64,
    reads: bool,
    writes: bool,
) -> Vec<String> {
    let nn = e.set_size;
    let off = s.drives_per_set_per_node;
    let new_parity = e.parity_with_offline(off);
    let mut details = vec![format!(
        "Each erasure set loses the {off} drive(s) it has on {}: {} of {nn} remain; reads need {}, writes {} (cmd/erasure.go quorums).",
        h.name,
        nn.saturating_sub(off),
        s.read_quorum,
        s.write_quorum
    )];
    if reads {
        details.push(format!(
            "MinIO keeps serving while every set keeps its quorum. Raw capacity does not shrink (the node's drives come back with their data) but redundancy does: the set's existing objects now survive {} more drive failure(s) instead of {}.",
            e.parity.saturating_sub(off),
            e.parity
        ));
    }
    if writes {
        details.push(format!(
            "Objects written meanwhile are stored with EC:{new_parity} instead of EC:{} (MinIO adds a parity shard per offline drive, up to half the set: optimize=availability, cmd/erasure-object.go), so each TiB of media takes {:.2} TiB of raw space instead of {:.2}: {} TiB usable at that rate.",
            e.parity,
            nn as f64 / nn.saturating_sub(new_parity).max(1) as f64,
            nn as f64 / e.data().max(1) as f64,
            round2(after)
        ));
    } else if reads {
        details.push(format!(
            "Uploads fail: {} drives of a set are left and a write needs {}. Downloads keep working.",
            nn.saturating_sub(off),
            s.write_quorum
        ));
    }
    details.push(format!(
        "When {} returns, MinIO heals the missing shards in the background and on read (MinIO docs, Object Healing); HAProxy stops sending requests to it meanwhile (GET /minio/health/live).",
        h.name
    ));
    details
}

/// Survives, the verdict and why, from whether every set keeps its read and write quorum.
fn minio_verdict(
    s: &ObjectStorage,
    e: objectstore::Erasure,
    h: &Host,
    reads: bool,
    writes: bool,
) -> (bool, Verdict, String) {
    let nn = e.set_size;
    let off = s.drives_per_set_per_node;
    match (reads, writes) {
        (true, true) => (
            true,
            Verdict::NPlusOne,
            format!(
                "Every set keeps {} of {nn} drives, at least its write quorum {}: reads and writes continue.",
                nn.saturating_sub(off),
                s.write_quorum
            ),
        ),
        (true, false) => (
            false,
            Verdict::Degraded,
            format!(
                "Every set keeps {} of {nn} drives: enough to read (quorum {}) but not to write (quorum {}), so media uploads fail until {} is back.",
                nn.saturating_sub(off),
                s.read_quorum,
                s.write_quorum,
                h.name
            ),
        ),
        _ => (
            false,
            Verdict::Down,
            format!(
                "Every set keeps {} of {nn} drives, below its read quorum {}: media is unavailable until {} is back.",
                nn.saturating_sub(off),
                s.read_quorum,
                h.name
            ),
        ),
    }
}

fn haproxy(cx: &Cx<'_>, h: &Host, n: u64) -> Outcome {
    let maxconn = cx.connections.haproxy_maxconn;
    let need = super::connections::haproxy_connections_needed(cx.plan);
    let vip = cx.plan.network.vip;
    let holder = h.index == 1;
    let left = n.saturating_sub(1);
    let next = if h.index == 1 { 2 } else { 1 };
    let takeover = vip_takeover_seconds(vrrp_priority(next));
    let mut details = Vec::new();
    if left == 0 {
        details.push(format!(
            "{} is the only HAProxy node: the VIP {vip} has nowhere to move. Clients and federation ({https}, {federation}), Synapse's database path (PgBouncer → {vip}:{pg}) and its media (MinIO through {vip}:{minio}) all stop.",
            h.name,
            https = ports::HTTPS,
            federation = ports::FEDERATION,
            pg = ports::PG_PRIMARY,
            minio = ports::MINIO_API,
        ));
    } else if holder {
        let t = failover::vip_move(&failover::BUNDLE, vrrp_priority(next));
        details.push(format!(
            "{} holds the VIP {vip} at start (priority {}, nopreempt). haproxy{next} (priority {}) takes it when it has heard no advert for 3 × advert_int + (256 − priority) / 256 × advert_int = {takeover} s (RFC 3768 §6.1; advert_int {} s in the bundle's keepalived.conf), counted from the last advert, sent up to advert_int before the death: the VIP moves {}–{} s after it, {} s on average (the lab measured {}–{} s), then is announced with gratuitous ARP.",
            h.name,
            vrrp_priority(1),
            vrrp_priority(next),
            KEEPALIVED_ADVERT_INT_S,
            failover::seconds(t.best_s),
            failover::seconds(t.worst_s),
            failover::seconds(t.average_s),
            t.measured.low_s,
            t.measured.high_s,
        ));
        details.push("Connections through the VIP are cut: clients reconnect (their /sync long-poll retries), PgBouncer reopens its server connections, uploads in flight are retried by the client.".to_string());
    } else {
        details.push(format!(
            "{} does not hold the VIP (haproxy1 does unless it failed before; nopreempt keeps it where it is): nothing moves.",
            h.name
        ));
    }
    if left > 0 {
        details.push(format!(
            "One node serves at a time, each with maxconn {maxconn}: the capacity through the VIP stays {maxconn} for the plan's {need} peak connections; {left} node(s) remain to hold the VIP."
        ));
    }
    let survives = left > 0;
    Outcome {
        survives,
        verdict: if survives {
            Verdict::NPlusOne
        } else {
            Verdict::Down
        },
        why: if !survives {
            format!("The only HAProxy node: every path through the VIP {vip} stops.")
        } else if holder {
            format!(
                "keepalived moves the VIP {vip} to haproxy{next} within {takeover} s ({} s on average); it has the same maxconn {maxconn}.",
                failover::seconds(
                    failover::vip_move(&failover::BUNDLE, vrrp_priority(next)).average_s
                )
            )
        } else {
            format!("{} is a standby: the VIP stays on its holder.", h.name)
        },
        details,
        capacity: vec![
            Capacity {
                name: "HAProxy connections through the VIP",
                unit: "connections",
                need: Some(count(need)),
                before: count(maxconn),
                after: count(if survives { maxconn } else { 0 }),
                formula: format!(
                    "the VIP holder's maxconn {maxconn} (connections.haproxy-maxconn) before and, with a node left, after; need = peak users × connections per user = {need}"
                ),
            },
            Capacity {
                name: "Nodes able to hold the VIP",
                unit: "nodes",
                need: Some(count(1)),
                before: count(n),
                after: count(left),
                formula: format!("{n} before, {n} − 1 = {left} after"),
            },
        ],
        rule: "n+1 with two or more HAProxy nodes: keepalived moves the VIP and every node has the full maxconn; down with one.",
    }
}

/// TURN capacity before and after, all nodes.
fn turn_capacity(before: &Turn, after: &Turn, kbps: u64) -> Vec<Capacity> {
    let need_mbps = before.allocations as f64 * 2.0 * kbps as f64 / 1000.0;
    vec![
        Capacity {
            name: "TURN allocations, all nodes",
            unit: "allocations",
            need: Some(count(before.allocations)),
            before: count(before.nodes.saturating_mul(before.max_allocations_per_node)),
            after: count(after.nodes.saturating_mul(after.max_allocations_per_node)),
            formula: format!(
                "nodes × max allocations per node: {} × {} before, {} × {} after",
                before.nodes,
                before.max_allocations_per_node,
                after.nodes,
                after.max_allocations_per_node
            ),
        },
        Capacity {
            name: "TURN relay bandwidth each way, all nodes",
            unit: "Mbit/s",
            need: Some(real(need_mbps)),
            before: real(before.nodes as f64 * before.nic_mbps),
            after: real(after.nodes as f64 * after.nic_mbps),
            formula: format!(
                "nodes × NIC: {} × {} before, {} × {} after; need = allocations × 2 × {kbps} kbit/s",
                before.nodes, before.nic_mbps, after.nodes, after.nic_mbps
            ),
        },
    ]
}

fn coturn(cx: &Cx<'_>, h: &Host, n: u64) -> Outcome {
    let before = &cx.calls.turn;
    let after = calls::turn(cx.plan, n.saturating_sub(1));
    let kbps = cx.plan.calls.turn_kbps;
    let need = before.allocations;
    let fits = after.nodes > 0
        && after.allocations_per_node <= after.max_allocations_per_node
        && after.relay_mbps_each_way_per_node <= after.nic_mbps;
    let survives = need == 0 || fits;
    let verdict = if survives {
        Verdict::NPlusOne
    } else if after.nodes > 0 {
        Verdict::Degraded
    } else {
        Verdict::Down
    };
    let mut details = vec![format!(
        "Relayed calls through {} drop: an allocation lives on one server. Clients that restart ICE reconnect through a candidate on another coturn host (Synapse's turn_uris list every host), otherwise the call is redialled; new calls gather candidates only from the hosts that answer.",
        h.name
    )];
    if after.nodes > 0 {
        details.push(format!(
            "The remaining {} node(s) carry ⌈{need} / {}⌉ = {} allocations each against {} ({}), {} Mbit/s each way against {} Mbit/s.",
            after.nodes,
            after.nodes,
            after.allocations_per_node,
            after.max_allocations_per_node,
            after.limited_by,
            after.relay_mbps_each_way_per_node,
            after.nic_mbps
        ));
    } else if need > 0 {
        details.push(format!(
            "No coturn node remains: the plan's {} relayed calls at the peak fail to connect.",
            before.relayed_calls
        ));
    }
    let why = if need == 0 {
        "The plan relays no calls at the peak (calls.relayed-share or calls.concurrent-1to1 is 0)."
            .to_string()
    } else if fits {
        format!(
            "{} node(s) left hold {} allocations each of {} possible, within their bandwidth.",
            after.nodes, after.allocations_per_node, after.max_allocations_per_node
        )
    } else if after.nodes == 0 {
        format!(
            "The only coturn node: {} relayed calls have no relay.",
            before.relayed_calls
        )
    } else {
        format!(
            "{} node(s) left would need {} allocations and {} Mbit/s each: more than {} allocations / {} Mbit/s.",
            after.nodes,
            after.allocations_per_node,
            after.relay_mbps_each_way_per_node,
            after.max_allocations_per_node,
            after.nic_mbps
        )
    };
    Outcome {
        survives,
        verdict,
        why,
        details,
        capacity: turn_capacity(before, &after, kbps),
        rule: "n+1 when the remaining coturn nodes hold the peak's allocations (relay ports, total-quota, file descriptors) within their bandwidth; degraded when short; down when none remains (with relayed calls planned).",
    }
}

/// LiveKit capacity before and after, all nodes.
fn livekit_capacity(before: &Livekit, after: &Livekit) -> Vec<Capacity> {
    let ports_need = before
        .participants
        .saturating_mul(a::fixed!(LIVEKIT_PORTS_PER_PARTICIPANT) as u64);
    vec![
        Capacity {
            name: "LiveKit UDP ports, all nodes",
            unit: "ports",
            need: Some(count(ports_need)),
            before: count(before.nodes.saturating_mul(before.port_range)),
            after: count(after.nodes.saturating_mul(after.port_range)),
            formula: format!(
                "nodes × port range: {} × {} before, {} × {} after; need = 2 × {} participants",
                before.nodes, before.port_range, after.nodes, after.port_range, before.participants
            ),
        },
        Capacity {
            name: "LiveKit bandwidth out, all nodes",
            unit: "Mbit/s",
            need: Some(real(before.rooms as f64 * before.room_egress_mbps)),
            before: real(before.nodes as f64 * before.nic_mbps),
            after: real(after.nodes as f64 * after.nic_mbps),
            formula: format!(
                "nodes × NIC: {} × {} before, {} × {} after; need = {} rooms × {} Mbit/s forwarded",
                before.nodes,
                before.nic_mbps,
                after.nodes,
                after.nic_mbps,
                before.rooms,
                before.room_egress_mbps
            ),
        },
    ]
}

fn livekit(cx: &Cx<'_>, h: &Host, n: u64) -> Outcome {
    let before = &cx.calls.livekit;
    let after = calls::livekit(cx.plan, n.saturating_sub(1));
    let redis = h.index == 1;
    let rooms = before.rooms;
    let fits = after.nodes > 0
        && after.ports_needed_per_node <= after.port_range
        && after.egress_mbps_per_node <= after.nic_mbps
        && after.ingress_mbps_per_node <= after.nic_mbps
        && after.largest_room_fits;
    let survives = rooms == 0 || (!redis && fits);
    let verdict = if survives {
        Verdict::NPlusOne
    } else if redis || after.nodes == 0 {
        Verdict::Down
    } else {
        Verdict::Degraded
    };
    let mut details = Vec::new();
    if redis {
        details.push(format!(
            "{} also runs LiveKit's Redis (the bundle's design: one Redis, no replica). In a multi-node setup Redis is LiveKit's shared store and message bus (LiveKit docs, Self-hosting › Distributed multi-region): without it no node can place a room or bridge signalling to the node hosting it, so nobody can join a group call until Redis is back. Redis keeps no state worth restoring (no persistence): restarting it restores service.",
            h.name
        ));
    }
    details.push(format!(
        "Rooms on {} end: a room lives on one node. Their participants' clients reconnect and the room is created again on another node.",
        h.name
    ));
    if after.nodes > 0 {
        details.push(format!(
            "On the remaining {} node(s): ⌈{rooms} / {}⌉ = {} rooms each, {} of {} UDP ports, {} Mbit/s out and {} Mbit/s in against {} Mbit/s.",
            after.nodes,
            after.nodes,
            after.rooms_per_node,
            after.ports_needed_per_node,
            after.port_range,
            after.egress_mbps_per_node,
            after.ingress_mbps_per_node,
            after.nic_mbps
        ));
    } else if rooms > 0 {
        details.push(format!(
            "No LiveKit node remains: the plan's {rooms} group calls stop."
        ));
    }
    let why = if rooms == 0 {
        "The plan has no group calls at the peak (calls.group-rooms is 0).".to_string()
    } else if redis {
        format!(
            "{} holds LiveKit's only Redis: group calls cannot be joined until it is back.",
            h.name
        )
    } else if fits {
        format!(
            "{} node(s) left carry {} rooms each within their ports and bandwidth.",
            after.nodes, after.rooms_per_node
        )
    } else if after.nodes == 0 {
        "The only LiveKit node: group calls stop.".to_string()
    } else {
        format!(
            "{} node(s) left would need {} ports and {} Mbit/s out each: more than {} ports / {} Mbit/s.",
            after.nodes,
            after.ports_needed_per_node,
            after.egress_mbps_per_node,
            after.port_range,
            after.nic_mbps
        )
    };
    Outcome {
        survives,
        verdict,
        why,
        details,
        capacity: livekit_capacity(before, &after),
        rule: "n+1 when the remaining LiveKit nodes hold the peak's rooms (ports, bandwidth, the largest room on one node) and the lost node is not the one running LiveKit's Redis; down when it is, or when none remains.",
    }
}

fn monitoring(cx: &Cx<'_>) -> Outcome {
    Outcome {
        survives: true,
        verdict: Verdict::Degraded,
        why: "The cluster keeps serving: nothing on the request path depends on the monitoring host. Alerting and dashboards are gone until it is rebuilt.".to_string(),
        details: vec![
            "Lost until the host is rebuilt: every alert (Prometheus evaluates the rules, Alertmanager sends them), the Grafana dashboards, and the metrics of the outage itself. A second failure meanwhile goes unnoticed.".to_string(),
            format!(
                "Lost for good if its disk is lost: the metrics history ({} days of retention, retention.prometheus-days). The configuration is in the bundle: rebuilding is prepare-host.sh and the services' start.",
                cx.plan.retention.prometheus_days
            ),
        ],
        capacity: vec![Capacity {
            name: "Hosts evaluating alerts",
            unit: "hosts",
            need: Some(count(1)),
            before: count(1),
            after: count(0),
            formula: "one monitoring host before (the bundle deploys one), none after".to_string(),
        }],
        rule: "degraded: the service runs, but nothing watches it (the bundle deploys one monitoring host).",
    }
}

fn backup(cx: &Cx<'_>) -> Outcome {
    Outcome {
        survives: true,
        verdict: Verdict::Degraded,
        why: "The cluster keeps serving; backups stop until the host is back.".to_string(),
        details: vec![
            "No pgBackRest backups and no media snapshots while it is down: the recovery point ages with every hour.".to_string(),
            "WAL archiving fails (archive_command pushes each segment to the repository over SSH), so PostgreSQL keeps every WAL segment on the primary until the repository returns: watch the Patroni data disk (hosts.patroni.disk-gib); the primary stops when it fills.".to_string(),
            format!(
                "Lost for good if its disk is lost: the {} full backup(s) with their WAL and the {} media snapshots (retention.full-backups, retention.media-snapshots). Keep an off-site copy of the repository.",
                cx.plan.retention.full_backups, cx.plan.retention.media_snapshots
            ),
        ],
        capacity: vec![Capacity {
            name: "Backup repositories",
            unit: "hosts",
            need: Some(count(1)),
            before: count(1),
            after: count(0),
            formula: "one repository host before (the bundle deploys one), none after".to_string(),
        }],
        rule: "degraded: the service runs, but no backups are taken and WAL piles up on the primary (the bundle deploys one backup host).",
    }
}

/// How the entry at `path` (relative to the list, e.g. `[2].survives`) was decided.
pub fn explain(plan: &Plan, failures: &[Failure], path: &str) -> Option<String> {
    let rest = path.strip_prefix('[')?;
    let (index, field) = rest.split_once(']')?;
    let f = failures.get(index.parse::<usize>().ok()?)?;
    let field = field.strip_prefix('.')?;
    let _ = plan;
    if let Some(cap) = field.strip_prefix("capacity[") {
        let (k, key) = cap.split_once(']')?;
        let c = f.capacity.get(k.parse::<usize>().ok()?)?;
        return match key {
            ".need" | ".before" | ".after" => Some(format!("{}: {}.", c.name, c.formula)),
            _ => None,
        };
    }
    if let Some(times) = field.strip_prefix("times[") {
        let (k, key) = times.split_once(']')?;
        let t = f.times.get(k.parse::<usize>().ok()?)?;
        let measured = format!(
            "Measured: {}–{} s, {}.",
            t.measured.low_s, t.measured.high_s, t.measured.cite
        );
        return match key {
            ".best-s" | ".average-s" | ".worst-s" => Some(format!(
                "{}: {} Sources: {}. {measured}",
                t.event, t.arithmetic, t.sources
            )),
            ".measured.low-s" | ".measured.high-s" => Some(measured),
            _ => None,
        };
    }
    match field {
        "survives" | "verdict" | "n-plus-one" => Some(format!("{} Rule: {}", f.why, f.rule)),
        "why" => Some(f.rule.clone()),
        _ if field.starts_with("details[") => Some(f.rule.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(changes: &[(&str, &str)]) -> Plan {
        Plan::default()
            .with_texts(changes)
            .unwrap_or_else(|e| panic!("{changes:?}: {e:?}"))
    }

    /// (changes, host, survives, verdict)
    fn check(changes: &[(&str, &str)], host: &str, survives: bool, verdict: &str) {
        let f = lose(&plan(changes), host).unwrap_or_else(|| panic!("no host {host}"));
        assert_eq!(
            (f.survives, f.verdict.key()),
            (survives, verdict),
            "{changes:?} {host}: {}",
            f.why
        );
    }

    #[test]
    fn verdicts() {
        check(&[], "synapse", false, "down");
        check(&[], "patroni1", true, "n+1");
        check(&[], "patroni3", true, "n+1");
        check(&[("hosts.patroni.count", "2")], "patroni1", false, "down");
        check(&[("hosts.patroni.count", "1")], "patroni1", false, "down");
        // 4 × 4 drives, EC:4: 4 drives of the set on each node, writes need 12 of 16.
        check(&[], "minio1", true, "n+1");
        // EC:8: writes need 9, 12 left: still fine; 2 nodes × 2 drives: reads only.
        check(&[("minio.parity", "8")], "minio2", true, "n+1");
        check(
            &[("hosts.minio.count", "2"), ("minio.drives-per-node", "2")],
            "minio1",
            false,
            "degraded",
        );
        check(&[("hosts.minio.count", "1")], "minio1", false, "down");
        check(&[], "haproxy1", true, "n+1");
        check(&[("hosts.haproxy.count", "1")], "haproxy1", false, "down");
        check(&[], "coturn2", true, "n+1");
        check(&[("hosts.coturn.count", "1")], "coturn1", false, "down");
        check(
            &[("hosts.coturn.count", "1"), ("calls.relayed-share", "0")],
            "coturn1",
            true,
            "n+1",
        );
        check(&[], "livekit1", false, "down");
        check(&[], "livekit2", true, "n+1");
        check(&[], "monitoring", true, "degraded");
        check(&[], "backup", true, "degraded");
        assert!(lose(&Plan::default(), "nope").is_none());
    }

    #[test]
    fn worst_host_of_each_role() {
        let got: Vec<(String, &str)> = failures(&Plan::default())
            .into_iter()
            .map(|f| (f.host, f.verdict.key()))
            .collect();
        let want = [
            ("synapse", "down"),
            ("patroni1", "n+1"),
            ("minio1", "n+1"),
            ("haproxy1", "n+1"),
            ("coturn1", "n+1"),
            ("livekit1", "down"),
            ("monitoring", "degraded"),
            ("backup", "degraded"),
        ];
        let want: Vec<(String, &str)> = want.iter().map(|(h, v)| (h.to_string(), *v)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn vip_takeover_time() {
        // 3 × 1 s + (256 − 190) / 256 × 1 s = 3.2578… → 3.26 s.
        assert_eq!(vip_takeover_seconds(190), 3.26);
        assert_eq!(vip_takeover_seconds(200), 3.22);
        assert_eq!(vrrp_priority(1), 200);
        assert_eq!(vrrp_priority(16), 50);
    }

    /// The timings quoted here are the bundle's own settings.
    #[test]
    fn timings_match_the_bundle() {
        let p = Plan::default();
        let files = crate::bundle::files(
            &p,
            &crate::bundle::Date::parse("2026-11-26").unwrap(),
            &crate::bundle::Secrets::placeholders(),
        );
        let text = |path: &str| crate::bundle::contents(&files, path);
        let patroni = text("hosts/patroni1/etc/patroni/config.yml");
        assert!(patroni.contains(&format!("ttl: {PATRONI_TTL_S}\n")));
        assert!(patroni.contains(&format!(
            "maximum_lag_on_failover: {PATRONI_MAX_LAG_BYTES}\n"
        )));
        let haproxy = text("hosts/haproxy1/etc/haproxy/haproxy.cfg");
        assert!(haproxy.contains(&format!(
            "http-check send meth GET uri /primary\n    http-check expect status 200\n    default-server inter {HAPROXY_CHECK_INTER_S}s fall 3 rise {HAPROXY_CHECK_RISE} "
        )));
        for (host, index) in [("haproxy1", 1), ("haproxy2", 2)] {
            let k = text(&format!("hosts/{host}/etc/keepalived/keepalived.conf"));
            assert!(k.contains(&format!("    priority {}\n", vrrp_priority(index))));
            assert!(k.contains(&format!("    advert_int {KEEPALIVED_ADVERT_INT_S}\n")));
            assert!(!k.contains("vrrp_version 3"));
        }
    }

    #[test]
    fn every_host_can_be_lost() {
        for p in [
            Plan::default(),
            plan(&[("hosts.coturn.count", "0"), ("hosts.livekit.count", "0")]),
        ] {
            for h in hosts(&p) {
                let f = lose(&p, &h).unwrap();
                assert!(!f.why.is_empty() && !f.capacity.is_empty(), "{h}");
                for c in &f.capacity {
                    assert!(c.after.as_f64() <= c.before.as_f64(), "{h}: {c:?}");
                }
            }
        }
    }
}

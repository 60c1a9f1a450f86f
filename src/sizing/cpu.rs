//! CPU per host role: every item that uses CPU on a host of that role, in vCPUs, with
//! its formula and source, against the host's vCPUs (like the RAM budget,
//! [`super::ram`]). A role's figure is that of its busiest host.
//!
//! Each item says what it rests on ([`Basis`]): the plan's load through a published
//! rate (Synapse's processes, LiveKit's forwarded tracks, coturn's relayed calls,
//! HAProxy's handshakes and requests), a vendor's sizing guidance (ESS for PostgreSQL,
//! MinIO's hardware checklist), or a stated floor (the OS, etcd, monitoring, backup).
//! Findings (src/findings/cpu.rs) warn when a host needs more than it has and raise an
//! error when the load alone is far beyond it.
//!
//! Element's ESS sizing gives whole-homeserver CPU bands; [`ess`] puts the planner's
//! Synapse figure next to the band the plan falls in.

use super::{calls, connections};
use crate::assumptions::{self as a, Assumption};
use crate::plan::{Federation, Plan, Role};
use serde::{Serialize, Serializer};

/// A CPU figure in hundredths of a vCPU. Items are rounded up to this grain once, so a
/// total is exactly the sum of its items.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Vcpus(pub u64);

impl Vcpus {
    /// A need, rounded up to the hundredth (a float's last bit never adds one).
    pub fn needed(x: f64) -> Vcpus {
        Vcpus(super::round_up_needed(x * 100.0 - 1e-6))
    }

    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }

    pub fn times(self, n: u64) -> Vcpus {
        Vcpus(self.0.saturating_mul(n))
    }

    pub fn plus(self, other: Vcpus) -> Vcpus {
        Vcpus(self.0.saturating_add(other.0))
    }
}

impl Serialize for Vcpus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_f64())
    }
}

impl std::fmt::Display for Vcpus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The same grain and form as a GiB figure: 21.5, 0.25, 8.
        std::fmt::Display::fmt(&super::Gib(self.0), f)
    }
}

/// A signed hundredths-of-a-vCPU figure (what is left can be negative).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SignedVcpus(pub i64);

impl Serialize for SignedVcpus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.0 as f64 / 100.0)
    }
}

impl std::fmt::Display for SignedVcpus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 < 0 { "−" } else { "" };
        write!(f, "{sign}{}", Vcpus(self.0.unsigned_abs()))
    }
}

/// What an item's figure rests on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Basis {
    /// The plan's load through a published (or stated) rate per vCPU.
    Load,
    /// A vendor's sizing guidance for the service.
    Guidance,
    /// A stated small floor.
    Floor,
    /// The most the item can use (a Synapse process: one core), not a load.
    Bound,
}

impl Basis {
    pub fn key(self) -> &'static str {
        match self {
            Basis::Load => "load",
            Basis::Guidance => "guidance",
            Basis::Floor => "floor",
            Basis::Bound => "bound",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct CpuItem {
    pub name: String,
    pub basis: Basis,
    /// How many of it run on the host (Synapse processes).
    pub count: u64,
    pub each_vcpus: Vcpus,
    /// `count × each`.
    pub vcpus: Vcpus,
    pub formula: String,
    pub source: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct CpuBudget {
    pub role: Role,
    pub label: &'static str,
    pub count: u64,
    /// The host's vCPUs (the plan's input).
    pub vcpus: u64,
    /// Σ items: what one host of this role needs.
    pub vcpus_needed: Vcpus,
    /// Σ of the items whose basis is the load: what the findings' error compares.
    pub load_vcpus: Vcpus,
    /// `vcpus − vcpus_needed`; negative when short.
    pub vcpus_free: SignedVcpus,
    /// `vcpus_needed / vcpus`, in whole percent.
    pub vcpus_used_percent: u64,
    pub items: Vec<CpuItem>,
}

/// The planner's Synapse figure against Element's ESS band for the plan's users.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Ess {
    /// The band and federation the plan falls in (above 10,000 users: the largest band).
    pub band: String,
    /// ESS's Synapse CPU for it.
    pub synapse_vcpus: u64,
    /// ESS's PostgreSQL CPU for it.
    pub postgres_vcpus: u64,
    /// The planner's vCPUs for the Synapse processes (one host).
    pub planner_synapse_vcpus: Vcpus,
    /// planner / ESS, two decimals.
    pub synapse_ratio: f64,
}

/// JSON section `cpu`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Cpu {
    pub hosts: Vec<CpuBudget>,
    pub ess: Ess,
}

struct Items<'a> {
    plan: &'a Plan,
    items: Vec<CpuItem>,
}

impl Items<'_> {
    fn add(
        &mut self,
        name: impl Into<String>,
        basis: Basis,
        count: u64,
        each: Vcpus,
        formula: impl Into<String>,
        source: impl Into<String>,
    ) {
        if count == 0 {
            return;
        }
        self.items.push(CpuItem {
            name: name.into(),
            basis,
            count,
            each_vcpus: each,
            vcpus: each.times(count),
            formula: formula.into(),
            source: source.into(),
        });
    }

    /// An item whose size is one assumption, stated as such.
    fn assumed(&mut self, basis: Basis, a: Assumption) {
        let value = self.plan.assume(&a);
        self.add(
            a.label,
            basis,
            1,
            Vcpus::needed(value),
            format!("{} {}", crate::format::number(value), a.unit),
            a.source,
        );
    }
}

pub fn cpu(plan: &Plan) -> Cpu {
    let hosts: Vec<CpuBudget> = Role::ALL.iter().map(|&r| budget(plan, r)).collect();
    Cpu {
        ess: ess(plan),
        hosts,
    }
}

pub fn budget(plan: &Plan, role: Role) -> CpuBudget {
    let host = plan.host(role);
    let mut items = Items {
        plan,
        items: Vec::new(),
    };
    if host.count > 0 {
        match role {
            Role::Synapse => synapse_items(plan, &mut items),
            Role::Patroni => patroni_items(plan, &mut items),
            Role::Minio => items.assumed(Basis::Guidance, a::MINIO_VCPUS),
            Role::Haproxy => haproxy_items(plan, &mut items),
            Role::Coturn => coturn_items(plan, &mut items),
            Role::Livekit => livekit_items(plan, &mut items),
            Role::Monitoring => items.assumed(Basis::Floor, a::PROMETHEUS_VCPUS),
            Role::Backup => items.assumed(Basis::Floor, a::BACKUP_VCPUS),
        }
        // MinIO's guidance is the whole node's; every other role adds the OS.
        if role != Role::Minio {
            items.assumed(Basis::Floor, a::OS_RESERVE_VCPUS);
        }
    }
    let items = items.items;
    let sum = |f: &dyn Fn(&CpuItem) -> bool| {
        items
            .iter()
            .filter(|i| f(i))
            .fold(Vcpus(0), |acc, i| acc.plus(i.vcpus))
    };
    let needed = sum(&|_| true);
    let load = sum(&|i| i.basis == Basis::Load);
    let have = Vcpus(host.vcpus.saturating_mul(100));
    CpuBudget {
        role,
        label: role.label(),
        count: host.count,
        vcpus: host.vcpus,
        vcpus_needed: needed,
        load_vcpus: load,
        vcpus_free: SignedVcpus(signed(have.0).saturating_sub(signed(needed.0))),
        // Rounded to the nearest percent.
        vcpus_used_percent: needed
            .0
            .saturating_mul(100)
            .saturating_add(have.0 / 2)
            .checked_div(have.0)
            .unwrap_or(0),
        items,
    }
}

/// Hundredths as a signed figure, saturating (validated plans stay far below).
fn signed(x: u64) -> i64 {
    i64::try_from(x).unwrap_or(i64::MAX)
}

/// One core per Synapse process (the GIL), then the other services on the host.
fn synapse_items(plan: &Plan, items: &mut Items) {
    let per = plan.assume(&a::SYNAPSE_VCPUS_PER_PROCESS);
    for p in super::processes(plan) {
        items.add(
            p.label,
            Basis::Bound,
            p.count,
            Vcpus::needed(per),
            format!(
                "{} × {} vCPU: a busy process runs on one core at a time",
                p.count,
                crate::format::number(per)
            ),
            a::SYNAPSE_VCPUS_PER_PROCESS.source,
        );
    }
    items.assumed(Basis::Floor, a::SYNAPSE_HOST_SERVICES_VCPUS);
}

/// The ESS band index of the plan's registered users (the largest above 10,000) and of
/// its federation.
fn ess_index(plan: &Plan) -> (usize, usize) {
    let band = a::ESS_BAND_USERS
        .iter()
        .position(|&top| plan.users.registered <= top)
        .unwrap_or(a::ESS_BAND_USERS.len() - 1);
    let fed = match plan.activity.federation {
        Federation::None => 0,
        Federation::Small => 1,
        Federation::Open => 2,
    };
    (band, fed)
}

fn band_text(plan: &Plan) -> String {
    let (band, _) = ess_index(plan);
    let users = ["1–500", "501–2,500", "2,501–10,000"][band];
    let above = if plan.users.registered > a::ESS_BAND_USERS[2] {
        format!(
            " (the largest band: ESS gives none for {} users)",
            crate::format::group(plan.users.registered)
        )
    } else {
        String::new()
    };
    format!(
        "{users} users{above}, {} federation",
        plan.activity.federation.key()
    )
}

pub fn ess(plan: &Plan) -> Ess {
    let (band, fed) = ess_index(plan);
    let synapse = a::ESS_SYNAPSE_CPU[fed][band];
    let per = Vcpus::needed(plan.assume(&a::SYNAPSE_VCPUS_PER_PROCESS));
    let planner = per.times(plan.synapse_process_count());
    Ess {
        band: band_text(plan),
        synapse_vcpus: synapse,
        postgres_vcpus: a::ESS_POSTGRES_CPU[fed][band],
        planner_synapse_vcpus: planner,
        synapse_ratio: super::objectstore::round2(planner.as_f64() / synapse.max(1) as f64),
    }
}

fn patroni_items(plan: &Plan, items: &mut Items) {
    let e = ess(plan);
    items.add(
        "PostgreSQL",
        Basis::Guidance,
        1,
        Vcpus::needed(e.postgres_vcpus as f64),
        format!(
            "ESS's PostgreSQL CPU for {}: {} vCPUs; PGTune gives PostgreSQL the host's {} vCPUs as max_worker_processes and parallel workers",
            e.band,
            e.postgres_vcpus,
            plan.host(Role::Patroni).vcpus
        ),
        a::ESS_CPU_SOURCE,
    );
    items.assumed(Basis::Floor, a::ETCD_VCPUS);
    items.assumed(Basis::Floor, a::PATRONI_VCPUS);
    items.assumed(Basis::Bound, a::PGBACKREST_VCPUS);
}

/// Full TLS handshakes and kept-alive requests at the plan's peak, through HAProxy's
/// published rates per core.
fn haproxy_items(plan: &Plan, items: &mut Items) {
    let conns = connections::haproxy_connections_needed(plan);
    let reconnect = plan.assume(&a::HAPROXY_RECONNECT_S).max(f64::MIN_POSITIVE);
    let handshakes = conns as f64 / reconnect;
    let per_hs = plan
        .assume(&a::HAPROXY_HANDSHAKES_PER_VCPU)
        .max(f64::MIN_POSITIVE);
    items.add(
        "HAProxy: TLS handshakes",
        Basis::Load,
        1,
        Vcpus::needed(handshakes / per_hs),
        format!(
            "{} front-end connections / {} s = {} handshakes/s ÷ {} a vCPU",
            crate::format::group(conns),
            crate::format::number(reconnect),
            crate::format::number(super::objectstore::round2(handshakes)),
            crate::format::number(per_hs)
        ),
        a::HAPROXY_HANDSHAKES_PER_VCPU.source,
    );
    let peak = plan.peak_concurrent_users();
    let rate = plan.assume(&a::HAPROXY_REQUESTS_PER_USER_S);
    let per_rq = plan
        .assume(&a::HAPROXY_REQUESTS_PER_VCPU)
        .max(f64::MIN_POSITIVE);
    items.add(
        "HAProxy: HTTPS requests",
        Basis::Load,
        1,
        Vcpus::needed(peak as f64 * rate / per_rq),
        format!(
            "{} peak users × {} requests/s ÷ {} a vCPU",
            crate::format::group(peak),
            crate::format::number(rate),
            crate::format::number(per_rq)
        ),
        a::HAPROXY_REQUESTS_PER_VCPU.source,
    );
}

/// The busier of two readings of coturn's load on one node: relayed calls through its
/// README's calls per CPU, relayed traffic through the bitrate that figure implies.
fn coturn_items(plan: &Plan, items: &mut Items) {
    let nodes = plan.host(Role::Coturn).count;
    let t = calls::turn(plan, nodes);
    let calls_per_node = t.relayed_calls.div_ceil(nodes.max(1));
    let per_call = plan
        .assume(&a::COTURN_CALLS_PER_VCPU)
        .max(f64::MIN_POSITIVE);
    let per_mbps = plan.assume(&a::COTURN_MBPS_PER_VCPU).max(f64::MIN_POSITIVE);
    let by_calls = calls_per_node as f64 / per_call;
    let by_mbps = t.relay_mbps_per_node / per_mbps;
    items.add(
        "coturn relay",
        Basis::Load,
        1,
        Vcpus::needed(by_calls.max(by_mbps)),
        format!(
            "the larger of {} relayed calls ÷ {} a vCPU and {} Mbit/s relayed (in + out) ÷ {} Mbit/s a vCPU",
            crate::format::group(calls_per_node),
            crate::format::number(per_call),
            crate::format::number(t.relay_mbps_per_node),
            crate::format::number(per_mbps)
        ),
        format!(
            "{}; {}",
            a::COTURN_CALLS_PER_VCPU.source,
            a::COTURN_MBPS_PER_VCPU.source
        ),
    );
}

/// Forwarded tracks on the busiest node: rooms × P × (P − 1) of video and as many of
/// audio (every participant receives every other one's), through LiveKit's benchmark.
fn livekit_items(plan: &Plan, items: &mut Items) {
    let nodes = plan.host(Role::Livekit).count;
    let l = calls::livekit(plan, nodes);
    let p = l.participants_per_room;
    let tracks = l
        .rooms_per_node
        .saturating_mul(p)
        .saturating_mul(p.saturating_sub(1));
    for (name, a) in [
        (
            "LiveKit: video forwarding",
            a::LIVEKIT_VIDEO_TRACKS_PER_VCPU,
        ),
        (
            "LiveKit: audio forwarding",
            a::LIVEKIT_AUDIO_TRACKS_PER_VCPU,
        ),
    ] {
        let per = plan.assume(&a).max(f64::MIN_POSITIVE);
        items.add(
            name,
            Basis::Load,
            1,
            Vcpus::needed(tracks as f64 / per),
            format!(
                "{} rooms × {p} participants × {} others = {} tracks ÷ {} a vCPU",
                crate::format::group(l.rooms_per_node),
                p.saturating_sub(1),
                crate::format::group(tracks),
                crate::format::number(per)
            ),
            a.source,
        );
    }
    items.assumed(Basis::Floor, a::LIVEKIT_REDIS_VCPUS);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vcpus_round_up_once_and_display_like_gib() {
        assert_eq!(Vcpus::needed(1.0), Vcpus(100));
        assert_eq!(Vcpus::needed(0.07), Vcpus(7));
        assert_eq!(Vcpus::needed(0.071), Vcpus(8));
        assert_eq!(Vcpus::needed(-1.0), Vcpus(0));
        assert_eq!(Vcpus::needed(f64::NAN), Vcpus(0));
        assert_eq!(Vcpus(2150).to_string(), "21.5");
        assert_eq!(SignedVcpus(-350).to_string(), "−3.5");
        assert_eq!(serde_json::to_string(&Vcpus(25)).unwrap(), "0.25");
    }

    #[test]
    fn roles_that_are_off_need_nothing() {
        let p = Plan::default()
            .with_text("hosts.livekit.count", "0")
            .unwrap();
        let b = budget(&p, Role::Livekit);
        assert!(b.items.is_empty());
        assert_eq!(b.vcpus_needed, Vcpus(0));
    }
}

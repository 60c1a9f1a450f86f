//! The plan: what the architect decides (scale, workers, hosts, database limits).
//!
//! Three shapes, in the order data flows (ripgrep's raw-vs-validated split):
//!
//! * [`RawPlan`]: every field as the text a person typed or a file held, keyed by its
//!   key path (`synapse.cache-factor`). The form, plan files and (later) links produce
//!   this; nothing typed is ever lost because nothing is parsed yet.
//! * [`validate`]: turns a `RawPlan` into a [`Plan`] and every [`Problem`] at once,
//!   each naming its key path. It never stops at the first problem and never panics.
//! * [`Plan`]: typed, within bounds, the only input of the sizing engine.
//!
//! The schema is data: [`fields()`] lists every key path with its label, kind and
//! bounds. Parsing, validation, YAML output and the form are all driven by it, so a
//! field added there appears everywhere at once.

mod fields;
mod kinds;
pub mod link;
mod migrate;
pub mod presets;
pub mod session;
mod validate;
mod yaml;

pub use fields::{Field, Group, Kind, Slot, Soft, TextRule, field, fields, schema_markdown};
pub use kinds::{PoolMode, Role, Storage, WorkerKind};
#[cfg(test)]
pub(crate) use validate::tests_dns_name;
pub use validate::{
    DNS_LABEL_MAX, DNS_NAME_MAX, FILE_NAME_MAX, MAIL_ADDRESS_MAX, Problem, Validation, name_char,
    validate,
};
pub use yaml::{
    FileRead, MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES, MAX_TEXT_BYTES, YamlStyle, from_yaml, to_yaml,
};

use std::collections::BTreeMap;

/// The plan-file schema version this build writes. Files carry it as `schema: 2`.
/// Schema 2 (this build): `activity.daily-active-users` and `users.peak-concurrent` are
/// derived from `users.registered` when a file leaves them out. Schema 1 files keep
/// opening, migrated to the plan they meant ([`migrate`]).
pub const SCHEMA_VERSION: u64 = 2;

/// A validated plan. Constructed by [`validate`] (or [`Plan::default`]): every value is
/// within the bounds that [`fields()`] states.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub name: String,
    /// The Matrix server's public name (the playbook's inventory host and `matrix_domain` base).
    pub domain: String,
    pub users: Users,
    pub synapse: Synapse,
    /// Indexed by [`Role::index`].
    pub hosts: [Host; Role::ALL.len()],
    pub postgres: Postgres,
    pub pgbouncer: PgBouncer,
    pub minio: Minio,
    pub activity: Activity,
    pub retention: Retention,
    pub calls: Calls,
    pub coturn: Coturn,
    pub livekit: Livekit,
    pub network: Network,
    pub ops: Ops,
    /// The value of every constant of [`crate::assumptions::all`], in that order: the
    /// default unless the plan overrides it (`assumptions.<id>`).
    pub assumptions: Vec<f64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Users {
    pub registered: u64,
    /// Set by the plan, or `None`: derived from daily-active users by
    /// `assumptions.peak-concurrent-share`. Read it through [`Plan::peak_concurrent_users`].
    pub peak_concurrent: Option<u64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Synapse {
    /// `caches.global_factor` (playbook: `matrix_synapse_caches_global_factor`).
    pub cache_factor: f64,
    /// `caches.per_cache_factors`, cache name → factor. A BTreeMap: output order is
    /// the names' order, never a hash order.
    pub per_cache_factors: BTreeMap<String, f64>,
    /// `database.args.cp_min` / `cp_max`: one setting for every process.
    pub cp_min: u64,
    pub cp_max: u64,
    /// Valkey (Synapse's Redis) on the Synapse host; mandatory once there are workers.
    pub redis: bool,
    /// Indexed by [`WorkerKind::index`].
    pub workers: [u64; WorkerKind::ALL.len()],
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Host {
    pub count: u64,
    pub ram_gib: u64,
    pub vcpus: u64,
    /// The data disk of each host: PostgreSQL's volume on Patroni hosts, the pgBackRest
    /// repository and media snapshots on the backup host, Prometheus' TSDB on the
    /// monitoring host, the local media cache and Docker on the Synapse host; the
    /// system disk elsewhere (MinIO's data drives are `minio.*`).
    pub disk_gib: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Postgres {
    pub max_connections: u64,
    pub storage: Storage,
    /// PostgreSQL major version on the Patroni nodes (15 is Debian 12's own).
    pub version: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PgBouncer {
    pub pool_mode: PoolMode,
    pub default_pool_size: u64,
    pub reserve_pool_size: u64,
    pub max_client_conn: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Minio {
    pub drives_per_node: u64,
    pub drive_tib: f64,
    /// Parity drives per erasure set; 0 = MinIO's default for the set size.
    pub parity: u64,
}

/// How the users use the server: drives storage growth.
#[derive(Clone, Debug, PartialEq)]
pub struct Activity {
    /// Set by the plan, or `None`: derived from registered users by
    /// `assumptions.daily-active-share`. Read it through [`Plan::daily_active_users`].
    pub daily_active_users: Option<u64>,
    pub messages_per_user_day: f64,
    pub uploads_per_user_day: f64,
    /// Average size of an upload, MiB.
    pub upload_mib: f64,
    pub federation: Federation,
    /// How far ahead the storage view looks.
    pub months: u64,
}

/// How much the server federates: remote events and media land in its database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Federation {
    None,
    Small,
    Open,
}

impl Federation {
    pub const KEYS: &'static [&'static str] = &["none", "small", "open"];

    pub fn key(self) -> &'static str {
        match self {
            Federation::None => "none",
            Federation::Small => "small",
            Federation::Open => "open",
        }
    }

    pub fn from_key(s: &str) -> Option<Federation> {
        match s {
            "none" => Some(Federation::None),
            "small" => Some(Federation::Small),
            "open" => Some(Federation::Open),
            _ => None,
        }
    }
}

/// How long things are kept.
#[derive(Clone, Debug, PartialEq)]
pub struct Retention {
    /// Synapse's media_retention.local_media_lifetime in days; 0 = forever.
    pub local_media_days: u64,
    /// remote_media_lifetime in days; 0 = forever.
    pub remote_media_days: u64,
    /// pgBackRest full backups kept (repo1-retention-full).
    pub full_backups: u64,
    /// Hard-linked media snapshots kept on the backup host.
    pub media_snapshots: u64,
    /// Prometheus' retention.
    pub prometheus_days: u64,
}

/// What calls the plan must carry at once.
#[derive(Clone, Debug, PartialEq)]
pub struct Calls {
    /// 1:1 calls at the busiest moment, or `None`: derived from the peak users by
    /// `assumptions.calls-1to1-per-peak-user`. Read it through [`Plan::concurrent_1to1_calls`].
    pub concurrent_1to1: Option<u64>,
    /// Share of 1:1 calls that go through TURN (the rest connect directly).
    pub relayed_share: f64,
    /// Bitrate of one relayed stream, kbit/s.
    pub turn_kbps: u64,
    /// Group calls (LiveKit rooms) at the busiest moment, or `None`: derived from the peak
    /// users by `assumptions.group-rooms-per-peak-user`. Read it through
    /// [`Plan::group_call_rooms`].
    pub group_rooms: Option<u64>,
    pub participants_per_room: u64,
    /// Bitrate of one published video track at its top layer, kbit/s.
    pub group_kbps: u64,
    /// Simulcast layers each publisher sends (1–3).
    pub simulcast_layers: u64,
}

/// coturn's relay port range (`min-port`/`max-port`).
#[derive(Clone, Debug, PartialEq)]
pub struct Coturn {
    pub min_port: u64,
    pub max_port: u64,
}

/// LiveKit's RTC UDP port range (`rtc.port_range_start`/`end`).
#[derive(Clone, Debug, PartialEq)]
pub struct Livekit {
    pub port_range_start: u64,
    pub port_range_end: u64,
}

/// The private network the hosts share. Host addresses are fixed offsets in the
/// subnet by role ([`Role::address_block`]), so adding a host never moves another.
#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    pub subnet: std::net::Ipv4Addr,
    pub prefix: u8,
    /// keepalived's virtual IP in front of HAProxy.
    pub vip: std::net::Ipv4Addr,
    /// The hosts' private interface (keepalived binds the VIP on it).
    pub interface: String,
    /// DNS suffix of the hosts' names (`patroni1.internal`).
    pub internal_domain: String,
    /// Who may reach the admin paths at HAProxy and ssh and the operators' web UIs on
    /// the hosts' firewalls; empty: the private subnet ([`Plan::admin_networks`]).
    pub admin_networks: Vec<Ipv4Net>,
}

/// An IPv4 network in CIDR form, its address the network's (validated).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ipv4Net {
    pub addr: std::net::Ipv4Addr,
    pub prefix: u8,
}

impl Ipv4Net {
    pub fn contains(&self, ip: std::net::Ipv4Addr) -> bool {
        let mask = u32::MAX
            .checked_shl(32 - u32::from(self.prefix))
            .unwrap_or(0);
        u32::from(ip) & mask == u32::from(self.addr) & mask
    }
}

impl std::fmt::Display for Ipv4Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// The form text of a list of networks: `10.0.1.0/24, 198.51.100.0/24`.
pub(crate) fn networks_text(nets: &[Ipv4Net]) -> String {
    nets.iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Networks separated by commas or white space; the syntax only (validation checks the
/// rest). None when one does not parse.
pub(crate) fn parse_networks(t: &str) -> Option<Vec<Ipv4Net>> {
    t.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .map(|w| fields::parse_subnet(w).map(|(addr, prefix)| Ipv4Net { addr, prefix }))
        .collect()
}

/// Who operates the cluster: alert and certificate e-mail.
#[derive(Clone, Debug, PartialEq)]
pub struct Ops {
    pub email: String,
    /// SMTP relay for Alertmanager, `host:port`.
    pub smtp_smarthost: String,
}

impl Plan {
    pub fn host(&self, role: Role) -> &Host {
        &self.hosts[role.index()]
    }

    pub fn workers(&self, kind: WorkerKind) -> u64 {
        self.synapse.workers[kind.index()]
    }

    /// The private subnet.
    pub fn subnet(&self) -> Ipv4Net {
        Ipv4Net {
            addr: self.network.subnet,
            prefix: self.network.prefix,
        }
    }

    /// The networks operators reach admin paths, ssh and web UIs from: the plan's
    /// `network.admin-networks`, or the private subnet when it names none.
    pub fn admin_networks(&self) -> Vec<Ipv4Net> {
        if self.network.admin_networks.is_empty() {
            vec![self.subnet()]
        } else {
            self.network.admin_networks.clone()
        }
    }

    /// Number of Synapse worker processes (not counting the main process).
    pub fn worker_count(&self) -> u64 {
        self.synapse.workers.iter().sum()
    }

    /// Main process + every worker.
    pub fn synapse_process_count(&self) -> u64 {
        1 + self.worker_count()
    }

    /// Users active on a day: the plan's `activity.daily-active-users`, or derived from
    /// registered users by `assumptions.daily-active-share` (at least the peak the plan
    /// sets, at most the registered users). Every figure that grows with activity reads
    /// it here.
    pub fn daily_active_users(&self) -> u64 {
        self.activity.daily_active_users.unwrap_or_else(|| {
            derive_daily_active(
                self.users.registered,
                self.assume(&crate::assumptions::DAILY_ACTIVE_SHARE),
                self.users.peak_concurrent,
            )
        })
    }

    /// Users with a client syncing at the busiest hour: the plan's
    /// `users.peak-concurrent`, or derived from [`Plan::daily_active_users`] by
    /// `assumptions.peak-concurrent-share` (at most the daily active users).
    pub fn peak_concurrent_users(&self) -> u64 {
        self.users.peak_concurrent.unwrap_or_else(|| {
            derive_peak(
                self.daily_active_users(),
                self.assume(&crate::assumptions::PEAK_CONCURRENT_SHARE),
            )
        })
    }

    /// 1:1 calls at the busiest moment: the plan's `calls.concurrent-1to1`, or derived
    /// from [`Plan::peak_concurrent_users`] by `assumptions.calls-1to1-per-peak-user`
    /// (within the field's bound).
    pub fn concurrent_1to1_calls(&self) -> u64 {
        self.calls.concurrent_1to1.unwrap_or_else(|| {
            share_of(
                self.peak_concurrent_users(),
                self.assume(&crate::assumptions::CALLS_1TO1_PER_PEAK_USER),
            )
            .min(MAX_CONCURRENT_1TO1)
        })
    }

    /// Group calls at the busiest moment: the plan's `calls.group-rooms`, or derived from
    /// [`Plan::peak_concurrent_users`] by `assumptions.group-rooms-per-peak-user` (within
    /// the field's bound).
    pub fn group_call_rooms(&self) -> u64 {
        self.calls.group_rooms.unwrap_or_else(|| {
            share_of(
                self.peak_concurrent_users(),
                self.assume(&crate::assumptions::GROUP_ROOMS_PER_PEAK_USER),
            )
            .min(MAX_GROUP_ROOMS)
        })
    }

    /// The value a derivable field takes from its derivation, when the plan leaves it
    /// out; `None` when the plan sets it or it is not derivable (the form's placeholder).
    pub fn derived(&self, path: &str) -> Option<u64> {
        match path {
            "activity.daily-active-users" if self.activity.daily_active_users.is_none() => {
                Some(self.daily_active_users())
            }
            "users.peak-concurrent" if self.users.peak_concurrent.is_none() => {
                Some(self.peak_concurrent_users())
            }
            "calls.concurrent-1to1" if self.calls.concurrent_1to1.is_none() => {
                Some(self.concurrent_1to1_calls())
            }
            "calls.group-rooms" if self.calls.group_rooms.is_none() => {
                Some(self.group_call_rooms())
            }
            _ => None,
        }
    }

    /// How a derived field got its value, for the form ("derived: 1,000 (50 % of
    /// registered users)"); `None` when the plan sets the field or it is not derivable.
    pub fn derivation(&self, path: &str) -> Option<String> {
        use crate::assumptions as a;
        let value = self.derived(path)?;
        // The plan layer formats its own numbers (it sits below crate::format).
        let percent = |share: &a::Assumption| {
            let s = format!("{:.2}", self.assume(share) * 100.0);
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        };
        let how = match path {
            "activity.daily-active-users" => {
                format!("{} % of registered users", percent(&a::DAILY_ACTIVE_SHARE))
            }
            "users.peak-concurrent" => format!(
                "{} % of daily active users",
                percent(&a::PEAK_CONCURRENT_SHARE)
            ),
            "calls.concurrent-1to1" => format!(
                "{} per 100 users at peak",
                percent(&a::CALLS_1TO1_PER_PEAK_USER)
            ),
            _ => format!(
                "{} per 100 users at peak",
                percent(&a::GROUP_ROOMS_PER_PEAK_USER)
            ),
        };
        Some(format!("derived: {} ({how})", crate::format::group(value)))
    }

    /// A constant of the engine as this plan sets it: its override, or its default.
    pub fn assume(&self, a: &crate::assumptions::Assumption) -> f64 {
        crate::assumptions::all()
            .position(|x| x.id == a.id)
            .and_then(|i| self.assumptions.get(i).copied())
            .unwrap_or(a.default_value())
    }
}

/// The bounds of `calls.concurrent-1to1` and `calls.group-rooms` (fields.rs): a derived
/// value stays within them.
pub(crate) const MAX_CONCURRENT_1TO1: u64 = 1_000_000;
pub(crate) const MAX_GROUP_ROOMS: u64 = 100_000;

/// Daily active users derived from `registered` × `share`, rounded, at least the peak a
/// plan sets (so a derived value never conflicts with one the author set) and at most
/// `registered`. Saturating and bounded: never panics.
pub(crate) fn derive_daily_active(registered: u64, share: f64, peak: Option<u64>) -> u64 {
    share_of(registered, share)
        .max(peak.unwrap_or(0))
        .min(registered)
}

/// Peak concurrent users derived from `daily_active` × `share`, at most `daily_active`.
pub(crate) fn derive_peak(daily_active: u64, share: f64) -> u64 {
    share_of(daily_active, share).min(daily_active)
}

/// `n × share`, rounded to the nearest whole number (halves up); 0 for a share that is
/// not a positive number. Plans hold at most 10⁸ users, so the f64 is exact.
pub(crate) fn share_of(n: u64, share: f64) -> u64 {
    if share.is_finite() && share > 0.0 {
        // `as` saturates: a huge product becomes u64::MAX, then `min` bounds it.
        (n as f64 * share).round() as u64
    } else {
        0
    }
}

impl Default for Plan {
    /// The seed's cluster (DESIGN.md §2): one Synapse host with 19 workers (20
    /// processes, the seed's "20 workers → ~130 GB" example), 3 Patroni nodes with the
    /// seed's 64 GB / 16 cores / NVMe / 500 connections, 4 MinIO nodes, 2 HAProxy,
    /// 2 coturn, 2 LiveKit, 1 monitoring, 1 backup host; PgBouncer as in the seed.
    /// Scale: 10,000 registered users, 2,500 at peak (the seed states none; this is
    /// the upper ESS band the seed's hardware is built for). See docs/default-plan.md.
    fn default() -> Self {
        use WorkerKind as W;
        let mut workers = [0; WorkerKind::ALL.len()];
        for (kind, n) in [
            (W::Sync, 3),
            (W::ClientReader, 1),
            (W::FederationReader, 1),
            (W::FederationSender, 1),
            (W::Room, 1),
            (W::Generic, 0),
            (W::Pusher, 1),
            (W::Appservice, 0),
            (W::UserDir, 1),
            (W::Background, 1),
            (W::MediaRepository, 1),
            (W::StreamWriterEvents, 2),
            (W::StreamWriterTyping, 1),
            (W::StreamWriterToDevice, 1),
            (W::StreamWriterAccountData, 1),
            (W::StreamWriterReceipts, 1),
            // The seed disables presence, so no presence writer.
            (W::StreamWriterPresence, 0),
            (W::StreamWriterPushRules, 1),
            (W::StreamWriterDeviceLists, 1),
        ] {
            workers[kind.index()] = n;
        }
        let host = |count, ram_gib, vcpus, disk_gib| Host {
            count,
            ram_gib,
            vcpus,
            disk_gib,
        };
        let mut hosts = [host(1, 8, 2, 50); Role::ALL.len()];
        for (role, h) in [
            (Role::Synapse, host(1, 160, 32, 500)),
            (Role::Patroni, host(3, 64, 16, 2000)),
            (Role::Minio, host(4, 32, 8, 100)),
            (Role::Haproxy, host(2, 8, 4, 50)),
            (Role::Coturn, host(2, 8, 4, 50)),
            (Role::Livekit, host(2, 16, 8, 50)),
            (Role::Monitoring, host(1, 16, 4, 500)),
            (Role::Backup, host(1, 16, 4, 8000)),
        ] {
            hosts[role.index()] = h;
        }
        Plan {
            name: "seed-cluster".to_string(),
            domain: "chat.example.com".to_string(),
            users: Users {
                registered: 10_000,
                // Derived: 2,500 (half the daily active users).
                peak_concurrent: None,
            },
            synapse: Synapse {
                cache_factor: 10.0,
                per_cache_factors: BTreeMap::new(),
                cp_min: 5,
                cp_max: 10,
                redis: true,
                workers,
            },
            hosts,
            postgres: Postgres {
                max_connections: 500,
                storage: Storage::Nvme,
                version: 15,
            },
            pgbouncer: PgBouncer {
                pool_mode: PoolMode::Transaction,
                default_pool_size: 50,
                reserve_pool_size: 10,
                max_client_conn: 1000,
            },
            minio: Minio {
                drives_per_node: 4,
                drive_tib: 1.0,
                parity: 0,
            },
            // Half the registered users active on a day (derived: 5,000), a moderately
            // chatty organisation. Stated defaults, not measurements: change them to yours.
            activity: Activity {
                daily_active_users: None,
                messages_per_user_day: 30.0,
                uploads_per_user_day: 1.0,
                upload_mib: 2.0,
                federation: Federation::Small,
                months: 36,
            },
            // Seed §3 media retention (local 90d, remote 14d); the bundle's backup and
            // monitoring defaults.
            retention: Retention {
                local_media_days: 90,
                remote_media_days: 14,
                full_backups: 2,
                media_snapshots: 7,
                prometheus_days: 30,
            },
            // Derived from the peak: one 1:1 call per 100 users at peak (25), a third of
            // them relayed; one group room of eight per 500 users at peak (5).
            calls: Calls {
                concurrent_1to1: None,
                relayed_share: 0.3,
                turn_kbps: 2000,
                group_rooms: None,
                participants_per_room: 8,
                group_kbps: 1700,
                simulcast_layers: 3,
            },
            // Seed §4: coturn 49152–65535, LiveKit 50100–50200 (the latter is small:
            // two ports per participant; the call views flag it).
            coturn: Coturn {
                min_port: 49152,
                max_port: 65535,
            },
            livekit: Livekit {
                port_range_start: 50100,
                port_range_end: 50200,
            },
            // Seed: VIP 10.0.1.10 on a private /24, hosts named <role><n>.internal.
            network: Network {
                subnet: std::net::Ipv4Addr::new(10, 0, 1, 0),
                prefix: 24,
                vip: std::net::Ipv4Addr::new(10, 0, 1, 10),
                interface: "eth0".to_string(),
                internal_domain: "internal".to_string(),
                admin_networks: Vec::new(),
            },
            ops: Ops {
                email: "ops@example.com".to_string(),
                smtp_smarthost: "mail.internal:25".to_string(),
            },
            assumptions: crate::assumptions::all()
                .map(|a| a.default_value())
                .collect(),
        }
    }
}

/// Every field as text, keyed by key path. Always holds every field of the schema
/// (missing ones are filled from the defaults), so validation sees a complete plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawPlan {
    values: BTreeMap<String, String>,
}

impl RawPlan {
    pub fn from_plan(plan: &Plan) -> RawPlan {
        let values = fields()
            .iter()
            .map(|f| (f.path.clone(), f.get_text(plan)))
            .collect();
        RawPlan { values }
    }

    /// The text of a field; empty for a path the schema does not have.
    pub fn get(&self, path: &str) -> &str {
        self.values.get(path).map(String::as_str).unwrap_or("")
    }

    /// Sets a field's text. Paths the schema does not have are ignored (returns false).
    pub fn set(&mut self, path: &str, text: impl Into<String>) -> bool {
        match self.values.get_mut(path) {
            Some(slot) => {
                *slot = text.into();
                true
            }
            None => false,
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// From saved text by key path (browser storage): keys the schema lacks are dropped,
    /// missing ones take the defaults. The text itself is kept as it was, valid or not.
    ///
    /// A plan saved by a schema-1 build (it has no `assumptions.daily-active-share`: this
    /// build saves every field) held schema 1's absolute activity as text, whether typed
    /// or not: a value equal to schema 1's default is read as not set and migrated like a
    /// schema-1 file's ([`migrate`]), so typing a small user count into a page saved by
    /// the first release does not meet "5000 daily active users" nobody typed.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> RawPlan {
        let mut raw = RawPlan::default();
        let (mut any, mut schema_2) = (false, false);
        for (k, v) in pairs {
            any = true;
            schema_2 |= k == "assumptions.daily-active-share";
            raw.set(k, v);
        }
        if any && !schema_2 {
            for (path, schema_1_default) in migrate::SCHEMA_1_DEFAULTS {
                if raw.get(path).trim() == schema_1_default.to_string() {
                    raw.set(path, "");
                }
            }
            migrate::schema_1(&mut raw, &mut Vec::new());
        }
        raw
    }
}

impl Default for RawPlan {
    fn default() -> Self {
        RawPlan::from_plan(&Plan::default())
    }
}

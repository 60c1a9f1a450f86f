//! The schema as data: one [`Field`] per key path.

use super::{Federation, Plan, PoolMode, Role, Storage, WorkerKind};
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// Where a field's value lives in a [`Plan`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    Name,
    Domain,
    UsersRegistered,
    UsersPeakConcurrent,
    CacheFactor,
    PerCacheFactors,
    CpMin,
    CpMax,
    Redis,
    Worker(WorkerKind),
    HostCount(Role),
    HostRamGib(Role),
    HostVcpus(Role),
    PgMaxConnections,
    PgStorage,
    PoolMode,
    DefaultPoolSize,
    ReservePoolSize,
    MaxClientConn,
    MinioDrivesPerNode,
    MinioDriveTib,
    PgVersion,
    CoturnMinPort,
    CoturnMaxPort,
    LivekitPortStart,
    LivekitPortEnd,
    Subnet,
    Vip,
    Interface,
    AdminNetworks,
    InternalDomain,
    OpsEmail,
    SmtpSmarthost,
    /// Index into `crate::assumptions::all()`.
    Assumption(usize),
    HostDiskGib(Role),
    MinioParity,
    DailyActiveUsers,
    MessagesPerUserDay,
    UploadsPerUserDay,
    UploadMib,
    Federation,
    Months,
    LocalMediaDays,
    RemoteMediaDays,
    FullBackups,
    MediaSnapshots,
    PrometheusDays,
    Concurrent1to1,
    RelayedShare,
    TurnKbps,
    GroupRooms,
    ParticipantsPerRoom,
    GroupKbps,
    SimulcastLayers,
}

/// Form groups, in display order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    Scale,
    Synapse,
    Workers,
    Hosts,
    Database,
    ObjectStorage,
    Activity,
    Calls,
    Network,
    Assumptions,
}

impl Group {
    pub const ALL: [Group; 10] = [
        Group::Scale,
        Group::Synapse,
        Group::Workers,
        Group::Hosts,
        Group::Database,
        Group::ObjectStorage,
        Group::Activity,
        Group::Calls,
        Group::Network,
        Group::Assumptions,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Group::Scale => "Scale",
            Group::Synapse => "Synapse",
            Group::Workers => "Synapse workers",
            Group::Hosts => "Hosts",
            Group::Database => "PostgreSQL and PgBouncer",
            Group::ObjectStorage => "Object storage",
            Group::Activity => "Activity and retention",
            Group::Calls => "Calls (TURN and LiveKit)",
            Group::Network => "Network and operations",
            Group::Assumptions => "Assumptions",
        }
    }
}

/// A soft bound: crossing it is allowed but earns a warning with this reason.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Soft {
    pub below: Option<f64>,
    pub above: Option<f64>,
    pub why: &'static str,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextRule {
    /// Free text, 1..=80 printable characters.
    Name,
    /// A DNS name with at least two labels, lowercase.
    Domain,
    /// A DNS name that may be a single label (`internal`).
    DnsSuffix,
    /// An IPv4 network in CIDR form, /8 to /24.
    Subnet,
    Ipv4,
    /// A Linux network interface name.
    Interface,
    Email,
    /// `host:port`.
    HostPort,
    /// IPv4 networks in CIDR form, separated by commas or spaces; may be empty.
    Networks,
}

/// `10.0.1.0/24` → (10.0.1.0, 24): the syntax of [`TextRule::Subnet`] only; validation
/// checks the rest (a network address, /8–/24, private).
pub(crate) fn parse_subnet(t: &str) -> Option<(std::net::Ipv4Addr, u8)> {
    let (addr, prefix) = t.trim().split_once('/')?;
    let prefix: u8 = prefix.parse().ok().filter(|p| *p <= 32)?;
    Some((addr.parse().ok()?, prefix))
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    Int {
        min: u64,
        max: u64,
        unit: &'static str,
        soft: Option<Soft>,
    },
    Float {
        min: f64,
        max: f64,
        unit: &'static str,
        soft: Option<Soft>,
    },
    Text(TextRule),
    Choice(&'static [&'static str]),
    Bool,
    /// `name: factor` lines (a YAML mapping in plan files).
    CacheFactors,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub slot: Slot,
    /// Key path, e.g. `synapse.cache-factor`; also the form input's `name`.
    pub path: String,
    pub label: String,
    pub group: Group,
    pub kind: Kind,
    pub help: &'static str,
}

/// A typed value read from or written to a [`Plan`].
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Int(u64),
    Float(f64),
    Text(String),
    Bool(bool),
    Factors(BTreeMap<String, f64>),
    /// A [`Field::derivable`] field the plan leaves to its derivation: empty text in the
    /// form, absent (or null) in a plan file.
    Derived,
}

/// Every field of the schema, in display and file order.
pub fn fields() -> &'static [Field] {
    static FIELDS: LazyLock<Vec<Field>> = LazyLock::new(build);
    &FIELDS
}

/// The field with this key path.
pub fn field(path: &str) -> Option<&'static Field> {
    static INDEX: LazyLock<BTreeMap<&'static str, usize>> = LazyLock::new(|| {
        fields()
            .iter()
            .enumerate()
            .map(|(i, f)| (f.path.as_str(), i))
            .collect()
    });
    INDEX.get(path).map(|&i| &fields()[i])
}

/// Is `path` a group of fields (`hosts`, `hosts.patroni`): a proper prefix of some key
/// path, ending at a dot?
pub fn is_group(path: &str) -> bool {
    static GROUPS: LazyLock<std::collections::BTreeSet<&'static str>> = LazyLock::new(|| {
        fields()
            .iter()
            .flat_map(|f| f.path.match_indices('.').map(move |(i, _)| &f.path[..i]))
            .collect()
    });
    GROUPS.contains(path)
}

fn int(min: u64, max: u64, unit: &'static str) -> Kind {
    Kind::Int {
        min,
        max,
        unit,
        soft: None,
    }
}

fn int_soft(min: u64, max: u64, unit: &'static str, soft: Soft) -> Kind {
    Kind::Int {
        min,
        max,
        unit,
        soft: Some(soft),
    }
}

fn build() -> Vec<Field> {
    let mut v = Vec::new();
    let mut push = |slot, path: &str, label: &str, group, kind, help| {
        v.push(Field {
            slot,
            path: path.to_string(),
            label: label.to_string(),
            group,
            kind,
            help,
        })
    };
    push(
        Slot::Name,
        "name",
        "Plan name",
        Group::Scale,
        Kind::Text(TextRule::Name),
        "A name for this plan; it heads every generated file. Up to 80 visible characters of any script and plain spaces: no line breaks, tabs or invisible characters.",
    );
    push(
        Slot::Domain,
        "domain",
        "Matrix server name",
        Group::Scale,
        Kind::Text(TextRule::Domain),
        "The homeserver's public DNS name, e.g. chat.example.com.",
    );
    push(
        Slot::UsersRegistered,
        "users.registered",
        "Registered users",
        Group::Scale,
        int_soft(
            1,
            100_000_000,
            "users",
            Soft {
                below: None,
                above: Some(1_000_000.0),
                why: "no public Synapse sizing data covers more than a million users on one homeserver",
            },
        ),
        "Accounts on the homeserver.",
    );
    push(
        Slot::UsersPeakConcurrent,
        "users.peak-concurrent",
        "Peak concurrent users",
        Group::Scale,
        int(0, 100_000_000, "users"),
        "Users with a client syncing at the busiest hour; empty: derived from daily active users (assumptions.peak-concurrent-share). At most the daily active users.",
    );
    push(
        Slot::CacheFactor,
        "synapse.cache-factor",
        "Global cache factor",
        Group::Synapse,
        Kind::Float {
            min: 0.01,
            max: 1000.0,
            unit: "×",
            soft: Some(Soft {
                below: Some(0.5),
                above: Some(50.0),
                why: "Synapse's default is 0.5 and the playbook's 10; by the seed's heuristic each unit costs 0.5 GiB per process",
            }),
        },
        "caches.global_factor (playbook: matrix_synapse_caches_global_factor). Scales cache entry counts.",
    );
    push(
        Slot::PerCacheFactors,
        "synapse.per-cache-factors",
        "Per-cache factors",
        Group::Synapse,
        Kind::CacheFactors,
        "One `cache_name: factor` per line, e.g. get_users_in_room: 5.0 (caches.per_cache_factors).",
    );
    push(
        Slot::CpMin,
        "synapse.cp-min",
        "DB pool minimum (cp_min)",
        Group::Synapse,
        int(1, 1000, "connections"),
        "Connections each Synapse process keeps open (playbook default 5).",
    );
    push(
        Slot::CpMax,
        "synapse.cp-max",
        "DB pool maximum (cp_max)",
        Group::Synapse,
        int_soft(
            1,
            1000,
            "connections",
            Soft {
                below: None,
                above: Some(50.0),
                why: "Synapse runs one reactor thread per process; more than a few dozen connections per process rarely helps",
            },
        ),
        "Connections each Synapse process may open (playbook default 10, one setting for all processes).",
    );
    push(
        Slot::Redis,
        "synapse.redis",
        "Valkey (Redis) for workers",
        Group::Synapse,
        Kind::Bool,
        "Synapse's replication bus; required as soon as there is one worker.",
    );
    for kind in WorkerKind::ALL {
        let max = 64;
        push(
            Slot::Worker(kind),
            &format!("synapse.workers.{}", kind.key()),
            kind.label(),
            Group::Workers,
            int(0, max, "processes"),
            if kind.single_instance() {
                "Single-instance type: 0 or 1."
            } else {
                "Processes of this type."
            },
        );
    }
    for role in Role::ALL {
        let (min, max, _) = role.count_bounds();
        push(
            Slot::HostCount(role),
            &format!("hosts.{}.count", role.key()),
            &format!("{} hosts", role.label()),
            Group::Hosts,
            int(min, max, "hosts"),
            "Number of hosts of this role.",
        );
        push(
            Slot::HostRamGib(role),
            &format!("hosts.{}.ram-gib", role.key()),
            &format!("{} RAM per host", role.label()),
            Group::Hosts,
            int_soft(
                1,
                24_576,
                "GiB",
                Soft {
                    below: Some(2.0),
                    above: None,
                    why: "a Debian host with Docker and an exporter needs about 2 GiB before any service",
                },
            ),
            "Memory of each host of this role.",
        );
        push(
            Slot::HostVcpus(role),
            &format!("hosts.{}.vcpus", role.key()),
            &format!("{} vCPUs per host", role.label()),
            Group::Hosts,
            int(1, 1024, "vCPUs"),
            "Virtual CPUs of each host of this role.",
        );
        push(
            Slot::HostDiskGib(role),
            &format!("hosts.{}.disk-gib", role.key()),
            &format!("{} data disk per host", role.label()),
            Group::Hosts,
            int(1, 10_000_000, "GiB"),
            match role {
                Role::Synapse => {
                    "The Synapse host's data volume: container images, logs and the media waiting for the daily move to MinIO."
                }
                Role::Patroni => {
                    "Each Patroni node's PostgreSQL volume: the whole database, its WAL and room to rewrite the largest table."
                }
                Role::Backup => {
                    "The backup host's volume: pgBackRest's repository, archived WAL, pg_dump files and the media mirror with its snapshots."
                }
                Role::Monitoring => {
                    "The monitoring host's volume: Prometheus' TSDB for retention.prometheus-days."
                }
                Role::Minio => {
                    "The system disk of each MinIO node (its data drives are minio.drives-per-node × minio.drive-tib)."
                }
                _ => "The system disk of each host of this role.",
            },
        );
    }
    push(
        Slot::PgMaxConnections,
        "postgres.max-connections",
        "max_connections",
        Group::Database,
        int_soft(
            10,
            10_000,
            "connections",
            Soft {
                below: None,
                above: Some(2_000.0),
                why: "each PostgreSQL backend is a process; beyond a few thousand the per-connection overhead dominates even behind PgBouncer",
            },
        ),
        "PostgreSQL max_connections, equal on every Patroni node.",
    );
    push(
        Slot::PgStorage,
        "postgres.storage",
        "Database storage",
        Group::Database,
        Kind::Choice(Storage::KEYS),
        "Disk type of the Patroni data volume (sets random_page_cost and effective_io_concurrency).",
    );
    push(
        Slot::PoolMode,
        "pgbouncer.pool-mode",
        "PgBouncer pool mode",
        Group::Database,
        Kind::Choice(PoolMode::KEYS),
        "How PgBouncer shares server connections.",
    );
    push(
        Slot::DefaultPoolSize,
        "pgbouncer.default-pool-size",
        "PgBouncer default_pool_size",
        Group::Database,
        int(1, 10_000, "connections"),
        "Server connections per database/user pair, per PgBouncer.",
    );
    push(
        Slot::ReservePoolSize,
        "pgbouncer.reserve-pool-size",
        "PgBouncer reserve_pool_size",
        Group::Database,
        int(0, 10_000, "connections"),
        "Extra server connections allowed when clients wait.",
    );
    push(
        Slot::MaxClientConn,
        "pgbouncer.max-client-conn",
        "PgBouncer max_client_conn",
        Group::Database,
        int(1, 1_000_000, "connections"),
        "Client connections PgBouncer accepts.",
    );
    push(
        Slot::MinioDrivesPerNode,
        "minio.drives-per-node",
        "MinIO drives per node",
        Group::ObjectStorage,
        int(1, 64, "drives"),
        "Data drives on each MinIO node.",
    );
    push(
        Slot::MinioDriveTib,
        "minio.drive-tib",
        "MinIO drive size",
        Group::ObjectStorage,
        Kind::Float {
            min: 0.01,
            max: 1024.0,
            unit: "TiB",
            soft: None,
        },
        "Capacity of each MinIO drive.",
    );
    push(
        Slot::MinioParity,
        "minio.parity",
        "MinIO parity drives",
        Group::ObjectStorage,
        int(0, 8, "drives"),
        "Parity drives per erasure set (EC:n); 0 = MinIO's default for the set size.",
    );
    push(
        Slot::DailyActiveUsers,
        "activity.daily-active-users",
        "Daily active users",
        Group::Activity,
        int(0, 100_000_000, "users"),
        "Users who use the server on a day (ESS's \"active users\"); empty: derived from registered users (assumptions.daily-active-share). At most users.registered; the database and media grow with them.",
    );
    push(
        Slot::MessagesPerUserDay,
        "activity.messages-per-user-day",
        "Messages per active user per day",
        Group::Activity,
        Kind::Float {
            min: 0.0,
            max: 100_000.0,
            unit: "messages",
            soft: None,
        },
        "Messages each active user sends a day; reactions and edits count as one each (state changes and call signalling are added by assumption).",
    );
    push(
        Slot::UploadsPerUserDay,
        "activity.uploads-per-user-day",
        "Uploads per active user per day",
        Group::Activity,
        Kind::Float {
            min: 0.0,
            max: 10_000.0,
            unit: "files",
            soft: None,
        },
        "Files, images and voice messages each active user uploads a day.",
    );
    push(
        Slot::UploadMib,
        "activity.upload-mib",
        "Average upload size",
        Group::Activity,
        Kind::Float {
            min: 0.0,
            max: 100_000.0,
            unit: "MiB",
            soft: Some(Soft {
                below: None,
                above: Some(100.0),
                why: "the bundle's max_upload_size is 100 MB (seed §3): no upload is larger, so neither is their average",
            }),
        },
        "Mean size of an upload (ESS's \"average media size\"); thumbnails are added by assumption.",
    );
    push(
        Slot::Federation,
        "activity.federation",
        "Federation",
        Group::Activity,
        Kind::Choice(Federation::KEYS),
        "none: closed server; small: a few partner servers; open: members join large public rooms.",
    );
    push(
        Slot::Months,
        "activity.months",
        "Months to plan for",
        Group::Activity,
        int(1, 120, "months"),
        "How far ahead the storage view looks, from go-live with an empty database.",
    );
    push(
        Slot::LocalMediaDays,
        "retention.local-media-days",
        "Local media kept",
        Group::Activity,
        int(0, 36_500, "days"),
        "Synapse's media_retention.local_media_lifetime: local media nobody fetched for this long is deleted from Synapse's store; 0 keeps it forever. Copies in MinIO stay either way (element-hq/synapse#16989).",
    );
    push(
        Slot::RemoteMediaDays,
        "retention.remote-media-days",
        "Remote media cached",
        Group::Activity,
        int(0, 36_500, "days"),
        "Synapse's media_retention.remote_media_lifetime: cached remote media nobody fetched for this long is dropped; 0 caches it forever. Copies in MinIO stay either way.",
    );
    push(
        Slot::FullBackups,
        "retention.full-backups",
        "pgBackRest full backups kept",
        Group::Activity,
        int(1, 52, "backups"),
        "pgBackRest repo1-retention-full: weekly full backups kept, with their WAL; point-in-time restores reach back (n − 1) to n weeks.",
    );
    push(
        Slot::MediaSnapshots,
        "retention.media-snapshots",
        "Media snapshots kept",
        Group::Activity,
        int(1, 365, "snapshots"),
        "Daily hard-linked media snapshots kept on the backup host (backup-media.sh); one a day.",
    );
    push(
        Slot::PrometheusDays,
        "retention.prometheus-days",
        "Prometheus retention",
        Group::Activity,
        int(1, 3650, "days"),
        "How long Prometheus keeps metrics (--storage.tsdb.retention.time); sizes the monitoring disk.",
    );
    push(
        Slot::Concurrent1to1,
        "calls.concurrent-1to1",
        "Concurrent 1:1 calls",
        Group::Calls,
        int(0, super::MAX_CONCURRENT_1TO1, "calls"),
        "1:1 (TURN) calls at the busiest moment; empty: derived from the peak users (assumptions.calls-1to1-per-peak-user).",
    );
    push(
        Slot::RelayedShare,
        "calls.relayed-share",
        "Share of 1:1 calls relayed",
        Group::Calls,
        Kind::Float {
            min: 0.0,
            max: 1.0,
            unit: "ratio",
            soft: None,
        },
        "Calls that go through TURN because the peers cannot reach each other (0–1).",
    );
    push(
        Slot::TurnKbps,
        "calls.turn-kbps",
        "Relayed stream bitrate",
        Group::Calls,
        int(1, 100_000, "kbit/s"),
        "Bitrate of one relayed stream (video ~2000, audio ~40).",
    );
    push(
        Slot::GroupRooms,
        "calls.group-rooms",
        "Concurrent group calls",
        Group::Calls,
        int(0, super::MAX_GROUP_ROOMS, "rooms"),
        "LiveKit rooms at the busiest moment; empty: derived from the peak users (assumptions.group-rooms-per-peak-user).",
    );
    push(
        Slot::ParticipantsPerRoom,
        "calls.participants-per-room",
        "Participants per group call",
        Group::Calls,
        int(1, 10_000, "participants"),
        "People in each group call.",
    );
    push(
        Slot::GroupKbps,
        "calls.group-kbps",
        "Published video bitrate",
        Group::Calls,
        int(1, 100_000, "kbit/s"),
        "Top-layer bitrate of one published video track.",
    );
    push(
        Slot::SimulcastLayers,
        "calls.simulcast-layers",
        "Simulcast layers",
        Group::Calls,
        int(1, 3, "layers"),
        "Layers each publisher sends (LiveKit forwards one per subscriber).",
    );
    push(
        Slot::PgVersion,
        "postgres.version",
        "PostgreSQL version",
        Group::Database,
        Kind::Choice(&["15", "16", "17"]),
        "PostgreSQL major version on the Patroni nodes (15 ships with Debian 12).",
    );
    push(
        Slot::CoturnMinPort,
        "coturn.min-port",
        "TURN relay ports from",
        Group::Calls,
        int(1024, 65535, "port"),
        "coturn min-port: first UDP port of the relay range.",
    );
    push(
        Slot::CoturnMaxPort,
        "coturn.max-port",
        "TURN relay ports to",
        Group::Calls,
        int(1024, 65535, "port"),
        "coturn max-port: last UDP port of the relay range.",
    );
    push(
        Slot::LivekitPortStart,
        "livekit.port-range-start",
        "LiveKit RTC ports from",
        Group::Calls,
        int(1024, 65535, "port"),
        "LiveKit rtc.port_range_start (UDP).",
    );
    push(
        Slot::LivekitPortEnd,
        "livekit.port-range-end",
        "LiveKit RTC ports to",
        Group::Calls,
        int(1024, 65535, "port"),
        "LiveKit rtc.port_range_end (UDP).",
    );
    push(
        Slot::Subnet,
        "network.subnet",
        "Private subnet",
        Group::Network,
        Kind::Text(TextRule::Subnet),
        "The hosts' private network in CIDR form, /24 or larger (e.g. 10.0.1.0/24).",
    );
    push(
        Slot::Vip,
        "network.vip",
        "Virtual IP (keepalived)",
        Group::Network,
        Kind::Text(TextRule::Ipv4),
        "The address clients and PgBouncer reach HAProxy on; it moves between HAProxy nodes.",
    );
    push(
        Slot::Interface,
        "network.interface",
        "Private interface",
        Group::Network,
        Kind::Text(TextRule::Interface),
        "The hosts' network interface on the private subnet (keepalived binds the VIP there).",
    );
    push(
        Slot::AdminNetworks,
        "network.admin-networks",
        "Admin networks",
        Group::Network,
        Kind::Text(TextRule::Networks),
        "Networks (CIDR, comma-separated) allowed to reach Synapse's admin API and admin console through HAProxy, and ssh, Grafana, Prometheus, Alertmanager and the MinIO console on the hosts' firewalls. Empty: the private subnet only.",
    );
    push(
        Slot::InternalDomain,
        "network.internal-domain",
        "Internal DNS suffix",
        Group::Network,
        Kind::Text(TextRule::DnsSuffix),
        "Hosts are named <role><n>.<suffix>, e.g. patroni1.internal.",
    );
    push(
        Slot::OpsEmail,
        "ops.email",
        "Operator e-mail",
        Group::Network,
        Kind::Text(TextRule::Email),
        "Receives alerts; registers the Let's Encrypt account.",
    );
    push(
        Slot::SmtpSmarthost,
        "ops.smtp-smarthost",
        "SMTP relay",
        Group::Network,
        Kind::Text(TextRule::HostPort),
        "host:port of the mail relay Alertmanager sends through.",
    );
    // Every overridable constant of the engine, defaulting to its documented value.
    for (i, a) in crate::assumptions::all().enumerate() {
        if !a.overridable() {
            continue;
        }
        push(
            Slot::Assumption(i),
            &format!("assumptions.{}", a.id),
            a.label,
            Group::Assumptions,
            Kind::Float {
                min: 0.0,
                max: a.max(),
                unit: a.unit,
                soft: None,
            },
            a.source,
        );
    }
    v
}

impl Field {
    pub fn get(&self, plan: &Plan) -> Value {
        match self.slot {
            Slot::Name => Value::Text(plan.name.clone()),
            Slot::Domain => Value::Text(plan.domain.clone()),
            Slot::UsersRegistered => Value::Int(plan.users.registered),
            Slot::UsersPeakConcurrent => plan
                .users
                .peak_concurrent
                .map_or(Value::Derived, Value::Int),
            Slot::CacheFactor => Value::Float(plan.synapse.cache_factor),
            Slot::PerCacheFactors => Value::Factors(plan.synapse.per_cache_factors.clone()),
            Slot::CpMin => Value::Int(plan.synapse.cp_min),
            Slot::CpMax => Value::Int(plan.synapse.cp_max),
            Slot::Redis => Value::Bool(plan.synapse.redis),
            Slot::Worker(k) => Value::Int(plan.synapse.workers[k.index()]),
            Slot::HostCount(r) => Value::Int(plan.hosts[r.index()].count),
            Slot::HostRamGib(r) => Value::Int(plan.hosts[r.index()].ram_gib),
            Slot::HostVcpus(r) => Value::Int(plan.hosts[r.index()].vcpus),
            Slot::PgMaxConnections => Value::Int(plan.postgres.max_connections),
            Slot::PgStorage => Value::Text(plan.postgres.storage.key().to_string()),
            Slot::PoolMode => Value::Text(plan.pgbouncer.pool_mode.key().to_string()),
            Slot::DefaultPoolSize => Value::Int(plan.pgbouncer.default_pool_size),
            Slot::ReservePoolSize => Value::Int(plan.pgbouncer.reserve_pool_size),
            Slot::MaxClientConn => Value::Int(plan.pgbouncer.max_client_conn),
            Slot::MinioDrivesPerNode => Value::Int(plan.minio.drives_per_node),
            Slot::MinioDriveTib => Value::Float(plan.minio.drive_tib),
            Slot::PgVersion => Value::Text(plan.postgres.version.to_string()),
            Slot::CoturnMinPort => Value::Int(plan.coturn.min_port),
            Slot::CoturnMaxPort => Value::Int(plan.coturn.max_port),
            Slot::LivekitPortStart => Value::Int(plan.livekit.port_range_start),
            Slot::LivekitPortEnd => Value::Int(plan.livekit.port_range_end),
            Slot::Subnet => Value::Text(format!("{}/{}", plan.network.subnet, plan.network.prefix)),
            Slot::Vip => Value::Text(plan.network.vip.to_string()),
            Slot::Interface => Value::Text(plan.network.interface.clone()),
            Slot::AdminNetworks => Value::Text(super::networks_text(&plan.network.admin_networks)),
            Slot::InternalDomain => Value::Text(plan.network.internal_domain.clone()),
            Slot::OpsEmail => Value::Text(plan.ops.email.clone()),
            Slot::SmtpSmarthost => Value::Text(plan.ops.smtp_smarthost.clone()),
            Slot::HostDiskGib(r) => Value::Int(plan.hosts[r.index()].disk_gib),
            Slot::MinioParity => Value::Int(plan.minio.parity),
            Slot::DailyActiveUsers => plan
                .activity
                .daily_active_users
                .map_or(Value::Derived, Value::Int),
            Slot::MessagesPerUserDay => Value::Float(plan.activity.messages_per_user_day),
            Slot::UploadsPerUserDay => Value::Float(plan.activity.uploads_per_user_day),
            Slot::UploadMib => Value::Float(plan.activity.upload_mib),
            Slot::Federation => Value::Text(plan.activity.federation.key().to_string()),
            Slot::Months => Value::Int(plan.activity.months),
            Slot::LocalMediaDays => Value::Int(plan.retention.local_media_days),
            Slot::RemoteMediaDays => Value::Int(plan.retention.remote_media_days),
            Slot::FullBackups => Value::Int(plan.retention.full_backups),
            Slot::MediaSnapshots => Value::Int(plan.retention.media_snapshots),
            Slot::PrometheusDays => Value::Int(plan.retention.prometheus_days),
            Slot::Concurrent1to1 => plan
                .calls
                .concurrent_1to1
                .map_or(Value::Derived, Value::Int),
            Slot::RelayedShare => Value::Float(plan.calls.relayed_share),
            Slot::TurnKbps => Value::Int(plan.calls.turn_kbps),
            Slot::GroupRooms => plan.calls.group_rooms.map_or(Value::Derived, Value::Int),
            Slot::ParticipantsPerRoom => Value::Int(plan.calls.participants_per_room),
            Slot::GroupKbps => Value::Int(plan.calls.group_kbps),
            Slot::SimulcastLayers => Value::Int(plan.calls.simulcast_layers),
            Slot::Assumption(i) => Value::Float(
                plan.assumptions
                    .get(i)
                    .copied()
                    .or_else(|| crate::assumptions::all().nth(i).map(|a| a.default_value()))
                    .unwrap_or(0.0),
            ),
        }
    }

    /// Writes a value already checked against this field's kind. A value of the wrong
    /// variant is ignored (validation never produces one).
    pub(crate) fn set(&self, plan: &mut Plan, value: Value) {
        match (self.slot, value) {
            (Slot::Name, Value::Text(s)) => plan.name = s,
            (Slot::Domain, Value::Text(s)) => plan.domain = s,
            (Slot::UsersRegistered, Value::Int(n)) => plan.users.registered = n,
            (Slot::UsersPeakConcurrent, Value::Int(n)) => plan.users.peak_concurrent = Some(n),
            (Slot::UsersPeakConcurrent, Value::Derived) => plan.users.peak_concurrent = None,
            (Slot::CacheFactor, Value::Float(x)) => plan.synapse.cache_factor = x,
            (Slot::PerCacheFactors, Value::Factors(m)) => plan.synapse.per_cache_factors = m,
            (Slot::CpMin, Value::Int(n)) => plan.synapse.cp_min = n,
            (Slot::CpMax, Value::Int(n)) => plan.synapse.cp_max = n,
            (Slot::Redis, Value::Bool(b)) => plan.synapse.redis = b,
            (Slot::Worker(k), Value::Int(n)) => plan.synapse.workers[k.index()] = n,
            (Slot::HostCount(r), Value::Int(n)) => plan.hosts[r.index()].count = n,
            (Slot::HostRamGib(r), Value::Int(n)) => plan.hosts[r.index()].ram_gib = n,
            (Slot::HostVcpus(r), Value::Int(n)) => plan.hosts[r.index()].vcpus = n,
            (Slot::PgMaxConnections, Value::Int(n)) => plan.postgres.max_connections = n,
            (Slot::PgStorage, Value::Text(s)) => {
                if let Some(st) = Storage::from_key(&s) {
                    plan.postgres.storage = st
                }
            }
            (Slot::PoolMode, Value::Text(s)) => {
                if let Some(m) = PoolMode::from_key(&s) {
                    plan.pgbouncer.pool_mode = m
                }
            }
            (Slot::DefaultPoolSize, Value::Int(n)) => plan.pgbouncer.default_pool_size = n,
            (Slot::ReservePoolSize, Value::Int(n)) => plan.pgbouncer.reserve_pool_size = n,
            (Slot::MaxClientConn, Value::Int(n)) => plan.pgbouncer.max_client_conn = n,
            (Slot::MinioDrivesPerNode, Value::Int(n)) => plan.minio.drives_per_node = n,
            (Slot::MinioDriveTib, Value::Float(x)) => plan.minio.drive_tib = x,
            (Slot::PgVersion, Value::Text(s)) => {
                if let Ok(v) = s.parse() {
                    plan.postgres.version = v
                }
            }
            (Slot::CoturnMinPort, Value::Int(n)) => plan.coturn.min_port = n,
            (Slot::CoturnMaxPort, Value::Int(n)) => plan.coturn.max_port = n,
            (Slot::LivekitPortStart, Value::Int(n)) => plan.livekit.port_range_start = n,
            (Slot::LivekitPortEnd, Value::Int(n)) => plan.livekit.port_range_end = n,
            (Slot::Subnet, Value::Text(s)) => {
                if let Some((addr, prefix)) = parse_subnet(&s) {
                    plan.network.subnet = addr;
                    plan.network.prefix = prefix;
                }
            }
            (Slot::Vip, Value::Text(s)) => {
                if let Ok(ip) = s.parse() {
                    plan.network.vip = ip
                }
            }
            (Slot::Interface, Value::Text(s)) => plan.network.interface = s,
            (Slot::AdminNetworks, Value::Text(s)) => {
                if let Some(nets) = super::parse_networks(&s) {
                    plan.network.admin_networks = nets
                }
            }
            (Slot::InternalDomain, Value::Text(s)) => plan.network.internal_domain = s,
            (Slot::OpsEmail, Value::Text(s)) => plan.ops.email = s,
            (Slot::SmtpSmarthost, Value::Text(s)) => plan.ops.smtp_smarthost = s,
            (Slot::HostDiskGib(r), Value::Int(n)) => plan.hosts[r.index()].disk_gib = n,
            (Slot::MinioParity, Value::Int(n)) => plan.minio.parity = n,
            (Slot::DailyActiveUsers, Value::Int(n)) => plan.activity.daily_active_users = Some(n),
            (Slot::DailyActiveUsers, Value::Derived) => plan.activity.daily_active_users = None,
            (Slot::MessagesPerUserDay, Value::Float(x)) => plan.activity.messages_per_user_day = x,
            (Slot::UploadsPerUserDay, Value::Float(x)) => plan.activity.uploads_per_user_day = x,
            (Slot::UploadMib, Value::Float(x)) => plan.activity.upload_mib = x,
            (Slot::Federation, Value::Text(s)) => {
                if let Some(f) = Federation::from_key(&s) {
                    plan.activity.federation = f
                }
            }
            (Slot::Months, Value::Int(n)) => plan.activity.months = n,
            (Slot::LocalMediaDays, Value::Int(n)) => plan.retention.local_media_days = n,
            (Slot::RemoteMediaDays, Value::Int(n)) => plan.retention.remote_media_days = n,
            (Slot::FullBackups, Value::Int(n)) => plan.retention.full_backups = n,
            (Slot::MediaSnapshots, Value::Int(n)) => plan.retention.media_snapshots = n,
            (Slot::PrometheusDays, Value::Int(n)) => plan.retention.prometheus_days = n,
            (Slot::Concurrent1to1, Value::Int(n)) => plan.calls.concurrent_1to1 = Some(n),
            (Slot::Concurrent1to1, Value::Derived) => plan.calls.concurrent_1to1 = None,
            (Slot::RelayedShare, Value::Float(x)) => plan.calls.relayed_share = x,
            (Slot::TurnKbps, Value::Int(n)) => plan.calls.turn_kbps = n,
            (Slot::GroupRooms, Value::Int(n)) => plan.calls.group_rooms = Some(n),
            (Slot::GroupRooms, Value::Derived) => plan.calls.group_rooms = None,
            (Slot::ParticipantsPerRoom, Value::Int(n)) => plan.calls.participants_per_room = n,
            (Slot::GroupKbps, Value::Int(n)) => plan.calls.group_kbps = n,
            (Slot::SimulcastLayers, Value::Int(n)) => plan.calls.simulcast_layers = n,
            (Slot::Assumption(i), Value::Float(x)) => {
                if let Some(v) = plan.assumptions.get_mut(i) {
                    *v = x;
                }
            }
            _ => {}
        }
    }

    /// The value as form text: what [`super::validate`] parses back to the same value.
    pub fn get_text(&self, plan: &Plan) -> String {
        value_text(&self.get(plan))
    }

    /// Whether the plan may leave this field empty to have it derived from others
    /// (`Plan::daily_active_users`, `Plan::peak_concurrent_users`).
    pub fn derivable(&self) -> bool {
        matches!(
            self.slot,
            Slot::DailyActiveUsers
                | Slot::UsersPeakConcurrent
                | Slot::Concurrent1to1
                | Slot::GroupRooms
        )
    }

    pub fn unit(&self) -> &'static str {
        match self.kind {
            Kind::Int { unit, .. } | Kind::Float { unit, .. } => unit,
            _ => "",
        }
    }
}

pub(crate) fn value_text(v: &Value) -> String {
    match v {
        Value::Int(n) => n.to_string(),
        // Rust prints the shortest decimal that parses back to the same f64.
        Value::Float(x) => x.to_string(),
        Value::Text(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Factors(m) => m
            .iter()
            .map(|(k, x)| format!("{k}: {x}"))
            .collect::<Vec<_>>()
            .join("\n"),
        Value::Derived => String::new(),
    }
}

/// The plan-file reference (docs/plan-schema.md), generated from the schema so it can
/// never drift; a test compares the committed file with this.
pub fn schema_markdown() -> String {
    let defaults = Plan::default();
    let mut out = String::from(
        "# Plan file reference (schema 2)\n\n\
         Generated from `src/plan/fields.rs` by `plan::schema_markdown()`; a test keeps this file current.\n\n\
         A plan file is YAML with `schema: 2` and any of the keys below, nested by their dots\n\
         (`synapse.workers.sync` is `synapse:` → `workers:` → `sync:`). Keys left out take the\n\
         default; unknown keys are ignored with a warning; every problem names its key path.\n\n\
         Activity follows users: `activity.daily-active-users` and `users.peak-concurrent`, when\n\
         left out (or empty, or `~`), are derived from `users.registered` by\n\
         `assumptions.daily-active-share` and `assumptions.peak-concurrent-share`, and\n\
         `calls.concurrent-1to1` and `calls.group-rooms` from the peak users by\n\
         `assumptions.calls-1to1-per-peak-user` and `assumptions.group-rooms-per-peak-user`;\n\
         set any of them to fix it. A plan must keep peak ≤ daily active ≤ registered users, and\n\
         the error names the field it set.\n\n\
         Schema 1 files (the first release's) still open, migrated to the plan they meant: there,\n\
         a file without `activity.daily-active-users` meant 5,000, one without\n\
         `users.peak-concurrent` 2,500, and the calls 25 and 5. That value is kept where it fits\n\
         the file's users;\n\
         where it does not (5,000 daily active users of 2,000 registered) it becomes the derived\n\
         value and a warning says which.\n",
    );
    for group in Group::ALL {
        out.push_str(&format!(
            "\n## {}\n\n| key path | meaning | accepts | default |\n|---|---|---|---|\n",
            group.label()
        ));
        for f in fields().iter().filter(|f| f.group == group) {
            let accepts = match f.kind {
                Kind::Int { min, max, unit, .. } => format!("whole number {min}–{max} {unit}"),
                Kind::Float { min, max, unit, .. } => format!("number {min}–{max} {unit}"),
                Kind::Text(TextRule::Name) => {
                    "text, 1–80 visible characters and plain spaces ([plan-text.md](plan-text.md))"
                        .to_string()
                }
                Kind::Text(TextRule::Domain) => {
                    "lowercase DNS name ([plan-text.md](plan-text.md))".to_string()
                }
                Kind::Text(TextRule::DnsSuffix) => {
                    "lowercase DNS name or single label ([plan-text.md](plan-text.md))".to_string()
                }
                Kind::Text(TextRule::Subnet) => "IPv4 network, CIDR /8–/24".to_string(),
                Kind::Text(TextRule::Ipv4) => "IPv4 address".to_string(),
                Kind::Text(TextRule::Interface) => "interface name".to_string(),
                Kind::Text(TextRule::Email) => {
                    "e-mail address (`A–Z a–z 0–9 . _ + -` before the `@`)".to_string()
                }
                Kind::Text(TextRule::HostPort) => "host:port".to_string(),
                Kind::Text(TextRule::Networks) => {
                    "IPv4 networks in CIDR form, comma-separated, at most 16; may be empty"
                        .to_string()
                }
                Kind::Choice(keys) => keys
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                Kind::Bool => "`true` or `false`".to_string(),
                Kind::CacheFactors => "mapping of cache name → factor (0.01–1000)".to_string(),
            };
            let default = match f.get(&defaults) {
                Value::Factors(m) if m.is_empty() => "(none)".to_string(),
                Value::Derived => format!(
                    "derived (`{}`)",
                    match f.slot {
                        Slot::DailyActiveUsers => defaults.daily_active_users(),
                        Slot::Concurrent1to1 => defaults.concurrent_1to1_calls(),
                        Slot::GroupRooms => defaults.group_call_rooms(),
                        _ => defaults.peak_concurrent_users(),
                    }
                ),
                v => format!("`{}`", value_text(&v).replace('\n', ", ")),
            };
            out.push_str(&format!(
                "| `{}` | {}: {} | {} | {} |\n",
                f.path,
                f.label,
                f.help.replace('|', "\\|"),
                accepts,
                default
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_unique_and_kebab_case() {
        let mut seen = std::collections::BTreeSet::new();
        for f in fields() {
            assert!(seen.insert(f.path.clone()), "duplicate {}", f.path);
            assert!(
                f.path
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.'),
                "{} is not kebab-case",
                f.path
            );
        }
    }

    #[test]
    fn issue_key_paths_exist() {
        let mut want = vec![
            "name",
            "domain",
            "users.registered",
            "users.peak-concurrent",
            "synapse.cache-factor",
            "synapse.per-cache-factors",
            "synapse.cp-max",
            "postgres.max-connections",
            "postgres.storage",
            "pgbouncer.pool-mode",
            "pgbouncer.default-pool-size",
            "pgbouncer.reserve-pool-size",
            "pgbouncer.max-client-conn",
        ]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
        for w in [
            "sync",
            "client-reader",
            "federation-reader",
            "federation-sender",
            "room",
            "generic",
            "pusher",
            "appservice",
            "user-dir",
            "background",
            "media-repository",
            "stream-writer-events",
            "stream-writer-typing",
            "stream-writer-to-device",
            "stream-writer-account-data",
            "stream-writer-receipts",
            "stream-writer-presence",
            "stream-writer-push-rules",
            "stream-writer-device-lists",
        ] {
            want.push(format!("synapse.workers.{w}"));
        }
        for r in [
            "synapse",
            "patroni",
            "minio",
            "haproxy",
            "coturn",
            "livekit",
            "monitoring",
            "backup",
        ] {
            for a in ["count", "ram-gib", "vcpus"] {
                want.push(format!("hosts.{r}.{a}"));
            }
        }
        for w in want {
            assert!(field(&w).is_some(), "missing key path {w}");
        }
    }

    #[test]
    fn get_set_round_trip_every_field() {
        let base = Plan::default();
        for f in fields() {
            let mut p = base.clone();
            let v = f.get(&base);
            f.set(&mut p, v.clone());
            assert_eq!(f.get(&p), v, "{}", f.path);
            assert_eq!(p, base);
        }
    }
}

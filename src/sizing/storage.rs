//! Storage over time: database, media, WAL, backups and metrics month by month, against
//! the disks that hold them, and the month each disk fills.
//!
//! Where things live in this deployment (and what bounds them):
//! * **Patroni** (each node holds the whole database): the database, the WAL PostgreSQL
//!   keeps (`max_wal_size`), and room to rewrite the largest table.
//! * **MinIO**: every media file and thumbnail, local and cached remote, for good.
//!   synapse-s3-storage-provider stores both (`store_local`/`store_remote: true` in the
//!   bundle) and Synapse's `media_retention` only deletes from its local store: it never
//!   deletes from a storage provider (element-hq/synapse#16989, open;
//!   matrix-org/synapse-s3-storage-provider#115). The retention lifetimes therefore do not
//!   bound MinIO: the bucket grows by every upload.
//! * **Synapse host**: media wait there until the playbook's daily migration
//!   (matrix-synapse-s3-storage-provider-migrate.timer, 05:00, `update_db_day_count` 0)
//!   uploads them and deletes the local copies (playbook
//!   docs/configuring-playbook-synapse-s3-storage-provider.md, "Periodically cleaning up
//!   the local filesystem"); plus container images and logs.
//! * **Backup host**: pgBackRest's repository (the bundle's schedule, src/deploy/backups.rs:
//!   a full every Sunday, a differential the other days, an incremental every other hour;
//!   `repo1-retention-full` = `retention.full-backups`, `repo1-retention-diff` 7, zstd),
//!   the archived WAL back to the oldest full, the weekly pg_dump files, and the media
//!   mirror with its hard-linked daily snapshots (local media only: remote media can be
//!   fetched again).
//! * **Monitoring host**: Prometheus' TSDB (docs/storage.md: retention time × samples
//!   per second × bytes per sample).
//!
//! Time runs in days from the day the cluster goes live (month 0, an empty database);
//! month m ends m × 365.25/12 days later. Every figure is a product of non-negative
//! factors, so more activity, longer retention or more time never gives less usage, and
//! a bigger disk never fills sooner. All arithmetic is f64 on bounded inputs (the largest
//! plan stays below 1e40 GiB), so nothing overflows and nothing is NaN.

use crate::assumptions as a;
use crate::plan::{Federation, Plan, Role};
use serde::Serialize;
use std::collections::BTreeMap;

/// Days in a month, on average (365.25 / 12).
pub const DAYS_PER_MONTH: f64 = 365.25 / 12.0;

/// The backup host's pgBackRest schedule (`deploy::backups`): a full weekly, a
/// differential on the six other days, an incremental every hour but the one of the
/// daily backup; differentials kept, weekly pg_dump files kept. tests/storage.rs checks
/// the generated cron file and pgbackrest.conf agree with these.
pub use crate::deploy::backups::{
    DIFF_RETENTION as PGBACKREST_DIFF_RETENTION, FULL_EVERY_DAYS as PGBACKREST_FULL_EVERY_DAYS,
    INCR_PER_DAY as PGBACKREST_INCR_PER_DAY, PGDUMP_KEEP,
};
/// The bundle's Prometheus scrape interval (`deploy::facts::SCRAPE_INTERVAL_S`, after
/// Synapse's docs/metrics-howto.md); tests/storage.rs checks prometheus.yml.
pub use crate::deploy::facts::SCRAPE_INTERVAL_S as PROMETHEUS_SCRAPE_INTERVAL_S;

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// The disks the view follows, in display order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiskId {
    Patroni,
    Minio,
    Backup,
    Monitoring,
    Synapse,
}

impl Serialize for DiskId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.key())
    }
}

impl std::fmt::Display for DiskId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.key())
    }
}

impl DiskId {
    pub const ALL: [DiskId; 5] = [
        DiskId::Patroni,
        DiskId::Minio,
        DiskId::Backup,
        DiskId::Monitoring,
        DiskId::Synapse,
    ];

    /// The key in `months-until-full` and `disks[*].id`.
    pub fn key(self) -> &'static str {
        self.role().key()
    }

    pub fn role(self) -> Role {
        match self {
            DiskId::Patroni => Role::Patroni,
            DiskId::Minio => Role::Minio,
            DiskId::Backup => Role::Backup,
            DiskId::Monitoring => Role::Monitoring,
            DiskId::Synapse => Role::Synapse,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            DiskId::Patroni => "Patroni data disk (each node)",
            DiskId::Minio => "MinIO usable capacity",
            DiskId::Backup => "Backup host disk",
            DiskId::Monitoring => "Monitoring host disk",
            DiskId::Synapse => "Synapse host data disk",
        }
    }

    /// The plan key that sets the capacity.
    pub fn capacity_path(self) -> &'static str {
        match self {
            DiskId::Patroni => "hosts.patroni.disk-gib",
            DiskId::Minio => "minio.drive-tib",
            DiskId::Backup => "hosts.backup.disk-gib",
            DiskId::Monitoring => "hosts.monitoring.disk-gib",
            DiskId::Synapse => "hosts.synapse.disk-gib",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// JSON section `storage`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Storage {
    /// The span planned for (`activity.months`).
    pub months: u64,
    /// A disk counts as full at this share of its capacity, in percent
    /// (`assumptions.disk-full-share` × 100).
    #[serde(serialize_with = "whole")]
    pub full_percent: f64,
    /// Disk id → the month it reaches `full-percent` (0 = already at the start, 1 =
    /// within the first month); null when it stays below within `months`.
    pub months_until_full: BTreeMap<&'static str, Option<u64>>,
    /// The growth rates every disk's figures are built from.
    pub rates: Rates,
    /// One per [`DiskId`], in [`DiskId::ALL`] order.
    pub disks: Vec<Disk>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Rates {
    /// Room events the local users send a day (messages and the other events), rounded.
    pub local_events_per_day: u64,
    /// Events stored a day: local plus received over federation, rounded.
    pub stored_events_per_day: u64,
    /// Remote rooms the server is joined to (federation), rounded.
    pub remote_rooms: u64,
    /// Messages and state changes received a day from the remote rooms, rounded.
    pub received_events_per_day: u64,
    /// The remote rooms' state, stored when the server joins them (counted from go-live).
    pub db_join_gib: f64,
    /// Rows Synapse deletes after a day (event_push_actions, received_transactions): a
    /// standing pool of about one day of traffic, not growth.
    pub db_pools_gib: f64,
    /// The database on the first day: empty schema, the registered accounts, the remote
    /// rooms' state and the one-day pools.
    pub db_start_gib: f64,
    pub db_gib_per_day: f64,
    pub db_gib_per_month: f64,
    /// WAL PostgreSQL writes a day (all of it is archived).
    pub wal_gib_per_day: f64,
    /// Local uploads with their thumbnails.
    pub local_media_gib_per_day: f64,
    /// Remote media cached from other servers, with thumbnails.
    pub remote_media_gib_per_day: f64,
    pub media_gib_per_month: f64,
    /// `max_wal_size` of the plan's PostgreSQL parameters.
    pub max_wal_size_gib: f64,
    pub prometheus_series: u64,
    pub prometheus_gib_per_day: f64,
    /// pgBackRest backups on the repository at its fullest (just before `expire`).
    pub full_backups_at_peak: u64,
    pub differential_backups_kept: u64,
    pub incremental_backups_kept: u64,
    /// Days of archived WAL kept (back to the oldest full backup).
    pub wal_days_kept: u64,
}

/// One disk: what is on it, now and over the span, against its capacity.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Disk {
    /// Serialized as its key (`patroni`, `minio`, …).
    pub id: DiskId,
    pub label: &'static str,
    /// Hosts of the role; each holds what the disk lists (Patroni: a full copy each).
    pub hosts: u64,
    /// The plan key that sets the capacity.
    pub capacity_path: &'static str,
    pub capacity_gib: f64,
    pub capacity_formula: String,
    /// Usage at month 0 (go-live).
    pub now_gib: f64,
    #[serde(serialize_with = "whole")]
    pub now_percent: f64,
    /// Average growth over the span: (end − now) / months.
    pub growth_gib_per_month: f64,
    /// Usage at the end of the span.
    pub end_gib: f64,
    #[serde(serialize_with = "whole")]
    pub end_percent: f64,
    /// The capacity that keeps the disk below `full-percent` through the span.
    pub needed_gib: f64,
    /// The month it reaches `full-percent` (same as `months-until-full.<id>`).
    pub month_full: Option<u64>,
    pub items: Vec<DiskItem>,
    /// Usage at the end of each month, month 0 to `months`.
    pub series_gib: Vec<f64>,
    #[serde(serialize_with = "whole_seq")]
    pub series_percent: Vec<f64>,
}

/// A percent as JSON: `85`, not `85.0`, when it is whole (the page prints it as is).
fn whole<S: serde::Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    Whole(*x).serialize(s)
}

fn whole_seq<S: serde::Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|x| Whole(*x)))
}

struct Whole(f64);

impl Serialize for Whole {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let x = finite(self.0);
        // Exactly representable integers only (|x| < 2^53).
        if x.fract() == 0.0 && x.abs() < 9_007_199_254_740_992.0 {
            s.serialize_i64(x as i64)
        } else {
            s.serialize_f64(x)
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct DiskItem {
    pub name: String,
    pub now_gib: f64,
    pub end_gib: f64,
    pub growth_gib_per_month: f64,
    pub formula: String,
    pub source: &'static str,
}

/// What can be on a disk; each is a function of the time since go-live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Term {
    Database,
    PgWal,
    Rewrite,
    LocalMedia,
    RemoteMedia,
    Fulls,
    Diffs,
    Incrs,
    WalArchive,
    Dumps,
    MediaMirror,
    SnapshotChurn,
    Tsdb,
    SynapseBase,
    SynapseMediaCache,
}

impl DiskId {
    fn terms(self) -> &'static [Term] {
        use Term::*;
        match self {
            DiskId::Patroni => &[Database, PgWal, Rewrite],
            DiskId::Minio => &[LocalMedia, RemoteMedia],
            DiskId::Backup => &[
                Fulls,
                Diffs,
                Incrs,
                WalArchive,
                Dumps,
                MediaMirror,
                SnapshotChurn,
            ],
            DiskId::Monitoring => &[Tsdb],
            DiskId::Synapse => &[SynapseBase, SynapseMediaCache],
        }
    }
}

/// Every rate and factor of a plan, unrounded.
struct Model {
    months: u64,
    share: f64,
    non_message: f64,
    bytes_per_event: f64,
    local_events: f64,
    stored_events: f64,
    fed: Fed,
    notified: f64,
    push_bytes: f64,
    pools: f64,
    db_empty: f64,
    kib_per_user: f64,
    registered: u64,
    db0: f64,
    db_day: f64,
    wal: WalRates,
    wal_day: f64,
    max_wal: f64,
    largest: f64,
    thumbs: f64,
    remote_share: f64,
    local_media_day: f64,
    remote_media_day: f64,
    c: f64,
    cw: f64,
    h: f64,
    full_retention: u64,
    fulls_peak: u64,
    diffs_kept: u64,
    incrs_kept: u64,
    wal_days: u64,
    snapshots: u64,
    prom_series: u64,
    prom_bps: f64,
    prom_day: f64,
    prom_days: u64,
    synapse_base: f64,
    local_cache_days: f64,
    remote_cache_days: f64,
}

/// The federation model: the remote rooms the local users join (rooms they share count
/// once, up to a bound), their members, and what those rooms send a day. Lab-measured
/// bytes (docs/lab.md, "Federation", 2026-12-08, Synapse 1.159.0) and the federation
/// assumptions calibrated on the published cases (tests/db_growth.rs).
struct Fed {
    level: Federation,
    /// Remote rooms per registered user and the bound, for the plan's level.
    per_user: f64,
    max_rooms: f64,
    rooms: f64,
    members: f64,
    /// Messages and state changes received a day, all rooms.
    messages: f64,
    changes: f64,
    received_bytes: f64,
    rt_bytes: f64,
    join_bytes: f64,
    change_bytes: f64,
    sg_per_member: f64,
}

impl Fed {
    fn new(plan: &Plan) -> Fed {
        let get = |x: &a::Assumption| share_of(plan, x, f64::MAX);
        let (per_user, max_rooms, members) = match plan.activity.federation {
            Federation::None => (0.0, 0.0, 0.0),
            Federation::Small => (
                get(&a::FED_ROOMS_PER_USER_SMALL),
                get(&a::FED_ROOMS_MAX_SMALL),
                get(&a::FED_ROOM_MEMBERS_SMALL),
            ),
            Federation::Open => (
                get(&a::FED_ROOMS_PER_USER_OPEN),
                get(&a::FED_ROOMS_MAX_OPEN),
                get(&a::FED_ROOM_MEMBERS_OPEN),
            ),
        };
        let rooms = finite((plan.users.registered as f64 * per_user).min(max_rooms));
        let room_members = finite(rooms * members);
        Fed {
            level: plan.activity.federation,
            per_user,
            max_rooms,
            rooms,
            members,
            messages: finite(room_members * get(&a::FED_MESSAGES_PER_MEMBER_DAY)),
            changes: finite(room_members * get(&a::FED_STATE_CHANGES_PER_MEMBER_DAY)),
            received_bytes: get(&a::DB_BYTES_PER_RECEIVED_EVENT),
            rt_bytes: get(&a::DB_RECEIVED_TRANSACTION_BYTES),
            join_bytes: get(&a::DB_JOIN_BYTES_PER_MEMBER),
            change_bytes: get(&a::DB_STATE_CHANGE_BYTES),
            sg_per_member: get(&a::DB_STATE_GROUP_BYTES_PER_MEMBER),
        }
    }

    fn received(&self) -> f64 {
        finite(self.messages + self.changes)
    }

    /// Bytes a state change keeps: its rows plus state_groups_state's share per member.
    fn change_cost(&self) -> f64 {
        finite(self.change_bytes + self.sg_per_member * self.members)
    }

    /// Bytes kept a day from the remote rooms (without the one-day pools).
    fn bytes_per_day(&self) -> f64 {
        finite(self.messages * self.received_bytes + self.changes * self.change_cost())
    }

    /// The remote rooms' state, stored once when the server joins each.
    fn join_gib(&self) -> f64 {
        finite(self.rooms * self.members * self.join_bytes / GIB)
    }
}

/// WAL per event (docs/lab.md, 2026-12-08, Synapse 1.159.0, PostgreSQL 15.18): a base,
/// plus a share per local member notified, plus the inbound queue's for a received event.
struct WalRates {
    base: f64,
    member: f64,
    received: f64,
}

impl WalRates {
    fn new(plan: &Plan) -> WalRates {
        WalRates {
            base: share_of(plan, &a::WAL_BYTES_PER_EVENT, f64::MAX),
            member: share_of(plan, &a::WAL_BYTES_PER_MEMBER_NOTIFIED, f64::MAX),
            received: share_of(plan, &a::WAL_BYTES_PER_RECEIVED_EXTRA, f64::MAX),
        }
    }

    /// WAL bytes per message (local or received) whose room notifies `notified` members.
    fn per_message(&self, notified: f64) -> f64 {
        finite(self.base + self.member * notified)
    }

    /// GiB of WAL a day: local events, received messages (which notify local members)
    /// and received state changes (which notify no one).
    fn per_day(&self, local_events: f64, fed: &Fed, notified: f64) -> f64 {
        let m = self.per_message(notified);
        finite(
            (local_events * m
                + fed.messages * (m + self.received)
                + fed.changes * (self.base + self.received))
                / GIB,
        )
    }
}

/// A share assumption, kept where it means something: 0..=max.
/// Bytes a sample takes on Prometheus' disk: the plan's
/// `assumptions.prometheus-bytes-per-sample`, finite and not negative.
pub fn prometheus_bytes_per_sample(plan: &Plan) -> f64 {
    share_of(plan, &a::PROM_BYTES_PER_SAMPLE, f64::MAX)
}

/// Bytes Prometheus writes to disk a day (Prometheus docs/storage.md): the plan's
/// active series ([`crate::sizing::ram::prometheus_series`]) / the scrape interval ×
/// 86,400 s × [`prometheus_bytes_per_sample`]. The storage view's TSDB growth and the
/// bundle's `--storage.tsdb.retention.size` both come from it.
pub fn prometheus_bytes_per_day(plan: &Plan) -> f64 {
    crate::sizing::ram::prometheus_series(plan) as f64 / PROMETHEUS_SCRAPE_INTERVAL_S as f64
        * 86_400.0
        * prometheus_bytes_per_sample(plan)
}

fn share_of(plan: &Plan, x: &a::Assumption, max: f64) -> f64 {
    finite(plan.assume(x)).clamp(0.0, max)
}

/// NaN → 0, infinities to the largest finite f64: JSON numbers must be finite.
fn finite(x: f64) -> f64 {
    if x.is_nan() {
        0.0
    } else {
        x.clamp(-f64::MAX, f64::MAX)
    }
}

impl Model {
    fn new(plan: &Plan) -> Model {
        let act = &plan.activity;
        let ret = &plan.retention;
        let dau = plan.daily_active_users() as f64;
        let non_message = share_of(plan, &a::NON_MESSAGE_EVENTS_PER_MESSAGE, f64::MAX);
        let bytes_per_event = share_of(plan, &a::DB_BYTES_PER_EVENT, f64::MAX);
        let local_events = finite(dau * act.messages_per_user_day * (1.0 + non_message));
        let registered = plan.users.registered;
        let fed = Fed::new(plan);
        let stored_events = finite(local_events + fed.received());
        // The room's members but the sender, at most every other registered user.
        let notified = share_of(plan, &a::ROOM_MEMBERS_NOTIFIED, f64::MAX)
            .min(registered.saturating_sub(1) as f64);
        let push_bytes = share_of(plan, &a::DB_PUSH_ACTION_BYTES, f64::MAX);
        // One day of push actions and received transactions (Synapse deletes both after a
        // day): the remote rooms' messages notify their local members too.
        let pools = finite(
            ((local_events + fed.messages) * notified * push_bytes + fed.received() * fed.rt_bytes)
                / GIB,
        );
        let db_empty = share_of(plan, &a::DB_EMPTY_GIB, f64::MAX);
        let kib_per_user = share_of(plan, &a::DB_KIB_PER_USER, f64::MAX);
        let db0 = finite(
            db_empty
                + registered as f64 * kib_per_user / (1024.0 * 1024.0)
                + fed.join_gib()
                + pools,
        );
        let db_day = finite((local_events * bytes_per_event + fed.bytes_per_day()) / GIB);
        let wal = WalRates::new(plan);
        let wal_day = wal.per_day(local_events, &fed, notified);
        // The parameter the bundle writes, read as its size (not its text).
        let max_wal = crate::sizing::postgres::MAX_WAL_SIZE.gib();
        let thumbs = share_of(plan, &a::MEDIA_THUMBNAIL_SHARE, f64::MAX);
        let remote_share = match act.federation {
            Federation::None => 0.0,
            Federation::Small => share_of(plan, &a::REMOTE_MEDIA_SMALL, f64::MAX),
            Federation::Open => share_of(plan, &a::REMOTE_MEDIA_OPEN, f64::MAX),
        };
        let local_media_day =
            dau * act.uploads_per_user_day * act.upload_mib * (1.0 + thumbs) / 1024.0;
        let full_retention = ret.full_backups;
        let cache_days = share_of(plan, &a::SYNAPSE_LOCAL_MEDIA_DAYS, f64::MAX);
        // A media lifetime shorter than the migration's cadence deletes local copies
        // sooner; 0 means forever (Synapse keeps media without a lifetime).
        let bounded = |days: u64| {
            if days == 0 {
                cache_days
            } else {
                cache_days.min(days as f64)
            }
        };
        let prom_series = crate::sizing::ram::prometheus_series(plan);
        let prom_bps = prometheus_bytes_per_sample(plan);
        Model {
            months: act.months,
            share: share_of(plan, &a::DISK_FULL_SHARE, 1.0).max(0.01),
            non_message,
            bytes_per_event,
            local_events,
            stored_events,
            fed,
            notified,
            push_bytes,
            pools,
            db_empty,
            kib_per_user,
            registered,
            db0,
            db_day,
            wal,
            wal_day,
            max_wal,
            largest: share_of(plan, &a::DB_LARGEST_TABLE_SHARE, f64::MAX),
            thumbs,
            remote_share,
            local_media_day,
            remote_media_day: local_media_day * remote_share,
            c: share_of(plan, &a::BACKUP_COMPRESSION, f64::MAX),
            cw: share_of(plan, &a::WAL_COMPRESSION, f64::MAX),
            h: share_of(plan, &a::BACKUP_CHANGED_SHARE, f64::MAX),
            full_retention,
            // pgBackRest expires after a backup completes: the new full lands while
            // `repo1-retention-full` older ones are still there.
            fulls_peak: full_retention.saturating_add(1),
            diffs_kept: PGBACKREST_DIFF_RETENTION,
            incrs_kept: incr_days(full_retention).saturating_mul(PGBACKREST_INCR_PER_DAY),
            wal_days: full_retention.saturating_mul(PGBACKREST_FULL_EVERY_DAYS),
            snapshots: ret.media_snapshots,
            prom_series,
            prom_bps,
            prom_day: prometheus_bytes_per_day(plan) / GIB,
            prom_days: ret.prometheus_days,
            synapse_base: share_of(plan, &a::SYNAPSE_HOST_BASE_GIB, f64::MAX),
            local_cache_days: bounded(ret.local_media_days),
            remote_cache_days: bounded(ret.remote_media_days),
        }
    }

    fn db(&self, t: f64) -> f64 {
        self.db0 + self.db_day * t
    }

    /// GiB of a term `t` days after go-live.
    fn at(&self, term: Term, t: f64) -> f64 {
        let db = self.db(t);
        let x = match term {
            Term::Database => db,
            Term::PgWal => self.max_wal,
            Term::Rewrite => self.largest * db,
            Term::LocalMedia => self.local_media_day * t,
            Term::RemoteMedia => self.remote_media_day * t,
            Term::Fulls => self.fulls_peak as f64 * self.c * db,
            Term::Diffs => self.diffs_kept as f64 * self.c * self.h * db,
            Term::Incrs => self.incrs_kept as f64 * self.c * self.h * db,
            Term::WalArchive => self.wal_day * t.min(self.wal_days as f64) * self.cw,
            Term::Dumps => (PGDUMP_KEEP + 1) as f64 * self.c * db,
            Term::MediaMirror => self.local_media_day * t,
            Term::SnapshotChurn => self.local_media_day * t.min(self.snapshots as f64),
            Term::Tsdb => self.prom_day * t.min(self.prom_days as f64),
            Term::SynapseBase => self.synapse_base,
            Term::SynapseMediaCache => {
                self.local_media_day * self.local_cache_days
                    + self.remote_media_day * self.remote_cache_days
            }
        };
        finite(x)
    }

    fn name(&self, term: Term) -> String {
        match term {
            Term::Database => "Synapse database".into(),
            Term::PgWal => "WAL kept in pg_wal (max_wal_size)".into(),
            Term::Rewrite => {
                "Room to rewrite the largest table (VACUUM FULL, pg_repack, REINDEX)".into()
            }
            Term::LocalMedia => "Local uploads and their thumbnails".into(),
            Term::RemoteMedia => "Remote media cached from other servers".into(),
            Term::Fulls => format!(
                "pgBackRest full backups ({} kept + the next)",
                self.full_retention
            ),
            Term::Diffs => format!("pgBackRest differential backups ({} kept)", self.diffs_kept),
            Term::Incrs => format!(
                "pgBackRest incremental backups (hourly, {} kept)",
                self.incrs_kept
            ),
            Term::WalArchive => format!("Archived WAL ({} days)", self.wal_days),
            Term::Dumps => format!("pg_dump files ({PGDUMP_KEEP} kept + the next)"),
            Term::MediaMirror => "Media mirror (every local upload)".into(),
            Term::SnapshotChurn => format!(
                "Media snapshots ({} kept): files moved out of the local store",
                self.snapshots
            ),
            Term::Tsdb => "Prometheus TSDB".into(),
            Term::SynapseBase => "Container images, journal and logs".into(),
            Term::SynapseMediaCache => "Media waiting for the daily move to MinIO".into(),
        }
    }

    fn formula(&self, term: Term) -> String {
        let db = format!(
            "the database ({} GiB + {} GiB a day)",
            num(self.db0),
            num(self.db_day)
        );
        match term {
            Term::Database => format!(
                "{} GiB at the start ({} GiB empty + {} users × {} KiB + {} GiB of remote rooms' state + {} GiB of one-day pools) + {} GiB a day: {} local events × {} bytes + {} received over federation ({})",
                num(self.db0),
                num(self.db_empty),
                count(self.registered as f64),
                num(self.kib_per_user),
                num(self.fed.join_gib()),
                num(self.pools),
                num(self.db_day),
                count(self.local_events),
                count(self.bytes_per_event),
                count(self.fed.received()),
                self.fed_sentence()
            ),
            Term::PgWal => format!(
                "max_wal_size = {} GiB: PostgreSQL keeps up to this much WAL between checkpoints (more under heavy load or when archiving fails)",
                num(self.max_wal)
            ),
            Term::Rewrite => format!(
                "{} × {db}: VACUUM FULL and pg_repack write a new copy of a table before dropping the old one",
                num(self.largest)
            ),
            Term::LocalMedia => format!(
                "{} GiB a day = daily active users × uploads × average size × (1 + {} thumbnails), kept for good (Synapse never deletes from MinIO, element-hq/synapse#16989)",
                num(self.local_media_day),
                num(self.thumbs)
            ),
            Term::RemoteMedia => format!(
                "{} GiB a day = local uploads × {} (federation share), kept for good (store_remote: true; Synapse never deletes from MinIO)",
                num(self.remote_media_day),
                num(self.remote_share)
            ),
            Term::Fulls => format!(
                "{} fulls × {} compression × {db}",
                self.fulls_peak,
                num(self.c)
            ),
            Term::Diffs => format!(
                "{} diffs × {} compression × {} of the files changed × {db}",
                self.diffs_kept,
                num(self.c),
                num(self.h)
            ),
            Term::Incrs => format!(
                "{} incrementals ({} a day × {} days of diffs and fulls they depend on) × {} compression × {} of the files changed × {db}; pgBackRest 2.45 copies a changed file whole",
                self.incrs_kept,
                PGBACKREST_INCR_PER_DAY,
                incr_days(self.full_retention),
                num(self.c),
                num(self.h)
            ),
            Term::WalArchive => format!(
                "{} GiB of WAL a day ({}) × {} compression × {} days (back to the oldest of {} weekly fulls)",
                num(self.wal_day),
                self.wal_sentence(),
                num(self.cw),
                self.wal_days,
                self.full_retention
            ),
            Term::Dumps => format!(
                "{} dumps × {} compression × {db}",
                PGDUMP_KEEP + 1,
                num(self.c)
            ),
            Term::MediaMirror => format!(
                "{} GiB a day of local uploads since go-live: the bucket is mirrored without remote media, and nothing leaves it",
                num(self.local_media_day)
            ),
            Term::SnapshotChurn => format!(
                "{} GiB a day × {} snapshots: each day's uploads are copied from the Synapse host's store before the migration moves them, so retained snapshots hold them twice",
                num(self.local_media_day),
                self.snapshots
            ),
            Term::Tsdb => format!(
                "{} series / {} s × 86,400 s × {} bytes = {} GiB a day × up to {} days (retention.prometheus-days)",
                count(self.prom_series as f64),
                PROMETHEUS_SCRAPE_INTERVAL_S,
                num(self.prom_bps),
                num(self.prom_day),
                self.prom_days
            ),
            Term::SynapseBase => format!(
                "{} GiB (assumptions.synapse-host-base-gib)",
                num(self.synapse_base)
            ),
            Term::SynapseMediaCache => format!(
                "{} GiB a day of local media × {} days + {} GiB a day of remote media × {} days: the playbook's daily migration deletes the local copies once they are in MinIO",
                num(self.local_media_day),
                num(self.local_cache_days),
                num(self.remote_media_day),
                num(self.remote_cache_days)
            ),
        }
    }

    /// The federation terms in words, with their numbers.
    fn fed_sentence(&self) -> String {
        let f = &self.fed;
        if f.rooms <= 0.0 {
            return "no remote rooms: activity.federation none".into();
        }
        format!(
            "{} remote rooms (users × {} a user, at most {}) of {} members: {} messages a day × {} bytes + {} state changes a day × ({} bytes + {} bytes × {} members of state_groups_state)",
            num(f.rooms),
            num(f.per_user),
            num(f.max_rooms),
            count(f.members),
            count(f.messages),
            count(f.received_bytes),
            count(f.changes),
            count(f.change_bytes),
            num(f.sg_per_member),
            count(f.members)
        )
    }

    /// The WAL rate in words, with its numbers.
    fn wal_sentence(&self) -> String {
        let w = &self.wal;
        format!(
            "{} local events × ({} bytes + {} members notified × {} bytes) + {} received messages × (the same + {} bytes) + {} received state changes × ({} + {}) bytes",
            count(self.local_events),
            count(w.base),
            num(self.notified),
            count(w.member),
            count(self.fed.messages),
            count(w.received),
            count(self.fed.changes),
            count(w.base),
            count(w.received)
        )
    }

    fn source(term: Term) -> &'static str {
        match term {
            Term::Database => {
                "docs/lab.md (Measurements and Federation, 2026-12-08, Synapse 1.159.0, PostgreSQL 15.18): bytes kept per event and per member; Synapse deletes push actions and received transactions after a day (event_push_actions.py _remove_old_push_actions_that_have_rotated, transactions.py _cleanup_transactions); the federation assumptions calibrated on matrix-org/synapse#7472 and maf.chat (tests/db_growth.rs)"
            }
            Term::PgWal => "PostgreSQL docs, WAL Configuration (max_wal_size); PGTune OLTP",
            Term::Rewrite => a::DB_LARGEST_TABLE_SHARE.source,
            Term::LocalMedia | Term::RemoteMedia => {
                "ESS Sizing (ems-docs.element.io): average media size × uploads a day × active users × 365 a year; element-hq/synapse#16989"
            }
            Term::Fulls | Term::Diffs | Term::Incrs | Term::Dumps => {
                "pgBackRest user guide (retention, expire after each backup; file-level incrementals before 2.46); the bundle's schedule, src/deploy/backups.rs"
            }
            Term::WalArchive => a::WAL_BYTES_PER_EVENT.source,
            Term::MediaMirror | Term::SnapshotChurn => {
                "the bundle's backup-media.sh (src/bundle/backup/media.rs): rclone sync of the bucket without remote_*, rsync of local_*, cp -al snapshots"
            }
            Term::Tsdb => "Prometheus docs/storage.md, Operational aspects",
            Term::SynapseBase => a::SYNAPSE_HOST_BASE_GIB.source,
            Term::SynapseMediaCache => a::SYNAPSE_LOCAL_MEDIA_DAYS.source,
        }
    }
}

/// Days of hourly incrementals pgBackRest keeps: they expire with the differential (or
/// full) they depend on. Seven differentials reach back eight days over a weekly full;
/// with one full kept, only the current week's.
fn incr_days(full_retention: u64) -> u64 {
    full_retention
        .saturating_mul(PGBACKREST_FULL_EVERY_DAYS)
        .min(PGBACKREST_DIFF_RETENTION + 1)
}

/// Hundredths, for JSON and the page.
fn r2(x: f64) -> f64 {
    finite((x * 100.0).round() / 100.0)
}

fn r1(x: f64) -> f64 {
    finite((x * 10.0).round() / 10.0)
}

/// A figure in a sentence: up to 2 decimals below 1,000 (as the page shows GiB),
/// thousands separators above, scientific notation past what a u64 holds.
pub(crate) fn num(x: f64) -> String {
    let x = finite(x);
    let s = if x.abs() < 1000.0 {
        format!("{x:.2}")
    } else if x.abs() < 1e15 {
        return crate::format::group(x.round() as u64);
    } else {
        return format!("{x:.3e}");
    };
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// A count in a sentence (events, users, series).
fn count(x: f64) -> String {
    let x = finite(x);
    if x < 1e15 && x.fract() == 0.0 {
        crate::format::group(x as u64)
    } else {
        num(x)
    }
}

pub fn storage(plan: &Plan) -> Storage {
    let m = Model::new(plan);
    let months = m.months;
    let usable_tib = crate::sizing::objectstore::object_storage(plan).usable_tib;
    let disks: Vec<Disk> = DiskId::ALL
        .iter()
        .map(|&id| disk(plan, &m, id, usable_tib))
        .collect();
    let months_until_full = disks.iter().map(|d| (d.id.key(), d.month_full)).collect();
    Storage {
        months,
        full_percent: r1(m.share * 100.0),
        months_until_full,
        rates: Rates {
            // Saturating casts: far above any plan's count, never a panic.
            local_events_per_day: finite(m.local_events.round()).max(0.0) as u64,
            stored_events_per_day: finite(m.stored_events.round()).max(0.0) as u64,
            remote_rooms: finite(m.fed.rooms.round()).max(0.0) as u64,
            received_events_per_day: finite(m.fed.received().round()).max(0.0) as u64,
            db_join_gib: r2(m.fed.join_gib()),
            db_pools_gib: r2(m.pools),
            db_start_gib: r2(m.db0),
            db_gib_per_day: r2(m.db_day),
            db_gib_per_month: r2(m.db_day * DAYS_PER_MONTH),
            wal_gib_per_day: r2(m.wal_day),
            local_media_gib_per_day: r2(m.local_media_day),
            remote_media_gib_per_day: r2(m.remote_media_day),
            media_gib_per_month: r2((m.local_media_day + m.remote_media_day) * DAYS_PER_MONTH),
            max_wal_size_gib: r2(m.max_wal),
            prometheus_series: m.prom_series,
            prometheus_gib_per_day: r2(m.prom_day),
            full_backups_at_peak: m.fulls_peak,
            differential_backups_kept: m.diffs_kept,
            incremental_backups_kept: m.incrs_kept,
            wal_days_kept: m.wal_days,
        },
        disks,
    }
}

fn capacity(plan: &Plan, id: DiskId, usable_tib: f64) -> (f64, String) {
    let host = plan.host(id.role());
    match id {
        DiskId::Minio => {
            let os = crate::sizing::objectstore::object_storage(plan);
            let erasure = if os.set_size > 0 {
                format!(
                    "{} erasure set{} of {} drives at EC:{}",
                    os.sets,
                    if os.sets == 1 { "" } else { "s" },
                    os.set_size,
                    os.parity
                )
            } else {
                "no erasure coding".to_string()
            };
            (
                finite(usable_tib * 1024.0),
                format!(
                    "{} TiB usable × 1,024 ({} nodes × {} drives × {} TiB = {} TiB raw, {erasure})",
                    num(usable_tib),
                    os.nodes,
                    os.drives_per_node,
                    num(os.drive_tib),
                    num(os.raw_tib)
                ),
            )
        }
        DiskId::Patroni => (
            host.disk_gib as f64,
            format!(
                "hosts.patroni.disk-gib = {} GiB on each of {} nodes (each holds the whole database)",
                crate::format::group(host.disk_gib),
                host.count
            ),
        ),
        _ => (
            host.disk_gib as f64,
            format!(
                "{} = {} GiB",
                id.capacity_path(),
                crate::format::group(host.disk_gib)
            ),
        ),
    }
}

fn disk(plan: &Plan, m: &Model, id: DiskId, usable_tib: f64) -> Disk {
    let months = m.months;
    let end_t = months as f64 * DAYS_PER_MONTH;
    let terms = id.terms();
    let usage = |t: f64| -> f64 { finite(terms.iter().map(|&term| m.at(term, t)).sum()) };
    let (cap, capacity_formula) = capacity(plan, id, usable_tib);
    let percent = |gib: f64| {
        if cap > 0.0 {
            r1(gib / cap * 100.0)
        } else if gib > 0.0 {
            r1(f64::MAX)
        } else {
            0.0
        }
    };
    let raw: Vec<f64> = (0..=months)
        .map(|i| usage(i as f64 * DAYS_PER_MONTH))
        .collect();
    let line = m.share * cap;
    let month_full = raw.iter().position(|&g| g >= line).map(|i| i as u64);
    let now = raw.first().copied().unwrap_or(0.0);
    let end = raw.last().copied().unwrap_or(now);
    let per_month = |a: f64, b: f64| finite((b - a) / months.max(1) as f64);
    let items = terms
        .iter()
        .map(|&term| {
            let (n, e) = (m.at(term, 0.0), m.at(term, end_t));
            DiskItem {
                name: m.name(term),
                now_gib: r2(n),
                end_gib: r2(e),
                growth_gib_per_month: r2(per_month(n, e)),
                formula: m.formula(term),
                source: Model::source(term),
            }
        })
        .collect();
    Disk {
        id,
        label: id.label(),
        hosts: plan.host(id.role()).count,
        capacity_path: id.capacity_path(),
        capacity_gib: r2(cap),
        capacity_formula,
        now_gib: r2(now),
        now_percent: percent(now),
        growth_gib_per_month: r2(per_month(now, end)),
        end_gib: r2(end),
        end_percent: percent(end),
        needed_gib: finite((end / m.share).ceil()),
        month_full,
        items,
        series_percent: raw.iter().map(|&g| percent(g)).collect(),
        series_gib: raw.iter().map(|&g| r2(g)).collect(),
    }
}

/// How the figure at `path` (relative to this section, e.g. `months-until-full.patroni`,
/// `disks[2].items[0].end-gib`, `rates.db-gib-per-day`) was computed, in a sentence
/// with the numbers and the source; None for plain inputs echoed back.
pub fn explain(plan: &Plan, section: &Storage, path: &str) -> Option<String> {
    let m = Model::new(plan);
    let full = format!(
        "{} % of its capacity (assumptions.disk-full-share = {})",
        num(section.full_percent),
        num(m.share)
    );
    if path == "full-percent" {
        return Some(format!(
            "A disk counts as full at {full}. {}",
            a::DISK_FULL_SHARE.source
        ));
    }
    if let Some(id) = path.strip_prefix("months-until-full.") {
        let d = section.disks.iter().find(|d| d.id.key() == id)?;
        return Some(fill_sentence(d, section, &full));
    }
    if let Some(rate) = path.strip_prefix("rates.") {
        return rate_sentence(&m, rate);
    }
    let rest = path.strip_prefix("disks[")?;
    let (index, field) = rest.split_once(']')?;
    let d = section.disks.get(index.parse::<usize>().ok()?)?;
    let field = field.strip_prefix('.')?;
    if let Some(item) = field.strip_prefix("items[") {
        let (j, item_field) = item.split_once(']')?;
        let it = d.items.get(j.parse::<usize>().ok()?)?;
        return match item_field {
            ".name" | ".source" | ".formula" => None,
            ".now-gib" | ".end-gib" | ".growth-gib-per-month" => Some(format!(
                "{}: {} GiB at month 0, {} GiB at month {} ({} GiB a month on average). {}. Source: {}.",
                it.name,
                num(it.now_gib),
                num(it.end_gib),
                section.months,
                num(it.growth_gib_per_month),
                it.formula,
                it.source
            )),
            _ => None,
        };
    }
    let sum = |pick: fn(&DiskItem) -> f64| {
        d.items
            .iter()
            .map(|i| format!("{} {} GiB", i.name, num(pick(i))))
            .collect::<Vec<_>>()
            .join(" + ")
    };
    let (series, field_idx) = match field.split_once('[') {
        Some((f, i)) => (f, i.strip_suffix(']').and_then(|i| i.parse::<usize>().ok())),
        None => (field, None),
    };
    match (series, field_idx) {
        ("capacity-gib", None) => Some(format!("{}: {}.", d.label, d.capacity_formula)),
        ("now-gib", None) => Some(format!(
            "At go-live (month 0): {} = {} GiB.",
            sum(|i| i.now_gib),
            num(d.now_gib)
        )),
        ("end-gib", None) => Some(format!(
            "At month {}: {} = {} GiB.",
            section.months,
            sum(|i| i.end_gib),
            num(d.end_gib)
        )),
        ("now-percent", None) => Some(format!(
            "{} GiB / {} GiB = {} %.",
            num(d.now_gib),
            num(d.capacity_gib),
            num(d.now_percent)
        )),
        ("end-percent", None) => Some(format!(
            "{} GiB / {} GiB = {} % at month {}.",
            num(d.end_gib),
            num(d.capacity_gib),
            num(d.end_percent),
            section.months
        )),
        ("growth-gib-per-month", None) => Some(format!(
            "({} GiB at month {} − {} GiB at month 0) / {} months = {} GiB a month: {}.",
            num(d.end_gib),
            section.months,
            num(d.now_gib),
            section.months,
            num(d.growth_gib_per_month),
            sum(|i| i.growth_gib_per_month).replace(" GiB", " GiB/month")
        )),
        ("needed-gib", None) => Some(format!(
            "{} GiB at month {} / {} = {} GiB keeps the disk below {full} through the span.",
            num(d.end_gib),
            section.months,
            num(m.share),
            num(d.needed_gib)
        )),
        ("month-full", None) => Some(fill_sentence(d, section, &full)),
        ("series-gib", Some(i)) => {
            let v = d.series_gib.get(i)?;
            Some(format!(
                "Month {i} ({} days after go-live): the items of {} add up to {} GiB.",
                num(i as f64 * DAYS_PER_MONTH),
                d.label,
                num(*v)
            ))
        }
        ("series-percent", Some(i)) => {
            let (g, p) = (d.series_gib.get(i)?, d.series_percent.get(i)?);
            Some(format!(
                "Month {i}: {} GiB / {} GiB = {} %.",
                num(*g),
                num(d.capacity_gib),
                num(*p)
            ))
        }
        _ => None,
    }
}

fn fill_sentence(d: &Disk, section: &Storage, full: &str) -> String {
    let line = d.capacity_gib * section.full_percent / 100.0;
    let head = format!(
        "{} holds {} GiB at go-live and grows by {} GiB a month on average; it counts as full at {full}: {} GiB of {} GiB.",
        d.label,
        num(d.now_gib),
        num(d.growth_gib_per_month),
        num(line),
        num(d.capacity_gib)
    );
    match d.month_full {
        Some(0) => format!("{head} It is past that line from the start."),
        Some(mo) => format!(
            "{head} It crosses that line in month {mo} ({} GiB at the month's end).",
            num(d.series_gib.get(mo as usize).copied().unwrap_or(0.0))
        ),
        None => format!(
            "{head} It stays below through month {} ({} GiB, {} %).",
            section.months,
            num(d.end_gib),
            num(d.end_percent)
        ),
    }
}

fn fed_source(m: &Model) -> &'static str {
    match m.fed.level {
        Federation::None => "activity.federation none: no remote rooms.",
        Federation::Small => a::FED_ROOMS_PER_USER_SMALL.source,
        Federation::Open => a::FED_ROOMS_PER_USER_OPEN.source,
    }
}

fn rate_sentence(m: &Model, rate: &str) -> Option<String> {
    Some(match rate {
        "local-events-per-day" => format!(
            "activity.daily-active-users × activity.messages-per-user-day × (1 + {} other events per message) = {} events a day. {}",
            num(m.non_message),
            count(m.local_events),
            a::NON_MESSAGE_EVENTS_PER_MESSAGE.source
        ),
        "stored-events-per-day" => format!(
            "{} local events a day + {} received over federation = {} events stored a day.",
            count(m.local_events),
            count(m.fed.received()),
            count(m.stored_events)
        ),
        "remote-rooms" => format!(
            "registered users × {} remote rooms a user for activity.federation, at most {} (rooms local users share count once) = {} rooms. {}",
            num(m.fed.per_user),
            num(m.fed.max_rooms),
            num(m.fed.rooms),
            fed_source(m)
        ),
        "received-events-per-day" => format!(
            "{} remote rooms × {} members × ({} messages + {} state changes a member a day) = {} events received a day. {}",
            num(m.fed.rooms),
            count(m.fed.members),
            num(if m.fed.rooms > 0.0 && m.fed.members > 0.0 {
                m.fed.messages / (m.fed.rooms * m.fed.members)
            } else {
                0.0
            }),
            num(if m.fed.rooms > 0.0 && m.fed.members > 0.0 {
                m.fed.changes / (m.fed.rooms * m.fed.members)
            } else {
                0.0
            }),
            count(m.fed.received()),
            a::FED_STATE_CHANGES_PER_MEMBER_DAY.source
        ),
        "db-join-gib" => format!(
            "{} remote rooms × {} members × {} bytes (the room's state, auth chain, memberships and state groups, stored when the server joins) = {} GiB, counted from go-live. {}",
            num(m.fed.rooms),
            count(m.fed.members),
            count(m.fed.join_bytes),
            num(m.fed.join_gib()),
            a::DB_JOIN_BYTES_PER_MEMBER.source
        ),
        "db-pools-gib" => format!(
            "One day of rows Synapse deletes after a day: ({} local events + {} received messages) × {} members notified (assumptions.room-members-notified, at most the registered users but one) × {} bytes of event_push_actions + {} received events × {} bytes of received_transactions = {} GiB, standing, not growing. {}",
            count(m.local_events),
            count(m.fed.messages),
            num(m.notified),
            count(m.push_bytes),
            count(m.fed.received()),
            count(m.fed.rt_bytes),
            num(m.pools),
            a::DB_PUSH_ACTION_BYTES.source
        ),
        "db-start-gib" => format!(
            "{} GiB empty + {} registered users × {} KiB + {} GiB of remote rooms' state + {} GiB of one-day pools = {} GiB.",
            num(m.db_empty),
            count(m.registered as f64),
            num(m.kib_per_user),
            num(m.fed.join_gib()),
            num(m.pools),
            num(m.db0)
        ),
        "db-gib-per-day" | "db-gib-per-month" => format!(
            "{} local events a day × {} bytes + {} = {} GiB a day, {} GiB a month (× 365.25/12 days). {}",
            count(m.local_events),
            count(m.bytes_per_event),
            m.fed_sentence(),
            num(m.db_day),
            num(m.db_day * DAYS_PER_MONTH),
            a::DB_BYTES_PER_EVENT.source
        ),
        "wal-gib-per-day" => format!(
            "{} = {} GiB of WAL a day. {}",
            m.wal_sentence(),
            num(m.wal_day),
            a::WAL_BYTES_PER_EVENT.source
        ),
        "local-media-gib-per-day" => format!(
            "activity.daily-active-users × activity.uploads-per-user-day × activity.upload-mib / 1,024 × (1 + {} thumbnails) = {} GiB a day (ESS Sizing: average media size × uploads a day × active users).",
            num(m.thumbs),
            num(m.local_media_day)
        ),
        "remote-media-gib-per-day" => format!(
            "{} GiB of local uploads a day × {} (remote media share for activity.federation) = {} GiB a day.",
            num(m.local_media_day),
            num(m.remote_share),
            num(m.remote_media_day)
        ),
        "media-gib-per-month" => format!(
            "({} + {}) GiB a day × 365.25/12 = {} GiB a month into MinIO.",
            num(m.local_media_day),
            num(m.remote_media_day),
            num((m.local_media_day + m.remote_media_day) * DAYS_PER_MONTH)
        ),
        "max-wal-size-gib" => format!(
            "The plan's PostgreSQL max_wal_size: {} GiB.",
            num(m.max_wal)
        ),
        "prometheus-series" => format!(
            "{} active series (the RAM budget's estimate: Synapse processes × series each + hosts × series each).",
            count(m.prom_series as f64)
        ),
        "prometheus-gib-per-day" => format!(
            "{} series / {} s scrape interval × 86,400 s × {} bytes per sample = {} GiB a day (Prometheus docs/storage.md).",
            count(m.prom_series as f64),
            PROMETHEUS_SCRAPE_INTERVAL_S,
            num(m.prom_bps),
            num(m.prom_day)
        ),
        "full-backups-at-peak" => format!(
            "retention.full-backups {} + 1: pgBackRest expires the oldest full only after the new one completes.",
            m.full_retention
        ),
        "differential-backups-kept" => format!(
            "repo1-retention-diff = {} in the bundle's pgbackrest.conf.",
            m.diffs_kept
        ),
        "incremental-backups-kept" => format!(
            "{} hourly incrementals a day × {} days: they expire with the differential or full they depend on.",
            PGBACKREST_INCR_PER_DAY,
            incr_days(m.full_retention)
        ),
        "wal-days-kept" => format!(
            "{} fulls × {} days: archived WAL is kept back to the oldest full (repo1-retention-archive follows repo1-retention-full).",
            m.full_retention, PGBACKREST_FULL_EVERY_DAYS
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_sentences() {
        for (x, text) in [
            (0.0, "0"),
            (0.805, "0.81"),
            (2.5, "2.5"),
            (24.491, "24.49"),
            (392.358, "392.36"),
            (1234.6, "1,235"),
            (1e20, "1.000e20"),
            (f64::NAN, "0"),
        ] {
            assert_eq!(num(x), text, "{x}");
        }
    }

    #[test]
    fn incrementals_follow_their_parents() {
        for (fulls, days) in [(1, 7), (2, 8), (52, 8)] {
            assert_eq!(incr_days(fulls), days, "{fulls}");
        }
    }
}

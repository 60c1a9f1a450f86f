//! Names, paths, users and metric names the deployment's files share: one file makes
//! or writes the thing, others read it (a bucket the setup script creates and Synapse
//! uses, a directory backup scripts write metrics into and node_exporter reads, a user
//! HAProxy defines and Prometheus logs in as). Each is stated once, here.

/// The MinIO bucket holding Synapse's media (synapse-s3-storage-provider): created by
/// the object store's setup script, named in vars.yml, mirrored by the media backup
/// (shared decision).
pub const MEDIA_BUCKET: &str = "synapse-media";
/// The MinIO user Synapse's storage provider (and the media backup) uses: read, write
/// and delete in [`MEDIA_BUCKET`] only.
pub const MINIO_SYNAPSE_USER: &str = "synapse";

/// Synapse's database (the seed's name), in Patroni's bootstrap, PgBouncer, vars.yml,
/// pg_dump and the restore scripts.
pub const DATABASE: &str = "synapse";
/// The role Synapse connects as, same files.
pub const DB_USER: &str = "synapse";
/// PgBouncer's stats user (SHOW commands only), for pgbouncer_exporter and the runbook.
pub const PGBOUNCER_STATS_USER: &str = "pgbouncer_stats";

/// User of the HAProxy stats page (SecretId::HaproxyStatsPassword's description: user
/// admin), defined in haproxy.cfg and used by Prometheus' haproxy scrape job.
pub const HAPROXY_STATS_USER: &str = "admin";

/// The public path HAProxy routes to the LiveKit nodes (prefix stripped), as the
/// playbook's own reverse proxy does for its LiveKit (configuring-playbook-matrix-rtc.md).
pub const LIVEKIT_PATH: &str = "/livekit-server";

/// Synapse's docs/metrics-howto.md scrapes every 15 s; so does everything else here
/// (Prometheus' scrape and evaluation interval, Grafana's data source, the coturn
/// allocation timer), and the storage view sizes the TSDB from it.
pub const SCRAPE_INTERVAL_S: u64 = 15;

/// node_exporter's textfile directory: the one Debian's prometheus-node-exporter reads by
/// default (`--collector.textfile.directory`; its `--help` shows the compiled-in
/// default). The backup scripts and the coturn allocation script write `.prom` files
/// there.
pub const NODE_TEXTFILE_DIR: &str = "/var/lib/prometheus/node-exporter";

/// Backup results: the backup host's `write_metrics` writes them, one `.prom` file per
/// job and type, into [`NODE_TEXTFILE_DIR`]; the backup alerts read them. Each carries
/// the labels `job` (pgbackrest, media, pg_dump) and `type` (full, diff, incr or check
/// for pgbackrest; full for the other two).
pub const BACKUP_SUCCESS: &str = "synapse_planner_backup_last_success_timestamp_seconds";
pub const BACKUP_DURATION: &str = "synapse_planner_backup_last_duration_seconds";
pub const BACKUP_FAILURE: &str = "synapse_planner_backup_last_failure_timestamp_seconds";

/// Where the backup host keeps things (and the disk alerts watch): pgBackRest's
/// repository (Debian's pgbackrest package creates it, owned by postgres, 0750), the
/// media mirror with its daily snapshots, and the weekly pg_dump files.
pub const PGBACKREST_REPO: &str = "/var/lib/pgbackrest";
pub const MEDIA_SNAPSHOTS: &str = "/var/backups/synapse-media";
pub const PGDUMP_DIR: &str = "/var/backups/synapse-pgdump";

/// The backup host's scripts: the cron file runs them, the alerts and documents name
/// them.
pub const PGBACKREST_SCRIPT: &str = "/usr/local/sbin/pgbackrest-backup.sh";
pub const MEDIA_SCRIPT: &str = "/usr/local/sbin/backup-media.sh";
pub const PGDUMP_SCRIPT: &str = "/usr/local/sbin/pg-dump-synapse.sh";
pub const PGBACKREST_SETUP_SCRIPT: &str = "/usr/local/sbin/setup-pgbackrest.sh";

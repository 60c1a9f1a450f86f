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

/// Synapse's admin API (Synapse's docs/usage/administration/admin_api) and Ketesa's
/// path (`matrix_ketesa_path_prefix`, roles/custom/matrix-ketesa/defaults/main.yml:153).
/// HAProxy lets only the admin networks reach them.
pub const ADMIN_API_PATH: &str = "/_synapse/admin";
pub const KETESA_PATH: &str = "/synapse-admin";
/// Synapse's docs/metrics-howto.md scrapes every 15 s; so does everything else here
/// (Prometheus' scrape and evaluation interval, Grafana's data source, the coturn
/// allocation timer), and the storage view sizes the TSDB from it.
pub const SCRAPE_INTERVAL_S: u64 = 15;
// A whole number of scrapes a minute (checked when compiling).
const _: () = assert!(SCRAPE_INTERVAL_S > 0 && 60 % SCRAPE_INTERVAL_S == 0);

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

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's rules for a general purpose bucket name (Amazon S3 User Guide, "General
    /// purpose bucket naming rules"), which MinIO applies too (`mc mb` refuses others).
    fn is_s3_bucket_name(name: &str) -> bool {
        let b = name.as_bytes();
        let edge = |c: Option<&u8>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        let ip_like = name.split('.').count() == 4
            && name
                .split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()));
        (3..=63).contains(&b.len())
            && b.iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'.' || *c == b'-')
            && edge(b.first())
            && edge(b.last())
            && !name.contains("..")
            && !ip_like
            && !["xn--", "sthree-", "amzn-s3-demo-"]
                .iter()
                .any(|p| name.starts_with(p))
            && !["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"]
                .iter()
                .any(|s| name.ends_with(s))
    }

    /// Prometheus's metric name syntax (docs, "Data model": `[a-zA-Z_:][a-zA-Z0-9_:]*`).
    fn is_metric_name(name: &str) -> bool {
        let mut chars = name.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    }

    /// An unquoted PostgreSQL identifier: lower case (unquoted names fold to it), at most
    /// NAMEDATALEN − 1 = 63 bytes (PostgreSQL docs, "Identifiers and Key Words").
    fn is_pg_identifier(name: &str) -> bool {
        let mut chars = name.chars();
        name.len() <= 63
            && chars
                .next()
                .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    }

    #[test]
    fn bucket_name_is_a_valid_s3_bucket_name() {
        assert!(is_s3_bucket_name(MEDIA_BUCKET));
        for bad in [
            "ab",
            "Synapse-media",
            "-media",
            "media-",
            "a..b",
            "10.0.1.2",
            "xn--a",
            "a_b",
        ] {
            assert!(!is_s3_bucket_name(bad), "{bad}");
        }
    }

    #[test]
    fn metric_names_are_prometheus_names_in_seconds() {
        for name in [BACKUP_SUCCESS, BACKUP_DURATION, BACKUP_FAILURE] {
            assert!(is_metric_name(name), "{name}");
            // Prometheus naming practice: the tool's prefix, the base unit as suffix.
            assert!(name.starts_with("synapse_planner_backup_"), "{name}");
            assert!(name.ends_with("_seconds"), "{name}");
        }
        for bad in ["", "1x", "a-b", "a b"] {
            assert!(!is_metric_name(bad), "{bad}");
        }
    }

    #[test]
    fn paths_are_absolute_and_plain() {
        for path in [
            NODE_TEXTFILE_DIR,
            PGBACKREST_REPO,
            MEDIA_SNAPSHOTS,
            PGDUMP_DIR,
            PGBACKREST_SCRIPT,
            MEDIA_SCRIPT,
            PGDUMP_SCRIPT,
            PGBACKREST_SETUP_SCRIPT,
            LIVEKIT_PATH,
        ] {
            assert!(path.starts_with('/') && !path.ends_with('/'), "{path}");
            assert!(
                path.split('/')
                    .skip(1)
                    .all(|p| !p.is_empty() && p != "." && p != ".."),
                "{path}"
            );
            // A fact is written into shell scripts and config files as it is.
            assert!(
                path.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || b"/-_.".contains(&c)),
                "{path}"
            );
        }
        for script in [
            PGBACKREST_SCRIPT,
            MEDIA_SCRIPT,
            PGDUMP_SCRIPT,
            PGBACKREST_SETUP_SCRIPT,
        ] {
            assert!(
                script.starts_with("/usr/local/sbin/") && script.ends_with(".sh"),
                "{script}"
            );
        }
    }

    #[test]
    fn users_are_valid_names() {
        for name in [DATABASE, DB_USER, PGBOUNCER_STATS_USER] {
            assert!(is_pg_identifier(name), "{name}");
        }
        // MinIO access keys are 3–20 characters (internal/auth/credentials.go).
        assert!((3..=20).contains(&MINIO_SYNAPSE_USER.len()));
        assert!(
            HAPROXY_STATS_USER
                .bytes()
                .all(|c| c.is_ascii_alphanumeric())
                && !HAPROXY_STATS_USER.is_empty()
        );
    }
}

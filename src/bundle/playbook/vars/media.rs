//! vars.yml's media section: MinIO through synapse-s3-storage-provider, upload limits,
//! URL previews, media retention.

use super::super::super::{SecretId, ports};
use super::Builder;
use crate::deploy::facts::{MEDIA_BUCKET, MINIO_SYNAPSE_USER};
use crate::syntax::yaml::Node;

/// Region name for the S3 provider: MinIO's default region (`MINIO_REGION` unset). The
/// playbook refuses an empty region (`tasks/ext/s3-storage-provider/validate_config.yml`).
const MINIO_REGION: &str = "us-east-1";
/// Seed §3 "Upload Limits".
const SEED_MAX_UPLOAD_MB: u64 = 100;
/// A media lifetime from the plan's `retention.*-media-days` (seed §3: local 90 days,
/// remote 14): Synapse's duration `<n>d`. 0 keeps media forever: the variable is left
/// null, which the playbook's homeserver.yaml template skips (`{% if … %}`), and a
/// media_retention without the key never deletes (Synapse docs, config_documentation.md,
/// media_retention).
fn media_lifetime(days: u64) -> Node {
    if days == 0 {
        Node::Null
    } else {
        Node::Str(format!("{days}d"))
    }
}

pub(super) fn media(b: &mut Builder) {
    let vip = b.ctx.topology.vip;
    b.section("Media: MinIO through synapse-s3-storage-provider");
    b.var(
        "matrix_synapse_ext_synapse_s3_storage_provider_enabled",
        true,
        &[
            "docs/configuring-playbook-synapse-s3-storage-provider.md: Synapse writes media to its",
            "local store first and copies it to MinIO; what is not local is fetched from MinIO.",
        ],
    );
    b.var(
        "matrix_synapse_ext_synapse_s3_storage_provider_config_bucket",
        MEDIA_BUCKET,
        &[],
    );
    b.var(
        "matrix_synapse_ext_synapse_s3_storage_provider_config_region_name",
        MINIO_REGION,
        &["MinIO's default region; the playbook refuses an empty one."],
    );
    b.var_owned(
        "matrix_synapse_ext_synapse_s3_storage_provider_config_endpoint_url",
        format!("http://{vip}:{}", ports::MINIO_API),
        vec![
            "HAProxy on the VIP balances the MinIO nodes (plain HTTP on the private network)."
                .into(),
        ],
    );
    b.var_owned(
        "matrix_synapse_ext_synapse_s3_storage_provider_config_access_key_id",
        MINIO_SYNAPSE_USER,
        vec![format!(
            "MinIO user {MINIO_SYNAPSE_USER}, created by the bundle's bucket script with access to {MEDIA_BUCKET} only."
        )],
    );
    let key = b.secret(SecretId::MinioSynapseSecretKey);
    b.var(
        "matrix_synapse_ext_synapse_s3_storage_provider_config_secret_access_key",
        key,
        &[],
    );
    b.var(
        "matrix_synapse_ext_synapse_s3_storage_provider_store_local",
        true,
        &["Our users' uploads go to MinIO (they are what must survive the loss of this host)."],
    );
    b.var(
        "matrix_synapse_ext_synapse_s3_storage_provider_store_remote",
        true,
        &["Cached media of other servers too, so a rebuilt host does not fetch it all again."],
    );
    b.var(
        "matrix_synapse_ext_synapse_s3_storage_provider_store_synchronous",
        true,
        &[
            "An upload completes only once MinIO has it: the local disk of this one host is not",
            "where media should live (the playbook defaults to asynchronous copies).",
        ],
    );
    b.var(
        "matrix_synapse_ext_synapse_s3_storage_provider_update_db_day_count",
        0,
        &[
            "The playbook's daily migration (matrix-synapse-s3-storage-provider-migrate.timer,",
            "05:00) uploads whatever is still only local and then deletes the local copies of",
            "files unused for this many days: 0 = all of them. The local store stays a cache, so",
            "media backups come from MinIO, not from this host's disk.",
        ],
    );
    b.var(
        "matrix_synapse_max_upload_size_mb",
        SEED_MAX_UPLOAD_MB,
        &[
            "Seed §3. The playbook sizes each Synapse container's /tmp tmpfs at 50 x this (RAM",
            "only while used, by concurrent uploads).",
        ],
    );
    b.var(
        "matrix_synapse_url_preview_enabled",
        false,
        &["Seed §3: no URL previews (Synapse would fetch every link users post)."],
    );
    let retention = &b.ctx.plan.retention;
    let (local, remote) = (retention.local_media_days, retention.remote_media_days);
    b.var_owned(
        "matrix_synapse_media_retention_local_media_lifetime",
        media_lifetime(local),
        if local == 0 {
            vec![
                "retention.local-media-days = 0: local media are kept forever (null leaves".into(),
                "Synapse's local_media_lifetime unset).".into(),
            ]
        } else {
            vec![
                format!(
                    "retention.local-media-days (seed §3: 90). Local media nobody fetched for {local} days"
                ),
                "is deleted from Synapse; its MinIO copy stays, unreferenced (Synapse never deletes".into(),
                "from a storage provider, element-hq/synapse#16989), so MinIO still grows.".into(),
            ]
        },
    );
    b.var_owned(
        "matrix_synapse_media_retention_remote_media_lifetime",
        media_lifetime(remote),
        if remote == 0 {
            vec!["retention.remote-media-days = 0: cached remote media are kept forever.".into()]
        } else {
            vec![
                format!("retention.remote-media-days (seed §3: 14): {remote} days. Cached remote media is"),
                "re-fetchable from its origin server.".into(),
            ]
        },
    );
}

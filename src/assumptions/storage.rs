//! Storage growth constants (database, media, WAL, backups, metrics), used by
//! `sizing::storage`. Every one is overridable (`assumptions.<id>`): none of them is a
//! setting the bundle writes; each is an estimate of how a real deployment behaves.
//!
//! Data points behind the database figures (none gives bytes per event directly, so the
//! per-event figure is our estimate, checked against them):
//! - ru-matrix.org, ~20 local users joined to large public rooms, after two years: 123 GB,
//!   of which `events` 8 GB, `event_json` 22 GB and `state_groups_state` 51 GB (274 M
//!   rows) (matrix-org/synapse#7472): the event tables are about a quarter of the
//!   database, state another 40 %, and open federation multiplies what a few users store.
//! - A small server (city17.xyz, "Shrinking my Matrix (Synapse) database", 2025):
//!   3780 MB, of which `state_groups_state` 1100 MB, `event_json` 947 MB, `events`
//!   406 MB, `event_auth` 309 MB: again the largest table is ~30 % of the database.
//! - A signed room event (room v10, one sender, three auth and one prev event IDs of 44
//!   characters, a 43-character hash and an 86-character signature) is ~0.7–1.2 KB of
//!   JSON before Synapse's own rows (events, event_edges, stream orderings, push actions,
//!   event_search) and their indexes.

use super::Assumption;

assumptions! {
    group STORAGE;
    DB_BYTES_PER_EVENT = "db-bytes-per-event", "Database space per stored event (all tables and indexes)", 3072.0, "bytes",
        "assumption: event_json ~1 KB (a signed event's JSON) + the events row, edges, stream and push rows and their indexes ~1 KB, + its share of state tables ~1 KB; matrix-org/synapse#7472 and city17.xyz table sizes put event tables at 25–45 % of a Synapse database";
    NON_MESSAGE_EVENTS_PER_MESSAGE = "non-message-events-per-message", "Other room events per message (state, joins, profile changes, call signalling)", 0.25, "events",
        "assumption: membership and profile changes, room creation, MatrixRTC membership and 1:1 call signalling (m.call.*) are room events too; receipts and typing are EDUs, not stored as events";
    DB_FEDERATION_SMALL = "db-federation-factor-small", "Events stored per local event, small federation", 1.5, "×",
        "assumption: partner servers' users post in shared rooms; their events are stored here too (none = 1: every event is local)";
    DB_FEDERATION_OPEN = "db-federation-factor-open", "Events stored per local event, open federation", 3.0, "×",
        "assumption: members join large public rooms whose traffic is stored in full; a few users in big rooms can store far more (ru-matrix.org: 123 GB for ~20 users, matrix-org/synapse#7472)";
    DB_EMPTY_GIB = "db-empty-gib", "Empty Synapse database", 0.1, "GiB",
        "assumption: PostgreSQL's template databases plus Synapse's ~200 tables and their indexes, a few pages each when empty";
    DB_KIB_PER_USER = "db-kib-per-user", "Database space per registered user (account, devices, keys)", 64.0, "KiB",
        "assumption: the account, profile, push rules and account data, a few devices with their device keys and the one-time keys each client keeps uploaded (Element keeps ~50 per device)";
    MEDIA_THUMBNAIL_SHARE = "media-thumbnail-share", "Thumbnails, as a share of the media they belong to", 0.1, "ratio",
        "assumption: Synapse stores five pre-generated thumbnails per image (thumbnail_sizes default: 32×32, 96×96, 320×240, 640×480, 800×600), tens of KiB each next to MiB-sized originals";
    REMOTE_MEDIA_SMALL = "remote-media-share-small", "Remote media cached, per byte of local uploads, small federation", 0.2, "ratio",
        "assumption: media and avatars from partner servers that local users view are fetched and cached once (none = 0)";
    REMOTE_MEDIA_OPEN = "remote-media-share-open", "Remote media cached, per byte of local uploads, open federation", 1.0, "ratio",
        "assumption: large public rooms bring as much media (images, avatars, thumbnails) as the local users upload";
    SYNAPSE_LOCAL_MEDIA_DAYS = "synapse-local-media-days", "Days media stay on the Synapse host before the daily move to MinIO", 2.0, "days",
        "playbook docs/configuring-playbook-synapse-s3-storage-provider.md: the migrate timer runs daily at 05:00 and, with update_db_day_count 0, deletes every local copy already in S3; one day's media plus one missed run";
    SYNAPSE_HOST_BASE_GIB = "synapse-host-base-gib", "Synapse host: container images, journal and logs", 20.0, "GiB",
        "assumption: the playbook's images (~5 GiB, twice during an upgrade), the journal capped at 4 GiB by the bundle (journald SystemMaxUse=4G), Docker's json logs (10 MiB × 3 per container) and the playbook's files";
    WAL_AMPLIFICATION = "wal-amplification", "WAL written per byte of database growth", 8.0, "×",
        "assumption: besides the new rows, every index update and the first change of each page after a checkpoint (full-page image, PostgreSQL docs 'WAL Configuration') are logged, and Synapse inserts and deletes far more than it keeps (to-device messages, push actions, receipts, one-time keys)";
    DB_LARGEST_TABLE_SHARE = "db-largest-table-share", "Largest table, as a share of the database (room to rewrite it)", 0.4, "ratio",
        "PostgreSQL docs (VACUUM FULL writes a new copy of the table before releasing the old one; pg_repack and REINDEX likewise); state_groups_state or event_json is 30–40 % of a Synapse database (matrix-org/synapse#7472, city17.xyz)";
    BACKUP_COMPRESSION = "backup-compression-ratio", "Compressed size of database files in pgBackRest and pg_dump", 0.3, "ratio",
        "assumption: zstd (compress-type=zst) on JSON text and B-tree pages; the custom-format dump (zlib, without indexes) is smaller, so using the same ratio errs on the safe side";
    WAL_COMPRESSION = "wal-compression-ratio", "Compressed size of archived WAL", 0.5, "ratio",
        "assumption: full-page images are already lz4-compressed (wal_compression = lz4), so zstd gains less on WAL than on data files; segments closed early by archive_timeout are zero-padded and compress to almost nothing";
    BACKUP_CHANGED_SHARE = "backup-changed-share", "Share of the database's files a differential or incremental backup copies", 0.2, "ratio",
        "assumption: pgBackRest 2.45 (Debian 12) copies a changed 1 GiB segment file whole (block incremental, repo-block, is stable from 2.46); Synapse's event_id indexes take inserts at random places, so their files change between any two backups";
    PROM_BYTES_PER_SAMPLE = "prometheus-bytes-per-sample", "Prometheus disk per sample", 2.0, "bytes",
        "Prometheus docs/storage.md, Operational aspects: 1–2 bytes per sample after compression (the upper end)";
    DISK_FULL_SHARE = "disk-full-share", "Fill at which a disk counts as full", 0.85, "ratio",
        "operations rule: act before 100 %: ext4 reserves 5 % for root by default (mke2fs -m), PostgreSQL stops when it cannot write WAL, MinIO refuses writes to a nearly full drive, and bigger disks take weeks to order";
}

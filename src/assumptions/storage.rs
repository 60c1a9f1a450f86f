//! Storage growth constants (database, media, WAL, backups, metrics), used by
//! `sizing::storage`. Every one is overridable (`assumptions.<id>`): none of them is a
//! setting the bundle writes; each is an estimate of how a real deployment behaves.
//!
//! The database figures are the lab's measurements (docs/lab.md, "Measurements: lab.sh
//! measure" and "Federation: lab.sh measure-federation", 2026-12-08, Synapse 1.159.0,
//! PostgreSQL 15.18): bytes kept per event, per table, and WAL per event. What Synapse
//! deletes on its own is a standing pool, not growth: event_push_actions rows once rotated
//! and older than a day (synapse/storage/databases/main/event_push_actions.py:1743
//! `_remove_old_push_actions_that_have_rotated`, `highlight = 0` at :1780 and :1800) and
//! received_transactions older than a day (synapse/storage/databases/main/transactions.py:85
//! every 30 minutes, :93 the DELETE), element-hq/synapse at a58ad44 (1.157.1; the lab ran
//! 1.159.0).
//!
//! The federation terms (remote rooms, their members, their messages and state changes)
//! are assumptions calibrated on the published cases, which predate the lab's Synapse
//! (tests/db_growth.rs states each case's inputs and the residual):
//! - ru-matrix.org, ~20 local users in large public rooms (Matrix HQ, Riot-*, KDE) for two
//!   years, 2020: 123 GB, of which `events` 8 GB, `event_json` 22 GB and
//!   `state_groups_state` 51 GB (274 M rows) (matrix-org/synapse#7472).
//! - maf.chat ("Synapse" support page, 2022): a family homeserver with dozens of active
//!   users, 23 GB after nearly two years; remote media 6.5 GB against 1.6 GB local.
//! - A state group is stored as a delta against its predecessor, and in full after at most
//!   100 deltas (synapse/storage/databases/state/store.py:62 `MAX_STATE_DELTA_HOPS = 100`):
//!   each state change of a room adds rows in proportion to its members.

use super::Assumption;

assumptions! {
    group STORAGE;
    DB_BYTES_PER_EVENT = "db-bytes-per-event", "Database space kept per local event (all tables and indexes, without push actions)", 5500.0, "bytes",
        "measured (docs/lab.md, Federation: lab.sh measure-federation, 2026-12-08, Synapse 1.159.0, PostgreSQL 15.18): a message in a 10-member room of ours kept 11,765–12,574 B in all tables, of which event_push_actions 6,633–6,712 B (a standing pool, counted apart): 5,132–5,862 B for events, event_json, edges, auth, search, stream and state-group rows and their indexes";
    NON_MESSAGE_EVENTS_PER_MESSAGE = "non-message-events-per-message", "Other room events per message (state, joins, profile changes, call signalling)", 0.25, "events",
        "assumption: membership and profile changes, room creation, MatrixRTC membership and 1:1 call signalling (m.call.*) are room events too; receipts and typing are EDUs, not stored as events";
    DB_BYTES_PER_RECEIVED_EVENT = "db-bytes-per-received-event", "Database space kept per message received over federation (without push actions and received transactions)", 7100.0, "bytes",
        "measured (docs/lab.md, Federation: lab.sh measure-federation, 2026-12-08, Synapse 1.159.0, PostgreSQL 15.18): a message from the remote server kept 15,811–16,220 B, of which event_push_actions 8,253–8,376 B and received_transactions 492–799 B (both standing pools, counted apart): 7,045–7,066 B";
    DB_PUSH_ACTION_BYTES = "db-push-action-bytes", "event_push_actions per local member notified of an event", 790.0, "bytes",
        "measured (docs/lab.md, Federation: lab.sh measure-federation, 2026-12-08, Synapse 1.159.0, PostgreSQL 15.18): 740–840 B per member notified (one row each, with its indexes); Synapse deletes the rotated non-highlight rows once they are older than a day (synapse/storage/databases/main/event_push_actions.py:1743 _remove_old_push_actions_that_have_rotated, 1.157.1), so they are a pool of about one day of events, not growth";
    ROOM_MEMBERS_NOTIFIED = "room-members-notified", "Local members notified per event (the room's members but the sender)", 9.0, "members",
        "assumption: most messages are sent in 1:1 rooms (1 member notified) and team rooms of a few to a few dozen members, so an average of 9, the lab's 10-member room (docs/lab.md, 2026-12-08); at most the registered users but one. Synapse writes a push action for every member whose push rules match, which the default rules do for every message";
    DB_RECEIVED_TRANSACTION_BYTES = "db-received-transaction-bytes", "received_transactions per event received over federation", 650.0, "bytes",
        "measured (docs/lab.md, Federation: lab.sh measure-federation, 2026-12-08, Synapse 1.159.0, PostgreSQL 15.18): 389–799 B per received event; Synapse deletes rows older than a day every 30 minutes (synapse/storage/databases/main/transactions.py:85 and :93, 1.157.1): a pool of one day of received events";
    FED_ROOMS_PER_USER_SMALL = "fed-rooms-per-user-small", "Remote rooms per registered user, small federation (rooms shared by local users count once)", 1.0, "rooms",
        "assumption, calibrated on maf.chat (23 GB after ~2 years for dozens of users of a family server, tests/db_growth.rs): each user brings about one room hosted elsewhere";
    FED_ROOMS_PER_USER_OPEN = "fed-rooms-per-user-open", "Remote rooms per registered user, open federation (rooms shared by local users count once)", 1.5, "rooms",
        "assumption, calibrated on matrix-org/synapse#7472 (ru-matrix.org: ~20 users in Matrix HQ, Riot-* and KDE rooms, 123 GB after 2 years, tests/db_growth.rs)";
    FED_ROOMS_MAX_SMALL = "fed-rooms-max-small", "Most remote rooms a server joins, small federation", 30.0, "rooms",
        "assumption: partner servers' rooms are a bounded set that local users share, so the count stops growing with users (without a bound a large server would join one room per user); about as many as a family server of dozens of users (maf.chat) takes part in";
    FED_ROOMS_MAX_OPEN = "fed-rooms-max-open", "Most remote rooms a server joins, open federation", 300.0, "rooms",
        "assumption: the public rooms of thousands of members are a few hundred, and local users share them, so the count stops growing with users";
    FED_ROOM_MEMBERS_SMALL = "fed-room-members-small", "Members of a remote room (all servers), small federation", 1000.0, "members",
        "assumption, calibrated on maf.chat (tests/db_growth.rs): community and partner rooms of hundreds to a few thousand members";
    FED_ROOM_MEMBERS_OPEN = "fed-room-members-open", "Members of a remote room (all servers), open federation", 5000.0, "members",
        "assumption, calibrated on matrix-org/synapse#7472 (tests/db_growth.rs): Matrix HQ and the like had thousands to tens of thousands of members";
    FED_MESSAGES_PER_MEMBER_DAY = "fed-messages-per-member-day", "Messages a day in a remote room, per member", 0.1, "messages",
        "assumption: most members of large rooms read and rarely write; a 5,000-member room gets 500 messages a day";
    FED_STATE_CHANGES_PER_MEMBER_DAY = "fed-state-changes-per-member-day", "State changes a day in a remote room, per member (joins, leaves, profile changes)", 0.02, "changes",
        "assumption, calibrated on matrix-org/synapse#7472's state_groups_state (51 GB of 123 GB; tests/db_growth.rs): 2 % of a large room's members join, leave or change their profile on a day";
    DB_JOIN_BYTES_PER_MEMBER = "db-join-bytes-per-member", "Database space to join a remote room, per member of the room", 16200.0, "bytes",
        "measured (docs/lab.md, Federation: lab.sh measure-federation, 2026-12-08, Synapse 1.159.0, PostgreSQL 15.18): joining rooms of 130 members stored 16,202 B per event (the room's state and auth chain, memberships, the user directory, state groups; 30,492 B at 40 members, where a fixed part per room weighs more)";
    DB_STATE_CHANGE_BYTES = "db-state-change-bytes", "Database space per state change received, besides state_groups_state's share per member", 7200.0, "bytes",
        "measured (docs/lab.md, Federation: lab.sh measure-federation, 2026-12-08, Synapse 1.159.0, PostgreSQL 15.18): a received state change kept 7,864–7,987 B, of which received_transactions 389–553 B (a pool, counted apart) and state_groups_state 369–655 B (3.2 B × members + 240 B): 6,950 B + the 240 B";
    DB_STATE_GROUP_BYTES_PER_MEMBER = "db-state-group-bytes-per-member", "state_groups_state per state change, per member of the room", 3.2, "bytes",
        "measured (docs/lab.md, Federation: lab.sh measure-federation, 2026-12-08, Synapse 1.159.0, PostgreSQL 15.18): 369 B at 40 members, 655 B at 130; Synapse stores a state group as a delta and in full after at most 100 deltas (synapse/storage/databases/state/store.py:62 MAX_STATE_DELTA_HOPS), so the average row count per change grows with the room's state";
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
    WAL_BYTES_PER_EVENT = "wal-bytes-per-event", "WAL per stored event, besides its push actions", 13700.0, "bytes",
        "measured (docs/lab.md, 2026-12-08, Synapse 1.159.0, PostgreSQL 15.18): 24.6–26.2 KB of WAL per message in 10-member rooms (federation runs) and 61.5 and 85.2 KB per event in 40- and 60-member rooms (lab.sh measure, scales 2 and 3) fit 13.7 KB + 1.21 KB per member notified; full-page images after each checkpoint and the staging tables Synapse writes and empties are in it";
    WAL_BYTES_PER_MEMBER_NOTIFIED = "wal-bytes-per-member-notified", "WAL per local member notified of an event", 1210.0, "bytes",
        "measured (docs/lab.md, 2026-12-08, Synapse 1.159.0, PostgreSQL 15.18): the slope of WAL per event against members notified (9, 39 and 59: 24.6, 61.5 and 85.2 KB); a push action is written to event_push_actions_staging, then event_push_actions, then deleted";
    WAL_BYTES_PER_RECEIVED_EXTRA = "wal-bytes-per-received-extra", "Extra WAL per event received over federation", 32000.0, "bytes",
        "measured (docs/lab.md, Federation: lab.sh measure-federation, 2026-12-08, Synapse 1.159.0, PostgreSQL 15.18): 54.6–61.6 KB of WAL per received message against 25.7–26.2 KB per local one in the same rooms (+28.9 and +35.4 KB): the inbound staging queue and received transactions are written and deleted";
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

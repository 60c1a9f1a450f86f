//! RAM, connections and capacity constants of the budgets (issue 2's engine).

use super::Assumption;

assumptions! {
    group RAM;
    SYNAPSE_PROCESS_BASE_GIB = "synapse-process-base-gib", "The deployment notes' rule, fixed part per process (a comparison only)", 1.5, "GiB",
        "seed deployment notes §3 'Cache Factor Formula': RAM ≈ 1.5 GB + 0.5 GB × cache_factor per process; no public source, and 10–14 × what the lab measured (docs/lab.md, 2026-12-08): shown beside the figure, never used for it";
    SYNAPSE_PROCESS_PER_FACTOR_GIB = "synapse-process-per-factor-gib", "The deployment notes' rule, per unit of cache factor (a comparison only)", 0.5, "GiB",
        "seed deployment notes §3 'Cache Factor Formula' (cache_factor 10 → 6.5 GB per process); no public source: shown beside the figure, never used for it";
    SYNAPSE_BASE_MIB = "synapse-process-base-mib", "Synapse process without per-user caches (any type)", 160.0, "MiB",
        "measured here (docs/lab.md, 2026-12-07 and 2026-12-08, Synapse 1.159.0 with jemalloc, cache factor 0.5): idle RSS 123–133 MiB for every process type; under traffic the processes without per-user caches peaked at 125–161 MiB (stream writer events 161, background 155, media repository 152 at `lab.sh measure`'s largest scale)";
    SYNAPSE_SYNC_MIB_PER_USER = "synapse-sync-mib-per-user", "Sync worker caches per concurrent user it serves", 2.8, "MiB",
        "measured here (docs/lab.md 'Measurements: lab.sh measure', 2026-12-08, Synapse 1.159.0): sync-0 grew 124 → 294 MiB serving 60 concurrent users, each in 12 rooms of 60 members: (294 − 124) / 60 ≈ 2.8 MiB a user. It grows with rooms per user and members per room, which the plan does not give: raise it for users in many or large rooms";
    SYNAPSE_ROOM_MIB_PER_USER = "synapse-room-mib-per-user", "Room worker caches per concurrent user", 1.8, "MiB",
        "measured here (docs/lab.md 'Measurements: lab.sh measure', 2026-12-08, Synapse 1.159.0): room-0 grew 124 → 232 MiB with 60 concurrent users in 12 rooms of 60 members: (232 − 124) / 60 = 1.8 MiB a user; the room workers share the users (the router hashes the room ID)";
    SYNAPSE_OPEN_FEDERATION_MIB = "synapse-open-federation-mib", "Open federation: remote rooms' state per process that holds it", 400.0, "MiB",
        "Element's ESS sizing (ems-docs.element.io, Element Server Suite LTS 23.10, 'ESS Sizing'): open federation adds 2,500 MiB (1–500 and 501–2,500 users) and 3,500 MiB (2,501–10,000 users) to the homeserver, small federation nothing; spread over the 7 processes of the default plan that hold remote rooms' state (main, 3 sync, room, federation reader and sender) that is 360–500 MiB each";
    SYNAPSE_CACHE_MAX_CAP_GIB = "synapse-cache-max-cap-gib", "Cache autotuning: largest max_cache_memory_usage", 2.0, "GiB",
        "matrix-docker-ansible-deploy roles/custom/matrix-synapse/defaults/main.yml: matrix_synapse_cache_size_calculations_max_cache_memory_usage_cap_bytes = 2 GiB (max_cache_memory_usage = min(RAM / 8, 2 GiB))";
    SYNAPSE_CACHE_MAX_RAM_SHARE = "synapse-cache-max-ram-share", "Cache autotuning: max_cache_memory_usage as a share of the host's RAM", 0.125, "ratio",
        "matrix-docker-ansible-deploy roles/custom/matrix-synapse/defaults/main.yml: matrix_synapse_cache_autotuning_max_cache_memory_usage = min(memtotal / 8, the cap)";
    SYNAPSE_CACHE_MAX_FLOOR_GIB = "synapse-cache-max-floor-gib", "Cache autotuning: smallest max_cache_memory_usage the planner writes", 0.25, "GiB",
        "measured here: the lab ran every drill with max_cache_memory_usage 0.25 GiB (docs/lab.md, 2026-12-08, 'Measurements: lab.sh measure'); below it the processes' own heap would keep the eviction running";
    VALKEY_GIB = "valkey-gib", "Valkey (Synapse's Redis)", 0.5, "GiB",
        "assumption: Synapse uses Redis as a pub/sub replication bus and a small cache; it holds little data";
    REVERSE_PROXY_COMPANION_GIB = "reverse-proxy-companion-gib", "matrix-synapse-reverse-proxy-companion (nginx)", 0.25, "GiB",
        "assumption: nginx worker processes routing to workers; tens of MiB each";
    WEB_CLIENTS_GIB = "web-clients-gib", "Element Web + Ketesa (static files served by nginx)", 0.25, "GiB",
        "assumption: two static-file nginx containers";
    PGBOUNCER_BASE_MIB = "pgbouncer-base-mib", "PgBouncer process", 64.0, "MiB",
        "assumption: one single-threaded process";
    PGBOUNCER_PER_CONN_KIB = "pgbouncer-per-connection-kib", "PgBouncer memory per connection", 8.0, "KiB",
        "PgBouncer docs (config.md, pkt_buf 4096 default): about two packet buffers per connection";
    OS_RESERVE_GIB = "os-reserve-gib", "Operating system, Docker daemon, node exporter", 2.0, "GiB",
        "assumption: Debian 12 with Docker, chrony, node_exporter and journald, before any service";
    PG_BACKEND_OVERHEAD_MIB = "pg-backend-overhead-mib", "PostgreSQL private memory per connection (beyond work_mem)", 10.0, "MiB",
        "assumption: a backend's catalog caches and stack; commonly measured at 5–10 MiB";
    ETCD_GIB = "etcd-gib", "etcd member (Patroni's DCS)", 0.5, "GiB",
        "assumption: Patroni's keyspace is a few KB; etcd's hardware guide sizes whole machines (8 GB for small clusters), not the process";
    PATRONI_GIB = "patroni-gib", "Patroni daemon (Python)", 0.25, "GiB",
        "assumption: one Python process with its REST API";
    EXPORTER_GIB = "exporter-gib", "A Prometheus exporter (postgres_exporter, haproxy, redis…)", 0.1, "GiB",
        "assumption: Go exporters use tens of MiB";
    PGBACKREST_GIB = "pgbackrest-gib", "pgBackRest archive-push/backup on a database node", 0.25, "GiB",
        "assumption: archive-push runs per WAL segment; backup runs with process-max workers on the backup host";
    PGBACKREST_REPO_GIB = "pgbackrest-repo-gib", "pgBackRest on the repository host (backup with 4 processes)", 1.0, "GiB",
        "assumption: process-max 4 compressing workers at ~ 256 MiB each";
    RSYNC_GIB = "rsync-gib", "rsync media snapshot job", 0.25, "GiB",
        "assumption: rsync's file list for a media store of a few million files";
    HAPROXY_PER_CONN_KIB = "haproxy-per-connection-kib", "HAProxy memory per connection (TLS, both sides)", 64.0, "KiB",
        "HAProxy management guide: two buffers of tune.bufsize (16 KiB) per stream plus TLS session state";
    HAPROXY_CONNS_PER_USER = "haproxy-connections-per-user", "Front-end connections per concurrent user", 3.0, "connections",
        "assumption: a long-poll /sync plus concurrent requests; HTTP/2 clients use one";
    KEEPALIVED_GIB = "keepalived-gib", "keepalived", 0.05, "GiB", "assumption: a small C daemon";
    COTURN_GIB = "coturn-gib", "coturn", 0.5, "GiB",
        "assumption: relay sessions hold small buffers; coturn is CPU- and bandwidth-bound";
    LIVEKIT_GIB = "livekit-gib", "LiveKit SFU", 2.0, "GiB",
        "assumption: LiveKit is CPU- and bandwidth-bound; memory grows with tracks";
    LIVEKIT_REDIS_GIB = "livekit-redis-gib", "LiveKit's Redis (on the first LiveKit node)", 0.5, "GiB",
        "assumption: room and participant state for multi-node routing";
    PROM_SERIES_PER_SYNAPSE_PROCESS = "prometheus-series-per-synapse-process", "Prometheus series per Synapse process", 10000.0, "series",
        "assumption: Synapse exports per-servlet, per-cache and per-replication-stream histograms";
    PROM_SERIES_PER_HOST = "prometheus-series-per-host", "Prometheus series per host (node exporter + service exporter)", 2500.0, "series",
        "assumption: node_exporter ≈ 1,000 series plus one service exporter";
    PROM_KIB_PER_SERIES = "prometheus-kib-per-series", "Prometheus memory per active series", 8.0, "KiB",
        "assumption: Prometheus 2.x head block, including churn and query headroom";
    PROM_BASE_GIB = "prometheus-base-gib", "Prometheus process baseline", 0.5, "GiB", "assumption";
    GRAFANA_GIB = "grafana-gib", "Grafana", 0.25, "GiB", "assumption";
    ALERTMANAGER_GIB = "alertmanager-gib", "Alertmanager", 0.1, "GiB", "assumption";
    PG_SUPERUSER_RESERVED = "pg-superuser-reserved", "superuser_reserved_connections", 3.0, "connections",
        "PostgreSQL docs, superuser_reserved_connections (default 3)";
    PG_EXPORTER_CONNS = "pg-exporter-connections", "postgres_exporter connections on the primary", 2.0, "connections",
        "assumption: postgres_exporter holds one connection; one more during a scrape of pg_stat_statements";
    PG_BACKUP_CONNS = "pg-backup-connections", "pgBackRest connections during a backup", 2.0, "connections",
        "pgBackRest user guide: one connection to the primary, one to the standby with backup-standby";
    PG_PATRONI_CONNS = "pg-patroni-connections", "Patroni's own connections", 3.0, "connections",
        "assumption: Patroni's HA loop, REST API health queries and pg_rewind checks";
    PG_ADMIN_CONNS = "pg-admin-connections", "Admin and maintenance sessions", 5.0, "connections",
        "assumption: psql sessions, synapse_auto_compressor, schema migrations";
    NOFILE_LIMIT = "nofile-limit", "Open-file limit per process (limits.conf nofile)", 65535.0, "files",
        "seed deployment notes §1, /etc/security/limits.conf";
    SYNC_USERS_PER_WORKER = "sync-users-per-worker", "Concurrent syncing users one sync worker serves", 2000.0, "users",
        "assumption: no public figure exists; watch sync p95 latency and add workers when it rises";
    TIGHT_RAM_SHARE = "tight-ram-share", "Share of a host's RAM above which the budget is tight", 0.9, "ratio",
        "assumption: leaves room for page cache, spikes and upgrades";
}

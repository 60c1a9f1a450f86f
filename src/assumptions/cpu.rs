//! CPU constants of the per-host CPU figures (issue 12, item 5): what one vCPU carries
//! for each service, from the service's own published figures where one exists, and
//! the reasoning where none does ("assumption").

use super::Assumption;

assumptions! {
    group CPU;
    SYNAPSE_VCPUS_PER_PROCESS = "synapse-vcpus-per-process", "vCPUs one busy Synapse process uses", 1.0, "vCPUs",
        "CPython's global interpreter lock (docs.python.org, glossary \"global interpreter lock\"): one thread of a process runs Python at a time, so a busy Synapse process uses one core and no more; Synapse's workers exist to use more cores (Synapse docs, workers.md). Checked against Element's ESS sizing (ems-docs.element.io, LTS 23.10, 'ESS Sizing': 2 / 6 / 10 CPU for 1–500 / 501–2,500 / 2,501–10,000 users, 5 / 9 / 15 with open federation)";
    SYNAPSE_HOST_SERVICES_VCPUS = "synapse-host-services-vcpus", "Valkey, reverse-proxy companion, web clients and PgBouncer on the Synapse host", 1.0, "vCPUs",
        "assumption: PgBouncer \"is single-threaded and uses one CPU core per instance\" (PgBouncer docs, config.md, so_reuseport), Valkey runs commands on one main thread, nginx serves static files and proxies; together about one core at this load";
    ETCD_VCPUS = "etcd-vcpus", "etcd member (Patroni's DCS)", 0.5, "vCPUs",
        "etcd docs, hardware recommendations: \"few etcd deployments require a lot of CPU capacity\", typical clusters two to four cores for the whole machine; Patroni writes a handful of keys every loop_wait (10 s), so half a core is a floor, not a measurement";
    PATRONI_VCPUS = "patroni-vcpus", "Patroni daemon and postgres_exporter", 0.25, "vCPUs",
        "assumption: Patroni's Python loop runs once every loop_wait (10 s); postgres_exporter answers one scrape every 15 s";
    PGBACKREST_VCPUS = "pgbackrest-vcpus", "pgBackRest archive-push on a database node", 2.0, "vCPUs",
        "the bundle's pgbackrest.conf [global:archive-push] process-max=2 (src/bundle/backup/pgbackrest.rs): at most two processes compressing WAL (zstd) at once, a core each while a burst of WAL is pushed (pgBackRest configuration reference: process-max, \"max processes to use for compress/transfer\", default 1)";
    MINIO_VCPUS = "minio-vcpus", "MinIO server (hardware checklist minimum)", 8.0, "vCPUs",
        "MinIO Hardware Checklist (min.io docs, operations/checklists/hardware): server-grade CPUs with SIMD (AVX-512), 8 vCPU per host minimum, 16+ recommended, for hashing (healing) and erasure coding; whole-node guidance, like its RAM";
    HAPROXY_HANDSHAKES_PER_VCPU = "haproxy-handshakes-per-vcpu", "Full TLS handshakes one vCPU of HAProxy does per second", 650.0, "handshakes/s",
        "HAProxy doc/intro.txt §3.6 'Sizing': 1,300 HTTPS connections per second with full RSA2048 handshakes on one 3.7 GHz Core i7 core (HAProxy 1.6, OpenSSL 1.0.2), halved because a cloud vCPU is often one hyperthread of a core; ECDSA certificates cost less";
    HAPROXY_REQUESTS_PER_VCPU = "haproxy-requests-per-vcpu", "HTTPS requests one vCPU of HAProxy forwards per second over kept-alive TLS", 80000.0, "requests/s",
        "HAProxy doc/intro.txt §3.6 'Sizing': 160,000 HTTPS requests per second in keep-alive over persistent TLS connections on one core, halved for a vCPU";
    HAPROXY_RECONNECT_S = "haproxy-reconnect-seconds", "Seconds between a client connection's new TLS handshakes", 300.0, "s",
        "assumption: phones change networks and idle connections time out; every front-end connection is counted as a full handshake every 5 minutes (the bundle writes no-tls-tickets, so no ticket resumption)";
    HAPROXY_REQUESTS_PER_USER_S = "haproxy-requests-per-user-second", "HTTPS requests per concurrent user per second", 1.0, "requests/s",
        "assumption: a /sync long-poll returns at least every 30 s and at once on new events, plus sends, receipts, typing and media: generous at one a second per concurrent user";
    COTURN_CALLS_PER_VCPU = "coturn-calls-per-vcpu", "Relayed calls one vCPU of coturn carries", 1000.0, "calls",
        "coturn README: \"can handle thousands simultaneous calls per CPU (when TURN protocol is used)\"; the low end of \"thousands\". coturn publishes no figure per relayed bitrate: see coturn-mbps-per-vcpu";
    COTURN_MBPS_PER_VCPU = "coturn-mbps-per-vcpu", "Relayed traffic (in + out) one vCPU of coturn carries", 256.0, "Mbit/s",
        "assumption derived from coturn's README figure, which is for voice calls: 1,000 calls × 2 parties × 2 directions × 64 kbit/s ≈ 256 Mbit/s a CPU; video packets are larger, so this is conservative per bit. No public benchmark per bitrate was found";
    LIVEKIT_VIDEO_TRACKS_PER_VCPU = "livekit-video-tracks-per-vcpu", "Forwarded video tracks one vCPU of LiveKit carries", 1640.0, "tracks",
        "LiveKit docs, Self-hosting › Benchmarks: 'Large meeting', 150 publishers × 150 subscribers at 85 % CPU of a 16-core c2-standard-16: 150 × 149 = 22,350 forwarded video tracks / (16 × 0.85) = 1,643 a vCPU, rounded down";
    LIVEKIT_AUDIO_TRACKS_PER_VCPU = "livekit-audio-tracks-per-vcpu", "Forwarded audio tracks one vCPU of LiveKit carries", 2340.0, "tracks",
        "LiveKit docs, Self-hosting › Benchmarks: 'Large audio rooms', 10 publishers × 3,000 subscribers at 80 % CPU of a c2-standard-16: 30,000 forwarded audio tracks / (16 × 0.8) = 2,344 a vCPU, rounded down";
    LIVEKIT_REDIS_VCPUS = "livekit-redis-vcpus", "LiveKit's Redis", 0.25, "vCPUs",
        "assumption: LiveKit keeps room and node state in Redis, a few operations per participant event, on Redis's one main thread";
    PROMETHEUS_VCPUS = "prometheus-vcpus", "Prometheus, Grafana and Alertmanager", 1.0, "vCPUs",
        "assumption: the plan's series scraped every 15 s are a few thousand samples a second, far below what one core ingests; Prometheus publishes no per-core figure, so one core is a floor";
    BACKUP_VCPUS = "backup-host-vcpus", "pgBackRest repository and the media rsync", 1.5, "vCPUs",
        "pgBackRest configuration reference: process-max, \"max processes to use for compress/transfer\" (default 1): at least one core compressing while a backup runs (the bundle lets a backup use the host's vCPUs, at most 4); rsync is one process checksumming files (half a core, assumption)";
    OS_RESERVE_VCPUS = "os-reserve-vcpus", "Operating system, Docker daemon, node exporter", 0.5, "vCPUs",
        "assumption: journald, chrony, dockerd and node_exporter (one scrape every 15 s) use a fraction of a core";
    CPU_FAR_SHORT_FACTOR = "cpu-far-short-factor", "Load on a host, as a multiple of its vCPUs, beyond which it cannot keep up", 2.0, "×",
        "assumption: at full load each vCPU would have to do the work of two; requests queue without bound (latency grows until clients time out) rather than slow down evenly";
}

/// Element's ESS sizing, CPU per registered-user band (1–500, 501–2,500, 2,501–10,000)
/// and federation (none, small, open): a published table, fixed.
pub const ESS_BAND_USERS: [u64; 3] = [500, 2500, 10000];
/// The homeserver's CPU ("the maximum cpu cores the Homeserver can request").
pub const ESS_SYNAPSE_CPU: [[u64; 3]; 3] = [[2, 6, 10], [2, 6, 10], [5, 9, 15]];
/// The Synapse PostgreSQL server's CPU.
pub const ESS_POSTGRES_CPU: [[u64; 3]; 3] = [[1, 2, 4], [2, 4, 8], [3, 5, 10]];
pub const ESS_CPU_SOURCE: &str = "Element's ESS sizing (ems-docs.element.io, Element Server Suite LTS 23.10, 'ESS Sizing', CPU & Memory): Synapse 2 / 6 / 10 CPU for 1–500 / 501–2,500 / 2,501–10,000 users (unfederated or small federation), 5 / 9 / 15 with open federation; PostgreSQL 1 / 2 / 4 CPU unfederated, 2 / 4 / 8 small federation, 3 / 5 / 10 open federation; no band above 10,000 users";

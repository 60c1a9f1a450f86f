//! File-descriptor allowances (`sizing::descriptors`): what a service holds besides the
//! connections the plan drives. Fixed (not plan fields); listed with the others.

use super::Assumption;

assumptions! {
    group DESCRIPTORS;
    HAPROXY_OWN_FDS = "haproxy-own-fds", "HAProxy's file descriptors besides two per connection", 1000.0, "files",
        "HAProxy 2.6 src/haproxy.c compute_ideal_maxsock: 10 reserved, one per listener and per health-checked server, the stats socket's 10 connections, 3 per thread (at most 64 threads: 192); management guide §5: \"doubling the maxconn value and adding a few tens\". Measured: HAProxy 2.6.12's Maxsock is 43 to 80 above 2 × maxconn with the bundle's haproxy.cfg (tests/validate_edge.rs checks it stays within this)";
    PG_FILES_PER_PROCESS = "pg-files-per-process", "Files one PostgreSQL process keeps open at most", 1000.0, "files",
        "PostgreSQL docs, Resource Consumption: max_files_per_process, default 1000; the bundle leaves it at its default";
    PG_AUX_PROCESSES = "pg-aux-processes", "PostgreSQL processes besides backends, autovacuum workers and worker processes", 20.0, "processes",
        "assumption: postmaster, checkpointer, background writer, WAL writer, WAL senders to the standbys, archiver, autovacuum and logical replication launchers: about a dozen on a Patroni primary, rounded up";
    LIVEKIT_OWN_FDS = "livekit-own-fds", "LiveKit's file descriptors besides its participants'", 1000.0, "files",
        "assumption: listeners (HTTP, RTC over TCP, metrics), the Redis connection pool and the Go runtime's epoll and pipes: tens; 1,000 as for HAProxy";
}

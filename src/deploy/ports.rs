//! Ports every generated file agrees on. A port appears here once; files refer to it
//! by name, and the cross-file test checks the pairs.

/// sshd on every host (operators, Ansible, pgBackRest, the media backup).
pub const SSH: u16 = 22;
/// chrony's NTP server on the monitoring host (UDP).
pub const NTP: u16 = 123;
/// HAProxy's public front ends.
pub const HTTPS: u16 = 443;
pub const HTTP: u16 = 80;
pub const FEDERATION: u16 = 8448;
/// HAProxy on the VIP → the current Patroni primary (checked with GET /primary).
pub const PG_PRIMARY: u16 = 5432;
/// HAProxy on the VIP → the Patroni replicas (GET /replica), read-only.
pub const PG_REPLICAS: u16 = 5433;
/// HAProxy stats page and its Prometheus endpoint (/metrics).
pub const HAPROXY_STATS: u16 = 8404;
/// The playbook's Traefik, TLS off, bound on the Synapse host's private address
/// (configuring-playbook-own-webserver.md, "Fronting the integrated reverse-proxy").
pub const SYNAPSE_WEB: u16 = 81;
/// The playbook's federation entrypoint, TLS off, same document.
pub const SYNAPSE_FEDERATION: u16 = 8449;
pub const PGBOUNCER: u16 = 6432;
pub const POSTGRES: u16 = 5432;
/// Patroni's REST API (health checks: /primary, /replica).
pub const PATRONI_REST: u16 = 8008;
pub const ETCD_CLIENT: u16 = 2379;
pub const ETCD_PEER: u16 = 2380;
pub const MINIO_API: u16 = 9000;
pub const MINIO_CONSOLE: u16 = 9001;
pub const TURN: u16 = 3478;
pub const TURNS: u16 = 5349;
pub const LIVEKIT_HTTP: u16 = 7880;
pub const LIVEKIT_RTC_TCP: u16 = 7881;
pub const LIVEKIT_REDIS: u16 = 6379;
pub const LIVEKIT_METRICS: u16 = 6789;
pub const PROMETHEUS: u16 = 9090;
pub const ALERTMANAGER: u16 = 9093;
pub const GRAFANA: u16 = 3000;
/// Exporters.
pub const NODE_EXPORTER: u16 = 9100;
pub const POSTGRES_EXPORTER: u16 = 9187;
pub const PGBOUNCER_EXPORTER: u16 = 9127;
pub const REDIS_EXPORTER: u16 = 9121;
/// The blackbox exporter on the monitoring host, loopback only (its default port):
/// probes coturn (Debian's coturn has no metrics) and the TLS certificates' expiry.
pub const BLACKBOX: u16 = 9115;
/// certbot's standalone HTTP-01 server on the HAProxy node's loopback; HAProxy sends
/// /.well-known/acme-challenge/ there.
pub const ACME_HTTP01: u16 = 8888;
/// Synapse's main-process metrics listener, published on the Synapse host.
/// 9100 inside the container (matrix_synapse_metrics_port) would clash with
/// node_exporter on the host, so it is published as 9200.
pub const SYNAPSE_MAIN_METRICS: u16 = 9200;

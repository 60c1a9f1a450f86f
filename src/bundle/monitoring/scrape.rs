//! The scrape jobs and their targets, in prometheus.yml's order (the module doc of
//! `monitoring` says which labels they carry). prometheus.rs writes them; the rules and
//! tests read them.

use super::blackbox::{
    BLACKBOX, JOB_TURN, JOB_TURNS, JOB_VIP_TLS, MODULE_HTTPS_TLS, MODULE_TURN_TCP, MODULE_TURNS_TLS,
};
use crate::bundle::{Ctx, objectstore};
use crate::deploy::workers::{self, Worker};
use crate::deploy::{Host, ports};
use crate::plan::Role;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// `ip:port`: addresses, not names, so scraping does not depend on name resolution.
    pub address: String,
    pub labels: Vec<(&'static str, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub name: &'static str,
    pub metrics_path: &'static str,
    /// A blackbox probe job: the module; `targets` are the probed addresses, scraped
    /// through the local blackbox exporter.
    pub probe: Option<&'static str>,
    pub basic_auth: bool,
    pub targets: Vec<Target>,
    pub why: &'static str,
}

fn host_target(h: &Host, port: u16) -> Target {
    Target {
        address: format!("{}:{port}", h.ip),
        labels: vec![("instance", h.fqdn.clone())],
    }
}

/// The playbook's worker type (`sync_worker`, `stream_writer`) and the worker's number.
pub fn worker_type_and_index(w: &Worker) -> (String, String) {
    if w.stream.is_some() {
        // stream-writer-<idx>-<stream>
        let idx = w.id.split('-').nth(2).unwrap_or("0");
        return ("stream_writer".to_string(), idx.to_string());
    }
    match w.id.rsplit_once('-') {
        Some((kind, n)) => (kind.replace('-', "_"), n.to_string()),
        None => (w.id.replace('-', "_"), "0".to_string()),
    }
}

/// Every scrape job and its targets, in prometheus.yml's order.
pub fn scrape_jobs(ctx: &Ctx) -> Vec<Job> {
    let mut jobs = Vec::new();
    jobs.extend(synapse_job(ctx));
    jobs.extend(cluster_jobs(ctx));
    jobs.extend(probe_jobs(ctx));
    jobs.extend(call_jobs(ctx));
    jobs.extend(monitoring_jobs(ctx));
    jobs
}

/// The targets of `role`'s hosts on `port`.
fn on(ctx: &Ctx, role: Role, port: u16) -> Vec<Target> {
    ctx.hosts(role).map(|h| host_target(h, port)).collect()
}

/// Every Synapse process, with the labels of Synapse's dashboard.
fn synapse_job(ctx: &Ctx) -> Option<Job> {
    let s = ctx.topology.first(Role::Synapse)?;
    let mut targets = vec![Target {
        address: format!("{}:{}", s.ip, ports::SYNAPSE_MAIN_METRICS),
        labels: vec![
            ("instance", s.fqdn.clone()),
            ("job", "master".to_string()),
            ("index", "0".to_string()),
        ],
    }];
    for w in workers::workers(ctx.plan) {
        let (kind, index) = worker_type_and_index(&w);
        targets.push(Target {
            address: format!("{}:{}", s.ip, w.metrics_port),
            labels: vec![
                ("instance", s.fqdn.clone()),
                ("job", kind),
                ("index", index),
                ("worker_id", w.id.clone()),
            ],
        });
    }
    Some(Job {
        name: "synapse",
        metrics_path: "/_synapse/metrics",
        basic_auth: false,
        probe: None,
        targets,
        why: "every Synapse process; `job` is overridden per target (master / worker type) as Synapse's dashboard expects",
    })
}

/// node_exporter everywhere, the database's, HAProxy's and MinIO's exporters.
fn cluster_jobs(ctx: &Ctx) -> Vec<Job> {
    let t = &ctx.topology;
    vec![
        Job {
            name: "node",
            metrics_path: "/metrics",
            basic_auth: false,
            probe: None,
            targets: t
                .hosts
                .iter()
                .map(|h| host_target(h, ports::NODE_EXPORTER))
                .collect(),
            why: "node_exporter on every host (Debian prometheus-node-exporter)",
        },
        Job {
            name: "postgres",
            metrics_path: "/metrics",
            basic_auth: false,
            probe: None,
            targets: on(ctx, Role::Patroni, ports::POSTGRES_EXPORTER),
            why: "postgres_exporter on every Patroni node (role postgres_exporter, pg_monitor)",
        },
        Job {
            name: "patroni",
            metrics_path: "/metrics",
            basic_auth: false,
            probe: None,
            targets: on(ctx, Role::Patroni, ports::PATRONI_REST),
            why: "Patroni's REST API /metrics (GET needs no auth)",
        },
        Job {
            name: "etcd",
            metrics_path: "/metrics",
            basic_auth: false,
            probe: None,
            targets: on(ctx, Role::Patroni, ports::ETCD_CLIENT),
            why: "etcd's client port serves /metrics (Patroni's DCS, on the Patroni hosts)",
        },
        Job {
            name: "pgbouncer",
            metrics_path: "/metrics",
            basic_auth: false,
            probe: None,
            targets: on(ctx, Role::Synapse, ports::PGBOUNCER_EXPORTER),
            why: "Debian's prometheus-pgbouncer-exporter next to PgBouncer on the Synapse host",
        },
        Job {
            name: "haproxy",
            metrics_path: "/metrics",
            basic_auth: true,
            probe: None,
            targets: on(ctx, Role::Haproxy, ports::HAPROXY_STATS),
            why: "HAProxy's built-in Prometheus exporter on each HAProxy host",
        },
        Job {
            name: "haproxy-vip",
            metrics_path: "/metrics",
            basic_auth: true,
            probe: None,
            targets: vec![Target {
                address: format!("{}:{}", t.vip, ports::HAPROXY_STATS),
                labels: vec![("instance", format!("vip.{}", t.suffix))],
            }],
            why: "the same endpoint through the keepalived VIP: down = no host holds the VIP (or its HAProxy is down); its process start time changes when the VIP moves",
        },
        Job {
            name: objectstore::PROMETHEUS_JOB,
            metrics_path: "/minio/v2/metrics/cluster",
            basic_auth: false,
            probe: None,
            targets: on(ctx, Role::Minio, ports::MINIO_API),
            why: "MinIO cluster metrics from every node (MINIO_PROMETHEUS_AUTH_TYPE=public), so losing one node loses no metrics; rules aggregate with max/min",
        },
    ]
}

/// Blackbox probes (module doc: coturn has no metrics endpoint in Debian 12).
fn probe_jobs(ctx: &Ctx) -> Vec<Job> {
    let t = &ctx.topology;
    let mut jobs = Vec::new();
    if ctx.hosts(Role::Coturn).next().is_some() {
        jobs.push(Job {
            name: JOB_TURN,
            metrics_path: "/probe",
            basic_auth: false,
            probe: Some(MODULE_TURN_TCP),
            targets: on(ctx, Role::Coturn, ports::TURN),
            why: "blackbox probe: coturn accepts TCP on its TURN port (listening-port) on every coturn host",
        });
        jobs.push(Job {
            name: JOB_TURNS,
            metrics_path: "/probe",
            basic_auth: false,
            probe: Some(MODULE_TURNS_TLS),
            targets: on(ctx, Role::Coturn, ports::TURNS),
            why: "blackbox probe: TLS handshake with coturn's TURN-over-TLS port (tls-listening-port), the server name's certificate and its expiry",
        });
    }
    jobs.push(Job {
        name: JOB_VIP_TLS,
        metrics_path: "/probe",
        basic_auth: false,
        probe: Some(MODULE_HTTPS_TLS),
        targets: [ports::HTTPS, ports::FEDERATION]
            .into_iter()
            .map(|port| Target {
                address: format!("{}:{port}", t.vip),
                labels: vec![("instance", format!("vip.{}", t.suffix))],
            })
            .collect(),
        why: "blackbox probe: TLS handshake with HAProxy on the VIP (clients 443, federation 8448) with the server name as SNI: HAProxy's certificate and its expiry",
    });
    jobs
}

/// LiveKit and its Redis, with LiveKit hosts.
fn call_jobs(ctx: &Ctx) -> Vec<Job> {
    if ctx.hosts(Role::Livekit).next().is_none() {
        return Vec::new();
    }
    vec![
        Job {
            name: "livekit",
            metrics_path: "/metrics",
            basic_auth: false,
            probe: None,
            targets: on(ctx, Role::Livekit, ports::LIVEKIT_METRICS),
            why: "LiveKit's prometheus_port on every SFU",
        },
        Job {
            name: "redis",
            metrics_path: "/metrics",
            basic_auth: false,
            probe: None,
            targets: ctx
                .topology
                .first(Role::Livekit)
                .map(|h| vec![host_target(h, ports::REDIS_EXPORTER)])
                .unwrap_or_default(),
            why: "redis_exporter for LiveKit's Redis on the first LiveKit host",
        },
    ]
}

/// The monitoring host's own services.
fn monitoring_jobs(ctx: &Ctx) -> Vec<Job> {
    let mon: Vec<&Host> = ctx.hosts(Role::Monitoring).collect();
    vec![
        Job {
            name: "alertmanager",
            metrics_path: "/metrics",
            basic_auth: false,
            probe: None,
            targets: mon
                .iter()
                .map(|h| host_target(h, ports::ALERTMANAGER))
                .collect(),
            why: "Alertmanager",
        },
        Job {
            name: "blackbox",
            metrics_path: "/metrics",
            basic_auth: false,
            probe: None,
            targets: mon
                .iter()
                .map(|h| Target {
                    address: format!("127.0.0.1:{BLACKBOX}"),
                    labels: vec![("instance", h.fqdn.clone())],
                })
                .collect(),
            why: "the blackbox exporter itself (loopback only); down = every probe job above is blind",
        },
        Job {
            name: "prometheus",
            metrics_path: "/metrics",
            basic_auth: false,
            probe: None,
            targets: mon
                .iter()
                .map(|h| host_target(h, ports::PROMETHEUS))
                .collect(),
            why: "Prometheus itself",
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::super::blackbox::{PROBE_JOBS, probe_modules};
    use super::super::plans::minimal;
    use super::*;
    use crate::bundle::with_ctx;
    use crate::plan::Plan;

    /// Targets = Synapse processes + node exporters (every host) + 3 per Patroni host
    /// (postgres_exporter, Patroni, etcd) + pgbouncer_exporter + HAProxy hosts + the
    /// VIP + MinIO nodes + 2 probes per coturn host (TURN, TURN over TLS) + 2 TLS probes
    /// of the VIP (443, 8448) + LiveKit nodes + redis_exporter (with LiveKit) +
    /// Alertmanager + the blackbox exporter + Prometheus.
    fn check_targets(plan: &Plan, want: usize) {
        with_ctx(plan, |ctx| {
            let p = |r| plan.host(r).count as usize;
            let hosts: usize = Role::ALL.iter().map(|&r| p(r)).sum();
            let expected = plan.synapse_process_count() as usize
                + hosts
                + 3 * p(Role::Patroni)
                + 1
                + p(Role::Haproxy)
                + 1
                + p(Role::Minio)
                + 2 * p(Role::Coturn)
                + 2
                + p(Role::Livekit)
                + usize::from(p(Role::Livekit) > 0)
                + 3;
            let got: usize = scrape_jobs(ctx).iter().map(|j| j.targets.len()).sum();
            assert_eq!(got, expected);
            assert_eq!(got, want);
        });
    }

    #[test]
    fn target_counts() {
        // Seed: 20 processes + 16 hosts + 9 + 1 + 2 + 1 + 4 + 4 + 2 + 2 + 1 + 3 = 65.
        check_targets(&Plan::default(), 65);
        // Minimal: 1 + 6 hosts + 3 + 1 + 1 + 1 + 1 + 0 + 2 + 0 + 0 + 3 = 19.
        check_targets(&minimal(), 19);
    }

    /// Probe jobs of a plan: (job, module, probed addresses, instance labels).
    fn check_probes(plan: &Plan, want: &[(&str, &str, &[&str], &[&str])]) {
        with_ctx(plan, |ctx| {
            let jobs = scrape_jobs(ctx);
            let got: Vec<(&str, &str, Vec<&str>, Vec<&str>)> = jobs
                .iter()
                .filter_map(|j| {
                    let m = j.probe?;
                    Some((
                        j.name,
                        m,
                        j.targets.iter().map(|t| t.address.as_str()).collect(),
                        j.targets
                            .iter()
                            .flat_map(|t| t.labels.iter())
                            .filter(|(k, _)| *k == "instance")
                            .map(|(_, v)| v.as_str())
                            .collect(),
                    ))
                })
                .collect();
            let want: Vec<(&str, &str, Vec<&str>, Vec<&str>)> = want
                .iter()
                .map(|(j, m, a, i)| (*j, *m, a.to_vec(), i.to_vec()))
                .collect();
            assert_eq!(got, want);
            let modules: Vec<&str> = probe_modules().iter().map(|m| m.name).collect();
            for j in &jobs {
                assert_eq!(
                    j.probe.is_some(),
                    PROBE_JOBS.contains(&j.name),
                    "{}",
                    j.name
                );
                assert_eq!(j.probe.is_some(), j.metrics_path == "/probe", "{}", j.name);
                if let Some(m) = j.probe {
                    assert!(modules.contains(&m), "{m}");
                }
                // Nothing scrapes coturn's 9641: Debian 12's coturn has no exporter.
                assert!(
                    j.targets.iter().all(|t| !t.address.ends_with(":9641")),
                    "{}",
                    j.name
                );
            }
            let bb = jobs.iter().find(|j| j.name == "blackbox").unwrap();
            assert_eq!(bb.targets[0].address, "127.0.0.1:9115");
        });
    }

    #[test]
    fn probes() {
        check_probes(
            &Plan::default(),
            &[
                (
                    "coturn-turn",
                    "turn_tcp",
                    &["10.0.1.109:3478", "10.0.1.110:3478"],
                    &["coturn1.internal", "coturn2.internal"],
                ),
                (
                    "coturn-turns",
                    "turns_tls",
                    &["10.0.1.109:5349", "10.0.1.110:5349"],
                    &["coturn1.internal", "coturn2.internal"],
                ),
                (
                    "vip-tls",
                    "https_tls",
                    &["10.0.1.10:443", "10.0.1.10:8448"],
                    &["vip.internal", "vip.internal"],
                ),
            ],
        );
        // No coturn: only the VIP's TLS is probed.
        check_probes(
            &minimal(),
            &[(
                "vip-tls",
                "https_tls",
                &["10.0.1.10:443", "10.0.1.10:8448"],
                &["vip.internal", "vip.internal"],
            )],
        );
    }

    #[test]
    fn synapse_labels_follow_the_dashboard_scheme() {
        with_ctx(&Plan::default(), |ctx| {
            let jobs = scrape_jobs(ctx);
            let syn = &jobs[0];
            let row = |i: usize| -> Vec<String> {
                let t = &syn.targets[i];
                let mut v = vec![t.address.clone()];
                v.extend(t.labels.iter().map(|(k, v)| format!("{k}={v}")));
                v
            };
            assert_eq!(
                row(0),
                [
                    "10.0.1.27:9200",
                    "instance=synapse.internal",
                    "job=master",
                    "index=0"
                ]
            );
            assert_eq!(
                row(3),
                [
                    "10.0.1.27:29212",
                    "instance=synapse.internal",
                    "job=sync_worker",
                    "index=1",
                    "worker_id=sync-worker-1"
                ]
            );
            assert_eq!(
                row(10),
                [
                    "10.0.1.27:19214",
                    "instance=synapse.internal",
                    "job=stream_writer",
                    "index=3",
                    "worker_id=stream-writer-3-to_device"
                ]
            );
            // Every metrics port once.
            let mut seen = std::collections::BTreeSet::new();
            for t in &syn.targets {
                assert!(seen.insert(t.address.clone()), "{}", t.address);
            }
        });
    }

    #[test]
    fn worker_types() {
        with_ctx(&Plan::default(), |ctx| {
            let w = workers::workers(ctx.plan);
            let got: Vec<(String, String)> = w.iter().map(worker_type_and_index).collect();
            assert_eq!(got[0], ("room_worker".to_string(), "0".to_string()));
            assert_eq!(got[6], ("stream_writer".to_string(), "0".to_string()));
            assert_eq!(got[14], ("federation_sender".to_string(), "0".to_string()));
            assert_eq!(got[16], ("user_dir".to_string(), "0".to_string()));
            assert_eq!(got[17], ("media_repository".to_string(), "0".to_string()));
        });
    }
}

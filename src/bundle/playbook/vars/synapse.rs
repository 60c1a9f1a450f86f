//! vars.yml's Synapse sections: workers and Valkey, caches, rooms, presence and
//! logging, and the settings without a variable (the extension).

use super::super::super::Host;
use super::super::extension::extension_yaml;
use super::Builder;
use crate::plan::{Plan, WorkerKind};
use crate::sizing::Gib;
use crate::syntax::yaml::Node;

/// Seed §3 "Room Complexity Limits".
const SEED_ROOM_COMPLEXITY: f64 = 3.0;
/// Seed §3 "Cache Expiry Settings".
const SEED_CACHE_ENTRY_TTL: &str = "30m";
const SEED_SYNC_RESPONSE_CACHE: &str = "5m";

/// Bytes of a [`Gib`] figure (hundredths of a GiB), for the playbook's cache
/// auto-tuning variables, which the template passes through `| int`.
fn gib_bytes(g: Gib) -> u64 {
    let bytes = u128::from(g.0) * (1u128 << 30) / 100;
    u64::try_from(bytes).unwrap_or(u64::MAX)
}

/// Presence on iff the plan gives it a stream writer: the seed turns presence off for
/// load; a plan that plans a presence writer wants it.
fn presence_enabled(plan: &Plan) -> bool {
    plan.workers(WorkerKind::StreamWriterPresence) > 0
}

/// Valkey runs when the plan asks for Redis, and always with workers: Synapse workers
/// cannot run without it (the planner reports `workers-without-redis` for such plans).
fn valkey_enabled(plan: &Plan) -> bool {
    plan.synapse.redis || plan.worker_count() > 0
}

/// Every `matrix_synapse_workers_*_count` variable with its count, in the playbook's
/// stream order; the two stream writers the plan has no key for are 0.
fn worker_counts(plan: &Plan) -> Vec<(&'static str, u64)> {
    let mut out: Vec<(&'static str, u64)> = WorkerKind::ALL
        .iter()
        .map(|&k| (k.playbook_count_var(), plan.workers(k)))
        .collect();
    out.push((
        "matrix_synapse_workers_stream_writer_thread_subscriptions_stream_workers_count",
        0,
    ));
    out.push((
        "matrix_synapse_workers_stream_writer_quarantined_media_changes_stream_workers_count",
        0,
    ));
    out
}

pub(super) fn workers(b: &mut Builder, synapse: &Host) {
    let plan = b.ctx.plan;
    let n = plan.worker_count();
    b.section("Synapse workers and Valkey");
    b.var_owned(
        "valkey_enabled",
        valkey_enabled(plan),
        if plan.worker_count() > 0 && !plan.synapse.redis {
            vec![
                "The playbook's Valkey (Synapse's Redis) on this host, reached over a Unix socket."
                    .into(),
                "On although the plan turns Redis off: workers cannot run without it.".into(),
            ]
        } else if valkey_enabled(plan) {
            vec![
                "The playbook's Valkey (Synapse's Redis) on this host, reached over a Unix socket;"
                    .into(),
                "matrix_synapse_redis_* follow it (group_vars). Workers require it.".into(),
            ]
        } else {
            vec!["No Valkey: the plan has no workers and no Redis.".into()]
        },
    );
    b.var_owned(
        "matrix_synapse_workers_enabled",
        n > 0,
        vec![if n == 0 {
            "No workers: the main process does everything.".to_string()
        } else {
            format!(
                "{} + the main process = {} Synapse processes.",
                crate::format::plural(n as usize, "worker", "workers"),
                plan.synapse_process_count()
            )
        }],
    );
    let counts = worker_counts(plan);
    let last = counts.len().saturating_sub(1);
    for (i, (var, count)) in counts.into_iter().enumerate() {
        let why: Vec<String> = if i == 0 {
            vec![
                "Every count is set, so no preset (matrix_synapse_workers_preset) leaks in. Names and".into(),
                "ports follow from these counts (shared/reference/worker-port-scheme.tsv); the bundle's".into(),
                "Prometheus and health checks use the same list.".into(),
            ]
        } else if i == last - 1 {
            vec![
                "Stream writers the plan has no key for: thread subscriptions (MSC4306, unstable)"
                    .into(),
                "and quarantined-media changes stay on the main process.".into(),
            ]
        } else {
            Vec::new()
        };
        b.var_owned(var, count, why);
    }
    if n > 0 {
        b.var_owned(
            "matrix_synapse_workers_container_host_bind_address",
            synapse.ip.to_string(),
            vec![
                "Publishes each worker's metrics port (and its HTTP port, if it has one) on the"
                    .into(),
                "private address, for Prometheus on the monitoring host.".into(),
            ],
        );
    }
}

pub(super) fn caches(b: &mut Builder) {
    let plan = b.ctx.plan;
    let syn = &b.ctx.report.synapse;
    let (max, target, min_ttl) = (
        syn.cache_autotuning_max_gib,
        syn.cache_autotuning_target_gib,
        syn.cache_autotuning_min_ttl,
    );
    b.section("Caches");
    b.var_owned(
        "matrix_synapse_caches_global_factor",
        Node::Float(plan.synapse.cache_factor),
        vec![
            "The plan's cache factor. It scales entry counts, not bytes (event_cache_size 100K x factor".into(),
            "events, other caches their own sizes x factor); memory is bounded by the auto-tuning below.".into(),
            format!(
                "The budget: {} GiB for all Synapse processes, {} GiB for the busiest.",
                syn.ram_total_gib, syn.ram_per_process_gib
            ),
        ],
    );
    b.var("matrix_synapse_caches_expire_caches", true, &[]);
    b.var(
        "matrix_synapse_caches_cache_entry_ttl",
        SEED_CACHE_ENTRY_TTL,
        &[
            "Seed §3: entries unused for 30 minutes are dropped (the playbook's default is 1080m).",
            "Memory is bounded by the auto-tuning below either way.",
        ],
    );
    b.var(
        "matrix_synapse_caches_sync_response_cache_duration",
        SEED_SYNC_RESPONSE_CACHE,
        &["Seed §3: a /sync answer is kept 5 minutes for clients that retry on flaky links."],
    );
    b.var_owned(
        "matrix_synapse_cache_autotuning_max_cache_memory_usage",
        gib_bytes(max),
        vec![
            format!(
                "= {max} GiB in bytes (the template passes it through | int). Every 30 s Synapse compares it"
            ),
            "with the whole process's jemalloc-allocated memory, not the caches alone, and evicts above".into(),
            "it (synapse/util/caches/lrucache.py _expire_old_entries; jemalloc is in the image). The".into(),
            "largest working set one process is expected to hold, at most the playbook's min(RAM / 8,".into(),
            format!(
                "2 GiB): a process is held near {} GiB (this + its base), the busiest one's budget.",
                syn.process_bound_gib
            ),
        ],
    );
    b.var_owned(
        "matrix_synapse_cache_autotuning_target_cache_memory_usage",
        gib_bytes(target),
        vec![format!(
            "= {target} GiB: evict until the process is below half the maximum, the playbook's own ratio."
        )],
    );
    b.var_owned(
        "matrix_synapse_cache_autotuning_min_cache_ttl",
        min_ttl,
        vec!["Entries younger than this survive eviction (the playbook's default).".into()],
    );
}

pub(super) fn rooms_presence_logging(b: &mut Builder) {
    let plan = b.ctx.plan;
    let presence = presence_enabled(plan);
    b.section("Rooms, presence, logging");
    b.var(
        "matrix_synapse_limit_remote_rooms_enabled",
        true,
        &[
            "Seed §3: refuse to join remote rooms above a state complexity (state events / 500),",
            "through the playbook's variables (homeserver.yaml limit_remote_rooms).",
        ],
    );
    b.var(
        "matrix_synapse_limit_remote_rooms_complexity",
        SEED_ROOM_COMPLEXITY,
        &["Seed §3 (about 1,500 state events); raise it if users must join bigger rooms."],
    );
    b.var_owned(
        "matrix_synapse_presence_enabled",
        presence,
        if presence {
            vec![
                "On: the plan gives presence its own stream writer, so it is wanted and has a"
                    .into(),
                "process to carry it.".into(),
            ]
        } else {
            vec![
                "Off (seed §3): presence costs much with many users online, and the plan gives it"
                    .into(),
                "no stream writer. Plan one to turn presence on.".into(),
            ]
        },
    );
    b.var(
        "matrix_synapse_log_level",
        "INFO",
        &[
            "Seed §3: INFO, one line per request; DEBUG only to troubleshoot (it logs tokens).",
            "Synapse logs to journald through its systemd units.",
        ],
    );
    b.var(
        "matrix_synapse_storage_sql_log_level",
        "WARNING",
        &["SQL statements stay quiet (DEBUG here would log access tokens)."],
    );
    b.var(
        "matrix_synapse_root_log_level",
        "WARNING",
        &["Libraries other than Synapse: warnings only."],
    );
}

pub(super) fn extension(b: &mut Builder) {
    let text = extension_yaml(b.ctx.plan);
    b.section("Synapse settings without a playbook variable");
    b.var(
        "matrix_synapse_configuration_extension_yaml",
        Node::Block(text),
        &["Merged by the playbook with combine(recursive=True) over its homeserver.yaml."],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::super::tests::{plan, value_of, vars_of};
    use crate::report::Report;

    #[test]
    fn cache_autotuning_is_the_report_in_bytes() {
        for (g, bytes) in [
            (Gib(500), 5_368_709_120),
            (Gib(250), 2_684_354_560),
            (Gib(25), 268_435_456),
            (Gib(0), 0),
        ] {
            assert_eq!(gib_bytes(g), bytes, "{g}");
        }
        for (name, edits) in [
            ("seed", vec![]),
            ("factor 4", vec![("synapse.cache-factor", "4")]),
            ("factor 0.5", vec![("synapse.cache-factor", "0.5")]),
        ] {
            let p = plan(&edits);
            let r = Report::new(&p);
            let vars = vars_of(&p);
            let max = value_of(
                &vars,
                "matrix_synapse_cache_autotuning_max_cache_memory_usage",
            );
            let target = value_of(
                &vars,
                "matrix_synapse_cache_autotuning_target_cache_memory_usage",
            );
            let parsed: serde_yaml::Value = serde_yaml::from_str(&vars).expect("vars.yml");
            let ttl = parsed["matrix_synapse_cache_autotuning_min_cache_ttl"].as_str();
            assert_eq!(
                max,
                Some(gib_bytes(r.synapse.cache_autotuning_max_gib).to_string()),
                "{name}"
            );
            assert_eq!(
                target,
                Some(gib_bytes(r.synapse.cache_autotuning_target_gib).to_string()),
                "{name}"
            );
            assert_eq!(ttl, Some(r.synapse.cache_autotuning_min_ttl), "{name}");
        }
    }

    #[test]
    fn decisions_per_plan() {
        // (edits, presence, valkey, workers enabled)
        type Row<'a> = (&'a [(&'a str, &'a str)], bool, bool, bool);
        let rows: &[Row] = &[
            (&[], false, true, true),
            (
                &[("synapse.workers.stream-writer-presence", "1")],
                true,
                true,
                true,
            ),
            (&[("synapse.redis", "false")], false, true, true),
        ];
        for (edits, presence, valkey, workers) in rows {
            let p = plan(edits);
            assert_eq!(presence_enabled(&p), *presence, "{edits:?}");
            assert_eq!(valkey_enabled(&p), *valkey, "{edits:?}");
            let vars = vars_of(&p);
            assert_eq!(
                value_of(&vars, "matrix_synapse_presence_enabled"),
                Some(presence.to_string())
            );
            assert_eq!(value_of(&vars, "valkey_enabled"), Some(valkey.to_string()));
            assert_eq!(
                value_of(&vars, "matrix_synapse_workers_enabled"),
                Some(workers.to_string())
            );
        }
    }

    #[test]
    fn every_worker_count_is_set_including_the_unplanned_streams() {
        let vars = vars_of(&Plan::default());
        for kind in WorkerKind::ALL {
            assert_eq!(
                value_of(&vars, kind.playbook_count_var()),
                Some(Plan::default().workers(kind).to_string()),
                "{kind:?}"
            );
        }
        for var in [
            "matrix_synapse_workers_stream_writer_thread_subscriptions_stream_workers_count",
            "matrix_synapse_workers_stream_writer_quarantined_media_changes_stream_workers_count",
        ] {
            assert_eq!(value_of(&vars, var), Some("0".to_string()), "{var}");
        }
    }
}

//! "How was this computed?": one or two sentences for every figure of the report, with
//! the formula, the plan's own numbers put in, and the source.
//!
//! [`explain`] takes a report path (the `data-metric` the page tags each figure with,
//! the key the CLI's JSON prints) and answers for the sections of the budgets engine
//! itself (`synapse.*`, `hosts[i].*`, `connections.*`, `postgres.parameters.*`,
//! `summary.*`); the storage, object-storage, calls and failures sections answer
//! through their own modules' `explain`. Plain inputs echoed back (a host count, a
//! label, a finding's text) have no explanation: the figure table (`report::figures`)
//! marks them inputs ([`is_input_echo`]).

use crate::assumptions::{self as a, Assumption};
use crate::format::group;
use crate::plan::{Plan, Role, WorkerKind};
use crate::report::{Report, figures};
use crate::sizing::{self, Gib};

/// How the figure at `path` was computed; None for a plain input echoed back, a text,
/// or a path the report does not have.
pub fn explain(plan: &Plan, report: &Report, path: &str) -> Option<String> {
    let (head, rest) = split_head(path);
    match head {
        "storage" => sizing::storage::explain(plan, &report.storage, rest.strip_prefix('.')?),
        "object-storage" => {
            sizing::objectstore::explain(plan, &report.object_storage, rest.strip_prefix('.')?)
        }
        "calls" => sizing::calls::explain(plan, &report.calls, rest.strip_prefix('.')?),
        "failures" => sizing::failures::explain(plan, &report.failures, rest),
        _ => budgets(plan, report, &parts(path)?),
    }
}

/// One step of a report path: a key or a list position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part<'a> {
    Key(&'a str),
    At(usize),
}

/// `hosts[0].items[2].gib` → `hosts`, 0, `items`, 2, `gib`; None when a bracket is not
/// a position or something follows one but a dot or another bracket.
fn parts(path: &str) -> Option<Vec<Part<'_>>> {
    let mut out = Vec::new();
    for segment in path.split('.') {
        let (key, mut rest) = segment.split_at(segment.find('[').unwrap_or(segment.len()));
        out.push(Part::Key(key));
        while !rest.is_empty() {
            let (at, after) = rest.strip_prefix('[')?.split_once(']')?;
            out.push(Part::At(at.parse().ok()?));
            rest = after;
        }
    }
    Some(out)
}

/// The budgets engine's own sections, by the path's parts.
fn budgets(plan: &Plan, report: &Report, parts: &[Part<'_>]) -> Option<String> {
    use Part::{At, Key};
    match *parts {
        [Key("synapse"), Key(key)] => synapse(plan, report, key),
        [Key("synapse"), Key("processes"), At(i), Key(field)] => synapse_process(
            plan,
            &report.synapse,
            report.synapse.processes.get(i)?,
            field,
        ),
        [Key("hosts"), At(i), Key("items"), At(j), Key(field)] => {
            let h = report.hosts.get(i)?;
            item_explanation(h, h.items.get(j)?, field)
        }
        [Key("hosts"), At(i), Key(key)] => hosts(plan, report, i, key),
        [
            Key("cpu"),
            Key("hosts"),
            At(i),
            Key("items"),
            At(j),
            Key(field),
        ] => {
            let h = report.cpu.hosts.get(i)?;
            cpu_item(h, h.items.get(j)?, field)
        }
        [Key("cpu"), Key("hosts"), At(i), Key(key)] => cpu_host(plan, report, i, key),
        [Key("cpu"), Key("ess"), Key(key)] => cpu_ess(plan, report, key),
        [
            Key("connections"),
            Key("postgres-reserved"),
            At(i),
            Key("count"),
        ] => {
            let r = report.connections.postgres_reserved.get(i)?;
            Some(format!(
                "{} connections reserved for {}. Source: {}.",
                r.count, r.name, r.source
            ))
        }
        [Key("connections"), Key(key)] => connections(plan, report, key),
        [Key("postgres"), Key("parameters"), Key(name)] => postgres_parameter(report, name),
        [Key("summary"), Key(key)] => summary(report, key),
        _ => None,
    }
}

/// Whether `path` is one of the plan's own inputs (or a text) shown back, with no
/// computation to explain: the figure table (`report::figures`) says so.
pub fn is_input_echo(path: &str) -> bool {
    figures::find(path).is_some_and(|f| f.input)
}

/// Whether the figure at `path` (with this value) has a computation to show. Cheap, so
/// the page can decide which figures to offer before anyone asks. For the budgets' own
/// sections it is exactly `explain(..).is_some()` (a test checks it); in the other
/// sections every number, flag and "none" (null) is offered, texts (labels, formulas,
/// sources) are not, and a section answers None only for a plain input, which
/// [`not_computed`] then says.
pub fn explainable(path: &str, value: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    if matches!(value, J::Array(_) | J::Object(_)) {
        return false;
    }
    match split_head(path).0 {
        "storage" | "object-storage" | "calls" | "failures" => !matches!(value, J::String(_)),
        "synapse" | "hosts" | "cpu" | "connections" | "postgres" | "summary" => {
            !is_input_echo(path)
        }
        _ => false,
    }
}

/// What the page says for an offered figure its section does not explain: by the
/// sections' contract, a plain input of the plan shown back.
pub fn not_computed(path: &str) -> String {
    format!("{path} is not computed: it is one of the plan's own inputs, shown back as entered.")
}

/// `hosts[3].items[12].gib` → `hosts[*].items[*].gib` (`report::figures::shape`).
pub fn index_shape(path: &str) -> String {
    crate::report::figures::shape(path)
}

/// The assumption groups in the order the engine lists them, each with a heading.
pub fn assumption_groups() -> [(&'static str, &'static [Assumption]); 8] {
    [
        ("RAM and connections", a::RAM),
        ("Storage growth", a::STORAGE),
        ("Object storage", a::OBJECT_STORE),
        ("Calls", a::CALLS),
        ("File descriptors", a::DESCRIPTORS),
        ("Activity from users", a::ACTIVITY),
        ("PostgreSQL memory", a::POSTGRES),
        ("CPU", a::CPU),
    ]
}

/// `hosts[0].items` → ("hosts", "[0].items"); `synapse.ram` → ("synapse", ".ram").
fn split_head(path: &str) -> (&str, &str) {
    let end = path.find(['.', '[']).unwrap_or(path.len());
    path.split_at(end)
}

fn number(x: f64) -> String {
    // Rust prints the shortest form that reads back the same (0.5, 10, 1.5).
    format!("{x}")
}

fn workers_sum(plan: &Plan) -> String {
    let parts: Vec<String> = WorkerKind::ALL
        .iter()
        .filter(|&&k| plan.workers(k) > 0)
        .map(|&k| format!("{} {}", k.key(), plan.workers(k)))
        .collect();
    if parts.is_empty() {
        "no workers".to_string()
    } else {
        parts.join(" + ")
    }
}

fn synapse(plan: &Plan, report: &Report, key: &str) -> Option<String> {
    let s = &report.synapse;
    let seed_base = number(plan.assume(&a::SYNAPSE_PROCESS_BASE_GIB));
    let seed_per = number(plan.assume(&a::SYNAPSE_PROCESS_PER_FACTOR_GIB));
    let factor = number(plan.synapse.cache_factor);
    let base = number(plan.assume(&a::SYNAPSE_BASE_MIB));
    let ram = plan.host(crate::plan::Role::Synapse).ram_gib;
    Some(match key {
        "process-count" => format!(
            "1 main process + {} workers = {} Synapse processes. The playbook runs the main process and every worker as its own container on the Synapse host (matrix-docker-ansible-deploy, configuring-playbook-synapse.md, workers).",
            s.worker_count, s.process_count
        ),
        "worker-count" => format!(
            "Σ synapse.workers.* = {} = {} workers (each a separate Synapse process; playbook variables matrix_synapse_workers_*_count).",
            workers_sum(plan),
            s.worker_count
        ),
        "ram-per-process-gib" => format!(
            "The busiest process type's budget: {} GiB, the largest of synapse.processes[*].each-gib. Each type gets {base} MiB ({}) plus the caches its users bring, bounded by cache autotuning at {} GiB.",
            s.ram_per_process_gib,
            a::SYNAPSE_BASE_MIB.source,
            s.process_bound_gib
        ),
        "ram-total-gib" => format!(
            "Σ count × each over the process types: {}. The deployment notes' rule ({seed_base} GiB + {seed_per} GiB × cache factor {factor} per process) has no public source; it is shown as a comparison only.",
            s.ram_formula
        ),
        "process-bound-gib" => format!(
            "{base} MiB + max_cache_memory_usage {} GiB = {} GiB: where cache autotuning holds one process. Synapse compares max_cache_memory_usage with the whole process's jemalloc-allocated memory, not with the caches alone (element-hq/synapse synapse/util/caches/lrucache.py, _expire_old_entries: jemalloc stat \"allocated\" > max_cache_memory_usage); the base stands for what jemalloc does not count (code, libraries, the allocator's free pages), an over-estimate since part of it is allocated heap.",
            s.cache_autotuning_max_gib, s.process_bound_gib
        ),
        "ram-bound-total-gib" => format!(
            "{} processes × {} GiB = {} GiB: every process at the autotuning bound at once, the most the Synapse processes can hold while autotuning works.",
            s.process_count, s.process_bound_gib, s.ram_bound_total_gib
        ),
        "seed-rule-per-process-gib" => format!(
            "{seed_base} GiB + {seed_per} GiB × cache factor {factor} = {} GiB: the deployment notes' rule ({}), a comparison only.",
            s.seed_rule_per_process_gib,
            a::SYNAPSE_PROCESS_BASE_GIB.source
        ),
        "seed-rule-total-gib" => format!(
            "{} processes × {} GiB = {} GiB: what the deployment notes' rule would say for the Synapse processes, against {} GiB from the lab-calibrated model.",
            s.process_count, s.seed_rule_per_process_gib, s.seed_rule_total_gib, s.ram_total_gib
        ),
        "cache-autotuning-max-gib" => format!(
            "The largest working set one process is expected to hold ({} GiB, synapse.processes[*].working-set-gib), so autotuning starts evicting where the busiest process would outgrow its budget; at most min(RAM {ram} GiB × {}, {} GiB) = {} GiB (the playbook's rule: matrix-docker-ansible-deploy roles/custom/matrix-synapse/defaults/main.yml, matrix_synapse_cache_autotuning_max_cache_memory_usage), never below {} GiB: {} GiB. One value for every process (homeserver.yaml caches.cache_autotuning.max_cache_memory_usage). Every 30 s Synapse reads the whole process's jemalloc-allocated bytes and, above this, evicts least recently used cache entries (element-hq/synapse synapse/util/caches/lrucache.py, _expire_old_entries; needs jemalloc, which the official image preloads). The cache factor ({factor}) scales entry counts, not bytes: with the playbook's event_cache_size 100K × factor, autotuning binds first.",
            s.processes
                .iter()
                .map(|p| p.working_set_gib)
                .max()
                .unwrap_or_default(),
            number(plan.assume(&a::SYNAPSE_CACHE_MAX_RAM_SHARE)),
            number(plan.assume(&a::SYNAPSE_CACHE_MAX_CAP_GIB)),
            sizing::Gib::from_gib(
                (ram as f64 * plan.assume(&a::SYNAPSE_CACHE_MAX_RAM_SHARE))
                    .min(plan.assume(&a::SYNAPSE_CACHE_MAX_CAP_GIB))
            ),
            number(plan.assume(&a::SYNAPSE_CACHE_MAX_FLOOR_GIB)),
            s.cache_autotuning_max_gib
        ),
        "cache-autotuning-target-gib" => format!(
            "{} GiB / 2 = {} GiB: once evicting, Synapse stops when the whole process's jemalloc-allocated memory is below this (checked every 100 evictions; lrucache.py _expire_old_entries). Half the maximum, the ratio of the playbook's own defaults (min(RAM/8, 2 GiB) against min(RAM/16, 1 GiB); matrix-docker-ansible-deploy roles/custom/matrix-synapse/defaults/main.yml, matrix_synapse_cache_autotuning_*).",
            s.cache_autotuning_max_gib, s.cache_autotuning_target_gib
        ),
        "cache-autotuning-min-ttl" => format!(
            "{}: the playbook's default matrix_synapse_cache_autotuning_min_cache_ttl, kept. Eviction for memory never drops an entry used less than this long ago (lrucache.py _expire_old_entries), so a process can stay above the target while its last 30 s of entries exceed it.",
            s.cache_autotuning_min_ttl
        ),
        _ => return None,
    })
}

fn synapse_process(
    plan: &Plan,
    s: &sizing::SynapseSummary,
    p: &sizing::ProcessRam,
    field: &str,
) -> Option<String> {
    let max = s.cache_autotuning_max_gib;
    let base = number(plan.assume(&a::SYNAPSE_BASE_MIB));
    let rates = format!(
        "sync {} MiB and room {} MiB per concurrent user (assumptions synapse-sync-mib-per-user, synapse-room-mib-per-user: {})",
        number(plan.assume(&a::SYNAPSE_SYNC_MIB_PER_USER)),
        number(plan.assume(&a::SYNAPSE_ROOM_MIB_PER_USER)),
        a::SYNAPSE_SYNC_MIB_PER_USER.source
    );
    Some(match field {
        "count" => format!("{}: {} (the main process is one).", p.label, p.count),
        "users-each" => format!(
            "{} concurrent users: users.peak-concurrent {} shared by the processes that serve the sync or room requests this one serves (their workers, else the generic workers, else the main process); 0 when it serves none.",
            crate::format::group(p.users_each),
            crate::format::group(plan.peak_concurrent_users())
        ),
        "working-set-gib" => format!(
            "{} GiB: the caches one process would hold before autotuning ({} concurrent users), from {rates}; open federation adds {} MiB of remote rooms' state to the main, sync, room and federation processes (assumption synapse-open-federation-mib: {}).",
            p.working_set_gib,
            p.users_each,
            number(plan.assume(&a::SYNAPSE_OPEN_FEDERATION_MIB)),
            a::SYNAPSE_OPEN_FEDERATION_MIB.source
        ),
        "cache-gib" => format!(
            "min(working set {} GiB, max_cache_memory_usage {max} GiB) = {} GiB: above the maximum, cache autotuning evicts (element-hq/synapse synapse/util/caches/lrucache.py, _expire_old_entries).",
            p.working_set_gib, p.cache_gib
        ),
        "each-gib" => format!(
            "{base} MiB + min(working set {} GiB, max_cache_memory_usage {max} GiB) = {} GiB: one process's budget. Base: {}.",
            p.working_set_gib,
            p.each_gib,
            a::SYNAPSE_BASE_MIB.source
        ),
        "base-gib" => format!(
            "{base} MiB = {} GiB per process (assumption synapse-process-base-mib: {}).",
            p.base_gib,
            a::SYNAPSE_BASE_MIB.source
        ),
        "caches-gib" => format!(
            "{}: the users' caches split among the {} processes, each held at max_cache_memory_usage by autotuning (element-hq/synapse synapse/util/caches/lrucache.py, _expire_old_entries).",
            p.caches_formula, p.count
        ),
        "gib" => format!(
            "{} × {} GiB + caches {} GiB = {} GiB: {}.",
            p.count, p.base_gib, p.caches_gib, p.gib, p.formula
        ),
        "at-bound" => format!(
            "{}: the working set {} GiB is {} max_cache_memory_usage {max} GiB, so autotuning {}.",
            if p.at_bound { "yes" } else { "no" },
            p.working_set_gib,
            if p.at_bound { "above" } else { "within" },
            if p.at_bound {
                "evicts every 30 s and holds the process at the bound"
            } else {
                "leaves it alone"
            }
        ),
        _ => return None,
    })
}

fn hosts(plan: &Plan, report: &Report, i: usize, key: &str) -> Option<String> {
    let h = report.hosts.get(i)?;
    let role = Role::ALL.get(i).copied()?;
    let ram = Gib(h.ram_gib.saturating_mul(100));
    Some(match key {
        "ram-needed-gib" => {
            let parts: Vec<String> = h
                .items
                .iter()
                .map(|it| format!("{} {}", it.name, it.gib))
                .collect();
            if parts.is_empty() {
                format!(
                    "0 GiB: no {} host is deployed (hosts.{}.count = 0).",
                    h.label,
                    role.key()
                )
            } else {
                format!(
                    "Σ of the {} items on one {} host: {} = {} GiB. Each item is rounded to 0.01 GiB once, so the total is exactly their sum.",
                    h.items.len(),
                    h.label,
                    parts.join(" + "),
                    h.ram_needed_gib
                )
            }
        }
        "ram-free-gib" => format!(
            "RAM {} GiB − needed {} GiB = {} GiB (hosts.{}.ram-gib minus the sum of the items; negative means over budget).",
            h.ram_gib,
            h.ram_needed_gib,
            h.ram_free_gib,
            role.key()
        ),
        "ram-used-percent" => format!(
            "needed {} GiB / RAM {} GiB = {} %, rounded to the nearest percent; above {} % the budget is tight (assumption tight-ram-share: {}).",
            h.ram_needed_gib,
            ram,
            h.ram_used_percent,
            number(plan.assume(&a::TIGHT_RAM_SHARE) * 100.0),
            a::TIGHT_RAM_SHARE.source
        ),
        _ => return None,
    })
}

fn item_explanation(h: &sizing::HostBudget, item: &sizing::Item, field: &str) -> Option<String> {
    let each = item.each_gib.to_string();
    let how = if item.formula.contains(&each) {
        item.formula.clone()
    } else {
        format!("{} = {each} GiB", item.formula)
    };
    Some(match field {
        "each-gib" => format!(
            "{}: {how}, rounded to 0.01 GiB. Source: {}.",
            item.name, item.source
        ),
        "gib" if item.count > 1 => format!(
            "{} × {each} GiB = {} GiB on one {} host; each: {how}. Source: {}.",
            item.count, item.gib, h.label, item.source
        ),
        "gib" => format!(
            "{}: {how} on one {} host. Source: {}.",
            item.name, h.label, item.source
        ),
        "count" => format!(
            "{} of “{}” on each {} host, {each} GiB each ({how}).",
            item.count, item.name, h.label
        ),
        _ => return None,
    })
}

fn cpu_host(plan: &Plan, report: &Report, i: usize, key: &str) -> Option<String> {
    let h = report.cpu.hosts.get(i)?;
    let role = Role::ALL.get(i).copied()?;
    let sum = |load: bool| -> Vec<String> {
        h.items
            .iter()
            .filter(|it| !load || it.basis == sizing::cpu::Basis::Load)
            .map(|it| format!("{} {}", it.name, it.vcpus))
            .collect()
    };
    Some(match key {
        "vcpus-needed" if h.items.is_empty() => format!(
            "0 vCPUs: no {} host is deployed (hosts.{}.count = 0).",
            h.label,
            role.key()
        ),
        "vcpus-needed" => format!(
            "Σ of the {} CPU items on one {} host: {} = {} vCPUs. Each item is rounded up to 0.01 vCPU once, so the total is exactly their sum.",
            h.items.len(),
            h.label,
            sum(false).join(" + "),
            h.vcpus_needed
        ),
        "load-vcpus" => {
            let parts = sum(true);
            let what = if parts.is_empty() {
                "no item rests on the load".to_string()
            } else {
                parts.join(" + ")
            };
            format!(
                "The items that divide the plan's load by a published rate per vCPU: {what} = {} vCPUs. Above {} × the host's {} vCPUs the plan has an error (assumption cpu-far-short-factor).",
                h.load_vcpus,
                number(plan.assume(&a::CPU_FAR_SHORT_FACTOR)),
                h.vcpus
            )
        }
        "vcpus-free" => format!(
            "vCPUs {} − needed {} = {} (hosts.{}.vcpus minus the sum of the CPU items; negative means short).",
            h.vcpus,
            h.vcpus_needed,
            h.vcpus_free,
            role.key()
        ),
        "vcpus-used-percent" => format!(
            "needed {} vCPUs / {} vCPUs = {} %, rounded to the nearest percent.",
            h.vcpus_needed, h.vcpus, h.vcpus_used_percent
        ),
        _ => return None,
    })
}

fn cpu_item(
    h: &sizing::cpu::CpuBudget,
    item: &sizing::cpu::CpuItem,
    field: &str,
) -> Option<String> {
    let basis = match item.basis {
        sizing::cpu::Basis::Load => "the plan's load through a published rate",
        sizing::cpu::Basis::Guidance => "a vendor's sizing guidance",
        sizing::cpu::Basis::Floor => "a stated floor",
        sizing::cpu::Basis::Bound => "the most it can use",
    };
    Some(match field {
        "each-vcpus" => format!(
            "{}: {} = {} vCPUs each, rounded up to 0.01 ({basis}). Source: {}.",
            item.name, item.formula, item.each_vcpus, item.source
        ),
        "vcpus" => format!(
            "{}: {} = {} vCPUs on one {} host ({basis}). Source: {}.",
            item.name, item.formula, item.vcpus, h.label, item.source
        ),
        "count" => format!(
            "{} of “{}” on each {} host, {} vCPUs each.",
            group(item.count),
            item.name,
            h.label,
            item.each_vcpus
        ),
        _ => return None,
    })
}

fn cpu_ess(plan: &Plan, report: &Report, key: &str) -> Option<String> {
    let e = &report.cpu.ess;
    Some(match key {
        "synapse-vcpus" => format!(
            "ESS's Synapse CPU for {}: {} CPU. Source: {}.",
            e.band,
            e.synapse_vcpus,
            a::ESS_CPU_SOURCE
        ),
        "postgres-vcpus" => format!(
            "ESS's PostgreSQL CPU for {}: {} CPU. Source: {}.",
            e.band,
            e.postgres_vcpus,
            a::ESS_CPU_SOURCE
        ),
        "planner-synapse-vcpus" => format!(
            "{} Synapse processes × {} vCPU (one core per busy process, the GIL) = {} vCPUs.",
            plan.synapse_process_count(),
            number(plan.assume(&a::SYNAPSE_VCPUS_PER_PROCESS)),
            e.planner_synapse_vcpus
        ),
        "synapse-ratio" => format!(
            "The planner's {} vCPUs / ESS's {} CPU = {} (rounded to 0.01); tests/cpu.rs keeps it between 0.5 and 2 at ESS's bands for the presets' worker sets; a single process with open federation stays below (one core against ESS's 5 CPU).",
            e.planner_synapse_vcpus,
            e.synapse_vcpus,
            Gib::from_gib(e.synapse_ratio)
        ),
        _ => return None,
    })
}

fn connections(plan: &Plan, report: &Report, key: &str) -> Option<String> {
    let c = &report.connections;
    Some(match key {
        "synapse-processes" => format!(
            "1 main process + {} workers = {} Synapse processes, each with its own database pool.",
            plan.worker_count(),
            c.synapse_processes
        ),
        "synapse-pool-total" => format!(
            "{} processes × cp_max {} = {}: each Synapse process may open up to cp_max connections to PgBouncer (Synapse docs, database.args.cp_max; the playbook has one setting for every process).",
            c.synapse_processes,
            c.cp_max,
            group(c.synapse_pool_total)
        ),
        "pgbouncer-instances" => format!(
            "{}: one PgBouncer on each Synapse host (hosts.synapse.count), pooling on the client side (DESIGN.md §2).",
            c.pgbouncer_instances
        ),
        "pgbouncer-pools" => format!(
            "{}: PgBouncer keeps one pool per database/user pair, and Synapse uses one (database synapse as user synapse) (PgBouncer docs, config.md, default_pool_size).",
            c.pgbouncer_pools
        ),
        "pgbouncer-server-connections" => format!(
            "{} instance(s) × {} pool(s) × (default_pool_size {} + reserve_pool_size {}) = {} server connections PgBouncer may open to PostgreSQL (PgBouncer docs, config.md: default_pool_size per user/database pair, reserve_pool_size more when clients wait).",
            c.pgbouncer_instances,
            c.pgbouncer_pools,
            plan.pgbouncer.default_pool_size,
            plan.pgbouncer.reserve_pool_size,
            group(c.pgbouncer_server_connections)
        ),
        "pgbouncer-file-descriptors" => format!(
            "max_client_conn {} + {} server connections per instance + 10 (listen sockets, admin console, log) = {} file descriptors per PgBouncer (PgBouncer docs, config.md, max_client_conn: each connection is a socket); against nofile {}.",
            group(c.pgbouncer_max_client_conn),
            group(c.pgbouncer_server_connections / c.pgbouncer_instances.max(1)),
            group(c.pgbouncer_file_descriptors),
            group(a::fixed!(NOFILE_LIMIT) as u64)
        ),
        "haproxy-file-descriptors" => format!(
            "2 × maxconn {} + {} = {} file descriptors for HAProxy: two sockets per connection (client and server side) and its own listeners, health checks, stats socket and 3 per thread (HAProxy 2.6 src/haproxy.c compute_ideal_maxsock; management guide §5: \"doubling the maxconn value and adding a few tens\"). Beyond fs.nr_open's default of {} the bundle raises fs.nr_open and haproxy.service's LimitNOFILE on the HAProxy hosts.",
            group(c.haproxy_maxconn),
            group(sizing::descriptors::HAPROXY_OWN_FDS),
            group(c.haproxy_file_descriptors),
            group(sizing::descriptors::NR_OPEN_DEFAULT)
        ),
        "postgres-reserved-total" => format!(
            "{} = {} connections PostgreSQL keeps for others than PgBouncer (PostgreSQL docs, max_connections and superuser_reserved_connections).",
            c.postgres_reserved
                .iter()
                .map(|r| format!("{} {}", r.count, r.name))
                .collect::<Vec<_>>()
                .join(" + "),
            c.postgres_reserved_total
        ),
        "postgres-available" => format!(
            "max_connections {} − {} reserved = {} connections left for PgBouncer's server connections (PostgreSQL docs, max_connections).",
            group(c.postgres_max_connections),
            c.postgres_reserved_total,
            signed(c.postgres_available)
        ),
        "haproxy-maxconn" => format!(
            "⌈peak concurrent users {} × {} connections per user⌉ = {}, at least 2,000, rounded up to the next thousand = {} (HAProxy configuration manual, global maxconn; assumption haproxy-connections-per-user: {}).",
            group(plan.peak_concurrent_users()),
            number(plan.assume(&a::HAPROXY_CONNS_PER_USER)),
            group(crate::sizing::connections::haproxy_connections_needed(plan)),
            group(c.haproxy_maxconn),
            a::HAPROXY_CONNS_PER_USER.source
        ),
        _ => return None,
    })
}

fn signed(x: i64) -> String {
    if x < 0 {
        format!("−{}", group(x.unsigned_abs()))
    } else {
        group(x.unsigned_abs())
    }
}

fn postgres_parameter(report: &Report, name: &str) -> Option<String> {
    let p = report.postgres.parameters.iter().find(|p| p.name == name)?;
    Some(format!("{name} = {}. {}", p.value, p.how))
}

fn summary(report: &Report, key: &str) -> Option<String> {
    let (severity, count) = match key {
        "errors" => (crate::Severity::Error, report.summary.errors),
        "warnings" => (crate::Severity::Warning, report.summary.warnings),
        "infos" => (crate::Severity::Info, report.summary.infos),
        _ => return None,
    };
    let codes: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.severity == severity)
        .map(|f| f.code)
        .collect();
    Some(if codes.is_empty() {
        format!(
            "{count} findings of severity {severity}: no rule of that severity fires for this plan."
        )
    } else {
        format!(
            "{count} findings of severity {severity} among the {} rules that fire: {}.",
            report.findings.len(),
            codes.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::lookup;
    use serde_json::Value as J;

    /// Every leaf of a JSON tree with its report path.
    fn leaves(v: &J, path: String, out: &mut Vec<(String, J)>) {
        match v {
            J::Object(m) => {
                for (k, x) in m {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    leaves(x, p, out);
                }
            }
            // An empty list has no figure to show.
            J::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    leaves(x, format!("{path}[{i}]"), out);
                }
            }
            other => out.push((path, other.clone())),
        }
    }

    /// The ways a figure may be written in a sentence: as JSON, grouped, as a GiB figure.
    fn forms(v: &J) -> Vec<String> {
        let mut f = vec![v.to_string()];
        if let J::String(s) = v {
            f.push(s.clone());
        }
        if let Some(n) = v.as_u64() {
            f.push(group(n));
        }
        if let Some(n) = v.as_i64().filter(|n| *n < 0) {
            f.push(format!("−{}", group(n.unsigned_abs())));
        }
        if let Some(x) = v.as_f64() {
            let gib = Gib::from_gib(x.abs()).to_string();
            f.push(if x < 0.0 { format!("−{gib}") } else { gib });
        }
        if v.is_boolean() {
            f.push(if v == &J::Bool(true) { "yes" } else { "no" }.to_string());
        }
        f
    }

    fn plans() -> Vec<(&'static str, Plan)> {
        let d = Plan::default();
        let edit = |changes: &[(&str, &str)]| {
            d.with_texts(changes)
                .unwrap_or_else(|e| panic!("{changes:?}: {e:?}"))
        };
        vec![
            ("default", d.clone()),
            (
                "1 user",
                edit(&[
                    ("users.peak-concurrent", "1"),
                    ("activity.daily-active-users", "1"),
                    ("users.registered", "1"),
                ]),
            ),
            (
                "1,000,000 users",
                edit(&[
                    ("users.registered", "1000000"),
                    ("users.peak-concurrent", "250000"),
                    ("activity.daily-active-users", "500000"),
                ]),
            ),
            ("64 MinIO nodes", edit(&[("hosts.minio.count", "64")])),
            (
                "over budget, small Patroni",
                edit(&[
                    ("hosts.synapse.ram-gib", "64"),
                    ("hosts.patroni.ram-gib", "2"),
                    ("hosts.patroni.vcpus", "2"),
                    ("postgres.max-connections", "12"),
                    ("hosts.livekit.count", "0"),
                ]),
            ),
        ]
    }

    /// The engine's own sections: every leaf is explained (with its figure in the
    /// sentence) or listed as an input echo.
    #[test]
    fn every_budget_figure_is_explained_or_an_input() {
        for (name, plan) in plans() {
            let report = Report::new(&plan);
            let json = report.to_json_value();
            let mut all = Vec::new();
            leaves(&json, String::new(), &mut all);
            let mut explained = 0;
            for (path, value) in all {
                let (head, _) = split_head(&path);
                if matches!(head, "storage" | "object-storage" | "calls" | "failures") {
                    continue;
                }
                let echo = is_input_echo(&path);
                assert_eq!(
                    explainable(&path, &value),
                    explain(&plan, &report, &path).is_some(),
                    "{name}: the page offers {path} = {value} wrongly"
                );
                match explain(&plan, &report, &path) {
                    Some(text) => {
                        assert!(!echo, "{name}: {path} is both explained and an input");
                        assert!(
                            forms(&value).iter().any(|f| text.contains(f.as_str())),
                            "{name}: the explanation of {path} = {value} does not contain it: {text}"
                        );
                        explained += 1;
                    }
                    None => assert!(echo, "{name}: {path} = {value} has no explanation"),
                }
            }
            assert!(explained > 60, "{name}: only {explained} explained");
        }
    }

    /// The other sections are answered by their own modules, by the same path.
    #[test]
    fn sections_dispatch_to_their_modules() {
        let plan = Plan::default();
        let r = Report::new(&plan);
        let json = r.to_json_value();
        let mut all = Vec::new();
        leaves(&json, String::new(), &mut all);
        for (path, _) in all {
            let got = explain(&plan, &r, &path);
            let want = if let Some(rest) = path.strip_prefix("storage.") {
                sizing::storage::explain(&plan, &r.storage, rest)
            } else if let Some(rest) = path.strip_prefix("object-storage.") {
                sizing::objectstore::explain(&plan, &r.object_storage, rest)
            } else if let Some(rest) = path.strip_prefix("calls.") {
                sizing::calls::explain(&plan, &r.calls, rest)
            } else if let Some(rest) = path.strip_prefix("failures") {
                sizing::failures::explain(&plan, &r.failures, rest)
            } else {
                continue;
            };
            assert_eq!(got, want, "{path}");
        }
    }

    /// The CPU figures, hand-checked: LiveKit's busiest node forwards 3 rooms × 8 × 7 =
    /// 168 video tracks (÷ 1,640 = 0.1024 → 0.11), HAProxy keeps 4 − 0.58, and the
    /// default plan's 20 processes are twice ESS's 10 CPU.
    #[test]
    fn cpu_explanations() {
        check(
            &[],
            "cpu.hosts[5].items[0].vcpus",
            "LiveKit: video forwarding: 3 rooms × 8 participants × 7 others = 168 tracks ÷ 1,640 a vCPU = 0.11 vCPUs on one LiveKit host (the plan's load through a published rate). Source: LiveKit docs, Self-hosting › Benchmarks: 'Large meeting', 150 publishers × 150 subscribers at 85 % CPU of a 16-core c2-standard-16: 150 × 149 = 22,350 forwarded video tracks / (16 × 0.85) = 1,643 a vCPU, rounded down.",
        );
        check(
            &[],
            "cpu.hosts[3].vcpus-free",
            "vCPUs 4 − needed 0.58 = 3.42 (hosts.haproxy.vcpus minus the sum of the CPU items; negative means short).",
        );
        check(
            &[("hosts.minio.vcpus", "2")],
            "cpu.hosts[2].vcpus-free",
            "vCPUs 2 − needed 8 = −6 (hosts.minio.vcpus minus the sum of the CPU items; negative means short).",
        );
        check(
            &[],
            "cpu.ess.synapse-ratio",
            "The planner's 20 vCPUs / ESS's 10 CPU = 2 (rounded to 0.01); tests/cpu.rs keeps it between 0.5 and 2 at ESS's bands for the presets' worker sets; a single process with open federation stays below (one core against ESS's 5 CPU).",
        );
        check(
            &[("hosts.livekit.count", "0")],
            "cpu.hosts[5].vcpus-needed",
            "0 vCPUs: no LiveKit host is deployed (hosts.livekit.count = 0).",
        );
    }

    fn check(changes: &[(&str, &str)], path: &str, expect: &str) {
        let plan = Plan::default().with_texts(changes).expect("valid");
        let report = Report::new(&plan);
        assert!(lookup(&report.to_json_value(), path).is_some(), "{path}");
        assert_eq!(
            explain(&plan, &report, path).as_deref(),
            Some(expect),
            "{path} after {changes:?}"
        );
    }

    #[test]
    fn hand_checked_explanations() {
        check(
            &[],
            "synapse.processes[1].each-gib",
            "160 MiB + min(working set 2.28 GiB, max_cache_memory_usage 2 GiB) = 2.16 GiB: one process's budget. Base: measured here (docs/lab.md, 2026-12-07 and 2026-12-08, Synapse 1.159.0 with jemalloc, cache factor 0.5): idle RSS 123–133 MiB for every process type; under traffic the processes without per-user caches peaked at 125–161 MiB (stream writer events 161, background 155, media repository 152 at `lab.sh measure`'s largest scale).",
        );
        check(
            &[],
            "synapse.cache-autotuning-max-gib",
            "The largest working set one process is expected to hold (4.4 GiB, synapse.processes[*].working-set-gib), so autotuning starts evicting where the busiest process would outgrow its budget; at most min(RAM 160 GiB × 0.125, 2 GiB) = 2 GiB (the playbook's rule: matrix-docker-ansible-deploy roles/custom/matrix-synapse/defaults/main.yml, matrix_synapse_cache_autotuning_max_cache_memory_usage), never below 0.25 GiB: 2 GiB. One value for every process (homeserver.yaml caches.cache_autotuning.max_cache_memory_usage). Every 30 s Synapse reads the whole process's jemalloc-allocated bytes and, above this, evicts least recently used cache entries (element-hq/synapse synapse/util/caches/lrucache.py, _expire_old_entries; needs jemalloc, which the official image preloads). The cache factor (10) scales entry counts, not bytes: with the playbook's event_cache_size 100K × factor, autotuning binds first.",
        );
        check(
            &[],
            "synapse.seed-rule-total-gib",
            "20 processes × 6.5 GiB = 130 GiB: what the deployment notes' rule would say for the Synapse processes, against 11.2 GiB from the lab-calibrated model.",
        );
        // 8 GiB: max_cache_memory_usage 8 / 8 = 1 GiB.
        check(
            &[("hosts.synapse.ram-gib", "8")],
            "synapse.processes[1].at-bound",
            "yes: the working set 2.28 GiB is above max_cache_memory_usage 1 GiB, so autotuning evicts every 30 s and holds the process at the bound.",
        );
        check(
            &[("synapse.workers.sync", "5")],
            "synapse.process-count",
            "1 main process + 21 workers = 22 Synapse processes. The playbook runs the main process and every worker as its own container on the Synapse host (matrix-docker-ansible-deploy, configuring-playbook-synapse.md, workers).",
        );
        check(
            &[],
            "connections.pgbouncer-server-connections",
            "1 instance(s) × 1 pool(s) × (default_pool_size 50 + reserve_pool_size 10) = 60 server connections PgBouncer may open to PostgreSQL (PgBouncer docs, config.md: default_pool_size per user/database pair, reserve_pool_size more when clients wait).",
        );
        check(
            &[("postgres.max-connections", "10")],
            "connections.postgres-available",
            "max_connections 10 − 15 reserved = −5 connections left for PgBouncer's server connections (PostgreSQL docs, max_connections).",
        );
        check(
            &[],
            "connections.haproxy-maxconn",
            "⌈peak concurrent users 2,500 × 3 connections per user⌉ = 7,500, at least 2,000, rounded up to the next thousand = 8,000 (HAProxy configuration manual, global maxconn; assumption haproxy-connections-per-user: assumption: a long-poll /sync plus concurrent requests; HTTP/2 clients use one).",
        );
        check(
            &[],
            "hosts[0].ram-free-gib",
            "RAM 160 GiB − needed 14.27 GiB = 145.73 GiB (hosts.synapse.ram-gib minus the sum of the items; negative means over budget).",
        );
        check(
            &[("hosts.synapse.ram-gib", "6")],
            "hosts[0].ram-free-gib",
            "RAM 6 GiB − needed 9.27 GiB = −3.27 GiB (hosts.synapse.ram-gib minus the sum of the items; negative means over budget).",
        );
        check(
            &[],
            "hosts[0].ram-used-percent",
            "needed 14.27 GiB / RAM 160 GiB = 9 %, rounded to the nearest percent; above 90 % the budget is tight (assumption tight-ram-share: assumption: leaves room for page cache, spikes and upgrades).",
        );
        check(
            &[],
            "postgres.parameters.work_mem",
            "work_mem = 32513kB. (RAM − shared_buffers) / ((max_connections + 16) × 3) = (64 GiB − 16GB) / ((500 + 16) × 3) = 32513kB, at least 4MB; 16 is the vCPUs (PGTune counts the parallel workers). Source: PGTune, le0pard/pgtune src/features/configuration/configurationSlice.js (https://github.com/le0pard/pgtune).",
        );
        check(
            &[("hosts.patroni.ram-gib", "32")],
            "postgres.parameters.shared_buffers",
            "shared_buffers = 8GB. RAM / 4 = 32 GiB / 4 = 8GB. Source: PGTune, le0pard/pgtune src/features/configuration/configurationSlice.js (https://github.com/le0pard/pgtune).",
        );
        check(
            &[],
            "hosts[1].items[1].gib",
            "Sorts and hash tables, worst case: 91 processes (75 backends = min(max_connections 500, PgBouncer's 60 server connections + 15 reserved), + 16 parallel workers) × 3 operations at once × hash_mem_multiplier 2.0 × work_mem 32513kB, every operation counted as a hash table = 16.93 GiB on one Patroni (PostgreSQL + etcd) host. Source: PGTune (configurationSlice.js:396-399) allows 3 sort or hash operations per connection and parallel worker; PostgreSQL docs, hash_mem_multiplier: a hash table may use 2.0 × work_mem, a sort 1 × (all three counted as hash tables: the bound PostgreSQL enforces, not an average).",
        );
        check(
            &[("pgbouncer.default-pool-size", "200")],
            "hosts[1].items[1].gib",
            "Sorts and hash tables, worst case: 90 % of 64 GiB − shared_buffers 16 GiB − the other items 13.45 GiB = 28.15 GiB, reserved for 241 processes (225 backends = min(max_connections 500, PgBouncer's 210 server connections + 15 reserved), + 16 parallel workers) × 3 operations at once × hash_mem_multiplier 2.0 × work_mem 20413kB, every operation counted as a hash table = 28.15 GiB (work_mem lowered from PGTune's 32513kB to fit) on one Patroni (PostgreSQL + etcd) host. Source: PGTune (configurationSlice.js:396-399) allows 3 sort or hash operations per connection and parallel worker; PostgreSQL docs, hash_mem_multiplier: a hash table may use 2.0 × work_mem, a sort 1 × (all three counted as hash tables: the bound PostgreSQL enforces, not an average).",
        );
        check(
            &[("pgbouncer.default-pool-size", "200")],
            "postgres.parameters.work_mem",
            "work_mem = 20413kB. Less than PGTune's (RAM − shared_buffers) / ((max_connections + 16) × 3) = (64 GiB − 16GB) / ((500 + 16) × 3) = 32513kB, at least 4MB; 16 is the vCPUs (PGTune counts the parallel workers). With PGTune's value the worst case (241 processes × 6 work_mem: 3 operations each, every one a hash table at hash_mem_multiplier 2.0) would pass 90% of the host's RAM; the most that fits is (90% × 64 GiB − shared_buffers 16GB − the budget's other items 13.45 GiB) / (241 × 6) = 20413kB. A deliberate difference: PGTune gives all of RAM − shared_buffers to 3 operations at 1 × work_mem per connection. Source: PGTune, le0pard/pgtune src/features/configuration/configurationSlice.js (https://github.com/le0pard/pgtune); PostgreSQL docs, hash_mem_multiplier.",
        );
        check(
            &[],
            "postgres.parameters.maintenance_work_mem",
            "maintenance_work_mem = 4GB. min(RAM / 16, 8GB) = min(64 GiB / 16, 8GB) = 4GB: PGTune's cap is 8 GB since its commit 6919ea7 of 2026-04-04 (2 GB before, which the seed's deployment notes §4 (PostgreSQL tuning) follows; the source wins). Each maintenance operation (VACUUM, CREATE INDEX, ALTER TABLE ADD FOREIGN KEY) may use this much (PostgreSQL docs, maintenance_work_mem). Source: PGTune, le0pard/pgtune src/features/configuration/configurationSlice.js (https://github.com/le0pard/pgtune).",
        );
    }

    #[test]
    fn inputs_and_unknown_paths_have_none() {
        let plan = Plan::default();
        let r = Report::new(&plan);
        for path in [
            "hosts[0].count",
            "hosts[0].ram-gib",
            "hosts[9].ram-needed-gib",
            "hosts[0].items[99].gib",
            "connections.cp-max",
            "postgres.formulas.work_mem",
            "postgres.parameters.nope",
            "findings[0].message",
            "nothing",
            "",
            "hosts[x]",
            "hosts[",
        ] {
            assert_eq!(explain(&plan, &r, path), None, "{path}");
        }
        for (path, echo) in [
            ("hosts[3].items[12].formula", true),
            ("findings[2].paths[0]", true),
            ("postgres.formulas.jit", true),
            ("hosts[3].items[12].gib", false),
            ("connections.synapse-pool-total", false),
        ] {
            assert_eq!(is_input_echo(path), echo, "{path}");
        }
        assert_eq!(
            index_shape("hosts[3].items[12].gib"),
            "hosts[*].items[*].gib"
        );
    }

    #[test]
    fn paths_in_parts() {
        use Part::{At, Key};
        assert_eq!(
            parts("hosts[0].items[12].gib"),
            Some(vec![Key("hosts"), At(0), Key("items"), At(12), Key("gib")])
        );
        assert_eq!(
            parts("summary.errors"),
            Some(vec![Key("summary"), Key("errors")])
        );
        for bad in ["hosts[x]", "hosts[", "hosts[0]x.gib", "hosts[-1]"] {
            assert_eq!(parts(bad), None, "{bad}");
        }
    }

    #[test]
    fn assumption_groups_cover_every_constant_once_in_order() {
        let grouped: Vec<&str> = assumption_groups()
            .iter()
            .flat_map(|(_, g)| g.iter().map(|a| a.id))
            .collect();
        let all: Vec<&str> = a::all().map(|a| a.id).collect();
        assert_eq!(grouped, all);
    }
}

//! Property tests over the whole pipeline: schema → raw text → validation → plan →
//! sizing → report → YAML, driven by `plan::fields()` so a field added to the schema is
//! generated here without touching this file.
//!
//! `PROPTEST_CASES=5000 cargo test --test properties` runs every property harder.

#[path = "support/props.rs"]
mod props;
use props::config;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::Value as Json;
use std::collections::BTreeSet;
use synapse_planner::Severity;
use synapse_planner::plan::{
    self, Field, Kind, Plan, Problem, RawPlan, Role, Slot, TextRule, WorkerKind, YamlStyle,
};
use synapse_planner::report::{Report, lookup};
use synapse_planner::sizing;

// ---------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------

/// The shared checks return `Result<(), String>` so plain tests can collect failures;
/// inside `proptest!` they fail the case (and shrink it) instead.
trait OrFail {
    fn or_fail(self) -> Result<(), TestCaseError>;
}

impl OrFail for Result<(), String> {
    fn or_fail(self) -> Result<(), TestCaseError> {
        self.map_err(TestCaseError::fail)
    }
}

/// Every finding code `src/findings/` can emit.
const CODES: &[&str] = &[
    "file-descriptors-beyond-kernel",
    "file-descriptors-raised",
    "postgres-effective-cache-size-capped",
    "ram-over-budget",
    "ram-tight",
    "pgbouncer-clients-short",
    "pgbouncer-clients-headroom",
    "postgres-connections-short",
    "postgres-connections-tight",
    "pgbouncer-transaction-pooling",
    "pgbouncer-statement-mode",
    "pgbouncer-session-pool-short",
    "pgbouncer-file-descriptors",
    "worker-single-instance",
    "workers-generic-mixed",
    "workers-without-redis",
    "workers-none",
    "sync-workers-low",
    "cache-autotuning-cap",
    "synapse-cache-bound-over-ram",
    "synapse-cpu-oversubscribed",
    "cpu-short",
    "cpu-far-short",
    "event-persisters-fixed",
    "quorum-single-member",
    "quorum-even-members",
    "haproxy-single",
    "postgres-work-mem-floor",
    "postgres-work-mem-below-pgtune",
    "postgres-pgtune-high-memory",
    "calls-turn-off",
    "calls-livekit-off",
    "storage-full-now",
    "storage-fills-soon",
    "storage-fills",
    "backup-retention-impossible",
    "remote-media-forever",
    "media-retention-keeps-minio",
    "minio-layout-refused",
    "minio-parity-invalid",
    "minio-single-node",
    "minio-node-loss-stops-writes",
    "calls-turn-needed",
    "turn-port-range-short",
    "turn-file-descriptors-short",
    "turn-bandwidth-over",
    "turn-not-n-plus-one",
    "calls-livekit-needed",
    "livekit-ports-short",
    "livekit-port-range-small",
    "livekit-bandwidth-over",
    "livekit-room-too-large",
    "livekit-not-n-plus-one",
    "livekit-redis-single",
    "etcd-disk-latency",
    "minio-ram-below-band",
    "minio-unmaintained",
];

// ---------------------------------------------------------------------------------
// Schema helpers
// ---------------------------------------------------------------------------------

fn is_key_path(path: &str) -> bool {
    plan::field(path).is_some()
}

/// A proper prefix of some key path, ending at a `.` (`synapse.workers`, `hosts.minio`).
fn is_group(path: &str) -> bool {
    !path.is_empty()
        && plan::fields().iter().any(|f| {
            f.path.len() > path.len()
                && f.path.starts_with(path)
                && f.path.as_bytes()[path.len()] == b'.'
        })
}

/// `a.b-c.d`: non-empty segments joined by dots.
fn is_dotted(path: &str) -> bool {
    !path.is_empty() && path.split('.').all(|s| !s.is_empty())
}

fn default_u64(f: &Field) -> u64 {
    let d = Plan::default();
    match f.slot {
        // Derived in the default plan: its value, not its (empty) text.
        Slot::DailyActiveUsers => d.daily_active_users(),
        Slot::UsersPeakConcurrent => d.peak_concurrent_users(),
        _ => f.get_text(&d).parse().unwrap_or(0),
    }
}

fn default_f64(f: &Field) -> f64 {
    f.get_text(&Plan::default()).parse().unwrap_or(1.0)
}

fn int_kind(path: &str) -> (u64, u64) {
    match plan::field(path).map(|f| f.kind) {
        Some(Kind::Int { min, max, .. }) => (min, max),
        other => panic!("{path} is not an Int field: {other:?}"),
    }
}

fn float_kind(path: &str) -> (f64, f64) {
    match plan::field(path).map(|f| f.kind) {
        Some(Kind::Float { min, max, .. }) => (min, max),
        other => panic!("{path} is not a Float field: {other:?}"),
    }
}

// ---------------------------------------------------------------------------------
// Strategies: valid plans
// ---------------------------------------------------------------------------------

/// Integers spread evenly over orders of magnitude in `lo..=hi`.
fn log_int(lo: u64, hi: u64) -> BoxedStrategy<u64> {
    let (a, b) = (((lo + 1) as f64).ln(), ((hi + 1) as f64).ln());
    (0.0f64..=1.0)
        .prop_map(move |t| (((a + (b - a) * t).exp() - 1.0).round() as u64).clamp(lo, hi))
        .boxed()
}

/// Floats spread evenly over orders of magnitude in `lo..=hi` (`lo > 0`).
fn log_float(lo: f64, hi: f64) -> BoxedStrategy<f64> {
    // A log scale needs a positive floor: 0 (an assumption's minimum) starts at 10⁻³.
    let floor = if lo > 0.0 { lo } else { 0.001f64.min(hi) };
    let (a, b) = (floor.ln(), hi.ln());
    (0.0f64..=1.0)
        .prop_map(move |t| (a + (b - a) * t).exp().clamp(lo, hi))
        .boxed()
}

/// How far from everyday values a generated plan strays.
#[derive(Clone, Copy, Debug)]
enum Range {
    /// Near the defaults, as people plan: log-spread around each default value.
    Realistic,
    /// Mostly realistic, a few fields anywhere within bounds.
    Mixed,
    /// Anywhere within bounds, bounds included.
    Full,
}

/// Weights of (the default itself, near the default, anywhere in bounds, on a bound).
fn weights(range: Range) -> (u32, u32, u32, u32) {
    match range {
        Range::Realistic => (1, 1, 0, 0),
        Range::Mixed => (8, 8, 3, 1),
        Range::Full => (0, 0, 3, 1),
    }
}

/// A valid integer for a field: its default, near it (what people type), anywhere in
/// bounds, or exactly on a bound, as `range` weighs them.
fn int_text(f: &Field, min: u64, max: u64, range: Range) -> BoxedStrategy<String> {
    let d = default_u64(f);
    let (near_lo, near_hi) = match f.slot {
        Slot::Worker(k) if k.single_instance() => (0, 1),
        _ => (d / 2, d.saturating_mul(2).max(min.saturating_add(2))),
    };
    let (near_lo, near_hi) = (near_lo.clamp(min, max), near_hi.clamp(min, max));
    let (default, near, anywhere, bound) = weights(range);
    prop_oneof![
        default => Just(d),
        near => log_int(near_lo, near_hi),
        anywhere => prop_oneof![min..=max, log_int(min, max)],
        bound => prop_oneof![Just(min), Just(max)],
    ]
    .prop_map(|n| n.to_string())
    .boxed()
}

fn float_value(lo_hi: (f64, f64), d: f64, range: Range) -> BoxedStrategy<f64> {
    let (min, max) = lo_hi;
    let (near_lo, near_hi) = ((d / 4.0).clamp(min, max), (d * 4.0).clamp(min, max));
    let (default, near, anywhere, bound) = weights(range);
    prop_oneof![
        default => Just(d),
        near => prop_oneof![
            log_float(near_lo, near_hi),
            // What people type: two decimals at most.
            log_float(near_lo, near_hi)
                .prop_map(move |x| ((x * 100.0).round() / 100.0).clamp(min, max)),
        ],
        anywhere => prop_oneof![min..=max, log_float(min, max)],
        bound => prop_oneof![Just(min), Just(max)],
    ]
    .boxed()
}

/// A choice or a switch: mostly the default in realistic plans.
fn pick_text(options: Vec<String>, default: String, range: Range) -> BoxedStrategy<String> {
    let (d, near, anywhere, bound) = weights(range);
    prop_oneof![d => Just(default), (near + anywhere + bound) => select(options)].boxed()
}

fn name_text() -> BoxedStrategy<String> {
    // Any character a plan name may hold (plan::name_char: no line breaks, controls,
    // format characters, other spaces, private use or noncharacters).
    let any_printable = proptest::collection::vec(
        any::<char>().prop_map(|c| if plan::name_char(c) { c } else { 'x' }),
        1..=80,
    )
    .prop_map(String::from_iter);
    prop_oneof![
        6 => "[a-z][a-z0-9-]{0,30}",
        2 => "[ A-Za-z0-9.:#&*!|>'\"%@`{}\\[\\],?-]{1,80}",
        2 => any_printable,
    ]
    .prop_filter("a name is not blank", |s| !s.trim().is_empty())
    .boxed()
}

fn domain_text() -> BoxedStrategy<String> {
    let label = "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?";
    let tld = "[a-z]([a-z0-9-]{0,61}[a-z0-9])?";
    prop_oneof![
        6 => "([a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?\\.){1,3}[a-z]{2,6}".boxed(),
        2 => (proptest::collection::vec(label, 1..=4), tld)
            .prop_map(|(labels, tld)| format!("{}.{tld}", labels.join(".")))
            // Validation's limit for the server name: alertmanager@<name> must stay a
            // mail address of at most 254 characters (RFC 5321), so 241.
            .prop_filter("a server name has at most 241 characters", |s| {
                s.len() <= plan::MAIL_ADDRESS_MAX - "alertmanager@".len()
            })
            .boxed(),
    ]
    .boxed()
}

fn cache_factors_text(range: Range) -> BoxedStrategy<String> {
    let name = prop_oneof![
        4 => "(get|_get|have)_[a-z_]{1,30}",
        2 => "[A-Za-z0-9_*]{1,20}",
        1 => "[A-Za-z0-9_*]{90,100}",
    ];
    let factor = float_value((0.01, 1000.0), 2.0, range);
    prop_oneof![
        1 => Just(String::new()),
        3 => proptest::collection::btree_map(name, factor, 1..5).prop_map(|m| {
            m.iter()
                .map(|(k, x)| format!("{k}: {x}"))
                .collect::<Vec<_>>()
                .join("\n")
        }),
    ]
    .boxed()
}

/// A valid text for any field, chosen by its kind alone.
fn valid_text(f: &'static Field, range: Range) -> BoxedStrategy<String> {
    match f.kind {
        // A derivable field is left to its derivation (empty) as often as it is set.
        Kind::Int { min, max, .. } if f.derivable() => {
            prop_oneof![Just(String::new()), int_text(f, min, max, range)].boxed()
        }
        Kind::Int { min, max, .. } => int_text(f, min, max, range),
        Kind::Float { min, max, .. } => float_value((min, max), default_f64(f), range)
            .prop_map(|x| x.to_string())
            .boxed(),
        Kind::Choice(keys) => pick_text(
            keys.iter().map(|k| k.to_string()).collect(),
            f.get_text(&Plan::default()),
            range,
        ),
        Kind::Bool => pick_text(
            vec!["true".into(), "false".into()],
            f.get_text(&Plan::default()),
            range,
        ),
        Kind::Text(TextRule::Name) => name_text(),
        Kind::Text(TextRule::Domain) => domain_text(),
        Kind::Text(TextRule::DnsSuffix) => "internal|lan|[a-z]{2,8}\\.example".boxed(),
        // The VIP is derived from the subnet in `raw_in` (the rule relates the two).
        Kind::Text(TextRule::Subnet) => select(vec![
            "10.0.1.0/24".to_string(),
            "10.20.0.0/16".to_string(),
            "192.168.50.0/24".to_string(),
            "172.16.0.0/12".to_string(),
        ])
        .boxed(),
        Kind::Text(TextRule::Ipv4) => Just(f.get_text(&Plan::default())).boxed(),
        Kind::Text(TextRule::Interface) => "eth0|ens[0-9]{1,3}|enp[0-9]s[0-9]|bond0".boxed(),
        Kind::Text(TextRule::Email) => "[a-z]{1,10}(\\.[a-z]{1,5})?@example\\.(com|org)".boxed(),
        Kind::Text(TextRule::HostPort) => {
            "(mail\\.internal|10\\.0\\.1\\.5|smtp\\.example\\.org):(25|465|587)".boxed()
        }
        Kind::Text(TextRule::Networks) => select(vec![
            String::new(),
            "10.0.1.0/24".to_string(),
            "192.168.10.0/24, 198.51.100.7/32".to_string(),
            "10.8.0.0/16 172.20.0.0/14".to_string(),
        ])
        .boxed(),
        Kind::CacheFactors => cache_factors_text(range),
    }
}

/// A raw plan whose every field is within its kind's bounds and which keeps the
/// cross-field rules (peak and daily active ≤ registered, cp_min ≤ cp_max) by construction. Half the
/// plans are realistic throughout, a third stray in a few fields, the rest anywhere.
fn valid_raw() -> impl Strategy<Value = RawPlan> {
    prop_oneof![
        3 => raw_in(Range::Realistic),
        2 => raw_in(Range::Mixed),
        1 => raw_in(Range::Full),
    ]
}

fn raw_in(range: Range) -> impl Strategy<Value = RawPlan> {
    let per_field: Vec<BoxedStrategy<String>> = plan::fields()
        .iter()
        .map(|f| valid_text(f, range))
        .collect();
    per_field.prop_map(|texts| {
        let mut raw = RawPlan::default();
        for (f, t) in plan::fields().iter().zip(texts) {
            assert!(raw.set(&f.path, t), "{} not settable", f.path);
        }
        let num = |raw: &RawPlan, p: &str| raw.get(p).parse::<u64>().unwrap_or(0);
        let (registered, peak) = (
            num(&raw, "users.registered"),
            num(&raw, "users.peak-concurrent"),
        );
        if peak > registered {
            raw.set(
                "users.peak-concurrent",
                (peak % (registered + 1)).to_string(),
            );
        }
        let dau = num(&raw, "activity.daily-active-users");
        if dau > registered {
            raw.set(
                "activity.daily-active-users",
                (dau % (registered + 1)).to_string(),
            );
        }
        // Peak ≤ daily active when the plan sets both (a derived one keeps it itself).
        let set = |raw: &RawPlan, p: &str| !raw.get(p).is_empty();
        let (peak, dau) = (
            num(&raw, "users.peak-concurrent"),
            num(&raw, "activity.daily-active-users"),
        );
        if set(&raw, "users.peak-concurrent")
            && set(&raw, "activity.daily-active-users")
            && peak > dau
        {
            raw.set("users.peak-concurrent", (peak % (dau + 1)).to_string());
        }
        let (cp_min, cp_max) = (num(&raw, "synapse.cp-min"), num(&raw, "synapse.cp-max"));
        if cp_min > cp_max {
            raw.set("synapse.cp-min", cp_max.to_string());
            raw.set("synapse.cp-max", cp_min.to_string());
        }
        // Port ranges: start strictly below end.
        for (lo_path, hi_path) in [
            ("coturn.min-port", "coturn.max-port"),
            ("livekit.port-range-start", "livekit.port-range-end"),
        ] {
            let (lo, hi) = (num(&raw, lo_path), num(&raw, hi_path));
            let (lo, hi) = (lo.min(hi), lo.max(hi));
            // Above the services' own ports on those hosts (3478/5349, 6379–7881),
            // which a relay range must not contain.
            let (lo, hi) = (lo.max(7882), hi.max(7883));
            let (lo, hi) = if lo == hi {
                if hi < 65535 {
                    (lo, hi + 1)
                } else {
                    (lo - 1, hi)
                }
            } else {
                (lo, hi)
            };
            raw.set(lo_path, lo.to_string());
            raw.set(hi_path, hi.to_string());
        }
        // The VIP: offset .10 of whatever subnet was drawn (never a host address).
        let subnet = raw.get("network.subnet").to_string();
        if let Some((base, _)) = subnet.split_once('/')
            && let Ok(ip) = base.parse::<std::net::Ipv4Addr>()
        {
            raw.set(
                "network.vip",
                std::net::Ipv4Addr::from(u32::from(ip) + 10).to_string(),
            );
        }
        raw
    })
}

fn valid_plan() -> impl Strategy<Value = Plan> {
    valid_raw().prop_map(|raw| {
        let v = plan::validate(&raw);
        match v.plan {
            Some(p) => p,
            None => panic!("generated plan is invalid: {:?}\n{raw:#?}", v.problems),
        }
    })
}

// ---------------------------------------------------------------------------------
// Checks shared by properties and data-driven tests
// ---------------------------------------------------------------------------------

fn check_problems_well_formed(problems: &[Problem], file_level: bool) -> Result<(), String> {
    for p in problems {
        if p.message.trim().is_empty() {
            return Err(format!("empty message: {p:?}"));
        }
        if !file_level && !is_key_path(&p.path) {
            return Err(format!("problem path is not a key path: {p:?}"));
        }
    }
    Ok(())
}

fn check_validation_consistent(v: &plan::Validation) -> Result<(), String> {
    let has_error = v.errors().next().is_some();
    if has_error == v.plan.is_some() {
        return Err(format!(
            "plan is {} but there are {} errors",
            if v.plan.is_some() { "Some" } else { "None" },
            v.errors().count()
        ));
    }
    Ok(())
}

fn check_budgets(p: &Plan, r: &Report) -> Result<(), String> {
    if r.hosts.len() != Role::ALL.len() {
        return Err(format!("{} host budgets", r.hosts.len()));
    }
    for (h, role) in r.hosts.iter().zip(Role::ALL) {
        if h.role != role {
            return Err(format!("host {} in the place of {}", h.role, role.key()));
        }
        let sum: u64 = h.items.iter().map(|i| i.gib.0).sum();
        if sum != h.ram_needed_gib.0 {
            return Err(format!(
                "{}: items add up to {sum} hundredths, ram-needed-gib is {}",
                h.role, h.ram_needed_gib.0
            ));
        }
        for i in &h.items {
            if i.count == 0 || i.gib.0 != i.each_gib.0 * i.count {
                return Err(format!(
                    "{} / {}: {} × {} ≠ {}",
                    h.role, i.name, i.count, i.each_gib.0, i.gib.0
                ));
            }
        }
        let free = h.ram_gib as i64 * 100 - h.ram_needed_gib.0 as i64;
        if h.ram_free_gib.0 != free {
            return Err(format!("{}: free {} ≠ {free}", h.role, h.ram_free_gib.0));
        }
        if h.count != p.host(role).count || h.ram_gib != p.host(role).ram_gib {
            return Err(format!("{}: count or RAM not the plan's", h.role));
        }
        if h.count == 0 && !h.items.is_empty() {
            return Err(format!("{}: not deployed but has items", h.role));
        }
    }
    // The Synapse summary is the Synapse items of the Synapse host.
    let s = &r.synapse;
    let synapse_items: u64 = r.hosts[Role::Synapse.index()]
        .items
        .iter()
        .filter(|i| i.category == sizing::Category::Synapse)
        .map(|i| i.gib.0)
        .sum();
    // Each process type: count × base + its caches; the busiest process is the largest
    // budget, and autotuning bounds every one.
    let types: u64 = s.processes.iter().map(|t| t.gib.0).sum();
    let busiest = s.processes.iter().map(|t| t.each_gib.0).max().unwrap_or(0);
    if s.process_count != p.synapse_process_count()
        || s.processes.iter().map(|t| t.count).sum::<u64>() != s.process_count
        || s.ram_total_gib.0 != types
        || s.ram_per_process_gib.0 != busiest
        || synapse_items != s.ram_total_gib.0
        || s.processes.iter().any(|t| {
            t.each_gib.0 > s.process_bound_gib.0
                || t.gib.0 != t.base_gib.0 * t.count + t.caches_gib.0
                || t.caches_gib.0 > s.cache_autotuning_max_gib.0 * t.count
        })
    {
        return Err(format!(
            "synapse summary: {} processes, {} by type, busiest {}, total {}, items {synapse_items}",
            s.process_count, types, s.ram_per_process_gib.0, s.ram_total_gib.0
        ));
    }
    let c = &r.connections;
    if c.synapse_pool_total != p.synapse_process_count() * p.synapse.cp_max {
        return Err(format!("synapse-pool-total {}", c.synapse_pool_total));
    }
    Ok(())
}

/// The report paths the issue promises, for every plan.
fn check_json_paths(p: &Plan, v: &Json) -> Result<(), String> {
    let get = |path: &str| lookup(v, path).ok_or_else(|| format!("no {path} in the report"));
    let expect_u64 = |path: &str, want: u64| -> Result<(), String> {
        match get(path)?.as_u64() {
            Some(n) if n == want => Ok(()),
            other => Err(format!("{path} = {other:?}, want {want}")),
        }
    };
    let expect_number = |path: &str| -> Result<f64, String> {
        get(path)?
            .as_f64()
            .ok_or_else(|| format!("{path} is not a number"))
    };
    expect_u64("synapse.process-count", p.synapse_process_count())?;
    let per = expect_number("synapse.ram-per-process-gib")?;
    let total = expect_number("synapse.ram-total-gib")?;
    // The busiest process's budget times the processes bounds the total from above.
    if total > per * p.synapse_process_count() as f64 + 1e-6 * total.max(1.0) {
        return Err(format!("ram-total-gib {total} > {per} × processes"));
    }
    let hosts = get("hosts")?
        .as_array()
        .ok_or("hosts is not an array")?
        .len();
    if hosts != Role::ALL.len() {
        return Err(format!("{hosts} hosts"));
    }
    for (i, role) in Role::ALL.iter().enumerate() {
        if get(&format!("hosts[{i}].role"))?.as_str() != Some(role.key()) {
            return Err(format!("hosts[{i}].role is not {}", role.key()));
        }
        expect_u64(&format!("hosts[{i}].count"), p.host(*role).count)?;
        expect_u64(&format!("hosts[{i}].ram-gib"), p.host(*role).ram_gib)?;
        expect_number(&format!("hosts[{i}].ram-needed-gib"))?;
        if !get(&format!("hosts[{i}].items"))?.is_array() {
            return Err(format!("hosts[{i}].items is not an array"));
        }
    }
    expect_u64(
        "connections.synapse-pool-total",
        p.synapse_process_count() * p.synapse.cp_max,
    )?;
    expect_u64(
        "connections.pgbouncer-max-client-conn",
        p.pgbouncer.max_client_conn,
    )?;
    expect_number("connections.pgbouncer-server-connections")?;
    expect_u64(
        "connections.postgres-max-connections",
        p.postgres.max_connections,
    )?;
    match get("connections.postgres-available")?.as_i64() {
        Some(n) if n <= p.postgres.max_connections as i64 => {}
        other => return Err(format!("connections.postgres-available = {other:?}")),
    }
    let params = get("postgres.parameters")?
        .as_object()
        .ok_or("postgres.parameters is not an object")?;
    if params.is_empty() || !params.values().all(Json::is_string) {
        return Err(format!("postgres.parameters: {params:?}"));
    }
    let findings = get("findings")?
        .as_array()
        .ok_or("findings is not an array")?;
    for i in 0..findings.len() {
        let sev = get(&format!("findings[{i}].severity"))?;
        if !matches!(sev.as_str(), Some("error" | "warning" | "info")) {
            return Err(format!("findings[{i}].severity = {sev}"));
        }
        if !get(&format!("findings[{i}].code"))?.is_string()
            || !get(&format!("findings[{i}].message"))?.is_string()
        {
            return Err(format!("findings[{i}] code or message is not a string"));
        }
        let paths = get(&format!("findings[{i}].paths"))?;
        if !paths
            .as_array()
            .is_some_and(|a| !a.is_empty() && a.iter().all(Json::is_string))
        {
            return Err(format!("findings[{i}].paths = {paths}"));
        }
    }
    Ok(())
}

fn check_findings(r: &Report) -> Result<(), String> {
    for f in &r.findings {
        if !CODES.contains(&f.code) {
            return Err(format!("unknown finding code {}", f.code));
        }
        if f.paths.is_empty() {
            return Err(format!("{} has no paths", f.code));
        }
        for path in &f.paths {
            if !is_key_path(path) && !is_group(path) {
                return Err(format!(
                    "{}: {path} is neither a key path nor a group",
                    f.code
                ));
            }
        }
        if f.message.is_empty() || f.why.is_empty() || f.fix.is_empty() {
            return Err(format!("{}: empty message, why or fix", f.code));
        }
    }
    let sorted = r
        .findings
        .windows(2)
        .all(|w| w[0].severity <= w[1].severity);
    if !sorted {
        return Err("findings are not sorted errors → warnings → infos".into());
    }
    let count = |s| r.findings.iter().filter(|f| f.severity == s).count();
    let (e, w, i) = (
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
    );
    if (r.summary.errors, r.summary.warnings, r.summary.infos) != (e, w, i) {
        return Err(format!("summary {:?} ≠ ({e}, {w}, {i})", r.summary));
    }
    Ok(())
}

fn check_round_trips(p: &Plan) -> Result<(), String> {
    let direct = plan::validate(&RawPlan::from_plan(p));
    if direct.plan.as_ref() != Some(p) {
        return Err(format!(
            "RawPlan::from_plan does not validate back: {:?}",
            direct.problems
        ));
    }
    // Soft-bound warnings belong to the plan; the file itself must add nothing.
    if direct
        .problems
        .iter()
        .any(|x| x.severity == Severity::Error)
    {
        return Err(format!("errors on a valid plan: {:?}", direct.problems));
    }
    for style in [YamlStyle::Full, YamlStyle::Minimal] {
        let text = plan::to_yaml(p, style);
        let read = plan::from_yaml(&text);
        if !read.problems.is_empty() {
            return Err(format!(
                "{style:?} YAML has file problems {:?}:\n{text}",
                read.problems
            ));
        }
        let v = read.validate();
        if v.plan.as_ref() != Some(p) {
            return Err(format!(
                "{style:?} YAML reads back as another plan ({:?}):\n{text}\n{:#?}",
                v.problems, v.plan
            ));
        }
        if v.problems != direct.problems {
            return Err(format!(
                "{style:?} YAML problems {:?} ≠ the plan's own {:?}",
                v.problems, direct.problems
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// Monotonicity: more load never needs less
// ---------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Bump {
    Worker(WorkerKind),
    CacheFactor(f64),
    PoolSize(u64),
    MaxClientConn(u64),
    PeakConcurrent(u64),
}

fn bump() -> impl Strategy<Value = Bump> {
    let delta = prop_oneof![3 => Just(1u64), 2 => 1u64..=100, 1 => 1u64..=100_000];
    prop_oneof![
        select(WorkerKind::ALL.to_vec()).prop_map(Bump::Worker),
        prop_oneof![Just(0.01), 0.001f64..=5.0, 0.001f64..=1000.0].prop_map(Bump::CacheFactor),
        delta.clone().prop_map(Bump::PoolSize),
        delta.clone().prop_map(Bump::MaxClientConn),
        delta.prop_map(Bump::PeakConcurrent),
    ]
}

/// The field to change and its new, higher text; None when it is already at its bound.
fn bumped(p: &Plan, b: &Bump) -> Option<(String, String)> {
    let int = |path: &str, now: u64, delta: u64, cap: u64| {
        let new = now.saturating_add(delta).min(cap);
        (new > now).then(|| (path.to_string(), new.to_string()))
    };
    match *b {
        Bump::Worker(k) => {
            let path = format!("synapse.workers.{}", k.key());
            int(&path, p.workers(k), 1, int_kind(&path).1)
        }
        Bump::CacheFactor(d) => {
            let (_, max) = float_kind("synapse.cache-factor");
            let new = (p.synapse.cache_factor + d).min(max);
            (new > p.synapse.cache_factor)
                .then(|| ("synapse.cache-factor".to_string(), new.to_string()))
        }
        Bump::PoolSize(d) => int(
            "pgbouncer.default-pool-size",
            p.pgbouncer.default_pool_size,
            d,
            int_kind("pgbouncer.default-pool-size").1,
        ),
        Bump::MaxClientConn(d) => int(
            "pgbouncer.max-client-conn",
            p.pgbouncer.max_client_conn,
            d,
            int_kind("pgbouncer.max-client-conn").1,
        ),
        // Within the daily active users the plan sets, or the registered ones (a derived
        // daily-active count rises with the peak).
        Bump::PeakConcurrent(d) => int(
            "users.peak-concurrent",
            p.peak_concurrent_users(),
            d,
            p.activity.daily_active_users.unwrap_or(p.users.registered),
        ),
    }
}

/// What must not go down when load goes up.
fn load_figures(p: &Plan) -> [(&'static str, u64); 4] {
    let c = sizing::connections::connections(p);
    [
        (
            "hosts.synapse ram-needed",
            sizing::ram::budget(p, Role::Synapse).ram_needed_gib.0,
        ),
        (
            "hosts.patroni ram-needed",
            sizing::ram::budget(p, Role::Patroni).ram_needed_gib.0,
        ),
        ("connections.synapse-pool-total", c.synapse_pool_total),
        (
            "connections.pgbouncer-server-connections",
            c.pgbouncer_server_connections,
        ),
    ]
}

/// The figures that grow with users, as (name, value): the derived activity, the
/// storage growth (events, database, WAL, media, each disk's growth, month-end size and
/// need), the connection, RAM and CPU needs of every role, and the call load (relayed calls,
/// TURN allocations, LiveKit participants and bandwidth per node).
fn growth_figures(p: &Plan) -> Vec<(String, f64)> {
    let mut out: Vec<(String, f64)> = vec![
        ("daily active users".into(), p.daily_active_users() as f64),
        (
            "peak concurrent users".into(),
            p.peak_concurrent_users() as f64,
        ),
        (
            "concurrent 1:1 calls".into(),
            p.concurrent_1to1_calls() as f64,
        ),
        ("group call rooms".into(), p.group_call_rooms() as f64),
    ];
    let st = sizing::storage::storage(p);
    let r = &st.rates;
    for (name, x) in [
        (
            "storage.rates.local-events-per-day",
            r.local_events_per_day as f64,
        ),
        (
            "storage.rates.stored-events-per-day",
            r.stored_events_per_day as f64,
        ),
        ("storage.rates.remote-rooms", r.remote_rooms as f64),
        (
            "storage.rates.received-events-per-day",
            r.received_events_per_day as f64,
        ),
        ("storage.rates.db-join-gib", r.db_join_gib),
        ("storage.rates.db-pools-gib", r.db_pools_gib),
        ("storage.rates.db-start-gib", r.db_start_gib),
        ("storage.rates.db-gib-per-day", r.db_gib_per_day),
        ("storage.rates.wal-gib-per-day", r.wal_gib_per_day),
        (
            "storage.rates.local-media-gib-per-day",
            r.local_media_gib_per_day,
        ),
        (
            "storage.rates.remote-media-gib-per-day",
            r.remote_media_gib_per_day,
        ),
        ("storage.rates.media-gib-per-month", r.media_gib_per_month),
    ] {
        out.push((name.into(), x));
    }
    for d in &st.disks {
        out.push((
            format!("{} growth-gib-per-month", d.label),
            d.growth_gib_per_month,
        ));
        out.push((format!("{} end-gib", d.label), d.end_gib));
        out.push((format!("{} needed-gib", d.label), d.needed_gib));
    }
    out.push((
        "connections.haproxy-maxconn".into(),
        sizing::connections::connections(p).haproxy_maxconn as f64,
    ));
    for role in Role::ALL {
        out.push((
            format!("hosts.{} ram-needed", role.key()),
            sizing::ram::budget(p, role).ram_needed_gib.0 as f64,
        ));
        let cpu = sizing::cpu::budget(p, role);
        out.push((
            format!("cpu.hosts.{} vcpus-needed", role.key()),
            cpu.vcpus_needed.0 as f64,
        ));
        out.push((
            format!("cpu.hosts.{} load-vcpus", role.key()),
            cpu.load_vcpus.0 as f64,
        ));
    }
    let c = sizing::calls::calls(p);
    for (name, x) in [
        ("calls.turn.relayed-calls", c.turn.relayed_calls as f64),
        ("calls.turn.allocations", c.turn.allocations as f64),
        ("calls.livekit.rooms", c.livekit.rooms as f64),
        ("calls.livekit.participants", c.livekit.participants as f64),
        (
            "calls.livekit.egress-mbps-per-node",
            c.livekit.egress_mbps_per_node,
        ),
    ] {
        out.push((name.into(), x));
    }
    out
}

/// Doubles the registered users of `p` with its activity and calls left to their
/// derivation; no growth figure may go down.
fn check_doubling(p: &Plan) -> Result<(), String> {
    let derived = p
        .with_texts(&[
            ("activity.daily-active-users", ""),
            ("users.peak-concurrent", ""),
            ("calls.concurrent-1to1", ""),
            ("calls.group-rooms", ""),
        ])
        .map_err(|e| format!("deriving the activity is invalid: {e:?}"))?;
    let doubled = derived
        .users
        .registered
        .saturating_mul(2)
        .min(int_kind("users.registered").1);
    let after = derived
        .with_text("users.registered", &doubled.to_string())
        .map_err(|e| format!("{doubled} registered users is invalid: {e:?}"))?;
    for ((name, old), (_, new)) in growth_figures(&derived).iter().zip(growth_figures(&after)) {
        // Relative slack for floating-point sums of larger terms.
        if new < *old - old.abs() * 1e-9 {
            return Err(format!(
                "doubling users from {} to {doubled} lowered {name} from {old} to {new}",
                derived.users.registered
            ));
        }
    }
    Ok(())
}

fn check_monotone(before: &Plan, path: &str, text: &str) -> Result<(), String> {
    let after = before
        .with_text(path, text)
        .map_err(|e| format!("raising {path} to {text} is invalid: {e:?}"))?;
    let (b, a) = (load_figures(before), load_figures(&after));
    for ((name, old), (_, new)) in b.iter().zip(a.iter()) {
        if new < old {
            return Err(format!(
                "raising {path} to {text} lowered {name} from {old} to {new} (hundredths for RAM)"
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// Strategies: anything at all
// ---------------------------------------------------------------------------------

const NASTY: &[&str] = &[
    "",
    " ",
    "\t\n",
    "-0",
    "+0",
    "-",
    "+",
    ".",
    "-.",
    "1e309",
    "-1e309",
    "1e-309",
    "1e",
    "e5",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "Infinity",
    "0x10",
    "1_000",
    "1,5",
    "1,000,000",
    "1 000",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999999999999999999",
    "0000000000000000000000000000000000001",
    "-18446744073709551616",
    "1.",
    ".5",
    "5.",
    "--5",
    "+-5",
    "٣",
    "１２",
    "−5",
    "true",
    "TRUE",
    "yes",
    "null",
    "~",
    "\u{0}",
    "\u{feff}1",
    "1\u{2028}",
    "a: b: c",
    ":",
    ": 5",
    "x:",
    "get_users_in_room: 5\nget_users_in_room: 6",
    "*: 1e309",
    "chat..example.com",
    ".example.com",
    "example.com.",
    "-a.com",
    "a-.com",
    "1.2.3.4",
    "a.123",
    "ÄÖÜ.example",
    "x\u{7f}",
    "\u{1b}[31m",
];

fn nasty_text() -> BoxedStrategy<String> {
    prop_oneof![
        3 => select(NASTY.to_vec()).prop_map(str::to_string),
        2 => any::<String>(),
        2 => "[-+0-9.eE_, ]{0,12}",
        1 => "[a-z_*:0-9. \\n-]{0,40}",
        1 => any::<u64>().prop_map(|n| n.to_string()),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => any::<f64>().prop_map(|x| x.to_string()),
        1 => any::<f64>().prop_map(|x| format!("{x:e}")),
        1 => "\\PC{60,300}",
    ]
    .boxed()
}

/// A small YAML-shaped document: nested mappings with plan-like keys, random scalars.
#[derive(Clone, Debug)]
enum Node {
    Scalar(String),
    Seq(Vec<String>),
    Map(Vec<(String, Node)>),
}

fn yaml_key() -> BoxedStrategy<String> {
    let mut keys: BTreeSet<String> = BTreeSet::new();
    for f in plan::fields() {
        keys.insert(f.path.clone());
        keys.extend(f.path.split('.').map(str::to_string));
    }
    keys.extend(
        [
            "schema",
            "extra",
            "peak-concurent",
            "ram",
            "workers-count",
            "123",
            "true",
            "null",
            "1.5",
            "users.registered.x",
        ]
        .map(String::from),
    );
    let keys: Vec<String> = keys.into_iter().collect();
    prop_oneof![8 => select(keys), 1 => "[a-z][a-z0-9-]{0,10}"].boxed()
}

fn yaml_scalar() -> BoxedStrategy<String> {
    let plain = [
        "1",
        "0",
        "-1",
        "3",
        "64",
        "10000",
        "2.5",
        "1e3",
        "1e309",
        "-0",
        ".inf",
        "-.inf",
        ".nan",
        "NaN",
        "~",
        "null",
        "true",
        "false",
        "yes",
        "''",
        "\"\"",
        "'quoted'",
        "\"a\\tb\"",
        "\"\\u2028\"",
        "0x10",
        "0o7",
        "1_000",
        "99999999999999999999999",
        "transaction",
        "nvme",
        "chat.example.com",
        "a: b",
        "{a: 1}",
        "{get_users_in_room: 5}",
        "[1, 2]",
        "[]",
        "{}",
        "!tag 5",
        "!!str 5",
        "!!int x",
        "!!binary aGk=",
        "&a 5",
        "*a",
        "*missing",
        "|",
        ">",
        "\"unterminated",
        "'unterminated",
        "# comment",
        "é",
        "- a",
        "? x",
        "%YAML 1.2",
        "---",
        "...",
        "@",
        "`",
    ];
    prop_oneof![
        6 => select(plain.to_vec()).prop_map(str::to_string),
        2 => "[a-z0-9.-]{1,10}",
        1 => any::<u64>().prop_map(|n| n.to_string()),
        1 => any::<f64>().prop_map(|x| x.to_string()),
    ]
    .boxed()
}

fn yaml_node() -> impl Strategy<Value = Node> {
    let leaf = prop_oneof![
        4 => yaml_scalar().prop_map(Node::Scalar),
        1 => proptest::collection::vec(yaml_scalar(), 0..4).prop_map(Node::Seq),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        proptest::collection::vec((yaml_key(), inner), 0..6).prop_map(Node::Map)
    })
}

fn render_key(k: &str) -> String {
    if k.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
    {
        k.to_string()
    } else {
        format!("'{}'", k.replace('\'', "''"))
    }
}

fn render(node: &Node, indent: usize, out: &mut String) {
    match node {
        Node::Scalar(s) => {
            out.push_str(s);
            out.push('\n');
        }
        Node::Seq(items) => {
            out.push('[');
            out.push_str(&items.join(", "));
            out.push_str("]\n");
        }
        Node::Map(entries) if entries.is_empty() => out.push_str("{}\n"),
        Node::Map(entries) => {
            for (k, v) in entries {
                out.push_str(&" ".repeat(indent));
                out.push_str(&render_key(k));
                out.push(':');
                match v {
                    Node::Map(m) if !m.is_empty() => {
                        out.push('\n');
                        render(v, indent + 2, out);
                    }
                    _ => {
                        out.push(' ');
                        render(v, indent + 2, out);
                    }
                }
            }
        }
    }
}

fn yaml_document() -> impl Strategy<Value = String> {
    // No schema key, schema 1 (migrated) or schema 2.
    (0u8..3, yaml_node()).prop_map(|(schema, node)| {
        let mut out = String::new();
        if schema > 0 {
            out.push_str(&format!("schema: {schema}\n"));
        }
        match node {
            Node::Map(_) => render(&node, 0, &mut out),
            other => {
                out.push_str("name: ");
                render(&other, 2, &mut out);
            }
        }
        out
    })
}

/// A valid plan's YAML with a few values (or whole groups) replaced by random scalars,
/// or lines dropped: files that are almost right, as people edit them.
fn edited_plan_yaml() -> impl Strategy<Value = String> {
    let edit = prop_oneof![
        4 => yaml_scalar().prop_map(Some),
        1 => Just(None),
    ];
    (
        valid_plan(),
        any::<bool>(),
        proptest::collection::vec((any::<proptest::sample::Index>(), edit), 1..4),
    )
        .prop_map(|(p, full, edits)| {
            let style = if full {
                YamlStyle::Full
            } else {
                YamlStyle::Minimal
            };
            let mut lines: Vec<String> =
                plan::to_yaml(&p, style).lines().map(String::from).collect();
            for (at, edit) in edits {
                if lines.is_empty() {
                    break;
                }
                let i = at.index(lines.len());
                match edit {
                    None => {
                        lines.remove(i);
                    }
                    Some(scalar) => {
                        let line = &lines[i];
                        let key_end = line.find(':').unwrap_or(line.len());
                        lines[i] = format!("{}: {scalar}", &line[..key_end]);
                    }
                }
            }
            lines.join("\n") + "\n"
        })
}

// ---------------------------------------------------------------------------------
// The properties
// ---------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(256))]

    /// (a) Every generated plan validates (by construction) and gets a report.
    #[test]
    fn every_valid_plan_gets_a_report(raw in valid_raw()) {
        let v = plan::validate(&raw);
        prop_assert!(v.errors().next().is_none(), "{:?}", v.problems);
        check_validation_consistent(&v).or_fail()?;
        let p = v.plan.expect("no errors, so a plan");
        let r = Report::new(&p);
        let text = r.to_text();
        prop_assert!(text.starts_with("synapse-planner report: "));
        let json: Json = serde_json::from_str(&r.to_json()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let direct = r.to_json_value();
        if json != direct {
            let a = json.to_string();
            let b = direct.to_string();
            let at = a.bytes().zip(b.bytes()).position(|(x, y)| x != y).unwrap_or(0);
            return Err(TestCaseError::fail(format!("JSON differs at {at}: …{}… vs …{}…", &a[at.saturating_sub(80)..(at + 80).min(a.len())], &b[at.saturating_sub(80)..(at + 80).min(b.len())])));
        }
    }

    /// (b) Every RAM figure is exactly the sum of its items, and every item count × each.
    #[test]
    fn budgets_add_up_exactly(p in valid_plan()) {
        check_budgets(&p, &Report::new(&p)).or_fail()?;
    }

    /// (c) More load never needs less RAM or fewer connections.
    #[test]
    fn more_load_never_needs_less(p in valid_plan(), b in bump()) {
        if let Some((path, text)) = bumped(&p, &b) {
            check_monotone(&p, &path, &text).or_fail()?;
        }
    }

    /// (c') Activity follows users: doubling the registered users of a plan whose
    /// activity and calls are derived never lowers a growth or load figure
    /// (`growth_figures` lists them).
    #[test]
    fn doubling_users_never_lowers_growth_or_load(p in valid_plan()) {
        check_doubling(&p).or_fail()?;
    }

    /// (d) Plans survive both YAML styles and the form's text unchanged.
    #[test]
    fn yaml_and_raw_round_trip(p in valid_plan()) {
        check_round_trips(&p).or_fail()?;
    }

    /// (e) Any text in any fields: no panic, every problem at a key path with a message.
    #[test]
    fn any_field_text_is_judged_not_panicked_on(
        edits in proptest::collection::vec(
            (select(plan::fields().iter().map(|f| f.path.as_str()).collect::<Vec<_>>()), nasty_text()),
            1..5,
        )
    ) {
        let mut raw = RawPlan::default();
        for (path, text) in &edits {
            prop_assert!(raw.set(path, text.clone()));
        }
        let v = plan::validate(&raw);
        check_problems_well_formed(&v.problems, false).or_fail()?;
        check_validation_consistent(&v).or_fail()?;
        if let Some(p) = &v.plan {
            // Whatever was accepted is a plan like any other.
            check_round_trips(p).or_fail()?;
            check_budgets(p, &Report::new(p)).or_fail()?;
        }
    }

    /// (f) Any text as a plan file: no panic, messages everywhere, plan iff no error.
    #[test]
    fn any_file_text_is_judged_not_panicked_on(
        text in prop_oneof![
            any::<String>(),
            "[a-z:\\- \\n{}\\[\\]'\"#&*!|>0-9.,?%@`]{0,200}",
            "\\PC{0,200}",
        ]
    ) {
        let v = plan::from_yaml(&text).validate();
        check_problems_well_formed(&v.problems, true).or_fail()?;
        check_validation_consistent(&v).or_fail()?;
    }

    /// (f) YAML-shaped files with plan-like keys: every problem is at "" or a dotted path.
    #[test]
    fn yaml_shaped_files_blame_dotted_paths(
        text in prop_oneof![yaml_document(), edited_plan_yaml()]
    ) {
        let read = plan::from_yaml(&text);
        let v = read.validate();
        check_problems_well_formed(&v.problems, true).or_fail()?;
        check_validation_consistent(&v).or_fail()?;
        for p in &v.problems {
            prop_assert!(
                p.path.is_empty() || is_dotted(&p.path),
                "path {:?} in {:?} for\n{}", p.path, p, text
            );
            // Errors are always about the schema: a field, a group, or the file.
            if p.severity == Severity::Error {
                prop_assert!(
                    p.path.is_empty() || p.path == "schema" || is_key_path(&p.path) || is_group(&p.path),
                    "error at {:?}: {:?} for\n{}", p.path, p, text
                );
            }
        }
        if let Some(p) = &v.plan {
            check_round_trips(p).or_fail()?;
        }
    }

    /// (g) The report JSON has every promised path, for every plan.
    #[test]
    fn report_json_has_the_promised_paths(p in valid_plan()) {
        check_json_paths(&p, &Report::new(&p).to_json_value()).or_fail()?;
    }

    /// (h) Findings point at inputs and carry known codes.
    #[test]
    fn findings_point_at_inputs(p in valid_plan()) {
        check_findings(&Report::new(&p)).or_fail()?;
    }
}

// ---------------------------------------------------------------------------------
// Data-driven cases: minimal counterexamples and edges, checked every run
// ---------------------------------------------------------------------------------

fn plan_with(changes: Changes) -> Plan {
    let mut p = Plan::default();
    for (path, text) in changes {
        p = p
            .with_text(path, text)
            .unwrap_or_else(|e| panic!("{path} = {text}: {e:?}"));
    }
    p
}

/// Field changes applied in order to the default plan: `(key path, text)`.
type Changes<'a> = &'a [(&'a str, &'a str)];

/// Raising `path` to `text` from the plan `base` must not lower any load figure.
fn check_more_load(cases: &[(Changes, &str, &str)]) {
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(base, path, text)| {
            check_monotone(&plan_with(base), path, text)
                .err()
                .map(|e| format!("from default + {base:?}: {e}"))
        })
        .collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn more_load_edges() {
    check_more_load(&[
        (&[], "synapse.workers.sync", "4"),
        (&[], "synapse.workers.generic", "64"),
        (&[], "synapse.cache-factor", "10.01"),
        (&[], "synapse.cache-factor", "1000"),
        (&[], "pgbouncer.max-client-conn", "1000000"),
        (&[], "users.peak-concurrent", "10000"),
        (&[], "pgbouncer.default-pool-size", "51"),
        (&[], "pgbouncer.default-pool-size", "10000"),
        (&[], "pgbouncer.reserve-pool-size", "11"),
        // max_connections bounds the backends: more pool beyond it needs no more RAM,
        // and never less.
        (
            &[("postgres.max-connections", "10")],
            "pgbouncer.default-pool-size",
            "51",
        ),
        // Tiny Patroni host: work_mem sits on its 4MB floor.
        (
            &[("hosts.patroni.ram-gib", "1"), ("hosts.patroni.vcpus", "1")],
            "pgbouncer.default-pool-size",
            "501",
        ),
    ]);
}

/// Walks `path` through `values` (ascending; the first is the start) from the default
/// plan + `base`, and reports every step that lowers a load figure.
fn sweep(base: Changes, path: &str, values: &[String]) -> Vec<String> {
    let Some((first, rest)) = values.split_first() else {
        return vec![];
    };
    let mut failures = Vec::new();
    let mut before = plan_with(base)
        .with_text(path, first)
        .unwrap_or_else(|e| panic!("{base:?} + {path} = {first}: {e:?}"));
    let mut figures = load_figures(&before);
    for text in rest {
        let after = before
            .with_text(path, text)
            .unwrap_or_else(|e| panic!("{base:?} + {path} = {text}: {e:?}"));
        let next = load_figures(&after);
        for ((name, old), (_, new)) in figures.iter().zip(next.iter()) {
            if new < old {
                failures.push(format!(
                    "default + {base:?}: {path} {} → {text} lowers {name} from {old} to {new}",
                    plan::field(path)
                        .map(|f| f.get_text(&before))
                        .unwrap_or_default()
                ));
            }
        }
        (before, figures) = (after, next);
    }
    failures
}

/// From default + changes, walk a key path through ascending values.
type Sweep<'a> = (Changes<'a>, &'a str, Vec<String>);

fn check_sweeps(cases: &[Sweep]) {
    let failures: Vec<String> = cases
        .iter()
        .flat_map(|(base, path, values)| sweep(base, path, values))
        .collect();
    assert!(
        failures.is_empty(),
        "{} steps lower a load figure; the first ones:\n{}",
        failures.len(),
        failures
            .iter()
            .take(12)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

fn ints(r: std::ops::RangeInclusive<u64>) -> Vec<String> {
    r.map(|n| n.to_string()).collect()
}

/// Every +1 step of every load field, on a few host shapes, never lowers a load figure.
///
/// Load is what runs: users, processes, cache factor, PgBouncer's pools (which bound
/// the PostgreSQL backends). `postgres.max-connections` is a limit, not load: PGTune
/// shrinks work_mem as it grows, so it may lower the Patroni budget, as it should.
#[test]
fn every_step_up_needs_at_least_as_much() {
    let patroni = |ram: &'static str, vcpus: &'static str| -> Vec<(&'static str, &'static str)> {
        vec![
            ("hosts.patroni.ram-gib", ram),
            ("hosts.patroni.vcpus", vcpus),
        ]
    };
    let shapes = [
        patroni("1", "1"),
        patroni("4", "2"),
        patroni("16", "8"),
        patroni("64", "16"),
        patroni("256", "32"),
    ];
    let mut cases: Vec<Sweep> = Vec::new();
    for shape in &shapes {
        cases.push((shape, "pgbouncer.default-pool-size", ints(1..=2_000)));
    }
    cases.push((&[], "pgbouncer.max-client-conn", ints(1..=5_000)));
    cases.push((
        &[],
        "users.peak-concurrent",
        ints(0..=10_000).into_iter().step_by(3).collect(),
    ));
    cases.push((
        &[],
        "synapse.cache-factor",
        (1..=100_000)
            .step_by(13)
            .map(|n| (n as f64 / 100.0).to_string())
            .collect(),
    ));
    for k in WorkerKind::ALL {
        let path: &'static str = Box::leak(format!("synapse.workers.{}", k.key()).into_boxed_str());
        cases.push((&[], path, ints(0..=64)));
    }
    check_sweeps(&cases);
}

/// Text that every field of its kind must refuse, with the problem at that field.
fn check_rejected(cases: &[(&str, &[&str])]) {
    let mut failures = Vec::new();
    for (path, texts) in cases {
        for text in *texts {
            let mut raw = RawPlan::default();
            assert!(raw.set(path, *text), "unknown path {path}");
            let v = plan::validate(&raw);
            let at_path = v
                .for_path(path)
                .filter(|p| p.severity == Severity::Error)
                .count();
            if v.plan.is_some() || at_path == 0 {
                failures.push(format!("{path} = {text:?} accepted: {:?}", v.problems));
            }
            if let Err(e) = check_problems_well_formed(&v.problems, false) {
                failures.push(format!("{path} = {text:?}: {e}"));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn refuses_what_is_not_a_value() {
    let not_int: &[&str] = &[
        "",
        " ",
        "-0",
        "-1",
        "+5",
        "1e3",
        "1.0",
        "NaN",
        "inf",
        "0x10",
        "1_000",
        "1,000",
        "٣",
        "１２",
        "18446744073709551616",
        "1e309",
    ];
    let not_float: &[&str] = &[
        "", " ", "-0", "0", "NaN", "nan", "inf", "-inf", "Infinity", "1e309", "0x1p3", "1,5", "٣",
        "1e-309", ".", "e", "--1",
    ];
    check_rejected(&[
        ("users.registered", not_int),
        ("synapse.workers.sync", not_int),
        ("hosts.minio.count", not_int),
        ("postgres.max-connections", not_int),
        ("synapse.cache-factor", not_float),
        ("minio.drive-tib", not_float),
        ("synapse.redis", &["", "yes", "True", "1", "on"]),
        ("postgres.storage", &["", "NVMe", "tape", " nvme x"]),
        (
            "name",
            &["", "   ", "a\tb", "a\nb", "x\u{7f}", &"n".repeat(81)],
        ),
        (
            "domain",
            &[
                "",
                "localhost",
                "Chat.example.com",
                "chat..example.com",
                ".example.com",
                "example.com.",
                "-a.com",
                "a-.com",
                "1.2.3.4",
                "a.123",
                "ÄÖÜ.example",
                "a_b.com",
            ],
        ),
        (
            "synapse.per-cache-factors",
            &[
                "x",
                ": 5",
                "a b: 5",
                "a: 0",
                "a: 1e309",
                "a: 1\na: 2",
                "a-b: 1",
            ],
        ),
    ]);
}

/// Values YAML likes to reinterpret (numbers, booleans, nulls, indicators, line
/// separators) survive both YAML styles and the form text exactly.
fn check_round_trip_edges(cases: &[(&str, &[&str])]) {
    let mut failures = Vec::new();
    for (path, texts) in cases {
        for text in *texts {
            match Plan::default().with_text(path, text) {
                Ok(p) => {
                    if let Err(e) = check_round_trips(&p) {
                        failures.push(format!("{path} = {text:?}: {e}"));
                    }
                }
                Err(e) => failures.push(format!("{path} = {text:?} is refused: {e:?}")),
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Characters a plan name may not hold (line separators, a byte-order mark, a no-break
/// space, noncharacters, bidirectional controls: docs/plan-text.md) are refused at the
/// field rather than carried through YAML.
#[test]
fn names_refuse_invisible_and_line_breaking_characters() {
    for text in [
        "x\u{2028}y",
        "x\u{2029}y",
        "\u{feff}x",
        "x\u{a0}y",
        "\u{fffe}",
        "\u{ffff}",
        "\u{10ffff}",
        "\u{202e}abc",
    ] {
        let e = Plan::default()
            .with_text("name", text)
            .expect_err(&format!("{text:?} accepted"));
        assert!(e.iter().all(|p| p.path == "name"), "{text:?}: {e:?}");
    }
}

#[test]
fn yaml_lookalikes_round_trip() {
    let long = "é".repeat(80);
    check_round_trip_edges(&[
        (
            "name",
            &[
                "~", "null", "Null", "true", "no", "yes", "on", "123", "-1", "1e5", "0x1F", "0o17",
                ".inf", ".nan", "1_000", "- a", "a: b", "a:b", "#x", "x #y", "'", "\"", "''", "*a",
                "&a", "!x", "!!str", "|", ">", "%", "@", "`", "?", "? x", "---", "...", "[a]",
                "{a: 1}", ",", "😀", &long,
            ],
        ),
        (
            "domain",
            &[
                "1e5.com",
                "true.com",
                "null.org",
                "0x1f.net",
                "123.com",
                "a.b.c.d.example",
                "xn--bcher-kva.example",
            ],
        ),
        (
            "synapse.per-cache-factors",
            &[
                "*: 1",
                "123: 2",
                "1e5: 3",
                "true: 4",
                "null: 5",
                "_: 6",
                "*stateGroupCache*: 7",
                "a: 0.01\nb: 1000\nc: 0.1\nd: 123.456",
            ],
        ),
        (
            "synapse.cache-factor",
            &[
                "0.01",
                "0.1",
                "0.3",
                "1e2",
                "999.999",
                "1000",
                "33.333333333333336",
            ],
        ),
        (
            "minio.drive-tib",
            &["0.01", "1024", "2.5", "1e-2", "0.010000000000000002"],
        ),
    ]);
}

// ---------------------------------------------------------------------------------
// Share links
// ---------------------------------------------------------------------------------

/// A link damaged the ways links get damaged: cut short, a character changed, text
/// pasted into it.
fn damaged_link() -> impl Strategy<Value = String> {
    (valid_plan(), 0usize..2000, any::<char>(), 0u8..3).prop_map(|(p, at, c, how)| {
        let l = plan::link::encode(&p).unwrap_or_default();
        let at = at % (l.len() + 1);
        let at = (0..=at).rev().find(|i| l.is_char_boundary(*i)).unwrap_or(0);
        match how {
            0 => l[..at].to_string(),
            1 => {
                let mut s = l.clone();
                s.insert(at, c);
                s
            }
            _ => {
                let mut chars: Vec<char> = l.chars().collect();
                if !chars.is_empty() {
                    let i = at % chars.len();
                    chars[i] = c;
                }
                chars.into_iter().collect()
            }
        }
    })
}

proptest! {
    #![proptest_config(config(256))]

    /// plan → link → plan is the identity, and the link stays short.
    #[test]
    fn links_round_trip(p in valid_plan()) {
        // Realistic plans stay under 1,500 characters (src/plan/link.rs tests); random
        // 17-digit overrides of every assumption do not compress, but still fit.
        let l = plan::link::encode(&p).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(l.len() <= plan::link::MAX_FRAGMENT, "{} characters", l.len());
        let opened = plan::link::decode(&format!("https://planner.example/#{l}")).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(opened.note.as_deref(), None);
        prop_assert_eq!(opened.validate().plan, Some(p));
    }

    /// Any text as a fragment: a plan or an error, never a panic.
    #[test]
    fn any_fragment_is_judged_not_panicked_on(
        s in prop_oneof![
            any::<String>(),
            "[0-9]{1,3}\\.[0-9]{1,3}\\.[A-Za-z0-9_\\-]{0,400}",
            damaged_link(),
        ]
    ) {
        if let Ok(opened) = plan::link::decode(&s) {
            let v = opened.validate();
            check_problems_well_formed(&v.problems, true).or_fail()?;
        }
    }
}

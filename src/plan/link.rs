//! Share links: a plan in a URL fragment.
//!
//! Format: `#<format>.<rules>.<payload>`, e.g. `#2.3.eJwrTs…`
//! * `format` (2): how the payload is encoded. Format 2 (this build's) and 1: `code=value`
//!   pairs joined by `;` for the fields that differ from their defaults, where `code` is
//!   the field's number in [`FORMAT_1_KEYS`] (frozen: new fields are appended, none is ever
//!   removed or renumbered) and the value is the field's text as in a plan file, with `%`,
//!   `;`, `=` and line breaks percent-escaped; then deflated and URL-safe base64 without
//!   padding. The values go through the same validation as a plan file's. The formats
//!   differ in the defaults a missing field takes: format 1's are plan schema 1's (5,000
//!   daily active and 2,500 peak users whatever the registered users), migrated like a
//!   schema-1 file (`super::migrate`); format 2's are schema 2's (derived from users).
//! * `rules` (1): the version of the sizing rules the link was made with. Opening a link
//!   made with older rules says so: the plan is the same, its figures may not be.
//!
//! A link never carries a secret: plans have none (secrets exist only in the bundle).
//! Decoding is total: any string gives a plan or a message, bounded in time and memory.

use super::validate::Problem;
use super::{FileRead, Plan, RawPlan, field, fields};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::io::{Read, Write};

/// The encoding this build writes.
pub const LINK_FORMAT: u32 = 2;

/// The version of the sizing rules (formulas, assumptions, findings). Bump it when a
/// change makes the same plan give different figures, and say what changed in
/// [`RULE_CHANGES`].
pub const RULES_VERSION: u32 = 3;

/// What each rules version changed, for the note shown when an older link is opened.
pub const RULE_CHANGES: &[(u32, &str)] = &[
    (1, "first published rules"),
    (
        2,
        "fractional assumptions multiply before rounding (HAProxy maxconn, reserved PostgreSQL connections, Prometheus series, TURN user-quota, sync workers); effective_cache_size capped at PostgreSQL's maximum; file-descriptor needs checked against the kernel and systemd",
    ),
    (
        3,
        "activity and calls derived from users where the plan leaves them out; Synapse RAM per process type (a measured base plus the sync and room workers' share per user, bounded by cache autotuning over the whole process) instead of 1.5 GiB + 0.5 GiB × cache factor; the PostgreSQL host's worst case counts three sorts or hash tables per backend at hash_mem_multiplier, with PGTune's 8 GB maintenance_work_mem cap; failover and VIP times as best, average and worst",
    ),
];

/// Longest fragment accepted: far above any real plan (≤ 1,500 characters), small
/// enough that a hostile link costs nothing to refuse.
pub const MAX_FRAGMENT: usize = 16 * 1024;

/// Largest inflated payload: a deflate bomb stops here.
const MAX_INFLATED: u64 = 256 * 1024;

/// A link's contents: the plan file's text plus the file-level problems of reading it,
/// and a note when the link's rules are older than this build's.
#[derive(Clone, Debug, PartialEq)]
pub struct Opened {
    pub file: FileRead,
    pub rules: u32,
    /// Set when the link was made with older rules: what may differ.
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("the link has no plan in it (nothing after #)")]
    Empty,
    #[error("the link is {0} characters long; a plan link is at most {MAX_FRAGMENT}")]
    TooLong(usize),
    #[error(
        "the link does not start with a format number such as “1.1.”: it may be cut short or not a synapse-planner link"
    )]
    NotALink,
    #[error(
        "the link is format {0}, made by a newer synapse-planner; this one reads formats 1 to {LINK_FORMAT}"
    )]
    NewerFormat(u32),
    #[error(
        "the link was made with rules version {0}, newer than this build's {RULES_VERSION}: open it with a newer synapse-planner"
    )]
    NewerRules(u32),
    #[error(
        "the link names rules version 0, which never existed: it is damaged or not a synapse-planner link"
    )]
    NoSuchRules,
    #[error(
        "this plan's link would be {0} characters, more than the {MAX_FRAGMENT} a link may hold: share the plan file instead (Export YAML, or `synapse-planner example-plan`-style files with --plan)"
    )]
    PlanTooLong(usize),
    #[error("the link is damaged: {0}")]
    Damaged(String),
}

/// The field codes of formats 1 and 2: a field's code is its index here. Append only: a
/// link made today must open to the same plan in every later version (tests/links/).
pub const FORMAT_1_KEYS: &[&str] = &[
    "name",
    "domain",
    "users.registered",
    "users.peak-concurrent",
    "synapse.cache-factor",
    "synapse.per-cache-factors",
    "synapse.cp-min",
    "synapse.cp-max",
    "synapse.redis",
    "synapse.workers.sync",
    "synapse.workers.client-reader",
    "synapse.workers.federation-reader",
    "synapse.workers.federation-sender",
    "synapse.workers.room",
    "synapse.workers.generic",
    "synapse.workers.pusher",
    "synapse.workers.appservice",
    "synapse.workers.user-dir",
    "synapse.workers.background",
    "synapse.workers.media-repository",
    "synapse.workers.stream-writer-events",
    "synapse.workers.stream-writer-typing",
    "synapse.workers.stream-writer-to-device",
    "synapse.workers.stream-writer-account-data",
    "synapse.workers.stream-writer-receipts",
    "synapse.workers.stream-writer-presence",
    "synapse.workers.stream-writer-push-rules",
    "synapse.workers.stream-writer-device-lists",
    "hosts.synapse.count",
    "hosts.synapse.ram-gib",
    "hosts.synapse.vcpus",
    "hosts.synapse.disk-gib",
    "hosts.patroni.count",
    "hosts.patroni.ram-gib",
    "hosts.patroni.vcpus",
    "hosts.patroni.disk-gib",
    "hosts.minio.count",
    "hosts.minio.ram-gib",
    "hosts.minio.vcpus",
    "hosts.minio.disk-gib",
    "hosts.haproxy.count",
    "hosts.haproxy.ram-gib",
    "hosts.haproxy.vcpus",
    "hosts.haproxy.disk-gib",
    "hosts.coturn.count",
    "hosts.coturn.ram-gib",
    "hosts.coturn.vcpus",
    "hosts.coturn.disk-gib",
    "hosts.livekit.count",
    "hosts.livekit.ram-gib",
    "hosts.livekit.vcpus",
    "hosts.livekit.disk-gib",
    "hosts.monitoring.count",
    "hosts.monitoring.ram-gib",
    "hosts.monitoring.vcpus",
    "hosts.monitoring.disk-gib",
    "hosts.backup.count",
    "hosts.backup.ram-gib",
    "hosts.backup.vcpus",
    "hosts.backup.disk-gib",
    "postgres.max-connections",
    "postgres.storage",
    "pgbouncer.pool-mode",
    "pgbouncer.default-pool-size",
    "pgbouncer.reserve-pool-size",
    "pgbouncer.max-client-conn",
    "minio.drives-per-node",
    "minio.drive-tib",
    "minio.parity",
    "activity.daily-active-users",
    "activity.messages-per-user-day",
    "activity.uploads-per-user-day",
    "activity.upload-mib",
    "activity.federation",
    "activity.months",
    "retention.local-media-days",
    "retention.remote-media-days",
    "retention.full-backups",
    "retention.media-snapshots",
    "retention.prometheus-days",
    "calls.concurrent-1to1",
    "calls.relayed-share",
    "calls.turn-kbps",
    "calls.group-rooms",
    "calls.participants-per-room",
    "calls.group-kbps",
    "calls.simulcast-layers",
    "postgres.version",
    "coturn.min-port",
    "coturn.max-port",
    "livekit.port-range-start",
    "livekit.port-range-end",
    "network.subnet",
    "network.vip",
    "network.interface",
    "network.internal-domain",
    "ops.email",
    "ops.smtp-smarthost",
    "assumptions.synapse-process-base-gib",
    "assumptions.synapse-process-per-factor-gib",
    "assumptions.valkey-gib",
    "assumptions.reverse-proxy-companion-gib",
    "assumptions.web-clients-gib",
    "assumptions.pgbouncer-base-mib",
    "assumptions.pgbouncer-per-connection-kib",
    "assumptions.os-reserve-gib",
    "assumptions.pg-backend-overhead-mib",
    "assumptions.etcd-gib",
    "assumptions.patroni-gib",
    "assumptions.exporter-gib",
    "assumptions.pgbackrest-gib",
    "assumptions.pgbackrest-repo-gib",
    "assumptions.rsync-gib",
    "assumptions.haproxy-per-connection-kib",
    "assumptions.haproxy-connections-per-user",
    "assumptions.keepalived-gib",
    "assumptions.coturn-gib",
    "assumptions.livekit-gib",
    "assumptions.livekit-redis-gib",
    "assumptions.prometheus-series-per-synapse-process",
    "assumptions.prometheus-series-per-host",
    "assumptions.prometheus-kib-per-series",
    "assumptions.prometheus-base-gib",
    "assumptions.grafana-gib",
    "assumptions.alertmanager-gib",
    "assumptions.pg-exporter-connections",
    "assumptions.pg-backup-connections",
    "assumptions.pg-patroni-connections",
    "assumptions.pg-admin-connections",
    "assumptions.sync-users-per-worker",
    "assumptions.tight-ram-share",
    // Storage assumptions (src/assumptions/storage.rs), appended here.
    "assumptions.db-bytes-per-event",
    "assumptions.non-message-events-per-message",
    "assumptions.db-federation-factor-small",
    "assumptions.db-federation-factor-open",
    "assumptions.db-empty-gib",
    "assumptions.db-kib-per-user",
    "assumptions.media-thumbnail-share",
    "assumptions.remote-media-share-small",
    "assumptions.remote-media-share-open",
    "assumptions.synapse-local-media-days",
    "assumptions.synapse-host-base-gib",
    "assumptions.wal-amplification",
    "assumptions.db-largest-table-share",
    "assumptions.backup-compression-ratio",
    "assumptions.wal-compression-ratio",
    "assumptions.backup-changed-share",
    "assumptions.prometheus-bytes-per-sample",
    "assumptions.disk-full-share",
    // Object storage and calls assumptions (src/assumptions/{objectstore,calls}.rs), appended here.
    "assumptions.turn-allocations-per-call",
    "assumptions.turn-user-calls",
    "assumptions.turn-allocations-per-user-call",
    "assumptions.turn-nic-mbps",
    "assumptions.livekit-audio-kbps",
    "assumptions.livekit-simulcast-layer2-share",
    "assumptions.livekit-simulcast-layer3-share",
    "assumptions.livekit-nic-mbps",
    "network.admin-networks",
    // Activity shares (src/assumptions/activity.rs), appended with link format 2.
    "assumptions.daily-active-share",
    "assumptions.peak-concurrent-share",
    "assumptions.calls-1to1-per-peak-user",
    "assumptions.group-rooms-per-peak-user",
    // Synapse RAM per process type (issue 12), appended here.
    "assumptions.synapse-process-base-mib",
    "assumptions.synapse-sync-mib-per-user",
    "assumptions.synapse-room-mib-per-user",
    "assumptions.synapse-open-federation-mib",
    "assumptions.synapse-cache-max-cap-gib",
    "assumptions.synapse-cache-max-ram-share",
    "assumptions.synapse-cache-max-floor-gib",
    // Database and WAL growth per event, with the federation model (issue 12), appended here.
    "assumptions.db-bytes-per-received-event",
    "assumptions.db-push-action-bytes",
    "assumptions.room-members-notified",
    "assumptions.db-received-transaction-bytes",
    "assumptions.fed-rooms-per-user-small",
    "assumptions.fed-rooms-per-user-open",
    "assumptions.fed-rooms-max-small",
    "assumptions.fed-rooms-max-open",
    "assumptions.fed-room-members-small",
    "assumptions.fed-room-members-open",
    "assumptions.fed-messages-per-member-day",
    "assumptions.fed-state-changes-per-member-day",
    "assumptions.db-join-bytes-per-member",
    "assumptions.db-state-change-bytes",
    "assumptions.db-state-group-bytes-per-member",
    "assumptions.wal-bytes-per-event",
    "assumptions.wal-bytes-per-member-notified",
    "assumptions.wal-bytes-per-received-extra",
    // CPU per host role (issue 12 item 5, src/assumptions/cpu.rs), appended here.
    "assumptions.synapse-vcpus-per-process",
    "assumptions.synapse-host-services-vcpus",
    "assumptions.etcd-vcpus",
    "assumptions.patroni-vcpus",
    "assumptions.pgbackrest-vcpus",
    "assumptions.minio-vcpus",
    "assumptions.haproxy-handshakes-per-vcpu",
    "assumptions.haproxy-requests-per-vcpu",
    "assumptions.haproxy-reconnect-seconds",
    "assumptions.haproxy-requests-per-user-second",
    "assumptions.coturn-calls-per-vcpu",
    "assumptions.coturn-mbps-per-vcpu",
    "assumptions.livekit-video-tracks-per-vcpu",
    "assumptions.livekit-audio-tracks-per-vcpu",
    "assumptions.livekit-redis-vcpus",
    "assumptions.prometheus-vcpus",
    "assumptions.backup-host-vcpus",
    "assumptions.os-reserve-vcpus",
    "assumptions.cpu-far-short-factor",
];

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            ';' => out.push_str("%3B"),
            '=' => out.push_str("%3D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    out
}

fn unescape(text: &str) -> Result<String, LinkError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let code = rest
            .get(i + 1..i + 3)
            .ok_or_else(|| LinkError::Damaged("a cut escape (%)".into()))?;
        out.push(match code {
            "25" => '%',
            "3B" => ';',
            "3D" => '=',
            "0A" => '\n',
            _ => return Err(LinkError::Damaged(format!("an unknown escape %{code}"))),
        });
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The fragment (without `#`) for a plan, or [`LinkError::PlanTooLong`] when it would be
/// longer than [`MAX_FRAGMENT`]: the one limit, so every link made opens.
pub fn encode(plan: &Plan) -> Result<String, LinkError> {
    let defaults = Plan::default();
    let pairs: Vec<String> = fields()
        .iter()
        .filter(|f| f.get(plan) != f.get(&defaults))
        .filter_map(|f| {
            let code = FORMAT_1_KEYS.iter().position(|k| *k == f.path)?;
            Some(format!("{code}={}", escape(&f.get_text(plan))))
        })
        .collect();
    let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing to a Vec cannot fail.
    let _ = z.write_all(pairs.join(";").as_bytes());
    let bytes = z.finish().unwrap_or_default();
    let fragment = format!(
        "{LINK_FORMAT}.{RULES_VERSION}.{}",
        URL_SAFE_NO_PAD.encode(bytes)
    );
    if fragment.len() > MAX_FRAGMENT {
        return Err(LinkError::PlanTooLong(fragment.len()));
    }
    Ok(fragment)
}

/// A full URL: `base` (without a fragment) + `#` + the fragment.
pub fn url(base: &str, plan: &Plan) -> Result<String, LinkError> {
    let base = base.split('#').next().unwrap_or(base);
    Ok(format!("{base}#{}", encode(plan)?))
}

/// A number as the encoder writes it: decimal digits, no sign, no leading zero.
fn canonical<T: std::str::FromStr>(s: &str) -> Option<T> {
    let ok =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if ok { s.parse().ok() } else { None }
}

/// Reads a fragment (with or without the leading `#`, or a whole URL). Never panics;
/// validation of the plan itself is left to the caller (`Opened::file.validate()`).
pub fn decode(input: &str) -> Result<Opened, LinkError> {
    let fragment = match input.split_once('#') {
        Some((_, f)) => f,
        None => input,
    };
    let fragment = fragment.trim();
    if fragment.is_empty() {
        return Err(LinkError::Empty);
    }
    if fragment.len() > MAX_FRAGMENT {
        return Err(LinkError::TooLong(fragment.len()));
    }
    let mut parts = fragment.splitn(3, '.');
    let (Some(format), Some(rules), Some(payload)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(LinkError::NotALink);
    };
    let format: u32 = canonical(format).ok_or(LinkError::NotALink)?;
    let rules: u32 = canonical(rules).ok_or(LinkError::NotALink)?;
    if format > LINK_FORMAT {
        return Err(LinkError::NewerFormat(format));
    }
    if format == 0 {
        return Err(LinkError::NotALink);
    }
    if rules > RULES_VERSION {
        return Err(LinkError::NewerRules(rules));
    }
    if rules == 0 {
        return Err(LinkError::NoSuchRules);
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| LinkError::Damaged(format!("not base64 ({e})")))?;
    let mut text = String::new();
    let mut reader = flate2::read::DeflateDecoder::new(&bytes[..]).take(MAX_INFLATED + 1);
    reader
        .read_to_string(&mut text)
        .map_err(|e| LinkError::Damaged(format!("cannot be unpacked ({e})")))?;
    if text.len() as u64 > MAX_INFLATED {
        return Err(LinkError::Damaged(format!(
            "it unpacks to more than {MAX_INFLATED} bytes"
        )));
    }
    // The compressed stream must be the whole payload: bytes after its end are not ours.
    let used = reader.into_inner().total_in();
    if used != bytes.len() as u64 {
        return Err(LinkError::Damaged(format!(
            "{} bytes follow the compressed plan",
            bytes.len() as u64 - used.min(bytes.len() as u64)
        )));
    }
    let mut file = read_pairs(&text)?;
    if format == 1 {
        super::migrate::schema_1(&mut file.raw, &mut file.problems);
    }
    let note = (rules < RULES_VERSION).then(|| {
        let changes: Vec<&str> = RULE_CHANGES.iter().filter(|(v, _)| *v > rules).map(|(_, c)| *c).collect();
        format!(
            "This link was made with rules version {rules}; this build uses {RULES_VERSION}, so its figures may differ: {}.",
            changes.join("; ")
        )
    });
    Ok(Opened { file, rules, note })
}

/// A format-1 or 2 payload to a raw plan: schema 2's defaults, then each pair's text
/// (the caller migrates format 1's). A code this build
/// does not know (a newer version's field) is a warning; broken syntax is damage.
fn read_pairs(text: &str) -> Result<FileRead, LinkError> {
    let mut raw = RawPlan::default();
    let mut problems = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    // The default plan's payload is empty; otherwise every pair is `code=value`.
    for pair in text.split(';').filter(|_| !text.is_empty()) {
        let (code, value) = pair
            .split_once('=')
            .ok_or_else(|| LinkError::Damaged("a field without a value".into()))?;
        let shown: String = code.chars().take(20).collect();
        let code: usize = canonical(code)
            .ok_or_else(|| LinkError::Damaged(format!("“{shown}” is not a field code")))?;
        if !seen.insert(code) {
            return Err(LinkError::Damaged(format!(
                "field {code} appears twice: which value was meant?"
            )));
        }
        let value = unescape(value)?;
        match FORMAT_1_KEYS.get(code).filter(|k| field(k).is_some()) {
            Some(path) => {
                raw.set(path, value);
            }
            None => problems.push(Problem::warning(
                "",
                format!(
                    "The link has a field this version does not know (code {code}); it is ignored."
                ),
            )),
        }
    }
    Ok(FileRead { raw, problems })
}

impl Opened {
    /// File problems and validation problems, and the plan when there is no error.
    pub fn validate(&self) -> super::Validation {
        self.file.validate()
    }

    /// Problems as sentences (for a message at the top of the page).
    pub fn problems(&self) -> Vec<Problem> {
        self.validate().problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_plan_link_is_short() {
        let f = encode(&Plan::default()).unwrap();
        assert!(f.len() <= 60, "{} characters: {f}", f.len());
        assert!(f.starts_with("2.3."));
        let opened = decode(&f).unwrap();
        assert_eq!(opened.validate().plan, Some(Plan::default()));
        assert_eq!(opened.note, None);
    }

    /// A plan with every field away from its default, as a user who changes everything.
    fn everything_changed() -> Plan {
        use super::super::fields::{Kind, TextRule};
        let mut raw = super::super::RawPlan::default();
        for f in super::super::fields() {
            let text = match f.kind {
                // A field with one allowed value (hosts.synapse.count) stays.
                Kind::Int { min, max, .. } if min == max => min.to_string(),
                Kind::Int { min, max, .. } => {
                    let d: u64 = f.get_text(&Plan::default()).parse().unwrap_or(min);
                    if d < max {
                        (d + 1).to_string()
                    } else {
                        (d - 1).to_string()
                    }
                }
                Kind::Float { max, .. } => {
                    if max >= 3.75 {
                        "3.75".to_string()
                    } else {
                        "0.75".to_string()
                    }
                }
                Kind::Choice(keys) => {
                    let d = f.get_text(&Plan::default());
                    keys.iter()
                        .find(|k| **k != d)
                        .map(|k| k.to_string())
                        .unwrap_or(d)
                }
                Kind::Bool => (f.get_text(&Plan::default()) != "true").to_string(),
                Kind::CacheFactors => {
                    "get_users_in_room: 5.0\nget_room_events: 2.0\n_get_state_group_delta: 2.0"
                        .into()
                }
                Kind::Text(TextRule::Name) => "Acme production cluster (Berlin, 2027)".into(),
                Kind::Text(TextRule::Domain) => "matrix.acme-corporation.example".into(),
                Kind::Text(TextRule::DnsSuffix) => "corp.acme.example".into(),
                Kind::Text(TextRule::Subnet) => "10.20.0.0/16".into(),
                Kind::Text(TextRule::Ipv4) => "10.20.0.10".into(),
                Kind::Text(TextRule::Interface) => "ens18".into(),
                Kind::Text(TextRule::Email) => "matrix-operations@acme-corporation.example".into(),
                Kind::Text(TextRule::HostPort) => "smtp.acme-corporation.example:587".into(),
                Kind::Text(TextRule::Networks) => "10.20.0.0/16, 198.51.100.0/24".into(),
            };
            raw.set(&f.path, text);
        }
        // Keep the cross-field rules: peak ≤ daily active ≤ registered, cp_min ≤ cp_max,
        // ranges above ports. The derived activity is set, one above its derived default.
        raw.set("users.peak-concurrent", "2501");
        raw.set("activity.daily-active-users", "5001");
        raw.set("coturn.min-port", "49153");
        raw.set("livekit.port-range-start", "50101");
        let v = super::super::validate(&raw);
        v.plan.unwrap_or_else(|| panic!("{:?}", v.problems))
    }

    #[test]
    fn a_plan_with_every_field_changed_fits_in_1500() {
        let p = everything_changed();
        let defaults = Plan::default();
        for f in super::super::fields() {
            let fixed = matches!(f.kind, super::super::Kind::Int { min, max, .. } if min == max);
            assert!(
                fixed || f.get(&p) != f.get(&defaults),
                "{} was not changed",
                f.path
            );
        }
        let link = encode(&p).unwrap();
        assert!(link.len() <= 1500, "{} characters", link.len());
        eprintln!("every field changed: {} characters", link.len());
        assert_eq!(decode(&link).unwrap().validate().plan, Some(p));
    }

    #[test]
    fn accepts_whole_urls_and_hash() {
        let p = Plan::default()
            .with_text("synapse.workers.sync", "7")
            .unwrap();
        let u = url("http://127.0.0.1:8080/index.html#old", &p).unwrap();
        assert!(u.starts_with("http://127.0.0.1:8080/index.html#2.3."));
        for input in [
            u.clone(),
            u.split_once('#').unwrap().1.to_string(),
            format!("#{}", encode(&p).unwrap()),
        ] {
            assert_eq!(
                decode(&input).unwrap().validate().plan,
                Some(p.clone()),
                "{input}"
            );
        }
    }

    fn err(input: &str) -> String {
        decode(input)
            .map(|_| "ok".to_string())
            .unwrap_or_else(|e| e.to_string())
    }

    #[test]
    fn bad_links_say_why() {
        let good = encode(
            &Plan::default()
                .with_text("hosts.patroni.count", "5")
                .unwrap(),
        )
        .unwrap();
        assert_eq!(err(""), "the link has no plan in it (nothing after #)");
        assert_eq!(err("#"), "the link has no plan in it (nothing after #)");
        assert!(err("hello").starts_with("the link does not start with a format number"));
        assert!(err("1.1").starts_with("the link does not start with a format number"));
        assert_eq!(
            err("9.1.abc"),
            "the link is format 9, made by a newer synapse-planner; this one reads formats 1 to 2"
        );
        assert!(err("1.7.abc").starts_with("the link was made with rules version 7"));
        assert!(err("1.1.%%%").starts_with("the link is damaged: not base64"));
        assert!(
            err(&good[..good.len() - 6]).starts_with("the link is damaged"),
            "truncated: {}",
            err(&good[..good.len() - 6])
        );
        assert!(err(&"A".repeat(20_000)).starts_with("the link is 20000 characters long"));
        assert!(err("1.1.<script>alert(1)</script>").starts_with("the link is damaged"));
    }

    #[test]
    fn deflate_bombs_stop() {
        let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(&vec![b'a'; 10_000_000]).unwrap();
        let bomb = format!("1.2.{}", URL_SAFE_NO_PAD.encode(z.finish().unwrap()));
        assert!(bomb.len() < MAX_FRAGMENT, "{}", bomb.len());
        assert_eq!(
            err(&bomb),
            "the link is damaged: it unpacks to more than 262144 bytes"
        );
    }

    #[test]
    fn every_field_has_a_frozen_code() {
        for f in fields() {
            assert!(
                FORMAT_1_KEYS.contains(&f.path.as_str()),
                "{} has no link code: append it to FORMAT_1_KEYS",
                f.path
            );
        }
        let mut seen = std::collections::BTreeSet::new();
        for k in FORMAT_1_KEYS {
            assert!(seen.insert(k), "{k} twice");
        }
    }

    #[test]
    fn escapes_round_trip() {
        for t in [
            "a;b=c%d\ne",
            "%3B",
            "plain",
            "",
            "get_users_in_room: 5\nget_room_events: 2",
        ] {
            assert_eq!(unescape(&escape(t)).unwrap(), t);
        }
        assert!(unescape("%4").is_err());
        assert!(unescape("%ZZ").is_err());
    }

    fn link_of(payload: &str) -> String {
        let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(payload.as_bytes()).unwrap();
        format!("2.2.{}", URL_SAFE_NO_PAD.encode(z.finish().unwrap()))
    }

    #[test]
    fn a_link_with_bad_values_is_read_like_a_file() {
        // Code 2 is users.registered.
        let v = decode(&link_of("2=lots")).unwrap().validate();
        assert!(v.plan.is_none());
        assert_eq!(v.problems[0].path, "users.registered");
        // An unknown code is a warning, the rest still counts.
        let o = decode(&link_of("2=20000;9999=x")).unwrap();
        assert_eq!(o.validate().plan.map(|p| p.users.registered), Some(20000));
        assert_eq!(o.file.problems.len(), 1);
        assert!(decode(&link_of("2")).is_err());
        assert!(decode(&link_of("x=1")).is_err());
    }

    #[test]
    fn links_are_canonical_or_refused() {
        // Code 2 is users.registered, 32 hosts.patroni.count.
        let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(b"2=20000").unwrap();
        let mut bytes = z.finish().unwrap();
        bytes.extend_from_slice(b"junk");
        let trailing = format!("2.2.{}", URL_SAFE_NO_PAD.encode(&bytes));
        for (input, expect) in [
            (
                link_of("2=20000;2=30000"),
                "the link is damaged: field 2 appears twice: which value was meant?".to_string(),
            ),
            (
                trailing,
                "the link is damaged: 4 bytes follow the compressed plan".to_string(),
            ),
            ("1.0.AwA".to_string(), LinkError::NoSuchRules.to_string()),
            (
                link_of("02=20000"),
                "the link is damaged: “02” is not a field code".to_string(),
            ),
            (
                link_of("+2=20000"),
                "the link is damaged: “+2” is not a field code".to_string(),
            ),
            (
                link_of("2=20000;"),
                "the link is damaged: a field without a value".to_string(),
            ),
            (
                link_of("2=20000;;32=5"),
                "the link is damaged: a field without a value".to_string(),
            ),
        ] {
            assert_eq!(err(&input), expect, "{input}");
        }
        for input in ["01.2.AwA", "1.02.AwA", "+1.2.AwA", "1.+2.AwA", " 1.2.AwA"] {
            assert!(
                err(input).starts_with("the link does not start with a format number")
                    || err(input) == "ok" && input.starts_with(' '),
                "{input}: {}",
                err(input)
            );
        }
        // The canonical forms still open.
        assert_eq!(err(&link_of("2=20000;32=5")), "ok");
        assert_eq!(err("1.2.AwA"), "ok");
        // An older rules version opens too, with a note.
        assert_eq!(err("1.1.AwA"), "ok");
    }

    #[test]
    fn what_share_url_makes_open_url_opens() {
        // Thousands of per-cache factors: a plan too large for any link.
        let lines: Vec<String> = (0..3000)
            .map(|i| {
                format!(
                    "cache_{}_{}: {}.{}",
                    i * 7919 % 10007,
                    i,
                    1 + i % 97,
                    i % 10
                )
            })
            .collect();
        let big = Plan::default()
            .with_text("synapse.per-cache-factors", &lines.join("\n"))
            .unwrap();
        match encode(&big) {
            Err(LinkError::PlanTooLong(n)) => assert!(n > MAX_FRAGMENT),
            other => panic!("{other:?}"),
        }
        // One under the limit opens to the same plan.
        let fits = Plan::default()
            .with_text("synapse.per-cache-factors", &lines[..200].join("\n"))
            .unwrap();
        let f = encode(&fits).unwrap();
        assert!(f.len() <= MAX_FRAGMENT);
        assert_eq!(decode(&f).unwrap().validate().plan, Some(fits));
    }
}

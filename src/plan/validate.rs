//! Raw text → typed plan, with every problem at once.

use super::fields::{Kind, Slot, Soft, TextRule, Value, parse_subnet};
use super::{Plan, PoolMode, RawPlan, Role, Storage, field, fields};
use crate::Severity;
use std::collections::BTreeMap;

/// One thing wrong (or risky) with an input, at its key path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Key path (`synapse.cache-factor`); empty for the file as a whole.
    pub path: String,
    pub severity: Severity,
    /// A sentence a person understands, naming the field by its label.
    pub message: String,
}

impl Problem {
    pub fn error(path: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            path: path.into(),
            severity: Severity::Error,
            message: message.into(),
        }
    }

    pub fn warning(path: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            path: path.into(),
            severity: Severity::Warning,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = if self.path.is_empty() {
            "plan"
        } else {
            &self.path
        };
        write!(f, "{}: {}: {}", self.severity, path, self.message)
    }
}

/// The outcome of validation: the plan when there is no error, and every problem.
#[derive(Clone, Debug, PartialEq)]
pub struct Validation {
    pub plan: Option<Plan>,
    pub problems: Vec<Problem>,
}

impl Validation {
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity != Severity::Error)
    }

    pub fn for_path<'a>(&'a self, path: &'a str) -> impl Iterator<Item = &'a Problem> + 'a {
        self.problems.iter().filter(move |p| p.path == path)
    }
}

/// Checks every field of `raw`, then the rules that relate fields. Never panics and
/// never stops at the first problem.
pub fn validate(raw: &RawPlan) -> Validation {
    let mut plan = Plan::default();
    let mut problems = Vec::new();
    for f in fields() {
        let text = raw.get(&f.path);
        let label = f.label.as_str();
        let parsed = match f.kind {
            // A derivable field left empty takes its derivation (`Plan::daily_active_users`).
            Kind::Int { .. } if f.derivable() && text.trim().is_empty() => Ok(Value::Derived),
            Kind::Int {
                min,
                max,
                unit,
                soft,
            } => parse_int(text, min, max, unit, label, bound_reason(f.slot)).map(|n| {
                check_soft(&mut problems, &f.path, label, n as f64, unit, soft);
                Value::Int(n)
            }),
            Kind::Float {
                min,
                max,
                unit,
                soft,
            } => parse_float(text, min, max, unit, label).map(|x| {
                check_soft(&mut problems, &f.path, label, x, unit, soft);
                Value::Float(x)
            }),
            Kind::Text(rule) => parse_text(text, rule, label).map(Value::Text),
            Kind::Choice(keys) => parse_choice(text, keys, label).map(Value::Text),
            Kind::Bool => parse_bool(text, label).map(Value::Bool),
            Kind::CacheFactors => parse_factors(text).map(Value::Factors),
        };
        match parsed {
            Ok(v) => f.set(&mut plan, v),
            Err(messages) => problems.extend(
                messages
                    .into_iter()
                    .map(|m| Problem::error(f.path.clone(), m)),
            ),
        }
    }
    cross_checks(&plan, &mut problems);
    let ok = !problems.iter().any(|p| p.severity == Severity::Error);
    Validation {
        plan: ok.then_some(plan),
        problems,
    }
}

/// Relations between fields. Only checks fields that parsed (a field with its own
/// error is not blamed twice).
fn cross_checks(plan: &Plan, problems: &mut Vec<Problem>) {
    let has_error = |problems: &Vec<Problem>, path: &str| {
        problems
            .iter()
            .any(|p| p.path == path && p.severity == Severity::Error)
    };
    for (from, to, lo, hi, what) in [
        (
            "coturn.min-port",
            "coturn.max-port",
            plan.coturn.min_port,
            plan.coturn.max_port,
            "TURN relay",
        ),
        (
            "livekit.port-range-start",
            "livekit.port-range-end",
            plan.livekit.port_range_start,
            plan.livekit.port_range_end,
            "LiveKit RTC",
        ),
    ] {
        if !has_error(problems, from) && !has_error(problems, to) && lo >= hi {
            problems.push(Problem::error(
                from,
                format!("The {what} port range starts at {lo} but ends at {hi}: the start must be below the end."),
            ));
        }
    }
    // Relay ranges must not swallow the services' own ports on those hosts.
    for (from, lo, hi, fixed) in [
        (
            "coturn.min-port",
            plan.coturn.min_port,
            plan.coturn.max_port,
            &[(3478u64, "TURN"), (5349, "TURN over TLS")][..],
        ),
        (
            "livekit.port-range-start",
            plan.livekit.port_range_start,
            plan.livekit.port_range_end,
            &[
                (7880, "LiveKit's HTTP/WebSocket"),
                (7881, "LiveKit's RTC over TCP"),
                (6789, "LiveKit's metrics"),
                (6379, "LiveKit's Redis"),
            ][..],
        ),
    ] {
        if has_error(problems, from) || lo >= hi {
            continue;
        }
        for (port, what) in fixed {
            if (lo..=hi).contains(port) {
                problems.push(Problem::error(
                    from,
                    format!("The range {lo}–{hi} contains port {port}, {what} port on the same hosts: start the range above it."),
                ));
            }
        }
    }
    if !has_error(problems, "network.subnet") && !has_error(problems, "network.vip") {
        let n = &plan.network;
        let mask = u32::MAX.checked_shl(32 - u32::from(n.prefix)).unwrap_or(0);
        let vip = u32::from(n.vip);
        if vip & mask != u32::from(n.subnet) {
            problems.push(Problem::error(
                "network.vip",
                format!(
                    "The VIP {} is outside the subnet {}/{}.",
                    n.vip, n.subnet, n.prefix
                ),
            ));
        } else {
            let offset = vip - u32::from(n.subnet);
            for role in Role::ALL {
                let (first, _) = role.address_block();
                let count = plan.host(role).count as u32;
                if offset >= first && offset < first + count {
                    problems.push(Problem::error(
                        "network.vip",
                        format!(
                            "The VIP {} is the address of a {} host (.{first} onward); pick one outside .11–.236, such as .10.",
                            n.vip,
                            role.label()
                        ),
                    ));
                }
            }
            if offset == 0 || vip == (u32::from(n.subnet) | !mask) {
                problems.push(Problem::error(
                    "network.vip",
                    format!(
                        "The VIP {} is the subnet's network or broadcast address.",
                        n.vip
                    ),
                ));
            }
        }
    }
    users_in_order(plan, problems, &has_error);
    names_fit(plan, problems, &has_error);
    if !has_error(problems, "synapse.cp-min")
        && !has_error(problems, "synapse.cp-max")
        && plan.synapse.cp_min > plan.synapse.cp_max
    {
        problems.push(Problem::error(
            "synapse.cp-min",
            format!(
                "cp_min ({}) cannot be above cp_max ({}): Twisted's connection pool refuses to start.",
                plan.synapse.cp_min, plan.synapse.cp_max
            ),
        ));
    }
}

/// Peak ≤ daily active ≤ registered users, checked only between values the plan sets: a
/// derived value keeps the order by construction (`Plan::daily_active_users`), so no error
/// ever names a field its author left to derivation. Each error is at the field the author
/// set (the smaller of two set values' field when both are: the peak, then daily active).
fn users_in_order(
    plan: &Plan,
    problems: &mut Vec<Problem>,
    has_error: &dyn Fn(&Vec<Problem>, &str) -> bool,
) {
    let (peak_path, dau_path, reg_path) = (
        "users.peak-concurrent",
        "activity.daily-active-users",
        "users.registered",
    );
    let registered = (!has_error(problems, reg_path)).then_some(plan.users.registered);
    let peak = plan
        .users
        .peak_concurrent
        .filter(|_| !has_error(problems, peak_path));
    let dau = plan
        .activity
        .daily_active_users
        .filter(|_| !has_error(problems, dau_path));
    if let (Some(p), Some(r)) = (peak, registered)
        && p > r
    {
        problems.push(Problem::error(
            peak_path,
            format!("Peak concurrent users ({p}) cannot exceed registered users ({r})."),
        ));
    } else if let (Some(p), Some(d)) = (peak, dau)
        && p > d
    {
        problems.push(Problem::error(
            peak_path,
            format!(
                "Peak concurrent users ({p}) cannot exceed daily active users ({d}): a user syncing at the busiest hour is active that day. Lower the peak, raise activity.daily-active-users, or leave one empty to derive it."
            ),
        ));
    }
    if let (Some(d), Some(r)) = (dau, registered)
        && d > r
    {
        problems.push(Problem::error(
            dau_path,
            format!("Daily active users ({d}) cannot exceed registered users ({r})."),
        ));
    }
}

/// A DNS name as text: at most 253 characters (255 octets on the wire, RFC 1035 §2.3.4
/// and §3.1, less the first length octet and the root label), labels at most 63.
pub const DNS_NAME_MAX: usize = 253;
pub const DNS_LABEL_MAX: usize = 63;
/// Linux NAME_MAX: one file name component of at most 255 bytes
/// (include/uapi/linux/limits.h; ext4 and xfs refuse longer names with ENAMETOOLONG).
pub const FILE_NAME_MAX: usize = 255;
/// A mail address: RFC 5321 §4.5.3.1.3 limits a path to 256 octets including its angle
/// brackets, so 254 for the address itself.
pub const MAIL_ADDRESS_MAX: usize = 254;

/// Every name the bundle builds from the internal domain or the server name fits the
/// tool that reads it. Counted on the longest generated name: the topology's host names
/// (role name + its largest index + the internal domain, and `vip.<suffix>`), HAProxy's
/// certificate file `<server name>.pem` and Alertmanager's sender
/// `alertmanager@<server name>`. Each error is at the field to shorten.
fn names_fit(
    plan: &Plan,
    problems: &mut Vec<Problem>,
    has_error: &dyn Fn(&Vec<Problem>, &str) -> bool,
) {
    if !has_error(problems, "network.internal-domain") {
        let suffix = &plan.network.internal_domain;
        // (short name, the count field whose index is in it).
        let mut shorts: Vec<(String, Option<Role>)> = vec![("vip".to_string(), None)];
        for role in Role::ALL {
            let count = plan.host(role).count;
            if count > 0 {
                let indexed = role.count_bounds().1 > 1;
                shorts.push((role.host_name(count), indexed.then_some(role)));
            }
        }
        // The longest; of equal lengths the first (schema order).
        let longest = shorts
            .iter()
            .fold(None::<&(String, Option<Role>)>, |best, s| match best {
                Some(b) if b.0.len() >= s.0.len() => Some(b),
                _ => Some(s),
            });
        if let Some((short, role)) = longest {
            let name = format!("{short}.{suffix}");
            if name.len() > DNS_NAME_MAX {
                let room = DNS_NAME_MAX.saturating_sub(short.len() + 1);
                problems.push(Problem::error(
                    "network.internal-domain",
                    format!(
                        "The longest host name the bundle generates, {short}.<suffix>, would be {} characters; a DNS name has at most {DNS_NAME_MAX} (RFC 1035). Shorten the internal DNS suffix to at most {room} characters.",
                        name.len()
                    ),
                ));
                // When only the index makes it too long, the count is a lever too.
                let bare = shorts
                    .iter()
                    .filter(|(_, r)| r.is_none())
                    .map(|(s, _)| s.len())
                    .max()
                    .unwrap_or(0);
                if let Some(role) = role
                    && bare + 1 + suffix.len() <= DNS_NAME_MAX
                {
                    let path = format!("hosts.{}.count", role.key());
                    if !has_error(problems, &path) {
                        problems.push(Problem::error(
                            path,
                            format!(
                                "With this many hosts the name {short}.<suffix> is {} characters, more than a DNS name's {DNS_NAME_MAX}.",
                                name.len()
                            ),
                        ));
                    }
                }
            } else if short.len() > DNS_LABEL_MAX {
                problems.push(Problem::error(
                    "network.internal-domain",
                    format!(
                        "The host label {short} is {} characters; a DNS label has at most {DNS_LABEL_MAX}.",
                        short.len()
                    ),
                ));
            }
        }
    }
    if !has_error(problems, "domain") {
        let server = &plan.domain;
        for (name, max, what) in [
            (
                format!("{server}.pem"),
                FILE_NAME_MAX,
                "the file name of HAProxy's certificate, /etc/haproxy/certs/<server name>.pem; Linux allows at most 255 bytes in a file name (NAME_MAX)",
            ),
            (
                format!("alertmanager@{server}"),
                MAIL_ADDRESS_MAX,
                "Alertmanager's sender address, alertmanager@<server name>; a mail address has at most 254 characters (RFC 5321 §4.5.3.1.3)",
            ),
        ] {
            if name.len() > max {
                problems.push(Problem::error(
                    "domain",
                    format!(
                        "The server name makes {what}: it would be {} characters. Use a server name of at most {} characters.",
                        name.len(),
                        max - (name.len() - server.len())
                    ),
                ));
            }
        }
    }
}

/// Why a narrow range exists, appended to out-of-range messages.
fn bound_reason(slot: Slot) -> Option<&'static str> {
    match slot {
        Slot::HostCount(role) => {
            let (min, max, why) = role.count_bounds();
            (min == max || min == 0 || role == Role::Patroni).then_some(why)
        }
        _ => None,
    }
}

fn describe_range(min: u64, max: u64, unit: &str) -> String {
    if min == max {
        format!("{min} {unit}")
    } else {
        format!("a whole number from {min} to {max} {unit}")
    }
}

fn parse_int(
    text: &str,
    min: u64,
    max: u64,
    unit: &str,
    label: &str,
    reason: Option<&str>,
) -> Result<u64, Vec<String>> {
    let t = text.trim();
    let range = describe_range(min, max, unit);
    let why = reason.map(|r| format!(" ({r})")).unwrap_or_default();
    if t.is_empty() {
        return Err(vec![format!("{label} is empty: enter {range}.")]);
    }
    if t.contains(',') || t.contains('_') || t.contains(' ') {
        return Err(vec![format!(
            "“{t}” is not a whole number: write it without separators, e.g. 10000."
        )]);
    }
    if let Some(rest) = t.strip_prefix('-')
        && !rest.is_empty()
        && rest.chars().all(|c| c.is_ascii_digit() || c == '.')
    {
        return Err(vec![format!("{label} cannot be negative: enter {range}.")]);
    }
    if !t.chars().all(|c| c.is_ascii_digit()) {
        let hint = if t.parse::<f64>().is_ok() {
            " (no decimals)"
        } else {
            ""
        };
        return Err(vec![format!(
            "“{t}” is not a whole number{hint}: enter {range}."
        )]);
    }
    let n = match t.parse::<u64>() {
        Ok(n) => n,
        Err(_) => {
            return Err(vec![format!(
                "{t} is far too large: {label} must be at most {max} {unit}."
            )]);
        }
    };
    if n < min {
        if min == max {
            return Err(vec![format!("{label} must be {min}{why}.")]);
        }
        return Err(vec![format!(
            "{label} must be at least {min} {unit}{why}; {n} is too few."
        )]);
    }
    if n > max {
        if min == max {
            return Err(vec![format!("{label} must be {min}{why}.")]);
        }
        return Err(vec![format!(
            "{label} must be at most {max} {unit}{why}; {n} is out of range."
        )]);
    }
    Ok(n)
}

fn parse_float(
    text: &str,
    min: f64,
    max: f64,
    unit: &str,
    label: &str,
) -> Result<f64, Vec<String>> {
    let t = text.trim();
    let range = format!("a number from {min} to {max} {unit}");
    if t.is_empty() {
        return Err(vec![format!("{label} is empty: enter {range}.")]);
    }
    if t.contains(',') && t.replace(',', ".").parse::<f64>().is_ok() {
        return Err(vec![format!(
            "“{t}” uses a comma: write decimals with a dot, e.g. {}.",
            t.replace(',', ".")
        )]);
    }
    // Only plain decimals: no "inf", "NaN", hex or words that f64::from_str takes.
    if !t
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'))
    {
        return Err(vec![format!("“{t}” is not a number: enter {range}.")]);
    }
    let x = match t.parse::<f64>() {
        Ok(x) if x.is_finite() => x,
        _ => return Err(vec![format!("“{t}” is not a number: enter {range}.")]),
    };
    if x < 0.0 {
        return Err(vec![format!("{label} cannot be negative: enter {range}.")]);
    }
    if x < min {
        return Err(vec![format!(
            "{label} must be at least {min} {unit}; {x} is too small."
        )]);
    }
    if x > max {
        return Err(vec![format!(
            "{label} must be at most {max} {unit}; {x} is out of range."
        )]);
    }
    Ok(x)
}

fn check_soft(
    problems: &mut Vec<Problem>,
    path: &str,
    label: &str,
    x: f64,
    unit: &str,
    soft: Option<Soft>,
) {
    let Some(soft) = soft else { return };
    if let Some(b) = soft.below
        && x < b
    {
        problems.push(Problem::warning(
            path,
            format!("{label} of {x} {unit} is below {b}: {}.", soft.why),
        ));
    }
    if let Some(a) = soft.above
        && x > a
    {
        problems.push(Problem::warning(
            path,
            format!("{label} of {x} {unit} is above {a}: {}.", soft.why),
        ));
    }
}

fn parse_text(text: &str, rule: TextRule, label: &str) -> Result<String, Vec<String>> {
    let t = text.trim();
    match rule {
        TextRule::Name => {
            if t.is_empty() {
                return Err(vec![format!("{label} is empty: give the plan a name.")]);
            }
            if t.chars().count() > 80 {
                return Err(vec![format!(
                    "{label} is {} characters long; keep it to 80.",
                    t.chars().count()
                )]);
            }
            if let Some(c) = t.chars().find(|&c| !name_char(c)) {
                return Err(vec![format!(
                    "{label} contains {}: use one line of visible characters and plain spaces (docs/plan-text.md).",
                    describe_char(c)
                )]);
            }
            Ok(t.to_string())
        }
        TextRule::Domain => check_domain(t, label).map(|()| t.to_string()),
        TextRule::DnsSuffix => {
            // A single label is fine here (`internal`); check it as `x.<suffix>`.
            check_domain(&format!("x.{t}"), label)
                .map_err(|e| e.into_iter().map(|m| m.replace("“x.", "“")).collect())
                .and_then(|()| {
                    if t.is_empty() {
                        Err(vec![format!(
                            "{label} is empty: enter a DNS suffix such as internal."
                        )])
                    } else {
                        Ok(t.to_string())
                    }
                })
        }
        TextRule::Subnet => match parse_subnet(t) {
            Some((addr, prefix)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
                let net = std::net::Ipv4Addr::from(u32::from(addr) & mask);
                if net != addr {
                    Err(vec![format!(
                        "{t} is not a network address: write {net}/{prefix}."
                    )])
                } else if !(8..=24).contains(&prefix) {
                    Err(vec![format!(
                        "{label} must be a /8 to /24 network: host addresses use offsets .11 to .236 of it."
                    )])
                } else if !addr.is_private() {
                    Err(vec![format!(
                        "{t} is not a private network (10/8, 172.16/12 or 192.168/16)."
                    )])
                } else {
                    Ok(format!("{addr}/{prefix}"))
                }
            }
            None => Err(vec![format!(
                "“{t}” is not an IPv4 network: write it as 10.0.1.0/24."
            )]),
        },
        TextRule::Ipv4 => match t.parse::<std::net::Ipv4Addr>() {
            Ok(ip) => Ok(ip.to_string()),
            Err(_) => Err(vec![format!(
                "“{t}” is not an IPv4 address such as 10.0.1.10."
            )]),
        },
        TextRule::Interface => {
            // Linux: at most 15 bytes (IFNAMSIZ − 1), no slash, colon or whitespace.
            if t.is_empty()
                || t.len() > 15
                || !t
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                Err(vec![format!(
                    "“{t}” is not a Linux interface name (letters, digits, - _ ., at most 15), e.g. eth0 or ens18."
                )])
            } else {
                Ok(t.to_string())
            }
        }
        TextRule::Email => match t.split_once('@') {
            Some((local, domain))
                if !local.is_empty()
                    && local.len() <= 64
                    && local
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "._+-".contains(c))
                    && check_domain(domain, label).is_ok() =>
            {
                Ok(t.to_string())
            }
            _ => Err(vec![format!(
                "“{t}” is not an e-mail address such as ops@example.com."
            )]),
        },
        TextRule::Networks => {
            let mut out = Vec::new();
            for w in t
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|w| !w.is_empty())
            {
                let Some((addr, prefix)) = parse_subnet(w) else {
                    return Err(vec![format!(
                        "“{w}” is not an IPv4 network: write it as 192.168.10.0/24 (a single address as 192.168.10.5/32)."
                    )]);
                };
                let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
                let net = std::net::Ipv4Addr::from(u32::from(addr) & mask);
                if net != addr {
                    return Err(vec![format!(
                        "{w} is not a network address: write {net}/{prefix}."
                    )]);
                }
                if prefix < 8 {
                    return Err(vec![format!(
                        "{w} is wider than /8: {label} opens the admin API, ssh and the operators' web UIs to it; name the networks operators work from."
                    )]);
                }
                let n = format!("{addr}/{prefix}");
                if !out.contains(&n) {
                    out.push(n);
                }
            }
            if out.len() > 16 {
                return Err(vec![format!(
                    "{label} lists {} networks; keep it to 16 (summarise them into wider ones).",
                    out.len()
                )]);
            }
            Ok(out.join(", "))
        }
        TextRule::HostPort => {
            let ok = t.rsplit_once(':').is_some_and(|(host, port)| {
                port.parse::<u16>().is_ok_and(|p| p > 0)
                    && (host.parse::<std::net::Ipv4Addr>().is_ok()
                        || check_domain(&format!("x.{host}"), label).is_ok())
            });
            if ok {
                Ok(t.to_string())
            } else {
                Err(vec![format!(
                    "“{t}” is not host:port, e.g. mail.internal:25."
                )])
            }
        }
    }
}

/// May a plan name hold `c`? Letters, marks, digits, punctuation and symbols of any
/// script, and the plain space. Not: line breaks of any kind (they would end a line of a
/// generated file: U+000A–000D, U+0085, U+2028, U+2029), other control characters,
/// format characters (bidirectional controls and zero-width characters make a name show
/// differently from what it is), other spaces (tab, no-break space …: they look like a
/// space and are not one), private-use characters and noncharacters. What remains is
/// escaped by each file's writer (`crate::syntax`).
pub fn name_char(c: char) -> bool {
    !(crate::syntax::is_invisible_or_break(c)
        || (c.is_whitespace() && c != ' ')
        || crate::syntax::is_private_or_nonchar(c))
}

/// A character for a message: `“x” (U+0078)`, or its name when it is invisible.
fn describe_char(c: char) -> String {
    let name = match c {
        '\n' => "a line break (U+000A)",
        '\r' => "a carriage return (U+000D)",
        '\t' => "a tab (U+0009)",
        '\u{85}' => "a next-line character (U+0085)",
        '\u{2028}' => "a line separator (U+2028)",
        '\u{2029}' => "a paragraph separator (U+2029)",
        '\u{A0}' => "a no-break space (U+00A0)",
        '\u{FEFF}' => "a byte-order mark (U+FEFF)",
        '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' => {
            return format!("an invisible character (U+{:04X})", c as u32);
        }
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{061C}' => {
            return format!("a bidirectional control character (U+{:04X})", c as u32);
        }
        c if c.is_control() => return format!("a control character (U+{:04X})", c as u32),
        c if c.is_whitespace() => {
            return format!("a space other than the plain space (U+{:04X})", c as u32);
        }
        c => return format!("an invisible or reserved character (U+{:04X})", c as u32),
    };
    name.to_string()
}

fn check_domain(t: &str, label: &str) -> Result<(), Vec<String>> {
    if t.is_empty() {
        return Err(vec![format!(
            "{label} is empty: enter the server's DNS name, e.g. chat.example.com."
        )]);
    }
    if t.len() > 253 {
        return Err(vec![format!(
            "{label} is {} characters long; a DNS name has at most 253.",
            t.len()
        )]);
    }
    if t.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(vec![format!(
            "“{t}” has capital letters: write the server name in lowercase ({}).",
            t.to_ascii_lowercase()
        )]);
    }
    let labels: Vec<&str> = t.split('.').collect();
    if labels.len() < 2 {
        return Err(vec![format!(
            "“{t}” is not a fully qualified name: it needs a dot, e.g. chat.example.com."
        )]);
    }
    let mut errs = Vec::new();
    for l in &labels {
        if l.is_empty() {
            errs.push(format!(
                "“{t}” has an empty label (two dots in a row, or a dot at an end)."
            ));
            break;
        }
        if l.len() > 63 {
            errs.push(format!("the label “{l}” is longer than 63 characters."));
        }
        if let Some(c) = l
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
        {
            errs.push(format!(
                "“{t}” contains “{c}”: a DNS name has only letters, digits, hyphens and dots."
            ));
            break;
        }
        if l.starts_with('-') || l.ends_with('-') {
            errs.push(format!("the label “{l}” starts or ends with a hyphen."));
        }
    }
    if errs.is_empty()
        && labels
            .last()
            .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit()))
    {
        errs.push(format!(
            "“{t}” looks like an IP address: the Matrix server name must be a DNS name."
        ));
    }
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

fn parse_choice(text: &str, keys: &[&str], label: &str) -> Result<String, Vec<String>> {
    let t = text.trim();
    if keys.contains(&t) {
        Ok(t.to_string())
    } else {
        Err(vec![format!(
            "{label} must be one of {}; “{t}” is not.",
            keys.join(", ")
        )])
    }
}

fn parse_bool(text: &str, label: &str) -> Result<bool, Vec<String>> {
    match text.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        t => Err(vec![format!(
            "{label} must be true or false; “{t}” is neither."
        )]),
    }
}

/// `name: factor` lines. Reports every bad line.
fn parse_factors(text: &str) -> Result<BTreeMap<String, f64>, Vec<String>> {
    let mut map = BTreeMap::new();
    let mut errs = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            errs.push(format!(
                "Line {}: “{line}” is not `cache_name: factor`.",
                i + 1
            ));
            continue;
        };
        let name = name.trim();
        let value = value.trim();
        if name.is_empty() {
            errs.push(format!(
                "Line {}: the cache name is missing before “:”.",
                i + 1
            ));
            continue;
        }
        if name.len() > 100
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '*')
        {
            errs.push(format!(
                "“{name}” is not a Synapse cache name (letters, digits, _ and *; e.g. get_users_in_room)."
            ));
            continue;
        }
        match parse_float(value, 0.01, 1000.0, "×", &format!("The factor of {name}")) {
            Ok(x) => {
                if map.insert(name.to_string(), x).is_some() {
                    errs.push(format!("{name} is listed twice; keep one line per cache."));
                }
            }
            Err(e) => errs.extend(e.into_iter().map(|m| format!("{name}: {m}"))),
        }
    }
    if errs.is_empty() { Ok(map) } else { Err(errs) }
}

impl Plan {
    /// Parses one field's text into `self` (used by tests and tools that set one value).
    pub fn with_text(&self, path: &str, text: &str) -> Result<Plan, Vec<Problem>> {
        let mut raw = RawPlan::from_plan(self);
        if field(path).is_none() {
            return Err(vec![Problem::error(
                path,
                "no such key path in the plan schema",
            )]);
        }
        raw.set(path, text);
        let v = validate(&raw);
        v.plan.ok_or_else(|| {
            v.problems
                .into_iter()
                .filter(|p| p.severity == Severity::Error)
                .collect()
        })
    }

    /// [`with_text`](Plan::with_text) for each `(path, text)` in order; the first that
    /// does not give a valid plan stops it, with its problems.
    pub fn with_texts(&self, changes: &[(&str, &str)]) -> Result<Plan, Vec<Problem>> {
        changes
            .iter()
            .try_fold(self.clone(), |p, (path, text)| p.with_text(path, text))
    }
}

/// `Storage` and `PoolMode` parse through `Kind::Choice`; these keep the sets in step.
const _: () = {
    assert!(Storage::KEYS.len() == 3);
    assert!(PoolMode::KEYS.len() == 3);
};

/// A valid DNS name of exactly `len` characters (tests).
#[cfg(test)]
pub(crate) fn tests_dns_name(len: usize) -> String {
    let mut out = String::new();
    while len - out.len() > 64 {
        out.push_str(&"a".repeat(63));
        out.push('.');
    }
    let rest = len - out.len();
    if rest == 64 {
        // 62 + "." + 1: no label over 63.
        out.push_str(&"a".repeat(62));
        out.push_str(".b");
    } else {
        out.push_str(&"b".repeat(rest));
    }
    assert_eq!(out.len(), len);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_texts_applies_in_order_and_stops_at_the_first_bad_change() {
        let p = Plan::default()
            .with_texts(&[("hosts.patroni.count", "5"), ("hosts.patroni.count", "3")])
            .expect("valid");
        assert_eq!(p.host(Role::Patroni).count, 3);
        let e = Plan::default()
            .with_texts(&[("hosts.patroni.count", "5"), ("users.registered", "-1")])
            .expect_err("invalid");
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].path, "users.registered");
        assert_eq!(Plan::default().with_texts(&[]), Ok(Plan::default()));
    }

    fn check(path: &str, text: &str, expect: &[&str]) {
        let mut raw = RawPlan::default();
        assert!(raw.set(path, text), "unknown path {path}");
        let v = validate(&raw);
        let got: Vec<String> = v
            .for_path(path)
            .map(|p| format!("{}: {}", p.severity, p.message))
            .collect();
        assert_eq!(got, expect, "for {path} = {text:?}");
    }

    #[test]
    fn default_plan_is_valid_and_silent() {
        let v = validate(&RawPlan::default());
        assert_eq!(v.problems, vec![]);
        assert_eq!(v.plan, Some(Plan::default()));
    }

    #[test]
    fn field_messages() {
        check(
            "synapse.cache-factor",
            "abc",
            &["error: “abc” is not a number: enter a number from 0.01 to 1000 ×."],
        );
        check(
            "synapse.cache-factor",
            "2,5",
            &["error: “2,5” uses a comma: write decimals with a dot, e.g. 2.5."],
        );
        check(
            "synapse.cache-factor",
            "-1",
            &["error: Global cache factor cannot be negative: enter a number from 0.01 to 1000 ×."],
        );
        check(
            "synapse.cache-factor",
            "NaN",
            &["error: “NaN” is not a number: enter a number from 0.01 to 1000 ×."],
        );
        check(
            "synapse.cache-factor",
            "60",
            &[
                "warning: Global cache factor of 60 × is above 50: Synapse's default is 0.5 and the playbook's 10; by the seed's heuristic each unit costs 0.5 GiB per process.",
            ],
        );
        check(
            "hosts.patroni.count",
            "",
            &[
                "error: Patroni (PostgreSQL + etcd) hosts is empty: enter a whole number from 1 to 15 hosts.",
            ],
        );
        check(
            "hosts.patroni.count",
            "0",
            &[
                "error: Patroni (PostgreSQL + etcd) hosts must be at least 1 hosts (one PostgreSQL node per host; etcd runs on the same hosts); 0 is too few.",
            ],
        );
        check(
            "hosts.synapse.count",
            "2",
            &[
                "error: Synapse hosts must be 1 (matrix-docker-ansible-deploy runs Synapse and all its workers on one host).",
            ],
        );
        check(
            "hosts.minio.count",
            "-3",
            &["error: MinIO hosts cannot be negative: enter a whole number from 1 to 64 hosts."],
        );
        check(
            "hosts.minio.count",
            "2.5",
            &[
                "error: “2.5” is not a whole number (no decimals): enter a whole number from 1 to 64 hosts.",
            ],
        );
        check(
            "users.registered",
            "10,000",
            &["error: “10,000” is not a whole number: write it without separators, e.g. 10000."],
        );
        check(
            "users.registered",
            "99999999999999999999999",
            &[
                "error: 99999999999999999999999 is far too large: Registered users must be at most 100000000 users.",
            ],
        );
        check(
            "pgbouncer.pool-mode",
            "sessions",
            &[
                "error: PgBouncer pool mode must be one of session, transaction, statement; “sessions” is not.",
            ],
        );
        check(
            "domain",
            "Chat.Example.com",
            &[
                "error: “Chat.Example.com” has capital letters: write the server name in lowercase (chat.example.com).",
            ],
        );
        check(
            "domain",
            "localhost",
            &[
                "error: “localhost” is not a fully qualified name: it needs a dot, e.g. chat.example.com.",
            ],
        );
        check(
            "domain",
            "10.0.1.10",
            &[
                "error: “10.0.1.10” looks like an IP address: the Matrix server name must be a DNS name.",
            ],
        );
        check(
            "synapse.redis",
            "maybe",
            &["error: Valkey (Redis) for workers must be true or false; “maybe” is neither."],
        );
        check(
            "synapse.per-cache-factors",
            "get_users_in_room: 5.0\nbad line\nget_room_events: x\nget_users_in_room: 2",
            &[
                "error: Line 2: “bad line” is not `cache_name: factor`.",
                "error: get_room_events: “x” is not a number: enter a number from 0.01 to 1000 ×.",
                "error: get_users_in_room is listed twice; keep one line per cache.",
            ],
        );
        check(
            "synapse.per-cache-factors",
            "get_users_in_room: 5.0\n\n*stateGroupCache*: 2",
            &[],
        );
    }

    #[test]
    fn every_problem_at_once() {
        let mut raw = RawPlan::default();
        raw.set("users.registered", "x");
        raw.set("synapse.cp-max", "-2");
        raw.set("hosts.haproxy.ram-gib", "");
        raw.set("postgres.storage", "tape");
        let v = validate(&raw);
        assert!(v.plan.is_none());
        let paths: Vec<&str> = v.errors().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "users.registered",
                "synapse.cp-max",
                "hosts.haproxy.ram-gib",
                "postgres.storage"
            ]
        );
    }

    #[test]
    fn numbers_past_tool_limits_generated_names_fit_dns_file_and_mail_limits() {
        for len in [1, 63, 64, 65, 127, 128, 200, 253] {
            assert_eq!(tests_dns_name(len).len(), len);
        }
        let suffix = "network.internal-domain";
        check(suffix, &tests_dns_name(242), &[]);
        check(
            suffix,
            &tests_dns_name(243),
            &[
                "error: The longest host name the bundle generates, monitoring.<suffix>, would be 254 characters; a DNS name has at most 253 (RFC 1035). Shorten the internal DNS suffix to at most 242 characters.",
            ],
        );
        // The case: a 251-character suffix gave 261-character host names.
        check(
            suffix,
            &tests_dns_name(251),
            &[
                "error: The longest host name the bundle generates, monitoring.<suffix>, would be 262 characters; a DNS name has at most 253 (RFC 1035). Shorten the internal DNS suffix to at most 242 characters.",
            ],
        );
        let domain = "domain";
        check(domain, &tests_dns_name(241), &[]);
        check(
            domain,
            &tests_dns_name(242),
            &[
                "error: The server name makes Alertmanager's sender address, alertmanager@<server name>; a mail address has at most 254 characters (RFC 5321 §4.5.3.1.3): it would be 255 characters. Use a server name of at most 241 characters.",
            ],
        );
        check(
            domain,
            &tests_dns_name(252),
            &[
                "error: The server name makes the file name of HAProxy's certificate, /etc/haproxy/certs/<server name>.pem; Linux allows at most 255 bytes in a file name (NAME_MAX): it would be 256 characters. Use a server name of at most 251 characters.",
                "error: The server name makes Alertmanager's sender address, alertmanager@<server name>; a mail address has at most 254 characters (RFC 5321 §4.5.3.1.3): it would be 265 characters. Use a server name of at most 241 characters.",
            ],
        );
    }

    #[test]
    fn cross_field_rules() {
        let mut raw = RawPlan::default();
        raw.set("users.peak-concurrent", "20000");
        raw.set("synapse.cp-min", "20");
        let v = validate(&raw);
        let got: Vec<String> = v.errors().map(|p| p.to_string()).collect();
        assert_eq!(
            got,
            [
                "error: users.peak-concurrent: Peak concurrent users (20000) cannot exceed registered users (10000).",
                "error: synapse.cp-min: cp_min (20) cannot be above cp_max (10): Twisted's connection pool refuses to start."
            ]
        );
    }
}

//! The calls files of the bundle through the real programs, for every named plan and
//! every coturn and LiveKit host (none for a plan without them), each inside a Sandbox:
//!
//! * coturn: `turnserver` started with the file (stub certificate, the host's address
//!   on lo); no "Bad configuration format", ERROR or CONFIG lines; STUN answered
//!   (`turnutils_stunclient`), TLS on 5349; on each plan's first coturn host, relayed
//!   traffic with credentials derived from the shared secret: to its own relay and an
//!   intranet client address (allowed), to the VIP and loopback (refused), and a wrong
//!   secret refused. The relay port range is checked against the plan here (coturn
//!   accepts anything). The quotas are the report's (`calls.turn.user-quota`,
//!   `total-quota`), and coturn enforces user-quota: a user's allocation past it is
//!   refused with 486 Allocation Quota Reached.
//! * Redis: `redis-server` started with the file, PING with and without the password,
//!   the settings it runs with, the Redis exporter scraping it with its settings file,
//!   SHUTDOWN NOSAVE.
//! * LiveKit: no livekit-server binary exists in any registry this project may use, so
//!   every key path and value type of livekit.yaml is checked against LiveKit's config
//!   structs (tests/data/livekit-schema.json, read from livekit/livekit's Go structs
//!   at 788d4c3, 2026-08-21; the bundle targets v1.13.5, so keys added after it are
//!   refused too), as strictly as the server decodes it (unknown keys are fatal there);
//!   plus strict yamllint, and the systemd unit through `systemd-analyze verify`.

#[path = "support/bundles.rs"]
mod bundles;
#[path = "support/sandbox.rs"]
mod sandbox;

use bundles::{bundle, host_file, named_plans, secrets};
use sandbox::{Sandbox, assert_ok, output_text, tool};
use serde_json::Value as J;
use serde_yaml::Value as Y;
use std::net::Ipv4Addr;
use synapse_planner::bundle::{File, SecretId, Topology};
use synapse_planner::plan::{Plan, Role};
use synapse_planner::report::Report;

/// `key=value` lines of turnserver.conf, comments skipped; flags have an empty value.
fn turn_settings(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| match l.split_once('=') {
            Some((k, v)) => (k.trim().to_string(), v.trim().to_string()),
            None => (l.trim().to_string(), String::new()),
        })
        .collect()
}

fn turn_value(s: &[(String, String)], key: &str) -> String {
    let v: Vec<&String> = s.iter().filter(|(k, _)| k == key).map(|(_, v)| v).collect();
    assert_eq!(v.len(), 1, "{key} set {} times", v.len());
    v[0].clone()
}

fn every_plan_hosts(role: Role, mut f: impl FnMut(&str, &Plan, &[File], &str, bool)) -> usize {
    let mut n = 0;
    for (name, plan) in named_plans() {
        let files = bundle(&plan);
        let t = Topology::new(&plan);
        let hosts: Vec<String> = t.role(role).map(|h| h.name.clone()).collect();
        if hosts.is_empty() {
            let prefix = format!("hosts/{}", role.key());
            assert!(
                !files.iter().any(|f| f.path.starts_with(&prefix)),
                "{name}: files for {} hosts, but the plan has none",
                role.key()
            );
        }
        for (i, h) in hosts.iter().enumerate() {
            f(name, &plan, &files, h, i == 0);
            n += 1;
        }
    }
    n
}

/// A client address on the intranet outside the cluster's subnet.
fn intranet_client(plan: &Plan) -> Ipv4Addr {
    let (net, prefix) = (u32::from(plan.network.subnet), plan.network.prefix);
    let mask = u32::MAX << (32 - u32::from(prefix));
    let candidate = Ipv4Addr::new(192, 168, 77, 7);
    if u32::from(candidate) & mask == net & mask {
        Ipv4Addr::new(10, 200, 0, 7)
    } else {
        candidate
    }
}

/// Lines of coturn's output that mean the configuration is not what it reads.
fn bad_turn_lines(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| {
            [
                "Bad configuration format",
                "ERROR",
                "CONFIG ERROR",
                "CONFIG: Unknown",
                "WARNING",
            ]
            .iter()
            .any(|bad| l.contains(bad))
        })
        .collect()
}

#[test]
fn coturn_starts_with_the_file_and_relays_only_where_allowed() {
    let turnserver = tool("turnserver");
    let stunclient = tool("turnutils_stunclient");
    let uclient = tool("turnutils_uclient");
    let peer = tool("turnutils_peer");
    let openssl = tool("openssl");
    let n = every_plan_hosts(Role::Coturn, |name, plan, files, host, first| {
        let t = Topology::new(plan);
        let ip = t.by_name(host).expect("host").ip;
        let f = host_file(files, host, "/etc/turnserver.conf");
        assert_eq!(f.mode, 0o600, "{name}/{host}");
        let s = turn_settings(&f.contents);

        // What coturn would take silently: the relay range and addresses.
        let (min, max) = (turn_value(&s, "min-port"), turn_value(&s, "max-port"));
        let (min, max): (u64, u64) = (
            min.parse().expect("min-port"),
            max.parse().expect("max-port"),
        );
        assert_eq!(
            (min, max),
            (plan.coturn.min_port, plan.coturn.max_port),
            "{name}/{host}"
        );
        assert!(
            1024 < min && min < max && max <= 65535,
            "{name}/{host}: {min}-{max}"
        );
        for p in [3478, 5349] {
            assert!(
                !(min..=max).contains(&p),
                "{name}/{host}: listener {p} inside the relay range"
            );
        }
        let reserved = host_file(files, host, "/etc/sysctl.d/91-reserved-ports.conf");
        assert!(
            reserved
                .contents
                .contains(&format!("net.ipv4.ip_local_reserved_ports = {min}-{max}")),
            "{name}/{host}: relay range not reserved"
        );
        for key in ["listening-ip", "relay-ip", "external-ip"] {
            assert_eq!(turn_value(&s, key), ip.to_string(), "{name}/{host}: {key}");
        }
        assert_eq!(turn_value(&s, "listening-port"), "3478");
        assert_eq!(turn_value(&s, "tls-listening-port"), "5349");
        assert_eq!(turn_value(&s, "realm"), t.server_name);
        assert_eq!(
            turn_value(&s, "static-auth-secret"),
            secrets().get(SecretId::TurnSharedSecret)
        );
        assert!(
            !s.iter().any(|(k, _)| k == "no-tcp-relay"),
            "{name}/{host}: no-tcp-relay"
        );
        for (k, v) in s.iter().filter(|(k, _)| k.ends_with("-peer-ip")) {
            let (a, b) = v.split_once('-').unwrap_or((v, v));
            let (a, b): (Ipv4Addr, Ipv4Addr) = (
                a.parse()
                    .unwrap_or_else(|_| panic!("{k}={v}: not an address range")),
                b.parse()
                    .unwrap_or_else(|_| panic!("{k}={v}: not an address range")),
            );
            assert!(a <= b, "{name}/{host}: {k}={v}");
        }

        let client = intranet_client(plan);
        let mut addrs = vec![ip];
        if first {
            addrs.push(client);
        }
        let sb = Sandbox::new("coturn").with_addrs(addrs);
        let conf = sb.write("turnserver.conf", &f.contents);
        let ssl = sb.dir().join("etc-ssl");
        let certs = ssl.join(format!("synapse-planner/{}", t.server_name));
        let secret = secrets().get(SecretId::TurnSharedSecret).to_string();
        let relay_checks = if first {
            format!(
                r#"
{peer} -L {client} -p 3480 > /dev/null 2>&1 &
sleep 0.3
# One user name per client: each has its own quota (user-quota counts per user).
u=(timeout 20 {uclient} -W {secret} -n 2 -m 1 -z 5 -X -c)
pids=()
"${{u[@]}}" -u alice -y {ip} > {d}/own-relay.out 2>&1 & pids+=($!)
"${{u[@]}}" -u bob -e {client} {ip} > {d}/intranet.out 2>&1 & pids+=($!)
"${{u[@]}}" -u carol -e {vip} {ip} > {d}/vip.out 2>&1 & pids+=($!)
"${{u[@]}}" -u dave -e 127.0.0.1 {ip} > {d}/loopback.out 2>&1 & pids+=($!)
timeout 20 {uclient} -W wrong-secret -u eve -n 2 -m 1 -z 5 -X -c -y {ip} > {d}/wrong-secret.out 2>&1 & pids+=($!)
wait "${{pids[@]}}"
"#,
                vip = t.vip,
                d = sb.dir().display(),
                uclient = uclient.display(),
                peer = peer.display(),
            )
        } else {
            String::new()
        };
        let script = format!(
            r#"set -e
mkdir -p {certs} {d}/var-lib-turn
{openssl} req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj /CN={server} -keyout {certs}/privkey.pem -out {certs}/fullchain.pem 2> /dev/null
mount --bind {ssl} /etc/ssl
# coturn opens its default user database even with use-auth-secret: a private copy.
if [ -f /var/lib/turn/turndb ]; then cp /var/lib/turn/turndb {d}/var-lib-turn/; fi
mount --bind {d}/var-lib-turn /var/lib/turn
set +e
{turnserver} -c {conf} --log-file=stdout --pidfile={d}/turn.pid > {d}/turn.log 2>&1 &
turn=$!
for _ in $(seq 1 50); do
  ss -Hlun | grep -q '{ip}:3478 ' && ss -Hltn | grep -q '{ip}:5349 ' && break
  sleep 0.1
done
sleep 0.5
cp {d}/turn.log {d}/startup.log
echo "stun: $({stunclient} {ip} 2>&1 | grep -c 'UDP reflexive addr')"
echo "tls: $(timeout 5 {openssl} s_client -connect {ip}:5349 < /dev/null 2>&1 | grep -E '^(New|    Protocol)' | tr '\n' ' ')"
{relay_checks}
kill $turn
wait $turn
exit 0
"#,
            certs = certs.display(),
            ssl = ssl.display(),
            d = sb.dir().display(),
            server = t.server_name,
            openssl = openssl.display(),
            turnserver = turnserver.display(),
            conf = conf.display(),
            stunclient = stunclient.display(),
        );
        let out = sb.run(&script);
        let text = output_text(&out);
        let read = |f: &str| std::fs::read_to_string(sb.dir().join(f)).unwrap_or_default();
        let startup = read("startup.log");
        assert_ok(&out, &format!("{name}/{host}: coturn\n{startup}"));
        // The file's settings in coturn's own words: it read the file.
        for want in [
            format!("Listener address to use: {ip}"),
            format!("Relay address to use: {ip}"),
            format!("White listing: {ip}"),
            format!("Default realm: {}", t.server_name),
        ] {
            assert!(
                startup.contains(&want),
                "{name}/{host}: no {want:?} in coturn's log:\n{startup}"
            );
        }
        let bad = bad_turn_lines(&startup);
        assert!(
            bad.is_empty(),
            "{name}/{host}: coturn complained:\n{}",
            bad.join("\n")
        );
        assert!(
            text.contains("stun: 1") || text.contains("stun: 2"),
            "{name}/{host}: STUN: {text}\n{startup}"
        );
        assert!(
            text.contains("New, TLSv1.") && text.contains("Protocol  : TLSv1."),
            "{name}/{host}: TLS: {text}"
        );
        if first {
            for (out_file, ok) in [
                ("own-relay.out", true),
                ("intranet.out", true),
                ("vip.out", false),
                ("loopback.out", false),
                ("wrong-secret.out", false),
            ] {
                let o = read(out_file);
                let received = o
                    .lines()
                    .filter_map(|l| l.split("tot_recv_msgs=").nth(1))
                    .filter_map(|v| {
                        v.split(|c: char| !c.is_ascii_digit())
                            .next()?
                            .parse::<u64>()
                            .ok()
                    })
                    .max()
                    .unwrap_or(0);
                if ok {
                    assert!(
                        received > 0 && !o.contains("error"),
                        "{name}/{host}: {out_file}: nothing relayed:\n{o}\n{}",
                        read("turn.log")
                    );
                } else {
                    assert_eq!(
                        received, 0,
                        "{name}/{host}: {out_file}: relayed but must not:\n{o}"
                    );
                }
            }
            assert!(
                read("vip.out").contains("403"),
                "{name}/{host}: VIP not refused: {}",
                read("vip.out")
            );
            assert!(
                read("loopback.out").contains("403"),
                "{name}/{host}: loopback not refused"
            );
            assert!(
                read("wrong-secret.out").contains("Cannot complete Allocation"),
                "{name}/{host}: a wrong secret got an allocation"
            );
        }
    });
    assert!(n >= 4, "only {n} coturn hosts over the named plans");
}

#[test]
fn coturn_default_file_enables_the_daemon() {
    every_plan_hosts(Role::Coturn, |name, _, files, host, _| {
        let f = host_file(files, host, "/etc/default/coturn");
        let sb = Sandbox::new("coturn-default");
        let path = sb.write("coturn", &f.contents);
        let out = sb.run(&format!(
            "sh -n {p} && . {p} && echo \"enabled=$TURNSERVER_ENABLED\"",
            p = path.display()
        ));
        assert_ok(&out, &format!("{name}/{host}: /etc/default/coturn"));
        assert!(output_text(&out).contains("enabled=1"), "{name}/{host}");
    });
}

#[test]
fn redis_starts_with_the_file_and_the_exporter_scrapes_it() {
    let redis_server = tool("redis-server");
    let redis_cli = tool("redis-cli");
    let exporter = tool("prometheus-redis-exporter");
    let mut n = 0;
    for (name, plan) in named_plans() {
        let files = bundle(&plan);
        let t = Topology::new(&plan);
        let Some(first) = t.first(Role::Livekit) else {
            assert!(
                !files
                    .iter()
                    .any(|f| f.path.ends_with("/etc/redis/redis.conf")),
                "{name}"
            );
            continue;
        };
        n += 1;
        let host = &first.name;
        let ip = first.ip;
        for other in t.role(Role::Livekit).skip(1) {
            assert!(
                !files
                    .iter()
                    .any(|f| f.path == format!("hosts/{}/etc/redis/redis.conf", other.name)),
                "{name}: Redis on {} too",
                other.name
            );
        }
        let conf = host_file(&files, host, "/etc/redis/redis.conf");
        assert_eq!(conf.mode, 0o600);
        let password = secrets().get(SecretId::LivekitRedisPassword).to_string();
        let sb = Sandbox::new("redis").with_addrs([ip]);
        // Paths rewritten to the sandbox: the data directory (nothing is written to
        // it without persistence, but Redis changes into it). The pid file goes to the
        // sandbox's private /run.
        let contents: String = conf
            .contents
            .lines()
            .map(|l| {
                if l.starts_with("dir ") {
                    format!("dir {}\n", sb.dir().join("data").display())
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        let path = sb.write("redis.conf", contents);
        sb.write("data/.keep", "");
        let env = sb.write(
            "prometheus-redis-exporter",
            &host_file(&files, host, "/etc/default/prometheus-redis-exporter").contents,
        );
        let script = format!(
            r#"mkdir -p /run/redis
{server} {path} --daemonize no --logfile "" > {d}/redis.log 2>&1 &
redis=$!
for _ in $(seq 1 50); do {cli} -h {ip} ping > /dev/null 2>&1 && break; sleep 0.1; done
echo "anonymous=$({cli} -h {ip} ping 2>&1)"
export REDISCLI_AUTH={password}
echo "private=$({cli} -h {ip} ping)"
echo "loopback=$({cli} -h 127.0.0.1 ping)"
for key in save appendonly maxmemory maxmemory-policy bind protected-mode; do
  echo "$key=$({cli} -h 127.0.0.1 config get $key | tail -n 1)"
done
(set -a; . {env}; set +a; exec {exporter} $ARGS) > {d}/exporter.log 2>&1 &
for _ in $(seq 1 50); do curl -s http://{ip}:9121/metrics > {d}/metrics && grep -q '^redis_up' {d}/metrics && break; sleep 0.1; done
echo "redis_up=$(grep '^redis_up ' {d}/metrics | cut -d' ' -f2)"
{cli} -h 127.0.0.1 shutdown nosave
wait $redis
echo "exit=$?"
"#,
            server = redis_server.display(),
            cli = redis_cli.display(),
            exporter = exporter.display(),
            path = path.display(),
            env = env.display(),
            d = sb.dir().display(),
        );
        let out = sb.run(&script);
        let text = output_text(&out);
        let log = std::fs::read_to_string(sb.dir().join("redis.log")).unwrap_or_default();
        let ctx = format!("{name}: {text}\n--- redis ---\n{log}");
        assert_ok(&out, &ctx);
        for want in [
            "anonymous=NOAUTH Authentication required.",
            "private=PONG",
            "loopback=PONG",
            "save=\n",
            "appendonly=no",
            "maxmemory=536870912",
            "maxmemory-policy=noeviction",
            &format!("bind={ip} 127.0.0.1"),
            "protected-mode=yes",
            "redis_up=1",
            "exit=0",
        ] {
            assert!(text.contains(want), "{want:?} missing: {ctx}");
        }
        assert!(
            !log.contains("Bad directive") && !log.contains("FATAL"),
            "{ctx}"
        );
    }
    assert!(n >= 2, "only {n} plans with LiveKit");
}

// ---- LiveKit's configuration: keys and types as livekit-server decodes them ----

/// Keys in the schema (livekit/livekit @ 788d4c3) that livekit-server v1.13.5, the
/// version the bundle pins, does not have yet (`git diff v1.13.5 788d4c3 --
/// pkg/config/config.go`): v1.13.5 would refuse them as unknown.
const NEWER_THAN_TARGET: &[&str] = &[
    "rtc.enable_warp",
    "room.enable_full_room_in_webhooks",
    "turn.per_user_relay_allocation_limit",
    "limit.signal_message_size_limit",
    "limit.agent_signal_message_size_limit",
    "limit.max_api_request_body_size",
];

fn livekit_schema() -> J {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/livekit-schema.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let v: J = serde_json::from_str(&text).expect("schema JSON");
    v["schema"].clone()
}

/// Go's time.ParseDuration: an optional sign, then one or more decimal numbers each
/// with a unit (ns, us, µs, ms, s, m, h); "0" alone is allowed.
fn go_duration(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    if s == "0" {
        return true;
    }
    let mut rest = s;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let num = &rest[..num_len];
        if num.is_empty() || num == "." || num.matches('.').count() > 1 {
            return false;
        }
        rest = &rest[num_len..];
        let Some(unit) = ["ns", "us", "µs", "ms", "s", "m", "h"]
            .iter()
            .filter(|u| rest.starts_with(*u))
            .max_by_key(|u| u.len())
        else {
            return false;
        };
        rest = &rest[unit.len()..];
    }
    true
}

fn integer_in(v: &Y, min: i128, max: i128) -> bool {
    let n = match v {
        Y::Number(n) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from)),
        _ => None,
    };
    n.is_some_and(|n| (min..=max).contains(&n))
}

/// A leaf value against its Go type, as yaml.v3 decodes it plus the types' own
/// UnmarshalYAML (mediatransportutil rtcconfig: NodeIP, PortRange).
fn leaf_ok(go: &str, v: &Y) -> Result<(), String> {
    let ok = match go {
        "bool" => matches!(v, Y::Bool(_)),
        "string" => matches!(v, Y::String(_)),
        "int" | "int64" => integer_in(v, i64::MIN.into(), i64::MAX.into()),
        "int32" => integer_in(v, i32::MIN.into(), i32::MAX.into()),
        "int16" => integer_in(v, i16::MIN.into(), i16::MAX.into()),
        "int8" => integer_in(v, i8::MIN.into(), i8::MAX.into()),
        "uint64" => integer_in(v, 0, u64::MAX.into()),
        "uint32" => integer_in(v, 0, u32::MAX.into()),
        "uint16" => integer_in(v, 0, u16::MAX.into()),
        "uint8" => integer_in(v, 0, u8::MAX.into()),
        "float32" | "float64" => matches!(v, Y::Number(_)),
        "time.Duration" => match v {
            Y::String(s) => go_duration(s),
            other => integer_in(other, i64::MIN.into(), i64::MAX.into()),
        },
        // "<ipv4>", "<ipv6>" or "<ipv4>,<ipv6>".
        "NodeIP" => match v {
            Y::String(s) => {
                let parts: Vec<&str> = s.split(',').map(str::trim).collect();
                let v4 = parts
                    .iter()
                    .filter(|p| p.parse::<Ipv4Addr>().is_ok())
                    .count();
                let v6 = parts
                    .iter()
                    .filter(|p| p.parse::<std::net::Ipv6Addr>().is_ok())
                    .count();
                !parts.is_empty()
                    && parts.len() <= 2
                    && v4 + v6 == parts.len()
                    && v4 <= 1
                    && v6 <= 1
            }
            _ => false,
        },
        // A port, or "<start>-<end>" with end > start.
        "PortRange" => match v {
            Y::String(s) => match s.split_once('-') {
                Some((a, b)) => {
                    matches!((a.trim().parse::<i64>(), b.trim().parse::<i64>()), (Ok(a), Ok(b)) if b > a)
                }
                None => s.trim().parse::<i64>().is_ok(),
            },
            other => integer_in(other, i64::MIN.into(), i64::MAX.into()),
        },
        other => return Err(format!("type {other} is not checked here: do not use it")),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{v:?} is not a valid {go}"))
    }
}

fn check_livekit(schema: &J, v: &Y, path: &str, errors: &mut Vec<String>) {
    let at = if path.is_empty() { "<top>" } else { path };
    if matches!(v, Y::Null | Y::Tagged(_)) {
        errors.push(format!(
            "{at}: {v:?} (null or tagged values are not written)"
        ));
        return;
    }
    match schema["t"].as_str() {
        Some("struct") => {
            let Y::Mapping(m) = v else {
                errors.push(format!("{at}: a mapping expected, got {v:?}"));
                return;
            };
            for (k, val) in m {
                let Y::String(k) = k else {
                    errors.push(format!("{at}: key {k:?} is not a string"));
                    continue;
                };
                let child = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                if NEWER_THAN_TARGET.contains(&child.as_str()) {
                    errors.push(format!("{child}: not in livekit-server v1.13.5"));
                    continue;
                }
                match schema["fields"].get(k.as_str()) {
                    Some(field) => check_livekit(field, val, &child, errors),
                    None => errors.push(format!("{child}: unknown key")),
                }
            }
        }
        Some("map") => {
            let Y::Mapping(m) = v else {
                errors.push(format!("{at}: a mapping expected, got {v:?}"));
                return;
            };
            for (k, val) in m {
                match k {
                    Y::String(k) => {
                        check_livekit(&schema["value"], val, &format!("{path}.{k}"), errors)
                    }
                    other => errors.push(format!("{at}: map key {other:?} is not a string")),
                }
            }
        }
        Some("list") => {
            let Y::Sequence(items) = v else {
                errors.push(format!("{at}: a list expected, got {v:?}"));
                return;
            };
            for (i, item) in items.iter().enumerate() {
                check_livekit(&schema["item"], item, &format!("{path}[{i}]"), errors);
            }
        }
        Some("leaf") => {
            if let Err(e) = leaf_ok(schema["go"].as_str().unwrap_or("?"), v) {
                errors.push(format!("{at}: {e}"));
            }
        }
        other => errors.push(format!("{at}: schema node {other:?}")),
    }
}

fn livekit_errors(schema: &J, yaml: &str) -> Vec<String> {
    match serde_yaml::from_str::<Y>(yaml) {
        Ok(v) => {
            let mut errors = Vec::new();
            check_livekit(schema, &v, "", &mut errors);
            errors
        }
        Err(e) => vec![format!("YAML: {e}")],
    }
}

/// The checker itself: what it must accept and refuse.
#[test]
fn livekit_checker_refuses_what_livekit_refuses() {
    let schema = livekit_schema();
    for (yaml, expect) in [
        ("port: 7880\n", None),
        ("port: 7880\nbogus: 1\n", Some("bogus: unknown key")),
        (
            "rtc:\n  tcp_port: 7881\n  tcp_prot: 1\n",
            Some("rtc.tcp_prot: unknown key"),
        ),
        ("rtc:\n  tcp_port: \"7881\"\n", Some("rtc.tcp_port")),
        ("port: -1\n", Some("port")),
        ("port: 7880.5\n", Some("port")),
        (
            "room:\n  auto_create: \"false\"\n",
            Some("room.auto_create"),
        ),
        ("room:\n  auto_create: yes\n", Some("room.auto_create")),
        ("keys:\n  - a\n", Some("keys: a mapping expected")),
        ("keys:\n  APIabc: 123\n", Some("keys.APIabc")),
        ("keys:\n  APIabc: \"s\"\n", None),
        ("rtc:\n  node_ip: \"10.0.0.1\"\n", None),
        ("rtc:\n  node_ip: \"10.0.0.1,fd00::1\"\n", None),
        (
            "rtc:\n  node_ip: \"10.0.0.1,10.0.0.2\"\n",
            Some("rtc.node_ip"),
        ),
        (
            "rtc:\n  node_ip: \"chat.example.com\"\n",
            Some("rtc.node_ip"),
        ),
        ("rtc:\n  udp_port: 7882\n", None),
        ("rtc:\n  udp_port: \"7882-7890\"\n", None),
        ("rtc:\n  udp_port: \"7890-7882\"\n", Some("rtc.udp_port")),
        ("redis:\n  pool_timeout: 5s\n", None),
        ("redis:\n  pool_timeout: 1m30s\n", None),
        ("redis:\n  pool_timeout: 5x\n", Some("redis.pool_timeout")),
        ("bind_addresses:\n  - \"10.0.0.1\"\n", None),
        (
            "bind_addresses: \"10.0.0.1\"\n",
            Some("bind_addresses: a list expected"),
        ),
        (
            "rtc:\n  enable_warp: true\n",
            Some("not in livekit-server v1.13.5"),
        ),
        ("prometheus:\n  port: 6789\n", None),
        ("port: 7880\nport: 7881\n", Some("YAML")),
        ("room: ~\n", Some("room")),
    ] {
        let errors = livekit_errors(&schema, yaml);
        match expect {
            None => assert!(errors.is_empty(), "{yaml:?} refused: {errors:?}"),
            Some(want) => assert!(
                errors.iter().any(|e| e.contains(want)),
                "{yaml:?}: expected an error with {want:?}, got {errors:?}"
            ),
        }
    }
    assert!(
        go_duration("300ms")
            && go_duration("0")
            && go_duration("1.5h")
            && !go_duration("")
            && !go_duration("5")
    );
    // The newer keys really are in the schema (so the list above is not stale).
    for key in NEWER_THAN_TARGET {
        let mut node = &schema;
        for part in key.split('.') {
            node = &node["fields"][part];
        }
        assert!(node.is_object(), "{key} is not in the schema");
    }
}

/// yamllint, strict (as validate_bundle.rs): everything but line length.
const YAMLLINT: &str = "extends: default
rules:
  line-length: disable
  truthy:
    allowed-values: ['true', 'false']
    check-keys: true
  key-duplicates: enable
  octal-values:
    forbid-implicit-octal: true
    forbid-explicit-octal: true
";

#[test]
fn livekit_config_has_only_livekit_keys_and_types() {
    let schema = livekit_schema();
    let yamllint = tool("yamllint");
    let n = every_plan_hosts(Role::Livekit, |name, plan, files, host, _| {
        let t = Topology::new(plan);
        let me = t.by_name(host).expect("host").ip;
        let redis = t.first(Role::Livekit).expect("livekit1").ip;
        let f = host_file(files, host, "/etc/livekit/livekit.yaml");
        assert_eq!(f.mode, 0o600, "{name}/{host}");
        let errors = livekit_errors(&schema, &f.contents);
        assert!(
            errors.is_empty(),
            "{name}/{host}: livekit.yaml:\n{}",
            errors.join("\n")
        );

        // What the server checks after decoding, and what the other files rely on.
        let v: Y = serde_yaml::from_str(&f.contents).expect("yaml");
        let get = |p: &str| {
            p.split('.')
                .try_fold(&v, |v, k| v.get(k))
                .cloned()
                .unwrap_or(Y::Null)
        };
        let keys = get("keys");
        let keys = keys.as_mapping().expect("keys");
        assert_eq!(keys.len(), 1, "{name}/{host}: one API key");
        let s = secrets();
        let secret = keys
            .get(s.get(SecretId::LivekitApiKey))
            .and_then(Y::as_str)
            .expect("the API key");
        assert_eq!(secret, s.get(SecretId::LivekitApiSecret));
        assert!(
            secret.len() >= 32,
            "LiveKit logs an error for secrets under 32 characters"
        );
        let start = get("rtc.port_range_start").as_u64().expect("start");
        let end = get("rtc.port_range_end").as_u64().expect("end");
        assert_eq!(
            (start, end),
            (plan.livekit.port_range_start, plan.livekit.port_range_end)
        );
        assert!(1024 < start && start < end && end <= 65535);
        for p in [7880, 7881, 6789] {
            assert!(
                !(start..=end).contains(&p),
                "{name}/{host}: {p} inside the RTC range"
            );
        }
        let reserved = host_file(files, host, "/etc/sysctl.d/91-reserved-ports.conf");
        assert!(
            reserved
                .contents
                .contains(&format!("net.ipv4.ip_local_reserved_ports = {start}-{end}")),
            "{name}/{host}: RTC range not reserved"
        );
        assert_eq!(get("rtc.node_ip").as_str(), Some(me.to_string().as_str()));
        assert_eq!(get("rtc.use_external_ip").as_bool(), Some(false));
        assert_eq!(
            get("redis.address").as_str(),
            Some(format!("{redis}:6379").as_str())
        );
        assert_eq!(
            get("redis.password").as_str(),
            Some(s.get(SecretId::LivekitRedisPassword))
        );
        let redis_conf = host_file(
            files,
            &t.first(Role::Livekit).expect("livekit1").name,
            "/etc/redis/redis.conf",
        );
        assert!(redis_conf.contents.contains(&format!(
            "\nrequirepass {}\n",
            s.get(SecretId::LivekitRedisPassword)
        )));
        assert!(
            redis_conf
                .contents
                .contains(&format!("\nbind {redis} 127.0.0.1\n"))
        );
        assert_eq!(get("room.auto_create").as_bool(), Some(false));

        let sb = Sandbox::new("livekit-yaml");
        let config = sb.write(".yamllint", YAMLLINT);
        let path = sb.write("livekit.yaml", &f.contents);
        let out = std::process::Command::new(&yamllint)
            .args(["--strict", "-c"])
            .arg(&config)
            .arg(&path)
            .output()
            .expect("yamllint");
        assert_ok(&out, &format!("{name}/{host}: yamllint livekit.yaml"));
    });
    assert!(n >= 4, "only {n} LiveKit hosts over the named plans");
}

/// systemd's own parser on the unit: no unknown keys, executables and dependencies
/// found. Docker is not a validator here, so `/usr/bin/docker` points at a stub and
/// docker.service (and redis-server.service) are stub units.
#[test]
fn livekit_unit_passes_systemd_analyze_verify() {
    let analyze = tool("systemd-analyze");
    every_plan_hosts(Role::Livekit, |name, _, files, host, _| {
        let f = host_file(files, host, "/etc/systemd/system/livekit.service");
        assert_eq!(f.mode, 0o644);
        assert!(
            f.contents
                .contains("docker.io/livekit/livekit-server:v1.13.5"),
            "{name}/{host}: pinned image"
        );
        let sb = Sandbox::new("livekit-unit");
        let docker = sb.write("bin/docker", "#!/bin/sh\nexit 0\n");
        assert!(
            std::process::Command::new("chmod")
                .arg("755")
                .arg(&docker)
                .status()
                .expect("chmod")
                .success()
        );
        let units = sb.dir().join("units");
        sb.write(
            "units/docker.service",
            "[Unit]\nDescription=stub\n[Service]\nExecStart=/bin/true\n",
        );
        sb.write(
            "units/redis-server.service",
            "[Unit]\nDescription=stub\n[Service]\nExecStart=/bin/true\n",
        );
        sb.write(
            "units/livekit.service",
            f.contents
                .replace("/usr/bin/docker", &docker.display().to_string()),
        );
        let out = sb.run(&format!(
            "SYSTEMD_UNIT_PATH={u}: {a} verify {u}/livekit.service",
            u = units.display(),
            a = analyze.display()
        ));
        let text = output_text(&out);
        assert_ok(&out, &format!("{name}/{host}: systemd-analyze verify"));
        assert!(
            text.trim().is_empty(),
            "{name}/{host}: systemd-analyze said:\n{text}"
        );
    });
}

#[test]
fn livekit_setup_script_passes_bash_n_and_shellcheck() {
    let shellcheck = tool("shellcheck");
    every_plan_hosts(Role::Livekit, |name, _, files, host, first| {
        let f = host_file(files, host, "/usr/local/sbin/setup-livekit.sh");
        assert_eq!(f.mode, 0o755);
        assert_eq!(
            f.contents.contains("redis-server"),
            first,
            "{name}/{host}: Redis steps only on the first node"
        );
        let sb = Sandbox::new("livekit-setup");
        let path = sb.write("setup-livekit.sh", &f.contents);
        let n = std::process::Command::new("bash")
            .arg("-n")
            .arg(&path)
            .output()
            .expect("bash");
        assert_ok(&n, &format!("{name}/{host}: bash -n"));
        let sc = std::process::Command::new(&shellcheck)
            .args(["-x", "-S", "warning"])
            .arg(&path)
            .output()
            .expect("shellcheck");
        assert_ok(&sc, &format!("{name}/{host}: shellcheck"));
    });
}

/// The quotas coturn runs with are the report's, on every coturn host of every named
/// plan; and coturn enforces the per-user quota: on each plan's first coturn host one
/// user asks for more allocations than user-quota, and exactly user-quota succeed
/// (coturn's own log), the rest answered 486 Allocation Quota Reached.
#[test]
fn coturn_runs_with_the_computed_quotas() {
    let turnserver = tool("turnserver");
    let uclient = tool("turnutils_uclient");
    let peer = tool("turnutils_peer");
    let openssl = tool("openssl");
    let mut enforced = 0;
    let n = every_plan_hosts(Role::Coturn, |name, plan, files, host, first| {
        let turn = Report::new(plan).calls.turn;
        let f = host_file(files, host, "/etc/turnserver.conf");
        let s = turn_settings(&f.contents);
        assert_eq!(
            turn_value(&s, "user-quota"),
            turn.user_quota.to_string(),
            "{name}/{host}: user-quota is calls.turn.user-quota"
        );
        assert_eq!(
            turn_value(&s, "total-quota"),
            turn.total_quota.to_string(),
            "{name}/{host}: total-quota is calls.turn.total-quota"
        );
        // total-quota never promises more than the relay ports or the descriptors.
        let ports = plan.coturn.max_port + 1 - plan.coturn.min_port;
        assert!(turn.total_quota <= ports, "{name}/{host}");
        assert!(turn.user_quota >= 1 && turn.user_quota <= turn.total_quota);
        assert!(
            f.contents.contains(&format!(
                "allows about {} sessions",
                turn.sessions_by_file_descriptors
            )),
            "{name}/{host}: the descriptor comment is the report's"
        );
        if !first {
            return;
        }
        let t = Topology::new(plan);
        let ip = t.by_name(host).expect("host").ip;
        let client = intranet_client(plan);
        let sb = Sandbox::new("coturn-quota").with_addrs([ip, client]);
        let conf = sb.write("turnserver.conf", &f.contents);
        let ssl = sb.dir().join("etc-ssl");
        let certs = ssl.join(format!("synapse-planner/{}", t.server_name));
        let secret = secrets().get(SecretId::TurnSharedSecret).to_string();
        // turnutils_uclient opens two allocations per client (measured: -m 6 → 12).
        let clients = turn.user_quota / 2 + 1;
        let script = format!(
            r#"set -e
mkdir -p {certs} {d}/var-lib-turn
{openssl} req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj /CN={server} -keyout {certs}/privkey.pem -out {certs}/fullchain.pem 2> /dev/null
mount --bind {ssl} /etc/ssl
if [ -f /var/lib/turn/turndb ]; then cp /var/lib/turn/turndb {d}/var-lib-turn/; fi
mount --bind {d}/var-lib-turn /var/lib/turn
set +e
{turnserver} -c {conf} --log-file=stdout --verbose --pidfile={d}/turn.pid > {d}/turn.log 2>&1 &
turn=$!
for _ in $(seq 1 50); do ss -Hlun | grep -q '{ip}:3478 ' && break; sleep 0.1; done
{peer} -L {client} -p 3480 > /dev/null 2>&1 &
sleep 0.3
timeout 30 {uclient} -W {secret} -u quota-user -m {clients} -n 2 -z 5 -c -X -e {client} -r 3480 {ip} > {d}/uclient.out 2>&1
kill $turn
wait $turn
exit 0
"#,
            certs = certs.display(),
            ssl = ssl.display(),
            d = sb.dir().display(),
            server = t.server_name,
            openssl = openssl.display(),
            turnserver = turnserver.display(),
            uclient = uclient.display(),
            peer = peer.display(),
            conf = conf.display(),
        );
        let out = sb.run(&script);
        let read = |f: &str| std::fs::read_to_string(sb.dir().join(f)).unwrap_or_default();
        let (log, uout) = (read("turn.log"), read("uclient.out"));
        assert_ok(&out, &format!("{name}/{host}: coturn quota run\n{uout}"));
        let granted = log
            .lines()
            .filter(|l| l.contains(":quota-user>") && l.contains("ALLOCATE processed, success"))
            .count() as u64;
        assert_eq!(
            granted, turn.user_quota,
            "{name}/{host}: allocations granted to one user\n{uout}"
        );
        assert!(
            uout.contains("error 486 (Allocation Quota Reached)"),
            "{name}/{host}: no 486 past user-quota:\n{uout}"
        );
        enforced += 1;
    });
    assert!(n >= 4, "only {n} coturn hosts over the named plans");
    assert!(
        enforced >= 3,
        "user-quota enforced on only {enforced} plans"
    );
}

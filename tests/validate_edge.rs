//! The edge files of the bundle (HAProxy, keepalived, the track script, the non-local
//! bind sysctl) through the real programs, for every named plan and every HAProxy host,
//! each inside a Sandbox (network namespace with only loopback and the addresses the
//! check needs):
//!
//! * `haproxy -c -dW` (warnings fatal) with a stub certificate;
//! * HAProxy started for real on a node that does NOT hold the VIP, after applying the
//!   bundle's sysctl: it must bind the VIP's ports; keepalived's track script must
//!   pass while it runs and fail once it is stopped;
//! * `keepalived --config-test` with the plan's interface and the track script in place;
//! * on the default plan, traffic through HAProxy to stand-in backends (routes,
//!   headers, prefix stripping, ACME, redirects, the Patroni primary and replicas,
//!   MinIO, stats and metrics), and keepalived taking and releasing the VIP as
//!   HAProxy starts and stops.

#[path = "support/bundles.rs"]
mod bundles;
#[path = "support/sandbox.rs"]
mod sandbox;

use bundles::{bundle, host_file, named_plans, secrets};
use sandbox::{Sandbox, assert_ok, output_text, quote, tool};
use std::net::Ipv4Addr;
use synapse_planner::bundle::{File, SecretId, Topology};
use synapse_planner::plan::{Plan, Role};

const HAPROXY_CFG: &str = "/etc/haproxy/haproxy.cfg";
const KEEPALIVED_CONF: &str = "/etc/keepalived/keepalived.conf";
const TRACK_SCRIPT: &str = "/etc/keepalived/check-haproxy.sh";
const SYSCTL: &str = "/etc/sysctl.d/91-haproxy-nonlocal-bind.conf";

/// A sandbox whose /etc/haproxy (and /etc/keepalived) are private copies holding the
/// host's files and a self-signed certificate for the server name, bind-mounted over
/// the real ones inside the namespace only. Returns the shell lines that mount them.
fn stage(sb: &Sandbox, files: &[File], host: &str, server: &str) -> String {
    let haproxy = sb.dir().join("etc-haproxy");
    let keepalived = sb.dir().join("etc-keepalived");
    sb.write(
        "etc-haproxy/haproxy.cfg",
        &host_file(files, host, HAPROXY_CFG).contents,
    );
    sb.write(
        "etc-keepalived/keepalived.conf",
        &host_file(files, host, KEEPALIVED_CONF).contents,
    );
    let script = sb.write(
        "etc-keepalived/check-haproxy.sh",
        &host_file(files, host, TRACK_SCRIPT).contents,
    );
    sb.write("sysctl.conf", &host_file(files, host, SYSCTL).contents);
    // keepalived's script security: the script and its directories root's, not writable by others.
    for p in [script.as_path(), keepalived.as_path(), haproxy.as_path()] {
        assert!(
            std::process::Command::new("chmod")
                .arg("755")
                .arg(p)
                .status()
                .expect("chmod")
                .success()
        );
    }
    format!(
        "set -e\n\
         mkdir -p {h}/certs\n\
         {openssl} req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
           -subj /CN={server} -addext subjectAltName=DNS:{server} \
           -keyout {d}/key.pem -out {d}/cert.pem 2> /dev/null\n\
         cat {d}/cert.pem {d}/key.pem > {h}/certs/{server}.pem\n\
         mount --bind {h} /etc/haproxy\n\
         mount --bind {k} /etc/keepalived\n\
         mkdir -p /run/haproxy\n\
         set +e\n",
        h = haproxy.display(),
        k = keepalived.display(),
        d = sb.dir().display(),
        openssl = tool("openssl").display(),
    )
}

/// Shell lines setting `$n_opt` for starting HAProxy. HAProxy raises its own open-file
/// limit to about 2 × maxconn at start; a real host's root may (CAP_SYS_RESOURCE), a
/// test machine's may not. Where this machine's hard limit is too low for the
/// configuration's maxconn, HAProxy is started with `-n` (a lower maxconn that fits)
/// and says so: this check is about binding and the track script; `haproxy -c` checks
/// the configuration with its real maxconn.
fn fd_limit(cfg: &str) -> String {
    let maxconn: u64 = cfg
        .lines()
        .find_map(|l| l.trim().strip_prefix("maxconn "))
        .and_then(|v| v.trim().parse().ok())
        .expect("global maxconn");
    let need = maxconn * 2 + 1000;
    format!(
        "n_opt=\"\"\n\
         hard=$(ulimit -Hn)\n\
         if [ \"$hard\" != unlimited ] && [ \"$hard\" -lt {need} ]; then\n\
           n_opt=\"-n $(( (hard - 1000) / 2 ))\"\n\
           echo \"note: open-file hard limit $hard < {need} for maxconn {maxconn}: started with $n_opt\"\n\
         fi\n"
    )
}

fn every_haproxy_host(mut f: impl FnMut(&str, &Plan, &[File], &str)) {
    let mut n = 0;
    for (name, plan) in named_plans() {
        let files = bundle(&plan);
        let t = Topology::new(&plan);
        for h in t.role(Role::Haproxy) {
            f(name, &plan, &files, &h.name);
            n += 1;
        }
    }
    assert!(n >= 4, "only {n} HAProxy hosts over the named plans");
}

fn all_ips(t: &Topology) -> Vec<Ipv4Addr> {
    let mut ips: Vec<Ipv4Addr> = t.hosts.iter().map(|h| h.ip).collect();
    ips.push(t.vip);
    ips
}

#[test]
fn haproxy_config_check_passes_with_warnings_fatal() {
    let haproxy = tool("haproxy");
    every_haproxy_host(|name, plan, files, host| {
        let t = Topology::new(plan);
        let sb = Sandbox::new("haproxy-c").with_addrs(all_ips(&t));
        let script = format!(
            "{}{} -c -dW -f /etc/haproxy/haproxy.cfg\n",
            stage(&sb, files, host, &t.server_name),
            haproxy.display()
        );
        let out = sb.run(&script);
        let text = output_text(&out);
        assert_ok(&out, &format!("{name}/{host}: haproxy -c -dW"));
        assert!(
            text.contains("Configuration file is valid"),
            "{name}/{host}: {text}"
        );
        assert!(
            !text.contains("WARNING") && !text.contains("ALERT"),
            "{name}/{host}: {text}"
        );
    });
}

/// The standby: the VIP is not on this node, only the sysctl lets HAProxy bind it.
/// The track script follows HAProxy's life.
#[test]
fn standby_binds_the_vip_and_the_track_script_follows_haproxy() {
    let haproxy = tool("haproxy");
    let sysctl = tool("sysctl");
    let curl = tool("curl");
    every_haproxy_host(|name, plan, files, host| {
        let t = Topology::new(plan);
        let me = t.by_name(host).expect("host").ip;
        let sb = Sandbox::new("haproxy-standby").with_addrs([me]);
        let script = format!(
            "{stage}\
             {sysctl} -p {dir}/sysctl.conf || exit 10\n\
             [ \"$(cat /proc/sys/net/ipv4/ip_nonlocal_bind)\" = 1 ] || exit 11\n\
             ip -o addr | grep -q ' {vip}/' && exit 12\n\
             {limit}\
             {haproxy} $n_opt -f /etc/haproxy/haproxy.cfg -db > {dir}/haproxy.log 2>&1 &\n\
             pid=$!\n\
             for _ in $(seq 1 50); do ss -Hltn | grep -q '{vip}:443 ' && break; sleep 0.1; done\n\
             ss -Hltn | awk '{{print $4}}' | sort > {dir}/listening\n\
             for _ in $(seq 1 20); do bash /etc/keepalived/check-haproxy.sh && break; sleep 0.2; done\n\
             bash /etc/keepalived/check-haproxy.sh; echo \"alive=$?\"\n\
             {curl} -s -u admin:{password} http://127.0.0.1:8404/metrics | grep -E '^haproxy_process_max_(sockets|connections|fds) ' > {dir}/maxsock\n\
             kill $pid; wait $pid\n\
             bash /etc/keepalived/check-haproxy.sh 2> /dev/null; echo \"stopped=$?\"\n\
             exit 0\n",
            stage = stage(&sb, files, host, &t.server_name),
            limit = fd_limit(&host_file(files, host, HAPROXY_CFG).contents),
            sysctl = sysctl.display(),
            haproxy = haproxy.display(),
            curl = curl.display(),
            password = quote(secrets().get(SecretId::HaproxyStatsPassword)),
            dir = sb.dir().display(),
            vip = t.vip,
        );
        let out = sb.run(&script);
        let text = output_text(&out);
        let log = std::fs::read_to_string(sb.dir().join("haproxy.log")).unwrap_or_default();
        assert_ok(&out, &format!("{name}/{host}: standby start\n{log}"));
        let listening = std::fs::read_to_string(sb.dir().join("listening")).unwrap_or_default();
        let mut want: Vec<String> = [80u16, 443, 8448, 5432, 5433, 9000]
            .iter()
            .map(|p| format!("{}:{p}", t.vip))
            .chain([
                format!("{me}:8404"),
                format!("{}:8404", t.vip),
                "127.0.0.1:8404".to_string(),
            ])
            .collect();
        want.sort();
        let mut got: Vec<String> = listening.lines().map(str::to_string).collect();
        got.sort();
        assert_eq!(got, want, "{name}/{host}: listening sockets\n{log}");
        assert!(
            text.contains("alive=0"),
            "{name}/{host}: track script with HAProxy up: {text}\n{log}"
        );
        assert!(
            text.contains("stopped=1"),
            "{name}/{host}: track script with HAProxy down: {text}"
        );
        // HAProxy's own count of the descriptors it needs (Maxsock, as its exporter
        // shows it) stays within the report's 2 × maxconn + HAPROXY_OWN_FDS, for the
        // maxconn it runs with (lower when this machine's limit made the test pass -n),
        // and the configured maxconn's figure is the report's.
        let metrics = std::fs::read_to_string(sb.dir().join("maxsock")).unwrap_or_default();
        let metric = |key: &str| -> u64 {
            metrics
                .lines()
                .find_map(|l| l.strip_prefix(&format!("haproxy_process_{key} ")))
                .and_then(|v| v.trim().parse::<f64>().ok())
                .unwrap_or_else(|| panic!("{name}/{host}: no {key} in:\n{metrics}\n{log}"))
                as u64
        };
        let (maxsock, maxconn) = (metric("max_sockets"), metric("max_connections"));
        assert!(
            maxsock <= 2 * maxconn + synapse_planner::sizing::descriptors::HAPROXY_OWN_FDS,
            "{name}/{host}: HAProxy's Maxsock {maxsock} for maxconn {maxconn}"
        );
        assert!(metric("max_fds") >= maxsock, "{name}/{host}: {metrics}");
        let report = synapse_planner::report::Report::new(plan).connections;
        assert_eq!(
            report.haproxy_file_descriptors,
            2 * report.haproxy_maxconn + synapse_planner::sizing::descriptors::HAPROXY_OWN_FDS
        );
        eprintln!("{name}/{host}: maxconn {maxconn}, Maxsock {maxsock}");
        assert!(
            !log.contains("[ALERT]")
                || log.lines().filter(|l| l.contains("[ALERT]")).all(|l| {
                    // Without backends or syslog in the sandbox these are expected.
                    l.contains("has no server available")
                        || l.contains("sendmsg()/writev() failed in logger")
                }),
            "{name}/{host}: {log}"
        );
    });
}

#[test]
fn keepalived_config_test_passes() {
    let keepalived = tool("keepalived");
    every_haproxy_host(|name, plan, files, host| {
        let t = Topology::new(plan);
        let sb = Sandbox::new("keepalived").with_interface(&t.interface);
        let script = format!(
            "{}{} --config-test --log-console --dont-fork -f /etc/keepalived/keepalived.conf\n",
            stage(&sb, files, host, &t.server_name),
            keepalived.display()
        );
        let out = sb.run(&script);
        let text = output_text(&out);
        assert_ok(&out, &format!("{name}/{host}: keepalived --config-test"));
        assert!(
            text.trim().is_empty(),
            "{name}/{host}: keepalived said:\n{text}"
        );
        // Every peer of the VRRP instance is another HAProxy node; the VIP is on the
        // plan's interface.
        let conf = &host_file(files, host, KEEPALIVED_CONF).contents;
        assert!(
            conf.contains(&format!("{}/32 dev {}", t.vip, t.interface)),
            "{name}/{host}"
        );
        for h in t.role(Role::Haproxy) {
            assert_eq!(
                conf.contains(&format!("        {}\n", h.ip)),
                h.name != host && t.role(Role::Haproxy).count() > 1,
                "{name}/{host}: peer {}",
                h.name
            );
        }
    });
}

#[test]
fn track_script_passes_bash_n_and_shellcheck() {
    let shellcheck = tool("shellcheck");
    every_haproxy_host(|name, _, files, host| {
        let sb = Sandbox::new("track-script");
        let f = host_file(files, host, TRACK_SCRIPT);
        assert_eq!(f.mode, 0o755, "{name}/{host}");
        let path = sb.write("check-haproxy.sh", &f.contents);
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

/// Stand-ins for every backend: Traefik (answers 200 only for the server name's Host,
/// as the real one routes by Host), Patroni's REST API and PostgreSQL (a banner with
/// the node's name), MinIO, LiveKit and certbot. Each HTTP answer is JSON describing
/// the request as the backend saw it.
const FAKE_BACKENDS: &str = r#"
import json, socket, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

server_name = sys.argv[1]
specs = [s.split(",") for s in sys.argv[2:]]

def make_handler(role, addr, port, name):
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def log_message(self, *a):
            pass
        def do_GET(self):
            host = (self.headers.get("Host") or "").split(":")[0]
            path = self.path.split("?")[0]
            status = 200
            if role in ("traefik", "traefik-federation") and host != server_name:
                status = 404
            if role == "patroni":
                primary = name.endswith("1")
                if path == "/primary":
                    status = 200 if primary else 503
                elif path == "/replica":
                    status = 503 if primary else 200
            if role == "livekit" and self.path == "/":
                body = b"OK"
            else:
                body = json.dumps({
                    "role": role, "name": name, "backend": "%s:%s" % (addr, port),
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                }).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
    return H

def banner(addr, port, name):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(16)
    while True:
        c, _ = s.accept()
        c.sendall((name + "\n").encode())
        c.close()

for role, addr, port, name in specs:
    if role == "postgres":
        threading.Thread(target=banner, args=(addr, int(port), name), daemon=True).start()
    else:
        srv = ThreadingHTTPServer((addr, int(port)), make_handler(role, addr, port, name))
        threading.Thread(target=srv.serve_forever, daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
"#;

fn json_line(text: &str, key: &str) -> serde_json::Value {
    let prefix = format!("{key}=");
    let line = text
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no {key} in:\n{text}"));
    serde_json::from_str(&line[prefix.len()..]).unwrap_or_else(|e| panic!("{key}: {e}: {line}"))
}

fn value_line<'a>(text: &'a str, key: &str) -> &'a str {
    let prefix = format!("{key}=");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {key} in:\n{text}"))
}

/// Requests through HAProxy (default plan, haproxy1, holding the VIP) to stand-in
/// backends: what each backend receives is what the configuration promises.
#[test]
fn traffic_reaches_the_right_backends() {
    // The monitoring host's address stands for an operator's network (admin paths).
    let admin = "10.0.1.43";
    let plan = Plan::default()
        .with_text("network.admin-networks", &format!("{admin}/32"))
        .expect("valid");
    let files = bundle(&plan);
    let t = Topology::new(&plan);
    let host = "haproxy1";
    let me = t.by_name(host).expect("host").ip;
    let server = t.server_name.clone();
    let synapse = t.first(Role::Synapse).expect("synapse").ip;
    let mut specs = vec![
        format!("traefik,{synapse},81,synapse"),
        format!("traefik-federation,{synapse},8449,synapse"),
        "certbot,127.0.0.1,8888,certbot".to_string(),
    ];
    for h in t.role(Role::Patroni) {
        specs.push(format!("patroni,{},8008,{}", h.ip, h.name));
        specs.push(format!("postgres,{},5432,{}", h.ip, h.name));
    }
    for h in t.role(Role::Minio) {
        specs.push(format!("minio,{},9000,{}", h.ip, h.name));
    }
    for h in t.role(Role::Livekit) {
        specs.push(format!("livekit,{},7880,{}", h.ip, h.name));
    }
    let sb = Sandbox::new("haproxy-traffic").with_addrs(all_ips(&t));
    let fake = sb.write("fake_backends.py", FAKE_BACKENDS);
    let password = secrets().get(SecretId::HaproxyStatsPassword).to_string();
    let vip = t.vip;
    let script = format!(
        r#"{stage}
{python} {fake} {server} {specs} > {dir}/fake.log 2>&1 &
for _ in $(seq 1 50); do grep -q ready {dir}/fake.log && break; sleep 0.1; done
{haproxy} -f /etc/haproxy/haproxy.cfg -db > {dir}/haproxy.log 2>&1 &
# Wait until the checks have marked the Patroni nodes by role.
down() {{ curl -s -u admin:{password} http://{me}:8404/metrics | grep -c "haproxy_server_status{{proxy=\"$1\",server=\"$2\",state=\"DOWN\"}} 1"; }}
for _ in $(seq 1 100); do
  if [ "$(down postgres-primary patroni2)" = 1 ] && [ "$(down postgres-primary patroni3)" = 1 ] && [ "$(down postgres-replicas patroni1)" = 1 ]; then break; fi
  sleep 0.2
done
c=(curl -s -k --max-time 5 --resolve {server}:443:{vip} --resolve {server}:8448:{vip})
echo "client=$("${{c[@]}}" --http2 -H 'X-Forwarded-For: 203.0.113.66' https://{server}/_matrix/client/versions)"
echo "client_meta=$("${{c[@]}}" --http2 -o /dev/null -w '{{"version":"%{{http_version}}","code":%{{http_code}}}}' https://{server}/_matrix/client/versions)"
echo "hsts=$("${{c[@]}}" -D - -o /dev/null https://{server}/_matrix/client/versions | tr -d '\r' | grep -i '^strict-transport-security:' | cut -d' ' -f2-)"
echo "federation=$("${{c[@]}}" https://{server}:8448/_matrix/federation/v1/version)"
echo "livekit=$("${{c[@]}}" 'https://{server}/livekit-server/rtc/validate?access_token=x')"
echo "livekit_root=$("${{c[@]}}" https://{server}/livekit-server)"
echo "not_livekit=$("${{c[@]}}" https://{server}/livekit-serverx/y)"
echo "acme=$(curl -s --max-time 5 -H 'Host: {server}' http://{vip}/.well-known/acme-challenge/token123)"
echo "redirect=$(curl -s --max-time 5 -o /dev/null -w '%{{http_code}} %{{redirect_url}}' -H 'Host: {server}' 'http://{vip}/some/path?q=1')"
echo "primary=$(timeout 2 bash -c 'exec 3<> /dev/tcp/{vip}/5432; head -n 1 <&3')"
for i in 1 2 3 4; do echo "replica$i=$(timeout 2 bash -c 'exec 3<> /dev/tcp/{vip}/5433; head -n 1 <&3')"; done
echo "minio=$(curl -s --max-time 5 http://{vip}:9000/synapse-media/x)"
echo "metrics_anonymous=$(curl -s -o /dev/null -w '%{{http_code}}' http://{me}:8404/metrics)"
echo "metrics=$(curl -s -u admin:{password} http://{me}:8404/metrics | grep -c '^haproxy_process_nbthread ')"
echo "metrics_vip=$(curl -s -o /dev/null -w '%{{http_code}}' -u admin:{password} http://{vip}:8404/metrics)"
echo "stats_anonymous=$(curl -s -o /dev/null -w '%{{http_code}}' http://{me}:8404/stats)"
echo "stats_admin=$(curl -s -o /dev/null -w '%{{http_code}}' -u admin:{password} http://{me}:8404/stats)"
echo "healthz=$(curl -s -o /dev/null -w '%{{http_code}}' http://127.0.0.1:8404/healthz)"
# Admin paths: from the admin network they reach Synapse; from any other address, in
# any spelling, HAProxy answers 403.
echo "admin_allowed=$("${{c[@]}}" --interface {admin} https://{server}/_synapse/admin/v1/server_version)"
echo "ketesa_allowed=$("${{c[@]}}" --interface {admin} https://{server}/synapse-admin/)"
for p in /_synapse/admin/v1/server_version //_synapse/admin/v1/server_version /_synapse//admin/v1/server_version /_synapse/./admin/v1/server_version '/_synapse/%61dmin/v1/server_version' /_SYNAPSE/ADMIN/v1/server_version /_matrix/../_synapse/admin/v1/users /synapse-admin/ /synapse-admin /Synapse-Admin/index.html; do
  echo "admin_denied $p=$("${{c[@]}}" --path-as-is --interface {outsider} -o /dev/null -w '%{{http_code}}' "https://{server}$p")"
done
echo "client_outsider=$("${{c[@]}}" --interface {outsider} -o /dev/null -w '%{{http_code}}' https://{server}/_matrix/client/versions)"
exit 0
"#,
        stage = stage(&sb, &files, host, &server),
        python = tool("python3").display(),
        fake = fake.display(),
        specs = specs.join(" "),
        haproxy = tool("haproxy").display(),
        dir = sb.dir().display(),
        outsider = t.first(Role::Backup).expect("backup").ip,
    );
    let out = sb.run(&script);
    let text = output_text(&out);
    let log = std::fs::read_to_string(sb.dir().join("haproxy.log")).unwrap_or_default();
    assert_ok(&out, &format!("traffic\n{log}"));
    let ctx = format!("{text}\n--- haproxy log ---\n{log}");

    // Client API: Traefik gets the server name as Host, HTTPS as the scheme, and the
    // client's own address in place of the one it claimed.
    let client = json_line(&text, "client");
    assert_eq!(client["backend"], format!("{synapse}:81"), "{ctx}");
    assert_eq!(client["path"], "/_matrix/client/versions");
    assert_eq!(client["headers"]["host"], server.as_str());
    assert_eq!(client["headers"]["x-forwarded-proto"], "https");
    let xff = client["headers"]["x-forwarded-for"]
        .as_str()
        .unwrap_or_default();
    assert!(
        !xff.is_empty() && !xff.contains("203.0.113.66"),
        "X-Forwarded-For {xff}"
    );
    let meta = json_line(&text, "client_meta");
    assert_eq!(meta["version"], "2", "HTTP/2 to clients");
    assert_eq!(meta["code"], 200);
    assert_eq!(value_line(&text, "hsts"), "max-age=63072000");

    let federation = json_line(&text, "federation");
    assert_eq!(federation["backend"], format!("{synapse}:8449"), "{ctx}");
    assert_eq!(federation["headers"]["x-forwarded-proto"], "https");

    // LiveKit: prefix stripped, query kept, any LiveKit node.
    let livekit_ips: Vec<String> = t
        .role(Role::Livekit)
        .map(|h| format!("{}:7880", h.ip))
        .collect();
    let livekit = json_line(&text, "livekit");
    assert!(
        livekit_ips.contains(&livekit["backend"].as_str().unwrap_or_default().to_string()),
        "{ctx}"
    );
    assert_eq!(livekit["path"], "/rtc/validate?access_token=x");
    assert_eq!(value_line(&text, "livekit_root"), "OK", "{ctx}");
    assert_eq!(
        json_line(&text, "not_livekit")["backend"],
        format!("{synapse}:81")
    );

    // Port 80: ACME to certbot on loopback, the rest redirected.
    let acme = json_line(&text, "acme");
    assert_eq!(acme["backend"], "127.0.0.1:8888", "{ctx}");
    assert_eq!(acme["path"], "/.well-known/acme-challenge/token123");
    assert_eq!(
        value_line(&text, "redirect"),
        format!("301 https://{server}/some/path?q=1")
    );

    // PostgreSQL: the primary (patroni1 in the stand-ins) on 5432, replicas on 5433.
    assert_eq!(value_line(&text, "primary"), "patroni1", "{ctx}");
    for i in 1..=4 {
        let r = value_line(&text, &format!("replica{i}"));
        assert!(r == "patroni2" || r == "patroni3", "replica{i}: {r}\n{ctx}");
    }

    let minio_ips: Vec<String> = t
        .role(Role::Minio)
        .map(|h| format!("{}:9000", h.ip))
        .collect();
    let minio = json_line(&text, "minio");
    assert!(
        minio_ips.contains(&minio["backend"].as_str().unwrap_or_default().to_string()),
        "{ctx}"
    );
    assert_eq!(minio["path"], "/synapse-media/x");

    assert_eq!(value_line(&text, "metrics_anonymous"), "401");
    assert_eq!(value_line(&text, "metrics"), "1", "{ctx}");
    assert_eq!(value_line(&text, "metrics_vip"), "200");
    assert_eq!(value_line(&text, "stats_anonymous"), "401");
    assert_eq!(value_line(&text, "stats_admin"), "200");
    assert_eq!(value_line(&text, "healthz"), "200");

    // Admin paths (network.admin-networks).
    let allowed = json_line(&text, "admin_allowed");
    assert_eq!(allowed["backend"], format!("{synapse}:81"), "{ctx}");
    assert_eq!(allowed["path"], "/_synapse/admin/v1/server_version");
    assert_eq!(
        json_line(&text, "ketesa_allowed")["path"],
        "/synapse-admin/",
        "{ctx}"
    );
    let denied: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("admin_denied "))
        .collect();
    assert_eq!(denied.len(), 10, "{ctx}");
    for line in denied {
        assert!(line.ends_with("=403"), "{line}\n{ctx}");
    }
    assert_eq!(value_line(&text, "client_outsider"), "200", "{ctx}");
}

/// keepalived with the bundle's files: takes the VIP while HAProxy answers and gives
/// it up when HAProxy stops.
#[test]
fn keepalived_holds_the_vip_only_while_haproxy_lives() {
    let plan = Plan::default();
    let files = bundle(&plan);
    let t = Topology::new(&plan);
    let host = "haproxy1";
    let me = t.by_name(host).expect("host").ip;
    let sb = Sandbox::new("keepalived-vip").with_interface(&t.interface);
    let vip = t.vip;
    let iface = &t.interface;
    let script = format!(
        r#"{stage}
ip addr add {me}/{prefix} dev {iface}
{sysctl} -q -p {dir}/sysctl.conf
{haproxy} -f /etc/haproxy/haproxy.cfg -db > {dir}/haproxy.log 2>&1 &
hp=$!
{keepalived} --log-console --dont-fork -f /etc/keepalived/keepalived.conf > {dir}/keepalived.log 2>&1 &
has_vip() {{ ip -o addr show dev {iface} | grep -q ' {vip}/32 '; }}
for _ in $(seq 1 60); do has_vip && break; sleep 0.5; done
has_vip && echo "vip=held"
kill $hp; wait $hp
for _ in $(seq 1 40); do has_vip || break; sleep 0.5; done
has_vip || echo "vip=released"
exit 0
"#,
        stage = stage(&sb, &files, host, &t.server_name),
        prefix = plan.network.prefix,
        sysctl = tool("sysctl").display(),
        haproxy = tool("haproxy").display(),
        keepalived = tool("keepalived").display(),
        dir = sb.dir().display(),
    );
    let out = sb.run(&script);
    let text = output_text(&out);
    let log = std::fs::read_to_string(sb.dir().join("keepalived.log")).unwrap_or_default();
    assert_ok(&out, "keepalived run");
    assert!(
        text.contains("vip=held"),
        "keepalived never took the VIP:\n{text}\n{log}"
    );
    assert!(
        text.contains("vip=released"),
        "keepalived kept the VIP without HAProxy:\n{text}\n{log}"
    );
    assert!(
        log.contains("Entering MASTER STATE") && log.contains("Entering FAULT STATE"),
        "{log}"
    );
}

/// letsencrypt.sh runs certbot only where the challenge arrives: on the node holding
/// the VIP (HAProxy there passes it to its own loopback). Elsewhere it stops before
/// installing or requesting anything.
#[test]
fn letsencrypt_runs_only_on_the_node_holding_the_vip() {
    let plan = Plan::default();
    let files = bundle(&plan);
    let t = Topology::new(&plan);
    let script = &bundles::file(&files, "scripts/certs/letsencrypt.sh").contents;
    let haproxy1 = t.first(Role::Haproxy).expect("haproxy").ip;
    let sb = Sandbox::new("letsencrypt").with_addrs([haproxy1]);
    sb.write("letsencrypt.sh", script);
    // No certbot here and no network: past the VIP check the script would fail at
    // `apt-get install certbot`, so a fake apt-get and certbot record that it got there.
    let out = sb.run(&format!(
        "mkdir -p bin && printf '#!/bin/sh\\necho reached \"$0\"; exit 3\\n' > bin/certbot && chmod +x bin/certbot\n\
         PATH=$PWD/bin:$PATH bash letsencrypt.sh 2>&1; echo \"rc=$?\"\n\
         ip addr add {vip}/32 dev lo\n\
         PATH=$PWD/bin:$PATH bash letsencrypt.sh 2>&1; echo \"rc=$?\"\n",
        vip = t.vip
    ));
    let text = output_text(&out);
    let runs: Vec<&str> = text.split("rc=").collect();
    assert_eq!(runs.len(), 3, "{text}");
    assert!(
        runs[0].contains("does not hold the VIP") && !runs[0].contains("reached"),
        "{text}"
    );
    assert!(runs[1].starts_with('1'), "{text}");
    assert!(
        runs[1].contains("reached") && runs[2].starts_with('3'),
        "{text}"
    );
}

//! The host firewalls (hosts/<name>/etc/synapse-planner/firewall.nft) through nft itself:
//! every host of every named plan checks, loads, and reloads; and on a sandboxed copy of
//! the default plan's Synapse host, a worker port admits a HAProxy node and refuses the
//! monitoring host, PgBouncer admits a container and refuses another host. Every check
//! runs inside a private network namespace (tests/support/sandbox.rs).

#[path = "support/bundles.rs"]
mod bundles;
#[path = "support/sandbox.rs"]
mod sandbox;

use bundles::{bundle, for_each_plan, host_file};
use sandbox::{Sandbox, assert_ok, output_text, quote, tool};
use synapse_planner::bundle::{Topology, workers};
use synapse_planner::plan::{Plan, Role};

const FIREWALL: &str = "/etc/synapse-planner/firewall.nft";
const TABLE: &str = "inet synapse_planner";

/// `nft -c -f`, then `nft -f` twice (the file deletes and re-creates its own table), then
/// `nft list table`, for every host of every named plan.
#[test]
fn every_host_firewall_checks_loads_and_reloads() {
    for_each_plan(|name, plan| {
        let files = bundle(plan);
        let topo = Topology::new(plan);
        let nft = tool("nft");
        let sb = Sandbox::new("firewall");
        let mut script = String::from("set -e\n");
        for h in &topo.hosts {
            let f = host_file(&files, &h.name, FIREWALL);
            let path = sb.write(&format!("{}.nft", h.name), &f.contents);
            let p = quote(&path.display().to_string());
            let n = quote(&nft.display().to_string());
            script.push_str(&format!(
                "echo {host}\n{n} -c -f {p}\n{n} -f {p}\n{n} -f {p}\n{n} list table {TABLE} > /dev/null\n\
                 test \"$({n} list tables | grep -c synapse_planner)\" = 1\n{n} delete table {TABLE}\n",
                host = quote(&h.name),
            ));
        }
        script.push_str("echo all-loaded\n");
        let out = sb.run(&script);
        assert_ok(&out, &format!("{name}: nft on the host firewalls"));
        assert!(output_text(&out).contains("all-loaded"), "{name}");
    });
}

/// One connection attempt from namespace `from` (or the sandbox itself for "host") to
/// `ip:port`, printed as `probe <label> open|closed`.
fn probe(label: &str, from: &str, ip: &str, port: u16) -> String {
    let exec = if from == "host" {
        String::new()
    } else {
        format!("ip netns exec {from} ")
    };
    format!(
        "if {exec}timeout 2 bash -c 'exec 3<> \"/dev/tcp/$0/$1\"' {ip} {port} 2> /dev/null; \
         then echo 'probe {label} open'; else echo 'probe {label} closed'; fi\n"
    )
}

/// A child namespace `ns` on bridge `bridge` with address `cidr` (veth pair).
fn child(ns: &str, bridge: &str, cidr: &str) -> String {
    format!(
        "ip netns add {ns}\n\
         ip link add v-{ns} type veth peer name eth0 netns {ns}\n\
         ip link set v-{ns} master {bridge} up\n\
         ip -n {ns} link set lo up\n\
         ip -n {ns} addr add {cidr} dev eth0\n\
         ip -n {ns} link set eth0 up\n"
    )
}

/// The "done when": on the default plan's Synapse host, a worker port refuses a
/// connection from an address that is not a HAProxy node. The sandbox's namespace is the
/// host (bridge lan0 with its private address), child namespaces are haproxy1, the
/// monitoring host and a container on a Docker-like bridge (br-matrix).
#[test]
fn synapse_host_firewall_admits_haproxy_and_containers_only() {
    let plan = Plan::default();
    let topo = Topology::new(&plan);
    let files = bundle(&plan);
    let synapse = topo.first(Role::Synapse).expect("synapse host");
    let haproxy = topo.first(Role::Haproxy).expect("haproxy host");
    let monitoring = topo.first(Role::Monitoring).expect("monitoring host");
    let worker = workers::workers(&plan)
        .into_iter()
        .find(|w| w.webserving && w.port.is_some())
        .expect("a webserving worker");
    let http = worker.port.expect("port");
    let metrics = worker.metrics_port;
    let pgbouncer = synapse_planner::bundle::ports::PGBOUNCER;
    let ip = synapse.ip.to_string();
    let sb = Sandbox::new("firewall-synapse");
    let fw = sb.write(
        "synapse.nft",
        &host_file(&files, &synapse.name, FIREWALL).contents,
    );
    let nft = quote(&tool("nft").display().to_string());
    let python = quote(&tool("python3").display().to_string());
    let mut s = format!(
        "set -e\n\
         ip link add lan0 type bridge\nip addr add {ip}/24 dev lan0\nip link set lan0 up\n\
         ip link add br-matrix type bridge\nip addr add 172.18.0.1/16 dev br-matrix\nip link set br-matrix up\n"
    );
    s.push_str(&child("haproxy", "lan0", &format!("{}/24", haproxy.ip)));
    s.push_str(&child(
        "monitoring",
        "lan0",
        &format!("{}/24", monitoring.ip),
    ));
    s.push_str(&child("container", "br-matrix", "172.18.0.2/16"));
    s.push_str("ip -n container route add default via 172.18.0.1\n");
    for port in [http, metrics, pgbouncer] {
        s.push_str(&format!(
            "{python} -m http.server --bind {ip} {port} > /dev/null 2>&1 &\n\
             for i in $(seq 50); do timeout 1 bash -c 'exec 3<> \"/dev/tcp/$0/$1\"' {ip} {port} 2> /dev/null && break; sleep 0.1; done\n"
        ));
    }
    s.push_str("set +e\n");
    // Without the firewall everything answers: the refusals below are the firewall's.
    s.push_str(&probe("before/monitoring/http", "monitoring", &ip, http));
    s.push_str(&probe(
        "before/monitoring/pgbouncer",
        "monitoring",
        &ip,
        pgbouncer,
    ));
    s.push_str(&format!(
        "{nft} -f {f} || echo 'nft failed'\n",
        f = quote(&fw.display().to_string())
    ));
    for (label, from, port) in [
        ("haproxy/http", "haproxy", http),
        ("monitoring/http", "monitoring", http),
        ("monitoring/metrics", "monitoring", metrics),
        ("haproxy/metrics", "haproxy", metrics),
        ("container/pgbouncer", "container", pgbouncer),
        ("monitoring/pgbouncer", "monitoring", pgbouncer),
        ("haproxy/pgbouncer", "haproxy", pgbouncer),
        ("host/pgbouncer", "host", pgbouncer),
        ("host/http", "host", http),
    ] {
        s.push_str(&probe(label, from, &ip, port));
    }
    s.push_str(&format!("{nft} list chain {TABLE} prerouting\n"));
    let out = sb.run(&s);
    let text = output_text(&out);
    assert!(!text.contains("nft failed"), "{text}");
    let outcome = |label: &str| -> &str {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("probe {label} ")))
            .unwrap_or_else(|| panic!("no probe {label}:\n{text}"))
    };
    for (label, want) in [
        ("before/monitoring/http", "open"),
        ("before/monitoring/pgbouncer", "open"),
        ("haproxy/http", "open"),
        ("monitoring/http", "closed"),
        ("monitoring/metrics", "open"),
        ("haproxy/metrics", "closed"),
        ("container/pgbouncer", "open"),
        ("monitoring/pgbouncer", "closed"),
        ("haproxy/pgbouncer", "closed"),
        ("host/pgbouncer", "open"),
        ("host/http", "open"),
    ] {
        assert_eq!(
            outcome(label),
            want,
            "{label} (worker {}):\n{text}",
            worker.name
        );
    }
    // The refused connections were dropped by the final rule, and counted there.
    let counted = text
        .lines()
        .find(|l| l.contains("counter packets") && l.contains(" drop "))
        .and_then(|l| l.split_whitespace().skip_while(|w| *w != "packets").nth(1))
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no drop counter:\n{text}"));
    assert!(counted >= 4, "{counted} dropped:\n{text}");
}

/// systemd's own parser on the unit that loads the firewall: no unknown keys, nft found.
#[test]
fn firewall_unit_passes_systemd_analyze_verify() {
    let analyze = tool("systemd-analyze");
    let nft = tool("nft");
    let files = bundle(&Plan::default());
    let f = bundles::file(
        &files,
        "hosts/all/etc/systemd/system/synapse-planner-firewall.service",
    );
    assert!(
        f.contents
            .contains(&format!("ExecStart=/usr/sbin/nft -f {FIREWALL}"))
    );
    let sb = Sandbox::new("firewall-unit");
    let units = sb.dir().join("units");
    sb.write(
        "units/synapse-planner-firewall.service",
        f.contents
            .replace("/usr/sbin/nft", &nft.display().to_string()),
    );
    let out = sb.run(&format!(
        "SYSTEMD_UNIT_PATH={u}: {a} verify {u}/synapse-planner-firewall.service",
        u = units.display(),
        a = analyze.display()
    ));
    let text = output_text(&out);
    assert_ok(&out, "systemd-analyze verify");
    assert!(text.trim().is_empty(), "systemd-analyze said:\n{text}");
}

/// prepare-host.sh does not load the firewall from an ssh session the firewall would
/// refuse: its `admitted` check, run by bash, on addresses in and out of each role's
/// ssh networks (admin networks set to an operator's VPN here).
#[test]
fn prepare_host_refuses_to_lock_out_its_own_ssh_session() {
    let plan = Plan::default()
        .with_text("network.admin-networks", "192.168.77.0/24, 198.51.100.7/32")
        .expect("valid");
    let files = bundle(&plan);
    let script = &bundles::file(&files, "hosts/all/prepare-host.sh").contents;
    let start = script.find("ip_number() {").expect("guard");
    let end = script
        .find("client=\"${SSH_CONNECTION")
        .expect("client line");
    let guard = &script[start..end];
    // Each role's line carries its ssh networks.
    let line = |host: &str| {
        script
            .lines()
            .find(|l| l.trim_start().starts_with(host) && l.contains("ssh_from="))
            .unwrap_or_else(|| panic!("no case for {host}"))
            .to_string()
    };
    assert!(
        line("patroni1").contains("ssh_from='10.0.1.44/32 192.168.77.0/24 198.51.100.7/32'"),
        "{}",
        line("patroni1")
    );
    assert!(
        line("haproxy1").contains("ssh_from='192.168.77.0/24 198.51.100.7/32'"),
        "{}",
        line("haproxy1")
    );
    let cases = [
        ("192.168.77.1", "192.168.77.0/24 198.51.100.7/32", true),
        ("192.168.77.255", "192.168.77.0/24", true),
        ("192.168.78.1", "192.168.77.0/24 198.51.100.7/32", false),
        ("198.51.100.7", "192.168.77.0/24 198.51.100.7/32", true),
        ("198.51.100.8", "198.51.100.7/32", false),
        ("10.0.1.44", "192.168.77.0/24 10.0.1.44/32", true),
        ("10.0.1.43", "192.168.77.0/24 10.0.1.44/32", false),
        ("2001:db8::1", "192.168.77.0/24", false),
        ("10.1.2.3", "10.0.0.0/8", true),
        ("11.0.0.1", "10.0.0.0/8", false),
        ("192.168.77.1", "", false),
    ];
    let mut test = guard.to_string();
    for (addr, nets, _) in cases {
        test.push_str(&format!(
            "if admitted {addr} {nets}; then echo yes; else echo no; fi\n"
        ));
    }
    let out = std::process::Command::new(tool("bash"))
        .arg("-c")
        .arg(&test)
        .output()
        .expect("bash");
    assert_ok(&out, "guard");
    let got: Vec<bool> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l == "yes")
        .collect();
    let want: Vec<bool> = cases.iter().map(|c| c.2).collect();
    assert_eq!(got, want, "{}", output_text(&out));
}

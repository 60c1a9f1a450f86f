//! System-prep files of the bundle through the real tools: sysctl, pam_limits, chronyd,
//! Docker's daemon.json keys, the hosts file. Every named plan; every check inside a
//! network namespace with only loopback.

#[path = "support/bundles.rs"]
mod bundles;
#[path = "support/sandbox.rs"]
mod sandbox;

use bundles::{bundle, file, matching, named_plans};
use sandbox::{Sandbox, assert_ok, output_text, tool};

/// `sysctl -p` on each sysctl.d file: every key must exist in this kernel and take
/// the value (a failed write only prints to stderr, so stderr is the verdict).
#[test]
fn sysctl_files_apply() {
    for (name, plan) in named_plans() {
        let files = bundle(&plan);
        let sysctls: Vec<_> = matching(&files, |p| p.contains("/etc/sysctl.d/")).collect();
        assert!(sysctls.len() >= 2, "{name}: sysctl files");
        for f in sysctls {
            let sb = Sandbox::new("sysctl");
            let path = sb.write("sysctl.conf", &f.contents);
            let sysctl = tool("sysctl");
            // Parse first, on the host's own /proc/sys: --dry-run reads and writes
            // nothing but stdout, and some keys (net.core.netdev_max_backlog) exist only
            // in the initial network namespace.
            let dry = std::process::Command::new(&sysctl)
                .arg("--dry-run")
                .arg("-p")
                .arg(&path)
                .output()
                .expect("sysctl");
            assert_ok(&dry, &format!("{name}: sysctl --dry-run {}", f.path));
            assert!(
                dry.stderr.is_empty(),
                "{name}: {}: {}",
                f.path,
                output_text(&dry)
            );
            // Then write the per-namespace keys inside the sandbox. Other keys would
            // change the host's kernel even there: checked for existence only.
            let mut script = String::from("set -e\n");
            for line in f
                .contents
                .lines()
                .filter(|l| !l.trim_start().starts_with('#') && l.contains('='))
            {
                let (key, value) = line.split_once('=').expect("key = value");
                let (key, value) = (key.trim(), value.trim());
                let proc = format!("/proc/sys/{}", key.replace('.', "/"));
                // net.* keys that exist in a fresh namespace are per namespace: write and
                // read back. The rest (vm.*, fs.*, init-namespace-only net.core.*) the
                // dry run above has found on the host; writing them would change it.
                // net.core's buffer ceilings and backlog are global in Linux (only the
                // initial namespace may write them): the dry run covers them.
                const GLOBAL: [&str; 5] = [
                    "net.core.rmem_max",
                    "net.core.wmem_max",
                    "net.core.rmem_default",
                    "net.core.wmem_default",
                    "net.core.netdev_max_backlog",
                ];
                if key.starts_with("net.") && !GLOBAL.contains(&key) {
                    script.push_str(&format!("if [ -e {proc} ]; then\n"));
                    script.push_str(&format!("  {} -q -w '{key}={value}'\n", sysctl.display()));
                    script.push_str(&format!(
                        "  got=$(tr -s '\\t ' ' ' < {proc}); [ \"$got\" = '{value}' ] || {{ echo \"{key} is $got, not {value}\"; exit 1; }}\nfi\n"
                    ));
                }
            }
            let out = sb.run(&script);
            assert_ok(&out, &format!("{name}: applying {}", f.path));
            assert!(
                out.stderr.is_empty(),
                "{name}: {}: {}",
                f.path,
                output_text(&out)
            );
        }
    }
}

/// Where the plan needs more file descriptors than the defaults (HAProxy past fs.nr_open's
/// 1,048,576 from 175,000 peak users, PostgreSQL's backends past fs.file-max, a need past
/// the kernel's ceiling): the per-host sysctl file parses (`sysctl --dry-run`; fs.* keys
/// are global, so they are not written here), its values are inside the kernel's ranges
/// (fs.nr_open 64 ..= 2^31 − 64, fs/file.c), the drop-in's LimitNOFILE does not pass
/// fs.nr_open, and systemd reads the drop-in next to Debian's haproxy.service
/// (`systemd-analyze verify`).
#[test]
fn numbers_past_tool_limits_descriptor_files_pass_sysctl_and_systemd() {
    use synapse_planner::plan::Plan;
    let sysctl = tool("sysctl");
    let analyze = tool("systemd-analyze");
    let users = ("users.registered", "100000000");
    // (label, changes, host, whether HAProxy gets a drop-in).
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str, bool);
    let cases: [Case; 4] = [
        (
            "175k",
            vec![users, ("users.peak-concurrent", "175000")],
            "haproxy1",
            true,
        ),
        (
            "beyond-ceiling",
            vec![
                users,
                ("users.peak-concurrent", "100000000"),
                ("assumptions.haproxy-connections-per-user", "11"),
            ],
            "haproxy2",
            true,
        ),
        (
            "pg-10000",
            vec![("postgres.max-connections", "10000")],
            "patroni1",
            false,
        ),
        (
            "livekit",
            vec![
                ("calls.group-rooms", "100000"),
                ("calls.participants-per-room", "100"),
            ],
            "livekit1",
            false,
        ),
    ];
    for (label, changes, host, dropin) in cases {
        let plan = Plan::default().with_texts(&changes).expect("valid");
        let files = bundle(&plan);
        let f = file(
            &files,
            &format!("hosts/{host}/etc/sysctl.d/93-file-descriptors.conf"),
        );
        let sb = Sandbox::new("fds");
        let path = sb.write("93-file-descriptors.conf", &f.contents);
        let dry = std::process::Command::new(&sysctl)
            .arg("--dry-run")
            .arg("-p")
            .arg(&path)
            .output()
            .expect("sysctl");
        assert_ok(&dry, &format!("{label}: sysctl --dry-run"));
        assert!(dry.stderr.is_empty(), "{label}: {}", output_text(&dry));
        let mut nr_open = 1_048_576u64;
        for line in f.contents.lines().filter(|l| !l.starts_with('#')) {
            let (key, value) = line.split_once('=').expect("key = value");
            let value: u64 = value.trim().parse().expect("a number");
            match key.trim() {
                "fs.nr_open" => {
                    assert!((64..=2_147_483_584).contains(&value), "{label}: {line}");
                    nr_open = value;
                }
                "fs.file-max" => assert!(value >= 2_097_152, "{label}: {line}"),
                other => panic!("{label}: unexpected key {other}"),
            }
        }
        let unit =
            format!("hosts/{host}/etc/systemd/system/haproxy.service.d/90-synapse-planner.conf");
        let found = files.iter().find(|f| f.path == unit);
        assert_eq!(found.is_some(), dropin, "{label}: {unit}");
        if let Some(d) = found {
            let nofile: u64 = d
                .contents
                .lines()
                .find_map(|l| l.strip_prefix("LimitNOFILE="))
                .expect("LimitNOFILE")
                .parse()
                .expect("a number");
            assert!(
                nofile <= nr_open,
                "{label}: LimitNOFILE {nofile} > fs.nr_open {nr_open}"
            );
            sb.write(
                "units/haproxy.service.d/90-synapse-planner.conf",
                &d.contents,
            );
            let out = sb.run(&format!(
                "set -e\ncp /lib/systemd/system/haproxy.service units/\nSYSTEMD_UNIT_PATH=$PWD/units: {} verify $PWD/units/haproxy.service 2>&1\n",
                analyze.display()
            ));
            let text = output_text(&out);
            assert_ok(
                &out,
                &format!("{label}: systemd-analyze verify haproxy.service"),
            );
            assert!(
                !text.contains("90-synapse-planner.conf"),
                "{label}: systemd complains about the drop-in:\n{text}"
            );
        }
    }
}

/// pam_limits parses the limits file and applies it to a session of `nobody`.
#[test]
fn limits_file_is_applied_by_pam_limits() {
    let plan = synapse_planner::plan::Plan::default();
    let files = bundle(&plan);
    let f = file(
        &files,
        "hosts/all/etc/security/limits.d/90-synapse-planner.conf",
    );
    let sb = Sandbox::new("limits");
    let conf = sb.write("limits.conf", &f.contents);
    let service = format!("synapse-planner-limits-{}", std::process::id());
    let pam_dir = sb.write(".pam/keep", "");
    let pam_dir = pam_dir.parent().expect("pam dir");
    // A private /etc/pam.d view inside the mount namespace: the host's is untouched.
    let script = format!(
        "set -e\n\
         cp -a /etc/pam.d/. {pam}/\n\
         echo 'session required pam_limits.so conf={conf} debug' > {pam}/{service}\n\
         mount --bind {pam} /etc/pam.d\n\
         {pamtester} -v {service} nobody open_session 2>&1\n",
        pam = pam_dir.display(),
        conf = conf.display(),
        pamtester = tool("pamtester").display(),
    );
    let out = sb.run(&script);
    let text = output_text(&out);
    assert_ok(&out, "pamtester open_session with pam_limits");
    assert!(text.contains("successfully opened a session"), "{text}");
    // A line pam_limits cannot parse would be reported and skipped, not fatal: make
    // sure every line is one it reads as domain/type/item/value.
    for line in f
        .contents
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let cols: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(cols.len(), 4, "limits line {line:?}");
        assert!(
            ["soft", "hard", "-"].contains(&cols[1]) && cols[2] == "nofile",
            "{line}"
        );
        assert!(cols[3].parse::<u64>().is_ok(), "{line}");
    }
}

/// `chronyd -p` parses both chrony configurations (clients and the time source).
#[test]
fn chrony_configs_parse() {
    for (name, plan) in named_plans() {
        let files = bundle(&plan);
        let confs: Vec<_> = matching(&files, |p| p.ends_with("/etc/chrony/chrony.conf")).collect();
        assert!(confs.len() >= 2, "{name}: client and server chrony.conf");
        for f in confs {
            let sb = Sandbox::new("chrony");
            let path = sb.write("chrony.conf", &f.contents);
            let out = sb.run(&format!(
                "{} -p -f {}",
                tool("chronyd").display(),
                path.display()
            ));
            assert_ok(&out, &format!("{name}: chronyd -p {}", f.path));
            assert!(
                output_text(&out).contains("server") || output_text(&out).contains("pool"),
                "{}",
                output_text(&out)
            );
        }
    }
}

/// daemon.json: valid JSON with keys and values dockerd 20.10+ knows (no `--validate`
/// in Debian's 20.10, and the playbook installs a newer Docker: VALIDATORS.md).
#[test]
fn docker_daemon_json_is_valid() {
    let files = bundle(&synapse_planner::plan::Plan::default());
    let f = file(&files, "hosts/all/etc/docker/daemon.json");
    let v: serde_json::Value = serde_json::from_str(&f.contents).expect("daemon.json is JSON");
    let obj = v.as_object().expect("an object");
    for key in obj.keys() {
        assert!(
            ["log-driver", "log-opts"].contains(&key.as_str()),
            "unknown daemon.json key {key}"
        );
    }
    assert_eq!(v["log-driver"], "json-file");
    // json-file's options are strings: "10m", "3" (Docker docs, json-file driver).
    assert_eq!(v["log-opts"]["max-size"], "10m");
    assert_eq!(v["log-opts"]["max-file"], "3");
}

/// The hosts block resolves every host and the server name inside a namespace.
#[test]
fn hosts_block_resolves_every_host() {
    for (name, plan) in named_plans() {
        let files = bundle(&plan);
        let f = file(&files, "hosts/all/hosts.append");
        let topo = synapse_planner::bundle::Topology::new(&plan);
        let entries: Vec<(String, std::net::Ipv4Addr)> = f
            .contents
            .lines()
            .filter(|l| !l.starts_with('#'))
            .flat_map(|l| {
                let mut it = l.split_whitespace();
                let ip: std::net::Ipv4Addr =
                    it.next().expect("ip").parse().expect("an IPv4 address");
                it.map(move |n| (n.to_string(), ip)).collect::<Vec<_>>()
            })
            .collect();
        let sb = Sandbox::new("hosts").with_hosts(entries);
        let mut script = String::from("set -e\n");
        for h in &topo.hosts {
            script.push_str(&format!(
                "[ \"$(getent hosts {} | cut -d' ' -f1)\" = {} ]\n",
                h.fqdn, h.ip
            ));
        }
        script.push_str(&format!(
            "[ \"$(getent hosts {} | cut -d' ' -f1)\" = {} ]\n",
            topo.server_name, topo.vip
        ));
        assert_ok(&sb.run(&script), &format!("{name}: names in hosts.append"));
    }
}

/// The sandbox itself has no way out: only loopback (and what a check adds).
#[test]
fn sandbox_has_only_loopback() {
    let sb = Sandbox::new("netns");
    let out = sb.run("ip -o link show | cut -d: -f2 | tr -d ' '; ip -4 route show");
    assert_ok(&out, "ip link");
    let text = String::from_utf8_lossy(&out.stdout);
    let links: Vec<&str> = text
        .lines()
        .filter(|l| !l.is_empty() && !l.contains(' '))
        .collect();
    assert_eq!(links, ["lo"], "{text}");
    assert!(
        !text.contains("default"),
        "a default route in the sandbox: {text}"
    );
}

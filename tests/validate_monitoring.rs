//! The monitoring host's files, for every named plan, through the real programs:
//! `promtool check config` (rule and password files in place at their real paths in a
//! private mount namespace, no path rewritten), `promtool check rules`, `promtool test
//! rules` on the generated unit tests, Prometheus itself started with the generated
//! config and ARGS (every target and rule group loaded), `amtool check-config` and
//! `amtool config routes test`, Alertmanager started with its ARGS, yamllint in strict
//! mode, `systemd-analyze verify` on grafana.service, bash -n and shellcheck. The
//! blackbox exporter's config through `prometheus-blackbox-exporter --config.check`, and
//! live: the exporter and Prometheus started with the generated files probe coturn
//! (started with the bundle's turnserver.conf) and a TLS server on the VIP, and the
//! probe results and the alerts built on them come out as the rules expect.

#[path = "support/bundles.rs"]
mod bundles;
#[path = "support/sandbox.rs"]
mod sandbox;

use bundles::{bundle, file, matching, named_plans};
use sandbox::{Sandbox, assert_ok, output_text, tool};
use synapse_planner::bundle::{File, Topology};
use synapse_planner::plan::{Plan, Role};

const MON: &str = "hosts/monitoring";
/// The coturn allocations script on each coturn host (src/bundle/monitoring/coturn_allocations.rs).
const COTURN_SCRIPT: &str = "/usr/local/sbin/coturn-allocations-metric.sh";

fn monitoring_files(files: &[File]) -> Vec<&File> {
    matching(files, |p| p.starts_with("hosts/monitoring/")).collect()
}

/// Shell lines that put every file of the monitoring host under /etc/prometheus (a
/// tmpfs in the sandbox's own mount namespace) at the path the bundle gives it.
fn install_prometheus_dir(sb: &Sandbox, files: &[File]) -> String {
    let mut s = String::from("set -e\nmount -t tmpfs tmpfs /etc/prometheus\n");
    for f in monitoring_files(files) {
        let Some(rel) = f.path.strip_prefix(&format!("{MON}/etc/prometheus/")) else {
            continue;
        };
        let src = sb.write(&format!("files/{rel}"), &f.contents);
        s.push_str(&format!(
            "install -D -m {:o} {} /etc/prometheus/{rel}\n",
            f.mode,
            src.display()
        ));
    }
    s
}

/// systemd EnvironmentFile values (the files here hold plain `KEY=VALUE`, `KEY="…"` or
/// `KEY='…'` lines; anything else fails).
fn env_values(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#') && !l.starts_with(';'))
        .map(|l| {
            let (k, v) = l
                .split_once('=')
                .unwrap_or_else(|| panic!("not KEY=VALUE: {l}"));
            assert!(
                k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "bad name {k}"
            );
            let quote = v.chars().next().filter(|c| ['"', '\''].contains(c));
            let v = match quote {
                Some(q) => {
                    let inner = v[1..]
                        .strip_suffix(q)
                        .unwrap_or_else(|| panic!("unbalanced quotes: {l}"));
                    assert!(!inner.contains(q), "quote inside quotes: {l}");
                    if q == '"' {
                        assert!(!inner.contains(['\\', '$', '`']), "escapes: {l}");
                    }
                    inner.to_string()
                }
                None => {
                    assert!(
                        !v.contains(['"', '\'', '\\', '$', ' ']),
                        "needs quotes: {l}"
                    );
                    v.to_string()
                }
            };
            (k.to_string(), v)
        })
        .collect()
}

#[test]
fn promtool_checks_config_rules_and_rule_tests() {
    let promtool = tool("promtool");
    for (name, plan) in named_plans() {
        let files = bundle(&plan);
        let rules: Vec<&File> = matching(&files, |p| {
            p.starts_with(&format!("{MON}/etc/prometheus/rules/")) && !p.contains("/tests/")
        })
        .collect();
        let tests: Vec<&File> = matching(&files, |p| {
            p.starts_with(&format!("{MON}/etc/prometheus/rules/tests/"))
        })
        .collect();
        assert!(rules.len() >= 5, "{name}: rule files");
        assert_eq!(
            rules.len(),
            tests.len(),
            "{name}: a test file per rule file"
        );
        let sb = Sandbox::new("promtool");
        let mut script = install_prometheus_dir(&sb, &files);
        let p = promtool.display();
        script.push_str(&format!(
            "{p} check config /etc/prometheus/prometheus.yml\n"
        ));
        for r in &rules {
            let rel = r.path.strip_prefix(MON).unwrap();
            script.push_str(&format!("{p} check rules {rel}\n"));
        }
        for t in &tests {
            let rel = t.path.strip_prefix(MON).unwrap();
            script.push_str(&format!("{p} test rules {rel}\n"));
        }
        let out = sb.run(&script);
        let text = output_text(&out);
        assert_ok(&out, &format!("{name}: promtool"));
        assert!(
            text.contains(&format!("SUCCESS: {} rule files found", rules.len())),
            "{name}: prometheus.yml loads every rule file:\n{text}"
        );
        assert_eq!(
            text.matches("Unit Testing:").count(),
            tests.len(),
            "{name}:\n{text}"
        );
        assert!(!text.contains("FAILED"), "{name}:\n{text}");
        // Every alert has a test case in its group's test file.
        for r in &rules {
            let t = tests
                .iter()
                .find(|t| {
                    t.path.ends_with(
                        &r.path
                            .rsplit('/')
                            .next()
                            .unwrap()
                            .replace(".yml", ".test.yml"),
                    )
                })
                .unwrap();
            for line in r.contents.lines() {
                if let Some(alert) = line.trim().strip_prefix("- alert: ") {
                    assert!(
                        t.contents.contains(&format!("alertname: {alert}\n")),
                        "{name}: {alert} has no unit test"
                    );
                    assert!(
                        t.contents.contains("exp_alerts: []") || t.contents.contains("exp_labels")
                    );
                }
            }
        }
    }
}

/// Prometheus started with the generated prometheus.yml and the ARGS of
/// /etc/default/prometheus: it loads, lists every expected target with its labels,
/// and every rule group. Scrapes fail (no route in the namespace), which is fine.
#[test]
fn prometheus_starts_with_every_target_and_rule_group() {
    let prometheus = tool("prometheus");
    for (name, plan) in named_plans() {
        let files = bundle(&plan);
        let defaults = file(&files, &format!("{MON}/etc/default/prometheus"));
        let args = env_values(&defaults.contents)
            .into_iter()
            .find(|(k, _)| k == "ARGS")
            .map(|(_, v)| v)
            .unwrap();
        // The plan's retention.prometheus-days.
        let retention = format!("{}d", plan.retention.prometheus_days);
        assert!(
            args.contains(&format!("--storage.tsdb.retention.time={retention} ")),
            "{name}: {args}"
        );
        // The generated ARGS verbatim: :9090 is all addresses of the sandbox's network
        // namespace, which has loopback only.
        let sb = Sandbox::new("prometheus");
        let mut script = install_prometheus_dir(&sb, &files);
        script.push_str(&format!(
            "mkdir -p data\n\
             {bin} --config.file=/etc/prometheus/prometheus.yml --storage.tsdb.path=$PWD/data {args} > prom.log 2>&1 &\n\
             for i in $(seq 1 100); do curl -sf http://127.0.0.1:9090/-/ready > /dev/null && break; sleep 0.2; done\n\
             curl -sf http://127.0.0.1:9090/-/ready > /dev/null || {{ cat prom.log; exit 1; }}\n\
             # Static targets arrive in one discovery update, a few seconds after start.\n\
             for i in $(seq 1 150); do curl -sf 'http://127.0.0.1:9090/api/v1/targets?state=any' | grep -q scrapeUrl && break; sleep 0.2; done\n\
             curl -sf 'http://127.0.0.1:9090/api/v1/targets?state=any' > targets.json\n\
             curl -sf http://127.0.0.1:9090/api/v1/rules > rules.json\n\
             curl -sf http://127.0.0.1:9090/api/v1/status/flags > flags.json\n\
             cat targets.json; echo; cat rules.json; echo; cat flags.json\n",
            bin = prometheus.display(),
        ));
        let out = sb.run(&script);
        assert_ok(&out, &format!("{name}: prometheus starts"));
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let mut docs = text.lines().filter(|l| l.starts_with('{'));
        let targets: serde_json::Value = serde_json::from_str(docs.next().unwrap()).unwrap();
        let rules: serde_json::Value = serde_json::from_str(docs.next().unwrap()).unwrap();
        let flags: serde_json::Value = serde_json::from_str(docs.next().unwrap()).unwrap();

        let active = targets["data"]["activeTargets"].as_array().unwrap();
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
        assert_eq!(
            active.len(),
            expected,
            "{name}: targets = processes + exporters + probes (2 per coturn host, VIP 443 and 8448) + the blackbox exporter"
        );
        // Probe jobs go through the local blackbox exporter, with the probed address
        // as `target` (parameter and label) and the module as parameter.
        let probes: Vec<&serde_json::Value> = active
            .iter()
            .filter(|t| t["scrapeUrl"].as_str().unwrap().contains("/probe?"))
            .collect();
        assert_eq!(probes.len(), 2 * p(Role::Coturn) + 2, "{name}");
        for t in &probes {
            let url = t["scrapeUrl"].as_str().unwrap();
            let target = t["labels"]["target"].as_str().unwrap();
            assert!(
                url.starts_with("http://127.0.0.1:9115/probe?")
                    && url.contains(&format!("target={}", target.replace(':', "%3A"))),
                "{name}: {t}"
            );
        }
        // Synapse processes carry the dashboard's labels; every metrics port is scraped.
        let topo = Topology::new(&plan);
        let synapse = topo.first(Role::Synapse).unwrap();
        let synapse_targets: Vec<&serde_json::Value> = active
            .iter()
            .filter(|t| t["scrapePool"] == "synapse")
            .collect();
        assert_eq!(
            synapse_targets.len() as u64,
            plan.synapse_process_count(),
            "{name}"
        );
        for t in &synapse_targets {
            let l = &t["labels"];
            assert_eq!(l["instance"], synapse.fqdn.as_str(), "{name}: {t}");
            assert!(
                l["job"].is_string() && l["index"].is_string(),
                "{name}: {t}"
            );
            assert!(
                t["scrapeUrl"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("http://{}:", synapse.ip))
            );
        }
        assert!(
            synapse_targets
                .iter()
                .any(|t| t["labels"]["job"] == "master"
                    && t["scrapeUrl"] == format!("http://{}:9200/_synapse/metrics", synapse.ip))
        );
        for t in active {
            assert!(
                t["labels"]["instance"]
                    .as_str()
                    .is_some_and(|i| i.ends_with(".internal")),
                "{name}: {t}"
            );
        }
        // Every rule group loaded.
        let groups = rules["data"]["groups"].as_array().unwrap();
        let rule_files = matching(&files, |p| {
            p.starts_with(&format!("{MON}/etc/prometheus/rules/")) && !p.contains("/tests/")
        })
        .count();
        assert_eq!(groups.len(), rule_files, "{name}: rule groups");
        assert!(
            groups
                .iter()
                .all(|g| !g["rules"].as_array().unwrap().is_empty())
        );
        // The ARGS took effect.
        assert_eq!(
            flags["data"]["storage.tsdb.retention.time"],
            retention.as_str(),
            "{name}"
        );
        assert!(
            flags["data"]["storage.tsdb.retention.size"]
                .as_str()
                .unwrap()
                .ends_with("GiB"),
            "{name}: {}",
            flags["data"]["storage.tsdb.retention.size"]
        );
    }
}

#[test]
fn alertmanager_config_routes_and_start() {
    let amtool = tool("amtool");
    let alertmanager = tool("prometheus-alertmanager");
    for (name, plan) in named_plans() {
        let files = bundle(&plan);
        let am = file(&files, &format!("{MON}/etc/prometheus/alertmanager.yml"));
        let y: serde_yaml::Value = serde_yaml::from_str(&am.contents).unwrap();
        assert_eq!(
            y["global"]["smtp_smarthost"].as_str(),
            Some(plan.ops.smtp_smarthost.as_str()),
            "{name}"
        );
        for r in y["receivers"].as_sequence().unwrap() {
            assert_eq!(
                r["email_configs"][0]["to"].as_str(),
                Some(plan.ops.email.as_str()),
                "{name}"
            );
        }
        let defaults = file(
            &files,
            &format!("{MON}/etc/default/prometheus-alertmanager"),
        );
        let args = env_values(&defaults.contents)
            .into_iter()
            .find(|(k, _)| k == "ARGS")
            .unwrap()
            .1;
        let sb = Sandbox::new("alertmanager");
        let cfg = sb.write("alertmanager.yml", &am.contents);
        let a = amtool.display();
        let c = cfg.display();
        // The generated ARGS verbatim (the namespace has loopback only).
        let script = format!(
            "set -e\n\
             {a} check-config {c}\n\
             echo critical=$({a} config routes test --config.file={c} severity=critical alertname=HostDown instance=patroni1.internal)\n\
             echo warning=$({a} config routes test --config.file={c} severity=warning alertname=DiskSpaceLow instance=minio1.internal)\n\
             mkdir -p data\n\
             {am} --config.file={c} --storage.path=$PWD/data {args} > am.log 2>&1 &\n\
             for i in $(seq 1 100); do curl -sf http://127.0.0.1:9093/-/ready > /dev/null && break; sleep 0.2; done\n\
             curl -sf http://127.0.0.1:9093/-/ready > /dev/null || {{ cat am.log; exit 1; }}\n\
             curl -sf http://127.0.0.1:9093/api/v2/status | grep -q '\"cluster\":{{[^}}]*\"status\":\"disabled\"' || {{ echo cluster not disabled; curl -s http://127.0.0.1:9093/api/v2/status; exit 1; }}\n\
             echo started\n",
            am = alertmanager.display(),
        );
        let out = sb.run(&script);
        let text = output_text(&out);
        assert_ok(&out, &format!("{name}: amtool + alertmanager"));
        assert!(
            text.contains("critical=ops-email-critical"),
            "{name}:\n{text}"
        );
        assert!(text.contains("warning=ops-email\n"), "{name}:\n{text}");
        assert!(text.contains("started"), "{name}:\n{text}");
    }
}

#[test]
fn yaml_files_pass_yamllint_strict() {
    let yamllint = tool("yamllint");
    for (name, plan) in named_plans() {
        let files = bundle(&plan);
        let yamls: Vec<&File> = monitoring_files(&files)
            .into_iter()
            .filter(|f| f.path.ends_with(".yml"))
            .collect();
        assert!(yamls.len() >= 14, "{name}: {} YAML files", yamls.len());
        let sb = Sandbox::new("yamllint");
        // Strict: yamllint's default rules (key-duplicates, truthy, indentation,
        // document-start, comments…) with warnings fatal; line length off (PromQL).
        let cfg = sb.write(
            "yamllint.yml",
            "extends: default\nrules:\n  line-length: disable\n",
        );
        let mut paths = Vec::new();
        for f in &yamls {
            paths.push(
                sb.write(&format!("y/{}", f.path), &f.contents)
                    .display()
                    .to_string(),
            );
        }
        let out = sb.run(&format!(
            "{} -s -c {} {}\n",
            yamllint.display(),
            cfg.display(),
            paths.join(" ")
        ));
        assert_ok(&out, &format!("{name}: yamllint -s"));
        // Grafana's provisioning files parse and point at the local Prometheus.
        let ds = file(
            &files,
            &format!("{MON}/etc/grafana/provisioning/datasources/prometheus.yml"),
        );
        let y: serde_yaml::Value = serde_yaml::from_str(&ds.contents).unwrap();
        assert_eq!(y["apiVersion"].as_u64(), Some(1));
        assert_eq!(
            y["datasources"][0]["url"].as_str(),
            Some("http://127.0.0.1:9090")
        );
        let dash = file(
            &files,
            &format!("{MON}/etc/grafana/provisioning/dashboards/synapse-planner.yml"),
        );
        let y: serde_yaml::Value = serde_yaml::from_str(&dash.contents).unwrap();
        let dir = y["providers"][0]["options"]["path"].as_str().unwrap();
        let unit = file(&files, &format!("{MON}/etc/systemd/system/grafana.service"));
        assert!(
            unit.contents.contains(&format!("--volume {dir}:{dir}:ro")),
            "{name}: dashboards dir mounted"
        );
        assert!(
            files
                .iter()
                .any(|f| f.path == format!("{MON}{dir}/README.md")),
            "{name}: README tells what to put in {dir}"
        );
    }
}

#[test]
fn grafana_unit_and_env() {
    let analyze = tool("systemd-analyze");
    for (name, plan) in named_plans() {
        let files = bundle(&plan);
        let unit = file(&files, &format!("{MON}/etc/systemd/system/grafana.service"));
        let env = file(&files, &format!("{MON}/etc/default/grafana"));
        assert_eq!(env.mode, 0o600, "{name}: holds the admin password");
        let vars = env_values(&env.contents);
        for (k, _) in &vars {
            assert!(
                unit.contents.contains(&format!("--env {k} ")),
                "{name}: {k} is not passed into the container"
            );
        }
        assert!(
            vars.iter()
                .any(|(k, v)| k == "GF_SECURITY_ADMIN_PASSWORD" && v.len() >= 16),
            "{name}"
        );
        assert!(
            unit.contents.contains("docker.io/grafana/grafana:12.4.2"),
            "{name}: pinned image"
        );
        let sb = Sandbox::new("grafana-unit");
        sb.write("grafana.service", &unit.contents);
        let script = format!(
            "set -e\n\
             mkdir -p ov/bin/u ov/bin/w ov/sys/u ov/sys/w\n\
             mount -t overlay overlay -o lowerdir=/usr/bin,upperdir=$PWD/ov/bin/u,workdir=$PWD/ov/bin/w /usr/bin\n\
             printf '#!/bin/sh\\nexit 0\\n' > /usr/bin/docker; chmod 755 /usr/bin/docker\n\
             mount -t overlay overlay -o lowerdir=/etc/systemd/system,upperdir=$PWD/ov/sys/u,workdir=$PWD/ov/sys/w /etc/systemd/system\n\
             printf '[Unit]\\nDescription=stub\\n[Service]\\nExecStart=/bin/true\\n' > /etc/systemd/system/docker.service\n\
             cp grafana.service /etc/systemd/system/grafana.service\n\
             {} verify /etc/systemd/system/grafana.service 2>&1\n",
            analyze.display()
        );
        let out = sb.run(&script);
        assert_ok(
            &out,
            &format!("{name}: systemd-analyze verify grafana.service"),
        );
        assert!(
            output_text(&out).trim().is_empty(),
            "{name}: {}",
            output_text(&out)
        );
    }
}

#[test]
fn scripts_pass_bash_n_and_shellcheck() {
    for (name, plan) in named_plans() {
        let files = bundle(&plan);
        // The monitoring host's, and the allocations script on each coturn host.
        let scripts: Vec<&File> = matching(&files, |p| {
            p.ends_with(".sh") && (p.starts_with(&format!("{MON}/")) || p.ends_with(COTURN_SCRIPT))
        })
        .collect();
        assert!(!scripts.is_empty(), "{name}");
        assert_eq!(
            scripts
                .iter()
                .filter(|f| f.path.ends_with(COTURN_SCRIPT))
                .count() as u64,
            plan.host(Role::Coturn).count,
            "{name}: an allocations script per coturn host"
        );
        for f in scripts {
            assert_eq!(f.mode, 0o755, "{}", f.path);
            let sb = Sandbox::new("monitoring-sh");
            let p = sb.write("script.sh", &f.contents);
            let out = sb.run(&format!(
                "set -e\nbash -n {p}\n{sc} -x -S warning {p}\n",
                p = p.display(),
                sc = tool("shellcheck").display()
            ));
            assert_ok(&out, &format!("{name}: bash -n + shellcheck {}", f.path));
        }
    }
}

#[test]
fn secrets_and_cross_file_facts() {
    for (name, plan) in named_plans() {
        let files = bundle(&plan);
        let pw = file(
            &files,
            &format!("{MON}/etc/prometheus/haproxy-stats.password"),
        );
        assert_eq!(pw.mode, 0o600, "{name}");
        assert!(
            !pw.contents.contains('\n') && pw.contents.len() >= 16,
            "{name}: the password file is the password alone"
        );
        let prom = file(&files, &format!("{MON}/etc/prometheus/prometheus.yml"));
        let y: serde_yaml::Value = serde_yaml::from_str(&prom.contents).unwrap();
        let jobs = y["scrape_configs"].as_sequence().unwrap();
        let topo = Topology::new(&plan);
        for j in jobs {
            if j["job_name"].as_str().unwrap().starts_with("haproxy") {
                assert_eq!(
                    j["basic_auth"]["password_file"].as_str(),
                    Some("/etc/prometheus/haproxy-stats.password")
                );
            }
        }
        let vip = jobs
            .iter()
            .find(|j| j["job_name"] == "haproxy-vip")
            .unwrap();
        assert_eq!(
            vip["static_configs"][0]["targets"][0].as_str(),
            Some(format!("{}:8404", topo.vip).as_str())
        );
        assert_eq!(
            y["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"][0].as_str(),
            Some("127.0.0.1:9093")
        );
        // The setup script tests exactly the generated rule test files.
        let setup = file(&files, &format!("{MON}/usr/local/sbin/setup-monitoring.sh"));
        for t in matching(&files, |p| {
            p.starts_with(&format!("{MON}/etc/prometheus/rules/tests/"))
        }) {
            let group = t
                .path
                .rsplit('/')
                .next()
                .unwrap()
                .trim_end_matches(".test.yml");
            assert!(
                setup.contents.contains(group),
                "{name}: setup-monitoring.sh skips {group}"
            );
        }
    }
}

/// The ARGS= value of an /etc/default file.
fn args_of(files: &[File], path: &str) -> String {
    env_values(&file(files, path).contents)
        .into_iter()
        .find(|(k, _)| k == "ARGS")
        .unwrap_or_else(|| panic!("{path}: no ARGS"))
        .1
}

/// The blackbox exporter's config, for every named plan: Debian's binary checks it
/// (`--config.check`: strict keys), and it agrees with prometheus.yml (every module a
/// probe job names exists; every probe goes to the exporter's loopback listener; coturn
/// is probed on 3478 and 5349 of each coturn host, the VIP on 443 and 8448; nothing
/// scrapes coturn's 9641), with its /etc/default and with the setup script.
#[test]
fn blackbox_config_check_and_cross_file_facts() {
    let blackbox = tool("prometheus-blackbox-exporter");
    for (name, plan) in named_plans() {
        let files = bundle(&plan);
        let topo = Topology::new(&plan);
        let bb = file(&files, &format!("{MON}/etc/prometheus/blackbox.yml"));
        let sb = Sandbox::new("blackbox-check");
        let cfg = sb.write("blackbox.yml", &bb.contents);
        let out = sb.run(&format!(
            "{} --config.check --config.file={}\n",
            blackbox.display(),
            cfg.display()
        ));
        assert_ok(&out, &format!("{name}: blackbox --config.check"));
        assert!(
            output_text(&out).contains("Config file is ok"),
            "{name}: {}",
            output_text(&out)
        );

        // --config.check does not look at prober names: only TCP probes, so no module
        // follows a redirect, resolves a name or pings.
        let y: serde_yaml::Value = serde_yaml::from_str(&bb.contents).unwrap();
        let modules = y["modules"].as_mapping().unwrap();
        for (k, m) in modules {
            assert_eq!(m["prober"].as_str(), Some("tcp"), "{name}: {k:?}");
            if m["tcp"]["tls"].as_bool() == Some(true) {
                assert_eq!(
                    m["tcp"]["tls_config"]["server_name"].as_str(),
                    Some(topo.server_name.as_str()),
                    "{name}: {k:?}"
                );
            }
        }
        assert_eq!(
            args_of(
                &files,
                &format!("{MON}/etc/default/prometheus-blackbox-exporter")
            ),
            "--config.file=/etc/prometheus/blackbox.yml --web.listen-address=127.0.0.1:9115",
            "{name}"
        );

        let prom = file(&files, &format!("{MON}/etc/prometheus/prometheus.yml"));
        let y: serde_yaml::Value = serde_yaml::from_str(&prom.contents).unwrap();
        let mut probed = std::collections::BTreeSet::new();
        for j in y["scrape_configs"].as_sequence().unwrap() {
            let job = j["job_name"].as_str().unwrap();
            let targets: Vec<&str> = j["static_configs"]
                .as_sequence()
                .unwrap()
                .iter()
                .flat_map(|c| c["targets"].as_sequence().unwrap())
                .map(|t| t.as_str().unwrap())
                .collect();
            assert!(
                targets.iter().all(|t| !t.ends_with(":9641")),
                "{name}: {job} scrapes coturn's 9641"
            );
            if job == "blackbox" {
                assert_eq!(targets, ["127.0.0.1:9115"], "{name}");
            }
            let Some(module) = j["params"]["module"][0].as_str() else {
                continue;
            };
            assert!(
                modules.contains_key(module),
                "{name}: {job} asks for module {module}, blackbox.yml has none"
            );
            assert_eq!(j["metrics_path"].as_str(), Some("/probe"), "{name}: {job}");
            let relabel = j["relabel_configs"].as_sequence().unwrap();
            assert_eq!(
                relabel[0]["target_label"].as_str(),
                Some("__param_target"),
                "{name}: {job}"
            );
            let last = relabel.last().unwrap();
            assert_eq!(
                (last["target_label"].as_str(), last["replacement"].as_str()),
                (Some("__address__"), Some("127.0.0.1:9115")),
                "{name}: {job}"
            );
            for t in targets {
                probed.insert((module.to_string(), t.to_string()));
            }
        }
        let mut want = std::collections::BTreeSet::new();
        for h in topo.role(Role::Coturn) {
            want.insert(("turn_tcp".to_string(), format!("{}:3478", h.ip)));
            want.insert(("turns_tls".to_string(), format!("{}:5349", h.ip)));
        }
        for port in [443, 8448] {
            want.insert(("https_tls".to_string(), format!("{}:{port}", topo.vip)));
        }
        assert_eq!(probed, want, "{name}");

        let setup = file(&files, &format!("{MON}/usr/local/sbin/setup-monitoring.sh"));
        assert!(
            setup.contents.contains(
                "prometheus-blackbox-exporter --config.check --config.file=/etc/prometheus/blackbox.yml"
            ),
            "{name}"
        );
        for verb in ["restart", "enable"] {
            assert!(
                setup
                    .contents
                    .lines()
                    .any(|l| l.starts_with(&format!("systemctl {verb} "))
                        && l.contains("prometheus-blackbox-exporter")),
                "{name}: setup-monitoring.sh does not {verb} the blackbox exporter"
            );
        }
    }
}

/// One live run on the default plan: coturn started with the bundle's turnserver.conf on
/// coturn1's address (a 10-day certificate for the server name), TLS servers on the
/// VIP's 443 and 8448 standing in for HAProxy with the same certificate, and coturn2's
/// address absent. The blackbox exporter and Prometheus run with the generated files and
/// ARGS; then Prometheus must hold the probe results the rules read, with the expiry of
/// that certificate, and the alerts built on them must be pending exactly where they
/// should (certificate under 21 days; coturn2 down), and nowhere else.
#[test]
fn blackbox_probes_coturn_and_the_vip_end_to_end() {
    let prometheus = tool("prometheus");
    let blackbox = tool("prometheus-blackbox-exporter");
    let turnserver = tool("turnserver");
    let openssl = tool("openssl");
    let jq = tool("jq");
    let plan = Plan::default();
    let files = bundle(&plan);
    let topo = Topology::new(&plan);
    let coturn: Vec<_> = topo.role(Role::Coturn).collect();
    assert!(coturn.len() >= 2, "the default plan has two coturn hosts");
    let (c1, c2) = (coturn[0], coturn[1]);
    let turn_conf = file(&files, &format!("hosts/{}/etc/turnserver.conf", c1.name));
    let prom_args = args_of(&files, &format!("{MON}/etc/default/prometheus"));
    let bb_args = args_of(
        &files,
        &format!("{MON}/etc/default/prometheus-blackbox-exporter"),
    );

    let sb = Sandbox::new("blackbox-live").with_addrs([c1.ip, topo.vip]);
    let conf = sb.write("turnserver.conf", &turn_conf.contents);
    let mut script = install_prometheus_dir(&sb, &files);
    script.push_str(&format!(
        r#"ssl=$PWD/etc-ssl
certs=$ssl/synapse-planner/{server}
mkdir -p "$certs" var-lib-turn data
# A 10-day certificate: under the 21-day warning, over the 7-day critical.
{openssl} req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 10 \
  -subj /CN={server} -keyout "$certs/privkey.pem" -out "$certs/fullchain.pem" 2> /dev/null
not_after=$(date -d "$({openssl} x509 -enddate -noout -in "$certs/fullchain.pem" | cut -d= -f2)" +%s)
mount --bind "$ssl" /etc/ssl
# coturn opens its default user database even with use-auth-secret: a private copy.
if [ -f /var/lib/turn/turndb ]; then cp /var/lib/turn/turndb var-lib-turn/; fi
mount --bind "$PWD/var-lib-turn" /var/lib/turn
set +e
{turnserver} -c {conf} --log-file=stdout --pidfile="$PWD/turn.pid" > turn.log 2>&1 &
# HAProxy stand-ins: TLS on the VIP's 443 and 8448 with the same certificate.
for port in 443 8448; do
  {openssl} s_server -quiet -accept {vip}:$port -cert "$certs/fullchain.pem" -key "$certs/privkey.pem" < /dev/null > "s_server-$port.log" 2>&1 &
done
{blackbox} {bb_args} > blackbox.log 2>&1 &
{prometheus} --config.file=/etc/prometheus/prometheus.yml --storage.tsdb.path="$PWD/data" {prom_args} > prom.log 2>&1 &

wait_for() {{
  for _ in $(seq 1 300); do "$@" > /dev/null 2>&1 && return 0; sleep 0.2; done
  echo "timed out: $*"
  return 1
}}
q() {{ curl -sfG http://127.0.0.1:9090/api/v1/query --data-urlencode "query=$1"; }}
coturn_up() {{ ss -Hltn | grep -q '{c1ip}:3478 ' && ss -Hltn | grep -q '{c1ip}:5349 '; }}
blackbox_up() {{ curl -sf http://127.0.0.1:9115/-/healthy; }}
# Every probe target scraped (6 series), then the rules evaluated on them.
probes_in() {{ [ "$(q 'count(probe_success)' | {jq} -r '.data.result[0].value[1] // 0')" = 6 ]; }}
alerts_in() {{
  curl -sf http://127.0.0.1:9090/api/v1/alerts | {jq} -e '[.data.alerts[].labels.alertname] as $a
    | ($a | map(select(. == "CertificateExpiringSoon")) | length) == 3
      and ($a | index("CoturnDown")) != null and ($a | index("CoturnTlsDown")) != null'
}}
wait_for coturn_up || {{ cat turn.log; exit 1; }}
wait_for blackbox_up || {{ cat blackbox.log; exit 1; }}
echo "LISTEN $(ss -Hltn 'sport = :9115' | awk '{{print $4}}' | tr '\n' ' ')"
# A probe asked directly, as Prometheus asks it.
echo "DIRECT $(curl -sf 'http://127.0.0.1:9115/probe?module=turn_tcp&target={c1ip}:3478' | grep '^probe_success')"
wait_for probes_in || {{ cat prom.log; q probe_success; exit 1; }}
wait_for alerts_in || {{ curl -s http://127.0.0.1:9090/api/v1/alerts; exit 1; }}
echo "NOT_AFTER $not_after"
echo "SUCCESS $(q probe_success)"
echo "EXPIRY $(q probe_ssl_earliest_cert_expiry)"
echo "UP $(q 'up{{job=~"blackbox|coturn-turn|coturn-turns|vip-tls"}}')"
echo "ALERTS $(curl -sf http://127.0.0.1:9090/api/v1/alerts)"
exit 0
"#,
        server = topo.server_name,
        openssl = openssl.display(),
        turnserver = turnserver.display(),
        conf = conf.display(),
        vip = topo.vip,
        blackbox = blackbox.display(),
        prometheus = prometheus.display(),
        jq = jq.display(),
        c1ip = c1.ip,
    ));
    let out = sb.run(&script);
    let text = output_text(&out);
    assert_ok(&out, "blackbox end to end");
    let line = |key: &str| -> &str {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{key} ")))
            .unwrap_or_else(|| panic!("no {key} line:\n{text}"))
    };
    // The exporter listens on loopback only.
    assert_eq!(line("LISTEN").trim(), "127.0.0.1:9115", "{text}");
    assert_eq!(line("DIRECT"), "probe_success 1", "{text}");
    let not_after: f64 = line("NOT_AFTER").parse().unwrap();
    // (job, instance, target) → value of a query's vector result.
    let vector = |key: &str| -> std::collections::BTreeMap<(String, String, String), f64> {
        let v: serde_json::Value = serde_json::from_str(line(key)).unwrap();
        v["data"]["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let m = &r["metric"];
                let s = |k: &str| m[k].as_str().unwrap_or("").to_string();
                (
                    (s("job"), s("instance"), s("target")),
                    r["value"][1].as_str().unwrap().parse().unwrap(),
                )
            })
            .collect()
    };
    let key =
        |job: &str, instance: &str, target: String| (job.to_string(), instance.to_string(), target);
    let vip = |port: u16| key("vip-tls", "vip.internal", format!("{}:{port}", topo.vip));
    let want_success: std::collections::BTreeMap<_, f64> = [
        (key("coturn-turn", &c1.fqdn, format!("{}:3478", c1.ip)), 1.0),
        (key("coturn-turn", &c2.fqdn, format!("{}:3478", c2.ip)), 0.0),
        (
            key("coturn-turns", &c1.fqdn, format!("{}:5349", c1.ip)),
            1.0,
        ),
        (
            key("coturn-turns", &c2.fqdn, format!("{}:5349", c2.ip)),
            0.0,
        ),
        (vip(443), 1.0),
        (vip(8448), 1.0),
    ]
    .into_iter()
    .collect();
    assert_eq!(vector("SUCCESS"), want_success, "{text}");
    // The expiry is the certificate's notAfter, from coturn and from both VIP ports.
    let want_expiry: std::collections::BTreeMap<_, f64> = [
        (
            key("coturn-turns", &c1.fqdn, format!("{}:5349", c1.ip)),
            not_after,
        ),
        (vip(443), not_after),
        (vip(8448), not_after),
    ]
    .into_iter()
    .collect();
    assert_eq!(vector("EXPIRY"), want_expiry, "{text}");
    let up = vector("UP");
    assert_eq!(up.len(), 7, "{text}");
    assert!(up.values().all(|v| *v == 1.0), "{up:?}");

    // Alerts (pending: their `for` has not passed): exactly where they should be.
    let alerts: serde_json::Value = serde_json::from_str(line("ALERTS")).unwrap();
    let mut got: Vec<(String, String, String)> = alerts["data"]["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let l = &a["labels"];
            let s = |k: &str| l[k].as_str().unwrap_or("").to_string();
            (s("alertname"), s("instance"), s("target"))
        })
        .filter(|(name, _, _)| {
            [
                "CoturnDown",
                "CoturnAllDown",
                "CoturnTlsDown",
                "TlsProbeFailed",
                "CertificateExpiringSoon",
                "CertificateExpiringCritical",
            ]
            .contains(&name.as_str())
        })
        .collect();
    got.sort();
    let a = |n: &str, i: &str, t: String| (n.to_string(), i.to_string(), t);
    let mut want = vec![
        a(
            "CertificateExpiringSoon",
            &c1.fqdn,
            format!("{}:5349", c1.ip),
        ),
        a(
            "CertificateExpiringSoon",
            "vip.internal",
            format!("{}:443", topo.vip),
        ),
        a(
            "CertificateExpiringSoon",
            "vip.internal",
            format!("{}:8448", topo.vip),
        ),
        a("CoturnDown", &c2.fqdn, format!("{}:3478", c2.ip)),
        a("CoturnTlsDown", &c2.fqdn, format!("{}:5349", c2.ip)),
    ];
    want.sort();
    assert_eq!(got, want, "{text}");
    // TargetDown leaves the probe jobs and the (up) blackbox exporter alone.
    for al in alerts["data"]["alerts"].as_array().unwrap() {
        if al["labels"]["alertname"] == "TargetDown" {
            let job = al["labels"]["job"].as_str().unwrap();
            assert!(
                !["blackbox", "coturn-turn", "coturn-turns", "vip-tls"].contains(&job),
                "{al}"
            );
        }
    }
}

#[test]
fn named_plans_cover_with_and_without_calls() {
    let plans: Vec<(&str, Plan)> = named_plans();
    assert!(plans.iter().any(|(_, p)| p.host(Role::Livekit).count == 0));
    assert!(plans.iter().any(|(_, p)| p.host(Role::Livekit).count > 0));
}

/// Metric names of one prefix the generated rules use (`haproxy_`, `patroni_`…).
fn rule_metrics(files: &[File], prefix: &str) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    for f in matching(files, |p| {
        p.starts_with(&format!("{MON}/etc/prometheus/rules/")) && !p.contains("/tests/")
    }) {
        for line in f
            .contents
            .lines()
            .filter(|l| l.trim_start().starts_with("expr: "))
        {
            let mut rest = line;
            while let Some(i) = rest.find(prefix) {
                let name: String = rest[i..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                // A name starts a token; inside another name or a quoted label value
                // (exported_job="pg_dump") it is none.
                let before = rest[..i].chars().last();
                if !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '"') {
                    out.insert(name);
                }
                rest = &rest[i + 1..];
            }
        }
    }
    out
}

/// The metrics the rules read exist in the programs that export them: HAProxy 2.6's
/// own exporter and etcd 3.4 (both started in the sandbox), Patroni's and Synapse's
/// sources (the validators' venv).
#[test]
fn rules_use_metrics_the_exporters_have() {
    let files = bundle(&Plan::default());
    // HAProxy: a backend with a server, scraped from the built-in exporter.
    let haproxy = rule_metrics(&files, "haproxy_");
    assert!(haproxy.len() >= 4, "{haproxy:?}");
    let sb = Sandbox::new("haproxy-metrics");
    let cfg = sb.write(
        "haproxy.cfg",
        "defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
         frontend stats\n  bind 127.0.0.1:8404\n  http-request use-service prometheus-exporter if { path /metrics }\n\
         backend synapse\n  server s1 127.0.0.1:81 check\n",
    );
    let out = sb.run(&format!(
        "{} -f {} -db > haproxy.log 2>&1 &\n\
         for i in $(seq 1 50); do curl -sf http://127.0.0.1:8404/metrics > metrics.txt && break; sleep 0.1; done\n\
         cat metrics.txt\n",
        tool("haproxy").display(),
        cfg.display()
    ));
    let text = String::from_utf8_lossy(&out.stdout);
    for m in &haproxy {
        assert!(
            text.lines()
                .any(|l| l.starts_with(&format!("{m}{{")) || l.starts_with(&format!("{m} "))),
            "HAProxy 2.6 exports no {m}"
        );
    }
    // etcd: a one-member cluster on loopback.
    let etcd_metrics = rule_metrics(&files, "etcd_");
    let sb = Sandbox::new("etcd-metrics");
    let out = sb.run(&format!(
        "{} --data-dir $PWD/etcd --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 > etcd.log 2>&1 &\n\
         for i in $(seq 1 100); do curl -sf http://127.0.0.1:2379/metrics > metrics.txt && break; sleep 0.1; done\n\
         cat metrics.txt\n",
        tool("etcd").display()
    ));
    let text = String::from_utf8_lossy(&out.stdout);
    for m in &etcd_metrics {
        assert!(
            text.lines().any(|l| l.starts_with(m.as_str())),
            "etcd exports no {m}"
        );
    }
    // Patroni and Synapse: the metric names in their sources.
    let site = |pkg: &str| -> std::path::PathBuf {
        let lib = sandbox::venv().join("lib");
        let py = std::fs::read_dir(&lib)
            .expect("venv lib")
            .flatten()
            .next()
            .expect("python dir")
            .path();
        py.join("site-packages").join(pkg)
    };
    let read_tree = |dir: std::path::PathBuf| -> String {
        let mut s = String::new();
        let mut stack = vec![dir];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d)
                .unwrap_or_else(|e| panic!("{}: {e}", d.display()))
                .flatten()
            {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "py") {
                    s.push_str(&std::fs::read_to_string(&p).unwrap_or_default());
                }
            }
        }
        s
    };
    let patroni = std::fs::read_to_string(site("patroni").join("api.py")).expect("patroni api.py");
    assert!(rule_metrics(&files, "patroni_").len() >= 5 && etcd_metrics.len() >= 2);
    assert!(rule_metrics(&files, "synapse_").len() >= 3);
    for m in rule_metrics(&files, "patroni_") {
        assert!(
            patroni.contains(&format!("\"{m}")) || patroni.contains(&format!("{m}{{")),
            "Patroni exports no {m}"
        );
    }
    let synapse = read_tree(site("synapse"));
    // synapse_planner_backup_*: the backup host's own metrics, checked below.
    for m in rule_metrics(&files, "synapse_")
        .into_iter()
        .filter(|m| !m.starts_with("synapse_planner_"))
    {
        let base = m.trim_end_matches("_bucket").trim_end_matches("_count");
        assert!(
            synapse.contains(&format!("\"{base}\"")),
            "Synapse defines no {m}"
        );
    }
    // The backup metrics: written by the backup host's scripts (write_metrics), each
    // with the labels job and type.
    let backup = rule_metrics(&files, "synapse_planner_backup_");
    assert_eq!(backup.len(), 3, "{backup:?}");
    let scripts: String = matching(&files, |p| {
        p.starts_with("hosts/backup/usr/local/sbin/") && p.ends_with(".sh")
    })
    .map(|f| f.contents.as_str())
    .collect();
    for m in &backup {
        assert!(
            scripts.contains(&format!(r#"echo "{m}{{job=\"$job\",type=\"$type\"}} "#)),
            "no backup script writes {m}"
        );
    }
}

/// promtool's unit tests are not vacuous: for every test case of every rule group (the
/// default plan), a copy with a wrong expectation must fail `promtool test rules`:
/// the expected alerts dropped (or, for a silent case, one alert expected), and the
/// first expected alert's label changed.
#[test]
fn wrong_rule_test_expectations_fail() {
    let promtool = tool("promtool");
    let files = bundle(&Plan::default());
    let sb = Sandbox::new("promtool-mutants");
    let mut script = install_prometheus_dir(&sb, &files);
    let mut mutants = Vec::new();
    for t in matching(&files, |p| {
        p.starts_with(&format!("{MON}/etc/prometheus/rules/tests/"))
    }) {
        let doc: serde_yaml::Value = serde_yaml::from_str(&t.contents).unwrap();
        let group = t
            .path
            .rsplit('/')
            .next()
            .unwrap()
            .trim_end_matches(".test.yml");
        let tests = doc["tests"].as_sequence().unwrap();
        for (i, case) in tests.iter().enumerate() {
            let name = case["name"].as_str().unwrap().to_string();
            let exp = case["alert_rule_test"][0]["exp_alerts"]
                .as_sequence()
                .unwrap()
                .clone();
            // 0. The control: the case alone, as generated, passes.
            let mut variants: Vec<(&str, serde_yaml::Value)> =
                vec![("as-is", serde_yaml::Value::Sequence(exp.clone()))];
            // 1. Firing expected silent, silent expected firing.
            let flipped: serde_yaml::Value = if exp.is_empty() {
                serde_yaml::from_str("[{exp_labels: {severity: warning}}]").unwrap()
            } else {
                serde_yaml::Value::Sequence(Vec::new())
            };
            variants.push(("flipped", flipped));
            // 2. One label of the first expected alert wrong (severity if it has no other).
            if let Some(first) = exp.first() {
                let mut changed = exp.clone();
                let labels = changed[0]["exp_labels"].as_mapping_mut().unwrap();
                let key = first["exp_labels"]
                    .as_mapping()
                    .unwrap()
                    .keys()
                    .find(|k| k.as_str() != Some("severity"))
                    .or_else(|| first["exp_labels"].as_mapping().unwrap().keys().next())
                    .unwrap()
                    .clone();
                labels.insert(key, "wrong-value".into());
                variants.push(("label", serde_yaml::Value::Sequence(changed)));
            }
            for (kind, exp_alerts) in variants {
                let mut m = doc.clone();
                let mut one = case.clone();
                one["alert_rule_test"][0]["exp_alerts"] = exp_alerts;
                m["tests"] = serde_yaml::Value::Sequence(vec![one]);
                let rel = format!("mutants/{group}-{i}-{kind}.yml");
                let path = sb.write(&rel, serde_yaml::to_string(&m).unwrap());
                mutants.push((name.clone(), kind, path));
            }
        }
    }
    assert!(mutants.len() > 150, "{} mutants", mutants.len());
    // Eight at a time; each line is one short write, so lines do not interleave.
    script.push_str(&format!(
        "ls mutants/*.yml | xargs -P 8 -I @ sh -c 'if {} test rules \"$1\" > /dev/null 2>&1; then echo \"PASSED $1\"; else echo \"FAILED $1\"; fi' sh @\n",
        promtool.display()
    ));
    let out = sb.run(&script);
    let text = output_text(&out);
    let mut wrong = Vec::new();
    for (name, kind, path) in &mutants {
        let rel = path.strip_prefix(sb.dir()).unwrap().display().to_string();
        let want = if *kind == "as-is" { "PASSED" } else { "FAILED" };
        if !text.lines().any(|l| l == format!("{want} {rel}")) {
            wrong.push(format!("{name} ({kind}): not {want}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "a case cannot tell a right expectation from a wrong one:\n{}\n{text}",
        wrong.join("\n")
    );
    // The backup group is among them.
    assert!(
        mutants
            .iter()
            .any(|(n, _, _)| n.starts_with("BackupMetricsMissing"))
    );
}

/// The backup rules agree with the backup host's files, for every named plan: every
/// script a description tells to run is on the backup host, and the cron file runs
/// each backup the rules watch.
#[test]
fn backup_rules_agree_with_the_backup_host() {
    for (name, plan) in named_plans() {
        let files = bundle(&plan);
        let topo = Topology::new(&plan);
        let b = topo.first(Role::Backup).expect("a backup host");
        let rules = file(&files, &format!("{MON}/etc/prometheus/rules/backup.yml"));
        let mut scripts = std::collections::BTreeSet::new();
        let mut rest = rules.contents.as_str();
        while let Some(i) = rest.find("/usr/local/sbin/") {
            let s: String = rest[i..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || "/-_.".contains(*c))
                .collect();
            scripts.insert(s.trim_end_matches('.').to_string());
            rest = &rest[i + 1..];
        }
        assert_eq!(
            scripts.iter().map(String::as_str).collect::<Vec<_>>(),
            [
                "/usr/local/sbin/backup-media.sh",
                "/usr/local/sbin/pg-dump-synapse.sh",
                "/usr/local/sbin/pgbackrest-backup.sh",
                "/usr/local/sbin/setup-pgbackrest.sh",
            ],
            "{name}"
        );
        for s in &scripts {
            let f = file(&files, &format!("hosts/{}{s}", b.name));
            assert_eq!(f.mode, 0o755, "{name}: {s}");
        }
        let cron = file(
            &files,
            &format!("hosts/{}/etc/cron.d/synapse-planner-backup", b.name),
        );
        let commands: Vec<&str> = cron
            .contents
            .lines()
            .filter(|l| !l.starts_with('#') && l.contains(" root "))
            .map(|l| l.split_once(" root ").unwrap().1)
            .collect();
        for c in [
            "/usr/local/sbin/pgbackrest-backup.sh full",
            "/usr/local/sbin/pgbackrest-backup.sh diff",
            "/usr/local/sbin/pgbackrest-backup.sh incr",
            "/usr/local/sbin/pgbackrest-backup.sh check",
        ] {
            assert!(
                commands.contains(&c),
                "{name}: cron runs no {c}: {commands:?}"
            );
        }
        for s in [
            "/usr/local/sbin/backup-media.sh",
            "/usr/local/sbin/pg-dump-synapse.sh",
        ] {
            assert!(
                commands.iter().any(|c| c.ends_with(s)),
                "{name}: cron runs no {s}: {commands:?}"
            );
        }
        // The absent() rule names the backup host itself.
        assert!(
            rules.contents.contains(&format!("instance=\"{}\"", b.fqdn)),
            "{name}"
        );
    }
}

/// One live run on the default plan, with the backup host's real scripts: pgBackRest,
/// rclone, pg_dump and runuser are stubs (pgbackrest full, check and incr succeed,
/// then an incr fails; the media backup fails; the pg_dump succeeds), the scripts write
/// into their default directory, where Debian's node_exporter (its compiled-in
/// textfile directory, on the backup host's address) reads them; Prometheus runs with
/// the generated config and rules. Then Prometheus must store the results with
/// job="node", instance=the backup host and the script's job in exported_job, and the
/// backup alerts must be exactly the failed incr, the failed media backup, and the
/// media backup that never succeeded (pending: BackupMetricsMissing waits an hour).
#[test]
fn backup_metrics_reach_the_rules_end_to_end() {
    let prometheus = tool("prometheus");
    let node_exporter = tool("prometheus-node-exporter");
    let jq = tool("jq");
    let plan = Plan::default();
    let files = bundle(&plan);
    let topo = Topology::new(&plan);
    let b = topo.first(Role::Backup).unwrap();
    let prom_args = args_of(&files, &format!("{MON}/etc/default/prometheus"));
    let sb = Sandbox::new("backup-metrics").with_addrs([b.ip]);
    let script_path = |s: &str| {
        let f = file(&files, &format!("hosts/{}/usr/local/sbin/{s}", b.name));
        sb.write(&format!("sbin/{s}"), &f.contents)
            .display()
            .to_string()
    };
    let pgbackrest = script_path("pgbackrest-backup.sh");
    let media = script_path("backup-media.sh");
    let pg_dump = script_path("pg-dump-synapse.sh");
    let mut script = install_prometheus_dir(&sb, &files);
    script.push_str(&format!(
        r#"textfile=/var/lib/prometheus/node-exporter
# Debian's package ships the directory; a private tmpfs over it in this namespace.
mount -t tmpfs tmpfs "$textfile"
mkdir -p stub /run/lock media dumps data
printf '#!/bin/sh\nexit "${{STUB_STATUS:-0}}"\n' > stub/runuser
printf '#!/bin/sh\necho "minio unreachable" >&2\nexit 1\n' > stub/rclone
printf '#!/bin/sh\nfor a in "$@"; do case "$a" in --file=*) : > "${{a#--file=}}" ;; esac; done\n' > stub/pg_dump
printf '#!/bin/sh\nexit 0\n' > stub/pg_restore
chmod 755 stub/*
export PATH="$PWD/stub:$PATH"
set +e
bash {pgbackrest} full; echo "RUN full $?"
bash {pgbackrest} check; echo "RUN check $?"
bash {pgbackrest} incr; echo "RUN incr $?"
# A second later (timestamps are whole seconds), the next incr fails.
sleep 1.1
STUB_STATUS=1 bash {pgbackrest} incr; echo "RUN incr-failing $?"
MEDIA_BACKUP_ROOT="$PWD/media" bash {media}; echo "RUN media $?"
PGDUMP_BIN="$PWD/stub" PGDUMP_DIR="$PWD/dumps" bash {pg_dump}; echo "RUN pg_dump $?"
echo "FILES $(ls "$textfile" | tr '\n' ' ')"
echo "DEFAULT $({node_exporter} --help 2>&1 | grep -o 'collector.textfile.directory="[^"]*"')"
{node_exporter} --web.listen-address={ip}:9100 --collector.disable-defaults --collector.textfile > node.log 2>&1 &
{prometheus} --config.file=/etc/prometheus/prometheus.yml --storage.tsdb.path="$PWD/data" {prom_args} > prom.log 2>&1 &
wait_for() {{
  for _ in $(seq 1 300); do "$@" > /dev/null 2>&1 && return 0; sleep 0.2; done
  echo "timed out: $*"
  return 1
}}
q() {{ curl -sfG http://127.0.0.1:9090/api/v1/query --data-urlencode "query=$1"; }}
series_in() {{ [ "$(q 'count({{__name__=~"synapse_planner_backup_.*"}})' | {jq} -r '.data.result[0].value[1] // 0')" = 10 ]; }}
# The backup alerts once the rules have seen the scraped results (before that,
# BackupMetricsMissing is pending for all three jobs).
alerts_in() {{
  curl -sf http://127.0.0.1:9090/api/v1/alerts | {jq} -e '[.data.alerts[] | select(.labels.alertname | test("Backup|PgDump|PgBackRest"))
    | "\(.labels.alertname) \(.labels.exported_job) \(.labels.type) \(.state)"] | sort
    == ["BackupMetricsMissing media full pending", "MediaBackupFailed media full firing", "PgBackRestBackupFailed pgbackrest incr firing"]'
}}
wait_for curl -sf http://{ip}:9100/metrics || {{ cat node.log; exit 1; }}
wait_for series_in || {{ cat prom.log; curl -s http://{ip}:9100/metrics | grep synapse_planner; exit 1; }}
wait_for alerts_in || {{ curl -s http://127.0.0.1:9090/api/v1/alerts; exit 1; }}
echo "SERIES $(q '{{__name__=~"synapse_planner_backup_.*"}}')"
echo "ALERTS $(curl -sf http://127.0.0.1:9090/api/v1/alerts)"
exit 0
"#,
        node_exporter = node_exporter.display(),
        prometheus = prometheus.display(),
        jq = jq.display(),
        ip = b.ip,
    ));
    let out = sb.run(&script);
    let text = output_text(&out);
    assert_ok(&out, "backup metrics end to end");
    let line = |key: &str| -> &str {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{key} ")))
            .unwrap_or_else(|| panic!("no {key} line:\n{text}"))
    };
    // The scripts ran as intended (the failing ones exit 1) and wrote into the
    // directory node_exporter reads by default.
    for (run, status) in [
        ("full", 0),
        ("check", 0),
        ("incr", 0),
        ("incr-failing", 1),
        ("media", 1),
        ("pg_dump", 0),
    ] {
        assert!(
            text.lines().any(|l| l == format!("RUN {run} {status}")),
            "{run} should exit {status}:\n{text}"
        );
    }
    assert_eq!(
        line("DEFAULT"),
        r#"collector.textfile.directory="/var/lib/prometheus/node-exporter""#,
        "{text}"
    );
    assert_eq!(
        line("FILES").trim(),
        "synapse_planner_backup_media_full_failure.prom synapse_planner_backup_pg_dump_full.prom \
         synapse_planner_backup_pgbackrest_check.prom synapse_planner_backup_pgbackrest_full.prom \
         synapse_planner_backup_pgbackrest_incr.prom synapse_planner_backup_pgbackrest_incr_failure.prom",
        "{text}"
    );
    // What Prometheus stores: the script's job moved to exported_job.
    let series: serde_json::Value = serde_json::from_str(line("SERIES")).unwrap();
    let mut got: Vec<String> = series["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let m = r["metric"].as_object().unwrap();
            assert_eq!(m["job"], "node", "{r}");
            assert_eq!(m["instance"], b.fqdn.as_str(), "{r}");
            let mut keys: Vec<&str> = m.keys().map(String::as_str).collect();
            keys.sort();
            assert_eq!(
                keys,
                ["__name__", "exported_job", "instance", "job", "type"],
                "{r}"
            );
            format!(
                "{} {} {}",
                m["__name__"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("synapse_planner_backup_"),
                m["exported_job"].as_str().unwrap(),
                m["type"].as_str().unwrap()
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            "last_duration_seconds pg_dump full",
            "last_duration_seconds pgbackrest check",
            "last_duration_seconds pgbackrest full",
            "last_duration_seconds pgbackrest incr",
            "last_failure_timestamp_seconds media full",
            "last_failure_timestamp_seconds pgbackrest incr",
            "last_success_timestamp_seconds pg_dump full",
            "last_success_timestamp_seconds pgbackrest check",
            "last_success_timestamp_seconds pgbackrest full",
            "last_success_timestamp_seconds pgbackrest incr",
        ],
        "{text}"
    );
    // The backup alerts: exactly these, nothing late (everything just ran).
    let alerts: serde_json::Value = serde_json::from_str(line("ALERTS")).unwrap();
    let mut got: Vec<String> = alerts["data"]["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| {
            let n = a["labels"]["alertname"].as_str().unwrap();
            n.contains("Backup") || n.contains("PgDump") || n.contains("PgBackRest")
        })
        .map(|a| {
            let l = &a["labels"];
            assert_eq!(l["instance"], b.fqdn.as_str(), "{a}");
            format!(
                "{} {} {} {}",
                l["alertname"].as_str().unwrap(),
                l["exported_job"].as_str().unwrap_or(""),
                l["type"].as_str().unwrap_or(""),
                a["state"].as_str().unwrap()
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            "BackupMetricsMissing media full pending",
            "MediaBackupFailed media full firing",
            "PgBackRestBackupFailed pgbackrest incr firing",
        ],
        "{text}"
    );
}

// ---------------------------------------------------------------------------------
// Alerts from the plan's budgets: rules/budgets.yml and rules/disks.yml

/// One alerting rule of a generated rule file.
struct Rule {
    expr: String,
    for_: String,
    severity: String,
    summary: String,
    description: String,
}

/// The rules of `rules/<group>.yml`, by alert name, in file order.
fn rules_of(files: &[File], group: &str) -> Vec<(String, Rule)> {
    let f = file(files, &format!("{MON}/etc/prometheus/rules/{group}.yml"));
    let y: serde_yaml::Value = serde_yaml::from_str(&f.contents).unwrap();
    let text = |v: &serde_yaml::Value| v.as_str().unwrap_or_default().to_string();
    y["groups"][0]["rules"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|r| {
            (
                text(&r["alert"]),
                Rule {
                    expr: text(&r["expr"]),
                    for_: text(&r["for"]),
                    severity: text(&r["labels"]["severity"]),
                    summary: text(&r["annotations"]["summary"]),
                    description: text(&r["annotations"]["description"]),
                },
            )
        })
        .collect()
}

/// `{{ $labels.x }}` filled in and `{{ "{{" }}` (how the generator writes a `{{` of a
/// plan value) printed as `{{`: the only template syntax the rules use. One pass, as
/// Go's text/template: a label's value is printed, not read as template.
fn render(template: &str, labels: &[(&str, String)]) -> String {
    const OPEN: &str = r#"{{ "{{" }}"#;
    let mut out = String::new();
    let mut rest = template;
    'actions: while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if let Some(after) = rest.strip_prefix(OPEN) {
            out.push_str("{{");
            rest = after;
            continue;
        }
        for (k, v) in labels {
            if let Some(after) = rest.strip_prefix(&format!("{{{{ $labels.{k} }}}}")) {
                out.push_str(v);
                rest = after;
                continue 'actions;
            }
        }
        out.push_str("{{");
        rest = &rest[2..];
    }
    out.push_str(rest);
    out
}

/// A YAML single-quoted scalar.
fn yq(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// One promtool test case: input series, evaluation time, the alert, and the labels it
/// must fire with (None: must stay silent).
struct PromCase {
    name: String,
    series: Vec<(String, String)>,
    eval: &'static str,
    alert: String,
    fires: Option<Vec<(&'static str, String)>>,
}

/// A promtool test file for `rule_file` (same directory) with `cases`; the expected
/// annotations are the rule's, rendered with the expected labels.
fn promtool_tests(
    rule_file: &str,
    step: &str,
    rules: &[(String, Rule)],
    cases: &[PromCase],
) -> String {
    let mut o = format!("rule_files:\n  - {rule_file}\nevaluation_interval: {step}\ntests:\n");
    for c in cases {
        let rule = &rules
            .iter()
            .find(|(n, _)| *n == c.alert)
            .unwrap_or_else(|| panic!("no rule {}", c.alert))
            .1;
        o.push_str(&format!(
            "  - name: {}\n    interval: 1m\n    input_series:\n",
            yq(&c.name)
        ));
        for (series, values) in &c.series {
            o.push_str(&format!(
                "      - series: {}\n        values: {}\n",
                yq(series),
                yq(values)
            ));
        }
        o.push_str(&format!(
            "    alert_rule_test:\n      - eval_time: {}\n        alertname: {}\n",
            c.eval, c.alert
        ));
        match &c.fires {
            None => o.push_str("        exp_alerts: []\n"),
            Some(labels) => {
                o.push_str(&format!(
                    "        exp_alerts:\n          - exp_labels:\n              severity: {}\n",
                    rule.severity
                ));
                for (k, v) in labels {
                    o.push_str(&format!("              {k}: {}\n", yq(v)));
                }
                o.push_str(&format!(
                    "            exp_annotations:\n              summary: {}\n              description: {}\n",
                    yq(&render(&rule.summary, labels)),
                    yq(&render(&rule.description, labels))
                ));
            }
        }
    }
    o
}

/// The thresholds the budget rules must have, computed here from the report on their
/// own (issue 5, item 7), not from the generator's code.
struct Expected {
    pg_usable: u64,
    pg_warn: u64,
    pg_max: u64,
    process_bytes: u64,
    /// (set size, parity, read quorum, write quorum) with erasure coding.
    erasure: Option<(u64, u64, u64, u64)>,
    /// (limit, warning above, critical at) with coturn hosts.
    turn: Option<(u64, u64, u64)>,
}

fn expected(plan: &Plan) -> Expected {
    let r = synapse_planner::report::Report::new(plan);
    let c = &r.connections;
    let pg_usable = c.postgres_available.max(1) as u64;
    let os = &r.object_storage;
    let t = &r.calls.turn;
    let ports = plan.coturn.max_port + 1 - plan.coturn.min_port;
    // coturn's total-quota (0 = none), unless the report's max-allocations-per-node is
    // lower (ports or file descriptors run out first); the ports when neither is set.
    let limit = match (t.total_quota, t.max_allocations_per_node) {
        (q, m) if m > 0 && (q == 0 || m < q) => m,
        (q, _) if q > 0 => q,
        _ => ports,
    };
    Expected {
        pg_usable,
        // 80 % of the usable connections, floored: "above 80 %" of a count.
        pg_warn: pg_usable * 80 / 100,
        pg_max: c.postgres_max_connections,
        // synapse.process-bound-gib (hundredths of a GiB) in bytes: where cache
        // autotuning holds a process.
        process_bytes: r.synapse.process_bound_gib.0 * (1 << 30) / 100,
        erasure: (os.parity > 0 && os.parity < os.set_size).then_some((
            os.set_size,
            os.parity,
            os.read_quorum,
            os.write_quorum,
        )),
        turn: (plan.host(Role::Coturn).count > 0).then_some((
            limit,
            limit * 80 / 100,
            (limit * 95).div_ceil(100),
        )),
    }
}

/// The budget rules, for every named plan: each expression compares with the number
/// this test computes from the report, and the annotations quote it and name the plan
/// keys; then promtool runs this test's own series (just below and just above each
/// threshold) against the generated rule files, inside the sandbox. A rule whose
/// threshold drifts from the report fails here.
#[test]
fn budget_rules_follow_the_report() {
    let promtool = tool("promtool");
    for (name, plan) in named_plans() {
        let files = bundle(&plan);
        let topo = Topology::new(&plan);
        let e = expected(&plan);
        let budgets = rules_of(&files, "budgets");
        let disks = rules_of(&files, "disks");
        let rule = |n: &str| -> &Rule {
            &budgets
                .iter()
                .chain(disks.iter())
                .find(|(r, _)| r == n)
                .unwrap_or_else(|| panic!("{name}: no rule {n}"))
                .1
        };
        let synapse_sum =
            r#"sum by (instance) (pg_stat_activity_count{job="postgres",datname="synapse"})"#;
        let mut want_exprs = vec![
            (
                "PostgresSynapseConnectionsHigh",
                format!("{synapse_sum} > {}", e.pg_warn),
            ),
            (
                "PostgresSynapseConnectionsExhausted",
                format!("{synapse_sum} >= {}", e.pg_usable),
            ),
            (
                "PostgresMaxConnectionsNotAsPlanned",
                format!(
                    r#"max by (instance) (pg_settings_max_connections{{job="postgres"}}) != {}"#,
                    e.pg_max
                ),
            ),
        ];
        // Every Synapse process: the `job` labels of prometheus.yml's synapse targets.
        let syn = topo.first(Role::Synapse).unwrap();
        let prom: serde_yaml::Value = serde_yaml::from_str(
            &file(&files, &format!("{MON}/etc/prometheus/prometheus.yml")).contents,
        )
        .unwrap();
        let mut jobs: Vec<String> = Vec::new();
        for j in prom["scrape_configs"].as_sequence().unwrap() {
            if j["job_name"] == "synapse" {
                for c in j["static_configs"].as_sequence().unwrap() {
                    let job = c["labels"]["job"].as_str().unwrap().to_string();
                    if !jobs.contains(&job) {
                        jobs.push(job);
                    }
                }
            }
        }
        assert_eq!(jobs[0], "master", "{name}");
        want_exprs.push((
            "SynapseProcessOverRamBudget",
            format!(
                r#"process_resident_memory_bytes{{job=~"{}",instance="{}"}} > {}"#,
                jobs.join("|"),
                syn.fqdn,
                e.process_bytes
            ),
        ));
        if let Some((set, parity, _, _)) = e.erasure {
            want_exprs.push((
                "MinioErasureSetAtParity",
                format!(
                    r#"{set} - max by (pool, set) (minio_cluster_health_erasure_set_online_drives{{job="minio"}}) >= {parity}"#
                ),
            ));
        }
        if let Some((_, warn, crit)) = e.turn {
            want_exprs.push((
                "CoturnAllocationsHigh",
                format!(r#"synapse_planner_coturn_relay_allocations{{job="node"}} > {warn}"#),
            ));
            want_exprs.push((
                "CoturnAllocationsAtQuota",
                format!(r#"synapse_planner_coturn_relay_allocations{{job="node"}} >= {crit}"#),
            ));
        }
        for (n, want) in &want_exprs {
            assert_eq!(&rule(n).expr, want, "{name}: {n}");
        }
        // Only with erasure coding, only with coturn.
        let has = |n: &str| budgets.iter().any(|(r, _)| r == n);
        assert_eq!(
            has("MinioErasureSetAtParity"),
            e.erasure.is_some(),
            "{name}"
        );
        assert_eq!(has("CoturnAllocationsHigh"), e.turn.is_some(), "{name}");
        assert_eq!(has("CoturnAllocationsUnknown"), e.turn.is_some(), "{name}");

        // The annotations quote the numbers and name the plan keys to change.
        let quote = |n: &str, numbers: &[u64], keys: &[&str]| {
            let r = rule(n);
            let text = format!("{} {}", r.summary, r.description);
            for x in numbers {
                assert!(
                    text.contains(&x.to_string()),
                    "{name}: {n} does not say {x}"
                );
            }
            for k in keys {
                assert!(text.contains(k), "{name}: {n} does not name {k}");
            }
            assert!(
                r.description.contains("Why: ") && r.description.contains("Change: "),
                "{name}: {n}"
            );
        };
        quote(
            "PostgresSynapseConnectionsHigh",
            &[e.pg_warn, e.pg_usable, e.pg_max],
            &["postgres.max-connections", "pgbouncer.default-pool-size"],
        );
        quote(
            "PostgresSynapseConnectionsExhausted",
            &[e.pg_usable],
            &["postgres.max-connections", "pgbouncer.reserve-pool-size"],
        );
        quote(
            "PostgresMaxConnectionsNotAsPlanned",
            &[e.pg_max],
            &["postgres.max-connections"],
        );
        quote(
            "SynapseProcessOverRamBudget",
            &[],
            &[
                "assumptions.synapse-process-base-mib",
                "jemalloc-allocated",
                "an assumption",
                "cache_autotuning",
            ],
        );
        if let Some((set, parity, rq, wq)) = e.erasure {
            quote(
                "MinioErasureSetAtParity",
                &[set, parity, rq, wq],
                &["minio.parity"],
            );
        }
        if let Some((limit, warn, crit)) = e.turn {
            quote(
                "CoturnAllocationsHigh",
                &[limit, warn],
                &["hosts.coturn.count"],
            );
            quote(
                "CoturnAllocationsAtQuota",
                &[limit, crit],
                &["hosts.coturn.count"],
            );
        }

        // promtool on this test's own series.
        let mut cases = Vec::new();
        let pg = topo.first(Role::Patroni).unwrap();
        let on_pg = vec![("instance", pg.fqdn.clone())];
        let conns = |n: u64| {
            vec![(
                format!(
                    r#"pg_stat_activity_count{{job="postgres",instance="{}",datname="synapse",state="idle"}}"#,
                    pg.fqdn
                ),
                format!("{n}x20"),
            )]
        };
        let mut pair = |alert: &str,
                        above: Vec<(String, String)>,
                        below: Vec<(String, String)>,
                        eval: &'static str,
                        labels: Vec<(&'static str, String)>| {
            cases.push(PromCase {
                name: format!("{alert} just above"),
                series: above,
                eval,
                alert: alert.to_string(),
                fires: Some(labels),
            });
            cases.push(PromCase {
                name: format!("{alert} just below"),
                series: below,
                eval,
                alert: alert.to_string(),
                fires: None,
            });
        };
        pair(
            "PostgresSynapseConnectionsHigh",
            conns(e.pg_warn + 1),
            conns(e.pg_warn),
            "20m",
            on_pg.clone(),
        );
        pair(
            "PostgresSynapseConnectionsExhausted",
            conns(e.pg_usable),
            conns(e.pg_usable - 1),
            "20m",
            on_pg.clone(),
        );
        let max_conn = |v: u64| {
            vec![(
                format!(
                    r#"pg_settings_max_connections{{job="postgres",instance="{}"}}"#,
                    pg.fqdn
                ),
                format!("{v}x40"),
            )]
        };
        pair(
            "PostgresMaxConnectionsNotAsPlanned",
            max_conn(e.pg_max - 1),
            max_conn(e.pg_max),
            "40m",
            on_pg.clone(),
        );
        let main = |v: u64| {
            vec![(
                format!(
                    r#"process_resident_memory_bytes{{job="master",instance="{}",index="0"}}"#,
                    syn.fqdn
                ),
                format!("{v}x40"),
            )]
        };
        pair(
            "SynapseProcessOverRamBudget",
            main(e.process_bytes + 1),
            main(e.process_bytes),
            "40m",
            vec![
                ("job", "master".to_string()),
                ("instance", syn.fqdn.clone()),
                ("index", "0".to_string()),
            ],
        );
        if let Some((set, parity, _, _)) = e.erasure {
            let m = topo.first(Role::Minio).unwrap();
            let online = |v: u64| {
                vec![(
                    format!(
                        r#"minio_cluster_health_erasure_set_online_drives{{job="minio",instance="{}",pool="0",set="0"}}"#,
                        m.fqdn
                    ),
                    format!("{v}x10"),
                )]
            };
            pair(
                "MinioErasureSetAtParity",
                online(set - parity),
                online(set - parity + 1),
                "10m",
                vec![("pool", "0".to_string()), ("set", "0".to_string())],
            );
        }
        if let Some((_, warn, crit)) = e.turn {
            let c = topo.first(Role::Coturn).unwrap();
            let allocations = |v: u64| {
                vec![(
                    format!(
                        r#"synapse_planner_coturn_relay_allocations{{job="node",instance="{}"}}"#,
                        c.fqdn
                    ),
                    format!("{v}x10"),
                )]
            };
            let on_c = vec![("job", "node".to_string()), ("instance", c.fqdn.clone())];
            pair(
                "CoturnAllocationsHigh",
                allocations(warn + 1),
                allocations(warn),
                "10m",
                on_c.clone(),
            );
            pair(
                "CoturnAllocationsAtQuota",
                allocations(crit),
                allocations(crit - 1),
                "10m",
                on_c,
            );
        }
        let budget_tests = promtool_tests("budgets.yml", "1m", &budgets, &cases);

        // Disks: the root filesystem of the role's first host (every data path is below
        // it), or MinIO's first drive, losing a 1 TiB disk's worth in 60 days: full in
        // 29.8 days at the start (fires after the 12 h `for`), 30.2 at the end (silent).
        let mut disk_cases = Vec::new();
        for (role, alert) in [
            (Role::Synapse, "SynapseDiskFillsWithin30Days"),
            (Role::Patroni, "PostgresDiskFillsWithin30Days"),
            (Role::Minio, "MinioDriveFillsWithin30Days"),
            (Role::Monitoring, "PrometheusDiskFillsWithin30Days"),
            (Role::Backup, "BackupDiskFillsWithin30Days"),
        ] {
            let Some(h) = topo.first(role) else {
                assert!(!disks.iter().any(|(n, _)| n == alert), "{name}: {alert}");
                continue;
            };
            let r = rule(alert);
            assert!(
                r.expr
                    .starts_with("predict_linear(node_filesystem_avail_bytes{")
                    && r.expr.ends_with("}[6h], 30 * 86400) < 0")
                    && r.for_ == "12h",
                "{name}: {alert}: {} for {}",
                r.expr,
                r.for_
            );
            let mount = if role == Role::Minio { "/data1" } else { "/" };
            let per_min: u64 = (1 << 40) / 86_400;
            let day = per_min * 1_440;
            let fs = |start: u64| {
                vec![(
                    format!(
                        r#"node_filesystem_avail_bytes{{job="node",instance="{}",device="/dev/sda1",fstype="ext4",mountpoint="{mount}"}}"#,
                        h.fqdn
                    ),
                    format!("{start}-{per_min}x780"),
                )]
            };
            disk_cases.push(PromCase {
                name: format!("{alert} 29.8 days"),
                series: fs(day * 298 / 10),
                eval: "13h",
                alert: alert.to_string(),
                fires: Some(vec![
                    ("job", "node".to_string()),
                    ("instance", h.fqdn.clone()),
                    ("device", "/dev/sda1".to_string()),
                    ("fstype", "ext4".to_string()),
                    ("mountpoint", mount.to_string()),
                ]),
            });
            disk_cases.push(PromCase {
                name: format!("{alert} 30.2 days"),
                series: fs(day * 302 / 10 + per_min * 780),
                eval: "13h",
                alert: alert.to_string(),
                fires: None,
            });
        }
        let disk_tests = promtool_tests("disks.yml", "10m", &disks, &disk_cases);

        let sb = Sandbox::new("budget-rules");
        for g in ["budgets", "disks"] {
            let f = file(&files, &format!("{MON}/etc/prometheus/rules/{g}.yml"));
            sb.write(&format!("{g}.yml"), &f.contents);
        }
        sb.write("budgets.test.yml", &budget_tests);
        sb.write("disks.test.yml", &disk_tests);
        let p = promtool.display();
        let out = sb.run(&format!(
            "set -e\n{p} check rules budgets.yml disks.yml\n{p} test rules budgets.test.yml\n{p} test rules disks.test.yml\n"
        ));
        assert_ok(
            &out,
            &format!("{name}: promtool on the budget rules\n{budget_tests}\n{disk_tests}"),
        );
        assert_eq!(
            output_text(&out).matches("SUCCESS").count(),
            4,
            "{name}: {}",
            output_text(&out)
        );
    }
}

/// The disk rules watch where the other generated files put the data: PostgreSQL's
/// data_dir (Patroni), the pgBackRest repository and the backup scripts' directories,
/// MinIO's drives (MINIO_VOLUMES), Prometheus' TSDB (Debian's default
/// --storage.tsdb.path), the playbook's /matrix (the media store the backup copies).
#[test]
fn disk_rules_watch_the_data_the_other_files_place() {
    let prometheus = tool("prometheus");
    let help = std::process::Command::new(&prometheus)
        .arg("--help")
        .output()
        .expect("prometheus --help");
    let help = output_text(&help);
    let tsdb = help
        .split("--storage.tsdb.path=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("Debian's default --storage.tsdb.path")
        .trim_end_matches('/')
        .to_string();
    for (name, plan) in named_plans() {
        let files = bundle(&plan);
        let topo = Topology::new(&plan);
        let disks = rules_of(&files, "disks");
        // The mountpoint=~ alternatives and instance=~ hosts of a rule.
        let matcher = |alert: &str, label: &str| -> Vec<String> {
            let expr = &disks
                .iter()
                .find(|(n, _)| n == alert)
                .unwrap_or_else(|| panic!("{name}: no {alert}"))
                .1
                .expr;
            // The matcher's value: a PromQL (JSON-escaped) string holding an exact
            // alternation of regex-quoted values (syntax::promql::any_of).
            let quoted = expr
                .split(&format!("{label}=~"))
                .nth(1)
                .and_then(|r| {
                    serde_json::Deserializer::from_str(r)
                        .into_iter::<String>()
                        .next()
                })
                .and_then(Result::ok)
                .unwrap_or_else(|| panic!("{name}: {alert}: no {label}"));
            quoted
                .split('|')
                .map(|alt| {
                    let mut out = String::new();
                    let mut chars = alt.chars();
                    while let Some(c) = chars.next() {
                        out.push(if c == '\\' {
                            chars.next().unwrap_or(c)
                        } else {
                            c
                        });
                    }
                    out
                })
                .collect()
        };
        // A path is watched when its filesystem's mount point can be any directory
        // from / down to the path itself (`under`: down to a watched directory above it).
        let check = |alert: &str, path: &str, under: bool| {
            let mounts = matcher(alert, "mountpoint");
            let mut p = if under {
                mounts
                    .iter()
                    .filter(|m| {
                        m.as_str() == "/"
                            || path == m.as_str()
                            || path.starts_with(&format!("{m}/"))
                    })
                    .max_by_key(|m| m.len())
                    .unwrap_or_else(|| panic!("{name}: {alert} watches nothing above {path}"))
                    .clone()
            } else {
                path.to_string()
            };
            loop {
                assert!(
                    mounts.contains(&p),
                    "{name}: {alert} does not watch {p} (for {path}): {mounts:?}"
                );
                match p.rsplit_once('/') {
                    Some(("", _)) if p != "/" => p = "/".to_string(),
                    Some((parent, _)) if !parent.is_empty() => p = parent.to_string(),
                    _ => break,
                }
            }
        };
        let watched = |alert: &str, path: &str| check(alert, path, false);
        let hosts_of =
            |role| -> Vec<String> { topo.role(role).map(|h| h.fqdn.clone()).collect::<Vec<_>>() };
        for (alert, role) in [
            ("SynapseDiskFillsWithin30Days", Role::Synapse),
            ("PostgresDiskFillsWithin30Days", Role::Patroni),
            ("MinioDriveFillsWithin30Days", Role::Minio),
            ("PrometheusDiskFillsWithin30Days", Role::Monitoring),
            ("BackupDiskFillsWithin30Days", Role::Backup),
        ] {
            assert_eq!(
                matcher(alert, "instance"),
                hosts_of(role),
                "{name}: {alert}"
            );
        }
        // Patroni's data_dir.
        let p1 = topo.first(Role::Patroni).unwrap();
        let cfg: serde_yaml::Value = serde_yaml::from_str(
            &file(&files, &format!("hosts/{}/etc/patroni/config.yml", p1.name)).contents,
        )
        .unwrap();
        let data_dir = cfg["postgresql"]["data_dir"].as_str().unwrap();
        watched("PostgresDiskFillsWithin30Days", data_dir);
        // The backup host's repository and directories.
        let b = topo.first(Role::Backup).unwrap();
        let conf = &file(&files, &format!("hosts/{}/etc/pgbackrest.conf", b.name)).contents;
        let repo = conf
            .lines()
            .find_map(|l| l.strip_prefix("repo1-path="))
            .expect("repo1-path");
        watched("BackupDiskFillsWithin30Days", repo);
        for (script, var) in [
            ("backup-media.sh", "MEDIA_BACKUP_ROOT"),
            ("pg-dump-synapse.sh", "PGDUMP_DIR"),
        ] {
            let text = &file(&files, &format!("hosts/{}/usr/local/sbin/{script}", b.name)).contents;
            let dir = text
                .split(&format!("${{{var}:-"))
                .nth(1)
                .and_then(|r| r.split('}').next())
                .unwrap_or_else(|| panic!("{name}: {script} has no default {var}"));
            watched("BackupDiskFillsWithin30Days", dir);
        }
        // The media store the backup copies from the Synapse host is under /matrix.
        let media = &file(
            &files,
            &format!("hosts/{}/usr/local/sbin/backup-media.sh", b.name),
        )
        .contents;
        assert!(
            media.contains("/matrix/synapse/storage/media-store"),
            "{name}"
        );
        check(
            "SynapseDiskFillsWithin30Days",
            "/matrix/synapse/storage/media-store",
            true,
        );
        // Prometheus' TSDB: /etc/default/prometheus sets no other path.
        let args = args_of(&files, &format!("{MON}/etc/default/prometheus"));
        assert!(!args.contains("--storage.tsdb.path"), "{name}: {args}");
        watched("PrometheusDiskFillsWithin30Days", &tsdb);
        // MinIO: exactly the drives of MINIO_VOLUMES (`/data{1...D}` or `/data1`).
        let m1 = topo.first(Role::Minio).unwrap();
        let env = &file(&files, &format!("hosts/{}/etc/default/minio", m1.name)).contents;
        let volumes = env
            .lines()
            .find_map(|l| l.strip_prefix("MINIO_VOLUMES="))
            .unwrap()
            .trim_matches(['"', '\'']);
        let drives = volumes.rsplit("/data").next().unwrap();
        let count: u64 = match drives.strip_prefix("{1...") {
            Some(n) => n.trim_end_matches('}').parse().unwrap(),
            None => 1,
        };
        let want: Vec<String> = (1..=count).map(|i| format!("/data{i}")).collect();
        assert_eq!(
            matcher("MinioDriveFillsWithin30Days", "mountpoint"),
            want,
            "{name}: {volumes}"
        );
        assert_eq!(count, plan.minio.drives_per_node.max(1), "{name}");
    }
}

/// The coturn allocations units on each coturn host: systemd-analyze verify on the
/// service, the timer and coturn.service (Debian's, with the drop-in), with the script
/// at its path; the drop-in pulls in the timer, the timer runs the service every 15 s.
#[test]
fn coturn_allocation_units_verify() {
    let analyze = tool("systemd-analyze");
    // Debian's coturn.service, which the drop-in extends.
    tool("/lib/systemd/system/coturn.service");
    for (name, plan) in named_plans() {
        let files = bundle(&plan);
        let topo = Topology::new(&plan);
        let hosts: Vec<_> = topo.role(Role::Coturn).collect();
        let units: Vec<&File> = matching(&files, |p| {
            p.starts_with("hosts/coturn") && p.contains("/etc/systemd/system/")
        })
        .collect();
        assert_eq!(units.len(), 3 * hosts.len(), "{name}");
        for h in hosts {
            let f = |p: &str| file(&files, &format!("hosts/{}{p}", h.name));
            let unit = "synapse-planner-coturn-allocations";
            let service = f(&format!("/etc/systemd/system/{unit}.service"));
            let timer = f(&format!("/etc/systemd/system/{unit}.timer"));
            let drop_in =
                f("/etc/systemd/system/coturn.service.d/synapse-planner-allocations.conf");
            let script = f(COTURN_SCRIPT);
            assert!(
                drop_in
                    .contents
                    .contains(&format!("\nWants={unit}.timer\n")),
                "{name}"
            );
            assert!(timer.contents.contains("\nOnUnitActiveSec=15s\n"), "{name}");
            assert!(
                service
                    .contents
                    .contains(&format!("\nExecStart={COTURN_SCRIPT}\n")),
                "{name}"
            );
            // The script counts the plan's relay range.
            for line in [
                format!("min_port={}\n", plan.coturn.min_port),
                format!("max_port={}\n", plan.coturn.max_port),
            ] {
                assert!(script.contents.contains(&line), "{name}: {line}");
            }
            let sb = Sandbox::new("coturn-units");
            let dir = sb.dir().display().to_string();
            sb.write("unit/service", &service.contents);
            sb.write("unit/timer", &timer.contents);
            sb.write("unit/drop-in", &drop_in.contents);
            sb.write("unit/script", &script.contents);
            let out = sb.run(&format!(
                "set -e\n\
                 mkdir -p ov/sys/u ov/sys/w ov/sbin/u ov/sbin/w\n\
                 mount -t overlay overlay -o lowerdir=/etc/systemd/system,upperdir={dir}/ov/sys/u,workdir={dir}/ov/sys/w /etc/systemd/system\n\
                 mount -t overlay overlay -o lowerdir=/usr/local/sbin,upperdir={dir}/ov/sbin/u,workdir={dir}/ov/sbin/w /usr/local/sbin\n\
                 install -m 0755 unit/script {COTURN_SCRIPT}\n\
                 install -m 0644 unit/service /etc/systemd/system/{unit}.service\n\
                 install -m 0644 unit/timer /etc/systemd/system/{unit}.timer\n\
                 install -D -m 0644 unit/drop-in /etc/systemd/system/coturn.service.d/synapse-planner-allocations.conf\n\
                 {a} verify /etc/systemd/system/{unit}.timer /etc/systemd/system/{unit}.service coturn.service 2>&1\n\
                 # The control: verify reads the drop-in (a bad key in it is reported).\n\
                 echo 'NoSuchKey=1' >> /etc/systemd/system/coturn.service.d/synapse-planner-allocations.conf\n\
                 echo CONTROL $({a} verify coturn.service 2>&1 | grep -c 'synapse-planner-allocations.conf.*NoSuchKey')\n",
                a = analyze.display(),
            ));
            assert_ok(&out, &format!("{name}: systemd-analyze verify {unit}"));
            let text = output_text(&out);
            assert_eq!(text.trim(), "CONTROL 1", "{name}: {text}");
        }
    }
}

/// One live run on the default plan: coturn started with the bundle's turnserver.conf
/// on coturn1's address, relay allocations made with coturn's own test client, then the
/// generated allocations script (as root, like its service) writes the count into
/// node_exporter's textfile directory; Debian's node_exporter (on coturn1's address,
/// textfile and filesystem collectors) and Prometheus with the generated config and
/// rules pick it up. The figure must equal the allocations coturn logged, Prometheus
/// must store it with job node and instance coturn1 (what the rules select), the
/// staleness rule must see the file, and CoturnAllocationsUnknown must be pending for
/// coturn2 only (its metric is absent). Also: Debian's coturn has no Prometheus option.
#[test]
fn coturn_allocations_reach_the_rules_end_to_end() {
    let prometheus = tool("prometheus");
    let node_exporter = tool("prometheus-node-exporter");
    let turnserver = tool("turnserver");
    let uclient = tool("turnutils_uclient");
    let jq = tool("jq");
    let plan = Plan::default();
    let files = bundle(&plan);
    let topo = Topology::new(&plan);
    let coturn: Vec<_> = topo.role(Role::Coturn).collect();
    assert!(coturn.len() >= 2, "the default plan has two coturn hosts");
    let (c1, c2) = (coturn[0], coturn[1]);
    let conf = file(&files, &format!("hosts/{}/etc/turnserver.conf", c1.name));
    let secret = conf
        .contents
        .lines()
        .find_map(|l| l.strip_prefix("static-auth-secret="))
        .unwrap();
    let prom_args = args_of(&files, &format!("{MON}/etc/default/prometheus"));
    let budgets = rules_of(&files, "budgets");
    let rule = |n: &str| budgets.iter().find(|(r, _)| r == n).unwrap().1.expr.clone();
    // The rules' selectors, with the threshold left out.
    let high = rule("CoturnAllocationsHigh");
    let selector = high.split(" > ").next().unwrap().to_string();
    // CoturnBandwidthHigh's selector, inside rate(…[5m]).
    let bandwidth = rule("CoturnBandwidthHigh");
    let netdev = bandwidth
        .strip_prefix("rate(")
        .and_then(|r| r.split("[5m]").next())
        .unwrap()
        .to_string();
    let unknown = rule("CoturnAllocationsUnknown");
    let stale = unknown
        .split(" or ")
        .find(|p| p.starts_with("time() - "))
        .unwrap()
        .split(" > ")
        .next()
        .unwrap()
        .to_string();

    let sb = Sandbox::new("coturn-allocations").with_addrs([c1.ip]);
    let conf_path = sb.write("turnserver.conf", &conf.contents);
    let script = sb.write(
        "coturn-allocations-metric.sh",
        &file(&files, &format!("hosts/{}{COTURN_SCRIPT}", c1.name)).contents,
    );
    let mut s = install_prometheus_dir(&sb, &files);
    s.push_str(&format!(
        r#"textfile=/var/lib/prometheus/node-exporter
mount -t tmpfs tmpfs "$textfile"
mkdir -p var-lib-turn data
if [ -f /var/lib/turn/turndb ]; then cp /var/lib/turn/turndb var-lib-turn/; fi
mount --bind "$PWD/var-lib-turn" /var/lib/turn
# The plan's interface, as the bandwidth rules select it (a veth pair: the sandbox has
# no other interface than lo, which node_exporter leaves out by default).
ip link add {iface} type veth peer name {iface}-peer
set +e
echo "PROMETHEUS_OPTION $({turnserver} -h 2>&1 | grep -ci prometheus)"
wait_for() {{
  for _ in $(seq 1 300); do "$@" > /dev/null 2>&1 && return 0; sleep 0.2; done
  echo "timed out: $*"
  return 1
}}
q() {{ curl -sfG http://127.0.0.1:9090/api/v1/query --data-urlencode "query=$1"; }}
value() {{ sed -n 's/^synapse_planner_coturn_relay_allocations \([0-9]*\)$/\1/p' "$textfile/synapse_planner_coturn_relay_allocations.prom"; }}
# Before coturn runs: 0.
bash {script} || {{ echo "script failed"; exit 1; }}
echo "BEFORE $(value)"
{turnserver} -c {conf} -v --log-file=stdout --pidfile="$PWD/turn.pid" > turn.log 2>&1 &
wait_for sh -c "ss -Hlun | grep -q '{c1ip}:3478 '" || {{ cat turn.log; exit 1; }}
# Clients in pairs sending to each other through their relays (-y), no RTCP (-c),
# hanging on after the last packet (-h) so the allocations stay.
{uclient} -W {secret} -u alice -y -c -h -m 4 -n 1000 -z 100 {c1ip} > uclient.log 2>&1 &
logged() {{ grep -c 'ALLOCATE processed, success' turn.log; }}
settled() {{
  bash {script} && [ "$(value)" -gt 0 ] && [ "$(value)" = "$(logged)" ] && sleep 1 \
    && bash {script} && [ "$(value)" = "$(logged)" ]
}}
wait_for settled || {{ tail -20 turn.log; tail uclient.log; cat "$textfile"/*.prom; exit 1; }}
echo "LOGGED $(logged)"
echo "FILE $(value)"
echo "MODE $(stat -c %a "$textfile/synapse_planner_coturn_relay_allocations.prom")"
echo "LEFTOVER $(find "$textfile" -name '.*' | wc -l)"
{node_exporter} --web.listen-address={c1ip}:9100 --collector.disable-defaults --collector.textfile --collector.filesystem --collector.netdev > node.log 2>&1 &
{prometheus} --config.file=/etc/prometheus/prometheus.yml --storage.tsdb.path="$PWD/data" {prom_args} > prom.log 2>&1 &
stored() {{ [ "$(q '{selector}' | {jq} -r '.data.result | length')" = 1 ]; }}
pending() {{
  curl -sf http://127.0.0.1:9090/api/v1/alerts | {jq} -e '[.data.alerts[] | select(.labels.alertname == "CoturnAllocationsUnknown") | .labels.instance] == ["{c2}"]'
}}
wait_for stored || {{ cat prom.log; exit 1; }}
wait_for pending || {{ curl -s http://127.0.0.1:9090/api/v1/alerts; exit 1; }}
echo "STORED $(q '{selector}')"
echo "STALE $(q '{stale}')"
echo "FILESYSTEM $(q 'node_filesystem_avail_bytes{{instance="{c1fqdn}"}}' | {jq} -c '[.data.result[].metric | keys] | unique')"
echo "NETDEV $(q '{netdev}' | {jq} -c '[.data.result[].metric | keys] | unique')"
echo "ALERTS $(curl -sf http://127.0.0.1:9090/api/v1/alerts | {jq} -c '[.data.alerts[] | select(.labels.alertname | startswith("CoturnAllocations")) | [.labels.alertname, .labels.instance, .state]]')"
exit 0
"#,
        turnserver = turnserver.display(),
        uclient = uclient.display(),
        node_exporter = node_exporter.display(),
        prometheus = prometheus.display(),
        jq = jq.display(),
        script = script.display(),
        conf = conf_path.display(),
        c1ip = c1.ip,
        c1fqdn = c1.fqdn,
        c2 = c2.fqdn,
        iface = plan.network.interface,
        netdev = netdev,
    ));
    let out = sb.run(&s);
    let text = output_text(&out);
    assert_ok(&out, "coturn allocations end to end");
    let line = |key: &str| -> &str {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{key} ")))
            .unwrap_or_else(|| panic!("no {key} line:\n{text}"))
    };
    assert_eq!(line("PROMETHEUS_OPTION"), "0", "{text}");
    assert_eq!(line("BEFORE"), "0", "{text}");
    let n: u64 = line("LOGGED").parse().unwrap();
    assert!(n >= 2, "{text}");
    assert_eq!(line("FILE"), n.to_string(), "{text}");
    assert_eq!(line("MODE"), "644", "{text}");
    assert_eq!(line("LEFTOVER"), "0", "no temporary file left: {text}");
    // Stored as the rules select it: job node, instance coturn1, the script's figure.
    let stored: serde_json::Value = serde_json::from_str(line("STORED")).unwrap();
    let r = &stored["data"]["result"][0];
    assert_eq!(r["metric"]["job"], "node", "{text}");
    assert_eq!(r["metric"]["instance"], c1.fqdn.as_str(), "{text}");
    assert_eq!(r["value"][1], n.to_string(), "{text}");
    // The staleness part sees the file, seconds old.
    let stale: serde_json::Value = serde_json::from_str(line("STALE")).unwrap();
    let ages = stale["data"]["result"].as_array().unwrap();
    assert_eq!(ages.len(), 1, "{text}");
    assert_eq!(ages[0]["metric"]["instance"], c1.fqdn.as_str(), "{text}");
    let age: f64 = ages[0]["value"][1].as_str().unwrap().parse().unwrap();
    assert!(age < 300.0, "{text}");
    // node_exporter's filesystem series carry the labels the disk rules match on.
    let fs = line("FILESYSTEM");
    for label in ["device", "fstype", "mountpoint", "instance", "job"] {
        assert!(fs.contains(&format!("\"{label}\"")), "{fs}");
    }
    // Its network counters, through CoturnBandwidthHigh's own selector (job, the coturn
    // instances, the plan's interface): one series, with the labels the rule keeps.
    let net = line("NETDEV");
    assert_eq!(net, r#"[["__name__","device","instance","job"]]"#, "{text}");
    for label in ["device", "instance", "job"] {
        assert!(net.contains(&format!("\"{label}\"")), "{net}");
    }
    // No allocation alert for coturn1 (far below the quota); coturn2 has no metric.
    let alerts: serde_json::Value = serde_json::from_str(line("ALERTS")).unwrap();
    assert_eq!(
        alerts,
        serde_json::json!([["CoturnAllocationsUnknown", c2.fqdn, "pending"]]),
        "{text}"
    );
}

/// The metrics the budget rules read exist where they come from: postgres_exporter
/// 0.11 (Debian 12) scraped live in front of PostgreSQL with the plan's
/// max_connections; MinIO's v2 cluster metrics at the pinned release
/// (tests/data/minio-metrics-v2-<release>.txt); process_resident_memory_bytes in the
/// registry Synapse's metrics listener serves (the validators' venv).
#[test]
fn budget_rules_use_metrics_the_exporters_have() {
    let pg_exporter = tool("prometheus-postgres-exporter");
    let python = sandbox::venv().join("bin/python");
    tool(&python.display().to_string());
    let plan = Plan::default();
    let files = bundle(&plan);

    // postgres_exporter against a PostgreSQL with the plan's max_connections.
    let bin = format!("/usr/lib/postgresql/{}/bin", plan.postgres.version);
    let initdb = tool(&format!("{bin}/initdb"));
    let pg_ctl = tool(&format!("{bin}/pg_ctl"));
    let sb = Sandbox::new("pg-exporter-metrics");
    let out = sb.run(&format!(
        "set -e\n\
         mkdir pgdata && chown postgres pgdata\n\
         runuser -u postgres -- {initdb} -D $PWD/pgdata -A trust > /dev/null\n\
         runuser -u postgres -- {pg_ctl} -D $PWD/pgdata -l $PWD/pgdata/pg.log -w -o '-c max_connections={max} -c listen_addresses=127.0.0.1 -c unix_socket_directories=/run/postgresql' start > /dev/null\n\
         runuser -u postgres -- psql -h /run/postgresql -XAtq -c 'CREATE DATABASE synapse'\n\
         DATA_SOURCE_NAME='postgresql://postgres@127.0.0.1:5432/postgres?sslmode=disable' {exporter} --web.listen-address=127.0.0.1:9187 > exporter.log 2>&1 &\n\
         for i in $(seq 1 100); do curl -sf http://127.0.0.1:9187/metrics > metrics.txt && grep -q '^pg_up 1' metrics.txt && break; sleep 0.1; done\n\
         cat metrics.txt\n",
        initdb = initdb.display(),
        pg_ctl = pg_ctl.display(),
        exporter = pg_exporter.display(),
        max = plan.postgres.max_connections,
    ));
    assert_ok(&out, "postgres_exporter");
    let metrics = String::from_utf8_lossy(&out.stdout).to_string();
    let pg = rule_metrics(&files, "pg_");
    assert!(pg.len() >= 5, "{pg:?}");
    for m in &pg {
        assert!(
            metrics
                .lines()
                .any(|l| l.starts_with(&format!("{m}{{")) || l.starts_with(&format!("{m} "))),
            "postgres_exporter 0.11 exports no {m}"
        );
    }
    // Per database and state, as the connection rules sum them.
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("pg_stat_activity_count{")
                && l.contains("datname=\"synapse\"")
                && l.contains("state=\"idle\"")),
        "{metrics}"
    );
    // max_connections as PostgreSQL runs it: PostgresMaxConnectionsNotAsPlanned is
    // silent with the plan's value.
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("pg_settings_max_connections{")
                && l.ends_with(&format!(" {}", plan.postgres.max_connections))),
        "{metrics}"
    );

    // MinIO: the pinned release's metric names.
    let image = files
        .iter()
        .find_map(|f| {
            f.contents.split("quay.io/minio/minio:").nth(1).map(|r| {
                r.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
                    .next()
                    .unwrap()
            })
        })
        .expect("the MinIO image");
    let names_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("tests/data/minio-metrics-v2-{image}.txt"));
    let names = std::fs::read_to_string(&names_path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (see tests/data/MONITORING-README.md)",
            names_path.display()
        )
    });
    let minio = rule_metrics(&files, "minio_");
    assert!(
        minio.contains("minio_cluster_health_erasure_set_online_drives"),
        "{minio:?}"
    );
    for m in &minio {
        assert!(
            names.lines().any(|l| l == m),
            "MinIO {image} exports no {m}"
        );
    }

    // Synapse: its metrics listener serves synapse.metrics.RegistryProxy
    // (synapse/app/_base.py listen_metrics), which holds prometheus_client's process
    // collector.
    let out = Sandbox::new("synapse-registry").run(&format!(
        "{} -c 'import synapse.metrics\nfrom prometheus_client import generate_latest\nprint(generate_latest(synapse.metrics.RegistryProxy).decode())'\n",
        python.display()
    ));
    assert_ok(&out, "Synapse's registry");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.starts_with("process_resident_memory_bytes ")),
        "{}",
        output_text(&out)
    );
    assert!(rule_metrics(&files, "process_").contains("process_resident_memory_bytes"));
}

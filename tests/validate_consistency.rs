//! What no single tool checks: the files agree with each other. Ports a client dials
//! are the ports a server listens on, addresses are the hosts', every secret is the
//! same wherever it appears, and the numbers are the report's. Every named plan.

#[path = "support/bundles.rs"]
mod bundles;

use bundles::{bundle, named_plans, secrets};
use serde_yaml::Value as Yaml;
use std::collections::BTreeSet;
use synapse_planner::bundle::{File, SecretId, Topology, ports, workers};
use synapse_planner::plan::{Plan, Role, WorkerKind};
use synapse_planner::report::Report;

fn get<'a>(files: &'a [File], path: &str) -> &'a str {
    &files
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("no {path}"))
        .contents
}

fn try_get<'a>(files: &'a [File], path: &str) -> Option<&'a str> {
    files
        .iter()
        .find(|f| f.path == path)
        .map(|f| f.contents.as_str())
}

fn yaml(text: &str) -> Yaml {
    serde_yaml::from_str(text).unwrap_or_else(|e| panic!("YAML: {e}\n{text}"))
}

/// `key = value` (INI, pgbouncer) or `key=value` (env, coturn) or `key value` (redis).
fn setting<'a>(text: &'a str, key: &str) -> Vec<&'a str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && !l.starts_with(';'))
        .filter_map(|l| {
            let rest = l.strip_prefix(key)?;
            let rest = rest.trim_start();
            let rest = rest.strip_prefix('=').unwrap_or(rest);
            (l.len() > key.len()).then_some(rest.trim().trim_matches('\'').trim_matches('"'))
        })
        .collect()
}

fn one<'a>(text: &'a str, key: &str) -> &'a str {
    let v = setting(text, key);
    assert_eq!(v.len(), 1, "{key}: {v:?}");
    v[0]
}

/// HAProxy: the `server` addresses of a frontend/backend/listen section.
fn haproxy_servers(cfg: &str, section: &str) -> Vec<String> {
    let mut inside = false;
    let mut out = Vec::new();
    for line in cfg.lines() {
        let t = line.trim();
        if !line.starts_with(' ') && !t.is_empty() && !t.starts_with('#') {
            inside = t.split_whitespace().nth(1) == Some(section);
            continue;
        }
        if inside && t.starts_with("server ") {
            out.push(t.split_whitespace().nth(2).unwrap_or("").to_string());
        }
    }
    assert!(!out.is_empty(), "no servers in HAProxy section {section}");
    out
}

fn haproxy_binds(cfg: &str, section: &str) -> Vec<String> {
    let mut inside = false;
    let mut out = Vec::new();
    for line in cfg.lines() {
        let t = line.trim();
        if !line.starts_with(' ') && !t.is_empty() && !t.starts_with('#') {
            inside = t.split_whitespace().nth(1) == Some(section);
            continue;
        }
        if inside && t.starts_with("bind ") {
            out.push(t.split_whitespace().nth(1).unwrap_or("").to_string());
        }
    }
    out
}

fn ips(topo: &Topology, role: Role, port: u16) -> Vec<String> {
    topo.role(role)
        .map(|h| format!("{}:{port}", h.ip))
        .collect()
}

#[test]
fn files_agree_with_each_other() {
    for (name, plan) in named_plans() {
        check_plan(name, &plan);
    }
}

fn check_plan(name: &str, plan: &Plan) {
    let files = bundle(plan);
    let s = secrets();
    let topo = Topology::new(plan);
    let report = Report::new(plan);
    let synapse_ip = topo
        .first(Role::Synapse)
        .expect("a Synapse host")
        .ip
        .to_string();
    let vip = topo.vip.to_string();
    let vars = yaml(get(
        &files,
        &format!("ansible/inventory/host_vars/{}/vars.yml", plan.domain),
    ));
    let vault = yaml(get(
        &files,
        &format!("ansible/inventory/host_vars/{}/vault.yml", plan.domain),
    ));
    let vault_value = |id: SecretId| vault[id.vault_var().as_str()].as_str().map(str::to_string);
    let haproxy = get(
        &files,
        &format!(
            "hosts/{}/etc/haproxy/haproxy.cfg",
            topo.first(Role::Haproxy).expect("haproxy").name
        ),
    );
    let ctx = |what: &str| format!("{name}: {what}");

    // Every HAProxy node has the same configuration but its own stats address.
    for h in topo.role(Role::Haproxy) {
        let other = get(&files, &format!("hosts/{}/etc/haproxy/haproxy.cfg", h.name));
        assert!(
            other.contains(&format!("bind {}:{}", h.ip, ports::HAPROXY_STATS)),
            "{}",
            ctx(&h.name)
        );
    }

    // Synapse → PgBouncer: the database host and port in vars.yml are where PgBouncer listens.
    let pgb = get(&files, "hosts/synapse/etc/pgbouncer/pgbouncer.ini");
    assert_eq!(
        vars["matrix_synapse_database_host"].as_str(),
        Some(synapse_ip.as_str()),
        "{}",
        ctx("database host")
    );
    assert_eq!(
        vars["matrix_synapse_database_port"].as_u64(),
        Some(u64::from(ports::PGBOUNCER))
    );
    assert!(
        one(pgb, "listen_addr")
            .split(',')
            .any(|a| a.trim() == synapse_ip),
        "{}",
        ctx("pgbouncer listen_addr")
    );
    assert_eq!(one(pgb, "listen_port"), ports::PGBOUNCER.to_string());
    assert_eq!(
        vars["matrix_synapse_database_cp_max"].as_u64(),
        Some(plan.synapse.cp_max)
    );
    // PgBouncer's pools are the plan's and the report's.
    assert_eq!(one(pgb, "pool_mode"), plan.pgbouncer.pool_mode.key());
    assert_eq!(
        one(pgb, "default_pool_size"),
        plan.pgbouncer.default_pool_size.to_string()
    );
    assert_eq!(
        one(pgb, "reserve_pool_size"),
        plan.pgbouncer.reserve_pool_size.to_string()
    );
    assert_eq!(
        one(pgb, "max_client_conn"),
        report.connections.pgbouncer_max_client_conn.to_string()
    );
    // PgBouncer → the VIP's primary port → the Patroni nodes, chosen by their REST API.
    let target = one(pgb, "synapse");
    assert!(
        target.contains(&format!("host={vip}"))
            && target.contains(&format!("port={}", ports::PG_PRIMARY)),
        "{}: {target}",
        ctx("pgbouncer target")
    );
    assert_eq!(
        haproxy_binds(haproxy, "postgres-primary"),
        [format!("{vip}:{}", ports::PG_PRIMARY)]
    );
    assert_eq!(
        haproxy_servers(haproxy, "postgres-primary"),
        ips(&topo, Role::Patroni, ports::POSTGRES)
    );
    assert!(
        haproxy.contains(&format!("check port {}", ports::PATRONI_REST)),
        "{}",
        ctx("Patroni health port")
    );
    // Userlist, Patroni's bootstrap SQL and the vault agree on Synapse's password.
    let db_password = vault_value(SecretId::SynapseDbPassword).expect("vault synapse db password");
    assert_eq!(db_password, s.get(SecretId::SynapseDbPassword));
    assert!(
        get(&files, "hosts/synapse/etc/pgbouncer/userlist.txt")
            .contains(&format!("\"synapse\" \"{db_password}\"")),
        "{}",
        ctx("userlist")
    );

    // Patroni, etcd, the exporter, and the parameters.
    let etcd_clients: Vec<String> = ips(&topo, Role::Patroni, ports::ETCD_CLIENT);
    for h in topo.role(Role::Patroni) {
        let p = yaml(get(
            &files,
            &format!("hosts/{}/etc/patroni/config.yml", h.name),
        ));
        assert_eq!(
            p["restapi"]["listen"].as_str(),
            Some(format!("{}:{}", h.ip, ports::PATRONI_REST).as_str()),
            "{}",
            ctx(&h.name)
        );
        let hosts: Vec<String> = p["etcd3"]["hosts"]
            .as_sequence()
            .expect("etcd3.hosts")
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect();
        assert_eq!(hosts, etcd_clients, "{}", ctx("etcd3.hosts"));
        let listen = p["postgresql"]["listen"].as_str().unwrap_or_default();
        assert!(
            listen.ends_with(&format!(":{}", ports::POSTGRES)),
            "{}: {listen}",
            ctx("postgresql.listen")
        );
        let etcd = get(&files, &format!("hosts/{}/etc/default/etcd", h.name));
        assert_eq!(
            one(etcd, "ETCD_LISTEN_CLIENT_URLS"),
            format!("http://{}:{}", h.ip, ports::ETCD_CLIENT)
        );
        // bootstrap.dcs parameters are exactly the report's.
        let params = &p["bootstrap"]["dcs"]["postgresql"]["parameters"];
        for param in &report.postgres.parameters {
            let v = &params[param.name];
            let text = v
                .as_str()
                .map(String::from)
                .or_else(|| v.as_u64().map(|n| n.to_string()))
                .or_else(|| v.as_f64().map(|n| n.to_string()))
                .unwrap_or_default();
            // A YAML float (hash_mem_multiplier: 2.0) equals the report's text as a number.
            let same_number = v.as_f64().is_some() && param.value.parse::<f64>().ok() == v.as_f64();
            assert!(
                text == param.value || same_number,
                "{}: {} in bootstrap.dcs: {text} against the report's {}",
                ctx(&h.name),
                param.name,
                param.value
            );
        }
        assert_eq!(
            p["postgresql"]["authentication"]["superuser"]["password"].as_str(),
            Some(s.get(SecretId::PostgresSuperuserPassword))
        );
        assert_eq!(
            p["postgresql"]["authentication"]["replication"]["password"].as_str(),
            Some(s.get(SecretId::ReplicationPassword))
        );
        assert_eq!(
            p["restapi"]["authentication"]["password"].as_str(),
            Some(s.get(SecretId::PatroniRestPassword))
        );
        let exporter = get(
            &files,
            &format!("hosts/{}/etc/default/prometheus-postgres-exporter", h.name),
        );
        assert!(
            exporter.contains(s.get(SecretId::PostgresExporterPassword)),
            "{}",
            ctx("exporter password")
        );
        assert!(
            exporter.contains(&format!("{}:{}", h.ip, ports::POSTGRES_EXPORTER)),
            "{}",
            ctx("exporter listen")
        );
    }

    // Web path: HAProxy → the playbook's Traefik where vars.yml binds it.
    assert_eq!(
        vars["traefik_container_web_host_bind_port"].as_str(),
        Some(format!("{synapse_ip}:{}", ports::SYNAPSE_WEB).as_str())
    );
    assert_eq!(
        vars["matrix_playbook_public_matrix_federation_api_traefik_entrypoint_host_bind_port"]
            .as_str(),
        Some(format!("{synapse_ip}:{}", ports::SYNAPSE_FEDERATION).as_str())
    );
    assert_eq!(
        haproxy_servers(haproxy, "synapse-web"),
        [format!("{synapse_ip}:{}", ports::SYNAPSE_WEB)]
    );
    assert_eq!(
        haproxy_servers(haproxy, "synapse-federation"),
        [format!("{synapse_ip}:{}", ports::SYNAPSE_FEDERATION)]
    );
    // Traefik trusts forwarded headers from the HAProxy hosts only.
    let trusted: BTreeSet<String> =
        vars["traefik_config_entrypoint_web_forwardedHeaders_trustedIPs"]
            .as_sequence()
            .expect("trustedIPs")
            .iter()
            .filter_map(|v| v.as_str().map(|s| s.trim_end_matches("/32").to_string()))
            .collect();
    let haproxy_ips: BTreeSet<String> =
        topo.role(Role::Haproxy).map(|h| h.ip.to_string()).collect();
    assert_eq!(trusted, haproxy_ips, "{}", ctx("Traefik trustedIPs"));

    // Object storage: Synapse's S3 endpoint is the VIP's MinIO port; HAProxy balances the nodes.
    assert_eq!(
        vars["matrix_synapse_ext_synapse_s3_storage_provider_config_endpoint_url"].as_str(),
        Some(format!("http://{vip}:{}", ports::MINIO_API).as_str())
    );
    assert_eq!(
        haproxy_servers(haproxy, "minio"),
        ips(&topo, Role::Minio, ports::MINIO_API)
    );
    let minio_env = get(
        &files,
        &format!(
            "hosts/{}/etc/default/minio",
            topo.first(Role::Minio).expect("minio").name
        ),
    );
    assert_eq!(
        one(minio_env, "MINIO_ROOT_PASSWORD"),
        s.get(SecretId::MinioRootPassword)
    );
    assert_eq!(
        vault_value(SecretId::MinioSynapseSecretKey).as_deref(),
        Some(s.get(SecretId::MinioSynapseSecretKey))
    );
    assert!(
        files
            .iter()
            .filter(|f| f.path.starts_with("hosts/minio1/"))
            .any(|f| f.contents.contains(s.get(SecretId::MinioSynapseSecretKey))),
        "{}",
        ctx("the MinIO setup holds the synapse user's secret")
    );
    let settings_only = |t: &str| {
        t.lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n")
    };
    for h in topo.role(Role::Minio) {
        let env = get(&files, &format!("hosts/{}/etc/default/minio", h.name));
        assert_eq!(
            settings_only(env),
            settings_only(minio_env),
            "{}",
            ctx("MinIO settings differ between nodes")
        );
    }

    // Metrics: the main process where vars.yml publishes it, every worker's port on the
    // Synapse host, one node_exporter per host.
    assert_eq!(
        vars["matrix_synapse_container_metrics_api_host_bind_port"].as_str(),
        Some(format!("{synapse_ip}:{}", ports::SYNAPSE_MAIN_METRICS).as_str())
    );
    assert_eq!(
        vars["matrix_synapse_workers_container_host_bind_address"]
            .as_str()
            .map(str::to_string),
        (plan.worker_count() > 0).then(|| synapse_ip.clone())
    );
    let prom_text = get(&files, "hosts/monitoring/etc/prometheus/prometheus.yml");
    let prom = yaml(prom_text);
    let job_targets = |job: &str| -> BTreeSet<String> {
        prom["scrape_configs"]
            .as_sequence()
            .expect("scrape_configs")
            .iter()
            .filter(|j| j["job_name"].as_str() == Some(job))
            .flat_map(|j| {
                j["static_configs"]
                    .as_sequence()
                    .cloned()
                    .unwrap_or_default()
            })
            .flat_map(|sc| sc["targets"].as_sequence().cloned().unwrap_or_default())
            .filter_map(|t| t.as_str().map(String::from))
            .collect()
    };
    let mut want: BTreeSet<String> =
        [format!("{synapse_ip}:{}", ports::SYNAPSE_MAIN_METRICS)].into();
    for w in workers::workers(plan) {
        want.insert(format!("{synapse_ip}:{}", w.metrics_port));
    }
    assert_eq!(
        job_targets("synapse"),
        want,
        "{}",
        ctx("Synapse scrape targets")
    );
    let nodes: BTreeSet<String> = topo
        .hosts
        .iter()
        .map(|h| format!("{}:{}", h.ip, ports::NODE_EXPORTER))
        .collect();
    assert_eq!(
        job_targets("node"),
        nodes,
        "{}",
        ctx("node_exporter targets")
    );
    assert_eq!(
        job_targets("postgres"),
        ips(&topo, Role::Patroni, ports::POSTGRES_EXPORTER)
            .into_iter()
            .collect()
    );
    assert_eq!(
        get(
            &files,
            "hosts/monitoring/etc/prometheus/haproxy-stats.password"
        ),
        s.get(SecretId::HaproxyStatsPassword)
    );
    assert!(
        haproxy.contains(s.get(SecretId::HaproxyStatsPassword)),
        "{}",
        ctx("HAProxy stats password")
    );

    // Worker counts in vars.yml are the plan's.
    for k in WorkerKind::ALL {
        assert_eq!(
            vars[k.playbook_count_var()].as_u64(),
            Some(plan.workers(k)),
            "{}: {}",
            ctx("worker count"),
            k.key()
        );
    }

    // keepalived: the plan's VIP on the plan's interface, on every HAProxy node.
    for h in topo.role(Role::Haproxy) {
        let k = get(
            &files,
            &format!("hosts/{}/etc/keepalived/keepalived.conf", h.name),
        );
        assert!(
            k.contains(&format!("interface {}", topo.interface)),
            "{}",
            ctx("keepalived interface")
        );
        assert!(k.contains(&vip), "{}", ctx("keepalived VIP"));
    }

    // TURN: Synapse's URIs name every coturn host on the port coturn listens on, with
    // the shared secret coturn has.
    let coturn: Vec<_> = topo.role(Role::Coturn).collect();
    if coturn.is_empty() {
        assert!(
            vars.get("matrix_synapse_turn_uris").is_none(),
            "{}",
            ctx("TURN URIs without coturn")
        );
    } else {
        let uris: Vec<String> = vars["matrix_synapse_turn_uris"]
            .as_sequence()
            .expect("turn_uris")
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect();
        assert_eq!(
            vault_value(SecretId::TurnSharedSecret).as_deref(),
            Some(s.get(SecretId::TurnSharedSecret))
        );
        for h in &coturn {
            let conf = get(&files, &format!("hosts/{}/etc/turnserver.conf", h.name));
            let port = one(conf, "listening-port");
            assert!(
                uris.iter()
                    .any(|u| u.contains(&format!("{}:{port}", h.fqdn))),
                "{}: {uris:?}",
                ctx("turn_uris")
            );
            assert_eq!(
                one(conf, "static-auth-secret"),
                s.get(SecretId::TurnSharedSecret)
            );
            assert_eq!(one(conf, "min-port"), plan.coturn.min_port.to_string());
            assert_eq!(one(conf, "max-port"), plan.coturn.max_port.to_string());
        }
    }

    // LiveKit: keys are the vault's, every node uses livekit1's Redis with its password.
    let livekit: Vec<_> = topo.role(Role::Livekit).collect();
    if let Some(first) = livekit.first() {
        let redis = get(
            &files,
            &format!("hosts/{}/etc/redis/redis.conf", first.name),
        );
        let redis_password = one(redis, "requirepass");
        assert_eq!(redis_password, s.get(SecretId::LivekitRedisPassword));
        assert!(
            setting(redis, "bind")
                .iter()
                .any(|b| b.split_whitespace().any(|a| a == first.ip.to_string())),
            "{}",
            ctx("redis bind")
        );
        assert_eq!(one(redis, "port"), ports::LIVEKIT_REDIS.to_string());
        for h in &livekit {
            let lk = yaml(get(
                &files,
                &format!("hosts/{}/etc/livekit/livekit.yaml", h.name),
            ));
            assert_eq!(
                lk["keys"][s.get(SecretId::LivekitApiKey)].as_str(),
                Some(s.get(SecretId::LivekitApiSecret)),
                "{}",
                ctx("LiveKit keys")
            );
            assert_eq!(
                lk["redis"]["address"].as_str(),
                Some(format!("{}:{}", first.ip, ports::LIVEKIT_REDIS).as_str())
            );
            assert_eq!(lk["redis"]["password"].as_str(), Some(redis_password));
            assert_eq!(lk["port"].as_u64(), Some(u64::from(ports::LIVEKIT_HTTP)));
            assert_eq!(
                lk["rtc"]["port_range_start"].as_u64(),
                Some(plan.livekit.port_range_start)
            );
            assert_eq!(
                lk["rtc"]["port_range_end"].as_u64(),
                Some(plan.livekit.port_range_end)
            );
        }
        assert_eq!(
            vault_value(SecretId::LivekitApiKey).as_deref(),
            Some(s.get(SecretId::LivekitApiKey))
        );
        assert_eq!(
            vault_value(SecretId::LivekitApiSecret).as_deref(),
            Some(s.get(SecretId::LivekitApiSecret))
        );
        assert_eq!(
            haproxy_servers(haproxy, "livekit"),
            ips(&topo, Role::Livekit, ports::LIVEKIT_HTTP)
        );
    } else {
        // No LiveKit hosts: no MatrixRTC (livekit_server_enabled follows matrix_rtc_enabled).
        assert_ne!(
            vars["matrix_rtc_enabled"].as_bool(),
            Some(true),
            "{}",
            ctx("MatrixRTC without LiveKit")
        );
        assert!(try_get(&files, "hosts/livekit1/etc/livekit/livekit.yaml").is_none());
    }

    // The hosts file and the pre/post checks name every host at its address.
    let hosts_append = get(&files, "hosts/all/hosts.append");
    let pre = get(&files, "scripts/pre-deploy-check.sh");
    for h in &topo.hosts {
        assert!(
            hosts_append.contains(&format!("{} {} {}", h.ip, h.fqdn, h.name)),
            "{}",
            ctx(&h.name)
        );
        assert!(
            pre.contains(&format!("'{}:{}:", h.name, h.ip)),
            "{}",
            ctx("pre-deploy host list")
        );
    }
}

/// The `vault_[a-z0-9_]+` names in `text`, wherever they stand (a reference, a comment,
/// a document).
fn vault_names(text: &str) -> BTreeSet<String> {
    text.match_indices("vault_")
        .filter_map(|(i, _)| {
            let tail = &text[i + "vault_".len()..];
            let end = tail
                .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
                .unwrap_or(tail.len());
            (end > 0).then(|| format!("vault_{}", &tail[..end]))
        })
        .collect()
}

/// Every secret in one place: vault.yml defines every secret of the bundle, and every
/// `vault_*` name any generated file mentions (vars.yml's references, the documents,
/// comments in the other hosts' files) is one it defines, with the value those files
/// hold. Every named plan.
#[test]
fn every_vault_name_mentioned_is_in_the_vault() {
    for (name, plan) in named_plans() {
        let files = bundle(&plan);
        let s = secrets();
        let vault = files
            .iter()
            .find(|f| f.path.ends_with("/vault.yml"))
            .unwrap_or_else(|| panic!("{name}: no vault.yml"));
        let doc = yaml(&vault.contents);
        let defined: BTreeSet<String> = doc
            .as_mapping()
            .unwrap_or_else(|| panic!("{name}: vault.yml is no mapping"))
            .keys()
            .map(|k| k.as_str().expect("string key").to_string())
            .collect();
        for id in SecretId::ALL {
            assert_eq!(
                doc[id.vault_var().as_str()].as_str(),
                Some(s.get(id)),
                "{name}: vault.yml's {}",
                id.vault_var()
            );
        }
        for f in &files {
            for v in vault_names(&f.contents) {
                assert!(
                    defined.contains(&v),
                    "{name}: {} names {v}, which vault.yml does not define",
                    f.path
                );
            }
        }
    }
}

/// The playbook's units run Synapse's containers with `--log-driver=none`
/// (roles/custom/matrix-synapse/templates/synapse/systemd/*.service.j2): no file tells
/// the operator to read a playbook container's logs with `docker logs`, and the
/// runbook reads the journal of the units that serve media: the media repository
/// workers when the plan has them.
#[test]
fn logs_are_read_from_the_units_journal() {
    for (name, plan) in named_plans() {
        let files = bundle(&plan);
        for f in &files {
            for line in f.contents.lines() {
                for cmd in ["docker logs", "docker container logs"] {
                    if let Some(i) = line.find(cmd) {
                        assert!(
                            !line[i..].contains("matrix-"),
                            "{name}: {} reads a playbook container's logs with {cmd}: {line}",
                            f.path
                        );
                    }
                }
            }
        }
        let runbook = get(&files, "RUNBOOK.md");
        let media = &runbook[runbook
            .find("## Media does not load")
            .expect("media section")..];
        let media = &media[..media[3..].find("\n## ").map_or(media.len(), |i| i + 3)];
        let journal = media
            .lines()
            .find(|l| l.starts_with("journalctl "))
            .unwrap_or_else(|| panic!("{name}: no journalctl in {media}"));
        let units: Vec<String> = workers::workers(&plan)
            .into_iter()
            .filter(|w| w.kind == WorkerKind::MediaRepository)
            .map(|w| w.name)
            .collect();
        let expect = if units.is_empty() {
            vec!["matrix-synapse".to_string()]
        } else {
            units
        };
        for unit in &expect {
            assert!(
                journal.contains(&format!("-u '{unit}'")),
                "{name}: {unit} not in {journal}"
            );
        }
        assert_eq!(
            journal.matches(" -u ").count(),
            expect.len(),
            "{name}: {journal}"
        );
    }
}

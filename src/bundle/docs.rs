//! The bundle's documents: README (how to apply it, in order), the production
//! checklist and the runbook, written with this plan's names, addresses, ports and
//! commands.

use super::PLAN_YAML;
use super::backup::{OTK_TABLE, restore_doc::RESTORE_DOC, ssh_keys::SSH_KEYS_SCRIPT};
use super::checks::certs::{CA_DIR, DISTRIBUTE, INTERNAL_CA, LETSENCRYPT};
use super::checks::{POST_DEPLOY_CHECK, PRE_DEPLOY_CHECK, expected_scrape_targets};
use super::playbook::{ANSIBLE_DIR, inventory::INVENTORY};
use super::postgres::PATRONI_CONFIG;
use super::system::{DOCKER_DAEMON_JSON, PREPARE_HOST};
use super::{Comment, Ctx, File, Scope, SecretId};
use crate::deploy::facts::{DATABASE, MEDIA_BUCKET, MINIO_SYNAPSE_USER, PGBOUNCER_STATS_USER};
use crate::deploy::{ports, workers};
use crate::plan::Role;
use crate::syntax::markdown::{code, text};
use crate::syntax::{comment, shell};
use std::fmt::Write;

/// How to apply the bundle, in order.
const README: &str = "README.md";
/// The production checklist.
const CHECKLIST: &str = "CHECKLIST.md";
/// The common problems and their fixes.
const RUNBOOK: &str = "RUNBOOK.md";

/// The main Synapse process's systemd unit (and container). The playbook's units run
/// Synapse's containers with `--log-driver=none`, so `docker logs` shows nothing and the
/// logs are in the journal: matrix-docker-ansible-deploy @ c0681e4,
/// `roles/custom/matrix-synapse/templates/synapse/systemd/matrix-synapse.service.j2`
/// lines 29-30, `matrix-synapse-worker.service.j2` lines 45-46 (a worker's unit is
/// `<worker name>.service`: `tasks/synapse/workers/util/inject_worker.yml` line 60,
/// the names in `deploy::workers`), and `docs/maintenance-and-troubleshooting.md` line 70
/// (`journalctl -fu matrix-synapse`).
const SYNAPSE_UNIT: &str = "matrix-synapse";

/// `journalctl -u 'unit' -u 'unit'…`: the journal of the given units, each a quoted word.
fn journalctl<'a>(units: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = "journalctl".to_string();
    for u in units {
        out.push_str(" -u ");
        out.push_str(&shell::quote(u));
    }
    out
}

/// The names of a role's hosts as code spans (`` `patroni1`, `patroni2` ``).
fn host_names(ctx: &Ctx, role: Role) -> String {
    let names: Vec<String> = ctx.hosts(role).map(|h| code(&h.name)).collect();
    if names.is_empty() {
        "(none in this plan)".to_string()
    } else {
        names.join(", ")
    }
}

/// A shell command for a code span or block: `command` (the generator's text) with
/// `value` as one quoted word after it, and `rest` (the generator's text) after that.
fn command(command: &str, value: &str, rest: &str) -> String {
    format!("{command}{}{rest}", shell::quote(value))
}

/// The scripts under /usr/local/sbin the hosts of `role` get, with the hosts that have
/// each: `setup-patroni.sh (patroni1, patroni2, patroni3)`.
fn role_scripts(ctx: &Ctx, files: &[File], role: Role) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for h in ctx.hosts(role) {
        let prefix = format!("hosts/{}/usr/local/sbin/", h.name);
        for f in files.iter().filter(|f| f.path.starts_with(&prefix)) {
            let name = f.path[prefix.len()..].to_string();
            match out.iter_mut().find(|(n, _)| *n == name) {
                Some((_, hosts)) => hosts.push(h.name.clone()),
                None => out.push((name, vec![h.name.clone()])),
            }
        }
    }
    out
}

/// "Then run …" for a role's setup scripts (those named setup-*), or nothing.
fn setup_sentence(ctx: &Ctx, files: &[File], role: Role) -> String {
    let list = setup_list(ctx, files, role);
    if list.is_empty() {
        String::new()
    } else {
        format!(" Then run {list}.")
    }
}

/// "`/usr/local/sbin/setup-x.sh` on each" for a role's setup scripts, or "".
fn setup_list(ctx: &Ctx, files: &[File], role: Role) -> String {
    let all = ctx.hosts(role).count();
    let scripts: Vec<String> = role_scripts(ctx, files, role)
        .into_iter()
        .filter(|(n, _)| n.starts_with("setup-") || n.contains("-setup-"))
        .map(|(n, hosts)| {
            let script = code(&format!("/usr/local/sbin/{n}"));
            if hosts.len() == all && all > 1 {
                format!("{script} on each")
            } else {
                let hosts: Vec<String> = hosts.iter().map(|h| code(h)).collect();
                format!("{script} on {}", hosts.join(", "))
            }
        })
        .collect();
    scripts.join(", then ")
}

/// README.md: what the bundle is, the secrets to protect first, the cluster, the steps
/// to apply it in order, and every file.
pub fn readme(ctx: &Ctx, files: &[File]) -> File {
    let mut o = ctx.header(Comment::Html);
    o.push_str(&intro(ctx));
    o.push_str(&secrets(ctx, files));
    o.push_str(&cluster(ctx));
    let _ = writeln!(o, "## 3. Apply, in this order\n");
    for (i, s) in steps(ctx, files).iter().enumerate() {
        let _ = writeln!(o, "{}. {s}", i + 1);
    }
    o.push_str(&file_list(files));
    File::new(
        README,
        Scope::Control,
        "How to apply this bundle, in order.",
        o,
    )
}

/// The title, what the bundle is for, and a warning when the plan has errors.
fn intro(ctx: &Ctx) -> String {
    let r = &ctx.report;
    let mut o = String::new();
    let _ = writeln!(o, "# Deployment bundle: {}\n", text(&ctx.plan.name));
    let _ = writeln!(
        o,
        "Every configuration file and script for the Matrix homeserver **{}**: {} hosts, \
         {} Synapse processes, {} registered users ({} at peak). Generated by {} on {}; \
         `{PLAN_YAML}` reopens the plan in synapse-planner.\n",
        code(&ctx.topology.server_name),
        ctx.topology.hosts.len(),
        r.synapse.process_count,
        ctx.plan.users.registered,
        ctx.plan.peak_concurrent_users(),
        super::GENERATOR,
        text(ctx.date.as_str())
    );
    if r.summary.errors > 0 {
        let _ = writeln!(
            o,
            "> **The plan has {} error finding(s).** Read them in synapse-planner (or `synapse-planner report --plan {PLAN_YAML}`) before deploying.\n",
            r.summary.errors
        );
    }
    o
}

/// Section 1: encrypt the vault, and the files that hold secrets in clear.
fn secrets(ctx: &Ctx, files: &[File]) -> String {
    let vault = super::playbook::vault::vault_path(&ctx.topology.server_name);
    let mut o = String::new();
    let secret_files: Vec<&File> = files.iter().filter(|f| f.mode == 0o600).collect();
    let _ = writeln!(o, "## 1. Before anything else: protect the secrets\n");
    if ctx.secrets.are_placeholders() {
        let _ = writeln!(
            o,
            "This bundle was made with placeholders (`CHANGE_ME_…`). Put real values in {} and in the files below \
             before using them, then encrypt the vault as in the command below.\n",
            code(&vault)
        );
    }
    let _ = writeln!(
        o,
        "Encrypt the vault now, before copying the bundle anywhere:\n\n```sh\n{}\n```\n\n\
         The vault holds every secret of this bundle, so the encrypted vault (and its password, kept apart) is all you need to keep. \
         These files hold secrets in clear because the services read them directly; they are mode 0600, keep them so, \
         and delete the unpacked bundle from machines that do not need it:\n",
        command("ansible-vault encrypt ", &vault, "")
    );
    for f in &secret_files {
        let _ = writeln!(o, "- {}", code(&f.path));
    }
    o
}

/// Section 2: every host, the VIP, and the database connection chain.
fn cluster(ctx: &Ctx) -> String {
    let t = &ctx.topology;
    let mut o = String::new();
    let _ = writeln!(o, "\n## 2. The cluster\n");
    let _ = writeln!(
        o,
        "| host | address | role | RAM (plan) | vCPUs |\n|---|---|---|---|---|"
    );
    for h in &t.hosts {
        let p = ctx.plan.host(h.role);
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} GiB | {} |",
            code(&h.fqdn),
            code(&h.ip.to_string()),
            h.role.label(),
            p.ram_gib,
            p.vcpus
        );
    }
    let _ = writeln!(
        o,
        "\nVIP (keepalived, HAProxy): **{}** on {}. Subnet {}. Public name {} must resolve to the VIP for clients.\n",
        code(&t.vip.to_string()),
        code(&t.interface),
        code(&t.subnet),
        code(&t.server_name)
    );
    let _ = writeln!(
        o,
        "Every port each host listens on, on which address, and who may connect (what the host firewalls admit): [{}]({}).\n",
        code(super::ports_doc::PORTS_DOC),
        super::ports_doc::PORTS_DOC
    );
    let c = &ctx.report.connections;
    let _ = writeln!(
        o,
        "Database connections: Synapse's pools {} → PgBouncer max_client_conn {} → {} server connections → PostgreSQL max_connections {} ({} left after the reserve).\n",
        c.synapse_pool_total,
        c.pgbouncer_max_client_conn,
        c.pgbouncer_server_connections,
        c.postgres_max_connections,
        c.postgres_available
    );
    o
}

/// Section 3: the steps that apply the bundle, in order.
fn steps(ctx: &Ctx, files: &[File]) -> Vec<String> {
    let t = &ctx.topology;
    vec![
        format!(
            "**Check the hosts.** On the control machine (root SSH to every host): `./{PRE_DEPLOY_CHECK}`. It checks SSH, Debian 12, the planned RAM and vCPUs, disk, clocks, names and free ports on every host."
        ),
        format!(
            "**Prepare every host.** Copy the unpacked bundle to each host and run `sudo ./{PREPARE_HOST} <name>` there (names: {}). It sets UTC, installs this bundle's files for that host (`hosts/all/` and `hosts/<name>/`), the /etc/hosts block, kernel parameters and limits, the role's Debian packages, chrony and node_exporter.",
            t.hosts
                .iter()
                .map(|h| code(&h.name))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        format!(
            "**Certificates.** HAProxy needs one to start: `./{INTERNAL_CA}` then `./{DISTRIBUTE} {CA_DIR}`. While the cluster is online, replace it with Let's Encrypt: `./{LETSENCRYPT}` on {} and distribute it the same way.",
            t.first(Role::Haproxy)
                .map_or_else(|| "the first HAProxy host".to_string(), |h| code(&h.name))
        ),
        format!(
            "**Database tier** ({}): run {}, one host after the other, the first one first. It starts etcd, then Patroni (the first node bootstraps the cluster and creates the `{DATABASE}` database with the C collation Synapse requires; the others clone it) and the exporter. Check with {}: one leader, the others streaming.",
            host_names(ctx, Role::Patroni),
            setup_list(ctx, files, Role::Patroni),
            code(&command(
                "curl -s ",
                &format!(
                    "http://{}:{}/cluster",
                    t.first(Role::Patroni)
                        .map(|h| h.fqdn.as_str())
                        .unwrap_or(""),
                    ports::PATRONI_REST
                ),
                ""
            ))
        ),
        format!(
            "**Backups, straight away** ({}): SSH keys between the hosts (`{SSH_KEYS_SCRIPT}` from the control machine), then the pgBackRest stanza, a first full backup and the schedule.{} Until the stanza exists WAL archiving fails and WAL piles up on the Patroni hosts, so leave no gap. `{RESTORE_DOC}` has the restore procedures.",
            host_names(ctx, Role::Backup),
            setup_sentence(ctx, files, Role::Backup)
        ),
        format!(
            "**Object storage** ({}): every drive mounted at /data1…, then start MinIO on every node at once (the pool forms when all are up): `systemctl enable --now minio`.{}",
            host_names(ctx, Role::Minio),
            setup_sentence(ctx, files, Role::Minio)
        ),
        format!(
            "**Edge** ({}): HAProxy and keepalived. The VIP {} comes up on the first node; PostgreSQL's primary is then reachable on {}, MinIO on {}.",
            host_names(ctx, Role::Haproxy),
            code(&t.vip.to_string()),
            code(&format!("{}:{}", t.vip, ports::PG_PRIMARY)),
            code(&format!("{}:{}", t.vip, ports::MINIO_API))
        ),
        format!(
            "**PgBouncer** on {}: Synapse reaches it on port {}.{}",
            host_names(ctx, Role::Synapse),
            ports::PGBOUNCER,
            setup_sentence(ctx, files, Role::Synapse)
        ),
        format!(
            "**Synapse with the playbook.** In a checkout of matrix-docker-ansible-deploy (the version this bundle targets sets `matrix_playbook_migration_validated_version`), copy `{ANSIBLE_DIR}/inventory/` over `inventory/`, fetch the roles (`just roles`), then run `ansible-playbook -i {INVENTORY} setup.yml --ask-vault-pass --tags=install-all,ensure-matrix-users-created,start`."
        ),
        format!(
            "**Calls**: coturn on {} (started by its package with this bundle's configuration); LiveKit on {} (its Redis on the first LiveKit host).{}",
            host_names(ctx, Role::Coturn),
            host_names(ctx, Role::Livekit),
            setup_sentence(ctx, files, Role::Livekit)
        ),
        format!(
            "**Monitoring** on {}: Prometheus, Alertmanager, the blackbox exporter and Grafana; every Synapse process and exporter is a scrape target.{} Put the dashboards you want in /etc/grafana/dashboards (see the README there).",
            host_names(ctx, Role::Monitoring),
            setup_sentence(ctx, files, Role::Monitoring)
        ),
        format!(
            "**Check everything**: `./{POST_DEPLOY_CHECK}`, then work through `{CHECKLIST}`. `{RUNBOOK}` has the fixes for the common problems."
        ),
    ]
}

/// Section 4: every file, grouped by where it goes.
fn file_list(files: &[File]) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "\n## 4. The files\n");
    let mut scopes: Vec<super::Scope> = files.iter().map(|f| f.scope).collect();
    scopes.sort();
    scopes.dedup();
    for scope in scopes {
        let _ = writeln!(o, "### {}\n", scope.label());
        for f in files.iter().filter(|f| f.scope == scope) {
            let _ = writeln!(o, "- {}: {}", code(&f.path), f.about);
        }
        let _ = writeln!(o);
    }
    let _ = writeln!(
        o,
        "JSON files (`daemon.json`) cannot carry a header comment: they come from the same generator run as everything here."
    );
    o
}

pub fn checklist(ctx: &Ctx) -> File {
    let t = &ctx.topology;
    let domain = &t.server_name;
    let first_patroni = t
        .first(Role::Patroni)
        .map(|h| h.fqdn.clone())
        .unwrap_or_default();
    let minio = t
        .first(Role::Minio)
        .map(|h| h.fqdn.clone())
        .unwrap_or_default();
    let mut o = ctx.header(Comment::Html);
    let _ = writeln!(o, "# Production checklist: {}\n", text(&ctx.plan.name));
    let monitoring = t
        .first(Role::Monitoring)
        .map(|h| h.fqdn.as_str())
        .unwrap_or("");
    let _ = writeln!(
        o,
        "Before go-live (seed §9), each with how to check it on this cluster.\n"
    );
    let items: Vec<(&str, String)> = vec![
        ("All health checks pass", format!("`./{POST_DEPLOY_CHECK}` ends with \"all post-deploy checks passed\".")),
        (
            "Every Prometheus target is up",
            format!(
                "Prometheus on {}; the post-deploy check counts at least {} targets.",
                code(&format!("http://{monitoring}:{}/targets", ports::PROMETHEUS)),
                expected_scrape_targets(ctx)
            ),
        ),
        ("Dashboards show metrics", format!("Grafana on {}.", code(&format!("http://{monitoring}:{}", ports::GRAFANA)))),
        ("A test user can log in with Element Web", format!("{} (create one: the playbook's `just register-user`).", code(&format!("https://{domain}/")))),
        ("Messages are sent and received", "Two test users in one room, on two different clients.".into()),
        ("Files upload and download (S3 on MinIO)", format!("Upload an image, then `mc ls` the bucket {MEDIA_BUCKET} on {}.", code(&minio))),
        ("A 1:1 voice call works (TURN)", format!("Between two networks; coturn on {}.", host_names(ctx, Role::Coturn))),
        ("A group video call works (LiveKit)", format!("Element Call with three participants; LiveKit on {}.", host_names(ctx, Role::Livekit))),
        (
            "Admin paths answer the admin networks only",
            format!(
                "{} from an address in {} gives 200 (or 401 without a token); from any other address, 403.",
                code(&format!("curl -s -o /dev/null -w '%{{http_code}}' https://{domain}{}/v1/server_version", crate::deploy::facts::ADMIN_API_PATH)),
                ctx.plan.admin_networks().iter().map(|n| code(&n.to_string())).collect::<Vec<_>>().join(", ")
            ),
        ),
        (
            "Replication is healthy",
            format!(
                "{}: one leader, every replica streaming, lag 0.",
                code(&command("curl -s ", &format!("http://{first_patroni}:{}/cluster", ports::PATRONI_REST), ""))
            ),
        ),
        ("MinIO healing is clean", "Run the MinIO heal check script: it exits 0 only when no drive or object needs healing.".into()),
        (
            "HAProxy failover tested",
            format!("Stop keepalived on the node holding {}; the VIP moves within seconds and clients keep working.", code(&t.vip.to_string())),
        ),
        (
            "Patroni failover tested",
            format!("`patronictl switchover` (and once a hard stop of the primary): Synapse reconnects through PgBouncer and {}.", code(&format!("{}:{}", t.vip, ports::PG_PRIMARY))),
        ),
        (
            "Backups run",
            format!(
                "pgBackRest `info` shows a recent full, diff and incr backup and never more than {} fulls (retention.full-backups {} + the one being taken); the media snapshots exist, at most {} (retention.media-snapshots).",
                ctx.plan.retention.full_backups.saturating_add(1),
                ctx.plan.retention.full_backups,
                ctx.plan.retention.media_snapshots
            ),
        ),
        ("A restore was tested (critical)", format!("Restore the database to a scratch host with the restore procedure, including truncating {OTK_TABLE}, and a media restore.")),
        ("/etc/hosts is right on every host", "prepare-host.sh wrote it; the pre-deploy check resolves every name from every host.".into()),
        ("Firewall rules survive a reboot", "Reboot one host of each role and run the post-deploy check again.".into()),
        (
            "Certificates are valid and on every node",
            format!(
                "{} shows the expected chain and expiry; the alerts CertificateExpiringSoon (21 days), CertificateExpiringCritical (7 days) and TlsProbeFailed watch it from then on.",
                code(&command(
                    "openssl s_client -connect ",
                    &format!("{}:{}", t.vip, ports::HTTPS),
                    &format!(" -servername {}", shell::quote(domain))
                ))
            ),
        ),
        ("Time is synchronised", "The post-deploy check reads chrony's offset on every host (limit 0.1 s).".into()),
        ("Log rotation is configured", format!("Docker's json-file logs rotate at 10 MB × 3 ({DOCKER_DAEMON_JSON} and the playbook's Docker options); Synapse's containers log to the journal instead (the playbook's `--log-driver=none`), within this bundle's journald limits.")),
        ("Alert rules are loaded and an alert reaches a human", format!("Stop a worker; the alert reaches {}.", code(&ctx.plan.ops.email))),
        ("The documentation is with the operations team", "This bundle's README, RUNBOOK and the plan file, stored with the vault password kept separately.".into()),
    ];
    for (item, how) in items {
        let _ = writeln!(o, "- [ ] **{item}.** {how}");
    }
    File::new(
        CHECKLIST,
        Scope::Control,
        "Production checklist with the check for each item on this cluster.",
        o,
    )
}

/// RUNBOOK's "Media does not load": the S3 storage provider's errors are in the journal
/// of the processes that serve media: the media repository workers when the plan has
/// them (the main process then serves no media: `matrix_synapse_enable_media_repo` in
/// the playbook's `roles/custom/matrix-synapse/defaults/main.yml` line 1195), else the
/// main process.
fn media_section(ctx: &Ctx, ws: &[workers::Worker]) -> String {
    let t = &ctx.topology;
    let media: Vec<&str> = ws
        .iter()
        .filter(|w| w.kind == crate::plan::WorkerKind::MediaRepository)
        .map(|w| w.name.as_str())
        .collect();
    let (units, who) = if media.is_empty() {
        (
            vec![SYNAPSE_UNIT],
            format!("the main process ({})", code(SYNAPSE_UNIT)),
        )
    } else {
        let names: Vec<String> = media.iter().map(|n| code(n)).collect();
        (
            media.clone(),
            format!("the media repository workers ({})", names.join(", ")),
        )
    };
    let synapse = t
        .first(Role::Synapse)
        .map(|h| h.fqdn.clone())
        .unwrap_or_default();
    let mut o = String::new();
    let _ = writeln!(o, "## Media does not load\n");
    let _ = writeln!(
        o,
        "Media lives in MinIO (bucket `{MEDIA_BUCKET}`) behind {}. S3 errors appear in the journal of {who} on {}: \
         the playbook runs Synapse's containers with `--log-driver=none`, so Docker keeps no logs of them.\n\n\
         ```sh\n{} -n 1000 | grep -i s3 | tail\n{}   # 200: write quorum\n```\n\n\
         Then the MinIO heal check script (drives offline, objects to heal). `mc policy` commands do not exist any more: the bucket's access is the `{MINIO_SYNAPSE_USER}` user's policy (`mc admin policy entities`).\n",
        code(&format!("{}:{}", t.vip, ports::MINIO_API)),
        code(&synapse),
        journalctl(units),
        command(
            "curl -s -o /dev/null -w '%{http_code}\\n' ",
            &format!("http://{}:{}/minio/health/cluster", t.vip, ports::MINIO_API),
            ""
        )
    );
    o
}

pub fn runbook(ctx: &Ctx) -> File {
    let t = &ctx.topology;
    let c = &ctx.report.connections;
    let ws = workers::workers(ctx.plan);
    let sync: Vec<&workers::Worker> = ws
        .iter()
        .filter(|w| w.kind == crate::plan::WorkerKind::Sync)
        .collect();
    let example = ws
        .first()
        .map(|w| w.name.clone())
        .unwrap_or_else(|| SYNAPSE_UNIT.to_string());
    let example_port = ws.iter().find_map(|w| w.port).unwrap_or(8008);
    let synapse = t
        .first(Role::Synapse)
        .map(|h| h.fqdn.clone())
        .unwrap_or_default();
    let mut o = ctx.header(Comment::Html);
    let _ = writeln!(o, "# Runbook: {}\n", text(&ctx.plan.name));
    let _ = writeln!(
        o,
        "The seed's common issues and their fixes, with this cluster's names, ports and numbers.\n"
    );

    let _ = writeln!(o, "## Workers do not start\n");
    let _ = writeln!(
        o,
        "On {}:\n\n```sh\n{}\nsystemctl list-units 'matrix-synapse*' --state=failed\n```\n\n\
         A port conflict shows as \"Address already in use\": `ss -tlnp | grep :{example_port}`. Worker ports follow the playbook's \
         scheme (sync 28211+, client readers 28311+, stream writers 20011+); nothing else on the host may use them. \
         Removing workers needs `just setup-all`; changing the number of event persisters restarts every worker.\n",
        code(&synapse),
        command("journalctl -u ", &example, " -n 50")
    );
    let _ = writeln!(o, "## Database connections exhausted\n");
    let _ = writeln!(
        o,
        "The chain of this plan: Synapse may open {} connections ({} processes × cp_max {}), PgBouncer accepts {} and opens at most {} to PostgreSQL, which allows {} ({} after the reserve).\n\n\
         ```sh\n# on the primary (patronictl list names it), over its local socket: pg_hba admits\n# postgres only there (peer) and from the other Patroni nodes, not through the VIP\nsudo -u postgres psql -c \"SELECT usename, state, count(*) FROM pg_stat_activity GROUP BY 1, 2 ORDER BY 3 DESC;\"\n\
         {pgb_view}psql -h 127.0.0.1 -p {pgb} -U {PGBOUNCER_STATS_USER} pgbouncer -c 'SHOW POOLS;'\n```\n\n\
         `cl_waiting` above 0 for long means the pool is too small: raise `pgbouncer.default-pool-size` in the plan (PostgreSQL's max_connections must keep room for it) and regenerate. \
         Connections from anything but PgBouncer, Patroni, the exporter and pgBackRest are a misconfiguration.\n",
        c.synapse_pool_total,
        c.synapse_processes,
        c.cp_max,
        c.pgbouncer_max_client_conn,
        c.pgbouncer_server_connections,
        c.postgres_max_connections,
        c.postgres_available,
        pgb_view = comment::hash_line(&format!("PgBouncer's view, on {synapse}")),
        pgb = ports::PGBOUNCER,
    );
    let _ = writeln!(o, "## High sync latency\n");
    let sync_names = if sync.is_empty() {
        "(this plan has no dedicated sync workers: /sync is served by the main process or generic workers)".to_string()
    } else {
        sync.iter()
            .map(|w| code(&w.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(
        o,
        "Sync workers: {sync_names}.\n\n```sh\ndocker stats --no-stream $(docker ps --format '{{{{.Names}}}}' | grep matrix-synapse-worker-sync)\n```\n\n\
         A worker near 100% CPU is saturated (one core per process): add sync workers in the plan and regenerate; \
         the alert on sync p95 latency fires above 300 ms.\n"
    );
    o.push_str(&media_section(ctx, &ws));
    let _ = writeln!(o, "## The VIP does not move, or is on two nodes\n");
    let _ = writeln!(
        o,
        "```sh\n{show}          {hosts}journalctl -u keepalived -n 50\n```\n\n\
         Two holders mean VRRP adverts do not pass between the nodes on {iface} (multicast filtered): allow VRRP (IP protocol 112) between them.\n",
        show = command("ip -o addr show to ", &t.vip.to_string(), ""),
        hosts = comment::hash_line(&format!(
            "on each of {}",
            ctx.hosts(Role::Haproxy)
                .map(|h| h.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
        iface = code(&t.interface)
    );
    let _ = writeln!(o, "## PostgreSQL primary lost\n");
    let _ = writeln!(
        o,
        "Patroni promotes a replica within its TTL; HAProxy follows `GET /primary` on port {} and PgBouncer reconnects. Check:\n\n```sh\n{}\npatronictl -c {PATRONI_CONFIG} list\n```\n\n\
         A former primary that will not rejoin: `patronictl reinit <cluster> <member>`. With {} Patroni nodes the cluster survives {} node failure(s).\n",
        ports::PATRONI_REST,
        command(
            "curl -s ",
            &format!(
                "http://{}:{}/cluster",
                t.first(Role::Patroni)
                    .map(|h| h.fqdn.as_str())
                    .unwrap_or(""),
                ports::PATRONI_REST
            ),
            " | jq '.members[] | {name, role, state, lag}'"
        ),
        ctx.plan.host(Role::Patroni).count,
        ctx.plan.host(Role::Patroni).count.saturating_sub(1) / 2
    );
    let _ = writeln!(o, "## Restore\n");
    let _ = writeln!(
        o,
        "Follow the restore procedure in this bundle (database point in time, then `TRUNCATE {OTK_TABLE};` so clients do not reuse one-time keys that were already claimed; then media). \
         Secrets to have at hand: {}.\n",
        [
            SecretId::PostgresSuperuserPassword,
            SecretId::PgbackrestCipherPass,
            SecretId::MinioRootPassword
        ]
        .iter()
        .map(|s| format!("`{}`", s.vault_var()))
        .collect::<Vec<_>>()
        .join(", ")
    );
    File::new(
        RUNBOOK,
        Scope::Control,
        "Runbook: the common problems and their fixes with this cluster's names and commands.",
        o,
    )
}

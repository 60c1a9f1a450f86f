//! The Ansible side: matrix-docker-ansible-deploy's inventory for the Synapse host, its
//! `vars.yml` and an ansible-vault-ready `vault.yml`.
//!
//! Every variable set here exists in the playbook @ c0681e4 (`tests/data/playbook-vars.txt`)
//! or in an external role it pulls in (`external-role-vars.txt`; `traefik_*` from
//! mother-of-all-self-hosting/ansible-role-traefik, each with a comment saying why).
//! What the playbook has no variable for goes through
//! `matrix_synapse_configuration_extension_yaml`, which the playbook merges recursively
//! over its homeserver.yaml (`roles/custom/matrix-synapse/defaults/main.yml`,
//! `matrix_synapse_configuration`). Secrets appear in `vars.yml` only as
//! `"{{ vault_<name> }}"`; `vault.yml` holds exactly the ones referenced.
//!
//! Both YAML files are [`yaml::Doc`]s in the Ansible dialect: a string value holding
//! Jinja syntax is written `!unsafe`, so Ansible never evaluates text that came from a
//! plan; the vault references are the generator's own [`Node::Template`]s. The
//! inventory's values go through [`Format::Inventory`].

use super::{Comment, Ctx, File, Host, Scope, SecretId, ports};
use crate::plan::{Plan, Role, WorkerKind};
use crate::sizing::Gib;
use crate::syntax::conf::Format;
use crate::syntax::yaml::{self, Map, Node, Seq};
use std::collections::BTreeSet;

/// The release the playbook @ c0681e4 expects users to have reviewed
/// (`roles/custom/matrix_playbook_migration/defaults/main.yml`,
/// `matrix_playbook_migration_expected_version`).
const PLAYBOOK_VALIDATED_VERSION: &str = "v2026.05.18.0";

/// Region name for the S3 provider: MinIO's default region (`MINIO_REGION` unset). The
/// playbook refuses an empty region (`tasks/ext/s3-storage-provider/validate_config.yml`).
const MINIO_REGION: &str = "us-east-1";
const MEDIA_BUCKET: &str = "synapse-media";
const MINIO_SYNAPSE_USER: &str = "synapse";
const SYNAPSE_DB: &str = "synapse";
const SYNAPSE_DB_USER: &str = "synapse";
/// Element Web's path on the server name (docs/configuring-playbook-client-element-web.md,
/// "Adjusting the Element Web URL"); `/` then redirects to it.
const ELEMENT_PATH: &str = "/element";
/// HAProxy routes this path to the LiveKit nodes.
use super::topology::LIVEKIT_PATH;

/// Seed §3 values (the user's deployment notes) as (per_second in hundredths, burst).
const SEED_RC_MESSAGE: (u64, u64) = (1000, 50);
const SEED_RC_PER_IP: (u64, u64) = (17, 3);
const SEED_RC_ADMIN_REDACTION: (u64, u64) = (100, 50);
const SEED_RC_JOINS_LOCAL: (u64, u64) = (10, 10);
const SEED_RC_JOINS_REMOTE: (u64, u64) = (1, 10);
const SEED_RC_INVITES_PER_ROOM: (u64, u64) = (30, 10);
/// 0.003/s: kept in thousandths below.
const SEED_RC_INVITES_PER_USER_MILLI: (u64, u64) = (3, 5);
/// The playbook's own per-issuer default (the seed lists none; setting the variable
/// replaces the whole mapping, so it is repeated here).
const PLAYBOOK_RC_INVITES_PER_ISSUER: (u64, u64) = (30, 10);
const SEED_RC_3PID_MILLI: (u64, u64) = (3, 5);
/// Seed §3 "Room Complexity Limits".
const SEED_ROOM_COMPLEXITY: f64 = 3.0;
/// Seed §3 "Upload Limits".
const SEED_MAX_UPLOAD_MB: u64 = 100;
/// A media lifetime from the plan's `retention.*-media-days` (seed §3: local 90 days,
/// remote 14): Synapse's duration `<n>d`. 0 keeps media forever: the variable is left
/// null, which the playbook's homeserver.yaml template skips (`{% if … %}`), and a
/// media_retention without the key never deletes (Synapse docs, config_documentation.md,
/// media_retention).
fn media_lifetime(days: u64) -> Node {
    if days == 0 {
        Node::Null
    } else {
        Node::Str(format!("{days}d"))
    }
}
/// Seed §3 "Cache Expiry Settings".
const SEED_CACHE_ENTRY_TTL: &str = "30m";
const SEED_SYNC_RESPONSE_CACHE: &str = "5m";

pub fn files(ctx: &Ctx) -> Vec<File> {
    let Some(synapse) = ctx.topology.first(Role::Synapse) else {
        return Vec::new();
    };
    let dir = format!("ansible/inventory/host_vars/{}", inventory_name(ctx));
    let (vars, used) = vars_yml(ctx, synapse);
    vec![
        File::new(
            "ansible/inventory/hosts",
            Scope::Control,
            "The playbook's inventory: the Synapse host in group matrix_servers, under the server name.",
            inventory(ctx, synapse),
        ),
        File::new(
            format!("{dir}/vars.yml"),
            Scope::Control,
            "matrix-docker-ansible-deploy settings: workers, caches, PgBouncer, Valkey, S3 media, TURN, MatrixRTC, Traefik behind HAProxy, metrics, rate limits.",
            vars,
        ),
        File::new(
            format!("{dir}/vault.yml"),
            Scope::Control,
            "The secrets vars.yml references (vault_*): encrypt it with ansible-vault before anything else.",
            vault_yml(ctx, &used),
        )
        .secret(),
    ]
}

/// The Synapse host's name in the inventory: the server name as one inventory word.
/// `host_vars/<this>/` is where Ansible looks for its variables, so the directory and
/// the inventory line always use this same text.
fn inventory_name(ctx: &Ctx) -> String {
    Format::Inventory.value(&ctx.topology.server_name)
}

fn inventory(ctx: &Ctx, synapse: &Host) -> String {
    let name = inventory_name(ctx);
    let about = Comment::Hash.lines(&format!(
        "matrix-docker-ansible-deploy inventory (examples/hosts of the playbook). The playbook\n\
         manages one host: {fqdn}, which runs Synapse and its workers. Its inventory name is\n\
         the Matrix server name, so host_vars/{name}/ holds its settings.\n\
         \n\
         To connect as another user and become root with sudo, replace ansible_ssh_user=root\n\
         with: ansible_ssh_user=USER ansible_become=true ansible_become_user=root\n\
         (and pass --ask-become-pass when sudo asks for a password).",
        fqdn = synapse.fqdn,
    ));
    format!(
        "{header}{about}\n[matrix_servers]\n{name} ansible_host={ip} ansible_ssh_user=root\n",
        header = ctx.header(Comment::Hash),
        ip = Format::Inventory.value(&synapse.ip.to_string()),
    )
}

/// `n` hundredths as a YAML number: 17 → 0.17, 170 → 1.7, 1000 → 10. A whole number is
/// an integer, anything else a float (Synapse reads `per_second` as a float either way).
fn hundredths(n: u64) -> Node {
    fraction(n, 100)
}

/// `n` thousandths as a YAML number: 3 → 0.003, 2000 → 2.
fn thousandths(n: u64) -> Node {
    fraction(n, 1000)
}

fn fraction(n: u64, per: u64) -> Node {
    if n.is_multiple_of(per) {
        Node::UInt(n / per)
    } else {
        // Both are small exact integers: the quotient is the double nearest to the
        // decimal, which the emitter writes back as that decimal.
        Node::Float(n as f64 / per as f64)
    }
}

/// A mapping of the generator's keys, in order.
fn map<const N: usize>(entries: [(&str, Node); N]) -> Node {
    let mut m = Map::new();
    for (k, v) in entries {
        m.insert(k, v);
    }
    m.into()
}

fn bucket(per_second: Node, burst: u64) -> Node {
    Map::new()
        .with("per_second", per_second)
        .with("burst_count", burst)
        .into()
}

/// Bytes of a [`Gib`] figure (hundredths of a GiB), for the playbook's cache
/// auto-tuning variables, which the template passes through `| int`.
fn gib_bytes(g: Gib) -> u64 {
    let bytes = u128::from(g.0) * (1u128 << 30) / 100;
    u64::try_from(bytes).unwrap_or(u64::MAX)
}

/// How many times the seed's per-IP login/registration buckets the plan needs: the
/// seed's values are for the seed's cluster (the default plan's peak); a bigger peak
/// puts more users behind each shared address (office NAT, VPN gateway), so the bucket
/// grows with it. Never below the seed's values.
fn per_ip_scale(plan: &Plan) -> u64 {
    let seed_peak = Plan::default().users.peak_concurrent.max(1);
    plan.users.peak_concurrent.div_ceil(seed_peak).max(1)
}

/// Presence on iff the plan gives it a stream writer: the seed turns presence off for
/// load; a plan that plans a presence writer wants it.
fn presence_enabled(plan: &Plan) -> bool {
    plan.workers(WorkerKind::StreamWriterPresence) > 0
}

/// Valkey runs when the plan asks for Redis, and always with workers: Synapse workers
/// cannot run without it (the planner reports `workers-without-redis` for such plans).
fn valkey_enabled(plan: &Plan) -> bool {
    plan.synapse.redis || plan.worker_count() > 0
}

/// Synapse's `turn_uris`: every coturn host by FQDN, UDP and TCP on the TURN port.
fn turn_uris(ctx: &Ctx) -> Vec<String> {
    ctx.hosts(Role::Coturn)
        .flat_map(|h| {
            ["udp", "tcp"].map(|t| format!("turn:{}:{}?transport={t}", h.fqdn, ports::TURN))
        })
        .collect()
}

/// Every `matrix_synapse_workers_*_count` variable with its count, in the playbook's
/// stream order; the two stream writers the plan has no key for are 0.
fn worker_counts(plan: &Plan) -> Vec<(&'static str, u64)> {
    let mut out: Vec<(&'static str, u64)> = WorkerKind::ALL
        .iter()
        .map(|&k| (k.playbook_count_var(), plan.workers(k)))
        .collect();
    out.push((
        "matrix_synapse_workers_stream_writer_thread_subscriptions_stream_workers_count",
        0,
    ));
    out.push((
        "matrix_synapse_workers_stream_writer_quarantined_media_changes_stream_workers_count",
        0,
    ));
    out
}

/// The settings that have no playbook variable, as YAML text for
/// `matrix_synapse_configuration_extension_yaml`. The playbook reads it with `from_yaml`
/// (PyYAML's safe loader), so it is plain YAML, without Ansible's tags.
fn extension_yaml(plan: &Plan) -> String {
    let mut root = Map::new();
    root.blank().comment(
        "Seed §3: requests for e-mail/phone validation tokens, per client and per address.",
    );
    root.insert(
        "rc_3pid_validation",
        bucket(thousandths(SEED_RC_3PID_MILLI.0), SEED_RC_3PID_MILLI.1),
    );
    if !plan.synapse.per_cache_factors.is_empty() {
        let mut factors = Map::new();
        for (name, f) in &plan.synapse.per_cache_factors {
            // A factor is a float to Synapse: always written with a decimal point.
            factors.insert(name, Node::Float(*f));
        }
        root.blank().comment(
            "The plan's per-cache factors (override caches.global_factor for these caches).",
        );
        root.insert("caches", Map::new().with("per_cache_factors", factors));
    }
    yaml::Doc::new(root)
        .header(
            "Synapse settings the playbook has no variable for, merged recursively over the\n\
             homeserver.yaml it renders (matrix_synapse_configuration).",
        )
        .render()
}

struct Builder<'a> {
    ctx: &'a Ctx<'a>,
    /// vars.yml's root mapping, built section by section.
    root: Map,
    /// No variable in the current section yet.
    section_start: bool,
    used: BTreeSet<SecretId>,
}

impl<'a> Builder<'a> {
    /// A section: a blank line and its title as a comment, before its first variable.
    fn section(&mut self, title: &'static str) {
        self.root.blank().comment(format!("---- {title} ----"));
        self.section_start = true;
    }

    fn var(&mut self, name: &str, value: impl Into<Node>, why: &[&str]) {
        let why = why.iter().map(|l| l.to_string()).collect();
        self.var_owned(name, value, why);
    }

    /// `name: value`, after its reasons as comment lines. A variable without a comment
    /// sits right under the one before it.
    fn var_owned(&mut self, name: &str, value: impl Into<Node>, why: Vec<String>) {
        if self.section_start || !why.is_empty() {
            self.root.blank();
        }
        self.section_start = false;
        for line in &why {
            self.root.comment(line);
        }
        self.root.insert(name, value);
    }

    /// `"{{ vault_<name> }}"`, recording that vault.yml must hold it.
    fn secret(&mut self, id: SecretId) -> Node {
        self.used.insert(id);
        Node::Template(format!("{{{{ {} }}}}", id.vault_var()))
    }
}

fn vars_yml(ctx: &Ctx, synapse: &Host) -> (String, BTreeSet<SecretId>) {
    let mut b = Builder {
        ctx,
        root: Map::new(),
        section_start: false,
        used: BTreeSet::new(),
    };
    basics(&mut b);
    web(&mut b, synapse);
    database(&mut b, synapse);
    workers(&mut b, synapse);
    caches(&mut b);
    media(&mut b);
    rate_limits(&mut b);
    rooms_presence_logging(&mut b);
    calls(&mut b);
    metrics(&mut b, synapse);
    maintenance_and_apps(&mut b);
    extension(&mut b);

    let about = format!(
        "\n\
         matrix-docker-ansible-deploy (c0681e4) settings for {server}, the Synapse host\n\
         {fqdn} ({ip}). Secrets are \"{{{{ vault_* }}}}\" references to vault.yml next to this file.\n\
         \n\
         Where the seed notes were wrong, this file does what works instead: per-cache\n\
         factors and 3PID rate limits go through the configuration extension (the\n\
         playbook has no variables for them); media retention uses the two\n\
         *_media_lifetime variables; the seed's state-compression block and its\n\
         state-resolution limit do not exist in Synapse, rust-synapse-compress-state's\n\
         synapse_auto_compressor does that job; synapse-admin is now Ketesa; worker\n\
         ports are the playbook's own (not the seed's); the database\n\
         password is Synapse's own role, not the superuser's.",
        server = ctx.topology.server_name,
        fqdn = synapse.fqdn,
        ip = synapse.ip,
    );
    let doc = yaml::Doc::new(b.root)
        .header(ctx.provenance())
        .header(about)
        .start()
        .ansible();
    (doc.render(), b.used)
}

fn basics(b: &mut Builder) {
    let server = b.ctx.topology.server_name.clone();
    b.section("Playbook basics");
    b.var(
        "matrix_playbook_migration_validated_version",
        PLAYBOOK_VALIDATED_VERSION,
        &[
            "Breaking changes reviewed up to the release the playbook @ c0681e4 expects",
            "(roles/custom/matrix_playbook_migration): it stops when this is older.",
        ],
    );
    b.var(
        "matrix_domain",
        server.clone(),
        &["The Matrix server name: user IDs are @user:<this>. It cannot change after the first run."],
    );
    b.var(
        "matrix_server_fqn_matrix",
        server.clone(),
        &[
            "Matrix is served on the server name itself, not on matrix.<domain> (the default):",
            "HAProxy holds one certificate, for this name, and sends every path of it to Traefik",
            "(docs/faq.md, \"How do I install on matrix.example.com without involving the base",
            "domain?\"). Federation finds it through /.well-known/matrix/server (<name>:8448).",
        ],
    );
    b.var(
        "matrix_server_fqn_element",
        server,
        &["Element Web on the same name, under a path (see matrix_client_element_path_prefix)."],
    );
    b.var("matrix_homeserver_implementation", "synapse", &[]);
    let key = b.secret(SecretId::GenericSecretKey);
    b.var(
        "matrix_homeserver_generic_secret_key",
        key,
        &["The playbook derives Synapse's macaroon, form and registration secrets from it."],
    );
    b.var(
        "devture_systemd_docker_base_ipv6_enabled",
        true,
        &[
            "The playbook's recommendation (examples/vars.yml): container networks get IPv6 now,",
            "because turning it on later means deleting and recreating every container network.",
            "Harmless on an IPv4-only network.",
        ],
    );
    b.var(
        "matrix_playbook_docker_installation_daemon_options_custom",
        Map::new().with("log-driver", "json-file").with(
            "log-opts",
            Map::new().with("max-size", "10m").with("max-file", "3"),
        ),
        &[
            "The playbook installs Docker here and writes /etc/docker/daemon.json from its own",
            "options: this keeps the same log rotation as hosts/all/etc/docker/daemon.json",
            "(json-file, 10 MB x 3 per container, seed §3). Synapse's own containers log to",
            "journald (--log-driver=none in the playbook's units), so journald's limits apply to them.",
        ],
    );
}

fn web(b: &mut Builder, synapse: &Host) {
    let haproxies: Seq = b
        .ctx
        .hosts(Role::Haproxy)
        .map(|h| h.ip.to_string())
        .collect();
    b.section("Web: the playbook's Traefik, fronted by HAProxy on the VIP");
    b.var(
        "matrix_playbook_reverse_proxy_type",
        "playbook-managed-traefik",
        &[
            "Traefik stays: it routes every path to the right Synapse worker and service.",
            "HAProxy on the VIP terminates TLS and forwards to it (docs/configuring-playbook-own-",
            "webserver.md, \"Fronting the integrated reverse-proxy webserver with another",
            "reverse-proxy\"). HAProxy must pass the Host header, or Traefik answers 404.",
        ],
    );
    b.var(
        "matrix_playbook_ssl_enabled",
        true,
        &["Public URLs are https: HAProxy does TLS, even though Traefik does not."],
    );
    b.var(
        "traefik_config_entrypoint_web_secure_enabled",
        false,
        &[
            "traefik_* come from the external role mother-of-all-self-hosting/ansible-role-traefik",
            "(defaults/main.yml), which the playbook pulls in and which the reference lists do not",
            "cover. No 443 entrypoint and no ACME: TLS ends at HAProxy. This also turns TLS off",
            "on the federation entrypoint (matrix_federation_traefik_entrypoint_tls follows it).",
        ],
    );
    b.var_owned(
        "traefik_container_web_host_bind_port",
        format!("{}:{}", synapse.ip, ports::SYNAPSE_WEB),
        vec![
            "External role ansible-role-traefik: where Traefik's plain-HTTP entrypoint is published.".into(),
            format!(
                "The Synapse host's private address, port {}: HAProxy's web backend.",
                ports::SYNAPSE_WEB
            ),
        ],
    );
    b.var(
        "traefik_config_entrypoint_web_forwardedHeaders_trustedIPs",
        haproxies.clone(),
        &[
            "External role ansible-role-traefik: X-Forwarded-* headers are believed only from the",
            "HAProxy hosts (not `insecure: true`, since the port is on the network). Synapse takes",
            "the client's address from X-Forwarded-For; without it every user would share",
            "HAProxy's address and its per-IP rate limits.",
        ],
    );
    b.var_owned(
        "matrix_playbook_public_matrix_federation_api_traefik_entrypoint_host_bind_port",
        format!("{}:{}", synapse.ip, ports::SYNAPSE_FEDERATION),
        vec![format!(
            "Federation entrypoint, plain HTTP, on the private address: HAProxy's {} (TLS) goes here.",
            ports::FEDERATION
        )],
    );
    b.var(
        "matrix_playbook_public_matrix_federation_api_traefik_entrypoint_config_http3_enabled",
        false,
        &["HTTP/3 is HAProxy's business at the edge; off here (no UDP port published)."],
    );
    b.var(
        "matrix_playbook_public_matrix_federation_api_traefik_entrypoint_config_custom",
        Map::new().with("forwardedHeaders", Map::new().with("trustedIPs", haproxies)),
        &["Same trust as the web entrypoint: forwarded headers from the HAProxy hosts only."],
    );
}

fn database(b: &mut Builder, synapse: &Host) {
    let c = &b.ctx.report.connections;
    let (processes, cp_max, pool_mode) = (c.synapse_processes, c.cp_max, c.pgbouncer_pool_mode);
    let cp_min = b.ctx.plan.synapse.cp_min;
    b.section("Database: external PostgreSQL (Patroni) through PgBouncer on this host");
    b.var(
        "postgres_enabled",
        false,
        &[
            "No playbook-managed PostgreSQL (docs/configuring-playbook-external-postgres.md):",
            "Synapse uses the Patroni cluster.",
        ],
    );
    b.var_owned(
        "matrix_synapse_database_host",
        synapse.ip.to_string(),
        vec![
            format!(
                "PgBouncer on this host's private address ({pool_mode} pooling), which forwards to"
            ),
            format!(
                "HAProxy on the VIP :{} and so to the Patroni primary. Not 127.0.0.1: inside the",
                ports::PG_PRIMARY
            ),
            "container that is the container itself. PgBouncer sees the containers' Docker-network"
                .into(),
            "addresses as clients.".into(),
        ],
    );
    b.var("matrix_synapse_database_port", ports::PGBOUNCER, &[]);
    b.var(
        "matrix_synapse_database_user",
        SYNAPSE_DB_USER,
        &["Synapse's own role (PgBouncer's and Patroni's files create it); never the superuser."],
    );
    let pw = b.secret(SecretId::SynapseDbPassword);
    b.var(
        "matrix_synapse_database_password",
        pw,
        &["Replaces the password the playbook would derive from the generic secret key."],
    );
    b.var("matrix_synapse_database_database", SYNAPSE_DB, &[]);
    b.var_owned(
        "matrix_synapse_database_cp_min",
        cp_min,
        vec!["Connections each Synapse process keeps open (the plan's cp_min).".into()],
    );
    b.var_owned(
        "matrix_synapse_database_cp_max",
        cp_max,
        vec![
            "At most this many per process: one setting for all, no per-worker override.".into(),
            format!(
                "{processes} processes x {cp_max} = {} client connections, what PgBouncer's",
                c.synapse_pool_total
            ),
            format!(
                "max_client_conn ({}) must cover.",
                c.pgbouncer_max_client_conn
            ),
        ],
    );
}

fn workers(b: &mut Builder, synapse: &Host) {
    let plan = b.ctx.plan;
    let n = plan.worker_count();
    b.section("Synapse workers and Valkey");
    b.var_owned(
        "valkey_enabled",
        valkey_enabled(plan),
        if plan.worker_count() > 0 && !plan.synapse.redis {
            vec![
                "The playbook's Valkey (Synapse's Redis) on this host, reached over a Unix socket."
                    .into(),
                "On although the plan turns Redis off: workers cannot run without it.".into(),
            ]
        } else if valkey_enabled(plan) {
            vec![
                "The playbook's Valkey (Synapse's Redis) on this host, reached over a Unix socket;"
                    .into(),
                "matrix_synapse_redis_* follow it (group_vars). Workers require it.".into(),
            ]
        } else {
            vec!["No Valkey: the plan has no workers and no Redis.".into()]
        },
    );
    b.var_owned(
        "matrix_synapse_workers_enabled",
        n > 0,
        vec![if n == 0 {
            "No workers: the main process does everything.".to_string()
        } else {
            format!(
                "{} + the main process = {} Synapse processes.",
                crate::format::plural(n as usize, "worker", "workers"),
                plan.synapse_process_count()
            )
        }],
    );
    let counts = worker_counts(plan);
    let last = counts.len().saturating_sub(1);
    for (i, (var, count)) in counts.into_iter().enumerate() {
        let why: Vec<String> = if i == 0 {
            vec![
                "Every count is set, so no preset (matrix_synapse_workers_preset) leaks in. Names and".into(),
                "ports follow from these counts (shared/reference/worker-port-scheme.tsv); the bundle's".into(),
                "Prometheus and health checks use the same list.".into(),
            ]
        } else if i == last - 1 {
            vec![
                "Stream writers the plan has no key for: thread subscriptions (MSC4306, unstable)"
                    .into(),
                "and quarantined-media changes stay on the main process.".into(),
            ]
        } else {
            Vec::new()
        };
        b.var_owned(var, count, why);
    }
    if n > 0 {
        b.var_owned(
            "matrix_synapse_workers_container_host_bind_address",
            synapse.ip.to_string(),
            vec![
                "Publishes each worker's metrics port (and its HTTP port, if it has one) on the"
                    .into(),
                "private address, for Prometheus on the monitoring host.".into(),
            ],
        );
    }
}

fn caches(b: &mut Builder) {
    let plan = b.ctx.plan;
    let syn = &b.ctx.report.synapse;
    let (max, target, min_ttl) = (
        syn.cache_autotuning_max_gib,
        syn.cache_autotuning_target_gib,
        syn.cache_autotuning_min_ttl,
    );
    b.section("Caches");
    b.var_owned(
        "matrix_synapse_caches_global_factor",
        Node::Float(plan.synapse.cache_factor),
        vec![
            "The plan's cache factor. It scales entry counts, not bytes; the RAM budget counts"
                .into(),
            format!(
                "1.5 GiB + 0.5 GiB x factor = {} GiB per process.",
                syn.ram_per_process_gib
            ),
        ],
    );
    b.var("matrix_synapse_caches_expire_caches", true, &[]);
    b.var(
        "matrix_synapse_caches_cache_entry_ttl",
        SEED_CACHE_ENTRY_TTL,
        &[
            "Seed §3: entries unused for 30 minutes are dropped (the playbook's default is 1080m).",
            "Memory is capped by the auto-tuning below either way.",
        ],
    );
    b.var(
        "matrix_synapse_caches_sync_response_cache_duration",
        SEED_SYNC_RESPONSE_CACHE,
        &["Seed §3: a /sync answer is kept 5 minutes for clients that retry on flaky links."],
    );
    b.var_owned(
        "matrix_synapse_cache_autotuning_max_cache_memory_usage",
        gib_bytes(max),
        vec![
            format!(
                "= {max} GiB in bytes (the template passes it through | int): the cache share of each"
            ),
            "process's budget (0.5 GiB x cache factor), so caches cannot outgrow it. Per process;".into(),
            "the playbook's default would be min(host RAM / 8, 2 GiB). Needs jemalloc (in the image).".into(),
        ],
    );
    b.var_owned(
        "matrix_synapse_cache_autotuning_target_cache_memory_usage",
        gib_bytes(target),
        vec![format!(
            "= {target} GiB: evict down to half the maximum, the playbook's own ratio."
        )],
    );
    b.var_owned(
        "matrix_synapse_cache_autotuning_min_cache_ttl",
        min_ttl,
        vec!["Entries younger than this survive eviction (the playbook's default).".into()],
    );
}

fn media(b: &mut Builder) {
    let vip = b.ctx.topology.vip;
    b.section("Media: MinIO through synapse-s3-storage-provider");
    b.var(
        "matrix_synapse_ext_synapse_s3_storage_provider_enabled",
        true,
        &[
            "docs/configuring-playbook-synapse-s3-storage-provider.md: Synapse writes media to its",
            "local store first and copies it to MinIO; what is not local is fetched from MinIO.",
        ],
    );
    b.var(
        "matrix_synapse_ext_synapse_s3_storage_provider_config_bucket",
        MEDIA_BUCKET,
        &[],
    );
    b.var(
        "matrix_synapse_ext_synapse_s3_storage_provider_config_region_name",
        MINIO_REGION,
        &["MinIO's default region; the playbook refuses an empty one."],
    );
    b.var_owned(
        "matrix_synapse_ext_synapse_s3_storage_provider_config_endpoint_url",
        format!("http://{vip}:{}", ports::MINIO_API),
        vec![
            "HAProxy on the VIP balances the MinIO nodes (plain HTTP on the private network)."
                .into(),
        ],
    );
    b.var(
        "matrix_synapse_ext_synapse_s3_storage_provider_config_access_key_id",
        MINIO_SYNAPSE_USER,
        &["MinIO user synapse, created by the bundle's bucket script with access to synapse-media only."],
    );
    let key = b.secret(SecretId::MinioSynapseSecretKey);
    b.var(
        "matrix_synapse_ext_synapse_s3_storage_provider_config_secret_access_key",
        key,
        &[],
    );
    b.var(
        "matrix_synapse_ext_synapse_s3_storage_provider_store_local",
        true,
        &["Our users' uploads go to MinIO (they are what must survive the loss of this host)."],
    );
    b.var(
        "matrix_synapse_ext_synapse_s3_storage_provider_store_remote",
        true,
        &["Cached media of other servers too, so a rebuilt host does not fetch it all again."],
    );
    b.var(
        "matrix_synapse_ext_synapse_s3_storage_provider_store_synchronous",
        true,
        &[
            "An upload completes only once MinIO has it: the local disk of this one host is not",
            "where media should live (the playbook defaults to asynchronous copies).",
        ],
    );
    b.var(
        "matrix_synapse_ext_synapse_s3_storage_provider_update_db_day_count",
        0,
        &[
            "The playbook's daily migration (matrix-synapse-s3-storage-provider-migrate.timer,",
            "05:00) uploads whatever is still only local and then deletes the local copies of",
            "files unused for this many days: 0 = all of them. The local store stays a cache, so",
            "media backups come from MinIO, not from this host's disk.",
        ],
    );
    b.var(
        "matrix_synapse_max_upload_size_mb",
        SEED_MAX_UPLOAD_MB,
        &[
            "Seed §3. The playbook sizes each Synapse container's /tmp tmpfs at 50 x this (RAM",
            "only while used, by concurrent uploads).",
        ],
    );
    b.var(
        "matrix_synapse_url_preview_enabled",
        false,
        &["Seed §3: no URL previews (Synapse would fetch every link users post)."],
    );
    let retention = &b.ctx.plan.retention;
    let (local, remote) = (retention.local_media_days, retention.remote_media_days);
    b.var_owned(
        "matrix_synapse_media_retention_local_media_lifetime",
        media_lifetime(local),
        if local == 0 {
            vec![
                "retention.local-media-days = 0: local media are kept forever (null leaves".into(),
                "Synapse's local_media_lifetime unset).".into(),
            ]
        } else {
            vec![
                format!(
                    "retention.local-media-days (seed §3: 90). Local media nobody fetched for {local} days"
                ),
                "is deleted from Synapse; its MinIO copy stays, unreferenced (Synapse never deletes".into(),
                "from a storage provider, element-hq/synapse#16989), so MinIO still grows.".into(),
            ]
        },
    );
    b.var_owned(
        "matrix_synapse_media_retention_remote_media_lifetime",
        media_lifetime(remote),
        if remote == 0 {
            vec!["retention.remote-media-days = 0: cached remote media are kept forever.".into()]
        } else {
            vec![
                format!("retention.remote-media-days (seed §3: 14): {remote} days. Cached remote media is"),
                "re-fetchable from its origin server.".into(),
            ]
        },
    );
}

fn rate_limits(b: &mut Builder) {
    let plan = b.ctx.plan;
    let k = per_ip_scale(plan);
    let seed_peak = Plan::default().users.peak_concurrent;
    let per_ip = bucket(hundredths(SEED_RC_PER_IP.0 * k), SEED_RC_PER_IP.1 * k);
    let per_account = bucket(hundredths(SEED_RC_PER_IP.0), SEED_RC_PER_IP.1);
    b.section("Rate limits");
    b.var(
        "matrix_synapse_rc_message",
        bucket(hundredths(SEED_RC_MESSAGE.0), SEED_RC_MESSAGE.1),
        &[
            "Seed §3 values are the starting point. Per sender: every user has a bucket of their",
            "own, so the total grows with the users by itself and needs no scaling. 10/s (the",
            "playbook's 0.5/s) lets bots and bridges work.",
        ],
    );
    b.var_owned(
        "matrix_synapse_rc_registration",
        per_ip.clone(),
        vec![
            "Per client address, which Synapse reads from X-Forwarded-For (its listeners have".into(),
            "x_forwarded: true; Traefik passes HAProxy's header on, see trustedIPs). HAProxy must".into(),
            "set that header itself: Synapse believes its leftmost entry.".into(),
            format!(
                "Scaled: the seed's 0.17/s, burst 3, fit the seed's {seed_peak} users at peak; users"
            ),
            "behind one shared address (office NAT, VPN gateway) grow with the peak, so the".into(),
            format!(
                "bucket is x ceil({} / {seed_peak}) = x{k} (assumption; never below the seed's).",
                plan.users.peak_concurrent
            ),
        ],
    );
    b.var_owned(
        "matrix_synapse_rc_login",
        map([
            ("address", per_ip),
            ("account", per_account.clone()),
            ("failed_attempts", per_account),
        ]),
        vec![
            format!(
                "address: per client address (X-Forwarded-For, as above), x{k} like registration."
            ),
            "account and failed_attempts are per account, against password guessing: the seed's"
                .into(),
            "0.17/s, burst 3, whatever the scale.".into(),
        ],
    );
    b.var(
        "matrix_synapse_rc_admin_redaction",
        bucket(
            hundredths(SEED_RC_ADMIN_REDACTION.0),
            SEED_RC_ADMIN_REDACTION.1,
        ),
        &["Seed §3 (per admin)."],
    );
    b.var(
        "matrix_synapse_rc_joins",
        map([
            (
                "local",
                bucket(hundredths(SEED_RC_JOINS_LOCAL.0), SEED_RC_JOINS_LOCAL.1),
            ),
            (
                "remote",
                bucket(hundredths(SEED_RC_JOINS_REMOTE.0), SEED_RC_JOINS_REMOTE.1),
            ),
        ]),
        &["Seed §3 (per user): remote joins are the expensive ones."],
    );
    b.var(
        "matrix_synapse_rc_invites",
        map([
            (
                "per_room",
                bucket(
                    hundredths(SEED_RC_INVITES_PER_ROOM.0),
                    SEED_RC_INVITES_PER_ROOM.1,
                ),
            ),
            (
                "per_user",
                bucket(
                    thousandths(SEED_RC_INVITES_PER_USER_MILLI.0),
                    SEED_RC_INVITES_PER_USER_MILLI.1,
                ),
            ),
            (
                "per_issuer",
                bucket(
                    hundredths(PLAYBOOK_RC_INVITES_PER_ISSUER.0),
                    PLAYBOOK_RC_INVITES_PER_ISSUER.1,
                ),
            ),
        ]),
        &[
            "Seed §3 per room and per invited user; per_issuer is the playbook's default (setting",
            "the variable replaces the whole mapping). Federation limits stay the playbook's.",
        ],
    );
}

fn rooms_presence_logging(b: &mut Builder) {
    let plan = b.ctx.plan;
    let presence = presence_enabled(plan);
    b.section("Rooms, presence, logging");
    b.var(
        "matrix_synapse_limit_remote_rooms_enabled",
        true,
        &[
            "Seed §3: refuse to join remote rooms above a state complexity (state events / 500),",
            "through the playbook's variables (homeserver.yaml limit_remote_rooms).",
        ],
    );
    b.var(
        "matrix_synapse_limit_remote_rooms_complexity",
        SEED_ROOM_COMPLEXITY,
        &["Seed §3 (about 1,500 state events); raise it if users must join bigger rooms."],
    );
    b.var_owned(
        "matrix_synapse_presence_enabled",
        presence,
        if presence {
            vec![
                "On: the plan gives presence its own stream writer, so it is wanted and has a"
                    .into(),
                "process to carry it.".into(),
            ]
        } else {
            vec![
                "Off (seed §3): presence costs much with many users online, and the plan gives it"
                    .into(),
                "no stream writer. Plan one to turn presence on.".into(),
            ]
        },
    );
    b.var(
        "matrix_synapse_log_level",
        "INFO",
        &[
            "Seed §3: INFO, one line per request; DEBUG only to troubleshoot (it logs tokens).",
            "Synapse logs to journald through its systemd units.",
        ],
    );
    b.var(
        "matrix_synapse_storage_sql_log_level",
        "WARNING",
        &["SQL statements stay quiet (DEBUG here would log access tokens)."],
    );
    b.var(
        "matrix_synapse_root_log_level",
        "WARNING",
        &["Libraries other than Synapse: warnings only."],
    );
}

fn calls(b: &mut Builder) {
    let ctx = b.ctx;
    let coturns = ctx.hosts(Role::Coturn).count();
    let livekits = ctx.hosts(Role::Livekit).count();
    b.section("Calls: coturn and LiveKit run on their own hosts");
    b.var(
        "coturn_enabled",
        false,
        if coturns > 0 {
            &["No coturn on this host: the coturn hosts run it (this bundle's turnserver.conf)."]
        } else {
            &["No coturn on this host; the plan has no coturn hosts, so Synapse offers no TURN."]
        },
    );
    if coturns > 0 {
        let uris: Seq = turn_uris(ctx).into_iter().collect();
        b.var_owned(
            "matrix_synapse_turn_uris",
            uris,
            vec![
                format!(
                    "Every coturn host ({coturns}) by name, UDP and TCP on {}. No turns: URIs, because the",
                    ports::TURN
                ),
                "TLS certificate names the server name, not these hosts, so clients would refuse it.".into(),
            ],
        );
        let secret = b.secret(SecretId::TurnSharedSecret);
        b.var(
            "matrix_synapse_turn_shared_secret",
            secret,
            &["coturn's static-auth-secret: Synapse hands out time-limited credentials from it."],
        );
    }
    if livekits > 0 {
        b.var_owned(
            "matrix_rtc_enabled",
            true,
            vec![format!(
                "MatrixRTC (group calls) with the {livekits} LiveKit host(s): Synapse's MSC4143 transports,"
            ),
            "delayed events and the clients' rtc_foci come with it (group_vars).".into()],
        );
        b.var(
            "livekit_server_enabled",
            false,
            &["LiveKit itself runs on the LiveKit hosts (livekit.yaml), not here."],
        );
        b.var(
            "matrix_livekit_jwt_service_enabled",
            true,
            &[
                "Only the JWT service runs here (at /livekit-jwt-service on the server name); the",
                "playbook would enable it only together with its own LiveKit, so it is set explicitly.",
            ],
        );
        b.var_owned(
            "matrix_livekit_jwt_service_environment_variable_livekit_url",
            format!(
                "wss://{}{LIVEKIT_PATH}",
                ctx.topology.server_name
            ),
            vec![format!(
                "HAProxy routes {LIVEKIT_PATH}/ on the server name to the LiveKit nodes (WebSocket)."
            )],
        );
        let key = b.secret(SecretId::LivekitApiKey);
        b.var(
            "matrix_livekit_jwt_service_environment_variable_livekit_key",
            key,
            &["The key pair in every livekit.yaml (keys:), instead of one derived from the generic key."],
        );
        let secret = b.secret(SecretId::LivekitApiSecret);
        b.var(
            "matrix_livekit_jwt_service_environment_variable_livekit_secret",
            secret,
            &[],
        );
    }
}

fn metrics(b: &mut Builder, synapse: &Host) {
    b.section("Metrics for the monitoring host");
    b.var(
        "matrix_synapse_metrics_enabled",
        true,
        &["Synapse's metrics listeners (the playbook enables them only with its own Prometheus)."],
    );
    b.var_owned(
        "matrix_synapse_container_metrics_api_host_bind_port",
        format!("{}:{}", synapse.ip, ports::SYNAPSE_MAIN_METRICS),
        vec![format!(
            "Main process: container port 9100 published as {} on the private address (9100",
            ports::SYNAPSE_MAIN_METRICS
        ),
        "on the host is node_exporter's). Workers: see matrix_synapse_workers_container_host_bind_address.".into()],
    );
}

fn maintenance_and_apps(b: &mut Builder) {
    let vip = b.ctx.topology.vip;
    b.section("Maintenance and web apps");
    b.var(
        "matrix_synapse_auto_compressor_enabled",
        true,
        &[
            "rust-synapse-compress-state's synapse_auto_compressor compresses state_groups nightly",
            "(docs/configuring-playbook-synapse-auto-compressor.md). It takes Synapse's database",
            "user and password (group_vars); only its address differs, below.",
        ],
    );
    b.var_owned(
        "matrix_synapse_auto_compressor_database_hostname",
        vip.to_string(),
        vec![
            format!(
                "Straight to the Patroni primary through HAProxy on the VIP :{}, not through",
                ports::PG_PRIMARY
            ),
            "PgBouncer: the compressor (rust-postgres) uses named prepared statements, which"
                .into(),
            "Debian 12's PgBouncer 1.18 cannot keep in transaction pooling (supported from 1.21)."
                .into(),
            "Its one connection is in PostgreSQL's admin reserve.".into(),
        ],
    );
    b.var(
        "matrix_synapse_auto_compressor_database_port",
        ports::PG_PRIMARY,
        &[],
    );
    b.var(
        "matrix_client_element_enabled",
        true,
        &["Element Web, the seed's web client."],
    );
    b.var(
        "matrix_client_element_path_prefix",
        ELEMENT_PATH,
        &[
            "At https://<server name>/element: the name is shared with Synapse, whose / redirects",
            "here (docs/configuring-playbook-client-element-web.md).",
        ],
    );
    b.var(
        "matrix_ketesa_enabled",
        true,
        &[
            "Ketesa (formerly synapse-admin) at /synapse-admin on the server name. It uses",
            "Synapse's admin API: let only the admins' addresses reach /synapse-admin and",
            "/_synapse/admin at HAProxy.",
        ],
    );
}

fn extension(b: &mut Builder) {
    let text = extension_yaml(b.ctx.plan);
    b.section("Synapse settings without a playbook variable");
    b.var(
        "matrix_synapse_configuration_extension_yaml",
        Node::Block(text),
        &["Merged by the playbook with combine(recursive=True) over its homeserver.yaml."],
    );
}

fn vault_yml(ctx: &Ctx, used: &BTreeSet<SecretId>) -> String {
    // The directory name is an inventory word, so the command is one a shell runs as
    // written.
    let path = format!("inventory/host_vars/{}/vault.yml", inventory_name(ctx));
    let mut about = format!(
        "\n\
         ENCRYPT THIS FILE BEFORE ANYTHING ELSE (before copying it, committing it or running\n\
         the playbook), from the ansible/ directory:\n\
         \x20 ansible-vault encrypt {path}\n\
         then run the playbook with --ask-vault-pass (or --vault-password-file FILE).\n\
         \n\
         Exactly the secrets vars.yml references as \"{{{{ vault_<name> }}}}\". The same values are\n\
         in the other hosts' files of this bundle (PgBouncer, MinIO, coturn, LiveKit)."
    );
    if ctx.secrets.are_placeholders() {
        about.push_str(
            "\nThese are placeholders: replace every CHANGE_ME_ value (the same way in every file).",
        );
    }
    let mut root = Map::new();
    for id in SecretId::ALL.iter().filter(|id| used.contains(id)) {
        root.comment(id.description());
        root.insert(id.vault_var(), ctx.secret(*id));
    }
    yaml::Doc::new(root)
        .header(ctx.provenance())
        .header(about)
        .start()
        .ansible()
        .render()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::report::Report;

    use crate::bundle::with_ctx;

    fn plan(edits: &[(&str, &str)]) -> Plan {
        Plan::default()
            .with_texts(edits)
            .unwrap_or_else(|e| panic!("{edits:?}: {e:?}"))
    }

    /// The value of a top-level key of vars.yml, as text after `key: `.
    fn value_of(vars: &str, key: &str) -> Option<String> {
        let prefix = format!("{key}:");
        vars.lines()
            .find(|l| l.starts_with(&prefix))
            .map(|l| l[prefix.len()..].trim().to_string())
    }

    fn vars_of(p: &Plan) -> String {
        with_ctx(p, |ctx| files(ctx)[1].contents.clone())
    }

    /// `node` as the YAML text of a value.
    fn text(node: impl Into<Node>) -> String {
        let out = yaml::Doc::new(Map::new().with("k", node)).render();
        out.strip_prefix("k: ")
            .and_then(|v| v.strip_suffix('\n'))
            .unwrap_or_else(|| panic!("not one scalar: {out}"))
            .to_string()
    }

    #[test]
    fn decimals() {
        fn check(n: u64, expect: &str) {
            assert_eq!(text(hundredths(n)), expect, "{n}");
        }
        check(17, "0.17");
        check(170, "1.7");
        check(1000, "10");
        check(1, "0.01");
        check(0, "0");
        for (n, expect) in [(3, "0.003"), (30, "0.03"), (1500, "1.5"), (2000, "2")] {
            assert_eq!(text(thousandths(n)), expect, "{n}");
        }
        // Fractions are floats, whole numbers integers, never strings.
        assert_eq!(hundredths(17), Node::Float(0.17));
        assert_eq!(hundredths(1000), Node::UInt(10));
        for (x, expect) in [(10.0, "10.0"), (0.5, "0.5"), (0.33, "0.33"), (4.0, "4.0")] {
            assert_eq!(text(Node::Float(x)), expect, "{x}");
        }
    }

    #[test]
    fn cache_autotuning_is_the_report_in_bytes() {
        for (g, bytes) in [
            (Gib(500), 5_368_709_120),
            (Gib(250), 2_684_354_560),
            (Gib(25), 268_435_456),
            (Gib(0), 0),
        ] {
            assert_eq!(gib_bytes(g), bytes, "{g}");
        }
        for (name, edits) in [
            ("seed", vec![]),
            ("factor 4", vec![("synapse.cache-factor", "4")]),
            ("factor 0.5", vec![("synapse.cache-factor", "0.5")]),
        ] {
            let p = plan(&edits);
            let r = Report::new(&p);
            let vars = vars_of(&p);
            let max = value_of(
                &vars,
                "matrix_synapse_cache_autotuning_max_cache_memory_usage",
            );
            let target = value_of(
                &vars,
                "matrix_synapse_cache_autotuning_target_cache_memory_usage",
            );
            let parsed: serde_yaml::Value = serde_yaml::from_str(&vars).expect("vars.yml");
            let ttl = parsed["matrix_synapse_cache_autotuning_min_cache_ttl"].as_str();
            assert_eq!(
                max,
                Some(gib_bytes(r.synapse.cache_autotuning_max_gib).to_string()),
                "{name}"
            );
            assert_eq!(
                target,
                Some(gib_bytes(r.synapse.cache_autotuning_target_gib).to_string()),
                "{name}"
            );
            assert_eq!(ttl, Some(r.synapse.cache_autotuning_min_ttl), "{name}");
        }
    }

    #[test]
    fn per_ip_limits_scale_with_the_peak() {
        for (peak, scale) in [("50", 1), ("2500", 1), ("2501", 2), ("25000", 10), ("1", 1)] {
            let p = plan(&[
                ("users.registered", "100000"),
                ("users.peak-concurrent", peak),
            ]);
            assert_eq!(per_ip_scale(&p), scale, "peak {peak}");
        }
        let p = plan(&[
            ("users.registered", "100000"),
            ("users.peak-concurrent", "25000"),
        ]);
        let vars = vars_of(&p);
        assert!(
            vars.contains(
                "matrix_synapse_rc_login:\n  address:\n    per_second: 1.7\n    burst_count: 30\n  account:\n    per_second: 0.17\n    burst_count: 3\n"
            ),
            "{vars}"
        );
        assert!(
            vars.contains(
                "matrix_synapse_rc_registration:\n  per_second: 1.7\n  burst_count: 30\n"
            )
        );
        // Per-user limits stay at the seed's values at any scale.
        assert!(vars.contains("matrix_synapse_rc_message:\n  per_second: 10\n  burst_count: 50\n"));
    }

    #[test]
    fn decisions_per_plan() {
        // (edits, presence, valkey, workers enabled)
        type Row<'a> = (&'a [(&'a str, &'a str)], bool, bool, bool);
        let rows: &[Row] = &[
            (&[], false, true, true),
            (
                &[("synapse.workers.stream-writer-presence", "1")],
                true,
                true,
                true,
            ),
            (&[("synapse.redis", "false")], false, true, true),
        ];
        for (edits, presence, valkey, workers) in rows {
            let p = plan(edits);
            assert_eq!(presence_enabled(&p), *presence, "{edits:?}");
            assert_eq!(valkey_enabled(&p), *valkey, "{edits:?}");
            let vars = vars_of(&p);
            assert_eq!(
                value_of(&vars, "matrix_synapse_presence_enabled"),
                Some(presence.to_string())
            );
            assert_eq!(value_of(&vars, "valkey_enabled"), Some(valkey.to_string()));
            assert_eq!(
                value_of(&vars, "matrix_synapse_workers_enabled"),
                Some(workers.to_string())
            );
        }
    }

    #[test]
    fn every_worker_count_is_set_including_the_unplanned_streams() {
        let vars = vars_of(&Plan::default());
        for kind in WorkerKind::ALL {
            assert_eq!(
                value_of(&vars, kind.playbook_count_var()),
                Some(Plan::default().workers(kind).to_string()),
                "{kind:?}"
            );
        }
        for var in [
            "matrix_synapse_workers_stream_writer_thread_subscriptions_stream_workers_count",
            "matrix_synapse_workers_stream_writer_quarantined_media_changes_stream_workers_count",
        ] {
            assert_eq!(value_of(&vars, var), Some("0".to_string()), "{var}");
        }
    }

    #[test]
    fn calls_follow_host_counts() {
        // (coturn hosts, livekit hosts, turn URIs, rtc on, vault entries)
        for (coturn, livekit, uris, rtc, secrets) in [
            ("2", "2", 4, true, 6),
            ("0", "2", 0, true, 5),
            ("1", "0", 2, false, 4),
            ("0", "0", 0, false, 3),
        ] {
            let p = plan(&[
                ("hosts.coturn.count", coturn),
                ("hosts.livekit.count", livekit),
            ]);
            let (vars, vault) = with_ctx(&p, |ctx| {
                let f = files(ctx);
                (f[1].contents.clone(), f[2].contents.clone())
            });
            let n = vars.lines().filter(|l| l.starts_with("  - 'turn:")).count();
            assert_eq!(n, uris, "coturn {coturn}");
            assert_eq!(
                vars.contains("matrix_synapse_turn_shared_secret:"),
                uris > 0
            );
            assert_eq!(value_of(&vars, "matrix_rtc_enabled").is_some(), rtc);
            assert_eq!(
                vault.lines().filter(|l| l.starts_with("vault_")).count(),
                secrets,
                "coturn {coturn} livekit {livekit}:\n{vault}"
            );
            assert!(
                !vars
                    .lines()
                    .any(|l| !l.starts_with('#') && l.contains("turns:"))
            );
        }
        let uris = with_ctx(&Plan::default(), turn_uris);
        assert_eq!(
            uris,
            [
                "turn:coturn1.internal:3478?transport=udp",
                "turn:coturn1.internal:3478?transport=tcp",
                "turn:coturn2.internal:3478?transport=udp",
                "turn:coturn2.internal:3478?transport=tcp",
            ]
        );
    }

    #[test]
    fn vault_holds_exactly_the_referenced_secrets() {
        let p = Plan::default();
        let (vars, vault) = with_ctx(&p, |ctx| {
            let f = files(ctx);
            (f[1].contents.clone(), f[2].contents.clone())
        });
        let code: String = vars
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect();
        let referenced: BTreeSet<String> = code
            .match_indices("{{ vault_")
            .map(|(i, _)| {
                let rest = &code[i + 3..];
                rest[..rest.find(' ').unwrap()].to_string()
            })
            .collect();
        let defined: BTreeSet<String> = vault
            .lines()
            .filter(|l| l.starts_with("vault_"))
            .map(|l| l.split(':').next().unwrap().to_string())
            .collect();
        assert_eq!(referenced, defined);
        assert!(
            vault.contains("ansible-vault encrypt inventory/host_vars/chat.example.com/vault.yml")
        );
        assert!(vault.contains("vault_synapse_db_password: CHANGE_ME_SYNAPSE_DB_PASSWORDXXX\n"));
    }

    #[test]
    fn addresses_come_from_the_topology() {
        let vars = vars_of(&Plan::default());
        for (key, expect) in [
            ("matrix_synapse_database_host", "'10.0.1.27'"),
            ("matrix_synapse_database_port", "6432"),
            ("traefik_container_web_host_bind_port", "'10.0.1.27:81'"),
            (
                "matrix_playbook_public_matrix_federation_api_traefik_entrypoint_host_bind_port",
                "'10.0.1.27:8449'",
            ),
            (
                "matrix_synapse_container_metrics_api_host_bind_port",
                "'10.0.1.27:9200'",
            ),
            (
                "matrix_synapse_workers_container_host_bind_address",
                "'10.0.1.27'",
            ),
            (
                "matrix_synapse_ext_synapse_s3_storage_provider_config_endpoint_url",
                "'http://10.0.1.10:9000'",
            ),
            (
                "matrix_synapse_auto_compressor_database_hostname",
                "'10.0.1.10'",
            ),
            (
                "matrix_livekit_jwt_service_environment_variable_livekit_url",
                "'wss://chat.example.com/livekit-server'",
            ),
            ("matrix_synapse_database_cp_max", "10"),
            ("matrix_synapse_database_cp_min", "5"),
        ] {
            assert_eq!(value_of(&vars, key).as_deref(), Some(expect), "{key}");
        }
        assert!(vars.contains(
            "traefik_config_entrypoint_web_forwardedHeaders_trustedIPs:\n  - '10.0.1.11'\n  - '10.0.1.12'\n"
        ));
    }

    #[test]
    fn extension_yaml_holds_what_has_no_variable() {
        let plain = extension_yaml(&Plan::default());
        assert!(plain.contains("rc_3pid_validation:\n  per_second: 0.003\n  burst_count: 5\n"));
        assert!(
            !plain.contains("caches:"),
            "no per-cache factors in the plan"
        );
        let p = plan(&[(
            "synapse.per-cache-factors",
            "get_users_in_room: 5.0\n*stateGroupCache*: 2",
        )]);
        let ext = extension_yaml(&p);
        let v: serde_yaml::Value = serde_yaml::from_str(&ext).expect("YAML");
        assert_eq!(
            v["caches"]["per_cache_factors"]["*stateGroupCache*"].as_f64(),
            Some(2.0),
            "{ext}"
        );
        assert_eq!(
            v["caches"]["per_cache_factors"]["get_users_in_room"].as_f64(),
            Some(5.0)
        );
    }

    #[test]
    fn seed_mistakes_are_not_repeated() {
        let vars = vars_of(&Plan::default());
        for wrong in [
            "state_compression",
            "max_state_resolution_events",
            "matrix_synapse_caches_per_cache_factors",
            "matrix_synapse_rc_3pid_validation",
            "matrix_synapse_media_retention:",
            "synapse_admin",
            "18008",
            "vault_postgres_password",
        ] {
            assert!(!vars.contains(wrong), "{wrong}");
        }
    }

    /// A plan's text holding Jinja syntax reaches Ansible as text: its string values are
    /// `!unsafe` (the extension's literal block too), while the
    /// generator's own vault references stay templates. The inventory holds it as one
    /// word.
    #[test]
    fn jinja_in_a_value_is_unsafe_and_vault_references_are_not() {
        let mut p = Plan {
            domain: "{{ lookup('pipe', 'id') }}.example.com".into(),
            ..Plan::default()
        };
        p.synapse.per_cache_factors.insert("{% raw %}x".into(), 2.0);
        let (hosts, vars, vault, paths) = with_ctx(&p, |ctx| {
            let f = files(ctx);
            (
                f[0].contents.clone(),
                f[1].contents.clone(),
                f[2].contents.clone(),
                f.iter().map(|f| f.path.clone()).collect::<Vec<_>>(),
            )
        });
        let domain = "!unsafe '{{ lookup(''pipe'', ''id'') }}.example.com'";
        for key in [
            "matrix_domain",
            "matrix_server_fqn_matrix",
            "matrix_server_fqn_element",
        ] {
            assert_eq!(value_of(&vars, key).as_deref(), Some(domain), "{key}");
        }
        assert_eq!(
            value_of(
                &vars,
                "matrix_livekit_jwt_service_environment_variable_livekit_url"
            )
            .as_deref(),
            Some("!unsafe 'wss://{{ lookup(''pipe'', ''id'') }}.example.com/livekit-server'")
        );
        let ext =
            value_of(&vars, "matrix_synapse_configuration_extension_yaml").expect("extension");
        assert_eq!(ext, "!unsafe |");
        assert!(vars.contains("\n      '{% raw %}x': 2.0\n"), "{vars}");
        // Every template in the file is a vault reference, none of them unsafe; every
        // other value holding Jinja syntax is.
        let mut references = 0;
        // (Lines of the extension's literal block are its text, tagged as a whole.)
        for line in vars.lines().filter(|l| !l.starts_with(['#', ' '])) {
            if line.contains(": '{{ vault_") {
                references += 1;
                assert!(!line.contains("!unsafe"), "{line}");
                assert!(line.ends_with(" }}'"), "{line}");
            } else if ["{{", "{%", "{#"].iter().any(|j| line.contains(j)) {
                assert!(line.contains(": !unsafe "), "{line}");
            }
        }
        assert_eq!(references, 6, "{vars}");
        assert!(!vault.contains("!unsafe"), "{vault}");
        // The whole file reads back with the values as written.
        let parsed: serde_yaml::Value = serde_yaml::from_str(&vars).expect("vars.yml");
        let tagged = |key: &str| match &parsed[key] {
            serde_yaml::Value::Tagged(t) if t.tag == "unsafe" => {
                t.value.as_str().map(str::to_string)
            }
            other => panic!("{key}: {other:?}"),
        };
        assert_eq!(tagged("matrix_domain").as_deref(), Some(p.domain.as_str()));
        let ext: serde_yaml::Value = serde_yaml::from_str(
            &tagged("matrix_synapse_configuration_extension_yaml").expect("text"),
        )
        .expect("extension YAML");
        assert_eq!(
            ext["caches"]["per_cache_factors"]["{% raw %}x"].as_f64(),
            Some(2.0)
        );
        assert_eq!(
            parsed["matrix_synapse_database_password"].as_str(),
            Some("{{ vault_synapse_db_password }}")
        );
        // The inventory name and the host_vars directory are the same single word.
        let host = hosts
            .lines()
            .find(|l| l.ends_with("ansible_ssh_user=root") && !l.starts_with('#'))
            .expect("host line");
        let name = host.split(' ').next().expect("name");
        assert!(!name.contains(['{', '}', '\'', ' ', '(']), "{host}");
        assert_eq!(host.split(' ').count(), 3, "{host}");
        assert_eq!(
            paths[1],
            format!("ansible/inventory/host_vars/{name}/vars.yml")
        );
        assert!(vault.contains(&format!(
            "#   ansible-vault encrypt inventory/host_vars/{name}/vault.yml\n"
        )));
    }
}

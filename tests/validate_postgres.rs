//! The database tier's files through the real programs, for every named plan, each
//! inside a network namespace: etcd started from its generated environment (every
//! member on loopback) and `patroni --validate-config` against it; PostgreSQL given
//! every generated parameter (`postgres -C`, then a real start) with the generated
//! pg_hba and post-bootstrap SQL; PgBouncer started as postgres with the generated ini
//! in front of it, queried through in the plan's pool mode; both exporters scraped;
//! postgresql-common's own reading of createcluster.d; systemd's of the drop-ins;
//! bash -n, shellcheck and yamllint.

#[path = "support/bundles.rs"]
mod bundles;
#[path = "support/sandbox.rs"]
mod sandbox;

use bundles::{bundle, file, for_each_plan, matching, secrets};
use sandbox::{Sandbox, assert_ok, output_text, quote, tool};
use serde_yaml::Value;
use std::net::Ipv4Addr;
use synapse_planner::bundle::{File, SecretId, Topology, ports};
use synapse_planner::plan::{Plan, Role};

/// yamllint, strict (as tests/validate_bundle.rs): everything on but line length.
const YAMLLINT: &str = "extends: default
rules:
  line-length: disable
  document-start: disable
  truthy:
    allowed-values: ['true', 'false']
    check-keys: true
  key-duplicates: enable
  octal-values:
    forbid-implicit-octal: true
    forbid-explicit-octal: true
";

fn yaml(f: &File) -> Value {
    serde_yaml::from_str(&f.contents).unwrap_or_else(|e| panic!("{}: {e}", f.path))
}

fn get<'a>(v: &'a Value, path: &[&str]) -> &'a Value {
    let mut cur = v;
    for k in path {
        cur = cur.get(*k).unwrap_or_else(|| panic!("no {path:?} ({k})"));
    }
    cur
}

/// A YAML scalar as PostgreSQL text.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => (if *b { "on" } else { "off" }).to_string(),
        other => panic!("not a scalar: {other:?}"),
    }
}

/// bootstrap.dcs.postgresql.parameters then postgresql.parameters, in file order.
fn parameters(cfg: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for path in [
        &["bootstrap", "dcs", "postgresql", "parameters"][..],
        &["postgresql", "parameters"][..],
    ] {
        let map = get(cfg, path).as_mapping().expect("parameters mapping");
        for (k, v) in map {
            out.push((k.as_str().expect("name").to_string(), text(v)));
        }
    }
    out
}

/// `initdb` options from bootstrap.initdb (`- data-checksums`, `- encoding: UTF8`).
fn initdb_options(cfg: &Value) -> Vec<String> {
    get(cfg, &["bootstrap", "initdb"])
        .as_sequence()
        .expect("initdb list")
        .iter()
        .map(|item| match item {
            Value::String(s) => format!("--{s}"),
            Value::Mapping(m) => {
                let (k, v) = m.iter().next().expect("one option");
                format!("--{}={}", k.as_str().expect("key"), text(v))
            }
            other => panic!("initdb option {other:?}"),
        })
        .collect()
}

fn patroni_configs(files: &[File]) -> Vec<&File> {
    matching(files, |p| p.ends_with("/etc/patroni/config.yml")).collect()
}

/// etcd from every member's generated environment, all in one namespace; then
/// `patroni --validate-config` for every node against it, and yamllint.
#[test]
fn etcd_cluster_starts_and_patroni_accepts_every_config() {
    let etcd = tool("etcd");
    let etcdctl = tool("etcdctl");
    // Patroni 4.1 (the validators' venv) and Debian 12's own patroni 3.0.2, which the
    // hosts run (apt `patroni`).
    let patroni = tool("patroni");
    let debian_patroni = tool("/usr/bin/patroni");
    let yamllint = tool("yamllint");
    for_each_plan(|name, plan| {
        let files = bundle(plan);
        let topo = Topology::new(plan);
        let nodes: Vec<_> = topo.role(Role::Patroni).cloned().collect();
        let sb = Sandbox::new("etcd-patroni").with_addrs(nodes.iter().map(|h| h.ip));
        let lint = sb.write(".yamllint", YAMLLINT);
        let endpoints: Vec<String> = nodes
            .iter()
            .map(|h| format!("http://{}:{}", h.ip, ports::ETCD_CLIENT))
            .collect();
        let mut script = String::from("set -u\n");
        for h in &nodes {
            let env = file(&files, &format!("hosts/{}/etc/default/etcd", h.name));
            sb.write(&format!("etcd/{}.env", h.name), &env.contents);
            let cfg = file(&files, &format!("hosts/{}/etc/patroni/config.yml", h.name));
            sb.write(&format!("patroni/{}.yml", h.name), &cfg.contents);
            // The generated environment as systemd gives it; only the data directory
            // moves into the sandbox.
            script.push_str(&format!(
                "(set -a; . ./etcd/{n}.env; set +a; export ETCD_DATA_DIR=$PWD/etcd/{n}.data; exec {etcd}) > etcd/{n}.log 2>&1 &\n",
                n = h.name,
                etcd = etcd.display()
            ));
        }
        script.push_str(&format!(
            "export ETCDCTL_API=3
ok=
for _ in $(seq 1 120); do
  if {ctl} --endpoints={eps} endpoint health > health.txt 2>&1; then ok=1; break; fi
  sleep 0.5
done
cat health.txt
if [ -z \"$ok\" ]; then tail -n 30 etcd/*.log; exit 1; fi
{ctl} --endpoints={eps} member list || exit 1
",
            ctl = etcdctl.display(),
            eps = endpoints.join(","),
        ));
        for h in &nodes {
            script.push_str(&format!(
                "echo '== validate {n}'; {patroni} --validate-config patroni/{n}.yml || exit 1\n\
                 {debian_patroni} --validate-config patroni/{n}.yml || exit 1\n\
                 {yamllint} --strict -c {lint} patroni/{n}.yml || exit 1\n",
                n = h.name,
                patroni = patroni.display(),
                debian_patroni = debian_patroni.display(),
                yamllint = yamllint.display(),
                lint = lint.display(),
            ));
        }
        // A negative control: the same file with a TTL Patroni refuses must fail, so a
        // pass above means the files were checked.
        let first = &nodes[0];
        let cfg = file(
            &files,
            &format!("hosts/{}/etc/patroni/config.yml", first.name),
        );
        assert!(cfg.contents.contains("\n    ttl: 30\n"), "{name}: ttl");
        sb.write(
            "patroni/broken.yml",
            cfg.contents.replace("\n    ttl: 30\n", "\n    ttl: 5\n"),
        );
        script.push_str(&format!(
            "if {patroni} --validate-config patroni/broken.yml > broken.out 2>&1; then echo 'FAIL: ttl 5 accepted'; exit 1; fi\ngrep -q ttl broken.out || {{ cat broken.out; exit 1; }}\n\
             sed 's/^scope: .*//' patroni/{n}.yml > patroni/noscope.yml\n\
             if {debian_patroni} --validate-config patroni/noscope.yml > noscope.out 2>&1; then echo 'FAIL: 3.0.2 accepted a config without scope'; exit 1; fi\n",
            patroni = patroni.display(),
            debian_patroni = debian_patroni.display(),
            n = first.name
        ));
        script.push_str("grep -h 'environment variable' etcd/*.log\n");
        let out = sb.run(&script);
        let text = output_text(&out);
        assert_ok(&out, &format!("{name}: etcd + patroni --validate-config"));
        assert_eq!(
            text.matches("is healthy").count(),
            nodes.len(),
            "{name}: every member healthy:\n{text}"
        );
        for h in &nodes {
            assert!(
                text.contains(&format!(
                    ", {}, http://{}:{}",
                    h.name,
                    h.ip,
                    ports::ETCD_PEER
                )),
                "{name}: member {} missing:\n{text}",
                h.name
            );
            // etcd names every variable it used and every one it did not know.
            let env = file(&files, &format!("hosts/{}/etc/default/etcd", h.name));
            for line in env.contents.lines().filter(|l| l.starts_with("ETCD_")) {
                let key = line.split('=').next().expect("key");
                assert!(
                    text.contains(&format!("recognized and used environment variable {key}=")),
                    "{name}: etcd did not use {key}:\n{text}"
                );
            }
        }
        assert!(
            !text.contains("unrecognized environment variable"),
            "{name}:\n{text}"
        );
    });
}

/// PostgreSQL with every generated parameter, pg_hba and the post-bootstrap SQL, on the
/// VIP:5432 inside the namespace; PgBouncer (as postgres) with the generated ini and auth
/// file in front of it; psql through PgBouncer; both exporters scraped.
#[test]
fn postgres_takes_every_parameter_and_pgbouncer_pools_in_front_of_it() {
    let psql = tool("psql");
    let pgbouncer = tool("pgbouncer");
    let curl = tool("curl");
    let pg_exporter = tool("prometheus-postgres-exporter");
    // The packaged exporter must be installed; the drop-in starts it through the shim
    // with the system's python3.
    tool("prometheus-pgbouncer-exporter");
    let pgb_exporter = tool("/usr/bin/python3");
    let s = secrets();
    for_each_plan(|name, plan| {
        let files = bundle(plan);
        let topo = Topology::new(plan);
        let v = plan.postgres.version;
        let bin = format!("/usr/lib/postgresql/{v}/bin");
        let initdb = tool(&format!("{bin}/initdb"));
        let postgres = tool(&format!("{bin}/postgres"));
        let pg_ctl = tool(&format!("{bin}/pg_ctl"));
        let synapse = topo.first(Role::Synapse).expect("synapse host").clone();
        let node = topo.first(Role::Patroni).expect("patroni host").clone();
        let vip = topo.vip;
        let sb = Sandbox::new("pg-pgbouncer").with_addrs([vip, synapse.ip, node.ip]);
        let d = sb.dir().display().to_string();

        let cfg_file = file(
            &files,
            &format!("hosts/{}/etc/patroni/config.yml", node.name),
        );
        let cfg = yaml(cfg_file);
        let params = parameters(&cfg);
        assert!(params.len() > plan_params(plan).len(), "{name}: parameters");
        // Every parameter of the report is there, with the report's value.
        for (n, value) in plan_params(plan) {
            assert!(
                params.iter().any(|(pn, pv)| *pn == n && *pv == value),
                "{name}: {n} = {value} missing from bootstrap.dcs"
            );
        }
        let conf: String = params
            .iter()
            .map(|(n, v)| format!("{n} = '{}'\n", v.replace('\'', "''")))
            .collect();
        sb.write("params.conf", conf);
        let hba: Vec<String> = get(&cfg, &["postgresql", "pg_hba"])
            .as_sequence()
            .expect("pg_hba")
            .iter()
            .map(text)
            .collect();
        sb.write("pg_hba.conf", hba.join("\n") + "\n");
        let sql = file(
            &files,
            &format!("hosts/{}/etc/patroni/post-bootstrap.sql", node.name),
        );
        sb.write("post-bootstrap.sql", &sql.contents);
        // Patroni's post_bootstrap command, with the URL Patroni appends.
        let post_bootstrap = text(get(&cfg, &["bootstrap", "post_bootstrap"])).replace(
            "/etc/patroni/post-bootstrap.sql",
            &format!("{d}/post-bootstrap.sql"),
        );
        assert!(
            post_bootstrap.starts_with(&format!("{bin}/psql ")),
            "{name}: {post_bootstrap}"
        );

        // PgBouncer: the generated ini; only the auth file's path moves into the sandbox.
        let ini = file(&files, "hosts/synapse/etc/pgbouncer/pgbouncer.ini");
        assert!(ini.contents.contains(&format!(
            "\nsynapse = host={vip} port={} dbname=synapse\n",
            ports::PG_PRIMARY
        )));
        sb.write(
            "pgbouncer.ini",
            ini.contents.replace(
                "auth_file = /etc/pgbouncer/userlist.txt",
                &format!("auth_file = {d}/userlist.txt"),
            ),
        );
        sb.write(
            "userlist.txt",
            &file(&files, "hosts/synapse/etc/pgbouncer/userlist.txt").contents,
        );
        let dropin = file(
            &files,
            "hosts/synapse/etc/systemd/system/pgbouncer.service.d/90-synapse-planner.conf",
        );
        let nofile: u64 = dropin
            .contents
            .lines()
            .find_map(|l| l.strip_prefix("LimitNOFILE="))
            .expect("LimitNOFILE")
            .parse()
            .expect("number");
        sb.write(
            "pg-exporter.env",
            &file(
                &files,
                &format!(
                    "hosts/{}/etc/default/prometheus-postgres-exporter",
                    node.name
                ),
            )
            .contents,
        );
        sb.write(
            "pgb-exporter.conf",
            &file(
                &files,
                "hosts/synapse/etc/prometheus-pgbouncer-exporter.conf",
            )
            .contents,
        );
        sb.write(
            "pgb-exporter-shim.py",
            &file(
                &files,
                "hosts/synapse/usr/local/lib/synapse-planner/pgbouncer_exporter.py",
            )
            .contents,
        );
        sb.write(
            "pgb-exporter.env",
            &file(
                &files,
                "hosts/synapse/etc/default/prometheus-pgbouncer-exporter-synapse-planner",
            )
            .contents,
        );

        let synapse_pw = s.get(SecretId::SynapseDbPassword);
        let stats_pw = s.get(SecretId::PgbouncerStatsPassword);
        let mode = plan.pgbouncer.pool_mode.key();
        let script = format!(
            r#"set -u
fail() {{ echo "FAIL: $*"; for f in pglog/pg.log pgbouncer.log pg-exporter.log pgb-exporter.log; do [ -f "$f" ] && {{ echo "== $f"; tail -n 40 "$f"; }}; done; exit 1; }}
as_pg() {{ runuser -u postgres -- "$@"; }}
install -d -o postgres -g postgres -m 0700 pgdata
install -d -o postgres -g postgres -m 0755 sock pglog
as_pg {initdb} -D pgdata {initdb_opts} -A peer > initdb.log 2>&1 || {{ cat initdb.log; fail initdb; }}
cat params.conf >> pgdata/postgresql.conf
install -o postgres -g postgres -m 0600 pg_hba.conf pgdata/pg_hba.conf
# Names, units, ranges, enums of every parameter.
as_pg {postgres} -D pgdata -C server_version || fail "postgres -C"
# A real start: cross-parameter checks. Small shared memory; the sandbox's socket; the
# archive command stubbed (no repository here); logs to the file pg_ctl names.
as_pg {pg_ctl} -D pgdata -l pglog/pg.log -w -t 120 start -o "-c shared_buffers=128MB -c huge_pages=off -c listen_addresses='{vip},127.0.0.1' -c port={pg} -c unix_socket_directories='{d}/sock' -c logging_collector=off -c archive_command=/bin/true" > /dev/null || fail "postgres start"
q() {{ as_pg {psql} -X -h {d}/sock -p {pg} -At -v ON_ERROR_STOP=1 "$@"; }}
echo "max_connections=$(q -c 'SHOW max_connections')"
echo "wal_level=$(q -c 'SHOW wal_level')"
echo "archive_mode=$(q -c 'SHOW archive_mode')"
# Patroni's post_bootstrap, twice (it runs again after a restore).
for _ in 1 2; do
  as_pg {post_bootstrap} "postgresql://postgres@/postgres?host={d}/sock&port={pg}" || fail post-bootstrap
done
echo "database=$(q -c "SELECT pg_encoding_to_char(encoding) || ' ' || datcollate || ' ' || datctype || ' ' || pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'synapse'")"
echo "exporter_roles=$(q -c "SELECT string_agg(b.rolname, ',') FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member JOIN pg_roles b ON b.oid = m.roleid WHERE r.rolname = 'postgres_exporter'")"

# PgBouncer as postgres, with the generated ini.
install -o postgres -g postgres -m 0600 userlist.txt userlist.txt.tmp && mv userlist.txt.tmp userlist.txt
chown postgres:postgres pgbouncer.ini
runuser -u postgres -- {pgbouncer} pgbouncer.ini > pgbouncer.log 2>&1 &
for _ in $(seq 1 50); do
  PGPASSWORD={synapse_pw} {psql} -X "host={syn} port={pgb} dbname=synapse user=synapse" -At -c 'SELECT 1' > /dev/null 2>&1 && break
  sleep 0.2
done
export PGPASSWORD={synapse_pw}
for host in {syn} 127.0.0.1; do
  echo "query_$host=$({psql} -X "host=$host port={pgb} dbname=synapse user=synapse" -At -c 'SELECT 1')" || fail "query via $host"
done
{psql} -X "host={syn} port={pgb} dbname=synapse user=synapse" -At -v ON_ERROR_STOP=1 > txn.out 2>&1 <<'SQL' || {{ cat txn.out; fail transaction; }}
BEGIN;
CREATE TABLE IF NOT EXISTS pgbouncer_check (n integer);
INSERT INTO pgbouncer_check VALUES (1), (2);
COMMIT;
SELECT 'rows=' || count(*) FROM pgbouncer_check;
SELECT 'statement_timeout=' || current_setting('statement_timeout');
SELECT 'bytea_output=' || current_setting('bytea_output');
SELECT 'client_addr=' || inet_client_addr();
SQL
cat txn.out
# Many clients at once, each a transaction.
clients=()
for i in $(seq 1 20); do
  {psql} -X "host={syn} port={pgb} dbname=synapse user=synapse" -At -c "BEGIN; INSERT INTO pgbouncer_check VALUES ($i); SELECT pg_sleep(0.2); COMMIT;" > "client-$i.out" 2>&1 &
  clients+=("$!")
done
for p in "${{clients[@]}}"; do wait "$p" || {{ cat client-*.out; fail "concurrent transactions"; }}; done
echo "rows_after=$({psql} -X "host={syn} port={pgb} dbname=synapse user=synapse" -At -c 'SELECT count(*) FROM pgbouncer_check')"
if PGPASSWORD=wrong-password {psql} -X "host={syn} port={pgb} dbname=synapse user=synapse" -At -c 'SELECT 1' > wrong.out 2>&1; then fail "a wrong password was accepted"; fi
echo "wrong_password=$(tr '\n' ' ' < wrong.out)"
unset PGPASSWORD
# The admin console: the OS user postgres over the Unix socket, no password.
runuser -u postgres -- {psql} -X -h /var/run/postgresql -p {pgb} -U pgbouncer -d pgbouncer -At -c 'SHOW CONFIG' > config.out || fail "admin console"
grep -E '^(pool_mode|max_client_conn|default_pool_size|reserve_pool_size|max_db_connections)\|' config.out | sed 's/|/=/; s/|.*//' | sed 's/^/config_/'
# The stats user over TCP.
PGPASSWORD={stats_pw} {psql} -X -h 127.0.0.1 -p {pgb} -U pgbouncer_stats -d pgbouncer -At -c 'SHOW POOLS' > pools.out || fail "stats user"
echo "pools=$(grep '^synapse|synapse|' pools.out)"
grep -o 'max expected fd use: [0-9]*' pgbouncer.log | sed 's/: /=/; s/ /_/g'

# postgres_exporter with its generated environment.
(set -a; . ./pg-exporter.env; set +a; exec {pg_exporter} $ARGS) > pg-exporter.log 2>&1 &
# pgbouncer_exporter with its generated configuration and password.
(set -a; . ./pgb-exporter.env; set +a; CONFIG={d}/pgb-exporter.conf LICENCE_LOCATION=/usr/share/doc/prometheus-pgbouncer-exporter/copyright exec {pgb_exporter} {d}/pgb-exporter-shim.py) > pgb-exporter.log 2>&1 &
for _ in $(seq 1 50); do
  {curl} -sf http://{node_ip}:{pg_exp_port}/metrics > pg-metrics.txt 2>/dev/null && {curl} -sf http://{syn}:{pgb_exp_port}/metrics > pgb-metrics.txt 2>/dev/null && break
  sleep 0.2
done
echo "pg_up=$(grep -E '^pg_up ' pg-metrics.txt)"
echo "pgbouncer_pools=$(grep -c 'database="synapse"' pgb-metrics.txt)"
grep -E '^pgbouncer_(requests_total|transactions_total|waiting_clients|active_servers|max_wait_seconds|pool_size)\{{' pgb-metrics.txt | grep 'database="synapse"' | sed 's/{{.*}} / /; s/^/metric_/'
"#,
            initdb = initdb.display(),
            initdb_opts = initdb_options(&cfg).join(" "),
            postgres = postgres.display(),
            pg_ctl = pg_ctl.display(),
            psql = psql.display(),
            pgbouncer = pgbouncer.display(),
            curl = curl.display(),
            pg_exporter = pg_exporter.display(),
            pgb_exporter = pgb_exporter.display(),
            pg = ports::POSTGRES,
            pgb = ports::PGBOUNCER,
            syn = synapse.ip,
            node_ip = node.ip,
            pg_exp_port = ports::POSTGRES_EXPORTER,
            pgb_exp_port = ports::PGBOUNCER_EXPORTER,
            synapse_pw = quote(synapse_pw),
            stats_pw = quote(stats_pw),
        );
        let out = sb.run(&script);
        let text = output_text(&out);
        assert_ok(&out, &format!("{name}: PostgreSQL + PgBouncer\n{text}"));
        let has = |line: &str| {
            assert!(
                text.lines().any(|l| l == line),
                "{name}: expected `{line}` in:\n{text}"
            );
        };
        has(&format!(
            "max_connections={}",
            plan.postgres.max_connections
        ));
        has("wal_level=replica");
        has("archive_mode=on");
        has("database=UTF8 C C synapse");
        has("exporter_roles=pg_monitor");
        has(&format!("query_{}=1", synapse.ip));
        has("query_127.0.0.1=1");
        has("rows=2");
        // Synapse's session settings reach pooled connections as role defaults.
        has("statement_timeout=10min");
        has("bytea_output=escape");
        // PostgreSQL saw PgBouncer arrive from the VIP (pg_hba's HAProxy/VIP rule).
        has(&format!("client_addr={vip}/32"));
        has("rows_after=22");
        has(&format!("config_pool_mode={mode}"));
        has(&format!(
            "config_max_client_conn={}",
            plan.pgbouncer.max_client_conn
        ));
        has(&format!(
            "config_default_pool_size={}",
            plan.pgbouncer.default_pool_size
        ));
        has(&format!(
            "config_reserve_pool_size={}",
            plan.pgbouncer.reserve_pool_size
        ));
        assert!(
            text.contains("wrong_password=") && text.contains("authentication failed"),
            "{name}:\n{text}"
        );
        assert!(
            text.lines()
                .any(|l| l.starts_with("pools=synapse|synapse|")),
            "{name}: no pool:\n{text}"
        );
        // PgBouncer's own file-descriptor estimate fits the drop-in's limit.
        let fds: u64 = text
            .lines()
            .find_map(|l| l.strip_prefix("max_expected_fd_use="))
            .unwrap_or_else(|| panic!("{name}: PgBouncer logged no fd estimate:\n{text}"))
            .parse()
            .expect("number");
        assert!(
            fds <= nofile,
            "{name}: PgBouncer expects {fds} descriptors, LimitNOFILE={nofile}"
        );
        assert!(
            ini.contents
                .contains(&format!("PgBouncer expects up to {fds} ")),
            "{name}: the ini's comment states another estimate than PgBouncer's {fds}"
        );
        has("pg_up=pg_up 1");
        let pools: u64 = text
            .lines()
            .find_map(|l| l.strip_prefix("pgbouncer_pools="))
            .expect("pgbouncer metrics")
            .parse()
            .expect("count");
        assert!(
            pools > 0,
            "{name}: pgbouncer_exporter shows no synapse pool:\n{text}"
        );
        for metric in [
            "requests_total",
            "transactions_total",
            "waiting_clients",
            "active_servers",
            "max_wait_seconds",
            "pool_size",
        ] {
            assert!(
                text.lines()
                    .any(|l| l.starts_with(&format!("metric_pgbouncer_{metric} "))),
                "{name}: pgbouncer_exporter has no pgbouncer_{metric} for synapse:\n{text}"
            );
        }
    });
}

/// The report's parameters of a plan, name → value.
fn plan_params(plan: &Plan) -> Vec<(String, String)> {
    synapse_planner::report::Report::new(plan)
        .postgres
        .parameters
        .iter()
        .map(|p| (p.name.to_string(), p.value.clone()))
        .collect()
}

/// Every parameter the report computes, at the corners of the plan schema (RAM,
/// vCPUs and max_connections at their bounds, and the RAM from which RAM × 3/4 no longer
/// fits effective_cache_size), through Debian 12's PostgreSQL: `postgres -C <name>` reads
/// postgresql.conf as a start does and refuses any value outside the parameter's range
/// ("invalid value …", "configuration file … contains errors"). PostgreSQL 16 and 17
/// have the same ranges for these parameters (guc_tables.c; see
/// synapse_planner::sizing::postgres::limits).
#[test]
fn numbers_past_tool_limits_postgres_accepts_every_parameter_at_the_schema_bounds() {
    let postgres = tool("/usr/lib/postgresql/15/bin/postgres");
    // (label, RAM GiB, vCPUs, max_connections, effective_cache_size as postgres shows it in pages).
    let cases: [(&str, &str, &str, &str, &str); 5] = [
        ("largest", "24576", "1024", "10000", "2147483647"),
        ("largest-work-mem", "24576", "4", "10", "2147483647"),
        ("few-cores", "24576", "1", "10", "2147483647"),
        ("first-capped", "21846", "16", "500", "2147483647"),
        ("smallest", "1", "1", "10000", "98304"),
    ];
    for (label, ram, vcpus, conns, ecs_pages) in cases {
        let plan = Plan::default()
            .with_texts(&[
                ("hosts.patroni.ram-gib", ram),
                ("hosts.patroni.vcpus", vcpus),
                ("postgres.max-connections", conns),
            ])
            .unwrap_or_else(|e| panic!("{label}: {e:?}"));
        let params = plan_params(&plan);
        let sb = Sandbox::new("pg-limits");
        let conf: String = params
            .iter()
            .map(|(n, v)| format!("{n} = '{}'\n", v.replace('\'', "''")))
            .collect();
        sb.write("pgdata/postgresql.conf", conf);
        let mut script = String::from(
            "set -u\nchown -R postgres:postgres pgdata\nchmod 0700 pgdata\nstatus=0\n",
        );
        for (n, _) in &params {
            script.push_str(&format!(
                "v=$(runuser -u postgres -- {postgres} -D pgdata -C {n} 2> err.txt) || {{ echo \"REFUSED {n}\"; cat err.txt; status=1; }}\necho \"{n}=$v\"\n",
                postgres = postgres.display(),
            ));
        }
        script.push_str("exit $status\n");
        let out = sb.run(&script);
        let text = output_text(&out);
        assert_ok(
            &out,
            &format!("{label}: postgres -C on every parameter\n{text}"),
        );
        assert!(!text.contains("REFUSED"), "{label}:\n{text}");
        for (n, _) in &params {
            assert!(
                text.lines().any(|l| l.starts_with(&format!("{n}="))),
                "{label}: no {n}:\n{text}"
            );
        }
        assert!(
            text.lines()
                .any(|l| l == format!("effective_cache_size={ecs_pages}")),
            "{label}: effective_cache_size:\n{text}"
        );
        assert!(
            text.lines()
                .any(|l| l == format!("max_connections={conns}")),
            "{label}:\n{text}"
        );
    }
}

/// postgresql-common's maintainer scripts ask `pg_conftool createcluster.conf show -bs
/// create_main_cluster` before creating a cluster; with the generated file it says off.
#[test]
fn postgresql_common_creates_no_main_cluster() {
    let conftool = tool("pg_conftool");
    let files = bundle(&Plan::default());
    let f = file(
        &files,
        "hosts/patroni1/etc/postgresql-common/createcluster.d/00-synapse-planner.conf",
    );
    let sb = Sandbox::new("createcluster");
    let etc = sb.dir().join("etc-postgresql-common");
    let script = format!(
        "set -e
cp -a /etc/postgresql-common/. {etc}/
mkdir -p {etc}/createcluster.d
cp {d}/00-synapse-planner.conf {etc}/createcluster.d/
echo \"before=$({conftool} /etc/postgresql-common/createcluster.conf show -bs create_main_cluster || true)\"
mount --bind {etc} /etc/postgresql-common
echo \"after=$({conftool} /etc/postgresql-common/createcluster.conf show -bs create_main_cluster)\"
",
        etc = etc.display(),
        d = sb.dir().display(),
        conftool = conftool.display(),
    );
    std::fs::create_dir_all(&etc).expect("dir");
    sb.write("00-synapse-planner.conf", &f.contents);
    let out = sb.run(&script);
    let text = output_text(&out);
    assert_ok(&out, "pg_conftool");
    assert!(text.lines().any(|l| l == "after=off"), "{text}");
}

/// systemd's own parser on the drop-ins, next to Debian's units.
#[test]
fn systemd_reads_the_drop_ins() {
    let analyze = tool("systemd-analyze");
    for_each_plan(|name, plan| {
        let files = bundle(plan);
        let sb = Sandbox::new("systemd");
        let mut script = String::from("set -e\n");
        for (unit, dropin) in [
            (
                "pgbouncer.service",
                "hosts/synapse/etc/systemd/system/pgbouncer.service.d/90-synapse-planner.conf",
            ),
            (
                "prometheus-pgbouncer-exporter.service",
                "hosts/synapse/etc/systemd/system/prometheus-pgbouncer-exporter.service.d/90-synapse-planner.conf",
            ),
        ] {
            let f = file(&files, dropin);
            sb.write(
                &format!("units/{unit}.d/90-synapse-planner.conf"),
                &f.contents,
            );
            script.push_str(&format!(
                "cp /lib/systemd/system/{unit} units/\nSYSTEMD_UNIT_PATH=$PWD/units: {analyze} verify $PWD/units/{unit} 2>&1\n",
                analyze = analyze.display()
            ));
        }
        let out = sb.run(&script);
        let text = output_text(&out);
        assert_ok(&out, &format!("{name}: systemd-analyze verify"));
        assert!(
            !text.contains("90-synapse-planner.conf"),
            "{name}: systemd complains about a drop-in:\n{text}"
        );
    });
}

#[test]
fn scripts_pass_bash_n_and_shellcheck() {
    let shellcheck = tool("shellcheck");
    for_each_plan(|name, plan| {
        let files = bundle(plan);
        let scripts: Vec<&File> = matching(&files, |p| {
            p.ends_with("/usr/local/sbin/setup-patroni.sh")
                || p.ends_with("/usr/local/sbin/setup-pgbouncer.sh")
        })
        .collect();
        assert_eq!(
            scripts.len(),
            plan.host(Role::Patroni).count as usize + 1,
            "{name}"
        );
        let sb = Sandbox::new("pg-scripts");
        for f in scripts {
            assert_eq!(f.mode, 0o755, "{name}: {}", f.path);
            let path = sb.write(&f.path, &f.contents);
            let n = std::process::Command::new("bash")
                .arg("-n")
                .arg(&path)
                .output()
                .expect("bash");
            assert_ok(&n, &format!("{name}: bash -n {}", f.path));
            let sc = std::process::Command::new(&shellcheck)
                .args(["-x", "-S", "warning", "-s", "bash"])
                .arg(&path)
                .output()
                .expect("shellcheck");
            assert_ok(&sc, &format!("{name}: shellcheck {}", f.path));
        }
    });
}

/// Files that hold passwords are 0600; every Patroni node's config names the same
/// etcd members and the same cluster-wide parameters.
#[test]
fn secrets_are_private_and_nodes_agree() {
    for_each_plan(|name, plan| {
        let files = bundle(plan);
        for path in [
            "hosts/synapse/etc/pgbouncer/userlist.txt",
            "hosts/synapse/etc/default/prometheus-pgbouncer-exporter-synapse-planner",
        ] {
            assert_eq!(file(&files, path).mode, 0o600, "{name}: {path}");
        }
        let configs = patroni_configs(&files);
        assert_eq!(
            configs.len() as u64,
            plan.host(Role::Patroni).count,
            "{name}"
        );
        let first = yaml(configs[0]);
        for c in &configs {
            assert_eq!(c.mode, 0o600, "{name}: {}", c.path);
            let y = yaml(c);
            assert_eq!(
                get(&y, &["bootstrap"]),
                get(&first, &["bootstrap"]),
                "{name}: {} bootstrap differs",
                c.path
            );
            assert_eq!(
                get(&y, &["etcd3"]),
                get(&first, &["etcd3"]),
                "{name}: {}",
                c.path
            );
            assert_eq!(
                get(&y, &["postgresql", "pg_hba"]),
                get(&first, &["postgresql", "pg_hba"]),
                "{name}"
            );
            let ip: Ipv4Addr = text(get(&y, &["postgresql", "connect_address"]))
                .split(':')
                .next()
                .expect("ip")
                .parse()
                .expect("ip");
            assert!(c.path.contains(&format!(
                    "/{}/",
                    Topology::new(plan)
                        .hosts
                        .iter()
                        .find(|h| h.ip == ip)
                        .expect("host")
                        .name
                )));
        }
    });
}

/// Debian 12's own Patroni (3.0.2, what the hosts run) brings the cluster up from the
/// generated configurations with a real etcd: the first node bootstraps (initdb with
/// the generated options, the post-bootstrap SQL), the others clone it with the
/// replication role and pg_hba, HAProxy's health checks answer (/primary, /replica),
/// and the REST API refuses unsafe requests without the password. Rewritten for the
/// sandbox only: paths, small shared memory, no loopback listener (every node shares
/// one loopback here), no archiving (no repository here).
#[test]
fn patroni_bootstraps_the_cluster_and_standbys_follow() {
    let etcd = tool("etcd");
    let patroni = tool("/usr/bin/patroni");
    let patronictl = tool("/usr/bin/patronictl");
    let curl = tool("curl");
    let psql = tool("psql");
    for_each_plan(|name, plan| {
        let files = bundle(plan);
        let topo = Topology::new(plan);
        let nodes: Vec<_> = topo.role(Role::Patroni).cloned().collect();
        let sb = Sandbox::new("patroni-live").with_addrs(nodes.iter().map(|h| h.ip));
        let d = sb.dir().display().to_string();
        let mut script = String::from(
            "set -u\nfail() { echo \"FAIL: $*\"; for f in */patroni.log; do echo \"== $f\"; tail -n 40 \"$f\"; done; exit 1; }\n",
        );
        for h in &nodes {
            let env = file(&files, &format!("hosts/{}/etc/default/etcd", h.name));
            sb.write(&format!("etcd/{}.env", h.name), &env.contents);
            script.push_str(&format!(
                "(set -a; . ./etcd/{n}.env; set +a; export ETCD_DATA_DIR=$PWD/etcd/{n}.data; exec {etcd}) > etcd/{n}.log 2>&1 &\n",
                n = h.name,
                etcd = etcd.display()
            ));
            let f = file(&files, &format!("hosts/{}/etc/patroni/config.yml", h.name));
            let mut cfg = yaml(f);
            let dir = format!("{d}/{}", h.name);
            let pg = &mut cfg["postgresql"];
            pg["listen"] = Value::from(format!("{}:{}", h.ip, ports::POSTGRES));
            pg["data_dir"] = Value::from(format!("{dir}/data"));
            pg["pgpass"] = Value::from(format!("{dir}/pgpass"));
            pg["parameters"]["unix_socket_directories"] = Value::from(format!("{dir}/sock"));
            pg["parameters"]["log_directory"] = Value::from(format!("{dir}/log"));
            pg["recovery_conf"]["restore_command"] = Value::from("/bin/false");
            let b = &mut cfg["bootstrap"];
            let post = text(&b["post_bootstrap"]).replace(
                "/etc/patroni/post-bootstrap.sql",
                &format!("{d}/post-bootstrap.sql"),
            );
            b["post_bootstrap"] = Value::from(post);
            let params = &mut b["dcs"]["postgresql"]["parameters"];
            params["shared_buffers"] = Value::from("32MB");
            params["huge_pages"] = Value::from("off");
            params["archive_command"] = Value::from("/bin/true");
            sb.write(
                &format!("{}/patroni.yml", h.name),
                serde_yaml::to_string(&cfg).expect("yaml"),
            );
            script.push_str(&format!(
                "install -d -o postgres -g postgres -m 0700 {dir} {dir}/sock {dir}/log\nchown postgres:postgres {dir}/patroni.yml\n"
            ));
        }
        let node = &nodes[0];
        sb.write(
            "post-bootstrap.sql",
            &file(
                &files,
                &format!("hosts/{}/etc/patroni/post-bootstrap.sql", node.name),
            )
            .contents,
        );
        script.push_str("chmod 0644 post-bootstrap.sql\n");
        // The first node starts first so it bootstraps; the others clone it.
        for (i, h) in nodes.iter().enumerate() {
            script.push_str(&format!(
                "runuser -u postgres -- {patroni} {d}/{n}/patroni.yml > {n}/patroni.log 2>&1 &\n",
                patroni = patroni.display(),
                n = h.name,
            ));
            if i == 0 {
                script.push_str(&format!(
                    "for _ in $(seq 1 120); do [ \"$({curl} -s -o /dev/null -w '%{{http_code}}' http://{ip}:{rest}/primary)\" = 200 ] && break; sleep 0.5; done\n\
                     [ \"$({curl} -s -o /dev/null -w '%{{http_code}}' http://{ip}:{rest}/primary)\" = 200 ] || fail 'no primary'\n",
                    curl = curl.display(),
                    ip = h.ip,
                    rest = ports::PATRONI_REST,
                ));
            }
        }
        for h in nodes.iter().skip(1) {
            script.push_str(&format!(
                "for _ in $(seq 1 240); do [ \"$({curl} -s -o /dev/null -w '%{{http_code}}' http://{ip}:{rest}/replica)\" = 200 ] && break; sleep 0.5; done\n\
                 echo \"replica_{n}=$({curl} -s -o /dev/null -w '%{{http_code}}' http://{ip}:{rest}/replica)\"\n\
                 echo \"primary_{n}=$({curl} -s -o /dev/null -w '%{{http_code}}' http://{ip}:{rest}/primary)\"\n",
                curl = curl.display(),
                ip = h.ip,
                n = h.name,
                rest = ports::PATRONI_REST,
            ));
        }
        let dir = format!("{d}/{}", node.name);
        script.push_str(&format!(
            "echo \"primary_{n}=$({curl} -s -o /dev/null -w '%{{http_code}}' http://{ip}:{rest}/primary)\"
q() {{ runuser -u postgres -- {psql} -X -h {dir}/sock -p {pg} -At \"$@\"; }}
echo \"database=$(q -c \"SELECT pg_encoding_to_char(encoding) || ' ' || datcollate || ' ' || pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'synapse'\")\"
# A standby that just connected is in catchup until it reaches the primary's WAL.
for _ in $(seq 1 60); do [ \"$(q -c \"SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'\")\" = {standbys} ] && break; sleep 0.5; done
echo \"streaming=$(q -c \"SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'\")\"
echo \"slots=$(q -c 'SELECT count(*) FROM pg_replication_slots WHERE active')\"
echo \"checksums=$(q -c 'SHOW data_checksums')\"
echo \"hba=$(q -c \"SELECT count(*) FROM pg_hba_file_rules WHERE error IS NULL\")\"
echo \"unsafe_without_auth=$({curl} -s -o /dev/null -w '%{{http_code}}' -X POST http://{ip}:{rest}/reload)\"
echo \"unsafe_with_auth=$({curl} -s -o /dev/null -w '%{{http_code}}' -u patroni:{rest_pw} -X POST http://{ip}:{rest}/reload)\"
{ctl} -c {dir}/patroni.yml list -f json synapse > members.json || fail patronictl
cat members.json; echo
",
            n = node.name,
            curl = curl.display(),
            psql = psql.display(),
            ctl = patronictl.display(),
            ip = node.ip,
            rest = ports::PATRONI_REST,
            pg = ports::POSTGRES,
            standbys = nodes.len() - 1,
            rest_pw = secrets().get(SecretId::PatroniRestPassword),
        ));
        let out = sb.run(&script);
        let text = output_text(&out);
        assert_ok(&out, &format!("{name}: Patroni cluster\n{text}"));
        let has = |line: String| {
            assert!(
                text.lines().any(|l| l == line),
                "{name}: expected `{line}`:\n{text}"
            )
        };
        has(format!("primary_{}=200", node.name));
        for h in nodes.iter().skip(1) {
            has(format!("replica_{}=200", h.name));
            has(format!("primary_{}=503", h.name));
        }
        has("database=UTF8 C synapse".into());
        has(format!("streaming={}", nodes.len() - 1));
        has(format!("slots={}", nodes.len() - 1));
        has("checksums=on".into());
        has(format!(
            "hba={}",
            get(
                &yaml(file(
                    &files,
                    &format!("hosts/{}/etc/patroni/config.yml", node.name)
                )),
                &["postgresql", "pg_hba"]
            )
            .as_sequence()
            .expect("hba")
            .len()
        ));
        has("unsafe_without_auth=401".into());
        assert!(
            !text.contains("unsafe_with_auth=401"),
            "{name}: the REST password was refused:\n{text}"
        );
        let members: Value = serde_json::from_str(
            text.lines()
                .find(|l| l.starts_with('['))
                .expect("patronictl JSON"),
        )
        .expect("json");
        let members = members.as_sequence().expect("list");
        assert_eq!(members.len(), nodes.len(), "{name}");
        assert_eq!(
            members
                .iter()
                .filter(|m| m["Role"].as_str() == Some("Leader")
                    && m["State"].as_str() == Some("running"))
                .count(),
            1,
            "{name}: {members:?}"
        );
    });
}

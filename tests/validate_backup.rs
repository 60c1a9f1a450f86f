//! The backup files through the real programs, for every named plan, inside network
//! namespaces: pgBackRest's option parsing of both configurations (with negative
//! controls); the media backup and restore scripts run end to end on local trees
//! (rclone, rsync, hard-link snapshots, retention, --immutable); the pg_dump script
//! against a real PostgreSQL, restored as RESTORE.md says; the restore script's
//! Patroni configuration patch validated by Patroni against a real etcd; rclone's and
//! promtool's reading of their files; bash -n and shellcheck on every script.

#[path = "support/bundles.rs"]
mod bundles;
#[path = "support/sandbox.rs"]
mod sandbox;

use bundles::{bundle, file, for_each_plan, matching, secrets};
use sandbox::{Sandbox, assert_ok, output_text, quote, tool};
use serde_yaml::Value;
use synapse_planner::bundle::{File, SecretId, Topology, ports};
use synapse_planner::plan::Role;

const COMMANDS: [&str; 8] = [
    "archive-push",
    "archive-get",
    "backup",
    "check",
    "expire",
    "info",
    "restore",
    "stanza-create",
];

/// `pgbackrest --config=FILE --stanza=synapse help CMD` for every command both sides
/// run: each validates the options its command uses. Warnings (unknown options) fail
/// too. Negative controls prove the check bites.
#[test]
fn pgbackrest_accepts_both_configurations() {
    let pgbackrest = tool("pgbackrest");
    for_each_plan(|name, plan| {
        let files = bundle(plan);
        let topo = Topology::new(plan);
        let node = topo.first(Role::Patroni).expect("node");
        let repo = file(&files, "hosts/backup/etc/pgbackrest.conf");
        let db = file(&files, &format!("hosts/{}/etc/pgbackrest.conf", node.name));
        assert_eq!(
            repo.mode, 0o600,
            "{name}: the repository config holds the passphrase"
        );
        assert!(
            !db.contents
                .contains(secrets().get(SecretId::PgbackrestCipherPass)),
            "{name}"
        );
        let sb = Sandbox::new("pgbackrest");
        sb.write("repo.conf", &repo.contents);
        sb.write("db.conf", &db.contents);
        sb.write(
            "bad-value.conf",
            format!("{}compress-type=bogus\n", repo.contents),
        );
        sb.write(
            "bad-option.conf",
            db.contents
                .replace("[global]\n", "[global]\nbogus-option=1\n"),
        );
        let mut script = String::from("set -u\nrc=0\n");
        for conf in ["repo.conf", "db.conf"] {
            for cmd in COMMANDS {
                script.push_str(&format!(
                    "out=$({pgb} --config=$PWD/{conf} --stanza=synapse help {cmd} 2>&1) || {{ echo \"FAIL {conf} {cmd}: $out\"; rc=1; }}\n\
                     case \"$out\" in *WARN:*|*ERROR:*) echo \"FAIL {conf} {cmd}: $out\"; rc=1 ;; esac\n",
                    pgb = pgbackrest.display()
                ));
            }
        }
        script.push_str(&format!(
            "if {pgb} --config=$PWD/bad-value.conf --stanza=synapse help backup > bad1.out 2>&1; then echo 'FAIL: a bad value passed'; rc=1; fi\n\
             {pgb} --config=$PWD/bad-option.conf --stanza=synapse help archive-push > bad2.out 2>&1\n\
             grep -q 'WARN: .*bogus-option' bad2.out || {{ echo 'FAIL: an unknown option passed silently'; cat bad2.out; rc=1; }}\n\
             exit $rc\n",
            pgb = pgbackrest.display()
        ));
        let out = sb.run(&script);
        assert_ok(
            &out,
            &format!("{name}: pgbackrest help\n{}", output_text(&out)),
        );
        // The repository names every Patroni node; the nodes name the repository host.
        for (i, h) in topo.role(Role::Patroni).enumerate() {
            assert!(
                repo.contents
                    .contains(&format!("\npg{}-host={}\n", i + 1, h.fqdn)),
                "{name}: {}",
                h.name
            );
        }
        let backup = topo.first(Role::Backup).expect("backup host");
        assert!(
            db.contents
                .contains(&format!("\nrepo1-host={}\n", backup.fqdn)),
            "{name}"
        );
    });
}

#[test]
fn scripts_pass_bash_n_and_shellcheck() {
    let shellcheck = tool("shellcheck");
    for_each_plan(|name, plan| {
        let files = bundle(plan);
        let scripts: Vec<&File> = matching(&files, |p| {
            (p.starts_with("hosts/backup/usr/local/sbin/")
                || p.ends_with("/usr/local/sbin/restore-database.sh")
                || p.ends_with("/usr/local/sbin/reinit-replica.sh")
                || p.starts_with("backup/"))
                && p.ends_with(".sh")
        })
        .collect();
        let patroni = plan.host(Role::Patroni).count as usize;
        assert_eq!(
            scripts.len(),
            6 + 2 * patroni,
            "{name}: {:?}",
            scripts.iter().map(|f| &f.path).collect::<Vec<_>>()
        );
        let sb = Sandbox::new("backup-scripts");
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
            assert_ok(
                &sc,
                &format!("{name}: shellcheck {}\n{}", f.path, output_text(&sc)),
            );
        }
    });
}

/// cron(8) rules for /etc/cron.d: a file name of letters, digits, `-` and `_` (others are
/// ignored by run-parts naming), a final newline (cron drops an unterminated last line),
/// each entry five time fields, a user and a command; every command is in the bundle.
#[test]
fn cron_file_follows_cron_d_rules() {
    for_each_plan(|name, plan| {
        let files = bundle(plan);
        let f = file(&files, "hosts/backup/etc/cron.d/synapse-planner-backup");
        let base = f.path.rsplit('/').next().expect("name");
        assert!(
            base.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{name}: {base}"
        );
        assert_eq!(f.mode, 0o644, "{name}");
        assert!(f.contents.ends_with('\n'), "{name}: no final newline");
        let ranges = [(0u32, 59u32), (0, 23), (1, 31), (1, 12), (0, 7)];
        let mut entries = 0;
        for line in f
            .contents
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        {
            if let Some((k, _)) = line.split_once('=')
                && !k.contains(' ')
            {
                continue; // SHELL=, PATH=
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            assert!(fields.len() >= 7, "{name}: `{line}`");
            for (field, (lo, hi)) in fields[..5].iter().zip(ranges) {
                if *field == "*" {
                    continue;
                }
                for part in field.split(',') {
                    for n in part.split('-') {
                        let n: u32 = n
                            .parse()
                            .unwrap_or_else(|_| panic!("{name}: `{field}` in `{line}`"));
                        assert!(
                            (lo..=hi).contains(&n),
                            "{name}: {n} out of {lo}-{hi} in `{line}`"
                        );
                    }
                }
            }
            assert_eq!(fields[5], "root", "{name}: `{line}`");
            let script = fields[6..]
                .iter()
                .find(|w| w.starts_with('/'))
                .expect("a script path");
            let f = file(&files, &format!("hosts/backup{script}"));
            assert_eq!(f.mode, 0o755, "{name}: {script}");
            entries += 1;
        }
        assert_eq!(entries, 6, "{name}");
    });
}

/// The media backup end to end on local trees standing in for the bucket and the
/// Synapse host's media store: what is copied and what not, hard-linked snapshots,
/// retention, --immutable refusing a changed file, the metrics (promtool), and the
/// restore script putting a snapshot back.
#[test]
fn media_backup_snapshots_and_restores() {
    let promtool = tool("promtool");
    for tool_name in ["rclone", "rsync", "ionice", "flock"] {
        tool(tool_name);
    }
    for_each_plan(|name, plan| {
        let files = bundle(plan);
        let sb = Sandbox::new("media");
        sb.write(
            "backup-media.sh",
            &file(&files, "hosts/backup/usr/local/sbin/backup-media.sh").contents,
        );
        sb.write(
            "restore-media.sh",
            &file(&files, "hosts/backup/usr/local/sbin/restore-media.sh").contents,
        );
        let rclone = file(&files, "hosts/backup/etc/synapse-planner/rclone.conf");
        assert_eq!(rclone.mode, 0o600);
        sb.write("rclone.conf", &rclone.contents);
        let script = format!(
            r#"set -u
fail() {{ echo "FAIL: $*"; find backup -maxdepth 3 | sort; exit 1; }}
mkdir -p s3/local_content/ab/cd s3/local_thumbnails/ab/cd s3/remote_content/ex/x s3/remote_thumbnail/ex/x s3/url_cache/u s3/url_cache_thumbnails/u
mkdir -p store/local_content/ef/gh store/local_thumbnails/ef/gh store/remote_content/ex/z store/url_cache/v
echo one > s3/local_content/ab/cd/one
echo thumb > s3/local_thumbnails/ab/cd/one-32x32
echo remote > s3/remote_content/ex/x/r
echo rthumb > s3/remote_thumbnail/ex/x/r-32
echo preview > s3/url_cache/u/p
echo pthumb > s3/url_cache_thumbnails/u/p
echo pending > store/local_content/ef/gh/pending
echo pthumb > store/local_thumbnails/ef/gh/pending-32
echo remote > store/remote_content/ex/z/z
echo preview > store/url_cache/v/v
export MEDIA_BACKUP_ROOT=$PWD/backup MEDIA_S3_SOURCE=$PWD/s3 MEDIA_LOCAL_SOURCE=$PWD/store/ RCLONE_CONFIG=$PWD/rclone.conf METRICS_DIR=$PWD/metrics MEDIA_SNAPSHOTS=2
snapshots() {{ find backup/snapshots -mindepth 1 -maxdepth 1 -type d | sort; }}

bash backup-media.sh > run1.log 2>&1 || {{ cat run1.log; fail run 1; }}
(cd backup/current && find . -type f | sort) > current1.txt
cat current1.txt | sed 's/^/current1 /'
[ "$(snapshots | wc -l)" = 1 ] || fail "one snapshot after run 1"
first="$(snapshots | head -n 1)"

sleep 1.1
rm s3/local_content/ab/cd/one
echo two > s3/local_content/ab/cd/two
bash backup-media.sh > run2.log 2>&1 || {{ cat run2.log; fail run 2; }}
[ -f "$first/s3/local_content/ab/cd/one" ] || fail "the first snapshot lost a file deleted since"
[ ! -e backup/current/s3/local_content/ab/cd/one ] || fail "a deleted file stayed in current"
echo "links_two=$(stat -c %h backup/current/s3/local_content/ab/cd/two)"
echo "links_pending=$(stat -c %h backup/current/local/local_content/ef/gh/pending)"

sleep 1.1
bash backup-media.sh > run3.log 2>&1 || {{ cat run3.log; fail run 3; }}
echo "snapshots_after_3=$(snapshots | wc -l)"
[ ! -d "$first" ] || fail "the oldest snapshot outlived the retention"

# A media file that changed: rclone must refuse it, not rewrite the shared inode.
sleep 1.1
echo changed-and-longer > s3/local_content/ab/cd/two
if bash backup-media.sh > run4.log 2>&1; then fail "a modified media file was accepted"; fi
echo "old_two=$(cat "$(snapshots | tail -n 1)/s3/local_content/ab/cd/two")"
echo "snapshots_after_4=$(snapshots | wc -l)"
ls metrics
{promtool} check metrics < metrics/synapse_planner_backup_media_full.prom || fail "promtool (success)"
{promtool} check metrics < metrics/synapse_planner_backup_media_full_failure.prom || fail "promtool (failure)"

# Restore the newest snapshot into empty trees.
MEDIA_S3_TARGET=$PWD/restored-s3 MEDIA_LOCAL_TARGET=$PWD/restored-store/ MEDIA_OWNER= bash restore-media.sh > restore.log 2>&1 || {{ cat restore.log; fail restore; }}
latest="$(snapshots | tail -n 1)"
diff -r "$latest/s3" restored-s3 || fail "bucket restore differs"
diff -r "$latest/local" restored-store || fail "store restore differs"
echo restored
"#,
            promtool = promtool.display(),
        );
        let out = sb.run(&script);
        let text = output_text(&out);
        assert_ok(&out, &format!("{name}: media backup\n{text}"));
        let current: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("current1 "))
            .collect();
        assert_eq!(
            current,
            [
                "./local/local_content/ef/gh/pending",
                "./local/local_thumbnails/ef/gh/pending-32",
                "./s3/local_content/ab/cd/one",
                "./s3/local_thumbnails/ab/cd/one-32x32",
            ],
            "{name}: only local media are copied:\n{text}"
        );
        for line in [
            "links_two=2",
            "links_pending=3",
            "snapshots_after_3=2",
            "old_two=two",
            "snapshots_after_4=2",
            "restored",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{name}: expected `{line}`:\n{text}"
            );
        }
    });
}

/// The weekly pg_dump against a real PostgreSQL (on the VIP, the generated pg_hba, the
/// generated password file): the one-time keys' table is there but not its data, the
/// dump restores as RESTORE.md says, old dumps are pruned, metrics parse.
#[test]
fn pg_dump_leaves_out_one_time_keys_and_restores() {
    let psql = tool("psql");
    let promtool = tool("promtool");
    let s = secrets();
    for_each_plan(|name, plan| {
        let files = bundle(plan);
        let topo = Topology::new(plan);
        let vip = topo.vip;
        let v = plan.postgres.version;
        let bin = format!("/usr/lib/postgresql/{v}/bin");
        let initdb = tool(&format!("{bin}/initdb"));
        let pg_ctl = tool(&format!("{bin}/pg_ctl"));
        let sb = Sandbox::new("pgdump").with_addrs([vip]);
        let d = sb.dir().display().to_string();
        let dump = file(&files, "hosts/backup/usr/local/sbin/pg-dump-synapse.sh");
        sb.write("pg-dump-synapse.sh", &dump.contents);
        let port = if plan.host(Role::Patroni).count >= 2 {
            ports::PG_REPLICAS
        } else {
            ports::PG_PRIMARY
        };
        assert!(
            dump.contents
                .contains(&format!("port=\"${{PGDUMP_PORT:-{port}}}\"")),
            "{name}: pg_dump port"
        );
        let pgpass = file(&files, "hosts/backup/etc/synapse-planner/pgpass");
        assert_eq!(pgpass.mode, 0o600);
        sb.write("pgpass", &pgpass.contents);
        let cfg: Value =
            serde_yaml::from_str(&file(&files, "hosts/patroni1/etc/patroni/config.yml").contents)
                .expect("yaml");
        let hba: Vec<String> = cfg["postgresql"]["pg_hba"]
            .as_sequence()
            .expect("pg_hba")
            .iter()
            .map(|l| l.as_str().expect("line").to_string())
            .collect();
        sb.write("pg_hba.conf", hba.join("\n") + "\n");
        let doc = file(&files, "backup/RESTORE.md");
        let createdb = doc
            .contents
            .lines()
            .find_map(|l| {
                l.strip_prefix("sudo -u postgres ")
                    .filter(|l| l.starts_with("createdb "))
            })
            .expect("RESTORE.md's createdb line")
            .replace(" synapse", " synapse_restored")
            .replace("--owner=synapse_restored", "--owner=synapse");
        let script = format!(
            r#"set -u
fail() {{ echo "FAIL: $*"; [ -f pglog/pg.log ] && tail -n 30 pglog/pg.log; exit 1; }}
as_pg() {{ runuser -u postgres -- "$@"; }}
install -d -o postgres -g postgres -m 0700 pgdata
install -d -o postgres -g postgres -m 0755 sock pglog
as_pg {initdb} -D pgdata --encoding=UTF8 --locale=C.UTF-8 -A peer > initdb.log 2>&1 || {{ cat initdb.log; fail initdb; }}
install -o postgres -g postgres -m 0600 pg_hba.conf pgdata/pg_hba.conf
as_pg {pg_ctl} -D pgdata -l pglog/pg.log -w -t 60 start -o "-c listen_addresses='{vip}' -c port={pg} -c unix_socket_directories='{d}/sock'" > /dev/null || fail start
q() {{ as_pg {psql} -X -h {d}/sock -p {pg} -v ON_ERROR_STOP=1 -At "$@"; }}
q -c "CREATE ROLE synapse LOGIN PASSWORD {pw}" > /dev/null || fail role
q -c "CREATE DATABASE synapse OWNER synapse ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0" > /dev/null || fail db
PGPASSWORD={pw} {psql} -X -h {vip} -p {pg} -U synapse -d synapse -v ON_ERROR_STOP=1 -q <<'SQL' || fail tables
CREATE TABLE events (id integer, body text);
INSERT INTO events VALUES (1, 'a'), (2, 'b'), (3, 'c');
CREATE TABLE e2e_one_time_keys_json (user_id text, device_id text, key_id text, key_json text);
INSERT INTO e2e_one_time_keys_json VALUES ('@a:x', 'D', 'k1', '{{}}'), ('@b:x', 'E', 'k2', '{{}}');
SQL
chmod 0600 pgpass
export PGDUMP_HOST={vip} PGDUMP_PORT={pg} PGDUMP_DIR=$PWD/dumps PGDUMP_KEEP=2 PGPASSFILE=$PWD/pgpass METRICS_DIR=$PWD/metrics
for i in 1 2 3; do
  bash pg-dump-synapse.sh > dump$i.log 2>&1 || {{ cat dump$i.log; fail "dump $i"; }}
  sleep 1.1
done
echo "dumps=$(find dumps -name 'synapse-*.dump' | wc -l)"
latest="$(find dumps -name 'synapse-*.dump' | sort | tail -n 1)"
{bin}/pg_restore --list "$latest" > toc.txt || fail "pg_restore --list"
grep -q 'TABLE public e2e_one_time_keys_json ' toc.txt && echo "otk_table=yes"
grep -q 'TABLE DATA public e2e_one_time_keys_json ' toc.txt && echo "otk_data=yes"
grep -q 'TABLE DATA public events ' toc.txt && echo "events_data=yes"
{promtool} check metrics < metrics/synapse_planner_backup_pg_dump_full.prom || fail promtool
# RESTORE.md's procedure, into a new database.
as_pg env PGHOST={d}/sock PGPORT={pg} {bin}/{createdb} || fail createdb
as_pg {bin}/pg_restore -h {d}/sock -p {pg} --dbname=synapse_restored --no-owner --role=synapse "$latest" || fail pg_restore
echo "restored_events=$(q -d synapse_restored -c 'SELECT count(*) FROM events')"
echo "restored_keys=$(q -d synapse_restored -c 'SELECT count(*) FROM e2e_one_time_keys_json')"
echo "restored_collation=$(q -c "SELECT datcollate || ' ' || datctype FROM pg_database WHERE datname = 'synapse_restored'")"
"#,
            initdb = initdb.display(),
            pg_ctl = pg_ctl.display(),
            psql = psql.display(),
            promtool = promtool.display(),
            pg = ports::POSTGRES,
            pw = quote(s.get(SecretId::SynapseDbPassword)),
        );
        let out = sb.run(&script);
        let text = output_text(&out);
        assert_ok(&out, &format!("{name}: pg_dump\n{text}"));
        for line in [
            "dumps=2",
            "otk_table=yes",
            "events_data=yes",
            "restored_events=3",
            "restored_keys=0",
            "restored_collation=C C",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{name}: expected `{line}`:\n{text}"
            );
        }
        assert!(
            !text.contains("otk_data=yes"),
            "{name}: the one-time keys' data is in the dump"
        );
    });
}

/// restore-database.sh patches Patroni's configuration with a one-off bootstrap method
/// (its embedded Python, run with PyYAML); Patroni must accept the result, against a
/// real etcd, with a target time and without.
#[test]
fn restore_script_patches_patroni_config_validly() {
    let etcd = tool("etcd");
    let etcdctl = tool("etcdctl");
    let patroni = tool("patroni");
    let debian_patroni = tool("/usr/bin/patroni");
    let python = sandbox::venv().join("bin/python3");
    assert!(
        python.is_file(),
        "the validators' venv (scripts/setup.sh validators) has no python3"
    );
    for_each_plan(|name, plan| {
        let files = bundle(plan);
        let topo = Topology::new(plan);
        let nodes: Vec<_> = topo.role(Role::Patroni).cloned().collect();
        let node = &nodes[0];
        let restore = file(
            &files,
            &format!("hosts/{}/usr/local/sbin/restore-database.sh", node.name),
        );
        let py: String = restore
            .contents
            .split("<<'PY'\n")
            .nth(1)
            .and_then(|rest| rest.split("\nPY\n").next())
            .expect("the embedded Python")
            .to_string();
        let sb = Sandbox::new("restore-patch").with_addrs(nodes.iter().map(|h| h.ip));
        sb.write("patch.py", py + "\n");
        let cfg = file(
            &files,
            &format!("hosts/{}/etc/patroni/config.yml", node.name),
        );
        sb.write("original.yml", &cfg.contents);
        let mut script = String::from("set -u\n");
        for h in &nodes {
            sb.write(
                &format!("etcd/{}.env", h.name),
                &file(&files, &format!("hosts/{}/etc/default/etcd", h.name)).contents,
            );
            script.push_str(&format!(
                "(set -a; . ./etcd/{n}.env; set +a; export ETCD_DATA_DIR=$PWD/etcd/{n}.data; exec {etcd}) > etcd/{n}.log 2>&1 &\n",
                n = h.name,
                etcd = etcd.display()
            ));
        }
        let eps: Vec<String> = nodes
            .iter()
            .map(|h| format!("http://{}:{}", h.ip, ports::ETCD_CLIENT))
            .collect();
        script.push_str(&format!(
            "export ETCDCTL_API=3
for _ in $(seq 1 120); do {ctl} --endpoints={eps} endpoint health > /dev/null 2>&1 && break; sleep 0.5; done
cp original.yml time.yml; cp original.yml latest.yml
{py} patch.py time.yml '2026-11-26 14:00:00+00' || exit 1
{py} patch.py latest.yml '' || exit 1
{patroni} --validate-config time.yml || exit 1
{patroni} --validate-config latest.yml || exit 1
{debian_patroni} --validate-config time.yml || exit 1
{debian_patroni} --validate-config latest.yml || exit 1
",
            ctl = etcdctl.display(),
            eps = eps.join(","),
            py = python.display(),
            patroni = patroni.display(),
            debian_patroni = debian_patroni.display(),
        ));
        let out = sb.run(&script);
        assert_ok(
            &out,
            &format!("{name}: patched configurations\n{}", output_text(&out)),
        );
        let original: Value = serde_yaml::from_str(&cfg.contents).expect("yaml");
        for (variant, target) in [
            ("time.yml", Some("2026-11-26 14:00:00+00")),
            ("latest.yml", None),
        ] {
            let text = std::fs::read_to_string(sb.dir().join(variant)).expect("patched");
            let y: Value = serde_yaml::from_str(&text).expect("yaml");
            // Everything but the bootstrap section is the original.
            for key in ["scope", "name", "restapi", "etcd3", "postgresql"] {
                assert_eq!(y[key], original[key], "{name}: {variant}: {key} changed");
            }
            assert_eq!(
                y["bootstrap"]["dcs"], original["bootstrap"]["dcs"],
                "{name}: {variant}"
            );
            assert_eq!(
                y["bootstrap"]["method"].as_str(),
                Some("pgbackrest_restore"),
                "{name}: {variant}"
            );
            let m = &y["bootstrap"]["pgbackrest_restore"];
            let cmd = m["command"].as_str().expect("command");
            assert_eq!(m["no_params"].as_bool(), Some(true));
            let rc = &m["recovery_conf"];
            assert_eq!(
                rc["restore_command"].as_str(),
                Some("pgbackrest --stanza=synapse archive-get %f \"%p\"")
            );
            assert_eq!(rc["recovery_target_timeline"].as_str(), Some("latest"));
            match target {
                Some(t) => {
                    assert!(
                        cmd == format!(
                            "pgbackrest --stanza=synapse --delta --type=time '--target={t}' --target-action=promote restore"
                        ),
                        "{name}: {cmd}"
                    );
                    assert_eq!(rc["recovery_target_time"].as_str(), Some(t));
                    assert_eq!(rc["recovery_target_action"].as_str(), Some("promote"));
                }
                None => {
                    assert_eq!(cmd, "pgbackrest --stanza=synapse --delta restore", "{name}");
                    assert!(rc.get("recovery_target_time").is_none(), "{name}");
                }
            }
        }
    });
}

/// rclone reads its remote; pgBackRest's, pg_dump's and rclone's files holding secrets
/// are private; RESTORE.md names scripts the bundle has, on the hosts it says.
#[test]
fn rclone_config_and_restore_document() {
    let rclone = tool("rclone");
    for_each_plan(|name, plan| {
        let files = bundle(plan);
        let topo = Topology::new(plan);
        let conf = file(&files, "hosts/backup/etc/synapse-planner/rclone.conf");
        let sb = Sandbox::new("rclone");
        sb.write("rclone.conf", &conf.contents);
        let out = sb.run(&format!(
            "{r} --config $PWD/rclone.conf listremotes && {r} --config $PWD/rclone.conf config show minio",
            r = rclone.display()
        ));
        let text = output_text(&out);
        assert_ok(&out, &format!("{name}: rclone"));
        for line in [
            "minio:".to_string(),
            "type = s3".to_string(),
            "provider = Minio".to_string(),
            format!("endpoint = http://{}:{}", topo.vip, ports::MINIO_API),
            "access_key_id = synapse".to_string(),
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{name}: rclone shows no `{line}`:\n{text}"
            );
        }
        let doc = file(&files, "backup/RESTORE.md");
        for script in ["restore-database.sh", "reinit-replica.sh"] {
            assert!(
                doc.contents.contains(&format!("/usr/local/sbin/{script}")),
                "{name}: {script}"
            );
            for h in topo.role(Role::Patroni) {
                file(&files, &format!("hosts/{}/usr/local/sbin/{script}", h.name));
            }
        }
        for script in [
            "pgbackrest-backup.sh",
            "setup-pgbackrest.sh",
            "restore-media.sh",
        ] {
            assert!(
                doc.contents.contains(&format!("/usr/local/sbin/{script}")),
                "{name}: {script}"
            );
            file(&files, &format!("hosts/backup/usr/local/sbin/{script}"));
        }
        assert!(
            doc.contents.contains("`backup/exchange-ssh-keys.sh`"),
            "{name}"
        );
        file(&files, "backup/exchange-ssh-keys.sh");
        assert!(
            doc.contents.contains("TRUNCATE e2e_one_time_keys_json;"),
            "{name}"
        );
    });
}

//! The lab's network (scripts/lab.sh, docs/lab.md): every planned host a network
//! namespace with its planned address, all of them reaching each other over a bridge
//! that exists only in the lab, nothing reaching out, and everything gone when the
//! script ends — also when it is killed with SIGKILL.

#[path = "support/sandbox.rs"]
mod sandbox;

use sandbox::{output_text, tool};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/lab.sh")
}

fn lab(args: &[&str]) -> Command {
    let mut c = Command::new(tool("bash"));
    c.arg(script())
        .args(args)
        .env("SYNAPSE_PLANNER_BIN", env!("CARGO_BIN_EXE_synapse-planner"));
    c
}

/// The host's own network, to compare before and after.
fn host_network() -> String {
    let out = Command::new(tool("ip"))
        .args(["-br", "link"])
        .output()
        .expect("ip");
    let routes = Command::new(tool("ip"))
        .args(["route"])
        .output()
        .expect("ip route");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&routes.stdout)
    )
}

/// The default plan's 16 hosts and the odd-counts plan's (5 Patroni, 8 MinIO, 1
/// HAProxy): all pairs connect, nothing leaves, the host's network is unchanged.
#[test]
fn lab_network_holds_the_plan_and_nothing_leaves() {
    let plans = [
        (None, 16),
        (
            Some(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/plans/odd-counts.yaml"
            )),
            0,
        ),
    ];
    for (plan, hosts) in plans {
        let before = host_network();
        let mut args = vec!["check"];
        args.extend(plan);
        let out = lab(&args).output().expect("lab.sh");
        let text = output_text(&out);
        assert!(out.status.success(), "lab.sh check {plan:?}:\n{text}");
        let line = text
            .lines()
            .find(|l| l.starts_with("lab network: "))
            .unwrap_or_else(|| panic!("{text}"));
        let n: usize = line["lab network: ".len()..]
            .split(' ')
            .next()
            .and_then(|w| w.parse().ok())
            .unwrap_or_else(|| panic!("{line}"));
        if hosts > 0 {
            assert_eq!(n, hosts, "{line}");
        }
        assert!(
            line.contains(&format!("{} connections", n * (n - 1))),
            "{line}"
        );
        assert_eq!(host_network(), before, "the host's network changed");
    }
}

/// `lab.sh up` holds the lab; `run` reaches a host; SIGKILL of the script (no trap can
/// run) still ends the lab's PID 1 and with it every process and namespace.
#[test]
fn lab_is_gone_when_its_script_is_killed() {
    let before = host_network();
    let mut up = lab(&["up"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("lab.sh up");
    let mut lab_dir = String::new();
    let mut ready = false;
    for line in BufReader::new(up.stdout.take().expect("stdout")).lines() {
        let line = line.expect("line");
        if let Some(d) = line.strip_prefix("LAB_DIR=") {
            lab_dir = d.to_string();
        }
        if line.starts_with("lab up: ") {
            ready = true;
            break;
        }
    }
    assert!(ready && !lab_dir.is_empty(), "lab.sh up did not come up");
    let pid1 = std::fs::read_to_string(format!("{lab_dir}/lab.pid"))
        .expect("lab.pid")
        .trim()
        .to_string();
    let run = lab(&[
        "run", "patroni2", "ip", "-o", "-4", "addr", "show", "dev", "eth0",
    ])
    .env("LAB_DIR", &lab_dir)
    .output()
    .expect("lab.sh run");
    assert!(
        output_text(&run).contains("10.0.1.29/"),
        "{}",
        output_text(&run)
    );
    up.kill().expect("SIGKILL");
    let _ = up.wait();
    let start = Instant::now();
    while std::path::Path::new(&format!("/proc/{pid1}")).exists() {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the lab's PID 1 ({pid1}) outlived its script by 5 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(host_network(), before, "the host's network changed");
    let _ = std::fs::remove_dir_all(&lab_dir);
}

/// The lab's plan (tests/plans/lab.yaml).
fn lab_plan() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/plans/lab.yaml")
}

/// The number that follows MARKER in LINE.
fn number_after(line: &str, marker: &str) -> f64 {
    let at = line
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker:?} in: {line}"));
    line[at + marker.len()..]
        .split([' ', ';', ')', ',', '%'])
        .next()
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("no number after {marker:?} in: {line}"))
}

/// Runs a drill of lab.sh on the lab's plan and returns its line starting with PREFIX.
fn drill(command: &str, prefix: &str) -> String {
    let out = lab(&[command, lab_plan()]).output().expect("lab.sh");
    let text = output_text(&out);
    assert!(out.status.success(), "lab.sh {command}:\n{text}");
    println!("{text}");
    text.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} line:\n{text}"))
        .to_string()
}

/// Drill 2: the database, HAProxy + keepalived and PgBouncer from the bundle's own files
/// (stated substitutions only); the Patroni leader's host dies (link down, every process
/// killed) while a writer on the Synapse host writes through Synapse's own path
/// (PgBouncer → VIP → HAProxy → leader). Writes resume within the window the planner's
/// "losing a node" view predicts (`deploy::failover::primary_loss_pause_s`), and no
/// acknowledged write is missing. The drill found two bundle bugs: pg_hba refused
/// Patroni's local replication connection (no replica was ever promoted), and
/// PgBouncer's default server_login_retry added up to 15 s (47.3 s measured, now 1 s).
#[test]
fn database_fails_over_within_the_predicted_window() {
    let line = drill("drill-database", "failover: ");
    let took = number_after(&line, "acknowledged again after ");
    let longest = number_after(&line, "at most ");
    let (shortest, _, predicted_longest) =
        synapse_planner::deploy::failover::primary_loss_pause_s();
    assert_eq!(longest, predicted_longest as f64, "{line}");
    // The writer tries every 0.2 s and a try in flight may wait for its 2 s connect
    // timeout: the first acknowledgement comes up to ~2 s after writes can resume.
    assert!(
        took >= shortest as f64 - 1.0,
        "faster than the model allows: {line}"
    );
    assert!(took <= longest + 2.0, "{line}");
    assert!(number_after(&line, "; acknowledged ") >= 5.0, "{line}");
    assert_eq!(number_after(&line, " rows, "), 0.0, "{line}");
}

/// Drill 3: the host holding the VIP dies; the other HAProxy host holds it within
/// VRRP's Master_Down_Interval (the planner's figure: 3 × advert_int + skew; the
/// backup's timer ran from the last advertisement, up to advert_int before the death),
/// and writes through PgBouncer and the VIP resume right after, none lost.
#[test]
fn vip_moves_within_vrrps_master_down_interval() {
    let line = drill("drill-vip", "vip: ");
    let moved = number_after(&line, " after ");
    let predicted = number_after(&line, "the planner predicts ");
    let advert = synapse_planner::deploy::failover::KEEPALIVED_ADVERT_INT_S as f64;
    // The drill polls both hosts' addresses: up to ~0.5 s late.
    assert!(moved >= predicted - advert - 0.2, "{line}");
    assert!(moved <= predicted + 0.5, "{line}");
    let back = number_after(&line, "acknowledged again after ");
    assert!(back <= predicted + 3.0, "{line}");
    assert_eq!(number_after(&line, " rows, "), 0.0, "{line}");
}

/// The lab_render_synapse example, built now so the lab renders with this tree's code
/// (`cargo test --test lab` builds no example).
fn render_example() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--example", "lab_render_synapse"])
        .current_dir(&root)
        .status()
        .expect("cargo build --example lab_render_synapse");
    assert!(status.success(), "cargo build --example lab_render_synapse");
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("debug/examples/lab_render_synapse")
}

/// Synapse's main process and the lab plan's ten workers from the configuration the
/// playbook renders from the bundle (the config-loader test's rendering), with Redis,
/// PgBouncer and the database, behind the stand-in for Traefik and the reverse-proxy
/// companion: every process answers its health check, and a request of each routed
/// type reaches the process the playbook's routing promises — in that process's own
/// access log and no other's, and in its request counters — straight to the router and
/// through the VIP's HAProxy, with the client's address reaching Synapse. Tolerances: main healthy within 90 s and every
/// worker within 180 s of their start (measured here: 3 s and 18 s; a loaded machine is
/// slower); each process's resident memory at least 60 MiB (a Synapse that has loaded;
/// measured 123–133 MiB) and at most the planner's budget per process for the plan
/// (1.5 GiB + 0.5 GiB × cache factor).
#[test]
fn synapse_runs_the_playbooks_configuration_and_routing() {
    let plan_file = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/plans/lab.yaml");
    let plan = synapse_planner::plan::from_yaml(&std::fs::read_to_string(plan_file).expect("plan"))
        .validate()
        .plan
        .expect("the lab plan is valid");
    let budget_mib = synapse_planner::sizing::ram_per_process(&plan).0 as f64 / 100.0 * 1024.0;
    let out = lab(&["drill-synapse", plan_file])
        .env("SYNAPSE_PLANNER_RENDER", render_example())
        .output()
        .expect("lab.sh");
    let text = output_text(&out);
    println!("{text}");
    assert!(out.status.success(), "lab.sh drill-synapse:\n{text}");
    let field = |line: &str, key: &str| -> f64 {
        line.split(' ')
            .find(|w| w.starts_with(key))
            .and_then(|w| w[key.len()..].parse().ok())
            .unwrap_or_else(|| panic!("{key}: {line}"))
    };
    let processes: Vec<&str> = text.lines().filter(|l| l.starts_with("process ")).collect();
    assert_eq!(
        processes.len() as u64,
        1 + plan.worker_count(),
        "main and every worker of the plan:\n{text}"
    );
    for line in &processes {
        let start = field(line, "start=");
        let rss = field(line, "rss=");
        let bound = if line.contains("type=main ") {
            90.0
        } else {
            180.0
        };
        assert!(start <= bound, "healthy after more than {bound} s: {line}");
        assert!(
            (60.0..=budget_mib).contains(&rss),
            "resident memory outside 60–{budget_mib:.0} MiB: {line}"
        );
    }
    let routes: Vec<&str> = text.lines().filter(|l| l.starts_with("route ")).collect();
    assert!(routes.len() >= 20, "{text}");
    for line in &routes {
        assert!(!line.contains("-> expected"), "routed elsewhere: {line}");
    }
    let summary = text
        .lines()
        .find(|l| l.starts_with("routes: "))
        .unwrap_or_else(|| panic!("{text}"));
    assert_eq!(
        summary,
        format!(
            "routes: {0} of {0} reached the process the playbook routes them to",
            routes.len()
        )
    );
}

/// coturn from the bundle's turnserver.conf (as the package's statoverride leaves it:
/// readable by turnserver): it listens only on the host's planned address (3478 and
/// 5349; unreadable, coturn would run on its defaults on every address, without the
/// shared secret), relays UDP and TCP between two clients with the credentials Synapse
/// hands out (the TURN REST API secret of vault.yml), serves TLS with the internal CA's
/// certificate, refuses a wrong secret, and refuses to relay to a cluster address.
#[test]
fn turn_relays_with_synapses_secret_and_refuses_the_cluster() {
    let out = lab(&["drill-turn", lab_plan()]).output().expect("lab.sh");
    let text = output_text(&out);
    assert!(out.status.success(), "lab.sh drill-turn:\n{text}");
    println!("{text}");
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("turn: ")).collect();
    let listens = lines
        .iter()
        .find(|l| l.contains(" listens on "))
        .unwrap_or_else(|| panic!("{text}"));
    let binds: Vec<&str> = listens
        .split(" listens on ")
        .nth(1)
        .expect("binds")
        .split(',')
        .collect();
    assert_eq!(
        binds,
        [
            "tcp 10.0.1.109:3478",
            "tcp 10.0.1.109:5349",
            "udp 10.0.1.109:3478",
            "udp 10.0.1.109:5349"
        ],
        "{listens}"
    );
    for mode in ["udp", "tcp"] {
        let line = lines
            .iter()
            .find(|l| l.contains(&format!(" {mode} relay ")))
            .unwrap_or_else(|| panic!("no {mode} relay: {text}"));
        // Two namespaces on one bridge: nothing should be lost; 2 % allows a hiccup.
        assert!(number_after(line, "two clients, ") <= 2.0, "{line}");
    }
    for want in [
        "Verify return code: 0 (ok)",
        "refuses a wrong secret",
        "refuses a relay to 10.0.1.27 (error 403 (Forbidden IP))",
    ] {
        assert!(lines.iter().any(|l| l.contains(want)), "{want}: {text}");
    }
}

/// The object store behind the bundle's HAProxy (moto's S3 server in MinIO's place on
/// the first MinIO host, docs/lab.md): Synapse's storage-provider endpoint and keys from
/// vars.yml write, read back and delete media-sized objects through the VIP, HAProxy's
/// checks route around the MinIO hosts that run nothing, and the backup host's rclone
/// with the bundle's rclone.conf copies the bucket (the S3 half of backup-media.sh).
#[test]
fn media_reaches_the_object_store_through_the_vip() {
    let out = lab(&["drill-objectstore", lab_plan()])
        .output()
        .expect("lab.sh");
    let text = output_text(&out);
    assert!(out.status.success(), "lab.sh drill-objectstore:\n{text}");
    println!("{text}");
    for want in [
        "objectstore: through http://10.0.1.10:9000 with Synapse's keys: 20 puts of 1 MiB",
        "read back equal",
        "rclone.conf) copied 19 objects",
        "HAProxy's MinIO servers: minio1 UP, minio2 DOWN, minio3 DOWN, minio4 DOWN",
    ] {
        assert!(text.contains(want), "{want}:\n{text}");
    }
}

/// Backup and restore (issue 11, drill 4) on the lab plan: sshd and SSH trust as
/// backup/exchange-ssh-keys.sh sets it up, Patroni archiving with the file's
/// archive_command over SSH, setup-pgbackrest.sh's full backup, then RESTORE.md's restore
/// procedure step by step (restore-database.sh --latest, reinit-replica.sh, the new
/// timeline's full backup). A writer inserts a row every 0.2 s before, during and after
/// the backup until the procedure's step 1 stops it. Tolerances: no acknowledged row
/// may be missing (the old primary is stopped cleanly, which archives its last WAL), and
/// so none before the backup ended nor any older than archive_timeout before the stop;
/// every step of RESTORE.md succeeds in its own order (with the bundle's order before
/// the fix, the new timeline's full backup failed: no standby ran yet);
/// the restored cluster has its two replicas streaming and takes writes; the one-time
/// keys are emptied; the repository grows by WAL.
#[test]
fn backup_restores_every_archived_row_by_restore_md() {
    let plan = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/plans/lab.yaml");
    let out = lab(&["drill-restore", plan]).output().expect("lab.sh");
    let text = output_text(&out);
    assert!(out.status.success(), "lab.sh drill-restore:\n{text}");
    let line = |prefix: &str| -> &str {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no '{prefix}' line:\n{text}"))
    };
    for prefix in [
        "ssh: ",
        "database up",
        "backup: ",
        "cron: ",
        "restore: ",
        "procedure: ",
    ] {
        println!("{}", line(prefix));
    }
    // The cron file's full (by setup-pgbackrest.sh), check and incr each left a success
    // for node_exporter, and none a failure.
    let cron = line("cron: ");
    assert_eq!(number_after(cron, "node_exporter: "), 3.0, "{cron}");
    assert_eq!(number_after(cron, "successes, "), 0.0, "{cron}");
    let procedure = line("procedure: ");
    assert!(!procedure.contains("failed"), "{procedure}");
    let rows = line("rows: ");
    println!("{rows}");
    let written = number_after(rows, "written ");
    let restored = number_after(rows, "restored ");
    let missing = number_after(rows, "missing ");
    assert!(written >= 50.0, "{rows}");
    assert!(number_after(rows, "backup ended ") >= 20.0, "{rows}");
    assert_eq!(missing, written - restored, "{rows}");
    // restore-database.sh stops the old primary cleanly: PostgreSQL switches to a new WAL
    // segment at a clean shutdown when it archives, and archives the last one, so --latest
    // replays every acknowledged row (a crashed primary would lose up to archive_timeout).
    assert_eq!(missing, 0.0, "{rows}");
    assert_eq!(number_after(rows, "before the backup "), 0.0, "{rows}");
    assert_eq!(number_after(rows, "before the stop "), 0.0, "{rows}");
    // A crash instead of the clean stop would have lost only WAL not yet archived:
    // archive_timeout (60 s in the bundle) bounds it, plus a few seconds for
    // pgBackRest's asynchronous push over SSH.
    let crash = line("crash: ");
    println!("{crash}");
    let timeout = number_after(rows, "archive_timeout (");
    assert!(number_after(crash, "the last ") <= timeout + 5.0, "{crash}");
    let keys = line("one-time keys after the restore: ");
    assert_eq!(number_after(keys, "restore: "), 0.0, "{keys}");
    let wal = line("wal: ");
    println!("{wal}");
    assert!(number_after(wal, "wal: ") >= 2.0, "{wal}");
    assert!(
        number_after(wal, "restore, ") > number_after(wal, "wal: "),
        "{wal}"
    );
}

/// Drills 1 and 5: a Matrix client load (traffic.py, matrix-nio) from the monitoring
/// host through HTTPS on the VIP with the bundle's certificate — HAProxy, the router,
/// Synapse's main process and the lab plan's workers, PgBouncer, the VIP, the Patroni
/// leader, media to the object store. Every acknowledged event reaches every member
/// (traffic.py fails otherwise); every request each process logged is one the
/// playbook's routing sends to that process (routes.py fails otherwise), and each worker
/// type the traffic addresses got its requests; the uploaded media is in the object
/// store; and the peaks sampled during the traffic stay within the planner's budgets:
/// each process's RSS within its RAM budget, PgBouncer's clients within Synapse's
/// pools, its server connections within the pool PostgreSQL reserves for it, the
/// backends within max_connections. (The RSS figures are 7–8 % of the planner's
/// per-process budget: issue 12 calibrates the model on them; docs/lab.md.)
#[test]
fn traffic_reaches_the_promised_workers_within_the_budgets() {
    let out = lab(&["drill-traffic", lab_plan()])
        .output()
        .expect("lab.sh");
    let text = output_text(&out);
    assert!(out.status.success(), "lab.sh drill-traffic:\n{text}");
    println!("{text}");
    assert!(text.contains("\"messages_acknowledged\": 400"), "{text}");
    for route in [
        "main -> matrix-synapse:",
        "client_reader -> matrix-synapse-worker-client-reader-0:",
        "federation_reader -> matrix-synapse-worker-federation-reader-0:",
        "media_repository -> matrix-synapse-worker-media-repository-0:",
        "room_worker -> matrix-synapse-worker-room-0:",
        "stream_writer:typing -> matrix-synapse-worker-stream-writer-1-typing:",
        "sync_worker -> matrix-synapse-worker-sync-0:",
        "user_dir -> matrix-synapse-worker-user-dir-0:",
    ] {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("routed {route}")))
            .unwrap_or_else(|| panic!("no requests routed {route}\n{text}"));
        assert!(number_after(line, &format!("{route} ")) >= 1.0, "{line}");
    }
    assert!(!text.contains("MISROUTED"), "{text}");
    let objects = text
        .lines()
        .find(|l| l.starts_with("objectstore: "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(number_after(objects, "objectstore: ") >= 1.0, "{objects}");
    let budgets: Vec<&str> = text.lines().filter(|l| l.starts_with("budget: ")).collect();
    // 11 processes' RSS, PostgreSQL's backends, PgBouncer's clients and servers.
    assert_eq!(budgets.len(), 14, "{budgets:?}");
    for line in budgets {
        let peak = number_after(line, " peak ");
        let planner = number_after(line, " planner ");
        assert!(peak > 0.0 && peak <= planner, "{line}");
    }
}

/// Monitoring from the bundle's files (Prometheus, Alertmanager, the blackbox exporter,
/// node_exporter on every host, postgres_exporter, the pgbouncer exporter, Patroni's,
/// etcd's and HAProxy's metrics): every target of the database, edge and coturn jobs up,
/// then the Patroni leader's host dies and the generated HostDown alert reaches
/// Alertmanager within what the bundle's timers predict: no sooner than the rule's
/// `for:` (1 s less: a scrape in flight at the kill may already fail), no later than
/// `for:` + scrape_interval + scrape_timeout (the dead host answers nothing) +
/// evaluation_interval (2 s more: the notification to Alertmanager and the drill's
/// polling under load); the same bound holds for PatroniMemberDown (`for: 1m`), the
/// database rule written for a lost member after this drill found that none fired.
/// PatroniNoLeader (`for: 1m`) may go pending while the cluster
/// fails over but must not fire: the failover takes at most ttl + loop_wait = 40 s, and
/// the scrape lags add at most 15 s to the time it is seen without a leader.
#[test]
fn lab_alert_reaches_alertmanager_within_the_rule_timers() {
    let plan = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/plans/lab.yaml");
    let out = lab(&["drill-alerts", plan]).output().expect("lab.sh");
    let text = output_text(&out);
    assert!(out.status.success(), "lab.sh drill-alerts:\n{text}");
    let line_of = |prefix: &str| -> String {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix}\n{text}"))
            .to_string()
    };
    for prefix in [
        "monitoring up: ",
        "monitoring figures: ",
        "timeline: ",
        "database rules: ",
    ] {
        println!("{}", line_of(prefix));
    }
    let line = line_of("alerts: ");
    println!("{line}");
    let took = number_after(&line, "in Alertmanager after ");
    let low = number_after(&line, "between for = ");
    let high = number_after(&line, "evaluation_interval = ");
    assert!(took >= low - 1.0 && took <= high + 2.0, "{line}");
    assert!(line_of("timeline: ").ends_with("Alertmanager state active"));
    let database = line_of("database rules: ");
    assert!(!database.contains("firing: yes"), "{database}");
    // The database's own rule for a lost member fires too, within its timers.
    let member = line_of("database alert: PatroniMemberDown firing in Alertmanager after ");
    println!("{member}");
    let took = number_after(&member, "in Alertmanager after ");
    let low = number_after(&member, "between for = ");
    let high = number_after(&member, "evaluation_interval = ");
    assert!(took >= low - 1.0 && took <= high + 2.0, "{member}");
}

/// Two homeservers federating through the cluster (`lab.sh measure-federation`, small):
/// a second Synapse on a lab namespace of its own finds this one by its
/// /.well-known/matrix/server (the router answers it as the playbook's static-files
/// container does) and reaches it through HTTPS on the VIP's 8448, HAProxy, the router's
/// federation entrypoint and the federation reader; ours reaches it through the
/// federation sender. Local users join rooms that live on the remote (our server fetches
/// their state), the remote's messages and state changes reach ours and ours reach the
/// remote (each room's last event at least: what Synapse's catch-up guarantees), and
/// each phase's growth of our database is measured (every phase adds events; joining
/// adds state groups).
#[test]
fn two_homeservers_federate_through_the_cluster() {
    let out = lab(&["measure-federation", lab_plan()])
        .env("LAB_FEDERATION_REMOTE_USERS", "5")
        .env("LAB_FEDERATION_LOCAL_USERS", "3")
        .env("LAB_FEDERATION_ROOMS", "1")
        .env("LAB_FEDERATION_MESSAGES", "40")
        .output()
        .expect("lab.sh");
    let text = output_text(&out);
    assert!(out.status.success(), "lab.sh measure-federation:\n{text}");
    println!("{text}");
    for phase in ["join", "remote", "local", "churn", "baseline"] {
        let head = format!("## {phase}: ");
        let at = text
            .find(&head)
            .unwrap_or_else(|| panic!("no {phase} phase:\n{text}"));
        let section = &text[at..];
        assert!(
            !section.lines().next().unwrap_or("").contains("failed"),
            "{section}"
        );
        let added = section
            .lines()
            .find(|l| l.contains(" events added; "))
            .unwrap_or_else(|| panic!("no growth for {phase}:\n{section}"));
        assert!(number_after(added, "") >= 1.0, "{added}");
        if phase == "join" {
            assert!(section.contains("\"members_per_room\": 8"), "{section}");
            let state = section
                .lines()
                .find(|l| l.starts_with("| state_groups_state |"))
                .unwrap_or_else(|| panic!("joining stored no state:\n{section}"));
            assert!(!state.contains("| -"), "{state}");
        }
    }
}

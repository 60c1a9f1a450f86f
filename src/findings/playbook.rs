//! The playbook's hard failures: every `ansible.builtin.fail` task in the roles the
//! bundle's vars.yml enables, and what the planner does about each.
//!
//! A plan whose bundle meets a fail task's condition never deploys: the playbook stops
//! in its `validate_config` step. So each condition a plan can reach is an **error**
//! finding here, with the playbook's own condition; every other one is a condition the
//! bundle never produces (it sets the variable to a good value, or leaves it to the
//! playbook's defaults and group_vars), or one the plan's validation refuses.
//! `tests/playbook_fails.rs` evaluates every such condition on the named plans' vars.yml,
//! and checks that it has a check for every row of [`FAILS`] and no other.
//!
//! Sources, read at these commits (cited as `file:line` of the task's `- name:`):
//! matrix-docker-ansible-deploy @ c0681e4 (`roles/custom/...`); its external roles at
//! the heads stored for them: ansible-role-traefik @ 17813a2, ansible-role-valkey @
//! v9.1.1-0, ansible-role-exim-relay @ v4.99.1-r0-2-1 (the versions its
//! requirements.yml pins, traefik's v3.7.11-0 not being stored),
//! ansible-role-container-socket-proxy @ 97bdfc8, com.devture.ansible.role.
//! systemd_service_manager @ 42de7cf, com.devture.ansible.role.playbook_state_preserver
//! @ ff2fd42; geerlingguy's docker role, timesync, systemd_docker_base, aux and
//! playbook_runtime_messages have no fail task.
//!
//! Roles the bundle enables (vars.yml and the playbook's group_vars/matrix_servers):
//! matrix-base, matrix_playbook_migration, matrix-synapse (with workers, the
//! s3-storage-provider extension and the reverse-proxy companion), matrix-synapse-auto-
//! compressor, matrix-client-element, matrix-ketesa, matrix-static-files,
//! matrix-livekit-jwt-service (with LiveKit hosts), traefik, container-socket-proxy
//! (with the playbook's Traefik), valkey, exim-relay, and the playbook's helper roles.
//! Disabled: postgres, coturn, livekit-server, element-call, MAS, every bridge and bot.
//! Fail tasks that run only under their own tags, never in `setup-all`/`install-all`
//! (matrix-synapse `register_user.yml`, `update_user_password.yml`,
//! `import_media_store.yml`, `import_synapse_sqlite_db.yml`,
//! `rust-synapse-compress-state/main.yml`, `self_check_*.yml`), and the `setup_install`
//! checks of extensions the bundle does not enable (rest-auth, shared-secret-auth,
//! synapse-simple-antispam) are not listed; nor are systemd_service_manager's
//! `start.yml:96` and `restart_specified.yml:192`, which fail on a service found not
//! running after it was started (the state of the host, not a setting: the bundle's
//! post-deploy checks look at the same services), and its `restart_group.yml` and
//! `stop_group.yml`, which check a tag's `--extra-vars`; nor playbook_state_preserver's
//! `preserve_commit_hash.yml:54`, which fails when `git describe` fails on the machine
//! running the playbook.

use super::Out;
use crate::Severity;
use crate::plan::{Plan, WorkerKind};

/// How the planner meets one of the playbook's fail tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handled {
    /// A plan can reach the condition: the error finding with this code fires exactly
    /// when it holds.
    Finding(&'static str),
    /// The bundle never meets the condition, for the reason given.
    Bundle(&'static str),
    /// The plan's validation refuses every plan that would meet it.
    Validation(&'static str),
}

/// One fail task of the playbook.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FailTask {
    /// `file:line` of the task, in its repository (see the module's sources).
    pub task: &'static str,
    /// The task's name, shortened.
    pub name: &'static str,
    pub handled: Handled,
}

macro_rules! fail {
    ($task:expr, $name:expr, $handled:expr) => {
        FailTask {
            task: $task,
            name: $name,
            handled: $handled,
        }
    };
}

use Handled::{Bundle, Finding, Validation};

/// Every fail task of the enabled roles, by role, in file order.
pub const FAILS: &[FailTask] = &[
    // roles/custom/matrix-base/tasks/validate_config.yml
    fail!(
        "matrix-base/tasks/validate_config.yml:13",
        "invalid homeserver implementation",
        Bundle("vars.yml sets matrix_homeserver_implementation: synapse")
    ),
    fail!(
        "matrix-base/tasks/validate_config.yml:18",
        "renamed settings",
        Bundle("vars.yml sets only current variables")
    ),
    fail!(
        "matrix-base/tasks/validate_config.yml:46",
        "matrix_homeserver_generic_secret_key undefined",
        Bundle("vars.yml points it at vault_generic_secret_key, which vault.yml defines")
    ),
    fail!(
        "matrix-base/tasks/validate_config.yml:60",
        "required variables undefined",
        Bundle("vars.yml sets the domain and both FQNs; the rest are the playbook's defaults")
    ),
    fail!(
        "matrix-base/tasks/validate_config.yml:72",
        "matrix_architecture set incorrectly",
        Bundle("left to the playbook, which derives it from the host's facts")
    ),
    fail!(
        "matrix-base/tasks/validate_config.yml:77",
        "reverse-proxy type empty",
        Bundle("vars.yml sets playbook-managed-traefik")
    ),
    fail!(
        "matrix-base/tasks/validate_config.yml:85",
        "reverse-proxy type invalid",
        Bundle("vars.yml sets playbook-managed-traefik")
    ),
    fail!(
        "matrix-base/tasks/validate_config.yml:90",
        "uppercase domain",
        Validation("plan::validate refuses a server name with capital letters (field domain)")
    ),
    fail!(
        "matrix-base/tasks/validate_config.yml:99",
        "removed role mx-puppet-skype",
        Bundle("vars.yml sets no matrix_mx_puppet_skype_enabled")
    ),
    // roles/custom/matrix_playbook_migration/tasks/
    fail!(
        "matrix_playbook_migration/tasks/validate_config.yml:9",
        "renamed and removed settings (every task of the file, to line 905)",
        Bundle("vars.yml sets only current variables, none with a removed prefix")
    ),
    fail!(
        "matrix_playbook_migration/tasks/validate_migration_version.yml:7",
        "migration version not validated",
        Bundle("vars.yml sets matrix_playbook_migration_validated_version")
    ),
    fail!(
        "matrix_playbook_migration/tasks/validate_migration_version.yml:20",
        "migration version outdated",
        Bundle("vars.yml sets the version the playbook expects (defaults/main.yml:17)")
    ),
    // roles/custom/matrix-synapse/tasks/
    fail!(
        "matrix-synapse/tasks/init.yml:16",
        "old room-workers preset",
        Bundle("vars.yml sets every worker count and no preset")
    ),
    fail!(
        "matrix-synapse/tasks/synapse/workers/util/inject_worker.yml:14",
        "worker property missing",
        Bundle(
            "the playbook builds the worker list itself (vars.yml sets no matrix_synapse_workers_enabled_list)"
        )
    ),
    fail!(
        "matrix-synapse/tasks/synapse/workers/util/inject_worker.yml:29",
        "worker name with an underscore",
        Bundle("the playbook builds the worker list itself; deploy::workers' names have none")
    ),
    fail!(
        "matrix-synapse/tasks/synapse/workers/util/inject_worker.yml:34",
        "worker type unknown",
        Bundle("the playbook builds the worker list itself")
    ),
    fail!(
        "matrix-synapse/tasks/synapse/workers/util/inject_worker.yml:39",
        "worker app unknown",
        Bundle("the playbook builds the worker list itself")
    ),
    fail!(
        "matrix-synapse/tasks/synapse/workers/util/inject_worker.yml:46",
        "stream writer without a stream",
        Bundle("the playbook builds the worker list itself")
    ),
    fail!(
        "matrix-synapse/tasks/synapse/workers/util/inject_worker.yml:54",
        "stream writer without a replication port",
        Bundle("the playbook builds the worker list itself")
    ),
    fail!(
        "matrix-synapse/tasks/validate_config.yml:9",
        "renamed settings",
        Bundle("vars.yml sets only current variables")
    ),
    fail!(
        "matrix-synapse/tasks/validate_config.yml:100",
        "renamed settings in the configuration extension",
        Bundle("the extension sets no federation_ip_range_blacklist")
    ),
    fail!(
        "matrix-synapse/tasks/validate_config.yml:109",
        "required Synapse settings undefined",
        Bundle(
            "vars.yml sets the database host, user, password and name; the rest are the playbook's defaults"
        )
    ),
    fail!(
        "matrix-synapse/tasks/validate_config.yml:147",
        "more than 1 instance of a single-instance worker",
        Finding(SINGLE_INSTANCE)
    ),
    fail!(
        "matrix-synapse/tasks/validate_config.yml:163",
        "reverse-proxy companion access log format invalid",
        Bundle("left at the playbook's default")
    ),
    fail!(
        "matrix-synapse/tasks/validate_config.yml:170",
        "generic workers mixed with specialised worker types",
        Finding(GENERIC_MIXED)
    ),
    fail!(
        "matrix-synapse/tasks/validate_config.yml:178",
        "container image customization templates incomplete",
        Bundle("vars.yml enables no customization templates")
    ),
    fail!(
        "matrix-synapse/tasks/validate_config.yml:187",
        "customization templates keyscan incomplete",
        Bundle("vars.yml enables no customization templates")
    ),
    fail!(
        "matrix-synapse/tasks/validate_config.yml:195",
        "password providers with MAS",
        Bundle("vars.yml enables no Matrix Authentication Service")
    ),
    fail!(
        "matrix-synapse/tasks/validate_config.yml:204",
        "password config with MAS",
        Bundle("vars.yml enables no Matrix Authentication Service")
    ),
    fail!(
        "matrix-synapse/tasks/validate_config.yml:209",
        "registration with MAS",
        Bundle("vars.yml enables no Matrix Authentication Service")
    ),
    fail!(
        "matrix-synapse/tasks/validate_config.yml:214",
        "registration CAPTCHA with MAS",
        Bundle("vars.yml enables no Matrix Authentication Service")
    ),
    fail!(
        "matrix-synapse/tasks/validate_config.yml:219",
        "OpenID Connect with MAS",
        Bundle("vars.yml enables no Matrix Authentication Service")
    ),
    fail!(
        "matrix-synapse/tasks/validate_config.yml:224",
        "CAS with MAS",
        Bundle("vars.yml enables no Matrix Authentication Service")
    ),
    fail!(
        "matrix-synapse/tasks/validate_config.yml:229",
        "QR code login without MAS",
        Bundle("vars.yml enables no MSC4108")
    ),
    fail!(
        "matrix-synapse/tasks/ext/s3-storage-provider/validate_config.yml:8",
        "s3-storage-provider settings undefined",
        Bundle("vars.yml sets the bucket, region and endpoint")
    ),
    fail!(
        "matrix-synapse/tasks/ext/s3-storage-provider/validate_config.yml:18",
        "s3-storage-provider keys undefined",
        Bundle("vars.yml sets the access key id and the secret (vault)")
    ),
    fail!(
        "matrix-synapse/tasks/ext/s3-storage-provider/validate_config.yml:27",
        "s3-storage-provider endpoint not a URL",
        Bundle("vars.yml's endpoint is http://<VIP>:<MinIO port>")
    ),
    fail!(
        "matrix-synapse/tasks/reverse_proxy_companion/validate_config.yml:7",
        "reverse-proxy companion settings undefined",
        Bundle("left to the playbook's group_vars")
    ),
    // roles/custom/matrix-synapse-auto-compressor/tasks/validate_config.yml
    fail!(
        "matrix-synapse-auto-compressor/tasks/validate_config.yml:7",
        "renamed settings",
        Bundle("vars.yml sets only current variables")
    ),
    fail!(
        "matrix-synapse-auto-compressor/tasks/validate_config.yml:21",
        "database settings undefined",
        Bundle("vars.yml sets the host; the password follows Synapse's (group_vars)")
    ),
    // roles/custom/matrix-client-element/tasks/validate_config.yml
    fail!(
        "matrix-client-element/tasks/validate_config.yml:9",
        "renamed settings",
        Bundle("vars.yml sets only current variables")
    ),
    fail!(
        "matrix-client-element/tasks/validate_config.yml:38",
        "required Element settings undefined",
        Bundle("left to the playbook's group_vars")
    ),
    fail!(
        "matrix-client-element/tasks/validate_config.yml:48",
        "location sharing without a tile server",
        Bundle("vars.yml enables no location sharing")
    ),
    fail!(
        "matrix-client-element/tasks/validate_config.yml:56",
        "riot-web variables",
        Bundle("vars.yml sets no matrix_riot_web_* variable")
    ),
    fail!(
        "matrix-client-element/tasks/validate_config.yml:67",
        "Element Traefik settings undefined",
        Bundle("vars.yml sets the path prefix; the host name is the playbook's")
    ),
    fail!(
        "matrix-client-element/tasks/validate_config.yml:79",
        "Element path prefix ends with a slash",
        Bundle("vars.yml's prefix is /element")
    ),
    // roles/custom/matrix-ketesa/tasks/validate_config.yml
    fail!(
        "matrix-ketesa/tasks/validate_config.yml:10",
        "ketesa without Synapse",
        Bundle("vars.yml sets matrix_homeserver_implementation: synapse")
    ),
    fail!(
        "matrix-ketesa/tasks/validate_config.yml:20",
        "renamed settings",
        Bundle("vars.yml sets only current variables")
    ),
    fail!(
        "matrix-ketesa/tasks/validate_config.yml:43",
        "ketesa Traefik settings undefined",
        Bundle("left to the playbook's group_vars")
    ),
    fail!(
        "matrix-ketesa/tasks/validate_config.yml:55",
        "ketesa path prefix ends with a slash",
        Bundle("left to the playbook's default")
    ),
    // roles/custom/matrix-static-files/tasks/validate_config.yml
    fail!(
        "matrix-static-files/tasks/validate_config.yml:7",
        "static-files settings undefined",
        Bundle("left to the playbook's group_vars")
    ),
    fail!(
        "matrix-static-files/tasks/validate_config.yml:24",
        "renamed settings",
        Bundle("vars.yml sets only current variables")
    ),
    // roles/custom/matrix-livekit-jwt-service/tasks/validate_config.yml
    fail!(
        "matrix-livekit-jwt-service/tasks/validate_config.yml:9",
        "renamed settings",
        Bundle("vars.yml sets only current variables")
    ),
    fail!(
        "matrix-livekit-jwt-service/tasks/validate_config.yml:19",
        "JWT service settings undefined",
        Bundle(
            "vars.yml sets the LiveKit URL, key and secret when the plan has LiveKit hosts; the rest are group_vars"
        )
    ),
    // ansible-role-traefik tasks/validate_config.yml
    fail!(
        "ansible-role-traefik/tasks/validate_config.yml:6",
        "renamed settings",
        Bundle("vars.yml sets only current variables")
    ),
    fail!(
        "ansible-role-traefik/tasks/validate_config.yml:21",
        "required Traefik settings undefined",
        Bundle("left to the playbook's group_vars")
    ),
    fail!(
        "ansible-role-traefik/tasks/validate_config.yml:31",
        "ACME settings undefined",
        Bundle("vars.yml configures no ACME resolver (HAProxy terminates TLS)")
    ),
    fail!(
        "ansible-role-traefik/tasks/validate_config.yml:39",
        "Docker endpoint syntax invalid",
        Bundle("left to the playbook's group_vars")
    ),
    fail!(
        "ansible-role-traefik/tasks/validate_config.yml:45",
        "dashboard settings undefined",
        Bundle("vars.yml enables no dashboard")
    ),
    fail!(
        "ansible-role-traefik/tasks/validate_config.yml:54",
        "dashboard basic auth undefined",
        Bundle("vars.yml enables no dashboard")
    ),
    // ansible-role-valkey tasks/validate_config.yml
    fail!(
        "ansible-role-valkey/tasks/validate_config.yml:7",
        "renamed settings",
        Bundle("vars.yml sets only current variables")
    ),
    fail!(
        "ansible-role-valkey/tasks/validate_config.yml:18",
        "required Valkey settings undefined",
        Bundle("left to the playbook's group_vars")
    ),
    fail!(
        "ansible-role-valkey/tasks/validate_config.yml:29",
        "Valkey architecture unsupported",
        Bundle("left to the playbook, which derives it from the host's facts")
    ),
    // ansible-role-container-socket-proxy tasks/validate_config.yml
    fail!(
        "ansible-role-container-socket-proxy/tasks/validate_config.yml:7",
        "renamed settings",
        Bundle("vars.yml sets only current variables")
    ),
    fail!(
        "ansible-role-container-socket-proxy/tasks/validate_config.yml:18",
        "required container-socket-proxy settings undefined",
        Bundle("left to the playbook's group_vars")
    ),
    // com.devture.ansible.role.systemd_service_manager tasks/validate_config.yml
    fail!(
        "systemd_service_manager/tasks/validate_config.yml:3",
        "service restart mode invalid",
        Bundle("left at the role's default")
    ),
    // com.devture.ansible.role.playbook_state_preserver tasks/
    fail!(
        "playbook_state_preserver/tasks/main.yml:3",
        "state preserver settings undefined",
        Bundle("left to the playbook's group_vars")
    ),
    fail!(
        "playbook_state_preserver/tasks/preserve_vars.yml:3",
        "vars.yml preservation settings undefined",
        Bundle("left to the playbook's group_vars")
    ),
    fail!(
        "playbook_state_preserver/tasks/preserve_commit_hash.yml:5",
        "commit-hash preservation settings undefined",
        Bundle("left to the playbook's group_vars")
    ),
    // ansible-role-exim-relay tasks/validate_config.yml
    fail!(
        "ansible-role-exim-relay/tasks/validate_config.yml:6",
        "renamed settings",
        Bundle("vars.yml sets only current variables")
    ),
    fail!(
        "ansible-role-exim-relay/tasks/validate_config.yml:17",
        "required exim-relay settings undefined",
        Bundle("vars.yml sets none of them empty; the rest are group_vars")
    ),
];

/// Finding code for [`FAILS`]' single-instance task.
pub const SINGLE_INSTANCE: &str = "worker-single-instance";
/// Finding code for [`FAILS`]' mixing task.
pub const GENERIC_MIXED: &str = "workers-generic-mixed";

/// The specialised worker types of the mixing task's condition, in its order
/// (`matrix-synapse/tasks/validate_config.yml:174`: room, sync, client reader,
/// federation reader).
const SPECIALISED: [WorkerKind; 4] = [
    WorkerKind::Room,
    WorkerKind::Sync,
    WorkerKind::ClientReader,
    WorkerKind::FederationReader,
];

/// The error findings of the fail tasks a plan can reach.
pub(crate) fn check(plan: &Plan, out: &mut Out) {
    single_instance(plan, out);
    generic_mixed(plan, out);
}

/// `matrix-synapse/tasks/validate_config.yml:147`: fails when a single-instance type's
/// count is above 1 (`| int > 1`); the types are `WorkerKind::single_instance`.
fn single_instance(plan: &Plan, out: &mut Out) {
    for kind in WorkerKind::ALL {
        let count = plan.workers(kind);
        if kind.single_instance() && count > 1 {
            let path = format!("synapse.workers.{}", kind.key());
            out.push(
                Severity::Error,
                SINGLE_INSTANCE,
                &[&path],
                format!("{} is set to {count}; only one can run.", kind.label()),
                format!(
                    "The playbook fails when {} is above 1 (roles/custom/matrix-synapse/tasks/validate_config.yml:147): Synapse gives this stream or task to exactly one process.",
                    kind.playbook_count_var()
                ),
                format!("Set {path} to 1."),
            );
        }
    }
}

/// `matrix-synapse/tasks/validate_config.yml:170`: fails when
/// `generic_workers_count > 0` and `room + sync + client_reader + federation_reader
/// counts > 0`.
fn generic_mixed(plan: &Plan, out: &mut Out) {
    let generic = plan.workers(WorkerKind::Generic);
    let specialised: u64 = SPECIALISED
        .iter()
        .fold(0u64, |sum, k| sum.saturating_add(plan.workers(*k)));
    if generic > 0 && specialised > 0 {
        let names: Vec<String> = SPECIALISED
            .iter()
            .filter(|k| plan.workers(**k) > 0)
            .map(|k| format!("{} {}", plan.workers(*k), k.key()))
            .collect();
        let mut paths = vec!["synapse.workers.generic".to_string()];
        paths.extend(
            SPECIALISED
                .iter()
                .filter(|k| plan.workers(**k) > 0)
                .map(|k| format!("synapse.workers.{}", k.key())),
        );
        let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
        out.push(
            Severity::Error,
            GENERIC_MIXED,
            &paths,
            format!(
                "{generic} generic worker(s) run alongside specialised workers ({}): the playbook refuses to deploy this.",
                names.join(", ")
            ),
            "The playbook fails (\"Generic workers should not be mixed with the new specialized worker types\", roles/custom/matrix-synapse/tasks/validate_config.yml:170) when matrix_synapse_workers_generic_workers_count is above 0 and the room, sync, client-reader and federation-reader counts add up to more than 0: both claim the same routes.",
            "Use either generic workers or specialised ones: set synapse.workers.generic to 0, or the room, sync, client-reader and federation-reader counts to 0.",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Report;

    fn findings(changes: &[(&str, &str)]) -> Vec<super::super::Finding> {
        let p = Plan::default()
            .with_texts(changes)
            .unwrap_or_else(|e| panic!("{changes:?}: {e:?}"));
        Report::new(&p).findings
    }

    fn sev_of(changes: &[(&str, &str)], code: &str) -> Option<Severity> {
        findings(changes)
            .iter()
            .find(|f| f.code == code)
            .map(|f| f.severity)
    }

    /// The playbook's condition, written out: generic > 0 and the four specialised
    /// counts sum above 0; the finding is an error exactly then.
    #[test]
    fn generic_mixed_is_the_playbooks_condition() {
        let zero = [
            ("synapse.workers.room", "0"),
            ("synapse.workers.sync", "0"),
            ("synapse.workers.client-reader", "0"),
            ("synapse.workers.federation-reader", "0"),
        ];
        for generic in ["0", "1", "3"] {
            for one in 0..=zero.len() {
                let mut changes: Vec<(&str, &str)> = zero.to_vec();
                if let Some(c) = changes.get_mut(one) {
                    c.1 = "2";
                }
                changes.push(("synapse.workers.generic", generic));
                let fails = generic != "0" && one < zero.len();
                assert_eq!(
                    sev_of(&changes, GENERIC_MIXED),
                    fails.then_some(Severity::Error),
                    "{changes:?}"
                );
            }
        }
        // Types outside the condition do not count: generic workers with stream
        // writers, pushers, media workers (the default plan's others) are accepted.
        let others_only = [
            ("synapse.workers.room", "0"),
            ("synapse.workers.sync", "0"),
            ("synapse.workers.client-reader", "0"),
            ("synapse.workers.federation-reader", "0"),
            ("synapse.workers.generic", "2"),
        ];
        assert_eq!(sev_of(&others_only, GENERIC_MIXED), None);
        let f = findings(&[("synapse.workers.generic", "2")]);
        let f = f.iter().find(|f| f.code == GENERIC_MIXED).expect("fires");
        assert_eq!(f.paths[0], "synapse.workers.generic");
        assert!(f.paths.contains(&"synapse.workers.sync".to_string()));
        assert!(f.why.contains("validate_config.yml:170"));
    }

    #[test]
    fn single_instance_is_the_playbooks_condition() {
        for kind in WorkerKind::ALL.into_iter().filter(|k| k.single_instance()) {
            let path = format!("synapse.workers.{}", kind.key());
            for (count, fails) in [("0", false), ("1", false), ("2", true)] {
                assert_eq!(
                    sev_of(&[(path.as_str(), count)], SINGLE_INSTANCE),
                    fails.then_some(Severity::Error),
                    "{path} = {count}"
                );
            }
        }
    }

    /// Each finding code of the table is one this module emits, and each task is
    /// listed once.
    #[test]
    fn table_is_consistent() {
        let mut seen = std::collections::BTreeSet::new();
        for f in FAILS {
            assert!(seen.insert(f.task), "{} listed twice", f.task);
            if let Handled::Finding(code) = f.handled {
                assert!([SINGLE_INSTANCE, GENERIC_MIXED].contains(&code), "{code}");
            }
        }
        for code in [SINGLE_INSTANCE, GENERIC_MIXED] {
            assert!(FAILS.iter().any(|f| f.handled == Handled::Finding(code)));
        }
        // The condition's four types are the plan's specialised kinds.
        let kinds: Vec<WorkerKind> = WorkerKind::ALL
            .into_iter()
            .filter(|k| k.specialised())
            .collect();
        assert_eq!(kinds.len(), SPECIALISED.len());
        assert!(kinds.iter().all(|k| SPECIALISED.contains(k)));
    }
}

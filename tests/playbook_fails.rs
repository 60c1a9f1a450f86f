//! The playbook's hard failures (`synapse_planner::findings::playbook::FAILS`): every
//! fail task the bundle is said never to meet is evaluated here, with the task's own
//! condition, on the named plans' vars.yml and vault.yml; the one the validation
//! refuses is tried on the plan. Every row of the table has exactly one check here.

#[path = "support/bundles.rs"]
mod bundles;

use bundles::{bundle, file, named_plans};
use serde_yaml::{Mapping, Value};
use std::collections::BTreeMap;
use synapse_planner::bundle::workers::workers;
use synapse_planner::findings::playbook::{FAILS, Handled};
use synapse_planner::plan::Plan;

/// What a check sees: the plan, vars.yml and vault.yml as Ansible reads them
/// (`!unsafe` strings as their text).
struct Seen<'a> {
    plan: &'a Plan,
    vars: Mapping,
    vault: Mapping,
}

impl Seen<'_> {
    fn get(&self, k: &str) -> Option<&Value> {
        self.vars.get(k)
    }
    fn set(&self, k: &str) -> bool {
        self.get(k).is_some()
    }
    fn text(&self, k: &str) -> String {
        match self.get(k) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::Bool(b)) => b.to_string(),
            _ => String::new(),
        }
    }
    /// The value as the playbook sees it: `{{ vault_x }}` resolved from vault.yml.
    fn resolved(&self, k: &str) -> String {
        let t = self.text(k);
        match t
            .strip_prefix("{{ ")
            .and_then(|r| r.strip_suffix(" }}"))
            .filter(|r| r.starts_with("vault_"))
        {
            Some(key) => match self.vault.get(key) {
                Some(Value::String(s)) => s.clone(),
                _ => String::new(),
            },
            None => t,
        }
    }
    /// `lookup('vars', k, default='') | string | length == 0` for a variable the bundle
    /// sets (a required one).
    fn empty(&self, k: &str) -> bool {
        self.resolved(k).is_empty()
    }
    fn truthy(&self, k: &str) -> bool {
        matches!(self.get(k), Some(Value::Bool(true)))
            || matches!(self.text(k).as_str(), "true" | "True" | "yes")
    }
    fn any_key(&self, pred: impl Fn(&str) -> bool) -> Option<String> {
        self.vars
            .keys()
            .filter_map(Value::as_str)
            .find(|k| pred(k))
            .map(str::to_string)
    }
}

fn untag(v: Value) -> Value {
    match v {
        Value::Tagged(t) => untag(t.value),
        Value::Mapping(m) => Value::Mapping(m.into_iter().map(|(k, v)| (k, untag(v))).collect()),
        Value::Sequence(s) => Value::Sequence(s.into_iter().map(untag).collect()),
        other => other,
    }
}

fn mapping(text: &str, what: &str) -> Mapping {
    match untag(serde_yaml::from_str(text).unwrap_or_else(|e| panic!("{what}: {e}"))) {
        Value::Mapping(m) => m,
        other => panic!("{what}: not a mapping: {other:?}"),
    }
}

/// Prefixes of the variables the playbook's migration role reports as removed
/// (`roles/custom/matrix_playbook_migration/tasks/validate_config.yml`, the
/// `varnames` lookups from line 108 on), and of external roles' old names.
const REMOVED_PREFIXES: &[&str] = &[
    "matrix_postgres_",
    "matrix_mailer_",
    "matrix_prometheus_",
    "matrix_backup_borg_",
    "matrix_grafana_",
    "matrix_ntfy_",
    "matrix_redis_",
    "redis_",
    "keydb_",
    "matrix_etherpad_",
    "matrix_aux_",
    "matrix_jitsi_",
    "matrix_bot_postmoogle_",
    "matrix_nginx_proxy_",
    "matrix_ssl_",
    "devture_postgres_backup_",
    "devture_postgres_",
    "devture_traefik_",
    "devture_container_socket_proxy_",
    "matrix_bot_go_neb_",
    "matrix_ma1sd_",
    "matrix_appservice_slack_",
    "matrix_appservice_webhooks_",
    "matrix_bot_chatgpt_",
    "matrix_client_cinny_",
    "matrix_client_hydrogen_",
    "matrix_coturn_",
    "matrix_conduwuit",
    "matrix_dynamic_dns_",
    "matrix_bot_matrix_registration_bot_",
    "matrix_appservice_kakaotalk_",
    "matrix_ldap_registration_proxy_",
    "matrix_mautrix_",
    "matrix_mx_puppet_",
    "matrix_dimension_",
    "matrix_email2matrix_",
    "matrix_go_skype_bridge_",
    "matrix_registration_",
    "matrix_sliding_sync_",
    "matrix_synapse_ext_synapse_auto_accept_invite_",
    "matrix_riot_web_",
];

/// Every variable vars.yml sets is a current one: in the playbook's or its external
/// roles' variable lists (tests/data, as tests/validate_playbook.rs reads them) or of
/// the three external roles that list does not cover, and none has a removed prefix.
/// A renamed variable's old name is in neither list, so this covers every
/// "(Deprecation) Catch and report renamed settings" task.
fn only_current_variables(s: &Seen<'_>) -> Result<(), String> {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut known = std::collections::BTreeSet::new();
    for f in ["playbook-vars.txt", "external-role-vars.txt"] {
        let text = std::fs::read_to_string(data.join(f)).map_err(|e| format!("{f}: {e}"))?;
        known.extend(
            text.lines()
                .filter(|l| !l.starts_with('#'))
                .map(|l| l.trim().to_string()),
        );
    }
    for k in s.vars.keys().filter_map(Value::as_str) {
        let external = ["traefik_", "valkey_", "devture_systemd_docker_base_"]
            .iter()
            .any(|p| k.starts_with(p));
        if !known.contains(k) && !external {
            return Err(format!("{k} is not a current variable"));
        }
        if let Some(p) = REMOVED_PREFIXES.iter().find(|p| k.starts_with(*p)) {
            return Err(format!("{k} has the removed prefix {p}"));
        }
    }
    Ok(())
}

fn ok(cond: bool, what: &str) -> Result<(), String> {
    if cond { Ok(()) } else { Err(what.to_string()) }
}

fn absent(s: &Seen<'_>, keys: &[&str]) -> Result<(), String> {
    match keys.iter().find(|k| s.set(k)) {
        Some(k) => Err(format!("{k} is set")),
        None => Ok(()),
    }
}

fn no_prefix(s: &Seen<'_>, prefix: &str) -> Result<(), String> {
    match s.any_key(|k| k.starts_with(prefix)) {
        Some(k) => Err(format!("{k} is set")),
        None => Ok(()),
    }
}

/// `item != item | lower` over the domain and both FQNs.
fn lowercase_names(s: &Seen<'_>) -> Result<(), String> {
    for k in [
        "matrix_domain",
        "matrix_server_fqn_matrix",
        "matrix_server_fqn_element",
    ] {
        let t = s.text(k);
        ok(t == t.to_lowercase(), &format!("{k} has capitals: {t}"))?;
    }
    // And the validation refuses a plan that would have them.
    let raw = Plan::default().with_texts(&[("domain", "Chat.Example.com")]);
    ok(raw.is_err(), "a server name with capitals validates")
}

/// The check for each row of the table, by task; `Err` says how the condition holds.
type Check = fn(&Seen<'_>) -> Result<(), String>;

fn checks() -> BTreeMap<&'static str, Check> {
    let mut c: BTreeMap<&'static str, Check> = BTreeMap::new();
    c.insert("matrix-base/tasks/validate_config.yml:13", |s| {
        let v = s.text("matrix_homeserver_implementation");
        ok(
            ["synapse", "dendrite", "conduit", "continuwuity", "tuwunel"].contains(&v.as_str()),
            &v,
        )
    });
    c.insert(
        "matrix-base/tasks/validate_config.yml:18",
        only_current_variables,
    );
    c.insert("matrix-base/tasks/validate_config.yml:46", |s| {
        ok(
            !s.empty("matrix_homeserver_generic_secret_key"),
            "generic secret key empty",
        )
    });
    c.insert("matrix-base/tasks/validate_config.yml:60", |s| {
        for k in [
            "matrix_domain",
            "matrix_server_fqn_matrix",
            "matrix_server_fqn_element",
        ] {
            ok(!s.empty(k), k)?;
        }
        absent(
            s,
            &[
                "matrix_homeserver_container_client_api_endpoint",
                "matrix_homeserver_container_federation_api_endpoint",
                "matrix_architecture",
            ],
        )
    });
    c.insert("matrix-base/tasks/validate_config.yml:72", |s| {
        absent(s, &["matrix_architecture"])
    });
    c.insert("matrix-base/tasks/validate_config.yml:77", |s| {
        ok(
            !s.empty("matrix_playbook_reverse_proxy_type"),
            "reverse proxy type empty",
        )
    });
    c.insert("matrix-base/tasks/validate_config.yml:85", |s| {
        let v = s.text("matrix_playbook_reverse_proxy_type");
        ok(
            [
                "playbook-managed-traefik",
                "other-traefik-container",
                "none",
            ]
            .contains(&v.as_str()),
            &v,
        )
    });
    c.insert("matrix-base/tasks/validate_config.yml:90", lowercase_names);
    c.insert("matrix-base/tasks/validate_config.yml:99", |s| {
        absent(s, &["matrix_mx_puppet_skype_enabled"])
    });
    c.insert(
        "matrix_playbook_migration/tasks/validate_config.yml:9",
        only_current_variables,
    );
    c.insert(
        "matrix_playbook_migration/tasks/validate_migration_version.yml:7",
        |s| {
            ok(
                !s.empty("matrix_playbook_migration_validated_version"),
                "no validated version",
            )
        },
    );
    c.insert(
        "matrix_playbook_migration/tasks/validate_migration_version.yml:20",
        |s| {
            // matrix_playbook_migration_expected_version at c0681e4 (defaults/main.yml:17);
            // the playbook compares the strings.
            let v = s.text("matrix_playbook_migration_validated_version");
            ok(v.as_str() >= "v2026.05.18.0", &v)
        },
    );
    c.insert("matrix-synapse/tasks/init.yml:16", |s| {
        ok(
            s.text("matrix_synapse_workers_preset") != "room-workers",
            "room-workers preset",
        )
    });
    let injected: Check = |s| {
        absent(s, &["matrix_synapse_workers_enabled_list"])?;
        match workers(s.plan).iter().find(|w| w.name.contains('_')) {
            Some(w) => Err(format!("worker name with an underscore: {}", w.name)),
            None => Ok(()),
        }
    };
    for task in [
        "matrix-synapse/tasks/synapse/workers/util/inject_worker.yml:14",
        "matrix-synapse/tasks/synapse/workers/util/inject_worker.yml:29",
        "matrix-synapse/tasks/synapse/workers/util/inject_worker.yml:34",
        "matrix-synapse/tasks/synapse/workers/util/inject_worker.yml:39",
        "matrix-synapse/tasks/synapse/workers/util/inject_worker.yml:46",
        "matrix-synapse/tasks/synapse/workers/util/inject_worker.yml:54",
    ] {
        c.insert(task, injected);
    }
    c.insert(
        "matrix-synapse/tasks/validate_config.yml:9",
        only_current_variables,
    );
    c.insert("matrix-synapse/tasks/validate_config.yml:100", |s| {
        let ext = s.text("matrix_synapse_configuration_extension_yaml");
        let ext = mapping(&ext, "extension");
        ok(
            !ext.contains_key("federation_ip_range_blacklist"),
            "federation_ip_range_blacklist",
        )
    });
    c.insert("matrix-synapse/tasks/validate_config.yml:109", |s| {
        for k in [
            "matrix_synapse_database_host",
            "matrix_synapse_database_user",
            "matrix_synapse_database_password",
            "matrix_synapse_database_database",
        ] {
            ok(!s.empty(k), k)?;
        }
        absent(
            s,
            &[
                "matrix_synapse_username",
                "matrix_synapse_uid",
                "matrix_synapse_gid",
                "matrix_synapse_container_network",
                "matrix_synapse_macaroon_secret_key",
                "matrix_synapse_metrics_proxying_enabled",
            ],
        )?;
        no_prefix(s, "matrix_synapse_container_labels_")
    });
    c.insert("matrix-synapse/tasks/validate_config.yml:163", |s| {
        absent(
            s,
            &["matrix_synapse_reverse_proxy_companion_access_log_format"],
        )
    });
    c.insert("matrix-synapse/tasks/validate_config.yml:178", |s| {
        ok(
            !s.truthy("matrix_synapse_container_image_customizations_templates_enabled"),
            "templates enabled",
        )
    });
    c.insert("matrix-synapse/tasks/validate_config.yml:187", |s| {
        no_prefix(
            s,
            "matrix_synapse_container_image_customizations_templates_",
        )
    });
    let no_mas: Check = |s| {
        ok(
            !s.truthy("matrix_synapse_matrix_authentication_service_enabled"),
            "MAS enabled",
        )?;
        no_prefix(s, "matrix_authentication_service_")
    };
    for task in [
        "matrix-synapse/tasks/validate_config.yml:195",
        "matrix-synapse/tasks/validate_config.yml:204",
        "matrix-synapse/tasks/validate_config.yml:209",
        "matrix-synapse/tasks/validate_config.yml:214",
        "matrix-synapse/tasks/validate_config.yml:219",
        "matrix-synapse/tasks/validate_config.yml:224",
    ] {
        c.insert(task, no_mas);
    }
    c.insert("matrix-synapse/tasks/validate_config.yml:229", |s| {
        ok(
            !s.truthy("matrix_synapse_experimental_features_msc4108_enabled"),
            "MSC4108 enabled",
        )
    });
    c.insert(
        "matrix-synapse/tasks/ext/s3-storage-provider/validate_config.yml:8",
        |s| {
            for k in ["bucket", "region_name", "endpoint_url"] {
                let k = format!("matrix_synapse_ext_synapse_s3_storage_provider_config_{k}");
                ok(!s.empty(&k), &k)?;
            }
            Ok(())
        },
    );
    c.insert(
        "matrix-synapse/tasks/ext/s3-storage-provider/validate_config.yml:18",
        |s| {
            for k in ["access_key_id", "secret_access_key"] {
                let k = format!("matrix_synapse_ext_synapse_s3_storage_provider_config_{k}");
                ok(!s.empty(&k), &k)?;
            }
            Ok(())
        },
    );
    c.insert(
        "matrix-synapse/tasks/ext/s3-storage-provider/validate_config.yml:27",
        |s| {
            let k = "matrix_synapse_ext_synapse_s3_storage_provider_config_endpoint_url";
            ok(s.text(k).starts_with("http"), &s.text(k))
        },
    );
    c.insert(
        "matrix-synapse/tasks/reverse_proxy_companion/validate_config.yml:7",
        |s| no_prefix(s, "matrix_synapse_reverse_proxy_companion_"),
    );
    c.insert(
        "matrix-synapse-auto-compressor/tasks/validate_config.yml:7",
        only_current_variables,
    );
    c.insert(
        "matrix-synapse-auto-compressor/tasks/validate_config.yml:21",
        |s| {
            // The password is group_vars' `matrix_synapse_database_password` (Synapse on).
            ok(
                !s.empty("matrix_synapse_auto_compressor_database_hostname"),
                "hostname",
            )?;
            ok(!s.empty("matrix_synapse_database_password"), "password")?;
            absent(s, &["matrix_synapse_auto_compressor_database_password"])
        },
    );
    c.insert(
        "matrix-client-element/tasks/validate_config.yml:9",
        only_current_variables,
    );
    c.insert("matrix-client-element/tasks/validate_config.yml:38", |s| {
        absent(
            s,
            &[
                "matrix_client_element_default_hs_url",
                "matrix_client_element_container_network",
            ],
        )?;
        no_prefix(s, "matrix_client_element_container_labels_")
    });
    c.insert("matrix-client-element/tasks/validate_config.yml:48", |s| {
        ok(
            !s.truthy("matrix_client_element_location_sharing_enabled"),
            "location sharing",
        )
    });
    c.insert("matrix-client-element/tasks/validate_config.yml:56", |s| {
        no_prefix(s, "matrix_riot_web_")
    });
    c.insert("matrix-client-element/tasks/validate_config.yml:67", |s| {
        ok(!s.empty("matrix_client_element_path_prefix"), "path prefix")?;
        no_prefix(s, "matrix_client_element_container_labels_traefik_")
    });
    c.insert("matrix-client-element/tasks/validate_config.yml:79", |s| {
        let p = s.text("matrix_client_element_path_prefix");
        ok(p == "/" || !p.ends_with('/'), &p)
    });
    c.insert("matrix-ketesa/tasks/validate_config.yml:10", |s| {
        ok(
            !s.truthy("matrix_ketesa_enabled")
                || s.text("matrix_homeserver_implementation") == "synapse",
            "ketesa without synapse",
        )
    });
    c.insert(
        "matrix-ketesa/tasks/validate_config.yml:20",
        only_current_variables,
    );
    c.insert("matrix-ketesa/tasks/validate_config.yml:43", |s| {
        no_prefix(s, "matrix_ketesa_container_labels_")
    });
    c.insert("matrix-ketesa/tasks/validate_config.yml:55", |s| {
        absent(s, &["matrix_ketesa_path_prefix"])?;
        no_prefix(s, "matrix_ketesa_container_labels_")
    });
    c.insert("matrix-static-files/tasks/validate_config.yml:7", |s| {
        no_prefix(s, "matrix_static_files_")
    });
    c.insert(
        "matrix-static-files/tasks/validate_config.yml:24",
        only_current_variables,
    );
    c.insert(
        "matrix-livekit-jwt-service/tasks/validate_config.yml:9",
        only_current_variables,
    );
    c.insert("matrix-livekit-jwt-service/tasks/validate_config.yml:19", |s| {
        if !s.truthy("matrix_livekit_jwt_service_enabled") {
            return Ok(());
        }
        for k in ["livekit_key", "livekit_url", "livekit_secret"] {
            let k = format!("matrix_livekit_jwt_service_environment_variable_{k}");
            ok(!s.empty(&k), &k)?;
        }
        absent(
            s,
            &[
                "matrix_livekit_jwt_service_hostname",
                "matrix_livekit_jwt_service_container_network",
                "matrix_livekit_jwt_service_environment_variable_livekit_full_access_homeservers",
            ],
        )
    });
    c.insert(
        "ansible-role-traefik/tasks/validate_config.yml:6",
        only_current_variables,
    );
    c.insert("ansible-role-traefik/tasks/validate_config.yml:21", |s| {
        absent(
            s,
            &["traefik_uid", "traefik_gid", "traefik_entrypoint_primary"],
        )
    });
    c.insert("ansible-role-traefik/tasks/validate_config.yml:31", |s| {
        no_prefix(s, "traefik_config_certificatesResolvers_")
    });
    c.insert("ansible-role-traefik/tasks/validate_config.yml:39", |s| {
        absent(s, &["traefik_config_providers_docker_endpoint"])
    });
    c.insert("ansible-role-traefik/tasks/validate_config.yml:45", |s| {
        no_prefix(s, "traefik_dashboard_")
    });
    c.insert("ansible-role-traefik/tasks/validate_config.yml:54", |s| {
        no_prefix(s, "traefik_dashboard_")
    });
    c.insert(
        "ansible-role-valkey/tasks/validate_config.yml:7",
        only_current_variables,
    );
    c.insert("ansible-role-valkey/tasks/validate_config.yml:18", |s| {
        absent(
            s,
            &[
                "valkey_identifier",
                "valkey_uid",
                "valkey_gid",
                "valkey_arch",
            ],
        )
    });
    c.insert("ansible-role-valkey/tasks/validate_config.yml:29", |s| {
        absent(s, &["valkey_arch", "matrix_architecture"])
    });
    c.insert(
        "ansible-role-container-socket-proxy/tasks/validate_config.yml:7",
        only_current_variables,
    );
    c.insert(
        "ansible-role-container-socket-proxy/tasks/validate_config.yml:18",
        |s| no_prefix(s, "container_socket_proxy_"),
    );
    c.insert("systemd_service_manager/tasks/validate_config.yml:3", |s| {
        absent(s, &["devture_systemd_service_manager_service_restart_mode"])
    });
    for task in [
        "playbook_state_preserver/tasks/main.yml:3",
        "playbook_state_preserver/tasks/preserve_vars.yml:3",
        "playbook_state_preserver/tasks/preserve_commit_hash.yml:5",
    ] {
        c.insert(task, |s| no_prefix(s, "devture_playbook_state_preserver_"));
    }
    c.insert(
        "ansible-role-exim-relay/tasks/validate_config.yml:6",
        only_current_variables,
    );
    c.insert(
        "ansible-role-exim-relay/tasks/validate_config.yml:17",
        |s| {
            // `item.when | bool and lookup('vars', item.name, default='') | string |
            // length == 0`: whatever of them vars.yml sets is not empty.
            for k in [
                "exim_relay_uid",
                "exim_relay_gid",
                "exim_relay_hostname",
                "exim_relay_sender_address",
                "exim_relay_container_network",
            ] {
                ok(!s.set(k) || !s.empty(k), k)?;
            }
            Ok(())
        },
    );
    c
}

/// Every row of the table has a check here and every check a row; rows the
/// planner answers with a finding have none (their tests are in the module).
#[test]
fn every_fail_task_has_one_check() {
    let c = checks();
    for f in FAILS {
        let has = c.contains_key(f.task);
        match f.handled {
            Handled::Finding(_) => assert!(!has, "{}: a finding, not a check", f.task),
            Handled::Bundle(_) | Handled::Validation(_) => {
                assert!(has, "{}: no check", f.task)
            }
        }
    }
    for task in c.keys() {
        assert!(
            FAILS.iter().any(|f| f.task == *task),
            "{task}: a check without a row"
        );
    }
}

/// No named plan's bundle meets any fail condition the table says it never meets, and
/// none has a finding for the ones it can reach.
#[test]
fn named_plans_meet_no_fail_condition() {
    let c = checks();
    for (name, plan) in named_plans() {
        let files = bundle(&plan);
        let dir = format!("ansible/inventory/host_vars/{}", plan.domain);
        let seen = Seen {
            plan: &plan,
            vars: mapping(
                &file(&files, &format!("{dir}/vars.yml")).contents,
                "vars.yml",
            ),
            vault: mapping(
                &file(&files, &format!("{dir}/vault.yml")).contents,
                "vault.yml",
            ),
        };
        let findings = synapse_planner::report::Report::new(&plan).findings;
        for f in FAILS {
            if let Handled::Finding(code) = f.handled {
                assert!(
                    findings.iter().all(|x| x.code != code),
                    "{name}: {code} ({})",
                    f.task
                );
            }
            if let Some(check) = c.get(f.task)
                && let Err(why) = check(&seen)
            {
                panic!(
                    "{name}: the playbook would fail at {} ({}): {why}",
                    f.task, f.name
                );
            }
        }
    }
}

/// The checks are not vacuous: a vars.yml that meets a condition is caught.
#[test]
fn checks_catch_a_failing_vars() {
    let c = checks();
    let plan = Plan::default();
    let files = bundle(&plan);
    let dir = format!("ansible/inventory/host_vars/{}", plan.domain);
    let vars_text = &file(&files, &format!("{dir}/vars.yml")).contents;
    let vault_text = &file(&files, &format!("{dir}/vault.yml")).contents;
    let cases: &[(&str, &str, Value)] = &[
        (
            "matrix-base/tasks/validate_config.yml:85",
            "matrix_playbook_reverse_proxy_type",
            Value::String("nginx".into()),
        ),
        (
            "matrix-client-element/tasks/validate_config.yml:79",
            "matrix_client_element_path_prefix",
            Value::String("/element/".into()),
        ),
        (
            "matrix-synapse/tasks/ext/s3-storage-provider/validate_config.yml:27",
            "matrix_synapse_ext_synapse_s3_storage_provider_config_endpoint_url",
            Value::String("minio:9000".into()),
        ),
        (
            "matrix-synapse/tasks/validate_config.yml:109",
            "matrix_synapse_database_host",
            Value::String(String::new()),
        ),
        (
            "matrix-base/tasks/validate_config.yml:18",
            "matrix_synapse_cache_factor",
            Value::Number(1.into()),
        ),
        (
            "matrix-synapse/tasks/validate_config.yml:204",
            "matrix_synapse_matrix_authentication_service_enabled",
            Value::Bool(true),
        ),
    ];
    for (task, key, value) in cases {
        let mut seen = Seen {
            plan: &plan,
            vars: mapping(vars_text, "vars.yml"),
            vault: mapping(vault_text, "vault.yml"),
        };
        seen.vars
            .insert(Value::String(key.to_string()), value.clone());
        assert!(
            c[task](&seen).is_err(),
            "{task} not caught with {key}: {value:?}"
        );
    }
}

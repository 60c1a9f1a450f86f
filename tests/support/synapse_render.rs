//! The Synapse configuration the playbook renders from the bundle's vars.yml and
//! vault.yml (homeserver.yaml, one file per worker, the log config), emulating its
//! templates; and the readers it needs (vars.yml and vault.yml as Ansible reads them).
//! Shared by tests/validate_playbook.rs (Synapse's own config loader on it) and
//! examples/lab_render_synapse.rs (the lab runs Synapse on it, scripts/lab/synapse.sh).

#![allow(dead_code)]

use serde_json::{Map, Value, json};
use std::path::Path;
use synapse_planner::bundle::workers::{Worker, workers};
use synapse_planner::plan::{Plan, WorkerKind};

/// Plain YAML (the extension, which the playbook reads with `from_yaml`, PyYAML's safe
/// loader): a tag is an error, as it is there.
pub fn yaml(text: &str, what: &str) -> Value {
    serde_yaml::from_str::<Value>(text).unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// The key under which Ansible writes a value it will never template (its `!unsafe`
/// strings) in JSON: `{"__ansible_unsafe": text}` (ansible-inventory --list).
pub const UNSAFE: &str = "__ansible_unsafe";

/// A file Ansible reads (vars.yml, vault.yml), as Ansible reads it, in the JSON form
/// ansible-inventory prints: a `!unsafe` string is `{"__ansible_unsafe": text}`; any other
/// tag is refused.
pub fn ansible_yaml(text: &str, what: &str) -> Value {
    fn convert(v: serde_yaml::Value, what: &str) -> Value {
        use serde_yaml::Value as Y;
        match v {
            Y::Null => Value::Null,
            Y::Bool(b) => json!(b),
            Y::Number(n) => {
                if let Some(u) = n.as_u64() {
                    json!(u)
                } else if let Some(i) = n.as_i64() {
                    json!(i)
                } else {
                    json!(n.as_f64().unwrap_or_else(|| panic!("{what}: {n}")))
                }
            }
            Y::String(s) => json!(s),
            Y::Sequence(items) => {
                Value::Array(items.into_iter().map(|x| convert(x, what)).collect())
            }
            Y::Mapping(m) => Value::Object(
                m.into_iter()
                    .map(|(k, x)| {
                        let k = k
                            .as_str()
                            .unwrap_or_else(|| panic!("{what}: key {k:?}"))
                            .to_string();
                        (k, convert(x, what))
                    })
                    .collect(),
            ),
            Y::Tagged(t) => match (t.tag == "unsafe", t.value) {
                (true, Y::String(s)) => json!({ UNSAFE: s }),
                (_, other) => panic!(
                    "{what}: a tag Ansible does not read this way: {} {other:?}",
                    t.tag
                ),
            },
        }
    }
    let v =
        serde_yaml::from_str::<serde_yaml::Value>(text).unwrap_or_else(|e| panic!("{what}: {e}"));
    convert(v, what)
}

/// The text of a string value, `!unsafe` or not.
pub fn text_of(v: &Value) -> Option<&str> {
    v.as_str().or_else(|| unsafe_text(v))
}

/// The text of an `!unsafe` string.
pub fn unsafe_text(v: &Value) -> Option<&str> {
    match v.as_object() {
        Some(m) if m.len() == 1 => m.get(UNSAFE).and_then(Value::as_str),
        _ => None,
    }
}

pub fn mapping<'a>(v: &'a Value, what: &str) -> &'a Map<String, Value> {
    v.as_object()
        .unwrap_or_else(|| panic!("{what} is not a mapping: {v}"))
}

/// Replaces "{{ vault_x }}" by its value, as Ansible would when templating, and an
/// `!unsafe` string by its text, which Ansible leaves as it is.
pub fn resolve(v: &Value, vault: &Map<String, Value>) -> Value {
    if let Some(text) = unsafe_text(v) {
        return json!(text);
    }
    match v {
        Value::String(s) if s.starts_with("{{ vault_") => {
            let k = s.trim_start_matches("{{ ").trim_end_matches(" }}");
            vault
                .get(k)
                .cloned()
                .unwrap_or_else(|| panic!("{k} not in the vault"))
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| resolve(x, vault)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), resolve(x, vault)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Ansible's `combine(recursive=True)`: mappings merge key by key, anything else is
/// replaced.
pub fn combine(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(slot) if slot.is_object() && v.is_object() => combine(slot, v),
                    _ => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

/// Variables of vars.yml that the mapping below turns into homeserver.yaml keys.
pub const SYNAPSE_VARS: &[&str] = &[
    "matrix_domain",
    "matrix_server_fqn_matrix",
    "matrix_playbook_ssl_enabled",
    "matrix_homeserver_generic_secret_key",
    "matrix_synapse_presence_enabled",
    "matrix_synapse_limit_remote_rooms_enabled",
    "matrix_synapse_limit_remote_rooms_complexity",
    "matrix_synapse_caches_global_factor",
    "matrix_synapse_caches_expire_caches",
    "matrix_synapse_caches_cache_entry_ttl",
    "matrix_synapse_caches_sync_response_cache_duration",
    "matrix_synapse_cache_autotuning_max_cache_memory_usage",
    "matrix_synapse_cache_autotuning_target_cache_memory_usage",
    "matrix_synapse_cache_autotuning_min_cache_ttl",
    "matrix_synapse_database_host",
    "matrix_synapse_database_port",
    "matrix_synapse_database_user",
    "matrix_synapse_database_password",
    "matrix_synapse_database_database",
    "matrix_synapse_database_cp_min",
    "matrix_synapse_database_cp_max",
    "matrix_synapse_rc_message",
    "matrix_synapse_rc_registration",
    "matrix_synapse_rc_login",
    "matrix_synapse_rc_admin_redaction",
    "matrix_synapse_rc_joins",
    "matrix_synapse_rc_invites",
    "matrix_synapse_ext_synapse_s3_storage_provider_enabled",
    "matrix_synapse_ext_synapse_s3_storage_provider_config_bucket",
    "matrix_synapse_ext_synapse_s3_storage_provider_config_region_name",
    "matrix_synapse_ext_synapse_s3_storage_provider_config_endpoint_url",
    "matrix_synapse_ext_synapse_s3_storage_provider_config_access_key_id",
    "matrix_synapse_ext_synapse_s3_storage_provider_config_secret_access_key",
    "matrix_synapse_ext_synapse_s3_storage_provider_store_local",
    "matrix_synapse_ext_synapse_s3_storage_provider_store_remote",
    "matrix_synapse_ext_synapse_s3_storage_provider_store_synchronous",
    "matrix_synapse_max_upload_size_mb",
    "matrix_synapse_url_preview_enabled",
    "matrix_synapse_media_retention_local_media_lifetime",
    "matrix_synapse_media_retention_remote_media_lifetime",
    "matrix_synapse_turn_uris",
    "matrix_synapse_turn_shared_secret",
    "matrix_synapse_metrics_enabled",
    "valkey_enabled",
    "matrix_synapse_workers_enabled",
    "matrix_rtc_enabled",
    "matrix_livekit_jwt_service_enabled",
    "matrix_synapse_log_level",
    "matrix_synapse_storage_sql_log_level",
    "matrix_synapse_root_log_level",
    "matrix_synapse_configuration_extension_yaml",
];

/// Variables that do not become a Synapse setting (containers, proxies, other
/// services), with where they go instead.
pub const OTHER_VARS: &[(&str, &str)] = &[
    (
        "matrix_playbook_migration_validated_version",
        "playbook check",
    ),
    ("matrix_server_fqn_element", "Element Web's hostname"),
    (
        "matrix_homeserver_implementation",
        "playbook: which homeserver role",
    ),
    (
        "devture_systemd_docker_base_ipv6_enabled",
        "Docker networks",
    ),
    (
        "matrix_playbook_docker_installation_daemon_options_custom",
        "/etc/docker/daemon.json",
    ),
    ("matrix_playbook_reverse_proxy_type", "Traefik"),
    ("traefik_config_entrypoint_web_secure_enabled", "Traefik"),
    ("traefik_container_web_host_bind_port", "Traefik"),
    (
        "traefik_config_entrypoint_web_forwardedHeaders_trustedIPs",
        "Traefik",
    ),
    (
        "matrix_playbook_public_matrix_federation_api_traefik_entrypoint_host_bind_port",
        "Traefik",
    ),
    (
        "matrix_playbook_public_matrix_federation_api_traefik_entrypoint_config_http3_enabled",
        "Traefik",
    ),
    (
        "matrix_playbook_public_matrix_federation_api_traefik_entrypoint_config_custom",
        "Traefik",
    ),
    ("postgres_enabled", "no playbook PostgreSQL container"),
    (
        "matrix_synapse_workers_container_host_bind_address",
        "docker run -p of workers",
    ),
    (
        "matrix_synapse_container_metrics_api_host_bind_port",
        "docker run -p of the main process",
    ),
    (
        "matrix_synapse_ext_synapse_s3_storage_provider_update_db_day_count",
        "migration timer",
    ),
    ("coturn_enabled", "no coturn container"),
    (
        "matrix_playbook_livekit_turn_traefik_entrypoint_enabled",
        "Traefik: no LiveKit TURN entrypoint",
    ),
    (
        "exim_relay_enabled",
        "exim-relay, and Synapse's email section",
    ),
    ("exim_relay_relay_use", "exim-relay env: SMARTHOST"),
    ("exim_relay_relay_host_name", "exim-relay env: SMARTHOST"),
    ("exim_relay_relay_host_port", "exim-relay env: SMARTHOST"),
    ("exim_relay_relay_auth", "exim-relay env: SMTP_USERNAME"),
    (
        "exim_relay_sender_address",
        "exim-relay; Synapse's email.notif_from",
    ),
    ("livekit_server_enabled", "no LiveKit container"),
    (
        "matrix_livekit_jwt_service_environment_variable_livekit_url",
        "JWT service env",
    ),
    (
        "matrix_livekit_jwt_service_environment_variable_livekit_key",
        "JWT service env",
    ),
    (
        "matrix_livekit_jwt_service_environment_variable_livekit_secret",
        "JWT service env",
    ),
    ("matrix_synapse_auto_compressor_enabled", "compressor timer"),
    (
        "matrix_synapse_auto_compressor_database_hostname",
        "compressor env",
    ),
    (
        "matrix_synapse_auto_compressor_database_port",
        "compressor env",
    ),
    ("matrix_client_element_enabled", "Element Web"),
    ("matrix_client_element_path_prefix", "Element Web"),
    ("matrix_ketesa_enabled", "Ketesa"),
];

pub fn is_count_var(k: &str) -> bool {
    k.starts_with("matrix_synapse_workers_") && k.ends_with("_workers_count")
}

/// The homeserver.yaml, worker files and log config the playbook renders from these
/// variables (roles/custom/matrix-synapse/templates/synapse/homeserver.yaml.j2,
/// worker.yaml.j2, synapse.log.config.j2 and group_vars/matrix_servers @ c0681e4), with
/// paths moved into `dir`. Settings the bundle does not set keep the template's
/// defaults where Synapse's loader reads them.
pub struct Rendered {
    pub homeserver: Value,
    pub workers: Vec<(String, Value)>,
    pub log_config: String,
}

pub fn render_synapse(vars: &Map<String, Value>, plan: &Plan, dir: &Path) -> Rendered {
    for k in vars.keys() {
        assert!(
            SYNAPSE_VARS.contains(&k.as_str())
                || OTHER_VARS.iter().any(|(o, _)| o == k)
                || is_count_var(k),
            "{k}: map it to its homeserver.yaml key here or list where it goes instead"
        );
    }
    let var = |k: &str| -> &Value { vars.get(k).unwrap_or_else(|| panic!("vars.yml has no {k}")) };
    let opt = |k: &str| vars.get(k);
    let flag = |k: &str| opt(k).and_then(Value::as_bool).unwrap_or(false);
    let text = |k: &str| -> String {
        var(k)
            .as_str()
            .unwrap_or_else(|| panic!("{k} is not a string"))
            .to_string()
    };
    let path = |name: &str| dir.join(name).display().to_string();

    let server_name = text("matrix_domain");
    let fqn = text("matrix_server_fqn_matrix");
    let scheme = if flag("matrix_playbook_ssl_enabled") {
        "https"
    } else {
        "http"
    };
    let workers_on = flag("matrix_synapse_workers_enabled");
    let ws: Vec<Worker> = if workers_on {
        workers(plan)
    } else {
        Vec::new()
    };
    // The counts vars.yml gives are the plan's, which the worker list is built from.
    for kind in WorkerKind::ALL {
        assert_eq!(
            var(kind.playbook_count_var()),
            &json!(plan.workers(kind)),
            "{kind:?}"
        );
    }
    let metrics = flag("matrix_synapse_metrics_enabled");
    let generic = text("matrix_homeserver_generic_secret_key");

    let mut listeners = Vec::new();
    if metrics {
        // matrix_synapse_metrics_port
        listeners.push(json!({"type": "metrics", "port": 9100, "bind_addresses": ["0.0.0.0"]}));
    }
    // Client API (matrix_synapse_container_client_api_port) and the plain federation
    // listener; the TLS federation listener is off (group_vars).
    listeners.push(json!({
        "port": 8008, "tls": false, "bind_addresses": ["::"], "type": "http", "x_forwarded": true,
        "resources": [{"names": ["client"], "compress": false}]
    }));
    listeners.push(json!({
        "port": 8048, "tls": false, "bind_addresses": ["::"], "type": "http", "x_forwarded": true,
        "resources": [{"names": ["federation"], "compress": false}]
    }));
    if workers_on {
        // matrix_synapse_replication_http_port
        listeners.push(json!({
            "port": 9093, "bind_addresses": ["0.0.0.0"], "type": "http",
            "resources": [{"names": ["replication"]}]
        }));
    }

    let media_workers: Vec<&Worker> = ws
        .iter()
        .filter(|w| w.kind == WorkerKind::MediaRepository)
        .collect();
    let s3 = flag("matrix_synapse_ext_synapse_s3_storage_provider_enabled");
    let s3v = |k: &str| {
        var(&format!(
            "matrix_synapse_ext_synapse_s3_storage_provider_{k}"
        ))
        .clone()
    };
    let providers = if s3 {
        // templates/synapse/ext/s3-storage-provider/media_storage_provider.yaml.j2
        json!([{
            "module": "s3_storage_provider.S3StorageProviderBackend",
            "store_local": s3v("store_local"),
            "store_remote": s3v("store_remote"),
            "store_synchronous": s3v("store_synchronous"),
            "config": {
                "bucket": s3v("config_bucket"),
                "region_name": s3v("config_region_name"),
                "endpoint_url": s3v("config_endpoint_url"),
                "access_key_id": s3v("config_access_key_id"),
                "secret_access_key": s3v("config_secret_access_key"),
                "storage_class": "STANDARD",
                "threadpool_size": 40,
            }
        }])
    } else {
        json!([])
    };

    let mut media_retention = Map::new();
    for (k, v) in [
        (
            "local_media_lifetime",
            "matrix_synapse_media_retention_local_media_lifetime",
        ),
        (
            "remote_media_lifetime",
            "matrix_synapse_media_retention_remote_media_lifetime",
        ),
    ] {
        if let Some(x) = opt(v).filter(|x| !x.is_null() && x.as_str() != Some("")) {
            media_retention.insert(k.to_string(), x.clone());
        }
    }

    let mb = var("matrix_synapse_max_upload_size_mb")
        .as_u64()
        .expect("upload MB");
    let mut hs = json!({
        "server_name": server_name,
        "pid_file": path("homeserver.pid"),
        "public_baseurl": format!("{scheme}://{fqn}/"),
        "presence": {"enabled": var("matrix_synapse_presence_enabled")},
        "limit_remote_rooms": {
            "enabled": var("matrix_synapse_limit_remote_rooms_enabled"),
            "complexity": var("matrix_synapse_limit_remote_rooms_complexity"),
            "complexity_error": "Your homeserver is unable to join rooms this large or complex.",
            "admins_can_join": false,
        },
        "listeners": listeners,
        "event_cache_size": "100K",
        "caches": {
            "global_factor": var("matrix_synapse_caches_global_factor"),
            "per_cache_factors": null,
            "expire_caches": var("matrix_synapse_caches_expire_caches"),
            "cache_entry_ttl": var("matrix_synapse_caches_cache_entry_ttl"),
            "sync_response_cache_duration": var("matrix_synapse_caches_sync_response_cache_duration"),
            "cache_autotuning": {
                "max_cache_memory_usage": var("matrix_synapse_cache_autotuning_max_cache_memory_usage"),
                "target_cache_memory_usage": var("matrix_synapse_cache_autotuning_target_cache_memory_usage"),
                "min_cache_ttl": var("matrix_synapse_cache_autotuning_min_cache_ttl"),
            },
        },
        "database": {
            "name": "psycopg2",
            "txn_limit": 0,
            "args": {
                "user": var("matrix_synapse_database_user"),
                "password": var("matrix_synapse_database_password"),
                "database": var("matrix_synapse_database_database"),
                "host": var("matrix_synapse_database_host"),
                "port": var("matrix_synapse_database_port"),
                "cp_min": var("matrix_synapse_database_cp_min"),
                "cp_max": var("matrix_synapse_database_cp_max"),
            },
        },
        "log_config": path("log.config"),
        "rc_message": var("matrix_synapse_rc_message"),
        "rc_registration": var("matrix_synapse_rc_registration"),
        "rc_login": var("matrix_synapse_rc_login"),
        "rc_admin_redaction": var("matrix_synapse_rc_admin_redaction"),
        "rc_joins": var("matrix_synapse_rc_joins"),
        "rc_invites": var("matrix_synapse_rc_invites"),
        "rc_federation": {"window_size": 1000, "sleep_limit": 10, "sleep_delay": 500, "reject_limit": 50, "concurrent": 3},
        "federation_rr_transactions_per_room_per_second": 50,
        "enable_media_repo": media_workers.is_empty(),
        "enable_local_media_storage": true,
        "enable_authenticated_media": true,
        "media_store_path": path("media-store"),
        "media_storage_providers": providers,
        "max_upload_size": format!("{mb}M"),
        "media_retention": media_retention,
        "url_preview_enabled": var("matrix_synapse_url_preview_enabled"),
        "turn_uris": opt("matrix_synapse_turn_uris").cloned().unwrap_or(json!([])),
        "turn_shared_secret": opt("matrix_synapse_turn_shared_secret").cloned().unwrap_or(json!("")),
        "turn_username": "",
        "turn_password": "",
        "turn_allow_guests": false,
        "enable_metrics": metrics,
        "report_stats": false,
        "macaroon_secret_key": format!("{generic}:macaroon"),
        "form_secret": format!("{generic}:form"),
        "registration_shared_secret": format!("{generic}:registration"),
        "signing_key_path": path("signing.key"),
        "trusted_key_servers": [{"server_name": "matrix.org"}],
    });
    let obj = hs.as_object_mut().expect("object");
    if workers_on {
        obj.insert("worker_app".into(), json!("synapse.app.homeserver"));
        obj.insert("daemonize".into(), json!(false));
    }

    // Workers: what roles/custom/matrix-synapse/tasks/synapse/workers/ fills in.
    let mut instance_map = Map::new();
    let mut stream_writers = Map::new();
    if workers_on {
        instance_map.insert(
            "main".into(),
            json!({"host": "matrix-synapse", "port": 9093}),
        );
    }
    for w in &ws {
        if let (Some(stream), Some(port)) = (w.stream, w.replication_port) {
            instance_map.insert(w.name.clone(), json!({"host": w.name, "port": port}));
            stream_writers
                .entry(stream.to_string())
                .or_insert_with(|| json!([]))
                .as_array_mut()
                .expect("list")
                .push(json!(w.name));
        }
    }
    obj.insert("instance_map".into(), Value::Object(instance_map));
    obj.insert("stream_writers".into(), Value::Object(stream_writers));
    let names_of = |kind: WorkerKind| -> Vec<String> {
        ws.iter()
            .filter(|w| w.kind == kind)
            .map(|w| w.name.clone())
            .collect()
    };
    for (key, kind) in [
        ("federation_sender_instances", WorkerKind::FederationSender),
        ("pusher_instances", WorkerKind::Pusher),
    ] {
        let names = names_of(kind);
        if !names.is_empty() {
            obj.insert(key.into(), json!(names));
        }
    }
    for (key, kind) in [
        ("notify_appservices_from_worker", WorkerKind::Appservice),
        ("update_user_directory_from_worker", WorkerKind::UserDir),
        ("run_background_tasks_on", WorkerKind::Background),
        (
            "media_instance_running_background_jobs",
            WorkerKind::MediaRepository,
        ),
    ] {
        if let Some(first) = names_of(kind).first() {
            obj.insert(key.into(), json!(first));
        }
    }

    // Redis: valkey_enabled drives matrix_synapse_redis_* (group_vars): the managed
    // Valkey over its Unix socket.
    let valkey = flag("valkey_enabled");
    obj.insert(
        "redis".into(),
        if valkey {
            json!({"enabled": true, "host": "matrix-valkey", "port": 6379,
                   "path": "/run-valkey/valkey.sock", "dbid": 0, "use_tls": false})
        } else {
            json!({"enabled": false, "host": "", "port": 6379, "dbid": 0, "use_tls": false})
        },
    );

    // MatrixRTC: the JWT service's URL becomes Synapse's RTC transport; MSC4143, MSC4222,
    // MSC4354 and delayed events follow matrix_rtc_enabled (group_vars).
    let rtc = flag("matrix_rtc_enabled");
    let jwt = flag("matrix_livekit_jwt_service_enabled");
    let mut experimental = Map::new();
    let mut transports = Vec::new();
    if jwt {
        transports.push(json!({
            "type": "livekit",
            "livekit_service_url": format!("{scheme}://{fqn}/livekit-jwt-service"),
        }));
        experimental.insert("msc4143_enabled".into(), json!(true));
    }
    if rtc {
        experimental.insert("msc4222_enabled".into(), json!(true));
        experimental.insert("msc4354_enabled".into(), json!(true));
        obj.insert("max_event_delay_duration".into(), json!("24h"));
        obj.insert(
            "rc_delayed_event_mgmt".into(),
            json!({"per_second": 1, "burst_count": 20}),
        );
    }
    obj.insert("experimental_features".into(), Value::Object(experimental));
    obj.insert("matrix_rtc".into(), json!({"transports": transports}));

    // The extension, merged the playbook's way.
    let ext = yaml(
        &text("matrix_synapse_configuration_extension_yaml"),
        "extension",
    );
    assert!(ext.is_object(), "the extension YAML must be a mapping");
    combine(&mut hs, &ext);

    let worker_files = ws
        .iter()
        .map(|w| {
            // worker.yaml.j2: HTTP resources by worker type.
            let resources: Vec<&str> = match w.kind {
                WorkerKind::Room | WorkerKind::Generic => vec!["client", "federation"],
                WorkerKind::Sync | WorkerKind::ClientReader | WorkerKind::UserDir => {
                    vec!["client"]
                }
                WorkerKind::FederationReader => vec!["federation"],
                WorkerKind::MediaRepository => vec!["media", "client", "federation"],
                k if k.is_stream_writer() && w.webserving => vec!["client"],
                _ => vec![],
            };
            let mut listeners = Vec::new();
            if !resources.is_empty() {
                let port = w
                    .port
                    .unwrap_or_else(|| panic!("{} serves HTTP without a port", w.name));
                listeners.push(json!({
                    "type": "http", "bind_addresses": ["::"], "x_forwarded": true,
                    "port": port, "resources": [{"names": resources}]
                }));
            }
            if metrics {
                listeners.push(json!({
                    "type": "metrics", "bind_addresses": ["0.0.0.0"], "port": w.metrics_port
                }));
            }
            if let Some(port) = w.replication_port {
                listeners.push(json!({
                    "type": "http", "bind_addresses": ["::"], "port": port,
                    "resources": [{"names": ["replication"]}]
                }));
            }
            let mut cfg = json!({
                "worker_app": format!("synapse.app.{}", w.app),
                "worker_name": w.name,
                "worker_daemonize": false,
                "worker_log_config": path("log.config"),
            });
            if !listeners.is_empty() {
                cfg["worker_listeners"] = json!(listeners);
            }
            (w.id.clone(), cfg)
        })
        .collect();

    // synapse.log.config.j2 with the levels vars.yml sets and the playbook's
    // additional loggers.
    let log_config = format!(
        "version: 1\n\
         formatters:\n  precise:\n    format: '%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(request)s - %(message)s'\n\
         filters:\n  context:\n    (): synapse.util.logcontext.LoggingContextFilter\n    request: \"\"\n\
         handlers:\n  console:\n    class: logging.StreamHandler\n    formatter: precise\n    filters: [context]\n\
         loggers:\n  synapse:\n    level: {}\n  synapse.storage.SQL:\n    level: {}\n\
         \x20 synapse.http.matrixfederationclient:\n    level: CRITICAL\n\
         \x20 synapse.federation.sender.per_destination_queue:\n    level: CRITICAL\n\
         \x20 synapse.handlers.device:\n    level: CRITICAL\n\
         \x20 synapse.replication.tcp.handler:\n    level: CRITICAL\n\
         root:\n  level: {}\n  handlers: [console]\n",
        text("matrix_synapse_log_level"),
        text("matrix_synapse_storage_sql_log_level"),
        text("matrix_synapse_root_log_level"),
    );

    Rendered {
        homeserver: hs,
        workers: worker_files,
        log_config,
    }
}

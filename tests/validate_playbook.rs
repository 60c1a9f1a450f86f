//! The playbook's files of the bundle through the real tools, for every named plan:
//! yamllint (strict) on vars.yml and vault.yml, ansible-inventory on the inventory with
//! its host_vars (the vault encrypted and read back with ansible-vault), every variable
//! checked against the playbook's own variable lists, and Synapse's own config loader on
//! the homeserver.yaml and worker files the playbook would render from these variables.
//! Every tool runs inside a network namespace with only loopback.

#[path = "support/bundles.rs"]
mod bundles;
#[path = "support/sandbox.rs"]
mod sandbox;

use bundles::{bundle, date, file, named_plans, secrets};
use sandbox::{Sandbox, assert_ok, output_text, tool, venv};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use std::path::Path;
use synapse_planner::bundle::workers::{Worker, workers};
use synapse_planner::bundle::{self as b, File, Secrets, Topology};
use synapse_planner::plan::{Plan, Role, WorkerKind};

/// yamllint's default rules, every one an error under `-s` (warnings fail too), with
/// key duplicates, truthy (only true/false) and indentation spelled out; only
/// line-length is off (long comments and URLs).
const YAMLLINT_STRICT: &str = "\
extends: default
rules:
  line-length: disable
  key-duplicates: enable
  truthy:
    allowed-values: ['true', 'false']
    check-keys: true
  indentation:
    spaces: 2
    indent-sequences: true
    check-multi-line-strings: false
  document-start:
    present: true
  comments:
    min-spaces-from-content: 2
";

/// Variable prefixes of external roles the reference lists do not cover
/// (shared/reference/README.md); each use must say which role it comes from.
const ALLOWED_PREFIXES: &[(&str, &str)] = &[
    ("traefik_", "ansible-role-traefik"),
    ("valkey_", "ansible-role-valkey"),
    ("devture_", "com.devture.ansible.role"),
];

struct Playbook<'a> {
    server: String,
    hosts: &'a File,
    vars: &'a File,
    vault: &'a File,
}

fn playbook_files<'a>(files: &'a [File], plan: &Plan) -> Playbook<'a> {
    let server = plan.domain.clone();
    let dir = format!("ansible/inventory/host_vars/{server}");
    Playbook {
        hosts: file(files, "ansible/inventory/hosts"),
        vars: file(files, &format!("{dir}/vars.yml")),
        vault: file(files, &format!("{dir}/vault.yml")),
        server,
    }
}

/// Plain YAML (the extension, which the playbook reads with `from_yaml`, PyYAML's safe
/// loader): a tag is an error, as it is there.
fn yaml(text: &str, what: &str) -> Value {
    serde_yaml::from_str::<Value>(text).unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// The key under which Ansible writes a value it will never template (its `!unsafe`
/// strings) in JSON: `{"__ansible_unsafe": text}` (ansible-inventory --list).
const UNSAFE: &str = "__ansible_unsafe";

/// A file Ansible reads (vars.yml, vault.yml), as Ansible reads it, in the JSON form
/// ansible-inventory prints: a `!unsafe` string is `{"__ansible_unsafe": text}`; any other
/// tag is refused.
fn ansible_yaml(text: &str, what: &str) -> Value {
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
fn text_of(v: &Value) -> Option<&str> {
    v.as_str().or_else(|| unsafe_text(v))
}

/// The text of an `!unsafe` string.
fn unsafe_text(v: &Value) -> Option<&str> {
    match v.as_object() {
        Some(m) if m.len() == 1 => m.get(UNSAFE).and_then(Value::as_str),
        _ => None,
    }
}

fn mapping<'a>(v: &'a Value, what: &str) -> &'a Map<String, Value> {
    v.as_object()
        .unwrap_or_else(|| panic!("{what} is not a mapping: {v}"))
}

/// Both secret modes of every named plan: generated (fixed bytes) and placeholders.
fn bundles_both_ways() -> Vec<(String, Plan, Vec<File>)> {
    let mut out = Vec::new();
    for (name, plan) in named_plans() {
        out.push((name.to_string(), plan.clone(), bundle(&plan)));
        let placeholders = b::files(&plan, &date(), &Secrets::placeholders());
        out.push((format!("{name} (placeholders)"), plan, placeholders));
    }
    out
}

#[test]
fn yamllint_strict_accepts_vars_and_vault() {
    let yamllint = tool("yamllint");
    for (name, plan, files) in bundles_both_ways() {
        let pb = playbook_files(&files, &plan);
        let sb = Sandbox::new("yamllint");
        let cfg = sb.write("yamllint.yaml", YAMLLINT_STRICT);
        let vars = sb.write("vars.yml", &pb.vars.contents);
        let vault = sb.write("vault.yml", &pb.vault.contents);
        let out = sb.run(&format!(
            "{} -s -f parsable -c {} {} {}",
            yamllint.display(),
            cfg.display(),
            vars.display(),
            vault.display()
        ));
        assert_ok(&out, &format!("{name}: yamllint -s"));
        assert!(
            output_text(&out).trim().is_empty(),
            "{name}: {}",
            output_text(&out)
        );
        // The extension is YAML inside a string: it must be a mapping too (the playbook
        // ignores anything else, silently).
        let v = ansible_yaml(&pb.vars.contents, &pb.vars.path);
        let ext = text_of(&v["matrix_synapse_configuration_extension_yaml"])
            .unwrap_or_else(|| panic!("{name}: no extension YAML"));
        assert!(yaml(ext, "extension").is_object(), "{name}: {ext}");
    }
}

/// A broken inventory makes ansible-inventory fail with the two variables set: the
/// check below can fail (without them ansible-inventory exits 0 on a broken file).
#[test]
fn ansible_inventory_refuses_a_broken_inventory() {
    let sb = Sandbox::new("ansible-broken");
    sb.write(
        "inventory/hosts",
        "[matrix_servers\nexample.com ansible_host=\n",
    );
    let out = sb.run(&inventory_command(None));
    assert!(!out.status.success(), "{}", output_text(&out));
}

fn ansible_env() -> String {
    // Ansible writes its temp and collection dirs under its home: keep them in the
    // sandbox directory.
    "export ANSIBLE_HOME=\"$PWD/.ansible\" ANSIBLE_LOCAL_TEMP=\"$PWD/.ansible/tmp\" \
     ANSIBLE_INVENTORY_UNPARSED_FAILED=true ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED=true \
     ANSIBLE_NOCOLOR=1\n"
        .to_string()
}

fn inventory_command(vault_password_file: Option<&Path>) -> String {
    let vault = vault_password_file
        .map(|p| format!(" --vault-password-file {}", p.display()))
        .unwrap_or_default();
    format!(
        "{}{} -i inventory/hosts --list{vault}",
        ansible_env(),
        tool("ansible-inventory").display()
    )
}

/// The inventory parses strictly, the vault survives an encrypt/view round trip, and
/// the encrypted vault's values and every variable of vars.yml reach the host.
#[test]
fn ansible_reads_inventory_vars_and_encrypted_vault() {
    let vault_tool = tool("ansible-vault");
    for (name, plan, files) in bundles_both_ways() {
        let pb = playbook_files(&files, &plan);
        let topo = Topology::new(&plan);
        let synapse = topo.first(Role::Synapse).expect("synapse host");
        let sb = Sandbox::new("ansible");
        sb.write("inventory/hosts", &pb.hosts.contents);
        let hv = format!("inventory/host_vars/{}", pb.server);
        sb.write(&format!("{hv}/vars.yml"), &pb.vars.contents);
        let vault_path = sb.write(&format!("{hv}/vault.yml"), &pb.vault.contents);
        let pw = sb.write("vault-password", "planner-test-password\n");

        let enc = sb.run(&format!(
            "{}{} encrypt --vault-password-file {} {}",
            ansible_env(),
            vault_tool.display(),
            pw.display(),
            vault_path.display()
        ));
        assert_ok(&enc, &format!("{name}: ansible-vault encrypt"));
        let encrypted = std::fs::read_to_string(&vault_path).expect("encrypted vault");
        assert!(
            encrypted.starts_with("$ANSIBLE_VAULT;1.1;AES256"),
            "{name}: not encrypted: {encrypted}"
        );
        assert!(!encrypted.contains("vault_"), "{name}: plain text left");

        let view = sb.run(&format!(
            "{}{} view --vault-password-file {} {}",
            ansible_env(),
            vault_tool.display(),
            pw.display(),
            vault_path.display()
        ));
        assert_ok(&view, &format!("{name}: ansible-vault view"));
        assert_eq!(
            String::from_utf8_lossy(&view.stdout),
            pb.vault.contents,
            "{name}: vault round trip"
        );

        let inv = sb.run(&inventory_command(Some(&pw)));
        assert_ok(&inv, &format!("{name}: ansible-inventory --list"));
        let listed: Value = serde_json::from_slice(&inv.stdout)
            .unwrap_or_else(|e| panic!("{name}: {e}: {}", output_text(&inv)));
        let hosts = listed["matrix_servers"]["hosts"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: no group matrix_servers: {listed}"));
        assert_eq!(hosts, &vec![json!(pb.server)], "{name}");
        let hostvars = &listed["_meta"]["hostvars"][&pb.server];
        assert_eq!(
            hostvars["ansible_host"],
            json!(synapse.ip.to_string()),
            "{name}"
        );
        let vars = ansible_yaml(&pb.vars.contents, "vars.yml");
        for (k, v) in mapping(&vars, "vars.yml") {
            assert_eq!(&hostvars[k], v, "{name}: {k} as Ansible reads it");
        }
        let vault = ansible_yaml(&pb.vault.contents, "vault.yml");
        for (k, v) in mapping(&vault, "vault.yml") {
            assert_eq!(&hostvars[k], v, "{name}: {k} from the encrypted vault");
        }

        // Ansible templates every variable with the vault loaded: the references
        // resolve to the vault's values (debug runs on the control node only).
        let keys: Vec<&String> = mapping(&vars, "vars.yml").keys().collect();
        let list = keys
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let templated = sb.run(&format!(
            "{}{} {} -i inventory/hosts -c local --vault-password-file {} \
             -m ansible.builtin.debug -a 'msg={{{{ [{list}] | to_json }}}}'",
            ansible_env(),
            tool("ansible").display(),
            pb.server,
            pw.display()
        ));
        assert_ok(&templated, &format!("{name}: ansible debug"));
        let stdout = String::from_utf8_lossy(&templated.stdout);
        let body = stdout
            .split_once("=>")
            .map(|(_, b)| b)
            .unwrap_or_else(|| panic!("{name}: {stdout}"));
        let result: Value = serde_json::from_str(body.trim()).expect("debug output");
        let values: Vec<Value> =
            serde_json::from_str(result["msg"].as_str().expect("msg")).expect("msg JSON");
        let resolved = resolve(&vars, mapping(&vault, "vault.yml"));
        for (k, v) in keys.iter().zip(&values) {
            assert_eq!(&resolved[k.as_str()], v, "{name}: {k} templated by Ansible");
        }
        assert_eq!(values.len(), keys.len(), "{name}");
    }
}

/// A plan's text holding Jinja syntax stays text for Ansible: ansible-inventory reads
/// those values as `!unsafe`, templating leaves them as written (`{{ 6 * 7 }}` would
/// read 42 if evaluated), the extension reaches the playbook's `from_yaml` the same way,
/// and the vault references still resolve. Validation refuses such a plan; the files do
/// not rely on it.
#[test]
fn ansible_never_evaluates_a_plans_text() {
    let jinja = "{{ 6 * 7 }}";
    let mut plan = Plan {
        domain: format!("{jinja}.example.com"),
        ..Plan::default()
    };
    plan.synapse
        .per_cache_factors
        .insert(jinja.to_string(), 2.0);
    let files = bundle(&plan);
    let under_host_vars = |suffix: &str| -> &File {
        let found: Vec<&File> = files
            .iter()
            .filter(|f| {
                f.path.starts_with("ansible/inventory/host_vars/") && f.path.ends_with(suffix)
            })
            .collect();
        assert_eq!(found.len(), 1, "{suffix}");
        found[0]
    };
    let (vars, vault) = (under_host_vars("/vars.yml"), under_host_vars("/vault.yml"));
    let sb = Sandbox::new("ansible-jinja");
    sb.write(
        "inventory/hosts",
        &file(&files, "ansible/inventory/hosts").contents,
    );
    let rel = |f: &File| f.path.trim_start_matches("ansible/").to_string();
    sb.write(&rel(vars), &vars.contents);
    sb.write(&rel(vault), &vault.contents);
    let pw = sb.write("vault-password", "planner-test-password\n");

    let cfg = sb.write("yamllint.yaml", YAMLLINT_STRICT);
    let lint = sb.run(&format!(
        "{} -s -f parsable -c {} {} {}",
        tool("yamllint").display(),
        cfg.display(),
        rel(vars),
        rel(vault)
    ));
    assert_ok(&lint, "yamllint -s");
    assert!(
        output_text(&lint).trim().is_empty(),
        "{}",
        output_text(&lint)
    );

    let inv = sb.run(&inventory_command(Some(&pw)));
    assert_ok(&inv, "ansible-inventory --list");
    let listed: Value = serde_json::from_slice(&inv.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", output_text(&inv)));
    // The host is the directory its variables are in, and it gets them all.
    let dir = rel(vars)
        .trim_end_matches("/vars.yml")
        .rsplit('/')
        .next()
        .expect("host_vars directory")
        .to_string();
    assert_eq!(listed["matrix_servers"]["hosts"], json!([dir]), "{listed}");
    let hostvars = &listed["_meta"]["hostvars"][&dir];
    let parsed = ansible_yaml(&vars.contents, "vars.yml");
    for (k, v) in mapping(&parsed, "vars.yml") {
        assert_eq!(&hostvars[k], v, "{k} as Ansible reads it");
    }
    assert_eq!(hostvars["matrix_domain"], json!({ UNSAFE: plan.domain }));
    let ext = unsafe_text(&hostvars["matrix_synapse_configuration_extension_yaml"])
        .unwrap_or_else(|| panic!("the extension is not unsafe: {hostvars}"));
    assert!(ext.contains(jinja), "{ext}");

    let templated = sb.run(&format!(
        "{}{} matrix_servers -i inventory/hosts -c local --vault-password-file {} \
         -m ansible.builtin.debug -a 'msg={{{{ [matrix_domain, \
         matrix_livekit_jwt_service_environment_variable_livekit_url, \
         matrix_synapse_database_password, \
         matrix_synapse_configuration_extension_yaml | from_yaml] | to_json }}}}'",
        ansible_env(),
        tool("ansible").display(),
        pw.display()
    ));
    assert_ok(&templated, "ansible debug");
    let stdout = String::from_utf8_lossy(&templated.stdout);
    let body = stdout
        .split_once("=>")
        .map(|(_, b)| b)
        .unwrap_or_else(|| panic!("{stdout}"));
    let result: Value = serde_json::from_str(body.trim()).expect("debug output");
    let values: Value =
        serde_json::from_str(result["msg"].as_str().expect("msg")).expect("msg JSON");
    assert_eq!(values[0], json!(plan.domain), "{values}");
    assert_eq!(
        values[1],
        json!(format!("wss://{jinja}.example.com/livekit-server")),
        "{values}"
    );
    assert_eq!(
        values[2],
        json!(secrets().get(b::SecretId::SynapseDbPassword)),
        "the vault reference resolves"
    );
    assert_eq!(
        values[3]["caches"]["per_cache_factors"][jinja],
        json!(2.0),
        "{values}"
    );
    assert!(!values.to_string().contains("42"), "{values}");
}

/// Every top-level variable exists in the playbook or one of its external roles; the
/// few from roles the reference lists do not cover carry a comment naming the role.
#[test]
fn vars_are_the_playbooks_own_variables() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let names = |f: &str| -> BTreeSet<String> {
        std::fs::read_to_string(data.join(f))
            .unwrap_or_else(|e| panic!("{f}: {e}"))
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| l.trim().to_string())
            .collect()
    };
    let playbook = names("playbook-vars.txt");
    let external = names("external-role-vars.txt");
    assert!(playbook.len() > 6000 && external.len() > 300);
    for (name, plan) in named_plans() {
        let files = bundle(&plan);
        let pb = playbook_files(&files, &plan);
        let vars = ansible_yaml(&pb.vars.contents, "vars.yml");
        let lines: Vec<&str> = pb.vars.contents.lines().collect();
        for k in mapping(&vars, "vars.yml").keys() {
            if playbook.contains(k) || external.contains(k) {
                continue;
            }
            let (_, role) = ALLOWED_PREFIXES
                .iter()
                .find(|(p, _)| k.starts_with(p))
                .unwrap_or_else(|| {
                    panic!("{name}: {k} is in neither the playbook's nor its roles' variables")
                });
            // The comment block right above the key names the role it comes from.
            let at = lines
                .iter()
                .position(|l| l.starts_with(&format!("{k}:")))
                .expect("key line");
            let comment: Vec<&str> = lines[..at]
                .iter()
                .rev()
                .take_while(|l| l.starts_with('#'))
                .copied()
                .collect();
            assert!(
                comment.iter().any(|l| l.contains(role)),
                "{name}: {k} needs a comment naming {role}: {comment:?}"
            );
        }
        // The seed's non-variables must not be set.
        for wrong in [
            "matrix_synapse_caches_per_cache_factors",
            "matrix_synapse_rc_3pid_validation",
            "matrix_synapse_media_retention",
            "matrix_synapse_cache_factor",
        ] {
            assert!(vars.get(wrong).is_none(), "{name}: {wrong}");
        }
    }
}

/// Synapse's mail leaves through the plan's smarthost, for every named plan: exim-relay
/// (left enabled, as group_vars/matrix_servers:4094 has it) relays, and the SMARTHOST its
/// role writes (ansible-role-exim-relay @ v4.99.1-r0-2-1, templates/env.j2:7-10,
/// `host::port`) is the plan's relay, the one Alertmanager sends through; no credentials,
/// so no SMTP_USERNAME (env.j2:11-14). And Traefik publishes no LiveKit TURN entrypoint
/// (group_vars/matrix_servers:6545 would turn it on from the proxy type alone).
#[test]
fn mail_goes_through_the_smarthost_and_traefik_has_no_turn_port() {
    for (name, plan) in named_plans() {
        let files = bundle(&plan);
        let pb = playbook_files(&files, &plan);
        let vars = ansible_yaml(&pb.vars.contents, "vars.yml");
        let get = |k: &str| {
            vars.get(k)
                .unwrap_or_else(|| panic!("{name}: vars.yml has no {k}"))
        };
        assert_eq!(vars.get("exim_relay_enabled"), None, "{name}");
        assert_eq!(get("exim_relay_relay_use"), &json!(true), "{name}");
        assert_eq!(get("exim_relay_relay_auth"), &json!(false), "{name}");
        let host = text_of(get("exim_relay_relay_host_name")).expect("host text");
        let port = get("exim_relay_relay_host_port")
            .as_u64()
            .expect("port number");
        let env_line = format!("SMARTHOST={host}::{port}");
        let (plan_host, plan_port) = plan.ops.smtp_smarthost.rsplit_once(':').expect("host:port");
        assert_eq!(
            env_line,
            format!("SMARTHOST={plan_host}::{plan_port}"),
            "{name}"
        );
        assert_eq!(
            text_of(get("exim_relay_sender_address")),
            Some(format!("matrix@{}", plan.domain).as_str()),
            "{name}"
        );
        assert_eq!(
            get("matrix_playbook_livekit_turn_traefik_entrypoint_enabled"),
            &json!(false),
            "{name}"
        );
    }
}

/// vars.yml references secrets only as "{{ vault_<name> }}"; vault.yml defines those
/// and every other secret of the bundle (unused ones are fine for Ansible), with the
/// bundle's values (or named placeholders), and vars.yml holds no value.
#[test]
fn vault_defines_every_secret_and_what_vars_reference() {
    for (name, plan, files) in bundles_both_ways() {
        let pb = playbook_files(&files, &plan);
        let vars = ansible_yaml(&pb.vars.contents, "vars.yml");
        let vault = ansible_yaml(&pb.vault.contents, "vault.yml");
        let mut referenced = BTreeSet::new();
        walk_strings(&vars, &mut |s| {
            let mut rest = s;
            while let Some(i) = rest.find("{{") {
                let end = rest[i..].find("}}").expect("closed Jinja") + i;
                let expr = rest[i + 2..end].trim();
                assert!(
                    expr.starts_with("vault_")
                        && expr.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                    "{name}: only vault references are templated here: {s}"
                );
                referenced.insert(expr.to_string());
                rest = &rest[end + 2..];
            }
        });
        let defined: BTreeSet<String> = mapping(&vault, "vault.yml").keys().cloned().collect();
        assert!(
            referenced.is_subset(&defined),
            "{name}: {referenced:?} not all in {defined:?}"
        );
        let every: BTreeSet<String> = b::SecretId::ALL.iter().map(|id| id.vault_var()).collect();
        assert_eq!(defined, every, "{name}");
        let secrets = if name.contains("placeholders") {
            Secrets::placeholders()
        } else {
            secrets()
        };
        for id in b::SecretId::ALL {
            let value = secrets.get(id);
            assert_eq!(
                vault.get(id.vault_var()),
                Some(&json!(value)),
                "{name}: {}",
                id.vault_var()
            );
            assert!(
                !pb.vars.contents.contains(value),
                "{name}: secret {id:?} in vars.yml"
            );
        }
        assert_eq!(pb.vault.mode, 0o600, "{name}");
        assert!(
            pb.vault.contents.contains("ansible-vault encrypt"),
            "{name}"
        );
    }
}

/// Every string Ansible templates (not the `!unsafe` ones).
fn walk_strings(v: &Value, f: &mut impl FnMut(&str)) {
    if unsafe_text(v).is_some() {
        return;
    }
    match v {
        Value::String(s) => f(s),
        Value::Array(a) => a.iter().for_each(|x| walk_strings(x, f)),
        Value::Object(m) => m.values().for_each(|x| walk_strings(x, f)),
        _ => {}
    }
}

/// Replaces "{{ vault_x }}" by its value, as Ansible would when templating, and an
/// `!unsafe` string by its text, which Ansible leaves as it is.
fn resolve(v: &Value, vault: &Map<String, Value>) -> Value {
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
fn combine(base: &mut Value, over: &Value) {
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
const SYNAPSE_VARS: &[&str] = &[
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
const OTHER_VARS: &[(&str, &str)] = &[
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

fn is_count_var(k: &str) -> bool {
    k.starts_with("matrix_synapse_workers_") && k.ends_with("_workers_count")
}

/// The homeserver.yaml, worker files and log config the playbook renders from these
/// variables (roles/custom/matrix-synapse/templates/synapse/homeserver.yaml.j2,
/// worker.yaml.j2, synapse.log.config.j2 and group_vars/matrix_servers @ c0681e4), with
/// paths moved into `dir`. Settings the bundle does not set keep the template's
/// defaults where Synapse's loader reads them.
struct Rendered {
    homeserver: Value,
    workers: Vec<(String, Value)>,
    log_config: String,
}

fn render_synapse(vars: &Map<String, Value>, plan: &Plan, dir: &Path) -> Rendered {
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

/// Synapse's own loader on the configuration these variables produce: the main
/// process and every worker of the plan.
#[test]
fn synapse_loads_main_process_and_every_worker() {
    let python = venv().join("bin/python");
    let python = tool(&python.display().to_string());
    let script = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/playbook/synapse_check.py"),
    )
    .expect("synapse_check.py");
    for (name, plan, files) in bundles_both_ways() {
        let pb = playbook_files(&files, &plan);
        let vars = ansible_yaml(&pb.vars.contents, "vars.yml");
        let vault = ansible_yaml(&pb.vault.contents, "vault.yml");
        let vars = resolve(&vars, mapping(&vault, "vault.yml"));
        let sb = Sandbox::new("synapse");
        let dir = sb.dir().join("synapse");
        let r = render_synapse(mapping(&vars, "vars.yml"), &plan, &dir);
        let json = |v: &Value| serde_json::to_string_pretty(v).expect("JSON");
        sb.write("synapse/homeserver.yaml", json(&r.homeserver));
        sb.write("synapse/log.config", &r.log_config);
        for (id, cfg) in &r.workers {
            sb.write(&format!("synapse/worker-{id}.yaml"), json(cfg));
        }
        let check = sb.write("synapse_check.py", &script);
        let out = sb.run(&format!(
            "export HOME=\"$PWD\"\n{} {} {}",
            python.display(),
            check.display(),
            dir.display()
        ));
        let text = output_text(&out);
        assert!(
            out.status.success(),
            "{name}: Synapse refused the configuration:\n{text}"
        );
        assert!(
            text.contains(&format!("checked: main + {} workers", r.workers.len())),
            "{name}: {text}"
        );
        assert_eq!(r.workers.len() as u64, plan.worker_count(), "{name}");
        // The pool is built with the plan's numbers.
        assert!(
            text.contains(&format!(
                "psycopg2 pool min={} max={}",
                plan.synapse.cp_min, plan.synapse.cp_max
            )),
            "{name}: {text}"
        );
    }
}

/// A broken topology (a stream writer missing from instance_map, an unknown worker app)
/// fails the load with Synapse's message: the check above can fail.
#[test]
fn synapse_check_reports_synapses_own_errors() {
    let python = venv().join("bin/python");
    let python = tool(&python.display().to_string());
    let script = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/playbook/synapse_check.py"),
    )
    .expect("synapse_check.py");
    let plan = Plan::default();
    let files = bundle(&plan);
    let pb = playbook_files(&files, &plan);
    let vault = ansible_yaml(&pb.vault.contents, "vault.yml");
    let vars = resolve(
        &ansible_yaml(&pb.vars.contents, "vars.yml"),
        mapping(&vault, "vault.yml"),
    );
    for (what, expect) in [
        ("instance_map", "does not appear in `instance_map`"),
        ("worker_app", "is not a Synapse worker app"),
        ("cache factor", "must be a number"),
    ] {
        let sb = Sandbox::new("synapse-broken");
        let dir = sb.dir().join("synapse");
        let mut r = render_synapse(mapping(&vars, "vars.yml"), &plan, &dir);
        match what {
            "instance_map" => {
                let map = r.homeserver["instance_map"].as_object_mut().expect("map");
                let victim = map
                    .keys()
                    .find(|k| k.contains("typing"))
                    .cloned()
                    .expect("typing writer");
                map.remove(&victim);
            }
            "worker_app" => r.workers[0].1["worker_app"] = json!("synapse.app.no_such_app"),
            _ => r.homeserver["caches"]["per_cache_factors"] = json!({"get_users_in_room": "many"}),
        }
        let json = |v: &Value| serde_json::to_string_pretty(v).expect("JSON");
        sb.write("synapse/homeserver.yaml", json(&r.homeserver));
        sb.write("synapse/log.config", &r.log_config);
        for (id, cfg) in &r.workers {
            sb.write(&format!("synapse/worker-{id}.yaml"), json(cfg));
        }
        let check = sb.write("synapse_check.py", &script);
        let out = sb.run(&format!(
            "export HOME=\"$PWD\"\n{} {} {}",
            python.display(),
            check.display(),
            dir.display()
        ));
        let text = output_text(&out);
        assert!(!out.status.success(), "{what}: accepted:\n{text}");
        assert!(
            text.contains(expect),
            "{what}: expected {expect:?} in:\n{text}"
        );
    }
}

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
#[path = "support/synapse_render.rs"]
mod synapse_render;

use bundles::{bundle, date, file, named_plans, secrets};
use sandbox::{Sandbox, assert_ok, output_text, tool, venv};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;
use synapse_planner::bundle::{self as b, File, Secrets, Topology};
use synapse_planner::plan::{Plan, Role};
use synapse_render::{
    UNSAFE, ansible_yaml, mapping, render_synapse, resolve, text_of, unsafe_text, yaml,
};

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

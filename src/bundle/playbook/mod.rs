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
//! `"{{ vault_<name> }}"`; `vault.yml` holds every secret of the bundle, the referenced
//! ones first.
//!
//! Both YAML files are [`yaml::Doc`](crate::syntax::yaml::Doc)s in the Ansible dialect: a string value holding
//! Jinja syntax is written `!unsafe`, so Ansible never evaluates text that came from a
//! plan; the vault references are the generator's own [`Node::Template`]s. The
//! inventory's values go through
//! [`Format::Inventory`](crate::syntax::conf::Format::Inventory).
//!
//! One module per file: [`inventory`] (the hosts file), [`vars`] (vars.yml, one module
//! per group of sections), [`vault`] (vault.yml) and [`extension`] (the homeserver.yaml
//! extension vars.yml carries). This module places them: the playbook's directory and
//! the Synapse host's `host_vars/`, and holds the YAML number helpers they share.

mod extension;
pub(super) mod inventory;
mod vars;
pub(in crate::bundle) mod vault;

use super::{Ctx, File};
use crate::plan::Role;
use crate::syntax::yaml::{Map, Node};

/// The bundle's directory for the playbook: its `inventory/` goes over the inventory of a
/// checkout of matrix-docker-ansible-deploy.
pub(in crate::bundle) const ANSIBLE_DIR: &str = "ansible";

pub fn files(ctx: &Ctx) -> Vec<File> {
    let Some(synapse) = ctx.topology.first(Role::Synapse) else {
        return Vec::new();
    };
    let (vars, used) = vars::file(ctx, synapse);
    vec![inventory::file(ctx, synapse), vars, vault::file(ctx, &used)]
}

/// The Synapse host's variables directory, relative to [`ANSIBLE_DIR`]:
/// `inventory/host_vars/<inventory name>`, where Ansible looks for them.
fn host_vars(server_name: &str) -> String {
    format!(
        "inventory/host_vars/{}",
        inventory::inventory_name(server_name)
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

#[cfg(test)]
mod tests {
    use super::*;

    use crate::bundle::with_ctx;
    use crate::plan::Plan;
    use crate::syntax::yaml;

    pub(super) fn plan(edits: &[(&str, &str)]) -> Plan {
        Plan::default()
            .with_texts(edits)
            .unwrap_or_else(|e| panic!("{edits:?}: {e:?}"))
    }

    /// The value of a top-level key of vars.yml, as text after `key: `.
    pub(super) fn value_of(vars: &str, key: &str) -> Option<String> {
        let prefix = format!("{key}:");
        vars.lines()
            .find(|l| l.starts_with(&prefix))
            .map(|l| l[prefix.len()..].trim().to_string())
    }

    pub(super) fn vars_of(p: &Plan) -> String {
        with_ctx(p, |ctx| files(ctx)[1].contents.clone())
    }

    /// `node` as the YAML text of a value.
    pub(super) fn text(node: impl Into<Node>) -> String {
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

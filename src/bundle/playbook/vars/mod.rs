//! vars.yml: matrix-docker-ansible-deploy's settings for the Synapse host, built section
//! by section ([`platform`]: basics, web, database, metrics, maintenance; [`synapse`]:
//! workers, caches, rooms, the extension; [`media`]; [`rate_limits`]; [`calls`]; [`mail`]).

mod calls;
mod mail;
mod media;
mod platform;
mod rate_limits;
mod synapse;

use super::super::{Ctx, File, Host, Scope, SecretId};
use super::{ANSIBLE_DIR, host_vars};
use crate::syntax::yaml::{self, Map, Node};
use std::collections::BTreeSet;

/// The variables' file name in the Synapse host's `host_vars/` directory.
const VARS: &str = "vars.yml";

/// vars.yml, and the secrets it references (vault.yml holds exactly those).
pub(super) fn file(ctx: &Ctx, synapse: &Host) -> (File, BTreeSet<SecretId>) {
    let (vars, used) = vars_yml(ctx, synapse);
    let file = File::new(
        format!(
            "{ANSIBLE_DIR}/{}/{VARS}",
            host_vars(&ctx.topology.server_name)
        ),
        Scope::Control,
        "matrix-docker-ansible-deploy settings: workers, caches, PgBouncer, Valkey, S3 media, TURN, MatrixRTC, Traefik behind HAProxy, metrics, rate limits, mail through the smarthost.",
        vars,
    );
    (file, used)
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
    platform::basics(&mut b);
    platform::web(&mut b, synapse);
    platform::database(&mut b, synapse);
    synapse::workers(&mut b, synapse);
    synapse::caches(&mut b);
    media::media(&mut b);
    rate_limits::rate_limits(&mut b);
    synapse::rooms_presence_logging(&mut b);
    calls::calls(&mut b);
    mail::mail(&mut b);
    platform::metrics(&mut b, synapse);
    platform::maintenance_and_apps(&mut b);
    synapse::extension(&mut b);

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

#[cfg(test)]
mod tests {
    use super::super::tests::{value_of, vars_of};
    use crate::plan::Plan;

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
}

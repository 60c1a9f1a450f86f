//! vault.yml: every secret of the bundle, ready for ansible-vault: first the ones
//! vars.yml references, then the ones only the other hosts' files hold (Ansible ignores
//! variables nothing uses), so an operator who keeps only the encrypted vault keeps the
//! pgBackRest passphrase, the PostgreSQL superuser's and MinIO root's passwords too.

use super::super::{Ctx, File, Scope, SecretId};
use super::{ANSIBLE_DIR, host_vars};
use crate::syntax::yaml::{self, Map};
use std::collections::BTreeSet;

/// The vault's file name in the Synapse host's `host_vars/` directory.
const VAULT: &str = "vault.yml";

/// Where the vault of the plan whose server name is `server_name` is in the bundle:
/// `ansible/inventory/host_vars/<inventory name>/vault.yml` (the README and the CLI name it).
pub fn vault_path(server_name: &str) -> String {
    format!("{ANSIBLE_DIR}/{}/{VAULT}", host_vars(server_name))
}

pub(super) fn file(ctx: &Ctx, used: &BTreeSet<SecretId>) -> File {
    File::new(
        vault_path(&ctx.topology.server_name),
        Scope::Control,
        "Every secret of the bundle (vault_*; vars.yml references some): encrypt it with ansible-vault before anything else.",
        vault_yml(ctx, used),
    )
    .secret()
}

fn vault_yml(ctx: &Ctx, used: &BTreeSet<SecretId>) -> String {
    // The directory name is an inventory word, so the command is one a shell runs as
    // written.
    let path = format!("{}/{VAULT}", host_vars(&ctx.topology.server_name));
    let mut about = format!(
        "\n\
         ENCRYPT THIS FILE BEFORE ANYTHING ELSE (before copying it, committing it or running\n\
         the playbook), from the ansible/ directory:\n\
         \x20 ansible-vault encrypt {path}\n\
         then run the playbook with --ask-vault-pass (or --vault-password-file FILE).\n\
         \n\
         Every secret of this bundle, in one place: keep this file (encrypted) when you\n\
         delete the unpacked bundle. The first ones are those vars.yml references as\n\
         \"{{{{ vault_<name> }}}}\"; the playbook does not use the others, which the other\n\
         hosts' files of this bundle hold with the same values (Patroni, PgBouncer,\n\
         pgBackRest, MinIO, coturn, LiveKit, Grafana, HAProxy)."
    );
    if ctx.secrets.are_placeholders() {
        about.push_str(
            "\nThese are placeholders: replace every CHANGE_ME_ value (the same way in every file).",
        );
    }
    let mut root = Map::new();
    let (referenced, kept): (Vec<SecretId>, Vec<SecretId>) =
        SecretId::ALL.iter().partition(|id| used.contains(id));
    for (title, group) in [
        ("---- referenced by vars.yml ----", referenced),
        (
            "---- not used by vars.yml: kept for the other hosts' files ----",
            kept,
        ),
    ] {
        if group.is_empty() {
            continue;
        }
        if !root.is_empty() {
            root.blank();
        }
        root.comment(title);
        for id in group {
            root.comment(id.description());
            root.insert(id.vault_var(), ctx.secret(id));
        }
    }
    yaml::Doc::new(root)
        .header(ctx.provenance())
        .header(about)
        .start()
        .ansible()
        .render()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::bundle::playbook::files;
    use crate::bundle::with_ctx;
    use crate::plan::Plan;

    #[test]
    fn vault_holds_every_secret_the_referenced_ones_first() {
        let p = Plan::default();
        let (vars, vault) = with_ctx(&p, |ctx| {
            let f = files(ctx);
            (f[1].contents.clone(), f[2].contents.clone())
        });
        let code: String = vars
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect();
        let referenced: BTreeSet<String> = code
            .match_indices("{{ vault_")
            .map(|(i, _)| {
                let rest = &code[i + 3..];
                rest[..rest.find(' ').unwrap()].to_string()
            })
            .collect();
        let defined: Vec<String> = vault
            .lines()
            .filter(|l| l.starts_with("vault_"))
            .map(|l| l.split(':').next().unwrap().to_string())
            .collect();
        // Every secret, once.
        let all: BTreeSet<String> = SecretId::ALL.iter().map(|id| id.vault_var()).collect();
        assert_eq!(defined.len(), all.len(), "{vault}");
        assert_eq!(defined.iter().cloned().collect::<BTreeSet<_>>(), all);
        // The ones vars.yml references come first, under their heading.
        let first: BTreeSet<String> = defined[..referenced.len()].iter().cloned().collect();
        assert_eq!(first, referenced);
        let kept = vault
            .find("# ---- not used by vars.yml")
            .expect("second group");
        assert!(vault[kept..].contains("vault_pgbackrest_cipher_pass:"));
        assert!(!vault[kept..].contains("vault_synapse_db_password:"));
        assert!(
            vault.contains("ansible-vault encrypt inventory/host_vars/chat.example.com/vault.yml")
        );
        assert!(vault.contains("vault_synapse_db_password: CHANGE_ME_SYNAPSE_DB_PASSWORDXXX\n"));
    }
}

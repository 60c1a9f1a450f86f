//! vault.yml: the secrets vars.yml references, ready for ansible-vault.

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
        "The secrets vars.yml references (vault_*): encrypt it with ansible-vault before anything else.",
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
         Exactly the secrets vars.yml references as \"{{{{ vault_<name> }}}}\". The same values are\n\
         in the other hosts' files of this bundle (PgBouncer, MinIO, coturn, LiveKit)."
    );
    if ctx.secrets.are_placeholders() {
        about.push_str(
            "\nThese are placeholders: replace every CHANGE_ME_ value (the same way in every file).",
        );
    }
    let mut root = Map::new();
    for id in SecretId::ALL.iter().filter(|id| used.contains(id)) {
        root.comment(id.description());
        root.insert(id.vault_var(), ctx.secret(*id));
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
    fn vault_holds_exactly_the_referenced_secrets() {
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
        let defined: BTreeSet<String> = vault
            .lines()
            .filter(|l| l.starts_with("vault_"))
            .map(|l| l.split(':').next().unwrap().to_string())
            .collect();
        assert_eq!(referenced, defined);
        assert!(
            vault.contains("ansible-vault encrypt inventory/host_vars/chat.example.com/vault.yml")
        );
        assert!(vault.contains("vault_synapse_db_password: CHANGE_ME_SYNAPSE_DB_PASSWORDXXX\n"));
    }
}

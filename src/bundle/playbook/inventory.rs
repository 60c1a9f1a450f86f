//! The playbook's inventory: the Synapse host in group `matrix_servers`, under the
//! server name. Its values go through [`Format::Inventory`].

use super::super::{Comment, Ctx, File, Host, Scope};
use super::ANSIBLE_DIR;
use crate::syntax::conf::Format;

/// The inventory file, relative to [`ANSIBLE_DIR`] (what `ansible-playbook -i` is given).
pub(in crate::bundle) const INVENTORY: &str = "inventory/hosts";

pub(super) fn file(ctx: &Ctx, synapse: &Host) -> File {
    File::new(
        format!("{ANSIBLE_DIR}/{INVENTORY}"),
        Scope::Control,
        "The playbook's inventory: the Synapse host in group matrix_servers, under the server name.",
        inventory(ctx, synapse),
    )
}

/// The Synapse host's name in the inventory: the server name as one inventory word.
/// `host_vars/<this>/` is where Ansible looks for its variables, so the directory and
/// the inventory line always use this same text.
pub(super) fn inventory_name(server_name: &str) -> String {
    Format::Inventory.value(server_name)
}

fn inventory(ctx: &Ctx, synapse: &Host) -> String {
    let name = inventory_name(&ctx.topology.server_name);
    let about = Comment::Hash.lines(&format!(
        "matrix-docker-ansible-deploy inventory (examples/hosts of the playbook). The playbook\n\
         manages one host: {fqdn}, which runs Synapse and its workers. Its inventory name is\n\
         the Matrix server name, so host_vars/{name}/ holds its settings.\n\
         \n\
         To connect as another user and become root with sudo, replace ansible_ssh_user=root\n\
         with: ansible_ssh_user=USER ansible_become=true ansible_become_user=root\n\
         (and pass --ask-become-pass when sudo asks for a password).",
        fqdn = synapse.fqdn,
    ));
    format!(
        "{header}{about}\n[matrix_servers]\n{name} ansible_host={ip} ansible_ssh_user=root\n",
        header = ctx.header(Comment::Hash),
        ip = Format::Inventory.value(&synapse.ip.to_string()),
    )
}

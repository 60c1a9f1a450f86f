//! The SSH trust the backups need, set up from the control machine.

use super::super::postgres::fill;
use super::super::{Comment, Ctx, File, Scope};
use super::*;
use crate::plan::Role;
use crate::syntax::shell;

/// Run from the control machine, before the backup host's setup.
pub(in crate::bundle) const SSH_KEYS_SCRIPT: &str = "backup/exchange-ssh-keys.sh";

pub(super) fn ssh_keys(ctx: &Ctx) -> File {
    let patroni: Vec<String> = ctx
        .hosts(Role::Patroni)
        .map(|p| shell::quote(&format!("{}={}", p.fqdn, p.ip)))
        .collect();
    let backup = backup_host(ctx);
    let values = vec![
        ("@HEADER@", ctx.header(Comment::Hash)),
        ("@PATRONI@", patroni.join(" ")),
        ("@SSH_KEYS_SCRIPT@", SSH_KEYS_SCRIPT.to_string()),
        (
            "@ASSIGN_BACKUP@",
            shell::assign(
                "backup",
                &backup.map(|h| h.fqdn.clone()).unwrap_or_default(),
            ),
        ),
        (
            "@ASSIGN_BACKUP_IP@",
            shell::assign(
                "backup_ip",
                &backup.map(|h| h.ip.to_string()).unwrap_or_default(),
            ),
        ),
        (
            "@ASSIGN_SYNAPSE@",
            shell::assign("synapse", &synapse_fqdn(ctx)),
        ),
    ];
    let body = fill(
        r##"#!/usr/bin/env bash
@HEADER@#
# SSH trust the backups need, set up from the control machine (the one that runs the
# playbook, with SSH to every host):
#   postgres@backup  → postgres@each Patroni node   (pgBackRest backups, stanza checks)
#   postgres@each Patroni node → postgres@backup   (WAL archiving, restores)
#   root@backup      → root@synapse host           (rsync of the local media store)
# Each host gets its own key (ed25519, made on the host, never copied); each
# authorized key only works from the address it belongs to (from="…"). Host keys are
# learnt with ssh-keyscan inside the private network.
#   @SSH_KEYS_SCRIPT@            (SSH as root; SSH_USER=admin uses sudo)
# Safe to run again.
set -euo pipefail

user="${SSH_USER:-root}"
sudo=""
[ "$user" = root ] || sudo="sudo -n"
# The backup host, its address, the Synapse host, and each Patroni node as NAME=ADDRESS.
@ASSIGN_BACKUP@
@ASSIGN_BACKUP_IP@
@ASSIGN_SYNAPSE@
patroni=(@PATRONI@)

# on HOST SCRIPT [ARG...]: runs SCRIPT with bash as root on HOST, the ARGs as its $1...
# ssh hands the remote shell one command line: the script and every argument are in it
# quoted with printf %q, so the remote shell reads each as one word, never as code.
on() {
  local host="$1" command arg
  command="$sudo bash -c $(printf '%q' "$2") on"
  shift 2
  for arg in "$@"; do
    command="$command $(printf '%q' "$arg")"
  done
  # shellcheck disable=SC2029 # expanded here on purpose: the command is sent as text
  ssh -o BatchMode=yes "$user@$host" "$command"
}

# The scripts below are single-quoted: only the remote bash expands them, with the
# arguments `on` passes as $1, $2, ...

# key_of HOST ACCOUNT: that account's public key, made first when missing.
key_of() {
  # shellcheck disable=SC2016 # expanded by the remote bash, not here
  on "$1" 'set -e
account="$1"
home=$(getent passwd "$account" | cut -d: -f6)
install -d -m 0700 -o "$account" -g "$(id -gn "$account")" "$home/.ssh"
if [ ! -f "$home/.ssh/id_ed25519" ]; then
  runuser -u "$account" -- ssh-keygen -q -t ed25519 -N "" -C "$account@$(hostname)" -f "$home/.ssh/id_ed25519"
fi
cat "$home/.ssh/id_ed25519.pub"' "$2"
}

# authorize HOST ACCOUNT FROM_IP KEY: KEY may log in to ACCOUNT on HOST from FROM_IP.
authorize() {
  # shellcheck disable=SC2016 # expanded by the remote bash, not here
  on "$1" 'set -e
account="$1"
home=$(getent passwd "$account" | cut -d: -f6)
line="from=\"$2\",no-agent-forwarding,no-X11-forwarding,no-port-forwarding $3"
touch "$home/.ssh/authorized_keys"
grep -qxF "$line" "$home/.ssh/authorized_keys" || echo "$line" >> "$home/.ssh/authorized_keys"
chown "$account": "$home/.ssh/authorized_keys"
chmod 0600 "$home/.ssh/authorized_keys"' "$2" "$3" "$4"
}

# trust HOST ACCOUNT TARGET: ACCOUNT on HOST knows TARGET's host key.
trust() {
  # shellcheck disable=SC2016 # expanded by the remote bash, not here
  on "$1" 'set -e
account="$1"
target="$2"
home=$(getent passwd "$account" | cut -d: -f6)
touch "$home/.ssh/known_hosts"
if ! ssh-keygen -F "$target" -f "$home/.ssh/known_hosts" > /dev/null; then
  ssh-keyscan -t ed25519 "$target" >> "$home/.ssh/known_hosts" 2> /dev/null
fi
chown "$account": "$home/.ssh/known_hosts"' "$2" "$3"
}

backup_pg_key="$(key_of "$backup" postgres)"
backup_root_key="$(key_of "$backup" root)"
for entry in "${patroni[@]}"; do
  # The address is after the last `=`.
  host="${entry%=*}"
  ip="${entry##*=}"
  node_key="$(key_of "$host" postgres)"
  authorize "$host" postgres "$backup_ip" "$backup_pg_key"
  authorize "$backup" postgres "$ip" "$node_key"
  trust "$backup" postgres "$host"
  trust "$host" postgres "$backup"
  echo "postgres: $backup <-> $host"
done
authorize "$synapse" root "$backup_ip" "$backup_root_key"
trust "$backup" root "$synapse"
echo "root: $backup -> $synapse"
"##,
        &values,
    );
    File::new(
        SSH_KEYS_SCRIPT,
        Scope::Control,
        "Run from the control machine before setup-pgbackrest.sh: SSH keys between the backup host, the Patroni nodes and the Synapse host.",
        body,
    )
    .script()
}

//! `pre-deploy-check.sh`: before deploying, from the control machine, every host of the
//! plan reachable, on Debian 12, with the planned RAM and vCPUs, disk, clock, names and
//! free ports; and the VIP still unused.

use super::{PRE_DEPLOY_CHECK, summary};
use crate::bundle::{Comment, Ctx, File, Scope};
use crate::deploy::ports;
use crate::plan::Role;
use crate::syntax::shell;

/// `name:ip:role:ram:vcpus` of every host, one quoted word a line, for a bash array.
fn host_list(ctx: &Ctx) -> String {
    ctx.topology
        .hosts
        .iter()
        .map(|h| {
            format!(
                "  {}",
                shell::quote(&format!(
                    "{}:{}:{}:{}:{}",
                    h.name,
                    h.ip,
                    h.role.key(),
                    ctx.plan.host(h.role).ram_gib,
                    ctx.plan.host(h.role).vcpus
                ))
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// TCP ports each role's services will listen on: nothing may hold them before deploy.
fn role_ports(role: Role) -> Vec<u16> {
    use ports as p;
    match role {
        Role::Synapse => vec![
            p::SYNAPSE_WEB,
            p::SYNAPSE_FEDERATION,
            p::PGBOUNCER,
            p::SYNAPSE_MAIN_METRICS,
        ],
        Role::Patroni => vec![
            p::POSTGRES,
            p::PATRONI_REST,
            p::ETCD_CLIENT,
            p::ETCD_PEER,
            p::POSTGRES_EXPORTER,
        ],
        Role::Minio => vec![p::MINIO_API, p::MINIO_CONSOLE],
        Role::Haproxy => vec![p::HTTP, p::HTTPS, p::FEDERATION, p::HAPROXY_STATS],
        Role::Coturn => vec![p::TURN, p::TURNS],
        Role::Livekit => vec![p::LIVEKIT_HTTP, p::LIVEKIT_RTC_TCP, p::LIVEKIT_METRICS],
        Role::Monitoring => vec![p::PROMETHEUS, p::ALERTMANAGER, p::GRAFANA],
        Role::Backup => vec![],
    }
}

/// The script: the hosts as a bash array, each checked over SSH, then the VIP.
pub(super) fn pre_deploy(ctx: &Ctx) -> File {
    let mut port_cases = String::new();
    for role in Role::ALL {
        let ports: Vec<String> = role_ports(role).iter().map(|p| p.to_string()).collect();
        port_cases.push_str(&format!(
            "    {}) ports=\"{}\" ;;\n",
            role.key(),
            ports.join(" ")
        ));
    }
    let mut body = format!(
        r##"#!/usr/bin/env bash
{header}#
# Before deploying: run on the control machine, with root SSH access to every host.
#   ./{PRE_DEPLOY_CHECK}
# Checks every host of the plan: reachable, Debian 12, at least the planned RAM and
# vCPUs, disk space, clock offset, names resolve, the ports its services will use are
# free; and that nothing answers on the VIP yet. Exits 1 if anything fails.
set -uo pipefail

# name:ip:role:planned RAM GiB:planned vCPUs
hosts=(
{hosts}
)
{vip}
{suffix}
ssh_opts=(-o BatchMode=yes -o ConnectTimeout=5)
failures=0
ok() {{ printf '  ok    %s\n' "$*"; }}
bad() {{ printf '  FAIL  %s\n' "$*"; failures=$((failures + 1)); }}

for entry in "${{hosts[@]}}"; do
  IFS=: read -r name ip role ram_gib vcpus <<< "$entry"
  echo "== $name ($ip, $role)"
  if ! ssh "${{ssh_opts[@]}}" "root@$ip" true 2>/dev/null; then
    bad "$name: no SSH as root"
    continue
  fi
  ok "SSH"
  os=$(ssh "${{ssh_opts[@]}}" "root@$ip" '. /etc/os-release && echo "$ID $VERSION_ID"')
  if [ "$os" = "debian 12" ]; then ok "Debian 12"; else bad "$name runs '$os', not Debian 12"; fi
  # MemTotal is a little below the installed RAM (kernel reservations): allow 5%.
  mem_kib=$(ssh "${{ssh_opts[@]}}" "root@$ip" "awk '/^MemTotal:/ {{print \$2}}' /proc/meminfo")
  want_kib=$((ram_gib * 1024 * 1024 * 95 / 100))
  if [ "$mem_kib" -ge "$want_kib" ]; then ok "RAM $((mem_kib / 1024 / 1024)) GiB (plan: $ram_gib)"; else bad "$name has $((mem_kib / 1024 / 1024)) GiB RAM, the plan budgets $ram_gib"; fi
  cpus=$(ssh "${{ssh_opts[@]}}" "root@$ip" nproc)
  if [ "$cpus" -ge "$vcpus" ]; then ok "$cpus vCPUs (plan: $vcpus)"; else bad "$name has $cpus vCPUs, the plan has $vcpus"; fi
  free_root=$(ssh "${{ssh_opts[@]}}" "root@$ip" "df --output=avail -BG / | tail -n 1 | tr -dc 0-9")
  if [ "$free_root" -ge 10 ]; then ok "$free_root GiB free on /"; else bad "$name has only $free_root GiB free on /"; fi
  # Clock: within 100 ms of this machine (Patroni and etcd need < 100 ms, seed §1).
  remote_ms=$(ssh "${{ssh_opts[@]}}" "root@$ip" 'date +%s%3N')
  local_ms=$(date +%s%3N)
  skew=$(( remote_ms > local_ms ? remote_ms - local_ms : local_ms - remote_ms ))
  if [ "$skew" -le 1000 ]; then ok "clock within ${{skew}} ms (SSH latency included)"; else bad "$name's clock is ${{skew}} ms off"; fi
  for other in "${{hosts[@]}}"; do
    IFS=: read -r oname oip _ _ _ <<< "$other"
    ofqdn="$oname.$suffix"
    # Quoted again for the remote shell, which reads ssh's command line.
    resolved=$(ssh "${{ssh_opts[@]}}" "root@$ip" "getent hosts $(printf %q "$ofqdn") | cut -d' ' -f1")
    if [ "$resolved" != "$oip" ]; then bad "$name resolves $ofqdn to '$resolved', not $oip (prepare-host.sh writes /etc/hosts)"; fi
  done
  case "$role" in
{port_cases}  esac
  for port in $ports; do
    if ssh "${{ssh_opts[@]}}" "root@$ip" "ss -Htln 'sport = :$port'" | grep -q .; then
      bad "$name: port $port is already in use"
    fi
  done
done

echo "== VIP $vip"
if ping -c 1 -W 2 "$vip" > /dev/null 2>&1; then
  bad "something already answers on the VIP $vip"
else
  ok "VIP $vip is free"
fi
"##,
        header = ctx.header(Comment::Hash),
        hosts = host_list(ctx),
        vip = shell::assign("vip", &ctx.topology.vip.to_string()),
        suffix = shell::assign("suffix", &ctx.topology.suffix),
    );
    body.push_str(&summary("pre-deploy"));
    File::new(
        PRE_DEPLOY_CHECK,
        Scope::Control,
        "Before deploying: every host reachable, Debian 12, planned RAM/vCPUs, disk, clock, names, free ports; VIP unused.",
        body,
    )
    .script()
}

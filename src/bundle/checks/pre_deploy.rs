//! `pre-deploy-check.sh`: before deploying, from the control machine, every host of the
//! plan reachable, on Debian 12, with the planned RAM and vCPUs, disk, clock, names and
//! free ports; and the VIP still unused.

use super::{PRE_DEPLOY_CHECK, summary};
use crate::bundle::{Comment, Ctx, File, Host, Scope};
use crate::deploy::listeners::{Proto, listeners};
use crate::deploy::ports;
use crate::syntax::shell;

/// `name:ip:role:ram:vcpus:ports` of every host, one quoted word a line, for a bash
/// array; `ports` is [`free_ports`] of the host.
fn host_list(ctx: &Ctx) -> String {
    ctx.topology
        .hosts
        .iter()
        .map(|h| {
            format!(
                "  {}",
                shell::quote(&format!(
                    "{}:{}:{}:{}:{}:{}",
                    h.name,
                    h.ip,
                    h.role.key(),
                    ctx.plan.host(h.role).ram_gib,
                    ctx.plan.host(h.role).vcpus,
                    free_ports(ctx, h).join(" ")
                ))
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// What must be free on host `h` before deploying, as `tcp/6432-6432` words: every
/// listener of the port inventory ([`listeners`]), TCP and UDP, loopback ones included
/// (a socket on 0.0.0.0 would take them too). Not VRRP (no port), and not sshd: the
/// check itself logs in over it. node_exporter's 9100 stays in: prepare-host.sh installs
/// it, and this check runs before it (README step 1); run again later, the check names
/// node_exporter as the holder.
fn free_ports(ctx: &Ctx, h: &Host) -> Vec<String> {
    listeners(ctx.plan, &ctx.topology, h)
        .iter()
        .filter(|l| l.proto != Proto::Vrrp && l.ports != (ports::SSH, ports::SSH))
        .map(|l| format!("{}/{}-{}", l.proto.key(), l.ports.0, l.ports.1))
        .collect()
}

/// The script: the hosts as a bash array, each checked over SSH, then the VIP.
pub(super) fn pre_deploy(ctx: &Ctx) -> File {
    let mut body = format!(
        r##"#!/usr/bin/env bash
{header}#
# Before deploying: run on the control machine, with root SSH access to every host.
#   ./{PRE_DEPLOY_CHECK}
# Checks every host of the plan: reachable, Debian 12, at least the planned RAM and
# vCPUs, disk space, clock offset, names resolve, the ports its services will use are
# free; and that nothing answers on the VIP yet. Exits 1 if anything fails.
set -uo pipefail

# name:ip:role:planned RAM GiB:planned vCPUs:ports that must be free (proto/first-last,
# every listener of PORTS.md but sshd)
hosts=(
{hosts}
)
{vip}
{suffix}
ssh_opts=(-o BatchMode=yes -o ConnectTimeout=5)
failures=0
ok() {{ printf '  ok    %s\n' "$*"; }}
bad() {{ printf '  FAIL  %s\n' "$*"; failures=$((failures + 1)); }}
warn() {{ printf '  WARN  %s\n' "$*"; }}

for entry in "${{hosts[@]}}"; do
  IFS=: read -r name ip role ram_gib vcpus ports <<< "$entry"
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
    IFS=: read -r oname oip _ <<< "$other"
    ofqdn="$oname.$suffix"
    # Quoted again for the remote shell, which reads ssh's command line.
    resolved=$(ssh "${{ssh_opts[@]}}" "root@$ip" "getent hosts $(printf %q "$ofqdn") | cut -d' ' -f1")
    if [ "$resolved" != "$oip" ]; then bad "$name resolves $ofqdn to '$resolved', not $oip (prepare-host.sh writes /etc/hosts)"; fi
  done
  # Every TCP and UDP socket listening now, as "proto port process" (one SSH).
  listening=$(ssh "${{ssh_opts[@]}}" "root@$ip" "ss -Htulnp" | awk '{{n = split($5, a, ":"); print $1, a[n], $7}}')
  for spec in $ports; do
    IFS=/- read -r proto first last <<< "$spec"
    held=$(awk -v p="$proto" -v a="$first" -v b="$last" '$1 == p && $2 + 0 >= a + 0 && $2 + 0 <= b + 0 {{print $2 " " $3}}' <<< "$listening" | sort -u | tr '\n' ' ')
    [ -z "$held" ] && continue
    if [ "$first" = "$last" ]; then
      bad "$name: $proto port $first is already in use: $held"
    else
      # A range (coturn relays, LiveKit media): the service starts and only loses the
      # ports held, so a warning, not a failure.
      warn "$name: $proto ports of $first-$last already in use: $held"
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::with_ctx;
    use crate::plan::Plan;

    /// Every listener of every host but sshd and VRRP is on that host's line: the list
    /// is the inventory, not a copy of it.
    #[test]
    fn every_listener_port_is_checked_on_its_host() {
        let plan = Plan::default();
        with_ctx(&plan, |ctx| {
            let script = pre_deploy(ctx).contents;
            for h in &ctx.topology.hosts {
                let line = script
                    .lines()
                    .find(|l| l.starts_with(&format!("  '{}:{}:", h.name, h.ip)))
                    .unwrap_or_else(|| panic!("no line for {}", h.name));
                let words: Vec<&str> = line
                    .trim()
                    .trim_matches('\'')
                    .rsplit(':')
                    .next()
                    .unwrap_or("")
                    .split(' ')
                    .collect();
                for l in listeners(ctx.plan, &ctx.topology, h) {
                    let word = format!("{}/{}-{}", l.proto.key(), l.ports.0, l.ports.1);
                    let expected = l.proto != Proto::Vrrp && l.service != "sshd";
                    assert_eq!(
                        words.contains(&word.as_str()),
                        expected,
                        "{}: {word}",
                        h.name
                    );
                }
            }
            // What the old hand-written list missed.
            let line = |name: &str| {
                script
                    .lines()
                    .find(|l| l.starts_with(&format!("  '{name}:")))
                    .unwrap_or_default()
                    .to_string()
            };
            assert!(line("synapse").contains("tcp/9127-9127"));
            assert!(line("synapse").contains("tcp/28211-28211"));
            assert!(line("livekit1").contains("tcp/6379-6379"));
            assert!(!line("livekit2").contains("tcp/6379-6379"));
            assert!(line("coturn1").contains("udp/3478-3478"));
            assert!(line("monitoring").contains("udp/123-123"));
            assert!(!line("haproxy1").contains("tcp/22-22"));
        });
    }

    /// The script, run by bash with a stand-in `ssh` that answers `ss` with a listing:
    /// a held single port fails, a held port of a range warns, sshd's 22 and ports of
    /// other hosts' services pass.
    #[test]
    fn held_ports_fail_and_ranges_warn() {
        let plan = Plan::default();
        let script = with_ctx(&plan, |ctx| pre_deploy(ctx).contents);
        let dir = std::env::temp_dir().join(format!("pre-deploy-{}", std::process::id()));
        let bin = dir.join("bin");
        std::fs::create_dir_all(&bin).expect("temp dir");
        let fake_ssh = r#"#!/usr/bin/env bash
# The last argument is the remote command; the one before is root@<ip>.
cmd="${@: -1}"
case "$cmd" in
  true) exit 0 ;;
  *os-release*) echo "debian 12" ;;
  *meminfo*) echo 999999999 ;;
  nproc) echo 999 ;;
  *df*) echo 999 ;;
  date*) date +%s%3N ;;
  "ss -Htulnp")
    echo 'tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:(("sshd",pid=1,fd=3))'
    echo 'tcp LISTEN 0 128 [::]:6432 [::]:* users:(("pgbouncer",pid=2,fd=3))'
    echo 'udp UNCONN 0 0 0.0.0.0:50123 0.0.0.0:* users:(("dhclient",pid=3,fd=6))'
    ;;
esac
"#;
        let fake_ping = "#!/usr/bin/env bash\nexit 1\n";
        for (name, text) in [("ssh", fake_ssh), ("ping", fake_ping)] {
            let p = bin.join(name);
            std::fs::write(&p, text).expect("write");
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(&script)
            .env("PATH", path)
            .output()
            .expect("bash");
        let _ = std::fs::remove_dir_all(&dir);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let has = |s: &str| stdout.lines().any(|l| l.contains(s));
        assert!(
            has("FAIL  synapse: tcp port 6432 is already in use: 6432 users:((\"pgbouncer\""),
            "{stdout}"
        );
        assert!(!has("port 22 "), "{stdout}");
        assert!(!has("haproxy1: tcp port 6432"), "{stdout}");
        for host in ["coturn1", "livekit1"] {
            assert!(
                has(&format!("WARN  {host}: udp ports of ")) && has("50123 users"),
                "{stdout}"
            );
        }
        // No range warning where 50123 is outside every range (the Synapse host).
        assert!(!has("WARN  synapse"), "{stdout}");
        assert!(has("ok    VIP"), "{stdout}");
    }
}

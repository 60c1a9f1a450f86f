//! System preparation for every host (seed §1): kernel parameters, file limits, time
//! (chrony, UTC), Docker log rotation, the hosts file, and `prepare-host.sh`, which
//! installs the files of `hosts/all/` and `hosts/<name>/` on a host.

use super::{Comment, Ctx, File, Scope, ports};
use crate::assumptions as a;
use crate::plan::Role;
use crate::syntax::conf::Format;

pub fn files(ctx: &Ctx) -> Vec<File> {
    let mut out = vec![
        sysctl(ctx),
        limits(ctx),
        systemd_limits(ctx),
        journald(ctx),
        chrony_client(ctx),
        docker_daemon(),
        hosts_append(ctx),
        prepare_script(ctx),
    ];
    out.extend(reserved_ports(ctx));
    out.extend(chrony_server(ctx));
    out.extend(huge_pages(ctx));
    out.extend(file_descriptors(ctx));
    out
}

/// Where the plan's services need more file descriptors than the defaults allow: per
/// host, `fs.nr_open` (the most one process may have) and `fs.file-max` (the host's
/// total) in a sysctl file read after 90-synapse-planner.conf, and for HAProxy a systemd
/// drop-in with `LimitNOFILE=` (LiveKit's container gets its limit with `--ulimit`,
/// PgBouncer's drop-in is written with its other files). Figures from
/// `sizing::descriptors` over the report's connections and calls.
fn file_descriptors(ctx: &Ctx) -> Vec<File> {
    use crate::sizing::descriptors::{
        self as d, FILE_MAX_DEFAULT, NR_OPEN_DEFAULT, NR_OPEN_MAX, limit_nofile,
    };
    let needs = d::needs(ctx.plan, &ctx.report.connections, &ctx.report.calls);
    let wv = |n: u64| Format::Words.value(&n.to_string());
    let mut out = Vec::new();
    for role in Role::ALL {
        let limits = d::host_limits(&needs, role);
        let mine: Vec<&d::Need> = needs.iter().filter(|n| n.role == role).collect();
        if limits.nr_open.is_some() || limits.file_max.is_some() {
            let mut why = String::from(
                "File descriptors the plan's services need on this host, above the defaults.\n",
            );
            for n in &mine {
                why.push_str(&format!("{}: {}.\n", n.service, n.formula));
            }
            let mut settings = String::new();
            if let Some(v) = limits.nr_open {
                let mut note = format!(
                    "fs.nr_open: the most descriptors one process may have (setrlimit() and systemd's\n\
                     LimitNOFILE= fail above it). The kernel's default is {NR_OPEN_DEFAULT} (fs/file.c, sysctl_nr_open)\n\
                     and Debian 12's systemd leaves it; the largest need here is {}.",
                    limits.per_process
                );
                if limits.per_process > NR_OPEN_MAX {
                    note.push_str(&format!(
                        "\nThat is past the kernel's ceiling of {NR_OPEN_MAX} (sysctl_nr_open_max, fs/file.c): set to the\n\
                         ceiling, and the report has an error finding (file-descriptors-beyond-kernel)."
                    ));
                }
                settings.push_str(&Comment::Hash.lines(&note));
                settings.push_str(&format!("fs.nr_open = {}\n", wv(v)));
            }
            if let Some(v) = limits.file_max {
                settings.push_str(&Comment::Hash.lines(&format!(
                    "fs.file-max: descriptors open on the whole host. Twice what the services above may hold\n\
                     together (2 × {}), the other half for everything else; 90-synapse-planner.conf sets\n\
                     {FILE_MAX_DEFAULT}, and this file, read after it, raises it.",
                    limits.per_host
                )));
                settings.push_str(&format!("fs.file-max = {}\n", wv(v)));
            }
            for h in ctx.hosts(role) {
                out.push(
                    File::new(
                        format!("hosts/{}/etc/sysctl.d/93-file-descriptors.conf", h.name),
                        Scope::Role(role),
                        "Kernel limits on file descriptors raised for this host's services (fs.nr_open, fs.file-max).",
                        format!(
                            "{}{}{}",
                            ctx.header(Comment::Hash),
                            Comment::Hash.lines(&why),
                            settings
                        ),
                    )
                    .for_host(h),
                );
            }
        }
        // HAProxy: a drop-in where its need passes the cluster's default limit. HAProxy,
        // started as root, would raise its own limit too (management guide §5); the
        // drop-in states it, and systemd refuses to start it if fs.nr_open is short.
        if role == Role::Haproxy
            && let Some(n) = mine.first()
            && n.per_process > limit_nofile(0)
        {
            let nofile = limit_nofile(n.per_process.min(NR_OPEN_MAX));
            for h in ctx.hosts(role) {
                out.push(
                    File::new(
                        format!(
                            "hosts/{}/etc/systemd/system/haproxy.service.d/90-synapse-planner.conf",
                            h.name
                        ),
                        Scope::Role(role),
                        "systemd drop-in: HAProxy's open-file limit for its maxconn.",
                        format!(
                            "{}{}[Service]\nLimitNOFILE={}\n",
                            ctx.header(Comment::Hash),
                            Comment::Hash.lines(&format!(
                                "HAProxy's open-file limit (systemd.exec(5), LimitNOFILE=: soft and hard limit),\n\
                                 above the cluster's DefaultLimitNOFILE={}. Need: {}.\n\
                                 It must not pass fs.nr_open{}.",
                                a::fixed!(NOFILE_LIMIT) as u64,
                                n.formula,
                                if limits.nr_open.is_some() {
                                    " (raised in /etc/sysctl.d/93-file-descriptors.conf)"
                                } else {
                                    ", the kernel's 1048576 here"
                                }
                            )),
                            Format::Systemd.value(&nofile.to_string())
                        ),
                    )
                    .for_host(h),
                );
            }
        }
    }
    out
}

fn sysctl(ctx: &Ctx) -> File {
    let body = format!(
        "{}\
# Kernel parameters for every host (seed §1 \"System Tuning\").

# Listen and SYN backlogs: HAProxy and Synapse accept bursts of reconnecting clients.
net.core.somaxconn = 4096
net.ipv4.tcp_max_syn_backlog = 4096
net.core.netdev_max_backlog = 4096
# Ephemeral ports for outgoing connections (HAProxy → backends, PgBouncer → PostgreSQL).
# Hosts that relay media reserve their relay ranges out of this (91-reserved-ports.conf).
net.ipv4.ip_local_port_range = 10000 65535
net.ipv4.tcp_tw_reuse = 1
net.ipv4.tcp_fin_timeout = 15
# System-wide open files; per-process limits are in limits.d and systemd.
fs.file-max = 2097152
# Prefer dropping page cache to swapping out PostgreSQL or Synapse.
vm.swappiness = 10
",
        ctx.header(Comment::Hash)
    );
    File::new(
        "hosts/all/etc/sysctl.d/90-synapse-planner.conf",
        Scope::AllHosts,
        "Kernel parameters (backlogs, ports, file handles, swappiness); applied by `sysctl --system`.",
        body,
    )
}

fn limits(ctx: &Ctx) -> File {
    let n = a::fixed!(NOFILE_LIMIT) as u64;
    let body = format!(
        "{}\
# Open-file limit for login sessions (seed §1). pam_limits applies `*` to every user
# but root, so root is listed too. Services started by systemd take theirs from
# systemd (see /etc/systemd/system.conf.d/90-synapse-planner.conf).
*     soft  nofile  {n}
*     hard  nofile  {n}
root  soft  nofile  {n}
root  hard  nofile  {n}
",
        ctx.header(Comment::Hash)
    );
    File::new(
        "hosts/all/etc/security/limits.d/90-synapse-planner.conf",
        Scope::AllHosts,
        "Open-file limits for sessions (pam_limits).",
        body,
    )
}

fn systemd_limits(ctx: &Ctx) -> File {
    let n = a::fixed!(NOFILE_LIMIT) as u64;
    let body = format!(
        "{}\
# systemd services do not read limits.conf: this sets their default open-file limit.
# Services that need more set LimitNOFILE in their own unit.
[Manager]
DefaultLimitNOFILE={n}
",
        ctx.header(Comment::Hash)
    );
    File::new(
        "hosts/all/etc/systemd/system.conf.d/90-synapse-planner.conf",
        Scope::AllHosts,
        "Default open-file limit for systemd services.",
        body,
    )
}

/// The playbook runs Synapse's containers with `--log-driver=none`: their logs go to
/// journald, so journald's limits are the log rotation that matters there.
fn journald(ctx: &Ctx) -> File {
    let body = format!(
        "{}\
# Logs of systemd services, including the playbook's containers (it starts Synapse and
# its workers with --log-driver=none, so they log to the journal, not to Docker).
[Journal]
# At most 4 GiB on disk and one month: enough to investigate an incident, bounded on
# a busy Synapse host. journald's own default is 10% of the file system, up to 4 GiB.
SystemMaxUse=4G
MaxRetentionSec=1month
",
        ctx.header(Comment::Hash)
    );
    File::new(
        "hosts/all/etc/systemd/journald.conf.d/90-synapse-planner.conf",
        Scope::AllHosts,
        "journald limits: the playbook's Synapse containers log to the journal.",
        body,
    )
}

/// The monitoring host serves time to the others, so clocks agree (Patroni and etcd
/// need < 100 ms skew, seed §1) even after the cluster loses its internet access.
fn time_source(ctx: &Ctx) -> String {
    ctx.topology
        .first(Role::Monitoring)
        .map(|h| h.fqdn.clone())
        .unwrap_or_default()
}

fn chrony_client(ctx: &Ctx) -> File {
    let body = format!(
        "{}\
# Time for every host but the time source ({source}).
# While the cluster has internet access, Debian's pool is used as well; once it is cut
# off, {source} keeps every host on one clock.
server {source} iburst prefer
pool 2.debian.pool.ntp.org iburst
# Step the clock at start if it is off by more than a second (first 3 updates).
makestep 1 3
driftfile /var/lib/chrony/chrony.drift
rtcsync
# Keep the kernel's leap-second handling and log big corrections.
leapsectz right/UTC
logchange 0.1
",
        ctx.header(Comment::Hash),
        source = time_source(ctx),
    );
    File::new(
        "hosts/all/etc/chrony/chrony.conf",
        Scope::AllHosts,
        "chrony: time from the cluster's time source (the monitoring host) and, while online, Debian's pool.",
        body,
    )
}

fn chrony_server(ctx: &Ctx) -> Vec<File> {
    ctx.hosts(Role::Monitoring)
        .map(|h| {
            let body = format!(
                "{}\
# Time source of the cluster ({name}). Syncs to Debian's pool while online; when the
# cluster is cut off it keeps serving its own clock (local stratum 10, orphan mode),
# so every host stays on one time.
pool 2.debian.pool.ntp.org iburst
makestep 1 3
driftfile /var/lib/chrony/chrony.drift
rtcsync
leapsectz right/UTC
logchange 0.1
# Serve the private subnet.
allow {subnet}
local stratum 10 orphan
",
                ctx.header(Comment::Hash),
                name = h.fqdn,
                subnet = ctx.topology.subnet,
            );
            File::new(
                format!("hosts/{}/etc/chrony/chrony.conf", h.name),
                Scope::Role(Role::Monitoring),
                "chrony on the time source: serves the subnet, keeps time when offline.",
                body,
            )
            .for_host(h)
        })
        .collect()
}

/// Docker's daemon settings on every host (log rotation).
pub(super) const DOCKER_DAEMON_JSON: &str = "hosts/all/etc/docker/daemon.json";

/// The script each host runs first.
pub(super) const PREPARE_HOST: &str = "hosts/all/prepare-host.sh";

fn docker_daemon() -> File {
    // JSON has no comments, so no header: the README says where it comes from.
    // Seed §3: json-file logs, 10 MB × 3 per container.
    let body = "{\n  \"log-driver\": \"json-file\",\n  \"log-opts\": {\n    \"max-size\": \"10m\",\n    \"max-file\": \"3\"\n  }\n}\n";
    File::new(
        DOCKER_DAEMON_JSON,
        Scope::AllHosts,
        "Docker log rotation: json-file, 10 MB × 3 per container (hosts that run containers).",
        body.to_string(),
    )
}

fn hosts_append(ctx: &Ctx) -> File {
    let mut body = ctx.header(Comment::Hash);
    body.push_str(
        "# Every host of the cluster, for /etc/hosts (prepare-host.sh adds this block).\n",
    );
    body.push_str(&format!(
        "{} vip.{} {}\n",
        ctx.topology.vip, ctx.topology.suffix, ctx.topology.server_name
    ));
    for h in &ctx.topology.hosts {
        body.push_str(&format!("{} {} {}\n", h.ip, h.fqdn, h.name));
    }
    File::new(
        "hosts/all/hosts.append",
        Scope::AllHosts,
        "Lines for /etc/hosts: every host, and the server name on the VIP.",
        body,
    )
}

/// Hosts that relay media reserve their relay ports so the kernel never hands one out
/// as an ephemeral port (10000–65535 above): a taken port is a failed allocation.
fn reserved_ports(ctx: &Ctx) -> Vec<File> {
    let p = ctx.plan;
    let mut out = Vec::new();
    for (role, from, to, what) in [
        (
            Role::Coturn,
            p.coturn.min_port,
            p.coturn.max_port,
            "coturn relay ports (min-port..max-port)",
        ),
        (
            Role::Livekit,
            p.livekit.port_range_start,
            p.livekit.port_range_end,
            "LiveKit RTC ports (rtc.port_range_start..end)",
        ),
    ] {
        // LiveKit moves many UDP packets per socket: its docs and the playbook's role
        // raise the socket buffer ceilings to 7.5 MB (LiveKit warns below that).
        let buffers = if role == Role::Livekit {
            "# UDP socket buffers for media (LiveKit's recommendation; it warns below this).\nnet.core.rmem_max = 7500000\nnet.core.wmem_max = 7500000\n"
        } else {
            ""
        };
        for h in ctx.hosts(role) {
            let body = format!(
                "{}# Reserve the {what} so they are never used as ephemeral ports.\nnet.ipv4.ip_local_reserved_ports = {from}-{to}\n{buffers}",
                ctx.header(Comment::Hash)
            );
            out.push(
                File::new(
                    format!("hosts/{}/etc/sysctl.d/91-reserved-ports.conf", h.name),
                    Scope::Role(role),
                    format!("Keeps the {what} out of the ephemeral range."),
                    body,
                )
                .for_host(h),
            );
        }
    }
    out
}

/// Huge pages for PostgreSQL's shared memory (huge_pages = try in the parameters).
fn huge_pages(ctx: &Ctx) -> Vec<File> {
    let mem = crate::sizing::postgres::memory(ctx.plan);
    if mem.shared_buffers_kb < 2 * 1024 * 1024 {
        // huge_pages = off below 2GB of shared_buffers (PGTune).
        return Vec::new();
    }
    // 2 MiB pages for shared_buffers plus 3% for PostgreSQL's other shared memory; the
    // exact need is `postgres -C shared_memory_size_in_huge_pages` (PostgreSQL 15+).
    let pages = (mem.shared_buffers_kb / 2048) * 103 / 100 + 1;
    ctx.hosts(Role::Patroni)
        .map(|h| {
            let body = format!(
                "{}\
# Huge pages for PostgreSQL: shared_buffers {} in 2 MiB pages + 3%.
# Check with: sudo -u postgres /usr/lib/postgresql/{v}/bin/postgres -D <data dir> -C shared_memory_size_in_huge_pages
# If PostgreSQL needs more, it starts without huge pages (huge_pages = try).
vm.nr_hugepages = {pages}
",
                ctx.header(Comment::Hash),
                crate::sizing::postgres::format_kb(mem.shared_buffers_kb),
                v = ctx.plan.postgres.version,
            );
            File::new(
                format!("hosts/{}/etc/sysctl.d/92-postgresql-hugepages.conf", h.name),
                Scope::Role(Role::Patroni),
                "Huge pages reserved for PostgreSQL's shared buffers.",
                body,
            )
            .for_host(h)
        })
        .collect()
}

/// Debian 12 packages each role's services come from (installed by prepare-host.sh
/// after the bundle's files are in place, keeping those files: --force-confold).
pub(super) fn role_packages(ctx: &Ctx, role: Role) -> Vec<String> {
    let v = ctx.plan.postgres.version;
    let list: &[&str] = match role {
        // Docker itself comes with the playbook on the Synapse host.
        Role::Synapse => &[
            "pgbouncer",
            "prometheus-pgbouncer-exporter",
            "postgresql-client",
        ],
        Role::Patroni => &[
            "patroni",
            "etcd-server",
            "etcd-client",
            "pgbackrest",
            "prometheus-postgres-exporter",
        ],
        // jq: the MinIO health check reads mc's JSON.
        Role::Minio => &["docker.io", "jq"],
        Role::Haproxy => &["haproxy", "keepalived"],
        Role::Coturn => &["coturn"],
        Role::Livekit => &["docker.io", "redis-server", "prometheus-redis-exporter"],
        // The blackbox exporter probes what has no metrics of its own (coturn, TLS expiry).
        Role::Monitoring => &[
            "prometheus",
            "prometheus-alertmanager",
            "prometheus-blackbox-exporter",
            "docker.io",
        ],
        // rclone copies the MinIO bucket (MinIO's mc is not packaged in Debian).
        Role::Backup => &["pgbackrest", "rsync", "rclone"],
    };
    let mut out: Vec<String> = list.iter().map(|s| s.to_string()).collect();
    match role {
        Role::Patroni => out.insert(0, format!("postgresql-{v}")),
        Role::Backup => out.push(format!("postgresql-client-{v}")),
        _ => {}
    }
    out
}

/// Bash: `admitted <IPv4 address> <network>...` succeeds when the address is in one of
/// the networks (CIDR). An IPv6 address is in none (the firewall admits no IPv6 ssh).
pub(crate) const SSH_GUARD: &str = r#"ip_number() {
  local IFS=. a b c d
  read -r a b c d <<< "$1"
  echo $(( (a << 24) | (b << 16) | (c << 8) | d ))
}
admitted() {
  local addr="$1" net bits mask
  shift
  [[ "$addr" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || return 1
  for net in "$@"; do
    bits="${net#*/}"
    mask=$(( bits == 0 ? 0 : (0xFFFFFFFF << (32 - bits)) & 0xFFFFFFFF ))
    if (( ($(ip_number "$addr") & mask) == ($(ip_number "${net%/*}") & mask) )); then
      return 0
    fi
  done
  return 1
}
"#;

fn prepare_script(ctx: &Ctx) -> File {
    let names: Vec<&str> = ctx.topology.hosts.iter().map(|h| h.name.as_str()).collect();
    let mut cases = String::new();
    for role in Role::ALL {
        let hosts: Vec<&str> = ctx.hosts(role).map(|h| h.name.as_str()).collect();
        if hosts.is_empty() {
            continue;
        }
        // Every host of a role admits ssh from the same networks.
        let ssh: Vec<String> = ctx
            .hosts(role)
            .next()
            .map(|h| super::firewall::ssh_networks(ctx.plan, &ctx.topology, h))
            .unwrap_or_default()
            .iter()
            .map(|n| n.to_string())
            .collect();
        cases.push_str(&format!(
            "  {}) packages=\"{}\"; ssh_from={} ;;\n",
            hosts.join("|"),
            role_packages(ctx, role).join(" "),
            crate::syntax::shell::quote(&ssh.join(" "))
        ));
    }
    let v = ctx.plan.postgres.version;
    let pgdg = if v == 15 {
        String::new()
    } else {
        format!(
            "# PostgreSQL {v} is not in Debian 12: add the PGDG apt repository (or its offline mirror)\n# on Patroni and backup hosts before running this script.\n"
        )
    };
    let body = format!(
        r##"#!/usr/bin/env bash
{header}#
# Prepares one host: UTC, this bundle's files for it, /etc/hosts, kernel parameters,
# its role's Debian packages, chrony, node_exporter and the host firewall. Run as
# root on the host, from the unpacked bundle:
#   sudo ./{PREPARE_HOST} <host name>
# Host names: {names}
# Safe to run again: files are replaced, the hosts block is rewritten.
{pgdg}set -euo pipefail

name="${{1:-}}"
here="$(cd "$(dirname "${{BASH_SOURCE[0]}}")/.." && pwd)"
case "$name" in
{cases}  *) echo "usage: $0 <host name>  (one of: {names})" >&2; exit 2 ;;
esac
if [ "$(id -u)" -ne 0 ]; then
  echo "run as root" >&2
  exit 1
fi

# Time: UTC everywhere (seed §1).
timedatectl set-timezone UTC

# Files for every host, then this host's own (they win where both exist). They go in
# before the packages, so packages keep them (--force-confold) and services start with
# them; PostgreSQL's packages, for one, must not create a cluster of their own.
for tree in "$here/all" "$here/$name"; do
  for top in etc usr var; do
    if [ -d "$tree/$top" ]; then
      cp -a "$tree/$top/." "/$top/"
    fi
  done
done
# Packages record the owner and mode some files need (/etc/turnserver.conf for the
# turnserver group, /etc/redis/redis.conf for redis): the copy above made them root's,
# so give them back. On a first run nothing is recorded yet; the packages set them.
dpkg-statoverride --list | while read -r user group mode path; do
  if [ -e "$path" ]; then
    chown "$user:$group" "$path"
    chmod "$mode" "$path"
  fi
done

# /etc/hosts: replace the block between the markers.
begin="# BEGIN synapse-planner"
end="# END synapse-planner"
tmp="$(mktemp)"
sed "/^$begin\$/,/^$end\$/d" /etc/hosts > "$tmp"
{{
  echo "$begin"
  grep -v '^#' "$here/all/hosts.append"
  echo "$end"
}} >> "$tmp"
cat "$tmp" > /etc/hosts
rm -f "$tmp"

sysctl --system > /dev/null

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# nftables: the host firewall; curl: the post-deploy check probes from the hosts.
# shellcheck disable=SC2086 # the package list is meant to split into words
apt-get install -y -q -o Dpkg::Options::=--force-confold chrony prometheus-node-exporter nftables curl $packages

systemctl daemon-reload
systemctl restart systemd-journald
systemctl restart chrony
systemctl enable --now prometheus-node-exporter

# The host firewall ({firewall_file}, installed above): admits what the port inventory
# says, drops the rest. ssh is admitted from network.admin-networks (and the hosts that
# back up over ssh) only: when this runs over ssh from anywhere else, stop here rather
# than lock the operator out (the open session would survive, the next one would not).
{guard}client="${{SSH_CONNECTION%% *}}"
# shellcheck disable=SC2086 # the networks are meant to split into words
if [ -n "$client" ] && ! admitted "$client" $ssh_from; then
  echo "not enabling the firewall: this ssh session comes from $client, and the firewall admits ssh only from: $ssh_from" >&2
  echo "add your network to network.admin-networks in the plan and generate the bundle again" >&2
  exit 1
fi
# Restart, not start: a second run loads changed rules.
systemctl enable {firewall_unit}
systemctl restart {firewall_unit}

echo "prepared $name: UTC, files, /etc/hosts, sysctl, chrony, node_exporter on :{node_exporter}, firewall, packages: $packages"
"##,
        header = ctx.header(Comment::Hash),
        names = names.join(" "),
        node_exporter = ports::NODE_EXPORTER,
        firewall_file = format_args!("/{}", super::firewall::FIREWALL_NFT),
        firewall_unit = super::firewall::unit_name(),
        guard = SSH_GUARD,
    );
    File::new(
        PREPARE_HOST,
        Scope::AllHosts,
        "Run on each host first: UTC, installs this bundle's files for that host, /etc/hosts, sysctl, its role's packages, chrony, node_exporter, the host firewall.",
        body,
    )
    .script()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::{contents, with_ctx};
    use crate::plan::Plan;

    /// `key = value` lines of a sysctl file.
    fn sysctl(text: &str) -> Vec<(String, String)> {
        text.lines()
            .filter(|l| !l.starts_with('#') && l.contains('='))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect()
    }

    /// (changes, host, its 93-file-descriptors.conf settings, haproxy's LimitNOFILE).
    #[test]
    fn numbers_past_tool_limits_system_files_raise_descriptor_limits_where_needed() {
        let check = |changes: &[(&str, &str)],
                     host: &str,
                     expect: &[(&str, &str)],
                     haproxy_nofile: Option<&str>| {
            let p = Plan::default().with_texts(changes).expect("valid");
            let files = with_ctx(&p, files);
            let path = format!("hosts/{host}/etc/sysctl.d/93-file-descriptors.conf");
            let got = files
                .iter()
                .find(|f| f.path == path)
                .map(|f| sysctl(&f.contents))
                .unwrap_or_default();
            let want: Vec<(String, String)> = expect
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            assert_eq!(got, want, "{changes:?} {host}");
            let dropin = files
                .iter()
                .find(|f| {
                    f.path
                        == "hosts/haproxy1/etc/systemd/system/haproxy.service.d/90-synapse-planner.conf"
                })
                .map(|f| {
                    f.contents
                        .lines()
                        .find_map(|l| l.strip_prefix("LimitNOFILE="))
                        .expect("LimitNOFILE")
                        .to_string()
                });
            assert_eq!(dropin.as_deref(), haproxy_nofile, "{changes:?}");
        };
        let users = ("users.registered", "100000000");
        // The default plan: 2 × 8,000 + 1,000 = 17,000, within every default.
        check(&[], "haproxy1", &[], None);
        // 25,000 × 3 → 75,000: 151,000 passes the 65,535 default but not fs.nr_open.
        check(
            &[users, ("users.peak-concurrent", "25000")],
            "haproxy1",
            &[],
            Some("151000"),
        );
        // 175,000 × 3 → 525,000: 1,051,000 passes fs.nr_open's 1,048,576 and half of
        // fs.file-max's 2,097,152.
        check(
            &[users, ("users.peak-concurrent", "175000")],
            "haproxy2",
            &[("fs.nr_open", "1051000"), ("fs.file-max", "2102000")],
            Some("1051000"),
        );
        // Past the kernel's ceiling: held at it (the report has the error).
        check(
            &[
                users,
                ("users.peak-concurrent", "100000000"),
                ("assumptions.haproxy-connections-per-user", "11"),
            ],
            "haproxy1",
            &[("fs.nr_open", "2147483584"), ("fs.file-max", "4400002000")],
            Some("2147483584"),
        );
        // PostgreSQL's backends × max_files_per_process on the Patroni hosts.
        check(
            &[("postgres.max-connections", "10000")],
            "patroni3",
            &[("fs.file-max", "20080000")],
            None,
        );
        // LiveKit: 10,000 rooms × 100 on 2 nodes = 500,000 participants a node: the
        // range's 101 UDP ports + 500,000 signalling connections + 1,000 = 501,101, under
        // fs.nr_open and half of fs.file-max (its container gets it with --ulimit).
        check(
            &[
                ("calls.group-rooms", "10000"),
                ("calls.participants-per-room", "100"),
            ],
            "livekit1",
            &[],
            None,
        );
    }

    #[test]
    fn numbers_past_tool_limits_livekit_container_gets_its_need() {
        let p = Plan::default()
            .with_texts(&[
                ("calls.group-rooms", "10000"),
                ("calls.participants-per-room", "100"),
            ])
            .expect("valid");
        let files = with_ctx(&p, super::super::calls::files);
        let unit = contents(&files, "hosts/livekit1/etc/systemd/system/livekit.service");
        assert!(unit.contains("--ulimit nofile=501101:501101 "), "{unit}");
    }
}

//! `post-deploy-check.sh`: after deploying, from the control machine, every public
//! endpoint, worker, database member, MinIO node, call server, the VIP, the clocks and
//! Prometheus's targets; one function per group of checks, in the script's order.

use super::{POST_DEPLOY_CHECK, ip_array, ip_word, summary};
use crate::bundle::{Comment, Ctx, File, Scope};
use crate::deploy::{ports, workers};
use crate::plan::Role;
use crate::syntax::shell;

/// The script: its variables and helpers, then each group of checks, then the verdict.
pub(super) fn post_deploy(ctx: &Ctx) -> File {
    let mut body = preamble(ctx);
    body.push_str(&through_the_vip());
    body.push_str(SYNAPSE_WORKERS);
    body.push_str(&patroni_and_etcd());
    body.push_str(&minio());
    body.push_str(&calls());
    body.push_str(KEEPALIVED);
    body.push_str(TIME);
    body.push_str(&prometheus_targets());
    body.push_str(&summary("post-deploy"));
    File::new(
        POST_DEPLOY_CHECK,
        Scope::Control,
        "After deploying: public endpoints through the VIP, every worker's health, Patroni, etcd, PgBouncer, MinIO, calls, VIP, time, Prometheus targets.",
        body,
    )
    .script()
}

/// The script's start: how to run it, the plan's addresses and workers as variables,
/// and the helpers every check uses.
fn preamble(ctx: &Ctx) -> String {
    let t = &ctx.topology;
    let worker_ports: Vec<String> = workers::workers(ctx.plan)
        .iter()
        .filter(|w| w.webserving)
        .filter_map(|w| {
            w.port
                .map(|p| format!("  {}", shell::quote(&format!("{}:{p}", w.name))))
        })
        .collect();
    let all_ips: Vec<String> = t
        .hosts
        .iter()
        .map(|h| shell::quote(&h.ip.to_string()))
        .collect();
    format!(
        r##"#!/usr/bin/env bash
{header}#
# After deploying: run on the control machine (needs curl, jq, and root SSH to the hosts).
#   ./{POST_DEPLOY_CHECK}
# Checks the public endpoints through the VIP, every Synapse worker's health, the
# Patroni cluster, etcd, PgBouncer, MinIO, coturn, LiveKit, keepalived, chrony and that
# Prometheus scrapes every target this plan has. Exits 1 if anything fails.
set -uo pipefail

{server}
{vip}
synapse_ip={synapse_ip}
patroni_ips={patroni}
minio_ips={minio}
haproxy_ips={haproxy}
coturn_ips={coturn}
livekit_ips={livekit}
monitoring_ip={monitoring}
all_ips=({all})
# Webserving Synapse workers: container name and HTTP port (published on $synapse_ip).
workers=(
{workers}
)
expected_targets={expected_targets}
ssh_opts=(-o BatchMode=yes -o ConnectTimeout=5)
failures=0
ok() {{ printf '  ok    %s\n' "$*"; }}
bad() {{ printf '  FAIL  %s\n' "$*"; failures=$((failures + 1)); }}
# Opens a TCP connection to $1 port $2 (bash's /dev/tcp), within 3 s.
tcp_open() {{ timeout 3 bash -c 'exec 3<> "/dev/tcp/$0/$1"' "$1" "$2" 2> /dev/null; }}
# The same from host $1 over ssh, to $2 port $3: for ports the host firewalls admit from
# other hosts only (this machine is one of the admin networks, network.admin-networks).
tcp_open_on() {{ ssh "${{ssh_opts[@]}}" "root@$1" "timeout 3 bash -c 'exec 3<> \"/dev/tcp/\$0/\$1\"' $(printf %q "$2") $(printf %q "$3")" 2> /dev/null; }}
for tool in curl jq ssh; do
  command -v "$tool" > /dev/null || {{ echo "needs $tool"; exit 2; }}
done
# Resolve the server name to the VIP for these checks, whatever DNS says.
resolve=(--resolve "$server:443:$vip" --resolve "$server:{federation}:$vip")
"##,
        header = ctx.header(Comment::Hash),
        server = shell::assign("server", &t.server_name),
        vip = shell::assign("vip", &t.vip.to_string()),
        synapse_ip = ip_word(t.first(Role::Synapse).map(|h| h.ip)),
        patroni = ip_array(ctx, Role::Patroni),
        minio = ip_array(ctx, Role::Minio),
        haproxy = ip_array(ctx, Role::Haproxy),
        coturn = ip_array(ctx, Role::Coturn),
        livekit = ip_array(ctx, Role::Livekit),
        monitoring = ip_word(t.first(Role::Monitoring).map(|h| h.ip)),
        all = all_ips.join(" "),
        workers = worker_ports.join("\n"),
        expected_targets = expected_scrape_targets(ctx),
        federation = ports::FEDERATION,
    )
}

/// The public endpoints through the VIP: client and federation APIs, Element Web, the HTTP
/// redirect.
fn through_the_vip() -> String {
    format!(
        r##"
echo "== through the VIP ($vip)"
if curl -fsS "${{resolve[@]}}" "https://$server/_matrix/client/versions" | jq -e '.versions | length > 0' > /dev/null; then ok "client API"; else bad "https://$server/_matrix/client/versions"; fi
if curl -fsS "${{resolve[@]}}" "https://$server:{federation}/_matrix/federation/v1/version" | jq -e '.server.name' > /dev/null; then ok "federation API on {federation}"; else bad "federation API on {federation}"; fi
# Element Web is served under /element; / redirects there.
code=$(curl -s -o /dev/null -w '%{{http_code}}' -L "${{resolve[@]}}" "https://$server/")
if [ "$code" = 200 ]; then ok "Element Web"; else bad "https://$server/ (following redirects) answered $code"; fi
code=$(curl -s -o /dev/null -w '%{{http_code}}' "http://$vip/")
if [ "$code" = 301 ] || [ "$code" = 302 ]; then ok "HTTP redirects to HTTPS"; else bad "http://$vip/ answered $code"; fi
"##,
        federation = ports::FEDERATION,
    )
}

/// Every webserving Synapse worker's /health, asked on the Synapse host itself: the host
/// firewall admits worker ports from the HAProxy nodes only (and the host's own address).
const SYNAPSE_WORKERS: &str = r##"
echo "== Synapse workers on $synapse_ip (asked there: the firewall admits HAProxy only)"
for w in "${workers[@]}"; do
  IFS=: read -r name port <<< "$w"
  if ssh "${ssh_opts[@]}" "root@$synapse_ip" "curl -fsS --max-time 5 $(printf %q "http://$synapse_ip:$port/health")" 2> /dev/null | grep -q OK; then ok "$name"; else bad "$name /health on :$port"; fi
done
"##;

/// Patroni (one leader, every member running), etcd on each node, the REST API kept off the
/// VIP, the primary's port on the VIP, PgBouncer.
fn patroni_and_etcd() -> String {
    format!(
        r##"
echo "== Patroni and etcd"
cluster=$(curl -fsS --max-time 5 "http://${{patroni_ips[0]}}:{patroni_rest}/cluster" || true)
leaders=$(jq '[.members[] | select(.role == "leader")] | length' <<< "$cluster" 2>/dev/null || echo 0)
running=$(jq '[.members[] | select(.state == "running" or .state == "streaming")] | length' <<< "$cluster" 2>/dev/null || echo 0)
if [ "$leaders" = 1 ]; then ok "one leader"; else bad "$leaders Patroni leaders"; fi
if [ "$running" = "${{#patroni_ips[@]}}" ]; then ok "$running of ${{#patroni_ips[@]}} members running"; else bad "$running of ${{#patroni_ips[@]}} Patroni members running"; fi
for ip in "${{patroni_ips[@]}}"; do
  if ssh "${{ssh_opts[@]}}" "root@$ip" "ETCDCTL_API=3 etcdctl --endpoints=$(printf %q "http://$ip:{etcd}") endpoint health" > /dev/null 2>&1; then ok "etcd on $ip"; else bad "etcd on $ip"; fi
done
if curl -fsS --max-time 5 -o /dev/null "http://$vip:{patroni_rest}/" 2>/dev/null; then bad "Patroni's REST API answers on the VIP: it should not be published there"; fi
if tcp_open "$vip" {pg_primary}; then ok "PostgreSQL primary port on the VIP"; else bad "nothing on $vip:{pg_primary}"; fi
# PgBouncer admits the Synapse host's containers only: asked on that host.
if tcp_open_on "$synapse_ip" "$synapse_ip" {pgbouncer}; then ok "PgBouncer on $synapse_ip:{pgbouncer}"; else bad "PgBouncer on $synapse_ip:{pgbouncer}"; fi
"##,
        patroni_rest = ports::PATRONI_REST,
        etcd = ports::ETCD_CLIENT,
        pg_primary = ports::PG_PRIMARY,
        pgbouncer = ports::PGBOUNCER,
    )
}

/// Every MinIO node live, and write quorum through the VIP.
fn minio() -> String {
    format!(
        r##"
echo "== MinIO"
for ip in "${{minio_ips[@]}}"; do
  if curl -fsS --max-time 5 -o /dev/null "http://$ip:{minio_port}/minio/health/live"; then ok "minio $ip live"; else bad "minio $ip"; fi
done
if curl -fsS --max-time 5 -o /dev/null "http://$vip:{minio_port}/minio/health/cluster"; then ok "MinIO cluster has write quorum (through the VIP)"; else bad "MinIO cluster health through the VIP"; fi
"##,
        minio_port = ports::MINIO_API,
    )
}

/// coturn's TURN port and LiveKit's HTTP answer on each node.
fn calls() -> String {
    format!(
        r##"
echo "== calls"
for ip in "${{coturn_ips[@]}}"; do
  if tcp_open "$ip" {turn}; then ok "coturn $ip:{turn}"; else bad "coturn $ip:{turn}"; fi
done
for ip in "${{livekit_ips[@]}}"; do
  if curl -fsS --max-time 5 "http://$ip:{livekit_port}/" | grep -q OK; then ok "LiveKit $ip"; else bad "LiveKit $ip:{livekit_port}"; fi
done
"##,
        turn = ports::TURN,
        livekit_port = ports::LIVEKIT_HTTP,
    )
}

/// The VIP held by exactly one HAProxy node.
const KEEPALIVED: &str = r##"
echo "== keepalived: the VIP is on exactly one HAProxy node"
holders=0
for ip in "${haproxy_ips[@]}"; do
  if ssh "${ssh_opts[@]}" "root@$ip" "ip -o addr show to $(printf %q "$vip")" | grep -q .; then holders=$((holders + 1)); fi
done
if [ "$holders" = 1 ]; then ok "VIP held once"; else bad "VIP held by $holders nodes"; fi
"##;

/// chrony's offset on every host.
const TIME: &str = r##"
echo "== time"
for ip in "${all_ips[@]}"; do
  offset=$(ssh "${ssh_opts[@]}" "root@$ip" "chronyc -c tracking | cut -d, -f5" 2>/dev/null || echo 1)
  if awk -v o="$offset" 'BEGIN { exit !(o < 0.1 && o > -0.1) }'; then ok "$ip offset ${offset} s"; else bad "$ip clock offset ${offset} s (limit 0.1 s)"; fi
done
"##;

/// Prometheus scrapes at least the targets this plan has, all up.
fn prometheus_targets() -> String {
    format!(
        r##"
echo "== Prometheus targets"
targets=$(curl -fsS --max-time 5 "http://$monitoring_ip:{prometheus}/api/v1/targets?state=active" || echo '{{}}')
up=$(jq '[.data.activeTargets[]? | select(.health == "up")] | length' <<< "$targets")
total=$(jq '[.data.activeTargets[]?] | length' <<< "$targets")
if [ "$total" -ge "$expected_targets" ] && [ "$up" = "$total" ]; then ok "$up of $total targets up"; else bad "$up of $total targets up ($expected_targets expected)"; jq -r '.data.activeTargets[]? | select(.health != "up") | "        down: \(.labels.job) \(.labels.instance)"' <<< "$targets"; fi
"##,
        prometheus = ports::PROMETHEUS,
    )
}

/// The least number of scrape targets Prometheus must have up: every Synapse process
/// and a node_exporter per host.
pub(in crate::bundle) fn expected_scrape_targets(ctx: &Ctx) -> usize {
    ctx.plan.synapse_process_count() as usize + ctx.topology.hosts.len()
}

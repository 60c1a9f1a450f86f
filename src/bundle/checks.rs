//! Scripts run from the control machine: checks before and after deploying (seed §8,
//! covering every host of the plan), and the certificate scripts (seed §6: Let's
//! Encrypt while the cluster is online, an internal CA after).

use super::{Comment, Ctx, File, Scope, ports, workers};
use crate::plan::Role;
use crate::syntax::{dn, shell};

pub fn files(ctx: &Ctx) -> Vec<File> {
    vec![
        pre_deploy(ctx),
        post_deploy(ctx),
        letsencrypt(ctx),
        internal_ca(ctx),
        distribute_certs(ctx),
    ]
}

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

/// The addresses of a role's hosts as the words of a bash array: `('10.0.1.21' '10.0.1.22')`.
fn ip_array(ctx: &Ctx, role: Role) -> String {
    let words: Vec<String> = ctx
        .topology
        .role(role)
        .map(|h| shell::quote(&h.ip.to_string()))
        .collect();
    format!("({})", words.join(" "))
}

/// An IP address as a quoted shell word ('' when there is none).
fn ip_word(ip: Option<std::net::Ipv4Addr>) -> String {
    shell::quote(&ip.map(|i| i.to_string()).unwrap_or_default())
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

fn pre_deploy(ctx: &Ctx) -> File {
    let mut port_cases = String::new();
    for role in Role::ALL {
        let ports: Vec<String> = role_ports(role).iter().map(|p| p.to_string()).collect();
        port_cases.push_str(&format!(
            "    {}) ports=\"{}\" ;;\n",
            role.key(),
            ports.join(" ")
        ));
    }
    let body = format!(
        r##"#!/usr/bin/env bash
{header}#
# Before deploying: run on the control machine, with root SSH access to every host.
#   ./scripts/pre-deploy-check.sh
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

if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all pre-deploy checks passed"
"##,
        header = ctx.header(Comment::Hash),
        hosts = host_list(ctx),
        vip = shell::assign("vip", &ctx.topology.vip.to_string()),
        suffix = shell::assign("suffix", &ctx.topology.suffix),
    );
    File::new(
        "scripts/pre-deploy-check.sh",
        Scope::Control,
        "Before deploying: every host reachable, Debian 12, planned RAM/vCPUs, disk, clock, names, free ports; VIP unused.",
        body,
    )
    .script()
}

fn post_deploy(ctx: &Ctx) -> File {
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
    let expected_targets = expected_scrape_targets(ctx);
    let body = format!(
        r##"#!/usr/bin/env bash
{header}#
# After deploying: run on the control machine (needs curl, jq, and root SSH to the hosts).
#   ./scripts/post-deploy-check.sh
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
for tool in curl jq ssh; do
  command -v "$tool" > /dev/null || {{ echo "needs $tool"; exit 2; }}
done
# Resolve the server name to the VIP for these checks, whatever DNS says.
resolve=(--resolve "$server:443:$vip" --resolve "$server:{federation}:$vip")

echo "== through the VIP ($vip)"
if curl -fsS "${{resolve[@]}}" "https://$server/_matrix/client/versions" | jq -e '.versions | length > 0' > /dev/null; then ok "client API"; else bad "https://$server/_matrix/client/versions"; fi
if curl -fsS "${{resolve[@]}}" "https://$server:{federation}/_matrix/federation/v1/version" | jq -e '.server.name' > /dev/null; then ok "federation API on {federation}"; else bad "federation API on {federation}"; fi
# Element Web is served under /element; / redirects there.
code=$(curl -s -o /dev/null -w '%{{http_code}}' -L "${{resolve[@]}}" "https://$server/")
if [ "$code" = 200 ]; then ok "Element Web"; else bad "https://$server/ (following redirects) answered $code"; fi
code=$(curl -s -o /dev/null -w '%{{http_code}}' "http://$vip/")
if [ "$code" = 301 ] || [ "$code" = 302 ]; then ok "HTTP redirects to HTTPS"; else bad "http://$vip/ answered $code"; fi

echo "== Synapse workers on $synapse_ip"
for w in "${{workers[@]}}"; do
  IFS=: read -r name port <<< "$w"
  if curl -fsS --max-time 5 "http://$synapse_ip:$port/health" | grep -q OK; then ok "$name"; else bad "$name /health on :$port"; fi
done

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
if tcp_open "$synapse_ip" {pgbouncer}; then ok "PgBouncer on $synapse_ip:{pgbouncer}"; else bad "PgBouncer on $synapse_ip:{pgbouncer}"; fi

echo "== MinIO"
for ip in "${{minio_ips[@]}}"; do
  if curl -fsS --max-time 5 -o /dev/null "http://$ip:{minio_port}/minio/health/live"; then ok "minio $ip live"; else bad "minio $ip"; fi
done
if curl -fsS --max-time 5 -o /dev/null "http://$vip:{minio_port}/minio/health/cluster"; then ok "MinIO cluster has write quorum (through the VIP)"; else bad "MinIO cluster health through the VIP"; fi

echo "== calls"
for ip in "${{coturn_ips[@]}}"; do
  if tcp_open "$ip" {turn}; then ok "coturn $ip:{turn}"; else bad "coturn $ip:{turn}"; fi
done
for ip in "${{livekit_ips[@]}}"; do
  if curl -fsS --max-time 5 "http://$ip:{livekit_port}/" | grep -q OK; then ok "LiveKit $ip"; else bad "LiveKit $ip:{livekit_port}"; fi
done

echo "== keepalived: the VIP is on exactly one HAProxy node"
holders=0
for ip in "${{haproxy_ips[@]}}"; do
  if ssh "${{ssh_opts[@]}}" "root@$ip" "ip -o addr show to $(printf %q "$vip")" | grep -q .; then holders=$((holders + 1)); fi
done
if [ "$holders" = 1 ]; then ok "VIP held once"; else bad "VIP held by $holders nodes"; fi

echo "== time"
for ip in "${{all_ips[@]}}"; do
  offset=$(ssh "${{ssh_opts[@]}}" "root@$ip" "chronyc -c tracking | cut -d, -f5" 2>/dev/null || echo 1)
  if awk -v o="$offset" 'BEGIN {{ exit !(o < 0.1 && o > -0.1) }}'; then ok "$ip offset ${{offset}} s"; else bad "$ip clock offset ${{offset}} s (limit 0.1 s)"; fi
done

echo "== Prometheus targets"
targets=$(curl -fsS --max-time 5 "http://$monitoring_ip:{prometheus}/api/v1/targets?state=active" || echo '{{}}')
up=$(jq '[.data.activeTargets[]? | select(.health == "up")] | length' <<< "$targets")
total=$(jq '[.data.activeTargets[]?] | length' <<< "$targets")
if [ "$total" -ge "$expected_targets" ] && [ "$up" = "$total" ]; then ok "$up of $total targets up"; else bad "$up of $total targets up ($expected_targets expected)"; jq -r '.data.activeTargets[]? | select(.health != "up") | "        down: \(.labels.job) \(.labels.instance)"' <<< "$targets"; fi

if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all post-deploy checks passed"
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
        expected_targets = expected_targets,
        federation = ports::FEDERATION,
        patroni_rest = ports::PATRONI_REST,
        etcd = ports::ETCD_CLIENT,
        pg_primary = ports::PG_PRIMARY,
        pgbouncer = ports::PGBOUNCER,
        minio_port = ports::MINIO_API,
        turn = ports::TURN,
        livekit_port = ports::LIVEKIT_HTTP,
        prometheus = ports::PROMETHEUS,
    );
    File::new(
        "scripts/post-deploy-check.sh",
        Scope::Control,
        "After deploying: public endpoints through the VIP, every worker's health, Patroni, etcd, PgBouncer, MinIO, calls, VIP, time, Prometheus targets.",
        body,
    )
    .script()
}

/// The least number of scrape targets Prometheus must have up: every Synapse process
/// and a node_exporter per host.
fn expected_scrape_targets(ctx: &Ctx) -> usize {
    ctx.plan.synapse_process_count() as usize + ctx.topology.hosts.len()
}

fn letsencrypt(ctx: &Ctx) -> File {
    let t = &ctx.topology;
    let haproxy: Vec<String> = t.role(Role::Haproxy).map(|h| h.ip.to_string()).collect();
    let body = format!(
        r##"#!/usr/bin/env bash
{header}#
{about}#   ./scripts/certs/letsencrypt.sh
# HAProxy needs a certificate to start at all: before the first run, install a
# temporary one from scripts/certs/internal-ca.sh. Renewals run the same script (certbot
# renews when due); once the cluster is offline, switch to the internal CA.
set -euo pipefail

{server}
{email}
{haproxy}
pem="/etc/haproxy/certs/$server.pem"

command -v certbot > /dev/null || apt-get install -y -q certbot
certbot certonly --standalone --non-interactive --agree-tos --email "$email" \
  --preferred-challenges http --http-01-address 127.0.0.1 --http-01-port {acme} \
  --keep-until-expiring -d "$server"

live="/etc/letsencrypt/live/$server"
install -d -m 700 /etc/haproxy/certs
umask 077
cat "$live/fullchain.pem" "$live/privkey.pem" > "$pem.new"
mv "$pem.new" "$pem"
install -d -m 755 "/etc/ssl/synapse-planner/$server"
install -m 644 "$live/fullchain.pem" "/etc/ssl/synapse-planner/$server/fullchain.pem"
install -m 600 "$live/privkey.pem" "/etc/ssl/synapse-planner/$server/privkey.pem"
systemctl reload haproxy
echo "installed $pem; now run scripts/certs/distribute.sh to copy it to the other nodes"
echo "HAProxy nodes: $haproxy_nodes"
"##,
        header = ctx.header(Comment::Hash),
        about = Comment::Hash.lines(&format!(
            "While the cluster still has internet access: a Let's Encrypt certificate for\n\
             {server}, obtained on this HAProxy node with certbot's standalone server on\n\
             127.0.0.1:{acme} (HAProxy passes /.well-known/acme-challenge/ to it), then installed\n\
             for HAProxy and copied to every node that terminates TLS (scripts/certs/distribute.sh).\n\
             Run as root on {first}:",
            server = t.server_name,
            acme = ports::ACME_HTTP01,
            first = t
                .first(Role::Haproxy)
                .map(|h| h.fqdn.as_str())
                .unwrap_or_default(),
        )),
        server = shell::assign("server", &t.server_name),
        email = shell::assign("email", &ctx.plan.ops.email),
        haproxy = shell::assign("haproxy_nodes", &haproxy.join(" ")),
        acme = ports::ACME_HTTP01,
    );
    File::new(
        "scripts/certs/letsencrypt.sh",
        Scope::Control,
        "While online: Let's Encrypt certificate on the first HAProxy node (certbot standalone behind HAProxy).",
        body,
    )
    .script()
}

fn internal_ca(ctx: &Ctx) -> File {
    let t = &ctx.topology;
    let body = format!(
        r##"#!/usr/bin/env bash
{header}#
{about}#   ./scripts/certs/internal-ca.sh            # create the CA once, issue the certificate
#   ./scripts/certs/internal-ca.sh renew      # issue a new server certificate
# Clients must trust ca/ca.crt (install it in browsers, OS stores and mobile devices).
set -euo pipefail

{server}
{vip}
# Certificate subjects (openssl req -subj, read as UTF-8 with -utf8): the plan's name is
# the CA's organisation, escaped and cut to X.509's 64 characters (RFC 5280,
# ub-organization-name, ub-common-name); the server name is also in subjectAltName.
{ca_subject}
{server_subject}
# The TURN and LiveKit hosts' names (they terminate TLS under them).
{extra_sans}
dir="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)/ca"
mkdir -p "$dir"
chmod 700 "$dir"
cd "$dir"

if [ ! -f ca.key ]; then
  # 10 years: the CA outlives many server certificates; guard ca.key accordingly.
  openssl req -x509 -new -newkey rsa:4096 -nodes -keyout ca.key -out ca.crt -days 3650 \
    -utf8 -subj "$ca_subject" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
fi

# 397 days: the longest validity browsers accept for a server certificate.
openssl req -new -newkey rsa:2048 -nodes -keyout server.key -out server.csr -utf8 -subj "$server_subject"
cat > server.ext <<EOF
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:$server,IP:$vip$extra_sans
EOF
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 397 -extfile server.ext
cat server.crt ca.crt > fullchain.pem
cp server.key privkey.pem
chmod 600 privkey.pem server.key
echo "issued $dir/fullchain.pem (expires $(openssl x509 -enddate -noout -in server.crt | cut -d= -f2))"
echo "next: scripts/certs/distribute.sh $dir"
"##,
        header = ctx.header(Comment::Hash),
        about = Comment::Hash.lines(&format!(
            "After the cluster is cut off from the internet (or before the first Let's Encrypt\n\
             run): an internal certificate authority and a server certificate for {}.\n\
             Run on the control machine; keep ca/ private. Then scripts/certs/distribute.sh.",
            t.server_name
        )),
        server = shell::assign("server", &t.server_name),
        vip = shell::assign("vip", &t.vip.to_string()),
        ca_subject = shell::assign(
            "ca_subject",
            &format!(
                "/O={}/CN=Matrix internal CA",
                dn::value(&ctx.plan.name, dn::UB_NAME)
            ),
        ),
        server_subject = shell::assign(
            "server_subject",
            &format!("/CN={}", dn::value(&t.server_name, dn::UB_NAME)),
        ),
        extra_sans = shell::assign("extra_sans", &tls_hosts_sans(ctx)),
    );
    File::new(
        "scripts/certs/internal-ca.sh",
        Scope::Control,
        "Offline: an internal CA and a server certificate (397 days) for the server name.",
        body,
    )
    .script()
}

/// The TURN and LiveKit hosts terminate TLS under their own names (turns:, wss to a
/// node): the internal CA's certificate names them too. A public CA cannot certify
/// internal names, which is why the Let's Encrypt certificate covers the server name only.
fn tls_hosts_sans(ctx: &Ctx) -> String {
    ctx.topology
        .role(Role::Coturn)
        .chain(ctx.topology.role(Role::Livekit))
        .map(|h| format!(",DNS:{}", h.fqdn))
        .collect()
}

fn distribute_certs(ctx: &Ctx) -> File {
    let t = &ctx.topology;
    let others: Vec<String> = t
        .role(Role::Coturn)
        .chain(t.role(Role::Livekit))
        .map(|h| shell::quote(&h.ip.to_string()))
        .collect();
    let body = format!(
        r##"#!/usr/bin/env bash
{header}#
# Copies a certificate (fullchain.pem + privkey.pem in DIR) to every node that
# terminates TLS: HAProxy (one PEM with chain and key), coturn and LiveKit (separate
# files), and reloads them. Run on the control machine with root SSH to the hosts.
#   ./scripts/certs/distribute.sh DIR
{about}set -euo pipefail

dir="${{1:?usage: $0 DIR with fullchain.pem and privkey.pem}}"
{server}
haproxy={haproxy}
others=({others})
ssh_opts=(-o BatchMode=yes -o ConnectTimeout=5)
# Paths on the hosts, quoted again for the remote shell that runs ssh's command line.
pem_q="$(printf %q "/etc/haproxy/certs/$server.pem")"
certs_q="$(printf %q "/etc/ssl/synapse-planner/$server")"
tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT
cat "$dir/fullchain.pem" "$dir/privkey.pem" > "$tmp"

for ip in "${{haproxy[@]}}"; do
  ssh "${{ssh_opts[@]}}" "root@$ip" "install -d -m 700 /etc/haproxy/certs"
  ssh "${{ssh_opts[@]}}" "root@$ip" "umask 077 && cat > $pem_q" < "$tmp"
  ssh "${{ssh_opts[@]}}" "root@$ip" "chmod 600 $pem_q && haproxy -c -q -f /etc/haproxy/haproxy.cfg && systemctl reload-or-restart haproxy"
  echo "haproxy $ip: installed and reloaded"
done
for ip in "${{others[@]}}"; do
  ssh "${{ssh_opts[@]}}" "root@$ip" "install -d -m 755 $certs_q"
  ssh "${{ssh_opts[@]}}" "root@$ip" "umask 022 && cat > $certs_q/fullchain.pem" < "$dir/fullchain.pem"
  ssh "${{ssh_opts[@]}}" "root@$ip" "umask 077 && cat > $certs_q/privkey.pem" < "$dir/privkey.pem"
  # coturn reads the key as its own user (turnserver): group-readable for that group.
  ssh "${{ssh_opts[@]}}" "root@$ip" "key=$certs_q/privkey.pem; if getent group turnserver > /dev/null; then chgrp turnserver \"\$key\" && chmod 640 \"\$key\"; else chmod 600 \"\$key\"; fi; systemctl try-reload-or-restart coturn livekit 2>/dev/null || true"
  echo "$ip: installed"
done
"##,
        header = ctx.header(Comment::Hash),
        about = Comment::Hash.lines(&format!(
            "DIR: scripts/certs/ca (internal CA) or a copy of /etc/letsencrypt/live/{}.",
            t.server_name
        )),
        server = shell::assign("server", &t.server_name),
        haproxy = ip_array(ctx, Role::Haproxy),
        others = others.join(" "),
    );
    File::new(
        "scripts/certs/distribute.sh",
        Scope::Control,
        "Copies a certificate to every HAProxy, coturn and LiveKit node and reloads them.",
        body,
    )
    .script()
}

//! The certificate scripts (seed §6): a Let's Encrypt certificate while the cluster is
//! online, an internal CA once it is offline (or before the first Let's Encrypt run),
//! and the copy of either to every node that terminates TLS.

use super::ip_array;
use crate::bundle::edge::HAPROXY_CFG;
use crate::bundle::{Comment, Ctx, File, Scope};
use crate::deploy::ports;
use crate::plan::Role;
use crate::syntax::{dn, shell};

/// Let's Encrypt, on the HAProxy node holding the VIP.
pub(in crate::bundle) const LETSENCRYPT: &str = "scripts/certs/letsencrypt.sh";
/// The internal CA, on the control machine.
pub(in crate::bundle) const INTERNAL_CA: &str = "scripts/certs/internal-ca.sh";
/// The copy of a certificate to every node that terminates TLS.
pub(in crate::bundle) const DISTRIBUTE: &str = "scripts/certs/distribute.sh";
/// Where the internal CA script keeps the CA and the certificates it issues (`ca/` next
/// to the script).
pub(in crate::bundle) const CA_DIR: &str = "scripts/certs/ca";
/// Where HAProxy reads its certificate (`<server name>.pem`: chain and key in one file).
pub(in crate::bundle) const HAPROXY_CERT_DIR: &str = "/etc/haproxy/certs";
/// Where coturn and LiveKit read theirs (`<server name>/fullchain.pem` and `privkey.pem`).
pub(in crate::bundle) const TLS_DIR: &str = "/etc/ssl/synapse-planner";

/// letsencrypt.sh: certbot behind HAProxy on the HAProxy node holding the VIP (it checks).
pub(super) fn letsencrypt(ctx: &Ctx) -> File {
    let t = &ctx.topology;
    let haproxy: Vec<String> = t.role(Role::Haproxy).map(|h| h.ip.to_string()).collect();
    let body = format!(
        r##"#!/usr/bin/env bash
{header}#
{about}#   ./{LETSENCRYPT}
# HAProxy needs a certificate to start at all: before the first run, install a
# temporary one from {INTERNAL_CA}. Renewals run the same script (certbot
# renews when due); once the cluster is offline, switch to the internal CA.
set -euo pipefail

{server}
{email}
{haproxy}
{vip}
pem="{HAPROXY_CERT_DIR}/$server.pem"

# Let's Encrypt reaches the VIP, and HAProxy there passes the challenge to its own
# node's 127.0.0.1:{acme}: certbot must run on the node that holds the VIP.
if ! ip -o -4 addr show | grep -qF " $vip/"; then
  echo "this node does not hold the VIP $vip: run {LETSENCRYPT} on the one that does" >&2
  exit 1
fi

command -v certbot > /dev/null || apt-get install -y -q certbot
certbot certonly --standalone --non-interactive --agree-tos --email "$email" \
  --preferred-challenges http --http-01-address 127.0.0.1 --http-01-port {acme} \
  --keep-until-expiring -d "$server"

live="/etc/letsencrypt/live/$server"
install -d -m 700 {HAPROXY_CERT_DIR}
umask 077
cat "$live/fullchain.pem" "$live/privkey.pem" > "$pem.new"
mv "$pem.new" "$pem"
install -d -m 755 "{TLS_DIR}/$server"
install -m 644 "$live/fullchain.pem" "{TLS_DIR}/$server/fullchain.pem"
install -m 600 "$live/privkey.pem" "{TLS_DIR}/$server/privkey.pem"
systemctl reload haproxy
echo "installed $pem; now run {DISTRIBUTE} to copy it to the other nodes"
echo "HAProxy nodes: $haproxy_nodes"
"##,
        header = ctx.header(Comment::Hash),
        about = Comment::Hash.lines(&format!(
            "While the cluster still has internet access: a Let's Encrypt certificate for\n\
             {server}, obtained on this HAProxy node with certbot's standalone server on\n\
             127.0.0.1:{acme} (HAProxy passes /.well-known/acme-challenge/ to it), then installed\n\
             for HAProxy and copied to every node that terminates TLS ({DISTRIBUTE}).\n\
             Run as root on the HAProxy node holding the VIP (normally {first}):",
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
        vip = shell::assign("vip", &t.vip.to_string()),
        acme = ports::ACME_HTTP01,
    );
    File::new(
        LETSENCRYPT,
        Scope::Control,
        "While online: Let's Encrypt certificate on the HAProxy node holding the VIP (certbot standalone behind HAProxy).",
        body,
    )
    .script()
}

/// internal-ca.sh: the internal CA and a server certificate, on the control machine.
pub(super) fn internal_ca(ctx: &Ctx) -> File {
    let t = &ctx.topology;
    let body = format!(
        r##"#!/usr/bin/env bash
{header}#
{about}#   ./{INTERNAL_CA}            # create the CA once, issue the certificate
#   ./{INTERNAL_CA} renew      # issue a new server certificate
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
echo "next: {DISTRIBUTE} $dir"
"##,
        header = ctx.header(Comment::Hash),
        about = Comment::Hash.lines(&format!(
            "After the cluster is cut off from the internet (or before the first Let's Encrypt\n\
             run): an internal certificate authority and a server certificate for {}.\n\
             Run on the control machine; keep ca/ private. Then {DISTRIBUTE}.",
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
        INTERNAL_CA,
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

/// distribute.sh: copies a certificate to every node that terminates TLS.
pub(super) fn distribute_certs(ctx: &Ctx) -> File {
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
#   ./{DISTRIBUTE} DIR
{about}set -euo pipefail

dir="${{1:?usage: $0 DIR with fullchain.pem and privkey.pem}}"
{server}
haproxy={haproxy}
others=({others})
ssh_opts=(-o BatchMode=yes -o ConnectTimeout=5)
# Paths on the hosts, quoted again for the remote shell that runs ssh's command line.
pem_q="$(printf %q "{HAPROXY_CERT_DIR}/$server.pem")"
certs_q="$(printf %q "{TLS_DIR}/$server")"
tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT
cat "$dir/fullchain.pem" "$dir/privkey.pem" > "$tmp"

for ip in "${{haproxy[@]}}"; do
  ssh "${{ssh_opts[@]}}" "root@$ip" "install -d -m 700 {HAPROXY_CERT_DIR}"
  ssh "${{ssh_opts[@]}}" "root@$ip" "umask 077 && cat > $pem_q" < "$tmp"
  ssh "${{ssh_opts[@]}}" "root@$ip" "chmod 600 $pem_q && haproxy -c -q -f {HAPROXY_CFG} && systemctl reload-or-restart haproxy"
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
            "DIR: {CA_DIR} (internal CA) or a copy of /etc/letsencrypt/live/{}.",
            t.server_name
        )),
        server = shell::assign("server", &t.server_name),
        haproxy = ip_array(ctx, Role::Haproxy),
        others = others.join(" "),
    );
    File::new(
        DISTRIBUTE,
        Scope::Control,
        "Copies a certificate to every HAProxy, coturn and LiveKit node and reloads them.",
        body,
    )
    .script()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// internal-ca.sh keeps its CA in `ca/` next to itself: the directory the README and
    /// distribute.sh name.
    #[test]
    fn the_ca_directory_is_next_to_the_script() {
        let (dir, _) = INTERNAL_CA.rsplit_once('/').expect("a directory");
        assert_eq!(CA_DIR, format!("{dir}/ca"));
    }
}

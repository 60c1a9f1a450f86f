//! etcd on each Patroni host: one member of Patroni's DCS, configured through the
//! environment file Debian's etcd.service reads.

use crate::bundle::{Comment, Ctx, File, Scope};
use crate::deploy::{Host, ports};
use crate::plan::Role;
use crate::syntax::conf::Format;

/// The environment file of etcd.service (its `EnvironmentFile=-`).
pub(super) const ETCD_ENV: &str = "/etc/default/etcd";
/// etcd's data directory (Debian's default).
pub(in crate::bundle) const ETCD_DATA_DIR: &str = "/var/lib/etcd/default";

/// The etcd member environment of Patroni host `h`.
pub(super) fn etcd_env(ctx: &Ctx, h: &Host) -> File {
    let env = |s: &str| Format::EnvFile.value(s);
    let cluster: Vec<String> = ctx
        .hosts(Role::Patroni)
        .map(|p| format!("{}=http://{}:{}", p.name, p.ip, ports::ETCD_PEER))
        .collect();
    let peer_url = format!("http://{}:{}", h.ip, ports::ETCD_PEER);
    let client_url = format!("http://{}:{}", h.ip, ports::ETCD_CLIENT);
    let body = format!(
        "{header}{about}ETCD_NAME={name}
ETCD_DATA_DIR={ETCD_DATA_DIR}
ETCD_LISTEN_PEER_URLS={peer_url}
{client_comment}ETCD_LISTEN_CLIENT_URLS={client_url}
ETCD_INITIAL_ADVERTISE_PEER_URLS={peer_url}
ETCD_ADVERTISE_CLIENT_URLS={client_url}
# Every Patroni host is a member. `new` is for the first start only: a member that
# replaces a lost one joins with `etcdctl member add` and ETCD_INITIAL_CLUSTER_STATE=existing.
ETCD_INITIAL_CLUSTER={cluster}
ETCD_INITIAL_CLUSTER_STATE=new
ETCD_INITIAL_CLUSTER_TOKEN={token}
# Patroni rewrites its leader key every loop (10 s): without compaction etcd keeps every
# revision until it reaches its 2 GB quota and refuses writes, and Patroni then demotes
# the primary. Keep one hour of history (etcd docs, Maintenance: auto compaction).
ETCD_AUTO_COMPACTION_MODE=periodic
ETCD_AUTO_COMPACTION_RETENTION=1h
",
        header = ctx.header(Comment::Hash),
        about = Comment::Hash.lines(&format!(
            "etcd member {name}: Patroni's DCS. Debian's etcd-server (3.4) reads this file as the
environment of etcd.service (EnvironmentFile=-{ETCD_ENV}). Plain HTTP on the
private subnet: the Patroni hosts reach ports {client} and {peer}, Prometheus on the
monitoring host reads /metrics on {client}; this host's firewall admits only them
(PORTS.md).",
            name = h.name,
            client = ports::ETCD_CLIENT,
            peer = ports::ETCD_PEER,
        )),
        client_comment = Comment::Hash.lines(&format!(
            "The private address only: Patroni and etcdctl name the members' addresses
(etcdctl --endpoints={client_url},…)."
        )),
        name = env(&h.name),
        peer_url = env(&peer_url),
        client_url = env(&client_url),
        cluster = env(&cluster.join(",")),
        token = env(&format!("synapse-planner-{}", ctx.topology.server_name)),
    );
    File::new(
        format!("hosts/{}{ETCD_ENV}", h.name),
        Scope::Role(Role::Patroni),
        "etcd member environment: listens on this host's address, initial cluster of every Patroni host, auto compaction.",
        body,
    )
    .for_host(h)
}

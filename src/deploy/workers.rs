//! The Synapse worker processes the playbook creates for a plan: names, ids, ports, in
//! the playbook's own order. Every file that names a worker or its port (vars.yml's
//! counts, Prometheus targets, health checks) reads it from here.
//!
//! Source: matrix-docker-ansible-deploy `roles/custom/matrix-synapse/tasks/synapse/
//! workers/init.yml` and `defaults/main.yml` @ c0681e4 (shared/reference/
//! worker-port-scheme.tsv): indices start at 0; stream writers share one index across
//! every stream (events first, then typing, to_device, account_data, receipts,
//! presence, push_rules, device_lists); only the `events` writers serve no HTTP.

use crate::plan::{Plan, WorkerKind};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Worker {
    pub kind: WorkerKind,
    /// `sync-worker-0`, `stream-writer-3-to_device`.
    pub id: String,
    /// Container and systemd unit: `matrix-synapse-worker-sync-0`.
    pub name: String,
    /// Synapse `worker_app`.
    pub app: &'static str,
    /// Serves client/federation HTTP (so has `port`).
    pub webserving: bool,
    /// HTTP listener; None for workers without one (the playbook's port 0).
    pub port: Option<u16>,
    pub metrics_port: u16,
    /// Stream writers' replication listener.
    pub replication_port: Option<u16>,
    /// The stream a stream writer writes (`to_device`).
    pub stream: Option<&'static str>,
}

/// (kind, id prefix, name prefix, HTTP port start, metrics port start); HTTP None for
/// the playbook's `port: 0` workers.
fn scheme(kind: WorkerKind) -> (&'static str, &'static str, Option<u16>, u16) {
    use WorkerKind as W;
    match kind {
        W::Room => ("room-worker", "room", Some(28111), 29111),
        W::Sync => ("sync-worker", "sync", Some(28211), 29211),
        W::ClientReader => ("client-reader", "client-reader", Some(28311), 29311),
        W::FederationReader => ("federation-reader", "federation-reader", Some(28411), 29411),
        W::Generic => ("generic-worker", "generic", Some(18111), 19111),
        W::FederationSender => ("federation-sender", "federation-sender", None, 19400),
        W::Pusher => ("pusher", "pusher", None, 19200),
        W::Appservice => ("appservice", "appservice", None, 19300),
        W::UserDir => ("user-dir", "user-dir", Some(18661), 19661),
        W::MediaRepository => ("media-repository", "media-repository", Some(18551), 19551),
        W::Background => ("background", "background", None, 19700),
        // Stream writers are numbered together; see `workers`.
        _ => ("", "", None, 0),
    }
}

/// The stream a stream-writer kind writes (Synapse's `stream_writers` key).
pub fn stream_of(kind: WorkerKind) -> Option<&'static str> {
    use WorkerKind as W;
    Some(match kind {
        W::StreamWriterEvents => "events",
        W::StreamWriterTyping => "typing",
        W::StreamWriterToDevice => "to_device",
        W::StreamWriterAccountData => "account_data",
        W::StreamWriterReceipts => "receipts",
        W::StreamWriterPresence => "presence",
        W::StreamWriterPushRules => "push_rules",
        W::StreamWriterDeviceLists => "device_lists",
        _ => return None,
    })
}

/// Every worker of the plan, in the playbook's order: room, sync, client readers,
/// federation readers, generic, stream writers, federation senders, pushers,
/// appservice, user directory, media repository, background.
pub fn workers(plan: &Plan) -> Vec<Worker> {
    use WorkerKind as W;
    let mut out = Vec::new();
    let numbered = |out: &mut Vec<Worker>, kind: WorkerKind| {
        let (id, name, port, metrics) = scheme(kind);
        for i in 0..plan.workers(kind) {
            let i16 = i as u16; // validation bounds counts at 64
            out.push(Worker {
                kind,
                id: format!("{id}-{i}"),
                name: format!("matrix-synapse-worker-{name}-{i}"),
                app: if kind == W::MediaRepository {
                    "media_repository"
                } else {
                    "generic_worker"
                },
                webserving: port.is_some(),
                port: port.map(|p| p + i16),
                metrics_port: metrics + i16,
                replication_port: None,
                stream: None,
            });
        }
    };
    for kind in [
        W::Room,
        W::Sync,
        W::ClientReader,
        W::FederationReader,
        W::Generic,
    ] {
        numbered(&mut out, kind);
    }
    let mut idx: u16 = 0;
    for kind in WorkerKind::ALL.into_iter().filter(|k| k.is_stream_writer()) {
        let stream = stream_of(kind).unwrap_or_default();
        for _ in 0..plan.workers(kind) {
            // Events writers serve no client HTTP (vars/main.yml
            // matrix_synapse_workers_webserving_stream_writer_types lacks "events"),
            // but every stream writer has an HTTP port for replication requests.
            out.push(Worker {
                kind,
                id: format!("stream-writer-{idx}-{stream}"),
                name: format!(
                    "matrix-synapse-worker-stream-writer-{idx}-{}",
                    stream.replace('_', "-")
                ),
                app: "generic_worker",
                webserving: stream != "events",
                port: Some(20011 + idx),
                metrics_port: 19211 + idx,
                replication_port: Some(25011 + idx),
                stream: Some(stream),
            });
            idx += 1;
        }
    }
    for kind in [
        W::FederationSender,
        W::Pusher,
        W::Appservice,
        W::UserDir,
        W::MediaRepository,
        W::Background,
    ] {
        numbered(&mut out, kind);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_workers() {
        let w = workers(&Plan::default());
        assert_eq!(w.len(), 19);
        let rows: Vec<(String, String, Option<u16>, u16)> = w
            .iter()
            .map(|w| (w.id.clone(), w.name.clone(), w.port, w.metrics_port))
            .collect();
        let want = [
            (
                "room-worker-0",
                "matrix-synapse-worker-room-0",
                Some(28111),
                29111,
            ),
            (
                "sync-worker-0",
                "matrix-synapse-worker-sync-0",
                Some(28211),
                29211,
            ),
            (
                "sync-worker-1",
                "matrix-synapse-worker-sync-1",
                Some(28212),
                29212,
            ),
            (
                "sync-worker-2",
                "matrix-synapse-worker-sync-2",
                Some(28213),
                29213,
            ),
            (
                "client-reader-0",
                "matrix-synapse-worker-client-reader-0",
                Some(28311),
                29311,
            ),
            (
                "federation-reader-0",
                "matrix-synapse-worker-federation-reader-0",
                Some(28411),
                29411,
            ),
            (
                "stream-writer-0-events",
                "matrix-synapse-worker-stream-writer-0-events",
                Some(20011),
                19211,
            ),
            (
                "stream-writer-1-events",
                "matrix-synapse-worker-stream-writer-1-events",
                Some(20012),
                19212,
            ),
            (
                "stream-writer-2-typing",
                "matrix-synapse-worker-stream-writer-2-typing",
                Some(20013),
                19213,
            ),
            (
                "stream-writer-3-to_device",
                "matrix-synapse-worker-stream-writer-3-to-device",
                Some(20014),
                19214,
            ),
            (
                "stream-writer-4-account_data",
                "matrix-synapse-worker-stream-writer-4-account-data",
                Some(20015),
                19215,
            ),
            (
                "stream-writer-5-receipts",
                "matrix-synapse-worker-stream-writer-5-receipts",
                Some(20016),
                19216,
            ),
            (
                "stream-writer-6-push_rules",
                "matrix-synapse-worker-stream-writer-6-push-rules",
                Some(20017),
                19217,
            ),
            (
                "stream-writer-7-device_lists",
                "matrix-synapse-worker-stream-writer-7-device-lists",
                Some(20018),
                19218,
            ),
            (
                "federation-sender-0",
                "matrix-synapse-worker-federation-sender-0",
                None,
                19400,
            ),
            ("pusher-0", "matrix-synapse-worker-pusher-0", None, 19200),
            (
                "user-dir-0",
                "matrix-synapse-worker-user-dir-0",
                Some(18661),
                19661,
            ),
            (
                "media-repository-0",
                "matrix-synapse-worker-media-repository-0",
                Some(18551),
                19551,
            ),
            (
                "background-0",
                "matrix-synapse-worker-background-0",
                None,
                19700,
            ),
        ];
        let want: Vec<(String, String, Option<u16>, u16)> = want
            .iter()
            .map(|(a, b, c, d)| (a.to_string(), b.to_string(), *c, *d))
            .collect();
        assert_eq!(rows, want);
        assert_eq!(w[9].replication_port, Some(25014));
        assert_eq!(
            w.iter()
                .find(|w| w.kind == WorkerKind::MediaRepository)
                .map(|w| w.app),
            Some("media_repository")
        );
    }

    /// The port scheme agrees with the reference table copied from the playbook.
    #[test]
    fn port_starts_match_reference_table() {
        let tsv = include_str!("../../tests/data/worker-port-scheme.tsv");
        let mut p = Plan::default();
        for k in WorkerKind::ALL {
            p.synapse.workers[k.index()] = 1;
        }
        let w = workers(&p);
        for (prefix, port, metrics) in [
            ("room_worker", "28111", "29111"),
            ("sync_worker", "28211", "29211"),
            ("client_reader", "28311", "29311"),
            ("federation_reader", "28411", "29411"),
            ("generic_worker", "18111", "19111"),
            ("stream_writer", "20011", "19211"),
            ("federation_sender", "0", "19400"),
            ("pusher", "0", "19200"),
            ("appservice", "0", "19300"),
            ("user_dir", "18661", "19661"),
            ("background", "0", "19700"),
            ("media_repository", "18551", "19551"),
        ] {
            let row = tsv
                .lines()
                .find(|l| l.starts_with(prefix))
                .unwrap_or_else(|| panic!("{prefix}"));
            assert!(
                row.contains(&format!("= {metrics}")),
                "{prefix} metrics {metrics}: {row}"
            );
            if port != "0" {
                assert!(
                    row.contains(&format!("= {port}")),
                    "{prefix} port {port}: {row}"
                );
            }
            let ours = w.iter().any(|x| x.metrics_port.to_string() == metrics);
            assert!(ours, "{prefix}: no worker with metrics port {metrics}");
        }
    }
}

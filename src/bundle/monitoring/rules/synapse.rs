//! Group `synapse`: Synapse processes, requests, federation sending, event processing.

use crate::bundle::monitoring::alerts::{
    self, Alert, Case, Group, Severity, alert, fires_on, l, s, silent,
};
use crate::bundle::{Ctx, File};
use crate::deploy::Host;

/// The rule file this module makes, and its unit tests.
const RULES: &str = "/etc/prometheus/rules/synapse.yml";
const TESTS: &str = "/etc/prometheus/rules/tests/synapse.test.yml";

/// The rule file and its unit tests.
pub fn files(ctx: &Ctx, h: &Host) -> Vec<File> {
    alerts::files(ctx, h, &group())
}

/// The group's alerts.
pub fn group() -> Group {
    Group {
        name: "synapse",
        rules: RULES,
        tests: TESTS,
        test_step: "1m",
        about: "Synapse processes, requests, federation sending, event processing.",
        alerts: [processes(), requests()].concat(),
    }
}

/// The main process and the workers.
fn processes() -> Vec<Alert> {
    use Severity::Critical;
    vec![
        alert(
            "SynapseDown",
            // Seed: up{job="synapse-main"}; here the main process is job="master".
            r#"up{job="master"} == 0"#,
            "2m",
            Critical,
            "Synapse main process on {{ $labels.instance }} is down",
            "The main Synapse process's metrics listener has not answered for 2 minutes: logins, replication to workers and everything routed to it fail. journalctl -u matrix-synapse on the Synapse host.",
            vec![fires_on(
                s(
                    r#"up{job="master",instance="synapse.internal",index="0"}"#,
                    "0x5",
                ),
                s(
                    r#"up{job="sync_worker",instance="synapse.internal",index="0",worker_id="sync-worker-0"}"#,
                    "1x5",
                ),
                "5m",
                l(&[
                    ("job", "master"),
                    ("instance", "synapse.internal"),
                    ("index", "0"),
                ]),
            )],
        ),
        alert(
            "SynapseWorkerDown",
            r#"up{worker_id!=""} == 0"#,
            "2m",
            Critical,
            "Synapse worker {{ $labels.worker_id }} is down",
            "Worker {{ $labels.worker_id }} ({{ $labels.job }}) on {{ $labels.instance }} has not answered for 2 minutes: the requests or streams routed to it fail. journalctl -u matrix-synapse-worker-* on the Synapse host.",
            vec![fires_on(
                s(
                    r#"up{job="sync_worker",instance="synapse.internal",index="1",worker_id="sync-worker-1"}"#,
                    "0x5",
                ),
                s(
                    r#"up{job="sync_worker",instance="synapse.internal",index="0",worker_id="sync-worker-0"}"#,
                    "1x5",
                ),
                "5m",
                l(&[
                    ("job", "sync_worker"),
                    ("instance", "synapse.internal"),
                    ("index", "1"),
                    ("worker_id", "sync-worker-1"),
                ]),
            )],
        ),
    ]
}

/// What users notice: failing syncs, slow sends, federation and event processing behind.
fn requests() -> Vec<Alert> {
    use Severity::Warning;
    vec![
        alert(
            // Replaces the seed's HighSyncLatency: /sync long-polls (clients wait up to
            // their timeout, 30 s in Element, when nothing happens), so its latency
            // is the clients' timeout, not Synapse's speed, and Synapse's histogram
            // buckets stop at 10 s; the seed's quantile also lacked sum by (le).
            // Failing syncs are what users notice.
            "SynapseSyncErrors",
            r#"sum(rate(synapse_http_server_response_time_seconds_count{servlet="SyncRestServlet",code=~"5.."}[5m])) / sum(rate(synapse_http_server_response_time_seconds_count{servlet="SyncRestServlet"}[5m])) > 0.05"#,
            "5m",
            Warning,
            "More than 5% of /sync requests fail",
            "Over 5% of /sync responses are 5xx for 5 minutes: clients stop receiving messages. Check the sync workers' logs and PgBouncer's waiting clients.",
            vec![
                Case {
                    series: vec![
                        s(
                            r#"synapse_http_server_response_time_seconds_count{job="sync_worker",instance="synapse.internal",servlet="SyncRestServlet",code="200"}"#,
                            "0+100x15",
                        ),
                        s(
                            r#"synapse_http_server_response_time_seconds_count{job="sync_worker",instance="synapse.internal",servlet="SyncRestServlet",code="502"}"#,
                            "0+20x15",
                        ),
                    ],
                    eval: "15m",
                    fires: vec![Vec::new()],
                },
                silent(
                    vec![
                        s(
                            r#"synapse_http_server_response_time_seconds_count{job="sync_worker",instance="synapse.internal",servlet="SyncRestServlet",code="200"}"#,
                            "0+100x15",
                        ),
                        s(
                            r#"synapse_http_server_response_time_seconds_count{job="sync_worker",instance="synapse.internal",servlet="SyncRestServlet",code="502"}"#,
                            "0+1x15",
                        ),
                    ],
                    "15m",
                ),
            ],
        ),
        alert(
            // Synapse's "Event Send Time" graph (docs/usage/administration/
            // understanding_synapse_through_grafana_graphs.md): how long sending a
            // message takes, persistence included. 1 s at p95 is our threshold
            // (assumption: sends normally take tens of milliseconds).
            "SynapseSlowEventSend",
            r#"histogram_quantile(0.95, sum by (le) (rate(synapse_http_server_response_time_seconds_bucket{servlet="RoomSendEventRestServlet"}[5m]))) > 1"#,
            "10m",
            Warning,
            "Sending a message takes more than 1 s (p95)",
            "The 95th percentile of RoomSendEventRestServlet has been above 1 s for 10 minutes: event persistence (the event persisters, PostgreSQL) is falling behind.",
            vec![
                Case {
                    series: send_buckets("0x20", "0x20", "0+10x20"),
                    eval: "20m",
                    fires: vec![Vec::new()],
                },
                silent(send_buckets("0+10x20", "0+10x20", "0+10x20"), "20m"),
            ],
        ),
        alert(
            "SynapseFederationSendQueue",
            "sum(synapse_federation_transaction_queue_pending_pdus) > 1000",
            "15m",
            Warning,
            "More than 1000 events wait to be sent over federation",
            "Synapse's federation sender has had over 1000 PDUs queued for 15 minutes (normally near 0): remote servers receive messages late. Check the federation sender's log and outbound connectivity.",
            vec![
                Case {
                    series: vec![s(
                        r#"synapse_federation_transaction_queue_pending_pdus{job="federation_sender",instance="synapse.internal",index="0",worker_id="federation-sender-0"}"#,
                        "5000x20",
                    )],
                    eval: "20m",
                    fires: vec![Vec::new()],
                },
                silent(
                    vec![s(
                        r#"synapse_federation_transaction_queue_pending_pdus{job="federation_sender",instance="synapse.internal",index="0",worker_id="federation-sender-0"}"#,
                        "3x20",
                    )],
                    "20m",
                ),
            ],
        ),
        alert(
            "SynapseEventProcessingLag",
            // synapse_event_processing_lag: ms between an event's arrival and its
            // processing by the named stream consumer (synapse/metrics/__init__.py).
            "max by (name) (synapse_event_processing_lag) > 60000",
            "10m",
            Warning,
            "Synapse's {{ $labels.name }} is more than a minute behind",
            "The {{ $labels.name }} stream consumer processes events over 60 s after they were persisted, for 10 minutes: federation, appservices or pushes are late.",
            vec![fires_on(
                s(
                    r#"synapse_event_processing_lag{job="federation_sender",instance="synapse.internal",name="federation_sender"}"#,
                    "120000x15",
                ),
                s(
                    r#"synapse_event_processing_lag{job="master",instance="synapse.internal",name="appservice_sender"}"#,
                    "40x15",
                ),
                "15m",
                l(&[("name", "federation_sender")]),
            )],
        ),
    ]
}

fn send_buckets(le05: &str, le1: &str, le25: &str) -> Vec<(String, String)> {
    let b = |le: &str, v: &str| {
        s(
            &format!(
                r#"synapse_http_server_response_time_seconds_bucket{{job="stream_writer",instance="synapse.internal",servlet="RoomSendEventRestServlet",method="PUT",code="200",le="{le}"}}"#
            ),
            v,
        )
    };
    vec![b("0.5", le05), b("1", le1), b("2.5", le25), b("+Inf", le25)]
}

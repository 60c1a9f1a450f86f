//! Group `calls`: coturn (blackbox probes), LiveKit and LiveKit's Redis; none without calls.

use crate::bundle::monitoring::alerts::{
    self, Case, Group, Severity, alert, fires_on, l, s, silent,
};
use crate::bundle::monitoring::blackbox::{JOB_TURN, JOB_TURNS};
use crate::bundle::{Ctx, File};
use crate::deploy::{Host, ports};
use crate::plan::Role;
use crate::syntax::template;

/// The rule file this module makes, and its unit tests.
const RULES: &str = "/etc/prometheus/rules/calls.yml";
const TESTS: &str = "/etc/prometheus/rules/tests/calls.test.yml";

/// The rule file and its unit tests; none without coturn or LiveKit hosts.
pub fn files(ctx: &Ctx, h: &Host) -> Vec<File> {
    group(ctx)
        .map(|g| alerts::files(ctx, h, &g))
        .unwrap_or_default()
}

/// The group's alerts; None without coturn or LiveKit hosts.
pub fn group(ctx: &Ctx) -> Option<Group> {
    use Severity::{Critical, Warning};
    let mut calls = Vec::new();
    let coturns = ctx.plan.host(Role::Coturn).count;
    if coturns > 0 {
        let turn = |i: u64, v: &str| {
            s(
                &format!(
                    r#"probe_success{{job="{JOB_TURN}",instance="coturn{i}.internal",target="10.0.1.{}:{}"}}"#,
                    108 + i,
                    ports::TURN
                ),
                v,
            )
        };
        calls.push(alert(
            "CoturnDown",
            format!(r#"probe_success{{job="{JOB_TURN}"}} == 0"#),
            "2m",
            Warning,
            "coturn on {{ $labels.instance }} does not accept TURN connections",
            "The blackbox exporter's TCP connection to {{ $labels.target }} (coturn's listening-port) has failed for 2 minutes: coturn is down on {{ $labels.instance }} or a firewall blocks the port. Clients try the other TURN servers Synapse hands out. systemctl status coturn; journalctl -u coturn.",
            vec![fires_on(
                turn(2, "0x5"),
                turn(1, "1x5"),
                "5m",
                l(&[("job", JOB_TURN), ("instance", "coturn2.internal"), ("target", "10.0.1.110:3478")]),
            )],
        ));
        calls.push(alert(
            "CoturnAllDown",
            // No series (the blackbox exporter is down) is no verdict: job blackbox's
            // TargetDown reports that.
            format!(r#"max(probe_success{{job="{JOB_TURN}"}}) == 0"#),
            "2m",
            Critical,
            "No coturn host accepts TURN connections",
            format!("None of the {coturns} coturn hosts has accepted a TCP connection on its TURN port for 2 minutes: 1:1 calls between clients behind NAT fail."),
            vec![
                Case {
                    series: vec![turn(1, "0x5"), turn(2, "0x5")],
                    eval: "5m",
                    fires: vec![Vec::new()],
                },
                silent(vec![turn(1, "0x5"), turn(2, "1x5")], "5m"),
            ],
        ));
        calls.push(alert(
            "CoturnTlsDown",
            format!(r#"probe_success{{job="{JOB_TURNS}"}} == 0"#),
            "5m",
            Warning,
            "TURN over TLS on {{ $labels.instance }} fails",
            format!(
                "The TLS handshake with {{{{ $labels.target }}}} (coturn's tls-listening-port) has failed for 5 minutes: coturn is down on {{{{ $labels.instance }}}}, or it cannot read /etc/ssl/synapse-planner/{server}/fullchain.pem and privkey.pem (scripts/certs/distribute.sh installs them). Clients that only get out through TLS cannot relay there.",
                server = template::literal(&ctx.topology.server_name)
            ),
            vec![fires_on(
                s(&format!(r#"probe_success{{job="{JOB_TURNS}",instance="coturn1.internal",target="10.0.1.109:5349"}}"#), "0x10"),
                s(&format!(r#"probe_success{{job="{JOB_TURNS}",instance="coturn2.internal",target="10.0.1.110:5349"}}"#), "1x10"),
                "10m",
                l(&[("job", JOB_TURNS), ("instance", "coturn1.internal"), ("target", "10.0.1.109:5349")]),
            )],
        ));
    }
    let livekits = ctx.plan.host(Role::Livekit).count;
    if livekits > 0 {
        calls.push(alert(
            "LivekitAllDown",
            r#"(count(up{job="livekit"} == 1) or vector(0)) == 0"#,
            "2m",
            Critical,
            "No LiveKit node answers",
            format!("None of the {livekits} LiveKit nodes (the SFUs of group calls) has answered on its metrics endpoint for 2 minutes: group calls fail."),
            vec![
                Case {
                    series: vec![s(r#"up{job="livekit",instance="livekit1.internal"}"#, "0x5")],
                    eval: "5m",
                    fires: vec![Vec::new()],
                },
                silent(vec![s(r#"up{job="livekit",instance="livekit1.internal"}"#, "1x5")], "5m"),
            ],
        ));
        calls.push(alert(
            "LivekitRedisDown",
            r#"redis_up{job="redis"} == 0"#,
            "2m",
            Critical,
            "LiveKit's Redis on {{ $labels.instance }} is down",
            "redis_exporter cannot reach LiveKit's Redis on {{ $labels.instance }}: LiveKit nodes cannot share rooms, new calls fail.",
            vec![fires_on(
                s(r#"redis_up{job="redis",instance="livekit1.internal"}"#, "0x5"),
                s(r#"redis_up{job="redis",instance="livekit2.internal"}"#, "1x5"),
                "5m",
                l(&[("job", "redis"), ("instance", "livekit1.internal")]),
            )],
        ));
    }
    (!calls.is_empty()).then_some(Group {
        name: "calls",
        rules: RULES,
        tests: TESTS,
        test_step: "1m",
        about: "coturn (blackbox probes), LiveKit and LiveKit's Redis.",
        alerts: calls,
    })
}

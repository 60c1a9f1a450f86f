//! Group `tls`: TLS handshakes with HAProxy on the VIP and the expiry of every certificate the blackbox exporter is served.

use crate::bundle::monitoring::alerts::{self, Group, Severity, alert, fires_on, l, s};
use crate::bundle::monitoring::blackbox::JOB_VIP_TLS;
use crate::bundle::{Ctx, File};
use crate::deploy::Host;
use crate::syntax::template;

/// The rule file this module makes, and its unit tests.
const RULES: &str = "/etc/prometheus/rules/tls.yml";
const TESTS: &str = "/etc/prometheus/rules/tests/tls.test.yml";

/// Certificate expiry alerts. certbot renews when less than 30 days remain (its default
/// `renew_before_expiry`), so at 21 days renewal has failed for over a week; 7 days
/// leaves time to issue and distribute one by hand (internal CA included).
pub const CERT_WARN_DAYS: u64 = 21;
pub const CERT_CRIT_DAYS: u64 = 7;

/// The rule file and its unit tests.
pub fn files(ctx: &Ctx, h: &Host) -> Vec<File> {
    alerts::files(ctx, h, &group(ctx))
}

/// The group's alerts.
pub fn group(ctx: &Ctx) -> Group {
    use Severity::{Critical, Warning};
    // probe_ssl_earliest_cert_expiry is the earliest notAfter of the chain a TLS probe
    // was served (HAProxy on the VIP; coturn's TURN over TLS): every copy of the
    // certificate is watched, including one distribute.sh failed to replace.
    let expiry = |days: u64| format!("probe_ssl_earliest_cert_expiry - time() < {days} * 86400");
    let vip_tls = |port: u16, v: &str| {
        s(
            &format!(
                r#"probe_success{{job="{JOB_VIP_TLS}",instance="vip.internal",target="10.0.1.10:{port}"}}"#
            ),
            v,
        )
    };
    let cert = |port: u16, v: &str| {
        s(
            &format!(
                r#"probe_ssl_earliest_cert_expiry{{job="{JOB_VIP_TLS}",instance="vip.internal",target="10.0.1.10:{port}"}}"#
            ),
            v,
        )
    };
    let cert_labels = |port: u16| {
        l(&[
            ("job", JOB_VIP_TLS),
            ("instance", "vip.internal"),
            ("target", &format!("10.0.1.10:{port}")),
        ])
    };
    // Seconds at the unit tests' evaluation time 30m: expiry in 3, 10 and 60 days.
    let in_days = |d: u64| format!("{}x40", d * 86_400 + 1_800);
    let renew = format!(
        "certbot renews 30 days ahead, so renewal has failed. Online: scripts/certs/letsencrypt.sh on the first HAProxy node; offline: scripts/certs/internal-ca.sh renew; then scripts/certs/distribute.sh. openssl s_client -connect {{{{ $labels.target }}}} -servername {} shows the dates.",
        template::literal(&ctx.topology.server_name)
    );
    Group {
        name: "tls",
        rules: RULES,
        tests: TESTS,
        test_step: "1m",
        about: "TLS handshakes with HAProxy on the VIP and the expiry of every certificate the blackbox exporter is served.",
        alerts: vec![
            alert(
                "TlsProbeFailed",
                format!(r#"probe_success{{job="{JOB_VIP_TLS}"}} == 0"#),
                "2m",
                Critical,
                "TLS on the VIP's {{ $labels.target }} fails",
                format!(
                    "The TLS handshake with HAProxy on {{{{ $labels.target }}}} (SNI {server}) has failed for 2 minutes: clients (443) or federating servers (8448) cannot connect. No HAProxy holds the VIP, HAProxy is down on the holder, or /etc/haproxy/certs/{server}.pem is missing or broken.",
                    server = template::literal(&ctx.topology.server_name)
                ),
                vec![fires_on(
                    vip_tls(8448, "0x5"),
                    vip_tls(443, "1x5"),
                    "5m",
                    cert_labels(8448),
                )],
            ),
            alert(
                "CertificateExpiringSoon",
                expiry(CERT_WARN_DAYS),
                "10m",
                Warning,
                format!(
                    "The certificate on {{{{ $labels.target }}}} expires in less than {CERT_WARN_DAYS} days"
                ),
                format!(
                    "The certificate chain served on {{{{ $labels.target }}}} ({{{{ $labels.job }}}}, {{{{ $labels.instance }}}}) holds a certificate that ends within {CERT_WARN_DAYS} days. {renew}"
                ),
                vec![fires_on(
                    cert(443, &in_days(10)),
                    cert(8448, &in_days(60)),
                    "30m",
                    cert_labels(443),
                )],
            ),
            alert(
                "CertificateExpiringCritical",
                expiry(CERT_CRIT_DAYS),
                "10m",
                Critical,
                format!(
                    "The certificate on {{{{ $labels.target }}}} expires in less than {CERT_CRIT_DAYS} days"
                ),
                format!(
                    "The certificate chain served on {{{{ $labels.target }}}} ({{{{ $labels.job }}}}, {{{{ $labels.instance }}}}) holds a certificate that ends within {CERT_CRIT_DAYS} days, or has ended (the probes do not verify, so an expired certificate still shows, with negative time left): clients will refuse it. {renew}"
                ),
                vec![
                    fires_on(
                        cert(8448, &in_days(3)),
                        cert(443, &in_days(10)),
                        "30m",
                        cert_labels(8448),
                    ),
                    // Already expired (a day ago) still fires.
                    fires_on(
                        cert(443, "-84600x40"),
                        cert(8448, &in_days(60)),
                        "30m",
                        cert_labels(443),
                    ),
                ],
            ),
        ],
    }
}

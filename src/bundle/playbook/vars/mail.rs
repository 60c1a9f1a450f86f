//! vars.yml's mail section: exim-relay, the playbook's mailer that Synapse sends its
//! password resets and notifications to, relaying through the plan's smarthost.
//!
//! Variable names are the external role mother-of-all-self-hosting/ansible-role-exim-relay's
//! @ v4.99.1-r0-2-1 (the version the playbook's requirements.yml:32-34 pins),
//! defaults/main.yml:98-120; its templates/env.j2:7-14 turns them into the container's
//! SMARTHOST (`host::port`) and SMTP_USERNAME/SMTP_PASSWORD.

use super::Builder;

/// The plan's smarthost as (host, port); `None` when it is not `host:port` (validation
/// refuses that, but a `Plan` built in code may carry anything).
fn smarthost(text: &str) -> Option<(&str, u16)> {
    let (host, port) = text.rsplit_once(':')?;
    let port = port.parse::<u16>().ok().filter(|p| *p > 0)?;
    (!host.is_empty()).then_some((host, port))
}

/// Implicit TLS (SMTPS, RFC 8314): a port that expects TLS from the first byte. The image
/// the role runs (devture/exim-relay 4.99.1-r0-2, exim.conf:752-763: the `remote_smtp`
/// transport, no `protocol = smtps`) cannot; the role's `exim_relay_relay_protocol`
/// (defaults/main.yml:114) writes SMARTHOST_PROTOCOL, which that exim.conf never reads
/// (its keep_environment, :363, does not list it).
const SMTPS_PORT: u16 = 465;

pub(super) fn mail(b: &mut Builder) {
    let ctx = b.ctx;
    b.section("Mail: Synapse -> exim-relay on this host -> the plan's smarthost");
    let Some((host, port)) = smarthost(&ctx.plan.ops.smtp_smarthost) else {
        b.var(
            "exim_relay_enabled",
            false,
            &[
                "External role ansible-role-exim-relay. The plan names no smarthost, and direct",
                "delivery from an internal host is dropped or marked as spam: no exim-relay, and",
                "Synapse sends no mail either (group_vars/matrix_servers:5111,",
                "matrix_synapse_email_enabled follows exim_relay_enabled): no password resets",
                "or notifications by e-mail.",
            ],
        );
        return;
    };
    b.var(
        "exim_relay_relay_use",
        true,
        &[
            "External role ansible-role-exim-relay (defaults/main.yml:111, off by default, which",
            "delivers straight to each recipient's MX from this internal host). Synapse hands",
            "its mail to matrix-exim-relay:8025 (group_vars/matrix_servers:5111-5114); exim",
            "passes all of it to the plan's smarthost, the relay Alertmanager uses too.",
        ],
    );
    b.var("exim_relay_relay_host_name", host.to_string(), &[]);
    // The same comment for every port: a file's lines do not move with a plan's text.
    b.var_owned(
        "exim_relay_relay_host_port",
        port,
        vec![
            "The smarthost's port, from the plan (the role's default is 587). exim offers STARTTLS".into(),
            "when the relay advertises it and sends in plain text on the private network otherwise.".into(),
            format!("It cannot use port {SMTPS_PORT} (TLS from the first byte, SMTPS): this exim-relay image"),
            "(devture/exim-relay 4.99.1-r0-2, exim.conf) does not speak it; use the relay's 587 or 25.".into(),
        ],
    );
    b.var(
        "exim_relay_relay_auth",
        false,
        &[
            "The plan has no credentials for the smarthost: it must accept mail from the Synapse",
            "host's address without authentication (relay by source address).",
        ],
    );
    b.var_owned(
        "exim_relay_sender_address",
        format!("matrix@{}", ctx.topology.server_name),
        vec![
            "The envelope and From address of Synapse's mail (group_vars/matrix_servers:5114"
                .into(),
            "builds notif_from from it). The smarthost must accept it as a sender, and the server"
                .into(),
            "name's SPF/DMARC must allow the smarthost to send for it.".into(),
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::super::super::tests::{value_of, vars_of};
    use super::smarthost;
    use crate::plan::Plan;

    #[test]
    fn smarthost_is_host_and_port() {
        assert_eq!(smarthost("mail.internal:25"), Some(("mail.internal", 25)));
        assert_eq!(smarthost("10.0.1.5:587"), Some(("10.0.1.5", 587)));
        for bad in [
            "",
            "mail.internal",
            ":25",
            "mail.internal:0",
            "mail:x",
            "m:70000",
        ] {
            assert_eq!(smarthost(bad), None, "{bad}");
        }
    }

    /// The plan's smarthost reaches exim-relay, the mailer Synapse sends to: relay on,
    /// its host and port, no authentication, the sender on the server name.
    #[test]
    fn exim_relays_through_the_plans_smarthost() {
        let vars = vars_of(&Plan::default());
        for (key, expect) in [
            ("exim_relay_relay_use", "true"),
            ("exim_relay_relay_host_name", "mail.internal"),
            ("exim_relay_relay_host_port", "25"),
            ("exim_relay_relay_auth", "false"),
            ("exim_relay_sender_address", "matrix@chat.example.com"),
        ] {
            assert_eq!(value_of(&vars, key).as_deref(), Some(expect), "{key}");
        }
        assert_eq!(value_of(&vars, "exim_relay_enabled"), None);

        let mut p = Plan::default();
        p.ops.smtp_smarthost = "smtp.example.net:465".into();
        let vars = vars_of(&p);
        assert_eq!(
            value_of(&vars, "exim_relay_relay_host_name").as_deref(),
            Some("smtp.example.net")
        );
        assert_eq!(
            value_of(&vars, "exim_relay_relay_host_port").as_deref(),
            Some("465")
        );
        // A host name YAML would read as another type stays a string.
        p.ops.smtp_smarthost = "null:2525".into();
        let vars = vars_of(&p);
        assert_eq!(
            value_of(&vars, "exim_relay_relay_host_name").as_deref(),
            Some("'null'")
        );
    }

    /// Without a smarthost, exim-relay is off, and with it Synapse's e-mail (the
    /// playbook derives one from the other); no relay variable is left behind.
    #[test]
    fn no_smarthost_no_mail() {
        let mut p = Plan::default();
        p.ops.smtp_smarthost = String::new();
        let vars = vars_of(&p);
        assert_eq!(
            value_of(&vars, "exim_relay_enabled").as_deref(),
            Some("false")
        );
        for set in ["exim_relay_relay_", "matrix_synapse_email_"] {
            assert!(!vars.lines().any(|l| l.starts_with(set)), "{set}: {vars}");
        }
    }
}

//! Alertmanager on the monitoring host: e-mail to the operator through the plan's
//! smarthost (alertmanager.yml), and its arguments (one instance, no gossip).

use super::{arg_word, args_line, path};
use crate::bundle::{Comment, Ctx, File, Scope};
use crate::deploy::{Host, ports};
use crate::plan::Role;
use crate::syntax::template;
use crate::syntax::yaml::{Doc, Map, Seq};

/// Alertmanager's configuration (Debian's default path), which the setup script checks.
pub const ALERTMANAGER_YML: &str = "/etc/prometheus/alertmanager.yml";

/// Alertmanager's STARTTLS requirement: on port 25 an intranet relay often offers none
/// (mail stays on the private network); on 587 (submission) STARTTLS is the norm.
pub fn smtp_require_tls(smarthost: &str) -> bool {
    !smarthost.ends_with(":25")
}

pub fn alertmanager_yml(ctx: &Ctx, h: &Host) -> File {
    let ops = &ctx.plan.ops;
    let require_tls = smtp_require_tls(&ops.smtp_smarthost);
    // smtp_from and to are templates (Alertmanager's configuration docs: <tmpl_string>):
    // the addresses are literal text in them.
    let from = template::literal(&format!("alertmanager@{}", ctx.topology.server_name));
    let to = template::literal(&ops.email);
    let mut global = Map::new()
        .with("smtp_smarthost", &ops.smtp_smarthost)
        .with("smtp_from", from);
    global.comment(if require_tls {
        "STARTTLS required (submission port); set false only if the relay offers none."
    } else {
        "Port 25 on the private network: intranet relays often offer no STARTTLS. Set true if yours does."
    });
    global.insert("smtp_require_tls", require_tls);
    global.insert("resolve_timeout", "5m");

    let mut route = Map::new().with("receiver", "ops-email");
    route.comment("One mail per alert name and severity, listing every instance it fires on.");
    route.insert("group_by", Seq::new().with("alertname").with("severity"));
    route.insert("group_wait", "30s");
    route.insert("group_interval", "5m");
    route.insert("repeat_interval", "4h");
    let mut routes = Seq::new();
    routes.comment("Critical: sent sooner and repeated every hour until resolved.");
    routes.push(
        Map::new()
            .with("matchers", Seq::new().with(r#"severity="critical""#))
            .with("receiver", "ops-email-critical")
            .with("group_wait", "10s")
            .with("repeat_interval", "1h"),
    );
    route.insert("routes", routes);

    let email = |headers: Option<Map>| {
        let mut m = Map::new().with("to", &to).with("send_resolved", true);
        if let Some(h) = headers {
            m.insert("headers", h);
        }
        Seq::new().with(m)
    };
    let receivers = Seq::new()
        .with(
            Map::new()
                .with("name", "ops-email")
                .with("email_configs", email(None)),
        )
        .with(Map::new().with("name", "ops-email-critical").with(
            "email_configs",
            email(Some(Map::new().with(
                "Subject",
                "[CRITICAL] {{ .CommonLabels.alertname }} ({{ .Alerts.Firing | len }} firing)",
            ))),
        ));

    let mut inhibit = Seq::new();
    inhibit.comment(
        "A critical alert silences warnings about the same instance (a host that is down\n\
         also fails its scrapes, its disk checks…).",
    );
    inhibit.push(
        Map::new()
            .with("source_matchers", Seq::new().with(r#"severity="critical""#))
            .with("target_matchers", Seq::new().with(r#"severity="warning""#))
            .with("equal", Seq::new().with("instance")),
    );

    let root = Map::new()
        .with("global", global)
        .spaced()
        .with("route", route)
        .spaced()
        .with("receivers", receivers)
        .spaced()
        .with("inhibit_rules", inhibit);
    let doc = Doc::new(root)
        .header(ctx.provenance())
        .header(format!(
            "Alertmanager (Debian 12 prometheus-alertmanager) on {}: every alert goes to\n\
             {} by e-mail through {}. Check: amtool check-config {ALERTMANAGER_YML}",
            h.fqdn, ops.email, ops.smtp_smarthost
        ))
        .start();
    File::new(
        path(h, ALERTMANAGER_YML),
        Scope::Role(Role::Monitoring),
        "Alertmanager: e-mail to the operator through the plan's smarthost; critical repeats hourly and inhibits warnings on the same instance.",
        doc.render(),
    )
    .for_host(h)
}

pub fn alertmanager_default(ctx: &Ctx, h: &Host) -> File {
    let port = ports::ALERTMANAGER;
    let body = format!(
        r#"{header}# Arguments of Debian's prometheus-alertmanager.service ($ARGS). One Alertmanager:
# no cluster gossip (an empty --cluster.listen-address turns it off, so nothing listens
# on :9094). The external URL makes the links in mails point at this host.
{args}"#,
        header = ctx.header(Comment::Hash),
        args = args_line(&format!(
            "--cluster.listen-address= --web.listen-address=:{port} --web.external-url=http://{}:{port}/",
            arg_word(&h.fqdn)
        )),
    );
    File::new(
        path(h, "/etc/default/prometheus-alertmanager"),
        Scope::Role(Role::Monitoring),
        "Alertmanager arguments: single instance (no gossip), listen address, external URL.",
        body,
    )
    .for_host(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starttls_by_port() {
        for (host, tls) in [("mail.internal:25", false), ("smtp.example.com:587", true)] {
            assert_eq!(smtp_require_tls(host), tls, "{host}");
        }
    }
}

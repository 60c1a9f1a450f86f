//! coturn's relay allocations, for node_exporter's textfile collector: on each coturn
//! host a script, the systemd service and timer that run it, and a drop-in that makes
//! coturn.service pull the timer in. rules/budgets.rs alerts on the figure.

use super::path;
use crate::bundle::{Comment, Ctx, File, Scope};
use crate::deploy::Host;
use crate::deploy::facts::{NODE_TEXTFILE_DIR, SCRAPE_INTERVAL_S};
use crate::plan::Role;

/// The relay allocations of a coturn node, written for node_exporter's textfile
/// collector by [`COTURN_METRIC_SCRIPT`] (Debian 12's coturn exports no metrics).
pub const COTURN_ALLOCATIONS: &str = "synapse_planner_coturn_relay_allocations";
pub const COTURN_METRIC_SCRIPT: &str = "/usr/local/sbin/coturn-allocations-metric.sh";
/// The systemd service and timer that run the script (`<unit>.service`, `<unit>.timer`).
pub const COTURN_METRIC_UNIT: &str = "synapse-planner-coturn-allocations";
/// The drop-in that makes coturn.service pull the timer in.
pub const COTURN_DROP_IN: &str =
    "/etc/systemd/system/coturn.service.d/synapse-planner-allocations.conf";
/// The timer runs the script every scrape interval; a file older than 5 minutes (20
/// runs missed) means the timer or the script stopped.
pub const COTURN_METRIC_STALE_S: u64 = 300;
/// The unit files of [`COTURN_METRIC_UNIT`].
const COTURN_METRIC_SERVICE: &str =
    "/etc/systemd/system/synapse-planner-coturn-allocations.service";
const COTURN_METRIC_TIMER: &str = "/etc/systemd/system/synapse-planner-coturn-allocations.timer";

/// The files on each coturn host that publish [`COTURN_ALLOCATIONS`]: Debian 12's
/// coturn 4.6.1 is built without Prometheus support (its `turnserver -h` lists no
/// --prometheus; the option in turnserver.conf is "Bad configuration format"), so a
/// script counts the relay ports turnserver holds and writes the figure where Debian's
/// prometheus-node-exporter reads text files ([`NODE_TEXTFILE_DIR`], its compiled-in
/// --collector.textfile.directory; /etc/default/prometheus-node-exporter sets no ARGS).
/// None without coturn hosts.
pub fn files(ctx: &Ctx) -> Vec<File> {
    let mut out = Vec::new();
    for h in ctx.hosts(Role::Coturn) {
        out.push(coturn_metric_script(ctx, h));
        out.push(coturn_metric_service(ctx, h));
        out.push(coturn_metric_timer(ctx, h));
        out.push(coturn_drop_in(ctx, h));
    }
    out
}

fn coturn_metric_script(ctx: &Ctx, h: &Host) -> File {
    let p = &ctx.plan.coturn;
    let notes = format!(
        "
Relay allocations coturn holds on {fqdn}, for Prometheus: Debian 12's coturn has no
metrics endpoint. Run every {SCRAPE_INTERVAL_S} s by {COTURN_METRIC_UNIT}.timer (as root: ss
needs it to see turnserver's sockets), it writes
  {COTURN_ALLOCATIONS} <n>
into {NODE_TEXTFILE_DIR}/, where prometheus-node-exporter's textfile collector
reads it (job node, instance {fqdn}). Alerts CoturnAllocationsHigh and
CoturnAllocationsAtQuota compare it with the plan's limit; CoturnAllocationsUnknown
fires when the file is missing or older than {COTURN_METRIC_STALE_S} s.

One allocation holds one relay port of min-port..max-port (turnserver.conf, from the
plan's coturn.min-port {min} and coturn.max-port {max}): a UDP socket, or for a TCP
relay (RFC 6062) a listening socket plus the connections from that port. So n is the
number of distinct (protocol, port) pairs in that range that turnserver holds.",
        fqdn = h.fqdn,
        min = p.min_port,
        max = p.max_port,
    );
    let body = format!(
        r##"#!/usr/bin/env bash
{header}{notes}set -euo pipefail

min_port={min}
max_port={max}
dir={NODE_TEXTFILE_DIR}
name={COTURN_ALLOCATIONS}

# ss -H: no header; -n numeric; -t -u TCP and UDP (first column: the protocol); -a
# listening and connected; -p the owning process, users:(("turnserver",pid=…,fd=…)).
allocations=$(ss -Hntuap "sport >= :$min_port and sport <= :$max_port" \
  | awk '/users:\(\("turnserver"/ {{ n = split($5, a, ":"); print $1, a[n] }}' \
  | sort -u | wc -l)

# Write a temporary file next to the real one and rename it, so node_exporter never
# reads half a file (its textfile collector reads *.prom only).
tmp=$(mktemp "$dir/.$name.XXXXXX")
trap 'rm -f "$tmp"' EXIT
{{
  echo "# HELP $name Relay allocations coturn holds: distinct relay ports of $min_port..$max_port with a turnserver socket."
  echo "# TYPE $name gauge"
  echo "$name $allocations"
}} > "$tmp"
chmod 0644 "$tmp"
mv "$tmp" "$dir/$name.prom"
trap - EXIT
"##,
        header = ctx.header(Comment::Hash),
        notes = Comment::Hash.lines(&notes),
        min = p.min_port,
        max = p.max_port,
    );
    File::new(
        path(h, COTURN_METRIC_SCRIPT),
        Scope::Role(Role::Coturn),
        "Counts coturn's relay allocations (relay ports turnserver holds) for node_exporter's textfile collector.",
        body,
    )
    .for_host(h)
    .script()
}

fn coturn_metric_service(ctx: &Ctx, h: &Host) -> File {
    let body = format!(
        r#"{header}#
# Runs {COTURN_METRIC_SCRIPT} once; {COTURN_METRIC_UNIT}.timer starts it every
# {SCRAPE_INTERVAL_S} s. Root, because ss reads which process owns a socket from /proc/<pid>/fd
# of turnserver (another user); everything but the textfile directory is read-only.
[Unit]
Description=Count coturn's relay allocations for node_exporter (synapse-planner)
Documentation=man:ss(8) man:turnserver(1)
After=coturn.service

[Service]
Type=oneshot
ExecStart={COTURN_METRIC_SCRIPT}
ProtectSystem=strict
ReadWritePaths={NODE_TEXTFILE_DIR}
ProtectHome=yes
PrivateTmp=yes
NoNewPrivileges=yes
"#,
        header = ctx.header(Comment::Hash),
    );
    File::new(
        path(h, COTURN_METRIC_SERVICE),
        Scope::Role(Role::Coturn),
        "systemd service running the coturn allocations script once.",
        body,
    )
    .for_host(h)
}

fn coturn_metric_timer(ctx: &Ctx, h: &Host) -> File {
    let body = format!(
        r#"{header}#
# Runs {COTURN_METRIC_UNIT}.service every {SCRAPE_INTERVAL_S} s, Prometheus' scrape interval.
# coturn.service pulls it in ({COTURN_DROP_IN}), so it runs from coturn's
# first start without a step of its own; enabled, it also starts at boot:
#   systemctl enable --now {COTURN_METRIC_UNIT}.timer
[Unit]
Description=Count coturn's relay allocations every {SCRAPE_INTERVAL_S} s (synapse-planner)

[Timer]
OnActiveSec=1s
OnUnitActiveSec={SCRAPE_INTERVAL_S}s
AccuracySec=1s

[Install]
WantedBy=timers.target
"#,
        header = ctx.header(Comment::Hash),
    );
    File::new(
        path(h, COTURN_METRIC_TIMER),
        Scope::Role(Role::Coturn),
        format!("systemd timer: the coturn allocations script every {SCRAPE_INTERVAL_S} s."),
        body,
    )
    .for_host(h)
}

fn coturn_drop_in(ctx: &Ctx, h: &Host) -> File {
    let body = format!(
        r#"{header}#
# Starting coturn starts the allocations timer too: prepare-host.sh copies this file
# before it installs coturn, whose package reloads systemd and starts coturn.service.
[Unit]
Wants={COTURN_METRIC_UNIT}.timer
"#,
        header = ctx.header(Comment::Hash),
    );
    File::new(
        path(h, COTURN_DROP_IN),
        Scope::Role(Role::Coturn),
        "Drop-in for coturn.service: starts the allocations timer with coturn.",
        body,
    )
    .for_host(h)
}

#[cfg(test)]
mod tests {
    use super::super::plans::{minimal, plan_with};
    use super::super::rules;
    use super::*;
    use crate::bundle::with_ctx;

    /// The unit files' paths name the unit.
    #[test]
    fn unit_paths_name_the_unit() {
        assert_eq!(
            COTURN_METRIC_SERVICE,
            format!("/etc/systemd/system/{COTURN_METRIC_UNIT}.service")
        );
        assert_eq!(
            COTURN_METRIC_TIMER,
            format!("/etc/systemd/system/{COTURN_METRIC_UNIT}.timer")
        );
    }

    /// The allocations script, its service and timer, and coturn's drop-in, on every
    /// coturn host; the script counts the plan's relay range.
    #[test]
    fn coturn_metric_files_per_coturn_host() {
        let plan = plan_with(&[("coturn.min-port", "40000"), ("coturn.max-port", "40999")]);
        with_ctx(&plan, |ctx| {
            let files = super::files(ctx);
            let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
            let mut want = Vec::new();
            for h in ["coturn1", "coturn2"] {
                want.extend([
                    format!("hosts/{h}/usr/local/sbin/coturn-allocations-metric.sh"),
                    format!("hosts/{h}/etc/systemd/system/synapse-planner-coturn-allocations.service"),
                    format!("hosts/{h}/etc/systemd/system/synapse-planner-coturn-allocations.timer"),
                    format!("hosts/{h}/etc/systemd/system/coturn.service.d/synapse-planner-allocations.conf"),
                ]);
            }
            assert_eq!(paths, want);
            assert_eq!(files[0].mode, 0o755);
            let script = &files[0].contents;
            for line in [
                "min_port=40000\n",
                "max_port=40999\n",
                "dir=/var/lib/prometheus/node-exporter\n",
                "name=synapse_planner_coturn_relay_allocations\n",
            ] {
                assert!(script.contains(line), "{line}");
            }
            assert!(
                files[1]
                    .contents
                    .contains("ExecStart=/usr/local/sbin/coturn-allocations-metric.sh\n")
            );
            assert!(files[2].contents.contains("OnUnitActiveSec=15s\n"));
            assert!(
                files[3]
                    .contents
                    .contains("Wants=synapse-planner-coturn-allocations.timer\n")
            );
            // The rules watch exactly these hosts.
            let g = rules::budgets::group(ctx);
            let unknown = g
                .alerts
                .iter()
                .find(|a| a.name == "CoturnAllocationsUnknown")
                .unwrap();
            assert_eq!(unknown.expr.matches("absent(").count(), 2);
        });
        with_ctx(&minimal(), |ctx| assert!(super::files(ctx).is_empty()));
    }
}

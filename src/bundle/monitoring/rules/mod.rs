//! The alert rules: one module per rule file `rules/<name>.yml` (with its promtool
//! tests `rules/tests/<name>.test.yml`), in file order.

pub mod backup;
pub mod budgets;
pub mod calls;
pub mod database;
pub mod disks;
pub mod edge;
pub mod hosts;
pub mod objectstore;
pub mod synapse;
pub mod tls;

use super::alerts::Group;
use crate::bundle::{Ctx, File};
use crate::deploy::Host;

/// Every rule group of the plan, in file order (the order of [`files`]).
pub fn groups(ctx: &Ctx) -> Vec<Group> {
    let mut out = vec![
        hosts::group(),
        synapse::group(),
        database::group(ctx),
        edge::group(),
        objectstore::group(ctx),
    ];
    out.extend(calls::group(ctx));
    out.push(tls::group(ctx));
    out.extend(backup::group(ctx));
    out.push(budgets::group(ctx));
    out.push(disks::group(ctx));
    out
}

/// Every rule file and its unit tests, in the order of [`groups`].
pub fn files(ctx: &Ctx, h: &Host) -> Vec<File> {
    [
        hosts::files(ctx, h),
        synapse::files(ctx, h),
        database::files(ctx, h),
        edge::files(ctx, h),
        objectstore::files(ctx, h),
        calls::files(ctx, h),
        tls::files(ctx, h),
        backup::files(ctx, h),
        budgets::files(ctx, h),
        disks::files(ctx, h),
    ]
    .concat()
}

#[cfg(test)]
mod tests {
    use super::super::alerts::{Alert, RULES_DIR, rule_file};
    use super::super::plans::minimal;
    use super::super::scrape::scrape_jobs;
    use super::*;
    use crate::bundle::with_ctx;
    use crate::plan::{Plan, Role};
    use crate::syntax::template;

    /// Each group's files are where its name says (the setup script runs the tests by
    /// name), and `files` makes them in the order of `groups`.
    #[test]
    fn files_follow_the_groups() {
        for plan in [Plan::default(), minimal()] {
            with_ctx(&plan, |ctx| {
                let h = ctx.topology.first(Role::Monitoring).unwrap();
                let mut want = Vec::new();
                for g in groups(ctx) {
                    assert_eq!(g.rules, format!("{RULES_DIR}/{}.yml", g.name));
                    assert_eq!(g.tests, format!("{RULES_DIR}/tests/{}.test.yml", g.name));
                    want.push(format!("hosts/{}{}", h.name, g.rules));
                    want.push(format!("hosts/{}{}", h.name, g.tests));
                }
                let got: Vec<String> = files(ctx, h).into_iter().map(|f| f.path).collect();
                assert_eq!(got, want);
            });
        }
    }

    #[test]
    fn every_alert_has_annotations_and_a_firing_and_a_silent_case() {
        for plan in [Plan::default(), minimal()] {
            with_ctx(&plan, |ctx| {
                let mut names = std::collections::BTreeSet::new();
                for g in groups(ctx) {
                    for a in &g.alerts {
                        assert!(names.insert(a.name), "{} twice", a.name);
                        assert!(
                            !a.summary.is_empty() && !a.description.is_empty(),
                            "{}",
                            a.name
                        );
                        assert!(
                            a.cases.iter().any(|c| !c.fires.is_empty()),
                            "{} never fires",
                            a.name
                        );
                        // Silent: a case with no alert, or a firing case with a series
                        // that is not in its alerts.
                        let silent = a.cases.iter().any(|c| c.fires.is_empty())
                            || a.cases.iter().any(|c| {
                                c.series.iter().any(|(s, _)| {
                                    !c.fires.iter().any(|f| {
                                        f.iter().all(|(k, v)| s.contains(&format!("{k}=\"{v}\"")))
                                    })
                                })
                            });
                        assert!(silent, "{} has no silent series", a.name);
                        for t in [&a.summary, &a.description] {
                            let rest = t
                                .replace("{{ $labels.", "")
                                .replace(&template::literal("{{"), "");
                            assert!(
                                !rest.contains("{{"),
                                "{}: only $labels templates: {t}",
                                a.name
                            );
                        }
                    }
                }
                assert!(names.contains("ClockSkew") && names.contains("EtcdQuorumLost"));
                // The VIP's TLS is probed in every plan, with or without calls.
                for n in [
                    "TlsProbeFailed",
                    "CertificateExpiringSoon",
                    "CertificateExpiringCritical",
                ] {
                    assert!(names.contains(n), "{n}");
                }
                // The backup host is in every plan.
                for n in [
                    "PgBackRestBackupFailed",
                    "PgBackRestCheckFailed",
                    "MediaBackupFailed",
                    "PgDumpFailed",
                    "PgBackRestBackupsLate",
                    "PgBackRestDailyBackupLate",
                    "PgBackRestFullBackupLate",
                    "MediaBackupLate",
                    "PgDumpLate",
                    "BackupMetricsMissing",
                ] {
                    assert!(names.contains(n), "{n}");
                }
                let coturn = plan.host(Role::Coturn).count > 0;
                for n in ["CoturnDown", "CoturnAllDown", "CoturnTlsDown"] {
                    assert_eq!(names.contains(n), coturn, "{n}");
                }
            });
        }
    }

    #[test]
    fn thresholds_come_from_the_plan() {
        with_ctx(&Plan::default(), |ctx| {
            let all: Vec<Alert> = groups(ctx).into_iter().flat_map(|g| g.alerts).collect();
            let expr = |n: &str| all.iter().find(|a| a.name == n).unwrap().expr.clone();
            // postgres_available 485: warning at 80% = 388, critical at 485.
            assert!(expr("PostgresSynapseConnectionsHigh").ends_with("> 388"));
            assert!(expr("PostgresSynapseConnectionsExhausted").ends_with(">= 485"));
            // 3 etcd members: quorum 2.
            assert!(expr("EtcdQuorumLost").ends_with("< 2"));
            assert_eq!(
                expr("CertificateExpiringSoon"),
                "probe_ssl_earliest_cert_expiry - time() < 21 * 86400"
            );
            assert_eq!(
                expr("CertificateExpiringCritical"),
                "probe_ssl_earliest_cert_expiry - time() < 7 * 86400"
            );
            assert_eq!(
                expr("TargetDown"),
                r#"up{job!~"coturn-turn|coturn-turns|vip-tls"} == 0"#
            );
            assert_eq!(
                expr("CoturnAllDown"),
                r#"max(probe_success{job="coturn-turn"}) == 0"#
            );
        });
    }

    /// Every budget rule says where its threshold comes from, in a comment above it in
    /// its file, and names the plan keys to change in its description.
    #[test]
    fn budget_rules_say_where_their_numbers_come_from() {
        for plan in [Plan::default(), minimal()] {
            with_ctx(&plan, |ctx| {
                let h = ctx.topology.first(Role::Monitoring).unwrap();
                for g in [budgets::group(ctx), disks::group(ctx)] {
                    let file = rule_file(ctx, h, &g).contents;
                    for a in &g.alerts {
                        let note = a
                            .threshold
                            .as_deref()
                            .unwrap_or_else(|| panic!("{}", a.name));
                        let at = file.find(&format!("      - alert: {}\n", a.name)).unwrap();
                        let comment = format!("      # {}\n", note.lines().last().unwrap());
                        assert!(file[..at].ends_with(&comment), "{}: {comment}", a.name);
                        // The number the expression compares with is in the comment.
                        let number: String = a
                            .expr
                            .rsplit(' ')
                            .next()
                            .unwrap()
                            .chars()
                            .filter(char::is_ascii_digit)
                            .collect();
                        if a.name != "CoturnAllocationsUnknown" && !a.name.ends_with("Days") {
                            assert!(note.contains(&number), "{}: {number} in {note}", a.name);
                        }
                        assert!(
                            a.description.contains("Why: ") && a.description.contains("Change: "),
                            "{}",
                            a.name
                        );
                        // A plan key (dotted, kebab-case) to change.
                        assert!(
                            [
                                "postgres.max-connections",
                                "assumptions.synapse-process-base-mib",
                                "minio.parity",
                                "hosts.coturn.count",
                                "hosts.livekit.count",
                                "disk-gib",
                                "minio.drive-tib",
                                "systemctl enable",
                            ]
                            .iter()
                            .any(|k| a.description.contains(k)),
                            "{}: {}",
                            a.name,
                            a.description
                        );
                    }
                }
            });
        }
    }

    #[test]
    fn no_calls_group_without_calls() {
        with_ctx(&minimal(), |ctx| {
            assert!(groups(ctx).iter().all(|g| g.name != "calls"));
            // The VIP's TLS and certificate rules do not depend on calls.
            assert!(groups(ctx).iter().any(|g| g.name == "tls"));
            assert!(
                scrape_jobs(ctx)
                    .iter()
                    .all(|j| j.name != "livekit" && j.name != "redis")
            );
        });
    }
}

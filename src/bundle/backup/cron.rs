//! The backup host's schedule: one cron file for pgBackRest, the media snapshots and
//! the weekly dump. The jobs are `crate::deploy::backups`' (the alerts and the storage
//! view read them too); this module writes them as cron lines.

use super::super::{Comment, Ctx, File, Host, Scope};
use super::NODE_TEXTFILE_DIR;
use crate::deploy::backups::jobs;
use crate::plan::Role;
use std::fmt::Write;

/// The backup host's cron file.
pub(in crate::bundle) const CRON_FILE: &str = "/etc/cron.d/synapse-planner-backup";

/// `1,3-5`-style cron field from ascending values; `*` when it covers `0..=max`.
pub(in crate::bundle) fn cron_field(values: &[u8], max: u8) -> String {
    if values.len() == usize::from(max) + 1
        && values.iter().enumerate().all(|(i, v)| usize::from(*v) == i)
    {
        return "*".to_string();
    }
    let mut parts = Vec::new();
    let mut i = 0;
    while i < values.len() {
        let start = values[i];
        let mut end = start;
        while i + 1 < values.len() && values[i + 1] == end + 1 {
            i += 1;
            end = values[i];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    parts.join(",")
}

pub(super) fn cron(ctx: &Ctx, h: &Host) -> File {
    let mut o = ctx.header(Comment::Hash);
    o.push_str(&Comment::Hash.lines(&format!(
        "The backup schedule on {} (cron.d: minute hour day month weekday user command).
Times are UTC (prepare-host.sh sets the zone). Each job writes its result for
node_exporter's textfile collector ({NODE_TEXTFILE_DIR}), so Prometheus sees a
backup that stops succeeding; cron mails its errors to root.",
        h.name
    )));
    o.push_str(
        "SHELL=/bin/bash
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

",
    );
    for j in jobs() {
        let _ = writeln!(
            o,
            "# {}\n{} {} * * {} root {}",
            j.why,
            j.minute,
            cron_field(&j.hours, 23),
            cron_field(&j.days, 6),
            j.command
        );
    }
    File::new(
        format!("hosts/{}{CRON_FILE}", h.name),
        Scope::Role(Role::Backup),
        "Backup schedule: pgBackRest full weekly, diff daily, incr hourly, daily check; media daily; pg_dump weekly.",
        o,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::deploy::backups::{Job, backup_jobs};
    use crate::plan::Plan;

    use crate::bundle::backup::files;
    use crate::bundle::with_ctx;

    #[test]
    fn exactly_one_backup_starts_every_hour_of_the_week() {
        let jobs = backup_jobs();
        let mut kinds = std::collections::BTreeMap::new();
        for day in 0..7u8 {
            for hour in 0..24u8 {
                let starting: Vec<&Job> = jobs
                    .iter()
                    .filter(|j| j.days.contains(&day) && j.hours.contains(&hour))
                    .collect();
                assert_eq!(starting.len(), 1, "day {day} hour {hour}");
                *kinds
                    .entry(starting[0].command.rsplit(' ').next().unwrap_or(""))
                    .or_insert(0) += 1;
            }
        }
        // Full weekly, diff daily on the other days, incr every hour but 01:30.
        assert_eq!(kinds.get("full"), Some(&1));
        assert_eq!(kinds.get("diff"), Some(&6));
        assert_eq!(kinds.get("incr"), Some(&(7 * 23)));
    }

    #[test]
    fn cron_fields() {
        for (values, max, expect) in [
            (vec![1], 23, "1"),
            ((0..24).collect::<Vec<u8>>(), 23, "*"),
            ((0..24).filter(|h| *h != 1).collect(), 23, "0,2-23"),
            ((1..7).collect(), 6, "1-6"),
            (vec![0, 2, 3, 4, 6], 6, "0,2-4,6"),
            ((0..7).collect(), 6, "*"),
        ] {
            assert_eq!(cron_field(&values, max), expect, "{values:?}");
        }
    }

    #[test]
    fn cron_file_lines() {
        with_ctx(&Plan::default(), |ctx| {
            let f = files(ctx)
                .into_iter()
                .find(|f| f.path.ends_with("/etc/cron.d/synapse-planner-backup"))
                .expect("cron");
            for line in [
                "30 1 * * 0 root /usr/local/sbin/pgbackrest-backup.sh full\n",
                "30 1 * * 1-6 root /usr/local/sbin/pgbackrest-backup.sh diff\n",
                "30 0,2-23 * * * root /usr/local/sbin/pgbackrest-backup.sh incr\n",
                "45 4 * * 6 root nice -n 19 ionice -c3 /usr/local/sbin/pg-dump-synapse.sh\n",
            ] {
                assert!(f.contents.contains(line), "{line}");
            }
        });
    }
}

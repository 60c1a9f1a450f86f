//! The storage-over-time view: growth per disk, the month each fills, the chart. Every
//! figure is read from the report's `storage` section by its JSON path.

use super::Computed;
use super::metric::metric;
use crate::report::Unit;
use leptos::prelude::*;

pub fn storage_view(c: &Computed) -> impl IntoView + use<> {
    let s = &c.report.storage;
    let svg = crate::charts::storage::storage_chart(&c.report, 720);
    let disks = s
        .disks
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let p = |k: &str| format!("storage.disks[{i}].{k}");
            let fills = d.month_full.is_some();
            let items = d
                .items
                .iter()
                .enumerate()
                .map(|(j, _)| {
                    let q = |k: &str| format!("storage.disks[{i}].items[{j}].{k}");
                    view! {
                        <tr>
                            <th scope="row">
                                {metric(c, q("name"), Unit::Plain)}
                                <details class="why"><summary>"how"</summary><p>{metric(c, q("formula"), Unit::Plain)}</p><p class="source">{metric(c, q("source"), Unit::Plain)}</p></details>
                            </th>
                            <td class="num">{metric(c, q("now-gib"), Unit::Gib)}</td>
                            <td class="num">"+ " {metric(c, q("growth-gib-per-month"), Unit::Gib)}</td>
                            <td class="num">{metric(c, q("end-gib"), Unit::Gib)}</td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <details class="host disk" class:over=fills open=fills data-disk=d.id.key()>
                    <summary>
                        <span class="host-name">{metric(c, p("label"), Unit::Plain)}</span>
                        <span class="host-count">"now " {metric(c, p("now-gib"), Unit::Gib)} " (" {metric(c, p("now-percent"), Unit::Percent)} ")"</span>
                        <span class="host-need">"+ " {metric(c, p("growth-gib-per-month"), Unit::Gib)} " a month"</span>
                        <span class=if fills { "host-need" } else { "host-free" }>"fills in month: " {metric(c, format!("storage.months-until-full.{}", d.id), Unit::Count)}</span>
                    </summary>
                    <div class="table-scroll">
                        <table class="items">
                            <thead>
                                <tr>
                                    <th scope="col">"On this disk"</th>
                                    <th scope="col" class="num">"Now"</th>
                                    <th scope="col" class="num">"Per month"</th>
                                    <th scope="col" class="num">"Month " {metric(c, "storage.months", Unit::Count)}</th>
                                </tr>
                            </thead>
                            <tbody>{items}</tbody>
                            <tfoot>
                                <tr>
                                    <th scope="row">"Total"</th>
                                    <td class="num">{metric(c, p("now-gib"), Unit::Gib)}</td>
                                    <td class="num">"+ " {metric(c, p("growth-gib-per-month"), Unit::Gib)}</td>
                                    <td class="num">{metric(c, p("end-gib"), Unit::Gib)} " (" {metric(c, p("end-percent"), Unit::Percent)} ")"</td>
                                </tr>
                                <tr>
                                    <th scope="row">"Capacity " <code>{metric(c, p("capacity-path"), Unit::Plain)}</code></th>
                                    <td class="num">{metric(c, p("capacity-gib"), Unit::Gib)}</td>
                                    <td class="num">"needed: " {metric(c, p("needed-gib"), Unit::Gib)}</td>
                                    <td class="num">"fills in month: " {metric(c, p("month-full"), Unit::Count)}</td>
                                </tr>
                                <tr>
                                    <td colspan="4" class="formula">{metric(c, p("capacity-formula"), Unit::Plain)}</td>
                                </tr>
                            </tfoot>
                        </table>
                    </div>
                </details>
            }
        })
        .collect_view();
    view! {
        <section class="card" aria-labelledby="h-storage" id="storage">
            <h2 id="h-storage">"Storage over time"</h2>
            <p class="lead">
                "Database, media, WAL, backups and metrics from go-live over " {metric(c, "storage.months", Unit::Count)}
                " months, against each disk. A disk counts as full at " {metric(c, "storage.full-percent", Unit::Percent)}
                " of its capacity; — means it stays below the line."
            </p>
            <dl class="kpis">
                <div><dt>"Events stored a day"</dt><dd>{metric(c, "storage.rates.stored-events-per-day", Unit::Count)}</dd></div>
                <div><dt>"Database growth a month"</dt><dd>{metric(c, "storage.rates.db-gib-per-month", Unit::Gib)}</dd></div>
                <div><dt>"Media into MinIO a month"</dt><dd>{metric(c, "storage.rates.media-gib-per-month", Unit::Gib)}</dd></div>
                <div><dt>"WAL written a day"</dt><dd>{metric(c, "storage.rates.wal-gib-per-day", Unit::Gib)}</dd></div>
            </dl>
            <div class="chart-wrap" inner_html=svg></div>
            <div class="hosts disks">{disks}</div>
            <p class="inputs-line">
                "Driven by "
                <a href="#f-activity-daily-active-users">"activity"</a>
                " (daily active users, messages and uploads per user, upload size, federation, months), "
                <a href="#f-retention-full-backups">"retention"</a>
                " (media lifetimes, full backups, media snapshots, Prometheus days), each host role's disk size and the MinIO drives, and the storage assumptions. "
                "Media lifetimes do not shrink MinIO: Synapse never deletes from a storage provider."
            </p>
        </section>
    }
}

//! The results panel: budgets, charts, parameters and findings of the last valid plan.

use super::metric::{metric, metric_bare};
use super::tabs::{TabList, View};
use super::{Computed, State};
use crate::report::Unit;
use crate::sizing::Category;
use leptos::prelude::*;

/// Header summary: counts of findings (they open the findings view) and whether the
/// figures are current. In the sticky header, so visible from every view.
#[component]
pub fn Status() -> impl IntoView {
    let state = expect_context::<State>();
    let errors = move || state.validation.with(|v| v.errors().count());
    let open = move |_| super::tabs::show_findings(state);
    view! {
        <div class="status" aria-live="polite">
            {move || {
                let c = state.computed.get();
                let c = &c.0;
                let s = c.report.summary;
                let plural = |n: usize, one: &'static str, many: &'static str| if n == 1 { one } else { many };
                view! {
                    <button type="button" class="pill error" on:click=open>{metric_bare(c, "summary.errors", Unit::Count)} {plural(s.errors, " error", " errors")}</button>
                    <button type="button" class="pill warning" on:click=open>{metric_bare(c, "summary.warnings", Unit::Count)} {plural(s.warnings, " warning", " warnings")}</button>
                    <button type="button" class="pill info" on:click=open>{metric_bare(c, "summary.infos", Unit::Count)} {plural(s.infos, " note", " notes")}</button>
                }
            }}
            <Show when=move || state.stale.get()>
                <span class="pill stale-pill">{move || format!("{} input error(s): figures are stale", errors())}</span>
            </Show>
        </div>
    }
}

/// The results: the stale banner, the tabs, and the selected view. A view is rendered
/// only while selected (typing costs the visible view only); the bundle panel stays
/// mounted (hidden) so its secrets are drawn once per page.
#[component]
pub fn Results() -> impl IntoView {
    let state = expect_context::<State>();
    let panel = move |v: View, content: fn(&Computed) -> AnyView| {
        view! {
            <div class="panel" role="tabpanel" id=format!("panel-{}", v.key()) aria-labelledby=format!("tab-{}", v.key())
                hidden=move || state.view.get() != v>
                {move || (state.view.get() == v).then(|| {
                    let shared = state.computed.get();
                    content(&shared.0)
                })}
            </div>
        }
    };
    view! {
        <section id="results" class="results" class:stale=move || state.stale.get() aria-label="Results" tabindex="-1">
            <Show when=move || state.stale.get()>
                <div class="stale-banner" role="status">
                    "Showing the last valid results. Fix the highlighted inputs to update them."
                </div>
            </Show>
            <TabList/>
            {panel(View::Budgets, |c| view! { {synapse_section(c)} {ram_section(c)} {connections_section(c)} {postgres_section(c)} }.into_any())}
            {panel(View::Findings, |c| findings_section(c).into_any())}
            {panel(View::Storage, |c| super::storage::storage_view(c).into_any())}
            {panel(View::ObjectStorage, |c| super::capacity::object_storage_view(c).into_any())}
            {panel(View::Calls, |c| super::capacity::calls_view(c).into_any())}
            {panel(View::Failures, |c| super::capacity::failures_view(c).into_any())}
            <div class="panel" role="tabpanel" id="panel-assumptions" aria-labelledby="tab-assumptions"
                hidden=move || state.view.get() != View::Assumptions>
                {move || (state.view.get() == View::Assumptions).then(|| view! { <super::assumptions::AssumptionsPanel/> })}
            </div>
            <div class="panel" role="tabpanel" id="panel-compare" aria-labelledby="tab-compare"
                hidden=move || state.view.get() != View::Compare>
                {move || (state.view.get() == View::Compare).then(|| view! { <super::compare::ComparePanel/> })}
            </div>
            <div class="panel" role="tabpanel" id="panel-bundle" aria-labelledby="tab-bundle"
                hidden=move || state.view.get() != View::Bundle>
                <super::bundle::BundlePanel/>
            </div>
        </section>
    }
}

fn synapse_section(c: &Computed) -> impl IntoView + use<> {
    // ESS's band for the plan (`cpu.ess`), next to the planner's one core per process.
    let p = |k: &str| format!("cpu.ess.{k}");
    view! {
        <section class="card" aria-labelledby="h-synapse">
            <h2 id="h-synapse">"Synapse processes"</h2>
            <dl class="kpis">
                <div><dt>"Processes"</dt><dd>{metric(c, "synapse.process-count", Unit::Count)}</dd></div>
                <div><dt>"Workers"</dt><dd>{metric(c, "synapse.worker-count", Unit::Count)}</dd></div>
                <div><dt>"RAM, busiest process"</dt><dd>{metric(c, "synapse.ram-per-process-gib", Unit::Gib)}</dd></div>
                <div><dt>"RAM, all processes"</dt><dd>{metric(c, "synapse.ram-total-gib", Unit::Gib)}</dd></div>
                <div><dt>"Cache autotuning bound, per process"</dt><dd>{metric(c, "synapse.process-bound-gib", Unit::Gib)}</dd></div>
                <div><dt>"The deployment notes' rule would say"</dt><dd>{metric(c, "synapse.seed-rule-total-gib", Unit::Gib)}</dd></div>
                <div><dt>"vCPUs, all processes (one core each)"</dt><dd>{metric(c, p("planner-synapse-vcpus"), Unit::Count)}</dd></div>
                <div><dt>"ESS's CPU for this band"</dt><dd>{metric(c, p("synapse-vcpus"), Unit::Count)}</dd></div>
            </dl>
            <p class="formula">{metric(c, "synapse.ram-formula", Unit::Plain)}</p>
            <p class="hint">"Each process type: a base measured in the lab plus the caches its users bring; cache autotuning compares the whole process's jemalloc-allocated memory with its maximum and evicts above it. The deployment notes' rule is shown for comparison only."</p>
        </section>
    }
}

fn ram_section(c: &Computed) -> impl IntoView + use<> {
    let legend = Category::ALL
        .iter()
        .map(|&cat| {
            let color = crate::charts::category_color(cat);
            let style = format!("background: rgb({}, {}, {})", color.0, color.1, color.2);
            view! { <li><span class="swatch" style=style></span>{cat.label()}</li> }
        })
        .collect_view();
    let hosts = c
        .report
        .hosts
        .iter()
        .enumerate()
        .filter(|(_, h)| h.count > 0)
        .map(|(i, h)| {
            let over = h.ram_free_gib.0 < 0;
            let p = |k: &str| format!("hosts[{i}].{k}");
            let items = h
                .items
                .iter()
                .enumerate()
                .map(|(j, it)| {
                    let q = |k: &str| format!("hosts[{i}].items[{j}].{k}");
                    let count = (it.count > 1).then(|| view! { {metric(c, q("count"), Unit::Count)} " × " {metric(c, q("each-gib"), Unit::Gib)} " = " });
                    view! {
                        <tr>
                            <th scope="row">
                                <span class=format!("swatch {}", cat_class(it.category))></span>
                                {metric(c, q("name"), Unit::Plain)}
                            </th>
                            <td class="num">{count}{metric(c, q("gib"), Unit::Gib)}</td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <details class="host" class:over=over>
                    <summary>
                        <span class="host-name">{metric(c, p("label"), Unit::Plain)}</span>
                        <span class="host-count">{metric(c, p("count"), Unit::Count)} " × " {metric(c, p("ram-gib"), Unit::Count)} " GiB, " {metric(c, p("vcpus"), Unit::Count)} " vCPU"</span>
                        <span class="host-need">"needs " {metric_bare(c, p("ram-needed-gib"), Unit::Gib)} " (" {metric_bare(c, p("ram-used-percent"), Unit::Percent)} ")"</span>
                        <span class="host-free">"free " {metric_bare(c, p("ram-free-gib"), Unit::Gib)}</span>
                        {cpu_summary(c, i)}
                    </summary>
                    <table class="items">
                        <tbody>{items}</tbody>
                        <tfoot>
                            <tr>
                                <th scope="row">"Needed on one host (" {metric(c, p("ram-used-percent"), Unit::Percent)} " of its RAM)"</th>
                                <td class="num">{metric(c, p("ram-needed-gib"), Unit::Gib)}</td>
                            </tr>
                            <tr>
                                <th scope="row">"Free"</th>
                                <td class="num">{metric(c, p("ram-free-gib"), Unit::Gib)}</td>
                            </tr>
                        </tfoot>
                    </table>
                    {cpu_table(c, i)}
                </details>
            }
        })
        .collect_view();
    view! {
        <section class="card" aria-labelledby="h-ram">
            <h2 id="h-ram">"RAM and CPU per host"</h2>
            <p class="lead">"What one host of each role needs, against its RAM and its vCPUs. Open a role for every item; select a figure to see how it was computed."</p>
            <div class="chart-wrap" inner_html=c.ram_svg.clone()></div>
            <ul class="legend">{legend}</ul>
            <div class="hosts">{hosts}</div>
        </section>
    }
}

/// The host's CPU figure next to its RAM (`cpu.hosts[i]`, the same role order).
fn cpu_summary(c: &Computed, i: usize) -> impl IntoView + use<> {
    let p = |k: &str| format!("cpu.hosts[{i}].{k}");
    view! {
        <span class="host-cpu">"CPU needs " {metric_bare(c, p("vcpus-needed"), Unit::Count)} " vCPU (" {metric_bare(c, p("vcpus-used-percent"), Unit::Percent)} ")"</span>
    }
}

/// Every CPU item of the host, its vCPUs, and the total against the host's vCPUs.
fn cpu_table(c: &Computed, i: usize) -> impl IntoView + use<> {
    let p = |k: &str| format!("cpu.hosts[{i}].{k}");
    let n = c.report.cpu.hosts.get(i).map_or(0, |h| h.items.len());
    let rows = (0..n)
        .map(|j| {
            let q = |k: &str| format!("cpu.hosts[{i}].items[{j}].{k}");
            view! {
                <tr>
                    <th scope="row">{metric(c, q("name"), Unit::Plain)}</th>
                    <td class="num">{metric(c, q("vcpus"), Unit::Count)} " vCPU"</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="items cpu-items" aria-label="CPU">
            <tbody>{rows}</tbody>
            <tfoot>
                <tr>
                    <th scope="row">"CPU needed on one host (" {metric(c, p("vcpus-used-percent"), Unit::Percent)} " of its vCPUs)"</th>
                    <td class="num">{metric(c, p("vcpus-needed"), Unit::Count)} " vCPU"</td>
                </tr>
                <tr>
                    <th scope="row">"vCPUs free"</th>
                    <td class="num">{metric(c, p("vcpus-free"), Unit::Count)}</td>
                </tr>
            </tfoot>
        </table>
    }
}

fn cat_class(c: Category) -> &'static str {
    match c {
        Category::Synapse => "cat-synapse",
        Category::Database => "cat-database",
        Category::Service => "cat-service",
        Category::System => "cat-system",
    }
}

fn connections_section(c: &Computed) -> impl IntoView + use<> {
    let k = &c.report.connections;
    let chain_ok_1 = k.synapse_pool_total <= k.pgbouncer_max_client_conn;
    let chain_ok_2 = k.pgbouncer_server_connections as i64 <= k.postgres_available;
    let reserved = k
        .postgres_reserved
        .iter()
        .enumerate()
        .map(|(i, r)| {
            view! {
                <li>{metric(c, format!("connections.postgres-reserved[{i}].count", ), Unit::Count)} " " {r.name}</li>
            }
        })
        .collect_view();
    view! {
        <section class="card" aria-labelledby="h-conn">
            <h2 id="h-conn">"Database connection chain"</h2>
            <p class="lead">"Each link must hold the one before it."</p>
            <ol class="chain">
                <li class="link">
                    <span class="label">"Synapse pools"</span>
                    <span class="value">{metric(c, "connections.synapse-pool-total", Unit::Count)}</span>
                    <span class="detail">{metric(c, "connections.synapse-processes", Unit::Count)} " processes × cp_max " {metric(c, "connections.cp-max", Unit::Count)}</span>
                </li>
                <li class="arrow" class:bad=!chain_ok_1 aria-hidden="true">{if chain_ok_1 { "≤" } else { "> over!" }}</li>
                <li class="link">
                    <span class="label">"PgBouncer max_client_conn"</span>
                    <span class="value">{metric(c, "connections.pgbouncer-max-client-conn", Unit::Count)}</span>
                    <span class="detail">{metric(c, "connections.pgbouncer-pool-mode", Unit::Plain)} " mode"</span>
                </li>
                <li class="arrow" aria-hidden="true">"→"</li>
                <li class="link">
                    <span class="label">"PgBouncer server connections"</span>
                    <span class="value">{metric(c, "connections.pgbouncer-server-connections", Unit::Count)}</span>
                    <span class="detail">{metric(c, "connections.pgbouncer-instances", Unit::Count)} " × (default + reserve pool)"</span>
                </li>
                <li class="arrow" class:bad=!chain_ok_2 aria-hidden="true">{if chain_ok_2 { "≤" } else { "> over!" }}</li>
                <li class="link">
                    <span class="label">"PostgreSQL available"</span>
                    <span class="value">{metric(c, "connections.postgres-available", Unit::Count)}</span>
                    <span class="detail">"max_connections " {metric(c, "connections.postgres-max-connections", Unit::Count)} " − " {metric(c, "connections.postgres-reserved-total", Unit::Count)} " reserved"</span>
                </li>
            </ol>
            <div class="chart-wrap" inner_html=c.connections_svg.clone()></div>
            <details class="why">
                <summary>"Reserved PostgreSQL connections"</summary>
                <ul>{reserved}</ul>
            </details>
        </section>
    }
}

fn findings_section(c: &Computed) -> impl IntoView + use<> {
    let list = c
        .report
        .findings
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let sev = f.severity.key();
            let paths = f
                .paths
                .iter()
                .map(|p| {
                    let href = format!("#f-{}", p.replace('.', "-"));
                    view! { <a class="path" href=href>{p.clone()}</a> }
                })
                .collect_view();
            view! {
                <li class=format!("finding {sev}")>
                    <div class="finding-head">
                        <span class=format!("badge {sev}")>{metric(c, format!("findings[{i}].severity"), Unit::Plain)}</span>
                        <span class="message">{metric(c, format!("findings[{i}].message"), Unit::Plain)}</span>
                    </div>
                    <p class="fix"><strong>"Change: "</strong>{metric(c, format!("findings[{i}].fix"), Unit::Plain)}</p>
                    <p class="whyline"><strong>"Why: "</strong>{metric(c, format!("findings[{i}].why"), Unit::Plain)}</p>
                    <p class="meta"><code>{metric(c, format!("findings[{i}].code"), Unit::Plain)}</code> " · " {paths}</p>
                </li>
            }
        })
        .collect_view();
    let empty = c
        .report
        .findings
        .is_empty()
        .then(|| view! { <p>"No findings: the plan fits."</p> });
    view! {
        <section class="card" aria-labelledby="h-findings">
            <h2 id="h-findings" tabindex="-1">"Findings"</h2>
            <p class="lead">
                {metric(c, "summary.errors", Unit::Count)} " errors, " {metric(c, "summary.warnings", Unit::Count)} " warnings, "
                {metric(c, "summary.infos", Unit::Count)} " notes, over the budgets, storage, object storage, calls and node failures. "
                "Each names the inputs to change; select one to go to it."
            </p>
            {empty}
            <ul class="findings">{list}</ul>
        </section>
    }
}

fn postgres_section(c: &Computed) -> impl IntoView + use<> {
    let rows = c
        .report
        .postgres
        .parameters
        .iter()
        .map(|p| {
            view! {
                <tr>
                    <th scope="row"><code>{p.name}</code></th>
                    <td class="num"><code>{metric(c, format!("postgres.parameters.{}", p.name), Unit::Plain)}</code></td>
                    <td class="formula">{metric(c, format!("postgres.formulas.{}", p.name), Unit::Plain)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="card" aria-labelledby="h-pg">
            <h2 id="h-pg">"PostgreSQL parameters"</h2>
            <p class="lead">"For every Patroni node (set through bootstrap.dcs so all nodes agree)."</p>
            <div class="table-scroll">
                <table class="params">
                    <thead><tr><th scope="col">"Parameter"</th><th scope="col">"Value"</th><th scope="col">"Why"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
    }
}

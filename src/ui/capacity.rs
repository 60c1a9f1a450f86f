//! Object storage, call capacity and node-failure views. Every figure is read from the
//! report's JSON by its path (`metric`); the host picker shows `sizing::failures::lose`
//! for the chosen host, formatted by the same `report::display`.

use super::metric::metric;
use super::{Computed, State};
use crate::report::{Unit, display, lookup};
use crate::sizing::failures::Verdict;
use leptos::prelude::*;
use std::cell::RefCell;

/// A card's key figure: a label and its value (with a unit word after it when the
/// report's unit has no display of its own).
fn kpi(c: &Computed, label: &'static str, path: &str, unit: Unit, after: &'static str) -> AnyView {
    view! { <div><dt>{label}</dt><dd>{metric(c, path.to_string(), unit)}{after}</dd></div> }
        .into_any()
}

pub fn object_storage_view(c: &Computed) -> impl IntoView + use<> {
    let s = &c.report.object_storage;
    let svg = crate::charts::capacity::object_storage_chart(&c.report, 720);
    let problem = s.refused.then(|| {
        view! {
            <div class="stale-banner" role="alert" data-problem="object-storage">
                {metric(c, "object-storage.problem", Unit::Plain)}
            </div>
        }
    });
    let distributed = s.layout == crate::sizing::objectstore::Mode::Distributed;
    let options = s
        .parity_options
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let q = |k: &str| format!("object-storage.parity-options[{i}].{k}");
            view! {
                <tr class:active=o.in_effect data-in-effect=o.in_effect.to_string()>
                    <th scope="row">"EC:" {metric(c, q("parity"), Unit::Count)} {o.in_effect.then_some(" (in effect)")}</th>
                    <td class="num">{metric(c, q("data-drives"), Unit::Count)}</td>
                    <td class="num">{metric(c, q("usable-tib"), Unit::Plain)} " TiB"</td>
                    <td class="num">{metric(c, q("read-quorum"), Unit::Count)} " / " {metric(c, q("write-quorum"), Unit::Count)}</td>
                    <td class="num">{metric(c, q("drive-failures-tolerated"), Unit::Count)} " / " {metric(c, q("drive-failures-tolerated-for-writes"), Unit::Count)}</td>
                    <td class="num">{metric(c, q("node-failures-tolerated"), Unit::Count)} " / " {metric(c, q("node-failures-tolerated-for-writes"), Unit::Count)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="card" aria-labelledby="h-object-storage" id="object-storage">
            <h2 id="h-object-storage">"Object storage"</h2>
            <p class="lead">
                "MinIO's erasure coding for " {metric(c, "object-storage.nodes", Unit::Count)} " node(s) × "
                {metric(c, "object-storage.drives-per-node", Unit::Count)} " drive(s) of "
                {metric(c, "object-storage.drive-tib", Unit::Plain)} " TiB ("
                {metric(c, "object-storage.layout", Unit::Plain)} "). Each erasure set of N drives stores K data and M parity shards of every object: reads need K drives, writes K (K + 1 when M = N/2)."
            </p>
            {problem}
            <dl class="kpis">
                {kpi(c, "Usable", "object-storage.usable-tib", Unit::Plain, " TiB")}
                {kpi(c, "Raw", "object-storage.raw-tib", Unit::Plain, " TiB")}
                {kpi(c, "Erasure set size (N)", "object-storage.set-size", Unit::Count, " drives")}
                {kpi(c, "Erasure sets", "object-storage.sets", Unit::Count, "")}
                <div><dt>"Parity (M)"</dt><dd>"EC:" {metric(c, "object-storage.parity", Unit::Count)}</dd></div>
                {kpi(c, "Data drives (K)", "object-storage.data-drives", Unit::Count, "")}
                {kpi(c, "Read quorum", "object-storage.read-quorum", Unit::Count, " drives")}
                {kpi(c, "Write quorum", "object-storage.write-quorum", Unit::Count, " drives")}
                <div><dt>"Drive failures per set"</dt><dd>{metric(c, "object-storage.drive-failures-tolerated", Unit::Count)} " read, " {metric(c, "object-storage.drive-failures-tolerated-for-writes", Unit::Count)} " write"</dd></div>
                <div><dt>"Node failures"</dt><dd>{metric(c, "object-storage.node-failures-tolerated", Unit::Count)} " read, " {metric(c, "object-storage.node-failures-tolerated-for-writes", Unit::Count)} " write"</dd></div>
                {kpi(c, "Drives of a set per node", "object-storage.drives-per-set-per-node", Unit::Count, "")}
                {kpi(c, "RAM per node (MinIO)", "object-storage.ram-guidance-gib", Unit::Gib, "")}
            </dl>
            <p class="formula">
                "MinIO's default parity for a set of " {metric(c, "object-storage.set-size", Unit::Count)} " is EC:"
                {metric(c, "object-storage.default-parity", Unit::Count)} "; it accepts at most EC:"
                {metric(c, "object-storage.max-parity", Unit::Count)} " (half the set). "
                {if distributed { "Node failures count the drives a set has on one node." } else { "One node: a host failure stops the store whatever the parity." }}
            </p>
            <div class="chart-wrap" inner_html=svg></div>
            <div class="table-scroll">
                <table class="params parity-options">
                    <caption class="lead">"What each parity gives (set it with minio.parity; 0 = MinIO's default)"</caption>
                    <thead><tr>
                        <th scope="col">"Parity"</th>
                        <th scope="col">"Data drives"</th>
                        <th scope="col">"Usable"</th>
                        <th scope="col">"Quorum read / write"</th>
                        <th scope="col">"Drives lost read / write"</th>
                        <th scope="col">"Nodes lost read / write"</th>
                    </tr></thead>
                    <tbody>{options}</tbody>
                </table>
            </div>
        </section>
    }
}

pub fn calls_view(c: &Computed) -> impl IntoView + use<> {
    let t = &c.report.calls.turn;
    let l = &c.report.calls.livekit;
    let svg = crate::charts::capacity::calls_chart(&c.report, 720);
    let turn = if t.nodes == 0 {
        view! { <p class="formula" data-off="turn">"No coturn host: " {metric(c, "calls.turn.relayed-calls", Unit::Count)} " relayed call(s) at the peak have no relay."</p> }.into_any()
    } else {
        view! {
            <dl class="kpis">
                {kpi(c, "Relayed calls at the peak", "calls.turn.relayed-calls", Unit::Count, "")}
                {kpi(c, "Allocations", "calls.turn.allocations", Unit::Count, "")}
                {kpi(c, "Allocations per node", "calls.turn.allocations-per-node", Unit::Count, "")}
                {kpi(c, "Max allocations per node", "calls.turn.max-allocations-per-node", Unit::Count, "")}
                {kpi(c, "total-quota", "calls.turn.total-quota", Unit::Count, "")}
                {kpi(c, "user-quota", "calls.turn.user-quota", Unit::Count, "")}
                {kpi(c, "Relay Mbit/s per node, each way", "calls.turn.relay-mbps-each-way-per-node", Unit::Plain, "")}
                {kpi(c, "Relayed calls supported", "calls.turn.relayed-calls-supported", Unit::Count, "")}
            </dl>
            <p class="formula">
                "One node: " {metric(c, "calls.turn.relay-ports-per-node", Unit::Count)} " relay ports, "
                {metric(c, "calls.turn.sessions-by-file-descriptors", Unit::Count)} " sessions by its "
                {metric(c, "calls.turn.nofile", Unit::Count)} " file descriptors, "
                {metric(c, "calls.turn.max-allocations-by-bandwidth-per-node", Unit::Count)} " allocations by its "
                {metric(c, "calls.turn.nic-mbps", Unit::Plain)} " Mbit/s; the limit is its "
                {metric(c, "calls.turn.limited-by", Unit::Plain)} ". In and out: "
                {metric(c, "calls.turn.relay-mbps-per-node", Unit::Plain)} " Mbit/s; "
                {metric(c, "calls.turn.allocations-per-call", Unit::Plain)} " allocations per relayed call."
            </p>
        }
        .into_any()
    };
    let livekit = if l.nodes == 0 {
        view! { <p class="formula" data-off="livekit">"No LiveKit host: " {metric(c, "calls.livekit.rooms", Unit::Count)} " group call(s) at the peak cannot start."</p> }.into_any()
    } else {
        view! {
            <dl class="kpis">
                {kpi(c, "Participants at the peak", "calls.livekit.participants", Unit::Count, "")}
                {kpi(c, "Rooms per node", "calls.livekit.rooms-per-node", Unit::Count, "")}
                {kpi(c, "Participants per node", "calls.livekit.participants-per-node", Unit::Count, "")}
                <div><dt>"UDP ports per node"</dt><dd>{metric(c, "calls.livekit.ports-needed-per-node", Unit::Count)} " of " {metric(c, "calls.livekit.port-range", Unit::Count)}</dd></div>
                {kpi(c, "Participants the range holds", "calls.livekit.participants-supported-per-node", Unit::Count, "")}
                {kpi(c, "Participants the network carries", "calls.livekit.participants-supported-by-bandwidth-per-node", Unit::Count, "")}
                {kpi(c, "Mbit/s out per node", "calls.livekit.egress-mbps-per-node", Unit::Plain, "")}
                {kpi(c, "Mbit/s in per node", "calls.livekit.ingress-mbps-per-node", Unit::Plain, "")}
            </dl>
            <p class="formula">
                "A room of " {metric(c, "calls.livekit.participants-per-room", Unit::Count)} ": each publishes "
                {metric(c, "calls.livekit.publish-kbps", Unit::Plain)} " kbit/s (simulcast × "
                {metric(c, "calls.livekit.simulcast-factor", Unit::Plain)} ", with audio) and receives "
                {metric(c, "calls.livekit.subscribe-kbps", Unit::Plain)} " kbit/s; the room forwards "
                {metric(c, "calls.livekit.room-egress-mbps", Unit::Plain)} " Mbit/s and receives "
                {metric(c, "calls.livekit.room-ingress-mbps", Unit::Plain)} " Mbit/s. A room lives on one node: the largest needs "
                {metric(c, "calls.livekit.largest-room-ports", Unit::Count)} " ports and "
                {metric(c, "calls.livekit.largest-room-mbps", Unit::Plain)} " Mbit/s (fits on a node: "
                {metric(c, "calls.livekit.largest-room-fits", Unit::Plain)} "). Node network "
                {metric(c, "calls.livekit.nic-mbps", Unit::Plain)} " Mbit/s each way."
            </p>
        }
        .into_any()
    };
    view! {
        <section class="card" aria-labelledby="h-calls" id="calls">
            <h2 id="h-calls">"Calls"</h2>
            <p class="lead">"The plan's peak against each node: 1:1 calls relayed by coturn, group calls forwarded by LiveKit. Bars past the line are over a node's limit."</p>
            <div class="chart-wrap" inner_html=svg></div>
            <h3>"TURN (coturn, " {metric(c, "calls.turn.nodes", Unit::Count)} " node(s))"</h3>
            {turn}
            <h3>"LiveKit (" {metric(c, "calls.livekit.nodes", Unit::Count)} " node(s), " {metric(c, "calls.livekit.rooms", Unit::Count)} " rooms)"</h3>
            {livekit}
        </section>
    }
}

/// The badge class of a verdict: down red, degraded amber, N+1 blue.
fn verdict_class(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Down => "badge error",
        Verdict::Degraded => "badge warning",
        Verdict::NPlusOne => "badge info",
    }
}

thread_local! {
    /// The host last picked, kept across re-renders (each plan change redraws the view).
    static PICKED: RefCell<String> = const { RefCell::new(String::new()) };
}

/// A figure of the picked loss (not in the report: it is computed for the host chosen),
/// with the same markup and formatting as [`metric`]; tagged `data-loss`.
fn loss_metric(json: &serde_json::Value, path: String, unit: Unit) -> AnyView {
    let value = lookup(json, &path)
        .cloned()
        .unwrap_or(serde_json::Value::Null);
    let unit = match (&value, unit) {
        (serde_json::Value::Number(n), Unit::Count) if n.as_u64().is_none() => Unit::Plain,
        _ => unit,
    };
    let text = display(&value, unit);
    view! { <span class="metric" data-loss=path data-value=value.to_string()>{text}</span> }
        .into_any()
}

/// The capacity table of one loss: the picked host's (`data-loss` figures).
fn loss_view(f: &crate::sizing::failures::Failure) -> AnyView {
    let json = serde_json::to_value(f).unwrap_or(serde_json::Value::Null);
    let m = |path: String, unit: Unit| loss_metric(&json, path, unit);
    let details = (0..f.details.len())
        .map(|j| view! { <li>{m(format!("details[{j}]"), Unit::Plain)}</li> })
        .collect_view();
    let times = (0..f.times.len())
        .map(|k| {
            let q = |key: &str| format!("times[{k}].{key}");
            view! {
                <li class="recovery">
                    {m(q("event"), Unit::Plain)} ": " {m(q("best-s"), Unit::Count)} " s best, "
                    {m(q("average-s"), Unit::Count)} " s on average, " {m(q("worst-s"), Unit::Count)} " s worst (measured in the lab: "
                    {m(q("measured.low-s"), Unit::Count)} "–" {m(q("measured.high-s"), Unit::Count)} " s). "
                    <span class="formula">{m(q("arithmetic"), Unit::Plain)}</span>
                </li>
            }
        })
        .collect_view();
    let capacity = (0..f.capacity.len())
        .map(|k| {
            let q = |key: &str| format!("capacity[{k}].{key}");
            view! {
                <tr>
                    <th scope="row">{m(q("name"), Unit::Plain)}</th>
                    <td class="num">{m(q("need"), Unit::Count)}</td>
                    <td class="num">{m(q("before"), Unit::Count)}</td>
                    <td class="num">{m(q("after"), Unit::Count)}</td>
                    <td>{m(q("unit"), Unit::Plain)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="loss" data-host=f.host.clone()>
            <p>
                <span class=verdict_class(f.verdict)>{m("verdict".to_string(), Unit::Plain)}</span>
                " " <strong>{m("host".to_string(), Unit::Plain)}</strong> " (" {m("role".to_string(), Unit::Plain)} "): survives: "
                {m("survives".to_string(), Unit::Plain)} ". " {m("why".to_string(), Unit::Plain)}
            </p>
            <ul>{details}</ul>
            <ul class="recovery-times">{times}</ul>
            <div class="table-scroll">
                <table class="params">
                    <thead><tr><th scope="col">"Capacity"</th><th scope="col">"Need"</th><th scope="col">"Before"</th><th scope="col">"After"</th><th scope="col">"Unit"</th></tr></thead>
                    <tbody>{capacity}</tbody>
                </table>
            </div>
            <p class="formula">"Rule: " {m("rule".to_string(), Unit::Plain)}</p>
        </div>
    }
    .into_any()
}

pub fn failures_view(c: &Computed) -> impl IntoView + use<> {
    let state = expect_context::<State>();
    let rows = c
        .report
        .failures
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let p = |k: &str| format!("failures[{i}].{k}");
            let details = (0..f.details.len())
                .map(|j| view! { <li>{metric(c, p(&format!("details[{j}]")), Unit::Plain)}</li> })
                .collect_view();
            let capacity = (0..f.capacity.len())
                .map(|k| {
                    let q = |key: &str| p(&format!("capacity[{k}].{key}"));
                    let unit_of = |key: &str| match lookup(&c.json, &q(key)) {
                        Some(v) if v.is_u64() => Unit::Count,
                        _ => Unit::Plain,
                    };
                    view! {
                        <li>
                            {metric(c, q("name"), Unit::Plain)} ": " {metric(c, q("before"), unit_of("before"))} " → "
                            {metric(c, q("after"), unit_of("after"))} " " {metric(c, q("unit"), Unit::Plain)}
                            " (need " {metric(c, q("need"), unit_of("need"))} ")"
                        </li>
                    }
                })
                .collect_view();
            let times = (0..f.times.len())
                .map(|k| {
                    let q = |key: &str| p(&format!("times[{k}].{key}"));
                    view! {
                        <li class="recovery">
                            {metric(c, q("event"), Unit::Plain)} ": " {metric(c, q("best-s"), Unit::Count)} " s best, "
                            {metric(c, q("average-s"), Unit::Count)} " s on average, " {metric(c, q("worst-s"), Unit::Count)} " s worst (lab: "
                            {metric(c, q("measured.low-s"), Unit::Count)} "–" {metric(c, q("measured.high-s"), Unit::Count)} " s)"
                        </li>
                    }
                })
                .collect_view();
            view! {
                <tr data-role=f.role.key()>
                    <th scope="row">{metric(c, p("role"), Unit::Plain)}</th>
                    <td><code>{metric(c, p("host"), Unit::Plain)}</code></td>
                    <td><span class=verdict_class(f.verdict)>{metric(c, p("verdict"), Unit::Plain)}</span></td>
                    <td>{metric(c, p("n-plus-one"), Unit::Plain)}</td>
                    <td>{metric(c, p("survives"), Unit::Plain)}</td>
                    <td>
                        {metric(c, p("why"), Unit::Plain)}
                        <ul class="recovery-times">{times}</ul>
                        <details class="why"><summary>"what happens"</summary><ul>{details}</ul><ul>{capacity}</ul></details>
                    </td>
                </tr>
            }
        })
        .collect_view();
    let hosts = state
        .valid_plan
        .with_untracked(|p| crate::sizing::failures::hosts(&p.0));
    let first = hosts.first().cloned().unwrap_or_default();
    let start = PICKED.with(|h| h.borrow().clone());
    let start = if hosts.contains(&start) { start } else { first };
    let picked = RwSignal::new(start);
    let options = hosts
        .iter()
        .map(|h| {
            let mine = h.clone();
            let selected = move || picked.get() == mine;
            view! { <option value=h.clone() selected=selected>{h.clone()}</option> }
        })
        .collect_view();
    let pick = move |ev: leptos::ev::Event| {
        let host = event_target_value(&ev);
        PICKED.with(|h| *h.borrow_mut() = host.clone());
        picked.set(host);
    };
    let loss = move || {
        let host = picked.get();
        state.valid_plan.with(|p| {
            crate::sizing::failures::lose(&p.0, &host)
                .map(|f| loss_view(&f))
                .unwrap_or_else(|| view! { <p>"No such host in the plan."</p> }.into_any())
        })
    };
    view! {
        <section class="card" aria-labelledby="h-failures" id="failures">
            <h2 id="h-failures">"Losing a node"</h2>
            <p class="lead">"For each role, the host whose loss hurts most: does the service carry the plan's peak without it (N+1), what happens, and the capacity left. Where something fails over, its time is computed from the bundle's timers (best, average, worst) and shown next to the lab's measurement. The Synapse host is a single point of failure by the playbook's design."</p>
            <div class="table-scroll">
                <table class="params failures">
                    <thead><tr>
                        <th scope="col">"Role"</th>
                        <th scope="col">"Host lost"</th>
                        <th scope="col">"Verdict"</th>
                        <th scope="col">"N+1"</th>
                        <th scope="col">"Survives"</th>
                        <th scope="col">"Why"</th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <h3><label for="failures-host">"Lose any host"</label></h3>
            <p>
                <select id="failures-host" name="failures.host" on:change=pick>{options}</select>
            </p>
            <div class="picked-loss" aria-live="polite">{loss}</div>
        </section>
    }
}

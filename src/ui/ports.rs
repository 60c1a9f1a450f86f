//! "Ports and firewall" in the bundle view: per group of hosts, every port it listens on,
//! on which address, and who may connect. The rows come from
//! `bundle::ports_doc::groups`, the same function PORTS.md is written from; this module
//! only draws them.

use super::State;
use crate::bundle::ports_doc::{self, PortGroup};
use leptos::prelude::*;

#[component]
pub fn PortsSection() -> impl IntoView {
    let state = expect_context::<State>();
    let groups = Memo::new(move |_| state.valid_plan.with(|p| ports_doc::groups(&p.0)));
    let admin = Memo::new(move |_| {
        state
            .valid_plan
            .with(|p| ports_doc::admin_networks_text(&p.0))
    });
    view! {
        <section class="card ports" id="ports" aria-labelledby="h-ports">
            <h2 id="h-ports">"Ports and firewall"</h2>
            <p class="lead">
                "Every port each host listens on, on which address, and who may connect: what each host's firewall admits ("
                <code>{ports_doc::PORTS_DOC}</code>
                " in the bundle). Admin networks: "
                {move || admin.get()}
                "."
            </p>
            <div class="hosts">
                {move || groups.get().into_iter().map(group_view).collect_view()}
            </div>
        </section>
    }
}

fn group_view(g: PortGroup) -> impl IntoView {
    let rows = g
        .rows
        .into_iter()
        .map(|r| {
            view! {
                <tr title=r.why>
                    <th scope="row">{r.service}</th>
                    <td>{r.proto}</td>
                    <td class="num">{r.ports}</td>
                    <td>{r.listens_on}</td>
                    <td class="from">{r.from}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <details class="host" data-role=g.role.key()>
            <summary>
                <span class="host-name">{g.role.label()}</span>
                <span class="host-count">{g.hosts}</span>
            </summary>
            <table class="items ports-table">
                <thead>
                    <tr>
                        <th scope="col">"service"</th>
                        <th scope="col">"proto"</th>
                        <th scope="col">"port(s)"</th>
                        <th scope="col">"listens on"</th>
                        <th scope="col">"who may connect"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </details>
    }
}

//! The browser app (wasm32 only): a thin Leptos layer over the core.
//!
//! State is one signal, the [`RawPlan`] (exactly what the user typed). Everything else
//! is derived with memos: the validation, and the last good [`Computed`] results,
//! which stay on screen, marked stale, while the plan has an error.

mod assumptions;
mod bundle;
mod capacity;
mod compare;
mod form;
mod metric;
mod ports;
mod presets;
mod results;
mod share;
mod storage;
mod tabs;

use crate::charts;
use crate::plan::{Plan, RawPlan, Validation, validate};
use crate::report::Report;
use leptos::prelude::*;
use std::sync::Arc;

/// Everything the results panel shows, computed at once from a valid plan.
pub struct Computed {
    /// The plan the figures are of (for the explanations, made when one is opened).
    pub plan: Arc<Plan>,
    pub report: Arc<Report>,
    /// The report's JSON form: every `data-metric` path reads its value from here, so
    /// the page and `synapse-planner report --format json` cannot disagree.
    pub json: serde_json::Value,
    pub ram_svg: String,
    pub connections_svg: String,
}

impl Computed {
    fn new(plan: Arc<Plan>) -> Computed {
        let report = Report::new(&plan);
        let json = report.to_json_value();
        let ram_svg = charts::ram_chart(&report, 720);
        let connections_svg = charts::connections_chart(&report, 720);
        Computed {
            plan,
            report: Arc::new(report),
            json,
            ram_svg,
            connections_svg,
        }
    }
}

/// Shared handle; two handles are "equal" when they point at the same computation, so
/// an invalid edit (which keeps the previous one) wakes nothing downstream.
#[derive(Clone)]
pub struct Shared(pub Arc<Computed>);

impl PartialEq for Shared {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// The last valid plan, shared; equal when it is the same one.
#[derive(Clone)]
pub struct PlanRef(pub Arc<Plan>);

impl PartialEq for PlanRef {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

#[derive(Clone, Copy)]
pub struct State {
    pub raw: RwSignal<RawPlan>,
    pub validation: Memo<Validation>,
    /// The last plan that validated: what the figures and the bundle are made from.
    pub valid_plan: Memo<PlanRef>,
    pub computed: Memo<Shared>,
    pub stale: Memo<bool>,
    /// Messages at the top of the page (link problems, imports, copies).
    pub notices: RwSignal<Vec<(crate::Severity, String)>>,
    /// Another tab saved a different plan: its plan, until the user chooses.
    pub conflict: RwSignal<Option<RawPlan>>,
    /// This tab's identity in the browser's storage.
    pub tab: StoredValue<String>,
    /// The results view on show (a tab of the page; also `?view=` in the address).
    pub view: RwSignal<tabs::View>,
    /// Plan B of the compare view, once chosen.
    pub pinned: RwSignal<Option<compare::Pinned>>,
}

impl State {
    fn new(start: RawPlan) -> State {
        let raw = RwSignal::new(start);
        let validation = Memo::new(move |_| raw.with(validate));
        let valid_plan = Memo::new(move |prev: Option<&PlanRef>| {
            validation.with(|v| match (&v.plan, prev) {
                (Some(plan), _) => PlanRef(Arc::new(plan.clone())),
                (None, Some(prev)) => prev.clone(),
                // The first plan is the default, which is valid; this arm only guards
                // against a future default that is not.
                (None, None) => PlanRef(Arc::new(Plan::default())),
            })
        });
        let computed =
            Memo::new(move |_| valid_plan.with(|p| Shared(Arc::new(Computed::new(p.0.clone())))));
        let stale = Memo::new(move |_| validation.with(|v| v.plan.is_none()));
        State {
            raw,
            validation,
            valid_plan,
            computed,
            stale,
            notices: RwSignal::new(Vec::new()),
            conflict: RwSignal::new(None),
            tab: StoredValue::new(share::new_tab_id()),
            view: RwSignal::new(tabs::initial_view()),
            pinned: RwSignal::new(None),
        }
    }
}

pub fn mount() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    let start = crate::plan::session::start(&share::location_hash(), share::saved_plan());
    let state = State::new(start.raw);
    state.notices.set(start.messages);
    provide_context(state);
    share::install(state);
    tabs::install_in_page_links();
    view! {
        <a class="skip" href="#results">"Skip to results"</a>
        <header class="top">
            <div class="brand">
                <h1>"synapse-planner"</h1>
                <p class="tagline">"Size a high-availability Matrix Synapse cluster: RAM, connections, PostgreSQL, storage, calls, failures."</p>
            </div>
            <results::Status/>
        </header>
        <share::Notices/>
        <main class="layout">
            <form::PlanForm/>
            <div class="outputs">
                <results::Results/>
            </div>
        </main>
        <footer class="foot">
            <p>
                "Everything is computed in this tab; nothing is sent anywhere. Every figure can say how it was computed (the ? next to it); the constants it rests on are under Assumptions, with their sources. "
                "Version " {env!("CARGO_PKG_VERSION")} "."
            </p>
        </footer>
    }
}

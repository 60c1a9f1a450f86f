//! The results' navigation: one tab per view, as a WAI-ARIA tablist (roving tabindex,
//! arrow keys, Home/End; selection follows focus), and the view in the address's query
//! (`?view=storage`), which the plan link never reads: the fragment stays exactly the
//! link format (`#2.3.<payload>`, owned by `share`).
//!
//! Also here: in-page links (`#f-…` to a field, `#results`) move the focus instead of
//! the fragment, so they never replace the plan link in the address bar.

use super::State;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Budgets,
    Findings,
    Storage,
    ObjectStorage,
    Calls,
    Failures,
    Assumptions,
    Compare,
    Bundle,
}

impl View {
    pub const ALL: [View; 9] = [
        View::Budgets,
        View::Findings,
        View::Storage,
        View::ObjectStorage,
        View::Calls,
        View::Failures,
        View::Assumptions,
        View::Compare,
        View::Bundle,
    ];

    /// In the address (`?view=…`) and the element ids (`tab-…`, `panel-…`).
    pub fn key(self) -> &'static str {
        match self {
            View::Budgets => "budgets",
            View::Findings => "findings",
            View::Storage => "storage",
            View::ObjectStorage => "object-storage",
            View::Calls => "calls",
            View::Failures => "failures",
            View::Assumptions => "assumptions",
            View::Compare => "compare",
            View::Bundle => "bundle",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            View::Budgets => "Budgets",
            View::Findings => "Findings",
            View::Storage => "Storage",
            View::ObjectStorage => "Object storage",
            View::Calls => "Calls",
            View::Failures => "Losing a node",
            View::Assumptions => "Assumptions",
            View::Compare => "Compare",
            View::Bundle => "Bundle",
        }
    }

    pub fn from_key(key: &str) -> Option<View> {
        View::ALL.into_iter().find(|v| v.key() == key)
    }

    fn position(self) -> usize {
        View::ALL.iter().position(|v| *v == self).unwrap_or(0)
    }
}

/// The view named by the address's `?view=`, or the budgets.
pub fn initial_view() -> View {
    let search = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    search
        .trim_start_matches('?')
        .split('&')
        .find_map(|pair| pair.strip_prefix("view="))
        .and_then(View::from_key)
        .unwrap_or(View::Budgets)
}

/// Writes the view into the address's query, keeping the path and the plan fragment,
/// without a history entry.
fn remember(view: View) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let location = window.location();
    let path = location.pathname().unwrap_or_default();
    let hash = location.hash().unwrap_or_default();
    let query = if view == View::Budgets {
        String::new()
    } else {
        format!("?view={}", view.key())
    };
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(
            &wasm_bindgen::JsValue::NULL,
            "",
            Some(&format!("{path}{query}{hash}")),
        );
    }
}

fn focus_id(id: &str) {
    if let Some(el) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = el.focus();
    }
}

/// Shows `view` and keeps it in the address.
pub fn select(state: State, view: View) {
    if state.view.get_untracked() != view {
        state.view.set(view);
        remember(view);
    }
}

/// Shows the findings and moves the focus to their heading.
pub fn show_findings(state: State) {
    select(state, View::Findings);
    // After the panel has rendered.
    request_animation_frame(|| focus_id("h-findings"));
}

#[component]
pub fn TabList() -> impl IntoView {
    let state = expect_context::<State>();
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let now = state.view.get_untracked().position();
        let n = View::ALL.len();
        let next = match ev.key().as_str() {
            "ArrowRight" | "ArrowDown" => (now + 1) % n,
            "ArrowLeft" | "ArrowUp" => (now + n - 1) % n,
            "Home" => 0,
            "End" => n - 1,
            _ => return,
        };
        ev.prevent_default();
        let v = View::ALL[next];
        select(state, v);
        focus_id(&format!("tab-{}", v.key()));
    };
    let tabs = View::ALL
        .into_iter()
        .map(|v| {
            let selected = move || state.view.get() == v;
            let count = (v == View::Findings).then(|| {
                view! {
                    <span class="tab-count" aria-hidden="true">
                        {move || {
                            let c = state.computed.get();
                            c.0.report.findings.len()
                        }}
                    </span>
                }
            });
            view! {
                <button
                    type="button"
                    role="tab"
                    class="tab"
                    id=format!("tab-{}", v.key())
                    aria-selected=move || selected().to_string()
                    aria-controls=format!("panel-{}", v.key())
                    tabindex=move || if selected() { "0" } else { "-1" }
                    on:click=move |_| select(state, v)
                >
                    {v.label()}
                    {count}
                </button>
            }
        })
        .collect_view();
    view! {
        <div class="tabs" role="tablist" aria-label="Views of the plan" on:keydown=on_key>
            {tabs}
        </div>
    }
}

/// Clicks on `#id` links inside the page (the skip link, finding paths, the storage
/// view's input links) focus their target instead of replacing the fragment, which
/// holds the plan. A field's group is opened first.
pub fn install_in_page_links() {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let listener = gloo::events::EventListener::new_with_options(
        &document,
        "click",
        gloo::events::EventListenerOptions::enable_prevent_default(),
        move |event| {
            let Some(link) = event
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .and_then(|e| e.closest("a[href^='#']").ok().flatten())
            else {
                return;
            };
            let href = link.get_attribute("href").unwrap_or_default();
            let id = href.trim_start_matches('#');
            let Some(target) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.get_element_by_id(id))
            else {
                return;
            };
            event.prevent_default();
            let mut parent = target.parent_element();
            while let Some(p) = parent {
                if p.tag_name().eq_ignore_ascii_case("details") {
                    let _ = p.set_attribute("open", "");
                }
                parent = p.parent_element();
            }
            if let Ok(el) = target.dyn_into::<web_sys::HtmlElement>() {
                el.scroll_into_view();
                let _ = el.focus();
            }
        },
    );
    // Lives as long as the page.
    listener.forget();
}

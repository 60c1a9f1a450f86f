//! A figure on the page: its JSON path and value as attributes, its text for people,
//! and, when the figure is computed, how (`crate::explain`) behind a disclosure.

use super::Computed;
use crate::report::{Unit, display, lookup, number_text};
use leptos::prelude::*;
use std::cell::Cell;

thread_local! {
    /// Ids for the explanations: unique in the page even when a path shows twice.
    static NEXT_ID: Cell<u64> = const { Cell::new(0) };
}

fn next_id() -> String {
    NEXT_ID.with(|n| {
        let id = n.get();
        n.set(id.wrapping_add(1));
        format!("how-{id}")
    })
}

fn value_of(c: &Computed, path: &str) -> serde_json::Value {
    lookup(&c.json, path)
        .cloned()
        .unwrap_or(serde_json::Value::Null)
}

/// `<span data-metric="hosts[0].ram-needed-gib" data-value="133.07">133.07 GiB</span>`:
/// the value is read from the report's JSON by the same path the CLI prints. A computed
/// figure is a button (dotted underline) that shows how it was computed
/// (`crate::explain`): `aria-expanded` and `aria-controls` tell assistive technology,
/// Enter and Space open and close it. The sentence is made when it is first opened, so
/// typing pays nothing for it.
pub fn metric(c: &Computed, path: impl Into<String>, unit: Unit) -> AnyView {
    let path = path.into();
    let value = value_of(c, &path);
    let text = display(&value, unit);
    if !crate::explain::explainable(&path, &value) {
        return view! { <span class="metric" data-metric=path data-value=value.to_string()>{text}</span> }
            .into_any();
    }
    let id = next_id();
    let open = RwSignal::new(false);
    let toggle = move |ev: leptos::ev::MouseEvent| {
        // Inside a <summary> the click must not also open or close its <details>.
        ev.prevent_default();
        ev.stop_propagation();
        open.update(|o| *o = !*o);
    };
    let (plan, report, at) = (c.plan.clone(), c.report.clone(), path.clone());
    let how = move || {
        open.get().then(|| {
            crate::explain::explain(&plan, &report, &at)
                .unwrap_or_else(|| crate::explain::not_computed(&at))
        })
    };
    view! {
        <span class="figure">
            <button type="button" class="how" aria-expanded=move || open.get().to_string() aria-controls=id.clone()
                title="How is this computed?" on:click=toggle>
                <span class="metric" data-metric=path data-value=value.to_string()>{text}</span>
                <span class="sr-only">" (how is this computed?)"</span>
            </button>
            <span class="explain" id=id role="note" hidden=move || !open.get()>{how}</span>
        </span>
    }
    .into_any()
}

/// A figure shown with [`number_text`]: the assumptions' values, which are inputs (the
/// plan's override or the documented default), so there is no computation to explain.
pub fn metric_number(c: &Computed, path: impl Into<String>) -> AnyView {
    let path = path.into();
    let value = value_of(c, &path);
    let text = number_text(&value);
    view! { <span class="metric" data-metric=path data-value=value.to_string()>{text}</span> }
        .into_any()
}

/// The figure without its explanation, where a button cannot go (inside another
/// button) or the same figure is explained nearby.
pub fn metric_bare(c: &Computed, path: impl Into<String>, unit: Unit) -> AnyView {
    let path = path.into();
    let value = value_of(c, &path);
    let text = display(&value, unit);
    view! { <span class="metric" data-metric=path data-value=value.to_string()>{text}</span> }
        .into_any()
}

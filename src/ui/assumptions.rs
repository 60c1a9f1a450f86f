//! The assumptions view: every constant the engine uses, by group, with its value,
//! default, unit and source (a link when it is one), and for the overridable ones the
//! plan field `assumptions.<id>` (the form's own input: validation, autosave and the
//! link follow) with a reset to the default. Overridden ones are marked.
//!
//! The rows are built once; only the figures follow the plan, so typing in an
//! override keeps the focus.

use super::State;
use super::form::FieldInput;
use super::metric::metric_number;
use crate::assumptions::Assumption;
use crate::plan::{RawPlan, field};
use leptos::prelude::*;

#[component]
pub fn AssumptionsPanel() -> impl IntoView {
    let state = expect_context::<State>();
    let overridden = move || {
        state.computed.with(|c| {
            c.0.report
                .assumptions
                .iter()
                .filter(|a| a.overridden)
                .count()
        })
    };
    let groups = crate::explain::assumption_groups()
        .into_iter()
        .map(|(title, list)| {
            let rows = list.iter().map(row).collect_view();
            let id = format!("assumptions-{}", title.to_ascii_lowercase().replace([' ', '&'], "-"));
            let heading = id.clone();
            view! {
                <section class="assumption-group" aria-labelledby=id>
                    <h3 id=heading>{title}</h3>
                    {list.is_empty().then(|| view! { <p class="hint">"No constants in this group."</p> })}
                    <ul class="assumptions">{rows}</ul>
                </section>
            }
        })
        .collect_view();
    view! {
        <section class="card" aria-labelledby="h-assumptions">
            <h2 id="h-assumptions">"Assumptions"</h2>
            <p class="lead">
                "Every constant the figures rest on, with its source. Facts from documents say where they are from; estimates say “assumption” and why. "
                "Change an estimate for this plan: the override is part of the plan, its file and its link. "
                <span class="overridden-count">{move || match overridden() { 0 => "No override in this plan.".to_string(), 1 => "1 override in this plan.".to_string(), n => format!("{n} overrides in this plan.") }}</span>
            </p>
            {groups}
        </section>
    }
}

fn row(a: &'static Assumption) -> impl IntoView + use<> {
    let state = expect_context::<State>();
    let index = crate::assumptions::all()
        .position(|x| x.id == a.id)
        .unwrap_or(0);
    let path = format!("assumptions.{}", a.id);
    let overridden = move || {
        state.computed.with(|c| {
            c.0.report
                .assumptions
                .get(index)
                .is_some_and(|x| x.overridden)
        })
    };
    let figure = move |key: &'static str| {
        move || {
            let c = state.computed.get();
            metric_number(&c.0, format!("assumptions[{index}].{key}"))
        }
    };
    let input = field(&path).map(|f| {
        let default_text = RawPlan::default().get(&f.path).to_string();
        let p = f.path.as_str();
        let at_default = {
            let default_text = default_text.clone();
            move || state.raw.with(|r| r.get(p) == default_text)
        };
        view! {
            <div class="override">
                <FieldInput field=f label="Value for this plan".to_string()/>
                <button type="button" class="ghost reset" data-reset=p disabled=at_default
                    on:click=move |_| state.raw.update(|r| { r.set(p, default_text.clone()); })>
                    "Reset to default"
                </button>
            </div>
        }
    });
    let fixed = input.is_none().then(|| {
        view! { <p class="hint">"Fixed: the bundle writes this setting as it is."</p> }
    });
    view! {
        <li class="assumption" class:overridden=overridden data-assumption=a.id>
            <div class="assumption-head">
                <span class="assumption-label">{a.label}</span>
                <Show when=overridden>
                    <span class="badge warning">"overridden"</span>
                </Show>
            </div>
            <p class="assumption-values">
                <span class="used">"Used: " {figure("value")} " " {a.unit}</span>
                " · "
                <span class="default">"default " {figure("default")} " " {a.unit}</span>
                " · "
                <code class="id">{a.id}</code>
            </p>
            <p class="source">{linked(a.source)}</p>
            {input}
            {fixed}
        </li>
    }
}

/// The source text with every http(s) URL in it as a link that opens in a new tab
/// (the app itself never fetches it).
fn linked(text: &'static str) -> impl IntoView + use<> {
    let mut parts = Vec::new();
    let mut rest = text;
    let next_url = |s: &str| {
        [s.find("https://"), s.find("http://")]
            .into_iter()
            .flatten()
            .min()
    };
    while let Some(start) = next_url(rest) {
        let (before, from) = rest.split_at(start);
        let end = from
            .find(|c: char| c.is_whitespace() || matches!(c, ')' | ';' | ',' | '>' | '"'))
            .unwrap_or(from.len());
        let url = from[..end].trim_end_matches(['.', ':']);
        parts.push(before.into_any());
        if url.ends_with("//") {
            // A bare scheme: text, not a link.
            parts.push(url.into_any());
        } else {
            parts.push(
                view! { <a href=url target="_blank" rel="noopener noreferrer">{url}</a> }
                    .into_any(),
            );
        }
        rest = &from[url.len()..];
    }
    parts.push(rest.into_any());
    parts
}

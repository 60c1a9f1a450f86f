//! The scale presets in the form column: one button per preset; applying one lists
//! what changed (field, from → to) with an undo. The presets and the change list are
//! `plan::presets`; this only draws them and sets the raw plan.

use super::State;
use crate::plan::presets::{self, Preset};
use crate::plan::{RawPlan, field};
use leptos::prelude::*;

/// The last preset applied: its label, the plan before it, and what it changed.
#[derive(Clone, Debug, PartialEq)]
struct Applied {
    label: &'static str,
    before: RawPlan,
    changes: Vec<(&'static str, String, String)>,
}

#[component]
pub fn PresetPicker() -> impl IntoView {
    let state = expect_context::<State>();
    let applied: RwSignal<Option<Applied>> = RwSignal::new(None);
    let apply = move |p: &'static Preset| {
        let before = state.raw.get_untracked();
        let after = presets::apply(p, &before);
        let changes = presets::changes(&before, &after);
        state.raw.set(after);
        applied.set(Some(Applied {
            label: p.label,
            before,
            changes,
        }));
    };
    let undo = move |_| {
        if let Some(a) = applied.get_untracked() {
            state.raw.set(a.before);
        }
        applied.set(None);
    };
    let buttons = presets::ALL
        .iter()
        .map(|p| {
            view! {
                <button type="button" class="preset" data-preset=p.key title=p.about on:click=move |_| apply(p)>
                    {p.label}
                </button>
            }
        })
        .collect_view();
    view! {
        <details class="group presets" open=true>
            <summary><h3>"Start from a scale"</h3></summary>
            <p class="hint">"Sets a consistent topology for the scale (workers, hosts, database, MinIO, calls, activity); keeps the name, domain, network, operations, retention and assumption overrides."</p>
            <div class="preset-buttons" role="group" aria-label="Scale presets">{buttons}</div>
            {move || applied.get().map(|a| {
                let n = a.changes.len();
                let rows = a
                    .changes
                    .iter()
                    .map(|(path, from, to)| {
                        let label = field(path).map(|f| f.label.clone()).unwrap_or_default();
                        view! {
                            <li data-path=*path>
                                <span class="change-label" title=*path>{label}</span>
                                " "
                                <span class="from">{show(from)}</span>
                                " → "
                                <span class="to">{show(to)}</span>
                            </li>
                        }
                    })
                    .collect_view();
                view! {
                    <div class="preset-applied" id="preset-changes" role="status">
                        <p>
                            <strong>{a.label}</strong>
                            {if n == 0 { " changed nothing: the plan already had its values.".to_string() } else { format!(" changed {n} field{}:", if n == 1 { "" } else { "s" }) }}
                            " "
                            <button type="button" id="preset-undo" on:click=undo>"Undo"</button>
                            <button type="button" class="ghost" on:click=move |_| applied.set(None)>"Dismiss"</button>
                        </p>
                        <ul class="changes">{rows}</ul>
                    </div>
                }
            })}
        </details>
    }
}

/// A field's text in the change list: multi-line values on one line, empty as "(none)".
fn show(text: &str) -> String {
    if text.is_empty() {
        "(none)".to_string()
    } else {
        text.replace('\n', ", ")
    }
}

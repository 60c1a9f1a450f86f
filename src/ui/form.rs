//! The plan form: one input per schema field, named by its key path, with its
//! problems shown under it. Driven by [`fields()`]; no field is written by hand here.

use super::State;
use crate::Severity;
use crate::plan::{Field, Group, Kind, Role, Slot, fields};
use leptos::prelude::*;

pub(super) fn input_id(path: &str) -> String {
    format!("f-{}", path.replace('.', "-"))
}

fn fields_of(group: Group) -> impl Iterator<Item = &'static Field> {
    fields().iter().filter(move |f| f.group == group)
}

/// The form column. The assumptions' fields (`Group::Assumptions`) are not here: the
/// Assumptions view shows each with its value, default and source.
#[component]
pub fn PlanForm() -> impl IntoView {
    view! {
        <section class="inputs" aria-label="Plan inputs">
            <div class="inputs-head">
                <h2>"Plan"</h2>
            </div>
            <super::share::ShareBar/>
            <super::presets::PresetPicker/>
            <Fieldset group=Group::Scale/>
            <Fieldset group=Group::Synapse/>
            <Fieldset group=Group::Workers/>
            <Hosts/>
            <Fieldset group=Group::Database/>
            <Fieldset group=Group::ObjectStorage/>
            <Fieldset group=Group::Activity/>
            <Fieldset group=Group::Calls/>
            <Fieldset group=Group::Network/>
        </section>
    }
}

#[component]
fn Fieldset(group: Group) -> impl IntoView {
    let class = match group {
        Group::Workers => "grid workers",
        _ => "grid",
    };
    view! {
        <details class="group" open=true>
            <summary><h3>{group.label()}</h3></summary>
            <div class=class>
                {fields_of(group).map(|f| view! { <FieldInput field=f label=f.label.clone()/> }).collect_view()}
            </div>
        </details>
    }
}

/// Hosts: one small fieldset per role with its three inputs.
#[component]
fn Hosts() -> impl IntoView {
    let role_fields = |role: Role| {
        fields_of(Group::Hosts)
            .filter(move |f| matches!(f.slot, Slot::HostCount(r) | Slot::HostRamGib(r) | Slot::HostVcpus(r) | Slot::HostDiskGib(r) if r == role))
            .map(|f| {
                let short = match f.slot {
                    Slot::HostCount(_) => "Hosts",
                    Slot::HostRamGib(_) => "RAM each",
                    Slot::HostDiskGib(_) => "Disk each",
                    _ => "vCPUs each",
                };
                view! { <FieldInput field=f label=short.to_string()/> }
            })
            .collect_view()
    };
    view! {
        <details class="group" open=true>
            <summary><h3>{Group::Hosts.label()}</h3></summary>
            <div class="roles">
                {Role::ALL
                    .iter()
                    .map(|&role| view! {
                        <fieldset class="role">
                            <legend>{role.label()}</legend>
                            <div class="role-fields">{role_fields(role)}</div>
                        </fieldset>
                    })
                    .collect_view()}
            </div>
        </details>
    }
}

/// One field: its label, its control bound to the raw plan by key path (so validation,
/// autosave and the link follow), its unit and its problems.
#[component]
pub(super) fn FieldInput(field: &'static Field, label: String) -> impl IntoView {
    let state = expect_context::<State>();
    let path: &'static str = field.path.as_str();
    let id = input_id(path);
    let msg_id = format!("{id}-msg");
    let problems = Memo::new(move |_| {
        state.validation.with(|v| {
            v.for_path(path)
                .map(|p| (p.severity, p.message.clone()))
                .collect::<Vec<_>>()
        })
    });
    let invalid = move || problems.with(|ps| ps.iter().any(|(s, _)| *s == Severity::Error));
    let value = move || state.raw.with(|r| r.get(path).to_string());
    let set = move |text: String| {
        state.raw.update(|r| {
            r.set(path, text);
        })
    };
    let help = field.help;
    let unit = field.unit();
    // A derivable field left empty: its derived value as the placeholder, and how it
    // was derived under it (from the last plan that validated; the core computes both).
    let derivable = field.derivable();
    let derived = Memo::new(move |_| {
        if !derivable || !state.raw.with(|r| r.get(path).trim().is_empty()) {
            return None;
        }
        state.valid_plan.with(|p| {
            p.0.derived(path)
                .zip(p.0.derivation(path))
                .map(|(n, how)| (n.to_string(), how))
        })
    });
    let placeholder = move || derived.with(|d| d.as_ref().map(|(n, _)| n.clone()));
    let control = match field.kind {
        Kind::Bool => view! {
            <input
                type="checkbox"
                id=id.clone()
                name=path
                prop:checked=move || value() == "true"
                on:change=move |ev| set(event_target_checked(&ev).to_string())
                aria-describedby=msg_id.clone()
            />
        }
        .into_any(),
        Kind::Choice(keys) => view! {
            <select
                id=id.clone()
                name=path
                prop:value=value
                on:change=move |ev| set(event_target_value(&ev))
                aria-describedby=msg_id.clone()
            >
                {keys.iter().map(|k| view! { <option value=*k>{*k}</option> }).collect_view()}
            </select>
        }
        .into_any(),
        Kind::CacheFactors => view! {
            <textarea
                id=id.clone()
                name=path
                rows="3"
                spellcheck="false"
                placeholder="get_users_in_room: 5.0"
                prop:value=value
                on:input=move |ev| set(event_target_value(&ev))
                aria-invalid=move || invalid().to_string()
                aria-describedby=msg_id.clone()
            ></textarea>
        }
        .into_any(),
        Kind::Int { .. } | Kind::Float { .. } | Kind::Text(_) => {
            let mode = match field.kind {
                Kind::Int { .. } => "numeric",
                Kind::Float { .. } => "decimal",
                _ => "text",
            };
            view! {
                <input
                    type="text"
                    id=id.clone()
                    name=path
                    inputmode=mode
                    autocomplete="off"
                    spellcheck="false"
                    prop:value=value
                    placeholder=placeholder
                    on:input=move |ev| set(event_target_value(&ev))
                    aria-invalid=move || invalid().to_string()
                    aria-describedby=msg_id.clone()
                />
            }
            .into_any()
        }
    };
    let wide = matches!(field.kind, Kind::CacheFactors | Kind::Text(_));
    view! {
        <div class="field" class:wide=wide class:invalid=invalid title=help>
            <label for=id>{label}</label>
            <div class="control">
                {control}
                {(!unit.is_empty() && unit != "×").then(|| view! { <span class="unit">{unit}</span> })}
            </div>
            {move || derived.get().map(|(_, how)| view! { <p class="hint derived">{how}</p> })}
            <ul class="problems" id=msg_id aria-live="polite">
                {move || {
                    problems
                        .get()
                        .into_iter()
                        .map(|(sev, msg)| view! { <li class=sev.key()>{msg}</li> })
                        .collect_view()
                }}
            </ul>
        </div>
    }
}

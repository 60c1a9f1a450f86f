//! Keeping and sharing the plan: the URL fragment (updated as the user types), the
//! browser's storage (autosave, and a warning when another tab changes it), copy link,
//! export and import of plan files (picker or drag and drop), new/reset. The rules
//! (which plan to open, link format) are in `plan::session` and `plan::link`.

use super::State;
use crate::Severity;
use crate::plan::{self, RawPlan, YamlStyle, link};
use gloo::storage::{LocalStorage as BrowserStorage, Storage};
use leptos::prelude::*;
use std::collections::BTreeMap;
use std::time::Duration;
use wasm_bindgen::JsCast;

/// Where the plan is saved in the browser.
pub const STORAGE_KEY: &str = "synapse-planner.plan.v1";

/// A saved plan: the text of every field, and which tab saved it.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq)]
struct Saved {
    tab: String,
    raw: BTreeMap<String, String>,
}

fn to_map(raw: &RawPlan) -> BTreeMap<String, String> {
    raw.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn from_map(map: &BTreeMap<String, String>) -> RawPlan {
    RawPlan::from_pairs(map.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// The plan this browser saved last, if it can be read.
pub fn saved_plan() -> Option<RawPlan> {
    BrowserStorage::get::<Saved>(STORAGE_KEY)
        .ok()
        .map(|s| from_map(&s.raw))
}

/// A tab's identity for storage: random, from the Web Crypto API.
pub fn new_tab_id() -> String {
    let mut bytes = [0u8; 8];
    if let Some(c) = web_sys::window().and_then(|w| w.crypto().ok()) {
        let _ = c.get_random_values_with_u8_array(&mut bytes);
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn location_hash() -> String {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default()
}

fn page_url() -> String {
    web_sys::window()
        .and_then(|w| w.location().href().ok())
        .map(|h| h.split('#').next().unwrap_or_default().to_string())
        .unwrap_or_default()
}

/// Replaces the address bar's fragment without adding a history entry (Back is not
/// flooded while the user types).
fn replace_fragment(fragment: &str) {
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(
            &wasm_bindgen::JsValue::NULL,
            "",
            Some(&format!("#{fragment}")),
        );
    }
}

/// Keeps the fragment and the saved plan in step with the plan, 300 ms after the last
/// keystroke, and watches other tabs. Call once, from the app.
pub fn install(state: State) {
    // The link: the last valid plan (an invalid one has no link).
    let url_timer: StoredValue<Option<TimeoutHandle>, LocalStorage> = StoredValue::new_local(None);
    Effect::new(move |_| {
        let plan = state.valid_plan.get();
        // A plan too large for a link leaves no link in the address bar (never an older
        // plan's); Copy link says why.
        let fragment = link::encode(&plan.0).unwrap_or_default();
        if let Some(h) = url_timer.get_value() {
            h.clear();
        }
        let handle = set_timeout_with_handle(
            move || replace_fragment(&fragment),
            Duration::from_millis(300),
        )
        .ok();
        url_timer.set_value(handle);
    });
    // The saved plan: every field's text, valid or not (nothing typed is lost).
    let save_timer: StoredValue<Option<TimeoutHandle>, LocalStorage> = StoredValue::new_local(None);
    Effect::new(move |_| {
        let raw = state.raw.get();
        let paused = state.conflict.with(Option::is_some);
        if let Some(h) = save_timer.get_value() {
            h.clear();
        }
        if paused {
            return;
        }
        let tab = state.tab.get_value();
        let handle = set_timeout_with_handle(
            move || {
                let _ = BrowserStorage::set(
                    STORAGE_KEY,
                    Saved {
                        tab,
                        raw: to_map(&raw),
                    },
                );
            },
            Duration::from_millis(300),
        )
        .ok();
        save_timer.set_value(handle);
    });
    // A link pasted into this tab's address bar changes only the fragment: the browser
    // does not reload, so open it here as a page load would (plan::session's rules; a
    // bad link leaves the current plan with a message). replaceState above fires no
    // hashchange; in-page anchors (an element with that id) are not links.
    if let Some(window) = web_sys::window() {
        let listener = gloo::events::EventListener::new(&window, "hashchange", move |_| {
            let hash = location_hash();
            let fragment = hash.trim_start_matches('#');
            let anchor = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.get_element_by_id(fragment))
                .is_some();
            if fragment.is_empty()
                || anchor
                || link::encode(&state.valid_plan.get_untracked().0).is_ok_and(|f| f == fragment)
            {
                return;
            }
            let current = state.raw.get_untracked();
            let opened = plan::session::start(&hash, Some(current.clone()));
            if opened.raw == current {
                // Refused (or the same plan): the address shows this plan's link again.
                replace_fragment(
                    &link::encode(&state.valid_plan.get_untracked().0).unwrap_or_default(),
                );
            } else {
                state.raw.set(opened.raw);
            }
            state.notices.set(opened.messages);
        });
        listener.forget();
    }
    // Another tab saved: stop saving here until the user chooses.
    if let Some(window) = web_sys::window() {
        let tab = state.tab.get_value();
        let listener = gloo::events::EventListener::new(&window, "storage", move |event| {
            let Some(event) = event.dyn_ref::<web_sys::StorageEvent>() else {
                return;
            };
            if event.key().as_deref() != Some(STORAGE_KEY) {
                return;
            }
            let Some(value) = event.new_value() else {
                return;
            };
            let Ok(saved) = serde_json::from_str::<Saved>(&value) else {
                return;
            };
            if saved.tab != tab && from_map(&saved.raw) != state.raw.get_untracked() {
                state.conflict.set(Some(from_map(&saved.raw)));
            }
        });
        // The listener lives as long as the page.
        listener.forget();
    }
}

fn notify(state: State, severity: Severity, text: impl Into<String>) {
    state.notices.update(|n| n.push((severity, text.into())));
}

fn copy_text(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let navigator = window.navigator();
    let Ok(clipboard) = js_sys::Reflect::get(&navigator, &"clipboard".into()) else {
        return false;
    };
    let Ok(write) = js_sys::Reflect::get(&clipboard, &"writeText".into()) else {
        return false;
    };
    match write.dyn_into::<js_sys::Function>() {
        Ok(f) => f.call1(&clipboard, &text.into()).is_ok(),
        Err(_) => false,
    }
}

/// Reads a plan file; an invalid one is refused with its problems, the plan untouched.
fn import_text(state: State, name: &str, text: &str) {
    let read = plan::from_yaml(text);
    let v = read.validate();
    if v.plan.is_none() {
        let problems: Vec<String> = v.errors().map(|p| p.to_string()).collect();
        notify(
            state,
            Severity::Error,
            format!(
                "{name} was not imported: {} problem(s): {}. The current plan is unchanged.",
                problems.len(),
                problems.join("; ")
            ),
        );
        return;
    }
    state.raw.set(read.raw);
    let warnings: Vec<String> = v.warnings().map(|p| p.to_string()).collect();
    if warnings.is_empty() {
        notify(state, Severity::Info, format!("Imported {name}."));
    } else {
        notify(
            state,
            Severity::Warning,
            format!("Imported {name}, with warnings: {}", warnings.join("; ")),
        );
    }
}

fn import_file(
    state: State,
    file: web_sys::File,
    readers: StoredValue<Vec<gloo::file::callbacks::FileReader>, LocalStorage>,
) {
    let name = file.name();
    if file.size() > plan::MAX_FILE_BYTES as f64 {
        notify(
            state,
            Severity::Error,
            format!(
                "{name} is larger than {} bytes (1 MiB): it is not a plan file. The current plan is unchanged.",
                plan::MAX_FILE_BYTES
            ),
        );
        return;
    }
    let blob = gloo::file::Blob::from(file);
    let reader = gloo::file::callbacks::read_as_text(&blob, move |result| match result {
        Ok(text) => import_text(state, &name, &text),
        Err(e) => notify(
            state,
            Severity::Error,
            format!("{name} could not be read: {e}."),
        ),
    });
    // The reader must live until its callback runs.
    readers.update_value(|r| r.push(reader));
}

#[component]
pub fn ShareBar() -> impl IntoView {
    let state = expect_context::<State>();
    let readers: StoredValue<Vec<gloo::file::callbacks::FileReader>, LocalStorage> =
        StoredValue::new_local(Vec::new());
    let copy = move |_| {
        let url = match link::url(&page_url(), &state.valid_plan.get_untracked().0) {
            Ok(url) => url,
            Err(e) => {
                notify(state, Severity::Error, format!("No link: {e}."));
                return;
            }
        };
        replace_fragment(url.split_once('#').map(|(_, f)| f).unwrap_or_default());
        if copy_text(&url) {
            notify(
                state,
                Severity::Info,
                "Link copied. It holds the plan, never a secret.",
            );
        } else {
            notify(state, Severity::Info, format!("Copy this link: {url}"));
        }
    };
    let export = move |_| {
        let p = state.valid_plan.get_untracked();
        let text = plan::to_yaml(&p.0, YamlStyle::Full);
        let name = format!(
            "{}.yaml",
            p.0.name
                .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "-")
        );
        if let Err(e) = super::bundle::download(&name, text.as_bytes(), "application/yaml") {
            notify(state, Severity::Error, format!("Export failed: {e}"));
        }
    };
    let on_pick = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            import_file(state, file, readers);
        }
        input.set_value("");
    };
    let discard = move |what: &str, next: RawPlan| {
        let changed = state.raw.with_untracked(|r| *r != RawPlan::default());
        if !changed || gloo::dialogs::confirm(&format!("{what}? This replaces the current plan.")) {
            state.raw.set(next);
            state.conflict.set(None);
        }
    };
    let new_plan = move |_| {
        let mut raw = RawPlan::default();
        raw.set("name", "new-plan");
        discard("Start a new plan", raw);
    };
    let reset = move |_| discard("Reset to the default plan", RawPlan::default());
    // Drag and drop anywhere on the page.
    if let Some(body) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    {
        gloo::events::EventListener::new_with_options(
            &body,
            "dragover",
            gloo::events::EventListenerOptions::enable_prevent_default(),
            |e| e.prevent_default(),
        )
        .forget();
        gloo::events::EventListener::new_with_options(
            &body,
            "drop",
            gloo::events::EventListenerOptions::enable_prevent_default(),
            move |e| {
                e.prevent_default();
                let Some(drag) = e.dyn_ref::<web_sys::DragEvent>() else {
                    return;
                };
                if let Some(file) = drag
                    .data_transfer()
                    .and_then(|d| d.files())
                    .and_then(|f| f.get(0))
                {
                    import_file(state, file, readers);
                }
            },
        )
        .forget();
    }
    view! {
        <div class="share-bar" role="toolbar" aria-label="Plan">
            // data-link: the fragment the address bar settles on (written 300 ms after
            // the last change); tests wait for the two to agree instead of for a time.
            <button type="button" id="copy-link" on:click=copy data-link=move || link::encode(&state.valid_plan.get().0).unwrap_or_default()>"Copy link"</button>
            <button type="button" id="export-plan" on:click=export>"Export YAML"</button>
            <span class="file-button">
                <input type="file" id="import-plan" name="plan-file" accept=".yaml,.yml,text/yaml,application/yaml" on:change=on_pick/>
                <label for="import-plan">"Import…"</label>
            </span>
            <button type="button" class="ghost" id="new-plan" on:click=new_plan>"New plan"</button>
            <button type="button" class="ghost" id="reset-plan" on:click=reset>"Reset to default"</button>
        </div>
    }
}

/// Messages at the top of the page, and the other-tab warning.
#[component]
pub fn Notices() -> impl IntoView {
    let state = expect_context::<State>();
    let dismiss = move |i: usize| {
        state.notices.update(|n| {
            if i < n.len() {
                n.remove(i);
            }
        })
    };
    view! {
        <div class="notices" aria-live="polite">
            {move || state.conflict.get().map(|other| {
                let take = other.clone();
                view! {
                    <div class="notice warning" id="tab-conflict" role="alert">
                        <span>"This plan was changed in another tab. Saving here is paused so neither overwrites the other."</span>
                        <button type="button" on:click=move |_| { state.raw.set(take.clone()); state.conflict.set(None); }>"Use the other tab's plan"</button>
                        <button type="button" class="ghost" on:click=move |_| state.conflict.set(None)>"Keep this one (and save it)"</button>
                    </div>
                }
            })}
            {move || state.notices.get().into_iter().enumerate().map(|(i, (sev, text))| view! {
                <div class=format!("notice {}", sev.key()) role=if sev == Severity::Error { "alert" } else { "status" }>
                    <span class="notice-text">{text}</span>
                    <button type="button" class="ghost" aria-label="Dismiss" on:click=move |_| dismiss(i)>"×"</button>
                </div>
            }).collect_view()}
        </div>
    }
}

//! The bundle panel: every generated file grouped by host role, a preview with copy,
//! and the zip built in the browser. The files come from `bundle::files`, the same
//! function the CLI calls; this module only draws them and hands bytes to the browser.

use super::State;
use crate::bundle::{self, Date, File, Secrets};
use leptos::prelude::*;
use std::sync::Arc;
use wasm_bindgen::JsCast;

/// Today's date (UTC) from the browser's clock, for the files' headers.
fn today() -> Date {
    let iso: String = js_sys::Date::new_0().to_iso_string().into();
    Date::parse(iso.get(..10).unwrap_or(""))
        .unwrap_or_else(|| Date::parse("1970-01-01").expect("literal date"))
}

/// Secrets from the Web Crypto API (crypto.getRandomValues), drawn once per page.
fn web_secrets() -> Option<Secrets> {
    let crypto = web_sys::window()?.crypto().ok()?;
    let mut ok = true;
    let s = Secrets::generate(|buf| {
        if crypto.get_random_values_with_u8_array(buf).is_err() {
            ok = false;
        }
    });
    ok.then_some(s)
}

/// Hands bytes to the browser as a download named `name`.
pub(super) fn download(name: &str, bytes: &[u8], mime: &str) -> Result<(), String> {
    let array = js_sys::Uint8Array::from(bytes);
    let parts = js_sys::Array::of1(&array);
    let props = web_sys::BlobPropertyBag::new();
    props.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &props)
        .map_err(|_| "cannot create the file")?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)
        .map_err(|_| "cannot create a download link")?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let a: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(|_| "no anchor")?
        .dyn_into()
        .map_err(|_| "no anchor")?;
    a.set_href(&url);
    a.set_download(name);
    a.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

/// navigator.clipboard.writeText, through Reflect (the typed binding needs an unstable
/// web-sys flag).
fn copy_text(text: &str) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let navigator = window.navigator();
    let Ok(clipboard) = js_sys::Reflect::get(&navigator, &"clipboard".into()) else {
        return;
    };
    let Ok(write) = js_sys::Reflect::get(&clipboard, &"writeText".into()) else {
        return;
    };
    if let Ok(f) = write.dyn_into::<js_sys::Function>() {
        let _ = f.call1(&clipboard, &text.into());
    }
}

/// What the download button does: a plan with error findings is asked about first
/// (once per plan), then downloaded anyway; a plan without any downloads at once.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Download {
    Now,
    Ask,
    Anyway,
}

/// The step for a plan with `errors` error findings, `asked` already for this plan.
fn download_step(errors: usize, asked: bool) -> Download {
    match (errors, asked) {
        (0, _) => Download::Now,
        (_, false) => Download::Ask,
        (_, true) => Download::Anyway,
    }
}

/// The zip's file name: the plan's name with anything but ASCII letters, digits and `-`
/// replaced by `-`.
fn zip_name(plan_name: &str) -> String {
    format!(
        "{}-bundle.zip",
        plan_name.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "-")
    )
}

/// Zips `files` and hands the zip to the browser as `name`; the sentence to show.
fn save_zip(name: &str, files: &[File]) -> String {
    match bundle::zip(files) {
        Ok(bytes) => match download(name, &bytes, "application/zip") {
            Ok(()) => format!("{name}: {} files, {} bytes", files.len(), bytes.len()),
            Err(e) => format!("Download failed: {e}"),
        },
        Err(e) => format!("Could not build the zip: {e}"),
    }
}

/// The question asked before a plan with error findings is downloaded, with a link to
/// the findings. The download button, now "Download anyway", answers it.
#[component]
fn ErrorsAsk(errors: Memo<usize>) -> impl IntoView {
    let state = expect_context::<State>();
    let show = move |ev: leptos::ev::MouseEvent| {
        ev.prevent_default();
        super::tabs::show_findings(state);
    };
    view! {
        <p class="problems bundle-errors" id="bundle-errors" role="alert">
            <span class="error">
                {move || {
                    let n = errors.get();
                    format!("This plan has {n} error finding{}: its bundle would not work as planned. ", if n == 1 { "" } else { "s" })
                }}
                <a href="?view=findings" on:click=show>"Read the findings"</a>
                " first, or press “Download anyway”."
            </span>
        </p>
    }
}

#[derive(Clone)]
struct Files(Arc<Vec<File>>);

impl PartialEq for Files {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

#[component]
pub fn BundlePanel() -> impl IntoView {
    let state = expect_context::<State>();
    let open = RwSignal::new(false);
    let placeholders = RwSignal::new(false);
    let selected = RwSignal::new(0usize);
    let message = RwSignal::new(String::new());
    let secrets = StoredValue::new(web_secrets());
    let date = StoredValue::new(today());
    // Built only while the panel is open: typing elsewhere costs nothing.
    let files = Memo::new(move |_| {
        if !open.get() {
            return Files(Arc::new(Vec::new()));
        }
        let plan = state.valid_plan.get();
        let secrets = if placeholders.get() {
            Secrets::placeholders()
        } else {
            secrets
                .with_value(|s| s.clone())
                .unwrap_or_else(Secrets::placeholders)
        };
        Files(Arc::new(
            date.with_value(|d| bundle::files(&plan.0, d, &secrets)),
        ))
    });
    // Asked for this plan (the one the files are of): a new plan asks again.
    let asked = RwSignal::new(None::<super::PlanRef>);
    let errors = Memo::new(move |_| state.computed.with(|c| c.0.report.summary.errors));
    let step = Memo::new(move |_| {
        let asked = asked.with(|a| a.as_ref() == Some(&state.valid_plan.get()));
        download_step(errors.get(), asked)
    });
    let on_download = move |_| match step.get_untracked() {
        Download::Ask => {
            asked.set(Some(state.valid_plan.get_untracked()));
            message.set(String::new());
        }
        Download::Now | Download::Anyway => {
            open.set(true);
            let name = zip_name(&state.valid_plan.with_untracked(|p| p.0.name.clone()));
            message.set(save_zip(&name, &files.get_untracked().0));
        }
    };
    let no_crypto = secrets.with_value(|s| s.is_none());
    view! {
        <section class="card bundle" aria-labelledby="h-bundle">
            <h2 id="h-bundle">"Deployment bundle"</h2>
            <p class="lead">
                "Every configuration file and script for this plan's hosts, built in this tab. "
                "It holds generated secrets: the README's first step is to encrypt vault.yml."
            </p>
            <div class="bundle-actions">
                <button type="button" class="primary" id="download-bundle" on:click=on_download>
                    {move || if step.get() == Download::Anyway { "Download anyway (.zip)" } else { "Download bundle (.zip)" }}
                </button>
                <span class="inline">
                    <input type="checkbox" id="bundle-placeholders" name="bundle.placeholders" prop:checked=move || placeholders.get() disabled=no_crypto
                        on:change=move |ev| placeholders.set(event_target_checked(&ev)) />
                    <label for="bundle-placeholders">"Placeholders instead of secrets"</label>
                </span>
                <button type="button" class="ghost" on:click=move |_| open.update(|o| *o = !*o)>
                    {move || if open.get() { "Hide files" } else { "Show files" }}
                </button>
                <span class="bundle-message" role="status">{move || message.get()}</span>
            </div>
            <Show when=move || step.get() == Download::Anyway>
                <ErrorsAsk errors=errors />
            </Show>
            {no_crypto.then(|| view! { <p class="problems"><span class="warning">"This browser has no Web Crypto: the bundle uses placeholders."</span></p> })}
            <Show when=move || state.stale.get()>
                <p class="stale-note">"The plan has input errors: the bundle is built from the last valid plan."</p>
            </Show>
            <Show when=move || open.get()>
                <div class="bundle-browser">
                    <nav class="file-list" aria-label="Files">
                        {move || {
                            let fs = files.get();
                            let mut scopes: Vec<bundle::Scope> = fs.0.iter().map(|f| f.scope).collect();
                            scopes.sort();
                            scopes.dedup();
                            scopes
                                .into_iter()
                                .map(|scope| {
                                    let items = fs
                                        .0
                                        .iter()
                                        .enumerate()
                                        .filter(|(_, f)| f.scope == scope)
                                        .map(|(i, f)| {
                                            view! {
                                                <li>
                                                    <button type="button" class="file" class:active=move || selected.get() == i
                                                        data-path=f.path.clone() title=f.about.clone()
                                                        on:click=move |_| selected.set(i)>
                                                        {f.path.clone()}
                                                    </button>
                                                </li>
                                            }
                                        })
                                        .collect_view();
                                    view! {
                                        <div class="scope" data-scope=scope.key()>
                                            <h3>{scope.label()}</h3>
                                            <ul>{items}</ul>
                                        </div>
                                    }
                                })
                                .collect_view()
                        }}
                    </nav>
                    <div class="preview">
                        {move || {
                            let fs = files.get();
                            fs.0.get(selected.get()).cloned().map(|f| {
                                let text = f.contents.clone();
                                view! {
                                    <div class="preview-head">
                                        <code class="preview-path">{f.path.clone()}</code>
                                        <span class="mode">{format!("{:o}", f.mode)}</span>
                                        <button type="button" class="ghost" on:click=move |_| copy_text(&text)>"Copy"</button>
                                    </div>
                                    <p class="about">{f.about.clone()}</p>
                                    <pre class="contents" tabindex="0">{f.contents.clone()}</pre>
                                }
                            })
                        }}
                    </div>
                </div>
            </Show>
        </section>
        <super::ports::PortsSection />
    }
}

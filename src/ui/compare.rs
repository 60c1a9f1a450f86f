//! The compare view: plan A is the plan being edited; plan B is a pinned copy of it,
//! a preset, or a pasted share link or plan file. Side by side with their deltas,
//! coloured better/worse where that means something; every row carries its key and
//! both values (`data-compare`, `data-a`, `data-b`) for tests and tools.
//!
//! The work (`crate::compare`) runs only while this view is open: B's report and
//! bundle are made once when B is chosen, A's bundle once per plan change.

use super::State;
use crate::bundle::File;
use crate::compare::{self, Comparison, Delta, FindingKey};
use crate::plan::{self, Plan, presets};
use crate::report::{Report, Unit, display};
use leptos::prelude::*;
use serde_json::Value as J;
use std::sync::{Arc, OnceLock};

/// Plan B: what it is, its report's JSON, and its bundle (made on first use).
#[derive(Clone)]
pub struct Pinned {
    pub label: String,
    pub plan: Arc<Plan>,
    pub json: Arc<J>,
    files: Arc<OnceLock<Vec<File>>>,
}

impl Pinned {
    fn new(label: String, plan: Plan) -> Pinned {
        let json = Report::new(&plan).to_json_value();
        Pinned {
            label,
            plan: Arc::new(plan),
            json: Arc::new(json),
            files: Arc::new(OnceLock::new()),
        }
    }

    fn files(&self) -> &[File] {
        self.files
            .get_or_init(|| compare::bundle_for_compare(&self.plan))
    }
}

#[derive(Clone)]
struct Shared<T>(Arc<T>);

impl<T> PartialEq for Shared<T> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// Reads a share link (a whole URL, `#…` or the bare `1.2.…`) or a plan file.
fn read_plan(text: &str) -> Result<Plan, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("Paste a share link or a plan file first.".into());
    }
    let looks_like_link = !t.contains('\n')
        && (t.contains('#') || t.split('.').take(2).all(|p| p.parse::<u32>().is_ok()));
    let read = if looks_like_link {
        plan::link::decode(t)
            .map_err(|e| format!("This link could not be opened: {e}."))?
            .file
    } else {
        plan::from_yaml(t)
    };
    let v = read.validate();
    let problems: Vec<String> = v.errors().map(|p| p.to_string()).collect();
    v.plan.ok_or_else(|| {
        format!(
            "That plan has {} problem(s): {}.",
            problems.len(),
            problems.join("; ")
        )
    })
}

#[component]
pub fn ComparePanel() -> impl IntoView {
    let state = expect_context::<State>();
    let message = RwSignal::new(String::new());
    let pasted = RwSignal::new(String::new());
    let preset = RwSignal::new(presets::ALL[0].key.to_string());
    let set_b = move |label: String, plan: Plan| {
        state.pinned.set(Some(Pinned::new(label, plan)));
        message.set(String::new());
    };
    let pin = move |_| {
        let p = state.valid_plan.get_untracked();
        set_b("this plan as pinned".into(), (*p.0).clone());
    };
    let use_preset = move |_| {
        let Some(p) = presets::by_key(&preset.get_untracked()) else {
            return;
        };
        let raw = presets::apply(p, &state.raw.get_untracked());
        match plan::validate(&raw).plan {
            Some(plan) => set_b(format!("this plan with the {} preset", p.label), plan),
            None => message.set(format!(
                "This plan with the {} preset has input errors: fix the plan's highlighted fields first.",
                p.label
            )),
        }
    };
    let use_pasted = move |_| match read_plan(&pasted.get_untracked()) {
        Ok(plan) => set_b(format!("the pasted plan “{}”", plan.name), plan),
        Err(e) => message.set(e),
    };
    // A's bundle for the comparison, remade when A changes (only while this view is
    // mounted, i.e. open).
    let a_files = Memo::new(move |_| {
        let p = state.valid_plan.get();
        Shared(Arc::new(compare::bundle_for_compare(&p.0)))
    });
    let comparison = Memo::new(move |_| {
        let b = state.pinned.get()?;
        let c = state.computed.get();
        let fa = a_files.get();
        Some(Shared(Arc::new(compare::compare_with(
            &c.0.plan,
            &c.0.json,
            &fa.0,
            &b.plan,
            &b.json,
            b.files(),
        ))))
    });
    let preset_options = presets::ALL
        .iter()
        .map(|p| view! { <option value=p.key>{p.label}</option> })
        .collect_view();
    view! {
        <section class="card compare" aria-labelledby="h-compare">
            <h2 id="h-compare">"Compare two plans"</h2>
            <p class="lead">"Plan A is the plan you are editing. Choose plan B, then edit A: the deltas follow. Green is better for A → B, red worse; grey changed without a better or worse."</p>
            <details class="compare-choose" prop:open=move || state.pinned.with(Option::is_none)>
                <summary>"Choose plan B"</summary>
                <div class="compare-sources">
                    <div class="source-box">
                        <h3>"This plan, pinned"</h3>
                        <p class="hint">"Keep the current plan as B, then try changes on A."</p>
                        <button type="button" class="primary" id="pin-b" on:click=pin>"Pin this plan as B"</button>
                    </div>
                    <div class="source-box">
                        <h3>"A preset"</h3>
                        <div class="field">
                            <label for="compare-preset">"Scale preset, over this plan"</label>
                            <select id="compare-preset" name="compare.preset" prop:value=move || preset.get()
                                on:change=move |ev| preset.set(event_target_value(&ev))>
                                {preset_options}
                            </select>
                        </div>
                        <button type="button" id="use-preset-b" on:click=use_preset>"Use as B"</button>
                    </div>
                    <div class="source-box wide">
                        <h3>"A link or a plan file"</h3>
                        <div class="field">
                            <label for="compare-source">"Share link or plan file (YAML)"</label>
                            <textarea id="compare-source" name="compare.source" rows="3" spellcheck="false"
                                placeholder="https://…/#2.3.… or schema: 2 …"
                                prop:value=move || pasted.get()
                                on:input=move |ev| pasted.set(event_target_value(&ev))></textarea>
                        </div>
                        <button type="button" id="use-pasted-b" on:click=use_pasted>"Use as B"</button>
                    </div>
                </div>
            </details>
            <p class="problems" role="status"><span class="error">{move || message.get()}</span></p>
            {move || match comparison.get() {
                None => view! { <p class="hint" id="compare-empty">"No plan B yet."</p> }.into_any(),
                Some(c) => {
                    let b = state.pinned.get_untracked();
                    let label = b.map(|b| b.label).unwrap_or_default();
                    result(&c.0, label, state).into_any()
                }
            }}
        </section>
    }
}

/// How the figure's numbers are shown, as the figure table declares it.
fn unit_of(key: &str) -> Unit {
    crate::report::figures::unit(key)
}

fn shown(v: &J, unit: Unit) -> String {
    match v {
        J::Bool(true) => "yes".into(),
        J::Bool(false) => "no".into(),
        J::Number(_) => display(v, unit),
        other => display(other, Unit::Plain),
    }
}

fn signed(diff: &Option<J>, unit: Unit) -> String {
    match diff {
        Some(d) if d.as_f64().is_some_and(|x| x > 0.0) => format!("+{}", display(d, unit)),
        Some(d) if d.as_f64().is_some_and(|x| x == 0.0) => String::new(),
        Some(d) => display(d, unit),
        None => String::new(),
    }
}

fn delta_rows(rows: &[Delta]) -> impl IntoView + use<> {
    rows.iter()
        .map(|d| {
            let unit = unit_of(&d.key);
            view! {
                <tr class=format!("delta {}", d.verdict.key()) data-compare=d.key.clone()
                    data-a=d.a.to_string() data-b=d.b.to_string() data-verdict=d.verdict.key()>
                    <th scope="row">{d.label.clone()}</th>
                    <td class="num">{shown(&d.a, unit)}</td>
                    <td class="num">{shown(&d.b, unit)}</td>
                    <td class="num diff">{signed(&d.diff, unit)}</td>
                </tr>
            }
        })
        .collect_view()
}

fn table(title: &'static str, id: &'static str, rows: &[Delta], empty: &'static str) -> AnyView {
    if rows.is_empty() {
        return view! {
            <section class="compare-section" aria-labelledby=id>
                <h3 id=id>{title}</h3>
                <p class="hint">{empty}</p>
            </section>
        }
        .into_any();
    }
    view! {
        <section class="compare-section" aria-labelledby=id>
            <h3 id=id>{title}</h3>
            <div class="table-scroll">
                <table class="compare-table">
                    <thead><tr><th scope="col">""</th><th scope="col" class="num">"A"</th><th scope="col" class="num">"B"</th><th scope="col" class="num">"B − A"</th></tr></thead>
                    <tbody>{delta_rows(rows)}</tbody>
                </table>
            </div>
        </section>
    }
    .into_any()
}

fn finding_items(list: &[FindingKey], change: &'static str) -> impl IntoView + use<> {
    list.iter()
        .map(|f| {
            view! {
                <li class=format!("finding {}", f.severity.key()) data-finding=f.code.clone() data-change=change>
                    <span class=format!("badge {}", f.severity.key())>{f.severity.key()}</span>
                    " " <code>{f.code.clone()}</code> " " <span class="path">{f.paths.first().cloned().unwrap_or_default()}</span>
                    <div class="message">{f.message.clone()}</div>
                </li>
            }
        })
        .collect_view()
}

fn result(c: &Comparison, label: String, state: State) -> impl IntoView + use<> {
    let inputs = c
        .inputs
        .iter()
        .map(|(path, a, b)| {
            view! {
                <tr data-compare=format!("input:{path}") data-a=a.clone() data-b=b.clone()>
                    <th scope="row"><code>{*path}</code></th>
                    <td>{a.replace('\n', ", ")}</td>
                    <td>{b.replace('\n', ", ")}</td>
                </tr>
            }
        })
        .collect_view();
    let n_inputs = c.inputs.len();
    let files = &c.files;
    let file_list = |paths: &[String], change: &'static str| {
        paths
            .iter()
            .map(|p| view! { <li data-file=p.clone() data-change=change><code>{p.clone()}</code></li> })
            .collect_view()
    };
    let changed = files
        .changed
        .iter()
        .map(|f| {
            view! {
                <li data-file=f.path.clone() data-change="differs">
                    <code>{f.path.clone()}</code>
                    <span class="lines">" −" {f.lines_removed} " +" {f.lines_added} " lines"</span>
                </li>
            }
        })
        .collect_view();
    view! {
        <div class="compare-result" id="compare-result">
            <p class="compare-head">
                <span class="plan-a">"A: this plan"</span>
                " · "
                <span class="plan-b" id="compare-b-label">"B: " {label}</span>
                " "
                <button type="button" class="ghost" id="clear-b" on:click=move |_| state.pinned.set(None)>"Clear B"</button>
            </p>
            {table("Findings", "cmp-summary", &c.summary, "")}
            <section class="compare-section" aria-labelledby="cmp-inputs">
                <h3 id="cmp-inputs">{format!("Inputs that differ ({n_inputs})")}</h3>
                {(n_inputs == 0).then(|| view! { <p class="hint">"The two plans have the same inputs."</p> })}
                {(n_inputs > 0).then(|| view! {
                    <div class="table-scroll">
                        <table class="compare-table inputs-table">
                            <thead><tr><th scope="col">"Field"</th><th scope="col">"A"</th><th scope="col">"B"</th></tr></thead>
                            <tbody>{inputs}</tbody>
                        </table>
                    </div>
                })}
            </section>
            {table("RAM budgets per host role", "cmp-budgets", &c.budgets, "")}
            {table("Connection chain", "cmp-connections", &c.connections, "")}
            {table("PostgreSQL parameters that differ", "cmp-postgres", &c.postgres, "The same parameters.")}
            <section class="compare-section" aria-labelledby="cmp-findings">
                <h3 id="cmp-findings">"Findings only one plan has"</h3>
                {(c.findings_added.is_empty() && c.findings_removed.is_empty()).then(|| view! { <p class="hint">"The same findings."</p> })}
                <ul class="findings compare-findings">
                    {finding_items(&c.findings_added, "only-in-b")}
                    {finding_items(&c.findings_removed, "only-in-a")}
                </ul>
            </section>
            {table("Capacity: storage, object storage, calls, losing a node", "cmp-capacity", &c.capacity, "The same capacity figures.")}
            <section class="compare-section" aria-labelledby="cmp-files">
                <h3 id="cmp-files">"Generated files"</h3>
                <p class="hint">
                    {format!(
                        "Both bundles made with the same placeholder secrets, date and name: {} only in B, {} only in A, {} differ, {} the same.",
                        files.added.len(), files.removed.len(), files.changed.len(), files.unchanged
                    )}
                </p>
                <ul class="file-changes">
                    {file_list(&files.added, "only-in-b")}
                    {file_list(&files.removed, "only-in-a")}
                    {changed}
                </ul>
            </section>
        </div>
    }
}

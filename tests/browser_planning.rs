//! The page's structure and the planning views in a real headless Chromium: the views
//! as keyboard tabs (the plan link untouched), every figure's explanation, assumption
//! overrides in the link, scale presets with undo, the compare view, and the extreme
//! plans on every view.
//!
//! Needs a built site (SYNAPSE_PLANNER_DIST or dist/), chromium and chromedriver.

#[path = "support/browser.rs"]
mod browser;

use browser::Browser;
use fantoccini::Locator;
use serde_json::{Value as Json, json};
use synapse_planner::plan::{self, Plan, link};
use synapse_planner::report::lookup;

const VIEWS: [&str; 9] = [
    "budgets",
    "findings",
    "storage",
    "object-storage",
    "calls",
    "failures",
    "assumptions",
    "compare",
    "bundle",
];

async fn hash(b: &Browser) -> String {
    b.js("return location.hash;", vec![])
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn search(b: &Browser) -> String {
    b.js("return location.search;", vec![])
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn focused_id(b: &Browser) -> String {
    b.js("return document.activeElement?.id ?? '';", vec![])
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Sends keys to the focused element.
async fn keys(b: &Browser, keys: &str) {
    b.client
        .active_element()
        .await
        .expect("a focused element")
        .send_keys(keys)
        .await
        .expect("send keys");
}

const ARROW_LEFT: &str = "\u{e012}";
const ARROW_RIGHT: &str = "\u{e014}";
const HOME: &str = "\u{e011}";
const END: &str = "\u{e010}";
const ENTER: &str = "\u{e007}";

/// The plan in a link, decoded as the CLI would.
fn plan_of(fragment: &str) -> Plan {
    link::decode(fragment)
        .unwrap_or_else(|e| panic!("{fragment}: {e}"))
        .validate()
        .plan
        .expect("a valid plan")
}

/// The CLI's JSON report for a plan.
fn cli_json(p: &Plan) -> Json {
    browser::cli_report(p)
}

/// Every figure on show equals the CLI's value at its path.
async fn assert_view_matches_cli(b: &Browser, json: &Json, view: &str) {
    for (path, value) in b.metrics().await {
        let shown: Json = serde_json::from_str(&value)
            .unwrap_or_else(|e| panic!("{view}: {path}: data-value {value:?}: {e}"));
        assert_eq!(
            Some(&shown),
            lookup(json, &path),
            "{view}: figure {path} differs from the CLI"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn views_are_tabs_driven_by_the_keyboard_and_leave_the_link_alone() {
    let b = Browser::start().await;
    // The link settles 300 ms after the first render.
    let link_before = b.settled_link().await;
    assert!(link_before.starts_with("#2.3."), "{link_before}");
    assert_eq!(b.selected_view().await, "budgets");
    let roles = b
        .js(
            "const l = document.querySelector('[role=tablist]'); return [l.getAttribute('aria-label'), l.querySelectorAll('[role=tab]').length, document.querySelectorAll('[role=tabpanel]').length];",
            vec![],
        )
        .await;
    assert_eq!(roles, json!(["Views of the plan", 9, 9]));

    // One tab stop: the selected tab (roving tabindex).
    let stops = b
        .js(
            "return Array.from(document.querySelectorAll('[role=tab]')).map(t => t.tabIndex);",
            vec![],
        )
        .await;
    assert_eq!(stops, json!([0, -1, -1, -1, -1, -1, -1, -1, -1]));

    b.js(
        "document.getElementById('tab-budgets').focus(); return 1;",
        vec![],
    )
    .await;
    let mut at = 0;
    for _ in 0..VIEWS.len() {
        keys(&b, ARROW_RIGHT).await;
        at = (at + 1) % VIEWS.len();
        let want = VIEWS[at];
        b.until(&format!("{want} selected by the arrow key"), || async {
            b.selected_view().await == want
        })
        .await;
        assert_eq!(focused_id(&b).await, format!("tab-{want}"));
        let state = b
            .js(
                "const t = document.getElementById(`tab-${arguments[0]}`); const p = document.getElementById(t.getAttribute('aria-controls')); return [t.getAttribute('aria-selected'), p.hidden, p.getAttribute('aria-labelledby'), t.tabIndex, document.querySelectorAll('[role=tabpanel]:not([hidden])').length];",
                vec![json!(want)],
            )
            .await;
        assert_eq!(
            state,
            json!(["true", false, format!("tab-{want}"), 0, 1]),
            "{want}"
        );
        // The view is in the query; the plan link is untouched.
        let q = search(&b).await;
        if want == "budgets" {
            assert_eq!(q, "");
        } else {
            assert_eq!(q, format!("?view={want}"));
        }
        assert_eq!(hash(&b).await, link_before, "the plan link moved on {want}");
    }
    keys(&b, END).await;
    b.until("End selects the last", || async {
        b.selected_view().await == "bundle"
    })
    .await;
    keys(&b, HOME).await;
    b.until("Home selects the first", || async {
        b.selected_view().await == "budgets"
    })
    .await;
    keys(&b, ARROW_LEFT).await;
    b.until("Left wraps to the last", || async {
        b.selected_view().await == "bundle"
    })
    .await;

    // The findings counts are in the header on every view, and open the findings.
    b.select_view("storage").await;
    let pills = b
        .js(
            "return document.querySelectorAll('header .status [data-metric^=\"summary.\"]').length;",
            vec![],
        )
        .await;
    assert_eq!(pills, json!(3));
    b.client
        .find(Locator::Css("header .status .pill.warning"))
        .await
        .expect("the warnings pill")
        .click()
        .await
        .expect("click");
    b.until("the findings view", || async {
        b.selected_view().await == "findings"
    })
    .await;
    b.until("the focus on the findings heading", || async {
        focused_id(&b).await == "h-findings"
    })
    .await;

    // A finding's key path goes to its field without touching the link.
    b.type_into("hosts.synapse.ram-gib", "6").await;
    b.until("the ram-over-budget finding", || async {
        b.js(
            "return !!document.querySelector('#panel-findings a.path[href=\"#f-hosts-synapse-ram-gib\"]');",
            vec![],
        )
        .await
            == json!(true)
    })
    .await;
    let link_edited = b.settled_link().await;
    assert_ne!(link_edited, link_before);
    b.client
        .find(Locator::Css(
            "#panel-findings a.path[href=\"#f-hosts-synapse-ram-gib\"]",
        ))
        .await
        .expect("the path link")
        .click()
        .await
        .expect("click");
    b.until("the field focused", || async {
        focused_id(&b).await == "f-hosts-synapse-ram-gib"
    })
    .await;
    assert_eq!(
        hash(&b).await,
        link_edited,
        "a path link replaced the plan link"
    );

    // A reload keeps the view (from the query) and the plan (from the fragment).
    b.client.refresh().await.expect("reload");
    b.open_loaded().await;
    assert_eq!(b.selected_view().await, "findings");
    assert_eq!(
        plan_of(&hash(&b).await).host(plan::Role::Synapse).ram_gib,
        6
    );
    // The CLI opens the whole address, query and all.
    let url = b.client.current_url().await.expect("url").to_string();
    assert!(url.contains("?view=findings#2.3."), "{url}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_synapse-planner"))
        .args(["open-url", &url])
        .output()
        .expect("open-url");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(b.severe_console().await, Vec::<String>::new());
    b.close().await;
}

/// [aria-expanded, explanation hidden, explanation text] of an explained figure.
async fn disclosure(b: &Browser, button: &str) -> Json {
    b.js(
        "const x = document.querySelector(arguments[0]); const e = document.getElementById(x.getAttribute('aria-controls')); return [x.getAttribute('aria-expanded'), e.hidden, e.innerText];",
        vec![json!(button)],
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_figure_explains_itself() {
    let b = Browser::start().await;
    let button = "button.how:has([data-metric=\"synapse.ram-total-gib\"])";
    let el = b
        .client
        .find(Locator::Css(button))
        .await
        .expect("the figure is a button");
    assert_eq!(disclosure(&b, button).await, json!(["false", true, ""]));
    el.click().await.expect("click");
    b.until("the explanation", || async {
        disclosure(&b, button).await[0] == json!("true")
    })
    .await;
    let s = disclosure(&b, button).await;
    assert_eq!(s[1], json!(false));
    let text = s[2].as_str().unwrap_or_default().to_string();
    assert!(
        text.contains("= 11.2 GiB for 20 processes")
            && text.contains("the deployment notes' rule would say 20 × 6.5 = 130 GiB"),
        "{text}"
    );
    // By keyboard: Enter closes it again.
    b.js(
        "document.querySelector(arguments[0]).focus(); return 1;",
        vec![json!(button)],
    )
    .await;
    keys(&b, ENTER).await;
    b.until("closed", || async {
        disclosure(&b, button).await[0] == json!("false")
    })
    .await;

    // A figure inside a host's summary row keeps the row closed; the explained ones are
    // in the opened row, with the figure they explain.
    b.js(
        "document.querySelector('details.host summary').click(); return 1;",
        vec![],
    )
    .await;
    let free = "button.how:has([data-metric=\"hosts[0].ram-free-gib\"])";
    b.client
        .find(Locator::Css(free))
        .await
        .expect("the free RAM figure")
        .click()
        .await
        .expect("click");
    let text = b
        .js(
            "const x = document.querySelector(arguments[0]); return document.getElementById(x.getAttribute('aria-controls')).innerText;",
            vec![json!(free)],
        )
        .await;
    assert!(
        text.as_str()
            .unwrap_or_default()
            .contains("RAM 160 GiB − needed 14.27 GiB = 145.73 GiB"),
        "{text}"
    );

    // Every explained figure on every view carries its disclosure properly.
    for view in VIEWS {
        b.select_view(view).await;
        let bad = b
            .js(
                "return Array.from(document.querySelectorAll('button.how')).filter(x => { const e = document.getElementById(x.getAttribute('aria-controls')); return !e || !x.hasAttribute('aria-expanded') || !x.querySelector('[data-metric]'); }).length;",
                vec![],
            )
            .await;
        assert_eq!(bad, json!(0), "{view}");
    }
    b.select_view("budgets").await;
    let n = b
        .js(
            "return document.querySelectorAll('button.how').length;",
            vec![],
        )
        .await;
    assert!(n.as_u64().unwrap_or(0) > 50, "{n} explained figures");
    assert_eq!(b.severe_console().await, Vec::<String>::new());
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_assumption_override_changes_the_figures_and_the_link() {
    let b = Browser::start().await;
    let link_default = b.settled_link().await;
    b.select_view("assumptions").await;
    // Grouped as the engine lists them, each with value, default and source.
    let groups = b
        .js(
            "return Array.from(document.querySelectorAll('.assumption-group h3')).map(h => h.innerText);",
            vec![],
        )
        .await;
    assert_eq!(
        groups,
        json!([
            "RAM and connections",
            "Storage growth",
            "Object storage",
            "Calls",
            "File descriptors",
            "Activity from users",
            "PostgreSQL memory",
            "CPU"
        ])
    );
    let rows = b
        .js(
            "return document.querySelectorAll('li.assumption').length;",
            vec![],
        )
        .await;
    assert_eq!(
        rows.as_u64(),
        Some(synapse_planner::assumptions::all().count() as u64)
    );
    // A URL source is a link that opens elsewhere, never fetched by the app.
    let links = b
        .js(
            "return Array.from(document.querySelectorAll('li.assumption .source a')).map(a => [a.target, a.rel, a.href.startsWith('http')]);",
            vec![],
        )
        .await;
    for l in links.as_array().into_iter().flatten() {
        assert_eq!(l, &json!(["_blank", "noopener noreferrer", true]));
    }
    // Fixed ones have no input.
    let fixed = b
        .js(
            "return document.querySelector('li.assumption[data-assumption=\"nofile-limit\"] input') === null;",
            vec![],
        )
        .await;
    assert_eq!(fixed, json!(true));

    let path = "assumptions.synapse-process-base-mib";
    b.type_into(path, "300").await;
    b.until("the row marked overridden", || async {
        b.js(
            "return document.querySelector('li.assumption[data-assumption=\"synapse-process-base-mib\"]').classList.contains('overridden');",
            vec![],
        )
        .await
            == json!(true)
    })
    .await;
    // Still typing there: the focus stays in the field.
    assert_eq!(
        focused_id(&b).await,
        "f-assumptions-synapse-process-base-mib"
    );
    b.select_view("budgets").await;
    // 300 MiB = 0.29 GiB a process: the busiest 0.29 + 2 GiB of caches = 2.29; all 20
    // processes 20 × 0.29 + 8 GiB of sync and room caches = 13.8 GiB.
    b.wait_metric("synapse.ram-per-process-gib", "2.29").await;
    b.wait_metric("synapse.ram-total-gib", "13.8").await;
    b.until("the link to follow", || async {
        let h = hash(&b).await;
        h != link_default
            && plan_of(&h).assume(&synapse_planner::assumptions::SYNAPSE_BASE_MIB) == 300.0
    })
    .await;
    let link_override = hash(&b).await;
    // A fresh browser opening the link sees the override.
    let other = Browser::start().await;
    other.open(&link_override).await;
    other
        .wait_metric("synapse.ram-per-process-gib", "2.29")
        .await;
    other.close().await;

    // Reset to default: the figure and the link come back.
    b.select_view("assumptions").await;
    b.client
        .find(Locator::Css(&format!("button[data-reset=\"{path}\"]")))
        .await
        .expect("reset")
        .click()
        .await
        .expect("click");
    b.until("the field back at its default", || async {
        b.js(
            "return document.querySelector(`[name=\"${arguments[0]}\"]`).value;",
            vec![json!(path)],
        )
        .await
            == json!("160")
    })
    .await;
    let disabled = b
        .js(
            "return document.querySelector(`button[data-reset=\"${arguments[0]}\"]`).disabled;",
            vec![json!(path)],
        )
        .await;
    assert_eq!(disabled, json!(true));
    b.select_view("budgets").await;
    b.wait_metric("synapse.ram-per-process-gib", "2.16").await;
    b.until("the default link again", || async {
        hash(&b).await == link_default
    })
    .await;
    // A bad override is refused at its field; the figures stay the last valid ones.
    b.select_view("assumptions").await;
    b.type_into(path, "-1").await;
    b.until("the message at the field", || async {
        b.js(
            "return document.querySelector(`[name=\"${arguments[0]}\"]`).closest('.field').classList.contains('invalid');",
            vec![json!(path)],
        )
        .await
            == json!(true)
    })
    .await;
    assert_eq!(b.severe_console().await, Vec::<String>::new());
    b.close().await;
}

async fn input_value(b: &Browser, path: &str) -> String {
    b.js(
        "return document.querySelector(`[name=\"${arguments[0]}\"]`).value;",
        vec![json!(path)],
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_string()
}

/// [from, to] of a field in the preset's change list, or null.
async fn change(b: &Browser, path: &str) -> Json {
    b.js(
        "const li = document.querySelector(`#preset-changes li[data-path=\"${arguments[0]}\"]`); return li ? [li.querySelector('.from').innerText, li.querySelector('.to').innerText] : null;",
        vec![json!(path)],
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_preset_applies_lists_its_changes_and_undoes() {
    let b = Browser::start().await;
    b.type_into("name", "acme").await;
    b.type_into("domain", "matrix.acme.example").await;
    b.client
        .find(Locator::Css("button[data-preset=\"20k\"]"))
        .await
        .expect("the 20k preset")
        .click()
        .await
        .expect("click");
    b.wait_metric("synapse.process-count", "25").await;
    assert_eq!(
        change(&b, "users.registered").await,
        json!(["10000", "20000"])
    );
    assert_eq!(change(&b, "synapse.cache-factor").await, json!(["10", "4"]));
    assert_eq!(
        change(&b, "hosts.synapse.ram-gib").await,
        json!(["160", "128"])
    );
    assert_eq!(
        change(&b, "name").await,
        Json::Null,
        "the name is the user's"
    );
    let listed = b
        .js(
            "return document.querySelectorAll('#preset-changes li').length;",
            vec![],
        )
        .await;
    assert!(listed.as_u64().unwrap_or(0) > 10, "{listed}");
    assert_eq!(input_value(&b, "users.registered").await, "20000");
    assert_eq!(input_value(&b, "name").await, "acme");
    assert_eq!(b.metric("summary.errors").await.as_deref(), Some("0"));

    b.client
        .find(Locator::Id("preset-undo"))
        .await
        .expect("undo")
        .click()
        .await
        .expect("click");
    b.wait_metric("synapse.process-count", "20").await;
    assert_eq!(input_value(&b, "users.registered").await, "10000");
    assert_eq!(input_value(&b, "domain").await, "matrix.acme.example");
    let gone = b
        .js(
            "return document.getElementById('preset-changes') === null;",
            vec![],
        )
        .await;
    assert_eq!(gone, json!(true));

    // Every preset gives a plan without errors, on every view.
    for key in ["500", "5k", "20k", "100k"] {
        b.js(
            "document.querySelector(`button[data-preset=\"${arguments[0]}\"]`).click(); return 1;",
            vec![json!(key)],
        )
        .await;
        let want = synapse_planner::plan::presets::by_key(key)
            .expect("preset")
            .plan()
            .synapse_process_count()
            .to_string();
        b.wait_metric("synapse.process-count", &want).await;
        assert_eq!(
            b.metric("summary.errors").await.as_deref(),
            Some("0"),
            "{key}"
        );
    }
    assert_eq!(b.severe_console().await, Vec::<String>::new());
    b.close().await;
}

/// Opens "Choose plan B" (it closes once B is chosen).
async fn open_choices(b: &Browser) {
    b.js(
        "document.querySelector('details.compare-choose').open = true; return 1;",
        vec![],
    )
    .await;
}

async fn compare_row(b: &Browser, key: &str) -> Json {
    b.js(
        "const r = document.querySelector(`[data-compare=\"${arguments[0]}\"]`); return r ? [r.dataset.a, r.dataset.b, r.dataset.verdict ?? null] : null;",
        vec![json!(key)],
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn compare_shows_deltas_and_differing_files() {
    let b = Browser::start().await;
    b.select_view("compare").await;
    assert!(
        b.js("return !!document.getElementById('compare-empty');", vec![])
            .await
            == json!(true)
    );
    b.client
        .find(Locator::Id("pin-b"))
        .await
        .expect("pin")
        .click()
        .await
        .expect("click");
    b.until("the comparison", || async {
        compare_row(&b, "hosts[1].count").await == json!(["3", "3", "same"])
    })
    .await;
    // Edit A: five Patroni nodes of 128 GiB.
    b.type_into("hosts.patroni.count", "5").await;
    b.type_into("hosts.patroni.ram-gib", "128").await;
    b.until("the delta", || async {
        compare_row(&b, "hosts[1].ram-gib").await == json!(["128", "64", "changed"])
    })
    .await;
    assert_eq!(
        compare_row(&b, "hosts[1].count").await,
        json!(["5", "3", "changed"])
    );
    // B (the pinned 64 GiB node) has less free RAM than A: worse.
    let free = compare_row(&b, "hosts[1].ram-free-gib").await;
    assert_eq!(free[2], json!("worse"), "{free}");
    assert_eq!(
        compare_row(&b, "postgres.parameters.shared_buffers").await,
        json!(["\"32GB\"", "\"16GB\"", "changed"])
    );
    assert_eq!(
        compare_row(&b, "input:hosts.patroni.count").await,
        json!(["5", "3", null])
    );
    // The fifth node's files are only in A; the others' differ (their peers changed).
    let files = b
        .js(
            "return Array.from(document.querySelectorAll('.file-changes li')).map(l => [l.dataset.file, l.dataset.change]);",
            vec![],
        )
        .await;
    let files: Vec<(String, String)> = serde_json::from_value(files).expect("files");
    assert!(
        files
            .iter()
            .any(|(f, c)| f.starts_with("hosts/patroni5/") && c == "only-in-a"),
        "{files:?}"
    );
    assert!(
        files
            .iter()
            .any(|(f, c)| f.starts_with("hosts/patroni1/") && c == "differs"),
        "{files:?}"
    );
    assert!(!files.iter().any(|(f, _)| f.starts_with("hosts/minio")));

    // B from a pasted link of another plan.
    let other = Plan::default()
        .with_text("hosts.minio.count", "8")
        .expect("valid");
    let url = link::url("http://127.0.0.1/", &other).expect("fits in a link");
    open_choices(&b).await;
    b.type_into("compare.source", &url).await;
    b.client
        .find(Locator::Id("use-pasted-b"))
        .await
        .expect("use pasted")
        .click()
        .await
        .expect("click");
    b.until("B from the link", || async {
        compare_row(&b, "hosts[2].count").await == json!(["4", "8", "changed"])
    })
    .await;
    // A broken link says why and keeps B.
    open_choices(&b).await;
    b.type_into("compare.source", "#1.1.AAAA").await;
    b.js(
        "document.getElementById('use-pasted-b').click(); return 1;",
        vec![],
    )
    .await;
    b.until("the message", || async {
        b.js(
            "return document.querySelector('#panel-compare .problems').innerText;",
            vec![],
        )
        .await
        .as_str()
        .unwrap_or_default()
        .contains("could not be opened")
    })
    .await;
    assert_eq!(
        compare_row(&b, "hosts[2].count").await,
        json!(["4", "8", "changed"])
    );
    // B from a preset.
    b.choose("compare.preset", "100k").await;
    b.js(
        "document.getElementById('use-preset-b').click(); return 1;",
        vec![],
    )
    .await;
    b.until("B from the preset", || async {
        compare_row(&b, "hosts[2].count").await == json!(["4", "8", "changed"])
            && compare_row(&b, "hosts[0].ram-gib").await == json!(["160", "384", "changed"])
    })
    .await;
    assert_eq!(b.severe_console().await, Vec::<String>::new());
    b.close().await;
}

/// The extreme plans the issue names, as links.
fn extreme_plans() -> Vec<(&'static str, Plan)> {
    let d = Plan::default();
    let edit = |changes: &[(&str, &str)]| {
        changes.iter().fold(d.clone(), |p, (k, v)| {
            p.with_text(k, v)
                .unwrap_or_else(|e| panic!("{k}={v}: {e:?}"))
        })
    };
    vec![
        (
            "1 user",
            edit(&[
                ("users.peak-concurrent", "1"),
                ("activity.daily-active-users", "1"),
                ("calls.concurrent-1to1", "0"),
                ("calls.group-rooms", "0"),
                ("users.registered", "1"),
            ]),
        ),
        (
            "1,000,000 users",
            edit(&[
                ("users.registered", "1000000"),
                ("users.peak-concurrent", "250000"),
                ("activity.daily-active-users", "500000"),
                ("calls.concurrent-1to1", "2500"),
                ("calls.group-rooms", "500"),
            ]),
        ),
        (
            "64 MinIO nodes",
            edit(&[("hosts.minio.count", "64"), ("minio.drives-per-node", "16")]),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn extreme_plans_render_every_view() {
    let b = Browser::start().await;
    for (name, p) in extreme_plans() {
        let json = cli_json(&p);
        b.open(&format!("#{}", link::encode(&p).expect("fits in a link")))
            .await;
        b.wait_metric(
            "hosts[2].count",
            &p.host(plan::Role::Minio).count.to_string(),
        )
        .await;
        for view in VIEWS {
            b.select_view(view).await;
            let text = b
                .js(
                    "const p = document.getElementById(`panel-${arguments[0]}`); return [p.innerText.length, p.querySelectorAll('h2').length];",
                    vec![json!(view)],
                )
                .await;
            assert!(
                text[0].as_u64().unwrap_or(0) > 50 && text[1].as_u64().unwrap_or(0) >= 1,
                "{name}: the {view} view is empty: {text}"
            );
            assert_view_matches_cli(&b, &json, view).await;
            // Charts render where the view has them.
            let svgs = b
                .js(
                    "return Array.from(document.querySelectorAll(`#panel-${arguments[0]} svg`)).map(s => s.querySelectorAll('rect, path, polyline, line').length);",
                    vec![json!(view)],
                )
                .await;
            for n in svgs.as_array().into_iter().flatten() {
                assert!(
                    n.as_u64().unwrap_or(0) > 0,
                    "{name}: an empty chart on {view}"
                );
            }
        }
        // The compare view against the default plan, with its files.
        b.select_view("compare").await;
        b.js(
            "document.getElementById('use-preset-b').click(); return 1;",
            vec![],
        )
        .await;
        b.until(&format!("{name}: a comparison"), || async {
            b.js(
                "return !!document.getElementById('compare-result');",
                vec![],
            )
            .await
                == json!(true)
        })
        .await;
        let console = b.severe_console().await;
        assert_eq!(console, Vec::<String>::new(), "{name}");
        b.select_view("budgets").await;
    }
    b.close().await;
}

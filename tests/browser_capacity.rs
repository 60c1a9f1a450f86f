//! The object-storage, calls and losing-a-node views in a real headless Chromium: every
//! figure equals the CLI's JSON, follows `minio.parity` and the calls inputs live, the
//! charts render, the host picker shows the loss of any host (equal to the core's
//! `sizing::failures::lose`), and the extreme plans (1 user; 1,000,000 users; 64 MinIO
//! nodes; no coturn or LiveKit) render without errors or a blank card.
//!
//! Needs a built site (`trunk build --release`, or `SYNAPSE_PLANNER_DIST=<dir>`),
//! chromium and chromedriver: scripts/test.sh provides them. Missing pieces fail.

#[path = "support/browser.rs"]
mod browser;

use browser::Browser;
use serde_json::{Value as Json, json};
use synapse_planner::plan::{self, Plan};
use synapse_planner::report::lookup;
use synapse_planner::sizing::failures;

fn plan_of(changes: &[(&str, &str)]) -> Plan {
    let mut raw = plan::RawPlan::default();
    for (path, text) in changes {
        assert!(raw.set(path, *text), "{path} is not a field");
    }
    let v = plan::validate(&raw);
    v.plan
        .unwrap_or_else(|| panic!("{changes:?}: {:?}", v.problems))
}

/// The CLI's JSON report for the default plan with `changes` applied.
fn cli_json(changes: &[(&str, &str)]) -> Json {
    browser::cli_report(&plan_of(changes))
}

/// The views of this file: (tab key, card id, the report section its figures read).
const VIEWS: [(&str, &str, &str); 3] = [
    ("object-storage", "object-storage", "object-storage."),
    ("calls", "calls", "calls."),
    ("failures", "failures", "failures["),
];

/// Shows a view (the results show one view at a time; a page without tabs shows all).
async fn show(b: &Browser, key: &str, card: &str) {
    b.js(
        "const t = document.getElementById(`tab-${arguments[0]}`); if (t) { t.click(); } return !!t;",
        vec![json!(key)],
    )
    .await;
    let what = format!("the {key} view");
    b.until(&what, || async {
        b.js(
            "return !!document.querySelector(`#${arguments[0]} [data-metric]`);",
            vec![json!(card)],
        )
        .await
            == Json::Bool(true)
    })
    .await;
}

/// Every figure of the section on the page has the CLI's value; returns how many.
async fn matches_cli(b: &Browser, json: &Json, prefix: &str, what: &str) -> usize {
    let figures: Vec<(String, String)> = b
        .metrics()
        .await
        .into_iter()
        .filter(|(p, _)| p.starts_with(prefix))
        .collect();
    for (path, value) in &figures {
        let shown: Json = serde_json::from_str(value)
            .unwrap_or_else(|e| panic!("{path}: data-value {value:?}: {e}"));
        assert_eq!(
            Some(&shown),
            lookup(json, path),
            "{what}: figure {path} differs from the CLI"
        );
    }
    figures.len()
}

async fn wait_for_cli(b: &Browser, json: &Json, path: &str) {
    let want = lookup(json, path)
        .unwrap_or_else(|| panic!("the CLI has no {path}"))
        .to_string();
    b.wait_metric(path, &want).await;
}

/// The chart of a card, as SVG markup ("" when there is none).
async fn chart(b: &Browser, card: &str) -> String {
    b.js(
        "const s = document.querySelector(`#${arguments[0]} svg.chart`); return s ? s.outerHTML : '';",
        vec![json!(card)],
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_string()
}

async fn card_text(b: &Browser, card: &str) -> String {
    b.js(
        "const s = document.getElementById(arguments[0]); return s ? s.innerText : '';",
        vec![json!(card)],
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_string()
}

/// Every view of this file shows the CLI's figures, a chart where it has one, and text.
async fn all_views_match(b: &Browser, json: &Json, what: &str) {
    for (key, card, prefix) in VIEWS {
        show(b, key, card).await;
        let n = matches_cli(b, json, prefix, what).await;
        let least = match key {
            "object-storage" => 20,
            "calls" => 4,
            _ => 8 * 6,
        };
        assert!(n >= least, "{what}: only {n} {key} figures");
        let text = card_text(b, card).await;
        assert!(text.len() > 200, "{what}: {key} card is blank: {text:?}");
        assert!(
            !text.contains("NaN") && !text.contains(" inf"),
            "{what}: {key}: {text}"
        );
        if key != "failures" {
            let svg = chart(b, card).await;
            assert!(
                svg.starts_with("<svg") && svg.contains("aria-label"),
                "{what}: {key} chart missing"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn cards_equal_the_cli_and_follow_the_inputs() {
    let b = Browser::start().await;
    let json = cli_json(&[]);
    all_views_match(&b, &json, "default plan").await;

    // Object storage: EC:8 on the 16-drive set: 8 TiB usable, write quorum 9.
    show(&b, "object-storage", "object-storage").await;
    assert_eq!(
        b.metric("object-storage.usable-tib").await.as_deref(),
        Some("12.0")
    );
    let svg = chart(&b, "object-storage").await;
    assert!(
        svg.contains("EC:4 ◀") && svg.contains("<rect"),
        "{svg:.300}"
    );
    let changes = [("minio.parity", "8")];
    b.type_into("minio.parity", "8").await;
    let json = cli_json(&changes);
    b.wait_metric("object-storage.usable-tib", "8.0").await;
    b.wait_metric("object-storage.write-quorum", "9").await;
    assert!(matches_cli(&b, &json, "object-storage.", "EC:8").await >= 20);
    assert!(chart(&b, "object-storage").await.contains("EC:8 ◀"));
    // An invalid parity: the card says MinIO refuses, the usable space is 0.
    b.type_into("minio.drives-per-node", "1").await;
    b.type_into("minio.parity", "3").await;
    let changes = [("minio.parity", "3"), ("minio.drives-per-node", "1")];
    let json = cli_json(&changes);
    wait_for_cli(&b, &json, "object-storage.problem").await;
    matches_cli(&b, &json, "object-storage.", "EC:3 on 4 × 1").await;
    assert!(
        card_text(&b, "object-storage")
            .await
            .contains("MinIO refuses")
    );
    b.type_into("minio.parity", "0").await;
    b.type_into("minio.drives-per-node", "4").await;
    b.wait_metric("object-storage.usable-tib", "12.0").await;

    // Calls: 20 rooms put 80 participants, 160 ports, on each node: over the range.
    show(&b, "calls", "calls").await;
    assert_eq!(
        b.metric("calls.livekit.ports-needed-per-node")
            .await
            .as_deref(),
        Some("48")
    );
    assert_eq!(
        b.metric("calls.turn.max-allocations-per-node")
            .await
            .as_deref(),
        Some("16384")
    );
    let svg = chart(&b, "calls").await;
    for row in ["TURN allocations", "LiveKit UDP ports", "48 / 101"] {
        assert!(svg.contains(row), "calls chart has no {row}");
    }
    b.type_into("calls.group-rooms", "20").await;
    b.wait_metric("calls.livekit.ports-needed-per-node", "160")
        .await;
    let json = cli_json(&[("calls.group-rooms", "20")]);
    assert!(matches_cli(&b, &json, "calls.", "20 rooms").await >= 8);
    let svg = chart(&b, "calls").await;
    assert!(
        svg.contains("#DC2626") || svg.contains("#dc2626"),
        "the overrun is not red"
    );
    // TURN: a 1,000-port relay range is the new quota and limit.
    b.type_into("coturn.min-port", "50000").await;
    b.type_into("coturn.max-port", "50999").await;
    b.wait_metric("calls.turn.total-quota", "1000").await;
    let json = cli_json(&[
        ("calls.group-rooms", "20"),
        ("coturn.min-port", "50000"),
        ("coturn.max-port", "50999"),
    ]);
    matches_cli(&b, &json, "calls.", "1,000 relay ports").await;

    let severe = b.severe_console().await;
    assert!(severe.is_empty(), "{severe:?}");
    b.close().await;
}

/// The picked loss on the page: every `data-loss` figure, against the core's
/// `lose(plan, host)`; returns how many there are.
async fn picked_matches_core(b: &Browser, plan: &Plan, host: &str) -> usize {
    let want = serde_json::to_value(failures::lose(plan, host).expect("a host")).unwrap();
    let want_host = json!(host).to_string();
    b.until(&format!("the loss of {host}"), || async {
        b.js(
            "const e = document.querySelector('.picked-loss [data-loss=\"host\"]'); return e ? e.dataset.value : null;",
            vec![],
        )
        .await
        .as_str()
            == Some(want_host.as_str())
    })
    .await;
    let figures: Vec<(String, String)> = serde_json::from_value(
        b.js(
            "return Array.from(document.querySelectorAll('.picked-loss [data-loss]')).map(e => [e.dataset.loss, e.dataset.value]);",
            vec![],
        )
        .await,
    )
    .expect("pairs");
    for (path, value) in &figures {
        let shown: Json = serde_json::from_str(value).expect("json value");
        assert_eq!(Some(&shown), lookup(&want, path), "{host}: {path}");
    }
    for key in ["verdict", "survives", "why", "capacity[0].after"] {
        assert!(
            figures.iter().any(|(p, _)| p == key),
            "{host}: the picked loss does not show {key}"
        );
    }
    figures.len()
}

#[tokio::test(flavor = "multi_thread")]
async fn host_picker_shows_the_loss_of_any_host() {
    let b = Browser::start().await;
    show(&b, "failures", "failures").await;
    let plan = Plan::default();
    // Every host of the plan is offered.
    let offered: Vec<String> = serde_json::from_value(
        b.js(
            "return Array.from(document.querySelectorAll('select[name=\"failures.host\"] option')).map(o => o.value);",
            vec![],
        )
        .await,
    )
    .expect("options");
    assert_eq!(offered, failures::hosts(&plan));
    for host in [
        "livekit2", "minio3", "patroni2", "haproxy2", "synapse", "backup",
    ] {
        b.choose("failures.host", host).await;
        let n = picked_matches_core(&b, &plan, host).await;
        assert!(n >= 8, "{host}: only {n} figures");
    }
    // The worst host of a role is the table's row: the same figures.
    b.choose("failures.host", "livekit1").await;
    picked_matches_core(&b, &plan, "livekit1").await;
    let json = cli_json(&[]);
    assert_eq!(lookup(&json, "failures[5].host"), Some(&json!("livekit1")));
    assert_eq!(
        b.metric("failures[5].verdict").await.as_deref(),
        Some("\"down\"")
    );
    // The pick follows the plan: a third coturn host appears and can be lost.
    b.type_into("hosts.coturn.count", "3").await;
    let plan = plan_of(&[("hosts.coturn.count", "3")]);
    b.until("coturn3 in the picker", || async {
        b.js(
            "return !!document.querySelector('select[name=\"failures.host\"] option[value=\"coturn3\"]');",
            vec![],
        )
        .await
            == Json::Bool(true)
    })
    .await;
    b.choose("failures.host", "coturn3").await;
    picked_matches_core(&b, &plan, "coturn3").await;
    let severe = b.severe_console().await;
    assert!(severe.is_empty(), "{severe:?}");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn extreme_plans_render() {
    for (what, changes) in [
        (
            "1 user",
            vec![
                ("users.peak-concurrent", "1"),
                ("activity.daily-active-users", "1"),
                ("users.registered", "1"),
                ("calls.concurrent-1to1", "0"),
                ("calls.group-rooms", "0"),
            ],
        ),
        (
            "1,000,000 users",
            vec![
                ("users.registered", "1000000"),
                ("users.peak-concurrent", "250000"),
                ("activity.daily-active-users", "500000"),
                ("calls.concurrent-1to1", "100000"),
                ("calls.group-rooms", "5000"),
            ],
        ),
        ("64 MinIO nodes", vec![("hosts.minio.count", "64")]),
        (
            "no coturn, no LiveKit",
            vec![("hosts.coturn.count", "0"), ("hosts.livekit.count", "0")],
        ),
    ] {
        let b = Browser::start().await;
        for (path, text) in &changes {
            b.type_into(path, text).await;
        }
        let json = cli_json(&changes);
        show(&b, "object-storage", "object-storage").await;
        wait_for_cli(&b, &json, "object-storage.raw-tib").await;
        show(&b, "calls", "calls").await;
        wait_for_cli(&b, &json, "calls.turn.relayed-calls").await;
        wait_for_cli(&b, &json, "calls.livekit.rooms").await;
        all_views_match(&b, &json, what).await;
        let severe = b.severe_console().await;
        assert!(severe.is_empty(), "{what}: {severe:?}");
        b.close().await;
    }
}

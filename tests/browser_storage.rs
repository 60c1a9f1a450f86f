//! The storage view in a real headless Chromium: its figures (the months until each disk
//! fills among them) equal the CLI's JSON, follow the activity inputs live, its chart
//! renders, and the extreme plans (1 user; 1,000,000 users; 64 MinIO nodes) render
//! without errors.
//!
//! Needs a built site (`trunk build --release`, or `SYNAPSE_PLANNER_DIST=<dir>`),
//! chromium and chromedriver: scripts/test.sh provides them. Missing pieces fail.

#[path = "support/browser.rs"]
mod browser;

use browser::Browser;
use serde_json::Value as Json;
use synapse_planner::report::lookup;
use synapse_planner::sizing::storage::DiskId;

/// The CLI's JSON report for the default plan with `changes` applied in order.
fn cli_json(changes: &[(&str, &str)]) -> Json {
    browser::cli_report(&browser::plan_with(changes))
}

/// Every storage figure on the page has the CLI's value; returns how many there are.
async fn storage_matches_cli(b: &Browser, json: &Json, what: &str) -> usize {
    let figures: Vec<(String, String)> = b
        .metrics()
        .await
        .into_iter()
        .filter(|(p, _)| p.starts_with("storage."))
        .collect();
    for (path, value) in &figures {
        let shown: Json = serde_json::from_str(value)
            .unwrap_or_else(|e| panic!("{path}: data-value {value:?}: {e}"));
        assert_eq!(
            Some(&shown),
            lookup(json, path),
            "{what}: storage figure {path} differs from the CLI"
        );
    }
    for id in DiskId::ALL {
        let path = format!("storage.months-until-full.{}", id.key());
        assert!(
            figures.iter().any(|(p, _)| *p == path),
            "{what}: the card does not show {path}"
        );
    }
    figures.len()
}

/// Waits until the page shows the CLI's value at `path` for these changes.
async fn wait_for_cli(b: &Browser, json: &Json, path: &str) {
    let want = lookup(json, path)
        .unwrap_or_else(|| panic!("the CLI has no {path}"))
        .to_string();
    b.wait_metric(path, &want).await;
}

/// Selects the Storage view (the results show one view at a time) and waits for it.
async fn show_storage(b: &Browser) {
    b.js(
        "const t = document.getElementById('tab-storage'); if (t) { t.click(); } return !!t;",
        vec![],
    )
    .await;
    b.until("the storage view", || async {
        b.metric("storage.months").await.is_some()
    })
    .await;
}

/// The storage card's chart: its SVG markup.
async fn storage_chart(b: &Browser) -> String {
    b.js(
        "const s = document.querySelector('#storage svg.chart'); return s ? s.outerHTML : '';",
        vec![],
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_string()
}

async fn card_text(b: &Browser) -> String {
    b.js(
        "const s = document.getElementById('storage'); return s ? s.innerText : '';",
        vec![],
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn storage_card_equals_the_cli_and_follows_activity() {
    let b = Browser::start().await;
    show_storage(&b).await;
    let json = cli_json(&[]);
    let n = storage_matches_cli(&b, &json, "default plan").await;
    assert!(n > 60, "only {n} storage figures on the page");
    // The default plan: MinIO fills in month 27, the backup disk in month 11.
    assert_eq!(
        b.metric("storage.months-until-full.minio").await.as_deref(),
        Some("27")
    );
    assert_eq!(
        b.metric("storage.months-until-full.patroni")
            .await
            .as_deref(),
        Some("null")
    );
    let svg = storage_chart(&b).await;
    assert!(
        svg.matches("<polyline").count() >= 5,
        "a chart without its disk lines: {}",
        &svg[..300.min(svg.len())]
    );
    assert!(svg.contains("full (85%)"), "no full line");
    // Half the daily active users: half the media, MinIO no longer fills in 36 months.
    let changes = [("activity.daily-active-users", "2500")];
    b.type_into(changes[0].0, changes[0].1).await;
    let json = cli_json(&changes);
    wait_for_cli(&b, &json, "storage.rates.stored-events-per-day").await;
    b.wait_metric("storage.months-until-full.minio", "null")
        .await;
    storage_matches_cli(&b, &json, "2,500 daily active users").await;
    // And a longer span: it fills again, later.
    let changes = [
        ("activity.daily-active-users", "2500"),
        ("activity.months", "120"),
    ];
    b.type_into(changes[1].0, changes[1].1).await;
    let json = cli_json(&changes);
    wait_for_cli(&b, &json, "storage.months-until-full.minio").await;
    storage_matches_cli(&b, &json, "120 months").await;
    let svg = storage_chart(&b).await;
    assert!(svg.contains("minio (full in month "), "{svg:.400}");
    assert!(
        b.severe_console().await.is_empty(),
        "{:?}",
        b.severe_console().await
    );
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
            ],
        ),
        (
            "1,000,000 users",
            vec![
                ("users.registered", "1000000"),
                ("users.peak-concurrent", "250000"),
                ("activity.daily-active-users", "500000"),
            ],
        ),
        ("64 MinIO nodes", vec![("hosts.minio.count", "64")]),
    ] {
        let b = Browser::start().await;
        show_storage(&b).await;
        for (path, text) in &changes {
            b.type_into(path, text).await;
        }
        let json = cli_json(&changes);
        wait_for_cli(&b, &json, "storage.rates.stored-events-per-day").await;
        wait_for_cli(&b, &json, "storage.disks[1].capacity-gib").await;
        let n = storage_matches_cli(&b, &json, what).await;
        assert!(n > 60, "{what}: only {n} storage figures");
        let svg = storage_chart(&b).await;
        assert!(svg.contains("<polyline"), "{what}: no chart lines");
        let text = card_text(&b).await;
        assert!(
            text.contains("Storage over time") && text.len() > 400,
            "{what}: the card is blank: {text:?}"
        );
        assert!(
            !text.contains("NaN") && !text.contains("inf "),
            "{what}: {text}"
        );
        let severe = b.severe_console().await;
        assert!(severe.is_empty(), "{what}: {severe:?}");
        b.close().await;
    }
}

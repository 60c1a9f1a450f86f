//! Links, saving and plan files in a real headless Chromium: a link opens the same
//! plan in a fresh profile; a reload keeps it (even half-typed); bad links show a
//! message and the page keeps working; import refuses bad files; two tabs warn instead
//! of overwriting each other.

#[path = "support/browser.rs"]
mod browser;

use browser::Browser;
use serde_json::Value as Json;
use std::time::Duration;
use synapse_planner::plan::{self, Plan, YamlStyle};

/// Waits until the plan saved in the browser's storage holds `text` (the app saves
/// 300 ms after the last change). The key is src/ui/share.rs STORAGE_KEY (the UI module
/// is wasm-only, so the tests name it here).
async fn saved_with(b: &Browser, text: &str) {
    b.until(&format!("the saved plan to hold {text}"), || async {
        b.js(
            "return (localStorage.getItem('synapse-planner.plan.v1') || '').includes(arguments[0]);",
            vec![Json::from(text)],
        )
        .await
            == Json::Bool(true)
    })
    .await;
}

/// Every input's value by name.
async fn inputs(b: &Browser) -> Vec<(String, Json)> {
    let v = b
        .js(
            "return Array.from(document.querySelectorAll('.inputs [name]')).map(e => [e.name, e.type === 'checkbox' ? e.checked : e.value]);",
            vec![],
        )
        .await;
    serde_json::from_value(v).expect("pairs")
}

async fn hash(b: &Browser) -> String {
    b.js("return location.hash;", vec![])
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn notices(b: &Browser) -> Vec<String> {
    let v = b.js("return Array.from(document.querySelectorAll('.notice')).map(e => e.className + ' :: ' + e.innerText);", vec![]).await;
    serde_json::from_value(v).expect("notices")
}

/// Types changes and waits until the link reflects the last one.
async fn edit(b: &Browser, changes: &[(&str, &str)]) -> String {
    let before = hash(b).await;
    for (path, text) in changes {
        b.type_into(path, text).await;
    }
    b.until("the link to change", || async { hash(b).await != before })
        .await;
    // The link is written 300 ms after the last keystroke.
    b.settled_link().await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_link_opens_the_same_plan_in_a_fresh_profile() {
    let a = Browser::start().await;
    assert!(
        hash(&a).await.len() <= 61,
        "default plan link: {}",
        hash(&a).await
    );
    let changes = [
        ("synapse.workers.sync", "5"),
        ("hosts.patroni.count", "5"),
        ("synapse.cache-factor", "7.5"),
        ("synapse.per-cache-factors", "get_users_in_room: 4"),
        ("domain", "matrix.acme.example"),
    ];
    let link = edit(&a, &changes).await;
    a.choose("pgbouncer.pool-mode", "session").await;
    a.until("the link to change", || async { hash(&a).await != link })
        .await;
    let link2 = a.settled_link().await;
    assert_ne!(link, link2, "a select changes the link too");
    let (inputs_a, metrics_a) = (inputs(&a).await, a.metrics().await);
    // The CLI reads the same link to the same plan.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_synapse-planner"))
        .args(["open-url", &link2])
        .output()
        .expect("open-url");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut want = Plan::default();
    for (p, t) in changes
        .iter()
        .chain([("pgbouncer.pool-mode", "session")].iter())
    {
        want = want.with_text(p, t).expect("valid");
    }
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        plan::to_yaml(&want, YamlStyle::Full)
    );
    a.close().await;

    let b = Browser::start().await;
    b.open(&link2).await;
    b.wait_metric("synapse.process-count", "22").await;
    assert_eq!(
        inputs(&b).await,
        inputs_a,
        "inputs differ after opening the link"
    );
    assert_eq!(
        b.metrics().await,
        metrics_a,
        "figures differ after opening the link"
    );
    assert_eq!(notices(&b).await, Vec::<String>::new());
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reload_keeps_the_plan_even_half_typed() {
    let b = Browser::start().await;
    edit(
        &b,
        &[("hosts.minio.count", "8"), ("users.registered", "20000")],
    )
    .await;
    b.type_into("synapse.cache-factor", "abc").await;
    // Saved 300 ms after the last keystroke: wait for it rather than for a time.
    saved_with(&b, "abc").await;
    let before = inputs(&b).await;
    // Without the fragment, the saved plan comes back.
    b.client
        .goto(&format!("{}/", b.origin))
        .await
        .expect("goto");
    b.open("").await;
    assert_eq!(
        inputs(&b).await,
        before,
        "the saved plan came back with what was typed"
    );
    let msg = b
        .js("return document.querySelector('[name=\"synapse.cache-factor\"]').closest('.field').innerText;", vec![])
        .await;
    assert!(
        msg.as_str()
            .unwrap_or_default()
            .contains("“abc” is not a number"),
        "{msg}"
    );
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_links_show_a_message_and_the_page_works() {
    let b = Browser::start().await;
    let saved = edit(&b, &[("hosts.coturn.count", "3")]).await;
    let good = synapse_planner::plan::link::encode(
        &Plan::default()
            .with_text("hosts.minio.count", "6")
            .expect("valid"),
    )
    .expect("fits in a link");
    let hostile = [
        "#garbage".to_string(),
        format!("#{}", &good[..good.len() - 5]),
        format!("#1.1.{}", "A".repeat(20_000)),
        "#<script>window.pwned=1</script>".to_string(),
        "#1.1.<img src=x onerror=window.pwned=1>".to_string(),
        "#99.1.abc".to_string(),
    ];
    for fragment in &hostile {
        b.open(fragment).await;
        let n = notices(&b).await;
        assert!(
            n.iter()
                .any(|t| t.contains("error") && t.contains("This link could not be opened")),
            "{fragment}: {n:?}"
        );
        // The last saved plan is shown (3 coturn hosts), and the page works.
        assert_eq!(
            b.metric("hosts[4].count").await.as_deref(),
            Some("3"),
            "{fragment}"
        );
        b.type_into("synapse.workers.sync", "4").await;
        b.wait_metric("synapse.process-count", "21").await;
        b.type_into("synapse.workers.sync", "3").await;
        b.wait_metric("synapse.process-count", "20").await;
        let pwned = b.js("return window.pwned === 1;", vec![]).await;
        assert_eq!(pwned, Json::Bool(false), "{fragment}");
    }
    let _ = saved;
    assert_eq!(b.severe_console().await, Vec::<String>::new());
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn import_refuses_bad_files_and_accepts_good_ones() {
    let b = Browser::start().await;
    let dir = std::env::temp_dir().join(format!("sp-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let bad = dir.join("bad.yaml");
    std::fs::write(
        &bad,
        "schema: 1\nusers:\n  registered: lots\nhosts:\n  patroni:\n    count: -2\n",
    )
    .expect("write");
    let good = dir.join("good.yaml");
    let plan = Plan::default()
        .with_text("synapse.workers.sync", "8")
        .expect("valid");
    std::fs::write(&good, plan::to_yaml(&plan, YamlStyle::Minimal)).expect("write");
    let before = inputs(&b).await;

    let input = b
        .client
        .find(fantoccini::Locator::Id("import-plan"))
        .await
        .expect("file input");
    input
        .send_keys(bad.to_str().expect("path"))
        .await
        .expect("choose file");
    b.until("the refusal", || async {
        notices(&b)
            .await
            .iter()
            .any(|n| n.contains("bad.yaml was not imported"))
    })
    .await;
    let n = notices(&b).await.join("\n");
    assert!(
        n.contains("users.registered") && n.contains("hosts.patroni.count"),
        "{n}"
    );
    assert_eq!(inputs(&b).await, before, "a refused file changes nothing");

    let input = b
        .client
        .find(fantoccini::Locator::Id("import-plan"))
        .await
        .expect("file input");
    input
        .send_keys(good.to_str().expect("path"))
        .await
        .expect("choose file");
    b.wait_metric("synapse.process-count", "25").await;

    // Export gives back the same plan, as a plan file the CLI accepts.
    for entry in std::fs::read_dir(b.downloads())
        .expect("downloads")
        .flatten()
    {
        let _ = std::fs::remove_file(entry.path());
    }
    b.js(
        "document.getElementById('export-plan').click(); return 1;",
        vec![],
    )
    .await;
    let mut exported = String::new();
    b.until("the exported file", || {
        let f = std::fs::read_dir(b.downloads())
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "yaml"));
        if let Some(p) = f {
            exported = std::fs::read_to_string(p).unwrap_or_default();
        }
        let done = !exported.is_empty();
        async move { done }
    })
    .await;
    let v = plan::from_yaml(&exported).validate();
    assert_eq!(v.plan, Some(plan));
    let _ = std::fs::remove_dir_all(&dir);
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_tabs_warn_instead_of_overwriting() {
    let b = Browser::start().await;
    let first = b.client.window().await.expect("window");
    let second = b.client.new_window(true).await.expect("new tab").handle;
    b.client
        .switch_to_window(second.clone())
        .await
        .expect("switch");
    b.open("").await;
    // The second tab edits and saves.
    b.type_into("hosts.haproxy.count", "3").await;
    saved_with(&b, r#""hosts.haproxy.count":"3""#).await;
    // The first tab hears of it and pauses its own saving.
    b.client.switch_to_window(first).await.expect("switch back");
    b.until("the other-tab warning", || async {
        b.js("return !!document.getElementById('tab-conflict');", vec![])
            .await
            == Json::Bool(true)
    })
    .await;
    b.js(
        "document.querySelector('#tab-conflict button').click(); return 1;",
        vec![],
    )
    .await;
    b.wait_metric("hosts[3].count", "3").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_and_new_ask_before_discarding() {
    let b = Browser::start().await;
    edit(&b, &[("synapse.workers.sync", "6")]).await;
    b.wait_metric("synapse.process-count", "23").await;
    for (button, accept) in [
        ("reset-plan", false),
        ("reset-plan", true),
        ("new-plan", true),
    ] {
        if button == "new-plan" {
            edit(&b, &[("synapse.workers.sync", "6")]).await;
        }
        b.js(
            &format!("setTimeout(() => document.getElementById('{button}').click(), 0); return 1;"),
            vec![],
        )
        .await;
        b.until("the confirmation", || async {
            b.client.get_alert_text().await.is_ok()
        })
        .await;
        let text = b.client.get_alert_text().await.expect("alert");
        assert!(text.contains("This replaces the current plan"), "{text}");
        if accept {
            b.client.accept_alert().await.expect("accept");
            b.wait_metric("synapse.process-count", "20").await;
            // Let the link catch up (written 300 ms after a change).
            b.settled_link().await;
        } else {
            b.client.dismiss_alert().await.expect("dismiss");
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert_eq!(
                b.metric("synapse.process-count").await.as_deref(),
                Some("23"),
                "a dismissed reset keeps the plan"
            );
        }
    }
    let name = b
        .js(
            "return document.querySelector('[name=\"name\"]').value;",
            vec![],
        )
        .await;
    assert_eq!(name, Json::from("new-plan"));
    b.close().await;
}

/// A link pasted into the address bar of an open tab changes only the fragment (no page
/// load): the tab opens it; a bad one leaves the plan as it was, with the message, and
/// puts the plan's own link back; an in-page anchor is not a link.
#[tokio::test(flavor = "multi_thread")]
async fn a_link_pasted_into_an_open_tab_opens() {
    let b = Browser::start().await;
    edit(&b, &[("hosts.coturn.count", "3")]).await;
    let other = Plan::default()
        .with_text("synapse.workers.sync", "5")
        .expect("valid");
    let link = plan::link::encode(&other).expect("fits in a link");
    b.js(
        "location.hash = arguments[0];",
        vec![Json::from(link.clone())],
    )
    .await;
    b.wait_metric("synapse.process-count", "22").await;
    // The pasted plan replaces the edited one (coturn back to its default 2)…
    assert_eq!(b.metric("hosts[4].count").await.as_deref(), Some("2"));
    // …and stays in the address.
    assert_eq!(b.settled_link().await, format!("#{link}"));
    assert_eq!(notices(&b).await, Vec::<String>::new());

    // A damaged link: the message, the same plan, its own link back.
    b.js("location.hash = '#1.1.damaged';", vec![]).await;
    b.until("the message", || async {
        notices(&b)
            .await
            .iter()
            .any(|t| t.contains("This link could not be opened"))
    })
    .await;
    assert_eq!(
        b.metric("synapse.process-count").await.as_deref(),
        Some("22")
    );
    b.until("the plan's link back", || async {
        hash(&b).await == format!("#{link}")
    })
    .await;

    // An in-page anchor (the skip link's target) is not a plan.
    b.js("location.hash = '#results';", vec![]).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        b.metric("synapse.process-count").await.as_deref(),
        Some("22")
    );
    assert_eq!(b.severe_console().await, Vec::<String>::new());
    b.close().await;
}

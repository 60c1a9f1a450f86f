//! The app in a real headless Chromium: type into inputs, see figures, charts and
//! findings follow; bad values stay at their field while the page keeps working; every
//! figure equals the CLI's JSON for the same plan; nothing leaves 127.0.0.1.
//!
//! Needs `dist/` (trunk build --release), chromium and chromedriver: scripts/test.sh
//! provides all three. Missing pieces fail the test with a message.

#[path = "support/browser.rs"]
mod browser;

use browser::Browser;
use serde_json::Value as Json;
use synapse_planner::plan::{self, Plan, YamlStyle};
use synapse_planner::report::lookup;

/// The CLI's JSON report for the default plan with `changes` applied.
fn cli_json(changes: &[(&str, &str)]) -> Json {
    browser::cli_report(&browser::plan_with(changes))
}

/// Every `data-metric` on the page has the CLI's value at that path.
async fn assert_page_matches_cli(b: &Browser, changes: &[(&str, &str)]) {
    let json = cli_json(changes);
    let metrics = b.metrics().await;
    assert!(
        metrics.len() > 150,
        "only {} figures on the page",
        metrics.len()
    );
    for (path, value) in &metrics {
        let shown: Json = serde_json::from_str(value)
            .unwrap_or_else(|e| panic!("{path}: data-value {value:?}: {e}"));
        assert_eq!(
            Some(&shown),
            lookup(&json, path),
            "figure {path} differs from the CLI after {changes:?}"
        );
    }
}

/// The findings' codes, read on the findings view; the budgets view is shown again
/// afterwards (the other helpers read its figures).
async fn codes(b: &Browser) -> Vec<String> {
    b.select_view("findings").await;
    let codes = b
        .metrics()
        .await
        .into_iter()
        .filter(|(p, _)| p.starts_with("findings[") && p.ends_with("].code"))
        .map(|(_, v)| serde_json::from_str::<String>(&v).expect("code string"))
        .collect();
    b.select_view("budgets").await;
    codes
}

async fn chart_svgs(b: &Browser) -> Vec<String> {
    let v = b
        .js(
            "return Array.from(document.querySelectorAll('svg.chart')).map(s => s.outerHTML);",
            vec![],
        )
        .await;
    serde_json::from_value(v).expect("svg strings")
}

/// The problems listed under a field.
async fn field_messages(b: &Browser, path: &str) -> String {
    b.js(
        "const el = document.querySelector(`[name=\"${arguments[0]}\"]`); return el.closest('.field').querySelector('.problems').innerText;",
        vec![Json::from(path)],
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_string()
}

async fn is_stale(b: &Browser) -> bool {
    b.js(
        "return document.getElementById('results').classList.contains('stale');",
        vec![],
    )
    .await
        == Json::Bool(true)
}

#[tokio::test(flavor = "multi_thread")]
async fn default_plan_figures_equal_the_cli_and_charts_render() {
    let b = Browser::start().await;
    assert_page_matches_cli(&b, &[]).await;
    let svgs = chart_svgs(&b).await;
    assert_eq!(svgs.len(), 2, "RAM and connection charts");
    for svg in &svgs {
        assert!(
            svg.matches("<rect").count() >= 4,
            "a chart without bars: {}",
            &svg[..200.min(svg.len())]
        );
    }
    // Every input has a visible label tied to it and is named by its key path (the
    // assumptions' fields are on their own view).
    let mut names: Vec<String> = Vec::new();
    for view in ["budgets", "assumptions"] {
        b.select_view(view).await;
        let v = b
            .js(
                "return Array.from(document.querySelectorAll('[name]')).map(e => e.name);",
                vec![],
            )
            .await;
        names.extend(serde_json::from_value::<Vec<String>>(v).expect("names"));
        let unlabeled = b
            .js(
                "return Array.from(document.querySelectorAll('input, select, textarea')).filter(i => { const l = document.querySelector(`label[for=\"${i.id}\"]`); return !l || !l.innerText.trim() || !i.name; }).map(i => i.name || i.id);",
                vec![],
            )
            .await;
        assert_eq!(unlabeled, Json::Array(vec![]), "on {view}");
    }
    for f in plan::fields() {
        assert!(names.contains(&f.path), "no input named {}", f.path);
    }
    assert_eq!(b.severe_console().await, Vec::<String>::new());
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn typing_updates_budgets_charts_and_findings() {
    let b = Browser::start().await;
    let charts_before = chart_svgs(&b).await;

    // 300 peak users: the room worker's caches 300 × 1.8 MiB = 0.53 GiB + 0.16 GiB base,
    // the busiest process.
    b.type_into("users.peak-concurrent", "300").await;
    b.wait_metric("synapse.ram-per-process-gib", "0.69").await;
    assert_page_matches_cli(&b, &[("users.peak-concurrent", "300")]).await;
    let charts_mid = chart_svgs(&b).await;
    assert_ne!(
        charts_before[0], charts_mid[0],
        "the RAM chart follows the peak users"
    );

    b.type_into("hosts.synapse.ram-gib", "6").await;
    b.until("ram-over-budget", || async {
        codes(&b).await.contains(&"ram-over-budget".to_string())
    })
    .await;

    b.type_into("postgres.max-connections", "70").await;
    b.wait_metric("connections.postgres-available", "55").await;
    b.until("postgres-connections-short", || async {
        codes(&b)
            .await
            .contains(&"postgres-connections-short".to_string())
    })
    .await;
    let charts_after = chart_svgs(&b).await;
    assert_ne!(
        charts_mid[1], charts_after[1],
        "the connection chart follows max_connections"
    );

    b.choose("pgbouncer.pool-mode", "statement").await;
    b.until("pgbouncer-statement-mode", || async {
        codes(&b)
            .await
            .contains(&"pgbouncer-statement-mode".to_string())
    })
    .await;
    b.choose("synapse.redis", "false").await;
    b.until("workers-without-redis", || async {
        codes(&b)
            .await
            .contains(&"workers-without-redis".to_string())
    })
    .await;

    b.type_into("synapse.per-cache-factors", "get_users_in_room: 5.0")
        .await;
    b.type_into("synapse.workers.sync", "6").await;
    b.wait_metric("synapse.process-count", "23").await;
    assert_page_matches_cli(
        &b,
        &[
            ("users.peak-concurrent", "300"),
            ("hosts.synapse.ram-gib", "6"),
            ("postgres.max-connections", "70"),
            ("pgbouncer.pool-mode", "statement"),
            ("synapse.redis", "false"),
            ("synapse.per-cache-factors", "get_users_in_room: 5.0"),
            ("synapse.workers.sync", "6"),
        ],
    )
    .await;
    assert_eq!(b.severe_console().await, Vec::<String>::new());
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_values_stay_at_their_field_and_the_page_keeps_working() {
    let b = Browser::start().await;
    b.type_into("synapse.cache-factor", "abc").await;
    b.until("the cache-factor message", || async {
        field_messages(&b, "synapse.cache-factor")
            .await
            .contains("“abc” is not a number")
    })
    .await;
    assert!(is_stale(&b).await, "results are marked stale");
    let banner = b
        .js(
            "return document.querySelector('.stale-banner')?.innerText ?? '';",
            vec![],
        )
        .await;
    assert!(
        banner
            .as_str()
            .unwrap_or_default()
            .contains("last valid results"),
        "{banner}"
    );
    // The last good figures are still there, unchanged.
    assert_page_matches_cli(&b, &[]).await;
    // What the user typed is kept.
    let typed = b
        .js(
            "return document.querySelector('[name=\"synapse.cache-factor\"]').value;",
            vec![],
        )
        .await;
    assert_eq!(typed, Json::from("abc"));

    // More bad values: each message at its own field, all at once.
    b.type_into("users.registered", "").await;
    b.type_into("hosts.patroni.count", "-1").await;
    b.type_into("domain", "Not A Domain").await;
    b.until("three more messages", || async {
        field_messages(&b, "users.registered")
            .await
            .contains("is empty")
            && field_messages(&b, "hosts.patroni.count")
                .await
                .contains("cannot be negative")
            && field_messages(&b, "domain")
                .await
                .contains("capital letters")
    })
    .await;
    let invalid = b
        .js(
            "return document.querySelectorAll('.field.invalid').length;",
            vec![],
        )
        .await;
    assert_eq!(invalid, Json::from(4));
    let status = b
        .js(
            "return document.querySelector('.stale-pill')?.innerText ?? '';",
            vec![],
        )
        .await;
    assert!(
        status
            .as_str()
            .unwrap_or_default()
            .starts_with("4 input error"),
        "{status}"
    );

    // A valid edit elsewhere is kept while the plan is invalid, and counts once fixed.
    b.type_into("synapse.workers.sync", "4").await;
    b.type_into("synapse.cache-factor", "10").await;
    b.type_into("users.registered", "10000").await;
    b.type_into("hosts.patroni.count", "3").await;
    b.type_into("domain", "chat.example.com").await;
    b.until("fresh results", || async { !is_stale(&b).await })
        .await;
    b.wait_metric("synapse.process-count", "21").await;
    assert_page_matches_cli(&b, &[("synapse.workers.sync", "4")]).await;

    // Hostile text is text: nothing is injected into the page.
    b.type_into("name", "<img src=x onerror=\"window.pwned=1\">")
        .await;
    b.type_into(
        "synapse.per-cache-factors",
        "<script>window.pwned=1</script>: 2",
    )
    .await;
    b.until("the factor message", || async {
        field_messages(&b, "synapse.per-cache-factors")
            .await
            .contains("is not a Synapse cache name")
    })
    .await;
    let pwned = b.js("return window.pwned === 1 || document.querySelectorAll('img, script:not([src])').length > 1;", vec![]).await;
    assert_eq!(pwned, Json::Bool(false));
    assert_eq!(b.severe_console().await, Vec::<String>::new());
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn no_request_leaves_loopback() {
    let b = Browser::start().await;
    b.type_into("synapse.cp-max", "12").await;
    b.wait_metric("connections.synapse-pool-total", "240").await;
    b.client.refresh().await.expect("reload");
    b.open("").await;
    let urls = b.requested_urls().await;
    assert!(
        urls.iter().any(|u| u.ends_with(".wasm")),
        "the log saw the wasm module: {urls:?}"
    );
    // Network schemes must name our origin; chrome://, data: and blob: never leave the
    // process (chrome:// is the browser's own new-tab page before the first navigation).
    let network = |u: &&String| {
        ["http:", "https:", "ws:", "wss:", "ftp:"]
            .iter()
            .any(|s| u.starts_with(s))
    };
    let outside: Vec<&String> = urls
        .iter()
        .filter(network)
        .filter(|u| !u.starts_with(&format!("{}/", b.origin)))
        .collect();
    assert!(
        urls.iter().filter(network).count() >= 3,
        "page, script and module were logged: {urls:?}"
    );
    assert!(outside.is_empty(), "requests left 127.0.0.1: {outside:?}");
    // The app's CSP would also refuse such a request, and say so on the console.
    let csp = b.js("return document.querySelector('meta[http-equiv=\"Content-Security-Policy\"]')?.content ?? '';", vec![]).await;
    assert!(
        csp.as_str()
            .unwrap_or_default()
            .starts_with("default-src 'self';"),
        "{csp}"
    );
    assert_eq!(b.severe_console().await, Vec::<String>::new());

    // The detector itself sees a request to another origin (a page without our CSP).
    // 127.0.0.2 is another origin that still never leaves this machine.
    b.client
        .goto("data:text/html,<img src='http://127.0.0.2:9/probe.png'>")
        .await
        .expect("probe page");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let probe = b.requested_urls().await;
    assert!(
        probe.iter().any(|u| u.starts_with("http://127.0.0.2:9/")),
        "the log misses outside requests: {probe:?}"
    );
    b.close().await;
}

/// Entries of a zip: (name, contents), in order.
fn unzip(bytes: &[u8]) -> Vec<(String, String)> {
    use std::io::Read;
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    (0..z.len())
        .map(|i| {
            let mut e = z.by_index(i).expect("entry");
            let mut text = String::new();
            e.read_to_string(&mut text).expect("text");
            (e.name().expect("name").to_string(), text)
        })
        .collect()
}

async fn download_zip(b: &Browser) -> Vec<u8> {
    for entry in std::fs::read_dir(b.downloads())
        .expect("downloads")
        .flatten()
    {
        let _ = std::fs::remove_file(entry.path());
    }
    b.js(
        "document.getElementById('download-bundle').click(); return 1;",
        vec![],
    )
    .await;
    let mut found = None;
    b.until("the zip in the downloads directory", || {
        let dir = b.downloads().to_path_buf();
        let f = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "zip"));
        found = f.clone();
        async move { f.is_some() }
    })
    .await;
    std::fs::read(found.expect("zip")).expect("read zip")
}

/// The date in the headers of a zip's plan.yaml (the browser's clock).
fn header_date(entries: &[(String, String)]) -> String {
    let plan_yaml = &entries
        .iter()
        .find(|(n, _)| n == "plan.yaml")
        .expect("plan.yaml")
        .1;
    plan_yaml
        .split(" on ")
        .nth(1)
        .and_then(|s| s.get(..10))
        .expect("a date in the header")
        .to_string()
}

/// The CLI's bundle of `plan` with placeholders and `date`, unzipped (with
/// `--allow-errors`: the browser downloads a plan with error findings once asked).
fn cli_zip(plan: &Plan, date: &str, label: &str) -> Vec<(String, String)> {
    let dir =
        std::env::temp_dir().join(format!("sp-browser-bundle-{}-{label}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let plan_file = dir.join("plan.yaml");
    std::fs::write(&plan_file, plan::to_yaml(plan, YamlStyle::Minimal)).expect("plan");
    let out = dir.join("cli.zip");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_synapse-planner"))
        .args([
            "bundle",
            "--placeholders",
            "--allow-errors",
            "--date",
            date,
            "--plan",
        ])
        .arg(&plan_file)
        .arg("--out")
        .arg(&out)
        .status()
        .expect("run the CLI");
    assert!(status.success());
    let cli = unzip(&std::fs::read(&out).expect("cli zip"));
    let _ = std::fs::remove_dir_all(&dir);
    cli
}

/// A link whose plan name is markup and shell code: the page shows it as text (no
/// element, no script), and its bundle is the CLI's for the same plan, byte for byte.
#[tokio::test(flavor = "multi_thread")]
async fn shell_injection_a_hostile_link_shows_text_and_gives_the_cli_bundle() {
    let name = r#"<img src=x onerror="window.__pwned=1">$(pwned)`id`'"; {{ x }} -->"#;
    let plan = Plan::default()
        .with_text("name", name)
        .expect("a valid name");
    let link = plan::link::encode(&plan).expect("fits in a link");
    let b = Browser::start().await;
    b.open(&format!("#{link}")).await;
    b.until("the name from the link", || async {
        b.js(
            "return document.querySelector('[name=\"name\"]').value;",
            vec![],
        )
        .await
        .as_str()
            == Some(name)
    })
    .await;
    let injected = b
        .js(
            "return [window.__pwned === undefined, document.querySelectorAll('img[src=x]').length];",
            vec![],
        )
        .await;
    assert_eq!(
        injected,
        serde_json::json!([true, 0]),
        "the name became markup"
    );
    b.select_view("bundle").await;
    b.choose("bundle.placeholders", "true").await;
    let entries = unzip(&download_zip(&b).await);
    let cli = cli_zip(&plan, &header_date(&entries), "hostile");
    assert_eq!(entries, cli, "the browser's bundle is the CLI's");
    let ca = &entries
        .iter()
        .find(|(n, _)| n == "scripts/certs/internal-ca.sh")
        .expect("internal-ca.sh")
        .1;
    assert!(
        ca.contains(&synapse_planner::syntax::shell::quote(&format!(
            "/O={}/CN=Matrix internal CA",
            synapse_planner::syntax::dn::value(name, synapse_planner::syntax::dn::UB_NAME)
        ))),
        "{ca}"
    );
    assert_eq!(b.severe_console().await, Vec::<String>::new());
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bundle_in_the_browser_equals_the_cli_bundle() {
    let b = Browser::start().await;
    b.type_into("hosts.patroni.count", "5").await;
    b.wait_metric("hosts[1].count", "5").await;
    b.select_view("bundle").await;
    b.choose("bundle.placeholders", "true").await;
    let browser_zip = download_zip(&b).await;
    let entries = unzip(&browser_zip);
    assert!(entries.len() > 30, "{} files", entries.len());
    // The date in the headers is the browser's; give the CLI the same.
    let date = header_date(&entries);
    let plan = Plan::default()
        .with_text("hosts.patroni.count", "5")
        .expect("valid");
    let cli = cli_zip(&plan, &date, "patroni5");
    let names = |v: &[(String, String)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&entries), names(&cli), "same files in the same order");
    assert_eq!(entries, cli, "same contents");
    assert!(
        entries
            .iter()
            .any(|(n, _)| n == "hosts/patroni5/etc/patroni/config.yml"
                || n.starts_with("hosts/patroni5/")),
        "the fifth Patroni node has its files"
    );

    // The file list groups by role and previews a file.
    let scopes = b.js("return Array.from(document.querySelectorAll('.file-list .scope')).map(e => e.dataset.scope);", vec![]).await;
    let scopes: Vec<String> = serde_json::from_value(scopes).expect("scopes");
    for want in ["control", "all-hosts", "patroni", "haproxy", "monitoring"] {
        assert!(
            scopes.iter().any(|s| s == want),
            "no {want} group in {scopes:?}"
        );
    }
    b.js("document.querySelector('.file-list button.file[data-path=\"RUNBOOK.md\"]').click(); return 1;", vec![]).await;
    b.until("the runbook preview", || async {
        b.js(
            "return document.querySelector('.preview pre.contents')?.innerText ?? '';",
            vec![],
        )
        .await
        .as_str()
        .unwrap_or_default()
        .contains("# Runbook")
    })
    .await;

    // Real secrets: from Web Crypto, the same within the page, none of them placeholders.
    b.choose("bundle.placeholders", "false").await;
    let first = unzip(&download_zip(&b).await);
    let second = unzip(&download_zip(&b).await);
    assert_eq!(first, second, "one set of secrets per page");
    let vault = &first
        .iter()
        .find(|(n, _)| n.ends_with("/vault.yml"))
        .expect("vault.yml")
        .1;
    assert!(!vault.contains("CHANGE_ME"), "{vault}");
    assert_eq!(b.severe_console().await, Vec::<String>::new());
    b.close().await;
}

/// Issue 10, point 8: a plan with error findings asks before its bundle downloads. The
/// first press of the download button (from the keyboard) downloads nothing: it shows the
/// number of error findings with a link to them, and the button becomes "Download
/// anyway"; the second press downloads the CLI's `--allow-errors` bundle. A new plan asks
/// again; the link opens the findings.
#[tokio::test(flavor = "multi_thread")]
async fn bundle_with_error_findings_asks_before_downloading() {
    use fantoccini::Locator;
    let b = Browser::start().await;
    // 6 GiB: the Synapse host needs 9.27 (ram-over-budget, the one error).
    b.type_into("hosts.synapse.ram-gib", "6").await;
    b.wait_metric("summary.errors", "1").await;
    b.select_view("bundle").await;
    b.choose("bundle.placeholders", "true").await;
    for entry in std::fs::read_dir(b.downloads())
        .expect("downloads")
        .flatten()
    {
        let _ = std::fs::remove_file(entry.path());
    }
    let state = || async {
        b.js(
            "const n = document.getElementById('bundle-errors'); return [document.getElementById('download-bundle').innerText, n ? n.innerText : null, document.activeElement.id];",
            vec![],
        )
        .await
    };
    assert_eq!(state().await[0], "Download bundle (.zip)");
    b.client
        .find(Locator::Id("download-bundle"))
        .await
        .expect("the download button")
        .send_keys("\u{E007}")
        .await
        .expect("Enter on the download button");
    b.until("the question", || async {
        state().await[0] == "Download anyway (.zip)"
    })
    .await;
    let asked = state().await;
    let note = asked[1].as_str().expect("the question is shown");
    assert!(note.contains("This plan has 1 error finding:"), "{note}");
    assert!(note.contains("Read the findings"), "{note}");
    assert_eq!(asked[2], "download-bundle", "the focus stays on the button");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        std::fs::read_dir(b.downloads()).expect("downloads").count(),
        0,
        "the first press downloaded"
    );

    let entries = unzip(&download_zip(&b).await);
    let readme = &entries
        .iter()
        .find(|(n, _)| n == "README.md")
        .expect("README.md")
        .1;
    assert!(
        readme.contains("**The plan has 1 error finding(s).**"),
        "{readme}"
    );
    let plan = Plan::default()
        .with_text("hosts.synapse.ram-gib", "6")
        .expect("valid");
    let cli = cli_zip(&plan, &header_date(&entries), "errors");
    assert_eq!(
        entries, cli,
        "the browser's bundle is the CLI's --allow-errors one"
    );

    // Another plan with errors asks again.
    b.type_into("hosts.synapse.ram-gib", "5").await;
    b.until("the question again", || async {
        let s = state().await;
        s[0] == "Download bundle (.zip)" && s[1].is_null()
    })
    .await;
    b.client
        .find(Locator::Id("download-bundle"))
        .await
        .expect("the download button")
        .click()
        .await
        .expect("click");
    b.until("the question", || async {
        state().await[0] == "Download anyway (.zip)"
    })
    .await;
    b.client
        .find(Locator::Css("#bundle-errors a"))
        .await
        .expect("the link to the findings")
        .click()
        .await
        .expect("click the link");
    b.until("the findings view", || async {
        b.selected_view().await == "findings"
    })
    .await;
    assert_eq!(b.severe_console().await, Vec::<String>::new());
    b.close().await;
}

/// The bundle view's "Ports and firewall" section: per group of hosts, PORTS.md's rows
/// (`bundle::ports_doc::groups`, the core's), resolved to host names and addresses; it
/// follows the plan (a third HAProxy node may reach the workers).
#[tokio::test(flavor = "multi_thread")]
async fn bundle_view_shows_the_port_inventory() {
    use synapse_planner::bundle::ports_doc;
    let b = Browser::start().await;
    b.select_view("bundle").await;
    let shown = || async {
        b.js(
            "return [...document.querySelectorAll('#ports details[data-role]')].map(d => [d.dataset.role, d.querySelector('.host-count').textContent, [...d.querySelectorAll('tbody tr')].map(tr => [...tr.children].map(c => c.textContent))]);",
            vec![],
        )
        .await
    };
    let core = |plan: &Plan| -> Json {
        ports_doc::groups(plan)
            .iter()
            .map(|g| {
                serde_json::json!([
                    g.role.key(),
                    g.hosts,
                    g.rows
                        .iter()
                        .map(|r| [&r.service, &r.proto, &r.ports, &r.listens_on, &r.from])
                        .collect::<Vec<_>>()
                ])
            })
            .collect()
    };
    assert_eq!(shown().await, core(&Plan::default()));
    let rows = |v: &Json, role: &str| -> Vec<Vec<String>> {
        let g = v
            .as_array()
            .and_then(|gs| gs.iter().find(|g| g[0] == role))
            .unwrap_or_else(|| panic!("no {role} group"));
        serde_json::from_value(g[2].clone()).expect("rows")
    };
    let v = shown().await;
    let synapse = rows(&v, "synapse");
    let pgbouncer = synapse
        .iter()
        .find(|r| r[0] == "PgBouncer")
        .expect("PgBouncer");
    assert_eq!(pgbouncer[4], "containers on this host (docker0, br-*)");
    let worker = synapse
        .iter()
        .find(|r| r[0].ends_with("(HTTP)"))
        .expect("a worker's HTTP port");
    assert_eq!(worker[4], "haproxy1 10.0.1.11, haproxy2 10.0.1.12");

    b.type_into("hosts.haproxy.count", "3").await;
    let plan = Plan::default()
        .with_text("hosts.haproxy.count", "3")
        .expect("valid");
    let want = core(&plan);
    b.until("the ports of three HAProxy nodes", || async {
        shown().await == want
    })
    .await;
    let worker = rows(&shown().await, "synapse")
        .into_iter()
        .find(|r| r[0].ends_with("(HTTP)"))
        .expect("a worker's HTTP port");
    assert_eq!(
        worker[4],
        "haproxy1 10.0.1.11, haproxy2 10.0.1.12, haproxy3 10.0.1.13"
    );
    b.close().await;
}

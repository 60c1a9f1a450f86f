//! Screenshots of every view of the default plan, from headless Chromium: each tab in
//! the light theme at 1280×900, and the budgets in the dark theme. Deterministic: a
//! fresh profile (the default plan), a fixed viewport and scale, and a fixed clock (the
//! bundle's headers carry the date).
//!
//! `scripts/screenshots.sh` runs this with `SCREENSHOT_DIR=docs/screenshots`; without
//! it the PNGs go to a temporary directory. Either way the test checks that each is a
//! 1280×900 PNG, that every view differs from the others (none is blank or the same
//! page), and that taking one again gives the same bytes.

#[path = "support/browser.rs"]
mod browser;

use browser::Browser;
use serde_json::json;
use std::path::PathBuf;

const WIDTH: u64 = 1280;
const HEIGHT: u64 = 900;

/// 2026-12-01T12:00:00Z, the clock the page sees.
const FIXED_MS: u64 = 1_796_126_400_000;

/// (file name, view key, dark theme)
const SHOTS: &[(&str, &str, bool)] = &[
    ("budgets", "budgets", false),
    ("budgets-dark", "budgets", true),
    ("findings", "findings", false),
    ("storage", "storage", false),
    ("object-storage", "object-storage", false),
    ("calls", "calls", false),
    ("failures", "failures", false),
    ("assumptions", "assumptions", false),
    ("compare", "compare", false),
    ("bundle", "bundle", false),
];

fn out_dir() -> PathBuf {
    let dir = std::env::var_os("SCREENSHOT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::temp_dir().join(format!("sp-screenshots-{}", std::process::id()))
        });
    std::fs::create_dir_all(&dir).expect("screenshot directory");
    dir
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(png: &[u8]) -> (u64, u64) {
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && &png[12..16] == b"IHDR",
        "not a PNG"
    );
    let be = |b: &[u8]| u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    (be(&png[16..20]), be(&png[20..24]))
}

async fn prepare(b: &Browser, dark: bool) {
    b.cdp(
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": false }),
    )
    .await;
    b.cdp(
        "Emulation.setEmulatedMedia",
        json!({ "features": [{ "name": "prefers-color-scheme", "value": if dark { "dark" } else { "light" } }] }),
    )
    .await;
    // A fixed clock for every page loaded from now on (only `new Date()` and
    // `Date.now()` read it; the app uses it for the bundle's date).
    let script = format!(
        "(() => {{ const F = {FIXED_MS}; const D = Date; class Fixed extends D {{ constructor(...a) {{ if (a.length === 0) {{ super(F); }} else {{ super(...a); }} }} static now() {{ return F; }} }} globalThis.Date = Fixed; }})();"
    );
    b.cdp(
        "Page.addScriptToEvaluateOnNewDocument",
        json!({ "source": script }),
    )
    .await;
}

/// Puts the view in a state worth showing: the compare view compares the default plan
/// (pinned as B) with the 20,000-user preset; the bundle view shows its files.
async fn stage(b: &Browser, view: &str) {
    match view {
        "compare" => {
            b.js(
                "document.getElementById('pin-b').click(); return 1;",
                vec![],
            )
            .await;
            b.js(
                "document.querySelector('[data-preset=\"20k\"]').click(); return 1;",
                vec![],
            )
            .await;
            b.wait_metric("summary.errors", "0").await;
            b.until("the comparison", || async {
                b.js(
                    "return !!document.querySelector('[data-compare=\"hosts[0].ram-gib\"][data-a=\"128\"]');",
                    vec![],
                )
                .await
                    == json!(true)
            })
            .await;
            // The preset's change list is not part of this view's picture.
            b.js(
                "document.querySelector('.preset-applied button.ghost')?.click(); return 1;",
                vec![],
            )
            .await;
        }
        "bundle" => {
            b.choose("bundle.placeholders", "true").await;
            b.js(
                "Array.from(document.querySelectorAll('#panel-bundle button')).find(x => x.innerText.includes('Show files')).click(); return 1;",
                vec![],
            )
            .await;
            b.until("the file list", || async {
                b.js(
                    "return document.querySelectorAll('.file-list button.file').length;",
                    vec![],
                )
                .await
                .as_u64()
                .unwrap_or(0)
                    > 30
            })
            .await;
        }
        _ => {}
    }
}

async fn shot(name: &str, view: &str, dark: bool) -> Vec<u8> {
    let b = Browser::start().await;
    prepare(&b, dark).await;
    b.open("").await;
    b.select_view(view).await;
    stage(&b, view).await;
    // Focus rings and hover states are not part of the picture.
    b.js(
        "document.activeElement?.blur(); window.scrollTo(0, 0); return 1;",
        vec![],
    )
    .await;
    // Two frames: layout and paint settle after the last change.
    b.js(
        "return await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(1))));",
        vec![],
    )
    .await;
    let png = b.screenshot().await;
    assert_eq!(b.severe_console().await, Vec::<String>::new(), "{name}");
    b.close().await;
    png
}

#[tokio::test(flavor = "multi_thread")]
async fn every_view_has_a_deterministic_screenshot() {
    let dir = out_dir();
    let mut taken: Vec<(&str, Vec<u8>)> = Vec::new();
    for (name, view, dark) in SHOTS {
        let png = shot(name, view, *dark).await;
        assert_eq!(png_size(&png), (WIDTH, HEIGHT), "{name}");
        for (other, bytes) in &taken {
            assert_ne!(&png, bytes, "{name} looks exactly like {other}");
        }
        std::fs::write(dir.join(format!("{name}.png")), &png).expect("write PNG");
        eprintln!("{}/{name}.png: {} bytes", dir.display(), png.len());
        taken.push((name, png));
    }
    // The same view again: the same bytes.
    let again = shot("budgets", "budgets", false).await;
    assert!(
        again == taken[0].1,
        "the budgets screenshot changed between two runs"
    );
}

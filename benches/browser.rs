//! Browser benchmark (run by scripts/bench.sh, not by the tests): time from an `input`
//! event to the updated figures in headless Chromium, over the release build in dist/,
//! and the release build's size as transferred (raw, gzip -9, brotli -q 11).
//!
//! Each sample: set synapse.cache-factor to a new value, dispatch `input`, and stop the
//! clock in a MutationObserver callback once the figure that depends on it
//! (synapse.seed-rule-total-gib, the deployment notes' rule shown for comparison: 20
//! processes × (1.5 + 0.5 × factor) GiB) shows the new value: validation, sizing, findings,
//! both charts and the DOM update are all inside. A second clock stops at the next
//! animation frame (what a user sees).

#[path = "../tests/support/browser.rs"]
mod browser;

use serde_json::json;

const SAMPLES: usize = 60;

const MEASURE: &str = r#"
const [value, want] = arguments;
const input = document.querySelector('[name="synapse.cache-factor"]');
return new Promise(resolve => {
  let t0 = 0, dom = null;
  const obs = new MutationObserver(() => {
    const m = document.querySelector('[data-metric="synapse.seed-rule-total-gib"]');
    if (dom === null && m && m.dataset.value === want) {
      dom = performance.now() - t0;
      obs.disconnect();
      requestAnimationFrame(() => resolve([dom, performance.now() - t0]));
    }
  });
  obs.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  t0 = performance.now();
  input.value = value;
  input.dispatchEvent(new Event('input', { bubbles: true }));
});
"#;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn sizes() {
    let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("dist");
    let mut rows = Vec::new();
    let mut total = [0usize; 3];
    let mut entries: Vec<_> = std::fs::read_dir(&dist)
        .expect("dist/")
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !matches!(ext, "wasm" | "js" | "css" | "html" | "svg") {
            continue;
        }
        let raw = std::fs::metadata(&path)
            .map(|m| m.len() as usize)
            .unwrap_or(0);
        let compressed = |cmd: &str, args: &[&str]| {
            let out = std::process::Command::new(cmd)
                .args(args)
                .arg(&path)
                .output();
            match out {
                Ok(o) if o.status.success() => o.stdout.len(),
                _ => panic!(
                    "{cmd} is needed to measure compressed size (apt-get install gzip brotli)"
                ),
            }
        };
        let gz = compressed("gzip", &["-9", "-c"]);
        let br = compressed("brotli", &["-q", "11", "-c"]);
        for (t, v) in total.iter_mut().zip([raw, gz, br]) {
            *t += v;
        }
        rows.push(format!(
            "| {} | {raw} | {gz} | {br} |",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("?")
        ));
    }
    println!("\n| file (dist/) | raw bytes | gzip -9 | brotli -q 11 |\n|---|---|---|---|");
    for r in rows {
        println!("{r}");
    }
    println!("| total | {} | {} | {} |", total[0], total[1], total[2]);
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` would pass nothing special.
    // Either way, run once.
    let b = browser::Browser::start().await;
    let mut dom = Vec::new();
    let mut frame = Vec::new();
    for i in 0..SAMPLES + 5 {
        // Alternate between factors so every sample changes the figure.
        let factor = 2 + (i % 20);
        let want = 20.0 * (1.5 + 0.5 * factor as f64);
        let want = serde_json::to_string(&want).expect("number");
        let v = b
            .js(MEASURE, vec![json!(factor.to_string()), json!(want)])
            .await;
        let pair: (f64, f64) = serde_json::from_value(v).expect("timings");
        if i >= 5 {
            // The first few warm the JIT and caches.
            dom.push(pair.0);
            frame.push(pair.1);
        }
    }
    b.close().await;
    for (name, v) in [
        ("input → figures updated (DOM)", &mut dom),
        ("input → next frame", &mut frame),
    ] {
        v.sort_by(f64::total_cmp);
        println!(
            "{name}: median {:.2} ms, p90 {:.2} ms, max {:.2} ms over {} samples",
            percentile(v, 0.5),
            percentile(v, 0.9),
            v[v.len() - 1],
            v.len()
        );
    }
    sizes();
}

//! Browser harness shared by tests/browser.rs and benches/browser.rs: serves `dist/`
//! on 127.0.0.1, starts Debian's chromedriver and a headless Chromium that cannot
//! reach the network, and offers small helpers over fantoccini.
//!
//! A missing `dist/`, chromedriver or chromium is a failure with a message that says
//! how to get it (scripts/test.sh builds and installs everything), never a skip.

#![allow(dead_code)]

use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value as Json, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// The default plan with `changes` (key path, text) applied in order.
pub fn plan_with(changes: &[(&str, &str)]) -> synapse_planner::plan::Plan {
    synapse_planner::plan::Plan::default()
        .with_texts(changes)
        .unwrap_or_else(|e| panic!("{changes:?}: {e:?}"))
}

/// The CLI's JSON report (`synapse-planner report --format json`) for `plan`, through a
/// plan file of its own (the tests of a binary run in parallel).
pub fn cli_report(plan: &synapse_planner::plan::Plan) -> Json {
    use synapse_planner::plan::{self, YamlStyle};
    let file = std::env::temp_dir().join(format!(
        "sp-browser-cli-{}-{}.yaml",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::write(&file, plan::to_yaml(plan, YamlStyle::Minimal)).expect("write plan");
    let out = Command::new(env!("CARGO_BIN_EXE_synapse-planner"))
        .args(["report", "--format", "json", "--plan"])
        .arg(&file)
        .output()
        .expect("run synapse-planner");
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("CLI JSON")
}

pub struct Browser {
    pub client: Client,
    /// `http://127.0.0.1:PORT` of the static server.
    pub origin: String,
    driver: Child,
    server: Arc<tiny_http::Server>,
    profile: PathBuf,
    downloads: PathBuf,
}

fn dist_dir() -> PathBuf {
    let dir = std::env::var_os("SYNAPSE_PLANNER_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("dist"));
    assert!(
        dir.join("index.html").is_file(),
        "{} has no index.html: build the app first (scripts/test.sh runs `trunk build --release`)",
        dir.display()
    );
    dir
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

/// Serves `dir` on 127.0.0.1 (a free port) from a background thread.
fn serve(dir: PathBuf) -> (Arc<tiny_http::Server>, u16) {
    let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind 127.0.0.1:0"));
    let port = server.server_addr().to_ip().expect("ip listener").port();
    let s = server.clone();
    std::thread::spawn(move || {
        for req in s.incoming_requests() {
            let url = req
                .url()
                .split(['?', '#'])
                .next()
                .unwrap_or("/")
                .to_string();
            let rel = url.trim_start_matches('/');
            let rel = if rel.is_empty() { "index.html" } else { rel };
            let path = dir.join(rel);
            let inside = !rel.split('/').any(|p| p == ".." || p.is_empty());
            let resp = match (inside, std::fs::read(&path)) {
                (true, Ok(body)) => {
                    let header = tiny_http::Header::from_bytes("Content-Type", content_type(&path))
                        .expect("header");
                    tiny_http::Response::from_data(body)
                        .with_header(header)
                        .boxed()
                }
                _ => tiny_http::Response::from_string("not found")
                    .with_status_code(404)
                    .boxed(),
            };
            let _ = req.respond(resp);
        }
    });
    (server, port)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

fn which(var: &str, default: &str) -> PathBuf {
    let p = std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default));
    assert!(
        p.is_file(),
        "{} not found: install Debian's chromium and chromium-driver (scripts/setup.sh does)",
        p.display()
    );
    p
}

/// Chromium flags that keep it off the network (shared/TOOLCHAIN.md): no background
/// services, and every host name except loopback resolves to nothing.
fn chrome_args(profile: &Path) -> Vec<String> {
    [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--disable-default-apps",
        "--disable-extensions",
        "--metrics-recording-only",
        "--no-default-browser-check",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
        "--window-size=1366,1000",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([format!("--user-data-dir={}", profile.display())])
    .collect()
}

impl Browser {
    /// A fresh browser profile on a fresh page of the app.
    pub async fn start() -> Browser {
        let dist = dist_dir();
        let chromedriver = which("CHROMEDRIVER", "/usr/bin/chromedriver");
        let chromium = which("CHROMIUM", "/usr/bin/chromium");
        let (server, port) = serve(dist);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let base = std::env::temp_dir().join(format!(
            "synapse-planner-browser-{}-{n}",
            std::process::id()
        ));
        let profile = base.join("profile");
        let downloads = base.join("downloads");
        std::fs::create_dir_all(&profile).expect("profile dir");
        std::fs::create_dir_all(&downloads).expect("downloads dir");
        let caps: Capabilities = serde_json::from_value(json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": chrome_args(&profile),
                "prefs": {
                    "download.default_directory": downloads,
                    "download.prompt_for_download": false,
                    "download.directory_upgrade": true,
                    // Several downloads from one page (the tests download more than once).
                    "profile.default_content_setting_values.automatic_downloads": 1,
                },
            },
            "goog:loggingPrefs": { "performance": "ALL", "browser": "ALL" },
        }))
        .expect("capabilities");
        // A port from free_port() is free when chosen, but a parallel test may bind it
        // before chromedriver does (chromedriver then exits and the port answers
        // something else): start again on another port, a few times.
        let mut attempt = 0;
        let (driver, client) = loop {
            attempt += 1;
            let driver_port = free_port();
            let mut driver = Command::new(&chromedriver)
                .arg(format!("--port={driver_port}"))
                .arg("--allowed-ips=127.0.0.1")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start chromedriver");
            let deadline = Instant::now() + Duration::from_secs(15);
            while std::net::TcpStream::connect(("127.0.0.1", driver_port)).is_err() {
                assert!(
                    Instant::now() < deadline,
                    "chromedriver did not listen on {driver_port}"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{driver_port}"))
                .await
            {
                Ok(client) => break (driver, client),
                Err(e) => {
                    let _ = driver.kill();
                    let _ = driver.wait();
                    assert!(attempt < 3, "WebDriver session: {e:?}");
                }
            }
        };
        let origin = format!("http://127.0.0.1:{port}");
        let b = Browser {
            client,
            origin,
            driver,
            server,
            profile: base,
            downloads,
        };
        b.open("").await;
        b
    }

    /// Opens the app at `suffix` (e.g. "" or "#…") and waits for the first figures. A
    /// fragment is a fresh load (the app reads it when it starts), not a hash change.
    /// Loads the app at `suffix` (`""`, `"#<link>"`, `"?view=storage"`…) as a fresh page
    /// load: from about:blank, so a fragment is read at start-up, never raced by the
    /// page already open writing its own.
    pub async fn open(&self, suffix: &str) {
        self.client.goto("about:blank").await.expect("about:blank");
        self.client
            .goto(&format!("{}/{suffix}", self.origin))
            .await
            .expect("goto");
        self.open_loaded().await;
    }

    /// Waits for the app's first figures on the current page (the findings counts in
    /// the header, on show whatever view is selected).
    pub async fn open_loaded(&self) {
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(r#".status [data-metric="summary.errors"]"#))
            .await
            .expect("the app rendered its figures");
    }

    /// Selects a view of the results by its key (`budgets`, `findings`, `storage`,
    /// `object-storage`, `calls`, `failures`, `assumptions`, `compare`, `bundle`) with a
    /// real click on its tab, and waits until its panel is shown and filled.
    pub async fn select_view(&self, key: &str) {
        self.client
            .find(Locator::Id(&format!("tab-{key}")))
            .await
            .unwrap_or_else(|e| panic!("no tab {key}: {e}"))
            .click()
            .await
            .expect("click the tab");
        let what = format!("the {key} view");
        self.until(&what, || async {
            self.js(
                "const p = document.getElementById(`panel-${arguments[0]}`); return !!p && !p.hidden && p.children.length > 0 && document.getElementById(`tab-${arguments[0]}`).getAttribute('aria-selected') === 'true';",
                vec![json!(key)],
            )
            .await
                == Json::Bool(true)
        })
        .await;
    }

    /// The key of the selected view.
    pub async fn selected_view(&self) -> String {
        self.js(
            "return (document.querySelector('[role=tab][aria-selected=true]')?.id ?? '').replace('tab-', '');",
            vec![],
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    /// A DevTools command through chromedriver (`goog/cdp/execute`): viewport, colour
    /// scheme and clock emulation for deterministic screenshots.
    pub async fn cdp(&self, cmd: &'static str, params: Json) -> Json {
        self.client
            .issue_cmd(Cdp(cmd, params))
            .await
            .unwrap_or_else(|e| panic!("DevTools {cmd}: {e}"))
    }

    /// A PNG of the viewport.
    pub async fn screenshot(&self) -> Vec<u8> {
        self.client.screenshot().await.expect("screenshot")
    }

    pub async fn js(&self, script: &str, args: Vec<Json>) -> Json {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Selects a field's text and types `text` over it with real key events.
    pub async fn type_into(&self, path: &str, text: &str) {
        let el = self
            .client
            .find(Locator::Css(&format!(r#"[name="{path}"]"#)))
            .await
            .unwrap_or_else(|e| panic!("no input named {path}: {e}"));
        el.click().await.expect("focus");
        // Ctrl+A, release, then the text (or Backspace to empty the field).
        let keys = if text.is_empty() {
            "\u{e009}a\u{e000}\u{e003}".to_string()
        } else {
            format!("\u{e009}a\u{e000}{text}")
        };
        el.send_keys(&keys).await.expect("send keys");
    }

    /// Sets a `<select>` or checkbox the way a user's choice does (change event).
    pub async fn choose(&self, path: &str, value: &str) {
        self.js(
            r#"const el = document.querySelector(`[name="${arguments[0]}"]`);
               if (el.type === 'checkbox') { el.checked = arguments[1] === 'true'; } else { el.value = arguments[1]; }
               el.dispatchEvent(new Event('change', { bubbles: true }));"#,
            vec![json!(path), json!(value)],
        )
        .await;
    }

    /// Every figure on the page: (data-metric, data-value).
    pub async fn metrics(&self) -> Vec<(String, String)> {
        let v = self
            .js(
                "return Array.from(document.querySelectorAll('[data-metric]')).map(e => [e.dataset.metric, e.dataset.value]);",
                vec![],
            )
            .await;
        serde_json::from_value(v).expect("metric pairs")
    }

    /// The address bar's fragment once it holds the current plan's link (the app
    /// writes it 300 ms after the last change; `#copy-link[data-link]` is that link
    /// now). Returns it with its `#`.
    pub async fn settled_link(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let v = self
                .js(
                    "const want = document.getElementById('copy-link').dataset.link; return location.hash === '#' + want ? location.hash : null;",
                    vec![],
                )
                .await;
            if let Some(h) = v.as_str() {
                return h.to_string();
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for the address bar to hold the plan's link"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// The data-value of one figure, or None.
    pub async fn metric(&self, path: &str) -> Option<String> {
        let v = self
            .js(
                "const e = document.querySelector(`[data-metric=\"${arguments[0]}\"]`); return e ? e.dataset.value : null;",
                vec![json!(path)],
            )
            .await;
        v.as_str().map(str::to_string)
    }

    /// Polls until `check` holds or 30 s pass (generous: several Chromiums share two
    /// cores when the tests of a binary run in parallel; a pass takes milliseconds).
    pub async fn until<F, Fut>(&self, what: &str, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !check().await {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub async fn wait_metric(&self, path: &str, want: &str) {
        let what = format!("{path} = {want}");
        self.until(&what, || async {
            self.metric(path).await.as_deref() == Some(want)
        })
        .await;
    }

    /// Every URL the page asked for, from Chromium's performance log (DevTools
    /// `Network.requestWillBeSent`), since the last call.
    pub async fn requested_urls(&self) -> Vec<String> {
        let log = self
            .client
            .issue_cmd(GetLog("performance"))
            .await
            .expect("performance log");
        let mut urls = Vec::new();
        for entry in log.as_array().into_iter().flatten() {
            let Some(msg) = entry.get("message").and_then(Json::as_str) else {
                continue;
            };
            let Ok(msg) = serde_json::from_str::<Json>(msg) else {
                continue;
            };
            let m = &msg["message"];
            if m["method"] == "Network.requestWillBeSent"
                || m["method"] == "Network.webSocketCreated"
            {
                let url = m["params"]["request"]["url"]
                    .as_str()
                    .or_else(|| m["params"]["url"].as_str());
                if let Some(url) = url {
                    urls.push(url.to_string());
                }
            }
        }
        urls
    }

    /// Console messages of level SEVERE (panics, uncaught errors).
    pub async fn severe_console(&self) -> Vec<String> {
        let log = self
            .client
            .issue_cmd(GetLog("browser"))
            .await
            .expect("browser log");
        log.as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["level"] == "SEVERE")
            .filter_map(|e| e["message"].as_str().map(str::to_string))
            .collect()
    }

    pub fn downloads(&self) -> &Path {
        &self.downloads
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        self.server.unblock();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// A test that panics never reaches `close`: the browser must not outlive it. Kills
/// chromedriver and the Chromium processes of this profile (found by its unique
/// directory on their command lines), then removes the profile. After `close` it finds
/// nothing left to do.
impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        // `<base>/profile` exactly: `…-1/profile` does not match another test's `…-10/profile`.
        let _ = Command::new("pkill")
            .arg("-KILL")
            .arg("-f")
            .arg(self.profile.join("profile").as_os_str())
            .status();
        self.server.unblock();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// chromedriver's DevTools endpoint (not in W3C WebDriver): POST
/// /session/{id}/goog/cdp/execute with the command and its parameters.
#[derive(Debug)]
struct Cdp(&'static str, Json);

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({ "cmd": self.0, "params": self.1 }).to_string()),
        )
    }
}

/// chromedriver's log endpoint (not in W3C WebDriver): POST /session/{id}/se/log.
#[derive(Debug)]
struct GetLog(&'static str);

impl WebDriverCompatibleCommand for GetLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({ "type": self.0 }).to_string()),
        )
    }
}

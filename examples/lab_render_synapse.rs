//! The lab's Synapse configuration (scripts/lab/synapse.sh, docs/lab.md): from an
//! unpacked bundle, the homeserver.yaml, log.config and one worker-<id>.yaml per worker
//! that the playbook renders from the bundle's vars.yml and vault.yml — the same
//! rendering Synapse's config-loader test checks (tests/support/synapse_render.rs).
//!
//! ```sh
//! cargo run --example lab_render_synapse -- BUNDLE_DIR OUT_DIR
//! ```
//!
//! Every path the configuration names (pid file, log config, media store, signing key)
//! is inside OUT_DIR. Prints one line per Synapse process, main first, for the shell:
//!
//! ```text
//! NAME type=TYPE [stream=STREAM] config=FILE http=PORT federation=PORT metrics=PORT replication=PORT
//! ```
//!
//! TYPE is the playbook's worker type (`room_worker`, `sync_worker`, `stream_writer`…;
//! `main` for the main process), NAME its container name (`matrix-synapse`,
//! `matrix-synapse-worker-room-0`), FILE the process's own file (a worker also reads
//! homeserver.yaml first, as the playbook's units run it), and a port `-` when the
//! process has no such listener. The ports are read from the rendered listeners.

#[path = "../tests/support/synapse_render.rs"]
mod synapse_render;

use serde_json::Value;
use std::path::{Path, PathBuf};
use synapse_planner::bundle::workers::workers;
use synapse_planner::plan::{self, Plan, WorkerKind};
use synapse_render::{ansible_yaml, mapping, render_synapse, resolve};

fn fail(message: String) -> ! {
    eprintln!("lab_render_synapse: {message}");
    std::process::exit(1)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| fail(format!("cannot read {}: {e}", path.display())))
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text)
        .unwrap_or_else(|e| fail(format!("cannot write {}: {e}", path.display())))
}

/// The plan the bundle was made from (its plan.yaml).
fn bundle_plan(bundle: &Path) -> Plan {
    let v = plan::from_yaml(&read(&bundle.join("plan.yaml"))).validate();
    v.plan
        .unwrap_or_else(|| fail(format!("the bundle's plan.yaml: {:?}", v.problems)))
}

/// The playbook's worker type (roles/custom/matrix-synapse/vars/main.yml
/// matrix_synapse_workers_avail_list, plus stream_writer, user_dir and background).
fn playbook_type(kind: WorkerKind) -> &'static str {
    use WorkerKind as W;
    match kind {
        W::Room => "room_worker",
        W::Sync => "sync_worker",
        W::ClientReader => "client_reader",
        W::FederationReader => "federation_reader",
        W::FederationSender => "federation_sender",
        W::Generic => "generic_worker",
        W::Pusher => "pusher",
        W::Appservice => "appservice",
        W::UserDir => "user_dir",
        W::Background => "background",
        W::MediaRepository => "media_repository",
        _ => "stream_writer",
    }
}

/// (http, federation, metrics, replication) ports of a list of listeners; an HTTP
/// listener with only the federation resource is the federation port.
fn ports(listeners: &Value) -> [Option<u64>; 4] {
    let mut out = [None; 4];
    for l in listeners.as_array().into_iter().flatten() {
        let port = l["port"].as_u64();
        let names: Vec<&str> = l["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|r| r["names"].as_array().into_iter().flatten())
            .filter_map(Value::as_str)
            .collect();
        let slot = match (l["type"].as_str(), names.as_slice()) {
            (Some("metrics"), _) => 2,
            (Some("http"), ["replication"]) => 3,
            (Some("http"), ["federation"]) => 1,
            (Some("http"), _) => 0,
            _ => continue,
        };
        out[slot] = port;
    }
    out
}

fn line(name: &str, kind: &str, stream: Option<&str>, config: &Path, ports: [Option<u64>; 4]) {
    let p = |x: Option<u64>| x.map_or("-".to_string(), |x| x.to_string());
    let stream = stream.map(|s| format!(" stream={s}")).unwrap_or_default();
    println!(
        "{name} type={kind}{stream} config={} http={} federation={} metrics={} replication={}",
        config.display(),
        p(ports[0]),
        p(ports[1]),
        p(ports[2]),
        p(ports[3])
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [bundle, out] = args.as_slice() else {
        fail("usage: lab_render_synapse BUNDLE_DIR OUT_DIR".to_string())
    };
    let (bundle, out) = (PathBuf::from(bundle), PathBuf::from(out));
    let plan = bundle_plan(&bundle);
    let vars_dir = bundle
        .join("ansible/inventory/host_vars")
        .join(&plan.domain);
    let vars = ansible_yaml(&read(&vars_dir.join("vars.yml")), "vars.yml");
    let vault = ansible_yaml(&read(&vars_dir.join("vault.yml")), "vault.yml");
    let vars = resolve(&vars, mapping(&vault, "vault.yml"));
    std::fs::create_dir_all(&out)
        .unwrap_or_else(|e| fail(format!("cannot create {}: {e}", out.display())));
    let r = render_synapse(mapping(&vars, "vars.yml"), &plan, &out);
    let yaml = |v: &Value| serde_yaml::to_string(v).unwrap_or_else(|e| fail(e.to_string()));
    let main_file = out.join("homeserver.yaml");
    write(&main_file, &yaml(&r.homeserver));
    write(&out.join("log.config"), &r.log_config);
    line(
        "matrix-synapse",
        "main",
        None,
        &main_file,
        ports(&r.homeserver["listeners"]),
    );
    let ws = workers(&plan);
    for (id, cfg) in &r.workers {
        let w = ws
            .iter()
            .find(|w| &w.id == id)
            .unwrap_or_else(|| fail(format!("no worker {id} in the plan")));
        let file = out.join(format!("worker-{id}.yaml"));
        write(&file, &yaml(cfg));
        line(
            &w.name,
            playbook_type(w.kind),
            w.stream,
            &file,
            ports(&cfg["worker_listeners"]),
        );
    }
}

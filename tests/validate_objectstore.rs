//! MinIO's files of the bundle, for every named plan: the environment file by systemd's
//! and bash's rules and MinIO's own (credential lengths, the `{1...n}` ellipsis, erasure
//! set sizes, known variable names), the unit through `systemd-analyze verify`, the
//! scripts through bash -n and shellcheck, every `mc` command and flag against the
//! pinned mc's command table, the policy JSON, and the health check's verdicts on a
//! healthy, a degraded and a broken cluster (mc replaced by canned answers). Every tool
//! that could touch the network runs inside the Sandbox. Besides the named plans, the
//! env and unit checks run on plans that set `minio.parity` (the largest parity each
//! layout accepts): MINIO_STORAGE_CLASS_STANDARD must be a value MinIO's
//! storageclass.parseStorageClass and ValidateParity accept for the set the
//! MINIO_VOLUMES expand to, and must reach the container.

#[path = "support/bundles.rs"]
mod bundles;
#[path = "support/sandbox.rs"]
mod sandbox;

use bundles::{bundle, file, matching, named_plans};
use sandbox::{Sandbox, assert_ok, output_text, tool};
use serde_json::Value;
use std::collections::BTreeMap;
use synapse_planner::bundle::{File, Topology};
use synapse_planner::plan::{Plan, Role};
use synapse_planner::report::Report;

/// The mc release the scripts pin, and its command/flag table built from mc's source at
/// that tag (tests/data/mc-tree-extract.py).
const MC_RELEASE: &str = "RELEASE.2025-08-13T08-35-41Z";

fn data(name: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// systemd's EnvironmentFile= syntax (systemd.exec(5)): `KEY=VALUE` lines; `#` and `;`
/// lines are comments; a value may be double- or single-quoted (backslash escapes in
/// double quotes); unquoted values keep inner spaces and lose trailing ones; a key is
/// a valid environment variable name. Any other line is an error.
fn parse_environment_file(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim_start();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .ok_or(format!("line {}: no '=': {raw}", n + 1))?;
        let key = key.trim_end();
        let valid = key
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(format!("line {}: bad variable name {key:?}", n + 1));
        }
        let v = value.trim_start();
        let parsed = if let Some(rest) = v.strip_prefix('"') {
            let mut s = String::new();
            let mut chars = rest.chars();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '\\' => s.push(
                        chars
                            .next()
                            .ok_or(format!("line {}: dangling backslash", n + 1))?,
                    ),
                    '"' => {
                        closed = true;
                        break;
                    }
                    c => s.push(c),
                }
            }
            if !closed || !chars.as_str().trim().is_empty() {
                return Err(format!("line {}: bad double quotes: {raw}", n + 1));
            }
            s
        } else if let Some(rest) = v.strip_prefix('\'') {
            let (s, tail) = rest
                .split_once('\'')
                .ok_or(format!("line {}: unclosed quote", n + 1))?;
            if !tail.trim().is_empty() {
                return Err(format!("line {}: text after quotes: {raw}", n + 1));
            }
            s.to_string()
        } else {
            if v.contains(['"', '\'', '\\', '$', '`']) {
                return Err(format!(
                    "line {}: unquoted special character (shell and systemd disagree): {raw}",
                    n + 1
                ));
            }
            v.trim_end().to_string()
        };
        out.push((key.to_string(), parsed));
    }
    Ok(out)
}

/// The same file sourced by bash (as the scripts do), values read back: must agree.
fn bash_values(contents: &str, keys: &[String]) -> Vec<(String, String)> {
    let sb = Sandbox::new("minio-env-bash");
    let f = sb.write("env", contents);
    let mut script = format!("set -eu\n. {}\n", f.display());
    for k in keys {
        script.push_str(&format!("printf '%s=%s\\n' {k} \"${k}\"\n"));
    }
    let out = sb.run(&script);
    assert_ok(&out, "bash sources the env file");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// MinIO's ellipsis expansion (minio/pkg ellipses: `{a...b}` over decimal ranges,
/// start ≤ end, no braces left over), for one argument: every endpoint, and the size
/// of each pattern in MinIO's order (last pattern of the string first).
fn expand(arg: &str) -> Result<(Vec<String>, Vec<u64>), String> {
    let mut parts: Vec<Vec<String>> = Vec::new();
    let mut rest = arg;
    let mut sizes = Vec::new();
    while let Some(open) = rest.find('{') {
        parts.push(vec![rest[..open].to_string()]);
        let close = rest[open..]
            .find('}')
            .ok_or(format!("unclosed brace in {arg}"))?
            + open;
        let inner = &rest[open + 1..close];
        let (a, b) = inner
            .split_once("...")
            .ok_or(format!("{{{inner}}} is not a range"))?;
        let (a, b): (u64, u64) = (
            a.parse().map_err(|_| format!("{a} is not a number"))?,
            b.parse().map_err(|_| format!("{b} is not a number"))?,
        );
        if a > b {
            return Err(format!("range {a}...{b} runs backwards"));
        }
        sizes.push(b - a + 1);
        parts.push((a..=b).map(|i| i.to_string()).collect());
        rest = &rest[close + 1..];
    }
    if rest.contains('}') {
        return Err(format!("stray brace in {arg}"));
    }
    parts.push(vec![rest.to_string()]);
    let mut out = vec![String::new()];
    for p in parts {
        out = out
            .iter()
            .flat_map(|pre| p.iter().map(move |x| format!("{pre}{x}")))
            .collect();
    }
    sizes.reverse();
    Ok((out, sizes))
}

/// An erasure set size MinIO accepts for `total` drives laid out by `patterns`
/// (cmd/endpoint-ellipses.go: a size of 2..=16 dividing the total, symmetric with the
/// pattern it checks last, i.e. the first range of the argument).
fn set_sizes(total: u64, patterns: &[u64]) -> Vec<u64> {
    let last = patterns.last().copied().unwrap_or(total);
    (2..=16u64)
        .filter(|&s| total.is_multiple_of(s))
        .filter(|&s| {
            if last > s {
                last.is_multiple_of(s)
            } else {
                s.is_multiple_of(last)
            }
        })
        .collect()
}

/// The named plans, and each of them with `minio.parity` set to the largest parity its
/// layout takes (0 stays unset for a single drive).
fn plans() -> Vec<(String, Plan)> {
    let mut v: Vec<(String, Plan)> = named_plans()
        .into_iter()
        .map(|(n, p)| (n.to_string(), p))
        .collect();
    for (name, plan) in named_plans() {
        let max = Report::new(&plan).object_storage.max_parity;
        if max == 0 {
            continue;
        }
        let p = plan
            .with_text("minio.parity", &max.to_string())
            .expect("a valid parity");
        v.push((format!("{name}+EC:{max}"), p));
    }
    v
}

/// MinIO's parseStorageClass and ValidateParity (internal/config/storageclass/
/// storage-class.go at the pinned release): `EC:<n>`, exactly two sections, scheme EC,
/// a non-negative integer, at most half the set size.
fn minio_accepts_storage_class(value: &str, set_size: u64) -> Result<u64, String> {
    let parts: Vec<&str> = value.split(':').collect();
    if parts.len() != 2 {
        return Err(format!("{value}: not two sections"));
    }
    if parts[0] != "EC" {
        return Err(format!("{value}: unsupported scheme {}", parts[0]));
    }
    let n: i64 = parts[1]
        .parse()
        .map_err(|_| format!("{value}: parity is not an integer"))?;
    if n < 0 {
        return Err(format!("{value}: negative parity"));
    }
    let n = n as u64;
    if n > set_size / 2 {
        return Err(format!(
            "{value}: parity {n} should be less than or equal to {}",
            set_size / 2
        ));
    }
    Ok(n)
}

fn minio_files(files: &[File]) -> Vec<&File> {
    matching(files, |p| p.starts_with("hosts/minio")).collect()
}

#[test]
fn env_files_follow_systemd_bash_and_minio_rules() {
    let names: Vec<String> = data("minio-env-names.txt")
        .lines()
        .map(str::to_string)
        .collect();
    for (plan_name, plan) in plans() {
        let files = bundle(&plan);
        let topo = Topology::new(&plan);
        let nodes = plan.host(Role::Minio).count;
        let drives = plan.minio.drives_per_node;
        let mut first: Option<Vec<(String, String)>> = None;
        for h in topo.role(Role::Minio) {
            let f = file(&files, &format!("hosts/{}/etc/default/minio", h.name));
            assert_eq!(f.mode, 0o600, "{plan_name}: holds the root password");
            let vars = parse_environment_file(&f.contents)
                .unwrap_or_else(|e| panic!("{plan_name} {}: {e}", f.path));
            let keys: Vec<String> = vars.iter().map(|(k, _)| k.clone()).collect();
            assert_eq!(
                bash_values(&f.contents, &keys),
                vars,
                "{plan_name}: bash and systemd read the same values"
            );
            for k in &keys {
                assert!(
                    names.contains(k),
                    "{plan_name}: {k} is not a MinIO variable (minio-env-names.txt)"
                );
            }
            let m: BTreeMap<&str, &str> =
                vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            assert!(
                m["MINIO_ROOT_USER"].len() >= 3,
                "{plan_name}: root user ≥ 3 characters"
            );
            assert!(
                m["MINIO_ROOT_PASSWORD"].len() >= 8,
                "{plan_name}: root password ≥ 8 characters"
            );
            assert_eq!(m["MINIO_PROMETHEUS_AUTH_TYPE"], "public");
            assert_eq!(m["MINIO_OPTS"], "--console-address :9001");

            let volumes = m["MINIO_VOLUMES"];
            let (endpoints, patterns) =
                expand(volumes).unwrap_or_else(|e| panic!("{plan_name}: {volumes}: {e}"));
            assert_eq!(
                endpoints.len() as u64,
                nodes * drives,
                "{plan_name}: {volumes} expands to nodes × drives"
            );
            let unique: std::collections::BTreeSet<_> = endpoints.iter().collect();
            assert_eq!(
                unique.len(),
                endpoints.len(),
                "{plan_name}: duplicate endpoints"
            );
            let paths: std::collections::BTreeSet<String> =
                (1..=drives).map(|i| format!("/data{i}")).collect();
            if nodes * drives == 1 {
                // Single node, single drive: a plain path, no erasure coding.
                assert_eq!(volumes, "/data1", "{plan_name}");
                assert!(
                    f.contents.contains("Single-node single-drive"),
                    "{plan_name}: the file explains the mode"
                );
            } else if nodes == 1 {
                assert!(
                    endpoints.iter().all(|e| paths.contains(e)),
                    "{plan_name}: {endpoints:?}"
                );
                assert!(
                    !set_sizes(drives, &patterns).is_empty(),
                    "{plan_name}: no erasure set size for {drives} drives"
                );
            } else {
                let hosts: Vec<String> = topo
                    .role(Role::Minio)
                    .map(|h| format!("http://{}:9000", h.fqdn))
                    .collect();
                for e in &endpoints {
                    let (host, path) = e.split_at(e.rfind("/data").unwrap());
                    assert!(
                        hosts.iter().any(|h| h == host),
                        "{plan_name}: {host} is not a MinIO host"
                    );
                    assert!(
                        paths.contains(path),
                        "{plan_name}: {path} is not a data mount"
                    );
                }
                let total = nodes * drives;
                assert!(
                    total >= 4,
                    "{plan_name}: MinIO's deployment guide wants ≥ 4 drives in a distributed pool"
                );
                assert!(
                    !set_sizes(total, &patterns).is_empty(),
                    "{plan_name}: no erasure set size fits {total} drives over {nodes} nodes"
                );
            }
            // The parity: set exactly when the plan sets it, to a value MinIO accepts
            // for the set its volumes make (the largest size set_sizes allows).
            let report = Report::new(&plan);
            match m.get("MINIO_STORAGE_CLASS_STANDARD") {
                None => assert_eq!(plan.minio.parity, 0, "{plan_name}: parity not written"),
                Some(v) => {
                    let total = nodes * drives;
                    let size = if total == 1 {
                        1
                    } else {
                        *set_sizes(total, &patterns)
                            .last()
                            .unwrap_or_else(|| panic!("{plan_name}: no set size"))
                    };
                    let parity = minio_accepts_storage_class(v, size)
                        .unwrap_or_else(|e| panic!("{plan_name}: MinIO refuses {e}"));
                    assert_eq!(parity, plan.minio.parity, "{plan_name}");
                    assert_eq!(parity, report.object_storage.parity, "{plan_name}");
                    assert_eq!(size, report.object_storage.set_size, "{plan_name}");
                }
            }
            // The layout comment is the report's.
            let os = &report.object_storage;
            assert!(
                f.contents.contains(&format!(
                    "{} drives, {} TiB raw.",
                    os.total_drives, os.raw_tib
                )),
                "{plan_name}: pool line"
            );
            if os.layout.key() != "single-drive" {
                assert!(
                    f.contents.contains(&format!(
                        "{} data + {} parity drives per set, {} TiB usable; reads need {} drives of a set,",
                        os.data_drives, os.parity, os.usable_tib, os.read_quorum
                    )),
                    "{plan_name}: erasure lines are the report's:\n{}",
                    f.contents
                );
            }
            // MinIO refuses to join nodes whose settings differ.
            match &first {
                None => first = Some(vars),
                Some(v) => assert_eq!(
                    v, &vars,
                    "{plan_name}: {} differs from the first node",
                    f.path
                ),
            }
        }
        // Cross-file: Prometheus scrapes MinIO under the job id the console asks for.
        let m: BTreeMap<String, String> = first.unwrap().into_iter().collect();
        let prom = file(&files, "hosts/monitoring/etc/prometheus/prometheus.yml");
        let y: serde_yaml::Value = serde_yaml::from_str(&prom.contents).unwrap();
        let job = y["scrape_configs"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|j| j["job_name"].as_str() == Some(&m["MINIO_PROMETHEUS_JOB_ID"]))
            .unwrap_or_else(|| {
                panic!(
                    "{plan_name}: no Prometheus job {}",
                    m["MINIO_PROMETHEUS_JOB_ID"]
                )
            });
        assert_eq!(
            job["metrics_path"].as_str(),
            Some("/minio/v2/metrics/cluster")
        );
        let targets: Vec<&str> = job["static_configs"]
            .as_sequence()
            .unwrap()
            .iter()
            .flat_map(|c| {
                c["targets"]
                    .as_sequence()
                    .unwrap()
                    .iter()
                    .map(|t| t.as_str().unwrap())
            })
            .collect();
        let want: Vec<String> = topo
            .role(Role::Minio)
            .map(|h| format!("{}:9000", h.ip))
            .collect();
        assert_eq!(
            targets, want,
            "{plan_name}: Prometheus scrapes every MinIO node"
        );
        let mon = topo.first(Role::Monitoring).unwrap();
        assert_eq!(m["MINIO_PROMETHEUS_URL"], format!("http://{}:9090", mon.ip));
    }
}

#[test]
fn environment_parser_rejects_what_systemd_would() {
    for (text, ok) in [
        ("A=b\n# c\n; d\n\nB=\"x y\"\n", true),
        ("A = b\n", true),
        ("1A=b\n", false),
        ("A-B=c\n", false),
        ("A=\"open\n", false),
        ("A=$HOME\n", false),
        ("just words\n", false),
    ] {
        assert_eq!(parse_environment_file(text).is_ok(), ok, "{text:?}");
    }
    assert_eq!(
        expand("http://m{1...4}.x:9000/d{1...2}").unwrap().0.len(),
        8
    );
    assert_eq!(
        expand("http://m{1...4}.x:9000/d{1...2}").unwrap().1,
        vec![2, 4]
    );
    assert!(expand("/d{4...1}").is_err());
    assert!(expand("/d{1..4}").is_err());
    // 16 drives over 4 nodes: 2, 4, 8, 16; 17 over 17 nodes: none.
    assert_eq!(set_sizes(16, &[4, 4]), vec![2, 4, 8, 16]);
    assert!(set_sizes(17, &[1, 17]).is_empty());
}

#[test]
fn storage_class_check_refuses_what_minio_refuses() {
    // (value, set size, accepted parity)
    for (value, size, want) in [
        ("EC:4", 16, Some(4)),
        ("EC:8", 16, Some(8)),
        ("EC:9", 16, None),
        ("EC:2", 4, Some(2)),
        ("EC:3", 4, None),
        ("EC:1", 1, None),
        ("EC:0", 1, Some(0)),
        ("RS:2", 4, None),
        ("EC:2:1", 4, None),
        ("EC:-1", 4, None),
        ("EC:x", 4, None),
    ] {
        assert_eq!(
            minio_accepts_storage_class(value, size).ok(),
            want,
            "{value} on a set of {size}"
        );
    }
    // Every plan of plans() that sets a parity is covered by the env check.
    assert!(plans().iter().filter(|(_, p)| p.minio.parity > 0).count() >= 3);
}

/// `systemd-analyze verify` on every minio.service, with /usr/bin/docker and
/// docker.service stubbed in the sandbox's private mount namespace (overlays: the host
/// is untouched). Any message fails; the unit mounts exactly the env file's drives.
#[test]
fn units_pass_systemd_analyze_verify() {
    let analyze = tool("systemd-analyze");
    for (plan_name, plan) in plans() {
        let files = bundle(&plan);
        let topo = Topology::new(&plan);
        for h in topo.role(Role::Minio) {
            let unit = file(
                &files,
                &format!("hosts/{}/etc/systemd/system/minio.service", h.name),
            );
            let env = file(&files, &format!("hosts/{}/etc/default/minio", h.name));
            let sb = Sandbox::new("minio-unit");
            sb.write("minio.service", &unit.contents);
            let script = format!(
                "set -e\n\
                 mkdir -p ov/bin/u ov/bin/w ov/sys/u ov/sys/w\n\
                 mount -t overlay overlay -o lowerdir=/usr/bin,upperdir=$PWD/ov/bin/u,workdir=$PWD/ov/bin/w /usr/bin\n\
                 printf '#!/bin/sh\\nexit 0\\n' > /usr/bin/docker; chmod 755 /usr/bin/docker\n\
                 mount -t overlay overlay -o lowerdir=/etc/systemd/system,upperdir=$PWD/ov/sys/u,workdir=$PWD/ov/sys/w /etc/systemd/system\n\
                 printf '[Unit]\\nDescription=stub\\n[Service]\\nExecStart=/bin/true\\n' > /etc/systemd/system/docker.service\n\
                 cp minio.service /etc/systemd/system/minio.service\n\
                 {} verify /etc/systemd/system/minio.service 2>&1\n",
                analyze.display()
            );
            let out = sb.run(&script);
            assert_ok(
                &out,
                &format!("{plan_name}: systemd-analyze verify {}", unit.path),
            );
            assert!(
                output_text(&out).trim().is_empty(),
                "{plan_name}: {}: {}",
                unit.path,
                output_text(&out)
            );

            let drives: Vec<String> = (1..=plan.minio.drives_per_node)
                .map(|i| format!("/data{i}"))
                .collect();
            for d in &drives {
                assert!(
                    unit.contents.contains(&format!("--volume {d}:{d} ")),
                    "{plan_name}: {d} not mounted"
                );
                assert!(
                    unit.contents
                        .contains(&format!("AssertPathIsMountPoint={d}\n")),
                    "{plan_name}: {d} not asserted"
                );
            }
            assert_eq!(
                unit.contents.matches("--volume ").count(),
                drives.len(),
                "{plan_name}: extra mounts"
            );
            // Every variable reaches MinIO: by --env, or as the server's arguments.
            for (k, _) in parse_environment_file(&env.contents).unwrap() {
                let passed = unit.contents.contains(&format!("--env {k} "))
                    || unit.contents.contains(&format!("${k} "))
                    || unit.contents.contains(&format!("${{{k}}}"));
                assert!(passed, "{plan_name}: {k} never reaches the container");
            }
        }
    }
}

fn scripts(files: &[File]) -> Vec<&File> {
    minio_files(files)
        .into_iter()
        .filter(|f| f.path.ends_with(".sh"))
        .collect()
}

#[test]
fn scripts_pass_bash_n_and_shellcheck() {
    for (plan_name, plan) in named_plans() {
        let files = bundle(&plan);
        let all = scripts(&files);
        assert_eq!(
            all.len() as u64,
            plan.host(Role::Minio).count + 1,
            "{plan_name}: a health check per node + the setup script"
        );
        for f in all {
            assert_eq!(f.mode, 0o755, "{}", f.path);
            let sb = Sandbox::new("minio-sh");
            let p = sb.write("script.sh", &f.contents);
            let out = sb.run(&format!(
                "set -e\nbash -n {p}\n{sc} -x -S warning {p}\n",
                p = p.display(),
                sc = tool("shellcheck").display()
            ));
            assert_ok(
                &out,
                &format!("{plan_name}: bash -n + shellcheck {}", f.path),
            );
        }
    }
}

/// Every `mc …` command line of a script, as words (quotes kept out of the way: the
/// words that matter here, commands and flags, are plain).
fn mc_invocations(script: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for line in script.lines() {
        let code = line.split(" #").next().unwrap_or("");
        if code.trim_start().starts_with('#') {
            continue;
        }
        // Command substitutions: `x="$(mc admin info --json cluster)"`.
        for (i, _) in code.match_indices("$(mc ") {
            let inner = &code[i + 5..];
            let inner = &inner[..inner.find(')').unwrap_or(inner.len())];
            out.push(inner.split_whitespace().map(str::to_string).collect());
        }
        for segment in code
            .split(['|', ';'])
            .flat_map(|s| s.split("&&"))
            .flat_map(|s| s.split("||"))
        {
            let mut words = segment.split_whitespace().peekable();
            // Skip `if`, `!`, and VAR=value prefixes.
            while let Some(w) = words.peek() {
                if *w == "if"
                    || *w == "!"
                    || *w == "then"
                    || (w.contains('=') && !w.starts_with('-'))
                {
                    words.next();
                } else {
                    break;
                }
            }
            if words.peek() == Some(&"mc") {
                words.next();
                let w: Vec<String> = words
                    .take_while(|w| *w != ">" && !w.starts_with('>') && *w != "2>&1")
                    .map(str::to_string)
                    .collect();
                out.push(w);
            }
        }
    }
    out
}

/// Walks the command tree: the longest run of leading words that are (sub)commands,
/// then every `-x`/`--x` word must be a flag of the command reached.
fn check_command(tree: &Value, words: &[String]) -> Result<Vec<String>, String> {
    let mut node = tree;
    let mut path = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let sub = &node["sub"];
        let w = &words[i];
        let next = sub.get(w.as_str()).or_else(|| {
            sub.as_object().and_then(|m| {
                m.values().find(|c| {
                    c["aliases"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|x| x == w))
                })
            })
        });
        match next {
            Some(n) => {
                node = n;
                path.push(w.clone());
                i += 1;
            }
            None => break,
        }
    }
    if path.is_empty() {
        return Err(format!("no mc command {:?}", words.first()));
    }
    if node["hidden"] == true {
        return Err(format!("mc {} is hidden (deprecated)", path.join(" ")));
    }
    let flags: Vec<&str> = node["flags"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let hidden: Vec<&str> = node["hidden_flags"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for w in &words[i..] {
        if let Some(f) = w.strip_prefix("--").or_else(|| w.strip_prefix('-')) {
            let f = f.split('=').next().unwrap_or(f);
            if !flags.contains(&f) {
                return Err(format!("mc {} has no flag --{f}", path.join(" ")));
            }
            if hidden.contains(&f) && !matches!(f, "config-dir" | "C") {
                return Err(format!(
                    "mc {}: --{f} is hidden (deprecated)",
                    path.join(" ")
                ));
            }
        }
    }
    Ok(path)
}

#[test]
fn mc_commands_and_flags_exist_in_the_pinned_mc() {
    let pinned: Value = serde_json::from_str(&data(&format!("mc-tree-{MC_RELEASE}.json"))).unwrap();
    let reference: Value = serde_json::from_str(&data("mc-tree-reference.json")).unwrap();
    // The shared reference tree (no version stated) agrees with the pinned release:
    // every command it lists exists there.
    fn sub<'a>(p: &'a Value, k: &str) -> Option<&'a Value> {
        p["sub"].get(k).or_else(|| {
            p["sub"].as_object()?.values().find(|c| {
                c["aliases"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == k))
            })
        })
    }
    fn walk(r: &Value, p: &Value, path: &str) {
        if let Some(m) = r["sub"].as_object() {
            for (k, v) in m {
                let q = sub(p, k).unwrap_or_else(|| {
                    panic!("reference command `mc {path}{k}` missing from {MC_RELEASE}")
                });
                walk(v, q, &format!("{path}{k} "));
            }
        }
    }
    walk(&reference, &pinned, "");
    // The scripts' mc() passes --config-dir to every command: a global flag.
    for cmd in [
        "alias",
        "mb",
        "anonymous",
        "admin",
        "ready",
        "pipe",
        "stat",
        "rm",
        "ls",
    ] {
        let flags = &pinned["sub"][cmd]["flags"];
        assert!(
            flags.as_array().unwrap().iter().any(|f| f == "config-dir"),
            "mc {cmd} --config-dir"
        );
    }
    // Not the tool: `check_command` rejects what it should.
    let w = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    assert!(
        check_command(&pinned, &w("admin heal --recursive cluster/b")).is_err(),
        "hidden flag"
    );
    assert!(
        check_command(&pinned, &w("admin policy set cluster p user=u")).is_err(),
        "hidden command"
    );
    assert!(check_command(&pinned, &w("mb --no-such-flag x")).is_err());
    assert!(check_command(&pinned, &w("frobnicate")).is_err());

    for (plan_name, plan) in named_plans() {
        let files = bundle(&plan);
        let mut used = std::collections::BTreeSet::new();
        for f in scripts(&files) {
            assert!(
                f.contents
                    .contains(&format!("quay.io/minio/mc:{MC_RELEASE}")),
                "{}: pins mc {MC_RELEASE}",
                f.path
            );
            assert!(
                !f.contents.contains("mc policy"),
                "{}: `mc policy` is the deprecated no-op (DESIGN.md §4)",
                f.path
            );
            let calls = mc_invocations(&f.contents);
            assert!(!calls.is_empty(), "{}: no mc calls found", f.path);
            for words in calls {
                let path = check_command(&pinned, &words).unwrap_or_else(|e| {
                    panic!("{plan_name} {}: {e}: mc {}", f.path, words.join(" "))
                });
                // The same command path exists in the shared reference tree.
                let mut r = &reference;
                for p in &path {
                    r = sub(r, p).unwrap_or_else(|| {
                        panic!(
                            "{}: mc {} not in the reference tree",
                            f.path,
                            path.join(" ")
                        )
                    });
                }
                used.insert(path.join(" "));
            }
        }
        for must in [
            "alias set",
            "mb",
            "anonymous",
            "admin policy create",
            "admin policy attach",
            "admin user add",
            "admin info",
            "ready",
        ] {
            assert!(
                used.contains(must),
                "{plan_name}: scripts never run mc {must}: {used:?}"
            );
        }
        if plan.host(Role::Minio).count * plan.minio.drives_per_node > 1 {
            assert!(
                used.contains("admin heal"),
                "{plan_name}: erasure-coded pool without a heal check"
            );
        }
        // Anonymous access is only ever turned off.
        let setup = matching(&files, |p| p.ends_with("/minio-setup-bucket.sh"))
            .next()
            .unwrap();
        for words in mc_invocations(&setup.contents) {
            if words.first().map(String::as_str) == Some("anonymous")
                && words.get(1).map(String::as_str) == Some("set")
            {
                assert_eq!(
                    words.get(2).map(String::as_str),
                    Some("private"),
                    "{plan_name}: anonymous access stays off"
                );
            }
        }
    }
}

#[test]
fn policy_json_grants_only_the_bucket() {
    for (plan_name, plan) in named_plans() {
        let files = bundle(&plan);
        let first = Topology::new(&plan)
            .first(Role::Minio)
            .unwrap()
            .name
            .clone();
        let f = file(
            &files,
            &format!("hosts/{first}/etc/minio/synapse-media-policy.json"),
        );
        let v: Value = serde_json::from_str(&f.contents)
            .unwrap_or_else(|e| panic!("{plan_name}: policy JSON: {e}"));
        assert_eq!(v["Version"], "2012-10-17");
        let mut actions = Vec::new();
        for s in v["Statement"].as_array().unwrap() {
            assert_eq!(s["Effect"], "Allow", "{plan_name}: {s}");
            assert!(s.get("NotResource").is_none() && s.get("NotAction").is_none());
            for r in s["Resource"].as_array().unwrap() {
                let r = r.as_str().unwrap();
                assert!(
                    r == "arn:aws:s3:::synapse-media" || r == "arn:aws:s3:::synapse-media/*",
                    "{plan_name}: resource {r}"
                );
            }
            for a in s["Action"].as_array().unwrap() {
                let a = a.as_str().unwrap();
                assert!(
                    a.starts_with("s3:") && !a.contains('*'),
                    "{plan_name}: action {a}"
                );
                actions.push(a.to_string());
            }
        }
        for need in [
            "s3:GetObject",
            "s3:PutObject",
            "s3:DeleteObject",
            "s3:ListBucket",
            "s3:AbortMultipartUpload",
        ] {
            assert!(
                actions.iter().any(|a| a == need),
                "{plan_name}: Synapse needs {need}"
            );
        }
        for never in [
            "s3:ListAllMyBuckets",
            "s3:CreateBucket",
            "s3:DeleteBucket",
            "s3:PutBucketPolicy",
        ] {
            assert!(
                !actions.iter().any(|a| a == never),
                "{plan_name}: {never} is beyond the bucket"
            );
        }
        // The setup script creates the policy from this very file.
        let setup = file(
            &files,
            &format!("hosts/{first}/usr/local/sbin/minio-setup-bucket.sh"),
        );
        assert!(setup.contents.contains(
            "mc admin policy create cluster synapse-media-rw /etc/minio/synapse-media-policy.json"
        ));
        let env = file(&files, &format!("hosts/{first}/etc/minio/synapse-user.env"));
        assert_eq!(env.mode, 0o600);
        let vars = parse_environment_file(&env.contents).unwrap();
        assert_eq!(
            vars[0],
            (
                "MINIO_SYNAPSE_ACCESS_KEY".to_string(),
                "synapse".to_string()
            )
        );
        assert!(vars[1].1.len() >= 8, "MinIO secret keys are ≥ 8 characters");
    }
}

/// JSON `mc admin info --json` prints for `servers` (node → drive states).
fn info_json(nodes: &[(String, Vec<&str>)], per_set: &[u64]) -> String {
    let servers: Vec<Value> = nodes
        .iter()
        .map(|(ep, drives)| {
            let online = !drives.is_empty();
            serde_json::json!({
                "state": if online { "online" } else { "offline" },
                "endpoint": ep,
                "drives": drives.iter().enumerate().map(|(i, s)| serde_json::json!({
                    "endpoint": format!("http://{ep}/data{}", i + 1), "state": s, "path": format!("/data{}", i + 1)
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let ok = nodes
        .iter()
        .flat_map(|(_, d)| d.iter())
        .filter(|s| **s == "ok")
        .count();
    serde_json::json!({
        "status": "success",
        "info": {"mode": "online", "servers": servers,
                 "backend": {"backendType": "Erasure", "onlineDisks": ok, "offlineDisks": 0, "totalDrivesPerSet": per_set}}
    })
    .to_string()
}

/// JSON `mc admin heal --json cluster/` prints: sets with the drives that report.
fn heal_json(sets: &[(u64, u64)], parity: u64) -> String {
    let sets: Vec<Value> = sets
        .iter()
        .enumerate()
        .map(|(i, (size, ok))| {
            serde_json::json!({"pool_index": 0, "set_index": i, "id": format!("0-{i}"),
                "disks": (0..*ok).map(|_| serde_json::json!({"state": "ok", "pool_index": 0, "set_index": i})).collect::<Vec<_>>(),
                "total": size})
        })
        .collect();
    serde_json::json!({"status": "success", "HealInfo": {"offline_nodes": [], "sets": sets, "sc_parity": {"STANDARD": parity}}})
        .to_string()
}

/// Runs the health check with `docker` replaced by a stub that plays mc: `alias set`
/// reads its keys, `admin info` and `admin heal` print the given JSON (or fail).
fn run_health(script: &File, env: &File, info: Option<&str>, heal: &str) -> (i32, String) {
    let sb = Sandbox::new("minio-health");
    let s = sb.write("health.sh", &script.contents);
    sb.write("etc-default/minio", &env.contents);
    sb.write("info.json", info.unwrap_or(""));
    sb.write("heal.json", heal);
    let stub = format!(
        "#!/bin/bash\n\
         # docker run … IMAGE --config-dir /mc <mc words>\n\
         while [ $# -gt 0 ] && [ \"$1\" != --config-dir ]; do shift; done\n\
         shift 2\n\
         case \"$*\" in\n\
           'alias set '*) cat > /dev/null; exit 0 ;;\n\
           'admin info --json cluster') {info} ;;\n\
           'admin heal --json cluster/') cat {d}/heal.json ;;\n\
           *) echo \"unexpected mc $*\" >&2; exit 99 ;;\n\
         esac\n",
        d = sb.dir().display(),
        info = if info.is_some() {
            format!("cat {}/info.json", sb.dir().display())
        } else {
            "echo 'mc: <ERROR> Unable to connect' >&2; exit 1".to_string()
        },
    );
    let stub_path = sb.write("bin/docker", stub);
    let script = format!(
        "chmod 755 {stub}\n\
         mount --bind {d}/etc-default /etc/default\n\
         export PATH={bin}:$PATH\n\
         bash {s}\n",
        stub = stub_path.display(),
        d = sb.dir().display(),
        bin = stub_path.parent().unwrap().display(),
        s = s.display(),
    );
    let _ = tool("jq");
    let out = sb.run(&script);
    (out.status.code().unwrap_or(-1), output_text(&out))
}

#[test]
fn health_check_tells_healthy_degraded_and_broken_apart() {
    for (plan_name, plan) in named_plans() {
        let files = bundle(&plan);
        let topo = Topology::new(&plan);
        let h = topo.first(Role::Minio).unwrap();
        let script = file(
            &files,
            &format!("hosts/{}/usr/local/sbin/minio-health-check.sh", h.name),
        );
        let env = file(&files, &format!("hosts/{}/etc/default/minio", h.name));
        let nodes: Vec<String> = topo
            .role(Role::Minio)
            .map(|h| format!("{}:9000", h.fqdn))
            .collect();
        let d = plan.minio.drives_per_node as usize;
        let total = (nodes.len() * d) as u64;
        let all_ok: Vec<(String, Vec<&str>)> =
            nodes.iter().map(|n| (n.clone(), vec!["ok"; d])).collect();

        let unreachable = run_health(script, env, None, "");
        assert_eq!(
            unreachable.0, 2,
            "{plan_name}: no answer is exit 2:\n{}",
            unreachable.1
        );

        if total == 1 {
            let ok = run_health(script, env, Some(&info_json(&all_ok, &[1])), "");
            assert_eq!(ok.0, 0, "{plan_name}: healthy single drive:\n{}", ok.1);
            let bad = run_health(
                script,
                env,
                Some(&info_json(&[(nodes[0].clone(), vec!["faulty"])], &[1])),
                "",
            );
            assert_eq!(bad.0, 1, "{plan_name}: faulty drive:\n{}", bad.1);
            continue;
        }
        // The layout MinIO forms (largest accepted set size), parity by MinIO's table.
        let (_, patterns) =
            expand(&format!("http://m{{1...{}}}.x/d{{1...{d}}}", nodes.len())).unwrap();
        let size = *set_sizes(total, &patterns).last().unwrap();
        let parity = match size {
            2 | 3 => 1,
            4 | 5 => 2,
            6 | 7 => 3,
            _ => 4,
        };
        let sets = total / size;
        let per_node = (size / nodes.len() as u64).max(1);
        let per_set = vec![size];

        let ok = run_health(
            script,
            env,
            Some(&info_json(&all_ok, &per_set)),
            &heal_json(&vec![(size, size); sets as usize], parity),
        );
        assert_eq!(ok.0, 0, "{plan_name}: healthy cluster:\n{}", ok.1);

        // One node down: each set loses its drives there, within parity.
        let mut one_down = all_ok.clone();
        one_down[0].1.clear();
        let heal = heal_json(&vec![(size, size - per_node); sets as usize], parity);
        let degraded = run_health(script, env, Some(&info_json(&one_down, &per_set)), &heal);
        assert_eq!(
            degraded.0, 1,
            "{plan_name}: one node down is degraded:\n{}",
            degraded.1
        );
        assert!(
            degraded.1.contains("DEGRADED"),
            "{plan_name}: {}",
            degraded.1
        );

        // A set with more drives out than its parity: quorum lost.
        let mut sets_state = vec![(size, size); sets as usize];
        sets_state[0] = (size, size - parity - 1);
        let lost = run_health(
            script,
            env,
            Some(&info_json(&one_down, &per_set)),
            &heal_json(&sets_state, parity),
        );
        assert_eq!(lost.0, 2, "{plan_name}: lost quorum is exit 2:\n{}", lost.1);
        assert!(lost.1.contains("CRITICAL"), "{plan_name}: {}", lost.1);
    }
}

#[test]
fn bundle_plan_sanity() {
    // The named plans cover the three MinIO modes the generator distinguishes.
    let modes: Vec<(u64, u64)> = named_plans()
        .iter()
        .map(|(_, p): &(&str, Plan)| (p.host(Role::Minio).count, p.minio.drives_per_node))
        .collect();
    assert!(modes.contains(&(1, 1)), "single drive");
    assert!(modes.iter().any(|(n, _)| *n > 1), "distributed");
}

//! The real binary, run as a user runs it: exit codes, stdout, stderr.
//!
//! Exit 0 for a valid plan (whatever its findings), 2 for input that cannot be read or
//! is invalid, with every problem on stderr naming its key path and nothing on stdout;
//! `bundle` also exits 2 for a plan with error findings unless `--allow-errors`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use synapse_planner::plan::{self, Plan, YamlStyle};
use synapse_planner::report::lookup;

const BIN: &str = env!("CARGO_BIN_EXE_synapse-planner");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {BIN}: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("output is UTF-8")
}

/// A file under the system temp dir, unique to this process and call, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, contents: &[u8]) -> TempFile {
        static N: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "synapse-planner-cli-{}-{}-{name}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&path, contents).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        TempFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("temp path is UTF-8")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Runs `args` and checks the exit code; when it is 2, stdout must be empty and stderr
/// must contain every one of `stderr_has`; when it is 0, likewise for stderr.
fn check(args: &[&str], code: i32, stderr_has: &[&str]) -> Output {
    let out = run(args);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(code),
        "{args:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    if code == 2 {
        assert_eq!(stdout, "", "{args:?} failed but printed to stdout");
        assert!(!stderr.trim().is_empty(), "{args:?} failed silently");
    }
    for want in stderr_has {
        assert!(
            stderr.contains(want),
            "{args:?}: stderr lacks {want:?}\n--- stderr\n{stderr}"
        );
    }
    out
}

/// Paths the issue promises in `report --format json`.
fn check_json_report(stdout: &[u8], expect: &[(&str, serde_json::Value)]) {
    let v: serde_json::Value =
        serde_json::from_slice(stdout).unwrap_or_else(|e| panic!("report JSON: {e}"));
    for path in [
        "synapse.process-count",
        "synapse.ram-per-process-gib",
        "synapse.ram-total-gib",
        "hosts[0].role",
        "hosts[0].count",
        "hosts[0].ram-gib",
        "hosts[0].ram-needed-gib",
        "hosts[0].items",
        "hosts[7].role",
        "connections.synapse-pool-total",
        "connections.pgbouncer-max-client-conn",
        "connections.pgbouncer-server-connections",
        "connections.postgres-max-connections",
        "connections.postgres-available",
        "postgres.parameters.shared_buffers",
        "findings[0].severity",
        "findings[0].code",
        "findings[0].paths",
        "findings[0].message",
    ] {
        assert!(lookup(&v, path).is_some(), "no {path} in the JSON report");
    }
    for (path, want) in expect {
        assert_eq!(lookup(&v, path), Some(want), "{path}");
    }
}

fn plan_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/plans");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn example_plan_is_the_default_plan_and_reads_back() {
    let out = check(&["example-plan"], 0, &[]);
    assert_eq!(out.stderr, b"", "example-plan writes nothing to stderr");
    let yaml = text(&out.stdout);
    assert_eq!(yaml, plan::to_yaml(&Plan::default(), YamlStyle::Full));
    let v = plan::from_yaml(&yaml).validate();
    assert_eq!(v.problems, vec![]);
    assert_eq!(v.plan, Some(Plan::default()));

    // And the binary itself accepts it, silently, with the default plan's report.
    let file = TempFile::new("example.yaml", yaml.as_bytes());
    let from_file = check(&["report", "--plan", file.path()], 0, &[]);
    assert_eq!(text(&from_file.stderr), "");
    assert_eq!(from_file.stdout, run(&["report"]).stdout);
    let json = check(
        &["report", "--plan", file.path(), "--format", "json"],
        0,
        &[],
    );
    assert_eq!(json.stdout, run(&["report", "--format", "json"]).stdout);
}

#[test]
fn report_without_a_plan_uses_the_default() {
    let out = check(&["report"], 0, &[]);
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("synapse-planner report: seed-cluster (chat.example.com)\n"));
    for section in [
        "\nSYNAPSE\n",
        "\nRAM BUDGET PER HOST\n",
        "\nCONNECTION CHAIN\n",
        "\nPOSTGRESQL PARAMETERS",
        "\nFINDINGS (",
    ] {
        assert!(stdout.contains(section), "no {section:?} in\n{stdout}");
    }
    let out = check(&["report", "--format", "json"], 0, &[]);
    check_json_report(
        &out.stdout,
        &[
            ("synapse.process-count", serde_json::json!(20)),
            ("synapse.ram-per-process-gib", serde_json::json!(2.16)),
            ("synapse.ram-total-gib", serde_json::json!(11.2)),
            ("synapse.seed-rule-total-gib", serde_json::json!(130.0)),
            ("hosts[0].role", serde_json::json!("synapse")),
            ("connections.synapse-pool-total", serde_json::json!(200)),
            ("connections.postgres-available", serde_json::json!(485)),
            (
                "postgres.parameters.shared_buffers",
                serde_json::json!("16GB"),
            ),
        ],
    );
    check(&["report", "--format", "text"], 0, &[]);
}

#[test]
fn every_plan_file_is_accepted() {
    let files = plan_files();
    assert!(files.len() >= 4, "tests/plans/ holds {files:?}");
    for file in &files {
        let f = file.to_str().expect("UTF-8 path");
        let out = check(&["report", "--plan", f], 0, &[]);
        assert_eq!(text(&out.stderr), "", "{f} should read without warnings");
        let json = check(&["report", "--plan", f, "--format", "json"], 0, &[]);
        check_json_report(&json.stdout, &[]);
    }
}

#[test]
fn invalid_plans_exit_2_naming_every_bad_key() {
    let cases: &[(&str, &[&str])] = &[
        (
            "schema: 1\nusers:\n  registered: lots\nsynapse:\n  cp-max: -2\n",
            &[
                "users.registered",
                "synapse.cp-max",
                "“lots” is not a whole number",
                "cannot be negative",
                "the plan is invalid (2 errors); nothing was computed",
            ],
        ),
        (
            "schema: 1\nusers:\n  registered: 100\n  peak-concurrent: 500\nactivity:\n  daily-active-users: 50\nsynapse:\n  cp-min: 20\n  cp-max: 10\nhosts:\n  synapse:\n    count: 2\n  haproxy:\n    ram-gib: ''\npostgres:\n  storage: tape\n",
            &[
                "users.peak-concurrent",
                "synapse.cp-min",
                "hosts.synapse.count",
                "hosts.haproxy.ram-gib",
                "postgres.storage",
                "(5 errors)",
            ],
        ),
        (
            "schema: 3\nname: from-the-future\n",
            &["schema", "newer synapse-planner"],
        ),
        ("- a\n- b\n", &["plan: A plan file is a YAML mapping"]),
        ("users: [\n", &["The plan file is not valid YAML"]),
        (
            "schema: 1\nsynapse:\n  workers: [1, 2]\n",
            &["synapse.workers", "must be a mapping, not a list"],
        ),
    ];
    for (yaml, stderr_has) in cases {
        let file = TempFile::new("invalid.yaml", yaml.as_bytes());
        let mut want: Vec<&str> = stderr_has.to_vec();
        want.push(file.path());
        check(&["report", "--plan", file.path()], 2, &want);
        check(
            &["report", "--plan", file.path(), "--format", "json"],
            2,
            &want,
        );
    }
}

/// YAML has no integer limit; a number beyond 64 bits is a bad value at its key like any
/// other, and must not hide the file's other problems.
///
/// Fails today: serde_yaml refuses to build a `Value` for it, so the whole file is
/// reported as "not valid YAML" at no key path and the other bad key goes unnamed.
#[test]
fn numbers_beyond_64_bits_are_blamed_on_their_key() {
    for number in ["18446744073709551616", "-99999999999999999999"] {
        let yaml = format!("schema: 1\nusers:\n  registered: {number}\nsynapse:\n  cp-max: x\n");
        let file = TempFile::new("huge.yaml", yaml.as_bytes());
        check(
            &["report", "--plan", file.path()],
            2,
            &[
                "error: users.registered: ",
                "error: synapse.cp-max: ",
                "(2 errors)",
            ],
        );
    }
}

#[test]
fn unreadable_plans_exit_2() {
    let missing = std::env::temp_dir().join(format!(
        "synapse-planner-cli-{}-does-not-exist.yaml",
        std::process::id()
    ));
    let missing = missing.to_str().expect("UTF-8 path");
    check(
        &["report", "--plan", missing],
        2,
        &[missing, "cannot read the plan file"],
    );

    let latin1 = TempFile::new("latin1.yaml", b"schema: 1\nname: caf\xe9\n");
    check(
        &["report", "--plan", latin1.path()],
        2,
        &[latin1.path(), "not UTF-8"],
    );

    let dir = std::env::temp_dir();
    let dir = dir.to_str().expect("UTF-8 path");
    check(
        &["report", "--plan", dir],
        2,
        &["cannot read the plan file"],
    );
}

#[test]
fn warnings_do_not_stop_the_report() {
    let cases: &[(&str, &[&str])] = &[
        (
            "schema: 1\nusers:\n  peak-concurent: 5\nextra: true\n",
            &[
                "warning: users.peak-concurent: Unknown key `users.peak-concurent` is ignored.",
                "warning: extra: Unknown key `extra` is ignored.",
            ],
        ),
        (
            "name: no-schema\n",
            &["warning: schema: The file has no `schema:` key"],
        ),
        ("", &["warning: plan: The plan file is empty"]),
        (
            "schema: 1\nsynapse:\n  cache-factor: 60\n",
            &["warning: synapse.cache-factor: Global cache factor of 60 × is above 50"],
        ),
    ];
    for (yaml, stderr_has) in cases {
        let file = TempFile::new("warnings.yaml", yaml.as_bytes());
        let out = check(&["report", "--plan", file.path()], 0, stderr_has);
        assert!(text(&out.stdout).starts_with("synapse-planner report: "));
        assert!(!text(&out.stderr).contains("error"), "{yaml:?}");
        let json = check(
            &["report", "--plan", file.path(), "--format", "json"],
            0,
            stderr_has,
        );
        check_json_report(&json.stdout, &[]);
    }
}

#[test]
fn usage_errors_exit_2() {
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["report", "--format", "yaml"],
            &["invalid value 'yaml' for '--format <FORMAT>'", "text, json"],
        ),
        (&["report", "--format", "JSON"], &["invalid value 'JSON'"]),
        (
            &["report", "--format"],
            &["a value is required for '--format"],
        ),
        (&["report", "--plan"], &["a value is required for '--plan"]),
        (&["report", "--bogus"], &["unexpected argument '--bogus'"]),
        (&["frobnicate"], &["unrecognized subcommand 'frobnicate'"]),
        // No command: the help, on stderr.
        (&[], &["Usage: synapse-planner <COMMAND>", "example-plan"]),
    ];
    for (args, stderr_has) in cases {
        check(args, 2, stderr_has);
    }
}

#[test]
fn help_and_version_exit_0() {
    let help = check(&["--help"], 0, &[]);
    let help = text(&help.stdout);
    assert!(
        help.contains("example-plan") && help.contains("report"),
        "{help}"
    );
    let version = check(&["--version"], 0, &[]);
    assert_eq!(
        text(&version.stdout).trim(),
        format!("synapse-planner {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn compare_lists_what_differs_and_refuses_bad_plans() {
    let a = "tests/plans/odd-counts.yaml";
    let b = "tests/plans/100k.yaml";
    let out = check(&["compare", a, b], 0, &[]);
    let t = text(&out.stdout);
    for want in [
        "INPUTS THAT DIFFER",
        "users.registered",
        // odd-counts has 5 Patroni nodes, 100k has 3.
        "hosts.patroni.count                          5 → 3",
        "object-storage.usable-tib                                    24.0 → 192.0 (+168)  [better]",
        "failures[haproxy].survives                                   false → true  [better]",
        "FILES: ",
    ] {
        assert!(t.contains(want), "{want:?} not in\n{t}");
    }
    // The same comparison as JSON, with the library's own figures.
    let out = check(&["compare", a, b, "--format", "json"], 0, &[]);
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let usable = j["capacity"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["key"] == "object-storage.usable-tib"))
        .expect("usable-tib delta");
    assert_eq!(
        (&usable["a"], &usable["b"], &usable["verdict"]),
        (
            &serde_json::json!(24.0),
            &serde_json::json!(192.0),
            &serde_json::json!("better")
        )
    );
    assert!(
        j["files"]["changed"]
            .as_array()
            .is_some_and(|c| !c.is_empty())
    );
    // Identical plans: nothing differs.
    let out = check(&["compare", a, a], 0, &[]);
    assert!(text(&out.stdout).starts_with("INPUTS THAT DIFFER (0)"));
    // A bad plan on either side exits 2, naming the file.
    let bad = TempFile::new("bad.yaml", b"schema: 1\nusers:\n  registered: -5\n");
    let bad = bad.0.to_str().expect("UTF-8 path").to_string();
    let out = check(&["compare", a, &bad], 2, &["users.registered"]);
    assert!(out.stdout.is_empty());
}

#[test]
fn reader_plan_files_past_the_limit_exit_2_without_being_read_whole() {
    // /dev/zero never ends: the CLI reads one byte past the limit and stops.
    check(
        &["report", "--plan", "/dev/zero"],
        2,
        &["larger than 1048576 bytes (1 MiB)"],
    );
    let bom = TempFile::new(
        "bom.yaml",
        "\u{FEFF}schema: 1\nusers:\n  registered: 20000\n".as_bytes(),
    );
    let out = check(
        &["report", "--plan", bom.path(), "--format", "json"],
        0,
        &[],
    );
    check_json_report(
        &out.stdout,
        &[("plan.users-registered", serde_json::json!(20000))],
    );
}

#[test]
fn links_share_url_refuses_what_open_url_would_refuse() {
    let lines: Vec<String> = (0..3000)
        .map(|i| {
            format!(
                "cache_{}_{}: {}.{}",
                i * 7919 % 10007,
                i,
                1 + i % 97,
                i % 10
            )
        })
        .collect();
    let big = Plan::default()
        .with_text("synapse.per-cache-factors", &lines.join("\n"))
        .expect("valid");
    let file = TempFile::new(
        "big.yaml",
        plan::to_yaml(&big, YamlStyle::Minimal).as_bytes(),
    );
    check(
        &[
            "share-url",
            "--plan",
            file.path(),
            "--base",
            "https://planner.example/",
        ],
        2,
        &["more than the 16384 a link may hold"],
    );
    // What it prints, open-url opens to the same plan.
    let small = Plan::default()
        .with_text("synapse.per-cache-factors", &lines[..100].join("\n"))
        .expect("valid");
    let file = TempFile::new(
        "small.yaml",
        plan::to_yaml(&small, YamlStyle::Minimal).as_bytes(),
    );
    let out = check(
        &[
            "share-url",
            "--plan",
            file.path(),
            "--base",
            "https://planner.example/",
        ],
        0,
        &[],
    );
    let url = text(&out.stdout);
    let opened = check(&["open-url", url.trim()], 0, &[]);
    let back = plan::from_yaml(&text(&opened.stdout)).validate();
    assert_eq!(back.plan, Some(small));
}

#[test]
fn secrets_at_rest_bundles_are_created_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir =
        std::env::temp_dir().join(format!("synapse-planner-cli-{}-bundle", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("bundle.zip");
    // An existing world-readable file is replaced, not rewritten in place.
    std::fs::write(&out, b"old").unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o644)).unwrap();
    let path = out.to_str().unwrap();
    check(
        &["bundle", "--out", path, "--date", "2026-12-07"],
        0,
        &["mode 0600", "only you can read it"],
    );
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{mode:o}");
    // Nothing else is left in the directory (no temporary file).
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, [std::ffi::OsString::from("bundle.zip")]);
    // Placeholders hold no secret.
    check(
        &[
            "bundle",
            "--out",
            path,
            "--placeholders",
            "--date",
            "2026-12-07",
        ],
        0,
        &["mode 0644"],
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 10, point 8: a plan with error findings is not bundled silently. Without
/// `--allow-errors` the CLI exits 2, lists every error finding (code and message), says
/// how to bundle anyway and writes nothing; with it, the zip is written and its README
/// says the plan has error findings.
#[test]
fn bundle_refuses_error_findings_unless_allow_errors() {
    use synapse_planner::Severity;
    use synapse_planner::report::Report;
    let plan_path = "tests/plans/overcommitted.yaml";
    let plan = plan::from_yaml(
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(plan_path))
            .expect("plan file"),
    )
    .validate()
    .plan
    .expect("a valid plan");
    let report = Report::new(&plan);
    let errors: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    assert!(!errors.is_empty(), "{plan_path} has error findings");
    let listing: Vec<String> = errors
        .iter()
        .map(|f| format!("error: {}: {}\n", f.code, f.message))
        .collect();
    let count = format!("the plan has {} error finding(s)", errors.len());

    let dir = std::env::temp_dir().join(format!(
        "synapse-planner-cli-{}-bundle-errors",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("bundle.zip");
    let path = out.to_str().unwrap();
    let args = [
        "bundle",
        "--plan",
        plan_path,
        "--out",
        path,
        "--placeholders",
        "--date",
        "2026-12-07",
    ];
    let mut want: Vec<&str> = listing.iter().map(String::as_str).collect();
    want.extend([count.as_str(), "no bundle was written", "--allow-errors"]);
    let refused = check(&args, 2, &want);
    assert!(!out.exists(), "a refused bundle was written");
    assert!(
        std::fs::read_dir(&dir).unwrap().next().is_none(),
        "a refused bundle left a file behind"
    );
    let stderr = text(&refused.stderr);
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("error: ")).count(),
        errors.len() + 1,
        "one line per error finding and the verdict:\n{stderr}"
    );

    let mut allowed_args = args.to_vec();
    allowed_args.push("--allow-errors");
    let listed: Vec<String> = listing
        .iter()
        .map(|l| l.replacen("error", "warning", 1))
        .collect();
    let mut want: Vec<&str> = listed.iter().map(String::as_str).collect();
    want.extend([count.as_str(), "mode 0644"]);
    let allowed = check(&allowed_args, 0, &want);
    assert!(
        !text(&allowed.stderr).contains("error: "),
        "{}",
        text(&allowed.stderr)
    );
    let bytes = std::fs::read(&out).expect("the zip was written");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    let mut readme = String::new();
    std::io::Read::read_to_string(
        &mut zip.by_name("README.md").expect("README.md"),
        &mut readme,
    )
    .expect("README text");
    assert!(
        readme.contains(&format!(
            "**The plan has {} error finding(s).**",
            errors.len()
        )),
        "{readme}"
    );

    // A plan without error findings bundles as before, with no mention of them.
    let clean = check(
        &[
            "bundle",
            "--out",
            path,
            "--placeholders",
            "--date",
            "2026-12-07",
        ],
        0,
        &["mode 0644"],
    );
    assert!(!text(&clean.stderr).contains("error finding"));
    let _ = std::fs::remove_dir_all(&dir);
}

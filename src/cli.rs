//! The command-line twin of the browser app (native only).
//!
//! Exit codes: 0 for a valid plan (whatever its findings), 2 for input that cannot be
//! read or is invalid (with every problem on stderr, each naming its key path). `bundle`
//! also exits 2 for a plan with error findings, listing them, unless `--allow-errors`.

use crate::bundle::{self, Date, Secrets};
use crate::plan::{self, Plan, YamlStyle};
use crate::report::Report;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "synapse-planner",
    version,
    about = "Size and check a high-availability Matrix Synapse cluster"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print the default plan (the seed's cluster) as a complete YAML plan file.
    ExamplePlan,
    /// Write the deployment bundle: every config file and script, as one zip.
    Bundle {
        /// Plan file (YAML, schema 1); the default plan without it.
        #[arg(long, value_name = "FILE")]
        plan: Option<PathBuf>,
        /// Where to write the zip.
        #[arg(long, value_name = "FILE.zip")]
        out: PathBuf,
        /// Named placeholders (CHANGE_ME_…) instead of generated secrets.
        #[arg(long)]
        placeholders: bool,
        /// The date in the files' headers (YYYY-MM-DD); today (UTC) without it.
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: Option<String>,
        /// Write the bundle even when the plan has error findings (refused without it).
        #[arg(long)]
        allow_errors: bool,
    },
    /// Print a link that opens the plan in synapse-planner (never with secrets).
    ShareUrl {
        /// Plan file (YAML, schema 1); the default plan without it.
        #[arg(long, value_name = "FILE")]
        plan: Option<PathBuf>,
        /// Where the app is served.
        #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080/")]
        base: String,
    },
    /// Print the plan a link holds, as a plan file (YAML).
    OpenUrl {
        /// The link, or just its fragment.
        url: String,
    },
    /// Compare two plans: the inputs that differ, and what that changes in the budgets,
    /// findings, capacity and generated files (the browser's compare view).
    Compare {
        /// Plan A (YAML, schema 1).
        a: PathBuf,
        /// Plan B (YAML, schema 1).
        b: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Print the sizing report for a plan (the default plan without --plan).
    Report {
        /// Plan file (YAML, schema 1).
        #[arg(long, value_name = "FILE")]
        plan: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// Runs the CLI and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // clap: 0 for --help/--version, 2 for usage errors.
            return e.exit_code();
        }
    };
    match cli.command {
        Command::ExamplePlan => {
            emit(&plan::to_yaml(&Plan::default(), YamlStyle::Full));
            0
        }
        Command::Bundle {
            plan,
            out,
            placeholders,
            date,
            allow_errors,
        } => bundle_command(
            plan.as_deref(),
            &out,
            BundleOptions {
                placeholders,
                date: date.as_deref(),
                allow_errors,
            },
        ),
        Command::ShareUrl { plan, base } => share_url(plan.as_deref(), &base),
        Command::OpenUrl { url } => open_url(&url),
        Command::Compare { a, b, format } => compare(&a, &b, format),
        Command::Report { plan, format } => report(plan.as_deref(), format),
    }
}

/// The flags of `bundle` besides its files.
struct BundleOptions<'a> {
    placeholders: bool,
    date: Option<&'a str>,
    allow_errors: bool,
}

/// `bundle`: the zip with real secrets (0600) or placeholders; refused (exit 2) for a
/// plan with error findings unless `--allow-errors`.
fn bundle_command(
    plan: Option<&std::path::Path>,
    out: &std::path::Path,
    options: BundleOptions<'_>,
) -> i32 {
    let BundleOptions {
        placeholders,
        date,
        allow_errors,
    } = options;
    let plan = match load(plan) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let date = match date {
        Some(d) => match Date::parse(d) {
            Some(d) => d,
            None => {
                eprintln!("error: --date: “{d}” is not a date in the form YYYY-MM-DD");
                return 2;
            }
        },
        None => today(),
    };
    if !error_findings_allowed(&plan, allow_errors) {
        return 2;
    }
    let secrets = if placeholders {
        Secrets::placeholders()
    } else {
        match os_secrets() {
            Some(s) => s,
            None => {
                eprintln!(
                    "error: the operating system's random number generator failed; use --placeholders"
                );
                return 2;
            }
        }
    };
    let files = bundle::files(&plan, &date, &secrets);
    let bytes = match bundle::zip(&files) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: cannot build the zip: {e}");
            return 2;
        }
    };
    // Real secrets: the zip is created readable by its owner only, never wider.
    let mode = if placeholders { 0o644 } else { 0o600 };
    if let Err(e) = write_new(out, &bytes, mode) {
        eprintln!("error: {}: cannot write the bundle: {e}", out.display());
        return 2;
    }
    eprintln!(
        "{}: {} files, {} bytes, mode {mode:04o}",
        out.display(),
        files.len(),
        bytes.len()
    );
    if !placeholders {
        eprintln!(
            "It holds secrets, so only you can read it (mode 0600): encrypt {} first (README.md, step 1).",
            bundle::vault_path(&plan.domain)
        );
    }
    0
}

/// Lists the plan's error findings on stderr (code and message, one a line) and says
/// whether the bundle may be written: always without error findings, with them only
/// under `--allow-errors`.
fn error_findings_allowed(plan: &Plan, allow_errors: bool) -> bool {
    let report = Report::new(plan);
    let errors: Vec<_> = report
        .findings
        .iter()
        // By its key: ARCHITECTURE.md's layers give the CLI report, not severity.
        .filter(|f| f.severity == crate::severity::Severity::Error)
        .collect();
    if errors.is_empty() {
        return true;
    }
    let label = if allow_errors { "warning" } else { "error" };
    for f in &errors {
        eprintln!("{label}: {}: {}", f.code, f.message);
    }
    if allow_errors {
        eprintln!(
            "warning: the plan has {} error finding(s); bundled anyway (--allow-errors), and its README says so",
            errors.len()
        );
        true
    } else {
        eprintln!(
            "error: the plan has {} error finding(s); no bundle was written. Fix them (`synapse-planner report` explains each), or pass --allow-errors to bundle anyway",
            errors.len()
        );
        false
    }
}

/// Secrets from the operating system's random number generator, or `None` if it failed.
fn os_secrets() -> Option<Secrets> {
    let mut failed = false;
    let s = Secrets::generate(|buf| {
        if getrandom::fill(buf).is_err() {
            failed = true;
        }
    });
    (!failed).then_some(s)
}

/// `share-url`: the plan's link, or exit 2 when no link can hold it.
fn share_url(plan: Option<&std::path::Path>, base: &str) -> i32 {
    let plan = match load(plan) {
        Ok(p) => p,
        Err(code) => return code,
    };
    match plan::link::url(base, &plan) {
        Ok(url) => {
            emit(&format!("{url}\n"));
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

/// `open-url`: the plan a link holds, as a full plan file.
fn open_url(url: &str) -> i32 {
    let opened = match plan::link::decode(url) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    if let Some(note) = &opened.note {
        eprintln!("note: {note}");
    }
    let v = opened.validate();
    for p in &v.problems {
        eprintln!("link: {p}");
    }
    match v.plan {
        Some(p) => {
            emit(&plan::to_yaml(&p, YamlStyle::Full));
            0
        }
        None => {
            eprintln!(
                "error: the link's plan is invalid ({} errors)",
                v.errors().count()
            );
            2
        }
    }
}

/// `compare A B`.
fn compare(a: &std::path::Path, b: &std::path::Path, format: Format) -> i32 {
    let (a, b) = match (load(Some(a)), load(Some(b))) {
        (Ok(a), Ok(b)) => (a, b),
        _ => return 2,
    };
    let cmp = crate::compare::compare(&a, &b);
    match format {
        Format::Json => emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&cmp.to_json_value())
                .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
        )),
        Format::Text => emit(&cmp.to_text()),
    }
    0
}

/// `report`.
fn report(plan: Option<&std::path::Path>, format: Format) -> i32 {
    let plan = match load(plan) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let report = Report::new(&plan);
    match format {
        Format::Json => emit(&format!("{}\n", report.to_json())),
        Format::Text => emit(&report.to_text()),
    }
    0
}

/// Writes to stdout. A reader that went away (`| head`) is not an error of ours: the
/// rest is dropped quietly instead of panicking as `print!` does.
fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Reads and validates a plan file, printing every problem to stderr. Warnings do not
/// stop it; errors exit 2.
fn load(path: Option<&std::path::Path>) -> Result<Plan, i32> {
    let Some(path) = path else {
        return Ok(Plan::default());
    };
    let text = match read_bounded(path, plan::MAX_FILE_BYTES) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(_) => {
                eprintln!("error: {}: the plan file is not UTF-8 text", path.display());
                return Err(2);
            }
        },
        Err(e) => {
            eprintln!("error: {}: cannot read the plan file: {e}", path.display());
            return Err(2);
        }
    };
    let v = plan::from_yaml(&text).validate();
    for p in &v.problems {
        eprintln!("{}: {p}", path.display());
    }
    match v.plan {
        Some(plan) => Ok(plan),
        None => {
            eprintln!(
                "error: {}: the plan is invalid ({} errors); nothing was computed",
                path.display(),
                v.errors().count()
            );
            Err(2)
        }
    }
}

/// The first `limit` + 1 bytes of a file at most: a plan file larger than the limit is
/// refused by the reader without this reading the rest (a device, a huge file).
fn read_bounded(path: &std::path::Path, limit: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(limit as u64 + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Writes `bytes` to `path` through a new file created with `mode` (then renamed over
/// `path`): the contents never exist under wider permissions, even when `path` existed.
fn write_new(path: &std::path::Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Today's date in UTC, from the system clock (the core never reads it).
fn today() -> Date {
    let d = time::OffsetDateTime::now_utc().date();
    let text = format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
    // The clock gives a real date; the fallback only guards a clock before year 0.
    Date::parse(&text).unwrap_or_else(|| Date::parse("1970-01-01").expect("a valid literal date"))
}

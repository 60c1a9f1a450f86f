//! The deployment bundle: every config file and script the plan's topology needs, as
//! plain text, in one fixed order. The zip, the browser's file list, the CLI and the
//! tests all read [`files`]; nothing else decides what the bundle holds.
//!
//! Every generator is a pure function of a [`Ctx`]: the plan, the report computed from
//! it (the one source of numbers), the topology, the date and the secrets, the last two
//! passed in by the caller. No clock, no randomness, no hash-map order.

mod archive;
pub mod secrets;

mod backup;
mod calls;
mod checks;
mod docs;
mod edge;
mod firewall;
mod monitoring;
mod objectstore;
mod playbook;
pub mod ports_doc;
mod postgres;
mod system;

pub use crate::deploy::{Host, Topology, ports, workers};
pub use archive::zip;
pub use playbook::vault::vault_path;
pub use secrets::{SecretId, Secrets};

use crate::plan::{Plan, Role, YamlStyle};
use crate::report::Report;
use serde::Serialize;

/// Generator name and version, as every file header states it.
pub const GENERATOR: &str = concat!("synapse-planner ", env!("CARGO_PKG_VERSION"));

/// Where a file goes, for grouping in the UI and the README.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// Read or run on the Ansible control machine (inventory, docs, checks).
    Control,
    /// Installed on every host.
    AllHosts,
    /// Installed on the hosts of one role (`File::host` names the host when it differs
    /// per host).
    Role(Role),
}

impl Serialize for Scope {
    /// `control`, `all-hosts`, or the role's key (`patroni`).
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.key())
    }
}

impl Scope {
    pub fn key(self) -> &'static str {
        match self {
            Scope::Control => "control",
            Scope::AllHosts => "all-hosts",
            Scope::Role(r) => r.key(),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Scope::Control => "Control machine and documents",
            Scope::AllHosts => "Every host",
            Scope::Role(r) => r.label(),
        }
    }
}

/// One file of the bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct File {
    /// Path inside the zip, `/`-separated.
    pub path: String,
    pub scope: Scope,
    /// The host this copy is for, when the file differs per host (`patroni2`).
    pub host: Option<String>,
    /// Unix mode: 0o644, 0o755 for scripts, 0o600 for files holding secrets.
    pub mode: u32,
    /// One line for the README and the file list.
    pub about: String,
    pub contents: String,
    /// The source file that made this file (`src/bundle/calls.rs`): where to look when a
    /// generated file needs changing. Recorded by [`File::new`] from its caller; listed in
    /// the bundle index snapshot, not in the zip.
    #[serde(skip)]
    pub source: &'static str,
}

impl File {
    #[track_caller]
    pub fn new(
        path: impl Into<String>,
        scope: Scope,
        about: impl Into<String>,
        contents: String,
    ) -> File {
        File {
            path: path.into(),
            scope,
            host: None,
            mode: 0o644,
            about: about.into(),
            contents,
            source: std::panic::Location::caller().file(),
        }
    }

    pub fn for_host(mut self, host: &Host) -> File {
        self.host = Some(host.name.clone());
        self
    }

    pub fn mode(mut self, mode: u32) -> File {
        self.mode = mode;
        self
    }

    /// Executable script.
    pub fn script(self) -> File {
        self.mode(0o755)
    }

    /// Holds secret values: readable by its owner only.
    pub fn secret(self) -> File {
        self.mode(0o600)
    }
}

/// A date as `YYYY-MM-DD`, passed in by the caller (the core has no clock).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Date(String);

impl Date {
    /// Accepts `YYYY-MM-DD` with a real month and day.
    pub fn parse(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        let digits = |r: std::ops::Range<usize>| {
            b.get(r.clone())
                .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
        };
        if b.len() != 10
            || b[4] != b'-'
            || b[7] != b'-'
            || !digits(0..4)
            || !digits(5..7)
            || !digits(8..10)
        {
            return None;
        }
        let year: u32 = s[0..4].parse().ok()?;
        let month: u32 = s[5..7].parse().ok()?;
        let day: u32 = s[8..10].parse().ok()?;
        let leap =
            (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (1..=days).contains(&day).then(|| Date(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Everything a generator may read.
pub struct Ctx<'a> {
    pub plan: &'a Plan,
    pub report: Report,
    pub topology: Topology,
    pub date: &'a Date,
    pub secrets: &'a Secrets,
}

/// Comment syntax of a file format, for the provenance header (the comment writer).
pub use crate::syntax::comment::Style as Comment;

impl Ctx<'_> {
    /// The provenance text: generator and version, plan name, the date passed in, and
    /// that the file is generated. Two lines; write it only through a comment writer
    /// ([`header`](Ctx::header), or a YAML [`Doc::header`](crate::syntax::yaml::Doc::header)).
    pub fn provenance(&self) -> String {
        format!(
            "Generated by {GENERATOR} for plan \"{}\" on {}.\nDo not edit by hand: change the plan and generate the bundle again.",
            // One line whatever the name holds: the comment writers start a new comment
            // line at each `\n` of the text (validation already refuses line breaks).
            crate::syntax::one_line(&self.plan.name),
            self.date.as_str()
        )
    }

    /// The provenance header every file starts with where its format allows comments, as
    /// comment lines of `comment`'s syntax (the plan's name cannot end the comment).
    pub fn header(&self, comment: Comment) -> String {
        comment.lines(&self.provenance())
    }

    pub fn secret(&self, id: SecretId) -> &str {
        self.secrets.get(id)
    }

    pub fn hosts(&self, role: Role) -> impl Iterator<Item = &Host> {
        self.topology.role(role)
    }
}

type Generator = fn(&Ctx) -> Vec<File>;

/// The generators, in the order their files appear in the zip and the file list.
const GENERATORS: &[Generator] = &[
    playbook::files,
    system::files,
    firewall::files,
    postgres::files,
    backup::files,
    objectstore::files,
    edge::files,
    calls::files,
    monitoring::files,
    checks::files,
];

/// The plan itself, at the top of the bundle.
pub(crate) const PLAN_YAML: &str = "plan.yaml";

/// Every file of the bundle for `plan`, in a fixed order: README.md, plan.yaml, the
/// checklist, runbook and PORTS.md, then each generator's files.
pub fn files(plan: &Plan, date: &Date, secrets: &Secrets) -> Vec<File> {
    let ctx = Ctx {
        plan,
        report: Report::new(plan),
        topology: Topology::new(plan),
        date,
        secrets,
    };
    let mut body: Vec<File> = GENERATORS.iter().flat_map(|g| g(&ctx)).collect();
    let mut out = vec![docs::readme(&ctx, &body)];
    out.push(File::new(
        PLAN_YAML,
        Scope::Control,
        "The plan itself: open it in synapse-planner or pass it to `synapse-planner bundle --plan`.",
        format!("{}{}", ctx.header(Comment::Hash), crate::plan::to_yaml(plan, YamlStyle::Minimal)),
    ));
    out.push(docs::checklist(&ctx));
    out.push(docs::runbook(&ctx));
    out.push(ports_doc::ports_doc(&ctx));
    out.append(&mut body);
    out
}

/// A context for one plan with placeholder secrets and a fixed date, for the
/// generators' unit tests.
#[cfg(test)]
pub(crate) fn with_ctx<R>(plan: &Plan, f: impl FnOnce(&Ctx) -> R) -> R {
    let date = Date::parse("2026-11-26").expect("a valid date");
    let secrets = Secrets::placeholders();
    let ctx = Ctx {
        plan,
        report: Report::new(plan),
        topology: Topology::new(plan),
        date: &date,
        secrets: &secrets,
    };
    f(&ctx)
}

/// A value no validation would let through (a plan file is untrusted; the writers must not
/// rely on validation): quotes, expansions, comment and template syntax, a U+2028, and a
/// newline followed by what would be a new setting.
#[cfg(test)]
pub(crate) const HOSTILE: &str =
    "e'v\"il$(touch /tmp/pwn)`id`;#\u{2028}x\nINJECTED=1 %p \\ {{x}} @NAME@";

/// The default plan with [`HOSTILE`] as its server name and internal domain.
#[cfg(test)]
pub(crate) fn hostile_plan() -> Plan {
    let mut p = Plan {
        domain: HOSTILE.into(),
        ..Plan::default()
    };
    p.network.internal_domain = HOSTILE.into();
    p
}

/// No line of `files` outside a comment (a line starting with one of `comments`) starts
/// with the setting [`HOSTILE`] tries to add.
#[cfg(test)]
pub(crate) fn assert_no_injected_line(files: &[File], comments: &[&str]) {
    for f in files {
        for line in f.contents.lines() {
            let t = line.trim_start();
            let comment = comments.iter().any(|c| t.starts_with(c));
            assert!(comment || !t.starts_with("INJECTED"), "{}: {line}", f.path);
        }
    }
}

/// The text of the file at `path`, for the generators' unit tests.
#[cfg(test)]
pub(crate) fn contents(files: &[File], path: &str) -> String {
    files
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("no {path}"))
        .contents
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        for (s, ok) in [
            ("2026-11-26", true),
            ("2024-02-29", true),
            ("2023-02-29", false),
            ("2026-13-01", false),
            ("2026-1-01", false),
            ("26-11-2026", false),
            ("2026-11-31", false),
            ("", false),
        ] {
            assert_eq!(Date::parse(s).is_some(), ok, "{s}");
        }
    }

    #[test]
    fn paths_are_unique_relative_and_ordered_the_same_twice() {
        let date = Date::parse("2026-11-26").unwrap();
        let a = files(&Plan::default(), &date, &Secrets::placeholders());
        let b = files(&Plan::default(), &date, &Secrets::placeholders());
        assert_eq!(a, b);
        let mut seen = std::collections::BTreeSet::new();
        for f in &a {
            assert!(seen.insert(f.path.clone()), "duplicate path {}", f.path);
            assert!(
                !f.path.starts_with('/') && !f.path.contains(".."),
                "{}",
                f.path
            );
        }
    }
}

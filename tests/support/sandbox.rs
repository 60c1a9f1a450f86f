//! Runs a real tool on generated files inside a throw-away Linux sandbox: a private
//! network namespace with only loopback (plus the addresses and interfaces a daemon
//! must bind), a private mount namespace with its own /etc/hosts, /run and /tmp, and
//! a private PID namespace so daemons die with the check. Nothing it runs can send a
//! packet off this machine (shared/VALIDATORS.md, "Ground rule").
//!
//! Needs root (as CI and scripts/test.sh run). A missing tool is a failure with the
//! command that installs it, never a skip.

#![allow(dead_code)]

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// The Python virtualenv scripts/setup.sh fills with the PyPI validators (patroni,
/// ansible-core, yamllint, matrix-synapse).
pub fn venv() -> PathBuf {
    std::env::var_os("SYNAPSE_PLANNER_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let cache = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache")
                });
            cache.join("synapse-planner/venv")
        })
}

/// The path of a tool, from PATH, the venv or an absolute path; panics with how to
/// install it when it is missing.
pub fn tool(name: &str) -> PathBuf {
    let candidates: Vec<PathBuf> = if name.starts_with('/') {
        vec![PathBuf::from(name)]
    } else {
        let mut c = vec![venv().join("bin").join(name)];
        for dir in std::env::var("PATH").unwrap_or_default().split(':') {
            c.push(Path::new(dir).join(name));
        }
        c.extend(
            ["/usr/sbin", "/sbin", "/usr/lib/postgresql/15/bin"]
                .iter()
                .map(|d| Path::new(d).join(name)),
        );
        c
    };
    candidates.into_iter().find(|p| p.is_file()).unwrap_or_else(|| {
        panic!("validator `{name}` is not installed: run scripts/setup.sh validators (scripts/test.sh does)")
    })
}

pub struct Sandbox {
    dir: PathBuf,
    addrs: Vec<Ipv4Addr>,
    hosts: Vec<(String, Ipv4Addr)>,
    interfaces: Vec<String>,
}

impl Sandbox {
    /// A new sandbox with an empty working directory.
    pub fn new(label: &str) -> Sandbox {
        // Not under /tmp: the sandbox mounts a private, empty /tmp.
        let dir = std::path::Path::new("/var/tmp").join(format!(
            "synapse-planner-sandbox-{}-{}-{label}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("sandbox dir");
        // Daemons that drop privileges (postgres, pgbouncer) must reach their files.
        let _ = Command::new("chmod").arg("755").arg(&dir).status();
        Sandbox {
            dir,
            addrs: Vec::new(),
            hosts: Vec::new(),
            interfaces: Vec::new(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes a file under the sandbox directory (creating parents) and returns its path.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.dir.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("parent dir");
        }
        std::fs::write(&p, contents).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        p
    }

    /// Addresses added to `lo` inside the namespace, so daemons can bind them.
    pub fn with_addrs(mut self, addrs: impl IntoIterator<Item = Ipv4Addr>) -> Sandbox {
        self.addrs.extend(addrs);
        self
    }

    /// Entries of the sandbox's private /etc/hosts (besides localhost).
    pub fn with_hosts(mut self, hosts: impl IntoIterator<Item = (String, Ipv4Addr)>) -> Sandbox {
        self.hosts.extend(hosts);
        self
    }

    /// A network interface of this name inside the namespace (a bridge: no link, no
    /// packets out), for tools that insist on a real interface (keepalived).
    pub fn with_interface(mut self, name: &str) -> Sandbox {
        self.interfaces.push(name.to_string());
        self
    }

    /// Runs `script` with bash inside the namespaces, in the sandbox directory.
    pub fn run(&self, script: &str) -> Output {
        assert!(
            Command::new("id")
                .arg("-u")
                .output()
                .map(|o| o.stdout == b"0\n")
                .unwrap_or(false),
            "validators run in network namespaces and need root (scripts/test.sh runs as root in CI)"
        );
        let mut hosts = String::from("127.0.0.1 localhost\n::1 localhost\n");
        for (name, ip) in &self.hosts {
            hosts.push_str(&format!("{ip} {name}\n"));
        }
        self.write(".sandbox/hosts", hosts);
        self.write(".sandbox/script.sh", script);
        let mut prelude = String::from("set -e\nip link set lo up\n");
        for a in &self.addrs {
            prelude.push_str(&format!("ip addr add {a}/32 dev lo\n"));
        }
        for i in &self.interfaces {
            prelude.push_str(&format!(
                "ip link add {i} type bridge\nip link set {i} up\n"
            ));
        }
        prelude.push_str(&format!(
            "mount --bind {d}/.sandbox/hosts /etc/hosts\n\
             mount -t tmpfs tmpfs /run\nmkdir -p /run/postgresql /run/user\nchmod 1777 /run/postgresql\n\
             mount -t tmpfs tmpfs /tmp\n\
             cd {d}\nset +e\nexec bash {d}/.sandbox/script.sh\n",
            d = self.dir.display()
        ));
        Command::new("unshare")
            .args([
                "--net",
                "--mount",
                "--pid",
                "--fork",
                "--mount-proc",
                "--propagation",
                "private",
                "bash",
                "-c",
            ])
            .arg(prelude)
            .output()
            .expect("unshare")
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// stdout + stderr as one string, for messages.
/// `v` as one single-quoted shell word.
pub fn quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', "'\\''"))
}

pub fn output_text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Panics with the output unless the command succeeded.
pub fn assert_ok(o: &Output, what: &str) {
    assert!(
        o.status.success(),
        "{what} failed ({}):\n{}",
        o.status,
        output_text(o)
    );
}

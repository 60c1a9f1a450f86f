//! MinIO, the S3 store for Synapse's media (seed §4 "MinIO Configuration", corrected):
//! per node `/etc/default/minio` and a systemd unit that runs the pinned MinIO image
//! with Docker; on the first node the bucket/user/policy setup script with its policy
//! and the `synapse` user's key; on every node a health check for cron or by hand.
//!
//! Facts below are read from MinIO's source at the pinned release
//! (minio/minio `cmd/endpoint-ellipses.go`, `internal/config/storageclass/
//! storage-class.go`, `internal/auth/credentials.go`) and mc's at the pinned mc release
//! (minio/mc `cmd/*.go`; the command/flag table in tests/data/mc-tree-*.json).

use super::{Comment, Ctx, File, Host, Scope, SecretId, ports};
use crate::deploy::facts::{MEDIA_BUCKET, MINIO_SYNAPSE_USER};
use crate::plan::Role;
pub(crate) use crate::sizing::objectstore::{Layout, erasure};
use crate::syntax::conf::Format;
use crate::syntax::{json, shell};

/// The last MinIO server release published as an image (quay.io). MinIO's community
/// edition has since moved to source-only distribution (minio/minio README): a newer
/// server must be built from source.
pub const MINIO_IMAGE: &str = "quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z";
/// The MinIO client the scripts run (as a container: Debian's `mc` is Midnight
/// Commander). Its command/flag table is tests/data/mc-tree-RELEASE.2025-08-13T08-35-41Z.json.
pub const MC_IMAGE: &str = "quay.io/minio/mc:RELEASE.2025-08-13T08-35-41Z";
/// The IAM policy attached to `synapse` ([`MINIO_SYNAPSE_USER`]).
pub const POLICY: &str = "synapse-media-rw";
/// MinIO's root user: not MinIO's well-known default `minioadmin` (seed), which
/// scanners try first. 3–20 characters (internal/auth/credentials.go).
pub const ROOT_USER: &str = "minio-root";
/// Where the first node keeps the policy and the `synapse` user's key.
pub const POLICY_PATH: &str = "/etc/minio/synapse-media-policy.json";
pub const SYNAPSE_ENV_PATH: &str = "/etc/minio/synapse-user.env";
pub const SETUP_SCRIPT: &str = "/usr/local/sbin/minio-setup-bucket.sh";
pub const HEALTH_SCRIPT: &str = "/usr/local/sbin/minio-health-check.sh";
/// Prometheus job that scrapes MinIO (the monitoring scrape jobs use this name; the console
/// reads its graphs from Prometheus by this job id).
pub const PROMETHEUS_JOB: &str = "minio";

pub fn files(ctx: &Ctx) -> Vec<File> {
    let mut out = Vec::new();
    for h in ctx.hosts(Role::Minio) {
        out.push(env_file(ctx, h));
        out.push(unit(ctx, h));
        out.push(health_script(ctx, h));
    }
    if let Some(first) = ctx.topology.first(Role::Minio) {
        out.push(policy_json(first));
        out.push(synapse_env(ctx, first));
        out.push(setup_script(ctx, first));
    }
    out
}

/// `{1...n}`, or the bare number when n is 1 (MinIO expands `{a...b}` to a..=b).
fn ellipsis(n: u64) -> String {
    if n <= 1 {
        "1".to_string()
    } else {
        format!("{{1...{n}}}")
    }
}

/// MINIO_VOLUMES: `http://minio{1...N}.<suffix>:9000/data{1...D}` for a distributed
/// pool; `/data{1...D}` on one node; `/data1` for a single drive.
pub fn volumes(layout: Layout, suffix: &str) -> String {
    match layout {
        Layout::SingleDrive => "/data1".to_string(),
        Layout::SingleNode { drives } => format!("/data{}", ellipsis(drives)),
        Layout::Distributed { nodes, drives } => format!(
            "http://minio{}.{suffix}:{}/data{}",
            ellipsis(nodes),
            ports::MINIO_API,
            ellipsis(drives)
        ),
    }
}

/// The data mount points of one node: `/data1` … `/dataD`.
pub fn mounts(layout: Layout) -> Vec<String> {
    (1..=layout.drives_per_node())
        .map(|i| format!("/data{i}"))
        .collect()
}

/// What the layout means, for the env file's comment (one `# ` line each), from the
/// report's `object-storage` section.
fn layout_notes(ctx: &Ctx, layout: Layout) -> Vec<String> {
    let s = &ctx.report.object_storage;
    let mut notes = vec![format!(
        "Pool: {} node(s) × {} drive(s) of {} TiB = {} drives, {} TiB raw.",
        s.nodes, s.drives_per_node, s.drive_tib, s.total_drives, s.raw_tib
    )];
    if let Some(problem) = &s.problem {
        notes.push("MINIO REFUSES TO START WITH THIS PLAN:".to_string());
        notes.extend(wrap(problem, 84));
        notes.push(if s.set_size == 0 {
            "Change hosts.minio.count or minio.drives-per-node.".to_string()
        } else {
            format!("Set minio.parity to at most {}.", s.max_parity)
        });
        return notes;
    }
    match layout {
        Layout::SingleDrive => notes.extend([
            "Single-node single-drive mode: MinIO stores objects as plain files on /data1,"
                .to_string(),
            "with no erasure coding, no bitrot healing and no redundancy: a failed drive or"
                .to_string(),
            "host loses the media until it is restored from backup (the backup host's media"
                .to_string(),
            "snapshots). It cannot grow into a distributed pool in place: a distributed"
                .to_string(),
            "deployment needs at least 4 drives (MinIO's deployment guide) and a new pool."
                .to_string(),
        ]),
        _ => {
            let origin = if s.requested_parity == 0 {
                "MinIO's default".to_string()
            } else {
                format!("minio.parity (default EC:{})", s.default_parity)
            };
            notes.push(format!(
                "MinIO forms {} erasure set(s) of {} drives with parity EC:{}, {origin}:",
                s.sets, s.set_size, s.parity
            ));
            notes.push(format!(
                "{} data + {} parity drives per set, {} TiB usable; reads need {} drives of a set,",
                s.data_drives, s.parity, s.usable_tib, s.read_quorum
            ));
            notes.push(format!(
                "writes {}: a set survives {} drive(s) down for reads and {} for writes.",
                s.write_quorum, s.drive_failures_tolerated, s.drive_failures_tolerated_for_writes
            ));
            if let Layout::Distributed { .. } = layout {
                notes.push(format!(
                    "{} drive(s) of each set per node: survives {} node(s) down for reads and {} for writes.",
                    s.drives_per_set_per_node,
                    s.node_failures_tolerated,
                    s.node_failures_tolerated_for_writes
                ));
                if s.total_drives < 4 {
                    notes.push("MinIO's deployment guide asks for at least 4 drives in a distributed pool.".to_string());
                }
            } else {
                notes.push(
                    "One node: it survives drive failures, not the loss of the host.".to_string(),
                );
            }
            notes.push(format!(
                "RAM: MinIO's guidance for {} TiB per node is {} GiB.",
                s.tib_per_node, s.ram_guidance_gib
            ));
        }
    }
    notes
}

/// Splits a sentence into lines of at most `width` characters at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The STANDARD storage class line, when the plan sets a parity (0 = MinIO's default,
/// so nothing is written): MinIO reads MINIO_STORAGE_CLASS_STANDARD=EC:<parity> when it
/// formats the pool and for every object written without a storage class
/// (internal/config/storageclass/storage-class.go LookupConfig, StandardEnv).
fn storage_class(ctx: &Ctx) -> Option<String> {
    let p = ctx.plan.minio.parity;
    (p > 0).then(|| format!("EC:{p}"))
}

fn env_file(ctx: &Ctx, h: &Host) -> File {
    let layout = Layout::of(ctx.plan);
    let ev = |s: &str| Format::EnvFile.value(s);
    let notes = Comment::Hash.lines(&layout_notes(ctx, layout).join("\n"));
    let monitoring = ctx
        .topology
        .first(Role::Monitoring)
        .map(|m| m.ip.to_string())
        .unwrap_or_default();
    let body = format!(
        r#"{header}{about}{notes}#
{drives}
# Every drive of the pool, with MinIO's {{1...n}} ellipsis over hosts and drives.
MINIO_VOLUMES={volumes}
# S3 API on :{api} (all addresses; HAProxy's VIP balances the nodes), console on :{console}.
MINIO_OPTS="--console-address :{console}"
MINIO_ROOT_USER={root_user}
MINIO_ROOT_PASSWORD={root_password}
# Prometheus scrapes /minio/v2/metrics/cluster without a bearer token (private network).
MINIO_PROMETHEUS_AUTH_TYPE=public
# The console draws its usage graphs from Prometheus, from this job's series.
MINIO_PROMETHEUS_URL={prometheus_url}
MINIO_PROMETHEUS_JOB_ID={job}
{storage_class}# Not set: MINIO_SERVER_URL (only for presigned links behind a proxy; the console then
# talks to the local node) and MINIO_SITE_REGION (MinIO's default us-east-1 is the
# signing region the S3 storage provider uses when the playbook's
# matrix_synapse_ext_synapse_s3_storage_provider_config_region_name is empty).
"#,
        header = ctx.header(Comment::Hash),
        about = Comment::Hash.lines(&format!(
            "\n\
             MinIO on {fqdn}. Read by systemd (EnvironmentFile= of minio.service, which passes\n\
             these variables into the container) and sourced by the scripts in /usr/local/sbin.\n\
             Same values on every node: MinIO refuses to join nodes whose settings differ.\n",
            fqdn = h.fqdn,
        )),
        drives = Comment::Hash.lines(&format!(
            "Drives: one XFS filesystem per drive (MinIO's recommendation: XFS, no RAID or LVM\n\
             underneath, one mount per drive), mounted at {mounts} by UUID or\n\
             label in /etc/fstab. minio.service refuses to start while one is not mounted, so\n\
             MinIO never writes into the root filesystem's empty directory.",
            mounts = mounts(layout).join(", "),
        )),
        volumes = ev(&volumes(layout, &ctx.topology.suffix)),
        api = ports::MINIO_API,
        console = ports::MINIO_CONSOLE,
        root_user = ROOT_USER,
        root_password = ev(ctx.secret(SecretId::MinioRootPassword)),
        prometheus_url = ev(&format!("http://{monitoring}:{}", ports::PROMETHEUS)),
        job = PROMETHEUS_JOB,
        storage_class = match storage_class(ctx) {
            Some(ec) => format!(
                "{}MINIO_STORAGE_CLASS_STANDARD={}\n",
                Comment::Hash.lines(&format!(
                    "Parity of every object (the STANDARD storage class), from minio.parity: {} TiB usable.\n\
                     Objects keep the parity they were written with: changing it later affects new\n\
                     objects only (MinIO docs, Erasure Coding).",
                    ctx.report.object_storage.usable_tib
                )),
                ev(&ec)
            ),
            None => String::new(),
        },
    );
    File::new(
        format!("hosts/{}/etc/default/minio", h.name),
        Scope::Role(Role::Minio),
        "MinIO environment: the pool's drives (ellipsis), root credentials, console and metrics settings.",
        body,
    )
    .for_host(h)
    .secret()
}

/// Variables minio.service passes from its EnvironmentFile into the container.
pub const CONTAINER_ENV: &[&str] = &[
    "MINIO_ROOT_USER",
    "MINIO_ROOT_PASSWORD",
    "MINIO_PROMETHEUS_AUTH_TYPE",
    "MINIO_PROMETHEUS_URL",
    "MINIO_PROMETHEUS_JOB_ID",
];

/// Every variable of the env file the unit passes into the container: [`CONTAINER_ENV`]
/// and, when the plan sets a parity, MINIO_STORAGE_CLASS_STANDARD.
pub fn container_env(ctx: &Ctx) -> Vec<&'static str> {
    let mut v = CONTAINER_ENV.to_vec();
    if storage_class(ctx).is_some() {
        v.push("MINIO_STORAGE_CLASS_STANDARD");
    }
    v
}

fn unit(ctx: &Ctx, h: &Host) -> File {
    let layout = Layout::of(ctx.plan);
    let mounts = mounts(layout);
    let sv = |s: &str| Format::Systemd.value(s);
    let asserts: String = mounts
        .iter()
        .map(|m| format!("AssertPathIsMountPoint={}\n", sv(m)))
        .collect();
    let volumes: String = mounts
        .iter()
        .map(|m| format!("  --volume {} \\\n", sv(&format!("{m}:{m}"))))
        .collect();
    let env: String = container_env(ctx)
        .iter()
        .map(|v| format!("  --env {v} \\\n"))
        .collect();
    let body = format!(
        r#"{header}{about}# Install: sudo systemctl daemon-reload && sudo systemctl enable --now minio
# Start every node within a few minutes: each waits for the others to form the pool.
[Unit]
Description=MinIO object storage ({image})
Documentation=https://github.com/minio/minio
Requires=docker.service
After=docker.service network-online.target
Wants=network-online.target
RequiresMountsFor={mount_list}
{asserts}
[Service]
EnvironmentFile=/etc/default/minio
# A container left over from a crash would block the name.
ExecStartPre=-/usr/bin/docker rm --force minio
# Credentials reach the container by name (--env NAME takes the value systemd set from
# the EnvironmentFile), never on the command line. $MINIO_OPTS splits into words,
# ${{MINIO_VOLUMES}} stays one argument.
ExecStart=/usr/bin/docker run --rm --name minio --network host \
{volumes}{env}  {image} server $MINIO_OPTS ${{MINIO_VOLUMES}}
ExecStop=/usr/bin/docker stop --time 30 minio
Restart=always
RestartSec=10
# The first start pulls the image: no start timeout (Type=simple returns at once anyway).
TimeoutStartSec=infinity
TimeoutStopSec=60

[Install]
WantedBy=multi-user.target
"#,
        header = ctx.header(Comment::Hash),
        about = Comment::Hash.lines(&format!(
            "\n\
             MinIO server on {fqdn}: the pinned image with Docker, host networking (S3 API\n\
             :{api}, console :{console}), one bind mount per data drive.",
            fqdn = h.fqdn,
            api = ports::MINIO_API,
            console = ports::MINIO_CONSOLE,
        )),
        image = MINIO_IMAGE,
        mount_list = mounts.iter().map(|m| sv(m)).collect::<Vec<_>>().join(" "),
    );
    File::new(
        format!("hosts/{}/etc/systemd/system/minio.service", h.name),
        Scope::Role(Role::Minio),
        "systemd unit running the pinned MinIO image with Docker, host networking and the data drives.",
        body,
    )
    .for_host(h)
}

/// The least-privilege policy for `synapse`: its bucket only. synapse-s3-storage-provider
/// uploads with boto3 (PutObject, multipart for large files: create/upload part/complete
/// are s3:PutObject, abort is s3:AbortMultipartUpload), downloads with GetObject, and its
/// `s3_media_upload` tool lists and deletes.
pub fn policy_document() -> String {
    let bucket = format!("arn:aws:s3:::{MEDIA_BUCKET}");
    json::pretty(&Policy {
        version: "2012-10-17",
        statement: vec![
            Statement {
                sid: "SynapseMediaBucket",
                effect: "Allow",
                action: vec![
                    "s3:GetBucketLocation",
                    "s3:ListBucket",
                    "s3:ListBucketMultipartUploads",
                ],
                resource: vec![bucket.clone()],
            },
            Statement {
                sid: "SynapseMediaObjects",
                effect: "Allow",
                action: vec![
                    "s3:GetObject",
                    "s3:PutObject",
                    "s3:DeleteObject",
                    "s3:AbortMultipartUpload",
                    "s3:ListMultipartUploadParts",
                ],
                resource: vec![format!("{bucket}/*")],
            },
        ],
    })
}

/// An IAM policy document, its keys in the order AWS's documentation writes them
/// (a `serde_json::Value` would sort them).
#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct Policy {
    version: &'static str,
    statement: Vec<Statement>,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct Statement {
    sid: &'static str,
    effect: &'static str,
    action: Vec<&'static str>,
    resource: Vec<String>,
}

fn policy_json(first: &Host) -> File {
    // JSON has no comments, so no header: the README and the setup script say where it
    // comes from.
    File::new(
        format!("hosts/{}{POLICY_PATH}", first.name),
        Scope::Role(Role::Minio),
        format!(
            "IAM policy `{POLICY}`: read/write/delete in bucket {MEDIA_BUCKET} only (no other bucket, no admin)."
        ),
        policy_document(),
    )
    .for_host(first)
}

fn synapse_env(ctx: &Ctx, first: &Host) -> File {
    let body = format!(
        "{}# The MinIO user Synapse's S3 storage provider signs with (vault: {}).\n\
         # Read by {SETUP_SCRIPT}.\n\
         MINIO_SYNAPSE_ACCESS_KEY={MINIO_SYNAPSE_USER}\n\
         MINIO_SYNAPSE_SECRET_KEY={}\n",
        ctx.header(Comment::Hash),
        SecretId::MinioSynapseSecretKey.vault_var(),
        Format::EnvFile.value(ctx.secret(SecretId::MinioSynapseSecretKey)),
    );
    File::new(
        format!("hosts/{}{SYNAPSE_ENV_PATH}", first.name),
        Scope::Role(Role::Minio),
        "Access and secret key of the MinIO user `synapse`, for the bucket setup script.",
        body,
    )
    .for_host(first)
    .secret()
}

/// The shell function every script runs mc through: the pinned mc image on the host
/// network, a throw-away config directory, /etc/minio readable inside. `MC_TIMEOUT`
/// bounds each call.
fn mc_function() -> String {
    format!(
        r#"MC_IMAGE="{MC_IMAGE}"
mc_config="$(mktemp -d)"
trap 'rm -rf "$mc_config"' EXIT
# mc in a container: Debian's `mc` is Midnight Commander. The aliases live in a
# throw-away directory, so no credentials stay on disk after the script.
mc() {{
  timeout "${{MC_TIMEOUT:-120}}" docker run --rm --interactive --network host \
    --volume "$mc_config:/mc" --volume /etc/minio:/etc/minio:ro \
    "$MC_IMAGE" --config-dir /mc "$@"
}}
"#
    )
}

fn setup_script(ctx: &Ctx, first: &Host) -> File {
    let body = format!(
        r#"#!/usr/bin/env bash
{header}#
{about}#   sudo {SETUP_SCRIPT}
# Safe to run again: the bucket is kept (mb --ignore-existing), the policy replaced,
# the user's key set again, an attachment already in place is accepted.
#
#  1. alias `cluster` = this node's S3 API with the root user (keys read from stdin,
#     never on a command line);
#  2. bucket {MEDIA_BUCKET}, anonymous access off: Synapse serves media itself, so nothing in
#     the bucket is public (the seed's deprecated top-level "policy" command to make it
#     downloadable is a no-op stub since 2022, and public media would be wrong anyway);
#  3. policy {POLICY} from {POLICY_PATH}: this bucket only;
#  4. user {MINIO_SYNAPSE_USER} with its key from {SYNAPSE_ENV_PATH}, policy attached (the
#     seed's `readwrite` would grant every bucket and bucket administration);
#  5. as {MINIO_SYNAPSE_USER}: write, read and delete one object; listing all buckets must fail.
# mc runs from the pinned image {MC_IMAGE}: pull it while online.
set -euo pipefail

{host}
if [ "$(id -u)" -ne 0 ]; then
  echo "run as root (reads /etc/default/minio)" >&2
  exit 1
fi
for f in /etc/default/minio {SYNAPSE_ENV_PATH} {POLICY_PATH}; do
  [ -r "$f" ] || {{ echo "missing $f: install this bundle's files for $host first" >&2; exit 1; }}
done
# shellcheck source=/dev/null
. /etc/default/minio
# shellcheck source=/dev/null
. {SYNAPSE_ENV_PATH}

{mc}
url="http://127.0.0.1:{api}"
printf '%s\n%s\n' "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" | mc alias set cluster "$url" > /dev/null
echo "waiting until the cluster has write quorum (at most 10 minutes)"
MC_TIMEOUT=600 mc ready cluster > /dev/null

mc mb --ignore-existing "cluster/{MEDIA_BUCKET}"
mc anonymous set private "cluster/{MEDIA_BUCKET}"
mc admin policy create cluster {POLICY} {POLICY_PATH}
printf '%s\n%s\n' "$MINIO_SYNAPSE_ACCESS_KEY" "$MINIO_SYNAPSE_SECRET_KEY" | mc admin user add cluster > /dev/null
mc admin policy attach cluster {POLICY} --user "$MINIO_SYNAPSE_ACCESS_KEY"
mc admin user info cluster "$MINIO_SYNAPSE_ACCESS_KEY"
mc anonymous get "cluster/{MEDIA_BUCKET}"

# The user's view: exactly what Synapse will be able to do.
printf '%s\n%s\n' "$MINIO_SYNAPSE_ACCESS_KEY" "$MINIO_SYNAPSE_SECRET_KEY" | mc alias set synapse-check "$url" > /dev/null
probe="synapse-check/{MEDIA_BUCKET}/.synapse-planner-setup-probe"
echo "written by {SETUP_SCRIPT}" | mc pipe "$probe" > /dev/null
mc stat "$probe" > /dev/null
mc rm "$probe" > /dev/null
if mc ls synapse-check/ > /dev/null 2>&1; then
  echo "FAIL: user {MINIO_SYNAPSE_USER} can list every bucket: the policy is broader than {MEDIA_BUCKET}" >&2
  exit 1
fi
echo "OK: bucket {MEDIA_BUCKET}, policy {POLICY}, user {MINIO_SYNAPSE_USER} can write, read and delete there and nothing else"
"#,
        header = ctx.header(Comment::Hash),
        about = Comment::Hash.lines(&format!(
            "Creates what Synapse needs on the MinIO cluster, and checks it, as root on {}\n\
             once every node's minio.service runs:",
            first.fqdn
        )),
        host = shell::assign("host", &first.name),
        mc = mc_function(),
        api = ports::MINIO_API,
    );
    File::new(
        format!("hosts/{}{SETUP_SCRIPT}", first.name),
        Scope::Role(Role::Minio),
        format!("Run once on the first MinIO node: bucket {MEDIA_BUCKET}, least-privilege policy, user {MINIO_SYNAPSE_USER}, then checks them as that user."),
        body,
    )
    .for_host(first)
    .script()
}

fn health_script(ctx: &Ctx, h: &Host) -> File {
    let layout = Layout::of(ctx.plan);
    let erasure_check = match layout {
        Layout::SingleDrive => {
            "# Single drive: no erasure sets and nothing to heal; the drive's state is all.\n"
                .to_string()
        }
        _ => r#"# Erasure sets, from the background heal status: a drive counts as ready when it is
# "ok" and not healing; one missing from the list (its node is offline) counts as not.
per_set="$(jq -c '.info.backend.totalDrivesPerSet // []' <<< "$info")"
heal="$(mc admin heal --json cluster/)" || { echo "CRITICAL: no heal status from $url" >&2; exit 2; }
if [ "$(jq -r '.status' <<< "$heal")" != "success" ]; then
  echo "CRITICAL: heal status failed: $(jq -r '.error // empty' <<< "$heal")" >&2
  exit 2
fi
sets="$(jq -r --argjson per "$per_set" '
  (.HealInfo.sc_parity.STANDARD // 0) as $m
  | .HealInfo.sets // []
  | .[]
  | ([.disks[]? | select(.state == "ok" and (.healing | not))] | length) as $ready
  | ($per[.pool_index] // (.disks | length)) as $n
  | "\(.pool_index + 1) \(.set_index + 1) \($n) \($ready) \($m)"' <<< "$heal")"
while read -r pool eset n ready parity; do
  [ -n "$pool" ] || continue
  down=$((n - ready))
  if [ "$down" -gt "$parity" ]; then
    say "CRITICAL: pool $pool set $eset: $down of $n drives not ready, parity $parity: objects are unreadable"
    status=2
  elif [ "$down" -gt 0 ]; then
    say "DEGRADED: pool $pool set $eset: $down of $n drives not ready (tolerates $parity)"
    [ "$status" -ge 1 ] || status=1
  else
    say "ok: pool $pool set $eset: $n of $n drives ready, tolerates $parity"
  fi
done <<< "$sets"
"#
        .to_string(),
    };
    let body = format!(
        r#"#!/usr/bin/env bash
{header}#
# MinIO health for cron or by hand, on any MinIO node (it asks the whole cluster):
#   sudo {HEALTH_SCRIPT} [--quiet] [URL]       (URL default http://127.0.0.1:{api})
# Exit 0: every node online, every drive ok, no healing.
# Exit 1: degraded (a node or drive offline or healing) but every erasure set still
#         has quorum.
# Exit 2: MinIO does not answer, or an erasure set lost quorum (more drives out than
#         its parity).
# Prometheus alerts on the same facts (MinIO rules); this is the view from the node.
# Cron example (/etc/cron.d/minio-health-check, logs to syslog):
#   */15 * * * * root {HEALTH_SCRIPT} --quiet 2>&1 | logger -t minio-health
# Needs jq (Debian package) and the pinned mc image {MC_IMAGE} (pull it while online).
set -euo pipefail

quiet=""
url="http://127.0.0.1:{api}"
for arg in "$@"; do
  case "$arg" in
    --quiet) quiet=1 ;;
    http://*|https://*) url="$arg" ;;
    *) echo "usage: $0 [--quiet] [URL]" >&2; exit 2 ;;
  esac
done
say() {{
  if [ -z "$quiet" ] || [[ "$1" != ok:* ]]; then
    echo "$1"
  fi
}}
command -v jq > /dev/null || {{ echo "jq is missing: apt-get install jq" >&2; exit 2; }}
# shellcheck source=/dev/null
. /etc/default/minio

{mc}
printf '%s\n%s\n' "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" | mc alias set cluster "$url" > /dev/null \
  || {{ echo "CRITICAL: cannot reach MinIO at $url" >&2; exit 2; }}

status=0
info="$(mc admin info --json cluster)" || {{ echo "CRITICAL: no answer from $url" >&2; exit 2; }}
if [ "$(jq -r '.status' <<< "$info")" != "success" ]; then
  echo "CRITICAL: $(jq -r '.error // "admin info failed"' <<< "$info")" >&2
  exit 2
fi
offline_nodes="$(jq -r '[.info.servers[]? | select(.state != "online") | .endpoint] | join(" ")' <<< "$info")"
bad_drives="$(jq -r '[.info.servers[]?.drives[]? | select(.state != "ok") | "\(.endpoint // .path) (\(.state))"] | join(" ")' <<< "$info")"
healing="$(jq -r '[.info.servers[]?.drives[]? | select(.healing == true) | (.endpoint // .path)] | join(" ")' <<< "$info")"
if [ -n "$offline_nodes" ]; then say "DEGRADED: nodes offline: $offline_nodes"; status=1; fi
if [ -n "$bad_drives" ]; then say "DEGRADED: drives not ok: $bad_drives"; status=1; fi
if [ -n "$healing" ]; then say "DEGRADED: drives healing: $healing"; status=1; fi
say "ok: $(jq -r '"\(.info.backend.onlineDisks // 0) drives online, \(.info.backend.offlineDisks // 0) offline"' <<< "$info")"

{erasure_check}
exit "$status"
"#,
        header = ctx.header(Comment::Hash),
        mc = mc_function(),
        api = ports::MINIO_API,
    );
    File::new(
        format!("hosts/{}{HEALTH_SCRIPT}", h.name),
        Scope::Role(Role::Minio),
        "MinIO health/heal check (nodes, drives, erasure-set quorum); exit 0 ok, 1 degraded, 2 down or quorum lost.",
        body,
    )
    .for_host(h)
    .script()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_layout(
        nodes: u64,
        drives: u64,
        volumes_want: &str,
        erasure_want: Option<(u64, u64, u64)>,
    ) {
        let l = Layout::new(nodes, drives);
        assert_eq!(volumes(l, "internal"), volumes_want, "{nodes}×{drives}");
        assert_eq!(
            erasure(l).map(|e| (e.set_size, e.sets, e.parity)),
            erasure_want,
            "{nodes}×{drives}"
        );
    }

    #[test]
    fn layouts() {
        // (nodes, drives, MINIO_VOLUMES, (set size, sets, parity))
        check_layout(1, 1, "/data1", None);
        check_layout(1, 4, "/data{1...4}", Some((4, 1, 2)));
        check_layout(1, 2, "/data{1...2}", Some((2, 1, 1)));
        check_layout(
            4,
            4,
            "http://minio{1...4}.internal:9000/data{1...4}",
            Some((16, 1, 4)),
        );
        check_layout(
            8,
            8,
            "http://minio{1...8}.internal:9000/data{1...8}",
            Some((16, 4, 4)),
        );
        check_layout(
            8,
            4,
            "http://minio{1...8}.internal:9000/data{1...4}",
            Some((16, 2, 4)),
        );
        check_layout(
            4,
            1,
            "http://minio{1...4}.internal:9000/data1",
            Some((4, 1, 2)),
        );
        check_layout(
            3,
            1,
            "http://minio{1...3}.internal:9000/data1",
            Some((3, 1, 1)),
        );
        check_layout(
            6,
            2,
            "http://minio{1...6}.internal:9000/data{1...2}",
            Some((12, 1, 4)),
        );
        check_layout(
            5,
            4,
            "http://minio{1...5}.internal:9000/data{1...4}",
            Some((10, 2, 4)),
        );
        // 17 nodes × 1 drive: 17 is prime, no set size 2..16 divides it.
        check_layout(17, 1, "http://minio{1...17}.internal:9000/data1", None);
        // 7 × 2 = 14: set size 14 is symmetric with 7 nodes.
        check_layout(
            7,
            2,
            "http://minio{1...7}.internal:9000/data{1...2}",
            Some((14, 1, 4)),
        );
    }

    #[test]
    fn ellipsis_expands_to_the_plans_drive_count() {
        for (n, d) in [(1, 1), (1, 3), (4, 4), (8, 4), (16, 16)] {
            let v = volumes(Layout::new(n, d), "x");
            let count = |s: &str| {
                s.find("...").map_or(1, |i| {
                    let open = s[..i].rfind('{').unwrap();
                    let close = i + s[i..].find('}').unwrap();
                    let a: u64 = s[open + 1..i].parse().unwrap();
                    let b: u64 = s[i + 3..close].parse().unwrap();
                    b - a + 1
                })
            };
            let (hosts, drives) = match v.rfind("/data") {
                Some(i) => (count(&v[..i]), count(&v[i..])),
                None => unreachable!(),
            };
            assert_eq!(hosts * drives, n * d, "{v}");
        }
    }

    #[test]
    fn policy_is_json_for_the_bucket_only() {
        let v: serde_json::Value = serde_json::from_str(&policy_document()).unwrap();
        let mut resources = Vec::new();
        for s in v["Statement"].as_array().unwrap() {
            assert_eq!(s["Effect"], "Allow");
            for r in s["Resource"].as_array().unwrap() {
                resources.push(r.as_str().unwrap().to_string());
            }
        }
        assert_eq!(
            resources,
            ["arn:aws:s3:::synapse-media", "arn:aws:s3:::synapse-media/*"]
        );
    }

    #[test]
    fn root_user_length_is_one_minio_accepts() {
        assert!((3..=20).contains(&ROOT_USER.len()));
    }
}

//! Media backups: rclone's remote for the MinIO bucket, the daily snapshot script and
//! the restore script.

use super::super::postgres::fill;
use super::super::{Comment, Ctx, File, Host, Scope, SecretId, ports};
use super::*;
use crate::deploy::facts::{MEDIA_SCRIPT, MINIO_SYNAPSE_USER};
use crate::plan::Role;
use crate::syntax::conf::Format;
use crate::syntax::shell;

/// rclone's remote for the media bucket (root, 0600: it holds the MinIO secret).
pub(super) const RCLONE_CONF: &str = "/etc/synapse-planner/rclone.conf";
/// A media snapshot back into the bucket and the media store.
pub(super) const MEDIA_RESTORE_SCRIPT: &str = "/usr/local/sbin/restore-media.sh";
/// The seed's rsync --bwlimit (50000 KB/s), for rsync and rclone alike.
const BWLIMIT: &str = "50M";

pub(super) fn rclone_conf(ctx: &Ctx, h: &Host) -> File {
    let body = format!(
        "{header}# rclone (Debian 12's 1.60) remote for the media bucket: MinIO through HAProxy on the VIP,
# as MinIO user {MINIO_SYNAPSE_USER} (the same user Synapse's storage provider writes with).
# rclone, not MinIO's mc (not in Debian: Debian's mc is Midnight Commander), not s3cmd:
# rclone syncs a bucket into a directory with checksums and deletions, resumes, limits
# bandwidth, and its --immutable mode refuses to rewrite a file in place, which keeps
# hard-linked snapshots intact.
[minio]
type = s3
provider = Minio
endpoint = {endpoint}
access_key_id = {user}
secret_access_key = {secret}
region = us-east-1
# The bucket exists (MinIO setup); the user need not be allowed to create buckets.
no_check_bucket = true
",
        header = ctx.header(Comment::Hash),
        endpoint = Format::Words.value(&format!("http://{}:{}", ctx.topology.vip, ports::MINIO_API)),
        user = Format::Words.value(MINIO_SYNAPSE_USER),
        secret = Format::Words.value(ctx.secret(SecretId::MinioSynapseSecretKey)),
    );
    File::new(
        format!("hosts/{}{RCLONE_CONF}", h.name),
        Scope::Role(Role::Backup),
        "rclone remote for the MinIO media bucket (media backups and restores).",
        body,
    )
    .for_host(h)
    .secret()
}

/// The placeholders of the media scripts; `about` is the script's description (comment
/// text, written with the comment writer).
fn media_values(ctx: &Ctx, about: &str) -> Vec<(&'static str, String)> {
    let mut values = script_common(ctx);
    values.extend([
        ("@ABOUT@", Comment::Hash.lines(about)),
        (
            "@ASSIGN_LOCAL@",
            shell::assign(
                "synapse_media",
                &format!("root@{}:{MEDIA_STORE}/", synapse_fqdn(ctx)),
            ),
        ),
        ("@ROOT@", MEDIA_SNAPSHOTS.to_string()),
        ("@KEEP@", media_snapshots(ctx).to_string()),
        ("@RCLONE_CONF@", RCLONE_CONF.to_string()),
        ("@BUCKET@", MEDIA_BUCKET.to_string()),
        ("@OWNER@", format!("{MATRIX_USER}:{MATRIX_USER}")),
        ("@BWLIMIT@", BWLIMIT.to_string()),
    ]);
    values
}

pub(super) fn media_backup(ctx: &Ctx, h: &Host) -> File {
    let body = fill(
        r##"#!/usr/bin/env bash
@HEADER@@ABOUT@set -euo pipefail

@METRICS_FN@
# The local media store on the Synapse host, for rsync over SSH.
@ASSIGN_LOCAL@
root="${MEDIA_BACKUP_ROOT:-@ROOT@}"
keep="${MEDIA_SNAPSHOTS:-@KEEP@}"
rclone_conf="${RCLONE_CONFIG:-@RCLONE_CONF@}"
s3_source="${MEDIA_S3_SOURCE:-minio:@BUCKET@}"
local_source="${MEDIA_LOCAL_SOURCE:-$synapse_media}"
bwlimit="${MEDIA_BWLIMIT:-@BWLIMIT@}"

renice -n 19 -p $$ > /dev/null
ionice -c 3 -p $$

mkdir -p "$root/current/s3" "$root/current/local" "$root/snapshots"
exec 9> "$root/.lock"
if ! flock -n 9; then
  echo "another media backup is running" >&2
  exit 1
fi

start="$(date +%s)"
status=0
# 1. The bucket.
rclone --config "$rclone_conf" sync "$s3_source" "$root/current/s3" \
  --immutable --bwlimit "$bwlimit" --fast-list --transfers 4 --checkers 8 \
  --exclude '/remote_content/**' --exclude '/remote_thumbnail/**' \
  --exclude '/url_cache/**' --exclude '/url_cache_thumbnails/**' || status=$?
# 2. The local media store (files not yet moved to the bucket).
if [ "$status" -eq 0 ]; then
  rsync -a --delete --numeric-ids --partial-dir=.rsync-partial --bwlimit="$bwlimit" \
    --include='/local_content/***' --include='/local_thumbnails/***' --exclude='*' \
    "$local_source" "$root/current/local/" || status=$?
fi
# 3. The snapshot, complete or not at all.
if [ "$status" -eq 0 ]; then
  stamp="$(date -u +%Y%m%dT%H%M%SZ)"
  cp -al "$root/current" "$root/snapshots/$stamp.partial"
  mv -T "$root/snapshots/$stamp.partial" "$root/snapshots/$stamp"
  # 4. Keep the newest snapshots only.
  find "$root/snapshots" -mindepth 1 -maxdepth 1 -type d -name '*Z' -printf '%f\n' | sort -r \
    | tail -n +"$((keep + 1))" | while read -r old; do rm -rf -- "${root:?}/snapshots/$old"; done
fi
write_metrics media full "$status" "$start"
exit "$status"
"##,
        &media_values(
            ctx,
            &format!(
                "
Media backup on {name} (seed §5, corrected). Synapse's media live in the MinIO bucket
{MEDIA_BUCKET} (synapse-s3-storage-provider) and, until they are moved there, in the local
media store on {synapse} ({MEDIA_STORE}). Both are mirrored into
{MEDIA_SNAPSHOTS}/current (s3/ and local/), then frozen as a snapshot of hard links: an
unchanged file costs no space twice. The newest {keep} snapshots are kept.

Only what cannot be fetched again is copied (Synapse docs, \"How to back up a Synapse
homeserver\"): local_content and local_thumbnails, not remote_* (cached from other
servers) nor url_cache* (URL previews).

Unlike the seed's rsync line: no --append-verify/--inplace (they write into the
existing file, which every snapshot shares through its hard link, so one changed
file would change every snapshot) and no -z (media are compressed already).
rsync writes a new file and renames it over the old; rclone (1.60 writes in place)
runs with --immutable, which refuses to modify an existing file (Synapse never
rewrites a media file: a changed one fails the backup, and Prometheus sees it, instead
of silently rewriting every snapshot). Run by cron at nice 19 / ionice idle; it lowers
its own priority too. The environment may override the defaults below.",
                name = h.name,
                synapse = synapse_fqdn(ctx),
                keep = media_snapshots(ctx),
            ),
        ),
    );
    File::new(
        format!("hosts/{}{MEDIA_SCRIPT}", h.name),
        Scope::Role(Role::Backup),
        "Daily media backup: the MinIO bucket (rclone) and the local media store (rsync) into hard-link snapshots.",
        body,
    )
    .for_host(h)
    .script()
}

pub(super) fn media_restore(ctx: &Ctx, h: &Host) -> File {
    let body = fill(
        r##"#!/usr/bin/env bash
@HEADER@@ABOUT@set -euo pipefail

# The local media store on the Synapse host, for rsync over SSH.
@ASSIGN_LOCAL@
root="${MEDIA_BACKUP_ROOT:-@ROOT@}"
rclone_conf="${RCLONE_CONFIG:-@RCLONE_CONF@}"
s3_target="${MEDIA_S3_TARGET:-minio:@BUCKET@}"
local_target="${MEDIA_LOCAL_TARGET:-$synapse_media}"
owner="${MEDIA_OWNER-@OWNER@}"

snapshot="${1:-}"
if [ -z "$snapshot" ]; then
  snapshot="$(find "$root/snapshots" -mindepth 1 -maxdepth 1 -type d -name '*Z' -printf '%f\n' | sort -r | head -n 1)"
fi
src="$root/snapshots/$snapshot"
if [ -z "$snapshot" ] || [ ! -d "$src/s3" ] || [ ! -d "$src/local" ]; then
  echo "no snapshot '$snapshot' in $root/snapshots" >&2
  exit 1
fi
echo "restoring media from $src"

rclone --config "$rclone_conf" copy "$src/s3" "$s3_target" --immutable --transfers 8
rsync -a --numeric-ids "$src/local/" "$local_target"

# The playbook runs Synapse as @OWNER@.
if [ -n "$owner" ]; then
  case "$local_target" in
    *:*)
      # ssh hands the remote shell one command line: each word in it quoted with %q.
      # shellcheck disable=SC2029 # expanded here on purpose: the command is sent as text
      ssh "${local_target%%:*}" "chown -R -- $(printf '%q' "$owner") $(printf '%q' "${local_target#*:}")"
      ;;
    *) chown -R "$owner" "$local_target" ;;
  esac
fi
echo "media restored from $snapshot"
"##,
        &media_values(
            ctx,
            &format!(
                "
Media restore on {name}: copies a snapshot back into the MinIO bucket {MEDIA_BUCKET} and
the local media store on {synapse}.
  restore-media.sh [SNAPSHOT]     (a name under {MEDIA_SNAPSHOTS}/snapshots; the newest without)
Copies only, never deletes: media uploaded after the snapshot stay. Files that exist
in both places with other contents are reported, not overwritten (--immutable).
Synapse may keep running: a media file appears when it is complete.",
                name = h.name,
                synapse = synapse_fqdn(ctx),
            ),
        ),
    );
    File::new(
        format!("hosts/{}{MEDIA_RESTORE_SCRIPT}", h.name),
        Scope::Role(Role::Backup),
        "Media restore: a snapshot back into the MinIO bucket and the Synapse host's media store.",
        body,
    )
    .for_host(h)
    .script()
}

# shellcheck shell=bash
# The object store (layer 8): an S3 server in place of MinIO, behind the bundle's HAProxy
# on the VIP, with the bucket the bundle's minio-setup-bucket.sh makes; the object-store
# drill. Sourced by scripts/lab.sh.
#
# Why not MinIO: its server is not in the package registries this machine reaches
# (Debian, PyPI, npm, crates), and its community repository is source-only since
# 2025-10-15. The stand-in is moto's S3 server (PyPI moto[server] 5.2.6, in the venv),
# which speaks the S3 API Synapse's storage provider and rclone use. Substitutions, each
# because of the stand-in:
# - one S3 server on the first MinIO host at MinIO's address and port (9000); moto has no
#   erasure-coded, multi-node mode, so the other MinIO hosts run nothing and HAProxy's
#   checks mark them down, which also shows HAProxy routing around dead MinIO nodes;
# - MinIO's liveness path, which HAProxy's check requests (GET /minio/health/live), is
#   answered by a public object at that key (bucket "minio", key "health/live");
# - minio-setup-bucket.sh runs `mc` from a container image; the lab makes its bucket
#   with boto3 instead. moto does not enforce IAM policies on S3 requests, so the
#   script's user and policy (synapse-media-rw) are not checked here; the bundle's
#   validate_objectstore tests check the policy document.

minio_hosts() { planned_hosts | awk '$2 ~ /^minio[0-9]+$/ { print $2 }'; }

lab_python() { echo "${SYNAPSE_PLANNER_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/synapse-planner/venv}/bin/python"; }

# S3 with the keys Synapse uses (vars.yml's storage provider settings), from HOST to
# ENDPOINT: `s3 HOST ENDPOINT PYTHON-STATEMENTS` with `s3` bound to a boto3 client.
s3() {
  local host="$1" endpoint="$2" code="$3"
  on "$host" env -u AWS_CA_BUNDLE "$(lab_python)" -c 'import sys, time, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=sys.argv[1], aws_access_key_id="synapse",
                  aws_secret_access_key=sys.argv[2], region_name="us-east-1",
                  config=Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": 1}))
exec(sys.argv[3])' "$endpoint" "$(vault vault_minio_synapse_secret_key)" "$code"
}

start_objectstore() {
  local h addr
  h="$(minio_hosts | head -n 1)"
  [ -n "$h" ] || die "the plan has no MinIO host"
  addr="$(address_of "$h")"
  daemon "$h" moto env -u AWS_CA_BUNDLE "$(dirname "$(lab_python)")/moto_server" -H "$addr" -p 9000
  wait_for "the S3 server on $h" 30 s3_answers "$h" "http://$addr:9000"
  # What minio-setup-bucket.sh makes (mb, anonymous private), and the health object.
  s3 "$h" "http://$addr:9000" '
s3.create_bucket(Bucket="synapse-media")
s3.create_bucket(Bucket="minio")
s3.put_object(Bucket="minio", Key="health/live", Body=b"", ACL="public-read")'
}
s3_answers() { s3 "$1" "$2" 's3.list_buckets()' > /dev/null 2>&1; }

# Drill: Synapse's path to its media (the storage provider's endpoint in vars.yml, the
# VIP's port 9000 through HAProxy) writes, reads and deletes objects of 1 MiB with
# Synapse's keys, and the backup host's rclone with the bundle's rclone.conf copies the
# bucket (the S3 half of backup-media.sh).
cmd_drill_objectstore() {
  lab_begin "${1:-}"
  mkdir -p "$LAB_DIR/logs"
  start_edge
  start_objectstore
  local vars endpoint
  vars="$(ls "$LAB_DIR"/bundle/ansible/inventory/host_vars/*/vars.yml)"
  endpoint="$(sed -n "s/^matrix_synapse_ext_synapse_s3_storage_provider_config_endpoint_url: '\\(.*\\)'$/\\1/p" "$vars")"
  [ -n "$endpoint" ] || die "vars.yml names no storage provider endpoint"
  # HAProxy marks the S3 server up after `rise` checks.
  wait_for "S3 through $endpoint" 30 s3_answers synapse "$endpoint"
  s3 synapse "$endpoint" '
import os
body = os.urandom(1 << 20)
t = time.monotonic()
for i in range(20):
    s3.put_object(Bucket="synapse-media", Key="local_content/lab/%d" % i, Body=body)
put = time.monotonic() - t
t = time.monotonic()
for i in range(20):
    assert s3.get_object(Bucket="synapse-media", Key="local_content/lab/%d" % i)["Body"].read() == body
get = time.monotonic() - t
s3.delete_object(Bucket="synapse-media", Key="local_content/lab/19")
print("objectstore: through %s with Synapse'"'"'s keys: 20 puts of 1 MiB in %.2f s, 20 gets in %.2f s, read back equal" % (sys.argv[1], put, get))'
  local copied
  on backup env -u AWS_CA_BUNDLE rclone --config "$LAB_DIR/bundle/hosts/backup/etc/synapse-planner/rclone.conf" \
    --contimeout 2s --timeout 10s copy minio:synapse-media "$LAB_DIR/media-copy" ||
    die "rclone with the bundle's rclone.conf could not copy the bucket"
  copied="$(find "$LAB_DIR/media-copy" -type f | wc -l)"
  echo "objectstore: the backup host's rclone (bundle's rclone.conf) copied $copied objects"
  echo "objectstore: HAProxy's MinIO servers: $(minio_states)"
}

# "name state" of each MinIO server in HAProxy on the VIP holder, from its stats CSV.
minio_states() {
  local vip
  vip="$(vip_address)"
  on "$(vip_holder "$vip")" curl -s -m 2 -u "admin:$(vault vault_haproxy_stats_password)" \
    "http://$vip:8404/stats;csv" | awk -F, '$1 == "minio" && $2 != "FRONTEND" && $2 != "BACKEND" { printf "%s %s, ", $2, $18 }' | sed 's/, $//'
}

# shellcheck shell=bash
# shellcheck disable=SC2154 # $here is scripts/lab.sh's, which sources this file
# Federation (a measurement, not a test; docs/lab.md, "Federation"): a second
# homeserver on a lab namespace of its own, federating with the plan's cluster through
# the whole path (the VIP, HAProxy's 8448, the router's federation entrypoint, the
# federation reader and sender), and our database measured around each phase of
# scripts/lab/federation.py: joining rooms that live on the remote, receiving its
# users' messages, sending ours into those rooms, and the same sending in a room of our
# own (the baseline without federation). Sourced by scripts/lab.sh.
#
# The remote: Synapse from the same venv, one process, SQLite (its own storage is not
# measured), server name "remote.example.net:8448" (an explicit port: our server then
# needs neither its .well-known nor an SRV record, which would need DNS the lab does
# not have), TLS on its own listener with a certificate from a CA of its own, at
# REMOTE_ADDRESS on the lab's bridge. Its rate limits are raised so that the load is
# ours to set, and it trusts the bundle's CA (federation_custom_ca_list), as a real
# remote trusts the public CA our certificate would chain to.
#
# What changes on our side, and why (nothing else does):
# - every Synapse process trusts the remote's CA as well as the system's
#   (SSL_CERT_FILE), standing in for the public CA a real remote's certificate chains to;
# - ip_range_whitelist holds the remote's one address (a file read after the rendered
#   configuration): Synapse's default ip_range_blacklist refuses 10.0.0.0/8, where the
#   lab's bridge is, and a real remote is on a public address;
# - the Synapse host's /etc/hosts names the remote, where DNS would;
# - the router answers /.well-known/matrix/server as the playbook's static-files
#   container does (synapse.sh), always, not only here.

REMOTE_NAME=remote.example.net
REMOTE_PORT=8448
LAB_FEDERATION_REMOTE_USERS="${LAB_FEDERATION_REMOTE_USERS:-30}"
LAB_FEDERATION_LOCAL_USERS="${LAB_FEDERATION_LOCAL_USERS:-10}"
LAB_FEDERATION_ROOMS="${LAB_FEDERATION_ROOMS:-2}"
LAB_FEDERATION_MESSAGES="${LAB_FEDERATION_MESSAGES:-400}"

# A free address of the plan's subnet for the remote: the highest below the control
# machine's (backup.sh) that no planned host, nor the VIP, has.
remote_address() {
  local base last used
  base="$(address_of "$(synapse_host)")"
  base="${base%.*}"
  used="$(grep -v '^#' "$LAB_DIR/bundle/hosts/all/hosts.append" | awk '{ print $1 }')"
  for last in $(seq $((${CONTROL_ADDRESS##*.} - 1)) -1 2); do
    grep -qxF "$base.$last" <<< "$used" || {
      echo "$base.$last"
      return
    }
  done
  die "no free address left in the subnet for the remote server"
}

# The remote's certificate, from a CA of its own.
remote_certificate() {
  local d="$LAB_DIR/remote"
  (
    cd "$d" && umask 077 &&
      openssl req -x509 -new -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 30 \
        -subj "/CN=remote lab CA" -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" &&
      openssl req -new -newkey rsa:2048 -nodes -keyout tls.key -out tls.csr -subj "/CN=$REMOTE_NAME" &&
      printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:%s\n' \
        "$REMOTE_NAME" > tls.ext &&
      openssl x509 -req -in tls.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out tls.crt -days 30 -extfile tls.ext
  ) > "$LAB_DIR/logs/remote-certificate.log" 2>&1 || die "the remote's certificate: $(tail -n 5 "$LAB_DIR/logs/remote-certificate.log")"
}

# What our processes read besides the rendered configuration, set before they start.
federation_our_side() {
  local addr="$1"
  mkdir -p "$LAB_DIR/remote" "$LAB_DIR/logs"
  remote_certificate
  cat /etc/ssl/certs/ca-certificates.crt "$LAB_DIR/remote/ca.crt" > "$LAB_DIR/remote/trust.pem"
  printf '# The lab remote server'"'"'s address (federation.sh)\nip_range_whitelist:\n  - %s/32\n' \
    "$addr" > "$LAB_DIR/remote/ours.yaml"
  SYNAPSE_LAB_ENV+=("SSL_CERT_FILE=$LAB_DIR/remote/trust.pem")
  SYNAPSE_LAB_CONFIGS+=("$LAB_DIR/remote/ours.yaml")
}

# The remote server, up and answering on its federation port.
start_remote() {
  local addr="$1" d="$LAB_DIR/remote" secret vip
  vip="$(vip_address)"
  add_host "$addr" remote "$(subnet_prefix)" 249
  printf '127.0.0.1 localhost\n%s %s\n' "$vip" "$(server_name)" > "$d/hosts"
  host_etc remote hosts "$d/hosts"
  # Ours finds the remote by name (appended in place: the running processes see it).
  echo "$addr $REMOTE_NAME" >> "$LAB_DIR/synapse/hosts"
  secret="$(openssl rand -hex 24)"
  echo "$secret" > "$d/secret"
  chmod 0600 "$d/secret"
  cat > "$d/homeserver.yaml" << EOF
server_name: "$REMOTE_NAME:$REMOTE_PORT"
pid_file: $d/homeserver.pid
listeners:
  - port: $REMOTE_PORT
    bind_addresses: ['$addr']
    type: http
    tls: true
    x_forwarded: false
    resources:
      - names: [client, federation]
        compress: false
tls_certificate_path: $d/tls.crt
tls_private_key_path: $d/tls.key
database:
  name: sqlite3
  args:
    database: $d/homeserver.db
log_config: $d/log.config
media_store_path: $d/media
signing_key_path: $d/signing.key
registration_shared_secret: "$secret"
macaroon_secret_key: "$(openssl rand -hex 24)"
form_secret: "$(openssl rand -hex 24)"
report_stats: false
trusted_key_servers: []
suppress_key_server_warning: true
federation_custom_ca_list: ['$LAB_DIR/bundle/scripts/certs/ca/ca.crt']
ip_range_whitelist: ['$vip/32']
rc_message: {per_second: 1000, burst_count: 1000}
rc_registration: {per_second: 1000, burst_count: 1000}
rc_login:
  address: {per_second: 1000, burst_count: 1000}
  account: {per_second: 1000, burst_count: 1000}
rc_joins:
  local: {per_second: 1000, burst_count: 1000}
  remote: {per_second: 1000, burst_count: 1000}
rc_joins_per_room: {per_second: 1000, burst_count: 1000}
rc_invites:
  per_room: {per_second: 1000, burst_count: 1000}
  per_user: {per_second: 1000, burst_count: 1000}
rc_federation: {window_size: 1000, sleep_limit: 1000, reject_limit: 1000, concurrent: 100}
EOF
  cat > "$d/log.config" << 'EOF'
version: 1
formatters:
  f: {format: '%(asctime)s %(name)s %(levelname)s %(message)s'}
handlers:
  console: {class: logging.StreamHandler, formatter: f}
root: {level: WARNING, handlers: [console]}
disable_existing_loggers: false
EOF
  on remote "$SYNAPSE_VENV/bin/python" -m synapse.app.homeserver -c "$d/homeserver.yaml" \
    --generate-keys > /dev/null 2>&1 || die "the remote's signing key"
  daemon remote synapse env LD_PRELOAD="$SYNAPSE_JEMALLOC" \
    "$SYNAPSE_VENV/bin/python" -m synapse.app.homeserver -c "$d/homeserver.yaml"
  wait_for "the remote server's /health" 120 remote_healthy "$addr"
}

remote_healthy() {
  [ "$(on remote curl -s -o /dev/null -m 2 -w '%{http_code}' --cacert "$LAB_DIR/remote/ca.crt" \
    --resolve "$REMOTE_NAME:$REMOTE_PORT:$1" "https://$REMOTE_NAME:$REMOTE_PORT/health")" = 200 ]
}

# One phase of federation.py from the monitoring host, both servers by name through
# their TLS (ours on the VIP), with our database measured around it into DIR.
federation_phase() {
  local phase="$1" dir="$2" addr="$3" server vip client rc=0
  server="$(server_name)"
  vip="$(vip_address)"
  client="$(planned_hosts | awk '$2 == "monitoring" { print $2; exit }')"
  mkdir -p "$dir"
  db_snapshot "$dir/before.json"
  on "$client" "$(lab_python)" "$here/scripts/lab/federation.py" "$phase" \
    --state "$LAB_DIR/remote/state.json" --out "$dir/summary.json" \
    --local-url "https://$server" --remote-url "https://$REMOTE_NAME:$REMOTE_PORT" \
    --remote-server-name "$REMOTE_NAME:$REMOTE_PORT" \
    --resolve "$server:443:$vip" --resolve "$REMOTE_NAME:$REMOTE_PORT:$addr" \
    --cacert "$LAB_DIR/remote/clients.pem" \
    --local-secret-file "$LAB_DIR/remote/local-secret" --remote-secret-file "$LAB_DIR/remote/secret" \
    --remote-users "$LAB_FEDERATION_REMOTE_USERS" --local-users "$LAB_FEDERATION_LOCAL_USERS" \
    --rooms "$LAB_FEDERATION_ROOMS" --messages "$LAB_FEDERATION_MESSAGES" \
    > "$dir/federation.log" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || die "federation.py $phase failed ($rc): $(tail -n 20 "$dir/federation.log")"
  # Our federation sender's and readers' work settles before the second snapshot.
  sleep 5
  db_snapshot "$dir/after.json"
  "$(lab_python)" "$here/scripts/lab/measure.py" diff "$dir/before.json" "$dir/after.json" \
    --out "$dir/diff.json" --markdown "$dir/diff.md"
  echo "## $phase: $(tr -d '\n' < "$dir/summary.json" | tr -s ' ')"
  echo
  cat "$dir/diff.md"
  echo
}

cmd_measure_federation() {
  synapse_venv_check
  lab_begin "${1:-}"
  local addr t0 phase
  addr="$(remote_address)"
  federation_our_side "$addr"
  start_cluster
  t0="$(now)"
  start_remote "$addr"
  echo "remote: $REMOTE_NAME:$REMOTE_PORT at $addr up in $(since "$t0") s"
  python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["registration_shared_secret"])' \
    "$LAB_DIR/synapse/homeserver.yaml" > "$LAB_DIR/remote/local-secret"
  chmod 0600 "$LAB_DIR/remote/local-secret"
  cat "$LAB_DIR/bundle/scripts/certs/ca/ca.crt" "$LAB_DIR/remote/ca.crt" > "$LAB_DIR/remote/clients.pem"
  for phase in join remote local churn baseline; do
    federation_phase "$phase" "$LAB_DIR/measure/federation-$phase" "$addr"
  done
}

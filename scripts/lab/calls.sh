# shellcheck shell=bash
# Calls (layer 7, part): coturn on the coturn hosts from the bundle's turnserver.conf,
# and the TURN drill. Sourced by scripts/lab.sh.
#
# What the lab does that the operator's steps would: the certificate comes from the
# bundle's internal-ca.sh (make_certificate) and is installed where
# scripts/certs/distribute.sh puts it for the coturn hosts
# (/etc/ssl/synapse-planner/<server>/, the key readable by group turnserver); the
# bundle's sysctl file is applied in the host's namespace; turnserver runs in the
# foreground as turnserver (Debian's coturn.service user) instead of under systemd.

coturn_hosts() { planned_hosts | awk '$2 ~ /^coturn[0-9]+$/ { print $2 }'; }

start_coturn() {
  local h server ssl
  server="$(server_name)"
  [ -f "$LAB_DIR/certs/$server.pem" ] || make_certificate
  for h in $(coturn_hosts); do
    ssl="$LAB_DIR/hosts/$h/files/ssl"
    install -d -m 0755 "$ssl/synapse-planner/$server"
    cp "$LAB_DIR/bundle/scripts/certs/ca/fullchain.pem" "$ssl/synapse-planner/$server/fullchain.pem"
    install -m 0640 -g turnserver "$LAB_DIR/bundle/scripts/certs/ca/privkey.pem" "$ssl/synapse-planner/$server/privkey.pem"
    host_etc "$h" ssl "$ssl"
    # root:turnserver 0640, as the package's statoverride leaves it after prepare-host.sh
    # copied the bundle's file (coturn reads it as turnserver; unreadable, it would run
    # on its defaults: no shared secret, no denied peers).
    install -m 0640 -g turnserver "$LAB_DIR/bundle/hosts/$h/etc/turnserver.conf" "$LAB_DIR/hosts/$h/files/turnserver.conf"
    host_etc "$h" turnserver.conf "$LAB_DIR/hosts/$h/files/turnserver.conf"
    on "$h" sysctl -q -p "$LAB_DIR/bundle/hosts/$h/etc/sysctl.d/91-reserved-ports.conf"
    # As Debian's coturn.service starts it (no pid file).
    daemon "$h" coturn runuser -u turnserver -- turnserver -c /etc/turnserver.conf --pidfile=
  done
  for h in $(coturn_hosts); do
    wait_for "coturn on $h" 30 listens "$h" "$(address_of "$h")" 3478
    wait_for "coturn's TLS listener on $h" 30 listens "$h" "$(address_of "$h")" 5349
  done
}
listens() { on "$1" ss -Hltn "src $2:$3" | grep -q .; }

# One turnutils_uclient run from CLIENT against coturn HOST: ARGS are its options. The
# output ends with its packet counts.
uclient() {
  local client="$1" host="$2"
  shift 2
  on "$client" timeout 30 turnutils_uclient -n 50 -l 200 -z 10 "$@" "$(address_of "$host")" 2>&1
}

# The share of packets turnutils_uclient reports lost, or nothing when it did not get
# that far (no allocation).
lost_percent() { sed -n 's/.*Total lost packets [0-9]* (\([0-9.]*\)%).*/\1/p' | tail -n 1; }

# Drill: a client on the Synapse host allocates relays on every coturn host with the
# credentials Synapse hands out (TURN REST API: the shared secret in vault.yml, the
# turn_shared_secret vars.yml gives Synapse) and sends between two relays over UDP and
# TCP; TLS on 5349 verifies against the internal CA; a wrong secret is refused, and so is a relay to a cluster address (the
# bundle's denied-peer-ip), so TURN cannot be used to reach the cluster.
cmd_drill_turn() {
  lab_begin "${1:-}"
  mkdir -p "$LAB_DIR/logs"
  start_coturn
  local h secret out lost ca
  for h in $(coturn_hosts); do
    echo "turn: $h listens on $(on "$h" ss -Hltnu | awk '{ print $1 " " $5 }' | sort -u | paste -sd, -)"
  done
  secret="$(vault vault_turn_shared_secret)"
  ca="$LAB_DIR/bundle/scripts/certs/ca/ca.crt"
  for h in $(coturn_hosts); do
    for mode in udp tcp; do
      local -a flags=(-y -W "$secret" -u lab-drill)
      [ "$mode" = udp ] || flags+=(-t)
      out="$(uclient synapse "$h" "${flags[@]}")" || true
      lost="$(lost_percent <<< "$out")"
      [ -n "$lost" ] || die "$h $mode: no relay with Synapse's credentials: $(tail -n 5 <<< "$out")"
      echo "turn: $h $mode relay between two clients, $lost% of 100 packets lost"
    done
    # TLS on 5349 (vars.yml offers clients no turns: URI; the listener is for clients
    # configured by hand): the certificate verifies against the internal CA.
    out="$(on synapse timeout 10 openssl s_client -connect "$(address_of "$h"):5349" \
      -servername "$(server_name)" -CAfile "$ca" -verify_return_error < /dev/null 2>&1)" ||
      die "$h: TLS on 5349 failed: $(tail -n 5 <<< "$out")"
    echo "turn: $h TLS on 5349: $(grep -o 'Verify return code: .*' <<< "$out"), $(grep -o 'Protocol *: .*' <<< "$out" | head -n 1)"
    out="$(uclient synapse "$h" -y -W "wrong-$secret" -u lab-drill)" || true
    # The same run as the udp one above but for the secret: its failure is the secret's.
    if [ -n "$(lost_percent <<< "$out")" ] || ! grep -q 'Cannot complete Allocation' <<< "$out"; then
      die "$h: a wrong secret was not refused: $(tail -n 5 <<< "$out")"
    fi
    echo "turn: $h refuses a wrong secret (Cannot complete Allocation)"
    out="$(uclient synapse "$h" -W "$secret" -u lab-drill -e "$(address_of synapse)" -r 3480)" || true
    grep -q 'error 403 (Forbidden IP)' <<< "$out" ||
      die "$h: a relay to a cluster address was not refused: $(tail -n 5 <<< "$out")"
    echo "turn: $h refuses a relay to $(address_of synapse) (error 403 (Forbidden IP))"
  done
}

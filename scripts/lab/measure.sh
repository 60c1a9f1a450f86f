# shellcheck shell=bash
# shellcheck disable=SC2154 # $here is scripts/lab.sh's, which sources this file
# Measurements (a benchmark, not a test; docs/lab.md): at each scale of
# LAB_MEASURE_SCALES ("USERS:ROOMS:MESSAGES …"), one traffic run on the running cluster,
# with the database's tables and WAL measured around it (measure.py, directly on the
# Patroni leader as Synapse's user) and every Synapse process's RSS sampled through it.
# Sourced by scripts/lab.sh.

LAB_MEASURE_SCALES="${LAB_MEASURE_SCALES:-20:4:300 40:8:1000 60:12:2000}"

# measure.py snapshot of Synapse's database on the leader, from the Synapse host.
db_snapshot() {
  local leader
  leader="$(current_leader)"
  [ -n "$leader" ] || die "no Patroni leader to measure"
  on synapse env PGPASSWORD="$(vault vault_synapse_db_password)" "$(lab_python)" \
    "$here/scripts/lab/measure.py" snapshot \
    --db "host=$(address_of "$leader") port=5432 dbname=synapse user=synapse" --out "$1"
}

# Per process: RSS at the first sample, the peak and the last, MiB, from a sampler LOG.
rss_over_time() {
  awk '$2 ~ /^rss:/ { k = substr($2, 5); if (!(k in first)) first[k] = $3
      if ($3 > peak[k]) peak[k] = $3; last[k] = $3 }
    END { for (k in first) printf "rss: %s first %d peak %d last %d MiB\n", k, first[k], peak[k], last[k] }' "$1" | sort
}

cmd_measure() {
  synapse_venv_check
  lab_begin "${1:-}"
  start_cluster
  local scale users rooms messages n=0 dir t0 sampler
  for scale in $LAB_MEASURE_SCALES; do
    IFS=: read -r users rooms messages <<< "$scale"
    [[ "$users$rooms$messages" =~ ^[0-9]+$ ]] || die "LAB_MEASURE_SCALES: '$scale' is not USERS:ROOMS:MESSAGES"
    n=$((n + 1))
    dir="$LAB_DIR/measure/$n"
    mkdir -p "$dir"
    db_snapshot "$dir/before.json"
    job budget_sampler > "$dir/samples.log" 2>&1
    sampler=$LAB_JOB
    t0="$(now)"
    run_traffic "$users" "$rooms" "$messages" "$dir"
    kill "$sampler" 2> /dev/null || true
    wait "$sampler" 2> /dev/null || true
    db_snapshot "$dir/after.json"
    "$(lab_python)" "$here/scripts/lab/measure.py" diff "$dir/before.json" "$dir/after.json" \
      --out "$dir/diff.json" --markdown "$dir/diff.md"
    echo "## scale $n: $users users, $rooms rooms, $messages messages (traffic $(since "$t0") s)"
    echo
    cat "$dir/diff.md"
    echo
    rss_over_time "$dir/samples.log"
    budget_report "$dir/samples.log" | grep -v '^budget: rss:'
    echo
  done
}

#!/usr/bin/env bash
# Load benchmark: Cairn against moto, side by side on loopback, the same signed requests
# replayed by wrk against each. See bench/README.md.
#
#   bench/load.sh [--duration S] [--connections N] [--threads N] [--warmup S] [--rounds N]
#                 [--ops GetCallerIdentity,...] [--servers cairn,moto] [--principals admin,heavy]
#                 [--cairn-bin PATH] [--build] [--keep] [--pin]
set -euo pipefail

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$bench_dir/.." && pwd)
# shellcheck source=bench/lib.sh
. "$bench_dir/lib.sh"
results_dir="$bench_dir/results"

duration=10
connections=16
threads=2
warmup=1
rounds=1
ops=GetCallerIdentity
servers=cairn,moto
principals=admin
cairn_bin=
build=0
keep=0
pin=0

usage() {
  cat <<EOF
usage: bench/load.sh [options]
  --duration S      seconds of each measurement (default $duration)
  --connections N   open connections held by wrk (default $connections)
  --threads N       wrk threads (default $threads)
  --warmup S        seconds of unmeasured load before each measurement, 0 for none (default $warmup)
  --rounds N        measure every server N times, in turn (default $rounds); the report shows the
                    median round, and recording's cost as the median of the rounds' costs: on a
                    shared machine a burst of other work then skews one round, not the figure
  --ops LIST        comma-separated workloads (default $ops); bench/signed_request.py list names them
                    (e.g. GetCallerIdentity,DescribeOrganization,ListAccounts)
  --servers LIST    any of cairn, cairn-norec and moto (default cairn,moto); cairn-norec is Cairn
                    with recording off (CAIRN_RECORDING=false): with cairn beside it, the report
                    prints what recording costs
  --principals LIST who signs the requests (default $principals): admin (the bootstrap admin,
                    test/test) and heavy (bench/heavy.json's IAM user, made on each Cairn server
                    after it starts through its own API: a member account under an OU, SCPs,
                    10 managed policies, 2 groups, a boundary). Each op is measured once per
                    principal on the same server, in turn (the order alternates from round to
                    round); the report prints what each loses against admin. moto is measured as
                    admin only
  --cairn-bin PATH  the Cairn binary to run (default: \${CARGO_TARGET_DIR:-target}/release/cairn,
                    built with cargo build --release when missing)
  --build           run cargo build --release even when the binary exists
  --keep            keep the temporary directory (server logs, data dir, signed requests)
  --pin             run the servers on CPU 1 and wrk on CPU 0 (taskset): steadier figures on a
                    small machine, but each server gets one core
Environment: CAIRN_LOG is passed to Cairn (e.g. CAIRN_LOG=warn drops its per-request log lines);
  TMPDIR says where the temporary directory (Cairn's data dir) goes; BENCH_PYTHON picks the Python.
EOF
}

die() {
  echo "load.sh: $*" >&2
  exit 1
}
say() { echo "load.sh: $*" >&2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --duration | --connections | --threads | --warmup | --rounds | --ops | --servers | --principals | --cairn-bin)
      [ $# -ge 2 ] || die "$1 needs a value"
      value=$2
      case "$1" in
        --duration) duration=$value ;;
        --connections) connections=$value ;;
        --threads) threads=$value ;;
        --warmup) warmup=$value ;;
        --rounds) rounds=$value ;;
        --ops) ops=$value ;;
        --servers) servers=$value ;;
        --principals) principals=$value ;;
        --cairn-bin) cairn_bin=$value ;;
      esac
      shift 2
      ;;
    --duration=* | --connections=* | --threads=* | --warmup=* | --rounds=* | --ops=* | --servers=* | --principals=* | --cairn-bin=*)
      set -- "${1%%=*}" "${1#*=}" "${@:2}"
      ;;
    --build) build=1 && shift ;;
    --keep) keep=1 && shift ;;
    --pin) pin=1 && shift ;;
    -h | --help) usage && exit 0 ;;
    *) usage >&2 && die "unknown argument: $1" ;;
  esac
done

for n in duration connections threads warmup rounds; do
  [[ ${!n} =~ ^[0-9]+$ ]] || die "--$n must be a whole number, not '${!n}'"
done
[ "$duration" -gt 0 ] || die "--duration must be at least 1"
[ "$rounds" -gt 0 ] || die "--rounds must be at least 1"
[ "$threads" -gt 0 ] || die "--threads must be at least 1"
[ "$connections" -ge "$threads" ] || die "--connections must be at least --threads ($threads)"

run_cairn=0
run_moto=0
cairn_servers=()
IFS=, read -r -a server_list <<<"$servers"
for s in "${server_list[@]}"; do
  case "$s" in
    cairn | cairn-norec) run_cairn=1 && cairn_servers+=("$s") ;;
    moto) run_moto=1 ;;
    *) die "unknown server '$s' in --servers (cairn, cairn-norec, moto)" ;;
  esac
done
[ $((run_cairn + run_moto)) -gt 0 ] || die "--servers names no server"

# --- what the benchmark needs -------------------------------------------------------------

if ! command -v wrk >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || die "wrk is missing: install it (apt-get install wrk) or run as root"
  say "installing wrk"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >&2
fi

# The Python that signs requests (botocore) and runs moto_server (moto[server]): the first of
# $BENCH_PYTHON, python3 and the project's .venv that has them, else the .venv gets them.
venv=${CAIRN_VENV:-.venv}
[[ $venv = /* ]] || venv="$root/$venv"
py_modules="import botocore"
[ "$run_moto" = 1 ] && py_modules="$py_modules, moto, moto.server"
py=$(bench_python "$py_modules")
if [ -z "$py" ]; then
  say "installing boto3 and moto[server] into $venv"
  [ -x "$venv/bin/python" ] || python3 -m venv --system-site-packages "$venv"
  "$venv/bin/pip" install --quiet boto3 'moto[server]' >&2
  py="$venv/bin/python"
  "$py" -c "$py_modules" || die "$py still cannot import: $py_modules"
fi

"$py" "$bench_dir/signed_request.py" validate "$ops" || die "bad --ops"
IFS=, read -r -a op_list <<<"$ops"
"$py" "$bench_dir/signed_request.py" principals "$principals" || die "bad --principals"
IFS=, read -r -a principal_list <<<"$principals"

if [ "$run_cairn" = 1 ]; then
  if [ -z "$cairn_bin" ]; then
    cairn_bin=$(release_binary)
    if [ "$build" = 1 ] || [ ! -x "$cairn_bin" ]; then
      say "building Cairn: cargo build --release"
      (cd "$root" && cargo build --release) >&2 || die "cargo build --release failed"
    fi
  fi
  [ -x "$cairn_bin" ] || die "no Cairn binary at $cairn_bin"
fi

# With --pin, servers run on CPU 1 and wrk on CPU 0, so that neither steals the other's core.
server_cpu=()
client_cpu=()
if [ "$pin" = 1 ]; then
  [ "$(nproc)" -ge 2 ] || die "--pin needs at least 2 CPUs"
  command -v taskset >/dev/null 2>&1 || die "--pin needs taskset (util-linux)"
  server_cpu=(taskset -c 1)
  client_cpu=(taskset -c 0)
fi

# --- servers ------------------------------------------------------------------------------

work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench.XXXXXX")

alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

# Stops a server started by launch.py: it leads a process group of its own.
# shellcheck disable=SC2317  # reached from the EXIT trap
stop_server() {
  local pid=$1 i
  alive "$pid" || return 0
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    alive "$pid" || return 0
    sleep 0.1
  done
  say "pid $pid ignored SIGTERM for 5 s: SIGKILL"
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
}

# shellcheck disable=SC2317  # the EXIT trap
cleanup() {
  local f pid
  for f in "$work"/*.pid; do
    [ -e "$f" ] || continue
    read -r pid <"$f" || continue
    stop_server "$pid"
  done
  if [ "$keep" = 1 ]; then
    say "kept $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rss_kib() {
  awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# CPU counters around a measurement, as key=value lines with a suffix (before/after): the
# server's own user+system ticks, and the whole machine's busy and iowait ticks.
cpu_snapshot() {
  local stat fields cpu
  stat=$(cat "/proc/$1/stat")
  read -r -a fields <<<"${stat##*) }"
  # After the command name: state is field 0, utime 11, stime 12.
  echo "server_ticks_$2=$((fields[11] + fields[12]))"
  read -r -a cpu < <(grep '^cpu ' /proc/stat)
  # user nice system idle iowait irq softirq steal
  echo "machine_busy_ticks_$2=$((cpu[1] + cpu[2] + cpu[3] + cpu[6] + cpu[7] + cpu[8]))"
  echo "machine_iowait_ticks_$2=${cpu[5]}"
  echo "time_ns_$2=$(date +%s%N)"
}

# Prints the end of a server's logs, for a failure message.
show_logs() {
  local f
  for f in "$work/$1.out" "$work/$1.err"; do
    [ -s "$f" ] || continue
    echo "--- $f (tail):" >&2
    tail -n 8 "$f" | cut -c1-400 >&2
  done
}

# Share of CPU time idle over half a second: other work on the machine skews every figure.
cpu_idle_pct() {
  local a b
  read -r -a a < <(grep '^cpu ' /proc/stat)
  sleep 0.5
  read -r -a b < <(grep '^cpu ' /proc/stat)
  local total=0 i
  for ((i = 1; i < ${#a[@]}; i++)); do total=$((total + b[i] - a[i])); done
  local idle=$((b[4] + b[5] - a[4] - a[5]))
  [ "$total" -gt 0 ] || total=1
  echo $((100 * idle / total))
}
idle_pct=$(cpu_idle_pct)
if [ "$idle_pct" -lt 80 ]; then
  say "WARNING: the machine is busy before the run (CPU ${idle_pct}% idle): figures will be low and noisy"
fi

facts="$work/facts.txt"
runs="$work/runs.tsv"
: >"$runs"
{
  echo "settings.duration_s=$duration"
  echo "settings.connections=$connections"
  echo "settings.threads=$threads"
  echo "settings.warmup_s=$warmup"
  echo "settings.rounds=$rounds"
  echo "settings.ops=$ops"
  echo "settings.principals=$principals"
  echo "settings.wrk_timeout_s=5"
  echo "settings.pinned=$pin"
  echo "settings.cairn_log=${CAIRN_LOG:-default}"
  echo "host.cpus=$(nproc)"
  echo "host.clk_tck=$(getconf CLK_TCK)"
  echo "host.kernel=$(uname -r)"
  echo "host.cpu_idle_pct_before=$idle_pct"
  echo "host.loadavg_before=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "versions.wrk=$(wrk -v 2>&1 | head -n 1 | awk '{ print $2 }')"
  echo "versions.botocore=$("$py" -c 'import botocore; print(botocore.__version__)')"
  echo "git.commit=$(git -C "$root" rev-parse --verify -q HEAD || echo none)"
} >"$facts"

declare -A url
declare -A pid_of

for s in "${cairn_servers[@]}"; do
  recording=true
  [ "$s" = cairn-norec ] && recording=false
  say "starting Cairn ($cairn_bin) as $s, recording $recording"
  read -r pid port startup_ms < <(
    CAIRN_RECORDING=$recording "$py" "$bench_dir/launch.py" --stdout "$work/$s.out" \
      --stderr "$work/$s.err" --pid-file "$work/$s.pid" --health-path /_cairn/health --timeout 60 \
      --port-regex 'cairn listening on http://127\.0\.0\.1:(\d+)' \
      -- "${server_cpu[@]}" "$cairn_bin" serve --listen 127.0.0.1:0 --data-dir "$work/$s-data" \
      --org-account-limit 1000 || echo "fail"
  )
  [[ ${pid:-} =~ ^[0-9]+$ ]] || die "Cairn did not start (see above); is $cairn_bin stale? --build rebuilds it"
  url[$s]="http://127.0.0.1:$port"
  pid_of[$s]=$pid
  say "Cairn ($s) pid $pid at ${url[$s]}, serving ${startup_ms} ms after spawn"
  {
    echo "$s.binary=$cairn_bin"
    echo "$s.binary_mtime=$(date -u -r "$cairn_bin" +%Y-%m-%dT%H:%M:%SZ)"
    echo "$s.startup_ms=$startup_ms"
  } >>"$facts"
done

if [ "$run_moto" = 1 ]; then
  say "starting moto_server"
  read -r pid port startup_ms < <(
    "$py" "$bench_dir/launch.py" --stdout "$work/moto.out" --stderr "$work/moto.err" \
      --pid-file "$work/moto.pid" --health-path /moto-api/data.json --timeout 60 --port auto \
      -- "${server_cpu[@]}" "$py" -m moto.server -H 127.0.0.1 -p '{port}' || echo "fail"
  )
  [[ ${pid:-} =~ ^[0-9]+$ ]] || die "moto_server did not start (see above)"
  url[moto]="http://127.0.0.1:$port"
  pid_of[moto]=$pid
  say "moto pid $pid at ${url[moto]}, serving ${startup_ms} ms after spawn"
  {
    echo "moto.version=$("$py" -c 'import moto; print(moto.__version__)')"
    echo "moto.startup_ms=$startup_ms"
  } >>"$facts"
fi

# Idle: all are up and nothing has been sent but the health probes.
for s in cairn cairn-norec moto; do
  if [ -n "${pid_of[$s]:-}" ]; then
    echo "$s.rss_idle_kib=$(rss_kib "${pid_of[$s]}")" >>"$facts"
  fi
done

# Principals other than the admin, made on each Cairn server through its own API (after the idle
# RSS above: nothing but health probes had been sent then).
for s in "${cairn_servers[@]}"; do
  for who in "${principal_list[@]}"; do
    [ "$who" != admin ] || continue
    say "making principal $who on $s"
    if ! "$py" "$bench_dir/signed_request.py" principal --endpoint "${url[$s]}" --name "$who" \
      --out "$work/principal.$who.$s.json" >&2; then
      show_logs "$s"
      die "could not make principal $who on $s"
    fi
  done
done

# --- measurements -------------------------------------------------------------------------

mkdir -p "$results_dir/raw"
for ((round = 1; round <= rounds; round++)); do
  # Principals in turn on the same server, in the given order in odd rounds and reversed in even
  # ones: what a run leaves behind (event history indexing its last calls) lands in the next.
  round_principals=("${principal_list[@]}")
  if [ $((round % 2)) = 0 ]; then
    round_principals=()
    for ((i = ${#principal_list[@]} - 1; i >= 0; i--)); do round_principals+=("${principal_list[i]}"); done
  fi
  for op in "${op_list[@]}"; do
    # Cairn without recording first: Cairn's background work after its own run (indexing the
    # last events, checkpoints) must not land in another server's measurement of Cairn.
    for s in cairn-norec cairn moto; do
      [ -n "${pid_of[$s]:-}" ] || continue
      for who in "${round_principals[@]}"; do
        if [ "$who" != admin ] && [ "$s" = moto ]; then
          continue
        fi
        endpoint=${url[$s]}
        label=$s
        sign_as=()
        if [ "$who" != admin ]; then
          label="$s.$who"
          sign_as=(--principal-file "$work/principal.$who.$s.json")
        fi
        req="$work/request.$op.$label"
        # The signature is valid for 5 minutes: sign right before the run.
        "$py" "$bench_dir/signed_request.py" sign --endpoint "$endpoint" --op "$op" --out "$req" "${sign_as[@]}"
        if ! "$py" "$bench_dir/signed_request.py" check "$req.json" >&2; then
          show_logs "$s"
          die "$op is not answered 200 by $s as $who: not measuring"
        fi
        if [ "$warmup" -gt 0 ]; then
          "${client_cpu[@]}" wrk -t"$threads" -c"$connections" -d"${warmup}s" --timeout 5s \
            -s "$bench_dir/replay.lua" "$endpoint" -- "$req.lua" >/dev/null
        fi
        name="$op.$label"
        [ "$rounds" = 1 ] || name="$op.$label.round$round"
        out="$results_dir/raw/$name.txt"
        stats="$work/stats.$name.txt"
        say "$op on $s as $who: ${duration} s, $connections connections, $threads threads (round $round of $rounds)"
        cpu_snapshot "${pid_of[$s]}" before >"$stats"
        if [ -d "$work/$s-data" ]; then
          echo "data_dir_bytes_before=$(du -sb "$work/$s-data" | cut -f1)" >>"$stats"
        fi
        TIMEFORMAT='wrk_cpu_s=%U %S'
        {
          time "${client_cpu[@]}" wrk -t"$threads" -c"$connections" -d"${duration}s" --timeout 5s \
            --latency -s "$bench_dir/replay.lua" "$endpoint" -- "$req.lua" >"$out" 2>"$out.stderr"
        } 2>>"$stats"
        cpu_snapshot "${pid_of[$s]}" after >>"$stats"
        if [ -s "$out.stderr" ]; then cat "$out.stderr" >>"$out"; fi
        rm -f "$out.stderr"
        if [ -d "$work/$s-data" ]; then
          echo "data_dir_bytes_after=$(du -sb "$work/$s-data" | cut -f1)" >>"$stats"
        fi
        printf '%s\t%s\t%s\t%s\t%s\n' "$op" "$s" "$out" "$stats" "$who" >>"$runs"
      done
    done
  done
done

for s in cairn cairn-norec moto; do
  if [ -n "${pid_of[$s]:-}" ]; then
    if ! alive "${pid_of[$s]}"; then
      show_logs "$s"
      die "$s exited during the run"
    fi
    echo "$s.rss_after_load_kib=$(rss_kib "${pid_of[$s]}")" >>"$facts"
  fi
done

status=0
"$py" "$bench_dir/report.py" --runs "$runs" --facts "$facts" --out "$results_dir/latest.json" || status=$?
exit "$status"

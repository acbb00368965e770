#!/usr/bin/env bash
# What recording costs in CPU per call: Cairn with recording off and Cairn with recording on,
# both loaded at the same fixed rate in the same seconds, their CPU time compared per request.
# See bench/README.md.
#
#   bench/recording_cpu.sh [--duration S] [--rounds N] [--connections N] [--cairn-bin PATH]
#
# bench/load.sh measures what recording costs in throughput, with each server saturating the
# machine in turn; on a shared or virtual machine the machine's own speed drifts by ±10%
# between rounds, which is as much as the cost itself. Here both servers run at once, each at
# about 1,000 requests/s per connection (bench/paced.lua), neither saturating the machine, so
# whatever the machine does affects both alike, and each round yields the difference directly.
set -euo pipefail

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$bench_dir/.." && pwd)
# shellcheck source=bench/lib.sh
. "$bench_dir/lib.sh"

duration=5
rounds=5
connections=16
cairn_bin=

die() {
  echo "recording_cpu.sh: $*" >&2
  exit 1
}

while [ $# -gt 0 ]; do
  case "$1" in
    --duration | --rounds | --connections | --cairn-bin)
      [ $# -ge 2 ] || die "$1 needs a value"
      case "$1" in
        --duration) duration=$2 ;;
        --rounds) rounds=$2 ;;
        --connections) connections=$2 ;;
        --cairn-bin) cairn_bin=$2 ;;
      esac
      shift 2
      ;;
    -h | --help)
      sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *) die "unknown argument: $1 (--help lists them)" ;;
  esac
done
for n in duration rounds connections; do
  [[ ${!n} =~ ^[1-9][0-9]*$ ]] || die "--$n must be a whole number of at least 1, not '${!n}'"
done

command -v wrk >/dev/null 2>&1 || die "wrk is missing: apt-get install wrk (or run bench/load.sh once)"
py=$(bench_python "import botocore")
[ -n "$py" ] || die "no Python with botocore: run bench/load.sh once, or set BENCH_PYTHON"
if [ -z "$cairn_bin" ]; then
  cairn_bin=$(release_binary)
  [ -x "$cairn_bin" ] || (cd "$root" && cargo build --release) >&2 || die "cargo build --release failed"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-recording-cpu.XXXXXX")
declare -A url pid
cleanup() {
  local s
  for s in "${!pid[@]}"; do
    kill -TERM -- "-${pid[$s]}" 2>/dev/null || true
  done
  sleep 0.5
  rm -rf "$work"
}
trap cleanup EXIT

for s in norec rec; do
  recording=true
  [ "$s" = norec ] && recording=false
  read -r p port _ < <(
    CAIRN_RECORDING=$recording "$py" "$bench_dir/launch.py" --stdout "$work/$s.out" \
      --stderr "$work/$s.err" --pid-file "$work/$s.pid" --health-path /_cairn/health --timeout 60 \
      --port-regex 'cairn listening on http://127\.0\.0\.1:(\d+)' \
      -- "$cairn_bin" serve --listen 127.0.0.1:0 --data-dir "$work/$s-data" || echo fail
  )
  [[ ${p:-} =~ ^[0-9]+$ ]] || die "Cairn ($s) did not start"
  url[$s]="http://127.0.0.1:$port"
  pid[$s]=$p
done

# "name ns" for every thread of a process: its CPU time from schedstat (exact, where
# /proc/PID/stat counts whole clock ticks and misses threads that wake briefly).
threads_ns() {
  local t ns _
  for t in /proc/"$1"/task/*; do
    read -r ns _ <"$t/schedstat"
    echo "$(cat "$t/comm") $ns"
  done
}
# CPU time of all of a process's threads, in ns.
cpu_ns() {
  threads_ns "$1" | awk '{ total += $NF } END { printf "%.0f\n", total }'
}

sign() {
  "$py" "$bench_dir/signed_request.py" sign --endpoint "${url[$1]}" --op GetCallerIdentity \
    --out "$work/req.$1" >/dev/null
}
paced() { # server seconds output
  wrk -t1 -c"$connections" -d"$2s" --timeout 5s -s "$bench_dir/paced.lua" "${url[$1]}" \
    -- "$work/req.$1.lua" >"$3"
}

echo "recording_cpu.sh: GetCallerIdentity, $connections paced connections per server, $duration s a round, $rounds rounds" >&2
: >"$work/rounds.tsv"
for ((round = 1; round <= rounds; round++)); do
  # Signatures last 5 minutes: sign afresh each round; a short unmeasured warm-up.
  sign norec
  sign rec
  paced norec 1 /dev/null &
  paced rec 1 /dev/null
  wait
  a_norec=$(cpu_ns "${pid[norec]}")
  a_rec=$(cpu_ns "${pid[rec]}")
  threads_ns "${pid[rec]}" >"$work/threads.before"
  paced norec "$duration" "$work/wrk.norec" &
  paced rec "$duration" "$work/wrk.rec"
  wait
  b_norec=$(cpu_ns "${pid[norec]}")
  b_rec=$(cpu_ns "${pid[rec]}")
  threads_ns "${pid[rec]}" >"$work/threads.after"
  for s in norec rec; do
    grep -q '^BENCH non2xx=0 ' "$work/wrk.$s" || die "$s: a request failed: $(grep '^BENCH' "$work/wrk.$s")"
  done
  n_norec=$(sed -n 's/^BENCH .* requests=\([0-9]*\) .*/\1/p' "$work/wrk.norec")
  n_rec=$(sed -n 's/^BENCH .* requests=\([0-9]*\) .*/\1/p' "$work/wrk.rec")
  printf '%s\t%s\t%s\t%s\t%s\n' "$round" $((b_norec - a_norec)) "$n_norec" $((b_rec - a_rec)) "$n_rec" \
    >>"$work/rounds.tsv"
  "$py" - "$work/threads.before" "$work/threads.after" "$n_rec" >>"$work/threads.tsv" <<'EOF'
import sys
def load(p):
    d = {}
    for line in open(p):
        name, ns = line.rsplit(" ", 1)
        d.setdefault(name, []).append(int(ns))
    return d
before, after, n = load(sys.argv[1]), load(sys.argv[2]), int(sys.argv[3])
for name, ns in after.items():
    spent = sum(ns) - sum(before.get(name, []))
    print(f"{name}\t{spent / n / 1000:.3f}")
EOF
done

"$py" - "$work/rounds.tsv" "$work/threads.tsv" <<'EOF'
import statistics, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
off = [int(r[1]) / int(r[2]) / 1000 for r in rows]
on = [int(r[3]) / int(r[4]) / 1000 for r in rows]
for r, a, b in zip(rows, off, on):
    print(f"round {r[0]}: recording off {a:6.2f} us/request ({r[2]} requests), "
          f"on {b:6.2f} us/request ({r[4]}): {b - a:+.2f} us")
diffs = [b - a for a, b in zip(off, on)]
a, d = statistics.median(off), statistics.median(diffs)
print(f"Recording costs +{d:.2f} us of server CPU per request, {100 * d / a:.1f}% of the "
      f"{a:.2f} us a request costs without it (median of {len(rows)} rounds; per round "
      f"{', '.join(f'{x:+.2f}' for x in diffs)})")
threads = {}
for line in open(sys.argv[2]):
    name, us = line.rstrip("\n").split("\t")
    threads.setdefault(name, []).append(float(us))
print("With recording, per request, by thread (median of rounds): " + ", ".join(
    f"{name} {statistics.median(v):.2f} us" for name, v in sorted(threads.items(), key=lambda kv: -statistics.median(kv[1]))
    if statistics.median(v) >= 0.005))
EOF

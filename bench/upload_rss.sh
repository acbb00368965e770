#!/usr/bin/env bash
# Memory while streaming a large object: starts Cairn (release build) on loopback, uploads a
# sparse file with `aws s3 cp` (a multipart upload of 8 MiB parts, 10 at a time) and downloads
# it again, printing Cairn's VmHWM/VmRSS from /proc before and after each step.
#
#   bench/upload_rss.sh [SIZE]      SIZE as truncate(1) takes it, default 1G
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
size=${1:-1G}
target_dir=${CARGO_TARGET_DIR:-target}
[[ $target_dir = /* ]] || target_dir="$root/$target_dir"
bin="$target_dir/release/cairn"
[ -x "$bin" ] || (cd "$root" && cargo build --release >&2)
command -v aws >/dev/null || { echo "upload_rss.sh: the AWS CLI is needed" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-rss.XXXXXX")
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

"$bin" serve --listen 127.0.0.1:0 --data-dir "$work/data" >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 100); do
  grep -q "listening on" "$work/out" 2>/dev/null && break
  sleep 0.1
done
endpoint=$(grep -o 'http://[0-9.:]*' "$work/out" | head -n 1)
[ -n "$endpoint" ] || { echo "upload_rss.sh: Cairn did not start" >&2; cat "$work/err" >&2; exit 1; }

export AWS_ENDPOINT_URL=$endpoint AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
export AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null

mem() { awk '/^Vm(HWM|RSS):/ { printf "%s %d KiB  ", $1, $2 } END { print "" }' "/proc/$pid/status"; }

aws s3 mb s3://rss-bucket >/dev/null
truncate -s "$size" "$work/object.bin"
echo "before upload:   $(mem)"
start=$(date +%s.%N)
aws s3 cp "$work/object.bin" s3://rss-bucket/object.bin --only-show-errors
echo "after upload:    $(mem) ($(echo "$(date +%s.%N) - $start" | bc) s)"
start=$(date +%s.%N)
aws s3 cp s3://rss-bucket/object.bin "$work/back.bin" --only-show-errors
echo "after download:  $(mem) ($(echo "$(date +%s.%N) - $start" | bc) s)"
cmp -s "$work/object.bin" "$work/back.bin" && echo "round trip: identical"

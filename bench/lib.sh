# shellcheck shell=bash disable=SC2154
# Shared by the benchmark scripts (sourced, after they set $root): the Python that signs
# requests, and the Cairn binary they run.

# The first of $BENCH_PYTHON, python3 and the project's virtualenv ($CAIRN_VENV, default .venv)
# whose Python runs `$1` (an import line); prints nothing when none does.
bench_python() {
  local venv=${CAIRN_VENV:-.venv} cand
  [[ $venv = /* ]] || venv="$root/$venv"
  for cand in "${BENCH_PYTHON:-}" python3 "$venv/bin/python"; do
    if [ -n "$cand" ] && command -v "$cand" >/dev/null 2>&1 && "$cand" -c "$1" 2>/dev/null; then
      echo "$cand"
      return
    fi
  done
}

# The release build's binary, ${CARGO_TARGET_DIR:-target}/release/cairn, as an absolute path.
release_binary() {
  local target_dir=${CARGO_TARGET_DIR:-target}
  [[ $target_dir = /* ]] || target_dir="$root/$target_dir"
  echo "$target_dir/release/cairn"
}

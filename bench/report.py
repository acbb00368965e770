#!/usr/bin/env python3
"""Turns the wrk outputs of a bench/load.sh run into the printed tables and a JSON file.

    report.py --runs RUNS.tsv --facts FACTS.txt --out bench/results/latest.json

RUNS.tsv has one line per measurement: OP<TAB>SERVER<TAB>WRK_OUTPUT_FILE[<TAB>STATS_FILE
[<TAB>PRINCIPAL]], the stats file holding the CPU counters load.sh read before and after
(key=value lines), the principal who signed the requests (default admin; another principal's
runs are shown as SERVER/PRINCIPAL, and what it loses against admin on the same server is
printed). With several rounds (load.sh --rounds), a server has one line per round, in the order
measured: the tables show each server's median round, and recording's cost (and a principal's
loss) is the median of the rounds' costs.
FACTS.txt has key=value lines (settings, start-up times, RSS, versions); a key `a.b` lands in
the JSON as {"a": {"b": value}}.

Exits 3 when a measurement is flagged: a non-2xx response, a socket error or timeout, or no
request completed at all.
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import statistics
import sys

UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def to_ms(value: str, unit: str) -> float:
    return float(value) * UNITS_MS[unit]


def parse_wrk(text: str) -> dict:
    """The figures of one `wrk --latency -s replay.lua` run."""
    out: dict = {"percentiles_ms": {}}
    for m in re.finditer(r"^\s+(\d+(?:\.\d+)?)%\s+([\d.]+)(us|ms|s|m|h)\s*$", text, re.M):
        out["percentiles_ms"][m.group(1)] = round(to_ms(m.group(2), m.group(3)), 3)
    m = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    out["requests_per_s"] = float(m.group(1)) if m else None
    m = re.search(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)", text, re.M)
    if m:
        out["requests"] = int(m.group(1))
        out["elapsed_s"] = round(to_ms(m.group(2), m.group(3)) / 1000, 3)
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    out["wrk_non2xx_or_3xx"] = int(m.group(1)) if m else 0
    m = re.search(r"^BENCH (.*)$", text, re.M)
    bench = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(1))} if m else {}
    # The lua response() hook counts every status outside 200..299; wrk's own line only counts
    # 4xx and 5xx. Take the larger in case the script did not run.
    out["non2xx"] = max(bench.get("non2xx", 0), out["wrk_non2xx_or_3xx"])
    out["socket_errors"] = {k: bench.get(k, 0) for k in ("connect", "read", "write", "timeout")}
    if not bench:
        m = re.search(
            r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
        )
        if m:
            out["socket_errors"] = dict(zip(("connect", "read", "write", "timeout"), map(int, m.groups())))
    out["lua_p50_ms"] = round(bench["p50_us"] / 1000, 3) if "p50_us" in bench else None
    out["lua_p99_ms"] = round(bench["p99_us"] / 1000, 3) if "p99_us" in bench else None
    m = re.search(r"^BENCH_FIRST_NON2XX (.*)$", text, re.M)
    out["first_non2xx"] = m.group(1) if m else None
    out["p50_ms"] = out["percentiles_ms"].get("50")
    out["p99_ms"] = out["percentiles_ms"].get("99")
    problems = []
    if out["non2xx"]:
        problems.append(f"{out['non2xx']} non-2xx responses")
    errors = sum(out["socket_errors"].values())
    if errors:
        problems.append("socket errors " + ", ".join(f"{k} {v}" for k, v in out["socket_errors"].items() if v))
    if not out.get("requests") or out["requests_per_s"] is None or out["p50_ms"] is None:
        problems.append("no completed requests or unreadable wrk output")
    out["problems"] = problems
    out["flagged"] = bool(problems)
    return out


def resources(path: str, facts: dict, requests: int | None) -> dict:
    """CPU and disk use during one measurement, from load.sh's counters (see cpu_snapshot)."""
    raw: dict = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            key, _, value = line.strip().partition("=")
            if key == "wrk_cpu_s":
                user, system = value.split()
                raw["wrk_cpu_s"] = float(user) + float(system)
            elif key:
                raw[key] = int(value)
    tick = float(facts.get("host", {}).get("clk_tck", 100))
    try:
        wall = (raw["time_ns_after"] - raw["time_ns_before"]) / 1e9
        server = (raw["server_ticks_after"] - raw["server_ticks_before"]) / tick
        busy = (raw["machine_busy_ticks_after"] - raw["machine_busy_ticks_before"]) / tick
        iowait = (raw["machine_iowait_ticks_after"] - raw["machine_iowait_ticks_before"]) / tick
    except KeyError:
        return {}
    wrk = raw.get("wrk_cpu_s", 0.0)
    out = {
        "wall_s": round(wall, 3),
        "server_cpu_cores": round(server / wall, 3),
        "wrk_cpu_cores": round(wrk / wall, 3),
        # Busy time of the whole machine that neither the server nor wrk accounts for: other
        # processes, and kernel work not charged to either.
        "other_cpu_cores": round(max(0.0, busy - server - wrk) / wall, 3),
        "iowait_cores": round(iowait / wall, 3),
        "server_cpu_us_per_request": round(server * 1e6 / requests, 1) if requests else None,
    }
    if "data_dir_bytes_after" in raw:
        grown = raw["data_dir_bytes_after"] - raw.get("data_dir_bytes_before", 0)
        out["data_dir_bytes_after"] = raw["data_dir_bytes_after"]
        out["data_dir_growth_bytes"] = grown
        out["data_dir_growth_bytes_per_request"] = round(grown / requests, 1) if requests else None
    return out


def read_facts(path: str) -> dict:
    facts: dict = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or "=" not in line:
                continue
            key, value = line.split("=", 1)
            parsed: object = value
            for cast in (int, float):
                try:
                    parsed = cast(value)
                    break
                except ValueError:
                    pass
            node = facts
            *parents, leaf = key.split(".")
            for p in parents:
                node = node.setdefault(p, {})
            node[leaf] = parsed
    return facts


def median_round(runs: list) -> dict:
    """The run with the median requests/s (the lower middle one of an even count)."""
    ordered = sorted(runs, key=lambda r: r["requests_per_s"] or 0)
    return ordered[(len(ordered) - 1) // 2]


def fmt(value, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def mib(kib) -> str:
    return "-" if not isinstance(kib, (int, float)) else f"{kib / 1024:.1f} MiB"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", required=True)
    parser.add_argument("--facts", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    facts = read_facts(args.facts)
    rounds: dict = {}
    results: dict = {}
    with open(args.runs, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            op, server, path, *rest = line.rstrip("\n").split("\t")
            with open(path, encoding="utf-8", errors="replace") as w:
                parsed = parse_wrk(w.read())
            parsed["wrk_output"] = path
            if rest:
                parsed["resources"] = resources(rest[0], facts, parsed.get("requests"))
            who = rest[1] if len(rest) > 1 and rest[1] else "admin"
            parsed["principal"] = who
            label = server if who == "admin" else f"{server}/{who}"
            rounds.setdefault(op, {}).setdefault(label, []).append(parsed)

    settings = facts.get("settings", {})
    flagged = False
    lines = []
    for op, by_server in rounds.items():
        servers = {server: median_round(runs) for server, runs in by_server.items()}
        flagged |= any(r["flagged"] for runs in by_server.values() for r in runs)
        lines.append("")
        n_rounds = max(len(runs) for runs in by_server.values())
        lines.append(
            f"== {op}: {settings.get('connections', '?')} connections, {settings.get('threads', '?')} wrk threads, "
            f"{settings.get('duration_s', '?')} s each"
            + (f", median of {n_rounds} rounds" if n_rounds > 1 else "")
            + (", pinned (servers CPU 1, wrk CPU 0)" if settings.get("pinned") == 1 else "")
            + " =="
        )
        width = max([11, *(len(server) for server in servers)])
        lines.append(f"{'server':<{width}} {'requests/s':>12} {'p50 ms':>9} {'p99 ms':>9} {'non-2xx':>9}")
        for server, r in servers.items():
            mark = "  << FLAGGED: " + "; ".join(r["problems"]) if r["flagged"] else ""
            lines.append(
                f"{server:<{width}} {fmt(r['requests_per_s'], '12.1f')} {fmt(r['p50_ms'], '9.3f')} "
                f"{fmt(r['p99_ms'], '9.3f')} {r['non2xx']:>9}{mark}"
            )
            if r["first_non2xx"]:
                lines.append(f"         first non-2xx: {r['first_non2xx'][:200]}")
        cairn, moto = servers.get("cairn"), servers.get("moto")
        if cairn and moto and cairn["requests_per_s"] and moto["requests_per_s"]:
            ratio = cairn["requests_per_s"] / moto["requests_per_s"]
            servers_ratio = round(ratio, 2)
            lines.append(f"Cairn/moto requests/s: {ratio:.2f}x")
        else:
            servers_ratio = None
        # What recording costs: the same binary with recording off, measured in the same run.
        # Each round measures cairn-norec right before cairn: a round's cost compares the two
        # under the same conditions on the machine.
        costs = [
            100 * (1 - on["requests_per_s"] / off["requests_per_s"])
            for off, on in zip(by_server.get("cairn-norec", []), by_server.get("cairn", []))
            if on["requests_per_s"] and off["requests_per_s"]
        ]
        recording_cost = round(statistics.median(costs), 1) if costs else None
        if recording_cost is not None and len(costs) == 1:
            lines.append(
                f"Recording costs {recording_cost:.1f}% of requests/s "
                f"(cairn {cairn['requests_per_s']:.0f} with recording, "
                f"cairn-norec {servers['cairn-norec']['requests_per_s']:.0f} without)"
            )
        elif recording_cost is not None:
            pairs = ", ".join(
                f"{c:.1f}% ({on['requests_per_s']:.0f}/{off['requests_per_s']:.0f})"
                for c, off, on in zip(costs, by_server["cairn-norec"], by_server["cairn"])
            )
            lines.append(
                f"Recording costs {recording_cost:.1f}% of requests/s, the median of {len(costs)} rounds: "
                f"{pairs} (with/without recording)"
            )
        # What a principal loses against the admin on the same server: each round measures them
        # back to back, so a round's loss compares the two under the same conditions.
        losses: dict = {}
        for label, runs in by_server.items():
            server, _, who = label.partition("/")
            if not who or server not in by_server:
                continue
            pairs = [
                (100 * (1 - p["requests_per_s"] / a["requests_per_s"]), a, p)
                for a, p in zip(by_server[server], runs)
                if a["requests_per_s"] and p["requests_per_s"]
            ]
            if not pairs:
                continue
            loss = round(statistics.median(c for c, _, _ in pairs), 1)
            losses[label] = {"loss_pct": loss, "by_round": [round(c, 1) for c, _, _ in pairs]}
            a, p = servers[server], servers[label]
            latency = (
                ("; median round" if len(pairs) > 1 else ";")
                + f" p50 {fmt(p['p50_ms'], '.3f')} ms against {fmt(a['p50_ms'], '.3f')}, "
                f"p99 {fmt(p['p99_ms'], '.3f')} ms against {fmt(a['p99_ms'], '.3f')}"
            )
            if len(pairs) == 1:
                lines.append(
                    f"{who} on {server} loses {loss:.1f}% of requests/s against admin "
                    f"({p['requests_per_s']:.0f} against {a['requests_per_s']:.0f}){latency}"
                )
            else:
                each = ", ".join(
                    f"{c:.1f}% ({pr['requests_per_s']:.0f}/{ar['requests_per_s']:.0f})" for c, ar, pr in pairs
                )
                lines.append(
                    f"{who} on {server} loses {loss:.1f}% of requests/s against admin, the median of "
                    f"{len(pairs)} rounds: {each} ({who}/admin){latency}"
                )
        for server, r in servers.items():
            res = r.get("resources") or {}
            if not res:
                continue
            text = (
                f"  {server} run, CPU in cores: server {res['server_cpu_cores']:.2f} "
                f"({fmt(res['server_cpu_us_per_request'], '.0f')} us/request), wrk {res['wrk_cpu_cores']:.2f}, "
                f"other {res['other_cpu_cores']:.2f}; iowait {res['iowait_cores']:.2f}"
            )
            if "data_dir_growth_bytes" in res:
                text += (
                    f"; data dir +{res['data_dir_growth_bytes'] / 1e6:.1f} MB "
                    f"({fmt(res['data_dir_growth_bytes_per_request'], '.0f')} B/request)"
                )
            lines.append(text)
            if res["other_cpu_cores"] > 0.25:
                lines.append(
                    f"  WARNING: something else used {res['other_cpu_cores']:.2f} cores during the {server} run: "
                    "its figures are skewed"
                )
        results[op] = {
            "servers": servers,
            "rounds": by_server if n_rounds > 1 else None,
            "recording_cost_pct_by_round": [round(c, 1) for c in costs] if n_rounds > 1 else None,
            "ratio_cairn_over_moto_rps": servers_ratio,
            "recording_cost_pct": recording_cost,
            "principal_loss_pct": {label: v["loss_pct"] for label, v in losses.items()} or None,
            "principal_loss_pct_by_round": (
                {label: v["by_round"] for label, v in losses.items()} if losses and n_rounds > 1 else None
            ),
        }

    cairn_facts = facts.get("cairn", {})
    moto_facts = facts.get("moto", {})
    lines.append("")
    if cairn_facts:
        lines.append(
            f"Cairn start to first served request (GET /_cairn/health): {fmt(cairn_facts.get('startup_ms'), '.1f')} ms"
        )
        lines.append(
            f"Cairn RSS: idle after start {mib(cairn_facts.get('rss_idle_kib'))}, "
            f"after load {mib(cairn_facts.get('rss_after_load_kib'))}"
        )
    if moto_facts:
        lines.append(
            f"moto start to first served request (GET /moto-api/data.json): {fmt(moto_facts.get('startup_ms'), '.1f')} ms; "
            f"RSS idle {mib(moto_facts.get('rss_idle_kib'))}, after load {mib(moto_facts.get('rss_after_load_kib'))}"
        )
    host = facts.get("host", {})
    idle = host.get("cpu_idle_pct_before")
    if isinstance(idle, int) and idle < 80:
        lines.append(f"WARNING: the machine was only {idle}% idle before the run: figures are low and noisy.")
    if flagged:
        lines.append("")
        lines.append("FLAGGED: at least one run had errors; its figures are not a clean measurement.")
    print("\n".join(lines))

    doc = {
        "generated_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **facts,
        "results": results,
        "flagged": flagged,
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    print(f"\nwrote {args.out}")
    return 3 if flagged else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Starts a server for bench/load.sh, waits until it serves, and measures how long that took.

    launch.py --stdout FILE --stderr FILE --health-path PATH [--pid-file FILE]
              (--port-regex REGEX | --port auto|N) [--timeout S] -- COMMAND...

With --port-regex the port is read from the server's stdout (the first group of REGEX), as
Cairn prints `cairn listening on http://127.0.0.1:NNNN` when given port 0. With --port auto a
free loopback port is picked and substituted for `{port}` in COMMAND.

The server runs in a session of its own (its process group id is its pid) and is left running
when this script exits; load.sh stops it (its pid is written to --pid-file as soon as it is
spawned, so it can be stopped even if this script is interrupted). Prints one line:
    PID PORT STARTUP_MS
where STARTUP_MS runs from just before the process is spawned to the first 200 answer to
GET PATH, polled in a tight loop.
"""

from __future__ import annotations

import argparse
import re
import socket
import subprocess
import sys
import time


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def probe(port: int, path: str) -> int | None:
    """The status of GET path, or None when the server does not answer yet."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode()
            )
            data = b""
            while b"\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
    except OSError:
        return None
    parts = data.split(b" ", 2)
    if len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1].isdigit():
        return int(parts[1])
    return None


def tail(path: str, limit: int = 4000) -> str:
    try:
        with open(path, "rb") as f:
            return f.read()[-limit:].decode("utf-8", "replace")
    except OSError:
        return ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stdout", required=True)
    parser.add_argument("--stderr", required=True)
    parser.add_argument("--health-path", required=True)
    parser.add_argument("--port-regex")
    parser.add_argument("--port")
    parser.add_argument("--pid-file")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command or (args.port_regex is None) == (args.port is None):
        parser.error("give a COMMAND and exactly one of --port-regex and --port")

    port: int | None = None
    if args.port is not None:
        port = free_port() if args.port == "auto" else int(args.port)
        command = [part.replace("{port}", str(port)) for part in command]
    pattern = re.compile(args.port_regex.encode()) if args.port_regex else None

    with open(args.stdout, "wb") as out, open(args.stderr, "wb") as err:
        start = time.perf_counter_ns()
        proc = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True
        )
    deadline = time.monotonic() + args.timeout
    if args.pid_file:
        with open(args.pid_file, "w", encoding="utf-8") as f:
            f.write(f"{proc.pid}\n")

    def fail(why: str) -> int:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        sys.stderr.write(f"launch: {' '.join(command)}: {why}\n")
        sys.stderr.write(f"--- its stdout (tail):\n{tail(args.stdout)}\n--- its stderr (tail):\n{tail(args.stderr)}\n")
        return 1

    while True:
        if proc.poll() is not None:
            return fail(f"exited with status {proc.returncode} before serving")
        if time.monotonic() > deadline:
            return fail(f"not serving {args.health_path} after {args.timeout:.0f} s")
        if port is None:
            with open(args.stdout, "rb") as f:
                match = pattern.search(f.read())
            if match is None:
                time.sleep(0.0002)
                continue
            port = int(match.group(1))
        status = probe(port, args.health_path)
        if status == 200:
            break
        time.sleep(0.0002 if status is None else 0.01)
    startup_ms = (time.perf_counter_ns() - start) / 1e6
    print(f"{proc.pid} {port} {startup_ms:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

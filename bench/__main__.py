"""Measure what the service does per second and per CPU: logins against the Argon2 limit of the same machine,
refresh rotations, introspections of opaque and JWT access tokens, the customer's own account, the framework floor.

Starts real PostgreSQL and Redis (embedded, or DATABASE_URL / REDIS_URL), starts the service with several worker
processes exactly as `gatehouse serve` does, prepares accounts through the API, measures Argon2id verifications/s
on every core, then drives each operation from this process (its own, apart from the service's) with a minimal
keep-alive HTTP/1.1 client. Prints a table and the goals' ratios; `--write-readme` also puts it in bench/README.md.

    python -m bench [--seconds 8] [--rounds 3] [--workers N] [--connections 32 64] [--login-connections 8 32]
                    [--json] [--write-readme]
    python -m bench login-formats | login-profile | import | sizing   (see bench/README.md)
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys

from bench import login_formats
from bench.harness import THROUGHPUT_MARKER, add_output_options, databases, log, run_loop, service, write_readme_section
from bench.operations import run
from bench.processes import CpuMeter, redis_pid
from bench.report import Machine, as_json, render


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument(
        "command",
        nargs="?",
        default="throughput",
        choices=("throughput", "login-formats"),
        help="throughput (the default): every operation's rate, latency and CPU; login-formats: the time of a "
        "failed login for an unknown user and for an account of each password hash format",
    )
    parser.add_argument("--seconds", type=float, default=8, help="length of one round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per operation; the median round is reported")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--accounts", type=int, default=64)
    parser.add_argument("--connections", type=int, nargs="+", default=[32, 64], help="for every other operation")
    parser.add_argument("--login-connections", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--logins", type=int, default=15, help="login-formats: failed logins per kind of account")
    add_output_options(parser)
    args = parser.parse_args()
    args.admin_user, args.admin_password = "bench-admin", secrets.token_urlsafe(18)
    return args


def main() -> int:
    if sys.argv[1:2] == ["import"]:
        from bench.imports import main as import_main

        return import_main(sys.argv[2:])
    if sys.argv[1:2] == ["login-profile"]:
        from bench.login_profile import main as login_profile_main

        return login_profile_main(sys.argv[2:])
    if sys.argv[1:2] == ["sizing"]:
        from bench.sizing import main as sizing_main

        return sizing_main(sys.argv[2:])
    args = _arguments()
    if args.command == "login-formats":
        return login_formats.main(args)
    load_before = os.getloadavg()[0]
    with databases() as dbs, service(dbs, args.workers, (args.admin_user, args.admin_password)) as server:
        meter = CpuMeter(server.process.pid, dbs.postgres_pid, redis_pid(dbs.redis_url))
        argon2, results = run_loop(run(args, *server.host_and_port, meter))
    machine = Machine.now(load_before)
    table = render(results, argon2, machine, args)
    print(json.dumps(as_json(results, argon2, machine, args), indent=2) if args.json else table)
    if args.write_readme:
        write_readme_section(THROUGHPUT_MARKER, table)
        log("wrote bench/README.md")
    failed = [f"{r.name} x{r.concurrency}" for r in results if r.errors]
    if failed:
        log(f"errors during: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The local stack: how fast `python -m offline serve` starts, how it holds a load and a burst.

    python benchmarks/bench_local.py [--starts N] [--requests N] [--clients N] [--rounds N]
                                     [--burst-clients N] [--burst-requests N]
                                     [--burst-baseline COMMIT] [--only burst] [--keep-logs]

Start-up is the wall time from launching `python -m offline serve` to its first 200 on
`GET /health`, warm: the build is done before the clock starts (build.py runs first only if
`build/manifest.json` is missing, and is not counted). Each start is a fresh process on fresh
loopback ports; the median is held against a fixed target of 30 s. The named peer for this
figure is the documented cold start of `sam local start-api`, which cannot run here: it runs
every function in a Docker container, and there is no Docker daemon on this machine. So no
peer is run for it, and the figure stands against the fixed target alone.

Load runs against one stack, the last one started. `--clients` threads each keep one
persistent HTTP/1.1 connection and share `--requests` request indices, then stop by
themselves. The mix is fixed by index, not random: of every 20 requests, 14 are
`GET /items/<id>` of one item created up front, 3 `GET /health` and 3 `GET /items?limit=20`.
One round of the mix per client is sent first and not counted, so that each function's pool
of workers has grown before the clock starts. Any non-2xx answer or exception is an error,
warm-up included, and the target is zero errors. The peer in the same run is as many
`GET /health` requests from the same clients with the same headers: that route needs no
authorizer and makes no AWS call, so it is the floor of the gateway and a worker; the ratio
of the mix's p50 to it is for information only. Latencies are taken by the clients, from
sending a request to reading the whole answer; `gw p50` is the gateway's own figure from its
access log (request read to answer written), so the gap between the two is what the sockets
and the clients add.

Enforcement is what the emulator's policy checks (offline/enforcement/gate.py) cost a request.
The same warm-up and the same `--requests` of the mix from the same `--clients` run against
a stack started as `make local` starts it, enforcement on, and against its peer: the same
stack started with `--no-enforcement`, which serves every call as plain moto does. Each
stack is probed first: a function's role calls DynamoDB ListTables, which none of its grants
allows; the emulator must refuse it exactly when enforcement is on, or the run stops. Each
side gets a fresh stack on fresh loopback ports in each of `--rounds` rounds, started after
the one before it is stopped, so only one stack runs at a time; the order alternates (on
first in odd rounds, off first in even ones) so that neither side always goes first.
Latencies are pooled over the rounds per side; req/s is the pooled count over the pooled
wall time. The target is that enforcement adds at most 20% to the mix's p50: p50 on / p50
off <= 1.20; each round's own ratio is shown too, for information. Both sides are held to
zero errors, like the load above: a refusal by the emulator during the load is an error (the
function answers 5xx), and every "refused" or "could not authorize" line in the stacks' logs
is listed after the table.

Burst is how the gateway takes many clients that arrive at once; it runs last, or alone with
`--only burst`. `--burst-clients` (64) threads are released together by a barrier: the first
half each keep one persistent HTTP/1.1 connection, opened before the barrier; the other half
open a new TCP connection for every request (connect, send, read the whole answer, close),
so that their first connections reach the listener in one burst and keep coming while the
others are served. Each client sends `--burst-requests` (20) requests of the mix above with
the same headers, starting at its own place in the cycle (the same places in both halves, so
that both send the same mix); a new connection's latency runs from its connect to the end of
the answer. One burst of one round of the mix per client is sent first and not counted, but
its errors are. Any non-2xx answer or exception is an error, and among the errors every
connection reset or refusal (ConnectionResetError, ConnectionRefusedError,
ConnectionAbortedError, BrokenPipeError, RemoteDisconnected, a timeout while connecting) is
counted by type too. The peer is the same burst against the gateway as it was before it took
bursts: the project at commit 7e64afd (`--burst-baseline`), exported with `git archive` into
the throwaway folder, with this venv linked in, and built there once by its own build.py
before any clock starts (this tree's layer zips are copied in first: they are named by their
inputs' hash, so the builder there reuses one only where it hashes the same inputs to the
same name, and builds the rest, pip included). It is started as the current stack is, by the
same interpreter with the same flags, which that commit has too, enforcement on. Its
listener has socketserver's default backlog of 5, and none of the later hardening (bodies
read by Content-Length or chunks within the quota, 400 on a bad length, JSON for
http.server's own refusals, the authorizer's claims checked with joserfc's registry). On
Linux a full accept queue drops a new connection's SYN, which the client sends again after 1
s and then 3 s, so a backlog too small shows here as a long tail on the new-connection half
more often than as resets. Each side gets a fresh stack on fresh loopback ports in each of
`--rounds` rounds, one stack at a time, the current one first in odd rounds and the baseline
first in even ones, and the figures are pooled per side as in the enforcement comparison.
Each side has a row, and one for each half; a half's req/s is its count over the time until
its last client finished, and `conns` is the TCP connections its clients opened (one per
persistent client when none was dropped). The target is zero errors and zero resets for the
current gateway, warm-up included. The baseline's errors and resets, the ratio of the p99s
(current / baseline, pooled and by round) and the refusals in the baseline's logs are for
information.

Every stack records itself in a throwaway `OFFLINE_STATE`, so a `make local` already running
in this tree is left alone, and each is stopped through its own process group, whatever
happens. Its log (the stack's output and, through `OFFLINE_EMULATOR_LOG`, the emulator's
stderr, where refusals are logged) is in the same throwaway folder, removed at the end unless
`--keep-logs` is given. Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from botocore.exceptions import ClientError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from offline.common.ports import HOST  # noqa: E402
from offline.stack.driver import REQUEST_TIMEOUT_S, DriverError, ServeProcess  # noqa: E402

MANIFEST = ROOT / "build" / "manifest.json"
START_TARGET_S = 30.0
MIX_CYCLE = 20
MIX_HEALTH = (4, 11, 18)  # 3 of 20: 15 %
MIX_LIST = (1, 8, 15)  # 3 of 20: 15 %; the other 14 of 20 read the item
ITEM, HEALTH, LIST = "GET /items/{id}", "GET /health", "GET /items"
ENFORCEMENT_TARGET = 1.20  # p50 with enforcement on / p50 with it off
# The session of check_enforcement's probe, whose refusal is the expected one.
PROBE_SESSION = "bench-enforcement-probe"
BURST_BASELINE = "7e64afd"  # the gateway before its burst backlog (a04026d) and hardening
BURST_HALVES = ("persistent", "new connection")
CONNECT_TIMEOUT = "TimeoutError on connect"
RESETS = frozenset({"ConnectionResetError", "ConnectionRefusedError", "ConnectionAbortedError",
                    "BrokenPipeError", "RemoteDisconnected", CONNECT_TIMEOUT})  # fmt: skip


S = TypeVar("S")  # a side of a comparison
M = TypeVar("M")  # what one stack of it measured


@dataclass
class Run:
    """What one bounded run of requests measured."""

    wall_s: float = 0.0
    latencies: list[float] = field(default_factory=list)
    by_route: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    gateway: dict[str, list[float]] = field(default_factory=dict)  # its access log, by route
    resets: Counter[str] = field(default_factory=Counter)  # among the errors, by type
    connections: int = 0  # TCP connections the clients opened

    def add(self, other: Run) -> None:
        self.latencies += other.latencies
        for route, values in other.by_route.items():
            self.by_route.setdefault(route, []).extend(values)
        for route, values in other.gateway.items():
            self.gateway.setdefault(route, []).extend(values)
        self.errors += other.errors
        self.resets += other.resets
        self.connections += other.connections


def percentile(values: list[float], fraction: float) -> float:
    """Nearest rank: the smallest value with at least `fraction` of them at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


class Stack(ServeProcess):
    """One `python -m offline serve` (offline/stack/driver.py), from this tree or from another
    (`root`: the burst's baseline), and what the benchmark reads from its log."""

    def check_enforcement(self) -> None:
        """The flag took, in the emulator itself: a function's role is refused a call none of
        its grants allows (DynamoDB ListTables) exactly when enforcement is on."""
        role = self.client("lambda").list_functions()["Functions"][0]["Role"]
        session = self.client("sts").assume_role(RoleArn=role, RoleSessionName=PROBE_SESSION)
        dynamodb = self.emulator.client(
            "dynamodb", self.region, session=session["Credentials"],
            retries={"total_max_attempts": 1},
        )  # fmt: skip
        try:
            dynamodb.list_tables()
            refused = False
        except ClientError:
            refused = True
        if refused != self.enforce:
            how = "refused" if refused else "allowed"
            sys.exit(f"stack {self.name} (enforcement {'on' if self.enforce else 'off'}) {how}"
                     f" a call its role has no grant for:\n{self.log_tail()}")  # fmt: skip

    def refusals(self) -> list[str]:
        """The emulator's refusal lines, but for the probe's own."""
        return [line for line in super().refusals() if PROBE_SESSION not in line]

    def log_size(self) -> int:
        """Where the log ends now: what a measurement's access-log lines follow."""
        return self.log_path.stat().st_size

    def gateway_latencies(self, offset: int, expected: int) -> tuple[dict[str, list[float]], int]:
        """The gateway's own latency by route key, from its access log after `offset`, and
        where the log ends. It logs after answering, so wait a little for the last lines."""
        deadline = time.monotonic() + 5
        while True:
            with self.log_path.open("rb") as log:
                log.seek(offset)
                data = log.read()
            complete = data[: data.rfind(b"\n") + 1]
            found: dict[str, list[float]] = {}
            for line in complete.splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if isinstance(entry, dict) and {"routeKey", "latencyMs"} <= entry.keys():
                    found.setdefault(entry["routeKey"], []).append(entry["latencyMs"] / 1000)
            if sum(map(len, found.values())) >= expected or time.monotonic() > deadline:
                return found, offset + len(complete)
            time.sleep(0.05)


def load(
    port: int, token: str, requests: int, clients: int, route_of: Callable[[int], tuple]
) -> Run:
    """`requests` requests over `clients` persistent connections; route_of(index) picks each."""
    headers = {"authorization": f"Bearer {token}"}
    indices = iter(range(requests))
    take = threading.Lock()
    ready = threading.Barrier(clients + 1)
    runs = [Run() for _ in range(clients)]

    def client(run: Run) -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S)
        try:
            connection.connect()
        except OSError:
            pass  # the first request connects again, and counts as an error if it fails too
        finally:
            ready.wait()
        while True:
            with take:
                index = next(indices, None)
            if index is None:
                break
            route, path = route_of(index)
            exchange(connection, route, path, headers, run)
        connection.close()

    threads = [threading.Thread(target=client, args=(run,), daemon=True) for run in runs]
    for thread in threads:
        thread.start()
    ready.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    total = Run(wall_s=time.perf_counter() - started)
    for run in runs:
        total.add(run)
    return total


def exchange(
    connection: http.client.HTTPConnection, route: str, path: str, headers: dict, run: Run
) -> None:
    """One GET on `connection`, timed into `run` to the end of the answer. A connection without
    a socket (a new one, or one closed after an error or by the server) connects first, and
    that is in the time."""
    connecting = connection.sock is None
    started = time.perf_counter()
    try:
        if connecting:
            connection.connect()
            run.connections += 1
            connecting = False
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        outcome: int | str = response.status
    except (OSError, http.client.HTTPException) as error:
        timed_out = connecting and isinstance(error, TimeoutError)
        outcome = CONNECT_TIMEOUT if timed_out else type(error).__name__
        connection.close()  # the next request on it connects again
    elapsed = time.perf_counter() - started
    run.latencies.append(elapsed)
    run.by_route.setdefault(route, []).append(elapsed)
    if not (isinstance(outcome, int) and 200 <= outcome < 300):
        run.errors[f"{route} {outcome}"] += 1
        if outcome in RESETS:
            run.resets[str(outcome)] += 1


def burst(
    port: int, token: str, per_client: int, clients: int, route_of: Callable[[int], tuple]
) -> dict[str, Run]:
    """`clients` clients released at once, `per_client` requests each: the first half over one
    persistent connection each, the other half over a new connection for every request. The
    runs of each half (wall time: until its last client finished), and of "all"."""
    headers = {"authorization": f"Bearer {token}"}
    half = clients // 2
    ready = threading.Barrier(clients + 1)
    runs = [Run() for _ in range(clients)]
    finished = [0.0] * clients

    def client(number: int) -> None:
        run, fresh = runs[number], number >= half
        first = number % half  # where it starts in the mix: the same places in both halves
        connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S)
        try:
            if not fresh:
                connection.connect()
                run.connections += 1
        except OSError:
            connection.close()  # the first request connects again, and counts if it fails too
        finally:
            ready.wait()
        try:
            for index in range(first, first + per_client):
                route, path = route_of(index)
                if fresh:
                    connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S)
                exchange(connection, route, path, headers, run)
                if fresh:
                    connection.close()
            connection.close()
        finally:
            finished[number] = time.perf_counter()

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    everything = Run(wall_s=time.perf_counter() - started)
    parts: dict[str, Run] = {}
    for name, numbers in zip(BURST_HALVES, (range(half), range(half, clients)), strict=True):
        part = parts[name] = Run(wall_s=max(finished[n] for n in numbers) - started)
        for number in numbers:
            part.add(runs[number])
        everything.add(part)
    return {**parts, "all": everything}


def row(name: str, run: Run, ratio: str, target: str, rate: bool = True) -> str:
    values = run.latencies
    per_second = f"{len(values) / run.wall_s:>8.1f}" if rate and run.wall_s else f"{'':>8}"
    p50, p99, worst = (statistics.median(values), percentile(values, 0.99), max(values))
    logged = [value for values in run.gateway.values() for value in values]
    gateway = f"{statistics.median(logged) * 1000:>7.1f}ms" if logged else f"{'-':>9}"
    line = (f"{name:<18} {len(values):>6} {p50 * 1000:>7.1f}ms {p99 * 1000:>7.1f}ms"
            f" {worst * 1000:>7.1f}ms {gateway} {per_second} {sum(run.errors.values()):>6}"
            f" {ratio:>7} {target}")  # fmt: skip
    return line.rstrip()


def ensure_built() -> None:
    if MANIFEST.is_file():
        return
    print(f"no {MANIFEST.relative_to(ROOT)}: running build.py first (not timed)", flush=True)
    result = subprocess.run([sys.executable, str(ROOT / "build.py")], cwd=ROOT, timeout=900)
    if result.returncode != 0 or not MANIFEST.is_file():
        sys.exit("build.py failed")


def mix_of(item_path: str) -> Callable[[int], tuple[str, str]]:
    """The fixed mix by request index, for one item."""

    def mixed(index: int) -> tuple[str, str]:
        slot = index % MIX_CYCLE
        if slot in MIX_HEALTH:
            return HEALTH, "/health"
        if slot in MIX_LIST:
            return LIST, "/items?limit=20"
        return ITEM, item_path

    return mixed


def prepare(stack: Stack, label: str) -> tuple[str, Callable[[int], tuple[str, str]]]:
    """alice registered and one item created and read back: her token and the mix."""
    token = stack.token("alice")
    user = {"email": "alice@example.com", "name": "Alice"}
    reply = stack.request("POST", "/users", token=token, body=user)
    if reply.status != 201:
        sys.exit(f"{stack.name}: POST /users answered {reply.status}: {reply.body[:500]!r}")
    reply = stack.request("POST", "/items", token=token, body={"name": "Lamp"})
    if reply.status != 201:
        sys.exit(f"{stack.name}: POST /items answered {reply.status}: {reply.body[:500]!r}")
    item_path = f"/items/{reply.json['id']}"
    reply = stack.request("GET", item_path, token=token)
    if reply.status != 200:
        sys.exit(f"{stack.name}: GET {item_path} answered {reply.status}: {reply.body[:500]!r}")
    print(f"  {label}: alice registered, item {item_path} created", flush=True)
    return token, mix_of(item_path)


def print_log_tail(stack: Stack) -> None:
    print(f"  the log of {stack.name}, last lines:", flush=True)
    print("    " + stack.log_tail(25).replace("\n", "\n    "), flush=True)


@dataclass
class Side:
    """One side of the enforcement comparison, over all its rounds."""

    enforce: bool
    warm: Run = field(default_factory=Run)  # the warm-ups, pooled
    rounds: list[tuple[int, int, Run]] = field(default_factory=list)  # round, position, mix

    @property
    def label(self) -> str:
        return "on" if self.enforce else "off"

    def pooled(self) -> Run:
        total = Run(wall_s=sum(run.wall_s for _, _, run in self.rounds))
        for _, _, run in self.rounds:
            total.add(run)
        return total


def measure_side(args: argparse.Namespace, stack: Stack) -> tuple[Run, Run]:
    """Warm-up and mix on one fresh stack: what `load` above does, without the peer."""
    seconds = stack.wait_healthy()
    stack.check_enforcement()
    token, mixed = prepare(stack, f"{stack.name}: healthy after {seconds:.2f}s")
    before = stack.log_size()
    warm = load(stack.port, token, MIX_CYCLE * args.clients, args.clients, mixed)
    # Past the warm-up's own access-log lines, which the gateway writes after answering.
    _, offset = stack.gateway_latencies(before, len(warm.latencies))
    mix = load(stack.port, token, args.requests, args.clients, mixed)
    mix.gateway, _ = stack.gateway_latencies(offset, args.requests)
    print(f"  {stack.name}: warm-up {len(warm.latencies)} (errors"
          f" {sum(warm.errors.values())}), mix {len(mix.latencies)} in {mix.wall_s:.2f}s"
          f" (errors {sum(mix.errors.values())})", flush=True)  # fmt: skip
    if warm.errors or mix.errors:
        print_log_tail(stack)
    return warm, mix


def alternated(
    rounds: int,
    sides: tuple[S, S],
    start: Callable[[S, int], Stack],
    measure: Callable[[Stack], M],
    stacks: list[Stack],
) -> Iterator[tuple[int, int, S, M]]:
    """`rounds` rounds of one fresh stack per side, one stack at a time, the order alternating
    so that neither side always goes first: (round, position in it, side, measurement)."""
    for number in range(1, rounds + 1):
        order = sides if number % 2 else (sides[1], sides[0])
        for position, side in enumerate(order, 1):
            stack = start(side, number)
            stacks.append(stack)
            try:
                measured = measure(stack)
            finally:
                stack.stop()
            yield number, position, side, measured


def compare_enforcement(args: argparse.Namespace, work: Path, stacks: list[Stack]) -> list[Side]:
    on, off = Side(True), Side(False)
    rounds = alternated(
        args.rounds,
        (on, off),
        lambda side, number: Stack(work, f"enforce-{side.label}-{number}", enforce=side.enforce),
        lambda stack: measure_side(args, stack),
        stacks,
    )
    for number, position, side, (warm, mix) in rounds:
        side.warm.add(warm)
        side.rounds.append((number, position, mix))
    return [on, off]


def print_enforcement(sides: list[Side]) -> bool:
    """The comparison's table; True if a target was missed."""
    on, off = sides
    failed = False
    pooled = {side.label: side.pooled() for side in sides}
    ratio = statistics.median(pooled["on"].latencies) / statistics.median(pooled["off"].latencies)
    print(f"\n{'enforcement':<18} {'count':>6} {'p50':>9} {'p99':>9} {'max':>9} {'gw p50':>9}"
          f" {'req/s':>8} {'errors':>6} {'ratio':>7} target")  # fmt: skip
    for side, shown in ((on, f"{ratio:.2f}x"), (off, "1.00x")):
        run = pooled[side.label]
        errors = "ok" if not run.errors and not side.warm.errors else "MISSED"
        target = f"0 errors {errors}"
        if side is on:
            verdict = "ok" if ratio <= ENFORCEMENT_TARGET else "MISSED"
            target = f"p50 <= {ENFORCEMENT_TARGET:.2f}x off {verdict}; {target}"
            failed |= verdict != "ok"
        failed |= errors != "ok"
        print(row(f"{side.label} (peer)" if side is off else side.label, run, shown, target))
    by_round = {(number, side.label): (position, run)
                for side in sides for number, position, run in side.rounds}  # fmt: skip
    for number in sorted({number for number, _ in by_round}):
        on_p50 = statistics.median(by_round[number, "on"][1].latencies)
        off_p50 = statistics.median(by_round[number, "off"][1].latencies)
        for label in ("on", "off"):
            position, run = by_round[number, label]
            shown = f"{on_p50 / off_p50:.2f}x" if label == "on" else ""
            nth = "1st" if position == 1 else "2nd"
            print(row(f"  round {number} {label}, {nth}", run, shown, ""))
    for side in sides:
        for label, run in (("warm-up", side.warm), ("mix", pooled[side.label])):
            for what, count in sorted(run.errors.items()):
                print(f"errors with enforcement {side.label}, {label}: {what} x{count}")
    return failed


@dataclass
class BurstSide:
    """One side of the burst comparison, over all its rounds."""

    label: str  # "current" or "baseline"
    root: Path
    warm: dict[str, Run] = field(default_factory=dict)  # the warm-ups, pooled, by half
    rounds: list[tuple[int, int, dict[str, Run]]] = field(default_factory=list)

    def pooled(self, part: str) -> Run:
        """One half, or "all", over the rounds."""
        total = Run(wall_s=sum(runs[part].wall_s for _, _, runs in self.rounds))
        for _, _, runs in self.rounds:
            total.add(runs[part])
        return total


def export_baseline(work: Path, commit: str) -> Path:
    """The project at `commit`, exported into `work` with this venv linked in, and built by
    its own build.py (not timed)."""
    tree = work / "baseline"
    tree.mkdir()
    print(f"  burst: exporting {commit} and running its build.py (not timed) ...", flush=True)
    started = time.monotonic()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit], capture_output=True, timeout=300
    )
    if archive.returncode != 0:
        sys.exit(f"git archive {commit} failed:\n{archive.stderr.decode(errors='replace')}")
    unpacked = subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, timeout=300)
    if unpacked.returncode != 0:
        sys.exit(f"could not unpack {commit} into {tree}")
    if (ROOT / ".venv").is_dir():
        (tree / ".venv").symlink_to(ROOT / ".venv", target_is_directory=True)
    # Named by the hash of their inputs: the builder there reuses a zip only where its own
    # inputs hash to that name, builds the rest and removes what it does not use.
    if (ROOT / "build" / "layers").is_dir():
        shutil.copytree(ROOT / "build" / "layers", tree / "build" / "layers")
    log = work / "baseline-build.log"
    with log.open("wb") as output:
        result = subprocess.run([sys.executable, "build.py"], cwd=tree, stdout=output,
                                stderr=subprocess.STDOUT, timeout=900)  # fmt: skip
    if result.returncode != 0 or not (tree / "build" / "manifest.json").is_file():
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
        sys.exit(f"build.py of {commit} failed:\n{tail}")
    print(f"  burst: {commit} built in {time.monotonic() - started:.1f}s", flush=True)
    return tree


def measure_burst(args: argparse.Namespace, stack: Stack) -> tuple[dict[str, Run], dict[str, Run]]:
    """Warm-up burst and burst on one fresh stack."""
    seconds = stack.wait_healthy()
    if stack.root == ROOT:  # the baseline predates enforcement: it allows every call
        stack.check_enforcement()
    token, mixed = prepare(stack, f"{stack.name}: healthy after {seconds:.2f}s")
    before = stack.log_size()
    warm = burst(stack.port, token, MIX_CYCLE, args.burst_clients, mixed)
    _, offset = stack.gateway_latencies(before, len(warm["all"].latencies))
    runs = burst(stack.port, token, args.burst_requests, args.burst_clients, mixed)
    runs["all"].gateway, _ = stack.gateway_latencies(offset, len(runs["all"].latencies))
    counts = {label: f"errors {sum(run['all'].errors.values())}, resets"
                     f" {sum(run['all'].resets.values())}"
              for label, run in (("warm", warm), ("burst", runs))}  # fmt: skip
    print(f"  {stack.name}: warm-up burst {len(warm['all'].latencies)} ({counts['warm']}),"
          f" burst {len(runs['all'].latencies)} in {runs['all'].wall_s:.2f}s"
          f" ({counts['burst']})", flush=True)  # fmt: skip
    if warm["all"].errors or runs["all"].errors:
        print_log_tail(stack)
    return warm, runs


def compare_burst(args: argparse.Namespace, work: Path, stacks: list[Stack]) -> list[BurstSide]:
    current = BurstSide("current", ROOT)
    baseline = BurstSide("baseline", export_baseline(work, args.burst_baseline))
    rounds = alternated(
        args.rounds,
        (current, baseline),
        lambda side, number: Stack(work, f"burst-{side.label}-{number}", root=side.root),
        lambda stack: measure_burst(args, stack),
        stacks,
    )
    for number, position, side, (warm, runs) in rounds:
        for part, run in warm.items():
            side.warm.setdefault(part, Run()).add(run)
        side.rounds.append((number, position, runs))
    return [current, baseline]


def burst_row(name: str, run: Run, ratio: str, target: str) -> str:
    values = run.latencies
    per_second = f"{len(values) / run.wall_s:>8.1f}" if run.wall_s else f"{'':>8}"
    p50, p99, worst = (statistics.median(values), percentile(values, 0.99), max(values))
    logged = [value for values in run.gateway.values() for value in values]
    gateway = f"{statistics.median(logged) * 1000:>7.1f}ms" if logged else f"{'-':>9}"
    line = (f"{name:<26} {len(values):>6} {p50 * 1000:>7.1f}ms {p99 * 1000:>7.1f}ms"
            f" {worst * 1000:>7.1f}ms {gateway} {per_second} {run.connections:>6}"
            f" {sum(run.errors.values()):>6} {sum(run.resets.values()):>6} {ratio:>7}"
            f" {target}")  # fmt: skip
    return line.rstrip()


def by_type(counts: Counter[str]) -> str:
    return ", ".join(f"{what} x{count}" for what, count in sorted(counts.items())) or "none"


def print_burst(args: argparse.Namespace, sides: list[BurstSide]) -> bool:
    """The burst comparison's table; True if the current gateway missed its target."""
    current = sides[0]
    names = {"current": "current", "baseline": f"baseline {args.burst_baseline} (peer)"}
    p99 = {(side.label, part): percentile(side.pooled(part).latencies, 0.99)
           for side in sides for part in ("all", *BURST_HALVES)}  # fmt: skip
    print(f"\n{f'burst ({args.burst_clients} clients)':<26} {'count':>6} {'p50':>9} {'p99':>9}"
          f" {'max':>9} {'gw p50':>9} {'req/s':>8} {'conns':>6} {'errors':>6} {'resets':>6}"
          f" {'ratio':>7} target")  # fmt: skip
    failed = False
    for side in sides:
        for part in ("all", *BURST_HALVES):
            run = side.pooled(part)
            ratio = p99["current", part] / p99["baseline", part]
            shown = f"{ratio:.2f}x" if side is current else "1.00x"
            target = "(information)" if side is not current and part == "all" else ""
            if side is current and part == "all":
                warm = side.warm["all"]
                verdict = "ok" if not (run.errors or warm.errors) else "MISSED"
                failed |= verdict != "ok"
                target = f"0 errors, 0 resets, warm-up included {verdict}"
            name = names[side.label] if part == "all" else f"  {part}"
            print(burst_row(name, run, shown, target))
    by_round = {(number, side.label): (position, runs["all"])
                for side in sides for number, position, runs in side.rounds}  # fmt: skip
    for number in sorted({number for number, _ in by_round}):
        ratio = (percentile(by_round[number, "current"][1].latencies, 0.99)
                 / percentile(by_round[number, "baseline"][1].latencies, 0.99))  # fmt: skip
        for label in ("current", "baseline"):
            position, run = by_round[number, label]
            shown = f"{ratio:.2f}x" if label == "current" else ""
            nth = "1st" if position == 1 else "2nd"
            print(burst_row(f"  round {number} {label}, {nth}", run, shown, ""))
    for side in sides:
        print(f"resets by type, {names[side.label]}: burst {by_type(side.pooled('all').resets)};"
              f" warm-up {by_type(side.warm['all'].resets)}")  # fmt: skip
    for side in sides:
        for part in BURST_HALVES:
            for label, run in (("warm-up", side.warm[part]), ("burst", side.pooled(part))):
                for what, count in sorted(run.errors.items()):
                    print(f"errors, {names[side.label]}, {part}, {label}: {what} x{count}")
    return failed


def print_refusals(stacks: list[Stack]) -> bool:
    """Every refusal line in every stack's log; True if there was one in a stack of this tree
    (the target is none). The burst's baseline is listed for information."""
    peers = [(stack, line) for stack in stacks if stack.root != ROOT for line in stack.refusals()]
    if any(stack.root != ROOT for stack in stacks):
        print(f"refusals in the baseline's logs: {len(peers) or 'none'} (for information)")
        for stack, line in peers[:5]:
            print(f"  {stack.name}: {line}")
    found = [(stack, line) for stack in stacks if stack.root == ROOT for line in stack.refusals()]
    if not found:
        print("refusals in the stacks' logs: none (target: none) ok")
        return False
    print(f"refusals in the stacks' logs: {len(found)} (target: none) MISSED")
    for stack, line in found[:20]:
        print(f"  {stack.name}: {line}")
    if len(found) > 20:
        print(f"  ... and {len(found) - 20} more")
    return True


@dataclass
class Load:
    """What the start-ups and the load on the last stack measured."""

    starts: list[float] = field(default_factory=list)
    warm: Run = field(default_factory=Run)
    mix: Run = field(default_factory=Run)
    health: Run = field(default_factory=Run)


def measure_load(args: argparse.Namespace, work: Path, stacks: list[Stack]) -> Load:
    """`--starts` starts, then the warm-up, the mix and its peer on the last stack."""
    result = Load()
    for number in range(1, args.starts + 1):
        stack = Stack(work, f"start-{number}")
        stacks.append(stack)
        seconds = stack.wait_healthy()
        result.starts.append(seconds)
        print(f"  start {number}/{args.starts}: first 200 on GET /health after"
              f" {seconds:.2f}s", flush=True)  # fmt: skip
        if number < args.starts:
            stack.stop()
    stack = stacks[-1]
    warm, mix = measure_side(args, stack)  # the mix's access-log lines are all read by now
    token = stack.token("alice")  # the peer's requests carry one too, as the mix's do
    before = stack.log_size()
    health = load(stack.port, token, args.requests, args.clients, lambda _: (HEALTH, "/health"))
    health.gateway, _ = stack.gateway_latencies(before, args.requests)
    print(f"  health: {len(health.latencies)} requests in {health.wall_s:.2f}s", flush=True)
    if health.errors:
        print_log_tail(stack)
    stack.stop()  # only one stack at a time from here on
    result.warm, result.mix, result.health = warm, mix, health
    return result


def benchmark(args: argparse.Namespace, work: Path) -> int:
    stacks: list[Stack] = []
    measured = Load()
    sides: list[Side] = []
    bursts: list[BurstSide] = []
    try:
        if args.only is None:
            measured = measure_load(args, work, stacks)
            sides = compare_enforcement(args, work, stacks)
        bursts = compare_burst(args, work, stacks)
    finally:
        for stack in stacks:
            stack.stop()
    failed = False
    for stack in stacks:
        if stack.forced or stack.leftovers:
            failed = True
            how = "needed SIGKILL" if stack.forced else "stopped on SIGTERM"
            print(f"{stack.name}: {how}, {len(stack.leftovers)} processes left behind"
                  f" (killed): {stack.leftovers}")  # fmt: skip
    if args.only is None:
        failed |= print_load(measured)
        failed |= print_enforcement(sides)
    failed |= print_burst(args, bursts)
    failed |= print_refusals(stacks)
    return 1 if failed else 0


def print_load(measured: Load) -> bool:
    """The start-up and load tables; True if a target was missed."""
    starts, warm, mix, health = measured.starts, measured.warm, measured.mix, measured.health
    failed = False
    median = statistics.median(starts)
    verdict = "ok" if median <= START_TARGET_S else "MISSED"
    failed |= verdict != "ok"
    print(f"\n{'start-up (warm)':<18} {'starts':>6} {'median':>9} {'min':>9} {'max':>9}"
          f" {'target':>10}")  # fmt: skip
    print(f"{'offline serve':<18} {len(starts):>6} {median:>8.2f}s {min(starts):>8.2f}s"
          f" {max(starts):>8.2f}s {'<= ' + f'{START_TARGET_S:.0f}s':>10} {verdict}"
          "   (peer sam local start-api: needs Docker, not run)")  # fmt: skip

    print(f"\n{'load':<18} {'count':>6} {'p50':>9} {'p99':>9} {'max':>9} {'gw p50':>9}"
          f" {'req/s':>8} {'errors':>6} {'ratio':>7} target")  # fmt: skip
    ratio = statistics.median(mix.latencies) / statistics.median(health.latencies)
    for name, run, shown in (("mix 70/15/15", mix, f"{ratio:.2f}x"),
                             ("health (peer)", health, "1.00x")):  # fmt: skip
        verdict = "ok" if not run.errors else "MISSED"
        failed |= verdict != "ok"
        print(row(name, run, shown, f"0 errors {verdict}"))
        if run is mix:
            for route in (ITEM, HEALTH, LIST):
                errors = Counter({k: v for k, v in run.errors.items() if k.startswith(route + " ")})
                part = Run(run.wall_s, run.by_route.get(route, []), errors=errors,
                           gateway={route: run.gateway.get(route, [])})  # fmt: skip
                if part.latencies:
                    print(row(f"  {route}", part, "", "", rate=False))
    if warm.errors:
        failed = True
        print("warm-up: errors before the clock started (target: none) MISSED")
    for label, run in (("warm-up", warm), ("mix", mix), ("health", health)):
        for what, count in sorted(run.errors.items()):
            print(f"errors in {label}: {what} x{count}")
    return failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--rounds", type=int, default=2, help="stacks per side, for enforcement and the burst"
    )
    parser.add_argument(
        "--burst-clients", type=int, default=64, help="half persistent, half a new connection each"
    )
    parser.add_argument("--burst-requests", type=int, default=20, help="per burst client")
    parser.add_argument(
        "--burst-baseline", default=BURST_BASELINE, help="the commit the burst runs against"
    )
    parser.add_argument("--only", choices=["burst"], help="run this case alone")
    parser.add_argument("--keep-logs", action="store_true", help="keep the stacks' logs")
    args = parser.parse_args()
    if min(args.starts, args.requests, args.clients, args.rounds, args.burst_requests) < 1:
        parser.error("--starts, --requests, --clients, --rounds and --burst-requests must be"
                     " at least 1")  # fmt: skip
    if args.burst_clients < 2 or args.burst_clients % 2:
        parser.error("--burst-clients must be even, and at least 2")
    ensure_built()
    # SIGTERM unwinds like Ctrl-C, so the stacks are stopped either way.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    python = sys.version.split()[0]
    half = args.burst_clients // 2
    bursting = (f"the burst: {args.burst_requests} requests of the mix from each of {half}"
                f" persistent and {half} new-connection clients at once, on {args.rounds} fresh"
                f" stacks of this tree and {args.rounds} of {args.burst_baseline}")  # fmt: skip
    if args.only is None:
        print(f"benchmark: {args.starts} warm starts, then {args.requests} requests of the mix"
              f" and {args.requests} GET /health from {args.clients} clients, then the mix on"
              f" {args.rounds} fresh stacks with enforcement on and {args.rounds} with it off,"
              f" then {bursting}, python {python}", flush=True)  # fmt: skip
    else:
        print(f"benchmark: {bursting}, python {python}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="bench-local-"))
    started = time.monotonic()
    try:
        return benchmark(args, work)
    except DriverError as error:  # a stack did not start, or `offline token` failed
        print(error, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: the stacks are stopped", file=sys.stderr)
        return 130
    finally:
        print(f"took {time.monotonic() - started:.0f}s", flush=True)
        if args.keep_logs:
            print(f"the stacks' logs are kept in {work}", flush=True)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

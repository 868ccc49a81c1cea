"""One command, every figure of issue 7 beside its reference, on SQLite and PostgreSQL.

    python -m bench.run --scale quick       # ~2-3 minutes: developers, smoke test
    python -m bench.run --scale province    # the real thing (2,500 / 10,000 / 40,000 officials): ~2 h on 2 cores

For each of three scales (1/16, 1/4 and all of the chosen top) and each backend, a fresh database
is filled by `bench.generate` (through the Ledger's commands, in batches), then measured:

1. command ingest through `Ledger` methods vs the library's own `repository.get` + `save`;
2. bulk recording (`Ledger.batch()`) vs raw `executemany` / COPY of the very rows it stored;
3. full rebuild of all projections vs the library's read-and-decode and a plain SQL scan;
4. `verify` of the Merkle tree vs SHA-256 over the same bytes (when `replay/verify.py` exists);
5. p50/p95 of explain, commune scoreboard, approver's queue and known-at commune replay;
6. peak resident memory of rebuild and replay (each in a process of its own);
7. growth across the three scales (time per event, latency, memory).

Ratios are medians of repeated runs within this one run, on this machine. A table is printed
and everything is written to bench/out/results-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench import references as ref
from bench.generate import Stats, generate
from domain.actors import Actor
from domain.ledger import Ledger
from domain.persistence import ledger_env
from domain.tasks import KpiKind

PRESETS = {"quick": 320, "province": 40_000}
PG_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
OUT = Path(__file__).parent / "out"
WEEKENDS = [date(2026, 3, d) for d in (1, 7, 8, 14, 15, 21, 22, 28, 29)]
TARGETS = {
    "ingest": ("ratio", 0.8), "rebuild_vs_scan": ("ratio", 0.15), "explain_p95_ms": ("max", 50.0),
    "replay_p95_ms": ("max", 1000.0), "verify_vs_sha256": ("ratio", 0.5),
}


# ------------------------------------------------------------------ databases


def leader_of(person: Any) -> Actor:
    if person.leader is None:
        raise ValueError(f"{person} has nobody to assign or approve their work")
    leader: Actor = person.leader
    return leader


@contextmanager
def database(backend: str, label: str, server: str, keep: bool) -> Iterator[str]:
    if backend == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix=f"kpi-bench-{label}-"))
        try:
            yield f"sqlite:///{folder / 'ledger.sqlite3'}"
        finally:
            if not keep:
                for f in folder.iterdir():
                    f.unlink()
                folder.rmdir()
        return
    import psycopg
    from psycopg import sql

    name = f"kpi_bench_{label}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    base = server.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        if not keep:
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def child(work: str, url: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run `bench.child` in its own process (peak memory is then its own)."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.child", work, url, json.dumps(args or {})],
        capture_output=True, text=True, cwd=Path(__file__).parent.parent,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.child {work} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def available(module: str) -> bool:
    return (Path(__file__).parent.parent / (module.replace(".", "/") + ".py")).exists()


# ------------------------------------------------------------------ figures


def median_rate(count: int, runs: list[float]) -> float:
    return count / statistics.median(runs)


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {"p50_ms": statistics.median(ordered) * 1000, "p95_ms": p95 * 1000, "n": len(ordered)}


def fig_ingest(
    ledger: Ledger, env: dict[str, str], stats: Stats, repeats: int, n: int, workdir: Path
) -> dict[str, Any]:
    """Commands one at a time (one transaction each) vs the library's get + save of one event.
    Each repeat times the reference right before the commands, so that both meet the same load
    (a commit's fsync on a shared disk, PostgreSQL's checkpoints after the generation)."""
    refapp = ref.Reference(env=ref.reference_env(env, str(workdir / "reference.sqlite3")))
    people = [(c, p) for c in stats.communes for p in c.people[2:] if p.leader is not None]  # members and heads
    people = people[: n]
    reference, log_runs, submit_runs, approve_runs = [], [], [], []
    for r in range(repeats):
        reference.append(ref.get_and_save(refapp, n))
        day = WEEKENDS[r % len(WEEKENDS)]
        started = time.perf_counter()
        for c, p in people:
            ledger.log_work(p.actor, cycle_id=c.cycle_id, on=day, hours=Decimal(1), duty="trực",
                            description="trực cuối tuần")
        log_runs.append(time.perf_counter() - started)
        with ledger.batch():  # set-up, not measured: tasks to submit and approve
            tasks = [(p, ledger.assign_task(
                leader_of(p), cycle_id=c.cycle_id, assignee_id=p.actor.official_id, title=f"bench {r}",
                kind=KpiKind.HARD, product="báo cáo", target_quantity=1, due_on=date(2026, 3, 31),
                on=date(2026, 3, 23), authority="bench")) for c, p in people]
        started = time.perf_counter()
        for p, task_id in tasks:
            ledger.submit_task(p.actor, task_id=task_id, quantity=1, on=date(2026, 3, 24))
        submit_runs.append(time.perf_counter() - started)
        started = time.perf_counter()
        for p, task_id in tasks:
            ledger.approve_task(leader_of(p), task_id=task_id, on=date(2026, 3, 25))
        approve_runs.append(time.perf_counter() - started)
    ref_rate = median_rate(n, reference)
    out = {"reference_get_save_per_s": ref_rate, "commands": len(people)}
    for name, runs in (("log_work", log_runs), ("submit_task", submit_runs), ("approve_task", approve_runs)):
        rate = median_rate(len(people), runs)
        out[f"{name}_per_s"] = rate
        out[f"{name}_ratio"] = rate / ref_rate
    mix = [a + b + c for a, b, c in zip(log_runs, submit_runs, approve_runs, strict=True)]
    out["mix_per_s"] = median_rate(3 * len(people), mix)
    out["ratio"] = out["mix_per_s"] / ref_rate
    return out


def fig_bulk(ledger: Ledger, env: dict[str, str], stats: Stats, repeats: int, n: int) -> dict[str, Any]:
    """`Ledger.batch()` of diary entries vs raw inserts of the rows it stored."""
    people = [(c, p) for c in stats.communes for p in c.people][:n]
    runs, raw_runs, copy_runs, events = [], [], [], 0
    for r in range(repeats):
        day = WEEKENDS[(r + 4) % len(WEEKENDS)]
        before = ledger.recorder.max_notification_id() or 0
        started = time.perf_counter()
        with ledger.batch():
            for c, p in people:
                for _ in range(3):
                    ledger.log_work(p.actor, cycle_id=c.cycle_id, on=day, hours=Decimal(1), duty="trực",
                                    description="nhập từ bảng tính")
        runs.append(time.perf_counter() - started)
        rows = ref.stored_rows(env, before)
        events = len(rows)
        raw_runs.append(ref.raw_insert(env, rows))
        if ref.is_postgres(env):
            copy_runs.append(ref.raw_insert(env, rows, copy=True))
    out = {"commands": 3 * len(people), "events": events, "events_per_s": median_rate(events, runs),
           "executemany_per_s": median_rate(events, raw_runs)}
    out["ratio_executemany"] = out["events_per_s"] / out["executemany_per_s"]
    if copy_runs:
        out["copy_per_s"] = median_rate(events, copy_runs)
        out["ratio_copy"] = out["events_per_s"] / out["copy_per_s"]
    return out


def fig_rebuild(url: str, ledger: Ledger, env: dict[str, str], repeats: int) -> dict[str, Any]:
    """`kpi-ledger rebuild` as it runs by default (worker processes for big logs) and in one
    process; each includes the check against a fold of the log and the swap."""
    runs = [child("rebuild", url) for _ in range(repeats)]
    single = [child("rebuild", url, {"workers": 1}) for _ in range(repeats)]
    decode = [ref.read_and_decode(ledger) for _ in range(repeats)]
    scan = [ref.plain_scan(env) for _ in range(repeats)]
    events = runs[0]["events"]
    out = {
        "events": events,
        "workers": runs[0]["workers"],
        "rebuild_per_s": median_rate(events, [r["total_s"] for r in runs]),
        "rebuild_1_per_s": median_rate(events, [r["total_s"] for r in single]),
        "decode_per_s": median_rate(decode[0][0], [d[1] for d in decode]),
        "scan_per_s": median_rate(scan[0][0], [s[1] for s in scan]),
        "peak_mb": max(r["peak_mb"] for r in runs),  # the largest of the rebuild's processes
        "peak_1_mb": max(r["peak_mb"] for r in single),
        "peak_before_mb": min(r["peak_before_mb"] for r in runs),
    }
    out["ratio_scan"] = out["rebuild_per_s"] / out["scan_per_s"]
    out["ratio_1_scan"] = out["rebuild_1_per_s"] / out["scan_per_s"]
    out["ratio_decode"] = out["rebuild_per_s"] / out["decode_per_s"]
    return out


def fig_verify(url: str, env: dict[str, str], repeats: int) -> dict[str, Any]:
    if not (available("replay.verify") and available("replay.merkle")):
        return {"status": "n/a (not built)"}
    try:
        runs = [child("verify", url) for _ in range(repeats)]
    except RuntimeError as e:
        return {"status": f"n/a (failed: {str(e).strip().splitlines()[-1][:200]})"}
    if runs[0].get("status"):
        return runs[0]
    scan_hash = [ref.plain_scan(env, hash_rows=True) for _ in range(repeats)]
    sha = [ref.sha256_only(env) for _ in range(repeats)]
    events = runs[0]["leaves"]
    out = {
        "leaves": events, "verify_per_s": median_rate(events, [r["seconds"] for r in runs]),
        "scan_and_sha256_per_s": median_rate(scan_hash[0][0], [s[1] for s in scan_hash]),
        "sha256_mb_per_s": sha[0][0] / statistics.median(s[1] for s in sha) / 1e6,
        "verify_mb_per_s": scan_hash[0][2] / statistics.median(r["seconds"] for r in runs) / 1e6,
        "tree_catch_up_s": statistics.median(r["tree_catch_up_s"] for r in runs),
        "peak_mb": max(r["peak_mb"] for r in runs),
    }
    out["ratio"] = out["verify_per_s"] / out["scan_and_sha256_per_s"]
    out["ratio_bytes"] = out["verify_mb_per_s"] / out["sha256_mb_per_s"]
    return out


def timed(fn: Callable[[], Any], samples: int) -> dict[str, float]:
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return percentiles(times)


def fig_latency(url: str, ledger: Ledger, stats: Stats, samples: int, replays: int) -> dict[str, Any]:
    import random

    from projections import queries
    from projections.store import ViewStore

    store = ViewStore(ledger.recorder)
    rng = random.Random(7)
    pairs = [(c, p) for c in stats.communes for p in c.people]
    picks = [rng.choice(pairs) for _ in range(samples)]
    it = iter(range(10**9))

    def explain() -> None:
        c, p = picks[next(it) % len(picks)]
        queries.official_score(store, c.cycle_id, p.actor.official_id)
        queries.lineage(store, c.cycle_id, p.actor.official_id)

    def board() -> None:
        c, _ = picks[next(it) % len(picks)]
        queries.scoreboard(store, c.cycle_id)

    def queue() -> None:
        c, _ = picks[next(it) % len(picks)]
        heads = [p.leader for p in c.people[2:] if p.leader is not None]
        queries.approval_queue(store, date(2026, 3, 20), heads[next(it) % len(heads)].official_id)

    for warm in (explain, board, queue):
        warm()
    out: dict[str, Any] = {"explain": timed(explain, samples), "scoreboard": timed(board, samples),
                           "approval_queue": timed(queue, samples)}
    if available("replay.timetravel"):
        head = ledger.recorder.max_notification_id() or 0
        chosen = [(str(rng.choice(stats.communes).cycle_id), head * (i + 1) // replays) for i in range(replays)]
        try:
            result = child("replay", url, {"samples": chosen})
            out["replay"] = {**percentiles(result["timings_s"]), "peak_mb": result["peak_mb"],
                             "peak_before_mb": result["peak_before_mb"]}
        except RuntimeError as e:
            out["replay"] = {"status": f"n/a (failed: {str(e).strip().splitlines()[-1][:200]})"}
    else:
        out["replay"] = {"status": "n/a (not built)"}
    return out


# ------------------------------------------------------------------ one scale, one backend


def measure(backend: str, officials: int, args: argparse.Namespace, label: str) -> dict[str, Any]:
    with database(backend, label, args.pg, args.keep) as url:
        env = ledger_env({"DATABASE_URL": url})
        ledger = Ledger(env=env)
        workdir = Path(tempfile.mkdtemp(prefix="kpi-bench-ref-"))
        say(f"[{backend} {officials:,} officials] generating")
        started = time.perf_counter()
        stats = generate(ledger, officials, seed=args.seed, batch=1_000, progress=progress)
        gen_s = time.perf_counter() - started
        events = ledger.recorder.max_notification_id() or 0
        print(file=sys.stderr)
        result: dict[str, Any] = {
            "backend": backend, "officials": officials, "events": events, "commands": stats.commands,
            "generate": {"seconds": gen_s, "events_per_s": events / gen_s, "us_per_event": gen_s / events * 1e6},
        }
        say(f"[{backend}] {events:,} events in {gen_s:.1f} s; ingest")
        result["ingest"] = fig_ingest(ledger, env, stats, args.repeat, args.ingest_n, workdir)
        say(f"[{backend}] bulk")
        result["bulk"] = fig_bulk(ledger, env, stats, args.repeat, args.bulk_n)
        say(f"[{backend}] rebuild")
        result["rebuild"] = fig_rebuild(url, ledger, env, args.rebuild_repeat)
        say(f"[{backend}] verify")
        result["verify"] = fig_verify(url, env, args.rebuild_repeat)
        say(f"[{backend}] latency")
        result["latency"] = fig_latency(url, ledger, stats, args.samples, args.replays)
        for f in workdir.iterdir():
            f.unlink()
        workdir.rmdir()
        return result


def say(text: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)


def progress(phase: str, commands: int, events: int) -> None:
    print(f"\r    {phase:<18} {commands:>10,} commands {events:>11,} events", end="", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ report


def verdict(name: str, value: float | None) -> str:
    if value is None:
        return ""
    kind, target = TARGETS[name]
    ok = value >= target if kind == "ratio" else value < target
    return "ok" if ok else "MISS"


def fmt(value: Any, digits: int = 0) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return value
    return f"{value:,.{digits}f}"


def table(results: list[dict[str, Any]]) -> str:
    lines = []

    def row(*cells: str) -> None:
        lines.append("| " + " | ".join(cells) + " |")

    for r in results:
        lines.append(f"\n**{r['backend']}, {r['officials']:,} officials, {r['events']:,} events** "
                     f"(generated in {r['generate']['seconds']:.0f} s, "
                     f"{r['generate']['events_per_s']:,.0f} events/s)\n")
        row("figure", "ours", "reference", "ratio", "target")
        row("---", "---:", "---:", "---:", "---")
        i, b, rb, v, lat = r["ingest"], r["bulk"], r["rebuild"], r["verify"], r["latency"]
        ref_rate = fmt(i["reference_get_save_per_s"])
        for name in ("log_work", "submit_task", "approve_task"):
            row(f"1. ingest {name} (cmd/s)", fmt(i[f"{name}_per_s"]), ref_rate + " get+save/s",
                fmt(i[f"{name}_ratio"], 2), "")
        row("1. ingest mix (cmd/s)", fmt(i["mix_per_s"]), ref_rate + " get+save/s", fmt(i["ratio"], 2),
            f">= 0.8 {verdict('ingest', i['ratio'])}")
        row("2. bulk batch() (events/s)", fmt(b["events_per_s"]), fmt(b["executemany_per_s"]) + " executemany",
            fmt(b["ratio_executemany"], 2), "")
        if "copy_per_s" in b:
            row("2. bulk batch() vs COPY", fmt(b["events_per_s"]), fmt(b["copy_per_s"]) + " COPY",
                fmt(b["ratio_copy"], 2), "")
        row(f"3. rebuild all projections, {rb['workers']} process(es) (events/s)", fmt(rb["rebuild_per_s"]),
            fmt(rb["scan_per_s"]) + " SQL scan",
            fmt(rb["ratio_scan"], 3), f">= 0.15 {verdict('rebuild_vs_scan', rb['ratio_scan'])}")
        row("3. rebuild vs library read+decode", fmt(rb["rebuild_per_s"]), fmt(rb["decode_per_s"]) + " decode",
            fmt(rb["ratio_decode"], 3), "")
        row("3. rebuild in one process", fmt(rb["rebuild_1_per_s"]), fmt(rb["scan_per_s"]) + " SQL scan",
            fmt(rb["ratio_1_scan"], 3), "")
        if "ratio" in v:
            row("4. verify (leaves/s)", fmt(v["verify_per_s"]), fmt(v["scan_and_sha256_per_s"]) + " scan+sha256",
                fmt(v["ratio"], 2), f">= 0.5 {verdict('verify_vs_sha256', v['ratio'])}")
            row("4. verify (MB/s of state)", fmt(v["verify_mb_per_s"], 1), fmt(v["sha256_mb_per_s"], 1) + " sha256",
                fmt(v["ratio_bytes"], 3), "")
        else:
            row("4. verify", v.get("status", "n/a"), "", "", "")
        for name in ("explain", "scoreboard", "approval_queue", "replay"):
            q = lat[name]
            if "p95_ms" not in q:
                row(f"5. {name} p50/p95", q.get("status", "n/a"), "", "", "")
                continue
            target = {"explain": "< 50 ms", "replay": "< 1000 ms"}.get(name, "")
            key = {"explain": "explain_p95_ms", "replay": "replay_p95_ms"}.get(name)
            row(f"5. {name} p50/p95 (ms)", f"{q['p50_ms']:.1f} / {q['p95_ms']:.1f}", f"n={q['n']}", "",
                f"{target} {verdict(key, q['p95_ms']) if key else ''}".strip())
        row(f"6. peak RSS rebuild, {rb['workers']} process(es) (MB)", fmt(rb["peak_mb"], 0),
            f"{rb['peak_before_mb']:.0f} at start", "", "flat")
        if "peak_1_mb" in rb:
            row("6. peak RSS rebuild in one process (MB)", fmt(rb["peak_1_mb"], 0), "", "", "")
        if "peak_mb" in lat["replay"]:
            row("6. peak RSS replay (MB)", fmt(lat["replay"]["peak_mb"], 0),
                f"{lat['replay']['peak_before_mb']:.0f} at start", "", "flat")
    lines.append("\n**7. growth** (per event; latency p95)\n")
    row("backend", "officials", "events", "generate µs/ev", "rebuild µs/ev", "scan µs/ev", "explain p95 ms",
        "replay p95 ms", "rebuild MB", "replay MB")
    row(*["---"] * 10)
    for r in results:
        lat = r["latency"]
        row(r["backend"], fmt(r["officials"]), fmt(r["events"]), fmt(r["generate"]["us_per_event"], 1),
            fmt(1e6 / r["rebuild"]["rebuild_per_s"], 1), fmt(1e6 / r["rebuild"]["scan_per_s"], 2),
            fmt(lat["explain"]["p95_ms"], 1), fmt(lat["replay"].get("p95_ms"), 0),
            fmt(r["rebuild"]["peak_mb"]), fmt(lat["replay"].get("peak_mb")))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="quick", help="quick, province, or a number of officials (the top)")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="repeats of the ingest and bulk figures")
    parser.add_argument("--rebuild-repeat", type=int, default=3,
                        help="runs of rebuild and verify, and of their references, per scale (medians; default 3)")
    parser.add_argument("--ingest-n", type=int, default=200, help="commands per ingest run")
    parser.add_argument("--bulk-n", type=int, default=2_000, help="officials per bulk run (3 entries each)")
    parser.add_argument("--samples", type=int, default=100, help="samples per query latency")
    parser.add_argument("--replays", type=int, default=10, help="known-at replays sampled")
    parser.add_argument("--only-top", action="store_true", help="skip the 1/16 and 1/4 scales")
    parser.add_argument("--pg", default=os.environ.get("KPI_BENCH_POSTGRES", PG_SERVER))
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    args = parser.parse_args(argv)
    top = PRESETS.get(args.scale) or int(args.scale)
    scales = [top] if args.only_top else [max(8, top // 16), max(8, top // 4), top]
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    started = time.time()
    results: list[dict[str, Any]] = []
    OUT.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = OUT / f"results-{stamp}.json"
    meta = {"command": "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:]),
            "scale": args.scale, "scales": scales, "seed": args.seed, "started": started,
            "python": platform.python_version(), "machine": platform.machine(),
            "cpus": os.cpu_count(), "eventsourcing": _version("eventsourcing")}
    for officials in scales:
        for backend in backends:
            results.append(measure(backend, officials, args, f"{officials}_{backend[:2]}"))
            # Written after every scale: an hour-long run that fails late keeps what it measured.
            report = table(results)
            meta["seconds"] = time.time() - started
            path.write_text(json.dumps({"meta": meta, "results": results, "table": report}, indent=2, default=str))
            (OUT / f"results-{stamp}.md").write_text(report + "\n")
    print(report)
    say(f"wrote {path} ({time.time() - started:.0f} s in all)")
    return 0


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


if __name__ == "__main__":
    raise SystemExit(main())

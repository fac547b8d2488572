"""The table: each figure beside its baseline from the same run, the ratio, the target."""

from __future__ import annotations

import math
import os
import platform
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any, cast

from bench.measures import COLUMNS, LINES, Results
from bench.stats import median, percentile
from tui.domain.poll_settings import PollSettings


@dataclass
class Row:
    """One line of the table."""

    name: str
    value: float
    baseline: float | None
    baseline_name: str
    unit: str
    target: str
    passed: bool | None
    """None: no target (shown for context)."""
    ratio: float | None = None

    def __post_init__(self) -> None:
        if self.ratio is None and self.baseline:
            self.ratio = self.value / self.baseline


def machine(loads: Sequence[float] = ()) -> list[str]:
    """Where the figures were measured; ``loads``: 1-minute load averages seen during the run."""
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = os.cpu_count() or 1
    seen = list(loads) or [os.getloadavg()[0]]
    load = f"mean {sum(seen) / len(seen):.2f}, max {max(seen):.2f}"
    busy = []
    if sum(seen) / len(seen) > cores:
        busy = [
            "WARNING: the machine was busy during the run (load above the core count, the "
            "benchmark's own processes included): absolute timings include contention"
        ]
    return [
        f"machine: {model}, {cores} cores, {platform.system()} {platform.release()}",
        f"python {platform.python_version()} ({sys.executable}), textual {version('textual')}, "
        f"imagediff-tui {version('imagediff-tui')}",
        f"terminal: {COLUMNS}x{LINES} pseudo-terminal, TERM=xterm-256color; "
        f"1-minute load average during the run: {load}",
        *busy,
    ]


def _ms(values: Sequence[float], how: Callable[[Sequence[float]], float]) -> float:
    return how(values) * 1000


def rows(results: Results) -> list[Row]:
    """The table's rows from what was measured (skipping steps that did not run)."""
    v = results.values
    out: list[Row] = []
    if "paint" in v:
        paint = cast(dict[str, list[float]], v["paint"])
        floor = _ms(paint["minimal"], median)
        for count, limit in ((10, 1.5), (1000, 2.0), (10_000, 2.5)):
            if f"app{count}" not in paint:
                continue
            value = _ms(paint[f"app{count}"], median)
            out.append(
                Row(
                    f"first paint, {count:,} diffs (median)",
                    value,
                    floor,
                    "minimal Textual app",
                    "ms",
                    f"<= {limit:g}x",
                    value <= limit * floor,
                )
            )
        peak = cast(dict[str, list[float]], v["peak_rss_mib"])
        floor_rss = max(peak["minimal"])
        out.append(
            Row(
                "peak RSS, 10 diffs",
                max(peak["app10"]),
                floor_rss,
                "minimal Textual app",
                "MiB",
                "",
                None,
            )
        )
        rss_1000 = max([*peak["app1000"], cast(float, v.get("peak_rss_keys_mib", 0.0))])
        out.append(
            Row(
                "peak RSS, 1,000 diffs (incl. key run)",
                rss_1000,
                floor_rss,
                "minimal Textual app",
                "MiB",
                "<= base + 40 MB",
                rss_1000 <= floor_rss + 40 * 1e6 / 2**20,
            )
        )
        if "app10000" in peak:
            rss_10k = max([*peak["app10000"], cast(float, v.get("peak_rss_keys_10000_mib", 0.0))])
            out.append(
                Row(
                    "peak RSS, 10,000 diffs (incl. key run)",
                    rss_10k,
                    floor_rss,
                    "minimal Textual app",
                    "MiB",
                    "<= base + 80 MB",
                    rss_10k <= floor_rss + 80 * 1e6 / 2**20,
                )
            )
    if "latency" in v:
        latency = cast(dict[str, list[float]], v["latency"])
        floor_keys = latency["minimal"]
        for key, label, count in (
            ("down", "cursor down", "1,000"),
            ("filter", "filter keystroke", "1,000"),
            ("down10000", "cursor down", "10,000"),
            ("filter10000", "filter keystroke", "10,000"),
        ):
            if key not in latency:
                continue
            samples = latency[key]
            out.append(
                Row(
                    f"key-to-screen, {label}, {count} diffs, median (n={len(samples)})",
                    _ms(samples, median),
                    _ms(floor_keys, median),
                    "minimal app, key",
                    "ms",
                    "",
                    None,
                )
            )
            p95 = _ms(samples, lambda s: percentile(s, 0.95))
            out.append(
                Row(
                    f"key-to-screen, {label}, {count} diffs, p95",
                    p95,
                    _ms(floor_keys, lambda s: percentile(s, 0.95)),
                    "minimal app, key",
                    "ms",
                    "<= 50 ms",
                    p95 <= 50,
                )
            )
    if "cpu" in v:
        cpu = cast(dict[str, float], v["cpu"])
        idle_count = cast(int, v.get("idle_count", 0))
        running_count = cast(int, v.get("running_count", 0))
        out.append(
            Row(
                f"CPU, every diff terminal ({idle_count} diffs)",
                cpu["idle"] * 100,
                cpu["minimal"] * 100,
                "minimal app, idle",
                "% core",
                "<= 0.5%",
                cpu["idle"] * 100 <= 0.5,
            )
        )
        out.append(
            Row(
                f"CPU, {running_count} diffs running",
                cpu["running"] * 100,
                cpu["minimal"] * 100,
                "minimal app, idle",
                "% core",
                "<= 3%",
                cpu["running"] * 100 <= 3,
            )
        )
        out_bytes = cast(dict[str, float], v["bytes_per_s"])
        out.append(
            Row(
                f"terminal output, {running_count} diffs running",
                out_bytes["running"],
                out_bytes.get("watch"),
                "watch -n 2 status",
                "B/s",
                "<= 1,500 B/s",
                out_bytes["running"] <= 1500,
            )
        )
    if "completions" in v:
        done = cast(dict[str, float], v["completions"])
        per_second = done["bytes_per_s"]
        watch = cast(dict[str, float], v.get("bytes_per_s", {})).get("watch")
        out.append(
            Row(
                f"terminal output, {done['count']:.0f} running through to completion",
                per_second,
                watch,
                "watch -n 2 status",
                "B/s",
                "<= 1,500 B/s",
                per_second <= 1500,
            )
        )
    if "lifecycle" in v:
        life = cast(dict[str, Any], v["lifecycle"])
        count = life["count"]
        app_delays, naive_delays = life["app_delays"], life["naive_delays"]
        out.append(
            Row(
                f"status requests, lifecycle of {count} diffs",
                life["app_requests"],
                life["naive_requests"],
                "fixed 2 s polling",
                "req",
                "<= 35%",
                life["app_requests"] <= 0.35 * life["naive_requests"],
            )
        )
        for label, share, limit in (("median", 0.5, 1.5), ("p95", 0.95, 3.0)):
            value = percentile(app_delays, share)
            out.append(
                Row(
                    f"detection delay, {label} ({len(app_delays)}/{count} seen)",
                    value,
                    percentile(naive_delays, share),
                    "fixed 2 s polling",
                    "s",
                    f"<= {limit:g} s",
                    value <= limit and not life["app_missed"],
                )
            )
    if results.windows:
        cap = PollSettings().max_requests_per_second
        busiest = results.max_requests_per_second()
        out.append(
            Row(
                "busiest 1 s at the simulator, any app run",
                busiest,
                cap,
                "the app's rps cap",
                "req",
                f"<= {cap:g}",
                busiest <= cap,
            )
        )
    return out


def _number(value: float | None, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if unit in ("req",):
        return f"{value:,.0f}"
    if unit == "s":
        return f"{value:.2f}"
    if unit == "% core":
        return f"{value:.2f}%"
    if unit == "B/s":
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def table(results: Results) -> str:
    """The printed table."""
    lines = []
    header = ("measure", "value", "baseline", "ratio", "target", "result")
    data = []
    for row in rows(results):
        unit = "" if row.unit in ("req",) else f" {row.unit}"
        if row.unit == "% core":
            unit = ""
        data.append(
            (
                row.name,
                _number(row.value, row.unit) + unit,
                f"{_number(row.baseline, row.unit)}{unit} ({row.baseline_name})"
                if row.baseline is not None
                else "-",
                f"{row.ratio:.2f}x" if row.ratio is not None else "-",
                row.target or "-",
                "info" if row.passed is None else ("PASS" if row.passed else "MISS"),
            )
        )
    widths = [max(len(r[i]) for r in [header, *data]) for i in range(len(header))]
    aligned = ("<", ">", "<", ">", "<", "<")

    def fmt(cells: Sequence[str]) -> str:
        return "  ".join(
            f"{cell:{align}{width}}"
            for cell, align, width in zip(cells, aligned, widths, strict=True)
        ).rstrip()

    lines.append(fmt(header))
    lines.append("  ".join("-" * w for w in widths))
    lines.extend(fmt(r) for r in data)
    return "\n".join(lines)

"""`/metrics`: Prometheus text, written by prometheus_client from a collector that reads the ledger's totals on
every scrape. No counter lives in this process: a restart of serve, or a second one, reports the same."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable, Iterator

from aiohttp import web
from prometheus_client import CollectorRegistry, exposition, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.utils import floatToGoString

from panda_tui.readmodel.figures import Figures, read_figures
from panda_tui.store.ledger import ACTIVE, FINAL
from panda_tui.store.totals import DURATION_BUCKETS
from panda_tui.web.backend import Backend

# The classic text format, which every Prometheus reads (newer clients default to announcing 1.0.0).
CONTENT_TYPE = getattr(exposition, "CONTENT_TYPE_PLAIN_0_0_4", exposition.CONTENT_TYPE_LATEST)


def families(figures: Figures) -> Iterator[Metric]:
    runs = CounterMetricFamily("panda_runs", "Runs that reached a final status, per job and status.",
                               labels=["job", "status"])
    active = GaugeMetricFamily("panda_runs_active", "Runs queued or running now, per job and status.",
                               labels=["job", "status"])
    last = GaugeMetricFamily("panda_job_last_run_timestamp_seconds",
                             "When the job's newest run with this final status finished (Unix time).",
                             labels=["job", "status"])
    for total in figures.totals:
        if total.status in FINAL:
            runs.add_metric([total.job, total.status], total.n)
            if total.last_finished_at is not None:
                last.add_metric([total.job, total.status], total.last_finished_at)
        elif total.status in ACTIVE:
            active.add_metric([total.job, total.status], max(0, total.n))
    yield from (runs, active, last)
    yield _durations(figures)
    nxt = GaugeMetricFamily("panda_job_next_run_timestamp_seconds",
                            "The job's next scheduled slot (Unix time); enabled jobs of jobs.toml.", labels=["job"])
    for job, at in sorted(figures.next_runs.items()):
        nxt.add_metric([job], at)
    yield nxt
    paused = GaugeMetricFamily("panda_job_paused", "1 while the job is paused (its slots are skipped).",
                               labels=["job"])
    for job in sorted(figures.next_runs.keys() | figures.paused):
        paused.add_metric([job], 1.0 if job in figures.paused else 0.0)
    yield paused
    failing = GaugeMetricFamily("panda_job_failing", "1 while the job's newest verdict is a failure (what the "
                                "console's header and `status` count); every job the API lists.", labels=["job"])
    for job, bad in sorted(figures.failing.items()):
        failing.add_metric([job], 1.0 if bad else 0.0)
    yield failing
    yield GaugeMetricFamily("panda_scheduler_up", "1 while a scheduler holds the database's lease.",
                            value=1.0 if figures.scheduler_up else 0.0)
    engines = GaugeMetricFamily("panda_engine_up", "1 while the Docker engine answered the scheduler's last check.",
                                labels=["host"])
    for host, up in sorted(figures.docker_hosts.items()):
        engines.add_metric([host], 1.0 if up else 0.0)
    yield engines
    yield GaugeMetricFamily("panda_alerts_undelivered", "Alerts and pings tried and not delivered (yet).",
                            value=figures.undelivered_alerts)


def _durations(figures: Figures) -> Metric:
    """Every job on the same bucket bounds, so quantiles can be taken across jobs."""
    bounds = sorted(set(DURATION_BUCKETS) | {b.le for b in figures.buckets})
    counts: dict[str, dict[float, int]] = defaultdict(dict)
    sums: dict[str, float] = defaultdict(float)
    for bucket in figures.buckets:
        counts[bucket.job][bucket.le] = max(0, bucket.n)
        sums[bucket.job] += bucket.sum_s
    family = HistogramMetricFamily("panda_run_duration_seconds", "How long runs took, from start to end.",
                                   labels=["job"])
    for job in sorted(counts):
        cumulative, series = 0, []
        for le in bounds:
            cumulative += counts[job].get(le, 0)
            series.append((floatToGoString(le), cumulative))
        family.add_metric([job], series, sum_value=max(0.0, sums[job]))
    return family


class LedgerCollector:
    def __init__(self, read: Callable[[], Figures], extra: Callable[[], Iterator[Metric]] | None = None):
        self.read = read
        self.extra = extra

    def collect(self) -> Iterator[Metric]:
        yield from families(self.read())
        if self.extra is not None:
            yield from self.extra()


def handler(backend: Backend, consoles_open: Callable[[], int]):
    """The /metrics route: one registry with one collector, rendered on a worker thread."""
    def read() -> Figures:
        config = backend.config
        return backend.read_here(read_figures, config, time.time())

    def server() -> Iterator[Metric]:
        yield GaugeMetricFamily("panda_web_consoles", "Browser consoles open on this server.",
                                value=consoles_open())

    registry = CollectorRegistry(auto_describe=False)
    registry.register(LedgerCollector(read, server))

    async def metrics(request: web.Request) -> web.Response:
        body = await asyncio.to_thread(generate_latest, registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    return metrics

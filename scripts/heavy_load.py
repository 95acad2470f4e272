"""Heavy SQL in parallel with citizens' requests: the load ``make bench`` reports and
``tests/test_server_limits.py`` bounds.

For a fixed time, ``heavy`` clients send SQL meant to exhaust a server (a one-gigabyte
blob, an answer of 5,000 rows of 90 KB, a recursive query that runs to the time limit),
each text made unique so that no cache answers it, while two light clients fetch a page
and a published table's JSON one after the other. Measured: the light requests'
latency (idle, then under load), the heavy answers' statuses, and the server's resident
memory sampled every 50 ms (and its peak, from ``/proc``).
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import httpx

LIGHT = ["/", "/bilan/2024", "/indicateurs/indicateurs.json?annee=2024&indicateur=accompagnements&dimension=ensemble&_shape=array"]
HEAVY = [
    "select randomblob(1000000000) -- {n}",
    "with recursive c(x) as (select 1 union all select x + 1 from c limit 5000) select randomblob(90000) as b from c -- {n}",
    "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c -- {n}",
    "select group_concat(hex(randomblob(50000))) from (with recursive c(x) as (select 1 union all select x + 1 from c limit 300) select x from c) -- {n}",
]


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def _light_latencies(base: str, stop: threading.Event | None, count: int) -> list[float]:
    latencies = []
    with httpx.Client(timeout=60) as client:
        n = 0
        while (stop is None and n < count) or (stop is not None and not stop.is_set()):
            path = LIGHT[n % len(LIGHT)]
            started = time.perf_counter()
            response = client.get(base + path)
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 200, (path, response.status_code)
            n += 1
    return latencies


def heavy_load(base: str, pid: int, seconds: float = 6.0, heavy_clients: int = 6) -> dict:
    idle = _light_latencies(base, None, 30)
    stop = threading.Event()
    statuses: Counter[int] = Counter()
    rss: list[float] = []
    loaded: list[float] = []

    def heavy(number: int) -> None:
        with httpx.Client(timeout=120) as client:
            n = 0
            while not stop.is_set():
                sql = HEAVY[(number + n) % len(HEAVY)].format(n=f"{number}-{n}")
                try:
                    statuses[client.get(f"{base}/indicateurs.json?sql={quote(sql)}").status_code] += 1
                except httpx.HTTPError:
                    statuses[0] += 1
                n += 1
                time.sleep(0.02)

    def light() -> None:
        loaded.extend(_light_latencies(base, stop, 0))

    def sample() -> None:
        while not stop.is_set():
            rss.append(rss_mib(pid))
            time.sleep(0.05)

    threads = [threading.Thread(target=heavy, args=(n,)) for n in range(heavy_clients)]
    threads += [threading.Thread(target=light) for _ in range(2)] + [threading.Thread(target=sample)]
    rss_before = rss_mib(pid)
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(150)
    return {
        "leger_au_repos_p50_ms": round(1000 * statistics.median(idle), 1),
        "leger_au_repos_p95_ms": round(1000 * _percentile(idle, 0.95), 1),
        "leger_sous_charge_p50_ms": round(1000 * statistics.median(loaded), 1),
        "leger_sous_charge_p95_ms": round(1000 * _percentile(loaded, 0.95), 1),
        "leger_sous_charge_max_ms": round(1000 * max(loaded), 1),
        "requetes_legeres_sous_charge": len(loaded),
        "requetes_lourdes": dict(sorted(statuses.items())),
        "memoire_avant_mio": round(rss_before, 1),
        "memoire_max_mio": round(max(rss + [rss_mib(pid, "VmHWM")]), 1),
    }

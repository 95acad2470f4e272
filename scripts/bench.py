"""Benchmark (``make bench``): speed and memory of a release, speed of the site.

1. A deterministic year of 1,000,000 accompaniments (Excel-style CSV: Windows-1252,
   ``;``, JJ/MM/AAAA dates) is released end to end in a child process; its wall time
   and peak memory (max RSS) are measured.
2. In the same run, a bare pandas script reads the same file and computes the same
   breakdowns (counts and distinct persons by month, site, every dimension and
   site × dimension, duration mean and median): the ratio release / pandas is the
   cost of everything else (GX, secrecy, packaging, publishing). Targets: ratio ≤ 4,
   peak memory ≤ 2 GiB.
3. The site under a bounded load on 127.0.0.1 (a fixed number of requests, a few
   concurrent clients): citizens' pages against Datasette's own JSON API.
4. The same load through nginx configured by ``ccas-opendata deploiement`` (Datasette
   started with the systemd unit's command line, nginx run as a user on a loopback port):
   the cache's effect, as the ratio of requests/s through nginx to requests/s direct.
5. Heavy SQL in parallel with pages (``heavy_load.py``): page latency idle and under
   load, statuses of the heavy answers, the server's peak memory.

Figures are reported as measured in this one run; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))  # heavy_load.py, shared with the tests
OUT = REPO / "bench" / "out"
YEAR = 2024
KEY = "cle-de-banc-d-essai-" + "b" * 20

BARE_PANDAS = textwrap.dedent('''
    import sys, time
    import pandas as pd
    start = time.perf_counter()
    f = pd.read_csv(sys.argv[1], sep=";", encoding="cp1252", dtype=sys.argv[2], keep_default_na=False)
    f.columns = [c.lower() for c in f.columns]
    f["mois"] = pd.to_datetime(f["date"], format="%d/%m/%Y").dt.strftime("%Y-%m")
    f["duree"] = f["durée"].astype(int)
    dims = ["genre", "situation", "composition familiale", "quartier", "autonomie", "orientation", "canal", "satisfaction",
            "type de lieu", "intervenant", "premier accompagnement"]
    out = [f.groupby("mois").agg(n=("duree", "size"), p=("usager", "nunique")),
           f.groupby("lieu").agg(n=("duree", "size"), p=("usager", "nunique"), m=("duree", "mean"), med=("duree", "median"))]
    for d in dims:
        out.append(f.groupby(d).agg(n=("duree", "size"), p=("usager", "nunique")))
        out.append(f.groupby(["lieu", d]).agg(n=("duree", "size"), p=("usager", "nunique")))
    for multi in ("thématiques", "matériel"):
        e = f.assign(t=f[multi].str.split("|")).explode("t")
        out.append(e.groupby("t").agg(n=("duree", "size"), p=("usager", "nunique")))
        out.append(e.groupby(["lieu", "t"]).agg(n=("duree", "size"), p=("usager", "nunique")))
    print(sum(len(o) for o in out), time.perf_counter() - start)
''')


def run_child(command: list[str], env: dict | None = None) -> tuple[float, int, str]:
    """Wall time, peak RSS (bytes) and output of a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"échec de {' '.join(command[:3])}…\n{result.stderr[-3000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the largest child so far: run the biggest one first.
    return wall, max(peak, before) * 1024, result.stdout + result.stderr


def make_input(size: int) -> Path:
    from ccas_opendata.config import read_publisher
    from ccas_opendata.demo import synthetic_accompagnements, synthetic_ateliers, synthetic_formations, write_table

    inputs = OUT / f"entrees-{size}"
    marker = inputs / "accompagnements.csv"
    if marker.exists():
        return inputs
    print(f"Génération de {size:,} accompagnements".replace(",", " ") + " (déterministe, non chronométrée)…", flush=True)
    publisher = read_publisher(REPO)
    inputs.mkdir(parents=True, exist_ok=True)
    write_table(synthetic_accompagnements(YEAR, size, publisher, seed=42), inputs / "accompagnements", "csv-excel")
    write_table(synthetic_ateliers(YEAR, publisher, seed=42, size=400), inputs / "ateliers", "csv-excel")
    write_table(synthetic_formations(YEAR, seed=42, size=40), inputs / "formations", "csv-excel")
    return inputs


def bench_release(size: int) -> dict:
    inputs = make_input(size)
    folder = OUT / "ccas"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shutil.copytree(REPO / "metadata", folder / "metadata")
    env = dict(os.environ, CCAS_OPENDATA_CLE=KEY, SOURCE_DATE_EPOCH="1767225600")
    release_time, release_rss, log = run_child([sys.executable, "-m", "ccas_opendata", "release", "--dossier", str(folder), "--annee", str(YEAR), str(inputs)], env)
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as script:
        script.write(BARE_PANDAS)
    # Two baselines: the script as anyone would write it (text columns), and the same
    # script reading codes as categories (what the release does). The ratio is taken
    # against the faster one.
    pandas_text, _, _ = run_child([sys.executable, script.name, str(inputs / "accompagnements.csv"), "str"])
    pandas_categories, _, _ = run_child([sys.executable, script.name, str(inputs / "accompagnements.csv"), "category"])
    os.unlink(script.name)
    pandas_time = min(pandas_text, pandas_categories)
    return {
        "accompagnements": size,
        "release_s": round(release_time, 2),
        "pandas_texte_s": round(pandas_text, 2),
        "pandas_categories_s": round(pandas_categories, 2),
        "ratio": round(release_time / pandas_time, 2),
        "peak_rss_mib": round(release_rss / 2**20),
        "summary": [l for l in log.splitlines() if l.startswith("  ")][-5:],
        "folder": folder,
    }


def load(url: str, requests: int, clients: int) -> float:
    """Requests per second for a bounded number of GETs from a few threads."""
    with httpx.Client(timeout=30) as client:
        client.get(url).raise_for_status()  # warm caches, fail early
        start = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            statuses = list(pool.map(lambda _: client.get(url).status_code, range(requests)))
        elapsed = time.perf_counter() - start
    assert all(s == 200 for s in statuses), set(statuses)
    return requests / elapsed


def bench_site(folder: Path, requests: int, clients: int) -> dict:
    port = 8765
    server = subprocess.Popen([sys.executable, "-m", "ccas_opendata", "serve", "--dossier", str(folder), "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(base + "/-/versions.json").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        urls = {
            "api_json": f"/indicateurs/indicateurs.json?annee={YEAR}&indicateur=accompagnements&dimension=ensemble&_shape=array",
            "accueil": "/",
            "bilan": f"/bilan/{YEAR}",
            "indicateur": "/indicateur/accompagnements",
            "datasette_table_html": f"/indicateurs/indicateurs?annee={YEAR}",
        }
        rates = {name: round(load(base + path, requests, clients), 1) for name, path in urls.items()}
    finally:
        server.terminate()
        server.wait(10)
    rates["ratio_bilan_sur_api_json"] = round(rates["bilan"] / rates["api_json"], 2)
    rates["ratio_accueil_sur_api_json"] = round(rates["accueil"] / rates["api_json"], 2)
    return rates


def bench_heavy_sql(folder: Path, seconds: float, clients: int) -> dict:
    """Heavy SQL (a 1 GB blob, 450 MB answers, queries run to the time limit) in
    parallel with page and table requests: their latency idle and under load, the
    server's memory (``scripts/heavy_load.py``, bounded in tests/test_server_limits.py)."""
    import socket

    from heavy_load import heavy_load

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "ccas_opendata", "serve", "--dossier", str(folder), "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/-/versions.json")
        return heavy_load(f"http://127.0.0.1:{port}", server.pid, seconds, clients)
    finally:
        server.terminate()
        server.wait(10)


def wait_until_up(url: str) -> None:
    for _ in range(150):
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    sys.exit(f"{url} ne répond pas")


def bench_nginx(folder: Path, requests: int, clients: int) -> dict:
    """Requests/s direct to Datasette and through nginx's cache, and their ratio."""
    import re
    import shlex

    from ccas_opendata.deployment import nginx_executable, trial_nginx_conf

    nginx = nginx_executable()
    if nginx is None:
        sys.exit("nginx introuvable : lancez « make nginx ».")
    organisation = folder / "metadata" / "organisation.yml"
    organisation.write_text(organisation.read_text(encoding="utf-8") + "\nbase_url: https://ccas.example/\n", encoding="utf-8")
    work = Path(tempfile.mkdtemp(prefix="ccas-bench-nginx-"))
    datasette_port, nginx_port = 8766, 8767
    subprocess.run([sys.executable, "-m", "ccas_opendata", "deploiement", "--dossier", str(folder), "--sortie", str(work / "config"),
                    "--port", str(datasette_port), "--cache", str(work / "cache"), "--nginx-dir", str(work / "config" / "nginx")],
                   check=True, capture_output=True)
    unit = (work / "config" / "systemd" / "ccas-opendata.service").read_text(encoding="utf-8")
    command = shlex.split(re.search(r"^ExecStart=(.+)$", unit, re.M).group(1))
    datasette = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    conf = trial_nginx_conf(work / "config" / "nginx", work / "nginx", nginx_port)
    proxy = subprocess.Popen([nginx, "-c", str(conf), "-p", str(work / "nginx"), "-g", "daemon off;"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    urls = {
        "api_json": f"/indicateurs/indicateurs.json?annee={YEAR}&indicateur=accompagnements&dimension=ensemble&_shape=array",
        "bilan": f"/bilan/{YEAR}",
        "datasette_table_html": f"/indicateurs/indicateurs?annee={YEAR}",
        "catalogue_ttl": "/catalogue.ttl",
    }
    result = {}
    try:
        wait_until_up(f"http://127.0.0.1:{datasette_port}/-/versions.json")
        wait_until_up(f"http://127.0.0.1:{nginx_port}/")
        for name, path in urls.items():
            direct = load(f"http://127.0.0.1:{datasette_port}{path}", requests, clients)
            cached = load(f"http://127.0.0.1:{nginx_port}{path}", requests, clients)
            result[name] = {"direct_rps": round(direct, 1), "nginx_cache_rps": round(cached, 1), "ratio": round(cached / direct, 2)}
    finally:
        for process in (proxy, datasette):
            process.terminate()
            process.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--taille", type=int, default=1_000_000, help="accompagnements de l'année de test")
    parser.add_argument("--requetes", type=int, default=1000, help="requêtes par page pour la charge du site")
    parser.add_argument("--clients", type=int, default=4, help="clients simultanés")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    release = bench_release(args.taille)
    print(f"\nRelease de {release['accompagnements']:,} accompagnements".replace(",", " "))
    print(f"  durée            : {release['release_s']} s")
    print(f"  pandas nu        : {release['pandas_texte_s']} s (colonnes texte), {release['pandas_categories_s']} s (catégories)")
    print(f"  rapport          : {release['ratio']} au plus rapide des deux (cible ≤ 4)")
    print(f"  mémoire maximale : {release['peak_rss_mib']} Mio (cible ≤ 2048)")
    site = bench_site(release["folder"], args.requetes, args.clients)
    print(f"\nSite sous charge bornée ({args.requetes} requêtes, {args.clients} clients, 127.0.0.1), requêtes/s :")
    for name, rate in site.items():
        print(f"  {name:28} {rate}")
    heavy = bench_heavy_sql(release["folder"], 10, 6)
    print("\nSQL lourd en parallèle des pages (6 clients SQL, 2 clients pages, 10 s, scripts/heavy_load.py) :")
    print(f"  pages et tables, au repos   : p50 {heavy['leger_au_repos_p50_ms']} ms, p95 {heavy['leger_au_repos_p95_ms']} ms")
    print(f"  pages et tables, sous charge: p50 {heavy['leger_sous_charge_p50_ms']} ms, p95 {heavy['leger_sous_charge_p95_ms']} ms, "
          f"max {heavy['leger_sous_charge_max_ms']} ms ({heavy['requetes_legeres_sous_charge']} requêtes)")
    print(f"  requêtes lourdes (statut: nombre) : {heavy['requetes_lourdes']}")
    print(f"  mémoire du serveur          : {heavy['memoire_avant_mio']} Mio avant, {heavy['memoire_max_mio']} Mio au plus (plafond des tests : 400)")
    behind_nginx = bench_nginx(release["folder"], args.requetes, args.clients)
    print(f"\nDerrière nginx (cache de « ccas-opendata deploiement »), {args.requetes} requêtes, {args.clients} clients :")
    for name, rates in behind_nginx.items():
        print(f"  {name:28} direct {rates['direct_rps']:>8} req/s   nginx {rates['nginx_cache_rps']:>8} req/s   rapport {rates['ratio']}")
    result = {k: v for k, v in release.items() if k != "folder"} | {"site": site, "sql_lourd": heavy, "nginx": behind_nginx}
    (OUT / "resultats.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"\nRésultats : {OUT / 'resultats.json'}")


if __name__ == "__main__":
    main()

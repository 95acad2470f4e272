"""Benchmark (``make bench``): CPU and memory of a release, speed of the site.

All the figures are CPU seconds (user + system) of child processes, the stable figure on
a shared machine, and every ratio is taken between runs of this one bench run.

1. A typical year (the demo's sizes, Excel-style CSV): a first release, the next year,
   and a revision of the first year (same files, one record in ten changed), each in a
   child process, against a bare pandas script computing the same breakdowns from the
   same file.
2. A deterministic year of 1,000,000 accompaniments released end to end: CPU and peak
   memory (max RSS), against the same bare pandas script (text columns, and codes read
   as categories) and against DuckDB (``pip install .[bench]``, one thread) answering
   the same group-bys from the same file.
3. The site under a bounded load on 127.0.0.1: citizens' pages against Datasette's own
   JSON API, measured with wrk (Debian's ``wrk``, installed by ``make bench``; a Python
   client tops out near 1,500 requests/s and would measure itself).
4. The same load through nginx configured by ``ccas-opendata deploiement`` (Datasette
   started with the systemd unit's command line, nginx run as a user on a loopback port):
   the cache's effect, as the ratio of requests/s through nginx to requests/s direct.
5. Heavy SQL in parallel with pages (``heavy_load.py``): page latency idle and under
   load, statuses of the heavy answers, the server's peak memory.

Figures are reported as measured in this one run; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))  # heavy_load.py, shared with the tests
OUT = REPO / "bench" / "out"
YEAR = 2024
KEY = "cle-de-banc-d-essai-" + "b" * 20

BARE_PANDAS = textwrap.dedent("""
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
""")


# The same questions in DuckDB, on one thread (CPU seconds compare with the one-threaded
# pandas and release). Windows-1252 is read as Latin-1: the grouped columns are ASCII codes.
DUCKDB = textwrap.dedent("""
    import sys, time
    import duckdb
    start = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET threads=1")
    con.execute(f"CREATE TABLE f AS SELECT * FROM read_csv('{sys.argv[1]}', delim=';', header=true, encoding='latin-1', all_varchar=true)")
    con.execute(\'CREATE TABLE g AS SELECT *, strftime(strptime("date", \\'%d/%m/%Y\\'), \\'%Y-%m\\') AS mois, CAST("durée" AS INTEGER) AS duree FROM f\')
    dims = ["genre", "situation", "composition familiale", "quartier", "autonomie", "orientation", "canal", "satisfaction",
            "type de lieu", "intervenant", "premier accompagnement"]
    queries = ['SELECT mois, count(*), count(DISTINCT usager) FROM g GROUP BY 1',
               'SELECT lieu, count(*), count(DISTINCT usager), avg(duree), median(duree) FROM g GROUP BY 1']
    for d in dims:
        queries += [f'SELECT "{d}", count(*), count(DISTINCT usager) FROM g GROUP BY 1',
                    f'SELECT lieu, "{d}", count(*), count(DISTINCT usager) FROM g GROUP BY 1, 2']
    for multi in ("thématiques", "matériel"):
        e = f'(SELECT lieu, usager, duree, unnest(string_split("{multi}", \\'|\\')) AS t FROM g)'
        queries += [f"SELECT t, count(*), count(DISTINCT usager) FROM {e} GROUP BY 1",
                    f"SELECT lieu, t, count(*), count(DISTINCT usager) FROM {e} GROUP BY 1, 2"]
    print(sum(len(con.execute(q).fetchall()) for q in queries), time.perf_counter() - start)
""")


def run_child(command: list[str], env: dict | None = None) -> tuple[float, int, str]:
    """CPU seconds (user + system), peak RSS (bytes) and output of a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        sys.exit(f"échec de {' '.join(command[:3])}…\n{result.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # ru_maxrss of children is the largest child so far: run the biggest one first.
    return cpu, max(after.ru_maxrss, before.ru_maxrss) * 1024, result.stdout + result.stderr


def make_input(size: int) -> Path:
    from ccas_opendata.publisher import read_publisher
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


def _script(text: str) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as script:
        script.write(text)
    return script.name


def baselines(csv_path: Path, duckdb: bool = True) -> dict[str, float | None]:
    """CPU seconds of the bare pandas script (text columns, categories) and of DuckDB
    (``None`` when the ``bench`` extra is not installed) on ``csv_path``."""
    pandas_script, duckdb_script = _script(BARE_PANDAS), _script(DUCKDB)
    try:
        out: dict[str, float | None] = {
            "pandas_texte_s": run_child([sys.executable, pandas_script, str(csv_path), "str"])[0],
            "pandas_categories_s": run_child([sys.executable, pandas_script, str(csv_path), "category"])[0],
            "duckdb_s": None,
        }
        if duckdb and importlib.util.find_spec("duckdb") is not None:
            out["duckdb_s"] = run_child([sys.executable, duckdb_script, str(csv_path)])[0]
    finally:
        os.unlink(pandas_script)
        os.unlink(duckdb_script)
    return {k: (round(v, 2) if v is not None else None) for k, v in out.items()}


def release_child(folder: Path, year: int, inputs: Path, *extra: str) -> tuple[float, int, str]:
    env = dict(os.environ, CCAS_OPENDATA_CLE=KEY, SOURCE_DATE_EPOCH="1767225600")
    return run_child(
        [sys.executable, "-m", "ccas_opendata", "release", "--dossier", str(folder), "--annee", str(year), *extra, str(inputs)], env
    )


def bench_typical_year() -> dict:
    """First release, next year, revision of the first: the demo's sizes, CSV inputs."""
    from ccas_opendata.publisher import read_publisher
    from ccas_opendata.demo import DEMO_YEARS, write_demo_year

    publisher = read_publisher(REPO)
    base = OUT / "annee-type"
    shutil.rmtree(base, ignore_errors=True)
    inputs = {year: write_demo_year(base / "entrees" / str(year), year, publisher, form="csv-excel") for year in (2023, 2024)}
    corrected = write_demo_year(base / "entrees" / "2023-corrige", 2023, publisher, form="csv-excel")
    # The revision: the same year with one record in ten changed (a later seed's duration).
    frame = pd.read_csv(corrected / "accompagnements.csv", sep=";", encoding="cp1252", dtype=str, keep_default_na=False)
    frame.loc[frame.index % 10 == 0, "Durée"] = "45"
    frame.to_csv(corrected / "accompagnements.csv", sep=";", index=False, encoding="cp1252", lineterminator="\r\n")
    folder = base / "ccas"
    folder.mkdir(parents=True)
    shutil.copytree(REPO / "metadata", folder / "metadata")
    first = release_child(folder, 2023, inputs[2023])[0]
    second = release_child(folder, 2024, inputs[2024])[0]
    revision = release_child(folder, 2023, corrected, "--motif", "Durées corrigées (banc d'essai)")[0]
    pandas_ = baselines(inputs[2023] / "accompagnements.csv", duckdb=False)
    return {
        "accompagnements": DEMO_YEARS[2023],
        "premiere_s": round(first, 2),
        "suivante_s": round(second, 2),
        "revision_s": round(revision, 2),
        **pandas_,
        "rapport_premiere_pandas": round(first / min(pandas_["pandas_texte_s"] or 1, pandas_["pandas_categories_s"] or 1), 1),
    }


def bench_release(size: int) -> dict:
    inputs = make_input(size)
    folder = OUT / "ccas"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shutil.copytree(REPO / "metadata", folder / "metadata")
    release_time, release_rss, log = release_child(folder, YEAR, inputs)
    # Baselines: the script as anyone would write it (text columns), the same script
    # reading codes as categories (what the release does), and DuckDB.
    other = baselines(inputs / "accompagnements.csv")
    fastest_pandas = min(other["pandas_texte_s"] or 1e9, other["pandas_categories_s"] or 1e9)
    return {
        "accompagnements": size,
        "release_s": round(release_time, 2),
        **other,
        "ratio_pandas": round(release_time / fastest_pandas, 2),
        "ratio_duckdb": round(release_time / other["duckdb_s"], 2) if other["duckdb_s"] else None,
        "peak_rss_mib": round(release_rss / 2**20),
        "summary": [l for l in log.splitlines() if l.startswith("  ")][-5:],
        "folder": folder,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load(url: str, requests: int, clients: int) -> float:
    """Requests per second: wrk for a short fixed duration (a client that is not the
    bottleneck), else a bounded number of GETs from a few Python threads."""
    httpx.get(url, timeout=30).raise_for_status()  # warm caches, fail early
    wrk = shutil.which("wrk")
    if wrk:
        done = subprocess.run([wrk, "-t2", f"-c{clients}", "-d3s", url], capture_output=True, text=True, check=True).stdout
        found = re.search(r"Requests/sec:\s*([\d.]+)", done)
        if found and "Non-2xx" not in done:
            return float(found.group(1))
        sys.exit(f"wrk : réponse inattendue de {url}\n{done}")
    with httpx.Client(timeout=30) as client:
        start = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            statuses = list(pool.map(lambda _: client.get(url).status_code, range(requests)))
        elapsed = time.perf_counter() - start
    assert all(s == 200 for s in statuses), set(statuses)
    return requests / elapsed


def bench_site(folder: Path, requests: int, clients: int) -> dict:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "ccas_opendata", "serve", "--dossier", str(folder), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
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
    server = subprocess.Popen(
        [sys.executable, "-m", "ccas_opendata", "serve", "--dossier", str(folder), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
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
    import shlex

    from ccas_opendata.deployment import nginx_executable, trial_nginx_conf

    nginx = nginx_executable()
    if nginx is None:
        sys.exit("nginx introuvable : lancez « make nginx ».")
    organisation = folder / "metadata" / "organisation.yml"
    organisation.write_text(organisation.read_text(encoding="utf-8") + "\nbase_url: https://ccas.example/\n", encoding="utf-8")
    work = Path(tempfile.mkdtemp(prefix="ccas-bench-nginx-"))
    datasette_port, nginx_port = free_port(), free_port()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "ccas_opendata",
            "deploiement",
            "--dossier",
            str(folder),
            "--sortie",
            str(work / "config"),
            "--port",
            str(datasette_port),
            "--cache",
            str(work / "cache"),
            "--nginx-dir",
            str(work / "config" / "nginx"),
        ],
        check=True,
        capture_output=True,
    )
    unit = (work / "config" / "systemd" / "ccas-opendata.service").read_text(encoding="utf-8")
    exec_start = re.search(r"^ExecStart=(.+)$", unit, re.M)
    if exec_start is None:
        raise RuntimeError("the systemd unit written by « deploiement » has no ExecStart line")
    command = shlex.split(exec_start.group(1))
    datasette = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    conf = trial_nginx_conf(work / "config" / "nginx", work / "nginx", nginx_port)
    proxy = subprocess.Popen(
        [nginx, "-c", str(conf), "-p", str(work / "nginx"), "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
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
    parser.add_argument("--requetes", type=int, default=1000, help="requêtes par page sans wrk (client Python)")
    parser.add_argument("--clients", type=int, default=4, help="connexions simultanées")
    parser.add_argument("--sans-site", action="store_true", help="ne mesurer que les publications (pas le site ni nginx)")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    release = bench_release(args.taille)  # the biggest child first (peak RSS)
    typical = bench_typical_year()
    print(f"\nAnnée type ({typical['accompagnements']} accompagnements, CSV Excel), secondes de CPU :")
    print(
        f"  première publication : {typical['premiere_s']} s   année suivante : {typical['suivante_s']} s   "
        f"révision : {typical['revision_s']} s (cibles ≤ 4 s, révision ≤ 5 s)"
    )
    print(
        f"  pandas nu, même fichier : {typical['pandas_texte_s']} s (texte), {typical['pandas_categories_s']} s (catégories) ; "
        f"rapport {typical['rapport_premiere_pandas']}"
    )
    print(f"\nPublication de {release['accompagnements']:,}".replace(",", " ") + " accompagnements, secondes de CPU :")
    print(f"  publication      : {release['release_s']} s")
    print(f"  pandas nu        : {release['pandas_texte_s']} s (colonnes texte), {release['pandas_categories_s']} s (catégories)")
    print(f"  DuckDB (1 fil)   : {release['duckdb_s'] if release['duckdb_s'] is not None else 'non installé (pip install .[bench])'}")
    print(f"  rapports         : {release['ratio_pandas']} au plus rapide des pandas, {release['ratio_duckdb']} à DuckDB (cible ≤ 2)")
    print(f"  mémoire maximale : {release['peak_rss_mib']} Mio (cible ≤ 1024)")
    result: dict = {"annee_type": typical} | {k: v for k, v in release.items() if k != "folder"}
    if not args.sans_site:
        client = "wrk" if shutil.which("wrk") else f"client Python, {args.requetes} requêtes"
        site = bench_site(release["folder"], args.requetes, args.clients)
        print(f"\nSite sous charge bornée ({client}, {args.clients} connexions, 127.0.0.1), requêtes/s :")
        for name, rate in site.items():
            print(f"  {name:28} {rate}")
        heavy = bench_heavy_sql(release["folder"], 10, 6)
        print("\nSQL lourd en parallèle des pages (6 clients SQL, 2 clients pages, 10 s, scripts/heavy_load.py) :")
        print(f"  pages et tables, au repos   : p50 {heavy['leger_au_repos_p50_ms']} ms, p95 {heavy['leger_au_repos_p95_ms']} ms")
        print(
            f"  pages et tables, sous charge: p50 {heavy['leger_sous_charge_p50_ms']} ms, p95 {heavy['leger_sous_charge_p95_ms']} ms, "
            f"max {heavy['leger_sous_charge_max_ms']} ms ({heavy['requetes_legeres_sous_charge']} requêtes)"
        )
        print(f"  requêtes lourdes (statut: nombre) : {heavy['requetes_lourdes']}")
        print(
            f"  mémoire du serveur          : {heavy['memoire_avant_mio']} Mio avant, {heavy['memoire_max_mio']} Mio au plus (plafond des tests : 400)"
        )
        behind_nginx = bench_nginx(release["folder"], args.requetes, args.clients)
        print(f"\nDerrière nginx (cache de « ccas-opendata deploiement »), {client} :")
        for name, rates in behind_nginx.items():
            print(
                f"  {name:28} direct {rates['direct_rps']:>8} req/s   nginx {rates['nginx_cache_rps']:>8} req/s   rapport {rates['ratio']}"
            )
        result |= {"site": site, "sql_lourd": heavy, "nginx": behind_nginx}
    (OUT / "resultats.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"\nRésultats : {OUT / 'resultats.json'}")


if __name__ == "__main__":
    main()

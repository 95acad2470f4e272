"""The ``ccas-opendata`` command: parses options, calls the stages, speaks French.

Stage modules raise domain errors (:mod:`errors`); here they become Click errors with
the advice the agent needs. Nothing here computes anything.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import click

from . import __version__
from .keys import KEY_ENV, load_key
from .layout import Layout, private_dir
from .publisher import read_publisher
from .errors import CcasError, ConfigurationError, ValidationFailed, world_error
from .lock import publication_lock


class FrenchError(click.ClickException):
    """A user error, printed as « Erreur : … » followed by what to do."""

    def format_message(self) -> str:
        return self.message

    def show(self, file=None) -> None:
        click.echo(f"Erreur : {self.format_message()}", err=True)


def user_errors(function):
    """Turn domain errors, and the machine's failures (disk full…), into a French
    message and a non-zero exit."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            try:
                return function(*args, **kwargs)
            except (OSError, sqlite3.Error) as failure:
                french = world_error(failure)
                if french is None:
                    raise
                raise french from failure
        except CcasError as error:
            message = str(error)
            if error.advice:
                message += "\n→ " + error.advice
            raise FrenchError(message) from None

    return wrapper


def locked(function):
    """Run the command holding the folder's lock (one command at a time per folder)."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        context = click.get_current_context()
        with publication_lock(kwargs["dossier"], context.info_name or "commande"):
            return function(*args, **kwargs)

    return wrapper


def stop_on_signals() -> None:
    """SIGTERM and SIGHUP (a closed terminal, a stopped service) end the run as Ctrl+C
    does, through the clean-up of the private work area, which holds person counts.

    SIGINT too, explicitly: a process started in the background by a shell inherits
    SIGINT ignored, and Python then leaves it ignored, so ``kill -INT`` would let the run
    go on to publish (seen in the tests run from a background job)."""

    def stop(signum: int, _frame) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop)


def dossier_option(function):
    return click.option(
        "--dossier",
        "dossier",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("."),
        show_default="dossier courant",
        help="Dossier de publication (contient metadata/, datapackages/ et publish/).",
    )(function)


def annee_option(required: bool = True):
    def decorator(function):
        return click.option(
            "--annee", "annee", type=click.IntRange(2000, 2100), required=required, metavar="AAAA", help="Année à publier."
        )(function)

    return decorator


def cle_option(function):
    return click.option(
        "--cle-fichier",
        "cle_fichier",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help=f"Fichier contenant la clé de pseudonymisation, hors du dossier de publication (sinon la variable {KEY_ENV}).",
    )(function)


def motif_option(function):
    return click.option(
        "--motif",
        "motif",
        default=None,
        help="Pour corriger une année déjà publiée : la raison de la correction, publiée telle quelle dans le journal des "
        "changements (décrivez la correction, jamais une personne ; obligatoire si des chiffres changent ; refusé pour "
        "une première publication).",
    )(function)


def year_command(function):
    """A command that works on one year of a publication folder: the shared options
    and the translation of domain errors, defined once."""
    return cli.command()(dossier_option(annee_option()(user_errors(locked(function)))))


def _progress(message: str) -> None:
    click.echo(message, err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ccas-opendata")
def cli():
    """Publier chaque année l'activité des permanences numériques d'un CCAS
    en données ouvertes anonymisées.

    \b
    La commande principale, une fois par an :
      ccas-opendata release --annee 2024 ./exports/2024
    Les étapes peuvent aussi être lancées une à une :
      anonymise → aggregate → validate → package → publish
    Puis, pour consulter le site et l'API :
      ccas-opendata serve
    """


@cli.command()
@click.argument("dossier", type=click.Path(file_okay=False, path_type=Path))
@user_errors
def init(dossier: Path):
    """Créer un dossier de publication avec des modèles de métadonnées commentés.

    Écrit aussi modele-accompagnements.xlsx : une feuille par table avec les
    en-têtes attendus, des listes déroulantes des libellés acceptés et une
    feuille « codes ». Enregistrez-le sous le nom accompagnements.xlsx dans
    le dossier de l'année.

    \b
    Exemple :
      ccas-opendata init ~/ccas-opendata
      # puis complétez metadata/organisation.yml, lieux.csv et quartiers.csv
    """
    from .scaffold import create_publication_folder

    created = create_publication_folder(dossier)
    click.echo(f"Dossier de publication créé : {dossier}")
    for path in created:
        click.echo(f"  {path.relative_to(dossier)}")
    click.echo(
        "Complétez les fichiers de metadata/ (remplacez chaque valeur entre < >), puis essayez "
        "« ccas-opendata release --essai --annee AAAA DOSSIER_D_ENTREE » avant de publier. Votre propre tableur ? "
        "« ccas-opendata correspondances --annee AAAA DOSSIER_D_ENTREE » propose comment le lire."
    )


@year_command
@click.argument("entrees", type=click.Path(exists=True, file_okay=False, path_type=Path))
def correspondances(dossier: Path, annee: int, entrees: Path):
    """Proposer metadata/correspondances.yml à partir de vos propres fichiers.

    Lit les fichiers d'ENTREES (votre tableur, ou un export de La Coop de la
    médiation numérique) et écrit, pour relecture, à quelle colonne du contrat
    correspond chaque en-tête et quel code prend chaque valeur des colonnes à
    codes. Les valeurs des colonnes « usager », des dates et des âges ne sont
    jamais recopiées. Le même contenu est écrit en classeur, correspondances.xlsx
    (listes déroulantes), à compléter dans votre tableur si vous préférez : la
    publication lit celui des deux enregistré en dernier. Un fichier existant
    n'est jamais écrasé : la proposition va alors dans
    correspondances.proposition.yml (et .xlsx).

    \b
    Exemple :
      ccas-opendata correspondances --annee 2025 ./exports/2025
      # relisez metadata/correspondances.yml, remplacez les « a_completer »
      ccas-opendata release --essai --annee 2025 ./exports/2025
    """
    from .correspondances import FILE_NAME, TO_COMPLETE, read_correspondances
    from .proposal import propose, render_proposal

    try:
        publisher = read_publisher(dossier)
    except ConfigurationError as error:
        publisher = None
        click.echo("⚠ Configuration incomplète : les lieux et quartiers ne sont pas rapprochés.\n" + str(error), err=True)
    existing, _ = read_correspondances(dossier)
    proposals = propose(entrees, publisher, existing)
    if not proposals:
        raise click.ClickException(f"Aucun fichier CSV, XLSX ou ODS dans {entrees}.")
    text = render_proposal(proposals, publisher)
    from .mapping_workbook import WORKBOOK_NAME, write_mapping_workbook

    target, workbook = Layout(dossier).metadata / FILE_NAME, Layout(dossier).metadata / WORKBOOK_NAME
    if target.exists() or workbook.exists():  # hers (either form) is never overwritten
        target, workbook = target.with_name("correspondances.proposition.yml"), workbook.with_name("correspondances.proposition.xlsx")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(f"# Année {annee}, fichiers de {entrees}\n" + text, encoding="utf-8")
    write_mapping_workbook(proposals, publisher, workbook)
    to_complete = sum(len(p.unknown) + sum(1 for rows in p.values.values() for r in rows if r[1] == TO_COMPLETE) for p in proposals)
    click.echo(f"Proposition écrite : {target} (et, à compléter dans votre tableur si vous préférez, {workbook.name})")
    for p in proposals:
        click.echo(
            f"  {p.file} → {p.table} ({len(p.columns)} en-têtes rapprochés, {len(p.unknown)} inconnus, "
            f"{sum(len(v) for v in p.values.values())} valeurs à codes)"
        )
    click.echo(
        f"  {to_complete} point(s) « a_completer » à décider avant de publier."
        if to_complete
        else "  Rien à compléter : relisez puis publiez."
    )


@year_command
@cle_option
@click.argument("entrees", type=click.Path(path_type=Path))
def anonymise(dossier: Path, annee: int, cle_fichier: Path | None, entrees: Path):
    """Étape 1 : lire, contrôler et anonymiser les fichiers d'une année.

    ENTREES est le dossier qui contient accompagnements.csv (ou .xlsx, .ods) et,
    s'ils existent, ateliers.* et formations.*. Le résultat reste dans la zone de
    travail privée (.travail/AAAA/), jamais publiée.

    \b
    Exemple :
      CCAS_OPENDATA_CLE=… ccas-opendata anonymise --annee 2024 ./exports/2024
    """
    from .release import open_context, stage_anonymise

    ctx = open_context(dossier, annee, _progress, input_dir=entrees)
    key = load_key(dossier, cle_fichier)
    tables = stage_anonymise(ctx, entrees, key)
    click.echo(f"{len(tables['accompagnements'])} accompagnements anonymisés dans {ctx.work.anonymised}.")


@year_command
def aggregate(dossier: Path, annee: int):
    """Étape 2 : calculer les indicateurs et appliquer le secret statistique.

    \b
    Exemple :
      ccas-opendata aggregate --annee 2024
    """
    from .release import open_context, stage_aggregate

    protected = stage_aggregate(open_context(dossier, annee, _progress))
    table = protected.table
    click.echo(f"{len(table)} chiffres calculés, {int((table['secret'] != '').sum())} sous secret ; audit du secret réussi.")


@year_command
@click.option("--json", "as_json", is_flag=True, help="Écrire le résultat en JSON (pour un script).")
def validate(dossier: Path, annee: int, as_json: bool):
    """Étape 3 : contrôler les tables à publier avec Great Expectations.

    Sort avec le code 0 si tout est valide, 1 sinon (utilisable dans un script).
    Les Data Docs sont écrites dans la zone de travail, puis publiées avec l'année.
    La réussite est enregistrée pour le fichier tel qu'il a été contrôlé : « package »
    et « publish » refusent un fichier modifié depuis.

    \b
    Exemple :
      ccas-opendata validate --annee 2024 --json
    """
    from .release import open_context, stage_validate

    try:
        report = stage_validate(open_context(dossier, annee, _progress))
    except ValidationFailed as failure:
        if as_json:
            click.echo(json.dumps({"reussi": False, "message": str(failure)}, ensure_ascii=False))
        else:
            click.echo(f"Erreur : {failure}\n→ {failure.advice}", err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(f"Tables valides : {report.evaluated} contrôles réussis.")


@year_command
@motif_option
def package(dossier: Path, annee: int, motif: str | None):
    """Étape 4 : écrire et valider le paquet de données Frictionless de l'année.

    Refuse de s'exécuter si « validate » n'a pas réussi sur le fichier des
    indicateurs tel qu'il est (un fichier modifié depuis doit être revalidé).
    Sur une année déjà publiée dont des chiffres changent, donne la version
    suivante (révision) et demande --motif.

    \b
    Exemple :
      ccas-opendata package --annee 2024
      ccas-opendata package --annee 2023 --motif "Accompagnements de décembre saisis en retard"
    """
    from .release import open_context, stage_package

    path = stage_package(open_context(dossier, annee, _progress, motif))
    click.echo(f"Paquet prêt et valide : {path}")


@year_command
@motif_option
def publish(dossier: Path, annee: int, motif: str | None):
    """Étape 5 : mettre en ligne le paquet préparé et reconstruire publish/.

    Le remplacement est atomique : en cas d'échec, la publication précédente reste intacte.
    Refuse de s'exécuter si le paquet préparé ou les indicateurs validés ont changé.

    \b
    Exemple :
      ccas-opendata publish --annee 2024
    """
    from .release import open_context, stage_publish

    result = stage_publish(open_context(dossier, annee, _progress, motif))
    shutil.rmtree(Layout(dossier).year_work(annee), ignore_errors=True)
    click.echo(f"Publié. Années en ligne : {', '.join(map(str, result.years))}.")


@year_command
@cle_option
@motif_option
@click.option(
    "--essai",
    "trial",
    is_flag=True,
    help="Tout vérifier et montrer ce qui serait publié (et, pour une année en ligne, ce qui changerait), sans rien publier.",
)
@click.option(
    "--servir",
    "serve_port",
    type=int,
    default=None,
    metavar="PORT",
    help="Avec --essai : servir le site d'essai sur 127.0.0.1:PORT pour le relire (Ctrl+C pour finir).",
)
@click.argument("entrees", type=click.Path(path_type=Path))
def release(dossier: Path, annee: int, cle_fichier: Path | None, motif: str | None, trial: bool, serve_port: int | None, entrees: Path):
    """Publier une année : toutes les étapes dans l'ordre, tout ou rien.

    ENTREES est le dossier des fichiers exportés (accompagnements, ateliers,
    formations ; CSV, XLSX ou ODS ; votre propre tableur décrit dans
    metadata/correspondances.yml ; ou l'export de La Coop de la médiation
    numérique tel qu'il est téléchargé). En cas d'erreur, rien n'est publié et
    la publication précédente reste intacte ; tous les problèmes sont signalés
    en une fois, avec leurs lignes, et un rapport HTML est écrit à côté des
    fichiers. Avec --essai, tout est vérifié et le résultat montré, sans rien
    publier, et le bilan tel qu'il serait publié est écrit en un seul fichier,
    apercu-ccas-opendata-AAAA.html, à côté des fichiers (à ouvrir ou à envoyer).

    Corriger une année déjà publiée (la dernière ou une plus ancienne) : relancez
    avec tous ses fichiers corrigés et --motif. C'est une révision : nouvelle
    version (1.0.0 → 1.1.0), motif dans le journal des changements, année suivante
    révisée si ses évolutions changent, anciennes versions toujours téléchargeables.
    Un chiffre que trop peu de personnes suffisent à modifier est masqué. Si aucun
    chiffre ne change, aucune nouvelle version n'est créée (--motif inutile).

    \b
    Exemples :
      ccas-opendata release --essai --servir 8002 --annee 2024 ./exports/2024
      ccas-opendata release --annee 2024 ./exports/2024
      ccas-opendata release --annee 2023 --motif "Accompagnements de décembre saisis en retard" ./exports/2023
    """
    import tempfile

    if serve_port is not None and not trial:
        raise click.UsageError("--servir ne s'emploie qu'avec --essai (le site publié se sert avec « ccas-opendata serve »).")
    key = load_key(dossier, cle_fichier)
    stop_on_signals()
    # The stages (pandas and the rest) are imported once the command line and the key
    # are accepted: a refusal of either costs a few milliseconds.
    from .release import release as run_release

    if not trial:
        click.echo(run_release(dossier, annee, entrees, key, _progress, motif).french())
        _warn_legal_notice(dossier)
        return
    from .apercu import preview_path, write_preview

    with tempfile.TemporaryDirectory(prefix="ccas-opendata-essai-") as scratch:
        summary = run_release(dossier, annee, entrees, key, _progress, motif, preview=Path(scratch) / "publish")
        click.echo(summary.french())
        _warn_legal_notice(dossier)
        if summary.preview is not None:
            page = write_preview(summary.preview, annee, preview_path(entrees, annee))
            click.echo(f"  Aperçu du bilan, à ouvrir ou à envoyer (un seul fichier, rien de personnel) : {page}")
        if serve_port is not None and summary.preview is not None:
            click.echo(f"Site d'essai : http://127.0.0.1:{serve_port}/  (Ctrl+C pour arrêter ; il sera effacé)", err=True)
            command = [sys.executable, "-m", "datasette", "serve", str(summary.preview), "--host", "127.0.0.1", "--port", str(serve_port)]
            _serve_child(command)


def _serve_child(command: list[str]) -> None:
    """Datasette as a child that stops with this process: Ctrl+C, or SIGTERM to this PID (a
    script, a service manager), stops it too, and the trial site is then erased."""
    child = subprocess.Popen(command)
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: child.terminate())
    try:
        child.wait()
    except KeyboardInterrupt:
        child.terminate()
        child.wait(10)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _datasette_command(folder: Path, port: int) -> list[str]:
    site = Layout(folder).publish
    return [sys.executable, "-m", "datasette", "serve", str(site), "--host", "127.0.0.1", "--port", str(port), "--cors"]


@cli.command()
@dossier_option
@click.option("--port", type=int, default=8001, show_default=True, help="Port d'écoute sur 127.0.0.1.")
@user_errors
def serve(dossier: Path, port: int):
    """Servir le site et l'API (Datasette) sur 127.0.0.1.

    \b
    Exemple :
      ccas-opendata serve --port 8001
      # puis ouvrez http://127.0.0.1:8001/
    """
    from .swap import journal_path, recover

    if journal_path(dossier).exists():  # a release killed while switching: finish it first
        with publication_lock(dossier, "serve"):
            recover(dossier)
    if not (Layout(dossier).publish / "indicateurs.db").exists():
        raise CcasError(
            "Rien à servir : aucune année n'est encore publiée dans ce dossier.",
            advice="Lancez d'abord « ccas-opendata release --annee AAAA DOSSIER » (ou « ccas-opendata demo »).",
        )
    click.echo(f"Site : http://127.0.0.1:{port}/  (Ctrl+C pour arrêter)", err=True)
    os.execv(sys.executable, _datasette_command(dossier, port))


@cli.command()
@dossier_option
@click.option(
    "--sortie",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    show_default="DOSSIER/deploiement",
    help="Dossier où écrire les fichiers de configuration.",
)
@click.option("--port", type=click.IntRange(1024, 65535), default=8001, show_default=True, help="Port local de Datasette, derrière nginx.")
@click.option("--utilisateur", default="ccas-opendata", show_default=True, help="Compte système qui fait tourner Datasette.")
@click.option("--cache", "cache_dir", default="/var/cache/nginx/ccas-opendata", show_default=True, help="Dossier du cache de nginx.")
@click.option(
    "--nginx-dir",
    "config_dir",
    default="/etc/nginx/ccas-opendata",
    show_default=True,
    help="Où les fichiers inclus par le site nginx seront copiés sur le serveur.",
)
@user_errors
def deploiement(dossier: Path, sortie: Path | None, port: int, utilisateur: str, cache_dir: str, config_dir: str):
    """Écrire la configuration d'un serveur : service systemd et site nginx.

    Datasette tourne en lecture seule sur 127.0.0.1 ; nginx, devant, gère HTTPS,
    la compression, les en-têtes de sécurité et le cache des pages et de l'API.
    L'adresse publique (et son sous-chemin) vient de base_url dans organisation.yml.
    Voir la section « Mettre en ligne » du README.

    \b
    Exemple :
      ccas-opendata deploiement --sortie ./deploiement
      sudo cp deploiement/systemd/ccas-opendata.service /etc/systemd/system/
    """
    from .deployment import ServerSettings, write_deployment

    publisher = read_publisher(dossier)
    output = sortie or dossier / "deploiement"
    written = write_deployment(publisher, ServerSettings(output, port, utilisateur, config_dir, cache_dir))
    click.echo(f"Configuration écrite pour {publisher.base_url} :")
    for path in written:
        click.echo(f"  {path}")
    click.echo("Suite : README, section « Mettre en ligne ».")
    _warn_legal_notice(dossier)


def _warn_legal_notice(dossier: Path) -> None:
    from .site import legal_notice_gaps

    for gap in legal_notice_gaps(read_publisher(dossier)):
        click.echo("⚠ " + gap, err=True)


@cli.command()
@dossier_option
@click.option("--port", type=int, default=8001, show_default=True, help="Port d'écoute sur 127.0.0.1.")
@click.option("--sans-serveur", "no_serve", is_flag=True, help="Construire les années de démonstration sans lancer le serveur.")
@user_errors
def demo(dossier: Path, port: int, no_serve: bool):
    """Construire les années de démonstration du CCAS fictif et les servir.

    Génère des exports synthétiques (déterministes) pour 2023, 2024 et 2025,
    les publie l'une après l'autre, puis lance le serveur. Aucune donnée réelle.
    Refuse de s'exécuter dans le dossier d'un CCAS réel qui a déjà publié.

    \b
    Exemple :
      ccas-opendata demo --port 8001
    """
    stop_on_signals()
    with publication_lock(dossier, "demo"):
        _build_demo(dossier)
    if not no_serve:
        click.get_current_context().invoke(serve, dossier=dossier, port=port)


def _build_demo(dossier: Path) -> None:
    from .demo import DEMO_YEARS, refuse_real_publication, write_demo_metadata, write_demo_year
    from .release import published_years, release as run_release

    if write_demo_metadata(dossier):
        click.echo(f"Métadonnées du CCAS fictif écrites dans {dossier / 'metadata'}", err=True)
    publisher = read_publisher(dossier)
    refuse_real_publication(publisher, published_years(dossier))
    # Demo data is synthetic: a key generated for this run is as good as any, and
    # pseudonyms never leave the work area anyway.
    key = os.environ.get(KEY_ENV, "").encode() or os.urandom(32).hex().encode()
    inputs = private_dir(Layout(dossier).work / "demo-entrees")
    # The demo years are rebuilt from scratch, as first publications: their packages,
    # zips, changelog and kept records go.
    for year in DEMO_YEARS:
        shutil.rmtree(Layout(dossier).package(year), ignore_errors=True)
        shutil.rmtree(Layout(dossier).year_versions(year), ignore_errors=True)
    shutil.rmtree(Layout(dossier).downloads, ignore_errors=True)
    Layout(dossier).changelog.unlink(missing_ok=True)
    try:
        for year in DEMO_YEARS:
            click.echo(f"— Démonstration : année {year}", err=True)
            write_demo_year(inputs / str(year), year, publisher)
            summary = run_release(dossier, year, inputs / str(year), key, _progress)
            click.echo(summary.french())
    finally:
        shutil.rmtree(inputs, ignore_errors=True)


if __name__ == "__main__":  # pragma: no cover
    cli()

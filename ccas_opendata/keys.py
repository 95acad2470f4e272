"""The pseudonymisation key: where it is looked up, and the checks it must pass.

The key makes the pseudonyms that count distinct persons; whoever holds it can recompute
them from a guessed file number. It never lives in the publication folder.
"""

from __future__ import annotations

import math
import os
import stat
import zlib
from pathlib import Path

from .errors import MissingKeyError

KEY_ENV = "CCAS_OPENDATA_CLE"
MIN_KEY_LENGTH = 32


def default_key_file() -> Path:
    """``$XDG_CONFIG_HOME/ccas-opendata/cle`` (``~/.config/ccas-opendata/cle``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "ccas-opendata" / "cle"


def load_key(folder: Path, key_file: Path | None = None) -> bytes:
    """The HMAC key: ``--cle-fichier``, else ``CCAS_OPENDATA_CLE``, else the default key
    file (``~/.config/ccas-opendata/cle``) when it exists.

    A key file inside the publication folder could be published or committed with it,
    which would let anyone recompute the pseudonyms: refuse it.
    """
    if key_file is None and not os.environ.get(KEY_ENV, "").strip() and default_key_file().exists():
        key_file = default_key_file()
    if key_file is not None:
        key_file = key_file.resolve()
        if key_file.is_relative_to(folder.resolve()):
            raise MissingKeyError(
                "Le fichier de clé est dans le dossier de publication : il pourrait être publié avec lui.",
                advice="Déplacez-le hors du dossier (par exemple dans ~/.config/ccas-opendata/cle).",
            )
        if not key_file.exists():
            raise MissingKeyError(f"Fichier de clé introuvable : {key_file}")
        check_key_file(key_file)
        key = key_file.read_bytes().strip()
    else:
        key = os.environ.get(KEY_ENV, "").strip().encode("utf-8")
        if not key:
            raise MissingKeyError("Aucune clé de pseudonymisation : la commande refuse de s'exécuter sans clé.")
    if len(key) < MIN_KEY_LENGTH:
        raise MissingKeyError(f"La clé de pseudonymisation est trop courte (au moins {MIN_KEY_LENGTH} caractères).")
    if key_entropy_bits(key) < MIN_KEY_BITS:
        raise MissingKeyError(
            "La clé de pseudonymisation est trop prévisible (des caractères répétés, une suite ou un motif) : "
            "quelqu'un qui la devine recalcule les pseudonymes.",
            advice="Tirez-en une au hasard : python3 -c 'import secrets; print(secrets.token_hex(32))' "
            "(attention : les années déjà publiées ne peuvent être révisées qu'avec leur clé d'origine).",
        )
    return key


#: The least a key must carry, as estimated by :func:`key_entropy_bits`. A random
#: 32-character hex key carries 128 bits; « aaaa… » none.
MIN_KEY_BITS = 64


def key_entropy_bits(key: bytes) -> float:
    """A cautious estimate of the key's randomness: the smaller of its symbol entropy
    (which misses repeated patterns: « abab… ») and of the size of its zlib compression
    (which misses skewed symbols). A guessable key makes the pseudonyms reversible by
    anyone who tries the usual candidates on the published figures' source."""
    counts = [key.count(byte) for byte in set(key)]
    symbols = -sum(c * math.log2(c / len(key)) for c in counts)
    compressed = 8 * max(0, len(zlib.compress(key, 9)) - len(zlib.compress(b"", 9)) - 3)
    return min(symbols, compressed)


def check_key_file(path: Path) -> None:
    """Refuse a key file others may read, or replace (its folder writable by others
    without the sticky bit): either way the key leaves the agent's hands."""
    mode = path.stat().st_mode
    if mode & 0o077:
        raise MissingKeyError(
            f"Le fichier de clé {path} est lisible par d'autres comptes que le vôtre (droits {stat.filemode(mode)}).",
            advice=f"Rendez-le privé : chmod 600 {path}",
        )
    folder_mode = path.parent.stat().st_mode
    if folder_mode & 0o002 and not folder_mode & stat.S_ISVTX:
        raise MissingKeyError(
            f"Le dossier du fichier de clé, {path.parent}, est modifiable par tous : n'importe qui pourrait y remplacer la clé.",
            advice=f"Placez la clé dans un dossier à vous (par exemple ~/.config/ccas-opendata/) ou : chmod o-w {path.parent}",
        )

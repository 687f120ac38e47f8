"""Configuration from the environment (METODIST_*), read once, before Django starts.

METODIST_DATA_DIR      where the database, the secrets and the demo live (default ./var)
METODIST_DATABASE_URL  a database URL; default SQLite in the data dir (WAL mode)
METODIST_SECRET_KEY    Django's secret; generated into the data dir on first run when absent
METODIST_PSEUDONYM_KEY the key of pupils' pseudonyms; generated into the data dir when absent.
                       Kept apart from the secret key: rotating the web secret must not unlink pupils.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def data_dir() -> Path:
    path = Path(os.environ.get("METODIST_DATA_DIR", "var")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _secret_from_file(env_name: str, file_name: str) -> str:
    value = os.environ.get(env_name)
    if value:
        return value
    path = data_dir() / file_name
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


def secret_key() -> str:
    return _secret_from_file("METODIST_SECRET_KEY", "secret_key")


def pseudonym_key() -> str:
    return _secret_from_file("METODIST_PSEUDONYM_KEY", "pseudonym_key")


def database_url() -> str:
    url = os.environ.get("METODIST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{data_dir() / 'metodist.sqlite3'}"

"""An existing database migrates forward with no data change (issue 13).

The fixtures are databases created at commit 7178e5b (main before the restructuring) with
rows in every table, dumped as SQL (``scripts/make_migration_fixture.py`` rebuilds them). The
test loads the dump of the database the suite runs on into a fresh database of its own (a
file under ``tmp_path``; on PostgreSQL a scratch database created and dropped here), runs
this checkout's ``manage.py migrate`` on it in a subprocess, whatever migrations it has, and
checks:

* every table of the old database is still there with every column and every row unchanged
  (tables, columns and rows may be added); the only changes allowed are the two that
  follow a model or a task to its new module, each checked for being exactly that:
  a content type relabelled to the app that now owns the model's table (same id, so
  permissions and admin log entries follow), and a beat schedule row whose task moved to
  another module under the same name, the new path importable here;
* every migration the old database recorded still exists here, so none was renamed away;
* ``makemigrations --check`` finds nothing against the migrated database;
* every model reads all its columns through the ORM, every old table is still some model's
  (none left behind by a model that moved without its ``db_table``), and a model that now
  owns a table another app created reads back exactly the rows that table had.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "db_at_7178e5b"
# SQLite's own bookkeeping: AUTOINCREMENT counters rise with every row added.
INTERNAL = {"sqlite_sequence"}

PROBE = r"""
import json
import django

django.setup()
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.loader import MigrationLoader

models = {}
for model in apps.get_models(include_auto_created=True):
    meta = model._meta
    if not meta.managed or meta.proxy or meta.swapped:
        continue
    columns = [field.attname for field in meta.concrete_fields]
    rows = list(model._base_manager.values_list(*columns))
    content_type = ContentType.objects.filter(
        app_label=meta.app_label, model=meta.model_name
    ).first()
    models[meta.label_lower] = {
        "table": meta.db_table,
        "count": len(rows),
        "content_type": content_type.pk if content_type else None,
        "auto_created": bool(meta.auto_created),
    }
loader = MigrationLoader(connection)
known = set(loader.disk_migrations)
for key, migration in loader.disk_migrations.items():
    known.update(migration.replaces or [])
tasks = {}
for path in json.loads(TASKS):
    module, _, name = path.rpartition(".")
    try:
        tasks[path] = callable(getattr(__import__(module, fromlist=[name]), name, None))
    except ImportError:
        tasks[path] = False
print("PROBE " + json.dumps(
    {"models": models, "migrations": sorted(map(list, known)), "tasks": tasks}
))
"""


# --- reading a database without Django: what the old database held, column by column ---


class Database:
    """Tables, columns, primary keys and rows of one database, through its own driver."""

    def __init__(self, connection, vendor: str):
        self.connection, self.vendor = connection, vendor

    def query(self, sql: str, params=()) -> list[tuple]:
        cursor = self.connection.cursor()
        cursor.execute(sql, params)
        return [tuple(row) for row in cursor.fetchall()]

    def tables(self) -> list[str]:
        if self.vendor == "sqlite":
            sql = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        else:
            sql = (
                "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                "'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
            )
        return [name for (name,) in self.query(sql) if name not in INTERNAL]

    def columns(self, table: str) -> list[str]:
        if self.vendor == "sqlite":
            return [row[1] for row in self.query(f'PRAGMA table_info("{table}")')]
        return [
            name
            for (name,) in self.query(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                "'public' AND table_name = %s ORDER BY ordinal_position",
                (table,),
            )
        ]

    def primary_key(self, table: str) -> list[str]:
        if self.vendor == "sqlite":
            rows = self.query(f'PRAGMA table_info("{table}")')
            return [row[1] for row in sorted(rows, key=lambda row: row[5]) if row[5]]
        return [
            name
            for (name,) in self.query(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = "
                "i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass "
                "AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)",
                (f'public."{table}"',),
            )
        ]

    def rows(self, table: str, columns: list[str]) -> list[tuple]:
        names = ", ".join(f'"{name}"' for name in columns)
        return self.query(f'SELECT {names} FROM "{table}"')  # noqa: S608 (catalog names)

    def snapshot(self) -> dict[str, dict]:
        found = {}
        for table in self.tables():
            columns = self.columns(table)
            found[table] = {
                "columns": columns,
                "key": self.primary_key(table),
                "rows": self.rows(table, columns),
            }
        return found


# --- the two databases ---------------------------------------------------------------------


def vendor() -> str:
    engine = settings.DATABASES["default"]["ENGINE"]
    return "postgresql" if "postgresql" in engine else "sqlite"


def load_postgres_dump(connection, text: str) -> None:
    """Run a plain ``pg_dump`` script: SQL as one batch between its ``COPY`` blocks."""
    lines = iter(text.splitlines(keepends=True))
    batch: list[str] = []
    for line in lines:
        if re.match(r"COPY .* FROM stdin;$", line.rstrip("\n")):
            if batch:
                connection.execute("".join(batch))
                batch = []
            data = []
            for row in lines:
                if row.rstrip("\n") == "\\.":
                    break
                data.append(row)
            with connection.cursor().copy(line.rstrip().rstrip(";")) as copy:
                copy.write("".join(data))
        else:
            batch.append(line)
    if "".join(batch).strip():
        connection.execute("".join(batch))


@pytest.fixture
def old_database(tmp_path):
    """A fresh database holding the 7178e5b fixture: (DATABASE_URL, opener)."""
    if vendor() == "sqlite":
        path = tmp_path / "at_7178e5b.sqlite3"
        connection = sqlite3.connect(path)
        connection.executescript((FIXTURES / "sqlite.sql").read_text())
        connection.close()
        yield f"sqlite:///{path}", lambda: Database(sqlite3.connect(path), "sqlite")
        return

    import psycopg

    config = settings.DATABASES["default"]
    name = f"gatehouse_migrate_forward_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    credentials = f"{quote(config['USER'], safe='')}:{quote(config['PASSWORD'], safe='')}"
    server = f"{credentials}@{config['HOST'] or '127.0.0.1'}:{config['PORT'] or 5432}"

    def connect(database: str, **options):
        return psycopg.connect(f"postgresql://{server}/{database}", **options)

    def maintenance():  # as Django's own test runner does: "postgres", else the suite's
        try:
            return connect("postgres", autocommit=True)
        except psycopg.OperationalError:
            return connect(config["NAME"], autocommit=True)

    with maintenance() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with connect(name, autocommit=True) as connection:
            load_postgres_dump(connection, (FIXTURES / "postgres.sql").read_text())
        yield f"postgres://{server}/{name}", lambda: Database(connect(name), "postgresql")
    finally:
        with maintenance() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_here(database_url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """A command of this checkout against the old database, as an operator would run it."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "settings.test",
        "DATABASE_URL": database_url,
        "GATEHOUSE_VAR_DIR": str(tmp_path / "var"),
    }
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


# --- what may change ------------------------------------------------------------------------


def moved_tables(before: dict, probe: dict) -> dict[str, str]:
    """Table → the model (``app.model``) that owns it now, for the tables of models that
    moved to another app and kept their table: the old database knew the model under
    another app label (its content type) and the table by that app's name."""
    table = before["django_content_type"]
    columns = table["columns"]
    known = [dict(zip(columns, row, strict=True)) for row in table["rows"]]
    moved = {}
    for label, model in probe["models"].items():
        app, name = label.split(".")
        for old in known:
            was = f"{old['app_label']}_{old['model']}"
            if old["model"] == name and old["app_label"] != app and was == model["table"]:
                moved[model["table"]] = label
    return moved


def old_content_type(before: dict, table: str) -> int:
    """The id the old database gave the content type of the model behind ``table``."""
    rows = before["django_content_type"]
    known = [dict(zip(rows["columns"], row, strict=True)) for row in rows["rows"]]
    return next(ct["id"] for ct in known if f"{ct['app_label']}_{ct['model']}" == table)


def allowed_change(table: str, columns, before: tuple, after: tuple, moved, tasks) -> str | None:
    """Why ``before`` may have become ``after``, or None when it may not."""
    old, new = dict(zip(columns, before, strict=True)), dict(zip(columns, after, strict=True))
    changed = {name for name in columns if old[name] != new[name]}
    if table == "django_content_type" and changed == {"app_label"}:
        owner = moved.get(f"{old['app_label']}_{old['model']}")
        if owner == f"{new['app_label']}.{new['model']}":
            return f"content type {old['app_label']}.{old['model']} relabelled {owner}"
    if table == "django_celery_beat_periodictask" and changed == {"task"}:
        was, now = old["task"], new["task"]
        same_name = was.rpartition(".")[2] == now.rpartition(".")[2]
        if same_name and tasks.get(now) and not tasks.get(was):
            return f"beat task {was} → {now}"
    return None


def compare(before: dict, after: dict, moved, tasks) -> tuple[list[str], list[str]]:
    """(problems, allowed changes) between the old database and the migrated one."""
    problems, allowed = [], []
    for table, old in before.items():
        new = after.get(table)
        if new is None:
            problems.append(f"{table}: table gone")
            continue
        missing = [name for name in old["columns"] if name not in new["columns"]]
        if missing:
            problems.append(f"{table}: columns gone: {missing}")
            continue
        columns = old["columns"]
        positions = [new["columns"].index(name) for name in columns]
        rows_after = [tuple(row[i] for i in positions) for row in new["rows"]]
        if old["key"] and old["key"] == new["key"]:
            index = [columns.index(name) for name in old["key"]]
            by_key = {tuple(row[i] for i in index): row for row in rows_after}
            for row in old["rows"]:
                key = tuple(row[i] for i in index)
                current = by_key.get(key)
                if current is None:
                    problems.append(f"{table}: row {key} gone")
                elif current != row:
                    reason = allowed_change(table, columns, row, current, moved, tasks)
                    if reason is None:
                        problems.append(f"{table}: row {key} changed: {row} → {current}")
                    else:
                        allowed.append(reason)
        else:  # no primary key to pair rows by: the old rows must all still be there
            left = Counter(old["rows"]) - Counter(rows_after)
            problems.extend(f"{table}: row gone or changed: {row}" for row in left)
    return problems, allowed


def column(snapshot: dict, table: str, *names: str) -> set:
    data = snapshot.get(table) or {"columns": names, "rows": []}
    index = [data["columns"].index(name) for name in names]
    return {tuple(row[i] for i in index) for row in data["rows"]}


# --- the test ---------------------------------------------------------------------------------


def test_a_database_created_at_7178e5b_migrates_forward_with_no_data_change(old_database, tmp_path):
    url, open_database = old_database
    database = open_database()
    before = database.snapshot()
    database.connection.close()
    empty = sorted(name for name, table in before.items() if not table["rows"])
    assert not empty, f"the fixture has empty tables: {empty}"

    migrate = run_here(url, tmp_path, "manage.py", "migrate", "--no-input")
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr

    check = run_here(url, tmp_path, "manage.py", "makemigrations", "--check", "--dry-run")
    assert check.returncode == 0, check.stdout + check.stderr

    database = open_database()
    after = database.snapshot()
    database.connection.close()

    beat = "django_celery_beat_periodictask"
    tasks = sorted(task for (task,) in column(before, beat, "task") | column(after, beat, "task"))
    code = f"TASKS = {json.dumps(json.dumps(tasks))}\n{PROBE}"
    probe_run = run_here(url, tmp_path, "-c", code)
    assert probe_run.returncode == 0, probe_run.stdout + probe_run.stderr
    probe = json.loads(probe_run.stdout.rpartition("PROBE ")[2])

    # (b) Every old table, column and row is still there, unchanged but for the two kinds
    # of change that follow a model or a task to its new module.
    moved = moved_tables(before, probe)
    problems, allowed = compare(before, after, moved, probe["tasks"])
    assert not problems, "\n".join(problems)
    print("allowed changes:", *sorted(allowed), sep="\n  ")

    # No migration the old database applied was renamed or deleted away.
    applied = column(before, "django_migrations", "app", "name")
    gone = sorted(applied - {tuple(key) for key in probe["migrations"]})
    assert not gone, f"migrations the old database applied are missing here: {gone}"

    # No old table was left behind by a model that moved without keeping it.
    owned = {model["table"] for model in probe["models"].values()} | {"django_migrations"}
    orphaned = sorted(set(before) - owned)
    assert not orphaned, f"tables of the old database no model reads any more: {orphaned}"

    # (d) Every model reads all its columns; moved models read the rows their table had.
    for label, model in probe["models"].items():
        assert model["count"] == len(after[model["table"]]["rows"]), label
    assert moved, "no model owns a table another app created: nothing moved?"
    for table, label in moved.items():
        assert probe["models"][label]["count"] == len(before[table]["rows"]) > 0, label
        assert probe["models"][label]["content_type"] is not None, label
        # Its content type is the old one relabelled (same id), not a new one beside it.
        assert probe["models"][label]["content_type"] == old_content_type(before, table), label

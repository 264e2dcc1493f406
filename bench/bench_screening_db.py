"""Sanctions screening with its database: loading a list version, screening a profile write,
and the re-screen of every account after a new version (issue 15: 1,000,000 accounts in
≤ 15 minutes on this 2-core machine).

Runs in a subprocess with a throw-away SQLite database and its own embedded Redis (the
profile writes announce their versions, ``core.policy``). The accounts are Faker names that
are not listed, plus one listed name in every thousand, bulk-inserted as profiles. The
re-screen is ``compliance.rescreen.rescreen`` exactly as the Celery task runs it, in chunks
with its cursor saved; the baseline is the pure matcher over the same names in the same run
(``NameIndex.screen``, no database, on the first 100,000 of the same names), so the row
shows what the database adds. The full run re-screens the whole million; ``BENCH_QUICK``
5,000 and projects.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MILLION = 1_000_000
BASELINE_SAMPLE = 100_000


def run(quick: bool = False) -> list[dict]:
    from core import embedded_redis

    work = Path(tempfile.mkdtemp(prefix="gatehouse-bench-screening-"))
    port = embedded_redis.free_port()
    redis_process = embedded_redis.start(work / "redis", port, persistent=False)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "settings.dev",
        "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
        "REDIS_URL": f"redis://127.0.0.1:{port}/0",
        "GATEHOUSE_VAR_DIR": str(work),
        "SIGNING_KEY_FILE": str(work / "signing.pem"),
        "LOG_LEVEL": "WARNING",
    }
    accounts = 5_000 if quick else MILLION
    try:
        result = subprocess.run(
            [sys.executable, "-m", "bench.bench_screening_db", str(accounts)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=3600,
            check=False,
        )
    finally:
        redis_process.kill()
    if result.returncode != 0:
        raise RuntimeError(f"screening bench child failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _child(count: int) -> list[dict]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from compliance import rescreen, sanctions, services
    from compliance.models import AccountProfile, ScreeningCase
    from compliance.screening.evaluation import negative_cases

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    version, _ = sanctions.load_shipped(actor="bench")
    load_seconds = time.perf_counter() - started
    started = time.perf_counter()
    lists = sanctions.loaded()
    index_seconds = time.perf_counter() - started

    names = [case.query for case in negative_cases(lists.sdn.entries, 5_000)]
    listed = [entry.name for entry in lists.sdn.entries if entry.sdn_type == "individual"]
    now = timezone.now()

    def name_of(index: int) -> str:
        return listed[index // 1000] if index % 1000 == 999 else names[index % len(names)]

    base = {
        "residence_country": "DE",
        "residence_subdivision": "",
        "nationalities": [],
        "entity_type": "individual",
        "controlling_countries": [],
        "investor_category": "retail",
        "status": "active",
    }
    profiles = (
        AccountProfile(
            account_id=f"acc-{index:07d}",
            full_name=name_of(index),
            updated_at=now,
            updated_by="bench",
            **base,
        )
        for index in range(count)
    )
    batch = []
    for profile in profiles:
        batch.append(profile)
        if len(batch) == 5_000:
            AccountProfile.objects.bulk_create(batch)
            batch.clear()
    AccountProfile.objects.bulk_create(batch)

    sample = min(count, BASELINE_SAMPLE)
    started = time.perf_counter()
    for index in range(sample):
        lists.names.screen(name_of(index), entity_type="individual", countries=("DE",))
    pure_seconds = time.perf_counter() - started

    started = time.perf_counter()
    screened, finished = rescreen.rescreen(version.pk, max_seconds=float("inf"))
    rescreen_seconds = time.perf_counter() - started
    assert finished and screened == count, (screened, count)
    cases = ScreeningCase.objects.count()

    writes = 200
    started = time.perf_counter()
    for index in range(writes):
        services.put_account_profile(
            account_id=f"put-{index}",
            facts={**base, "full_name": names[index]},
            actor="bench",
        )
    put_seconds = time.perf_counter() - started

    rate = count / rescreen_seconds
    pure_rate = sample / pure_seconds
    return [
        {
            "name": "load a list version (shipped OFAC SDN + addresses, SQLite)",
            "seconds": load_seconds,
            "n": version.entry_count,
            "note": (
                f"read, parse, diff, store compressed, audit; {version.entry_count} entries, "
                f"{version.address_count} addresses"
            ),
        },
        {
            "name": "build this process's index from the stored version",
            "seconds": index_seconds,
            "n": version.entry_count,
            "note": (
                "once per process per version: name + address index (the parse is cached by "
                "content digest from the load above; a fresh process also parses, ~0.8 s)"
            ),
        },
        {
            "name": f"pure screen of {sample:,} account names (baseline)",
            "seconds": pure_seconds,
            "ops_per_s": pure_rate,
            "n": sample,
            "note": "NameIndex.screen on the first of the same names, no database",
        },
        {
            "name": f"re-screen {count:,} accounts (the Celery task's work, SQLite)",
            "seconds": rescreen_seconds,
            "ops_per_s": rate,
            "n": count,
            "note": (
                f"{rate / pure_rate:.0%} of the baseline's rate; {cases} cases opened "
                f"(1 listed name per 1,000); {rescreen_seconds / 60:.1f} min for {count:,} "
                f"on one worker, projected 1,000,000: {MILLION / rate / 60:.1f} min "
                "(goal ≤ 15 min)"
            ),
        },
        {
            "name": "PUT of a profile with a name, screened in its transaction (SQLite)",
            "seconds": put_seconds,
            "ops_per_s": writes / put_seconds,
            "n": writes,
            "note": (
                f"{put_seconds / writes * 1e3:.1f} ms per write (mean): screen, history row, "
                "audit entry, policy announcement"
            ),
        },
    ]


if __name__ == "__main__":
    print(json.dumps(_child(int(sys.argv[1])), default=str))

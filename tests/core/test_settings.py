"""Configuration comes from the environment; production refuses to start without what
matters and passes Django's deployment checklist."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_django(settings_module: str, env_overrides: dict[str, str], *args: str):
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "DATABASE_URL",
            "SECRET_KEY",
            "ALLOWED_HOSTS",
            "SIGNING_KEY_FILE",
            "GEOIP_CITY_DB",
            "POR_SALT_SECRET",
            "DJANGO_SETTINGS_MODULE",
            "REDIS_URL",
            "CELERY_BROKER_URL",
            "PORT",
            "LOG_LEVEL",
        }
    }
    env.update(env_overrides, DJANGO_SETTINGS_MODULE=settings_module)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def prod_env(tmp_path):
    key = tmp_path / "signing.pem"
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return {
        "SECRET_KEY": "x" * 40 + "-prod-secret-with-enough-entropy-1234567890",
        "ALLOWED_HOSTS": "gate.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "SIGNING_KEY_FILE": str(key),
        "GEOIP_CITY_DB": str(tmp_path / "city.mmdb"),
        "POR_SALT_SECRET": "por-salt-secret-for-the-test-0123456789abcdef",
    }


@pytest.mark.parametrize(
    "missing",
    [
        "POR_SALT_SECRET",
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "DATABASE_URL",
        "REDIS_URL",
        "SIGNING_KEY_FILE",
        "GEOIP_CITY_DB",
    ],
)
def test_production_refuses_to_start_without(missing, prod_env):
    env = {k: v for k, v in prod_env.items() if k != missing}
    result = run_django("settings.prod", env, "check")
    assert result.returncode != 0
    assert missing in result.stderr


def test_production_passes_the_deployment_checklist(prod_env):
    result = run_django("settings.prod", prod_env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


def test_database_url_selects_the_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}"
    result = run_django(
        "settings.dev",
        {"DATABASE_URL": url},
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DATABASES['default']['NAME'])",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(tmp_path / "elsewhere.sqlite3")


def test_defaults_of_the_embedded_setup():
    result = run_django(
        "settings.dev",
        {},
        "shell",
        "-c",
        "from django.conf import settings as s; print(s.REDIS_URL, s.PORT, s.LOG_LEVEL,"
        " s.GEOIP_CITY_DB.endswith('GeoLite2-City.mmdb'), s.DATABASES['default']['ENGINE'])",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == [
        "redis://127.0.0.1:6390/0",
        "8000",
        "INFO",
        "True",
        "django.db.backends.sqlite3",
    ]


@pytest.mark.parametrize(("days", "starts"), [("30", True), ("366", True), ("0", False)])
def test_the_rule_impact_window_is_a_sane_number_of_days(days, starts):
    result = run_django(
        "settings.dev",
        {"RULE_IMPACT_WINDOW_DAYS": days},
        "shell",
        "-c",
        "from django.conf import settings as s; print(s.RULE_IMPACT_WINDOW_DAYS)",
    )
    if starts:
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().splitlines()[-1] == days
    else:
        assert result.returncode != 0 and "RULE_IMPACT_WINDOW_DAYS" in result.stderr

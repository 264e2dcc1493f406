"""``manage.py enrol_officer USERNAME [--role ROLE ...] [--password P] [--new-device]``:
create or update a console officer, give them roles and a TOTP device, and print the
``otpauth://`` URI to add to an authenticator app (and the current code, for the demo)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from console import officers
from console.roles import ROLES
from core.management.commands._cli import cli_actor


class Command(BaseCommand):
    help = "Create or update a console officer with roles and a TOTP second factor."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--role",
            action="append",
            choices=ROLES,
            dest="roles",
            help="a console role (repeat for several); default: compliance_officer",
        )
        parser.add_argument("--password", help="set this password (default: keep, or generate)")
        parser.add_argument(
            "--new-device",
            action="store_true",
            help="replace the officer's authenticator (a lost phone)",
        )

    def handle(self, *args, username, roles, password, new_device, **options):
        try:
            user, device, password_set = officers.enrol_officer(
                username=username,
                roles=roles or ["compliance_officer"],
                actor=cli_actor(),
                password=password,
                new_device=new_device,
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"officer: {user.get_username()}")
        self.stdout.write(f"roles: {', '.join(sorted(roles or ['compliance_officer']))}")
        if password_set and not password:
            self.stdout.write(f"password: {password_set}")
        self.stdout.write(f"current code: {officers.current_code(device)}")
        self.stdout.write(f"otpauth URI (add to an authenticator app): {device.config_url}")

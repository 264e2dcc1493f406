"""A long-lived writer process for black-box tests: it runs the service functions that have
no HTTP endpoint of their own (rule activations, done under four eyes in the console) on
the live server's database and Redis, one command per stdin line, and answers ``ok`` only
after the service returned -- as the console would answer an officer.

Commands: ``rule-on <rule_id> <jurisdiction>`` (draft and activate a deny rule for
``rwa_token`` opens) and ``rule-off <rule_id>`` (draft and activate its retirement).
"""

from __future__ import annotations

import sys

import django


def main() -> None:
    django.setup()
    from compliance import services

    for line in sys.stdin:
        command, *args = line.split()
        if command == "rule-on":
            rule_id, jurisdiction = args
            draft = services.draft_rule(
                rule_id=rule_id,
                fields={
                    "jurisdictions": [jurisdiction],
                    "product_classes": ["rwa_token"],
                    "actions": ["open"],
                    "effect": "deny",
                    "citation_text": "black-box test rule",
                    "citation_ref": "test",
                },
                actor="user:maker",
            )
        elif command == "rule-off":
            (rule_id,) = args
            draft = services.draft_rule(
                rule_id=rule_id, fields={}, actor="user:maker", retires=True
            )
        else:
            raise SystemExit(f"unknown command {command}")
        services.activate_rule(rule_id=rule_id, revision=draft.revision, actor="user:checker")
        print("ok", flush=True)


if __name__ == "__main__":
    main()

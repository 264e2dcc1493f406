from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """The officers' web console: the shell (two-factor sign-in, roles, maker-checker
    proposals, audit pages), one folder of pages per part, and the pages that span parts
    (dashboard, accounts). The top floor: it may import every part; no part imports it."""

    name = "console"

    def ready(self) -> None:
        # The kinds of change under maker-checker, registered by the shell and each part's
        # pages (named here, not discovered).
        from console import actions, job_kinds
        from console.compliance import actions as compliance_actions
        from console.compliance import screening as screening_actions
        from console.custody import actions as custody_actions
        from console.risk import actions as risk_actions

        del actions, compliance_actions, custody_actions, job_kinds, risk_actions
        del screening_actions

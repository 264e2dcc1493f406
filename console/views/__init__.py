"""The console's own views (sign-in, dashboard, markets, proposals, schedules, audit,
officers); the compliance pages are in ``console.compliance.views``."""

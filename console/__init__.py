"""The officers' web console (DESIGN.md, "Console"): two-factor sign-in, roles, the
maker-checker queue and the pages compliance and risk officers work in.

Views here are thin: they parse a form, call a selector or a service of the owning part,
and render a template from ``templates/console/``. Part-specific pages live next to their
part (``compliance/console/``)."""

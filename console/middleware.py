"""A strict Content-Security-Policy for the console's pages.

Every script the console runs is a static file of this origin (htmx, uPlot, ``console.js``
and ``charts.js``): ``script-src 'self'`` with no ``'unsafe-inline'`` means an injected
``<script>`` or ``onclick=`` never runs, which is the last line of defence for pages that show
data from outside (client IPs, account ids, rule citations). A chart's figures come in a
``<script type="application/json">`` block, which is data the browser never executes. Inline
styles are refused too: uPlot sizes and places its elements through the CSSOM
(``element.style``), which the policy does not govern, and never writes a ``style``
attribute.

The admin and the API docs keep their own pages (they ship inline scripts) and are exempt.
"""

from __future__ import annotations

from django.conf import settings


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = settings.CONSOLE_CONTENT_SECURITY_POLICY
        self.exempt = tuple(settings.CONSOLE_CSP_EXEMPT_PREFIXES)

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(self.exempt):
            return response
        response.headers.setdefault("Content-Security-Policy", self.policy)
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

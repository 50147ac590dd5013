"""Middleware of the deployment (not of any app)."""

from functools import cached_property

from csp.constants import HEADER
from csp.middleware import CSPMiddleware
from csp.utils import build_policy
from django.conf import settings


class FixedPolicyCSPMiddleware(CSPMiddleware):
    """django-csp's middleware, with the policy built once instead of on every response.

    Nothing here uses per-view policy changes (``@csp_update`` and friends) or
    nonces, so the header is the same for every response: django-csp builds
    it from the settings twice per response (policy and report-only), which
    cost a trivial request about a fifth of its time. A response that does
    carry a per-view change, or a request that used a nonce, falls back to
    django-csp's own handling.
    """

    OVERRIDES = ("_csp_config", "_csp_update", "_csp_replace", "_csp_exempt")
    OVERRIDES_RO = ("_csp_config_ro", "_csp_update_ro", "_csp_replace_ro", "_csp_exempt_ro")

    @cached_property
    def policy(self) -> str:
        return build_policy()

    def process_response(self, request, response):
        plain = (
            not (settings.DEBUG and response.status_code in (404, 500))  # technical pages
            and getattr(request, "_csp_nonce", None) is None
            and not any(hasattr(response, name) for name in self.OVERRIDES + self.OVERRIDES_RO)
            and HEADER not in response
        )
        if not plain:
            return super().process_response(request, response)
        response[HEADER] = self.policy
        return response

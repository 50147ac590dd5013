"""Host names of the platform: which tenant or region a host is, and the reverse.

A region is ``{region}.{PLATFORM_DOMAIN}``; a tenant is
``{tenant}.{region}.{PLATFORM_DOMAIN}``. Public URLs are built from settings
only: the request's Host header picks a tenant, but never shapes a URL we hand out.
"""

from dataclasses import dataclass

from django.conf import settings
from django.http.request import split_domain_port


@dataclass(frozen=True)
class HostLabels:
    """The labels left of the platform domain: a tenant has two, a region one."""

    region: str
    tenant: str | None = None


def parse_host(host: str) -> HostLabels | None:
    """Split a Host header value into tenant and region labels, or None if it is not ours."""
    domain, _port = split_domain_port(host)  # lowercases and drops a trailing dot
    suffix = "." + settings.PLATFORM_DOMAIN
    if not domain.endswith(suffix):
        return None
    labels = domain[: -len(suffix)].split(".")
    if len(labels) == 1 and labels[0]:
        return HostLabels(region=labels[0])
    if len(labels) == 2 and all(labels):
        return HostLabels(region=labels[1], tenant=labels[0])
    return None


def region_hostname(region_code: str) -> str:
    return f"{region_code}.{settings.PLATFORM_DOMAIN}"


def tenant_hostname(tenant_slug: str, region_code: str) -> str:
    return f"{tenant_slug}.{region_code}.{settings.PLATFORM_DOMAIN}"


def origin(hostname: str) -> str:
    """``scheme://host[:port]`` from the platform settings."""
    port = f":{settings.PLATFORM_PORT}" if settings.PLATFORM_PORT else ""
    return f"{settings.PLATFORM_SCHEME}://{hostname}{port}"

"""Who is asking: client IP and user agent, read the same way everywhere (logs, audit rows)."""

from django.conf import settings


def client_ip(request) -> str | None:
    # Behind a proxy we trust (PROXY_COUNT>0) the right-most hop it added is the client.
    proxy_count = getattr(settings, "AXES_IPWARE_PROXY_COUNT", None) or 0
    if proxy_count:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if len(forwarded) >= proxy_count:
            return forwarded[-proxy_count]
    return request.META.get("REMOTE_ADDR") or None


def user_agent(request) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:300]

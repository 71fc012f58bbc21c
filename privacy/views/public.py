"""Public pages: the privacy policy in force (§12) and the cookie choice (§8)."""

import re

from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from cinrella.clinic_time import clinic_time_zone
from privacy import cookies, selectors
from privacy.models import PolicyVersion

SECTION = re.compile(r"^\d{1,2}\.\s")
SUBSECTION = re.compile(r"^[A-Z]\.\s")


def _paragraphs(text: str) -> list[dict]:
    """Blocks of the policy text: headings ("4. SMS …"), bullets ("• …") and paragraphs."""
    blocks = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("•"):
            if blocks and blocks[-1]["kind"] == "list":
                blocks[-1]["items"].append(line.lstrip("• ").strip())
            else:
                blocks.append({"kind": "list", "items": [line.lstrip("• ").strip()]})
        elif SECTION.match(line) and len(line) < 80:
            blocks.append({"kind": "heading", "text": line, "anchor": "s" + line.split(".")[0]})
        elif SUBSECTION.match(line) and len(line) < 80:
            blocks.append({"kind": "subheading", "text": line})
        elif line.isupper():
            continue  # the "PRIVACY POLICY" title: the page has its own
        else:
            blocks.append({"kind": "text", "text": line})
    return blocks


def policy(request, number=None):
    version = PolicyVersion.objects.filter(number=number).first() if number else selectors.current_policy_version()
    if version is None:
        raise Http404("No privacy policy is in force yet.")
    current = selectors.current_policy_version()
    with clinic_time_zone():
        return render(
            request,
            "privacy/public/policy.html",
            {
                "version": version,
                "blocks": _paragraphs(version.text),
                "is_current": current is not None and version.pk == current.pk,
                "versions": PolicyVersion.objects.order_by("-number"),
            },
        )


@require_http_methods(["GET", "POST"])
def cookie_settings(request):
    if request.method == "POST":
        value = cookies.ACCEPT if request.POST.get("choice") == "accept" else cookies.DECLINE
        target = request.POST.get("next") or "/privacy/cookies/"
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
            target = "/privacy/cookies/"
        return cookies.remember(redirect(target), value)
    return render(request, "privacy/public/cookies.html", {"choice": cookies.choice(request)})

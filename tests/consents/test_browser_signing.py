"""Drawing a signature on the canvas in Debian's Chromium, on a tablet-sized viewport."""

import os
from pathlib import Path

import pytest

from consents import links, selectors, services
from consents.models import ConsentSignature
from tests.conftest import sign_in_verified
from tests.consents.factories import ConsentTemplateFactory
from tests.factories import PatientFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TABLET = {"width": 820, "height": 1180}  # iPad Air, portrait
SCREENSHOTS = Path(os.environ.get("CONSENTS_SCREENSHOT_DIR", "/tmp"))  # noqa: S108


@pytest.fixture
def browser_page(live_server, chromium):
    context = chromium.new_context(viewport=TABLET, has_touch=True, device_scale_factor=2)
    page = context.new_page()
    errors = []
    # Script errors and CSP refusals show as console errors; failed loads are checked by URL
    # (the browser's own /favicon.ico request is not ours).
    page.on(
        "console",
        lambda m: errors.append(m.text) if m.type == "error" and "Failed to load resource" not in m.text else None,
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "response",
        lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 and "favicon" not in r.url else None,
    )
    page.console_errors = errors
    return page, context


def draw_signature(page):
    canvas = page.locator("canvas[data-signature-pad]")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x, y = box["x"], box["y"]
    page.mouse.move(x + 30, y + box["height"] * 0.7)
    page.mouse.down()
    for i in range(1, 25):
        page.mouse.move(x + 30 + i * 14, y + box["height"] * (0.7 - 0.4 * ((i % 6) / 6)), steps=2)
    page.mouse.up()


def published_template(title):
    template = ConsentTemplateFactory(title=title)
    services.publish_template_version(
        template=template, body="Possible effects include redness and swelling.\n\nI agree to the treatment."
    )
    return template


def test_patient_draws_signature_on_tablet_and_submits(live_server, browser_page):
    page, _ = browser_page
    patient = PatientFactory()
    template = published_template("Laser and light treatment consent")
    token = links.signing_token(patient)

    page.goto(f"{live_server.url}/book/consents/{token}/sign/{template.slug}/")
    page.screenshot(path=str(SCREENSHOTS / "consents_sign_tablet.png"), full_page=True)

    # Submitting without a drawing is stopped in the page with a message.
    page.check("input[name=agree]")
    page.fill("input[name=typed_name]", "Maria Lopez")
    page.click("form[data-signature-form] button[type=submit]")
    assert page.locator("[data-signature-error]").is_visible()
    assert not ConsentSignature.objects.exists()

    draw_signature(page)
    page.screenshot(path=str(SCREENSHOTS / "consents_sign_tablet_drawn.png"), full_page=True)
    page.click("form[data-signature-form] button[type=submit]")
    page.wait_for_url(f"**/book/consents/{token}/")

    assert "is signed" in page.content()
    signature = ConsentSignature.objects.get()
    assert signature.channel == "portal"
    assert signature.typed_name == "Maria Lopez"
    assert signature.rendered_text_sha256 == selectors.rendered_text_sha256(signature.template_version)
    assert len(signature.signature_png_b64) > 500  # a real drawing, decoded and checked by the service
    assert page.console_errors == []  # no CSP violation, no script error


def test_front_desk_tablet_page_signs_in_the_browser(live_server, browser_page, client):
    page, context = browser_page
    user = UserFactory(is_superuser=True)  # roles are groups seeded by migration; a transactional test may flush them
    sign_in_verified(client, user)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    patient = PatientFactory()
    template = published_template("Dermal filler treatment consent")

    page.goto(f"{live_server.url}/staff/consents/sign/{patient.pk}/{template.slug}/")
    assert page.locator("h1").inner_text() == "Dermal filler treatment consent"
    page.check("input[name=agree]")
    draw_signature(page)
    page.fill("input[name=typed_name]", "Maria Lopez")
    page.screenshot(path=str(SCREENSHOTS / "consents_staff_sign_tablet.png"), full_page=True)
    page.click("form[data-signature-form] button[type=submit]")
    page.wait_for_url(f"**/staff/consents/patient/{patient.pk}/")

    signature = ConsentSignature.objects.get()
    assert signature.channel == "front_desk" and signature.staff_user == user
    assert "signed ✓" in page.content()
    assert page.console_errors == []

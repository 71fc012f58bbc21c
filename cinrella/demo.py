"""The demo clinic loaded by `python manage.py seed_demo` (and by `make run`).

Demo credentials are fixed and public on purpose: they exist so a tester can sign in on a fresh
clone. `seed_demo` refuses to run with DEBUG off."""

from dataclasses import dataclass

from cinrella.roles import Role


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: Role | None
    first_name: str
    last_name: str
    password: str
    # Base32 TOTP secret: add it to any authenticator app, or run `manage.py demo_totp USER`.
    totp_b32: str
    superuser: bool = False


DEMO_USERS = [
    DemoUser("frontdesk", Role.FRONT_DESK, "Fran", "Desk", "demo-frontdesk-2026", "JBSWY3DPEHPK3PXPFRONTDSK"),
    DemoUser("provider", Role.PROVIDER, "Paula", "Provider", "demo-provider-2026", "JBSWY3DPEHPK3PXPPROVIDER"),
    DemoUser("billing", Role.BILLING, "Bill", "Ing", "demo-billing-2026", "JBSWY3DPEHPK3PXPBILLINGX"),
    DemoUser("manager", Role.MANAGER, "Mona", "Manager", "demo-manager-2026", "JBSWY3DPEHPK3PXPMANAGERX"),
    DemoUser("admin", None, "Ada", "Admin", "demo-admin-2026", "JBSWY3DPEHPK3PXPADMINXXX", superuser=True),
]

DEMO_LOCATION = {
    "name": "Cinrella Med Spa — Convoy Street",
    "address": "3709 Convoy Street Ste 301, San Diego CA 92111",
    "phone": "(858) 256-0289",
    "time_zone": "America/Los_Angeles",
}


def credentials_table() -> str:
    lines = ["", "Demo sign-in (staff: /staff/, admin: /admin/):", ""]
    lines.append(f"  {'username':<11}{'role':<12}{'password':<22}TOTP secret (or: manage.py demo_totp USER)")
    for d in DEMO_USERS:
        role = d.role.value if d.role else "superuser"
        lines.append(f"  {d.username:<11}{role:<12}{d.password:<22}{d.totp_b32}")
    return "\n".join(lines) + "\n"

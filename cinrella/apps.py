from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class CinrellaConfig(AppConfig):
    name = "cinrella"
    verbose_name = "Platform"
    default = True

    def ready(self):
        from cinrella import heartbeats, keycheck, role_permissions, security_log  # noqa: F401  (signals, readiness checks)

        keycheck.install()


class CinrellaAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "cinrella.admin_site.CinrellaAdminSite"

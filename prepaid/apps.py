from django.apps import AppConfig


class PrepaidConfig(AppConfig):
    name = "prepaid"
    verbose_name = "Packages, memberships and gift cards"

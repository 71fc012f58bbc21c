from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    name = "appointments"

    def ready(self):
        from privacy import content

        # The clinic's own services are health terms: a text naming one says what someone had done.
        content.register_term_source("appointments.services", service_terms)


def service_terms():
    from appointments.models import Service
    from privacy import content

    for name in Service.objects.values_list("name", flat=True):
        families = content.family_of(name)
        yield content.Term(name, content.TermKind.SERVICE, next(iter(sorted(families)), ""))

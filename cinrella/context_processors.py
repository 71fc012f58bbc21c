from django.conf import settings

from cinrella.navigation import staff_navigation


def navigation(request):
    return {
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": settings.CLINIC_PHONE,
        "staff_nav": staff_navigation(request),
    }

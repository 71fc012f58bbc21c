from django.contrib import admin

from appointments.models import Location


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["name", "phone", "time_zone"]

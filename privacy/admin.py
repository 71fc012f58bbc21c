from django.contrib import admin

from privacy.models import Disclosure, Recipient


@admin.register(Recipient)
class RecipientAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "kind", "active", "agreement"]
    list_filter = ["kind", "active"]


@admin.register(Disclosure)
class DisclosureAdmin(admin.ModelAdmin):
    list_display = ["at", "recipient", "purpose", "categories", "patient_id", "user"]
    list_filter = ["purpose", "recipient"]
    raw_id_fields = ["patient"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

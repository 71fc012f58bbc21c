"""Django admin behind the same sign-in as the staff pages.

The admin's own login form is replaced by a redirect to the staff sign-in, which always goes
through the second factor; `has_permission` also insists on a verified device, so there is no
path into /admin/ with a password alone."""

from django.contrib import admin
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode


class CinrellaAdminSite(admin.AdminSite):
    site_header = "Cinrella administration"
    site_title = "Cinrella admin"

    def has_permission(self, request):
        return super().has_permission(request) and request.user.is_verified()

    def login(self, request, extra_context=None):
        next_url = request.GET.get("next") or reverse("admin:index")
        return redirect(f"{reverse('staff-login')}?{urlencode({'next': next_url})}")

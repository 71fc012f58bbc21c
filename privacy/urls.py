from django.urls import path

from privacy.views import public

urlpatterns = [
    # public (§8, §12)
    path("privacy/", public.policy, name="privacy-policy"),
    path("privacy/v<int:number>/", public.policy, name="privacy-policy-version"),
    path("privacy/cookies/", public.cookie_settings, name="privacy-cookies"),
]

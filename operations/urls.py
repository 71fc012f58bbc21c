from django.urls import path

from operations import views

urlpatterns = [
    path("staff/attention/", views.attention, name="operations-attention"),
]

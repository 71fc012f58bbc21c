from zoneinfo import available_timezones

from django.db import models

TIME_ZONE_CHOICES = sorted((tz, tz) for tz in available_timezones())


class Location(models.Model):
    """A clinic location. Everything a person reads about it is shown in its own time zone."""

    name = models.CharField(max_length=120, unique=True)
    address = models.CharField(max_length=300)
    phone = models.CharField(max_length=32)
    time_zone = models.CharField(max_length=64, choices=TIME_ZONE_CHOICES, default="America/Los_Angeles")

    def __str__(self):
        return self.name

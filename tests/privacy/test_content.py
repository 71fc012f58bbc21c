"""privacy.content: health terms in outgoing text (the clinic's services, treatments, products)."""

import pytest

from privacy import content
from privacy.policy import Category
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db  # the clinic's service names are read from the database


def test_product_and_treatment_names_are_found_accent_case_and_plural_insensitive():
    scan = content.scan("Juvéderm and BOTOX specials, plus chemical peels!")
    assert scan.names() == ["Juvéderm", "BOTOX", "chemical peels"]
    assert scan.categories == {Category.HEALTH}


def test_the_longest_term_wins_where_terms_overlap():
    assert content.scan("Laser hair removal 20% off").names() == ["Laser hair removal"]


def test_plain_words_are_not_health_terms():
    assert content.scan("Cinrella Med Spa: our holiday hours. Reply STOP to opt out.").findings == ()
    assert content.categories_of("See you Tuesday at 2 PM") == frozenset()


def test_the_clinics_own_service_names_come_from_the_database():
    ServiceFactory(name="Aqua Glow Ritual")
    assert content.scan("Try our Aqua Glow Ritual this week").names() == ["Aqua Glow Ritual"]


def test_an_audience_chosen_by_a_service_may_hear_of_its_family_only():
    ServiceFactory(name="Neuromodulator")
    assert content.terms_outside("Botox and Dysport 10% off", allowed_service="Neuromodulator") == []
    assert content.terms_outside("Botox and lip filler", allowed_service="Neuromodulator") == ["lip filler"]
    assert content.terms_outside("Botox special") == ["Botox"]

import pytest

from tests.factories import UserFactory


@pytest.fixture
def desk(db):
    return UserFactory(role="front_desk")


@pytest.fixture
def billing(db):
    return UserFactory(role="billing")

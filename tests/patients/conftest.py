import pytest


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    """Photos are written under a per-test private root, never into the worktree."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    return settings.PRIVATE_MEDIA_ROOT

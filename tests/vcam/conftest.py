"""Start the VM image builds as soon as the session knows it will run the vcam suite (after
deselection by -m / -k), so they overlap the other suites."""

from __future__ import annotations

import pytest


def pytest_collection_finish(session: pytest.Session) -> None:
    if any(item.get_closest_marker("vcam") for item in session.items):
        from tests.vcam.test_virtual_camera import start_builds

        start_builds()

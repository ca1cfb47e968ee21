"""Every dialog Waypoint answers, registered in one place."""

from __future__ import annotations

from dialogs import actions as actions_dialog
from dialogs import (
    attendance,
    category,
    coaching,
    dashboard,
    digest,
    home,
    prep,
    profile,
    qa,
    review,
    visit,
    visits,
)
from dialogs.registry import Registry


def build_registry() -> Registry:
    registry = Registry()
    for module in (
        home,
        profile,
        coaching,
        category,
        review,
        visit,
        prep,
        visits,
        actions_dialog,
        qa,
        attendance,
        digest,
        dashboard,
    ):
        module.register(registry)
    return registry

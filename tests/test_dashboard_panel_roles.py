"""The dashboard's panels are read by the same roles as the chat commands with the
same numbers: storage/ cannot import dialogs/, so it keeps its own table, and this
test keeps the two from drifting apart."""

from __future__ import annotations

from dialogs.catalogue import build_registry
from storage.dashboard.model import Panel
from storage.dashboard.scope import PANEL_ROLES
from storage.models import Role

# Each panel and the chat command that answers its numbers.
COMMAND_OF_PANEL = {
    Panel.categories: "category",
    Panel.coaching: "coaching_coverage",
    Panel.qa: "qa_status",
    Panel.actions: "actions",
    Panel.attendance: "attendance_concerns",
    Panel.visits: "visits",
}


def test_every_panel_is_read_by_the_roles_of_its_chat_command() -> None:
    registry = build_registry()
    assert set(PANEL_ROLES) == set(Panel) == set(COMMAND_OF_PANEL)
    for panel, key in COMMAND_OF_PANEL.items():
        command = registry.get_command(key)
        assert command is not None, key
        # A command for anyone (roles None) is a panel for every role.
        in_chat = frozenset(Role) if command.roles is None else command.roles
        assert PANEL_ROLES[panel] == in_chat, panel

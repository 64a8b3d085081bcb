"""Screen 5, Checklists: the guide's daily and weekly operations checklists (not built)."""

from tui.screens.not_built import NotBuiltScreen


class ChecklistsScreen(NotBuiltScreen):
    NAME, TITLE, NUMBER = "checklists", "Checklists", 5
    ISSUE = "checklist"
    WILL_SHOW = ("the daily checklist (morning health check, performance, cost, user "
                 "experience), items checked automatically where the data exists",
                 "the weekly tasks", "the history of completed runs")

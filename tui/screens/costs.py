"""Screen 4, Costs: spend against budget and the routing split (not built)."""

from tui.screens.not_built import NotBuiltScreen


class CostsScreen(NotBuiltScreen):
    NAME, TITLE, NUMBER = "costs", "Costs", 4
    ISSUE = "cost"
    WILL_SHOW = ("OpenAI spend today against the daily budget, with a burn-rate projection",
                 "the fast/think routing split against the 60-70 % target band",
                 "cost per session and the guide's automatic cost controls")

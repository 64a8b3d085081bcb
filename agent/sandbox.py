"""What marks a config as the demo's: `DemoConfig`, a `Config` whose type alone says
"sandbox" (remediation records compose and command steps instead of running them).

Kept apart from `agent.demo`, which starts the simulator, so that remediation can ask
"is this a demo?" without depending on the simulator (the import contract in pyproject).
"""

from __future__ import annotations

from agent.config import Config


class DemoConfig(Config):
    """A config built by the demo. Same keys as `Config`; its type alone says "demo"
    (kept by `model_copy`): remediation records compose and command steps instead of
    running them."""


def as_demo(config: Config) -> DemoConfig:
    """`config` marked as the demo's (no revalidation: it is valid already)."""
    if isinstance(config, DemoConfig):
        return config
    return DemoConfig.model_construct(_fields_set=set(config.model_fields_set),
                                      **{name: getattr(config, name)
                                         for name in Config.model_fields})


def is_demo(config: object) -> bool:
    return isinstance(config, DemoConfig)

"""The admin configuration pages, registered together (webui/app.py adds them all)."""

from __future__ import annotations

from types import ModuleType

from webui.pages import (
    admin_features,
    admin_flows,
    admin_hardware,
    admin_prompts,
    admin_rooms,
    admin_site,
    admin_yaml,
)

ADMIN_PAGES: tuple[ModuleType, ...] = (admin_site, admin_flows, admin_prompts, admin_hardware,
                                       admin_yaml, admin_features, admin_rooms)

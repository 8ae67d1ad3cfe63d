"""Configure a test box the way an installer does: a site file, `ccbox config import`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.integration.box import ccbox


def import_site(data: Path, site: dict[str, Any] | str, name: str = "site.yaml") -> str:
    """Write `site` (a document or YAML text) next to the data dir and import it; the
    import's output. Fails the test (BoxError) if the box refuses the file."""
    path = data.parent / name
    text = site if isinstance(site, str) else yaml.safe_dump(site, allow_unicode=True,
                                                           sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return ccbox(["config", "import", str(path), "--data", str(data)]).stdout

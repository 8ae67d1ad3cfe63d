"""The call-center configuration: stored in the database, validated as a whole, applied
to a running switchd without touching calls in progress (decision 0014).

- `schema`: every section and field of the site document, with defaults;
- `validate.validate(doc)`: every error (object, field; line for a file) and the `Site`
  switchd runs (model.py: AcdConfig, flows, DIDs with time rules, blacklist, auto-lock);
- `store`: the document <-> the tables of firmware/db/site_models.py, atomically;
- `service.SiteService`: what the CLI (`ccbox config export|import`) and the web UI call;
- `yamlio`: site.yaml with line numbers and numbers kept as typed.
"""

from firmware.siteconfig.errors import SiteError, SiteInvalid
from firmware.siteconfig.model import Site
from firmware.siteconfig.service import ImportOutcome, SaveOutcome, SiteService
from firmware.siteconfig.validate import Context, Result, validate

__all__ = ["Context", "ImportOutcome", "Result", "SaveOutcome", "Site", "SiteError",
           "SiteInvalid", "SiteService", "validate"]

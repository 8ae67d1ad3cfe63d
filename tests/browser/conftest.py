"""The browser tier reuses the integration tier's running box and sipp phones (the admin
pages end to end need switchd as well as webd)."""

from tests.integration.conftest import (  # noqa: F401
    box,
    box_data,
    box_ports,
    data_template,
    peer_tools,
    phones,
    sipp_dir,
)

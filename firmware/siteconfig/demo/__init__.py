"""The demo site: the 96777 gas hotline, imported by `make run` on an empty box."""

from pathlib import Path

DEMO_SITE = Path(__file__).with_name("gas_hotline_96777.yaml")

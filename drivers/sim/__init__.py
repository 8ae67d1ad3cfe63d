"""Simulated hardware for board `sim`: the PSTN on the far side of an emulated E1 span."""

"""Drivers for the real SIP peers the tests use: sipp, baresip, and WAV analysis."""

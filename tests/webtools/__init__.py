"""Helpers for testing the web UI without a browser."""

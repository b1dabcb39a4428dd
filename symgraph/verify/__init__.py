"""Checking derivatives: hand derivations (check) and finite differences."""

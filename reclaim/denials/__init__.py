"""Denials: found in an 835 (detect), routed by the table a manager edits (routing, store),
posted with the remittance (posting), fixed where a fix is certain (autofix), and counted for the
dashboard (facts)."""

"""The edits, grouped by what they look at. Importing this package registers every rule."""

from reclaim.scrub.rules import claim, diagnoses, edits, lines, parties

__all__ = ["claim", "diagnoses", "edits", "lines", "parties"]

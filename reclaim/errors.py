"""Errors the domain raises about one field of what a person entered: the API answers them 422
(409 for the "exists" kinds) naming `field`, the pages show `message` beside it."""

from __future__ import annotations


class FieldError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")

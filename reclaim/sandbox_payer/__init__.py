"""The sandbox payer: a small clearinghouse + payer that answers 837s with 999, 277CA and 835 files.

`create_payer_app(config)` builds the FastAPI service (`reclaim payer`); `adjudicate_claim` is the
pure decision; the rules live in `rules.toml` (documented in RULES.md).
"""

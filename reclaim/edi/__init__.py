"""Payer files in: storing a 999, 277CA or 835, posting its answers, matching them to claims, the
signal outbox that hands them to the claims' workflows, and the views of a file."""

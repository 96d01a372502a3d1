"""The files exchanged with payers: each attempt's 837 (submissions), and the answers in —
storing a 999, 277CA or 835, posting it, matching it to claims, the signal outbox that hands it
to the claims' workflows, and the views of a file."""

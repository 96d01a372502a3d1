"""People's work: work items and their queues (items), and the mail that tells people (notices)."""

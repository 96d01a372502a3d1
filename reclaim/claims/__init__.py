"""A claim: its document (schemas), its service (create, correct, record events), the one filter
the claim lists and the API share, and the views the pages and the API show."""

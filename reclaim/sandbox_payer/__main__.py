"""`python -m reclaim.sandbox_payer [port]`: the sandbox payer alone, configured from the
environment."""

from __future__ import annotations

import sys

from reclaim.sandbox_payer.app import serve
from reclaim.sandbox_payer.config import PayerConfig

if __name__ == "__main__":
    serve(PayerConfig.from_env(), port=int(sys.argv[1]) if len(sys.argv) > 1 else 8001)

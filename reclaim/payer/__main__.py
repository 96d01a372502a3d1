"""`python -m reclaim.payer [port]`: the sandbox payer alone, configured from the environment."""

from __future__ import annotations

import sys

from reclaim.payer.app import serve
from reclaim.payer.config import PayerConfig

if __name__ == "__main__":
    serve(PayerConfig.from_env(), port=int(sys.argv[1]) if len(sys.argv) > 1 else 8001)

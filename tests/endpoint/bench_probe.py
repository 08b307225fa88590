"""How long one whole probe of one endpoint takes on loopback (the budget is 2 s), measured
on the test servers: the leaky one (the 200-request burst runs to the end) and the secure one
(TLS under a test CA, the burst stops at the first 429). Not a unit test:

    .venv/bin/python -m tests.endpoint.bench_probe [ROUNDS]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from custos.endpoint.probe import Settings
from custos.endpoint.scan import probe_endpoint
from tests.endpoint.certs import TestCA
from tests.endpoint.servers import KEY, leaky_handler, secure_handler, serving, tls_context

BUDGET = 2.0


def main(rounds: int) -> int:
    with tempfile.TemporaryDirectory() as folder:
        ca = TestCA(Path(folder))
        leaf = ca.leaf("bench")
        context = tls_context(str(leaf.cert), str(leaf.key))
        worst = 0.0
        with serving(leaky_handler("open")) as leaky, serving(secure_handler(), context) as tls:
            for name, server, settings in (
                ("leaky, http, 200-request burst", leaky, Settings(leaky.url(), KEY)),
                ("secure, https + test CA", tls,
                 Settings(tls.url(scheme="https"), KEY, ca=ca.path)),
            ):  # fmt: skip
                times = []
                for _ in range(rounds):
                    server.reset()
                    start = time.perf_counter()
                    report = probe_endpoint(settings)
                    times.append(time.perf_counter() - start)
                requests = report.to_json()["http_requests"]
                print(f"{name}: median {statistics.median(times):.3f} s, max "
                      f"{max(times):.3f} s over {rounds} rounds ({requests} HTTP requests "
                      "each)")  # fmt: skip
                worst = max(worst, max(times))
    print(f"worst {worst:.3f} s against a budget of {BUDGET} s")
    return 0 if worst <= BUDGET else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5))

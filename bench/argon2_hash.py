"""Prints how long one web UI password hash takes with the box's argon2 parameters."""

from __future__ import annotations

import statistics
import time

from webui.passwords import MEMORY_KIB, PARALLELISM, TIME_COST, hash_password, verify_password


def main() -> None:
    times = []
    for _ in range(10):
        t0 = time.perf_counter()
        h = hash_password("correct horse battery staple")
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    verify_password(h, "correct horse battery staple")
    verify = time.perf_counter() - t0
    print(f"argon2id m={MEMORY_KIB} KiB t={TIME_COST} p={PARALLELISM}")
    print(f"hash   median {statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms")
    print(f"verify {verify * 1000:.1f} ms")


if __name__ == "__main__":
    main()

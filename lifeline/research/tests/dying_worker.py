"""A parse function whose worker process dies (imported by the worker, so not in a test module)."""

import os


def die(job: tuple[str, int, tuple[str, ...]]) -> None:
    os._exit(3)  # as a worker killed by the OOM killer would end: no exception, no answer

"""A target "python" that answers stage-0 with endless terminal garbage and
never says it is ready (test_bounded_expect.py)."""

import os
import time

CHUNK = b"\x1b[2Jgarbage RPL-READ\r\n" * 3000
end = time.monotonic() + float(os.environ.get("GARBAGE_SECONDS", "60"))
while time.monotonic() < end:
    try:
        os.write(1, CHUNK)
    except OSError:
        break

"""Where the project's shared material is: the recorded client traffic and the sample mbox.

``shared/`` sits beside the repository (``../shared`` of the checkout, as in CI's clone); on the
development machines it is also at ``/work/shared``. ``IMAPCORE_SHARED`` overrides both.
"""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _shared() -> Path:
    candidates = [Path(os.environ["IMAPCORE_SHARED"])] if os.environ.get("IMAPCORE_SHARED") else []
    candidates += [ROOT.parent / "shared", Path("/work/shared")]
    for candidate in candidates:
        if (candidate / "traffic").is_dir():
            return candidate
    return candidates[0]


SHARED = _shared()
TRAFFIC = SHARED / "traffic"
SAMPLE_MBOX = SHARED / "data" / "sample-500.mbox"

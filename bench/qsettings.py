"""Settings for an experiment only: config.settings with Q_CLUSTER overrides from the
environment (BENCH_Q_SAVE_LIMIT), so a bench can compare queue settings without editing
the product. Used by submit_latency.py --q-save-limit."""

import os

from config.settings import *  # noqa: F403
from config.settings import Q_CLUSTER

if os.environ.get("BENCH_Q_SAVE_LIMIT"):
    Q_CLUSTER = {**Q_CLUSTER, "save_limit": int(os.environ["BENCH_Q_SAVE_LIMIT"])}

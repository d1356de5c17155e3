"""Root pytest configuration: hypothesis profiles sized for CI on 2 cores."""

import os

from hypothesis import HealthCheck, settings

# Tests read English messages; a French developer's locale must not change them (the
# language tests set their own, in subprocesses).
os.environ["SEGUR_LANG"] = "en"

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile("thorough", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

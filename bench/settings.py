"""Settings for bench/api_load.py only: production settings, throttling off (one load
generator is one client address), and a URLconf with the bare comparison view."""

from config.settings.production import *  # noqa: F403
from config.settings.production import REST_FRAMEWORK

ROOT_URLCONF = "bench.urls"
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": dict.fromkeys(REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]),
}

"""The floor's settings (demo/floor, what the benchmarks measure the product against): the
product's, with Django's own session and authentication middleware only and the floor's one URL.
Same database, secret key, sessions and authentication backends, so a session signed in on the
product is signed in here too. `DJANGO_SETTINGS_MODULE=config.settings_floor` (bench_http)."""

from config.settings import *  # noqa: F403
from demo.floor import MIDDLEWARE, ROOT_URLCONF  # noqa: F401

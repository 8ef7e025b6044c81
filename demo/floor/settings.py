"""The floor's settings (demo/floor/__init__.py): the product's, with Django's own session and
authentication middleware only and one URL. Same database, secret key, sessions and
authentication backends, so a session signed in on the product is signed in here too."""

from config.settings import *  # noqa: F403

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "demo.floor.urls"

"""The floor the benchmarks measure the product against: what Django itself costs on the same data.

One page, `/?q=…`: a signed-in request through Django's own session and authentication
middleware only, running the product's client search (the same query, the same 20 rows at most)
and rendering the rows plainly with Django's template engine, no layout. Its settings module,
`config.settings_floor`, is the product's with the two lists below (the project package holds
every settings module); `bench_http` serves it with gunicorn beside the product, and the
in-process benchmarks (`demo.bench.run`) send its requests through a handler built from the same
two lists. It is never mounted in the product's URLs.
"""

# Django's own session and authentication middleware, nothing else.
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "demo.floor.urls"

from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data and benchmarks: `seed_demo`, the generators and bulk loaders behind it, and the
    `bench_*` commands. The top layer: it reaches every app, and no app imports it."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "demo"
    verbose_name = "Demo data and benchmarks"

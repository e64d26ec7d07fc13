"""The team view: a Prometheus exporter fed by one headless monitor (no Textual here)."""

from callwatch.exporter.metrics import exposed_names
from callwatch.exporter.serve import KEEP_FINISHED, Retention, make_registry, serve_exporter

__all__ = ["KEEP_FINISHED", "Retention", "exposed_names", "make_registry", "serve_exporter"]

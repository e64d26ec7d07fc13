"""callwatch: a terminal live monitor for voice group-call tasks."""

__version__ = "0.1.0"

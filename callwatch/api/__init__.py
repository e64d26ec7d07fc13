"""Signed HTTP access to the voice group-call API. Never imports Textual."""

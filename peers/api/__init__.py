"""Everything under /api/v1/: the JSON API for people and scripts (``resources``, django-ninja,
user tokens) and the export Asterisk hosts pull (``agent``, host tokens)."""

"""The iax.conf domain core: catalogue, value rules, validation, rendering and parsing.

Plain Python with no Django imports, so every rule can be tested without a database or HTTP.
"""

from .catalogue import Catalogue, Directive, catalogue
from .document import Document, Entry, Section, expand
from .render import RenderError, render
from .validate import ERROR, WARNING, Finding, KeyInfo, validate

__all__ = [
    "Catalogue",
    "Directive",
    "Document",
    "ERROR",
    "Entry",
    "Finding",
    "KeyInfo",
    "RenderError",
    "Section",
    "WARNING",
    "catalogue",
    "expand",
    "render",
    "validate",
]

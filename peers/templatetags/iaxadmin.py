"""Template helpers of the browser UI."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from ..iaxconf import catalogue

register = template.Library()


@register.simple_tag
def effective_cell(listed, name: str, suffix: str = ""):
    """A list cell with a section's effective value: set here (plain), inherited (italic, with
    the template it comes from) or Asterisk's default (muted, marked "default")."""
    found = listed[name]
    if found.own:
        return format_html("{}{}", found.value, suffix)
    if found.inherited:
        return format_html(
            '<span class="eff inherited" title="inherited from [{0}]">{1}{2}'
            '<span class="via"> <span aria-hidden="true">↳</span>'
            '<span class="visually-hidden">inherited from</span> {0}</span></span>',
            found.origin,
            found.value,
            suffix,
        )
    default = catalogue()[name].default_value
    if default is not None:
        return format_html(
            '<span class="eff default" title="Asterisk\'s default">{}<span class="via"> (default)</span></span>',
            default,
        )
    return ""

"""``{% publish_banner host %}``: on a host's overview, whether the working copy has changes that
are not published yet (``peers.revisions.publish_state``), with a Publish button for publishers.
A tag, so the overview's view need not know about it."""

from __future__ import annotations

from django import template

from ..revisions import publish_state

register = template.Library()


@register.inclusion_tag("peers/_publish_banner.html", takes_context=True)
def publish_banner(context, host):
    return {"host": host, "state": publish_state(host), "request": context.get("request")}

"""``{% trunk_links endpoint %}``: on a peer's page, the register lines that go with it (this
host's lines using the same account, and other managed hosts' lines that authenticate as it),
derived by ``peers.trunks``. A tag, so the endpoint views need not know about trunks."""

from __future__ import annotations

from django import template

from ..trunks import endpoint_links

register = template.Library()


@register.inclusion_tag("peers/trunks/_endpoint_links.html", takes_context=True)
def trunk_links(context, endpoint):
    return {"endpoint": endpoint, "links": endpoint_links(endpoint), "request": context.get("request")}

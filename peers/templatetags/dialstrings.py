"""``{% dial_info host endpoint as dial %}``: the dial strings of an endpoint's page
(``peers.iaxconf.dialstring``), read from the endpoint and the templates it inherits from. A
template tag so that the endpoint form's view needs no change; secrets are placeholders."""

from __future__ import annotations

from django import template

from ..exporter import build_document
from ..iaxconf.dialstring import DialInfo
from ..iaxconf.dialstring import dial_info as build_dial_info
from ..models import EndpointBase

register = template.Library()


@register.simple_tag
def dial_info(host, endpoint) -> DialInfo | None:
    if endpoint is None or endpoint.pk is None or endpoint.is_template:
        return None
    ids, pending = [], [endpoint.pk]
    while pending:  # the endpoint and every template it inherits from (a constant few queries each)
        ids += [pk for pk in pending if pk not in ids]
        pending = [
            pk
            for pk in EndpointBase.objects.filter(endpoint_id__in=pending).values_list("base_id", flat=True)
            if pk not in ids
        ]
    document, _, _ = build_document(host, only=ids)
    return build_dial_info(document, endpoint.name, host_label=host.name)

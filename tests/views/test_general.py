"""The [general] page (peers/views/general.py): the stored values, a save, a refusal at its field, the
inline check and the preview."""

from __future__ import annotations

import pytest
from django.urls import reverse

from peers.models import GeneralOption
from tests.conftest import messages_of

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def _general_data(**overrides):
    data = {
        "comment": " Demo PBX",
        "bindport": "4569",
        "bindaddr": "0.0.0.0",
        "bandwidth": "high",
        "allow": "disallow=all\nallow=g722\nallow=ulaw",
        "tos": "ef",
        "other_lines": "",
    }
    data.update(overrides)
    return data


def test_general_form_shows_the_stored_values_without_register_lines(ann, demo):
    response = ann.get(reverse("peers:general-edit", args=["demo"]))
    form = response.context["form"]
    assert form["allow"].value() == "disallow=all\nallow=g722\nallow=ulaw\nallow=alaw"
    assert "register" not in form.fields
    assert "register" not in response.context["preview"]


def test_general_save_replaces_the_lines(ann, demo):
    response = ann.post(reverse("peers:general-edit", args=["demo"]), _general_data())
    assert response.status_code == 302
    names = list(GeneralOption.objects.filter(general__host=demo).values_list("name", "value"))
    assert ("tos", "ef") in names and ("maxcallnumbers", "512") not in names
    assert [v for n, v in names if n in ("allow", "disallow")] == ["all", "g722", "ulaw"]
    assert demo.registrations.count() == 2  # untouched


def test_general_bad_tos_is_refused_at_the_field(ann, demo):
    response = ann.post(reverse("peers:general-edit", args=["demo"]), _general_data(tos="lowdelay"))
    assert response.status_code == 200
    assert 'id="row-tos" class="field has-error' in response.content.decode()


def test_general_cross_field_error_refuses_the_save(ann, demo):
    data = _general_data(minregexpire="600", maxregexpire="60")
    response = ann.post(reverse("peers:general-edit", args=["demo"]), data)
    assert response.status_code == 200
    assert "minregexpire=600 is larger than maxregexpire=60" in response.content.decode()


def test_general_validate_fragment(ann, demo):
    url = reverse("peers:general-validate", args=["demo"]) + "?field=tos"
    response = ann.post(url, _general_data(tos="lowdelay"), headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "pre-DSCP name" in messages_of(html, "tos")


def test_general_preview_fragment(ann, demo):
    response = ann.post(reverse("peers:general-preview", args=["demo"]), _general_data(), headers=HX)
    html = response.content.decode()
    assert "<html" not in html and "[general]\nbindport=4569\nbindaddr=0.0.0.0\ntos=ef" in html

"""The endpoint pages (peers/views/endpoints.py): the list with its filters and paging, the forms with
their inline checks, preview, clone and delete, and the inputs as a browser without JavaScript posts them."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from peers import services
from peers.exporter import endpoint_section
from peers.models import Endpoint
from tests.conftest import messages_of, section, store

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def test_list_htmx_request_gets_only_the_table(ann, demo):
    url = reverse("peers:endpoint-list", args=["demo"])
    response = ann.get(url, {"q": "ali"}, headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="endpoint-table"')
    assert "<html" not in html and ">alice</a>" in html and ">bob</a>" not in html
    assert "HX-Request" in response["Vary"]


def test_list_full_page_without_js_has_the_search_form(ann, demo):
    response = ann.get(reverse("peers:endpoint-list", args=["demo"]), {"q": "ali"})
    html = response.content.decode()
    assert "<html" in html and 'name="q"' in html and 'value="ali"' in html
    assert 'hx-trigger="input changed delay:300ms, search"' in html


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"type": "template"}, {"office-phone"}),
        ({"type": "peer"}, {"alice", "bob", "branch", "provider"}),
        ({"type": "user"}, {"alice", "bob", "hq-rsa"}),
        ({"type": "friend"}, {"alice", "bob"}),
        ({"address": "dynamic"}, {"office-phone", "alice", "bob", "branch"}),  # alice, bob: inherited
        ({"address": "static"}, {"provider"}),
        ({"trunk": "yes"}, {"branch", "provider"}),
        ({"auth": "rsa"}, {"provider", "hq-rsa"}),
        ({"q": "from-"}, {"office-phone", "alice", "bob", "branch", "hq-rsa"}),
        ({"q": "demo-pbx"}, {"provider"}),
    ],
)
def test_list_filters(ann, demo, params, expected):
    response = ann.get(reverse("peers:endpoint-list", args=["demo"]), params)
    assert {row["endpoint"].name for row in response.context["rows"]} == expected


def test_list_shows_effective_values_and_where_they_come_from(ann, demo):
    html = ann.get(reverse("peers:endpoint-list", args=["demo"]), {"q": "alice"}).content.decode()
    # alice sets neither host nor context: both come from the office-phone template
    assert 'title="inherited from [office-phone]">dynamic' in html
    assert 'title="inherited from [office-phone]">from-office' in html
    assert 'title="Asterisk\'s default">no' in html  # trunk: not set anywhere, Asterisk's "no"


def test_list_filters_see_inherited_and_default_values(ann, demo):
    url = reverse("peers:endpoint-list", args=["demo"])
    names = lambda params: {r["endpoint"].name for r in ann.get(url, params).context["rows"]}  # noqa: E731
    assert names({"trunk": "no"}) == {"office-phone", "alice", "bob", "hq-rsa"}  # the default is no
    store(demo, section("rsa-tpl", "auth=rsa\ninkeys=hq", template=True))
    store(demo, section("dave", "type=user\ncontext=x", bases=["rsa-tpl"]))
    assert names({"auth": "rsa"}) == {"provider", "hq-rsa", "rsa-tpl", "dave"}
    assert names({"q": "x", "type": "user"}) == {"dave"}


def test_list_has_findings_filter_uses_the_validator(ann, demo):
    store(demo, section("broken", "type=peer\nhost=192.0.2.1\ntos=ef"))  # as an import keeps it
    response = ann.get(reverse("peers:endpoint-list", args=["demo"]), {"findings": "errors"})
    rows = response.context["rows"]
    assert [r["endpoint"].name for r in rows] == ["broken"]
    assert rows[0]["findings"][0].code == "misplaced-directive"


def _make_endpoints(host, count, start=0):
    for i in range(start, start + count):
        services.save_endpoint(
            host,
            section(f"ep{i}", f"type=friend\nhost=dynamic\nsecret=Secret-{i}-xyzzy\ncontext=c{i}"),
            actor="test",
        )


def test_list_query_count_does_not_grow_with_the_number_of_endpoints(
    ann, host, django_assert_max_num_queries
):
    _make_endpoints(host, 10)
    url = reverse("peers:endpoint-list", args=[host.name])
    with CaptureQueriesContext(connection) as small:
        assert ann.get(url).status_code == 200
    _make_endpoints(host, 60, start=10)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = ann.get(url)
    assert len(response.context["rows"]) == 50
    assert response.context["page"].paginator.num_pages == 2


def test_list_paginates_and_keeps_the_filters_in_page_links(ann, host):
    _make_endpoints(host, 55)
    response = ann.get(reverse("peers:endpoint-list", args=[host.name]), {"q": "ep", "page": 2})
    html = response.content.decode()
    assert len(response.context["rows"]) == 5
    assert "q=ep&amp;page=1" in html


def _friend_data(**overrides):
    data = {
        "name": "carol",
        "bases": "",
        "comment": "",
        "host": "dynamic",
        "secret": "Carol-secret-9f3k",
        "context": "from-office",
        "allow": "disallow=all\nallow=g722\nulaw",
        "permit": "deny=0.0.0.0/0.0.0.0\npermit=192.168.10.0/255.255.255.0",
        "other_lines": "",
    }
    data.update(overrides)
    return data


def test_validate_answers_every_fields_messages_out_of_band(ann, demo):
    url = reverse("peers:endpoint-validate", args=["demo", "friend"]) + "?field=allow"
    response = ann.post(url, _friend_data(allow="disallow=all\nallow=g722\nallow=g711"), headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "&#x27;g711&#x27; is not a codec IAX2 can carry" in messages_of(html, "allow")
    assert messages_of(html, "name") == "" and messages_of(html, "qualify") == ""
    assert "<input" not in html and "<select" not in html  # no input is ever swapped
    # the live region says it
    assert re.search(r'<div id="form-status" hx-swap-oob="innerHTML">allow / disallow: .*g711', html)


def test_validate_a_good_value_gives_no_message(ann, demo):
    url = reverse("peers:endpoint-validate", args=["demo", "friend"]) + "?field=allow"
    html = ann.post(url, _friend_data(), headers=HX).content.decode()
    assert messages_of(html, "allow") == ""
    assert "allow / disallow: no problem." in html


@pytest.mark.parametrize(
    ("field", "value", "text"),
    [
        ("qualify", "sometimes", "must be yes, no or a number of milliseconds"),
        ("host", "10.0.0.1:4569", "must not contain a port"),
        ("permit", "10.0.0.0/33", "has a prefix length over 32"),
    ],
)
def test_validate_flags_bad_values_at_their_field(ann, demo, field, value, text):
    url = reverse("peers:endpoint-validate", args=["demo", "friend"]) + f"?field={field}"
    html = ann.post(url, _friend_data(**{field: value}), headers=HX).content.decode()
    assert text in messages_of(html, field)


def test_a_cross_field_error_clears_at_both_fields_when_one_is_fixed(ann, demo):
    url = reverse("peers:endpoint-validate", args=["demo", "user"]) + "?field=auth"
    data = {"name": "u1", "auth": "rsa", "context": "x"}
    html = ann.post(url, data, headers=HX).content.decode()
    assert "includes rsa but no inkeys" in messages_of(html, "auth")
    # fixing the other field (inkeys) re-checks the whole section: auth's error is gone too
    url = reverse("peers:endpoint-validate", args=["demo", "user"]) + "?field=inkeys"
    html = ann.post(url, {**data, "inkeys": "hq"}, headers=HX).content.decode()
    assert messages_of(html, "auth") == "" and messages_of(html, "inkeys") == ""


def test_every_error_at_once(ann, demo):
    url = reverse("peers:endpoint-validate", args=["demo", "friend"]) + "?field=qualify"
    data = {"name": "c", "host": "dynamic", "auth": "rsa", "qualify": "sometimes", "context": "a b"}
    html = ann.post(url, data, headers=HX).content.decode()
    assert "must be yes, no" in messages_of(html, "qualify")
    assert "is not a dialplan context name" in messages_of(html, "context")
    assert "no inkeys" in messages_of(html, "auth")  # a two-field check, in the same round


def test_validate_tos_is_not_offered_to_a_peer(ann, demo):
    url = reverse("peers:endpoint-validate", args=["demo", "peer"]) + "?field=tos"
    assert ann.post(url, {"name": "x"}, headers=HX).status_code == 400


def test_cross_field_finding_shows_at_its_field(ann, demo):
    url = reverse("peers:endpoint-validate", args=["demo", "peer"]) + "?field=defaultip"
    html = ann.post(
        url, {"name": "p1", "host": "192.0.2.9", "defaultip": "192.0.2.1"}, headers=HX
    ).content.decode()
    # a warning since Asterisk was seen to use defaultip as the fallback of a static host
    assert "is only used while 192.0.2.9 does not resolve" in messages_of(html, "defaultip")


def test_create_friend_saves_codecs_and_acl_in_order(ann, demo):
    response = ann.post(reverse("peers:endpoint-create", args=["demo", "friend"]), _friend_data())
    carol = Endpoint.objects.get(host=demo, name="carol")
    assert response.status_code == 302
    assert response["Location"] == reverse("peers:endpoint-edit", args=["demo", carol.pk])
    lines = [(e.name, e.value) for e in endpoint_section(carol).entries]
    assert lines[0] == ("type", "friend")
    assert [v for n, v in lines if n in ("disallow", "allow")] == ["all", "g722", "ulaw"]
    assert [(n, v) for n, v in lines if n in ("deny", "permit")] == [
        ("deny", "0.0.0.0/0.0.0.0"),
        ("permit", "192.168.10.0/255.255.255.0"),
    ]
    assert carol.secret == "Carol-secret-9f3k"


def test_save_refused_with_the_finding_at_the_field(ann, demo):
    data = _friend_data(name="weak", secret="", auth="md5")
    response = ann.post(reverse("peers:endpoint-create", args=["demo", "peer"]), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert not Endpoint.objects.filter(name="weak").exists()
    assert "cannot be saved" in html
    assert 'id="row-auth" class="field has-error' in html
    assert "auth=md5 needs a secret" in html


def test_save_refused_for_a_bad_codec(ann, demo):
    response = ann.post(reverse("peers:endpoint-create", args=["demo", "friend"]), _friend_data(allow="g711"))
    assert response.status_code == 200
    assert not Endpoint.objects.filter(name="carol").exists()
    assert 'id="row-allow" class="field has-error' in response.content.decode()


def test_warnings_do_not_block_a_save(ann, demo):
    response = ann.post(
        reverse("peers:endpoint-create", args=["demo", "friend"]), _friend_data(secret="short")
    )
    assert response.status_code == 302
    follow = ann.get(response["Location"])
    assert "warning(s) are shown at their fields" in follow.content.decode()


def test_edit_form_never_shows_the_secret_and_blank_keeps_it(ann, demo):
    alice = Endpoint.objects.get(host=demo, name="alice")
    url = reverse("peers:endpoint-edit", args=["demo", alice.pk])
    html = ann.get(url).content.decode()
    assert "Vq8-mU2x" not in html
    assert 'type="password"' in html
    data = {
        "name": "alice",
        "bases": "office-phone",
        "callerid": '"Alice Example" <201>',
        "mailbox": "201@default",
        "secret": "",
        "comment": " Desk phones",
        "other_lines": "",
    }
    response = ann.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    alice.refresh_from_db()
    assert alice.secret == "Vq8-mU2x!rT4pz"
    assert alice.kind == "friend"
    # alice is a host=dynamic friend: without a secret anyone could register as her
    refused = ann.post(url, {**data, "clear_secret": "on"})
    row = refused.content.decode().split('id="row-secret"')[1].split('id="row-')[0]
    assert (
        re.search(r'class="field has-error[ "]', row) and "accepts a registration as alice from anyone" in row
    )
    alice.refresh_from_db()
    assert alice.secret == "Vq8-mU2x!rT4pz"


def test_edit_keeps_inherited_type_out_of_the_section(ann, demo):
    alice = Endpoint.objects.get(host=demo, name="alice")
    response = ann.get(reverse("peers:endpoint-edit", args=["demo", alice.pk]))
    assert "type=friend" not in response.context["preview"]
    assert "secret=********" in response.context["preview"]
    assert "type-twice" not in str(response.context["form"].findings)


def test_preview_fragment_is_the_rendered_section(ann, demo):
    url = reverse("peers:endpoint-preview", args=["demo", "friend"])
    html = ann.post(url, _friend_data(), headers=HX).content.decode()
    assert "<html" not in html
    assert (
        "[carol]\ntype=friend\nhost=dynamic\nsecret=********\ncontext=from-office\ndisallow=all\nallow=g722\nallow=ulaw\ndeny=0.0.0.0/0.0.0.0\npermit=192.168.10.0/255.255.255.0"
        in html
    )
    assert "Carol-secret" not in html


def test_clone_prefills_everything_but_the_secret(ann, demo):
    branch = Endpoint.objects.get(host=demo, name="branch")
    response = ann.get(reverse("peers:endpoint-clone", args=["demo", branch.pk]))
    form = response.context["form"]
    assert form["name"].value() == "branch-copy"
    assert form["permit"].value() == "deny=0.0.0.0/0.0.0.0\npermit=198.51.100.0/24"
    assert "Br4nch" not in response.content.decode()
    assert response.context["action"] == reverse("peers:endpoint-create", args=["demo", "peer"])


def test_delete_endpoint(ann, demo):
    bob = Endpoint.objects.get(host=demo, name="bob")
    response = ann.post(reverse("peers:endpoint-delete", args=["demo", bob.pk]))
    assert response.status_code == 302
    assert not Endpoint.objects.filter(pk=bob.pk).exists()


def test_delete_of_a_template_in_use_is_refused(ann, demo):
    template = Endpoint.objects.get(host=demo, name="office-phone")
    response = ann.post(reverse("peers:endpoint-delete", args=["demo", template.pk]))
    assert response.status_code == 200
    assert "inherit from it: alice, bob" in response.content.decode()
    assert Endpoint.objects.filter(pk=template.pk).exists()


def test_template_form_offers_type_and_peer_form_does_not(ann, demo):
    template = ann.get(reverse("peers:endpoint-create", args=["demo", "template"])).context["form"]
    peer = ann.get(reverse("peers:endpoint-create", args=["demo", "peer"])).context["form"]
    user = ann.get(reverse("peers:endpoint-create", args=["demo", "user"])).context["form"]
    assert "type" in template.fields and "type" not in peer.fields
    assert "outkey" in peer.fields and "outkey" not in user.fields
    assert "inkeys" in user.fields and "tos" not in peer.fields


def test_unknown_kind_is_404(ann, demo):
    assert ann.get(reverse("peers:endpoint-create", args=["demo", "trunk"])).status_code == 404


def test_edit_template_keeps_its_type_and_order(ann, demo):
    template = Endpoint.objects.get(host=demo, name="office-phone")
    url = reverse("peers:endpoint-edit", args=["demo", template.pk])
    form = ann.get(url).context["form"]
    assert form["type"].value() == "friend"
    data = {name: form[name].value() or "" for name in form.fields if name not in ("secret", "clear_secret")}
    data["qualify"] = "2000"
    response = ann.post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    after = endpoint_section(Endpoint.objects.get(pk=template.pk))
    assert after.is_template and after.first("type") == "friend" and after.first("qualify") == "2000"
    assert [e.name for e in after.entries if e.name in ("deny", "permit")] == ["deny", "permit"]


def test_validate_unknown_field_is_400(ann, demo):
    url = reverse("peers:endpoint-validate", args=["demo", "friend"]) + "?field=nope"
    assert ann.post(url, {}, headers=HX).status_code == 400


def test_preview_without_javascript_is_the_whole_form_page(ann, demo):
    url = reverse("peers:endpoint-preview", args=["demo", "friend"])
    response = ann.post(url, _friend_data(allow="allow=g711"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "peers/endpoint_form.html" in [t.name for t in response.templates]
    assert 'id="row-allow" class="field has-error' in html
    assert "allow=g711" in response.context["preview"]


def test_the_inputs_post_what_a_plain_field_would(ann, demo):
    data = {
        "name": "erin",
        "host": "dynamic",
        "secret": "Erin-secret-8k2w",
        "other_lines": "",
        "bases": ["office-phone", ""],
        "allow__present": "1",
        "allow__op": ["disallow", "allow", "allow", "allow"],
        "allow__value": ["all", "g722", "", "ulaw"],  # an empty line is skipped
        "permit__present": "1",
        "permit__op": ["deny", "permit"],
        "permit__value": ["0.0.0.0/0.0.0.0", "192.0.2.0/24"],
        "auth__present": "1",
        "auth": ["md5"],
        "trunk": "yes",
    }
    response = ann.post(reverse("peers:endpoint-create", args=["demo", "friend"]), data)
    assert response.status_code == 302, response.context["form"].errors
    text = endpoint_section(Endpoint.objects.get(host=demo, name="erin"))
    lines = [f"{e.name}={e.value}" for e in text.entries]
    assert text.bases == ["office-phone"]
    assert lines[lines.index("disallow=all") : lines.index("disallow=all") + 3] == [
        "disallow=all",
        "allow=g722",
        "allow=ulaw",
    ]
    assert "deny=0.0.0.0/0.0.0.0" in lines and "permit=192.0.2.0/24" in lines
    assert "auth=md5" in lines and "trunk=yes" in lines


def test_an_unchanged_choice_keeps_the_value_as_written(ann, demo):
    store(
        demo,
        section("rsa-peer", "type=peer\nhost=192.0.2.7\nauth=rsa,md5\noutkey=demo-pbx\nsecret=Rsa-peer-3k9q"),
    )
    peer = Endpoint.objects.get(host=demo, name="rsa-peer")
    url = reverse("peers:endpoint-edit", args=["demo", peer.pk])
    html = ann.get(url).content.decode()
    assert 'value="rsa" id="id_auth_1" checked' in html and 'value="md5" id="id_auth_0" checked' in html
    data = {
        "name": "rsa-peer",
        "host": "192.0.2.7",
        "outkey": "demo-pbx",
        "auth__present": "1",
        "other_lines": "",
        "version": services.version_of(peer),
        "auth": ["md5", "rsa"],  # the browser posts in checkbox order
    }
    assert ann.post(url, data).status_code == 302
    peer.refresh_from_db()
    assert peer.auth == "rsa,md5"  # the same set: kept as it was written


def test_a_value_an_input_cannot_offer_is_shown_as_written(ann, demo):
    store(demo, section("odd", "type=peer\nhost=192.0.2.8\njitterbuffer=true\nport=0x10"))
    html = ann.get(
        reverse("peers:endpoint-edit", args=["demo", Endpoint.objects.get(name="odd").pk])
    ).content.decode()
    assert '<option value="true" selected>true (as written)</option>' in html
    assert re.search(r'<input type="text" name="port" value="0x10"', html)  # not a number box that blanks it


def test_edit_page_shows_the_stored_findings_at_their_field(ann, demo):
    broken = store(demo, section("broken", "type=user\nauth=md5\npermit=192.0.2.1"))
    html = ann.get(reverse("peers:endpoint-edit", args=["demo", broken.pk])).content.decode()
    row = html.split('id="row-auth"')[1].split('id="row-')[0]
    assert "error: auth=md5 needs a secret (or dbsecret)" in row

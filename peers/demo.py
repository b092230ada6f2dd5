"""The demo host `make run` seeds into an empty database: a realistic small PBX."""

from __future__ import annotations

import dataclasses

from django.db import transaction

from . import audit, services
from . import keys as rsa_keys
from .iaxconf import Entry, Section
from .models import Host, Key

DEMO_HOST = "demo"


def _section(
    name: str, lines: str, *, template: bool = False, bases: tuple[str, ...] = (), comment: str = ""
):
    entries = []
    for raw in lines.strip().splitlines():
        key, _, value = raw.strip().partition("=")
        entries.append(Entry(name=key.strip(), value=value.strip()))
    return Section(
        name=name,
        entries=entries,
        is_template=template,
        bases=list(bases),
        comments=[f" {comment}"] if comment else [],
    )


GENERAL = """
bindport=4569
bindaddr=0.0.0.0
bandwidth=high
disallow=all
allow=g722
allow=ulaw
allow=alaw
jitterbuffer=yes
maxjitterbuffer=1000
tos=ef
autokill=yes
delayreject=yes
calltokenoptional=192.0.2.0/255.255.255.0
maxcallnumbers=512
minregexpire=60
maxregexpire=300
srvlookup=yes
"""

# the context headers of the demo's dialplan (what iaxadmin keeps of an uploaded extensions.conf)
EXTENSIONS = """[general]
static=yes

[default]
[from-office]
[from-branch]
[from-hq]
[inbound]
"""

SECTIONS = [
    _section(
        "office-phone",
        """
        type=friend
        host=dynamic
        qualify=yes
        requirecalltoken=auto
        disallow=all
        allow=g722
        allow=ulaw
        deny=0.0.0.0/0.0.0.0
        permit=192.168.10.0/255.255.255.0
        transfer=mediaonly
        context=from-office
    """,
        template=True,
        comment="Settings every desk phone shares",
    ),
    _section(
        "alice",
        """
        secret=Vq8-mU2x!rT4pz
        callerid="Alice Example" <201>
        mailbox=201@default
    """,
        bases=("office-phone",),
        comment="Desk phones",
    ),
    _section(
        "bob",
        """
        secret=b0b-Kp9#wq3LxE
        callerid="Bob Example" <202>
        mailbox=202@default
    """,
        bases=("office-phone",),
    ),
    _section(
        "branch",
        """
        type=peer
        host=dynamic
        defaultip=198.51.100.20
        port=4569
        username=branch
        secret=Br4nch-7yHq2mZ
        auth=md5
        encryption=yes
        qualify=2000
        qualifyfreqok=30000
        trunk=yes
        context=from-branch
        deny=0.0.0.0/0.0.0.0
        permit=198.51.100.0/24
    """,
        comment="Branch office router, registers with us",
    ),
    _section(
        "provider",
        """
        type=peer
        host=203.0.113.10
        port=4569
        username=demo-pbx
        auth=rsa
        outkey=demo-pbx
        trunk=yes
        qualify=yes
        disallow=all
        allow=ulaw
        allow=g729
        requirecalltoken=yes
        peercontext=inbound
    """,
        comment="Upstream carrier trunk, authenticated with our RSA key",
    ),
    _section(
        "hq-rsa",
        """
        type=user
        auth=rsa
        inkeys=hq
        context=from-hq
        deny=0.0.0.0/0.0.0.0
        permit=203.0.113.0/24
    """,
        comment="Calls from headquarters, verified with their public key",
    ),
]


@transaction.atomic
def seed_demo(passphrase: str = "demo-passphrase", *, actor=None, dialplan: bool = False) -> Host:
    """Create the demo host through the service layer: one batch of history rows."""
    batch = audit.new_batch()
    host = services.create_host(
        DEMO_HOST, description="Demo PBX seeded by manage.py iax_demo", actor=actor, batch=batch
    )
    general = _section("general", GENERAL, comment="Demo PBX: general settings")
    services.save_general(host, general, actor=actor, batch=batch)
    for name in ("demo-pbx", "hq"):
        if not Key.objects.filter(name=name).exists():
            material = rsa_keys.generate(passphrase)
            if name == "hq":  # the branch office's public key only: we verify its calls
                material = dataclasses.replace(material, private_pem="", private_encrypted=False)
            services.store_key(name, material, actor=actor, batch=batch)
    for section in SECTIONS:
        services.save_endpoint(host, section, actor=actor, batch=batch)
    services.save_registration(
        host, username="demo-pbx", key="demo-pbx", remote_host="iax.example.net", actor=actor, batch=batch
    )
    services.save_registration(
        host,
        username="branch-backup",
        secret="Rg7-tw2PqLx9",
        remote_host="198.51.100.20",
        remote_port=4569,
        actor=actor,
        batch=batch,
    )
    for network, limit in (("203.0.113.10/32", 2048), ("198.51.100.0/255.255.255.0", 256)):
        services.save_callnumber_limit(host, network=network, value=limit, actor=actor, batch=batch)
    if dialplan:  # the contexts of the demo's dialplan (iax_demo seeds them; most tests do without)
        services.import_extensions(
            host, "extensions.conf", {"extensions.conf": EXTENSIONS.encode()}, actor=actor, batch=batch
        )
    return host

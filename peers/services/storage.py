"""How a section's lines are stored: which line goes into which typed column, option row or key
reference (``split_entries``), and the row writes every service uses for endpoints: one at a time
(a form or API save), in bulk (an import) and from a stored state (a revert).

``exporter.build_document`` is the inverse of ``split_entries``; the round-trip tests hold the two
together. Nothing here records history or checks a rule: the functions of ``peers.services`` that
call these do both, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.utils import timezone

from .. import bulk
from ..audit import ENDPOINT_FIELDS
from ..bulk import delete_where_in, insert_rows, update_rows
from ..iaxconf import Entry, Section, values
from ..models import (
    TYPED_COLUMNS,
    CallNumberLimit,
    Endpoint,
    EndpointBase,
    EndpointInKey,
    EndpointOption,
    GeneralOption,
    GeneralSettings,
    Host,
    Key,
    Registration,
)

_MAX_LENGTH = {
    column: Endpoint._meta.get_field(column).max_length
    for column in TYPED_COLUMNS.values()
    if getattr(Endpoint._meta.get_field(column), "max_length", None)
}
# Secrets are never option rows (which are stored in clear): the first secret= line is the
# ``secret`` column and every later one a line of ``extra_secrets``, both encrypted, whatever their
# length (the validator reports an over-long one). The comment lines above the n-th extra secret
# line are column_comments["secret#n"].
SECRET = "secret"
EXTRA_SECRET_NOTE = "secret#{}"
_KINDS = frozenset(Endpoint.Kind.values)  # (the enum builds a new list on every .values)


@dataclass
class EndpointData:
    """A section's lines sorted into an endpoint's storage."""

    kind: str = ""
    columns: dict[str, object] = field(default_factory=dict)
    column_comments: dict[str, str] = field(default_factory=dict)
    inkeys: list[str] = field(default_factory=list)
    outkey: str | None = None
    options: list[Entry] = field(default_factory=list)


def join_secrets(lines: list[str]) -> str | None:
    """The extra_secrets column for a list of secret values (None for none)."""
    return "\n".join(lines) if lines else None


def split_secrets(text: str | None) -> list[str]:
    return text.split("\n") if text is not None else []


def comment_text(comments: Iterable[str]) -> str:
    return "\n".join(comments)


def _typed_value(directive: str, value: str) -> object | None:
    """The column value for a line, or None when the line cannot live in the typed column
    (then it is kept as an option row, exactly as written, for the validator to report)."""
    column = TYPED_COLUMNS[directive]
    if directive == "port":
        text = value.strip()
        return int(text) if text.isdigit() and int(text) <= 65535 else None
    if directive == "trunk":
        word = value.strip().lower()
        if word in values.TRUE_WORDS:
            return True
        if word in values.FALSE_WORDS:
            return False
        return None
    if len(value) > _MAX_LENGTH[column]:
        return None
    return value


def split_entries(entries: Iterable[Entry]) -> EndpointData:
    """The single place that decides which line of a section goes into which column."""
    data = EndpointData()
    seen: set[str] = set()
    extra: list[str] = []
    for entry in entries:
        name = entry.name.lower()
        if name == SECRET:
            _add_secret(data, extra, entry)
            continue
        if name in seen or entry.operator == "+=":
            data.options.append(entry)
            continue
        if name == "type":
            kind = entry.value.strip().lower()
            if kind in _KINDS:
                data.kind = kind
                seen.add(name)
                if entry.comments:
                    data.column_comments["type"] = comment_text(entry.comments)
                continue
        elif name in TYPED_COLUMNS:
            typed = _typed_value(name, entry.value)
            if typed is not None:
                data.columns[TYPED_COLUMNS[name]] = typed
                seen.add(name)
                if entry.comments:
                    data.column_comments[name] = comment_text(entry.comments)
                continue
        elif name == "inkeys":
            names = [n.strip() for n in entry.value.split(":")]
            if values.is_valid(values.key_names, entry.value) and len(set(names)) == len(names):
                data.inkeys = names
                seen.add(name)
                if entry.comments:
                    data.column_comments[name] = comment_text(entry.comments)
                continue
        elif name == "outkey":
            if values.is_valid(values.key_name, entry.value):
                data.outkey = entry.value.strip()
                seen.add(name)
                if entry.comments:
                    data.column_comments[name] = comment_text(entry.comments)
                continue
        data.options.append(entry)
    if extra:
        data.columns["extra_secrets"] = join_secrets(extra)
    return data


def _add_secret(data: EndpointData, extra: list[str], entry: Entry) -> None:
    value = entry.value
    if "\n" in value:  # the validator refuses it first; never store a line break that splits extra_secrets
        raise values.Invalid("line-break", "a secret cannot hold a line break")
    if entry.operator == "+=" and SECRET in data.columns:
        # appended to the previous secret line, as Asterisk's config reader does
        if extra:
            extra[-1] += value
        else:
            data.columns[SECRET] += value
        return
    if SECRET not in data.columns:
        data.columns[SECRET] = value
        if entry.comments:
            data.column_comments[SECRET] = comment_text(entry.comments)
        return
    extra.append(value)
    if entry.comments:
        data.column_comments[EXTRA_SECRET_NOTE.format(len(extra))] = comment_text(entry.comments)


def key_names(data: EndpointData) -> set[str]:
    return set(data.inkeys) | ({data.outkey} if data.outkey else set())


def inherited_kind(bases: Iterable[Endpoint], _seen: frozenset[int] = frozenset()) -> str:
    """The type= a section gets from its bases: the first one found, depth first, as Asterisk 22
    reads the first type line of the copied lines."""
    for base in bases:
        if base.pk in _seen:
            continue
        if base.kind:
            return base.kind
        found = inherited_kind(
            [link.base for link in base.base_links.select_related("base")], _seen | {base.pk}
        )
        if found:
            return found
    return ""


def next_position(rows) -> int:
    """The position after the last of a host's rows (sections, registrations or limits)."""
    last = rows.order_by("-position").values_list("position", flat=True).first()
    return 0 if last is None else last + 1


# ---------------------------------------------------------------------------------------------
# One endpoint


def write_endpoint(
    endpoint: Endpoint,
    section: Section,
    data: EndpointData,
    *,
    kind: str,
    position: int,
    keys: Mapping[str, Key],
    bases: list[Endpoint],
) -> Endpoint:
    """Store a section into ``endpoint`` (new or existing): columns, then its rows replaced."""
    endpoint.name = section.name
    endpoint.is_template = section.is_template
    endpoint.kind = kind
    endpoint.position = position
    endpoint.comment = comment_text(section.comments)
    endpoint.column_comments = data.column_comments
    for column in TYPED_COLUMNS.values():
        setattr(endpoint, column, data.columns.get(column))
    endpoint.extra_secrets = data.columns.get("extra_secrets")
    endpoint.outkey = keys.get(data.outkey) if data.outkey else None
    endpoint.save()
    endpoint.options.all().delete()
    endpoint.inkey_links.all().delete()
    endpoint.base_links.all().delete()
    EndpointOption.objects.bulk_create(
        EndpointOption(
            endpoint=endpoint, position=i, name=e.name, value=e.value, comment=comment_text(e.comments)
        )
        for i, e in enumerate(data.options)
    )
    EndpointInKey.objects.bulk_create(
        EndpointInKey(endpoint=endpoint, key=keys[name], position=i) for i, name in enumerate(data.inkeys)
    )
    EndpointBase.objects.bulk_create(
        EndpointBase(endpoint=endpoint, base=base, position=i) for i, base in enumerate(bases)
    )
    return endpoint


def delete_endpoint_rows(endpoint_ids: list[int]) -> None:
    """Delete endpoints and their rows (leaf rows first, so nothing is left to cascade)."""
    EndpointOption.objects.filter(endpoint_id__in=endpoint_ids).delete()
    EndpointInKey.objects.filter(endpoint_id__in=endpoint_ids).delete()
    EndpointBase.objects.filter(endpoint_id__in=endpoint_ids).delete()
    Endpoint.objects.filter(pk__in=endpoint_ids).delete()


def write_general(general: GeneralSettings, entries: Iterable[Entry]) -> None:
    """Replace the lines of a [general] (the GeneralSettings row is saved by the caller)."""
    general.options.all().delete()
    GeneralOption.objects.bulk_create(
        GeneralOption(
            general=general, position=i, name=e.name, value=e.value, comment=comment_text(e.comments)
        )
        for i, e in enumerate(entries)
    )


# ---------------------------------------------------------------------------------------------
# A whole host at once: imports


def clear_host(host: Host) -> None:
    """Delete every config row of a host (not the host, its history or revisions)."""
    EndpointOption.objects.filter(endpoint__host=host).delete()
    EndpointInKey.objects.filter(endpoint__host=host).delete()
    EndpointBase.objects.filter(endpoint__host=host).delete()
    Endpoint.objects.filter(host=host).delete()
    Registration.objects.filter(host=host).delete()
    CallNumberLimit.objects.filter(host=host).delete()
    GeneralSettings.objects.filter(host=host).delete()


# The columns of an endpoint row an import writes, in the order of ``endpoint_row``.
ENDPOINT_ROW_FIELDS = (
    ("host", "name", "kind", "is_template", "position", "comment", "column_comments")
    + tuple(TYPED_COLUMNS.values())
    + ("extra_secrets", "outkey", "created_at", "updated_at")
)
_ENCRYPTED = frozenset({"secret", "extra_secrets"})


class EndpointRows:
    """Endpoint states (``peers.audit``: what ``audit.endpoint_states`` reads back) as rows of the
    endpoint table, converted as the ORM would convert them (secrets encrypted, JSON encoded) but
    without a model instance each: ``bulk.insert_rows`` / ``bulk.update_rows`` write them. What it
    buys: ``bench/commands.py``'s import of 10,000 sections spent most of its time in Django's
    per-value preparation of ``bulk_create``."""

    def __init__(self, host: Host, keys: Mapping[str, Key]) -> None:
        self.host_id = host.pk
        self.key_ids = {name: key.pk for name, key in keys.items()}
        self.json = bulk.prep(Endpoint, "column_comments")
        self.no_comments = self.json({})  # most endpoints: converted once
        self.secret = bulk.prep(Endpoint, "secret")
        now = bulk.prep(Endpoint, "created_at")(timezone.now())
        self.stamps = (now, now)
        self.typed = tuple(TYPED_COLUMNS.values())

    def row(self, state: dict) -> tuple:
        values = [
            self.host_id,
            state["name"],
            state["kind"],
            state["is_template"],
            state["position"],
            state["comment"],
            self.json(notes) if (notes := state["column_comments"]) else self.no_comments,
        ]
        for column in self.typed:
            value = state[column]
            values.append(self.secret(value) if column in _ENCRYPTED else value)
        values.append(self.secret(state["extra_secrets"]))
        values.append(self.key_ids[state["outkey"]] if state["outkey"] else None)
        values.extend(self.stamps)
        return tuple(values)


def insert_endpoint_states(
    host: Host, states: list[dict], keys: Mapping[str, Key], ids: dict[str, int]
) -> None:
    """Create endpoints (and their option, inkey and base rows) from states, in file order (a base
    before what uses it); their ids are added to ``ids`` (lower-cased name -> id, which already
    holds the host's other endpoints). A constant number of statements. The host's row must be
    locked (the new rows are the host's rows above its highest id)."""
    if not states:
        return
    rows = EndpointRows(host, keys)
    mine = Endpoint.objects.filter(host=host)
    last = mine.order_by("-id").values_list("id", flat=True).first() or 0
    insert_rows(Endpoint, ENDPOINT_ROW_FIELDS, [rows.row(state) for state in states])
    ids.update((name.lower(), pk) for pk, name in mine.filter(id__gt=last).values_list("id", "name"))
    _insert_endpoint_children(states, ids, keys)


def update_endpoint_states(host: Host, changed: list[tuple[int, dict]], keys: Mapping[str, Key], ids) -> None:
    """Replace the columns and rows of existing endpoints by their states (``ids``: every endpoint
    of the host by lower-cased name, for the base rows)."""
    if not changed:
        return
    rows = EndpointRows(host, keys)
    fields = ENDPOINT_ROW_FIELDS[1:-2] + ("updated_at",)  # not the host, not created_at
    update_rows(Endpoint, fields, [(*rows.row(state)[1:-2], rows.stamps[1], pk) for pk, state in changed])
    pks = [pk for pk, _ in changed]
    delete_where_in(EndpointOption, "endpoint", pks)
    delete_where_in(EndpointInKey, "endpoint", pks)
    _insert_endpoint_children([state for _, state in changed], ids, keys)


def move_endpoints(moved: list[tuple[int, int]]) -> None:
    """Set the position of endpoints that are otherwise unchanged: (id, position)."""
    update_rows(Endpoint, ("position",), [(position, pk) for pk, position in moved])


def delete_base_links(endpoint_ids: list[int]) -> None:
    """Remove what these endpoints inherit from (first, so bases can be deleted or relinked)."""
    delete_where_in(EndpointBase, "endpoint", endpoint_ids)


def delete_endpoints(endpoint_ids: list[int]) -> None:
    """Delete endpoints and their rows, leaf rows first (their base links must be gone already)."""
    delete_where_in(EndpointOption, "endpoint", endpoint_ids)
    delete_where_in(EndpointInKey, "endpoint", endpoint_ids)
    delete_where_in(Endpoint, "id", endpoint_ids)


def _insert_endpoint_children(states: list[dict], ids: Mapping[str, int], keys: Mapping[str, Key]) -> None:
    options, inkeys, bases = [], [], []
    for state in states:
        endpoint_id = ids[state["name"].lower()]
        options.extend(
            (endpoint_id, i, o["name"], o["value"], o["comment"]) for i, o in enumerate(state["options"])
        )
        inkeys.extend((endpoint_id, keys[n].pk, i) for i, n in enumerate(state["inkeys"]))
        bases.extend((endpoint_id, ids[b.lower()], i) for i, b in enumerate(state["bases"]))
    insert_rows(EndpointOption, ("endpoint", "position", "name", "value", "comment"), options)
    insert_rows(EndpointInKey, ("endpoint", "key", "position"), inkeys)
    insert_rows(EndpointBase, ("endpoint", "base", "position"), bases)


# ---------------------------------------------------------------------------------------------
# From stored states: reverts


def set_endpoint_fields(endpoint: Endpoint, state: dict, keys: Mapping[str, Key]) -> None:
    for name in ENDPOINT_FIELDS:
        setattr(endpoint, name, state[name])
    endpoint.outkey = keys[state["outkey"]] if state["outkey"] else None


def write_endpoint_rows(pairs: list[tuple[Endpoint, dict]], keys: Mapping[str, Key], by_name) -> None:
    """Replace the option, inkey and base rows of the endpoints in pairs by their states'."""
    ids = [e.pk for e, _ in pairs]
    EndpointOption.objects.filter(endpoint_id__in=ids).delete()
    EndpointInKey.objects.filter(endpoint_id__in=ids).delete()
    EndpointBase.objects.filter(endpoint_id__in=ids).delete()
    options, inkeys, bases = [], [], []
    for endpoint, state in pairs:
        options += [
            EndpointOption(
                endpoint=endpoint, position=i, name=o["name"], value=o["value"], comment=o["comment"]
            )
            for i, o in enumerate(state["options"])
        ]
        inkeys += [
            EndpointInKey(endpoint=endpoint, key=keys[n], position=i) for i, n in enumerate(state["inkeys"])
        ]
        bases += [
            EndpointBase(endpoint=endpoint, base=by_name[n.lower()], position=i)
            for i, n in enumerate(state["bases"])
        ]
    EndpointOption.objects.bulk_create(options, batch_size=5000)
    EndpointInKey.objects.bulk_create(inkeys, batch_size=5000)
    EndpointBase.objects.bulk_create(bases, batch_size=5000)


# ---------------------------------------------------------------------------------------------
# Many endpoints' lines at once: fixes


def rewrite_endpoints(pairs: list[tuple[Endpoint, Section]], keys: Mapping[str, Key]) -> None:
    """Store new lines (and header comments) for existing endpoints, keeping their name, type,
    position and bases: an UPDATE only for an endpoint whose columns changed, and the option and
    inkey rows of all of them replaced with a constant number of statements."""
    options, inkeys = [], []
    for endpoint, section in pairs:
        data = split_entries(section.entries)
        wanted = {column: data.columns.get(column) for column in TYPED_COLUMNS.values()}
        wanted.update(
            comment=comment_text(section.comments),
            column_comments=data.column_comments,
            extra_secrets=data.columns.get("extra_secrets"),
            outkey_id=keys[data.outkey].pk if data.outkey else None,
        )
        if any(getattr(endpoint, name) != value for name, value in wanted.items()):
            for name, value in wanted.items():
                setattr(endpoint, name, value)
            endpoint.save()
        options += [
            (endpoint.pk, i, e.name, e.value, comment_text(e.comments)) for i, e in enumerate(data.options)
        ]
        inkeys += [(endpoint.pk, keys[name].pk, i) for i, name in enumerate(data.inkeys)]
    ids = [endpoint.pk for endpoint, _ in pairs]
    for start in range(0, len(ids), 5000):  # SQLite limits the parameters of one statement
        EndpointOption.objects.filter(endpoint_id__in=ids[start : start + 5000]).delete()
        EndpointInKey.objects.filter(endpoint_id__in=ids[start : start + 5000]).delete()
    insert_rows(EndpointOption, ("endpoint", "position", "name", "value", "comment"), options)
    insert_rows(EndpointInKey, ("endpoint", "key", "position"), inkeys)

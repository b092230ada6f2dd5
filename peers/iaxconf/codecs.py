"""Audio codecs as chan_iax2 (Asterisk 22.10.1) negotiates them. No Django here.

* A codec is a bit of the legacy 64-bit format bitfield (``AST_FORMAT_*``); chan_iax2 keeps a
  capability (a set) and a preference order (``iax2_codec_pref``) for [general] and every user.
* [general] starts from ``IAX_CAPABILITY_FULLBANDWIDTH`` with the preference order of
  ``iax2_codec_pref_from_bitfield`` (the "best" order of ``iax2_format_compatibility_best``);
  ``bandwidth=`` resets both. A user starts from [general]'s and applies its own lines.
* ``allow``/``disallow`` (``iax2_parse_allow_disallow`` over ``ast_format_cap_update_by_allow_disallow``):
  the items of a line are applied in order; an allowed codec is appended to the preferences
  unless it is there already (it keeps its place), a disallowed one is removed, ``all`` adds every
  codec in the order Asterisk registers them (``codec_builtin.c``) or removes every one, and ``!``
  inverts an item. Video and text formats are left out: only audio is negotiated here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .values import IAX2_CODECS

# bit order (format_compatibility.h): what iax2_getformatname_multiple lists in
AUDIO_BITS = {
    "g723": 0,
    "gsm": 1,
    "ulaw": 2,
    "alaw": 3,
    "g726aal2": 4,
    "adpcm": 5,
    "slin": 6,
    "lpc10": 7,
    "g729": 8,
    "speex": 9,
    "ilbc": 10,
    "g726": 11,
    "g722": 12,
    "siren7": 13,
    "siren14": 14,
    "slin16": 15,
    "g719": 32,
    "speex16": 33,
    "opus": 34,
}
# iax2_format_compatibility_best (channels/iax2/format_compatibility.c)
BEST = (
    "ulaw",
    "alaw",
    "g719",
    "siren14",
    "siren7",
    "g722",
    "slin16",
    "slin",
    "g726",
    "g726aal2",
    "adpcm",
    "gsm",
    "ilbc",
    "speex16",
    "speex",
    "opus",
    "lpc10",
    "g729",
    "g723",
)
# the codec registry's order (main/codec_builtin.c), which "allow=all" appends in
REGISTERED = (
    "g723",
    "ulaw",
    "alaw",
    "gsm",
    "g726",
    "g726aal2",
    "adpcm",
    "slin",
    "slin16",
    "lpc10",
    "g729",
    "speex",
    "speex16",
    "ilbc",
    "g722",
    "siren7",
    "siren14",
    "g719",
    "opus",
)
FULL = frozenset(name for name, bit in AUDIO_BITS.items() if bit < 16)
MEDIUM = FULL - {"slin", "slin16", "siren7", "siren14", "g719", "ulaw", "alaw", "g722"}
LOW = MEDIUM - {"g726", "g726aal2", "adpcm"}
BANDWIDTH = {"high": FULL, "medium": MEDIUM, "low": LOW}


def best_order(capability) -> list[str]:
    """``iax2_codec_pref_from_bitfield``: the "best" codecs first, then the rest in bit order."""
    ordered = [name for name in BEST if name in capability]
    ordered += sorted((n for n in capability if n not in ordered), key=AUDIO_BITS.__getitem__)
    return ordered


def best(capability) -> str | None:
    """``iax2_format_compatibility_best``: the first codec of the "best" order in the set."""
    return next((name for name in BEST if name in capability), None)


def names(capability) -> str:
    """``iax2_getformatname_multiple``: ``(gsm|ulaw)`` in bit order, ``(nothing)`` when empty."""
    listed = sorted(capability, key=AUDIO_BITS.__getitem__)
    return "(" + "|".join(listed) + ")" if listed else "(nothing)"


@dataclass
class Codecs:
    """A capability and its preference order."""

    prefs: list[str] = field(default_factory=lambda: best_order(FULL))

    @property
    def capability(self) -> frozenset[str]:
        return frozenset(self.prefs)

    def copy(self) -> Codecs:
        return Codecs(list(self.prefs))

    def bandwidth(self, value: str) -> None:
        chosen = BANDWIDTH.get(value.strip().lower())
        if chosen is not None:
            self.prefs = best_order(chosen)

    def apply(self, value: str, allowing: bool) -> list[str]:
        """One ``allow=``/``disallow=`` line. Returns the items Asterisk does not know (it warns
        "Cannot allow unknown format" and skips them)."""
        unknown = []
        for raw in value.replace("|", ",").split(","):
            item = raw.strip()
            sense = allowing
            if item.startswith("!"):
                sense, item = not allowing, item[1:]
            item = item.split(":", 1)[0].strip().lower()
            if item == "all":
                if sense:
                    self.prefs += [n for n in REGISTERED if n not in self.prefs]
                else:
                    self.prefs = []
            elif item in AUDIO_BITS:
                if sense and item not in self.prefs:
                    self.prefs.append(item)
                elif not sense and item in self.prefs:
                    self.prefs.remove(item)
            elif item and item not in IAX2_CODECS:  # video and text formats are not negotiated here
                unknown.append(item)
        return unknown


def choose(prefs, capability) -> str | None:
    """``iax2_codec_choose``: the first preferred codec that is in the set."""
    return next((name for name in prefs if name in capability), None)

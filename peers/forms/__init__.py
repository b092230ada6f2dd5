"""Forms for the browser UI, one module per concept. Each editing form turns what was typed into an
iaxconf Section (or the fields of a row) and asks the section policy (``peers.policy``) what a save would give; the form only
puts each finding at its field. The same policy is applied again by the service layer when the view
saves, and by the JSON API: a save is refused the same way, with the same finding codes, wherever it
comes from. No form adds a rule of its own: its inputs (``peers.widgets``, chosen by each value
rule through ``catalogue.input_for``) only make values quick to enter.

The names other modules import are re-exported here (``from peers.forms import EndpointForm``). The
simulator's :class:`~peers.forms.simulation.RegistrationForm` is imported from its module: the
``RegistrationForm`` here is the register-line form.
"""

from .base import (
    CODE_FIELDS,
    KINDS,
    OTHER,
    PAIR_HELP,
    PAIRED,
    PART_FIELDS,
    STARTERS,
    DirectiveForm,
    FindingsMixin,
    InlineMixin,
    Row,
    add_version_field,
    comment_lines,
    describedby,
    lines_of,
)
from .endpoints import EndpointForm
from .general import GeneralForm
from .hosts import HostCreateForm, HostDeleteForm, HostEditForm
from .imports import ImportForm
from .keys import KeyGenerateForm, KeyNameMixin, KeyUploadForm
from .registrations import CallNumberLimitForm, RegistrationForm
from .trunks import TrunkBaseForm, TrunkForm, TrunkPairForm
from .uploads import MultipleFileField, MultipleFileInput

__all__ = [
    "CODE_FIELDS",
    "KINDS",
    "OTHER",
    "PAIR_HELP",
    "PAIRED",
    "PART_FIELDS",
    "STARTERS",
    "CallNumberLimitForm",
    "DirectiveForm",
    "EndpointForm",
    "FindingsMixin",
    "GeneralForm",
    "HostCreateForm",
    "HostDeleteForm",
    "HostEditForm",
    "ImportForm",
    "InlineMixin",
    "KeyGenerateForm",
    "KeyNameMixin",
    "KeyUploadForm",
    "MultipleFileField",
    "MultipleFileInput",
    "RegistrationForm",
    "Row",
    "TrunkBaseForm",
    "TrunkForm",
    "TrunkPairForm",
    "add_version_field",
    "comment_lines",
    "describedby",
    "lines_of",
]

"""Every write, in one place: the service layer.

Each function here is one transaction that checks what the write may do (the section policy of
``peers.policy``, value rules, key material, references), locks what it changes, compares the
caller's version (optimistic locking, ``core``), writes, and records who did it in the history
(``peers.audit``), so the change and its history row commit or roll back together. The web views,
the JSON API, the management commands, the Django admin, imports and reverts all write through
here; nothing else writes configuration or access rows.

Refusals are ``Refused`` (with the validator's finding codes) and ``Conflict`` (someone else
changed the object since the caller read it); nothing is written when either is raised.
"""

from .access import (
    create_host_token,
    create_user_token,
    delete_user,
    export_with_secrets,
    revoke_token,
    save_user,
    set_role,
)
from .config import (
    delete_callnumber_limit,
    delete_registration,
    general_version,
    save_callnumber_limit,
    save_general,
    save_registration,
)
from .core import KEEP, Conflict, Refused, version_of
from .dialplan import clear_dialplan, dialplan_version, import_extensions, save_dialplan
from .endpoints import delete_endpoint, reveal_secrets, save_endpoint, with_current_secrets
from .fixes import FixResult, apply_fixes
from .hosts import create_host, delete_host, update_host
from .imports import (
    claim_upload,
    confirm_upload,
    discard_upload,
    import_document,
    import_upload,
    run_upload,
    stage_upload,
    staged_upload,
    upload_report,
)
from .keys import delete_key, store_key
from .revisions import NotRevertible, publish, revert_change, revert_host, revert_problem
from .trunks import NewKeys, TrunkRefused, TrunkResult, create_trunk, create_trunk_pair

__all__ = [
    "KEEP",
    "FixResult",
    "Conflict",
    "NewKeys",
    "NotRevertible",
    "Refused",
    "TrunkRefused",
    "TrunkResult",
    "apply_fixes",
    "create_host",
    "create_host_token",
    "create_trunk",
    "create_trunk_pair",
    "create_user_token",
    "clear_dialplan",
    "delete_callnumber_limit",
    "delete_endpoint",
    "delete_host",
    "delete_key",
    "delete_registration",
    "delete_user",
    "claim_upload",
    "confirm_upload",
    "dialplan_version",
    "discard_upload",
    "export_with_secrets",
    "general_version",
    "import_document",
    "import_extensions",
    "import_upload",
    "publish",
    "revert_change",
    "revert_host",
    "revert_problem",
    "reveal_secrets",
    "revoke_token",
    "run_upload",
    "save_callnumber_limit",
    "save_dialplan",
    "save_endpoint",
    "save_general",
    "save_registration",
    "save_user",
    "set_role",
    "stage_upload",
    "staged_upload",
    "store_key",
    "update_host",
    "upload_report",
    "version_of",
    "with_current_secrets",
]

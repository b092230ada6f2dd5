"""gunicorn settings for iaxadmin: `gunicorn -c deploy/gunicorn.conf.py` (what `make serve` runs).

Everything comes from the environment, like the app's own settings:

GUNICORN_BIND      address to listen on (default 127.0.0.1:8000; a TLS proxy in front, or 0.0.0.0:8000
                   when a load balancer reaches the server directly)
GUNICORN_WORKERS   worker processes (default 2 per CPU core this process may use, plus 1, at most 8)
GUNICORN_TIMEOUT   seconds a request may take before its worker is restarted (default 120: an import
                   or a publish of a 10,000-endpoint host takes seconds, not minutes)
GUNICORN_CMD_ARGS  any other gunicorn flag (gunicorn reads it itself, and it wins over this file)

Access and error lines go to stdout in the app's format (LOG_FORMAT=json makes them JSON too). The
access line has the path without its query string; the app logs its own line per request with
the user and the duration (iaxadmin/logs.py).
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout is the application (pip install -e . installs no package)

from iaxadmin.logs import logging_config  # noqa: E402


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {value!r}") from None
    if number < 1:
        raise SystemExit(f"{name} must be at least 1, not {number}")
    return number


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


chdir = str(ROOT)
wsgi_app = "iaxadmin.wsgi:application"
bind = [os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")]
workers = _int("GUNICORN_WORKERS", min(2 * _cores() + 1, 8))
worker_class = "sync"
timeout = _int("GUNICORN_TIMEOUT", 120)
graceful_timeout = 30  # a stop or restart lets requests in progress finish for this long
keepalive = 5
# a fresh worker after this many requests (with jitter, so they do not all restart at once):
# an export of a large host leaves its worker with a large heap
max_requests = 1000
max_requests_jitter = 100

# gunicorn 25+ opens a control socket in $HOME or $XDG_RUNTIME_DIR by default: a second server on
# the machine would share it, and the service's home is read-only. `kill -HUP` reloads instead.
control_socket_disable = True

accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'  # %(U)s: path, no query string
logconfig_dict = logging_config(os.environ.get("LOG_FORMAT", "text"), os.environ.get("LOG_LEVEL", "WARNING"))

"""Login with rate limiting (peers.security.throttle), for the app and the Django admin alike
(iaxadmin/urls.py routes both login URLs here)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views

from ..security import throttle


def _client_address(request) -> str:
    """The address attempts are counted under: REMOTE_ADDR (a proxy in front must pass the real
    client address on as REMOTE_ADDR, or every client behind it shares one count per username)."""
    return request.META.get("REMOTE_ADDR", "")[:64]


def _wait_text(seconds: int) -> str:
    minutes, rest = divmod(seconds, 60)
    if minutes and rest:
        minutes += 1
    return f"{minutes} minute{'s' if minutes != 1 else ''}" if minutes else f"{seconds} seconds"


class ThrottledLoginView(auth_views.LoginView):
    """Django's LoginView, refusing (429, without checking the password) a username that failed
    MAX_FAILURES times from this address within WINDOW; a successful login clears the count."""

    def post(self, request, *args, **kwargs):
        username = request.POST.get("username", "")
        wait = throttle.wait_seconds(username, _client_address(request))
        if wait:
            form = self.get_form_class()(request=request, initial={"username": username})
            message = (
                f"Too many failed logins for this username from your address. "
                f"Try again in {_wait_text(wait)}."
            )
            response = self.render_to_response(
                self.get_context_data(form=form, throttled=message), status=429
            )
            response["Retry-After"] = str(wait)
            return response
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        # under the name as typed: the key its failures were counted under
        throttle.record(self.request.POST.get("username", ""), _client_address(self.request), succeeded=True)
        return super().form_valid(form)

    def form_invalid(self, form):
        username = self.request.POST.get("username", "")
        if username:
            throttle.record(username, _client_address(self.request), succeeded=False)
        return super().form_invalid(form)

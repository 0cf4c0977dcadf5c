"""A scripted "browser" for the OAuth2 authorization-code step against django-helpdesk.

django-oauth-toolkit's ``/o/authorize/`` needs a logged-in Django session. This logs in
through the Django admin login form (CSRF cookie + form post), opens the authorize URL the
client under test built, and returns the redirect to the client's ``redirect_uri`` carrying
``?code=…&state=…``. The seeded application has ``skip_authorization=True``, so there is no
consent form to submit. The redirect target is not fetched unless ``follow=True`` (use that
when the client under test listens on ``redirect_uri``).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx


class BrowserError(RuntimeError):
    """The login or the authorize step did not go as a browser would expect."""


def authorize(authorize_url: str, username: str, password: str, *,
              follow: bool = False, timeout: float = 10.0) -> str:
    """Log in as ``username`` and return the redirect URL that carries the code (or an error)."""
    parts = urlsplit(authorize_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    login_url = f"{origin}/admin/login/"
    with httpx.Client(follow_redirects=False, timeout=timeout) as browser:
        page = browser.get(login_url)
        token = browser.cookies.get("csrftoken")
        if page.status_code != 200 or not token:
            raise BrowserError(f"login page {login_url}: HTTP {page.status_code}, csrftoken cookie: {bool(token)}")
        form = {"csrfmiddlewaretoken": token, "username": username, "password": password, "next": "/admin/"}
        done = browser.post(login_url, data=form, headers={"Referer": login_url})
        if done.status_code != 302:
            raise BrowserError(f"login as {username!r} failed: HTTP {done.status_code} (wrong password?)")
        answer = browser.get(authorize_url)
        if answer.status_code != 302:
            text = re.sub(r"\s+", " ", answer.text)[:300]
            raise BrowserError(f"authorize did not redirect: HTTP {answer.status_code}: {text}")
        location = answer.headers["location"]
        if location.startswith(f"{origin}/admin/login/") or location.startswith("/admin/login/"):
            raise BrowserError("authorize sent the browser back to the login page")
    if follow:
        httpx.get(location, timeout=timeout)
    return location


def code_from(redirect_url: str) -> tuple[str, str | None]:
    """``(code, state)`` from a redirect URL; raises BrowserError for an ``error=`` redirect."""
    query = parse_qs(urlsplit(redirect_url).query)
    if "code" not in query:
        raise BrowserError(f"redirect carries no code: {query.get('error', ['?'])[0]}")
    return query["code"][0], query.get("state", [None])[0]

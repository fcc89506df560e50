"""Masking contact URLs for display and logs: passwords, token logins, the token parts of
well-known Apprise schemes and secret-looking query parameters become ****; property-tested so
that a password never survives."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tocsin.domain.notify import mask_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("ntfy://ntfy.example.com/alice-pager", "ntfy://ntfy.example.com/alice-pager"),
        ("ntfy://user:hunter2@ntfy.example.com/topic", "ntfy://user:****@ntfy.example.com/topic"),
        ("ntfys://tk_abc123@ntfy.example.com/topic", "ntfys://****@ntfy.example.com/topic"),
        ("ntfy://u:p@ss:w@rd@host/topic", "ntfy://u:****@host/topic"),
        ("tgram://123456789:AAE-bot-token/987654", "tgram://****/987654"),
        ("tgram://123456789:AAE-bot-token", "tgram://****"),
        ("discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js", "discord://4174216298/****"),
        ("discords://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js/", "discords://4174216298/****/"),
        ("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#ops", "slack://****/****/****/#ops"),
        ("msteams://TokenA/TokenB/TokenC/", "msteams://****/****/****/"),
        ("pover://userkey@apptoken", "pover://****@****"),
        ("pbul://o.gn5kj6nfhv736I7jC3cj3QLRiyhgl98b", "pbul://****"),
        ("gotify://gotify.example.com/AbCdEfGh123", "gotify://gotify.example.com/****"),
        ("gotifys://gotify.example.com/sub/AbCdEfGh123", "gotifys://gotify.example.com/sub/****"),
        ("mailgun://noreply@example.com/key-abc123", "mailgun://****@example.com/****"),
        ("twilio://ACsid:authtoken@15551234567/15557654321", "twilio://ACsid:****@15551234567/15557654321"),
        ("json://hooks.example.com/alert?token=abc&team=ops", "json://hooks.example.com/alert?token=****&team=ops"),
        ("https://hooks.example.com/x?api_key=k&Secret=s&password=p&sig=z&to=me", "https://hooks.example.com/x?api_key=****&Secret=****&password=****&sig=****&to=me"),
        ("json://host?apikey=abc", "json://host?apikey=****"),
        ("mailto:alice@example.com", "mailto:alice@example.com"),
        ("mailto:alice@example.com?auth=xyz", "mailto:alice@example.com?auth=****"),
        ("mailtos://alice:app-password@smtp.example.com", "mailtos://alice:****@smtp.example.com"),
        ("just-a-bare-token-abc123", "****"),
        ("://nohost", "****"),
        ("", "****"),
    ],
)  # fmt: skip
def test_secrets_in_contact_urls_are_masked(url: str, shown: str) -> None:
    """Each URL is shown with exactly its secret parts replaced by ****."""
    assert mask_url(url) == shown


_SECRET = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!$%&'()+,;=?#[]", min_size=1, max_size=24)
_TOKEN = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=24)
_PLAIN = st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12)
_SCHEMES = st.sampled_from(["ntfy", "ntfys", "json", "https", "mailtos", "matrix", "twilio",
                            "rocket", "gotify", "tgram", "slack", "discord"])  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(scheme=_SCHEMES, user=_PLAIN, password=_SECRET, host=_PLAIN, path=_PLAIN)
def test_a_password_never_survives(
    scheme: str, user: str, password: str, host: str, path: str
) -> None:
    """Whatever the scheme and password (including ? # [ ] and other URL punctuation; a "/"
    must be percent-encoded in a URL's password), the password is not in the masked URL."""
    shown = mask_url(f"{scheme}://{user}:{password}@{host}/{path}")
    assert password not in shown
    assert "****" in shown


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(["token", "access_token", "key", "apikey", "secret", "password", "pw"]),
       value=_TOKEN, host=_PLAIN)  # fmt: skip
def test_a_secret_query_parameter_never_survives(name: str, value: str, host: str) -> None:
    """A query parameter with a secret-looking name is masked, whatever its value."""
    assert value not in mask_url(f"json://{host}/hook?{name}={value}&x=y")

"""The outbox sender for personal contact methods: a row of kind ``notify`` names a person and
one of their contacts; the sender reads the Apprise URL from the policy file and notifies it.

The URL is not in the row (the outbox is shown by ``tocsin deliveries`` and the API, and a URL
carries tokens), so a contact removed since the row was queued is a
:class:`~tocsin.delivery.base.Skip`. :attr:`AppriseSender.people` (set by the composition root
to the people's service) gives the people with their stored edits; without it the policy file's
are used. There is one sender per URL scheme in the policy file
(destination ``apprise:ntfy``, ``apprise:json``, ...), so each kind of contact method has its
own worker and circuit breaker: a broken ntfy server does not hold back Telegram.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from tocsin.config import Settings
from tocsin.delivery.base import Delivery, RemoteRefs, Sent, Skip
from tocsin.domain.notify import Person, find_person
from tocsin.domain.notify.paging import NOTIFY, contact_destination
from tocsin.domain.policy import Policy
from tocsin.platforms.apprise.notify import DEFAULT_TIMEOUT, notify

__all__ = ["AppriseSender", "build_apprise_senders"]

Notify = Callable[..., Coroutine[Any, Any, None]]
PeopleHook = Callable[[], Awaitable[Sequence[Person]]]


class AppriseSender:
    """Delivers ``notify`` rows for one destination (one URL scheme)."""

    def __init__(
        self,
        destination: str,
        policy: Policy,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        send: Notify = notify,
    ) -> None:
        self.destination = destination
        self.policy = policy
        self.timeout = timeout
        self._send = send
        self.people: PeopleHook | None = None  # the people with their stored edits

    async def url_for(self, delivery: Delivery) -> str:
        """The row's contact URL (stored edits over the policy file); Skip when it is gone."""
        payload = delivery.payload
        people = await self.people() if self.people is not None else self.policy.people
        person = find_person(people, str(payload.get("person", "")))
        contact = str(payload.get("contact", ""))
        url = person.contacts.get(contact) if person is not None else None
        if url is None or contact_destination(url) != self.destination:
            raise Skip(f"contact {contact!r} of {payload.get('person')!r} is not in the policy")
        return url

    async def send(self, delivery: Delivery, refs: RemoteRefs) -> Sent:
        del refs
        if delivery.kind != NOTIFY:
            raise Skip(f"the {self.destination} sender has no {delivery.kind!r} messages")
        url = await self.url_for(delivery)
        title = str(delivery.payload.get("title", "tocsin"))
        body = str(delivery.payload.get("body", ""))
        await self._send(url, title, body, within=self.timeout)
        return Sent(remote_ids={"contact": str(delivery.payload.get("contact", ""))})

    async def aclose(self) -> None:
        return None


def build_apprise_senders(settings: Settings, policy: Policy) -> dict[str, AppriseSender]:
    """One sender per URL scheme among the people's contacts (``mailto:`` is the mail
    platform's). Apprise needs no credentials of its own: the URLs carry them."""
    timeout = min(DEFAULT_TIMEOUT, settings.delivery_lease / 2)
    found = {contact_destination(url) for p in policy.people for url in p.contacts.values()}
    names = sorted(name for name in found if name is not None)
    return {name: AppriseSender(name, policy, timeout=timeout) for name in names}

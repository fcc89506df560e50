"""Status-page subscribers' use cases: subscribe (double opt-in), confirm, unsubscribe, the
admins' list / add / remove, and the two hooks the senders call (a refused address, a webhook's
signed request). The rules are in domain/subscribers.py; what they are told is queued by
services/subscriber_notices.py.

Tokens: the confirmation token is random (``secrets.token_urlsafe``), stored as its SHA-256 and
valid for :data:`CONFIRM_HOURS`; the unsubscribe token is random too, and kept (every message
carries it; it can only unsubscribe). Subscribing answers the same whether or not the address
was known: a confirmed address gets no mail, any other gets a new confirmation link.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tocsin.domain.effects import Effect
from tocsin.domain.errors import InvalidTransition, NotFound
from tocsin.domain.mail import MailMessage
from tocsin.domain.model import Actor
from tocsin.domain.subscriber_notices import page_indicator, webhook_document
from tocsin.domain.subscribers import (
    BOUNCED,
    CONFIRMED,
    EMAIL,
    PENDING,
    UNSUBSCRIBED,
    Subscriber,
    kind_of,
    match_components,
    normalize_email,
    normalize_url,
)
from tocsin.services.context import Context
from tocsin.services.pipeline import audit_record, deny
from tocsin.services.public_status_page import components, public_number_id
from tocsin.services.subscriber_notices import (
    EMAIL_DESTINATION,
    PAGE_NAME,
    page_id,
    status_url,
    unsubscribe_headers,
    unsubscribe_url,
)

CONFIRM_HOURS = 48
_ADMINS_ONLY = "Only an admin may manage the status page's subscribers."


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def confirm_url(public_url: str, token: str) -> str:
    return f"{status_url(public_url)}/subscriptions/confirm/{token}"


def confirmation_mail(to: str, public_url: str, token: str, unsubscribe: str) -> MailMessage:
    link = confirm_url(public_url, token)
    text = (
        f"Someone (we hope you) asked to receive updates from {PAGE_NAME} at this address.\n\n"
        f"Confirm within {CONFIRM_HOURS} hours by opening this link:\n{link}\n\n"
        "If it was not you, ignore this message: nothing is sent without confirmation.\n"
        f"Unsubscribe: {unsubscribe}\n"
    )
    return MailMessage(
        to, f"Confirm your subscription to {PAGE_NAME}", text, "", unsubscribe_headers(unsubscribe)
    )


async def _component_names(ctx: Context, names: Sequence[str]) -> tuple[str, ...]:
    if not any(n.strip() for n in names):
        return ()
    return match_components(names, [c.name for c in await components(ctx)])


async def subscribe_email(ctx: Context, raw: str, names: Sequence[str] = ()) -> None:
    """Start (or restart) an email subscription; ParseError naming the field when bad."""
    address = normalize_email(raw)
    chosen = await _component_names(ctx, names)
    token = secrets.token_urlsafe(32)
    async with ctx.uow() as uow:
        now = ctx.clock()
        store = uow.subscribers
        found = await store.find(EMAIL, address)
        if found is not None and found.subscriber.state == CONFIRMED:
            return  # the same answer, and no mail: the address already hears of everything
        expires = now + timedelta(hours=CONFIRM_HOURS)
        if found is None:
            unsubscribe = secrets.token_urlsafe(32)
            number = await store.add(
                EMAIL,
                address,
                chosen,
                state=PENDING,
                unsubscribe_token=unsubscribe,
                now=now,
                confirm_hash=_digest(token),
                confirm_expires_at=expires,
            )
        else:
            number, unsubscribe = found.subscriber.id, found.unsubscribe_token
            await store.restart(number, chosen, _digest(token), expires, now)
        mail = confirmation_mail(
            address, ctx.public_url, token, unsubscribe_url(ctx.public_url, unsubscribe)
        )
        key = f"{EMAIL_DESTINATION}:sub{number}:confirm:{_digest(token)[:16]}"
        effect = Effect(
            EMAIL_DESTINATION,
            "confirm",
            {"subscriber": number, "mail": mail.to_payload()},
            key,
            None,
            ordering_key=f"{EMAIL_DESTINATION}:sub{number}",
        )
        await uow.outbox.add([effect], now)
        await uow.commit()
    ctx.committed()


async def confirm(ctx: Context, token: str) -> bool:
    """Confirm the subscription of a confirmation link; False when unknown or expired."""
    async with ctx.uow() as uow:
        now = ctx.clock()
        found = await uow.subscribers.by_confirm_hash(_digest(token))
        if found is None or found.subscriber.state != PENDING:
            return False
        if found.confirm_expires_at is None or found.confirm_expires_at < now:
            return False
        await uow.subscribers.set_state(found.subscriber.id, CONFIRMED, now)
        await uow.commit()
    return True


async def unsubscribe(ctx: Context, token: str) -> bool:
    """Stop a subscription by its unsubscribe token; False when the token is unknown."""
    async with ctx.uow() as uow:
        found = await uow.subscribers.by_unsubscribe_token(token)
        if found is None:
            return False
        if found.subscriber.state != UNSUBSCRIBED:
            await uow.subscribers.set_state(found.subscriber.id, UNSUBSCRIBED, ctx.clock())
            await uow.commit()
    return True


async def mark_bounced(ctx: Context, address: str, reason: str) -> None:
    """The email sender's hook: the server refused ``address`` for good (a 5xx)."""
    async with ctx.uow() as uow:
        if await uow.subscribers.mark(EMAIL, address, BOUNCED, ctx.clock(), reason):
            await uow.commit()


async def still_subscribed(ctx: Context, payload: Mapping[str, Any]) -> bool:
    """The email sender's hook: is the row's subscriber (if it names one) still there and not
    unsubscribed or bounced? A confirmation mail goes to a pending subscriber too."""
    number = payload.get("subscriber")
    if number is None:
        return True
    async with ctx.uow(read_only=True) as uow:
        found = await uow.subscribers.get(int(number))
    return found is not None and found.subscriber.state in (PENDING, CONFIRMED)


# --- admins ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Added:
    subscriber: Subscriber
    secret: str | None  # a webhook's signing secret: shown this once


async def _admin(ctx: Context, actor: Actor, detail: str) -> None:
    if not ctx.policy.is_admin(actor):
        async with ctx.uow() as uow:
            raise await deny(uow, actor, "subscriber", None, _ADMINS_ONLY, ctx.clock(), detail)


async def add_subscriber(
    ctx: Context, actor: Actor, address: str, names: Sequence[str] = ()
) -> Added:
    """An email address (confirmed at once: an admin vouches for it) or a webhook URL."""
    kind = kind_of(address)
    address = normalize_url(address) if kind != EMAIL else normalize_email(address)
    await _admin(ctx, actor, f"add {kind}")
    chosen = await _component_names(ctx, names)
    secret = secrets.token_hex(32) if kind != EMAIL else None
    async with ctx.uow() as uow:
        now = ctx.clock()
        if await uow.subscribers.find(kind, address) is not None:
            raise InvalidTransition(f"address: {address} is already a subscriber.")
        number = await uow.subscribers.add(
            kind,
            address,
            chosen,
            state=CONFIRMED,
            unsubscribe_token=secrets.token_urlsafe(32),
            now=now,
            secret=secret,
        )
        await uow.audit.append(
            audit_record(
                actor, "subscriber", None, "allowed", "admin", now, f"add {kind} #{number}"
            )
        )
        row = await uow.subscribers.get(number)
        await uow.commit()
    assert row is not None
    return Added(row.subscriber, secret)


async def list_subscribers(ctx: Context, actor: Actor) -> list[Subscriber]:
    await _admin(ctx, actor, "list")
    async with ctx.uow(read_only=True) as uow:
        return await uow.subscribers.all()


async def remove_subscriber(ctx: Context, actor: Actor, number: int) -> None:
    await _admin(ctx, actor, f"remove #{number}")
    async with ctx.uow() as uow:
        now = ctx.clock()
        if not await uow.subscribers.delete(number):
            raise NotFound(f"There is no subscriber #{number}.")
        await uow.audit.append(
            audit_record(actor, "subscriber", None, "allowed", "admin", now, f"remove #{number}")
        )
        await uow.commit()


async def counts(ctx: Context) -> dict[tuple[str, str], int]:
    async with ctx.uow(read_only=True) as uow:
        return await uow.subscribers.counts()


# --- the webhook sender's hook --------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class WebhookRequest:
    url: str
    secret: str
    body: bytes


async def webhook_request(
    ctx: Context, key: bytes, payload: Mapping[str, Any]
) -> WebhookRequest | None:
    """The signed request of a subscriber-webhook row, or None when the subscriber is gone or
    no longer confirmed (nothing to send)."""
    async with ctx.uow(read_only=True) as uow:
        found = await uow.subscribers.get(int(payload["subscriber"]))
    if found is None or found.subscriber.state != CONFIRMED or not found.secret:
        return None
    notice = payload["notice"]
    number = notice["data"].get("number")
    page = {"id": page_id(ctx.public_url), **page_indicator(notice)}
    document = webhook_document(
        notice,
        page=page,
        unsubscribe=unsubscribe_url(ctx.public_url, found.unsubscribe_token),
        incident_id=public_number_id(key, int(number)) if number is not None else "",
    )
    body = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
    return WebhookRequest(found.subscriber.address, found.secret, body)

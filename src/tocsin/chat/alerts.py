"""Alert group buttons from chat: Acknowledge, Declare incident, Silence 1h / 4h / 24h.

The platforms call :func:`alert_action` with the button's action and the group id it carries;
the answer is the sentence the person who pressed it reads (a refusal included). Declaring checks
the policy's ``declare`` permission like ``/incident declare``; acknowledging and silencing check
its ``alerts`` permission (anyone by default), and all three are audited.
"""

from __future__ import annotations

from datetime import timedelta

from tocsin.chat import notices, texts
from tocsin.chat.messages import ALERT_ACK, ALERT_DECLARE, ALERT_SILENCE_HOURS, Style
from tocsin.domain.errors import DomainError
from tocsin.domain.model import Actor
from tocsin.services.alerts import groups
from tocsin.services.alerts.views import group_dict
from tocsin.services.context import Context

ACTIONS = frozenset({ALERT_ACK, ALERT_DECLARE, *ALERT_SILENCE_HOURS})


async def alert_action(ctx: Context, actor: Actor, action: str, group_id: int, style: Style) -> str:
    """Run one alert group button; the text to show the person who pressed it."""
    try:
        if action == ALERT_ACK:
            kept = await groups.ack_group(ctx, actor, group_id)
        elif action == ALERT_DECLARE:
            kept = await groups.declare_group(ctx, actor, group_id)
        else:
            span = timedelta(hours=ALERT_SILENCE_HOURS[action])
            kept = await groups.silence_group(ctx, actor, group_id, span)
    except DomainError as exc:
        return texts.problem(exc, style).text
    return notices.alert_action_done(action, group_dict(kept), style).text

"""Checking consumption rows against subscriptions, without a database.

The monthly import (``sophos.ppu.import``) checks every row of a file: which
subscription it bills, whether it can be billed, at which price, and whether
its consumption is billed already or repeated in the file. The decisions
live here, on plain values; the Odoo layer gathers the facts once per call
(the subscriptions as :class:`SubscriptionFacts`, the reseller each row's
file names, the consumption keys billed already, a pricer built on Odoo's
pricelist engine) and turns each :class:`Issue` into its translated text.

Rows are dicts keyed by the row vocabulary (:mod:`.row`: ``row_number``,
``end_user_identifier``, ``end_customer_name``, ``start_date``,
``end_date``, ``quantity``..., the import line's names) and by what the
import line keeps of a row's checks (:data:`STATE_FIELDS`), plus whatever
the pricer reads.

The issue ladder, first match wins:

1. ``unreadable``: the row could not be read (its ``message`` says why);
2. ``no_subscription`` / ``ambiguous``: no subscription, or several, has the
   row's End User Identifier, or else (among the subscriptions without an
   identifier) its end customer's name; active subscriptions are preferred,
   and a subscription ops picked by hand is kept; ``other_identifier`` when
   none does but the end customer has a subscription under another
   identifier;
3. ``other_reseller``: the file bills the row to another reseller than the
   subscription's (not checked for a subscription picked by hand);
   ``claimed_identifier``: the file names no reseller, the row matched by
   identifier, and its end customer's name is that of another reseller's
   subscription which has no identifier yet (the identifier may have been
   claimed before its owner's subscription learnt it);
4. ``outside_period``: the service dates are not in the billing month (a
   correction, negative quantity, may credit an earlier month);
5. a correction of a consumption billed earlier is ok, with the note
   ``credits_billed``: it is credited at the price, in the currency and to
   the reseller of that billing (whatever the subscription's state or
   pricelist says today);
6. ``closed``: the subscription is closed;
7. ``no_rule``: the subscription's pricelist has no rule for the service;
8. ok, with the note ``zero_quantity`` when there is nothing to invoice, or
   ``corrects_unbilled`` for a correction with nothing billed behind it
   (priced by today's rule).

Then (:func:`mark_duplicates`) a row checked ok becomes a duplicate when its
consumption is billed already (``already_billed``), or when an earlier row
of the file has its consumption key (``repeats_row`` when it repeats that
row cell for cell, to be confirmed by ops, else ``same_consumption``).

After the whole file is checked, :func:`decide_identifiers` says which End
User Identifiers met on rows matched by name or by hand to record on their
subscriptions, and which to refuse.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from .billing import normalise_identifier, normalise_name

#: What checking reads of a row beside its values: how it was read and
#: keyed, and the match ops picked by hand.
STATE_FIELDS = (
    "consumption_key",
    "repeat_of_row",
    "parse_error",
    "message",
    "subscription_id",
    "match_method",
)
# Subscription states and row states, as the Odoo models spell them.
ACTIVE, CLOSED = "active", "closed"
OK, ERROR, DUPLICATE = "ok", "error", "duplicate"
# How a row was matched to its subscription.
BY_IDENTIFIER, BY_NAME, BY_HAND = "identifier", "name", "manual"

# Issue codes, with their parameters.
UNREADABLE = "unreadable"  # message: the reader's reasons
NO_SUBSCRIPTION = "no_subscription"  # identifier, customer (as in the file)
OTHER_IDENTIFIER = "other_identifier"  # identifier, subscription_ids (the customer's)
AMBIGUOUS = "ambiguous"  # subscription_ids: the candidates
OTHER_RESELLER = "other_reseller"  # reseller_id: the one the file names; identifier
OUTSIDE_PERIOD = "outside_period"  # start, end: the service dates
CLOSED_SUBSCRIPTION = "closed"  # subscription_id
NO_RULE = "no_rule"  # subscription_id
ZERO_QUANTITY = "zero_quantity"  # (a note on a row checked ok)
CREDITS_BILLED = "credits_billed"  # row_id: the billed row (a note on a row ok)
CORRECTS_UNBILLED = "corrects_unbilled"  # (a note on a row checked ok)
ALREADY_BILLED = "already_billed"  # batch_id: the batch that billed it
REPEATS_ROW = "repeats_row"  # row: the row of the file it repeats cell for cell
SAME_CONSUMPTION = "same_consumption"  # row: the earlier row of the same key
SEVERAL_IDENTIFIERS = "several_identifiers"  # subscription_id, customer
IDENTIFIER_ELSEWHERE = "identifier_elsewhere"  # identifier
CLAIMED_IDENTIFIER = "claimed_identifier"  # identifier, subscription_id (named)


@dataclass(frozen=True, slots=True)
class Issue:
    """Why a row cannot be billed (or a note on one that can): a code and
    its parameters, never a text. The caller words it."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def key(self):
        """A hashable identity of the issue (its code and parameters)."""
        return (self.code, tuple(sorted(self.params.items())))


@dataclass(frozen=True, slots=True)
class SubscriptionFacts:
    """What checking knows of a subscription.

    ``reseller_id`` is the reseller's commercial entity, as the file's
    Partner ID/Name is compared with. ``pricelist_id``, ``product_id`` and
    ``currency_id`` are carried for the caller's pricer and results; the
    checks do not read them."""

    id: int
    identifier: str | None = None
    customer: str | None = None
    state: str = ACTIVE
    reseller_id: int | None = None
    pricelist_id: int | None = None
    product_id: int | None = None
    currency_id: int | None = None

    @property
    def has_identifier(self):
        return bool(normalise_identifier(self.identifier))


class Match(NamedTuple):
    """The subscription a row bills and how it was found, or why none."""

    subscription: SubscriptionFacts | None
    method: str | None
    issue: Issue | None


class RowCheck(NamedTuple):
    """The result of checking one row.

    ``subscription`` and ``match_method`` are set whenever a subscription
    matched, also on rows in error for a later reason; ``price_unit`` and
    ``rule_id`` on rows priced (ok, and duplicates of ok rows); ``billed_by``
    is the batch that billed an ``already_billed`` duplicate."""

    state: str
    issue: Issue | None = None
    subscription: SubscriptionFacts | None = None
    match_method: str | None = None
    price_unit: float = 0.0
    rule_id: int | None = None
    billed_by: int | None = None
    credits: Billed | None = None


class Billed(NamedTuple):
    """A consumption billed earlier, as the correction that credits it
    sees it: its row, and the price, currency and reseller it was billed
    at (those of its invoice line)."""

    row_id: int
    price_unit: float
    currency_id: int
    reseller_id: int
    rule_id: int | None = None


#: ``price_of(subscription, row) -> (unit price, rule id)``: the rule id is
#: falsy when the subscription's pricelist has no rule for the service.
Pricer = Callable[[SubscriptionFacts, Mapping], tuple[float, Any]]


class Matcher:
    """Finds the subscription of a row: by End User Identifier first (case-
    and space-insensitive), else by end-customer name (case- and
    space-insensitive) among the subscriptions without an identifier;
    active subscriptions are preferred to closed ones. A row matched by hand
    (``match_method`` 'manual') keeps its subscription when it is one of
    ``manual``."""

    def __init__(
        self,
        subscriptions: Iterable[SubscriptionFacts],
        manual: Iterable[SubscriptionFacts] = (),
    ):
        by_identifier, by_name = defaultdict(list), defaultdict(list)
        identified = defaultdict(list)  # customer name -> its identified ones
        for subscription in subscriptions:
            name = normalise_name(subscription.customer)
            if key := normalise_identifier(subscription.identifier):
                by_identifier[key].append(subscription)
                if name:
                    identified[name].append(subscription)
            elif name:
                by_name[name].append(subscription)
        self._by_identifier = {key: _pick(c) for key, c in by_identifier.items()}
        self._by_name = {key: _pick(c) for key, c in by_name.items()}
        self._identified = {key: _pick(c) for key, c in identified.items()}
        self._manual = {subscription.id: subscription for subscription in manual}

    def match(self, row: Mapping) -> Match:
        if row.get("match_method") == BY_HAND:
            subscription = self._manual.get(row.get("subscription_id"))
            if subscription is not None:
                return Match(subscription, BY_HAND, None)
        identifier = normalise_identifier(row.get("end_user_identifier"))
        if identifier and identifier in self._by_identifier:
            candidates, method = self._by_identifier[identifier], BY_IDENTIFIER
        else:
            name = normalise_name(row.get("end_customer_name"))
            candidates, method = self._by_name.get(name, ()) if name else (), BY_NAME
        if not candidates:
            return Match(None, None, self._unmatched(row))
        if len(candidates) > 1:
            issue = Issue(
                AMBIGUOUS, {"subscription_ids": tuple(s.id for s in candidates)}
            )
            return Match(None, None, issue)
        return Match(candidates[0], method, None)

    def _unmatched(self, row: Mapping) -> Issue:
        """Why no subscription matches ``row``: none has its identifier nor
        its end customer, or its end customer's has another identifier."""
        identifier = row.get("end_user_identifier") or None
        name = normalise_name(row.get("end_customer_name"))
        if name in self._identified:
            subscription_ids = tuple(s.id for s in self._identified[name])
            return Issue(
                OTHER_IDENTIFIER,
                {"identifier": identifier, "subscription_ids": subscription_ids},
            )
        return Issue(
            NO_SUBSCRIPTION,
            {
                "identifier": identifier,
                "customer": row.get("end_customer_name") or None,
            },
        )

    def named_elsewhere(self, row: Mapping, subscription: SubscriptionFacts):
        """The subscription of another reseller than ``subscription``'s,
        without an identifier, whose end customer has the row's name, or
        None."""
        name = normalise_name(row.get("end_customer_name"))
        candidates = self._by_name.get(name, ()) if name else ()
        return next(
            (s for s in candidates if s.reseller_id != subscription.reseller_id),
            None,
        )


def _pick(candidates):
    """The active candidates if any, else all (a closed one is reported as
    such), in their order."""
    active = tuple(s for s in candidates if s.state == ACTIVE)
    return active or tuple(candidates)


class Checker:
    """Checks rows of one batch: the issue ladder (see the module), up to
    pricing. Duplicates are :func:`mark_duplicates`' job.

    :param subscriptions: the subscriptions rows may match
    :param period_start, period_end: the billing month's first and last day
    :param price_of: a :data:`Pricer`, called once per row to price (may be
        set after :meth:`matched` told which subscriptions it will price)
    :param reseller_named: ``row -> reseller id`` the row's file names (its
        Partner ID or Name), or None when it names none known
    :param manual: the subscriptions ops picked by hand on rows
    :param billed_of: ``row -> Billed`` the consumption a correction (a row
        of negative quantity) credits, or None when nothing billed stands
        behind it
    """

    def __init__(
        self,
        subscriptions: Iterable[SubscriptionFacts],
        *,
        period_start: date,
        period_end: date,
        price_of: Pricer | None = None,
        reseller_named: Callable[[Mapping], Any] | None = None,
        manual: Iterable[SubscriptionFacts] = (),
        billed_of: Callable[[Mapping], Billed | None] | None = None,
    ):
        self.matcher = Matcher(subscriptions, manual)
        self.period_start, self.period_end = period_start, period_end
        self.price_of = price_of
        self.reseller_named = reseller_named
        self.billed_of = billed_of

    def check(self, rows: Iterable[Mapping]) -> list[RowCheck]:
        return [self.check_row(row) for row in rows]

    def matched(self, rows: Iterable[Mapping]) -> set[SubscriptionFacts]:
        """The subscriptions ``rows`` match: those whose prices checking
        them may ask for (for a pricer to prepare)."""
        return {
            match.subscription
            for row in rows
            if not row.get("parse_error")
            and (match := self.matcher.match(row)).subscription is not None
        }

    def check_row(self, row: Mapping) -> RowCheck:
        if row.get("parse_error"):
            return RowCheck(ERROR, Issue(UNREADABLE, {"message": row.get("message")}))
        subscription, method, issue = self.matcher.match(row)
        if issue:
            return RowCheck(ERROR, issue)
        named = (
            self.reseller_named(row)
            if method != BY_HAND and self.reseller_named is not None
            else None
        )
        if named is not None and named != subscription.reseller_id:
            issue = Issue(
                OTHER_RESELLER,
                {
                    "reseller_id": named,
                    "identifier": row.get("end_user_identifier") or None,
                },
            )
            return RowCheck(ERROR, issue, subscription, method)
        if (
            method == BY_IDENTIFIER
            and named is None
            and (other := self.matcher.named_elsewhere(row, subscription))
        ):
            issue = Issue(
                CLAIMED_IDENTIFIER,
                {
                    "identifier": row.get("end_user_identifier"),
                    "subscription_id": other.id,
                },
            )
            return RowCheck(ERROR, issue, subscription, method)
        if not self.in_period(row):
            issue = Issue(
                OUTSIDE_PERIOD, {"start": row["start_date"], "end": row["end_date"]}
            )
            return RowCheck(ERROR, issue, subscription, method)
        correction = row["quantity"] < 0
        if correction and self.billed_of and (billed := self.billed_of(row)):
            issue = Issue(CREDITS_BILLED, {"row_id": billed.row_id})
            return RowCheck(
                OK,
                issue,
                subscription,
                method,
                billed.price_unit,
                billed.rule_id,
                credits=billed,
            )
        if subscription.state == CLOSED:
            issue = Issue(CLOSED_SUBSCRIPTION, {"subscription_id": subscription.id})
            return RowCheck(ERROR, issue, subscription, method)
        price, rule_id = self.price_of(subscription, row)
        if not rule_id:
            issue = Issue(NO_RULE, {"subscription_id": subscription.id})
            return RowCheck(ERROR, issue, subscription, method)
        if correction:
            note = Issue(CORRECTS_UNBILLED)
        else:
            note = None if row["quantity"] else Issue(ZERO_QUANTITY)
        return RowCheck(OK, note, subscription, method, price, rule_id)

    def in_period(self, row: Mapping) -> bool:
        """Whether the service dates are in the billing month. A correction
        (negative quantity) may credit a consumption of an earlier month."""
        return row["end_date"] <= self.period_end and (
            row["quantity"] < 0 or self.period_start <= row["start_date"]
        )


def duplicate_keys(rows: Iterable[Mapping], checks: Iterable[RowCheck]) -> set:
    """The consumption keys :func:`mark_duplicates` needs to know about: those
    of the rows checked ok."""
    return {
        row["consumption_key"]
        for row, check in zip(rows, checks, strict=True)
        if check.state == OK and row.get("consumption_key")
    }


def mark_duplicates(
    rows: Iterable[Mapping],
    checks: Iterable[RowCheck],
    *,
    billed: Mapping[str, Any] = None,
    earlier: Mapping[str, int] = None,
) -> list[RowCheck]:
    """Rows checked ok whose consumption is billed already, or that an
    earlier row of the file carries, become duplicates (keeping their
    subscription and price).

    :param billed: consumption key -> the batch that billed it
    :param earlier: consumption key -> the first row of the file checked ok
        with that key before these rows (rows checked earlier, chunk by
        chunk): these rows then repeat it as if the whole file were checked
        at once
    """
    billed = billed or {}
    seen = dict(earlier or {})
    marked = []
    for row, check in zip(rows, checks, strict=True):
        key = row.get("consumption_key")
        if check.state != OK or not key:
            marked.append(check)
        elif key in billed:
            marked.append(
                check._replace(
                    state=DUPLICATE,
                    issue=Issue(ALREADY_BILLED, {"batch_id": billed[key]}),
                    billed_by=billed[key],
                )
            )
        elif key in seen:
            issue = (
                Issue(REPEATS_ROW, {"row": row["repeat_of_row"]})
                if row.get("repeat_of_row")
                else Issue(SAME_CONSUMPTION, {"row": seen[key]})
            )
            marked.append(check._replace(state=DUPLICATE, issue=issue))
        else:
            seen[key] = row["row_number"]
            marked.append(check)
    return marked


# ----------------------------------------------------------------------
# Learning End User Identifiers
# ----------------------------------------------------------------------


class Refusal(NamedTuple):
    """An identifier not recorded, and the match methods of the rows it
    leaves to ops (their match is undone, the row in error)."""

    issue: Issue
    methods: tuple[str, ...]


@dataclass(frozen=True)
class IdentifierDecision:
    """``record``: subscription id -> the identifier to record on it;
    ``refused``: subscription id -> :class:`Refusal`."""

    record: dict[int, str]
    refused: dict[int, Refusal]

    def issue_for(self, subscription_id, method) -> Issue | None:
        """The issue of a row matched to ``subscription_id`` by ``method``
        when the refusal undoes its match, else None."""
        refusal = self.refused.get(subscription_id)
        if refusal and method in refusal.methods:
            return refusal.issue
        return None


def decide_identifiers(
    meetings: Iterable[tuple[SubscriptionFacts, str | None, str]],
    held_elsewhere: Callable[[SubscriptionFacts, str], bool] | None = None,
) -> IdentifierDecision:
    """Which End User Identifiers to record on subscriptions, so that next
    month matches their rows directly.

    :param meetings: ``(subscription, identifier in the row, match method)``
        for the rows matched by name or by hand, in row order; rows without
        an identifier, and subscriptions with one, teach nothing
    :param held_elsewhere: ``(subscription, identifier) -> bool``: whether
        another reseller's active subscription holds the identifier already

    A subscription met with one identifier (compared case- and
    space-insensitively) records it, the first spelling met. Left to ops
    instead:

    - a subscription met with several identifiers (``several_identifiers``):
      its rows matched by name go to ops, those matched by hand stay;
    - an identifier another reseller's active subscription holds, already
      or recorded earlier in this decision (``identifier_elsewhere``): all
      its rows, matched by name or by hand, go to ops.
    """
    met = {}  # subscription id -> (subscription, identifiers in row order)
    for subscription, identifier, method in meetings:
        identifier = (identifier or "").strip()
        if (
            method not in (BY_NAME, BY_HAND)
            or subscription.has_identifier
            or not normalise_identifier(identifier)
        ):
            continue
        met.setdefault(subscription.id, (subscription, []))[1].append(identifier)
    record, refused = {}, {}
    holders = defaultdict(set)  # identifier -> resellers recording it (active)
    for subscription, identifiers in met.values():
        identifier = identifiers[0]
        key = normalise_identifier(identifier)
        if len({normalise_identifier(i) for i in identifiers}) > 1:
            issue = Issue(
                SEVERAL_IDENTIFIERS,
                {"subscription_id": subscription.id, "customer": subscription.customer},
            )
            refused[subscription.id] = Refusal(issue, (BY_NAME,))
        elif holders[key] - {subscription.reseller_id} or (
            held_elsewhere is not None and held_elsewhere(subscription, identifier)
        ):
            issue = Issue(IDENTIFIER_ELSEWHERE, {"identifier": identifier})
            refused[subscription.id] = Refusal(issue, (BY_NAME, BY_HAND))
        else:
            record[subscription.id] = identifier
            if subscription.state == ACTIVE:
                holders[key].add(subscription.reseller_id)
    return IdentifierDecision(record, refused)

"""The locks an open transaction holds (DOMAIN §4), for single entry and batch alike.

A business type says how it locks (`BusinessType.locking`): the person lock (one open
enrolment or suspension per person, across employers) or a declaration key (one open
declaration per key, e.g. person and year). Both are rows with a unique key, inserted in the
database transaction of the save or the import that takes them and deleted with the 退单, the
row deletion or the finish that releases them: the unique key lets the database choose exactly
one winner among concurrent writers, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import connection
from django.utils import timezone

from shebao.workflow.models import DeclarationKey, Item, PersonLock, Transaction
from shebao.workflow.registry import BusinessType, Locking
from shebao.workflow.rules import Issue

if TYPE_CHECKING:
    from django.db.models import Model


@dataclass
class LockRefusal:
    """Why a row cannot be held: the issue, and the holder when it is the same employer's."""

    issue: Issue
    serial: str | None = None
    transaction_id: int | None = None


@dataclass
class Taken:
    """What taking the locks of some rows gave: the refused rows, and the same employer's
    transactions that hold them (serial → id, for the links on the import screen)."""

    refused: dict[int, LockRefusal]
    holders: dict[str, int]


def _keys(business: BusinessType, tx: Transaction, items: Iterable[Item]) -> dict[str, Item]:
    """The key each row would hold, first row first (a duplicate row holds nothing: it fails
    DUPLICATE_IN_FILE on its own)."""
    first: dict[str, Item] = {}
    for item in items:
        key = item_key(business, tx, item)
        if key and key not in first:
            first[key] = item
    return dict(sorted(first.items()))


def item_key(business: BusinessType, tx: Transaction, item: Item) -> str:
    """The key a row holds; a row that names no valid person (no id_key) holds none, unless
    the type's rows name no person at all (its declaration key alone decides)."""
    if not item.id_key and business.person_rows:
        return ""
    if business.locking == Locking.PERSON:
        return item.id_key or ""
    if business.locking == Locking.DECLARATION:
        return business.declaration_key(tx.header or {}, item.data, tx.employer_id) or ""
    return ""


def take(business: BusinessType, tx: Transaction, items: list[Item], *, passing_from: int | None = None) -> Taken:
    """Insert the locks of these rows (INSERT … ON CONFLICT DO NOTHING, in key order: two
    writers that wait on each other's uncommitted keys then wait in the same order, never in
    a cycle) and say which rows lost to another transaction. A key this transaction already
    holds stays held, pointing at the row that names it now (an edited single row).

    `passing_from`: the batch this one replaces. A key it holds is not a refusal: it passes
    to this transaction when the import ends (`transfer`)."""
    first = _keys(business, tx, items)
    if not first:
        return Taken({}, {})
    model: type[Model] = PersonLock if business.locking == Locking.PERSON else DeclarationKey
    key_field = "id_key" if model is PersonLock else "key"
    manager = model._default_manager
    _insert(model, key_field, tx, first)
    lost = (
        manager.filter(**{f"{key_field}__in": list(first)})
        .exclude(transaction=tx)
        .values_list(key_field, "transaction_id", "transaction__serial", "transaction__employer_id")
    )
    holders: dict[str, int] = {}
    by_key: dict[str, LockRefusal] = {}
    for key, holder_id, serial, employer_id in lost:
        if passing_from is not None and holder_id == passing_from:
            continue
        if model is DeclarationKey:
            year = (tx.header or {}).get("year", "")
            by_key[key] = LockRefusal(Issue("DECLARATION_OPEN", "id_number", {"year": year, "serial": serial}))
        elif employer_id == tx.employer_id:
            issue = Issue("LOCKED_HERE", "id_number", {"serial": serial, "tx_id": holder_id})
            by_key[key] = LockRefusal(issue, serial, holder_id)
            holders[serial] = holder_id
        else:
            by_key[key] = LockRefusal(Issue("LOCKED_ELSEWHERE", "id_number"))
    refused = {}
    if by_key:
        for item in items:
            refusal = by_key.get(item_key(business, tx, item))
            if refusal is not None:
                refused[item.pk] = refusal
    return Taken(refused, holders)


def _insert(model: type[Model], key_field: str, tx: Transaction, first: dict[str, Item]) -> None:
    manager = model._default_manager
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(model._meta.db_table)
        column = connection.ops.quote_name(key_field)
        stamped = any(f.name == "created_at" for f in model._meta.concrete_fields)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({column}, transaction_id, item_id{', created_at' if stamped else ''}) "
                f"SELECT k, %s, i{', %s' if stamped else ''} "
                "FROM unnest(%s::varchar[], %s::bigint[]) AS t(k, i) "
                f"ON CONFLICT ({column}) DO NOTHING",
                [tx.pk, *([timezone.now()] if stamped else []), list(first), [item.pk for item in first.values()]],
            )
    else:
        manager.bulk_create(
            [model(**{key_field: key, "transaction": tx, "item": item}) for key, item in first.items()],
            ignore_conflicts=True,
            batch_size=1000,
        )
    # Keys this transaction held already (an edited single row, a resumed import): they point
    # at the row that names them now.
    moved = [
        key
        for key, item_id in manager.filter(transaction=tx, **{f"{key_field}__in": list(first)}).values_list(
            key_field, "item_id"
        )
        if item_id != first[key].pk
    ]
    for key in moved:
        manager.filter(transaction=tx, **{key_field: key}).update(item=first[key])


def transfer(business: BusinessType, old: Transaction, new: Transaction, items: list[Item]) -> int:
    """用新文件替换: the keys the old batch holds that a row of the new one names pass to
    that row (the first row naming it), in the caller's database transaction, so no other
    transaction can take them in between; the old batch's other keys are released. Returns
    how many keys passed. The old batch must be locked by the caller (select_for_update)."""
    first = _keys(business, new, items)
    model: type[Model] = PersonLock if business.locking == Locking.PERSON else DeclarationKey
    key_field = "id_key" if model is PersonLock else "key"
    manager = model._default_manager
    moving = []
    for lock in manager.filter(transaction=old).only("pk", key_field):
        item = first.get(getattr(lock, key_field))
        if item is not None:
            lock.transaction = new  # type: ignore[attr-defined]
            lock.item = item  # type: ignore[attr-defined]
            moving.append(lock)
    if moving:
        manager.bulk_update(moving, ["transaction", "item"], batch_size=1000)
    release(old)
    return len(moving)


def release(tx: Transaction) -> None:
    """Every lock of the transaction (退单, finish, expiry)."""
    PersonLock.objects.filter(transaction=tx).delete()
    DeclarationKey.objects.filter(transaction=tx).delete()


def release_others(business: BusinessType, tx: Transaction, item: Item) -> None:
    """A single row edited to another person (or year): the keys it no longer names go."""
    key = item_key(business, tx, item)
    PersonLock.objects.filter(transaction=tx).exclude(id_key=key).delete()
    DeclarationKey.objects.filter(transaction=tx).exclude(key=key).delete()


def release_rows(tx: Transaction, item_ids: list[int], remaining: dict[str, list[Item]]) -> None:
    """Rows deleted from a batch: a lock they held passes to the next remaining row of the
    same person (`remaining`: id_key → rows in file order), or is released."""
    for lock in PersonLock.objects.filter(transaction=tx, item_id__in=item_ids):
        rest = remaining.get(lock.id_key)
        if rest:
            PersonLock.objects.filter(pk=lock.pk).update(item=rest[0])
        else:
            lock.delete()
    for dkey in DeclarationKey.objects.filter(transaction=tx, item_id__in=item_ids).select_related("item"):
        rest = remaining.get(dkey.item.id_key)
        if rest:
            DeclarationKey.objects.filter(pk=dkey.pk).update(item=rest[0])
        else:
            dkey.delete()

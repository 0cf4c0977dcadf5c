"""deskline's SQLite store: call history and the durable outbox's items.

>>> async with Store(path) as store:
...     await store.record_call(CallRecord("1700000000.42", direction="Inbound", caller_number="+4930123"))
...     calls = await store.history(20, "4930")
"""

from engine.store.db import Store, StoreError
from engine.store.export import Redactor
from engine.store.records import Attempt, CallRecord, HistoryFilter, ItemState, OutboxCounts, WorkItem

__all__ = [
    "Attempt", "CallRecord", "HistoryFilter", "ItemState", "OutboxCounts", "Redactor", "Store", "StoreError",
    "WorkItem",
]

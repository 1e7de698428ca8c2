"""Every component of the service's database, in migration order: the one list `Store.open` is given.

A new table belongs to its feature's store module (`server/<feature>/store.py`: migrations and
row writers); add that module's `COMPONENT` here.
"""

from __future__ import annotations

from assist.server.feedback import store as feedback
from assist.server.packs import store as packs
from assist.server.routing import store as routing
from assist.server.store import CORE, Schema

SCHEMA = Schema((CORE, packs.COMPONENT, routing.COMPONENT, feedback.COMPONENT))

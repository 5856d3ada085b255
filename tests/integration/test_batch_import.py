"""Applying a feed by the batch stores what applying it entry by entry stores, row for
row, on SQLite and PostgreSQL: new orders, cancellations, several versions of one order
in one batch, a rejected entry in the middle, a page delivered twice."""
from __future__ import annotations

import copy
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, text
from sqlalchemy.exc import IntegrityError

import invoicing.models
import shipping.models
from common.db import Database
from common.feed.applying import Applier
from common.feed.client import UnusableDocument
from common.feed.parsing import ParsedEntry
from common.feed.reading import Change
from common.schema import upgrade
from invoicing.importer import import_order as import_invoice
from shipping.importer import import_order as import_shipment
from tests.support.documents import ORDER

NOW = datetime(2026, 11, 22, 10, 20, tzinfo=timezone.utc)
SERVICES = {"invoicing": (invoicing.models, import_invoice), "shipping": (shipping.models, import_shipment)}
EXAMPLES = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def document(order_id: int, version: int, broken: bool = False) -> dict:
    made: dict = copy.deepcopy(ORDER)
    made.update(id=order_id, version=version, status="accepted" if version == 1 else "cancelled")
    made["customer"]["name"] = f"Customer {order_id}"
    made["lines"] = made["lines"][:1 + order_id % 2]
    made["totalPrice"] = "126.00" if order_id % 2 == 0 else "126.30"
    if broken:
        del made["placedAt"]  # does not map: rejected
    return made


# A feed: each step is a change of an order (its next version), a broken document, or
# a document that could not be had (a 404).
STEPS = st.lists(st.tuples(st.integers(1, 6), st.sampled_from(["change", "change", "change", "broken", "gone"])),
                 min_size=1, max_size=20)


def changes_of(steps: list[tuple[int, str]]) -> list[Change]:
    versions: dict[int, int] = {}
    changes = []
    for position, (order_id, kind) in enumerate(steps, start=1):
        versions[order_id] = versions.get(order_id, 0) + (kind == "change")
        version = max(1, versions[order_id])
        entry = ParsedEntry(f"urn:{position}", f"http://order.test/{order_id}/versions/{version}", position, version)
        body = UnusableDocument(f"{entry.content_src} answered HTTP 404: the document is gone.") if kind == "gone" \
            else document(order_id, version, broken=kind == "broken")
        changes.append(Change(entry, body))
    return changes


class Service:
    """A consumer's tables on one database, emptied for each example."""

    def __init__(self, url: str, service: str):
        self.models, self.import_ = SERVICES[service]
        self.db = Database(url)
        upgrade(self.db, self.models.MIGRATIONS)
        self.applier = Applier(self.db, self.models.Tracking, self.models.RejectedEntry, self.import_, lambda: NOW)

    def empty(self) -> None:
        with self.db.session() as session:
            for table in reversed(self.models.Base.metadata.sorted_tables):
                session.execute(delete(table))

    def rows(self) -> dict[str, list[tuple]]:
        """Every row but the numbers the database gives lines, in a stable order."""
        with self.db.session() as session:
            result = {}
            for table in self.models.Base.metadata.sorted_tables:
                numbered = table.autoincrement_column
                columns = [column for column in table.columns if column is not numbered]
                result[table.name] = [tuple(row) for row in session.execute(
                    select(*columns).order_by(*table.primary_key.columns))]
            return result


@pytest.fixture(params=["invoicing", "shipping"])
def services(request, database_url):
    """The same service twice, on two databases of one engine."""
    if database_url.startswith("sqlite"):
        second_url = database_url.replace("test.db", "second.db")
    else:
        second_url = request.getfixturevalue("postgres").create_database(f"{database_url.rsplit('/', 1)[1]}_2")
    made = Service(database_url, request.param), Service(second_url, request.param)
    yield made
    for service in made:
        service.db.dispose()


@EXAMPLES
@given(steps=STEPS, batch=st.integers(2, 12), repeated=st.integers(0, 5))
def test_batch_import_stores_what_entry_by_entry_import_stores(services, steps, batch, repeated):
    by_batch, one_by_one = services
    by_batch.empty()
    one_by_one.empty()
    changes = changes_of(steps)
    # Batches as pages give them, one delivered twice (a cache, a retried request).
    batches = [changes[start:start + batch] for start in range(0, len(changes), batch)]
    twice = repeated % len(batches)
    batches.insert(twice + 1 + repeated % (len(batches) - twice), batches[twice])

    tallies = [by_batch.applier.apply(changes) for changes in batches]
    singles = [one_by_one.applier.apply([change]) for change in changes]

    assert by_batch.rows() == one_by_one.rows()
    assert sum(tally.imported for tally in tallies) == sum(tally.imported for tally in singles)
    assert sum(tally.rejected for tally in tallies) == sum(kind != "change" for _, kind in steps)
    assert by_batch.applier.tracking().position == len(changes)


def test_an_entry_the_database_refuses_is_rejected_and_the_rest_of_its_batch_is_imported(postgres_url):
    service = Service(postgres_url, "invoicing")
    too_long = {**document(2, 1), "customer": {**document(2, 1)["customer"], "name": "W" * 101}}  # String(100)
    changes = [Change(ParsedEntry(f"urn:{n}", f"http://order.test/{n}", n, 1), body)
               for n, body in enumerate([document(1, 1), too_long, document(3, 1)], start=1)]

    tally = service.applier.apply(changes)

    assert (tally.imported, tally.rejected) == (2, 1)
    assert [row[0] for row in service.rows()["invoice"]] == [1, 3]
    [rejected] = service.applier.rejected()
    assert rejected.position == 2 and "the database refused it" in rejected.reason
    assert service.applier.tracking().position == 3
    service.db.dispose()


def test_a_database_that_refuses_every_row_fails_the_batch_and_rejects_nothing(postgres_url):
    service = Service(postgres_url, "invoicing")
    with service.db.engine.begin() as connection:  # no entry is at fault: the poll must fail, not reject
        connection.execute(text("ALTER TABLE invoice ADD CONSTRAINT refused CHECK (id < 0) NOT VALID"))
    changes = [Change(ParsedEntry(f"urn:{n}", f"http://order.test/{n}", n, 1), document(n, 1)) for n in (1, 2)]

    with pytest.raises(IntegrityError):
        service.applier.apply(changes)

    assert service.applier.rejected() == [] and service.applier.tracking().position == 0
    assert service.rows()["invoice"] == []
    service.db.dispose()

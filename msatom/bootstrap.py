"""The composition root: the one module that builds the services' apps, and the only
one that knows them all. Each service's app is built from its settings here: its
database (migrated; the order service's with the outbox's listener), the feed client
and the consumer of a service that follows the order feed, the loop or schedule that
runs its polls, its rebuild, its metrics and the navigation between the services.
Tests build apps here too, from settings of their own; one that needs a consumer
apart from an app builds it with `consumer_for`."""
from __future__ import annotations

from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

from flask import Flask

import account.web
import invoicing.web
import order.web
import shipping.web
from account import models as account_models
from account.passwords import Passwords, hasher
from common import metrics, tracing
from common.auth.guard import check_rules
from common.auth.revoked import SERVICE_ROLE
from common.db import Database
from common.feed import outbox
from common.feed.storing import VersionedImport
from common.feed.copying import Copy
from common.feed.progress import Progress
from common.feed.client import FeedClient
from common.feed.rebuilding import Rebuilder
from common.feed.running import Consumer, Following, PollResult, start_schedule
from common.feed.waiting import LongPoll, Sharing
from common.feed.rendering import LastRendered
from common.parts import parts
from common.poll_words import FeedLabels
from common.schema import upgrade
from common.settings import FeedSource, Settings, SignInService
from common.settings_table import VARIABLES as COMMON_VARIABLES, Variable
from common.web.app import Navigation
from common.web import tracing as web_tracing
from common.web.consumer import install_consumer, install_rebuilder
from invoicing import access as invoicing_access
from invoicing import models as invoicing_models
from invoicing.importer import import_order as invoice_order
from order import models as order_models
from order.access import FEED_READER
from shipping import access as shipping_access
from shipping import models as shipping_models
from shipping.importer import import_order as ship_order

# Every service, in the order a stack starts them: sign-in first, then the feed's
# writer, then its readers.
SERVICES = ("account", "order", "invoicing", "shipping")
CONSUMERS = ("invoicing", "shipping")
# The header of every page: (the path of a service's pages under /, its title).
NAVIGATION: Navigation = (("order", "Orders"), ("invoicing", "Invoices"), ("shipping", "Shipments"))
# The feed the consumers follow, as their environment names it.
ORDER_FEED = FeedSource(
    url=Variable.text("ORDER_FEED_URL", "the feed that invoicing and shipping poll",
                      "`http://127.0.0.1:$PORT/order/feed`"),
    credential=Variable.text(
        "ORDER_CREDENTIAL",
        f"invoicing's and shipping's bearer token for the order documents: a token of a `{FEED_READER}` account "
        "(`msatom user token NAME`). Required by gunicorn",
        "`make run` with `SIGNING_KEY`, `msatom stack`: one they sign themselves"),
    local_path="/order/feed", reader_role=FEED_READER,
    labels=FeedLabels(source="the order service", entries="order changes", title="Order feed", news="new orders"))

# Where everyone signs in: the account service's pages on every site, and the variable
# naming it as each service reaches it.
ACCOUNT_SERVICE = SignInService(
    url=Variable.text("ACCOUNT_URL", "where a service reaches the account service, for its list of revoked tokens",
                      "`http://127.0.0.1:$PORT/account`"),
    credential=Variable.text(
        "ACCOUNT_CREDENTIAL",
        "order's, invoicing's and shipping's bearer token for the account service's list of revoked tokens: a "
        f"token of a `{SERVICE_ROLE}` account (`msatom user token NAME`). Required by gunicorn but the account "
        "service's",
        "`make run` with `SIGNING_KEY`, `msatom stack`: one they sign themselves"),
    path="/account", reader_role=SERVICE_ROLE)
# The service that signs the sign-in tokens, and alone holds their private keys.
SIGNER = "account"

# Every variable of the services' settings, as the README's table of them shows them.
VARIABLES = (*COMMON_VARIABLES, ORDER_FEED.url, ORDER_FEED.credential, ACCOUNT_SERVICE.url,
             ACCOUNT_SERVICE.credential)


def settings_from_env(service: str, environ=None) -> Settings:
    """The settings of `service` from the environment (or `environ`)."""
    return Settings.from_env(service, environ, feed=ORDER_FEED if service in CONSUMERS else None,
                             sign_in=ACCOUNT_SERVICE, signs_tokens=service == SIGNER)


def create_app(service: str, settings: Settings | None = None) -> Flask:
    """The app of `service`, from its settings (the environment's by default), traced
    where the environment names an OpenTelemetry endpoint (common/tracing.py)."""
    tracer = tracing.tracer_for(service)
    app = FACTORIES[service](settings or settings_from_env(service), tracer)
    web_tracing.install(app, tracer)
    return app


def migrated(settings: Settings, migrations: Path) -> Database:
    """The service's database, its schema brought up to date."""
    db = Database(settings.database_url)
    upgrade(db, migrations)
    return db


def create_account(settings: Settings, tracer: Any | None = None) -> Flask:
    db = migrated(settings, account_models.MIGRATIONS)
    passwords = Passwords(hasher(settings.test_password_hashes))  # its turns are this process's
    return check_rules(account.web.create_app(settings, db, NAVIGATION, passwords))


def create_order(settings: Settings, tracer: Any | None = None) -> Flask:
    """The order service, which holds the requests that wait on its feed until an entry commits."""
    db = migrated(settings, order_models.MIGRATIONS)
    outbox.install(db)  # each change appends its feed entry in its own transaction
    app = order.web.create_app(settings, db, NAVIGATION)
    waits = LongPoll(settings.feed_max_waiting, metrics.waiting_gauge(app, settings.feed_max_waiting),
                     Sharing.fair(settings.feed_max_waiting))
    waits.watch(db, order_models.FeedEntry.__table__)
    parts(app).long_poll = waits
    parts(app).subscriptions = LastRendered(variants=(False, True))  # thin, documents inline
    return check_rules(app)


def create_invoicing(settings: Settings, tracer: Any | None = None) -> Flask:
    return _following(invoicing.web.create_app, invoicing_models, invoice_order, invoicing_access.OPERATORS,
                      settings, tracer)


def create_shipping(settings: Settings, tracer: Any | None = None) -> Flask:
    return _following(shipping.web.create_app, shipping_models, ship_order, shipping_access.OPERATORS,
                      settings, tracer)


# Each builds a service's app from its settings and the tracer of its spans (None: not traced).
FACTORIES: dict[str, Callable[[Settings, Any | None], Flask]] = {
    "account": create_account, "order": create_order, "invoicing": create_invoicing, "shipping": create_shipping}


def _following(create_pages: Callable[[Settings, Database, Navigation], Flask], models: ModuleType,
               import_: VersionedImport, operators: tuple[str, ...], settings: Settings,
               tracer: Any | None) -> Flask:
    """A service that follows the order feed: its pages, the consumer that imports
    each entry with `import_` into `models` (its module with MIGRATIONS,
    Tracking, PollStatus, RejectedEntry, Base and Rebuild), what runs its polls, its rebuild
    (both with a span of `tracer`'s for each entry imported); the roles `operators` may
    make it poll, retry and rebuild."""
    client = feed_client(settings)  # settings that name no feed fail before the database is touched
    db = migrated(settings, models.MIGRATIONS)
    app = create_pages(settings, db, NAVIGATION)
    consumer = consumer_for(db, models, import_, client, settings, observe=metrics.poll_observer(app), tracer=tracer)
    install_consumer(app, consumer, operators, _followed(settings).labels)
    install_rebuilder(app, rebuilder_for(db, models, import_, settings, metrics.rebuild_observer(app), tracer),
                      operators)
    _run(app, consumer, settings)
    return check_rules(app)


def consumer_for(db: Database, models: ModuleType, import_: VersionedImport, client: FeedClient,
                 settings: Settings, observe: Callable[[PollResult, float], None] = lambda result, seconds: None,
                 tracer: Any | None = None) -> Consumer:
    """The consumer of a service whose `models` module has Tracking, PollStatus and RejectedEntry."""
    return Consumer(db, models.Tracking, models.PollStatus, models.RejectedEntry, import_, client, settings.clock,
                    observe=observe, embedded=settings.embedded_documents, tracer=tracer)


def rebuilder_for(db: Database, models: ModuleType, import_: VersionedImport, settings: Settings,
                  observe: Callable[[Progress], None], tracer: Any | None = None) -> Rebuilder:
    """The rebuild of a service whose `models` module also has `Base` and `Rebuild`:
    every table but the rebuild's mark and the poll status is copied, every one but the
    tracking record is swapped."""
    kept = (models.Rebuild.__table__, models.PollStatus.__table__)
    tables = [table for table in models.Base.metadata.sorted_tables if table not in kept]
    swapped = [table for table in tables if table is not models.Tracking.__table__]
    return Rebuilder(db, Copy(db, tables, swapped), models.Tracking, models.RejectedEntry, models.Rebuild,
                     import_, feed_client(settings), settings.clock,
                     embedded=settings.embedded_documents, observe=observe, tracer=tracer)


def feed_client(settings: Settings) -> FeedClient:
    """A client of the feed the settings name, that shows the service's credential."""
    if settings.feed_url is None:
        raise ValueError(f"{settings.service} follows a feed, and its settings name none (see settings_from_env)")
    return FeedClient(settings.feed_url, credential=settings.feed_credential,
                      refused=_followed(settings).refused_credential())


def _followed(settings: Settings) -> FeedSource:
    if settings.feed is None:
        raise ValueError(f"{settings.service} follows a feed, and its settings name none (see settings_from_env)")
    return settings.feed


def _run(app: Flask, consumer: Consumer, settings: Settings) -> None:
    """Follow the feed from now on: waiting on it (long-poll) between polls, or polls
    on a schedule; neither with no interval (the polls are asked for)."""
    interval, wait = settings.poll_interval_seconds, settings.poll_wait_seconds
    if interval > 0 and wait > 0:
        parts(app).following = Following(consumer, wait, interval).start()
    elif interval > 0:
        parts(app).schedule = start_schedule(partial(consumer.poll, wait=False), interval)

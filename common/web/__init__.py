"""Web plumbing shared by the services, a module per job: app.py builds an app and
closes it, errors.py answers what went wrong, responses.py answers with pages and
lists, consumer.py gives a service that follows a feed its routes and words. Callers
import from the module that does the job, so that a service that follows no feed
does not import consumer.py."""

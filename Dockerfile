# One image for the three services; docker-compose.yml gives each its command.
# 16 threads a worker: requests held waiting on the order feed (long-poll) take up to
# 12 of them, the others stay for every other request (msatom/gunicorn_conf.py).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=8080 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/msatom-metrics \
    GUNICORN_CMD_ARGS="--config python:msatom.gunicorn_conf --bind 0.0.0.0:8080 --workers 2 --threads 16 --access-logfile - --no-control-socket"

WORKDIR /app
COPY pyproject.toml setup.cfg README.md ./
COPY common ./common
COPY order ./order
COPY invoicing ./invoicing
COPY shipping ./shipping
COPY msatom ./msatom
RUN pip install . && useradd --system --no-create-home --shell /usr/sbin/nologin msatom

USER msatom
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=2)"]
CMD ["gunicorn", "msatom.wsgi:order()"]

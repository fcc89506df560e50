# syntax=docker/dockerfile:1.7
# tocsin's container image (docs/deployment.md).
#
#   docker build -t tocsin:dev .                         # plain
#   docker build --build-arg EXTRAS=otel -t tocsin:dev .  # with OpenTelemetry tracing
#
# Stage "build" turns tocsin and every dependency into wheels, compiling any that has no binary
# wheel for the target platform. Stage "runtime" installs only those wheels on python:slim: no
# compiler, no pip, no curl or wget; it runs as an unprivileged user and writes nothing outside
# the /data volume (and /tmp), so it runs with a read-only root filesystem.
# Expected size: about 240 MB uncompressed (python:3.11-slim about 125 MB, plus about 110 MB of
# installed packages, less pip), about 80 MB compressed. An estimate from the installed sizes of
# the wheels tocsin depends on, not a measured build: see docs/deployment.md.

ARG PYTHON_VERSION=3.11.11
ARG DEBIAN_RELEASE=bookworm

FROM python:${PYTHON_VERSION}-slim-${DEBIAN_RELEASE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
# Compilers live only in this stage. Debian package versions are not pinned: they change with
# every point release of the pinned base image, which pins them in effect.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
ARG EXTRAS=""
RUN pip wheel --wheel-dir /wheels ".${EXTRAS:+[$EXTRAS]}"

FROM python:${PYTHON_VERSION}-slim-${DEBIAN_RELEASE} AS runtime
ARG EXTRAS=""
ARG VERSION=0.0.0+dev
ARG REVISION=unknown
ARG CREATED=unknown
ARG SOURCE_URL=""
LABEL org.opencontainers.image.title="tocsin" \
      org.opencontainers.image.description="Incident-response bot for Slack, Discord, the web, a REST API and the CLI" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE_URL}"

# Install from the build stage's wheels only (no index, nothing compiled here), then remove pip
# itself; create the unprivileged user and the data directory it owns. The versions are pinned
# by the build stage, which made exactly one wheel per package.
# hadolint ignore=DL3013
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links=/wheels "tocsin${EXTRAS:+[$EXTRAS]}" \
    && pip uninstall --yes pip setuptools wheel \
    && groupadd --system --gid 10001 tocsin \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin tocsin \
    && mkdir -p /data /app \
    && chown 10001:10001 /data

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TOCSIN_HOST=0.0.0.0 \
    TOCSIN_PORT=8080 \
    TOCSIN_DATA_DIR=/data \
    TOCSIN_DATABASE_URL=sqlite:////data/tocsin.db

WORKDIR /app
VOLUME ["/data"]
USER 10001:10001
EXPOSE 8080
STOPSIGNAL SIGTERM

# Python itself asks /health (no curl or wget in the image); proxies are bypassed on purpose.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request as u; port = os.environ.get('TOCSIN_PORT', '8080'); opener = u.build_opener(u.ProxyHandler({})); sys.exit(0 if opener.open(f'http://127.0.0.1:{port}/health', timeout=4).status == 200 else 1)"]

CMD ["tocsin", "serve"]

# crossings as a long-running container: `crossings run` (the daemon) by default.
#
#   make image                                   # Docker where it answers, buildah otherwise
#   docker run -v crossings-data:/data -p 8080:8080 crossings
#
# The base is a build argument so that a mirror or a locally made Python image can stand in
# for Docker Hub (see docs/container.md). Any Debian-like image with python3 >= 3.11,
# its venv module and `useradd` works.
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
RUN python3 -m venv /opt/crossings
WORKDIR /src
COPY pyproject.toml README.md ./
COPY core ./core
COPY storage ./storage
COPY series ./series
COPY scrapers ./scrapers
COPY alerts ./alerts
COPY jobs ./jobs
# With Scrapyd, so that the same image can also be a crawl node (compose.yaml, profile
# "scrapyd"; docs/scaling.md).
RUN /opt/crossings/bin/pip install --no-cache-dir ".[scrapyd]"

FROM ${BASE_IMAGE}
# A fixed numeric id (group 0, as OpenShift-style runtimes expect), so that volume
# ownership and `USER` do not depend on names.
RUN useradd --system --uid 10001 --gid 0 --home-dir /data --no-create-home crossings \
 && mkdir -p /data /config \
 && chown 10001:0 /data \
 && chmod 0770 /data
COPY --from=build /opt/crossings /opt/crossings
# The bundled config (real sources), used unless a file is mounted over it. Settings can
# also come from the environment: CROSSINGS_<KEY> overrides [settings] KEY.
RUN /opt/crossings/bin/crossings init /config
ENV PATH="/opt/crossings/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    CROSSINGS_CONFIG=/config/crossings.toml \
    CROSSINGS_DATABASE=/data/crossings.db \
    CROSSINGS_LISTEN=0.0.0.0:8080
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
USER 10001
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python3", "-c", "import os, urllib.request; port = os.environ.get('CROSSINGS_LISTEN', ':8080').rpartition(':')[2]; urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["crossings"]
CMD ["run"]

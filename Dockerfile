# Paperboy: the bot, on the embedded SQLite store kept on the /data volume.
#   docker build -t paperboy .
#   docker run -e PAPERBOY_DISCORD_TOKEN=... -v paperboy-data:/data paperboy
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PAPERBOY_CONFIG=/etc/paperboy/config.toml

WORKDIR /app
# Dependencies from the project's own files; the same install as the README's first command.
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cogs ./cogs
COPY storage ./storage
RUN pip install .

# A non-root user owns the data volume. The image's configuration (store and heartbeat on /data,
# token from $PAPERBOY_DISCORD_TOKEN) is the tracked docker/paperboy.toml; mount your own over
# /etc/paperboy/config.toml to change it. It stays root's: the bot only reads it.
RUN useradd --create-home --uid 10001 paperboy \
    && mkdir -p /data /etc/paperboy \
    && chown paperboy:paperboy /data
COPY docker/paperboy.toml /etc/paperboy/config.toml
# DL3066 wants a numeric USER; this user is created just above with the fixed uid 10001, and the
# name is what the README and tests/test_readme.py document.
# hadolint ignore=DL3066
USER paperboy
VOLUME ["/data"]

HEALTHCHECK --interval=60s --timeout=20s --start-period=120s --retries=3 \
    CMD ["paperboy", "health"]

ENTRYPOINT ["paperboy"]
CMD ["run"]

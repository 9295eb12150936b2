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

# A non-root user owns the data volume; the config is mounted (or the defaults below are used).
RUN useradd --create-home --uid 10001 paperboy \
    && mkdir -p /data /etc/paperboy \
    && chown paperboy:paperboy /data
COPY --chown=paperboy:paperboy docker/config.toml /etc/paperboy/config.toml
USER paperboy
VOLUME ["/data"]

HEALTHCHECK --interval=60s --timeout=20s --start-period=120s --retries=3 \
    CMD ["paperboy", "health"]

ENTRYPOINT ["paperboy"]
CMD ["run"]

# One image for every Reclaim role; the command picks it: api (default), worker, payer.
#   docker build -t reclaim:local .
#   docker run --rm reclaim:local --help
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    RECLAIM_DATA_DIR=/var/lib/reclaim

RUN groupadd --system --gid 10001 reclaim \
 && useradd --system --uid 10001 --gid reclaim --create-home --home-dir /home/reclaim \
        --shell /usr/sbin/nologin reclaim \
 && install -d -o reclaim -g reclaim -m 0750 /var/lib/reclaim

WORKDIR /app

# Dependencies in their own layer, so a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

COPY . .
# Editable, because templates/ and migrations/ live beside the packages, not inside them.
# Bytecode compiled once at build time: Temporal's workflow sandbox re-imports the workflow
# modules for every run, and with PYTHONDONTWRITEBYTECODE nothing would be cached otherwise.
RUN pip install --no-deps -e . \
 && python -m compileall -q reclaim workflows activities api worker.py \
 && reclaim --help > /dev/null

USER reclaim
VOLUME ["/var/lib/reclaim"]
EXPOSE 8000 8001
ENTRYPOINT ["reclaim"]
CMD ["api"]

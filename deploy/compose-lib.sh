# Shared by deploy/deploy.sh and deploy/rollback.sh (sourced, not run).
#
# State, kept in the Compose project directory (COMPOSE_DIR, default: the repository root):
#   .env               TOCSIN_IMAGE=<image now deployed>, with the other settings and secrets
#   .tocsin-releases   one line per deployment: <UTC time> <image> <schema revision> <event>
# Tunables: DEPLOY_HEALTH_TIMEOUT (seconds to wait for healthy and ready, default 180) and
# DEPLOY_POLL_SECONDS (between checks, default 5).

COMPOSE_DIR="${COMPOSE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
ENV_FILE="$COMPOSE_DIR/.env"
RELEASES="$COMPOSE_DIR/.tocsin-releases"
DEPLOY_HEALTH_TIMEOUT="${DEPLOY_HEALTH_TIMEOUT:-180}"
DEPLOY_POLL_SECONDS="${DEPLOY_POLL_SECONDS:-5}"

log() { printf '[tocsin-deploy] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# docker compose on the production files, with TOCSIN_IMAGE set to $1.
compose_with() {
  local image="$1"; shift
  TOCSIN_IMAGE="$image" docker compose --project-directory "$COMPOSE_DIR" \
    -f "$COMPOSE_DIR/docker-compose.base.yml" -f "$COMPOSE_DIR/docker-compose.prod.yml" "$@"
}

# The image the .env file names (empty when none yet).
deployed_image() {
  [ -f "$ENV_FILE" ] || return 0
  sed -n 's/^TOCSIN_IMAGE=//p' "$ENV_FILE" | tail -n 1
}

# Write TOCSIN_IMAGE=$1 into .env, keeping every other line (and the file's mode).
set_deployed_image() {
  local image="$1" tmp
  touch "$ENV_FILE"
  tmp="$(mktemp "$ENV_FILE.XXXXXX")"
  chmod --reference="$ENV_FILE" "$tmp" 2>/dev/null || chmod 600 "$tmp"
  grep -v '^TOCSIN_IMAGE=' "$ENV_FILE" > "$tmp" || true
  printf 'TOCSIN_IMAGE=%s\n' "$image" >> "$tmp"
  mv "$tmp" "$ENV_FILE"
}

record_release() {  # image revision event
  printf '%s %s %s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$1" "$2" "$3" >> "$RELEASES"
}

# The schema revision the database is at, as `tocsin db current` in image $1 reports it.
database_revision() {
  compose_with "$1" run --rm -T --no-deps migrate tocsin db current | awk 'NF { print $1; exit }'
}

# The newest schema revision image $1 knows.
image_head_revision() {
  docker run --rm --entrypoint python "$1" -c \
    'from tocsin.storage.migrate import head_revision; print(head_revision())'
}

# Wait until the tocsin container of image $1 is healthy (/health) and ready (/ready).
wait_until_ready() {
  local image="$1" deadline container status
  deadline=$(( $(date +%s) + DEPLOY_HEALTH_TIMEOUT ))
  while true; do
    container="$(compose_with "$image" ps -q tocsin | head -n 1)"
    status=""
    if [ -n "$container" ]; then
      status="$(docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$container")"
      if [ "$status" = "healthy" ] && compose_with "$image" exec -T tocsin python -c \
        "import os, urllib.request as u; u.build_opener(u.ProxyHandler({})).open('http://127.0.0.1:' + os.environ.get('TOCSIN_PORT', '8080') + '/ready', timeout=4)" \
        >/dev/null 2>&1; then
        return 0
      fi
    fi
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    log "waiting for $image: health ${status:-unknown}"
    sleep "$DEPLOY_POLL_SECONDS"
  done
}

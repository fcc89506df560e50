#!/usr/bin/env bash
# Deploy a pre-built tocsin image with Docker Compose, health-gated, rolling back on failure.
#
#   deploy/deploy.sh registry.example.com/tocsin:1.2.3
#
# Pulls the image, records the schema revision in use, runs the one-shot migration, replaces the
# running container and waits until it is healthy and ready. If it is not within
# DEPLOY_HEALTH_TIMEOUT seconds, deploy/rollback.sh puts the previous image (and schema) back and
# this script exits 1. State is described in deploy/compose-lib.sh.
set -euo pipefail
# shellcheck source=deploy/compose-lib.sh
. "$(dirname "$0")/compose-lib.sh"

[ $# -eq 1 ] || die "usage: $0 IMAGE (for example registry.example.com/tocsin:1.2.3)"
image="$1"
previous="$(deployed_image)"

log "pulling $image"
docker pull "$image" >/dev/null

if [ -n "$previous" ] && [ "$previous" != "$image" ]; then
  before="$(database_revision "$previous" || true)"
  record_release "$previous" "${before:-unknown}" running
fi

log "migrating the database with $image"
set_deployed_image "$image"
if ! compose_with "$image" run --rm -T migrate; then
  log "the migration failed; $image is not started"
  [ -n "$previous" ] && set_deployed_image "$previous"
  exit 1
fi

log "starting $image"
compose_with "$image" up -d --remove-orphans
if wait_until_ready "$image"; then
  record_release "$image" "$(database_revision "$image" || echo unknown)" deployed
  log "deployed $image"
  exit 0
fi

log "$image did not become healthy and ready within ${DEPLOY_HEALTH_TIMEOUT}s; rolling back"
if [ -n "$previous" ] && [ "$previous" != "$image" ]; then
  "$(dirname "$0")/rollback.sh" "$previous" || log "the rollback failed too: see docs/operations.md"
else
  log "no previous image to roll back to"
fi
exit 1

#!/usr/bin/env bash
# Roll a Docker Compose deployment back to the previous image (or the IMAGE given).
#
#   deploy/rollback.sh                                   # the image deployed before this one
#   deploy/rollback.sh registry.example.com/tocsin:1.2.2
#
# Rolling back is setting TOCSIN_IMAGE to the previous tag. A newer image may have migrated the
# schema past what the previous one knows, and tocsin is not ready until the schema is at its
# newest revision; so first, with the current image (which has the downgrade steps), the schema
# is migrated down to the previous image's newest revision. Then TOCSIN_IMAGE is set in .env,
# the containers are replaced and the script waits until tocsin is healthy and ready.
# State is described in deploy/compose-lib.sh; docs/operations.md has the whole procedure.
set -euo pipefail
# shellcheck source=deploy/compose-lib.sh
. "$(dirname "$0")/compose-lib.sh"

current="$(deployed_image)"
[ -n "$current" ] || die "no TOCSIN_IMAGE in $ENV_FILE: nothing is deployed"
target="${1:-}"
if [ -z "$target" ]; then
  [ -f "$RELEASES" ] || die "no $RELEASES to find the previous image in; name the image to run"
  target="$(awk -v now="$current" '$2 != now { image = $2 } END { print image }' "$RELEASES")"
  [ -n "$target" ] || die "no earlier image than $current in $RELEASES; name the image to run"
fi
[ "$target" != "$current" ] || die "$target is already deployed"

log "rolling back from $current to $target"
docker pull "$target" >/dev/null || log "cannot pull $target; trying the local copy"
wanted="$(image_head_revision "$target")"
have="$(database_revision "$current")"
if [ "$have" != "$wanted" ]; then
  log "migrating the schema down from $have to $wanted (with $current)"
  compose_with "$current" run --rm -T migrate tocsin db downgrade "$wanted"
fi

set_deployed_image "$target"
compose_with "$target" up -d --remove-orphans
if ! wait_until_ready "$target"; then
  die "$target did not become healthy and ready within ${DEPLOY_HEALTH_TIMEOUT}s"
fi
record_release "$target" "$wanted" rolled-back
log "rolled back to $target"

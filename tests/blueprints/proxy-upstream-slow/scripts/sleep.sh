#!/bin/bash
# Sleep, then publish the time the install became ready.
set -euo pipefail
ctx logger info "sleeping ${SECONDS_TO_SLEEP}s before the outputs are set"
sleep "${SECONDS_TO_SLEEP}"
ctx instance runtime-properties ready_at "$(date -u +%FT%TZ)"

#!/usr/bin/env bash
# The main job: set up, build, and run the bundled conformance scenarios.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec build/wfpsim run scenarios/ "$@"

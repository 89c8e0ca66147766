#!/usr/bin/env bash
# docs/conformance.md must be current and every registered behavior pinned
# (or waived with a reason): tools/gen_conformance.py --check.
set -euo pipefail
src=$2
exec python3 "$src/tools/gen_conformance.py" --check

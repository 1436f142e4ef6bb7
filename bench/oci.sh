#!/usr/bin/env bash
# bench/oci.sh [ITERATIONS]: import time of a ~30 MB image from a local registry (in a network
# namespace), cold and from the layer cache, against `skopeo copy` and `tar -xzf` of the same
# bytes measured in the same run, with ratios. Root (the namespace); see bench/oci.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
exec node --import tsx bench/oci.ts --iterations "${1:-3}"

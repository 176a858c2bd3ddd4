#!/usr/bin/env bash
# Prints the content hash of a site source (sha256:<hex>): SHA-256 over one
# `sha256sum` line per regular file (path relative to the root, .git/ left out), in byte
# order of the paths. local/site-source.ts computes the same; a test ties the two.
# Usage: packer/site-hash.sh <site directory>
set -euo pipefail
[[ $# -eq 1 && -d "$1" ]] || { echo "usage: $0 <site directory>" >&2; exit 64; }
cd "$1"
printf 'sha256:%s\n' "$(
  find . -name .git -prune -o -type f -print0 \
    | LC_ALL=C sort -z \
    | xargs -0 -r sha256sum \
    | sed 's|  \./|  |' \
    | sha256sum | cut -c1-64
)"

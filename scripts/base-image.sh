#!/usr/bin/env bash
# Makes the Debian base image that every local container (WordPress, MariaDB, HAProxy,
# registry) is built from, for machines that cannot reach Docker Hub: debootstrap a
# minimal root filesystem and `docker import` it. Idempotent: an existing image is kept.
#
# Usage: scripts/base-image.sh [suite] [image-tag]
#   suite      Debian suite to bootstrap (default: trixie)
#   image-tag  resulting image reference (default: stepdeploy/base:<suite>)
# Environment: DEBIAN_MIRROR (default http://deb.debian.org/debian), FORCE=1 to rebuild.
set -euo pipefail

suite="${1:-trixie}"
tag="${2:-stepdeploy/base:${suite}}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

die() { echo "base-image: $*" >&2; exit 1; }

command -v docker >/dev/null 2>&1 \
  || die "docker is not installed. On Debian: apt-get install -y docker.io && dockerd &"
docker info >/dev/null 2>&1 \
  || die "the Docker engine is not reachable (is dockerd running? try: dockerd >/var/log/dockerd.log 2>&1 &)"

if [[ "${FORCE:-0}" != "1" ]] && docker image inspect "$tag" >/dev/null 2>&1; then
  echo "base-image: $tag already present"
  exit 0
fi

# A pull is the fast path where a registry mirror serves Debian's official image.
if docker pull "debian:${suite}-slim" >/dev/null 2>&1; then
  docker tag "debian:${suite}-slim" "$tag"
  echo "base-image: $tag tagged from debian:${suite}-slim"
  exit 0
fi

command -v debootstrap >/dev/null 2>&1 \
  || die "debootstrap is not installed and debian:${suite}-slim cannot be pulled. On Debian: apt-get install -y debootstrap"
[[ $(id -u) -eq 0 ]] || die "debootstrap needs root (run with sudo)"

rootfs=$(mktemp -d /tmp/stepdeploy-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT

echo "base-image: debootstrap ${suite} from ${mirror} (a few minutes)"
debootstrap --variant=minbase --include=ca-certificates "$suite" "$rootfs" "$mirror" >/tmp/stepdeploy-debootstrap.log 2>&1 \
  || die "debootstrap failed; see /tmp/stepdeploy-debootstrap.log"

# Keep the image small and the apt cache out of it, as Debian's docker images do.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
echo "deb ${mirror} ${suite} main" >"$rootfs/etc/apt/sources.list"
cat >"$rootfs/etc/apt/apt.conf.d/90stepdeploy" <<'CONF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Retries "3";
CONF

tar -C "$rootfs" -c . | docker import \
  --change 'CMD ["/bin/bash"]' \
  --change 'ENV LANG=C.UTF-8' \
  --message "stepdeploy base: debootstrap ${suite}" - "$tag" >/dev/null
echo "base-image: $tag imported"

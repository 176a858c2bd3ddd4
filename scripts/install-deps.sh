#!/usr/bin/env bash
# Installs and starts what stepdeploy's local mode and tests need on a Debian machine:
# Docker Engine, Packer, Ansible (+ ansible-lint), debootstrap and Chromium; then makes sure
# dockerd is running. Idempotent; every step says what it does. Elsewhere it names what to
# install instead of guessing.
set -euo pipefail

packages=(docker.io packer ansible-core ansible-lint debootstrap chromium iptables ca-certificates)

log() { echo "install-deps: $*"; }

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

if ((${#missing[@]})); then
  if ! command -v apt-get >/dev/null 2>&1; then
    log "this is not a Debian-family system; install by hand: Docker Engine, Packer, Ansible, debootstrap, Chromium (missing: ${missing[*]})" >&2
    exit 1
  fi
  if [[ $(id -u) -ne 0 ]]; then
    log "missing packages: ${missing[*]}; run this script as root (sudo $0)" >&2
    exit 1
  fi
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  log "starting dockerd (log: /var/log/stepdeploy-dockerd.log)"
  nohup dockerd >/var/log/stepdeploy-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || { log "dockerd did not start; see /var/log/stepdeploy-dockerd.log" >&2; exit 1; }
fi
log "ready: $(docker version --format 'docker {{.Server.Version}}'), $(packer version | head -1), $(ansible --version | head -1)"

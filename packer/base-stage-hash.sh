#!/usr/bin/env bash
# Prints the tag of the base stage image: a hash of everything the base stage is made
# from, so the stage is rebuilt exactly when one of these changes.
# Usage: packer/base-stage-hash.sh <base image identity, e.g. stepdeploy/base:trixie@sha256:...>
set -euo pipefail
[[ $# -eq 1 && -n "$1" ]] || { echo "usage: $0 <base image identity>" >&2; exit 64; }
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
inputs=(
  ansible/playbook.yml
  ansible/ansible.cfg
  ansible/roles/wordpress/tasks/main.yml
  ansible/roles/wordpress/tasks/packages.yml
  ansible/roles/wordpress/vars/main.yml
)
{
  printf 'base-image %s\n' "$1"
  for f in "${inputs[@]}"; do
    printf 'file %s\n' "$f"
    cat "$root/$f"
  done
} | sha256sum | cut -c1-16

# Connection plugin for the image build: runs each Ansible module in the Packer build
# container with `docker exec` and copies files with `docker cp`, instead of through
# Packer's SSH adapter (an SSH server in Packer that forwards every command to docker exec).
# ansible-core ships no docker connection (community.docker does, and Debian's ansible-core
# does not include it), so the image build carries this small one.
from __future__ import annotations

DOCUMENTATION = """
name: stepdeploy_docker
short_description: run tasks in a local Docker container with the docker CLI
description:
  - Runs commands with C(docker exec -i) and copies files with C(docker cp) into the
    container named by C(ansible_host), as root. Used by packer/wordpress.pkr.hcl.
author: stepdeploy
options:
  remote_addr:
    description: The container's name or id (the last variable listed that is set wins).
    vars:
      - name: inventory_hostname
      - name: ansible_host
"""

import subprocess

from ansible.errors import AnsibleConnectionFailure, AnsibleFileNotFound
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.plugins.connection import ConnectionBase


class Connection(ConnectionBase):
    transport = "stepdeploy_docker"
    has_pipelining = True

    def _container(self) -> str:
        return self.get_option("remote_addr")

    def _docker(self, args: list[str], in_data: bytes | None = None) -> tuple[int, bytes, bytes]:
        try:
            proc = subprocess.run(["docker", *args], input=in_data, capture_output=True, check=False)
        except OSError as err:
            raise AnsibleConnectionFailure(f"cannot run the docker command: {err}") from err
        return proc.returncode, proc.stdout, proc.stderr

    def _connect(self):
        if not self._connected:
            code, _, err = self._docker(["container", "inspect", "--format", "{{.State.Running}}", self._container()])
            if code != 0:
                raise AnsibleConnectionFailure(
                    f"build container {self._container()} is not there: {to_text(err).strip()}"
                )
            self._connected = True
        return self

    def exec_command(self, cmd, in_data=None, sudoable=False):
        super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        interactive = ["-i"] if in_data is not None else []
        return self._docker(["exec", *interactive, self._container(), "/bin/sh", "-c", to_text(cmd)], in_data)

    def put_file(self, in_path, out_path):
        super().put_file(in_path, out_path)
        code, _, err = self._docker(["cp", in_path, f"{self._container()}:{out_path}"])
        if code != 0:
            if b"no such file" in err.lower():
                raise AnsibleFileNotFound(f"cannot copy {in_path}: {to_text(err).strip()}")
            raise AnsibleConnectionFailure(f"docker cp to {out_path} failed: {to_text(err).strip()}")

    def fetch_file(self, in_path, out_path):
        super().fetch_file(in_path, out_path)
        code, _, err = self._docker(["cp", f"{self._container()}:{in_path}", out_path])
        if code != 0:
            raise AnsibleConnectionFailure(f"docker cp from {in_path} failed: {to_text(err).strip()}")

    def close(self):
        self._connected = False

# Action plugin for the image build: installs many files, directories and links in one
# round trip. Ansible's template/copy/file modules cost a remote call each (a template two:
# stat, then copy), about half a second apiece through `docker exec`, and the app stage
# installs some thirty paths. This renders every template here on the controller, packs
# the result with owners and modes into one tar archive and unpacks it in the target with
# a single command that reads the archive from stdin.
from __future__ import annotations

DOCUMENTATION = """
name: stepdeploy_files
short_description: install rendered templates, files, directories, links and trees in one call
description:
  - Renders each template on the controller (the role's templates/, like
    M(ansible.builtin.template)), reads each file (the role's files/), copies each tree
    (a controller directory, recursively, with one owner and mode for its directories and
    one for its files, C(.git) left out), and sends them all as one tar archive that the
    target unpacks with C(tar -x) at C(/), owners and modes as given. Paths under
    C(absent) are removed first.
  - Always reports changed (the stage is rebuilt from a fresh base). Returns C(written):
    each installed path with C(source), where it came from.
options:
  files:
    description: Each C(dest) and exactly one of C(template), C(src), C(content); C(mode)
      (octal string), C(owner) and C(group) (names, default root).
    type: list
    elements: dict
    default: []
  directories:
    description: Each C(path), C(mode), C(owner), C(group).
    type: list
    elements: dict
    default: []
  links:
    description: Symbolic links, each C(dest) and C(src) (the link's target, as written).
    type: list
    elements: dict
    default: []
  trees:
    description: Each C(src) (a controller directory; skipped when C(optional) and
      missing), C(dest), C(label) (how C(written) names its files, e.g. C(site/themes)),
      C(dir_mode), C(file_mode), C(owner), C(group).
    type: list
    elements: dict
    default: []
  absent:
    description: Paths removed (recursively) before the archive is unpacked.
    type: list
    elements: str
    default: []
  check:
    description: A bash script run in the target right after the unpack, in the same
      remote call. Its first argument names a file that lists every installed file as
      NUL-separated pairs of path and source (as in C(written)); the file lies in C(/tmp),
      which the script is expected to leave as the image should ship it. Its status,
      stdout and stderr are returned as C(check); a failing check does not fail this
      action (the play decides what each status means).
    type: str
author: stepdeploy
"""

import io
import os
import re
import shlex
import stat
import tarfile
import time

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.plugins.action import ActionBase

_OWNER = {"owner": {"type": "str", "default": "root"}, "group": {"type": "str", "default": "root"}}
_MODE = {"type": "str", "required": True}
ARGUMENT_SPEC = {
    "files": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "dest": {"type": "str", "required": True},
            "template": {"type": "str"},
            "src": {"type": "str"},
            "content": {"type": "raw"},
            "mode": _MODE,
            **_OWNER,
        },
        "mutually_exclusive": [["template", "src", "content"]],
        "required_one_of": [["template", "src", "content"]],
    },
    "directories": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {"path": {"type": "str", "required": True}, "mode": _MODE, **_OWNER},
    },
    "links": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {"dest": {"type": "str", "required": True}, "src": {"type": "str", "required": True}},
    },
    "trees": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "src": {"type": "str", "required": True},
            "dest": {"type": "str", "required": True},
            "label": {"type": "str", "required": True},
            "optional": {"type": "bool", "default": False},
            "dir_mode": _MODE,
            "file_mode": _MODE,
            **_OWNER,
        },
    },
    "absent": {"type": "list", "elements": "str", "default": []},
    "check": {"type": "str"},
}

# Where the check finds the list of installed files: in the archive, so it costs no call.
WRITTEN_LIST = "/tmp/stepdeploy-files.written"
# The unpack's own failures exit below this; the check's status s comes back as this + s.
CHECK_STATUS_BASE = 100

# A name tar, the lint loop and a person can all read: no control characters.
_SAFE_NAME = re.compile(r"^[^\x00-\x1f\x7f]+$")


def parse_mode(value: str, where: str) -> int:
    if not re.fullmatch(r"0?[0-7]{3,4}", value):
        raise AnsibleActionFail(f"{where}: mode must be an octal string such as \"0644\", got {value!r}")
    return int(value, 8)


def archive_name(path: str, where: str) -> str:
    """The member name of an absolute target path: relative to /, normalised."""
    if not path.startswith("/"):
        raise AnsibleActionFail(f"{where}: {path!r} is not an absolute path")
    normal = os.path.normpath(path)
    if normal == "/" or ".." in normal.split("/"):
        raise AnsibleActionFail(f"{where}: {path!r} does not name a path below /")
    return normal.lstrip("/")


class Archive:
    """The tar archive being built, one member per target path."""

    def __init__(self) -> None:
        self.buffer = io.BytesIO()
        self.tar = tarfile.open(fileobj=self.buffer, mode="w", format=tarfile.PAX_FORMAT)
        self.members: dict[str, tuple] = {}
        self.accounts: set[tuple[str, str]] = set()
        self.now = int(time.time())

    def _member(self, path: str, kind: bytes, mode: int, owner: str, group: str, where: str) -> tarfile.TarInfo | None:
        name = archive_name(path, where)
        shape = (kind, mode, owner, group)
        if name in self.members:
            # One directory may be named twice (a tree into a directory declared above).
            if kind == tarfile.DIRTYPE and self.members[name] == shape:
                return None
            raise AnsibleActionFail(f"{where}: {path} is installed twice")
        self.members[name] = shape
        info = tarfile.TarInfo(name)
        info.type = kind
        info.mode = mode
        info.mtime = self.now
        # tar, run as root, gives a member to the account of that name in the target.
        info.uname, info.gname = owner, group
        info.uid = info.gid = 0
        self.accounts.add(("passwd", owner))
        self.accounts.add(("group", group))
        return info

    def add_file(self, path: str, data: bytes, mode: int, owner: str, group: str, where: str) -> None:
        info = self._member(path, tarfile.REGTYPE, mode, owner, group, where)
        info.size = len(data)
        self.tar.addfile(info, io.BytesIO(data))

    def add_directory(self, path: str, mode: int, owner: str, group: str, where: str) -> None:
        info = self._member(path, tarfile.DIRTYPE, mode, owner, group, where)
        if info is not None:
            self.tar.addfile(info)

    def add_link(self, path: str, target: str, where: str) -> None:
        info = self._member(path, tarfile.SYMTYPE, 0o777, "root", "root", where)
        info.linkname = target
        self.tar.addfile(info)

    def required_directories(self) -> list[str]:
        """Directories the members go into that the archive does not create: they must exist
        (as for the template module), so that a wrong path fails instead of appearing."""
        parents = {os.path.dirname(name) for name in self.members}
        created = {name for name, shape in self.members.items() if shape[0] == tarfile.DIRTYPE}
        return sorted(f"/{parent}" for parent in parents - created if parent)

    def close(self) -> bytes:
        self.tar.close()
        return self.buffer.getvalue()


def unpack_command(
    accounts: set[tuple[str, str]], directories: list[str], absent: list[str], check: str | None = None
) -> str:
    """One shell command: check the owners and the target directories exist, remove
    `absent`, unpack stdin at /, then run `check` (its status offset by CHECK_STATUS_BASE,
    so that it cannot pass for an unpack failure)."""
    def fail(message: str, status: int) -> str:
        return f"{{ echo {shlex.quote(f'stepdeploy_files: {message}')} >&2; exit {status}; }}"

    checks = [
        f"getent {database} {shlex.quote(name)} >/dev/null || " + fail(f"no {database} entry {name} in the target", 3)
        for database, name in sorted(accounts)
    ] + [
        f"[ -d {shlex.quote(directory)} ] || " + fail(f"directory {directory} does not exist in the target", 4)
        for directory in directories
    ]
    removal = [f"rm -rf -- {' '.join(shlex.quote(path) for path in absent)}"] if absent else []
    unpack = " && ".join([*checks, *removal, "{ tar -x -p --same-owner -f - -C / || exit 5; }"])
    if check is None:
        return unpack
    # Statuses from 155 up (a signal) come back as 155: the sum must stay a byte.
    run_check = (
        f"{{ /bin/bash -c {shlex.quote(check)} stepdeploy-check {shlex.quote(WRITTEN_LIST)}; "
        f"status=$?; exit $(( {CHECK_STATUS_BASE} + (status < 155 ? status : 155) )); }}"
    )
    return f"{unpack} && {run_check}"


def written_list(written: list[dict[str, str]]) -> bytes:
    """The check's list of installed files: path and source of each, NUL-separated."""
    return b"".join(to_bytes(item["dest"]) + b"\0" + to_bytes(item["source"]) + b"\0" for item in written)


class ActionModule(ActionBase):
    # The archive goes on the command's stdin: no remote temporary directory (which
    # TRANSFERS_FILES would create with a remote call of its own and leave in the image).
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp
        _, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)

        archive = Archive()
        written: list[dict[str, str]] = []
        for index, spec in enumerate(args["directories"]):
            where = f"directories[{index}]"
            archive.add_directory(spec["path"], parse_mode(spec["mode"], where), spec["owner"], spec["group"], where)
        for index, spec in enumerate(args["files"]):
            where = f"files[{index}] ({spec['dest']})"
            data, source = self._file_content(spec, task_vars, where)
            archive.add_file(spec["dest"], data, parse_mode(spec["mode"], where), spec["owner"], spec["group"], where)
            written.append({"dest": spec["dest"], "source": source})
        for index, spec in enumerate(args["links"]):
            archive.add_link(spec["dest"], spec["src"], f"links[{index}]")
        for index, spec in enumerate(args["trees"]):
            written.extend(self._add_tree(archive, spec, f"trees[{index}] ({spec['label']})"))
        check = args["check"]
        if check is not None:
            archive.add_file(WRITTEN_LIST, written_list(written), 0o600, "root", "root", "check")
        payload = archive.close()

        result.update(changed=True, written=written, size=len(payload))
        if self._task.check_mode:
            return result
        command = unpack_command(archive.accounts, archive.required_directories(), args["absent"], check)
        outcome = self._low_level_execute_command(command, in_data=payload)
        status = outcome["rc"]
        if status != 0 and (check is None or status < CHECK_STATUS_BASE):
            detail = to_text(outcome.get("stderr", "")).strip() or to_text(outcome.get("stdout", "")).strip()
            raise AnsibleActionFail(f"unpacking {len(written)} files in the target failed (rc {status}): {detail}")
        if check is not None:
            stdout, stderr = to_text(outcome.get("stdout", "")), to_text(outcome.get("stderr", ""))
            result["check"] = {
                "rc": status - CHECK_STATUS_BASE,
                "stdout": stdout,
                "stdout_lines": stdout.splitlines(),
                "stderr": stderr,
                "stderr_lines": stderr.splitlines(),
            }
        return result

    def _file_content(self, spec: dict, task_vars: dict, where: str) -> tuple[bytes, str]:
        if spec["content"] is not None:
            if not isinstance(spec["content"], str):
                # Ansible turns a template that renders as JSON into data: say so, not repr().
                raise AnsibleActionFail(f"{where}: content must be text; use a template for structured data")
            return to_bytes(spec["content"]), "content"
        if spec["template"] is not None:
            lookup = self._shared_loader_obj.lookup_loader.get(
                "ansible.builtin.template", loader=self._loader, templar=self._templar
            )
            try:
                rendered = lookup.run([spec["template"]], variables=task_vars)[0]
            except Exception as err:
                raise AnsibleActionFail(f"{where}: template {spec['template']}: {to_text(err)}") from err
            return to_bytes(rendered), f"template {spec['template']}"
        try:
            path = self._find_needle("files", spec["src"])
        except Exception as err:
            raise AnsibleActionFail(f"{where}: {to_text(err)}") from err
        with open(path, "rb") as handle:
            return handle.read(), f"file {spec['src']}"

    def _add_tree(self, archive: Archive, spec: dict, where: str) -> list[dict[str, str]]:
        root = spec["src"]
        if not os.path.isdir(root):
            if spec["optional"] and not os.path.lexists(root):
                return []
            raise AnsibleActionFail(f"{where}: {root} is not a directory")
        dir_mode = parse_mode(spec["dir_mode"], where)
        file_mode = parse_mode(spec["file_mode"], where)
        owner, group, dest, label = spec["owner"], spec["group"], spec["dest"], spec["label"]
        archive.add_directory(dest, dir_mode, owner, group, where)
        written = []
        for directory, subdirectories, names in os.walk(root):
            subdirectories[:] = sorted(name for name in subdirectories if name != ".git")
            relative_dir = os.path.relpath(directory, root)
            for name in sorted(subdirectories) + sorted(names):
                relative = os.path.normpath(os.path.join(relative_dir, name))
                if not _SAFE_NAME.match(relative):
                    raise AnsibleActionFail(f"{label}/{relative!r}: file names must not hold control characters")
                source_path = os.path.join(root, relative)
                target = f"{dest}/{relative}"
                status = os.lstat(source_path)
                if stat.S_ISLNK(status.st_mode):
                    archive.add_link(target, os.readlink(source_path), where)
                elif stat.S_ISDIR(status.st_mode):
                    archive.add_directory(target, dir_mode, owner, group, where)
                elif stat.S_ISREG(status.st_mode):
                    with open(source_path, "rb") as handle:
                        archive.add_file(target, handle.read(), file_mode, owner, group, where)
                    written.append({"dest": target, "source": f"{label}/{relative}"})
                else:
                    raise AnsibleActionFail(f"{label}/{relative}: only files, directories and links can ship")
        return written

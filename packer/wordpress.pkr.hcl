# The WordPress image: Docker builder + Ansible provisioner, in two stages so that a
# rebuild only redoes what changed.
#
#   base  stepdeploy/base:trixie + `--tags packages`  -> base_stage_repository:base_stage_tag
#   app   the base stage image   + `--tags app`       -> registry/repository:image_tag (pushed)
#
# Select a stage with -only=docker.base or -only=docker.app. The base stage tag is a hash
# of its inputs (packer/base-stage-hash.sh), so callers build it only when it is missing.
#
# Works with Debian's Packer 1.6.6 (builders built in, no `packer init`) and with a current
# Packer, which loads the docker and ansible plugins installed by
# `packer init packer/plugins` (a separate directory because 1.6.6 rejects required_plugins).

locals {
  ansible_dir = "${path.root}/../ansible"
  # Ansible reaches the build container with `docker exec` (ansible/connection_plugins):
  # Packer's SSH adapter, which it still starts, would add an SSH round trip and a Packer
  # hop to every module the role runs. Extra vars outrank the inventory Packer writes.
  ansible_connection_arguments = [
    "-e", "ansible_connection=stepdeploy_docker",
    "-e", "ansible_host=${var.build_container_name}",
  ]
  # Packer asks `ansible-playbook --version` before it provisions (twice in 1.6.6), each a
  # Python start of ~0.6 s: a third of an app-only build. The answer only picks the
  # inventory's variable names for Ansible 1.x, and the connection and host above are extra
  # vars, which outrank any inventory; a missing ansible-playbook still fails the build.
  ansible_skip_version_check = true
  ansible_env = [
    "ANSIBLE_CONFIG=${path.root}/../ansible/ansible.cfg",
    "ANSIBLE_ROLES_PATH=${path.root}/../ansible/roles",
    "ANSIBLE_CONNECTION_PLUGINS=${path.root}/../ansible/connection_plugins",
    "ANSIBLE_ACTION_PLUGINS=${path.root}/../ansible/action_plugins",
    "ANSIBLE_NOCOLOR=1",
  ]
  image_name = "${var.registry}/${var.repository}"
  # The Docker builder's default run command with the build container's CPU weight added,
  # named, so that the Ansible connection can address it.
  run_command = ["-d", "-i", "-t", "--name", var.build_container_name, "--cpu-shares=${var.build_cpu_shares}", "--entrypoint=/bin/sh", "--", "{{.Image}}"]
  site_dir    = abspath(var.site_dir != "" ? var.site_dir : "${path.root}/../site")
}

source "docker" "base" {
  image       = var.base_image
  pull        = var.pull_base_image
  commit      = true
  run_command = local.run_command
  changes = [
    "LABEL org.opencontainers.image.title=stepdeploy-wordpress-base",
  ]
}

source "docker" "app" {
  image       = "${var.base_stage_repository}:${var.base_stage_tag}"
  pull        = false
  commit      = true
  run_command = local.run_command
  changes = [
    "EXPOSE 8080",
    # The task definition mounts scratch volumes at exactly these paths. Declared here, ECS
    # (Fargate bind mounts) and Docker (fresh volumes) fill them with the image's /tmp
    # (1777) and /run; undeclared, Fargate gives an empty root-owned 0755 directory that
    # uid 33 cannot write. One path per line: the form both Packers pass to docker commit.
    "VOLUME /tmp",
    "VOLUME /run",
    "USER www-data",
    "WORKDIR /usr/share/wordpress",
    "ENTRYPOINT [\"/usr/local/bin/stepdeploy-entrypoint\"]",
    "CMD [\"apache2\", \"-DFOREGROUND\"]",
    "LABEL org.opencontainers.image.title=stepdeploy-wordpress",
    "LABEL org.opencontainers.image.revision=${var.source_revision}",
    "LABEL org.opencontainers.image.base.name=${var.base_stage_repository}:${var.base_stage_tag}",
  ]
}

build {
  sources = ["source.docker.base"]

  provisioner "ansible" {
    playbook_file      = "${local.ansible_dir}/playbook.yml"
    ansible_env_vars   = local.ansible_env
    skip_version_check = local.ansible_skip_version_check
    extra_arguments    = concat(local.ansible_connection_arguments, ["--tags", "packages"])
  }

  post-processor "docker-tag" {
    repository = var.base_stage_repository
    tags       = [var.base_stage_tag]
  }
}

build {
  sources = ["source.docker.app"]

  # The site's code is read where it is, on this machine: the role renders and packs it with
  # the image's own files and installs them with one call (ansible/action_plugins).
  provisioner "ansible" {
    playbook_file      = "${local.ansible_dir}/playbook.yml"
    ansible_env_vars   = local.ansible_env
    skip_version_check = local.ansible_skip_version_check
    extra_arguments = concat(local.ansible_connection_arguments, [
      "--tags", "app",
      "-e", jsonencode({ wordpress_site_source = local.site_dir }),
      "-e", "wordpress_fault_healthz_status=${var.fault_healthz_status}",
      "-e", var.ansible_extra_vars,
    ])
  }

  post-processors {
    post-processor "docker-tag" {
      repository = local.image_name
      tags       = [var.image_tag]
    }
    post-processor "docker-push" {
      ecr_login    = var.ecr_login
      login_server = var.ecr_login ? "https://${var.registry}" : ""
    }
    # Packer 1.6.6 records only the image id here; the pushed digest is read afterwards
    # with `docker inspect --format '{{json .RepoDigests}}'`.
    post-processor "manifest" {
      output     = var.manifest_path
      strip_path = true
      custom_data = {
        image           = "${local.image_name}:${var.image_tag}"
        source_revision = var.source_revision
        base_stage      = "${var.base_stage_repository}:${var.base_stage_tag}"
      }
    }
  }
}

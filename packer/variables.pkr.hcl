# Inputs of the WordPress image build (packer/wordpress.pkr.hcl). Set with -var or a
# .pkrvars.hcl file; local/packer.ts and buildspec/buildspec.yml set them.

variable "base_image" {
  type        = string
  default     = "stepdeploy/base:trixie"
  description = "Debian trixie image the base stage starts from (local: made by scripts/base-image.sh)."
}

variable "pull_base_image" {
  type        = bool
  default     = false
  description = "Pull base_image before the base stage (true in CodeBuild; the local image is never pulled)."
}

variable "base_stage_repository" {
  type        = string
  default     = "stepdeploy/wordpress-base"
  description = "Repository of the base stage image (system packages), tagged with base_stage_tag."
}

variable "base_stage_tag" {
  type        = string
  default     = "latest"
  description = "Tag of the base stage image: the hash printed by packer/base-stage-hash.sh."
}

variable "source_revision" {
  type        = string
  description = "Source revision (commit id) written to the org.opencontainers.image.revision label."
}

variable "registry" {
  type        = string
  default     = "127.0.0.1:5000"
  description = "Registry the app image is pushed to (ECR registry host in CodeBuild)."
}

variable "repository" {
  type        = string
  default     = "stepdeploy/wordpress"
  description = "Repository of the app image inside the registry."
}

variable "image_tag" {
  type        = string
  description = "Tag of the pushed app image (unique per build)."
}

variable "ecr_login" {
  type        = bool
  default     = false
  description = "Log in to ECR before pushing (CodeBuild)."
}

variable "fault_healthz_status" {
  type        = number
  default     = 200
  description = "HTTP status of /healthz; 500 builds a deliberately bad release for tests."
}

variable "ansible_extra_vars" {
  type        = string
  default     = "{}"
  description = "JSON object of further Ansible extra vars for the app stage."
}

variable "manifest_path" {
  type        = string
  default     = "packer-manifest.json"
  description = "Where the manifest post-processor writes the build record."
}

variable "site_dir" {
  type        = string
  default     = ""
  description = "Directory of the site's own code (themes/, plugins/, mu-plugins/, site.yml); empty: the repository's site/. In CodeBuild, the pushed source."
}

variable "build_cpu_shares" {
  type        = number
  default     = 1024
  description = "CPU weight (docker --cpu-shares) of the build container. Local builds pass 2: they share the machine with the tasks serving the site, which CodeBuild never does."
}

variable "build_container_name" {
  type        = string
  default     = "stepdeploy-image-build"
  description = "Name of the build container, the host the Ansible connection (ansible/connection_plugins/stepdeploy_docker.py) runs the role in. Local builds pass a name of their own, so that two builds never share one."
}

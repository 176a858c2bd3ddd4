# Plugin constraints for a current Packer (CodeBuild): `packer init packer/plugins` installs them
# into the plugin directory, where `packer build packer/` finds them. Kept out of packer/
# itself because Debian's Packer 1.6.6 does not accept `required_plugins`.
packer {
  required_version = ">= 1.11.0"
  required_plugins {
    docker = {
      source  = "github.com/hashicorp/docker"
      version = "~> 1.1"
    }
    ansible = {
      source  = "github.com/hashicorp/ansible"
      version = "~> 1.1"
    }
  }
}

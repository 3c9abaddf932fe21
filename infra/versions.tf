# Providers pinned exactly; `terraform init` writes .terraform.lock.hcl with their checksums
# (commit it). State lives in a GCS bucket, never in the repository (see README.md).
terraform {
  required_version = ">= 1.5.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "6.38.0"
    }
  }

  # Partial configuration: `terraform init -backend-config="bucket=<project>-tfstate"`.
  backend "gcs" {
    prefix = "gpu-fleet"
  }
}

provider "google" {
  project = local.project
  # Bill API calls to the fleet project, not to the caller's ADC quota project.
  user_project_override = true
  billing_project       = local.project
}

# GitHub Actions without keys: Workload Identity Federation trusts GitHub's OIDC tokens for this
# repository only, and each workflow gets the narrowest identity that does its job (iam.tf grants).
# https://github.com/google-github-actions/auth#workload-identity-federation-through-a-service-account
locals {
  github_enabled = local.github_repository != null
  # The protected GitHub environment infra.yml applies in (required reviewers, main branch only).
  infra_environment = "infra"
  infra_identities = local.github_enabled ? {
    plan  = { name = "gpu-fleet-infra-plan", title = "gpu-fleet infra plan (read-only)" }
    apply = { name = "gpu-fleet-infra-apply", title = "gpu-fleet infra apply" }
  } : {}
}

resource "google_iam_workload_identity_pool" "github" {
  count                     = local.github_enabled ? 1 : 0
  workload_identity_pool_id = local.wif_pool
  display_name              = "GitHub Actions"
  description               = "gpu-fleet workflows of ${local.github_repository}"
  depends_on                = [google_project_service.apis]
}

resource "google_iam_workload_identity_pool_provider" "github" {
  count                              = local.github_enabled ? 1 : 0
  workload_identity_pool_id          = google_iam_workload_identity_pool.github[0].workload_identity_pool_id
  workload_identity_pool_provider_id = local.wif_provider
  display_name                       = "GitHub OIDC"
  attribute_mapping = {
    "google.subject"                = "assertion.sub"
    "attribute.repository_id"       = "assertion.repository_id"
    "attribute.repository_owner_id" = "assertion.repository_owner_id"
    "attribute.job_workflow_ref"    = "assertion.job_workflow_ref"
    "attribute.environment"         = "assertion.environment"
  }
  # Tokens of any other repository are rejected before any binding is looked at. By numeric ids, not
  # names: "If you delete your GitHub repository or GitHub organization, someone could claim that
  # same name and establish an identity" (google-github-actions/auth docs/SECURITY_CONSIDERATIONS.md).
  attribute_condition = "assertion.repository_owner_id == '${local.github_repository_owner_id}' && assertion.repository_id == '${local.github_repository_id}'"
  oidc {
    issuer_uri = "https://token.actions.githubusercontent.com"
  }
}

locals {
  wif_principals = local.github_enabled ? "principalSet://iam.googleapis.com/${google_iam_workload_identity_pool.github[0].name}" : null
}

# infra.yml plans pull requests with a read-only identity any workflow run of this repository may
# use, and applies only inside the protected environment with the identity that can change things.
resource "google_service_account" "infra" {
  for_each     = local.infra_identities
  account_id   = each.value.name
  display_name = each.value.title
  depends_on   = [terraform_data.apis_settled]
}

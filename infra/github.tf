# GitHub Actions without keys: Workload Identity Federation trusts GitHub's OIDC tokens for this
# repository only, and each workflow gets the narrowest identity that does its job.
# https://github.com/google-github-actions/auth#workload-identity-federation-through-a-service-account
locals {
  github_enabled = local.github_repository != null
  # The protected GitHub environment infra.yml applies in (required reviewers, main branch only).
  infra_environment = "infra"

  infra_plan_roles = toset([
    "roles/viewer",               # read every resource to diff it
    "roles/iam.securityReviewer", # read IAM policies
    "roles/gkehub.gatewayReader", # nothing more in the clusters
  ])
  infra_apply_roles = toset([
    "roles/artifactregistry.admin",
    "roles/compute.loadBalancerAdmin", # managed SSL certificates
    "roles/compute.networkAdmin",      # the global address
    "roles/container.admin",           # clusters, and the git-creds Secret through Connect Gateway
    "roles/gkehub.admin",              # memberships and features
    "roles/gkehub.gatewayEditor",
    "roles/iam.serviceAccountAdmin",
    "roles/iam.serviceAccountUser", # clusters run as the default compute service account
    "roles/iam.workloadIdentityPoolAdmin",
    "roles/resourcemanager.projectIamAdmin", # the *_iam_member grants in this folder
    "roles/serviceusage.serviceUsageAdmin",
    "roles/storage.admin", # the model bucket's IAM grant
  ])
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
    "google.subject"             = "assertion.sub"
    "attribute.repository"       = "assertion.repository"
    "attribute.job_workflow_ref" = "assertion.job_workflow_ref"
    "attribute.environment"      = "assertion.environment"
  }
  # Tokens of any other repository are rejected before any binding is looked at.
  attribute_condition = "assertion.repository == \"${local.github_repository}\""
  oidc {
    issuer_uri = "https://token.actions.githubusercontent.com"
  }
}

locals {
  wif_principals = local.github_enabled ? "principalSet://iam.googleapis.com/${google_iam_workload_identity_pool.github[0].name}" : null
}

# sweep.yml on the synced branch acts as the scout; no other workflow or branch can.
resource "google_service_account_iam_member" "scout_github" {
  count              = local.github_enabled ? 1 : 0
  service_account_id = google_service_account.scout.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "${local.wif_principals}/attribute.job_workflow_ref/${local.github_repository}/.github/workflows/sweep.yml@refs/heads/${local.sync_branch}"
}

# infra.yml plans on pull requests with a read-only identity...
resource "google_service_account" "infra_plan" {
  count        = local.github_enabled ? 1 : 0
  account_id   = "gpu-fleet-infra-plan"
  display_name = "gpu-fleet infra plan (read-only)"
}

resource "google_project_iam_member" "infra_plan" {
  for_each = local.github_enabled ? local.infra_plan_roles : toset([])
  project  = local.project
  role     = each.key
  member   = "serviceAccount:${google_service_account.infra_plan[0].email}"
}

resource "google_service_account_iam_member" "infra_plan_github" {
  count              = local.github_enabled ? 1 : 0
  service_account_id = google_service_account.infra_plan[0].name
  role               = "roles/iam.workloadIdentityUser"
  member             = "${local.wif_principals}/attribute.repository/${local.github_repository}"
}

# ...and applies on main only inside the protected environment.
resource "google_service_account" "infra_apply" {
  count        = local.github_enabled ? 1 : 0
  account_id   = "gpu-fleet-infra-apply"
  display_name = "gpu-fleet infra apply"
}

resource "google_project_iam_member" "infra_apply" {
  for_each = local.github_enabled ? local.infra_apply_roles : toset([])
  project  = local.project
  role     = each.key
  member   = "serviceAccount:${google_service_account.infra_apply[0].email}"
}

resource "google_service_account_iam_member" "infra_apply_github" {
  count              = local.github_enabled ? 1 : 0
  service_account_id = google_service_account.infra_apply[0].name
  role               = "roles/iam.workloadIdentityUser"
  member             = "${local.wif_principals}/attribute.environment/${local.infra_environment}"
}

# State: plan reads it (and takes the lock), apply writes it.
resource "google_storage_bucket_iam_member" "state" {
  for_each = local.github_enabled ? {
    plan  = google_service_account.infra_plan[0].email
    apply = google_service_account.infra_apply[0].email
  } : {}
  bucket = var.state_bucket
  role   = "roles/storage.objectUser"
  member = "serviceAccount:${each.value}"
}

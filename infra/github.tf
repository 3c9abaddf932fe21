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

# infra.yml plans pull requests with a read-only identity any workflow run of this repository may
# use, and applies only inside the protected environment with the identity that can change things.
locals {
  infra_identities = local.github_enabled ? {
    plan  = { name = "gpu-fleet-infra-plan", title = "gpu-fleet infra plan (read-only)", roles = local.infra_plan_roles, who = "attribute.repository/${local.github_repository}" }
    apply = { name = "gpu-fleet-infra-apply", title = "gpu-fleet infra apply", roles = local.infra_apply_roles, who = "attribute.environment/${local.infra_environment}" }
  } : {}
  infra_grants = merge({}, [for id, i in local.infra_identities : { for role in i.roles : "${id} ${role}" => { id = id, role = role } }]...)
}

resource "google_service_account" "infra" {
  for_each     = local.infra_identities
  account_id   = each.value.name
  display_name = each.value.title
}

resource "google_project_iam_member" "infra" {
  for_each = local.infra_grants
  project  = local.project
  role     = each.value.role
  member   = "serviceAccount:${google_service_account.infra[each.value.id].email}"
}

resource "google_service_account_iam_member" "infra_github" {
  for_each           = local.infra_identities
  service_account_id = google_service_account.infra[each.key].name
  role               = "roles/iam.workloadIdentityUser"
  member             = "${local.wif_principals}/${each.value.who}"
}

# State: plan reads it (and takes the lock), apply writes it.
resource "google_storage_bucket_iam_member" "state" {
  for_each = google_service_account.infra
  bucket   = var.state_bucket
  role     = "roles/storage.objectUser"
  member   = "serviceAccount:${each.value.email}"
}

# Identities and every IAM grant, as data. Least privilege, additive only: every grant is an
# *_iam_member, which adds one member to one role and never removes anyone else (no *_iam_binding
# or *_iam_policy here, on purpose). infra/README.md's table lists exactly `local.grants`
# (tools/infra/infra.spec.ts keeps them equal).

# --- Service accounts ------------------------------------------------------------------------------
# Created only once the IAM API is settled (apis.tf: apis_settled).

# region-scout: one Google identity for every runner (the CronJob through Workload Identity, GitHub
# Actions through Workload Identity Federation, a person impersonating it).
resource "google_service_account" "scout" {
  account_id   = local.scout_gsa_id
  display_name = "region-scout"
  description  = "gpu-fleet region-scout: reads GPU capacity and fleet state, runs GPU probes, proposes placements"
  depends_on   = [terraform_data.apis_settled]
}

# The nodes Autopilot creates run as this account instead of the Compute Engine default one, which
# organisations created since 2024-05-03 leave without roles
# (https://cloud.google.com/kubernetes-engine/docs/how-to/service-accounts#default-gke-service-agent,
# https://cloud.google.com/resource-manager/docs/secure-by-default-organizations).
resource "google_service_account" "nodes" {
  account_id   = "gpu-fleet-nodes"
  display_name = "gpu-fleet GKE nodes"
  description  = "Node service account of every gpu-fleet Autopilot cluster: logging, monitoring, image pulls"
  depends_on   = [terraform_data.apis_settled]
}

# Cloud Build runs the region-scout image build as this account (apps/region-scout/cloudbuild.yaml):
# new projects no longer have a Cloud Build account with rights of its own
# (https://cloud.google.com/build/docs/cloud-build-service-account-updates).
resource "google_service_account" "build" {
  account_id   = "gpu-fleet-build"
  display_name = "gpu-fleet image builds"
  description  = "Cloud Build: builds and pushes the gpu-fleet images to Artifact Registry"
  depends_on   = [terraform_data.apis_settled]
}

# Config Sync's reconciler acts as this account, for configSync.auth gcpserviceaccount only
# (Secure Source Manager); token and githubapp use the git-creds Secret, none needs nothing.
resource "google_service_account" "config_sync" {
  count        = local.sync_auth == "gcpserviceaccount" ? 1 : 0
  account_id   = "config-sync"
  display_name = "Config Sync (gpu-fleet)"
  depends_on   = [terraform_data.apis_settled]
}

# KEDA's operator reads the load and the load balancer's request counts from Managed Service for
# Prometheus as this account (autoscaling.enabled or gpu.provisioning hedged): Workload Identity for its KSA keda/keda-operator,
# as KEDA documents for Google Managed Prometheus (https://keda.sh/docs/2.20/scalers/prometheus/,
# https://keda.sh/docs/2.20/authentication-providers/gcp-workload-identity/). The rendered KEDA
# RootSync names it (libs/fleet-spec kedaServiceAccount: keda-operator@<project>).
resource "google_service_account" "keda" {
  count        = local.keda_enabled ? 1 : 0
  account_id   = "keda-operator"
  display_name = "KEDA operator (gpu-fleet autoscaling)"
  description  = "Reads the WebUI load and load balancer request counts (Cloud Monitoring) to scale regions with demand"
  depends_on   = [terraform_data.apis_settled]
}

# --- Who gets what ----------------------------------------------------------------------------------
locals {
  members = {
    scout = "serviceAccount:${google_service_account.scout.email}"
    nodes = "serviceAccount:${google_service_account.nodes.email}"
    build = "serviceAccount:${google_service_account.build.email}"
    # The Multi Cluster Ingress service agent programs the load balancer and reads every member cluster:
    # https://cloud.google.com/kubernetes-engine/docs/how-to/multi-cluster-ingress-setup#specifying_a_config_cluster
    mci_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-multiclusteringress.iam.gserviceaccount.com"
    # The WebUI pods: the Google service account of the spec, or else the Kubernetes
    # ServiceAccount principal itself (https://cloud.google.com/kubernetes-engine/docs/how-to/workload-identity#authenticate_to).
    webui = (local.app_gsa != null
      ? "serviceAccount:${local.app_gsa}"
      : "principal://iam.googleapis.com/projects/${data.google_project.this.number}/locations/global/workloadIdentityPools/${local.workload_pool}/subject/ns/${local.app_namespace}/sa/${local.app_name}"
    )
    # The CronJob's Kubernetes ServiceAccount (fleet-config/config-cluster/region-scout.yaml).
    scout_cronjob          = "serviceAccount:${local.workload_pool}[${local.scout_namespace}/region-scout]"
    config_sync            = try("serviceAccount:${google_service_account.config_sync[0].email}", null)
    config_sync_reconciler = "serviceAccount:${local.workload_pool}[config-management-system/root-reconciler]"
    keda                   = try("serviceAccount:${google_service_account.keda[0].email}", null)
    keda_operator          = "serviceAccount:${local.workload_pool}[keda/keda-operator]"
    sweep_workflow         = local.github_enabled ? "${local.wif_principals}/attribute.job_workflow_ref/${local.github_repository}/.github/workflows/sweep.yml@refs/heads/${local.sync_branch}" : null
    infra_plan             = try("serviceAccount:${google_service_account.infra["plan"].email}", null)
    infra_apply            = try("serviceAccount:${google_service_account.infra["apply"].email}", null)
    infra_plan_github      = local.github_enabled ? "${local.wif_principals}/attribute.repository_id/${local.github_repository_id}" : null
    infra_apply_github     = local.github_enabled ? "${local.wif_principals}/attribute.environment/${local.infra_environment}" : null
  }

  # Every grant: who (a key of local.members), which role, on what, and why. `on` is project, iap
  # (the project's IAP-secured web resources), repository (the Artifact Registry repository),
  # bucket:models, bucket:state, or sa:<account> (one service account).
  grants = [
    # region-scout, one role per API call it makes
    { who = "scout", role = "roles/compute.viewer", on = "project", why = "acceleratorTypes.aggregatedList (GPU catalog), regions.list (GPU quotas), globalAddresses.get" },
    { who = "scout", role = "roles/container.clusterViewer", on = "project", why = "projects.locations.clusters.list" },
    { who = "scout", role = "roles/gkehub.viewer", on = "project", why = "memberships.list, features.get (configmanagement: Config Sync state per membership)" },
    { who = "scout", role = "roles/gkehub.gatewayEditor", on = "project", why = "the Kubernetes API of every cluster through Connect Gateway; what it may do there is the rendered RBAC (app pods and events, probe Jobs, its evidence ConfigMap)" },
    { who = "scout", role = "roles/monitoring.metricWriter", on = "project", why = "write the sweep's time series (custom.googleapis.com/gpu_fleet/*, docs/operate.md)" },
    { who = "scout", role = "roles/storage.objectUser", on = "bucket:evidence", why = "read and write the evidence object (scout.evidenceStore kind gcs; overwriting an object needs create and delete)", when = local.evidence_bucket != null },
    { who = "scout_cronjob", role = "roles/iam.workloadIdentityUser", on = "sa:scout", why = "the CronJob in the config cluster runs as region-scout (Workload Identity)" },
    { who = "sweep_workflow", role = "roles/iam.workloadIdentityUser", on = "sa:scout", why = "sweep.yml on the synced branch runs as region-scout (Workload Identity Federation); no other workflow or branch can", when = local.github_enabled },
    # the nodes
    { who = "nodes", role = "roles/container.defaultNodeServiceAccount", on = "project", why = "the minimum a GKE node needs: logs, metrics, its own registration" },
    { who = "nodes", role = "roles/artifactregistry.reader", on = "repository", why = "pull the WebUI and region-scout images" },
    # image builds
    { who = "build", role = "roles/artifactregistry.writer", on = "repository", why = "push the images it builds" },
    { who = "build", role = "roles/logging.logWriter", on = "project", why = "write build logs to Cloud Logging (a build with its own service account cannot use the default logs bucket)" },
    { who = "build", role = "roles/storage.objectViewer", on = "bucket:build_source", why = "read the source gcloud builds submit uploads there (--gcs-source-staging-dir): a build reads its source as its own service account" },
    # serving
    { who = "mci_agent", role = "roles/container.admin", on = "project", why = "Multi Cluster Ingress programs the load balancer and reads every member cluster" },
    { who = "webui", role = "roles/storage.objectViewer", on = "bucket:models", why = "the WebUI pods read the checkpoints (Cloud Storage FUSE, read-only)", when = local.model_bucket != null },
    # Config Sync reading Secure Source Manager
    { who = "config_sync", role = "roles/securesourcemanager.instanceAccessor", on = "project", why = "reach the Secure Source Manager instance", when = local.sync_auth == "gcpserviceaccount" },
    { who = "config_sync", role = "roles/securesourcemanager.repoReader", on = "project", why = "read the repository", when = local.sync_auth == "gcpserviceaccount" },
    { who = "config_sync_reconciler", role = "roles/iam.workloadIdentityUser", on = "sa:config_sync", why = "Config Sync's root reconciler runs as config-sync", when = local.sync_auth == "gcpserviceaccount" },
    # demand-driven scaling (autoscaling.enabled) and the hedge (gpu.provisioning hedged): KEDA reads Managed Service for Prometheus
    { who = "keda", role = "roles/monitoring.viewer", on = "project", why = "KEDA's prometheus scaler queries the WebUI load, the Spot replicas ready and the load balancer's request_count through Managed Service for Prometheus", when = local.keda_enabled },
    { who = "keda_operator", role = "roles/iam.workloadIdentityUser", on = "sa:keda", why = "the KEDA operator (KSA keda/keda-operator, installed by Config Sync) runs as keda-operator", when = local.keda_enabled },
    # infra.yml: plans with a read-only identity any same-repository workflow run may use
    { who = "infra_plan", role = "roles/viewer", on = "project", why = "read every resource to diff it", when = local.github_enabled },
    { who = "infra_plan", role = "roles/iam.securityReviewer", on = "project", why = "read IAM policies", when = local.github_enabled },
    { who = "infra_plan", role = "roles/serviceusage.serviceUsageConsumer", on = "project", why = "serviceusage.services.use: the provider bills calls to the fleet project (user_project_override)", when = local.github_enabled },
    { who = "infra_plan", role = "roles/storage.objectViewer", on = "bucket:state", why = "read the Terraform state; plans run with -lock=false, so they never write it", when = local.github_enabled },
    { who = "infra_plan_github", role = "roles/iam.workloadIdentityUser", on = "sa:infra_plan", why = "infra.yml runs of this repository (by numeric id) plan as gpu-fleet-infra-plan", when = local.github_enabled },
    # infra.yml: applies only inside the protected environment "infra"
    { who = "infra_apply", role = "roles/artifactregistry.admin", on = "repository", why = "the image repository and its IAM", when = local.github_enabled },
    { who = "infra_apply", role = "roles/compute.loadBalancerAdmin", on = "project", why = "the Google-managed SSL certificate", when = local.github_enabled },
    { who = "infra_apply", role = "roles/compute.networkAdmin", on = "project", why = "the global address and the health-check firewall rule", when = local.github_enabled },
    { who = "infra_apply", role = "roles/compute.securityAdmin", on = "project", why = "firewall rules", when = local.github_enabled },
    { who = "infra_apply", role = "roles/container.admin", on = "project", why = "clusters, and the git-creds Secret through Connect Gateway", when = local.github_enabled },
    { who = "infra_apply", role = "roles/gkehub.admin", on = "project", why = "memberships and features", when = local.github_enabled },
    { who = "infra_apply", role = "roles/gkehub.gatewayEditor", on = "project", why = "write the git-creds Secret in every cluster", when = local.github_enabled },
    { who = "infra_apply", role = "roles/iam.serviceAccountCreator", on = "project", why = "create the service accounts above (not admin on every account of the project: with setIamPolicy on all of them it could make itself token creator on any)", when = local.github_enabled },
    { who = "infra_apply", role = "roles/iam.serviceAccountAdmin", on = "sa:scout", why = "update region-scout and its IAM", when = local.github_enabled },
    { who = "infra_apply", role = "roles/iam.serviceAccountAdmin", on = "sa:nodes", why = "update gpu-fleet-nodes and its IAM", when = local.github_enabled },
    { who = "infra_apply", role = "roles/iam.serviceAccountAdmin", on = "sa:build", why = "update gpu-fleet-build and its IAM", when = local.github_enabled },
    { who = "infra_apply", role = "roles/iam.serviceAccountAdmin", on = "sa:config_sync", why = "update config-sync and its IAM", when = local.github_enabled && local.sync_auth == "gcpserviceaccount" },
    { who = "infra_apply", role = "roles/iam.serviceAccountAdmin", on = "sa:keda", why = "update keda-operator and its IAM", when = local.github_enabled && local.keda_enabled },
    { who = "infra_apply", role = "roles/iam.serviceAccountAdmin", on = "sa:infra_plan", why = "update gpu-fleet-infra-plan and its IAM", when = local.github_enabled },
    { who = "infra_apply", role = "roles/iam.serviceAccountAdmin", on = "sa:infra_apply", why = "update gpu-fleet-infra-apply and its IAM", when = local.github_enabled },
    { who = "infra_apply", role = "roles/iam.serviceAccountUser", on = "sa:nodes", why = "create clusters whose nodes run as gpu-fleet-nodes", when = local.github_enabled },
    { who = "infra_apply", role = "roles/iam.workloadIdentityPoolViewer", on = "project", why = "read the GitHub Workload Identity Federation pool and provider to refresh them; changing them stays with a project owner (the bootstrap apply)", when = local.github_enabled },
    { who = "infra_apply", role = "roles/iap.admin", on = "project", why = "grant the IAP-secured Web App User role to ingress.iap.members", when = local.github_enabled },
    # Predefined roles per Cloud Monitoring resource (https://cloud.google.com/iam/docs/roles-permissions/monitoring), not monitoring.editor: monitoring.tf manages policies, channels and one dashboard, nothing else.
    { who = "infra_apply", role = "roles/monitoring.alertPolicyEditor", on = "project", why = "the alert policies (monitoring.tf, monitoring.alerts)", when = local.github_enabled && local.monitoring_alerts },
    { who = "infra_apply", role = "roles/monitoring.notificationChannelEditor", on = "project", why = "the email notification channels of monitoring.notificationChannels", when = local.github_enabled && local.monitoring_alerts },
    { who = "infra_apply", role = "roles/monitoring.dashboardEditor", on = "project", why = "the fleet dashboard (monitoring.tf, monitoring.dashboard)", when = local.github_enabled && local.monitoring_board },
    { who = "infra_apply", role = "roles/serviceusage.serviceUsageAdmin", on = "project", why = "enable the APIs in apis.tf", when = local.github_enabled },
    { who = "infra_apply", role = "roles/storage.admin", on = "bucket:models", why = "the model bucket and its IAM", when = local.github_enabled && local.model_bucket != null },
    { who = "infra_apply", role = "roles/storage.admin", on = "bucket:build_source", why = "the build source bucket and its IAM", when = local.github_enabled },
    { who = "infra_apply", role = "roles/storage.admin", on = "bucket:evidence", why = "the evidence bucket and its IAM", when = local.github_enabled && local.evidence_bucket != null },
    { who = "infra_apply", role = "roles/storage.objectUser", on = "bucket:state", why = "read and write the Terraform state and its lock", when = local.github_enabled },
    { who = "infra_apply", role = "roles/storage.legacyBucketOwner", on = "bucket:state", why = "refresh and change the grants on the state bucket (storage.buckets.getIamPolicy and setIamPolicy, which objectUser lacks: it does not give permission to get or set ACLs or IAM policies); a legacy role, granted on this bucket only", when = local.github_enabled },
    { who = "infra_apply_github", role = "roles/iam.workloadIdentityUser", on = "sa:infra_apply", why = "only jobs in the protected environment infra apply as gpu-fleet-infra-apply", when = local.github_enabled },
  ]
  active_grants = { for g in local.grants : "${g.who} ${g.role} ${g.on}" => g if try(g.when, true) }

  # The only roles the apply identity may grant or revoke on the project: the project roles above
  # (but never Project IAM Admin itself), through an IAM condition on its Project IAM Admin grant:
  # https://cloud.google.com/iam/docs/setting-limits-on-granting-roles
  grantable_roles = sort(distinct([for g in local.grants : g.role if g.on == "project"]))
}

resource "google_project_iam_member" "grants" {
  for_each = { for k, g in local.active_grants : k => g if g.on == "project" && !contains(["nodes", "mci_agent"], g.who) }
  project  = local.project
  role     = each.value.role
  member   = local.members[each.value.who]
}

# The node account's project roles, separate so the clusters wait for these and nothing else.
resource "google_project_iam_member" "nodes" {
  for_each = { for k, g in local.active_grants : k => g if g.on == "project" && g.who == "nodes" }
  project  = local.project
  role     = each.value.role
  member   = local.members[each.value.who]
}

# The Multi Cluster Ingress service agent's grant comes after the feature, as in Google's setup
# ("gcloud container fleet ingress enable", then the roles/container.admin grant to
# service-PROJECT_NUMBER@gcp-sa-multiclusteringress: https://cloud.google.com/kubernetes-engine/docs/how-to/multi-cluster-ingress-setup),
# and nothing else waits for it: the clusters, memberships and feature come first.
resource "google_project_iam_member" "mci_agent" {
  for_each   = { for k, g in local.active_grants : k => g if g.on == "project" && g.who == "mci_agent" }
  project    = local.project
  role       = each.value.role
  member     = local.members[each.value.who]
  depends_on = [google_gke_hub_feature.multiclusteringress]
}

resource "google_artifact_registry_repository_iam_member" "grants" {
  for_each   = { for k, g in local.active_grants : k => g if g.on == "repository" }
  location   = google_artifact_registry_repository.images.location
  repository = google_artifact_registry_repository.images.name
  role       = each.value.role
  member     = local.members[each.value.who]
}

# The buckets by name: the model bucket is created here (storage.tf); the state bucket precedes
# Terraform (it holds its state). Grants on the model bucket reference the resource, so they wait
# for it; the WebUI's principal:// member also needs the Workload Identity pool, which exists only
# once a cluster does ("Identity Pool does not exist" otherwise).
resource "google_storage_bucket_iam_member" "grants" {
  for_each = { for k, g in local.active_grants : k => g if startswith(g.on, "bucket:") }
  bucket = {
    "bucket:models"       = try(google_storage_bucket.models[0].name, null)
    "bucket:build_source" = google_storage_bucket.build_source.name
    "bucket:evidence"     = try(google_storage_bucket.evidence[0].name, null)
    "bucket:state"        = var.state_bucket
  }[each.value.on]
  role       = each.value.role
  member     = local.members[each.value.who]
  depends_on = [google_container_cluster.fleet]
}

# Grants on one service account. Members of the form <project>.svc.id.goog[...] name the
# Workload Identity pool, which Google creates with the first cluster that has Workload Identity
# (every Autopilot cluster does): granting before it exists fails with "Identity Pool does not
# exist", hence the dependency on the clusters.
resource "google_service_account_iam_member" "grants" {
  for_each = { for k, g in local.active_grants : k => g if startswith(g.on, "sa:") }
  service_account_id = {
    scout       = google_service_account.scout.name
    nodes       = google_service_account.nodes.name
    build       = google_service_account.build.name
    config_sync = try(google_service_account.config_sync[0].name, null)
    keda        = try(google_service_account.keda[0].name, null)
    infra_plan  = try(google_service_account.infra["plan"].name, null)
    infra_apply = try(google_service_account.infra["apply"].name, null)
  }[trimprefix(each.value.on, "sa:")]
  role       = each.value.role
  member     = local.members[each.value.who]
  depends_on = [google_container_cluster.fleet]
}

# The apply identity administers project IAM only for the roles above: an IAM condition on
# iam.googleapis.com/modifiedGrantsByRole (https://cloud.google.com/iam/docs/setting-limits-on-granting-roles).
# Project IAM Admin itself is not grantable, so it cannot lift its own limit.
resource "google_project_iam_member" "apply_iam_admin" {
  count   = local.github_enabled ? 1 : 0
  project = local.project
  role    = "roles/resourcemanager.projectIamAdmin"
  member  = local.members["infra_apply"]
  condition {
    title       = "gpu-fleet grantable roles only"
    description = "The infra apply identity may grant and revoke only the project roles infra/ manages."
    expression  = "api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', []).hasOnly(${jsonencode(local.grantable_roles)})"
  }
}

# Who may open the app: IAP admits only principals holding the IAP-secured Web App User role. The
# grant is on the project's IAP-secured web resources (google_iap_web_iam_member) rather than on one
# backend service, because the Multi Cluster Ingress controller creates and names the backend
# service itself (Terraform cannot know the name); a project-level grant "applies to all
# IAP-secured resources in the project" (https://cloud.google.com/iap/docs/managing-access).
resource "google_iap_web_iam_member" "users" {
  for_each   = local.iap_enabled ? toset(local.iap_members) : toset([])
  project    = local.project
  role       = "roles/iap.httpsResourceAccessor"
  member     = each.value
  depends_on = [google_project_service.apis]
}

# Addresses of the grants before they became data (one resource per scope), so an existing fleet's
# state follows the move instead of destroying and recreating each grant.
moved {
  from = google_project_iam_member.scout["roles/compute.viewer"]
  to   = google_project_iam_member.grants["scout roles/compute.viewer project"]
}
moved {
  from = google_project_iam_member.scout["roles/container.clusterViewer"]
  to   = google_project_iam_member.grants["scout roles/container.clusterViewer project"]
}
moved {
  from = google_project_iam_member.scout["roles/gkehub.viewer"]
  to   = google_project_iam_member.grants["scout roles/gkehub.viewer project"]
}
moved {
  from = google_project_iam_member.scout["roles/gkehub.gatewayEditor"]
  to   = google_project_iam_member.grants["scout roles/gkehub.gatewayEditor project"]
}
moved {
  from = google_service_account_iam_member.scout_cronjob
  to   = google_service_account_iam_member.grants["scout_cronjob roles/iam.workloadIdentityUser sa:scout"]
}
moved {
  from = google_project_iam_member.grants["mci_agent roles/container.admin project"]
  to   = google_project_iam_member.mci_agent["mci_agent roles/container.admin project"]
}
moved {
  from = google_project_iam_member.grants["nodes roles/container.defaultNodeServiceAccount project"]
  to   = google_project_iam_member.nodes["nodes roles/container.defaultNodeServiceAccount project"]
}
moved {
  from = google_storage_bucket_iam_member.models[0]
  to   = google_storage_bucket_iam_member.grants["webui roles/storage.objectViewer bucket:models"]
}
moved {
  from = google_service_account_iam_member.scout_github[0]
  to   = google_service_account_iam_member.grants["sweep_workflow roles/iam.workloadIdentityUser sa:scout"]
}
moved {
  from = google_project_iam_member.infra["plan roles/viewer"]
  to   = google_project_iam_member.grants["infra_plan roles/viewer project"]
}
moved {
  from = google_project_iam_member.infra["plan roles/iam.securityReviewer"]
  to   = google_project_iam_member.grants["infra_plan roles/iam.securityReviewer project"]
}

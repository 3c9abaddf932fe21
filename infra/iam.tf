# Identities, least privilege, additive only: every grant is an *_iam_member, which adds one member
# to one role and never removes anyone else (no *_iam_binding or *_iam_policy here, on purpose).

# --- region-scout ---------------------------------------------------------------------------------
# One Google identity for every runner (the CronJob through Workload Identity, GitHub Actions through
# Workload Identity Federation, a person impersonating it). Roles, per API call the scout makes:
locals {
  scout_roles = {
    # acceleratorTypes.aggregatedList (GPU catalog), regions.list (GPU quotas), globalAddresses.get
    "roles/compute.viewer" = "GPU catalog, regional quotas, the static IP"
    # projects.locations.clusters.list (which clusters exist, their status and location)
    "roles/container.clusterViewer" = "clusters and their state"
    # memberships.list, features.get (configmanagement: Config Sync state per membership)
    "roles/gkehub.viewer" = "fleet memberships and Config Sync state"
    # Kubernetes API of every cluster through Connect Gateway (what it may do there is limited by
    # the rendered RBAC: read app pods and events, probe Jobs in the probe namespace, the evidence ConfigMap)
    "roles/gkehub.gatewayEditor" = "Kubernetes through Connect Gateway"
  }
}

resource "google_service_account" "scout" {
  account_id   = local.scout_gsa_id
  display_name = "region-scout"
  description  = "gpu-fleet region-scout: reads GPU capacity and fleet state, runs GPU probes, proposes placements"
  depends_on   = [google_project_service.apis]
}

resource "google_project_iam_member" "scout" {
  for_each = local.scout_roles
  project  = local.project
  role     = each.key
  member   = "serviceAccount:${google_service_account.scout.email}"
}

# The CronJob's Kubernetes ServiceAccount (rendered into fleet-config/config-cluster/) acts as the
# scout: https://cloud.google.com/kubernetes-engine/docs/how-to/workload-identity
resource "google_service_account_iam_member" "scout_cronjob" {
  service_account_id = google_service_account.scout.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${local.workload_pool}[${local.scout_namespace}/region-scout]"
  depends_on         = [google_container_cluster.fleet]
}

# --- Multi Cluster Ingress -----------------------------------------------------------------------
# The MCI service agent programs the load balancer and reads every member cluster:
# https://cloud.google.com/kubernetes-engine/docs/how-to/multi-cluster-ingress-setup#specifying_a_config_cluster
resource "google_project_iam_member" "mci_agent" {
  project    = local.project
  role       = "roles/container.admin"
  member     = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-multiclusteringress.iam.gserviceaccount.com"
  depends_on = [google_gke_hub_feature.multiclusteringress]
}

# --- the WebUI pods --------------------------------------------------------------------------------
# Read-only access to the model bucket for the pods' identity: the Google service account of the
# spec, or else the Kubernetes ServiceAccount principal itself (no service account needed):
# https://cloud.google.com/kubernetes-engine/docs/how-to/workload-identity#authenticate_to
resource "google_storage_bucket_iam_member" "models" {
  count  = local.model_bucket == null ? 0 : 1
  bucket = local.model_bucket
  role   = "roles/storage.objectViewer"
  member = (local.app_gsa != null
    ? "serviceAccount:${local.app_gsa}"
    : "principal://iam.googleapis.com/projects/${data.google_project.this.number}/locations/global/workloadIdentityPools/${local.workload_pool}/subject/ns/${local.app_namespace}/sa/${local.app_name}"
  )
}

# --- Config Sync reading the repository ------------------------------------------------------------
# Only for configSync.auth gcpserviceaccount (Secure Source Manager): Config Sync's reconciler acts as
# this account. token / githubapp use the git-creds Secret; none needs nothing.
resource "google_service_account" "config_sync" {
  count        = local.sync_auth == "gcpserviceaccount" ? 1 : 0
  account_id   = "config-sync"
  display_name = "Config Sync (gpu-fleet)"
}

resource "google_project_iam_member" "config_sync" {
  for_each = local.sync_auth == "gcpserviceaccount" ? toset(["roles/securesourcemanager.instanceAccessor", "roles/securesourcemanager.repoReader"]) : toset([])
  project  = local.project
  role     = each.key
  member   = "serviceAccount:${google_service_account.config_sync[0].email}"
}

resource "google_service_account_iam_member" "config_sync" {
  count              = local.sync_auth == "gcpserviceaccount" ? 1 : 0
  service_account_id = google_service_account.config_sync[0].name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${local.workload_pool}[config-management-system/root-reconciler]"
}

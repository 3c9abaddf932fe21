# Fleet: one membership per cluster (same name as the cluster: the scout, the MultiClusterService
# links and Config Sync's cluster name all rely on it), the configmanagement feature with each
# membership syncing its own folder, and Multi Cluster Ingress with the config cluster as config
# membership. Memberships here are global; the scout also finds regional ones (Autopilot clusters
# registered at creation) and reaches each on its location's Connect Gateway host.

resource "google_gke_hub_membership" "fleet" {
  for_each      = google_container_cluster.fleet
  membership_id = each.key
  location      = "global"
  endpoint {
    gke_cluster {
      resource_link = "//container.googleapis.com/${each.value.id}"
    }
  }
}

resource "google_gke_hub_feature" "configmanagement" {
  name       = "configmanagement"
  location   = "global"
  depends_on = [google_project_service.apis]
}

resource "google_gke_hub_feature" "multiclusteringress" {
  name     = "multiclusteringress"
  location = "global"
  spec {
    multiclusteringress {
      config_membership = google_gke_hub_membership.fleet[local.config_cluster_name].id
    }
  }
}

locals {
  # Config Sync's Git auth, as the spec chooses: https://cloud.google.com/kubernetes-engine/enterprise/config-sync/docs/how-to/installing-config-sync#git-creds-secret
  # token / githubapp read the Secret git-creds in config-management-system (created by the infra
  # workflow, see README.md); none is a public repository; gcpserviceaccount uses Workload Identity.
  secret_type = local.sync_auth
  git_sa      = local.sync_auth == "gcpserviceaccount" ? google_service_account.config_sync[0].email : null

  # Folder each membership syncs: clusters/<name> for a GPU cluster, fleet-config/config-cluster for the config cluster.
  sync_dirs = merge(
    { for name, _ in local.clusters : name => join("/", compact([local.sync_dir, "clusters", name])) },
    { (local.config_cluster_name) = join("/", compact([local.sync_dir, "fleet-config", "config-cluster"])) },
  )
}

resource "google_gke_hub_feature_membership" "config_sync" {
  for_each   = local.sync_dirs
  location   = "global"
  feature    = google_gke_hub_feature.configmanagement.name
  membership = google_gke_hub_membership.fleet[each.key].membership_id

  configmanagement {
    # Google upgrades Config Sync; no version to pin and forget.
    management = "MANAGEMENT_AUTOMATIC"
    config_sync {
      enabled       = true
      source_format = "unstructured"
      git {
        sync_repo   = local.sync_repo
        sync_branch = local.sync_branch
        policy_dir  = each.value
        # Config Sync's default poll period (15 s): https://cloud.google.com/kubernetes-engine/enterprise/config-sync/docs/reference/rootsync-reposync-fields
        sync_wait_secs            = "15"
        secret_type               = local.secret_type
        gcp_service_account_email = local.git_sa
      }
    }
  }
}

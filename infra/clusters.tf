# The GKE Autopilot clusters: the config cluster (bootstrap) and one per spec cluster.
# Autopilot always runs Workload Identity (pool <project>.svc.id.goog) and is always enrolled in a
# release channel: https://cloud.google.com/kubernetes-engine/docs/concepts/autopilot-overview
# GPUs need no node pools: the rendered ComputeClass asks Autopilot for them per pod.

resource "google_container_cluster" "config" {
  name                = local.config_cluster_name
  location            = local.config_cluster_region
  enable_autopilot    = true
  deletion_protection = local.deletion_protection

  release_channel {
    channel = local.release_channel
  }
  workload_identity_config {
    workload_pool = local.workload_pool
  }

  depends_on = [google_project_service.apis]
}

resource "google_container_cluster" "gpu" {
  for_each = local.clusters

  name                = each.key
  location            = each.value.region
  enable_autopilot    = true
  deletion_protection = local.deletion_protection

  release_channel {
    channel = local.release_channel
  }
  workload_identity_config {
    workload_pool = local.workload_pool
  }
  resource_labels = {
    "gpu-fleet-cluster" = each.key
  }

  depends_on = [google_project_service.apis]
}

# The GKE Autopilot clusters: the config cluster (no GPUs; bootstrap) and one per spec cluster,
# all alike. Autopilot always runs Workload Identity (pool <project>.svc.id.goog) and is always
# enrolled in a release channel: https://cloud.google.com/kubernetes-engine/docs/concepts/autopilot-overview
# GPUs need no node pools: the rendered ComputeClass asks Autopilot for them per pod.
locals {
  all_clusters = merge(
    { for name, c in local.clusters : name => { region = c.region, role = "gpu" } },
    { (local.config_cluster_name) = { region = local.config_cluster_region, role = "config" } },
  )
}

resource "google_container_cluster" "fleet" {
  for_each = local.all_clusters

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
    "gpu-fleet-role" = each.value.role
  }
  # The nodes Autopilot creates run as gpu-fleet-nodes (roles/container.defaultNodeServiceAccount,
  # Artifact Registry reader), not as the Compute Engine default account: "The Google Cloud Platform
  # Service Account to be used by the node VMs created by GKE Autopilot or NAP"
  # (https://registry.terraform.io/providers/hashicorp/google/latest/docs/resources/container_cluster).
  cluster_autoscaling {
    auto_provisioning_defaults {
      service_account = google_service_account.nodes.email
    }
  }

  # The node account has its roles before the first node exists.
  depends_on = [google_project_service.apis, google_project_iam_member.grants]
}

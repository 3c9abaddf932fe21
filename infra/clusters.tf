# The GKE Autopilot clusters: the config cluster (no GPUs; bootstrap) and one per spec cluster,
# all alike. Autopilot always runs Workload Identity (pool <project>.svc.id.goog) and is always
# enrolled in a release channel: https://cloud.google.com/kubernetes-engine/docs/concepts/autopilot-overview
# GPUs need no node pools: the rendered ComputeClass asks Autopilot for them per pod.
locals {
  # Deletion protection per cluster: Terraform reads it from the state when it deletes, so turning
  # it off and removing the cluster in one apply fails ("Deleting this cluster via terraform destroy
  # or terraform apply will only succeed if this field is false in the Terraform state",
  # https://registry.terraform.io/providers/hashicorp/google/latest/docs/resources/container_cluster#deletion_protection).
  # One cluster's clusters[].deletionProtection: false is applied first, its removal second.
  all_clusters = merge(
    { for name, c in local.clusters : name => { region = c.region, role = "gpu", deletion_protection = try(c.deletionProtection, local.deletion_protection) } },
    { (local.config_cluster_name) = { region = local.config_cluster_region, role = "config", deletion_protection = local.deletion_protection } },
  )
}

resource "google_container_cluster" "fleet" {
  for_each = local.all_clusters

  name                = each.key
  location            = each.value.region
  enable_autopilot    = true
  deletion_protection = each.value.deletion_protection

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

  # The node account has its roles before the first node exists; the clusters wait for nothing else
  # (the Multi Cluster Ingress agent's grant comes after the feature, iam.tf).
  depends_on = [google_project_service.apis, google_project_iam_member.nodes]
}

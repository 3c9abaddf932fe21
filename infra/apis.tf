# APIs the fleet needs, enabled once per project. Destroying this configuration leaves them on
# (other things in the project may use them).
locals {
  apis = toset([
    "anthosconfigmanagement.googleapis.com", # Config Sync through the fleet configmanagement feature
    "artifactregistry.googleapis.com",       # the WebUI and region-scout images
    "cloudbuild.googleapis.com",             # building those images (apps/region-scout/cloudbuild.yaml)
    "cloudresourcemanager.googleapis.com",
    "compute.googleapis.com",        # GPU catalog, quotas, static IP, certificates
    "connectgateway.googleapis.com", # the scout reaches every cluster's API through Connect Gateway
    # Listed with connectgateway, gkehub and cloudresourcemanager by "Setting up the Connect gateway"
    # (https://cloud.google.com/kubernetes-engine/enterprise/multicluster-management/gateway/setup).
    # GKE clusters on Google Cloud run no Connect Agent, but the guide does not exempt them: enabled.
    # (anthos.googleapis.com, in older versions of that list, is the paid GKE Enterprise API: not enabled.)
    "gkeconnect.googleapis.com",
    "container.googleapis.com",
    "dns.googleapis.com",    # multi-cluster Services
    "gkehub.googleapis.com", # fleet memberships and features
    "iam.googleapis.com",
    "iamcredentials.googleapis.com", # Workload Identity Federation token exchange
    "iap.googleapis.com",
    "monitoring.googleapis.com", # Managed Service for Prometheus: the load KEDA scales on (autoscaling), node metrics
    "multiclusteringress.googleapis.com",
    "multiclusterservicediscovery.googleapis.com",
    "serviceusage.googleapis.com", # the provider bills every call to this project (user_project_override)
    "storage.googleapis.com",      # the model bucket
    "sts.googleapis.com",
    "trafficdirector.googleapis.com", # required by Multi Cluster Ingress
  ])
}

resource "google_project_service" "apis" {
  for_each           = local.apis
  service            = each.key
  disable_on_destroy = false
}

# Enabling an API is eventually consistent: google_project_service waits for the operation and for
# the service to be listed, yet "service activation is not guaranteed by the time the
# google_project_service resource is done provisioning", and creating a service account at once
# fails with "Identity and Access Management (IAM) API has not been used in project … or it is
# disabled". The provider's guide: "A common way to deal with eventual consistency with Terraform is
# to implement a sleep in between resources"
# (https://registry.terraform.io/providers/hashicorp/google/latest/docs/guides/google_project_service).
# Every service account waits for this; it sleeps only when the APIs change.
resource "terraform_data" "apis_settled" {
  triggers_replace = sort(tolist(local.apis))
  provisioner "local-exec" {
    command = "sleep 60"
  }
  depends_on = [google_project_service.apis]
}

data "google_project" "this" {
  depends_on = [google_project_service.apis]
}

# APIs the fleet needs, enabled once per project. Destroying this configuration leaves them on
# (other things in the project may use them).
locals {
  apis = toset([
    "anthosconfigmanagement.googleapis.com", # Config Sync through the fleet configmanagement feature
    "artifactregistry.googleapis.com",       # the region-scout image
    "cloudresourcemanager.googleapis.com",
    "compute.googleapis.com",        # GPU catalog, quotas, static IP, certificates
    "connectgateway.googleapis.com", # the scout reaches every cluster's API through Connect Gateway
    "container.googleapis.com",
    "dns.googleapis.com",    # multi-cluster Services
    "gkehub.googleapis.com", # fleet memberships and features
    "iam.googleapis.com",
    "iamcredentials.googleapis.com", # Workload Identity Federation token exchange
    "iap.googleapis.com",
    "multiclusteringress.googleapis.com",
    "multiclusterservicediscovery.googleapis.com",
    "sts.googleapis.com",
    "trafficdirector.googleapis.com", # required by Multi Cluster Ingress
  ])
}

resource "google_project_service" "apis" {
  for_each           = local.apis
  service            = each.key
  disable_on_destroy = false
}

data "google_project" "this" {
  depends_on = [google_project_service.apis]
}

# The global entry point: a reserved anycast address (HTTPS and a stable DNS record need one) and,
# when the spec asks, a Google-managed certificate for its domains. MultiClusterIngress takes the
# address itself, so after apply `region-scout pin --static-ip-address` writes it into the spec.
# ManagedCertificate objects do not work with MultiClusterIngress; a Compute certificate attached
# as a pre-shared certificate does: https://cloud.google.com/kubernetes-engine/docs/how-to/multi-cluster-ingress#https_support

resource "google_compute_global_address" "ingress" {
  count      = local.static_ip_disabled ? 0 : 1
  name       = local.static_ip_name
  ip_version = "IPV4"
  depends_on = [google_project_service.apis]
}

resource "google_compute_managed_ssl_certificate" "ingress" {
  count = local.managed_cert_name == null ? 0 : 1
  name  = local.managed_cert_name
  managed {
    domains = local.domains
  }
  depends_on = [google_project_service.apis]
}

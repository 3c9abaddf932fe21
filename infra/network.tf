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

# A managed certificate cannot change its domains (every field forces a new one) and cannot be
# deleted while a target proxy uses it ("resourceInUseByAnotherResource"): the name changes with the
# domains and the new certificate is created before the old one goes — the provider's documented
# recreation pattern (https://registry.terraform.io/providers/hashicorp/google/latest/docs/resources/compute_managed_ssl_certificate,
# "Managed Ssl Certificate Recreation"). The renderer writes the same name into the
# MultiClusterIngress (libs/fleet-spec managedCertificateName; tools/infra/infra.spec.ts checks both).
resource "google_compute_managed_ssl_certificate" "ingress" {
  count = local.managed_cert_name == null ? 0 : 1
  name  = "${local.managed_cert_name}-${substr(sha256(join(",", local.domains)), 0, 8)}"
  managed {
    domains = local.domains
  }
  lifecycle {
    create_before_destroy = true
  }
  depends_on = [google_project_service.apis]
}

# The load balancer health-checks each pod's ready gate on its own port (app.probes.readiness.port):
# BackendConfig.healthCheck.port makes the check use that fixed port on every endpoint
# (kubernetes/ingress-gce pkg/translator/healthchecks.go: USE_FIXED_PORT), a port the Service does
# not list. Health checks come from Google's documented ranges 35.191.0.0/16 and 130.211.0.0/22
# (https://cloud.google.com/load-balancing/docs/health-check-concepts#ip-ranges); this rule lets
# them reach that one port on the clusters' network (Autopilot clusters use the default network here).
locals {
  ready_gate_mode = try(local.spec.app.probes.readiness.mode, "generation")
  ready_gate_port = try(local.spec.app.probes.readiness.port, 7861)
}

resource "google_compute_firewall" "ready_gate_health_checks" {
  count = local.ready_gate_mode == "generation" ? 1 : 0

  name          = "${local.app_name}-ready-gate-health-checks"
  network       = "default"
  direction     = "INGRESS"
  source_ranges = ["35.191.0.0/16", "130.211.0.0/22"]

  allow {
    protocol = "tcp"
    ports    = [tostring(local.ready_gate_port)]
  }

  depends_on = [google_project_service.apis]
}

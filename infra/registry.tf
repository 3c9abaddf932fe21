# Artifact Registry for the images the fleet runs: the WebUI (app.image) and region-scout
# (scout.image), both built by Cloud Build as gpu-fleet-build (docs/runbook.md) and pulled by the
# nodes as gpu-fleet-nodes (grants in iam.tf).
resource "google_artifact_registry_repository" "images" {
  location      = local.registry_location
  repository_id = local.registry_repository
  format        = "DOCKER"
  description   = "gpu-fleet: the WebUI and region-scout images"
  depends_on    = [google_project_service.apis]
}

moved {
  from = google_artifact_registry_repository.scout
  to   = google_artifact_registry_repository.images
}

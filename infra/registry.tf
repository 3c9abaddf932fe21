# Artifact Registry for the region-scout image (apps/region-scout/Dockerfile).
resource "google_artifact_registry_repository" "scout" {
  location      = local.registry_location
  repository_id = local.registry_repository
  format        = "DOCKER"
  description   = "gpu-fleet: the region-scout image"
  depends_on    = [google_project_service.apis]
}

# Autopilot nodes pull with the Compute Engine default service account unless told otherwise.
resource "google_artifact_registry_repository_iam_member" "nodes_pull" {
  location   = google_artifact_registry_repository.scout.location
  repository = google_artifact_registry_repository.scout.name
  role       = "roles/artifactregistry.reader"
  member     = "serviceAccount:${data.google_project.this.number}-compute@developer.gserviceaccount.com"
}

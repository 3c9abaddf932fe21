# The model bucket (app.modelStorage.bucket): the WebUI pods mount it read-only with the Cloud
# Storage FUSE CSI driver. Created here so its grants (iam.tf) follow it; a grant on a bucket that
# does not exist yet fails with "Error 404: The specified bucket does not exist."
resource "google_storage_bucket" "models" {
  count                       = local.model_bucket == null ? 0 : 1
  name                        = local.model_bucket
  location                    = local.model_bucket_location
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  # Checkpoints are large and replaced rarely; keeping old versions would only cost storage.
  versioning {
    enabled = false
  }
  depends_on = [google_project_service.apis]
}

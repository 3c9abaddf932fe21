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

# Where `gcloud builds submit` uploads the source of the image builds (docs/runbook.md step 8,
# --gcs-source-staging-dir): a build that runs as its own service account reads its source as that
# account, and gpu-fleet-build has read access here and on no other bucket (iam.tf). Without it the
# source goes to gs://<project>_cloudbuild, which gpu-fleet-build cannot read
# (https://cloud.google.com/sdk/gcloud/reference/builds/submit#--gcs-source-staging-dir).
resource "google_storage_bucket" "build_source" {
  name                        = "${local.project}-build-source"
  location                    = local.model_bucket_location
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  # Uploaded sources are only needed while their build runs.
  lifecycle_rule {
    condition {
      age = 7
    }
    action {
      type = "Delete"
    }
  }
  depends_on = [google_project_service.apis]
}

# The evidence ledger both runners share, when scout.evidenceStore is kind gcs: one object written
# with ifGenerationMatch preconditions. Versioned, so an overwritten ledger can be read back; old
# versions are deleted after 30 days.
resource "google_storage_bucket" "evidence" {
  count                       = local.evidence_bucket == null ? 0 : 1
  name                        = local.evidence_bucket
  location                    = local.model_bucket_location
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  versioning {
    enabled = true
  }
  lifecycle_rule {
    condition {
      days_since_noncurrent_time = 30
    }
    action {
      type = "Delete"
    }
  }
  depends_on = [google_project_service.apis]
}

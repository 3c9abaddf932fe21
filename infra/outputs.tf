output "static_ip_address" {
  description = "The load balancer's anycast address. Write it into the spec with: npm run scout -- pin --static-ip-address \"$(terraform -chdir=infra output -raw static_ip_address)\""
  value       = one(google_compute_global_address.ingress[*].address)
}

output "cluster_endpoints" {
  description = "Kubernetes API endpoint of every cluster, the config cluster included (reach them through Connect Gateway: gcloud container fleet memberships get-credentials <name>)."
  value       = { for name, c in google_container_cluster.fleet : name => c.endpoint }
}

output "managed_certificate" {
  description = "The Google-managed certificate's name (ingress.managedCertificate.name and a hash of ingress.domains); null without one."
  value       = one(google_compute_managed_ssl_certificate.ingress[*].name)
}

output "scout_service_account" {
  description = "The Google service account region-scout runs as (CronJob and GitHub Actions)."
  value       = google_service_account.scout.email
}

output "image_repository" {
  description = "Where the fleet's images go: <this>/stable-diffusion-webui:<tag> (app.image) and <this>/region-scout:<tag> (scout.image)."
  value       = "${google_artifact_registry_repository.images.location}-docker.pkg.dev/${local.project}/${google_artifact_registry_repository.images.repository_id}"
}

output "build_service_account" {
  description = "The identity Cloud Build runs image builds as (gcloud builds submit --service-account)."
  value       = google_service_account.build.id
}

output "build_source_staging_dir" {
  description = "Where gcloud builds submit uploads the source (--gcs-source-staging-dir): gpu-fleet-build can read it there."
  value       = "gs://${google_storage_bucket.build_source.name}/source"
}

output "node_service_account" {
  description = "The identity every Autopilot node runs as."
  value       = google_service_account.nodes.email
}

output "model_bucket" {
  description = "Where the checkpoints go (gcloud storage cp … gs://<this>/checkpoints/)."
  value       = one(google_storage_bucket.models[*].name)
}

output "github_actions_variables" {
  description = "Repository variables the workflows read (set them with `gh variable set`, docs/runbook.md step 7)."
  value = local.github_enabled ? {
    GCP_WORKLOAD_IDENTITY_PROVIDER = google_iam_workload_identity_pool_provider.github[0].name
    REGION_SCOUT_SERVICE_ACCOUNT   = google_service_account.scout.email
    INFRA_PLAN_SERVICE_ACCOUNT     = google_service_account.infra["plan"].email
    INFRA_APPLY_SERVICE_ACCOUNT    = google_service_account.infra["apply"].email
    TF_STATE_BUCKET                = var.state_bucket
  } : {}
}

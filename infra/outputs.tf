output "static_ip_address" {
  description = "The load balancer's anycast address. Write it into the spec with: npm run scout -- pin --static-ip-address \"$(terraform -chdir=infra output -raw static_ip_address)\""
  value       = one(google_compute_global_address.ingress[*].address)
}

output "cluster_endpoints" {
  description = "Kubernetes API endpoint of every cluster, the config cluster included (reach them through Connect Gateway: gcloud container fleet memberships get-credentials <name>)."
  value       = { for name, c in google_container_cluster.fleet : name => c.endpoint }
}

output "scout_service_account" {
  description = "The Google service account region-scout runs as (CronJob and GitHub Actions)."
  value       = google_service_account.scout.email
}

output "scout_image_repository" {
  description = "Where to push the region-scout image: docker push <this>/region-scout:<tag>."
  value       = "${google_artifact_registry_repository.scout.location}-docker.pkg.dev/${local.project}/${google_artifact_registry_repository.scout.repository_id}"
}

output "github_actions_variables" {
  description = "Repository variables the workflows read (set them with `gh variable set`, infra/README.md step 3)."
  value = local.github_enabled ? {
    GCP_WORKLOAD_IDENTITY_PROVIDER = google_iam_workload_identity_pool_provider.github[0].name
    REGION_SCOUT_SERVICE_ACCOUNT   = google_service_account.scout.email
    INFRA_PLAN_SERVICE_ACCOUNT     = google_service_account.infra["plan"].email
    INFRA_APPLY_SERVICE_ACCOUNT    = google_service_account.infra["apply"].email
    TF_STATE_BUCKET                = var.state_bucket
  } : {}
}

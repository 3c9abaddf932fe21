# Everything below is read from the fleet spec (fleet-config/fleet.yaml): there is no second list
# of regions or clusters anywhere. Defaults repeat the spec schema's (libs/fleet-spec), and a test
# (tools/infra/infra.spec.ts) fails when a path read here is not in the schema or a default differs.
locals {
  spec = yamldecode(file(var.spec_file))

  project = local.spec.project

  app_name      = local.spec.app.name
  app_namespace = try(local.spec.app.namespace, local.app_name)
  model_bucket  = try(local.spec.app.modelStorage.bucket, null)
  # Multi-region: the fleet's regions move; every one reads the same checkpoints.
  model_bucket_location = try(local.spec.infra.modelBucketLocation, "US")
  app_gsa               = try(local.spec.app.serviceAccount.gcpServiceAccount, null)
  # The evidence ledger in Cloud Storage (scout.evidenceStore kind gcs); null keeps it in the ConfigMap.
  evidence_bucket = try(local.spec.scout.evidenceStore.kind, "configmap") == "gcs" ? local.spec.scout.evidenceStore.bucket : null

  # The GPU clusters, by name. Adding or removing an entry in the spec adds or removes a cluster.
  clusters = { for c in local.spec.clusters : c.name => c }

  config_cluster_name   = try(local.spec.configCluster.name, "fleet-config")
  config_cluster_region = try(local.spec.configCluster.region, local.spec.placement.candidateRegions[0])

  release_channel     = try(local.spec.infra.releaseChannel, "REGULAR")
  deletion_protection = try(local.spec.infra.deletionProtection, true)
  registry_location   = try(local.spec.infra.artifactRegistry.location, "us")
  registry_repository = try(local.spec.infra.artifactRegistry.repository, "gpu-fleet")
  wif_pool            = try(local.spec.infra.githubActions.workloadIdentityPool, "github")
  wif_provider        = try(local.spec.infra.githubActions.provider, "github-actions")

  sync_repo   = local.spec.configSync.repo
  sync_branch = try(local.spec.configSync.branch, "main")
  sync_dir    = try(local.spec.configSync.dir, "")
  sync_auth   = try(local.spec.configSync.auth, "token")
  # owner/name of a GitHub repository (null elsewhere); Workload Identity Federation trusts its
  # numeric ids (the spec requires them for a GitHub repository).
  github_repository          = try(one(regex("github\\.com[/:]([^/]+/[^/]+?)(?:\\.git)?/?$", local.sync_repo)), null)
  github_repository_id       = try(local.spec.infra.githubActions.repositoryId, null)
  github_repository_owner_id = try(local.spec.infra.githubActions.repositoryOwnerId, null)

  static_ip_disabled = try(local.spec.ingress.staticIp.disabled, false)
  static_ip_name     = try(local.spec.ingress.staticIp.name, null)
  domains            = try(local.spec.ingress.domains, [])
  managed_cert_name  = try(local.spec.ingress.managedCertificate.name, null)
  iap_enabled        = try(local.spec.ingress.iap.enabled, true)
  iap_members        = try(local.spec.ingress.iap.members, [])

  scout_namespace = try(local.spec.scout.namespace, "gpu-fleet-system")
  scout_gsa_email = try(local.spec.scout.gcpServiceAccount, "region-scout@${local.project}.iam.gserviceaccount.com")
  scout_gsa_id    = split("@", local.scout_gsa_email)[0]

  workload_pool = "${local.project}.svc.id.goog"

  # KEDA runs for demand-driven scaling and for the on-demand hedge (gpu.provisioning hedged): its
  # identity and its monitoring.viewer grant (iam.tf). libs/fleet-spec kedaNeeded is the same rule.
  autoscaling_enabled = try(local.spec.autoscaling.enabled, false)
  keda_enabled        = local.autoscaling_enabled || try(local.spec.gpu.provisioning, "on-demand") == "hedged"
}

# Fail the plan, not the apply, on a spec this Terraform was not written for.
resource "terraform_data" "spec_version" {
  input = local.spec.apiVersion

  lifecycle {
    precondition {
      condition     = local.spec.apiVersion == "gpu-fleet.dev/v1alpha1" && local.spec.kind == "Fleet"
      error_message = "${var.spec_file}: apiVersion must be gpu-fleet.dev/v1alpha1 and kind Fleet; run `npm run scout -- validate` first."
    }
    precondition {
      condition     = !contains(keys(local.clusters), local.config_cluster_name)
      error_message = "configCluster.name \"${local.config_cluster_name}\" is also a GPU cluster name; membership names must be unique."
    }
    precondition {
      condition     = local.github_repository == null || (local.github_repository_id != null && local.github_repository_owner_id != null)
      error_message = "infra.githubActions.repositoryId and repositoryOwnerId are required for a GitHub repository (gh api repos/OWNER/REPO --jq '.id, .owner.id'); run `npm run scout -- validate` first."
    }
  }
}

# Alerts and the dashboard over the metrics each sweep writes (custom.googleapis.com/gpu_fleet/*,
# written with roles/monitoring.metricWriter, iam.tf). The policies and the dashboard are rendered
# from the spec to fleet-config/monitoring/ as the REST resources (npm run scout -- render; validate
# checks them and parses every query as PromQL), so this file only maps them onto the provider:
# there is no second copy of a query here. docs/operate.md explains each alert.
locals {
  monitoring_dir      = "${dirname(var.spec_file)}/monitoring"
  monitoring_alerts   = try(local.spec.monitoring.alerts, true)
  monitoring_board    = try(local.spec.monitoring.dashboard, true)
  monitoring_channels = try(local.spec.monitoring.notificationChannels, [])

  # One file per policy, named by its id (fleet-config/monitoring/alert-policies/<id>.yaml).
  alert_policies = local.monitoring_alerts ? {
    for f in fileset("${local.monitoring_dir}/alert-policies", "*.yaml") :
    trimsuffix(f, ".yaml") => yamldecode(file("${local.monitoring_dir}/alert-policies/${f}"))
  } : {}

  # {email: …} entries get a channel made here; {id: projects/…/notificationChannels/…} entries
  # name one made elsewhere (PagerDuty, Slack: their keys and tokens stay out of git).
  alert_emails = toset([for c in local.monitoring_channels : c.email if can(c.email)])
  notification_channels = concat(
    [for c in local.monitoring_channels : c.id if can(c.id)],
    [for e in sort(tolist(local.alert_emails)) : google_monitoring_notification_channel.email[e].id],
  )
}

# The email channel type takes the address in labels.email_address
# (https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.notificationChannelDescriptors/list).
resource "google_monitoring_notification_channel" "email" {
  for_each     = local.alert_emails
  display_name = "gpu-fleet ${local.app_name}: ${each.value}"
  type         = "email"
  labels = {
    email_address = each.value
  }
  depends_on = [google_project_service.apis]
}

# PromQL alert policies (condition_prometheus_query_language,
# https://cloud.google.com/monitoring/promql/create-promql-alerts-console): one condition each.
# disable_metric_validation is set in the files: the metrics exist only after the first sweep.
resource "google_monitoring_alert_policy" "fleet" {
  for_each              = local.alert_policies
  display_name          = each.value.displayName
  combiner              = each.value.combiner
  severity              = each.value.severity
  user_labels           = each.value.userLabels
  notification_channels = local.notification_channels

  documentation {
    content   = each.value.documentation.content
    mime_type = each.value.documentation.mimeType
    subject   = each.value.documentation.subject
  }

  dynamic "conditions" {
    for_each = each.value.conditions
    content {
      display_name = conditions.value.displayName
      condition_prometheus_query_language {
        query                     = conditions.value.conditionPrometheusQueryLanguage.query
        duration                  = conditions.value.conditionPrometheusQueryLanguage.duration
        evaluation_interval       = conditions.value.conditionPrometheusQueryLanguage.evaluationInterval
        disable_metric_validation = conditions.value.conditionPrometheusQueryLanguage.disableMetricValidation
      }
    }
  }

  depends_on = [google_project_service.apis]
}

# dashboard_json is "The JSON representation of a dashboard, following the format at
# https://cloud.google.com/monitoring/api/ref_v3/rest/v1/projects.dashboards" (provider docs), which
# is what the rendered YAML holds.
resource "google_monitoring_dashboard" "fleet" {
  count          = local.monitoring_board && fileexists("${local.monitoring_dir}/dashboard.yaml") ? 1 : 0
  dashboard_json = jsonencode(yamldecode(file("${local.monitoring_dir}/dashboard.yaml")))
  depends_on     = [google_project_service.apis]
}

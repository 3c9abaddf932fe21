import { parser } from '@prometheus-io/lezer-promql';
import { z } from 'zod';

/**
 * Narrow schemas of the Cloud Monitoring resources render writes to fleet-config/monitoring/: only
 * the fields gpu-fleet uses, with the limits Google documents, so `validate` refuses a file the API
 * would (or a query that is not PromQL) before infra/ tries to create it.
 */

/** PromQL syntax errors, as the Prometheus project's own parser reports them (lezer-promql, used by the Prometheus UI). */
export function promqlErrors(query: string): string[] {
  const errors: string[] = [];
  parser.parse(query).iterate({
    enter: (node) => {
      if (node.type.isError) {
        const near = query.slice(Math.max(0, node.from - 10), node.to + 10);
        errors.push(`syntax error at character ${node.from + 1} (near "${near}")`);
      }
    },
  });
  return errors;
}

const promql = z
  .string()
  .min(1, 'must not be empty')
  .superRefine((q, ctx) => {
    for (const e of promqlErrors(q)) ctx.addIssue({ code: 'custom', message: `is not valid PromQL: ${e}` });
  });

const utf8Bytes = (s: string) => Buffer.byteLength(s, 'utf8');
const durationSeconds = z.string().regex(/^\d+s$/, 'must be a duration in seconds such as "60s"');

/** Label keys and values: "lowercase letters, numerals, underscores, and dashes. Keys must begin with a letter", at most 63 characters (provider google_monitoring_alert_policy.user_labels). */
const userLabels = z
  .record(
    z
      .string()
      .regex(/^[a-z][a-z0-9_-]{0,62}$/, 'label keys: a lowercase letter, then lowercase letters, digits, _ or -'),
    z.string().regex(/^[a-z0-9_-]{0,63}$/, 'label values: lowercase letters, digits, _ or -, at most 63'),
  )
  .refine((l) => Object.keys(l).length <= 64, 'at most 64 labels');

/**
 * An AlertPolicy (https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.alertPolicies)
 * with PromQL conditions. Limits from google/monitoring/v3/alert.proto and the provider's schema.
 */
export const AlertPolicyFile = z.strictObject({
  displayName: z.string().min(1).max(512, 'alert.proto: "limited to 512 Unicode characters"'),
  combiner: z.enum(['OR', 'AND', 'AND_WITH_MATCHING_RESOURCE']),
  severity: z.enum(['CRITICAL', 'ERROR', 'WARNING']),
  userLabels,
  documentation: z.strictObject({
    content: z
      .string()
      .max(8192, 'documentation "may not exceed 8,192 Unicode characters"')
      .refine((c) => utf8Bytes(c) <= 10240, 'documentation may not exceed 10,240 bytes in UTF-8'),
    mimeType: z.literal('text/markdown', { message: 'only "text/markdown" is supported' }),
    subject: z.string().refine((s) => utf8Bytes(s) <= 10240, 'the subject may not exceed 10,240 bytes'),
  }),
  // "A policy can have from one to six conditions" (provider docs, google_monitoring_alert_policy.conditions).
  conditions: z
    .array(
      z.strictObject({
        displayName: z.string().min(1),
        conditionPrometheusQueryLanguage: z.strictObject({
          query: promql,
          duration: durationSeconds,
          evaluationInterval: durationSeconds.refine((d) => {
            const s = Number(d.slice(0, -1));
            return s > 0 && s % 30 === 0;
          }, 'alert.proto: "Must be a positive multiple of 30 seconds"'),
          disableMetricValidation: z.boolean(),
        }),
      }),
    )
    .min(1)
    .max(6),
});

const query = z.strictObject({ prometheusQuery: promql });
const threshold = z.strictObject({
  label: z.string(),
  value: z.number(),
  color: z.enum(['YELLOW', 'RED']),
  direction: z.enum(['ABOVE', 'BELOW']),
});

/** Widgets gpu-fleet draws (google/monitoring/dashboard/v1/widget.proto: one content per widget). */
const widget = z.union([
  z.strictObject({
    title: z.string(),
    xyChart: z.strictObject({
      dataSets: z
        .array(
          z.strictObject({
            timeSeriesQuery: query,
            plotType: z.enum(['LINE', 'STACKED_AREA', 'STACKED_BAR']),
            legendTemplate: z.string().optional(),
          }),
        )
        .min(1, 'xychart.proto: data_sets is required'),
      thresholds: z.array(threshold).optional(),
    }),
  }),
  z.strictObject({
    title: z.string(),
    scorecard: z.strictObject({
      timeSeriesQuery: query,
      thresholds: z.array(threshold),
      sparkChartView: z.strictObject({ sparkChartType: z.enum(['SPARK_LINE', 'SPARK_BAR']) }),
    }),
  }),
  z.strictObject({
    title: z.string(),
    text: z.strictObject({ content: z.string(), format: z.enum(['MARKDOWN', 'RAW']) }),
  }),
]);

/** A Dashboard (https://cloud.google.com/monitoring/api/ref_v3/rest/v1/projects.dashboards) on a MosaicLayout. */
export const DashboardFile = z
  .strictObject({
    displayName: z.string().min(1, 'dashboard.proto: display_name is required'),
    labels: z.record(z.string(), z.string()),
    mosaicLayout: z.strictObject({
      // layouts.proto: "The number of columns must be between 1 and 12, inclusive."
      columns: z.number().int().min(1).max(12),
      tiles: z.array(
        z.strictObject({
          // layouts.proto: "`x_pos` cannot be negative", "`y_pos` cannot be negative", "minimum width of 1", "minimum height of 1".
          xPos: z.number().int().min(0),
          yPos: z.number().int().min(0),
          width: z.number().int().min(1),
          height: z.number().int().min(1),
          widget,
        }),
      ),
    }),
  })
  .superRefine((d, ctx) => {
    const { columns, tiles } = d.mosaicLayout;
    tiles.forEach((t, i) => {
      // layouts.proto: "Tiles must be contained within the specified number of columns."
      if (t.xPos + t.width > columns)
        ctx.addIssue({
          code: 'custom',
          path: ['mosaicLayout', 'tiles', i],
          message: `xPos ${t.xPos} + width ${t.width} exceeds the ${columns} columns`,
        });
      tiles.slice(0, i).forEach((o, j) => {
        const overlap =
          t.xPos < o.xPos + o.width &&
          o.xPos < t.xPos + t.width &&
          t.yPos < o.yPos + o.height &&
          o.yPos < t.yPos + t.height;
        if (overlap)
          ctx.addIssue({ code: 'custom', path: ['mosaicLayout', 'tiles', i], message: `overlaps tile ${j}` });
      });
    });
  });

/** Problems of one generated monitoring file, as "path: message" lines (empty when it is valid). */
export function monitoringFileProblems(kind: 'alert-policy' | 'dashboard', value: unknown): string[] {
  const r = (kind === 'dashboard' ? DashboardFile : AlertPolicyFile).safeParse(value);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
}

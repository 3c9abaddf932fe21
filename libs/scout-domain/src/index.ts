export * from './lib/types';
export { classify } from './lib/classify';
export type { FailureFields } from './lib/classify';
export {
  EvidenceLedger,
  HALF_LIFE_MINUTES,
  LEDGER_SCHEMA_VERSION,
  LedgerSnapshotSchema,
  parseLedgerSnapshot,
  ObservationSchema,
  SweepRecordSchema,
  SWEEP_HISTORY_LIMIT,
  keyOf,
  weightAt,
  fitSnapshot,
  snapshotBytes,
} from './lib/ledger';
export type { DecayedEvidence, EvidenceKey, LedgerOptions, LedgerSnapshot, StoredSweep } from './lib/ledger';
export * from './lib/ports';
export * from './lib/proposal-protocol';
export { ProbeBudget } from './lib/probe-budget';
export type { ProbeBudgetPolicy, ProbeCharge } from './lib/probe-budget';
export { attachEvidence, gatherSignals, membershipFor } from './lib/signals';
export type {
  ClusterSignals,
  OfferedGpu,
  QuotaHeadroom,
  RegionSignals,
  SignalPorts,
  SignalsReport,
} from './lib/signals';

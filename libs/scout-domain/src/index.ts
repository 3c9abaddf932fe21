export * from './lib/types';
export { classify } from './lib/classify';
export { EvidenceLedger, HALF_LIFE_MINUTES, LEDGER_SCHEMA_VERSION, LedgerSnapshotSchema, ObservationSchema, keyOf, weightAt } from './lib/ledger';
export type { DecayedEvidence, EvidenceKey, LedgerOptions, LedgerSnapshot } from './lib/ledger';
export * from './lib/ports';
export { ProbeBudget } from './lib/probe-budget';
export type { ProbeBudgetPolicy, ProbeCharge } from './lib/probe-budget';
export { gatherSignals } from './lib/signals';
export type { ClusterSignals, OfferedGpu, QuotaHeadroom, RegionSignals, SignalPorts, SignalsReport } from './lib/signals';

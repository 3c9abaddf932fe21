export { retryOnConflict } from './lib/conflict';
export type { ConflictRetryOptions } from './lib/conflict';

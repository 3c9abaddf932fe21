/**
 * How a proposal is written on a git host, whichever host it is (GitHub, a local repository): the
 * commit's parents, the trailer that marks the scout's commits, and the metadata comment in a pull
 * request body. Pure; the hosts (libs/scout-git) use it so both behave alike.
 */
/**
 * Parents of a proposal commit: the branch head (so moving the ref is a fast-forward, the
 * compare-and-swap) plus the base when the base is not already in the head's history (so the
 * branch's diff against the base stays the plan without a redundant merge on every update); just
 * the base for a new branch. The host answers `baseInHistory` (git merge-base --is-ancestor, or
 * GitHub's compare status "ahead"/"identical").
 */
export function proposalParents(base: string, head: { sha: string; baseInHistory: boolean } | null): string[] {
  if (!head) return [base];
  return head.baseInHistory ? [head.sha] : [head.sha, base];
}

/** Trailer on every scout commit; a branch head without it was pushed by a person. */
export const PLAN_TRAILER = 'Region-Scout-Plan';
export const planTrailer = (planHash: string) => `${PLAN_TRAILER}: ${planHash}`;
export function readPlanTrailer(message: string): string | null {
  const m = new RegExp(`^${PLAN_TRAILER}: ([0-9a-f]{8,64})$`, 'm').exec(message);
  return m ? m[1]! : null;
}

export interface ProposalMetadata {
  v: 1;
  plan: string;
  body: string;
  sweep: string;
}
const META = /<!-- region-scout (\{.*?\}) -->/;
/** Machine metadata at the end of the PR body: invisible on GitHub, read back to skip no-op edits. */
export const metadataComment = (m: ProposalMetadata) => `<!-- region-scout ${JSON.stringify(m)} -->`;
export function readMetadata(body: string | null | undefined): ProposalMetadata | null {
  const m = META.exec(body ?? '');
  if (!m) return null;
  try {
    const v = JSON.parse(m[1]!) as Partial<ProposalMetadata>;
    return v.v === 1 && typeof v.plan === 'string' && typeof v.body === 'string' ? (v as ProposalMetadata) : null;
  } catch {
    return null;
  }
}

/**
 * How a proposal is written on a git host, whichever host it is (GitHub, a local repository): the
 * commit's parents, the trailer that marks the scout's commits, and the metadata comment in a pull
 * request body. Pure; the hosts (libs/scout-git) use it so both behave alike.
 */
/**
 * Where the scout's branch stands against the base: its head, the plan its trailer names (null: not
 * the scout's), and the two ancestry facts a host answers (git merge-base --is-ancestor, or GitHub's
 * compare status: "ahead"/"identical" = base in head's history, "behind"/"identical" = head in
 * base's history).
 */
export interface BranchPosition {
  sha: string;
  planHash: string | null;
  /** The base commit is in the head's history: the branch already carries everything of the base. */
  baseInHistory: boolean;
  /** The head is in the base's history: the branch was merged into the base (its commits are all there). */
  inBase: boolean;
}

/**
 * Whether the branch needs a new commit for this plan, and its parents; null when the head already
 * proposes it.
 * - A new commit when the plan changed, and also when the base moved on (its commit is not in the
 *   head's history) even with the same plan: with "Require branches to be up to date before
 *   merging" a branch that never follows the base waits forever, and auto-merge would merge a plan
 *   built on an old base.
 * - Parents: the head (moving the ref stays a fast-forward, the compare-and-swap) plus the base
 *   when it is not in the head's history; only the base when the head was already merged into it
 *   (a pull request merged with a merge commit, its branch kept, then reverted on the base: the old
 *   head is history, and building on it alone would give "No commits between").
 */
export function nextProposalCommit(
  base: string,
  head: BranchPosition | null,
  planHash: string,
): { parents: string[] } | null {
  if (!head) return { parents: [base] };
  if (head.planHash === planHash && head.baseInHistory && !head.inBase) return null;
  if (head.inBase) return { parents: [base] };
  return { parents: head.baseInHistory ? [head.sha] : [head.sha, base] };
}

/** A file as GitHub's compare lists it: its path and its blob (null when removed). */
export interface ChangedFile {
  path: string;
  blob: string | null;
}

/**
 * Whether a merge of the base into the scout's branch (GitHub's "Update branch", or the same merge
 * made by hand) only brought the base in: what it changes against the base commit it merged is
 * exactly what the scout's own commit changed (same paths, same blobs). A person who resolved a
 * conflict with other content, or slipped a change into the merge, fails this and the branch is
 * theirs.
 */
export function mergeOnlyBringsBase(
  mergeAgainstBase: readonly ChangedFile[],
  scoutAgainstBase: readonly ChangedFile[],
): boolean {
  const ours = new Map(scoutAgainstBase.map((f) => [f.path, f.blob]));
  return mergeAgainstBase.every((f) => ours.has(f.path) && ours.get(f.path) === f.blob);
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
  /**
   * Set when the scout itself closed the pull request (the plan emptied). A proposal closed without
   * merging and without this mark was declined by a person: its plan is not proposed again.
   */
  withdrawn?: true;
}
const META = /<!-- region-scout (\{.*?\}) -->/;
/** Machine metadata at the end of the PR body: invisible on GitHub, read back to skip no-op edits. */
export const metadataComment = (m: ProposalMetadata) => `<!-- region-scout ${JSON.stringify(m)} -->`;

/** The body with its metadata marked withdrawn (the scout closes it), or null when it carries no metadata. */
export function withdrawnBody(body: string | null | undefined): string | null {
  const meta = readMetadata(body);
  if (!meta) return null;
  return (body ?? '').replace(META, metadataComment({ ...meta, withdrawn: true }));
}
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

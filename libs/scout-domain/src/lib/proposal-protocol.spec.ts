import {
  mergeOnlyBringsBase,
  metadataComment,
  nextProposalCommit,
  readMetadata,
  withdrawnBody,
} from './proposal-protocol';

describe('nextProposalCommit: when the branch gets a new commit, and on which parents', () => {
  const head = (over: Partial<Parameters<typeof nextProposalCommit>[1] & object> = {}) => ({
    sha: 'h',
    planHash: 'p1',
    baseInHistory: true,
    inBase: false,
    ...over,
  });

  it('a new branch starts on the base', () => {
    expect(nextProposalCommit('b', null, 'p1')).toEqual({ parents: ['b'] });
  });

  it('the same plan on a branch that has the base: nothing to do', () => {
    expect(nextProposalCommit('b', head(), 'p1')).toBeNull();
  });

  it('a new plan: one commit on the head', () => {
    expect(nextProposalCommit('b', head(), 'p2')).toEqual({ parents: ['h'] });
  });

  it('the base moved on: the same plan is rebuilt with the base merged in (the branch follows main)', () => {
    expect(nextProposalCommit('b', head({ baseInHistory: false }), 'p1')).toEqual({ parents: ['h', 'b'] });
  });

  it('the head is already in the base (merged with a merge commit, then reverted): rebuilt on the base alone', () => {
    expect(nextProposalCommit('b', head({ baseInHistory: false, inBase: true }), 'p1')).toEqual({ parents: ['b'] });
    expect(nextProposalCommit('b', head({ baseInHistory: false, inBase: true }), 'p2')).toEqual({ parents: ['b'] });
  });
});

describe('mergeOnlyBringsBase: an update-branch merge is the scout’s only when it adds nothing of its own', () => {
  const plan = [
    { path: 'fleet-config/fleet.yaml', blob: 'x1' },
    { path: 'clusters/old/k.yaml', blob: null },
  ];
  it('the merge changes against the base only what the scout changed, the same way', () => {
    expect(mergeOnlyBringsBase(plan, plan)).toBe(true);
    expect(mergeOnlyBringsBase([plan[0]!], plan)).toBe(true);
  });
  it('another file, or other content in a plan file, is a person’s', () => {
    expect(mergeOnlyBringsBase([...plan, { path: 'README.md', blob: 'r' }], plan)).toBe(false);
    expect(mergeOnlyBringsBase([{ path: 'fleet-config/fleet.yaml', blob: 'x2' }], plan)).toBe(false);
  });
});

describe('withdrawnBody: the scout marks the proposals it closes', () => {
  it('keeps the text and sets withdrawn in the metadata', () => {
    const body = `hello\n\n${metadataComment({ v: 1, plan: 'abc', body: 'def', sweep: 's' })}`;
    const out = withdrawnBody(body)!;
    expect(out.startsWith('hello\n\n')).toBe(true);
    expect(readMetadata(out)).toEqual({ v: 1, plan: 'abc', body: 'def', sweep: 's', withdrawn: true });
  });
  it('a body without metadata is not the scout’s: null', () => {
    expect(withdrawnBody('just text')).toBeNull();
  });
});

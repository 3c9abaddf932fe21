export { GitHubHost, GitHubPermissionError, REQUIRED_APP_PERMISSIONS } from './lib/github/github-host';
export type { GitHubAuth, GitHubHostOptions } from './lib/github/github-host';
export { LocalGitHost, GitError } from './lib/local-git/local-git-host';
export type { LocalGitHostOptions } from './lib/local-git/local-git-host';

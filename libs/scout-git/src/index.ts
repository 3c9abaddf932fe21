export { GitHubHost } from './lib/github/github-host';
export type { GitHubHostOptions } from './lib/github/github-host';
export {
  GitHubDeadlineError,
  GitHubPermissionError,
  GitHubRateLimitError,
  GitHubStopError,
  REQUIRED_APP_PERMISSIONS,
  rateLimitOf,
} from './lib/github/client';
export type { GitHubAuth, GitHubClientOptions } from './lib/github/client';
export { LocalGitHost, GitError } from './lib/local-git/local-git-host';
export type { LocalGitHostOptions } from './lib/local-git/local-git-host';

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@gpu-fleet/scout-domain';
import { octokitClass, tokenExpiresSoon } from './client';

/** A token's expiry, as GitHub reports it on every response: GitHub-Authentication-Token-Expiration. */
describe('a GitHub token that is about to expire', () => {
  const now = Date.parse('2026-12-07T00:00:00Z');

  it('is read from the response header, within 14 days only', () => {
    const res = (v: string) => ({ headers: { 'github-authentication-token-expiration': v } });
    expect(tokenExpiresSoon(res('2026-12-15 09:00:00 UTC'), now)).toEqual({
      expires: '2026-12-15T09:00:00.000Z',
      daysLeft: 8,
    });
    expect(tokenExpiresSoon(res('2027-03-01 00:00:00 UTC'), now)).toBeNull();
    // an App installation token, or a token without expiry: no header
    expect(tokenExpiresSoon({ headers: {} }, now)).toBeNull();
    expect(tokenExpiresSoon(res('not a date'), now)).toBeNull();
  });

  it('makes the client warn once, with the date and the way out, and the calls still succeed', async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, {
        'content-type': 'application/json',
        'github-authentication-token-expiration': '2026-12-10 12:00:00 UTC',
      });
      res.end('{"full_name":"o/r"}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const warnings: string[] = [];
    const logger: Logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: (_o, m) => warnings.push(m ?? ''),
      error: () => undefined,
    };
    try {
      const Client = octokitClass({
        baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        auth: { kind: 'token', token: 't' },
        logger,
        throttle: false,
        now: () => now,
      });
      const octokit = new Client({ auth: 't' });
      for (let i = 0; i < 3; i++) {
        const r = await octokit.request('GET /repos/{owner}/{repo}', { owner: 'o', repo: 'r' });
        expect(r.status).toBe(200);
      }
      expect(warnings).toEqual([
        expect.stringMatching(/^the GitHub token expires in 3 day\(s\) \(2026-12-10T12:00:00\.000Z\).*GitHub App/),
      ]);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

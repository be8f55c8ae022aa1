import { describe, expect, it, vi } from 'vitest';
import { TokenError, TokenService } from './tokens.js';

const service = () => new TokenService('unit-secret-unit-secret-unit-secret-0123', 60, 3600);

describe('TokenService', () => {
  it('verifies access tokens and refuses refresh tokens as access tokens', async () => {
    const tokens = service();
    const access = await tokens.signAccess({ id: 7, username: 'u', is_admin: true });
    expect(await tokens.verifyAccess(access)).toMatchObject({ userId: 7, isAdmin: true, username: 'u' });
    const refresh = await tokens.signRefresh(7, 'fam');
    await expect(tokens.verifyAccess(refresh.token)).rejects.toThrow(TokenError);
  });

  it('still refuses a token it verified before once it has expired', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const tokens = service();
      const access = await tokens.signAccess({ id: 7, username: 'u', is_admin: false }, 30);
      await tokens.verifyAccess(access);
      vi.setSystemTime(Date.now() + 40_000);
      await expect(tokens.verifyAccess(access)).rejects.toMatchObject({ reason: 'expired' });
    } finally {
      vi.useRealTimers();
    }
  });

  it('does not accept a token whose signature was altered, even after verifying the original', async () => {
    const tokens = service();
    const access = await tokens.signAccess({ id: 7, username: 'u', is_admin: false });
    await tokens.verifyAccess(access);
    const altered = access.slice(0, -2) + (access.endsWith('AA') ? 'BB' : 'AA');
    await expect(tokens.verifyAccess(altered)).rejects.toThrow(TokenError);
  });
});

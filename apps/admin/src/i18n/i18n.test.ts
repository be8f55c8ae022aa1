// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import { resolveEndpoints } from '../config.js';
import { loginPath, safeReturnPath } from '../router.js';
import { detectLang, translate } from './I18n.js';
import { en, zh } from './messages.js';

describe('language', () => {
  it("follows the stored choice, else the browser's languages", () => {
    expect(detectLang('en', ['zh-CN'])).toBe('en');
    expect(detectLang(null, ['zh-TW', 'en'])).toBe('zh');
    expect(detectLang(null, ['de-DE', 'en-US'])).toBe('en');
    expect(detectLang(null, ['fr'])).toBe('zh');
  });

  it("uses the specification's wording in Chinese and fills placeholders", () => {
    expect(translate('zh', 'status.connected')).toBe('已连接');
    expect(translate('zh', 'status.disconnected')).toBe('已断开');
    expect(translate('en', 'toast.completed', { title: 'clip' })).toBe('Transcode complete: clip');
    expect(Object.keys(en).sort()).toEqual(Object.keys(zh).sort());
  });
});

describe('addresses', () => {
  it('derives the WebSocket URL from the page, or VITE_WS_URL', () => {
    expect(resolveEndpoints(undefined, { protocol: 'https:', host: 'admin.example.com' })).toEqual({ wsUrl: 'wss://admin.example.com', httpUrl: '' });
    expect(resolveEndpoints('ws://10.0.0.5:8000/', { protocol: 'http:', host: 'x' })).toEqual({ wsUrl: 'ws://10.0.0.5:8000', httpUrl: 'http://10.0.0.5:8000' });
  });

  it('returns to same-site paths only after signing in', () => {
    expect(loginPath('/videos?x=1', 'expired')).toBe('/login?next=%2Fvideos%3Fx%3D1&reason=expired');
    expect(loginPath('/')).toBe('/login');
    expect(safeReturnPath('/users')).toBe('/users');
    expect(safeReturnPath('//evil.example')).toBe('/');
    expect(safeReturnPath('/\\evil.example')).toBe('/');
    expect(safeReturnPath('https://evil.example')).toBe('/');
    expect(safeReturnPath(null)).toBe('/');
  });
});

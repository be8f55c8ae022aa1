// Node environment with a jsdom document installed after the server started: the server (jose)
// refuses jsdom's typed arrays, and React only needs a document.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ReactNode } from 'react';
import { WebSocket } from 'ws';
import { defaultRegistry, type WebSocketConstructor } from '@herald/client';
import { startHerald, type TestHerald } from '@herald/testing/herald';
import { useHeraldEvent, useWebSocket, useWebSocketContext, WebSocketProvider } from './index.js';

const WS = WebSocket as unknown as WebSocketConstructor;
/** jsdom (a dev dependency, without type declarations here), by name so TypeScript does not look for them. */
const JSDOM_MODULE = 'jsdom';
let cleanup: typeof import('@testing-library/react').cleanup;
let renderHook: typeof import('@testing-library/react').renderHook;
let waitFor: typeof import('@testing-library/react').waitFor;
let herald: TestHerald;
let user: Awaited<ReturnType<TestHerald['user']>>;

beforeAll(async () => {
  herald = await startHerald({ STATIC_DIR: mkdtempSync(join(tmpdir(), 'herald-react-')) });
  user = await herald.user('react-events');
  const { JSDOM } = (await import(JSDOM_MODULE)) as { JSDOM: new (html: string, options: { url: string }) => { window: Window & typeof globalThis } };
  const { window } = new JSDOM('<!doctype html><html><body></body></html>', { url: 'http://localhost/' });
  Object.assign(globalThis, { window, document: window.document, IS_REACT_ACT_ENVIRONMENT: true });
  Object.defineProperty(globalThis, 'navigator', { value: window.navigator, configurable: true });
  ({ cleanup, renderHook, waitFor } = await import('@testing-library/react'));
});
afterAll(() => herald.stop());
afterEach(() => {
  cleanup();
  defaultRegistry.reset();
});

const publish = (type: string, data: Record<string, unknown>, persist = true) =>
  herald.notifications.publishEvents([{ type, target: { users: [String(user.id)] }, fields: { data }, persist }], () => undefined);

describe('custom events in React, from a real Herald', () => {
  it('calls useHeraldEvent for its type only, and the provider keeps stored ones with the notifications', async () => {
    const shipped = vi.fn();
    const onEvent = vi.fn();
    const wrapper = ({ children }: { children: ReactNode }) => (
      <WebSocketProvider url={herald.wsUrl} token={user.token} isAdmin={false} WebSocket={WS} onlineSource={null} onEvent={onEvent}>
        {children}
      </WebSocketProvider>
    );
    const { result } = renderHook(
      () => {
        useHeraldEvent<{ order: number }>('order.shipped', (e) => shipped(e.data.order));
        return useWebSocketContext();
      },
      { wrapper },
    );
    await waitFor(() => expect(result.current.isConnected).toBe(true));
    await publish('chat:typing', { who: 'bob' }, false);
    await publish('order.shipped', { order: 7 });
    await waitFor(() => expect(shipped).toHaveBeenCalledWith(7));
    expect(shipped).toHaveBeenCalledTimes(1);
    expect(onEvent.mock.calls.map(([e]) => e.type)).toEqual(['chat:typing', 'order.shipped']);
    await waitFor(() => expect(result.current.notifications).toEqual([expect.objectContaining({ type: 'order.shipped', data: { order: 7 } })]));
    expect(result.current.unreadCount).toBe(1);
  });

  it('gives useWebSocket an onEvent callback', async () => {
    const onEvent = vi.fn();
    const { result } = renderHook(() => useWebSocket(false, { url: herald.wsUrl, token: user.token, WebSocket: WS, onlineSource: null, onEvent }));
    await waitFor(() => expect(result.current.isConnected).toBe(true));
    await publish('invoice.paid', { amount: 12 });
    await waitFor(() => expect(onEvent).toHaveBeenCalledWith(expect.objectContaining({ type: 'invoice.paid', data: { amount: 12 }, offset: expect.any(Number) })));
  });
});

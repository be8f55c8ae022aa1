// @vitest-environment jsdom
import { act, cleanup, render, screen, waitFor as rtlWaitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StrictMode } from 'react';
import { WebSocket } from 'ws';
import { HeraldClientError, defaultRegistry, type WebSocketConstructor } from '@herald/client';
import { TestServer, waitFor } from '@herald/testing/fake-server';
import { WebSocketProvider, useWebSocket, useWebSocketContext } from './index.js';
import { NotificationBadge, TranscodeStatus } from './antd/index.js';

const WS = WebSocket as unknown as WebSocketConstructor;
let server: TestServer;

beforeEach(async () => {
  server = await TestServer.start();
});

afterEach(async () => {
  cleanup();
  defaultRegistry.reset();
  localStorage.clear();
  vi.restoreAllMocks();
  await server.close();
});

const open = () => server.connections.filter((c) => c.socket.readyState === c.socket.OPEN);

function Hook({ id }: { id: string }) {
  const { isConnected } = useWebSocket(false, { url: server.url, WebSocket: WS, onlineSource: null });
  return <span data-testid={id}>{isConnected ? 'up' : 'down'}</span>;
}

function Unread() {
  return <span data-testid="unread">{useWebSocketContext().unreadCount}</span>;
}

describe('one connection per tab', () => {
  it('three hooks and a provider share one socket, read the token from localStorage, and the last unmount closes it', async () => {
    localStorage.setItem('token', 'good');
    server.options.unread = { count: 2, positions: { 'user:1': 5, broadcast: 0 } };
    const view = render(
      <StrictMode>
        <WebSocketProvider url={server.url} WebSocket={WS} onlineSource={null}>
          <Hook id="a" />
          <Hook id="b" />
          <Hook id="c" />
          <Unread />
        </WebSocketProvider>
      </StrictMode>,
    );
    for (const id of ['a', 'b', 'c']) await rtlWaitFor(() => expect(screen.getByTestId(id).textContent).toBe('up'));
    expect(screen.getByTestId('unread').textContent).toBe('2');
    expect(open()).toHaveLength(1);
    expect(open()[0]!.token).toBe('good');
    view.unmount();
    await waitFor(() => open().length === 0);
    expect(defaultRegistry.size).toBe(0);
  });

  it('without a token: the error state, and one console.error naming the cause', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    render(
      <WebSocketProvider url={server.url} WebSocket={WS} onlineSource={null}>
        <Hook id="a" />
        <NotificationBadge />
      </WebSocketProvider>,
    );
    const badge = await screen.findByText('连接失败');
    expect(badge.getAttribute('data-error')).toBe('ERR_NO_TOKEN');
    expect(error).toHaveBeenCalledTimes(1);
    expect(String(error.mock.calls[0]![0])).toMatch(/ERR_NO_TOKEN.*localStorage key "token"/);
    expect(server.connections).toHaveLength(0);
  });
});

describe('TranscodeStatus', () => {
  it('stops polling on 401 and shows why', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const fetchStatus = vi.fn(async () => {
        throw new HeraldClientError('ERR_HTTP', 'GET /api/v1/videos/5/transcode-status answered 401', { status: 401 });
      });
      render(<TranscodeStatus videoId={5} fetchStatus={fetchStatus} pollInterval={100} />);
      await screen.findByText('未授权');
      act(() => vi.advanceTimersByTime(1000));
      expect(fetchStatus).toHaveBeenCalledTimes(1);
    } finally {
      vi.useRealTimers();
    }
  });
});

// @vitest-environment jsdom
import { act, cleanup, render, renderHook, screen, waitFor as rtlWaitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StrictMode, type ReactNode } from 'react';
import { WebSocket } from 'ws';
import { HeraldClient, defaultRegistry, type WebSocketConstructor } from '@herald/client';
import { TestServer, waitFor } from '@herald/testing/fake-server';
import { useWebSocket, useWebSocketContext } from './index.js';
import { NotificationBadge, TranscodeStatus, WebSocketProvider } from './antd/index.js';

const WS = WebSocket as unknown as WebSocketConstructor;
let server: TestServer;

beforeEach(async () => {
  server = await TestServer.start();
});

afterEach(async () => {
  cleanup();
  defaultRegistry.reset();
  await server.close();
});

describe('useWebSocket', () => {
  it('connects, reports isConnected and lastMessage, and dispatches to the latest callbacks', async () => {
    const first = vi.fn();
    const second = vi.fn();
    const onConnect = vi.fn();
    const { result, rerender } = renderHook(
      ({ cb }: { cb: (m: unknown) => void }) =>
        useWebSocket(false, { url: server.url, token: 'good', WebSocket: WS, onlineSource: null, onTranscodeProgress: cb, onConnect }),
      { initialProps: { cb: first } },
    );
    await rtlWaitFor(() => expect(result.current.isConnected).toBe(true));
    expect(onConnect).toHaveBeenCalledTimes(1);
    rerender({ cb: second }); // new callback identity must not reconnect
    const conn = await server.connection(0);
    conn.send({ type: 'transcode_progress', video_id: 1, status: 'processing', progress: 10, message: '' });
    await rtlWaitFor(() => expect(result.current.lastMessage).toMatchObject({ type: 'transcode_progress', progress: 10 }));
    expect(first).not.toHaveBeenCalled();
    expect(second).toHaveBeenCalledTimes(1);
    expect(server.connections).toHaveLength(1);
    act(() => {
      expect(result.current.sendMessage('get_stats')).toBe(true);
    });
    await waitFor(() => conn.received.includes('get_stats'));
  });

  it('reports a refused token through onError and onDisconnect, asks getToken for a fresh one once, and ends closed', async () => {
    const onError = vi.fn();
    const onDisconnect = vi.fn();
    const getToken = vi.fn(() => 'bad-token');
    const { result } = renderHook(() =>
      useWebSocket(false, { url: server.url, getToken, WebSocket: WS, onlineSource: null, onError, onDisconnect }),
    );
    await rtlWaitFor(() => expect(onError.mock.calls.some(([e]) => e.code === 'ERR_AUTH')).toBe(true));
    await rtlWaitFor(() => expect(result.current.state).toBe('closed'));
    expect(result.current.isConnected).toBe(false);
    expect(getToken).toHaveBeenCalledTimes(2);
    expect(onDisconnect.mock.calls.map(([e]) => [e.code, e.willReconnect])).toEqual([
      [4001, true],
      [4001, false],
    ]);
  });

  it('closes its socket on unmount, also under StrictMode', async () => {
    const wrapper = ({ children }: { children: ReactNode }) => <StrictMode>{children}</StrictMode>;
    const { result, unmount } = renderHook(() => useWebSocket(true, { url: server.url, token: 'admin', WebSocket: WS, onlineSource: null }), {
      wrapper,
    });
    await rtlWaitFor(() => expect(result.current.state).toBe('open'));
    unmount();
    await waitFor(() => server.connections.every((c) => c.socket.readyState === c.socket.CLOSED));
  });
});

describe('WebSocketProvider', () => {
  it('throws a helpful error outside the provider', () => {
    // React reports the render error before rethrowing it; keep the test output clean
    const silence = (event: ErrorEvent): void => event.preventDefault();
    window.addEventListener('error', silence);
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      expect(() => renderHook(() => useWebSocketContext())).toThrow(/inside <WebSocketProvider>/);
    } finally {
      window.removeEventListener('error', silence);
      spy.mockRestore();
    }
  });

  it('exposes unread count, notifications, progress and markAsRead', async () => {
    server.options.unread = { count: 3, positions: { 'user:1': 5, broadcast: 0 } };
    const wrapper = ({ children }: { children: ReactNode }) => (
      <WebSocketProvider url={server.url} token="good" WebSocket={WS} onlineSource={null}>
        {children}
      </WebSocketProvider>
    );
    const { result } = renderHook(() => useWebSocketContext(), { wrapper });
    await rtlWaitFor(() => expect(result.current.isConnected).toBe(true));
    expect(result.current.unreadCount).toBe(3);
    const conn = await server.connection(0);
    conn.send({ type: 'transcode_progress', video_id: 9, status: 'processing', progress: 30, message: 'x' });
    conn.send({ type: 'system_message', message: 'hello', level: 'info', id: 1, stream: 'broadcast', offset: 1 });
    await rtlWaitFor(() => expect(result.current.unreadCount).toBe(4));
    expect(result.current.notifications).toHaveLength(1);
    expect(result.current.transcodeProgress.get(9)).toMatchObject({ progress: 30 });
    act(() => result.current.markAsRead());
    await waitFor(() => conn.received.includes('{"type":"mark_all_read"}'));
    expect(result.current.unreadCount).toBe(0);
    // a system message shows an Ant Design toast
    await rtlWaitFor(() => expect(document.body.textContent).toContain('hello'));
  });
});

describe('WebSocketProvider with an app-created client', () => {
  it('uses the client without owning it', async () => {
    const client = new HeraldClient({ url: server.url, getToken: () => 'good', WebSocket: WS, onlineSource: null });
    const view = render(
      <WebSocketProvider client={client} toasts={false}>
        <NotificationBadge labels={{ connected: 'up' }} />
      </WebSocketProvider>,
    );
    await screen.findByText('up');
    view.unmount();
    expect(client.getState()).toBe('open'); // the app owns it
    client.close();
    expect(client.getState()).toBe('closed');
  });

  it('accepts connection options grouped in `options`', async () => {
    render(
      <WebSocketProvider options={{ url: server.url, token: 'good', WebSocket: WS, onlineSource: null }} toasts={false}>
        <NotificationBadge />
      </WebSocketProvider>,
    );
    await screen.findByText('已连接');
  });
});

describe('NotificationBadge', () => {
  it('shows the unread count and the connection state text, in Chinese by default', async () => {
    server.options.unread = { count: 7, positions: { 'user:1': 5, broadcast: 0 } };
    render(
      <WebSocketProvider url={server.url} token="good" WebSocket={WS} onlineSource={null} toasts={false}>
        <NotificationBadge />
      </WebSocketProvider>,
    );
    await screen.findByText('已连接');
    expect(screen.getByRole('button', { name: 'notifications (7)' })).toBeTruthy();
    expect(document.querySelector('.ant-badge')?.textContent).toContain('7');
    (await server.connection(0)).close(4003, 'forbidden');
    await screen.findByText('连接失败');
  });

  it('speaks English with locale="en", toasts too, and labels still win', async () => {
    render(
      <WebSocketProvider url={server.url} token="good" WebSocket={WS} onlineSource={null} locale="en">
        <NotificationBadge locale="en" />
        <NotificationBadge locale="en" labels={{ connected: 'Online' }} />
        <TranscodeStatus videoId={8} locale="en" fetchStatus={async () => ({ status: 'queued', progress: 0 })} />
      </WebSocketProvider>,
    );
    await screen.findByText('Connected');
    await screen.findByText('Online');
    const conn = await server.connection(0);
    conn.send({ type: 'transcode_progress', video_id: 8, status: 'processing', progress: 20, message: '正在转码 480p (1/1)', format: '480p', step: 1, steps: 1, skipped: ['720p'], source_width: 320, source_height: 240 });
    await screen.findByText('Transcoding: 480p (1/1) · skipped: 720p, source is 320×240');
    conn.send({ type: 'system_message', message: 'maintenance at noon', level: 'info', id: 1, stream: 'broadcast', offset: 1 });
    await rtlWaitFor(() => expect(document.body.textContent).toContain('System message'));
    expect(document.body.textContent).not.toMatch(/[\u4e00-\u9fff]/);
  });

  it('takes labels for other languages', async () => {
    render(
      <WebSocketProvider url={server.url} token="good" WebSocket={WS} onlineSource={null}>
        <NotificationBadge labels={{ connected: 'Connected' }} />
      </WebSocketProvider>,
    );
    await screen.findByText('Connected');
  });
});

describe('TranscodeStatus', () => {
  it('shows progress pushed over the socket while connected', async () => {
    const fetchStatus = vi.fn(async () => ({ status: 'queued', progress: 0 }));
    render(
      <WebSocketProvider url={server.url} token="good" WebSocket={WS} onlineSource={null}>
        <NotificationBadge />
        <TranscodeStatus videoId={42} fetchStatus={fetchStatus} />
      </WebSocketProvider>,
    );
    await screen.findByText('已连接');
    (await server.connection(0)).send({ type: 'transcode_progress', video_id: 42, status: 'processing', progress: 45, message: 'encoding' });
    await screen.findByText('45%');
    expect(screen.getByText('processing: encoding')).toBeTruthy();
  });

  it('polls the status endpoint while disconnected, 3x more often than while connected', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const fetchStatus = vi.fn(async () => ({ status: 'processing', progress: 60, message: 'polled' }));
      const view = render(<TranscodeStatus videoId={5} fetchStatus={fetchStatus} pollInterval={1000} />);
      await screen.findByText('60%');
      expect(fetchStatus).toHaveBeenCalledTimes(1);
      act(() => vi.advanceTimersByTime(3000));
      expect(fetchStatus).toHaveBeenCalledTimes(4);
      view.unmount();

      // connected: the interval is 3x longer
      fetchStatus.mockClear();
      render(
        <WebSocketProvider url={server.url} token="good" WebSocket={WS} onlineSource={null}>
          <NotificationBadge />
          <TranscodeStatus videoId={5} fetchStatus={fetchStatus} pollInterval={1000} />
        </WebSocketProvider>,
      );
      await screen.findByText('已连接');
      const before = fetchStatus.mock.calls.length;
      act(() => vi.advanceTimersByTime(3000));
      expect(fetchStatus.mock.calls.length - before).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('falls back to polling when the connection drops', async () => {
    let polls = 0;
    const fetchStatus = vi.fn(async () => ({ status: 'processing', progress: 80 + Math.min(++polls, 9), message: 'polled' }));
    render(
      <WebSocketProvider url={server.url} token="good" WebSocket={WS} onlineSource={null} autoReconnect={false}>
        <NotificationBadge />
        <TranscodeStatus videoId={3} fetchStatus={fetchStatus} pollInterval={40} />
      </WebSocketProvider>,
    );
    await screen.findByText('已连接');
    const conn = await server.connection(0);
    conn.send({ type: 'transcode_progress', video_id: 3, status: 'processing', progress: 50, message: 'pushed' });
    await screen.findByText('processing: pushed'); // pushed wins while connected
    const whileConnected = fetchStatus.mock.calls.length;
    conn.close(1011, 'server error');
    await screen.findByText('已断开');
    await screen.findByText('processing: polled'); // polled wins while disconnected
    await rtlWaitFor(() => expect(fetchStatus.mock.calls.length).toBeGreaterThan(whileConnected + 3));
  });

  it('polls the default endpoint through the provider client when disconnected', async () => {
    server.options.transcodeStatus = (id) => ({ status: 'completed', progress: 100, message: `video ${id}` });
    render(
      <WebSocketProvider url={server.url} token="good" WebSocket={WS} onlineSource={null} autoConnect={false}>
        <TranscodeStatus videoId={77} />
      </WebSocketProvider>,
    );
    await screen.findByText('completed: video 77');
    expect(server.requests).toEqual([{ path: '/api/v1/videos/77/transcode-status', authorization: 'Bearer good' }]);
  });
});

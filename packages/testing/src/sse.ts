import { request, type IncomingMessage } from 'node:http';
import { until } from './wait.js';

/** One Server-Sent Event as read off the wire. */
export interface SseEvent {
  event: string;
  id: string | undefined;
  data: string;
}

/** A raw SSE stream for tests: every event, the JSON messages, the close event, and the socket to pause. */
export interface TestSse {
  events: SseEvent[];
  /** The JSON messages of `message` events, in order. */
  messages: Array<Record<string, unknown> & { type: string }>;
  /** The comment lines seen (heartbeats). */
  comments: string[];
  status: Promise<number>;
  response: Promise<IncomingMessage>;
  /** The `event: close` payload, once the stream ended (undefined if it ended without one). */
  ended: Promise<{ code: number; reason: string } | undefined>;
  /** The last `id:` received (what a browser sends as `Last-Event-ID`). */
  lastEventId(): string | undefined;
  of(type: string): Array<Record<string, unknown>>;
  waitFor(test: (message: Record<string, unknown> & { type: string }) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  pause(): void;
  resume(): void;
  close(): void;
}

/** Opens `url` as an event stream with raw `http` (headers such as `Last-Event-ID`, `Origin`, `Authorization` pass as given). */
export function openSse(url: string, headers: Record<string, string> = {}): TestSse {
  const events: SseEvent[] = [];
  const messages: TestSse['messages'] = [];
  const comments: string[] = [];
  let lastId: string | undefined;
  let closeEvent: { code: number; reason: string } | undefined;
  let res: IncomingMessage | undefined;
  let resolveEnded!: (value: { code: number; reason: string } | undefined) => void;
  const ended = new Promise<{ code: number; reason: string } | undefined>((resolve) => (resolveEnded = resolve));
  const req = request(url, { headers: { accept: 'text/event-stream', ...headers } });
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req.on('response', resolve);
    req.on('error', reject);
  });
  req.on('error', () => resolveEnded(closeEvent));
  req.end();
  void response.then(
    (r) => {
      res = r;
      r.setEncoding('utf8');
      let buffer = '';
      let current: { event: string; id: string | undefined; data: string[] } = { event: 'message', id: undefined, data: [] };
      r.on('data', (chunk: string) => {
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) !== -1) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          if (line === '') {
            if (current.data.length > 0) {
              const event = { event: current.event, id: current.id, data: current.data.join('\n') };
              events.push(event);
              if (event.event === 'message') messages.push(JSON.parse(event.data));
              if (event.event === 'close') closeEvent = JSON.parse(event.data);
            }
            current = { event: 'message', id: undefined, data: [] };
          } else if (line.startsWith(':')) comments.push(line);
          else {
            const colon = line.indexOf(':');
            const field = colon === -1 ? line : line.slice(0, colon);
            const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'data') current.data.push(value);
            else if (field === 'event') current.event = value;
            else if (field === 'id') current.id = lastId = value;
          }
        }
      });
      r.on('end', () => resolveEnded(closeEvent));
      r.on('close', () => resolveEnded(closeEvent));
      r.on('error', () => resolveEnded(closeEvent));
    },
    () => resolveEnded(undefined),
  );
  return {
    events,
    messages,
    comments,
    response,
    status: response.then((r) => r.statusCode ?? 0),
    ended,
    lastEventId: () => lastId,
    of: (type) => messages.filter((m) => m.type === type),
    async waitFor(test, timeoutMs = 10_000) {
      await until(() => messages.some(test), timeoutMs, 'an SSE message');
      return messages.find(test)!;
    },
    pause: () => res?.pause(),
    resume: () => res?.resume(),
    close: () => req.destroy(),
  };
}

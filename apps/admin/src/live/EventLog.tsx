import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import type { ServerMessage } from '@herald/protocol';
import { useWebSocketContext } from '@herald/react';

/** One line of the dashboard's live feed. */
export interface LoggedEvent {
  /** Local sequence number, a stable React key. */
  seq: number;
  at: string;
  message: ServerMessage;
}

const LIMIT = 50;
const EventLogContext = createContext<readonly LoggedEvent[]>([]);

/**
 * Keeps the latest server messages of the shared connection from page load on, so the
 * dashboard's feed is not empty just because it was opened after the events happened.
 * Progress ticks of one job replace each other instead of filling the list.
 */
export function EventLogProvider({ children }: { children: ReactNode }): ReactNode {
  const { client } = useWebSocketContext();
  const [events, setEvents] = useState<readonly LoggedEvent[]>([]);
  const seq = useRef(0); // survives a new client, so keys stay unique
  useEffect(() => {
    if (!client) return undefined;
    return client.on('message', (message) => {
      if (message.type === 'stats') return;
      const entry: LoggedEvent = { seq: ++seq.current, at: new Date().toISOString(), message };
      setEvents((current) => {
        const head = current[0];
        const sameJob =
          head && message.type === 'transcode_progress' && head.message.type === 'transcode_progress' && head.message.video_id === message.video_id;
        return [entry, ...(sameJob ? current.slice(1) : current)].slice(0, LIMIT);
      });
    });
  }, [client]);
  return <EventLogContext.Provider value={events}>{children}</EventLogContext.Provider>;
}

export function useEventLog(): readonly LoggedEvent[] {
  return useContext(EventLogContext);
}

import type { ConnectionStats, Level } from '@herald/protocol';
import type { SessionUser } from '../auth/session.js';

export type { ConnectionStats, Level };

export type User = SessionUser & { created_at?: string };

export interface StatsByNode extends ConnectionStats {
  nodes?: Record<string, ConnectionStats>;
}

export type NotificationType = 'system_message' | 'transcode_complete' | 'transcode_failed';

/** One inbox entry: the wire message plus its id, stream position and read state. */
export interface InboxItem {
  id: number;
  type: NotificationType | string;
  stream: string;
  offset: number;
  timestamp: string;
  read: boolean;
  message?: string;
  level?: Level;
  video_id?: number;
  title?: string;
  format_type?: string;
  file_size?: number;
  error?: string;
}

export interface InboxPage {
  items: InboxItem[];
  next_cursor: number | null;
  unread_count: number;
}

export type VideoStatus = 'uploaded' | 'queued' | 'processing' | 'retrying' | 'completed' | 'failed' | 'cancelled';

export interface VideoOutput {
  format_type: string;
  file_size: number;
}

export interface Video {
  id: number;
  title: string;
  duration: number | null;
  width: number | null;
  height: number | null;
  size: number;
  created_at: string;
  status: VideoStatus;
  progress: number;
  message: string | null;
  job_id: string | null;
  formats: string[];
  outputs: VideoOutput[];
  error: string | null;
}

export interface TranscodeStatusBody {
  video_id: number;
  job_id: string | null;
  status: VideoStatus;
  progress: number;
  message: string;
  formats: string[];
  outputs: VideoOutput[];
  error: string | null;
}

export interface Preset {
  name: string;
  label: string;
  available: boolean;
}

export type Target = 'all' | 'admin' | number;

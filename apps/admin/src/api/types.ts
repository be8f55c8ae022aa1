// The console's API types. The hub's bodies (users, inbox, publish, stats) are derived from the
// server's TypeBox schemas (packages/server/src/http/schemas.ts), imported type-only: nothing of
// the server is bundled, and `npm run typecheck -w apps/admin` fails when a schema changes in a
// way the console does not follow.
import type { ConnectionStats } from '@herald/protocol';
import type {
  CreateUserBodyT,
  InboxPageT,
  LevelT,
  NotificationBodyT,
  PublishAcceptedT,
  PublishBodyT,
  StatsBodyT,
  TargetT,
  UnreadBodyT,
  UserBodyT,
} from '@herald/server/schemas';

export type { ConnectionStats };

export type Level = LevelT;
export type Target = TargetT;
export type User = UserBodyT;
export type StatsByNode = StatsBodyT;
export type Unread = UnreadBodyT;
export type PublishBody = PublishBodyT;
export type PublishAccepted = PublishAcceptedT;
export type CreateUserBody = CreateUserBodyT;

export type NotificationType = 'system_message' | 'transcode_complete' | 'transcode_failed';

/**
 * One inbox entry: id, stream position and read state (from the schema), plus the wire
 * fields of the persisted message types, which the schema passes through unchecked.
 */
export type InboxItem = NotificationBodyT & {
  type: NotificationType | string;
  message?: string;
  level?: Level;
  video_id?: number;
  title?: string;
  format_type?: string;
  file_size?: number;
  error?: string;
};

export type InboxPage = Omit<InboxPageT, 'items'> & { items: InboxItem[] };

// ---- videos and transcoding: still written by hand. Their schemas live with the transcode
// routes, which are moving to their own package; derive these from there once it exports them.

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

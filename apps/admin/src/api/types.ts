// The console's API types, none written by hand. The hub's bodies (users, inbox, publish, stats) are derived from the
// server's TypeBox schemas (packages/server/src/http/schemas.ts), imported type-only: nothing of
// the server is bundled, and `npm run typecheck -w apps/admin` fails when a schema changes in a
// way the console does not follow.
import type { ConnectionStats } from '@herald/protocol';
import type { OutputT, PresetT, StatusBodyT, VideoBodyT } from '@herald/transcode/schemas';
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

// ---- videos and transcoding: derived from @herald/transcode's schemas (type-only). `status`
// is a string there; the console narrows it to the statuses it knows how to show.

export type VideoStatus = 'uploaded' | 'queued' | 'processing' | 'retrying' | 'completed' | 'failed' | 'cancelled';
export type VideoOutput = OutputT;
export type Video = Omit<VideoBodyT, 'status'> & { status: VideoStatus };
export type TranscodeStatusBody = Omit<StatusBodyT, 'status'> & { status: VideoStatus };
export type Preset = PresetT;

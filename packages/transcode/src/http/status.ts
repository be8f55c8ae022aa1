import { ErrorCode } from '@herald/protocol';

/**
 * The one place where the transcode package's error codes become HTTP statuses. Codes
 * not listed here are server-side failures (500).
 */
export function httpStatusOf(code: string): number {
  switch (code) {
    case ErrorCode.VALIDATION:
    case ErrorCode.TRANSCODE_UNKNOWN_PRESET:
    case ErrorCode.TRANSCODE_INVALID_JOB:
      return 400;
    case ErrorCode.NOT_FOUND:
      return 404;
    case ErrorCode.CONFLICT:
    case ErrorCode.TRANSCODE_CANCELLED:
      return 409;
    case ErrorCode.TOO_LARGE:
      return 413;
    case ErrorCode.UNSUPPORTED_MEDIA_TYPE:
      return 415;
    case ErrorCode.NOT_A_VIDEO:
    case ErrorCode.TRANSCODE_NOT_A_VIDEO:
      return 422;
    case ErrorCode.UNAVAILABLE:
    case ErrorCode.TRANSCODE_FFMPEG_NOT_FOUND:
    case ErrorCode.TRANSCODE_SHUTDOWN:
    case ErrorCode.TRANSCODE_REDIS_UNAVAILABLE:
      return 503;
    default:
      return 500;
  }
}

export { SSE_ADMIN_PATH, SSE_REFRESH_PATH, SSE_RETRY_MS, SSE_USER_PATH, sseRoutes, sseSince, sseToken } from './routes.js';
export { SSE_SESSION_HEADER, SseSessions } from './refresh.js';
export { HEARTBEAT_COMMENT, SseSocket } from './socket.js';

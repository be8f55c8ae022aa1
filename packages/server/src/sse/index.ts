export { SSE_ADMIN_PATH, SSE_RETRY_MS, SSE_USER_PATH, sseRoutes, sseSince, sseToken } from './routes.js';
export { HEARTBEAT_COMMENT, SseSocket } from './socket.js';

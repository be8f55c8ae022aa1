export { ConnectionManager } from './manager.js';
export { Connection, type ConnectionState } from './connection.js';
export { WebSocketGateway, WS_ADMIN_PATH, WS_USER_PATH, tokenFrom } from './gateway.js';

export { useWebSocket, ConnectionRegistry, HeraldRegistryProvider } from '@herald/react'
export { TranscodeStatus } from '@herald/react/antd'

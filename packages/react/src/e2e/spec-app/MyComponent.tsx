// §2.1 useWebSocket of the specification, verbatim. Changed: the import path of
// useWebSocket; added: the import of antd's `notification` the example uses, and the export.
import { notification } from 'antd'
import { useWebSocket } from '@herald/react'

function MyComponent() {
  const { isConnected, lastMessage, sendMessage } = useWebSocket(true, {
    autoConnect: true,
    autoReconnect: true,
    reconnectInterval: 3000,
    maxReconnectAttempts: 5,
    heartbeatInterval: 30000,

    onTranscodeProgress: (message) => {
      console.log(`视频${message.video_id}转码进度: ${message.progress}%`)
    },

    onTranscodeComplete: (message) => {
      notification.success({ message: `转码完成: ${message.title}` })
    },

    onConnect: () => {
      console.log('WebSocket已连接')
    },
  })

  return (
    <div>
      <span>连接状态: {isConnected ? '已连接' : '已断开'}</span>
      <button onClick={() => sendMessage('get_stats')}>获取统计</button>
    </div>
  )
}

export default MyComponent

// §2.2 WebSocketContext of the specification, verbatim. Changed: the import paths
// ('@/contexts/WebSocketContext' → '@herald/react/antd' for the provider with Ant Design
// toasts, '@herald/react' for the hook); added: the imports of Badge, BellOutlined and of
// the test page's own content (YourApp), and the exports.
import { Badge } from 'antd'
import { BellOutlined } from '@ant-design/icons'
import YourApp from './YourApp.js'

// 在App.tsx中包裹根组件
import { WebSocketProvider } from '@herald/react/antd'

function App() {
  return (
    <WebSocketProvider>
      <YourApp />
    </WebSocketProvider>
  )
}

// 在子组件中使用
import { useWebSocketContext } from '@herald/react'

function Header() {
  const { isConnected, unreadCount, markAsRead } = useWebSocketContext()

  return (
    <Badge count={unreadCount}>
      <BellOutlined onClick={markAsRead} />
    </Badge>
  )
}

export default App
export { Header }

// The specification's "混合模式" snippet (问题3: 消息丢失), verbatim inside a component.
// Added: the imports, the component around it, and a `fetchStatus` for it to call.
import { useEffect } from 'react'
import { useWebSocket } from '@herald/react'

const fetchStatus = () => {
  const token = localStorage.getItem('token')
  void fetch('/api/v1/ws/stats?from=hybrid', { headers: { authorization: `Bearer ${token}` } })
}

function Hybrid() {
  // 使用混合模式 (WebSocket + 轮询)
  const { isConnected } = useWebSocket(true, {
    autoReconnect: true,
  })

  useEffect(() => {
    if (!isConnected) {
      // WebSocket断开时,回退到轮询
      const timer = setInterval(fetchStatus, 5000)
      return () => clearInterval(timer)
    }
  }, [isConnected])

  return <span data-testid="hybrid">{isConnected ? 'live' : 'polling'}</span>
}

export default Hybrid

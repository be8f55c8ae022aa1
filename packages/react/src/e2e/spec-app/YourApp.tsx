// The test page's own content (not specification code): the specification's components,
// plus a recorder that lets the browser tests read what this tab received.
import { useWebSocket, TranscodeStatus } from './herald.js'
import { Header as ContextHeader } from './App.js'
import BadgeHeader from './BadgeHeader.js'
import MyComponent from './MyComponent.js'
import Hybrid from './Hybrid.js'

const params = new URLSearchParams(location.search)
const videoId = Number(params.get('video') ?? '1')
const pollInterval = Number(params.get('poll') ?? '5000')

declare global {
  interface Window {
    heraldLog: string[]
  }
}
window.heraldLog = []

/** Records every system message this tab's connection delivers, in order. */
export function Recorder() {
  useWebSocket(true, { onSystemMessage: (m) => void window.heraldLog.push(m.message) })
  return null
}

export default function YourApp() {
  return (
    <div>
      <div data-testid="context-header"><ContextHeader /></div>
      <div data-testid="badge-header"><BadgeHeader /></div>
      <div data-testid="transcode"><TranscodeStatus videoId={videoId} pollInterval={pollInterval} /></div>
      {params.has('hybrid') && <Hybrid />}
      {params.has('hooks') && <MyComponent />}
    </div>
  )
}

/** Three components with their own `useWebSocket`, no provider (the "3 hooks per tab" page). */
export function HooksPage() {
  return (
    <div>
      <Recorder />
      <div data-testid="hook-1"><MyComponent /></div>
      <div data-testid="hook-2"><MyComponent /></div>
      <div data-testid="hook-3"><MyComponent /></div>
    </div>
  )
}

// Entry of the browser tests' page: `?page=hooks` shows three hooks without a provider,
// anything else the specification's App; `?crossTab=0` turns cross-tab sharing off.
import { createRoot } from 'react-dom/client'
import App from './App.js'
import { HooksPage } from './YourApp.js'
import { ConnectionRegistry, HeraldRegistryProvider } from './herald.js'

const params = new URLSearchParams(location.search)
const page = params.get('page') === 'hooks' ? <HooksPage /> : <App />
const root = createRoot(document.getElementById('root')!)
root.render(
  params.get('crossTab') === '0' ? (
    <HeraldRegistryProvider registry={new ConnectionRegistry({ crossTab: false })}>{page}</HeraldRegistryProvider>
  ) : (
    page
  ),
)

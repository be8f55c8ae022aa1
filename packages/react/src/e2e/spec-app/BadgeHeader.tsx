// §2.3 NotificationBadge of the specification, verbatim. Changed: the import path
// ('@/components/NotificationBadge' → '@herald/react/antd', a named export there); added:
// Logo and UserMenu, which the example assumes exist, and the export.
import { NotificationBadge } from '@herald/react/antd'

const Logo = () => <strong>VideoSite</strong>
const UserMenu = () => <span>admin</span>

function Header() {
  return (
    <div className="header">
      <Logo />
      <NotificationBadge />
      <UserMenu />
    </div>
  )
}

export default Header

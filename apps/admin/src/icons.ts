/**
 * The console's icons, one module each (not the `@ant-design/icons` index), so a page's
 * chunk carries only the icons it shows.
 */
export { default as BellOutlined } from '@ant-design/icons/es/icons/BellOutlined';
export { default as DashboardOutlined } from '@ant-design/icons/es/icons/DashboardOutlined';
export { default as LockOutlined } from '@ant-design/icons/es/icons/LockOutlined';
export { default as LogoutOutlined } from '@ant-design/icons/es/icons/LogoutOutlined';
export { default as MenuOutlined } from '@ant-design/icons/es/icons/MenuOutlined';
export { default as NotificationOutlined } from '@ant-design/icons/es/icons/NotificationOutlined';
export { default as ReloadOutlined } from '@ant-design/icons/es/icons/ReloadOutlined';
export { default as SendOutlined } from '@ant-design/icons/es/icons/SendOutlined';
export { default as StopOutlined } from '@ant-design/icons/es/icons/StopOutlined';
export { default as TeamOutlined } from '@ant-design/icons/es/icons/TeamOutlined';
export { default as ThunderboltOutlined } from '@ant-design/icons/es/icons/ThunderboltOutlined';
export { default as TranslationOutlined } from '@ant-design/icons/es/icons/TranslationOutlined';
export { default as UploadOutlined } from '@ant-design/icons/es/icons/UploadOutlined';
export { default as UserAddOutlined } from '@ant-design/icons/es/icons/UserAddOutlined';
export { default as UserOutlined } from '@ant-design/icons/es/icons/UserOutlined';
export { default as VideoCameraOutlined } from '@ant-design/icons/es/icons/VideoCameraOutlined';

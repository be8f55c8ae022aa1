/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** WebSocket base URL (`ws(s)://host[:port]`); default: the page's own origin. */
  readonly VITE_WS_URL?: string;
}

/** Ant Design icons imported one module per icon (see icons.ts); the package ships no types at this path. */
declare module '@ant-design/icons/es/icons/*' {
  const Icon: import('react').ForwardRefExoticComponent<
    Omit<import('@ant-design/icons/lib/components/AntdIcon').AntdIconProps, 'ref'> & import('react').RefAttributes<HTMLSpanElement>
  >;
  export default Icon;
}

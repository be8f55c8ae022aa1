import { createContext, useContext, type ReactNode } from 'react';
import { defaultRegistry, type ConnectionRegistry } from '@herald/client';

const RegistryContext = createContext<ConnectionRegistry | null>(null);
RegistryContext.displayName = 'HeraldRegistryContext';

/**
 * Makes `registry` the one that hooks and providers below share connections through
 * (instead of `defaultRegistry`), e.g. to turn cross-tab sharing off:
 *
 * @example
 * const registry = new ConnectionRegistry({ crossTab: false });
 * <HeraldRegistryProvider registry={registry}><App /></HeraldRegistryProvider>
 */
export function HeraldRegistryProvider({ registry, children }: { registry: ConnectionRegistry; children?: ReactNode }): ReactNode {
  return <RegistryContext.Provider value={registry}>{children}</RegistryContext.Provider>;
}

/** The registry of the nearest `HeraldRegistryProvider`, or `defaultRegistry`. */
export function useRegistry(): ConnectionRegistry {
  return useContext(RegistryContext) ?? defaultRegistry;
}

import type { NetworkSettings } from '../../tasks/common/http/network';

/** No proxy, system CAs only: the network settings of an agent without proxy configuration. */
export const DIRECT: NetworkSettings = { proxyBypass: [] };

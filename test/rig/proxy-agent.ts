import type { Agent } from 'node:http';
import { HttpsProxyAgent } from 'https-proxy-agent';
import type { Rig } from './rig';

/**
 * An agent that sends requests through the rig's proxy and trusts its test CA, for SDK clients
 * inside the test process (pass it as the `agent` client option). The CA goes on
 * `agent.options` after construction: https-proxy-agent 7 does not use a `ca` given to its
 * constructor for the connection to the target.
 */
export function rigProxyAgent(rig: Pick<Rig, 'proxyUrl' | 'caPem'>, auth?: { username: string; password: string }): Agent {
  const url = new URL(rig.proxyUrl);
  if (auth) {
    url.username = encodeURIComponent(auth.username);
    url.password = encodeURIComponent(auth.password);
  }
  const agent = new HttpsProxyAgent(url);
  agent.options.ca = rig.caPem;
  return agent;
}

/**
 * The approach users run today, as a tiny script: PATCH the deployment's jarUri, sleep 90 s,
 * read the deployment once, and call it a success iff `status.state == RUNNING`. The shell
 * original:
 *
 *   curl -sf -X PATCH -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
 *     -d "{\"spec\":{\"template\":{\"spec\":{\"artifact\":{\"kind\":\"JAR\",\"jarUri\":\"$JAR\"}}}}}" \
 *     "$VVP/api/v1/namespaces/$NS/deployments/$NAME"
 *   sleep 90
 *   curl -sf -H "Authorization: Bearer $TOKEN" "$VVP/api/v1/namespaces/$NS/deployments/$NAME" \
 *     | jq -e '.status.state == "RUNNING"'
 *
 * `sleepMs` lets the benchmark run it against a time-scaled simulator (90 s x timeScale).
 */

export interface HandWrittenOptions {
  baseUrl: string;
  token: string;
  namespace: string;
  deployment: string;
  jarUri: string;
  /** Default 90 000. */
  sleepMs?: number;
}

export interface HandWrittenResult {
  verdict: 'success' | 'failure';
  /** `status.state` read after the sleep (or the PATCH error). */
  observed: string;
  /** `status.running.jobId` read after the sleep. */
  observedJobId?: string;
  /** Epoch ms when the PATCH was sent and when the script ended. */
  patchedAt: number;
  endedAt: number;
}

export async function handWrittenDeploy(o: HandWrittenOptions): Promise<HandWrittenResult> {
  const url = `${o.baseUrl.replace(/\/+$/, '')}/api/v1/namespaces/${encodeURIComponent(o.namespace)}/deployments/${encodeURIComponent(o.deployment)}`;
  const auth = { Authorization: `Bearer ${o.token}` };
  const patchedAt = Date.now();
  const patch = await fetch(url, {
    method: 'PATCH',
    headers: { ...auth, 'Content-Type': 'application/json' },
    body: JSON.stringify({ spec: { template: { spec: { artifact: { kind: 'JAR', jarUri: o.jarUri } } } } }),
  });
  await patch.arrayBuffer();
  if (!patch.ok) return { verdict: 'failure', observed: `PATCH HTTP ${patch.status}`, patchedAt, endedAt: Date.now() };
  await new Promise((resolve) => setTimeout(resolve, o.sleepMs ?? 90_000));
  const get = await fetch(url, { headers: auth });
  const body = (await get.json().catch(() => ({}))) as { status?: { state?: string; running?: { jobId?: string } } };
  const state = get.ok ? (body.status?.state ?? '(none)') : `GET HTTP ${get.status}`;
  return { verdict: state === 'RUNNING' ? 'success' : 'failure', observed: state, observedJobId: body.status?.running?.jobId, patchedAt, endedAt: Date.now() };
}

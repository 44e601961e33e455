/**
 * A core-rest-pipeline policy (structural, so no SDK type leaks in) that turns a 3xx answer
 * into a clear error. With `redirectOptions: { maxRetries: 0 }` the SDK no longer follows a
 * redirect, but hands the 3xx to its deserializer, which reports an empty 302 as
 * "Cannot read properties of undefined". This says what happened and where it pointed.
 */

/** The parts of a pipeline response the policy reads. */
interface RedirectResponse {
  status: number;
  headers: { get(name: string): string | undefined };
  request: { url: string };
}

/** The structural shape of a core-rest-pipeline policy (what `additionalPolicies` takes). */
interface RefuseRedirectsPolicy {
  name: string;
  sendRequest<Q, R extends RedirectResponse>(request: Q, next: (request: Q) => Promise<R>): Promise<R>;
}

/**
 * Fails every 3xx answer with an error shaped like the SDK's `RestError` (name, `statusCode`),
 * whose message names the target as origin and path (its query may carry
 * a code or token). Add it with `position: 'perCall'` next to `redirectOptions: { maxRetries: 0 }`.
 */
export function refuseRedirectsPolicy(service: string): RefuseRedirectsPolicy {
  return {
    name: 'vvpRefuseRedirects',
    async sendRequest(request, next) {
      const response = await next(request);
      if (response.status < 300 || response.status >= 400) return response;
      const target = redirectTarget(response.headers.get('location'), response.request.url);
      const error = new Error(
        `${service} answered with a redirect (HTTP ${response.status})${target ? ` to ${target}` : ''}; it is not followed, so the token goes nowhere else`,
      ) as Error & { statusCode: number };
      error.name = 'RestError';
      error.statusCode = response.status;
      throw error;
    },
  };
}

function redirectTarget(location: string | undefined, base: string): string | undefined {
  if (!location) return undefined;
  try {
    const url = new URL(location, base);
    return `${url.origin}${url.pathname}`;
  } catch {
    return location.replace(/[?#].*$/s, '').slice(0, 200);
  }
}

/**
 * Paths into a deployment document as users read them in a plan or a validation message:
 * `spec.template.spec.parallelism`, `spec.template.spec.kubernetes.pods.envVars[0].name`,
 * `metadata.annotations["azure-pipelines/run"]`.
 */

/** One step of a path: an object key or an array index. */
export type PathSegment = string | number;

/** Keys written with a dot; anything else (dots, slashes, spaces, empty) is quoted in brackets. */
const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/**
 * Renders a path: plain keys joined by dots, array indices as `[0]`, other keys as `["key"]`
 * (JSON-quoted, so a flinkConfiguration key such as `state.backend` stays one step).
 * The empty path renders as `(document)`.
 */
export function formatPath(segments: readonly PathSegment[]): string {
  if (segments.length === 0) return '(document)';
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

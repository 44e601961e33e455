/**
 * Configuration keys whose values are credentials. Flink hides the values of such keys in its
 * own logs and web UI (`GlobalConfiguration.isSensitive`); the tasks mask them the same way in
 * plans, diffs, messages and summaries, from the live deployment and from the spec file alike.
 * The key names still show.
 */
import { MASK } from './jar-uri-secrets';
import { isJsonObject, type JsonValue } from './resources';

/** Parts of a key (case-insensitive) that make its value a credential. */
const SENSITIVE_KEY_PARTS = ['password', 'secret', 'fs.azure.account.key', 'apikey', 'api-key', 'auth-params', 'service-key', 'token', 'basic-auth', 'jaas.config', 'http-headers'] as const;

/** True when a configuration key's value is a credential (its name contains one of the parts). */
export function isSensitiveConfigKey(key: string): boolean {
  const lower = key.toLowerCase();
  return SENSITIVE_KEY_PARTS.some((part) => lower.includes(part));
}

/** `value` with the value of every sensitive key, at any depth, replaced by `***`. */
export function maskSensitiveValues<T extends JsonValue | undefined>(value: T): T {
  if (Array.isArray(value)) return value.map((item) => maskSensitiveValues(item)) as T;
  if (!isJsonObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, isSensitiveConfigKey(key) && item !== null ? MASK : maskSensitiveValues(item)])) as T;
}

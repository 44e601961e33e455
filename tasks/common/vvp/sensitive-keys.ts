import { MASK } from './jar-uri-secrets';
import { isJsonObject, type JsonValue } from './resources';

/**
 * Which configuration keys hold credentials, by the rule Flink uses to hide values in its logs
 * and web UI (`GlobalConfiguration.isSensitive`, plus the connector and Azure keys the task's
 * spec names): a key is sensitive when it contains, case-insensitive, one of these parts. The
 * same rule applies to `flinkConfiguration` keys and to SQL `WITH ( … )` option keys.
 */
const SENSITIVE_KEY_PARTS: readonly string[] = [
  'password',
  'secret',
  'fs.azure.account.key',
  'apikey',
  'api-key',
  'auth-params',
  'service-key',
  'token',
  'basic-auth',
  'jaas.config',
  'http-headers',
];

/** True when the value of configuration key `key` must not be shown (plans, diffs, messages, summaries). */
export function isSensitiveConfigKey(key: string): boolean {
  const lower = key.toLowerCase();
  return SENSITIVE_KEY_PARTS.some((part) => lower.includes(part));
}

/** `value` with the value of every sensitive key, at any depth, replaced by `***`; key names kept. */
export function maskSensitiveValues<T extends JsonValue | undefined>(value: T): T {
  if (Array.isArray(value)) return value.map((item) => maskSensitiveValues(item)) as T;
  if (!isJsonObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, isSensitiveConfigKey(key) && item !== null ? MASK : maskSensitiveValues(item)])) as T;
}

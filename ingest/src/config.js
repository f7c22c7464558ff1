// The ingest service's configuration, read from Worker vars and secrets (or process.env under
// the Node adapter). Every setting, its default and meaning is in ingest/README.md; this is the
// one place that reads them. An invalid setting makes every request answer 500 `misconfigured`
// (and /healthz 503) with a one-line reason, rather than relaying with a guessed setting.

const INT_SETTINGS = {
  MAX_BODY_BYTES: 1_048_576,
  MAX_DECOMPRESSED_BYTES: 8_388_608,
  MAX_SPANS_PER_REQUEST: 5000,
  MAX_VALUES_PER_REQUEST: 500_000,
  MAX_ATTRIBUTE_BYTES: 65_536,
  MAX_ATTRIBUTE_DEPTH: 8,
  MAX_ATTRIBUTES_PER_SPAN: 1000,
  MAX_FUTURE_SECONDS: 86_400,
  RATE_LIMIT_PER_MINUTE: 600,
  RELAY_ATTEMPTS: 3,
  RELAY_TIMEOUT_MS: 10_000,
  RETRY_AFTER_SECONDS: 10,
  QUEUE_RETRY_DELAY_SECONDS: 0,
  RELAY_BATCH_BYTES: 4_194_304,
};

/** A Cloudflare Queue message holds at most 128 KB; payloads for the queue stay under this. */
export const QUEUE_PAYLOAD_BYTES = 100_000;

export class ConfigError extends Error {}

function intSetting(env, name) {
  const raw = env[name];
  if (raw === undefined || raw === null || raw === '') return INT_SETTINGS[name];
  const n = typeof raw === 'number' ? raw : Number(String(raw).trim());
  if (!Number.isInteger(n) || n < 0) throw new ConfigError(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return n;
}

function jsonSetting(env, name, fallback) {
  const raw = env[name];
  if (raw === undefined || raw === null || raw === '') return fallback;
  if (typeof raw !== 'string') return raw; // a TOML table or JSON var arrives parsed
  try {
    return JSON.parse(raw);
  } catch (e) {
    throw new ConfigError(`${name} is not valid JSON: ${e.message}`);
  }
}

function boolSetting(env, name, fallback) {
  const raw = env[name];
  if (raw === undefined || raw === null || raw === '') return fallback;
  const s = String(raw).trim().toLowerCase();
  if (s === 'true' || s === '1') return true;
  if (s === 'false' || s === '0') return false;
  throw new ConfigError(`${name} must be true or false, got ${JSON.stringify(raw)}`);
}

/**
 * Reads and checks the configuration.
 * @returns {{mlflowUri: string, auth: string|null, keys: Map<string, {origins: string[], experimentId: string, revoked: boolean}>,
 *   allOrigins: Set<string>, anyOrigin: boolean, limits: object, core: object, queue: boolean}}
 */
export function readConfig(env) {
  const uri = String(env.MLFLOW_TRACKING_URI || '').trim().replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+/.test(uri)) throw new ConfigError('MLFLOW_TRACKING_URI must be an http(s) URL');
  let auth = null;
  if (env.MLFLOW_TRACKING_TOKEN) auth = `Bearer ${env.MLFLOW_TRACKING_TOKEN}`;
  else if (env.MLFLOW_TRACKING_USERNAME) {
    auth = `Basic ${btoa(`${env.MLFLOW_TRACKING_USERNAME}:${env.MLFLOW_TRACKING_PASSWORD || ''}`)}`;
  }
  const defaultExperiment = String(env.MLFLOW_EXPERIMENT_ID ?? '0');
  const rawKeys = jsonSetting(env, 'INGEST_KEYS', null);
  if (!rawKeys || typeof rawKeys !== 'object' || Array.isArray(rawKeys) || Object.keys(rawKeys).length === 0) {
    throw new ConfigError('INGEST_KEYS must be a JSON object of at least one key: {"pk_…": {"origins": [...], "experimentId": "1"}}');
  }
  const revokedList = String(env.REVOKED_KEYS || '').split(',').map((s) => s.trim()).filter(Boolean);
  const keys = new Map();
  const allOrigins = new Set();
  let anyOrigin = false;
  for (const [key, spec] of Object.entries(rawKeys)) {
    if (!spec || typeof spec !== 'object') throw new ConfigError(`INGEST_KEYS["${key}"] must be an object`);
    const origins = spec.origins ?? [];
    if (!Array.isArray(origins) || origins.some((o) => typeof o !== 'string')) {
      throw new ConfigError(`INGEST_KEYS["${key}"].origins must be an array of origins like "https://app.example.com"`);
    }
    for (const o of origins) {
      if (o !== '*' && !/^https?:\/\/[^/\s]+$/.test(o)) throw new ConfigError(`INGEST_KEYS["${key}"]: "${o}" is not an origin (scheme://host[:port], no path)`);
    }
    const revoked = spec.revoked === true || revokedList.includes(key);
    const experimentId = String(spec.experimentId ?? defaultExperiment);
    const ratePerMinute = spec.ratePerMinute ?? null;
    if (ratePerMinute !== null && !(Number.isInteger(ratePerMinute) && ratePerMinute >= 0)) {
      throw new ConfigError(`INGEST_KEYS["${key}"].ratePerMinute must be a non-negative integer`);
    }
    keys.set(key, { origins, experimentId, revoked, ratePerMinute });
    if (!revoked) {
      for (const o of origins) o === '*' ? (anyOrigin = true) : allOrigins.add(o);
    }
  }
  const limits = {
    maxBodyBytes: intSetting(env, 'MAX_BODY_BYTES'),
    maxDecompressedBytes: intSetting(env, 'MAX_DECOMPRESSED_BYTES'),
    ratePerMinute: intSetting(env, 'RATE_LIMIT_PER_MINUTE'),
    relayAttempts: Math.max(1, intSetting(env, 'RELAY_ATTEMPTS')),
    relayTimeoutMs: intSetting(env, 'RELAY_TIMEOUT_MS'),
    retryAfterSeconds: intSetting(env, 'RETRY_AFTER_SECONDS'),
    queueRetryDelaySeconds: intSetting(env, 'QUEUE_RETRY_DELAY_SECONDS'),
    relayBatchBytes: intSetting(env, 'RELAY_BATCH_BYTES'),
    allowNoOrigin: boolSetting(env, 'ALLOW_NO_ORIGIN', true),
    checkTraceOwners: boolSetting(env, 'CHECK_TRACE_OWNERS', true),
  };
  const queue = Boolean(env.TRACE_QUEUE);
  const core = {
    maxSpansPerRequest: intSetting(env, 'MAX_SPANS_PER_REQUEST'),
    maxValuesPerRequest: intSetting(env, 'MAX_VALUES_PER_REQUEST'),
    maxAttributeBytes: intSetting(env, 'MAX_ATTRIBUTE_BYTES'),
    maxAttributeDepth: intSetting(env, 'MAX_ATTRIBUTE_DEPTH'),
    maxAttributesPerSpan: intSetting(env, 'MAX_ATTRIBUTES_PER_SPAN'),
    maxFutureSeconds: intSetting(env, 'MAX_FUTURE_SECONDS'),
    maxPayloadBytes: queue ? QUEUE_PAYLOAD_BYTES : 0,
    defaultRedaction: boolSetting(env, 'DEFAULT_REDACTION', true),
    redactPatterns: jsonSetting(env, 'REDACT_PATTERNS', []),
    redactAttributes: jsonSetting(env, 'REDACT_ATTRIBUTES', []),
    convertConventions: boolSetting(env, 'CONVERT_CONVENTIONS', false),
  };
  return { mlflowUri: uri, auth, keys, allOrigins, anyOrigin, limits, core, queue };
}

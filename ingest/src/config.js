// The ingest service's configuration, read from Worker vars and secrets (or process.env under
// the Node adapter). Every setting, its default and meaning is in ingest/README.md; this is the
// one place that reads them. An invalid setting makes every request answer 500 `misconfigured`
// (and /healthz 503) with a one-line reason naming the variable, rather than relaying with a
// guessed setting; service.js logs it once when it reads the configuration.

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
  // OpenTelemetry's JS OTLP exporters honour Retry-After, but give up at once when it is longer
  // than what is left of their export timeout (10 s by default): 10 made them drop every batch a
  // 503 answered. 2 lets them retry through an outage of about 8 s (ingest/README.md).
  RETRY_AFTER_SECONDS: 2,
  OWNER_LOOKUP_TIMEOUT_MS: 3000,
  QUEUE_RETRY_DELAY_SECONDS: 0,
  RELAY_BATCH_BYTES: 4_194_304,
};

/** A Cloudflare Queue message holds at most 128 KB; payloads for the queue stay under this. */
export const QUEUE_PAYLOAD_BYTES = 100_000;

/** The least value of the settings that have one above 0 (the core refuses less). */
const INT_MINIMUMS = {
  MAX_SPANS_PER_REQUEST: 1,
  MAX_VALUES_PER_REQUEST: 1,
  MAX_ATTRIBUTE_BYTES: 64,
  MAX_ATTRIBUTE_DEPTH: 1,
  MAX_ATTRIBUTES_PER_SPAN: 1,
};

/** The fields a key's object in INGEST_KEYS may have. */
const KEY_FIELDS = ['origins', 'experimentId', 'ratePerMinute', 'revoked'];

/** The core's names of its settings (src/ingest's IngestConfig), and the variable of each. */
export const CORE_SETTINGS = {
  maxSpansPerRequest: 'MAX_SPANS_PER_REQUEST',
  maxValuesPerRequest: 'MAX_VALUES_PER_REQUEST',
  maxAttributeBytes: 'MAX_ATTRIBUTE_BYTES',
  maxAttributeDepth: 'MAX_ATTRIBUTE_DEPTH',
  maxAttributesPerSpan: 'MAX_ATTRIBUTES_PER_SPAN',
  maxFutureSeconds: 'MAX_FUTURE_SECONDS',
  defaultRedaction: 'DEFAULT_REDACTION',
  redactPatterns: 'REDACT_PATTERNS',
  redactAttributes: 'REDACT_ATTRIBUTES',
  convertConventions: 'CONVERT_CONVENTIONS',
};

/** An invalid setting; its message names the variable and the value it got, without a prefix. */
export class ConfigError extends Error {}

/** `url` with any user:password@ before its host shown as ***@. */
export const withoutUserinfo = (url) => url.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^/@\s]*@/i, '$1***@');

/**
 * The secrets among the settings (MLflow's token, user name and password, a URL's credentials):
 * what `scrub` keeps out of every answer and log line.
 */
export function secretsOf(env) {
  const out = [env.MLFLOW_TRACKING_TOKEN, env.MLFLOW_TRACKING_PASSWORD, env.MLFLOW_TRACKING_USERNAME].map((v) => String(v ?? '').trim());
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/@\s]*)@/i.exec(String(env.MLFLOW_TRACKING_URI ?? '').trim());
  if (m) out.push(m[1], ...m[1].split(':'));
  return [...new Set(out.filter((v) => v.length >= 3))].sort((a, b) => b.length - a.length);
}

/** `text` with every one of `secrets` replaced, and any URL's user:password@ masked. */
export function scrub(text, secrets) {
  let out = withoutUserinfo(String(text)).replace(/(\/\/)[^/@\s"']*@/g, '$1***@');
  for (const s of secrets) out = out.split(s).join('[REDACTED]');
  return out;
}

function intSetting(env, name) {
  const raw = env[name];
  if (raw === undefined || raw === null || raw === '') return INT_SETTINGS[name];
  const n = typeof raw === 'number' ? raw : Number(String(raw).trim());
  const min = INT_MINIMUMS[name] ?? 0;
  if (!Number.isInteger(n) || n < min) {
    const what = min === 0 ? 'a non-negative integer' : `an integer of at least ${min}`;
    throw new ConfigError(`${name} must be ${what}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

function canParse(url) {
  try {
    new URL(url);
    return true;
  } catch {
    return false;
  }
}

/** A JSON array of strings (REDACT_PATTERNS, REDACT_ATTRIBUTES). */
function stringsSetting(env, name, example) {
  const value = jsonSetting(env, name, []);
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw new ConfigError(`${name} must be a JSON array of strings such as ${example}, got ${JSON.stringify(env[name])}`);
  }
  return value;
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
  let uri = String(env.MLFLOW_TRACKING_URI || '').trim().replace(/\/+$/, '');
  if (!uri) throw new ConfigError('MLFLOW_TRACKING_URI is not set: it must be the http(s) URL of the MLflow server, such as https://mlflow.example.com');
  if (!/^https?:\/\/[^/\s]+/.test(uri) || !canParse(uri)) {
    throw new ConfigError(`MLFLOW_TRACKING_URI must be the http(s) URL of the MLflow server, such as https://mlflow.example.com, got ${JSON.stringify(withoutUserinfo(String(env.MLFLOW_TRACKING_URI)))}`);
  }
  for (const name of ['MLFLOW_TRACKING_TOKEN', 'MLFLOW_TRACKING_USERNAME', 'MLFLOW_TRACKING_PASSWORD']) {
    // Never echoed: it is a secret.
    if (/[\x00-\x1f\x7f]/.test(String(env[name] ?? ''))) throw new ConfigError(`${name} holds a line break or another control character, so it cannot be sent in a header`);
  }
  // Credentials in the URL (https://user:password@host) are taken as Basic auth, as MLflow's
  // Python client takes them, unless MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME is set;
  // either way they are not part of the URL requests go to (fetch refuses such a URL).
  const parsed = new URL(uri);
  let urlAuth = null;
  if (parsed.username || parsed.password) {
    urlAuth = `Basic ${btoa(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`)}`;
    parsed.username = '';
    parsed.password = '';
    uri = parsed.href.replace(/\/+$/, '');
  }
  let auth = urlAuth;
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
    if (!spec || typeof spec !== 'object' || Array.isArray(spec)) throw new ConfigError(`INGEST_KEYS["${key}"] must be an object`);
    // A misspelt field (`experimentID`, `origin`, `ratePerMinut`) would otherwise be ignored: the
    // key's traces going to the default experiment, its rate the default one.
    const unknownField = Object.keys(spec).find((f) => !KEY_FIELDS.includes(f));
    if (unknownField !== undefined) {
      throw new ConfigError(`INGEST_KEYS["${key}"] has an unknown field ${JSON.stringify(unknownField)}; the known fields are ${KEY_FIELDS.join(', ')}`);
    }
    if (spec.revoked !== undefined && typeof spec.revoked !== 'boolean') {
      throw new ConfigError(`INGEST_KEYS["${key}"].revoked must be true or false, got ${JSON.stringify(spec.revoked)}`);
    }
    if (spec.experimentId !== undefined && !((typeof spec.experimentId === 'string' && spec.experimentId.trim()) || Number.isInteger(spec.experimentId))) {
      throw new ConfigError(`INGEST_KEYS["${key}"].experimentId must be an experiment id such as "1", got ${JSON.stringify(spec.experimentId)}`);
    }
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
  // A revocation that names no key (a typo, another case) would leave the key it meant live.
  const stray = revokedList.filter((k) => !keys.has(k));
  if (stray.length) {
    throw new ConfigError(`REVOKED_KEYS names ${stray.map((k) => JSON.stringify(k)).join(', ')}, not a key of INGEST_KEYS (keys are case-sensitive)`);
  }
  const limits = {
    maxBodyBytes: intSetting(env, 'MAX_BODY_BYTES'),
    maxDecompressedBytes: intSetting(env, 'MAX_DECOMPRESSED_BYTES'),
    ratePerMinute: intSetting(env, 'RATE_LIMIT_PER_MINUTE'),
    relayAttempts: Math.max(1, intSetting(env, 'RELAY_ATTEMPTS')),
    relayTimeoutMs: intSetting(env, 'RELAY_TIMEOUT_MS'),
    retryAfterSeconds: intSetting(env, 'RETRY_AFTER_SECONDS'),
    ownerLookupTimeoutMs: intSetting(env, 'OWNER_LOOKUP_TIMEOUT_MS'),
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
    redactPatterns: stringsSetting(env, 'REDACT_PATTERNS', '["token=(?P<secret>\\\\w+)"]'),
    redactAttributes: stringsSetting(env, 'REDACT_ATTRIBUTES', '["app.user.email", "internal.*"]'),
    convertConventions: boolSetting(env, 'CONVERT_CONVENTIONS', false),
  };
  return { mlflowUri: uri, auth, secrets: secretsOf(env), keys, allOrigins, anyOrigin, limits, core, queue };
}

import { pino, type Logger, type LoggerOptions, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

/** Field paths whose values never reach a log line. */
export const redactPaths = [
  'apiKey',
  'api_key',
  'token',
  'password',
  'secret',
  'authorization',
  '*.apiKey',
  '*.api_key',
  '*.token',
  '*.password',
  '*.secret',
  '*.secretAccessKey',
  '*.authorization',
  '*.Authorization',
  'headers.authorization',
  'headers.Authorization',
  'req.headers.authorization',
  'config.*.password',
  'config.*.secretAccessKey',
  'config.*.apiKey',
];

// Secrets that hide inside strings: credentials in URLs, bearer tokens, sk- style keys.
const secretPatterns: [RegExp, string][] = [
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#\s]*:)([^@/\s]+)@/gi, '$1[REDACTED]@'],
  [/\b(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/g, '$1[REDACTED]'],
  [/\b(sk|rk|pk)-[A-Za-z0-9_-]{12,}/g, '[REDACTED]'],
];

/** Remove credentials embedded in a string (URLs with passwords, bearer tokens, API keys). */
export function redactString(s: string): string {
  let out = s;
  for (const [re, repl] of secretPatterns) out = out.replace(re, repl);
  return out;
}

export type LoggerFields = { service: string; runId?: string; jobId?: string; [k: string]: unknown };

/** One pino logger per process; child loggers add runId/jobId. */
export function createLogger(
  fields: LoggerFields,
  opts: { level?: string; destination?: DestinationStream } = {},
): Logger {
  const options: LoggerOptions = {
    level: opts.level ?? 'info',
    base: { ...fields, pid: process.pid },
    redact: { paths: redactPaths, censor: '[REDACTED]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    hooks: {
      // Strings (messages and interpolation args) are scrubbed for embedded credentials too.
      logMethod(args, method) {
        const scrubbed = args.map((a: unknown) => (typeof a === 'string' ? redactString(a) : a)) as Parameters<
          typeof method
        >;
        method.apply(this, scrubbed);
      },
    },
    serializers: {
      err: (err: unknown) => {
        // Anything may be thrown; only Errors go through pino's serializer.
        if (!(err instanceof Error)) return { type: typeof err, message: redactString(String(err)) };
        const s = pino.stdSerializers.err(err);
        const message = typeof s.message === 'string' ? redactString(s.message) : s.message;
        return { ...s, message, stack: typeof s.stack === 'string' ? redactString(s.stack) : s.stack };
      },
      url: (u: unknown) => (typeof u === 'string' ? redactString(u) : u),
    },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

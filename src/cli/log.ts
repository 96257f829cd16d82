// Logging for a short-lived job: one JSON object per line (or plain text for people), all on
// stdout so a pod's log keeps their order.
import winston from 'winston';
import { LOG_FORMATS, LOG_LEVELS } from '../config/config.ts';
import type { LogFormat, LogLevel } from '../config/config.ts';

const { combine, errors, json, printf, timestamp } = winston.format;

/**
 * C0 controls, DEL, C1 controls (NEL among them) and the Unicode line and paragraph separators: each
 * either ends a line for some reader of the log or (ESC, CR) lets a terminal redraw one, so a value
 * holding one could print a forged record. JSON.stringify escapes only the C0 ones.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const LINE_BREAKING = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const SHORT_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** One record, one line: control characters are shown as escapes, as JSON would write them. */
function escapeControlCharacters(text: string): string {
  return text.replace(LINE_BREAKING, (char) => SHORT_ESCAPES[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const textLine = printf((entry) => {
  const { level, message, timestamp: time, ...fields } = entry;
  const rest = Object.keys(fields).length === 0 ? '' : ` ${JSON.stringify(fields)}`;
  return escapeControlCharacters(`${String(time)} ${level.toUpperCase()} ${String(message)}${rest}`);
});

export function createLogger(level: LogLevel, format: LogFormat): winston.Logger {
  return winston.createLogger({
    level,
    format: combine(errors({ stack: true }), timestamp(), format === 'json' ? json() : textLine),
    defaultMeta: format === 'json' ? { app: 'kubernetes-image-puller' } : {},
    transports: [new winston.transports.Console()],
  });
}

/** Before the configuration is validated the logger still has to work: fall back to the defaults. */
export function earlyLogger(env: Record<string, string | undefined>): winston.Logger {
  return createLogger(oneOfOr(LOG_LEVELS, env.LOG_LEVEL, 'info'), oneOfOr(LOG_FORMATS, env.LOG_FORMAT, 'json'));
}

/** Trimmed as loadConfig trims, so " text" gives text logs here too: main never changes the format later. */
function oneOfOr<T extends string>(choices: readonly T[], raw: string | undefined, fallback: T): T {
  const text = raw?.trim() ?? '';
  return (choices as readonly string[]).includes(text) ? (text as T) : fallback;
}

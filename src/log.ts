// Logging for a short-lived job: one JSON object per line (or plain text for people), all on
// stdout so a pod's log keeps their order.
import winston from 'winston';
import { LOG_FORMATS, LOG_LEVELS } from './config.ts';
import type { LogFormat, LogLevel } from './config.ts';

const { combine, errors, json, printf, timestamp } = winston.format;

const textLine = printf((entry) => {
  const { level, message, timestamp: time, ...fields } = entry;
  const rest = Object.keys(fields).length === 0 ? '' : ` ${JSON.stringify(fields)}`;
  return `${String(time)} ${level.toUpperCase()} ${String(message)}${rest}`;
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
  const level = (LOG_LEVELS as readonly string[]).includes(env.LOG_LEVEL ?? '') ? (env.LOG_LEVEL as LogLevel) : 'info';
  const format = (LOG_FORMATS as readonly string[]).includes(env.LOG_FORMAT ?? '') ? (env.LOG_FORMAT as LogFormat) : 'json';
  return createLogger(level, format);
}

// Opt-in metrics of a pass, pushed to a Pushgateway (METRICS_PUSHGATEWAY_URL). main calls
// pushPassMetrics once, after the summary line, and logs what it returns as a warning.
export { IMAGE_STATES, METRICS, METRIC_PREFIX, renderExposition } from './exposition.ts';
export type { ImageCoverage, ImageState, PassMetrics, SetCoverage } from './exposition.ts';
export { PUSH_JOB, PUSH_TIMEOUT_MS, pushPassMetrics, pushUrl } from './push.ts';
export type { PushOptions } from './push.ts';
export { parsePushgatewayUrl } from '../config/pushgateway-url.ts';
export { metricsCoverage, passMetricsFrom, setsFromRollouts } from './from-pass.ts';
export type { PassFigures } from './from-pass.ts';
